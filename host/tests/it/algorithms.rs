//! The eviction algorithm library (`examples/policies/algorithms`) against
//! libCacheSim: each algorithm, as a policy component replayed through the
//! engine by `tiered simulate` in exact mode, gives libCacheSim's miss ratio
//! on the same trace, at 1% and 10% of its objects.
//!
//! libCacheSim runs in the same test (`tests/traces/gen.sh fidelity`, which
//! writes the Zipf trace and libCacheSim 0.3.5's figures for it), so a test
//! fails if either side changes. Tolerances: the deterministic algorithms
//! (LRU, FIFO, CLOCK) within 0.0005, the others within 0.005.

use anyhow::{Context, Result, ensure};
use tiered_host::sim::replay::Mode;
use tiered_host::sim::{CacheSize, Format, PolicySource, SimError, Simulator, Trace};
use tiered_wasm::PolicyEngine;

use super::simulate::fidelity_files;

fn component(name: &str, config: &[(&str, &str)]) -> Result<PolicySource> {
    let algorithm = tiered_algorithms::get(name).with_context(|| format!("the library has no algorithm {name}"))?;
    Ok(PolicySource::Wasm {
        engine: PolicyEngine::new(None)?,
        wasm: algorithm.wasm.to_vec(),
        config: config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    })
}

/// Replays the fidelity trace through algorithm `name` at each cache size
/// libCacheSim ran it at; every miss ratio within `tolerance` of its.
fn matches_libcachesim(name: &str, tolerance: f64) -> Result<()> {
    matches_libcachesim_except(name, tolerance, &[])
}

/// [`matches_libcachesim`], except at the cache sizes (in objects) of
/// `known`, where the difference is explained and bounded: within
/// `(bound, why)` of libCacheSim's figure.
fn matches_libcachesim_except(name: &str, tolerance: f64, known: &[(u64, f64, &str)]) -> Result<()> {
    let (path, expected) = fidelity_files()?;
    let objects = expected["unique_objects"].as_u64().context("unique_objects")?;
    let mut sim = Simulator::new(Trace::open(&path, Format::OracleGeneral)?);
    let policy = component(name, &[])?;
    sim.mode = Mode::Exact;
    // Unit sizes and fixed-width keys: every object costs the same footprint,
    // so a budget of n footprints holds n objects, as libCacheSim's n bytes.
    let footprint = sim.unique_bytes() / objects;
    let mut report = Vec::new();
    for run in expected["runs"].as_array().context("runs")?.iter().filter(|r| r["algorithm"] == name) {
        let cache_objects = run["cache_bytes"].as_u64().context("cache_bytes")?;
        let theirs = run["miss_ratio"].as_f64().context("miss_ratio")?;
        let run = sim.run(&policy, CacheSize::Bytes(cache_objects * footprint), CacheSize::Bytes(0))?;
        let mismatches = run.policy.tiers[0].order_mismatches;
        ensure!(mismatches == 0, "{name}: its count of residents disagreed with the engine's {mismatches} times");
        report.push((cache_objects, run.policy.miss_ratio, theirs));
    }
    ensure!(report.len() == 2, "expected two {name} runs in libCacheSim's figures, found {}", report.len());
    for &(cache_objects, ours, theirs) in &report {
        let (bound, why) = known
            .iter()
            .find(|(objects, _, _)| *objects == cache_objects)
            .map_or((tolerance, "tolerance"), |&(_, bound, why)| (bound, why));
        ensure!(
            (ours - theirs).abs() <= bound,
            "{name}, {cache_objects} objects: ours {ours:.5}, libCacheSim {theirs:.5} (bound {bound}: {why})"
        );
    }
    Ok(())
}

#[test]
fn lru_matches_libcachesim() -> Result<()> {
    matches_libcachesim("lru", 0.0005)
}

#[test]
fn fifo_matches_libcachesim() -> Result<()> {
    matches_libcachesim("fifo", 0.0005)
}

#[test]
fn clock_matches_libcachesim() -> Result<()> {
    matches_libcachesim("clock", 0.0005)
}

#[test]
fn sieve_matches_libcachesim() -> Result<()> {
    matches_libcachesim("sieve", 0.005)
}

#[test]
fn arc_matches_libcachesim() -> Result<()> {
    matches_libcachesim("arc", 0.005)
}

/// At 44 objects Q holds one object, and libCacheSim's LIRS then serves
/// one object more than its budget (an object demoted out of Q by its own
/// read stays readable in S, uncounted): it misses 0.551 where a cache held
/// to 44 objects misses 0.621. The same order without a budget (its
/// `unbounded` unit test shows the extra object) gives libCacheSim's figure
/// exactly; through the engine the budget holds, hence the bound.
#[test]
fn lirs_matches_libcachesim_within_its_budget() -> Result<()> {
    let over_budget = "libCacheSim's LIRS holds an object beyond its budget (see the lirs crate's docs)";
    matches_libcachesim_except("lirs", 0.005, &[(44, 0.08, over_budget)])
}

/// Unit sizes: libCacheSim's priorities and ties exactly. Sizes matter on
/// the var-size traces of `tests/traces/algorithms.py`.
#[test]
fn gdsf_matches_libcachesim() -> Result<()> {
    matches_libcachesim("gdsf", 0.005)
}

/// libCacheSim's samples come from a per-thread generator, which
/// `tests/traces/gen.py` starts afresh for each run; this order's
/// generator starts from the same state, so the figures agree exactly.
#[test]
fn lhd_matches_libcachesim() -> Result<()> {
    matches_libcachesim("lhd", 0.005)
}

#[test]
fn s3fifo_matches_libcachesim() -> Result<()> {
    matches_libcachesim("s3fifo", 0.005)
}

/// At 44 objects the window has no room and both cache nothing. At 437
/// the sketch (6,284 counters) is shared by many ids, and the engine's ids
/// (hashes of keys) collide in other counters than libCacheSim's (the trace's
/// ids): the figures differ slightly. Fed libCacheSim's ids, the order gives
/// its figures exactly (the wtinylfu crate's `tests/libcachesim.rs`).
#[test]
fn wtinylfu_matches_libcachesim() -> Result<()> {
    matches_libcachesim("wtinylfu", 0.005)
}

#[test]
fn a_malformed_parameter_is_refused_when_the_policy_loads() -> Result<()> {
    let trace = Trace::parse_csv(std::io::Cursor::new("1,a,1\n2,b,1\n"))?;
    for (config, named) in [
        (("n-bit-counter", "two"), "n-bit-counter"),
        (("n-bit-counter", "0"), "out of range"),
        (("n-bits", "2"), "`n-bits` is unknown"),
    ] {
        let sim = Simulator::new(trace.clone());
        match sim.run(&component("clock", &[config])?, CacheSize::Share(0.5), CacheSize::Bytes(0)) {
            Err(SimError::Policy(message)) => ensure!(message.contains(named), "{config:?}: {message}"),
            other => anyhow::bail!("{config:?} should be refused, got {:?}", other.map(|r| r.policy.miss_ratio)),
        }
    }
    Ok(())
}

/// On a trace of varying sizes the engine's budget counts each object's
/// metadata footprint beside its bytes; libCacheSim's counts the bytes. The
/// size-aware algorithms (GDSF, LHD) and W-TinyLFU differ from libCacheSim's
/// figures there by more than the target (BENCHMARKS.md), and this is why:
/// given each object's footprint as its size (`gen.py`'s copy of the trace),
/// libCacheSim's figures are ours, as LRU's are.
#[test]
fn on_varying_sizes_the_figures_are_libcachesims_given_the_engines_footprints() -> Result<()> {
    let (unit, _) = fidelity_files()?;
    let dir = unit.parent().context("the traces' folder")?;
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("zipf-fidelity-var.json"))?)?;
    let trace = Trace::open(&dir.join("zipf-fidelity-var.oracleGeneral"), Format::OracleGeneral)?;
    let bytes: u64 = trace.first_sizes().iter().sum();
    let sim = Simulator::new(trace);
    let objects = expected["unique_objects"].as_u64().context("unique_objects")?;
    let footprint = expected["footprint"].as_u64().context("footprint")?;
    ensure!(
        sim.unique_bytes() == bytes + objects * footprint,
        "gen.py's FOOTPRINT ({footprint}) is no longer the engine's: {} per object",
        (sim.unique_bytes() - bytes) / objects
    );
    let mut checked = 0;
    for run in expected["runs"].as_array().context("runs")? {
        let name = run["algorithm"].as_str().context("algorithm")?;
        let cache = run["cache_bytes"].as_u64().context("cache_bytes")?;
        let theirs = run["miss_ratio"].as_f64().context("miss_ratio")?;
        let ours = sim.run(&component(name, &[])?, CacheSize::Bytes(cache), CacheSize::Bytes(0))?;
        let tolerance = if name == "lru" { 0.0005 } else { 0.005 };
        let ours = ours.policy.miss_ratio;
        ensure!(
            (ours - theirs).abs() <= tolerance,
            "{name}, {cache} bytes: ours {ours:.5}, libCacheSim on footprints {theirs:.5}"
        );
        checked += 1;
    }
    ensure!(checked == 8, "four algorithms at two sizes, {checked} checked");
    Ok(())
}
