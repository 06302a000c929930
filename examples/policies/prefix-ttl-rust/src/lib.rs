//! # tiered-example-prefix-ttl
//!
//! The prefix-TTL example policy, in Rust. The same decisions are implemented
//! in Python, JavaScript and C next to this folder (`../README.md` is the
//! shared spec), and a test of the host asserts that all four answer alike.
//!
//! - [`config`]: the `[policy_config]` keys (TTL rules by key prefix).
//! - this file: the two decisions as pure functions of the configuration and
//!   the call's arguments, on plain Rust types so they unit-test natively;
//!   the policy keeps no eviction order (world `policy`): the host's CLOCK
//!   evicts for it;
//! - `component`: the wit-bindgen exports (built for `wasm32-wasip2` only).

#[cfg(target_arch = "wasm32")]
mod component;
pub mod config;

pub use config::Config;

/// An object living this long or less is not worth a disk write.
pub const MINUTE_MS: u64 = 60_000;

/// A cache tier that can receive a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Hot,
    Warm,
    Cold,
}

/// Placement of a write: `(hot, warm, ttl_ms)`.
///
/// TTL: the rule of the longest matching prefix (else `default_ttl`), lowered
/// to the writer's requested TTL when that is shorter. Tiers: memory when the
/// object fits; disk unless the object lives one minute or less (not worth a
/// disk write).
///
/// `key` is called only when a prefix rule is configured: the component then
/// reads the key from the host, a copy into its memory.
pub fn place<K: AsRef<str>>(
    cfg: &Config,
    key: impl FnOnce() -> K,
    size: u64,
    requested_ttl_ms: Option<u64>,
) -> (bool, bool, Option<u64>) {
    let rule = if cfg.rules.is_empty() { cfg.default_ttl_ms } else { cfg.rule_ttl(key().as_ref()) };
    let ttl = match (rule, requested_ttl_ms) {
        (Some(rule), Some(asked)) => Some(rule.min(asked)),
        (rule, asked) => rule.or(asked),
    };
    let short_lived = ttl.is_some_and(|t| t <= MINUTE_MS);
    (cfg.fits_hot(size), cfg.warm_enabled && !short_lived, ttl)
}

/// Promotion after a read served by `served_by`: `(hot, warm)`.
///
/// Nothing for an object expiring within a second. A cold hit goes to disk;
/// memory needs a second read (`access_count >= 2`) and an object that fits.
pub fn promote(
    cfg: &Config,
    size: u64,
    served_by: Tier,
    access_count: u64,
    expires_in_ms: Option<u64>,
) -> (bool, bool) {
    if expires_in_ms.is_some_and(|ms| ms < 1000) || served_by == Tier::Hot {
        return (false, false);
    }
    let hot = cfg.fits_hot(size) && access_count >= 2;
    let warm = served_by == Tier::Cold && cfg.warm_enabled;
    (hot, warm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        let pairs = [("ttl.tmp/", "30"), ("ttl.logs/", "3600"), ("hot_max_object_bytes", "4096")];
        let pairs: Vec<_> = pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect();
        Config::parse(&pairs, 1 << 20, 1 << 30).unwrap()
    }

    #[test]
    fn placement_follows_size_and_ttl() {
        assert_eq!(place(&cfg(), || "logs/a", 100, None), (true, true, Some(3_600_000)));
        assert_eq!(place(&cfg(), || "logs/a", 100, Some(5_000)), (true, false, Some(5_000)));
        assert_eq!(place(&cfg(), || "tmp/a", 10_000, None), (false, false, Some(30_000)));
        assert_eq!(place(&cfg(), || "other", 10_000, None), (false, true, None));
        assert_eq!(place(&cfg(), || "other", 10, Some(7_200_000)), (true, true, Some(7_200_000)));
    }

    #[test]
    fn the_key_is_read_only_when_a_prefix_rule_is_configured() {
        let pairs = [("default_ttl".to_owned(), "60".to_owned())];
        let no_rules = Config::parse(&pairs, 1 << 20, 1 << 30).unwrap();
        let unread = || -> &str { panic!("no prefix rule needs the key") };
        assert_eq!(place(&no_rules, unread, 100, None), (true, false, Some(60_000)));
    }

    #[test]
    fn memory_waits_for_the_second_read() {
        assert_eq!(promote(&cfg(), 100, Tier::Cold, 1, None), (false, true));
        assert_eq!(promote(&cfg(), 100, Tier::Cold, 2, None), (true, true));
        assert_eq!(promote(&cfg(), 100, Tier::Warm, 2, Some(5_000)), (true, false));
        assert_eq!(promote(&cfg(), 100_000, Tier::Warm, 9, None), (false, false));
        assert_eq!(promote(&cfg(), 100, Tier::Cold, 9, Some(999)), (false, false));
    }
}
