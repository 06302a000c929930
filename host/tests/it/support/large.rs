//! Large bodies for the streaming tests: deterministic pseudo-random bytes,
//! their sha256, uploads of unknown length (chunked, from a stream), the
//! object files and spool files a data directory holds.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use anyhow::Result;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};

/// `len` pseudo-random bytes (xorshift from `seed`): incompressible, and
/// different for every seed.
pub fn bytes(len: usize, seed: u64) -> Bytes {
    // Odd and non-zero, and different for every seed (below 2^63).
    let mut state = (seed << 1) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    Bytes::from(out)
}

pub fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// PUT `data` as a chunked body (no `content-length`), in chunks of `chunk`
/// bytes; the status and the body of the answer.
pub async fn put_chunked(
    addr: std::net::SocketAddr,
    path: &str,
    data: Bytes,
    chunk: usize,
) -> Result<(StatusCode, Bytes)> {
    let pieces: Vec<Result<Bytes, std::io::Error>> =
        (0..data.len()).step_by(chunk).map(|at| Ok(data.slice(at..(at + chunk).min(data.len())))).collect();
    let body = Body::from_stream(futures::stream::iter(pieces));
    let request = Request::put(format!("http://{addr}{path}")).body(body)?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await?;
    let status = response.status();
    let body = axum::body::to_bytes(Body::new(response.into_body()), usize::MAX).await?;
    Ok((status, body))
}

/// GET `path`: the status, the `x-tiered-source` and the body, or the error
/// that broke the transfer.
pub async fn get(addr: std::net::SocketAddr, path: &str) -> Result<(StatusCode, String, Result<Bytes>)> {
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(Request::get(format!("http://{addr}{path}")).body(Body::empty())?).await?;
    let status = response.status();
    let source = response.headers().get("x-tiered-source").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = axum::body::to_bytes(Body::new(response.into_body()), usize::MAX).await.map_err(anyhow::Error::from);
    Ok((status, source, body))
}

/// Object files under a tier directory (`<dir>/objects/..`).
pub fn object_files(tier_dir: &Path) -> Vec<PathBuf> {
    files(&tier_dir.join("objects"))
}

/// Files in the spool directory of a data directory.
pub fn spool_files(data_dir: &Path) -> Vec<PathBuf> {
    files(&data_dir.join("spool"))
}

/// Files being written in a tier directory's `tmp/`.
pub fn tmp_files(tier_dir: &Path) -> Vec<PathBuf> {
    files(&tier_dir.join("tmp"))
}

/// Every file under `dir`, recursively (none if it does not exist). Kept
/// here so the file can be included alone (`#[path]`) by the live S3 tests.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { stack.push(path) } else { out.push(path) }
        }
    }
    out
}
