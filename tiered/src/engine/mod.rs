//! The cascade: [`TieredStore`] runs reads up and writes down the tiers.
//!
//! - [`builder`]: construction and [`StoreConfig`].
//! - [`read`]: hot → warm → cold, one path for whole and streamed reads:
//!   single-flight, checksum self-heal, expiry, revalidation of stale copies
//!   against cold's ETag (several hosts, one bucket), and promotion: the
//!   copies a read below hot leaves in the upper tiers, as the policy decides.
//! - [`write`]: invalidate caches → write cold → fill the tiers the policy
//!   chose, for a value in memory or spooled to a file; delete and touch.
//! - `lookup`: `head` and `exists`, metadata without reading a value.
//! - [`evict`]: admission against the victims, named victims checked, the
//!   host's order making up the rest, demotion to warm, hand-overs.
//! - [`delivery`]: who hands a full buffer of hit events to the policy (a
//!   thread of the store's, so a hot hit never runs the policy's code).
//! - `residency`: what each cache tier holds as the eviction order sees it
//!   (object ids, buffered events, the host's CLOCK).
//! - [`admin`]: list, invalidate by prefix, clear, stats, policy swap.
//! - [`snapshot`]: export / import of a versioned metadata snapshot.
//! - [`bootstrap`]: warm → hot and cold → warm pre-loading.
//! - [`ordering`]: the per-key generations that keep a racing read from
//!   caching a value older than an acknowledged write.
//! - [`sketch`]: the host's frequency estimate handed to the policy.
//! - [`codec`] and [`typed`]: gzip and serde helpers.

pub mod admin;
pub mod bootstrap;
pub mod builder;
pub mod codec;
pub mod delivery;
pub mod evict;
mod lookup;
pub(crate) mod ordering;
pub mod read;
pub(crate) mod residency;
pub mod sketch;
pub mod snapshot;
pub mod stats;
pub mod typed;
pub mod write;

use std::sync::Arc;

use parking_lot::RwLock;

pub use crate::key_id::object_id;
pub use builder::{StoreBuilder, StoreConfig};
pub use delivery::HitDelivery;
pub use read::Hit;
pub use read::{RangeHit, Served, StreamHit};
pub use snapshot::{ImportReport, Snapshot, SnapshotEntry, SnapshotError};
pub use stats::{StoreStats, TierStats};
pub use write::{SetOptions, SetOutcome};

use crate::clock::Clock;
use crate::policy::{Policy, TierId};
use crate::store::{CacheTier, MemoryTier, SourceTier, Tier};

/// A tiered object store. Cheap to clone; clones share everything.
#[derive(Clone, Debug)]
pub struct TieredStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The hot tier is always memory: its hit path is synchronous and never
    /// calls the policy.
    hot: Option<Arc<MemoryTier>>,
    warm: Option<Arc<dyn CacheTier>>,
    /// The source of truth.
    cold: Arc<dyn SourceTier>,
    /// Swapped whole on reload; in-flight calls finish on the old one.
    policy: RwLock<Arc<dyn Policy>>,
    clock: Arc<dyn Clock>,
    config: StoreConfig,
    stripes: ordering::KeyStripes,
    inflight: read::flight::Inflight<read::flight::Flight>,
    sketch: sketch::FrequencySketch,
    counters: stats::Counters,
    /// Serializes eviction rounds per tier (hot, warm).
    evicting: [tokio::sync::Mutex<()>; 2],
    /// What hot and warm hold, as the eviction order sees it.
    residency: [residency::Residency; 2],
    /// Delivers full hit buffers off the read path.
    courier: delivery::Courier,
    /// Bumped on every policy swap: the new policy is handed the residents.
    policy_epoch: std::sync::atomic::AtomicU64,
    /// Where streamed cold reads are teed for promotion; `None`: not promoted.
    spool_dir: Option<std::path::PathBuf>,
}

impl TieredStore {
    /// Start building a store.
    pub fn builder() -> StoreBuilder {
        StoreBuilder::default()
    }

    /// The policy currently deciding.
    pub fn policy(&self) -> Arc<dyn Policy> {
        self.inner.policy.read().clone()
    }

    /// Replace the policy. Calls already running finish on the old one.
    pub fn set_policy(&self, policy: Arc<dyn Policy>) {
        let identity = policy.identity();
        let keeps_order = policy.keeps_order();
        {
            let mut current = self.inner.policy.write();
            *current = policy;
            self.inner.policy_epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            for r in &self.inner.residency {
                r.listen(keeps_order);
            }
        }
        tracing::info!(policy = %identity.name, version = %identity.version, "policy replaced");
    }

    /// The store's clock (ms since the Unix epoch).
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// The tiers configured, hot first.
    pub fn tiers(&self) -> Vec<TierId> {
        let mut tiers = Vec::with_capacity(3);
        if self.inner.hot.is_some() {
            tiers.push(TierId::Hot);
        }
        if self.inner.warm.is_some() {
            tiers.push(TierId::Warm);
        }
        tiers.push(TierId::Cold);
        tiers
    }

    fn cache(&self, tier: TierId) -> Option<Arc<dyn CacheTier>> {
        match tier {
            TierId::Hot => self.inner.hot.clone().map(|h| h as Arc<dyn CacheTier>),
            TierId::Warm => self.inner.warm.clone(),
            TierId::Cold => None,
        }
    }

    /// Whether hot hits are recorded in the hot shards' read buffers and
    /// handed on in batches: not in exact mode (every event in order) nor
    /// with revalidation on (a hit may turn out stale after its lookup).
    fn records_hot_reads(&self) -> bool {
        !self.inner.config.exact_events && self.inner.config.max_staleness_ms.is_none()
    }

    /// The residency of a cache tier (`None` for cold).
    fn residency(&self, tier: TierId) -> Option<&residency::Residency> {
        match tier {
            TierId::Hot => Some(&self.inner.residency[0]),
            TierId::Warm => Some(&self.inner.residency[1]),
            TierId::Cold => None,
        }
    }

    fn tier(&self, tier: TierId) -> Option<Arc<dyn Tier>> {
        match tier {
            TierId::Cold => Some(self.inner.cold.clone() as Arc<dyn Tier>),
            cache => self.cache(cache).map(|c| c as Arc<dyn Tier>),
        }
    }
}
