//! `tiered simulate`: replay an access trace through the real engine and a
//! policy, beside LRU and Belady baselines, with hit ratios, S3 requests and
//! an estimated bill.
//!
//! - [`trace`]: CSV and libCacheSim `oracleGeneral` parsing into a [`Trace`].
//! - [`cold`]: [`SimCold`](cold::SimCold), the in-memory bucket that counts
//!   S3 requests and bytes (the warm tier of a replay is a
//!   plain memory tier with the warm budget).
//! - [`replay`]: the driver: the trace through a real
//!   [`TieredStore`](tiered::TieredStore) on a [`ManualClock`](tiered::ManualClock)
//!   set from the trace's timestamps, memory standing in for the disk.
//! - [`lru`] and [`belady`]: the baselines (native LRU tiers with no policy;
//!   Belady's offline optimum for the hot tier).
//! - [`report`]: the [`Report`] (JSON) and the S3 [`Prices`]; [`text`]: its
//!   text form and the sweep table.
//! - [`simulator`]: cache sizes as bytes or shares of the trace, policy
//!   sources, one run or a sweep over sizes.
//! - [`plot`]: miss ratio against cache size as SVG.
//! - [`cli`]: the flags of `tiered simulate` and their execution.
//!
//! Policies are pure functions of what the host passes them, and the replay
//! runs on one thread with a virtual clock, so one trace and one policy always
//! give the same report (wall-clock timings aside).

pub mod belady;
pub mod cli;
pub mod cold;
pub mod lru;
pub mod plot;
pub mod replay;
pub mod report;
pub mod simulator;
pub mod text;

// Trace parsing, defined in `tiered-format` (with the other parsers of
// untrusted bytes, for fuzzing).
pub use tiered_format::trace;

pub use report::{Prices, Report};
pub use simulator::{CacheSize, PolicySource, Simulator};
pub use trace::{Format, Op, Request, Trace, TraceError};

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The trace could not be read or does not parse.
    #[error(transparent)]
    Trace(#[from] trace::TraceError),
    #[error("an object of {0} bytes is too large to simulate on this machine")]
    TooLarge(u64),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("cannot load the policy: {0}")]
    Policy(String),
    #[error("the engine failed: {0}")]
    Store(#[from] tiered::Error),
    #[error("cannot start the replay's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot draw {path}: {message}")]
    Plot { path: String, message: String },
}
