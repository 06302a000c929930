//! # ARC: adaptive replacement cache
//!
//! Two LRU lists of resident objects, T1 (seen once recently) and T2 (seen
//! at least twice), each followed by a ghost list of ids recently evicted
//! from it, B1 and B2. A target `p` for T1's size adapts on every ghost hit:
//! a miss found in B1 says T1 was too small (`p` grows by
//! `max(|B2| / |B1|, 1)`), one found in B2 says T2 was (`p` shrinks by
//! `max(|B1| / |B2|, 1)`); such an object enters T2 directly. Eviction
//! (REPLACE) takes T1's LRU end while T1 exceeds `p`, else T2's, and the
//! victim's id goes to the matching ghost list. N. Megiddo, D. S. Modha,
//! "ARC: A Self-Tuning, Low Overhead Replacement Cache", FAST 2003.
//!
//! Follows libCacheSim's `ARC.c`, which counts every list in bytes (so
//! variable sizes work): `p` is a float; REPLACE also takes T1 when T2 is
//! empty; on a miss found in no list (case IV), when `|T1| + |B1|` plus the
//! arrival exceeds the cache, B1's oldest id is dropped before REPLACE, or,
//! with B1 empty, T1's LRU object is evicted without a ghost; otherwise, when
//! the four lists reach twice the cache, B2's oldest id is dropped first.
//! A ghost hit adapts `p` before any eviction, and every eviction of that
//! request is a plain REPLACE. libCacheSim's least step of `p` is one byte,
//! one object in a unit-size trace: here one [`SizeUnit`].
//!
//! Parameters: none.

use tiered_order_kit::{Admission, Algorithm, Capacity, Order, Params, Queue, SizeUnit};

#[derive(Debug, Default)]
pub struct Arc {
    /// The cache's bytes (`c` in the paper).
    capacity: u64,
    /// T1's target bytes.
    p: f64,
    /// libCacheSim's one byte, the least step of `p`.
    unit: SizeUnit,
    t1: Queue,
    t2: Queue,
    b1: Queue,
    b2: Queue,
}

/// Which ghost list an arrival was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ghost {
    B1,
    B2,
}

impl Arc {
    /// REPLACE: T1's LRU object to B1, or T2's to B2.
    fn replace(&mut self, found_in: Option<Ghost>) -> Option<(u64, u64)> {
        let t1 = self.t1.bytes() as f64;
        let from_t1 = (self.t1.bytes() > 0 && (t1 > self.p || (t1 == self.p && found_in == Some(Ghost::B2))))
            || self.t2.bytes() == 0;
        let (data, ghost) = if from_t1 { (&mut self.t1, &mut self.b1) } else { (&mut self.t2, &mut self.b2) };
        let (id, size, ()) = data.pop_back()?;
        ghost.push_front(id, size, ());
        Some((id, size))
    }

    /// Case IV of the paper: a miss in every list, `incoming` bytes arriving.
    fn evict_for_newcomer(&mut self, incoming: u64) -> Option<(u64, u64)> {
        if self.t1.bytes() + self.b1.bytes() + incoming > self.capacity {
            if self.b1.is_empty() {
                return self.t1.pop_back().map(|(id, size, ())| (id, size));
            }
            self.b1.pop_back();
        } else if self.t1.bytes() + self.b1.bytes() + self.t2.bytes() + self.b2.bytes() >= 2 * self.capacity {
            self.b2.pop_back();
        }
        self.replace(None)
    }
}

impl Algorithm for Arc {
    const NAME: &'static str = "arc";

    fn new(capacity: Capacity, _params: &mut Params) -> Result<Self, String> {
        Ok(Arc { capacity: capacity.max_bytes, ..Arc::default() })
    }
}

impl Order for Arc {
    fn hit(&mut self, id: u64) {
        if let Some((size, ())) = self.t1.remove(id) {
            self.t2.push_front(id, size, ());
        } else {
            self.t2.move_to_front(id);
        }
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.unit.observe(size);
        self.t1.push_front(id, size, ());
    }

    fn remove(&mut self, id: u64) {
        for list in [&mut self.t1, &mut self.t2, &mut self.b1, &mut self.b2] {
            list.remove(id);
        }
    }

    fn len(&self) -> usize {
        self.t1.len() + self.t2.len()
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        self.evict_for_newcomer(0)
    }

    fn admit(&mut self, id: u64, size: u64, need: u64) -> Admission {
        self.unit.observe(size);
        self.t1.remove(id);
        self.t2.remove(id);
        let (b1, b2) = (self.b1.bytes() as f64, self.b2.bytes() as f64);
        let unit = self.unit.bytes() as f64;
        let found_in = if self.b1.remove(id).is_some() {
            self.p = (self.p + (b2 / b1).max(1.0) * unit).min(self.capacity as f64);
            Some(Ghost::B1)
        } else if self.b2.remove(id).is_some() {
            self.p = (self.p - (b1 / b2).max(1.0) * unit).max(0.0);
            Some(Ghost::B2)
        } else {
            None
        };
        let mut victims = Vec::new();
        let mut freed = 0;
        while freed < need {
            let evicted = match found_in {
                Some(_) => self.replace(found_in),
                None => self.evict_for_newcomer(size),
            };
            let Some((victim, bytes)) = evicted else { break };
            victims.push(victim);
            freed += bytes;
        }
        match found_in {
            Some(_) => self.t2.push_front(id, size, ()),
            None => self.t1.push_front(id, size, ()),
        }
        Admission::Admit(victims)
    }
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
tiered_order_kit::export_algorithm!(Arc);

#[cfg(test)]
mod tests {
    use super::*;

    fn arc(objects: u64) -> Arc {
        Arc::new(Capacity { max_bytes: objects, max_objects: objects }, &mut Params::default()).unwrap()
    }

    fn admit(arc: &mut Arc, id: u64) -> Vec<u64> {
        let used = arc.t1.bytes() + arc.t2.bytes();
        match arc.admit(id, 1, (used + 1).saturating_sub(arc.capacity)) {
            Admission::Admit(victims) => victims,
            Admission::Refuse => panic!("ARC never refuses"),
        }
    }

    #[test]
    fn a_second_read_protects_an_object_from_a_scan() {
        let mut a = arc(3);
        admit(&mut a, 1);
        a.hit(1); // 1 moves to T2
        for id in 2..=4 {
            admit(&mut a, id);
        }
        // T1 = [4, 3] after 2 left for B1; 1 stays in T2 through the scan.
        assert!(a.t2.contains(1) && a.b1.contains(2));
        assert_eq!(admit(&mut a, 5), vec![3]);
        assert!(a.t2.contains(1));
    }

    #[test]
    fn with_t1_full_and_b1_empty_the_lru_object_leaves_without_a_ghost() {
        let mut a = arc(2);
        admit(&mut a, 1);
        admit(&mut a, 2);
        assert_eq!(admit(&mut a, 3), vec![1]);
        assert!(a.b1.is_empty() && a.b2.is_empty());
    }

    #[test]
    fn a_miss_found_in_b1_grows_t1s_target_and_enters_t2() {
        let mut a = arc(2);
        admit(&mut a, 1);
        a.hit(1); // T2 = [1]
        admit(&mut a, 2); // T1 = [2]
        // |T1| = 1 > p = 0: REPLACE takes 2 from T1 into B1.
        assert_eq!(admit(&mut a, 3), vec![2]);
        assert!(a.b1.contains(2));
        // 2 again: p grows by max(|B2| / |B1|, 1) = 1; T1 is at its target
        // now, so REPLACE takes T2's LRU end; 2 enters T2.
        assert_eq!(admit(&mut a, 2), vec![1]);
        assert_eq!(a.p, 1.0);
        assert!(a.t2.contains(2) && a.b2.contains(1) && a.b1.is_empty());
    }

    #[test]
    fn a_miss_found_in_b2_shrinks_t1s_target() {
        let mut a = arc(2);
        a.p = 2.0;
        admit(&mut a, 1);
        a.hit(1); // T2 = [1]
        admit(&mut a, 2); // T1 = [2]
        // |T1| = 1 <= p: REPLACE takes T2's LRU end, 1, into B2.
        assert_eq!(admit(&mut a, 3), vec![1]);
        assert!(a.b2.contains(1));
        assert_eq!(admit(&mut a, 1), vec![2]);
        assert_eq!(a.p, 1.0);
    }
}
