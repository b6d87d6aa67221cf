//! The results table and the statistics behind its figures.

use std::fmt::Write as _;
use std::time::Duration;

/// Whether a row meets its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Met {
    /// The target is met.
    Yes,
    /// The target is missed.
    No,
    /// The row has no target (report only).
    Report,
    /// A `--quick` run: small sizes, so the target does not apply.
    Quick,
    /// Not measured in this run.
    Skipped,
    /// The benchmark failed (a correctness check, or it could not run).
    Failed,
}

impl Met {
    /// `yes` / `no` when `ok` decides, `quick` in a quick run.
    pub fn check(ok: bool, quick: bool) -> Met {
        match (quick, ok) {
            (true, _) => Met::Quick,
            (false, true) => Met::Yes,
            (false, false) => Met::No,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Met::Yes => "yes",
            Met::No => "**no**",
            Met::Report => "report only",
            Met::Quick => "n/a (quick)",
            Met::Skipped => "skipped",
            Met::Failed => "**FAILED**",
        }
    }
}

/// One line of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured.
    pub metric: String,
    /// The figure (with its conditions).
    pub value: String,
    /// The baseline measured in the same run, if the target is a ratio.
    pub baseline: String,
    /// value / baseline.
    pub ratio: String,
    /// The target.
    pub target: String,
    /// Whether it is met.
    pub met: Met,
}

impl Row {
    /// A row with no baseline.
    pub fn new(metric: &str, value: String, target: &str, met: Met) -> Row {
        Row {
            metric: metric.to_owned(),
            value,
            baseline: "—".into(),
            ratio: "—".into(),
            target: target.to_owned(),
            met,
        }
    }

    /// A row for a benchmark that could not produce its figure.
    pub fn failed(metric: &str, target: &str, error: &str) -> Row {
        Row::new(metric, format!("FAILED: {error}"), target, Met::Failed)
    }
}

/// The table as Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| metric | value | baseline | ratio | target | met? |\n|---|---|---|---|---|---|\n");
    for r in rows {
        let cells = [&r.metric, &r.value, &r.baseline, &r.ratio, &r.target];
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(out, "| {} | {} |", cells.join(" | "), r.met.label());
    }
    out
}

/// Percentiles of a sample of durations (nanoseconds).
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Sample size.
    pub n: usize,
    /// Median.
    pub p50: u64,
    /// 99th percentile (nearest rank).
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl Stats {
    /// Statistics of `samples` (sorted here); `None` for an empty sample.
    pub fn of(mut samples: Vec<u64>) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let rank = |p: f64| samples[((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
        Some(Stats { n: samples.len(), p50: rank(0.50), p99: rank(0.99), max: *samples.last().expect("not empty") })
    }

    /// "p50 … / p99 … / max …".
    pub fn summary(&self) -> String {
        format!("p50 {} / p99 {} / max {}", ns(self.p50), ns(self.p99), ns(self.max))
    }
}

/// A duration in nanoseconds, in a readable unit.
pub fn ns(v: u64) -> String {
    let v = v as f64;
    if v < 1e3 {
        format!("{v:.0} ns")
    } else if v < 1e6 {
        format!("{:.1} µs", v / 1e3)
    } else if v < 1e9 {
        format!("{:.2} ms", v / 1e6)
    } else {
        format!("{:.2} s", v / 1e9)
    }
}

/// A duration, readable.
pub fn dur(d: Duration) -> String {
    ns(d.as_nanos() as u64)
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as KiB/MiB.
pub fn bytes(b: f64) -> String {
    if b.abs() < 1024.0 * 1024.0 { format!("{:.1} KiB", b / 1024.0) } else { format!("{:.2} MiB", b / 1048576.0) }
}

/// A ratio "1.23×".
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 { format!("{:.2}×", a / b) } else { "—".into() }
}

/// Least-squares slope of `y` over `x`.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 { 0.0 } else { sxy / sxx }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = Stats::of((1..=100).collect()).unwrap();
        assert_eq!((s.p50, s.p99, s.max, s.n), (50, 99, 100, 100));
        let one = Stats::of(vec![7]).unwrap();
        assert_eq!((one.p50, one.p99), (7, 7));
        assert!(Stats::of(Vec::new()).is_none());
    }

    #[test]
    fn formatting() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(ns(1500), "1.5 µs");
        assert_eq!(ratio(3.0, 2.0), "1.50×");
        assert!((slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]) - 2.0).abs() < 1e-9);
        assert!(table(&[Row::new("a|b", "1".into(), "t", Met::Yes)]).contains("a\\|b"));
    }
}
