//! [`Miniature`]: one expert's order run as a cache of its own over a sample
//! of a tier's objects, with the tier's budget scaled by the sampling rate
//! (Waldspurger et al., "Cache Modeling and Optimization using Miniature
//! Simulations", USENIX ATC 2017). Objects are sampled by a hash of their
//! id, so a sampled object brings all its requests; the miniature's hit
//! ratio then estimates the tier's under that expert, at the sampling rate's
//! fraction of the memory and time.
//!
//! A miniature holds ids and sizes only: a [`tiered_order_kit::IdMap`] of
//! its residents beside the expert's order, and its byte count. It counts
//! its hits since [`Miniature::take_hits`] last asked.

use tiered_order_kit::{Admission, IdMap};

use crate::expert::BoxedOrder;

/// One expert over the sampled objects of a tier.
pub struct Miniature {
    order: BoxedOrder,
    /// Residents and their sizes.
    sizes: IdMap<u64>,
    used: u64,
    budget: u64,
    hits: u64,
}

impl std::fmt::Debug for Miniature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Miniature")
            .field("residents", &self.sizes.len())
            .field("used", &self.used)
            .field("budget", &self.budget)
            .field("hits", &self.hits)
            .finish()
    }
}

impl Miniature {
    /// An empty miniature of `budget` bytes ordered by `order` (built for
    /// that budget).
    pub fn new(order: BoxedOrder, budget: u64) -> Miniature {
        Miniature { order, sizes: IdMap::default(), used: 0, budget, hits: 0 }
    }

    /// A request for `id` (`size` bytes): a hit if held, else an arrival the
    /// expert decides on, evicting what it names. Whether it was a hit.
    pub fn request(&mut self, id: u64, size: u64) -> bool {
        if self.sizes.contains_key(&id) {
            self.order.hit(id);
            self.hits += 1;
            return true;
        }
        if size > self.budget {
            return false;
        }
        let need = (self.used + size).saturating_sub(self.budget);
        match self.order.admit(id, size, need) {
            Admission::Refuse => {}
            Admission::Admit(victims) => {
                // An order may name the arrival itself (W-TinyLFU's window
                // candidate losing to main's victim): then it is not held.
                let refused = victims.contains(&id);
                for victim in victims {
                    self.forget(victim);
                }
                if refused {
                    return false;
                }
                self.sizes.insert(id, size);
                self.used += size;
                // An order that named too little: the rest by its own rule.
                while self.used > self.budget {
                    let Some((victim, _)) = self.order.evict_one() else { break };
                    self.forget(victim);
                }
            }
        }
        false
    }

    /// `id` entered without a request (residents handed over): held from
    /// now on if it fits, no hit counted.
    pub fn arrive(&mut self, id: u64, size: u64) {
        if self.sizes.contains_key(&id) || self.used + size > self.budget {
            return;
        }
        self.order.arrive(id, size);
        self.sizes.insert(id, size);
        self.used += size;
    }

    /// `id` is gone (deleted, overwritten, expired).
    pub fn remove(&mut self, id: u64) {
        if self.sizes.contains_key(&id) {
            self.forget(id);
            self.order.remove(id);
        }
    }

    /// Hits since the last call.
    pub fn take_hits(&mut self) -> u64 {
        std::mem::take(&mut self.hits)
    }

    /// Objects held.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    fn forget(&mut self, id: u64) {
        if let Some(size) = self.sizes.remove(&id) {
            self.used -= size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expert::Expert;
    use crate::s3fifo::S3FifoParams;
    use tiered_order_kit::Capacity;

    fn mini(expert: Expert, budget: u64) -> Miniature {
        let capacity = Capacity { max_bytes: budget, max_objects: budget };
        Miniature::new(expert.build(capacity, budget as usize, S3FifoParams::default()), budget)
    }

    #[test]
    fn it_holds_its_budget_and_counts_hits() {
        for expert in Expert::ALL {
            let mut m = mini(expert, 300);
            for i in 0..6000 {
                // Ten objects every other request, among a scan of 400.
                let id = if i % 2 == 0 { i % 10 } else { 100 + i % 400 };
                m.request(id, 1 + id % 2);
                assert!(m.used <= 300, "{expert:?} request {i}");
                assert_eq!(m.used, m.sizes.values().sum::<u64>());
            }
            let hits = m.take_hits();
            assert!(hits > 2000, "{expert:?}: the ten frequent objects hit ({hits})");
            assert_eq!(m.take_hits(), 0, "taken");
            m.remove(0);
            assert!(!m.sizes.contains_key(&0));
            assert!(!m.request(99, 301), "larger than the budget: never held");
            assert!(!m.sizes.contains_key(&99));
        }
    }

    #[test]
    fn an_arrival_is_held_without_a_hit_and_only_if_it_fits() {
        let mut m = mini(Expert::S3Fifo, 4);
        m.arrive(1, 3);
        m.arrive(2, 3);
        assert_eq!((m.len(), m.used), (1, 3));
        assert!(m.request(1, 3));
        assert_eq!(m.take_hits(), 1);
    }
}
