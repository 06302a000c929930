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

use tiered::policy::order::ARRIVAL;
use tiered::policy::{
    Admission, Arrival, Capacities, Events, FallbackPolicy, Policy, ReadInfo, TierId, TierSet, WriteInfo,
};
use tiered_wasm::DEFAULT_POLICY_WASM;
use tiered_wasm::{MemoryBudget, PolicyEngine, PolicyLimits, PolicyLoadError, WasmPolicy, check_with};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const FAULTY_WASM: &[u8] = tiered_test_guests::FAULTY_WASM;

const CAPACITIES: Capacities = Capacities { hot_bytes: 64 << 20, warm_bytes: 1 << 30 };

/// Default limits with a deadline no preemption reaches, and no throttle (a
/// busy machine must not turn the policy's answers into fallbacks; the
/// throttle's own test sets a share).
fn relaxed() -> PolicyLimits {
    PolicyLimits { deadline: Duration::from_secs(60), ..PolicyLimits::default() }.unthrottled()
}

/// [`relaxed`] but a deadline of `ms` milliseconds, for the policies that loop.
fn relaxed_deadline(ms: u64) -> PolicyLimits {
    PolicyLimits { deadline: Duration::from_millis(ms), ..relaxed() }
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

/// Arrivals in hot of `ids`, 1 KiB each.
fn arrivals(ids: &[u64]) -> Events {
    let mut events = Events::new(TierId::Hot);
    for &id in ids {
        events.push(ARRIVAL, id, 1024, 0);
    }
    events
}

fn none() -> Events {
    Events::new(TierId::Hot)
}

fn arrival(id: u64) -> Arrival {
    Arrival { id, size: 1024, class: 0 }
}

#[test]
fn the_embedded_default_policy_loads_and_answers_sanely() -> Result {
    let engine = PolicyEngine::new(None)?;
    let policy = WasmPolicy::load(&engine, DEFAULT_POLICY_WASM, &[], CAPACITIES, relaxed())?;
    let id = policy.identity();
    assert!(!id.name.is_empty());
    assert_eq!(id.interface, "tiered:policy@0.4.0");
    assert_eq!(id.sha256.as_deref().map(str::len), Some(64));
    assert!(policy.keeps_order(), "the default exports its eviction order");

    let meta = BTreeMap::new();
    let small = policy.place(&write(&meta, "small", 4096));
    assert!(small.tiers.hot, "a small object goes to memory: {small:?}");
    let huge = policy.place(&write(&meta, "huge", CAPACITIES.hot_bytes));
    assert!(!huge.tiers.hot, "an object the size of memory skips it: {huge:?}");
    let _ = policy.promote(&read(TierId::Cold));
    // S3-FIFO, the order a tier starts with: the oldest of the small queue
    // leaves first.
    policy.observe(&arrivals(&[10, 11, 12]));
    assert_eq!(policy.admit(&none(), arrival(13), 0), Admission::Admit(vec![]));
    assert_eq!(policy.evict(&none(), 2048), vec![10, 11]);
    assert_eq!(policy.evict(&none(), 0), Vec::<u64>::new());

    let counters = policy.counters();
    assert_eq!((counters.calls, counters.fallbacks, counters.order_resets), (7, 0, 0), "{counters:?}");
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

    // Its order is newest first (LIFO), which no cache would choose.
    assert!(policy.keeps_order());
    policy.observe(&arrivals(&[3, 1, 2]));
    assert_eq!(policy.admit(&none(), arrival(4), 2048), Admission::Admit(vec![2, 1]));
    assert_eq!(policy.evict(&none(), 1), vec![4]);
    assert_eq!(policy.counters().fallbacks, 0);
    Ok(())
}

/// Calls every decision twice on a policy in `mode` and checks that each call
/// got the fallback's answer (for the order: admit, name nothing, so the
/// host's CLOCK evicts), that the failed pooled instances were rebuilt and
/// that each failure of the order was counted as a lost order.
fn every_call_falls_back(mode: &str, limits: PolicyLimits) -> Result<tiered::policy::PolicyCounters> {
    let policy = faulty(mode, limits)?;
    let fallback = FallbackPolicy::new(CAPACITIES);
    let meta = BTreeMap::new();
    for round in 0..2 {
        let w = write(&meta, "k", 10);
        assert_eq!(policy.place(&w), fallback.place(&w), "{mode}: place");
        let r = read(TierId::Warm);
        assert_eq!(policy.promote(&r), fallback.promote(&r), "{mode}: promote");
        assert_eq!(policy.admit(&arrivals(&[1, 2]), arrival(3), 1024), Admission::Admit(vec![]), "{mode}: admit");
        assert_eq!(policy.evict(&none(), 1024), Vec::<u64>::new(), "{mode}: evict");
        // Each failure loses the order; the third in a row pauses it, so
        // the fourth call is not made at all.
        assert_eq!(policy.order_generation(), [2, 3][round], "{mode}: round {round}");
    }
    let c = policy.counters();
    assert_eq!((c.calls, c.fallbacks), (8, 8), "{mode}: {c:?}");
    assert_eq!(c.rebuilds, 3, "{mode}: each failed pooled instance is replaced by the next call: {c:?}");
    assert_eq!((c.order_resets, c.order_pauses), (3, 1), "{mode}: {c:?}");
    Ok(c)
}

#[test]
fn a_trapping_policy_gets_fallbacks_and_fresh_instances() -> Result {
    let c = every_call_falls_back("trap", relaxed())?;
    assert_eq!((c.traps, c.timeouts), (7, 0), "{c:?}");
    Ok(())
}

#[test]
fn a_looping_policy_is_stopped_by_its_deadline() -> Result {
    // Unthrottled: a rebuilt order's first call runs under the set-up
    // deadline (1 s), and three of them would spend the CPU share.
    let c = every_call_falls_back("loop", relaxed_deadline(5))?;
    assert_eq!((c.traps, c.timeouts), (0, 7), "{c:?}");
    Ok(())
}

#[test]
fn an_allocating_policy_is_stopped_by_its_memory_limit() -> Result {
    // The deadline is far beyond what reaching 32 MiB takes: the memory
    // limit ends it, the decisions' and the order's alike.
    let limits = PolicyLimits { memory_bytes: 32 << 20, order_memory_bytes: 32 << 20, ..relaxed() };
    let c = every_call_falls_back("alloc", limits)?;
    assert_eq!((c.traps, c.timeouts), (7, 0), "{c:?}");
    Ok(())
}

#[test]
fn the_order_has_its_own_memory_bound() -> Result {
    // Decision instances may hold 32 MiB, the order only 8: `grow` keeps
    // 1 MiB more in each order call and fails past 8.
    let limits = PolicyLimits { memory_bytes: 32 << 20, order_memory_bytes: 8 << 20, ..relaxed() };
    let policy = faulty("grow", limits)?;
    let mut batches = 0;
    while policy.order_generation() == 0 {
        batches += 1;
        assert!(batches <= 64, "the order grew past 8 MiB without failing");
        policy.observe(&arrivals(&[batches]));
    }
    let c = policy.counters();
    assert_eq!((c.traps, c.order_resets), (1, 1), "{c:?}");
    Ok(())
}

#[test]
fn the_circuit_breaker_follows_its_limits() -> Result {
    // A pause long enough that the call just after the failure falls in it
    // on a busy machine.
    let limits = PolicyLimits { order_failures_before_pause: 1, order_pause: Duration::from_secs(2), ..relaxed() };
    let policy = faulty("trap", limits)?;
    assert_eq!(policy.evict(&none(), 1), Vec::<u64>::new());
    let c = policy.counters();
    assert_eq!((c.traps, c.order_pauses), (1, 1), "one failure is enough to rest: {c:?}");
    policy.evict(&none(), 1);
    assert_eq!(policy.counters().traps, 1, "resting, the order is not called");
    std::thread::sleep(Duration::from_millis(2_200));
    policy.evict(&none(), 1);
    let c = policy.counters();
    assert_eq!((c.traps, c.order_pauses), (2, 2), "called again after the pause, and rests again: {c:?}");
    Ok(())
}

#[test]
fn a_trap_in_the_order_leaves_the_decisions_alone() -> Result {
    let policy = faulty("trap-in-observe", relaxed())?;
    policy.observe(&arrivals(&[1]));
    assert_eq!(policy.order_generation(), 0, "a batch of one is applied");
    policy.observe(&arrivals(&[2, 3, 4]));
    assert_eq!(policy.order_generation(), 1, "a trap half-way through a batch loses the order");
    // The rebuilt instance starts empty: handed [5, 6] as a batch of one each, it holds those alone.
    policy.observe(&arrivals(&[5]));
    policy.observe(&arrivals(&[6]));
    assert_eq!(policy.evict(&none(), u64::MAX), vec![6, 5]);
    let meta = BTreeMap::new();
    assert_eq!(policy.place(&write(&meta, "k", 1)).tiers, TierSet { hot: false, warm: true }, "its own answer");
    let c = policy.counters();
    assert_eq!((c.traps, c.fallbacks, c.order_resets, c.rebuilds), (1, 1, 1, 0), "{c:?}");
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
    assert!(err.to_string().contains("does not implement tiered:policy/decisions@0.4.0"), "{err}");
    Ok(())
}

#[test]
fn a_policy_built_against_another_contract_version_is_refused_naming_both() -> Result {
    let engine = PolicyEngine::new(None)?;
    let old = tiered_test_guests::OLD_CONTRACT_WASM;
    let err = WasmPolicy::load(&engine, old, &[], CAPACITIES, relaxed()).unwrap_err();
    assert!(
        matches!(&err, PolicyLoadError::OtherVersion { found } if found == "tiered:policy/decisions@0.1.0"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("tiered:policy/decisions@0.1.0") && message.contains("tiered:policy@0.4.0"), "{message}");
    assert_eq!(tiered_wasm::INTERFACE, format!("tiered:policy@{}", tiered_wasm::INTERFACE_VERSION));
    Ok(())
}

#[test]
fn an_order_built_against_an_earlier_text_of_the_version_is_refused_naming_the_interface() -> Result {
    let engine = PolicyEngine::new(None)?;
    let early = tiered_test_guests::EARLY_ORDER_WASM;
    let err = WasmPolicy::load(&engine, early, &[], CAPACITIES, relaxed()).unwrap_err();
    assert!(matches!(err, PolicyLoadError::WrongEviction(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("tiered:policy/eviction@0.4.0") && message.contains("rebuild"), "{message}");
    // The cause names what is missing.
    let cause = std::error::Error::source(&err).map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(cause.contains("residents"), "{cause}");
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
    assert_eq!(report.identity.interface, "tiered:policy@0.4.0");
    assert_eq!(report.calls.len(), 8);
    assert!(report.calls.iter().all(|c| c.median_ns.is_some()), "{report}");
    let json = serde_json::to_value(&report)?;
    assert_eq!(json["ok"], true);

    let report = check_with(&engine, FAULTY_WASM, &config(&[("mode", "loop-in-evict")]), relaxed_deadline(50))?;
    assert!(!report.ok, "{report}");
    let failed: Vec<&str> = report.calls.iter().filter(|c| c.median_ns.is_none()).map(|c| c.name).collect();
    assert_eq!(failed, ["admit against 1 victim", "evict 4 KiB"], "only the calls that must evict loop: {report}");
    assert!(report.to_string().contains("FAILED"), "{report}");

    let report = check_with(&engine, FAULTY_WASM, &config(&[("mode", "trap")]), relaxed())?;
    assert!(!report.ok && report.problems.len() == 8, "{report}");

    let err = check_with(&engine, FAULTY_WASM, &config(&[("mode", "reject")]), relaxed()).unwrap_err();
    assert!(matches!(err, PolicyLoadError::ConfigRejected(_)), "{err:?}");
    Ok(())
}

// ---- The sandbox against hostile policies: log budget, forged lines,
// ---- deadlines inside imports, memory across the pool, a bounded check.

mod captured {
    //! A `tracing` subscriber for the calling thread that writes what the
    //! host logs into a buffer, optionally slowly (each write sleeps).
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[derive(Clone)]
    struct Sink {
        buf: Arc<Mutex<Vec<u8>>>,
        delay: Duration,
    }

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(self.delay);
            self.buf.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Runs `f` with the host's `info` log captured; returns its result and
    /// the log text.
    pub fn logged<R>(delay: Duration, f: impl FnOnce() -> R) -> (R, String) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink { buf: buf.clone(), delay };
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || sink.clone())
            .finish();
        let answer = tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
        (answer, text)
    }
}

fn faulty_with(pairs: &[(&str, &str)], limits: PolicyLimits) -> std::result::Result<WasmPolicy, PolicyLoadError> {
    let engine = PolicyEngine::new(None)?;
    WasmPolicy::load(&engine, FAULTY_WASM, &config(pairs), CAPACITIES, limits)
}

/// Lines the policy's messages became.
fn policy_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("tiered::policy::guest")).collect()
}

#[test]
fn a_flooding_policy_is_held_to_its_log_budget() -> Result {
    let limits = PolicyLimits { log_line_bytes: 2048, log_bytes_per_second: 16 << 10, ..relaxed() };
    for (mode, amount, calls) in [("log-flood", "1048576", 40), ("log-lines", "20000", 4)] {
        let policy = faulty_with(&[("mode", mode), ("amount", amount)], limits)?;
        let meta = BTreeMap::new();
        let started = std::time::Instant::now();
        let ((), log) = captured::logged(Duration::ZERO, || {
            for _ in 0..calls {
                assert_eq!(policy.place(&write(&meta, "k", 10)).tiers, TierSet { hot: false, warm: true });
            }
        });
        let elapsed = started.elapsed().as_secs_f64();
        let c = policy.counters();
        assert_eq!(c.fallbacks, 0, "{mode}: logging within the deadline is not a failure: {c:?}");
        let messages = if mode == "log-flood" { calls } else { calls * amount.parse::<u64>()? };
        assert_eq!(c.log_written + c.log_dropped, messages, "{mode}: every message written or counted: {c:?}");
        assert!(c.log_dropped > 0, "{mode}: over budget, messages are dropped: {c:?}");

        let lines = policy_lines(&log);
        assert_eq!(lines.len() as u64, c.log_written, "{mode}: one line per message written");
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        // A second's worth of burst, plus the refill over the run.
        let bound = (16 << 10) as f64 * (1.0 + elapsed);
        assert!((bytes as f64) <= bound, "{mode}: {bytes} bytes of policy log in {elapsed:.2} s, bound {bound}");
        assert!(lines.iter().all(|l| l.len() < 2048 + 200), "{mode}: no line longer than the limit");
        if mode == "log-flood" {
            assert_eq!(c.log_truncated, c.log_written, "every 1 MiB message is cut: {c:?}");
            assert!(lines[0].contains("[truncated: 2048 of 1048576 bytes]"), "{}", lines[0]);
        }
        assert!(log.contains("the policy logs more than its budget"), "{mode}: the host says it drops");
    }
    Ok(())
}

#[test]
fn no_policy_message_can_start_a_log_line() -> Result {
    let policy = faulty_with(&[("mode", "log-forge")], relaxed())?;
    let meta = BTreeMap::new();
    let ((), log) = captured::logged(Duration::ZERO, || {
        let _ = policy.place(&write(&meta, "k", 10));
        let _ = policy.promote(&read(TierId::Cold));
    });
    let lines = policy_lines(&log);
    assert_eq!(lines.len(), 2, "{log}");
    for line in &lines {
        assert!(
            line.contains(r#"policy log policy=faulty text="innocent\nINFO tiered_host::http: admin token"#),
            "{line}"
        );
        assert!(line.contains(r"\r\n\u{2028}INFO"), "{line}");
    }
    for line in log.lines() {
        assert!(!line.contains("INFO tiered_host::http") || line.contains("policy=faulty"), "a forged line: {line}");
        assert!(!line.trim_start().starts_with("INFO tiered_host::http"), "a forged line: {line}");
    }
    Ok(())
}

#[test]
fn time_spent_inside_host_imports_counts_against_the_deadline() -> Result {
    // Each log line takes 100 ms to write here; the deadline is 10 ms, so a
    // starved epoch ticker still counts past it. No throttle: three calls
    // of 100 ms would spend its budget, and the third be throttled instead.
    let limits = PolicyLimits { deadline: Duration::from_millis(10), ..PolicyLimits::default() }.unthrottled();
    let policy = faulty_with(&[("mode", "log-forge")], limits)?;
    let meta = BTreeMap::new();
    let fallback = FallbackPolicy::new(CAPACITIES);
    let (answers, _) = captured::logged(Duration::from_millis(100), || {
        (0..3).map(|_| policy.place(&write(&meta, "k", 10))).collect::<Vec<_>>()
    });
    assert!(answers.iter().all(|a| *a == fallback.place(&write(&meta, "k", 10))), "{answers:?}");
    let c = policy.counters();
    assert_eq!((c.calls, c.fallbacks, c.timeouts, c.traps), (3, 3, 3, 0), "overruns, not traps: {c:?}");
    Ok(())
}

#[test]
fn a_leaking_policy_gives_its_memory_back_instead_of_pooling_it() -> Result {
    // 1 MiB leaked per call; an instance grown by more than 4 MiB is not kept.
    let limits = PolicyLimits { idle_growth_bytes: 4 << 20, instances: 4, ..relaxed() };
    let engine = PolicyEngine::with_memory(None, MemoryBudget::new(1 << 30))?;
    let policy = WasmPolicy::load(&engine, FAULTY_WASM, &config(&[("mode", "leak")]), CAPACITIES, limits)?;
    let configured = engine.memory().used();
    assert!(configured > 0, "an instance's initial memory counts");
    let meta = BTreeMap::new();
    let mut most = 0;
    for _ in 0..40 {
        assert_eq!(policy.place(&write(&meta, "k", 10)).tiers, TierSet { hot: false, warm: true });
        most = most.max(engine.memory().used());
    }
    let c = policy.counters();
    assert_eq!(c.fallbacks, 0, "leaking is not failing: {c:?}");
    assert!(c.outgrown >= 40 / 6, "instances past 4 MiB of growth are dropped: {c:?}");
    assert!(most <= configured + (6 << 20), "{most} bytes held at most, {configured} when configured");
    assert_eq!(c.idle_memory_bytes as usize, engine.memory().used(), "only the idle instance holds memory");
    assert!(c.idle_memory_bytes as usize <= configured + (6 << 20), "{c:?}");
    Ok(())
}

#[test]
fn all_instances_together_stay_within_the_process_wide_memory_bound() -> Result {
    // No growth bound on idle instances: only the process-wide one stops the leak.
    let limits = PolicyLimits { idle_growth_bytes: usize::MAX, instances: 4, ..relaxed() };
    let total = 48 << 20;
    let engine = PolicyEngine::with_memory(None, MemoryBudget::new(total))?;
    let policy = WasmPolicy::load(&engine, FAULTY_WASM, &config(&[("mode", "leak")]), CAPACITIES, limits)?;
    let second = WasmPolicy::load(&engine, FAULTY_WASM, &config(&[("mode", "leak")]), CAPACITIES, limits)?;
    let meta = BTreeMap::new();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (policy, second, meta, engine) = (&policy, &second, &meta, &engine);
            s.spawn(move || {
                let p = if t % 2 == 0 { policy } else { second };
                for _ in 0..60 {
                    let _ = p.place(&write(meta, "k", 10));
                    assert!(engine.memory().used() <= total, "{} > {total}", engine.memory().used());
                }
            });
        }
    });
    let (a, b) = (policy.counters(), second.counters());
    assert!(a.memory_refusals > 0 && a.memory_refusals == b.memory_refusals, "{a:?}");
    assert!(a.traps + b.traps > 0, "a refused growth traps and falls back: {a:?} {b:?}");
    assert_eq!((a.memory_limit_bytes, a.memory_bytes <= total as u64), (total as u64, true), "{a:?}");
    assert_eq!(a.calls + b.calls, 240, "every call answered");
    Ok(())
}

#[test]
fn the_check_of_a_slow_policy_stops_timing_at_its_time_budget() -> Result {
    use tiered_wasm::check::{TIME_BUDGET, TIMED_CALLS};
    let engine = PolicyEngine::new(None)?;
    // Tens of milliseconds a call here: a thousand would take most of a minute.
    let slow = config(&[("mode", "slow"), ("amount", "20000000")]);
    let report = check_with(&engine, FAULTY_WASM, &slow, relaxed())?;
    assert!(report.ok, "{report}");
    for c in &report.calls {
        let median = Duration::from_nanos(c.median_ns.ok_or("timed")?);
        assert!((1..TIMED_CALLS).contains(&c.timed_calls), "{}: {} calls timed", c.name, c.timed_calls);
        // The calls timed fit the budget, but for the one that passed it.
        let at_least = median.as_secs_f64() * (c.timed_calls as f64 / 2.0);
        assert!(at_least <= TIME_BUDGET.as_secs_f64() * 1.5, "{}: {} calls of {median:?}", c.name, c.timed_calls);
    }
    assert!(report.to_string().contains("or as many as fit in 1 s"), "{report}");
    Ok(())
}

#[test]
fn set_up_failures_say_their_cause_first() -> Result {
    let two_seconds = PolicyLimits { deadline: Duration::from_secs(2), ..PolicyLimits::default() };
    let err = faulty("configure-loop", two_seconds).unwrap_err();
    assert!(matches!(err, PolicyLoadError::Setup { during: "configure", .. }), "{err:?}");
    assert_eq!(err.to_string(), "the policy failed during configure: it ran past the set-up deadline of 2000 ms");
    let err = faulty("configure-loop", PolicyLimits::default()).unwrap_err();
    assert!(err.to_string().ends_with("the set-up deadline of 1000 ms"), "{err}");

    // A Rust guest's panic asks for its environment, which policies are not given.
    let err = faulty("configure-trap", relaxed()).unwrap_err().to_string();
    let cause = "the policy failed during configure: it called `wasi:cli/environment@";
    assert!(err.starts_with(cause) && err.contains("which the host does not give policies"), "{err}");
    assert!(!err.contains("backtrace") && !err.contains('\n'), "the cause alone, on one line: {err}");
    Ok(())
}

#[test]
fn a_policy_taking_more_than_its_share_of_the_machine_is_throttled() -> Result {
    // Milliseconds a call here; a thousandth of the machine is a few ms a second.
    let limits = PolicyLimits { busy_share: 0.001, ..relaxed() };
    let policy = faulty_with(&[("mode", "slow"), ("amount", "20000000")], limits)?;
    let meta = BTreeMap::new();
    let fallback = FallbackPolicy::new(CAPACITIES).place(&write(&meta, "k", 10));
    // Placements are timed one call in 16, at random (and counted 16 times):
    // 200 calls leave no real chance (2.5e-6) that none of them is timed.
    const CALLS: u64 = 200;
    let answers: Vec<_> = (0..CALLS).map(|_| policy.place(&write(&meta, "k", 10))).collect();
    let c = policy.counters();
    assert!(c.throttled > 0, "{c:?}");
    assert_eq!((c.calls, c.fallbacks, c.traps + c.timeouts), (CALLS, c.throttled, 0), "{c:?}");
    let by_fallback = answers.iter().filter(|a| **a == fallback).count() as u64;
    assert_eq!(by_fallback, c.throttled, "throttled decisions are the fallback's");
    assert!(by_fallback < CALLS, "the policy answered while within its share");

    // The check measures the policy itself, whatever the limits: never throttled.
    let engine = PolicyEngine::new(None)?;
    let report = check_with(&engine, FAULTY_WASM, &config(&[("mode", "slow"), ("amount", "2000000")]), limits)?;
    assert!(report.ok && report.counters.throttled == 0, "{report}");
    Ok(())
}
