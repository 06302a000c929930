//! Store-wide and maintenance routes, each one engine call:
//!
//! | route | engine | admin token |
//! |---|---|---|
//! | `POST /v1/invalidate?prefix=P` → `{"deleted": N}` | `invalidate` | yes |
//! | `POST /v1/touch/{key}?ttl=SECONDS` → 204 / 404 | `touch` | no |
//! | `POST /v1/bootstrap/hot?limit=N` → `{"loaded": N}` | `bootstrap_hot` | yes |
//! | `POST /v1/bootstrap/warm?limit=N&since=SECONDS` → `{"loaded": N}` | `bootstrap_warm` | yes |
//!
//! `prefix` is required by invalidate (`prefix=` invalidates everything, on
//! purpose, never by omission). A touch without `ttl` makes the object never
//! expire. Bootstraps log their progress (`bootstrap_hot progress loaded=...`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Admin, key_from_path, seconds};
use super::state::AppState;

/// The route prefix touched keys follow.
pub const TOUCH_PREFIX: &str = "/v1/touch/";

#[derive(Debug, Deserialize)]
pub struct InvalidateQuery {
    prefix: Option<String>,
}

/// `POST /v1/invalidate?prefix=P`.
pub async fn invalidate(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Query(q): Query<InvalidateQuery>,
) -> Result<Json<Value>, ApiError> {
    let prefix = q.prefix.ok_or_else(|| {
        ApiError::BadRequest("the prefix parameter is required (`prefix=` invalidates every key)".into())
    })?;
    let deleted = state.store.invalidate(&prefix).await?;
    state.shadows.saw_invalidate(&prefix);
    Ok(Json(json!({ "deleted": deleted })))
}

#[derive(Debug, Deserialize)]
pub struct TouchQuery {
    ttl: Option<String>,
}

/// `POST /v1/touch/{key}?ttl=SECONDS`.
pub async fn touch(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    Query(q): Query<TouchQuery>,
) -> Result<StatusCode, ApiError> {
    let key = key_from_path(uri.path(), TOUCH_PREFIX)?;
    let ttl = q.ttl.as_deref().map(|t| seconds("ttl", t)).transpose()?;
    if state.store.touch(&key, ttl).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NoSuchKey(key)) }
}

#[derive(Debug, Deserialize)]
pub struct BootstrapQuery {
    limit: Option<usize>,
    since: Option<String>,
}

/// `POST /v1/bootstrap/hot?limit=N`: warm → hot, most valuable first.
pub async fn bootstrap_hot(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Query(q): Query<BootstrapQuery>,
) -> Result<Json<Value>, ApiError> {
    if q.since.is_some() {
        return Err(ApiError::BadRequest("since applies to bootstrap/warm only".into()));
    }
    let limit = q.limit.unwrap_or(usize::MAX);
    tracing::info!(limit, "bootstrap_hot requested");
    let loaded = state.store.bootstrap_hot(limit).await?;
    Ok(Json(json!({ "loaded": loaded })))
}

/// `POST /v1/bootstrap/warm?limit=N&since=SECONDS`: cold → warm, objects
/// written within `since` (all when absent).
pub async fn bootstrap_warm(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Query(q): Query<BootstrapQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(usize::MAX);
    let since = q.since.as_deref().map(|s| seconds("since", s)).transpose()?;
    tracing::info!(limit, ?since, "bootstrap_warm requested");
    let loaded = state.store.bootstrap_warm(limit, since).await?;
    Ok(Json(json!({ "loaded": loaded })))
}
