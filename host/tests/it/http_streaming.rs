//! Large objects stream through the real `tiered serve`, in both directions.
//!
//! The servers here buffer at most 1 MiB (`max_body_bytes`) and stream
//! anything above 256 KiB, so a 20 MiB object can only get through by being
//! spooled on the way in and streamed on the way out. Proven: byte-exact
//! round trips (sha256) through warm and through local cold, chunked uploads
//! of unknown length, promotion of a streamed cold read into warm, 413 past `max_object_bytes` with nothing left behind,
//! a client that disconnects mid-upload leaving no object and no spool file,
//! and a corrupt large warm copy never served complete.

use std::time::Duration;

use crate::support::large::{self, object_files, spool_files, tmp_files};
use crate::support::raw_http::request;
use crate::support::server::Server;
use anyhow::{Result, ensure};
use axum::http::{Method, StatusCode};
use tokio::io::AsyncWriteExt;

const CONFIG: &str = "max_body_bytes = \"1MiB\"\nstream_above_bytes = \"256KiB\"\nmax_object_bytes = \"64MiB\"\n";
const NO_WARM: &str = "[warm]\nmax_bytes = \"0\"\n";

/// Where the data of an object file ends (its chunk table follows).
fn data_end(file: &[u8]) -> Result<usize> {
    Ok(tiered::store::format::decode_header(file)?.table_start() as usize)
}

/// Polls `done` every 20 ms for up to 30 s.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) -> Result<()> {
    for _ in 0..1500 {
        if done() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("{what}: not within 30 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_objects_round_trip_byte_exact_through_warm_and_local_cold() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let server = Server::start(&data_dir, CONFIG).await?;
    let big = large::bytes(20 << 20, 1);
    let put = server.http.put("/v1/objects/videos%2Fbig.bin", big.clone()).await?;
    assert_eq!(put.status, StatusCode::CREATED, "{put:?}");
    let tiers = put.json()?["tiers"].clone();
    assert_eq!(tiers, serde_json::json!(["warm", "cold"]), "a large object skips memory");
    let (status, source, body) = large::get(server.addr, "/v1/objects/videos%2Fbig.bin").await?;
    assert_eq!((status, source.as_str()), (StatusCode::OK, "warm"));
    assert_eq!(large::sha256(&body?), large::sha256(&big));

    // Unknown length (chunked): spooled, limited by max_object_bytes alone.
    let other = large::bytes(3 << 20, 2);
    let (status, _) = large::put_chunked(server.addr, "/v1/objects/chunked", other.clone(), 64 << 10).await?;
    assert_eq!(status, StatusCode::CREATED);
    // A small chunked body takes the ordinary path (and may be held in memory).
    let (status, _) = large::put_chunked(server.addr, "/v1/objects/small", large::bytes(1000, 3), 100).await?;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(server.http.get("/v1/objects/small").await?.body, large::bytes(1000, 3));
    server.stop().await?;
    assert!(spool_files(&data_dir).is_empty(), "spool files left: {:?}", spool_files(&data_dir));

    // Without a warm tier, both are streamed from the local cold files.
    let server = Server::start(&data_dir, &format!("{CONFIG}{NO_WARM}")).await?;
    for (path, expected) in [("/v1/objects/videos%2Fbig.bin", &big), ("/v1/objects/chunked", &other)] {
        let (status, source, body) = large::get(server.addr, path).await?;
        assert_eq!((status, source.as_str()), (StatusCode::OK, "cold"), "{path}");
        assert_eq!(large::sha256(&body?), large::sha256(expected), "{path}");
    }
    Ok(())
}

/// `tiered_http_responses_total{class="4xx"}`.
async fn count_4xx(server: &Server) -> Result<u64> {
    let metrics = String::from_utf8(server.http.get("/metrics").await?.body.to_vec())?;
    let line = metrics.lines().find(|l| l.starts_with("tiered_http_responses_total{class=\"4xx\"}"));
    Ok(line.and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_streamed_from_cold_is_promoted_into_warm_once_verified() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let big = large::bytes(6 << 20, 9);
    let server = Server::start(&data_dir, &format!("{CONFIG}{NO_WARM}")).await?;
    assert_eq!(server.http.put("/v1/objects/big", big.clone()).await?.status, StatusCode::CREATED);
    let before = object_files(&data_dir.join("cold"));
    assert_eq!(server.http.put("/v1/objects/bad", big.clone()).await?.status, StatusCode::CREATED);
    server.stop().await?;
    let bad = object_files(&data_dir.join("cold")).into_iter().find(|f| !before.contains(f)).expect("bad's file");
    let mut file = std::fs::read(&bad)?;
    let at = data_end(&file)? - 10;
    file[at] ^= 1;
    std::fs::write(&bad, file)?;

    // Warm starts empty: a read streams from cold and tees a copy, which is
    // installed only if the whole object passed verification.
    let server = Server::start(&data_dir, CONFIG).await?;
    // A HEAD answers from cold's metadata and copies nothing.
    let head = server.http.send(Method::HEAD, "/v1/objects/big", &[], "").await?;
    assert_eq!((head.status, head.header("x-tiered-source")), (StatusCode::OK, Some("cold")));
    assert_eq!(head.header("content-length"), Some(big.len().to_string().as_str()));
    assert!(object_files(&data_dir.join("warm")).is_empty(), "a HEAD promotes nothing");
    let metrics = String::from_utf8(server.http.get("/metrics").await?.body.to_vec())?;
    let cold_hits = "tiered_tier_hits_total{tier=\"cold\",kind=\"local\"} 0";
    assert!(metrics.contains(cold_hits), "a HEAD is not a read: {metrics}");
    let (status, _, body) = large::get(server.addr, "/v1/objects/bad").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(body.map_or(true, |b| b.len() < big.len()), "a corrupt cold copy was served complete");
    let (status, source, body) = large::get(server.addr, "/v1/objects/big").await?;
    assert_eq!((status, source.as_str()), (StatusCode::OK, "cold"));
    assert_eq!(large::sha256(&body?), large::sha256(&big));
    eventually("the warm copy is installed", || object_files(&data_dir.join("warm")).len() == 1).await?;
    // The promotion is counted after its file is in place, and its spool
    // file dropped after that.
    eventually("the tee's spool file is removed", || spool_files(&data_dir).is_empty()).await?;
    let metrics = String::from_utf8(server.http.get("/metrics").await?.body.to_vec())?;
    assert!(metrics.contains("tiered_tier_promotions_total{tier=\"warm\",kind=\"disk\"} 1"), "{metrics}");
    let (status, source, body) = large::get(server.addr, "/v1/objects/big").await?;
    assert_eq!((status, source.as_str()), (StatusCode::OK, "warm"));
    assert_eq!(large::sha256(&body?), large::sha256(&big));
    eventually("the tee's spool file is removed", || spool_files(&data_dir).is_empty()).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_max_object_bytes_gets_413_and_leaves_no_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let config = "max_body_bytes = \"1MiB\"\nstream_above_bytes = \"256KiB\"\nmax_object_bytes = \"2MiB\"\n";
    let server = Server::start(&data_dir, config).await?;
    let over = large::bytes(3 << 20, 4);

    // Announced: refused from the content-length before any of it is read
    // (sent raw: the client never gets to send the body).
    let declared = request("PUT", b"/v1/objects/declared", &[b"content-length: 3145728".to_vec()], b"short");
    let reply = crate::support::raw_http::exchange(server.addr, &declared).await?;
    assert_eq!(reply.status, 413, "{}", reply.text);
    assert!(reply.text.contains("max_object_bytes"), "{}", reply.text);
    // Unannounced: spooled until it passes the limit, then refused. The
    // server answers and closes while the client is still sending, so the
    // client may see its send fail instead of the answer: the answer is then
    // found in the server's count of 4xx responses.
    let before = count_4xx(&server).await?;
    match large::put_chunked(server.addr, "/v1/objects/chunked", over, 64 << 10).await {
        Ok((status, body)) => assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body:?}"),
        Err(err) => assert_eq!(count_4xx(&server).await?, before + 1, "no 4xx after {err:#}"),
    }
    // A body of exactly the limit is fine.
    let (status, _) = large::put_chunked(server.addr, "/v1/objects/fits", large::bytes(2 << 20, 5), 64 << 10).await?;
    assert_eq!(status, StatusCode::CREATED);

    for key in ["declared", "chunked"] {
        assert_eq!(server.http.get(&format!("/v1/objects/{key}")).await?.status, StatusCode::NOT_FOUND, "{key}");
    }
    assert!(spool_files(&data_dir).is_empty(), "spool files left: {:?}", spool_files(&data_dir));
    for tier in ["warm", "cold"] {
        assert_eq!(object_files(&data_dir.join(tier)).len(), 1, "{tier}: only the object that fits");
        assert!(tmp_files(&data_dir.join(tier)).is_empty(), "{tier}: temporary files left");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_upload_leaves_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let server = Server::start(&data_dir, CONFIG).await?;
    let head = request("PUT", b"/v1/objects/gone", &[b"content-length: 8388608".to_vec()], b"");
    let mut socket = tokio::net::TcpStream::connect(server.addr).await?;
    socket.write_all(&head).await?;
    socket.write_all(&large::bytes(2 << 20, 6)).await?;
    socket.flush().await?;
    // The body is being spooled...
    eventually("a spool file appears", || !spool_files(&data_dir).is_empty()).await?;
    // ...when the client goes away.
    drop(socket);
    eventually("the spool file is removed", || spool_files(&data_dir).is_empty()).await?;
    assert_eq!(server.http.get("/v1/objects/gone").await?.status, StatusCode::NOT_FOUND);
    for tier in ["warm", "cold"] {
        assert!(object_files(&data_dir.join(tier)).is_empty(), "{tier}: an object was stored");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_large_warm_copy_is_never_served_complete() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let server = Server::start(&data_dir, CONFIG).await?;
    let big = large::bytes(4 << 20, 7);
    assert_eq!(server.http.put("/v1/objects/big", big.clone()).await?.status, StatusCode::CREATED);
    let files = object_files(&data_dir.join("warm"));
    ensure!(files.len() == 1, "one warm file expected: {files:?}");
    // One bit flipped near the end of the data: only the final hash check
    // can notice, after nearly all of the body has been sent.
    let mut file = std::fs::read(&files[0])?;
    let at = data_end(&file)? - 1000;
    file[at] ^= 1;
    std::fs::write(&files[0], file)?;

    let (status, source, body) = large::get(server.addr, "/v1/objects/big").await?;
    assert_eq!((status, source.as_str()), (StatusCode::OK, "warm"));
    match body {
        Ok(body) => assert!(body.len() < big.len(), "a complete body was served from a corrupt copy"),
        Err(err) => assert!(!format!("{err:#}").is_empty()),
    }
    // The copy was dropped and counted; the next read heals from cold.
    eventually("the corrupt warm copy is dropped", || object_files(&data_dir.join("warm")).is_empty()).await?;
    let (status, source, body) = large::get(server.addr, "/v1/objects/big").await?;
    assert_eq!((status, source.as_str()), (StatusCode::OK, "cold"));
    assert_eq!(large::sha256(&body?), large::sha256(&big));
    let metrics = String::from_utf8(server.http.get("/metrics").await?.body.to_vec())?;
    assert!(metrics.contains("tiered_tier_corrupt_total{tier=\"warm\",kind=\"disk\"} 1"), "{metrics}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_large_cold_copy_is_never_served_complete() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let server = Server::start(&data_dir, &format!("{CONFIG}{NO_WARM}")).await?;
    let big = large::bytes(4 << 20, 8);
    assert_eq!(server.http.put("/v1/objects/big", big.clone()).await?.status, StatusCode::CREATED);
    let files = object_files(&data_dir.join("cold"));
    ensure!(files.len() == 1, "one cold file expected: {files:?}");
    let mut file = std::fs::read(&files[0])?;
    let at = data_end(&file)? - 1000;
    file[at] ^= 1;
    std::fs::write(&files[0], file)?;

    // Cold is the truth: nothing to heal from, so every read breaks off.
    for _ in 0..2 {
        let (status, source, body) = large::get(server.addr, "/v1/objects/big").await?;
        assert_eq!((status, source.as_str()), (StatusCode::OK, "cold"));
        if let Ok(body) = body {
            assert!(body.len() < big.len(), "a complete body was served from a corrupt cold copy");
        }
    }
    let metrics = String::from_utf8(server.http.get("/metrics").await?.body.to_vec())?;
    assert!(metrics.contains("tiered_tier_corrupt_total{tier=\"cold\",kind=\"local\"} 2"), "{metrics}");
    Ok(())
}
