//! [`Queue`]: a doubly linked list of objects keyed by id, the shape of
//! every order in libCacheSim (`q_head` … `q_tail`).
//!
//! The *front* is libCacheSim's head (where objects are inserted, the most
//! recent); the *back* is its tail (the oldest, where eviction looks
//! first). [`Queue::newer`] is libCacheSim's `queue.prev` (one step toward
//! the front), the direction CLOCK and SIEVE hands move in.
//!
//! Nodes live in a vector and link by index; freed slots are reused; an
//! [`IdMap`] finds a node from its id. Every operation is O(1). Each entry
//! carries its size in bytes (the queue keeps their sum, [`Queue::bytes`])
//! and a value of the algorithm's choosing (a frequency, a flag).

use crate::ids::IdMap;

const NIL: usize = usize::MAX;

#[derive(Debug)]
struct Node<V> {
    id: u64,
    size: u64,
    value: V,
    /// Toward the front (libCacheSim's `prev`).
    newer: usize,
    /// Toward the back (libCacheSim's `next`).
    older: usize,
}

/// A list of `(id, size, value)`, front = newest, back = oldest.
#[derive(Debug)]
pub struct Queue<V = ()> {
    nodes: Vec<Node<V>>,
    free: Vec<usize>,
    index: IdMap<usize>,
    front: usize,
    back: usize,
    bytes: u64,
}

impl<V> Default for Queue<V> {
    fn default() -> Self {
        Queue { nodes: Vec::new(), free: Vec::new(), index: IdMap::default(), front: NIL, back: NIL, bytes: 0 }
    }
}

impl<V: Default> Queue<V> {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The sum of the entries' sizes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn contains(&self, id: u64) -> bool {
        self.index.contains_key(&id)
    }

    pub fn get(&self, id: u64) -> Option<&V> {
        self.index.get(&id).map(|&i| &self.nodes[i].value)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut V> {
        self.index.get(&id).map(|&i| &mut self.nodes[i].value)
    }

    pub fn size_of(&self, id: u64) -> Option<u64> {
        self.index.get(&id).map(|&i| self.nodes[i].size)
    }

    /// The id at the front (the newest).
    pub fn front(&self) -> Option<u64> {
        (self.front != NIL).then(|| self.nodes[self.front].id)
    }

    /// The id at the back (the oldest).
    pub fn back(&self) -> Option<u64> {
        (self.back != NIL).then(|| self.nodes[self.back].id)
    }

    /// The neighbour of `id` one step toward the front; `None` at the front
    /// or when `id` is not held.
    pub fn newer(&self, id: u64) -> Option<u64> {
        let &i = self.index.get(&id)?;
        let n = self.nodes[i].newer;
        (n != NIL).then(|| self.nodes[n].id)
    }

    /// Inserts at the front (an entry already held is replaced).
    pub fn push_front(&mut self, id: u64, size: u64, value: V) {
        self.remove(id);
        let node = Node { id, size, value, newer: NIL, older: self.front };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        if self.front != NIL {
            self.nodes[self.front].newer = i;
        } else {
            self.back = i;
        }
        self.front = i;
        self.index.insert(id, i);
        self.bytes += size;
    }

    /// Removes `id`: its size and value.
    pub fn remove(&mut self, id: u64) -> Option<(u64, V)> {
        let i = self.index.remove(&id)?;
        self.unlink(i);
        self.free.push(i);
        self.bytes -= self.nodes[i].size;
        Some((self.nodes[i].size, std::mem::take(&mut self.nodes[i].value)))
    }

    /// Removes the back entry: `(id, size, value)`.
    pub fn pop_back(&mut self) -> Option<(u64, u64, V)> {
        let id = self.back()?;
        let (size, value) = self.remove(id)?;
        Some((id, size, value))
    }

    /// Moves `id` to the front; `false` if it is not held.
    pub fn move_to_front(&mut self, id: u64) -> bool {
        let Some(&i) = self.index.get(&id) else { return false };
        if i != self.front {
            self.unlink(i);
            self.nodes[i].newer = NIL;
            self.nodes[i].older = self.front;
            if self.front != NIL {
                self.nodes[self.front].newer = i;
            } else {
                self.back = i;
            }
            self.front = i;
        }
        true
    }

    fn unlink(&mut self, i: usize) {
        let (newer, older) = (self.nodes[i].newer, self.nodes[i].older);
        if newer != NIL {
            self.nodes[newer].older = older;
        } else {
            self.front = older;
        }
        if older != NIL {
            self.nodes[older].newer = newer;
        } else {
            self.back = newer;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids_back_to_front(q: &Queue<u8>) -> Vec<u64> {
        let mut out = Vec::new();
        let mut at = q.back();
        while let Some(id) = at {
            out.push(id);
            at = q.newer(id);
        }
        out
    }

    #[test]
    fn pushes_moves_and_removals_keep_the_links_and_bytes() {
        let mut q = Queue::<u8>::default();
        for id in 1..=4 {
            q.push_front(id, id * 10, 0);
        }
        assert_eq!(ids_back_to_front(&q), [1, 2, 3, 4]);
        assert!(q.move_to_front(2));
        assert!(!q.move_to_front(9));
        assert_eq!(ids_back_to_front(&q), [1, 3, 4, 2]);
        assert_eq!(q.remove(4), Some((40, 0)));
        assert_eq!(q.remove(4), None);
        *q.get_mut(3).unwrap() = 7;
        assert_eq!(q.pop_back(), Some((1, 10, 0)));
        assert_eq!(ids_back_to_front(&q), [3, 2]);
        assert_eq!((q.len(), q.bytes(), q.get(3)), (2, 50, Some(&7)));
        q.push_front(3, 5, 1);
        assert_eq!((ids_back_to_front(&q), q.bytes()), (vec![2, 3], 25));
        q.push_front(8, 1, 0);
        assert_eq!(q.front(), Some(8));
        while q.pop_back().is_some() {}
        assert!(q.is_empty() && q.front().is_none() && q.back().is_none() && q.bytes() == 0);
    }
}
