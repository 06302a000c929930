//! Per-key ordering between writes and cache fills.
//!
//! Keys hash onto a fixed set of stripes. Each stripe has a lock, held by a
//! writer for its whole cascade (invalidate caches → write cold → fill caches),
//! and a generation, bumped by the writer right after cold has the new value,
//! or its cold write failed, or its future was dropped during it (a
//! [`Changing`] guard: a write that failed or was abandoned may have landed).
//! A reader takes a [`Ticket`] (the generation, plus the store-wide epoch that
//! prefix invalidation bumps) *before* it reads a lower tier, and may copy what
//! it read into a cache only if, under the stripe lock, the ticket still holds.
//!
//! Why that is enough: if the ticket holds, no write to the key finished its
//! cold write after the ticket was taken, so the value read is not older than
//! any acknowledged write; and while the fill holds the stripe lock no write can
//! interleave. One window is left: a change whose future is dropped bumps the
//! generation at once, but the request it abandoned may land later (a file
//! write still running on the blocking pool, an S3 request already sent). A
//! reader that takes its ticket in between and reads the old value can cache
//! it.
//!
//! Operations on many keys at once (prefix invalidation, clearing a tier) do
//! not take stripe locks. Instead they hold the store-wide fill gate
//! exclusively for their whole run: every cache fill (reads, writes, demotion,
//! bootstrap) holds the gate shared and is skipped while it is taken. Without
//! it a read could copy a value from cold into a cache between the
//! invalidation's cache sweep and its cold delete, leaving a cached copy of an
//! object cold no longer has (found by the reliability battery's model test).
//! A writer also skips its fills if an invalidation ran at any time during its
//! cold write ([`KeyStripes::writer_fill_gate`]): the invalidation may have
//! deleted the value just written, so a cached copy would outlive it.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

const STRIPES: usize = 1024;

/// Stripe locks and generations.
#[derive(Debug)]
pub(crate) struct KeyStripes {
    stripes: Box<[Stripe]>,
    hasher: foldhash::fast::FixedState,
    /// Bumped by prefix invalidation and clears, which touch many stripes.
    epoch: AtomicU64,
    /// Shared by cache fills, exclusive for invalidation and clears.
    fills: RwLock<()>,
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
            fills: RwLock::new(()),
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

    /// Called by a writer, holding the lock, as it begins to change `key` in
    /// cold: the key's generation is bumped when the guard drops, once cold
    /// has the new value, or the change failed, or its future was dropped
    /// half-way. A change that failed or was abandoned may have landed all
    /// the same (a request the server carried out and whose answer was lost
    /// or never awaited), so a reader that began before it may not cache
    /// what it read, whatever the writer saw.
    pub(crate) fn changing(&self, key: &str) -> Changing<'_> {
        Changing { generation: &self.stripes[self.index(key)].generation }
    }

    /// [`changing`](Self::changing) for an operation that changes many keys
    /// at once: the store-wide epoch is bumped when the guard drops.
    pub(crate) fn changing_all(&self) -> Changing<'_> {
        Changing { generation: &self.epoch }
    }

    /// Bumps the store-wide epoch now (before an operation on many keys).
    pub(crate) fn bump_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The lock and the fill gate, if no write finished since `ticket` was
    /// taken and no invalidation is running; `None` means the value read may
    /// be stale and must not be cached.
    pub(crate) async fn fill_guard(&self, ticket: Ticket) -> Option<FillGuard<'_>> {
        let stripe = &self.stripes[ticket.stripe];
        let lock = stripe.lock.lock().await;
        let gate = self.fill_gate()?;
        let unchanged = stripe.generation.load(Ordering::Acquire) == ticket.generation
            && self.epoch.load(Ordering::Acquire) == ticket.epoch;
        unchanged.then_some(FillGuard { _lock: lock, _gate: gate })
    }

    /// [`fill_guard`](Self::fill_guard) without waiting: `None` also when the
    /// stripe is locked. For work done while the caller may already hold a
    /// stripe lock (demotion during another key's fill), where waiting could
    /// deadlock, and which may simply be skipped.
    pub(crate) fn try_fill_guard(&self, ticket: Ticket) -> Option<FillGuard<'_>> {
        let stripe = &self.stripes[ticket.stripe];
        let lock = stripe.lock.try_lock().ok()?;
        let gate = self.fill_gate()?;
        let unchanged = stripe.generation.load(Ordering::Acquire) == ticket.generation
            && self.epoch.load(Ordering::Acquire) == ticket.epoch;
        unchanged.then_some(FillGuard { _lock: lock, _gate: gate })
    }

    /// The shared fill gate for a writer already holding its stripe lock;
    /// `None` while an invalidation or clear runs (the fill is skipped).
    pub(crate) fn fill_gate(&self) -> Option<RwLockReadGuard<'_, ()>> {
        self.fills.try_read().ok()
    }

    /// The fill gate for a writer holding its stripe lock whose cold write
    /// began under `ticket`; `None` if an invalidation or clear ran (or is
    /// running) since. An invalidation that overlapped the cold write may
    /// have deleted the new value: on S3 a delete that arrives while a PUT is
    /// still uploading wins, though the PUT then succeeds.
    pub(crate) fn writer_fill_gate(&self, ticket: Ticket) -> Option<RwLockReadGuard<'_, ()>> {
        let gate = self.fill_gate()?;
        (self.epoch.load(Ordering::Acquire) == ticket.epoch).then_some(gate)
    }

    /// Held by operations on many keys for their whole run: waits for the
    /// fills in progress, and keeps new ones out until dropped.
    pub(crate) async fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.fills.write().await
    }
}

/// A change to cold under way ([`KeyStripes::changing`]): bumps its
/// generation (a key's stripe, or the store-wide epoch) when dropped, however
/// the change ended.
#[derive(Debug)]
#[must_use = "the generation is bumped when the guard drops: hold it across the change"]
pub(crate) struct Changing<'a> {
    generation: &'a AtomicU64,
}

impl Drop for Changing<'_> {
    fn drop(&mut self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// Permission to fill caches with a value read under a [`Ticket`].
#[derive(Debug)]
pub(crate) struct FillGuard<'a> {
    _lock: MutexGuard<'a, ()>,
    _gate: RwLockReadGuard<'a, ()>,
}
