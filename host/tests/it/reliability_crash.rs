//! Crash under write load: concurrent PUTs and GETs on several hundred keys
//! against the real `tiered serve`, SIGKILLed at random moments at least 20
//! times (more, up to 80, until the run has carried 500 acknowledged writes
//! and 200 reads) and restarted on the same data directory. Nothing acknowledged is
//! lost, nothing stale or never-written is read, and the disk tier's
//! accounting matches the files (see `support/crash_run.rs`).
//!
//! Once with the local cold directory, once with the live S3 server.
//! `TIERED_SOAK=1` runs 200 kills instead of 20.

use std::io::Write;

use crate::support::crash_run::{Plan, run};
use crate::support::rng::Rng;

/// Small budgets, so eviction runs while the process is killed.
const CACHES: &str = "[hot]\nmax_bytes = \"512KiB\"\n[warm]\nmax_bytes = \"4MiB\"\n";

fn plan() -> Plan {
    let soak = std::env::var("TIERED_SOAK").is_ok_and(|v| v == "1");
    Plan {
        keys: 300,
        writers: 6,
        readers: 3,
        kills: if soak { 200 } else { 20 },
        uptime_ms: (150, 900),
        min_acked_writes: 500,
        min_reads: 200,
    }
}

fn check(name: &str, o: &crate::support::crash_run::Outcome) {
    let _ = writeln!(
        std::io::stderr(),
        "{name}: {} kills, {} acknowledged writes, {} unacknowledged, {} reads, {} keys checked, {} lost or stale",
        o.kills,
        o.acked_writes,
        o.unacked_writes,
        o.reads,
        o.keys_checked,
        o.violations.len()
    );
    assert!(o.violations.is_empty(), "{name}:\n{}", o.violations.join("\n"));
    let plan = plan();
    assert!(o.kills > plan.kills, "{name}: every planned kill happened");
    assert!(
        o.acked_writes >= plan.min_acked_writes && o.keys_checked >= 250 && o.reads >= plan.min_reads,
        "{name}: too little load to prove anything, even after {} kills",
        o.kills
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_with_local_cold() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let outcome = run(dir.path(), CACHES, plan(), &mut Rng::from_env("crash/local")).await?;
    check("crash/local", &outcome);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn sigkill_under_load_loses_nothing_with_s3() -> anyhow::Result<()> {
    let s3 = crate::support::s3::config("crash");
    let config = format!("{CACHES}{}", crate::support::s3::cold_table(&s3));
    let dir = tempfile::tempdir()?;
    let outcome = run(dir.path(), &config, plan(), &mut Rng::from_env("crash/s3")).await?;
    check("crash/s3", &outcome);
    Ok(())
}
