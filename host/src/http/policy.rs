//! `/v1/policy`: which policy decides, and hot reload.
//!
//! - `GET` → `{"name", "version", "interface", "sha256"}` of the running policy.
//! - `PUT` (admin) with a `.wasm` body: the component is loaded exactly as at
//!   start-up (same engine and compile cache, `[policy_config]`, tier budgets
//!   and limits) on the blocking pool; only a policy that loads and accepts its
//!   configuration replaces the running one (`TieredStore::set_policy`), and
//!   calls already running finish on the old one. A component that does not
//!   load is refused with 400 and the old policy keeps serving.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;

use super::error::ApiError;
use super::extract::{Admin, body};
use super::state::AppState;
use tiered::policy::{Policy, PolicyIdentity};

/// `GET /v1/policy`.
pub async fn info(State(state): State<Arc<AppState>>) -> Json<PolicyIdentity> {
    Json(state.store.policy().identity())
}

/// `PUT /v1/policy`: validate, then swap.
pub async fn reload(
    _: Admin,
    State(state): State<Arc<AppState>>,
    wasm: Result<Bytes, BytesRejection>,
) -> Result<Json<PolicyIdentity>, ApiError> {
    let wasm = body(wasm, state.max_body_bytes)?;
    let loader = state.policies.clone();
    let size = wasm.len();
    tracing::info!(bytes = size, "policy reload requested");
    let loaded = tokio::task::spawn_blocking(move || loader.load(&wasm))
        .await
        .map_err(|e| ApiError::Internal(format!("the policy loading task failed: {e}")))?;
    let policy = loaded.map_err(|err| {
        tracing::warn!(bytes = size, err = %super::error::chain(&err), "policy reload refused; keeping the current policy");
        ApiError::BadPolicy(err)
    })?;
    let identity = policy.identity();
    state.store.set_policy(Arc::new(policy));
    Ok(Json(identity))
}
