//! The policy seam: every placement, promotion, eviction and TTL decision the
//! engine makes is asked of a [`Policy`].
//!
//! - [`types`]: the decision inputs and outputs, mirroring `wit/policy.wit`.
//! - [`order`]: the eviction order's events, arrivals and admissions, for a
//!   policy that keeps its own order (`interface eviction`).
//! - [`builtin`]: the default policy's logic linked natively (no WebAssembly);
//!   the same code the embedded default component runs.
//! - [`busy`]: counting calls and (sampling) the time they take, for any
//!   implementation of the seam.
//! - [`fallback`]: the documented decisions used when a policy fails (trap,
//!   deadline, wrong answer).
//!
//! The wasmtime runtime that runs a policy component is the `tiered-wasm`
//! crate, so an embedder with a native policy never builds wasmtime.
//!
//! The seam is synchronous and infallible: a policy that fails answers with the
//! fallback decision and counts the failure in [`PolicyCounters`]; requests
//! never fail because of the policy. The engine never calls the policy on a hot
//! tier hit: hits reach an ordered policy as buffered events.
//!
//! Two kinds of policy: one that only places (the eviction methods keep
//! their defaults, and the engine evicts by its own CLOCK order), and one
//! that keeps the order ([`Policy::keeps_order`]): the engine asks it before
//! each object enters a cache tier and when a tier is over budget, checks
//! every id it names, and makes up the rest from its own order.

pub mod builtin;
pub mod busy;
pub mod fallback;
pub mod order;
pub mod types;

pub use builtin::BuiltinPolicy;
pub use busy::SAMPLE_EVERY as BUSY_SAMPLE_EVERY;
pub use fallback::FallbackPolicy;
pub use order::{Admission, Arrival, Events, ObjectId};
pub use types::{Capacities, Placement, PolicyCounters, PolicyIdentity, ReadInfo, TierId, TierSet, WriteInfo};

use std::fmt::Debug;

/// The decisions the engine delegates. Implementations must be cheap to call
/// from many tasks at once.
pub trait Policy: Send + Sync + Debug + 'static {
    /// Who this policy is (for logs, stats and `GET /v1/policy`).
    fn identity(&self) -> PolicyIdentity;

    /// Which cache tiers receive a write, and its TTL.
    fn place(&self, write: &WriteInfo<'_>) -> Placement;

    /// Which upper tiers get a copy after a read served by a lower tier.
    fn promote(&self, read: &ReadInfo<'_>) -> TierSet;

    /// Whether this policy keeps the eviction order. If not, the eviction
    /// methods below are never called.
    fn keeps_order(&self) -> bool {
        false
    }

    /// Bumped whenever the policy lost its order (an instance rebuilt, an
    /// eviction call that failed or was skipped, so events were lost): the
    /// engine then hands it the residents of each tier as arrivals before
    /// its next call.
    fn order_generation(&self) -> u64 {
        0
    }

    /// Apply events; no decision to make.
    fn observe(&self, _events: &Events) {}

    /// Apply `events`, then admit or refuse `arrival` into `events.tier`,
    /// naming victims that free `need_bytes`.
    fn admit(&self, _events: &Events, _arrival: Arrival, _need_bytes: u64) -> Admission {
        Admission::Admit(Vec::new())
    }

    /// Apply `events`, then name victims in `events.tier` that free
    /// `need_bytes`.
    fn evict(&self, _events: &Events, _need_bytes: u64) -> Vec<ObjectId> {
        Vec::new()
    }

    /// Apply `events`, then say how many objects the order holds in
    /// `events.tier`; `None` when it cannot say (the call failed). The
    /// engine asks now and then, with every event of the tier delivered,
    /// and compares with its own count.
    fn residents(&self, _events: &Events) -> Option<u64> {
        None
    }

    /// The order disagrees with the host's residents: drop it. The next
    /// call starts from an empty order under a new
    /// [`order_generation`](Self::order_generation), so the engine hands it
    /// the residents first.
    fn reset_order(&self) {}

    /// Calls made and fallbacks taken so far.
    fn counters(&self) -> PolicyCounters {
        PolicyCounters::default()
    }
}
