//! Counters the engine keeps per tier, and the [`StoreStats`] snapshot users
//! read (`TieredStore::stats`, `GET /v1/stats`, `/metrics`).
//!
//! Hot-tier hits and misses are counted inside the memory tier's shards (under
//! the lock the hit path already holds); everything else is counted here.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::policy::{PolicyCounters, PolicyIdentity, TierId};

/// Atomic counters for one tier.
#[derive(Debug, Default)]
pub(crate) struct TierCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub evictions: AtomicU64,
    pub demotions: AtomicU64,
    pub promotions: AtomicU64,
    pub corrupt: AtomicU64,
    pub errors: AtomicU64,
    pub expired: AtomicU64,
    pub revalidations: AtomicU64,
    pub refused: AtomicU64,
    pub victims_rejected: AtomicU64,
    pub host_evictions: AtomicU64,
    pub id_collisions: AtomicU64,
    pub handovers: AtomicU64,
    pub order_mismatches: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn add(counter: &AtomicU64, n: u64) {
    if n > 0 {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Counters for hot, warm and cold.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub hot: TierCounters,
    pub warm: TierCounters,
    pub cold: TierCounters,
    /// Gets that reached the engine (counted only when there is no hot tier;
    /// otherwise hot hits + hot misses is the total).
    pub gets_without_hot: AtomicU64,
}

impl Counters {
    pub(crate) fn tier(&self, tier: TierId) -> &TierCounters {
        match tier {
            TierId::Hot => &self.hot,
            TierId::Warm => &self.warm,
            TierId::Cold => &self.cold,
        }
    }
}

/// One tier's figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TierStats {
    pub tier: TierId,
    /// Implementation name (`memory`, `disk`, `local`, `s3`, ...).
    pub kind: String,
    pub hits: u64,
    pub misses: u64,
    pub bytes: u64,
    pub objects: u64,
    /// Byte budget; `None` for cold.
    pub capacity: Option<u64>,
    pub evictions: u64,
    /// Evicted hot objects copied down to warm.
    pub demotions: u64,
    /// Copies made into this tier by reads.
    pub promotions: u64,
    /// Copies that failed verification (dropped and refetched).
    pub corrupt: u64,
    /// Operations that failed (a failing cache tier counts as a miss).
    pub errors: u64,
    /// Expired objects found and removed.
    pub expired: u64,
    /// Cached copies revalidated against cold.
    pub revalidations: u64,
    /// Arrivals the policy refused (admission against the victims).
    pub refused: u64,
    /// Victims the policy named that the host could not use (not resident
    /// in this tier, named twice, the arriving object itself).
    pub victims_rejected: u64,
    /// Objects the host's own order evicted because an ordered policy's
    /// answer freed too little (or none was given).
    pub host_evictions: u64,
    /// Objects not cached here because another key resident has their id.
    pub id_collisions: u64,
    /// Times the residents were handed to the policy (a new policy, or one
    /// that lost its order).
    pub handovers: u64,
    /// Times the policy's count of this tier's residents disagreed with the
    /// host's (its order was then dropped and rebuilt from the residents).
    pub order_mismatches: u64,
    /// Hit events dropped because their buffer was full.
    pub hits_dropped: u64,
}

impl TierCounters {
    pub(crate) fn snapshot(&self, tier: TierId, kind: &str) -> TierStats {
        TierStats {
            tier,
            kind: kind.to_string(),
            hits: load(&self.hits),
            misses: load(&self.misses),
            evictions: load(&self.evictions),
            demotions: load(&self.demotions),
            promotions: load(&self.promotions),
            corrupt: load(&self.corrupt),
            errors: load(&self.errors),
            expired: load(&self.expired),
            revalidations: load(&self.revalidations),
            refused: load(&self.refused),
            victims_rejected: load(&self.victims_rejected),
            host_evictions: load(&self.host_evictions),
            id_collisions: load(&self.id_collisions),
            handovers: load(&self.handovers),
            order_mismatches: load(&self.order_mismatches),
            hits_dropped: 0,
            bytes: 0,
            objects: 0,
            capacity: None,
        }
    }
}

/// A snapshot of the whole store.
#[derive(Clone, Debug, Serialize)]
pub struct StoreStats {
    /// Hot first; absent tiers are left out.
    pub tiers: Vec<TierStats>,
    /// Gets answered.
    pub gets: u64,
    /// Share of gets served by hot or warm (0 when there were no gets).
    pub cache_hit_ratio: f64,
    pub policy: PolicyIdentity,
    pub policy_counters: PolicyCounters,
}

impl StoreStats {
    /// The figures of one tier, if configured.
    pub fn tier(&self, tier: TierId) -> Option<&TierStats> {
        self.tiers.iter().find(|t| t.tier == tier)
    }
}
