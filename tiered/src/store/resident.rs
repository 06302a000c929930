//! What a cache tier knows about the objects it holds: volatile access
//! statistics ([`Access`], kept in memory, never written back) and the
//! residents eviction and bootstrap walk ([`Resident`]).

/// Volatile access statistics of a cached object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Last read or write in this tier, ms since the Unix epoch.
    pub last_ms: u64,
    /// Reads in this tier since the copy was made.
    pub count: u64,
}

impl Access {
    /// Count a read at `now_ms`.
    pub fn read_at(&mut self, now_ms: u64) {
        self.last_ms = now_ms;
        self.count += 1;
    }
}

/// An object resident in a cache tier, as eviction and bootstrap see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resident {
    pub key: String,
    /// Bytes it costs in the tier.
    pub footprint: u64,
    pub created_ms: u64,
    pub expires_ms: Option<u64>,
    pub access: Access,
}
