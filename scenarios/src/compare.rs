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

/// Runs `a` and `b` `runs` times each on the same seeds from `seed`, over `jobs` worker
/// threads (at least 1).
///
/// Each worker builds its own start-up of a side ([`crate::Prepared`]), takes the next run
/// number, and records into its own histograms; the workers' histograms and counts are added
/// at the end. Adding counts is commutative, so the result (and every byte shown from it) does
/// not depend on `jobs` or on which worker ran which run, as for `holdtime sweep`.
///
/// # Errors
///
/// The failing run with the lowest number (whatever the number of workers), with the side's
/// source.
pub fn compare(
    a: (&str, &Scenario),
    b: (&str, &Scenario),
    runs: u64,
    seed: u64,
    jobs: usize,
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
        let (hists, missing) = side(source, sc, &metrics, runs, seed, jobs)?;
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

/// Empty histograms for `metrics`.
fn empty(metrics: &[String]) -> Vec<Hist> {
    metrics
        .iter()
        .map(|m| Hist::new(if m == "flaps" { Unit::Count } else { Unit::Ns }))
        .collect()
}

/// One side's histograms and missing counts, over `jobs` workers.
fn side<'s>(
    source: &str,
    sc: &'s Scenario,
    metrics: &[String],
    runs: u64,
    seed: u64,
    jobs: usize,
) -> Result<(Vec<Hist>, Vec<u64>), String> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    // Built once here so that an unusable scenario is refused before any thread starts; the
    // calling thread works with it, every other worker builds its own.
    let first = crate::Prepared::new(sc).map_err(|e| format!("{source}: not run: {e}"))?;
    let next = AtomicU64::new(0);
    // The lowest-numbered failure so far (runs above it are not started).
    let failed: Mutex<Option<(u64, String)>> = Mutex::new(None);
    let lowest_failure = || {
        failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(r, _)| *r)
    };
    let fail = |r: u64, e: String| {
        let mut f = failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if f.as_ref().is_none_or(|(k, _)| r < *k) {
            *f = Some((r, e));
        }
    };
    let work = |prepared: Option<crate::Prepared<'s>>| {
        let mut hists = empty(metrics);
        let mut missing = vec![0u64; metrics.len()];
        let mut prepared = prepared;
        loop {
            let r = next.fetch_add(1, Ordering::Relaxed);
            if r >= runs || lowest_failure().is_some_and(|f| f < r) {
                break;
            }
            if prepared.is_none() {
                match crate::Prepared::new(sc) {
                    Ok(p) => prepared = Some(p),
                    Err(e) => {
                        fail(r, format!("{source}: not run: {e}"));
                        break;
                    }
                }
            }
            let Some(p) = prepared.as_ref() else { break };
            match p.run(crate::sweep::run_seed(seed, r)) {
                Ok(report) => {
                    for (i, v) in measure(sc, &report, metrics).into_iter().enumerate() {
                        match v {
                            Some(v) => hists[i].record(v),
                            None => missing[i] += 1,
                        }
                    }
                }
                Err(e) => fail(r, format!("{source}: run {} not run: {e}", r + 1)),
            }
        }
        (hists, missing)
    };
    // As `holdtime sweep`: at most one worker per core, and no more than there are runs.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let workers = u64::try_from(jobs.max(1).min(cores))
        .unwrap_or(u64::MAX)
        .min(runs.max(1));
    let parts: Vec<(Vec<Hist>, Vec<u64>)> = std::thread::scope(|scope| {
        let others: Vec<_> = (1..workers).map(|_| scope.spawn(|| work(None))).collect();
        let mut parts = vec![work(Some(first))];
        for h in others {
            match h.join() {
                Ok(p) => parts.push(p),
                // A panic in the simulator: the same as on one thread.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        parts
    });
    if let Some((_, e)) = failed
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        return Err(e);
    }
    let mut hists = empty(metrics);
    let mut missing = vec![0u64; metrics.len()];
    for (h, m) in parts {
        for (acc, h) in hists.iter_mut().zip(&h) {
            acc.add(h).map_err(|e| format!("{source}: {e}"))?;
        }
        for (acc, m) in missing.iter_mut().zip(m) {
            *acc += m;
        }
    }
    Ok((hists, missing))
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
