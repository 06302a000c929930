//! [`Simulator`]: one parsed trace, ready to be replayed through a policy
//! ([`PolicySource`]) at one cache size, a sweep of them, or through several
//! policies side by side ([`Simulator::compare`]).
//!
//! Cache sizes are bytes (`64MiB`) or a share of the trace's unique bytes
//! (`10%`). Unique bytes count what the engine's tiers count: each object's
//! value at its first size plus its metadata footprint. For a trace of
//! unit-size objects with fixed-width keys (every `oracleGeneral` trace), a
//! share of 10% therefore holds exactly 10% of the objects, as in libCacheSim.

use std::str::FromStr;
use std::sync::Arc;

use super::replay::{self, Mode, Tiers};
use super::report::{Prices, Report, Setting};
use super::trace::Trace;
use super::{SimError, belady, cold, lru};
use crate::config::ByteSize;
use tiered::policy::{BuiltinPolicy, Capacities, Policy};
use tiered_wasm::{PolicyEngine, PolicyLimits, WasmPolicy};

/// A cache budget: bytes, or a share of the trace's unique bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CacheSize {
    Bytes(u64),
    /// A fraction in `0.0..=1.0` (`"10%"` is 0.1).
    Share(f64),
}

impl FromStr for CacheSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(percent) = s.strip_suffix('%') {
            let p: f64 = percent.trim().parse().map_err(|_| format!("invalid share {s:?}; expected e.g. \"10%\""))?;
            if !(0.0..=100.0).contains(&p) {
                return Err(format!("share {s:?} must lie between 0% and 100%"));
            }
            return Ok(CacheSize::Share(p / 100.0));
        }
        s.parse::<ByteSize>().map(|b| CacheSize::Bytes(b.0)).map_err(|e| e.to_string())
    }
}

impl CacheSize {
    /// Bytes, given the trace's unique bytes.
    pub fn bytes(self, unique_bytes: u64) -> u64 {
        match self {
            CacheSize::Bytes(b) => b,
            CacheSize::Share(share) => (unique_bytes as f64 * share).round() as u64,
        }
    }
}

/// The sandbox bounds of a replayed policy: the service's, without the
/// throttle and with a deadline that stops a runaway call but never a slow
/// one. The service's 20 ms would let a busy machine (a build beside the
/// replay) turn a late call into a fallback and a rebuilt order, and one
/// trace and one policy must always give the same report.
fn replay_limits() -> PolicyLimits {
    PolicyLimits { deadline: std::time::Duration::from_secs(10), ..PolicyLimits::default().unthrottled() }
}

/// Where the replayed policy comes from.
#[derive(Debug)]
pub enum PolicySource {
    /// The default policy linked natively (same decisions as its component).
    Builtin { config: Vec<(String, String)> },
    /// A policy component, run by wasmtime as the service runs it.
    Wasm { engine: PolicyEngine, wasm: Vec<u8>, config: Vec<(String, String)> },
}

impl PolicySource {
    /// A fresh policy configured for `capacities` (each run gets its own).
    pub fn build(&self, capacities: Capacities) -> Result<Arc<dyn Policy>, SimError> {
        Ok(match self {
            PolicySource::Builtin { config } => {
                Arc::new(BuiltinPolicy::new(config, capacities).map_err(SimError::Policy)?)
            }
            PolicySource::Wasm { engine, wasm, config } => Arc::new(
                WasmPolicy::load(engine, wasm, config, capacities, replay_limits())
                    .map_err(|e| SimError::Policy(e.to_string()))?,
            ),
        })
    }
}

/// A trace ready to replay, with what every run shares.
#[derive(Debug)]
pub struct Simulator {
    trace: Trace,
    /// The metadata footprint of each key in a tier.
    overheads: Vec<u64>,
    next_uses: Vec<u64>,
    unique_bytes: u64,
    /// How events reach the policy (default: exact).
    pub mode: Mode,
    /// Hit events per buffer stripe in batched mode.
    pub hit_buffer: usize,
    /// Share of hit events dropped on purpose in batched mode (0 to 1).
    pub drop_hits: f64,
    pub prices: Prices,
    /// Draw a progress bar (only ever on a terminal).
    pub progress: bool,
}

impl Simulator {
    pub fn new(trace: Trace) -> Simulator {
        let overheads: Vec<u64> = trace.keys.iter().map(|k| cold::footprint(k, 0)).collect();
        let unique_bytes = trace.first_sizes().iter().zip(&overheads).map(|(s, o)| s + o).sum();
        let next_uses = trace.next_uses();
        Simulator {
            trace,
            overheads,
            next_uses,
            unique_bytes,
            mode: Mode::Exact,
            hit_buffer: tiered::StoreConfig::default().hit_buffer,
            drop_hits: 0.0,
            prices: Prices::default(),
            progress: false,
        }
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Footprint bytes of every object of the trace, at first size.
    pub fn unique_bytes(&self) -> u64 {
        self.unique_bytes
    }

    /// One replay of `policy`, with both baselines.
    pub fn run(&self, policy: &PolicySource, hot: CacheSize, warm: CacheSize) -> Result<Report, SimError> {
        let tiers = self.tiers(hot, warm);
        let lru = lru::run(&self.trace, tiers, &self.overheads);
        let belady = belady::run(&self.trace, tiers.hot_bytes, &self.next_uses, &self.overheads);
        self.replay(policy, tiers, &lru, &belady)
    }

    /// One run per policy of `policies` at each hot size (warm fixed): the
    /// baselines are replayed once per size. Reports in size order, then in
    /// the order of `policies`.
    pub fn compare(
        &self,
        policies: &[(String, PolicySource)],
        hot_sizes: &[CacheSize],
        warm: CacheSize,
    ) -> Result<Vec<(String, Report)>, SimError> {
        let mut reports = Vec::with_capacity(policies.len() * hot_sizes.len());
        for &hot in hot_sizes {
            let tiers = self.tiers(hot, warm);
            let lru = lru::run(&self.trace, tiers, &self.overheads);
            let belady = belady::run(&self.trace, tiers.hot_bytes, &self.next_uses, &self.overheads);
            for (label, policy) in policies {
                tracing::debug!(policy = %label, hot = tiers.hot_bytes, "replaying");
                reports.push((label.clone(), self.replay(policy, tiers, &lru, &belady)?));
            }
        }
        Ok(reports)
    }

    fn tiers(&self, hot: CacheSize, warm: CacheSize) -> Tiers {
        Tiers {
            hot_bytes: hot.bytes(self.unique_bytes),
            warm_bytes: warm.bytes(self.unique_bytes),
            mode: self.mode,
            hit_buffer: self.hit_buffer,
            drop_hits: self.drop_hits,
        }
    }

    /// `policy` through the engine, reported beside the baselines' runs.
    fn replay(
        &self,
        policy: &PolicySource,
        tiers: Tiers,
        lru: &lru::LruRun,
        belady: &belady::BeladyRun,
    ) -> Result<Report, SimError> {
        let policy = policy.build(tiers.capacities())?;
        let engine = replay::replay(&self.trace, tiers, policy, self.progress)?;
        let setting = Setting {
            requests: self.trace.requests.len() as u64,
            unique_objects: self.trace.keys.len() as u64,
            unique_bytes: self.unique_bytes,
            hot_bytes: tiers.hot_bytes,
            warm_bytes: tiers.warm_bytes,
            prices: self.prices,
        };
        tracing::debug!(hot = tiers.hot_bytes, warm = tiers.warm_bytes, "replay finished");
        Ok(Report::new(setting, &engine, lru, belady))
    }

    /// One run of `policy` per hot size, warm fixed.
    pub fn sweep(
        &self,
        policy: &PolicySource,
        hot_sizes: &[CacheSize],
        warm: CacheSize,
    ) -> Result<Vec<Report>, SimError> {
        hot_sizes.iter().map(|&hot| self.run(policy, hot, warm)).collect()
    }
}
