//! Observability routes: `GET /v1/stats` (JSON), `GET /metrics` (Prometheus
//! text format 0.0.4), `GET /healthz`.
//!
//! Both views are one [`TieredStore::stats`](tiered::TieredStore::stats)
//! snapshot: per tier hits, misses, bytes, objects, evictions (and
//! promotions, demotions, corrupt copies, errors, expiries, revalidations),
//! gets and the cache hit ratio, the policy's calls and fallbacks. `/metrics`
//! adds the latency histograms ([`super::metrics`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::state::AppState;
use tiered::engine::StoreStats;

/// `GET /v1/stats`.
pub async fn stats(State(state): State<Arc<AppState>>) -> Json<StoreStats> {
    Json(state.store.stats())
}

/// `GET /healthz`: the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /metrics` ([`super::metrics`]).
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let text = state.metrics.scrape(&state.store.stats());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}
