//! The one place HTTP status codes are chosen for failures.
//!
//! Every error response has the body `{"error": {"code", "message"}}`: `code`
//! is a stable machine-readable word, `message` a sentence for people (for a
//! bad key, the rule it broke). [`ApiError`] wraps the store's
//! [`tiered::Error`](tiered::Error) and the service's own failures; its
//! [`IntoResponse`] is the mapping.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::shadow::ShadowError;
use crate::trace::CaptureError;
use tiered::error::{Error, KeyError};
use tiered_wasm::PolicyLoadError;

/// A failed request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error(transparent)]
    Store(#[from] Error),
    #[error("invalid key: {0}")]
    Key(#[from] KeyError),
    /// A header, query parameter or body the route cannot use.
    #[error("{0}")]
    BadRequest(String),
    #[error("no object with key {0:?}")]
    NoSuchKey(String),
    #[error("request body is larger than the limit of {limit} bytes ({setting})")]
    TooLarge { limit: u64, setting: &'static str },
    #[error("this route needs `Authorization: Bearer <admin token>`")]
    Unauthorized,
    /// `PUT /v1/policy` with a component that does not load; the old policy
    /// keeps serving.
    #[error("policy refused, the current one keeps serving: {}", chain(.0))]
    BadPolicy(PolicyLoadError),
    #[error("no route for {0}")]
    NoRoute(String),
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    /// The service failed on its own (a task panicked...).
    #[error("{0}")]
    Internal(String),
    /// The client stopped sending the body it announced.
    #[error("the request body stopped arriving: {0}")]
    BodyStalled(String),
    /// A `Range` that names no byte of a value of `total` bytes.
    #[error("the range {range:?} names no byte of the value ({total} bytes)")]
    RangeNotSatisfiable { range: String, total: u64 },
    /// `POST /v1/trace/start` refused.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// A shadow-policy route refused.
    #[error(transparent)]
    Shadow(#[from] ShadowError),
}

impl ApiError {
    /// The status and the stable error code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Key(_) | ApiError::Store(Error::InvalidKey(_)) => (StatusCode::BAD_REQUEST, "invalid_key"),
            ApiError::Store(Error::ColdUnavailable(_)) => (StatusCode::SERVICE_UNAVAILABLE, "cold_unavailable"),
            ApiError::Store(Error::Corrupt { .. }) => (StatusCode::INTERNAL_SERVER_ERROR, "corrupt"),
            ApiError::Store(Error::Decode { .. }) => (StatusCode::INTERNAL_SERVER_ERROR, "decode_failed"),
            ApiError::Store(Error::InvalidArgument(_)) => (StatusCode::BAD_REQUEST, "invalid_argument"),
            ApiError::Store(Error::Snapshot(_)) => (StatusCode::BAD_REQUEST, "invalid_snapshot"),
            ApiError::Store(Error::Tier(_)) => (StatusCode::SERVICE_UNAVAILABLE, "tier_unavailable"),
            ApiError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NoSuchKey(_) => (StatusCode::NOT_FOUND, "no_such_key"),
            ApiError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::BadPolicy(_) => (StatusCode::BAD_REQUEST, "invalid_policy"),
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, "no_route"),
            ApiError::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::BodyStalled(_) => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            ApiError::RangeNotSatisfiable { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "invalid_range"),
            ApiError::Capture(CaptureError::Running { .. }) => (StatusCode::CONFLICT, "capture_running"),
            ApiError::Capture(CaptureError::Invalid(_)) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Capture(_) => (StatusCode::INTERNAL_SERVER_ERROR, "capture_failed"),
            ApiError::Shadow(ShadowError::Running { .. }) => (StatusCode::CONFLICT, "shadow_running"),
            ApiError::Shadow(ShadowError::None) => (StatusCode::NOT_FOUND, "no_shadow"),
            ApiError::Shadow(ShadowError::Ended(_)) => (StatusCode::CONFLICT, "shadow_ended"),
            ApiError::Shadow(ShadowError::Invalid(_)) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Shadow(_) => (StatusCode::INTERNAL_SERVER_ERROR, "shadow_failed"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            // The store's own messages already carry their causes.
            ApiError::Store(err) => chain(err),
            ApiError::Capture(err) => chain(err),
            other => other.to_string(),
        };
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), code, %message, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), code, %message, "request refused");
        }
        let mut response = (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        if let ApiError::RangeNotSatisfiable { total, .. } = &self
            && let Ok(value) = axum::http::HeaderValue::try_from(format!("bytes */{total}"))
        {
            response.headers_mut().insert(axum::http::header::CONTENT_RANGE, value);
        }
        response
    }
}

/// An error and its sources on one line, each cause once.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out.replace('\n', " ")
}
