//! Tiers: where objects are stored.
//!
//! This file holds only the contracts: [`Tier`] (store, read, delete, list),
//! and the two roles a tier plays, [`CacheTier`] (a byte-bounded cache: hot,
//! warm) and [`SourceTier`] (the source of truth: cold). Implementations sit
//! beside it:
//! - [`memory::MemoryTier`]: the hot tier, sharded maps, byte-bounded;
//! - [`file_tier`]: objects as files, one implementation in two roles:
//!   [`DiskTier`], the warm tier (byte-bounded, survives restarts), and
//!   [`LocalColdTier`], a local directory standing in for a bucket;
//! - the S3 cold tier lives in the `tiered-s3` crate, with the AWS SDK;
//! - `double::TierDouble` (feature `test-util`): a test double that counts
//!   calls and injects faults; `contract` (same feature): the contracts as
//!   rules any implementation can be checked against.
//!
//! [`files`] and [`format`] are the on-disk object directory and file format
//! under the file tiers; [`file_copy`] writes their large objects without
//! holding them in memory, and `file_read` reads them back as verified
//! streams, whole or a range (checking only the chunks that cover it).
//!
//! Large objects: [`spool`] holds a body in a temporary file while its
//! checksums are computed, [`Tier::put_file`] stores from such a file, and
//! [`Tier::get_stream`] reads as a self-verifying [`stream`] above a size.
//! [`Tier::get_range`] reads some bytes of an object, verified before they
//! are yielded.
//!
//! [`listing`]: a page of keys and common prefixes in key order
//! ([`SourceTier::list_page`]), from any tier's unordered [`Tier::list`] or
//! from a bucket's own ordered listing.
//!
//! A miss is `Ok(None)`, never an error. Cache tiers keep volatile access
//! statistics ([`Access`]) in memory; nothing about reads is ever written back.

#[cfg(any(test, feature = "test-util"))]
pub mod contract;
#[cfg(any(test, feature = "test-util"))]
pub mod double;
pub mod file_copy;
mod file_read;
pub mod file_tier;
pub mod files;
pub mod listing;
pub mod memory;
mod resident;
pub mod spool;
pub mod stream;
mod undeleted;

// The object file format, defined in `tiered-format` (with the other parsers
// of untrusted bytes, for fuzzing).
pub use tiered_format::file as format;

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::error::TierError;
use crate::object::{Object, ObjectMeta};
use crate::range::ByteRange;

#[cfg(any(test, feature = "test-util"))]
pub use double::{Fault, TierDouble};
pub use file_tier::{DiskTier, FileTier, LocalColdTier};
pub use listing::{Entry, Page, PageRequest};
pub use memory::{HotRead, HotValue, MemoryTier};
pub use resident::{Access, Resident};
pub use spool::{SpoolWriter, Spooled};
pub use stream::{ChunkStream, Fetched, ObjectStream, RangeRead};

/// A stream of keys, produced lazily.
pub type KeyStream = BoxStream<'static, Result<String, TierError>>;

/// The answer to a conditional read.
#[derive(Debug)]
pub enum Conditional {
    /// The stored version still has the ETag the caller holds.
    NotModified,
    /// A different version, whole or streamed as by [`Tier::get_stream`]
    /// (`None`: the object is gone).
    Changed(Option<Fetched>),
}

/// How full a cache tier is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub objects: u64,
    /// The byte budget; `None` = unbounded (a test double's).
    pub capacity: Option<u64>,
}

impl Usage {
    pub fn over_budget(&self) -> bool {
        self.capacity.is_some_and(|c| self.bytes > c)
    }
}

/// What every tier does: store, read, delete and list objects.
/// Implementations are safe to share across tasks.
///
/// A tier plays one of two roles, each a trait of its own: a byte-bounded
/// cache ([`CacheTier`]: hot, warm) or the source of truth ([`SourceTier`]:
/// cold). What a tier can do is its type.
#[async_trait]
pub trait Tier: Send + Sync + std::fmt::Debug + 'static {
    /// Short implementation name for logs and errors (`memory`, `disk`, ...).
    fn name(&self) -> &'static str;

    /// The object, verified; `Ok(None)` when absent. A copy that fails
    /// verification is an error of kind `Corrupt` (the caller decides): the
    /// engine serves what a tier returns without checking its bytes again.
    async fn get(&self, key: &str) -> Result<Option<Object>, TierError>;

    /// The metadata alone, without reading the bytes.
    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError>;

    /// Store the object, replacing any previous version. Returns the metadata
    /// as stored (cold tiers fill in `etag`).
    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError>;

    /// Store an object whose stored bytes are in `file` (`meta` describes
    /// them: size and checksum match the file). The default reads the file
    /// into memory and calls [`put`](Tier::put): right for the memory tier and
    /// test doubles; the file tiers and S3 copy from the file in bounded
    /// chunks instead.
    async fn put_file(&self, meta: Arc<ObjectMeta>, file: &Spooled) -> Result<Arc<ObjectMeta>, TierError> {
        let data = tokio::fs::read(file.path())
            .await
            .map_err(|e| TierError::io(self.name(), format!("cannot read spool file for {:?}", meta.key), e))?;
        self.put(Object { meta, data: data.into() }).await
    }

    /// The object, whole if it is at most `buffer_max` stored bytes, else as
    /// a self-verifying stream; `Ok(None)` when absent. The default reads it
    /// whole (tiers that only hold small objects in memory).
    async fn get_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
        let _ = buffer_max;
        Ok(self.get(key).await?.map(Fetched::Whole))
    }

    /// Bytes `range` of the object's stored bytes (the range resolved
    /// against its stored size), verified before they are yielded;
    /// `Ok(None)` when absent. The default reads the object whole and slices
    /// it (tiers that hold objects in memory); the file tiers read and check
    /// the chunks that cover the range, S3 asks for the range.
    async fn get_range(&self, key: &str, range: ByteRange) -> Result<Option<RangeRead>, TierError> {
        Ok(self.get(key).await?.map(|object| RangeRead::of_object(object, range)))
    }

    /// Remove the object; `true` if it was there.
    async fn delete(&self, key: &str) -> Result<bool, TierError>;

    /// Rewrite the expiry of a stored object; `None` when absent.
    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError>;

    /// Keys starting with `prefix`, in no particular order, produced lazily.
    fn list(&self, prefix: &str) -> KeyStream;

    /// Remove every object whose key starts with `prefix`; the count removed.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError>;

    /// Remove everything.
    async fn clear(&self) -> Result<(), TierError> {
        self.delete_prefix("").await.map(|_| ())
    }
}

/// A byte-bounded cache tier (hot, warm): it counts what it holds against a
/// budget and offers its residents to eviction and bootstrap. It keeps
/// volatile access statistics ([`Access`]) and may lose anything at any time.
pub trait CacheTier: Tier {
    /// What it holds and its budget.
    fn usage(&self) -> Usage;

    /// Every resident object (for bootstrap ranking, and for the engine to
    /// rebuild what it knows the tier holds).
    fn residents(&self) -> Vec<Resident>;
}

/// The source of truth (cold): unbounded, never evicts, and answers
/// conditional reads so cached copies can be revalidated.
#[async_trait]
pub trait SourceTier: Tier {
    /// The object only if its ETag differs from `etag` (S3: `If-None-Match`),
    /// whole if it is at most `buffer_max` stored bytes, else streamed, as by
    /// [`Tier::get_stream`]: one request, and a large new version is never
    /// held whole. The default reads the object and compares.
    async fn get_if_changed(&self, key: &str, etag: &str, buffer_max: u64) -> Result<Conditional, TierError> {
        match self.get_stream(key, buffer_max).await? {
            Some(found) if found.meta().etag.as_deref() == Some(etag) => Ok(Conditional::NotModified),
            other => Ok(Conditional::Changed(other)),
        }
    }
    /// What it holds, when that is known without a listing (a local
    /// directory keeps an index; a bucket does not): `None` otherwise.
    fn stored(&self) -> Option<Usage> {
        None
    }

    /// One page of keys and common prefixes in key order ([`listing`]). The
    /// default reads every key under the prefix from [`Tier::list`] and keeps
    /// the page; a tier that lists in order (a bucket) reads only the page.
    async fn list_page(&self, request: &PageRequest) -> Result<Page, TierError> {
        listing::scan(self.list(&request.prefix), request).await
    }
}
