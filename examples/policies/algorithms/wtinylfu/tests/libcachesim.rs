//! The order against libCacheSim with libCacheSim's own object ids.
//!
//! Replays the fidelity trace (`tests/traces/gen.sh fidelity`, which writes
//! a Zipf trace of unit-size objects and libCacheSim 0.3.5's figures for it)
//! through the order natively, fed the trace's object ids as they are, with a
//! minimal host around it: a read of an object the order holds is a hit, any
//! other read an admission. Its sketch then hashes the ids libCacheSim's
//! hashes, and its miss ratio is libCacheSim's exactly. Through the engine
//! the order is given hashes of keys instead, which collide in other
//! counters: `host/tests/it/algorithms.rs` bounds that difference.
//!
//! A miss is counted as libCacheSim counts it: a read of an object the
//! order does not hold, even when the host still holds it (an object
//! evicted by a read, not yet named to the host).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tiered_algorithm_wtinylfu::{Config, WTinyLfu};
use tiered_order_kit::{Admission, Capacity, Order};

/// `(object id, size)` of each request of an oracleGeneral trace.
fn read_trace(path: &Path) -> Vec<(u64, u64)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(24)
        .map(|r| {
            let id = u64::from_le_bytes(r[4..12].try_into().unwrap());
            let size = u32::from_le_bytes(r[12..16].try_into().unwrap());
            (id, u64::from(size))
        })
        .collect()
}

/// libCacheSim's miss ratio of the order on `requests` with a cache of
/// `capacity` bytes.
fn miss_ratio(requests: &[(u64, u64)], capacity: u64, config: Config) -> f64 {
    let mut order = WTinyLfu::with_config(Capacity { max_bytes: capacity, max_objects: 0 }, config);
    let mut held: HashMap<u64, u64> = HashMap::new();
    let mut used = 0;
    let mut misses = 0;
    for &(id, size) in requests {
        if !order.holds(id) {
            misses += 1;
        }
        if held.contains_key(&id) {
            order.hit(id);
            continue;
        }
        let need = (used + size).saturating_sub(capacity);
        if let Admission::Admit(victims) = order.admit(id, size, need) {
            for victim in victims {
                used -= held.remove(&victim).expect("a victim the host holds");
            }
            assert!(used + size <= capacity, "the victims of {id} free too little");
            held.insert(id, size);
            used += size;
        }
        assert_eq!(order.len(), held.len(), "the order's count of residents");
    }
    misses as f64 / requests.len() as f64
}

/// `tests/traces/gen.sh SET` into the workspace's `target/traces`.
fn traces(set: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../..");
    let out = root.join("target/traces");
    let status = Command::new("bash").arg(root.join("tests/traces/gen.sh")).arg(set).arg(&out).status().unwrap();
    assert!(status.success(), "tests/traces/gen.sh {set} failed ({status}); it needs python3 and PyPI");
    out
}

/// Every W-TinyLFU figure of `name` in `dir` (`NAME.json`), replayed:
/// `(cache bytes, ours, libCacheSim's)`.
fn replay(dir: &Path, name: &str) -> Vec<(u64, f64, f64)> {
    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap()).unwrap();
    let requests = read_trace(&dir.join(figures["trace"].as_str().unwrap()));
    let runs = figures["runs"].as_array().unwrap().iter().filter(|r| r["algorithm"] == "wtinylfu");
    runs.map(|run| {
        let capacity = run["cache_bytes"].as_u64().unwrap();
        (capacity, miss_ratio(&requests, capacity, Config::default()), run["miss_ratio"].as_f64().unwrap())
    })
    .collect()
}

#[test]
fn with_libcachesims_ids_the_miss_ratio_is_libcachesims() {
    let runs = replay(&traces("fidelity"), "zipf-fidelity");
    assert_eq!(runs.len(), 2, "libCacheSim's W-TinyLFU figures are missing");
    for (capacity, ours, theirs) in runs {
        assert!((ours - theirs).abs() < 1e-9, "{capacity} objects: ours {ours}, libCacheSim {theirs}");
    }
}

/// The unit-size benchmark traces (a million requests each), likewise;
/// slow, so run on demand: `cargo test --release -p tiered-algorithm-wtinylfu
/// -- --ignored`.
#[test]
#[ignore]
fn with_libcachesims_ids_the_benchmark_miss_ratios_are_libcachesims() {
    let dir = traces("bench");
    for name in ["zipf-a0.8-unit", "zipf-a1.0-unit"] {
        for (capacity, ours, theirs) in replay(&dir, name) {
            assert!((ours - theirs).abs() < 1e-9, "{name}, {capacity} objects: ours {ours}, libCacheSim {theirs}");
        }
    }
}
