//! The text form of a [`Report`], of a sweep (the reports one after the
//! other, then a table of hot-tier miss ratios by cache size), and of a
//! comparison of several policies (one table: per cache size, each policy,
//! then LRU and Belady).

use std::fmt;
use std::fmt::Write as _;

use serde::Serialize;

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

/// One run of a comparison in JSON: the policy's label beside its report.
#[derive(Serialize)]
struct Labelled<'a> {
    label: &'a str,
    #[serde(flatten)]
    report: &'a Report,
}

/// A comparison (`reports` as [`Simulator::compare`](super::Simulator::compare)
/// returns them): a JSON list of labelled reports, or one table.
pub fn render_comparison(reports: &[(String, Report)], json: bool) -> Result<String, SimError> {
    if json {
        let runs: Vec<Labelled<'_>> = reports.iter().map(|(label, report)| Labelled { label, report }).collect();
        return serde_json::to_string_pretty(&runs)
            .map_err(|e| SimError::InvalidArgument(format!("cannot encode the report: {e}")));
    }
    let Some((_, first)) = reports.first() else { return Ok(String::new()) };
    let warm = first.warm_bytes > 0;
    let width = reports.iter().map(|(label, _)| label.len()).max().unwrap_or(0).max(16);
    let mut text = format!(
        "trace: {} requests ({} gets), {} objects, {} unique bytes; warm tier {} bytes\n",
        first.requests, first.gets, first.unique_objects, first.unique_bytes, first.warm_bytes
    );
    text.push_str("miss ratios are the hot tier's (object / byte); S3 figures and cost are for the whole run\n\n");
    let overall = if warm { "  overall" } else { "" };
    let _ = writeln!(
        text,
        "{:<12} {:>7}  {:<width$}  {:>7}  {:>9}{overall}  {:>9}  {:>10}  {:>10}",
        "hot bytes", "share", "policy", "miss", "byte miss", "S3 GETs", "S3 cost", "requests/s"
    );
    let mut fallbacks = Vec::new();
    let mut previous = None;
    for (i, (label, r)) in reports.iter().enumerate() {
        let share = if r.unique_bytes == 0 { 0.0 } else { r.hot_bytes as f64 * 100.0 / r.unique_bytes as f64 };
        let size = if previous == Some(r.hot_bytes) {
            format!("{:<12} {:>7}", "", "")
        } else {
            format!("{:<12} {:>6.2}%", r.hot_bytes, share)
        };
        previous = Some(r.hot_bytes);
        let p = &r.policy;
        let overall = if warm { format!("  {:>7.4}", p.overall_miss_ratio) } else { String::new() };
        let _ = writeln!(
            text,
            "{size}  {label:<width$}  {:>7.4}  {:>9.4}{overall}  {:>9}  {:>10}  {:>10.0}",
            p.miss_ratio,
            p.byte_miss_ratio,
            p.s3_gets,
            format!("${:.4}", p.s3_cost_usd),
            p.requests_per_sec
        );
        if p.policy_fallbacks > 0 {
            fallbacks.push(format!("{label} at {} bytes: {} fallbacks", r.hot_bytes, p.policy_fallbacks));
        }
        // After the last policy of a size: the references.
        if reports.get(i + 1).is_none_or(|(_, next)| next.hot_bytes != r.hot_bytes) {
            let blank = format!("{:<12} {:>7}", "", "");
            let overall = if warm { format!("  {:>7.4}", r.lru.overall_miss_ratio) } else { String::new() };
            let _ = writeln!(
                text,
                "{blank}  {:<width$}  {:>7.4}  {:>9.4}{overall}  {:>9}  {:>10}  {:>10}",
                "LRU (native)",
                r.lru.miss_ratio,
                r.lru.byte_miss_ratio,
                r.lru.s3_gets,
                format!("${:.4}", r.lru.s3_cost_usd),
                "-"
            );
            let overall = if warm { format!("  {:>7}", "-") } else { String::new() };
            let _ = writeln!(
                text,
                "{blank}  {:<width$}  {:>7.4}  {:>9.4}{overall}  {:>9}  {:>10}  {:>10}",
                "Belady (optimal)", r.belady.miss_ratio, r.belady.byte_miss_ratio, "-", "-", "-"
            );
        }
    }
    if !fallbacks.is_empty() {
        text.push_str("\npolicies that failed and were replaced by the host's own order on some calls:\n");
        for line in fallbacks {
            let _ = writeln!(text, "  {line}");
        }
    }
    Ok(text)
}
