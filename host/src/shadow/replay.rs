//! The replay of a shadow's queue: each request the service saw ([`Msg`])
//! applied, in order, to the ghost store, and each read counted on both
//! sides ([`Shared`]'s tally). The thread polls its queue (never blocked on,
//! so offering a request wakes nobody), replays up to [`CHECK_EVERY`]
//! requests at a time on a runtime of its own, and checks the candidate's
//! health between batches.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::ghost::{GhostCold, MAX_GHOST_VALUE, Zeros};
use super::tally::Tally;
use tiered::engine::{SetOptions, TieredStore};
use tiered::object::ObjectMeta;
use tiered::policy::TierId;
use tiered::range::ByteRange;

/// Requests replayed between two checks of the shadow policy's health...
pub const CHECK_EVERY: u64 = 256;

/// ...or time between two checks, whichever comes first.
pub const CHECK_AFTER: Duration = Duration::from_millis(20);

/// How long an idle worker sleeps before it looks at its queue again.
pub const IDLE_POLL: Duration = Duration::from_millis(2);

/// What the service tells its shadow.
#[derive(Debug)]
pub(super) enum Msg {
    /// A read (of `range`, when one was asked) the live store served from `live`.
    Get {
        meta: Arc<ObjectMeta>,
        live: TierId,
        range: Option<ByteRange>,
    },
    Set {
        meta: Arc<ObjectMeta>,
    },
    Delete {
        key: String,
    },
    Invalidate {
        prefix: String,
    },
}

/// What the worker and the routes share.
#[derive(Debug)]
pub(super) struct Shared {
    pub tally: Mutex<Tally>,
    /// Whether the worker still replays.
    pub running: AtomicBool,
    pub dropped: AtomicU64,
    pub writes: AtomicU64,
    pub deletes: AtomicU64,
    /// Reads of objects too large for a ghost tier (counted as cold on the
    /// shadow's side).
    pub uncacheable: AtomicU64,
    pub ended: Mutex<Option<String>>,
}

/// The replay of one shadow's queue through its ghost store.
pub(super) struct Worker {
    pub rx: Receiver<Msg>,
    pub store: TieredStore,
    pub cold: Arc<GhostCold>,
    pub zeros: Arc<Zeros>,
    pub shared: Arc<Shared>,
    pub on: Arc<AtomicBool>,
    pub faults: Arc<AtomicU64>,
}

impl Worker {
    pub fn run(self) {
        // The ghost engine's eviction rounds and the candidate's call
        // timings are not the live store's: keep them out of `/metrics`.
        let _quiet = metrics::set_default_local_recorder(&metrics::NoopRecorder);
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
            Ok(runtime) => runtime,
            Err(err) => return self.end(format!("cannot start the replay's runtime: {err}")),
        };
        let mut replayed = 0u64;
        let (mut next_check, mut last_check) = (CHECK_EVERY, Instant::now());
        loop {
            // Polled, never blocked on: a request offered to an idle worker
            // then costs the serving thread no wake-up.
            let first = match self.rx.try_recv() {
                Ok(msg) => msg,
                Err(TryRecvError::Empty) => {
                    std::thread::sleep(IDLE_POLL);
                    continue;
                }
                Err(TryRecvError::Disconnected) => break,
            };
            runtime.block_on(async {
                self.apply(first).await;
                replayed += 1;
                while replayed < next_check {
                    let Ok(msg) = self.rx.try_recv() else { break };
                    self.apply(msg).await;
                    replayed += 1;
                }
            });
            // The policy's counters are a store-wide snapshot: read them
            // every so many requests, or soon after a quiet spell.
            if replayed >= next_check || last_check.elapsed() >= CHECK_AFTER {
                if let Some(reason) = self.fault() {
                    return self.end(reason);
                }
                (next_check, last_check) = (replayed + CHECK_EVERY, Instant::now());
            }
        }
        self.shared.running.store(false, Ordering::Relaxed);
    }

    /// Ends the run on a fault: the feed is turned off (what is queued is
    /// dropped with the receiver) and the reason kept for the report.
    fn end(&self, reason: String) {
        self.on.store(false, Ordering::Relaxed);
        self.faults.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(reason = %reason, "shadow policy ended");
        *self.shared.ended.lock() = Some(reason);
        self.shared.running.store(false, Ordering::Relaxed);
    }

    /// Why the shadow policy can no longer be judged, if it failed.
    fn fault(&self) -> Option<String> {
        let c = self.store.stats().policy_counters;
        if c.traps > 0 {
            Some(format!("its policy trapped ({} calls), a memory limit included", c.traps))
        } else if c.timeouts > 0 {
            Some(format!("its policy overran its deadline ({} calls)", c.timeouts))
        } else {
            None
        }
    }

    async fn apply(&self, msg: Msg) {
        match msg {
            Msg::Get { meta, live, range } => {
                let size = meta.size;
                let shadow = if size > MAX_GHOST_VALUE {
                    self.shared.uncacheable.fetch_add(1, Ordering::Relaxed);
                    TierId::Cold
                } else {
                    self.cold.expect(Some(meta.clone()));
                    let served = match range {
                        // The engine's range path, as live: a range of a
                        // cold object is not promoted.
                        Some(range) => self.store.get_range(&meta.key, range).await.map(|r| r.map(|r| r.source)),
                        None => self.store.get_with_metadata(&meta.key).await.map(|h| h.map(|h| h.source)),
                    };
                    served.ok().flatten().unwrap_or(TierId::Cold)
                };
                self.shared.tally.lock().count(size, live, shadow);
            }
            Msg::Set { meta } => {
                self.shared.writes.fetch_add(1, Ordering::Relaxed);
                if meta.size > MAX_GHOST_VALUE {
                    let _ = self.store.delete(&meta.key).await;
                    return;
                }
                let ttl = meta.expires_ms.map(|e| Duration::from_millis(e.saturating_sub(meta.created_ms)));
                let options = SetOptions {
                    ttl,
                    metadata: meta.metadata.clone(),
                    content_type: meta.content_type.clone(),
                    compress: Some(false),
                    ..SetOptions::default()
                };
                self.cold.expect(Some(meta.clone()));
                let _ = self.store.set(&meta.key, self.zeros.take(meta.size), options).await;
            }
            Msg::Delete { key } => {
                self.shared.deletes.fetch_add(1, Ordering::Relaxed);
                self.cold.expect(None);
                let _ = self.store.delete(&key).await;
            }
            Msg::Invalidate { prefix } => {
                self.cold.expect(None);
                let _ = self.store.invalidate(&prefix).await;
            }
        }
    }
}
