//! [`Ranking`]: objects ordered by a priority, lowest first, the shape of
//! libCacheSim's ranked orders (`abstractRank`: a set of `(object,
//! priority, time)`).
//!
//! Each entry carries a floating-point priority and a stamp (the logical
//! time it was last ranked, unique per entry); equal priorities are broken
//! by the stamp, oldest first, as libCacheSim breaks them (FIFO). An
//! [`IdMap`] finds an entry from its id. Insert, remove and pop are
//! O(log n). Each entry also carries its size in bytes and a value of the
//! algorithm's choosing (a frequency).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use tiered_order_kit::IdMap;

/// Where an entry stands: its priority, then its stamp.
#[derive(Clone, Copy, Debug)]
struct Rank {
    priority: f64,
    stamp: u64,
}

impl Ord for Rank {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.total_cmp(&other.priority).then(self.stamp.cmp(&other.stamp))
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Rank {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Rank {}

/// One ranked object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry<V> {
    pub priority: f64,
    pub size: u64,
    pub value: V,
}

#[derive(Debug)]
struct Held<V> {
    rank: Rank,
    size: u64,
    value: V,
}

/// Objects by id, ordered by `(priority, stamp)`.
#[derive(Debug)]
pub struct Ranking<V> {
    order: BTreeMap<Rank, u64>,
    entries: IdMap<Held<V>>,
}

impl<V> Default for Ranking<V> {
    fn default() -> Self {
        Ranking { order: BTreeMap::new(), entries: IdMap::default() }
    }
}

impl<V: Copy> Ranking<V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, id: u64) -> Option<Entry<V>> {
        self.entries.get(&id).map(|held| Entry { priority: held.rank.priority, size: held.size, value: held.value })
    }

    /// Ranks `id` at `priority`, stamped `stamp` (a stamp no other entry
    /// has); an entry already held is replaced.
    pub fn insert(&mut self, id: u64, stamp: u64, entry: Entry<V>) {
        self.remove(id);
        let rank = Rank { priority: entry.priority, stamp };
        self.order.insert(rank, id);
        self.entries.insert(id, Held { rank, size: entry.size, value: entry.value });
    }

    pub fn remove(&mut self, id: u64) -> Option<Entry<V>> {
        let held = self.entries.remove(&id)?;
        self.order.remove(&held.rank);
        Some(Entry { priority: held.rank.priority, size: held.size, value: held.value })
    }

    /// Removes the lowest entry (of equal priorities, the oldest stamp).
    pub fn pop_lowest(&mut self) -> Option<(u64, Entry<V>)> {
        let (_, id) = self.order.pop_first()?;
        let held = self.entries.remove(&id).expect("every ranked id has an entry");
        Some((id, Entry { priority: held.rank.priority, size: held.size, value: held.value }))
    }

    /// Multiplies every priority by `factor` (> 0, so the order stays).
    pub fn scale(&mut self, factor: f64) {
        self.order = std::mem::take(&mut self.order)
            .into_iter()
            .map(|(rank, id)| {
                let rank = Rank { priority: rank.priority * factor, ..rank };
                if let Some(held) = self.entries.get_mut(&id) {
                    held.rank = rank;
                }
                (rank, id)
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(priority: f64) -> Entry<()> {
        Entry { priority, size: 1, value: () }
    }

    #[test]
    fn the_lowest_priority_leaves_first_and_ties_go_oldest_first() {
        let mut r = Ranking::default();
        r.insert(1, 1, entry(2.0));
        r.insert(2, 2, entry(1.0));
        r.insert(3, 3, entry(2.0));
        r.insert(4, 4, entry(0.5));
        assert_eq!(r.remove(4), Some(entry(0.5)));
        assert_eq!(r.remove(4), None);
        // Re-ranking 1 gives it a newer stamp: 3 is now the older of the tie.
        r.insert(1, 5, entry(2.0));
        let order: Vec<u64> = std::iter::from_fn(|| r.pop_lowest().map(|(id, _)| id)).collect();
        assert_eq!(order, [2, 3, 1]);
        assert!(r.is_empty());
    }

    #[test]
    fn scaling_keeps_the_order_and_the_entries() {
        let mut r = Ranking::default();
        r.insert(1, 1, Entry { priority: 3.0, size: 10, value: 7u8 });
        r.insert(2, 2, Entry { priority: 1.0, size: 20, value: 8u8 });
        r.scale(0.5);
        assert_eq!(r.get(1), Some(Entry { priority: 1.5, size: 10, value: 7 }));
        assert_eq!(r.pop_lowest(), Some((2, Entry { priority: 0.5, size: 20, value: 8 })));
        assert_eq!(r.len(), 1);
    }
}
