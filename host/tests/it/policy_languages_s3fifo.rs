//! S3-FIFO in four languages: the library's Rust component
//! (`examples/policies/algorithms/s3fifo`) and the Python, JavaScript and C
//! versions (`examples/policies/s3fifo-{python,js,c}`) answer every call of
//! one recorded run of a million events identically, place and promote
//! alike, and reject the same configurations with the same message.
//!
//! The run is a host in miniature driving two cache tiers in lockstep
//! through all four: a Zipf-like stream of reads over 64-bit ids (a hit is
//! an event; a miss an `admit` with the bytes to free), removals, arrivals
//! the policy is not asked about, host evictions, explicit `evict` calls,
//! `observe` and `residents`. Hot sees objects of many sizes (some larger
//! than the small queue, refused); warm sees objects of one size, counted
//! as libCacheSim's one-byte objects. Every answer is compared with the
//! Rust one before the run goes on, and the time each language spends in its
//! calls is reported per event.
//!
//! The components are built by `examples/policies/build-all.sh` (see
//! `support/examples.rs` for a missing one); the Rust one by the
//! `tiered-algorithms` crate.

use super::policy_languages::{engine, pairs, relaxed};
use crate::support::decisions;
use crate::support::examples;
use crate::support::rng::Rng;

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::time::{Duration, Instant};

use tiered::policy::order::{ARRIVAL, HIT, HOST_EVICTION, REMOVAL};
use tiered::policy::{Admission, Arrival, Capacities, Events, Policy, TierId};
use tiered_wasm::{PolicyEngine, PolicyLoadError, WasmPolicy};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Events of the recorded run (each event of a batch and each arrival asked
/// about counts one).
const EVENTS: u64 = 1_000_000;
/// Hot: about 2200 objects of 100 B to 20 KB (small holds 0.8 MiB);
/// warm: 4000 objects of 4 KiB. About three reads in four hit, so the run
/// makes about one call for every three events.
const CAPACITIES: Capacities = Capacities { hot_bytes: 8 << 20, warm_bytes: 4000 * 4096 };
/// Distinct keys and the skew of their popularity.
const KEYS: usize = 20_000;
const ZIPF_ALPHA: f64 = 1.0;

/// Every built version, Rust first: `(language, component)`; `None` when
/// fewer than two can be compared (and examples are not required).
fn versions() -> Option<Vec<(&'static str, Vec<u8>)>> {
    let rust = tiered_algorithms::get("s3fifo").expect("the library has S3-FIFO");
    let mut all = vec![("rust", rust.wasm.to_vec())];
    for (folder, language) in examples::S3FIFO {
        if let Some(wasm) = examples::load(folder) {
            all.push((language, wasm));
        }
    }
    if examples::required() {
        assert_eq!(all.len(), examples::S3FIFO.len() + 1, "every version is compared");
    }
    (all.len() >= 2).then_some(all)
}

fn load(engine: &PolicyEngine, config: &[(&str, &str)]) -> Result<Option<Vec<(&'static str, WasmPolicy)>>> {
    let Some(versions) = versions() else { return Ok(None) };
    let mut loaded = Vec::new();
    for (language, wasm) in versions {
        loaded.push((language, WasmPolicy::load(engine, &wasm, &pairs(config), CAPACITIES, relaxed())?));
    }
    Ok(Some(loaded))
}

/// A 64-bit id for key `k` (SplitMix64's finaliser): the host's ids are
/// hashes, so most are above 2^53.
fn id_of(key: usize) -> u64 {
    let mut z = (key as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hot sizes: log-uniform from 100 B to 20 KB, one key in 500 of 1 MB (larger
/// than the small queue: refused). Warm: 4 KiB.
fn size_of(tier: TierId, key: usize) -> u64 {
    if tier == TierId::Warm {
        return 4096;
    }
    let h = id_of(key ^ 0x5A5A_5A5A);
    if h.is_multiple_of(500) {
        return 1_000_000;
    }
    (100.0 * 200f64.powf((h >> 11) as f64 / (1u64 << 53) as f64)) as u64
}

/// Cumulative Zipf weights of the keys, for sampling by binary search.
fn zipf_cdf() -> Vec<f64> {
    let mut cdf = Vec::with_capacity(KEYS);
    let mut sum = 0.0;
    for rank in 1..=KEYS {
        sum += 1.0 / (rank as f64).powf(ZIPF_ALPHA);
        cdf.push(sum);
    }
    cdf
}

/// The host's side of one cache tier: what it holds, in arrival order for
/// its own evictions, and the events the policy has not heard yet.
struct TierModel {
    tier: TierId,
    budget: u64,
    used: u64,
    held: HashMap<u64, u64>,
    arrived: VecDeque<u64>,
    pending: Events,
}

impl TierModel {
    fn new(tier: TierId, budget: u64) -> TierModel {
        TierModel { tier, budget, used: 0, held: HashMap::new(), arrived: VecDeque::new(), pending: Events::new(tier) }
    }

    fn take_events(&mut self) -> Events {
        std::mem::replace(&mut self.pending, Events::new(self.tier))
    }

    fn enter(&mut self, id: u64, size: u64) {
        self.held.insert(id, size);
        self.used += size;
        self.arrived.push_back(id);
    }

    fn leave(&mut self, id: u64) -> bool {
        match self.held.remove(&id) {
            Some(size) => {
                self.used -= size;
                true
            }
            None => false,
        }
    }

    /// The host's own order: its oldest arrival still held leaves, reported
    /// as a host eviction.
    fn evict_oldest(&mut self) -> bool {
        while let Some(id) = self.arrived.pop_front() {
            if let Some(&size) = self.held.get(&id) {
                self.leave(id);
                self.pending.push(HOST_EVICTION, id, size, 0);
                return true;
            }
        }
        false
    }

    /// The victims of an answer leave (each must be held); the host makes
    /// up a shortfall with its own evictions.
    fn apply_victims(&mut self, victims: &[u64], room_for: u64, call: u64) {
        for &victim in victims {
            assert!(self.leave(victim), "call {call}: {victim} named as a victim but not held in {:?}", self.tier);
        }
        while self.used + room_for > self.budget && self.evict_oldest() {}
    }
}

/// The four versions in lockstep: each call asked of every one, every
/// answer compared with the first (Rust) one, the time in each counted.
struct Lockstep<'a> {
    versions: &'a [(&'static str, WasmPolicy)],
    spent: Vec<Duration>,
    calls: u64,
}

impl Lockstep<'_> {
    fn ask<A: PartialEq + std::fmt::Debug>(&mut self, what: &str, call: impl Fn(&WasmPolicy) -> A) -> A {
        let mut answers = Vec::with_capacity(self.versions.len());
        for (i, (_, policy)) in self.versions.iter().enumerate() {
            let began = Instant::now();
            let answer = call(policy);
            self.spent[i] += began.elapsed();
            answers.push(answer);
        }
        let (reference_language, _) = self.versions[0];
        for ((language, _), answer) in self.versions.iter().zip(&answers).skip(1) {
            assert_eq!(
                answer, &answers[0],
                "call {}, {what}: {language} differs from {reference_language}",
                self.calls
            );
        }
        self.calls += 1;
        answers.swap_remove(0)
    }
}

/// What the recorded run exercised.
#[derive(Debug, Default)]
struct Tally {
    events: u64,
    hits: u64,
    admitted: u64,
    refused: u64,
    victims: u64,
    evict_calls: u64,
    arrivals: u64,
    removals: u64,
    host_evictions: u64,
    residents_calls: u64,
}

#[test]
fn the_four_s3fifo_versions_answer_a_million_events_identically() -> Result {
    let engine = engine()?;
    let Some(versions) = load(&engine, &[("ghost-size-ratio", "0.9")])? else { return Ok(()) };
    for (language, policy) in &versions {
        let id = policy.identity();
        assert_eq!(id.name, "s3fifo", "{language}");
        let suffix = if *language == "rust" { String::new() } else { format!("+{language}") };
        assert_eq!(id.version, format!("0.1.0{suffix}"), "{language}");
    }

    let cdf = zipf_cdf();
    let total = *cdf.last().expect("keys");
    let mut rng = Rng::new(0x5333_4649_464F_0001);
    let mut tiers =
        [TierModel::new(TierId::Hot, CAPACITIES.hot_bytes), TierModel::new(TierId::Warm, CAPACITIES.warm_bytes)];
    let mut run = Lockstep { versions: &versions, spent: vec![Duration::ZERO; versions.len()], calls: 0 };
    let mut tally = Tally::default();
    let began = Instant::now();

    while tally.events < EVENTS {
        let t = &mut tiers[usize::from(rng.below(5) == 0)];
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let key = cdf.partition_point(|&c| c < u).min(KEYS - 1);
        let (id, size) = (id_of(key), size_of(t.tier, key));
        match rng.below(1000) {
            // A delete or overwrite (sometimes of an object the tier lacks).
            0..=19 => {
                let size = t.held.get(&id).copied().unwrap_or(size);
                t.leave(id);
                t.pending.push(REMOVAL, id, size, 0);
                tally.removals += 1;
            }
            // The host's own order evicts.
            20..=22 => {
                tally.host_evictions += u64::from(t.evict_oldest());
            }
            // An object enters without an admission (a fill while the
            // policy was failing); over budget, the host asks for victims.
            23..=27 if !t.held.contains_key(&id) => {
                t.enter(id, size);
                t.pending.push(ARRIVAL, id, size, 0);
                tally.arrivals += 1;
                if t.used > t.budget {
                    let need = t.used - t.budget;
                    let events = t.take_events();
                    tally.events += events.len() as u64;
                    let victims = run.ask("evict", |p| p.evict(&events, need));
                    tally.evict_calls += 1;
                    tally.victims += victims.len() as u64;
                    t.apply_victims(&victims, 0, run.calls);
                }
            }
            // A buffer drained without a decision.
            28..=29 => {
                let events = t.take_events();
                tally.events += events.len() as u64;
                run.ask("observe", |p| p.observe(&events));
            }
            // The host compares counts now and then.
            30 => {
                let events = t.take_events();
                tally.events += events.len() as u64;
                let count = run.ask("residents", |p| p.residents(&events));
                assert_eq!(count, Some(t.held.len() as u64), "call {}: the orders' count", run.calls);
                tally.residents_calls += 1;
            }
            // A read: a hit is an event, a miss asks to admit.
            _ if t.held.contains_key(&id) => {
                t.pending.push(HIT, id, t.held[&id], 0);
                tally.hits += 1;
            }
            _ => {
                let events = t.take_events();
                tally.events += events.len() as u64 + 1;
                let need = (t.used + size).saturating_sub(t.budget);
                let arrival = Arrival { id, size, class: 0 };
                match run.ask("admit", |p| p.admit(&events, arrival, need)) {
                    Admission::Refuse => tally.refused += 1,
                    Admission::Admit(victims) => {
                        tally.admitted += 1;
                        tally.victims += victims.len() as u64;
                        t.apply_victims(&victims, size, run.calls);
                        t.enter(id, size);
                    }
                }
            }
        }
    }
    let wall = began.elapsed();

    for (language, policy) in &versions {
        assert_eq!(policy.counters().fallbacks, 0, "{language} needed the fallback: {:?}", policy.counters());
    }
    // The run must exercise every path worth comparing.
    let t = &tally;
    assert!(t.hits > 100_000 && t.admitted > 100_000 && t.refused > 100 && t.victims > 100_000, "{t:?}");
    assert!(t.evict_calls > 100 && t.arrivals > 1000 && t.removals > 1000 && t.host_evictions > 100, "{t:?}");
    let costs: Vec<String> = versions
        .iter()
        .zip(&run.spent)
        .map(|((language, _), spent)| format!("{language} {:.2} µs", spent.as_secs_f64() * 1e6 / t.events as f64))
        .collect();
    // Written to stderr directly (shown for a passing test too): the figures
    // of BENCHMARKS.md, "S3-FIFO in four languages".
    let _ = writeln!(
        std::io::stderr(),
        "s3fifo, {} events in {} calls ({:.1} s): time in the policy per event: {}\n{t:?}",
        t.events,
        run.calls,
        wall.as_secs_f64(),
        costs.join(", ")
    );
    Ok(())
}

#[test]
fn the_four_s3fifo_versions_place_promote_and_parse_alike() -> Result {
    let engine = engine()?;
    let accepted: [&[(&str, &str)]; 4] = [
        &[],
        &[("small-size-ratio", " +.25e0\u{a0}"), ("move-to-main-threshold", "\t0003 ")],
        &[("ghost-size-ratio", "4"), ("small-size-ratio", "-0"), ("move-to-main-threshold", "255")],
        &[("small-size-ratio", "1e-400"), ("ghost-size-ratio", "0.")],
    ];
    for config in accepted {
        let Some(versions) = load(&engine, config)? else { return Ok(()) };
        let sequence = decisions::sequence(300);
        let expected: Vec<String> = sequence.iter().map(|d| d.ask(&versions[0].1)).collect();
        for (language, policy) in &versions[1..] {
            for (i, (decision, want)) in sequence.iter().zip(&expected).enumerate() {
                assert_eq!(&decision.ask(policy), want, "call {i}, {decision:?}: {language} differs from rust");
            }
        }
    }

    let rejected: [&[(&str, &str)]; 12] = [
        &[("small-size-ratio", "1.5")],
        &[("small-size-ratio", "NaN")],
        &[("small-size-ratio", "-inf")],
        &[("small-size-ratio", "0x1")],
        &[("ghost-size-ratio", " x\t\"\\\u{1}\u{7f}")],
        &[("ghost-size-ratio", "1e")],
        &[("ghost-size-ratio", "4.0000001")],
        &[("move-to-main-threshold", "0")],
        &[("move-to-main-threshold", "-1")],
        &[("move-to-main-threshold", "4294967296")],
        &[("move-to-main-threshold", "2"), ("move-to-main-threshold", "3")],
        &[("small-size-ratio", "0.2"), ("small_size_ratio", "0.2")],
    ];
    let Some(versions) = versions() else { return Ok(()) };
    for config in rejected {
        let mut messages = Vec::new();
        for (language, wasm) in &versions {
            match WasmPolicy::load(&engine, wasm, &pairs(config), CAPACITIES, relaxed()) {
                Err(PolicyLoadError::ConfigRejected(message)) => messages.push((language, message)),
                other => panic!("{language} must reject {config:?}, got {:?}", other.map(|p| p.identity())),
            }
        }
        let (_, reference) = &messages[0];
        assert!(reference.starts_with("[policy_config] "), "{reference}");
        for (language, message) in &messages[1..] {
            assert_eq!(message, reference, "{language} on {config:?}");
        }
    }
    Ok(())
}
