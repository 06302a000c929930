//! [`CallClock`]: the count of a policy's calls and the time they took
//! (`calls` and `busy_ns` of [`PolicyCounters`](super::PolicyCounters)).
//!
//! Reading the clock twice costs about 50 ns here, a fifth of a placement
//! through the WebAssembly boundary. So placements and promotions are timed
//! one in [`SAMPLE_EVERY`], drawn at random (a per-thread xorshift, so which
//! calls are timed does not depend on the pattern of calls), and each timed
//! one counts for [`SAMPLE_EVERY`]; scoring batches (microseconds each, and
//! rarer) are always timed. The estimate is unbiased; its noise is in rare
//! slow calls (a deadline overrun, an instance rebuilt inside a call), which
//! count sixteen times when drawn and not at all otherwise.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One placement or promotion in this many is timed.
pub const SAMPLE_EVERY: u64 = 16;

/// How a call is timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Cheap and frequent (placement, promotion): sampled.
    Sampled,
    /// Costly and rare (scoring): always.
    Always,
}

/// What [`CallClock::run_measured`] measured of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measured {
    /// The nanoseconds the call stands for in the estimate: its duration
    /// times its weight; 0 when it was not timed.
    pub weighted_ns: u64,
    /// How long the call took, when it was timed.
    pub elapsed: Option<std::time::Duration>,
}

/// Calls made and the (estimated) time spent in them.
#[derive(Debug, Default)]
pub struct CallClock {
    calls: AtomicU64,
    busy_ns: AtomicU64,
}

impl CallClock {
    /// Runs `call`, counting it and, if it is timed, its duration.
    pub fn run<R>(&self, timing: Timing, call: impl FnOnce() -> R) -> R {
        self.run_measured(timing, call).0
    }

    /// [`CallClock::run`], also returning what was measured.
    pub fn run_measured<R>(&self, timing: Timing, call: impl FnOnce() -> R) -> (R, Measured) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let Some(weight) = weight(timing, draw()) else { return (call(), Measured::default()) };
        let started = Instant::now();
        let answer = call();
        let elapsed = started.elapsed();
        let weighted_ns = self.record(weight, elapsed.as_nanos());
        (answer, Measured { weighted_ns, elapsed: Some(elapsed) })
    }

    /// Counts a decision that was not asked of the policy (answered by the
    /// fallback without a call).
    pub fn skipped(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds a call of `ns` nanoseconds that stands for `weight` calls;
    /// returns what it added.
    fn record(&self, weight: u64, ns: u128) -> u64 {
        let weighted = u64::try_from(ns).unwrap_or(u64::MAX).saturating_mul(weight);
        self.busy_ns.fetch_add(weighted, Ordering::Relaxed);
        weighted
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Estimated nanoseconds spent in those calls.
    pub fn busy_ns(&self) -> u64 {
        self.busy_ns.load(Ordering::Relaxed)
    }
}

/// How many calls a call timed with `timing` stands for, given a random
/// `draw`; `None` when it is not timed.
fn weight(timing: Timing, draw: u64) -> Option<u64> {
    match timing {
        Timing::Always => Some(1),
        // The top four bits: zero one time in sixteen.
        Timing::Sampled => (draw >> 60 == 0).then_some(SAMPLE_EVERY),
    }
}

thread_local! {
    /// This thread's xorshift state (never zero).
    static STATE: Cell<u64> = Cell::new(seed());
}

/// A distinct non-zero seed per thread (splitmix64 of a counter).
fn seed() -> u64 {
    static THREADS: AtomicU64 = AtomicU64::new(0);
    let mut z = THREADS.fetch_add(1, Ordering::Relaxed).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) | 1
}

/// The next xorshift64* output of this thread.
fn draw() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_call_stands_for_its_weight() {
        assert_eq!(weight(Timing::Always, u64::MAX), Some(1));
        assert_eq!(weight(Timing::Sampled, 0), Some(SAMPLE_EVERY));
        assert_eq!(weight(Timing::Sampled, (1 << 60) - 1), Some(SAMPLE_EVERY));
        assert_eq!(weight(Timing::Sampled, 1 << 60), None);

        let clock = CallClock::default();
        clock.record(SAMPLE_EVERY, 250);
        clock.record(1, 4_000);
        assert_eq!(clock.busy_ns(), 16 * 250 + 4_000);
    }

    #[test]
    fn one_call_in_sample_every_is_timed_within_any_repeating_pattern() {
        const CALLS: usize = 640_000;
        STATE.with(|state| state.set(0x2545_F491_4F6C_DD1D)); // a fixed seed: the same draws every run
        let timed: Vec<bool> = (0..CALLS).map(|_| weight(Timing::Sampled, draw()).is_some()).collect();
        // Periods include Fibonacci numbers, which defeat a golden-ratio sequence.
        for period in [1, 2, 3, 7, 16, 144, 233] {
            for phase in [0, period / 2, period - 1] {
                let picked = timed.iter().skip(phase).step_by(period).filter(|&&t| t).count();
                let expected = (CALLS / period) as f64 / SAMPLE_EVERY as f64;
                let off = (picked as f64 - expected).abs() / expected;
                assert!(off < 0.25, "period {period} phase {phase}: {picked} timed, expected {expected}");
            }
        }
        let all = timed.iter().filter(|&&t| t).count() as f64 / CALLS as f64;
        assert!((all - 1.0 / 16.0).abs() < 0.002, "overall fraction {all}");
    }

    #[test]
    fn every_call_is_counted_and_timed_calls_are_measured() {
        let clock = CallClock::default();
        for _ in 0..100 {
            clock.run(Timing::Sampled, || ());
        }
        assert_eq!(clock.calls(), 100);
        clock.run(Timing::Always, || std::thread::sleep(std::time::Duration::from_millis(2)));
        assert_eq!(clock.calls(), 101);
        assert!(clock.busy_ns() >= 2_000_000, "an always-timed call counts its whole duration");
    }
}
