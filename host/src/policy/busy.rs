//! [`CallClock`]: the count of a policy's calls and the time they took
//! (`calls` and `busy_ns` of [`PolicyCounters`](super::PolicyCounters)).
//!
//! Reading the clock twice costs about 50 ns here, a sixth of a placement
//! through the WebAssembly boundary. So placements and promotions are timed
//! one in [`SAMPLE_EVERY`] and each timed one counts for [`SAMPLE_EVERY`];
//! scoring batches (microseconds each, and rarer) are always timed. Which
//! calls are timed follows a Weyl sequence over the call number: spread evenly
//! across any repeating pattern of calls, so the estimate is unbiased whatever
//! the mix, and deterministic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One placement or promotion in this many is timed.
pub(crate) const SAMPLE_EVERY: u64 = 16;

/// How a call is timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timing {
    /// Cheap and frequent (placement, promotion): sampled.
    Sampled,
    /// Costly and rare (scoring): always.
    Always,
}

/// Calls made and the (estimated) time spent in them.
#[derive(Debug, Default)]
pub(crate) struct CallClock {
    calls: AtomicU64,
    busy_ns: AtomicU64,
}

impl CallClock {
    /// Runs `call`, counting it and, if it is timed, its duration.
    pub(crate) fn run<R>(&self, timing: Timing, call: impl FnOnce() -> R) -> R {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        let weight = match timing {
            Timing::Always => 1,
            Timing::Sampled if sampled(n) => SAMPLE_EVERY,
            Timing::Sampled => return call(),
        };
        let started = Instant::now();
        let answer = call();
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.busy_ns.fetch_add(ns.saturating_mul(weight), Ordering::Relaxed);
        answer
    }

    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub(crate) fn busy_ns(&self) -> u64 {
        self.busy_ns.load(Ordering::Relaxed)
    }
}

/// Whether call number `n` is timed: `n·φ mod 1 < 1/SAMPLE_EVERY`, with φ the
/// golden ratio in 64-bit fixed point.
fn sampled(n: u64) -> bool {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15) < u64::MAX / SAMPLE_EVERY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_call_in_sample_every_is_timed_within_any_repeating_pattern() {
        for period in [1u64, 2, 3, 7, 16, 64] {
            for phase in 0..period {
                let timed = (0..160_000).filter(|i| i % period == phase).filter(|&i| sampled(i)).count();
                let expected = 160_000 / period / SAMPLE_EVERY;
                let off = (timed as f64 - expected as f64).abs() / expected as f64;
                assert!(off < 0.02, "period {period} phase {phase}: {timed} timed, expected {expected}");
            }
        }
    }

    #[test]
    fn every_call_is_counted_and_sampled_time_is_scaled() {
        let nap = std::time::Duration::from_micros(200);
        let clock = CallClock::default();
        for _ in 0..160 {
            clock.run(Timing::Sampled, || std::thread::sleep(nap));
        }
        assert_eq!(clock.calls(), 160);
        let timed = (0..160).filter(|&n| sampled(n)).count() as u64;
        assert!((9..=11).contains(&timed), "about one call in 16 is timed: {timed}");
        // Each timed call slept at least `nap` and counts SAMPLE_EVERY times.
        let floor = timed * SAMPLE_EVERY * u64::try_from(nap.as_nanos()).unwrap_or(u64::MAX);
        assert!(clock.busy_ns() >= floor, "{} ns < {floor} ns", clock.busy_ns());

        let slow = CallClock::default();
        slow.run(Timing::Always, || std::thread::sleep(std::time::Duration::from_millis(2)));
        assert!(slow.busy_ns() >= 2_000_000, "an always-timed call counts its whole duration");
        assert_eq!(slow.calls(), 1);
    }
}
