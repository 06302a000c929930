//! Shadow policies: a candidate policy decides on ghost copies of the cache
//! tiers, over the same requests the live policy serves, and never affects
//! what is served.
//!
//! - [`Shadows`]: the service's handle (in `AppState`). The object routes
//!   tell it each read (with the tier that served it live), write, delete
//!   and prefix invalidation; off, that costs one relaxed atomic load. On,
//!   the request is offered to the shadow's bounded queue with `try_send`:
//!   a full queue drops it from the comparison and counts it, a request is
//!   never delayed.
//! - [`ghost`]: the ghost tiers (metadata and sizes, values that are slices
//!   of one buffer of zeros), counting bytes as the live tiers do.
//! - `replay` (a thread per shadow) replays the queue through a real
//!   [`TieredStore`] built on the ghost tiers, with the service's store
//!   settings and budgets and the candidate policy (loaded on a policy
//!   engine of its own, so its memory is not the live policy's), and counts
//!   each read on both sides ([`tally`]). The ghost tiers start as copies of
//!   the live tiers' residents, handed to the candidate as a promotion
//!   would hand them over, so a shadow loaded into a warm service is not
//!   judged on an empty cache.
//! - [`Report`]: live against shadow over the same reads (`GET
//!   /v1/policy/shadow`, `/v1/stats`, `/metrics`, `tiered policy compare`),
//!   with the [`Verdict`](tally::Verdict) drawn from windows of reads;
//!   [`compare`]: `tiered policy compare`, the report for a person, and its
//!   plot.
//!
//! The replay thread records no metrics of its own (its engine's eviction
//! rounds and its policy's call timings would mix with the live store's
//! series); the comparison is exported from its report instead.
//!
//! A shadow whose policy traps (a memory limit included) or overruns its
//! deadline is ended at once and the reason kept in its report; the live
//! path never waits for it. One shadow runs at a time.
//!
//! The ghost engine is the live engine's code on the same events in the
//! same order, so a shadow running the live policy counts, read for read,
//! what the live store served when it is loaded into an empty store and
//! requests come one at a time (a test holds it to that). Under concurrency the shadow sees requests in the
//! order they completed, which can differ slightly from the order the live
//! store decided them in.

pub mod compare;
pub mod ghost;
mod replay;
pub mod tally;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use ghost::{GhostCold, GhostWarm, Zeros, seed};
use replay::{Msg, Shared, Worker};
use tally::{Side, Tally, Verdict, Window};
use tiered::clock::{Clock, SystemClock};
use tiered::engine::{StoreConfig, TieredStore};
use tiered::object::ObjectMeta;
use tiered::policy::{Capacities, Policy, PolicyCounters, PolicyIdentity, TierId};
use tiered::range::ByteRange;
use tiered::store::MemoryTier;

/// Reads per window when the request does not say.
pub const DEFAULT_WINDOW: u64 = 1000;

/// Requests queued for the shadow before new ones are dropped.
pub const QUEUE: usize = 16 * 1024;

/// Why a shadow could not start, or be promoted or dropped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShadowError {
    #[error("a shadow policy is already running ({name} {version}); drop it first (DELETE /v1/policy/shadow)")]
    Running { name: String, version: String },
    #[error("no shadow policy is loaded (PUT /v1/policy/shadow loads one)")]
    None,
    #[error("the shadow policy was ended ({0}); load it again to compare")]
    Ended(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot start the shadow's replay: {0}")]
    Start(String),
}

/// A shadow policy as loaded: what it takes to load it again, as the live one.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub wasm: Bytes,
    /// Every `[policy_config]` pair it was configured with.
    pub config: Vec<(String, String)>,
    /// Those set for it over the service's own.
    pub overrides: Vec<(String, String)>,
}

/// The service's shadow slot.
#[derive(Debug)]
pub struct Shadows {
    /// Whether a shadow takes requests (shared with its worker, which turns
    /// it off when its policy fails).
    on: Arc<AtomicBool>,
    current: RwLock<Option<Feed>>,
    config: StoreConfig,
    capacities: Capacities,
    /// Shadows ended because their policy failed, since start-up.
    faults: Arc<AtomicU64>,
    /// Serialises start, promote and drop.
    admin: tokio::sync::Mutex<()>,
}

/// The running shadow and the sending end of its queue (dropped to end it).
#[derive(Debug)]
struct Feed {
    tx: SyncSender<Msg>,
    run: Arc<Run>,
}

/// One shadow run.
#[derive(Debug)]
struct Run {
    identity: PolicyIdentity,
    candidate: Candidate,
    started_ms: u64,
    started: Instant,
    /// The ghost store, for its tiers' and policy's figures.
    ghost: TieredStore,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// One side of the comparison, as reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SideReport {
    pub gets: u64,
    pub miss_ratio: f64,
    pub byte_miss_ratio: f64,
    pub hot_miss_ratio: f64,
    pub warm_miss_ratio: f64,
    pub hot_hits: u64,
    pub warm_hits: u64,
    /// Reads served by cold (S3 GETs when cold is S3).
    pub s3_gets: u64,
    pub s3_get_bytes: u64,
}

impl From<&Side> for SideReport {
    fn from(s: &Side) -> Self {
        SideReport {
            gets: s.gets,
            miss_ratio: s.miss_ratio(),
            byte_miss_ratio: s.byte_miss_ratio(),
            hot_miss_ratio: s.hot_miss_ratio(),
            warm_miss_ratio: s.warm_miss_ratio(),
            hot_hits: s.hot_hits,
            warm_hits: s.warm_hits,
            s3_gets: s.cold_gets,
            s3_get_bytes: s.cold_bytes,
        }
    }
}

/// A ghost tier's fill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GhostTierReport {
    pub tier: TierId,
    pub bytes: u64,
    pub objects: u64,
    pub capacity: Option<u64>,
    pub evictions: u64,
}

/// `GET /v1/policy/shadow`: live and shadow over the same requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Whether the shadow still replays (false once dropped or ended).
    pub running: bool,
    /// Why it ended, if it did on its own.
    pub ended: Option<String>,
    pub policy: PolicyIdentity,
    /// The `[policy_config]` pairs set for the shadow over the service's
    /// (the service's own are not shown: `/v1/stats` is not an admin route).
    pub config: Vec<(String, String)>,
    pub live_policy: PolicyIdentity,
    /// When it was loaded, ms since the Unix epoch.
    pub started_ms: u64,
    pub elapsed_secs: f64,
    /// Reads both sides counted; writes and deletes replayed.
    pub reads: u64,
    pub writes: u64,
    pub deletes: u64,
    /// Requests the shadow's queue was too full to take (left out of both sides).
    pub dropped: u64,
    /// Reads of objects larger than a ghost tier holds.
    pub uncacheable: u64,
    pub live: SideReport,
    pub shadow: SideReport,
    /// The shadow policy's calls, fallbacks and busy time.
    pub shadow_policy: PolicyCounters,
    pub shadow_tiers: Vec<GhostTierReport>,
    pub verdict: Verdict,
    /// Live and shadow miss ratios per window, oldest first (the last
    /// [`tally::MAX_WINDOWS`]).
    pub windows: Vec<Window>,
}

impl Shadows {
    /// A slot for shadows of a store built with `config` and `capacities`.
    pub fn new(config: StoreConfig, capacities: Capacities) -> Shadows {
        Shadows {
            on: Arc::new(AtomicBool::new(false)),
            current: RwLock::new(None),
            config,
            capacities,
            faults: Arc::new(AtomicU64::new(0)),
            admin: tokio::sync::Mutex::new(()),
        }
    }

    /// Held by the routes that start, promote or drop a shadow.
    pub async fn admin(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.admin.lock().await
    }

    /// A read (of `range`, when one was asked) the live store served from `live`.
    #[inline]
    pub fn saw_get(&self, meta: &Arc<ObjectMeta>, live: TierId, range: Option<ByteRange>) {
        if self.on.load(Ordering::Relaxed) {
            self.offer(Msg::Get { meta: meta.clone(), live, range });
        }
    }

    /// A write, as stored.
    #[inline]
    pub fn saw_set(&self, meta: &Arc<ObjectMeta>) {
        if self.on.load(Ordering::Relaxed) {
            self.offer(Msg::Set { meta: meta.clone() });
        }
    }

    #[inline]
    pub fn saw_delete(&self, key: &str) {
        if self.on.load(Ordering::Relaxed) {
            self.offer(Msg::Delete { key: key.to_string() });
        }
    }

    #[inline]
    pub fn saw_invalidate(&self, prefix: &str) {
        if self.on.load(Ordering::Relaxed) {
            self.offer(Msg::Invalidate { prefix: prefix.to_string() });
        }
    }

    #[inline(never)]
    fn offer(&self, msg: Msg) {
        let guard = self.current.read();
        let Some(feed) = guard.as_ref() else { return };
        match feed.tx.try_send(msg) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                feed.run.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => self.on.store(false, Ordering::Relaxed),
        }
    }

    /// Starts replaying into `policy` (loaded from `candidate`), closing a
    /// window every `window` reads. The ghost tiers start as copies of `live`'s cache tiers
    /// (metadata only), handed to the candidate as its residents, as a
    /// promotion would hand them over. Refused while another shadow runs;
    /// one that ended is replaced. Callers serialise starts ([`Shadows::admin`]).
    pub async fn start(
        &self,
        live: &TieredStore,
        policy: Arc<dyn Policy>,
        candidate: Candidate,
        window: u64,
    ) -> Result<(), ShadowError> {
        self.ready(window)?;
        let identity = policy.identity();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let zeros = Arc::new(Zeros::default());
        let cold = Arc::new(GhostCold::new(zeros.clone()));
        let settings = StoreConfig { compression: false, ..self.config.clone() };
        let mut builder =
            TieredStore::builder().config(settings).policy(policy).clock(clock.clone()).cold(cold.clone());
        let mut seeded = 0;
        if self.capacities.hot_bytes > 0 {
            let hot = Arc::new(MemoryTier::with_clock(self.capacities.hot_bytes, clock.clone()));
            seeded += seed(hot.as_ref(), live.resident_metadata(TierId::Hot).await, &zeros).await;
            builder = builder.hot(hot);
        }
        if self.capacities.warm_bytes > 0 {
            let warm = Arc::new(GhostWarm::new(self.capacities.warm_bytes, zeros.clone(), clock.clone()));
            seeded += seed(warm.as_ref(), live.resident_metadata(TierId::Warm).await, &zeros).await;
            builder = builder.warm(warm);
        }
        let ghost = builder.build().map_err(|e| ShadowError::Start(e.to_string()))?;
        let shared = Arc::new(Shared {
            tally: Mutex::new(Tally::new(window)),
            running: AtomicBool::new(true),
            dropped: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            deletes: AtomicU64::new(0),
            uncacheable: AtomicU64::new(0),
            ended: Mutex::new(None),
        });
        let (tx, rx) = sync_channel(QUEUE);
        let worker = Worker {
            rx,
            store: ghost.clone(),
            cold,
            zeros,
            shared: shared.clone(),
            on: self.on.clone(),
            faults: self.faults.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("tiered-shadow".into())
            .spawn(move || worker.run())
            .map_err(|e| ShadowError::Start(e.to_string()))?;
        tracing::info!(policy = %identity.name, version = %identity.version, window, seeded, "shadow policy started");
        let run = Arc::new(Run {
            identity,
            candidate,
            started_ms: clock.now_ms(),
            started: Instant::now(),
            ghost,
            shared,
            thread: Mutex::new(Some(thread)),
        });
        // A run that ended on a fault is replaced: its queue closes here.
        *self.current.write() = Some(Feed { tx, run });
        self.on.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Whether a shadow closing a window every `window` reads could start:
    /// refused while another runs, or for a window of no reads. Checked by
    /// [`Shadows::start`], and by a caller before it spends seconds compiling
    /// a candidate.
    pub fn ready(&self, window: u64) -> Result<(), ShadowError> {
        if window == 0 {
            return Err(ShadowError::Invalid("window must be at least 1 read".into()));
        }
        match self.current.read().as_ref().filter(|f| f.run.shared.running.load(Ordering::Relaxed)) {
            Some(feed) => {
                let identity = &feed.run.identity;
                Err(ShadowError::Running { name: identity.name.clone(), version: identity.version.clone() })
            }
            None => Ok(()),
        }
    }

    /// The comparison so far, beside `live` (the live policy's identity).
    pub fn report(&self, live: PolicyIdentity) -> Option<Report> {
        let run = self.current.read().as_ref()?.run.clone();
        Some(run.report(live, true))
    }

    /// [`Shadows::report`] without its windows (for `/v1/stats` and
    /// `/metrics`, which show the totals and the verdict).
    pub fn summary(&self, live: PolicyIdentity) -> Option<Report> {
        let run = self.current.read().as_ref()?.run.clone();
        Some(run.report(live, false))
    }

    /// The running shadow's component and configuration, to promote.
    pub fn candidate(&self) -> Result<Candidate, ShadowError> {
        let current = self.current.read();
        let run = &current.as_ref().ok_or(ShadowError::None)?.run;
        if let Some(reason) = run.shared.ended.lock().clone() {
            return Err(ShadowError::Ended(reason));
        }
        Ok(run.candidate.clone())
    }

    /// Ends the shadow and forgets it: the queue is closed, the worker
    /// replays what it holds and stops. Its last report.
    pub fn drop_shadow(&self, live: PolicyIdentity) -> Result<Report, ShadowError> {
        let Feed { tx, run } = self.current.write().take().ok_or(ShadowError::None)?;
        self.on.store(false, Ordering::Relaxed);
        drop(tx);
        let thread = run.thread.lock().take();
        if let Some(thread) = thread
            && thread.join().is_err()
        {
            tracing::error!(policy = %run.identity.name, "the shadow's replay thread panicked");
        }
        let report = run.report(live, true);
        tracing::info!(policy = %report.policy.name, reads = report.reads, "shadow policy dropped");
        Ok(report)
    }

    /// Shadows ended because their policy failed, since start-up.
    pub fn ended_by_faults(&self) -> u64 {
        self.faults.load(Ordering::Relaxed)
    }
}

impl Run {
    /// The report, with the windows when `windows`.
    fn report(&self, live: PolicyIdentity, windows: bool) -> Report {
        let (tally_live, tally_shadow, verdict, windows) = {
            let tally = self.shared.tally.lock();
            let kept = if windows { tally.windows.iter().copied().collect() } else { Vec::new() };
            (tally.live, tally.shadow, tally.verdict(), kept)
        };
        let stats = self.ghost.stats();
        let shadow_tiers = stats
            .tiers
            .iter()
            .filter(|t| t.tier != TierId::Cold)
            .map(|t| GhostTierReport {
                tier: t.tier,
                bytes: t.bytes,
                objects: t.objects,
                capacity: t.capacity,
                evictions: t.evictions,
            })
            .collect();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Report {
            running: self.shared.running.load(Ordering::Relaxed),
            ended: self.shared.ended.lock().clone(),
            policy: self.identity.clone(),
            config: self.candidate.overrides.clone(),
            live_policy: live,
            started_ms: self.started_ms,
            elapsed_secs: self.started.elapsed().as_secs_f64(),
            reads: tally_live.gets,
            writes: load(&self.shared.writes),
            deletes: load(&self.shared.deletes),
            dropped: load(&self.shared.dropped),
            uncacheable: load(&self.shared.uncacheable),
            live: SideReport::from(&tally_live),
            shadow: SideReport::from(&tally_shadow),
            shadow_policy: stats.policy_counters,
            shadow_tiers,
            verdict,
            windows,
        }
    }
}
