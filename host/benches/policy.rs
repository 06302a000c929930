//! Cost of one policy decision through the WebAssembly boundary (the embedded
//! default policy in wasmtime) next to the same logic linked natively
//! (`BuiltinPolicy`), measured in the same run.
//!
//! Placement and promotion per call; the eviction order as the service uses
//! it: `observe64` delivers a batch of 64 hit events (divide by 64 for one
//! hit), `admit_evict1` an arrival that evicts one object (the steady state
//! of a full tier: one arrival, one victim). `place_keyed` is a placement
//! under a prefix TTL rule, where the policy reads the key.
//!
//! ```text
//! cargo bench -p tiered --bench policy -- --warm-up-time 1 --measurement-time 3
//! ```

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tiered::policy::order::{ARRIVAL, HIT};
use tiered::policy::{Arrival, BuiltinPolicy, Capacities, Events, Policy, ReadInfo, TierId, WriteInfo};
use tiered_wasm::DEFAULT_POLICY_WASM;
use tiered_wasm::{PolicyEngine, PolicyLimits, WasmPolicy};

/// Objects resident in the hot order while the order is measured.
const RESIDENTS: u64 = 4096;
/// Bytes each costs.
const SIZE: u64 = 4096;

const CAPACITIES: Capacities = Capacities { hot_bytes: 256 << 20, warm_bytes: 16 << 30 };
const NOW_MS: u64 = 1_700_000_000_000;

fn bench(c: &mut Criterion) {
    let engine = PolicyEngine::new(None).expect("engine");
    let wasm = WasmPolicy::load(&engine, DEFAULT_POLICY_WASM, &[], CAPACITIES, PolicyLimits::default().unthrottled())
        .expect("the embedded default policy loads");
    let native = BuiltinPolicy::new(&[], CAPACITIES).expect("the builtin policy configures");
    let policies: [(&str, &dyn Policy); 2] = [("wasm", &wasm), ("native", &native)];
    // With a prefix TTL rule the policy reads the key (`current-object.key`).
    let rule = [("ttl.bench/".to_owned(), "1h".to_owned())];
    let wasm_keyed =
        WasmPolicy::load(&engine, DEFAULT_POLICY_WASM, &rule, CAPACITIES, PolicyLimits::default().unthrottled())
            .expect("the embedded default policy loads with a TTL rule");
    let native_keyed = BuiltinPolicy::new(&rule, CAPACITIES).expect("the builtin policy configures");
    let keyed: [(&str, &dyn Policy); 2] = [("wasm", &wasm_keyed), ("native", &native_keyed)];

    let metadata = BTreeMap::new();
    let write = WriteInfo {
        key: "bench/objects/0042",
        size: 16 << 10,
        content_type: Some("application/octet-stream"),
        metadata: &metadata,
        requested_ttl_ms: None,
        now_ms: NOW_MS,
    };
    let read = ReadInfo {
        key: "bench/objects/0042",
        size: 16 << 10,
        content_type: Some("application/octet-stream"),
        metadata: &metadata,
        served_by: TierId::Warm,
        age_ms: 60_000,
        access_count: 3,
        frequency: 3,
        expires_in_ms: None,
        now_ms: NOW_MS,
    };
    // Fill each order with RESIDENTS objects (a full tier: their bytes are
    // the budget the admissions below evict against).
    let mut arrivals = Events::new(TierId::Hot);
    for id in 0..RESIDENTS {
        arrivals.push(ARRIVAL, id, SIZE, 0);
    }
    for (_, policy) in policies {
        policy.observe(&arrivals);
    }
    let mut hits = Events::new(TierId::Hot);
    for i in 0..64 {
        hits.push(HIT, (i * 61) % RESIDENTS, SIZE, 0);
    }
    let none = Events::new(TierId::Hot);

    let mut group = c.benchmark_group("place");
    for (name, policy) in policies {
        group.bench_function(name, |b| b.iter(|| policy.place(black_box(&write))));
    }
    group.finish();

    let mut group = c.benchmark_group("place_keyed");
    for (name, policy) in keyed {
        group.bench_function(name, |b| b.iter(|| policy.place(black_box(&write))));
    }
    group.finish();

    let mut group = c.benchmark_group("promote");
    for (name, policy) in policies {
        group.bench_function(name, |b| b.iter(|| policy.promote(black_box(&read))));
    }
    group.finish();

    let mut group = c.benchmark_group("observe64");
    for (name, policy) in policies {
        group.bench_function(name, |b| b.iter(|| policy.observe(black_box(&hits))));
    }
    group.finish();

    let mut group = c.benchmark_group("admit_evict1");
    for (name, policy) in policies {
        let mut next = RESIDENTS;
        group.bench_function(name, |b| {
            b.iter(|| {
                next += 1;
                policy.admit(&none, Arrival { id: next, size: SIZE, class: 0 }, SIZE)
            })
        });
    }
    group.finish();

    // A fallback would mean the numbers above are not the policy's. A wall-clock
    // deadline can fire on a starved machine (a call preempted for 20 ms), so
    // report rather than fail.
    for policy in [&wasm, &wasm_keyed] {
        let counters = policy.counters();
        if counters.fallbacks > 0 {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("warning: {} of {} wasm calls fell back: {counters:?}", counters.fallbacks, counters.calls);
            }
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
