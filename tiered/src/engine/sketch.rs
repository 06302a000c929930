//! The host's frequency estimate: a count-min sketch with periodic halving
//! (TinyLFU's "reset"), so the estimate favours recent popularity.
//!
//! Each key maps to one 64-byte block of 8-bit counters and to four counters
//! inside it, so recording an access touches a single cache line. Counters
//! saturate at 255. After `10 × counters` recorded accesses every counter is
//! halved. The estimate of a key is the minimum of its four counters.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

const BLOCK: usize = 64;

/// A concurrent, aging frequency sketch.
#[derive(Debug)]
pub struct FrequencySketch {
    counters: Box<[AtomicU8]>,
    block_mask: usize,
    hasher: foldhash::fast::FixedState,
    additions: AtomicU64,
    reset_at: u64,
}

impl FrequencySketch {
    /// A sketch sized for about `expected_keys` distinct keys (at least 4 KiB).
    pub fn new(expected_keys: usize) -> Self {
        let blocks = (expected_keys.max(1) * 4 / BLOCK).next_power_of_two().max(64);
        let len = blocks * BLOCK;
        FrequencySketch {
            counters: (0..len).map(|_| AtomicU8::new(0)).collect(),
            block_mask: blocks - 1,
            hasher: foldhash::fast::FixedState::with_seed(0x736b_6574_6368),
            additions: AtomicU64::new(0),
            reset_at: len as u64 * 10,
        }
    }

    fn slots(&self, key: &str) -> [usize; 4] {
        let h = self.hasher.hash_one(key);
        let base = ((h as usize) & self.block_mask) * BLOCK;
        let bits = h >> 32;
        std::array::from_fn(|i| base + ((bits >> (i * 6)) as usize & (BLOCK - 1)))
    }

    /// Count one access to `key`.
    pub fn record(&self, key: &str) {
        for slot in self.slots(key) {
            let c = &self.counters[slot];
            if c.load(Ordering::Relaxed) < u8::MAX {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        if self.additions.fetch_add(1, Ordering::Relaxed) + 1 == self.reset_at {
            self.halve();
        }
    }

    /// The estimated recent access count of `key`.
    pub fn estimate(&self, key: &str) -> u32 {
        self.slots(key).iter().map(|&s| self.counters[s].load(Ordering::Relaxed) as u32).min().unwrap_or(0)
    }

    fn halve(&self) {
        for c in self.counters.iter() {
            let v = c.load(Ordering::Relaxed);
            c.store(v / 2, Ordering::Relaxed);
        }
        self.additions.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_ages() {
        let s = FrequencySketch::new(16);
        for _ in 0..5 {
            s.record("a");
        }
        s.record("b");
        assert!(s.estimate("a") >= 5);
        assert!(s.estimate("b") >= 1 && s.estimate("b") < s.estimate("a"));
        assert_eq!(s.estimate("never"), 0);
        let before = s.estimate("a");
        for i in 0..s.reset_at {
            s.record(&format!("noise{}", i % 7));
        }
        assert!(s.estimate("a") < before, "counters are halved after the sample period");
    }
}
