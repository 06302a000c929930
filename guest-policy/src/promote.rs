//! Promotion after a read served by a lower tier: which upper tiers get a copy.
//!
//! By size, with optional frequency gates. The eviction order decides what
//! stays: S3-FIFO's small queue lets a key read once (a scan, a one-hit
//! wonder) leave again before it displaces the working set, so by default
//! every hit that fits is copied up, as libCacheSim's algorithms insert
//! every miss.
//! - a **cold** hit is copied to disk when it fits there and the host's
//!   frequency estimate is at least `promote_warm_min_frequency` (default 0);
//! - a **warm or cold** hit is copied to memory when it fits there and its
//!   frequency reaches `promote_hot_min_frequency` (default 0);
//! - an object that has already expired (`expires_in_ms == 0`) is copied
//!   nowhere.

use crate::config::PolicyConfig;
use crate::types::{Promotion, ReadInput, Tier};

/// The upper tiers that receive a copy of `read`'s object under `cfg`.
pub fn promote(cfg: &PolicyConfig, read: &ReadInput) -> Promotion {
    if read.expires_in_ms == Some(0) {
        return Promotion::NONE;
    }
    let hot = cfg.fits_hot(read.size) && read.frequency >= cfg.promote_hot_min_frequency;
    match read.served_by {
        Tier::Cold => {
            Promotion { hot, warm: cfg.fits_warm(read.size) && read.frequency >= cfg.promote_warm_min_frequency }
        }
        Tier::Warm => Promotion { hot, warm: false },
        // The host never asks about hot hits; nothing is above hot anyway.
        Tier::Hot => Promotion::NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn cfg(kv: &[(&str, &str)]) -> PolicyConfig {
        crate::config::test_config(kv, 256 * MIB, 8 << 30)
    }

    fn read(served_by: Tier, size: u64, frequency: u32) -> ReadInput {
        ReadInput {
            size,
            served_by,
            age_ms: 1_000,
            access_count: u64::from(frequency),
            frequency,
            expires_in_ms: None,
            now_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn a_first_cold_hit_goes_everywhere_it_fits() {
        assert_eq!(promote(&cfg(&[]), &read(Tier::Cold, 1024, 0)), Promotion { hot: true, warm: true });
    }

    #[test]
    fn memory_admission_can_be_gated_by_frequency() {
        let c = cfg(&[("promote_hot_min_frequency", "2")]);
        assert!(!promote(&c, &read(Tier::Warm, 1024, 1)).hot, "below the gate of 2");
        assert!(promote(&c, &read(Tier::Warm, 1024, 2)).hot);
        assert_eq!(promote(&c, &read(Tier::Cold, 1024, 5)), Promotion { hot: true, warm: true });
        let strict = cfg(&[("promote_hot_min_frequency", "8")]);
        assert!(!promote(&strict, &read(Tier::Warm, 1024, 7)).hot);
        assert!(promote(&strict, &read(Tier::Warm, 1024, 8)).hot);
    }

    #[test]
    fn a_warm_hit_is_never_copied_to_warm_again() {
        assert!(!promote(&cfg(&[]), &read(Tier::Warm, 1024, 9)).warm);
    }

    #[test]
    fn frequent_but_large_objects_stay_out_of_memory() {
        let p = promote(&cfg(&[]), &read(Tier::Cold, 2 * MIB, 100));
        assert_eq!(p, Promotion { hot: false, warm: true });
    }

    #[test]
    fn disk_admission_can_be_gated_too() {
        let c = cfg(&[("promote_warm_min_frequency", "2")]);
        assert!(!promote(&c, &read(Tier::Cold, 1024, 1)).warm);
        assert!(promote(&c, &read(Tier::Cold, 1024, 2)).warm);
    }

    #[test]
    fn expired_objects_and_hot_hits_are_copied_nowhere() {
        let expired = ReadInput { expires_in_ms: Some(0), ..read(Tier::Cold, 1, 50) };
        assert_eq!(promote(&cfg(&[]), &expired), Promotion::NONE);
        assert_eq!(promote(&cfg(&[]), &read(Tier::Hot, 1, 50)), Promotion::NONE);
    }
}
