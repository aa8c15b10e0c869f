//! `holdtime advise`: sizing BGP timers and BFD from distributions.
//!
//! Timers are written keepalive/hold throughout (`3/10 s`: a keepalive every 3 s, the
//! session declared dead after 10 s without a message), as the library's `tuned-10-30`
//! (keepalive 10 s, hold 30 s) names them.
//!
//! For each candidate configuration (keepalive/hold pairs from Microsoft's default 60/180 s
//! down to the 3/10 s floor the MSEE accepts, and BFD at 750 ms and 300 ms × 3 beside the
//! default timers; each under the RFC 6298 and the Linux TCP retransmission floors) the
//! advisor measures three things:
//!
//! 1. **Outage after a silent failure**: a sweep of the scenario (its faults as written) over
//!    seeds, so over keepalive and BFD phases; the summary is the worst direction's p99.
//! 2. **False session resets on a healthy link**: the same sessions with no fault and no
//!    expectations, with the loss model on the faulted link (the first fault's target, else
//!    `circuit.primary`); every session flap is a false failover. The rate is counted per
//!    year of *up time* of the sessions over that link (both ends Established, averaged over
//!    those sessions), not per year of simulated time: a reset session spends time
//!    reconnecting through the same loss, during which it cannot be reset again, so per
//!    simulated hour a very lossy link would look *safer* than a moderately lossy one (at
//!    30 % loss the per-simulated-hour rate came out below the 10 % one). Up time is the
//!    exposure: a failover happens only to a session that is up. Two methods
//!    ([`Method`]):
//!    - `is` (the default with independent loss): a trunk at the real loss branched at
//!      every delivery, each branch weighed by the exact chance of its losses
//!      ([`super::rare`]), which reaches rates far below one per year; the interval is the
//!      ratio estimator's over batches of deliveries, with diagnostics;
//!    - `direct`: long healthy runs (`--healthy-runs` × `--horizon`) and the reset count,
//!      with an exact Poisson (Garwood) 95 % interval. The only method for bursty loss.
//! 3. **Control-plane overhead**: messages (BGP and BFD) per second on the healthy link.
//!
//! # Verdicts
//!
//! A candidate *meets* its budgets when its failure metric's p99 is within `--max-outage`
//! and the **upper** bound of its false-reset interval is within `--max-false-per-year` (and
//! the estimator raised no warning). It *misses* when the outage is over budget or the lower
//! bound of the false-reset interval is over. Otherwise it is *not shown* to meet them, with
//! the reason (the interval straddles the budget, or the estimate cannot be trusted): a
//! candidate whose upper bound exceeds the budget is never marked as meeting it.
//!
//! Ranking: by the number of budgets not shown met, then outage p99, the upper bound of the
//! false-reset rate, its estimate, and messages per second. That order is lexicographic in
//! quantities where smaller is better, so a configuration that is no worse on every one and
//! better on one is never ranked below one it dominates.
//!
//! The result is an [`Advice`] (`"format": "holdtime.advise/2"`), which both the text
//! ([`render`]) and the JSON ([`to_json`]) show. In the JSON every time is an integer number
//! of nanoseconds with `_ns` in its key (`keepalive_ns`, `outage_p99_ns`, `max_outage_ns`), as
//! in a run result; an `holdtime.advise/1` file (microseconds and strings such as `"3s"`) is
//! refused with that reason ([`Advice::from_json`]).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sim_core::time::Duration;
use toml::{Table, Value};

use super::grid::Point;
use super::histogram::show_ns;
use super::rare::{Base, RareError, RareEstimate, RareSpec, YEAR_NS};
use super::runner::{Batch, Gate, Stop, progress_bar};
use super::{Exec, PointResult, Sample, SweepError, parse_doc, variant};
use crate::scenario::Scenario;
use crate::spec::TcpPreset;

/// The JSON format tag of an [`Advice`].
pub const FORMAT: &str = "holdtime.advise/2";

/// Tags of earlier advise results, refused with the reason ([`Advice::from_json`]).
pub const OLD_FORMATS: [&str; 2] = ["holdtime.advise/1", "holdtime-advise/1"];

/// One candidate configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// BGP hold time.
    pub hold: Duration,
    /// BGP keepalive.
    pub keepalive: Duration,
    /// BFD transmit/receive interval (multiplier 3), if BFD runs.
    pub bfd: Option<Duration>,
    /// The TCP retransmission preset.
    pub tcp: TcpPreset,
}

impl Candidate {
    /// Keepalive/hold: `60/180 s`, `BFD 300 ms x3 + 60/180 s`, with the TCP preset.
    #[must_use]
    pub fn label(&self) -> String {
        let timers = format!(
            "{}/{} s",
            self.keepalive.as_nanos() / 1_000_000_000,
            self.hold.as_nanos() / 1_000_000_000
        );
        match self.bfd {
            Some(i) => format!(
                "BFD {} ms x3 + {timers}, tcp {}",
                i.as_nanos() / 1_000_000,
                self.tcp_name()
            ),
            None => format!("{timers}, tcp {}", self.tcp_name()),
        }
    }

    const fn tcp_name(&self) -> &'static str {
        match self.tcp {
            TcpPreset::Linux => "linux",
            TcpPreset::Rfc6298 => "rfc6298",
        }
    }

    /// The shortest time without a message after which the session is torn down: the hold
    /// time, or 3 BFD intervals (RFC 5880 §6.8.4: the detection time is the multiplier times
    /// the agreed interval) when shorter.
    #[must_use]
    pub fn detection(&self) -> Duration {
        match self.bfd {
            Some(i) => self.hold.min(i.saturating_mul(3)),
            None => self.hold,
        }
    }

    /// The scenario settings that make this candidate.
    #[must_use]
    pub fn point(&self) -> Point {
        let mut settings = vec![
            ("bgp.hold_time".to_owned(), self.hold.to_string()),
            ("bgp.keepalive".to_owned(), self.keepalive.to_string()),
            ("tcp.preset".to_owned(), self.tcp_name().to_owned()),
        ];
        match self.bfd {
            Some(i) => {
                settings.push(("bfd.enabled".to_owned(), "true".to_owned()));
                settings.push(("bfd.interval".to_owned(), i.to_string()));
                settings.push(("bfd.multiplier".to_owned(), "3".to_owned()));
            }
            None => settings.push(("bfd.enabled".to_owned(), "false".to_owned())),
        }
        Point { settings }
    }
}

/// The default candidates (keepalive/hold): 60/180, 30/90, 20/60, 10/30, 5/15 and 3/10 s,
/// then BFD 750 ms and 300 ms × 3 with 60/180 s; each under RFC 6298 and Linux TCP.
#[must_use]
pub fn default_candidates() -> Vec<Candidate> {
    let pairs = [(180, 60), (90, 30), (60, 20), (30, 10), (15, 5), (10, 3)];
    let mut out = Vec::new();
    for tcp in [TcpPreset::Rfc6298, TcpPreset::Linux] {
        for (h, k) in pairs {
            out.push(Candidate {
                hold: Duration::from_secs(h),
                keepalive: Duration::from_secs(k),
                bfd: None,
                tcp,
            });
        }
        for ms in [750, 300] {
            out.push(Candidate {
                hold: Duration::from_secs(180),
                keepalive: Duration::from_secs(60),
                bfd: Some(Duration::from_millis(ms)),
                tcp,
            });
        }
    }
    out
}

/// How the false-reset rate is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Long healthy runs, resets counted (exact Poisson interval).
    Direct,
    /// The rare-event estimate: a trunk branched at every delivery, weighed by the exact
    /// chance of the losses after it; independent loss only.
    Is,
}

/// The loss on the healthy link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossSpec {
    /// Long-run fraction of packets lost (0–1).
    pub loss: f64,
    /// Mean burst duration: loss in bursts of time (Gilbert–Elliott in continuous time, every
    /// packet lost during a burst and none between; see [`crate::units::LossModel`]); `None`
    /// for independent losses.
    pub burst: Option<Duration>,
}

impl LossSpec {
    /// The mean time between bursts that gives the long-run loss, when in bursts: a burst
    /// takes the fraction `loss` of the time, so `mean_good = burst·(1 − loss)/loss`.
    #[must_use]
    pub fn mean_good(self) -> Option<Duration> {
        match self.burst {
            Some(burst) if self.loss > 0.0 && self.loss < 1.0 => {
                Some(burst.mul_f64((1.0 - self.loss) / self.loss))
            }
            _ => None,
        }
    }

    /// The TOML value of the `[[link]]` `loss` key: the probability, or the time form
    /// `{ mean_good, mean_bad, loss_good = 0, loss_bad = 1 }`.
    #[must_use]
    pub fn to_value(self) -> Value {
        match (self.burst, self.mean_good()) {
            (Some(burst), Some(good)) => {
                let mut t = Table::new();
                t.insert("mean_good".to_owned(), Value::String(good.to_string()));
                t.insert("mean_bad".to_owned(), Value::String(burst.to_string()));
                t.insert("loss_good".to_owned(), Value::Float(0.0));
                t.insert("loss_bad".to_owned(), Value::Float(1.0));
                Value::Table(t)
            }
            _ => Value::Float(self.loss),
        }
    }

    /// `1 % independent loss` or `1 % loss in bursts of 200ms on average, one every 19.8s`.
    #[must_use]
    pub fn describe(self) -> String {
        match (self.burst, self.mean_good()) {
            (Some(burst), Some(good)) => format!(
                "{} % loss in bursts of {burst} on average, one every {good}",
                self.loss * 100.0
            ),
            _ => format!("{} % independent loss", self.loss * 100.0),
        }
    }
}

/// What to assess.
#[derive(Debug, Clone)]
pub struct AdviseSpec {
    /// The scenario (path or library name) with the silent failure.
    pub source: String,
    /// The candidates.
    pub candidates: Vec<Candidate>,
    /// Loss on the healthy link.
    pub loss: LossSpec,
    /// The failure metric the candidates are budgeted and ranked by (`detection.ce1`,
    /// `outage.vnet_to_onprem`, `convergence.ergw`...: a duration metric of
    /// [`super::metrics`]); `None`: the worst direction's outage.
    pub metric: Option<String>,
    /// Budget of the failure metric's p99 (default metric: the worst direction's outage).
    pub max_outage: Duration,
    /// False-reset budget per year: met only when the interval's upper bound is within it.
    pub max_false_per_year: f64,
    /// Failure runs per candidate.
    pub runs: u64,
    /// How the false-reset rate is estimated.
    pub method: Method,
    /// The rare-event estimate's target width and budget of deliveries ([`Method::Is`]).
    pub rare: RareSpec,
    /// Healthy runs per candidate ([`Method::Direct`]).
    pub healthy_runs: u64,
    /// Simulated time of each healthy run ([`Method::Direct`]).
    pub horizon: Duration,
    /// Base seed.
    pub seed: u64,
}

impl AdviseSpec {
    /// What the outage columns measure: the metric's name, or `outage` (the worst direction).
    #[must_use]
    pub fn metric_label(&self) -> &str {
        self.metric.as_deref().unwrap_or("outage")
    }
}

/// One candidate's measurements.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// The candidate.
    pub candidate: Candidate,
    /// The failure sweep's summary.
    pub failure: PointResult,
    /// The failure metric's p50 (default: the worst direction's outage), ns.
    pub outage_p50_ns: u64,
    /// The failure metric's p99 (default: the worst direction's outage), ns.
    pub outage_p99_ns: u64,
    /// Session flaps in the healthy runs ([`Method::Direct`]); branches with a reset
    /// ([`Method::Is`]).
    pub false_resets: u64,
    /// Healthy time simulated ([`Method::Direct`]).
    pub healthy_ns: u128,
    /// Up time of the sessions over the lossy link in the healthy runs (both ends
    /// Established, averaged over those sessions): the exposure the rate is counted against.
    pub up_ns: u64,
    /// False resets per year of up time (point estimate).
    pub per_year: f64,
    /// 95 % confidence interval per year (the upper bound infinite when there is none).
    pub per_year_ci: (f64, f64),
    /// The rare-event estimate and its diagnostics ([`Method::Is`]).
    pub rare: Option<RareEstimate>,
    /// Messages per second on the healthy link.
    pub messages_per_s: f64,
    /// Budgets not shown met (0, 1 or 2): outage p99 over budget, and the false-reset upper
    /// bound over budget (or an estimate with a warning).
    pub missed: u8,
    /// Whether the budgets are met, missed, or not shown met (see the module doc).
    pub verdict: Verdict,
}

/// A candidate's verdict against the budgets (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    /// Both budgets met: outage p99 within, false-reset upper bound within.
    Meets,
    /// A budget missed: the outage p99 over it, or the false-reset lower bound over it.
    Misses(String),
    /// Not shown to meet the false-reset budget (the interval reaches above it, or the
    /// estimate cannot be trusted), outage within.
    NotShown(String),
}

impl Verdict {
    /// `yes`, `no`, `not shown`.
    #[must_use]
    pub const fn word(&self) -> &'static str {
        match self {
            Self::Meets => "yes",
            Self::Misses(_) => "no",
            Self::NotShown(_) => "not shown",
        }
    }

    /// Why not met, if not.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Meets => None,
            Self::Misses(r) | Self::NotShown(r) => Some(r),
        }
    }
}

/// The verdict of a candidate with outage p99 `outage_p99_ns` (nanoseconds), false-reset
/// interval `ci` and estimator `warnings`, against `spec`'s budgets.
#[must_use]
pub fn verdict(
    spec: &AdviseSpec,
    outage_p99_ns: u64,
    ci: (f64, f64),
    warnings: &[String],
) -> Verdict {
    let budget = spec.max_false_per_year;
    if outage_p99_ns > spec.max_outage.as_nanos() {
        return Verdict::Misses(format!(
            "{} p99 {} over the {} budget",
            spec.metric_label(),
            show_ns(outage_p99_ns),
            crate::fmt::duration(spec.max_outage)
        ));
    }
    if ci.0 > budget {
        return Verdict::Misses(format!(
            "at least {} false resets/year (95 % lower bound), over the budget of {}",
            show_rate(ci.0),
            show_rate(budget)
        ));
    }
    // An upper bound that is not a number is not within the budget either.
    if ci.1.is_nan() || ci.1 > budget {
        return Verdict::NotShown(format!(
            "the false-reset upper bound {}/year is above the budget of {}",
            show_rate(ci.1),
            show_rate(budget)
        ));
    }
    if let Some(w) = warnings.first() {
        return Verdict::NotShown(format!("the false-reset estimate cannot be trusted: {w}"));
    }
    Verdict::Meets
}

/// Assesses every candidate and returns them ranked (best first).
///
/// # Errors
///
/// [`SweepError::NoRuns`] when `spec.runs` (or, with [`Method::Direct`],
/// `spec.healthy_runs`) is 0 (a ranking on no runs would mean nothing);
/// [`SweepError::Rare`] when the rare-event estimate cannot run (bursty loss); otherwise
/// [`SweepError`] if the scenario or a variant is invalid, or a run fails.
pub fn assess(spec: &AdviseSpec, exec: Exec<'_>) -> Result<Vec<Assessment>, SweepError> {
    let direct = spec.method == Method::Direct;
    for (n, what, needed) in [
        (spec.runs, "failure runs per candidate", true),
        (spec.healthy_runs, "healthy runs per candidate", direct),
    ] {
        if n == 0 && needed {
            return Err(SweepError::NoRuns { what });
        }
    }
    if !direct && spec.loss.burst.is_some() {
        return Err(SweepError::Rare(RareError::NotBernoulli.to_string()));
    }
    let (name, text) = crate::source_text(&spec.source)?;
    // A candidate's timers and BFD apply to every router, whatever the file set per router.
    let doc = super::grid::without_router_timers(&parse_doc(&name, &text)?);
    // The rare-event estimate stops its trunk itself: the horizon only has to be out of reach.
    let horizon = if direct {
        spec.horizon
    } else {
        Duration::from_secs(7 * 86_400)
    };
    let healthy_doc = healthy(&doc, spec.loss, horizon);
    let target = lossy_target(&doc);
    let mut failing: Vec<Scenario> = Vec::new();
    let mut healthy_sc: Vec<Scenario> = Vec::new();
    for c in &spec.candidates {
        failing.push(long_enough(variant(&name, &doc, &c.point())?, c));
        healthy_sc.push(variant(
            &format!("{name} (healthy)"),
            &healthy_doc,
            &c.point(),
        )?);
    }
    let run_err = |stop: Stop, runs: u64| {
        stop.into_error(exec, |k, error| SweepError::Run {
            point: spec
                .candidates
                .get(usize::try_from(k / runs.max(1)).unwrap_or(usize::MAX))
                .map(Candidate::label)
                .unwrap_or_default(),
            run: k % runs.max(1),
            seed: super::run_seed(spec.seed, k % runs.max(1)),
            error,
        })
    };
    let fail_refs: Vec<&Scenario> = failing.iter().collect();
    let healthy_refs: Vec<&Scenario> = if direct {
        healthy_sc.iter().collect()
    } else {
        Vec::new()
    };
    let fail_batch = Batch::new(&fail_refs, spec.runs, spec.seed, None);
    let healthy_batch = Batch::new(&healthy_refs, spec.healthy_runs, spec.seed, None);
    // Flaps and up time are summed exactly here (the histograms keep 3 significant digits).
    let flaps: Vec<AtomicU64> = spec.candidates.iter().map(|_| AtomicU64::new(0)).collect();
    let up_ns: Vec<AtomicU64> = spec.candidates.iter().map(|_| AtomicU64::new(0)).collect();
    let exposed: Vec<Vec<String>> = healthy_sc
        .iter()
        .map(|s| s.topology.sessions_over(&target))
        .collect();
    let on_failure = |_: usize, _: &Sample| {};
    let on_healthy = |p: usize, s: &Sample| {
        if let Some(f) = flaps.get(p) {
            f.fetch_add(s.flaps, Ordering::Relaxed);
        }
        if let (Some(u), Some(e)) = (up_ns.get(p), exposed.get(p)) {
            u.fetch_add(exposure(s, e).as_nanos(), Ordering::Relaxed);
        }
    };
    // Both pilots run before the estimate of the whole is judged; the failure runs' estimate
    // alone may already refuse, before any healthy run.
    let bar = progress_bar(exec, fail_batch.len().saturating_add(healthy_batch.len()));
    let mut gate = Gate::new(exec);
    let parts = fail_batch
        .pilot(&mut gate, bar.as_ref(), &on_failure)
        .map_err(|e| run_err(e, spec.runs))
        .and_then(|fail_pilot| {
            let healthy_pilot = healthy_batch
                .pilot(&mut gate, bar.as_ref(), &on_healthy)
                .map_err(|e| run_err(e, spec.healthy_runs))?;
            gate.proceed().map_err(|e| run_err(e, spec.runs))?;
            let f = fail_batch
                .finish(fail_pilot, exec, bar.as_ref(), &on_failure)
                .map_err(|e| run_err(e, spec.runs))?;
            let h = healthy_batch
                .finish(healthy_pilot, exec, bar.as_ref(), &on_healthy)
                .map_err(|e| run_err(e, spec.healthy_runs))?;
            Ok((f, h))
        });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let (fail_parts, mut healthy_parts) = parts?;
    let rare = if direct {
        Vec::new()
    } else {
        rare_all(spec, exec, &healthy_sc, &exposed)?
    };
    let mut out = Vec::with_capacity(spec.candidates.len());
    for (i, ((c, fsc), fparts)) in spec
        .candidates
        .iter()
        .zip(&failing)
        .zip(fail_parts)
        .enumerate()
    {
        let dirs: Vec<String> = fsc.directions().into_iter().map(|d| d.name).collect();
        let mut failure = PointResult::new(c.point());
        for p in &fparts {
            failure.add(p)?;
        }
        let worst = |q: f64| match &spec.metric {
            Some(m) => failure.hists.get(m).map_or(0, |h| h.quantile(q)),
            None => dirs
                .iter()
                .filter_map(|d| failure.hists.get(&format!("outage.{d}")))
                .map(|h| h.quantile(q))
                .max()
                .unwrap_or(0),
        };
        let outage_p99_ns = worst(0.99);
        let a = if direct {
            let mut health = PointResult::new(c.point());
            for p in healthy_parts
                .get_mut(i)
                .map(std::mem::take)
                .unwrap_or_default()
            {
                health.add(&p)?;
            }
            let false_resets = flaps[i].load(Ordering::Relaxed);
            let up_ns = up_ns[i].load(Ordering::Relaxed);
            #[allow(clippy::cast_precision_loss, reason = "rates for display and ranking")]
            let years = up_ns as f64 / YEAR_NS;
            let (lo, hi) = garwood(false_resets, 0.05);
            let (per_year, per_year_ci) = if years > 0.0 {
                #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
                let k = false_resets as f64;
                (k / years, (lo / years, hi / years))
            } else {
                (f64::INFINITY, (0.0, f64::INFINITY))
            };
            let verdict = verdict(spec, outage_p99_ns, per_year_ci, &[]);
            Assessment {
                candidate: c.clone(),
                outage_p50_ns: worst(0.5),
                outage_p99_ns,
                false_resets,
                healthy_ns: health.simulated_ns,
                up_ns,
                per_year,
                per_year_ci,
                rare: None,
                messages_per_s: health.messages_per_s(),
                missed: missed(spec, outage_p99_ns, per_year_ci, &[]),
                verdict,
                failure,
            }
        } else {
            let (est, msgs) = rare.get(i).cloned().unwrap_or_default();
            let (per_year, per_year_ci, warnings, hits) = match &est {
                Some(e) => (
                    e.per_year,
                    (e.lower, e.upper.unwrap_or(f64::INFINITY)),
                    e.warnings.clone(),
                    e.hits,
                ),
                // No lossy link: no random loss, no false reset.
                None => (0.0, (0.0, 0.0), Vec::new(), 0),
            };
            let verdict = verdict(spec, outage_p99_ns, per_year_ci, &warnings);
            Assessment {
                candidate: c.clone(),
                outage_p50_ns: worst(0.5),
                outage_p99_ns,
                false_resets: hits,
                healthy_ns: 0,
                up_ns: 0,
                per_year,
                per_year_ci,
                rare: est,
                messages_per_s: msgs,
                missed: missed(spec, outage_p99_ns, per_year_ci, &warnings),
                verdict,
                failure,
            }
        };
        out.push(a);
    }
    rank(&mut out);
    Ok(out)
}

/// Budgets not shown met: the outage p99 over its budget, and the false-reset upper bound
/// over its budget or an estimate with a warning.
fn missed(spec: &AdviseSpec, outage_p99_ns: u64, ci: (f64, f64), warnings: &[String]) -> u8 {
    u8::from(outage_p99_ns > spec.max_outage.as_nanos())
        + u8::from(ci.1.is_nan() || ci.1 > spec.max_false_per_year || !warnings.is_empty())
}

/// The rare-event estimate of every candidate, over `exec.jobs` threads (each
/// candidate's estimate on one thread, so the result does not depend on the number of
/// threads); `None` for a candidate whose scenario has no lossy link.
fn rare_all(
    spec: &AdviseSpec,
    exec: Exec<'_>,
    healthy: &[Scenario],
    exposed: &[Vec<String>],
) -> Result<Vec<(Option<RareEstimate>, f64)>, SweepError> {
    type Slot = std::sync::Mutex<Option<Result<(Option<RareEstimate>, f64), RareError>>>;
    let slots: Vec<Slot> = healthy
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let rare = RareSpec {
        seed: spec.seed,
        ..spec.rare
    };
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let (Some(sc), Some(c), Some(e)) =
                (healthy.get(i), spec.candidates.get(i), exposed.get(i))
            else {
                break;
            };
            let r = match Base::new(sc, e, c.detection()) {
                Ok(base) => super::rare::estimate(&base, c.detection(), &rare)
                    .map(|est| (Some(est), base.messages_per_s))
                    .map_err(RareError::from),
                Err(RareError::NoLoss) => Ok((None, 0.0)),
                Err(e) => Err(e),
            };
            if let Some(s) = slots.get(i) {
                *s.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..exec.jobs.max(1).min(healthy.len()) {
            scope.spawn(work);
        }
        work();
    });
    let mut out = Vec::with_capacity(slots.len());
    for (s, c) in slots.into_iter().zip(&spec.candidates) {
        match s
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            Some(Ok(r)) => out.push(r),
            Some(Err(e)) => return Err(SweepError::Rare(format!("{}: {e}", c.label()))),
            None => out.push((None, 0.0)),
        }
    }
    Ok(out)
}

/// The typed result of `holdtime advise` (`"format": "holdtime.advise/2"`): what the text
/// and the JSON show, and what `holdtime report` reads. Every time is integer nanoseconds,
/// its key ending in `_ns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    /// [`FORMAT`].
    pub format: String,
    /// The scenario as given.
    pub scenario: String,
    /// The failure metric ranked by (`outage`: the worst direction's).
    pub metric: String,
    /// The loss on the healthy link, in words.
    pub loss: String,
    /// How the false-reset rate was estimated.
    pub method: Method,
    /// What the false-reset estimate cost, in words.
    pub healthy: String,
    /// Failure runs per candidate.
    pub failure_runs: u64,
    /// The budget of the failure metric's p99, ns.
    pub max_outage_ns: u64,
    /// The false-reset budget per year.
    pub max_false_per_year: f64,
    /// The candidates, best first.
    pub ranked: Vec<Ranked>,
}

/// One candidate in an [`Advice`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// From 1.
    pub rank: usize,
    /// Keepalive/hold, BFD and TCP in words (`3/10 s, tcp linux`).
    pub candidate: String,
    /// The keepalive, ns.
    pub keepalive_ns: u64,
    /// The hold time, ns.
    pub hold_ns: u64,
    /// The BFD transmit/receive interval (multiplier 3), ns; `null` without BFD.
    pub bfd_interval_ns: Option<u64>,
    /// The TCP preset.
    pub tcp: String,
    /// The failure metric's p50, ns.
    pub outage_p50_ns: u64,
    /// The failure metric's p99, ns.
    pub outage_p99_ns: u64,
    /// False resets per year of up time (`None`: infinite).
    pub false_per_year: Option<f64>,
    /// Its 95 % interval (`None`: unbounded).
    pub false_per_year_ci: [Option<f64>; 2],
    /// The interval's half-width over the estimate.
    pub rel_half_width: Option<f64>,
    /// Resets counted ([`Method::Direct`]) or branches with a reset ([`Method::Is`]).
    pub false_resets: u64,
    /// Healthy time simulated, ns ([`Method::Direct`]; summed over runs, it may exceed
    /// 2^64).
    pub healthy_ns: u128,
    /// Up time of the exposed sessions, ns ([`Method::Direct`]).
    pub up_ns: u64,
    /// The rare-event estimate and its diagnostics ([`Method::Is`]; the key is the
    /// format's).
    pub importance: Option<RareEstimate>,
    /// Messages (BGP and BFD) per second on the healthy link.
    pub messages_per_s: f64,
    /// Both budgets met (the verdict is [`Verdict::Meets`]).
    pub meets_budgets: bool,
    /// The verdict and its reason.
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl Advice {
    /// The advice of `ranked` under `spec`.
    #[must_use]
    pub fn new(spec: &AdviseSpec, ranked: &[Assessment]) -> Self {
        let healthy = match spec.method {
            Method::Is => format!(
                "a trunk split on TCP back-off and branched at every delivery, to a 95 % half-width of {:.0} % (at most {} trunk deliveries)",
                spec.rare.target * 100.0,
                spec.rare.max_blocks
            ),
            Method::Direct => format!("{} x {} direct", spec.healthy_runs, spec.horizon),
        };
        Self {
            format: FORMAT.to_owned(),
            scenario: spec.source.clone(),
            metric: spec.metric_label().to_owned(),
            loss: spec.loss.describe(),
            method: spec.method,
            healthy,
            failure_runs: spec.runs,
            max_outage_ns: spec.max_outage.as_nanos(),
            max_false_per_year: spec.max_false_per_year,
            ranked: ranked
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let rel = match &a.rare {
                        Some(r) => r.rel_half_width,
                        None if a.per_year > 0.0 && a.per_year.is_finite() => {
                            Some((a.per_year_ci.1 - a.per_year_ci.0) / 2.0 / a.per_year)
                        }
                        None => None,
                    };
                    Ranked {
                        rank: i + 1,
                        candidate: a.candidate.label(),
                        keepalive_ns: a.candidate.keepalive.as_nanos(),
                        hold_ns: a.candidate.hold.as_nanos(),
                        bfd_interval_ns: a.candidate.bfd.map(Duration::as_nanos),
                        tcp: a.candidate.tcp_name().to_owned(),
                        outage_p50_ns: a.outage_p50_ns,
                        outage_p99_ns: a.outage_p99_ns,
                        false_per_year: finite(a.per_year),
                        false_per_year_ci: [finite(a.per_year_ci.0), finite(a.per_year_ci.1)],
                        rel_half_width: rel,
                        false_resets: a.false_resets,
                        healthy_ns: a.healthy_ns,
                        up_ns: a.up_ns,
                        importance: a.rare.clone(),
                        messages_per_s: a.messages_per_s,
                        meets_budgets: a.verdict == Verdict::Meets,
                        verdict: a.verdict.clone(),
                    }
                })
                .collect(),
        }
    }
}

impl Advice {
    /// Reads an advise result (`holdtime advise --json`).
    ///
    /// # Errors
    ///
    /// [`super::render::JsonError`]: not JSON, another format (an `holdtime.advise/1` file is
    /// named as written by an earlier holdtime, with durations in microseconds and strings),
    /// or a file that does not match the model.
    pub fn from_json(text: &str) -> Result<Self, super::render::JsonError> {
        super::render::JsonError::check_tag(text, FORMAT, &OLD_FORMATS)?;
        Ok(serde_json::from_str(text)?)
    }
}

/// The assessments as JSON (an [`Advice`], `holdtime.advise/2`), for `holdtime report`.
#[must_use]
pub fn to_json(spec: &AdviseSpec, ranked: &[Assessment]) -> String {
    let mut s = serde_json::to_string_pretty(&Advice::new(spec, ranked)).unwrap_or_default();
    s.push('\n');
    s
}

/// A metric name cut to fit a column header (`detection.circuit.primary.private@ce1` keeps
/// its last 16 characters).
fn short(name: &str) -> String {
    let n = name.chars().count();
    if n <= 16 {
        name.to_owned()
    } else {
        format!("…{}", name.chars().skip(n - 15).collect::<String>())
    }
}

/// JSON has no infinity: `null` stands for it.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Sorts assessments best first (see the module documentation).
pub fn rank(list: &mut [Assessment]) {
    list.sort_by(|a, b| {
        a.missed
            .cmp(&b.missed)
            .then(a.outage_p99_ns.cmp(&b.outage_p99_ns))
            .then(a.per_year_ci.1.total_cmp(&b.per_year_ci.1))
            .then(a.per_year.total_cmp(&b.per_year))
            .then(a.messages_per_s.total_cmp(&b.messages_per_s))
    });
}

/// The healthy variant of a scenario document: no faults, no expectations, `horizon` long,
/// and `loss` on the first fault's target (else `circuit.primary`).
#[must_use]
pub fn healthy(doc: &Table, loss: LossSpec, horizon: Duration) -> Table {
    let mut doc = doc.clone();
    let target = lossy_target(&doc);
    doc.remove("fault");
    doc.remove("expect");
    doc.insert("duration".to_owned(), Value::String(horizon.to_string()));
    let links = doc
        .entry("link".to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = links {
        items.retain(|l| l.get("target").and_then(Value::as_str) != Some(target.as_str()));
        let mut t = Table::new();
        t.insert("target".to_owned(), Value::String(target));
        t.insert("loss".to_owned(), loss.to_value());
        items.push(Value::Table(t));
    }
    doc
}

/// The link the healthy runs make lossy: the first fault's target, else `circuit.primary`.
fn lossy_target(doc: &Table) -> String {
    doc.get("fault")
        .and_then(Value::as_array)
        .and_then(|f| f.first())
        .and_then(|f| f.get("target"))
        .and_then(Value::as_str)
        .unwrap_or("circuit.primary")
        .to_owned()
}

/// A healthy run's exposure to false resets: how long the sessions over the lossy link were
/// up (both ends Established), averaged over those sessions; the whole run when no session
/// crosses it. A reset session spends time reconnecting, during which it cannot be reset
/// again, so the rate is counted per hour of up time, not per hour of simulated time.
fn exposure(sample: &Sample, exposed: &[String]) -> Duration {
    let times: Vec<Duration> = sample
        .sessions
        .iter()
        .filter(|(name, _, _)| exposed.contains(name))
        .map(|(_, _, up)| *up)
        .collect();
    let Ok(n) = u64::try_from(times.len()) else {
        return sample.simulated;
    };
    if n == 0 {
        return sample.simulated;
    }
    let total: u128 = times.iter().map(|d| u128::from(d.as_nanos())).sum();
    Duration::from_nanos(u64::try_from(total / u128::from(n)).unwrap_or(u64::MAX))
}

/// The exact (Garwood) two-sided `1 − alpha` confidence interval of a Poisson mean, given `k`
/// events: `[L, U]` with `P(Poisson(L) ≥ k) = alpha/2` (L = 0 for k = 0) and
/// `P(Poisson(U) ≤ k) = alpha/2`.
#[must_use]
pub fn garwood(k: u64, alpha: f64) -> (f64, f64) {
    let half = alpha / 2.0;
    #[allow(clippy::cast_precision_loss, reason = "event counts far below 2^52")]
    let kf = k as f64;
    let top = kf + 20.0 * kf.sqrt() + 20.0;
    // P(Poisson(mu) <= k) falls as mu grows.
    let upper = bisect(|mu| poisson_cdf(k, mu) - half, 0.0, top);
    let lower = if k == 0 {
        0.0
    } else {
        bisect(|mu| (1.0 - poisson_cdf(k - 1, mu)) - half, 0.0, top).max(0.0)
    };
    (lower, upper)
}

/// `P(Poisson(mu) <= k)`, summed in log space.
#[must_use]
pub fn poisson_cdf(k: u64, mu: f64) -> f64 {
    if mu <= 0.0 {
        return 1.0;
    }
    let mut log_term = -mu;
    let mut sum = log_term.exp();
    for i in 1..=k {
        #[allow(clippy::cast_precision_loss, reason = "event counts far below 2^52")]
        let fi = i as f64;
        log_term += mu.ln() - fi.ln();
        sum += log_term.exp();
    }
    sum.min(1.0)
}

/// The root of a monotone `f` on `[lo, hi]` (sign change assumed), by bisection.
fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let rising = f(hi) > f(lo);
    for _ in 0..200 {
        let mid = f64::midpoint(lo, hi);
        if (f(mid) > 0.0) == rising {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    f64::midpoint(lo, hi)
}

/// The ranked table, the recommendation and the trade-off in words.
#[must_use]
pub fn render(spec: &AdviseSpec, ranked: &[Assessment]) -> String {
    render_advice(&Advice::new(spec, ranked))
}

/// An [`Advice`] as text: the table, the verdicts' reasons, the recommendation.
#[must_use]
pub fn render_advice(a: &Advice) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "advise: {}\n  timers: keepalive/hold\n  failure: {} runs per candidate; false resets on a healthy link with {}: {}\n  budgets: {} p99 <= {}, false resets <= {}/year of up time (met when the 95 % upper bound is)\n",
        a.scenario,
        a.failure_runs,
        a.loss,
        a.healthy,
        a.metric,
        show_ns(a.max_outage_ns),
        show_rate(a.max_false_per_year)
    );
    let _ = writeln!(
        s,
        "{:>4}  {:<38} {:>11} {:>11} {:>9} {:>20} {:>6} {:>9}  meets",
        "rank",
        "candidate",
        format!("{} p50", short(&a.metric)),
        format!("{} p99", short(&a.metric)),
        "false/yr",
        "95 % CI",
        "+/-",
        "msgs/s"
    );
    let opt = |x: Option<f64>| x.map_or_else(|| "inf".to_owned(), show_rate);
    for r in &a.ranked {
        let _ = writeln!(
            s,
            "{:>4}  {:<38} {:>11} {:>11} {:>9} {:>20} {:>6} {:>9.3}  {}",
            r.rank,
            r.candidate,
            show_ns(r.outage_p50_ns),
            show_ns(r.outage_p99_ns),
            opt(r.false_per_year),
            format!(
                "[{}, {}]",
                opt(r.false_per_year_ci[0]),
                opt(r.false_per_year_ci[1])
            ),
            r.rel_half_width
                .map_or_else(|| "-".to_owned(), |h| format!("{:.0} %", h * 100.0)),
            r.messages_per_s,
            r.verdict.word()
        );
    }
    let _ = writeln!(s);
    for r in &a.ranked {
        if let Verdict::NotShown(why) = &r.verdict {
            let _ = writeln!(s, "  not shown: {}: {why}", r.candidate);
        }
        for w in r.importance.iter().flat_map(|i| &i.warnings) {
            let _ = writeln!(s, "  warning: {}: {w}", r.candidate);
        }
    }
    let _ = s.write_str(&recommendation(a));
    s
}

/// A rate per year as the text and the page write it: `inf`, `0`, `674`, `2.60`, `2.6e-10`
/// (three significant figures at most, scientific below 0.01).
#[must_use]
pub fn show_rate(r: f64) -> String {
    if r.is_infinite() {
        "inf".to_owned()
    } else if r == 0.0 {
        "0".to_owned()
    } else if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 0.01 {
        format!("{r:.2}")
    } else {
        format!("{r:.1e}")
    }
}

fn recommendation(a: &Advice) -> String {
    let Some(best) = a.ranked.first() else {
        return "no candidates\n".to_owned();
    };
    let opt = |x: Option<f64>| x.map_or_else(|| "inf".to_owned(), show_rate);
    let mut s = String::new();
    if best.meets_budgets {
        let _ = writeln!(
            s,
            "recommendation: {}\n  {} p99 {} after a silent failure (budget {}); {} false resets/year \
             of up time expected on a healthy link with {} (95 % CI {} to {}, budget {}); {:.3} messages/s.",
            best.candidate,
            a.metric,
            show_ns(best.outage_p99_ns),
            show_ns(a.max_outage_ns),
            opt(best.false_per_year),
            a.loss,
            opt(best.false_per_year_ci[0]),
            opt(best.false_per_year_ci[1]),
            show_rate(a.max_false_per_year),
            best.messages_per_s
        );
    } else {
        let _ = writeln!(
            s,
            "recommendation: no candidate is shown to meet both budgets; the closest is {} \
             ({} p99 {}, {} false resets/year, upper bound {}){}.",
            best.candidate,
            a.metric,
            show_ns(best.outage_p99_ns),
            opt(best.false_per_year),
            opt(best.false_per_year_ci[1]),
            best.verdict
                .reason()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
    let faster = a
        .ranked
        .iter()
        .filter(|r| r.outage_p99_ns < best.outage_p99_ns && !r.meets_budgets)
        .min_by_key(|r| r.outage_p99_ns);
    if let Some(f) = faster {
        let _ = writeln!(
            s,
            "  faster but not within budget: {} ({} p99 {}) would reset a healthy session {} times/year (upper bound {}).",
            f.candidate,
            a.metric,
            show_ns(f.outage_p99_ns),
            opt(f.false_per_year),
            opt(f.false_per_year_ci[1])
        );
    }
    let _ = writeln!(
        s,
        "  trade-off: a shorter hold time or BFD cuts the outage after a silent failure, because \
         detection waits at most the hold time (or 3 BFD intervals); but on a lossy link a healthy \
         session is torn down whenever nothing gets through for that long. TCP retransmits lost \
         keepalives, after 200 ms with Linux's RTO floor and 1 s with RFC 6298's, doubling each \
         time, so a lower floor rides out longer bursts; BFD packets are never retransmitted, so \
         three consecutive losses are enough. Keepalives and BFD also cost messages every second."
    );
    s
}

/// `sc` run long enough for candidate `c`'s slowest recovery: the last fault (at its latest)
/// plus twice the hold time plus 3 minutes (re-establishment and the ExpressRoute gateway's
/// programming). A file written for fast timers (a lab that ends a minute after its fault)
/// would otherwise cut the slow candidates' outages at its end, and rank 60/180 s by the
/// file's duration instead of its outage.
fn long_enough(mut sc: Scenario, c: &Candidate) -> Scenario {
    if let Some(last) = sc.faults.iter().map(|f| f.at.max()).max() {
        let need = last + c.hold.saturating_mul(2) + Duration::from_secs(180);
        sc.duration = sc.duration.max(need);
    }
    sc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessment(outage_s: u64, false_hi: f64, msgs: f64) -> Assessment {
        Assessment {
            candidate: default_candidates()[0].clone(),
            failure: PointResult::new(Point { settings: vec![] }),
            outage_p50_ns: 0,
            outage_p99_ns: outage_s * 1_000_000_000,
            false_resets: 0,
            healthy_ns: 0,
            up_ns: 0,
            per_year: false_hi,
            per_year_ci: (0.0, false_hi),
            rare: None,
            messages_per_s: msgs,
            missed: u8::from(outage_s > 60) + u8::from(false_hi > 1.0),
            verdict: Verdict::Meets,
        }
    }

    #[test]
    fn dominated_configurations_rank_below_their_dominators() {
        let grid = [10u64, 30, 90, 200];
        let rates = [0.0, 0.5, 2.0, 40.0];
        let mut all = Vec::new();
        for o in grid {
            for r in rates {
                all.push(assessment(o, r, 1.0));
            }
        }
        rank(&mut all);
        for (i, a) in all.iter().enumerate() {
            for b in &all[..i] {
                let a_dominates_b = a.outage_p99_ns <= b.outage_p99_ns
                    && a.per_year_ci.1 <= b.per_year_ci.1
                    && (a.outage_p99_ns < b.outage_p99_ns || a.per_year_ci.1 < b.per_year_ci.1);
                assert!(
                    !a_dominates_b,
                    "a dominated config ranks above its dominator"
                );
            }
        }
    }

    #[test]
    fn zero_runs_are_refused_rather_than_ranked() {
        let spec = |runs, healthy_runs| AdviseSpec {
            source: "reference".to_owned(),
            candidates: default_candidates(),
            loss: LossSpec {
                loss: 0.01,
                burst: None,
            },
            metric: None,
            max_outage: Duration::from_secs(240),
            max_false_per_year: 1.0,
            runs,
            method: Method::Direct,
            rare: RareSpec::default(),
            healthy_runs,
            horizon: Duration::from_secs(3600),
            seed: 1,
        };
        let exec = Exec::new(1);
        for (s, what) in [
            (spec(0, 8), "failure runs per candidate"),
            (spec(200, 0), "healthy runs per candidate"),
        ] {
            match assess(&s, exec) {
                Err(SweepError::NoRuns { what: w }) => assert_eq!(w, what),
                other => panic!("expected NoRuns, got {:?}", other.map(|r| r.len())),
            }
        }
    }

    /// The budget rule: "meets" only when the upper bound is within the budget (and the
    /// outage is, and the estimator raised no warning); never when the upper bound is over,
    /// whatever the point estimate.
    #[test]
    fn a_candidate_whose_upper_bound_exceeds_the_budget_never_meets_it() {
        let spec = AdviseSpec {
            source: "reference".to_owned(),
            candidates: default_candidates(),
            loss: LossSpec {
                loss: 0.01,
                burst: None,
            },
            metric: None,
            max_outage: Duration::from_secs(60),
            max_false_per_year: 1.0,
            runs: 1,
            method: Method::Is,
            rare: RareSpec::default(),
            healthy_runs: 1,
            horizon: Duration::from_secs(3600),
            seed: 1,
        };
        let values = [0.0, 0.001, 0.5, 0.99, 1.0, 1.01, 2.0, 674.0, f64::INFINITY];
        let warn = ["only 3 blocks with a reset".to_owned()];
        for outage in [
            10_000_000_000u64,
            60_000_000_000,
            60_000_000_001,
            200_000_000_000,
        ] {
            for &lo in &values {
                for &hi in values.iter().filter(|h| **h >= lo) {
                    for w in [&[][..], &warn[..]] {
                        let v = verdict(&spec, outage, (lo, hi), w);
                        let a = Assessment {
                            per_year_ci: (lo, hi),
                            per_year: lo,
                            outage_p99_ns: outage,
                            missed: missed(&spec, outage, (lo, hi), w),
                            verdict: v.clone(),
                            ..assessment(0, 0.0, 1.0)
                        };
                        let meets = v == Verdict::Meets;
                        assert_eq!(
                            meets,
                            hi <= 1.0 && outage <= 60_000_000_000 && w.is_empty(),
                            "{lo} {hi} {outage} {w:?}: {v:?}"
                        );
                        assert_eq!(meets, a.missed == 0, "{lo} {hi} {outage} {w:?}");
                        if hi > 1.0 {
                            assert_ne!(v, Verdict::Meets);
                        }
                        if outage <= 60_000_000_000 && lo <= 1.0 && hi > 1.0 {
                            assert!(matches!(v, Verdict::NotShown(_)), "{v:?}");
                        }
                        let spec_a = [a];
                        let advice = Advice::new(&spec, &spec_a);
                        assert_eq!(advice.ranked[0].meets_budgets, meets);
                        let json = to_json(&spec, &spec_a);
                        let back = Advice::from_json(&json).expect("round trip");
                        assert_eq!(back.format, FORMAT);
                        assert_eq!(back.ranked[0].verdict, v);
                        let text = render_advice(&advice);
                        let word = text
                            .lines()
                            .find(|l| l.contains("tcp rfc6298"))
                            .map(|l| l.trim_end().to_owned())
                            .unwrap_or_default();
                        assert!(word.ends_with(v.word()), "{word}");
                    }
                }
            }
        }
        // An interval that is not a number never meets the budget.
        for ci in [(0.0, f64::NAN), (f64::NAN, f64::NAN)] {
            assert_ne!(verdict(&spec, 10_000_000_000, ci, &[]), Verdict::Meets);
            assert_eq!(missed(&spec, 10_000_000_000, ci, &[]), 1);
        }
    }

    #[test]
    fn garwood_interval_matches_published_values() {
        // Garwood (1936) / standard tables: k = 0 → [0, 3.689]; k = 10 → [4.795, 18.39].
        let (l, u) = garwood(0, 0.05);
        assert!(l == 0.0 && (u - 3.689).abs() < 0.001, "{l} {u}");
        let (l, u) = garwood(10, 0.05);
        assert!(
            (l - 4.795).abs() < 0.001 && (u - 18.390).abs() < 0.001,
            "{l} {u}"
        );
    }

    #[test]
    fn bursty_loss_is_in_time_and_keeps_the_long_run_rate() {
        let spec = LossSpec {
            loss: 0.01,
            burst: Some(Duration::from_millis(200)),
        };
        let mut doc = Table::new();
        doc.insert("loss".to_owned(), spec.to_value());
        let text = toml::to_string(&doc).unwrap_or_default();
        #[derive(serde::Deserialize)]
        struct L {
            loss: crate::units::LossModel,
        }
        let parsed: L = toml::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let crate::units::LossModel::GilbertElliott {
            mean_good,
            mean_bad,
            loss_good,
            loss_bad,
        } = parsed.loss
        else {
            panic!("not the time form: {text}")
        };
        assert_eq!(mean_bad, Duration::from_millis(200));
        assert_eq!(mean_good, Duration::from_millis(19_800));
        assert!(loss_good.abs() < f64::EPSILON && (loss_bad - 1.0).abs() < f64::EPSILON);
        assert!((parsed.loss.mean_loss() - 0.01).abs() < 1e-12);
        assert_eq!(
            spec.describe(),
            "1 % loss in bursts of 200ms on average, one every 19.8s"
        );
        let independent = LossSpec {
            loss: 0.01,
            burst: None,
        };
        assert_eq!(independent.to_value(), Value::Float(0.01));
        assert_eq!(independent.describe(), "1 % independent loss");
    }
}
