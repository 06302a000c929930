//! # tiered
//!
//! A tiered object store: **hot** objects in memory, **warm** objects on local
//! disk, **cold** objects in the source of truth (S3, or a local directory
//! standing in for a bucket). Writes reach cold before they are acknowledged;
//! reads bubble up from the fastest tier holding the object. Placement,
//! promotion, eviction scoring and TTL are decided by a [`Policy`].
//!
//! This crate is what an embedder needs and nothing more: the engine, the tier
//! contract, the memory, disk and local-directory tiers, the policy seam and
//! the default policy linked natively. What only some users need lives in
//! crates of its own, each with its heavy dependency:
//! - `tiered-s3`: the S3 cold tier (the AWS SDK);
//! - `tiered-wasm`: policies as WebAssembly components (wasmtime), and the
//!   default policy as the component the service runs;
//! - `tiered-host`: the `tiered` binary (HTTP service, `simulate`, the policy
//!   test kit; axum, clap, plotters).
//!
//! Map of the crate:
//! - [`engine`]: the cascade ([`TieredStore`]): reads, writes, eviction,
//!   single-flight, ordering, snapshots, bootstraps.
//! - [`store`]: the [`store::Tier`] contract and the memory, disk and
//!   local-cold tiers; with feature `test-util`, a test double.
//! - [`key`], [`object`], [`range`], [`clock`], [`error`]: the data model and
//!   its rules; [`key_id`]: a key's 64-bit object id, hashed once per request.
//!   Keys, objects and every parser of untrusted bytes (the disk file format,
//!   snapshots, traces) live in the light `tiered-format` crate, re-exported
//!   here at the same paths, so they can be fuzzed without building the rest.
//! - [`policy`]: the decision seam, the native default, the fallback.
//!
//! # Example
//!
//! Memory in front of a disk cache in front of a local directory, deciding
//! with the default policy (linked natively):
//!
//! ```
//! use std::sync::Arc;
//! use tiered::store::{DiskTier, LocalColdTier};
//! use tiered::{SetOptions, TieredStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = TieredStore::builder()
//!     .hot_bytes(64 << 20)
//!     .warm(Arc::new(DiskTier::open(dir.path().join("warm"), 1 << 30)?))
//!     .cold(Arc::new(LocalColdTier::open(dir.path().join("cold"))?))
//!     .build()?;
//!
//! store.set("reports/2026.csv", "year,total\n2026,42\n", SetOptions::default()).await?;
//! let hit = store.get_with_metadata("reports/2026.csv").await?.expect("just written");
//! assert_eq!(&hit.data[..], b"year,total\n2026,42\n");
//! assert_eq!(hit.source, tiered::TierId::Hot);
//! assert_eq!(store.stats().gets, 1);
//! # Ok(())
//! # }
//! ```

pub mod clock;
pub mod engine;
pub mod error;
pub mod key_id;
pub mod metrics;
pub mod policy;
pub mod store;

// The key rules and the data model, defined in `tiered-format`.
pub use tiered_format::{key, object, range};

pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{Hit, HitDelivery, SetOptions, SetOutcome, StoreBuilder, StoreConfig, StoreStats, TieredStore};
pub use error::{Error, KeyError, Result, TierError, TierErrorKind};
pub use object::{Codec, Object, ObjectMeta};
pub use policy::{Policy, TierId, TierSet};
