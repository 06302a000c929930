//! Black-box tests of the `tiered` binary's life: start-up failures (one
//! clear line, non-zero exit), graceful shutdown, restarts on the same data
//! directory, `x-tiered-source` moving up the tiers, policy info and hot
//! reload under load, and `tiered policy check`.

use crate::support::server;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use anyhow::Result;
use axum::http::StatusCode;
use server::{Server, run_to_exit, tiered};
use sha2::{Digest, Sha256};
use tiered_wasm::DEFAULT_POLICY_WASM;

/// Runs `tiered serve` expecting it to fail; returns its one error line.
pub(crate) async fn failed_start(args: &[&str], env: &[(&str, &str)], config: Option<&str>) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let mut cmd = tiered();
    cmd.arg("serve").arg("--data-dir").arg(dir.path()).args(args).envs(env.iter().copied());
    if let Some(text) = config {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, text)?;
        cmd.arg("--config").arg(file);
    }
    let (status, _, stderr) = run_to_exit(cmd).await?;
    assert!(!status.success(), "started: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("tiered: error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line in:\n{stderr}");
    Ok(errors[0].to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_failures_print_one_clear_line() -> Result<()> {
    let line = failed_start(&[], &[], Some("[hot]\nmax_bytes = \"lots\"\n")).await?;
    assert!(line.contains("hot.max_bytes: invalid size \"lots\"") && line.contains("line 2"), "{line}");
    // An unreachable bucket is refused at start-up, naming it.
    let no_imds =
        [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_EC2_METADATA_DISABLED", "true")];
    let unreachable = "[cold]\nkind = \"s3\"\nbucket = \"b\"\nendpoint = \"http://127.0.0.1:1\"\npath_style = true\n";
    let line = failed_start(&[], &no_imds, Some(unreachable)).await?;
    assert!(line.contains("cannot use the bucket s3://b/") && line.contains("HeadBucket"), "{line}");
    let line = failed_start(&[], &[("TIERED_COLD", "s3")], None).await?;
    assert!(line.contains("cold.bucket: cold.kind = \"s3\" needs a bucket"), "{line}");
    let line = failed_start(&["--config", "/nonexistent/tiered.toml"], &[], None).await?;
    assert!(line.contains("cannot read config file /nonexistent/tiered.toml"), "{line}");
    let line = failed_start(&["--listen", "0.0.0.0:0"], &[], None).await?;
    assert!(line.contains("not a loopback address and no admin_token is set"), "{line}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = taken.local_addr()?.to_string();
    let line = failed_start(&["--listen", &addr], &[], None).await?;
    assert!(line.contains(&format!("cannot listen on {addr}")) && line.contains("in use"), "{line}");

    let junk = tempfile::NamedTempFile::new()?;
    std::fs::write(junk.path(), "hello")?;
    let line = failed_start(&["--policy", &junk.path().to_string_lossy()], &[], None).await?;
    assert!(line.contains("does not load: not a WebAssembly component"), "{line}");
    let line = failed_start(&["--policy", "/nonexistent/p.wasm"], &[], None).await?;
    assert!(line.contains("cannot read policy file /nonexistent/p.wasm"), "{line}");

    // A policy whose `configure` never returns: the cause first, the deadline named.
    let never = Some("[policy_config]\nmode = \"configure-loop\"\n");
    let line = failed_start(&["--policy", tiered_test_guests::FAULTY_PATH], &[], never).await?;
    assert!(line.contains("failed during configure: it ran past the set-up deadline of 1000 ms"), "{line}");
    assert!(!line.contains("backtrace"), "{line}");
    Ok(())
}

/// What `tests/guests/faulty` in mode `log-forge` tries to pass off as the host's.
const FORGED: &str = "INFO tiered_host::http: admin token accepted";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_cannot_forge_a_line_of_the_service_log() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = "[policy_config]\nmode = \"log-forge\"\n";
    let args = ["--policy".as_ref(), std::ffi::OsStr::new(tiered_test_guests::FAULTY_PATH)];
    let s = Server::start_with_args(dir.path(), config, &args).await?;
    for i in 0..5 {
        let path = format!("/v1/objects/forge/{i}");
        assert_eq!(s.http.put(&path, "x").await?.status, StatusCode::CREATED);
        assert_eq!(s.http.get(&path).await?.status, StatusCode::OK);
    }
    let stats = s.http.get("/v1/stats").await?.json()?;
    let written = stats["policy_counters"]["log_written"].as_u64().unwrap_or_default();
    assert!(written >= 5, "every placement logged: {stats}");
    let metrics = String::from_utf8(s.http.get("/metrics").await?.body.to_vec())?;
    assert!(metrics.contains(&format!("tiered_policy_log_lines_total {written}")), "{metrics}");
    assert!(metrics.contains("tiered_policy_memory_bytes{state=\"idle\"} "), "{metrics}");

    let log = s.log_text();
    let escaped = format!(r#"policy=faulty text="innocent\n{FORGED}"#);
    assert!(log.lines().filter(|l| l.contains(&escaped)).count() >= 5, "the messages are in the log:\n{log}");
    for line in log.lines() {
        assert!(!line.contains(FORGED) || line.contains(&escaped), "a forged line:\n{line}");
    }
    assert!(s.stop().await?.success());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_serve_warm_and_reads_move_objects_up_from_cold() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let first = Server::start(dir.path(), "").await?;
    let written = first.http.put("/v1/objects/r/1", "kept").await?.json()?;
    assert_eq!(written["tiers"], serde_json::json!(["hot", "warm", "cold"]));
    assert!(first.stop().await?.success(), "SIGTERM ends the service cleanly");

    // Memory is gone, the disk tier survived: the first read comes from warm.
    let second = Server::start(dir.path(), "").await?;
    let read = second.http.get("/v1/objects/r/1").await?;
    assert_eq!((read.header("x-tiered-source"), &read.body[..]), (Some("warm"), &b"kept"[..]));
    assert!(second.stop().await?.success());

    // Without the disk tier's files only cold has it; repeated reads move it up.
    std::fs::remove_dir_all(dir.path().join("warm"))?;
    let third = Server::start(dir.path(), "").await?;
    let mut sources = Vec::new();
    for _ in 0..8 {
        let read = third.http.get("/v1/objects/r/1").await?;
        assert_eq!(&read.body[..], b"kept");
        sources.push(read.header("x-tiered-source").unwrap_or_default().to_string());
        if sources.last().is_some_and(|s| s == "hot") {
            break;
        }
    }
    assert_eq!(sources[0], "cold", "{sources:?}");
    assert!(sources.iter().any(|s| s != "cold"), "the policy never promoted: {sources:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_info_and_a_refused_reload() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "").await?;
    let info = s.http.get("/v1/policy").await?.json()?;
    assert_eq!(info["name"], "tiered-default");
    assert_eq!(info["interface"], "tiered:policy@0.4.0");
    assert_eq!(info["sha256"], hex::encode(Sha256::digest(DEFAULT_POLICY_WASM)));
    assert!(info["version"].is_string());

    for junk in [&b"not wasm at all"[..], b"\0asm\x01\0\0\0", &DEFAULT_POLICY_WASM[..1000]] {
        let refused = s.http.put("/v1/policy", junk.to_vec()).await?;
        assert_eq!((refused.status, refused.error_code()?.as_str()), (StatusCode::BAD_REQUEST, "invalid_policy"));
        assert!(refused.error_message()?.contains("the current one keeps serving"), "{}", refused.error_message()?);
    }
    assert_eq!(s.http.get("/v1/policy").await?.json()?, info, "the old policy keeps serving");
    assert_eq!(s.http.put("/v1/objects/still", "ok").await?.status, StatusCode::CREATED);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_under_load_fails_no_request() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "").await?;
    let (stop, done, failures) =
        (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (http, stop, done, failures) = (s.http.clone(), stop.clone(), done.clone(), failures.clone());
        workers.push(tokio::spawn(async move {
            // Bounded: at most 20 000 requests per worker.
            for i in 0..10_000u32 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let path = format!("/v1/objects/load/{w}/{}", i % 50);
                let put = http.put(&path, format!("value {i}")).await;
                let get = http.get(&path).await;
                for ok in [put.map(|r| r.status.is_success()), get.map(|r| r.status == StatusCode::OK)] {
                    if !matches!(ok, Ok(true)) {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                done.fetch_add(2, Ordering::Relaxed);
            }
        }));
    }
    let wait_for = |n: u64| {
        let done = done.clone();
        async move {
            for _ in 0..600 {
                if done.load(Ordering::Relaxed) >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    wait_for(200).await;
    for _ in 0..2 {
        let reloaded = s.http.put("/v1/policy", DEFAULT_POLICY_WASM.to_vec()).await?;
        assert_eq!(reloaded.status, StatusCode::OK, "{:?}", reloaded.body);
        assert_eq!(reloaded.json()?["name"], "tiered-default");
        let before = done.load(Ordering::Relaxed);
        wait_for(before + 200).await;
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    assert!(done.load(Ordering::Relaxed) >= 600, "the load ran: {}", done.load(Ordering::Relaxed));
    assert_eq!(failures.load(Ordering::Relaxed), 0, "failed requests during reloads");
    assert!(s.log_text().contains("policy replaced"), "{}", s.log_text());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_check_reports_and_fails_clearly() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let good = dir.path().join("default.wasm");
    std::fs::write(&good, DEFAULT_POLICY_WASM)?;
    // The check runs under the configuration's limits, as serve would: a
    // deadline no busy machine makes one of its thousands of calls overrun.
    let config = dir.path().join("tiered.toml");
    std::fs::write(&config, server::PATIENT_POLICY)?;
    let mut cmd = tiered();
    cmd.args(["policy", "check", "--json", "--config"]).arg(&config).arg(&good);
    let (status, stdout, stderr) = run_to_exit(cmd).await?;
    assert!(status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!((report["ok"].as_bool(), report["identity"]["name"].as_str()), (Some(true), Some("tiered-default")));

    let bad = dir.path().join("bad.wasm");
    std::fs::write(&bad, b"\0asm\x01\0\0\0")?;
    let mut cmd = tiered();
    cmd.args(["policy", "check"]).arg(&bad);
    let (status, _, stderr) = run_to_exit(cmd).await?;
    assert!(!status.success());
    assert!(stderr.contains("tiered: error: policy") && stderr.contains("core WebAssembly module"), "{stderr}");
    Ok(())
}
