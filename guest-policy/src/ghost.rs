//! [`Ghost`]: the ids an order remembers after evicting them (S3-FIFO's
//! ghost queue), first in, first out, bounded by the bytes the objects had.
//!
//! Each entry is a 32-bit fingerprint of the id and the object's size, in a
//! ring (8 bytes an entry, no per-entry allocation), indexed by an
//! [`IdTable`] that maps a fingerprint to its position. Positions are
//! logical (they only grow); the table stores them modulo [`POSITIONS`].
//! Forgetting an id (an arrival found it) drops it from the table and leaves
//! its ring entry behind, skipped when it reaches the front: the entry of an
//! id that was remembered again later is no longer the one the table points
//! to.
//!
//! A fingerprint is the id folded to 32 bits, so ids below 2^32 (a trace's)
//! are told apart exactly; two of the host's hashed ids share one with
//! probability (ids remembered) / 2^32, about 2 in 10,000 at a million, and
//! then the later one is taken for the earlier (a ghost hit it did not
//! earn: it enters main instead of small). A size is kept as a `u32`,
//! saturating: an object of 4 GiB or more counts as 4 GiB against the
//! ghost's bound.

use std::collections::VecDeque;

use crate::table::IdTable;

/// Positions are stored modulo this (a table takes positions below
/// `u32::MAX`).
const POSITIONS: u64 = u32::MAX as u64;

/// A bounded FIFO of evicted ids.
#[derive(Clone, Debug)]
pub struct Ghost {
    /// Bound on the bytes of the ids remembered.
    cap: u64,
    bytes: u64,
    /// `(fingerprint, size)`, oldest first.
    ring: VecDeque<(u32, u32)>,
    /// Logical position of the front of the ring.
    front: u64,
    table: IdTable,
}

/// The id folded to 32 bits (the identity below 2^32).
fn fingerprint(id: u64) -> u32 {
    ((id >> 32) ^ id) as u32
}

/// Where stored position `pos` is in a ring whose front is at `front`.
fn index(front: u64, pos: u32) -> usize {
    ((u64::from(pos) + POSITIONS - front % POSITIONS) % POSITIONS) as usize
}

impl Ghost {
    /// An empty ghost of `cap` bytes, its table sized for `expected` ids
    /// (the ring grows as ids come).
    pub fn new(cap: u64, expected: usize) -> Ghost {
        Ghost { cap, bytes: 0, ring: VecDeque::new(), front: 0, table: IdTable::with_capacity(expected) }
    }

    /// Ids remembered.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Whether `id` was remembered; it is forgotten either way.
    pub fn forget(&mut self, id: u64) -> bool {
        let Ghost { ring, front, table, .. } = self;
        let key = u64::from(fingerprint(id));
        match table.remove(key, |p| u64::from(ring[index(*front, p)].0)) {
            Some(pos) => {
                self.bytes -= u64::from(ring[index(*front, pos)].1);
                true
            }
            None => false,
        }
    }

    /// Remembers `id` (a no-op when the ghost has no room at all or already
    /// holds it), forgetting the oldest ids beyond the bound.
    pub fn remember(&mut self, id: u64, size: u64) {
        if self.cap == 0 {
            return;
        }
        let fp = fingerprint(id);
        let key = u64::from(fp);
        let Ghost { ring, front, table, .. } = self;
        if table.get(key, |p| u64::from(ring[index(*front, p)].0)).is_some() {
            return;
        }
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        let pos = ((*front + ring.len() as u64) % POSITIONS) as u32;
        ring.push_back((fp, size));
        table.insert(key, pos, |p| u64::from(ring[index(*front, p)].0));
        self.bytes += u64::from(size);
        while self.bytes > self.cap {
            self.pop_front();
        }
    }

    /// Drops the front entry, forgetting its id if it is still live.
    fn pop_front(&mut self) {
        let Ghost { ring, front, table, .. } = self;
        let Some(&(fp, size)) = ring.front() else { return };
        let here = (*front % POSITIONS) as u32;
        let key = u64::from(fp);
        if table.get(key, |p| u64::from(ring[index(*front, p)].0)) == Some(here) {
            table.remove(key, |p| u64::from(ring[index(*front, p)].0));
            self.bytes -= u64::from(size);
        }
        self.ring.pop_front();
        self.front += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_newest_within_its_bytes() {
        let mut g = Ghost::new(3, 4);
        for id in 0..5 {
            g.remember(id, 1);
        }
        assert_eq!(g.len(), 3);
        assert!(!g.forget(1));
        assert!(g.forget(3));
        assert!(!g.forget(3), "forgotten once found");
        // 2 and 4 remain; a re-remembered id is not dropped by its old entry.
        g.remember(2, 1);
        g.remember(5, 1);
        g.remember(6, 1);
        assert!(!g.forget(2), "2 was the oldest live id");
        assert!(g.forget(4) && g.forget(5) && g.forget(6));
        assert!(g.is_empty());
    }

    #[test]
    fn sizes_count_and_a_zero_bound_remembers_nothing() {
        let mut g = Ghost::new(10, 0);
        g.remember(1, 6);
        g.remember(2, 6);
        assert!(!g.forget(1), "two objects of 6 do not fit 10 bytes");
        assert!(g.forget(2));
        let mut none = Ghost::new(0, 0);
        none.remember(1, 1);
        assert!(none.is_empty());
        let mut huge = Ghost::new(u64::MAX, 0);
        huge.remember(1, u64::MAX);
        assert!(huge.forget(1));
        // Hashed ids far apart, as the host's are.
        let mut g = Ghost::new(100, 4);
        g.remember(0x0123_4567_89ab_cdef, 1);
        assert!(!g.forget(0x0123_4567_0000_0000));
        assert!(g.forget(0x0123_4567_89ab_cdef));
    }
}
