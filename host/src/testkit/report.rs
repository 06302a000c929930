//! What a scenario run did, step by step: [`RunReport`] (JSON through serde,
//! text through `Display`, as `tiered policy test` prints them).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::recorder::Decision;
use tiered::policy::{PolicyCounters, PolicyIdentity, TierId};
use tiered_s3::RequestCounts;

/// Which tier served a get, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Hot,
    Warm,
    Cold,
    Miss,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Hot => "hot",
            Source::Warm => "warm",
            Source::Cold => "cold",
            Source::Miss => "miss",
        })
    }
}

/// The policy's placement answer for a put.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlacementReport {
    /// Cache tiers chosen; cold always gets the object.
    pub tiers: Vec<TierId>,
    /// `None`: never expires.
    pub ttl_ms: Option<u64>,
}

/// A number per cache tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PerTier {
    pub hot: u64,
    pub warm: u64,
}

/// A cached copy that disappeared during a step, and whether the policy
/// named it as a victim (else the host's order, a delete or an expiry).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Departure {
    pub key: String,
    pub tier: TierId,
    pub named_by_policy: bool,
}

/// One step.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// 1-based, as in the messages.
    pub step: usize,
    pub action: String,
    /// Clock after the step, ms since the run began.
    pub elapsed_ms: u64,
    /// For a put: the policy's answer.
    pub placement: Option<PlacementReport>,
    /// For a get: the serving tier.
    pub source: Option<Source>,
    /// For delete and touch: whether the key was there.
    pub found: Option<bool>,
    /// Where the step's key is held after the step (live copies).
    pub held: Option<Vec<TierId>>,
    /// Where the keys named in `expect.others` are held.
    pub others: BTreeMap<String, Vec<TierId>>,
    /// Copies made by reads, per tier (engine counters).
    pub promotions: PerTier,
    /// Objects evicted, per tier (engine counters).
    pub evictions: PerTier,
    /// Evicted hot objects copied to warm.
    pub demotions: u64,
    /// Cached copies gone during the step (evicted, expired or deleted).
    pub departed: Vec<Departure>,
    /// Every answer the policy gave during the step.
    pub decisions: Vec<Decision>,
    /// Decisions answered by the fallback because the policy failed.
    pub policy_fallbacks: u64,
    /// S3 requests during the step; `None` with a local cold tier.
    pub s3: Option<RequestCounts>,
    /// S3 requests since the run began.
    pub s3_total: Option<RequestCounts>,
    /// Failed expectations.
    pub failures: Vec<String>,
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub scenario: String,
    pub policy: PolicyIdentity,
    /// Where cold lived (`s3://bucket/prefix/` or a directory).
    pub cold: String,
    pub steps: Vec<StepReport>,
    pub policy_counters: PolicyCounters,
    /// Cold objects deleted when the run ended.
    pub cleaned_up: u64,
}

impl RunReport {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.failures.is_empty())
    }

    /// `step N (ACTION): MESSAGE` for every failed expectation.
    pub fn failures(&self) -> Vec<String> {
        let each = |s: &StepReport| s.failures.iter().map(|f| format!("step {} ({}): {f}", s.step, s.action)).collect();
        self.steps.iter().flat_map(|s: &StepReport| -> Vec<String> { each(s) }).collect()
    }
}

fn requests(r: &RequestCounts) -> String {
    let kinds = [
        ("get", r.get),
        ("head", r.head),
        ("put", r.put),
        ("copy", r.copy),
        ("list", r.list),
        ("delete", r.delete),
        ("multipart", r.multipart),
        ("retried", r.retried),
    ];
    let sent: Vec<String> = kinds.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{k} {n}")).collect();
    if sent.is_empty() { "none".into() } else { sent.join(", ") }
}

impl fmt::Display for StepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.failures.is_empty() { "ok" } else { "FAILED" };
        writeln!(f, "step {:>3}  {}  [t+{} ms]  {verdict}", self.step, self.action, self.elapsed_ms)?;
        if let Some(p) = &self.placement {
            let ttl = p.ttl_ms.map_or("never".to_string(), |t| format!("{t} ms"));
            let tiers = if p.tiers.is_empty() { "cold only".to_string() } else { tier_list(&p.tiers) };
            writeln!(f, "           policy placed: {tiers}; ttl {ttl}")?;
        }
        if let Some(source) = self.source {
            writeln!(f, "           served by: {source}")?;
        }
        for d in &self.decisions {
            if let Decision::Promote { served_by, tiers, access_count, frequency, .. } = d {
                let to = if tiers.is_empty() { "nowhere".to_string() } else { tier_list(tiers) };
                writeln!(
                    f,
                    "           policy promoted ({served_by} hit, {access_count} reads, frequency {frequency}): {to}"
                )?;
            }
        }
        if let Some(found) = self.found {
            writeln!(f, "           key was {}", if found { "present" } else { "absent" })?;
        }
        if let Some(held) = &self.held {
            writeln!(f, "           held in: {}", if held.is_empty() { "nowhere".into() } else { tier_list(held) })?;
        }
        for (key, held) in &self.others {
            writeln!(
                f,
                "           {key} held in: {}",
                if held.is_empty() { "nowhere".into() } else { tier_list(held) }
            )?;
        }
        if self.evictions != PerTier::default() || self.demotions > 0 {
            let (e, d) = (self.evictions, self.demotions);
            writeln!(f, "           evictions: hot {}, warm {}; demotions {d}", e.hot, e.warm)?;
        }
        for d in &self.departed {
            let why = if d.named_by_policy { " (named by the policy)" } else { "" };
            writeln!(f, "           left {}: {}{why}", d.tier, d.key)?;
        }
        if self.policy_fallbacks > 0 {
            writeln!(f, "           policy failed {} time(s); fallback decisions used", self.policy_fallbacks)?;
        }
        if let Some(s3) = &self.s3 {
            writeln!(f, "           s3 requests: {}", requests(s3))?;
        }
        for failure in &self.failures {
            writeln!(f, "           FAILED {failure}")?;
        }
        Ok(())
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "scenario {}", self.scenario)?;
        writeln!(f, "policy {} {} ({})", self.policy.name, self.policy.version, self.policy.interface)?;
        writeln!(f, "cold {}", self.cold)?;
        for step in &self.steps {
            write!(f, "{step}")?;
        }
        if let Some(total) = self.steps.last().and_then(|s| s.s3_total.as_ref()) {
            writeln!(f, "s3 requests in total: {}", requests(total))?;
        } else {
            writeln!(f, "local cold tier: S3 request expectations were not checked")?;
        }
        let failed = self.steps.iter().filter(|s| !s.failures.is_empty()).count();
        let c = &self.policy_counters;
        writeln!(
            f,
            "policy calls {}, fallbacks {}; cleaned up {} cold object(s)",
            c.calls, c.fallbacks, self.cleaned_up
        )?;
        match failed {
            0 => write!(f, "PASSED: {} step(s), every expectation held", self.steps.len()),
            n => write!(f, "FAILED: {n} of {} step(s) had failed expectations", self.steps.len()),
        }
    }
}

/// `hot, warm, cold`.
pub fn tier_list(tiers: &[TierId]) -> String {
    tiers.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
}
