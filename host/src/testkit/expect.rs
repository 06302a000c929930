//! Expectations of a step (`expect.*` in the scenario) and their checking
//! against what the step did ([`StepReport`]). Whether they make sense for
//! the step's action is the scenario's rule (`scenario.rs`).
//!
//! Every failed expectation becomes one message naming the field, what was
//! expected and what happened, e.g. `expect.source: expected hot, got cold`.

use serde::Deserialize;

pub use super::report::Source;
use super::report::{StepReport, tier_list};
use tiered::policy::TierId;
use tiered_s3::RequestCounts;

/// The TTL a put's placement should carry: milliseconds or `"never"`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum TtlExpect {
    Ms(u64),
    Word(String),
}

/// S3 requests by kind; an absent kind is not checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Expect {
    #[serde(alias = "gets")]
    pub get: Option<u64>,
    #[serde(alias = "heads")]
    pub head: Option<u64>,
    #[serde(alias = "puts")]
    pub put: Option<u64>,
    #[serde(alias = "copies")]
    pub copy: Option<u64>,
    #[serde(alias = "lists")]
    pub list: Option<u64>,
    #[serde(alias = "deletes")]
    pub delete: Option<u64>,
    pub multipart: Option<u64>,
}

/// A count per cache tier; an absent tier is not checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TierCountExpect {
    pub hot: Option<u64>,
    pub warm: Option<u64>,
}

/// Where another key is (or is not) held.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyExpect {
    pub key: String,
    #[serde(default, rename = "in")]
    pub held: Vec<TierId>,
    #[serde(default)]
    pub not_in: Vec<TierId>,
}

/// The `expect` table of a step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Expectations {
    /// Tiers that must hold a live copy of the step's key after the step.
    #[serde(rename = "in")]
    pub held: Vec<TierId>,
    /// Tiers that must not.
    pub not_in: Vec<TierId>,
    /// The same for other keys.
    pub others: Vec<KeyExpect>,
    /// The tier that served a get.
    pub source: Option<Source>,
    /// The TTL the policy gave a put.
    pub ttl_ms: Option<TtlExpect>,
    /// S3 requests sent during this step.
    pub s3: Option<S3Expect>,
    /// S3 requests sent since the run began.
    pub s3_total: Option<S3Expect>,
    /// Evictions during this step.
    pub evictions: Option<TierCountExpect>,
    /// Copies made into each tier by reads during this step.
    pub promotions: Option<TierCountExpect>,
}

impl Expectations {
    /// The failed expectations, as messages.
    pub fn check(&self, report: &StepReport) -> Vec<String> {
        let mut failures = Vec::new();
        if let Some(held) = &report.held {
            placement("expect", &self.held, &self.not_in, held, &mut failures);
        }
        for other in &self.others {
            let held = report.others.get(&other.key).map(Vec::as_slice).unwrap_or_default();
            placement(&format!("expect.others[{}]", other.key), &other.held, &other.not_in, held, &mut failures);
        }
        if let Some(want) = self.source
            && report.source != Some(want)
        {
            let got = report.source.map_or("nothing".to_string(), |s| s.to_string());
            failures.push(format!("expect.source: expected {want}, got {got}"));
        }
        if let Some(want) = &self.ttl_ms {
            let want = match want {
                TtlExpect::Ms(ms) => Some(*ms),
                TtlExpect::Word(_) => None,
            };
            let got = report.placement.as_ref().map(|p| p.ttl_ms);
            if got != Some(want) {
                let show = |t: Option<u64>| t.map_or("never".to_string(), |ms| format!("{ms} ms"));
                let got = got.map_or("no placement decision".to_string(), show);
                failures.push(format!("expect.ttl_ms: expected {}, the policy answered {got}", show(want)));
            }
        }
        s3("expect.s3", self.s3, report.s3, &mut failures);
        s3("expect.s3_total", self.s3_total, report.s3_total, &mut failures);
        let counts = |name: &str, want: Option<TierCountExpect>, got: (u64, u64), failures: &mut Vec<String>| {
            let Some(want) = want else { return };
            for (tier, want, got) in [("hot", want.hot, got.0), ("warm", want.warm, got.1)] {
                if let Some(want) = want.filter(|w| *w != got) {
                    failures.push(format!("{name}.{tier}: expected {want}, got {got}"));
                }
            }
        };
        counts("expect.evictions", self.evictions, (report.evictions.hot, report.evictions.warm), &mut failures);
        counts("expect.promotions", self.promotions, (report.promotions.hot, report.promotions.warm), &mut failures);
        failures
    }
}

fn placement(name: &str, held: &[TierId], not_in: &[TierId], actual: &[TierId], failures: &mut Vec<String>) {
    let shown = if actual.is_empty() { "nowhere".to_string() } else { tier_list(actual) };
    if let Some(missing) = held.iter().find(|t| !actual.contains(t)) {
        failures.push(format!("{name}.in: expected a copy in {missing}, held in {shown}"));
    }
    if let Some(extra) = not_in.iter().find(|t| actual.contains(t)) {
        failures.push(format!("{name}.not_in: expected no copy in {extra}, held in {shown}"));
    }
}

fn s3(name: &str, want: Option<S3Expect>, got: Option<RequestCounts>, failures: &mut Vec<String>) {
    let (Some(want), Some(got)) = (want, got) else { return };
    let pairs = [
        ("get", want.get, got.get),
        ("head", want.head, got.head),
        ("put", want.put, got.put),
        ("copy", want.copy, got.copy),
        ("list", want.list, got.list),
        ("delete", want.delete, got.delete),
        ("multipart", want.multipart, got.multipart),
    ];
    for (kind, want, got) in pairs {
        if let Some(want) = want.filter(|w| *w != got) {
            failures.push(format!("{name}.{kind}: expected {want} request(s), got {got}"));
        }
    }
}
