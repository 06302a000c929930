//! Configuration of the `tiered` service: data, with serde and a [`Default`]
//! that is the embedded default (`tiered serve` with no arguments).
//!
//! - this file: [`Config`] and its tables, the shape of the TOML file
//!   (`examples/config/tiered.toml` documents every key);
//! - [`load`]: reading the file, then the `TIERED_*` environment overrides,
//!   then [`Config::validate`] (the checks that need more than one key);
//! - [`size`]: [`ByteSize`], sizes such as `"256MiB"`;
//! - [`s3_api`]: `[s3_api]`, the S3-compatible endpoint and its access keys;
//! - [`trace`](mod@trace): `[trace]`, where captured access traces go;
//! - [`ConfigError`]: one-line errors naming the key or variable at fault.
//!
//! Precedence, lowest first: defaults, the file, the environment, then the
//! command line (applied by the binary).

pub mod load;
pub mod s3_api;
pub mod size;
pub mod trace;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use load::{ConfigError, ValidConfig};
pub use s3_api::S3ApiConfig;
pub use size::ByteSize;
pub use trace::TraceConfig;

use tiered::engine::StoreConfig;
use tiered_wasm::PolicyLimits;

/// The whole service configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `IP:port` to serve HTTP on. Non-loopback addresses need `admin_token`.
    pub listen: String,
    /// Root of the service's files: warm tier, local cold, compiled policies.
    pub data_dir: PathBuf,
    /// The policy component: a file, or the name of an algorithm of the
    /// library the binary carries (`sieve`, `s3fifo`…, when no such file
    /// exists); `None` = the built-in default (embedded).
    pub policy: Option<PathBuf>,
    /// Bearer token for the admin routes; `None` = admin routes are open
    /// (allowed only on loopback).
    pub admin_token: Option<String>,
    /// Largest buffered request body (413 beyond): admin and policy bodies,
    /// and object PUTs of at most `stream_above_bytes`.
    pub max_body_bytes: ByteSize,
    /// Objects larger than this are streamed: a PUT body is spooled to a file
    /// under `<data_dir>/spool`, a GET body is sent in chunks from the file or
    /// the S3 response. A value above `max_body_bytes` is lowered to it.
    pub stream_above_bytes: ByteSize,
    /// Largest object a PUT may store (413 beyond), streamed or not.
    pub max_object_bytes: ByteSize,
    /// Longest pause, in ms, while a request body arrives; a stalled upload
    /// gets 408 and its connection back.
    pub body_idle_timeout_ms: u64,
    /// Where compiled policy artifacts are cached; default `<data_dir>/policy-cache`.
    pub policy_cache_dir: Option<PathBuf>,
    pub hot: HotConfig,
    pub warm: WarmConfig,
    pub cold: ColdConfig,
    /// Handed as string pairs to the policy's `configure` call.
    #[serde(deserialize_with = "load::string_table")]
    pub policy_config: BTreeMap<String, String>,
    /// Sandbox bounds of policy calls (`deadline_ms`, `memory_bytes`, `instances`).
    pub policy_limits: PolicyLimits,
    /// Engine settings (compression, eviction sample, max staleness...).
    pub store: StoreConfig,
    /// What `/metrics` reports.
    pub metrics: MetricsConfig,
    /// Where traces go (feature `otel`).
    pub tracing: TracingConfig,
    /// The S3-compatible endpoint (off unless `s3_api.listen` is set).
    pub s3_api: S3ApiConfig,
    /// Access-trace capture (`POST /v1/trace/start`): directory, rotation.
    pub trace: TraceConfig,
}

/// Traces exported with OTLP (the binary's feature `otel`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracingConfig {
    /// OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`;
    /// `None` (the default): no traces leave the process.
    pub otlp_endpoint: Option<String>,
    /// Which spans are exported (`RUST_LOG` syntax), apart from the log
    /// filter.
    pub otlp_filter: String,
}

impl TracingConfig {
    /// The request spans, the S3 requests and policy calls inside them
    /// (level debug), and everything at info.
    pub const DEFAULT_FILTER: &str = "info,tiered_host::http=debug,tiered_s3=debug,tiered_wasm=debug";
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig { otlp_endpoint: None, otlp_filter: TracingConfig::DEFAULT_FILTER.to_string() }
    }
}

/// `/metrics`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Latency histograms (HTTP requests, S3 requests, policy calls, disk
    /// tiers, eviction rounds); `false` keeps the counters and gauges only.
    /// Process-wide: the first service started in a process decides.
    pub histograms: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { histograms: true }
    }
}

/// The memory tier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotConfig {
    /// Byte budget; `0` disables the hot tier.
    pub max_bytes: ByteSize,
}

/// The disk tier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarmConfig {
    /// Byte budget; `0` disables the warm tier.
    pub max_bytes: ByteSize,
    /// Directory of the tier; default `<data_dir>/warm`.
    pub dir: Option<PathBuf>,
}

/// Which cold tier is the source of truth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColdKind {
    /// A local directory standing in for a bucket.
    #[default]
    Local,
    /// An S3-compatible bucket (AWS S3, MinIO, Garage...).
    S3,
}

/// The cold tier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColdConfig {
    pub kind: ColdKind,
    /// `local`: the directory; default `<data_dir>/cold`.
    pub path: Option<PathBuf>,
    /// `s3`: bucket name (required).
    pub bucket: Option<String>,
    /// `s3`: key prefix inside the bucket.
    pub prefix: Option<String>,
    /// `s3`: endpoint URL for S3-compatible servers (MinIO...).
    pub endpoint: Option<String>,
    /// `s3`: region.
    pub region: Option<String>,
    /// `s3`: path-style addressing (`endpoint/bucket/key`), for MinIO-like servers.
    pub path_style: bool,
}

impl ColdConfig {
    /// The S3 tier's settings (`kind = "s3"`); credentials come from the
    /// standard AWS chain.
    pub fn s3(&self) -> tiered_s3::S3Config {
        tiered_s3::S3Config {
            bucket: self.bucket.clone().unwrap_or_default(),
            prefix: self.prefix.clone().unwrap_or_default(),
            region: self.region.clone(),
            endpoint: self.endpoint.clone(),
            path_style: self.path_style,
            ..Default::default()
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:7070".into(),
            data_dir: PathBuf::from("./tiered-data"),
            policy: None,
            admin_token: None,
            max_body_bytes: ByteSize(64 << 20),
            stream_above_bytes: ByteSize(8 << 20),
            max_object_bytes: ByteSize(5 << 30),
            body_idle_timeout_ms: 30_000,
            policy_cache_dir: None,
            hot: HotConfig::default(),
            warm: WarmConfig::default(),
            cold: ColdConfig::default(),
            policy_config: BTreeMap::new(),
            policy_limits: PolicyLimits::default(),
            store: StoreConfig::default(),
            metrics: MetricsConfig::default(),
            tracing: TracingConfig::default(),
            s3_api: S3ApiConfig::default(),
            trace: TraceConfig::default(),
        }
    }
}

impl Default for HotConfig {
    fn default() -> Self {
        HotConfig { max_bytes: ByteSize(256 << 20) }
    }
}

impl Default for WarmConfig {
    fn default() -> Self {
        WarmConfig { max_bytes: ByteSize(4 << 30), dir: None }
    }
}

impl Config {
    /// The warm tier's directory.
    pub fn warm_dir(&self) -> PathBuf {
        self.warm.dir.clone().unwrap_or_else(|| self.data_dir.join("warm"))
    }

    /// The local cold tier's directory.
    pub fn cold_dir(&self) -> PathBuf {
        self.cold.path.clone().unwrap_or_else(|| self.data_dir.join("cold"))
    }

    /// Where large request bodies are spooled (emptied at start).
    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("spool")
    }

    /// Where captured access traces are written.
    pub fn trace_dir(&self) -> PathBuf {
        self.trace.dir.clone().unwrap_or_else(|| self.data_dir.join("traces"))
    }

    /// The compiled-policy cache directory.
    pub fn policy_cache(&self) -> PathBuf {
        self.policy_cache_dir.clone().unwrap_or_else(|| self.data_dir.join("policy-cache"))
    }

    /// `[policy_config]` as the pairs the policy's `configure` receives.
    pub fn policy_pairs(&self) -> Vec<(String, String)> {
        self.policy_config.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}
