//! The policy's own decision inputs and outputs: plain Rust mirrors of the
//! records in `wit/policy.wit`, so the logic compiles, runs and unit-tests
//! natively without any wit-bindgen type.
//!
//! Inputs carry numbers only. The one string this policy consults, the key
//! of a write (for prefix TTL rules), is passed to [`crate::DefaultPolicy::place`]
//! as a function called only when a rule could apply: the WebAssembly
//! component then reads it from the host, which costs a copy into its memory.
//! Custom metadata and the content type are not consulted.

/// A storage tier. `Cold` is the source of truth and always holds everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    Hot,
    Warm,
    Cold,
}

/// An object being written (WIT `write-info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteInput {
    /// Stored size in bytes (after compression, if any).
    pub size: u64,
    /// TTL the writer asked for, in milliseconds.
    pub requested_ttl_ms: Option<u64>,
    /// Host time, milliseconds since the Unix epoch.
    pub now_ms: u64,
}

/// Where a write goes (WIT `placement`; cold is implied).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// The memory tier receives a copy.
    pub hot: bool,
    /// The disk tier receives a copy.
    pub warm: bool,
    /// Time to live in milliseconds; `None` = never expires.
    pub ttl_ms: Option<u64>,
}

/// A read served by warm or cold (WIT `read-info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadInput {
    pub size: u64,
    /// The tier that served the read.
    pub served_by: Tier,
    /// Milliseconds since the object was written.
    pub age_ms: u64,
    /// Reads of this key the host has seen.
    pub access_count: u64,
    /// The host's decaying frequency estimate for this key.
    pub frequency: u32,
    /// Milliseconds until expiry, if the object expires.
    pub expires_in_ms: Option<u64>,
    pub now_ms: u64,
}

/// Upper tiers that get a copy after a read (WIT `tier-set` from `promote`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Promotion {
    pub hot: bool,
    pub warm: bool,
}

impl Promotion {
    /// No copy anywhere.
    pub const NONE: Promotion = Promotion { hot: false, warm: false };
}
