//! # S3-FIFO: three static FIFO queues
//!
//! Most objects are read once and never again ("one-hit wonders"); S3-FIFO
//! filters them out quickly with three FIFO queues:
//!
//! - **small** (10% of the cache) takes every new object. At eviction an
//!   object read at least `move-to-main-threshold` times while there moves
//!   to main; any other leaves, and its id goes to the ghost;
//! - **main** (the rest) is a CLOCK with a 2-bit counter: an object read
//!   since it was last examined goes round again with its count lowered by
//!   one, an object never read leaves;
//! - **ghost** keeps the ids (and sizes) of objects evicted from small,
//!   nothing else: an arrival found there was evicted too early, so it
//!   enters main directly.
//!
//! Eviction takes from main when main holds more than its share or small is
//! empty, else from small. J. Yang, Y. Zhang, Z. Qiu, Y. Yue, K. V. Rashmi,
//! "FIFO queues are all you need for cache eviction", SOSP 2023.
//!
//! Follows libCacheSim's `S3FIFO.c`, which counts every queue in bytes:
//! small holds `floor(small-size-ratio × cache)` bytes, main the rest, the
//! ghost `floor(ghost-size-ratio × cache)` bytes of the evicted objects'
//! sizes (libCacheSim's bytes: one object of a unit-size trace, see
//! [`SizeUnit`]). Until the first eviction an arrival that finds small full
//! goes to main, so a cache filling up does not churn small. A read adds one
//! to the object's count; entering main (moved from small, or back from the
//! ghost) resets it. An arrival larger than small is refused, and so is one
//! exactly small's size unless the ghost remembers it (libCacheSim evicts
//! for that one first and then drops it; the engine's `admit` cannot do
//! both), so a cache of fewer than 20 unit objects admits almost nothing,
//! as libCacheSim's does. An object the host puts in the tier without
//! asking (an arrival event) is held whatever its size.
//!
//! Parameters (`[policy_config]`):
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `small-size-ratio` | small's share of the cache (0 to 1) | `0.1` |
//! | `ghost-size-ratio` | the ghost's bytes as a share of the cache (0 to 4) | `0.9` |
//! | `move-to-main-threshold` | reads in small that earn a move to main (1 to 255) | `2` |

use tiered_order_kit::{Admission, Algorithm, Capacity, Order, Params, Queue, SizeUnit};

#[derive(Debug, Default)]
pub struct S3Fifo {
    /// The cache's bytes.
    capacity: u64,
    small_ratio: f64,
    ghost_ratio: f64,
    /// Reads in small that earn a move to main.
    threshold: u32,
    /// libCacheSim's one byte: the queues' budgets are whole multiples of it.
    unit: SizeUnit,
    small_bytes: u64,
    main_bytes: u64,
    ghost_bytes: u64,
    /// New objects, oldest at the back; each with its reads since it entered.
    small: Queue<u32>,
    /// Objects that earned their place; each with its 2-bit CLOCK count.
    main: Queue<u32>,
    /// Ids evicted from small, with their sizes.
    ghost: Queue,
    /// Whether anything was evicted yet (until then small overflows to main).
    has_evicted: bool,
}

impl S3Fifo {
    /// An object of `size` bytes was seen (it may change the unit).
    fn observe(&mut self, size: u64) {
        self.unit.observe(size);
        self.set_budgets();
    }

    /// The queues' budgets, whole numbers of libCacheSim's bytes.
    fn set_budgets(&mut self) {
        let unit = self.unit.bytes();
        let units = (self.capacity / unit) as f64;
        self.small_bytes = unit.saturating_mul((units * self.small_ratio) as u64);
        self.main_bytes = self.capacity.saturating_sub(self.small_bytes);
        self.ghost_bytes = unit.saturating_mul((units * self.ghost_ratio) as u64);
    }

    /// Drops the resident copy of `id`, if any (its ghost entry stays).
    fn forget_resident(&mut self, id: u64) {
        if self.small.remove(id).is_none() {
            self.main.remove(id);
        }
    }

    /// Enters `id` with a count of 0: into main when the ghost remembered
    /// it, or when small is full and nothing was evicted yet; else small.
    fn enqueue(&mut self, id: u64, size: u64, from_ghost: bool) {
        if from_ghost || (!self.has_evicted && self.small.bytes() >= self.small_bytes) {
            self.main.push_front(id, size, 0);
        } else {
            self.small.push_front(id, size, 0);
        }
    }

    /// Remembers an id evicted from small, forgetting the oldest ones to
    /// stay within the ghost's bytes. An id already remembered keeps its
    /// place; one larger than the whole ghost is not remembered.
    fn remember(&mut self, id: u64, size: u64) {
        if self.ghost_bytes == 0 || size > self.ghost_bytes || self.ghost.contains(id) {
            return;
        }
        while self.ghost.bytes() + size > self.ghost_bytes {
            self.ghost.pop_back();
        }
        self.ghost.push_front(id, size, ());
    }

    /// Small's oldest objects: those read often enough move to main, the
    /// first that was not leaves (into the ghost). `None` if all moved.
    fn evict_small(&mut self) -> Option<(u64, u64)> {
        while let Some((id, size, reads)) = self.small.pop_back() {
            if reads >= self.threshold {
                self.main.push_front(id, size, 0);
            } else {
                self.remember(id, size);
                return Some((id, size));
            }
        }
        None
    }

    /// Main's oldest objects: one read since last examined goes round again
    /// with its count lowered (a 2-bit counter: at most 3, so at most 2
    /// after), the first one not read leaves.
    fn evict_main(&mut self) -> Option<(u64, u64)> {
        while let Some((id, size, count)) = self.main.pop_back() {
            if count >= 1 {
                self.main.push_front(id, size, count.min(3) - 1);
            } else {
                return Some((id, size));
            }
        }
        None
    }
}

impl Algorithm for S3Fifo {
    const NAME: &'static str = "s3fifo";

    fn new(capacity: Capacity, params: &mut Params) -> Result<Self, String> {
        let small_ratio = params.number("small-size-ratio", 0.1, 0.0..=1.0)?;
        let ghost_ratio = params.number("ghost-size-ratio", 0.9, 0.0..=4.0)?;
        let threshold = params.number("move-to-main-threshold", 2, 1..=255)?;
        let mut s3fifo =
            S3Fifo { capacity: capacity.max_bytes, small_ratio, ghost_ratio, threshold, ..S3Fifo::default() };
        s3fifo.set_budgets();
        Ok(s3fifo)
    }
}

impl Order for S3Fifo {
    fn hit(&mut self, id: u64) {
        let reads = match self.small.get_mut(id) {
            Some(reads) => Some(reads),
            None => self.main.get_mut(id),
        };
        if let Some(reads) = reads {
            *reads = reads.saturating_add(1);
        }
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.observe(size);
        let from_ghost = self.ghost.remove(id).is_some();
        self.enqueue(id, size, from_ghost);
    }

    /// libCacheSim's removal: from small, else from the ghost, else main.
    fn remove(&mut self, id: u64) {
        if self.small.remove(id).is_none() && self.ghost.remove(id).is_none() {
            self.main.remove(id);
        }
    }

    fn len(&self) -> usize {
        self.small.len() + self.main.len()
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        self.has_evicted = true;
        while !self.is_empty() {
            let victim = if self.main.bytes() > self.main_bytes || self.small.is_empty() {
                self.evict_main()
            } else {
                self.evict_small()
            };
            if victim.is_some() {
                return victim;
            }
        }
        None
    }

    /// Held whatever its size: the host already placed it.
    fn arrive(&mut self, id: u64, size: u64) {
        self.forget_resident(id);
        self.insert(id, size);
    }

    fn admit(&mut self, id: u64, size: u64, need: u64) -> Admission {
        self.observe(size);
        self.forget_resident(id);
        let from_ghost = self.ghost.remove(id).is_some();
        if size > self.small_bytes || (size == self.small_bytes && !from_ghost) {
            return Admission::Refuse;
        }
        let victims = self.evict(need);
        self.enqueue(id, size, from_ghost);
        Admission::Admit(victims)
    }
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
tiered_order_kit::export_algorithm!(S3Fifo);

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache of `objects` unit objects with the default parameters.
    fn s3fifo(objects: u64) -> S3Fifo {
        S3Fifo::new(Capacity { max_bytes: objects, max_objects: objects }, &mut Params::default()).unwrap()
    }

    fn admit(s: &mut S3Fifo, id: u64) -> Vec<u64> {
        let used = s.small.bytes() + s.main.bytes();
        match s.admit(id, 1, (used + 1).saturating_sub(s.capacity)) {
            Admission::Admit(victims) => victims,
            Admission::Refuse => panic!("unit objects fit small"),
        }
    }

    fn ids(queue: &Queue<u32>) -> Vec<u64> {
        let mut out = Vec::new();
        let mut at = queue.back();
        while let Some(id) = at {
            out.push(id);
            at = queue.newer(id);
        }
        out
    }

    #[test]
    fn a_filling_cache_overflows_small_into_main_until_the_first_eviction() {
        // 20 objects: small holds 2, main 18, the ghost 18 ids.
        let mut s = s3fifo(20);
        for id in 1..=20 {
            assert!(admit(&mut s, id).is_empty());
        }
        assert_eq!((ids(&s.small), s.main.len()), (vec![1, 2], 18));
        // Full: 1, small's oldest, leaves for the ghost; 21 enters small.
        assert_eq!(admit(&mut s, 21), vec![1]);
        assert!(s.ghost.contains(1));
        assert_eq!(ids(&s.small), [2, 21]);
        // Small no longer overflows: 22 enters small too, pushing 2 out.
        assert_eq!(admit(&mut s, 22), vec![2]);
        assert_eq!(ids(&s.small), [21, 22]);
    }

    #[test]
    fn an_object_read_twice_in_small_moves_to_main_and_a_ghost_comes_back_to_main() {
        let mut s = s3fifo(20);
        for id in 1..=20 {
            admit(&mut s, id);
        }
        s.hit(1);
        s.hit(1);
        s.hit(2);
        // 1 (read twice) moves to main, 2 (read once) leaves.
        assert_eq!(admit(&mut s, 21), vec![2]);
        assert_eq!(s.main.front(), Some(1));
        // Main is over its share now: its oldest, never read, leaves.
        assert_eq!(admit(&mut s, 22), vec![3]);
        // 2 is remembered: back, it enters main with a count of 0.
        assert_eq!(admit(&mut s, 2), vec![21]);
        assert_eq!((s.main.get(2), s.ghost.contains(2)), (Some(&0), false));
    }

    #[test]
    fn main_gives_read_objects_another_round_with_a_two_bit_count() {
        let mut s = s3fifo(20);
        for id in 1..=20 {
            admit(&mut s, id); // small: 1, 2; main: 3..=20
        }
        for _ in 0..5 {
            s.hit(3);
        }
        s.hit(4);
        s.main.push_front(99, 1, 0); // main over its share: evict from main
        assert_eq!(s.evict(1), vec![5]);
        // 3 went round with min(5, 3) - 1 = 2, 4 with 0.
        assert_eq!((s.main.get(3), s.main.get(4)), (Some(&2), Some(&0)));
    }

    #[test]
    fn the_ghost_keeps_its_bytes_and_a_removal_forgets_an_id() {
        let mut s = s3fifo(20); // the ghost holds 18 ids
        for id in 1..=100 {
            admit(&mut s, id);
        }
        // Evicted from small in turn: 1, 2, 21, ..., 98; the last 18 remain.
        assert_eq!(s.ghost.bytes(), 18);
        assert!(s.ghost.contains(98) && s.ghost.contains(81) && !s.ghost.contains(80));
        s.remove(98);
        assert!(!s.ghost.contains(98));
        // An arrival the order did not admit is held; the ghost sends it to main.
        s.arrive(97, 1);
        assert!(s.main.contains(97) && !s.ghost.contains(97));
        assert_eq!(s.len(), 21);
    }

    #[test]
    fn a_cache_of_fewer_than_twenty_objects_admits_only_what_the_ghost_remembers() {
        // Small holds one object, and an object as large as small is refused.
        let mut s = s3fifo(19);
        assert_eq!(s.admit(1, 1, 0), Admission::Refuse);
        s.ghost.push_front(2, 1, ());
        assert_eq!(s.admit(2, 1, 0), Admission::Admit(vec![]));
    }

    #[test]
    fn an_object_as_large_as_small_is_refused_unless_the_ghost_remembers_it() {
        let mut s = S3Fifo::new(Capacity { max_bytes: 1000, max_objects: 10 }, &mut Params::default()).unwrap();
        assert_eq!(s.admit(1, 5, 0), Admission::Admit(vec![]));
        assert_eq!(s.small_bytes, 100);
        assert_eq!(s.admit(2, 100, 0), Admission::Refuse);
        assert_eq!(s.admit(3, 99, 0), Admission::Admit(vec![]));
        s.ghost.push_front(4, 100, ());
        assert_eq!(s.admit(4, 100, 0), Admission::Admit(vec![]));
        assert!(s.main.contains(4));
        assert_eq!(s.admit(5, 101, 0), Admission::Refuse);
    }

    #[test]
    fn objects_of_one_size_count_as_libcachesims_one_byte_objects() {
        // 15 objects of 150 bytes: small holds 1 (libCacheSim's floor(1.5)),
        // not 2 (floor(0.1 × 2250) = 225 bytes would hold two).
        let mut s = S3Fifo::new(Capacity { max_bytes: 2250, max_objects: 15 }, &mut Params::default()).unwrap();
        s.admit(1, 150, 0);
        assert_eq!((s.small_bytes, s.main_bytes, s.ghost_bytes), (150, 2100, 1950));
    }

    #[test]
    fn parameters_are_read_with_libcachesims_names_and_checked() {
        let mut params = Params::new(vec![
            ("small-size-ratio".into(), "0.25".into()),
            ("move-to-main-threshold".into(), "1".into()),
        ])
        .unwrap();
        let s = S3Fifo::new(Capacity { max_bytes: 100, max_objects: 100 }, &mut params).unwrap();
        assert_eq!((s.small_bytes, s.ghost_bytes, s.threshold), (25, 90, 1));
        assert_eq!(params.finish(S3Fifo::NAME), Ok(()));
        for (key, value) in [("small-size-ratio", "1.5"), ("ghost-size-ratio", "x"), ("move-to-main-threshold", "0")] {
            let mut params = Params::new(vec![(key.into(), value.into())]).unwrap();
            let err = S3Fifo::new(Capacity::default(), &mut params).unwrap_err();
            assert!(err.contains(key), "{err}");
        }
    }
}
