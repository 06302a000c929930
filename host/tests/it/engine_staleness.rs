//! Staleness across hosts, engine level: two stores (two hosts' engines) over
//! one cold tier. A local cold directory belongs to one process, so both
//! stores share one handle here; `s3_live.rs` runs the same scenario with two
//! independent S3 clients over one bucket.

use std::sync::Arc;

use tiered::store::LocalColdTier;

#[tokio::test]
async fn a_write_through_one_host_reaches_another_within_max_staleness() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cold = Arc::new(LocalColdTier::open(dir.path())?);
    crate::support::staleness::two_hosts(cold.clone(), cold).await
}
