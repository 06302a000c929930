//! Observability routes: `GET /v1/stats` (JSON), `GET /metrics` (Prometheus
//! text format 0.0.4), `GET /healthz`.
//!
//! Both views are one [`TieredStore::stats`](tiered::TieredStore::stats)
//! snapshot: per tier hits, misses, bytes, objects, evictions (and
//! promotions, demotions, corrupt copies, errors, expiries, revalidations),
//! gets and the cache hit ratio, the policy's calls and fallbacks. `/metrics`
//! adds the responses sent by status class.

use std::fmt::Write;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::state::AppState;
use tiered::engine::{StoreStats, TierStats};

/// `GET /v1/stats`.
pub async fn stats(State(state): State<Arc<AppState>>) -> Json<StoreStats> {
    Json(state.store.stats())
}

/// `GET /healthz`: the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let text = render(&state.store.stats(), state.responses.snapshot());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}

type TierField = fn(&TierStats) -> u64;

/// Per-tier series: name, type, help, value.
const TIER_SERIES: &[(&str, &str, &str, TierField)] = &[
    ("hits_total", "counter", "Reads served by the tier.", |t| t.hits),
    ("misses_total", "counter", "Reads the tier could not serve.", |t| t.misses),
    ("evictions_total", "counter", "Objects evicted to stay within the budget.", |t| t.evictions),
    ("demotions_total", "counter", "Evicted hot objects copied down to warm.", |t| t.demotions),
    ("promotions_total", "counter", "Copies made into the tier by reads.", |t| t.promotions),
    ("corrupt_total", "counter", "Copies that failed verification.", |t| t.corrupt),
    ("errors_total", "counter", "Operations of the tier that failed.", |t| t.errors),
    ("expired_total", "counter", "Expired objects found and removed.", |t| t.expired),
    ("revalidations_total", "counter", "Cached copies revalidated against cold.", |t| t.revalidations),
    ("bytes", "gauge", "Bytes stored in the tier.", |t| t.bytes),
    ("objects", "gauge", "Objects stored in the tier.", |t| t.objects),
];

/// The Prometheus text exposition of a stats snapshot.
pub fn render(stats: &StoreStats, responses: impl Iterator<Item = (String, u64)>) -> String {
    let mut out = String::with_capacity(4096);
    for (name, kind, help, value) in TIER_SERIES {
        head(&mut out, &format!("tiered_tier_{name}"), kind, help);
        for t in &stats.tiers {
            let _ = writeln!(out, "tiered_tier_{name}{{tier=\"{}\",kind=\"{}\"}} {}", t.tier, t.kind, value(t));
        }
    }
    head(&mut out, "tiered_tier_capacity_bytes", "gauge", "Byte budget of the tier (cache tiers only).");
    for t in &stats.tiers {
        if let Some(capacity) = t.capacity {
            let _ = writeln!(out, "tiered_tier_capacity_bytes{{tier=\"{}\",kind=\"{}\"}} {capacity}", t.tier, t.kind);
        }
    }
    head(&mut out, "tiered_gets_total", "counter", "Reads answered by the store.");
    let _ = writeln!(out, "tiered_gets_total {}", stats.gets);
    head(&mut out, "tiered_cache_hit_ratio", "gauge", "Share of reads served by hot or warm.");
    let _ = writeln!(out, "tiered_cache_hit_ratio {}", stats.cache_hit_ratio);

    let p = &stats.policy_counters;
    for (name, help, value) in [
        ("calls_total", "Decisions asked of the policy.", p.calls),
        ("fallbacks_total", "Decisions answered by the fallback because the policy failed.", p.fallbacks),
        ("traps_total", "Policy calls that trapped.", p.traps),
        ("timeouts_total", "Policy calls stopped by the deadline.", p.timeouts),
        ("bad_answers_total", "Policy answers of the wrong shape.", p.bad_answers),
        ("rebuilds_total", "Policy instances rebuilt after a failure.", p.rebuilds),
        (
            "throttled_total",
            "Decisions answered by the fallback because the policy took more than its CPU share.",
            p.throttled,
        ),
        ("outgrown_total", "Policy instances dropped after a call because their memory grew too much.", p.outgrown),
        ("memory_refusals_total", "Policy memory growths refused by the process-wide bound.", p.memory_refusals),
        ("log_lines_total", "Messages the policy logged.", p.log_written),
        ("log_truncated_total", "Policy messages cut to the longest line allowed.", p.log_truncated),
        ("log_dropped_total", "Policy messages dropped because the policy was over its log budget.", p.log_dropped),
    ] {
        head(&mut out, &format!("tiered_policy_{name}"), "counter", help);
        let _ = writeln!(out, "tiered_policy_{name} {value}");
    }
    head(
        &mut out,
        "tiered_policy_busy_seconds_total",
        "counter",
        &format!(
            "Time spent inside policy calls (placement and promotion estimated from one call in {}).",
            tiered::policy::BUSY_SAMPLE_EVERY
        ),
    );
    let _ = writeln!(out, "tiered_policy_busy_seconds_total {}", p.busy_ns as f64 / 1e9);
    head(
        &mut out,
        "tiered_policy_memory_bytes",
        "gauge",
        "Linear memory of policy instances: `idle` = the policy's pooled idle instances, `all` = every instance of \
         the process.",
    );
    let _ = writeln!(out, "tiered_policy_memory_bytes{{state=\"idle\"}} {}", p.idle_memory_bytes);
    let _ = writeln!(out, "tiered_policy_memory_bytes{{state=\"all\"}} {}", p.memory_bytes);
    head(&mut out, "tiered_policy_memory_limit_bytes", "gauge", "Bound of the linear memory of all policy instances.");
    let _ = writeln!(out, "tiered_policy_memory_limit_bytes {}", p.memory_limit_bytes);
    let id = &stats.policy;
    head(&mut out, "tiered_policy_info", "gauge", "The policy deciding (always 1).");
    let _ = writeln!(
        out,
        "tiered_policy_info{{name=\"{}\",version=\"{}\",interface=\"{}\",sha256=\"{}\"}} 1",
        escape(&id.name),
        escape(&id.version),
        escape(&id.interface),
        id.sha256.as_deref().unwrap_or("")
    );
    head(&mut out, "tiered_http_responses_total", "counter", "HTTP responses sent, by status class.");
    for (class, n) in responses {
        let _ = writeln!(out, "tiered_http_responses_total{{class=\"{class}\"}} {n}");
    }
    out
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
