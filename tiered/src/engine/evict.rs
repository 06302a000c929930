//! Eviction: a cache tier over its byte budget sheds objects until it fits.
//!
//! Each round takes a sample of resident objects (the least recently used of
//! several shards), asks the policy to score them in **one batched call**, and
//! evicts the lowest scores until the tier is back under budget. A hot
//! candidate the policy marks `demote` is copied down to warm first (under the
//! same ordering rule as promotion, so a racing write is never undone).
//! Rounds for one tier are serialized; each re-reads the usage, so concurrent
//! writers never over-evict.

use std::time::Instant;

use super::TieredStore;
use super::stats::bump;
use crate::metrics::EVICTION_ROUND_SECONDS;
use crate::policy::{Candidate, TierId};
use crate::store::{CacheTier, Resident};

/// Rounds per call, a bound against a policy that never frees enough.
const MAX_ROUNDS: usize = 1024;

impl TieredStore {
    /// Bring hot, then warm, back under budget.
    pub(crate) async fn enforce_budgets(&self) {
        for tier in [TierId::Hot, TierId::Warm] {
            if let Some(cache) = self.cache(tier)
                && cache.usage().over_budget()
            {
                self.evict(tier, cache.as_ref()).await;
            }
        }
    }

    async fn evict(&self, tier: TierId, cache: &dyn CacheTier) {
        let inner = &self.inner;
        let _round = inner.evicting[(tier == TierId::Warm) as usize].lock().await;
        for _ in 0..MAX_ROUNDS {
            let usage = cache.usage();
            let Some(capacity) = usage.capacity.filter(|&c| usage.bytes > c) else { return };
            let started = Instant::now();
            let sample = cache.eviction_sample(inner.config.eviction_sample);
            if sample.is_empty() {
                return;
            }
            let now = inner.clock.now_ms();
            let candidates: Vec<Candidate> = sample.iter().map(|r| self.candidate(tier, r, now)).collect();
            let verdicts = self.policy().score(now, &candidates);
            let mut order: Vec<usize> = (0..sample.len()).collect();
            order.sort_by(|&a, &b| verdicts[a].score.total_cmp(&verdicts[b].score));
            let mut excess = usage.bytes - capacity;
            for i in order {
                let resident = &sample[i];
                if verdicts[i].demote && tier == TierId::Hot {
                    self.demote(&resident.key).await;
                }
                match cache.delete(&resident.key).await {
                    Ok(true) => bump(&inner.counters.tier(tier).evictions),
                    Ok(false) => {}
                    Err(err) => {
                        bump(&inner.counters.tier(tier).errors);
                        tracing::warn!(key = %resident.key, tier = cache.name(), %err, "eviction failed");
                    }
                }
                excess = excess.saturating_sub(resident.footprint);
                if excess == 0 {
                    break;
                }
            }
            metrics::histogram!(EVICTION_ROUND_SECONDS, "tier" => tier.as_str())
                .record(started.elapsed().as_secs_f64());
        }
        tracing::warn!(tier = %tier, "eviction stopped after {MAX_ROUNDS} rounds; tier still over budget");
    }

    fn candidate(&self, tier: TierId, r: &Resident, now: u64) -> Candidate {
        let frequency = self.inner.sketch.estimate(&r.key);
        Candidate {
            key: r.key.clone(),
            size: r.footprint,
            tier,
            age_ms: now.saturating_sub(r.created_ms),
            idle_ms: now.saturating_sub(r.access.last_ms),
            access_count: r.access.count,
            frequency,
            expires_in_ms: r.expires_ms.map(|e| e.saturating_sub(now)),
        }
    }

    /// Copy a hot object to warm before it is evicted, unless a write to the
    /// key finished since it was read.
    async fn demote(&self, key: &str) {
        let inner = &self.inner;
        let (Some(hot), Some(_)) = (&inner.hot, &inner.warm) else { return };
        let ticket = inner.stripes.ticket(key);
        let Some(object) = hot.peek(key) else { return };
        if object.meta.is_expired(inner.clock.now_ms()) || !self.fits(TierId::Warm, &object) {
            return;
        }
        if let Some(_guard) = inner.stripes.fill_guard(ticket).await
            && self.fill(TierId::Warm, object).await
        {
            bump(&inner.counters.hot.demotions);
        }
    }
}
