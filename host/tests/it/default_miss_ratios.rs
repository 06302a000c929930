//! The default policy's promise, on traces libCacheSim measured: never a
//! higher miss ratio than LRU, and within 1.0 point of the best online
//! algorithm libCacheSim ran (BENCHMARKS.md, "Miss ratios"). The default
//! runs as the service runs it: the embedded component, in exact mode.
//!
//! Cases: the fidelity Zipf trace at 1% and 10% of its objects (libCacheSim
//! runs in the same test, `tests/traces/gen.sh fidelity`), and the two small
//! real traces of `../shared/traces/real` at 1% and 10% against the figures
//! of its `refs.json` (skipped where the directory is absent). The larger
//! traces of the table take minutes in a debug build;
//! `tests/traces/table.py` checks all 16 cases on a release build.

use std::io::Write as _;

use anyhow::{Context, Result, ensure};
use tiered_host::sim::replay::Mode;
use tiered_host::sim::{CacheSize, Format, PolicySource, Report, Simulator, Trace};
use tiered_wasm::{DEFAULT_POLICY_WASM, PolicyEngine};

use super::simulate::fidelity_files;
use super::simulate_compare::real_traces;

/// How far behind the best online algorithm the default may be, in miss ratio.
const BEHIND_BEST: f64 = 0.010;

/// The online algorithms of `refs.json` (Belady is offline).
const REAL_ONLINE: [&str; 7] = ["LRU", "FIFO", "SIEVE", "S3-FIFO", "W-TinyLFU", "ARC", "LIRS"];

fn default_policy() -> Result<PolicySource> {
    Ok(PolicySource::Wasm { engine: PolicyEngine::new(None)?, wasm: DEFAULT_POLICY_WASM.to_vec(), config: Vec::new() })
}

/// One case's verdict: the default's miss ratio against LRU's and the best
/// online one's (named), with the run's health checked too.
fn keeps_the_promise(case: &str, run: &Report, lru: f64, best: (&str, f64)) -> Result<()> {
    let ours = run.policy.miss_ratio;
    let (best_name, best) = best;
    let _ = writeln!(std::io::stderr(), "{case}: default {ours:.4}, LRU {lru:.4}, best online {best_name} {best:.4}");
    ensure!(run.policy.policy_fallbacks == 0, "{case}: the policy fell back {} times", run.policy.policy_fallbacks);
    let mismatches = run.policy.tiers[0].order_mismatches;
    ensure!(mismatches == 0, "{case}: its count of residents disagreed with the engine's {mismatches} times");
    ensure!(ours <= lru, "{case}: the default misses more than LRU ({ours:.4} against {lru:.4})");
    ensure!(
        ours <= best + BEHIND_BEST,
        "{case}: the default is {:.2} points behind {best_name} ({ours:.4} against {best:.4})",
        (ours - best) * 100.0
    );
    Ok(())
}

#[test]
fn the_default_keeps_its_promise_on_the_fidelity_zipf_trace() -> Result<()> {
    let (path, expected) = fidelity_files()?;
    let objects = expected["unique_objects"].as_u64().context("unique_objects")?;
    let mut sim = Simulator::new(Trace::open(&path, Format::OracleGeneral)?);
    sim.mode = Mode::Exact;
    // Unit sizes and fixed-width keys: a budget of n footprints holds n
    // objects, as libCacheSim's n bytes do.
    let footprint = sim.unique_bytes() / objects;
    let policy = default_policy()?;
    let runs = expected["runs"].as_array().context("runs")?;
    let mut sizes: Vec<u64> = runs.iter().filter_map(|r| r["cache_bytes"].as_u64()).collect();
    sizes.sort_unstable();
    sizes.dedup();
    ensure!(sizes.len() == 2, "expected two cache sizes in libCacheSim's figures, found {sizes:?}");
    for cache_objects in sizes {
        let at_size: Vec<(&str, f64)> = runs
            .iter()
            .filter(|r| r["cache_bytes"].as_u64() == Some(cache_objects) && r["algorithm"] != "belady")
            .map(|r| {
                Ok((r["algorithm"].as_str().context("algorithm")?, r["miss_ratio"].as_f64().context("miss_ratio")?))
            })
            .collect::<Result<_>>()?;
        let lru = at_size.iter().find(|(name, _)| *name == "lru").context("libCacheSim's LRU")?.1;
        let best = at_size.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1)).context("an online algorithm")?;
        ensure!(at_size.len() >= 5, "{cache_objects} objects: only {} online algorithms", at_size.len());
        let run = sim.run(&policy, CacheSize::Bytes(cache_objects * footprint), CacheSize::Bytes(0))?;
        keeps_the_promise(&format!("zipf-fidelity, {cache_objects} objects"), &run, lru, best)?;
    }
    Ok(())
}

#[test]
fn the_default_keeps_its_promise_on_the_small_real_traces() -> Result<()> {
    let Some(dir) = real_traces() else {
        let _ = writeln!(std::io::stderr(), "SKIPPED: no real traces beside the workspace (set TIERED_REAL_TRACES)");
        return Ok(());
    };
    let refs: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("refs.json"))?)?;
    let policy = default_policy()?;
    for name in ["cache2k_web12", "cloudPhysicsIO"] {
        let file = format!("{name}.oracleGeneral.bin");
        let mut sim = Simulator::new(Trace::open(&dir.join(&file), Format::OracleGeneral)?);
        sim.mode = Mode::Exact;
        for (label, share) in [("1%", 0.01), ("10%", 0.1)] {
            let figures = &refs[&file]["sizes"][label];
            let omr = |algorithm: &str| {
                figures[algorithm]["omr"].as_f64().with_context(|| format!("{file} {label} {algorithm}"))
            };
            let online: Vec<(&str, f64)> = REAL_ONLINE.iter().map(|&a| Ok((a, omr(a)?))).collect::<Result<_>>()?;
            let best = online.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1)).context("an online algorithm")?;
            let run = sim.run(&policy, CacheSize::Share(share), CacheSize::Bytes(0))?;
            keeps_the_promise(&format!("{name} {label}"), &run, omr("LRU")?, best)?;
        }
    }
    Ok(())
}
