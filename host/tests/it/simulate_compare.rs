//! `tiered simulate` with several `--policy`: one replay per policy and size,
//! one table, one curve per policy in the plot beside LRU and Belady.
//!
//! The plot is checked by reading the SVG back: each curve is the one
//! `<polyline>` with a point per size, in the order the policies were given
//! and then LRU and Belady, and where one policy misses more than another the
//! curve lies higher in the picture.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use clap::Parser;
use tiered_host::sim::cli::{SimulateArgs, execute};

use super::simulate::fidelity_files;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: SimulateArgs,
}

fn simulate(args: &[&str]) -> Result<String> {
    let cli = Cli::try_parse_from(std::iter::once("simulate").chain(args.iter().copied()))?;
    Ok(execute(&cli.args)?)
}

/// The curves of a plot: each `<polyline>` of `points` points (mesh lines and
/// legend marks have two), as pixel coordinates, with its stroke colour.
fn curves(svg: &str, points: usize) -> Vec<(String, Vec<(f64, f64)>)> {
    let attribute = |element: &str, name: &str| -> Option<String> {
        let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(element[start..].split('"').next()?.to_string())
    };
    svg.split("<polyline")
        .skip(1)
        .filter_map(|element| {
            let element = element.split("/>").next()?;
            let coords: Vec<(f64, f64)> = attribute(element, "points")?
                .split_whitespace()
                .filter_map(|pair| {
                    let (x, y) = pair.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect();
            (coords.len() == points).then(|| (attribute(element, "stroke").unwrap_or_default(), coords))
        })
        .collect()
}

#[test]
fn several_policies_give_one_table_and_one_curve_each() -> Result<()> {
    let (trace, _) = fidelity_files()?;
    let dir = tempfile::tempdir()?;
    let plot = dir.path().join("curves.svg");
    let (trace, plot_arg) = (trace.to_string_lossy().into_owned(), plot.to_string_lossy().into_owned());
    let common = ["--trace", &trace, "--format", "oracle-general", "--sizes", "1%,5%,10%", "--no-progress"];
    let policies = ["--policy", "lru", "--policy", "fifo", "--policy", "default"];
    let json = simulate(&[&common[..], &policies[..], &["--json", "--plot", &plot_arg]].concat())?;
    let runs: Vec<serde_json::Value> = serde_json::from_str(&json)?;
    ensure!(runs.len() == 9, "three policies at three sizes: {} runs", runs.len());
    let miss = |run: &serde_json::Value, path: &[&str]| -> Result<f64> {
        path.iter().try_fold(run, |v, k| v.get(*k)).and_then(|v| v.as_f64()).context("miss ratio")
    };
    // figures[size][curve]: lru, fifo, default, then LRU and Belady.
    let mut figures = Vec::new();
    for (size, group) in runs.chunks(3).enumerate() {
        let labels: Vec<&str> = group.iter().map(|r| r["label"].as_str().unwrap_or("?")).collect();
        ensure!(labels == ["lru", "fifo", "default"], "size {size}: {labels:?}");
        ensure!(group.iter().all(|r| r["hot_bytes"] == group[0]["hot_bytes"]), "one size per group");
        let mut row = Vec::new();
        for run in group {
            row.push(miss(run, &["policy", "miss_ratio"])?);
        }
        let (lru, belady) = (miss(&group[0], &["lru", "miss_ratio"])?, miss(&group[0], &["belady", "miss_ratio"])?);
        // Within the bound the library's deterministic algorithms keep to
        // libCacheSim (a share of the unique bytes need not be a whole
        // number of footprints; the budgets of the two LRUs round alike but
        // not identically).
        ensure!((row[0] - lru).abs() <= 0.0005, "the library's LRU is the native LRU: {} vs {lru}", row[0]);
        ensure!(row.iter().all(|&m| belady <= m), "Belady {belady} bounds every policy: {row:?}");
        row.extend([lru, belady]);
        figures.push(row);
    }

    let svg = std::fs::read_to_string(&plot)?;
    for label in ["lru", "fifo", "default", "LRU", "Belady"] {
        ensure!(
            svg.contains(&format!(">\n{label}\n</text>")) || svg.contains(&format!(">{label}</text>")),
            "legend lacks {label}"
        );
    }
    let drawn = curves(&svg, 3);
    ensure!(drawn.len() == 5, "five curves of three points: {} found", drawn.len());
    ensure!(
        drawn[3].0 == "#969696" && drawn[4].0 == "#000000",
        "LRU grey, Belady black: {:?}",
        [&drawn[3].0, &drawn[4].0]
    );
    for (curve, (_, points)) in drawn.iter().enumerate() {
        ensure!(points.windows(2).all(|w| w[0].0 < w[1].0), "curve {curve}: sizes left to right");
    }
    // Pixel rows grow downwards: a higher miss ratio is a smaller y.
    for (size, row) in figures.iter().enumerate() {
        for (a, &ma) in row.iter().enumerate() {
            for (b, &mb) in row.iter().enumerate() {
                let (ya, yb) = (drawn[a].1[size].1, drawn[b].1[size].1);
                if ma > mb + 0.01 {
                    ensure!(ya < yb, "size {size}: curve {a} ({ma}) is not above curve {b} ({mb}): y {ya} vs {yb}");
                }
            }
        }
    }

    // The text form: one table, each policy once per size, then the references.
    let text = simulate(&[&common[..], &policies[..]].concat())?;
    for label in ["lru", "fifo", "default", "LRU (native)", "Belady (optimal)"] {
        let rows = text.lines().filter(|l| l.split_whitespace().collect::<Vec<_>>().join(" ").contains(label)).count();
        ensure!(rows >= 3, "{label} appears in {rows} rows of:\n{text}");
    }
    Ok(())
}

#[test]
fn a_policy_spec_is_checked_before_the_trace_is_read() -> Result<()> {
    let missing = "/nonexistent/trace.oracleGeneral";
    for (args, says) in [
        (vec!["--policy", "no-such-policy"], "neither a component file nor a policy name"),
        (vec!["--policy", "lru", "--policy", "lru"], "given twice"),
        (vec!["--policy", "clock:n-bit-counter"], "expected KEY=VALUE"),
        (vec!["--policy", "/nonexistent/policy.wasm"], "/nonexistent/policy.wasm"),
    ] {
        let all = [&["--trace", missing][..], &args[..]].concat();
        let error = simulate(&all).err().with_context(|| format!("{args:?} should fail"))?;
        ensure!(format!("{error:#}").contains(says), "{args:?}: {error:#}");
    }
    // A pair after `:` configures that policy alone, and shows in its label.
    let (trace, _) = fidelity_files()?;
    let trace = trace.to_string_lossy().into_owned();
    let json = simulate(&[
        "--trace",
        &trace,
        "--format",
        "oracle-general",
        "--hot",
        "5%",
        "--no-progress",
        "--json",
        "--policy",
        "clock",
        "--policy",
        "clock:n-bit-counter=2",
    ])?;
    let runs: Vec<serde_json::Value> = serde_json::from_str(&json)?;
    let labels: Vec<&str> = runs.iter().filter_map(|r| r["label"].as_str()).collect();
    ensure!(labels == ["clock", "clock:n-bit-counter=2"], "{labels:?}");
    ensure!(runs[0]["policy"]["miss_ratio"] != runs[1]["policy"]["miss_ratio"], "two counters decide otherwise");
    Ok(())
}

/// `../shared/traces/real` beside the workspace (or `TIERED_REAL_TRACES`).
pub(crate) fn real_traces() -> Option<PathBuf> {
    let dir = std::env::var_os("TIERED_REAL_TRACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces/real"));
    dir.is_dir().then_some(dir)
}

#[test]
fn the_comparison_runs_on_the_small_real_traces() -> Result<()> {
    let Some(dir) = real_traces() else {
        let _ = writeln!(std::io::stderr(), "SKIPPED: no real traces beside the workspace (set TIERED_REAL_TRACES)");
        return Ok(());
    };
    for name in ["cache2k_web12", "cloudPhysicsIO"] {
        let trace = dir.join(format!("{name}.oracleGeneral.bin"));
        let trace = trace.to_string_lossy();
        let json = simulate(&[
            "--trace",
            &trace,
            "--format",
            "oracle-general",
            "--sizes",
            "1%,10%",
            "--no-progress",
            "--json",
            "--policy",
            "lru",
            "--policy",
            "sieve",
        ])?;
        let runs: Vec<serde_json::Value> = serde_json::from_str(&json)?;
        ensure!(runs.len() == 4, "{name}: {} runs", runs.len());
        for run in &runs {
            let (ours, lru) = (run["policy"]["miss_ratio"].as_f64(), run["lru"]["miss_ratio"].as_f64());
            ensure!(ours.is_some_and(|m| (0.0..=1.0).contains(&m)), "{name}: {run}");
            if run["label"] == "lru" {
                let (ours, lru) = (ours.unwrap_or(-1.0), lru.unwrap_or(1.0));
                ensure!((ours - lru).abs() <= 0.0005, "{name}: the library's LRU is the native LRU ({ours} vs {lru})");
            }
        }
    }
    Ok(())
}
