//! The one `bindgen!` of `wit/policy.wit` (world `policy`) that the rest of
//! the runtime imports, plus the host side of the `host` interface: a policy's
//! `log` lines become `tracing` events tagged with the policy's name. (The
//! other import, `current-object`, is answered in `current_object.rs`; its
//! functions may trap, hence `trappable`.)
//!
//! Bindings are generated in *borrowing* mode: the arguments the host hands
//! to the policy (the `candidates` columns, the configuration pairs) borrow
//! the engine's data instead of owning copies, so a call copies them straight
//! into guest memory with no allocation on the host side. Records the policy
//! returns are owned.

use super::limits::HostState;

/// The generated code, with the lints it does not follow silenced here only.
#[allow(missing_debug_implementations)]
mod generated {
    wasmtime::component::bindgen!({
        world: "policy",
        path: "../wit",
        ownership: Borrowing { duplicate_if_necessary: true },
        imports: { "tiered:policy/current-object": trappable },
    });
}

pub(crate) use generated::exports::tiered::policy::decisions::Guest as Decisions;
pub(crate) use generated::exports::tiered::policy::decisions::{
    Candidates, Capacity, PolicyIdentity as Identity, ReadInfo, Tier, TierSet, Verdict, WriteInfo,
};
use generated::tiered;
pub(crate) use generated::tiered::policy::current_object::Host as CurrentObjectHost;
pub(crate) use generated::tiered::policy::host::Level;
pub(crate) use generated::{Policy, PolicyPre};

impl tiered::policy::types::Host for HostState {}

impl tiered::policy::host::Host for HostState {
    fn log(&mut self, level: Level, message: String) {
        let policy = &*self.name;
        match level {
            Level::Trace => tracing::trace!(target: "tiered::policy::guest", policy, "{message}"),
            Level::Debug => tracing::debug!(target: "tiered::policy::guest", policy, "{message}"),
            Level::Info => tracing::info!(target: "tiered::policy::guest", policy, "{message}"),
            Level::Warn => tracing::warn!(target: "tiered::policy::guest", policy, "{message}"),
            Level::Error => tracing::error!(target: "tiered::policy::guest", policy, "{message}"),
        }
    }
}
