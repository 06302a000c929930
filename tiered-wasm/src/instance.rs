//! One policy instance: a fresh wasmtime `Store` with the component
//! instantiated in it and configured. An instance is used by one call at a
//! time (the pool hands it out) and is thrown away whole after a failure: a
//! `Store` that trapped refuses further calls, so a replacement needs a new
//! `Store`, not only a new instantiation.
//!
//! Linking happens once per component ([`prepare`], which also finds the
//! exports: `decisions` always, `eviction` for an ordered policy): the `host` and
//! `current-object` interfaces are the only imports a policy gets; every other import (the `wasi:*` interfaces
//! a Rust `wasm32-wasip2` or Python component declares even when unused) is
//! defined as a function that traps when called. A policy has no clock, file
//! system or network.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime::{Engine, Store, Trap, WasmBacktrace};

use super::bindings::{Capacity, Decisions, DecisionsIndices, Eviction, EvictionIndices, Identity, Imports};
use super::guest_log::GuestLog;
use super::limits::PolicyLimits;
use super::memory::{InstanceMemory, MemoryBudget};
use super::runtime::EpochClock;
use super::state::{HostState, ImportOverran};

/// What every instance of a policy is configured with, and what its
/// instances share.
#[derive(Clone, Debug)]
pub(crate) struct Setup {
    /// The host's `[policy_config]` pairs, handed to `configure`.
    pub(crate) config: Vec<(String, String)>,
    /// The cache tiers' budgets (hot, warm), handed to `configure`.
    pub(crate) capacities: Vec<Capacity>,
    pub(crate) limits: PolicyLimits,
    /// The engine's process-wide memory budget.
    pub(crate) memory: MemoryBudget,
    /// The policy's log budget, shared by its instances.
    pub(crate) log: GuestLog,
    /// The engine's epoch count, for deadlines inside imports.
    pub(crate) clock: EpochClock,
}

/// Why linking a component failed.
#[derive(Debug)]
pub(crate) enum PrepareError {
    /// Its imports cannot be satisfied (e.g. an incompatible `host` interface).
    Link(wasmtime::Error),
    /// It does not export `tiered:policy/decisions@0.4.0` with the right
    /// types.
    Exports(wasmtime::Error),
    /// It exports `tiered:policy/eviction@0.4.0` with other functions or
    /// types than the host's (built against an earlier text of the version).
    Eviction(wasmtime::Error),
    /// It exports the decisions interface of another version of the contract
    /// (the export's full name, e.g. `tiered:policy/decisions@0.1.0`).
    OtherVersion(String),
}

/// Why an instance could not be created.
#[derive(Debug)]
pub(crate) enum SetupError {
    /// Instantiation, `identity` or `configure` trapped or ran out of time;
    /// `cause` says which: the set-up deadline by name and value, or the
    /// [`trap_message`].
    Failed { during: &'static str, cause: String },
    /// `identity` answered a name or version that cannot be logged or shown.
    BadIdentity(String),
    /// `configure` answered `Err(message)`.
    Rejected(String),
}

/// Whether `err` stopped a call at its deadline: `Some` with where (empty in
/// the policy's own code, or the host import it was in), `None` otherwise.
pub(crate) fn overrun(err: &wasmtime::Error) -> Option<String> {
    if let Some(ImportOverran { import }) = err.downcast_ref::<ImportOverran>() {
        return Some(format!(" (inside the host import `{import}`)"));
    }
    matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)).then(String::new)
}

/// What a trap was, in a few words for a person: the trap's own message,
/// never the backtrace wasmtime puts in front of it (that goes to the debug
/// log, see [`backtrace`]); a call to an import policies are not given is
/// named as such.
pub(crate) fn trap_message(err: &wasmtime::Error) -> String {
    let root = err.root_cause().to_string();
    // What `define_unknown_imports_as_traps` reports.
    match root.strip_prefix("unknown import: `").and_then(|r| r.split_once('`')) {
        Some((import, _)) => format!(
            "it called `{import}`, which the host does not give policies (no clock, environment, file system or \
             network; a Rust guest asks for its environment when it panics)"
        ),
        None => root,
    }
}

/// The guest's stack when `err` happened, if wasmtime captured it.
pub(crate) fn backtrace(err: &wasmtime::Error) -> Option<&WasmBacktrace> {
    err.downcast_ref::<WasmBacktrace>()
}

/// Longest policy name or version accepted, in bytes.
const MAX_IDENTITY_BYTES: usize = 128;

/// Refuses a name or version that is empty (the name), too long, or holds a
/// character that could break or disguise a log line (control characters,
/// line separators, bidirectional overrides).
fn check_identity(id: &Identity) -> Result<(), SetupError> {
    for (what, text) in [("name", &id.name), ("version", &id.version)] {
        let bad = text.chars().find(|&c| {
            c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        });
        if let Some(c) = bad {
            return Err(SetupError::BadIdentity(format!("its {what} holds the character {c:?}")));
        }
        if text.len() > MAX_IDENTITY_BYTES {
            return Err(SetupError::BadIdentity(format!(
                "its {what} is {} bytes long (at most {MAX_IDENTITY_BYTES})",
                text.len()
            )));
        }
    }
    if id.name.is_empty() {
        return Err(SetupError::BadIdentity("its name is empty".into()));
    }
    Ok(())
}

/// A linked component, ready to instantiate, with its exports looked up.
pub(crate) struct Pre {
    pre: InstancePre<HostState>,
    decisions: DecisionsIndices,
    /// `None`: the component exports no `eviction` (world `policy`).
    eviction: Option<EvictionIndices>,
}

impl Pre {
    /// Whether the component keeps its own eviction order.
    pub(crate) fn ordered(&self) -> bool {
        self.eviction.is_some()
    }
}

/// Links `component` against the host: the `host` and `current-object`
/// interfaces, traps for the rest; finds `decisions` and, if exported,
/// `eviction`.
pub(crate) fn prepare(engine: &Engine, component: &wasmtime::component::Component) -> Result<Pre, PrepareError> {
    let mut linker = Linker::<HostState>::new(engine);
    Imports::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state).map_err(PrepareError::Link)?;
    linker.define_unknown_imports_as_traps(component).map_err(PrepareError::Link)?;
    let pre = linker.instantiate_pre(component).map_err(PrepareError::Link)?;
    let decisions = DecisionsIndices::new(&pre).map_err(|err| match other_version(engine, component) {
        Some(export) => PrepareError::OtherVersion(export),
        None => PrepareError::Exports(err),
    })?;
    let eviction = if exports(engine, component, "eviction") {
        Some(EvictionIndices::new(&pre).map_err(PrepareError::Eviction)?)
    } else {
        None
    };
    Ok(Pre { pre, decisions, eviction })
}

/// Whether `component` exports this version's interface `name`.
fn exports(engine: &Engine, component: &wasmtime::component::Component, name: &str) -> bool {
    let wanted = format!("tiered:policy/{name}@{}", super::INTERFACE_VERSION);
    component.component_type().exports(engine).any(|(export, _)| export == wanted)
}

/// The name of a `tiered:policy/decisions` export of a version other than
/// the host's, if the component has one.
fn other_version(engine: &Engine, component: &wasmtime::component::Component) -> Option<String> {
    let wanted = format!("tiered:policy/decisions@{}", super::INTERFACE_VERSION);
    component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name)
        .find(|name| name.starts_with("tiered:policy/decisions@") && *name != wanted)
        .map(str::to_owned)
}

/// A configured instance with its own `Store`.
pub(crate) struct Instance {
    store: Store<HostState>,
    decisions: Decisions,
    eviction: Option<Eviction>,
    /// Linear memory held once configured: what later growth is measured from.
    configured_bytes: usize,
}

impl Instance {
    /// Instantiates, reads the identity (which names the instance's log lines)
    /// and configures, all under the setup deadline.
    pub(crate) fn new(pre: &Pre, name: Arc<str>, setup: &Setup) -> Result<(Self, Identity), SetupError> {
        let failed = |during| {
            move |err: wasmtime::Error| {
                tracing::debug!(during, error = ?err, backtrace = ?backtrace(&err), "policy set-up failed");
                let cause = match overrun(&err) {
                    Some(inside) => {
                        let ms = setup.limits.setup_deadline().as_millis();
                        format!("it ran past the set-up deadline of {ms} ms{inside}")
                    }
                    None => trap_message(&err),
                };
                SetupError::Failed { during, cause }
            }
        };
        let memory = InstanceMemory::new(setup.limits.memory_bytes, setup.memory.clone());
        let state = HostState::new(name, memory, setup.log.clone(), setup.clock.clone());
        let mut store = Store::new(pre.pre.engine(), state);
        store.limiter(|state| &mut state.memory);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(setup.limits.setup_ticks());
        store.data_mut().start_call(setup.limits.setup_ticks());

        let instance = pre.pre.instantiate(&mut store).map_err(failed("instantiation"))?;
        let decisions = pre.decisions.load(&mut store, &instance).map_err(failed("instantiation"))?;
        let eviction = match &pre.eviction {
            Some(indices) => Some(indices.load(&mut store, &instance).map_err(failed("instantiation"))?),
            None => None,
        };
        let identity = decisions.call_identity(&mut store).map_err(failed("identity"))?;
        check_identity(&identity)?;
        store.data_mut().name = Arc::from(identity.name.as_str());

        let pairs: Vec<(&str, &str)> = setup.config.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        decisions
            .call_configure(&mut store, &pairs, &setup.capacities)
            .map_err(failed("configure"))?
            .map_err(SetupError::Rejected)?;
        let configured_bytes = store.data().memory.held();
        Ok((Instance { store, decisions, eviction, configured_bytes }, identity))
    }

    /// Makes the first eviction call of a new order instance, an empty
    /// `observe`, under the set-up deadline: an order may build its tables
    /// then (sized once, for the most objects a tier can hold), which can
    /// take longer than one call's deadline.
    pub(crate) fn prime_order(&mut self, setup: &Setup) -> wasmtime::Result<()> {
        let empty = tiered::policy::Events::new(tiered::policy::TierId::Hot);
        let batch = super::convert::events(&empty);
        self.call_order(setup.limits.setup_ticks(), |e, s| e.call_observe(s, batch))?;
        self.configured_bytes = self.store.data().memory.held();
        Ok(())
    }

    /// Linear memory this instance holds, in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.store.data().memory.held()
    }

    /// How much its linear memory grew since it was configured, in bytes.
    pub(crate) fn grown_bytes(&self) -> usize {
        self.memory_bytes().saturating_sub(self.configured_bytes)
    }

    /// Runs a `place` or `promote` decision about `object` (key, content
    /// type, metadata: what `current-object` answers during the call) under a
    /// deadline of `ticks` epoch ticks.
    pub(crate) fn call_about<R>(
        &mut self,
        ticks: u64,
        (key, content_type, metadata): (&str, Option<&str>, &BTreeMap<String, String>),
        f: impl FnOnce(&Decisions, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        self.store.data_mut().current.set(key, content_type, metadata);
        let answer = self.call(ticks, f);
        self.store.data_mut().current.clear();
        answer
    }

    /// Runs one decision under a deadline of `ticks` epoch ticks.
    pub(crate) fn call<R>(
        &mut self,
        ticks: u64,
        f: impl FnOnce(&Decisions, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        self.store.set_epoch_deadline(ticks);
        self.store.data_mut().start_call(ticks);
        f(&self.decisions, &mut self.store)
    }

    /// Runs one call of the eviction order under a deadline of `ticks`
    /// epoch ticks. The instance must export `eviction` (the caller checked
    /// [`Pre::ordered`]); otherwise the call fails like a trap.
    pub(crate) fn call_order<R>(
        &mut self,
        ticks: u64,
        f: impl FnOnce(&Eviction, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let Some(eviction) = &self.eviction else {
            return Err(wasmtime::Error::msg("the policy exports no eviction interface"));
        };
        self.store.set_epoch_deadline(ticks);
        self.store.data_mut().start_call(ticks);
        f(eviction, &mut self.store)
    }
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").field("policy", &self.store.data().name).finish_non_exhaustive()
    }
}
