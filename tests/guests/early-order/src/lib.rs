//! An ordered policy built against the first text of `tiered:policy@0.4.0`
//! (this crate's `wit/`), whose `eviction` interface had no `residents`: the
//! version number is the host's, the interface is not, and the host must
//! refuse it at load time by naming the interface rather than load it and
//! fail on its first count check.

#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({ path: "wit", world: "ordered-policy" });

    use exports::tiered::policy::decisions::{
        Capacity, Guest, Placement, PolicyIdentity, ReadInfo, TierSet, WriteInfo,
    };
    use exports::tiered::policy::eviction::{Admission, Arrival, Events, Guest as Eviction};

    struct Early;

    impl Guest for Early {
        fn identity() -> PolicyIdentity {
            PolicyIdentity { name: "early-order".into(), version: env!("CARGO_PKG_VERSION").into() }
        }

        fn configure(_config: Vec<(String, String)>, _capacities: Vec<Capacity>) -> Result<(), String> {
            Ok(())
        }

        fn place(write: WriteInfo) -> Placement {
            Placement { tiers: TierSet::HOT | TierSet::WARM, ttl_ms: write.requested_ttl_ms, class: 0 }
        }

        fn promote(_read: ReadInfo) -> TierSet {
            TierSet::HOT
        }
    }

    impl Eviction for Early {
        fn observe(_events: Events) {}

        fn admit(_events: Events, _arrival: Arrival, _need_bytes: u64) -> Admission {
            Admission::Admit(Vec::new())
        }

        fn evict(_events: Events, _need_bytes: u64) -> Vec<u64> {
            Vec::new()
        }
    }

    export!(Early);
}
