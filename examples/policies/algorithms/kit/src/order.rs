//! [`Order`]: one cache tier's eviction order, as an algorithm keeps it;
//! [`Algorithm`]: how one is built for a tier.
//!
//! The host owns residency: it tells the order what happened ([`Order::hit`],
//! [`Order::arrive`], [`Order::remove`], [`Order::host_evicted`]) and asks it
//! two questions. [`Order::admit`]: an object is about to enter and
//! `need` bytes must be freed first; the default answer is libCacheSim's
//! order on a miss (evict until the bytes are free, then insert the
//! arrival), which is all most algorithms need to say. [`Order::evict`]: the
//! tier is over budget; the default evicts until `need` bytes are freed.
//!
//! Sizes are the bytes an object costs in the tier (the host's footprint),
//! the same unit as [`Capacity::max_bytes`].

use crate::params::Params;

/// The budget of one cache tier (from `configure`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capacity {
    pub max_bytes: u64,
    /// The most objects the tier can hold (its budget over the smallest
    /// footprint an object can have): size tables once from it.
    pub max_objects: u64,
}

/// The answer to an arrival.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Do not cache the object in this tier.
    Refuse,
    /// Cache it after evicting these objects.
    Admit(Vec<u64>),
}

/// One tier's eviction order. Every method must accept ids it does not
/// hold (a removal of an object it never saw, a hit on one it evicted).
pub trait Order {
    /// The object was read from the tier.
    fn hit(&mut self, id: u64);

    /// The object entered the tier and the order decided nothing about it.
    fn insert(&mut self, id: u64, size: u64);

    /// The object left the tier (deleted, overwritten, expired).
    fn remove(&mut self, id: u64);

    /// The order's next victim, removed from it: `(id, size)`; `None` when
    /// it holds nothing.
    fn evict_one(&mut self) -> Option<(u64, u64)>;

    /// How many objects the tier holds by this order's account (the host
    /// compares it with its own count now and then, and rebuilds an order
    /// that disagrees).
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The object entered without an `admit` (the host's residents at start,
    /// a fill while the policy was failing). One already held is replaced.
    fn arrive(&mut self, id: u64, size: u64) {
        self.remove(id);
        self.insert(id, size);
    }

    /// The host evicted the object by its own order.
    fn host_evicted(&mut self, id: u64) {
        self.remove(id);
    }

    /// An object of `size` bytes is about to enter; `need` bytes must be
    /// freed first. Evicts, then inserts (libCacheSim's order on a miss).
    fn admit(&mut self, id: u64, size: u64, need: u64) -> Admission {
        self.remove(id);
        let victims = self.evict(need);
        self.insert(id, size);
        Admission::Admit(victims)
    }

    /// Victims freeing at least `need` bytes (fewer if the order runs dry).
    fn evict(&mut self, need: u64) -> Vec<u64> {
        let mut victims = Vec::new();
        let mut freed = 0;
        while freed < need {
            let Some((id, size)) = self.evict_one() else { break };
            victims.push(id);
            freed += size;
        }
        victims
    }
}

/// An eviction algorithm: a name and an [`Order`] built per cache tier.
pub trait Algorithm: Order + Sized + 'static {
    /// The policy's name (`identity`), e.g. `"lru"`.
    const NAME: &'static str;

    /// An empty order for a tier of `capacity`, its parameters read from
    /// `params` (each with a default); a malformed value is an error naming
    /// the key.
    fn new(capacity: Capacity, params: &mut Params) -> Result<Self, String>;
}
