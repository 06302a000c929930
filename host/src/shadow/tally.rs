//! The side-by-side counts of a shadow run: for every read both saw, which
//! tier served it live and which would have served it under the shadow, in
//! totals and in windows of a fixed number of reads; and the verdict drawn
//! from the windows.

use serde::{Deserialize, Serialize};
use tiered::policy::TierId;

/// Windows kept for the verdict and the plot; older ones are folded into
/// the totals only.
pub const MAX_WINDOWS: usize = 4096;

/// The reads of one side (live or shadow) and where they were served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// Reads counted.
    pub gets: u64,
    /// Bytes those reads returned.
    pub bytes: u64,
    pub hot_hits: u64,
    pub warm_hits: u64,
    /// Reads served by cold: S3 GETs with an S3 cold tier.
    pub cold_gets: u64,
    pub cold_bytes: u64,
}

impl Side {
    fn count(&mut self, tier: TierId, size: u64) {
        self.gets += 1;
        self.bytes += size;
        match tier {
            TierId::Hot => self.hot_hits += 1,
            TierId::Warm => self.warm_hits += 1,
            TierId::Cold => {
                self.cold_gets += 1;
                self.cold_bytes += size;
            }
        }
    }

    /// Share of reads no cache tier served.
    pub fn miss_ratio(&self) -> f64 {
        ratio(self.cold_gets, self.gets)
    }

    /// Share of bytes read that no cache tier served.
    pub fn byte_miss_ratio(&self) -> f64 {
        ratio(self.cold_bytes, self.bytes)
    }

    /// Share of reads the hot tier did not serve.
    pub fn hot_miss_ratio(&self) -> f64 {
        ratio(self.gets - self.hot_hits, self.gets)
    }

    /// Of the reads that reached warm, the share it did not serve.
    pub fn warm_miss_ratio(&self) -> f64 {
        ratio(self.cold_gets, self.gets - self.hot_hits)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// One window: the live and shadow miss ratios over the same reads.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Reads observed before the window ended (its end on the plot's axis).
    pub end: u64,
    pub live: f64,
    pub shadow: f64,
}

/// Live and shadow over the same reads.
#[derive(Clone, Debug)]
pub struct Tally {
    pub live: Side,
    pub shadow: Side,
    window_gets: u64,
    current: (Side, Side),
    pub windows: std::collections::VecDeque<Window>,
}

impl Tally {
    /// A tally closing a window every `window_gets` reads (at least 1).
    pub fn new(window_gets: u64) -> Tally {
        Tally {
            live: Side::default(),
            shadow: Side::default(),
            window_gets: window_gets.max(1),
            current: Default::default(),
            windows: Default::default(),
        }
    }

    pub fn window_gets(&self) -> u64 {
        self.window_gets
    }

    /// One read of `size` bytes: served by `live`, and by `shadow` under the candidate.
    pub fn count(&mut self, size: u64, live: TierId, shadow: TierId) {
        self.live.count(live, size);
        self.shadow.count(shadow, size);
        self.current.0.count(live, size);
        self.current.1.count(shadow, size);
        if self.current.0.gets == self.window_gets {
            let (l, s) = std::mem::take(&mut self.current);
            if self.windows.len() == MAX_WINDOWS {
                self.windows.pop_front();
            }
            self.windows.push_back(Window { end: self.live.gets, live: l.miss_ratio(), shadow: s.miss_ratio() });
        }
    }

    /// The verdict over the windows closed so far.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(&self.live, &self.shadow, self.windows.iter().copied(), self.window_gets)
    }
}

/// What the windows say about the shadow against the live policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Shadow miss ratio minus live miss ratio over every read counted
    /// (negative: the shadow would have missed less).
    pub difference: f64,
    /// Windows of `window_gets` reads the spread is measured over.
    pub windows: u64,
    pub window_gets: u64,
    /// Mean of the per-window differences.
    pub window_mean: f64,
    /// Standard deviation of the per-window differences.
    pub window_sd: f64,
    /// Half-width of a 95 % interval for the mean difference
    /// (1.96 standard errors; windows of one stream are not independent,
    /// so read it as a guide, and widen the windows to be safer).
    pub interval: f64,
    /// `better`, `worse`, `no clear difference` or `too few windows`.
    pub outcome: String,
    /// The verdict as a sentence.
    pub statement: String,
}

/// Windows needed before a verdict other than `too few windows`.
pub const MIN_WINDOWS: u64 = 5;

impl Verdict {
    pub fn of(live: &Side, shadow: &Side, windows: impl Iterator<Item = Window>, window_gets: u64) -> Verdict {
        let differences: Vec<f64> = windows.map(|w| w.shadow - w.live).collect();
        let n = differences.len() as f64;
        let mean = if differences.is_empty() { 0.0 } else { differences.iter().sum::<f64>() / n };
        let sd = if differences.len() < 2 {
            0.0
        } else {
            (differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        let interval = if differences.is_empty() { 0.0 } else { 1.96 * sd / n.sqrt() };
        let difference = shadow.miss_ratio() - live.miss_ratio();
        let points = |x: f64| x * 100.0;
        let (outcome, statement) = if (differences.len() as u64) < MIN_WINDOWS {
            let statement = format!(
                "too few reads for a verdict: {} of {} reads seen ({} windows needed)",
                live.gets,
                MIN_WINDOWS * window_gets,
                MIN_WINDOWS
            );
            ("too few windows", statement)
        } else if mean.abs() <= interval {
            let statement = format!(
                "no clear difference: over {} reads the shadow's miss ratio differs by {:+.2} points, \
                 within the windows' spread of ±{:.2}",
                live.gets,
                points(difference),
                points(interval)
            );
            ("no clear difference", statement)
        } else {
            let (outcome, word) = if mean < 0.0 { ("better", "fewer") } else { ("worse", "more") };
            let statement = format!(
                "the shadow is {outcome}: over {} reads it would have missed {:.2} points {word} than the live \
                 policy ({:.4} vs {:.4}); per window of {} reads {:+.2} ± {:.2} points (95 %, {} windows)",
                live.gets,
                points(difference.abs()),
                shadow.miss_ratio(),
                live.miss_ratio(),
                window_gets,
                points(mean),
                points(interval),
                differences.len()
            );
            (outcome, statement)
        };
        Verdict {
            difference,
            windows: differences.len() as u64,
            window_gets,
            window_mean: mean,
            window_sd: sd,
            interval,
            outcome: outcome.to_string(),
            statement,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_count_tiers_and_windows_close_on_their_size() {
        let mut tally = Tally::new(4);
        for i in 0..10u64 {
            let live = if i % 2 == 0 { TierId::Hot } else { TierId::Cold };
            tally.count(100, live, TierId::Warm);
        }
        assert_eq!(tally.live.gets, 10);
        assert_eq!((tally.live.hot_hits, tally.live.cold_gets), (5, 5));
        assert_eq!(tally.shadow.warm_hits, 10);
        assert_eq!(tally.live.miss_ratio(), 0.5);
        assert_eq!(tally.live.warm_miss_ratio(), 1.0);
        assert_eq!(tally.shadow.hot_miss_ratio(), 1.0);
        assert_eq!(tally.shadow.miss_ratio(), 0.0);
        assert_eq!(tally.windows.len(), 2, "two windows of 4 closed, 2 reads pending");
        assert_eq!(tally.windows[1], Window { end: 8, live: 0.5, shadow: 0.0 });
    }

    #[test]
    fn the_verdict_needs_windows_and_a_difference_beyond_the_spread() {
        let side = |gets, cold| Side { gets, cold_gets: cold, ..Side::default() };
        let windows = |d: &[f64]| {
            d.iter().enumerate().map(|(i, d)| Window { end: i as u64, live: 0.5, shadow: 0.5 + d }).collect::<Vec<_>>()
        };
        let few = Verdict::of(&side(3, 1), &side(3, 1), windows(&[0.1]).into_iter(), 1);
        assert_eq!(few.outcome, "too few windows");

        let better = windows(&[-0.10, -0.11, -0.09, -0.10, -0.12, -0.08]);
        let v = Verdict::of(&side(600, 300), &side(600, 240), better.into_iter(), 100);
        assert_eq!(v.outcome, "better", "{v:?}");
        assert!((v.difference + 0.1).abs() < 1e-9);
        assert!((v.window_mean + 0.1).abs() < 1e-9);
        assert!(v.interval > 0.0 && v.interval < 0.02, "{v:?}");

        let noise = windows(&[0.1, -0.1, 0.12, -0.09, 0.05, -0.07]);
        let v = Verdict::of(&side(600, 300), &side(600, 303), noise.into_iter(), 100);
        assert_eq!(v.outcome, "no clear difference", "{v:?}");
    }

    #[test]
    fn old_windows_are_dropped_past_the_bound() {
        let mut tally = Tally::new(1);
        for _ in 0..MAX_WINDOWS + 10 {
            tally.count(1, TierId::Hot, TierId::Cold);
        }
        assert_eq!(tally.windows.len(), MAX_WINDOWS);
        assert_eq!(tally.windows.front().map(|w| w.end), Some(11));
    }
}
