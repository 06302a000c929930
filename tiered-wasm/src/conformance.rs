//! The conformance kit behind `tiered policy check FILE.wasm --conformance`:
//! what every policy must do, whatever its language.
//!
//! 1. **Answered**: every decision of the battery ([`super::probes`]) is
//!    answered by the policy itself, never by the fallback: no trap, no
//!    overrun deadline.
//! 2. **No trap on edge inputs**: a 1024-byte key (ASCII and multibyte),
//!    size 0, size 2^63, no metadata, extreme counters, an expired object;
//!    for an ordered policy also an empty order asked to evict everything,
//!    ids it never saw, removals twice, 1024 residents, zero-byte objects.
//! 3. **Deterministic**: the same input asked twice of one policy, and once
//!    of a second, freshly configured one, gets the same answer (the host
//!    pools and rebuilds instances at will, and rebuilds a lost order from
//!    the same events).
//! 4. **Within the limits**: all of it under the [`PolicyLimits`] given (the
//!    CLI uses the defaults `tiered serve` runs with), so a call that loops or
//!    allocates without bound fails the kit.
//! 5. **Counts what it holds** (an ordered policy): a fresh order handed
//!    arrivals, removals, host evictions, an admission and an eviction
//!    answers `residents` with the count the host keeps at each step (the
//!    host checks this in service and rebuilds an order that disagrees).
//!
//! A failed load (not a component, wrong world, rejected configuration) is an
//! error, as for [`super::check`].

use std::fmt;
use std::time::Instant;

use serde::Serialize;

use super::probes::{self, Probe};
use super::{PolicyEngine, PolicyLimits, PolicyLoadError, WasmPolicy};
use tiered::policy::{Capacities, Policy, PolicyCounters};

/// Budgets the kit configures the policy with (`tiered serve` defaults).
const CAPACITIES: Capacities = Capacities { hot_bytes: 256 << 20, warm_bytes: 4 << 30 };

/// The outcome of [`conformance`].
#[derive(Clone, Debug, Serialize)]
pub struct ConformanceReport {
    /// Every check passed.
    pub ok: bool,
    pub checks: Vec<ConformanceCheck>,
    /// Counters of the first instance after the battery.
    pub counters: PolicyCounters,
}

/// One decision of the kit.
#[derive(Clone, Debug, Serialize)]
pub struct ConformanceCheck {
    pub name: &'static str,
    /// `ordinary` or `edge`.
    pub kind: &'static str,
    pub passed: bool,
    /// The policy's answer, or what went wrong.
    pub detail: String,
    /// Wall time of the first call.
    pub elapsed_ns: u64,
}

/// Loads `wasm` twice (two independent instances) with `config` under
/// `limits`, and runs the kit.
pub fn conformance(
    engine: &PolicyEngine,
    wasm: &[u8],
    config: &[(String, String)],
    limits: PolicyLimits,
) -> Result<ConformanceReport, PolicyLoadError> {
    // The kit judges the policy itself: never throttled.
    let limits = limits.unthrottled();
    let first = WasmPolicy::load(engine, wasm, config, CAPACITIES, limits)?;
    let second = WasmPolicy::load(engine, wasm, config, CAPACITIES, limits)?;
    let battery = probes::ordinary().into_iter().map(|(n, p)| (n, "ordinary", p));
    let battery = battery.chain(probes::edges().into_iter().map(|(n, p)| (n, "edge", p)));
    let mut checks: Vec<ConformanceCheck> =
        battery.map(|(name, kind, probe)| run(name, kind, &probe, &first, &second)).collect();
    if first.keeps_order() {
        let fresh = WasmPolicy::load(engine, wasm, config, CAPACITIES, limits)?;
        let started = Instant::now();
        let outcome = counts(&fresh);
        let elapsed_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let (passed, detail) = match outcome {
            Ok(detail) => (true, detail),
            Err(detail) => (false, detail),
        };
        checks.push(ConformanceCheck {
            name: "order: counts its residents",
            kind: "ordinary",
            passed,
            detail,
            elapsed_ns,
        });
    }
    Ok(ConformanceReport { ok: checks.iter().all(|c| c.passed), checks, counters: first.counters() })
}

/// Asks `probe` of `first` twice and of `second` once.
fn run(
    name: &'static str,
    kind: &'static str,
    probe: &Probe,
    first: &WasmPolicy,
    second: &WasmPolicy,
) -> ConformanceCheck {
    let before = first.counters();
    let started = Instant::now();
    let answer = probe.ask(first);
    let elapsed_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let check = |passed, detail| ConformanceCheck { name, kind, passed, detail, elapsed_ns };
    if let Some(why) = failure(&before, &first.counters()) {
        return check(false, format!("{why}; the fallback answered"));
    }
    let again = probe.ask(first);
    if let Some(why) = failure(&before, &first.counters()) {
        return check(false, format!("{why} when asked again"));
    }
    let other_before = second.counters();
    let other = probe.ask(second);
    if let Some(why) = failure(&other_before, &second.counters()) {
        return check(false, format!("{why} in a second instance"));
    }
    if again != answer {
        return check(false, format!("not deterministic: {} then {}", short(&answer), short(&again)));
    }
    if other != answer {
        return check(false, format!("instances disagree: {} vs {}", short(&answer), short(&other)));
    }
    check(true, short(&answer))
}

/// Check 5: the count of a fresh order, step by step, against the host's.
fn counts(policy: &WasmPolicy) -> Result<String, String> {
    use std::collections::BTreeSet;
    use tiered::policy::order::{ARRIVAL, HOST_EVICTION, REMOVAL};
    use tiered::policy::{Admission, Arrival, Events, TierId};

    const SIZE: u64 = 4096;
    let mut held = BTreeSet::new();
    let mut steps = Vec::new();
    let mut ask = |step: &str, events: &Events, held: &BTreeSet<u64>| -> Result<(), String> {
        let before = policy.counters();
        let answer = policy.residents(events);
        if let Some(why) = failure(&before, &policy.counters()) {
            return Err(format!("{step}: {why}"));
        }
        match answer {
            Some(n) if n == held.len() as u64 => {
                steps.push(n.to_string());
                Ok(())
            }
            Some(n) => Err(format!("{step}: counts {n}, the host holds {}", held.len())),
            None => Err(format!("{step}: no count")),
        }
    };
    let mut events = Events::new(TierId::Hot);
    for id in 1..=100 {
        events.push(ARRIVAL, id, SIZE, 0);
        held.insert(id);
    }
    ask("100 arrivals", &events, &held)?;
    let mut events = Events::new(TierId::Hot);
    for id in (1..=10).chain([1, 5000, 5001]) {
        events.push(REMOVAL, id, SIZE, 0);
        held.remove(&id);
    }
    for id in 11..=15 {
        events.push(HOST_EVICTION, id, SIZE, 0);
        held.remove(&id);
    }
    ask("removals (some twice, some unknown) and host evictions", &events, &held)?;
    // What the host keeps of an answer: victims it holds, each once.
    let take = |victims: Vec<u64>, held: &mut BTreeSet<u64>| {
        for v in victims {
            held.remove(&v);
        }
    };
    match policy.admit(&Events::new(TierId::Hot), Arrival { id: 200, size: SIZE, class: 0 }, 2 * SIZE) {
        Admission::Admit(victims) => {
            take(victims, &mut held);
            held.insert(200);
        }
        Admission::Refuse => {}
    }
    ask("an admission against two victims", &Events::new(TierId::Hot), &held)?;
    take(policy.evict(&Events::new(TierId::Hot), 3 * SIZE), &mut held);
    ask("an eviction of three", &Events::new(TierId::Hot), &held)?;
    ask("the other tier, untouched", &Events::new(TierId::Warm), &BTreeSet::new())?;
    Ok(format!("residents {}", steps.join(", ")))
}

/// What the policy did wrong between two counter snapshots, if anything.
fn failure(before: &PolicyCounters, after: &PolicyCounters) -> Option<String> {
    if after.fallbacks == before.fallbacks {
        return None;
    }
    let why: Vec<&str> =
        [(after.traps > before.traps, "trapped"), (after.timeouts > before.timeouts, "ran past its deadline")]
            .into_iter()
            .filter_map(|(happened, what)| happened.then_some(what))
            .collect();
    Some(why.join(", "))
}

/// An answer cut to a readable length (a 1024-verdict list is long).
fn short(answer: &str) -> String {
    const MAX: usize = 160;
    match answer.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}… ({} bytes)", &answer[..cut], answer.len()),
        None => answer.to_owned(),
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "conformance ({} checks: shape, edge inputs, determinism, limits)", self.checks.len())?;
        for c in &self.checks {
            let mark = if c.passed { "ok  " } else { "FAIL" };
            writeln!(f, "  {mark} {:<8} {:<34} {}", c.kind, c.name, c.detail)?;
        }
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        if failed == 0 { write!(f, "conformance OK") } else { write!(f, "conformance FAILED: {failed} check(s)") }
    }
}
