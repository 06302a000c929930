//! The `tiered simulate` command line: its flags ([`SimulateArgs`]) and
//! [`execute`], which runs what they ask and returns the text to print (the
//! binary prints it; the library never writes to stdout).

use std::path::PathBuf;

use clap::Args;

use super::replay::Mode;
use super::simulator::{CacheSize, PolicySource, Simulator};
use super::trace::{Format, Trace};
use super::{Prices, SimError, plot};
use tiered_wasm::{DEFAULT_POLICY_WASM, PolicyEngine};

/// Flags of `tiered simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The trace to replay.
    #[arg(long, value_name = "FILE")]
    pub trace: PathBuf,
    /// Trace format: `csv` (timestamp,key,size[,op]) or libCacheSim's binary `oracle-general`.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Policy component; default: the embedded default policy component. `builtin`: the
    /// default policy linked natively (same decisions, no WebAssembly boundary).
    #[arg(long, value_name = "FILE.wasm")]
    pub policy: Option<String>,
    /// `[policy_config]` pairs handed to the policy, as KEY=VALUE (repeatable).
    #[arg(long = "policy-config", value_name = "KEY=VALUE")]
    pub policy_config: Vec<String>,
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

/// Runs `tiered simulate`; the text (or JSON) to print.
pub fn execute(args: &SimulateArgs) -> Result<String, SimError> {
    let config = args
        .policy_config
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
            None => Err(SimError::InvalidArgument(format!("--policy-config {pair:?}: expected KEY=VALUE"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let policy = match args.policy.as_deref() {
        Some("builtin") => PolicySource::Builtin { config },
        other => {
            let wasm = match other {
                Some(path) => std::fs::read(path).map_err(|source| SimError::Io { path: path.to_string(), source })?,
                None => DEFAULT_POLICY_WASM.to_vec(),
            };
            let engine = PolicyEngine::new(None).map_err(|e| SimError::Policy(e.to_string()))?;
            PolicySource::Wasm { engine, wasm, config }
        }
    };
    let trace = Trace::open(&args.trace, args.format)?;
    let mut sim = Simulator::new(trace, policy);
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
    let reports =
        if args.sizes.is_empty() { vec![sim.run(args.hot, args.warm)?] } else { sim.sweep(&args.sizes, args.warm)? };
    if let Some(path) = &args.plot {
        plot::draw(path, &reports)?;
    }
    super::text::render(&reports, args.json)
}
