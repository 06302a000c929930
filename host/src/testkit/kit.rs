//! [`PolicyKit`]: a real [`TieredStore`] (memory, disk, S3 or a local cold
//! directory) deciding with the policy under test, on a [`ManualClock`], with
//! the handles a test needs to see where each object is.
//!
//! Lookups never disturb what they observe: hot and warm are peeked (no access
//! recorded), and cold is asked through a second S3 client whose requests are
//! not in [`PolicyKit::s3_requests`]. A run works under a fresh random key
//! prefix (S3) or directory (local), removed by [`PolicyKit::finish`].

use std::path::PathBuf;
use std::sync::Arc;

use super::recorder::{Decision, RecordingPolicy};
use super::scenario::StoreSettings;
use super::{KitError, unique_suffix};
use tiered::clock::ManualClock;
use tiered::engine::{StoreConfig, TieredStore};
use tiered::policy::{Capacities, Policy, PolicyIdentity, TierId, TierSet};
use tiered::store::{DiskTier, LocalColdTier, MemoryTier, SourceTier, Tier};

use crate::tiers::CacheTiers;
use tiered_s3::RequestCounts;
use tiered_s3::{S3Config, S3Tier};
use tiered_wasm::{DEFAULT_POLICY_WASM, PolicyEngine, PolicyLimits, WasmPolicy};

/// Where the cold tier lives.
#[derive(Clone, Debug)]
pub enum ColdChoice {
    /// A bucket; the run adds its own random prefix to `prefix`.
    S3(S3Config),
    /// A directory; the run uses a fresh subdirectory of it.
    Local(PathBuf),
}

/// What to start.
#[derive(Clone, Debug)]
pub struct KitOptions {
    /// The policy component; `None`: the embedded default policy.
    pub wasm: Option<Vec<u8>>,
    /// `[policy_config]` pairs handed to `configure`.
    pub policy_config: Vec<(String, String)>,
    pub cold: ColdChoice,
    pub store: StoreSettings,
    /// Compiled-component cache (as `policy_cache_dir`).
    pub cache_dir: Option<PathBuf>,
    /// Bounds of the policy's calls (`[policy_limits]`); never throttled:
    /// a fallback answer would fail expectations about the policy's own.
    pub limits: PolicyLimits,
}

/// A store under test and its observation points.
#[derive(Debug)]
pub struct PolicyKit {
    store: TieredStore,
    clock: ManualClock,
    /// The same tiers the store uses, kept to peek into them.
    hot: Option<Arc<MemoryTier>>,
    warm: Option<Arc<DiskTier>>,
    /// The store's S3 tier, for its request counts.
    s3: Option<S3Tier>,
    /// Cold as seen by a second client: lookups and clean-up go through it.
    inspector: Arc<dyn SourceTier>,
    recorder: Arc<RecordingPolicy>,
    /// Directories this run created (warm, local cold), removed at the end.
    dirs: Vec<PathBuf>,
    /// Human-readable cold location (`s3://bucket/prefix` or a path).
    cold_name: String,
}

impl PolicyKit {
    /// Load the policy, open the tiers, check the bucket, build the store.
    pub async fn start(options: KitOptions) -> Result<PolicyKit, KitError> {
        let settings = &options.store;
        let capacities = Capacities { hot_bytes: settings.hot_bytes.0, warm_bytes: settings.warm_bytes.0 };
        let engine = PolicyEngine::new(options.cache_dir.clone())?;
        let wasm = options.wasm.as_deref().unwrap_or(DEFAULT_POLICY_WASM);
        let policy = WasmPolicy::load(&engine, wasm, &options.policy_config, capacities, options.limits.unthrottled())?;
        let recorder = Arc::new(RecordingPolicy::new(Arc::new(policy)));
        let clock = ManualClock::new(settings.start_ms);
        let run = unique_suffix();
        let mut dirs = Vec::new();

        let (cold, s3, inspector, cold_name): (Arc<dyn SourceTier>, _, Arc<dyn SourceTier>, _) = match options.cold {
            ColdChoice::S3(mut config) => {
                config.prefix = format!("{}tiered-policy-test/{run}/", config.prefix);
                let name = format!("s3://{}/{}", config.bucket, config.prefix);
                let connect = |c: S3Config| async move {
                    S3Tier::connect(c).await.map_err(|source| KitError::Tier { what: "S3 cold tier", source })
                };
                let tier = connect(config.clone()).await?;
                let twin = connect(config).await?;
                twin.check().await.map_err(|source| KitError::Tier { what: "S3 bucket (HeadBucket)", source })?;
                (Arc::new(tier.clone()), Some(tier), Arc::new(twin), name)
            }
            ColdChoice::Local(root) => {
                let dir = root.join(format!("tiered-policy-test-{run}"));
                let tier = LocalColdTier::open(&dir)
                    .map_err(|source| KitError::Tier { what: "local cold directory", source })?;
                let name = dir.display().to_string();
                dirs.push(dir);
                let tier = Arc::new(tier);
                (tier.clone(), None, tier, name)
            }
        };

        let builder = TieredStore::builder()
            .cold(cold)
            .policy(recorder.clone())
            .clock(Arc::new(clock.clone()))
            .config(StoreConfig { exact_events: true, ..StoreConfig::default() });
        let caches = CacheTiers::build(capacities, Arc::new(clock.clone()), |budget| {
            let dir = std::env::temp_dir().join(format!("tiered-policy-test-warm-{run}"));
            let tier = DiskTier::open_with_clock(&dir, budget, Arc::new(clock.clone()))
                .map_err(|source| KitError::Tier { what: "warm tier", source })?;
            dirs.push(dir);
            Ok::<_, KitError>(tier)
        })?;
        let builder = caches.install(builder);
        let CacheTiers { hot, warm } = caches;
        let store = builder.build().map_err(|e| KitError::Scenario(e.to_string()))?;
        tracing::info!(cold = %cold_name, policy = %recorder.identity().name, "policy test store ready");
        Ok(PolicyKit { store, clock, hot, warm, s3, inspector, recorder, dirs, cold_name })
    }

    pub fn store(&self) -> &TieredStore {
        &self.store
    }

    /// The store's clock; advancing it ages every object.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    pub fn policy_identity(&self) -> PolicyIdentity {
        self.recorder.identity()
    }

    /// Where cold lives for this run.
    pub fn cold_name(&self) -> &str {
        &self.cold_name
    }

    /// The policy's answers since the last call.
    pub fn take_decisions(&self) -> Vec<Decision> {
        self.recorder.take()
    }

    /// Requests the store sent to S3 so far; `None` with a local cold tier.
    pub fn s3_requests(&self) -> Option<RequestCounts> {
        self.s3.as_ref().map(S3Tier::requests)
    }

    /// The cache tiers holding a live copy of `key` (peeked, not read).
    pub async fn cached_in(&self, key: &str) -> TierSet {
        let now = self.store.now_ms();
        let live = |meta: Option<Arc<tiered::object::ObjectMeta>>| meta.is_some_and(|m| !m.is_expired(now));
        let hot = match &self.hot {
            Some(t) => live(t.head(key).await.ok().flatten()),
            None => false,
        };
        let warm = match &self.warm {
            Some(t) => live(t.head(key).await.ok().flatten()),
            None => false,
        };
        TierSet { hot, warm }
    }

    /// Every tier holding a live (unexpired) copy of `key`, hot first.
    pub async fn held_in(&self, key: &str) -> Result<Vec<TierId>, KitError> {
        let mut tiers = super::recorder::cache_tiers(self.cached_in(key).await);
        let now = self.store.now_ms();
        let cold = self.inspector.head(key).await.map_err(|source| KitError::Tier { what: "cold lookup", source })?;
        if cold.is_some_and(|m| !m.is_expired(now)) {
            tiers.push(TierId::Cold);
        }
        Ok(tiers)
    }

    /// Delete everything the run wrote (its S3 prefix, its directories).
    /// Returns the number of cold objects removed.
    pub async fn finish(self) -> Result<u64, KitError> {
        let removed = self.inspector.delete_prefix("").await;
        for dir in &self.dirs {
            if let Err(err) = std::fs::remove_dir_all(dir) {
                tracing::warn!(dir = %dir.display(), %err, "could not remove a test directory");
            }
        }
        let removed = removed.map_err(|source| KitError::Tier { what: "clean-up of the run's prefix", source })?;
        tracing::info!(cold = %self.cold_name, removed, "policy test cleaned up");
        Ok(removed)
    }
}
