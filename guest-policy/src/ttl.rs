//! Time-to-live rules: how long a written object lives in the cache tiers.
//!
//! The TTL of a write is decided in this order:
//! 1. the TTL the writer requested, when there is one;
//! 2. otherwise the rule `ttl.<prefix>` with the **longest** prefix of the key
//!    (a rule may say `never` to exempt a prefix from `default_ttl`);
//! 3. otherwise `default_ttl` (unset: never expires).
//!
//! Whatever the source, `max_ttl` (when set) caps the result, and turns
//! "never" into `max_ttl`: it is the operator's bound on staleness.

use crate::units::parse_duration_ms;

/// The words accepted for "no expiry" in a TTL value.
const NEVER: [&str; 2] = ["never", "none"];

/// The TTL rules of one configuration, ready to answer per key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TtlRules {
    /// `(prefix, ttl)` sorted longest prefix first, so the first match wins.
    prefixes: Vec<(String, Option<u64>)>,
    /// TTL of keys that match no prefix; `None` = never expires.
    default_ttl_ms: Option<u64>,
    /// Upper bound on every TTL, the writer's included.
    max_ttl_ms: Option<u64>,
}

impl TtlRules {
    /// Builds the rules; `prefixes` may come in any order.
    pub fn new(
        mut prefixes: Vec<(String, Option<u64>)>,
        default_ttl_ms: Option<u64>,
        max_ttl_ms: Option<u64>,
    ) -> TtlRules {
        // Longest first; ties (impossible for distinct keys of equal length to
        // both match) broken by the prefix itself for a deterministic order.
        prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        TtlRules { prefixes, default_ttl_ms, max_ttl_ms }
    }

    /// The TTL of a write, given the writer's request. `key` is called only
    /// when a prefix rule could decide: a component reads the key from the
    /// host only then, since each string copied into it costs a call.
    pub fn ttl_for<K: AsRef<str>>(&self, key: impl FnOnce() -> K, requested_ttl_ms: Option<u64>) -> Option<u64> {
        let chosen = match requested_ttl_ms {
            Some(ttl) => Some(ttl),
            None if self.prefixes.is_empty() => self.default_ttl_ms,
            None => self.rule_for(key().as_ref()),
        };
        match (chosen, self.max_ttl_ms) {
            (Some(ttl), Some(max)) => Some(ttl.min(max)),
            (None, Some(max)) => Some(max),
            (ttl, None) => ttl,
        }
    }

    /// The configured TTL for `key` (longest prefix, else the default),
    /// ignoring any writer request and the cap.
    pub fn rule_for(&self, key: &str) -> Option<u64> {
        self.prefixes
            .iter()
            .find(|(prefix, _)| key.starts_with(prefix.as_str()))
            .map_or(self.default_ttl_ms, |&(_, ttl)| ttl)
    }
}

/// Parses a TTL value: a positive duration, or `never` / `none`.
pub fn parse_ttl(value: &str) -> Result<Option<u64>, String> {
    if NEVER.iter().any(|w| value.trim().eq_ignore_ascii_case(w)) {
        return Ok(None);
    }
    match parse_duration_ms(value)? {
        0 => Err(format!("`{value}` would expire objects immediately; use a positive duration or `never`")),
        ms => Ok(Some(ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;

    fn rules() -> TtlRules {
        TtlRules::new(
            vec![("logs/".into(), Some(10 * MIN)), ("logs/audit/".into(), None), ("logs/audit/tmp/".into(), Some(MIN))],
            Some(60 * MIN),
            None,
        )
    }

    #[test]
    fn the_longest_matching_prefix_wins_whatever_the_declaration_order() {
        let r = rules();
        assert_eq!(r.ttl_for(|| "logs/app.log", None), Some(10 * MIN));
        assert_eq!(r.ttl_for(|| "logs/audit/2024.log", None), None, "`never` exempts the prefix");
        assert_eq!(r.ttl_for(|| "logs/audit/tmp/x", None), Some(MIN));
    }

    #[test]
    fn keys_matching_no_prefix_get_the_default() {
        assert_eq!(rules().ttl_for(|| "images/cat.png", None), Some(60 * MIN));
        assert_eq!(TtlRules::default().ttl_for(|| "anything", None), None);
    }

    #[test]
    fn the_writers_request_wins_over_every_rule() {
        assert_eq!(rules().ttl_for(|| "logs/audit/tmp/x", Some(5)), Some(5));
        assert_eq!(rules().ttl_for(|| "images/cat.png", Some(7 * MIN * 60)), Some(7 * MIN * 60));
    }

    #[test]
    fn max_ttl_caps_requests_rules_and_never() {
        let r = TtlRules::new(vec![("forever/".into(), None)], Some(120 * MIN), Some(30 * MIN));
        assert_eq!(r.ttl_for(|| "a", None), Some(30 * MIN), "default capped");
        assert_eq!(r.ttl_for(|| "forever/x", None), Some(30 * MIN), "never capped");
        assert_eq!(r.ttl_for(|| "a", Some(u64::MAX)), Some(30 * MIN), "request capped");
        assert_eq!(r.ttl_for(|| "a", Some(1_000)), Some(1_000), "shorter request kept");
    }

    #[test]
    fn ttl_values_are_durations_or_never_but_not_zero() {
        assert_eq!(parse_ttl("30s"), Ok(Some(30_000)));
        assert_eq!(parse_ttl("Never"), Ok(None));
        assert_eq!(parse_ttl("none"), Ok(None));
        assert!(parse_ttl("0").unwrap_err().contains("immediately"));
        assert!(parse_ttl("soon").unwrap_err().contains("not a duration"));
    }
}
