//! The host's frequency estimate: a count-min sketch with periodic halving
//! (TinyLFU's "reset"), so the estimate favours recent popularity.
//!
//! A key is counted under its object id ([`crate::key_id`]): a hot hit
//! hands the id it already computed ([`FrequencySketch::record_id`]), so
//! counting costs no hash of its own. The id picks one block of 64 8-bit
//! counters (a cache line) and four counters inside it. Counters saturate
//! at 255.
//! After `10 × counters` recorded accesses every counter is halved. The
//! estimate of a key is the minimum of its four counters.
//!
//! **Recording is buffered.** The counters are megabytes, so an access's
//! block is rarely in cache: counting it where it happens would put a
//! memory miss on every read. An access is pushed onto one of a few small
//! stripes instead (a cached line under a lock), and a full stripe is
//! applied as a batch whose blocks are loaded together, so their misses
//! overlap. An estimate applies its key's stripe first: the stripe and the
//! block both come from the id's low bits, so every access that can touch
//! the key's counters waits in that one stripe. An access that could reach
//! the halving is applied at once, after all the buffered ones: increments
//! between two halvings commute, so a sequence of accesses and estimates
//! gives the answers unbuffered counting would.
//! (Concurrent recorders may, as before, see a halving a few accesses
//! early or late.)
//!
//! Hot hits come gathered already: the hot tier records them in its
//! shards' read buffers and the engine hands each full buffer over
//! ([`FrequencySketch::record_ids`]), applied at once. The engine's
//! estimate of a key (`TieredStore::frequency`) first hands over the
//! buffer of the key's hot shard, which holds every hit of it not yet
//! counted, so estimates still see every access before them.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::key_id::object_id;
use crate::policy::ObjectId;

const BLOCK: usize = 64;

/// Stripes of buffered accesses (by the id's low bits).
const STRIPES: usize = 16;

/// Blocks in the smallest sketch.
const MIN_BLOCKS: usize = 64;

// Ids of one block share a stripe: the stripe's bits are within the
// block's.
const _: () = assert!(STRIPES.is_power_of_two() && STRIPES <= MIN_BLOCKS);

/// Accesses a stripe holds before it is applied.
const BATCH: usize = 32;

/// A concurrent, aging frequency sketch.
#[derive(Debug)]
pub struct FrequencySketch {
    blocks: Box<[Block]>,
    block_mask: usize,
    /// Accesses applied to the counters since the last halving.
    additions: AtomicU64,
    reset_at: u64,
    /// Accesses recorded and not yet applied.
    pending: Box<[Stripe]>,
}

/// The counters of one block, on one cache line.
#[derive(Debug)]
#[repr(align(64))]
struct Block([AtomicU8; BLOCK]);

/// One stripe of buffered accesses, on cache lines of its own.
#[derive(Debug)]
#[repr(align(128))]
struct Stripe(Mutex<Batch>);

#[derive(Debug)]
struct Batch {
    ids: [ObjectId; BATCH],
    len: usize,
}

impl FrequencySketch {
    /// A sketch sized for about `expected_keys` distinct keys (at least 4 KiB).
    pub fn new(expected_keys: usize) -> Self {
        let blocks = (expected_keys.max(1) * 4 / BLOCK).next_power_of_two().max(MIN_BLOCKS);
        let len = blocks * BLOCK;
        FrequencySketch {
            blocks: (0..blocks).map(|_| Block(std::array::from_fn(|_| AtomicU8::new(0)))).collect(),
            block_mask: blocks - 1,
            additions: AtomicU64::new(0),
            reset_at: len as u64 * 10,
            pending: (0..STRIPES).map(|_| Stripe(Mutex::new(Batch { ids: [0; BATCH], len: 0 }))).collect(),
        }
    }

    /// The block of `id`, from its low bits (ids are hashes already).
    fn block(&self, id: ObjectId) -> &Block {
        &self.blocks[(id as usize) & self.block_mask]
    }

    /// The four counters of `id` in its block, from its high half.
    fn counters(&self, id: ObjectId) -> [&AtomicU8; 4] {
        let (block, bits) = (self.block(id), id >> 32);
        std::array::from_fn(|i| &block.0[(bits >> (i * 6)) as usize & (BLOCK - 1)])
    }

    /// Count one access to `key`.
    pub fn record(&self, key: &str) {
        self.record_id(object_id(key));
    }

    /// Count one access to the key of object id `id`: buffered, unless it
    /// could be the access that triggers the halving.
    pub fn record_id(&self, id: ObjectId) {
        // At most `STRIPES × BATCH` accesses wait in the stripes.
        if self.additions.load(Ordering::Relaxed) + (STRIPES * BATCH) as u64 >= self.reset_at {
            self.flush();
            self.apply(&[id]);
            return;
        }
        let full = {
            let mut batch = self.stripe_of(id).0.lock();
            let at = batch.len;
            batch.ids[at] = id;
            batch.len = (at + 1) % BATCH;
            (batch.len == 0).then(|| batch.ids)
        };
        if let Some(ids) = full {
            self.apply(&ids);
        }
    }

    /// Count accesses gathered elsewhere (the hot tier's read buffers):
    /// applied at once, after every buffered access if they could reach
    /// the halving.
    pub fn record_ids(&self, ids: &[ObjectId]) {
        if self.additions.load(Ordering::Relaxed) + (STRIPES * BATCH + ids.len()) as u64 >= self.reset_at {
            self.flush();
        }
        self.apply(ids);
    }

    /// The estimated recent access count of `key`.
    pub fn estimate(&self, key: &str) -> u32 {
        let id = object_id(key);
        self.flush_stripe(self.stripe_of(id));
        self.counters(id).iter().map(|c| c.load(Ordering::Relaxed) as u32).min().unwrap_or(0)
    }

    /// The stripe that buffers the accesses of `id` (and of every id of its
    /// block).
    fn stripe_of(&self, id: ObjectId) -> &Stripe {
        &self.pending[id as usize % STRIPES]
    }

    /// Apply every buffered access.
    fn flush(&self) {
        self.pending.iter().for_each(|stripe| self.flush_stripe(stripe));
    }

    /// Apply the accesses buffered in `stripe`.
    fn flush_stripe(&self, stripe: &Stripe) {
        let (ids, len) = {
            let mut batch = stripe.0.lock();
            (batch.ids, std::mem::take(&mut batch.len))
        };
        if len > 0 {
            self.apply(&ids[..len]);
        }
    }

    /// Count `ids` in order, halving where the count reaches the period.
    fn apply(&self, ids: &[ObjectId]) {
        // Load each block once before any increment: the loads miss in
        // parallel, and the increments (each a fence) find them cached.
        let touched = ids.iter().fold(0u8, |acc, &id| acc | self.block(id).0[0].load(Ordering::Relaxed));
        std::hint::black_box(touched);
        let n = ids.len() as u64;
        let before = self.additions.fetch_add(n, Ordering::Relaxed);
        if before >= self.reset_at || before + n < self.reset_at {
            ids.iter().for_each(|&id| self.increment(id));
            return;
        }
        // The access that reaches the period is counted, then the halving.
        let (upto, after) = ids.split_at((self.reset_at - before) as usize);
        upto.iter().for_each(|&id| self.increment(id));
        self.halve();
        self.additions.fetch_add(after.len() as u64, Ordering::Relaxed);
        after.iter().for_each(|&id| self.increment(id));
    }

    fn increment(&self, id: ObjectId) {
        for c in self.counters(id) {
            if c.load(Ordering::Relaxed) < u8::MAX {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn halve(&self) {
        for c in self.blocks.iter().flat_map(|b| &b.0) {
            let v = c.load(Ordering::Relaxed);
            c.store(v / 2, Ordering::Relaxed);
        }
        self.additions.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_ages() {
        let s = FrequencySketch::new(16);
        for _ in 0..5 {
            s.record("a");
        }
        s.record("b");
        assert!(s.estimate("a") >= 5);
        assert!(s.estimate("b") >= 1 && s.estimate("b") < s.estimate("a"));
        assert_eq!(s.estimate("never"), 0);
        let before = s.estimate("a");
        for i in 0..s.reset_at {
            s.record(&format!("noise{}", i % 7));
        }
        assert!(s.estimate("a") < before, "counters are halved after the sample period");
    }

    #[test]
    fn buffered_accesses_halve_at_the_same_access_as_unbuffered_ones() {
        let s = FrequencySketch::new(16);
        let noise: Vec<ObjectId> = (0..7).map(|i| object_id(&format!("noise{i}"))).collect();
        for _ in 0..5 {
            s.record("a");
        }
        // No estimate until the last access before the halving: every
        // access so far may still wait in a stripe.
        for i in 0..s.reset_at - 6 {
            s.record_id(noise[i as usize % noise.len()]);
        }
        assert_eq!(s.estimate("a"), 5, "{} accesses: not halved yet", s.reset_at - 1);
        s.record_id(noise[0]);
        assert_eq!(s.estimate("a"), 2, "the access that completes the period halves");
        assert_eq!(s.additions.load(Ordering::Relaxed), 0);
    }

    /// Counting without buffers: each access applied where it happens.
    struct Unbuffered(FrequencySketch);

    impl Unbuffered {
        fn record(&self, id: ObjectId) {
            self.0.apply(&[id]);
        }

        fn estimate(&self, id: ObjectId) -> u32 {
            self.0.counters(id).iter().map(|c| c.load(Ordering::Relaxed) as u32).min().unwrap_or(0)
        }
    }

    #[test]
    fn estimates_between_buffered_accesses_are_those_of_unbuffered_counting() {
        // A small sketch, so blocks are shared and it halves four times,
        // with estimates after each; estimates of one key at a time, while
        // other stripes hold accesses.
        let keys: Vec<String> = (0..3_000).map(|i| format!("key/{i}")).collect();
        let buffered = FrequencySketch::new(64);
        let plain = Unbuffered(FrequencySketch::new(64));
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let (mut compared, mut counted, mut recorded) = (0, 0, 0);
        for step in 0.. {
            if recorded == 4 * buffered.reset_at + buffered.reset_at / 2 {
                break;
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Skewed over every key: low indices far more often.
            let key = &keys[((x >> 11) % (1 + (x >> 40) % keys.len() as u64)) as usize];
            if step % 5 == 0 {
                let estimate = buffered.estimate(key);
                assert_eq!(estimate, plain.estimate(object_id(key)), "{key} at {step}");
                compared += 1;
                counted += u64::from(estimate > 0);
            } else {
                buffered.record(key);
                plain.record(object_id(key));
                recorded += 1;
            }
        }
        assert!(compared > 1000 && counted > compared / 2, "{counted} of {compared} estimates above 0");
    }

    #[test]
    fn gathered_batches_count_as_if_each_access_were_applied_when_handed_over() {
        // Some accesses arrive in gathered batches of 32 (the hot tier's
        // read buffers), the rest one by one; across four halvings, an
        // estimate equals unbuffered counting of everything handed over.
        let keys: Vec<String> = (0..2_000).map(|i| format!("key/{i}")).collect();
        let buffered = FrequencySketch::new(64);
        let plain = Unbuffered(FrequencySketch::new(64));
        let mut gathered = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let (mut compared, mut recorded) = (0, 0);
        for step in 0.. {
            if recorded >= 4 * buffered.reset_at + buffered.reset_at / 2 {
                break;
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = &keys[((x >> 11) % (1 + (x >> 40) % keys.len() as u64)) as usize];
            match step % 6 {
                0 => {
                    assert_eq!(buffered.estimate(key), plain.estimate(object_id(key)), "{key} at {step}");
                    compared += 1;
                }
                1 | 2 => {
                    gathered.push(object_id(key));
                    if gathered.len() == 32 {
                        buffered.record_ids(&gathered);
                        gathered.iter().for_each(|&id| plain.record(id));
                        recorded += gathered.len() as u64;
                        gathered.clear();
                    }
                }
                _ => {
                    buffered.record(key);
                    plain.record(object_id(key));
                    recorded += 1;
                }
            }
        }
        assert!(compared > 1000);
    }

    #[test]
    fn an_estimate_sees_every_access_recorded_before_it() {
        let s = FrequencySketch::new(1 << 20);
        let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            for _ in 0..=i % 9 {
                s.record(k);
            }
        }
        for (i, k) in keys.iter().enumerate() {
            assert!(s.estimate(k) > (i % 9) as u32, "{k}");
        }
    }
}
