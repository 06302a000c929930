//! Black-box: `tiered policy test` runs each example policy's scenario
//! (`examples/policies/*/scenario.toml`, and `examples/scenarios/default.toml`
//! for the default policy) against the live S3 server, exits 0 when every
//! expectation holds, exits non-zero naming the step when one does not, and
//! leaves nothing behind in the bucket.
//!
//! S3 settings come from `TIERED_S3_*` (see `support/s3.rs`); the S3 tests
//! are `#[ignore]`d, run by `tests/run-all` against the server it starts. A
//! missing example component is handled as in `support/examples.rs`.

use crate::support::examples;
use crate::support::s3;
use crate::support::server;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};
use futures::StreamExt;
use tiered::store::Tier;
use tiered_s3::{S3Config, S3Tier};

/// `tiered policy test [wasm] --scenario FILE` with the live S3 settings.
fn policy_test(s3: &S3Config, wasm: Option<&Path>, scenario: &Path, extra: &[&str]) -> Command {
    let mut cmd = server::tiered();
    cmd.args(["policy", "test"]);
    if let Some(wasm) = wasm {
        cmd.arg(wasm);
    }
    cmd.arg("--scenario").arg(scenario).arg("--cache-dir").arg(server::policy_cache()).args(extra);
    // The scenarios check the policy's answers, not its speed: a deadline
    // no busy machine makes a call overrun (an overrun is a fallback answer).
    cmd.arg("--config").arg(generous_limits());
    cmd.env("TIERED_S3_BUCKET", &s3.bucket).env("TIERED_S3_PATH_STYLE", if s3.path_style { "1" } else { "0" });
    if let Some(endpoint) = &s3.endpoint {
        cmd.env("TIERED_S3_ENDPOINT", endpoint);
    }
    if let Some(region) = &s3.region {
        cmd.env("TIERED_S3_REGION", region);
    }
    cmd
}

/// A configuration holding only [`server::PATIENT_POLICY`], written once
/// per test process.
fn generous_limits() -> &'static Path {
    static FILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&dir).expect("the target's temporary directory");
        let path = dir.join(format!("policy-test-limits-{}.toml", std::process::id()));
        std::fs::write(&path, server::PATIENT_POLICY).expect("a temporary file");
        path
    })
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `scenario` with `--json`, asserts it passed, and checks the run's
/// prefix is empty afterwards.
async fn passes(test: &str, wasm: Option<&Path>, scenario: &Path) -> Result<()> {
    let s3 = s3::config(test);
    let (status, stdout, stderr) = server::run_to_exit(policy_test(&s3, wasm, scenario, &["--json"])).await?;
    ensure!(status.success(), "{} failed ({status}):\n{stdout}\n{stderr}", scenario.display());
    let report: serde_json::Value = serde_json::from_str(&stdout).context("the --json report")?;
    let steps = report["steps"].as_array().context("steps")?;
    ensure!(!steps.is_empty() && steps.iter().all(|s| s["failures"] == serde_json::json!([])));
    let puts = steps.last().context("a step")?["s3_total"]["put"].as_u64().context("S3 counts")?;
    ensure!(puts > 0, "a scenario with writes sent no PUT to S3: {report}");

    let cold = report["cold"].as_str().context("cold")?;
    let prefix = cold.strip_prefix(&format!("s3://{}/", s3.bucket)).context("an S3 cold location")?;
    ensure!(prefix.starts_with("tiered-policy-test/"), "the run's prefix is its own: {prefix}");
    let tier = S3Tier::connect(S3Config { prefix: prefix.to_string(), ..s3 }).await?;
    let left: Vec<_> = tier.list("").collect().await;
    ensure!(left.is_empty(), "the run left {} object(s) under {prefix}", left.len());
    Ok(())
}

async fn example_passes(name: &str) -> Result<()> {
    if examples::load(name).is_none() {
        return Ok(());
    }
    let scenario = examples::dir().join(name).join("scenario.toml");
    passes(&format!("scenario-{name}"), Some(&examples::wasm_path(name)), &scenario).await
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn default_policy_scenario_passes_against_s3() -> Result<()> {
    passes("scenario-default", None, &repo().join("examples/scenarios/default.toml")).await
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn prefix_ttl_rust_scenario_passes_against_s3() -> Result<()> {
    example_passes("prefix-ttl-rust").await
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn prefix_ttl_python_scenario_passes_against_s3() -> Result<()> {
    example_passes("prefix-ttl-python").await
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn prefix_ttl_js_scenario_passes_against_s3() -> Result<()> {
    example_passes("prefix-ttl-js").await
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn prefix_ttl_c_scenario_passes_against_s3() -> Result<()> {
    example_passes("prefix-ttl-c").await
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn size_admission_rust_scenario_passes_against_s3() -> Result<()> {
    example_passes("size-admission-rust").await
}

/// A scenario that claims a hot hit is a cold one, and too few S3 requests.
const WRONG: &str = r#"
name = "wrong on purpose"
[[step]]
put = "k"
size = 10
[[step]]
get = "k"
expect.source = "cold"
expect.s3 = { get = 1 }
[[step]]
check = "k"
expect.in = ["hot"]
"#;

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_failed_expectation_exits_non_zero_naming_the_step() -> Result<()> {
    let s3 = s3::config("scenario-wrong");
    let dir = tempfile::tempdir()?;
    let scenario = dir.path().join("wrong.toml");
    std::fs::write(&scenario, WRONG)?;
    let (status, stdout, stderr) = server::run_to_exit(policy_test(&s3, None, &scenario, &[])).await?;
    ensure!(!status.success(), "a wrong expectation passed:\n{stdout}");
    ensure!(stderr.contains("step 2 (get k): expect.source: expected cold, got hot"), "{stderr}");
    ensure!(stderr.contains("step 2 (get k): expect.s3.get: expected 1 request(s), got 0"), "{stderr}");
    ensure!(!stderr.contains("step 3"), "step 3's expectation holds: {stderr}");
    ensure!(stdout.contains("FAILED: 1 of 3 step(s)"), "{stdout}");
    Ok(())
}

#[tokio::test]
async fn runs_offline_with_a_local_cold_directory_and_cleans_up() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let scenario = repo().join("examples/scenarios/default.toml");
    let mut cmd = server::tiered();
    cmd.args(["policy", "test", "--scenario"]).arg(&scenario).arg("--local").arg(dir.path());
    cmd.arg("--cache-dir").arg(server::policy_cache());
    let (status, stdout, stderr) = server::run_to_exit(cmd).await?;
    ensure!(status.success(), "{stdout}\n{stderr}");
    ensure!(stdout.contains("S3 request expectations were not checked"), "{stdout}");
    ensure!(std::fs::read_dir(dir.path())?.next().is_none(), "the run left files in the cold directory");
    Ok(())
}

#[tokio::test]
async fn no_s3_and_no_local_directory_is_a_clear_error() -> Result<()> {
    let mut cmd = server::tiered();
    cmd.args(["policy", "test", "--scenario"]).arg(repo().join("examples/scenarios/default.toml"));
    let (status, _, stderr) = server::run_to_exit(cmd).await?;
    ensure!(!status.success());
    ensure!(stderr.contains("set TIERED_S3_BUCKET") && stderr.contains("--local DIR"), "{stderr}");
    Ok(())
}
