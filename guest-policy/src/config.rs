//! The policy's configuration: the host's `[policy_config]` table (string
//! pairs) plus the cache tiers' byte budgets, parsed and validated once.
//!
//! Every key, its unit and its default are listed in `guest-policy/README.md`
//! and in [`KNOWN_KEYS`]. Unknown keys, duplicated keys and bad values are
//! rejected with a message naming the key, so a typo never silently falls back
//! to a default.

use crate::expert::Eviction;
use crate::s3fifo::S3FifoParams;
use crate::ttl::{TtlRules, parse_ttl};
use crate::units::{parse_bytes, parse_count, parse_ratio};

const MIB: u64 = 1 << 20;

/// S3-FIFO's parameters unless configured: libCacheSim's, except a ghost
/// that remembers 1.5 times the tier's bytes of evicted objects where
/// libCacheSim's remembers 0.9. An object that comes back after a reuse
/// distance of one to one and a half tiers then goes straight to main
/// instead of through small: on the real traces this takes the default from
/// 1.5 points behind the best online algorithm (cloudPhysicsIO, 10%) to
/// ahead of all of them, and costs the Zipf traces up to 0.4 point, every
/// case staying within 1.0 point of the best (BENCHMARKS.md, "Miss ratios:
/// default policy vs libCacheSim"). `ghost_ratio = "0.9"` gives
/// libCacheSim's S3-FIFO back.
pub const DEFAULT_ORDER: S3FifoParams = S3FifoParams { ghost_ratio: 1.5, ..S3FifoParams::LIBCACHESIM };

/// The prefix of the per-prefix TTL keys (`ttl.<prefix>`).
pub const TTL_PREFIX: &str = "ttl.";

/// The plain keys this policy understands (besides `ttl.<prefix>`).
pub const KNOWN_KEYS: [&str; 10] = [
    "hot_max_object_bytes",
    "warm_max_object_bytes",
    "promote_warm_min_frequency",
    "promote_hot_min_frequency",
    "small_queue_ratio",
    "ghost_ratio",
    "move_to_main_threshold",
    "eviction",
    "default_ttl",
    "max_ttl",
];

/// A validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyConfig {
    /// Byte budget of the memory tier (0: nothing is cached in memory).
    pub hot_bytes: u64,
    /// Byte budget of the disk tier (0: nothing is cached on disk).
    pub warm_bytes: u64,
    /// Largest object the memory tier accepts, so one object cannot flush it.
    pub hot_max_object_bytes: u64,
    /// Largest object the disk tier accepts.
    pub warm_max_object_bytes: u64,
    /// Frequency a cold hit needs to be copied to disk (0: every cold hit).
    pub promote_warm_min_frequency: u32,
    /// Frequency (the host's estimate) a warm or cold hit needs to be copied
    /// to memory (0: every hit; S3-FIFO's small queue already keeps one-hit
    /// wonders from staying).
    pub promote_hot_min_frequency: u32,
    /// How each tier is ordered: `adaptive` (the default) or one expert.
    pub eviction: Eviction,
    /// S3-FIFO's parameters, wherever a tier runs it.
    pub order: S3FifoParams,
    /// The TTL rules (prefixes, default, cap).
    pub ttl: TtlRules,
}

impl PolicyConfig {
    /// Parses `pairs` against the tiers' budgets. An empty `pairs` yields the
    /// defaults, which never fails.
    pub fn parse(pairs: &[(String, String)], hot_bytes: u64, warm_bytes: u64) -> Result<PolicyConfig, String> {
        let mut cfg = PolicyConfig {
            hot_bytes,
            warm_bytes,
            hot_max_object_bytes: MIB.min(hot_bytes / 16),
            warm_max_object_bytes: warm_bytes / 8,
            promote_warm_min_frequency: 0,
            promote_hot_min_frequency: 0,
            eviction: Eviction::default(),
            order: DEFAULT_ORDER,
            ttl: TtlRules::default(),
        };
        let (mut prefixes, mut default_ttl, mut max_ttl) = (Vec::new(), None, None);
        let mut seen = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            if seen.contains(&key.as_str()) {
                return Err(format!("[policy_config] key `{key}` is given more than once"));
            }
            seen.push(key.as_str());
            let named = |msg: String| format!("[policy_config] key `{key}`: {msg}");
            match key.as_str() {
                "hot_max_object_bytes" => cfg.hot_max_object_bytes = parse_bytes(value).map_err(named)?,
                "warm_max_object_bytes" => cfg.warm_max_object_bytes = parse_bytes(value).map_err(named)?,
                "promote_warm_min_frequency" => cfg.promote_warm_min_frequency = parse_count(value).map_err(named)?,
                "promote_hot_min_frequency" => cfg.promote_hot_min_frequency = parse_count(value).map_err(named)?,
                "small_queue_ratio" => cfg.order.small_ratio = parse_ratio(value, 0.0, 1.0).map_err(named)?,
                "ghost_ratio" => cfg.order.ghost_ratio = parse_ratio(value, 0.0, 4.0).map_err(named)?,
                "move_to_main_threshold" => match parse_count(value).map_err(named)? {
                    n @ 1..=255 => cfg.order.move_to_main = n as u8,
                    _ => return Err(named(format!("`{value}` must lie between 1 and 255"))),
                },
                "eviction" => cfg.eviction = Eviction::parse(value).map_err(named)?,
                "default_ttl" => default_ttl = parse_ttl(value).map_err(named)?,
                "max_ttl" => max_ttl = parse_ttl(value).map_err(named)?,
                other => match other.strip_prefix(TTL_PREFIX) {
                    Some("") => {
                        return Err(named("empty prefix; use `default_ttl` for every key".into()));
                    }
                    Some(prefix) => prefixes.push((prefix.to_owned(), parse_ttl(value).map_err(named)?)),
                    None => {
                        return Err(format!(
                            "[policy_config] unknown key `{key}` (known keys: {}, {TTL_PREFIX}<prefix>)",
                            KNOWN_KEYS.join(", ")
                        ));
                    }
                },
            }
        }
        // An explicit object limit never exceeds the tier's whole budget.
        cfg.hot_max_object_bytes = cfg.hot_max_object_bytes.min(hot_bytes);
        cfg.warm_max_object_bytes = cfg.warm_max_object_bytes.min(warm_bytes);
        cfg.ttl = TtlRules::new(prefixes, default_ttl, max_ttl);
        Ok(cfg)
    }

    /// Whether an object of `size` bytes may live in memory.
    pub fn fits_hot(&self, size: u64) -> bool {
        self.hot_bytes > 0 && size <= self.hot_max_object_bytes
    }

    /// Whether an object of `size` bytes may live on disk.
    pub fn fits_warm(&self, size: u64) -> bool {
        self.warm_bytes > 0 && size <= self.warm_max_object_bytes
    }
}

/// A configuration from `key = value` pairs and the tiers' budgets, for the
/// decision modules' tests.
#[cfg(test)]
pub(crate) fn test_config(kv: &[(&str, &str)], hot_bytes: u64, warm_bytes: u64) -> PolicyConfig {
    let pairs: Vec<_> = kv.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect();
    PolicyConfig::parse(&pairs, hot_bytes, warm_bytes).expect("valid test config")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
        kv.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    #[test]
    fn defaults_derive_object_limits_from_the_budgets() -> Result<(), String> {
        let small = PolicyConfig::parse(&[], 64 * MIB, 8 << 30)?;
        assert_eq!(small.hot_max_object_bytes, MIB, "min(1 MiB, hot / 16)");
        assert_eq!(small.warm_max_object_bytes, 1 << 30, "warm / 8");
        let tiny = PolicyConfig::parse(&[], 1600, 0)?;
        assert_eq!(tiny.hot_max_object_bytes, 100);
        assert!(!tiny.fits_warm(0), "a zero budget caches nothing");
        assert_eq!(tiny.promote_hot_min_frequency, 0);
        assert_eq!(tiny.order, S3FifoParams { small_ratio: 0.1, ghost_ratio: 1.5, move_to_main: 2 });
        Ok(())
    }

    #[test]
    fn every_key_is_parsed_with_its_unit() -> Result<(), String> {
        let cfg = PolicyConfig::parse(
            &pairs(&[
                ("hot_max_object_bytes", "64KiB"),
                ("warm_max_object_bytes", "10MB"),
                ("promote_warm_min_frequency", "1"),
                ("promote_hot_min_frequency", "3"),
                ("small_queue_ratio", "0.2"),
                ("ghost_ratio", "1.5"),
                ("move_to_main_threshold", "1"),
                ("default_ttl", "1d"),
                ("max_ttl", "7d"),
                ("ttl.tmp/", "30s"),
                ("eviction", "lirs"),
            ]),
            MIB,
            1 << 30,
        )?;
        assert_eq!((cfg.hot_max_object_bytes, cfg.warm_max_object_bytes), (64 * 1024, 10_000_000));
        assert_eq!((cfg.promote_warm_min_frequency, cfg.promote_hot_min_frequency), (1, 3));
        assert_eq!(cfg.order, S3FifoParams { small_ratio: 0.2, ghost_ratio: 1.5, move_to_main: 1 });
        assert_eq!(cfg.eviction, Eviction::Only(crate::expert::Expert::Lirs));
        assert_eq!(cfg.ttl.ttl_for(|| "tmp/x", None), Some(30_000));
        assert_eq!(cfg.ttl.ttl_for(|| "other", None), Some(86_400_000));
        Ok(())
    }

    #[test]
    fn explicit_object_limits_are_capped_by_the_budget() -> Result<(), String> {
        let cfg = PolicyConfig::parse(&pairs(&[("hot_max_object_bytes", "1GiB")]), MIB, 0)?;
        assert_eq!(cfg.hot_max_object_bytes, MIB);
        Ok(())
    }

    #[test]
    fn bad_values_are_rejected_naming_the_key() {
        for (key, value) in [
            ("hot_max_object_bytes", "big"),
            ("promote_hot_min_frequency", "-1"),
            ("small_queue_ratio", "NaN"),
            ("ghost_ratio", "-1"),
            ("move_to_main_threshold", "0"),
            ("eviction", "lru"),
            ("default_ttl", "0s"),
            ("ttl.logs/", "tomorrow"),
            ("ttl.", "1h"),
        ] {
            let err = PolicyConfig::parse(&pairs(&[(key, value)]), MIB, MIB).unwrap_err();
            assert!(err.contains(&format!("`{key}`")), "{key}={value}: {err}");
        }
    }

    #[test]
    fn unknown_and_duplicated_keys_are_rejected() {
        let err = PolicyConfig::parse(&pairs(&[("hot_max_objct_bytes", "1")]), MIB, MIB).unwrap_err();
        assert!(err.contains("unknown key `hot_max_objct_bytes`") && err.contains("hot_max_object_bytes"), "{err}");
        let err = PolicyConfig::parse(&pairs(&[("ghost_ratio", "1"), ("ghost_ratio", "2")]), MIB, MIB).unwrap_err();
        assert!(err.contains("`ghost_ratio` is given more than once"), "{err}");
    }
}
