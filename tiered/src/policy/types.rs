//! Decision inputs and outputs, the native mirror of the records in
//! `wit/policy.wit`. Times are milliseconds: `now_ms` since the Unix epoch,
//! ages and idle times as durations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A storage tier (defined with the data formats, in `tiered-format`).
pub use tiered_format::TierId;

/// A set of cache tiers (cold always holds everything, so it is not a member).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierSet {
    pub hot: bool,
    pub warm: bool,
}

impl TierSet {
    pub const NONE: TierSet = TierSet { hot: false, warm: false };
    pub const ALL: TierSet = TierSet { hot: true, warm: true };

    pub fn contains(self, tier: TierId) -> bool {
        match tier {
            TierId::Hot => self.hot,
            TierId::Warm => self.warm,
            TierId::Cold => true,
        }
    }
}

/// An object being written.
#[derive(Clone, Copy, Debug)]
pub struct WriteInfo<'a> {
    pub key: &'a str,
    /// Stored size in bytes (after compression).
    pub size: u64,
    pub content_type: Option<&'a str>,
    pub metadata: &'a BTreeMap<String, String>,
    /// TTL the writer asked for, if any.
    pub requested_ttl_ms: Option<u64>,
    pub now_ms: u64,
}

/// Where a write goes and how long it lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub tiers: TierSet,
    /// `None`: never expires.
    pub ttl_ms: Option<u64>,
    /// The policy's tag for the object, carried with its arrival.
    pub class: u8,
}

/// A read served by warm or cold.
#[derive(Clone, Copy, Debug)]
pub struct ReadInfo<'a> {
    pub key: &'a str,
    pub size: u64,
    pub content_type: Option<&'a str>,
    /// Custom metadata given by the writer.
    pub metadata: &'a BTreeMap<String, String>,
    pub served_by: TierId,
    pub age_ms: u64,
    pub access_count: u64,
    pub frequency: u32,
    pub expires_in_ms: Option<u64>,
    pub now_ms: u64,
}

/// The byte budgets of the cache tiers, handed to the policy at configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capacities {
    pub hot_bytes: u64,
    pub warm_bytes: u64,
}

impl Capacities {
    /// The smallest footprint an object can have in a tier (a one-byte key,
    /// no value, no metadata): a budget over it bounds the object count.
    pub const MIN_FOOTPRINT: u64 = (std::mem::size_of::<crate::object::ObjectMeta>() + 1 + 64) as u64;

    /// The most objects `bytes` of a tier can hold.
    pub fn max_objects(bytes: u64) -> u64 {
        bytes / Self::MIN_FOOTPRINT
    }
}

/// Who a policy is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyIdentity {
    pub name: String,
    pub version: String,
    /// The WIT package the policy was built against (`tiered:policy@0.4.0`),
    /// or `native` for a policy linked into the host.
    pub interface: String,
    /// sha256 of the component's bytes, for WebAssembly policies.
    pub sha256: Option<String>,
}

/// Counts of calls into a policy and of the fallbacks it needed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyCounters {
    /// Decisions asked (place + promote + the eviction calls).
    pub calls: u64,
    /// Decisions answered by the fallback because the policy failed or was
    /// throttled.
    pub fallbacks: u64,
    /// Of those, calls that trapped (including memory-limit failures).
    pub traps: u64,
    /// Of those, calls stopped by the deadline.
    pub timeouts: u64,
    /// Instances rebuilt after a failure.
    pub rebuilds: u64,
    /// Nanoseconds spent inside policy calls: eviction calls timed always,
    /// placement and promotion estimated from one call in
    /// [`BUSY_SAMPLE_EVERY`](super::BUSY_SAMPLE_EVERY).
    pub busy_ns: u64,
    /// Of the fallbacks, decisions not asked of the policy because its calls
    /// had taken more than `[policy_limits] busy_share` of the machine.
    pub throttled: u64,
    /// Instances dropped after a call because their memory grew past
    /// `[policy_limits] idle_growth_bytes`.
    pub outgrown: u64,
    /// Linear memory held by the policy's idle pooled instances, in bytes.
    pub idle_memory_bytes: u64,
    /// Linear memory held by all policy instances of the process (this
    /// policy's and any other the same engine runs), in bytes.
    pub memory_bytes: u64,
    /// The bound of `memory_bytes` (`[policy_limits] total_memory_bytes`).
    pub memory_limit_bytes: u64,
    /// Memory growths refused because `memory_limit_bytes` was reached.
    pub memory_refusals: u64,
    /// Times the policy's eviction order was lost (a failed or skipped
    /// eviction call, a rebuilt instance) and the residents handed over.
    pub order_resets: u64,
    /// Times the order rested after failing three calls in a row (30 s
    /// each: the host's CLOCK evicts alone, no rebuild, no hand-over).
    pub order_pauses: u64,
    /// Messages the policy logged.
    pub log_written: u64,
    /// Of those, messages cut to `[policy_limits] log_line_bytes`.
    pub log_truncated: u64,
    /// Messages dropped because the policy was over its log budget.
    pub log_dropped: u64,
}
