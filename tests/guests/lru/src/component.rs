//! The wit-bindgen exports of `wit/policy.wit` (world `policy`): plain LRU.

wit_bindgen::generate!({ path: "../../../wit", world: "policy" });

use exports::tiered::policy::decisions::{
    Candidates, Capacity, Guest, Placement, PolicyIdentity, ReadInfo, Tier, TierSet, Verdict, WriteInfo,
};

struct Lru;

impl Guest for Lru {
    fn identity() -> PolicyIdentity {
        PolicyIdentity { name: "lru".into(), version: env!("CARGO_PKG_VERSION").into() }
    }

    fn configure(_config: Vec<(String, String)>, _capacities: Vec<Capacity>) -> Result<(), String> {
        Ok(())
    }

    fn place(write: WriteInfo) -> Placement {
        Placement { tiers: TierSet::HOT | TierSet::WARM, ttl_ms: write.requested_ttl_ms }
    }

    fn promote(read: ReadInfo) -> TierSet {
        match read.served_by {
            Tier::Cold => TierSet::HOT | TierSet::WARM,
            Tier::Warm => TierSet::HOT,
            Tier::Hot => TierSet::empty(),
        }
    }

    fn score(_now_ms: u64, batch: Candidates) -> Vec<Verdict> {
        batch.idle_ms.iter().map(|&idle| Verdict { score: -(idle as f64), demote: false }).collect()
    }
}

export!(Lru);
