//! The one mapping of the store's failures to S3 error codes, and the
//! endpoint's own refusals, so every handler answers the same failure with
//! the same `<Error><Code>`.
//!
//! | failure | S3 code | status |
//! |---|---|---|
//! | key too long | `KeyTooLongError` | 400 |
//! | key empty or with control characters | `InvalidArgument` | 400 |
//! | cold tier unavailable | `ServiceUnavailable` | 503 |
//! | corrupt cold copy, decode or I/O failure | `InternalError` | 500 |
//!
//! A store failure is logged here, where it is turned into an answer.

use s3s::{S3Error, S3ErrorCode};
use tiered::KeyError;
use tiered::error::Error;

/// `err`, raised while serving `key`, as an S3 error.
pub fn from_store(key: &str, err: Error) -> S3Error {
    match err {
        Error::InvalidKey(KeyError::TooLong { .. }) => {
            S3Error::with_message(S3ErrorCode::KeyTooLongError, "Your key is too long (1024 bytes at most).")
        }
        Error::InvalidKey(err) => S3Error::with_message(S3ErrorCode::InvalidArgument, format!("invalid key: {err}")),
        Error::ColdUnavailable(source) => {
            tracing::warn!(key, err = %source, "S3 API: the cold tier is unavailable");
            S3Error::with_message(S3ErrorCode::ServiceUnavailable, "The backing store is unavailable; retry later.")
        }
        Error::InvalidArgument(message) => S3Error::with_message(S3ErrorCode::InvalidArgument, message),
        other => {
            tracing::error!(key, err = %other, "S3 API: request failed");
            S3Error::with_message(S3ErrorCode::InternalError, "We encountered an internal error. Please try again.")
        }
    }
}

/// A local file operation of the endpoint (spooling, multipart parts) failed.
pub fn io(what: &str, err: impl std::fmt::Display) -> S3Error {
    tracing::error!(%err, "S3 API: {what}");
    S3Error::with_message(S3ErrorCode::InternalError, "We encountered an internal error. Please try again.")
}

/// A body larger than `max_object_bytes`.
pub fn too_large(limit: u64) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::EntityTooLarge,
        format!("Your proposed upload exceeds the maximum allowed object size ({limit} bytes, max_object_bytes)."),
    )
}

/// A body that stalled past `body_idle_timeout_ms` (`RequestTimeout`), or
/// arrived broken: cut short, a bad chunk signature (`IncompleteBody`).
pub fn body(err: s3s::StdError) -> S3Error {
    if crate::http::timeout::is_stall(err.as_ref()) {
        return S3Error::with_message(
            S3ErrorCode::RequestTimeout,
            "Your socket connection to the server was not read from or written to within the timeout period.",
        );
    }
    S3Error::with_message(S3ErrorCode::IncompleteBody, format!("could not read the request body: {err}"))
}
