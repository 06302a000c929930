//! [`BuiltinPolicy`]: the default policy (crate `tiered-default-policy`, the
//! logic of `guest-policy/`) linked natively, with no WebAssembly in between.
//!
//! It answers exactly as the embedded default component does, because both
//! run the same [`DefaultPolicy`] code; this file only maps the seam's types
//! onto the guest crate's. It serves as the native baseline in benchmarks
//! (the cost of the component boundary is the difference) and wherever a
//! policy is needed without a wasmtime engine.

use tiered_default_policy::{CandidateInput, DefaultPolicy, ReadInput, Tier as GuestTier, WriteInput};

use super::busy::{CallClock, Timing};
use super::{
    Candidate, Capacities, Placement, Policy, PolicyCounters, PolicyIdentity, ReadInfo, TierId, TierSet, Verdict,
    WriteInfo,
};

/// The default policy, native.
///
/// [`Policy::counters`] reports real `calls` and `busy_ns` (timed as for a
/// component, see `busy.rs`); the failure counters stay zero because
/// native code cannot trap, overrun a deadline or answer with a wrong shape.
#[derive(Debug)]
pub struct BuiltinPolicy {
    /// The configured decision logic (immutable, shared by all callers).
    policy: DefaultPolicy,
    /// Decisions asked and time spent deciding, for comparison with the
    /// component.
    clock: CallClock,
}

impl BuiltinPolicy {
    /// Configures the default policy with the `[policy_config]` pairs and the
    /// cache tiers' budgets.
    ///
    /// # Errors
    /// The policy's message naming the bad key (unknown key, bad value).
    pub fn new(config: &[(String, String)], capacities: Capacities) -> Result<BuiltinPolicy, String> {
        let policy = DefaultPolicy::configure(config, capacities.hot_bytes, capacities.warm_bytes)?;
        Ok(BuiltinPolicy { policy, clock: CallClock::default() })
    }

    /// Runs one decision, counting it and the time it took.
    fn timed<R>(&self, timing: Timing, decide: impl FnOnce(&DefaultPolicy) -> R) -> R {
        self.clock.run(timing, || decide(&self.policy))
    }
}

fn guest_tier(tier: TierId) -> GuestTier {
    match tier {
        TierId::Hot => GuestTier::Hot,
        TierId::Warm => GuestTier::Warm,
        TierId::Cold => GuestTier::Cold,
    }
}

impl Policy for BuiltinPolicy {
    fn identity(&self) -> PolicyIdentity {
        let (name, version) = DefaultPolicy::identity();
        PolicyIdentity { name: name.into(), version: version.into(), interface: "native".into(), sha256: None }
    }

    fn place(&self, write: &WriteInfo<'_>) -> Placement {
        let input = WriteInput { size: write.size, requested_ttl_ms: write.requested_ttl_ms, now_ms: write.now_ms };
        let p = self.timed(Timing::Sampled, |policy| policy.place(&input, || write.key));
        Placement { tiers: TierSet { hot: p.hot, warm: p.warm }, ttl_ms: p.ttl_ms }
    }

    fn promote(&self, read: &ReadInfo<'_>) -> TierSet {
        let input = ReadInput {
            size: read.size,
            served_by: guest_tier(read.served_by),
            age_ms: read.age_ms,
            access_count: read.access_count,
            frequency: read.frequency,
            expires_in_ms: read.expires_in_ms,
            now_ms: read.now_ms,
        };
        let p = self.timed(Timing::Sampled, |policy| policy.promote(&input));
        TierSet { hot: p.hot, warm: p.warm }
    }

    fn score(&self, _now_ms: u64, candidates: &[Candidate]) -> Vec<Verdict> {
        self.timed(Timing::Always, |policy| {
            candidates
                .iter()
                .map(|c| {
                    let v = policy.verdict(&CandidateInput {
                        size: c.size,
                        tier: guest_tier(c.tier),
                        age_ms: c.age_ms,
                        idle_ms: c.idle_ms,
                        access_count: c.access_count,
                        frequency: c.frequency,
                        expires_in_ms: c.expires_in_ms,
                    });
                    Verdict { score: v.score, demote: v.demote }
                })
                .collect()
        })
    }

    fn counters(&self) -> PolicyCounters {
        PolicyCounters { calls: self.clock.calls(), busy_ns: self.clock.busy_ns(), ..PolicyCounters::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const MIB: u64 = 1 << 20;

    fn policy(pairs: &[(&str, &str)]) -> Result<BuiltinPolicy, String> {
        let pairs: Vec<_> = pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect();
        BuiltinPolicy::new(&pairs, Capacities { hot_bytes: 64 * MIB, warm_bytes: 1 << 30 })
    }

    #[test]
    fn identifies_as_the_default_policy_linked_natively() -> Result<(), String> {
        let id = policy(&[])?.identity();
        assert_eq!((id.name.as_str(), id.interface.as_str(), id.sha256), ("tiered-default", "native", None));
        Ok(())
    }

    #[test]
    fn a_bad_config_is_rejected_naming_the_key() {
        let err = policy(&[("ttl.logs/", "whenever")]).unwrap_err();
        assert!(err.contains("`ttl.logs/`"), "{err}");
    }

    #[test]
    fn decisions_map_through_and_are_counted() -> Result<(), String> {
        let p = policy(&[("ttl.tmp/", "30s")])?;
        let meta = BTreeMap::new();
        let write =
            |key, size| WriteInfo { key, size, content_type: None, metadata: &meta, requested_ttl_ms: None, now_ms: 0 };
        assert_eq!(p.place(&write("tmp/a", 1024)), Placement { tiers: TierSet::ALL, ttl_ms: Some(30_000) });
        assert_eq!(p.place(&write("big", 2 * MIB)).tiers, TierSet { hot: false, warm: true });

        let read = ReadInfo {
            key: "k",
            size: 1024,
            content_type: None,
            metadata: &meta,
            served_by: TierId::Cold,
            age_ms: 0,
            access_count: 1,
            frequency: 1,
            expires_in_ms: None,
            now_ms: 0,
        };
        assert_eq!(p.promote(&read), TierSet { hot: false, warm: true });
        assert_eq!(p.promote(&ReadInfo { frequency: 2, ..read }), TierSet::ALL);

        let cand = |size, frequency| Candidate {
            key: "k".into(),
            size,
            tier: TierId::Hot,
            age_ms: 0,
            idle_ms: 0,
            access_count: 0,
            frequency,
            expires_in_ms: None,
        };
        let verdicts = p.score(0, &[cand(MIB, 0), cand(0, u32::MAX), cand(u64::MAX, 3)]);
        assert_eq!(verdicts.len(), 3);
        assert!(verdicts.iter().all(|v| v.score.is_finite()));
        assert!(verdicts[0].score < verdicts[1].score);
        assert!(p.score(0, &[]).is_empty());

        let counters = p.counters();
        assert_eq!((counters.calls, counters.fallbacks), (6, 0));
        Ok(())
    }
}
