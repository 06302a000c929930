//! Object PUT bodies: buffered when small, spooled to a file when large.
//!
//! A body whose `content-length` is at most `stream_above_bytes` is read into
//! memory (hyper stops at the declared length). Any other body (larger, or of
//! unknown length) is written chunk by chunk to a [`SpoolWriter`] under the
//! spool directory while its sha256 and xxh3 are computed; going past
//! `max_object_bytes` is a 413. A spooled body that turns out small is read
//! back into memory, so small objects take the ordinary path (hot tier,
//! compression) however they were sent.
//!
//! Memory per upload: the network chunk in hand plus the spool writer's
//! buffer ([`SPOOL_BUFFER`](tiered::store::spool::SPOOL_BUFFER)). The spool
//! file is removed when the [`Upload`] is dropped: after the write, on any
//! error, and when the client disconnects (the handler is dropped with it).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use futures::StreamExt;

use super::error::ApiError;
use super::state::AppState;
use tiered::error::Error;
use tiered::store::{SpoolWriter, Spooled};

/// A received PUT body.
#[derive(Debug)]
pub enum Upload {
    Buffered(Bytes),
    Spooled(Spooled),
}

/// Receive `body` within the limits of `state`.
pub async fn receive(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Upload, ApiError> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n <= state.stream_above_bytes) {
        let bytes = axum::body::to_bytes(body, usize::MAX).await.map_err(body_error)?;
        return Ok(Upload::Buffered(bytes));
    }
    let mut spool = SpoolWriter::create(&state.spool_dir).await.map_err(|e| ApiError::Store(Error::Tier(e)))?;
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(body_error)?;
        if spool.size() + chunk.len() as u64 > state.max_object_bytes {
            return Err(ApiError::TooLarge { limit: state.max_object_bytes, setting: "max_object_bytes" });
        }
        spool.write(&chunk).await.map_err(|e| ApiError::Store(Error::Tier(e)))?;
    }
    let spooled = spool.finish().await.map_err(|e| ApiError::Store(Error::Tier(e)))?;
    if spooled.size > state.stream_above_bytes {
        return Ok(Upload::Spooled(spooled));
    }
    let bytes = tokio::fs::read(spooled.path())
        .await
        .map_err(|e| ApiError::Internal(format!("cannot read back a spooled body: {e}")))?;
    Ok(Upload::Buffered(bytes.into()))
}

/// A body that failed to arrive: 408 if it stalled, else 400.
fn body_error(err: axum::Error) -> ApiError {
    if super::timeout::is_stall(&err) {
        ApiError::BodyStalled(err.to_string())
    } else {
        ApiError::BadRequest(format!("could not read the request body: {err}"))
    }
}
