//! Miss ratio against cache size, as an SVG drawn with `plotters`: one curve
//! per policy, then the references, LRU (grey) and Belady's optimum (black),
//! all for the hot tier, one point per size of the sweep.
//!
//! [`draw`] plots one policy's sweep ([`Report`]s); [`draw_comparison`] the
//! labelled reports of [`Simulator::compare`](super::Simulator::compare);
//! both, and the shadow comparison's plot over time
//! ([`crate::shadow::compare`]), draw through [`draw_chart`].
//! Each curve is one `<polyline>` whose points are in size order, and its
//! label is in the legend, so a reader (or a test) can take the figures back
//! out of the file.

use std::path::Path;

use plotters::prelude::*;

use super::{Report, SimError};

/// One line of the chart: its legend label and its points, (hot tier size as
/// a percentage of the trace's unique bytes, miss ratio), in size order.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Policy colours, in the order the policies were given (the references have
/// their own).
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];
const LRU_COLOR: RGBColor = RGBColor(150, 150, 150);

/// The hot tier's size as a percentage of the trace's unique bytes.
fn share(r: &Report) -> f64 {
    if r.unique_bytes == 0 { 0.0 } else { r.hot_bytes as f64 * 100.0 / r.unique_bytes as f64 }
}

/// The LRU and Belady curves of `runs` (sorted by size).
fn references(runs: &[&Report]) -> [Curve; 2] {
    let curve = |label: &str, value: fn(&Report) -> f64| Curve {
        label: label.to_string(),
        points: runs.iter().map(|r| (share(r), value(r))).collect(),
    };
    [curve("LRU", |r| r.lru.miss_ratio), curve("Belady", |r| r.belady.miss_ratio)]
}

/// Draws one policy's sweep (`reports`: one per cache size, any order) into
/// `path`, beside LRU and Belady.
pub fn draw(path: &Path, reports: &[Report]) -> Result<(), SimError> {
    let mut runs: Vec<&Report> = reports.iter().collect();
    runs.sort_by_key(|r| r.hot_bytes);
    let Some(first) = runs.first() else { return Err(failed(path, &"no runs to plot")) };
    let name = first.policy.name.clone();
    let policy = Curve { label: name.clone(), points: runs.iter().map(|r| (share(r), r.policy.miss_ratio)).collect() };
    let mut curves = vec![policy];
    curves.extend(references(&runs));
    draw_curves(path, &format!("hot-tier miss ratio: {name} vs LRU vs Belady"), &curves)
}

/// Draws a comparison (`reports`: labelled, as [`Simulator::compare`](super::Simulator::compare)
/// returns them) into `path`: one curve per label, then LRU and Belady.
pub fn draw_comparison(path: &Path, reports: &[(String, Report)]) -> Result<(), SimError> {
    let mut curves: Vec<Curve> = Vec::new();
    let mut sizes: Vec<&Report> = Vec::new();
    for (label, report) in reports {
        match curves.iter_mut().find(|c| &c.label == label) {
            Some(curve) => curve.points.push((share(report), report.policy.miss_ratio)),
            None => {
                curves.push(Curve { label: label.clone(), points: vec![(share(report), report.policy.miss_ratio)] })
            }
        }
        if !sizes.iter().any(|r| r.hot_bytes == report.hot_bytes) {
            sizes.push(report);
        }
    }
    if curves.is_empty() {
        return Err(failed(path, &"no runs to plot"));
    }
    for curve in &mut curves {
        curve.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    sizes.sort_by_key(|r| r.hot_bytes);
    curves.extend(references(&sizes));
    draw_curves(path, "hot-tier miss ratio by cache size", &curves)
}

fn failed(path: &Path, e: &dyn std::fmt::Display) -> SimError {
    SimError::Plot { path: path.display().to_string(), message: e.to_string() }
}

/// Draws `curves` (the last two are LRU and Belady) under `title`.
fn draw_curves(path: &Path, title: &str, curves: &[Curve]) -> Result<(), SimError> {
    let points = || curves.iter().flat_map(|c| c.points.iter());
    let x_max = points().map(|p| p.0).fold(0.0, f64::max).max(1e-3) * 1.05;
    let policies = curves.len().saturating_sub(2);
    let lines = curves
        .iter()
        .enumerate()
        .map(|(i, curve)| {
            let color = match i.checked_sub(policies) {
                None => PALETTE[i % PALETTE.len()],
                Some(0) => LRU_COLOR,
                Some(_) => BLACK,
            };
            (curve, color)
        })
        .collect();
    let chart =
        Chart { title, x_desc: "hot tier size (% of the trace's unique bytes)", x: 0.0..x_max, lines, markers: true };
    draw_chart(path, &chart).map_err(|e| failed(path, &e))
}

/// A miss-ratio chart: lines against `x`, the y axis from 0 to just above
/// the highest point (at least 0.05, at most 1).
#[derive(Debug)]
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_desc: &'a str,
    pub x: std::ops::Range<f64>,
    /// Each line with its colour; the legend shows each label.
    pub lines: Vec<(&'a Curve, RGBColor)>,
    /// A dot on each point (a sweep has few).
    pub markers: bool,
}

/// Draws `chart` into `path` as SVG: one `<polyline>` per line, in order.
pub fn draw_chart(path: &Path, chart: &Chart<'_>) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let y_max =
        chart.lines.iter().flat_map(|(c, _)| c.points.iter()).map(|p| p.1).fold(0.0, f64::max).clamp(0.05, 1.0) * 1.05;
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut built = ChartBuilder::on(&root)
        .caption(chart.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(chart.x.clone(), 0.0..y_max)
        .map_err(|x| e(&x))?;
    built.configure_mesh().x_desc(chart.x_desc).y_desc("miss ratio").draw().map_err(|x| e(&x))?;
    for &(curve, color) in &chart.lines {
        built
            .draw_series(LineSeries::new(curve.points.clone(), color.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(curve.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        if chart.markers {
            built.draw_series(curve.points.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(|x| e(&x))?;
        }
    }
    built.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.9)).draw().map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}
