//! The LRU baseline: the same tiers and byte budgets as the replay, each a
//! native least-recently-used cache, with no policy.
//!
//! It mirrors the engine's cascade without its policy: a get is served by the
//! highest tier holding the key and copies the object into every tier above
//! (a cold hit fills hot and warm, a warm hit fills hot); a set replaces the
//! object everywhere; a delete removes it. Objects larger than a tier's whole
//! budget skip that tier, as in the engine. Sizes are footprints (value plus
//! metadata), the bytes the engine's tiers count.

use lru::LruCache;

use super::replay::{S3Counts, Served, Tiers};
use super::trace::{Op, Trace};

/// What the LRU baseline produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LruRun {
    pub gets: u64,
    pub get_bytes: u64,
    /// Gets served by hot, warm, cold.
    pub served: [Served; 3],
    pub not_found: Served,
    pub s3: S3Counts,
}

/// One byte-bounded LRU tier of key indices.
struct LruTier {
    map: LruCache<u32, u64>,
    bytes: u64,
    capacity: u64,
}

impl LruTier {
    fn new(capacity: u64) -> Self {
        LruTier { map: LruCache::unbounded(), bytes: 0, capacity }
    }

    /// Whether `key` is resident (and now the most recently used).
    fn touch(&mut self, key: u32) -> bool {
        self.map.get(&key).is_some()
    }

    fn insert(&mut self, key: u32, footprint: u64) {
        if footprint > self.capacity {
            return;
        }
        if let Some((_, old)) = self.map.push(key, footprint) {
            self.bytes -= old;
        }
        self.bytes += footprint;
        while self.bytes > self.capacity {
            match self.map.pop_lru() {
                Some((_, gone)) => self.bytes -= gone,
                None => break,
            }
        }
    }

    fn remove(&mut self, key: u32) {
        if let Some(gone) = self.map.pop(&key) {
            self.bytes -= gone;
        }
    }
}

/// Replays `trace` through native LRU tiers. `overheads[k]` is the metadata
/// footprint of key `k` (its value's size is added per request).
pub fn run(trace: &Trace, tiers: Tiers, overheads: &[u64]) -> LruRun {
    let mut hot = LruTier::new(tiers.hot_bytes);
    let mut warm = LruTier::new(tiers.warm_bytes);
    let mut sizes = trace.first_sizes();
    let mut deleted = vec![false; trace.keys.len()];
    let mut run = LruRun::default();
    for r in &trace.requests {
        let k = r.key as usize;
        match r.op {
            Op::Get => {
                run.gets += 1;
                run.get_bytes += r.size;
                let size = sizes[k];
                let footprint = overheads[k] + size;
                let tier = if hot.touch(r.key) {
                    0
                } else if warm.touch(r.key) {
                    hot.insert(r.key, footprint);
                    1
                } else if deleted[k] {
                    run.not_found.gets += 1;
                    run.not_found.bytes += r.size;
                    write(&mut run.s3, &mut hot, &mut warm, r.key, overheads[k] + r.size, r.size);
                    (sizes[k], deleted[k]) = (r.size, false);
                    continue;
                } else {
                    run.s3.gets += 1;
                    run.s3.get_bytes += size;
                    hot.insert(r.key, footprint);
                    warm.insert(r.key, footprint);
                    2
                };
                run.served[tier].gets += 1;
                run.served[tier].bytes += size;
            }
            Op::Set => {
                write(&mut run.s3, &mut hot, &mut warm, r.key, overheads[k] + r.size, r.size);
                (sizes[k], deleted[k]) = (r.size, false);
            }
            Op::Delete => {
                run.s3.deletes += 1;
                hot.remove(r.key);
                warm.remove(r.key);
                deleted[k] = true;
            }
        }
    }
    run
}

/// A write: one PUT, the object replaced in both tiers.
fn write(s3: &mut S3Counts, hot: &mut LruTier, warm: &mut LruTier, key: u32, footprint: u64, size: u64) {
    s3.puts += 1;
    s3.put_bytes += size;
    for tier in [hot, warm] {
        tier.remove(key);
        tier.insert(key, footprint);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn lru(csv: &str, hot: u64, warm: u64) -> LruRun {
        let trace = Trace::parse_csv(Cursor::new(csv)).expect("valid trace");
        let overheads = vec![0; trace.keys.len()];
        run(
            &trace,
            Tiers {
                hot_bytes: hot,
                warm_bytes: warm,
                mode: crate::sim::replay::Mode::Exact,
                hit_buffer: 1,
                drop_hits: 0.0,
            },
            &overheads,
        )
    }

    #[test]
    fn the_least_recently_used_object_leaves_first() {
        // Room for two: a b a c (evicts b) a b.
        let r = lru("1,a,1\n2,b,1\n3,a,1\n4,c,1\n5,a,1\n6,b,1\n", 2, 0);
        assert_eq!(r.served.map(|s| s.gets), [2, 0, 4]);
        assert_eq!((r.s3.gets, r.s3.get_bytes), (4, 4));
    }

    #[test]
    fn a_hot_miss_is_served_by_warm_and_copied_up() {
        let r = lru("1,a,1\n2,b,1\n3,a,1\n4,a,1\n", 1, 10);
        assert_eq!(r.served.map(|s| s.gets), [1, 1, 2]);
    }

    #[test]
    fn writes_and_deletes_reach_s3_and_a_deleted_key_is_refilled() {
        let r = lru("1,a,5,set\n2,a,5\n3,a,0,delete\n4,a,5\n5,a,5\n", 10, 0);
        assert_eq!((r.s3.puts, r.s3.deletes, r.s3.gets), (2, 1, 0));
        assert_eq!((r.served[0].gets, r.not_found.gets), (2, 1));
    }
}
