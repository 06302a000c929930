//! `GET /v1/objects?prefix=P&limit=N&after=K` → `{"keys": [...], "next": K | null}`.
//!
//! Keys come from cold (the source of truth, `TieredStore::list_keys`) and are
//! returned in byte order. A page holds the first `limit` keys greater than
//! `after`; `next` is the last key of a full page, to pass as the next
//! `after`, or `null` when the listing is complete. The tiers list in no
//! particular order, so each page reads every key under the prefix and keeps
//! only the smallest `limit` of those after `after` (memory: one page; time:
//! the keys under the prefix).

use std::collections::BinaryHeap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::state::AppState;
use tiered::error::Error;

/// Keys per page when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 1000;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    prefix: String,
    limit: Option<usize>,
    after: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Page {
    keys: Vec<String>,
    next: Option<String>,
}

/// `GET /v1/objects`.
pub async fn list(State(state): State<Arc<AppState>>, Query(q): Query<ListQuery>) -> Result<Json<Page>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}, got {limit}")));
    }
    // A max-heap of the smallest `limit + 1` keys seen: one more than a page
    // tells whether another page follows.
    let mut smallest: BinaryHeap<String> = BinaryHeap::with_capacity(limit + 2);
    let mut keys = state.store.list_keys(&q.prefix);
    while let Some(key) = keys.next().await {
        let key = key.map_err(Error::ColdUnavailable)?;
        if q.after.as_ref().is_some_and(|after| key.as_str() <= after.as_str()) {
            continue;
        }
        if smallest.len() <= limit {
            smallest.push(key);
        } else if smallest.peek().is_some_and(|largest| key < *largest) {
            smallest.pop();
            smallest.push(key);
        }
    }
    let mut keys = smallest.into_sorted_vec();
    let next = if keys.len() > limit {
        keys.truncate(limit);
        keys.last().cloned()
    } else {
        None
    };
    Ok(Json(Page { keys, next }))
}
