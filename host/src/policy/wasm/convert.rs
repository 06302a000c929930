//! Translation between the engine's native decision types
//! ([`crate::policy::types`]) and the WIT records of the bindings, and the
//! validation of a policy's answers:
//!
//! - placement and promotion: only `hot` and `warm` mean something; `cold` (always
//!   implied) and duplicates are ignored, so these answers cannot be wrong;
//! - scoring: exactly one verdict per candidate, every score finite, or the
//!   whole answer is rejected.
//!
//! Arguments borrow from the engine's data (see [`super::bindings`]): building
//! them copies no strings.

use super::bindings as wit;
use crate::policy::{Candidate, Capacities, ReadInfo, TierId, TierSet, Verdict, WriteInfo};

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

/// The metadata pairs of a write, borrowed (no allocation when empty).
pub(crate) fn metadata<'a>(write: &'a WriteInfo<'_>) -> Vec<(&'a str, &'a str)> {
    write.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

pub(crate) fn write_info<'a>(write: &'a WriteInfo<'_>, metadata: &'a [(&'a str, &'a str)]) -> wit::WriteInfo<'a> {
    wit::WriteInfo {
        key: write.key,
        size: write.size,
        content_type: write.content_type,
        metadata,
        requested_ttl_ms: write.requested_ttl_ms,
        now_ms: write.now_ms,
    }
}

pub(crate) fn read_info<'a>(read: &'a ReadInfo<'_>) -> wit::ReadInfo<'a> {
    wit::ReadInfo {
        key: read.key,
        size: read.size,
        served_by: tier(read.served_by),
        age_ms: read.age_ms,
        access_count: read.access_count,
        frequency: read.frequency,
        expires_in_ms: read.expires_in_ms,
        now_ms: read.now_ms,
    }
}

pub(crate) fn candidates(candidates: &[Candidate]) -> Vec<wit::Candidate<'_>> {
    candidates
        .iter()
        .map(|c| wit::Candidate {
            key: &c.key,
            size: c.size,
            tier: tier(c.tier),
            age_ms: c.age_ms,
            idle_ms: c.idle_ms,
            access_count: c.access_count,
            frequency: c.frequency,
            expires_in_ms: c.expires_in_ms,
        })
        .collect()
}

/// The cache tiers named in a placement or promotion answer.
pub(crate) fn tier_set(tiers: &[wit::Tier]) -> TierSet {
    let mut set = TierSet::NONE;
    for t in tiers {
        match t {
            wit::Tier::Hot => set.hot = true,
            wit::Tier::Warm => set.warm = true,
            wit::Tier::Cold => {}
        }
    }
    set
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
    fn cold_and_duplicates_in_a_tier_list_are_ignored() {
        let set = tier_set(&[wit::Tier::Cold, wit::Tier::Warm, wit::Tier::Warm]);
        assert_eq!(set, TierSet { hot: false, warm: true });
        assert_eq!(tier_set(&[]), TierSet::NONE);
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
