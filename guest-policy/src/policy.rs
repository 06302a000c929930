//! [`DefaultPolicy`]: the four decisions of `wit/policy.wit` over one parsed
//! [`PolicyConfig`]. This is the whole native API; the WebAssembly component
//! (`component.rs`) and the host's `BuiltinPolicy` are thin mappings onto it.

use crate::config::PolicyConfig;
use crate::types::{CandidateInput, Placement, Promotion, ReadInput, Verdict, WriteInput};
use crate::{place, promote, score};

/// The default tiered policy: size-aware placement with prefix TTL rules,
/// frequency-gated promotion, GDSF-style eviction scoring with aging.
///
/// Immutable once configured and free of interior state, so one value can
/// answer from many threads and two instances given the same configuration
/// always agree.
#[derive(Clone, Debug, PartialEq)]
pub struct DefaultPolicy {
    /// Everything the decisions depend on besides their inputs.
    config: PolicyConfig,
}

impl DefaultPolicy {
    /// The name reported by [`DefaultPolicy::identity`].
    pub const NAME: &'static str = "tiered-default";
    /// The version reported by [`DefaultPolicy::identity`] (the crate's).
    pub const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    /// Parses the `[policy_config]` pairs against the tiers' byte budgets.
    ///
    /// # Errors
    /// A message naming the offending key: unknown or repeated key, or a value
    /// that does not parse (see the crate's README for every key).
    pub fn configure(pairs: &[(String, String)], hot_bytes: u64, warm_bytes: u64) -> Result<DefaultPolicy, String> {
        PolicyConfig::parse(pairs, hot_bytes, warm_bytes).map(|config| DefaultPolicy { config })
    }

    /// `(name, version)` of this policy.
    pub fn identity() -> (&'static str, &'static str) {
        (Self::NAME, Self::VERSION)
    }

    /// The configuration in force.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// Which cache tiers receive a write, and its TTL.
    /// `key` is called only when a prefix TTL rule could decide.
    pub fn place<K: AsRef<str>>(&self, write: &WriteInput, key: impl FnOnce() -> K) -> Placement {
        place::place(&self.config, write, key)
    }

    /// Which upper tiers get a copy after a read served by warm or cold.
    pub fn promote(&self, read: &ReadInput) -> Promotion {
        promote::promote(&self.config, read)
    }

    /// Exactly one finite verdict per candidate, in order; lowest leave first.
    /// `now_ms` is accepted for symmetry with the WIT call: candidates carry
    /// their own ages, so the score does not depend on it.
    pub fn score(&self, _now_ms: u64, candidates: &[CandidateInput]) -> Vec<Verdict> {
        score::score(&self.config, candidates)
    }

    /// The verdict on a single candidate (what [`DefaultPolicy::score`] maps
    /// over), for callers that hold candidates in their own types.
    pub fn verdict(&self, candidate: &CandidateInput) -> Verdict {
        score::verdict(&self.config, candidate)
    }
}

impl Default for DefaultPolicy {
    /// The policy as configured with no pairs and zero budgets: nothing is
    /// cached in memory or on disk, nothing expires, scoring still works. Used
    /// by a component called before `configure`.
    fn default() -> Self {
        DefaultPolicy { config: PolicyConfig::parse(&[], 0, 0).expect("the defaults always parse") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Tier;

    const MIB: u64 = 1 << 20;

    #[test]
    fn identity_names_the_default_policy() {
        assert_eq!(DefaultPolicy::identity(), ("tiered-default", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn configure_rejects_a_bad_value_naming_the_key() {
        let pairs = [("promote_hot_min_frequency".to_owned(), "often".to_owned())];
        let err = DefaultPolicy::configure(&pairs, MIB, MIB).unwrap_err();
        assert!(err.contains("`promote_hot_min_frequency`"), "{err}");
    }

    #[test]
    fn an_unconfigured_policy_answers_safely() {
        let p = DefaultPolicy::default();
        let w = WriteInput { size: 1, requested_ttl_ms: Some(9), now_ms: 0 };
        assert_eq!(p.place(&w, || "k"), Placement { hot: false, warm: false, ttl_ms: Some(9) });
        let r = ReadInput {
            size: 1,
            served_by: Tier::Cold,
            age_ms: 0,
            access_count: 5,
            frequency: 5,
            expires_in_ms: None,
            now_ms: 0,
        };
        assert_eq!(p.promote(&r), Promotion::NONE);
        assert!(p.score(0, &[]).is_empty());
    }

    #[test]
    fn a_popular_small_object_outlives_a_one_hit_large_one() -> Result<(), String> {
        let p = DefaultPolicy::configure(&[], 64 * MIB, 1 << 30)?;
        let cand = |size, frequency| CandidateInput {
            size,
            tier: Tier::Hot,
            age_ms: 1_000,
            idle_ms: 500,
            access_count: u64::from(frequency),
            frequency,
            expires_in_ms: None,
        };
        let v = p.score(0, &[cand(512 * 1024, 1), cand(2048, 6)]);
        assert!(v[0].score < v[1].score);
        assert!(!v[0].demote && v[1].demote, "the popular one is worth a disk copy");
        assert_eq!(v[1], p.verdict(&cand(2048, 6)));
        Ok(())
    }
}
