//! [`DefaultPolicy`]: the stateless decisions of `wit/policy.wit` over one
//! parsed [`PolicyConfig`], and the order it starts ([`DefaultPolicy::order`]).
//! The WebAssembly component (`component.rs`) and the host's `BuiltinPolicy`
//! are thin mappings onto it.

use crate::config::PolicyConfig;
use crate::order::DefaultOrder;
use crate::types::{Placement, Promotion, ReadInput, WriteInput};
use crate::{place, promote};

/// The default tiered policy: size-aware placement with prefix TTL rules,
/// promotion by size, an adaptive eviction order per tier.
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

    /// An empty eviction order for this configuration's tiers, sized for
    /// `max_objects` (hot, warm) residents.
    pub fn order(&self, max_objects: (u64, u64)) -> DefaultOrder {
        DefaultOrder::new(&self.config, max_objects)
    }
}

impl Default for DefaultPolicy {
    /// The policy as configured with no pairs and zero budgets: nothing is
    /// cached in memory or on disk, nothing expires. Used by a component
    /// called before `configure`.
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
        assert_eq!(p.order((0, 0)).len(Tier::Hot), 0);
    }
}
