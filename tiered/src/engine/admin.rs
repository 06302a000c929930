//! Store-wide operations: listing, prefix invalidation, clearing, statistics,
//! the metadata of a cache tier's residents.

use std::sync::Arc;

use futures::StreamExt;

use super::TieredStore;
use super::stats::{StoreStats, TierStats};
use crate::error::{Error, TierError};
use crate::object::ObjectMeta;
use crate::policy::TierId;
use crate::store::{KeyStream, Page, PageRequest};

impl TieredStore {
    /// Keys starting with `prefix`, from cold (the source of truth), lazily.
    pub fn list_keys(&self, prefix: &str) -> KeyStream {
        self.inner.cold.list(prefix)
    }

    /// One page of keys (and, with a delimiter, common prefixes) in key
    /// order, from cold. A bucket reads only the page (one LIST request per
    /// 1000 entries); a tier that lists in no order reads every key under
    /// the prefix.
    pub async fn list_page(&self, request: &PageRequest) -> Result<Page, Error> {
        self.inner.cold.list_page(request).await.map_err(Error::ColdUnavailable)
    }

    /// Delete every object whose key starts with `prefix`, from every tier.
    /// Returns how many cold held. Caches are dropped first, then cold.
    pub async fn invalidate(&self, prefix: &str) -> Result<u64, Error> {
        let inner = &self.inner;
        let _exclusive = inner.stripes.exclusive().await;
        inner.inflight.forget_all();
        for tier in [TierId::Hot, TierId::Warm] {
            if let Some(cache) = self.cache(tier) {
                if let Err(err) = cache.delete_prefix(prefix).await {
                    super::stats::bump(&inner.counters.tier(tier).errors);
                    tracing::warn!(prefix, tier = cache.name(), %err, "prefix invalidation failed in a cache tier");
                }
                if let Some(residency) = self.residency(tier) {
                    residency.remove_prefix(prefix);
                }
            }
        }
        inner.stripes.bump_all();
        let change = inner.stripes.changing_all();
        let deleted = inner.cold.delete_prefix(prefix).await.map_err(Error::ColdUnavailable);
        drop(change);
        inner.inflight.forget_all();
        let deleted = deleted?;
        tracing::info!(prefix, deleted, "invalidated prefix");
        Ok(deleted)
    }

    /// Remove everything from every tier, cold included.
    pub async fn clear(&self) -> Result<(), Error> {
        for tier in [TierId::Hot, TierId::Warm, TierId::Cold] {
            self.clear_tier(tier).await?;
        }
        Ok(())
    }

    /// Remove everything from one tier. Clearing cold deletes the data.
    pub async fn clear_tier(&self, tier: TierId) -> Result<(), Error> {
        let Some(t) = self.tier(tier) else { return Ok(()) };
        let _exclusive = self.inner.stripes.exclusive().await;
        self.inner.inflight.forget_all();
        let change = self.inner.stripes.changing_all();
        let result = t.clear().await;
        if let Some(residency) = self.residency(tier) {
            residency.clear();
        }
        drop(change);
        result.map_err(|e: TierError| if tier == TierId::Cold { Error::ColdUnavailable(e) } else { Error::Tier(e) })
    }

    /// The metadata of every object cache tier `tier` holds (none for cold
    /// or an absent tier), read without counting an access: what a copy of
    /// the tier's contents without its data starts from (a shadow policy's
    /// ghost tiers). A warm copy's metadata is its file's header, so this
    /// reads one header per resident. Copies that vanish meanwhile are left
    /// out.
    pub async fn resident_metadata(&self, tier: TierId) -> Vec<Arc<ObjectMeta>> {
        let Some(cache) = self.cache(tier) else { return Vec::new() };
        let mut metas = Vec::new();
        for resident in cache.residents() {
            if let Ok(Some(meta)) = cache.head(&resident.key).await {
                metas.push(meta);
            }
        }
        metas
    }

    /// A snapshot of the counters and usage of every tier, and of the policy.
    pub fn stats(&self) -> StoreStats {
        let inner = &self.inner;
        let mut tiers = Vec::with_capacity(3);
        for tier in self.tiers() {
            let t = self.tier(tier).expect("configured tier");
            let mut s: TierStats = inner.counters.tier(tier).snapshot(tier, t.name());
            if let (TierId::Hot, Some(hot)) = (tier, &inner.hot) {
                (s.hits, s.misses) = hot.hit_counts();
            }
            if let Some(residency) = self.residency(tier) {
                s.hits_dropped = residency.dropped();
            }
            // A bucket is not counted (it would take a listing): zeros.
            let usage = match self.cache(tier) {
                Some(cache) => Some(cache.usage()),
                None => inner.cold.stored(),
            };
            if let Some(usage) = usage {
                (s.bytes, s.objects, s.capacity) = (usage.bytes, usage.objects, usage.capacity);
            }
            tiers.push(s);
        }
        let gets = match &inner.hot {
            Some(hot) => {
                let (h, m) = hot.hit_counts();
                h + m
            }
            None => inner.counters.gets_without_hot.load(std::sync::atomic::Ordering::Relaxed),
        };
        let cached: u64 = tiers.iter().filter(|t| t.tier != TierId::Cold).map(|t| t.hits).sum();
        let policy = self.policy();
        StoreStats {
            tiers,
            gets,
            cache_hit_ratio: if gets == 0 { 0.0 } else { cached as f64 / gets as f64 },
            policy: policy.identity(),
            policy_counters: policy.counters(),
        }
    }

    /// Collect the keys under `prefix` (convenience for small listings).
    pub async fn keys(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        let mut stream = self.list_keys(prefix);
        while let Some(key) = stream.next().await {
            out.push(key.map_err(Error::ColdUnavailable)?);
        }
        Ok(out)
    }
}
