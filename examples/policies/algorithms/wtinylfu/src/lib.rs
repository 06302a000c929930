//! # W-TinyLFU: window TinyLFU
//!
//! A small LRU *window* in front of a large *main* cache (a segmented LRU),
//! and an approximate frequency histogram (TinyLFU, a counting sketch) as
//! the main cache's gatekeeper: every arrival enters the window; the
//! window's oldest object enters main only if the sketch rates it more
//! frequent than the object main would evict for it, else it leaves. The
//! window lets bursts of new objects build a frequency; the sketch keeps
//! one-hit wonders out of main; halving every counter now and then (the
//! reset) ages old frequencies. G. Einziger, R. Friedman, B. Manes,
//! "TinyLFU: A Highly Efficient Cache Admission Policy", ACM Transactions
//! on Storage 13(4), 2017.
//!
//! Follows libCacheSim's `WTinyLFU.c` (0.3.5) step by step, in bytes:
//!
//! - sizes: the window is `⌊window-size × cache⌋` libCacheSim bytes, main
//!   the rest, split into probation and protected segments
//!   `⌊0.2 × main⌋` and `⌊0.8 × main⌋` ([`slru`], `protected-ratio`); the
//!   window's size is only an admission bound: an object larger than it,
//!   or than the probation segment, is refused (so a cache under 100
//!   objects, whose window is empty, caches nothing, as libCacheSim's);
//! - a miss: while the cache is over budget, evict (below); then the object
//!   enters the window's front and is added to the sketch;
//! - evict: the window's oldest object moves into main while main has room
//!   (and is added to the sketch), and eviction goes on; once main is full
//!   it is compared with main's victim (the probation segment's oldest, else
//!   the protected one's): if its estimate is strictly higher, main's victim
//!   is evicted and it enters main, else it is evicted itself; either way
//!   it is then added to the sketch. With an empty window, main evicts;
//! - a hit in the window moves the object to the window's front (the sketch
//!   is not told); a hit in main promotes it in the SLRU and adds it to the
//!   sketch; after `32 × main` (in objects, `sample-ratio`) hits in main,
//!   every counter is halved ([`sketch`]).
//!
//! libCacheSim counts sizes in bytes, one byte per object on a unit-size
//! trace: its sizes here are counted in [`SizeUnit`]s (the common size of
//! the objects, else one byte).
//!
//! Where libCacheSim and the engine differ:
//!
//! - ids: libCacheSim's sketch hashes the trace's object ids; the engine
//!   names objects by a hash of their key, so the same trace collides in
//!   other counters. With libCacheSim's ids this order gives its figures
//!   exactly (`tests/libcachesim.rs`); through the engine a small sketch
//!   (a cache of a few hundred objects) estimates differently.
//! - evictions on a hit: libCacheSim's SLRU may evict on a read (cooling,
//!   above); the engine asks for victims only when something enters, so
//!   those victims are named at the next admission (a read of one of them
//!   before then is a hit here, a miss in libCacheSim, and this order
//!   replays it as that miss to stay in step).
//! - the sketch's size: libCacheSim sizes it by main's *bytes*, which for
//!   objects of varying sizes is millions of counters (a nearly exact
//!   count); here by at most the number of objects the tier can hold
//!   (`Capacity::max_objects`) and at most a million, nearly as exact.
//! - sizes: on traces of varying sizes the engine's budget counts each
//!   object's metadata as well, so window, main and segments hold slightly
//!   different sets than libCacheSim's, which count object bytes only.
//!
//! Parameters (`[policy_config]`):
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `window-size` | the window's share of the cache, in `[0, 1)` (libCacheSim's name) | `0.01` |
//! | `protected-ratio` | the protected segment's share of main (libCacheSim's `seg-size=1:4`) | `0.8` |
//! | `sketch-error` | the sketch's false-positive rate at main's size in entries (libCacheSim's fixed value) | `0.001` |
//! | `sample-ratio` | main hits between two halvings, in multiples of main's size in objects (libCacheSim's fixed value) | `32` |
//! | `adaptive-window` | `true`: resize the window by hill climbing ([`climber`]) | `false` |
//! | `climber-sample` | with `adaptive-window`: requests per sample, in multiples of the objects held (Caffeine's) | `10` |
//!
//! With `adaptive-window = true` (not in libCacheSim), Caffeine's hill
//! climber ([`climber`]) moves bytes between the window and the protected
//! segment after each sample of `climber-sample` times the objects held
//! (counted from the cache's first eviction on), by steps of 6.25% of the
//! cache that decay by 2% a sample and restart on a change of hit ratio of
//! 0.05. Growing the window demotes the protected overflow to probation and
//! moves main's oldest objects to the window's front until main fits;
//! shrinking it (to one object at least) lets the window's oldest objects
//! enter main without the frequency test until main is full, as Caffeine
//! does. The admission bound stays the configured window. Where the hit
//! ratio barely depends on the window (a stationary Zipf workload), a
//! sample of ten times the cache is noisy enough for the window to wander
//! far from its best; a larger `climber-sample` steadies it there, but
//! adapts more slowly where the window matters.

pub mod climber;
pub mod sketch;
pub mod slru;

use tiered_order_kit::{Admission, Algorithm, Capacity, Order, Params, Queue, SizeUnit};

use climber::{Climber, SAMPLE_FACTOR};
use sketch::Sketch;
use slru::Slru;

/// The most entries the sketch is sized for: about 15 million counters,
/// 60 MiB.
const MAX_ENTRIES: u64 = 1 << 20;

/// The parameters (`[policy_config]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// `window-size`: the window's share of the cache.
    pub window_size: f64,
    /// `protected-ratio`: the protected segment's share of main.
    pub protected_ratio: f64,
    /// `sketch-error`: the sketch's false-positive rate.
    pub sketch_error: f64,
    /// `sample-ratio`: main hits between halvings, in main's objects.
    pub sample_ratio: u64,
    /// `adaptive-window`: hill-climb the window's size.
    pub adaptive_window: bool,
    /// `climber-sample`: the climber's sample, in objects held.
    pub climber_sample: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            window_size: 0.01,
            protected_ratio: 0.8,
            sketch_error: 0.001,
            sample_ratio: 32,
            adaptive_window: false,
            climber_sample: SAMPLE_FACTOR,
        }
    }
}

impl Config {
    /// Reads the parameters, each with its default.
    pub fn read(params: &mut Params) -> Result<Config, String> {
        let d = Config::default();
        let window_size = params.number("window-size", d.window_size, 0.0..=1.0)?;
        if window_size >= 1.0 {
            return Err(format!("[policy_config] window-size = {window_size} is out of range; expected [0, 1)"));
        }
        let sketch_error = params.number("sketch-error", d.sketch_error, 0.0..=1.0)?;
        if sketch_error <= 0.0 || sketch_error >= 1.0 {
            return Err(format!("[policy_config] sketch-error = {sketch_error} is out of range; expected (0, 1)"));
        }
        Ok(Config {
            window_size,
            protected_ratio: params.number("protected-ratio", d.protected_ratio, 0.0..=1.0)?,
            sketch_error,
            sample_ratio: params.number("sample-ratio", d.sample_ratio, 1..=1 << 20)?,
            adaptive_window: params.flag("adaptive-window", d.adaptive_window)?,
            climber_sample: params.number("climber-sample", d.climber_sample, 1..=1 << 20)?,
        })
    }

    /// The probation segment's share of main: `1 - protected-ratio`, to 12
    /// digits (so that the default is libCacheSim's 1/5 exactly).
    fn probation_ratio(&self) -> f64 {
        ((1.0 - self.protected_ratio) * 1e12).round() / 1e12
    }
}

/// One tier's W-TinyLFU.
#[derive(Debug, Default)]
pub struct WTinyLfu {
    config: Config,
    /// The tier's bytes.
    capacity: u64,
    /// The most objects the tier can hold (0: unknown).
    max_objects: u64,
    /// libCacheSim's one byte.
    unit: SizeUnit,
    /// The unit the sizes below were computed for (0: none yet).
    sized_for: u64,
    /// The largest object admitted (libCacheSim's window size).
    window_bound: u64,
    /// The window's bytes: the cache's less main's.
    window_target: u64,
    window: Queue,
    main: Slru,
    sketch: Sketch,
    /// Hits in main since the last halving, and the period.
    main_hits: u64,
    halving_period: u64,
    /// Objects evicted by this order's account that the host still holds,
    /// oldest first (they are named at the next admission or eviction).
    released: Queue,
    climber: Option<Climber>,
    /// Whether the cache has been full (the climber waits for it).
    filled: bool,
}

impl Algorithm for WTinyLfu {
    const NAME: &'static str = "wtinylfu";

    fn new(capacity: Capacity, params: &mut Params) -> Result<Self, String> {
        let config = Config::read(params)?;
        Ok(WTinyLfu::with_config(capacity, config))
    }
}

impl WTinyLfu {
    /// An empty order for a tier of `capacity`.
    pub fn with_config(capacity: Capacity, config: Config) -> WTinyLfu {
        let climber = config.adaptive_window.then(|| Climber::new(capacity.max_bytes));
        let mut order = WTinyLfu {
            config,
            capacity: capacity.max_bytes,
            max_objects: capacity.max_objects,
            climber,
            ..Default::default()
        };
        order.size();
        order
    }

    /// Whether the order holds `id` in the window or main (libCacheSim's
    /// cache contents).
    pub fn holds(&self, id: u64) -> bool {
        self.window.contains(id) || self.main.contains(id)
    }

    /// Whether `id` is evicted by this order's account but not yet named
    /// to the host.
    pub fn released(&self, id: u64) -> bool {
        self.released.contains(id)
    }

    /// The window's and main's bytes.
    pub fn occupied(&self) -> u64 {
        self.window.bytes() + self.main.bytes()
    }

    /// The window's bytes now (it moves with `adaptive-window`).
    pub fn window_bytes(&self) -> u64 {
        self.window_target
    }

    /// Sizes the window, main, its segments and the sketch for the current
    /// unit, as libCacheSim sizes them at its start (again when the unit
    /// changes: at the second object size seen, if any).
    fn size(&mut self) {
        let unit = self.unit.bytes();
        if self.sized_for == unit {
            return;
        }
        self.sized_for = unit;
        let units = self.capacity / unit;
        let window = (units as f64 * self.config.window_size) as u64 * unit;
        self.window_bound = window;
        self.window_target = window;
        let main = self.capacity - window;
        let main_units = main / unit;
        let probation = (self.config.probation_ratio() * main_units as f64) as u64 * unit;
        let protected = (self.config.protected_ratio * main_units as f64) as u64 * unit;
        self.main.set_limits(main, probation, protected);
        let most = if self.max_objects > 0 { self.max_objects.min(MAX_ENTRIES) } else { MAX_ENTRIES };
        let entries = main_units.min(most);
        self.sketch = Sketch::new(entries, self.config.sketch_error);
        self.main_hits = 0;
        self.halving_period = self.config.sample_ratio * main_units;
    }

    fn observe(&mut self, size: u64) {
        self.unit.observe(size);
        self.size();
    }

    /// libCacheSim's `can_insert`.
    fn fits(&self, size: u64) -> bool {
        size <= self.capacity && size <= self.window_bound && size <= self.main.limits()[0]
    }

    /// One eviction (libCacheSim's `WTinyLFU_evict`); the victims (one, or
    /// more when a larger object replaces main's victim) are released.
    /// `false` if there was nothing to evict.
    fn evict_step(&mut self) -> bool {
        let mut victims = Vec::new();
        while let Some(candidate) = self.window.back() {
            if self.oldest_to_main() {
                // Main had room (no eviction inside): on to the next one.
                continue;
            }
            let size = self.window.size_of(candidate).unwrap_or(0);
            match self.main.victim() {
                Some(rival) if self.sketch.estimate(candidate) > self.sketch.estimate(rival) => {
                    victims.extend(self.main.evict());
                    self.window.remove(candidate);
                    self.main.insert(candidate, size, &mut victims);
                }
                _ => {
                    self.window.remove(candidate);
                    victims.push((candidate, size));
                }
            }
            self.sketch.add(candidate);
            break;
        }
        if self.window.is_empty() && victims.is_empty() {
            victims.extend(self.main.evict());
        }
        let evicted = !victims.is_empty();
        self.release(victims);
        evicted
    }

    fn release(&mut self, victims: Vec<(u64, u64)>) {
        for (id, size) in victims {
            self.released.push_front(id, size, ());
        }
    }

    /// A miss on `id` (libCacheSim's `can_insert`, eviction loop and
    /// `insert`); `false` if it refuses the object.
    fn miss(&mut self, id: u64, size: u64) -> bool {
        if !self.fits(size) {
            return false;
        }
        while self.occupied() + size > self.capacity {
            self.filled = true;
            if !self.evict_step() {
                break;
            }
        }
        self.window.push_front(id, size, ());
        self.sketch.add(id);
        true
    }

    /// Objects that entered without a decision (a hand-over of thousands of
    /// residents) overflow the window into main while main has room, as
    /// `evict_step` would move them at the next miss: the window stays
    /// within its share, so the call after a hand-over does not move the
    /// whole tier. Misses are libCacheSim's path and left as they are:
    /// while the tier is not full they overfill the window, and the first
    /// eviction moves that overflow into main in one call.
    fn settle(&mut self) {
        while self.window.bytes() > self.window_target && self.oldest_to_main() {}
    }

    /// Moves the window's oldest object into main if main has room for it
    /// (so nothing leaves main), counting it in the sketch; whether it moved.
    fn oldest_to_main(&mut self) -> bool {
        let Some(candidate) = self.window.back() else { return false };
        let size = self.window.size_of(candidate).unwrap_or(0);
        if self.main.bytes() + size > self.main.capacity() {
            return false;
        }
        self.window.remove(candidate);
        let mut none = Vec::new();
        self.main.insert(candidate, size, &mut none);
        debug_assert!(none.is_empty(), "main had room for it");
        self.sketch.add(candidate);
        true
    }

    /// A read of an object held (libCacheSim's `find` with update).
    fn read(&mut self, id: u64) {
        if self.window.move_to_front(id) {
            return;
        }
        let mut victims = Vec::new();
        if self.main.hit(id, &mut victims) {
            self.release(victims);
            self.sketch.add(id);
            self.main_hits += 1;
            if self.main_hits >= self.halving_period {
                self.main_hits = 0;
                self.sketch.halve();
            }
        }
    }

    /// With `adaptive-window`: once a sample is complete, moves the window's
    /// boundary by the climber's step.
    fn climb(&mut self) {
        let sample = self.config.climber_sample * self.len().max(1) as u64;
        let Some(climber) = self.climber.as_mut().filter(|_| self.filled) else { return };
        let amount = climber.adjustment(sample);
        let [probation, protected] = self.main.limits();
        let unit = self.unit.bytes();
        if amount > 0 {
            let quota = (amount as u64).min(protected);
            self.window_target += quota;
            self.main.set_limits(self.capacity - self.window_target, probation, protected - quota);
            self.main.demote_overflow();
            while self.main.bytes() > self.main.capacity() {
                let Some((id, size)) = self.main.evict() else { break };
                self.window.push_front(id, size, ());
            }
        } else if amount < 0 {
            let quota = amount.unsigned_abs().min(self.window_target.saturating_sub(unit));
            self.window_target -= quota;
            self.main.set_limits(self.capacity - self.window_target, probation, protected + quota);
        }
    }

    /// With `adaptive-window`, once the cache has been full: a request for
    /// the climber's sample.
    fn record(&mut self, hit: bool) {
        if let Some(climber) = self.climber.as_mut().filter(|_| self.filled) {
            climber.record(hit);
        }
    }

    /// The released objects, forgotten, then more victims until `need`
    /// bytes are freed.
    fn victims(&mut self, need: u64) -> Vec<u64> {
        let mut victims = Vec::new();
        let mut freed = 0;
        loop {
            while let Some((id, size, ())) = self.released.pop_back() {
                victims.push(id);
                freed += size;
            }
            if freed >= need || !self.evict_step() {
                return victims;
            }
        }
    }
}

impl Order for WTinyLfu {
    fn hit(&mut self, id: u64) {
        if self.holds(id) {
            self.read(id);
            self.record(true);
        } else if let Some((size, ())) = self.released.remove(id) {
            // Evicted on an earlier read, not yet named: libCacheSim misses.
            self.record(false);
            if !self.miss(id, size) {
                self.released.push_front(id, size, ());
            }
        }
    }

    fn insert(&mut self, id: u64, size: u64) {
        self.observe(size);
        self.window.push_front(id, size, ());
        self.sketch.add(id);
        self.settle();
    }

    fn remove(&mut self, id: u64) {
        self.window.remove(id);
        self.main.remove(id);
        self.released.remove(id);
    }

    fn len(&self) -> usize {
        self.window.len() + self.main.len() + self.released.len()
    }

    fn evict_one(&mut self) -> Option<(u64, u64)> {
        if self.released.is_empty() {
            self.evict_step();
        }
        self.released.pop_back().map(|(id, size, ())| (id, size))
    }

    fn admit(&mut self, id: u64, size: u64, need: u64) -> Admission {
        self.observe(size);
        self.released.remove(id);
        self.climb();
        self.record(false);
        if self.holds(id) {
            // Held here but not by the host: libCacheSim would hit.
            self.read(id);
        } else if !self.miss(id, size) {
            return Admission::Refuse;
        }
        Admission::Admit(self.victims(need))
    }

    fn evict(&mut self, need: u64) -> Vec<u64> {
        self.victims(need)
    }
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
tiered_order_kit::export_algorithm!(WTinyLfu);

#[cfg(test)]
mod tests {
    use super::*;

    fn order(objects: u64, pairs: &[(&str, &str)]) -> WTinyLfu {
        let pairs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut params = Params::new(pairs).unwrap();
        let order = WTinyLfu::new(Capacity { max_bytes: objects, max_objects: objects }, &mut params).unwrap();
        params.finish(WTinyLfu::NAME).unwrap();
        order
    }

    #[test]
    fn evicting_everything_empties_an_order_of_zero_byte_objects() {
        let mut w = order(100, &[]);
        for id in 0..8 {
            w.arrive(id, 0);
            w.hit(id);
        }
        let mut all = w.evict(u64::MAX);
        all.sort_unstable();
        assert_eq!(all, (0..8).collect::<Vec<_>>(), "every zero-byte object is named");
        assert!(w.is_empty(), "{} left", w.len());
    }

    /// A sketch large enough to count exactly (the tests compare estimates).
    fn exact(mut w: WTinyLfu) -> WTinyLfu {
        w.sketch = Sketch::new(100_000, 0.001);
        w
    }

    /// What the host holds: the order's objects and those it released.
    fn used(w: &WTinyLfu) -> u64 {
        w.occupied() + w.released.bytes()
    }

    fn admit(w: &mut WTinyLfu, id: u64) -> Option<Vec<u64>> {
        match w.admit(id, 1, (used(w) + 1).saturating_sub(w.capacity)) {
            Admission::Admit(victims) => Some(victims),
            Admission::Refuse => None,
        }
    }

    #[test]
    fn a_hand_over_of_a_whole_tier_keeps_the_window_to_its_share() {
        let mut w = order(10_000, &[]);
        for id in 0..10_000 {
            w.arrive(id, 1);
        }
        assert_eq!(w.len(), 10_000);
        // Window 100, main 9,900: the first 9,900 handed over are in main.
        assert_eq!((w.window.bytes(), w.main.bytes()), (100, 9_900));
        assert!((0..9_900).all(|id| w.main.contains(id)) && (9_900..10_000).all(|id| w.window.contains(id)));
        // The next miss frees one object and the count holds.
        assert_eq!(admit(&mut w, 10_000).map(|victims| victims.len()), Some(1));
        assert_eq!(w.len(), 10_000);
    }

    #[test]
    fn sizes_follow_libcachesim() {
        let w = order(1000, &[]);
        // Window 10, main 990: probation 198, protected 792.
        assert_eq!((w.window_bound, w.main.capacity(), w.main.limits()), (10, 990, [198, 792]));
        assert_eq!((w.sketch.width(), w.halving_period), (14_234, 32 * 990));
        // The same in objects of 150 bytes, once the unit is seen.
        let mut w = WTinyLfu::with_config(Capacity { max_bytes: 150_000, max_objects: 1000 }, Config::default());
        w.observe(150);
        assert_eq!((w.window_bound, w.main.capacity(), w.main.limits()), (1500, 148_500, [29_700, 118_800]));
        assert_eq!((w.sketch.width(), w.halving_period), (14_234, 32 * 990));
    }

    #[test]
    fn below_a_hundred_objects_the_window_is_empty_and_nothing_is_cached() {
        let mut w = order(99, &[]);
        assert_eq!(admit(&mut w, 1), None);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn the_window_fills_main_then_the_sketch_decides() {
        // Window 1, main 99 (probation 19, protected 79).
        let mut w = exact(order(100, &[]));
        for id in 1..=100 {
            assert_eq!(admit(&mut w, id), Some(vec![]));
        }
        // 1..=99 move to main without a test; 100 (seen once) loses to
        // main's victim 1 (seen once, counted again on entering main).
        assert_eq!(admit(&mut w, 101), Some(vec![100]));
        assert!((1..=99).all(|id| w.main.contains(id)) && w.window.contains(101));
        assert!(w.main.is_protected(20) && !w.main.is_protected(19));
        // 101, seen more often than 1, takes its place.
        for _ in 0..5 {
            w.sketch.add(101);
        }
        assert_eq!(admit(&mut w, 102), Some(vec![1]));
        assert!(w.main.contains(101) && w.window.contains(102));
        // A window hit tells the sketch nothing; a main hit does.
        let before = (w.sketch.estimate(102), w.sketch.estimate(50));
        w.hit(102);
        w.hit(50);
        assert_eq!((w.sketch.estimate(102), w.sketch.estimate(50)), (before.0, before.1 + 1));
    }

    #[test]
    fn a_read_that_evicts_is_named_at_the_next_admission_and_a_read_of_its_victim_misses() {
        let mut w = exact(order(100, &[]));
        for id in 1..=101 {
            admit(&mut w, id);
        }
        // Probation holds 20 (over its 19): promoting 2 cools protected's
        // oldest (20) into probation, which evicts its oldest, 1.
        w.hit(2);
        assert!(w.released(1) && !w.holds(1) && w.main.is_protected(2));
        assert_eq!(w.len(), 100);
        // The host still holds 1 and reads it: libCacheSim misses and
        // inserts it again (it has the room: nothing is evicted).
        w.hit(1);
        assert!(w.window.contains(1) && !w.released(1));
        assert_eq!(w.len(), 100);
        // The host is full: 101 moves into main's room, then 1 (seen three
        // times) replaces main's victim 3 (seen twice).
        assert_eq!(admit(&mut w, 102), Some(vec![3]));
        assert!(w.main.contains(101) && w.main.contains(1));
    }

    #[test]
    fn the_sketch_halves_after_its_period_of_main_hits() {
        let mut w = exact(order(100, &[("sample-ratio", "1")]));
        for id in 1..=101 {
            admit(&mut w, id);
        }
        assert_eq!(w.halving_period, 99);
        let before = w.sketch.estimate(30);
        for _ in 0..98 {
            w.hit(30);
        }
        assert_eq!(w.sketch.estimate(30), before + 98);
        w.hit(30);
        assert_eq!(w.sketch.estimate(30), (before + 99) / 2);
    }

    #[test]
    fn parameters_are_read_and_checked() {
        let w = order(1000, &[("window-size", "0.1"), ("protected-ratio", "0.5"), ("adaptive-window", "true")]);
        assert_eq!((w.window_bound, w.main.limits()), (100, [450, 450]));
        assert!(w.climber.is_some());
        for (key, value) in
            [("window-size", "1"), ("sketch-error", "0"), ("adaptive-window", "yes"), ("climber-sample", "0")]
        {
            let mut params = Params::new(vec![(key.into(), value.into())]).unwrap();
            let err = WTinyLfu::new(Capacity::default(), &mut params).unwrap_err();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn the_climber_moves_the_window_after_a_sample() {
        // 1600 objects: window 16, steps of 100.
        let mut w = order(1600, &[("adaptive-window", "true")]);
        for id in 1..=1601 {
            admit(&mut w, id);
        }
        assert!(w.filled && w.window_target == 16);
        // A sample (ten times the objects held) of hits on main, then one
        // admission: the first step shrinks the window, to one object.
        for _ in 0..16_010 {
            w.hit(500);
        }
        admit(&mut w, 5000);
        assert_eq!((w.window_target, w.main.capacity()), (1, 1599));
        // A sample with a lower hit ratio turns the climb: the window grows
        // by 100, main's oldest objects move into it.
        for i in 0..16_010 {
            if i % 2 == 0 {
                w.hit(500);
            } else {
                admit(&mut w, 10_000 + i);
            }
        }
        assert_eq!(w.window_target, 101);
        assert!(w.main.bytes() <= 1499 && w.occupied() <= 1600);
    }
}
