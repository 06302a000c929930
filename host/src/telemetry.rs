//! Where the process's logs and traces go: one `tracing` subscriber, set up
//! once by the binary ([`init`]).
//!
//! - Logs: formatted lines on stderr, filtered by `RUST_LOG` (default
//!   [`DEFAULT_LOG_FILTER`]: `info`, without the s3s crate's own lines, which
//!   report every refused S3 request, a `NoSuchKey` too, as an error; the S3
//!   endpoint logs its requests itself).
//! - Traces (feature `otel`, `[tracing] otlp_endpoint`): spans exported with
//!   OTLP over HTTP (protobuf) to a collector (the OpenTelemetry Collector,
//!   Jaeger, Tempo...), in batches from a background thread, filtered by
//!   `[tracing] otlp_filter` on their own (default: the `request` spans of
//!   the service with the S3 requests and policy calls inside them, and
//!   everything at `info`). A build without the feature refuses an endpoint
//!   rather than ignore it.
//!
//! The spans are those of the code: `request` per HTTP request
//! (`http/metrics.rs`: route, method, the key's seeded hash, status, tier),
//! with the engine's events, the AWS SDK's spans and `policy_call` inside.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::TracingConfig;

/// Why traces cannot be exported as configured.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error(
        "[tracing] otlp_endpoint is set, but this build of tiered has no OpenTelemetry exporter: \
         build it with `--features otel`"
    )]
    NotBuilt,
    #[error("[tracing] otlp_filter {filter:?} is not a filter: {message}")]
    Filter { filter: String, message: String },
    #[cfg(feature = "otel")]
    #[error("cannot set up the OTLP exporter to {endpoint}: {message}")]
    Exporter { endpoint: String, message: String },
}

/// Flushes the exported spans when dropped (at the end of `main`).
#[derive(Debug, Default)]
pub struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take()
            && let Err(err) = provider.shutdown()
        {
            tracing::warn!(%err, "could not flush the last spans to the OTLP endpoint");
        }
    }
}

/// The log filter when `RUST_LOG` is not set.
pub const DEFAULT_LOG_FILTER: &str = "info,s3s=off";

/// Install the process's subscriber: stderr logs, and with `tracing` an
/// OTLP exporter. Call once.
pub fn init(tracing: Option<&TracingConfig>) -> Result<Telemetry, TelemetryError> {
    let logs = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(logs);
    let registry = tracing_subscriber::registry().with(fmt);
    let Some(endpoint) = tracing.and_then(|t| t.otlp_endpoint.as_deref()) else {
        registry.init();
        return Ok(Telemetry::default());
    };
    let filter_text = tracing.map_or(TracingConfig::DEFAULT_FILTER, |t| t.otlp_filter.as_str());
    let filter = EnvFilter::try_new(filter_text)
        .map_err(|e| TelemetryError::Filter { filter: filter_text.to_string(), message: e.to_string() })?;
    otlp(registry, endpoint, filter)
}

#[cfg(not(feature = "otel"))]
fn otlp<S>(_registry: S, _endpoint: &str, _filter: EnvFilter) -> Result<Telemetry, TelemetryError> {
    Err(TelemetryError::NotBuilt)
}

#[cfg(feature = "otel")]
fn otlp<S>(registry: S, endpoint: &str, filter: EnvFilter) -> Result<Telemetry, TelemetryError>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync + 'static,
{
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig;

    let failed = |message: String| TelemetryError::Exporter { endpoint: endpoint.to_string(), message };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name("tiered").build();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("tiered")).with_filter(filter);
    registry.with(layer).init();
    tracing::info!(endpoint, "exporting traces with OTLP");
    Ok(Telemetry { provider: Some(provider) })
}
