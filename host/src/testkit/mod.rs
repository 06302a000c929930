//! The policy test kit (feature `policy-testkit`): run a policy component in
//! a real store against a real S3 server (MinIO, Garage, AWS) or a local cold
//! directory, drive a scripted scenario, and see where each object ended up
//! and why. `tiered policy test` is its command line.
//!
//! - [`scenario`]: the TOML scenario format (steps and their `expect` table),
//!   and which expectations each kind of step may carry.
//! - [`expect`]: the expectations and their checking against a step's report.
//! - [`kit`]: [`PolicyKit`], the store under test on a manual clock, with
//!   peeks into each tier and the S3 request counts.
//! - [`recorder`]: the policy wrapped to record each answer it gives.
//! - [`run`]: a scenario through a kit, step by step.
//! - [`report`]: [`RunReport`], per step: placement, serving tier
//!   ([`report::Source`]), promotions, evictions, S3 requests, failed
//!   expectations.
//! - [`cli`]: the flags of `tiered policy test` and the S3 settings from the
//!   environment ([`s3_config_from_env`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), tiered_host::testkit::KitError> {
//! use tiered_host::testkit::{ColdChoice, KitOptions, Scenario, run_scenario, s3_config_from_env};
//!
//! let scenario = Scenario::from_file("examples/scenarios/default.toml".as_ref())?;
//! let s3 = s3_config_from_env(|name| std::env::var(name).ok()).expect("TIERED_S3_BUCKET is set");
//! let options = KitOptions {
//!     wasm: Some(std::fs::read("policy.wasm").unwrap()),
//!     policy_config: Vec::new(),
//!     cold: ColdChoice::S3(s3),
//!     store: scenario.store.clone(),
//!     cache_dir: None,
//!     limits: tiered_wasm::PolicyLimits::default(),
//! };
//! let report = run_scenario(options, &scenario, "default").await?;
//! assert!(report.passed(), "{}", report.failures().join("\n"));
//! # Ok(()) }
//! ```

pub mod cli;
mod error;
pub mod expect;
pub mod kit;
pub mod recorder;
pub mod report;
pub mod run;
pub mod scenario;

pub use cli::s3_config_from_env;
pub use error::KitError;
pub use kit::{ColdChoice, KitOptions, PolicyKit};
pub use recorder::{Decision, RecordingPolicy};
pub use report::{RunReport, StepReport};
pub use run::{run, run_scenario};
pub use scenario::{Action, Scenario, Step, StoreSettings};

/// 16 hex digits unlikely to repeat across runs (time, process, hasher seed).
pub(crate) fn unique_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    h.write_u128(now.as_nanos());
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}
