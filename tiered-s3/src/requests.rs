//! Counting the HTTP requests the S3 tier sends, by kind.
//!
//! An SDK interceptor sees every attempt just before it is transmitted
//! (retries included), so the counts are what the bucket's bill and request
//! logs would show. They back the live tests' request-count assertions
//! ("100 concurrent reads → one GET") and are available to operators through
//! [`S3Tier::requests`](crate::S3Tier::requests).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
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
        }
    }

    fn counter(&self, method: &str, uri: &str, is_copy: bool) -> &AtomicU64 {
        let query = uri.split_once('?').map_or("", |(_, q)| q);
        let has = |param: &str| query.split('&').any(|p| p == param || p.starts_with(&format!("{param}=")));
        let c = &self.counts;
        match method {
            "HEAD" => &c.head,
            "GET" if has("list-type") => &c.list,
            "GET" => &c.get,
            "PUT" if is_copy => &c.copy,
            "PUT" => &c.put,
            "POST" if has("delete") => &c.delete,
            "POST" | "DELETE" if has("uploads") || has("uploadId") => &c.multipart,
            "DELETE" => &c.delete,
            _ => &c.multipart,
        }
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "tiered-request-counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let is_copy = request.headers().contains_key("x-amz-copy-source");
        self.counter(request.method(), request.uri(), is_copy).fetch_add(1, Ordering::Relaxed);
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
            c.counter(method, uri, copy).fetch_add(1, Ordering::Relaxed);
        }
        let expected = RequestCounts { get: 1, head: 1, put: 2, copy: 1, list: 1, delete: 2, multipart: 3 };
        assert_eq!(c.snapshot(), expected);
    }
}
