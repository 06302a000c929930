//! [`BuiltinPolicy`]: the default policy (crate `tiered-default-policy`, the
//! logic of `guest-policy/`) linked natively, with no WebAssembly in between.
//!
//! It answers exactly as the embedded default component does, because both
//! run the same [`DefaultPolicy`] code; this file only maps the seam's types
//! onto the guest crate's. It serves as the native baseline in benchmarks
//! (the cost of the component boundary is the difference) and wherever a
//! policy is needed without a wasmtime engine.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tiered_default_policy::{DefaultOrder, DefaultPolicy, EventColumns, ReadInput, Tier as GuestTier, WriteInput};

use super::busy::{CallClock, Timing};
use super::{
    Admission, Arrival, Capacities, Events, ObjectId, Placement, Policy, PolicyCounters, PolicyIdentity, ReadInfo,
    TierId, TierSet, WriteInfo,
};

/// The default policy, native.
///
/// [`Policy::counters`] reports real `calls` and `busy_ns` (timed as for a
/// component, see `busy.rs`); the failure counters stay zero because
/// native code cannot trap, overrun a deadline or answer with a wrong shape.
#[derive(Debug)]
pub struct BuiltinPolicy {
    /// The configured decision logic (immutable, shared by all callers).
    policy: DefaultPolicy,
    /// The eviction order (adaptive per tier), one for all callers.
    order: Mutex<DefaultOrder>,
    /// The most objects each cache tier can hold (hot, warm), which the
    /// order's tables are sized for.
    max_objects: (u64, u64),
    /// Times the order was dropped ([`Policy::reset_order`]).
    generation: AtomicU64,
    /// Decisions asked and time spent deciding, for comparison with the
    /// component.
    clock: CallClock,
}

impl BuiltinPolicy {
    /// Configures the default policy with the `[policy_config]` pairs and the
    /// cache tiers' budgets.
    ///
    /// # Errors
    /// The policy's message naming the bad key (unknown key, bad value).
    pub fn new(config: &[(String, String)], capacities: Capacities) -> Result<BuiltinPolicy, String> {
        let policy = DefaultPolicy::configure(config, capacities.hot_bytes, capacities.warm_bytes)?;
        let max_objects =
            (Capacities::max_objects(capacities.hot_bytes), Capacities::max_objects(capacities.warm_bytes));
        let order = Mutex::new(policy.order(max_objects));
        Ok(BuiltinPolicy { policy, order, max_objects, generation: AtomicU64::new(0), clock: CallClock::default() })
    }

    /// Runs one decision, counting it and the time it took.
    fn timed<R>(&self, timing: Timing, decide: impl FnOnce(&DefaultPolicy) -> R) -> R {
        self.clock.run(timing, || decide(&self.policy))
    }

    /// Runs one call on the order, counted and timed; logs a tier's switch
    /// to another expert.
    fn ordered<R>(&self, decide: impl FnOnce(&mut DefaultOrder) -> R) -> R {
        self.clock.run(Timing::Always, || {
            let mut order = self.order.lock();
            let answer = decide(&mut order);
            for (tier, expert, switches) in order.take_switches() {
                tracing::info!(?tier, order = expert.name(), switches, "default policy: tier order switched");
            }
            answer
        })
    }
}

fn columns(events: &Events) -> EventColumns<'_> {
    EventColumns { tier: guest_tier(events.tier), kind: &events.kind, id: &events.id, size: &events.size }
}

fn guest_tier(tier: TierId) -> GuestTier {
    match tier {
        TierId::Hot => GuestTier::Hot,
        TierId::Warm => GuestTier::Warm,
        TierId::Cold => GuestTier::Cold,
    }
}

impl Policy for BuiltinPolicy {
    fn identity(&self) -> PolicyIdentity {
        let (name, version) = DefaultPolicy::identity();
        PolicyIdentity { name: name.into(), version: version.into(), interface: "native".into(), sha256: None }
    }

    fn place(&self, write: &WriteInfo<'_>) -> Placement {
        let input = WriteInput { size: write.size, requested_ttl_ms: write.requested_ttl_ms, now_ms: write.now_ms };
        let p = self.timed(Timing::Sampled, |policy| policy.place(&input, || write.key));
        Placement { tiers: TierSet { hot: p.hot, warm: p.warm }, ttl_ms: p.ttl_ms, class: 0 }
    }

    fn promote(&self, read: &ReadInfo<'_>) -> TierSet {
        let input = ReadInput {
            size: read.size,
            served_by: guest_tier(read.served_by),
            age_ms: read.age_ms,
            access_count: read.access_count,
            frequency: read.frequency,
            expires_in_ms: read.expires_in_ms,
            now_ms: read.now_ms,
        };
        let p = self.timed(Timing::Sampled, |policy| policy.promote(&input));
        TierSet { hot: p.hot, warm: p.warm }
    }

    fn keeps_order(&self) -> bool {
        true
    }

    fn observe(&self, events: &Events) {
        self.ordered(|order| order.observe(columns(events)));
    }

    fn admit(&self, events: &Events, arrival: Arrival, need_bytes: u64) -> Admission {
        match self.ordered(|order| order.admit(columns(events), arrival.id, arrival.size, need_bytes)) {
            Some(victims) => Admission::Admit(victims),
            None => Admission::Refuse,
        }
    }

    fn evict(&self, events: &Events, need_bytes: u64) -> Vec<ObjectId> {
        self.ordered(|order| order.evict(columns(events), need_bytes))
    }

    fn residents(&self, events: &Events) -> Option<u64> {
        let tier = guest_tier(events.tier);
        Some(self.ordered(|order| {
            order.observe(columns(events));
            order.len(tier) as u64
        }))
    }

    fn order_generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn reset_order(&self) {
        let mut order = self.order.lock();
        *order = self.policy.order(self.max_objects);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn counters(&self) -> PolicyCounters {
        PolicyCounters { calls: self.clock.calls(), busy_ns: self.clock.busy_ns(), ..PolicyCounters::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const MIB: u64 = 1 << 20;

    fn policy(pairs: &[(&str, &str)]) -> Result<BuiltinPolicy, String> {
        let pairs: Vec<_> = pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect();
        BuiltinPolicy::new(&pairs, Capacities { hot_bytes: 64 * MIB, warm_bytes: 1 << 30 })
    }

    #[test]
    fn identifies_as_the_default_policy_linked_natively() -> Result<(), String> {
        let id = policy(&[])?.identity();
        assert_eq!((id.name.as_str(), id.interface.as_str(), id.sha256), ("tiered-default", "native", None));
        Ok(())
    }

    #[test]
    fn a_bad_config_is_rejected_naming_the_key() {
        let err = policy(&[("ttl.logs/", "whenever")]).unwrap_err();
        assert!(err.contains("`ttl.logs/`"), "{err}");
    }

    #[test]
    fn decisions_map_through_and_are_counted() -> Result<(), String> {
        let p = policy(&[("ttl.tmp/", "30s")])?;
        let meta = BTreeMap::new();
        let write =
            |key, size| WriteInfo { key, size, content_type: None, metadata: &meta, requested_ttl_ms: None, now_ms: 0 };
        assert_eq!(p.place(&write("tmp/a", 1024)), Placement { tiers: TierSet::ALL, ttl_ms: Some(30_000), class: 0 });
        assert_eq!(p.place(&write("big", 2 * MIB)).tiers, TierSet { hot: false, warm: true });

        let read = ReadInfo {
            key: "k",
            size: 1024,
            content_type: None,
            metadata: &meta,
            served_by: TierId::Cold,
            age_ms: 0,
            access_count: 1,
            frequency: 1,
            expires_in_ms: None,
            now_ms: 0,
        };
        assert_eq!(p.promote(&read), TierSet::ALL);
        assert_eq!(p.promote(&ReadInfo { size: 2 * MIB, ..read }), TierSet { hot: false, warm: true });

        assert!(p.keeps_order());
        let mut events = Events::new(TierId::Hot);
        events.push(crate::policy::order::ARRIVAL, 1, 1024, 0);
        p.observe(&events);
        let arrival = Arrival { id: 2, size: 1024, class: 0 };
        assert_eq!(p.admit(&Events::new(TierId::Hot), arrival, 0), Admission::Admit(vec![]));
        assert_eq!(p.evict(&Events::new(TierId::Hot), 1), vec![1], "the oldest of the small queue leaves first");

        let counters = p.counters();
        assert_eq!((counters.calls, counters.fallbacks), (7, 0));
        Ok(())
    }
}
