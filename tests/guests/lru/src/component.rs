//! The wit-bindgen exports of `wit/policy.wit` (world `ordered-policy`):
//! plain LRU, one [`Lru`] per cache tier.

use std::cell::RefCell;

use crate::Lru;

wit_bindgen::generate!({ path: "../../../wit", world: "ordered-policy" });

use exports::tiered::policy::decisions::{Capacity, Guest, Placement, PolicyIdentity, ReadInfo, TierSet, WriteInfo};
use exports::tiered::policy::eviction::{Admission, Arrival, Events, Guest as Eviction};
use tiered::policy::types::Tier;

thread_local! {
    /// Hot and warm.
    static ORDERS: RefCell<[Lru; 2]> = RefCell::default();
}

/// Applies `events` to their tier's order, then runs `f` on it.
fn with_tier<R>(events: &Events, f: impl FnOnce(&mut Lru) -> R) -> R {
    ORDERS.with(|orders| {
        let mut orders = orders.borrow_mut();
        let lru = &mut orders[usize::from(events.tier == Tier::Warm)];
        for i in 0..events.kind.len() {
            let id = events.id[i];
            match events.kind[i] {
                0 => lru.hit(id),
                1 => lru.insert(id, events.size[i]),
                _ => lru.remove(id),
            }
        }
        f(lru)
    })
}

struct Component;

impl Guest for Component {
    fn identity() -> PolicyIdentity {
        PolicyIdentity { name: "lru".into(), version: env!("CARGO_PKG_VERSION").into() }
    }

    fn configure(_config: Vec<(String, String)>, _capacities: Vec<Capacity>) -> Result<(), String> {
        Ok(())
    }

    fn place(write: WriteInfo) -> Placement {
        Placement { tiers: TierSet::HOT | TierSet::WARM, ttl_ms: write.requested_ttl_ms, class: 0 }
    }

    fn promote(read: ReadInfo) -> TierSet {
        match read.served_by {
            Tier::Cold => TierSet::HOT | TierSet::WARM,
            Tier::Warm => TierSet::HOT,
            Tier::Hot => TierSet::empty(),
        }
    }
}

impl Eviction for Component {
    fn observe(events: Events) {
        with_tier(&events, |_| ());
    }

    fn admit(events: Events, arrival: Arrival, need_bytes: u64) -> Admission {
        with_tier(&events, |lru| {
            lru.remove(arrival.id);
            let victims = lru.evict(need_bytes);
            lru.insert(arrival.id, arrival.size);
            Admission::Admit(victims)
        })
    }

    fn evict(events: Events, need_bytes: u64) -> Vec<u64> {
        with_tier(&events, |lru| lru.evict(need_bytes))
    }

    fn residents(events: Events) -> u64 {
        with_tier(&events, |lru| lru.len() as u64)
    }
}

export!(Component);
