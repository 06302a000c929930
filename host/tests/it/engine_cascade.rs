//! The cascade's promises, one test each: write order, promotion, expiry,
//! single-flight, self-heal, ordering against racing writes, failing tiers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::support::rig::{holds, rig};
use tiered::policy::{
    Admission, Arrival, BuiltinPolicy, Capacities, Events, ObjectId, Placement, Policy, PolicyIdentity, ReadInfo,
    WriteInfo,
};
use tiered::store::{DiskTier, Fault, MemoryTier, Tier, TierDouble};
use tiered::{Error, ManualClock, SetOptions, TierId, TierSet, TieredStore};

#[tokio::test]
async fn a_write_is_acknowledged_only_after_cold_has_it() -> anyhow::Result<()> {
    let r = rig();
    r.store.set("k", "v1", SetOptions::default()).await?;
    r.cold.set_fault(Fault::FailWrites);
    let err = r.store.set("k", "v2", SetOptions::default()).await.unwrap_err();
    assert!(matches!(err, Error::ColdUnavailable(_)), "{err}");
    // The caches were invalidated before cold was tried: nobody holds v2, and
    // reads see the old value, the one cold still has.
    r.cold.set_fault(Fault::None);
    assert!(!holds(r.hot.as_ref(), "k").await && !holds(r.warm.as_ref(), "k").await);
    assert_eq!(r.store.get("k").await?.as_deref(), Some(&b"v1"[..]));
    Ok(())
}

#[tokio::test]
async fn reads_bubble_up_and_promotion_is_the_policys_call() -> anyhow::Result<()> {
    let r = rig();
    let skip_caches = SetOptions { skip: TierSet::ALL, ..Default::default() };
    let out = r.store.set("k", "value", skip_caches).await?;
    assert_eq!(out.tiers, vec![TierId::Cold]);
    assert!(!holds(r.hot.as_ref(), "k").await && !holds(r.warm.as_ref(), "k").await);
    let mut sources = Vec::new();
    for _ in 0..4 {
        let hit = r.store.get_with_metadata("k").await?.expect("present");
        assert_eq!(&hit.data[..], b"value");
        sources.push(hit.source);
    }
    assert_eq!(sources[0], TierId::Cold);
    assert_eq!(sources[3], TierId::Hot, "the default policy promotes a re-read object to hot: {sources:?}");
    assert_eq!(r.cold.gets(), 1, "cold was read once");
    Ok(())
}

#[tokio::test]
async fn expired_objects_are_misses_and_are_removed() -> anyhow::Result<()> {
    let r = rig();
    let opts = SetOptions { ttl: Some(Duration::from_secs(10)), ..Default::default() };
    r.store.set("k", "v", opts).await?;
    assert!(r.store.get("k").await?.is_some());
    r.clock.advance_ms(10_001);
    assert_eq!(r.store.get("k").await?, None);
    assert!(!r.store.exists("k").await?);
    // Hot dropped it on sight; the cold read removed it from warm and cold.
    for tier in [r.hot.as_ref() as &dyn Tier, r.warm.as_ref(), r.cold.as_ref()] {
        assert!(tier.head("k").await?.is_none(), "{} still holds the expired object", tier.name());
    }
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn concurrent_misses_share_one_cold_read() -> anyhow::Result<()> {
    let r = rig();
    r.store.set("k", "v", SetOptions { skip: TierSet::ALL, ..Default::default() }).await?;
    r.cold.set_read_delay(Some(Duration::from_millis(50)));
    let gets: Vec<_> = (0..100)
        .map(|_| {
            tokio::spawn({
                let s = r.store.clone();
                async move { s.get("k").await }
            })
        })
        .collect();
    for g in gets {
        assert_eq!(g.await??.as_deref(), Some(&b"v"[..]));
    }
    assert_eq!(r.cold.gets(), 1, "100 concurrent misses, one cold read");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_read_racing_a_write_never_caches_the_older_value() -> anyhow::Result<()> {
    let r = rig();
    r.store.set("k", "old", SetOptions { skip: TierSet::ALL, ..Default::default() }).await?;
    r.cold.set_read_delay(Some(Duration::from_secs(5)));
    // The read starts, and is inside its slow cold read ...
    let read = tokio::spawn({
        let s = r.store.clone();
        async move { s.get("k").await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    // ... when a write of the new value completes.
    r.store.set("k", "new", SetOptions { skip: TierSet::ALL, ..Default::default() }).await?;
    r.cold.set_read_delay(None);
    let raced = read.await??;
    assert!(raced.is_some(), "the racing read returns a value");
    // Whatever it returned, it must not have copied the old value upward.
    for tier in [r.hot.as_ref() as &dyn Tier, r.warm.as_ref()] {
        if let Some(o) = tier.get("k").await? {
            assert_eq!(&o.data[..], b"new", "{} holds a stale copy", tier.name());
        }
    }
    for _ in 0..3 {
        assert_eq!(r.store.get("k").await?.as_deref(), Some(&b"new"[..]));
    }
    Ok(())
}

/// A change to cold that lands and then fails (an answer lost: a timeout
/// after the server stored the object) or is abandoned half-way (its future
/// dropped: a client that hung up) is treated as done for ordering: a read
/// that found the old value while it ran never copies it into a cache, so no
/// cache holds a value cold no longer has. For a write and a delete (a
/// prefix invalidation bumps the store-wide epoch before its cold delete
/// too, so such a read is refused there whatever happens after).
#[tokio::test(start_paused = true)]
async fn a_change_that_fails_or_is_dropped_after_landing_leaves_no_stale_copy() -> anyhow::Result<()> {
    for change in ["set", "delete"] {
        for fault in [Fault::WritesLandThenFail, Fault::WritesLandThenHang] {
            let r = rig();
            r.store.set("k", "old", SetOptions { skip: TierSet::ALL, ..Default::default() }).await?;
            // A read finds the old value at once; its answer comes 5 s later.
            r.cold.set_late_answer(Some(Duration::from_secs(5)));
            let read = tokio::spawn({
                let s = r.store.clone();
                async move { s.get_with_metadata("k").await }
            });
            tokio::time::sleep(Duration::from_secs(1)).await;
            r.cold.set_late_answer(None);
            // The change lands in cold, then fails or hangs.
            r.cold.set_fault(fault);
            let store = r.store.clone();
            let changed = tokio::spawn(async move {
                match change {
                    "set" => store.set("k", "new", SetOptions::default()).await.map(drop),
                    _ => store.delete("k").await.map(drop),
                }
            });
            tokio::time::sleep(Duration::from_secs(1)).await;
            if fault == Fault::WritesLandThenHang {
                assert!(!changed.is_finished(), "{change}: waits for the lost answer");
                changed.abort();
                assert!(changed.await.is_err_and(|e| e.is_cancelled()), "{change}: dropped half-way");
            } else {
                assert!(changed.await?.is_err(), "{change}: the answer was lost");
            }
            r.cold.set_fault(Fault::None);
            let expected = (change == "set").then_some(&b"new"[..]);
            assert_eq!(r.cold.get("k").await?.map(|o| o.data).as_deref(), expected, "{change}: landed");

            let raced = read.await??.expect("the read began before the change");
            assert_eq!((&raced.data[..], raced.source), (&b"old"[..], TierId::Cold), "{change} ({fault:?})");
            for tier in [r.hot.as_ref() as &dyn Tier, r.warm.as_ref()] {
                let held = tier.get("k").await?.map(|o| o.data);
                assert!(
                    held.is_none() || held.as_deref() == expected,
                    "{change} ({fault:?}): {} holds {held:?}",
                    tier.name()
                );
            }
            for _ in 0..3 {
                assert_eq!(r.store.get("k").await?.as_deref(), expected, "{change} ({fault:?})");
            }
        }
    }
    Ok(())
}

/// An eviction round whose caller leaves while a victim is being demoted
/// (warm never answers the copy's put) still deletes its victims from
/// hot: they have left the engine's table, and left in the tier they would
/// hold its bytes out of every order's sight.
#[tokio::test(start_paused = true)]
async fn a_dropped_eviction_round_still_deletes_its_victims() -> anyhow::Result<()> {
    use tiered::store::CacheTier;
    let hot = Arc::new(MemoryTier::new(1 << 20));
    let warm = Arc::new(TierDouble::wrapping(Arc::new(MemoryTier::new(8 << 20))));
    let store = TieredStore::builder()
        .hot(hot.clone())
        .warm(warm.clone())
        .cold(Arc::new(TierDouble::new()))
        .policy(Arc::new(crate::support::Everywhere))
        .build()?;
    let hot_only = SetOptions { skip: TierSet { hot: false, warm: true }, ..Default::default() };
    for i in 0..9 {
        store.set(&format!("k{i}"), vec![1u8; 100 << 10], hot_only.clone()).await?;
    }
    assert_eq!(hot.usage().objects, 9, "1 MiB holds nine objects of 100 KiB");
    warm.set_fault(Fault::PutsHang);
    let writer = store.clone();
    let big = tokio::spawn(async move { writer.set("big", vec![2u8; 500 << 10], hot_only).await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!big.is_finished(), "the round waits for the first victim's demotion");
    big.abort();
    assert!(big.await.is_err_and(|e| e.is_cancelled()));
    warm.set_fault(Fault::None);
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
    let evicted = store.stats().tier(TierId::Hot).map_or(0, |t| t.evictions);
    let held = hot.usage().objects;
    assert!(evicted >= 4, "making room for 500 KiB took four victims or more: {evicted} evicted");
    assert_eq!(held + evicted, 9, "every victim left hot: {held} held, {evicted} evicted");
    Ok(())
}

#[tokio::test]
async fn a_corrupt_cached_copy_is_dropped_and_refetched() -> anyhow::Result<()> {
    let r = rig();
    r.store
        .set("k", "good bytes", SetOptions { skip: TierSet { hot: true, warm: false }, ..Default::default() })
        .await?;
    r.warm.set_fault(Fault::CorruptReads);
    assert_eq!(r.store.get("k").await?.as_deref(), Some(&b"good bytes"[..]));
    r.warm.set_fault(Fault::None);
    let warm = r.store.stats().tier(TierId::Warm).cloned().expect("warm");
    assert_eq!(warm.corrupt, 1);
    assert_eq!(r.cold.gets(), 1, "served from cold after the warm copy failed verification");
    Ok(())
}

#[tokio::test]
async fn a_corrupt_cold_object_is_an_error_never_served() -> anyhow::Result<()> {
    let r = rig();
    r.store.set("k", "v", SetOptions { skip: TierSet::ALL, ..Default::default() }).await?;
    r.cold.set_fault(Fault::CorruptReads);
    let err = r.store.get("k").await.unwrap_err();
    assert!(matches!(err, Error::Corrupt { tier: TierId::Cold, .. }), "{err}");
    assert_eq!(r.store.stats().tier(TierId::Cold).map(|t| t.corrupt), Some(1));
    Ok(())
}

#[tokio::test]
async fn a_failing_warm_tier_is_a_miss_and_a_failing_cold_spares_cached_reads() -> anyhow::Result<()> {
    let r = rig();
    r.store.set("cached", "in hot", SetOptions::default()).await?;
    r.store.set("cold-only", "in cold", SetOptions { skip: TierSet::ALL, ..Default::default() }).await?;
    r.warm.set_fault(Fault::FailAll);
    assert_eq!(r.store.get("cold-only").await?.as_deref(), Some(&b"in cold"[..]));
    assert!(r.store.stats().tier(TierId::Warm).expect("warm").errors >= 1);
    r.cold.set_fault(Fault::FailAll);
    assert_eq!(r.store.get("cached").await?.as_deref(), Some(&b"in hot"[..]));
    r.hot.delete("cold-only").await?;
    assert!(matches!(r.store.get("cold-only").await, Err(Error::ColdUnavailable(_))));
    // Recovery needs nothing but the tier coming back.
    r.cold.set_fault(Fault::None);
    r.warm.set_fault(Fault::None);
    assert_eq!(r.store.get("cold-only").await?.as_deref(), Some(&b"in cold"[..]));
    Ok(())
}

/// A policy that keeps an eviction order (the default's), counting every
/// call into it.
#[derive(Debug)]
struct Counting {
    calls: AtomicU64,
    /// The thread of each `observe` call that carried hits, and how many.
    hits_observed: std::sync::Mutex<Vec<(Option<String>, usize)>>,
    /// Panic on the next `observe` that carries hits.
    panic_on_hits: std::sync::atomic::AtomicBool,
    inner: BuiltinPolicy,
}

impl Counting {
    fn new() -> Counting {
        let capacities = Capacities { hot_bytes: 1 << 20, warm_bytes: 1 << 20 };
        Counting {
            calls: AtomicU64::new(0),
            hits_observed: Default::default(),
            panic_on_hits: Default::default(),
            inner: BuiltinPolicy::new(&[], capacities).expect("defaults"),
        }
    }

    /// Hit events observed so far, and the threads that delivered them.
    fn observed_hits(&self) -> (usize, Vec<Option<String>>) {
        let calls = self.hits_observed.lock().unwrap();
        let mut threads: Vec<_> = calls.iter().map(|(t, _)| t.clone()).collect();
        threads.dedup();
        (calls.iter().map(|(_, n)| n).sum(), threads)
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

impl Policy for Counting {
    fn identity(&self) -> PolicyIdentity {
        self.inner.identity()
    }
    fn place(&self, w: &WriteInfo<'_>) -> Placement {
        self.count();
        Placement { tiers: TierSet::ALL, ttl_ms: w.requested_ttl_ms, class: 0 }
    }
    fn promote(&self, r: &ReadInfo<'_>) -> TierSet {
        self.count();
        self.inner.promote(r)
    }
    fn keeps_order(&self) -> bool {
        true
    }
    fn observe(&self, events: &Events) {
        self.count();
        let hits = events.kind.iter().filter(|&&k| k == tiered::policy::order::HIT).count();
        if hits > 0 && self.panic_on_hits.swap(false, Ordering::SeqCst) {
            panic!("a policy that panics on hit events");
        }
        if hits > 0 {
            let thread = std::thread::current().name().map(str::to_owned);
            self.hits_observed.lock().unwrap().push((thread, hits));
        }
        self.inner.observe(events)
    }
    fn admit(&self, events: &Events, arrival: Arrival, need_bytes: u64) -> Admission {
        self.count();
        self.inner.admit(events, arrival, need_bytes)
    }
    fn evict(&self, events: &Events, need_bytes: u64) -> Vec<ObjectId> {
        self.count();
        self.inner.evict(events, need_bytes)
    }
}

#[tokio::test]
async fn a_hot_hit_never_consults_the_policy() -> anyhow::Result<()> {
    let r = rig();
    let policy = Arc::new(Counting::new());
    r.store.set_policy(policy.clone());
    r.store.set("k", "v", SetOptions::default()).await?;
    let before = policy.calls.load(Ordering::SeqCst);
    for _ in 0..100 {
        assert_eq!(r.store.get_with_metadata("k").await?.map(|h| h.source), Some(TierId::Hot));
    }
    assert_eq!(policy.calls.load(Ordering::SeqCst), before, "no call of any kind, order calls included");
    // The hits reach the order as events with the next decision about hot.
    r.store.set("k2", "v", SetOptions::default()).await?;
    assert!(policy.calls.load(Ordering::SeqCst) > before);
    Ok(())
}

/// A store whose hot tier holds `keys` objects, read `reads` times in turn
/// under a [`Counting`] policy, delivered as `delivery` says.
async fn read_often(
    dir: &std::path::Path,
    delivery: tiered::HitDelivery,
    keys: usize,
    reads: usize,
) -> anyhow::Result<(Arc<Counting>, TieredStore)> {
    read_often_by(dir, Arc::new(Counting::new()), delivery, keys, reads).await
}

async fn read_often_by(
    dir: &std::path::Path,
    policy: Arc<Counting>,
    delivery: tiered::HitDelivery,
    keys: usize,
    reads: usize,
) -> anyhow::Result<(Arc<Counting>, TieredStore)> {
    let store = TieredStore::builder()
        .config(tiered::StoreConfig { hit_delivery: delivery, ..Default::default() })
        .hot_bytes(1 << 20)
        .cold(Arc::new(tiered::store::LocalColdTier::open(dir)?))
        .policy(policy.clone())
        .build()?;
    for i in 0..keys {
        store.set(&format!("k{i}"), "v", SetOptions::default()).await?;
    }
    for i in 0..reads {
        assert_eq!(store.get(&format!("k{}", i % keys)).await?.as_deref(), Some(&b"v"[..]));
    }
    Ok((policy, store))
}

#[tokio::test]
async fn full_hit_buffers_reach_the_policy_from_the_stores_thread_not_the_read() -> anyhow::Result<()> {
    // 20,000 hits fill the hot tier's 16 stripes of 256 several times over;
    // no write follows, so no deciding call takes them along.
    let dir = tempfile::tempdir()?;
    let (policy, store) =
        read_often(&dir.path().join("background"), tiered::HitDelivery::Background, 64, 20_000).await?;
    // A thread starved of the cores may let stripes overflow (counted):
    // delivered and dropped together account for most of the reads.
    let dropped = || store.stats().tier(TierId::Hot).map_or(0, |t| t.hits_dropped as usize);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while policy.observed_hits().0 + dropped() < 4_096 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (hits, threads) = policy.observed_hits();
    assert!(hits > 0 && hits + dropped() >= 4_096, "delivered without a write: {hits} observed, {} dropped", dropped());
    assert_eq!(threads, vec![Some("tiered-hits".to_owned())], "no read delivered them");

    // Inline (replays), the read that fills a stripe delivers, at once.
    let (policy, store) = read_often(&dir.path().join("inline"), tiered::HitDelivery::Inline, 64, 20_000).await?;
    let (hits, threads) = policy.observed_hits();
    assert!(hits >= 4_096, "{hits} hits observed");
    assert_eq!(threads, vec![std::thread::current().name().map(str::to_owned)], "the reading thread delivered");
    // One thread delivering as it reads loses none: the hot shards' read
    // buffers gathered for a delivery go to the order, not to the stripes
    // it is about to empty (where a near-full one dropped them).
    let hot = store.stats().tier(TierId::Hot).cloned().expect("a hot tier");
    assert_eq!(hot.hits_dropped, 0, "{hot:?}");
    Ok(())
}

#[tokio::test]
async fn a_policy_that_panics_on_the_delivery_thread_leaves_reads_delivering() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let policy = Arc::new(Counting::new());
    policy.panic_on_hits.store(true, Ordering::SeqCst);
    let (policy, store) = read_often_by(dir.path(), policy, tiered::HitDelivery::Background, 64, 20_000).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while policy.panic_on_hits.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!policy.panic_on_hits.load(Ordering::SeqCst), "the delivery thread called the policy");
    // The thread is gone: reads that fill a stripe deliver again, here.
    let me = std::thread::current().name().map(str::to_owned);
    while !policy.observed_hits().1.contains(&me) && std::time::Instant::now() < deadline {
        for i in 0..1_000 {
            assert_eq!(store.get(&format!("k{}", i % 64)).await?.as_deref(), Some(&b"v"[..]));
        }
    }
    let (hits, threads) = policy.observed_hits();
    assert_eq!(threads, vec![me], "only reads delivered, after the panic: {hits} hits");
    Ok(())
}

#[tokio::test]
async fn bad_keys_are_rejected_before_anything_is_written() -> anyhow::Result<()> {
    let r = rig();
    for key in [String::new(), "x".repeat(1025), "a\0b".into(), "tab\there".into()] {
        let err = r.store.set(&key, "v", SetOptions::default()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidKey(_)), "{key:?}: {err}");
        assert!(matches!(r.store.get(&key).await, Err(Error::InvalidKey(_))));
    }
    assert_eq!(r.cold.puts(), 0);
    Ok(())
}

#[tokio::test]
async fn over_budget_tiers_evict_and_oversized_values_skip_them() -> anyhow::Result<()> {
    let clock = ManualClock::new(0);
    let dir = tempfile::tempdir()?;
    let hot = Arc::new(MemoryTier::with_clock(64 * 1024, Arc::new(clock.clone())));
    let warm = Arc::new(DiskTier::open_with_clock(dir.path(), 128 * 1024, Arc::new(clock.clone()))?);
    let store = TieredStore::builder()
        .hot(hot.clone())
        .warm(warm.clone())
        .cold(Arc::new(TierDouble::new()))
        .clock(Arc::new(clock.clone()))
        .build()?;
    for i in 0..100 {
        clock.advance_ms(10);
        store.set(&format!("k{i}"), vec![i as u8; 2048], SetOptions::default()).await?;
    }
    let stats = store.stats();
    for t in [TierId::Hot, TierId::Warm] {
        let s = stats.tier(t).expect("tier");
        assert!(s.bytes <= s.capacity.unwrap(), "{t} over budget: {s:?}");
        assert!(s.evictions > 0, "{t} never evicted");
    }
    let before = store.stats().tier(TierId::Hot).unwrap().evictions;
    let out = store.set("huge", vec![7u8; 100 * 1024], SetOptions::default()).await?;
    assert!(!out.tiers.contains(&TierId::Hot), "a value larger than hot's whole budget skips hot");
    assert_eq!(store.stats().tier(TierId::Hot).unwrap().evictions, before, "and evicts nothing there");
    for i in 0..100 {
        assert_eq!(store.get(&format!("k{i}")).await?.map(|b| b.len()), Some(2048), "k{i} lost");
    }
    Ok(())
}
