//! # LIRS: low inter-reference recency set
//!
//! Objects are ranked by reuse distance rather than recency. A stack S
//! holds recently seen ids in LRU order: LIR objects (reused within a short
//! distance, about 99% of the cache) and HIR ones, resident or not; a small
//! LRU list Q holds the resident HIR objects, and eviction always takes Q's
//! oldest. A HIR object read again while still in S has a short reuse
//! distance: it becomes LIR and the LIR object at the bottom of S is
//! demoted to Q. S is pruned so that its bottom is always LIR. S. Jiang,
//! X. Zhang, "LIRS: An Efficient Low Inter-reference Recency Set
//! Replacement Policy to Improve Buffer Cache Performance", SIGMETRICS 2002.
//!
//! Follows libCacheSim's `LIRS/LIRS.c` step by step, in bytes: Q's budget
//! is `max(1, floor(hir-ratio × cache))` in libCacheSim's bytes (one object
//! of a unit-size trace: see [`SizeUnit`]), the LIR budget the rest; an object
//! larger than either is refused (one that enters without a decision, a
//! hand-over or a fill while the policy was failing, is held apart and is
//! the first victim: see `big`); S is limited to twice the cache by
//! dropping its oldest non-resident ids (list NH); a read of a HIR object
//! that is only in Q demotes the bottom LIR object whenever the LIR set is
//! full, as libCacheSim does.
//!
//! Where libCacheSim and the engine differ: libCacheSim may evict on a
//! *hit* (a demotion that overflows Q); the engine asks a policy for victims
//! only when something enters, so those victims are named at the next
//! admission (a read of one of them before then is a hit here and a miss in
//! libCacheSim, which this order replays as that miss to stay in step). And
//! libCacheSim's byte count can fall behind what it serves (an object
//! demoted out of Q by its own read stays readable in S); the engine holds
//! the budget exactly, so this order then evicts Q's oldest to make up the
//! bytes the host asks for.
//!
//! Parameters (`[policy_config]`):
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `hir-ratio` | Q's share of the cache (resident HIR objects) | `0.01` |

use tiered_order_kit::{Admission, Algorithm, Capacity, IdMap, Order, Params, Queue, SizeUnit};

/// An id's state in stack S.
#[derive(Clone, Copy, Debug, Default)]
struct Status {
    lir: bool,
    resident: bool,
}

#[derive(Debug, Default)]
pub struct Lirs {
    capacity: u64,
    /// Q's share of the cache.
    hir_ratio: f64,
    /// libCacheSim's one byte: Q holds at least that much.
    unit: SizeUnit,
    lir_limit: u64,
    hir_limit: u64,
    /// Stack S (front = top, the most recent).
    s: Queue<Status>,
    /// Resident HIR objects, LRU.
    q: Queue,
    /// Non-resident HIR ids still in S, oldest first out.
    nh: Queue,
    /// Residents LIRS would have refused (larger than Q or the LIR set)
    /// that entered without a decision: the host holds them, so they are
    /// held and counted here too (else the host's count check finds this
    /// order short and rebuilds it, again and again), outside S, Q and
    /// libCacheSim's byte count, oldest first out, and the first victims.
    big: Queue,
    lir_bytes: u64,
    hir_bytes: u64,
    /// libCacheSim's occupied bytes (it drives its eviction loop).
    occupied: u64,
    /// What the host holds, by this order's account: id → size.
    held: IdMap<u64>,
    /// Ids that may have stopped being resident since the host last heard.
    left: Vec<u64>,
    /// Victims found but not yet named (`evict_one` names one at a time).
    ready: Vec<(u64, u64)>,
}

impl Lirs {
    /// Whether a read of `id` is a hit (libCacheSim's `find` without update).
    fn resident(&self, id: u64) -> bool {
        match self.s.get(id) {
            Some(status) => status.lir || status.resident,
            None => self.q.contains(id),
        }
    }

    /// Drops HIR entries from the bottom of S until a LIR one is there.
    fn prune(&mut self) {
        while let Some(bottom) = self.s.back() {
            let Some(&status) = self.s.get(bottom) else { break };
            if status.lir || self.s.front() == Some(bottom) {
                break;
            }
            if !status.resident {
                self.nh.remove(bottom);
            }
            self.s.remove(bottom);
            self.left.push(bottom);
        }
    }

    /// Evicts Q's oldest (it stays in S as non-resident if it is there).
    fn evict_hir(&mut self) -> bool {
        let Some((id, size, ())) = self.q.pop_back() else { return false };
        self.hir_bytes -= size;
        if let Some(status) = self.s.get_mut(id) {
            status.resident = false;
            self.nh.push_front(id, size, ());
        }
        self.occupied -= size;
        self.left.push(id);
        true
    }

    /// Demotes the bottom of S into Q (or out, if it cannot fit in Q).
    fn evict_lir(&mut self) -> bool {
        let Some((id, size, _)) = self.s.pop_back() else { return false };
        self.lir_bytes = self.lir_bytes.saturating_sub(size);
        self.occupied -= size;
        self.left.push(id);
        if size <= self.hir_limit {
            while self.hir_bytes + size > self.hir_limit && self.evict_hir() {}
            self.q.push_front(id, size, ());
            self.hir_bytes += size;
            self.occupied += size;
        }
        self.prune();
        true
    }

    /// A read of a resident object (libCacheSim's `find` with update).
    fn read(&mut self, id: u64) {
        let in_s = self.s.move_to_front(id);
        let in_q = self.q.move_to_front(id);
        if in_s {
            let status = self.s.get(id).copied().unwrap_or_default();
            if status.lir {
                self.prune();
            } else if status.resident {
                let size = self.s.size_of(id).unwrap_or(0);
                if let Some((q_size, ())) = in_q.then(|| self.q.remove(id)).flatten() {
                    self.hir_bytes -= q_size;
                    self.occupied -= q_size;
                }
                while self.lir_bytes + size > self.lir_limit && self.evict_lir() {}
                if let Some(status) = self.s.get_mut(id) {
                    status.lir = true;
                }
                self.lir_bytes += size;
                self.occupied += size;
            }
        } else if in_q {
            let size = self.q.size_of(id).unwrap_or(0);
            while self.lir_bytes + size > self.lir_limit && self.evict_lir() {}
            self.s.push_front(id, size, Status { lir: false, resident: true });
        }
    }

    /// A miss on `id` (libCacheSim's `can_insert`, eviction loop and
    /// `insert`); `false` if it refuses the object.
    fn miss(&mut self, id: u64, size: u64) -> bool {
        self.s.move_to_front(id);
        self.q.move_to_front(id);
        let known = self.s.get(id).copied();
        match known {
            Some(status) if !status.lir && !status.resident => {
                let s_size = self.s.size_of(id).unwrap_or(size);
                while self.lir_bytes + s_size > self.lir_limit && self.evict_lir() {}
                self.nh.remove(id);
            }
            _ => {
                if size > self.lir_limit || size > self.hir_limit {
                    return false;
                }
                if self.lir_bytes + size > self.lir_limit && self.hir_bytes + size > self.hir_limit {
                    while self.hir_bytes + size > self.hir_limit && self.evict_hir() {}
                }
            }
        }
        while self.occupied + size > self.capacity {
            let before = self.occupied;
            match self.s.get(id).copied() {
                Some(status) if !status.lir && !status.resident => {
                    while self.hir_bytes >= self.hir_limit && self.evict_hir() {}
                    self.evict_lir();
                }
                None if self.lir_bytes + size > self.lir_limit && self.hir_bytes + size > self.hir_limit => {
                    self.evict_hir();
                }
                _ => {}
            }
            if self.occupied >= before {
                break;
            }
        }
        let in_s = self.s.size_of(id);
        match in_s {
            Some(s_size) => {
                // A non-resident HIR id still in S: it comes back as LIR.
                if let Some(status) = self.s.get_mut(id) {
                    *status = Status { lir: true, resident: true };
                }
                self.lir_bytes += s_size;
                self.occupied += s_size;
            }
            None if self.lir_bytes + size <= self.lir_limit => {
                self.s.push_front(id, size, Status { lir: true, resident: true });
                self.lir_bytes += size;
                self.occupied += size;
            }
            None => {
                self.s.push_front(id, size, Status { lir: false, resident: true });
                self.q.push_front(id, size, ());
                self.hir_bytes += size;
                self.occupied += size;
            }
        }
        self.limit_stack();
        true
    }

    /// Sets the budgets of Q and the LIR set for an object of `size` bytes.
    fn observe(&mut self, size: u64) {
        self.unit.observe(size);
        let unit = self.unit.bytes();
        self.hir_limit = unit * ((self.hir_ratio * (self.capacity / unit) as f64) as u64).max(1);
        self.lir_limit = self.capacity.saturating_sub(self.hir_limit);
    }

    /// Keeps S within twice the cache by dropping its oldest non-resident ids.
    fn limit_stack(&mut self) {
        while self.s.bytes() > 2 * self.capacity {
            let Some((id, _, ())) = self.nh.pop_back() else { break };
            self.s.remove(id);
        }
    }

    /// The held objects that are no longer resident, forgotten as held:
    /// `(id, size)`.
    fn victims(&mut self) -> Vec<(u64, u64)> {
        let mut victims = std::mem::take(&mut self.ready);
        for id in std::mem::take(&mut self.left) {
            if !self.resident(id)
                && let Some(size) = self.held.remove(&id)
            {
                victims.push((id, size));
            }
        }
        victims
    }

    /// Victims until `need` bytes are freed: the pending ones, then the
    /// oldest of `big`, then Q's oldest, then the bottom of S.
    fn victims_for(&mut self, need: u64) -> Vec<(u64, u64)> {
        let mut victims = self.victims();
        let mut freed: u64 = victims.iter().map(|&(_, size)| size).sum();
        while freed < need {
            if let Some((id, size, ())) = self.big.pop_back() {
                self.held.remove(&id);
                victims.push((id, size));
                freed += size;
                continue;
            }
            if !self.evict_hir() && !self.evict_lir() {
                break;
            }
            let more = self.victims();
            freed += more.iter().map(|&(_, size)| size).sum::<u64>();
            victims.extend(more);
        }
        victims
    }
}

impl Algorithm for Lirs {
    const NAME: &'static str = "lirs";

    fn new(capacity: Capacity, params: &mut Params) -> Result<Self, String> {
        let hir_ratio: f64 = params.number("hir-ratio", 0.01, 0.0..=1.0)?;
        let mut lirs = Lirs { capacity: capacity.max_bytes, hir_ratio, ..Lirs::default() };
        lirs.observe(1);
        lirs.unit = SizeUnit::default();
        Ok(lirs)
    }
}

impl Order for Lirs {
    fn hit(&mut self, id: u64) {
        if !self.held.contains_key(&id) || self.big.contains(id) {
            return;
        }
        if self.resident(id) {
            self.read(id);
        } else {
            // Evicted on an earlier read, not yet named: libCacheSim misses.
            let size = self.held[&id];
            self.miss(id, size);
        }
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.observe(size);
        if self.miss(id, size) {
            self.held.insert(id, size);
        } else if !self.held.contains_key(&id) {
            // Too large for LIRS, but resident all the same.
            self.big.push_front(id, size, ());
            self.held.insert(id, size);
        }
    }

    fn remove(&mut self, id: u64) {
        self.held.remove(&id);
        // A victim parked by `evict_one` and not yet named: it left anyway.
        self.ready.retain(|&(victim, _)| victim != id);
        if self.big.remove(id).is_some() {
            return;
        }
        if let Some(status) = self.s.get(id).copied() {
            let (size, _) = self.s.remove(id).expect("held in S");
            if status.lir {
                self.lir_bytes = self.lir_bytes.saturating_sub(size);
                self.occupied -= size;
                self.prune();
            } else if status.resident {
                self.hir_bytes = self.hir_bytes.saturating_sub(size);
                self.occupied -= size;
            }
            self.nh.remove(id);
            self.q.remove(id);
        } else if let Some((size, ())) = self.q.remove(id) {
            self.hir_bytes -= size;
            self.occupied -= size;
        }
    }

    fn len(&self) -> usize {
        // Parked victims are still resident until they are named.
        self.held.len() + self.ready.len()
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        let mut victims = self.victims_for(1);
        let first = (!victims.is_empty()).then(|| victims.remove(0));
        self.ready = victims;
        first
    }

    fn admit(&mut self, id: u64, size: u64, need: u64) -> Admission {
        self.observe(size);
        if self.resident(id) {
            // Held here but not by the host (it evicted the object itself):
            // libCacheSim would hit.
            self.read(id);
        } else if !self.miss(id, size) {
            return Admission::Refuse;
        }
        let victims = self.victims_for(need);
        self.held.insert(id, size);
        Admission::Admit(victims.into_iter().map(|(id, _)| id).collect())
    }

    fn evict(&mut self, need: u64) -> Vec<u64> {
        self.victims_for(need).into_iter().map(|(id, _)| id).collect()
    }
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
tiered_order_kit::export_algorithm!(Lirs);

#[cfg(test)]
mod tests {
    use super::*;

    fn lirs(objects: u64) -> Lirs {
        Lirs::new(Capacity { max_bytes: objects, max_objects: objects }, &mut Params::default()).unwrap()
    }

    fn admit(l: &mut Lirs, id: u64) -> Vec<u64> {
        let used: u64 = l.held.values().sum();
        match l.admit(id, 1, (used + 1).saturating_sub(l.capacity)) {
            Admission::Admit(victims) => victims,
            Admission::Refuse => panic!("unit objects are never refused"),
        }
    }

    #[test]
    fn the_first_objects_are_lir_and_a_scan_only_churns_q() {
        // 10 objects: Q holds 1, the LIR set 9.
        let mut l = lirs(10);
        for id in 1..=9 {
            assert!(admit(&mut l, id).is_empty());
        }
        assert!((1..=9).all(|id| l.s.get(id).is_some_and(|s| s.lir)));
        assert!(admit(&mut l, 10).is_empty()); // HIR, in Q
        // A scan of new ids replaces only Q's one object.
        assert_eq!(admit(&mut l, 11), vec![10]);
        assert_eq!(admit(&mut l, 12), vec![11]);
        assert!((1..=9).all(|id| l.resident(id)));
    }

    #[test]
    fn a_hir_object_reread_while_in_s_becomes_lir() {
        let mut l = lirs(10);
        for id in 1..=9 {
            admit(&mut l, id);
        }
        admit(&mut l, 10); // resident HIR, in S and Q
        admit(&mut l, 11); // 10 leaves Q, stays in S as non-resident
        assert!(!l.resident(10) && l.s.contains(10));
        // 10 again: a short reuse distance; it becomes LIR and the bottom
        // LIR object (1) is demoted to Q, pushing 11 out.
        assert_eq!(admit(&mut l, 10), vec![11]);
        assert!(l.s.get(10).is_some_and(|s| s.lir));
        assert!(l.q.contains(1) && !l.s.contains(1));
    }

    /// Objects 1..=9 LIR; 10 LIR after its second miss, 1 demoted to Q;
    /// then a read of 1 demotes 2 into Q, which pushes 1 itself out of Q.
    fn with_a_read_demoting_itself() -> Lirs {
        let mut l = lirs(10);
        for id in 1..=11 {
            admit(&mut l, id);
        }
        admit(&mut l, 10);
        l.hit(1);
        l
    }

    #[test]
    fn unbounded_libcachesim_serves_one_object_beyond_its_budget() {
        let mut l = with_a_read_demoting_itself();
        // 1 stays readable in S but its bytes are no longer counted: 12
        // enters with no eviction and 11 objects are readable in a cache of 10.
        assert!(l.resident(1) && l.q.contains(2));
        assert_eq!(l.occupied, 9);
        assert_eq!(l.admit(12, 1, 0), Admission::Admit(vec![]));
        assert_eq!((1..=12).filter(|&id| l.resident(id)).count(), 11);
    }

    #[test]
    fn within_the_hosts_budget_qs_oldest_makes_up_the_bytes() {
        let mut l = with_a_read_demoting_itself();
        assert_eq!(admit(&mut l, 12), vec![2]);
    }

    #[test]
    fn a_victim_parked_by_evict_one_counts_until_named_and_a_removal_unparks_it() {
        // evict_one names one victim and parks the others a step freed.
        let (mut parked, mut x) = (0, 7u64);
        for round in 0..200u64 {
            let mut l = lirs(20);
            for _ in 0..400 {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let id = (x >> 33) % (25 + round % 20);
                if l.resident(id) {
                    l.hit(id);
                } else {
                    admit(&mut l, id);
                }
            }
            let before = l.len();
            let Some((named, _)) = l.evict_one() else { continue };
            assert_eq!(l.len(), before - 1, "one named, the parked still counted");
            let Some(&(waiting, _)) = l.ready.first() else { continue };
            parked += 1;
            l.remove(waiting);
            assert_eq!(l.len(), before - 2);
            let rest: Vec<u64> = std::iter::from_fn(|| l.evict_one().map(|(id, _)| id)).collect();
            assert!(!rest.contains(&waiting) && !rest.contains(&named), "{waiting} or {named} named again: {rest:?}");
            assert_eq!(rest.len(), before - 2, "every other resident named once");
        }
        assert!(parked > 0, "no state parked a victim");
    }

    #[test]
    fn an_object_larger_than_q_is_refused() {
        let mut l = lirs(1000); // sizes differ: Q holds 10 bytes
        l.admit(1, 5, 0);
        l.admit(2, 6, 0);
        assert_eq!(l.admit(3, 11, 0), Admission::Refuse);
        assert_eq!(l.admit(4, 10, 0), Admission::Admit(vec![]));
    }

    #[test]
    fn objects_of_one_size_count_as_libcachesims_one_byte_objects() {
        // Ten objects of 150 bytes: Q holds one object, as libCacheSim's
        // ten one-byte objects would give it one byte.
        let mut l = Lirs::new(Capacity { max_bytes: 1500, max_objects: 10 }, &mut Params::default()).unwrap();
        for id in 1..=10 {
            assert_eq!(l.admit(id, 150, 0), Admission::Admit(vec![]));
        }
        assert_eq!(l.hir_limit, 150);
        assert_eq!(l.admit(11, 150, 150), Admission::Admit(vec![10]));
    }

    #[test]
    fn an_arrival_too_large_for_lirs_is_held_counted_and_evicted_first() {
        // 100 bytes of mixed sizes: Q holds 1 byte, so a 30-byte object is
        // refused on a miss.
        let mut l = Lirs::new(Capacity { max_bytes: 100, max_objects: 100 }, &mut Params::default()).unwrap();
        l.insert(1, 1);
        l.insert(2, 1);
        assert_eq!(l.admit(7, 30, 0), Admission::Refuse);
        // Handed over (the host holds it): counted, though LIRS refuses it.
        l.insert(7, 30);
        assert_eq!(l.len(), 3, "the host's count check would rebuild an order that is short");
        l.hit(7);
        assert_eq!(l.len(), 3);
        // The first victim, before any of LIRS's own.
        assert_eq!(l.evict(1), vec![7]);
        assert_eq!(l.len(), 2);
        // Removed by the host instead: forgotten, nothing else touched.
        l.insert(8, 30);
        l.remove(8);
        assert_eq!(l.len(), 2);
        assert_eq!(l.evict(1), vec![1]);
    }
}
