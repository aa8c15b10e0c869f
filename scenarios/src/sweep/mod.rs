//! Sweeps: many runs of a scenario over a grid of settings, summarised as HDR histograms.
//!
//! A sweep is a scenario, a grid of settings ([`grid`]), a number of runs per grid point and a
//! base seed. Run `r` (from 0) of *every* grid point uses the seed
//! [`run_seed`]`(S, r)` = SplitMix64(S + (r + 1) · 0x9E37_79B9_7F4A_7C15): common random
//! numbers, so two grid points are compared on the same fault phases and loss patterns.
//!
//! The (grid point, run) space is numbered `k = point · runs + r`. `--shard I/N` takes the
//! `I`-th of `N` contiguous slices `[⌊K(I−1)/N⌋, ⌊KI/N⌋)` of the `K` items. Runs are spread
//! over worker threads, each run single-threaded; each worker fills its own histograms and the
//! workers' histograms are added at the end. Adding counts is commutative, so the result does
//! not depend on the number of workers or on which worker ran what: `--jobs 1` and
//! `--jobs 8` give the same bytes, and [`merge()`] of all shards gives the unsharded bytes.
//!
//! Before the bulk of the runs, the first run of every grid point runs as a pilot and is
//! timed ([`estimate`]): with [`Exec::wall_limit`] set (`holdtime` sets it to an hour unless
//! `--yes`), a sweep estimated to take longer is refused with the estimate. The pilot's runs
//! are runs of the sweep, so this changes no result and costs no extra run (the order of the
//! phases is in `sweep/runner.rs`).
//!
//! Per grid point the sweep keeps a histogram ([`histogram`]) of every metric of [`metrics`]:
//! detection per router (`detection.ROUTER`) and per session end
//! (`detection.SESSION@ROUTER`), convergence per router, the longest outage and the probes
//! lost per traffic direction, and session flaps; in a scenario with several episodes, each
//! of those per episode too (`episode2.detection.ce1`). Each is measured by
//! [`RunReport::observe`], the same function that judges `[[expect]]`. Beside each
//! histogram: the runs whose value was still open at the end (censored, included as lower
//! bounds) and the runs without a value. Plus totals of messages and simulated time for the
//! control-plane rate.

pub mod advise;
pub mod analytic;
pub mod audit;
pub mod audit_html;
pub mod estimate;
pub mod grid;
pub mod histogram;
pub mod merge;
pub mod rare;
pub mod render;
mod runner;

use std::collections::BTreeMap;

use sim_core::time::Duration;
use toml::Table;

use crate::LoadError;
use crate::report::{Observation, RunReport};
use crate::scenario::{Metric, Scenario};
use crate::sim::RunError;
use crate::units::Quantity;
use estimate::Estimate;
use grid::{Point, SetArg, SetError};
use histogram::{Hist, HistError, Unit};

pub use merge::{MergeError, merge};

/// The JSON format tag of sweep results (written and read): every duration in integer
/// nanoseconds, histograms included ([`render::SweepJson`]).
pub const FORMAT: &str = "holdtime.sweep/2";

/// Tags of earlier sweep results, refused with the reason ([`render::JsonError::Old`]):
/// their histograms count microseconds and `simulated_ns` is a string.
pub const OLD_FORMATS: [&str; 2] = ["holdtime.sweep/1", "holdtime-sweep/2"];

/// A [`Duration`] as integer nanoseconds in a result file (`#[serde(with = "ns")]`, on a key
/// ending in `_ns`), as the run result writes every time.
pub mod ns {
    use serde::{Deserialize, Deserializer, Serializer};
    use sim_core::time::Duration;

    /// Writes `d` as its nanoseconds.
    ///
    /// # Errors
    ///
    /// The serializer's.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_nanos())
    }

    /// Reads nanoseconds.
    ///
    /// # Errors
    ///
    /// The deserializer's, for anything but an unsigned integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_nanos)
    }

    /// The same for a map of durations (`budgets_ns`).
    pub mod map {
        use std::collections::BTreeMap;

        use serde::{Deserialize, Deserializer, Serializer};
        use sim_core::time::Duration;

        /// Writes each duration as its nanoseconds.
        ///
        /// # Errors
        ///
        /// The serializer's.
        pub fn serialize<S: Serializer>(
            m: &BTreeMap<String, Duration>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_map(m.iter().map(|(k, d)| (k, d.as_nanos())))
        }

        /// Reads a map of nanoseconds.
        ///
        /// # Errors
        ///
        /// The deserializer's.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<BTreeMap<String, Duration>, D::Error> {
            BTreeMap::<String, u64>::deserialize(d).map(|m| {
                m.into_iter()
                    .map(|(k, v)| (k, Duration::from_nanos(v)))
                    .collect()
            })
        }
    }
}

/// The seed of run `r` of every grid point, from the base seed `base`: SplitMix64 of
/// `base + (r + 1)·γ` with γ = 0x9E37_79B9_7F4A_7C15 (Steele, Lea and Flood 2014).
#[must_use]
pub const fn run_seed(base: u64, r: u64) -> u64 {
    let mut z = base.wrapping_add(r.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `--shard I/N`: the `I`-th (from 1) of `N` slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// Which slice, from 1.
    pub index: u32,
    /// How many slices.
    pub count: u32,
}

/// Why a `--shard` argument is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}`: expected I/N with 1 <= I <= N")]
pub struct ShardError(String);

impl std::str::FromStr for Shard {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ShardError(s.to_owned());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl Shard {
    /// The half-open range of item numbers this shard runs out of `total`.
    #[must_use]
    pub fn range(self, total: u64) -> std::ops::Range<u64> {
        let cut = |i: u32| {
            u64::try_from(u128::from(total) * u128::from(i) / u128::from(self.count))
                .unwrap_or(total)
        };
        cut(self.index - 1)..cut(self.index)
    }
}

/// What to sweep.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    /// The scenario as given on the command line (a path or a library name).
    pub source: String,
    /// The settings to vary.
    pub sets: Vec<SetArg>,
    /// Runs per grid point.
    pub runs: u64,
    /// Base seed (see [`run_seed`]).
    pub seed: u64,
    /// Only this slice of the work, when given.
    pub shard: Option<Shard>,
}

/// Why a sweep could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario could not be loaded (as written or at a grid point).
    #[error("{0}")]
    Load(#[from] LoadError),
    /// A scenario variant at a grid point is not valid.
    #[error("at grid point `{point}`:\n{error}")]
    Variant {
        /// The point's label.
        point: String,
        /// The validator's located diagnostics.
        error: LoadError,
    },
    /// A `--set` could not be applied.
    #[error("{0}")]
    Set(#[from] SetError),
    /// The scenario file is not TOML.
    #[error("{name}: not a TOML document: {error}")]
    Toml {
        /// The file.
        name: String,
        /// The parser's message.
        error: String,
    },
    /// A run failed.
    #[error("grid point `{point}`, run {run} (seed {seed}): {error}")]
    Run {
        /// The point's label.
        point: String,
        /// The run number.
        run: u64,
        /// Its seed.
        seed: u64,
        /// Why.
        error: RunFailure,
    },
    /// A histogram could not be encoded or added.
    #[error("{0}")]
    Hist(#[from] HistError),
    /// The rare-event estimate of false resets could not be made ([`rare`]).
    #[error("false-reset estimate: {0}")]
    Rare(String),
    /// The wall time estimated after the pilot is over the limit ([`Exec::wall_limit`]).
    #[error("this would take {estimate}: more than the limit of {}", estimate::show_wall(*limit))]
    TooLong {
        /// The estimate.
        estimate: Estimate,
        /// The limit.
        limit: std::time::Duration,
    },
    /// A count of runs is 0: there would be nothing to summarise (advise would rank its
    /// candidates on no data).
    #[error("{what} is 0: nothing would be measured; at least 1 run is needed")]
    NoRuns {
        /// Which count: `runs per grid point`, `failure runs per candidate`, ...
        what: &'static str,
    },
}

/// Parses scenario text as a TOML table, for editing.
///
/// # Errors
///
/// [`SweepError::Toml`] when the text is not TOML.
pub fn parse_doc(name: &str, text: &str) -> Result<Table, SweepError> {
    text.parse::<Table>().map_err(|e| SweepError::Toml {
        name: name.to_owned(),
        error: e.to_string(),
    })
}

/// Validates a scenario document edited at `point`.
///
/// # Errors
///
/// [`SweepError::Set`] if a key cannot be placed, [`SweepError::Variant`] with located
/// diagnostics if the edited scenario is invalid.
pub fn variant(name: &str, doc: &Table, point: &Point) -> Result<Scenario, SweepError> {
    let mut doc = doc.clone();
    point.apply(&mut doc)?;
    let text = toml::to_string(&doc).map_err(|e| SweepError::Toml {
        name: name.to_owned(),
        error: e.to_string(),
    })?;
    let label = if point.settings.is_empty() {
        name.to_owned()
    } else {
        format!("{name} with {}", point.label())
    };
    crate::load_str(&label, &text)
        .map(|l| l.scenario)
        .map_err(|error| SweepError::Variant {
            point: point.label(),
            error,
        })
}

/// The metrics a sweep of `sc` records for every run, by name: the per-router and
/// per-session-end detection, every router's convergence, every direction's outage and probes
/// lost, and the flaps. Each is what `[[expect]]` with the same name measures
/// ([`RunReport::observe`]), so `sweep --metric detection.ce1` and `run --seed` agree
/// exactly.
#[must_use]
pub fn metrics(sc: &Scenario) -> Vec<(String, Metric)> {
    use crate::topology::{RouterIx, SessionIx};
    let topo = &sc.topology;
    let mut out: Vec<Metric> = Vec::new();
    for (i, r) in topo.routers.iter().enumerate() {
        let ix = RouterIx(i);
        if topo
            .sessions
            .iter()
            .any(|s| s.ends.iter().any(|e| e.router == ix))
        {
            out.push(Metric::RouterDetection(ix));
        }
        let _ = r;
        out.push(Metric::Convergence(ix));
    }
    for (i, s) in topo.sessions.iter().enumerate() {
        for e in &s.ends {
            out.push(Metric::EndDetection(SessionIx(i), e.router));
        }
    }
    let packets = sc.packet_directions();
    for d in sc.directions() {
        out.push(Metric::Outage(d.name.clone()));
        if packets.contains(&d.name) {
            out.push(Metric::ProbesLost(d.name));
        }
    }
    out.push(Metric::Flaps(None));
    out.into_iter().map(|m| (m.name(topo), m)).collect()
}

/// The name of `name` measured in episode `e` only: `episode2.detection.ce1`.
#[must_use]
pub fn episode_metric(e: u32, name: &str) -> String {
    format!("episode{e}.{name}")
}

/// What one run contributes to its grid point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Every metric of [`metrics`] (and, when the run had several episodes, each episodic
    /// one per episode, named by [`episode_metric`]) with what the run observed.
    pub values: Vec<(String, Observation)>,
    /// Session flaps, all sessions.
    pub flaps: u64,
    /// Per session (in the report's session order): its name, its flaps, and how long it
    /// was up (both ends Established, [`RunReport::established_time`]).
    pub sessions: Vec<(String, u64, Duration)>,
    /// Messages of every kind sent.
    pub messages: u64,
    /// Simulated time.
    pub simulated: Duration,
    /// Per direction with path data: the ways its delivered flows took just before the first
    /// episode and at the end of the run ([`ways`]; `holdtime audit` compares the two
    /// directions of a flow).
    pub ways: Vec<(String, String, String)>,
}

/// The ways (`expressroute`, `vpn`, `internet`) the delivered flows of a path state take,
/// sorted and joined with `+`; empty when every flow is lost.
#[must_use]
pub fn ways(p: &crate::report::PathChange) -> String {
    let mut v: Vec<&'static str> = p
        .via
        .iter()
        .filter(|s| s.flows > 0)
        .map(|s| s.via.name())
        .collect();
    v.sort_unstable();
    v.dedup();
    v.join("+")
}

impl Sample {
    /// Extracts a sample from a run's report of `sc`, for the `metrics` of [`metrics`].
    #[must_use]
    pub fn of(report: &RunReport, sc: &Scenario, metrics: &[(String, Metric)]) -> Self {
        let mut values: Vec<(String, Observation)> = metrics
            .iter()
            .map(|(name, m)| (name.clone(), report.observe(sc, m, None)))
            .collect();
        if report.episodes.len() > 1 {
            for e in &report.episodes {
                for (name, m) in metrics.iter().filter(|(_, m)| m.is_episodic()) {
                    values.push((
                        episode_metric(e.index, name),
                        report.observe(sc, m, Some(e.index)),
                    ));
                }
            }
        }
        Self {
            values,
            flaps: report.flaps.iter().map(|f| f.count).sum(),
            sessions: report
                .flaps
                .iter()
                .map(|f| {
                    (
                        f.session.clone(),
                        f.count,
                        report.established_time(&f.session),
                    )
                })
                .collect(),
            messages: report.messages.iter().map(|m| m.count).sum(),
            simulated: report.duration,
            ways: Self::ways_of(report),
        }
    }

    fn ways_of(report: &RunReport) -> Vec<(String, String, String)> {
        let start = report.episodes.first().map(|e| e.at);
        let mut dirs: Vec<&str> = report.paths.iter().map(|p| p.direction.as_str()).collect();
        dirs.sort_unstable();
        dirs.dedup();
        dirs.into_iter()
            .map(|d| {
                let of = || report.paths.iter().filter(move |p| p.direction == d);
                let before = start
                    .and_then(|t| of().rfind(|p| p.at < t))
                    .map_or_else(String::new, ways);
                let end = of().next_back().map_or_else(String::new, ways);
                (d.to_owned(), before, end)
            })
            .collect()
    }

    /// The observation of metric `name`, if the sample has it.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<Observation> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, o)| *o)
    }
}

/// The summary of one grid point.
#[derive(Debug, Clone)]
pub struct PointResult {
    /// The settings.
    pub point: Point,
    /// Runs summarised.
    pub runs: u64,
    /// Messages sent, summed over the runs.
    pub messages: u64,
    /// Simulated time, summed over the runs, in nanoseconds.
    pub simulated_ns: u128,
    /// Histograms by metric name (see [`metrics`]): the runs that had a value. An outage
    /// still open at the end of a run is recorded as its length so far (a lower bound) and
    /// counted in [`Self::open`].
    pub hists: BTreeMap<String, Hist>,
    /// Per metric: runs whose value was still open at the end (censored; included in the
    /// histogram as lower bounds).
    pub open: BTreeMap<String, u64>,
    /// Per metric: runs without a value (no detection, no forwarding change, a direction
    /// never reachable), not in the histogram.
    pub missing: BTreeMap<String, u64>,
    /// The false-reset rates asked for ([`FalseResets`]: `false_resets`,
    /// `false_resets.SESSION`), one estimate per grid point, not per run.
    pub false_resets: BTreeMap<String, rare::SessionsEstimate>,
}

impl PointResult {
    /// An empty summary.
    #[must_use]
    pub const fn new(point: Point) -> Self {
        Self {
            point,
            runs: 0,
            messages: 0,
            simulated_ns: 0,
            hists: BTreeMap::new(),
            open: BTreeMap::new(),
            missing: BTreeMap::new(),
            false_resets: BTreeMap::new(),
        }
    }

    /// Adds one run.
    pub fn record(&mut self, s: &Sample) {
        self.runs += 1;
        self.messages += s.messages;
        self.simulated_ns += u128::from(s.simulated.as_nanos());
        for (name, obs) in &s.values {
            match obs {
                Observation::Value { q, open, .. } => {
                    let h = self.hists.entry(name.clone()).or_insert_with(|| match q {
                        Quantity::Duration(_) => Hist::new(Unit::Ns),
                        Quantity::Count(_) => Hist::new(Unit::Count),
                    });
                    match q {
                        Quantity::Duration(d) => h.record_duration(*d),
                        Quantity::Count(n) => h.record(*n),
                    }
                    if *open {
                        *self.open.entry(name.clone()).or_insert(0) += 1;
                    }
                }
                Observation::NeverReachable | Observation::NotObserved => {
                    *self.missing.entry(name.clone()).or_insert(0) += 1;
                }
            }
        }
    }

    /// Adds another summary of the same point.
    ///
    /// # Errors
    ///
    /// [`HistError`] if histograms cannot be added.
    pub fn add(&mut self, o: &Self) -> Result<(), HistError> {
        self.runs += o.runs;
        self.messages += o.messages;
        self.simulated_ns += o.simulated_ns;
        for (k, h) in &o.hists {
            match self.hists.get_mut(k) {
                Some(mine) => mine.add(h)?,
                None => {
                    self.hists.insert(k.clone(), h.clone());
                }
            }
        }
        for (k, n) in &o.open {
            *self.open.entry(k.clone()).or_insert(0) += n;
        }
        for (k, n) in &o.missing {
            *self.missing.entry(k.clone()).or_insert(0) += n;
        }
        // One estimate per point, made by the shard that runs the point's first run.
        for (k, e) in &o.false_resets {
            self.false_resets
                .entry(k.clone())
                .or_insert_with(|| e.clone());
        }
        Ok(())
    }

    /// Every metric name with a histogram or a missing count.
    #[must_use]
    pub fn metric_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .hists
            .keys()
            .chain(self.missing.keys())
            .cloned()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Messages per simulated second, over all runs.
    #[must_use]
    pub fn messages_per_s(&self) -> f64 {
        if self.simulated_ns == 0 {
            return 0.0;
        }
        #[allow(
            clippy::cast_precision_loss,
            reason = "a displayed rate; exactness is not needed"
        )]
        let r = self.messages as f64 * 1e9 / self.simulated_ns as f64;
        r
    }
}

/// The result of a sweep (or of one shard of it).
#[derive(Debug, Clone)]
pub struct SweepResult {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario as given (path or library name).
    pub source: String,
    /// Base seed.
    pub seed: u64,
    /// Runs per grid point (of the whole sweep, not of this shard).
    pub runs: u64,
    /// The `--set` arguments.
    pub grid: Vec<SetArg>,
    /// The traffic directions, in scenario order.
    pub directions: Vec<String>,
    /// The shard this result covers, `None` for all of it.
    pub shard: Option<Shard>,
    /// One summary per grid point, in grid order.
    pub points: Vec<PointResult>,
}

/// Options that do not change the result.
#[derive(Clone, Copy)]
pub struct Exec<'a> {
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Refuse with [`SweepError::TooLong`] when the wall time [`estimate`]d after the pilot
    /// is over this (`holdtime`: [`estimate::WALL_LIMIT`], unless `--yes`); `None` never
    /// refuses.
    pub wall_limit: Option<std::time::Duration>,
    /// Told the estimate when the work goes ahead (`holdtime` prints it to stderr when it is
    /// long); it never reaches a result.
    pub on_estimate: Option<&'a dyn Fn(&Estimate)>,
}

impl Exec<'_> {
    /// `jobs` workers, no progress bar, no wall-time limit.
    #[must_use]
    pub const fn new(jobs: usize) -> Self {
        Self {
            jobs,
            progress: false,
            wall_limit: None,
            on_estimate: None,
        }
    }
}

impl std::fmt::Debug for Exec<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exec")
            .field("jobs", &self.jobs)
            .field("progress", &self.progress)
            .field("wall_limit", &self.wall_limit)
            .field("on_estimate", &self.on_estimate.is_some())
            .finish()
    }
}

/// Validates every grid point's scenario variant.
///
/// # Errors
///
/// [`SweepError`] when the scenario or a variant cannot be loaded.
pub fn variants(spec: &SweepSpec) -> Result<(String, Vec<(Point, Scenario)>), SweepError> {
    let (name, text) = crate::source_text(&spec.source)?;
    let doc = parse_doc(&name, &text)?;
    let points = grid::points(&spec.sets)?;
    let mut out = Vec::with_capacity(points.len());
    for p in points {
        let s = variant(&name, &doc, &p)?;
        out.push((p, s));
    }
    Ok((name, out))
}

/// Runs a sweep.
///
/// # Errors
///
/// [`SweepError::NoRuns`] when `spec.runs` is 0; otherwise [`SweepError`] if the scenario or
/// a variant is invalid or a run fails (the failure of the lowest-numbered run is reported,
/// whatever the number of workers).
pub fn run(spec: &SweepSpec, exec: Exec<'_>) -> Result<SweepResult, SweepError> {
    if spec.runs == 0 {
        return Err(SweepError::NoRuns {
            what: "runs per grid point",
        });
    }
    let (_, variants) = variants(spec)?;
    let scenario_name = variants
        .first()
        .map(|(_, s)| s.name.clone())
        .unwrap_or_default();
    let directions: Vec<String> = variants
        .first()
        .map(|(_, s)| s.directions().into_iter().map(|d| d.name).collect())
        .unwrap_or_default();
    let scenarios: Vec<&Scenario> = variants.iter().map(|(_, s)| s).collect();
    let points: Vec<Point> = variants.iter().map(|(p, _)| p.clone()).collect();
    let batch = runner::Batch::new(&scenarios, spec.runs, spec.seed, spec.shard);
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
    let per_point = samples.map_err(|stop| {
        stop.into_error(exec, |k, error| {
            let p = usize::try_from(k / spec.runs.max(1)).unwrap_or(usize::MAX);
            let r = k % spec.runs.max(1);
            SweepError::Run {
                point: points.get(p).map(Point::label).unwrap_or_default(),
                run: r,
                seed: run_seed(spec.seed, r),
                error,
            }
        })
    })?;
    let mut out = Vec::with_capacity(points.len());
    for (p, parts) in points.into_iter().zip(per_point) {
        let mut acc = PointResult::new(p);
        for part in parts {
            acc.add(&part)?;
        }
        out.push(acc);
    }
    Ok(SweepResult {
        scenario: scenario_name,
        source: spec.source.clone(),
        seed: spec.seed,
        runs: spec.runs,
        grid: spec.sets.clone(),
        directions,
        shard: spec.shard,
        points: out,
    })
}

/// The false-reset metrics of a sweep (`--metric false_resets`, `false_resets.SESSION`),
/// checked and ready to estimate: per grid point (of the shard, see [`FalseResets::plan`])
/// and metric, the point's *healthy* variant (no faults, no expectations, the loss as
/// written) and the sessions it covers.
///
/// Unlike the other metrics, a false-reset rate is not observed run by run: a reset on a
/// healthy link with realistic loss is far too rare for the sweep's runs to see. Each grid
/// point gets one estimate of the rate per year of up time, with its 95 % interval and
/// warnings, by the rare-event estimator `holdtime advise` uses ([`rare`]); with the same
/// settings, seed and [`rare::RareSpec`] it is the advisor's number, byte for byte.
#[derive(Debug)]
pub struct FalseResets {
    /// `(grid point, metric, healthy variant, sessions, shortest detection time)`.
    plans: Vec<(usize, String, Scenario, Vec<String>, Duration)>,
}

impl FalseResets {
    /// Checks the metrics `names` (each [`rare::is_metric`]) at every grid point of `spec`
    /// whose first run is in `spec`'s shard (that shard makes the point's estimate; merging
    /// the shards keeps it).
    ///
    /// # Errors
    ///
    /// [`SweepError::Rare`] naming the metric and the grid point where it makes no sense (no
    /// lossy link, a session that is not there or crosses no lossy segment, loss in bursts);
    /// the load and `--set` errors of [`variants`].
    pub fn plan(spec: &SweepSpec, names: &[String]) -> Result<Self, SweepError> {
        let mut plans = Vec::new();
        if names.is_empty() {
            return Ok(Self { plans });
        }
        let (name, text) = crate::source_text(&spec.source)?;
        let doc = healthy_as_written(&parse_doc(&name, &text)?);
        let points = grid::points(&spec.sets)?;
        let total = spec.runs.saturating_mul(points.len() as u64);
        for (i, p) in points.iter().enumerate() {
            let first = (i as u64).saturating_mul(spec.runs);
            if spec
                .shard
                .is_some_and(|sh| !sh.range(total).contains(&first))
            {
                continue;
            }
            let sc = variant(&format!("{name} (healthy)"), &doc, p)?;
            for m in names {
                let (sessions, detect) = rare::metric_sessions(&sc, m).map_err(|why| {
                    SweepError::Rare(format!(
                        "--metric `{m}` at grid point [{}] {}: {why}",
                        i + 1,
                        p.label()
                    ))
                })?;
                plans.push((i, m.clone(), sc.clone(), sessions, detect));
            }
        }
        Ok(Self { plans })
    }

    /// Makes every planned estimate (each on one thread, over `exec.jobs` threads, so the
    /// result does not depend on their number) with `spec` (its seed: the sweep's) and puts
    /// it in `result`'s grid points.
    ///
    /// # Errors
    ///
    /// [`SweepError::Rare`] when an estimate cannot be made (the sessions never settle, a run
    /// fails).
    pub fn run(
        &self,
        spec: &rare::RareSpec,
        exec: Exec<'_>,
        result: &mut SweepResult,
    ) -> Result<(), SweepError> {
        type Slot = std::sync::Mutex<Option<Result<rare::SessionsEstimate, rare::RareError>>>;
        let slots: Vec<Slot> = self
            .plans
            .iter()
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (Some((_, _, sc, sessions, detect)), Some(slot)) =
                    (self.plans.get(i), slots.get(i))
                else {
                    break;
                };
                let r = rare::metric_estimate(sc, sessions, *detect, spec);
                *slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..exec.jobs.max(1).min(self.plans.len()) {
                scope.spawn(work);
            }
            work();
        });
        for ((point, name, ..), slot) in self.plans.iter().zip(slots) {
            let label = result
                .points
                .get(*point)
                .map(|p| p.point.label())
                .unwrap_or_default();
            match slot
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
            {
                Some(Ok(e)) => {
                    if let Some(p) = result.points.get_mut(*point) {
                        p.false_resets.insert(name.clone(), e);
                    }
                }
                Some(Err(e)) => {
                    return Err(SweepError::Rare(format!(
                        "--metric `{name}` at grid point [{}] {label}: {e}",
                        point + 1
                    )));
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// A scenario document as a healthy link: no faults, no expectations, and a duration out of
/// the rare-event trunk's reach (it stops itself); the loss as written.
#[must_use]
pub fn healthy_as_written(doc: &Table) -> Table {
    let mut doc = doc.clone();
    doc.remove("fault");
    doc.remove("expect");
    doc.insert(
        "duration".to_owned(),
        toml::Value::String(Duration::from_secs(7 * 86_400).to_string()),
    );
    doc
}

/// Why one run of a sweep produced no report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunFailure {
    /// The simulator refused the scenario.
    #[error("{0}")]
    Error(#[from] RunError),
    /// The simulator panicked (a bug in it: the seed reproduces it with `holdtime run`).
    #[error("the simulator panicked: {0}")]
    Panic(String),
}

pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// Whether a progress bar belongs on stderr: a terminal, and not under CI.
#[must_use]
pub fn progress_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_items() {
        for total in [0u64, 1, 7, 100] {
            for count in 1..=5u32 {
                let mut next = 0;
                for index in 1..=count {
                    let r = Shard { index, count }.range(total);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
        assert!("0/2".parse::<Shard>().is_err());
        assert!("3/2".parse::<Shard>().is_err());
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
    }

    #[test]
    fn a_sweep_of_zero_runs_is_refused() {
        let spec = SweepSpec {
            source: "reference".to_owned(),
            sets: Vec::new(),
            runs: 0,
            seed: 1,
            shard: None,
        };
        let exec = Exec::new(1);
        let e = run(&spec, exec).unwrap_err();
        assert!(
            matches!(
                e,
                SweepError::NoRuns {
                    what: "runs per grid point"
                }
            ),
            "{e}"
        );
    }

    fn hold_times(runs: u64) -> SweepSpec {
        SweepSpec {
            source: "reference".to_owned(),
            sets: vec!["bgp.hold_time=30s,90s,180s".parse().unwrap()],
            runs,
            seed: 1,
            shard: None,
        }
    }

    #[test]
    fn the_estimate_is_told_once_and_the_result_does_not_depend_on_it() {
        let told = std::cell::RefCell::new(Vec::new());
        let tell = |e: &Estimate| told.borrow_mut().push(*e);
        let exec = Exec {
            wall_limit: Some(std::time::Duration::from_secs(3600)),
            on_estimate: Some(&tell),
            ..Exec::new(2)
        };
        let gated = run(&hold_times(4), exec).unwrap();
        let told = told.into_inner();
        assert_eq!(told.len(), 1, "{told:?}");
        // The first run of each of the 3 grid points is timed; 3 runs each are left.
        assert_eq!(
            (told[0].timed, told[0].untimed, told[0].runs_left),
            (3, 0, 9)
        );
        let plain = run(&hold_times(4), Exec::new(1)).unwrap();
        assert_eq!(gated.to_json().unwrap(), plain.to_json().unwrap());
        assert!(gated.points.iter().all(|p| p.runs == 4));
    }

    #[test]
    fn an_estimate_over_the_limit_refuses_after_the_first_timed_point() {
        let told = std::cell::Cell::new(0);
        let tell = |_: &Estimate| told.set(told.get() + 1);
        let exec = Exec {
            wall_limit: Some(std::time::Duration::from_nanos(1)),
            on_estimate: Some(&tell),
            ..Exec::new(1)
        };
        match run(&hold_times(1000), exec) {
            Err(SweepError::TooLong { estimate, limit }) => {
                assert_eq!(limit, std::time::Duration::from_nanos(1));
                // One worker: the pilot stops after the first grid point's run.
                assert_eq!((estimate.timed, estimate.untimed), (1, 2));
                assert!(estimate.is_lower_bound());
                assert_eq!(estimate.runs_left, 2999);
            }
            other => panic!("expected TooLong, got {:?}", other.map(|r| r.runs)),
        }
        assert_eq!(
            told.get(),
            0,
            "a refused estimate is not told as going ahead"
        );
    }

    #[test]
    fn run_seeds_differ_and_are_stable() {
        assert_ne!(run_seed(1, 0), run_seed(1, 1));
        assert_ne!(run_seed(1, 0), run_seed(2, 0));
        // SplitMix64's first output for state 0 (a published test vector).
        assert_eq!(run_seed(0, 0), 0xE220_A839_7B1D_CDAF);
    }
}
