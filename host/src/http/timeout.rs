//! The request-body idle timeout: a client that announces a body and then
//! stops sending must not hold a connection (and a task) forever.
//!
//! [`body_idle_timeout`] wraps the body of every request that has one in a
//! stream whose next chunk must arrive within `body_idle_timeout_ms` of the
//! previous one (nginx's `client_body_timeout` works the same way: a slow but
//! moving upload is fine, a stalled one is not). A stall ends the body with
//! [`BodyStalled`]; [`is_stall`] lets the body extractor answer
//! 408 Request Timeout instead of a generic 400. Nothing is stored: the
//! handler never sees a partial body.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;

use super::AppState;

/// The body stopped arriving for longer than the idle timeout.
#[derive(Debug, thiserror::Error)]
#[error("no request body data for {0:?}")]
pub struct BodyStalled(pub Duration);

/// Whether `error` (or something in its source chain) is a [`BodyStalled`].
pub fn is_stall(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<BodyStalled>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Middleware: put the idle timeout on request bodies (requests without one,
/// such as GETs, pass through untouched).
pub async fn body_idle_timeout(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let has_body = headers.contains_key(TRANSFER_ENCODING)
        || headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() != "0");
    if !has_body {
        return next.run(request).await;
    }
    let idle = state.body_idle_timeout;
    let (parts, body) = request.into_parts();
    let timed = futures::stream::unfold((body.into_data_stream(), false), move |(mut chunks, ended)| async move {
        if ended {
            return None;
        }
        match tokio::time::timeout(idle, chunks.next()).await {
            Ok(Some(Ok(bytes))) => Some((Ok(bytes), (chunks, false))),
            Ok(Some(Err(err))) => Some((Err(err), (chunks, true))),
            Ok(None) => None,
            Err(_) => Some((Err(axum::Error::new(BodyStalled(idle))), (chunks, true))),
        }
    });
    next.run(Request::from_parts(parts, Body::from_stream(timed))).await
}
