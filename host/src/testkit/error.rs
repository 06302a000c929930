//! [`KitError`]: why a policy test could not run (as opposed to a scenario
//! whose expectations failed, which is a [`RunReport`](super::RunReport)
//! with failures in it).

use std::path::PathBuf;

use tiered::error::{Error, TierError};
use tiered_wasm::PolicyLoadError;

/// A policy test that could not start or could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KitError {
    /// The scenario file cannot be read.
    #[error("cannot read scenario {path}: {source}")]
    ReadScenario {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The scenario is not valid TOML or breaks the format's rules.
    #[error("invalid scenario: {0}")]
    Scenario(String),
    /// The `--config` file cannot be read.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The policy component cannot be read.
    #[error("cannot read policy {path}: {source}")]
    ReadPolicy {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No cold tier was given: neither S3 settings nor a local directory.
    #[error(
        "no S3 bucket configured: set TIERED_S3_BUCKET (with TIERED_S3_ENDPOINT, TIERED_S3_REGION and \
         AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for MinIO or Garage), or pass --local DIR to test without S3"
    )]
    NoCold,
    /// The policy component does not load or rejects its configuration.
    #[error("the policy does not load: {0}")]
    Policy(#[from] PolicyLoadError),
    /// A tier could not be opened or reached (the bucket check included).
    #[error("cannot set up the {what}: {source}")]
    Tier {
        what: &'static str,
        #[source]
        source: TierError,
    },
    /// A local directory (warm tier, local cold) could not be prepared.
    #[error("cannot prepare directory {path}: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The store failed a step (e.g. S3 unreachable); the step is named.
    #[error("step {step} ({action}): the store failed: {source}")]
    Store {
        step: usize,
        action: String,
        #[source]
        source: Box<Error>,
    },
}
