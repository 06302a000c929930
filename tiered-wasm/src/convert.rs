//! Translation between the engine's native decision types
//! ([`tiered::policy::types`]) and the WIT records of the bindings, and the
//! validation of a policy's answers:
//!
//! - placement and promotion: a `tier-set` of `hot` and `warm` (`cold` always
//!   holds every object), so these answers cannot be wrong;
//! - scoring: exactly one verdict per candidate, every score finite, or the
//!   whole answer is rejected.
//!
//! Arguments carry numbers only; the text of an object reaches the policy
//! through `current-object` (see `current_object.rs`). Eviction candidates
//! cross as columns of numbers ([`Columns`]) without their keys: one copy per
//! column instead of a store per field per candidate.

use super::bindings as wit;
use tiered::policy::{Candidate, Capacities, ReadInfo, TierId, TierSet, Verdict, WriteInfo};

pub(crate) fn tier(tier: TierId) -> wit::Tier {
    match tier {
        TierId::Hot => wit::Tier::Hot,
        TierId::Warm => wit::Tier::Warm,
        TierId::Cold => wit::Tier::Cold,
    }
}

/// The budgets of the cache tiers, hot first.
pub(crate) fn capacities(c: Capacities) -> Vec<wit::Capacity> {
    vec![
        wit::Capacity { tier: wit::Tier::Hot, max_bytes: c.hot_bytes },
        wit::Capacity { tier: wit::Tier::Warm, max_bytes: c.warm_bytes },
    ]
}

/// The numbers of a write (its text is asked for through `current-object`).
pub(crate) fn write_info(write: &WriteInfo<'_>) -> wit::WriteInfo {
    wit::WriteInfo { size: write.size, requested_ttl_ms: write.requested_ttl_ms, now_ms: write.now_ms }
}

/// The numbers of a read (its text is asked for through `current-object`).
pub(crate) fn read_info(read: &ReadInfo<'_>) -> wit::ReadInfo {
    wit::ReadInfo {
        size: read.size,
        served_by: tier(read.served_by),
        age_ms: read.age_ms,
        access_count: read.access_count,
        frequency: read.frequency,
        expires_in_ms: read.expires_in_ms,
        now_ms: read.now_ms,
    }
}

/// A scoring batch column by column, as the WIT `candidates` record wants it:
/// each column is lowered into the policy's memory as one copy.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    size: Vec<u64>,
    age_ms: Vec<u64>,
    idle_ms: Vec<u64>,
    access_count: Vec<u64>,
    frequency: Vec<u32>,
    expires_in_ms: Vec<Option<u64>>,
}

impl Columns {
    /// The columns of `candidates` (all held by one tier).
    pub(crate) fn new<'a>(candidates: impl ExactSizeIterator<Item = &'a Candidate>) -> Columns {
        let n = candidates.len();
        let mut c = Columns {
            size: Vec::with_capacity(n),
            age_ms: Vec::with_capacity(n),
            idle_ms: Vec::with_capacity(n),
            access_count: Vec::with_capacity(n),
            frequency: Vec::with_capacity(n),
            expires_in_ms: Vec::with_capacity(n),
        };
        for candidate in candidates {
            c.size.push(candidate.size);
            c.age_ms.push(candidate.age_ms);
            c.idle_ms.push(candidate.idle_ms);
            c.access_count.push(candidate.access_count);
            c.frequency.push(candidate.frequency);
            c.expires_in_ms.push(candidate.expires_in_ms);
        }
        c
    }

    pub(crate) fn batch(&self, held_by: TierId) -> wit::Candidates<'_> {
        wit::Candidates {
            tier: tier(held_by),
            size: &self.size,
            age_ms: &self.age_ms,
            idle_ms: &self.idle_ms,
            access_count: &self.access_count,
            frequency: &self.frequency,
            expires_in_ms: &self.expires_in_ms,
        }
    }
}

/// The cache tiers named in a placement or promotion answer.
pub(crate) fn tier_set(tiers: wit::TierSet) -> TierSet {
    TierSet { hot: tiers.contains(wit::TierSet::HOT), warm: tiers.contains(wit::TierSet::WARM) }
}

/// Checks a scoring answer for `expected` candidates.
pub(crate) fn verdicts(answer: Vec<wit::Verdict>, expected: usize) -> Result<Vec<Verdict>, String> {
    if answer.len() != expected {
        return Err(format!("{} verdicts for {expected} candidates", answer.len()));
    }
    answer
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if v.score.is_finite() {
                Ok(Verdict { score: v.score, demote: v.demote })
            } else {
                Err(format!("verdict {i} has a non-finite score ({})", v.score))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_flags_map_to_the_cache_tiers() {
        assert_eq!(tier_set(wit::TierSet::WARM), TierSet { hot: false, warm: true });
        assert_eq!(tier_set(wit::TierSet::HOT | wit::TierSet::WARM), TierSet { hot: true, warm: true });
        assert_eq!(tier_set(wit::TierSet::empty()), TierSet::NONE);
    }

    #[test]
    fn a_scoring_answer_must_have_one_finite_score_per_candidate() {
        let v = |score| wit::Verdict { score, demote: false };
        assert!(verdicts(vec![v(1.0), v(-2.0)], 2).is_ok());
        assert!(verdicts(vec![v(1.0)], 2).is_err());
        assert!(verdicts(vec![v(1.0), v(f64::NAN)], 2).is_err());
        assert!(verdicts(vec![v(f64::INFINITY)], 1).is_err());
        assert!(verdicts(vec![], 0).is_ok());
    }
}
