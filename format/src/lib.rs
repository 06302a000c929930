//! # tiered-format
//!
//! The pure data formats of `tiered`: everything that turns untrusted bytes
//! into values, with no I/O beyond reading a trace file and no async runtime.
//! The `tiered` crate re-exports each module at its own public path, and the
//! fuzz targets in `fuzz/` depend on this crate alone, so they build in
//! seconds.
//!
//! Map of the crate (and where `tiered` re-exports it):
//! - [`key`]: the key rules, key hashing and keys from URL paths
//!   (`tiered::key`, `tiered::KeyError`).
//! - [`object`]: [`Object`] and [`ObjectMeta`], the data model
//!   (`tiered::object`).
//! - [`tier`]: [`TierId`], the names of the tiers (`tiered::policy::TierId`).
//! - [`file`](mod@file): the object file format of the disk and local-cold tiers
//!   (`tiered::store::format`).
//! - [`range`]: byte ranges asked for by readers (`tiered::range`).
//! - [`snapshot`]: the metadata snapshot and its import parser
//!   (`tiered::engine::Snapshot`).
//! - [`trace`]: CSV and libCacheSim `oracleGeneral` access traces
//!   (`tiered_host::sim::trace`).

pub mod file;
pub mod key;
pub mod object;
pub mod range;
pub mod snapshot;
pub mod tier;
pub mod trace;

pub use key::KeyError;
pub use object::{Codec, Object, ObjectMeta};
pub use range::{ByteRange, RangeError};
pub use snapshot::{SNAPSHOT_VERSION, Snapshot, SnapshotEntry, SnapshotError};
pub use tier::TierId;
pub use trace::{Format, Op, Request, Trace, TraceError};
