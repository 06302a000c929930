//! Time as the store sees it: milliseconds since the Unix epoch, from a
//! [`Clock`]. [`SystemClock`] is the real one; [`ManualClock`] is advanced by
//! hand, so TTL tests and trace replays never sleep.
//!
//! Two readings: [`Clock::now_ms`], exact, for every decision (expiry,
//! staleness, what is written); [`Clock::recent_ms`], which may lag by the
//! kernel's tick, for statistics read on the hot path (when an entry was
//! last read). On Linux the system clock's recent time is
//! `CLOCK_REALTIME_COARSE`, a read of the kernel's last tick with no
//! timestamp counter read.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now_ms(&self) -> u64;

    /// The time, possibly a tick (a few milliseconds) behind
    /// [`now_ms`](Self::now_ms) and cheaper to read: for statistics only,
    /// never for expiry.
    fn recent_ms(&self) -> u64 {
        self.now_ms()
    }
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }

    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    fn recent_ms(&self) -> u64 {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        (t.tv_sec.max(0) as u64) * 1000 + (t.tv_nsec.max(0) as u64) / 1_000_000
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    pub fn new(start_ms: u64) -> Self {
        ManualClock { now: Arc::new(AtomicU64::new(start_ms)) }
    }

    pub fn advance_ms(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set_ms(&self, ms: u64) {
        self.now.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recent_time_is_the_time_at_most_a_tick_behind() {
        let clock = SystemClock;
        let before = clock.now_ms();
        let recent = clock.recent_ms();
        let after = clock.now_ms();
        // A tick is 1–10 ms; allow a slow scheduler a margin, never a lead.
        assert!(recent <= after, "recent {recent} is ahead of now {after}");
        assert!(recent + 100 >= before, "recent {recent} lags now {before} by more than 100 ms");
    }

    #[test]
    fn a_manual_clock_reads_the_same_both_ways() {
        let clock = ManualClock::new(1234);
        assert_eq!((clock.now_ms(), clock.recent_ms()), (1234, 1234));
    }
}
