//! The replay driver: a trace through the real [`TieredStore`] on a
//! [`ManualClock`] set from the trace's timestamps.
//!
//! Hot is the engine's [`MemoryTier`] as in the service; warm is another
//! memory tier standing in for the disk (same byte budget, no file I/O); cold
//! is [`SimCold`]. Every policy decision is real. A `get` that finds
//! nothing (the key was deleted) is followed by a `set` of the trace's size,
//! as an application filling a cache-aside miss would.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::SimError;
use super::cold::{ColdCounts, SimCold};
use super::trace::{Op, Trace};
use crate::tiers::CacheTiers;
use tiered::clock::ManualClock;
use tiered::engine::{SetOptions, StoreConfig, StoreStats, TieredStore};
use tiered::policy::{Capacities, Policy, TierId};
use tiered::store::MemoryTier;

/// The virtual clock's reading at trace time 0 (2023-11-14), so TTLs and
/// ages look like a real deployment's.
pub const EPOCH_MS: u64 = 1_700_000_000_000;

/// Requests between two progress-bar updates.
const PROGRESS_EVERY: usize = 1 << 16;

/// How events reach the policy during a replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Every event in order before each decision (libCacheSim's order:
    /// evict, then insert, on a miss); deterministic.
    Exact,
    /// As the service delivers them: hits buffered per stripe and dropped
    /// when a buffer is full, arrivals and removals never.
    Batched,
}

/// The tiers of one replay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tiers {
    /// Hot budget in bytes; 0 = no hot tier.
    pub hot_bytes: u64,
    /// Warm budget in bytes; 0 = no warm tier.
    pub warm_bytes: u64,
    /// How events reach the policy.
    pub mode: Mode,
    /// Hit events per buffer stripe in [`Mode::Batched`].
    pub hit_buffer: usize,
    /// Share of hit events dropped on purpose in [`Mode::Batched`], as a
    /// busy service's full buffers would.
    pub drop_hits: f64,
}

impl Tiers {
    pub fn capacities(&self) -> Capacities {
        Capacities { hot_bytes: self.hot_bytes, warm_bytes: self.warm_bytes }
    }
}

/// Gets served by one tier, and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Served {
    pub gets: u64,
    pub bytes: u64,
}

/// S3 requests made during a replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct S3Counts {
    pub gets: u64,
    pub get_bytes: u64,
    pub puts: u64,
    pub put_bytes: u64,
    pub heads: u64,
    pub deletes: u64,
}

impl From<&ColdCounts> for S3Counts {
    fn from(c: &ColdCounts) -> Self {
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        S3Counts {
            gets: load(&c.gets),
            get_bytes: load(&c.get_bytes),
            puts: load(&c.puts),
            put_bytes: load(&c.put_bytes),
            heads: load(&c.heads),
            deletes: load(&c.deletes),
        }
    }
}

/// What a replay through the engine produced.
#[derive(Clone, Debug)]
pub struct EngineRun {
    pub gets: u64,
    pub get_bytes: u64,
    /// Gets served by hot, warm, cold (the tier the engine reported).
    pub served: [Served; 3],
    /// Gets that found nothing (deleted keys), refilled by a set.
    pub not_found: Served,
    pub stats: StoreStats,
    pub s3: S3Counts,
    pub elapsed: Duration,
}

/// Replays `trace` through a [`TieredStore`] deciding with `policy`.
pub fn replay(trace: &Trace, tiers: Tiers, policy: Arc<dyn Policy>, progress: bool) -> Result<EngineRun, SimError> {
    let sizes = trace.first_sizes();
    let largest = trace.requests.iter().map(|r| r.size).max().unwrap_or(0);
    let zeros = bytes::Bytes::from(vec![0u8; usize::try_from(largest).map_err(|_| SimError::TooLarge(largest))?]);
    let cold = Arc::new(SimCold::new(&trace.keys, &sizes, zeros));
    let clock = ManualClock::new(EPOCH_MS);
    let config = StoreConfig {
        exact_events: tiers.mode == Mode::Exact,
        hit_buffer: tiers.hit_buffer,
        // The replay's thread delivers full buffers itself: a batched run
        // then repeats exactly.
        hit_delivery: tiered::HitDelivery::Inline,
        drop_hits: tiers.drop_hits,
        ..StoreConfig::default()
    };
    let builder = TieredStore::builder().cold(cold.clone()).clock(Arc::new(clock.clone())).config(config);
    let caches = CacheTiers::build(tiers.capacities(), Arc::new(clock.clone()), |budget| {
        Ok::<_, SimError>(MemoryTier::with_clock(budget, Arc::new(clock.clone())))
    })?;
    let store = caches.install(builder).policy(policy).build()?;
    let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(SimError::Runtime)?;
    let bar = progress_bar(trace.requests.len() as u64, progress);

    let started = Instant::now();
    let mut run = EngineRun {
        gets: 0,
        get_bytes: 0,
        served: [Served::default(); 3],
        not_found: Served::default(),
        stats: store.stats(),
        s3: S3Counts::default(),
        elapsed: Duration::ZERO,
    };
    runtime.block_on(async {
        let mut now = 0;
        for (i, r) in trace.requests.iter().enumerate() {
            if r.time_ms > now {
                now = r.time_ms;
                clock.set_ms(EPOCH_MS + now);
            }
            let key = trace.keys[r.key as usize].as_str();
            match r.op {
                Op::Get => {
                    run.gets += 1;
                    run.get_bytes += r.size;
                    match store.get_with_metadata(key).await? {
                        Some(hit) => {
                            let served = &mut run.served[tier_index(hit.source)];
                            served.gets += 1;
                            served.bytes += hit.meta.size;
                        }
                        None => {
                            run.not_found.gets += 1;
                            run.not_found.bytes += r.size;
                            store.set(key, cold.value(r.size), SetOptions::default()).await?;
                        }
                    }
                }
                Op::Set => {
                    store.set(key, cold.value(r.size), SetOptions::default()).await?;
                }
                Op::Delete => {
                    store.delete(key).await?;
                }
            }
            if i % PROGRESS_EVERY == PROGRESS_EVERY - 1 {
                bar.inc(PROGRESS_EVERY as u64);
            }
        }
        Ok::<_, SimError>(())
    })?;
    run.elapsed = started.elapsed();
    bar.finish_and_clear();
    run.stats = store.stats();
    run.s3 = S3Counts::from(&cold.counts);
    Ok(run)
}

fn tier_index(tier: TierId) -> usize {
    match tier {
        TierId::Hot => 0,
        TierId::Warm => 1,
        TierId::Cold => 2,
    }
}

/// A progress bar on stderr when it is a terminal and one is wanted; hidden
/// otherwise (pipes, CI, tests).
fn progress_bar(requests: u64, wanted: bool) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(requests), ProgressDrawTarget::stderr());
    let template = "replaying [{bar:40}] {pos}/{len} requests ({per_sec}, eta {eta})";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
