//! Shadow policies (`/v1/policy/shadow`) against a running server: a shadow
//! of the live policy counts what the live store served, read for read; a
//! shadow of another algorithm reports the difference `simulate` predicts
//! for the same requests; bad components, a second shadow, missing tokens
//! and a policy that traps, loops or exhausts its memory are refused or
//! ended without touching serving;
//! promotion makes the shadow live with no failed request.
//!
//! Each workload first fills cold alone (a server with no cache tier), then
//! replays reads through a fresh server over the same data directory, so
//! both sides start from empty caches, as `simulate` does.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::support::server::{PATIENT_POLICY, Server, run_to_exit, tiered};
use tiered_host::sim::replay::Mode;
use tiered_host::sim::{CacheSize, PolicySource, Simulator, Trace};
use tiered_wasm::{DEFAULT_POLICY_WASM, PolicyEngine};

/// One request of a workload.
#[derive(Clone, Debug)]
enum Step {
    Get(u64),
    /// A write of key `.0` with `.1` bytes.
    Put(u64, u64),
    Delete(u64),
}

fn size_of(key: u64) -> u64 {
    200 + key * 131 % 3000
}

/// A deterministic skewed workload over `objects` keys: mostly reads, with
/// a rewrite or a delete now and then when `writes`.
fn workload(n: usize, objects: u64, writes: bool) -> Vec<Step> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let key = ((objects as f64).powf(u) as u64).min(objects - 1);
            match state % 64 {
                0 if writes => Step::Put(key, size_of(key) + 17),
                1 if writes => Step::Delete(key),
                _ => Step::Get(key),
            }
        })
        .collect()
}

fn path(key: u64) -> String {
    format!("/v1/objects/obj/{key}")
}

/// Writes every key into cold alone: a server with no cache tier.
async fn fill_cold(dir: &Path, objects: u64) -> Result<()> {
    let s = Server::start(dir, "[hot]\nmax_bytes = \"0\"\n[warm]\nmax_bytes = \"0\"\n").await?;
    for key in 0..objects {
        let reply = s.http.put(&path(key), vec![b'x'; size_of(key) as usize]).await?;
        ensure!(reply.status.is_success(), "fill {key}: {:?}", reply.status);
    }
    stop(s).await
}

async fn stop(s: Server) -> Result<()> {
    let status = s.stop().await?;
    ensure!(status.success(), "the server exited with {status}");
    Ok(())
}

/// Sends `steps` one at a time; a read of a deleted key writes it back (as
/// an application filling a miss would). The reads answered.
async fn replay(s: &Server, steps: &[Step]) -> Result<u64> {
    let mut reads = 0;
    for step in steps {
        match *step {
            Step::Get(key) => {
                let reply = s.http.get(&path(key)).await?;
                match reply.status {
                    StatusCode::OK => reads += 1,
                    StatusCode::NOT_FOUND => {
                        let put = s.http.put(&path(key), vec![b'y'; size_of(key) as usize]).await?;
                        ensure!(put.status.is_success(), "refill {key}: {:?}", put.status);
                    }
                    other => anyhow::bail!("GET {key}: {other}"),
                }
            }
            Step::Put(key, size) => {
                let reply = s.http.put(&path(key), vec![b'z'; size as usize]).await?;
                ensure!(reply.status.is_success(), "PUT {key}: {:?}", reply.status);
            }
            Step::Delete(key) => {
                let reply = s.http.send(Method::DELETE, &path(key), &[], "").await?;
                ensure!(reply.status == StatusCode::NO_CONTENT, "DELETE {key}: {:?}", reply.status);
            }
        }
    }
    Ok(reads)
}

/// The shadow's report once it has counted `reads` reads.
async fn report_after(s: &Server, reads: u64) -> Result<Value> {
    for _ in 0..1200 {
        let report = s.http.get("/v1/policy/shadow").await?.json()?;
        if report["reads"].as_u64() == Some(reads) {
            return Ok(report);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("the shadow never counted {reads} reads: {}", s.http.get("/v1/policy/shadow").await?.json()?)
}

async fn load_shadow(s: &Server, wasm: &[u8], query: &str) -> Result<Value> {
    let reply = s.http.put(&format!("/v1/policy/shadow{query}"), wasm.to_vec()).await?;
    ensure!(reply.status == StatusCode::OK, "PUT shadow: {:?} {:?}", reply.status, reply.body);
    reply.json()
}

const TIERS: &str = "[hot]\nmax_bytes = \"48KiB\"\n[warm]\nmax_bytes = \"160KiB\"\n";

/// [`TIERS`] with patient policy limits: these tests compare decisions, and
/// a fallback answer would change one side's.
fn tiers() -> String {
    format!("{TIERS}{PATIENT_POLICY}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_of_the_live_policy_counts_what_the_live_store_served_read_for_read() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let objects = 400;
    fill_cold(dir.path(), objects).await?;
    let s = Server::start(dir.path(), &tiers()).await?;
    let loaded = load_shadow(&s, DEFAULT_POLICY_WASM, "?window=200").await?;
    assert_eq!(loaded["running"], true);
    assert_eq!(loaded["policy"]["sha256"], loaded["live_policy"]["sha256"], "the same component on both sides");

    let reads = replay(&s, &workload(4000, objects, true)).await?;
    let report = report_after(&s, reads).await?;
    let (live, shadow) = (&report["live"], &report["shadow"]);
    // Every tier served some reads, so equal counts say something.
    for tier in ["hot_hits", "warm_hits", "s3_gets"] {
        assert!(live[tier].as_u64().is_some_and(|n| n > 50), "live {tier}: {live}");
    }
    assert_eq!(live, shadow, "identical policies on identical events decide identically");
    assert!(report["writes"].as_u64().is_some_and(|w| w > 0), "{report}");
    assert!(report["deletes"].as_u64().is_some_and(|d| d > 0), "{report}");
    assert_eq!(report["dropped"], 0);
    assert_eq!(report["verdict"]["outcome"], "no clear difference", "{}", report["verdict"]);
    assert_eq!(report["verdict"]["difference"].as_f64(), Some(0.0));

    // The live side is the live store's own figures over the same reads.
    let stats = s.http.get("/v1/stats").await?.json()?;
    let hot = stats["tiers"].as_array().context("tiers")?.iter().find(|t| t["tier"] == "hot").context("hot")?;
    assert_eq!(hot["hits"], live["hot_hits"], "{stats}");
    assert_eq!(stats["shadow"]["shadow"], *shadow, "/v1/stats carries the comparison");
    stop(s).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_lru_beside_a_live_s3fifo_reports_the_difference_simulate_predicts() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let objects = 1000;
    let steps = workload(12_000, objects, false);
    fill_cold(dir.path(), objects).await?;

    // What simulate predicts for the same reads (batched, as the service
    // delivers events), hot tier only.
    let mut csv = String::from("timestamp,key,size,op\n");
    for step in &steps {
        if let Step::Get(key) = step {
            csv.push_str(&format!("0,obj/{key},{},get\n", size_of(*key)));
        }
    }
    let hot = 200 << 10;
    // The replay runs its own runtime: off this test's.
    let (lru, s3fifo) = tokio::task::spawn_blocking(move || -> Result<(f64, f64)> {
        let mut sim = Simulator::new(Trace::parse_csv(csv.as_bytes())?);
        sim.mode = Mode::Batched;
        let predicted = |name: &str| -> Result<f64> {
            let wasm = tiered_algorithms::get(name).context(name.to_string())?.wasm.to_vec();
            let policy = PolicySource::Wasm { engine: PolicyEngine::new(None)?, wasm, config: Vec::new() };
            Ok(sim.run(&policy, CacheSize::Bytes(hot), CacheSize::Bytes(0))?.policy.miss_ratio)
        };
        Ok((predicted("lru")?, predicted("s3fifo")?))
    })
    .await??;
    assert!(lru - s3fifo > 0.01, "the workload separates the two: lru {lru}, s3fifo {s3fifo}");

    let live = tiered_algorithms::get("s3fifo").context("s3fifo")?.path;
    // The miss ratios are under test, not the deadline or the throttle: a
    // call that a busy machine holds past the service's 20 ms would end the
    // shadow (and make the live policy fall back) before the reads are
    // counted, and a throttled call would be answered by the fallback.
    let config = format!("[hot]\nmax_bytes = \"{hot}\"\n[warm]\nmax_bytes = \"0\"\n{PATIENT_POLICY}");
    let s = Server::start_with_args(dir.path(), &config, &["--policy".as_ref(), live.as_ref()]).await?;
    load_shadow(&s, tiered_algorithms::get("lru").context("lru")?.wasm, "?window=500").await?;
    let reads = replay(&s, &steps).await?;
    let report = report_after(&s, reads).await?;
    let (live, shadow) = (report["live"]["miss_ratio"].as_f64(), report["shadow"]["miss_ratio"].as_f64());
    let measured = shadow.context("shadow")? - live.context("live")?;
    assert!(
        (measured - (lru - s3fifo)).abs() <= 0.005,
        "shadow - live = {measured:.4} (live {live:?}, shadow {shadow:?}); simulate: lru {lru:.4} - s3fifo {s3fifo:.4} = {:.4}",
        lru - s3fifo
    );
    // Each side alone is close to simulate's figure too (the service's
    // metadata is not simulate's, so bytes per object differ a little).
    assert!((live.unwrap_or(-1.0) - s3fifo).abs() <= 0.01 && (shadow.unwrap_or(-1.0) - lru).abs() <= 0.01);
    assert_eq!(report["verdict"]["outcome"], "worse", "{}", report["verdict"]);

    // `tiered policy compare` prints the same comparison and draws it.
    let plot = dir.path().join("shadow.svg");
    let mut cmd = tiered();
    cmd.args(["policy", "compare", "--url", &format!("http://{}", s.addr), "--plot"]).arg(&plot);
    let (status, text, stderr) = run_to_exit(cmd).await?;
    assert!(status.success(), "{text}\n{stderr}");
    assert!(text.contains("verdict: the shadow is worse"), "{text}");
    assert!(text.contains(&format!("{:.4}", report["shadow"]["miss_ratio"].as_f64().unwrap_or(-1.0))), "{text}");
    let svg = std::fs::read_to_string(&plot)?;
    assert!(svg.contains("shadow: lru") && svg.contains("live: s3fifo"), "legend of {}", plot.display());
    let lines = svg.matches("<polyline").count();
    assert!(lines >= 2, "{lines} polylines");
    stop(s).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_components_second_shadows_and_missing_tokens_are_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), "admin_token = \"s3cret\"\n").await?;
    let auth = [("authorization", "Bearer s3cret")];
    for (method, route) in [
        (Method::PUT, "/v1/policy/shadow"),
        (Method::DELETE, "/v1/policy/shadow"),
        (Method::POST, "/v1/policy/shadow/promote"),
    ] {
        let reply = s.http.send(method.clone(), route, &[], "").await?;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {route}");
    }
    assert_eq!(s.http.get("/v1/policy/shadow").await?.error_code()?, "no_shadow");
    let reply = s.http.send(Method::POST, "/v1/policy/shadow/promote", &auth, "").await?;
    assert_eq!((reply.status, reply.error_code()?), (StatusCode::NOT_FOUND, "no_shadow".into()));

    let reply = s.http.send(Method::PUT, "/v1/policy/shadow", &auth, "not a component").await?;
    assert_eq!((reply.status, reply.error_code()?), (StatusCode::BAD_REQUEST, "invalid_policy".into()));
    let reply = s.http.send(Method::PUT, "/v1/policy/shadow?window=0", &auth, DEFAULT_POLICY_WASM).await?;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    let reply = s.http.send(Method::PUT, "/v1/policy/shadow?windows=9", &auth, DEFAULT_POLICY_WASM).await?;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "unknown parameters are refused");

    let reply = s.http.send(Method::PUT, "/v1/policy/shadow", &auth, DEFAULT_POLICY_WASM).await?;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let lru = tiered_algorithms::get("lru").context("lru")?.wasm;
    let reply = s.http.send(Method::PUT, "/v1/policy/shadow", &auth, lru).await?;
    assert_eq!((reply.status, reply.error_code()?), (StatusCode::CONFLICT, "shadow_running".into()));
    assert!(reply.error_message()?.contains("DELETE /v1/policy/shadow"), "{:?}", reply.body);

    let reply = s.http.send(Method::DELETE, "/v1/policy/shadow", &auth, "").await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(s.http.get("/v1/policy/shadow").await?.status, StatusCode::NOT_FOUND);
    let reply = s.http.send(Method::PUT, "/v1/policy/shadow", &auth, lru).await?;
    assert_eq!(reply.status, StatusCode::OK, "a new shadow after a drop");
    stop(s).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_that_traps_loops_or_exhausts_its_memory_is_ended_and_counted_and_serving_goes_on() -> Result<()> {
    let dir = tempfile::tempdir()?;
    // A deadline a busy machine cannot make the live policy miss (the test
    // asserts it never timed out), which still ends the looping shadow.
    let s = Server::start(dir.path(), "[hot]\nmax_bytes = \"16KiB\"\n[policy_limits]\ndeadline_ms = 1000\n").await?;
    // Each candidate misbehaving its own way, one after the other: an ended
    // shadow is replaced by the next.
    for (n, (mode, why)) in [("trap", "trapped"), ("loop", "deadline"), ("alloc", "trapped")].into_iter().enumerate() {
        // The candidate's own configuration: the live default policy takes no `mode`.
        let loaded = load_shadow(&s, tiered_test_guests::FAULTY_WASM, &format!("?config=mode={mode}")).await?;
        assert!(
            loaded["config"].as_array().is_some_and(|c| c.iter().any(|p| p[0] == "mode" && p[1] == mode)),
            "{loaded}"
        );
        for i in 0..100u64 {
            let key = format!("/v1/objects/t/{mode}/{i}");
            let reply = s.http.put(&key, vec![1u8; 700]).await?;
            assert!(reply.status.is_success(), "{mode}: {:?}", reply.status);
            assert_eq!(s.http.get(&key).await?.status, StatusCode::OK, "{mode}");
        }
        let mut report = Value::Null;
        for _ in 0..1200 {
            report = s.http.get("/v1/policy/shadow").await?.json()?;
            if report["running"] == false {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(report["running"], false, "{mode}: {report}");
        assert!(report["ended"].as_str().is_some_and(|e| e.contains(why)), "{mode}: {report}");
        let metrics = String::from_utf8(s.http.get("/metrics").await?.body.to_vec())?;
        let counted = format!("tiered_shadow_ended_by_faults_total {}", n + 1);
        assert!(metrics.contains(&counted), "{mode}: {counted} in {metrics}");
        let reply = s.http.send(Method::POST, "/v1/policy/shadow/promote", &[], "").await?;
        assert_eq!((reply.status, reply.error_code()?), (StatusCode::CONFLICT, "shadow_ended".into()), "{mode}");
    }
    let stats = s.http.get("/v1/stats").await?.json()?;
    let live = &stats["policy_counters"];
    assert_eq!((&live["traps"], &live["timeouts"]), (&Value::from(0), &Value::from(0)), "the live policy: {live}");
    stop(s).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_makes_the_shadow_live_with_no_failed_request() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), &tiers()).await?;
    let lru = tiered_algorithms::get("lru").context("lru")?;
    load_shadow(&s, lru.wasm, "").await?;
    let http = s.http.clone();
    // Reads and writes keep going while the shadow is promoted.
    let traffic = tokio::spawn(async move {
        let mut failed = Vec::new();
        for i in 0..600u64 {
            let key = format!("/v1/objects/p/{}", i % 90);
            let put = http.put(&key, vec![3u8; 900]).await.map(|r| r.status);
            let get = http.get(&key).await.map(|r| r.status);
            for status in [put, get] {
                match status {
                    Ok(s) if s.is_success() => {}
                    other => failed.push(format!("{key}: {other:?}")),
                }
            }
        }
        failed
    });
    // Promote once hot holds something to hand over.
    let mut hot_objects = 0;
    for _ in 0..1200 {
        let stats = s.http.get("/v1/stats").await?.json()?;
        hot_objects = stats["tiers"]
            .as_array()
            .and_then(|tiers| tiers.iter().find(|t| t["tier"] == "hot"))
            .and_then(|t| t["objects"].as_u64())
            .unwrap_or(0);
        if hot_objects > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(hot_objects > 0, "the traffic filled hot");
    let reply = s.http.send(Method::POST, "/v1/policy/shadow/promote", &[], "").await?;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.json()?["name"], "lru");
    let failed = traffic.await?;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(s.http.get("/v1/policy").await?.json()?["name"], "lru");
    assert_eq!(s.http.get("/v1/policy/shadow").await?.status, StatusCode::NOT_FOUND, "the shadow is gone");
    let stats = s.http.get("/v1/stats").await?.json()?;
    let handed: u64 = stats["tiers"].as_array().context("tiers")?.iter().filter_map(|t| t["handovers"].as_u64()).sum();
    assert!(handed > 0, "the residents were handed to the promoted policy: {stats}");
    stop(s).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_starts_from_copies_of_the_live_tiers() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Server::start(dir.path(), &tiers()).await?;
    for key in 0..120 {
        assert!(s.http.put(&path(key), vec![b'w'; size_of(key) as usize]).await?.status.is_success());
    }
    let stats = s.http.get("/v1/stats").await?.json()?;
    let report = load_shadow(&s, DEFAULT_POLICY_WASM, "").await?;
    let ghosts = report["shadow_tiers"].as_array().context("shadow_tiers")?;
    for tier in ["hot", "warm"] {
        let live = stats["tiers"].as_array().context("tiers")?.iter().find(|t| t["tier"] == tier).context("tier")?;
        let ghost = ghosts.iter().find(|t| t["tier"] == tier).context("ghost tier")?;
        assert!(live["objects"].as_u64().is_some_and(|n| n > 0), "{tier} holds objects: {live}");
        assert_eq!((&ghost["objects"], &ghost["bytes"]), (&live["objects"], &live["bytes"]), "{tier}");
    }
    // A read of what hot holds is a hot hit on both sides from the start.
    let newest = path(119);
    assert_eq!(s.http.get(&newest).await?.header("x-tiered-source"), Some("hot"));
    let report = report_after(&s, 1).await?;
    assert_eq!((report["live"]["hot_hits"].as_u64(), report["shadow"]["hot_hits"].as_u64()), (Some(1), Some(1)));
    stop(s).await
}
