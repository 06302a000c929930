//! Observability routes: `GET /v1/stats` (JSON), `GET /metrics` (Prometheus
//! text format 0.0.4), `GET /healthz`.
//!
//! Both views are one [`TieredStore::stats`](tiered::TieredStore::stats)
//! snapshot: per tier hits, misses, bytes, objects, evictions (and
//! promotions, demotions, corrupt copies, errors, expiries, revalidations),
//! gets and the cache hit ratio, the policy's calls and fallbacks; with a
//! shadow policy loaded, its comparison with the live one
//! ([`crate::shadow::Report`]). `/metrics` adds the latency histograms
//! ([`super::metrics`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::{Value, json};

use super::state::AppState;
use tiered::engine::StoreStats;

/// `GET /v1/stats`: the store's figures, and the shadow comparison when a
/// shadow policy is loaded.
#[derive(Debug, Serialize)]
pub struct Stats {
    #[serde(flatten)]
    pub store: StoreStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<crate::shadow::Report>,
}

/// `GET /v1/stats`.
pub async fn stats(State(state): State<Arc<AppState>>) -> Json<Stats> {
    let store = state.store.stats();
    // The windows are for `GET /v1/policy/shadow` and its plot; the totals
    // and the verdict are here.
    let shadow = state.shadows.summary(store.policy.clone());
    Json(Stats { store, shadow })
}

/// `GET /healthz`: the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /metrics` ([`super::metrics`]).
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let stats = state.store.stats();
    let shadow = state.shadows.summary(stats.policy.clone());
    let text = state.metrics.scrape(&stats, shadow.as_ref(), state.shadows.ended_by_faults());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}
