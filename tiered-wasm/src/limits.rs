//! [`PolicyLimits`]: the sandbox bounds of a policy, as configuration
//! (`[policy_limits]`, serde, `Default`): how long one call may run, how much
//! linear memory one instance and all instances together may hold, how many
//! idle instances the pool keeps and how large they may grow, how much of the
//! machine's time its calls may take, and how much a policy may log. Enforced
//! by the engine's epoch ticker (`runtime.rs`), the `Store`'s limiter
//! (`memory.rs`), the pool (`pool.rs`), the throttle (`throttle.rs`) and the
//! log budget (`guest_log.rs`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::memory::MemoryBudget;

/// How far a policy may go before the host stops it and uses the fallback.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyLimits {
    /// Wall-clock bound of one decision call, enforced by epoch interruption
    /// with a 1 ms tick (so it is honoured to within about a millisecond),
    /// time spent in host imports included. Instantiation and `configure`
    /// get [`PolicyLimits::setup_deadline`].
    #[serde(with = "duration_ms", rename = "deadline_ms")]
    pub deadline: Duration,
    /// Bound of each linear memory of an instance, in bytes. Python
    /// components need ~100 MiB, Rust ones a few MiB.
    pub memory_bytes: usize,
    /// Bound of the linear memory of the eviction order's instance (an
    /// ordered policy keeps its queues there, for every resident of every
    /// cache tier), in bytes. The default policy takes about 60 bytes per
    /// resident with its ghost full, so the default of 1 GiB holds some
    /// 15 million. Still within `total_memory_bytes`.
    pub order_memory_bytes: usize,
    /// Failed calls in a row (trap, deadline, memory limit) after which the
    /// eviction order rests for `order_pause_ms`: its calls are answered by
    /// the host's own order and no instance is rebuilt or handed the
    /// residents (counted as `order_pauses`).
    pub order_failures_before_pause: u32,
    /// How long the eviction order rests after `order_failures_before_pause`
    /// failures in a row.
    #[serde(with = "duration_ms", rename = "order_pause_ms")]
    pub order_pause: Duration,
    /// Bound of the linear memory of all policy instances of the process
    /// together (every instance of the live policy, of one being loaded, of
    /// the check), in bytes. A growth past it traps. `tiered serve` reads it
    /// once, when it starts. Default: a quarter of the machine's memory (or of
    /// the control group's limit), between 512 MiB and 4 GiB.
    pub total_memory_bytes: usize,
    /// Idle instances the pool keeps for reuse; more are created on demand
    /// when more calls run at once, and dropped when they come back.
    pub instances: usize,
    /// An instance whose linear memory grew by more than this since it was
    /// configured is dropped after its call instead of kept idle (the next
    /// call builds a fresh one), so a leaking policy gives its memory back.
    pub idle_growth_bytes: usize,
    /// Share of the machine's CPU time (all cores) the policy's calls may
    /// take, over a second: beyond it, decisions are answered by the
    /// fallback without calling the policy (counted as `throttled`) until
    /// the budget refills. 1 or more = no limit.
    pub busy_share: f64,
    /// Longest message a policy's `log` writes whole; longer ones are cut and
    /// marked.
    pub log_line_bytes: usize,
    /// Bytes of log a policy may write per second (all its instances
    /// together, with a second's worth of burst); messages beyond are
    /// dropped and counted.
    pub log_bytes_per_second: u64,
}

impl Default for PolicyLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        PolicyLimits {
            deadline: Duration::from_millis(20),
            memory_bytes: 256 << 20,
            order_memory_bytes: 1 << 30,
            order_failures_before_pause: 3,
            order_pause: Duration::from_secs(30),
            total_memory_bytes: MemoryBudget::default_total(),
            instances: 2 * cores,
            idle_growth_bytes: 16 << 20,
            busy_share: 0.25,
            log_line_bytes: 2048,
            log_bytes_per_second: 64 << 10,
        }
    }
}

/// The epoch tick of [`super::PolicyEngine`]: deadlines are counted in ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// The shortest set-up deadline.
const MIN_SETUP_DEADLINE: Duration = Duration::from_secs(1);

impl PolicyLimits {
    /// These limits without the throttle (`busy_share = 1`): for callers that
    /// measure or replay the policy itself, where a fallback answer would
    /// falsify the result (`policy check`, the conformance kit, `simulate`,
    /// `policy test`, benchmarks), and for the embedded default policy.
    pub fn unthrottled(self) -> Self {
        PolicyLimits { busy_share: 1.0, ..self }
    }

    /// Wall-clock bound of instantiation plus `identity` plus `configure`:
    /// the call deadline, and at least one second.
    pub fn setup_deadline(&self) -> Duration {
        self.deadline.max(MIN_SETUP_DEADLINE)
    }

    /// Epoch ticks for one decision call (at least one).
    pub(crate) fn call_ticks(&self) -> u64 {
        ticks(self.deadline)
    }

    /// Epoch ticks for instantiation, `identity` and `configure`.
    pub(crate) fn setup_ticks(&self) -> u64 {
        ticks(self.setup_deadline())
    }
}

fn ticks(d: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos();
    u64::try_from(d.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX).max(1)
}

/// `deadline_ms = 20` in configuration files.
mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_whole_ticks() {
        let mut l = PolicyLimits::default();
        assert_eq!(l.call_ticks(), 20);
        l.deadline = Duration::from_micros(1500);
        assert_eq!(l.call_ticks(), 2);
        l.deadline = Duration::ZERO;
        assert_eq!(l.call_ticks(), 1);
        assert_eq!(l.setup_ticks(), 1000);
        assert_eq!(l.setup_deadline(), Duration::from_secs(1));
    }

    #[test]
    fn limits_round_trip_through_serde() -> Result<(), serde_json::Error> {
        let l: PolicyLimits = serde_json::from_str(r#"{"deadline_ms": 5, "log_bytes_per_second": 1024}"#)?;
        assert_eq!(l.deadline, Duration::from_millis(5));
        assert_eq!(l.memory_bytes, 256 << 20);
        assert_eq!(l.log_bytes_per_second, 1024);
        let back: PolicyLimits = serde_json::from_str(&serde_json::to_string(&l)?)?;
        assert_eq!(back, l);
        Ok(())
    }
}
