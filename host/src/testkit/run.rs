//! Running a [`Scenario`] on a [`PolicyKit`]: each step's action goes
//! through the real engine, then the kit observes (tiers holding each key,
//! engine counters, S3 request counts, the policy's answers) and checks the
//! step's expectations. A failed expectation does not stop the run: the
//! report shows every step.
//!
//! Values are generated from the step number, so each put writes distinct
//! bytes; every get that returns a value is compared with the last put of
//! that key, and a value served for a deleted key is a failure too.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use bytes::Bytes;

use super::KitError;
use super::expect::Source;
use super::kit::{KitOptions, PolicyKit};
use super::recorder::Decision;
use super::report::{Departure, PerTier, PlacementReport, RunReport, StepReport};
use super::scenario::{Action, Scenario};
use tiered::engine::{SetOptions, StoreStats};
use tiered::policy::{TierId, TierSet};

/// Start a kit, run `scenario` on it, clean up (also when a step errs).
pub async fn run_scenario(options: KitOptions, scenario: &Scenario, name: &str) -> Result<RunReport, KitError> {
    let kit = PolicyKit::start(options).await?;
    let steps = run(&kit, scenario).await;
    let policy = kit.policy_identity();
    let policy_counters = kit.store().policy().counters();
    let cold = kit.cold_name().to_string();
    let cleaned_up = kit.finish().await;
    let steps = steps?;
    Ok(RunReport { scenario: name.to_string(), policy, cold, steps, policy_counters, cleaned_up: cleaned_up? })
}

/// Run every step; one report per step.
pub async fn run(kit: &PolicyKit, scenario: &Scenario) -> Result<Vec<StepReport>, KitError> {
    let actions = scenario
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| s.action().map_err(|m| KitError::Scenario(format!("step {}: {m}", i + 1))))
        .collect::<Result<Vec<_>, _>>()?;
    let known: BTreeSet<String> = actions
        .iter()
        .filter_map(|a| a.key().map(str::to_string))
        .chain(scenario.steps.iter().flat_map(|s| s.expect.others.iter().map(|o| o.key.clone())))
        .collect();
    let start_ms = kit.store().now_ms();
    let mut written: HashMap<String, Bytes> = HashMap::new();
    let mut reports = Vec::with_capacity(actions.len());
    kit.take_decisions();
    for (i, (step, action)) in scenario.steps.iter().zip(&actions).enumerate() {
        let number = i + 1;
        let before = Observation::take(kit, &known).await;
        let mut report = empty_report(number, action);
        let store_err = |source| KitError::Store { step: number, action: action.to_string(), source: Box::new(source) };
        match action {
            Action::Put { key, size, ttl_ms, content_type, meta } => {
                let value = value_for(number, *size);
                let options = SetOptions {
                    ttl: ttl_ms.map(Duration::from_millis),
                    metadata: meta.clone(),
                    content_type: content_type.clone(),
                    ..SetOptions::default()
                };
                kit.store().set(key, value.clone(), options).await.map_err(store_err)?;
                written.insert(key.clone(), value);
            }
            Action::Get { key } => {
                let hit = kit.store().get_with_metadata(key).await.map_err(store_err)?;
                report.source = Some(hit.as_ref().map_or(Source::Miss, |h| match h.source {
                    TierId::Hot => Source::Hot,
                    TierId::Warm => Source::Warm,
                    TierId::Cold => Source::Cold,
                }));
                match (hit, written.get(key)) {
                    (Some(hit), Some(value)) if hit.data != *value => report.failures.push(format!(
                        "the value served ({} bytes) differs from the last put ({} bytes)",
                        hit.data.len(),
                        value.len()
                    )),
                    (Some(_), None) => report.failures.push("a value was served for a deleted or unwritten key".into()),
                    _ => {}
                }
            }
            Action::Delete { key } => {
                report.found = Some(kit.store().delete(key).await.map_err(store_err)?);
                written.remove(key);
            }
            Action::Touch { key, ttl_ms } => {
                let ttl = ttl_ms.map(Duration::from_millis);
                report.found = Some(kit.store().touch(key, ttl).await.map_err(store_err)?);
            }
            Action::Advance { ms } => kit.clock().advance_ms(*ms),
            Action::Check { .. } => {}
        }
        let after = Observation::take(kit, &known).await;
        report.decisions = kit.take_decisions();
        report.elapsed_ms = kit.store().now_ms().saturating_sub(start_ms);
        after.compare(&before, &mut report);
        if let (Action::Put { .. }, Some(Decision::Place { tiers, ttl_ms, .. })) =
            (action, report.decisions.iter().rev().find(|d| matches!(d, Decision::Place { .. })))
        {
            report.placement = Some(PlacementReport { tiers: tiers.clone(), ttl_ms: *ttl_ms });
        }
        if let Some(key) = action.key() {
            report.held = Some(kit.held_in(key).await?);
        }
        for other in &step.expect.others {
            report.others.insert(other.key.clone(), kit.held_in(&other.key).await?);
        }
        let failures = step.expect.check(&report);
        report.failures.extend(failures);
        tracing::debug!(step = number, action = %action, failures = report.failures.len(), "scenario step done");
        reports.push(report);
    }
    Ok(reports)
}

fn empty_report(step: usize, action: &Action) -> StepReport {
    StepReport {
        step,
        action: action.to_string(),
        elapsed_ms: 0,
        placement: None,
        source: None,
        found: None,
        held: None,
        others: Default::default(),
        promotions: PerTier::default(),
        evictions: PerTier::default(),
        demotions: 0,
        departed: Vec::new(),
        decisions: Vec::new(),
        policy_fallbacks: 0,
        s3: None,
        s3_total: None,
        failures: Vec::new(),
    }
}

/// `size` bytes, different for every step (xorshift from the step number).
fn value_for(step: usize, size: u64) -> Bytes {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (step as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// What the kit sees between two steps.
struct Observation {
    stats: StoreStats,
    s3: Option<tiered_s3::RequestCounts>,
    cached: Vec<(String, TierSet)>,
}

impl Observation {
    async fn take(kit: &PolicyKit, known: &BTreeSet<String>) -> Observation {
        let mut cached = Vec::with_capacity(known.len());
        for key in known {
            cached.push((key.clone(), kit.cached_in(key).await));
        }
        Observation { stats: kit.store().stats(), s3: kit.s3_requests(), cached }
    }

    /// Fill the report's counter deltas and departures.
    fn compare(&self, before: &Observation, report: &mut StepReport) {
        let delta = |tier: TierId, f: fn(&tiered::engine::TierStats) -> u64| {
            let get = |o: &Observation| o.stats.tier(tier).map_or(0, f);
            get(self).saturating_sub(get(before))
        };
        report.promotions =
            PerTier { hot: delta(TierId::Hot, |t| t.promotions), warm: delta(TierId::Warm, |t| t.promotions) };
        report.evictions =
            PerTier { hot: delta(TierId::Hot, |t| t.evictions), warm: delta(TierId::Warm, |t| t.evictions) };
        report.demotions = delta(TierId::Hot, |t| t.demotions);
        report.policy_fallbacks =
            self.stats.policy_counters.fallbacks.saturating_sub(before.stats.policy_counters.fallbacks);
        if let (Some(now), Some(then)) = (self.s3, before.s3) {
            report.s3_total = Some(now);
            report.s3 = Some(now.since(&then));
        }
        for ((key, was), (_, is)) in before.cached.iter().zip(&self.cached) {
            for tier in [TierId::Hot, TierId::Warm] {
                if was.contains(tier) && !is.contains(tier) {
                    report.departed.push(Departure {
                        key: key.clone(),
                        tier,
                        named_by_policy: named_by_policy(&report.decisions, key, tier),
                    });
                }
            }
        }
    }
}

/// Whether the policy named `key` as a victim in `tier` during the step
/// (else the host's own order, a delete or an expiry removed it).
fn named_by_policy(decisions: &[Decision], key: &str, tier: TierId) -> bool {
    let id = tiered::engine::object_id(key);
    decisions.iter().any(|d| match d {
        Decision::Admit { tier: t, victims, .. } | Decision::Evict { tier: t, victims, .. } => {
            *t == tier && victims.contains(&id)
        }
        _ => false,
    })
}
