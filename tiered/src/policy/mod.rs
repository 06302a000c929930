//! The policy seam: every placement, promotion, eviction and TTL decision the
//! engine makes is asked of a [`Policy`].
//!
//! - [`types`]: the decision inputs and outputs, mirroring `wit/policy.wit`.
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
//! tier hit.

pub mod builtin;
pub mod busy;
pub mod fallback;
pub mod types;

pub use builtin::BuiltinPolicy;
pub use busy::SAMPLE_EVERY as BUSY_SAMPLE_EVERY;
pub use fallback::FallbackPolicy;
pub use types::{
    Candidate, Capacities, Placement, PolicyCounters, PolicyIdentity, ReadInfo, TierId, TierSet, Verdict, WriteInfo,
};

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

    /// One verdict per candidate, in order; the lowest scores are evicted
    /// first. Implementations guarantee `result.len() == candidates.len()` and
    /// finite scores (a failing policy answers with the fallback's verdicts).
    fn score(&self, now_ms: u64, candidates: &[Candidate]) -> Vec<Verdict>;

    /// Calls made and fallbacks taken so far.
    fn counters(&self) -> PolicyCounters {
        PolicyCounters::default()
    }
}
