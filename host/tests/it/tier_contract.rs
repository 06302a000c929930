//! The tier contract suite, run against every tier implementation here: the
//! S3 tier on an in-memory bucket, so its logic meets the contract in every
//! `cargo test` (and against a real server in `s3_live.rs`).

use std::sync::Arc;

use tiered::TierErrorKind;
use tiered::store::format::MAX_META_LEN;
use tiered::store::{DiskTier, LocalColdTier, MemoryTier, Tier, TierDouble};

#[tokio::test]
async fn memory_tier_meets_the_contract() -> anyhow::Result<()> {
    crate::support::contract::run(Arc::new(MemoryTier::new(1 << 20))).await
}

#[tokio::test]
async fn disk_tier_meets_the_contract() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    crate::support::contract::run(Arc::new(DiskTier::open(dir.path(), 1 << 20)?)).await?;
    assert_file_names_are_hashes(dir.path());
    Ok(())
}

#[tokio::test]
async fn local_cold_tier_meets_the_contract() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    crate::support::contract::run(Arc::new(LocalColdTier::open(dir.path())?)).await?;
    assert_file_names_are_hashes(dir.path());
    Ok(())
}

#[tokio::test]
async fn s3_tier_on_an_in_memory_bucket_meets_the_contract() -> anyhow::Result<()> {
    let config = tiered_s3::S3Config { bucket: "mock".into(), prefix: "contract/".into(), ..Default::default() };
    let client = Arc::new(tiered_s3::mock::MockClient::new());
    crate::support::contract::run(Arc::new(tiered_s3::S3Tier::with_client(config, client))).await
}

#[tokio::test]
async fn test_double_meets_the_contract() -> anyhow::Result<()> {
    crate::support::contract::run(Arc::new(TierDouble::new())).await
}

/// Found by the `file_roundtrip` fuzz target: metadata larger than the file
/// format holds was written and acknowledged, then every read found the file
/// corrupt. Both file tiers now refuse the write and leave nothing behind.
#[tokio::test]
async fn file_tiers_refuse_metadata_they_could_not_read_back() -> anyhow::Result<()> {
    let mut object = crate::support::object("big-meta", b"v", 1);
    std::sync::Arc::make_mut(&mut object.meta).metadata.insert("bulk".into(), "x".repeat(MAX_META_LEN));
    let (disk_dir, cold_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let tiers: [Arc<dyn Tier>; 2] =
        [Arc::new(DiskTier::open(disk_dir.path(), 4 << 20)?), Arc::new(LocalColdTier::open(cold_dir.path())?)];
    for tier in tiers {
        let err = tier.put(object.clone()).await.expect_err("metadata over MAX_META_LEN is refused");
        assert_eq!(err.kind(), TierErrorKind::Rejected, "{err}");
        assert!(tier.get("big-meta").await?.is_none());
        assert_eq!(tier.usage().bytes, 0);
    }
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
