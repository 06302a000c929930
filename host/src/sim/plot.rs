//! Miss ratio against cache size, as an SVG drawn with `plotters`: one line
//! for the policy, one for the LRU baseline, one for Belady's optimum (all for
//! the hot tier), one point per size of the sweep.

use std::path::Path;

use plotters::prelude::*;

use super::{Report, SimError};

/// A line of the chart: its label, colour, and the figure it plots.
type Series = (&'static str, RGBColor, fn(&Report) -> f64);

/// Draws `reports` (one per cache size, any order) into `path`.
pub fn draw(path: &Path, reports: &[Report]) -> Result<(), SimError> {
    let failed =
        |e: &dyn std::fmt::Display| SimError::Plot { path: path.display().to_string(), message: e.to_string() };
    if reports.is_empty() {
        return Err(failed(&"no runs to plot"));
    }
    let mut runs: Vec<&Report> = reports.iter().collect();
    runs.sort_by_key(|r| r.hot_bytes);
    let share = |r: &Report| if r.unique_bytes == 0 { 0.0 } else { r.hot_bytes as f64 * 100.0 / r.unique_bytes as f64 };
    let x_max = runs.iter().map(|r| share(r)).fold(0.0, f64::max).max(1e-3) * 1.05;
    let y_max = runs
        .iter()
        .flat_map(|r| [r.policy.miss_ratio, r.lru.miss_ratio, r.belady.miss_ratio])
        .fold(0.0, f64::max)
        .clamp(0.05, 1.0)
        * 1.05;
    let policy_name = runs[0].policy.name.clone();

    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| failed(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("hot-tier miss ratio: {policy_name} vs LRU vs Belady"), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(|e| failed(&e))?;
    chart
        .configure_mesh()
        .x_desc("hot tier size (% of the trace's unique bytes)")
        .y_desc("miss ratio")
        .draw()
        .map_err(|e| failed(&e))?;

    let series: [Series; 3] = [
        ("policy", BLUE, |r| r.policy.miss_ratio),
        ("LRU", RED, |r| r.lru.miss_ratio),
        ("Belady", BLACK, |r| r.belady.miss_ratio),
    ];
    for (label, color, value) in series {
        let points: Vec<(f64, f64)> = runs.iter().map(|r| (share(r), value(r))).collect();
        let label = if label == "policy" { policy_name.clone() } else { label.to_string() };
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| failed(&e))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, color.filled()))).map_err(|e| failed(&e))?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()
        .map_err(|e| failed(&e))?;
    root.present().map_err(|e| failed(&e))?;
    Ok(())
}
