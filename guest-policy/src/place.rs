//! Placement of a write: which cache tiers receive the object, and its TTL.
//!
//! - **Size-aware**: an object goes to memory only when it is at most
//!   `hot_max_object_bytes`, and to disk only when it is at most
//!   `warm_max_object_bytes`; a tier with a zero budget receives nothing. Large
//!   objects therefore never flush many small ones out of memory (the
//!   object hit ratio is what a cache of small objects wins).
//! - **Write-allocate**: a fresh write is usually read soon (read-your-writes,
//!   then popularity decides), so an object that fits goes to both tiers;
//!   eviction scoring removes it again if it is never read.
//! - **TTL**: see [`crate::ttl`] (writer's request, then the longest prefix
//!   rule, then `default_ttl`, all capped by `max_ttl`).

use crate::config::PolicyConfig;
use crate::types::{Placement, WriteInput};

/// The placement of `write` under `cfg`.
pub fn place<K: AsRef<str>>(cfg: &PolicyConfig, write: &WriteInput, key: impl FnOnce() -> K) -> Placement {
    Placement {
        hot: cfg.fits_hot(write.size),
        warm: cfg.fits_warm(write.size),
        ttl_ms: cfg.ttl.ttl_for(key, write.requested_ttl_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;

    fn cfg(kv: &[(&str, &str)], hot: u64, warm: u64) -> PolicyConfig {
        crate::config::test_config(kv, hot, warm)
    }

    fn write(size: u64) -> WriteInput {
        WriteInput { size, requested_ttl_ms: None, now_ms: 1_700_000_000_000 }
    }

    #[test]
    fn small_objects_go_to_memory_and_disk() {
        let p = place(&cfg(&[], 256 * MIB, 8 << 30), &write(4 * KIB), || "a");
        assert_eq!(p, Placement { hot: true, warm: true, ttl_ms: None });
    }

    #[test]
    fn an_object_above_the_hot_limit_skips_memory_but_not_disk() {
        let c = cfg(&[], 256 * MIB, 8 << 30);
        assert!(place(&c, &write(MIB), || "a").hot, "exactly the limit (1 MiB) still fits");
        let p = place(&c, &write(MIB + 1), || "a");
        assert!(!p.hot && p.warm);
    }

    #[test]
    fn the_hot_limit_shrinks_with_a_small_memory_budget() {
        let c = cfg(&[], 64 * KIB, 8 << 30);
        assert!(place(&c, &write(4 * KIB), || "a").hot, "64 KiB / 16 = 4 KiB fits");
        assert!(!place(&c, &write(4 * KIB + 1), || "a").hot);
    }

    #[test]
    fn an_object_above_the_warm_limit_skips_disk_too() {
        let c = cfg(&[("warm_max_object_bytes", "100MiB")], 256 * MIB, 8 << 30);
        let p = place(&c, &write(100 * MIB + 1), || "video.mp4");
        assert!(!p.hot && !p.warm, "cold only");
    }

    #[test]
    fn zero_budgets_cache_nothing_even_empty_objects() {
        let p = place(&cfg(&[], 0, 0), &write(0), || "a");
        assert!(!p.hot && !p.warm);
    }

    #[test]
    fn ttl_follows_the_writer_then_the_longest_prefix_then_the_default() {
        let c = cfg(&[("default_ttl", "1h"), ("ttl.session/", "30m"), ("ttl.session/admin/", "5m")], MIB, MIB);
        assert_eq!(place(&c, &write(1), || "session/admin/42").ttl_ms, Some(300_000));
        assert_eq!(place(&c, &write(1), || "session/user/42").ttl_ms, Some(1_800_000));
        assert_eq!(place(&c, &write(1), || "page/home").ttl_ms, Some(3_600_000));
        let asked = WriteInput { requested_ttl_ms: Some(42), ..write(1) };
        assert_eq!(place(&c, &asked, || -> &str { panic!("the writer's TTL wins without the key") }).ttl_ms, Some(42));
    }

    #[test]
    fn the_key_is_not_read_without_prefix_rules() {
        let c = cfg(&[("default_ttl", "1h")], MIB, MIB);
        let p = place(&c, &write(1), || -> &str { panic!("no prefix rule needs the key") });
        assert_eq!(p.ttl_ms, Some(3_600_000));
    }
}
