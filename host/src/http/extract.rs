//! Turning request parts into engine arguments: the key from the path, the
//! admin check, the body within the limit, and the small query types.
//!
//! **Keys.** A key is the rest of the path after the route's prefix
//! (`/v1/objects/`), percent-decoded here (not by the router, with
//! [`key::from_url_path`]) so that `%2F` and `/` both reach the engine as `/`,
//! invalid UTF-8 (`%FF`) is refused with the key rule it breaks, and `+` stays
//! a plus.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::error::ApiError;
use super::state::AppState;
use tiered::key;

/// The key in `path` after `prefix`, decoded and checked against the key rules.
pub fn key_from_path(path: &str, prefix: &str) -> Result<String, ApiError> {
    let raw = path.strip_prefix(prefix).unwrap_or_default();
    Ok(key::from_url_path(raw)?)
}

/// Present in an admin handler's arguments: the request carried the admin
/// token (or none is configured). Extracted before the body, so an
/// unauthorized upload is refused before it is read.
#[derive(Debug)]
pub struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if state.admits(header) { Ok(Admin) } else { Err(ApiError::Unauthorized) }
    }
}

/// The request body, buffered up to `max_body_bytes` (the limit is applied by
/// the router's `DefaultBodyLimit`); over the limit is a 413.
pub fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge { limit: limit as u64, setting: "max_body_bytes" },
        _ if super::timeout::is_stall(&rejection) => ApiError::BodyStalled(rejection.body_text()),
        _ => ApiError::BadRequest(format!("could not read the request body: {}", rejection.body_text())),
    })
}

/// A whole number of seconds from a header or query parameter.
pub fn seconds(name: &str, value: &str) -> Result<std::time::Duration, ApiError> {
    value
        .trim()
        .parse::<u64>()
        .map(std::time::Duration::from_secs)
        .map_err(|_| ApiError::BadRequest(format!("{name} must be a whole number of seconds, got {value:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_after_the_prefix() -> Result<(), ApiError> {
        assert_eq!(key_from_path("/v1/objects/a/b%2Fc%20d+e", "/v1/objects/")?, "a/b/c d+e");
        assert_eq!(key_from_path("/v1/objects/%D0%BA", "/v1/objects/")?, "к");
        Ok(())
    }

    #[test]
    fn broken_keys_name_the_rule() {
        let err = |p: &str| key_from_path(p, "/v1/objects/").unwrap_err().to_string();
        assert!(err("/v1/objects/%FF").contains("not valid UTF-8"));
        assert!(err("/v1/objects/a%00").contains("control character"));
        assert!(err("/v1/objects/").contains("empty"));
        assert!(err(&format!("/v1/objects/{}", "k".repeat(1025))).contains("limit is 1024 bytes"));
    }
}
