//! `holdtime audit`: every single failure of a design, simulated over seeds and ranked.
//!
//! The design is a scenario file (or a library name): its topology, its probes, its timers.
//! The audit replaces its faults and expectations with one failure at a time
//! ([`failures`]), each starting at the same instant on the converged network and lasting to
//! the end of the run (no repair), and runs every failure over `runs` seeds like a sweep (the
//! start-up simulated once per failure and worker, every run forked from it; run `r` of every
//! failure has the same seed, so failures are compared on the same timer phases). Each run is
//! measured by the measurement model (`sim::measure`), so a failure's outage per direction is
//! exactly what `holdtime sweep` of the same one-fault scenario reports.
//!
//! What it concludes:
//! - **ranked failures**, worst first: a failure that leaves a direction without a path to the
//!   end of the run in some run first (the more runs, the worse), then by the worst
//!   direction's p99 outage;
//! - **single points of failure**: a failure after which some direction stays down until the
//!   end of the run in every run: nothing in the design takes over;
//! - **non-redundant directions**: each direction such a failure leaves without a path, with
//!   the failure (a direction is the traffic towards one endpoint's prefix: the probes'
//!   destination);
//! - **budgets**: `--budget outage=30s` (or the smallest `max` of the file's `outage.*`
//!   expectations) against each failure's worst p99 outage; an open outage exceeds any budget.
//!
//! The failure set and its defaults are documented in `scenarios/library/README.md`
//! ("`holdtime audit`").

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use sim_core::time::Duration;
use toml::{Table, Value};

use super::grid::Point;
use super::histogram::show_us;
use super::{Exec, PointResult, Sample, SweepError, parse_doc, run_seed, runner};
use crate::scenario::{Check, Metric, Scenario};
use crate::spec::FaultKind;
use crate::topology::{LinkSide, Role, SessionKind, Target, Topology};
use crate::units::Quantity;

/// The JSON format tag of audit results.
pub const FORMAT: &str = "holdtime.audit/1";

/// When the failures start in a design whose file has no fault at a fixed time.
pub const DEFAULT_AT: Duration = Duration::from_mins(5);

/// The loss of a `loss` failure: a link that still works but loses one packet in twenty.
pub const LOSSY: f64 = 0.05;

/// What to audit.
#[derive(Debug, Clone)]
pub struct AuditSpec {
    /// The design: a scenario path or a library name.
    pub source: String,
    /// Seeds per failure.
    pub runs: u64,
    /// Base seed (run `r` of every failure: [`run_seed`]`(seed, r)`).
    pub seed: u64,
    /// Only failures whose kind is listed (empty: all).
    pub only: Vec<FaultKind>,
    /// Failures whose kind is listed are left out.
    pub skip: Vec<FaultKind>,
    /// Outage budget for every direction's p99; `None`: each direction's `outage.DIR` max in
    /// the file's expectations, where it has one.
    pub budget: Option<Duration>,
}

/// One failure of the design: a fault as a scenario file writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// `silent circuit.primary`.
    pub name: String,
    /// The fault kind.
    pub kind: FaultKind,
    /// Its target.
    pub target: String,
    /// Extra keys of the fault (e.g. `loss`), as TOML.
    #[serde(skip)]
    pub extra: Table,
}

/// One direction under one failure, over the runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectionOutcome {
    /// The direction.
    pub direction: String,
    /// Outage quantiles over the runs, microseconds (an open outage counts its length so
    /// far, a lower bound).
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// The longest.
    pub max_us: u64,
    /// Runs in which the direction was still without a path at the end.
    pub open_runs: u64,
}

/// One failure's result.
#[derive(Debug, Clone, Serialize)]
pub struct FailureResult {
    /// The failure.
    pub failure: Failure,
    /// Per direction.
    pub directions: Vec<DirectionOutcome>,
    /// Every metric's histogram over the runs, as a sweep keeps them (detection per router,
    /// convergence, outages, probes, flaps).
    #[serde(skip)]
    pub summary: PointResult,
}

impl FailureResult {
    /// The direction with the worst outage (open first, then p99).
    #[must_use]
    pub fn worst(&self) -> Option<&DirectionOutcome> {
        self.directions.iter().max_by_key(|d| {
            (
                d.open_runs,
                d.p99_us,
                std::cmp::Reverse(d.direction.clone()),
            )
        })
    }

    /// Some direction stays down to the end in every run.
    #[must_use]
    pub fn single_point_of_failure(&self, runs: u64) -> bool {
        runs > 0 && self.directions.iter().any(|d| d.open_runs == runs)
    }
}

/// The audit of a design.
#[derive(Debug, Clone, Serialize)]
pub struct AuditResult {
    /// Always [`FORMAT`].
    pub format: &'static str,
    /// The design's name.
    pub scenario: String,
    /// The design as given.
    pub source: String,
    /// Seeds per failure.
    pub runs: u64,
    /// Base seed.
    pub seed: u64,
    /// When every failure starts, ns since the start of the run.
    pub at: Duration,
    /// The outage budget of each direction that has one (`--budget`, else the file's
    /// `outage.DIR` max).
    pub budgets: BTreeMap<String, Duration>,
    /// Every failure, worst first.
    pub failures: Vec<FailureResult>,
}

impl AuditResult {
    /// Failures that leave a direction without a path until the end in every run.
    #[must_use]
    pub fn single_points_of_failure(&self) -> Vec<&FailureResult> {
        self.failures
            .iter()
            .filter(|f| f.single_point_of_failure(self.runs))
            .collect()
    }

    /// Directions some single failure leaves without a path until the end (in every run),
    /// with those failures.
    #[must_use]
    pub fn non_redundant(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in &self.failures {
            for d in &f.directions {
                if self.runs > 0 && d.open_runs == self.runs {
                    out.entry(d.direction.clone())
                        .or_default()
                        .push(f.failure.name.clone());
                }
            }
        }
        out
    }

    /// Failures over the budget: a direction's outage open at the end in some run, or its p99
    /// over its budget.
    #[must_use]
    pub fn over_budget(&self) -> Vec<&FailureResult> {
        self.failures
            .iter()
            .filter(|f| {
                f.directions.iter().any(|d| {
                    d.open_runs > 0
                        || self
                            .budgets
                            .get(&d.direction)
                            .is_some_and(|b| d.p99_us > b.as_nanos() / 1_000)
                })
            })
            .collect()
    }

    /// Whether the design passes: no failure over the budget (an open outage is over any).
    #[must_use]
    pub fn passes(&self) -> bool {
        self.over_budget().is_empty()
    }

    /// The ranked table and the conclusions, as text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "audit: {}\n  {} failures, each from {} to the end of the run, {} runs each (seed {})",
            self.scenario,
            self.failures.len(),
            self.at,
            self.runs,
            self.seed
        );
        if !self.budgets.is_empty() {
            let b: Vec<String> = self
                .budgets
                .iter()
                .map(|(d, b)| format!("{d} <= {b}"))
                .collect();
            let _ = writeln!(s, "  budget (outage p99): {}", b.join(", "));
        }
        let _ = writeln!(
            s,
            "\n{:>4}  {:<44} {:<22} {:>11} {:>11} {:>11} {:>9}",
            "rank", "failure", "worst direction", "p50", "p99", "max", "open runs"
        );
        for (i, f) in self.failures.iter().enumerate() {
            let Some(w) = f.worst() else { continue };
            let lost = w.max_us > 0 || w.open_runs > 0;
            let _ = writeln!(
                s,
                "{:>4}  {:<44} {:<22} {:>11} {:>11} {:>11} {:>9}",
                i + 1,
                f.failure.name,
                if lost {
                    w.direction.as_str()
                } else {
                    "(none lost)"
                },
                show_us(w.p50_us),
                show_us(w.p99_us),
                show_us(w.max_us),
                format!("{}/{}", w.open_runs, self.runs)
            );
        }
        let spofs = self.single_points_of_failure();
        let _ = writeln!(s);
        if spofs.is_empty() {
            let _ = writeln!(
                s,
                "single points of failure: none (after every single failure each direction gets a path back in every run)"
            );
        } else {
            let _ = writeln!(
                s,
                "single points of failure (a direction stays down to the end in every run):"
            );
            for f in spofs {
                let down: Vec<&str> = f
                    .directions
                    .iter()
                    .filter(|d| d.open_runs == self.runs)
                    .map(|d| d.direction.as_str())
                    .collect();
                let _ = writeln!(s, "  {}: {}", f.failure.name, down.join(", "));
            }
        }
        let nr = self.non_redundant();
        if nr.is_empty() {
            let _ = writeln!(s, "non-redundant directions: none");
        } else {
            let _ = writeln!(
                s,
                "non-redundant directions (no path until repaired after):"
            );
            for (d, fs) in &nr {
                let _ = writeln!(s, "  {d}: {}", fs.join("; "));
            }
        }
        let over = self.over_budget();
        if over.is_empty() {
            let _ = writeln!(s, "verdict: every failure within budget");
        } else {
            let _ = writeln!(
                s,
                "verdict: {} failure(s) over budget (an outage over its budget, or open at the end): {}",
                over.len(),
                over.iter()
                    .map(|f| f.failure.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        s
    }

    /// The ranked failures as CSV: one row per failure and direction, durations in
    /// microseconds (the header says `_us`).
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "rank,failure,kind,target,direction,p50_us,p99_us,max_us,open_runs,runs\n",
        );
        for (i, f) in self.failures.iter().enumerate() {
            for d in &f.directions {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{},{},{},{},{}",
                    i + 1,
                    csv(&f.failure.name),
                    f.failure.kind.name(),
                    csv(&f.failure.target),
                    csv(&d.direction),
                    d.p50_us,
                    d.p99_us,
                    d.max_us,
                    d.open_runs,
                    self.runs
                );
            }
        }
        s
    }

    /// The result as pretty JSON (format [`FORMAT`]).
    ///
    /// # Errors
    ///
    /// Only if serialisation fails, which these types cannot cause.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }
}

/// A CSV field, quoted when it needs it (RFC 4180 §2).
fn csv(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// The single failures of `topo` (see the library README for the set and its sources):
/// every circuit link silent (a cut inside the provider) and down (carrier lost); every link
/// lossy ([`LOSSY`]); every CE, PE, MSEE and the VPN device crashing; each MSEE's
/// maintenance on its link; each peering session disconnected by Microsoft (the BGP
/// disconnect test); each circuit deprovisioned; the VPN tunnel down and the active VPN
/// gateway instance failing (unplanned).
#[must_use]
pub fn failures(topo: &Topology) -> Vec<Failure> {
    let mut out = Vec::new();
    let mut add = |kind: FaultKind, target: String, extra: Table| {
        out.push(Failure {
            name: format!("{} {target}", kind.name()),
            kind,
            target,
            extra,
        });
    };
    for (c, circuit) in topo.circuits.iter().enumerate() {
        for side in [LinkSide::Primary, LinkSide::Secondary] {
            let link = topo.target_name(Target::Link(crate::topology::CircuitIx(c), side));
            add(FaultKind::Silent, link.clone(), Table::new());
            add(FaultKind::Down, link.clone(), Table::new());
            let mut loss = Table::new();
            loss.insert("loss".to_owned(), Value::Float(LOSSY));
            add(FaultKind::Loss, link.clone(), loss);
            add(FaultKind::MseeMaintenance, link, Table::new());
        }
        add(FaultKind::Deprovision, circuit.name.clone(), Table::new());
    }
    for r in &topo.routers {
        if matches!(r.role, Role::Ce | Role::Pe | Role::Msee | Role::VpnDevice) {
            add(FaultKind::RouterCrash, r.name.clone(), Table::new());
        }
    }
    for s in &topo.sessions {
        if s.kind == SessionKind::Peering && s.on.is_some() {
            add(FaultKind::BgpDisconnect, s.name.clone(), Table::new());
        }
    }
    if topo.vpn.is_some() {
        add(
            FaultKind::VpnTunnelDown,
            "vpn.tunnel".to_owned(),
            Table::new(),
        );
        let mut planned = Table::new();
        planned.insert("planned".to_owned(), Value::Boolean(false));
        add(
            FaultKind::GatewayInstanceFailure,
            "gateway.vpn".to_owned(),
            planned,
        );
    }
    out
}

/// When the failures start: the file's first fault at a fixed time, else [`DEFAULT_AT`].
fn start_of(doc: &Table) -> Duration {
    doc.get("fault")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|f| f.get("at"))
        .and_then(Value::as_str)
        .and_then(|t| t.parse().ok())
        .unwrap_or(DEFAULT_AT)
}

/// The budgets the file's expectations set: per direction, the smallest `max` of its
/// `outage.DIR` expectations (whole-run ones; per-episode ones belong to the file's faults).
fn file_budgets(sc: &Scenario) -> BTreeMap<String, Duration> {
    let mut out: BTreeMap<String, Duration> = BTreeMap::new();
    for e in &sc.expectations {
        if let Check::Metric {
            metric: Metric::Outage(dir),
            bounds,
            episode: None,
            ..
        } = &e.check
            && let Some(Quantity::Duration(d)) = bounds.max
        {
            let b = out.entry(dir.clone()).or_insert(d);
            *b = (*b).min(d);
        }
    }
    out
}

/// Audits a design.
///
/// # Errors
///
/// [`SweepError::NoRuns`] when `spec.runs` is 0; [`SweepError`] if the design or a failure's
/// scenario is invalid, or a run fails.
pub fn audit(spec: &AuditSpec, exec: Exec<'_>) -> Result<AuditResult, SweepError> {
    if spec.runs == 0 {
        return Err(SweepError::NoRuns {
            what: "runs per failure",
        });
    }
    let (name, text) = crate::source_text(&spec.source)?;
    let base = crate::load_str(&name, &text)?.scenario;
    let doc = parse_doc(&name, &text)?;
    let at = start_of(&doc);
    let chosen: Vec<Failure> = failures(&base.topology)
        .into_iter()
        .filter(|f| spec.only.is_empty() || spec.only.contains(&f.kind))
        .filter(|f| !spec.skip.contains(&f.kind))
        .collect();
    let mut variants = Vec::with_capacity(chosen.len());
    for f in &chosen {
        let mut d = doc.clone();
        d.remove("expect");
        let mut fault = f.extra.clone();
        fault.insert("kind".to_owned(), Value::String(f.kind.name().to_owned()));
        fault.insert("at".to_owned(), Value::String(at.to_string()));
        fault.insert("target".to_owned(), Value::String(f.target.clone()));
        d.insert("fault".to_owned(), Value::Array(vec![Value::Table(fault)]));
        let text = toml::to_string(&d).map_err(|e| SweepError::Toml {
            name: name.clone(),
            error: e.to_string(),
        })?;
        let label = format!("{name} with failure {}", f.name);
        let sc = crate::load_str(&label, &text).map_err(|error| SweepError::Variant {
            point: f.name.clone(),
            error,
        })?;
        variants.push(sc.scenario);
    }
    let scenarios: Vec<&Scenario> = variants.iter().collect();
    let batch = runner::Batch::new(&scenarios, spec.runs, spec.seed, None);
    let bar = runner::progress_bar(exec, batch.len());
    let observe = |_: usize, _: &Sample| {};
    let mut gate = runner::Gate::new(exec);
    let samples = batch
        .pilot(&mut gate, bar.as_ref(), &observe)
        .and_then(|pilot| {
            gate.proceed()?;
            batch.finish(pilot, exec, bar.as_ref(), &observe)
        });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let per_failure = samples.map_err(|stop| {
        stop.into_error(exec, |k, error| {
            let p = usize::try_from(k / spec.runs).unwrap_or(usize::MAX);
            let r = k % spec.runs;
            SweepError::Run {
                point: chosen.get(p).map(|f| f.name.clone()).unwrap_or_default(),
                run: r,
                seed: run_seed(spec.seed, r),
                error,
            }
        })
    })?;
    let directions: Vec<String> = base.directions().into_iter().map(|d| d.name).collect();
    let mut results = Vec::with_capacity(chosen.len());
    for (f, parts) in chosen.into_iter().zip(per_failure) {
        let mut acc = PointResult::new(Point {
            settings: vec![("failure".to_owned(), f.name.clone())],
        });
        for part in parts {
            acc.add(&part)?;
        }
        let outcome = directions
            .iter()
            .map(|d| {
                let key = format!("outage.{d}");
                let h = acc.hists.get(&key);
                DirectionOutcome {
                    direction: d.clone(),
                    p50_us: h.map_or(0, |h| h.quantile(0.5)),
                    p99_us: h.map_or(0, |h| h.quantile(0.99)),
                    max_us: h.map_or(0, super::histogram::Hist::max),
                    // A direction never reachable in a run is down to the end too.
                    open_runs: acc.open.get(&key).copied().unwrap_or(0)
                        + acc.missing.get(&key).copied().unwrap_or(0),
                }
            })
            .collect();
        results.push(FailureResult {
            failure: f,
            directions: outcome,
            summary: acc,
        });
    }
    results.sort_by(|a, b| {
        let key = |r: &FailureResult| r.worst().map(|w| (w.open_runs, w.p99_us, w.max_us));
        key(b)
            .cmp(&key(a))
            .then_with(|| a.failure.name.cmp(&b.failure.name))
    });
    Ok(AuditResult {
        format: FORMAT,
        scenario: base.name.clone(),
        source: spec.source.clone(),
        runs: spec.runs,
        seed: spec.seed,
        at,
        budgets: match spec.budget {
            Some(b) => directions.iter().map(|d| (d.clone(), b)).collect(),
            None => file_budgets(&base),
        },
        failures: results,
    })
}
