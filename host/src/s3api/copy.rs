//! Server-side copies: `CopyObject` (an object of the bucket written again
//! under another key, or the same key with new metadata) and
//! `UploadPartCopy` (a range of one becoming a part of a multipart upload,
//! see [`super::multipart`]). Both read the source through the store as
//! `GetObject` does and write through it as `PutObject` / `UploadPart` do:
//! the copy reaches cold before the answer, as every write does.
//!
//! - **Source**: `x-amz-copy-source` names this endpoint's bucket and a
//!   percent-encoded key; another bucket is `NoSuchBucket`, a version id
//!   `NotImplemented` (the store keeps one version). The
//!   `x-amz-copy-source-if-*` conditions are checked against the source;
//!   any that fails is `412 PreconditionFailed`, as S3 answers them.
//! - **Metadata** (`CopyObject`): `x-amz-metadata-directive: COPY` (the
//!   default) keeps the source's content type and custom metadata;
//!   `REPLACE` takes the request's, as `PutObject` would. Copying an object
//!   onto itself without `REPLACE` is refused (`InvalidRequest`), as on S3.
//!   `x-tiered-ttl` sets the copy's TTL; without it the copy has none.
//! - **Body**: read once; a large one is spooled to a file (its MD5 computed
//!   on the way for a part's ETag), so nothing large is held whole.

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use md5::Digest as _;
use s3s::dto::{CopyObjectInput, CopyObjectOutput, CopyObjectResult, CopySource, ETag, MetadataDirective};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::objects::{self, Conditions};
use super::upload::Received;
use super::{TieredS3, error};
use tiered::engine::{Served, SetOptions};
use tiered::object::ObjectMeta;
use tiered::range::ByteRange;
use tiered::store::SpoolWriter;

/// What a copy read of its source.
#[derive(Debug)]
pub struct Read {
    /// The source's metadata.
    pub meta: ObjectMeta,
    /// The bytes read: the whole value, or the range asked for.
    pub data: Received,
    /// Their MD5 (hex), when asked for.
    pub md5_hex: Option<String>,
}

/// The key `source` names in this endpoint's bucket.
pub fn source_key(api: &TieredS3, source: &CopySource) -> S3Result<String> {
    match source {
        CopySource::Bucket { bucket, key, version_id } => {
            api.bucket.check(bucket)?;
            if version_id.is_some() {
                return Err(S3Error::with_message(
                    S3ErrorCode::NotImplemented,
                    "Copying a version of an object is not supported: the store keeps one version of each key.",
                ));
            }
            Ok(key.to_string())
        }
        _ => Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "Copying through an access point or an outpost is not supported.",
        )),
    }
}

/// Reads `key` (the bytes of `range` only, when given) once `conditions`
/// hold on it (a failed one is `412`), spooling a large body to a file.
pub async fn read_source(
    api: &TieredS3,
    key: &str,
    conditions: Conditions<'_>,
    range: Option<ByteRange>,
    want_md5: bool,
) -> S3Result<Read> {
    let store = &api.state.store;
    let check = |meta: &ObjectMeta| {
        conditions.check(meta).map_err(|err| match err.code() {
            // A copy answers every failed source condition with 412.
            S3ErrorCode::NotModified => {
                S3Error::with_message(S3ErrorCode::PreconditionFailed, "At least one of the preconditions failed.")
            }
            _ => err,
        })
    };
    let (meta, body): (ObjectMeta, Result<Bytes, BoxStream<'static, _>>) = match range {
        Some(range) => {
            let hit = store.get_range(key, range).await.map_err(|e| error::from_store(key, e))?;
            let hit = hit.ok_or_else(|| objects::no_such_key(key))?;
            api.state.saw_get(&hit.meta, hit.source, Some(range));
            check(&hit.meta)?;
            if hit.range.is_none() {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRange,
                    format!("The range names no byte of the {}-byte source object.", hit.total),
                ));
            }
            ((*hit.meta).clone(), Err(hit.body))
        }
        None => {
            let served = store.get_stream(key, api.state.stream_above_bytes).await;
            let served = served.map_err(|e| error::from_store(key, e))?.ok_or_else(|| objects::no_such_key(key))?;
            match served {
                Served::Whole(hit) => {
                    api.state.saw_get(&hit.meta, hit.source, None);
                    check(&hit.meta)?;
                    ((*hit.meta).clone(), Ok(hit.data))
                }
                Served::Stream(stream) => {
                    api.state.saw_get(&stream.meta, stream.source, None);
                    check(&stream.meta)?;
                    ((*stream.meta).clone(), Err(stream.body))
                }
            }
        }
    };
    let mut md5 = want_md5.then(md5::Md5::new);
    let data = match body {
        Ok(bytes) => {
            if let Some(md5) = &mut md5 {
                md5.update(&bytes);
            }
            Received::Buffered(bytes)
        }
        Err(mut body) => {
            let mut spool = SpoolWriter::create(&api.state.spool_dir)
                .await
                .map_err(|e| error::io("cannot create a spool file", e))?;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| error::from_store(key, e))?;
                if let Some(md5) = &mut md5 {
                    md5.update(&chunk);
                }
                spool.write(&chunk).await.map_err(|e| error::io("cannot spool a copy", e))?;
            }
            Received::Spooled(spool.finish().await.map_err(|e| error::io("cannot spool a copy", e))?)
        }
    };
    Ok(Read { meta, data, md5_hex: md5.map(|m| hex::encode(m.finalize())) })
}

/// `CopyObject`.
pub async fn copy(api: &TieredS3, mut req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
    let input = &mut req.input;
    api.bucket.check(&input.bucket)?;
    let source = source_key(api, &input.copy_source)?;
    let key = input.key.clone();
    tiered::key::validate(&key).map_err(|e| error::from_store(&key, e.into()))?;
    let replace = input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    if source == key && !replace {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the \
             object's metadata.",
        ));
    }
    let requested = objects::write_options(&req.headers, input.content_type.take(), input.metadata.take())?;
    let conditions = Conditions {
        if_match: input.copy_source_if_match.as_ref(),
        if_none_match: input.copy_source_if_none_match.as_ref(),
        if_modified_since: input.copy_source_if_modified_since.as_ref(),
        if_unmodified_since: input.copy_source_if_unmodified_since.as_ref(),
    };
    let read = read_source(api, &source, conditions, None, false).await?;
    let options = if replace {
        requested
    } else {
        SetOptions { content_type: read.meta.content_type, metadata: read.meta.metadata, ..requested }
    };
    let outcome = objects::store(api, &key, read.data, options).await?;
    tracing::debug!(%source, %key, size = outcome.size, replace, "S3 API: object copied");
    let written = api.state.store.head(&key).await.ok().flatten().map(|(meta, _)| objects::last_modified(&meta));
    Ok(S3Response::new(CopyObjectOutput {
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(ETag::Strong(outcome.etag)),
            last_modified: written,
            ..Default::default()
        }),
        ..Default::default()
    }))
}

/// `x-amz-copy-source-range`: `bytes=first-last`, the only form S3 takes.
pub fn parse_range(value: &str) -> S3Result<ByteRange> {
    let parsed = value.strip_prefix("bytes=").and_then(|r| r.split_once('-')).and_then(|(first, last)| {
        let (first, last) = (first.parse::<u64>().ok()?, last.parse::<u64>().ok()?);
        (first <= last).then_some(ByteRange::FromTo { first, last })
    });
    parsed.ok_or_else(|| {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the \
             zero-based offsets of the first and last bytes to copy.",
        )
    })
}
