//! [`RecordingPolicy`]: the policy under test, wrapped so the kit can say
//! *why* an object ended up where it did. Every decision the engine asks for
//! (placement, promotion, eviction scores) is passed through unchanged and
//! written down; the scenario runner takes the record after each step.

use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;

use tiered::policy::{
    Candidate, Placement, Policy, PolicyCounters, PolicyIdentity, ReadInfo, TierId, TierSet, Verdict, WriteInfo,
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
    /// One eviction round of a cache tier.
    Score { tier: TierId, verdicts: Vec<Scored> },
}

/// One candidate's verdict in an eviction round.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scored {
    pub key: String,
    pub score: f64,
    pub demote: bool,
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

    fn score(&self, now_ms: u64, candidates: &[Candidate]) -> Vec<Verdict> {
        let verdicts = self.inner.score(now_ms, candidates);
        let scored = candidates
            .iter()
            .zip(&verdicts)
            .map(|(c, v)| Scored { key: c.key.clone(), score: v.score, demote: v.demote })
            .collect();
        let tier = candidates.first().map_or(TierId::Hot, |c| c.tier);
        self.push(Decision::Score { tier, verdicts: scored });
        verdicts
    }

    fn counters(&self) -> PolicyCounters {
        self.inner.counters()
    }
}
