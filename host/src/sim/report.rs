//! The report of one replay: the policy through the engine, the LRU and
//! Belady baselines beside it, S3 requests and an estimated bill.
//!
//! `miss_ratio` is the hot tier's (the share of gets hot did not serve), the
//! figure Belady bounds; `overall_miss_ratio` is the share of gets that
//! reached cold. With `--warm 0` the two are the same. The S3 estimate uses
//! [`Prices`]: GET and HEAD requests at the GET price, PUTs at the PUT price,
//! and the bytes read from S3 at a per-GB transfer price.

use serde::Serialize;

use super::belady::BeladyRun;
use super::lru::LruRun;
use super::replay::{EngineRun, S3Counts, Served};
use tiered::policy::TierId;

/// S3 prices in US dollars. Defaults: AWS S3 Standard, us-east-1 (GET and
/// HEAD $0.0004 per 1,000, PUT $0.005 per 1,000, transfer out to the
/// internet $0.09 per GB; use 0 for reads from the same region).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Prices {
    pub get_per_1000: f64,
    pub put_per_1000: f64,
    pub per_gb: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Prices { get_per_1000: 0.0004, put_per_1000: 0.005, per_gb: 0.09 }
    }
}

impl Prices {
    /// The estimated bill of `s3`.
    pub fn cost(&self, s3: &S3Counts) -> f64 {
        (s3.gets + s3.heads) as f64 * self.get_per_1000 / 1000.0
            + s3.puts as f64 * self.put_per_1000 / 1000.0
            + s3.get_bytes as f64 / 1e9 * self.per_gb
    }
}

/// One replay, with its baselines.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub requests: u64,
    pub gets: u64,
    pub unique_objects: u64,
    /// Footprint bytes (value + metadata) of every object, at first size.
    pub unique_bytes: u64,
    pub hot_bytes: u64,
    pub warm_bytes: u64,
    pub policy: PolicyReport,
    pub lru: BaselineReport,
    pub belady: BeladyReport,
}

/// The policy, replayed through the engine.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyReport {
    pub name: String,
    pub version: String,
    pub miss_ratio: f64,
    pub byte_miss_ratio: f64,
    pub overall_miss_ratio: f64,
    pub overall_byte_miss_ratio: f64,
    pub s3_gets: u64,
    pub s3_get_bytes: u64,
    pub s3_puts: u64,
    pub s3_put_bytes: u64,
    pub s3_heads: u64,
    pub s3_cost_usd: f64,
    /// Nanoseconds spent inside policy calls.
    pub policy_ns: u64,
    pub policy_calls: u64,
    pub policy_fallbacks: u64,
    pub tiers: Vec<TierReport>,
    /// Wall time of the replay (excluding trace parsing and baselines).
    pub elapsed_ms: f64,
    pub requests_per_sec: f64,
}

/// A baseline replayed natively.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaselineReport {
    pub miss_ratio: f64,
    pub byte_miss_ratio: f64,
    pub overall_miss_ratio: f64,
    pub overall_byte_miss_ratio: f64,
    pub s3_gets: u64,
    pub s3_get_bytes: u64,
    pub s3_puts: u64,
    pub s3_cost_usd: f64,
    pub tiers: Vec<TierReport>,
}

/// Belady's optimum for the hot tier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BeladyReport {
    pub miss_ratio: f64,
    pub byte_miss_ratio: f64,
}

/// One cache tier's figures. Ratios are over the gets that reached the tier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TierReport {
    pub tier: TierId,
    pub hits: u64,
    pub hit_ratio: f64,
    pub byte_hit_ratio: f64,
    pub evictions: u64,
    pub promotions: u64,
    pub demotions: u64,
    /// Hit events the policy never saw (batched mode: full buffers, or
    /// `--drop-hits`).
    pub hits_dropped: u64,
    /// Times the policy's count of residents disagreed with the engine's
    /// (its order was rebuilt): 0 for an order that keeps count.
    pub order_mismatches: u64,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// Per-tier reports from the gets each tier served, top down.
fn tier_reports(served: &[Served; 3], gets: u64, bytes: u64, present: [bool; 2]) -> Vec<TierReport> {
    let (mut reaching, mut reaching_bytes) = (gets, bytes);
    let mut tiers = Vec::new();
    for (i, tier) in [TierId::Hot, TierId::Warm].into_iter().enumerate() {
        if !present[i] {
            continue;
        }
        let s = served[i];
        tiers.push(TierReport {
            tier,
            hits: s.gets,
            hit_ratio: ratio(s.gets, reaching),
            byte_hit_ratio: ratio(s.bytes, reaching_bytes),
            evictions: 0,
            promotions: 0,
            demotions: 0,
            hits_dropped: 0,
            order_mismatches: 0,
        });
        reaching -= s.gets;
        reaching_bytes -= s.bytes;
    }
    tiers
}

/// The inputs of a report besides the runs.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    pub requests: u64,
    pub unique_objects: u64,
    pub unique_bytes: u64,
    pub hot_bytes: u64,
    pub warm_bytes: u64,
    pub prices: Prices,
}

impl Report {
    pub fn new(setting: Setting, engine: &EngineRun, lru: &LruRun, belady: &BeladyRun) -> Report {
        let present = [setting.hot_bytes > 0, setting.warm_bytes > 0];
        let (gets, bytes) = (engine.gets, engine.get_bytes);
        let hot_miss = |s: &[Served; 3]| (ratio(gets - s[0].gets, gets), ratio(bytes - s[0].bytes, bytes));
        let cached = |s: &[Served; 3]| (s[0].gets + s[1].gets, s[0].bytes + s[1].bytes);

        let mut tiers = tier_reports(&engine.served, gets, bytes, present);
        for t in &mut tiers {
            if let Some(s) = engine.stats.tier(t.tier) {
                (t.evictions, t.promotions, t.demotions) = (s.evictions, s.promotions, s.demotions);
                t.hits_dropped = s.hits_dropped;
                t.order_mismatches = s.order_mismatches;
            }
        }
        let (miss_ratio, byte_miss_ratio) = hot_miss(&engine.served);
        let (hits, hit_bytes) = cached(&engine.served);
        let counters = engine.stats.policy_counters;
        let seconds = engine.elapsed.as_secs_f64();
        let policy = PolicyReport {
            name: engine.stats.policy.name.clone(),
            version: engine.stats.policy.version.clone(),
            miss_ratio,
            byte_miss_ratio,
            overall_miss_ratio: ratio(gets - hits, gets),
            overall_byte_miss_ratio: ratio(bytes - hit_bytes, bytes),
            s3_gets: engine.s3.gets,
            s3_get_bytes: engine.s3.get_bytes,
            s3_puts: engine.s3.puts,
            s3_put_bytes: engine.s3.put_bytes,
            s3_heads: engine.s3.heads,
            s3_cost_usd: setting.prices.cost(&engine.s3),
            policy_ns: counters.busy_ns,
            policy_calls: counters.calls,
            policy_fallbacks: counters.fallbacks,
            tiers,
            elapsed_ms: seconds * 1e3,
            requests_per_sec: if seconds > 0.0 { setting.requests as f64 / seconds } else { 0.0 },
        };

        let (miss_ratio, byte_miss_ratio) = hot_miss(&lru.served);
        let (hits, hit_bytes) = cached(&lru.served);
        let lru = BaselineReport {
            miss_ratio,
            byte_miss_ratio,
            overall_miss_ratio: ratio(gets - hits, gets),
            overall_byte_miss_ratio: ratio(bytes - hit_bytes, bytes),
            s3_gets: lru.s3.gets,
            s3_get_bytes: lru.s3.get_bytes,
            s3_puts: lru.s3.puts,
            s3_cost_usd: setting.prices.cost(&lru.s3),
            tiers: tier_reports(&lru.served, lru.gets, lru.get_bytes, present),
        };
        let belady = BeladyReport {
            miss_ratio: ratio(belady.gets - belady.hits, belady.gets),
            byte_miss_ratio: ratio(belady.get_bytes - belady.hit_bytes, belady.get_bytes),
        };
        Report {
            requests: setting.requests,
            gets,
            unique_objects: setting.unique_objects,
            unique_bytes: setting.unique_bytes,
            hot_bytes: setting.hot_bytes,
            warm_bytes: setting.warm_bytes,
            policy,
            lru,
            belady,
        }
    }

    /// The report with its wall-clock figures zeroed: what must be identical
    /// between two replays of one trace with one policy.
    pub fn without_timings(&self) -> Report {
        let mut report = self.clone();
        (report.policy.elapsed_ms, report.policy.requests_per_sec, report.policy.policy_ns) = (0.0, 0.0, 0);
        report
    }
}
