//! [`Climber`]: the hill climber that resizes the window, in the manner of
//! Caffeine's `BoundedLocalCache` (G. Einziger, O. Eytan, R. Friedman,
//! B. Manes, "Adaptive Software Cache Management", Middleware 2018).
//!
//! The hit ratio is measured over samples of requests; after each sample
//! the window moves by a step in the direction that last helped: the same
//! direction while the hit ratio did not fall, the other one when it fell.
//! The step decays by [`STEP_DECAY`] each sample, so the window settles;
//! a change of the hit ratio of [`RESTART_THRESHOLD`] or more restarts it
//! at [`STEP_SHARE`] of the cache (the workload changed). The first step
//! shrinks the window, by [`STEP_SHARE`] of the cache.
//!
//! Caffeine's constants: a sample of ten times the cache's capacity in
//! objects ([`SAMPLE_FACTOR`]), steps of 6.25% of the cache, restart at a
//! change of 0.05, decay 0.98.

/// A sample is this many times the cache's capacity in objects.
pub const SAMPLE_FACTOR: u64 = 10;
/// The restarted step, as a share of the cache.
pub const STEP_SHARE: f64 = 0.0625;
/// The change of hit ratio that restarts the climb.
pub const RESTART_THRESHOLD: f64 = 0.05;
/// Each sample's step is this share of the last one.
pub const STEP_DECAY: f64 = 0.98;

/// The climber's state: the current sample and the next step.
#[derive(Debug, Default)]
pub struct Climber {
    hits: u64,
    misses: u64,
    previous_hit_ratio: f64,
    /// Bytes to move toward the window next (negative: toward main).
    step: f64,
    /// The cache's bytes.
    capacity: u64,
}

impl Climber {
    /// A climber for a cache of `capacity` bytes; its first step shrinks the
    /// window.
    pub fn new(capacity: u64) -> Climber {
        Climber { step: -STEP_SHARE * capacity as f64, capacity, ..Climber::default() }
    }

    /// A request of the current sample: a hit or a miss.
    pub fn record(&mut self, hit: bool) {
        if hit {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
    }

    /// Once `sample` requests are recorded, the bytes to move into the
    /// window (negative: out of it), and a new sample starts; until then 0.
    pub fn adjustment(&mut self, sample: u64) -> i64 {
        let requests = self.hits + self.misses;
        if requests < sample.max(1) {
            return 0;
        }
        let hit_ratio = self.hits as f64 / requests as f64;
        let change = hit_ratio - self.previous_hit_ratio;
        let amount = if change >= 0.0 { self.step } else { -self.step };
        self.step = if change.abs() >= RESTART_THRESHOLD {
            STEP_SHARE * self.capacity as f64 * amount.signum()
        } else {
            STEP_DECAY * amount
        };
        self.previous_hit_ratio = hit_ratio;
        self.hits = 0;
        self.misses = 0;
        amount as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(c: &mut Climber, hits: u64, misses: u64) -> i64 {
        for _ in 0..hits {
            c.record(true);
        }
        for _ in 0..misses {
            c.record(false);
        }
        c.adjustment(hits + misses)
    }

    #[test]
    fn steps_while_the_hit_ratio_holds_and_turns_when_it_falls() {
        let mut c = Climber::new(1600);
        c.record(true);
        assert_eq!(c.adjustment(10), 0, "an incomplete sample");
        // 0.5 from 0: a rise of 0.05 or more; the first step (shrink by
        // 100) is taken and the climb restarts at 100 in that direction.
        assert_eq!(sample(&mut c, 49, 50), -100);
        // A small rise: same direction, the step decays.
        assert_eq!(sample(&mut c, 51, 49), -100);
        assert_eq!(sample(&mut c, 52, 48), -98);
        // A small fall: the other direction.
        assert_eq!(sample(&mut c, 51, 49), 96);
        // A large fall: the other direction again, restarted at 100.
        assert_eq!(sample(&mut c, 40, 60), -94);
        assert_eq!(sample(&mut c, 40, 60), -100);
    }
}
