//! Writing objects: one PutObject, or a multipart upload above the threshold
//! (a failed upload is aborted so no parts are left behind), and rewriting
//! metadata with a server-side copy.
//!
//! Parts come from a [`Parts`] source: zero-copy slices of an in-memory value,
//! or read one at a time from a spool file ([`put_file`]), so an upload from a
//! file holds one part (`multipart_threshold`, at least 5 MiB) in memory.

use std::path::Path;
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, MetadataDirective};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

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

fn rejected(key: &str, message: String) -> TierError {
    TierError::new(TierErrorKind::Rejected, "s3", format!("object {key:?}: {message}"))
}

/// Store `object`, returning its metadata with S3's ETag.
pub async fn put(tier: &S3Tier, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
    let key = object.meta.key.clone();
    let encoded = meta::encode(&object.meta).map_err(|m| rejected(&key, m))?;
    let etag = if object.data.len() as u64 > tier.config.multipart_threshold {
        multipart(tier, &object.meta, &encoded, Parts::Memory(&object.data)).await?
    } else {
        let response = tier
            .client
            .put_object()
            .bucket(&tier.config.bucket)
            .key(tier.object_key(&key))
            .set_content_type(object.meta.content_type.clone())
            .metadata(meta::META_KEY, encoded)
            .body(ByteStream::from(object.data.clone()))
            .send()
            .await
            .map_err(|e| errors::convert("PutObject", &key, e))?;
        response.e_tag().map(str::to_string)
    };
    let mut stored = (*object.meta).clone();
    stored.etag = etag.map(|e| e.trim_matches('"').to_string());
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
    let encoded = meta::encode(&meta).map_err(|m| rejected(&meta.key, m))?;
    let etag = multipart(tier, &meta, &encoded, Parts::File(file.path())).await?;
    let mut stored = (*meta).clone();
    stored.etag = etag.map(|e| e.trim_matches('"').to_string());
    Ok(Arc::new(stored))
}

async fn multipart(
    tier: &S3Tier,
    object: &ObjectMeta,
    encoded: &str,
    parts: Parts<'_>,
) -> Result<Option<String>, TierError> {
    let key = object.key.as_str();
    let s3_key = tier.object_key(key);
    let bucket = &tier.config.bucket;
    let created = tier
        .client
        .create_multipart_upload()
        .bucket(bucket)
        .key(&s3_key)
        .set_content_type(object.content_type.clone())
        .metadata(meta::META_KEY, encoded)
        .send()
        .await
        .map_err(|e| errors::convert("CreateMultipartUpload", key, e))?;
    let upload_id = created.upload_id().ok_or_else(|| rejected(key, "no upload id returned".into()))?.to_string();
    let result = upload_parts(tier, key, object.size, parts, &s3_key, &upload_id).await;
    if result.is_err() {
        let abort = tier.client.abort_multipart_upload().bucket(bucket).key(&s3_key).upload_id(&upload_id).send().await;
        if let Err(err) = abort {
            tracing::error!(key, upload_id, ?err, "could not abort a failed multipart upload");
        }
    }
    result
}

async fn upload_parts(
    tier: &S3Tier,
    key: &str,
    size: u64,
    source: Parts<'_>,
    s3_key: &str,
    upload_id: &str,
) -> Result<Option<String>, TierError> {
    let part_size = tier.config.multipart_threshold.max(5 << 20);
    let mut parts = Vec::new();
    for (i, start) in (0..size).step_by(part_size as usize).enumerate() {
        let number = i as i32 + 1;
        let chunk = source.read(key, start, (part_size.min(size - start)) as usize).await?;
        let response = tier
            .client
            .upload_part()
            .bucket(&tier.config.bucket)
            .key(s3_key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(chunk))
            .send()
            .await
            .map_err(|e| errors::convert("UploadPart", key, e))?;
        parts
            .push(CompletedPart::builder().part_number(number).set_e_tag(response.e_tag().map(str::to_string)).build());
    }
    let done = tier
        .client
        .complete_multipart_upload()
        .bucket(&tier.config.bucket)
        .key(s3_key)
        .upload_id(upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .map_err(|e| errors::convert("CompleteMultipartUpload", key, e))?;
    Ok(done.e_tag().map(str::to_string))
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
    let encoded = meta::encode(&meta).map_err(|m| rejected(key, m))?;
    let s3_key = tier.object_key(key);
    let source = format!("{}/{}", tier.config.bucket, percent_encode_path(&s3_key));
    let mut request = tier
        .client
        .copy_object()
        .bucket(&tier.config.bucket)
        .key(&s3_key)
        .copy_source(source)
        .metadata_directive(MetadataDirective::Replace)
        .set_content_type(meta.content_type.clone())
        .metadata(meta::META_KEY, encoded);
    if let Some(etag) = &current.etag {
        request = request.copy_source_if_match(format!("\"{etag}\""));
    }
    let response = request.send().await.map_err(|e| errors::convert("CopyObject", key, e))?;
    meta.etag = response.copy_object_result().and_then(|r| r.e_tag()).map(|e| e.trim_matches('"').to_string());
    Ok(Some(Arc::new(meta)))
}

/// Percent-encode a key for `x-amz-copy-source` (unreserved characters and `/` kept).
fn percent_encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
