//! `/v1/objects/{key}`: PUT, GET, HEAD, DELETE, each one engine call.
//!
//! | request | engine | response |
//! |---|---|---|
//! | `PUT` body, `content-type`, `x-tiered-ttl`, `x-tiered-meta-*` | `set` / `set_file` | 201 created / 200 replaced, `{key,size,etag,tiers}` |
//! | `GET` (`If-None-Match`) | `get_stream` | 200 / 304 / 404, `x-tiered-source` |
//! | `HEAD` (`If-None-Match`) | `head`: metadata only | as `GET`, no body |
//! | `DELETE` | `delete` | 204, also when absent |
//!
//! Bodies above `stream_above_bytes` stream: a PUT body is spooled to a file
//! ([`super::upload`]) and stored with `set_file`; a GET of a large object
//! forwards the engine's chunk stream. A stream that fails (a checksum
//! mismatch found at its end, an I/O error) aborts the response, so the
//! client sees a broken transfer, never a complete wrong body.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, http::response::Builder};
use serde::Serialize;

use super::error::ApiError;
use super::extract::{key_from_path, seconds};
use super::state::AppState;
use super::upload::{Upload, receive};
use tiered::engine::{Served, SetOptions};
use tiered::object::ObjectMeta;
use tiered::policy::TierId;

/// The route prefix keys follow.
pub const PREFIX: &str = "/v1/objects/";
/// Custom metadata travels in headers named `x-tiered-meta-<name>`.
const META: &str = "x-tiered-meta-";
/// The most custom metadata (names + values, bytes) a write may carry: what
/// fits, encoded with the object's own metadata, in S3's 2 KiB of user
/// metadata, so a write is refused the same way whichever cold tier is used.
pub const MAX_METADATA_BYTES: usize = 1024;

/// What a write answers.
#[derive(Debug, Serialize)]
struct Written {
    key: String,
    size: u64,
    etag: String,
    tiers: Vec<TierId>,
}

/// `PUT /v1/objects/{key}`.
pub async fn put(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = key_from_path(uri.path(), PREFIX)?;
    let mut options = SetOptions { content_type: text(&headers, header::CONTENT_TYPE.as_str())?, ..Default::default() };
    if let Some(ttl) = text(&headers, "x-tiered-ttl")? {
        options.ttl = Some(seconds("x-tiered-ttl", &ttl)?);
    }
    for (name, value) in &headers {
        if let Some(meta) = name.as_str().strip_prefix(META).filter(|m| !m.is_empty()) {
            let value = value.to_str().map_err(|_| not_ascii(name.as_str()))?;
            options.metadata.insert(meta.to_string(), value.to_string());
        }
    }
    let metadata_bytes: usize = options.metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
    if metadata_bytes > MAX_METADATA_BYTES {
        return Err(ApiError::BadRequest(format!(
            "custom metadata (x-tiered-meta-*) is {metadata_bytes} bytes; the limit is {MAX_METADATA_BYTES}"
        )));
    }
    // Headers are checked before the body is read: a refused write reads none of it.
    let outcome = match receive(&state, &headers, body).await? {
        Upload::Buffered(data) => state.store.set(&key, data, options).await?,
        Upload::Spooled(file) => state.store.set_file(&key, &file, options).await?,
    };
    let status = if outcome.replaced { StatusCode::OK } else { StatusCode::CREATED };
    let etag = quoted(&outcome.etag);
    let written = Written { key: outcome.key, size: outcome.size, etag: outcome.etag, tiers: outcome.tiers };
    Ok((status, [(header::ETAG, etag)], Json(written)).into_response())
}

/// `GET` and `HEAD /v1/objects/{key}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = key_from_path(uri.path(), PREFIX)?;
    if method == Method::HEAD {
        // Metadata only: no value is read, no access counted, nothing copied.
        let (meta, source) = state.store.head(&key).await?.ok_or(ApiError::NoSuchKey(key))?;
        return respond(&state, &headers, &meta, source, meta.original_size, Body::empty);
    }
    let served = state.store.get_stream(&key, state.stream_above_bytes).await?.ok_or(ApiError::NoSuchKey(key))?;
    let (meta, source, length) = match &served {
        Served::Whole(hit) => (hit.meta.clone(), hit.source, hit.data.len() as u64),
        Served::Stream(stream) => (stream.meta.clone(), stream.source, stream.meta.size),
    };
    respond(&state, &headers, &meta, source, length, || match served {
        Served::Whole(hit) => Body::from(hit.data),
        Served::Stream(stream) => Body::from_stream(stream.body),
    })
}

/// A read of `meta`'s value (`length` bytes) served by `source`: 304 when the
/// client's `If-None-Match` names its ETag, else 200 with its headers and
/// `body`.
fn respond(
    state: &AppState,
    headers: &HeaderMap,
    meta: &ObjectMeta,
    source: TierId,
    length: u64,
    body: impl FnOnce() -> Body,
) -> Result<Response, ApiError> {
    let etag = meta.client_etag();
    let response = Response::builder().header(header::ETAG, quoted(&etag)).header("x-tiered-source", source.as_str());
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| matches_etag(v, &etag)) {
        return response.status(StatusCode::NOT_MODIFIED).body(Body::empty()).map_err(internal);
    }
    described(response, state, meta, length).status(StatusCode::OK).body(body()).map_err(internal)
}

/// The headers describing a value of `length` bytes.
fn described(response: Builder, state: &AppState, meta: &ObjectMeta, length: u64) -> Builder {
    let content_type = meta.content_type.as_deref().unwrap_or("application/octet-stream");
    let mut response = response
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, length)
        .header("x-tiered-size", meta.original_size);
    if let Some(expires) = meta.expires_ms {
        let left = expires.saturating_sub(state.store.now_ms()).div_ceil(1000);
        response = response.header("x-tiered-expires-in", left);
    }
    with_metadata(response, &meta.metadata)
}

/// `DELETE /v1/objects/{key}`: 204 whether or not the key existed.
pub async fn delete(State(state): State<Arc<AppState>>, uri: Uri) -> Result<StatusCode, ApiError> {
    let key = key_from_path(uri.path(), PREFIX)?;
    state.store.delete(&key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Custom metadata as `x-tiered-meta-*` headers; a name or value that is not
/// a valid header (written through the library) is left out and logged.
fn with_metadata(mut response: Builder, metadata: &std::collections::BTreeMap<String, String>) -> Builder {
    for (name, value) in metadata {
        match (HeaderName::try_from(format!("{META}{name}")), HeaderValue::from_str(value)) {
            (Ok(name), Ok(value)) => response = response.header(name, value),
            _ => tracing::debug!(name, "metadata entry is not a valid header; not sent"),
        }
    }
    response
}

/// A header's value as text, if present.
fn text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    headers.get(name).map(|v| v.to_str().map(str::to_string).map_err(|_| not_ascii(name))).transpose()
}

fn not_ascii(name: &str) -> ApiError {
    ApiError::BadRequest(format!("header {name} must be visible ASCII"))
}

/// `"etag"`: the header form of an entity tag.
fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// Whether an `If-None-Match` value (a list, `*`, weak tags) names `etag`.
fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == etag)
}

fn internal(err: axum::http::Error) -> ApiError {
    ApiError::Internal(format!("could not build the response: {err}"))
}

#[cfg(test)]
mod tests {
    use super::matches_etag;

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        assert!(matches_etag("\"abc\"", "abc"));
        assert!(matches_etag("\"x\", W/\"abc\"", "abc"));
        assert!(matches_etag("*", "abc"));
        assert!(!matches_etag("\"abd\"", "abc"));
    }
}
