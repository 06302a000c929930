//! The text form of a [`Report`], and of a sweep: the reports one after the
//! other, then a table of hot-tier miss ratios by cache size.

use std::fmt;

use super::{Report, SimError};

/// `m` against `baseline`, as a signed percentage (`-18.3%`).
fn relative(m: f64, baseline: f64) -> String {
    if baseline == 0.0 { "n/a".into() } else { format!("{:+.1}%", (m - baseline) / baseline * 100.0) }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.policy;
        writeln!(
            f,
            "trace: {} requests ({} gets), {} objects, {} unique bytes",
            self.requests, self.gets, self.unique_objects, self.unique_bytes
        )?;
        writeln!(f, "tiers: hot {} bytes, warm {} bytes", self.hot_bytes, self.warm_bytes)?;
        writeln!(
            f,
            "policy {} {}: miss ratio {:.4}; LRU: {:.4} ({}); Belady: {:.4}",
            p.name,
            p.version,
            p.miss_ratio,
            self.lru.miss_ratio,
            relative(p.miss_ratio, self.lru.miss_ratio),
            self.belady.miss_ratio
        )?;
        writeln!(
            f,
            "  byte miss ratio {:.4}; LRU: {:.4}; Belady: {:.4}",
            p.byte_miss_ratio, self.lru.byte_miss_ratio, self.belady.byte_miss_ratio
        )?;
        for t in &p.tiers {
            writeln!(
                f,
                "  {:<4} hit ratio {:.4}, byte hit ratio {:.4}, {} evictions, {} promotions, {} demotions",
                t.tier, t.hit_ratio, t.byte_hit_ratio, t.evictions, t.promotions, t.demotions
            )?;
        }
        writeln!(f, "  overall miss ratio {:.4}; LRU: {:.4}", p.overall_miss_ratio, self.lru.overall_miss_ratio)?;
        writeln!(
            f,
            "  S3: {} GET ({} bytes), {} PUT ({} bytes), {} HEAD; est. ${:.4} (LRU: {} GET, ${:.4})",
            p.s3_gets,
            p.s3_get_bytes,
            p.s3_puts,
            p.s3_put_bytes,
            p.s3_heads,
            p.s3_cost_usd,
            self.lru.s3_gets,
            self.lru.s3_cost_usd
        )?;
        let per_call = p.policy_ns.checked_div(p.policy_calls).unwrap_or(0);
        writeln!(
            f,
            "  policy time: {:.1} ms in {} calls ({per_call} ns/call), {} fallbacks",
            p.policy_ns as f64 / 1e6,
            p.policy_calls,
            p.policy_fallbacks
        )?;
        write!(f, "replay: {:.0} ms, {:.0} requests/s", p.elapsed_ms, p.requests_per_sec)
    }
}

/// One report as itself, a sweep as a list (JSON) or a table after the reports (text).
pub fn render(reports: &[Report], json: bool) -> Result<String, SimError> {
    let to_json = |e: serde_json::Error| SimError::InvalidArgument(format!("cannot encode the report: {e}"));
    if json {
        return match reports {
            [one] => serde_json::to_string_pretty(one).map_err(to_json),
            many => serde_json::to_string_pretty(many).map_err(to_json),
        };
    }
    let mut text = reports.iter().map(Report::to_string).collect::<Vec<_>>().join("\n\n");
    if reports.len() > 1 {
        text.push_str("\n\nhot bytes      share    policy   LRU      Belady   (hot-tier miss ratio)\n");
        for r in reports {
            let share = if r.unique_bytes == 0 { 0.0 } else { r.hot_bytes as f64 * 100.0 / r.unique_bytes as f64 };
            text.push_str(&format!(
                "{:<14} {:>6.2}%  {:.4}   {:.4}   {:.4}\n",
                r.hot_bytes, share, r.policy.miss_ratio, r.lru.miss_ratio, r.belady.miss_ratio
            ));
        }
    }
    Ok(text)
}
