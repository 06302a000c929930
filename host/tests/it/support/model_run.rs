//! The randomized concurrency run behind `reliability_concurrency.rs`: many
//! tasks doing set / get / delete / invalidate on a small key space of one
//! store, every operation logged in a [`History`], then every read checked
//! against the acknowledged writes, and finally every key compared with what
//! the cold tier itself holds (no cache may keep a value cold lost).
#![allow(dead_code)]

use std::sync::Arc;

use tiered::store::SourceTier;
use tiered::{SetOptions, TieredStore};

use super::history::{History, Read, Write};
use super::rng::{Rng, id_of, value_for};

/// The shape of a run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub tasks: usize,
    pub ops_per_task: usize,
    pub keys: usize,
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    pub acked_writes: usize,
    pub reads: usize,
    pub violations: Vec<String>,
}

fn key_name(i: u64) -> String {
    format!("{}/k{i}", if i.is_multiple_of(2) { "even" } else { "odd" })
}

/// Run `plan` against `store` (whose cold tier is `cold`).
pub async fn run(store: TieredStore, cold: Arc<dyn SourceTier>, plan: Plan, rng: &mut Rng) -> anyhow::Result<Outcome> {
    let history = Arc::new(History::default());
    let next_id = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let mut tasks = Vec::new();
    for _ in 0..plan.tasks {
        let (store, history, next_id, mut rng) = (store.clone(), history.clone(), next_id.clone(), rng.fork());
        tasks.push(tokio::spawn(async move {
            for _ in 0..plan.ops_per_task {
                let key = key_name(rng.below(plan.keys as u64));
                let roll = rng.below(100);
                let start = history.now();
                if roll < 50 {
                    let got = store.get(&key).await?;
                    let id = match &got {
                        Some(v) => Some(id_of(&key, v).ok_or_else(|| anyhow::anyhow!("{key}: bytes nobody wrote"))?),
                        None => None,
                    };
                    history.read(Read { key, id, start, end: history.now() });
                } else if roll < 85 {
                    let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let len = *rng.pick(&[16usize, 300, 2_000, 9_000, 40_000]);
                    store.set(&key, value_for(&key, id, len), SetOptions::default()).await?;
                    history.write(&key, Write { id: Some(id), start, end: history.now(), acked: true });
                } else if roll < 96 {
                    store.delete(&key).await?;
                    history.write(&key, Write { id: None, start, end: history.now(), acked: true });
                } else {
                    let prefix = if rng.chance(50) { "even/" } else { "odd/" };
                    store.invalidate(prefix).await?;
                    let end = history.now();
                    for i in 0..plan.keys as u64 {
                        let key = key_name(i);
                        if key.starts_with(prefix) {
                            history.write(&key, Write { id: None, start, end, acked: true });
                        }
                    }
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let mut violations = history.violations();
    for i in 0..plan.keys as u64 {
        let key = key_name(i);
        let hit = store.get_with_metadata(&key).await?;
        let source = hit.as_ref().map(|h| h.source);
        let through_store = hit.map(|h| id_of(&key, &h.data));
        let in_cold = cold.get(&key).await?.map(|o| id_of(&key, &o.data));
        if through_store != in_cold {
            violations.push(format!(
                "{key}: the store serves {through_store:?} (from {source:?}) but cold holds {in_cold:?}"
            ));
        }
        if let Some(v) = history.final_read(&key, through_store.flatten()) {
            violations.push(format!("after the run: {v}"));
        }
    }
    Ok(Outcome { acked_writes: history.acked_writes(), reads: history.reads(), violations })
}
