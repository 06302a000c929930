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

/// A stale warm copy about to be streamed is revalidated (a HEAD, counted as
/// a warm revalidation): served while current, dropped for cold's stream once
/// another host changed the object.
#[tokio::test]
async fn a_stale_large_warm_copy_is_revalidated_before_it_is_streamed() -> anyhow::Result<()> {
    use futures::TryStreamExt;
    use tiered::engine::Served;
    use tiered::store::DiskTier;
    use tiered::{ManualClock, SetOptions, StoreConfig, TierId, TieredStore};

    let (cold_dir, warm_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let cold = Arc::new(LocalColdTier::open(cold_dir.path())?);
    let clock = ManualClock::new(1_700_000_000_000);
    let max_staleness_ms = crate::support::staleness::MAX_STALENESS_MS;
    let config = StoreConfig { max_staleness_ms: Some(max_staleness_ms), ..Default::default() };
    let a = TieredStore::builder()
        .warm(Arc::new(DiskTier::open_with_clock(warm_dir.path(), 16 << 20, Arc::new(clock.clone()))?))
        .cold(cold.clone())
        .config(config.clone())
        .policy(Arc::new(crate::support::Everywhere))
        .clock(Arc::new(clock.clone()))
        .build()?;
    let b = TieredStore::builder().cold(cold).config(config).clock(Arc::new(clock.clone())).build()?;
    let revalidations = |s: &TieredStore| s.stats().tier(TierId::Warm).map(|t| t.revalidations);

    let first = vec![1u8; 100_000];
    a.set("big", first.clone(), SetOptions::default()).await?;
    clock.advance_ms(max_staleness_ms + 1);
    let Some(Served::Stream(hit)) = a.get_stream("big", 4096).await? else { panic!("a large object streams") };
    assert_eq!(hit.source, TierId::Warm, "still current: served from warm");
    assert_eq!(hit.body.try_collect::<Vec<_>>().await?.concat(), first);
    assert_eq!(revalidations(&a), Some(1), "the stale copy was checked");

    let second = vec![2u8; 100_000];
    b.set("big", second.clone(), SetOptions::default()).await?;
    clock.advance_ms(max_staleness_ms + 1);
    let Some(Served::Stream(hit)) = a.get_stream("big", 4096).await? else { panic!("a large object streams") };
    assert_eq!(hit.source, TierId::Cold, "changed through the other host: cold's version");
    assert_eq!(hit.body.try_collect::<Vec<_>>().await?.concat(), second);
    assert_eq!(revalidations(&a), Some(2));
    Ok(())
}
