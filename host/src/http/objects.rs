//! `/v1/objects/{key}`: PUT, GET, HEAD, DELETE, each one engine call.
//!
//! | request | engine | response |
//! |---|---|---|
//! | `PUT` body, `content-type`, `x-tiered-ttl`, `x-tiered-meta-*` | `set` / `set_file` | 201 created / 200 replaced, `{key,size,etag,tiers}` |
//! | `GET` (`If-None-Match`) | `get_stream` | 200 / 304 / 404, `x-tiered-source` |
//! | `GET` with `Range` (`If-Range`) | `get_range` | 206 with `content-range` / 416 |
//! | `HEAD` (`If-None-Match`) | `head`: metadata only | as `GET`, no body |
//! | `DELETE` | `delete` | 204, also when absent |
//!
//! A capture running (`/v1/trace`, [`crate::trace`]) traces each read that
//! found its object (ranged, `304` or not), each write and each delete, with
//! the stored size; off, that costs one relaxed atomic load.
//!
//! Bodies above `stream_above_bytes` stream: a PUT body is spooled to a file
//! ([`super::upload`]) and stored with `set_file`; a GET of a large object
//! forwards the engine's chunk stream. A stream that fails (a checksum
//! mismatch found at its end, an I/O error) aborts the response, so the
//! client sees a broken transfer, never a complete wrong body.
//!
//! Ranges: one range per request (`bytes=a-b`, `bytes=a-`, `bytes=-n`) is
//! served with `206` and read without the rest of the value; several ranges,
//! another unit or a value that does not parse are ignored and the whole
//! value is sent (RFC 9110 allows it; S3 does the same). A range past the end
//! is `416` with `content-range: bytes */<length>`. `If-Range` with the
//! current ETag keeps the range, anything else (another ETag, a date: no
//! `Last-Modified` is sent) gets the whole value. Every GET and HEAD says
//! `accept-ranges: bytes`.

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
use tiered::engine::{RangeHit, Served, SetOptions};
use tiered::object::ObjectMeta;
use tiered::policy::TierId;
use tiered::range::ByteRange;

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
    state.saw_set(&outcome.meta);
    let status = if outcome.replaced { StatusCode::OK } else { StatusCode::CREATED };
    let etag = quoted(&outcome.etag);
    let written = Written { key: outcome.key, size: outcome.size, etag: outcome.etag, tiers: outcome.tiers };
    Ok((status, [(header::ETAG, etag)], Json(written)).into_response())
}

/// `GET` and `HEAD /v1/objects/{key}`.
pub async fn get(State(state): State<Arc<AppState>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    read(&state, method, &uri, &headers).await
}

/// `GET` and `HEAD` as [`get`], for a caller holding the request's parts
/// ([`super::front`], which skips the router for reads).
pub async fn read(state: &AppState, method: Method, uri: &Uri, headers: &HeaderMap) -> Response {
    answer(state, method, uri, headers).await.unwrap_or_else(IntoResponse::into_response)
}

async fn answer(state: &AppState, method: Method, uri: &Uri, headers: &HeaderMap) -> Result<Response, ApiError> {
    let key = key_from_path(uri.path(), PREFIX)?;
    if method == Method::HEAD {
        // Metadata only: no value is read, no access counted, nothing copied.
        let (meta, source) = state.store.head(&key).await?.ok_or(ApiError::NoSuchKey(key))?;
        return respond(state, headers, &meta, source, meta.original_size, Body::empty);
    }
    if let Some(range) = asked_range(headers) {
        let hit = state.store.get_range(&key, range).await?.ok_or_else(|| ApiError::NoSuchKey(key.clone()))?;
        if if_range_holds(headers, &hit.meta) {
            state.saw_get(&hit.meta, hit.source, Some(range));
            return respond_range(state, headers, hit, range);
        }
        // The client's copy is another version: the whole value, below.
    }
    let served = state
        .store
        .get_stream(&key, state.stream_above_bytes)
        .await?
        .ok_or_else(|| ApiError::NoSuchKey(key.clone()))?;
    let (meta, source, length) = match &served {
        Served::Whole(hit) => (hit.meta.clone(), hit.source, hit.data.len() as u64),
        Served::Stream(stream) => (stream.meta.clone(), stream.source, stream.meta.size),
    };
    state.saw_get(&meta, source, None);
    respond(state, headers, &meta, source, length, || match served {
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
    let (response, not_modified) = validated(headers, meta, source);
    if not_modified {
        return response.status(StatusCode::NOT_MODIFIED).body(Body::empty()).map_err(internal);
    }
    described(response, state, meta, length).status(StatusCode::OK).body(body()).map_err(internal)
}

/// A response naming `meta`'s version and the tier serving it, and whether
/// the client's `If-None-Match` already names that version (a 304).
fn validated(headers: &HeaderMap, meta: &ObjectMeta, source: TierId) -> (Builder, bool) {
    let etag = meta.client_etag();
    let response = Response::builder()
        .header(header::ETAG, quoted(&etag))
        .header("x-tiered-source", source.as_str())
        .header(header::ACCEPT_RANGES, "bytes");
    let not_modified =
        headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| matches_etag(v, &etag));
    (response, not_modified)
}

/// A range read: 304 as any read, 416 when the range names no byte of the
/// value, else 206 with the bytes.
fn respond_range(state: &AppState, headers: &HeaderMap, hit: RangeHit, asked: ByteRange) -> Result<Response, ApiError> {
    let (response, not_modified) = validated(headers, &hit.meta, hit.source);
    if not_modified {
        return response.status(StatusCode::NOT_MODIFIED).body(Body::empty()).map_err(internal);
    }
    let Some(range) = hit.range else {
        return Err(ApiError::RangeNotSatisfiable { range: asked.header_value(), total: hit.total });
    };
    let content_range = format!("bytes {}-{}/{}", range.start, range.end - 1, hit.total);
    described(response, state, &hit.meta, range.end - range.start)
        .header(header::CONTENT_RANGE, content_range)
        .status(StatusCode::PARTIAL_CONTENT)
        .body(Body::from_stream(hit.body))
        .map_err(internal)
}

/// The one range a GET asks for; `None` without a `Range` header or with
/// one that is not served (several ranges, another unit, a value that does
/// not parse), which gets the whole value.
fn asked_range(headers: &HeaderMap) -> Option<ByteRange> {
    let value = headers.get(header::RANGE)?.to_str().ok()?;
    match ByteRange::parse(value) {
        Ok(range) => range,
        Err(err) => {
            tracing::debug!(%err, "Range not served; sending the whole value");
            None
        }
    }
}

/// Whether a range may be served of `meta`'s version: no `If-Range`, or one
/// naming its ETag (a strong comparison: a weak tag or a date never holds).
fn if_range_holds(headers: &HeaderMap, meta: &ObjectMeta) -> bool {
    match headers.get(header::IF_RANGE).map(|v| v.to_str()) {
        None => true,
        Some(Ok(value)) => {
            let value = value.trim();
            value.starts_with('"')
                && value.ends_with('"')
                && value.len() >= 2
                && value[1..value.len() - 1] == meta.client_etag()
        }
        Some(Err(_)) => false,
    }
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
    state.saw_delete(&key);
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
    fn if_range_holds_only_for_the_current_strong_etag() {
        use axum::http::{HeaderMap, HeaderValue, header};
        let meta: tiered::object::ObjectMeta = serde_json::from_value(serde_json::json!({
            "key": "k", "size": 1, "original_size": 1, "created_ms": 0, "checksum": "c0ffee"
        }))
        .expect("metadata");
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_RANGE, HeaderValue::from_static(value));
            super::if_range_holds(&headers, &meta)
        };
        assert!(super::if_range_holds(&HeaderMap::new(), &meta), "no If-Range");
        assert!(with("\"c0ffee\""));
        assert!(!with("\"other\""), "another version");
        assert!(!with("W/\"c0ffee\""), "a weak tag never holds");
        assert!(!with("Wed, 21 Oct 2015 07:28:00 GMT"), "a date: no Last-Modified is sent");
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        assert!(matches_etag("\"abc\"", "abc"));
        assert!(matches_etag("\"x\", W/\"abc\"", "abc"));
        assert!(matches_etag("*", "abc"));
        assert!(!matches_etag("\"abd\"", "abc"));
    }
}
