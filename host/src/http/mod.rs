//! The HTTP service: routes translate HTTP to [`TieredStore`](tiered::TieredStore)
//! calls and nothing more.
//!
//! - [`router`] (this file): the route table, the body limit, the JSON 404 /
//!   405 fallbacks and the request log; [`front`]: the service in front of
//!   it, which sends a plain object read (no body) straight to its handler.
//! - [`objects`]: `PUT/GET/HEAD/DELETE /v1/objects/{key}`; [`list`]:
//!   `GET /v1/objects`.
//! - [`admin`]: invalidate, touch, bootstrap; [`policy`]: `GET/PUT /v1/policy`;
//!   [`shadow`]: `/v1/policy/shadow`, a candidate policy beside the live one
//!   ([`crate::shadow`]); [`trace`]: `/v1/trace`, access-trace capture
//!   ([`crate::trace`]).
//! - [`stats`]: `/v1/stats`, `/metrics`, `/healthz`; [`metrics`]: the
//!   Prometheus recorder and the per-request latency histogram.
//! - [`extract`]: keys from paths, the admin check, bodies within the limit;
//!   [`upload`]: object PUT bodies, buffered when small, spooled when large.
//! - [`timeout`]: the request-body idle timeout (408 for a stalled upload).
//! - [`error`]: the one mapping of failures to status codes and JSON bodies.
//! - [`state`]: what handlers share; [`service`]: building it from a
//!   [`Config`](crate::config::Config), binding, serving, graceful shutdown.
//!
//! **Large objects stream.** An object PUT whose body is larger than
//! `stream_above_bytes` (default 8 MiB), or of unknown length, is spooled to
//! a file (up to `max_object_bytes`, 413 beyond) and stored from it; a GET of
//! an object above that size is sent in chunks from the warm file, the local
//! cold file or the S3 response. Smaller bodies, and every other route's
//! bodies (up to `max_body_bytes`), are buffered whole.

pub mod admin;
pub mod error;
pub mod extract;
pub mod front;
pub mod list;
pub mod metrics;
pub mod objects;
pub mod policy;
pub mod service;
pub mod shadow;
pub mod state;
pub mod stats;
pub mod timeout;
pub mod trace;
pub mod upload;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

pub use error::ApiError;
pub use front::Front;
pub use service::{Service, StartError};
pub use state::{AppState, PolicyLoader};

/// The route table over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/healthz", get(stats::healthz))
        .route("/metrics", get(stats::metrics))
        .route("/v1/stats", get(stats::stats))
        .route("/v1/objects", get(list::list))
        .route("/v1/objects/", get(empty_key).put(empty_key).delete(empty_key))
        .route("/v1/objects/{*key}", get(objects::get).put(objects::put).delete(objects::delete))
        .route("/v1/touch/{*key}", post(admin::touch))
        .route("/v1/invalidate", post(admin::invalidate))
        .route("/v1/bootstrap/hot", post(admin::bootstrap_hot))
        .route("/v1/bootstrap/warm", post(admin::bootstrap_warm))
        .route("/v1/policy", get(policy::info).put(policy::reload))
        .route("/v1/policy/shadow", get(shadow::report).put(shadow::load).delete(shadow::drop_shadow))
        .route("/v1/policy/shadow/promote", post(shadow::promote))
        .route("/v1/trace", get(trace::status))
        .route("/v1/trace/start", post(trace::start))
        .route("/v1/trace/stop", post(trace::stop))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), timeout::body_idle_timeout))
        .layer(middleware::from_fn_with_state(state.clone(), refuse_declared_oversize))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::observe))
        .with_state(state)
}

/// `/v1/objects/` names no key.
async fn empty_key() -> ApiError {
    ApiError::Key(tiered::KeyError::Empty)
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute(format!("{method} {}", uri.path()))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed { method: method.to_string(), path: uri.path().to_string() }
}

/// A body whose `content-length` is over the limit is refused (413) before
/// any of it is read: the body limit alone stops reading only at the limit,
/// and waits for bytes a client announcing gigabytes may never send. Object
/// PUTs are limited by `max_object_bytes` (they stream), the rest by
/// `max_body_bytes`.
async fn refuse_declared_oversize(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let (limit, setting) = if request.method() == Method::PUT && request.uri().path().starts_with(objects::PREFIX) {
        (state.max_object_bytes, "max_object_bytes")
    } else {
        (state.max_body_bytes as u64, "max_body_bytes")
    };
    let declared = request.headers().get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if declared.and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|n| n > limit) {
        return axum::response::IntoResponse::into_response(ApiError::TooLarge { limit, setting });
    }
    next.run(request).await
}
