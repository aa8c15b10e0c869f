//! `holdtime compare A B`: two scenarios (say, two timer settings) run on the same seeds,
//! their outcomes side by side.
//!
//! Run `r` of both uses the seed [`crate::sweep::run_seed`]`(base, r)`, as a sweep does, so
//! the two sides see the same random streams wherever the scenarios agree. Per side and run
//! it records, with the functions `[[expect]]` uses: each direction's longest outage
//! (`outage.DIR`), the first detection after a fault (any session, any end), and the session
//! flaps. The result is a [`Comparison`]; its text form is a table of percentiles, its page
//! ([`crate::html::compare`]) a CDF per metric with both sides on it.

use std::fmt::Write as _;

use sim_core::time::Duration;

use crate::scenario::{Metric, Scenario};
use crate::sweep::histogram::{Hist, Unit, show_ns};

/// One side of a comparison.
#[derive(Debug, Clone)]
pub struct Side {
    /// The scenario as given (path or library name).
    pub source: String,
    /// Its name.
    pub name: String,
    /// Per metric (the [`Comparison::metrics`] order): the values of the runs that had one.
    pub hists: Vec<Hist>,
    /// Per metric: runs without a value (no detection; a direction never reachable).
    pub missing: Vec<u64>,
}

/// Two scenarios over the same seeds.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Runs per side.
    pub runs: u64,
    /// The base seed.
    pub seed: u64,
    /// The metrics, by name (`outage.onprem_to_vnet`, `detection`, `flaps`).
    pub metrics: Vec<String>,
    /// The two sides, A then B.
    pub sides: [Side; 2],
}

/// What one run gives for `metrics`.
fn measure(
    sc: &Scenario,
    report: &crate::report::RunReport,
    metrics: &[String],
) -> Vec<Option<u64>> {
    metrics
        .iter()
        .map(|m| {
            if let Some(dir) = m.strip_prefix("outage.") {
                report
                    .metric(sc, &Metric::Outage(dir.to_owned()))
                    .and_then(|q| match q {
                        crate::units::Quantity::Duration(d) => Some(d.as_nanos()),
                        _ => None,
                    })
            } else if m == "detection" {
                report
                    .detections
                    .iter()
                    .filter_map(|d| d.after_fault)
                    .min()
                    .map(|d: Duration| d.as_nanos())
            } else {
                Some(report.flaps.iter().map(|f| f.count).sum())
            }
        })
        .collect()
}

/// Runs `a` and `b` `runs` times each on the same seeds from `seed`.
///
/// # Errors
///
/// The first run that fails, with the side's source.
pub fn compare(
    a: (&str, &Scenario),
    b: (&str, &Scenario),
    runs: u64,
    seed: u64,
) -> Result<Comparison, String> {
    let mut dirs: Vec<String> = Vec::new();
    for sc in [a.1, b.1] {
        for d in sc.directions() {
            if !dirs.contains(&d.name) {
                dirs.push(d.name);
            }
        }
    }
    let mut metrics: Vec<String> = dirs.iter().map(|d| format!("outage.{d}")).collect();
    metrics.push("detection".to_owned());
    metrics.push("flaps".to_owned());
    let mut sides = Vec::with_capacity(2);
    for (source, sc) in [a, b] {
        let prepared = crate::Prepared::new(sc).map_err(|e| format!("{source}: not run: {e}"))?;
        let mut hists: Vec<Hist> = metrics
            .iter()
            .map(|m| Hist::new(if m == "flaps" { Unit::Count } else { Unit::Ns }))
            .collect();
        let mut missing = vec![0u64; metrics.len()];
        for r in 0..runs {
            let report = prepared
                .run(crate::sweep::run_seed(seed, r))
                .map_err(|e| format!("{source}: run {} not run: {e}", r + 1))?;
            for (i, v) in measure(sc, &report, &metrics).into_iter().enumerate() {
                match v {
                    Some(v) => hists[i].record(v),
                    None => missing[i] += 1,
                }
            }
        }
        sides.push(Side {
            source: source.to_owned(),
            name: sc.name.clone(),
            hists,
            missing,
        });
    }
    let [sa, sb]: [Side; 2] = sides
        .try_into()
        .map_err(|_| "two sides expected".to_owned())?;
    Ok(Comparison {
        runs,
        seed,
        metrics,
        sides: [sa, sb],
    })
}

impl Comparison {
    /// `(metric, side) → [p50, p90, p99, max]` as text, `-` without values.
    #[must_use]
    pub fn cells(&self, metric: usize, side: usize) -> [String; 4] {
        let h = &self.sides[side].hists[metric];
        if h.is_empty() {
            return ["-".into(), "-".into(), "-".into(), "-".into()];
        }
        let show = |v: u64| match h.unit {
            Unit::Ns => show_ns(v),
            Unit::Count => v.to_string(),
        };
        [
            show(h.quantile(0.5)),
            show(h.quantile(0.9)),
            show(h.quantile(0.99)),
            show(h.max()),
        ]
    }

    /// The side-by-side text table.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "A: {} ({})\nB: {} ({})\n{} runs each, on the same seeds (base seed {})\n",
            self.sides[0].source,
            self.sides[0].name,
            self.sides[1].source,
            self.sides[1].name,
            self.runs,
            self.seed
        );
        let width = self
            .metrics
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(6)
            .max(6);
        let _ = writeln!(
            s,
            "{:<width$}  {:>4}  {:>10} {:>10} {:>10} {:>10}  {:>5}",
            "metric", "side", "p50", "p90", "p99", "max", "none"
        );
        for (i, m) in self.metrics.iter().enumerate() {
            for side in 0..2 {
                let c = self.cells(i, side);
                let _ = writeln!(
                    s,
                    "{:<width$}  {:>4}  {:>10} {:>10} {:>10} {:>10}  {:>5}",
                    if side == 0 { m.as_str() } else { "" },
                    if side == 0 { "A" } else { "B" },
                    c[0],
                    c[1],
                    c[2],
                    c[3],
                    self.sides[side].missing[i]
                );
            }
        }
        let _ = writeln!(
            s,
            "\nmetrics: outage.DIR the longest outage of one flow of DIR; detection the first end to declare a session down after a fault; flaps sessions leaving Established; none: runs without a value"
        );
        s
    }
}
