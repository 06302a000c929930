//! The `tiered` binary: a thin command line over the library.
//!
//! - `tiered serve [--config FILE] [--policy FILE.wasm] [--listen ADDR] [--data-dir DIR]`:
//!   the HTTP service ([`tiered_host::http`]). With no arguments it runs on the
//!   embedded default: 127.0.0.1:7070, 256 MiB of memory, 4 GiB of disk under
//!   `./tiered-data/warm`, `./tiered-data/cold` as the bucket, the built-in
//!   policy component. Precedence: defaults < file < `TIERED_*` variables < flags.
//! - `tiered policy check FILE.wasm [--json] [--config FILE] [--conformance] [--cache-dir DIR]`:
//!   load a policy component and run the decision battery
//!   ([`tiered_wasm::check`]) and, with `--conformance`, the
//!   conformance kit ([`tiered_wasm::conformance`]).
//! - `tiered policy test [FILE.wasm] --scenario FILE [--config FILE] [--json] [--local DIR]`:
//!   run a scenario through a real store with the policy deciding and S3 (from
//!   `TIERED_S3_*`) as cold ([`tiered_host::testkit`]); exits 1 naming each step
//!   whose expectations failed.
//! - `tiered simulate --trace FILE [...]`: replay a trace through the engine
//!   beside LRU and Belady ([`tiered_host::sim`]; see docs/simulate.md).
//!
//! Logs go to stderr (`RUST_LOG`, default `info`). A failure to start prints
//! one line, `tiered: error: ...`, and exits with status 1.

// The command line speaks to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tiered_host::config::Config;
use tiered_host::http::Service;
use tiered_host::http::service::shutdown_signal;
use tiered_host::telemetry;
use tiered_wasm::{PolicyEngine, check_with, conformance};

#[derive(Debug, Parser)]
#[command(name = "tiered", version, about = "A tiered object store with a WebAssembly placement policy")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve(ServeArgs),
    /// Work with policy components.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Replay an access trace through the engine and a policy, beside LRU and Belady.
    Simulate(tiered_host::sim::cli::SimulateArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// TOML configuration file (see examples/config/tiered.toml).
    #[arg(long, env = "TIERED_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Policy component (a file, or an algorithm of the library by name:
    /// `tiered simulate --list-policies`); default: the built-in policy.
    #[arg(long, value_name = "FILE.wasm")]
    policy: Option<PathBuf>,
    /// Address to listen on, IP:port (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Root of the service's files (warm tier, local cold, compiled policies).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Load a policy component, ask it a battery of decisions, time them.
    Check {
        /// The component to check.
        wasm: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Configuration whose [policy_config] the policy is configured with
        /// and whose [policy_limits] bound its calls, as `tiered serve` would.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Also run the conformance kit (shape, edge inputs, determinism, limits).
        #[arg(long)]
        conformance: bool,
        /// Keep compiled components here (as `policy_cache_dir`): later loads of
        /// the same component skip the compile. Default: compile every load.
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Run a scenario through a real store (S3 from TIERED_S3_* as cold) with the policy deciding.
    Test(tiered_host::testkit::cli::PolicyTestArgs),
    /// Compare a running server's live policy with its shadow policy
    /// (loaded by PUT /v1/policy/shadow): side by side over the same reads,
    /// with a verdict.
    Compare {
        /// The server's HTTP address.
        #[arg(long, env = "TIERED_URL", default_value = "http://127.0.0.1:7070")]
        url: String,
        /// The server's admin token, when it has one.
        #[arg(long, env = "TIERED_ADMIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Print the server's report as JSON.
        #[arg(long)]
        json: bool,
        /// Also draw both miss ratios over time into this SVG file.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Policy(PolicyCommand::Check { wasm, json, config, conformance, cache_dir }) => {
            logged(|| policy_check(&wasm, json, config, conformance, cache_dir))
        }
        Command::Policy(PolicyCommand::Test(args)) => logged(|| policy_test(&args)),
        Command::Policy(PolicyCommand::Compare { url, token, json, plot }) => {
            logged(|| policy_compare(&url, token.as_deref(), json, plot.as_deref()))
        }
        Command::Simulate(args) => logged(|| simulate(&args)),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("tiered: error: {}", format!("{err:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// `command` with logs on stderr (`serve` sets up its own, after reading
/// its configuration: it may export traces).
fn logged(command: impl FnOnce() -> anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    let _telemetry = telemetry::init(None)?;
    command()
}

/// Defaults < file < environment < flags, validated.
fn serve_config(args: &ServeArgs) -> anyhow::Result<tiered_host::config::ValidConfig> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    config.apply_env(|name| std::env::var(name).ok())?;
    if let Some(listen) = &args.listen {
        config.listen.clone_from(listen);
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir.clone_from(dir);
    }
    if let Some(policy) = &args.policy {
        config.policy = Some(policy.clone());
    }
    Ok(config.validate()?)
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = serve_config(&args)?;
    // Dropped last: flushes the spans still waiting for export.
    let _telemetry = telemetry::init(Some(&config.config.tracing))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start tokio")?;
    runtime.block_on(async {
        let service = Service::start(config).await?;
        service.serve(shutdown_signal()).await.context("the server failed")
    })?;
    Ok(ExitCode::SUCCESS)
}

fn policy_check(
    wasm_path: &PathBuf,
    json: bool,
    config: Option<PathBuf>,
    kit: bool,
    cache_dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let config = match &config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    let wasm = std::fs::read(wasm_path).with_context(|| format!("cannot read {}", wasm_path.display()))?;
    let engine = PolicyEngine::new(cache_dir)?;
    let does_not_load = || format!("policy {} does not load", wasm_path.display());
    // The limits `tiered serve` would run it under with this configuration.
    let limits = config.policy_limits;
    let report = check_with(&engine, &wasm, &config.policy_pairs(), limits).with_context(does_not_load)?;
    let kit = match kit {
        true => Some(conformance(&engine, &wasm, &config.policy_pairs(), limits).with_context(does_not_load)?),
        false => None,
    };
    match (json, &kit) {
        (true, None) => println!("{}", serde_json::to_string_pretty(&report)?),
        (true, Some(kit)) => {
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "check": report, "conformance": kit }))?)
        }
        (false, None) => println!("{report}"),
        (false, Some(kit)) => println!("{report}\n\n{kit}"),
    }
    let mut problems = report.problems.clone();
    problems
        .extend(kit.iter().flat_map(|k| &k.checks).filter(|c| !c.passed).map(|c| format!("{}: {}", c.name, c.detail)));
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("tiered: error: policy {} failed the check: {}", wasm_path.display(), problems.join("; "));
    Ok(ExitCode::FAILURE)
}

fn policy_compare(
    url: &str,
    token: Option<&str>,
    json: bool,
    plot: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    use tiered_host::shadow::compare;
    let report = compare::fetch(url, token)?;
    match json {
        true => println!("{}", serde_json::to_string_pretty(&report)?),
        false => print!("{}", compare::render(&report)),
    }
    if let Some(path) = plot {
        compare::draw(path, &report)?;
        eprintln!("plot written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn policy_test(args: &tiered_host::testkit::cli::PolicyTestArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start tokio")?;
    let report = runtime.block_on(tiered_host::testkit::cli::execute(args))?;
    println!("{}", tiered_host::testkit::cli::render(&report, args.json));
    if report.passed() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("tiered: error: scenario {} failed: {}", report.scenario, report.failures().join("; "));
    Ok(ExitCode::FAILURE)
}

fn simulate(args: &tiered_host::sim::cli::SimulateArgs) -> anyhow::Result<ExitCode> {
    let trace = args.trace.as_deref().map(|t| t.display().to_string()).unwrap_or_default();
    let output = tiered_host::sim::cli::execute(args).with_context(|| format!("cannot simulate {trace}"))?;
    println!("{output}");
    Ok(ExitCode::SUCCESS)
}
