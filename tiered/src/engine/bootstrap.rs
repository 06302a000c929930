//! Pre-loading caches: warm → hot (most valuable first) and cold → warm.
//!
//! "Most valuable" is the host's frequency estimate, then recency: warm's
//! residents are loaded most frequent first until the limit or the hot
//! budget is reached. Each load is an arrival in hot like any other (an
//! ordered policy may refuse it), so nothing already hot is evicted for it.

use std::time::Duration;

use super::TieredStore;
use crate::error::Error;
use crate::policy::TierId;

impl TieredStore {
    /// Copy up to `limit` objects from warm into hot, most valuable first,
    /// without evicting anything already hot. Returns how many were copied.
    pub async fn bootstrap_hot(&self, limit: usize) -> Result<u64, Error> {
        let inner = &self.inner;
        let (Some(hot), Some(warm)) = (&inner.hot, &inner.warm) else { return Ok(0) };
        let now = inner.clock.now_ms();
        let residents = warm.residents();
        self.gather_reads(TierId::Hot);
        let mut ranked: Vec<(u32, u64, usize)> =
            residents.iter().enumerate().map(|(i, r)| (inner.sketch.estimate(&r.key), r.access.last_ms, i)).collect();
        ranked.sort_unstable_by_key(|&(frequency, last_ms, _)| std::cmp::Reverse((frequency, last_ms)));
        let mut loaded = 0u64;
        for (_, _, i) in ranked {
            if loaded as usize >= limit {
                break;
            }
            let key = &residents[i].key;
            let usage = hot.usage_bytes_free();
            let ticket = inner.stripes.ticket(key);
            let object = match warm.get(key).await {
                Ok(Some(o)) if !o.meta.is_expired(now) => o,
                Ok(_) => continue,
                Err(err) => {
                    tracing::warn!(key = %key, %err, "bootstrap: warm read failed; skipping");
                    continue;
                }
            };
            if object.footprint() > usage {
                continue;
            }
            if let Some(_guard) = inner.stripes.fill_guard(ticket).await
                && self.fill(TierId::Hot, object).await
            {
                loaded += 1;
                if loaded.is_multiple_of(1000) {
                    tracing::info!(loaded, "bootstrap_hot progress");
                }
            }
        }
        tracing::info!(loaded, "bootstrap_hot done");
        Ok(loaded)
    }

    /// Copy up to `limit` objects written within `since` (all if `None`) from
    /// cold into warm. Returns how many were copied.
    pub async fn bootstrap_warm(&self, limit: usize, since: Option<Duration>) -> Result<u64, Error> {
        let inner = &self.inner;
        let Some(warm) = &inner.warm else { return Ok(0) };
        let now = inner.clock.now_ms();
        let cutoff = since.map(|s| now.saturating_sub(s.as_millis() as u64));
        let mut loaded = 0u64;
        for key in self.keys("").await? {
            if loaded as usize >= limit {
                break;
            }
            let ticket = inner.stripes.ticket(&key);
            let Some(object) = inner.cold.get(&key).await.map_err(Error::ColdUnavailable)? else { continue };
            let fresh = cutoff.is_none_or(|c| object.meta.created_ms >= c);
            if !fresh || object.meta.is_expired(now) || !object.verify() || !self.fits(TierId::Warm, &object) {
                continue;
            }
            let usage = warm.usage();
            if usage.capacity.is_some_and(|c| usage.bytes + object.footprint() > c) {
                break;
            }
            if let Some(_guard) = inner.stripes.fill_guard(ticket).await
                && self.fill(TierId::Warm, object).await
            {
                loaded += 1;
                if loaded.is_multiple_of(1000) {
                    tracing::info!(loaded, "bootstrap_warm progress");
                }
            }
        }
        tracing::info!(loaded, "bootstrap_warm done");
        Ok(loaded)
    }
}
