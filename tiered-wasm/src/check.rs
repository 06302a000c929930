//! The battery behind `tiered policy check FILE.wasm`: load the component,
//! ask it a fixed set of decisions, time each one (the median of
//! [`TIMED_CALLS`] calls, or of as many as fit in [`TIME_BUDGET`]), and report
//! who the policy is, what it answered, how fast, and whether any call needed
//! the fallback. A policy that fails any call of the battery fails the check
//! (`ok = false`, with the reasons).
//!
//! The check is bounded in time: at most [`TIME_BUDGET`] (plus one call) per
//! decision, so a policy that takes 15 ms a call is checked in seconds, not
//! the minutes a fixed count would take. A decision that fails on its first
//! call is not timed at all.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{PolicyEngine, PolicyLimits, PolicyLoadError, WasmPolicy};
use std::cell::Cell;

use tiered::policy::order::{ARRIVAL, HIT};
use tiered::policy::{
    Admission, Arrival, Capacities, Events, Policy, PolicyCounters, PolicyIdentity, ReadInfo, TierId, TierSet,
    WriteInfo,
};

/// Most calls timed per decision.
pub const TIMED_CALLS: usize = 1000;

/// Longest time spent timing one decision: timing stops at [`TIMED_CALLS`]
/// calls or after this long, whichever comes first.
pub const TIME_BUDGET: Duration = Duration::from_secs(1);

/// Budgets the battery configures the policy with (`tiered serve` defaults).
const CAPACITIES: Capacities = Capacities { hot_bytes: 256 << 20, warm_bytes: 16 << 30 };

/// The outcome of [`check`].
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// No call of the battery needed the fallback.
    pub ok: bool,
    pub identity: PolicyIdentity,
    /// Time to compile (or load from cache), instantiate and configure.
    pub load_ns: u64,
    pub loaded_from_cache: bool,
    pub calls: Vec<CallTiming>,
    pub counters: PolicyCounters,
    /// Why the check failed; empty when `ok`.
    pub problems: Vec<String>,
}

/// One decision of the battery.
#[derive(Clone, Debug, Serialize)]
pub struct CallTiming {
    pub name: &'static str,
    /// What the policy answered, for a human.
    pub answer: String,
    /// Median wall time of one call, `None` when the call failed.
    pub median_ns: Option<u64>,
    /// Calls the median is taken over (0 when the call failed).
    pub timed_calls: usize,
}

/// Loads `wasm` with `config` and runs the battery under the default
/// [`PolicyLimits`] (those `tiered serve` uses). Load failures (not a
/// component, wrong world, rejected configuration...) are errors; failing
/// decisions are reported in the [`CheckReport`].
pub fn check(engine: &PolicyEngine, wasm: &[u8], config: &[(String, String)]) -> Result<CheckReport, PolicyLoadError> {
    check_with(engine, wasm, config, PolicyLimits::default())
}

/// [`check`] under other limits. The deadline is wall-clock time: on a
/// starved machine a preempted call can overrun it, so tests that must not
/// see timeouts give a generous one.
pub fn check_with(
    engine: &PolicyEngine,
    wasm: &[u8],
    config: &[(String, String)],
    limits: PolicyLimits,
) -> Result<CheckReport, PolicyLoadError> {
    let started = Instant::now();
    // The battery measures the policy itself: never throttled.
    let limits = limits.unthrottled();
    let policy = WasmPolicy::load(engine, wasm, config, CAPACITIES, limits)?;
    let load_ns = nanos(started);

    let metadata = BTreeMap::new();
    let write = |size| WriteInfo {
        key: "check/object",
        size,
        content_type: Some("application/octet-stream"),
        metadata: &metadata,
        requested_ttl_ms: None,
        now_ms: 1_700_000_000_000,
    };
    let read = |served_by| ReadInfo {
        key: "check/object",
        size: 4096,
        content_type: Some("application/octet-stream"),
        metadata: &metadata,
        served_by,
        age_ms: 60_000,
        access_count: 3,
        frequency: 3,
        expires_in_ms: None,
        now_ms: 1_700_000_000_000,
    };
    // The order calls of the battery: fresh ids for every arrival, so a
    // repeated call is one more object through the order.
    let next_id = Cell::new(1u64 << 32);
    let fresh = || {
        let id = next_id.get();
        next_id.set(id + 1);
        id
    };
    let hits = sample_events(64);

    type Decision<'a> = Box<dyn Fn(&WasmPolicy) -> String + 'a>;
    let battery: Vec<(&'static str, Decision<'_>)> = vec![
        ("place 4 KiB", Box::new(|p| placement(p, &write(4 << 10)))),
        ("place 64 MiB", Box::new(|p| placement(p, &write(64 << 20)))),
        ("promote from warm", Box::new(|p| tiers(p.promote(&read(TierId::Warm))))),
        ("promote from cold", Box::new(|p| tiers(p.promote(&read(TierId::Cold))))),
        ("observe 64 events", Box::new(|p| observed(p, &hits))),
        ("admit, room to spare", Box::new(|p| admitted(p, fresh(), 0))),
        ("admit against 1 victim", Box::new(|p| admitted(p, fresh(), 4096))),
        ("evict 4 KiB", Box::new(|p| evicted(p, 4096))),
    ];

    let mut calls = Vec::with_capacity(battery.len());
    let mut problems = Vec::new();
    for (name, decide) in &battery {
        let before = policy.counters();
        let answer = decide(&policy);
        if let Some(why) = failed(&before, &policy.counters()) {
            problems.push(format!("{name}: {why}; the fallback answered"));
            let answer = format!("{answer} (fallback)");
            calls.push(CallTiming { name, answer, median_ns: None, timed_calls: 0 });
            continue;
        }
        let mut times: Vec<u64> = Vec::with_capacity(TIMED_CALLS);
        let timing = Instant::now();
        while times.len() < TIMED_CALLS && timing.elapsed() < TIME_BUDGET {
            let t = Instant::now();
            std::hint::black_box(decide(&policy));
            times.push(nanos(t));
        }
        if let Some(why) = failed(&before, &policy.counters()) {
            problems.push(format!("{name}: {why} when called repeatedly"));
        }
        times.sort_unstable();
        let timed_calls = times.len();
        calls.push(CallTiming { name, answer, median_ns: Some(times[timed_calls / 2]), timed_calls });
    }

    Ok(CheckReport {
        ok: problems.is_empty(),
        identity: policy.identity(),
        load_ns,
        loaded_from_cache: policy.loaded_from_cache(),
        calls,
        counters: policy.counters(),
        problems,
    })
}

/// What went wrong between two counter snapshots, if anything.
fn failed(before: &PolicyCounters, after: &PolicyCounters) -> Option<String> {
    if after.fallbacks == before.fallbacks {
        return None;
    }
    let mut why = Vec::new();
    for (n, what) in
        [(after.traps - before.traps, "trapped"), (after.timeouts - before.timeouts, "ran past its deadline")]
    {
        if n > 0 {
            why.push(format!("{what} ({n}×)"));
        }
    }
    Some(why.join(", "))
}

fn nanos(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn placement(policy: &WasmPolicy, write: &WriteInfo<'_>) -> String {
    let p = policy.place(write);
    let ttl = p.ttl_ms.map_or("never expires".to_string(), |ms| format!("ttl {ms} ms"));
    format!("{}, {ttl}", tiers(p.tiers))
}

fn tiers(set: TierSet) -> String {
    match (set.hot, set.warm) {
        (true, true) => "hot + warm",
        (true, false) => "hot",
        (false, true) => "warm",
        (false, false) => "cold only",
    }
    .into()
}

fn observed(policy: &WasmPolicy, events: &Events) -> String {
    if !policy.keeps_order() {
        return "no order (the host's CLOCK evicts)".into();
    }
    policy.observe(events);
    format!("{} events applied", events.len())
}

fn admitted(policy: &WasmPolicy, id: u64, need: u64) -> String {
    if !policy.keeps_order() {
        return "no order (the host's CLOCK evicts)".into();
    }
    match policy.admit(&Events::new(TierId::Hot), Arrival { id, size: 4096, class: 0 }, need) {
        Admission::Refuse => "refused".into(),
        Admission::Admit(victims) => format!("admitted, {} victim(s)", victims.len()),
    }
}

fn evicted(policy: &WasmPolicy, need: u64) -> String {
    if !policy.keeps_order() {
        return "no order (the host's CLOCK evicts)".into();
    }
    format!("{} victim(s)", policy.evict(&Events::new(TierId::Hot), need).len())
}

/// A batch of `n` hot-tier events: `n / 2` arrivals of 4 KiB objects, then
/// a hit on each: the batch the check feeds, and the one the policy
/// benchmarks deliver.
pub fn sample_events(n: u64) -> Events {
    let mut events = Events::new(TierId::Hot);
    for i in 0..n / 2 {
        events.push(ARRIVAL, i, 4096, 0);
    }
    for i in 0..n - n / 2 {
        events.push(HIT, i % (n / 2).max(1), 4096, 0);
    }
    events
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = &self.identity;
        writeln!(f, "policy     {} {}", id.name, id.version)?;
        writeln!(f, "interface  {}", id.interface)?;
        writeln!(f, "sha256     {}", id.sha256.as_deref().unwrap_or("-"))?;
        let how = if self.loaded_from_cache { "from the compile cache" } else { "compiled" };
        writeln!(f, "loaded     in {} ({how})", human_ns(self.load_ns))?;
        writeln!(f)?;
        writeln!(f, "{:<20} {:>10} {:>6}  answer", "decision", "median", "calls")?;
        for c in &self.calls {
            let median = c.median_ns.map_or("failed".to_string(), human_ns);
            writeln!(f, "{:<20} {median:>10} {:>6}  {}", c.name, c.timed_calls, c.answer)?;
        }
        writeln!(
            f,
            "(each median over the calls timed: {TIMED_CALLS} per decision, or as many as fit in {} s)",
            TIME_BUDGET.as_secs_f64()
        )?;
        writeln!(f)?;
        let c = &self.counters;
        writeln!(f, "{} calls, {} fallbacks, {} rebuilds", c.calls, c.fallbacks, c.rebuilds)?;
        if self.ok {
            write!(f, "OK")
        } else {
            writeln!(f, "FAILED:")?;
            for p in &self.problems {
                writeln!(f, "  - {p}")?;
            }
            Ok(())
        }
    }
}

fn human_ns(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.1} µs", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}
