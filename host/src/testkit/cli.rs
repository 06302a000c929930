//! `tiered policy test [FILE.wasm] --scenario FILE [--config FILE] [--json] [--local DIR]`:
//! its flags ([`PolicyTestArgs`]) and [`execute`], which runs the scenario and
//! returns the text to print (the binary prints it; the library never writes
//! to stdout).
//!
//! S3 settings come from the environment, the same variables the live test
//! suite reads, so the command runs against MinIO, Garage or AWS unchanged:
//! `TIERED_S3_BUCKET` (required), `TIERED_S3_ENDPOINT` (absent for AWS),
//! `TIERED_S3_REGION`, `TIERED_S3_PATH_STYLE` (default: on when an endpoint is
//! set), `TIERED_S3_PREFIX`, and credentials from the standard AWS chain
//! (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, profile, role).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::kit::{ColdChoice, KitOptions};
use super::run::run_scenario;
use super::scenario::Scenario;
use super::{KitError, RunReport};
use crate::config::Config;
use tiered_s3::S3Config;
use tiered_wasm::PolicyLimits;

/// Flags of `tiered policy test`.
#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    /// The policy component; default: the embedded default policy.
    #[arg(value_name = "FILE.wasm")]
    pub wasm: Option<PathBuf>,
    /// The scenario to run (TOML; see docs/writing-a-policy.md).
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// A configuration whose [policy_config] pairs override the scenario's
    /// and whose [policy_limits] bound the policy's calls (default: those of
    /// `tiered serve`, never throttled).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Use a fresh directory under DIR as the cold tier instead of S3 (offline;
    /// S3 request expectations are then not checked).
    #[arg(long, value_name = "DIR")]
    pub local: Option<PathBuf>,
    /// Keep compiled components here: later runs of the same component skip the compile.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// The S3 settings in the environment (read through `var`), or `None` when
/// `TIERED_S3_BUCKET` is unset or empty ([`S3Config::from_env`]).
pub fn s3_config_from_env(var: impl Fn(&str) -> Option<String>) -> Option<S3Config> {
    S3Config::from_env(var)
}

/// Run the scenario the flags name; the report, ready to print.
pub async fn execute(args: &PolicyTestArgs) -> Result<RunReport, KitError> {
    let scenario = Scenario::from_file(&args.scenario)?;
    let mut pairs: BTreeMap<String, String> = scenario.policy_config.clone();
    let mut limits = PolicyLimits::default();
    if let Some(path) = &args.config {
        let config = Config::from_file(path)?;
        pairs.extend(config.policy_pairs());
        limits = config.policy_limits;
    }
    let wasm = match &args.wasm {
        Some(path) => Some(std::fs::read(path).map_err(|source| KitError::ReadPolicy { path: path.clone(), source })?),
        None => None,
    };
    let cold = match (&args.local, s3_config_from_env(|name| std::env::var(name).ok())) {
        (Some(dir), _) => ColdChoice::Local(dir.clone()),
        (None, Some(s3)) => ColdChoice::S3(s3),
        (None, None) => return Err(KitError::NoCold),
    };
    let options = KitOptions {
        wasm,
        policy_config: pairs.into_iter().collect(),
        cold,
        store: scenario.store.clone(),
        cache_dir: args.cache_dir.clone(),
        limits,
    };
    let name = scenario.name.clone().unwrap_or_else(|| args.scenario.display().to_string());
    run_scenario(options, &scenario, &name).await
}

/// The report as the command prints it: text, or JSON with `--json`.
pub fn render(report: &RunReport, json: bool) -> String {
    match json {
        true => serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")),
        false => report.to_string(),
    }
}
