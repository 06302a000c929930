//! # tiered-wasm
//!
//! Policies as WebAssembly components: [`WasmPolicy`] implements the
//! [`tiered`] engine's [`Policy`] seam by calling a component that exports
//! `tiered:policy/decisions@0.3.0`, in a wasmtime sandbox (deadline, memory,
//! CPU share and log budget per policy).
//!
//! - `embedded`: [`DEFAULT_POLICY_WASM`], the default policy as a component,
//!   built from `guest-policy/` by this crate's build script, and
//!   [`default_policy`], that component loaded on a process-wide engine.
//! - `runtime`: [`PolicyEngine`], the shared wasmtime engine, its epoch ticker
//!   (call deadlines) and the compiled-artifact cache.
//! - [`limits`]: [`PolicyLimits`] (deadline, memory, pool, log budget).
//! - `bindings`: the one `bindgen!` of `wit/policy.wit`.
//! - `state`: the data of each instance's `Store`, and the host side of the
//!   imports (`log`, `current-object`), each checking the call's deadline.
//! - `current_object`: the text (key, content type, metadata) of the object
//!   a `place` or `promote` is about.
//! - `guest_log`: a policy's log lines, escaped onto one line and within a
//!   per-policy budget.
//! - [`memory`]: the process-wide [`MemoryBudget`] and each `Store`'s limiter.
//! - `throttle`: the share of the machine's time a policy's calls may take.
//! - `instance`: one configured instance in its own `Store`; linking.
//! - `pool`: idle instances shared by concurrent calls; rebuilds after failures.
//! - `convert`: native types to WIT records and back; answer validation.
//! - [`error`]: [`PolicyLoadError`], why a component cannot be loaded.
//! - [`check`]: the battery behind `tiered policy check FILE.wasm`.
//! - [`conformance`]: the kit behind `--conformance` (shape, edge inputs,
//!   determinism, limits), with its inputs in `probes`.
//!
//! **Failure handling.** A call that traps (memory limit included), overruns
//! its deadline or answers with the wrong shape never fails the request: it is
//! logged, counted ([`PolicyCounters`]), and answered by [`FallbackPolicy`];
//! the instance that failed is dropped and a fresh one (new `Store`,
//! instantiate, `configure`) is built by the next call that needs one.
//!
//! **Latency.** Timed calls are recorded through the [`metrics`] facade as
//! the histogram [`CALL_SECONDS`], labelled `call` (`place`, `promote`,
//! `score`): every scoring call, and the placements and promotions the busy
//! clock samples (one in [`tiered::policy::BUSY_SAMPLE_EVERY`]). Each call
//! runs in a `policy_call` span (level debug), so a trace shows the calls a
//! request made.

/// Histogram of policy calls, in seconds (placements and promotions sampled).
pub const CALL_SECONDS: &str = "tiered_policy_call_duration_seconds";

mod bindings;
pub mod check;
pub mod conformance;
mod convert;
mod current_object;
mod embedded;
mod error;
mod guest_log;
mod instance;
mod limits;
pub mod memory;
mod pool;
mod probes;
mod runtime;
mod state;
mod throttle;

pub use check::{CallTiming, CheckReport, check, check_with};
pub use conformance::{ConformanceCheck, ConformanceReport, conformance};
pub use embedded::{DEFAULT_POLICY_WASM, default_policy};
pub use error::PolicyLoadError;
pub use limits::PolicyLimits;
pub use memory::MemoryBudget;
pub use runtime::PolicyEngine;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use self::guest_log::GuestLog;
use self::instance::{Instance, Setup};
use self::pool::{Failure, Pool};
use self::throttle::Throttle;
use tiered::policy::busy::{CallClock, Timing};
use tiered::policy::{
    Candidate, Capacities, FallbackPolicy, Placement, Policy, PolicyCounters, PolicyIdentity, ReadInfo, TierId,
    TierSet, Verdict, WriteInfo,
};

/// The WIT package a policy must implement.
pub const INTERFACE: &str = "tiered:policy@0.3.0";

/// The version part of [`INTERFACE`].
pub const INTERFACE_VERSION: &str = "0.3.0";

/// A loaded policy component, callable from many threads at once.
#[derive(Debug)]
pub struct WasmPolicy {
    identity: PolicyIdentity,
    /// `identity.name`, shared with the instances' log lines.
    name: Arc<str>,
    pool: Pool,
    /// Answers when the policy fails or is throttled.
    fallback: FallbackPolicy,
    /// Bounds the time its calls take.
    throttle: Throttle,
    counters: Counters,
    /// Whether the compiled component came from the engine's cache.
    from_cache: bool,
    /// Keeps the epoch ticker, hence the deadlines, running.
    _engine: PolicyEngine,
}

impl WasmPolicy {
    /// Loads the component `wasm`: checks it is a component implementing
    /// `tiered:policy/decisions@0.3.0`, compiles it (through the engine's
    /// cache), instantiates one instance, reads its identity and configures
    /// it with `config` and `capacities`.
    pub fn load(
        engine: &PolicyEngine,
        wasm: &[u8],
        config: &[(String, String)],
        capacities: Capacities,
        limits: PolicyLimits,
    ) -> Result<WasmPolicy, PolicyLoadError> {
        error::ensure_component(wasm)?;
        let sha256 = hex::encode(Sha256::digest(wasm));
        let (component, from_cache) = engine.compile(wasm, &sha256).map_err(PolicyLoadError::Compile)?;
        let pre = instance::prepare(engine.engine(), &component)?;
        let setup = Setup {
            config: config.to_vec(),
            capacities: convert::capacities(capacities),
            limits,
            memory: engine.memory().clone(),
            log: GuestLog::new(limits.log_line_bytes, limits.log_bytes_per_second),
            clock: engine.clock().clone(),
        };
        let (first, id) = Instance::new(&pre, Arc::from("(loading)"), &setup)?;
        let name: Arc<str> = Arc::from(id.name.as_str());
        tracing::info!(policy = %name, version = %id.version, %sha256, from_cache, "policy loaded");
        Ok(WasmPolicy {
            identity: PolicyIdentity {
                name: id.name,
                version: id.version,
                interface: INTERFACE.into(),
                sha256: Some(sha256),
            },
            pool: Pool::new(pre, setup, name.clone(), first),
            name,
            fallback: FallbackPolicy::new(capacities),
            throttle: Throttle::new(
                engine.clock().clone(),
                limits.busy_share,
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            ),
            counters: Counters::default(),
            from_cache,
            _engine: engine.clone(),
        })
    }

    /// Whether the compiled component was loaded from the engine's cache
    /// rather than compiled.
    pub fn loaded_from_cache(&self) -> bool {
        self.from_cache
    }

    /// Scores a batch that mixes tiers (the engine never sends one; a batch
    /// in the contract belongs to one tier) as one batch per tier.
    fn score_per_tier(&self, now_ms: u64, candidates: &[Candidate]) -> Vec<Verdict> {
        let mut verdicts = vec![Verdict { score: 0.0, demote: false }; candidates.len()];
        for tier in [TierId::Hot, TierId::Warm, TierId::Cold] {
            let (index, part): (Vec<usize>, Vec<Candidate>) =
                candidates.iter().enumerate().filter(|(_, c)| c.tier == tier).map(|(i, c)| (i, c.clone())).unzip();
            for (i, verdict) in index.into_iter().zip(self.score(now_ms, &part)) {
                verdicts[i] = verdict;
            }
        }
        verdicts
    }

    /// Runs one decision on a pooled instance; `None` (after logging and
    /// counting) when the policy failed and the fallback must answer.
    fn decide<R>(
        &self,
        call: &'static str,
        timing: Timing,
        f: impl FnOnce(&mut Instance, u64) -> Result<R, Failure>,
    ) -> Option<R> {
        let c = &self.counters;
        if let Err(say) = self.throttle.admit() {
            c.clock.skipped();
            c.fallbacks.fetch_add(1, Ordering::Relaxed);
            if say {
                tracing::warn!(
                    policy = %self.name,
                    throttled = self.throttle.throttled(),
                    "the policy's calls take more than their share of the machine; decisions answered by the \
                     fallback until it recovers ([policy_limits] busy_share)"
                );
            }
            return None;
        }
        let ticks = self.pool.call_ticks();
        let _span = tracing::debug_span!("policy_call", call, policy = %self.name).entered();
        let (outcome, measured) =
            c.clock.run_measured(timing, || self.pool.with_instance(|instance| f(instance, ticks)));
        self.throttle.spend(measured.weighted_ns);
        if let Some(elapsed) = measured.elapsed {
            metrics::histogram!(CALL_SECONDS, "call" => call).record(elapsed.as_secs_f64());
        }
        let err = match outcome {
            Ok(answer) => return Some(answer),
            Err(err) => err,
        };
        c.fallbacks.fetch_add(1, Ordering::Relaxed);
        match &err {
            Failure::Timeout => &c.timeouts,
            Failure::BadAnswer(_) => &c.bad_answers,
            Failure::Trap(_) | Failure::Rebuild(_) => &c.traps,
        }
        .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(policy = %self.name, call, error = %err, "policy call failed; using fallback decision");
        if let Some(backtrace) = err.backtrace() {
            tracing::debug!(policy = %self.name, call, %backtrace, "where the policy failed");
        }
        None
    }
}

impl Policy for WasmPolicy {
    fn identity(&self) -> PolicyIdentity {
        self.identity.clone()
    }

    fn place(&self, write: &WriteInfo<'_>) -> Placement {
        self.decide("place", Timing::Sampled, |instance, ticks| {
            let arg = convert::write_info(write);
            let object = (write.key, write.content_type, write.metadata);
            let answer = instance.call_about(ticks, object, |d, s| d.call_place(s, arg)).map_err(Failure::from_call)?;
            Ok(Placement { tiers: convert::tier_set(answer.tiers), ttl_ms: answer.ttl_ms })
        })
        .unwrap_or_else(|| self.fallback.place(write))
    }

    fn promote(&self, read: &ReadInfo<'_>) -> TierSet {
        self.decide("promote", Timing::Sampled, |instance, ticks| {
            let arg = convert::read_info(read);
            let object = (read.key, read.content_type, read.metadata);
            let answer =
                instance.call_about(ticks, object, |d, s| d.call_promote(s, arg)).map_err(Failure::from_call)?;
            Ok(convert::tier_set(answer))
        })
        .unwrap_or_else(|| self.fallback.promote(read))
    }

    fn score(&self, now_ms: u64, candidates: &[Candidate]) -> Vec<Verdict> {
        let held_by = candidates.first().map_or(TierId::Hot, |c| c.tier);
        if candidates.iter().any(|c| c.tier != held_by) {
            return self.score_per_tier(now_ms, candidates);
        }
        self.decide("score", Timing::Always, |instance, ticks| {
            let columns = convert::Columns::new(candidates.iter());
            let batch = columns.batch(held_by);
            let answer = instance.call(ticks, |d, s| d.call_score(s, now_ms, batch)).map_err(Failure::from_call)?;
            convert::verdicts(answer, candidates.len()).map_err(Failure::BadAnswer)
        })
        .unwrap_or_else(|| self.fallback.score(now_ms, candidates))
    }

    fn counters(&self) -> PolicyCounters {
        let c = &self.counters;
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let setup = self.pool.setup();
        let log = setup.log.counts();
        PolicyCounters {
            calls: c.clock.calls(),
            fallbacks: get(&c.fallbacks),
            traps: get(&c.traps),
            timeouts: get(&c.timeouts),
            bad_answers: get(&c.bad_answers),
            rebuilds: self.pool.rebuilds(),
            busy_ns: c.clock.busy_ns(),
            throttled: self.throttle.throttled(),
            outgrown: self.pool.outgrown(),
            idle_memory_bytes: self.pool.idle_memory_bytes() as u64,
            memory_bytes: setup.memory.used() as u64,
            memory_limit_bytes: setup.memory.total() as u64,
            memory_refusals: setup.memory.refused(),
            log_written: log.written,
            log_truncated: log.truncated,
            log_dropped: log.dropped,
        }
    }
}

/// The live counterparts of [`PolicyCounters`] (rebuilds live in the pool).
#[derive(Debug, Default)]
struct Counters {
    /// Calls, and the time spent in them.
    clock: CallClock,
    fallbacks: AtomicU64,
    traps: AtomicU64,
    timeouts: AtomicU64,
    bad_answers: AtomicU64,
}
