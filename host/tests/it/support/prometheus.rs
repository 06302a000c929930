//! `/metrics` read with a Prometheus text-format parser.

use anyhow::Result;
use prometheus_parse::{Sample, Scrape, Value};

use super::server::Server;

/// The server's `/metrics`, parsed, and its text (for failure messages).
pub async fn scrape(server: &Server) -> Result<(Scrape, String)> {
    let text = String::from_utf8(server.http.get("/metrics").await?.body.to_vec())?;
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string())))?;
    Ok((scrape, text))
}

/// The `_count` of histogram `name` for the series whose labels include
/// `labels`, summed over the series that match.
pub fn count(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(histogram_count)
        .sum()
}

fn histogram_count(sample: &Sample) -> f64 {
    match &sample.value {
        Value::Histogram(buckets) => buckets.iter().find(|b| b.less_than.is_infinite()).map_or(0.0, |b| b.count),
        _ => 0.0,
    }
}

pub fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let sample =
        scrape.samples.iter().find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))?;
    match sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(v),
        _ => None,
    }
}
