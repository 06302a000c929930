//! # tiered-default-policy
//!
//! The default placement policy of tiered, as plain Rust logic plus a thin
//! WebAssembly component wrapper. The same code runs in two places: compiled
//! for `wasm32-wasip2` it is the component the host embeds (`wit/policy.wit`,
//! world `policy`); linked natively it is the host's `BuiltinPolicy` baseline,
//! and it unit-tests with a plain `cargo test`.
//!
//! Map of the crate (one concept per file):
//! - [`types`]: the decision inputs and outputs, mirrors of the WIT records;
//! - [`config`]: the `[policy_config]` keys, their defaults and validation
//!   (duration and size syntax in `units`);
//! - [`ttl`]: TTL by writer request, longest key prefix, default, cap;
//! - [`place`]: size-aware placement of writes;
//! - [`promote`]: frequency-gated promotion after lower-tier hits;
//! - [`score`]: GDSF-style eviction scoring with aging, and demotion;
//! - [`DefaultPolicy`] (`policy.rs`): the four decisions over one configuration;
//! - `component.rs` (wasm32 only): the wit-bindgen exports mapping WIT records
//!   onto [`DefaultPolicy`].
//!
//! Every decision is a pure function of the configuration and the call's
//! arguments: the host pools and rebuilds instances freely.

// Only the generated component bindings need `unsafe`.
#![deny(unsafe_code)]

pub mod config;
pub mod place;
mod policy;
pub mod promote;
pub mod score;
pub mod ttl;
pub mod types;
mod units;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component;

pub use config::PolicyConfig;
pub use policy::DefaultPolicy;
pub use types::{CandidateInput, Placement, Promotion, ReadInput, Tier, Verdict, WriteInput};
