//! `Range` on `GET /v1/objects/{key}` through the real `tiered serve`: each
//! form answered `206` with its `content-range`, `416` past the end,
//! `If-Range` keeping or dropping the range, several ranges and malformed
//! values answered whole, `accept-ranges` on every GET and HEAD; from hot,
//! from warm (a large object above the streaming threshold) and from cold.

use crate::support::large;
use crate::support::server::{Reply, Server};
use anyhow::Result;
use axum::http::{Method, StatusCode};
use bytes::Bytes;

const CONFIG: &str = "max_body_bytes = \"1MiB\"\nstream_above_bytes = \"256KiB\"\nmax_object_bytes = \"64MiB\"\n";

async fn ranged(server: &Server, path: &str, headers: &[(&str, &str)]) -> Result<Reply> {
    server.http.send(Method::GET, path, headers, Bytes::new()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_range_form_is_answered_from_every_tier() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("data"), CONFIG).await?;
    let small = large::bytes(10_000, 1);
    let big = large::bytes(10 << 20, 2);
    assert_eq!(server.http.put("/v1/objects/small", small.clone()).await?.status, StatusCode::CREATED);
    assert_eq!(server.http.put("/v1/objects/dir%2Fbig%20file", big.clone()).await?.status, StatusCode::CREATED);

    for (path, value, tier) in [("/v1/objects/small", &small, "hot"), ("/v1/objects/dir%2Fbig%20file", &big, "warm")] {
        let len = value.len();
        let cases = [
            ("bytes=0-9", 0..10),
            ("bytes=100-", 100..len),
            ("bytes=-500", len - 500..len),
            ("bytes=9000-99999999", 9_000..len),
        ];
        for (range, expected) in cases {
            let reply = ranged(&server, path, &[("range", range)]).await?;
            assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT, "{path} {range}: {reply:?}");
            let content_range = format!("bytes {}-{}/{len}", expected.start, expected.end - 1);
            assert_eq!(reply.header("content-range"), Some(content_range.as_str()), "{path} {range}");
            assert_eq!(reply.header("content-length"), Some((expected.end - expected.start).to_string().as_str()));
            assert_eq!(reply.header("x-tiered-source"), Some(tier), "{path} {range}");
            assert_eq!(reply.header("accept-ranges"), Some("bytes"));
            assert!(reply.body[..] == value[expected.clone()], "{path} {range}: the bytes asked for");
        }

        let past = ranged(&server, path, &[("range", &format!("bytes={len}-"))]).await?;
        assert_eq!(past.status, StatusCode::RANGE_NOT_SATISFIABLE, "{past:?}");
        assert_eq!(past.header("content-range"), Some(format!("bytes */{len}").as_str()));
        assert_eq!(past.error_code()?, "invalid_range");

        // Not served as a range: the whole value, 200.
        for ignored in ["bytes=0-1,5-6", "items=0-5", "bytes=9-2", "bytes=abc"] {
            let whole = ranged(&server, path, &[("range", ignored)]).await?;
            assert_eq!((whole.status, whole.body.len()), (StatusCode::OK, len), "{path} {ignored}");
        }
    }

    // If-Range: the current ETag keeps the range; another, or a date, gets it all.
    let head = server.http.send(Method::HEAD, "/v1/objects/small", &[], Bytes::new()).await?;
    assert_eq!(head.header("accept-ranges"), Some("bytes"));
    let etag = head.header("etag").expect("an etag").to_string();
    let kept = ranged(&server, "/v1/objects/small", &[("range", "bytes=0-3"), ("if-range", &etag)]).await?;
    assert_eq!((kept.status, kept.body.len()), (StatusCode::PARTIAL_CONTENT, 4));
    for stale in ["\"not-the-etag\"", "Wed, 21 Oct 2015 07:28:00 GMT"] {
        let whole = ranged(&server, "/v1/objects/small", &[("range", "bytes=0-3"), ("if-range", stale)]).await?;
        assert_eq!((whole.status, whole.body.len()), (StatusCode::OK, small.len()), "If-Range {stale}");
    }
    // If-None-Match naming the version wins over the range.
    let not_modified =
        ranged(&server, "/v1/objects/small", &[("range", "bytes=0-3"), ("if-none-match", &etag)]).await?;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    let missing = ranged(&server, "/v1/objects/absent", &[("range", "bytes=0-3")]).await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_of_an_object_only_cold_holds_is_served_from_cold() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("data");
    let value = large::bytes(5 << 20, 3);
    let server = Server::start(&data_dir, CONFIG).await?;
    assert_eq!(server.http.put("/v1/objects/cold%2Fonly", value.clone()).await?.status, StatusCode::CREATED);
    server.stop().await?;
    // Restarted without a warm tier: only the local cold directory holds it.
    let server = Server::start(&data_dir, &format!("{CONFIG}[warm]\nmax_bytes = \"0\"\n")).await?;
    let reply = ranged(&server, "/v1/objects/cold%2Fonly", &[("range", "bytes=1048576-1114111")]).await?;
    assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT, "{reply:?}");
    assert_eq!(reply.header("x-tiered-source"), Some("cold"));
    assert!(reply.body[..] == value[1 << 20..(1 << 20) + 65_536]);
    let stats = server.http.get("/v1/stats").await?.json()?;
    assert_eq!(stats["gets"], 1, "{stats}");
    server.stop().await?;
    Ok(())
}
