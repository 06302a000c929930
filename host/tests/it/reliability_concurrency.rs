//! Concurrency: many tasks doing set / get / delete / invalidate on a small key
//! space, each read checked against a per-key model of acknowledged writes (a
//! value older than the last write acknowledged before the read began fails
//! the test), then every key compared with what cold holds.
//!
//! Small tier budgets keep eviction and demotion busy while the run goes on.
//! Runs against memory + disk + local cold, and memory + disk + live S3.
//! `TIERED_SOAK=1` runs ten times as many operations.

use std::io::Write;
use std::sync::Arc;

use crate::support::model_run::{Plan, run};
use crate::support::rng::Rng;
use tiered::store::{DiskTier, LocalColdTier, SourceTier};
use tiered::{StoreConfig, TieredStore};

fn plan() -> Plan {
    let soak = std::env::var("TIERED_SOAK").is_ok_and(|v| v == "1");
    Plan { tasks: 16, ops_per_task: if soak { 4_000 } else { 400 }, keys: 12 }
}

fn store(warm_dir: &std::path::Path, cold: Arc<dyn SourceTier>) -> anyhow::Result<TieredStore> {
    Ok(TieredStore::builder()
        .hot_bytes(96 << 10)
        .warm(Arc::new(DiskTier::open(warm_dir, 192 << 10)?))
        .cold(cold)
        .policy(Arc::new(crate::support::Everywhere))
        .config(StoreConfig { compression: false, ..Default::default() })
        .build()?)
}

fn report(name: &str, outcome: &crate::support::model_run::Outcome) {
    let _ = writeln!(
        std::io::stderr(),
        "{name}: {} acknowledged writes, {} reads checked, {} violations",
        outcome.acked_writes,
        outcome.reads,
        outcome.violations.len()
    );
    assert!(outcome.violations.is_empty(), "{name}:\n{}", outcome.violations.join("\n"));
    assert!(outcome.acked_writes > 100 && outcome.reads > 100, "the run did too little to prove anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_never_go_back_in_time_with_local_cold() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cold: Arc<dyn SourceTier> = Arc::new(LocalColdTier::open(dir.path().join("cold"))?);
    let store = store(&dir.path().join("warm"), cold.clone())?;
    let outcome = run(store, cold, plan(), &mut Rng::from_env("concurrency/local")).await?;
    report("concurrency/local", &outcome);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn reads_never_go_back_in_time_with_s3() -> anyhow::Result<()> {
    let tier = crate::support::s3::tier("concurrency").await?;
    let dir = tempfile::tempdir()?;
    let cold: Arc<dyn SourceTier> = Arc::new(tier);
    let store = store(&dir.path().join("warm"), cold.clone())?;
    let mut plan = plan();
    plan.ops_per_task /= 2;
    let outcome = run(store, cold, plan, &mut Rng::from_env("concurrency/s3")).await?;
    report("concurrency/s3", &outcome);
    Ok(())
}
