//! Black-box tests of the HTTP API: the real `tiered` binary on port 0 with a
//! temporary data directory, every route and every error of issue 5.
//! Start-up, restart and hot reload are in `service_lifecycle.rs`.

use crate::support::server;

use anyhow::Result;
use axum::http::{Method, StatusCode};
use server::Server;

const NONE: &[(&str, &str)] = &[];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_are_created_replaced_read_and_deleted() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "").await?;
    let path = "/v1/objects/docs/read%20me.txt";
    let headers = [("content-type", "text/plain"), ("x-tiered-meta-owner", "alice")];

    let created = s.http.send(Method::PUT, path, &headers, "hello").await?;
    assert_eq!(created.status, StatusCode::CREATED);
    let body = created.json()?;
    assert_eq!(body["key"], "docs/read me.txt");
    assert_eq!(body["size"], 5);
    assert_eq!(body["tiers"], serde_json::json!(["hot", "warm", "cold"]));
    let etag = body["etag"].as_str().unwrap_or_default().to_string();
    assert_eq!(created.header("etag"), Some(format!("\"{etag}\"").as_str()));

    let replaced = s.http.send(Method::PUT, path, &headers, "hello, world").await?;
    assert_eq!(replaced.status, StatusCode::OK);
    let etag = replaced.json()?["etag"].as_str().unwrap_or_default().to_string();

    let got = s.http.get(path).await?;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(&got.body[..], b"hello, world");
    assert_eq!(got.header("content-type"), Some("text/plain"));
    assert_eq!(got.header("etag"), Some(format!("\"{etag}\"").as_str()));
    assert_eq!(got.header("x-tiered-source"), Some("hot"));
    assert_eq!(got.header("x-tiered-meta-owner"), Some("alice"));
    // `%2F` and `/` name the same key.
    assert_eq!(&s.http.get("/v1/objects/docs%2Fread%20me.txt").await?.body[..], b"hello, world");

    let quoted = format!("\"{etag}\"");
    let cached = s.http.send(Method::GET, path, &[("if-none-match", quoted.as_str())], "").await?;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
    let stale = s.http.send(Method::GET, path, &[("if-none-match", "\"other\"")], "").await?;
    assert_eq!(stale.status, StatusCode::OK);

    let head = s.http.send(Method::HEAD, path, NONE, "").await?;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), Some("12"));
    assert_eq!(head.header("x-tiered-source"), Some("hot"));
    assert!(head.body.is_empty());

    for _ in 0..2 {
        assert_eq!(s.http.send(Method::DELETE, path, NONE, "").await?.status, StatusCode::NO_CONTENT);
    }
    let gone = s.http.get(path).await?;
    assert_eq!((gone.status, gone.error_code()?.as_str()), (StatusCode::NOT_FOUND, "no_such_key"));
    assert_eq!(s.http.send(Method::HEAD, path, NONE, "").await?.status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_expiry_and_touch() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "").await?;
    let put = |key: &'static str, ttl: &'static str| {
        let http = s.http.clone();
        async move { http.send(Method::PUT, &format!("/v1/objects/{key}"), &[("x-tiered-ttl", ttl)], "v").await }
    };
    assert_eq!(put("t/hour", "3600").await?.status, StatusCode::CREATED);
    let left: u64 = s.http.get("/v1/objects/t/hour").await?.header("x-tiered-expires-in").unwrap_or("0").parse()?;
    assert!((3590..=3600).contains(&left), "{left}");

    assert_eq!(s.http.send(Method::POST, "/v1/touch/t/hour?ttl=7200", NONE, "").await?.status, StatusCode::NO_CONTENT);
    let left: u64 = s.http.get("/v1/objects/t/hour").await?.header("x-tiered-expires-in").unwrap_or("0").parse()?;
    assert!(left > 3600, "{left}");
    assert_eq!(s.http.send(Method::POST, "/v1/touch/t/hour", NONE, "").await?.status, StatusCode::NO_CONTENT);
    assert_eq!(s.http.get("/v1/objects/t/hour").await?.header("x-tiered-expires-in"), None);

    // A TTL of 0 expires at once: the object reads as missing.
    assert_eq!(put("t/gone", "0").await?.status, StatusCode::CREATED);
    assert_eq!(s.http.get("/v1/objects/t/gone").await?.status, StatusCode::NOT_FOUND);
    let touched = s.http.send(Method::POST, "/v1/touch/t/missing?ttl=5", NONE, "").await?;
    assert_eq!((touched.status, touched.error_code()?.as_str()), (StatusCode::NOT_FOUND, "no_such_key"));

    let bad = put("t/bad", "soon").await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error_message()?.contains("x-tiered-ttl"), "{}", bad.error_message()?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_paginates_and_invalidate_deletes_a_prefix() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "").await?;
    for key in ["list/e", "list/b", "list/a", "list/d", "list/c", "other/x"] {
        assert_eq!(s.http.put(&format!("/v1/objects/{key}"), "v").await?.status, StatusCode::CREATED);
    }
    let page = |q: &'static str| {
        let http = s.http.clone();
        async move { http.get(&format!("/v1/objects?{q}")).await?.json() }
    };
    assert_eq!(
        page("prefix=list/&limit=2").await?,
        serde_json::json!({"keys": ["list/a", "list/b"], "next": "list/b"})
    );
    assert_eq!(page("prefix=list/&limit=2&after=list/b").await?["keys"], serde_json::json!(["list/c", "list/d"]));
    assert_eq!(page("prefix=list/&limit=2&after=list/d").await?, serde_json::json!({"keys": ["list/e"], "next": null}));
    assert_eq!(page("").await?["keys"].as_array().map(Vec::len), Some(6));
    assert_eq!(s.http.get("/v1/objects?limit=0").await?.status, StatusCode::BAD_REQUEST);

    assert_eq!(s.http.send(Method::POST, "/v1/invalidate", NONE, "").await?.status, StatusCode::BAD_REQUEST);
    let invalidated = s.http.send(Method::POST, "/v1/invalidate?prefix=list/", NONE, "").await?;
    assert_eq!(invalidated.status, StatusCode::OK);
    assert_eq!(invalidated.json()?, serde_json::json!({"deleted": 5}));
    assert_eq!(page("prefix=list/").await?, serde_json::json!({"keys": [], "next": null}));
    assert_eq!(s.http.get("/v1/objects/list/a").await?.status, StatusCode::NOT_FOUND);
    assert_eq!(s.http.get("/v1/objects/other/x").await?.status, StatusCode::OK);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_metrics_and_health() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // Patient limits: the zero fallbacks asserted below must not depend on
    // how quickly a busy machine runs the policy's first calls.
    let s = Server::start(dir.path(), server::PATIENT_POLICY).await?;
    assert_eq!(s.http.get("/healthz").await?.json()?, serde_json::json!({"status": "ok"}));
    s.http.put("/v1/objects/s/1", "one").await?;
    s.http.get("/v1/objects/s/1").await?;
    s.http.get("/v1/objects/s/missing").await?;

    let stats = s.http.get("/v1/stats").await?.json()?;
    let tiers = stats["tiers"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = tiers.iter().filter_map(|t| t["tier"].as_str()).collect();
    assert_eq!(names, ["hot", "warm", "cold"]);
    assert_eq!(tiers[0]["hits"], 1);
    for field in ["misses", "bytes", "objects", "evictions"] {
        assert!(tiers.iter().all(|t| t[field].is_u64()), "{field} in {stats}");
    }
    assert!(stats["policy_counters"]["calls"].as_u64() > Some(0), "{stats}");
    assert_eq!(stats["policy_counters"]["fallbacks"], 0);

    let metrics = s.http.get("/metrics").await?;
    assert!(metrics.header("content-type").unwrap_or_default().starts_with("text/plain; version=0.0.4"));
    let text = String::from_utf8(metrics.body.to_vec())?;
    for line in [
        "tiered_tier_hits_total{tier=\"hot\",kind=\"memory\"} 1",
        "# TYPE tiered_tier_evictions_total counter",
        "tiered_policy_fallbacks_total 0",
        "tiered_policy_info{name=\"tiered-default\"",
        "tiered_http_responses_total{class=\"2xx\"}",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_the_rule_broken() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "max_body_bytes = \"1KiB\"\nmax_object_bytes = \"1KiB\"\n").await?;
    let long = format!("/v1/objects/{}", "k".repeat(1025));
    for (method, path, rule) in [
        (Method::PUT, "/v1/objects/a%00b", "control character"),
        (Method::GET, "/v1/objects/a%00b", "control character"),
        (Method::PUT, long.as_str(), "the limit is 1024 bytes"),
        (Method::PUT, "/v1/objects/%FF", "not valid UTF-8"),
        (Method::GET, "/v1/objects/", "empty"),
        (Method::POST, "/v1/touch/%FF", "not valid UTF-8"),
    ] {
        let reply = s.http.send(method.clone(), path, NONE, "v").await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method} {path}");
        assert_eq!(reply.error_code()?, "invalid_key");
        assert!(reply.error_message()?.contains(rule), "{method} {path}: {}", reply.error_message()?);
    }

    assert_eq!(s.http.put("/v1/objects/fits", vec![7u8; 1024]).await?.status, StatusCode::CREATED);
    let big = s.http.put("/v1/objects/big", vec![7u8; 1025]).await?;
    assert_eq!((big.status, big.error_code()?.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));
    assert_eq!(s.http.get("/v1/objects/big").await?.status, StatusCode::NOT_FOUND);

    let nowhere = s.http.get("/v2/nothing").await?;
    assert_eq!((nowhere.status, nowhere.error_code()?.as_str()), (StatusCode::NOT_FOUND, "no_route"));
    for (method, path) in
        [(Method::POST, "/v1/objects/x"), (Method::DELETE, "/v1/stats"), (Method::GET, "/v1/invalidate")]
    {
        let reply = s.http.send(method.clone(), path, NONE, "").await?;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(reply.error_code()?, "method_not_allowed");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_need_the_token_when_one_is_set() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "admin_token = \"s3cret\"\n").await?;
    s.http.put("/v1/objects/a/1", "v").await?;
    let routes = [
        (Method::POST, "/v1/invalidate?prefix=zzz"),
        (Method::POST, "/v1/bootstrap/hot?limit=10"),
        (Method::POST, "/v1/bootstrap/warm?limit=10&since=3600"),
        (Method::PUT, "/v1/policy"),
    ];
    for (method, path) in &routes {
        for auth in [NONE, &[("authorization", "Bearer wrong")], &[("authorization", "s3cret")]] {
            let reply = s.http.send(method.clone(), path, auth, "").await?;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path} {auth:?}");
            assert_eq!(reply.error_code()?, "unauthorized");
        }
    }
    let ok = [("authorization", "Bearer s3cret")];
    for (method, path) in &routes[..3] {
        let reply = s.http.send(method.clone(), path, &ok, "").await?;
        assert_eq!(reply.status, StatusCode::OK, "{method} {path}: {:?}", reply.body);
    }
    let warm = s.http.send(Method::POST, "/v1/bootstrap/warm", &ok, "").await?.json()?;
    assert!(warm["loaded"].is_u64(), "{warm}");
    // Object and read-only routes stay open.
    assert_eq!(s.http.get("/v1/objects/a/1").await?.status, StatusCode::OK);
    assert_eq!(s.http.get("/v1/policy").await?.status, StatusCode::OK);
    assert_eq!(s.http.get("/v1/stats").await?.status, StatusCode::OK);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_tier_that_cannot_write_fails_the_write_with_503() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "").await?;
    assert_eq!(s.http.put("/v1/objects/before", "v").await?.status, StatusCode::CREATED);
    // Writes to cold go through cold/tmp/: make it a file and cold cannot write.
    let tmp = dir.path().join("cold").join("tmp");
    std::fs::remove_dir_all(&tmp)?;
    std::fs::write(&tmp, "not a directory")?;

    let refused = s.http.put("/v1/objects/after", "v").await?;
    assert_eq!((refused.status, refused.error_code()?.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "cold_unavailable"));
    assert_eq!(s.http.get("/v1/objects/after").await?.status, StatusCode::NOT_FOUND, "nothing acknowledged");
    assert_eq!(s.http.get("/v1/objects/before").await?.status, StatusCode::OK);
    Ok(())
}

/// A read without a body skips the router (`http::front`); one with a body
/// takes it. Both must answer alike: same status, headers (but `date`) and
/// body, for hits, ranges, conditionals, `HEAD`, missing and invalid keys;
/// and both are observed in `/metrics` under the object route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_reads_answer_alike_with_or_without_a_body() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "").await?;
    let path = "/v1/objects/front/a%20b";
    let headers = [("content-type", "text/plain"), ("x-tiered-meta-owner", "alice"), ("x-tiered-ttl", "3600")];
    let put = s.http.send(Method::PUT, path, &headers, "0123456789").await?;
    let etag = put.header("etag").unwrap_or_default().to_string();

    let cases = [
        (Method::GET, path, None),
        (Method::HEAD, path, None),
        (Method::GET, path, Some(("range", "bytes=2-4"))),
        (Method::GET, path, Some(("range", "bytes=20-"))),
        (Method::GET, path, Some(("if-none-match", etag.as_str()))),
        (Method::GET, "/v1/objects/front/missing", None),
        (Method::GET, "/v1/objects/a/../b", None),
    ];
    let before = responses_by_class(&s).await?;
    for (method, target, header) in &cases {
        let headers: Vec<(&str, &str)> = header.iter().copied().collect();
        let (without, with) = s.http.with_and_without_body(method, target, &headers).await?;
        server::assert_alike(&without, &with, &format!("{method} {target} {headers:?}"))?;
    }
    let after = responses_by_class(&s).await?;
    // Two of each case, and the first `/metrics` (counted once answered).
    assert_eq!(after[1] - before[1], 2 * 3 + 1, "2xx: GET, HEAD, a range");
    assert_eq!(after[2] - before[2], 2, "3xx: the 304");
    assert_eq!(after[3] - before[3], 2 * 3, "4xx: 416, 404, the invalid key");
    Ok(())
}

/// `tiered_http_responses_total` by class (1xx..5xx) from `/metrics`.
async fn responses_by_class(s: &Server) -> Result<[u64; 5]> {
    let metrics = s.http.get("/metrics").await?;
    let text = String::from_utf8_lossy(&metrics.body);
    let mut counts = [0; 5];
    for line in text.lines().filter(|l| l.starts_with("tiered_http_responses_total{")) {
        let class = line.split("class=\"").nth(1).and_then(|r| r.chars().next()).and_then(|c| c.to_digit(10));
        let value = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        if let (Some(class @ 1..=5), Some(value)) = (class, value) {
            counts[class as usize - 1] = value as u64;
        }
    }
    Ok(counts)
}
