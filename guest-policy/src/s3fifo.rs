//! S3-FIFO, the eviction order of one cache tier (Yang et al., "FIFO queues
//! are all you need for cache eviction", SOSP 2023), as libCacheSim's
//! `S3FIFO.c` runs it:
//!
//! - a **small** FIFO (`small_ratio` of the bytes, default 0.1) takes new
//!   objects; evicted from it, an object read at least `move_to_main` times
//!   (default 2) while there moves to main, any other leaves and its id goes
//!   to the ghost;
//! - a **main** FIFO (the rest) with a 2-bit CLOCK: an object read since it
//!   was last examined goes round again with its count lowered, one never
//!   read leaves;
//! - a **ghost** FIFO of ids only (`ghost_ratio` of the bytes, default 0.9,
//!   counted with the objects' sizes): an arrival found there goes straight
//!   to main.
//!
//! Eviction takes from main when main is over its share or small is empty,
//! else from small. Until the first eviction, an arrival that finds small
//! full goes to main (libCacheSim's rule, so a cache filling up does not
//! churn its small queue).
//!
//! One deliberate difference: an object not smaller than the small queue
//! goes straight to main, where libCacheSim refuses it (it could never be
//! cached: only small's evictions feed the ghost). Placement decides which
//! objects a tier takes (`hot_max_object_bytes`); the order does not
//! silently overrule it. With the default placement limits (at most 1/16
//! of the hot budget) the case does not arise in memory.
//!
//! Queues hold `(id, stamp)` pairs and removal is lazy: an entry whose
//! object left, or came back with a new stamp, is skipped when it reaches
//! the head. Every operation is O(1) amortized.

use std::collections::{HashMap, VecDeque};

use crate::ids::IdMap;

/// Which queue an object is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Queue {
    Small,
    Main,
}

#[derive(Clone, Copy, Debug)]
struct Object {
    size: u64,
    stamp: u32,
    /// Reads since insertion (small) or since last examined (main).
    freq: u8,
    queue: Queue,
}

/// The parameters, as libCacheSim names them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct S3FifoParams {
    /// Share of the tier's bytes for the small queue.
    pub small_ratio: f64,
    /// Bytes of the ghost, as a share of the tier's bytes.
    pub ghost_ratio: f64,
    /// Reads in small that earn a move to main.
    pub move_to_main: u8,
}

impl Default for S3FifoParams {
    fn default() -> Self {
        S3FifoParams { small_ratio: 0.1, ghost_ratio: 0.9, move_to_main: 2 }
    }
}

/// The S3-FIFO order of one tier.
#[derive(Debug)]
pub struct S3Fifo {
    params: S3FifoParams,
    small_cap: u64,
    main_cap: u64,
    ghost_cap: u64,
    objects: IdMap<Object>,
    small: VecDeque<(u64, u32)>,
    main: VecDeque<(u64, u32)>,
    small_bytes: u64,
    main_bytes: u64,
    /// id → (stamp, size) of the ids the ghost remembers.
    ghost: IdMap<(u32, u64)>,
    ghost_queue: VecDeque<(u64, u32)>,
    ghost_bytes: u64,
    next_stamp: u32,
    has_evicted: bool,
}

impl S3Fifo {
    /// An empty order for a tier of `capacity` bytes, its table sized for
    /// `objects` residents (grown past that if needed: a rehash of millions
    /// of entries can outlast a call's deadline, so size it once).
    pub fn new(capacity: u64, objects: usize, params: S3FifoParams) -> S3Fifo {
        let small_cap = (capacity as f64 * params.small_ratio) as u64;
        S3Fifo {
            params,
            small_cap,
            main_cap: capacity - small_cap.min(capacity),
            ghost_cap: (capacity as f64 * params.ghost_ratio) as u64,
            objects: HashMap::with_capacity_and_hasher(objects, Default::default()),
            small: VecDeque::new(),
            main: VecDeque::new(),
            small_bytes: 0,
            main_bytes: 0,
            ghost: HashMap::default(),
            ghost_queue: VecDeque::new(),
            ghost_bytes: 0,
            next_stamp: 0,
            has_evicted: false,
        }
    }

    /// Objects held.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.small_bytes + self.main_bytes
    }

    /// Whether `id` is held.
    pub fn contains(&self, id: u64) -> bool {
        self.objects.contains_key(&id)
    }

    /// A read of `id` (ignored if not held).
    pub fn hit(&mut self, id: u64) {
        if let Some(o) = self.objects.get_mut(&id) {
            o.freq = o.freq.saturating_add(1);
        }
    }

    /// `id` left the tier by someone else's decision (ignored if not held).
    pub fn remove(&mut self, id: u64) {
        if let Some(o) = self.objects.remove(&id) {
            match o.queue {
                Queue::Small => self.small_bytes -= o.size,
                Queue::Main => self.main_bytes -= o.size,
            }
        }
    }

    /// `id` entered the tier without a decision (a hand-over): inserted by
    /// the usual rule, nothing evicted.
    pub fn arrived(&mut self, id: u64, size: u64) {
        self.remove(id);
        let ghost_hit = self.forget_ghost(id);
        self.insert(id, size, ghost_hit);
    }

    /// Decide on an arrival: `Some(victims)` evicts them (freeing at least
    /// `need` bytes, when the order holds that much) and inserts the
    /// arrival. S3-FIFO admits every arrival; `None` is kept for orders that
    /// refuse.
    pub fn admit(&mut self, id: u64, size: u64, need: u64) -> Option<Vec<u64>> {
        self.remove(id);
        let ghost_hit = self.forget_ghost(id);
        let victims = self.evict(need);
        self.insert(id, size, ghost_hit || size >= self.small_cap);
        Some(victims)
    }

    /// Evict until `need` bytes are freed or nothing is left.
    pub fn evict(&mut self, need: u64) -> Vec<u64> {
        let mut victims = Vec::new();
        let mut freed = 0;
        while freed < need {
            let Some((id, size)) = self.evict_one() else { break };
            victims.push(id);
            freed += size;
        }
        victims
    }

    /// Inserts `id`: into main when `to_main` (a ghost hit, an object too
    /// large for small) or small is full before the first eviction.
    fn insert(&mut self, id: u64, size: u64, to_main: bool) {
        let queue = if to_main || (!self.has_evicted && self.small_bytes >= self.small_cap) {
            Queue::Main
        } else {
            Queue::Small
        };
        let stamp = self.stamp();
        self.objects.insert(id, Object { size, stamp, freq: 0, queue });
        match queue {
            Queue::Small => {
                self.small.push_back((id, stamp));
                self.small_bytes += size;
            }
            Queue::Main => {
                self.main.push_back((id, stamp));
                self.main_bytes += size;
            }
        }
    }

    fn stamp(&mut self) -> u32 {
        self.next_stamp = self.next_stamp.wrapping_add(1);
        self.next_stamp
    }

    /// One object out, by S3-FIFO's rule; `None` when the order is empty.
    fn evict_one(&mut self) -> Option<(u64, u64)> {
        self.has_evicted = true;
        while !self.objects.is_empty() {
            let main_first = self.main_bytes > self.main_cap || self.small_bytes == 0;
            let evicted = if main_first { self.evict_main() } else { self.evict_small() };
            if evicted.is_some() {
                return evicted;
            }
            // The queue chosen ran dry (zero-byte objects leave the byte
            // counts at 0, and small may move all it holds to main): the other.
            let evicted = if main_first { self.evict_small() } else { self.evict_main() };
            if evicted.is_some() {
                return evicted;
            }
        }
        None
    }

    /// The live head of `queue`, popped.
    fn pop_live(&mut self, queue: Queue) -> Option<(u64, Object)> {
        loop {
            let (id, stamp) = match queue {
                Queue::Small => self.small.pop_front()?,
                Queue::Main => self.main.pop_front()?,
            };
            match self.objects.get(&id) {
                Some(o) if o.stamp == stamp && o.queue == queue => return Some((id, *o)),
                _ => continue,
            }
        }
    }

    fn evict_small(&mut self) -> Option<(u64, u64)> {
        while let Some((id, o)) = self.pop_live(Queue::Small) {
            self.small_bytes -= o.size;
            if o.freq >= self.params.move_to_main {
                let stamp = self.stamp();
                self.objects.insert(id, Object { size: o.size, stamp, freq: 0, queue: Queue::Main });
                self.main.push_back((id, stamp));
                self.main_bytes += o.size;
            } else {
                self.objects.remove(&id);
                self.remember_ghost(id, o.size);
                return Some((id, o.size));
            }
        }
        None
    }

    fn evict_main(&mut self) -> Option<(u64, u64)> {
        while let Some((id, o)) = self.pop_live(Queue::Main) {
            if o.freq >= 1 {
                let stamp = self.stamp();
                let freq = o.freq.min(3) - 1;
                self.objects.insert(id, Object { stamp, freq, ..o });
                self.main.push_back((id, stamp));
            } else {
                self.objects.remove(&id);
                self.main_bytes -= o.size;
                return Some((id, o.size));
            }
        }
        None
    }

    /// Whether the ghost remembered `id` (it forgets it either way).
    fn forget_ghost(&mut self, id: u64) -> bool {
        match self.ghost.remove(&id) {
            Some((_, size)) => {
                self.ghost_bytes -= size;
                true
            }
            None => false,
        }
    }

    fn remember_ghost(&mut self, id: u64, size: u64) {
        if self.ghost_cap == 0 || self.ghost.contains_key(&id) {
            return;
        }
        let stamp = self.stamp();
        self.ghost.insert(id, (stamp, size));
        self.ghost_queue.push_back((id, stamp));
        self.ghost_bytes += size;
        while self.ghost_bytes > self.ghost_cap {
            let Some((old, stamp)) = self.ghost_queue.pop_front() else { break };
            if self.ghost.get(&old).is_some_and(|&(s, _)| s == stamp) {
                let (_, size) = self.ghost.remove(&old).expect("checked above");
                self.ghost_bytes -= size;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(capacity: u64) -> S3Fifo {
        S3Fifo::new(capacity, 0, S3FifoParams::default())
    }

    #[test]
    fn a_one_hit_wonder_leaves_before_an_object_read_twice() {
        // 20 unit objects: small holds 2, main 18.
        let mut s = order(20);
        for id in 0..20 {
            assert_eq!(s.admit(id, 1, 0), Some(vec![]));
        }
        // Ids 0 and 1 are in small only if small had room before the first
        // eviction; read 0 twice, then evict one.
        s.hit(0);
        s.hit(0);
        let victims = s.admit(100, 1, 1).unwrap();
        assert_eq!(victims.len(), 1);
        assert_ne!(victims[0], 0, "an object read twice in small moves to main");
        assert!(s.contains(0));
        assert!(s.contains(100));
        assert_eq!(s.bytes(), 20);
    }

    #[test]
    fn an_id_the_ghost_remembers_goes_straight_to_main() {
        // Small holds 2 unit objects (20 × 0.1), main 18.
        let mut s = order(20);
        for id in 0..20 {
            s.admit(id, 1, 0);
        }
        // Every newcomer goes to small and pushes the previous one out.
        let v = s.admit(20, 1, 1).unwrap();
        let gone = v[0];
        assert!(!s.contains(gone));
        let v = s.admit(gone, 1, 1).unwrap();
        assert_eq!(v.len(), 1);
        assert!(s.contains(gone));
        // Back from the ghost it sits in main; ten one-hit arrivals then
        // churn through small without touching it.
        for id in 100..110 {
            let v = s.admit(id, 1, 1).unwrap();
            assert!(!v.contains(&gone), "{v:?}");
        }
        assert!(s.contains(gone));
    }

    #[test]
    fn removals_and_evictions_keep_the_byte_count() {
        let mut s = order(100);
        for id in 0..50 {
            s.admit(id, 2, 0);
        }
        s.remove(7);
        s.remove(7);
        s.remove(999);
        assert_eq!(s.bytes(), 98);
        let v = s.evict(10);
        assert_eq!(v.len(), 5);
        assert_eq!(s.bytes(), 88);
        assert_eq!(s.len(), 44);
    }

    #[test]
    fn an_object_as_large_as_the_small_queue_goes_to_main() {
        let mut s = order(100);
        assert_eq!(s.admit(1, 10, 0), Some(vec![]));
        assert_eq!(s.admit(2, 9, 0), Some(vec![]));
        // Small (10 bytes) holds 2 only: the next arrival evicts it, not 1.
        assert_eq!(s.admit(3, 9, 0), Some(vec![]));
        assert_eq!(s.evict(1), vec![2]);
        assert!(s.contains(1));
    }

    #[test]
    fn zero_byte_objects_are_evicted_too() {
        let mut s = order(100);
        for id in 0..8 {
            s.admit(id, 0, 0);
        }
        s.hit(3);
        s.hit(3);
        assert_eq!(s.evict(1).len(), 8, "nothing frees a byte: everything goes");
        assert!(s.is_empty());
    }

    #[test]
    fn evicting_more_than_is_held_empties_the_order() {
        let mut s = order(100);
        for id in 0..5 {
            s.admit(id, 1, 0);
            s.hit(id);
        }
        assert_eq!(s.evict(100).len(), 5);
        assert!(s.is_empty());
        assert_eq!(s.bytes(), 0);
    }
}
