//! The `current-object` import: a policy reads the key, content type and
//! metadata of the object a `place` or `promote` call is about, from the host,
//! only when it asks; asked outside those calls, the import traps and the call
//! falls back.
//!
//! The test guest (`tests/guests/faulty`) in mode `text` answers "hot only"
//! (an answer the fallback never gives) exactly when the text it reads equals
//! the text it was configured to expect, and "no tier" otherwise, so each
//! assertion below compares strings inside the guest with strings the host
//! was given.

use std::collections::BTreeMap;
use std::time::Duration;

use tiered::policy::{Admission, Arrival, Capacities, Events, Placement, Policy, ReadInfo, TierId, TierSet, WriteInfo};
use tiered_wasm::{PolicyEngine, PolicyLimits, WasmPolicy};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const FAULTY_WASM: &[u8] = tiered_test_guests::FAULTY_WASM;

const CAPACITIES: Capacities = Capacities { hot_bytes: 64 << 20, warm_bytes: 1 << 30 };

fn faulty(pairs: &[(&str, &str)]) -> Result<WasmPolicy> {
    let engine = PolicyEngine::new(None)?;
    let config: Vec<(String, String)> = pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect();
    // A deadline no preemption reaches and no throttle: this file is not
    // about either, and asserts there was no fallback.
    let limits = PolicyLimits { deadline: Duration::from_secs(60), ..PolicyLimits::default() }.unthrottled();
    Ok(WasmPolicy::load(&engine, FAULTY_WASM, &config, CAPACITIES, limits)?)
}

fn write<'a>(key: &'a str, content_type: Option<&'a str>, metadata: &'a BTreeMap<String, String>) -> WriteInfo<'a> {
    WriteInfo { key, size: 10, content_type, metadata, requested_ttl_ms: None, now_ms: 1_700_000_000_000 }
}

fn read<'a>(key: &'a str, content_type: Option<&'a str>, metadata: &'a BTreeMap<String, String>) -> ReadInfo<'a> {
    ReadInfo {
        key,
        size: 10,
        content_type,
        metadata,
        served_by: TierId::Cold,
        age_ms: 1000,
        access_count: 1,
        frequency: 1,
        expires_in_ms: None,
        now_ms: 1_700_000_000_000,
    }
}

fn metadata(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// The `text` mode's answers: a match is hot only (and TTL 4242 ms for a
/// write), which the fallback never answers; a mismatch is no tier.
const HOT: TierSet = TierSet { hot: true, warm: false };
const MATCH: Placement = Placement { tiers: HOT, ttl_ms: Some(4242), class: 7 };
const MISMATCH: Placement = Placement { tiers: TierSet::NONE, ttl_ms: None, class: 7 };

#[test]
fn place_and_promote_see_the_key_content_type_and_metadata_of_their_object() -> Result {
    let policy = faulty(&[
        ("mode", "text"),
        ("expect-key", "photos/2026/cat.jpg"),
        ("expect-content-type", "image/jpeg"),
        ("expect-metadata", "camera=x100,owner=ana"),
    ])?;
    let meta = metadata(&[("owner", "ana"), ("camera", "x100")]);
    let (key, ct) = ("photos/2026/cat.jpg", Some("image/jpeg"));

    assert_eq!(policy.place(&write(key, ct, &meta)), MATCH, "the expected text, metadata sorted by name");
    assert_eq!(policy.promote(&read(key, ct, &meta)), HOT);

    // Each part is really compared: change one and the answer changes.
    let other = metadata(&[("owner", "bo"), ("camera", "x100")]);
    assert_eq!(policy.place(&write("photos/2026/dog.jpg", ct, &meta)), MISMATCH, "key");
    assert_eq!(policy.place(&write(key, None, &meta)), MISMATCH, "content type");
    assert_eq!(policy.place(&write(key, ct, &other)), MISMATCH, "metadata");
    assert_eq!(policy.promote(&read(key, Some("image/png"), &meta)), TierSet::NONE, "content type on a read");

    // Nothing of a call survives into the next: after the two-pair call,
    // one of the pairs alone does not match.
    assert_eq!(policy.place(&write(key, ct, &meta)), MATCH);
    assert_eq!(policy.place(&write(key, ct, &metadata(&[("camera", "x100")]))), MISMATCH, "a stale pair");
    assert_eq!(policy.counters().fallbacks, 0, "every answer above is the policy's");
    Ok(())
}

#[test]
fn an_object_without_content_type_or_metadata_reads_as_none_and_empty() -> Result {
    let policy = faulty(&[("mode", "text"), ("expect-key", "plain")])?;
    let none = BTreeMap::new();
    assert_eq!(policy.place(&write("plain", None, &none)), MATCH);
    assert_eq!(policy.promote(&read("plain", None, &none)), HOT);
    assert_eq!(policy.place(&write("plain", Some(""), &none)), MISMATCH, "an empty content type is not none");
    assert_eq!(policy.counters().fallbacks, 0);
    Ok(())
}

#[test]
fn asking_for_the_current_object_from_the_eviction_order_traps_and_falls_back() -> Result {
    let policy = faulty(&[("mode", "text-in-order")])?;
    let arrival = Arrival { id: 1, size: 100, class: 0 };
    assert_eq!(policy.admit(&Events::new(TierId::Hot), arrival, 0), Admission::Admit(vec![]), "the fallback's answer");
    let c = policy.counters();
    assert_eq!((c.calls, c.fallbacks, c.traps, c.order_resets), (1, 1, 1, 1), "{c:?}");

    // The decisions run on other instances, untouched (warm only: the
    // policy's own answer, not the fallback's).
    let none = BTreeMap::new();
    assert_eq!(policy.place(&write("k", None, &none)).tiers, TierSet { hot: false, warm: true });
    let c = policy.counters();
    assert_eq!((c.fallbacks, c.rebuilds), (1, 0), "{c:?}");
    Ok(())
}

#[test]
fn asking_for_the_current_object_while_configuring_refuses_the_policy() {
    match faulty(&[("mode", "text-in-configure")]) {
        Ok(_) => panic!("a policy whose configure traps must not load"),
        Err(err) => {
            let message = format!("{err:?}");
            assert!(message.contains("current-object.key called outside"), "{message}");
        }
    }
}
