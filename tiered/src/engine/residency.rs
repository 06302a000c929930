//! What each cache tier holds, as the eviction order sees it: object ids,
//! the events an ordered policy is fed, and the host's own order.
//!
//! One [`Residency`] per cache tier, kept by the engine beside the tier:
//! - **ids**: [`object_id`], a seeded 64-bit hash of the key (the one hash a
//!   hot hit computes: [`crate::key_id`]). Two keys with
//!   one id cannot both be cached in a tier: the newcomer is not cached
//!   there ([`Residency::insert`] answers `false`), so an id the policy names
//!   always means one object.
//! - **events**: hits are buffered on the read path in bounded stripes
//!   (a hot tier's hits arrive in batches gathered by its shards: one
//!   stripe lock per batch); arrivals, removals and the host's own
//!   evictions go to a list that is never dropped.
//!   [`Residency::take_events`] drains both, hits first, before every call
//!   of the policy about this tier. Hits that fill their stripe ask for a
//!   delivery of their own (`TieredStore::note_hits`, which skips it when
//!   another thread is delivering); hits that find their stripe full are
//!   dropped and counted. In *exact* mode
//!   (`simulate`, one thread) every event goes to that list in the order it
//!   happened.
//! - **the host's order**: CLOCK over arrival order, a hit setting the
//!   object's bit when its event is drained. It evicts for a policy that
//!   keeps no order, makes up a short or wrong answer, and takes over while
//!   a policy is failing.
//! - **validation** of the victims a policy names: resident in this tier,
//!   named once, not the arriving object.
//!
//! The tier itself (memory map, files) stays the truth about bytes: budgets
//! are checked against its usage, and a key this table has and the tier
//! lost (or the reverse) only costs a wasted or missed eviction.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

pub(crate) use crate::key_id::object_id;
use crate::policy::order::{ARRIVAL, HIT, HOST_EVICTION, REMOVAL};
use crate::policy::{Events, ObjectId, TierId};
// Ids are hashes already: the default policy's maps only spread them.
use tiered_default_policy::ids::IdMap;

/// Hit stripes per tier in the service.
const STRIPES: usize = 16;

/// Residents per hand-over batch.
pub(crate) const HANDOVER_CHUNK: usize = 4096;

/// The largest batch whose buffers are kept for the next one.
const RECYCLED_EVENTS: usize = 4096;

/// A resident object.
#[derive(Debug)]
struct Entry {
    key: Box<str>,
    footprint: u64,
    class: u8,
    stamp: u32,
    /// Read since the host's order last passed it.
    referenced: bool,
    /// Fills of this key still writing the copy ([`Residency::filling`]):
    /// while any is, the entry is no victim.
    writers: u16,
}

#[derive(Debug)]
struct Table {
    entries: IdMap<Entry>,
    /// The host's CLOCK, in arrival order; stale `(id, stamp)` pairs are
    /// skipped.
    clock: VecDeque<(ObjectId, u32)>,
    next_stamp: u32,
    /// Events not yet delivered (all of them in exact mode; arrivals,
    /// removals and host evictions otherwise).
    pending: Events,
    /// The buffers of a delivered batch, given back ([`Residency::recycle`])
    /// for the next one, so a call does not allocate its columns afresh.
    spare: Events,
    /// Drops of the gathered hits ([`Residency::absorb`]), as a stripe
    /// counts its own.
    drops: Drops,
}

/// Hit events dropped: on purpose ([`Residency::dropping`]) and, in a
/// stripe, because its buffer was full.
#[derive(Debug, Default)]
struct Drops {
    /// Hits seen while dropping on purpose, for the draw.
    seen: u64,
    dropped: u64,
}

impl Drops {
    /// Whether this hit, of `id`, is one of the `share` (out of 2^32)
    /// dropped on purpose (counted): a fixed pseudo-random draw per (id,
    /// hit), so runs repeat.
    fn on_purpose(&mut self, share: u64, id: ObjectId) -> bool {
        if share == 0 {
            return false;
        }
        self.seen += 1;
        let drop = (id ^ self.seen).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32 < share;
        self.dropped += u64::from(drop);
        drop
    }
}

/// One stripe of buffered hits, on cache lines of its own.
#[derive(Debug)]
#[repr(align(128))]
struct HitStripe(Mutex<Hits>);

#[derive(Debug)]
struct Hits {
    ids: Vec<ObjectId>,
    /// Counted under the stripe's lock: the hit path touches no shared
    /// counter.
    drops: Drops,
}

impl HitStripe {
    fn new(capacity: usize) -> HitStripe {
        HitStripe(Mutex::new(Hits { ids: Vec::with_capacity(capacity), drops: Drops::default() }))
    }
}

/// An object taken out of the table to be evicted.
#[derive(Debug)]
pub(crate) struct Victim {
    pub(crate) key: Box<str>,
    pub(crate) footprint: u64,
}

/// Where a key stands in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Free,
    /// This key is resident (an overwrite or a repeated fill).
    Same,
    /// Another key with the same id is resident.
    Collision,
}

/// Where a tier's order stands with the policy (behind
/// [`Residency::order`]).
#[derive(Debug, Default)]
pub(crate) struct OrderSync {
    /// The `(policy epoch, order generation)` the residents were last
    /// handed over for; `None` until the first hand-over.
    pub(crate) synced: Option<(u64, u64)>,
    /// Calls delivered since the policy's count of residents was checked.
    pub(crate) calls: u64,
}

/// One cache tier's residents, events and host order.
#[derive(Debug)]
pub(crate) struct Residency {
    exact: bool,
    table: Mutex<Table>,
    hits: Box<[HitStripe]>,
    hit_capacity: usize,
    /// Hits in a stripe at which it is due for delivery (`hit_capacity`
    /// unless delivered by another thread, which needs room meanwhile).
    deliver_at: usize,
    /// Hits dropped on purpose, out of 2^32 (`StoreConfig::drop_hits`).
    drop_share: u64,
    /// Whether the policy keeps an order (events are recorded for it).
    listening: AtomicBool,
    /// Held while this tier's events are taken and delivered to the
    /// policy: one delivery at a time, so the policy sees the batches in
    /// the order they were taken.
    pub(crate) order: Mutex<OrderSync>,
}

impl Residency {
    /// A table for `tier`; `exact` keeps every event in one ordered list,
    /// else hits go to stripes of `hit_capacity` each.
    pub(crate) fn new(tier: TierId, exact: bool, hit_capacity: usize) -> Residency {
        let stripes = if exact { 0 } else { STRIPES };
        Residency {
            exact,
            table: Mutex::new(Table {
                entries: IdMap::default(),
                clock: VecDeque::new(),
                next_stamp: 0,
                pending: Events::new(tier),
                spare: Events::new(tier),
                drops: Drops::default(),
            }),
            hits: (0..stripes).map(|_| HitStripe::new(hit_capacity)).collect(),
            hit_capacity,
            deliver_at: hit_capacity,
            drop_share: 0,
            listening: AtomicBool::new(false),
            order: Mutex::new(OrderSync::default()),
        }
    }

    /// This table, dropping `share` (0 to 1) of its hit events on purpose,
    /// as a full stripe would (counted as dropped; never in exact mode).
    pub(crate) fn dropping(mut self, share: f64) -> Residency {
        self.drop_share = (share.clamp(0.0, 1.0) * (1u64 << 32) as f64) as u64;
        self
    }

    /// This table, asking for delivery when a stripe holds `hits` (at most
    /// its capacity): a stripe another thread delivers keeps taking hits
    /// while that thread comes.
    pub(crate) fn delivering_at(mut self, hits: usize) -> Residency {
        self.deliver_at = hits.clamp(1, self.hit_capacity);
        self
    }

    /// Record events for a policy that keeps an order (or stop).
    pub(crate) fn listen(&self, on: bool) {
        if self.listening.swap(on, Ordering::Relaxed) != on && !on {
            self.table.lock().pending.clear();
        }
    }

    /// Whether events are recorded: the policy keeps an order.
    pub(crate) fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    /// Hit events dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.hits.iter().map(|s| s.0.lock().drops.dropped).sum::<u64>() + self.table.lock().drops.dropped
    }

    /// Objects resident.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.lock().entries.len()
    }

    /// A read of `key` served by this tier; `true` when its stripe is due
    /// (the hits should be delivered).
    #[cfg(test)]
    pub(crate) fn hit(&self, key: &str) -> bool {
        self.hits(&[object_id(key)])
    }

    /// Reads served by this tier of the objects of ids `ids`, in order: in
    /// exact mode applied at once; otherwise pushed onto one stripe (the
    /// first id's) under one lock. `true` when the stripe is at or past
    /// its delivery mark (the hits should be delivered).
    pub(crate) fn hits(&self, ids: &[ObjectId]) -> bool {
        let Some(&first) = ids.first() else { return false };
        if self.exact {
            let listening = self.listening();
            let mut table = self.table.lock();
            ids.iter().for_each(|&id| apply_hit(&mut table, id, listening));
            return false;
        }
        let mut stripe = self.hits[(first as usize) % STRIPES].0.lock();
        for &id in ids {
            if stripe.drops.on_purpose(self.drop_share, id) {
                continue;
            }
            if stripe.ids.len() < self.hit_capacity {
                stripe.ids.push(id);
            } else {
                stripe.drops.dropped += 1;
            }
        }
        // At or past the mark, not only on reaching it: a delivery that
        // could not start then (its order lock busy) is asked for again.
        stripe.ids.len() >= self.deliver_at
    }

    /// Hits gathered for a delivery about to be made (the hot shards' read
    /// buffers, [`TieredStore::gather_reads`](super::TieredStore)), applied
    /// after the stripes' without passing through them: a stripe already
    /// near full would drop them.
    pub(crate) fn absorb(&self, ids: &[ObjectId]) {
        let listening = self.listening();
        let mut table = self.table.lock();
        self.drain_hits(&mut table, listening);
        for &id in ids {
            if !table.drops.on_purpose(self.drop_share, id) {
                apply_hit(&mut table, id, listening);
            }
        }
    }

    /// The events since the last call, hits first (in exact mode: in order).
    /// Give the batch back with [`recycle`](Self::recycle) once delivered.
    pub(crate) fn take_events(&self) -> Events {
        let listening = self.listening();
        let mut table = self.table.lock();
        self.drain_hits(&mut table, listening);
        Self::take_pending(&mut table)
    }

    /// [`take_events`](Self::take_events), with the residents' count once
    /// they are applied.
    pub(crate) fn take_events_counted(&self) -> (Events, u64) {
        let listening = self.listening();
        let mut table = self.table.lock();
        self.drain_hits(&mut table, listening);
        let residents = table.entries.len() as u64;
        (Self::take_pending(&mut table), residents)
    }

    /// The pending events, the spare buffers put in their place.
    fn take_pending(table: &mut Table) -> Events {
        let spare = std::mem::replace(&mut table.spare, Events::new(table.pending.tier));
        std::mem::replace(&mut table.pending, spare)
    }

    /// Gives back the buffers of a batch [`take_events`](Self::take_events)
    /// took, once delivered: the next batch fills them. A batch larger
    /// than [`RECYCLED_EVENTS`] (a burst) is freed instead.
    pub(crate) fn recycle(&self, mut events: Events) {
        if events.capacity() > RECYCLED_EVENTS {
            return;
        }
        events.clear();
        let mut table = self.table.lock();
        if events.capacity() > table.spare.capacity() {
            table.spare = events;
        }
    }

    fn drain_hits(&self, table: &mut Table, listening: bool) {
        for stripe in self.hits.iter() {
            let mut ids = std::mem::take(&mut stripe.0.lock().ids);
            for &id in &ids {
                apply_hit(table, id, listening);
            }
            let mut stripe = stripe.0.lock();
            if stripe.ids.is_empty() {
                // Give the buffer back so the next hits do not allocate.
                ids.clear();
                stripe.ids = ids;
            }
        }
    }

    /// Where `key` (of id `id`) stands.
    pub(crate) fn slot(&self, id: ObjectId, key: &str) -> Slot {
        match self.table.lock().entries.get(&id) {
            None => Slot::Free,
            Some(e) if &*e.key == key => Slot::Same,
            Some(_) => Slot::Collision,
        }
    }

    /// Record `key` as resident. `announce`: the policy was not asked about
    /// it, so an arrival event tells it. `false` on an id collision (the
    /// object must not be cached in this tier).
    pub(crate) fn insert(&self, id: ObjectId, key: &str, footprint: u64, class: u8, announce: bool) -> bool {
        self.add(id, key, footprint, class, announce, false)
    }

    /// [`insert`](Self::insert) for a copy about to be written: the entry
    /// is no victim, for the policy or the host's order, until
    /// [`written`](Self::written) says the write is over (an eviction in
    /// between would delete a copy the fill then completes, leaving bytes
    /// in the tier that no entry accounts for).
    pub(crate) fn filling(&self, id: ObjectId, key: &str, footprint: u64, class: u8, announce: bool) -> bool {
        self.add(id, key, footprint, class, announce, true)
    }

    /// A fill of `key` that [`filling`](Self::filling) recorded is over
    /// (written, failed or abandoned).
    pub(crate) fn written(&self, id: ObjectId, key: &str) {
        if let Some(e) = self.table.lock().entries.get_mut(&id).filter(|e| &*e.key == key) {
            e.writers = e.writers.saturating_sub(1);
        }
    }

    fn add(&self, id: ObjectId, key: &str, footprint: u64, class: u8, announce: bool, writing: bool) -> bool {
        let listening = self.listening();
        let mut table = self.table.lock();
        let stamp = table.next_stamp;
        table.next_stamp = stamp.wrapping_add(1);
        // The same key again (a fill racing another) replaces its entry: the
        // policy either admitted it just now or hears of it as an arrival,
        // which a policy must accept for an id it holds. A removal event
        // here would reach it after its admission and undo it. The fills
        // still writing it carry over.
        let writers = match table.entries.get(&id) {
            Some(old) if &*old.key != key => return false,
            Some(old) => old.writers,
            None => 0,
        } + u16::from(writing);
        let entry = Entry { key: key.into(), footprint, class, stamp, referenced: false, writers };
        table.entries.insert(id, entry);
        table.clock.push_back((id, stamp));
        if table.clock.len() > 2 * table.entries.len() + 1024 {
            // Victims named by the policy leave stale pairs behind.
            let Table { clock, entries, .. } = &mut *table;
            clock.retain(|(id, stamp)| entries.get(id).is_some_and(|e| e.stamp == *stamp));
        }
        if announce && listening {
            table.pending.push(ARRIVAL, id, footprint, class);
        }
        true
    }

    /// `key` left the tier (deleted, overwritten, expired, a failed fill).
    pub(crate) fn remove(&self, key: &str) {
        let id = object_id(key);
        let listening = self.listening();
        let mut table = self.table.lock();
        if table.entries.get(&id).is_some_and(|e| &*e.key == key) {
            let e = table.entries.remove(&id).expect("checked above");
            if listening {
                table.pending.push(REMOVAL, id, e.footprint, e.class);
            }
        }
    }

    /// Every key starting with `prefix` left the tier.
    pub(crate) fn remove_prefix(&self, prefix: &str) {
        let listening = self.listening();
        let mut table = self.table.lock();
        let gone: Vec<ObjectId> =
            table.entries.iter().filter(|(_, e)| e.key.starts_with(prefix)).map(|(&id, _)| id).collect();
        for id in gone {
            let e = table.entries.remove(&id).expect("listed above");
            if listening {
                table.pending.push(REMOVAL, id, e.footprint, e.class);
            }
        }
    }

    /// The tier was emptied.
    pub(crate) fn clear(&self) {
        let listening = self.listening();
        let mut table = self.table.lock();
        let entries = std::mem::take(&mut table.entries);
        table.clock.clear();
        if listening {
            for (id, e) in entries {
                table.pending.push(REMOVAL, id, e.footprint, e.class);
            }
        }
    }

    /// Take the victims a policy named out of the table: each must be
    /// resident, named once, not being written and not `arriving`. Returns the valid ones and
    /// how many were rejected.
    pub(crate) fn take_named(&self, named: &[ObjectId], arriving: Option<ObjectId>) -> (Vec<Victim>, u64) {
        let mut table = self.table.lock();
        let mut victims = Vec::with_capacity(named.len());
        let mut rejected = 0;
        for &id in named {
            if Some(id) == arriving {
                rejected += 1;
                continue;
            }
            // A second mention finds the entry gone: rejected too; so is a
            // copy still being written.
            if table.entries.get(&id).is_none_or(|e| e.writers > 0) {
                rejected += 1;
                continue;
            }
            let e = table.entries.remove(&id).expect("found above");
            victims.push(Victim { key: e.key, footprint: e.footprint });
        }
        (victims, rejected)
    }

    /// Victims by the host's CLOCK, freeing at least `need` bytes (or
    /// everything but `keep`), each reported to a listening policy.
    pub(crate) fn take_by_clock(&self, need: u64, keep: Option<ObjectId>) -> Vec<Victim> {
        let listening = self.listening();
        let mut table = self.table.lock();
        self.drain_hits(&mut table, listening);
        let mut victims = Vec::new();
        let mut freed = 0;
        // Each live entry is passed at most twice (once to clear its bit).
        let mut budget = 2 * table.clock.len() + 1;
        while freed < need && budget > 0 {
            budget -= 1;
            let Some((id, stamp)) = table.clock.pop_front() else { break };
            let Some(entry) = table.entries.get_mut(&id) else { continue };
            if entry.stamp != stamp {
                continue;
            }
            if entry.referenced || entry.writers > 0 || Some(id) == keep {
                entry.referenced = false;
                table.clock.push_back((id, stamp));
                continue;
            }
            let e = table.entries.remove(&id).expect("found above");
            if listening {
                table.pending.push(HOST_EVICTION, id, e.footprint, e.class);
            }
            freed += e.footprint;
            victims.push(Victim { key: e.key, footprint: e.footprint });
        }
        victims
    }

    /// Every resident as arrival events, in batches of [`HANDOVER_CHUNK`],
    /// for a policy whose order was lost or is new; events not yet
    /// delivered are superseded and dropped.
    pub(crate) fn handover(&self, tier: TierId) -> Vec<Events> {
        let listening = self.listening();
        let mut table = self.table.lock();
        self.drain_hits(&mut table, listening);
        table.pending.clear();
        let mut batches = Vec::new();
        let mut batch = Events::new(tier);
        // Arrival order, so an order that cares sees the oldest first.
        for &(id, stamp) in &table.clock {
            if let Some(e) = table.entries.get(&id).filter(|e| e.stamp == stamp) {
                batch.push(ARRIVAL, id, e.footprint, e.class);
                if batch.len() == HANDOVER_CHUNK {
                    batches.push(batch.take());
                }
            }
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        batches
    }
}

fn apply_hit(table: &mut Table, id: ObjectId, listening: bool) {
    if let Some(e) = table.entries.get_mut(&id) {
        e.referenced = true;
        if listening {
            let (footprint, class) = (e.footprint, e.class);
            table.pending.push(HIT, id, footprint, class);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(exact: bool) -> Residency {
        let r = Residency::new(TierId::Hot, exact, 4);
        r.listen(true);
        r
    }

    #[test]
    fn events_come_out_in_the_order_they_happened_in_exact_mode() {
        let r = table(true);
        assert!(r.insert(object_id("a"), "a", 10, 1, true));
        r.hit("a");
        r.remove("a");
        let e = r.take_events();
        assert_eq!(e.kind, vec![ARRIVAL, HIT, REMOVAL]);
        assert_eq!(e.id, vec![object_id("a"); 3]);
        assert_eq!(e.class, vec![1; 3]);
        assert!(r.take_events().is_empty());
    }

    #[test]
    fn a_recycled_batch_lends_its_buffers_and_loses_no_event() {
        let r = table(true);
        let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        for key in ["a", "b"].into_iter().chain(keys.iter().map(String::as_str)) {
            assert!(r.insert(object_id(key), key, 10, 0, true));
        }
        let first = r.take_events();
        assert_eq!(first.len(), 102);
        let lent = first.capacity();
        // An event noted while the batch is out is kept for the next one.
        r.hit("a");
        r.recycle(first);
        let second = r.take_events();
        assert_eq!((second.kind.as_slice(), second.id.as_slice()), (&[HIT][..], &[object_id("a")][..]));
        r.recycle(second);
        r.remove("b");
        let third = r.take_events();
        assert_eq!(third.kind, vec![REMOVAL]);
        assert!(third.capacity() >= lent, "the first batch's buffers came back: {} < {lent}", third.capacity());
    }

    #[test]
    fn a_full_hit_stripe_drops_and_counts() {
        let r = table(false);
        r.insert(object_id("a"), "a", 1, 0, false);
        let filled: Vec<bool> = (0..10).map(|_| r.hit("a")).collect();
        // Due from the fourth hit on: each later one asks again.
        assert_eq!(filled, [false, false, false, true, true, true, true, true, true, true]);
        assert_eq!(r.dropped(), 6);
        assert_eq!(r.take_events().len(), 4);
    }

    #[test]
    fn a_batch_of_hits_fills_one_stripe_and_drops_what_does_not_fit() {
        let r = table(false);
        let (a, b) = (object_id("a"), object_id("b"));
        r.insert(a, "a", 1, 0, false);
        r.insert(b, "b", 1, 0, false);
        // A batch goes to its first id's stripe, whatever the others' are.
        assert!(!r.hits(&[a, b, a]), "three of four");
        assert!(r.hits(&[a, b, b]), "the fourth fills the stripe");
        assert_eq!(r.dropped(), 2);
        let e = r.take_events();
        assert_eq!(e.kind, vec![HIT; 4]);
        assert_eq!(e.id, vec![a, b, a, a]);
        assert!(!r.hits(&[]));
    }

    #[test]
    fn deliberate_drops_take_their_share_and_repeat() {
        let run = || {
            let r = Residency::new(TierId::Hot, false, 1 << 20).dropping(0.25);
            r.listen(true);
            let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
            for k in &keys {
                r.insert(object_id(k), k, 1, 0, false);
            }
            for i in 0..40_000 {
                r.hit(&keys[i % keys.len()]);
            }
            (r.dropped(), r.take_events().len())
        };
        let (dropped, delivered) = run();
        assert_eq!(dropped as usize + delivered, 40_000);
        assert!((9_000..11_000).contains(&dropped), "about a quarter dropped: {dropped}");
        assert_eq!(run(), (dropped, delivered), "the same hits are dropped run to run");
    }

    #[test]
    fn named_victims_are_checked() {
        let r = table(true);
        for k in ["a", "b", "c"] {
            r.insert(object_id(k), k, 5, 0, false);
        }
        let named = [object_id("a"), object_id("a"), 42, object_id("c"), object_id("b")];
        let (victims, rejected) = r.take_named(&named, Some(object_id("b")));
        let keys: Vec<&str> = victims.iter().map(|v| &*v.key).collect();
        assert_eq!(keys, ["a", "c"]);
        assert_eq!(rejected, 3, "a twice, an unknown id, the arriving object");
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn the_clock_spares_what_was_read_and_reports_what_it_evicts() {
        let r = table(true);
        for k in ["a", "b", "c"] {
            r.insert(object_id(k), k, 5, 0, false);
        }
        r.hit("a");
        r.take_events();
        let victims = r.take_by_clock(6, None);
        let keys: Vec<&str> = victims.iter().map(|v| &*v.key).collect();
        assert_eq!(keys, ["b", "c"]);
        let e = r.take_events();
        assert_eq!(e.kind, vec![HOST_EVICTION, HOST_EVICTION]);
        // Asked for more than there is, it stops after everything is gone.
        assert_eq!(r.take_by_clock(100, None).len(), 1);
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn a_key_filled_again_is_one_resident_with_no_removal_event() {
        let r = table(true);
        assert!(r.insert(7, "a", 1, 0, true));
        assert!(r.insert(7, "a", 2, 0, true));
        let e = r.take_events();
        assert_eq!(e.kind, vec![ARRIVAL, ARRIVAL]);
        assert_eq!(e.size, vec![1, 2]);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_copy_being_written_is_no_victim_until_every_fill_of_it_is_over() {
        let r = table(true);
        let (a, b) = (object_id("a"), object_id("b"));
        assert!(r.filling(a, "a", 5, 0, false));
        r.insert(b, "b", 5, 0, false);
        // Named by the policy: rejected, and still resident.
        let (victims, rejected) = r.take_named(&[a], None);
        assert!(victims.is_empty());
        assert_eq!(rejected, 1);
        assert_eq!(r.len(), 2);
        // The host's order passes over it too, and takes what it can.
        let keys: Vec<Box<str>> = r.take_by_clock(10, None).into_iter().map(|v| v.key).collect();
        assert_eq!(keys, [Box::from("b")]);
        // Two fills racing on one key: both must end.
        assert!(r.filling(a, "a", 5, 0, false));
        r.written(a, "a");
        assert_eq!(r.take_named(&[a], None).1, 1, "one fill of it is still writing");
        r.written(a, "a");
        let (victims, rejected) = r.take_named(&[a], None);
        assert_eq!((victims.len(), rejected), (1, 0));
        // A fill that outlives its entry (a failed write dropped it) changes nothing.
        r.written(a, "a");
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn a_colliding_key_is_not_cached() {
        let r = table(true);
        assert!(r.insert(7, "a", 1, 0, false));
        assert_eq!(r.slot(7, "b"), Slot::Collision);
        assert!(!r.insert(7, "b", 1, 0, false));
        assert_eq!(r.slot(7, "a"), Slot::Same);
    }

    #[test]
    fn a_handover_lists_every_resident_in_arrival_order() {
        let r = table(true);
        for i in 0..(HANDOVER_CHUNK + 3) {
            let k = format!("k{i}");
            r.insert(object_id(&k), &k, 1, 0, false);
        }
        r.remove("k0");
        let batches = r.handover(TierId::Hot);
        assert_eq!(batches.iter().map(Events::len).collect::<Vec<_>>(), [HANDOVER_CHUNK, 2]);
        assert_eq!(batches[0].id[0], object_id("k1"));
        assert!(r.take_events().is_empty(), "the hand-over supersedes pending events");
    }
}
