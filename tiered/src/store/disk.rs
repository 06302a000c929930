//! The warm tier: objects as files on local disk, byte-bounded, surviving
//! restarts (the index is rebuilt from the file headers at open).
//!
//! Files are named by a hash of the key, never by the key, so no key reaches
//! outside the directory. Every read is verified against the header's data
//! hash. Reads of objects up to [`INLINE_READ_MAX`] bytes run on the calling
//! task: from the page cache they cost less than a hop to the blocking pool.
//! Larger reads and all writes run on the blocking pool.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::files::FileStore;
use super::{CacheTier, Fetched, KeyStream, Resident, Spooled, Tier, Usage};
use crate::clock::{Clock, SystemClock};
use crate::error::{TierError, TierErrorKind};
use crate::object::{Object, ObjectMeta};

/// Objects up to this many bytes are read without leaving the calling task.
pub const INLINE_READ_MAX: u64 = 256 * 1024;

/// The on-disk warm tier.
#[derive(Debug, Clone)]
pub struct DiskTier {
    files: Arc<FileStore>,
    capacity: u64,
}

impl DiskTier {
    /// Open (or create) a warm tier in `dir` holding at most `capacity` bytes.
    pub fn open(dir: impl AsRef<Path>, capacity: u64) -> Result<Self, TierError> {
        Self::open_with_clock(dir, capacity, Arc::new(SystemClock))
    }

    pub fn open_with_clock(dir: impl AsRef<Path>, capacity: u64, clock: Arc<dyn Clock>) -> Result<Self, TierError> {
        let files = FileStore::open(dir.as_ref(), "disk", false, clock)?;
        Ok(DiskTier { files: Arc::new(files), capacity })
    }

    /// Refuses an object that alone would exceed the tier's budget.
    fn admit(&self, footprint: u64) -> Result<(), TierError> {
        if footprint > self.capacity {
            return Err(TierError::new(
                TierErrorKind::Rejected,
                "disk",
                format!("object of {footprint} bytes exceeds the tier's budget of {} bytes", self.capacity),
            ));
        }
        Ok(())
    }
}

/// Run blocking file work off the executor.
pub(crate) async fn blocking<T: Send + 'static>(
    tier: &'static str,
    work: impl FnOnce() -> Result<T, TierError> + Send + 'static,
) -> Result<T, TierError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| TierError::new(TierErrorKind::Unavailable, tier, format!("file task failed: {e}")))?
}

#[async_trait]
impl Tier for DiskTier {
    fn name(&self) -> &'static str {
        "disk"
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        match self.files.file_len(key) {
            None => Ok(None),
            Some(len) if len <= INLINE_READ_MAX => self.files.read(key),
            Some(_) => {
                let (files, key) = (self.files.clone(), key.to_string());
                blocking("disk", move || files.read(&key)).await
            }
        }
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let (files, key) = (self.files.clone(), key.to_string());
        Ok(blocking("disk", move || files.read_meta(&key)).await?.map(Arc::new))
    }

    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        self.admit(object.footprint())?;
        let files = self.files.clone();
        let meta = object.meta.clone();
        blocking("disk", move || files.write(&object)).await?;
        Ok(meta)
    }

    async fn put_file(&self, meta: Arc<ObjectMeta>, file: &Spooled) -> Result<Arc<ObjectMeta>, TierError> {
        self.admit(meta.size + meta.footprint())?;
        let files = self.files.clone();
        let (stored, path, hash) = (meta.clone(), file.path().to_path_buf(), file.data_hash);
        blocking("disk", move || files.write_from_file(&stored, &path, hash)).await?;
        Ok(meta)
    }

    async fn get_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
        let (files, key) = (self.files.clone(), key.to_string());
        blocking("disk", move || files.open_stream(&key, buffer_max)).await
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        let (files, key) = (self.files.clone(), key.to_string());
        blocking("disk", move || files.remove(&key)).await
    }

    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let (files, key) = (self.files.clone(), key.to_string());
        blocking("disk", move || rewrite_expiry(&files, &key, expires_ms)).await
    }

    fn list(&self, prefix: &str) -> KeyStream {
        Box::pin(futures::stream::iter(self.files.keys(prefix).into_iter().map(Ok)))
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError> {
        let (files, prefix) = (self.files.clone(), prefix.to_string());
        blocking("disk", move || remove_prefix(&files, &prefix)).await
    }
}

impl CacheTier for DiskTier {
    fn usage(&self) -> Usage {
        Usage { bytes: self.files.bytes(), objects: self.files.objects(), capacity: Some(self.capacity) }
    }

    fn eviction_sample(&self, max: usize) -> Vec<Resident> {
        self.files.least_recent(max)
    }

    fn residents(&self) -> Vec<Resident> {
        self.files.residents()
    }
}

/// Rewrite an object's expiry by rewriting its file atomically (the data is
/// copied through one chunk at a time, verified on the way).
pub(crate) fn rewrite_expiry(
    files: &FileStore,
    key: &str,
    expires_ms: Option<u64>,
) -> Result<Option<Arc<ObjectMeta>>, TierError> {
    Ok(files.rewrite_expiry(key, expires_ms)?.map(Arc::new))
}

/// Remove every object whose key starts with `prefix`.
pub(crate) fn remove_prefix(files: &FileStore, prefix: &str) -> Result<u64, TierError> {
    let mut removed = 0;
    for key in files.keys(prefix) {
        if files.remove(&key)? {
            removed += 1;
        }
    }
    Ok(removed)
}
