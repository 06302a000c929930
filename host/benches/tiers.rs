//! Hot-tier and disk-tier reads against named baselines, in one run:
//! - `hot_get_1KiB/{tiered,tiered_inline,moka,quick_cache}/threads={1,2}`:
//!   a `TieredStore::get` served by the hot tier (the default policy keeping
//!   the order: the hit is buffered as an event, full buffers delivered by
//!   the store's thread; `tiered_inline`: by the read that fills one) vs
//!   `moka::sync::Cache::get` and `quick_cache::sync::Cache::get`, same keys
//!   and the same values, room for all of them: 10,000 keys, more than a
//!   core's L2 holds, so memory latency counts;
//! - `hot_get_1KiB_1000_keys/…`: the same with 1,000 keys, which stay in
//!   cache: the work of a hit without most of its memory misses (steadier
//!   on a shared machine);
//! - `disk_get_64KiB/{tiered,std_fs_read,std_fs_read_object_file}`: a
//!   `DiskTier::get` of one object read again and again (its file kept open:
//!   an `fstat` and a `pread`, header parse, header and data hashes checked)
//!   vs a plain `std::fs::read` of the same 64 KiB in a file of their own,
//!   and of the object's file itself (the header and chunk table too, three
//!   directories deeper);
//! - `disk_get_64KiB_in_turn/{tiered,std_fs_read,std_fs_read_object_file}`:
//!   2,048 objects read in turn, more than the disk tier keeps open, so every
//!   read opens its file (one `open` and one `pread`), vs `std::fs::read` of
//!   2,048 plain files of the same 64 KiB in one directory, and of the
//!   objects' own files (spread over 256 directories), in turn.
//!
//! The tiered contenders print, after each, the share of hit events their
//! buffers dropped (a hit made faster by losing the policy its events would
//! not be a result).
//!
//! Run: `cargo bench -p tiered-host --bench tiers` (`-- disk_get` for the disk
//! tier alone).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use futures::FutureExt;
use tiered::store::{DiskTier, LocalColdTier, Tier};
use tiered::{HitDelivery, SetOptions, StoreConfig, TieredStore};

fn keys(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("bench/object/{i:08}")).collect()
}

/// A pseudo-random visiting order of `count` keys shared by the contenders.
fn order(count: usize) -> Vec<usize> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..1 << 16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % count as u64) as usize
        })
        .collect()
}

/// Run `op` on `threads` threads for `iters` operations each; time per op.
fn per_op(threads: usize, iters: u64, op: impl Fn(usize) + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let op = &op;
            s.spawn(move || {
                for i in 0..iters {
                    op(t * 7919 + i as usize);
                }
            });
        }
    });
    start.elapsed() / threads as u32
}

fn hot_get(c: &mut Criterion) {
    hot_get_of(c, "hot_get_1KiB", 10_000);
    hot_get_of(c, "hot_get_1KiB_1000_keys", 1_000);
}

fn hot_get_of(c: &mut Criterion, name: &str, count: usize) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let value = vec![42u8; 1024];
    let capacity = 64 << 20;
    let store_delivering = |delivery, cold: &str| {
        TieredStore::builder()
            .config(StoreConfig { hit_delivery: delivery, ..StoreConfig::default() })
            .hot_bytes(capacity)
            .cold(Arc::new(LocalColdTier::open(dir.path().join(cold)).unwrap()))
            .build()
            .unwrap()
    };
    let store = store_delivering(HitDelivery::Background, "background");
    let inline = store_delivering(HitDelivery::Inline, "inline");
    let moka: moka::sync::Cache<String, bytes::Bytes> = moka::sync::Cache::builder()
        .max_capacity(capacity)
        .weigher(|k: &String, v: &bytes::Bytes| (k.len() + v.len()) as u32)
        .build();
    let quick: quick_cache::sync::Cache<String, bytes::Bytes> = quick_cache::sync::Cache::new(2 * count);
    let keys = keys(count);
    // Every contender holds the same values: one `Bytes` per key, its
    // shared header made before any is inserted. Built per contender, the
    // headers landed wherever each one's inserts left them (the store's
    // among the allocations of its write path, the others' packed together
    // by their first reads), and a hit's reference-count increment, a
    // memory access of its own, cost each a different number of cache
    // misses.
    let values: Vec<bytes::Bytes> = keys.iter().map(|_| bytes::Bytes::from(value.clone())).collect();
    for v in &values {
        drop(v.clone());
    }
    for (k, v) in keys.iter().zip(&values) {
        rt.block_on(store.set(k, v.clone(), SetOptions::default())).unwrap();
        rt.block_on(inline.set(k, v.clone(), SetOptions::default())).unwrap();
        moka.insert(k.clone(), v.clone());
        quick.insert(k.clone(), v.clone());
    }
    let order = order(count);
    let mut group = c.benchmark_group(name);
    for threads in [1usize, 2] {
        let before = hot_hits(&store);
        group.bench_function(BenchmarkId::new("tiered", format!("threads={threads}")), |b| {
            b.iter_custom(|iters| {
                per_op(threads, iters, |i| {
                    let hit = store.get(&keys[order[i % order.len()]]).now_or_never().expect("hot hits never wait");
                    black_box(hit.unwrap().unwrap());
                })
            })
        });
        report_dropped(&format!("{name}/tiered/threads={threads}"), before, hot_hits(&store));
        let before = hot_hits(&inline);
        group.bench_function(BenchmarkId::new("tiered_inline", format!("threads={threads}")), |b| {
            b.iter_custom(|iters| {
                per_op(threads, iters, |i| {
                    let hit = inline.get(&keys[order[i % order.len()]]).now_or_never().expect("hot hits never wait");
                    black_box(hit.unwrap().unwrap());
                })
            })
        });
        report_dropped(&format!("{name}/tiered_inline/threads={threads}"), before, hot_hits(&inline));
        group.bench_function(BenchmarkId::new("moka", format!("threads={threads}")), |b| {
            b.iter_custom(|iters| {
                per_op(threads, iters, |i| {
                    black_box(moka.get(&keys[order[i % order.len()]]).unwrap());
                })
            })
        });
        group.bench_function(BenchmarkId::new("quick_cache", format!("threads={threads}")), |b| {
            b.iter_custom(|iters| {
                per_op(threads, iters, |i| {
                    black_box(quick.get(&keys[order[i % order.len()]]).unwrap());
                })
            })
        });
    }
    group.finish();
}

/// The hot tier's hits and the hit events its buffers dropped so far.
fn hot_hits(store: &TieredStore) -> (u64, u64) {
    let stats = store.stats();
    let hot = stats.tier(tiered::TierId::Hot).expect("the store has a hot tier");
    (hot.hits, hot.hits_dropped)
}

/// Prints the share of hit events a contender's buffers dropped while it
/// ran: a faster hit that loses the policy its events is not a result.
#[allow(clippy::print_stderr)] // a bench's report, beside criterion's
fn report_dropped(what: &str, (hits_before, dropped_before): (u64, u64), (hits, dropped): (u64, u64)) {
    let (hits, dropped) = (hits - hits_before, dropped - dropped_before);
    if hits == 0 {
        // Filtered out of this run.
        return;
    }
    let share = 100.0 * dropped as f64 / hits as f64;
    eprintln!("{what}: {dropped} of {hits} hit events dropped ({share:.1} %)");
}

fn disk_get(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let tier = DiskTier::open(dir.path().join("warm"), 1 << 30).unwrap();
    let data = bytes::Bytes::from((0..65536u32).map(|i| (i * 31) as u8).collect::<Vec<u8>>());
    let meta = tiered::ObjectMeta {
        key: "bench/disk".into(),
        size: data.len() as u64,
        original_size: data.len() as u64,
        created_ms: 0,
        expires_ms: None,
        checksum: tiered::object::checksum(&data),
        codec: tiered::Codec::Identity,
        content_type: None,
        metadata: Default::default(),
        etag: None,
        validated_ms: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let object = tiered::Object::new(meta, data.clone());
    rt.block_on(tier.put(object.clone())).unwrap();
    let plain = dir.path().join("plain.bin");
    std::fs::write(&plain, &data).unwrap();
    let object_file = object_file_of(&dir.path().join("warm"), "bench/disk");
    assert!(object_file.is_file(), "the disk tier's layout: objects/<2 hex>/<64 hex>");
    let mut group = c.benchmark_group("disk_get_64KiB");
    group.bench_function("tiered", |b| {
        b.iter(|| black_box(tier.get("bench/disk").now_or_never().expect("inline read").unwrap().unwrap()))
    });
    group.bench_function("std_fs_read", |b| b.iter(|| black_box(std::fs::read(&plain).unwrap())));
    group.bench_function("std_fs_read_object_file", |b| b.iter(|| black_box(std::fs::read(&object_file).unwrap())));
    group.finish();

    // Twice the most files a disk tier keeps open, read in a cycle: none is
    // still open when its turn comes again. Written only if a benchmark of
    // the group runs (2,048 synced files take seconds, and would show in
    // every profile of the others).
    const IN_TURN: usize = 2048;
    let files = std::cell::OnceCell::new();
    let in_turn = || {
        files.get_or_init(|| {
            let keys: Vec<String> = (0..IN_TURN).map(|i| format!("bench/disk/{i:05}")).collect();
            let plain_dir = dir.path().join("plain");
            std::fs::create_dir(&plain_dir).unwrap();
            let plains: Vec<_> = (0..IN_TURN).map(|i| plain_dir.join(format!("{i:05}.bin"))).collect();
            for (key, plain) in keys.iter().zip(&plains) {
                let meta = tiered::ObjectMeta { key: key.clone(), ..(*object.meta).clone() };
                rt.block_on(tier.put(tiered::Object::new(meta, data.clone()))).unwrap();
                std::fs::write(plain, &data).unwrap();
            }
            let object_files: Vec<_> = keys.iter().map(|key| object_file_of(&dir.path().join("warm"), key)).collect();
            (keys, plains, object_files)
        })
    };
    let mut group = c.benchmark_group("disk_get_64KiB_in_turn");
    let mut next = 0;
    group.bench_function("tiered", |b| {
        let (keys, _, _) = in_turn();
        b.iter(|| {
            next = (next + 1) % IN_TURN;
            black_box(tier.get(&keys[next]).now_or_never().expect("inline read").unwrap().unwrap())
        })
    });
    group.bench_function("std_fs_read", |b| {
        let (_, plains, _) = in_turn();
        b.iter(|| {
            next = (next + 1) % IN_TURN;
            black_box(std::fs::read(&plains[next]).unwrap())
        })
    });
    group.bench_function("std_fs_read_object_file", |b| {
        let (_, _, object_files) = in_turn();
        b.iter(|| {
            next = (next + 1) % IN_TURN;
            black_box(std::fs::read(&object_files[next]).unwrap())
        })
    });
    group.finish();
}

/// Where a disk tier rooted at `root` keeps `key`'s file.
fn object_file_of(root: &std::path::Path, key: &str) -> std::path::PathBuf {
    let hash = tiered::key::key_hash(key);
    root.join("objects").join(&hash[..2]).join(&hash)
}

criterion_group!(benches, hot_get, disk_get);
criterion_main!(benches);
