//! Access-trace capture in `tiered serve` (`/v1/trace`), end to end against
//! the real binary: the routes and their refusals, what a capture holds
//! (sampling by key, limits, rotation, the CSV form), and that a captured
//! file replays with `tiered simulate` and reads with libCacheSim's Python
//! package to the same request and object counts that were driven.
//!
//! The libCacheSim test uses the virtualenv `tests/traces/gen.sh` makes
//! (`$TIERED_TOOLS/libcachesim-venv`, default `~/.cache/tiered-tools`),
//! through the fidelity tests' own set-up: like them it needs python3 and
//! PyPI on first use, and is never skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tiered_host::sim::trace::ORACLE_RECORD;
use tiered_host::sim::{Format, Op, Trace};

use crate::support::server::{Reply, Server, run_to_exit, tiered};

const TOKEN: &str = "trace-admin-token";

/// Requests with the admin token.
async fn admin(server: &Server, method: Method, path: &str, body: Value) -> Result<Reply> {
    let auth = format!("Bearer {TOKEN}");
    let body = if body.is_null() { String::new() } else { body.to_string() };
    server.http.send(method, path, &[("authorization", &auth), ("content-type", "application/json")], body).await
}

async fn start(server: &Server, params: Value) -> Result<Value> {
    let reply = admin(server, Method::POST, "/v1/trace/start", params).await?;
    ensure!(reply.status == StatusCode::OK, "start: {} {:?}", reply.status, String::from_utf8_lossy(&reply.body));
    reply.json()
}

async fn stop(server: &Server) -> Result<Value> {
    let reply = admin(server, Method::POST, "/v1/trace/stop", Value::Null).await?;
    ensure!(reply.status == StatusCode::OK, "stop: {}", reply.status);
    reply.json()
}

async fn status(server: &Server) -> Result<Value> {
    admin(server, Method::GET, "/v1/trace", Value::Null).await?.json()
}

/// Polls the status until the capture has ended by itself (bounded).
async fn ended(server: &Server) -> Result<Value> {
    for _ in 0..1200 {
        let status = status(server).await?;
        if status["running"] == false {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("the capture was still running after 30 s: {}", status(server).await?)
}

async fn serve(dir: &Path, extra: &str) -> Result<Server> {
    Server::start(dir, &format!("admin_token = \"{TOKEN}\"\n{extra}")).await
}

async fn put(server: &Server, key: &str, size: usize) -> Result<()> {
    let reply = server.http.put(&format!("/v1/objects/{key}"), vec![b'x'; size]).await?;
    ensure!(reply.status.is_success(), "PUT {key}: {}", reply.status);
    Ok(())
}

async fn get(server: &Server, key: &str) -> Result<StatusCode> {
    Ok(server.http.get(&format!("/v1/objects/{key}")).await?.status)
}

/// The capture's files, as the status names them.
fn files(status: &Value) -> Result<Vec<PathBuf>> {
    let files = status["files"].as_array().context("files")?;
    Ok(files.iter().filter_map(Value::as_str).map(PathBuf::from).collect())
}

/// Every record of an oracleGeneral capture, its parts concatenated:
/// (seconds, id, size, next access).
fn oracle_records(status: &Value) -> Result<Vec<(u32, u64, u32, i64)>> {
    let mut records = Vec::new();
    for file in files(status)? {
        let bytes = std::fs::read(&file)?;
        ensure!(bytes.len() % ORACLE_RECORD == 0, "{} holds a partial record", file.display());
        for r in bytes.chunks(ORACLE_RECORD) {
            records.push((
                u32::from_le_bytes(r[0..4].try_into()?),
                u64::from_le_bytes(r[4..12].try_into()?),
                u32::from_le_bytes(r[12..16].try_into()?),
                i64::from_le_bytes(r[16..24].try_into()?),
            ));
        }
    }
    Ok(records)
}

/// The documented key hash, computed here independently of the service.
fn key_id(seed_hex: &str, key: &str) -> Result<u64> {
    let seed = u64::from_str_radix(seed_hex, 16)?;
    let mut hash = Sha256::new();
    hash.update(seed.to_le_bytes());
    hash.update(key.as_bytes());
    Ok(u64::from_le_bytes(hash.finalize()[..8].try_into()?))
}

/// A fixed workload: 40 objects written, then read with skew (object `i`
/// read `1 + i % 4` times), a range, a range whose `If-Range` fails (one
/// whole read) and a `304`, each traced once, plus reads that find nothing
/// and HEADs (neither traced). Returns (requests traced, distinct objects).
async fn drive(server: &Server) -> Result<(u64, u64)> {
    let mut requests = 0;
    for i in 0..40 {
        put(server, &format!("obj/{i}"), 100 + i * 10).await?;
        requests += 1;
    }
    for round in 0..4 {
        for i in 0..40 {
            if i % 4 >= round {
                ensure!(get(server, &format!("obj/{i}")).await? == StatusCode::OK);
                requests += 1;
            }
        }
    }
    let conditional: [(&str, &str, StatusCode); 3] = [
        ("range", "bytes=0-9", StatusCode::PARTIAL_CONTENT),
        ("if-range", "\"another-version\"", StatusCode::OK),
        ("if-none-match", "*", StatusCode::NOT_MODIFIED),
    ];
    for (name, value, expected) in conditional {
        let mut headers = vec![(name, value)];
        if name == "if-range" {
            headers.push(("range", "bytes=0-9"));
        }
        let reply = server.http.send(Method::GET, "/v1/objects/obj/2", &headers, Vec::new()).await?;
        ensure!(reply.status == expected, "{name}: {}", reply.status);
        requests += 1;
    }
    for i in 0..5 {
        ensure!(get(server, &format!("missing/{i}")).await? == StatusCode::NOT_FOUND);
        let head = server.http.send(Method::HEAD, "/v1/objects/obj/1", &[], Vec::new()).await?;
        ensure!(head.status == StatusCode::OK);
    }
    Ok((requests, 40))
}

/// `tiered simulate --json` on a trace: (requests, unique objects).
async fn simulate(trace: &Path, format: &str) -> Result<(u64, u64)> {
    let mut cmd = tiered();
    cmd.arg("simulate").arg("--trace").arg(trace).args(["--format", format, "--policy", "lru", "--json"]);
    let (exit, stdout, stderr) = run_to_exit(cmd).await?;
    ensure!(exit.success(), "simulate failed: {stderr}");
    let report: Value = serde_json::from_str(&stdout).with_context(|| format!("not JSON: {stdout}"))?;
    let report = if report.is_array() { report[0].clone() } else { report };
    let count = |name: &str| report[name].as_u64().with_context(|| format!("{name} in {report}"));
    Ok((count("requests")?, count("unique_objects")?))
}

#[tokio::test]
async fn a_capture_holds_every_read_and_write_and_replays_with_simulate() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), "").await?;
    assert_eq!(status(&server).await?["running"], false, "no capture before a start");
    let started = start(&server, json!({})).await?;
    assert_eq!(started["running"], true);
    assert_eq!(started["format"], "oracle-general");
    let file = PathBuf::from(started["file"].as_str().context("file")?);
    assert!(file.starts_with(dir.path().join("traces")), "{}", file.display());
    let name = file.file_name().and_then(|n| n.to_str()).context("name")?;
    assert!(name.starts_with("trace-") && name.ends_with("-0000.oracleGeneral"), "{name}");

    let (requests, objects) = drive(&server).await?;
    let running = status(&server).await?;
    assert_eq!(running["running"], true);
    let stopped = stop(&server).await?;
    assert_eq!(stopped["running"], false);
    assert_eq!(stopped["ended"], "stopped");
    assert_eq!(stopped["requests"], requests);
    assert_eq!(stopped["dropped"], 0);
    assert_eq!(stopped["bytes"], requests * ORACLE_RECORD as u64);

    let records = oracle_records(&stopped)?;
    assert_eq!(records.len() as u64, requests);
    assert!(records.iter().all(|r| r.3 == -1), "the next access is unknown online");
    let seed = stopped["seed"].as_str().context("seed")?;
    let sizes: BTreeMap<u64, u32> = records.iter().map(|r| (r.1, r.2)).collect();
    for i in 0..40u32 {
        let id = key_id(seed, &format!("obj/{i}"))?;
        assert_eq!(sizes.get(&id), Some(&(100 + i * 10)), "obj/{i}: its id and stored size");
    }
    let bytes = std::fs::read(&file)?;
    for i in 0..40 {
        assert!(!contains(&bytes, format!("obj/{i}").as_bytes()), "no key is written as text");
    }

    assert_eq!(simulate(&file, "oracle-general").await?, (requests, objects));
    let stop_again = stop(&server).await?;
    assert_eq!(stop_again["requests"], requests, "a stop without a capture answers the last status");
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn libcachesim_reads_a_capture_to_the_same_requests_and_objects() -> Result<()> {
    // The virtualenv is made (libcachesim from PyPI) by gen.sh, as for the fidelity tests.
    super::simulate::fidelity_files()?;
    let tools = std::env::var_os("TIERED_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tiered-tools")))
        .context("neither TIERED_TOOLS nor HOME is set")?;
    let python = tools.join("libcachesim-venv/bin/python");
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), "").await?;
    start(&server, json!({"format": "oracle-general"})).await?;
    let (requests, objects) = drive(&server).await?;
    let stopped = stop(&server).await?;
    let file = PathBuf::from(stopped["file"].as_str().context("file")?);
    let script = "import sys, libcachesim as lcs\n\
                  r = lcs.TraceReader(sys.argv[1], lcs.TraceType.ORACLE_GENERAL_TRACE)\n\
                  ids = [q.obj_id for q in r]\n\
                  print(len(ids), len(set(ids)))\n";
    let mut cmd = std::process::Command::new(&python);
    cmd.arg("-c").arg(script).arg(&file);
    let (exit, stdout, stderr) = run_to_exit(cmd).await?;
    ensure!(exit.success(), "libcachesim failed: {stderr}");
    let counts: Vec<u64> = stdout.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
    assert_eq!(counts, [requests, objects], "libCacheSim's requests and objects");
    Ok(())
}

#[tokio::test]
async fn the_routes_need_the_admin_token_and_refuse_a_second_capture_and_bad_parameters() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), "").await?;
    for (method, path) in
        [(Method::POST, "/v1/trace/start"), (Method::POST, "/v1/trace/stop"), (Method::GET, "/v1/trace")]
    {
        let reply = server.http.send(method.clone(), path, &[], "{}").await?;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path} without the token");
        let wrong = server.http.send(method.clone(), path, &[("authorization", "Bearer nope")], "{}").await?;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{method} {path} with a wrong token");
    }
    assert_eq!(status(&server).await?["running"], false, "the refused start started nothing");

    let bad = [
        (json!({"sample": 0}), "sample"),
        (json!({"sample": 1.5}), "sample"),
        (json!({"max_requests": 0}), "max_requests"),
        (json!({"duration_secs": -1}), "duration_secs"),
        (json!({"format": "parquet"}), "format"),
        (json!({"seed": "xyz"}), "seed"),
        (json!({"samples": 0.5}), "samples"),
    ];
    for (params, word) in bad {
        let reply = admin(&server, Method::POST, "/v1/trace/start", params.clone()).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{params}");
        assert!(reply.error_message()?.contains(word), "{params}: {}", reply.error_message()?);
    }
    let not_json = server
        .http
        .send(Method::POST, "/v1/trace/start", &[("authorization", &format!("Bearer {TOKEN}"))], "sample=1")
        .await?;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);

    start(&server, json!({"format": "csv"})).await?;
    let again = admin(&server, Method::POST, "/v1/trace/start", json!({})).await?;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error_code()?, "capture_running");
    assert!(again.error_message()?.contains("already running"), "{}", again.error_message()?);
    assert_eq!(status(&server).await?["format"], "csv", "the first capture keeps running");
    stop(&server).await?;
    start(&server, json!({})).await?;
    stop(&server).await?;
    Ok(())
}

#[tokio::test]
async fn sampling_keeps_every_request_of_a_sampled_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), "").await?;
    let seed = "00c0ffee00c0ffee";
    let rate = 0.2;
    start(&server, json!({"sample": rate, "seed": seed})).await?;
    let mut driven: BTreeMap<u64, u64> = BTreeMap::new();
    for i in 0..150 {
        let key = format!("user/{i}");
        put(&server, &key, 10 + i).await?;
        for _ in 0..(1 + i % 3) {
            ensure!(get(&server, &key).await? == StatusCode::OK);
        }
        driven.insert(key_id(seed, &key)?, 2 + (i % 3) as u64);
    }
    let stopped = stop(&server).await?;
    assert_eq!(stopped["seed"], seed);
    let bound = (rate * 2f64.powi(64)) as u64;
    let expected: BTreeMap<u64, u64> = driven.into_iter().filter(|(id, _)| *id < bound).collect();
    let mut captured: BTreeMap<u64, u64> = BTreeMap::new();
    for (_, id, _, _) in oracle_records(&stopped)? {
        *captured.entry(id).or_default() += 1;
    }
    assert!((10..=50).contains(&expected.len()), "about a fifth of 150 keys sampled: {}", expected.len());
    assert_eq!(captured, expected, "the sampled keys, each with all its requests");
    Ok(())
}

#[tokio::test]
async fn max_requests_and_duration_end_a_capture() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), "").await?;
    put(&server, "k", 10).await?;
    start(&server, json!({"max_requests": 5})).await?;
    for _ in 0..12 {
        get(&server, "k").await?;
    }
    let capped = ended(&server).await?;
    assert_eq!(capped["ended"], "max_requests");
    assert_eq!(capped["requests"], 5);
    assert_eq!(oracle_records(&capped)?.len(), 5);

    // Long enough that a slow machine still answers the one read within it.
    let timed = start(&server, json!({"duration_secs": 3})).await?;
    assert_eq!(timed["running"], true);
    get(&server, "k").await?;
    let timed = ended(&server).await?;
    assert_eq!(timed["ended"], "duration");
    assert_eq!(timed["requests"], 1);
    get(&server, "k").await?;
    assert_eq!(status(&server).await?["requests"], 1, "nothing is taken after the end");
    Ok(())
}

#[tokio::test]
async fn files_rotate_by_size_and_the_parts_make_one_trace() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // Ten records per file.
    let server = serve(dir.path(), &format!("[trace]\nrotate_bytes = {}\n", 10 * ORACLE_RECORD)).await?;
    put(&server, "k", 10).await?;
    start(&server, json!({})).await?;
    for _ in 0..25 {
        get(&server, "k").await?;
    }
    let stopped = stop(&server).await?;
    let parts = files(&stopped)?;
    let sizes: Vec<u64> = parts.iter().map(|p| std::fs::metadata(p).map(|m| m.len())).collect::<Result<_, _>>()?;
    let record = ORACLE_RECORD as u64;
    assert_eq!(sizes, [10 * record, 10 * record, 5 * record]);
    let names: BTreeSet<String> = parts.iter().filter_map(|p| p.file_name()?.to_str().map(str::to_string)).collect();
    for (i, name) in names.iter().enumerate() {
        assert!(name.ends_with(&format!("-{i:04}.oracleGeneral")), "{name}");
    }
    assert_eq!(oracle_records(&stopped)?.len(), 25);
    Ok(())
}

#[tokio::test]
async fn the_csv_form_marks_writes_and_deletes_and_replays_with_simulate() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), "").await?;
    start(&server, json!({"format": "csv"})).await?;
    put(&server, "a", 30).await?;
    put(&server, "b", 40).await?;
    get(&server, "a").await?;
    let deleted = server.http.send(Method::DELETE, "/v1/objects/b", &[], Vec::new()).await?;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    get(&server, "a").await?;
    let stopped = stop(&server).await?;
    assert_eq!(stopped["requests"], 5);
    let file = PathBuf::from(stopped["file"].as_str().context("file")?);
    assert!(file.to_string_lossy().ends_with("-0000.csv"));
    let trace = Trace::open(&file, Format::Csv)?;
    let seed = stopped["seed"].as_str().context("seed")?;
    let (a, b) = (format!("{:016x}", key_id(seed, "a")?), format!("{:016x}", key_id(seed, "b")?));
    let got: Vec<(&str, u64, Op)> =
        trace.requests.iter().map(|r| (trace.keys[r.key as usize].as_str(), r.size, r.op)).collect();
    assert_eq!(
        got,
        [
            (a.as_str(), 30, Op::Set),
            (b.as_str(), 40, Op::Set),
            (a.as_str(), 30, Op::Get),
            (b.as_str(), 0, Op::Delete),
            (a.as_str(), 30, Op::Get)
        ]
    );
    assert_eq!(simulate(&file, "csv").await?, (5, 2));
    Ok(())
}

#[tokio::test]
async fn the_s3_endpoint_is_traced_as_v1_is() -> Result<()> {
    use crate::support::s3_api::{Auth, BUCKET, Endpoint};
    let dir = tempfile::tempdir()?;
    let endpoint = Endpoint::start(dir.path(), &format!("admin_token = \"{TOKEN}\""), Auth::Keys).await?;
    let server = &endpoint.server;
    start(server, json!({"format": "csv"})).await?;
    let body = aws_sdk_s3::primitives::ByteStream::from(vec![b'y'; 64]);
    endpoint.s3.put_object().bucket(BUCKET).key("s3/a").body(body).send().await?;
    endpoint.s3.get_object().bucket(BUCKET).key("s3/a").send().await?.body.collect().await?;
    let missing = endpoint.s3.get_object().bucket(BUCKET).key("s3/none").send().await;
    assert!(missing.is_err(), "no such key");
    endpoint.s3.delete_object().bucket(BUCKET).key("s3/a").send().await?;
    let stopped = stop(server).await?;
    let trace = Trace::open(Path::new(stopped["file"].as_str().context("file")?), Format::Csv)?;
    let got: Vec<(u64, Op)> = trace.requests.iter().map(|r| (r.size, r.op)).collect();
    assert_eq!(got, [(64, Op::Set), (64, Op::Get), (0, Op::Delete)]);
    Ok(())
}
