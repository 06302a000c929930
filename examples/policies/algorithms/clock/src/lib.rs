//! # CLOCK (second chance, FIFO-reinsertion)
//!
//! A FIFO queue in which every object carries a small read counter. At
//! eviction the object at the back is examined: with a count of zero it
//! leaves; otherwise its count drops by one and it is moved to the front
//! (reinserted), and the next one is examined. F. J. Corbató, "A paging
//! experiment with the Multics system" (1968).
//!
//! Follows libCacheSim's `Clock.c`: an arrival enters at the front with a
//! count of 0; a read adds one up to `2^n-bit-counter - 1`; eviction as
//! above. Its miss ratios match libCacheSim's exactly.
//!
//! Parameters (`[policy_config]`):
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `n-bit-counter` | bits of the read counter (1 = the classic one-bit CLOCK) | `1` |

use tiered_order_kit::{Algorithm, Capacity, Order, Params, Queue};

#[derive(Debug)]
pub struct Clock {
    /// Each object's read count.
    queue: Queue<u32>,
    /// The largest count, `2^bits - 1`.
    max_count: u32,
}

impl Algorithm for Clock {
    const NAME: &'static str = "clock";

    fn new(_capacity: Capacity, params: &mut Params) -> Result<Self, String> {
        let bits: u32 = params.number("n-bit-counter", 1, 1..=16)?;
        Ok(Clock { queue: Queue::default(), max_count: (1 << bits) - 1 })
    }
}

impl Order for Clock {
    fn hit(&mut self, id: u64) {
        if let Some(count) = self.queue.get_mut(id) {
            *count = (*count + 1).min(self.max_count);
        }
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.queue.push_front(id, size, 0);
    }

    fn remove(&mut self, id: u64) {
        self.queue.remove(id);
    }

    fn len(&self) -> usize {
        self.queue.len()
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        loop {
            let id = self.queue.back()?;
            let count = self.queue.get_mut(id)?;
            if *count == 0 {
                return self.queue.remove(id).map(|(size, _)| (id, size));
            }
            *count -= 1;
            self.queue.move_to_front(id);
        }
    }
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
tiered_order_kit::export_algorithm!(Clock);

#[cfg(test)]
mod tests {
    use super::*;
    use tiered_order_kit::Admission;

    fn clock(bits: &str) -> Clock {
        let mut params = Params::new(vec![("n-bit-counter".into(), bits.into())]).unwrap();
        Clock::new(Capacity::default(), &mut params).unwrap()
    }

    #[test]
    fn a_read_object_gets_a_second_chance() {
        let mut c = clock("1");
        for id in 1..=3 {
            c.admit(id, 1, 0);
        }
        c.hit(1);
        c.hit(1); // one bit: still one chance
        // 1 is reinserted at the front with its bit cleared; 2 leaves.
        assert_eq!(c.admit(4, 1, 1), Admission::Admit(vec![2]));
        // Back to front: 3, 1, 4; none read.
        assert_eq!(c.evict(2), vec![3, 1]);
    }

    #[test]
    fn two_bits_count_up_to_three_reads() {
        let mut c = clock("2");
        c.admit(1, 1, 0);
        c.admit(2, 1, 0);
        for _ in 0..5 {
            c.hit(1);
        }
        c.hit(2);
        // 1 (count 3) and 2 (count 1) cycle: 1→2, 2→0, 1→1, 2 leaves.
        assert_eq!(c.evict(1), vec![2]);
        assert_eq!(c.queue.get(1), Some(&1));
    }

    #[test]
    fn a_malformed_counter_width_is_rejected() {
        let mut params = Params::new(vec![("n-bit-counter".into(), "0".into())]).unwrap();
        let err = Clock::new(Capacity::default(), &mut params).unwrap_err();
        assert!(err.contains("n-bit-counter"), "{err}");
    }
}
