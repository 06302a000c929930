//! The sandbox bounds of a policy: how long one call may run, how much linear
//! memory one instance may grow to, and how many idle instances the pool keeps.
//!
//! [`PolicyLimits`] is configuration (serde, `Default`); [`HostState`] is what
//! each wasmtime `Store` carries: the policy's name (for its log lines) and the
//! `StoreLimits` that enforce the memory bound by refusing `memory.grow`, which
//! then traps instead of returning -1 so a runaway allocation ends the call at
//! once rather than limping into an out-of-memory abort path.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmtime::{StoreLimits, StoreLimitsBuilder};

use super::current_object::CurrentObject;

/// How far a policy may go before the host stops it and uses the fallback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyLimits {
    /// Wall-clock bound of one decision call, enforced by epoch interruption
    /// with a 1 ms tick (so it is honoured to within about a millisecond).
    /// Instantiation and `configure` get `max(deadline, 1 s)`.
    #[serde(with = "duration_ms", rename = "deadline_ms")]
    pub deadline: Duration,
    /// Bound of each linear memory of an instance, in bytes. Python
    /// components need ~100 MiB, Rust ones a few MiB.
    pub memory_bytes: usize,
    /// Idle instances the pool keeps for reuse; more are created on demand
    /// when more calls run at once, and dropped when they come back.
    pub instances: usize,
}

impl Default for PolicyLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        PolicyLimits { deadline: Duration::from_millis(20), memory_bytes: 256 << 20, instances: 2 * cores }
    }
}

/// The epoch tick of [`super::PolicyEngine`]: deadlines are counted in ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

impl PolicyLimits {
    /// Epoch ticks for one decision call (at least one).
    pub(crate) fn call_ticks(&self) -> u64 {
        ticks(self.deadline)
    }

    /// Epoch ticks for instantiation, `identity` and `configure`.
    pub(crate) fn setup_ticks(&self) -> u64 {
        ticks(self.deadline.max(Duration::from_secs(1)))
    }
}

fn ticks(d: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos();
    u64::try_from(d.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX).max(1)
}

/// The data of one instance's `Store`.
#[derive(Debug)]
pub(crate) struct HostState {
    /// The policy's name, the `policy` field of every line it logs.
    pub(crate) name: Arc<str>,
    /// Enforces [`PolicyLimits::memory_bytes`].
    pub(crate) limits: StoreLimits,
    /// The text of the object the current call is about.
    pub(crate) current: CurrentObject,
}

impl HostState {
    pub(crate) fn new(name: Arc<str>, limits: &PolicyLimits) -> Self {
        HostState {
            name,
            limits: StoreLimitsBuilder::new().memory_size(limits.memory_bytes).trap_on_grow_failure(true).build(),
            current: CurrentObject::default(),
        }
    }
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
    }

    #[test]
    fn limits_round_trip_through_serde() -> Result<(), serde_json::Error> {
        let l: PolicyLimits = serde_json::from_str(r#"{"deadline_ms": 5}"#)?;
        assert_eq!(l.deadline, Duration::from_millis(5));
        assert_eq!(l.memory_bytes, 256 << 20);
        let back: PolicyLimits = serde_json::from_str(&serde_json::to_string(&l)?)?;
        assert_eq!(back, l);
        Ok(())
    }
}
