//! The one `bindgen!` of `wit/policy.wit` that the rest of the runtime
//! imports. It is generated for world `ordered-policy` (both exports), and
//! each export is looked up on its own ([`DecisionsIndices`],
//! [`EvictionIndices`]): a component of world `policy` exports `decisions`
//! only, and loads as a policy that leaves the order to the host. The host
//! side of the imported interfaces is in `state.rs`; every import may trap (a
//! deadline passed inside it, or no current object), hence `trappable`.
//!
//! Bindings are generated in *borrowing* mode: the arguments the host hands
//! to the policy (the event columns, the configuration pairs) borrow the
//! engine's data instead of owning copies, so a call copies them straight
//! into guest memory with no allocation on the host side. Records the policy
//! returns are owned.

/// The generated code, with the lints it does not follow silenced here only.
#[allow(missing_debug_implementations)]
mod generated {
    wasmtime::component::bindgen!({
        world: "ordered-policy",
        path: "../wit",
        ownership: Borrowing { duplicate_if_necessary: true },
        imports: { default: trappable },
    });
}

pub(crate) use generated::OrderedPolicy as Imports;
pub(crate) use generated::exports::tiered::policy::decisions::{
    Capacity, Guest as Decisions, GuestIndices as DecisionsIndices, PolicyIdentity as Identity, ReadInfo, TierSet,
    WriteInfo,
};
pub(crate) use generated::exports::tiered::policy::eviction::{
    Admission, Arrival, Events, Guest as Eviction, GuestIndices as EvictionIndices,
};
pub(crate) use generated::tiered::policy::current_object::Host as CurrentObjectHost;
pub(crate) use generated::tiered::policy::host::{Host as HostLog, Level};
pub(crate) use generated::tiered::policy::types::Host as TypesHost;
pub(crate) use generated::tiered::policy::types::Tier;
