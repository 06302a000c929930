//! [`Sketch`]: TinyLFU's approximate frequency histogram, as libCacheSim
//! keeps it (`dataStructure/minimalIncrementCBF.c`).
//!
//! A counting Bloom filter: `k` counters per id, chosen by double hashing
//! (`h1 + i·h2` modulo the number of counters, in 32-bit arithmetic, for
//! `i` in `0..k`); an id's estimate is the least of its counters. Sized as
//! a Bloom filter for `entries` ids at false-positive rate `error`:
//! `ln(1/error) / ln(2)²` counters per entry and `⌈ln 2 ×` that`⌉` hashes
//! (10 hashes, 14.4 counters per entry at libCacheSim's 0.001), at least
//! twice as many counters as hashes. `h1` and `h2` are XXH64 of the id's
//! eight little-endian bytes under libCacheSim's seeds `HASH_SEED0` and
//! `HASH_SEED1`, truncated to 32 bits.
//!
//! Two details follow libCacheSim rather than the paper: an addition
//! increments every counter of the id (not only the least ones: the
//! "minimal increment" of its name is not applied), and there is no
//! doorkeeper. [`Sketch::halve`] is the paper's reset: every counter is
//! halved.

use xxhash_rust::xxh64::xxh64;

/// ln 2 and (ln 2)² as libCacheSim writes them (15 digits), so that the
/// sizes round as its do.
#[allow(clippy::approx_constant)]
const LN2: f64 = 0.693147180559945;
const LN2_SQUARED: f64 = 0.480453013918201;

/// libCacheSim's `HASH_SEED0` and `HASH_SEED1`.
const SEEDS: [u64; 2] = [0x1234_5678, 0x1234_4321];

/// A counting Bloom filter with least-counter estimates.
#[derive(Debug, Default)]
pub struct Sketch {
    counters: Vec<u32>,
    hashes: u32,
}

impl Sketch {
    /// A sketch for `entries` ids at false-positive rate `error` (in `(0, 1)`).
    pub fn new(entries: u64, error: f64) -> Sketch {
        let per_entry = -error.ln() / LN2_SQUARED;
        let hashes = (LN2 * per_entry).ceil() as u32;
        let wanted = (per_entry * entries as f64).ceil().min(f64::from(i32::MAX)) as usize;
        let counters = wanted.max(2 * hashes as usize).max(1);
        Sketch { counters: vec![0; counters], hashes }
    }

    /// The indexes of `id`'s counters.
    fn slots(&self, id: u64) -> impl Iterator<Item = usize> + use<> {
        let bytes = id.to_le_bytes();
        let first = xxh64(&bytes, SEEDS[0]) as u32;
        let step = xxh64(&bytes, SEEDS[1]) as u32;
        let len = self.counters.len() as u32;
        (0..self.hashes).map(move |i| (first.wrapping_add(i.wrapping_mul(step)) % len) as usize)
    }

    /// How often `id` was added (never less; more when its counters are
    /// shared with other ids).
    pub fn estimate(&self, id: u64) -> u32 {
        self.slots(id).map(|slot| self.counters[slot]).min().unwrap_or(0)
    }

    /// Counts one more occurrence of `id`.
    pub fn add(&mut self, id: u64) {
        for slot in self.slots(id) {
            self.counters[slot] = self.counters[slot].saturating_add(1);
        }
    }

    /// Halves every counter (the paper's reset, libCacheSim's decay).
    pub fn halve(&mut self) {
        for counter in &mut self.counters {
            *counter >>= 1;
        }
    }

    /// The number of counters.
    pub fn width(&self) -> usize {
        self.counters.len()
    }

    /// The number of counters per id.
    pub fn depth(&self) -> u32 {
        self.hashes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_as_libcachesim_sizes_it() {
        // 0.001: 14.38 counters per entry, 10 hashes.
        let s = Sketch::new(437, 0.001);
        assert_eq!((s.width(), s.depth()), (6284, 10));
        // Too few entries: twice the hashes.
        assert_eq!(Sketch::new(0, 0.001).width(), 20);
        assert_eq!(Sketch::new(1, 0.001).width(), 20);
    }

    #[test]
    fn counts_estimate_from_below_never_and_halve() {
        let mut s = Sketch::new(1000, 0.001);
        for _ in 0..5 {
            s.add(7);
        }
        s.add(8);
        assert_eq!(s.estimate(7), 5);
        assert_eq!(s.estimate(8), 1);
        assert_eq!(s.estimate(9), 0);
        s.halve();
        assert_eq!((s.estimate(7), s.estimate(8)), (2, 0));
    }

    #[test]
    fn a_small_sketch_overestimates_through_shared_counters() {
        let mut s = Sketch::new(1, 0.001);
        for id in 0..100 {
            s.add(id);
        }
        // 20 counters, 10 per id: every id shares them all.
        assert!(s.estimate(1_000) > 0);
    }
}
