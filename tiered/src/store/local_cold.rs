//! A local directory standing in for a bucket: the embedded default's source
//! of truth. Same file format and atomic-write discipline as the disk tier,
//! plus fsync of directory entries, no byte budget, and an ETag per version
//! (the first 32 hex digits of the object's sha256, as S3 gives an MD5).
//!
//! The directory belongs to one process (its index lives in that process's
//! memory); several hosts sharing a source of truth use a bucket.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::disk::{blocking, remove_prefix, rewrite_expiry};
use super::files::FileStore;
use super::{Fetched, KeyStream, SourceTier, Spooled, Tier, Usage};
use crate::clock::SystemClock;
use crate::error::TierError;
use crate::object::{Object, ObjectMeta};

/// The local-directory cold tier.
#[derive(Debug, Clone)]
pub struct LocalColdTier {
    files: Arc<FileStore>,
}

impl LocalColdTier {
    /// Open (or create) the cold directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, TierError> {
        let files = FileStore::open(dir.as_ref(), "local", true, Arc::new(SystemClock))?;
        Ok(LocalColdTier { files: Arc::new(files) })
    }
}

#[async_trait]
impl Tier for LocalColdTier {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        let (files, owned) = (self.files.clone(), key.to_string());
        let object = blocking("local", move || files.read(&owned)).await?;
        object.map(|o| checked(key, o)).transpose()
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let (files, key) = (self.files.clone(), key.to_string());
        Ok(blocking("local", move || files.read_meta(&key)).await?.map(Arc::new))
    }

    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        let mut meta = (*object.meta).clone();
        meta.etag = Some(meta.checksum[..32].to_string());
        let object = Object::new(meta, object.data);
        let stored = object.meta.clone();
        let files = self.files.clone();
        blocking("local", move || files.write(&object)).await?;
        Ok(stored)
    }

    async fn put_file(&self, meta: Arc<ObjectMeta>, file: &Spooled) -> Result<Arc<ObjectMeta>, TierError> {
        let mut meta = (*meta).clone();
        meta.etag = Some(meta.checksum[..32].to_string());
        let stored = Arc::new(meta);
        let (files, path, hash, written) =
            (self.files.clone(), file.path().to_path_buf(), file.data_hash, stored.clone());
        blocking("local", move || files.write_from_file(&written, &path, hash)).await?;
        Ok(stored)
    }

    async fn get_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
        let (files, owned) = (self.files.clone(), key.to_string());
        match blocking("local", move || files.open_stream(&owned, buffer_max)).await? {
            Some(Fetched::Whole(object)) => checked(key, object).map(|o| Some(Fetched::Whole(o))),
            other => Ok(other),
        }
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        let (files, key) = (self.files.clone(), key.to_string());
        blocking("local", move || files.remove(&key)).await
    }

    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let (files, key) = (self.files.clone(), key.to_string());
        blocking("local", move || rewrite_expiry(&files, &key, expires_ms)).await
    }

    fn list(&self, prefix: &str) -> KeyStream {
        Box::pin(futures::stream::iter(self.files.keys(prefix).into_iter().map(Ok)))
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError> {
        let (files, prefix) = (self.files.clone(), prefix.to_string());
        blocking("local", move || remove_prefix(&files, &prefix)).await
    }
}

impl SourceTier for LocalColdTier {
    fn stored(&self) -> Option<Usage> {
        Some(Usage { bytes: self.files.bytes(), objects: self.files.objects(), capacity: None })
    }
}

/// A whole object read from the source of truth is checked against its
/// sha256, as a bucket's is: the file's own data hash guards the file, the
/// sha256 the object written.
fn checked(key: &str, object: Object) -> Result<Object, TierError> {
    if object.verify() {
        Ok(object)
    } else {
        Err(TierError::corrupt("local", format!("object {key:?}: bytes do not match the recorded checksum")))
    }
}
