//! # tiered-wasm
//!
//! Policies as WebAssembly components: [`WasmPolicy`] implements the
//! [`tiered`] engine's [`Policy`] seam by calling a component that exports
//! `tiered:policy/decisions@0.4.0` (and, for a policy that keeps its own
//! eviction order, `tiered:policy/eviction@0.4.0`), in a wasmtime sandbox
//! (deadline, memory, CPU share and log budget per policy).
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
//! - `order`: the one stateful instance of an ordered policy; its generation,
//!   bumped when a failure loses the order.
//! - `convert`: native types to WIT records and back; answer validation.
//! - [`error`]: [`PolicyLoadError`], why a component cannot be loaded.
//! - [`check`]: the battery behind `tiered policy check FILE.wasm`.
//! - [`conformance`]: the kit behind `--conformance` (shape, edge inputs,
//!   determinism, limits), with its inputs in `probes`.
//!
//! **Failure handling.** A call that traps (memory limit included), overruns
//! its deadline or answers with the wrong shape never fails the request: it is
//! logged, counted ([`PolicyCounters`]), and answered by [`FallbackPolicy`]
//! (for the order: admit, name nothing, so the host's CLOCK evicts); the
//! instance that failed is dropped and a fresh one (new `Store`,
//! instantiate, `configure`) is built by the next call that needs one. A
//! rebuilt order instance is handed the residents by the engine.
//!
//! Calls of the order are never skipped by the CPU-share throttle (a skipped
//! call would lose its events, and the hand-over that repairs that costs
//! more than the call); their time still counts against the share.
//!
//! **Latency.** Timed calls are recorded through the [`metrics`] facade as
//! the histogram [`CALL_SECONDS`], labelled `call` (`place`, `promote`,
//! `observe`, `admit`, `evict`): every call of the order, and the placements
//! and promotions the busy
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
mod order;
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
use self::order::Order;
use self::pool::{Failure, Pool};
use self::throttle::Throttle;
use tiered::policy::busy::{CallClock, Timing};
use tiered::policy::{
    Admission, Arrival, Capacities, Events, FallbackPolicy, ObjectId, Placement, Policy, PolicyCounters,
    PolicyIdentity, ReadInfo, TierSet, WriteInfo,
};

/// The WIT package a policy must implement.
pub const INTERFACE: &str = "tiered:policy@0.4.0";

/// The version part of [`INTERFACE`].
pub const INTERFACE_VERSION: &str = "0.4.0";

/// A loaded policy component, callable from many threads at once.
#[derive(Debug)]
pub struct WasmPolicy {
    identity: PolicyIdentity,
    /// `identity.name`, shared with the instances' log lines.
    name: Arc<str>,
    pool: Pool,
    /// The eviction order's instance; `None` for a policy of world `policy`.
    order: Option<Order>,
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
    /// `tiered:policy/decisions@0.4.0`, compiles it (through the engine's
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
        let pre = Arc::new(instance::prepare(engine.engine(), &component)?);
        let ordered = pre.ordered();
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
        let order = if ordered { Some(Order::load(&pre, name.clone(), &setup)?) } else { None };
        tracing::info!(policy = %name, version = %id.version, %sha256, from_cache, ordered, "policy loaded");
        Ok(WasmPolicy {
            identity: PolicyIdentity {
                name: id.name,
                version: id.version,
                interface: INTERFACE.into(),
                sha256: Some(sha256),
            },
            pool: Pool::new(pre, setup, name.clone(), first),
            order,
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

    /// Runs one decision on a pooled instance; `None` (after logging and
    /// counting) when the policy failed and the fallback must answer.
    fn decide<R>(
        &self,
        call: &'static str,
        timing: Timing,
        f: impl FnOnce(&mut Instance, u64) -> Result<R, Failure>,
    ) -> Option<R> {
        let c = &self.counters;
        let order = match (timing, &self.order) {
            (Timing::Always, Some(order)) => Some(order),
            _ => None,
        };
        if order.is_none()
            && let Err(say) = self.throttle.admit()
        {
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
        let (outcome, measured) = c.clock.run_measured(timing, || match order {
            Some(order) => order.with(&self.pool, |instance| f(instance, ticks)),
            None => self.pool.with_instance(|instance| f(instance, ticks)),
        });
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
            Failure::Trap(_) | Failure::Rebuild(_) => &c.traps,
            // Said once when the pause began (order.rs); a fallback, no failure.
            Failure::Paused => return None,
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
            Ok(Placement { tiers: convert::tier_set(answer.tiers), ttl_ms: answer.ttl_ms, class: answer.class })
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

    fn keeps_order(&self) -> bool {
        self.order.is_some()
    }

    fn order_generation(&self) -> u64 {
        self.order.as_ref().map_or(0, Order::generation)
    }

    fn observe(&self, events: &Events) {
        if self.order.is_none() {
            return;
        }
        self.decide("observe", Timing::Always, |instance, ticks| {
            let batch = convert::events(events);
            instance.call_order(ticks, |e, s| e.call_observe(s, batch)).map_err(Failure::from_call)
        });
    }

    fn admit(&self, events: &Events, arrival: Arrival, need_bytes: u64) -> Admission {
        if self.order.is_none() {
            return Admission::Admit(Vec::new());
        }
        self.decide("admit", Timing::Always, |instance, ticks| {
            let (batch, arrival) = (convert::events(events), convert::arrival(arrival));
            let answer = instance
                .call_order(ticks, |e, s| e.call_admit(s, batch, arrival, need_bytes))
                .map_err(Failure::from_call)?;
            Ok(convert::admission(answer))
        })
        .unwrap_or(Admission::Admit(Vec::new()))
    }

    fn evict(&self, events: &Events, need_bytes: u64) -> Vec<ObjectId> {
        if self.order.is_none() {
            return Vec::new();
        }
        self.decide("evict", Timing::Always, |instance, ticks| {
            let batch = convert::events(events);
            instance.call_order(ticks, |e, s| e.call_evict(s, batch, need_bytes)).map_err(Failure::from_call)
        })
        .unwrap_or_default()
    }

    fn residents(&self, events: &Events) -> Option<u64> {
        self.order.as_ref()?;
        self.decide("residents", Timing::Always, |instance, ticks| {
            let batch = convert::events(events);
            instance.call_order(ticks, |e, s| e.call_residents(s, batch)).map_err(Failure::from_call)
        })
    }

    fn reset_order(&self) {
        if let Some(order) = &self.order {
            order.reset();
        }
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
            rebuilds: self.pool.rebuilds(),
            busy_ns: c.clock.busy_ns(),
            throttled: self.throttle.throttled(),
            outgrown: self.pool.outgrown(),
            idle_memory_bytes: (self.pool.idle_memory_bytes() + self.order.as_ref().map_or(0, Order::memory_bytes))
                as u64,
            memory_bytes: setup.memory.used() as u64,
            memory_limit_bytes: setup.memory.total() as u64,
            memory_refusals: setup.memory.refused(),
            log_written: log.written,
            log_truncated: log.truncated,
            log_dropped: log.dropped,
            order_resets: self.order_generation(),
            order_pauses: self.order.as_ref().map_or(0, Order::pauses),
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
}
