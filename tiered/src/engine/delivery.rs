//! Hit delivery: who hands a full buffer of hit events to the policy.
//!
//! Hits are buffered per tier in stripes ([`Residency::hits`](super::residency::Residency::hits)).
//! When a read fills a stripe, the buffered events must reach the policy's
//! order before the stripe overflows and drops hits. Delivering them is the
//! policy's work, not the read's: a stripe holds `hit_buffer` events (256),
//! and a delivery applies every stripe of the tier, thousands of events, a
//! pause of a few hundred microseconds that the one read which happened to
//! fill the stripe would otherwise pay.
//!
//! - [`HitDelivery::Background`] (the default): a stripe is due at half
//!   full (the other half takes the hits that come meanwhile); the read that
//!   brings it there wakes the store's delivery thread ([`Courier`]) and
//!   goes on. The thread takes the tier's order lock and delivers
//!   everything buffered, as the read would have.
//!   A hot hit never runs the policy's code; a policy that cannot keep up
//!   costs hit events dropped by full stripes (counted, `hits_dropped`), not
//!   slower reads. Calls that decide (admission, eviction) still deliver
//!   every buffered event first, so no decision misses a hit that was kept.
//! - [`HitDelivery::Inline`]: the read that fills a stripe delivers. Replays
//!   (`simulate`) use it: one thread, so a batched run repeats exactly.
//!
//! The thread is started by the first stripe that comes due, named
//! `tiered-hits`, holds the store only while it delivers, and ends when the
//! store is dropped. If it cannot be started, or a policy panicked on it,
//! reads deliver inline again (logged). A store whose last handle is
//! dropped while the thread delivers is torn down on that thread, right
//! after the delivery.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};

use super::{Inner, TieredStore};
use crate::policy::TierId;

/// Who delivers a stripe of hit events to the policy once it is due.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HitDelivery {
    /// The store's delivery thread, woken by the read that brings a stripe
    /// to half full.
    #[default]
    Background,
    /// The read that fills a stripe (replays: deterministic on one thread).
    Inline,
}

/// The store's delivery thread, started on first use.
#[derive(Debug, Default)]
pub(super) struct Courier {
    signal: Arc<Signal>,
    /// Whether the thread runs (`false`: it could not be started).
    started: OnceLock<bool>,
}

/// What the reads and the thread share.
#[derive(Debug, Default)]
struct Signal {
    /// Tiers with a stripe due for delivery: bit 0 hot, bit 1 warm.
    due: AtomicU8,
    /// The thread is delivering or napping (it looks at `due` again before
    /// it sleeps): a read need not wake it.
    awake: AtomicBool,
    /// Set when the store is dropped.
    closed: Mutex<bool>,
    /// The thread ended by a panic (a policy's `observe`): reads deliver.
    dead: AtomicBool,
    wake: Condvar,
}

fn bit(tier: TierId) -> u8 {
    match tier {
        TierId::Hot => 1,
        _ => 2,
    }
}

impl Courier {
    /// Asks the thread to deliver `tier`'s buffered hits; `false` if there
    /// is no thread, and the caller must deliver them itself.
    pub(super) fn wake(&self, store: &Arc<Inner>, tier: TierId) -> bool {
        if !*self.started.get_or_init(|| self.start(Arc::downgrade(store))) || self.signal.dead.load(Ordering::Acquire)
        {
            return false;
        }
        let bit = bit(tier);
        let signal = &*self.signal;
        // Sequentially consistent with the thread's `awake` store and `due`
        // load before it sleeps: either it sees this bit, or this sees it
        // asleep.
        if signal.due.fetch_or(bit, Ordering::SeqCst) & bit == 0 && !signal.awake.load(Ordering::SeqCst) {
            // Under the lock, so the thread cannot be between its check of
            // `due` and its wait.
            let _closed = signal.closed.lock();
            signal.wake.notify_one();
        }
        true
    }

    fn start(&self, store: Weak<Inner>) -> bool {
        let signal = self.signal.clone();
        signal.awake.store(true, Ordering::SeqCst);
        let spawned =
            std::thread::Builder::new().name("tiered-hits".into()).spawn(move || deliver_until_closed(&signal, &store));
        match spawned {
            Ok(_) => true,
            Err(err) => {
                tracing::warn!(error = %err, "no hit delivery thread; reads that fill a hit buffer deliver it");
                false
            }
        }
    }
}

impl Drop for Courier {
    fn drop(&mut self) {
        *self.signal.closed.lock() = true;
        self.signal.wake.notify_one();
    }
}

/// How long the thread stays awake after a delivery, yielding its core
/// while it looks for the next one: while hits stream in, a stripe comes due
/// within it, and no read pays for a wake-up (a system call).
const NAP: Duration = Duration::from_micros(50);

/// Marks the thread dead if it unwinds, so reads deliver again.
struct Unwinding<'a>(&'a Signal);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.dead.store(true, Ordering::Release);
            tracing::error!("the hit delivery thread stopped: the policy panicked on hit events; reads deliver them");
        }
    }
}

/// The thread's loop: wait for a tier to be due, deliver, until closed.
fn deliver_until_closed(signal: &Signal, store: &Weak<Inner>) {
    let _unwinding = Unwinding(signal);
    loop {
        let due = {
            let mut closed = signal.closed.lock();
            let mut napped = false;
            loop {
                if *closed {
                    return;
                }
                let due = signal.due.swap(0, Ordering::SeqCst);
                if due != 0 {
                    break due;
                }
                if napped {
                    signal.awake.store(false, Ordering::SeqCst);
                    if signal.due.load(Ordering::SeqCst) != 0 {
                        signal.awake.store(true, Ordering::SeqCst);
                        continue;
                    }
                    signal.wake.wait(&mut closed);
                    signal.awake.store(true, Ordering::SeqCst);
                    napped = false;
                } else {
                    parking_lot::MutexGuard::unlocked(&mut closed, || {
                        let started = Instant::now();
                        while signal.due.load(Ordering::Relaxed) == 0 && started.elapsed() < NAP {
                            std::thread::yield_now();
                        }
                    });
                    napped = true;
                }
            }
        };
        // The store is held only while delivering: if this was its last
        // handle, it is dropped here and the next turn of the loop ends.
        let Some(inner) = store.upgrade() else { return };
        let store = TieredStore { inner };
        for tier in [TierId::Hot, TierId::Warm] {
            if due & bit(tier) != 0 {
                store.deliver_hits(tier);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LocalColdTier;

    #[test]
    fn the_thread_ends_when_the_store_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let cold = Arc::new(LocalColdTier::open(dir.path()).unwrap());
        let store = TieredStore::builder().hot_bytes(1 << 20).cold(cold).build().unwrap();
        let courier = &store.inner.courier;
        assert!(courier.wake(&store.inner, TierId::Hot), "the thread started");
        let signal = courier.signal.clone();
        assert_eq!(Arc::strong_count(&signal), 3, "the courier's, the thread's and this one");
        drop(store);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while Arc::strong_count(&signal) > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(Arc::strong_count(&signal), 1, "the thread ended and let go of its signal");
    }
}
