//! `GET /v1/objects?prefix=P&limit=N&after=K` → `{"keys": [...], "next": K | null}`.
//!
//! Keys come from cold (the source of truth, `TieredStore::list_page`) and
//! are returned in byte order. A page holds the first `limit` keys greater
//! than `after`; `next` is the last key of a full page, to pass as the next
//! `after`, or `null` when the listing is complete. An S3 cold tier reads
//! only the page from the bucket's ordered listing (one LIST request per
//! 1000 keys of the page); a local cold tier looks at every key under the
//! prefix and keeps the page (memory: one page).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::state::AppState;
use tiered::store::listing::{Entry, PageRequest};

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
    let request = PageRequest { prefix: q.prefix, delimiter: None, after: q.after, max: limit };
    let page = state.store.list_page(&request).await?;
    let next = page.next().map(str::to_string);
    let keys = page.entries.into_iter().map(|e| match e {
        Entry::Key(key) | Entry::Prefix(key) => key,
    });
    let keys = keys.collect();
    Ok(Json(Page { keys, next }))
}
