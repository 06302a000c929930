//! Writing objects: one PutObject, or a multipart upload above the threshold
//! (a failed upload is aborted so no parts are left behind), and rewriting
//! metadata with a server-side copy.
//!
//! Parts come from a [`Parts`] source: zero-copy slices of an in-memory value,
//! or read one at a time from a spool file ([`put_file`]), so an upload from a
//! file holds one part (`multipart_threshold`, at least 5 MiB) in memory.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::client::{ObjectClient, PutHead};
use crate::{S3Tier, errors, meta};
use tiered::error::{TierError, TierErrorKind};
use tiered::object::{Object, ObjectMeta};
use tiered::store::Spooled;

/// Where the bytes of a multipart upload come from.
#[derive(Clone, Copy, Debug)]
enum Parts<'a> {
    Memory(&'a Bytes),
    File(&'a Path),
}

impl Parts<'_> {
    /// `len` bytes from `start`.
    async fn read(self, key: &str, start: u64, len: usize) -> Result<Bytes, TierError> {
        match self {
            Parts::Memory(data) => Ok(data.slice(start as usize..start as usize + len)),
            Parts::File(path) => {
                let io = |e| TierError::io("s3", format!("object {key:?}: cannot read the spool file"), e);
                let mut file = tokio::fs::File::open(path).await.map_err(io)?;
                file.seek(std::io::SeekFrom::Start(start)).await.map_err(io)?;
                let mut part = vec![0u8; len];
                file.read_exact(&mut part).await.map_err(io)?;
                Ok(Bytes::from(part))
            }
        }
    }
}

/// S3's smallest part (all but the last).
const MIN_PART_BYTES: u64 = 5 << 20;

fn rejected(key: &str, message: String) -> TierError {
    TierError::new(TierErrorKind::Rejected, "s3", format!("object {key:?}: {message}"))
}

/// The content type, content encoding and user metadata an object is
/// stored with ([`meta`]).
fn put_head(meta: &ObjectMeta) -> Result<PutHead, TierError> {
    Ok(PutHead {
        content_type: meta.content_type.clone(),
        content_encoding: meta::content_encoding(meta.codec),
        metadata: meta::encode(meta).map_err(|m| rejected(&meta.key, m))?,
    })
}

/// Store `object`, returning its metadata with S3's ETag.
pub async fn put(tier: &S3Tier, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
    let key = object.meta.key.clone();
    let head = put_head(&object.meta)?;
    let etag = if object.data.len() as u64 > tier.config.multipart_threshold {
        multipart(tier, &object.meta, head, Parts::Memory(&object.data)).await?
    } else {
        let s3_key = tier.object_key(&key);
        let put = tier.client.put_object(&s3_key, head, object.data.clone()).await;
        put.map_err(|e| errors::convert("PutObject", &key, e))?
    };
    let mut stored = (*object.meta).clone();
    stored.etag = etag.as_deref().map(meta::unquoted);
    Ok(Arc::new(stored))
}

/// Store the object described by `meta` from a spool file: one PutObject up
/// to the threshold (the file read into memory), else a multipart upload read
/// from the file one part at a time.
pub async fn put_file(tier: &S3Tier, meta: Arc<ObjectMeta>, file: &Spooled) -> Result<Arc<ObjectMeta>, TierError> {
    if meta.size <= tier.config.multipart_threshold {
        let data = Parts::File(file.path()).read(&meta.key, 0, meta.size as usize).await?;
        return put(tier, Object { meta, data }).await;
    }
    let head = put_head(&meta)?;
    let etag = multipart(tier, &meta, head, Parts::File(file.path())).await?;
    let mut stored = (*meta).clone();
    stored.etag = etag.as_deref().map(meta::unquoted);
    Ok(Arc::new(stored))
}

/// A multipart upload, aborted when any step fails so no parts are left
/// behind (an abort that fails too is logged: the bucket's lifecycle rule for
/// incomplete uploads is then the only cleanup). A caller that drops the
/// upload half-way (a client that hung up, a `select!` that took another
/// branch) leaves an [`OpenUpload`] behind, which aborts it on its own.
///
/// What an abort cannot reach, the lifecycle rule must: an upload dropped
/// while S3 was creating it (its id never arrived), and a part S3 was still
/// receiving when the abort came (S3 may keep it; AWS says so).
async fn multipart(
    tier: &S3Tier,
    object: &ObjectMeta,
    head: PutHead,
    parts: Parts<'_>,
) -> Result<Option<String>, TierError> {
    let key = object.key.as_str();
    let s3_key = tier.object_key(key);
    let upload_id = tier
        .client
        .create_multipart_upload(&s3_key, head)
        .await
        .map_err(|e| errors::convert("CreateMultipartUpload", key, e))?;
    let mut open = OpenUpload { client: &tier.client, key, s3_key: &s3_key, upload_id: &upload_id, open: true };
    let result = upload_parts(tier, object, parts, &s3_key, &upload_id).await;
    if result.is_err() {
        abort(&*tier.client, key, &s3_key, &upload_id).await;
    }
    open.open = false;
    result
}

/// Aborts `upload_id`; whether it did. A failure is logged (nothing else can
/// be done about it); an upload already gone (completed, or aborted before)
/// is not a failure.
async fn abort(client: &dyn ObjectClient, key: &str, s3_key: &str, upload_id: &str) -> bool {
    match client.abort_multipart_upload(s3_key, upload_id).await {
        Ok(()) => {
            tracing::debug!(key, upload_id, "aborted a multipart upload");
            true
        }
        Err(err) if err.is_no_such_upload() => {
            tracing::debug!(key, upload_id, "a multipart upload to abort was already completed or aborted");
            false
        }
        Err(err) => {
            tracing::error!(key, upload_id, %err, "could not abort a multipart upload");
            false
        }
    }
}

/// A multipart upload begun and not yet completed or aborted: dropped while
/// still `open` (its future dropped half-way), it aborts the upload on a task
/// of its own, on the runtime it was dropped on. Dropped outside a runtime,
/// it can only log the upload it leaves behind; dropped while its runtime
/// shuts down, the task may never run (the log says an abort was scheduled,
/// and only the task logs that it was done).
struct OpenUpload<'a> {
    client: &'a Arc<dyn ObjectClient>,
    key: &'a str,
    s3_key: &'a str,
    upload_id: &'a str,
    open: bool,
}

impl Drop for OpenUpload<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let (key, upload_id) = (self.key, self.upload_id);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                tracing::info!(key, upload_id, "a multipart upload was abandoned half-way: abort scheduled");
                let client = Arc::clone(self.client);
                let (key, s3_key, upload_id) = (key.to_string(), self.s3_key.to_string(), upload_id.to_string());
                runtime.spawn(async move {
                    if abort(&*client, &key, &s3_key, &upload_id).await {
                        tracing::info!(key, upload_id, "aborted an abandoned multipart upload");
                    }
                });
            }
            Err(_) => {
                tracing::error!(key, upload_id, "a multipart upload was abandoned outside a runtime: left behind")
            }
        }
    }
}

async fn upload_parts(
    tier: &S3Tier,
    object: &ObjectMeta,
    source: Parts<'_>,
    s3_key: &str,
    upload_id: &str,
) -> Result<Option<String>, TierError> {
    let (key, size) = (object.key.as_str(), object.size);
    let part_size = tier.config.multipart_threshold.max(MIN_PART_BYTES);
    let mut parts = Vec::new();
    for (i, start) in (0..size).step_by(part_size as usize).enumerate() {
        let number = i as i32 + 1;
        let chunk = source.read(key, start, (part_size.min(size - start)) as usize).await?;
        let etag = tier
            .client
            .upload_part(s3_key, upload_id, number, chunk)
            .await
            .map_err(|e| errors::convert("UploadPart", key, e))?;
        parts.push((number, etag));
    }
    match tier.client.complete_multipart_upload(s3_key, upload_id, parts).await {
        Ok(etag) => Ok(etag),
        // The SDK sends a completion again when its answer was lost (a
        // connection cut, a timeout); if the first one went through, the
        // second finds the upload gone. The object then tells.
        Err(err) if err.is_no_such_upload() => match completed_before(tier, object).await {
            Some(etag) => {
                tracing::info!(
                    key,
                    upload_id,
                    "CompleteMultipartUpload: the upload was completed by an earlier attempt"
                );
                Ok(etag)
            }
            None => Err(errors::convert("CompleteMultipartUpload", key, err)),
        },
        Err(err) => Err(errors::convert("CompleteMultipartUpload", key, err)),
    }
}

/// The ETag of `object` as this write stored it, if S3 holds it: the same
/// sha256, size and write time in the metadata record a HEAD returns. Not
/// found (or the HEAD failing): `None`.
async fn completed_before(tier: &S3Tier, object: &ObjectMeta) -> Option<Option<String>> {
    let stored = tiered::store::Tier::head(tier, &object.key).await.ok().flatten()?;
    let same = !object.checksum.is_empty()
        && stored.checksum == object.checksum
        && stored.size == object.size
        && stored.created_ms == object.created_ms;
    same.then(|| stored.etag.clone())
}

/// Rewrite an object's expiry with a server-side copy onto itself
/// (metadata REPLACE), conditional on the version read, so no bytes move
/// through the host and a concurrent writer's version is never overwritten.
pub async fn rewrite_expiry(
    tier: &S3Tier,
    key: &str,
    expires_ms: Option<u64>,
) -> Result<Option<Arc<ObjectMeta>>, TierError> {
    let Some(current) = tiered::store::Tier::head(tier, key).await? else { return Ok(None) };
    let mut meta = (*current).clone();
    meta.expires_ms = expires_ms;
    let head = put_head(&meta)?;
    let if_match = current.etag.as_deref().map(meta::quoted);
    let copied = tier.client.replace_metadata(&tier.object_key(key), head, if_match.as_deref()).await;
    meta.etag = copied.map_err(|e| errors::convert("CopyObject", key, e))?.as_deref().map(meta::unquoted);
    Ok(Some(Arc::new(meta)))
}
