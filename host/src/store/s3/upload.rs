//! Writing objects: one PutObject, or a multipart upload above the threshold
//! (parts are zero-copy slices of the value; a failed upload is aborted so no
//! parts are left behind), and rewriting metadata with a server-side copy.

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, MetadataDirective};

use super::{S3Tier, errors, meta};
use crate::error::{TierError, TierErrorKind};
use crate::object::{Object, ObjectMeta};

fn rejected(key: &str, message: String) -> TierError {
    TierError::new(TierErrorKind::Rejected, "s3", format!("object {key:?}: {message}"))
}

/// Store `object`, returning its metadata with S3's ETag.
pub async fn put(tier: &S3Tier, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
    let key = object.meta.key.clone();
    let encoded = meta::encode(&object.meta).map_err(|m| rejected(&key, m))?;
    let etag = if object.data.len() as u64 > tier.config.multipart_threshold {
        multipart(tier, &object, &encoded).await?
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

async fn multipart(tier: &S3Tier, object: &Object, encoded: &str) -> Result<Option<String>, TierError> {
    let key = object.meta.key.as_str();
    let s3_key = tier.object_key(key);
    let bucket = &tier.config.bucket;
    let created = tier
        .client
        .create_multipart_upload()
        .bucket(bucket)
        .key(&s3_key)
        .set_content_type(object.meta.content_type.clone())
        .metadata(meta::META_KEY, encoded)
        .send()
        .await
        .map_err(|e| errors::convert("CreateMultipartUpload", key, e))?;
    let upload_id = created.upload_id().ok_or_else(|| rejected(key, "no upload id returned".into()))?.to_string();
    let result = upload_parts(tier, object, &s3_key, &upload_id).await;
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
    object: &Object,
    s3_key: &str,
    upload_id: &str,
) -> Result<Option<String>, TierError> {
    let key = object.meta.key.as_str();
    let part_size = tier.config.multipart_threshold.max(5 << 20) as usize;
    let mut parts = Vec::new();
    for (i, start) in (0..object.data.len()).step_by(part_size).enumerate() {
        let number = i as i32 + 1;
        let chunk = object.data.slice(start..(start + part_size).min(object.data.len()));
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
    let Some(current) = super::Tier::head(tier, key).await? else { return Ok(None) };
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
