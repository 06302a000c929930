//! The engine's large-object entry points, on test doubles: `set_file` runs
//! the very cascade of `set` (invalidate, cold first, acknowledged only after
//! cold, then caches) but never fills the memory tier; `get_stream` answers
//! small objects whole through the ordinary read path.

use std::sync::Arc;

use tiered::engine::Served;
use tiered::store::{Fault, MemoryTier, SpoolWriter, Spooled, Tier, TierDouble};
use tiered::{Error, ManualClock, SetOptions, TierId, TieredStore};

struct Rig {
    store: TieredStore,
    hot: Arc<MemoryTier>,
    warm: Arc<TierDouble>,
    cold: Arc<TierDouble>,
    spool: tempfile::TempDir,
}

fn rig() -> anyhow::Result<Rig> {
    let clock = ManualClock::new(1_000_000);
    let hot = Arc::new(MemoryTier::with_clock(1 << 20, Arc::new(clock.clone())));
    let warm = Arc::new(TierDouble::wrapping(Arc::new(MemoryTier::with_clock(8 << 20, Arc::new(clock.clone())))));
    let cold = Arc::new(TierDouble::new());
    let store =
        TieredStore::builder().hot(hot.clone()).warm(warm.clone()).cold(cold.clone()).clock(Arc::new(clock)).build()?;
    Ok(Rig { store, hot, warm, cold, spool: tempfile::tempdir()? })
}

async fn spooled(rig: &Rig, data: &[u8]) -> anyhow::Result<Spooled> {
    let mut writer = SpoolWriter::create(rig.spool.path()).await?;
    writer.write(data).await?;
    Ok(writer.finish().await?)
}

async fn holds(tier: &dyn Tier, key: &str) -> bool {
    tier.get(key).await.ok().flatten().is_some()
}

#[tokio::test]
async fn a_file_write_is_acknowledged_only_after_cold_has_it() -> anyhow::Result<()> {
    let r = rig()?;
    r.store.set("k", "v1", SetOptions::default()).await?;
    r.cold.set_fault(Fault::FailWrites);
    let file = spooled(&r, b"v2 from a file").await?;
    let err = r.store.set_file("k", &file, SetOptions::default()).await.unwrap_err();
    assert!(matches!(err, Error::ColdUnavailable(_)), "{err}");
    // The caches were invalidated first; cold still has v1, and reads see it.
    r.cold.set_fault(Fault::None);
    assert!(!holds(r.hot.as_ref(), "k").await && !holds(r.warm.as_ref(), "k").await);
    assert_eq!(r.store.get("k").await?.as_deref(), Some(&b"v1"[..]));
    Ok(())
}

#[tokio::test]
async fn a_file_write_fills_warm_as_placed_but_never_memory() -> anyhow::Result<()> {
    let r = rig()?;
    let data = vec![7u8; 10_000];
    // The same bytes written from memory go to hot as well: the policy places them there.
    let from_memory = r.store.set("mem", data.clone(), SetOptions::default()).await?;
    assert_eq!(from_memory.tiers, [TierId::Hot, TierId::Warm, TierId::Cold]);

    let file = spooled(&r, &data).await?;
    let outcome = r.store.set_file("file", &file, SetOptions::default()).await?;
    assert_eq!(outcome.tiers, [TierId::Warm, TierId::Cold]);
    assert_eq!(outcome.size, 10_000);
    assert!(!holds(r.hot.as_ref(), "file").await);
    let cold = r.cold.get("file").await?.expect("cold has it");
    assert!(cold.verify() && cold.data == data, "cold copy: the spool's checksum and bytes");

    // Small enough for the caller: served whole, from warm.
    match r.store.get_stream("file", 1 << 20).await?.expect("present") {
        Served::Whole(hit) => assert_eq!((hit.source, hit.data.len()), (TierId::Warm, 10_000)),
        Served::Stream(stream) => panic!("a small object was streamed: {stream:?}"),
    }
    assert!(r.store.get_stream("absent", 1 << 20).await?.is_none());
    Ok(())
}
