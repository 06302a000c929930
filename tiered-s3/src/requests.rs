//! Counting and timing the HTTP requests the S3 tier sends, by kind.
//!
//! An SDK interceptor sees every attempt just before it is transmitted
//! (retries included), so the counts are what the bucket's bill and request
//! logs would show. The attempts that were retries of an operation (the
//! SDK's retry after throttling, a 5xx or no answer) are also counted on
//! their own, so the operations the tier asked for are the attempts less
//! the retries. They back the live tests' request-count assertions
//! ("100 concurrent reads → one GET") and are available to operators through
//! [`S3Tier::requests`](crate::S3Tier::requests).
//!
//! Each attempt is also timed, from just before it is sent to the end of the
//! attempt (the response's headers; a streamed body is not included), and
//! recorded through the [`metrics`] facade as the histogram
//! [`REQUEST_SECONDS`](crate::REQUEST_SECONDS), labelled `operation` (the
//! kinds of [`RequestCounts`]) and `outcome` (`2xx`, `3xx`, `4xx`, `5xx`, or
//! `error` when no response came: a timeout, a refused connection), and
//! logged as a debug event `s3 request`, which lands in the span of the
//! request that caused it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use aws_sdk_s3::config::interceptors::{BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use serde::Serialize;

/// Requests sent so far, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// GetObject, conditional ones included.
    pub get: u64,
    pub head: u64,
    /// PutObject and UploadPart.
    pub put: u64,
    /// CopyObject (metadata rewrites).
    pub copy: u64,
    pub list: u64,
    /// DeleteObject and DeleteObjects.
    pub delete: u64,
    /// Create, complete and abort of multipart uploads.
    pub multipart: u64,
    /// Of the attempts above, those that retried an operation after its
    /// earlier attempt failed.
    pub retried: u64,
}

impl RequestCounts {
    /// The requests sent since `earlier` (a snapshot of the same counter).
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        let d = |now: u64, then: u64| now.saturating_sub(then);
        RequestCounts {
            get: d(self.get, earlier.get),
            head: d(self.head, earlier.head),
            put: d(self.put, earlier.put),
            copy: d(self.copy, earlier.copy),
            list: d(self.list, earlier.list),
            delete: d(self.delete, earlier.delete),
            multipart: d(self.multipart, earlier.multipart),
            retried: d(self.retried, earlier.retried),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    get: AtomicU64,
    head: AtomicU64,
    put: AtomicU64,
    copy: AtomicU64,
    list: AtomicU64,
    delete: AtomicU64,
    multipart: AtomicU64,
    retried: AtomicU64,
}

/// The interceptor; clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter {
    counts: Arc<Counters>,
}

impl RequestCounter {
    pub fn snapshot(&self) -> RequestCounts {
        let c = &self.counts;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        RequestCounts {
            get: load(&c.get),
            head: load(&c.head),
            put: load(&c.put),
            copy: load(&c.copy),
            list: load(&c.list),
            delete: load(&c.delete),
            multipart: load(&c.multipart),
            retried: load(&c.retried),
        }
    }

    fn counter(&self, kind: Kind) -> &AtomicU64 {
        let c = &self.counts;
        match kind {
            Kind::Get => &c.get,
            Kind::Head => &c.head,
            Kind::Put => &c.put,
            Kind::Copy => &c.copy,
            Kind::List => &c.list,
            Kind::Delete => &c.delete,
            Kind::Multipart => &c.multipart,
        }
    }
}

/// A request's kind, as [`RequestCounts`] counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Get,
    Head,
    Put,
    Copy,
    List,
    Delete,
    Multipart,
}

impl Kind {
    fn of(method: &str, uri: &str, is_copy: bool) -> Kind {
        let query = uri.split_once('?').map_or("", |(_, q)| q);
        let has = |param: &str| query.split('&').any(|p| p == param || p.starts_with(&format!("{param}=")));
        match method {
            "HEAD" => Kind::Head,
            "GET" if has("list-type") => Kind::List,
            "GET" => Kind::Get,
            "PUT" if is_copy => Kind::Copy,
            "PUT" => Kind::Put,
            "POST" if has("delete") => Kind::Delete,
            "POST" | "DELETE" if has("uploads") || has("uploadId") => Kind::Multipart,
            "DELETE" => Kind::Delete,
            _ => Kind::Multipart,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Get => "get",
            Kind::Head => "head",
            Kind::Put => "put",
            Kind::Copy => "copy",
            Kind::List => "list",
            Kind::Delete => "delete",
            Kind::Multipart => "multipart",
        }
    }
}

/// The attempt in flight: when it was sent, and what it is.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    sent: Instant,
    kind: Kind,
}

impl Storable for Attempt {
    type Storer = StoreReplace<Self>;
}

/// An operation whose first attempt was sent: kept in the operation's
/// interceptor state across its attempts, so a later one is known a retry.
#[derive(Clone, Copy, Debug)]
struct Sent;

impl Storable for Sent {
    type Storer = StoreReplace<Self>;
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "tiered-request-counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let is_copy = request.headers().contains_key("x-amz-copy-source");
        let kind = Kind::of(request.method(), request.uri(), is_copy);
        self.counter(kind).fetch_add(1, Ordering::Relaxed);
        if cfg.load::<Sent>().is_some() {
            self.counts.retried.fetch_add(1, Ordering::Relaxed);
        }
        cfg.interceptor_state().store_put(Sent);
        cfg.interceptor_state().store_put(Attempt { sent: Instant::now(), kind });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Only attempts that were sent; taken, so a later attempt that fails
        // before it is sent is not timed against this one's start.
        let Some(attempt) = cfg.load::<Attempt>().copied() else { return Ok(()) };
        cfg.interceptor_state().unset::<Attempt>();
        let outcome = match context.inner().response().map(|r| r.status().as_u16() / 100) {
            Some(2) => "2xx",
            Some(3) => "3xx",
            Some(4) => "4xx",
            Some(_) => "5xx",
            None => "error",
        };
        let seconds = attempt.sent.elapsed().as_secs_f64();
        let operation = attempt.kind.as_str();
        metrics::histogram!(crate::REQUEST_SECONDS, "operation" => operation, "outcome" => outcome).record(seconds);
        // In the span of whatever caused it (the service's request span).
        tracing::debug!(operation, outcome, seconds, "s3 request");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_classified_by_method_and_query() {
        let c = RequestCounter::default();
        let cases = [
            ("GET", "http://h/b/k", false),
            ("GET", "http://h/b?list-type=2&prefix=a", false),
            ("HEAD", "http://h/b/k", false),
            ("PUT", "http://h/b/k", false),
            ("PUT", "http://h/b/k?partNumber=1&uploadId=x", false),
            ("PUT", "http://h/b/k", true),
            ("POST", "http://h/b?delete", false),
            ("POST", "http://h/b/k?uploads", false),
            ("POST", "http://h/b/k?uploadId=x", false),
            ("DELETE", "http://h/b/k?uploadId=x", false),
            ("DELETE", "http://h/b/k", false),
        ];
        for (method, uri, copy) in cases {
            c.counter(Kind::of(method, uri, copy)).fetch_add(1, Ordering::Relaxed);
        }
        let expected = RequestCounts { get: 1, head: 1, put: 2, copy: 1, list: 1, delete: 2, multipart: 3, retried: 0 };
        assert_eq!(c.snapshot(), expected);
    }
}
