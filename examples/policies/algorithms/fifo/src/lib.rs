//! # FIFO: first in, first out
//!
//! Objects leave in the order they arrived; a read changes nothing. Follows
//! libCacheSim's `FIFO.c` (insert at the head, evict the tail, hits ignored),
//! so its miss ratios match libCacheSim's exactly.
//!
//! Parameters: none.
//!
//! Built as a policy component (world `ordered-policy`) by
//! `tiered-order-kit`: every cache tier on a write, one FIFO per tier.

use tiered_order_kit::{Algorithm, Capacity, Order, Params, Queue};

#[derive(Debug, Default)]
pub struct Fifo {
    queue: Queue,
}

impl Algorithm for Fifo {
    const NAME: &'static str = "fifo";

    fn new(_capacity: Capacity, _params: &mut Params) -> Result<Self, String> {
        Ok(Fifo::default())
    }
}

impl Order for Fifo {
    fn hit(&mut self, _id: u64) {}

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
tiered_order_kit::export_algorithm!(Fifo);

#[cfg(test)]
mod tests {
    use super::*;
    use tiered_order_kit::Admission;

    #[test]
    fn the_first_in_leaves_first_whatever_is_read() {
        let mut fifo = Fifo::default();
        for id in 1..=3 {
            fifo.admit(id, 1, 0);
        }
        fifo.hit(1);
        fifo.hit(1);
        assert_eq!(fifo.admit(4, 1, 1), Admission::Admit(vec![1]));
        fifo.remove(2);
        assert_eq!(fifo.admit(5, 2, 2), Admission::Admit(vec![3, 4]));
    }
}
