//! What the file tiers promise beyond the tier contract (which runs, one
//! trial per rule and tier, in `tiered/tests/contract.rs` and in
//! `tiered-s3`'s harness, live server included).

use std::sync::Arc;

use tiered::TierErrorKind;
use tiered::store::format::MAX_META_LEN;
use tiered::store::{CacheTier, DiskTier, LocalColdTier, Tier};

/// Path-like keys never name a file: after the contract's path-like keys,
/// everything under either file tier's directory is a 64-hex name (or the
/// emptied tmp/ dir), and nothing escaped it. (The contract itself runs in
/// `tiered`'s and `tiered-s3`'s harnesses, one trial per rule.)
#[tokio::test]
async fn file_tiers_name_files_by_hash_never_by_key() -> anyhow::Result<()> {
    let (disk_dir, cold_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let tiers: [Arc<dyn Tier>; 2] =
        [Arc::new(DiskTier::open(disk_dir.path(), 1 << 20)?), Arc::new(LocalColdTier::open(cold_dir.path())?)];
    for tier in tiers {
        for key in ["../../etc/passwd", "/abs", "a/../../b", "docs/b"] {
            tier.put(crate::support::object(key, key.as_bytes(), 3_000)).await?;
        }
    }
    for dir in [&disk_dir, &cold_dir] {
        assert_file_names_are_hashes(dir.path());
        assert_eq!(crate::support::files_under(dir.path()).len(), 4, "one file per object");
    }
    Ok(())
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
