//! What a policy's language costs: start-up (first start, which compiles the
//! component and fills the compiled-artifact cache, and second start, which
//! loads the cached artifact) and per-call times (place, promote) of the
//! four prefix-TTL example policies (placement-only: the host's CLOCK
//! evicts for them), with the Rust one as baseline.
//!
//! ```sh
//! examples/policies/build-all.sh
//! cargo bench -p tiered --bench policy_languages
//! ```
//!
//! A start is what `tiered serve` does before serving: a new engine on the
//! cache directory, compile or load, instantiate, `configure`. First starts
//! use a fresh cache directory each. Every figure is a median: starts over
//! [`FIRST_STARTS`] / [`SECOND_STARTS`] runs, calls over [`CALLS`] calls.
//! Prints a Markdown table for BENCHMARKS.md.

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tiered::policy::{Capacities, Policy, ReadInfo, TierId, WriteInfo};
use tiered_wasm::{PolicyEngine, PolicyLimits, WasmPolicy};

const FIRST_STARTS: usize = 3;
const SECOND_STARTS: usize = 5;
const CALLS: usize = 2000;
const CAPACITIES: Capacities = Capacities { hot_bytes: 256 << 20, warm_bytes: 4 << 30 };
const LANGUAGES: [(&str, &str); 4] = [
    ("Rust", "prefix-ttl-rust"),
    ("Python", "prefix-ttl-python"),
    ("JavaScript", "prefix-ttl-js"),
    ("C", "prefix-ttl-c"),
];

fn config() -> Vec<(String, String)> {
    [("ttl.logs/", "3600"), ("ttl.tmp/", "30"), ("hot_max_object_bytes", "65536")]
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn start(cache: &Path, wasm: &[u8]) -> (Duration, WasmPolicy) {
    let began = Instant::now();
    let engine = PolicyEngine::new(Some(cache.to_path_buf())).expect("engine");
    let limits = PolicyLimits { deadline: Duration::from_secs(60), ..PolicyLimits::default() }.unthrottled();
    let policy = WasmPolicy::load(&engine, wasm, &config(), CAPACITIES, limits).expect("the example loads");
    (began.elapsed(), policy)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn per_call(mut call: impl FnMut()) -> Duration {
    for _ in 0..CALLS / 10 {
        call();
    }
    median(
        (0..CALLS)
            .map(|_| {
                let t = Instant::now();
                call();
                t.elapsed()
            })
            .collect(),
    )
}

struct Row {
    language: &'static str,
    size: usize,
    first: Duration,
    second: Duration,
    place: Duration,
    promote: Duration,
}

fn measure(language: &'static str, wasm: &[u8], scratch: &Path) -> Row {
    let first =
        median((0..FIRST_STARTS).map(|i| start(&scratch.join(format!("{language}-fresh-{i}")), wasm).0).collect());
    let cache = scratch.join(format!("{language}-cache"));
    let (_, warmed) = start(&cache, wasm);
    drop(warmed);
    let mut second = Vec::with_capacity(SECOND_STARTS);
    let mut policy = None;
    for _ in 0..SECOND_STARTS {
        let (took, p) = start(&cache, wasm);
        assert!(p.loaded_from_cache(), "{language}: the second start must load the cached artifact");
        second.push(took);
        policy = Some(p);
    }
    let policy = policy.expect("at least one start");

    let metadata = BTreeMap::new();
    let write = WriteInfo {
        key: "logs/app.log",
        size: 4096,
        content_type: None,
        metadata: &metadata,
        requested_ttl_ms: None,
        now_ms: 1_700_000_000_000,
    };
    let read = ReadInfo {
        key: "logs/app.log",
        size: 4096,
        content_type: None,
        metadata: &metadata,
        served_by: TierId::Cold,
        age_ms: 60_000,
        access_count: 3,
        frequency: 3,
        expires_in_ms: None,
        now_ms: 1_700_000_000_000,
    };
    let place = per_call(|| {
        std::hint::black_box(policy.place(&write));
    });
    let promote = per_call(|| {
        std::hint::black_box(policy.promote(&read));
    });
    assert_eq!(policy.counters().fallbacks, 0, "{language}: {:?}", policy.counters());
    Row { language, size: wasm.len(), first, second: median(second), place, promote }
}

fn fmt(d: Duration) -> String {
    match d.as_nanos() {
        n if n < 10_000 => format!("{:.2} µs", n as f64 / 1e3),
        n if n < 1_000_000 => format!("{:.1} µs", n as f64 / 1e3),
        n if n < 1_000_000_000 => format!("{:.1} ms", n as f64 / 1e6),
        n => format!("{:.2} s", n as f64 / 1e9),
    }
}

fn main() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/policies");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut rows = Vec::new();
    for (language, folder) in LANGUAGES {
        let path = examples.join(folder).join("policy.wasm");
        let wasm = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{} ({e}): build the examples first with examples/policies/build-all.sh", path.display())
        });
        rows.push(measure(language, &wasm, scratch.path()));
    }
    let base = &rows[0];
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("| language | component | first start | second start | first/second | place | promote |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.1} MB | {} | {} | {:.0}× | {} ({:.1}×) | {} ({:.1}×) |",
            r.language,
            r.size as f64 / 1e6,
            fmt(r.first),
            fmt(r.second),
            ratio(r.first, r.second),
            fmt(r.place),
            ratio(r.place, base.place),
            fmt(r.promote),
            ratio(r.promote, base.promote),
        );
    }
}
