//! A 1 GiB object through the S3 endpoint, up and down, streamed: the
//! server's peak resident memory stays within the bound BENCHMARKS.md states
//! for `/v1` (a streamed upload holds one spool buffer, a download two read
//! chunks), nowhere near the object's size.

use crate::support::s3_api::{Auth, BUCKET, Endpoint};
use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use futures::StreamExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};

const GIB: u64 = 1 << 30;
const CHUNK: usize = 1 << 20;

/// The peak resident set of process `pid`, in bytes.
fn peak_rss(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .context("VmHWM")?;
    Ok(kib * 1024)
}

/// Bytes free on the file system that holds `dir`, as `df` reports them.
fn free_bytes(dir: &std::path::Path) -> Result<u64> {
    let out = std::process::Command::new("df").args(["--output=avail", "-B1"]).arg(dir).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1).and_then(|l| l.trim().parse().ok()).with_context(|| format!("df {}: {text}", dir.display()))
}

/// The disk the test needs: the upload's spool file, the cold copy and a
/// warm copy of the object, with room to spare.
const DISK_NEEDED: u64 = 4 * GIB;

/// Chunk `i` of the object: deterministic, cheap, not compressible into nothing.
fn chunk(i: u64) -> Bytes {
    let seed = Sha256::digest(i.to_le_bytes());
    Bytes::from(seed.as_slice().repeat(CHUNK / seed.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gib_object_streams_through_the_s3_endpoint_within_the_memory_bound() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // A full disk fails the PUT with a 500; say so by name instead.
    let free = free_bytes(dir.path())?;
    assert!(
        free >= DISK_NEEDED,
        "{} holds {} MiB free; this test writes a 1 GiB object to several places and needs {} MiB",
        dir.path().display(),
        free >> 20,
        DISK_NEEDED >> 20
    );
    // Unsigned (an endpoint without keys): the body streams from a generator.
    let api = Endpoint::start(&dir.path().join("data"), "hot.max_bytes = \"64MiB\"\n", Auth::Open).await?;
    let pid = api.server.pid().context("running")?;
    let before = peak_rss(pid)?;
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let url = format!("{}/{BUCKET}/large/one-gib.bin", api.url());

    let mut expected = Sha256::new();
    for i in 0..GIB / CHUNK as u64 {
        expected.update(chunk(i));
    }
    let body = futures::stream::iter(0..GIB / CHUNK as u64).map(|i| Ok::<_, std::io::Error>(chunk(i)));
    let put = Request::put(&url).header("content-length", GIB).body(Body::from_stream(body))?;
    let response = client.request(put).await?;
    assert_eq!(response.status(), StatusCode::OK, "{response:?}\nserver log:\n{}", api.server.log_text());
    let after_put = peak_rss(pid)?;

    let response = client.request(Request::get(&url).body(Body::empty())?).await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get("content-length").and_then(|v| v.to_str().ok()), Some("1073741824"));
    let mut body = Body::new(response.into_body()).into_data_stream();
    let (mut got, mut size) = (Sha256::new(), 0u64);
    while let Some(piece) = body.next().await {
        let piece = piece?;
        size += piece.len() as u64;
        got.update(&piece);
    }
    assert_eq!(size, GIB);
    assert_eq!(got.finalize(), expected.finalize(), "the bytes back");
    let after_get = peak_rss(pid)?;

    // BENCHMARKS.md: 34 MiB peak for a 1 GiB PUT + GET through /v1 (release
    // build); a debug build and the S3 layer are allowed some more, a
    // buffered object would be 1 GiB.
    let bound = before + (96 << 20);
    assert!(after_put <= bound, "peak after PUT {} MiB (started at {} MiB)", after_put >> 20, before >> 20);
    assert!(after_get <= bound, "peak after GET {} MiB (started at {} MiB)", after_get >> 20, before >> 20);
    api.server.stop().await?;
    Ok(())
}
