//! # tiered-default-policy
//!
//! The default policy of tiered, as plain Rust logic plus a thin
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
//! - [`promote`]: promotion after lower-tier hits (size rules, an optional
//!   frequency gate);
//! - [`s3fifo`]: S3-FIFO, the order a tier starts with, keyed by object ids
//!   ([`table`]: its compact id index; [`ghost`]: the ids it remembers after
//!   evicting them; [`ids`]: a hasher for maps keyed by ids);
//! - [`expert`]: the eviction algorithms a tier can run (this crate's
//!   S3-FIFO, the library's W-TinyLFU and LIRS) and `[policy_config]
//!   eviction`;
//! - [`miniature`]: one expert simulated over a hash sample of a tier's
//!   objects;
//! - [`adaptive`]: a tier's order, the expert whose miniature hits most
//!   lately;
//! - [`order`]: [`DefaultOrder`], one adaptive order per cache tier fed with
//!   the host's events (the stateful half, WIT `interface eviction`);
//! - [`DefaultPolicy`] (`policy.rs`): the stateless decisions over one
//!   configuration;
//! - `component.rs` (wasm32 only): the wit-bindgen exports mapping WIT records
//!   onto [`DefaultPolicy`] and [`DefaultOrder`].
//!
//! Every decision of [`DefaultPolicy`] is a pure function of the
//! configuration and the call's arguments: the host pools and rebuilds those
//! instances freely. The order is state, rebuilt by the host from its
//! residents whenever it is lost.

// Only the generated component bindings need `unsafe`.
#![deny(unsafe_code)]

pub mod adaptive;
pub mod config;
pub mod expert;
pub mod ghost;
pub mod ids;
pub mod miniature;
pub mod order;
pub mod place;
mod policy;
pub mod promote;
pub mod s3fifo;
pub mod table;
pub mod ttl;
pub mod types;
mod units;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component;

pub use config::PolicyConfig;
pub use order::{DefaultOrder, EventColumns};
pub use policy::DefaultPolicy;
pub use s3fifo::{S3Fifo, S3FifoParams};
pub use types::{Placement, Promotion, ReadInput, Tier, WriteInput};
