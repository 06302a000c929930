//! `tiered simulate` as a specification: traces parse or are rejected with the
//! line or record at fault, a replay is deterministic, the baselines are
//! sane, and a pure-LRU policy replayed through the engine matches
//! libCacheSim's LRU on the same trace.
//!
//! The fidelity test runs `tests/traces/gen.sh fidelity`, which installs
//! libcachesim from PyPI into a virtualenv on first use and writes a Zipf
//! trace with libCacheSim's miss ratios into `target/traces`.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};
use tiered_host::sim::replay::Mode;
use tiered_host::sim::trace::ORACLE_RECORD;
use tiered_host::sim::{CacheSize, Op, PolicySource, Simulator, Trace, TraceError};
use tiered_wasm::{DEFAULT_POLICY_WASM, PolicyEngine};

/// The library's LRU (`examples/policies/algorithms/lru`).
fn lru_wasm() -> &'static [u8] {
    tiered_algorithms::get("lru").expect("the library has LRU").wasm
}

fn wasm_policy(wasm: &[u8]) -> Result<PolicySource> {
    Ok(PolicySource::Wasm { engine: PolicyEngine::new(None)?, wasm: wasm.to_vec(), config: Vec::new() })
}

/// A deterministic skewed CSV trace: `n` gets over `objects` keys, some sets
/// and deletes, sizes varying by key.
fn skewed_csv(n: u64, objects: u64) -> String {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut csv = String::from("timestamp,key,size,op\n");
    for i in 0..n {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let u = (state >> 11) as f64 / (1u64 << 53) as f64;
        let key = ((objects as f64).powf(u) as u64).min(objects - 1);
        let op = match state % 50 {
            0 => "set",
            1 => "delete",
            _ => "get",
        };
        csv.push_str(&format!("{},obj/{key},{},{op}\n", i / 10, 100 + key * 37 % 4000));
    }
    csv
}

#[test]
fn csv_traces_parse_with_defaults_and_ops() -> Result<()> {
    let trace = Trace::parse_csv(Cursor::new("timestamp,key,size\n# note\n1.5,a,10\n\n2,b,20,SET\n3,a,0,delete\n"))?;
    assert_eq!(trace.keys, ["a", "b"]);
    let ops: Vec<(u64, u32, u64, Op)> = trace.requests.iter().map(|r| (r.time_ms, r.key, r.size, r.op)).collect();
    assert_eq!(ops, [(1500, 0, 10, Op::Get), (2000, 1, 20, Op::Set), (3000, 0, 0, Op::Delete)]);
    assert_eq!(trace.next_uses(), [2, u64::MAX, u64::MAX]);
    Ok(())
}

#[test]
fn malformed_csv_is_rejected_with_its_line_number() {
    let cases = [
        ("1,a,10\n2,b\n", 2, "fields"),
        ("1,a,10\n\n# c\nsoon,b,1\n", 4, "timestamp"),
        ("1,a,ten\n", 1, "size"),
        ("1,a,1,put\n", 1, "op"),
        ("1,a,1\n2,bad\u{1}key,1\n", 2, "key"),
        ("-1,a,1\n", 1, "timestamp"),
    ];
    for (csv, line, what) in cases {
        match Trace::parse_csv(Cursor::new(csv)) {
            Err(TraceError::Line { line: at, message }) => {
                assert_eq!(at, line, "{csv:?}: {message}");
                assert!(message.contains(what), "{csv:?}: {message}");
            }
            other => panic!("{csv:?} should fail at line {line}, got {other:?}"),
        }
    }
    assert!(matches!(Trace::parse_csv(Cursor::new("timestamp,key,size\n")), Err(TraceError::EmptyTrace)));
}

fn oracle_record(time: u32, id: u64, size: u32) -> Vec<u8> {
    [&time.to_le_bytes()[..], &id.to_le_bytes(), &size.to_le_bytes(), &(-1i64).to_le_bytes()].concat()
}

#[test]
fn oracle_general_parses_and_a_truncated_record_is_named() -> Result<()> {
    let mut bytes = [oracle_record(5, 7, 100), oracle_record(6, 9, 1), oracle_record(7, 7, 100)].concat();
    let trace = Trace::parse_oracle(&bytes)?;
    assert_eq!(trace.keys, ["0000000000000007", "0000000000000009"]);
    assert_eq!(trace.requests[2].time_ms, 7000);
    assert_eq!(trace.requests.iter().map(|r| r.key).collect::<Vec<_>>(), [0, 1, 0]);

    bytes.extend_from_slice(&oracle_record(8, 1, 1)[..ORACLE_RECORD - 5]);
    match Trace::parse_oracle(&bytes) {
        Err(TraceError::Record { record: 4, message }) => assert!(message.contains("truncated"), "{message}"),
        other => panic!("expected record 4 to be rejected, got {other:?}"),
    }
    Ok(())
}

#[test]
fn the_same_trace_and_policy_give_the_same_report() -> Result<()> {
    let trace = Trace::parse_csv(Cursor::new(skewed_csv(20_000, 2_000)))?;
    let run = || -> Result<serde_json::Value> {
        let sim = Simulator::new(trace.clone());
        let report = sim.run(&wasm_policy(DEFAULT_POLICY_WASM)?, CacheSize::Share(0.05), CacheSize::Share(0.2))?;
        Ok(serde_json::to_value(report.without_timings())?)
    };
    let (first, second) = (run()?, run()?);
    assert_eq!(first, second);
    for field in ["miss_ratio", "byte_miss_ratio", "s3_gets", "s3_get_bytes", "policy_ns"] {
        ensure!(first["policy"].get(field).is_some(), "policy.{field} missing from {first}");
    }
    ensure!(first["lru"]["miss_ratio"].is_f64() && first["belady"]["miss_ratio"].is_f64());
    ensure!(first["policy"]["s3_puts"].as_u64() > Some(0), "the trace's sets reach S3");
    ensure!(first["policy"]["tiers"].as_array().map(Vec::len) == Some(2), "hot and warm reported");
    Ok(())
}

#[test]
fn dropped_hits_are_counted_and_only_in_batched_mode() -> Result<()> {
    let trace = Trace::parse_csv(Cursor::new(skewed_csv(20_000, 2_000)))?;
    let mut sim = Simulator::new(trace);
    let builtin = PolicySource::Builtin { config: Vec::new() };
    sim.mode = Mode::Batched;
    let run = |sim: &Simulator| -> Result<(f64, u64)> {
        let r = sim.run(&builtin, CacheSize::Share(0.05), CacheSize::Bytes(0))?;
        Ok((r.policy.miss_ratio, r.policy.tiers[0].hits_dropped))
    };
    let (kept, none_dropped) = run(&sim)?;
    ensure!(none_dropped == 0, "one thread never fills a buffer: {none_dropped} dropped");
    sim.drop_hits = 0.5;
    let (lossy, dropped) = run(&sim)?;
    let hits = sim.run(&builtin, CacheSize::Share(0.05), CacheSize::Bytes(0))?.policy.tiers[0].hits;
    ensure!((0.4..0.6).contains(&(dropped as f64 / hits as f64)), "about half of {hits} hit events dropped: {dropped}");
    ensure!(lossy != kept, "the order saw other events, so it decided otherwise ({lossy} vs {kept})");
    ensure!(run(&sim)? == (lossy, dropped), "the drops repeat run to run");
    Ok(())
}

#[test]
fn belady_never_misses_more_than_lru() -> Result<()> {
    let trace = Trace::parse_csv(Cursor::new(skewed_csv(20_000, 3_000)))?;
    let sim = Simulator::new(trace);
    for share in [0.01, 0.05, 0.2, 0.5] {
        let r = sim.run(&PolicySource::Builtin { config: Vec::new() }, CacheSize::Share(share), CacheSize::Bytes(0))?;
        ensure!(
            r.belady.miss_ratio <= r.lru.miss_ratio,
            "{share}: Belady {} > LRU {}",
            r.belady.miss_ratio,
            r.lru.miss_ratio
        );
        ensure!(r.belady.miss_ratio <= r.policy.miss_ratio, "{share}: Belady above the policy");
        ensure!((0.0..=1.0).contains(&r.policy.miss_ratio));
    }
    Ok(())
}

#[test]
fn a_tiny_trace_gives_the_textbook_answers() -> Result<()> {
    // Room for two objects; a b c a b c: LRU misses everything, Belady keeps
    // one of the pair it will need and hits twice.
    let trace = Trace::parse_csv(Cursor::new("1,a,1\n2,b,1\n3,c,1\n4,a,1\n5,b,1\n6,c,1\n"))?;
    let sim = Simulator::new(trace);
    let two = sim.unique_bytes() / 3 * 2;
    let r = sim.run(&PolicySource::Builtin { config: Vec::new() }, CacheSize::Bytes(two), CacheSize::Bytes(0))?;
    assert_eq!((r.lru.miss_ratio, r.belady.miss_ratio), (1.0, 4.0 / 6.0));
    assert_eq!(r.lru.s3_gets, 6);
    assert_eq!(r.policy.s3_gets + r.policy.tiers[0].hits, 6, "every get is served by hot or S3");
    Ok(())
}

/// The fidelity trace and libCacheSim's figures, generated on first use
/// (also by the `algorithms` tests: one generation at a time).
pub(crate) fn fidelity_files() -> Result<(PathBuf, serde_json::Value)> {
    static GENERATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = GENERATING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("workspace root")?;
    let out = root.join("target/traces");
    let status = Command::new("bash").arg(root.join("tests/traces/gen.sh")).arg("fidelity").arg(&out).status()?;
    ensure!(status.success(), "tests/traces/gen.sh fidelity failed ({status}); it needs python3 and PyPI");
    let expected = serde_json::from_str(&std::fs::read_to_string(out.join("zipf-fidelity.json"))?)?;
    Ok((out.join("zipf-fidelity.oracleGeneral"), expected))
}

#[test]
fn an_lru_policy_through_the_engine_matches_libcachesim_lru() -> Result<()> {
    let (path, expected) = fidelity_files()?;
    let trace = Trace::open(&path, tiered_host::sim::Format::OracleGeneral)?;
    let objects = expected["unique_objects"].as_u64().context("unique_objects")?;
    ensure!(
        trace.keys.len() as u64 == objects,
        "the trace has {} objects, libCacheSim saw {objects}",
        trace.keys.len()
    );
    let sim = Simulator::new(trace);
    let lru = wasm_policy(lru_wasm())?;
    // Unit sizes and fixed-width keys: every object costs the same footprint.
    let footprint = sim.unique_bytes() / objects;
    let runs = expected["runs"].as_array().context("runs")?;
    let mut checked = 0;
    for run in runs.iter().filter(|r| r["algorithm"] == "lru") {
        let cache_objects = run["cache_bytes"].as_u64().context("cache_bytes")?;
        let theirs = run["miss_ratio"].as_f64().context("miss_ratio")?;
        let report = sim.run(&lru, CacheSize::Bytes(cache_objects * footprint), CacheSize::Bytes(0))?;
        let ours = report.policy.miss_ratio;
        ensure!(
            (ours - theirs).abs() <= 0.005,
            "{cache_objects} objects: engine LRU {ours:.4}, libCacheSim {theirs:.4}"
        );
        ensure!((report.lru.miss_ratio - theirs).abs() <= 0.005, "native LRU baseline {:.4}", report.lru.miss_ratio);
        checked += 1;
    }
    ensure!(checked == 2, "expected two LRU runs in the libCacheSim figures, found {checked}");
    Ok(())
}
