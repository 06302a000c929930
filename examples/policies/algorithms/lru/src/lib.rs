//! # LRU: least recently used
//!
//! The oldest policy in the book: a read moves the object to the front of a
//! queue, eviction takes from the back. Follows libCacheSim's `LRU.c`
//! (every object inserted at the head, a hit moves it back to the head, the
//! tail is evicted), so its miss ratios match libCacheSim's exactly.
//!
//! Parameters: none.
//!
//! Built as a policy component (world `ordered-policy`) by
//! `tiered-order-kit`: every cache tier on a write, one LRU per tier.

use tiered_order_kit::{Algorithm, Capacity, Order, Params, Queue};

#[derive(Debug, Default)]
pub struct Lru {
    queue: Queue,
}

impl Algorithm for Lru {
    const NAME: &'static str = "lru";

    fn new(_capacity: Capacity, _params: &mut Params) -> Result<Self, String> {
        Ok(Lru::default())
    }
}

impl Order for Lru {
    fn hit(&mut self, id: u64) {
        self.queue.move_to_front(id);
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.queue.push_front(id, size, ());
    }

    fn remove(&mut self, id: u64) {
        self.queue.remove(id);
    }

    fn len(&self) -> usize {
        self.queue.len()
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        self.queue.pop_back().map(|(id, size, ())| (id, size))
    }
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
tiered_order_kit::export_algorithm!(Lru);

#[cfg(test)]
mod tests {
    use super::*;
    use tiered_order_kit::Admission;

    #[test]
    fn the_least_recently_used_leaves_first() {
        let mut lru = Lru::default();
        for id in 1..=3 {
            assert_eq!(lru.admit(id, 1, 0), Admission::Admit(vec![]));
        }
        lru.hit(1);
        // 2 is now the least recent; then 3.
        assert_eq!(lru.admit(4, 1, 1), Admission::Admit(vec![2]));
        lru.remove(3);
        assert_eq!(lru.evict(2), vec![1, 4]);
        assert_eq!(lru.evict(1), Vec::<u64>::new());
    }

    #[test]
    fn eviction_frees_the_bytes_asked_for() {
        let mut lru = Lru::default();
        lru.admit(1, 10, 0);
        lru.admit(2, 50, 0);
        lru.hit(1);
        // 100 bytes, 60 used: object 3 (100 bytes) needs 60 freed: 2, then 1.
        assert_eq!(lru.admit(3, 100, 60), Admission::Admit(vec![2, 1]));
    }
}
