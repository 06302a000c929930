//! The tier contract suite, run against every tier implementation here: the
//! S3 tier on an in-memory bucket, so its logic meets the contract in every
//! `cargo test` (and against a real server in `s3_live.rs`).

use std::sync::Arc;

use tiered::TierErrorKind;
use tiered::store::format::MAX_META_LEN;
use tiered::store::{CacheTier, DiskTier, LocalColdTier, MemoryTier, Tier, TierDouble};

use crate::support::contract::Role;

#[tokio::test]
async fn memory_tier_meets_the_contract() -> anyhow::Result<()> {
    crate::support::contract::run(Role::Cache(Arc::new(MemoryTier::new(1 << 20)))).await
}

#[tokio::test]
async fn disk_tier_meets_the_contract() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    crate::support::contract::run(Role::Cache(Arc::new(DiskTier::open(dir.path(), 1 << 20)?))).await?;
    assert_file_names_are_hashes(dir.path());
    Ok(())
}

#[tokio::test]
async fn local_cold_tier_meets_the_contract() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    crate::support::contract::run(Role::Source(Arc::new(LocalColdTier::open(dir.path())?))).await?;
    assert_file_names_are_hashes(dir.path());
    Ok(())
}

#[tokio::test]
async fn s3_tier_on_an_in_memory_bucket_meets_the_contract() -> anyhow::Result<()> {
    let config = tiered_s3::S3Config { bucket: "mock".into(), prefix: "contract/".into(), ..Default::default() };
    let client = Arc::new(tiered_s3::mock::MockClient::new());
    crate::support::contract::run(Role::Source(Arc::new(tiered_s3::S3Tier::with_client(config, client)))).await
}

#[tokio::test]
async fn test_double_meets_the_contract_as_a_cache_and_as_a_source() -> anyhow::Result<()> {
    crate::support::contract::run(Role::Cache(Arc::new(TierDouble::new()))).await?;
    let dir = tempfile::tempdir()?;
    let over_local = TierDouble::wrapping(Arc::new(LocalColdTier::open(dir.path())?));
    crate::support::contract::run(Role::Source(Arc::new(over_local))).await
}

/// Found by the `file_roundtrip` fuzz target: metadata larger than the file
/// format holds was written and acknowledged, then every read found the file
/// corrupt. Both file tiers now refuse the write and leave nothing behind.
#[tokio::test]
async fn file_tiers_refuse_metadata_they_could_not_read_back() -> anyhow::Result<()> {
    let mut object = crate::support::object("big-meta", b"v", 1);
    std::sync::Arc::make_mut(&mut object.meta).metadata.insert("bulk".into(), "x".repeat(MAX_META_LEN));
    let (disk_dir, cold_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let disk = Arc::new(DiskTier::open(disk_dir.path(), 4 << 20)?);
    let tiers: [Arc<dyn Tier>; 2] = [disk.clone(), Arc::new(LocalColdTier::open(cold_dir.path())?)];
    for tier in tiers {
        let err = tier.put(object.clone()).await.expect_err("metadata over MAX_META_LEN is refused");
        assert_eq!(err.kind(), TierErrorKind::Rejected, "{err}");
        assert!(tier.get("big-meta").await?.is_none());
    }
    assert_eq!(disk.usage().bytes, 0, "nothing counted");
    for dir in [&disk_dir, &cold_dir] {
        assert_eq!(crate::support::files_under(dir.path()), Vec::<std::path::PathBuf>::new(), "no file left");
    }
    Ok(())
}

/// No key ever names a file: everything under the directory is a 64-hex name
/// (or the emptied tmp/ dir), and nothing escaped it.
fn assert_file_names_are_hashes(dir: &std::path::Path) {
    for path in crate::support::files_under(dir) {
        assert!(path.starts_with(dir), "{path:?} escaped the tier directory");
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()), "unexpected file {path:?}");
    }
}
