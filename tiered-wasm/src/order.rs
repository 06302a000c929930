//! The eviction order's instance: an ordered policy (one exporting
//! `eviction`) keeps its queues in one instance, so every event and every
//! decision about the order reaches the same `Store`, one call at a time.
//! Decisions (`place`, `promote`) keep running on the pooled instances.
//!
//! The instance is built when the policy is loaded (so its `configure`, and
//! the log line it writes, happen at start, not inside the first request
//! that fills a tier), and again after a failure. A call that fails (trap,
//! deadline, memory limit, no instance could be built) drops it: its order
//! is lost, and with it the events that call carried. The order's
//! **generation** is bumped then; the engine sees a new generation before
//! its next call and hands the rebuilt instance every resident as an
//! arrival (`tiered::policy::Policy::order_generation`). Until then the
//! host's own order has evicted for it. After three failures in a row the
//! order rests for 30 s (a circuit breaker, counted in `order_pauses`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::instance::Instance;
use super::pool::{Failure, Pool};

/// Failures in a row after which the order is not rebuilt for [`PAUSE`].
pub(crate) const FAILURES_BEFORE_PAUSE: u32 = 3;

/// How long a failing order rests: its calls answer with the fallback
/// (the host's CLOCK evicts) and no instance is built or handed residents.
pub(crate) const PAUSE: Duration = Duration::from_secs(30);

/// The stateful instance of an ordered policy.
#[derive(Debug)]
pub(crate) struct Order {
    state: Mutex<State>,
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
    /// An order running on `instance`, configured.
    pub(crate) fn new(instance: Instance) -> Order {
        let state = State { instance: Some(instance), failures: 0, paused_until: None, lost_while_paused: false };
        Order { state: Mutex::new(state), generation: AtomicU64::new(0), pauses: AtomicU64::new(0) }
    }

    /// Runs `f` on the order's instance, building it if needed. A failure
    /// drops the instance and bumps the generation; after
    /// [`FAILURES_BEFORE_PAUSE`] in a row the order rests for [`PAUSE`]
    /// (a circuit breaker: a policy that fails on every call is not rebuilt
    /// and handed every resident on every call).
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
            match Instance::new(pool.pre(), pool.name().clone(), pool.setup()) {
                Ok((instance, _identity)) => {
                    state.instance = Some(instance);
                    if std::mem::take(&mut state.lost_while_paused) {
                        self.generation.fetch_add(1, Ordering::AcqRel);
                    }
                }
                Err(err) => {
                    self.failed(&mut state, pool);
                    return Err(Failure::Rebuild(err));
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
        if state.failures >= FAILURES_BEFORE_PAUSE {
            state.failures = 0;
            state.paused_until = Some(Instant::now() + PAUSE);
            self.pauses.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                policy = %pool.name(),
                failures = FAILURES_BEFORE_PAUSE,
                pause_s = PAUSE.as_secs(),
                "the policy's eviction order failed repeatedly; the host's CLOCK evicts alone until the pause ends"
            );
        }
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
