//! `/v1/policy/shadow`: a candidate policy decides on ghost tiers beside the
//! live one (see [`crate::shadow`]); changing it is admin-only, reading the
//! comparison is not (it names no key).
//!
//! | route | answer |
//! |---|---|
//! | `PUT /v1/policy/shadow[?window=N&config=k=v,k=v]` with a `.wasm` body, or `?algorithm=NAME` and no body | 200 report; 400 for a component that does not load; 409 while another shadow runs |
//! | `GET /v1/policy/shadow` | 200 live and shadow over the same reads, with the verdict; 404 when none is loaded |
//! | `DELETE /v1/policy/shadow` | 200 the final report; 404 when none is loaded |
//! | `POST /v1/policy/shadow/promote` | 200 identity of the new live policy; 404 when none is loaded; 409 when it ended on a fault |
//!
//! The candidate is loaded as `PUT /v1/policy` loads one (same checks,
//! `[policy_config]` and budgets) on a policy engine of its own; `config`
//! sets or overrides `[policy_config]` pairs for the candidate alone (e.g.
//! the default policy with `eviction=s3fifo`). Promotion loads it again,
//! with those pairs, as the live policy, through the hot-reload path (the
//! store hands it the residents; no request fails), then drops the shadow.
//! Promotion changes the running process only: the configuration file and
//! `--policy` decide again at the next start.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Admin, body};
use super::state::{AppState, PolicyLoader};
use crate::shadow::{Candidate, DEFAULT_WINDOW, Report, ShadowError};
use tiered::policy::{Policy, PolicyIdentity};

/// The query of `PUT /v1/policy/shadow`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadParams {
    /// Reads per window of the verdict.
    pub window: Option<u64>,
    /// `[policy_config]` pairs for the candidate, `key=value,key=value`.
    pub config: Option<String>,
    /// One of the library's algorithms (or `default`, the embedded default
    /// policy) instead of a body.
    pub algorithm: Option<String>,
}

/// The candidate's component: the body, or the library's `algorithm`.
fn candidate(body: Bytes, algorithm: Option<&str>) -> Result<Bytes, ApiError> {
    match (algorithm, body.is_empty()) {
        (None, false) => Ok(body),
        (Some(_), false) => Err(ApiError::BadRequest("give a .wasm body or algorithm=NAME, not both".into())),
        (None, true) => Err(ApiError::BadRequest(
            "the body must be a policy component (.wasm), or name one of the library's with algorithm=NAME".into(),
        )),
        (Some("default"), true) => Ok(Bytes::from_static(tiered_wasm::DEFAULT_POLICY_WASM)),
        (Some(name), true) => tiered_algorithms::get(name).map(|a| Bytes::from_static(a.wasm)).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "no algorithm {name:?} in the library (known: default, {})",
                tiered_algorithms::names()
            ))
        }),
    }
}

/// The pairs of a `config` parameter (`k=v,k=v`).
fn overrides(text: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let items = text.unwrap_or("").split(',').filter(|i| !i.trim().is_empty());
    items
        .map(|item| {
            let (key, value) = item.split_once('=').ok_or_else(|| {
                ApiError::BadRequest(format!("config takes key=value pairs separated by commas; {item:?} has no '='"))
            })?;
            Ok((key.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

/// The service's `[policy_config]` pairs with `overrides` set over them.
fn merged(base: &[(String, String)], overrides: &[(String, String)]) -> Vec<(String, String)> {
    let mut pairs = base.to_vec();
    for (key, value) in overrides {
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1.clone_from(value),
            None => pairs.push((key.clone(), value.clone())),
        }
    }
    pairs
}

/// `PUT /v1/policy/shadow`.
pub async fn load(
    _: Admin,
    State(state): State<Arc<AppState>>,
    params: Result<Query<LoadParams>, axum::extract::rejection::QueryRejection>,
    wasm: Result<Bytes, BytesRejection>,
) -> Result<Json<Report>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::BadRequest(format!("the query takes window=N: {e}")))?;
    let wasm = candidate(body(wasm, state.max_body_bytes)?, params.algorithm.as_deref())?;
    let _admin = state.shadows.admin().await;
    // Refuse early, before seconds of compiling.
    let window = params.window.unwrap_or(DEFAULT_WINDOW);
    state.shadows.ready(window)?;
    let overrides = overrides(params.config.as_deref())?;
    let config = merged(&state.shadow_policies.config, &overrides);
    let loader = PolicyLoader { config: config.clone(), ..state.shadow_policies.clone() };
    let bytes = wasm.clone();
    let loaded = tokio::task::spawn_blocking(move || loader.load(&bytes))
        .await
        .map_err(|e| ApiError::Internal(format!("the policy loading task failed: {e}")))?;
    let policy = loaded.map_err(|err| {
        tracing::warn!(err = %super::error::chain(&err), "shadow policy refused");
        ApiError::BadPolicy(err)
    })?;
    let candidate = Candidate { wasm, config, overrides };
    state.shadows.start(&state.store, Arc::new(policy), candidate, window).await?;
    Ok(Json(state.shadows.report(live(&state)).ok_or(ShadowError::None)?))
}

/// `GET /v1/policy/shadow`.
pub async fn report(State(state): State<Arc<AppState>>) -> Result<Json<Report>, ApiError> {
    Ok(Json(state.shadows.report(live(&state)).ok_or(ShadowError::None)?))
}

/// `DELETE /v1/policy/shadow`.
pub async fn drop_shadow(_: Admin, State(state): State<Arc<AppState>>) -> Result<Json<Report>, ApiError> {
    let _admin = state.shadows.admin().await;
    let identity = live(&state);
    let shadows = state.clone();
    // Waits for the worker to replay what it has queued.
    let dropped = tokio::task::spawn_blocking(move || shadows.shadows.drop_shadow(identity))
        .await
        .map_err(|e| ApiError::Internal(format!("the shadow's drop task failed: {e}")))?;
    Ok(Json(dropped?))
}

/// `POST /v1/policy/shadow/promote`.
pub async fn promote(_: Admin, State(state): State<Arc<AppState>>) -> Result<Json<PolicyIdentity>, ApiError> {
    let _admin = state.shadows.admin().await;
    let Candidate { wasm, config, .. } = state.shadows.candidate()?;
    let loader = PolicyLoader { config, ..state.policies.clone() };
    let loaded = tokio::task::spawn_blocking(move || loader.load(&wasm))
        .await
        .map_err(|e| ApiError::Internal(format!("the policy loading task failed: {e}")))?;
    let policy = loaded.map_err(ApiError::BadPolicy)?;
    let identity = policy.identity();
    state.store.set_policy(Arc::new(policy));
    let shadows = state.clone();
    let last = tokio::task::spawn_blocking(move || shadows.shadows.drop_shadow(identity))
        .await
        .map_err(|e| ApiError::Internal(format!("the shadow's drop task failed: {e}")))?;
    if let Ok(report) = &last {
        tracing::info!(
            policy = %report.policy.name,
            reads = report.reads,
            difference = report.verdict.difference,
            "shadow policy promoted to live"
        );
    }
    Ok(Json(state.store.policy().identity()))
}

fn live(state: &AppState) -> PolicyIdentity {
    state.store.policy().identity()
}

#[cfg(test)]
mod tests {
    use super::{merged, overrides};

    #[test]
    fn a_candidate_is_a_body_or_a_library_name_never_both_or_neither() {
        use axum::body::Bytes;
        assert_eq!(super::candidate(Bytes::from_static(b"w"), None).unwrap(), Bytes::from_static(b"w"));
        assert!(super::candidate(Bytes::from_static(b"w"), Some("lru")).is_err());
        assert!(super::candidate(Bytes::new(), None).is_err());
        assert_eq!(super::candidate(Bytes::new(), Some("lru")).unwrap(), tiered_algorithms::get("lru").unwrap().wasm);
        assert_eq!(super::candidate(Bytes::new(), Some("default")).unwrap(), tiered_wasm::DEFAULT_POLICY_WASM);
        let err = super::candidate(Bytes::new(), Some("nope")).unwrap_err().to_string();
        assert!(err.contains("s3fifo"), "{err}");
    }

    #[test]
    fn overrides_replace_and_extend_the_service_pairs() {
        let base = vec![("eviction".to_string(), "adaptive".to_string()), ("a".to_string(), "1".to_string())];
        let given = overrides(Some("eviction=s3fifo, b = 2,")).unwrap();
        let pairs = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        assert_eq!(given, pairs(&[("eviction", "s3fifo"), ("b", "2")]));
        assert_eq!(merged(&base, &given), pairs(&[("eviction", "s3fifo"), ("a", "1"), ("b", "2")]));
        assert_eq!(merged(&base, &overrides(None).unwrap()), base);
        assert!(overrides(Some("nokey")).is_err());
    }
}
