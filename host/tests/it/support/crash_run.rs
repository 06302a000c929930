//! The crash run behind `reliability_crash.rs`: writers and readers drive a
//! real `tiered serve` over HTTP while a killer SIGKILLs it at random moments
//! and restarts it on the same data directory. Every operation goes into a
//! [`History`]; a write is acknowledged when the service answered 200/201,
//! and one that got no answer may or may not have happened.
//!
//! A request left unanswered for [`ANSWER_TIMEOUT`] fails the run, with what
//! a fresh connection to the server then sees, instead of hanging it.
//!
//! Checked at the end: every read during the run and a final read of every
//! key after one more kill obey the history rule (nothing acknowledged lost,
//! nothing stale, no bytes that were never written for the key), and the disk
//! tier's accounting in `GET /v1/stats` matches the files on disk, both while
//! running and after a restart.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use parking_lot::RwLock;

use super::history::{History, Read, Write};
use super::rng::{Rng, id_of, value_for};
use super::server::{Http, Server};

/// The shape of a run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub keys: u64,
    pub writers: usize,
    pub readers: usize,
    pub kills: usize,
    /// Time between a restart and the next kill, in ms.
    pub uptime_ms: (u64, u64),
    /// The load a run must carry before it ends: past `kills` it goes on
    /// killing and restarting (up to [`MORE_KILLS`] times as many) until
    /// this many writes were acknowledged and reads answered, so a slow or
    /// busy machine proves as much as a fast one.
    pub min_acked_writes: usize,
    pub min_reads: usize,
}

/// How many times the planned kills a run may take to carry its load.
pub const MORE_KILLS: usize = 4;

/// What a run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub acked_writes: usize,
    pub unacked_writes: usize,
    pub reads: usize,
    pub kills: usize,
    pub keys_checked: usize,
    pub violations: Vec<String>,
}

const SIZES: [usize; 6] = [20, 700, 4_000, 25_000, 90_000, 300_000];

/// How long a request may wait for its answer: above the 60 s a cold
/// operation may take with the S3 tier's default bounds. A killed server's
/// requests fail at once (the connection is reset), so only a server that
/// stopped answering, or a client that lost its request, waits this long.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(90);

/// Run `plan` against `tiered serve` on `data_dir` with `config`.
pub async fn run(data_dir: &Path, config: &str, plan: Plan, rng: &mut Rng) -> Result<Outcome> {
    let mut server = Server::start(data_dir, config).await?;
    let http = Arc::new(RwLock::new(server.http.clone()));
    let history = Arc::new(History::default());
    let (stop, ids, unacked) =
        (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(1)), Arc::new(AtomicU64::new(0)));
    let mut clients = Vec::new();
    for n in 0..plan.writers + plan.readers {
        let writer = n < plan.writers;
        let (http, history, stop, ids, unacked, mut rng) =
            (http.clone(), history.clone(), stop.clone(), ids.clone(), unacked.clone(), rng.fork());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let client = http.read().clone();
                let key = format!("crash/{}", rng.below(plan.keys));
                let ok = if writer {
                    let id = ids.fetch_add(1, Ordering::Relaxed);
                    put(&client, &http, &history, &key, id, *rng.pick(&SIZES), &unacked).await?
                } else {
                    get(&client, &http, &history, &key).await?
                };
                if !ok {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            anyhow::Ok(())
        }));
    }
    let mut outcome = Outcome::default();
    let carried =
        |history: &History| history.acked_writes() >= plan.min_acked_writes && history.reads() >= plan.min_reads;
    while outcome.kills < plan.kills || (!carried(&history) && outcome.kills < MORE_KILLS * plan.kills) {
        tokio::time::sleep(Duration::from_millis(rng.range(plan.uptime_ms.0, plan.uptime_ms.1))).await;
        drop(server); // SIGKILL, then reap.
        outcome.kills += 1;
        server = Server::start(data_dir, config).await?;
        *http.write() = server.http.clone();
    }
    tokio::time::sleep(Duration::from_millis(plan.uptime_ms.0)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await??;
    }
    accounting_matches(&server, data_dir).await.context("while running, after the load")?;
    drop(server);
    outcome.kills += 1;
    let server = Server::start(data_dir, config).await?;
    accounting_matches(&server, data_dir).await.context("after the last restart")?;

    outcome.violations = history.violations();
    for key in history.keys() {
        let path = format!("/v1/objects/{key}");
        let reply = answered(&server.http, None, &format!("GET {path} (final read)"), server.http.get(&path)).await??;
        let id = match reply.status.as_u16() {
            200 => Some(id_of(&key, &reply.body).with_context(|| format!("{key}: bytes nobody wrote"))?),
            404 => None,
            other => anyhow::bail!("{key}: final read answered {other}"),
        };
        if let Some(v) = history.final_read(&key, id) {
            outcome.violations.push(format!("after the run: {v}"));
        }
        outcome.keys_checked += 1;
    }
    server.stop().await?;
    outcome.acked_writes = history.acked_writes();
    outcome.unacked_writes = unacked.load(Ordering::Relaxed) as usize;
    outcome.reads = history.reads();
    Ok(outcome)
}

/// A write; `Ok(false)` when it was not acknowledged. `current` is the
/// server of the moment (`http`'s unless it was killed since).
async fn put(
    http: &Http,
    current: &RwLock<Http>,
    history: &History,
    key: &str,
    id: u64,
    len: usize,
    unacked: &AtomicU64,
) -> Result<bool> {
    let start = history.now();
    let path = format!("/v1/objects/{key}");
    let what = format!("PUT {path} ({len} bytes)");
    let reply = answered(http, Some(current), &what, http.put(&path, value_for(key, id, len))).await?;
    let acked = reply.as_ref().is_ok_and(|r| r.status.is_success());
    if !acked {
        unacked.fetch_add(1, Ordering::Relaxed);
    }
    history.write(key, Write { id: Some(id), start, end: history.now(), acked });
    Ok(acked)
}

/// A read; `Ok(false)` when the service was down. Bytes nobody wrote fail.
async fn get(http: &Http, current: &RwLock<Http>, history: &History, key: &str) -> Result<bool> {
    let start = history.now();
    let path = format!("/v1/objects/{key}");
    let Ok(reply) = answered(http, Some(current), &format!("GET {path}"), http.get(&path)).await? else {
        return Ok(false);
    };
    let id = match reply.status.as_u16() {
        200 => Some(id_of(key, &reply.body).with_context(|| format!("{key}: read bytes nobody wrote"))?),
        404 => None,
        _ => return Ok(false),
    };
    history.read(Read { key: key.to_string(), id, start, end: history.now() });
    Ok(true)
}

/// `request`'s outcome (sent with `http`), or an error if it waited
/// [`ANSWER_TIMEOUT`] for an answer. The error says whether the server was
/// killed and replaced meanwhile (`current`: then the client lost its
/// request) and what a fresh connection to the server of the moment gets
/// (a health check, the same key's read, the stats), which tells a server
/// that stopped answering from a client that lost its request.
async fn answered(
    http: &Http,
    current: Option<&RwLock<Http>>,
    what: &str,
    request: impl std::future::Future<Output = Result<super::server::Reply>>,
) -> Result<Result<super::server::Reply>> {
    let Ok(outcome) = tokio::time::timeout(ANSWER_TIMEOUT, request).await else {
        let now = current.map_or(http.addr(), |c| c.read().addr());
        let replaced = if now == http.addr() {
            String::new()
        } else {
            format!(" (that server was killed since; the one now is {now})")
        };
        let fresh = Http::new(now);
        let probe = |path: String| {
            let fresh = fresh.clone();
            async move {
                match tokio::time::timeout(Duration::from_secs(5), fresh.get(&path)).await {
                    Ok(Ok(reply)) if path.starts_with("/v1/objects/") => {
                        format!("{path}: {}, {} bytes", reply.status, reply.body.len())
                    }
                    Ok(Ok(reply)) => format!("{path}: {} {}", reply.status, String::from_utf8_lossy(&reply.body)),
                    Ok(Err(err)) => format!("{path}: {err:#}"),
                    Err(_) => format!("{path}: no answer in 5 s either"),
                }
            }
        };
        let same = what.split_whitespace().nth(1).unwrap_or("/healthz").to_string();
        let seen = [probe("/healthz".into()).await, probe(same).await, probe("/v1/stats".into()).await];
        anyhow::bail!(
            "{what} to {}: no answer in {ANSWER_TIMEOUT:?}{replaced}; a fresh connection then got:\n{}",
            http.addr(),
            seen.join("\n")
        );
    };
    Ok(outcome)
}

/// `GET /v1/stats` for warm agrees with the files under `warm/objects`, and
/// no temporary file is left in `warm/tmp`.
pub async fn accounting_matches(server: &Server, data_dir: &Path) -> Result<()> {
    let stats = tokio::time::timeout(ANSWER_TIMEOUT, server.http.get("/v1/stats"))
        .await
        .context("GET /v1/stats: no answer")??
        .json()?;
    let warm = stats["tiers"].as_array().context("tiers")?.iter().find(|t| t["tier"] == "warm").context("warm")?;
    let files = super::files_under(&data_dir.join("warm").join("objects"));
    let bytes: u64 = files.iter().map(|f| f.metadata().map(|m| m.len()).unwrap_or(0)).sum();
    let reported = (warm["objects"].as_u64().unwrap_or(u64::MAX), warm["bytes"].as_u64().unwrap_or(u64::MAX));
    ensure!(reported == (files.len() as u64, bytes), "stats say {reported:?}, disk holds ({}, {bytes})", files.len());
    let tmp = super::files_under(&data_dir.join("warm").join("tmp"));
    ensure!(tmp.is_empty(), "temporary files left behind: {tmp:?}");
    Ok(())
}
