//! [`Throttle`]: the share of the machine's time a policy's calls may take.
//!
//! A call may run up to its deadline, and a policy that spends most of it on
//! every call (a 16 MiB log message built per placement, a busy loop) would
//! take the service's threads with it: at 15 ms a call, a few hundred
//! placements a second fill two cores. The throttle is a token bucket of busy
//! time, [`PolicyLimits::busy_share`] of all cores (a second's worth of
//! burst), refilled on the engine's epoch ticks (no clock read per call) and
//! debited with each call's measured time (the sampled estimate of
//! `busy.rs`). While it is empty, decisions are answered by the fallback
//! without calling the policy, counted as `throttled`; the host says so at
//! most once every [`NOTICE_EVERY`] epoch ticks. A share of 1 or more turns
//! it off: the `policy check` battery and the conformance kit, which measure
//! the policy itself, are never throttled.
//!
//! [`PolicyLimits::busy_share`]: super::PolicyLimits::busy_share

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::limits::EPOCH_TICK;
use super::runtime::EpochClock;

/// Epoch ticks between two notices that a policy is throttled (10 s).
const NOTICE_EVERY: u64 = 10_000;

/// The busy-time budget of one policy.
#[derive(Debug)]
pub(crate) struct Throttle {
    clock: EpochClock,
    /// Nanoseconds of calls allowed per epoch tick; 0 = no throttle.
    per_tick: i64,
    /// The bucket's size: one second's worth.
    capacity: i64,
    /// Nanoseconds left; calls are throttled while it is not positive.
    balance: AtomicI64,
    /// The epoch the balance was last refilled at.
    refilled: AtomicU64,
    throttled: AtomicU64,
    /// The epoch of the last notice (0 = none yet).
    noticed: AtomicU64,
}

impl Throttle {
    /// A budget of `share` of `cores` cores' time; `share >= 1` = none.
    pub(crate) fn new(clock: EpochClock, share: f64, cores: usize) -> Self {
        let per_tick = if share >= 1.0 || share.is_nan() {
            0
        } else {
            (share.max(0.0) * cores as f64 * EPOCH_TICK.as_nanos() as f64).max(1.0) as i64
        };
        let capacity = per_tick.saturating_mul(1_000);
        let refilled = AtomicU64::new(clock.now());
        Throttle {
            clock,
            per_tick,
            capacity,
            balance: AtomicI64::new(capacity),
            refilled,
            throttled: AtomicU64::new(0),
            noticed: AtomicU64::new(0),
        }
    }

    /// Whether the policy may be called now; counts the refusal when not.
    /// Returns `Err(true)` on the refusal the host should say something about.
    pub(crate) fn admit(&self) -> Result<(), bool> {
        if self.per_tick == 0 {
            return Ok(());
        }
        let now = self.clock.now();
        let last = self.refilled.load(Ordering::Relaxed);
        if now > last && self.refilled.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            let refill = i64::try_from(now - last).unwrap_or(i64::MAX).saturating_mul(self.per_tick);
            let _ = self.balance.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_add(refill).min(self.capacity))
            });
        }
        if self.balance.load(Ordering::Relaxed) > 0 {
            return Ok(());
        }
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let noticed = self.noticed.load(Ordering::Relaxed);
        let say = (noticed == 0 || now >= noticed + NOTICE_EVERY)
            && self.noticed.compare_exchange(noticed, now.max(1), Ordering::Relaxed, Ordering::Relaxed).is_ok();
        Err(say)
    }

    /// Debits `ns` nanoseconds of calls.
    pub(crate) fn spend(&self, ns: u64) {
        if self.per_tick != 0 {
            self.balance.fetch_sub(i64::try_from(ns).unwrap_or(i64::MAX), Ordering::Relaxed);
        }
    }

    /// Decisions answered by the fallback because the budget was spent.
    pub(crate) fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_throttles_until_the_ticks_refill_it() {
        let clock = EpochClock::default();
        clock.tick();
        // A tenth of one core: 100 µs of calls per 1 ms tick, 100 ms of burst.
        let throttle = Throttle::new(clock.clone(), 0.1, 1);
        assert_eq!(throttle.admit(), Ok(()));
        throttle.spend(100_000_000);
        assert_eq!(throttle.admit(), Err(true), "spent: refused, and said");
        assert_eq!(throttle.admit(), Err(false), "said once");
        clock.tick();
        assert_eq!(throttle.admit(), Ok(()), "one tick refills 100 µs");
        throttle.spend(150_000);
        assert!(throttle.admit().is_err());
        assert_eq!(throttle.throttled(), 3);
        for _ in 0..100_000 {
            clock.tick();
        }
        assert_eq!(throttle.admit(), Ok(()));
        throttle.spend(100_000_000 - 1);
        assert_eq!(throttle.admit(), Ok(()), "an idle spell refills one second's worth, no more");
        throttle.spend(1);
        assert_eq!(throttle.admit(), Err(true), "ten seconds later, said again");
    }

    #[test]
    fn a_share_of_one_or_more_never_throttles() {
        let throttle = Throttle::new(EpochClock::default(), 1.0, 2);
        throttle.spend(u64::MAX);
        assert_eq!(throttle.admit(), Ok(()));
        assert_eq!(throttle.throttled(), 0);
    }
}
