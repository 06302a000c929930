//! The engine's large-object entry points, on test doubles: `set_file` runs
//! the very cascade of `set` (invalidate, cold first, acknowledged only after
//! cold, then caches) but never fills the memory tier; `get_stream` answers
//! small objects whole through the ordinary read path.

use std::path::Path;
use std::sync::Arc;

use crate::support::rig::{holds, rig};
use futures::StreamExt;
use tiered::engine::Served;
use tiered::store::{Fault, LocalColdTier, MemoryTier, SpoolWriter, Spooled, Tier, TierDouble};
use tiered::{Error, SetOptions, TierId, TieredStore};

async fn spooled(spool: &Path, data: &[u8]) -> anyhow::Result<Spooled> {
    let mut writer = SpoolWriter::create(spool).await?;
    writer.write(data).await?;
    Ok(writer.finish().await?)
}

/// A store whose only tier is a local cold directory (behind a counting
/// double), holding `big`: 100,000 bytes, which the readers below stream
/// with a 4096-byte buffer. The directory lives as long as the guard.
async fn big_in_cold() -> anyhow::Result<(tempfile::TempDir, Arc<TierDouble<LocalColdTier>>, TieredStore, Vec<u8>)> {
    let dir = tempfile::tempdir()?;
    let cold = Arc::new(TierDouble::wrapping(Arc::new(LocalColdTier::open(dir.path())?)));
    let store = TieredStore::builder().cold(cold.clone()).build()?;
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    store.set("big", data.clone(), SetOptions::default()).await?;
    Ok((dir, cold, store, data))
}

#[tokio::test]
async fn a_file_write_is_acknowledged_only_after_cold_has_it() -> anyhow::Result<()> {
    let (r, spool) = (rig(), tempfile::tempdir()?);
    r.store.set("k", "v1", SetOptions::default()).await?;
    r.cold.set_fault(Fault::FailWrites);
    let file = spooled(spool.path(), b"v2 from a file").await?;
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
    let (r, spool) = (rig(), tempfile::tempdir()?);
    let data = vec![7u8; 10_000];
    // The same bytes written from memory go to hot as well: the policy places them there.
    let from_memory = r.store.set("mem", data.clone(), SetOptions::default()).await?;
    assert_eq!(from_memory.tiers, [TierId::Hot, TierId::Warm, TierId::Cold]);

    let file = spooled(spool.path(), &data).await?;
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

/// A large object read from cold is served from the stream the shared cold
/// read opened when it found the object large: one cold read, not two. A
/// caller that finds the stream taken opens its own.
#[tokio::test]
async fn a_large_cold_read_serves_the_stream_the_shared_read_opened() -> anyhow::Result<()> {
    let (_dir, cold, store, data) = big_in_cold().await?;

    for read in 1..=2 {
        let before = cold.gets();
        assert!(streamed(&store).await? == data, "read {read}: the bytes written");
        assert_eq!(cold.gets() - before, 1, "read {read}: one cold read");
    }

    // Two readers on one shared read (held up in cold so both join it): one
    // streams the shared read's stream, the other opens a second one.
    cold.set_read_delay(Some(std::time::Duration::from_millis(200)));
    let before = cold.gets();
    let (a, b) = tokio::join!(streamed(&store), streamed(&store));
    assert!(a? == data && b? == data, "both readers get the bytes written");
    assert_eq!(cold.gets() - before, 2, "the shared read's stream and one more");
    Ok(())
}

/// Readers of one shared cold read that want less than a stream: a plain
/// `get`, and a streaming reader whose buffer holds the object, each get the
/// value whole (they read it on their own), while the reader that needs a
/// stream gets one. (Here the reader that started the shared read takes its
/// stream first; the buffer check in `Handoff::take` covers the other order,
/// which a single-threaded join cannot produce.)
#[tokio::test]
async fn readers_joining_a_large_shared_read_get_what_they_asked_for() -> anyhow::Result<()> {
    let (_dir, cold, store, data) = big_in_cold().await?;
    cold.set_read_delay(Some(std::time::Duration::from_millis(200)));

    // The streaming reader polls first, so it starts the shared read.
    let (streaming, plain, roomy) = tokio::join!(streamed(&store), store.get("big"), store.get_stream("big", 1 << 20));
    assert!(streaming? == data, "the reader with a 4096-byte buffer streams");
    assert_eq!(plain?.as_deref(), Some(&data[..]), "a plain get joining the shared read gets the value");
    match roomy?.expect("present") {
        Served::Whole(hit) => assert!(hit.data == data, "whole, as its 1 MiB buffer allows"),
        Served::Stream(_) => panic!("a reader whose buffer holds the object was handed a stream"),
    }
    Ok(())
}

/// A large object streamed from cold is promoted into warm once read to the
/// end, unless a write to the key finished after the cold stream was opened:
/// the ordering ticket travels with the stream the shared read hands over.
#[tokio::test]
async fn a_handed_over_stream_promotes_only_if_no_write_raced_it() -> anyhow::Result<()> {
    let (cold_dir, spool) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let warm = Arc::new(MemoryTier::new(8 << 20));
    let store = TieredStore::builder()
        .warm(warm.clone())
        .cold(Arc::new(LocalColdTier::open(cold_dir.path())?))
        .spool_dir(spool.path())
        .build()?;
    let old: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let new: Vec<u8> = old.iter().map(|b| b ^ 0x55).collect();
    let promotions = |store: &TieredStore| store.stats().tier(TierId::Warm).map_or(0, |t| t.promotions);

    // No race: read to the end, and warm gets the copy.
    store.set("big", old.clone(), SetOptions::default()).await?;
    warm.delete("big").await?;
    assert!(streamed(&store).await? == old);
    settled(spool.path()).await?;
    assert_eq!(promotions(&store), 1);
    assert!(warm.get("big").await?.is_some_and(|o| o.data == old), "the streamed copy was installed in warm");

    // A write finishes between the stream's opening and its end.
    warm.delete("big").await?;
    let Some(Served::Stream(hit)) = store.get_stream("big", 4096).await? else {
        anyhow::bail!("a 100,000-byte object read with a 4096-byte buffer must stream");
    };
    store.set("big", new.clone(), SetOptions::default()).await?;
    let mut body = Vec::new();
    let mut chunks = hit.body;
    while let Some(chunk) = chunks.next().await {
        body.extend_from_slice(&chunk?);
    }
    assert!(body == old, "the reader gets the version its stream was opened on");
    settled(spool.path()).await?;
    assert_eq!(promotions(&store), 1, "the older version was not promoted");
    assert!(warm.get("big").await?.is_some_and(|o| o.data == new), "warm holds the write, not the read");
    Ok(())
}

/// Waits until the spool directory is empty: the teed copy was installed or
/// refused (its file is removed either way).
async fn settled(spool: &std::path::Path) -> anyhow::Result<()> {
    for _ in 0..3000 {
        if std::fs::read_dir(spool)?.next().is_none() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    anyhow::bail!("the teed copy was neither installed nor refused within 30 s")
}

/// The body of a read of `big` that must stream from cold.
async fn streamed(store: &TieredStore) -> anyhow::Result<Vec<u8>> {
    let Some(Served::Stream(hit)) = store.get_stream("big", 4096).await? else {
        anyhow::bail!("a 100,000-byte object read with a 4096-byte buffer must stream");
    };
    assert_eq!(hit.source, TierId::Cold);
    let mut body = Vec::new();
    let mut chunks = hit.body;
    while let Some(chunk) = chunks.next().await {
        body.extend_from_slice(&chunk?);
    }
    Ok(body)
}

/// Every served read is a get, streamed or not, so the cache hit ratio can
/// never pass 1: a large object streamed from warm four times is four gets
/// and four warm hits (the stats once said 0 gets, or 1, and a ratio of 4).
#[tokio::test]
async fn streamed_reads_from_warm_count_as_gets() -> anyhow::Result<()> {
    let (warm_dir, cold_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let store = TieredStore::builder()
        .hot(Arc::new(MemoryTier::new(1 << 20)))
        .warm(Arc::new(tiered::store::DiskTier::open(warm_dir.path(), 8 << 20)?))
        .cold(Arc::new(LocalColdTier::open(cold_dir.path())?))
        .build()?;
    let data = vec![9u8; 100_000];
    let warm_only = SetOptions { skip: tiered::TierSet { hot: true, warm: false }, ..SetOptions::default() };
    store.set("big", data.clone(), warm_only).await?;
    for read in 1..=4 {
        let Some(Served::Stream(hit)) = store.get_stream("big", 4096).await? else {
            anyhow::bail!("read {read}: a 100,000-byte object read with a 4096-byte buffer must stream");
        };
        assert_eq!(hit.source, TierId::Warm, "read {read}");
        let chunks: Vec<_> = hit.body.collect().await;
        assert_eq!(chunks.into_iter().collect::<Result<Vec<_>, _>>()?.concat(), data);
    }
    let stats = store.stats();
    let warm = stats.tier(TierId::Warm).expect("warm");
    assert_eq!((stats.gets, warm.hits), (4, 4), "{stats:?}");
    assert_eq!(stats.cache_hit_ratio, 1.0, "{stats:?}");
    Ok(())
}

/// A small object found in warm by a streaming reader is served from that
/// one read (verified, counted once), not thrown away and read again.
#[tokio::test]
async fn a_small_warm_object_is_read_once_by_a_streaming_reader() -> anyhow::Result<()> {
    let r = rig();
    let warm_only = SetOptions { skip: tiered::TierSet { hot: true, warm: false }, ..SetOptions::default() };
    r.store.set("k", "small", warm_only).await?;
    let before = r.warm.gets();
    match r.store.get_stream("k", 1 << 20).await?.expect("present") {
        Served::Whole(hit) => assert_eq!((hit.source, &hit.data[..]), (TierId::Warm, &b"small"[..])),
        Served::Stream(stream) => anyhow::bail!("a small object was streamed: {stream:?}"),
    }
    assert_eq!(r.warm.gets() - before, 1, "one warm read");
    let stats = r.store.stats();
    assert_eq!((stats.gets, stats.tier(TierId::Warm).expect("warm").hits), (1, 1), "{stats:?}");
    Ok(())
}
