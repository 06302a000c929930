//! [`FileTier`]: objects as files in a local directory ([`FileStore`]), one
//! implementation in two roles:
//! - [`DiskTier`] (role [`Cache`]): the warm tier, byte-bounded, surviving
//!   restarts (the index is rebuilt from the file headers at open);
//! - [`LocalColdTier`] (role [`Source`]): a local directory standing in for a
//!   bucket, the embedded default's source of truth: directory entries are
//!   fsync'd too, no byte budget, an ETag per version (the object's sha256
//!   in hex: never 32 hex digits, which S3 clients such as rclone take for an
//!   MD5 of the bytes and check), and whole reads are
//!   checked against the object's sha256 as a bucket's are. The directory
//!   belongs to one process (its index lives in that process's memory);
//!   several hosts sharing a source of truth use a bucket.
//!
//! Files are named by a hash of the key, never by the key, so no key reaches
//! outside the directory. Every read is verified against the header's data
//! hash (and a header of file format 3 against its own). Reads of objects up
//! to [`INLINE_READ_MAX`] bytes run on the calling task: from the page cache
//! they cost less than a hop to the blocking pool. Larger reads and all
//! writes run on the blocking pool; each change takes its place in the
//! store's order when it is first polled, before its work leaves for the
//! pool, so work whose caller left cannot land over a later change
//! ([`FileStore::change`]).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::files::FileStore;
use super::listing::{Page, PageRequest};
use super::{CacheTier, Fetched, KeyStream, RangeRead, Resident, SourceTier, Spooled, Tier, Usage};
use crate::clock::{Clock, SystemClock};
use crate::error::{TierError, TierErrorKind};
use crate::object::{Object, ObjectMeta};
use crate::range::ByteRange;

/// Objects up to this many bytes are read without leaving the calling task.
pub const INLINE_READ_MAX: u64 = 256 * 1024;

/// What a [`FileTier`]'s role decides: its name, durability, what a write
/// must satisfy and what a read is checked against.
pub trait FileRole: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// The tier's name in logs and errors.
    const NAME: &'static str;
    /// fsync directory entries after renames.
    const DURABLE: bool;

    /// The metadata a write is stored with, or why it is refused.
    fn admit(&self, meta: &ObjectMeta, footprint: u64) -> Result<Option<ObjectMeta>, TierError>;

    /// A whole object read, checked beyond the file's data hash.
    fn check(&self, key: &str, object: Object) -> Result<Object, TierError>;
}

/// The warm role: a byte budget.
#[derive(Clone, Copy, Debug)]
pub struct Cache {
    capacity: u64,
}

/// The source-of-truth role: ETags, sha256-checked reads, durable renames.
#[derive(Clone, Copy, Debug)]
pub struct Source;

impl FileRole for Cache {
    const NAME: &'static str = "disk";
    const DURABLE: bool = false;

    /// Refuses an object that alone would exceed the tier's budget.
    fn admit(&self, _meta: &ObjectMeta, footprint: u64) -> Result<Option<ObjectMeta>, TierError> {
        if footprint > self.capacity {
            let message = format!("object of {footprint} bytes exceeds the tier's budget of {} bytes", self.capacity);
            return Err(TierError::new(TierErrorKind::Rejected, Self::NAME, message));
        }
        Ok(None)
    }

    fn check(&self, _key: &str, object: Object) -> Result<Object, TierError> {
        Ok(object)
    }
}

impl FileRole for Source {
    const NAME: &'static str = "local";
    const DURABLE: bool = true;

    /// Gives the version its ETag.
    fn admit(&self, meta: &ObjectMeta, _footprint: u64) -> Result<Option<ObjectMeta>, TierError> {
        let mut meta = meta.clone();
        meta.etag = Some(meta.checksum.clone());
        Ok(Some(meta))
    }

    /// The file's data hash guards the file; the sha256 the object written.
    fn check(&self, key: &str, object: Object) -> Result<Object, TierError> {
        if object.verify() {
            Ok(object)
        } else {
            Err(TierError::corrupt(Self::NAME, format!("object {key:?}: bytes do not match the recorded checksum")))
        }
    }
}

/// A tier of files in a local directory, in the role `R`.
#[derive(Debug, Clone)]
pub struct FileTier<R> {
    files: Arc<FileStore>,
    role: R,
}

/// The on-disk warm tier.
pub type DiskTier = FileTier<Cache>;

/// The local-directory cold tier.
pub type LocalColdTier = FileTier<Source>;

impl FileTier<Cache> {
    /// Open (or create) a warm tier in `dir` holding at most `capacity` bytes.
    pub fn open(dir: impl AsRef<Path>, capacity: u64) -> Result<Self, TierError> {
        Self::open_with_clock(dir, capacity, Arc::new(SystemClock))
    }

    pub fn open_with_clock(dir: impl AsRef<Path>, capacity: u64, clock: Arc<dyn Clock>) -> Result<Self, TierError> {
        let files = FileStore::open(dir.as_ref(), Cache::NAME, Cache::DURABLE, clock)?;
        Ok(FileTier { files: Arc::new(files), role: Cache { capacity } })
    }
}

impl FileTier<Source> {
    /// Open (or create) the cold directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, TierError> {
        let files = FileStore::open(dir.as_ref(), Source::NAME, Source::DURABLE, Arc::new(SystemClock))?;
        Ok(FileTier { files: Arc::new(files), role: Source })
    }
}

impl<R: FileRole> FileTier<R> {
    /// Records an operation that began at `started`
    /// ([`DISK_OPERATION_SECONDS`](crate::metrics::DISK_OPERATION_SECONDS)).
    fn timed(&self, operation: &'static str, started: Instant) {
        let seconds = started.elapsed().as_secs_f64();
        metrics::histogram!(crate::metrics::DISK_OPERATION_SECONDS, "kind" => R::NAME, "operation" => operation)
            .record(seconds);
    }

    /// Runs blocking file work on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&FileStore) -> Result<T, TierError> + Send + 'static,
    ) -> Result<T, TierError> {
        let files = self.files.clone();
        tokio::task::spawn_blocking(move || work(&files))
            .await
            .map_err(|e| TierError::new(TierErrorKind::Unavailable, R::NAME, format!("file task failed: {e}")))?
    }
}

#[async_trait]
impl<R: FileRole> Tier for FileTier<R> {
    fn name(&self) -> &'static str {
        R::NAME
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        let started = Instant::now();
        let object = match self.files.file_len(key) {
            None => return Ok(None),
            Some(len) if len <= INLINE_READ_MAX => self.files.read(key)?,
            Some(_) => {
                let owned = key.to_string();
                self.blocking(move |files| files.read(&owned)).await?
            }
        };
        self.timed("read", started);
        object.map(|o| self.role.check(key, o)).transpose()
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let owned = key.to_string();
        Ok(self.blocking(move |files| files.read_meta(&owned)).await?.map(Arc::new))
    }

    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        let change = self.files.change(&object.meta.key);
        let object = match self.role.admit(&object.meta, object.footprint())? {
            Some(meta) => Object::new(meta, object.data),
            None => object,
        };
        let (stored, started) = (object.meta.clone(), Instant::now());
        self.blocking(move |files| files.write_as(&change, &object)).await?;
        self.timed("write", started);
        Ok(stored)
    }

    async fn put_file(&self, meta: Arc<ObjectMeta>, file: &Spooled) -> Result<Arc<ObjectMeta>, TierError> {
        let change = self.files.change(&meta.key);
        let stored = match self.role.admit(&meta, meta.size + meta.footprint())? {
            Some(meta) => Arc::new(meta),
            None => meta,
        };
        let (written, path, hash) = (stored.clone(), file.path().to_path_buf(), file.data_hash);
        let table = file.chunk_table.clone();
        let started = Instant::now();
        self.blocking(move |files| files.write_from_file_as(&change, &written, &path, hash, &table)).await?;
        self.timed("write", started);
        Ok(stored)
    }

    async fn get_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
        // A file no longer than the buffer holds an object that fits it:
        // read whole, as `get` does (small ones without a blocking task).
        match self.files.file_len(key) {
            None => return Ok(None),
            Some(len) if len <= buffer_max => return Ok(self.get(key).await?.map(Fetched::Whole)),
            Some(_) => {}
        }
        let owned = key.to_string();
        match self.blocking(move |files| files.open_stream(&owned, buffer_max)).await? {
            Some(Fetched::Whole(object)) => self.role.check(key, object).map(|o| Some(Fetched::Whole(o))),
            other => Ok(other),
        }
    }

    /// A range of at most half of [`INLINE_READ_MAX`] (the chunks covering
    /// it are at most that) is read on the calling task, as small objects
    /// are; a longer one opens on the blocking pool, then streams.
    async fn get_range(&self, key: &str, range: ByteRange) -> Result<Option<RangeRead>, TierError> {
        if self.files.file_len(key).is_none() {
            return Ok(None);
        }
        let started = Instant::now();
        let short = match range {
            ByteRange::FromTo { first, last } => last.saturating_sub(first) < INLINE_READ_MAX / 2,
            ByteRange::Suffix { len } => len <= INLINE_READ_MAX / 2,
            ByteRange::From { .. } => false,
        };
        let read = if short {
            self.files.open_range(key, range)?
        } else {
            let owned = key.to_string();
            self.blocking(move |files| files.open_range(&owned, range)).await?
        };
        self.timed("read", started);
        Ok(read)
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        let (change, owned) = (self.files.change(key), key.to_string());
        self.blocking(move |files| files.remove_as(&change, &owned)).await
    }

    /// Rewrites the file atomically (the data copied through one chunk at a
    /// time, verified on the way).
    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let (change, owned) = (self.files.change(key), key.to_string());
        Ok(self.blocking(move |files| files.rewrite_expiry_as(&change, &owned, expires_ms)).await?.map(Arc::new))
    }

    fn list(&self, prefix: &str) -> KeyStream {
        Box::pin(futures::stream::iter(self.files.keys(prefix).into_iter().map(Ok)))
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError> {
        let (change, prefix) = (self.files.prefix_change(prefix), prefix.to_string());
        self.blocking(move |files| {
            let mut removed = 0;
            for key in files.keys_as(&change, &prefix) {
                if files.remove_as(&change, &key)? {
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }
}

impl CacheTier for FileTier<Cache> {
    fn usage(&self) -> Usage {
        Usage { bytes: self.files.bytes(), objects: self.files.objects(), capacity: Some(self.role.capacity) }
    }

    fn residents(&self) -> Vec<Resident> {
        self.files.residents()
    }
}

#[async_trait]
impl SourceTier for FileTier<Source> {
    fn stored(&self) -> Option<Usage> {
        Some(Usage { bytes: self.files.bytes(), objects: self.files.objects(), capacity: None })
    }

    /// From the index, off the executor: every key under the lock is looked
    /// at (the index keeps no order), only the page is copied.
    async fn list_page(&self, request: &PageRequest) -> Result<Page, TierError> {
        let request = request.clone();
        self.blocking(move |files| Ok(files.page(&request))).await
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;
    use crate::store::contract::object;

    /// A change takes its place in the order when it is asked for, not when
    /// its file work gets a thread: a write asked for first whose work runs
    /// after a later write has landed gives way to it.
    #[test]
    fn a_change_takes_its_place_when_asked_for_not_when_its_file_work_runs() -> Result<(), Box<dyn std::error::Error>> {
        let runtime = tokio::runtime::Builder::new_current_thread().max_blocking_threads(1).build()?;
        let dir = tempfile::tempdir()?;
        let tier = LocalColdTier::open(dir.path())?;
        let (release, wait) = std::sync::mpsc::channel::<()>();
        runtime.block_on(async {
            // The one blocking thread is busy until released.
            let blocker = tokio::task::spawn_blocking(move || wait.recv());
            let mut older = Box::pin(tier.put(object("k", b"older", 1)));
            assert!((&mut older).now_or_never().is_none(), "its file work waits for the blocking thread");
            tier.files.write(&object("k", b"newer", 2))?;
            release.send(())?;
            blocker.await??;
            older.await?;
            let stored = tier.get("k").await?.ok_or("present")?;
            assert_eq!(&stored.data[..], b"newer");
            Ok(())
        })
    }
}
