//! The WebAssembly component: wit-bindgen exports of `wit/policy.wit` (world
//! `policy`) mapped onto [`Admission`]. A decision asked before `configure`
//! uses the configuration of no pairs and zero budgets (admit nothing).

use std::cell::RefCell;

use crate::{Admission, Tier};

wit_bindgen::generate!({ path: "../../../wit", world: "policy" });

use exports::tiered::policy::decisions::{
    Candidate, Capacity, Guest, Placement, PolicyIdentity, ReadInfo, Tier as WitTier, Verdict, WriteInfo,
};
use tiered::policy::host::{Level, log};

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

fn tiers(hot: bool, warm: bool) -> Vec<WitTier> {
    [(hot, WitTier::Hot), (warm, WitTier::Warm)].into_iter().filter_map(|(on, t)| on.then_some(t)).collect()
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

    fn place(object: WriteInfo) -> Placement {
        let (hot, warm) = POLICY.with(|p| p.borrow().place(object.size));
        Placement { tiers: tiers(hot, warm), ttl_ms: object.requested_ttl_ms }
    }

    fn promote(read: ReadInfo) -> Vec<WitTier> {
        let (hot, warm) = POLICY.with(|p| p.borrow().promote(read.size, tier(read.served_by), read.access_count));
        tiers(hot, warm)
    }

    fn score(_now_ms: u64, candidates: Vec<Candidate>) -> Vec<Verdict> {
        POLICY.with(|p| {
            let p = p.borrow();
            candidates
                .iter()
                .map(|c| {
                    let expired = c.expires_in_ms == Some(0);
                    let (score, demote) = p.verdict(c.size, tier(c.tier), c.idle_ms, c.access_count, expired);
                    Verdict { score, demote }
                })
                .collect()
        })
    }
}

export!(Component);
