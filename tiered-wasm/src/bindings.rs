//! The one `bindgen!` of `wit/policy.wit` (world `policy`) that the rest of
//! the runtime imports. The host side of the imported interfaces is in
//! `state.rs`; every import may trap (a deadline passed inside it, or no
//! current object), hence `trappable`.
//!
//! Bindings are generated in *borrowing* mode: the arguments the host hands
//! to the policy (the `candidates` columns, the configuration pairs) borrow
//! the engine's data instead of owning copies, so a call copies them straight
//! into guest memory with no allocation on the host side. Records the policy
//! returns are owned.

/// The generated code, with the lints it does not follow silenced here only.
#[allow(missing_debug_implementations)]
mod generated {
    wasmtime::component::bindgen!({
        world: "policy",
        path: "../wit",
        ownership: Borrowing { duplicate_if_necessary: true },
        imports: { default: trappable },
    });
}

pub(crate) use generated::exports::tiered::policy::decisions::Guest as Decisions;
pub(crate) use generated::exports::tiered::policy::decisions::{
    Candidates, Capacity, PolicyIdentity as Identity, ReadInfo, Tier, TierSet, Verdict, WriteInfo,
};
pub(crate) use generated::tiered::policy::current_object::Host as CurrentObjectHost;
pub(crate) use generated::tiered::policy::host::{Host as HostLog, Level};
pub(crate) use generated::tiered::policy::types::Host as TypesHost;
pub(crate) use generated::{Policy, PolicyPre};
