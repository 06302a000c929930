//! The crate's errors: one enum per boundary.
//!
//! - [`KeyError`]: a key broke one of the rules in [`crate::key`].
//! - [`TierError`]: a tier failed (I/O, S3, corruption). Branch on
//!   [`TierError::kind`].
//! - [`Error`]: what the store's API returns.

use crate::policy::TierId;

/// Why a key was rejected (defined with the key rules, in `tiered-format`).
pub use tiered_format::key::KeyError;
/// Why a snapshot was refused (defined with the snapshot format).
pub use tiered_format::snapshot::SnapshotError;

/// What kind of failure a [`TierError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TierErrorKind {
    /// The tier could not be reached or failed to answer (I/O, network, 5xx).
    Unavailable,
    /// Stored bytes do not match their checksum or cannot be parsed.
    Corrupt,
    /// The tier refused the request (permissions, bad request, full disk).
    Rejected,
}

/// A failure inside one tier. Cloneable, so one failed read can be reported to
/// every caller that shared it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{tier} tier: {message}")]
pub struct TierError {
    kind: TierErrorKind,
    tier: &'static str,
    message: String,
    #[source]
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl TierError {
    pub fn new(kind: TierErrorKind, tier: &'static str, message: impl Into<String>) -> Self {
        TierError { kind, tier, message: message.into(), source: None }
    }

    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(std::sync::Arc::new(source));
        self
    }

    /// An I/O failure; a full disk or a permission problem is `Rejected`.
    pub fn io(tier: &'static str, what: impl Into<String>, err: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match err.kind() {
            K::PermissionDenied | K::StorageFull | K::ReadOnlyFilesystem | K::QuotaExceeded => TierErrorKind::Rejected,
            _ => TierErrorKind::Unavailable,
        };
        let message = format!("{}: {err}", what.into());
        TierError::new(kind, tier, message).with_source(err)
    }

    pub fn corrupt(tier: &'static str, message: impl Into<String>) -> Self {
        TierError::new(TierErrorKind::Corrupt, tier, message)
    }

    pub fn kind(&self) -> TierErrorKind {
        self.kind
    }

    /// The name of the tier implementation that failed (`memory`, `disk`, ...).
    pub fn tier(&self) -> &'static str {
        self.tier
    }
}

/// The store's error type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid key: {0}")]
    InvalidKey(#[from] KeyError),
    /// The cold tier failed: a write was not acknowledged, or a read found no
    /// cached copy to fall back on.
    #[error("cold tier unavailable: {0}")]
    ColdUnavailable(#[source] TierError),
    /// The cold copy failed verification; it is never served.
    #[error("object {key:?} is corrupt in the {tier} tier: {source}")]
    Corrupt { key: String, tier: TierId, source: TierError },
    #[error("could not decode object {key:?}: {message}")]
    Decode { key: String, message: String },
    #[error("value could not be serialized: {0}")]
    Serialize(#[source] serde_json::Error),
    #[error("snapshot rejected: {0}")]
    Snapshot(#[from] SnapshotError),
    /// A cache tier failed an operation aimed at it alone (e.g. `clear_tier`).
    #[error(transparent)]
    Tier(TierError),
    #[error("{0}")]
    InvalidArgument(String),
}

/// `Result` with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
