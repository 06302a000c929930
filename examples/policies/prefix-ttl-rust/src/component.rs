//! The WebAssembly component: wit-bindgen exports of `wit/policy.wit` (world
//! `policy`) mapped onto the decisions of this crate.
//!
//! The configuration lives in a thread-local cell (an instance is
//! single-threaded); a decision asked before `configure` uses the
//! configuration of no pairs and zero budgets.

use std::cell::RefCell;

use crate::{Candidate, Config};

wit_bindgen::generate!({ path: "../../../wit", world: "policy" });

use exports::tiered::policy::decisions::{
    Candidate as WitCandidate, Capacity, Guest, Placement, PolicyIdentity, ReadInfo, Tier as WitTier, Verdict,
    WriteInfo,
};
use tiered::policy::host::{Level, log};

thread_local! {
    static CONFIG: RefCell<Config> = const { RefCell::new(Config::EMPTY) };
}

fn tier(t: WitTier) -> crate::Tier {
    match t {
        WitTier::Hot => crate::Tier::Hot,
        WitTier::Warm => crate::Tier::Warm,
        WitTier::Cold => crate::Tier::Cold,
    }
}

/// `[hot, warm]` filtered by the flags, hot first.
fn tiers(hot: bool, warm: bool) -> Vec<WitTier> {
    [(hot, WitTier::Hot), (warm, WitTier::Warm)].into_iter().filter_map(|(on, t)| on.then_some(t)).collect()
}

struct Component;

impl Guest for Component {
    fn identity() -> PolicyIdentity {
        PolicyIdentity { name: "prefix-ttl".into(), version: format!("{}+rust", env!("CARGO_PKG_VERSION")) }
    }

    fn configure(config: Vec<(String, String)>, capacities: Vec<Capacity>) -> Result<(), String> {
        let budget = |t: WitTier| capacities.iter().find(|c| c.tier == t).map_or(0, |c| c.max_bytes);
        let cfg = Config::parse(&config, budget(WitTier::Hot), budget(WitTier::Warm))?;
        let ttl = cfg.default_ttl_ms.map_or("never".to_string(), |ms| format!("{} s", ms / 1000));
        log(
            Level::Info,
            &format!(
                "configured: {} prefix rule(s), default ttl {ttl}, memory for objects up to {} B",
                cfg.rules.len(),
                cfg.hot_max_object_bytes
            ),
        );
        CONFIG.with(|c| *c.borrow_mut() = cfg);
        Ok(())
    }

    fn place(object: WriteInfo) -> Placement {
        let (hot, warm, ttl_ms) =
            CONFIG.with(|c| crate::place(&c.borrow(), &object.key, object.size, object.requested_ttl_ms));
        Placement { tiers: tiers(hot, warm), ttl_ms }
    }

    fn promote(read: ReadInfo) -> Vec<WitTier> {
        let (hot, warm) = CONFIG.with(|c| {
            crate::promote(&c.borrow(), read.size, tier(read.served_by), read.access_count, read.expires_in_ms)
        });
        tiers(hot, warm)
    }

    fn score(_now_ms: u64, candidates: Vec<WitCandidate>) -> Vec<Verdict> {
        candidates
            .iter()
            .map(|c| {
                let (score, demote) = crate::verdict(&Candidate {
                    size: c.size,
                    tier: tier(c.tier),
                    idle_ms: c.idle_ms,
                    frequency: c.frequency,
                    expires_in_ms: c.expires_in_ms,
                });
                Verdict { score, demote }
            })
            .collect()
    }
}

export!(Component);
