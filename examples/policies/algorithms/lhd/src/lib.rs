//! # LHD: least hit density
//!
//! Evicts the object with the least *hit density*: the hits it can still
//! expect divided by the space-time it will take until then (its size times
//! the time it stays). The density is estimated per class of objects (by
//! how recently they were reused) and per age (requests since the object's
//! last access), from the hits and evictions seen at each age (see
//! [`model`]). Eviction samples a few random objects and the most recently
//! admitted ones and takes the one of least density. A few "explorer"
//! objects are never evicted early, so that the model also learns about
//! long lifetimes. N. Beckmann, H. Chen, A. Cidon, "LHD: Improving Cache
//! Hit Rate by Maximizing Hit Density", NSDI 2018.
//!
//! Follows libCacheSim's `LHD/` (the authors' simulator code): objects in
//! a vector sampled by index (removal moves the last into the hole); density
//! = the class's density at the object's age over its size (+1 for an
//! explorer), an object at the last age bucket ranks lowest of all;
//! 8 random samples until the 51st reconfiguration, 32 after, plus the last
//! 8 admissions that ranked below the running average of victims' densities;
//! on a read or an insertion one chance in 32 of becoming an explorer while
//! the explorers hold less than 1% of the cache (until the 50th
//! reconfiguration); a reconfiguration every `2^20` accesses. libCacheSim
//! evicts before inserting (the engine's order too). Sizes are libCacheSim's
//! bytes: one object of a unit-size trace is one byte (see [`SizeUnit`]).
//!
//! Randomness: libCacheSim draws its samples from one generator per thread
//! (Lehmer's, starting from `0xdeadbeef`), shared by every cache the thread
//! runs, so its figures vary from run to run within a thread (by about 0.005
//! at 44 objects). This order has a generator of its own with the same
//! start: it gives the figures of libCacheSim's first run in a thread, the
//! same samples in the same order, which is how `tests/traces/gen.py` runs
//! it. A removal (delete, overwrite) gives an explorer's share of the budget
//! back, which libCacheSim's `remove` does not. An order emptied (every
//! object evicted or removed) starts over as a new one, generator and model
//! included, so that its answers depend on the events since, as the host's
//! conformance kit requires; a replay's cache empties only when one arrival
//! needs all of it.
//!
//! Parameters: none (libCacheSim's LHD takes none; its constants are
//! associativity 32, admissions 8, explorer budget 1%, one explorer in 32).

pub mod model;

use model::{MAX_AGE, Model, class_of};
use tiered_order_kit::{Admission, Algorithm, Capacity, IdMap, Order, Params, SizeUnit};

/// Random samples per eviction once the model has settled (before: 8).
const ASSOCIATIVITY: u32 = 32;
/// Recent admissions always considered for eviction.
const ADMISSIONS: usize = 8;
const EXPLORER_BUDGET_FRACTION: f32 = 0.01;
const EXPLORE_INVERSE_PROBABILITY: u64 = 32;
const ACCESSES_PER_RECONFIGURATION: u64 = 1 << 20;
const EWMA_DECAY: f32 = 0.9;

/// What LHD knows of one cached object.
#[derive(Clone, Copy, Debug)]
struct Tag {
    id: u64,
    /// Bytes.
    size: u64,
    /// The access count at its last access.
    timestamp: u64,
    last_hit_age: u64,
    last_last_hit_age: u64,
    explorer: bool,
}

/// Lehmer's multiplicative generator, libCacheSim's `next_rand`.
#[derive(Debug)]
struct Lehmer(u128);

impl Default for Lehmer {
    fn default() -> Self {
        Lehmer(0xdead_beef)
    }
}

impl Lehmer {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(0xda94_2042_e4dd_58b5);
        (self.0 >> 64) as u64
    }
}

#[derive(Debug)]
pub struct Lhd {
    capacity: u64,
    unit: SizeUnit,
    model: Model,
    /// The cached objects, sampled by index.
    tags: Vec<Tag>,
    index: IdMap<usize>,
    /// Accesses so far (reads and insertions).
    timestamp: u64,
    until_reconfiguration: u64,
    recently_admitted: [Option<u64>; ADMISSIONS],
    recently_admitted_head: usize,
    /// Running average of the victims' densities.
    ewma_victim_density: f32,
    /// Bytes held by explorers.
    explorer_bytes: u64,
    rng: Lehmer,
}

impl Lhd {
    /// The tag's age in coarsened accesses, at most `MAX_AGE - 1`.
    fn age(&self, tag: &Tag) -> usize {
        let age = (self.timestamp - tag.timestamp) >> self.model.coarsening_shift;
        age.min(MAX_AGE as u64 - 1) as usize
    }

    fn class(tag: &Tag) -> usize {
        class_of(tag.last_hit_age + tag.last_last_hit_age)
    }

    fn density(&self, tag: &Tag) -> f32 {
        let age = self.age(tag);
        if age == MAX_AGE - 1 {
            return f32::MIN;
        }
        let size = (tag.size / self.unit.bytes()) as f32;
        let density = self.model.density(Self::class(tag), age) / size;
        if tag.explorer { density + 1.0 } else { density }
    }

    /// Whether explorers may take more: libCacheSim's budget (1% of the
    /// cache, in its bytes) less what they hold is still positive.
    fn explorer_budget_left(&self) -> bool {
        let unit = self.unit.bytes();
        let budget = ((self.capacity / unit) as f32 * EXPLORER_BUDGET_FRACTION) as i64;
        budget - (self.explorer_bytes / unit) as i64 > 0
    }

    /// libCacheSim's `update`: an access to `id` (held at `slot`, or just
    /// pushed when `inserted`).
    fn access(&mut self, slot: usize, inserted: bool) {
        let mut tag = self.tags[slot];
        if !inserted {
            let age = self.age(&tag);
            self.model.record_hit(Self::class(&tag), age);
            if tag.explorer {
                self.explorer_bytes -= tag.size;
            }
            tag.last_last_hit_age = tag.last_hit_age;
            tag.last_hit_age = age as u64;
        }
        tag.timestamp = self.timestamp;
        let explore = self.rng.next().is_multiple_of(EXPLORE_INVERSE_PROBABILITY);
        tag.explorer = explore && self.explorer_budget_left() && self.model.reconfigurations < 50;
        if tag.explorer {
            self.explorer_bytes += tag.size;
        }
        self.tags[slot] = tag;
        if inserted && !explore && self.density(&tag) < self.ewma_victim_density {
            self.recently_admitted[self.recently_admitted_head % ADMISSIONS] = Some(tag.id);
            self.recently_admitted_head += 1;
        }
        self.timestamp += 1;
        self.until_reconfiguration -= 1;
        if self.until_reconfiguration == 0 {
            self.model.reconfigure(self.tags.len());
            self.until_reconfiguration = ACCESSES_PER_RECONFIGURATION;
        }
    }

    /// The slot of the next victim: the least dense of the samples and
    /// the recent admissions.
    fn rank(&mut self) -> Option<usize> {
        if self.tags.is_empty() {
            return None;
        }
        let samples = if self.model.reconfigurations > 50 { ASSOCIATIVITY } else { 8 };
        let mut victim = None;
        let mut victim_density = f32::MAX;
        for _ in 0..samples {
            let slot = (self.rng.next() % self.tags.len() as u64) as usize;
            let density = self.density(&self.tags[slot]);
            if density < victim_density || victim.is_none() {
                (victim, victim_density) = (Some(slot), density);
            }
        }
        for id in self.recently_admitted.into_iter().flatten() {
            let Some(&slot) = self.index.get(&id) else { continue };
            let density = self.density(&self.tags[slot]);
            if density < victim_density {
                (victim, victim_density) = (Some(slot), density);
            }
        }
        self.ewma_victim_density = EWMA_DECAY * self.ewma_victim_density + (1.0 - EWMA_DECAY) * victim_density;
        victim
    }

    /// Takes the tag at `slot` out (the last one moves into its place).
    fn take(&mut self, slot: usize) -> Tag {
        let tag = self.tags.swap_remove(slot);
        self.index.remove(&tag.id);
        if let Some(moved) = self.tags.get(slot) {
            self.index.insert(moved.id, slot);
        }
        if tag.explorer {
            self.explorer_bytes -= tag.size;
        }
        if self.tags.is_empty() {
            self.start_over();
        }
        tag
    }

    /// An emptied order forgets what it learned and starts as a new one
    /// (the model, the clock, the generator): the same events after an
    /// emptying get the same answers, as from an order the host rebuilt.
    fn start_over(&mut self) {
        *self = Lhd { capacity: self.capacity, unit: self.unit, ..Lhd::fresh() };
    }

    fn fresh() -> Lhd {
        Lhd {
            capacity: 0,
            unit: SizeUnit::default(),
            model: Model::default(),
            tags: Vec::new(),
            index: IdMap::default(),
            timestamp: 0,
            until_reconfiguration: ACCESSES_PER_RECONFIGURATION,
            recently_admitted: [None; ADMISSIONS],
            recently_admitted_head: 0,
            ewma_victim_density: 0.0,
            explorer_bytes: 0,
            rng: Lehmer::default(),
        }
    }
}

impl Algorithm for Lhd {
    const NAME: &'static str = "lhd";

    fn new(capacity: Capacity, _params: &mut Params) -> Result<Self, String> {
        Ok(Lhd { capacity: capacity.max_bytes, ..Lhd::fresh() })
    }
}

impl Order for Lhd {
    fn hit(&mut self, id: u64) {
        if let Some(&slot) = self.index.get(&id) {
            self.access(slot, false);
        }
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.unit.observe(size);
        let tag = Tag { id, size, timestamp: 0, last_hit_age: 0, last_last_hit_age: MAX_AGE as u64, explorer: false };
        self.tags.push(tag);
        self.index.insert(id, self.tags.len() - 1);
        self.access(self.tags.len() - 1, true);
    }

    fn remove(&mut self, id: u64) {
        if let Some(&slot) = self.index.get(&id) {
            self.take(slot);
        }
    }

    fn len(&self) -> usize {
        self.tags.len()
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        let slot = self.rank()?;
        let age = self.age(&self.tags[slot]);
        self.model.record_eviction(Self::class(&self.tags[slot]), age);
        let tag = self.take(slot);
        Some((tag.id, tag.size))
    }

    fn admit(&mut self, id: u64, size: u64, need: u64) -> Admission {
        self.remove(id);
        if size > self.capacity {
            // libCacheSim does not cache an object larger than the cache.
            return Admission::Refuse;
        }
        let victims = self.evict(need);
        self.insert(id, size);
        Admission::Admit(victims)
    }
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
tiered_order_kit::export_algorithm!(Lhd);

#[cfg(test)]
mod tests {
    use super::*;

    fn lhd(bytes: u64) -> Lhd {
        Lhd::new(Capacity { max_bytes: bytes, max_objects: bytes }, &mut Params::default()).unwrap()
    }

    #[test]
    fn an_emptied_order_answers_as_a_fresh_one() {
        let run = |l: &mut Lhd, base: u64| -> Vec<u64> {
            for i in 0..64 {
                l.admit(base + i, 1, 0);
            }
            for i in (0..64).step_by(3) {
                l.hit(base + i);
            }
            l.evict(16).into_iter().map(|id| id - base).collect()
        };
        let mut used = lhd(64);
        let first = run(&mut used, 0);
        assert_eq!(first.len(), 16);
        used.evict(u64::MAX);
        assert!(used.is_empty());
        assert_eq!(run(&mut used, 1 << 20), first, "the same events after an emptying");
        assert_eq!(run(&mut lhd(64), 1 << 30), first, "a fresh order");
    }

    #[test]
    fn an_object_read_soon_after_insertion_outlives_one_never_read() {
        // Two objects of which one is read every other access: the other,
        // never read (class 0), is always the victim once it ages.
        let mut survived = 0;
        for seed in 1..=20u128 {
            let mut l = lhd(2);
            l.rng = Lehmer(seed * 0x9e37_79b9);
            l.admit(1, 1, 0);
            l.admit(2, 1, 0);
            for _ in 0..3000 {
                l.hit(1);
            }
            if l.admit(3, 1, 1) == Admission::Admit(vec![2]) {
                survived += 1;
            }
        }
        assert!(survived >= 18, "1 survived {survived} of 20 times");
    }

    #[test]
    fn the_last_age_bucket_ranks_below_everything() {
        let mut l = lhd(10);
        l.admit(1, 1, 0);
        l.timestamp += (MAX_AGE as u64) << l.model.coarsening_shift;
        assert_eq!(l.density(&l.tags[0]), f32::MIN);
    }

    #[test]
    fn removal_keeps_the_sample_vector_and_index_in_step() {
        let mut l = lhd(100);
        for id in 1..=5 {
            l.admit(id, 1, 0);
        }
        l.remove(2);
        l.remove(9);
        assert_eq!(l.len(), 4);
        for (slot, tag) in l.tags.iter().enumerate() {
            assert_eq!(l.index[&tag.id], slot);
        }
        let mut evicted: Vec<u64> = l.evict(4);
        evicted.sort_unstable();
        assert_eq!(evicted, [1, 3, 4, 5]);
        assert!(l.is_empty() && l.evict(1).is_empty());
    }

    #[test]
    fn explorers_take_at_most_their_budget() {
        // 1% of 1000 one-byte objects: explorers hold fewer than 10.
        let mut l = lhd(1000);
        for id in 0..1000 {
            l.admit(id, 1, 0);
        }
        let explorers = l.tags.iter().filter(|t| t.explorer).count() as u64;
        assert_eq!(explorers, l.explorer_bytes);
        assert!((1..=10).contains(&explorers), "{explorers} explorers");
        // An object larger than the cache is refused untouched.
        assert_eq!(l.admit(5000, 1001, 1), Admission::Refuse);
        assert_eq!(l.len(), 1000);
    }

    #[test]
    fn the_generator_is_lehmers() {
        let mut r = Lehmer(1);
        assert_eq!(r.next(), 0);
        let mut r = Lehmer(1 << 64);
        assert_eq!(r.next(), 0xda94_2042_e4dd_58b5);
    }
}
