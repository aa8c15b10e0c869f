//! `holdtime advise`: sizing BGP timers and BFD from distributions.
//!
//! For each candidate configuration (hold/keepalive pairs from Microsoft's default 180/60 s
//! down to the 10/3 s floor the MSEE accepts, and BFD at 750 ms and 300 ms × 3 beside the
//! default timers; each under the RFC 6298 and the Linux TCP retransmission floors) the
//! advisor measures three things:
//!
//! 1. **Outage after a silent failure**: a sweep of the scenario (its faults as written) over
//!    seeds, so over keepalive and BFD phases; the summary is the worst direction's p99.
//! 2. **False session resets on a healthy link**: the same sessions with no fault and no
//!    expectations, run for long horizons with the loss model on the faulted link (the first
//!    fault's target, else `circuit.primary`); every session flap is a false failover. The
//!    rate is counted per year of *up time* of the sessions over that link (both ends
//!    Established, averaged over those sessions), not per year of simulated time: a reset
//!    session spends time reconnecting through the same loss, during which it cannot be
//!    reset again, so per simulated hour a very lossy link would look *safer* than a
//!    moderately lossy one (at 30 % loss the per-simulated-hour rate came out below the
//!    10 % one). Up time is the exposure: a failover happens only to a session that is up.
//!    The rate comes with an exact Poisson (Garwood) 95 % confidence interval.
//! 3. **Control-plane overhead**: messages (BGP and BFD) per second on the healthy runs.
//!
//! Ranking: configurations that meet both budgets (outage p99 ≤ `--max-outage`, estimated
//! false rate ≤ `--max-false-per-year`) first; then by number of budgets missed, outage p99,
//! the false rate, its upper bound, and messages per second. The recommendation says when
//! the upper confidence bound is still above the budget (too little healthy time simulated
//! to confirm it: raise `--horizon` or `--healthy-runs`). That order is lexicographic in quantities where smaller is better,
//! so a configuration that is no worse on every one and better on one is never ranked below
//! one it dominates.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use sim_core::time::Duration;
use toml::{Table, Value};

use super::grid::Point;
use super::histogram::show_us;
use super::runner::{Batch, Gate, Stop, progress_bar};
use super::{Exec, PointResult, Sample, SweepError, parse_doc, variant};
use crate::scenario::Scenario;
use crate::spec::TcpPreset;

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
    /// `180/60 s`, `BFD 300 ms x3 + 180/60 s`, with the TCP preset.
    #[must_use]
    pub fn label(&self) -> String {
        let timers = format!(
            "{}/{} s",
            self.hold.as_nanos() / 1_000_000_000,
            self.keepalive.as_nanos() / 1_000_000_000
        );
        let tcp = match self.tcp {
            TcpPreset::Linux => "linux",
            TcpPreset::Rfc6298 => "rfc6298",
        };
        match self.bfd {
            Some(i) => format!(
                "BFD {} ms x3 + {timers}, tcp {tcp}",
                i.as_nanos() / 1_000_000
            ),
            None => format!("{timers}, tcp {tcp}"),
        }
    }

    /// The scenario settings that make this candidate.
    #[must_use]
    pub fn point(&self) -> Point {
        let tcp = match self.tcp {
            TcpPreset::Linux => "linux",
            TcpPreset::Rfc6298 => "rfc6298",
        };
        let mut settings = vec![
            ("bgp.hold_time".to_owned(), self.hold.to_string()),
            ("bgp.keepalive".to_owned(), self.keepalive.to_string()),
            ("tcp.preset".to_owned(), tcp.to_owned()),
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

/// The default candidates: 180/60, 90/30, 60/20, 30/10, 15/5 and 10/3 s, then BFD 750 ms and
/// 300 ms × 3 with 180/60 s; each under RFC 6298 and Linux TCP.
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
    /// False-reset budget per year (compared with the estimate; the bound is reported).
    pub max_false_per_year: f64,
    /// Failure runs per candidate.
    pub runs: u64,
    /// Healthy runs per candidate.
    pub healthy_runs: u64,
    /// Simulated time of each healthy run.
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
    /// Worst direction's outage p50, µs.
    pub outage_p50_us: u64,
    /// Worst direction's outage p99, µs.
    pub outage_p99_us: u64,
    /// Session flaps in the healthy runs.
    pub false_resets: u64,
    /// Healthy time simulated.
    pub healthy_ns: u128,
    /// Up time of the sessions over the lossy link in the healthy runs (both ends
    /// Established, averaged over those sessions): the exposure the rate is counted against.
    pub up_ns: u64,
    /// False resets per year of up time (point estimate).
    pub per_year: f64,
    /// 95 % confidence interval per year.
    pub per_year_ci: (f64, f64),
    /// Messages per second on the healthy runs.
    pub messages_per_s: f64,
    /// Budgets missed (0, 1 or 2).
    pub missed: u8,
}

const YEAR_NS: f64 = 365.25 * 86_400.0 * 1e9;

/// Assesses every candidate and returns them ranked (best first).
///
/// # Errors
///
/// [`SweepError::NoRuns`] when `spec.runs` or `spec.healthy_runs` is 0 (a ranking on no runs
/// would mean nothing); otherwise [`SweepError`] if the scenario or a variant is invalid, or a
/// run fails.
pub fn assess(spec: &AdviseSpec, exec: Exec<'_>) -> Result<Vec<Assessment>, SweepError> {
    for (n, what) in [
        (spec.runs, "failure runs per candidate"),
        (spec.healthy_runs, "healthy runs per candidate"),
    ] {
        if n == 0 {
            return Err(SweepError::NoRuns { what });
        }
    }
    let (name, text) = crate::source_text(&spec.source)?;
    let doc = parse_doc(&name, &text)?;
    let healthy_doc = healthy(&doc, spec.loss, spec.horizon);
    let target = lossy_target(&doc);
    let mut failing: Vec<Scenario> = Vec::new();
    let mut healthy_sc: Vec<Scenario> = Vec::new();
    for c in &spec.candidates {
        failing.push(variant(&name, &doc, &c.point())?);
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
    let healthy_refs: Vec<&Scenario> = healthy_sc.iter().collect();
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
    let (fail_parts, healthy_parts) = parts?;
    let mut out = Vec::with_capacity(spec.candidates.len());
    for (((((c, fsc), fparts), hparts), flaps), up_ns) in spec
        .candidates
        .iter()
        .zip(&failing)
        .zip(fail_parts)
        .zip(healthy_parts)
        .zip(&flaps)
        .zip(&up_ns)
    {
        let dirs: Vec<String> = fsc.directions().into_iter().map(|d| d.name).collect();
        let mut failure = PointResult::new(c.point());
        for p in &fparts {
            failure.add(p)?;
        }
        let mut health = PointResult::new(c.point());
        for p in &hparts {
            health.add(p)?;
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
        let false_resets = flaps.load(Ordering::Relaxed);
        let up_ns = up_ns.load(Ordering::Relaxed);
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
        let outage_p99_us = worst(0.99);
        let missed = u8::from(outage_p99_us > spec.max_outage.as_nanos() / 1_000)
            + u8::from(per_year > spec.max_false_per_year);
        out.push(Assessment {
            candidate: c.clone(),
            outage_p50_us: worst(0.5),
            outage_p99_us,
            false_resets,
            healthy_ns: health.simulated_ns,
            up_ns,
            per_year,
            per_year_ci,
            messages_per_s: health.messages_per_s(),
            missed,
            failure,
        });
    }
    rank(&mut out);
    Ok(out)
}

/// The assessments as JSON (`holdtime-advise/1`), for `holdtime report`.
#[must_use]
pub fn to_json(spec: &AdviseSpec, ranked: &[Assessment]) -> String {
    let list: Vec<serde_json::Value> = ranked
        .iter()
        .map(|a| {
            serde_json::json!({
                "candidate": a.candidate.label(),
                "outage_p50_us": a.outage_p50_us,
                "outage_p99_us": a.outage_p99_us,
                "false_resets": a.false_resets,
                "healthy_ns": a.healthy_ns.to_string(),
                "up_ns": a.up_ns.to_string(),
                "false_per_year": finite(a.per_year),
                "false_per_year_ci": [finite(a.per_year_ci.0), finite(a.per_year_ci.1)],
                "messages_per_s": a.messages_per_s,
                "meets_budgets": a.missed == 0,
            })
        })
        .collect();
    let v = serde_json::json!({
        "format": "holdtime-advise/1",
        "scenario": spec.source,
        "metric": spec.metric_label(),
        "loss": spec.loss.describe(),
        "max_outage": spec.max_outage.to_string(),
        "max_false_per_year": spec.max_false_per_year,
        "ranked": list,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
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
            .then(a.outage_p99_us.cmp(&b.outage_p99_us))
            .then(a.per_year.total_cmp(&b.per_year))
            .then(a.per_year_ci.1.total_cmp(&b.per_year_ci.1))
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
    let mut s = String::new();
    let _ = writeln!(
        s,
        "advise: {}\n  failure: {} runs per candidate; healthy: {} x {} per candidate with {}\n  budgets: {} p99 <= {}, false resets <= {}/year\n",
        spec.source,
        spec.runs,
        spec.healthy_runs,
        spec.horizon,
        spec.loss.describe(),
        spec.metric_label(),
        spec.max_outage,
        spec.max_false_per_year
    );
    let _ = writeln!(
        s,
        "{:>4}  {:<38} {:>11} {:>11} {:>9} {:>16} {:>9}  meets",
        "rank",
        "candidate",
        format!("{} p50", short(spec.metric_label())),
        format!("{} p99", short(spec.metric_label())),
        "false/yr",
        "95 % CI",
        "msgs/s"
    );
    for (i, a) in ranked.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:>4}  {:<38} {:>11} {:>11} {:>9} {:>16} {:>9.3}  {}",
            i + 1,
            a.candidate.label(),
            show_us(a.outage_p50_us),
            show_us(a.outage_p99_us),
            show_rate(a.per_year),
            format!(
                "[{}, {}]",
                show_rate(a.per_year_ci.0),
                show_rate(a.per_year_ci.1)
            ),
            a.messages_per_s,
            if a.missed == 0 { "yes" } else { "no" }
        );
    }
    let _ = writeln!(s);
    let _ = s.write_str(&recommendation(spec, ranked));
    s
}

fn show_years(ns: u128) -> String {
    #[allow(clippy::cast_precision_loss, reason = "display only")]
    let days = ns as f64 / 86_400e9;
    format!("{days:.1} days")
}

fn show_rate(r: f64) -> String {
    if r.is_infinite() {
        "inf".to_owned()
    } else if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.2}")
    }
}

fn recommendation(spec: &AdviseSpec, ranked: &[Assessment]) -> String {
    let Some(best) = ranked.first() else {
        return "no candidates\n".to_owned();
    };
    let mut s = String::new();
    if best.missed == 0 {
        if best.per_year_ci.1 > spec.max_false_per_year {
            let _ = writeln!(
                s,
                "caution: the upper 95 % bound of the false-reset rate ({}/year) is above the \
                 budget: {} of healthy time is too little to confirm it; raise --horizon or \
                 --healthy-runs.",
                show_rate(best.per_year_ci.1),
                show_years(best.healthy_ns)
            );
        }
        let _ = writeln!(
            s,
            "recommendation: {}\n  {} p99 {} after a silent failure (budget {}); {} false resets/year \
             expected on a healthy link with {} (95 % CI {}-{}, budget {}); {:.3} messages/s.",
            best.candidate.label(),
            spec.metric_label(),
            show_us(best.outage_p99_us),
            spec.max_outage,
            show_rate(best.per_year),
            spec.loss.describe(),
            show_rate(best.per_year_ci.0),
            show_rate(best.per_year_ci.1),
            spec.max_false_per_year,
            best.messages_per_s
        );
    } else {
        let _ = writeln!(
            s,
            "recommendation: no candidate meets both budgets; the closest is {} \
             ({} p99 {}, {} false resets/year, upper bound {}).",
            best.candidate.label(),
            spec.metric_label(),
            show_us(best.outage_p99_us),
            show_rate(best.per_year),
            show_rate(best.per_year_ci.1)
        );
    }
    let faster: Vec<&Assessment> = ranked
        .iter()
        .filter(|a| a.outage_p99_us < best.outage_p99_us && a.missed > 0)
        .collect();
    if let Some(f) = faster.iter().min_by_key(|a| a.outage_p99_us) {
        let _ = writeln!(
            s,
            "  faster but over budget: {} ({} p99 {}) would reset a healthy session {} times/year (upper bound {}).",
            f.candidate.label(),
            spec.metric_label(),
            show_us(f.outage_p99_us),
            show_rate(f.per_year),
            show_rate(f.per_year_ci.1)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn assessment(outage_s: u64, false_hi: f64, msgs: f64) -> Assessment {
        Assessment {
            candidate: default_candidates()[0].clone(),
            failure: PointResult::new(Point { settings: vec![] }),
            outage_p50_us: 0,
            outage_p99_us: outage_s * 1_000_000,
            false_resets: 0,
            healthy_ns: 0,
            up_ns: 0,
            per_year: false_hi,
            per_year_ci: (0.0, false_hi),
            messages_per_s: msgs,
            missed: u8::from(outage_s > 60) + u8::from(false_hi > 1.0),
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
                let a_dominates_b = a.outage_p99_us <= b.outage_p99_us
                    && a.per_year_ci.1 <= b.per_year_ci.1
                    && (a.outage_p99_us < b.outage_p99_us || a.per_year_ci.1 < b.per_year_ci.1);
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
