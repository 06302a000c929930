//! Policies in every language: each example of `examples/policies/` passes
//! the conformance kit, and the Rust, Python, JavaScript and C versions of the
//! prefix-TTL policy give the same answer to every call of one fixed sequence
//! of a thousand decisions (and reject the same bad configurations).
//!
//! The components are built by `examples/policies/build-all.sh` (see
//! `support/examples.rs` for what happens when one is missing). Compiled
//! components are cached for the whole run, as `tiered serve` does. The
//! deadline is relaxed: on a busy machine a preempted call must not count as a
//! timeout (`tiered policy check --conformance` runs the real limits).

use crate::support::decisions;
use crate::support::examples;

use std::time::Duration;

use decisions::Decision;
use tiered::policy::{Capacities, Policy};
use tiered_wasm::DEFAULT_POLICY_WASM;
use tiered_wasm::{PolicyEngine, PolicyLimits, PolicyLoadError, WasmPolicy, conformance};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const CAPACITIES: Capacities = Capacities { hot_bytes: 64 << 20, warm_bytes: 1 << 30 };

/// The prefix rules every version is configured with.
const RULES: [(&str, &str); 6] = [
    ("ttl.logs/", "3600"),
    ("ttl.logs/debug/", "60"),
    ("ttl.tmp/", "30"),
    ("ttl.static/", "never"),
    ("default_ttl", "86400"),
    ("hot_max_object_bytes", "65536"),
];

/// Default limits with a deadline no preemption reaches, and no throttle:
/// these tests compare the policies' own answers, and a fallback answer
/// (given when a slow language's calls take more than their share of a
/// busy machine) would be a false difference.
pub(crate) fn relaxed() -> PolicyLimits {
    PolicyLimits { deadline: Duration::from_secs(60), ..PolicyLimits::default() }.unthrottled()
}

/// An engine caching compiled components in the directory the black-box
/// servers use (`support/server.rs`), so each component compiles once per run.
pub(crate) fn engine() -> std::result::Result<PolicyEngine, PolicyLoadError> {
    PolicyEngine::new(Some(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("service-policy-cache")))
}

pub(crate) fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
}

#[test]
fn every_example_policy_passes_the_conformance_kit() -> Result {
    let engine = engine()?;
    let mut checked = 0;
    for name in examples::ALL {
        let Some(wasm) = examples::load(name) else { continue };
        let report = conformance(&engine, &wasm, &[], relaxed())?;
        let failed: Vec<String> =
            report.checks.iter().filter(|c| !c.passed).map(|c| format!("{}: {}", c.name, c.detail)).collect();
        assert!(report.ok && failed.is_empty(), "{name} fails conformance:\n{}", failed.join("\n"));
        assert!(report.checks.iter().any(|c| c.kind == "edge"), "the kit includes the edge inputs");
        assert_eq!(report.counters.fallbacks, 0, "{name}: {:?}", report.counters);
        checked += 1;
    }
    if examples::required() {
        assert_eq!(checked, examples::ALL.len(), "every example was checked");
    }
    Ok(())
}

#[test]
fn the_default_and_every_algorithm_of_the_library_pass_the_conformance_kit() -> Result {
    let engine = engine()?;
    let library = tiered_algorithms::ALL.iter().map(|a| (a.name, a.wasm));
    for (name, wasm) in std::iter::once(("default", DEFAULT_POLICY_WASM)).chain(library) {
        let report = conformance(&engine, wasm, &[], relaxed())?;
        assert!(report.ok, "the {name} policy fails conformance:\n{report}");
    }
    Ok(())
}

#[test]
fn the_conformance_kit_fails_policies_that_trap_answer_wrongly_or_exceed_limits() -> Result {
    let faulty = tiered_test_guests::FAULTY_WASM;
    let engine = engine()?;
    let ok = conformance(&engine, faulty, &pairs(&[("mode", "ok")]), relaxed())?;
    assert!(ok.ok, "mode = ok conforms: {ok}");
    for (mode, why) in [("trap", "trapped"), ("trap-in-observe", "trapped"), ("text-in-order", "trapped")] {
        let report = conformance(&engine, faulty, &pairs(&[("mode", mode)]), relaxed())?;
        assert!(!report.ok, "mode = {mode} must fail the kit");
        assert!(report.checks.iter().any(|c| !c.passed && c.detail.contains(why)), "{report}");
    }
    // The limits are part of the kit: a policy that loops overruns the
    // deadline, one that allocates without bound hits the memory limit.
    let short = PolicyLimits { deadline: Duration::from_millis(50), ..PolicyLimits::default() };
    let report = conformance(&engine, faulty, &pairs(&[("mode", "loop")]), short)?;
    assert!(report.checks.iter().all(|c| !c.passed || c.name.contains("empty")), "{report}");
    assert!(report.checks.iter().any(|c| c.detail.contains("deadline")), "{report}");
    let small = PolicyLimits { memory_bytes: 32 << 20, ..relaxed() };
    let report = conformance(&engine, faulty, &pairs(&[("mode", "alloc")]), small)?;
    assert!(!report.ok && report.checks.iter().any(|c| c.detail.contains("trapped")), "{report}");
    Ok(())
}

/// The four versions, loaded with [`RULES`]; `None` when one is not built.
fn prefix_ttl_versions(engine: &PolicyEngine) -> Result<Vec<(&'static str, WasmPolicy)>> {
    let mut loaded = Vec::new();
    for (name, language) in examples::PREFIX_TTL {
        if let Some(wasm) = examples::load(name) {
            loaded.push((language, WasmPolicy::load(engine, &wasm, &pairs(&RULES), CAPACITIES, relaxed())?));
        }
    }
    Ok(loaded)
}

#[test]
fn the_four_prefix_ttl_versions_answer_a_recorded_sequence_identically() -> Result {
    let engine = engine()?;
    let versions = prefix_ttl_versions(&engine)?;
    if examples::required() {
        assert_eq!(versions.len(), examples::PREFIX_TTL.len(), "every version is compared");
    } else if versions.len() < 2 {
        return Ok(()); // Nothing to compare; examples::load said why.
    }
    for (language, policy) in &versions {
        let id = policy.identity();
        assert_eq!(id.name, "prefix-ttl");
        assert_eq!(id.version, format!("0.1.0+{language}"));
    }
    let sequence = decisions::sequence(1000);
    let (reference_language, reference) = &versions[0];
    let expected: Vec<String> = sequence.iter().map(|d| d.ask(reference)).collect();
    decisions::assert_meaningful(&expected);
    for (language, policy) in &versions[1..] {
        for (i, (decision, want)) in sequence.iter().zip(&expected).enumerate() {
            let got = decision.ask(policy);
            assert_eq!(&got, want, "call {i}, {decision:?}: {language} differs from {reference_language}");
        }
        assert_eq!(policy.counters().fallbacks, 0, "{language} needed the fallback: {:?}", policy.counters());
    }
    assert!(matches!(sequence.first(), Some(Decision::Place { .. })));
    Ok(())
}

#[test]
fn the_four_prefix_ttl_versions_reject_the_same_configurations() -> Result {
    let engine = engine()?;
    let bad: [(&[(&str, &str)], &str); 7] = [
        (&[("ttl.", "5")], "ttl."),
        (&[("ttl.a/", "0")], "ttl.a/"),
        (&[("ttl.a/", "1000000000")], "ttl.a/"),
        (&[("default_ttl", "10m")], "default_ttl"),
        (&[("hot_max_object_bytes", "-1")], "hot_max_object_bytes"),
        (&[("colour", "blue")], "colour"),
        (&[("ttl.a/", "5"), ("ttl.a/", "6")], "twice"),
    ];
    for (name, language) in examples::PREFIX_TTL {
        let Some(wasm) = examples::load(name) else { continue };
        for (config, word) in &bad {
            match WasmPolicy::load(&engine, &wasm, &pairs(config), CAPACITIES, relaxed()) {
                Err(PolicyLoadError::ConfigRejected(message)) => {
                    assert!(message.contains(word), "{language} on {config:?}: {message}")
                }
                other => panic!("{language} must reject {config:?}, got {other:?}"),
            }
        }
    }
    Ok(())
}
