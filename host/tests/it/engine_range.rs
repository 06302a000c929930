//! Range reads through the engine, on real file tiers: served by the fastest
//! tier holding the object, counted as reads, never promoted; a warm copy is
//! checked chunk by chunk (damage outside the range does not stop it, damage
//! inside drops the copy and the range comes from cold); a version 1 file
//! (no chunk table) is still served, verified whole before its last byte.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use tiered::engine::RangeHit;
use tiered::key::key_hash;
use tiered::range::ByteRange;
use tiered::store::format::{self, CHUNK_LEN};
use tiered::store::{DiskTier, LocalColdTier, MemoryTier, Tier};
use tiered::{ManualClock, SetOptions, TierId, TieredStore};

struct Files {
    _dir: tempfile::TempDir,
    warm_dir: PathBuf,
    store: TieredStore,
    hot: Arc<MemoryTier>,
    warm: Arc<DiskTier>,
    cold: Arc<LocalColdTier>,
}

/// hot (memory, 1 MiB) + warm (disk, 64 MiB) + cold (a local directory).
fn files() -> anyhow::Result<Files> {
    let dir = tempfile::tempdir()?;
    let clock = ManualClock::new(1_000_000);
    let warm_dir = dir.path().join("warm");
    let hot = Arc::new(MemoryTier::with_clock(1 << 20, Arc::new(clock.clone())));
    let warm = Arc::new(DiskTier::open_with_clock(&warm_dir, 64 << 20, Arc::new(clock.clone()))?);
    let cold = Arc::new(LocalColdTier::open(dir.path().join("cold"))?);
    let store =
        TieredStore::builder().hot(hot.clone()).warm(warm.clone()).cold(cold.clone()).clock(Arc::new(clock)).build()?;
    Ok(Files { _dir: dir, warm_dir, store, hot, warm, cold })
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn path_in(root: &Path, key: &str) -> PathBuf {
    let hash = key_hash(key);
    root.join("objects").join(&hash[..2]).join(hash)
}

async fn body(hit: RangeHit) -> Result<Vec<u8>, tiered::Error> {
    let mut out = Vec::new();
    let mut body = hit.body;
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// Flip one byte of the data of `key`'s file at data position `at`.
fn damage(root: &Path, key: &str, at: u64) -> anyhow::Result<()> {
    let path = path_in(root, key);
    let mut raw = std::fs::read(&path)?;
    let header = format::decode_header(&raw)?;
    raw[header.data_start + at as usize] ^= 0x40;
    std::fs::write(&path, raw)?;
    Ok(())
}

#[tokio::test]
async fn a_range_comes_from_the_fastest_tier_holding_the_object_and_is_never_promoted() -> anyhow::Result<()> {
    let f = files()?;
    let value = data(300_000);
    let object = |key: &str| tiered::store::contract::object(key, &value, 1_000_000);
    f.hot.put(object("in-hot")).await?;
    f.warm.put(object("in-warm")).await?;
    f.cold.put(object("in-cold")).await?;
    let asked = ByteRange::FromTo { first: 100_000, last: 199_999 };
    for (key, tier) in [("in-hot", TierId::Hot), ("in-warm", TierId::Warm), ("in-cold", TierId::Cold)] {
        let hit = f.store.get_range(key, asked).await?.expect("stored");
        assert_eq!((hit.source, hit.range.clone(), hit.total), (tier, Some(100_000..200_000), 300_000), "{key}");
        assert_eq!(body(hit).await?, value[100_000..200_000], "{key}");
    }
    assert!(f.warm.get("in-cold").await?.is_none() && f.hot.get("in-cold").await?.is_none(), "not promoted");
    assert!(f.hot.get("in-warm").await?.is_none(), "not promoted");
    let stats = f.store.stats();
    assert_eq!(stats.gets, 3, "a range read is a get: {stats:?}");
    assert!(f.store.get_range("absent", asked).await?.is_none());
    let past = f.store.get_range("in-warm", ByteRange::From { first: 300_000 }).await?.expect("stored");
    assert_eq!((past.range, past.total), (None, 300_000), "a range past the end names nothing");
    Ok(())
}

#[tokio::test]
async fn a_damaged_chunk_stops_only_the_ranges_that_cover_it() -> anyhow::Result<()> {
    let f = files()?;
    let value = data(4 * CHUNK_LEN as usize + 123);
    f.store
        .set("k", value.clone(), SetOptions { skip: tiered::TierSet { hot: true, warm: false }, ..Default::default() })
        .await?;
    damage(&f.warm_dir, "k", 2 * CHUNK_LEN + 10)?;

    // The first chunk is intact: served from warm, the damage never read.
    let hit = f.store.get_range("k", ByteRange::FromTo { first: 0, last: 999 }).await?.expect("stored");
    assert_eq!(hit.source, TierId::Warm);
    assert_eq!(body(hit).await?, value[..1000]);

    // The damaged chunk: warm's copy is dropped, the range comes from cold.
    let hit = f.store.get_range("k", ByteRange::Suffix { len: 2 * CHUNK_LEN + 200 }).await?.expect("stored");
    assert_eq!(hit.source, TierId::Cold);
    assert_eq!(body(hit).await?, value[value.len() - (2 * CHUNK_LEN as usize + 200)..]);
    assert!(f.warm.get("k").await?.is_none(), "the damaged copy is dropped");
    assert_eq!(f.store.stats().tier(TierId::Warm).map(|t| t.corrupt), Some(1));
    Ok(())
}

#[tokio::test]
async fn a_long_range_streams_checked_chunks_and_breaks_off_at_damage() -> anyhow::Result<()> {
    let f = files()?;
    let value = data(40 * CHUNK_LEN as usize + 5);
    f.warm.put(tiered::store::contract::object("long", &value, 1_000_000)).await?;
    let hit = f.store.get_range("long", ByteRange::From { first: 1000 }).await?.expect("stored");
    assert_eq!(hit.source, TierId::Warm);
    assert_eq!(body(hit).await?, value[1000..], "many steps, byte-exact");

    damage(&f.warm_dir, "long", 30 * CHUNK_LEN)?;
    let hit = f.store.get_range("long", ByteRange::From { first: 1000 }).await?.expect("stored");
    let mut stream = hit.body;
    let mut served = 0u64;
    let mut failed = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => served += chunk.len() as u64,
            Err(err) => failed = Some(err),
        }
    }
    assert!(matches!(failed, Some(tiered::Error::Corrupt { tier: TierId::Warm, .. })), "{failed:?}");
    assert!(served <= 30 * CHUNK_LEN - 1000, "no byte of the damaged chunk or after it: {served}");
    Ok(())
}

#[tokio::test]
async fn a_version_1_file_is_served_and_verified_before_its_last_byte() -> anyhow::Result<()> {
    let value = data(3 * CHUNK_LEN as usize);
    let dir = tempfile::tempdir()?;
    // A version 1 file, as an earlier release wrote it: no chunk table.
    let object = tiered::store::contract::object("old", &value, 1_000);
    let mut v1 = format::encode_old_header(&object.meta, format::data_hash(&value), false);
    v1.extend_from_slice(&value);
    let path = path_in(dir.path(), "old");
    std::fs::create_dir_all(path.parent().expect("parent"))?;
    std::fs::write(&path, &v1)?;

    let warm = DiskTier::open(dir.path(), 64 << 20)?;
    let read = warm.get_range("old", ByteRange::FromTo { first: 10, last: 70_000 }).await?.expect("indexed");
    let chunks: Vec<_> = read.chunks.collect().await;
    let bytes: Vec<u8> = chunks.into_iter().map(|c| c.expect("intact").to_vec()).collect::<Vec<_>>().concat();
    assert_eq!(bytes, value[10..70_001]);

    let last = v1.len() - 1;
    v1[last] ^= 1; // past the range: only the whole-data hash sees it
    std::fs::write(&path, &v1)?;
    let read = warm.get_range("old", ByteRange::FromTo { first: 10, last: 70_000 }).await?.expect("indexed");
    let chunks: Vec<_> = read.chunks.collect().await;
    let served: usize = chunks.iter().filter_map(|c| c.as_ref().ok()).map(|c| c.len()).sum();
    assert!(chunks.last().is_some_and(Result::is_err), "the range ends with the mismatch");
    assert!(served < 70_000 - 10 + 1, "never the whole range of a damaged file: {served}");

    // Rewriting it (an expiry change) makes it the current version.
    v1[last] ^= 1;
    std::fs::write(&path, &v1)?;
    warm.set_expiry("old", Some(u64::MAX / 2)).await?;
    assert!(format::read_header(&path).map_err(|e| anyhow::anyhow!("{e:?}"))?.chunked);
    assert_eq!(&std::fs::read(&path)?[..8], format::MAGIC);
    let read = warm.get_range("old", ByteRange::Suffix { len: 5 }).await?.expect("indexed");
    let chunks: Vec<_> = read.chunks.collect().await;
    assert_eq!(
        chunks.into_iter().map(|c| c.expect("intact").to_vec()).collect::<Vec<_>>().concat(),
        value[value.len() - 5..]
    );
    Ok(())
}

#[tokio::test]
async fn a_range_of_a_compressed_value_counts_positions_in_the_value() -> anyhow::Result<()> {
    let f = files()?;
    let text = "line of text that compresses well\n".repeat(2_000).into_bytes();
    let options =
        SetOptions { compress: Some(true), skip: tiered::TierSet { hot: true, warm: false }, ..Default::default() };
    f.store.set("text", text.clone(), options).await?;
    let stored = f.warm.get("text").await?.expect("in warm");
    assert!(stored.meta.size < text.len() as u64, "stored compressed");
    let hit = f.store.get_range("text", ByteRange::FromTo { first: 5_000, last: 5_099 }).await?.expect("stored");
    assert_eq!((hit.source, hit.total), (TierId::Warm, text.len() as u64));
    assert_eq!(body(hit).await?, text[5_000..5_100]);
    Ok(())
}
