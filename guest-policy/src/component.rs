//! The WebAssembly component: wit-bindgen exports of `wit/policy.wit` (world
//! `ordered-policy`) mapped onto [`DefaultPolicy`] and [`DefaultOrder`].
//!
//! The configured policy and its order live in thread-local cells (a
//! component instance is single-threaded). A decision asked before
//! `configure` uses [`DefaultPolicy::default`], the configuration of no pairs
//! and zero budgets, rather than trapping. `configure` logs one `info` line
//! through the host.

use std::cell::RefCell;

use crate::{DefaultOrder, DefaultPolicy, EventColumns, ReadInput, Tier, WriteInput};

wit_bindgen::generate!({ path: "../wit", world: "ordered-policy" });

use exports::tiered::policy::decisions::{Capacity, Guest, Placement, PolicyIdentity, ReadInfo, TierSet, WriteInfo};
use exports::tiered::policy::eviction::{Admission, Arrival, Events, Guest as EvictionGuest};
use tiered::policy::current_object;
use tiered::policy::host::{Level, log};
use tiered::policy::types::Tier as WitTier;

thread_local! {
    /// The policy of this instance; `None` until `configure` succeeds.
    static POLICY: RefCell<Option<DefaultPolicy>> = const { RefCell::new(None) };
    /// The eviction order, made on the first eviction call: the host's
    /// pooled instances answer decisions only and never allocate one.
    static ORDER: RefCell<Option<DefaultOrder>> = const { RefCell::new(None) };
    /// The tiers' object bounds from `configure` (hot, warm).
    static MAX_OBJECTS: RefCell<(u64, u64)> = const { RefCell::new((0, 0)) };
}

/// Runs `f` with the order, made for the configured policy if none yet;
/// logs a tier's switch to another expert.
fn with_order<R>(f: impl FnOnce(&mut DefaultOrder) -> R) -> R {
    ORDER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let max_objects = MAX_OBJECTS.with(|m| *m.borrow());
        let order = cell.get_or_insert_with(|| with_policy(|policy| policy.order(max_objects)));
        let answer = f(order);
        for (tier, expert, switches) in order.take_switches() {
            log(Level::Info, &format!("{tier:?} tier now ordered by {} (switch {switches})", expert.name()));
        }
        answer
    })
}

fn columns(events: &Events) -> EventColumns<'_> {
    EventColumns { tier: tier(events.tier), kind: &events.kind, id: &events.id, size: &events.size }
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
                 promote to hot from frequency {}, eviction {}, {} TTL prefix rule(s) from {} key(s)",
                cfg.hot_max_object_bytes,
                cfg.warm_max_object_bytes,
                cfg.promote_hot_min_frequency,
                cfg.eviction.name(),
                config.iter().filter(|(k, _)| k.starts_with(crate::config::TTL_PREFIX)).count(),
                config.len(),
            ),
        );
        let bound = |t: WitTier| capacities.iter().find(|c| c.tier == t).map_or(0, |c| c.max_objects);
        MAX_OBJECTS.with(|m| *m.borrow_mut() = (bound(WitTier::Hot), bound(WitTier::Warm)));
        ORDER.with(|cell| *cell.borrow_mut() = None);
        POLICY.with(|cell| *cell.borrow_mut() = Some(policy));
        Ok(())
    }

    fn place(write: WriteInfo) -> Placement {
        let input = WriteInput { size: write.size, requested_ttl_ms: write.requested_ttl_ms, now_ms: write.now_ms };
        let p = with_policy(|policy| policy.place(&input, current_object::key));
        Placement { tiers: tier_set(p.hot, p.warm), ttl_ms: p.ttl_ms, class: 0 }
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
}

impl EvictionGuest for Component {
    fn observe(events: Events) {
        with_order(|order| order.observe(columns(&events)));
    }

    fn admit(events: Events, arrival: Arrival, need_bytes: u64) -> Admission {
        match with_order(|order| order.admit(columns(&events), arrival.id, arrival.size, need_bytes)) {
            Some(victims) => Admission::Admit(victims),
            None => Admission::Refuse,
        }
    }

    fn evict(events: Events, need_bytes: u64) -> Vec<u64> {
        with_order(|order| order.evict(columns(&events), need_bytes))
    }

    fn residents(events: Events) -> u64 {
        let columns = columns(&events);
        with_order(|order| {
            order.observe(columns);
            order.len(columns.tier) as u64
        })
    }
}

export!(Component);
