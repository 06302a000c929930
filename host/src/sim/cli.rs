//! The `tiered simulate` command line: its flags ([`SimulateArgs`]) and
//! [`execute`], which runs what they ask and returns the text to print (the
//! binary prints it; the library never writes to stdout).
//!
//! One `--policy` gives that policy's report (one per size of `--sizes`,
//! then a table); several give one comparison table
//! ([`text::render_comparison`]) and one curve each in the plot. A policy is
//! named (`default`, `builtin`, an algorithm of `tiered-algorithms`) or a
//! component file.

use std::path::PathBuf;

use clap::Args;

use super::replay::Mode;
use super::simulator::{CacheSize, PolicySource, Simulator};
use super::trace::{Format, Trace};
use super::{Prices, SimError, plot, text};
use tiered_wasm::{DEFAULT_POLICY_WASM, PolicyEngine};

/// Flags of `tiered simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The trace to replay.
    #[arg(long, value_name = "FILE", required_unless_present = "list_policies")]
    pub trace: Option<PathBuf>,
    /// Trace format: `csv` (timestamp,key,size[,op]) or libCacheSim's binary `oracle-general`.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// The policy to replay (repeat to compare several in one table):
    /// `default` (the embedded default policy component, also when none is
    /// given), `builtin` (the default policy linked natively: same decisions,
    /// no WebAssembly boundary), an algorithm of the library by name (`lru`,
    /// `sieve`, `s3fifo`…, see `--list-policies`), or a component file. A
    /// `:KEY=VALUE,KEY=VALUE` suffix gives that policy its own `[policy_config]`.
    #[arg(long, value_name = "POLICY")]
    pub policy: Vec<String>,
    /// `[policy_config]` pairs handed to every policy, as KEY=VALUE (repeatable).
    #[arg(long = "policy-config", value_name = "KEY=VALUE")]
    pub policy_config: Vec<String>,
    /// List the algorithms `--policy` takes by name, and exit.
    #[arg(long)]
    pub list_policies: bool,
    /// Hot tier budget: bytes (`64MiB`) or a share of the trace's unique bytes (`10%`); 0: none.
    #[arg(long, default_value = "10%")]
    pub hot: CacheSize,
    /// Warm tier budget, as for `--hot`; 0: none (the report is then for the hot tier alone).
    #[arg(long, default_value = "0")]
    pub warm: CacheSize,
    /// Sweep hot sizes instead of `--hot`, e.g. `1%,5%,10%` (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "SIZES")]
    pub sizes: Vec<CacheSize>,
    /// Draw miss ratio against cache size (SVG).
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Print the report(s) as JSON.
    #[arg(long)]
    pub json: bool,
    /// How events reach the policy: `exact` (every event, in order, before
    /// each decision: deterministic, comparable with libCacheSim) or
    /// `batched` (as the service delivers them: hits in bounded buffers,
    /// dropped when full).
    #[arg(long, value_enum, default_value_t = Mode::Exact)]
    pub mode: Mode,
    /// Hit events buffered per stripe in `batched` mode (16 stripes per tier).
    #[arg(long, value_name = "N", default_value_t = tiered::StoreConfig::default().hit_buffer)]
    pub hit_buffer: usize,
    /// Share of hit events to drop on purpose in `batched` mode (0 to 1), as
    /// the full buffers of a busy service would: what lost hits cost.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub drop_hits: f64,
    /// S3 price of 1,000 GET or HEAD requests, USD (AWS S3 Standard).
    #[arg(long, default_value_t = Prices::default().get_per_1000)]
    pub price_get: f64,
    /// S3 price of 1,000 PUT requests, USD (AWS S3 Standard).
    #[arg(long, default_value_t = Prices::default().put_per_1000)]
    pub price_put: f64,
    /// Price of one GB read from S3, USD (transfer out to the internet; 0 within a region).
    #[arg(long, default_value_t = Prices::default().per_gb)]
    pub price_gb: f64,
    /// Never draw a progress bar (it is drawn only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}

/// `KEY=VALUE` pairs.
fn pairs<'a>(pairs: impl IntoIterator<Item = &'a str>, flag: &str) -> Result<Vec<(String, String)>, SimError> {
    pairs
        .into_iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
            _ => Err(SimError::InvalidArgument(format!("{flag} {pair:?}: expected KEY=VALUE"))),
        })
        .collect()
}

/// The label and source of one `--policy` (`spec`), with the shared
/// `[policy_config]` pairs first and its own after them.
fn policy_source(spec: &str, shared: &[(String, String)]) -> Result<(String, PolicySource), SimError> {
    // A `:` followed by pairs gives the policy its own configuration.
    let named = |source: &str| {
        matches!(source, "default" | "builtin") || tiered_algorithms::get(source).is_some() || source.ends_with(".wasm")
    };
    let (source, own) = match spec.split_once(':') {
        Some((source, own)) if named(source) => (source, pairs(own.split(','), "--policy")?),
        _ => (spec, Vec::new()),
    };
    let mut config = shared.to_vec();
    config.extend(own.iter().cloned());
    let label = if own.is_empty() { source.to_string() } else { spec.to_string() };
    let wasm = match source {
        "builtin" => return Ok((label, PolicySource::Builtin { config })),
        "default" => DEFAULT_POLICY_WASM.to_vec(),
        name if tiered_algorithms::get(name).is_some() && !std::path::Path::new(name).exists() => {
            tiered_algorithms::get(name).map(|a| a.wasm.to_vec()).unwrap_or_default()
        }
        path if path.ends_with(".wasm") || std::path::Path::new(path).exists() => {
            std::fs::read(path).map_err(|source| SimError::Io { path: path.to_string(), source })?
        }
        other => {
            return Err(SimError::InvalidArgument(format!(
                "--policy {other:?} is neither a component file nor a policy name (default, builtin, {})",
                tiered_algorithms::names()
            )));
        }
    };
    let label = match std::path::Path::new(source).file_stem() {
        Some(stem) if source.ends_with(".wasm") && own.is_empty() => stem.to_string_lossy().into_owned(),
        _ => label,
    };
    let engine = PolicyEngine::new(None).map_err(|e| SimError::Policy(e.to_string()))?;
    Ok((label, PolicySource::Wasm { engine, wasm, config }))
}

/// The algorithms `--policy` takes by name.
fn list_policies() -> String {
    let mut text = String::from(
        "default   the embedded default policy (S3-FIFO or W-TinyLFU per tier, adaptive; the default placement rules)\n",
    );
    text.push_str("builtin   the default policy linked natively (same decisions)\n");
    for a in tiered_algorithms::ALL {
        text.push_str(&format!("{:<9} {}\n", a.name, a.summary));
    }
    text
}

/// Runs `tiered simulate`; the text (or JSON) to print.
pub fn execute(args: &SimulateArgs) -> Result<String, SimError> {
    if args.list_policies {
        return Ok(list_policies());
    }
    let Some(trace) = &args.trace else {
        return Err(SimError::InvalidArgument("--trace is required".into()));
    };
    let shared = pairs(args.policy_config.iter().map(String::as_str), "--policy-config")?;
    let specs: Vec<&str> =
        if args.policy.is_empty() { vec!["default"] } else { args.policy.iter().map(String::as_str).collect() };
    let mut policies = Vec::with_capacity(specs.len());
    for spec in specs {
        let (label, source) = policy_source(spec, &shared)?;
        if policies.iter().any(|(l, _): &(String, PolicySource)| *l == label) {
            return Err(SimError::InvalidArgument(format!("--policy {label:?} is given twice")));
        }
        policies.push((label, source));
    }
    let mut sim = Simulator::new(Trace::open(trace, args.format)?);
    sim.prices = Prices { get_per_1000: args.price_get, put_per_1000: args.price_put, per_gb: args.price_gb };
    sim.progress = !args.no_progress;
    sim.mode = args.mode;
    sim.hit_buffer = args.hit_buffer;
    if !(0.0..=1.0).contains(&args.drop_hits) {
        return Err(SimError::InvalidArgument(format!(
            "--drop-hits {} is not a share between 0 and 1",
            args.drop_hits
        )));
    }
    if args.drop_hits > 0.0 && args.mode != Mode::Batched {
        return Err(SimError::InvalidArgument(
            "--drop-hits needs --mode batched (exact mode delivers every event)".into(),
        ));
    }
    sim.drop_hits = args.drop_hits;
    let sizes = if args.sizes.is_empty() { vec![args.hot] } else { args.sizes.clone() };
    if let [(_, policy)] = policies.as_slice() {
        let reports = sim.sweep(policy, &sizes, args.warm)?;
        if let Some(path) = &args.plot {
            plot::draw(path, &reports)?;
        }
        return text::render(&reports, args.json);
    }
    let reports = sim.compare(&policies, &sizes, args.warm)?;
    if let Some(path) = &args.plot {
        plot::draw_comparison(path, &reports)?;
    }
    text::render_comparison(&reports, args.json)
}
