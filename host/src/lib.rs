//! # tiered
//!
//! A tiered object store: **hot** objects in memory, **warm** objects on local
//! disk, **cold** objects in S3 (or a local directory standing in for a bucket),
//! the source of truth. Writes reach cold before they are acknowledged; reads
//! bubble up from the fastest tier holding the object. Placement, promotion,
//! eviction scoring and TTL are decided by a [`policy::Policy`], normally a
//! WebAssembly component that can be swapped without recompiling the host.
//!
//! Map of the crate:
//! - [`engine`]: the cascade ([`TieredStore`]): reads, writes, eviction,
//!   single-flight, ordering, snapshots, bootstraps.
//! - [`store`]: the [`store::Tier`] contract and the memory, disk, local-cold
//!   tiers and a test double.
//! - [`key`], [`object`], [`clock`], [`error`]: the data model and its rules.
//!   Keys, objects and every parser of untrusted bytes (the disk file format,
//!   snapshots, traces) live in the light `tiered-format` crate, re-exported
//!   here at the same paths, so they can be fuzzed without building the rest.
//! - [`policy`]: the decision seam, the native default, the fallback, and the
//!   wasmtime runtime for policy components.
//! - [`sim`]: `tiered simulate`, trace replay through the engine with LRU
//!   and Belady baselines.
//! - [`testkit`] (feature `policy-testkit`): a policy run in a real store
//!   against S3 through a scripted scenario (`tiered policy test`).
//! - [`config`] and [`http`]: the `tiered serve` service: its configuration
//!   (TOML + environment) and the HTTP routes over the store.

pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
pub mod http;
pub mod policy;
pub mod sim;
pub mod store;
#[cfg(feature = "policy-testkit")]
pub mod testkit;

// The key rules and the data model, defined in `tiered-format`.
pub use tiered_format::{key, object};

pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{Hit, SetOptions, SetOutcome, StoreBuilder, StoreConfig, StoreStats, TieredStore};
pub use error::{Error, KeyError, Result, TierError, TierErrorKind};
pub use object::{Codec, Object, ObjectMeta};
pub use policy::{Policy, TierId, TierSet};
