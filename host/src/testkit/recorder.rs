//! [`RecordingPolicy`]: the policy under test, wrapped so the kit can say
//! *why* an object ended up where it did. Every decision the engine asks for
//! (placement, promotion, admissions and victims of the eviction order) is
//! passed through unchanged and written down; the scenario runner takes the
//! record after each step.

use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;

use tiered::policy::{
    Admission, Arrival, Events, ObjectId, Placement, Policy, PolicyCounters, PolicyIdentity, ReadInfo, TierId, TierSet,
    WriteInfo,
};

/// One answer of the policy, with the inputs that matter to a reader.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "call", rename_all = "lowercase")]
pub enum Decision {
    /// A write: which cache tiers, and the TTL.
    Place {
        key: String,
        size: u64,
        requested_ttl_ms: Option<u64>,
        /// Cache tiers chosen (cold always gets the object).
        tiers: Vec<TierId>,
        ttl_ms: Option<u64>,
    },
    /// A read served below hot: which upper tiers get a copy.
    Promote { key: String, served_by: TierId, access_count: u64, frequency: u32, tiers: Vec<TierId> },
    /// An object about to enter a cache tier (its id; `need` bytes to free):
    /// refused, or admitted with the ids named to leave.
    Admit { tier: TierId, id: ObjectId, need: u64, refused: bool, victims: Vec<ObjectId> },
    /// A tier over budget: the ids named to leave.
    Evict { tier: TierId, need: u64, victims: Vec<ObjectId> },
}

/// The cache tiers of a set, hot first (cold is implied and left out).
pub fn cache_tiers(set: TierSet) -> Vec<TierId> {
    [TierId::Hot, TierId::Warm].into_iter().filter(|t| set.contains(*t)).collect()
}

/// Passes every call to the inner policy and records its answer.
#[derive(Debug)]
pub struct RecordingPolicy {
    inner: Arc<dyn Policy>,
    record: Mutex<Vec<Decision>>,
}

impl RecordingPolicy {
    pub fn new(inner: Arc<dyn Policy>) -> Self {
        RecordingPolicy { inner, record: Mutex::new(Vec::new()) }
    }

    /// The decisions made since the last call, oldest first.
    pub fn take(&self) -> Vec<Decision> {
        std::mem::take(&mut *self.record.lock())
    }

    fn push(&self, decision: Decision) {
        self.record.lock().push(decision);
    }
}

impl Policy for RecordingPolicy {
    fn identity(&self) -> PolicyIdentity {
        self.inner.identity()
    }

    fn place(&self, write: &WriteInfo<'_>) -> Placement {
        let answer = self.inner.place(write);
        self.push(Decision::Place {
            key: write.key.to_string(),
            size: write.size,
            requested_ttl_ms: write.requested_ttl_ms,
            tiers: cache_tiers(answer.tiers),
            ttl_ms: answer.ttl_ms,
        });
        answer
    }

    fn promote(&self, read: &ReadInfo<'_>) -> TierSet {
        let answer = self.inner.promote(read);
        self.push(Decision::Promote {
            key: read.key.to_string(),
            served_by: read.served_by,
            access_count: read.access_count,
            frequency: read.frequency,
            tiers: cache_tiers(answer),
        });
        answer
    }

    fn keeps_order(&self) -> bool {
        self.inner.keeps_order()
    }

    fn order_generation(&self) -> u64 {
        self.inner.order_generation()
    }

    fn observe(&self, events: &Events) {
        self.inner.observe(events);
    }

    fn admit(&self, events: &Events, arrival: Arrival, need_bytes: u64) -> Admission {
        let answer = self.inner.admit(events, arrival, need_bytes);
        let (refused, victims) = match &answer {
            Admission::Refuse => (true, Vec::new()),
            Admission::Admit(victims) => (false, victims.clone()),
        };
        self.push(Decision::Admit { tier: events.tier, id: arrival.id, need: need_bytes, refused, victims });
        answer
    }

    fn evict(&self, events: &Events, need_bytes: u64) -> Vec<ObjectId> {
        let victims = self.inner.evict(events, need_bytes);
        self.push(Decision::Evict { tier: events.tier, need: need_bytes, victims: victims.clone() });
        victims
    }

    fn counters(&self) -> PolicyCounters {
        self.inner.counters()
    }
}
