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
//! host's own order has evicted for it.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use super::instance::Instance;
use super::pool::{Failure, Pool};

/// The stateful instance of an ordered policy.
#[derive(Debug)]
pub(crate) struct Order {
    instance: Mutex<Option<Instance>>,
    generation: AtomicU64,
}

impl Order {
    /// An order running on `instance`, configured.
    pub(crate) fn new(instance: Instance) -> Order {
        Order { instance: Mutex::new(Some(instance)), generation: AtomicU64::new(0) }
    }

    /// Runs `f` on the order's instance, building it if needed; a failure
    /// drops the instance and bumps the generation.
    pub(crate) fn with<R>(
        &self,
        pool: &Pool,
        f: impl FnOnce(&mut Instance) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let mut slot = self.instance.lock();
        let instance = match &mut *slot {
            Some(instance) => instance,
            empty => match Instance::new(pool.pre(), pool.name().clone(), pool.setup()) {
                Ok((instance, _identity)) => empty.insert(instance),
                Err(err) => {
                    self.generation.fetch_add(1, Ordering::AcqRel);
                    return Err(Failure::Rebuild(err));
                }
            },
        };
        let outcome = f(instance);
        if outcome.is_err() {
            *slot = None;
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        outcome
    }

    /// Times the order was lost.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Linear memory held by the order's instance, in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.instance.lock().as_ref().map_or(0, Instance::memory_bytes)
    }
}
