//! The eviction order's instance: an ordered policy (one exporting
//! `eviction`) keeps its queues in one instance, so every event and every
//! decision about the order reaches the same `Store`, one call at a time.
//! Decisions (`place`, `promote`) keep running on the pooled instances.
//!
//! The instance is built when the policy is loaded (so its `configure`, and
//! the log line it writes, happen at start, not inside the first request
//! that fills a tier), and again after a failure. Its first eviction call,
//! an empty `observe`, is made then, under the set-up deadline: an order
//! that sizes its tables once does it there, not in a request's call (one
//! that fails it loads all the same, and is rebuilt when next needed).
//!
//! A call that fails (trap, deadline, memory limit, no instance could be
//! built) drops the instance: its order is lost, and with it the events
//! that call carried. The order's
//! **generation** is bumped then; the engine sees a new generation before
//! its next call and hands the rebuilt instance every resident as an
//! arrival (`tiered::policy::Policy::order_generation`). Until then the
//! host's own order has evicted for it.
//!
//! The instance has a memory bound of its own (`[policy_limits]
//! order_memory_bytes`): it holds an entry for every resident, where a
//! decision instance holds a configuration. After
//! `order_failures_before_pause` failures in a row the order rests for
//! `order_pause_ms` (a circuit breaker, counted in `order_pauses`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use super::instance::{Instance, Pre, Setup, SetupError};
use super::pool::{Failure, Pool};

/// A configured order instance, its first call made
/// ([`Instance::prime_order`]): a failure of that call counts as the
/// failure of a call (trap or deadline).
fn build(pre: &Pre, name: Arc<str>, setup: &Setup) -> Result<Instance, Failure> {
    let (mut instance, _identity) = Instance::new(pre, name, setup).map_err(Failure::Rebuild)?;
    instance.prime_order(setup).map_err(Failure::from_call)?;
    Ok(instance)
}

/// The stateful instance of an ordered policy.
#[derive(Debug)]
pub(crate) struct Order {
    state: Mutex<State>,
    /// The decision instances' set-up with the order's memory bound.
    setup: Setup,
    generation: AtomicU64,
    pauses: AtomicU64,
}

#[derive(Debug)]
struct State {
    instance: Option<Instance>,
    /// Failures since the last call that succeeded.
    failures: u32,
    paused_until: Option<Instant>,
    /// A call was refused during a pause: its events are lost, so the next
    /// instance must be handed the residents again.
    lost_while_paused: bool,
}

impl Order {
    /// The order of the component `pre`, its instance built and configured
    /// with `setup` (the decisions' set-up: the order's own memory bound
    /// replaces the per-instance one).
    pub(crate) fn load(pre: &Pre, name: Arc<str>, setup: &Setup) -> Result<Order, SetupError> {
        let mut setup = setup.clone();
        setup.limits.memory_bytes = setup.limits.order_memory_bytes;
        let (mut instance, _identity) = Instance::new(pre, name.clone(), &setup)?;
        // An order that fails its first call loads all the same: the first
        // request that needs it builds it again, and that failure counts.
        let instance = match instance.prime_order(&setup) {
            Ok(()) => Some(instance),
            Err(err) => {
                let error = Failure::from_call(err);
                tracing::warn!(policy = %name, %error, "the policy's eviction order failed its first call; rebuilt when next needed");
                None
            }
        };
        let state = State { instance, failures: 0, paused_until: None, lost_while_paused: false };
        Ok(Order { state: Mutex::new(state), setup, generation: AtomicU64::new(0), pauses: AtomicU64::new(0) })
    }

    /// Runs `f` on the order's instance, building it if needed. A failure
    /// drops the instance and bumps the generation; after
    /// `order_failures_before_pause` in a row the order rests for
    /// `order_pause` (a circuit breaker: a policy that fails on every call
    /// is not rebuilt and handed every resident on every call).
    pub(crate) fn with<R>(
        &self,
        pool: &Pool,
        f: impl FnOnce(&mut Instance) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let mut state = self.state.lock();
        if let Some(until) = state.paused_until {
            if Instant::now() < until {
                state.lost_while_paused = true;
                return Err(Failure::Paused);
            }
            state.paused_until = None;
        }
        if state.instance.is_none() {
            match build(pool.pre(), pool.name().clone(), &self.setup) {
                Ok(instance) => {
                    state.instance = Some(instance);
                    if std::mem::take(&mut state.lost_while_paused) {
                        self.generation.fetch_add(1, Ordering::AcqRel);
                    }
                }
                Err(failure) => {
                    self.failed(&mut state, pool);
                    return Err(failure);
                }
            }
        }
        let outcome = f(state.instance.as_mut().expect("built above"));
        match outcome {
            Ok(_) => state.failures = 0,
            Err(_) => {
                state.instance = None;
                self.failed(&mut state, pool);
            }
        }
        outcome
    }

    fn failed(&self, state: &mut State, pool: &Pool) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        state.failures += 1;
        let limits = &self.setup.limits;
        if state.failures >= limits.order_failures_before_pause.max(1) {
            state.failures = 0;
            state.paused_until = Some(Instant::now() + limits.order_pause);
            self.pauses.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                policy = %pool.name(),
                failures = limits.order_failures_before_pause,
                pause_ms = limits.order_pause.as_millis() as u64,
                "the policy's eviction order failed repeatedly; the host's CLOCK evicts alone until the pause ends"
            );
        }
    }

    /// Drops the instance (its order disagrees with the host's): the next
    /// call builds a fresh one under a new generation, so the engine hands
    /// it the residents first. Not a failure: the breaker does not count it.
    pub(crate) fn reset(&self) {
        let mut state = self.state.lock();
        state.instance = None;
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Times the order was lost.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Times the order was paused after repeated failures.
    pub(crate) fn pauses(&self) -> u64 {
        self.pauses.load(Ordering::Relaxed)
    }

    /// Linear memory held by the order's instance, in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.state.lock().instance.as_ref().map_or(0, Instance::memory_bytes)
    }
}
