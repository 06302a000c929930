//! The instance pool, so calls from many tasks do not serialize behind one
//! lock: a short `parking_lot` mutex guards a stack of idle instances; a call
//! pops one (or creates one when none is idle), runs without any lock, and
//! pushes it back. At most [`PolicyLimits::instances`] idle instances are
//! kept; extra ones made under a burst are dropped when they come back.
//!
//! A call that fails (trap, deadline, wrong answer) drops its instance instead
//! of returning it; the next call that finds the pool empty builds a fresh one
//! (fresh `Store`, instantiate, `configure`) and counts it as a rebuild.
//!
//! An instance whose linear memory grew by more than
//! [`PolicyLimits::idle_growth_bytes`] since it was configured is dropped too
//! when its call ends, successful or not (counted in `outgrown`): idle
//! instances would otherwise each keep what they grew, and a policy that
//! leaks a little per call would hold the pool's size times its memory bound.
//!
//! [`PolicyLimits::instances`]: super::PolicyLimits::instances
//! [`PolicyLimits::idle_growth_bytes`]: super::PolicyLimits::idle_growth_bytes

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::instance::{self, Instance, Pre, Setup, SetupError};
use parking_lot::Mutex;

/// Why a call did not produce a usable answer.
pub(crate) enum Failure {
    /// The call trapped (including a refused `memory.grow` and a call to an
    /// import the policy is not given).
    Trap(wasmtime::Error),
    /// The call was stopped by its deadline.
    Timeout,
    /// No instance could be built to run the call.
    Rebuild(SetupError),
    /// The order rests after repeated failures; the call was not made.
    Paused,
}

impl Failure {
    /// Sorts a wasmtime error from a call into deadline or trap.
    pub(crate) fn from_call(err: wasmtime::Error) -> Self {
        if instance::overrun(&err).is_some() { Failure::Timeout } else { Failure::Trap(err) }
    }

    /// The guest's stack, for a trap that has one.
    pub(crate) fn backtrace(&self) -> Option<&wasmtime::WasmBacktrace> {
        match self {
            Failure::Trap(err) => instance::backtrace(err),
            _ => None,
        }
    }
}

/// The cause alone, first: the trap's own message, not wasmtime's backtrace
/// (see [`Failure::backtrace`]).
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Trap(err) => write!(f, "trap: {}", instance::trap_message(err)),
            Failure::Timeout => write!(f, "deadline exceeded"),
            Failure::Paused => write!(f, "the order rests after repeated failures"),
            Failure::Rebuild(SetupError::Failed { during, cause }) => {
                write!(f, "no instance: {during} failed: {cause}")
            }
            Failure::Rebuild(SetupError::BadIdentity(why)) => write!(f, "no instance: unusable identity: {why}"),
            Failure::Rebuild(SetupError::Rejected(why)) => {
                write!(f, "no instance: configure rejected: {why}")
            }
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Idle instances of one policy, and the means to build more.
pub(crate) struct Pool {
    pre: Arc<Pre>,
    setup: Setup,
    /// The policy's name, for the log lines of instances built later.
    name: Arc<str>,
    idle: Mutex<Vec<Instance>>,
    /// Instances dropped after a failure and not yet replaced.
    discarded: AtomicU64,
    /// Replacements built so far.
    rebuilds: AtomicU64,
    /// Instances dropped after their call because they grew too much.
    outgrown: AtomicU64,
}

impl Pool {
    /// A pool holding `first`, the instance that was built (and configured)
    /// to load the policy.
    pub(crate) fn new(pre: Arc<Pre>, setup: Setup, name: Arc<str>, first: Instance) -> Self {
        let mut idle = Vec::with_capacity(setup.limits.instances.max(1));
        idle.push(first);
        Pool {
            pre,
            setup,
            name,
            idle: Mutex::new(idle),
            discarded: AtomicU64::new(0),
            rebuilds: AtomicU64::new(0),
            outgrown: AtomicU64::new(0),
        }
    }

    /// Runs `f` on an instance; keeps the instance if `f` succeeds, drops it if
    /// `f` fails.
    pub(crate) fn with_instance<R>(&self, f: impl FnOnce(&mut Instance) -> Result<R, Failure>) -> Result<R, Failure> {
        let mut instance = self.take()?;
        match f(&mut instance) {
            Ok(answer) => {
                self.give_back(instance);
                Ok(answer)
            }
            Err(failure) => {
                drop(instance);
                self.discarded.fetch_add(1, Ordering::Relaxed);
                Err(failure)
            }
        }
    }

    /// Instances built to replace failed ones.
    pub(crate) fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::Relaxed)
    }

    /// Instances dropped after their call because their memory grew past
    /// the idle bound.
    pub(crate) fn outgrown(&self) -> u64 {
        self.outgrown.load(Ordering::Relaxed)
    }

    /// Linear memory held by the idle instances, in bytes.
    pub(crate) fn idle_memory_bytes(&self) -> usize {
        self.idle.lock().iter().map(Instance::memory_bytes).sum()
    }

    /// What the policy's instances share (limits, log budget, memory budget).
    pub(crate) fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The linked component, shared with the order's instance.
    pub(crate) fn pre(&self) -> &Arc<Pre> {
        &self.pre
    }

    /// The policy's name, for log lines.
    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// Deadline of one decision call, in epoch ticks.
    pub(crate) fn call_ticks(&self) -> u64 {
        self.setup.limits.call_ticks()
    }

    fn take(&self) -> Result<Instance, Failure> {
        if let Some(instance) = self.idle.lock().pop() {
            return Ok(instance);
        }
        let replacing = self.discarded.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok();
        match Instance::new(&self.pre, self.name.clone(), &self.setup) {
            Ok((instance, _identity)) => {
                if replacing {
                    self.rebuilds.fetch_add(1, Ordering::Relaxed);
                }
                Ok(instance)
            }
            Err(err) => {
                if replacing {
                    // Still owed: the next call tries again.
                    self.discarded.fetch_add(1, Ordering::Relaxed);
                }
                Err(Failure::Rebuild(err))
            }
        }
    }

    fn give_back(&self, instance: Instance) {
        let grown = instance.grown_bytes();
        if grown > self.setup.limits.idle_growth_bytes {
            self.outgrown.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(policy = %self.name, grown, "policy instance grew past the idle bound; dropped");
            return;
        }
        let mut idle = self.idle.lock();
        if idle.len() < self.setup.limits.instances.max(1) {
            idle.push(instance);
        }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("policy", &self.name)
            .field("idle", &self.idle.lock().len())
            .field("rebuilds", &self.rebuilds())
            .field("outgrown", &self.outgrown())
            .finish_non_exhaustive()
    }
}
