//! The WebAssembly component: wit-bindgen exports of `wit/policy.wit` (world
//! `policy`) mapped onto [`Admission`]. A decision asked before `configure`
//! uses the configuration of no pairs and zero budgets (admit nothing).

use std::cell::RefCell;

use crate::{Admission, Tier};

wit_bindgen::generate!({ path: "../../../wit", world: "policy" });

use exports::tiered::policy::decisions::{
    Candidates, Capacity, Guest, Placement, PolicyIdentity, ReadInfo, Tier as WitTier, TierSet, Verdict, WriteInfo,
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
        Placement { tiers: tiers(hot, warm), ttl_ms: write.requested_ttl_ms }
    }

    fn promote(read: ReadInfo) -> TierSet {
        let (hot, warm) = POLICY.with(|p| p.borrow().promote(read.size, tier(read.served_by), read.access_count));
        tiers(hot, warm)
    }

    /// The batch comes column by column: candidate `i` is entry `i` of each list.
    fn score(_now_ms: u64, batch: Candidates) -> Vec<Verdict> {
        let held_by = tier(batch.tier);
        POLICY.with(|p| {
            let p = p.borrow();
            (0..batch.size.len())
                .map(|i| {
                    let expired = batch.expires_in_ms[i] == Some(0);
                    let (score, demote) =
                        p.verdict(batch.size[i], held_by, batch.idle_ms[i], batch.access_count[i], expired);
                    Verdict { score, demote }
                })
                .collect()
        })
    }
}

export!(Component);
