//! Black-box: `tiered serve --policy X.wasm` serves requests with each
//! language's prefix-TTL policy deciding, `--policy sieve` with an algorithm
//! of the library by name, and hot-reloads an example policy over
//! `PUT /v1/policy`.
//!
//! The policy's hand is visible from outside: with `ttl.tmp/ = 30`, a write
//! under `tmp/` lives 30 s and, living a minute or less, skips the disk tier
//! (`tiers` = hot + cold); a write under `logs/` lives an hour in every tier.

use crate::support::examples;
use crate::support::server;

use anyhow::{Context, Result, ensure};
use axum::http::StatusCode;
use serde_json::json;
use server::Server;

/// `[policy_config]` of the prefix-TTL servers.
const RULES: &str = "[policy_config]\n\"ttl.tmp/\" = \"30\"\n\"ttl.logs/\" = \"3600\"\n";

/// Serves with example `name` (skipped, with a message, when it is not built
/// and examples are not required) and checks the policy decides.
async fn serves_with(name: &str, language: &str) -> Result<()> {
    if examples::load(name).is_none() {
        return Ok(());
    }
    let path = examples::wasm_path(name).canonicalize()?;
    let dir = tempfile::tempdir()?;
    let config = format!("{RULES}{}", server::PATIENT_POLICY);
    let s = Server::start_with_args(dir.path(), &config, &["--policy".as_ref(), path.as_os_str()]).await?;

    let info = s.http.get("/v1/policy").await?.json()?;
    assert_eq!((&info["name"], &info["version"]), (&json!("prefix-ttl"), &json!(format!("0.1.0+{language}"))));

    let logs = s.http.put("/v1/objects/logs/app.log", "an hour").await?;
    assert_eq!(logs.status, StatusCode::CREATED, "{:?}", logs.body);
    assert_eq!(logs.json()?["tiers"], json!(["hot", "warm", "cold"]));
    let tmp = s.http.put("/v1/objects/tmp/scratch", "half a minute").await?;
    assert_eq!(tmp.json()?["tiers"], json!(["hot", "cold"]), "a 30 s object skips the disk tier");

    let read = s.http.get("/v1/objects/logs/app.log").await?;
    assert_eq!((read.status, &read.body[..]), (StatusCode::OK, &b"an hour"[..]));
    assert_eq!(read.header("x-tiered-source"), Some("hot"));
    let expires: u64 = read.header("x-tiered-expires-in").context("logs/ objects expire")?.parse()?;
    ensure!((3590..=3600).contains(&expires), "logs/ lives an hour, {expires} s left");
    let read = s.http.get("/v1/objects/tmp/scratch").await?;
    assert_eq!(&read.body[..], b"half a minute");
    let expires: u64 = read.header("x-tiered-expires-in").context("tmp/ objects expire")?.parse()?;
    ensure!((1..=30).contains(&expires), "tmp/ lives 30 s, {expires} s left");

    let stats = s.http.get("/v1/stats").await?.json()?;
    let counters = &stats["policy_counters"];
    ensure!(counters["calls"].as_u64() >= Some(2) && counters["fallbacks"] == json!(0), "{stats}");
    ensure!(s.log_text().contains("configured: 2 prefix rule(s)"), "the policy logs through the host");
    assert!(s.stop().await?.success(), "SIGTERM ends the service cleanly");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_with_the_rust_policy() -> Result<()> {
    serves_with("prefix-ttl-rust", "rust").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_with_the_python_policy() -> Result<()> {
    serves_with("prefix-ttl-python", "python").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_with_the_javascript_policy() -> Result<()> {
    serves_with("prefix-ttl-js", "js").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_with_the_c_policy() -> Result<()> {
    serves_with("prefix-ttl-c", "c").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_swaps_in_the_size_admission_policy() -> Result<()> {
    let Some(wasm) = examples::load("size-admission-rust") else { return Ok(()) };
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), server::PATIENT_POLICY).await?;
    let before = s.http.put("/v1/objects/a", "x").await?.json()?;
    assert_eq!(before["tiers"], json!(["hot", "warm", "cold"]), "the default policy caches a small write in memory");

    let reloaded = s.http.put("/v1/policy", wasm).await?;
    assert_eq!(reloaded.status, StatusCode::OK, "{:?}", reloaded.body);
    assert_eq!(reloaded.json()?["name"], "size-admission");
    let after = s.http.put("/v1/objects/b", "x").await?.json()?;
    assert_eq!(after["tiers"], json!(["warm", "cold"]), "size-admission keeps writes out of memory");
    assert_eq!(&s.http.get("/v1/objects/a").await?.body[..], b"x");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_with_an_algorithm_of_the_library_by_name() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start_with_args(dir.path(), "", &["--policy".as_ref(), "sieve".as_ref()]).await?;
    let info = s.http.get("/v1/policy").await?.json()?;
    assert_eq!(info["name"], json!("sieve"), "{info}");
    let put = s.http.put("/v1/objects/a/b", "bytes").await?;
    assert_eq!(put.status, StatusCode::CREATED, "{:?}", put.body);
    let read = s.http.get("/v1/objects/a/b").await?;
    assert_eq!((read.status, &read.body[..]), (StatusCode::OK, &b"bytes"[..]));
    assert!(s.stop().await?.success());

    // A name the library lacks is read as a file, and the error says so.
    let dir = tempfile::tempdir()?;
    let failed = Server::start_with_args(dir.path(), "", &["--policy".as_ref(), "no-such-algorithm".as_ref()]).await;
    let error = format!("{:#}", failed.err().context("an unknown name must not start")?);
    ensure!(error.contains("no-such-algorithm"), "{error}");
    Ok(())
}
