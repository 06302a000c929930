//! `/metrics` read as Prometheus reads it: a scripted workload against the
//! real binary, then the exposition parsed with a text-format parser (not
//! matched as strings), and each histogram's counts compared with what the
//! workload did.

use std::collections::HashMap;

use anyhow::{Context, Result};
use axum::http::{Method, StatusCode};

use crate::support::prometheus::{count, scrape, value};
use crate::support::server::Server;

const NONE: &[(&str, &str)] = &[];

/// A small hot tier (evictions happen), warm on disk, cold a local directory.
const CONFIG: &str = "[hot]\nmax_bytes = \"64KiB\"\n[warm]\nmax_bytes = \"64MiB\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histograms_count_every_request_by_route_method_status_and_tier() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), CONFIG).await?;
    let value_of = |i: usize| vec![b'v'; 1000 + i];
    let puts = 120;
    for i in 0..puts {
        let put = s.http.send(Method::PUT, &format!("/v1/objects/k{i}"), NONE, value_of(i)).await?;
        assert_eq!(put.status, StatusCode::CREATED);
    }
    let mut served: HashMap<String, f64> = HashMap::new();
    for i in 0..puts {
        let got = s.http.get(&format!("/v1/objects/k{i}")).await?;
        assert_eq!(got.status, StatusCode::OK);
        let tier = got.header("x-tiered-source").context("a served GET names its tier")?.to_string();
        *served.entry(tier).or_default() += 1.0;
    }
    assert_eq!(s.http.get("/v1/objects/absent").await?.status, StatusCode::NOT_FOUND);
    assert_eq!(s.http.send(Method::HEAD, "/v1/objects/k0", NONE, "").await?.status, StatusCode::OK);
    assert_eq!(s.http.get("/no/such/route").await?.status, StatusCode::NOT_FOUND);
    assert_eq!(s.http.get("/v1/stats").await?.status, StatusCode::OK);

    let (scrape, text) = scrape(&s).await?;

    let http = "tiered_http_request_duration_seconds";
    let objects = ("route", "/v1/objects/:key");
    // The start-up probe polls /healthz until the server answers.
    let probes = count(&scrape, http, &[("route", "/healthz"), ("status", "2xx")]);
    assert!(probes >= 1.0, "the start-up probe:\n{text}");
    let total = puts as f64 * 2.0 + 4.0 + probes;
    assert_eq!(count(&scrape, http, &[]), total, "every request before the scrape, once:\n{text}");
    let put_count = count(&scrape, http, &[objects, ("method", "PUT"), ("status", "2xx"), ("tier", "none")]);
    assert_eq!(put_count, puts as f64);
    for (tier, n) in &served {
        let gets = count(&scrape, http, &[objects, ("method", "GET"), ("status", "2xx"), ("tier", tier.as_str())]);
        assert_eq!(gets, *n, "GETs served by {tier}");
    }
    assert!(served.len() > 1, "the small hot tier leaves some reads to warm: {served:?}");
    assert_eq!(count(&scrape, http, &[objects, ("method", "GET"), ("status", "4xx"), ("tier", "none")]), 1.0);
    assert_eq!(count(&scrape, http, &[objects, ("method", "HEAD"), ("status", "2xx")]), 1.0);
    assert_eq!(count(&scrape, http, &[("route", "other"), ("status", "4xx")]), 1.0);
    assert_eq!(count(&scrape, http, &[("route", "/v1/stats")]), 1.0);
    assert_eq!(value(&scrape, "tiered_http_responses_total", &[("class", "2xx")]), Some(total - 2.0));

    // Cold is a local directory: each PUT is one write to it.
    let disk = "tiered_disk_operation_duration_seconds";
    assert_eq!(count(&scrape, disk, &[("kind", "local"), ("operation", "write")]), puts as f64);
    // The default policy keeps an order: every object that entered hot or
    // warm was first admitted by it (each write fills both), and every
    // admission call is timed.
    let admits = count(&scrape, "tiered_policy_call_duration_seconds", &[("call", "admit")]);
    assert!(admits >= 2.0 * puts as f64, "{admits} admissions for {puts} writes into two tiers:\n{text}");
    let evicted = value(&scrape, "tiered_tier_evictions_total", &[("tier", "hot")]).unwrap_or(0.0);
    assert!(evicted > 0.0, "64 KiB of hot holds fewer than 120 objects of 1 KiB:\n{text}");

    // The example dashboard asks only for series the service exports (S3's
    // are checked against their name: this server's cold is local).
    let exported: std::collections::HashSet<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for name in dashboard_metrics()? {
        let base = ["_bucket", "_count", "_sum"].iter().find_map(|x| name.strip_suffix(x)).unwrap_or(&name);
        let known = exported.contains(name.as_str()) || exported.contains(base) || base == tiered_s3::REQUEST_SECONDS;
        assert!(known, "examples/grafana/tiered-dashboard.json asks for {name}, which /metrics does not have");
    }

    // The store's counters keep their names and types.
    let hot = [("tier", "hot"), ("kind", "memory")];
    assert_eq!(value(&scrape, "tiered_tier_hits_total", &hot), served.get("hot").copied());
    assert_eq!(value(&scrape, "tiered_gets_total", &[]), Some(puts as f64 + 1.0));
    assert_eq!(value(&scrape, "tiered_policy_info", &[("name", "tiered-default")]), Some(1.0));
    Ok(())
}

/// The metric names in the example Grafana dashboard's queries.
fn dashboard_metrics() -> Result<Vec<String>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/grafana/tiered-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut names = Vec::new();
    for panel in dashboard["panels"].as_array().context("panels")? {
        for target in panel["targets"].as_array().context("targets")? {
            let expr = target["expr"].as_str().context("expr")?;
            let words = expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            names.extend(words.filter(|w| w.starts_with("tiered_")).map(str::to_string));
        }
    }
    anyhow::ensure!(names.len() >= 10, "the dashboard's queries: {names:?}");
    Ok(names)
}

/// `[metrics] histograms = false`: counters and gauges only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histograms_can_be_turned_off_keeping_the_counters() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), &format!("{CONFIG}[metrics]\nhistograms = false\n")).await?;
    for i in 0..120 {
        let put = s.http.send(Method::PUT, &format!("/v1/objects/k{i}"), NONE, vec![b'v'; 1000]).await?;
        assert_eq!(put.status, StatusCode::CREATED);
    }
    assert_eq!(s.http.get("/v1/objects/k0").await?.status, StatusCode::OK);
    let (scrape, text) = scrape(&s).await?;
    let histograms = scrape.samples.iter().filter(|s| matches!(s.value, prometheus_parse::Value::Histogram(_)));
    assert_eq!(histograms.count(), 0, "no histogram series:\n{text}");
    assert!(!text.contains("_bucket"), "{text}");
    assert!(value(&scrape, "tiered_tier_evictions_total", &[("tier", "hot")]).is_some_and(|n| n > 0.0), "{text}");
    assert!(value(&scrape, "tiered_http_responses_total", &[("class", "2xx")]).is_some_and(|n| n >= 121.0));
    Ok(())
}

/// A client that hangs up before its answer is ready (a read waiting for a
/// cold tier that does not answer) is counted as abandoned, through `/v1` by
/// route and through the S3 endpoint; a request answered is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_request_whose_client_left_is_counted_as_abandoned() -> Result<()> {
    use crate::support::proxy::{Mode, Proxy};
    use crate::support::s3_api::{Auth, BUCKET, Endpoint};
    use tokio::io::AsyncWriteExt;
    let (config, proxy) = Proxy::before_s3("abandoned").await?;
    let cold = tiered_s3::S3Tier::connect(config.clone()).await?;
    tiered::store::Tier::put(&cold, tiered::store::contract::object("cold-only", b"cold value", 1)).await?;
    let dir = tempfile::tempdir()?;
    // Cold is S3 behind the proxy here, not CONFIG's local directory.
    let cold_table = crate::support::s3::cold_table(&config);
    let e = Endpoint::start(dir.path(), &format!("{CONFIG}{cold_table}"), Auth::Open).await?;
    let s = &e.server;
    assert_eq!(s.http.put("/v1/objects/cached", "cached value").await?.status, StatusCode::CREATED);
    assert_eq!(s.http.get("/v1/objects/cached").await?.status, StatusCode::OK);
    assert_eq!(e.raw.get(&format!("/{BUCKET}/cached")).await?.status, StatusCode::OK);
    let abandoned = |scrape: &prometheus_parse::Scrape| {
        let v1 = value(scrape, "tiered_http_requests_abandoned_total", &[("route", "/v1/objects/:key")]);
        (v1, value(scrape, "tiered_s3_api_requests_abandoned_total", &[]))
    };
    let (before, _) = scrape(s).await?;
    assert_eq!(abandoned(&before), (None, None), "answered requests are not abandoned");

    proxy.set(Mode::Delay(30_000));
    for (addr, path) in [(s.addr, "/v1/objects/cold-only".to_string()), (e.addr, format!("/{BUCKET}/cold-only"))] {
        let mut client = tokio::net::TcpStream::connect(addr).await?;
        client.write_all(format!("GET {path} HTTP/1.1\r\nhost: tiered\r\n\r\n").as_bytes()).await?;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        drop(client);
    }
    let mut counted = (None, None);
    for _ in 0..100 {
        let (after, _) = scrape(s).await?;
        counted = abandoned(&after);
        if counted.0.is_some() && counted.1.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(counted, (Some(1.0), Some(1.0)), "each read whose client left is counted once");
    proxy.set(Mode::Pass);
    Ok(())
}

/// Each request runs in a `request` span (debug level) carrying its route,
/// method, the key's hash (never the key), status class and serving tier:
/// what happens inside, here the request's own log line, is attributed to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_span_carries_the_key_hash_never_the_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start_logging(dir.path(), "", "info,tiered_host::http=debug").await?;
    let key = "secret-report-2026";
    assert_eq!(s.http.put(&format!("/v1/objects/{key}"), "v").await?.status, StatusCode::CREATED);
    assert_eq!(s.http.get(&format!("/v1/objects/{key}")).await?.status, StatusCode::OK);
    // The log is read from the server's stderr by a thread: wait for the
    // GET's line (the PUT's comes first).
    let in_span = |l: &&str| l.contains("request{") && l.contains("route=\"/v1/objects/:key\"");
    let get_line = |l: &&str| in_span(l) && l.contains("method=\"GET\"") && l.contains("status=");
    let mut log = s.log_text();
    for _ in 0..600 {
        if log.lines().any(|l| get_line(&l)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        log = s.log_text();
    }
    let lines: Vec<&str> = log.lines().filter(in_span).collect();
    assert!(lines.len() >= 2, "the PUT's and the GET's lines, inside their spans:\n{log}");
    let hashes: Vec<&str> =
        lines.iter().filter_map(|l| l.split("key_hash=").nth(1)?.split([' ', '}']).next()).collect();
    assert_eq!(hashes.len(), lines.len(), "each carries the key's hash:\n{log}");
    assert!(hashes.iter().all(|h| h.len() == 16 && *h == hashes[0]), "one key, one hash: {hashes:?}");
    assert!(lines.iter().any(|l| l.contains("method=\"GET\"") && l.contains("tier=\"hot\"")), "{log}");
    assert!(!log.contains(key), "the key itself is never logged:\n{log}");
    Ok(())
}

/// A build without the `otel` feature refuses an OTLP endpoint rather than
/// ignore it.
#[cfg(not(feature = "otel"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_otlp_endpoint_needs_the_otel_build() -> Result<()> {
    let config = "[tracing]\notlp_endpoint = \"http://127.0.0.1:4318/v1/traces\"\n";
    let line = crate::service_lifecycle::failed_start(&[], &[], Some(config)).await?;
    assert!(line.contains("otlp_endpoint is set, but this build") && line.contains("--features otel"), "{line}");
    Ok(())
}

/// With the `otel` feature, the request spans reach an OTLP/HTTP receiver
/// (here a fake collector that keeps the bodies), the key's hash in them and
/// never the key, and the last ones are flushed when the server stops.
#[cfg(feature = "otel")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_spans_are_exported_with_otlp() -> Result<()> {
    use std::sync::{Arc, Mutex};

    use axum::body::Bytes;
    use axum::extract::State;

    type Received = Arc<Mutex<Vec<(String, Bytes)>>>;
    async fn collect(State(received): State<Received>, headers: axum::http::HeaderMap, body: Bytes) -> StatusCode {
        let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        received.lock().expect("not poisoned").push((kind, body));
        StatusCode::OK
    }
    let received: Received = Arc::default();
    let app = axum::Router::new().route("/v1/traces", axum::routing::post(collect)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}/v1/traces", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), &format!("[tracing]\notlp_endpoint = {endpoint:?}\n")).await?;
    let key = "secret-report-2026";
    assert_eq!(s.http.put(&format!("/v1/objects/{key}"), "v").await?.status, StatusCode::CREATED);
    assert_eq!(s.http.get(&format!("/v1/objects/{key}")).await?.status, StatusCode::OK);
    s.stop().await?;

    let bodies = received.lock().expect("not poisoned").clone();
    assert!(!bodies.is_empty(), "no export reached the collector");
    assert!(bodies.iter().all(|(kind, _)| kind == "application/x-protobuf"), "{:?}", bodies.iter().map(|b| &b.0));
    let all: Vec<u8> = bodies.iter().flat_map(|(_, body)| body.to_vec()).collect();
    let has = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"request") && has(b"key_hash") && has(b"/v1/objects/:key"), "the request spans and their fields");
    assert!(has(b"policy_call") && has(b"place"), "the PUT's placement call, inside its request");
    assert!(!has(key.as_bytes()), "the key itself is never exported");
    Ok(())
}
