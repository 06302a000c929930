//! The service's front door: a plain object read goes straight to its
//! handler; every other request goes through the [`router`](super::router).
//!
//! A `GET` or `HEAD` of `/v1/objects/{key}` that carries no body is most of
//! a cache's traffic, and the router's middleware is there for requests that
//! do carry one: the body limit, the refusal of an oversized declared length
//! and the body's idle timeout. Each layer costs a boxed future and a clone
//! of the inner service per request, and the extractors copy the request's
//! headers: without them the server answers 1 KiB hot GETs at 1.37 times the
//! rate (BENCHMARKS.md, "Service: 1 KiB hot GETs vs nginx"). The front
//! hands such a read to [`objects::read`], the handler
//! the router's route calls too, inside the same observation
//! ([`metrics::Observation`]): same span, same
//! counters, same histogram, same answer. A request with a body (a declared
//! length above zero, or chunked) takes the router, so the limits apply to it
//! as before.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use futures::future::{BoxFuture, Either};
use tower_service::Service;
use tracing::Instrument;

use super::state::AppState;
use super::{metrics, objects};

/// The HTTP API's service over `state`: object reads direct, the rest
/// through [`super::router`].
#[derive(Clone, Debug)]
pub struct Front {
    router: Router,
    state: Arc<AppState>,
}

impl Front {
    pub fn new(state: Arc<AppState>) -> Front {
        Front { router: super::router(state.clone()), state }
    }
}

impl Service<Request> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<BoxFuture<'static, Result<Response, Infallible>>, <Router as Service<Request>>::Future>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !is_plain_object_read(&request) {
            return Either::Right(self.router.call(request));
        }
        let state = self.state.clone();
        Either::Left(Box::pin(async move {
            let (parts, _) = request.into_parts();
            let observation = metrics::Observation::begin(&state, &parts.method, parts.uri.path());
            let read = objects::read(&state, parts.method, &parts.uri, &parts.headers);
            let response = read.instrument(observation.span().clone()).await;
            Ok(observation.end(response))
        }))
    }
}

/// A `GET` or `HEAD` of a named object, without a body.
fn is_plain_object_read(request: &Request) -> bool {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    let Some(key) = request.uri().path().strip_prefix(objects::PREFIX) else { return false };
    if key.is_empty() {
        return false;
    }
    !carries_body(request.headers())
}

/// Whether a request with `headers` has a body: a declared length above
/// zero, or a transfer coding (chunked).
pub fn carries_body(headers: &HeaderMap) -> bool {
    let no_length = headers.get(header::CONTENT_LENGTH).is_none_or(|v| v.as_bytes() == b"0");
    !no_length || headers.contains_key(header::TRANSFER_ENCODING)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(method: Method, uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn object_reads_without_a_body_skip_the_router() {
        assert!(is_plain_object_read(&request(Method::GET, "/v1/objects/a/b", &[])));
        assert!(is_plain_object_read(&request(Method::HEAD, "/v1/objects/a?x=1", &[])));
        assert!(is_plain_object_read(&request(Method::GET, "/v1/objects/a", &[("content-length", "0")])));
        assert!(is_plain_object_read(&request(Method::GET, "/v1/objects/a", &[("range", "bytes=0-1")])));
    }

    #[test]
    fn everything_else_takes_the_router() {
        assert!(!is_plain_object_read(&request(Method::PUT, "/v1/objects/a", &[])));
        assert!(!is_plain_object_read(&request(Method::DELETE, "/v1/objects/a", &[])));
        assert!(!is_plain_object_read(&request(Method::GET, "/v1/objects/", &[])));
        assert!(!is_plain_object_read(&request(Method::GET, "/v1/objects", &[])));
        assert!(!is_plain_object_read(&request(Method::GET, "/v1/stats", &[])));
        assert!(!is_plain_object_read(&request(Method::GET, "/v1/objectsx/a", &[])));
        assert!(!is_plain_object_read(&request(Method::GET, "/v1/objects/a", &[("content-length", "5")])));
        assert!(!is_plain_object_read(&request(Method::GET, "/v1/objects/a", &[("transfer-encoding", "chunked")])));
    }
}
