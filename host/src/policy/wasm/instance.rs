//! One policy instance: a fresh wasmtime `Store` with the component
//! instantiated in it and configured. An instance is used by one call at a
//! time (the pool hands it out) and is thrown away whole after a failure: a
//! `Store` that trapped refuses further calls, so a replacement needs a new
//! `Store`, not only a new instantiation.
//!
//! Linking happens once per component ([`prepare`]): the `host` and
//! `current-object` interfaces are the only imports a policy gets; every other import (the `wasi:*` interfaces
//! a Rust `wasm32-wasip2` or Python component declares even when unused) is
//! defined as a function that traps when called. A policy has no clock, file
//! system or network.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Engine, Store};

use super::bindings::{Capacity, Decisions, Identity, Policy as Bindings, PolicyPre};
use super::limits::{HostState, PolicyLimits};

/// What every instance of a policy is configured with.
#[derive(Debug)]
pub(crate) struct Setup {
    /// The host's `[policy_config]` pairs, handed to `configure`.
    pub(crate) config: Vec<(String, String)>,
    /// The cache tiers' budgets (hot, warm), handed to `configure`.
    pub(crate) capacities: Vec<Capacity>,
    pub(crate) limits: PolicyLimits,
}

/// Why linking a component failed.
#[derive(Debug)]
pub(crate) enum PrepareError {
    /// Its imports cannot be satisfied (e.g. an incompatible `host` interface).
    Link(wasmtime::Error),
    /// It does not export `tiered:policy/decisions@0.3.0` with the right types.
    Exports(wasmtime::Error),
    /// It exports the decisions interface of another version of the contract
    /// (the export's full name, e.g. `tiered:policy/decisions@0.1.0`).
    OtherVersion(String),
}

/// Why an instance could not be created.
#[derive(Debug)]
pub(crate) enum SetupError {
    /// Instantiation, `identity` or `configure` trapped or ran out of time.
    Failed { during: &'static str, source: wasmtime::Error },
    /// `configure` answered `Err(message)`.
    Rejected(String),
}

/// Links `component` against the host: the `host` and `current-object`
/// interfaces, traps for the rest.
pub(crate) fn prepare(
    engine: &Engine,
    component: &wasmtime::component::Component,
) -> Result<PolicyPre<HostState>, PrepareError> {
    let mut linker = Linker::<HostState>::new(engine);
    Bindings::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state).map_err(PrepareError::Link)?;
    linker.define_unknown_imports_as_traps(component).map_err(PrepareError::Link)?;
    let pre = linker.instantiate_pre(component).map_err(PrepareError::Link)?;
    PolicyPre::new(pre).map_err(|err| match other_version(engine, component) {
        Some(export) => PrepareError::OtherVersion(export),
        None => PrepareError::Exports(err),
    })
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
    bindings: Bindings,
}

impl Instance {
    /// Instantiates, reads the identity (which names the instance's log lines)
    /// and configures, all under the setup deadline.
    pub(crate) fn new(
        pre: &PolicyPre<HostState>,
        name: Arc<str>,
        setup: &Setup,
    ) -> Result<(Self, Identity), SetupError> {
        let failed = |during| move |source| SetupError::Failed { during, source };
        let mut store = Store::new(pre.engine(), HostState::new(name, &setup.limits));
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(setup.limits.setup_ticks());

        let bindings = pre.instantiate(&mut store).map_err(failed("instantiation"))?;
        let decisions = bindings.tiered_policy_decisions();
        let identity = decisions.call_identity(&mut store).map_err(failed("identity"))?;
        store.data_mut().name = Arc::from(identity.name.as_str());

        let pairs: Vec<(&str, &str)> = setup.config.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        decisions
            .call_configure(&mut store, &pairs, &setup.capacities)
            .map_err(failed("configure"))?
            .map_err(SetupError::Rejected)?;
        Ok((Instance { store, bindings }, identity))
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
        f(self.bindings.tiered_policy_decisions(), &mut self.store)
    }
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").field("policy", &self.store.data().name).finish_non_exhaustive()
    }
}
