//! [`Lru`]: the least-recently-used order of one tier, keyed by object ids.
//!
//! A queue of `(id, stamp)` pairs, most recent at the back; a read pushes a
//! fresh pair and the older one goes stale (skipped when it reaches the
//! front). The queue is compacted when stale pairs outnumber live ones, so
//! every operation is O(1) amortized.
//!
//! The map hashes with fixed keys (`DefaultHasher::new()`): `HashMap::new`
//! seeds its hasher from WASI's random source, which policies are not given
//! (the call traps).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, DefaultHasher};

#[derive(Debug, Default)]
pub struct Lru {
    /// id → (stamp of its live pair, size).
    objects: HashMap<u64, (u64, u64), BuildHasherDefault<DefaultHasher>>,
    queue: VecDeque<(u64, u64)>,
    next_stamp: u64,
}

impl Lru {
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    fn push(&mut self, id: u64, size: u64) {
        self.next_stamp += 1;
        self.objects.insert(id, (self.next_stamp, size));
        self.queue.push_back((id, self.next_stamp));
        if self.queue.len() > 2 * self.objects.len() + 64 {
            let objects = &self.objects;
            self.queue.retain(|(id, stamp)| objects.get(id).is_some_and(|&(s, _)| s == *stamp));
        }
    }

    /// A read: `id` becomes the most recent (ignored if not held).
    pub fn hit(&mut self, id: u64) {
        if let Some(&(_, size)) = self.objects.get(&id) {
            self.push(id, size);
        }
    }

    /// `id` entered (or was replaced): the most recent.
    pub fn insert(&mut self, id: u64, size: u64) {
        self.push(id, size);
    }

    pub fn remove(&mut self, id: u64) {
        self.objects.remove(&id);
    }

    /// The least recent objects, removed, until `need` bytes are freed.
    pub fn evict(&mut self, need: u64) -> Vec<u64> {
        let mut victims = Vec::new();
        let mut freed = 0;
        while freed < need {
            let Some((id, stamp)) = self.queue.pop_front() else { break };
            if self.objects.get(&id).is_some_and(|&(s, _)| s == stamp) {
                let (_, size) = self.objects.remove(&id).expect("checked above");
                victims.push(id);
                freed += size;
            }
        }
        victims
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_leaves_first() {
        let mut lru = Lru::default();
        for id in 0..4 {
            lru.insert(id, 10);
        }
        lru.hit(0);
        lru.hit(2);
        lru.remove(3);
        assert_eq!(lru.evict(15), vec![1, 0]);
        assert_eq!(lru.evict(100), vec![2]);
        assert!(lru.is_empty());
    }

    #[test]
    fn many_hits_keep_the_queue_bounded() {
        let mut lru = Lru::default();
        lru.insert(1, 1);
        for _ in 0..10_000 {
            lru.hit(1);
        }
        assert!(lru.queue.len() <= 2 + 64 + 1, "{}", lru.queue.len());
        assert_eq!(lru.evict(1), vec![1]);
    }
}
