//! `/metrics`: the Prometheus exposition, written by a metrics library.
//!
//! The crates record through the [`metrics`] facade, as they log through
//! `tracing`: the library (`tiered`: disk-tier operations, eviction rounds),
//! `tiered-s3` (every S3 request, retries included), `tiered-wasm` (policy
//! calls) and this service (HTTP requests, [`observe`]). Without a recorder
//! installed, as in an embedder that wants none, a record costs one atomic
//! load. The service installs `metrics-exporter-prometheus`'s recorder once
//! per process ([`Exporter::install`]) and renders it on each scrape
//! ([`Exporter::scrape`]), after copying in the store's counters
//! ([`TieredStore::stats`](tiered::TieredStore::stats)), whose names are
//! those of the hand-written exposition this replaces. `docs/http.md` lists
//! every metric.
//!
//! A request's [`Observation`] counts its response, or, dropped before one
//! was ready (the client hung up), counts it as abandoned; the S3 endpoint
//! does the same with its own counters (`s3api`).
//!
//! Histograms have buckets chosen for what they time: HTTP requests from
//! 50 µs to 10 s, S3 requests from 1 ms to 30 s, policy calls from 100 ns to
//! 10 ms, disk-tier operations and eviction rounds from 10 µs to 1 s.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{
    Key, KeyName, Metadata, SharedString, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge,
    histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use parking_lot::Mutex;
use std::hash::BuildHasher;
use tiered::engine::{StoreStats, TierStats};
use tiered::policy::PolicyIdentity;
use tracing::Instrument;
use tracing::field::Empty;

use super::state::AppState;

/// HTTP request latency: route, method, status class, serving tier.
pub const HTTP_REQUEST_SECONDS: &str = "tiered_http_request_duration_seconds";

const HTTP_BUCKETS: &[f64] =
    &[0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const S3_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
const POLICY_BUCKETS: &[f64] = &[1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 1e-4, 1e-3, 1e-2];
const LOCAL_BUCKETS: &[f64] = &[1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 1.0];

/// The process's Prometheus recorder.
#[derive(Debug)]
pub struct Exporter {
    handle: PrometheusHandle,
    /// Whether latency histograms are recorded (`[metrics] histograms`).
    histograms: bool,
    /// The policy last reported as deciding (its info series is set to 0
    /// when another replaces it).
    deciding: Mutex<Option<PolicyIdentity>>,
    /// Handles of the HTTP histogram's series, by route, method, status
    /// class and tier, each registered on first use: a request then records
    /// without building a key or looking it up.
    http: Box<[OnceLock<metrics::Histogram>]>,
    /// Handles of `tiered_http_responses_total`, by status class.
    responses: [OnceLock<metrics::Counter>; STATUSES.len()],
    /// Handles of `tiered_http_requests_abandoned_total`, by route.
    abandoned: [OnceLock<metrics::Counter>; ROUTES.len()],
}

static EXPORTER: OnceLock<Exporter> = OnceLock::new();

/// Why the recorder could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    #[error("cannot build the Prometheus recorder: {0}")]
    Build(#[from] metrics_exporter_prometheus::BuildError),
    #[error("another metrics recorder is installed in this process")]
    Taken,
}

impl Exporter {
    /// The process's exporter, installed as the global recorder on first
    /// use; later services in the process share it (and its `histograms`
    /// setting). Without histograms, every histogram recorded in the process
    /// is dropped at the recorder and the HTTP one is not even recorded.
    pub fn install(histograms: bool) -> Result<&'static Exporter, ExporterError> {
        static INSTALLING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = INSTALLING.lock();
        if let Some(exporter) = EXPORTER.get() {
            return Ok(exporter);
        }
        let mut builder = PrometheusBuilder::new();
        for (name, values) in [
            (HTTP_REQUEST_SECONDS, HTTP_BUCKETS),
            (tiered_s3::REQUEST_SECONDS, S3_BUCKETS),
            (tiered_wasm::CALL_SECONDS, POLICY_BUCKETS),
            (tiered::metrics::DISK_OPERATION_SECONDS, LOCAL_BUCKETS),
            (tiered::metrics::EVICTION_ROUND_SECONDS, LOCAL_BUCKETS),
        ] {
            builder = builder.set_buckets_for_metric(Matcher::Full(name.to_string()), values)?;
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let installed = match histograms {
            true => metrics::set_global_recorder(recorder).map_err(drop),
            false => metrics::set_global_recorder(WithoutHistograms(recorder)).map_err(drop),
        };
        installed.map_err(|_| ExporterError::Taken)?;
        describe(histograms);
        let series = ROUTES.len() * METHODS.len() * STATUSES.len() * TIERS.len();
        Ok(EXPORTER.get_or_init(|| Exporter {
            handle,
            histograms,
            deciding: Mutex::new(None),
            http: (0..series).map(|_| OnceLock::new()).collect(),
            responses: Default::default(),
            abandoned: Default::default(),
        }))
    }

    /// The exposition: the store's counters as of now, the shadow policy's
    /// comparison when one is loaded, then every series.
    pub fn scrape(&self, stats: &StoreStats, shadow: Option<&crate::shadow::Report>, shadow_faults: u64) -> String {
        self.copy_stats(stats);
        copy_shadow(shadow, shadow_faults);
        self.handle.render()
    }

    fn copy_stats(&self, stats: &StoreStats) {
        for t in &stats.tiers {
            let labels = [("tier", t.tier.to_string()), ("kind", t.kind.to_string())];
            for (name, value) in tier_counters(t) {
                counter!(format!("tiered_tier_{name}"), &labels[..]).absolute(value);
            }
            gauge!("tiered_tier_bytes", &labels[..]).set(t.bytes as f64);
            gauge!("tiered_tier_objects", &labels[..]).set(t.objects as f64);
            if let Some(capacity) = t.capacity {
                gauge!("tiered_tier_capacity_bytes", &labels[..]).set(capacity as f64);
            }
        }
        counter!("tiered_gets_total").absolute(stats.gets);
        gauge!("tiered_cache_hit_ratio").set(stats.cache_hit_ratio);
        let p = &stats.policy_counters;
        for (name, value) in [
            ("calls_total", p.calls),
            ("fallbacks_total", p.fallbacks),
            ("traps_total", p.traps),
            ("timeouts_total", p.timeouts),
            ("rebuilds_total", p.rebuilds),
            ("order_resets_total", p.order_resets),
            ("order_pauses_total", p.order_pauses),
            ("throttled_total", p.throttled),
            ("outgrown_total", p.outgrown),
            ("memory_refusals_total", p.memory_refusals),
            ("log_lines_total", p.log_written),
            ("log_truncated_total", p.log_truncated),
            ("log_dropped_total", p.log_dropped),
        ] {
            counter!(format!("tiered_policy_{name}")).absolute(value);
        }
        gauge!("tiered_policy_busy_seconds_total").set(p.busy_ns as f64 / 1e9);
        gauge!("tiered_policy_memory_bytes", "state" => "idle").set(p.idle_memory_bytes as f64);
        gauge!("tiered_policy_memory_bytes", "state" => "all").set(p.memory_bytes as f64);
        gauge!("tiered_policy_memory_limit_bytes").set(p.memory_limit_bytes as f64);
        let mut deciding = self.deciding.lock();
        if deciding.as_ref() != Some(&stats.policy)
            && let Some(previous) = deciding.replace(stats.policy.clone())
        {
            gauge!("tiered_policy_info", &info_labels(&previous)[..]).set(0.0);
        }
        gauge!("tiered_policy_info", &info_labels(&stats.policy)[..]).set(1.0);
    }
}

fn info_labels(id: &PolicyIdentity) -> [(&'static str, String); 4] {
    [
        ("name", id.name.clone()),
        ("version", id.version.clone()),
        ("interface", id.interface.clone()),
        ("sha256", id.sha256.clone().unwrap_or_default()),
    ]
}

/// Per-tier counters: name (after `tiered_tier_`), value.
fn tier_counters(t: &TierStats) -> [(&'static str, u64); 16] {
    [
        ("hits_total", t.hits),
        ("misses_total", t.misses),
        ("evictions_total", t.evictions),
        ("demotions_total", t.demotions),
        ("promotions_total", t.promotions),
        ("corrupt_total", t.corrupt),
        ("errors_total", t.errors),
        ("expired_total", t.expired),
        ("revalidations_total", t.revalidations),
        ("refused_total", t.refused),
        ("victims_rejected_total", t.victims_rejected),
        ("host_evictions_total", t.host_evictions),
        ("id_collisions_total", t.id_collisions),
        ("handovers_total", t.handovers),
        ("order_mismatches_total", t.order_mismatches),
        ("hits_dropped_total", t.hits_dropped),
    ]
}

/// Help texts, once per process.
fn describe(histograms: bool) {
    for (name, help) in [
        ("tiered_tier_hits_total", "Reads served by the tier."),
        ("tiered_tier_misses_total", "Reads the tier could not serve."),
        ("tiered_tier_evictions_total", "Objects evicted to stay within the budget."),
        ("tiered_tier_demotions_total", "Evicted hot objects copied down to warm."),
        ("tiered_tier_promotions_total", "Copies made into the tier by reads."),
        ("tiered_tier_corrupt_total", "Copies that failed verification."),
        ("tiered_tier_errors_total", "Operations of the tier that failed."),
        ("tiered_tier_expired_total", "Expired objects found and removed."),
        ("tiered_tier_revalidations_total", "Cached copies revalidated against cold."),
        ("tiered_tier_refused_total", "Arrivals the policy refused (admission against the victims)."),
        ("tiered_tier_victims_rejected_total", "Victims the policy named that the host could not use."),
        ("tiered_tier_host_evictions_total", "Evictions the host's own order made for an ordered policy."),
        ("tiered_tier_id_collisions_total", "Objects not cached because another resident key has their id."),
        ("tiered_tier_handovers_total", "Times the residents were handed to the policy's order."),
        (
            "tiered_tier_order_mismatches_total",
            "Times the policy's count of residents disagreed with the host's (its order was rebuilt).",
        ),
        ("tiered_tier_hits_dropped_total", "Hit events dropped because their buffer was full."),
        ("tiered_gets_total", "Reads answered by the store."),
        ("tiered_policy_calls_total", "Decisions asked of the policy."),
        ("tiered_policy_fallbacks_total", "Decisions answered by the fallback because the policy failed."),
        ("tiered_policy_traps_total", "Policy calls that trapped."),
        ("tiered_policy_timeouts_total", "Policy calls stopped by the deadline."),
        ("tiered_policy_rebuilds_total", "Policy instances rebuilt after a failure."),
        ("tiered_policy_order_resets_total", "Times the policy's eviction order was lost and rebuilt."),
        ("tiered_policy_order_pauses_total", "Times the policy's eviction order rested after repeated failures."),
        (
            "tiered_policy_throttled_total",
            "Decisions answered by the fallback because the policy took more than its CPU share.",
        ),
        ("tiered_policy_outgrown_total", "Policy instances dropped after a call because their memory grew too much."),
        ("tiered_policy_memory_refusals_total", "Policy memory growths refused by the process-wide bound."),
        ("tiered_policy_log_lines_total", "Messages the policy logged."),
        ("tiered_policy_log_truncated_total", "Policy messages cut to the longest line allowed."),
        ("tiered_policy_log_dropped_total", "Policy messages dropped because the policy was over its log budget."),
        ("tiered_http_responses_total", "HTTP responses sent, by status class."),
        (
            "tiered_http_requests_abandoned_total",
            "HTTP requests whose client left before the response was ready, by route.",
        ),
        (
            "tiered_s3_api_responses_total",
            "S3 endpoint responses, by status class and path (direct: a plain read answered without s3s; s3s).",
        ),
        (
            "tiered_s3_api_requests_abandoned_total",
            "S3 endpoint requests whose client left before the response was ready.",
        ),
        ("tiered_shadow_ended_by_faults_total", "Shadow policies ended because their policy trapped or overran."),
        ("tiered_shadow_reads_total", "Reads the live and the shadow policy were both counted on."),
        ("tiered_shadow_dropped_total", "Requests left out of the comparison because the shadow's queue was full."),
        ("tiered_shadow_s3_gets_total", "Reads served by cold, by side (live, or shadow as it would have)."),
        ("tiered_shadow_policy_fallbacks_total", "Shadow policy decisions answered by the fallback."),
    ] {
        describe_counter!(name, help);
    }
    for (name, help) in [
        ("tiered_tier_bytes", "Bytes stored in the tier."),
        ("tiered_tier_objects", "Objects stored in the tier."),
        ("tiered_tier_capacity_bytes", "Byte budget of the tier (cache tiers only)."),
        ("tiered_cache_hit_ratio", "Share of reads served by hot or warm."),
        (
            "tiered_policy_busy_seconds_total",
            "Time spent inside policy calls (placement and promotion estimated from a sample of calls).",
        ),
        (
            "tiered_policy_memory_bytes",
            "Linear memory of policy instances: `idle` = the policy's pooled idle instances, `all` = every \
             instance of the process.",
        ),
        ("tiered_policy_memory_limit_bytes", "Bound of the linear memory of all policy instances."),
        ("tiered_policy_info", "The policy deciding (1), and those replaced since the process started (0)."),
        ("tiered_shadow_running", "Whether a shadow policy is being compared with the live one."),
        ("tiered_shadow_miss_ratio", "Share of compared reads no cache tier served, by side."),
        ("tiered_shadow_byte_miss_ratio", "Share of compared bytes no cache tier served, by side."),
        ("tiered_shadow_policy_busy_seconds_total", "Time spent inside the shadow policy's calls."),
    ] {
        describe_gauge!(name, help);
    }
    if !histograms {
        return;
    }
    for (name, help) in [
        (HTTP_REQUEST_SECONDS, "HTTP requests, by route, method, status class and serving tier."),
        (tiered_s3::REQUEST_SECONDS, "S3 requests (each attempt), by operation and outcome."),
        (tiered_wasm::CALL_SECONDS, "Policy calls, by call (placement and promotion: a sample of calls)."),
        (tiered::metrics::DISK_OPERATION_SECONDS, "Disk-tier reads and writes, by tier and operation."),
        (tiered::metrics::EVICTION_ROUND_SECONDS, "Eviction rounds, by tier."),
    ] {
        describe_histogram!(name, Unit::Seconds, help);
    }
}

/// Middleware, outermost: runs each request in its span ([`request_span`]),
/// counts each response by status class and, with histograms on, times each
/// request, refused ones included, by route (the route's pattern, never the
/// key), method, status class and the tier that served it
/// (`x-tiered-source`; `none` when no tier did).
pub async fn observe(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let observation = Observation::begin(&state, request.method(), request.uri().path());
    let response = next.run(request).instrument(observation.span.clone()).await;
    observation.end(response)
}

/// One request as [`observe`] sees it, for a caller that runs the request
/// itself ([`super::front`]): begun before the request is handled, ended
/// with its response. Dropped without an end (the client hung up and the
/// request's future was dropped), it counts the request as abandoned.
pub struct Observation {
    started: Option<Instant>,
    route: usize,
    method: usize,
    span: tracing::Span,
    metrics: &'static Exporter,
    ended: bool,
}

impl std::fmt::Debug for Observation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observation")
            .field("route", &ROUTES[self.route])
            .field("method", &METHODS[self.method])
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Observation {
    pub fn begin(state: &AppState, method: &axum::http::Method, path: &str) -> Observation {
        let started = state.metrics.histograms.then(Instant::now);
        let (route, method) = (route_of(path), method_of(method));
        let span = request_span(ROUTES[route], METHODS[method], path);
        Observation { started, route, method, span, metrics: state.metrics, ended: false }
    }

    /// The request's span: what handling it does is recorded inside.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Counts and times `response`, and passes it on.
    pub fn end(mut self, response: Response) -> Response {
        self.ended = true;
        let (started, route, method, span) = (self.started, self.route, self.method, &self.span);
        let metrics = self.metrics;
        let status = status_class(response.status());
        let tier = match response.headers().get("x-tiered-source").map(|v| v.as_bytes()) {
            Some(b"hot") => 0,
            Some(b"warm") => 1,
            Some(b"cold") => 2,
            _ => 3,
        };
        span.record("status", STATUSES[status]).record("tier", TIERS[tier]);
        if !span.is_disabled() {
            // One debug line per request, in its span (the path, which holds
            // the key, is not logged).
            let _in = span.enter();
            tracing::debug!(status = response.status().as_u16(), "request");
        }
        let class = STATUSES[status];
        metrics.responses[status]
            .get_or_init(|| counter!("tiered_http_responses_total", "class" => class))
            .increment(1);
        if let Some(started) = started {
            let index = ((route * METHODS.len() + method) * STATUSES.len() + status) * TIERS.len() + tier;
            let labels =
                [("route", ROUTES[route]), ("method", METHODS[method]), ("status", class), ("tier", TIERS[tier])];
            let series = metrics.http[index].get_or_init(|| histogram!(HTTP_REQUEST_SECONDS, &labels[..]));
            series.record(started.elapsed().as_secs_f64());
        }
        response
    }
}

impl Drop for Observation {
    fn drop(&mut self) {
        // A handler that panicked did not lose its client.
        if self.ended || std::thread::panicking() {
            return;
        }
        let route = ROUTES[self.route];
        self.metrics.abandoned[self.route]
            .get_or_init(|| counter!("tiered_http_requests_abandoned_total", "route" => route))
            .increment(1);
        if !self.span.is_disabled() {
            let _in = self.span.enter();
            tracing::debug!("the client left before the response was ready");
        }
    }
}

/// The request's span (level debug: free unless a subscriber asks for
/// it): route, method, the key's hash (never the key: a process-wide seeded
/// 64-bit hash, so one key's requests correlate within a process's traces
/// and cannot be looked up across processes), and, once answered, status
/// class and serving tier. What the request causes below (the engine's
/// events, S3 requests, policy calls) is recorded inside it.
fn request_span(route: &'static str, method: &'static str, path: &str) -> tracing::Span {
    let span = tracing::debug_span!("request", route, method, key_hash = Empty, status = Empty, tier = Empty);
    if !span.is_disabled()
        && let Some(key) = path.strip_prefix("/v1/objects/").or_else(|| path.strip_prefix("/v1/touch/"))
    {
        static SEED: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
        let hash = SEED.get_or_init(Default::default).hash_one(key);
        span.record("key_hash", format_args!("{hash:016x}"));
    }
    span
}

/// A recorder that keeps counters and gauges and drops every histogram.
#[derive(Debug)]
struct WithoutHistograms(PrometheusRecorder);

impl metrics::Recorder for WithoutHistograms {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, _key: KeyName, _unit: Option<Unit>, _description: SharedString) {}

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> metrics::Counter {
        self.0.register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> metrics::Gauge {
        self.0.register_gauge(key, metadata)
    }

    fn register_histogram(&self, _key: &Key, _metadata: &Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

/// The label values of the HTTP histogram: finite sets (keys never become
/// labels).
const ROUTES: [&str; 11] = [
    "/healthz",
    "/metrics",
    "/v1/stats",
    "/v1/objects",
    "/v1/invalidate",
    "/v1/bootstrap/hot",
    "/v1/bootstrap/warm",
    "/v1/policy",
    "/v1/objects/:key",
    "/v1/touch/:key",
    "other",
];
const METHODS: [&str; 6] = ["GET", "HEAD", "PUT", "POST", "DELETE", "other"];
/// The status classes responses are counted by.
pub(crate) const STATUSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The class of `status` as an index of [`STATUSES`] (a code outside
/// 100–599 counts with the nearest class).
pub(crate) fn status_class(status: axum::http::StatusCode) -> usize {
    usize::from(status.as_u16() / 100).clamp(1, 5) - 1
}
const TIERS: [&str; 4] = ["hot", "warm", "cold", "none"];

/// The route a path belongs to, as an index of [`ROUTES`].
fn route_of(path: &str) -> usize {
    if let Some(exact) = ROUTES[..8].iter().position(|&r| r == path) {
        exact
    } else if path.starts_with("/v1/objects/") {
        8
    } else if path.starts_with("/v1/touch/") {
        9
    } else {
        10
    }
}

/// A method as an index of [`METHODS`].
fn method_of(method: &axum::http::Method) -> usize {
    use axum::http::Method;
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::PUT => 2,
        Method::POST => 3,
        Method::DELETE => 4,
        _ => 5,
    }
}

/// The shadow comparison as series: `tiered_shadow_*`, one `side` label
/// (`live`, `shadow`) where both sides are counted.
fn copy_shadow(shadow: Option<&crate::shadow::Report>, faults: u64) {
    counter!("tiered_shadow_ended_by_faults_total").absolute(faults);
    gauge!("tiered_shadow_running").set(if shadow.is_some_and(|r| r.running) { 1.0 } else { 0.0 });
    let Some(r) = shadow else { return };
    counter!("tiered_shadow_reads_total").absolute(r.reads);
    counter!("tiered_shadow_dropped_total").absolute(r.dropped);
    for (side, s) in [("live", &r.live), ("shadow", &r.shadow)] {
        gauge!("tiered_shadow_miss_ratio", "side" => side).set(s.miss_ratio);
        gauge!("tiered_shadow_byte_miss_ratio", "side" => side).set(s.byte_miss_ratio);
        counter!("tiered_shadow_s3_gets_total", "side" => side).absolute(s.s3_gets);
    }
    counter!("tiered_shadow_policy_fallbacks_total").absolute(r.shadow_policy.fallbacks);
    gauge!("tiered_shadow_policy_busy_seconds_total").set(r.shadow_policy.busy_ns as f64 / 1e9);
}
