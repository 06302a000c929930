//! Staleness across hosts, engine level: two stores (two hosts' engines) over
//! one cold tier. A local cold directory belongs to one process, so both
//! stores share one handle here; `s3_live.rs` runs the same scenario with two
//! independent S3 clients over one bucket.

use std::sync::Arc;

use futures::TryStreamExt;
use tiered::engine::Served;
use tiered::store::{DiskTier, LocalColdTier, SourceTier};
use tiered::{ManualClock, SetOptions, StoreConfig, TierId, TieredStore};

use crate::support::staleness::MAX_STALENESS_MS;

#[tokio::test]
async fn a_write_through_one_host_reaches_another_within_max_staleness() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cold = Arc::new(LocalColdTier::open(dir.path())?);
    crate::support::staleness::two_hosts(cold.clone(), cold).await
}

/// Two hosts over one cold tier: `a` with a warm disk tier that keeps every
/// copy, `b` without caches; revalidation after `MAX_STALENESS_MS`.
struct TwoHosts {
    a: TieredStore,
    b: TieredStore,
    clock: ManualClock,
    _warm_dir: tempfile::TempDir,
}

impl TwoHosts {
    fn over(cold: Arc<dyn SourceTier>) -> anyhow::Result<TwoHosts> {
        let warm_dir = tempfile::tempdir()?;
        let clock = ManualClock::new(1_700_000_000_000);
        let config = StoreConfig { max_staleness_ms: Some(MAX_STALENESS_MS), ..Default::default() };
        let a = TieredStore::builder()
            .warm(Arc::new(DiskTier::open_with_clock(warm_dir.path(), 16 << 20, Arc::new(clock.clone()))?))
            .cold(cold.clone())
            .config(config.clone())
            .policy(Arc::new(crate::support::Everywhere))
            .clock(Arc::new(clock.clone()))
            .build()?;
        let b = TieredStore::builder().cold(cold).config(config).clock(Arc::new(clock.clone())).build()?;
        Ok(TwoHosts { a, b, clock, _warm_dir: warm_dir })
    }

    /// Let every cached copy go stale.
    fn wait_past_max_staleness(&self) {
        self.clock.advance_ms(MAX_STALENESS_MS + 1);
    }
}

/// `key` read by `a` as a stream (it is larger than the 4 KiB buffer): the
/// tier that served it and its bytes.
async fn streamed(hosts: &TwoHosts, key: &str) -> anyhow::Result<(TierId, Vec<u8>)> {
    let Some(Served::Stream(hit)) = hosts.a.get_stream(key, 4096).await? else { panic!("a large object streams") };
    Ok((hit.source, hit.body.try_collect::<Vec<_>>().await?.concat()))
}

/// A stale warm copy about to be streamed is revalidated (counted as a warm
/// revalidation): served while current, dropped for cold's stream once
/// another host changed the object.
#[tokio::test]
async fn a_stale_large_warm_copy_is_revalidated_before_it_is_streamed() -> anyhow::Result<()> {
    let cold_dir = tempfile::tempdir()?;
    let hosts = TwoHosts::over(Arc::new(LocalColdTier::open(cold_dir.path())?))?;
    let revalidations = |s: &TieredStore| s.stats().tier(TierId::Warm).map(|t| t.revalidations);

    let first = vec![1u8; 100_000];
    hosts.a.set("big", first.clone(), SetOptions::default()).await?;
    hosts.wait_past_max_staleness();
    assert_eq!(streamed(&hosts, "big").await?, (TierId::Warm, first), "still current: served from warm");
    assert_eq!(revalidations(&hosts.a), Some(1), "the stale copy was checked");

    let second = vec![2u8; 100_000];
    hosts.b.set("big", second.clone(), SetOptions::default()).await?;
    hosts.wait_past_max_staleness();
    assert_eq!(streamed(&hosts, "big").await?, (TierId::Cold, second), "changed through the other host");
    assert_eq!(revalidations(&hosts.a), Some(2));
    Ok(())
}

/// Revalidation is one conditional GET for every reader, whole or streamed:
/// a stale large warm copy that changed in S3 is replaced by the body of that
/// same request, streamed. (The streamed path once sent a HEAD first, then a
/// second GET for the new version.)
#[tokio::test]
async fn a_stale_streamed_copy_is_revalidated_with_one_conditional_get() -> anyhow::Result<()> {
    use tiered_s3::mock::MockClient;
    use tiered_s3::{S3Config, S3Tier};

    let bucket = Arc::new(MockClient::new());
    let config = S3Config { bucket: "mock".into(), ..S3Config::default() };
    let hosts = TwoHosts::over(Arc::new(S3Tier::with_client(config, bucket.clone())))?;
    let requests = || (bucket.requests("get_object"), bucket.requests("head_object"));

    hosts.a.set("big", vec![1u8; 100_000], SetOptions::default()).await?;
    let second = vec![2u8; 100_000];
    hosts.b.set("big", second.clone(), SetOptions::default()).await?;
    hosts.wait_past_max_staleness();
    let before = requests();
    assert_eq!(streamed(&hosts, "big").await?, (TierId::Cold, second), "changed in S3: the new version");
    let after = requests();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 0), "one GetObject, no HeadObject");

    // A whole reader of a stale small copy pays the same single request.
    hosts.a.set("small", vec![3u8; 100], SetOptions::default()).await?;
    hosts.b.set("small", vec![4u8; 100], SetOptions::default()).await?;
    hosts.wait_past_max_staleness();
    let before = requests();
    assert_eq!(hosts.a.get("small").await?.as_deref(), Some(&[4u8; 100][..]));
    let after = requests();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 0), "one GetObject, no HeadObject");
    Ok(())
}
