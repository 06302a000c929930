//! The tier contract suite, run against every tier implementation here.
//! (The S3 tier runs it in `s3_live.rs`.)

mod support;

use std::sync::Arc;

use tiered::store::{DiskTier, LocalColdTier, MemoryTier, TierDouble};

#[tokio::test]
async fn memory_tier_meets_the_contract() -> anyhow::Result<()> {
    support::contract::run(Arc::new(MemoryTier::new(1 << 20))).await
}

#[tokio::test]
async fn disk_tier_meets_the_contract() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    support::contract::run(Arc::new(DiskTier::open(dir.path(), 1 << 20)?)).await?;
    assert_file_names_are_hashes(dir.path());
    Ok(())
}

#[tokio::test]
async fn local_cold_tier_meets_the_contract() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    support::contract::run(Arc::new(LocalColdTier::open(dir.path())?)).await?;
    assert_file_names_are_hashes(dir.path());
    Ok(())
}

#[tokio::test]
async fn test_double_meets_the_contract() -> anyhow::Result<()> {
    support::contract::run(Arc::new(TierDouble::new())).await
}

/// No key ever names a file: everything under the directory is a 64-hex name
/// (or the emptied tmp/ dir), and nothing escaped it.
fn assert_file_names_are_hashes(dir: &std::path::Path) {
    for path in support::files_under(dir) {
        assert!(path.starts_with(dir), "{path:?} escaped the tier directory");
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()), "unexpected file {path:?}");
    }
}
