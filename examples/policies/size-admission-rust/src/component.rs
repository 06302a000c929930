//! The WebAssembly component: wit-bindgen exports of `wit/policy.wit` (world
//! `policy`) mapped onto [`Admission`]. A decision asked before `configure`
//! uses the configuration of no pairs and zero budgets (admit nothing).

use std::cell::RefCell;

use crate::{Admission, Tier};

wit_bindgen::generate!({ path: "../../../wit", world: "policy" });

use exports::tiered::policy::decisions::{Capacity, Guest, Placement, PolicyIdentity, ReadInfo, TierSet, WriteInfo};
use tiered::policy::host::{Level, log};
use tiered::policy::types::Tier as WitTier;

thread_local! {
    static POLICY: RefCell<Admission> = const {
        RefCell::new(Admission { hot_max_object_bytes: 0, warm_max_object_bytes: 0, promote_after_reads: u64::MAX })
    };
}

fn tier(t: WitTier) -> Tier {
    match t {
        WitTier::Hot => Tier::Hot,
        WitTier::Warm => Tier::Warm,
        WitTier::Cold => Tier::Cold,
    }
}

fn tiers(hot: bool, warm: bool) -> TierSet {
    let mut set = TierSet::empty();
    set.set(TierSet::HOT, hot);
    set.set(TierSet::WARM, warm);
    set
}

struct Component;

impl Guest for Component {
    fn identity() -> PolicyIdentity {
        PolicyIdentity { name: "size-admission".into(), version: env!("CARGO_PKG_VERSION").into() }
    }

    fn configure(config: Vec<(String, String)>, capacities: Vec<Capacity>) -> Result<(), String> {
        let budget = |t: WitTier| capacities.iter().find(|c| c.tier == t).map_or(0, |c| c.max_bytes);
        let policy = Admission::parse(&config, budget(WitTier::Hot), budget(WitTier::Warm))?;
        log(
            Level::Info,
            &format!(
                "configured: memory for objects up to {} B after {} reads, disk for objects up to {} B",
                policy.hot_max_object_bytes, policy.promote_after_reads, policy.warm_max_object_bytes
            ),
        );
        POLICY.with(|p| *p.borrow_mut() = policy);
        Ok(())
    }

    fn place(write: WriteInfo) -> Placement {
        let (hot, warm) = POLICY.with(|p| p.borrow().place(write.size));
        Placement { tiers: tiers(hot, warm), ttl_ms: write.requested_ttl_ms, class: 0 }
    }

    fn promote(read: ReadInfo) -> TierSet {
        let (hot, warm) = POLICY.with(|p| p.borrow().promote(read.size, tier(read.served_by), read.access_count));
        tiers(hot, warm)
    }
}

export!(Component);
