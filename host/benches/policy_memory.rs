//! What the default policy's eviction order costs in memory: the embedded
//! component, configured for a hot tier sized for the objects, is handed
//! 1,000,000 residents (as the host hands them over: arrival events in
//! batches of 4096), and then as many arrivals again through `admit` (so the
//! ghost fills too); the linear memory of its instances is read after each
//! phase. Prints one Markdown table for BENCHMARKS.md.
//!
//! ```sh
//! cargo bench -p tiered-host --bench policy_memory
//! ```

#![allow(clippy::print_stdout)]

use tiered::policy::order::ARRIVAL;
use tiered::policy::{Arrival, BuiltinPolicy, Capacities, Events, Policy, TierId};
use tiered_wasm::{DEFAULT_POLICY_WASM, PolicyEngine, PolicyLimits, WasmPolicy};

const OBJECTS: u64 = 1_000_000;
const SIZE: u64 = 1024;
const BATCH: u64 = 4096;

fn main() {
    let capacities = Capacities { hot_bytes: OBJECTS * SIZE, warm_bytes: 0 };
    let engine = PolicyEngine::new(None).expect("engine");
    // The order's memory limit (1 GiB, the default) holds it. The deadline
    // is generous: the slowest call is measured and printed instead.
    let limits = PolicyLimits {
        order_memory_bytes: 1 << 30,
        deadline: std::time::Duration::from_secs(10),
        ..PolicyLimits::default()
    }
    .unthrottled();
    let policy = WasmPolicy::load(&engine, DEFAULT_POLICY_WASM, &[], capacities, limits).expect("loads");
    let native = BuiltinPolicy::new(&[], capacities).expect("configures");
    let memory = || policy.counters().memory_bytes;
    let before = memory();

    let started = std::time::Instant::now();
    let mut slowest = std::time::Duration::ZERO;
    for start in (0..OBJECTS).step_by(BATCH as usize) {
        let mut events = Events::new(TierId::Hot);
        for id in start..(start + BATCH).min(OBJECTS) {
            events.push(ARRIVAL, id, SIZE, 0);
        }
        let call = std::time::Instant::now();
        policy.observe(&events);
        slowest = slowest.max(call.elapsed());
        native.observe(&events);
    }
    let handed = started.elapsed();
    let slowest_handover = slowest;
    let residents = memory();

    let none = Events::new(TierId::Hot);
    let mut slowest = std::time::Duration::ZERO;
    for id in OBJECTS..2 * OBJECTS {
        let arrival = Arrival { id, size: SIZE, class: 0 };
        let call = std::time::Instant::now();
        policy.admit(&none, arrival, SIZE);
        slowest = slowest.max(call.elapsed());
    }
    let slowest_admit = slowest;
    let churned = memory();
    let counters = policy.counters();
    assert_eq!(counters.fallbacks, 0, "every call answered by the policy: {counters:?}");

    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!("| phase | linear memory of the policy's instances | per resident | slowest call |");
    println!("|---|---:|---:|---:|");
    println!("| configured (the pooled instance) | {:.1} MiB | | |", mib(before));
    println!(
        "| {OBJECTS} residents handed over ({:.2} s, batches of {BATCH}) | {:.1} MiB | {:.0} B | {:.1} ms |",
        handed.as_secs_f64(),
        mib(residents),
        (residents - before) as f64 / OBJECTS as f64,
        slowest_handover.as_secs_f64() * 1e3
    );
    println!(
        "| + {OBJECTS} admissions (each evicts one; the ghost fills) | {:.1} MiB | {:.0} B | {:.1} ms |",
        mib(churned),
        (churned - before) as f64 / OBJECTS as f64,
        slowest_admit.as_secs_f64() * 1e3
    );
}
