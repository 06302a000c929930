//! Reading objects with `GetObject`: whole ([`get`]), or whole up to the
//! caller's buffer and streamed above it ([`get_stream`]), either of them only
//! if the ETag changed ([`get_if_changed`]), or a range of one ([`get_range`]).
//!
//! Each sends one request: the response's `Content-Length` decides whether
//! the body is read whole (at most `buffer_max` bytes, and never more than the
//! tier's `max_object_bytes`, as [`S3Tier::get`] would) or handed on as a
//! stream, the body forwarded chunk by chunk instead of collected. The sha256
//! recorded in the object's metadata is computed over the chunks as they pass
//! and checked at the end ([`verify_at_end`]): a mismatch ends the stream
//! with `Corrupt`. An object written by another tool carries no checksum and
//! is passed through as S3 sends it.
//!
//! A body that breaks off or ends short of its `Content-Length` (a connection
//! reset half-way) is read again: the SDK retries a request until its
//! answer's headers, never a body that fails after them. A body read whole is
//! asked for again whole ([`again_if_broken`]); a streamed one or a range,
//! whose first bytes are already on their way, goes on from the first byte
//! missing with a ranged GetObject, as long as the object keeps the ETag it
//! began with ([`Resumed`]). Either way at most [`S3Config::max_attempts`]
//! GetObject operations (each with the SDK's own retry), with backoff; past
//! them the read fails with `Unavailable`, as it did at once before.
//!
//! A range's bytes are forwarded as they arrive and their count checked:
//! they cannot be checked against the sha256 of the whole object, so a range
//! from S3 is what S3 sends (over TLS in production); the cache tiers check
//! theirs chunk by chunk.
//!
//! [`S3Config::max_attempts`]: crate::S3Config::max_attempts

use std::ops::Range;
use std::sync::Arc;

use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::backoff::backoff;
use crate::client::{BodyStream, GetReply, ObjectClient, ObjectHead, RangeReply};
use crate::{S3Tier, errors, meta};
use tiered::error::{TierError, TierErrorKind};
use tiered::object::Object;
use tiered::range::ByteRange;
use tiered::store::stream::{ChunkStream, Fetched, ObjectStream, RangeRead, cut, verify_at_end};
use tiered::store::{Conditional, Tier};

/// Why the read of a GetObject's answer failed.
enum ReadFailure {
    /// The body broke off or ended short: asking again may well work.
    Broken(TierError),
    /// Anything else: the object's answer, as it is.
    Failed(TierError),
}

impl From<TierError> for ReadFailure {
    fn from(err: TierError) -> Self {
        ReadFailure::Failed(err)
    }
}

/// `read` (one GetObject and the reading of its answer), sent again while
/// the answer's body breaks off, up to `max_attempts` in all, with backoff.
async fn again_if_broken<T, F>(tier: &S3Tier, key: &str, mut read: impl FnMut() -> F) -> Result<T, TierError>
where
    F: Future<Output = Result<T, ReadFailure>>,
{
    let attempts = tier.config.max_attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match read().await {
            Ok(read) => return Ok(read),
            Err(ReadFailure::Failed(err)) => return Err(err),
            Err(ReadFailure::Broken(err)) if attempt >= attempts => return Err(err),
            Err(ReadFailure::Broken(err)) => {
                tracing::debug!(key, attempt, %err, "GetObject: the body broke off, asking again");
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
    }
}

/// The object read whole.
pub(super) async fn get(tier: &S3Tier, key: &str) -> Result<Option<Object>, TierError> {
    again_if_broken(tier, key, || async {
        match tier.client.get_object(&tier.object_key(key), None).await {
            Ok(reply) => read_whole_bounded(tier, key, reply).await.map(Some),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(errors::convert("GetObject", key, err).into()),
        }
    })
    .await
}

/// The object, whole up to `buffer_max` bytes, else as a verified stream.
pub(super) async fn get_stream(tier: &S3Tier, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
    again_if_broken(tier, key, || async {
        match tier.client.get_object(&tier.object_key(key), None).await {
            Ok(reply) => fetched(tier, key, reply, buffer_max).await.map(Some),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(errors::convert("GetObject", key, err).into()),
        }
    })
    .await
}

/// [`get_stream`], unless S3 still holds `etag` (a 304: `NotModified`).
pub(super) async fn get_if_changed(
    tier: &S3Tier,
    key: &str,
    etag: &str,
    buffer_max: u64,
) -> Result<Conditional, TierError> {
    again_if_broken(tier, key, || async {
        match tier.client.get_object(&tier.object_key(key), Some(&meta::quoted(etag))).await {
            Ok(reply) => fetched(tier, key, reply, buffer_max).await.map(|f| Conditional::Changed(Some(f))),
            Err(err) if err.is_not_modified() => Ok(Conditional::NotModified),
            Err(err) if err.is_not_found() => Ok(Conditional::Changed(None)),
            Err(err) => Err(errors::convert("GetObject", key, err).into()),
        }
    })
    .await
}

/// Bytes `range` of the object, with one ranged GetObject; a range that names
/// no byte of it (a 416) is answered from a HeadObject, for its size.
pub(super) async fn get_range(tier: &S3Tier, key: &str, range: ByteRange) -> Result<Option<RangeRead>, TierError> {
    match tier.client.get_object_range(&tier.object_key(key), &range.header_value()).await {
        Ok(reply) => ranged(tier, key, range, reply).map(Some),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) if err.is_unsatisfiable_range() => Ok(tier.head(key).await?.map(RangeRead::unsatisfiable)),
        Err(err) => Err(errors::convert("GetObject", key, err)),
    }
}

/// A ranged reply as the bytes `range` names, resolved against the object's
/// size as the reply gives it (a server that sent more is cut to it).
fn ranged(tier: &S3Tier, key: &str, range: ByteRange, reply: RangeReply) -> Result<RangeRead, TierError> {
    let meta = Arc::new(
        meta::describe(key, &reply.head).map_err(|m| TierError::corrupt("s3", format!("object {key:?}: {m}")))?,
    );
    let Some(span) = range.resolve(meta.size) else { return Ok(RangeRead::unsatisfiable(meta)) };
    let sent = reply.range.clone();
    if span.start < sent.start || sent.end < span.end {
        let message =
            format!("GetObject {key:?} ({}): the reply holds bytes {sent:?}, not {span:?}", range.header_value());
        return Err(TierError::new(TierErrorKind::Unavailable, "s3", message));
    }
    let body = Resumed::new(tier, key, &reply.head, sent.clone(), reply.body).stream();
    let chunks = no_more_than(key, sent.end - sent.start, body);
    let chunks = if sent == span { chunks } else { cut(chunks, span.start - sent.start..span.end - sent.start) };
    Ok(RangeRead { meta, range: Some(span), chunks })
}

/// `chunks`, ended with `Unavailable` once they hold more than the `len`
/// bytes announced (one that ends short ends with its own error:
/// [`Resumed`]).
fn no_more_than(key: &str, len: u64, chunks: ChunkStream) -> ChunkStream {
    let key = key.to_string();
    // Bytes so far; `None` once over, which ends the stream.
    chunks
        .scan(Some(0u64), move |got, chunk| {
            let item = match (got.as_mut(), chunk) {
                (None, _) => None,
                (Some(_), Err(err)) => Some(Err(err)),
                (Some(so_far), Ok(chunk)) => {
                    *so_far += chunk.len() as u64;
                    if *so_far > len {
                        *got = None;
                        let message = format!("GetObject {key:?}: body: more than the {len} bytes announced");
                        Some(Err(TierError::new(TierErrorKind::Unavailable, "s3", message)))
                    } else {
                        Some(Ok(chunk))
                    }
                }
            };
            futures::future::ready(item)
        })
        .boxed()
}

/// [`read_whole`], refusing an object larger than the tier reads whole.
async fn read_whole_bounded(tier: &S3Tier, key: &str, reply: GetReply) -> Result<Object, ReadFailure> {
    if let Some(len) = reply.head.content_length.filter(|&l| l > tier.config.max_object_bytes) {
        let limit = tier.config.max_object_bytes;
        let message = format!("GetObject {key:?}: the object is {len} bytes; objects of at most {limit} are read");
        return Err(TierError::new(TierErrorKind::Rejected, "s3", message).into());
    }
    read_whole(key, reply).await
}

/// A reply's body: read whole if its length is known and at most
/// `buffer_max`, else handed on as a verified stream that goes on from
/// where it broke off ([`Resumed`]).
async fn fetched(tier: &S3Tier, key: &str, reply: GetReply, buffer_max: u64) -> Result<Fetched, ReadFailure> {
    let streamed = reply.head.content_length.is_none_or(|l| l > buffer_max);
    if !streamed {
        return read_whole_bounded(tier, key, reply).await.map(Fetched::Whole);
    }
    let meta = describe(key, &reply)?;
    let span = reply.head.content_length.map_or(0..u64::MAX, |len| 0..len);
    let resumed = Resumed::new(tier, key, &reply.head, span, reply.body);
    let chunks = resumed.stream();
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
    Ok(Fetched::Stream(ObjectStream { meta: Arc::new(meta), chunks }))
}

/// A streamed GetObject body (a whole object's, or a range's) that goes on
/// from where it broke off: when it breaks, or ends short of the bytes its
/// answer announced, the rest is asked for with a ranged GetObject from the
/// first byte missing. The bytes already passed on are the object's only
/// while it keeps its ETag: an answer with another ETag (a writer replaced
/// the object meanwhile) ends the stream with an error, never a body spliced
/// from two versions. A body of unknown length or with no ETag is not
/// resumed, nor is one that fails after its last byte.
struct Resumed {
    client: Arc<dyn ObjectClient>,
    key: String,
    s3_key: String,
    etag: Option<String>,
    /// The bytes of the object the body holds (end `u64::MAX`: unknown).
    span: Range<u64>,
    /// Bytes passed on.
    got: u64,
    /// GetObject operations so far (the first included).
    attempt: u32,
    attempts: u32,
    /// `None` once ended.
    body: Option<BodyStream>,
}

impl Resumed {
    fn new(tier: &S3Tier, key: &str, head: &ObjectHead, span: Range<u64>, body: BodyStream) -> Resumed {
        Resumed {
            client: Arc::clone(&tier.client),
            key: key.to_string(),
            s3_key: tier.object_key(key),
            etag: head.etag.clone(),
            span,
            got: 0,
            attempt: 1,
            attempts: tier.config.max_attempts.max(1),
            body: Some(body),
        }
    }

    /// Bytes the answer announced.
    fn len(&self) -> Option<u64> {
        (self.span.end != u64::MAX).then(|| self.span.end - self.span.start)
    }

    fn stream(self) -> ChunkStream {
        futures::stream::unfold(self, |mut state| async move {
            loop {
                let body = state.body.as_mut()?;
                let broke = match body.next().await {
                    Some(Ok(chunk)) => {
                        state.got += chunk.len() as u64;
                        return Some((Ok(chunk), state));
                    }
                    Some(Err(err)) => err.to_string(),
                    None => match state.len() {
                        Some(len) if state.got < len => format!("{} of {len} bytes arrived", state.got),
                        _ => return None,
                    },
                };
                match state.resume(&broke).await {
                    Ok(body) => state.body = Some(body),
                    Err(err) => {
                        state.body = None;
                        return Some((Err(err), state));
                    }
                }
            }
        })
        .boxed()
    }

    /// The rest of the body after it broke off with `broke`.
    async fn resume(&mut self, broke: &str) -> Result<BodyStream, TierError> {
        let key = &self.key;
        let unavailable =
            |m: String| TierError::new(TierErrorKind::Unavailable, "s3", format!("GetObject {key:?}: {m}"));
        let (Some(etag), Some(len)) = (&self.etag, self.len()) else {
            return Err(unavailable(format!("body: {broke}")));
        };
        if self.got >= len {
            // Every byte is in: nothing to ask for.
            return Err(unavailable(format!("body: {broke}")));
        }
        if self.attempt >= self.attempts {
            let attempts = self.attempts;
            return Err(unavailable(format!("body: {broke} (after {attempts} requests)")));
        }
        let from = self.span.start + self.got;
        tracing::debug!(key, from, attempt = self.attempt, broke, "GetObject: the body broke off, reading on");
        tokio::time::sleep(backoff(self.attempt)).await;
        self.attempt += 1;
        let range = format!("bytes={from}-{}", self.span.end - 1);
        let reply = self
            .client
            .get_object_range(&self.s3_key, &range)
            .await
            .map_err(|e| unavailable(format!("body: {broke}; reading on from byte {from}: {e}")))?;
        if reply.head.etag.as_ref() != Some(etag) {
            let now = reply.head.etag.as_deref().unwrap_or("none");
            return Err(unavailable(format!(
                "body: {broke}; the object changed before the rest could be read (ETag {etag} became {now})"
            )));
        }
        if reply.range != (from..self.span.end) {
            let sent = reply.range;
            return Err(unavailable(format!("body: {broke}; asked for {range}, the reply holds bytes {sent:?}")));
        }
        Ok(reply.body)
    }
}

fn describe(key: &str, reply: &GetReply) -> Result<tiered::object::ObjectMeta, TierError> {
    meta::describe(key, &reply.head).map_err(|m| TierError::corrupt("s3", format!("object {key:?}: {m}")))
}

/// The object of a GET, its body read whole and checked against the sha256
/// recorded when it was written (`Corrupt` if it differs). An object another
/// tool wrote carries no checksum: its bytes, as received, are the object. A
/// body that ends before its `Content-Length` is an error, never a shorter
/// object.
async fn read_whole(key: &str, reply: GetReply) -> Result<Object, ReadFailure> {
    let mut meta = describe(key, &reply)?;
    let length = reply.head.content_length;
    let data = read_body(key, length, reply.body).await.map_err(ReadFailure::Broken)?;
    if meta.checksum.is_empty() {
        meta.checksum = tiered::object::checksum(&data);
        meta.size = data.len() as u64;
        meta.original_size = meta.size;
    }
    let object = Object::new(meta, data);
    if !object.verify() {
        return Err(
            TierError::corrupt("s3", format!("object {key:?}: bytes do not match the recorded checksum")).into()
        );
    }
    Ok(object)
}

/// The body, into one buffer sized from `Content-Length` (no second copy).
async fn read_body(key: &str, length: Option<u64>, mut body: BodyStream) -> Result<bytes::Bytes, TierError> {
    let mut buffer = bytes::BytesMut::with_capacity(length.and_then(|l| usize::try_from(l).ok()).unwrap_or(0));
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|e| TierError::new(TierErrorKind::Unavailable, "s3", format!("GetObject {key:?}: body: {e}")))?;
        buffer.extend_from_slice(&chunk);
    }
    if let Some(expected) = length.filter(|&l| l != buffer.len() as u64) {
        let message = format!("GetObject {key:?}: body: {} of {expected} bytes arrived", buffer.len());
        return Err(TierError::new(TierErrorKind::Unavailable, "s3", message));
    }
    Ok(buffer.freeze())
}
