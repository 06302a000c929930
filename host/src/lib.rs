//! # tiered-host
//!
//! The `tiered` binary's library: the service and the tools around the
//! [`tiered`] store, with their heavy dependencies (axum, clap, plotters,
//! indicatif). It assembles the workspace's crates: `tiered` (engine, tiers,
//! policy seam), `tiered-s3` (the S3 cold tier), `tiered-wasm` (policy
//! components).
//!
//! Map of the crate:
//! - [`config`]: the `tiered serve` configuration (TOML + environment).
//! - [`http`]: the HTTP service: routes over the store, admin, stats.
//! - [`s3api`]: the S3-compatible endpoint (`[s3_api]`), its own listener
//!   over the same store.
//! - [`trace`](mod@trace): access-trace capture in `tiered serve`
//!   (`/v1/trace`), files `tiered simulate` and libCacheSim replay.
//! - [`shadow`]: shadow policies (`/v1/policy/shadow`), a candidate policy
//!   on ghost copies of the cache tiers over the live requests.
//! - [`tiers`]: the cache tiers assembled from byte budgets (0 disables a
//!   tier), once for the service, `simulate` and the test kit.
//! - [`sim`]: `tiered simulate`, trace replay through the engine with LRU
//!   and Belady baselines.
//! - [`testkit`] (feature `policy-testkit`): a policy run in a real store
//!   against S3 through a scripted scenario (`tiered policy test`).
//! - [`telemetry`]: the process's logs (stderr) and, with feature `otel`,
//!   traces exported with OTLP.
//! - `main.rs`: the command line.

pub mod config;
pub mod http;
pub mod s3api;
pub mod shadow;
pub mod sim;
pub mod telemetry;
#[cfg(feature = "policy-testkit")]
pub mod testkit;
pub mod tiers;
pub mod trace;
