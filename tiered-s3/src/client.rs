//! The seam between the S3 tier and the network: [`ObjectClient`], the S3
//! operations the tier uses, on one bucket, in the tier's own types.
//!
//! The tier's logic (what a 404 or a 304 means, aborting a failed multipart
//! upload, paging a listing, verifying a body, mapping errors) sits above this
//! trait and is the same whichever client is below it:
//! - `SdkClient` (`sdk.rs`): `aws-sdk-s3`, what [`S3Tier::connect`] builds;
//! - `mock::MockClient` (feature `mock`): an in-memory bucket;
//! - `failure::FailureClient` (feature `mock`): wraps a client and injects
//!   the failures a real server produces (errors, 503 SlowDown, timeouts,
//!   truncated bodies), so the tier's error paths run in every `cargo test`.
//!
//! Keys here are bucket keys: the tier's prefix is already applied.
//!
//! [`S3Tier::connect`]: crate::S3Tier::connect

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

/// What an object's HEAD (or the head of its GET) says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectHead {
    pub content_type: Option<String>,
    /// User metadata (`x-amz-meta-*`), names without the prefix.
    pub metadata: BTreeMap<String, String>,
    /// As the server sends it (quoted).
    pub etag: Option<String>,
    pub content_length: Option<u64>,
    /// Last-Modified, ms since the Unix epoch.
    pub last_modified_ms: Option<u64>,
}

/// The body of a GetObject, chunk by chunk as the network delivers it.
pub type BodyStream = BoxStream<'static, Result<Bytes, ClientError>>;

/// A GetObject answered with the object.
pub struct GetReply {
    pub head: ObjectHead,
    pub body: BodyStream,
}

impl fmt::Debug for GetReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetReply").field("head", &self.head).finish_non_exhaustive()
    }
}

/// A ranged GetObject answered with part of the object.
pub struct RangeReply {
    /// The object's head; `content_length` is the whole object's size (from
    /// `Content-Range`).
    pub head: ObjectHead,
    /// Where the body's bytes sit in the object (end exclusive).
    pub range: Range<u64>,
    pub body: BodyStream,
}

impl fmt::Debug for RangeReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RangeReply").field("head", &self.head).field("range", &self.range).finish_non_exhaustive()
    }
}

/// A `Content-Range` value of a 206 (`bytes first-last/complete`): the bytes
/// sent (end exclusive) and the object's size. `None` for anything else
/// (`bytes */complete`, an unknown size, garbage).
pub fn parse_content_range(value: &str) -> Option<(Range<u64>, u64)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (span, complete) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let (first, last, complete): (u64, u64, u64) =
        (first.trim().parse().ok()?, last.trim().parse().ok()?, complete.trim().parse().ok()?);
    (first <= last && last < complete).then_some((first..last + 1, complete))
}

/// What PutObject, CopyObject or CompleteMultipartUpload stores.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutHead {
    pub content_type: Option<String>,
    /// `Content-Encoding` (`gzip` for an object stored compressed).
    pub content_encoding: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// What one ListObjectsV2 request asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRequest<'a> {
    pub prefix: &'a str,
    /// Fold keys into common prefixes at this string.
    pub delimiter: Option<&'a str>,
    /// Start after this key (ignored by S3 with a continuation token).
    pub start_after: Option<&'a str>,
    /// The previous page's `next_token`.
    pub token: Option<String>,
    /// The most keys and common prefixes together (S3: 1000 when absent, and
    /// at most).
    pub max_keys: Option<i32>,
}

/// One page of ListObjectsV2, in key order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    pub keys: Vec<String>,
    /// With a delimiter: the common prefixes of this page.
    pub prefixes: Vec<String>,
    /// Set when more keys follow; pass it back for the next page.
    pub next_token: Option<String>,
}

/// A key DeleteObjects could not delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteFailure {
    pub key: String,
    pub code: String,
    pub message: String,
}

impl DeleteFailure {
    /// Worth asking again: S3 answers a DeleteObjects with 200 and an error
    /// per key it could not delete, so the SDK's retry never sees these
    /// (Garage answers `ServiceUnavailable` when its metadata store is busy).
    pub fn is_transient(&self) -> bool {
        transient_code(&self.code)
    }
}

/// S3's error codes for a server that is busy or briefly failing, whatever
/// the HTTP status they come with (`RequestTimeout` comes with 400).
fn transient_code(code: &str) -> bool {
    matches!(
        code,
        "InternalError" | "ServiceUnavailable" | "SlowDown" | "RequestTimeout" | "Throttling" | "ThrottlingException"
    )
}

/// What DeleteObjects did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteReply {
    pub deleted: u64,
    pub failed: Vec<DeleteFailure>,
}

/// A request that failed: S3's HTTP status, code and message when the server
/// answered, or why no answer came.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{code}: {message}{}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct ClientError {
    /// `None`: no answer (timeout, connection failure).
    pub status: Option<u16>,
    /// S3's error code (`NoSuchKey`, `SlowDown`, ...) or, without an answer,
    /// `Timeout` / `DispatchFailure`.
    pub code: String,
    pub message: String,
    #[source]
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl ClientError {
    /// An error the server answered with.
    pub fn status(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ClientError { status: Some(status), code: code.into(), message: message.into(), source: None }
    }

    /// No answer: the request timed out.
    pub fn timeout(message: impl Into<String>) -> Self {
        ClientError { status: None, code: "Timeout".into(), message: message.into(), source: None }
    }

    /// No answer: the request could not be sent or the connection broke.
    pub fn dispatch(message: impl Into<String>) -> Self {
        ClientError { status: None, code: "DispatchFailure".into(), message: message.into(), source: None }
    }

    /// The object (or upload) does not exist. A missing bucket is not a
    /// missing object: a GET names it (`NoSuchBucket`), and reading it as a
    /// miss would answer every read of a deleted bucket with "no such
    /// object" instead of an error. (A HEAD's 404 has no body to tell the
    /// two apart; S3 answers `NotFound` for both.)
    pub fn is_not_found(&self) -> bool {
        if self.code == "NoSuchBucket" {
            return false;
        }
        self.status == Some(404) || self.code == "NoSuchKey" || self.code == "NotFound"
    }

    /// The multipart upload named is not open (completed, aborted, or never
    /// begun).
    pub fn is_no_such_upload(&self) -> bool {
        self.code == "NoSuchUpload"
    }

    /// An `If-None-Match` condition held: the caller's version is current.
    pub fn is_not_modified(&self) -> bool {
        self.status == Some(304)
    }

    /// A `Range` that names no byte of the object (416 `InvalidRange`).
    pub fn is_unsatisfiable_range(&self) -> bool {
        self.status == Some(416) || self.code == "InvalidRange"
    }

    /// Worth retrying later: throttling, a server error, a timeout or no
    /// answer.
    pub fn is_transient(&self) -> bool {
        match self.status {
            None => true,
            Some(s) => s >= 500 || s == 429 || transient_code(&self.code),
        }
    }
}

/// The S3 operations the tier uses, on one bucket.
#[async_trait]
pub trait ObjectClient: Send + Sync + fmt::Debug + 'static {
    /// The bucket exists and the credentials may use it.
    async fn head_bucket(&self) -> Result<(), ClientError>;

    async fn head_object(&self, key: &str) -> Result<ObjectHead, ClientError>;

    /// The object; with `if_none_match` (an ETag, quoted), a 304 error when
    /// the object still has it.
    async fn get_object(&self, key: &str, if_none_match: Option<&str>) -> Result<GetReply, ClientError>;

    /// Part of the object: `range` is a `Range` value (`bytes=0-9`,
    /// `bytes=5-`, `bytes=-3`); a 416 error when it names no byte of it.
    async fn get_object_range(&self, key: &str, range: &str) -> Result<RangeReply, ClientError>;

    /// Stores `body`; the new ETag.
    async fn put_object(&self, key: &str, head: PutHead, body: Bytes) -> Result<Option<String>, ClientError>;

    /// Starts a multipart upload; its id.
    async fn create_multipart_upload(&self, key: &str, head: PutHead) -> Result<String, ClientError>;

    /// Uploads part `number` (from 1); the part's ETag.
    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: Bytes,
    ) -> Result<Option<String>, ClientError>;

    /// Assembles the parts `(number, etag)`; the object's ETag.
    async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<(i32, Option<String>)>,
    ) -> Result<Option<String>, ClientError>;

    async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> Result<(), ClientError>;

    /// Rewrites an object's content type and metadata with a server-side copy
    /// onto itself, only if its ETag is still `if_match` (quoted); the new ETag.
    async fn replace_metadata(
        &self,
        key: &str,
        head: PutHead,
        if_match: Option<&str>,
    ) -> Result<Option<String>, ClientError>;

    async fn delete_object(&self, key: &str) -> Result<(), ClientError>;

    /// One page of the keys (and common prefixes) under `request.prefix`, in
    /// key order.
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, ClientError>;

    /// Deletes up to 1000 keys in one request.
    async fn delete_objects(&self, keys: &[String]) -> Result<DeleteReply, ClientError>;
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn content_range_of_a_partial_reply() {
        assert_eq!(parse_content_range("bytes 0-9/100"), Some((0..10, 100)));
        assert_eq!(parse_content_range("bytes 99-99/100"), Some((99..100, 100)));
        for bad in ["bytes */100", "bytes 0-9/*", "bytes 5-2/100", "bytes 0-100/100", "items 0-1/2", ""] {
            assert_eq!(parse_content_range(bad), None, "{bad:?}");
        }
    }
}
