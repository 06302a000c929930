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

/// A stale warm copy about to be streamed is revalidated (counted as a warm
/// revalidation): served while current, dropped for cold's stream once
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

/// Revalidation is one conditional GET for every reader, whole or streamed:
/// a stale large warm copy that changed in S3 is replaced by the body of that
/// same request, streamed. (The streamed path once sent a HEAD first, then a
/// second GET for the new version.)
#[tokio::test]
async fn a_stale_streamed_copy_is_revalidated_with_one_conditional_get() -> anyhow::Result<()> {
    use futures::TryStreamExt;
    use tiered::engine::Served;
    use tiered::store::DiskTier;
    use tiered::{ManualClock, SetOptions, StoreConfig, TierId, TieredStore};
    use tiered_s3::mock::MockClient;
    use tiered_s3::{S3Config, S3Tier};

    let bucket = Arc::new(MockClient::new());
    let config = S3Config { bucket: "mock".into(), ..S3Config::default() };
    let cold = Arc::new(S3Tier::with_client(config, bucket.clone()));
    let warm_dir = tempfile::tempdir()?;
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
    let requests = || (bucket.requests("get_object"), bucket.requests("head_object"));

    a.set("big", vec![1u8; 100_000], SetOptions::default()).await?;
    let second = vec![2u8; 100_000];
    b.set("big", second.clone(), SetOptions::default()).await?;
    clock.advance_ms(max_staleness_ms + 1);
    let before = requests();
    let Some(Served::Stream(hit)) = a.get_stream("big", 4096).await? else { panic!("a large object streams") };
    assert_eq!(hit.source, TierId::Cold, "changed in S3: the new version");
    assert_eq!(hit.body.try_collect::<Vec<_>>().await?.concat(), second);
    let after = requests();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 0), "one GetObject, no HeadObject");

    // A whole reader of a stale small copy pays the same single request.
    a.set("small", vec![3u8; 100], SetOptions::default()).await?;
    b.set("small", vec![4u8; 100], SetOptions::default()).await?;
    clock.advance_ms(max_staleness_ms + 1);
    let before = requests();
    assert_eq!(a.get("small").await?.as_deref(), Some(&[4u8; 100][..]));
    let after = requests();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 0), "one GetObject, no HeadObject");
    Ok(())
}
