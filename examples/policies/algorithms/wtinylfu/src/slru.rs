//! [`Slru`]: W-TinyLFU's main cache, a segmented LRU as libCacheSim's
//! `SLRU.c` keeps it with two segments (`seg-size=1:4`, what its
//! `WTinyLFU.c` asks for).
//!
//! Segment 0 is the probation segment, segment 1 the protected one; each
//! is an LRU list with a byte limit, a share of the main cache rounded
//! down (`⌊share × main⌋`, in libCacheSim's bytes). In libCacheSim's
//! words:
//!
//! - insert: into the lowest segment with room for the object; with none,
//!   evict until the main cache as a whole has room, then into segment 0
//!   (which may then exceed its limit by that object);
//! - read: an object of the protected segment moves to its front; one of
//!   the probation segment is promoted to the front of the protected one,
//!   which, while over its limit, *cools*: its oldest object moves to the
//!   front of the probation segment, and while that is over its limit its
//!   oldest object is evicted. So a read can evict: the victims are handed
//!   back to the caller;
//! - eviction: the oldest object of the lowest non-empty segment.

use tiered_order_kit::Queue;

/// Probation (index 0) and protected (index 1).
const SEGMENTS: usize = 2;

/// A two-segment LRU.
#[derive(Debug, Default)]
pub struct Slru {
    segments: [Queue; SEGMENTS],
    limits: [u64; SEGMENTS],
    /// The main cache's bytes.
    capacity: u64,
}

impl Slru {
    /// Sets the main cache's bytes and its segments' limits (objects held
    /// stay where they are).
    pub fn set_limits(&mut self, capacity: u64, probation: u64, protected: u64) {
        self.capacity = capacity;
        self.limits = [probation, protected];
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    pub fn limits(&self) -> [u64; SEGMENTS] {
        self.limits
    }

    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(Queue::bytes).sum()
    }

    pub fn len(&self) -> usize {
        self.segments.iter().map(Queue::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.segments.iter().all(Queue::is_empty)
    }

    pub fn contains(&self, id: u64) -> bool {
        self.segments.iter().any(|s| s.contains(id))
    }

    /// The bytes held in segment `i` (0: probation, 1: protected).
    pub fn segment_bytes(&self, i: usize) -> u64 {
        self.segments[i].bytes()
    }

    /// Whether `id` is in the protected segment.
    pub fn is_protected(&self, id: u64) -> bool {
        self.segments[1].contains(id)
    }

    /// The next victim (libCacheSim's `to_evict`), left in place.
    pub fn victim(&self) -> Option<u64> {
        self.segments.iter().find(|s| !s.is_empty()).and_then(Queue::back)
    }

    /// Evicts the next victim: `(id, size)`.
    pub fn evict(&mut self) -> Option<(u64, u64)> {
        let segment = self.segments.iter_mut().find(|s| !s.is_empty())?;
        segment.pop_back().map(|(id, size, ())| (id, size))
    }

    /// Inserts `id`; the objects evicted to make room go to `victims`.
    pub fn insert(&mut self, id: u64, size: u64, victims: &mut Vec<(u64, u64)>) {
        let segment = match (0..SEGMENTS).find(|&i| self.segments[i].bytes() + size <= self.limits[i]) {
            Some(i) => i,
            None => {
                while self.bytes() + size > self.capacity {
                    let Some(victim) = self.evict() else { break };
                    victims.push(victim);
                }
                0
            }
        };
        self.segments[segment].push_front(id, size, ());
    }

    /// A read of `id`: promotes it (the victims of the cooling that may
    /// follow go to `victims`); `false` if it is not held.
    pub fn hit(&mut self, id: u64, victims: &mut Vec<(u64, u64)>) -> bool {
        if self.segments[1].move_to_front(id) {
            return true;
        }
        let Some((size, ())) = self.segments[0].remove(id) else { return false };
        self.segments[1].push_front(id, size, ());
        while self.segments[1].bytes() > self.limits[1] {
            self.cool(victims);
        }
        true
    }

    /// Moves the protected segment's oldest object to the probation
    /// segment, then evicts from the probation segment while it is over its
    /// limit.
    fn cool(&mut self, victims: &mut Vec<(u64, u64)>) {
        let Some((id, size, ())) = self.segments[1].pop_back() else { return };
        self.segments[0].push_front(id, size, ());
        while self.segments[0].bytes() > self.limits[0] {
            let Some((id, size, ())) = self.segments[0].pop_back() else { break };
            victims.push((id, size));
        }
    }

    /// Moves protected objects, oldest first, to the probation segment
    /// until the protected one is within its limit (no eviction).
    pub fn demote_overflow(&mut self) {
        while self.segments[1].bytes() > self.limits[1] {
            let Some((id, size, ())) = self.segments[1].pop_back() else { break };
            self.segments[0].push_front(id, size, ());
        }
    }

    /// Removes `id`: its size.
    pub fn remove(&mut self, id: u64) -> Option<u64> {
        self.segments.iter_mut().find_map(|s| s.remove(id)).map(|(size, ())| size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slru(capacity: u64) -> Slru {
        let mut s = Slru::default();
        // libCacheSim's 1:4 split, rounded down.
        s.set_limits(capacity, capacity / 5, capacity * 4 / 5);
        s
    }

    fn fill(s: &mut Slru, ids: std::ops::RangeInclusive<u64>) -> Vec<(u64, u64)> {
        let mut victims = Vec::new();
        for id in ids {
            s.insert(id, 1, &mut victims);
        }
        victims
    }

    #[test]
    fn inserts_fill_probation_then_protected_then_overflow_probation() {
        // 12: probation 2, protected 9 (11 < 12).
        let mut s = slru(12);
        assert!(fill(&mut s, 1..=11).is_empty());
        assert_eq!((s.segment_bytes(0), s.segment_bytes(1)), (2, 9));
        // No segment has room, the cache does: probation takes a third.
        assert!(fill(&mut s, 12..=12).is_empty());
        assert_eq!(s.segment_bytes(0), 3);
        // Full: the oldest probation object leaves first.
        assert_eq!(fill(&mut s, 13..=13), vec![(1, 1)]);
        assert_eq!(s.victim(), Some(2));
    }

    #[test]
    fn a_probation_read_cools_protected_and_may_evict() {
        let mut s = slru(12);
        fill(&mut s, 1..=12); // probation [12, 2, 1] (over its 2), protected 3..=11
        let mut victims = Vec::new();
        // 12 is promoted; protected is over its 9: its oldest (3) cools into
        // probation, now 3 objects again: its oldest (1) is evicted.
        assert!(s.hit(12, &mut victims));
        assert_eq!(victims, vec![(1, 1)]);
        assert!(s.is_protected(12) && !s.is_protected(3) && s.contains(3));
        assert_eq!((s.segment_bytes(0), s.segment_bytes(1), s.len()), (2, 9, 11));
        // A protected read only moves it to the front.
        victims.clear();
        assert!(s.hit(4, &mut victims) && victims.is_empty());
        assert!(!s.hit(99, &mut victims));
    }

    #[test]
    fn demoting_the_overflow_evicts_nothing() {
        let mut s = slru(10);
        fill(&mut s, 1..=10); // probation 1, 2; protected 3..=10
        // Protected shrinks to 4: its four oldest move to probation.
        s.set_limits(10, 2, 4);
        s.demote_overflow();
        assert_eq!((s.segment_bytes(0), s.segment_bytes(1), s.len()), (6, 4, 10));
        assert_eq!(s.remove(10), Some(1));
        assert_eq!(s.len(), 9);
    }
}
