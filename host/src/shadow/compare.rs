//! `tiered policy compare`: the live/shadow comparison of a running server,
//! for a person: the report fetched from `GET /v1/policy/shadow`
//! ([`fetch`]), rendered as text with the verdict ([`render`]), and the two
//! miss ratios over time as SVG ([`draw`]).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use plotters::style::RGBColor;

use super::Report;
use crate::sim::plot::{Chart, Curve, draw_chart};

/// Why the comparison could not be fetched or drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    #[error("{0} is not an http:// address (host:port)")]
    Url(String),
    #[error("cannot reach {url}")]
    Connect {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url} answered {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("{url} answered something that is not a shadow report: {message}")]
    Answer { url: String, message: String },
    #[error("cannot draw {path}: {message}")]
    Plot { path: String, message: String },
}

/// The route the report is read from.
pub const ROUTE: &str = "/v1/policy/shadow";

/// Fetches the report of the server at `base` (`http://host:port`), with the
/// admin `token` when given.
pub fn fetch(base: &str, token: Option<&str>) -> Result<Report, CompareError> {
    let authority = base
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| CompareError::Url(base.to_string()))?;
    let url = format!("http://{authority}{ROUTE}");
    let connect = |source| CompareError::Connect { url: url.clone(), source };
    let mut stream = TcpStream::connect(authority).map_err(connect)?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(connect)?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!("GET {ROUTE} HTTP/1.1\r\nHost: {authority}\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(connect)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(connect)?;
    let answer = |message: &str| CompareError::Answer { url: url.clone(), message: message.to_string() };
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| answer("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let status: u16 =
        head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| answer("no status line"))?;
    if head.lines().any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked") {
        body = unchunk(&body).ok_or_else(|| answer("a malformed chunked body"))?;
    }
    if status != 200 {
        let body = String::from_utf8_lossy(&body).trim().to_string();
        return Err(CompareError::Status { url, status, body });
    }
    serde_json::from_slice(&body).map_err(|e| answer(&e.to_string()))
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn unchunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// The comparison as text: who, over how many requests, side by side, and
/// the verdict.
pub fn render(r: &Report) -> String {
    let sha =
        |s: &Option<String>| s.as_deref().map(|s| format!(" (sha256 {})", &s[..s.len().min(12)])).unwrap_or_default();
    let mut out = String::new();
    let state = match (&r.ended, r.running) {
        (Some(reason), _) => format!("ended: {reason}"),
        (None, true) => "running".to_string(),
        (None, false) => "stopped".to_string(),
    };
    out.push_str(&format!(
        "shadow  {} {}{}  [{state}, {:.0} s]\n",
        r.policy.name,
        r.policy.version,
        sha(&r.policy.sha256),
        r.elapsed_secs
    ));
    out.push_str(&format!("live    {} {}{}\n", r.live_policy.name, r.live_policy.version, sha(&r.live_policy.sha256)));
    out.push_str(&format!(
        "reads {} compared (writes {}, deletes {}; left out: {} dropped by a full queue, {} too large for a ghost tier)\n\n",
        r.reads, r.writes, r.deletes, r.dropped, r.uncacheable
    ));
    out.push_str(&format!("{:<18}{:>12}{:>12}{:>12}\n", "", "live", "shadow", "shadow-live"));
    let rows: [(&str, f64, f64); 4] = [
        ("miss ratio", r.live.miss_ratio, r.shadow.miss_ratio),
        ("byte miss ratio", r.live.byte_miss_ratio, r.shadow.byte_miss_ratio),
        ("hot miss ratio", r.live.hot_miss_ratio, r.shadow.hot_miss_ratio),
        ("warm miss ratio", r.live.warm_miss_ratio, r.shadow.warm_miss_ratio),
    ];
    for (name, live, shadow) in rows {
        out.push_str(&format!("{name:<18}{live:>12.4}{shadow:>12.4}{:>+12.4}\n", shadow - live));
    }
    out.push_str(&format!(
        "{:<18}{:>12}{:>12}{:>+12}\n",
        "S3 GETs",
        r.live.s3_gets,
        r.shadow.s3_gets,
        r.shadow.s3_gets as i64 - r.live.s3_gets as i64
    ));
    let p = &r.shadow_policy;
    out.push_str(&format!(
        "\nshadow policy: {} calls, {} fallbacks ({} traps, {} timeouts), busy {:.3} s\n",
        p.calls,
        p.fallbacks,
        p.traps,
        p.timeouts,
        p.busy_ns as f64 / 1e9
    ));
    out.push_str(&format!("\nverdict: {}\n", r.verdict.statement));
    out
}

/// The live and shadow miss ratio of each window against the reads seen,
/// as SVG: two `<polyline>`s labelled `live: NAME` and `shadow: NAME`.
pub fn draw(path: &Path, r: &Report) -> Result<(), CompareError> {
    let failed = |message: String| CompareError::Plot { path: path.display().to_string(), message };
    if r.windows.is_empty() {
        return Err(failed(format!("no window of {} reads has closed yet", r.verdict.window_gets)));
    }
    let x_min = r.windows.first().map_or(0, |w| w.end.saturating_sub(r.verdict.window_gets)) as f64;
    let x_max = r.windows.last().map_or(1, |w| w.end) as f64;
    let curve = |label: String, side: fn(&super::tally::Window) -> f64| Curve {
        label,
        points: r.windows.iter().map(|w| (w.end as f64, side(w))).collect(),
    };
    let live = curve(format!("live: {}", r.live_policy.name), |w| w.live);
    let shadow = curve(format!("shadow: {}", r.policy.name), |w| w.shadow);
    let title = format!("miss ratio per {} reads: live vs shadow", r.verdict.window_gets);
    let chart = Chart {
        title: &title,
        x_desc: "reads",
        x: x_min..x_max.max(x_min + 1.0),
        lines: vec![(&live, RGBColor(150, 150, 150)), (&shadow, RGBColor(31, 119, 180))],
        markers: false,
    };
    draw_chart(path, &chart).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined_and_broken_ones_refused() {
        assert_eq!(unchunk(b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n").as_deref(), Some(&b"abcde"[..]));
        assert_eq!(unchunk(b"5\r\nabc"), None);
        assert_eq!(unchunk(b"zz\r\n"), None);
    }

    #[test]
    fn only_plain_http_addresses_are_taken() {
        for bad in ["https://h:1", "h:1", "http://", "http://h:1/v1"] {
            assert!(matches!(fetch(bad, None), Err(CompareError::Url(_))), "{bad}");
        }
    }
}
