//! From a validated [`Config`] to a serving process: bind the addresses
//! first (the HTTP API's, and the S3 endpoint's when `[s3_api]` is on: a
//! port in use fails before any slow work), open the tiers, load the
//! policy component through the wasm runtime (compiled artifacts cached under
//! the data directory), build the store, then serve until the shutdown signal.
//!
//! Graceful shutdown: on SIGINT or SIGTERM the listeners stop accepting, idle
//! connections close, and requests in flight run to completion (a write is
//! acknowledged only after cold has it, so nothing is left half-written); a
//! trace capture still running is then ended and its files flushed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

use super::state::{AppState, PolicyLoader};
use crate::config::ColdKind;
use crate::config::{Config, ConfigError, ValidConfig};
use tiered::clock::SystemClock;
use tiered::engine::TieredStore;
use tiered::error::{Error, TierError};
use tiered::policy::{Capacities, Policy};
use tiered::store::{DiskTier, LocalColdTier, SourceTier};
use tiered_s3::{S3Config, S3Tier};

use crate::tiers::CacheTiers;
use tiered_wasm::{DEFAULT_POLICY_WASM, MemoryBudget, PolicyEngine, PolicyLoadError};

/// Why the service could not start. Each message names the thing at fault;
/// the cause follows as the error's source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {addr} (s3_api.listen)")]
    BindS3Api {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create data_dir {}", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the {tier} tier at {}", path.display())]
    Tier {
        tier: &'static str,
        path: PathBuf,
        #[source]
        source: TierError,
    },
    #[error("cannot use the bucket {at}")]
    Bucket {
        at: String,
        #[source]
        source: TierError,
    },
    #[error("cannot read policy file {}", path.display())]
    PolicyRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("policy {what} does not load")]
    Policy {
        what: String,
        #[source]
        source: PolicyLoadError,
    },
    #[error("cannot build the store")]
    Store(#[source] Error),
    #[error("cannot set up /metrics")]
    Metrics(#[from] super::metrics::ExporterError),
}

/// A bound, ready service.
#[derive(Debug)]
pub struct Service {
    listener: TcpListener,
    addr: SocketAddr,
    state: Arc<AppState>,
    /// The S3-compatible endpoint, when `[s3_api]` is on.
    s3_api: Option<crate::s3api::Endpoint>,
}

impl Service {
    /// Bind, open the tiers, load the policy and build the store.
    pub async fn start(valid: ValidConfig) -> Result<Service, StartError> {
        let ValidConfig { config, listen, s3_api } = valid;
        let listener = TcpListener::bind(listen).await.map_err(|source| StartError::Bind { addr: listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: listen, source })?;
        let s3_listener = match &s3_api {
            Some(s3) => Some(
                TcpListener::bind(s3.listen)
                    .await
                    .map_err(|source| StartError::BindS3Api { addr: s3.listen, source })?,
            ),
            None => None,
        };
        let data_dir = config.data_dir.clone();
        std::fs::create_dir_all(&data_dir).map_err(|source| StartError::DataDir { path: data_dir, source })?;

        let capacities = Capacities { hot_bytes: config.hot.max_bytes.0, warm_bytes: config.warm.max_bytes.0 };
        let policies = PolicyLoader {
            engine: PolicyEngine::with_memory(
                Some(config.policy_cache()),
                MemoryBudget::new(config.policy_limits.total_memory_bytes),
            )
            .map_err(|source| StartError::Policy { what: "runtime".into(), source })?,
            config: config.policy_pairs(),
            capacities,
            limits: config.policy_limits,
        };
        // Shadow policies run on an engine of their own: their instances'
        // memory is counted against a budget the live policy does not share.
        let shadow_policies = PolicyLoader {
            engine: PolicyEngine::with_memory(
                Some(config.policy_cache()),
                MemoryBudget::new(config.policy_limits.total_memory_bytes),
            )
            .map_err(|source| StartError::Policy { what: "runtime".into(), source })?,
            ..policies.clone()
        };
        let metrics = super::metrics::Exporter::install(config.metrics.histograms)?;
        let policy = load_policy(&config, &policies).await?;
        let store = build_store(&config, policy).await?;
        let max_body_bytes = usize::try_from(config.max_body_bytes.0).unwrap_or(usize::MAX);
        let admin_token = config.admin_token.clone();
        let body_idle_timeout = std::time::Duration::from_millis(config.body_idle_timeout_ms);
        let spool_dir = config.spool_dir();
        tiered::store::spool::empty_dir(&spool_dir)
            .map_err(|source| StartError::DataDir { path: spool_dir.clone(), source })?;
        let state = AppState {
            store,
            policies,
            admin_token,
            max_body_bytes,
            stream_above_bytes: config.stream_above_bytes.0.min(config.max_body_bytes.0),
            max_object_bytes: config.max_object_bytes.0,
            spool_dir,
            body_idle_timeout,
            metrics,
            trace: crate::trace::Capture::new(config.trace_dir(), config.trace.rotate_bytes.0, config.trace.queue),
            shadows: crate::shadow::Shadows::new(config.store.clone(), capacities),
            shadow_policies,
        };
        let state = Arc::new(state);
        let s3_api = match (s3_api, s3_listener) {
            (Some(s3), Some(listener)) => {
                Some(crate::s3api::Endpoint::new(listener, &s3, state.clone(), &config.data_dir))
            }
            _ => None,
        };
        Ok(Service { listener, addr, state, s3_api })
    }

    /// The address actually bound (the port chosen when `listen` asked for 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The S3 endpoint's address, when `[s3_api]` is on.
    pub fn s3_api_addr(&self) -> Option<SocketAddr> {
        self.s3_api.as_ref().map(|s3| s3.local_addr())
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// Serve until `shutdown` completes, then finish the requests in flight.
    /// Both listeners stop on the same signal.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        use futures::FutureExt;
        let shutdown = shutdown.shared();
        let s3_api = self.s3_api.map(|s3| tokio::spawn(s3.serve(shutdown.clone())));
        let identity = self.state.store.policy().identity();
        tracing::info!(addr = %self.addr, policy = %identity.name, version = %identity.version, "listening");
        let state = self.state.clone();
        let front = axum::ServiceExt::<axum::extract::Request>::into_make_service(super::Front::new(self.state));
        let served = axum::serve(self.listener, front).with_graceful_shutdown(shutdown).await;
        // A capture still running is ended so its files are flushed whole.
        if tokio::task::spawn_blocking(move || state.trace.shutdown()).await.is_err() {
            tracing::warn!("the trace capture could not be closed at shutdown");
        }
        if let Some(task) = s3_api {
            match task.await {
                Ok(result) => result?,
                Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
                Err(_) => {}
            }
        }
        served?;
        tracing::info!("stopped: requests in flight have finished");
        Ok(())
    }
}

/// The configured component (a file, or an algorithm of the library by
/// name), or the embedded default, loaded off the runtime.
async fn load_policy(config: &Config, policies: &PolicyLoader) -> Result<Arc<dyn Policy>, StartError> {
    let (what, wasm) = match &config.policy {
        // A name of the algorithm library (`sieve`) that is no file here.
        Some(path) if !path.exists() && path.to_str().and_then(tiered_algorithms::get).is_some() => {
            let algorithm = path.to_str().and_then(tiered_algorithms::get).expect("matched above");
            (format!("{} (the algorithm library's)", algorithm.name), algorithm.wasm.to_vec())
        }
        Some(path) => {
            let wasm = std::fs::read(path).map_err(|source| StartError::PolicyRead { path: path.clone(), source })?;
            (path.display().to_string(), wasm)
        }
        None => ("(the built-in default)".to_string(), DEFAULT_POLICY_WASM.to_vec()),
    };
    let loader = policies.clone();
    let loaded = tokio::task::spawn_blocking(move || loader.load(&wasm)).await;
    match loaded {
        Ok(Ok(policy)) => Ok(Arc::new(policy)),
        Ok(Err(source)) => Err(StartError::Policy { what, source }),
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

/// The tiers the configuration asks for (a budget of 0 disables a cache tier).
async fn build_store(config: &Config, policy: Arc<dyn Policy>) -> Result<TieredStore, StartError> {
    let builder = TieredStore::builder().config(config.store.clone()).policy(policy).spool_dir(config.spool_dir());
    let budgets = Capacities { hot_bytes: config.hot.max_bytes.0, warm_bytes: config.warm.max_bytes.0 };
    let caches = CacheTiers::build(budgets, Arc::new(SystemClock), |budget| {
        let path = config.warm_dir();
        DiskTier::open(&path, budget).map_err(|source| StartError::Tier { tier: "warm", path, source })
    })?;
    let builder = caches.install(builder);
    let (cold, cold_at): (Arc<dyn SourceTier>, String) = match config.cold.kind {
        ColdKind::Local => {
            let path = config.cold_dir();
            let cold = LocalColdTier::open(&path).map_err(|source| StartError::Tier { tier: "cold", path, source })?;
            (Arc::new(cold), config.cold_dir().display().to_string())
        }
        ColdKind::S3 => {
            let s3 = S3Config { max_object_bytes: config.max_body_bytes.0, ..config.cold.s3() };
            let at = format!("s3://{}/{}", s3.bucket, s3.prefix);
            let cold = S3Tier::connect(s3).await.map_err(|source| StartError::Bucket { at: at.clone(), source })?;
            cold.check().await.map_err(|source| StartError::Bucket { at: at.clone(), source })?;
            (Arc::new(cold), at)
        }
    };
    let store = builder.cold(cold).build().map_err(StartError::Store)?;
    let names: Vec<&str> = store.tiers().iter().map(|t| t.as_str()).collect();
    tracing::info!(
        tiers = ?names,
        hot = %config.hot.max_bytes,
        warm = %config.warm.max_bytes,
        warm_dir = %config.warm_dir().display(),
        cold = %cold_at,
        "store ready"
    );
    Ok(store)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM; only Ctrl-C stops the service");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT received; shutting down"),
        () = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
}
