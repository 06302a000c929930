//! The WebAssembly component: wit-bindgen exports of `wit/policy.wit` (world
//! `policy`) mapped onto the decisions of this crate.
//!
//! The configuration lives in a thread-local cell (an instance is
//! single-threaded); a decision asked before `configure` uses the
//! configuration of no pairs and zero budgets.

use std::cell::RefCell;

use crate::Config;

wit_bindgen::generate!({ path: "../../../wit", world: "policy" });

use exports::tiered::policy::decisions::{Capacity, Guest, Placement, PolicyIdentity, ReadInfo, TierSet, WriteInfo};
use tiered::policy::current_object;
use tiered::policy::host::{Level, log};
use tiered::policy::types::Tier as WitTier;

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

/// The tier set of the two flags.
fn tiers(hot: bool, warm: bool) -> TierSet {
    let mut set = TierSet::empty();
    set.set(TierSet::HOT, hot);
    set.set(TierSet::WARM, warm);
    set
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

    fn place(write: WriteInfo) -> Placement {
        let (hot, warm, ttl_ms) =
            CONFIG.with(|c| crate::place(&c.borrow(), current_object::key, write.size, write.requested_ttl_ms));
        Placement { tiers: tiers(hot, warm), ttl_ms, class: 0 }
    }

    fn promote(read: ReadInfo) -> TierSet {
        let (hot, warm) = CONFIG.with(|c| {
            crate::promote(&c.borrow(), read.size, tier(read.served_by), read.access_count, read.expires_in_ms)
        });
        tiers(hot, warm)
    }
}

export!(Component);
