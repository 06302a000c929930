//! Building a [`TieredStore`]: configuration is data ([`StoreConfig`]),
//! construction is a builder ([`StoreBuilder`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use tiered::store::{DiskTier, LocalColdTier};
//! use tiered::TieredStore;
//!
//! let store = TieredStore::builder()
//!     .hot_bytes(64 << 20)
//!     .warm(Arc::new(DiskTier::open("./data/warm", 1 << 30)?))
//!     .cold(Arc::new(LocalColdTier::open("./data/cold")?))
//!     .build()?;
//! store.set("greeting", "hello", Default::default()).await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use super::delivery::HitDelivery;
use super::read::flight::Inflight;
use super::residency::{Residency, object_id};
use super::{Inner, TieredStore, ordering, sketch, stats};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::policy::{BuiltinPolicy, Capacities, Policy, TierId};
use crate::store::{CacheTier, MemoryTier, SourceTier};

/// Engine settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Gzip values on write (recorded per object; reads decode any codec).
    pub compression: bool,
    /// Values smaller than this are stored as-is even with compression on.
    pub compress_min_bytes: usize,
    /// Hit events buffered per stripe (16 stripes per cache tier) before
    /// more are dropped, between two deliveries to an ordered policy. (Hot
    /// hits first wait in their shard's read buffer, 32 at a time, which
    /// drops nothing.)
    pub hit_buffer: usize,
    /// Who hands a full hit buffer to an ordered policy: the store's
    /// delivery thread (`background`, the default: a hot hit never runs the
    /// policy's code) or the read that filled it (`inline`: replays, whose
    /// batched runs then repeat exactly).
    pub hit_delivery: HitDelivery,
    /// Deliver every event to the policy in the order it happened, from one
    /// list (no stripes, nothing dropped): for single-threaded replays
    /// (`simulate`), where it makes a run exact and deterministic.
    pub exact_events: bool,
    /// Calls about a tier's order between two checks that the policy's
    /// count of its residents agrees with the host's (a disagreement drops
    /// the policy's order, which is then handed the residents); 0 = never.
    pub order_check_calls: u64,
    /// Share of hit events dropped on purpose, as if their stripe were full
    /// (0 to 1; not with `exact_events`). For replays only (`simulate
    /// --drop-hits`): what lost hits cost in miss ratio. Not a service
    /// setting.
    #[serde(skip)]
    pub drop_hits: f64,
    /// Cached copies older than this are revalidated against cold (its ETag)
    /// before being served; `None` = never (a single host owns the bucket).
    pub max_staleness_ms: Option<u64>,
    /// Distinct keys the frequency sketch is sized for.
    pub sketch_keys: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            compression: false,
            compress_min_bytes: 1024,
            hit_buffer: 256,
            hit_delivery: HitDelivery::Background,
            exact_events: false,
            order_check_calls: 1024,
            drop_hits: 0.0,
            max_staleness_ms: None,
            sketch_keys: 1 << 20,
        }
    }
}

/// Builds a [`TieredStore`]. Only the cold tier is required.
#[derive(Debug, Default)]
pub struct StoreBuilder {
    hot: Option<Arc<MemoryTier>>,
    hot_bytes: Option<u64>,
    warm: Option<Arc<dyn CacheTier>>,
    cold: Option<Arc<dyn SourceTier>>,
    policy: Option<Arc<dyn Policy>>,
    clock: Option<Arc<dyn Clock>>,
    config: StoreConfig,
    spool_dir: Option<std::path::PathBuf>,
}

impl StoreBuilder {
    /// A memory hot tier of `bytes` (on the store's clock).
    pub fn hot_bytes(mut self, bytes: u64) -> Self {
        self.hot_bytes = Some(bytes);
        self
    }

    /// A hot tier built by the caller.
    pub fn hot(mut self, tier: Arc<MemoryTier>) -> Self {
        self.hot = Some(tier);
        self
    }

    pub fn warm(mut self, tier: Arc<dyn CacheTier>) -> Self {
        self.warm = Some(tier);
        self
    }

    /// The source of truth (required).
    pub fn cold(mut self, tier: Arc<dyn SourceTier>) -> Self {
        self.cold = Some(tier);
        self
    }

    /// The deciding policy. Default: [`BuiltinPolicy`], the default policy's
    /// logic linked natively. The service runs the same code as a WebAssembly
    /// component (`tiered_wasm::default_policy`); the decisions are identical.
    pub fn policy(mut self, policy: Arc<dyn Policy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The clock (default: the system clock). Tests and replays use
    /// [`ManualClock`](crate::ManualClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    pub fn config(mut self, config: StoreConfig) -> Self {
        self.config = config;
        self
    }

    /// Where a large object streamed from cold is teed to, to be promoted
    /// into warm once it has passed verification ([`super::promote_stream`]).
    /// Without it, streamed reads promote nothing.
    pub fn spool_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    pub fn compression(mut self, on: bool) -> Self {
        self.config.compression = on;
        self
    }

    /// The byte budgets of the cache tiers this builder will use.
    pub fn capacities(&self) -> Capacities {
        let hot = self.hot.as_ref().map(|h| h.usage().capacity).or(self.hot_bytes.map(Some)).flatten();
        let warm = self.warm.as_ref().and_then(|w| w.usage().capacity);
        Capacities { hot_bytes: hot.unwrap_or(0), warm_bytes: warm.unwrap_or(0) }
    }

    pub fn build(self) -> Result<TieredStore, Error> {
        let capacities = self.capacities();
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let cold =
            self.cold.ok_or_else(|| Error::InvalidArgument("a cold tier is required (the source of truth)".into()))?;
        if self.config.hit_buffer == 0 {
            return Err(Error::InvalidArgument("hit_buffer must be at least 1".into()));
        }
        let hot = self.hot.or_else(|| self.hot_bytes.map(|b| Arc::new(MemoryTier::with_clock(b, clock.clone()))));
        let policy = match self.policy {
            Some(p) => p,
            None => Arc::new(BuiltinPolicy::new(&[], capacities).map_err(Error::InvalidArgument)?),
        };
        let residency = [TierId::Hot, TierId::Warm].map(|tier| {
            let residency = Residency::new(tier, self.config.exact_events, self.config.hit_buffer);
            let residency = match self.config.hit_delivery {
                // Half full: the other half takes the hits that come
                // before the delivery thread does.
                HitDelivery::Background => residency.delivering_at(self.config.hit_buffer / 2),
                HitDelivery::Inline => residency,
            };
            residency.dropping(self.config.drop_hits)
        });
        // Tiers handed in holding objects: a disk tier reopened with the
        // objects of a previous run, tiers filled before the store (a shadow
        // policy's ghost copies of a running store's tiers).
        let caches: [Option<Arc<dyn CacheTier>>; 2] = [hot.clone().map(|h| h as Arc<dyn CacheTier>), self.warm.clone()];
        for (tier, residency) in caches.iter().zip(&residency) {
            for r in tier.iter().flat_map(|t| t.residents()) {
                residency.insert(object_id(&r.key), &r.key, r.footprint, 0, true);
            }
        }
        let keeps_order = policy.keeps_order();
        for r in &residency {
            r.listen(keeps_order);
        }
        let inner = Inner {
            hot,
            warm: self.warm,
            cold,
            policy: RwLock::new(policy),
            clock,
            stripes: ordering::KeyStripes::new(),
            inflight: Inflight::new(),
            sketch: sketch::FrequencySketch::new(self.config.sketch_keys),
            counters: stats::Counters::default(),
            evicting: Default::default(),
            residency,
            courier: Default::default(),
            policy_epoch: Default::default(),
            config: self.config,
            spool_dir: self.spool_dir,
        };
        Ok(TieredStore { inner: Arc::new(inner) })
    }
}
