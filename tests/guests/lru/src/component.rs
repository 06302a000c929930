//! The wit-bindgen exports of `wit/policy.wit` (world `policy`): plain LRU.

wit_bindgen::generate!({ path: "../../../wit", world: "policy" });

use exports::tiered::policy::decisions::{
    Candidate, Capacity, Guest, Placement, PolicyIdentity, ReadInfo, Tier, Verdict, WriteInfo,
};

struct Lru;

impl Guest for Lru {
    fn identity() -> PolicyIdentity {
        PolicyIdentity { name: "lru".into(), version: env!("CARGO_PKG_VERSION").into() }
    }

    fn configure(_config: Vec<(String, String)>, _capacities: Vec<Capacity>) -> Result<(), String> {
        Ok(())
    }

    fn place(object: WriteInfo) -> Placement {
        Placement { tiers: vec![Tier::Hot, Tier::Warm], ttl_ms: object.requested_ttl_ms }
    }

    fn promote(read: ReadInfo) -> Vec<Tier> {
        match read.served_by {
            Tier::Cold => vec![Tier::Hot, Tier::Warm],
            Tier::Warm => vec![Tier::Hot],
            Tier::Hot => Vec::new(),
        }
    }

    fn score(_now_ms: u64, candidates: Vec<Candidate>) -> Vec<Verdict> {
        candidates.iter().map(|c| Verdict { score: -(c.idle_ms as f64), demote: false }).collect()
    }
}

export!(Lru);
