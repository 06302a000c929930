//! `/v1/trace`: access-trace capture (see [`crate::trace`]), every route
//! admin-only (a status names files and the key-hash seed).
//!
//! | route | answer |
//! |---|---|
//! | `POST /v1/trace/start` JSON `{duration_secs, max_requests, sample, format, seed}`, all optional | 200 status; 409 while a capture runs; 400 for a bad parameter |
//! | `POST /v1/trace/stop` | 200 final status (queued requests written, files closed); the last status when none runs |
//! | `GET /v1/trace` | 200 status of the running capture, or of the last one |
//!
//! Starting and stopping touch files, so they run on the blocking pool.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;

use super::error::ApiError;
use super::extract::{Admin, body};
use super::state::AppState;
use crate::trace::{StartParams, Status};

/// `POST /v1/trace/start`.
pub async fn start(
    _: Admin,
    State(state): State<Arc<AppState>>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Status>, ApiError> {
    let raw = body(raw, state.max_body_bytes)?;
    let params: StartParams = if raw.iter().all(u8::is_ascii_whitespace) {
        StartParams::default()
    } else {
        serde_json::from_slice(&raw).map_err(|err| {
            ApiError::BadRequest(format!(
                "the body must be a JSON object with optional duration_secs, max_requests, sample, format \
                 (\"oracle-general\" or \"csv\") and seed: {err}"
            ))
        })?
    };
    let started = tokio::task::spawn_blocking(move || state.trace.start(params))
        .await
        .map_err(|e| ApiError::Internal(format!("the trace start task failed: {e}")))?;
    Ok(Json(started?))
}

/// `POST /v1/trace/stop`.
pub async fn stop(_: Admin, State(state): State<Arc<AppState>>) -> Result<Json<Status>, ApiError> {
    let stopped = tokio::task::spawn_blocking(move || state.trace.stop())
        .await
        .map_err(|e| ApiError::Internal(format!("the trace stop task failed: {e}")))?;
    Ok(Json(stopped))
}

/// `GET /v1/trace`.
pub async fn status(_: Admin, State(state): State<Arc<AppState>>) -> Json<Status> {
    Json(state.trace.status())
}
