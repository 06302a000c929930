//! S3 SDK errors as [`TierError`]s, keeping S3's code and message.
//!
//! Throttling, 5xx, timeouts and connection failures are `Unavailable` (the
//! SDK has already retried them with backoff); other service errors (access
//! denied, no such bucket, bad request) are `Rejected`.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use tiered::error::{TierError, TierErrorKind};

/// The HTTP status of the answer, if the request got one.
pub fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Convert an SDK error for the operation `op` on `key`.
pub fn convert<E>(op: &str, key: &str, err: SdkError<E, HttpResponse>) -> TierError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = status(&err);
    let (code, message) = match &err {
        SdkError::ServiceError(service) => (
            service.err().code().unwrap_or("Unknown").to_string(),
            service.err().message().unwrap_or("no message").to_string(),
        ),
        SdkError::TimeoutError(_) => ("Timeout".to_string(), "request timed out".to_string()),
        SdkError::DispatchFailure(d) => ("DispatchFailure".to_string(), format!("{d:?}")),
        other => ("ClientError".to_string(), other.to_string()),
    };
    let kind = match status {
        Some(s) if s >= 500 || s == 429 || s == 503 => TierErrorKind::Unavailable,
        Some(_) if code == "SlowDown" || code == "Throttling" => TierErrorKind::Unavailable,
        Some(_) => TierErrorKind::Rejected,
        None => TierErrorKind::Unavailable,
    };
    let status = status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
    TierError::new(kind, "s3", format!("{op} {key:?}: {code}: {message}{status}")).with_source(err)
}
