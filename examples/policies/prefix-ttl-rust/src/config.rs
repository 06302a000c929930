//! The configuration of the prefix-TTL policy: the host's `[policy_config]`
//! pairs and the cache tiers' budgets, parsed and validated once.
//!
//! Keys (all values are strings; see `../README.md` for the shared spec):
//! - `ttl.<prefix>`: TTL of keys starting with `<prefix>`, whole seconds or `never`;
//! - `default_ttl`: TTL of keys matching no prefix (default `never`);
//! - `hot_max_object_bytes`: largest object kept in memory (default 1 MiB).
//!
//! Unknown keys, repeated keys, empty prefixes and bad values are rejected.

/// Largest accepted TTL in seconds (9 digits: every language computes it exactly).
pub const MAX_TTL_SECONDS: u64 = 999_999_999;
/// Largest accepted byte count (15 digits, below 2^53).
pub const MAX_BYTES: u64 = 999_999_999_999_999;

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `(prefix, ttl_ms)`; `None` = never expires.
    pub rules: Vec<(String, Option<u64>)>,
    pub default_ttl_ms: Option<u64>,
    pub hot_max_object_bytes: u64,
    /// The memory tier has a non-zero budget.
    pub hot_enabled: bool,
    /// The disk tier has a non-zero budget.
    pub warm_enabled: bool,
}

impl Config {
    /// The configuration of no pairs and zero budgets (nothing is cached).
    pub const EMPTY: Config = Config {
        rules: Vec::new(),
        default_ttl_ms: None,
        hot_max_object_bytes: 1 << 20,
        hot_enabled: false,
        warm_enabled: false,
    };

    /// Parses `pairs` given the hot and warm budgets.
    pub fn parse(pairs: &[(String, String)], hot_bytes: u64, warm_bytes: u64) -> Result<Config, String> {
        let mut cfg = Config {
            rules: Vec::new(),
            default_ttl_ms: None,
            hot_max_object_bytes: 1 << 20,
            hot_enabled: hot_bytes > 0,
            warm_enabled: warm_bytes > 0,
        };
        let mut seen: Vec<&str> = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            if seen.contains(&key.as_str()) {
                return Err(format!("`{key}` is set twice"));
            }
            seen.push(key);
            if let Some(prefix) = key.strip_prefix("ttl.") {
                if prefix.is_empty() {
                    return Err("`ttl.` needs a prefix after the dot (use `default_ttl` for every key)".into());
                }
                cfg.rules.push((prefix.to_owned(), parse_ttl(key, value)?));
            } else if key == "default_ttl" {
                cfg.default_ttl_ms = parse_ttl(key, value)?;
            } else if key == "hot_max_object_bytes" {
                cfg.hot_max_object_bytes = parse_whole(key, value, 0, MAX_BYTES)?;
            } else {
                return Err(format!(
                    "unknown key `{key}` (expected `ttl.<prefix>`, `default_ttl` or `hot_max_object_bytes`)"
                ));
            }
        }
        Ok(cfg)
    }

    /// The TTL rule for `key`: the longest matching prefix, else the default.
    pub fn rule_ttl(&self, key: &str) -> Option<u64> {
        let mut best: Option<&(String, Option<u64>)> = None;
        for rule in &self.rules {
            if key.starts_with(rule.0.as_str()) && best.is_none_or(|b| rule.0.len() > b.0.len()) {
                best = Some(rule);
            }
        }
        best.map_or(self.default_ttl_ms, |rule| rule.1)
    }

    /// Whether an object of `size` bytes may live in memory.
    pub fn fits_hot(&self, size: u64) -> bool {
        self.hot_enabled && size <= self.hot_max_object_bytes
    }
}

/// `never`, or whole seconds in `1..=MAX_TTL_SECONDS`, as milliseconds.
fn parse_ttl(key: &str, value: &str) -> Result<Option<u64>, String> {
    if value == "never" {
        return Ok(None);
    }
    parse_whole(key, value, 1, MAX_TTL_SECONDS).map(|s| Some(s * 1000))
}

/// ASCII digits only, within `min..=max`.
fn parse_whole(key: &str, value: &str, min: u64, max: u64) -> Result<u64, String> {
    let bad = || format!("`{key}` = `{value}`: expected a whole number from {min} to {max}");
    if value.is_empty() || value.len() > 15 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = value.parse().map_err(|_| bad())?;
    if (min..=max).contains(&n) { Ok(n) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    #[test]
    fn the_longest_prefix_wins_and_unmatched_keys_get_the_default() -> Result<(), String> {
        let cfg = Config::parse(
            &pairs(&[
                ("ttl.logs/", "3600"),
                ("ttl.logs/debug/", "60"),
                ("ttl.static/", "never"),
                ("default_ttl", "600"),
            ]),
            1 << 30,
            1 << 30,
        )?;
        assert_eq!(cfg.rule_ttl("logs/debug/x"), Some(60_000));
        assert_eq!(cfg.rule_ttl("logs/app"), Some(3_600_000));
        assert_eq!(cfg.rule_ttl("static/a.css"), None);
        assert_eq!(cfg.rule_ttl("other"), Some(600_000));
        Ok(())
    }

    #[test]
    fn bad_configurations_are_rejected_naming_the_key() {
        for (bad, word) in [
            (pairs(&[("ttl.", "5")]), "prefix"),
            (pairs(&[("ttl.a", "0")]), "ttl.a"),
            (pairs(&[("ttl.a", "-5")]), "ttl.a"),
            (pairs(&[("ttl.a", "1000000000")]), "ttl.a"),
            (pairs(&[("default_ttl", "soon")]), "default_ttl"),
            (pairs(&[("hot_max_object_bytes", "1e6")]), "hot_max_object_bytes"),
            (pairs(&[("colour", "blue")]), "colour"),
            (pairs(&[("ttl.a", "5"), ("ttl.a", "6")]), "twice"),
        ] {
            let err = Config::parse(&bad, 1, 1).unwrap_err();
            assert!(err.contains(word), "{bad:?}: {err}");
        }
    }
}
