//! Per-key ordering between writes and cache fills.
//!
//! Keys hash onto a fixed set of stripes. Each stripe has a lock, held by a
//! writer for its whole cascade (invalidate caches → write cold → fill caches),
//! and a generation, bumped by the writer right after cold has the new value.
//! A reader takes a [`Ticket`] (the generation, plus the store-wide epoch that
//! prefix invalidation bumps) *before* it reads a lower tier, and may copy what
//! it read into a cache only if, under the stripe lock, the ticket still holds.
//!
//! Why that is enough: if the ticket holds, no write to the key finished its
//! cold write after the ticket was taken, so the value read is not older than
//! any acknowledged write; and while the fill holds the stripe lock no write can
//! interleave.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, MutexGuard};

const STRIPES: usize = 1024;

/// Stripe locks and generations.
#[derive(Debug)]
pub(crate) struct KeyStripes {
    stripes: Box<[Stripe]>,
    hasher: foldhash::fast::FixedState,
    /// Bumped by prefix invalidation and clears, which touch many stripes.
    epoch: AtomicU64,
}

#[derive(Debug, Default)]
struct Stripe {
    lock: Mutex<()>,
    generation: AtomicU64,
}

/// A reader's snapshot of a key's ordering state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    stripe: usize,
    generation: u64,
    epoch: u64,
}

impl KeyStripes {
    pub(crate) fn new() -> Self {
        KeyStripes {
            stripes: (0..STRIPES).map(|_| Stripe::default()).collect(),
            hasher: foldhash::fast::FixedState::with_seed(0x006f_7264_6572),
            epoch: AtomicU64::new(0),
        }
    }

    fn index(&self, key: &str) -> usize {
        self.hasher.hash_one(key) as usize % STRIPES
    }

    /// Take before reading a lower tier.
    pub(crate) fn ticket(&self, key: &str) -> Ticket {
        let stripe = self.index(key);
        Ticket {
            stripe,
            generation: self.stripes[stripe].generation.load(Ordering::Acquire),
            epoch: self.epoch.load(Ordering::Acquire),
        }
    }

    /// The writer's lock for `key`.
    pub(crate) async fn lock(&self, key: &str) -> MutexGuard<'_, ()> {
        self.stripes[self.index(key)].lock.lock().await
    }

    /// Called by a writer, holding the lock, once cold has the new value.
    pub(crate) fn bump(&self, key: &str) {
        self.stripes[self.index(key)].generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Called after an operation that changed many keys at once.
    pub(crate) fn bump_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The lock, if no write finished since `ticket` was taken; `None` means
    /// the value read may be stale and must not be cached.
    pub(crate) async fn fill_guard(&self, ticket: Ticket) -> Option<MutexGuard<'_, ()>> {
        let stripe = &self.stripes[ticket.stripe];
        let guard = stripe.lock.lock().await;
        let unchanged = stripe.generation.load(Ordering::Acquire) == ticket.generation
            && self.epoch.load(Ordering::Acquire) == ticket.epoch;
        unchanged.then_some(guard)
    }
}
