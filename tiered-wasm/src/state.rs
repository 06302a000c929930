//! [`HostState`], the data of each instance's wasmtime `Store`, and the host
//! side of the interfaces a policy imports, beside it: `host` (the `log`
//! function) and `current-object`.
//!
//! Every import checks the running call's deadline on entry and on return:
//! wasmtime's epoch deadline is checked only inside guest code, so without
//! this a call could spend as long as it liked inside the host (a 16 MiB log
//! message, say) and return within its deadline. An import past the deadline
//! traps with [`ImportOverran`], which the runtime counts as a timeout.

use std::sync::Arc;

use super::bindings::{CurrentObjectHost, HostLog, Level, TypesHost};
use super::current_object::CurrentObject;
use super::guest_log::GuestLog;
use super::memory::InstanceMemory;
use super::runtime::EpochClock;

/// The data of one instance's `Store`.
#[derive(Debug)]
pub(crate) struct HostState {
    /// The policy's name, the `policy` field of every line it logs.
    pub(crate) name: Arc<str>,
    /// Bounds the instance's memory, alone and with all the others.
    pub(crate) memory: InstanceMemory,
    /// The text of the object the current call is about.
    pub(crate) current: CurrentObject,
    /// Where its `log` lines go, within the policy's budget.
    log: GuestLog,
    /// The epoch ticker's count, to check deadlines inside imports.
    clock: EpochClock,
    /// The epoch at which the running call's deadline passes.
    deadline: u64,
}

/// A host import was called, or returned, after the call's deadline.
#[derive(Debug, thiserror::Error)]
#[error("the call's deadline passed inside the host import `{import}`")]
pub(crate) struct ImportOverran {
    pub(crate) import: &'static str,
}

impl HostState {
    pub(crate) fn new(name: Arc<str>, memory: InstanceMemory, log: GuestLog, clock: EpochClock) -> Self {
        HostState { name, memory, current: CurrentObject::default(), log, clock, deadline: u64::MAX }
    }

    /// Starts a call (or the set-up) that may run for `ticks` epoch ticks.
    pub(crate) fn start_call(&mut self, ticks: u64) {
        self.deadline = self.clock.now().saturating_add(ticks);
    }

    fn within_deadline(&self, import: &'static str) -> wasmtime::Result<()> {
        if self.clock.now() >= self.deadline {
            return Err(ImportOverran { import }.into());
        }
        Ok(())
    }
}

impl TypesHost for HostState {}

impl HostLog for HostState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.within_deadline("log")?;
        self.log.write(&self.name, level, &message);
        self.within_deadline("log")
    }
}

impl CurrentObjectHost for HostState {
    fn key(&mut self) -> wasmtime::Result<String> {
        self.within_deadline("current-object.key")?;
        self.current.key()
    }

    fn content_type(&mut self) -> wasmtime::Result<Option<String>> {
        self.within_deadline("current-object.content-type")?;
        self.current.content_type()
    }

    fn metadata(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        self.within_deadline("current-object.metadata")?;
        self.current.metadata()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::memory::MemoryBudget;

    fn state(clock: &EpochClock) -> HostState {
        let memory = InstanceMemory::new(1 << 20, MemoryBudget::new(1 << 20));
        HostState::new("test".into(), memory, GuestLog::new(100, 1000), clock.clone())
    }

    #[test]
    fn imports_past_the_deadline_trap_as_overruns() -> wasmtime::Result<()> {
        let clock = EpochClock::default();
        let mut state = state(&clock);
        state.current.set("k", None, &BTreeMap::new());
        state.start_call(2);
        assert_eq!(state.key()?, "k");
        state.log(Level::Info, "within".into())?;
        clock.tick();
        assert!(state.content_type().is_ok(), "one tick of two");
        clock.tick();
        for err in [state.key().unwrap_err(), state.log(Level::Info, "late".into()).unwrap_err()] {
            assert!(err.downcast_ref::<ImportOverran>().is_some(), "{err:?}");
        }
        state.start_call(2);
        assert!(state.metadata().is_ok(), "a new call has a new deadline");
        Ok(())
    }
}
