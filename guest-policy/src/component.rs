//! The WebAssembly component: wit-bindgen exports of `wit/policy.wit` (world
//! `policy`) mapped onto [`DefaultPolicy`].
//!
//! The configured policy lives in a thread-local cell (a component instance is
//! single-threaded). A decision asked before `configure` uses
//! [`DefaultPolicy::default`], the configuration of no pairs and zero budgets,
//! rather than trapping. `configure` logs one `info` line through the host.

use std::cell::RefCell;

use crate::{CandidateInput, DefaultPolicy, ReadInput, Tier, WriteInput};

wit_bindgen::generate!({ path: "../wit", world: "policy" });

// wit-bindgen 0.61 generates the WIT record `identity` as `PolicyIdentity`.
use exports::tiered::policy::decisions::{
    Candidates, Capacity, Guest, Placement, PolicyIdentity, ReadInfo, Tier as WitTier, TierSet, Verdict, WriteInfo,
};
use tiered::policy::current_object;
use tiered::policy::host::{Level, log};

thread_local! {
    /// The policy of this instance; `None` until `configure` succeeds.
    static POLICY: RefCell<Option<DefaultPolicy>> = const { RefCell::new(None) };
}

/// Runs `f` with the configured policy, installing the defaults if needed.
fn with_policy<R>(f: impl FnOnce(&DefaultPolicy) -> R) -> R {
    POLICY.with(|cell| f(cell.borrow_mut().get_or_insert_with(DefaultPolicy::default)))
}

fn tier(t: WitTier) -> Tier {
    match t {
        WitTier::Hot => Tier::Hot,
        WitTier::Warm => Tier::Warm,
        WitTier::Cold => Tier::Cold,
    }
}

fn tier_set(hot: bool, warm: bool) -> TierSet {
    let mut set = TierSet::empty();
    set.set(TierSet::HOT, hot);
    set.set(TierSet::WARM, warm);
    set
}

/// The exported `decisions` interface.
struct Component;

impl Guest for Component {
    fn identity() -> PolicyIdentity {
        let (name, version) = DefaultPolicy::identity();
        PolicyIdentity { name: name.into(), version: version.into() }
    }

    fn configure(config: Vec<(String, String)>, capacities: Vec<Capacity>) -> Result<(), String> {
        let (mut hot, mut warm) = (0, 0);
        for c in &capacities {
            match c.tier {
                WitTier::Hot => hot = c.max_bytes,
                WitTier::Warm => warm = c.max_bytes,
                WitTier::Cold => {}
            }
        }
        let policy = DefaultPolicy::configure(&config, hot, warm)?;
        let cfg = policy.config();
        log(
            Level::Info,
            &format!(
                "configured: hot {hot} B (objects up to {} B), warm {warm} B (objects up to {} B), \
                 promote to hot from frequency {}, {} TTL prefix rule(s) from {} key(s)",
                cfg.hot_max_object_bytes,
                cfg.warm_max_object_bytes,
                cfg.promote_hot_min_frequency,
                config.iter().filter(|(k, _)| k.starts_with(crate::config::TTL_PREFIX)).count(),
                config.len(),
            ),
        );
        POLICY.with(|cell| *cell.borrow_mut() = Some(policy));
        Ok(())
    }

    fn place(write: WriteInfo) -> Placement {
        let input = WriteInput { size: write.size, requested_ttl_ms: write.requested_ttl_ms, now_ms: write.now_ms };
        let p = with_policy(|policy| policy.place(&input, current_object::key));
        Placement { tiers: tier_set(p.hot, p.warm), ttl_ms: p.ttl_ms }
    }

    fn promote(read: ReadInfo) -> TierSet {
        let input = ReadInput {
            size: read.size,
            served_by: tier(read.served_by),
            age_ms: read.age_ms,
            access_count: read.access_count,
            frequency: read.frequency,
            expires_in_ms: read.expires_in_ms,
            now_ms: read.now_ms,
        };
        let p = with_policy(|policy| policy.promote(&input));
        tier_set(p.hot, p.warm)
    }

    fn score(_now_ms: u64, batch: Candidates) -> Vec<Verdict> {
        let tier = tier(batch.tier);
        with_policy(|policy| {
            (0..batch.size.len())
                .map(|i| {
                    let v = policy.verdict(&CandidateInput {
                        size: batch.size[i],
                        tier,
                        age_ms: batch.age_ms[i],
                        idle_ms: batch.idle_ms[i],
                        access_count: batch.access_count[i],
                        frequency: batch.frequency[i],
                        expires_in_ms: batch.expires_in_ms[i],
                    });
                    Verdict { score: v.score, demote: v.demote }
                })
                .collect()
        })
    }
}

export!(Component);
