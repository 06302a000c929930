//! Eviction: what enters a cache tier and what leaves it to make room.
//!
//! - **Admission against the victims** ([`TieredStore::make_room`]): before
//!   an object enters hot or warm (a write's fill, a promotion, a demotion),
//!   a policy that keeps the order is asked with the tier's events since its
//!   last call and the bytes that must be freed; it refuses the object or
//!   names victims.
//! - **Named victims are checked** (resident in that tier, named once, not
//!   the arriving object, not a copy still being written: [`Filling`]); the
//!   rest are counted and ignored. If what is left
//!   frees too little, the host's CLOCK makes up the difference and reports
//!   those evictions in the next batch. A policy without an order is never
//!   asked: the CLOCK decides alone.
//! - **Budgets** ([`TieredStore::enforce_budgets`]): fills that raced past
//!   the budget are brought back by the same two steps (`evict`, then the
//!   CLOCK). Rounds for one tier are serialized and re-read the usage, so a
//!   tier exceeds its budget only by the fills in flight.
//! - **Demotion**: a hot victim that warm does not hold is offered to warm
//!   (an arrival the policy may refuse) before it leaves memory.
//! - **A dropped round** (its caller left during a demotion or a slow
//!   delete) hands the victims it has not deleted to a task of their own:
//!   they have left the table, and would otherwise hold the tier's bytes
//!   out of every order's sight ([`Round`]). That task's deletes run
//!   outside the serialized rounds: a round meanwhile still counts their
//!   bytes, and may evict a little more than it needed.
//! - **Hand-over**: a policy that is new or lost its order (a rebuilt
//!   instance) first receives every resident as an arrival, in batches.
//! - **Count check**: every `order_check_calls` calls about a tier (1024),
//!   with all its events delivered, the policy's count of residents is
//!   compared with the host's; a disagreement drops the policy's order,
//!   which is then handed the residents (counted as `order_mismatches`).
//!
//! Every call about a tier's order, and every change to its table that
//! goes with the answer, runs under the tier's order lock
//! ([`TieredStore::with_order`]): batches reach the policy in the order
//! they were taken, and a count check never falls between a decision and
//! its effect.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::TieredStore;
use super::delivery::HitDelivery;
use super::residency::{OrderSync, Residency, Slot, Victim, object_id};
use super::stats::{add, bump};
use crate::metrics::EVICTION_ROUND_SECONDS;
use crate::policy::{Admission, Arrival, Events, ObjectId, Policy, TierId};
use crate::store::CacheTier;

/// Rounds per call, a bound against a tier that cannot get under budget.
const MAX_ROUNDS: usize = 1024;

/// A copy [`TieredStore::make_room`] made room for, while it is written:
/// its entry is no victim (for the policy or the host's order) until this
/// is dropped, whether the write succeeded, failed or was abandoned.
#[must_use = "the copy is protected from eviction only while this is held"]
pub(crate) struct Filling<'a> {
    /// The tier's residency table and the copy's id (`None`: the tier keeps
    /// no order).
    entry: Option<(&'a Residency, ObjectId)>,
    key: &'a str,
}

impl Drop for Filling<'_> {
    fn drop(&mut self) {
        if let Some((residency, id)) = self.entry {
            residency.written(id, self.key);
        }
    }
}

/// The victims of one round while they are deleted. Dropped before the end
/// (its caller left, say during a slow demotion), it hands the victims not
/// yet deleted to a task of their own ([`TieredStore::remove_abandoned`]).
struct Round<'a> {
    store: &'a TieredStore,
    tier: TierId,
    victims: Vec<Victim>,
    /// Victims deleted so far.
    done: usize,
}

impl Drop for Round<'_> {
    fn drop(&mut self) {
        if self.done >= self.victims.len() {
            return;
        }
        let rest = self.victims.split_off(self.done);
        let (store, tier) = (self.store.clone(), self.tier);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                tracing::debug!(tier = %tier, victims = rest.len(), "eviction round dropped; its victims are deleted apart");
                drop(runtime.spawn(async move { store.remove_abandoned(tier, rest).await }));
            }
            Err(_) => {
                tracing::warn!(
                    tier = %tier,
                    victims = rest.len(),
                    "eviction round dropped outside a runtime; its victims stay in the tier until overwritten, \
                     deleted or the tier is re-read"
                );
            }
        }
    }
}

impl TieredStore {
    /// Bring hot, then warm, back under budget.
    pub(crate) async fn enforce_budgets(&self) {
        for tier in [TierId::Hot, TierId::Warm] {
            if let Some(cache) = self.cache(tier)
                && cache.usage().over_budget()
            {
                self.evict(tier, cache.as_ref()).await;
            }
        }
    }

    /// The policy in force and the epoch it was installed in, read together.
    fn policy_and_epoch(&self) -> (std::sync::Arc<dyn Policy>, u64) {
        let policy = self.inner.policy.read();
        (policy.clone(), self.inner.policy_epoch.load(Ordering::Acquire))
    }

    /// Runs `call` with `tier`'s events since the last call, under the
    /// tier's order lock (taken only if free when `wait` is false: `None`
    /// then), so batches reach the policy in the order they were taken.
    ///
    /// First hands `policy` the residents if it has not seen them (a new
    /// policy, or one whose order was lost since), and every
    /// `order_check_calls` calls compares the policy's count of residents
    /// with the host's: on a disagreement the order is dropped and rebuilt
    /// from the residents. Whatever `call` changes in the table must be changed
    /// inside it, so a check sees all of a decision or none of it.
    fn with_order<R>(
        &self,
        policy: &dyn Policy,
        epoch: u64,
        tier: TierId,
        residency: &Residency,
        wait: bool,
        call: impl FnOnce(&Events) -> R,
    ) -> Option<R> {
        let mut sync = if wait { residency.order.lock() } else { residency.order.try_lock()? };
        self.gather_reads(tier);
        self.hand_over(policy, epoch, tier, residency, &mut sync);
        sync.calls += 1;
        let every = self.inner.config.order_check_calls;
        if every > 0 && sync.calls >= every {
            sync.calls = 0;
            let (events, host) = residency.take_events_counted();
            let theirs = policy.residents(&events);
            residency.recycle(events);
            if let Some(theirs) = theirs
                && theirs != host
            {
                bump(&self.inner.counters.tier(tier).order_mismatches);
                tracing::warn!(
                    tier = %tier,
                    policy_count = theirs,
                    host_count = host,
                    "the policy's count of residents disagrees with the host's; rebuilding its order"
                );
                policy.reset_order();
                self.hand_over(policy, epoch, tier, residency, &mut sync);
            }
        }
        let events = residency.take_events();
        let answer = call(&events);
        residency.recycle(events);
        Some(answer)
    }

    /// Hands `policy` the residents of `tier` unless it has them.
    fn hand_over(&self, policy: &dyn Policy, epoch: u64, tier: TierId, residency: &Residency, sync: &mut OrderSync) {
        let want = (epoch, policy.order_generation());
        if sync.synced == Some(want) {
            return;
        }
        let batches = residency.handover(tier);
        let residents: usize = batches.iter().map(|b| b.len()).sum();
        for batch in &batches {
            policy.observe(batch);
        }
        if sync.synced.is_some() || residents > 0 {
            bump(&self.inner.counters.tier(tier).handovers);
            tracing::info!(tier = %tier, residents, "eviction order handed the residents");
        }
        sync.synced = Some(want);
    }

    /// Makes room in `tier` for `key` (`footprint` bytes) and records it as
    /// resident; `None` if it must not be cached there (the policy refused
    /// it, or another key has its id). The caller stores it next, holding
    /// the [`Filling`] until the copy is written, and calls
    /// [`forget_copy`](Self::forget_copy) if that fails.
    pub(crate) async fn make_room<'a>(
        &'a self,
        tier: TierId,
        cache: &dyn CacheTier,
        key: &'a str,
        footprint: u64,
        class: u8,
    ) -> Option<Filling<'a>> {
        let Some(residency) = self.residency(tier) else { return Some(Filling { entry: None, key }) };
        let counters = self.inner.counters.tier(tier);
        let id = object_id(key);
        if residency.slot(id, key) == Slot::Collision {
            bump(&counters.id_collisions);
            return None;
        }
        let usage = cache.usage();
        let need = usage.capacity.map_or(0, |cap| (usage.bytes + footprint).saturating_sub(cap));
        let started = (need > 0).then(Instant::now);
        let (policy, epoch) = self.policy_and_epoch();
        let mut victims = Vec::new();
        if policy.keeps_order() {
            let arrival = Arrival { id, size: footprint, class };
            let admitted = self
                .with_order(policy.as_ref(), epoch, tier, residency, true, |events| {
                    match policy.admit(events, arrival, need) {
                        Admission::Refuse => None,
                        Admission::Admit(named) => {
                            let (named, rejected) = residency.take_named(&named, Some(id));
                            add(&counters.victims_rejected, rejected);
                            Some((named, residency.filling(id, key, footprint, class, false)))
                        }
                    }
                })
                .expect("waits for the order lock");
            let Some((named, inserted)) = admitted else {
                bump(&counters.refused);
                return None;
            };
            victims = named;
            if !inserted {
                bump(&counters.id_collisions);
                self.remove_victims(tier, cache, victims).await;
                return None;
            }
        } else if !residency.filling(id, key, footprint, class, true) {
            bump(&counters.id_collisions);
            return None;
        }
        let filling = Filling { entry: Some((residency, id)), key };
        let freed: u64 = victims.iter().map(|v| v.footprint).sum();
        if freed < need {
            self.gather_reads(tier);
            let extra = residency.take_by_clock(need - freed, Some(id));
            if policy.keeps_order() {
                add(&counters.host_evictions, extra.len() as u64);
            }
            victims.extend(extra);
        }
        self.remove_victims(tier, cache, victims).await;
        if let Some(started) = started {
            metrics::histogram!(EVICTION_ROUND_SECONDS, "tier" => tier.as_str())
                .record(started.elapsed().as_secs_f64());
        }
        Some(filling)
    }

    /// `key` is no longer in `tier` (deleted, expired, a failed fill).
    pub(crate) fn forget_copy(&self, tier: TierId, key: &str) {
        if let Some(residency) = self.residency(tier) {
            residency.remove(key);
        }
    }

    /// A read served by `tier` of the object of id `id`
    /// ([`object_id`] of its key), for the eviction order.
    pub(crate) fn note_hit(&self, tier: TierId, id: ObjectId) {
        self.note_hits(tier, &[id]);
    }

    /// A full read buffer of a hot shard
    /// ([`MemoryTier::value_recorded`](crate::store::MemoryTier::value_recorded)):
    /// counted in the frequency sketch and noted as hits.
    pub(crate) fn hot_reads(&self, ids: &[ObjectId]) {
        self.inner.sketch.record_ids(ids);
        self.note_hits(TierId::Hot, ids);
    }

    /// The frequency sketch's estimate for `key`, after the hits of it the
    /// hot tier still buffers (all in one shard's buffer) are counted.
    pub(crate) fn frequency(&self, key: &str) -> u32 {
        if let Some(hot) = self.inner.hot.as_ref().filter(|_| self.records_hot_reads()) {
            hot.take_reads_of(object_id(key), |ids| self.hot_reads(ids));
        }
        self.inner.sketch.estimate(key)
    }

    /// Empties the hot shards' read buffers into the sketch and the hot
    /// tier's hit stripes, so a call about `tier` sees every hit so far.
    pub(crate) fn gather_reads(&self, tier: TierId) {
        let (TierId::Hot, Some(hot)) = (tier, &self.inner.hot) else { return };
        if !self.records_hot_reads() {
            return;
        }
        let mut gathered = Vec::new();
        hot.take_reads(|ids| gathered.extend_from_slice(ids));
        self.inner.sketch.record_ids(&gathered);
        // The caller delivers next.
        self.inner.residency[0].absorb(&gathered);
    }

    /// Reads served by `tier` of the objects of ids `ids`, for the eviction
    /// order. Hits that fill their buffer deliver the tier's buffered hits
    /// (to the policy, or to the host's CLOCK bits), unless another thread
    /// is delivering them: then they go on at once.
    pub(crate) fn note_hits(&self, tier: TierId, ids: &[ObjectId]) {
        let Some(residency) = self.residency(tier) else { return };
        if !residency.hits(ids) {
            return;
        }
        let background = self.inner.config.hit_delivery == HitDelivery::Background;
        // `listening`: the policy keeps an order (one load, where the
        // policy itself would take its lock and a reference).
        if background && residency.listening() && self.inner.courier.wake(&self.inner, tier) {
            return;
        }
        // Another thread delivering takes these hits along.
        self.deliver_buffered(tier, residency, false);
    }

    /// Hands `tier`'s buffered events to the policy's order, waiting for
    /// the order lock (the delivery thread's call).
    pub(crate) fn deliver_hits(&self, tier: TierId) {
        if let Some(residency) = self.residency(tier) {
            self.deliver_buffered(tier, residency, true);
        }
    }

    fn deliver_buffered(&self, tier: TierId, residency: &Residency, wait: bool) {
        let (policy, epoch) = self.policy_and_epoch();
        if policy.keeps_order() {
            self.with_order(policy.as_ref(), epoch, tier, residency, wait, |events| {
                if !events.is_empty() {
                    policy.observe(events);
                }
            });
        } else {
            // No order to feed: the hits set the CLOCK's bits.
            residency.recycle(residency.take_events());
        }
    }

    async fn evict(&self, tier: TierId, cache: &dyn CacheTier) {
        let inner = &self.inner;
        let Some(residency) = self.residency(tier) else { return };
        let counters = inner.counters.tier(tier);
        let _round = inner.evicting[(tier == TierId::Warm) as usize].lock().await;
        for _ in 0..MAX_ROUNDS {
            let usage = cache.usage();
            let Some(capacity) = usage.capacity.filter(|&c| usage.bytes > c) else { return };
            let over = usage.bytes - capacity;
            let started = Instant::now();
            let (policy, epoch) = self.policy_and_epoch();
            let mut victims = Vec::new();
            if policy.keeps_order() {
                let (named, rejected) = self
                    .with_order(policy.as_ref(), epoch, tier, residency, true, |events| {
                        residency.take_named(&policy.evict(events, over), None)
                    })
                    .expect("waits for the order lock");
                add(&counters.victims_rejected, rejected);
                victims = named;
            }
            let freed: u64 = victims.iter().map(|v| v.footprint).sum();
            if freed < over {
                self.gather_reads(tier);
                let extra = residency.take_by_clock(over - freed, None);
                if policy.keeps_order() {
                    add(&counters.host_evictions, extra.len() as u64);
                }
                victims.extend(extra);
            }
            if victims.is_empty() {
                // The table lost track of what the tier holds: rebuild it
                // from the tier (the policy hears of them as arrivals).
                let residents = cache.residents();
                if residents.is_empty() {
                    return;
                }
                tracing::warn!(tier = %tier, residents = residents.len(), "over budget with no known resident; re-reading the tier's residents");
                for r in residents {
                    residency.insert(object_id(&r.key), &r.key, r.footprint, 0, true);
                }
                continue;
            }
            self.remove_victims(tier, cache, victims).await;
            metrics::histogram!(EVICTION_ROUND_SECONDS, "tier" => tier.as_str())
                .record(started.elapsed().as_secs_f64());
        }
        tracing::warn!(tier = %tier, "eviction stopped after {MAX_ROUNDS} rounds; tier still over budget");
    }

    /// Deletes victims taken out of `tier`'s table; hot ones warm does not
    /// hold are offered to warm first.
    async fn remove_victims(&self, tier: TierId, cache: &dyn CacheTier, victims: Vec<Victim>) {
        let mut round = Round { store: self, tier, victims, done: 0 };
        while let Some(victim) = round.victims.get(round.done) {
            if tier == TierId::Hot {
                self.demote(&victim.key).await;
            }
            self.delete_victim(tier, cache, &victim.key).await;
            round.done += 1;
        }
    }

    /// Deletes an evicted copy from the tier, counted.
    async fn delete_victim(&self, tier: TierId, cache: &dyn CacheTier, key: &str) {
        let counters = self.inner.counters.tier(tier);
        match cache.delete(key).await {
            Ok(true) => bump(&counters.evictions),
            Ok(false) => {}
            Err(err) => {
                bump(&counters.errors);
                tracing::warn!(key, tier = cache.name(), %err, "eviction failed");
            }
        }
    }

    /// The victims of a round that was dropped before deleting them: they
    /// have left the tier's table already, so left in the tier they would
    /// hold its bytes for good, out of every order's sight. Deleted without
    /// demotion (cold has them), unless a fill has put the key back since:
    /// the check and the delete are made under the key's stripe lock, which
    /// every fill holds, so a fill cannot land between them. This task holds
    /// no other stripe lock, so waiting for it cannot deadlock.
    async fn remove_abandoned(&self, tier: TierId, victims: Vec<Victim>) {
        let (Some(cache), Some(residency)) = (self.cache(tier), self.residency(tier)) else { return };
        for victim in victims {
            let _stripe = self.inner.stripes.lock(&victim.key).await;
            if residency.slot(object_id(&victim.key), &victim.key) == Slot::Free {
                self.delete_victim(tier, cache.as_ref(), &victim.key).await;
            }
        }
    }

    /// Copy a hot object to warm before it is evicted, if warm does not
    /// hold it and no write to the key finished since it was read.
    ///
    /// It runs inside another key's fill, whose caller holds that key's
    /// stripe lock: it takes the victim's stripe only if free (the same
    /// stripe, or one a task waiting on ours holds, would deadlock), and
    /// skips the copy otherwise (cold has the object).
    async fn demote(&self, key: &str) {
        let inner = &self.inner;
        let (Some(hot), Some(_)) = (&inner.hot, &inner.warm) else { return };
        if inner.residency[1].slot(object_id(key), key) != Slot::Free {
            return;
        }
        let ticket = inner.stripes.ticket(key);
        let Some(object) = hot.peek(key) else { return };
        if object.meta.is_expired(inner.clock.now_ms()) || !self.fits(TierId::Warm, &object) {
            return;
        }
        if let Some(_guard) = inner.stripes.try_fill_guard(ticket)
            && Box::pin(self.fill(TierId::Warm, object)).await
        {
            bump(&inner.counters.hot.demotions);
        }
    }
}
