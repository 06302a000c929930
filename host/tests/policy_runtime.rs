//! The wasmtime policy runtime, end to end: the embedded default policy, the
//! misbehaving test guest (`tests/guests/faulty`, one `mode` per failure), the
//! load errors, the compiled-artifact cache, the instance pool and the
//! `policy check` battery.
//!
//! No timing assertions: a looping policy must *end* (by its deadline), an
//! allocating one by its memory limit; how fast is the benchmarks' business.
//! The deadline is wall-clock time, so every test that is not about the
//! deadline gives a generous one ([`relaxed`]): a call preempted on a busy CI
//! machine must not turn into a timeout.

use std::collections::BTreeMap;
use std::time::Duration;

use tiered::policy::wasm::{PolicyEngine, PolicyLimits, PolicyLoadError, WasmPolicy, check_with};
use tiered::policy::{
    Candidate, Capacities, DEFAULT_POLICY_WASM, FallbackPolicy, Policy, ReadInfo, TierId, TierSet, WriteInfo,
};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const FAULTY_WASM: &[u8] = include_bytes!(env!("TIERED_FAULTY_POLICY_WASM"));

const CAPACITIES: Capacities = Capacities { hot_bytes: 64 << 20, warm_bytes: 1 << 30 };

/// Default limits with a deadline no preemption reaches.
fn relaxed() -> PolicyLimits {
    PolicyLimits { deadline: Duration::from_secs(60), ..PolicyLimits::default() }
}

fn config(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
}

fn faulty(mode: &str, limits: PolicyLimits) -> std::result::Result<WasmPolicy, PolicyLoadError> {
    let engine = PolicyEngine::new(None)?;
    WasmPolicy::load(&engine, FAULTY_WASM, &config(&[("mode", mode)]), CAPACITIES, limits)
}

fn write<'a>(meta: &'a BTreeMap<String, String>, key: &'a str, size: u64) -> WriteInfo<'a> {
    WriteInfo {
        key,
        size,
        content_type: Some("text/plain"),
        metadata: meta,
        requested_ttl_ms: Some(60_000),
        now_ms: 1_700_000_000_000,
    }
}

/// Metadata of the objects read in these tests: none.
static NO_METADATA: BTreeMap<String, String> = BTreeMap::new();

fn read(served_by: TierId) -> ReadInfo<'static> {
    ReadInfo {
        key: "k",
        size: 4096,
        content_type: None,
        metadata: &NO_METADATA,
        served_by,
        age_ms: 1000,
        access_count: 5,
        frequency: 5,
        expires_in_ms: None,
        now_ms: 1_700_000_000_000,
    }
}

fn candidates(keys: &[&str]) -> Vec<Candidate> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| Candidate {
            key: (*key).to_owned(),
            size: 1024 * (i as u64 + 1),
            tier: TierId::Hot,
            age_ms: 10_000,
            idle_ms: 1000 * i as u64,
            access_count: 1,
            frequency: 1,
            expires_in_ms: None,
        })
        .collect()
}

#[test]
fn the_embedded_default_policy_loads_and_answers_sanely() -> Result {
    let engine = PolicyEngine::new(None)?;
    let policy = WasmPolicy::load(&engine, DEFAULT_POLICY_WASM, &[], CAPACITIES, relaxed())?;
    let id = policy.identity();
    assert!(!id.name.is_empty());
    assert_eq!(id.interface, "tiered:policy@0.3.0");
    assert_eq!(id.sha256.as_deref().map(str::len), Some(64));

    let meta = BTreeMap::new();
    let small = policy.place(&write(&meta, "small", 4096));
    assert!(small.tiers.hot, "a small object goes to memory: {small:?}");
    let huge = policy.place(&write(&meta, "huge", CAPACITIES.hot_bytes));
    assert!(!huge.tiers.hot, "an object the size of memory skips it: {huge:?}");
    let _ = policy.promote(&read(TierId::Cold));
    let keys: Vec<String> = (0..64).map(|i| format!("c{i:02}")).collect();
    let batch = candidates(&keys.iter().map(String::as_str).collect::<Vec<_>>());
    let verdicts = policy.score(1_700_000_000_000, &batch);
    assert_eq!(verdicts.len(), 64);
    assert!(verdicts.iter().all(|v| v.score.is_finite()));
    assert!(policy.score(1_700_000_000_000, &[]).is_empty());

    let counters = policy.counters();
    assert_eq!((counters.calls, counters.fallbacks), (5, 0), "{counters:?}");
    Ok(())
}

#[test]
fn a_custom_policy_answers_with_its_own_decisions() -> Result {
    let policy = faulty("ok", relaxed())?;
    assert_eq!(policy.identity().name, "faulty");
    let meta = BTreeMap::from([("owner".to_owned(), "tests".to_owned())]);

    let placed = policy.place(&write(&meta, "k", 10));
    assert_eq!(placed.tiers, TierSet { hot: false, warm: true }, "warm only, never hot");
    assert_eq!(placed.ttl_ms, Some(60_000));
    assert_eq!(policy.promote(&read(TierId::Cold)), TierSet { hot: false, warm: true });
    assert_eq!(policy.promote(&read(TierId::Warm)), TierSet { hot: false, warm: true });

    let verdicts = policy.score(0, &candidates(&["b", "c", "a"]));
    let scores: Vec<f64> = verdicts.iter().map(|v| v.score).collect();
    assert_eq!(scores, [-1024.0, -2048.0, -3072.0], "minus the size: the largest object scores lowest");
    assert_eq!(policy.counters().fallbacks, 0);
    Ok(())
}

/// Calls every decision twice on a policy in `mode` and checks that each call
/// got the fallback's answer and that the failed instances were rebuilt.
fn every_call_falls_back(mode: &str, limits: PolicyLimits) -> Result<tiered::policy::PolicyCounters> {
    let policy = faulty(mode, limits)?;
    let fallback = FallbackPolicy::new(CAPACITIES);
    let meta = BTreeMap::new();
    let batch = candidates(&["x", "y", "z"]);
    for _ in 0..2 {
        let w = write(&meta, "k", 10);
        assert_eq!(policy.place(&w), fallback.place(&w), "{mode}: place");
        let r = read(TierId::Warm);
        assert_eq!(policy.promote(&r), fallback.promote(&r), "{mode}: promote");
        assert_eq!(policy.score(7, &batch), fallback.score(7, &batch), "{mode}: score");
    }
    let c = policy.counters();
    assert_eq!((c.calls, c.fallbacks), (6, 6), "{mode}: {c:?}");
    assert_eq!(c.rebuilds, 5, "{mode}: each failed instance is replaced by the next call: {c:?}");
    Ok(c)
}

#[test]
fn a_trapping_policy_gets_fallbacks_and_fresh_instances() -> Result {
    let c = every_call_falls_back("trap", relaxed())?;
    assert_eq!((c.traps, c.timeouts, c.bad_answers), (6, 0, 0), "{c:?}");
    Ok(())
}

#[test]
fn a_looping_policy_is_stopped_by_its_deadline() -> Result {
    let limits = PolicyLimits { deadline: Duration::from_millis(5), ..PolicyLimits::default() };
    let c = every_call_falls_back("loop", limits)?;
    assert_eq!((c.traps, c.timeouts, c.bad_answers), (0, 6, 0), "{c:?}");
    Ok(())
}

#[test]
fn an_allocating_policy_is_stopped_by_its_memory_limit() -> Result {
    // The deadline is far beyond what reaching 32 MiB takes: the memory limit ends it.
    let limits = PolicyLimits { memory_bytes: 32 << 20, ..relaxed() };
    let c = every_call_falls_back("alloc", limits)?;
    assert_eq!((c.traps, c.timeouts, c.bad_answers), (6, 0, 0), "{c:?}");
    Ok(())
}

#[test]
fn wrong_shaped_scores_are_rejected() -> Result {
    for mode in ["wrong-len", "nan"] {
        let policy = faulty(mode, relaxed())?;
        let batch = candidates(&["a", "b"]);
        let fallback = FallbackPolicy::new(CAPACITIES).score(0, &batch);
        assert_eq!(policy.score(0, &batch), fallback, "{mode}");
        assert_eq!(policy.score(0, &batch), fallback, "{mode}: second call");
        let c = policy.counters();
        assert_eq!((c.bad_answers, c.fallbacks, c.traps, c.rebuilds), (2, 2, 0, 1), "{mode}: {c:?}");
        // Placement still works on the rebuilt instance.
        let meta = BTreeMap::new();
        assert_eq!(policy.place(&write(&meta, "k", 1)).tiers, TierSet { hot: false, warm: true });
    }
    Ok(())
}

#[test]
fn a_rejected_configuration_is_a_load_error_with_the_policys_message() -> Result {
    match faulty("reject", relaxed()) {
        Err(PolicyLoadError::ConfigRejected(message)) => {
            assert!(message.starts_with("rejected: "), "{message}");
            Ok(())
        }
        other => Err(format!("expected ConfigRejected, got {other:?}").into()),
    }
}

#[test]
fn bytes_that_are_not_a_policy_component_are_refused_clearly() -> Result {
    let engine = PolicyEngine::new(None)?;
    let load = |bytes: &[u8]| WasmPolicy::load(&engine, bytes, &[], CAPACITIES, relaxed());

    for bytes in [&b"\x13\x37 definitely not wasm"[..], b"\0asm\x01\0\0\0"] {
        let err = load(bytes).unwrap_err();
        assert!(matches!(err, PolicyLoadError::NotAComponent(_)), "{err:?}");
        assert!(err.to_string().starts_with("not a WebAssembly component: "), "{err}");
    }
    assert!(load(b"\0asm\x01\0\0\0").unwrap_err().to_string().contains("core WebAssembly module"));

    // The empty component: valid, but exports nothing.
    let err = load(b"\0asm\x0d\0\x01\0").unwrap_err();
    assert!(matches!(err, PolicyLoadError::WrongWorld(_)), "{err:?}");
    assert!(err.to_string().contains("does not implement tiered:policy/decisions@0.3.0"), "{err}");
    Ok(())
}

#[test]
fn a_policy_built_against_another_contract_version_is_refused_naming_both() -> Result {
    let engine = PolicyEngine::new(None)?;
    let old = include_bytes!(env!("TIERED_OLD_CONTRACT_POLICY_WASM"));
    let err = WasmPolicy::load(&engine, old, &[], CAPACITIES, relaxed()).unwrap_err();
    assert!(
        matches!(&err, PolicyLoadError::OtherVersion { found } if found == "tiered:policy/decisions@0.1.0"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("tiered:policy/decisions@0.1.0") && message.contains("tiered:policy@0.3.0"), "{message}");
    assert_eq!(tiered::policy::wasm::INTERFACE, format!("tiered:policy@{}", tiered::policy::wasm::INTERFACE_VERSION));
    Ok(())
}

#[test]
fn the_second_load_comes_from_the_compile_cache() -> Result {
    let dir = tempfile::tempdir()?;
    let cfg = config(&[("mode", "ok")]);
    let load = |engine: &PolicyEngine| WasmPolicy::load(engine, FAULTY_WASM, &cfg, CAPACITIES, relaxed());

    let engine = PolicyEngine::new(Some(dir.path().join("cache")))?;
    assert!(!load(&engine)?.loaded_from_cache(), "first load compiles");
    assert!(load(&engine)?.loaded_from_cache(), "second load reads the cache");
    let restarted = PolicyEngine::new(Some(dir.path().join("cache")))?;
    let policy = load(&restarted)?;
    assert!(policy.loaded_from_cache(), "a new engine (a restart) reads it too");
    assert_eq!(policy.promote(&read(TierId::Cold)), TierSet { hot: false, warm: true });

    // A damaged artifact is not trusted: compiled again, then cached again.
    // (Loaded artifacts are mapped: replace the file, as the runtime itself
    // does, rather than rewrite it in place under a live policy.)
    drop(policy);
    let artifact = std::fs::read_dir(dir.path().join("cache"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .ok_or("no .cwasm in the cache")?;
    let garbage = artifact.with_extension("garbage");
    std::fs::write(&garbage, b"garbage")?;
    std::fs::rename(&garbage, &artifact)?;
    assert!(!load(&restarted)?.loaded_from_cache());
    assert!(load(&restarted)?.loaded_from_cache());
    Ok(())
}

#[test]
fn many_threads_calling_at_once_all_get_answers() -> Result {
    let limits = PolicyLimits { instances: 4, ..relaxed() };
    let policy = faulty("ok", limits)?;
    let meta = BTreeMap::new();
    std::thread::scope(|s| {
        for t in 0..8 {
            let (policy, meta) = (&policy, &meta);
            s.spawn(move || {
                let key = format!("thread-{t}");
                for _ in 0..200 {
                    assert_eq!(policy.place(&write(meta, &key, 1)).tiers, TierSet { hot: false, warm: true });
                }
            });
        }
    });
    let c = policy.counters();
    assert_eq!((c.calls, c.fallbacks, c.rebuilds), (1600, 0, 0), "{c:?}");
    Ok(())
}

#[test]
fn the_check_battery_passes_a_good_policy_and_fails_a_broken_one() -> Result {
    let engine = PolicyEngine::new(None)?;
    let report = check_with(&engine, DEFAULT_POLICY_WASM, &[], relaxed())?;
    assert!(report.ok, "{report}");
    assert_eq!(report.identity.interface, "tiered:policy@0.3.0");
    assert_eq!(report.calls.len(), 6);
    assert!(report.calls.iter().all(|c| c.median_ns.is_some()), "{report}");
    let json = serde_json::to_value(&report)?;
    assert_eq!(json["ok"], true);

    let report = check_with(&engine, FAULTY_WASM, &config(&[("mode", "nan")]), relaxed())?;
    assert!(!report.ok, "{report}");
    assert_eq!(report.problems.len(), 1, "only `score 64` is wrong: {report}");
    assert!(report.to_string().contains("FAILED"), "{report}");

    let report = check_with(&engine, FAULTY_WASM, &config(&[("mode", "trap")]), relaxed())?;
    assert!(!report.ok && report.problems.len() == 6, "{report}");

    let err = check_with(&engine, FAULTY_WASM, &config(&[("mode", "reject")]), relaxed()).unwrap_err();
    assert!(matches!(err, PolicyLoadError::ConfigRejected(_)), "{err:?}");
    Ok(())
}
