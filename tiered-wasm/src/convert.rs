//! Translation between the engine's native decision types
//! ([`tiered::policy::types`]) and the WIT records of the bindings, and the
//! validation of a policy's answers:
//!
//! - placement and promotion: a `tier-set` of `hot` and `warm` (`cold` always
//!   holds every object), so these answers cannot be wrong;
//! - the eviction order's answers are lists of ids, checked one by one by the
//!   engine (resident, named once), so no answer is rejected whole here.
//!
//! Arguments carry numbers only; the text of an object reaches the policy
//! through `current-object` (see `current_object.rs`). Events cross as
//! columns borrowed from the engine's batch ([`events`]): one copy per column
//! instead of a store per field per event.

use super::bindings as wit;
use tiered::policy::{Admission, Arrival, Capacities, Events, ReadInfo, TierId, TierSet, WriteInfo};

pub(crate) fn tier(tier: TierId) -> wit::Tier {
    match tier {
        TierId::Hot => wit::Tier::Hot,
        TierId::Warm => wit::Tier::Warm,
        TierId::Cold => wit::Tier::Cold,
    }
}

/// The budgets of the cache tiers, hot first.
pub(crate) fn capacities(c: Capacities) -> Vec<wit::Capacity> {
    let capacity = |tier, max_bytes| wit::Capacity { tier, max_bytes, max_objects: Capacities::max_objects(max_bytes) };
    vec![capacity(wit::Tier::Hot, c.hot_bytes), capacity(wit::Tier::Warm, c.warm_bytes)]
}

/// A batch of events, its columns borrowed.
pub(crate) fn events(e: &Events) -> wit::Events<'_> {
    wit::Events { tier: tier(e.tier), kind: &e.kind, id: &e.id, size: &e.size, class: &e.class }
}

pub(crate) fn arrival(a: Arrival) -> wit::Arrival {
    wit::Arrival { id: a.id, size: a.size, class: a.class }
}

pub(crate) fn admission(a: wit::Admission) -> Admission {
    match a {
        wit::Admission::Refuse => Admission::Refuse,
        wit::Admission::Admit(victims) => Admission::Admit(victims),
    }
}

/// The numbers of a write (its text is asked for through `current-object`).
pub(crate) fn write_info(write: &WriteInfo<'_>) -> wit::WriteInfo {
    wit::WriteInfo { size: write.size, requested_ttl_ms: write.requested_ttl_ms, now_ms: write.now_ms }
}

/// The numbers of a read (its text is asked for through `current-object`).
pub(crate) fn read_info(read: &ReadInfo<'_>) -> wit::ReadInfo {
    wit::ReadInfo {
        size: read.size,
        served_by: tier(read.served_by),
        age_ms: read.age_ms,
        access_count: read.access_count,
        frequency: read.frequency,
        expires_in_ms: read.expires_in_ms,
        now_ms: read.now_ms,
    }
}

/// The cache tiers named in a placement or promotion answer.
pub(crate) fn tier_set(tiers: wit::TierSet) -> TierSet {
    TierSet { hot: tiers.contains(wit::TierSet::HOT), warm: tiers.contains(wit::TierSet::WARM) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_flags_map_to_the_cache_tiers() {
        assert_eq!(tier_set(wit::TierSet::WARM), TierSet { hot: false, warm: true });
        assert_eq!(tier_set(wit::TierSet::HOT | wit::TierSet::WARM), TierSet { hot: true, warm: true });
        assert_eq!(tier_set(wit::TierSet::empty()), TierSet::NONE);
    }

    #[test]
    fn budgets_bound_the_object_count() {
        let c = capacities(Capacities { hot_bytes: 1 << 20, warm_bytes: 0 });
        assert_eq!(c[0].max_objects, (1 << 20) / Capacities::MIN_FOOTPRINT);
        assert!(c[0].max_objects > 1000, "an object costs a few hundred bytes at least");
        assert_eq!(c[1].max_objects, 0);
    }
}
