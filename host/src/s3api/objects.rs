//! Object operations, each one [`TieredStore`](tiered::TieredStore) call as
//! `/v1/objects/{key}` makes it:
//!
//! | S3 operation | engine | notes |
//! |---|---|---|
//! | `GetObject` | `get_stream`, or `get_range` with `Range` | conditional headers, `InvalidRange` (416) |
//! | `HeadObject` | `head`: metadata only | conditional headers |
//! | `PutObject` | `set`, or `set_file` once spooled | `Content-MD5`, `x-amz-checksum-crc32` checked |
//! | `DeleteObject` | `delete` | 204 whether or not the key existed |
//! | `DeleteObjects` | `delete` per key | per-key errors in the answer |
//!
//! **One object, two APIs.** `x-amz-meta-<name>` is the store's custom
//! metadata, the same map `/v1` reads and writes as `x-tiered-meta-<name>`;
//! `Content-Type` is the object's content type; the ETag is the one `/v1`
//! sends. An object written through either API reads the same through the
//! other. `x-tiered-ttl` (seconds) sets a TTL as on `/v1`; every answer says
//! which tier served it in `x-tiered-source`.
//!
//! **Traced as on `/v1`.** A capture running (`/v1/trace`) traces each
//! read that found its object (whatever its conditions decide), each
//! completed write (`PutObject`, `CopyObject` as a read and a write,
//! `CompleteMultipartUpload`) and each delete.
//!
//! **Conditional reads** follow RFC 9110's order, as S3 does: a failed
//! `If-Match` (else a failed `If-Unmodified-Since`) is `412
//! PreconditionFailed`; a matching `If-None-Match` (else an unchanged
//! `If-Modified-Since`) is `304`. Dates compare at one-second precision:
//! `Last-Modified` is when the value was written, in whole seconds.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::http;
use bytes::Bytes;
use futures::Stream;
use futures::stream::BoxStream;
use s3s::dto::{
    DeleteObjectInput, DeleteObjectOutput, DeleteObjectsInput, DeleteObjectsOutput, DeletedObject, ETag, ETagCondition,
    GetObjectInput, GetObjectOutput, HeadObjectInput, HeadObjectOutput, Metadata, PutObjectInput, PutObjectOutput,
    Range, StreamingBlob, Timestamp,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::TieredS3;
use super::error;
use super::upload::{self, Declared, Received};
use crate::http::objects::MAX_METADATA_BYTES;
use tiered::engine::{Served, SetOptions, SetOutcome};
use tiered::object::ObjectMeta;
use tiered::policy::TierId;
use tiered::range::ByteRange;

/// The header naming the tier that served a read (as on `/v1`).
pub const SOURCE: &str = "x-tiered-source";

/// `GetObject`.
pub async fn get(api: &TieredS3, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
    let input = &req.input;
    api.bucket.check(&input.bucket)?;
    if input.part_number.is_some() {
        return Err(S3Error::with_message(S3ErrorCode::NotImplemented, "GetObject by partNumber is not supported."));
    }
    let found = find(api, &input.key, input.range, &Conditions::of_get(input)).await?;
    let body = match found.body {
        FoundBody::Whole(data) => StreamingBlob::from(s3s::Body::from(data)),
        FoundBody::Stream(stream) => StreamingBlob::wrap(SyncBody::new(stream)),
    };
    let output = GetObjectOutput {
        content_length: Some(found.length as i64),
        content_range: found.content_range,
        body: Some(body),
        ..described(&found.meta)
    };
    Ok(with_source(S3Response::new(output), found.source))
}

/// A value a `GetObject` may answer with, whichever way it is answered (in
/// s3s's types by [`get`], directly by [`super::direct`]).
#[derive(Debug)]
pub struct Found {
    pub meta: Arc<ObjectMeta>,
    pub source: TierId,
    /// The bytes the body holds.
    pub length: u64,
    /// `bytes <first>-<last>/<total>` when a range was asked for.
    pub content_range: Option<String>,
    pub body: FoundBody,
}

/// The body of a [`Found`]: in memory, or streamed from its tier.
pub enum FoundBody {
    Whole(Bytes),
    Stream(BoxStream<'static, Result<Bytes, tiered::error::Error>>),
}

impl std::fmt::Debug for FoundBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FoundBody::Whole(data) => f.debug_tuple("Whole").field(&data.len()).finish(),
            FoundBody::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// The read behind `GetObject`: `key`'s value (`range` of it), once
/// `conditions` allow it; a read that found its object is counted and traced.
pub async fn find(api: &TieredS3, key: &str, range: Option<Range>, conditions: &Conditions<'_>) -> S3Result<Found> {
    let store = &api.state.store;
    if let Some(range) = range {
        let hit = store.get_range(key, byte_range(range)).await.map_err(|e| error::from_store(key, e))?;
        let hit = hit.ok_or_else(|| no_such_key(key))?;
        api.state.saw_get(&hit.meta, hit.source, Some(byte_range(range)));
        conditions.check(&hit.meta)?;
        let Some(span) = hit.range else { return Err(invalid_range(hit.total)) };
        return Ok(Found {
            meta: hit.meta,
            source: hit.source,
            length: span.end - span.start,
            content_range: Some(format!("bytes {}-{}/{}", span.start, span.end - 1, hit.total)),
            body: FoundBody::Stream(hit.body),
        });
    }
    let served = store.get_stream(key, api.state.stream_above_bytes).await.map_err(|e| error::from_store(key, e))?;
    let served = served.ok_or_else(|| no_such_key(key))?;
    let (meta, source) = match &served {
        Served::Whole(hit) => (&hit.meta, hit.source),
        Served::Stream(stream) => (&stream.meta, stream.source),
    };
    api.state.saw_get(meta, source, None);
    conditions.check(meta)?;
    Ok(match served {
        Served::Whole(hit) => Found {
            length: hit.data.len() as u64,
            meta: hit.meta,
            source: hit.source,
            content_range: None,
            body: FoundBody::Whole(hit.data),
        },
        Served::Stream(stream) => Found {
            length: stream.meta.size,
            meta: stream.meta,
            source: stream.source,
            content_range: None,
            body: FoundBody::Stream(stream.body),
        },
    })
}

/// `HeadObject`: metadata only; no value is read and no access counted.
pub async fn head(api: &TieredS3, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
    let input = &req.input;
    api.bucket.check(&input.bucket)?;
    let conditions = Conditions {
        if_match: input.if_match.as_ref(),
        if_none_match: input.if_none_match.as_ref(),
        if_modified_since: input.if_modified_since.as_ref(),
        if_unmodified_since: input.if_unmodified_since.as_ref(),
    };
    let (meta, source) = stat(api, &input.key, &conditions).await?;
    let described = described(&meta);
    let output = HeadObjectOutput {
        accept_ranges: described.accept_ranges,
        content_length: Some(meta.original_size as i64),
        content_type: described.content_type,
        e_tag: described.e_tag,
        last_modified: described.last_modified,
        metadata: described.metadata,
        ..Default::default()
    };
    Ok(with_source(S3Response::new(output), source))
}

/// The read behind `HeadObject`: `key`'s metadata and the tier holding it,
/// once `conditions` allow it.
pub async fn stat(api: &TieredS3, key: &str, conditions: &Conditions<'_>) -> S3Result<(Arc<ObjectMeta>, TierId)> {
    let found = api.state.store.head(key).await.map_err(|e| error::from_store(key, e))?;
    let (meta, source) = found.ok_or_else(|| no_such_key(key))?;
    conditions.check(&meta)?;
    Ok((meta, source))
}

/// `PutObject`: the body is received (spooled once large), checked against
/// its declared digests, then stored; the answer comes once cold has it.
pub async fn put(api: &TieredS3, mut req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
    let input = &mut req.input;
    api.bucket.check(&input.bucket)?;
    if input.if_match.is_some() || input.if_none_match.is_some() {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "Conditional writes (If-Match, If-None-Match on PutObject) are not supported.",
        ));
    }
    let key = input.key.clone();
    tiered::key::validate(&key).map_err(|e| error::from_store(&key, e.into()))?;
    let options = write_options(&req.headers, input.content_type.take(), input.metadata.take())?;
    let body = upload::receive(
        &api.state,
        api.state.stream_above_bytes,
        input.body.take(),
        Declared {
            content_md5: input.content_md5.as_deref(),
            crc32: input.checksum_crc32.as_deref(),
            trailers: req.trailing_headers.as_ref(),
            want_md5: false,
        },
    )
    .await?;
    let outcome = store(api, &key, body.data, options).await?;
    let output = PutObjectOutput {
        e_tag: Some(ETag::Strong(outcome.etag.clone())),
        size: Some(outcome.size as i64),
        checksum_crc32: input.checksum_crc32.take(),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

/// Store a received body under `key`: small bodies as values (hot tier,
/// compression), spooled ones from their file.
pub async fn store(api: &TieredS3, key: &str, data: Received, options: SetOptions) -> S3Result<SetOutcome> {
    let store = &api.state.store;
    let written = match data {
        Received::Buffered(bytes) => store.set(key, bytes, options).await,
        Received::Spooled(file) => store.set_file(key, &file, options).await,
    };
    let outcome = written.map_err(|e| error::from_store(key, e))?;
    api.state.saw_set(&outcome.meta);
    Ok(outcome)
}

/// The write options of `PutObject` and `CreateMultipartUpload`: content
/// type, `x-amz-meta-*` (at most [`MAX_METADATA_BYTES`], as on `/v1`),
/// `x-tiered-ttl`.
pub fn write_options(
    headers: &http::HeaderMap,
    content_type: Option<String>,
    metadata: Option<Metadata>,
) -> S3Result<SetOptions> {
    let metadata: std::collections::BTreeMap<String, String> = metadata.unwrap_or_default().into_iter().collect();
    let bytes: usize = metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_METADATA_BYTES {
        return Err(S3Error::with_message(
            S3ErrorCode::MetadataTooLarge,
            format!("Your metadata headers (x-amz-meta-*) are {bytes} bytes; the limit is {MAX_METADATA_BYTES}."),
        ));
    }
    let ttl = match headers.get("x-tiered-ttl") {
        None => None,
        Some(value) => {
            let seconds = value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()).ok_or_else(|| {
                S3Error::with_message(S3ErrorCode::InvalidArgument, "x-tiered-ttl must be a whole number of seconds.")
            })?;
            Some(Duration::from_secs(seconds))
        }
    };
    Ok(SetOptions { content_type, metadata, ttl, ..Default::default() })
}

/// `DeleteObject`: 204 whether or not the key existed, as S3 answers.
pub async fn delete(api: &TieredS3, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
    api.bucket.check(&req.input.bucket)?;
    let key = req.input.key.as_str();
    api.state.store.delete(key).await.map_err(|e| error::from_store(key, e))?;
    api.state.saw_delete(key);
    Ok(S3Response::new(DeleteObjectOutput::default()))
}

/// `DeleteObjects`: each key deleted in turn; a key that fails is reported
/// in `<Error>` and the others go on. `Quiet` leaves out the successes.
pub async fn delete_many(
    api: &TieredS3,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    api.bucket.check(&req.input.bucket)?;
    let delete = &req.input.delete;
    if delete.objects.len() > 1000 {
        return Err(S3Error::with_message(S3ErrorCode::MalformedXML, "DeleteObjects takes at most 1000 keys."));
    }
    let quiet = delete.quiet.unwrap_or(false);
    let (mut deleted, mut errors) = (Vec::new(), Vec::new());
    for object in &delete.objects {
        let key = object.key.as_str();
        match api.state.store.delete(key).await {
            Ok(_) => {
                api.state.saw_delete(key);
                if !quiet {
                    deleted.push(DeletedObject { key: Some(key.to_string()), ..Default::default() });
                }
            }
            Err(err) => {
                let err = error::from_store(key, err);
                errors.push(s3s::dto::Error {
                    code: Some(err.code().as_str().to_string()),
                    key: Some(key.to_string()),
                    message: err.message().map(str::to_string),
                    version_id: None,
                });
            }
        }
    }
    let output = DeleteObjectsOutput { deleted: Some(deleted), errors: Some(errors), ..Default::default() };
    Ok(S3Response::new(output))
}

/// The conditional headers of a read (of a copy's source too).
#[derive(Debug, Default)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a ETagCondition>,
    pub if_none_match: Option<&'a ETagCondition>,
    pub if_modified_since: Option<&'a Timestamp>,
    pub if_unmodified_since: Option<&'a Timestamp>,
}

impl<'a> Conditions<'a> {
    fn of_get(input: &'a GetObjectInput) -> Self {
        Conditions {
            if_match: input.if_match.as_ref(),
            if_none_match: input.if_none_match.as_ref(),
            if_modified_since: input.if_modified_since.as_ref(),
            if_unmodified_since: input.if_unmodified_since.as_ref(),
        }
    }

    /// `Ok` when the read may be answered with the value of `meta`.
    pub fn check(&self, meta: &ObjectMeta) -> S3Result<()> {
        let etag = meta.client_etag();
        let modified = seconds(meta.created_ms);
        let names = |condition: &ETagCondition| match condition {
            ETagCondition::Any => true,
            ETagCondition::ETag(tag) => tag.value() == etag,
        };
        let failed = |code: S3ErrorCode, message: &'static str| {
            let mut err = S3Error::with_message(code, message);
            if let Ok(value) = http::HeaderValue::from_str(&format!("\"{etag}\"")) {
                let mut headers = http::HeaderMap::new();
                headers.insert(http::header::ETAG, value);
                err.set_headers(headers);
            }
            err
        };
        match (self.if_match, self.if_unmodified_since) {
            (Some(condition), _) if !names(condition) => {
                return Err(failed(S3ErrorCode::PreconditionFailed, "At least one of the preconditions failed."));
            }
            (None, Some(since)) if modified > timestamp_seconds(since) => {
                return Err(failed(S3ErrorCode::PreconditionFailed, "At least one of the preconditions failed."));
            }
            _ => {}
        }
        match (self.if_none_match, self.if_modified_since) {
            (Some(condition), _) if names(condition) => Err(failed(S3ErrorCode::NotModified, "Not Modified")),
            (None, Some(since)) if modified <= timestamp_seconds(since) => {
                Err(failed(S3ErrorCode::NotModified, "Not Modified"))
            }
            _ => Ok(()),
        }
    }
}

/// The headers describing `meta`'s value (all but its length and body).
fn described(meta: &ObjectMeta) -> GetObjectOutput {
    let metadata: Metadata = meta.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    GetObjectOutput {
        accept_ranges: Some("bytes".into()),
        content_type: Some(content_type(meta).to_string()),
        e_tag: Some(ETag::Strong(meta.client_etag())),
        last_modified: Some(last_modified(meta)),
        metadata: (!metadata.is_empty()).then_some(metadata),
        ..Default::default()
    }
}

/// `meta`'s content type, `application/octet-stream` when it has none.
pub fn content_type(meta: &ObjectMeta) -> &str {
    meta.content_type.as_deref().unwrap_or("application/octet-stream")
}

/// When `meta`'s value was written, in whole seconds (HTTP dates have no more).
pub fn last_modified(meta: &ObjectMeta) -> Timestamp {
    Timestamp::from(modified_at(meta))
}

/// [`last_modified`] as a [`SystemTime`].
pub fn modified_at(meta: &ObjectMeta) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds(meta.created_ms) as u64)
}

fn seconds(ms: u64) -> i64 {
    (ms / 1000) as i64
}

fn timestamp_seconds(at: &Timestamp) -> i64 {
    time::OffsetDateTime::from(at.clone()).unix_timestamp()
}

fn with_source<T>(mut response: S3Response<T>, source: TierId) -> S3Response<T> {
    response.headers.insert(SOURCE, http::HeaderValue::from_static(source.as_str()));
    response
}

/// `NoSuchKey` (404).
pub fn no_such_key(key: &str) -> S3Error {
    let _ = key;
    S3Error::with_message(S3ErrorCode::NoSuchKey, "The specified key does not exist.")
}

/// `InvalidRange` (416), with `Content-Range: bytes */<length>`.
fn invalid_range(total: u64) -> S3Error {
    let mut err = S3Error::with_message(S3ErrorCode::InvalidRange, "The requested range is not satisfiable");
    if let Ok(value) = http::HeaderValue::from_str(&format!("bytes */{total}")) {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::CONTENT_RANGE, value);
        err.set_headers(headers);
    }
    err
}

/// s3s's parsed `Range` as the engine's.
fn byte_range(range: Range) -> ByteRange {
    match range {
        Range::Int { first, last: Some(last) } => ByteRange::FromTo { first, last },
        Range::Int { first, last: None } => ByteRange::From { first },
        Range::Suffix { length } => ByteRange::Suffix { len: length },
    }
}

/// The engine's body stream (`Send`) as s3s wants it (`Send + Sync`): only
/// the response writer ever polls it, so the wrapper's exclusive access is
/// free.
struct SyncBody(sync_wrapper::SyncWrapper<BoxStream<'static, Result<Bytes, tiered::error::Error>>>);

impl SyncBody {
    fn new(body: BoxStream<'static, Result<Bytes, tiered::error::Error>>) -> Self {
        SyncBody(sync_wrapper::SyncWrapper::new(body))
    }
}

impl Stream for SyncBody {
    type Item = Result<Bytes, tiered::error::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(self.get_mut().0.get_mut()).poll_next(cx)
    }
}
