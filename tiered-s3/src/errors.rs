//! Client errors as [`TierError`]s, keeping S3's code and message.
//!
//! Throttling, 5xx, timeouts and connection failures are `Unavailable` (the
//! SDK has already retried them with backoff); other answers (access denied,
//! no such bucket, bad request, a failed precondition) are `Rejected`.

use tiered::error::{TierError, TierErrorKind};

use crate::client::ClientError;

/// Convert a client error for the operation `op` on `key`.
pub fn convert(op: &str, key: &str, err: ClientError) -> TierError {
    let kind = if err.is_transient() { TierErrorKind::Unavailable } else { TierErrorKind::Rejected };
    TierError::new(kind, "s3", format!("{op} {key:?}: {err}")).with_source(err)
}
