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
//! - a **ghost** FIFO of ids only (`ghost_ratio` of the bytes, 0.9 in
//!   libCacheSim and 1.5 in the default policy's configuration, counted with
//!   the objects' sizes): an arrival found there goes straight to main.
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
//! Objects live in a slab of 32-byte slots (allocated 2 MiB at a time),
//! each linked into its queue (small or main) by `u32` indices, and found by
//! id through an [`IdTable`] of 4-byte cells; the ghost is a [`Ghost`] of
//! 8-byte entries. Every operation is O(1); BENCHMARKS.md ("Policy memory")
//! has the memory of a tier of a million objects, with each ghost length.

use tiered_order_kit::{Admission, Order};

use crate::ghost::Ghost;
use crate::table::IdTable;

/// No slot: the end of a queue, or of the free list.
const NIL: u32 = u32::MAX;

/// Which queue a slot is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Queue {
    Small,
    Main,
    Free,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    id: u64,
    size: u64,
    prev: u32,
    next: u32,
    /// Reads since insertion (small) or since last examined (main).
    freq: u8,
    queue: Queue,
}

/// Slots per chunk of the slab: 64 Ki slots, 2 MiB.
const CHUNK: usize = 1 << 16;

/// The slots, in chunks allocated as objects come: the slab grows without
/// copying (a `Vec` doubling would hold the old and the new buffer at once,
/// and a policy's linear memory never shrinks).
#[derive(Debug, Default)]
struct Slab {
    chunks: Vec<Box<[Slot]>>,
    len: usize,
}

impl Slab {
    /// Appends `slot`; its index.
    fn push(&mut self, slot: Slot) -> u32 {
        if self.len == self.chunks.len() * CHUNK {
            self.chunks.push(vec![slot; CHUNK].into_boxed_slice());
        }
        let p = self.len;
        self.len += 1;
        self.chunks[p / CHUNK][p % CHUNK] = slot;
        p as u32
    }
}

impl std::ops::Index<u32> for Slab {
    type Output = Slot;

    fn index(&self, p: u32) -> &Slot {
        let p = p as usize;
        &self.chunks[p / CHUNK][p % CHUNK]
    }
}

impl std::ops::IndexMut<u32> for Slab {
    fn index_mut(&mut self, p: u32) -> &mut Slot {
        let p = p as usize;
        &mut self.chunks[p / CHUNK][p % CHUNK]
    }
}

/// A FIFO of slots, linked through them.
#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
    bytes: u64,
}

impl List {
    const EMPTY: List = List { head: NIL, tail: NIL, bytes: 0 };
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

impl S3FifoParams {
    /// libCacheSim's defaults.
    pub const LIBCACHESIM: S3FifoParams = S3FifoParams { small_ratio: 0.1, ghost_ratio: 0.9, move_to_main: 2 };
}

impl Default for S3FifoParams {
    /// libCacheSim's ([`S3FifoParams::LIBCACHESIM`]). The default policy
    /// configures a longer ghost ([`crate::config::DEFAULT_ORDER`]).
    fn default() -> Self {
        S3FifoParams::LIBCACHESIM
    }
}

/// The S3-FIFO order of one tier.
#[derive(Debug)]
pub struct S3Fifo {
    params: S3FifoParams,
    small_cap: u64,
    main_cap: u64,
    slots: Slab,
    /// Head of the free slots, linked through `next`.
    free: u32,
    table: IdTable,
    small: List,
    main: List,
    ghost: Ghost,
    has_evicted: bool,
}

impl S3Fifo {
    /// An empty order for a tier of `capacity` bytes, its id tables sized
    /// for `objects` residents (and the ghost's for `ghost_ratio` of that):
    /// a table grown past that rehashes every entry, which at millions can
    /// outlast a call's deadline. The slab and the ghost's rings grow as
    /// objects come (a copy, not a rehash), so a tier that holds fewer
    /// objects than it could does not pay for them.
    pub fn new(capacity: u64, objects: usize, params: S3FifoParams) -> S3Fifo {
        let small_cap = (capacity as f64 * params.small_ratio) as u64;
        let ghost_objects = (objects as f64 * params.ghost_ratio.min(4.0)) as usize;
        S3Fifo {
            params,
            small_cap,
            main_cap: capacity - small_cap.min(capacity),
            slots: Slab::default(),
            free: NIL,
            table: IdTable::with_capacity(objects),
            small: List::EMPTY,
            main: List::EMPTY,
            ghost: Ghost::new((capacity as f64 * params.ghost_ratio) as u64, ghost_objects),
            has_evicted: false,
        }
    }

    /// Objects held.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.small.bytes + self.main.bytes
    }

    fn find(&self, id: u64) -> Option<u32> {
        let slots = &self.slots;
        self.table.get(id, |p| slots[p].id)
    }

    /// Whether `id` is held.
    pub fn contains(&self, id: u64) -> bool {
        self.find(id).is_some()
    }

    /// A read of `id` (ignored if not held).
    pub fn hit(&mut self, id: u64) {
        if let Some(p) = self.find(id) {
            let slot = &mut self.slots[p];
            slot.freq = slot.freq.saturating_add(1);
        }
    }

    /// `id` left the tier by someone else's decision (ignored if not held).
    pub fn remove(&mut self, id: u64) {
        let slots = &self.slots;
        if let Some(p) = self.table.remove(id, |p| slots[p].id) {
            self.unlink(p);
            self.release(p);
        }
    }

    /// `id` entered the tier without a decision (a hand-over): inserted by
    /// the usual rule, nothing evicted.
    pub fn arrived(&mut self, id: u64, size: u64) {
        self.remove(id);
        let ghost_hit = self.ghost.forget(id);
        self.insert(id, size, ghost_hit);
    }

    /// Decide on an arrival: `Some(victims)` evicts them (freeing at least
    /// `need` bytes, when the order holds that much) and inserts the
    /// arrival. S3-FIFO admits every arrival; `None` is kept for orders that
    /// refuse.
    pub fn admit(&mut self, id: u64, size: u64, need: u64) -> Option<Vec<u64>> {
        self.remove(id);
        let ghost_hit = self.ghost.forget(id);
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
        let queue = if to_main || (!self.has_evicted && self.small.bytes >= self.small_cap) {
            Queue::Main
        } else {
            Queue::Small
        };
        let slot = Slot { id, size, prev: NIL, next: NIL, freq: 0, queue };
        let p = match self.free {
            NIL => self.slots.push(slot),
            p => {
                self.free = self.slots[p].next;
                self.slots[p] = slot;
                p
            }
        };
        let slots = &self.slots;
        self.table.insert(id, p, |p| slots[p].id);
        self.push_back(p, queue);
    }

    fn list(&mut self, queue: Queue) -> &mut List {
        match queue {
            Queue::Small => &mut self.small,
            // A free slot is in no list; nothing links one.
            Queue::Main | Queue::Free => &mut self.main,
        }
    }

    /// Links slot `p` at the tail of `queue`.
    fn push_back(&mut self, p: u32, queue: Queue) {
        let size = self.slots[p].size;
        let list = *self.list(queue);
        {
            let slot = &mut self.slots[p];
            slot.queue = queue;
            slot.prev = list.tail;
            slot.next = NIL;
        }
        match list.tail {
            NIL => self.list(queue).head = p,
            tail => self.slots[tail].next = p,
        }
        let list = self.list(queue);
        list.tail = p;
        list.bytes += size;
    }

    /// Unlinks slot `p` from its queue.
    fn unlink(&mut self, p: u32) {
        let Slot { prev, next, size, queue, .. } = self.slots[p];
        match prev {
            NIL => self.list(queue).head = next,
            prev => self.slots[prev].next = next,
        }
        match next {
            NIL => self.list(queue).tail = prev,
            next => self.slots[next].prev = prev,
        }
        self.list(queue).bytes -= size;
    }

    /// Returns unlinked slot `p` (already out of the table) to the free list.
    fn release(&mut self, p: u32) {
        let slot = &mut self.slots[p];
        slot.queue = Queue::Free;
        slot.next = self.free;
        self.free = p;
    }

    /// One object out, by S3-FIFO's rule; `None` when the order is empty.
    pub fn evict_one(&mut self) -> Option<(u64, u64)> {
        self.has_evicted = true;
        while !self.is_empty() {
            let main_first = self.main.bytes > self.main_cap || self.small.bytes == 0;
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

    /// Slot `p`, unlinked, leaves the tier: its id and size.
    fn drop_slot(&mut self, p: u32) -> (u64, u64) {
        let Slot { id, size, .. } = self.slots[p];
        let slots = &self.slots;
        self.table.remove(id, |p| slots[p].id);
        self.release(p);
        (id, size)
    }

    fn evict_small(&mut self) -> Option<(u64, u64)> {
        loop {
            let p = self.small.head;
            if p == NIL {
                return None;
            }
            self.unlink(p);
            if self.slots[p].freq >= self.params.move_to_main {
                self.slots[p].freq = 0;
                self.push_back(p, Queue::Main);
            } else {
                let (id, size) = self.drop_slot(p);
                self.ghost.remember(id, size);
                return Some((id, size));
            }
        }
    }

    fn evict_main(&mut self) -> Option<(u64, u64)> {
        loop {
            let p = self.main.head;
            if p == NIL {
                return None;
            }
            self.unlink(p);
            let slot = &mut self.slots[p];
            if slot.freq >= 1 {
                slot.freq = slot.freq.min(3) - 1;
                self.push_back(p, Queue::Main);
            } else {
                return Some(self.drop_slot(p));
            }
        }
    }
}

/// The same order as one expert of [`crate::adaptive::Adaptive`], beside
/// the algorithm library's.
impl Order for S3Fifo {
    fn hit(&mut self, id: u64) {
        S3Fifo::hit(self, id);
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.arrived(id, size);
    }

    fn remove(&mut self, id: u64) {
        S3Fifo::remove(self, id);
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        S3Fifo::evict_one(self)
    }

    fn len(&self) -> usize {
        S3Fifo::len(self)
    }

    fn arrive(&mut self, id: u64, size: u64) {
        self.arrived(id, size);
    }

    fn admit(&mut self, id: u64, size: u64, need: u64) -> Admission {
        match S3Fifo::admit(self, id, size, need) {
            Some(victims) => Admission::Admit(victims),
            None => Admission::Refuse,
        }
    }

    fn evict(&mut self, need: u64) -> Vec<u64> {
        S3Fifo::evict(self, need)
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
