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
//! [`PolicyLimits::instances`]: super::PolicyLimits::instances

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use wasmtime::Trap;

use super::bindings::PolicyPre;
use super::instance::{Instance, Setup, SetupError};
use super::limits::HostState;

/// Why a call did not produce a usable answer.
pub(crate) enum Failure {
    /// The call trapped (including a refused `memory.grow` and a call to an
    /// import the policy is not given).
    Trap(wasmtime::Error),
    /// The call was stopped by its deadline.
    Timeout,
    /// The call returned an answer of the wrong shape.
    BadAnswer(String),
    /// No instance could be built to run the call.
    Rebuild(SetupError),
}

impl Failure {
    /// Sorts a wasmtime error from a call into deadline or trap.
    pub(crate) fn from_call(err: wasmtime::Error) -> Self {
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Failure::Timeout,
            _ => Failure::Trap(err),
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Trap(err) => write!(f, "trap: {err:#}"),
            Failure::Timeout => write!(f, "deadline exceeded"),
            Failure::BadAnswer(why) => write!(f, "wrong answer: {why}"),
            Failure::Rebuild(SetupError::Failed { during, source }) => {
                write!(f, "no instance: {during} failed: {source:#}")
            }
            Failure::Rebuild(SetupError::Rejected(why)) => {
                write!(f, "no instance: configure rejected: {why}")
            }
        }
    }
}

/// Idle instances of one policy, and the means to build more.
pub(crate) struct Pool {
    pre: PolicyPre<HostState>,
    setup: Setup,
    /// The policy's name, for the log lines of instances built later.
    name: Arc<str>,
    idle: Mutex<Vec<Instance>>,
    /// Instances dropped after a failure and not yet replaced.
    discarded: AtomicU64,
    /// Replacements built so far.
    rebuilds: AtomicU64,
}

impl Pool {
    /// A pool holding `first`, the instance that was built (and configured)
    /// to load the policy.
    pub(crate) fn new(pre: PolicyPre<HostState>, setup: Setup, name: Arc<str>, first: Instance) -> Self {
        let mut idle = Vec::with_capacity(setup.limits.instances.max(1));
        idle.push(first);
        Pool { pre, setup, name, idle: Mutex::new(idle), discarded: AtomicU64::new(0), rebuilds: AtomicU64::new(0) }
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
            .finish_non_exhaustive()
    }
}
