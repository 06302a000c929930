//! The fallback decisions, used when a policy traps, overruns its deadline,
//! answers with the wrong shape, or before any policy is configured.
//!
//! They are deliberately plain and safe:
//! - **place**: warm always; hot too when the object is at most 1/64 of the hot
//!   budget (large objects never flush memory); the writer's TTL unchanged;
//! - **promote**: a warm hit is copied to hot (size permitting), a cold hit to
//!   warm only;
//! - **eviction**: no order of its own: every arrival is admitted and the
//!   engine evicts by its own CLOCK order.

use super::{Capacities, Placement, Policy, PolicyIdentity, ReadInfo, TierId, TierSet, WriteInfo};

/// The documented fallback policy.
#[derive(Clone, Copy, Debug, Default)]
pub struct FallbackPolicy {
    capacities: Capacities,
}

impl FallbackPolicy {
    pub fn new(capacities: Capacities) -> Self {
        FallbackPolicy { capacities }
    }

    fn fits_hot(&self, size: u64) -> bool {
        size <= self.capacities.hot_bytes / 64
    }
}

impl Policy for FallbackPolicy {
    fn identity(&self) -> PolicyIdentity {
        PolicyIdentity {
            name: "fallback".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            interface: "native".into(),
            sha256: None,
        }
    }

    fn place(&self, write: &WriteInfo<'_>) -> Placement {
        Placement {
            tiers: TierSet { hot: self.fits_hot(write.size), warm: true },
            ttl_ms: write.requested_ttl_ms,
            class: 0,
        }
    }

    fn promote(&self, read: &ReadInfo<'_>) -> TierSet {
        match read.served_by {
            TierId::Warm => TierSet { hot: self.fits_hot(read.size), warm: false },
            TierId::Cold => TierSet { hot: false, warm: true },
            TierId::Hot => TierSet::NONE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn large_objects_skip_hot() {
        let p = FallbackPolicy::new(Capacities { hot_bytes: 64 * 1024, warm_bytes: 1 << 30 });
        let meta = BTreeMap::new();
        let w = |size| WriteInfo {
            key: "k",
            size,
            content_type: None,
            metadata: &meta,
            requested_ttl_ms: Some(5),
            now_ms: 0,
        };
        assert_eq!(p.place(&w(1024)).tiers, TierSet::ALL);
        assert_eq!(p.place(&w(1025)).tiers, TierSet { hot: false, warm: true });
        assert_eq!(p.place(&w(1)).ttl_ms, Some(5));
        assert!(!p.keeps_order(), "the fallback leaves the order to the engine");
    }
}
