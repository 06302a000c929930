//! # SIEVE
//!
//! A FIFO queue with one "visited" bit per object and a hand that sweeps
//! from the oldest object toward the newest: a visited object keeps its
//! place and loses its bit, the first unvisited one is evicted, and the hand
//! stays where it stopped. New objects enter at the front and are not
//! moved on a read. Y. Zhang, J. Yang, Y. Yue, Y. Vigfusson, K. V. Rashmi,
//! "SIEVE is Simpler than LRU: an Efficient Turn-Key Eviction Algorithm for
//! Web Caches", NSDI 2024.
//!
//! Follows libCacheSim's `Sieve.c`: the hand starts at the back (the oldest)
//! and, after evicting, rests on the victim's newer neighbour; past the
//! front it wraps to the back. Removing the object under the hand moves the
//! hand to its newer neighbour.
//!
//! Parameters: none.

use tiered_order_kit::{Algorithm, Capacity, Order, Params, Queue};

#[derive(Debug, Default)]
pub struct Sieve {
    /// Each object's visited bit.
    queue: Queue<bool>,
    /// The next object to examine; `None`: start from the back.
    hand: Option<u64>,
}

impl Algorithm for Sieve {
    const NAME: &'static str = "sieve";

    fn new(_capacity: Capacity, _params: &mut Params) -> Result<Self, String> {
        Ok(Sieve::default())
    }
}

impl Order for Sieve {
    fn hit(&mut self, id: u64) {
        if let Some(visited) = self.queue.get_mut(id) {
            *visited = true;
        }
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.queue.push_front(id, size, false);
    }

    fn remove(&mut self, id: u64) {
        if self.hand == Some(id) {
            self.hand = self.queue.newer(id);
        }
        self.queue.remove(id);
    }

    fn len(&self) -> usize {
        self.queue.len()
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        let mut id = self.hand.filter(|&h| self.queue.contains(h)).or_else(|| self.queue.back())?;
        while let Some(visited) = self.queue.get_mut(id).filter(|v| **v) {
            *visited = false;
            id = self.queue.newer(id).or_else(|| self.queue.back())?;
        }
        self.hand = self.queue.newer(id);
        self.queue.remove(id).map(|(size, _)| (id, size))
    }
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
tiered_order_kit::export_algorithm!(Sieve);

#[cfg(test)]
mod tests {
    use super::*;
    use tiered_order_kit::Admission;

    #[test]
    fn the_hand_skips_visited_objects_and_stays_where_it_stopped() {
        let mut s = Sieve::default();
        for id in 1..=3 {
            s.admit(id, 1, 0);
        }
        s.hit(1);
        s.hit(2);
        // From the back: 1 and 2 lose their bits, 3 leaves; the hand passed
        // the front, so it restarts at the back.
        assert_eq!(s.admit(4, 1, 1), Admission::Admit(vec![3]));
        assert_eq!(s.hand, None);
        s.hit(4);
        // Back to front: 1, 2, 4 (visited). 1 leaves, the hand rests on 2.
        assert_eq!(s.admit(5, 1, 1), Admission::Admit(vec![1]));
        assert_eq!(s.hand, Some(2));
        s.hit(2);
        // 2 loses its bit, 4 loses its bit, 5 (unvisited) leaves, not 2.
        assert_eq!(s.admit(6, 1, 1), Admission::Admit(vec![5]));
        assert_eq!(s.hand, None);
    }

    #[test]
    fn removing_the_object_under_the_hand_moves_the_hand() {
        let mut s = Sieve::default();
        for id in 1..=3 {
            s.admit(id, 1, 0);
        }
        assert_eq!(s.evict(1), vec![1]);
        assert_eq!(s.hand, Some(2));
        s.remove(2);
        assert_eq!(s.hand, Some(3));
        assert_eq!(s.evict(1), vec![3]);
    }
}
