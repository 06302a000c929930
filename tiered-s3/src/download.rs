//! Reading objects with `GetObject`: whole ([`fetch`], optionally only if the
//! ETag changed), or as a stream, the body forwarded chunk by chunk instead
//! of collected, for objects larger than the caller buffers ([`get_stream`]).
//!
//! [`get_stream`] sends one request either way: the response's `Content-Length` decides whether
//! the body is read whole (at most `buffer_max` bytes, as [`S3Tier::get`]
//! would) or handed on as a stream. The sha256 recorded in the object's
//! metadata is computed over the chunks as they pass and checked at the end
//! ([`verify_at_end`]): a mismatch ends the stream with `Corrupt`. An object
//! written by another tool carries no checksum and is passed through as S3
//! sends it.

use std::sync::Arc;

use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::{S3Tier, errors, meta};
use tiered::error::{TierError, TierErrorKind};
use tiered::object::Object;
use tiered::store::Conditional;
use tiered::store::stream::{Fetched, ObjectStream, verify_at_end};

/// The object read whole; with `if_none_match`, `NotModified` when S3 still
/// holds that ETag (a 304).
pub(super) async fn fetch(tier: &S3Tier, key: &str, if_none_match: Option<&str>) -> Result<Conditional, TierError> {
    let request = tier.client.get_object().bucket(&tier.config.bucket).key(tier.object_key(key));
    let request = match if_none_match {
        Some(etag) => request.if_none_match(format!("\"{etag}\"")),
        None => request,
    };
    let response = match request.send().await {
        Ok(r) => r,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
            return Ok(Conditional::Changed(None));
        }
        Err(err) if errors::status(&err) == Some(304) => return Ok(Conditional::NotModified),
        Err(err) if errors::status(&err) == Some(404) => return Ok(Conditional::Changed(None)),
        Err(err) => return Err(errors::convert("GetObject", key, err)),
    };
    let modified = response.last_modified().and_then(|t| t.to_millis().ok());
    let length = response.content_length();
    if let Some(len) = length.and_then(|l| u64::try_from(l).ok()).filter(|&l| l > tier.config.max_object_bytes) {
        let limit = tier.config.max_object_bytes;
        let message = format!("GetObject {key:?}: the object is {len} bytes; objects of at most {limit} are read");
        return Err(TierError::new(tiered::TierErrorKind::Rejected, "s3", message));
    }
    let mut meta =
        meta::describe(key, response.metadata(), response.content_type(), response.e_tag(), length, modified)
            .map_err(|m| TierError::corrupt("s3", format!("object {key:?}: {m}")))?;
    let data = read_body(key, length, response.body).await?;
    if meta.checksum.is_empty() {
        // Written by another tool: these bytes are the object.
        meta.checksum = tiered::object::checksum(&data);
        meta.size = data.len() as u64;
        meta.original_size = meta.size;
    }
    Ok(Conditional::Changed(Some(Object::new(meta, data))))
}

/// The object, whole up to `buffer_max` bytes, else as a verified stream.
pub async fn get_stream(tier: &S3Tier, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
    let request = tier.client.get_object().bucket(&tier.config.bucket).key(tier.object_key(key));
    let response = match request.send().await {
        Ok(r) => r,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
        Err(err) if errors::status(&err) == Some(404) => return Ok(None),
        Err(err) => return Err(errors::convert("GetObject", key, err)),
    };
    let modified = response.last_modified().and_then(|t| t.to_millis().ok());
    let length = response.content_length();
    let mut meta =
        meta::describe(key, response.metadata(), response.content_type(), response.e_tag(), length, modified)
            .map_err(|m| TierError::corrupt("s3", format!("object {key:?}: {m}")))?;
    let streamed = length.and_then(|l| u64::try_from(l).ok()).is_none_or(|l| l > buffer_max);
    if !streamed {
        let data = read_body(key, length, response.body).await?;
        if meta.checksum.is_empty() {
            meta.checksum = tiered::object::checksum(&data);
            meta.size = data.len() as u64;
            meta.original_size = meta.size;
        }
        return Ok(Some(Fetched::Whole(Object::new(meta, data))));
    }
    let owned_key = key.to_string();
    let chunks = futures::stream::unfold(Some(response.body), move |body| {
        let key = owned_key.clone();
        async move {
            let mut body = body?;
            match body.next().await? {
                Ok(chunk) => Some((Ok(chunk), Some(body))),
                Err(e) => {
                    let message = format!("GetObject {key:?}: body: {e}");
                    Some((Err(TierError::new(TierErrorKind::Unavailable, "s3", message)), None))
                }
            }
        }
    })
    .boxed();
    let chunks = if meta.checksum.is_empty() {
        // Written by another tool: nothing to verify against.
        chunks
    } else {
        let expected = meta.checksum.clone();
        let update: fn(&mut Sha256, &[u8]) = |h, b| h.update(b);
        verify_at_end("s3", key.to_string(), meta.size, chunks, Sha256::new(), update, move |h| {
            hex::encode(h.finalize()) == expected
        })
    };
    Ok(Some(Fetched::Stream(ObjectStream { meta: Arc::new(meta), chunks })))
}

/// The body, into one buffer sized from `Content-Length` (no second copy).
pub(crate) async fn read_body(
    key: &str,
    length: Option<i64>,
    mut body: aws_sdk_s3::primitives::ByteStream,
) -> Result<bytes::Bytes, TierError> {
    let mut buffer = bytes::BytesMut::with_capacity(length.and_then(|l| usize::try_from(l).ok()).unwrap_or(0));
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            TierError::new(tiered::TierErrorKind::Unavailable, "s3", format!("GetObject {key:?}: body: {e}"))
        })?;
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}
