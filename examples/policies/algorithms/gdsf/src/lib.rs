//! # GDSF: greedy dual size frequency
//!
//! Each object has a priority `H = L + frequency × cost / size`, and the
//! lowest is evicted; `L`, the cache's "inflation", becomes the priority of
//! each victim, so objects ranked long ago age relative to new ones. Small
//! objects and often read ones stay; a large object read once leaves first.
//! A read adds one to the object's frequency and ranks it again with the
//! current `L`. L. Cherkasova, "Improving WWW Proxies Performance with
//! Greedy-Dual-Size-Frequency Caching Policy", HP Labs HPL-98-69, 1998.
//!
//! Follows libCacheSim's `cpp/GDSF.cpp`: cost 1, scaled as
//! `L + frequency × 10⁶ / size` in floating point; equal priorities leave in
//! the order they were last ranked (FIFO, by the request that ranked them),
//! see [`ranking`]. On a miss libCacheSim *inserts first*, then evicts the
//! lowest until the cache fits, so an arrival ranked below everything it
//! would displace is itself the victim: this order then refuses it. An
//! object larger than the cache is refused untouched. Sizes are
//! libCacheSim's bytes: one object of a unit-size trace is one byte (see
//! [`SizeUnit`]), so the priorities, and their ties, are libCacheSim's.
//!
//! Where libCacheSim and the engine differ: libCacheSim can evict objects
//! and then the arrival on one miss; the engine's answer is either a refusal
//! or an admission, so those victims are named at the next admission (or
//! eviction). Until then they are still in the tier: a read of one is a hit
//! here and a miss in libCacheSim, which this order replays as that miss (the
//! object ranked anew with frequency 1). Only traces of varying sizes see
//! this; on unit sizes a miss evicts one object, the arrival or another.
//!
//! Parameters: none.

pub mod ranking;

use ranking::{Entry, Ranking};
use tiered_order_kit::{Admission, Algorithm, Capacity, Order, Params, SizeUnit};

#[derive(Debug, Default)]
pub struct Gdsf {
    /// The tier's bytes: a larger object is refused.
    capacity: u64,
    /// Resident objects by priority; the value is the frequency.
    ranking: Ranking<u64>,
    /// `L`: the priority of the last victim.
    inflation: f64,
    /// Logical time, one step per ranking (libCacheSim's request count).
    clock: u64,
    /// libCacheSim's one byte.
    unit: SizeUnit,
    /// Victims of a refused arrival, still in the tier: `(id, size)`.
    pending: Vec<(u64, u64)>,
}

impl Gdsf {
    /// Learns the size unit from `size`; priorities already given are
    /// rescaled if the unit changes (once, when a second size appears).
    fn observe(&mut self, size: u64) {
        let before = self.unit.bytes();
        self.unit.observe(size);
        let after = self.unit.bytes();
        if after != before {
            let factor = after as f64 / before as f64;
            self.ranking.scale(factor);
            self.inflation *= factor;
        }
    }

    /// Ranks `id` at `L + frequency × 10⁶ / size`, stamped now.
    fn rank(&mut self, id: u64, size: u64, frequency: u64) {
        let units = size as f64 / self.unit.bytes() as f64;
        let priority = self.inflation + frequency as f64 * 1.0e6 / units;
        self.clock += 1;
        self.ranking.insert(id, self.clock, Entry { priority, size, value: frequency });
    }

    /// Evicts the lowest ranked object; its priority becomes `L`.
    fn evict_lowest(&mut self) -> Option<(u64, u64)> {
        let (id, entry) = self.ranking.pop_lowest()?;
        self.inflation = entry.priority;
        Some((id, entry.size))
    }
}

impl Algorithm for Gdsf {
    const NAME: &'static str = "gdsf";

    fn new(capacity: Capacity, _params: &mut Params) -> Result<Self, String> {
        Ok(Gdsf { capacity: capacity.max_bytes, ..Gdsf::default() })
    }
}

impl Order for Gdsf {
    fn hit(&mut self, id: u64) {
        if let Some(entry) = self.ranking.get(id) {
            self.rank(id, entry.size, entry.value + 1);
        } else if let Some(i) = self.pending.iter().position(|&(victim, _)| victim == id) {
            // Evicted by libCacheSim, not yet named: there it missed and
            // came back.
            let (_, size) = self.pending.swap_remove(i);
            self.rank(id, size, 1);
        }
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.observe(size);
        self.rank(id, size, 1);
    }

    fn remove(&mut self, id: u64) {
        self.ranking.remove(id);
        self.pending.retain(|&(victim, _)| victim != id);
    }

    fn len(&self) -> usize {
        self.ranking.len() + self.pending.len()
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        self.pending.pop().or_else(|| self.evict_lowest())
    }

    fn admit(&mut self, id: u64, size: u64, need: u64) -> Admission {
        self.remove(id);
        if size > self.capacity {
            return Admission::Refuse;
        }
        self.insert(id, size);
        let mut victims = std::mem::take(&mut self.pending);
        let mut freed: u64 = victims.iter().map(|&(_, bytes)| bytes).sum();
        while freed < need {
            let Some((victim, bytes)) = self.evict_lowest() else { break };
            if victim == id {
                self.pending = victims;
                return Admission::Refuse;
            }
            victims.push((victim, bytes));
            freed += bytes;
        }
        Admission::Admit(victims.into_iter().map(|(victim, _)| victim).collect())
    }
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
tiered_order_kit::export_algorithm!(Gdsf);

#[cfg(test)]
mod tests {
    use super::*;

    fn gdsf(bytes: u64) -> Gdsf {
        Gdsf::new(Capacity { max_bytes: bytes, max_objects: bytes }, &mut Params::default()).unwrap()
    }

    /// Admits `id` of `size` bytes into a cache holding `used` bytes.
    fn admit(g: &mut Gdsf, id: u64, size: u64, used: u64) -> Admission {
        g.admit(id, size, (used + size).saturating_sub(g.capacity))
    }

    fn admitted(victims: &[u64]) -> Admission {
        Admission::Admit(victims.to_vec())
    }

    #[test]
    fn on_unit_sizes_the_least_frequent_leaves_and_ties_go_oldest_first() {
        let mut g = gdsf(3);
        for id in 1..=3 {
            assert_eq!(admit(&mut g, id, 1, id - 1), admitted(&[]));
        }
        g.hit(1);
        g.hit(2);
        // 4 is ranked before the eviction, at L = 0: 10⁶, a tie with 3,
        // which was ranked first and leaves; L = 10⁶.
        assert_eq!(admit(&mut g, 4, 1, 3), admitted(&[3]));
        assert_eq!(g.inflation, 1.0e6);
        // 5 ranks L + 10⁶ = 2 × 10⁶, above 4.
        assert_eq!(admit(&mut g, 5, 1, 3), admitted(&[4]));
        // 1, 2, 5 and 6 all rank 2 × 10⁶: 1 was ranked first.
        assert_eq!(admit(&mut g, 6, 1, 3), admitted(&[1]));
    }

    #[test]
    fn an_arrival_ranked_below_every_resident_is_refused() {
        let mut g = gdsf(2);
        admit(&mut g, 1, 1, 0);
        admit(&mut g, 2, 1, 1);
        g.hit(1);
        g.hit(2);
        // 3 ranks 10⁶, below both (2 × 10⁶): libCacheSim evicts it at once.
        assert_eq!(admit(&mut g, 3, 1, 2), Admission::Refuse);
        assert_eq!((g.len(), g.inflation), (2, 1.0e6));
        // 4 ranks L + 10⁶ = 2 × 10⁶, a tie it loses to the older 1.
        assert_eq!(admit(&mut g, 4, 1, 2), admitted(&[1]));
    }

    #[test]
    fn large_objects_leave_before_small_ones() {
        let mut g = gdsf(1000);
        admit(&mut g, 1, 100, 0);
        admit(&mut g, 2, 500, 100);
        admit(&mut g, 3, 50, 600);
        // 400 more bytes: 2 (10⁶ / 500) goes first.
        assert_eq!(admit(&mut g, 4, 400, 650), admitted(&[2]));
        assert_eq!(g.inflation, 2000.0);
        // Larger than the cache: refused, nothing evicted.
        assert_eq!(admit(&mut g, 5, 1001, 550), Admission::Refuse);
        assert_eq!(g.len(), 3);
    }

    /// A cache of 1000 bytes holding 1 (100 bytes, ranked 10⁴ at L = 0)
    /// and 2 (400 bytes, ranked at L = 9500: 12000), then 3 (800 bytes,
    /// 9500 + 1250): 300 bytes must go; libCacheSim evicts 1 (100 bytes),
    /// then 3 itself.
    fn refused_after_a_victim() -> Gdsf {
        let mut g = gdsf(1000);
        // Sizes differ from the start: a byte is a byte.
        g.observe(1);
        g.observe(2);
        admit(&mut g, 1, 100, 0);
        g.inflation = 9500.0;
        admit(&mut g, 2, 400, 100);
        assert_eq!(admit(&mut g, 3, 800, 500), Admission::Refuse);
        assert_eq!((g.len(), g.inflation), (2, 10_750.0));
        g
    }

    #[test]
    fn victims_of_a_refused_arrival_are_named_at_the_next_admission() {
        let mut g = refused_after_a_victim();
        // 1 is gone by libCacheSim's account but still in the tier.
        assert_eq!(admit(&mut g, 4, 50, 500), admitted(&[1]));
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn a_read_of_a_pending_victim_replays_libcachesims_miss() {
        let mut g = refused_after_a_victim();
        // 1 comes back with frequency 1 at L = 10750.
        g.hit(1);
        assert_eq!(g.ranking.get(1), Some(Entry { priority: 20_750.0, size: 100, value: 1 }));
        assert!(g.pending.is_empty() && g.len() == 2);
        assert_eq!(g.evict(1), vec![2]);
    }

    #[test]
    fn the_size_unit_of_a_unit_size_trace_is_one_libcachesim_byte() {
        let mut g = gdsf(300);
        admit(&mut g, 1, 100, 0);
        assert_eq!(g.ranking.get(1).map(|e| e.priority), Some(1.0e6));
        // A second size: sizes are bytes again, priorities rescaled.
        admit(&mut g, 2, 50, 100);
        assert_eq!(g.ranking.get(1).map(|e| e.priority), Some(1.0e4));
        assert_eq!(g.ranking.get(2).map(|e| e.priority), Some(2.0e4));
    }
}
