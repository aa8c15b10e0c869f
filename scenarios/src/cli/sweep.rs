//! `holdtime sweep | merge | advise | report`: the many-run commands.
//!
//! Exit codes as for `run`: 0 success, 2 bad input (scenario, `--set`, files, a count of 0) or
//! an estimate over an hour without `--yes` ([`crate::sweep::estimate`]), 3 a run failed.

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{EXIT_FAILED, EXIT_INVALID, EXIT_NOT_RUN, EXIT_OK};
use crate::sweep::estimate::{Estimate, WALL_LIMIT, show_wall};
use crate::sweep::grid::SetArg;
use crate::sweep::{self, Exec, Shard, SweepError, SweepResult, SweepSpec};

/// Output format of `sweep` and `merge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SweepFormat {
    /// A table of p50/p90/p99/p99.9/max per grid point.
    Text,
    /// Everything, with the histograms (HDR V2, base64), for `merge` and `report`.
    Json,
    /// One row per grid point.
    Csv,
}

/// Arguments of `holdtime sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// A scenario file, or the name of a built-in scenario.
    pub scenario: String,
    /// `KEY=V1,V2,...`: a grid axis (repeatable; e.g. `bgp.hold_time=10s,90s,180s`,
    /// `link[circuit.primary].loss=0.01`).
    #[arg(long = "set", value_name = "KEY=V1,V2,...")]
    pub set: Vec<SetArg>,
    /// Runs per grid point (at least 1).
    #[arg(long, value_parser = parse_runs)]
    pub runs: u64,
    /// Worker threads (at least 1; default: all cores). The result does not depend on it.
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Base seed (default: the file's `seed`, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: SweepFormat,
    /// Write the output here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only slice I of N of the (grid point, run) space; merge the slices with `merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Show this metric (repeatable; text and CSV; the JSON has every metric):
    /// `detection.ROUTER`, `detection.SESSION@ROUTER`, `convergence.ROUTER`, `outage.DIR`,
    /// `probes_lost.DIR`, `flaps`, each also as `episodeN.METRIC` in a scenario with several
    /// episodes. Default: every metric with a value except `detection.SESSION@ROUTER`.
    /// Also, only when named: `false_resets` (resets per year of up time of every session
    /// crossing a lossy link, on the point's healthy variant: no faults, the loss as written)
    /// or `false_resets.SESSION`, one estimate per grid point with its 95 % interval, made as
    /// `holdtime advise` makes it (in the JSON too when named).
    #[arg(long = "metric", value_name = "METRIC")]
    pub metric: Vec<String>,
    /// `false_resets`: estimate each rate until its 95 % interval's half-width is at most
    /// this fraction of it...
    #[arg(long, default_value_t = 0.25)]
    pub target_width: f64,
    /// ... or until this many deliveries have been branched.
    #[arg(long, default_value_t = 4_000, value_parser = parse_runs)]
    pub max_blocks: u64,
    /// Go ahead even when the sweep is estimated to take more than an hour of wall time.
    #[arg(long)]
    pub yes: bool,
}

/// `--runs`, `--healthy-runs`: a count of runs, at least 1 (clap turns the refusal into a
/// usage error, exit status 2).
pub(super) fn parse_runs(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("0 runs would measure nothing: give at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// `--jobs`: worker threads, at least 1.
pub(super) fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err(
            "0 worker threads would run nothing: give at least 1 (default: the cores available)"
                .to_owned(),
        ),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Default worker count: the cores available.
#[must_use]
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

pub(super) fn sweep(a: &SweepArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let loaded = match crate::load(&a.scenario) {
        Ok(l) => l,
        Err(e) => return report_error(&SweepError::Load(e), err),
    };
    let known: Vec<String> = sweep::metrics(&loaded.scenario)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for m in &a.metric {
        let base = m
            .strip_prefix("episode")
            .and_then(|rest| rest.split_once('.'))
            .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .map_or(m.as_str(), |(_, b)| b);
        if !known.iter().any(|k| k == base) && !sweep::rare::is_metric(m) {
            let _ = writeln!(
                err,
                "holdtime: --metric `{m}`: {} has no such metric\n  = allowed: {}\n  = each also as episodeN.METRIC when the scenario has several episodes\n  = and false_resets, false_resets.SESSION over a lossy link",
                a.scenario,
                known.join(", ")
            );
            return EXIT_INVALID;
        }
    }
    if !(a.target_width > 0.0 && a.target_width < 1.0) {
        let _ = writeln!(
            err,
            "holdtime: --target-width {} is not a fraction in (0, 1)",
            a.target_width
        );
        return EXIT_INVALID;
    }
    let seed = a.seed.unwrap_or(loaded.scenario.seed);
    let spec = SweepSpec {
        source: a.scenario.clone(),
        sets: a.set.clone(),
        runs: a.runs,
        seed,
        shard: a.shard,
    };
    let rates: Vec<String> = a
        .metric
        .iter()
        .filter(|m| sweep::rare::is_metric(m))
        .cloned()
        .collect();
    // Checked before any run: a false-reset metric where it makes no sense is refused at once.
    let false_resets = match sweep::FalseResets::plan(&spec, &rates) {
        Ok(f) => f,
        Err(e) => return report_error(&e, err),
    };
    let rare = sweep::rare::RareSpec {
        target: a.target_width,
        max_blocks: a.max_blocks,
        seed,
        ..sweep::rare::RareSpec::default()
    };
    let err = RefCell::new(err);
    let on_estimate = |e: &Estimate| tell_estimate(e, &err);
    let exec = exec(a.jobs, a.yes, &on_estimate);
    let result =
        sweep::run(&spec, exec).and_then(|mut r| false_resets.run(&rare, exec, &mut r).map(|()| r));
    let err = err.into_inner();
    match result {
        Ok(r) => emit(&r, a.format, &a.metric, a.out.as_deref(), out, err),
        Err(e @ SweepError::TooLong { .. }) => too_long(
            &e,
            "fewer --runs, fewer --set values, or one --shard I/N of it per machine",
            err,
        ),
        Err(e) => report_error(&e, err),
    }
}

/// The execution options of `sweep` and `advise`: the wall-time limit unless `--yes`.
fn exec<'a>(jobs: Option<usize>, yes: bool, on_estimate: &'a dyn Fn(&Estimate)) -> Exec<'a> {
    Exec {
        jobs: jobs.unwrap_or_else(default_jobs),
        progress: sweep::progress_wanted(),
        wall_limit: (!yes).then_some(WALL_LIMIT),
        on_estimate: Some(on_estimate),
    }
}

/// Estimates of a minute or more go to stderr before the runs; an estimate over the limit
/// only gets here with `--yes`.
fn tell_estimate(e: &Estimate, err: &RefCell<&mut dyn Write>) {
    if e.wall < std::time::Duration::from_secs(60) {
        return;
    }
    let mut err = err.borrow_mut();
    if e.wall > WALL_LIMIT {
        let _ = writeln!(
            err,
            "holdtime: this will take {e}: more than {}, going ahead (--yes)",
            show_wall(WALL_LIMIT)
        );
    } else {
        let _ = writeln!(err, "holdtime: this will take {e}");
    }
}

/// The refusal of an estimate over the limit: the estimate, then how to go ahead.
fn too_long(e: &SweepError, smaller: &str, err: &mut dyn Write) -> u8 {
    let _ = writeln!(
        err,
        "holdtime: {e}\n  = help: give --yes to run it anyway, or make it smaller: {smaller}"
    );
    EXIT_INVALID
}

pub(super) fn merge(
    files: &[PathBuf],
    format: SweepFormat,
    to: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut parts = Vec::with_capacity(files.len());
    let mut audits = Vec::new();
    for f in files {
        let text = match crate::input::read_text(f, crate::input::Kind::Result) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(err, "holdtime: {e}");
                return EXIT_INVALID;
            }
        };
        if is_audit(&text) {
            match sweep::audit::AuditResult::from_json(&text) {
                Ok(r) => audits.push(r),
                Err(e) => {
                    let _ = writeln!(err, "holdtime: {}: {e}", f.display());
                    return EXIT_INVALID;
                }
            }
            continue;
        }
        match SweepResult::from_json(&text) {
            Ok(r) => parts.push(r),
            Err(e) => {
                let _ = writeln!(err, "holdtime: {}: {e}", f.display());
                return EXIT_INVALID;
            }
        }
    }
    if !audits.is_empty() {
        if !parts.is_empty() {
            let _ = writeln!(
                err,
                "holdtime: cannot merge: the inputs mix audit and sweep results"
            );
            return EXIT_INVALID;
        }
        return match sweep::audit::merge(&audits) {
            Ok(r) => emit_audit(&r, format, to, None, out, err),
            Err(e) => {
                let _ = writeln!(err, "holdtime: cannot merge: {e}");
                EXIT_INVALID
            }
        };
    }
    match sweep::merge(&parts) {
        Ok(r) => emit(&r, format, &[], to, out, err),
        Err(e) => {
            let _ = writeln!(err, "holdtime: cannot merge: {e}");
            EXIT_INVALID
        }
    }
}

/// Whether a result's JSON is an audit's (its `format` tag).
fn is_audit(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Tag {
        format: String,
    }
    serde_json::from_str::<Tag>(text).is_ok_and(|t| t.format.starts_with("holdtime.audit/"))
}

fn emit(
    r: &SweepResult,
    format: SweepFormat,
    select: &[String],
    to: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let text = match format {
        SweepFormat::Text => r.to_text(select),
        SweepFormat::Csv => r.to_csv(select),
        SweepFormat::Json => match r.to_json() {
            Ok(j) => j,
            Err(e) => {
                let _ = writeln!(err, "holdtime: cannot write JSON: {e}");
                return EXIT_NOT_RUN;
            }
        },
    };
    write_out(&text, to, out, err)
}

pub(super) fn write_out(
    text: &str,
    to: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    match to {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => EXIT_OK,
            Err(e) => {
                let _ = writeln!(err, "holdtime: cannot write {}: {e}", path.display());
                EXIT_INVALID
            }
        },
        None => {
            let _ = out.write_all(text.as_bytes());
            EXIT_OK
        }
    }
}

pub(super) fn report_error(e: &SweepError, err: &mut dyn Write) -> u8 {
    let text = e.to_string();
    let _ = err.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = writeln!(err);
    }
    match e {
        SweepError::Run { .. } | SweepError::Hist(_) => EXIT_NOT_RUN,
        _ => EXIT_INVALID,
    }
}

/// Arguments of `holdtime advise`.
#[derive(Debug, clap::Args)]
pub struct AdviseArgs {
    /// The scenario with the silent failure (default: the reference).
    pub scenario: Option<String>,
    /// Long-run packet loss on the healthy link: a percentage (`1%`) or a fraction (`0.01`).
    #[arg(long, default_value = "1%", value_parser = crate::units::parse_fraction)]
    pub loss: f64,
    /// Mean duration of a loss burst, e.g. `200ms` or `3s`: the link loses every packet for
    /// an exponential time of that mean, then none for as long as makes `--loss` in the long
    /// run (Gilbert–Elliott in time, as `loss = { mean_good, mean_bad }` in a scenario file).
    /// Without it, losses are independent.
    #[arg(long)]
    pub burst: Option<sim_core::time::Duration>,
    /// Outage budget: the worst direction's p99 after a silent failure.
    #[arg(long, default_value = "240s")]
    pub max_outage: sim_core::time::Duration,
    /// False-reset budget per year (compared with the estimate; the 95 % bound is shown).
    #[arg(long, default_value_t = 1.0)]
    pub max_false_per_year: f64,
    /// Failure runs per candidate (at least 1).
    #[arg(long, default_value_t = 200, value_parser = parse_runs)]
    pub runs: u64,
    /// How to estimate the false-reset rate: `is`, a trunk at the real loss branched at every
    /// delivery with the exact chance of the losses after it (rates far below one per year;
    /// independent loss only),
    /// or `direct`, long healthy runs (--healthy-runs x --horizon) with resets counted.
    /// Default: `is`, or `direct` with --burst.
    #[arg(long, value_enum)]
    pub method: Option<sweep::advise::Method>,
    /// Rare-event estimate: estimate each rate until its 95 % interval's half-width is at
    /// most this fraction of it (0.25 = 25 %)...
    #[arg(long, default_value_t = sweep::rare::ADVISE_TARGET)]
    pub target_width: f64,
    /// ... or until this many deliveries have been branched.
    #[arg(long, default_value_t = sweep::rare::ADVISE_MAX_BLOCKS, value_parser = parse_runs)]
    pub max_blocks: u64,
    /// Direct method: healthy runs per candidate (at least 1).
    #[arg(long, default_value_t = 8, value_parser = parse_runs)]
    pub healthy_runs: u64,
    /// Direct method: simulated time of each healthy run.
    #[arg(long, default_value = "1d")]
    pub horizon: sim_core::time::Duration,
    /// Worker threads (at least 1; default: all cores).
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Base seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the assessments as JSON here (for `holdtime report`).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Go ahead even when the runs are estimated to take more than an hour of wall time.
    #[arg(long)]
    pub yes: bool,
    /// Budget and rank by this failure metric's p99 instead of the worst direction's outage:
    /// a duration metric as `sweep --metric` names it (`detection.ce1`,
    /// `detection.SESSION@ROUTER`, `convergence.ergw`, `outage.vnet_to_onprem`).
    #[arg(long, value_name = "METRIC")]
    pub metric: Option<String>,
}

pub(super) fn advise(a: &AdviseArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    use crate::sweep::advise;
    if !(0.0..1.0).contains(&a.loss) {
        let _ = writeln!(
            err,
            "holdtime: --loss {} is not a fraction in [0, 1)",
            a.loss
        );
        return EXIT_INVALID;
    }
    let loss = advise::LossSpec {
        loss: a.loss,
        burst: a.burst,
    };
    if let Some(burst) = a.burst {
        let min = crate::units::MIN_STATE_MEAN;
        if burst < min {
            let _ = writeln!(
                err,
                "holdtime: --burst {burst} is shorter than {min} (for loss without bursts, leave --burst out)"
            );
            return EXIT_INVALID;
        }
        if let Some(good) = loss.mean_good()
            && good < min
        {
            let _ = writeln!(
                err,
                "holdtime: --loss {} in bursts of {burst} leaves {good} between bursts, less than {min}: use longer bursts or less loss",
                a.loss
            );
            return EXIT_INVALID;
        }
    }
    let method = match (a.method, a.burst) {
        (Some(advise::Method::Is), Some(_)) => {
            let _ = writeln!(
                err,
                "holdtime: --method is covers independent loss only (a burst chain's likelihood \
                 ratio is not a function of the loss counts): use --method direct with --burst"
            );
            return EXIT_INVALID;
        }
        (Some(m), _) => m,
        (None, Some(_)) => advise::Method::Direct,
        (None, None) => advise::Method::Is,
    };
    if !(a.target_width > 0.0 && a.target_width < 1.0) {
        let _ = writeln!(
            err,
            "holdtime: --target-width {} is not a fraction in (0, 1)",
            a.target_width
        );
        return EXIT_INVALID;
    }
    let source = a
        .scenario
        .clone()
        .unwrap_or_else(|| crate::library::DEFAULT.to_owned());
    if let Some(m) = &a.metric {
        let loaded = match crate::load(&source) {
            Ok(l) => l,
            Err(e) => return report_error(&SweepError::Load(e), err),
        };
        let known: Vec<String> = sweep::metrics(&loaded.scenario)
            .into_iter()
            .filter(|(_, metric)| metric.is_duration())
            .map(|(n, _)| n)
            .collect();
        if !known.contains(m) {
            let _ = writeln!(
                err,
                "holdtime: --metric `{m}`: {source} has no such duration metric\n  = allowed: {}",
                known.join(", ")
            );
            return EXIT_INVALID;
        }
    }
    let spec = advise::AdviseSpec {
        source,
        metric: a.metric.clone(),
        candidates: advise::default_candidates(),
        loss,
        max_outage: a.max_outage,
        max_false_per_year: a.max_false_per_year,
        runs: a.runs,
        method,
        rare: sweep::rare::RareSpec {
            target: a.target_width,
            max_blocks: a.max_blocks,
            ..sweep::rare::RareSpec::default()
        },
        healthy_runs: a.healthy_runs,
        horizon: a.horizon,
        seed: a.seed,
    };
    let err = RefCell::new(err);
    let on_estimate = |e: &Estimate| tell_estimate(e, &err);
    let result = advise::assess(&spec, exec(a.jobs, a.yes, &on_estimate));
    let err = err.into_inner();
    match result {
        Ok(ranked) => {
            if let Some(path) = &a.json {
                let json = advise::to_json(&spec, &ranked);
                if write_out(&json, Some(path), out, err) != EXIT_OK {
                    return EXIT_INVALID;
                }
            }
            let _ = out.write_all(advise::render(&spec, &ranked).as_bytes());
            EXIT_OK
        }
        Err(e @ SweepError::TooLong { .. }) => too_long(
            &e,
            "fewer --runs or --healthy-runs, or a shorter --horizon",
            err,
        ),
        Err(e) => report_error(&e, err),
    }
}

pub(super) fn report(
    input: &Path,
    html: Option<&Path>,
    svg: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let text = match crate::input::read_text(input, crate::input::Kind::Result) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "holdtime: {e}");
            return EXIT_INVALID;
        }
    };
    let file = match crate::html::ResultFile::parse(&text) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "holdtime report: {}: {e}", input.display());
            return EXIT_INVALID;
        }
    };
    let (page, charts) = file.render();
    if let Some(dir) = svg {
        if let Err(e) = std::fs::create_dir_all(dir) {
            let _ = writeln!(err, "holdtime: {}: {e}", dir.display());
            return EXIT_INVALID;
        }
        for c in &charts {
            let path = dir.join(format!("{}.svg", c.id));
            if write_out(&c.svg, Some(&path), out, err) != EXIT_OK {
                return EXIT_INVALID;
            }
        }
    }
    match html {
        Some(path) => write_out(&page, Some(path), out, err),
        None if svg.is_none() => write_out(&page, None, out, err),
        None => EXIT_OK,
    }
}

/// Arguments of `holdtime audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The design: a scenario file or a built-in scenario (default: the reference). Its
    /// faults and expectations are replaced by one failure at a time.
    pub scenario: Option<String>,
    /// Seeds per failure (timer phases, loss patterns).
    #[arg(long, default_value_t = 50, value_parser = parse_runs)]
    pub runs: u64,
    /// Worker threads (default: all cores). The result does not depend on it.
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Base seed (default: the file's `seed`, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Only these failure kinds (comma-separated fault kinds: `silent,down,router_crash`).
    #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
    pub only: Vec<crate::spec::FaultKind>,
    /// Leave these failure kinds out.
    #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
    pub skip: Vec<crate::spec::FaultKind>,
    /// Outage budget: the worst direction's p99 outage of every failure must stay within it
    /// (`outage=30s`; default: the smallest `max` of the file's `outage.*` expectations).
    #[arg(long, value_name = "outage=DURATION", value_parser = parse_budget)]
    pub budget: Option<sim_core::time::Duration>,
    /// 1: every single failure; 2: also every unordered pair of them (two failures of one
    /// element are not paired). The count and the time estimate are shown before the runs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub depth: u8,
    /// Run only slice I of N of the (failure, run) items; merge the slices' JSON with `merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: SweepFormat,
    /// Write the output here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write an HTML page: the ranked table and each failure's outage bars.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Go ahead even when the runs are estimated to take more than an hour of wall time.
    #[arg(long)]
    pub yes: bool,
}

/// `--budget outage=DURATION`.
fn parse_budget(s: &str) -> Result<sim_core::time::Duration, String> {
    let (key, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected outage=DURATION, e.g. outage=30s"))?;
    if key.trim() != "outage" {
        return Err(format!("`{key}`: the only budget is `outage`"));
    }
    value.trim().parse().map_err(|e| format!("`{value}`: {e}"))
}

/// `holdtime audit`: exit 0 when every failure stays within the budget (no outage open at the
/// end, p99 within `--budget`), 1 when one does not, 2 on invalid input, 3 when a run failed.
pub(super) fn audit(a: &AuditArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    use crate::sweep::audit;
    let source = a
        .scenario
        .clone()
        .unwrap_or_else(|| crate::library::DEFAULT.to_owned());
    let seed = match a.seed {
        Some(s) => s,
        None => match crate::load(&source) {
            Ok(l) => l.scenario.seed,
            Err(e) => return report_error(&SweepError::Load(e), err),
        },
    };
    let spec = audit::AuditSpec {
        source,
        runs: a.runs,
        seed,
        only: a.only.clone(),
        skip: a.skip.clone(),
        budget: a.budget,
        depth: a.depth,
        shard: a.shard,
    };
    let plan = match audit::plan(&spec) {
        Ok(p) => p,
        Err(e) => return report_error(&e, err),
    };
    // Pairs multiply the work: say what will run before running it.
    let big = a.depth > 1;
    if big {
        let _ = writeln!(err, "holdtime audit: {}", plan.describe(a.runs));
        if let Some(sh) = a.shard {
            let r = sh.range(plan.total_runs(a.runs));
            let _ = writeln!(
                err,
                "holdtime audit: shard {}/{} runs items {}..{} ({} runs)",
                sh.index,
                sh.count,
                r.start,
                r.end,
                r.end - r.start
            );
        }
    }
    let err = RefCell::new(err);
    let on_estimate = |e: &Estimate| {
        if big && e.wall < std::time::Duration::from_secs(60) {
            let _ = writeln!(err.borrow_mut(), "holdtime: this will take {e}");
        } else {
            tell_estimate(e, &err);
        }
    };
    let result = audit::run(&spec, &plan, exec(a.jobs, a.yes, &on_estimate));
    let err = err.into_inner();
    let r = match result {
        Ok(r) => r,
        Err(e @ SweepError::TooLong { .. }) => {
            return too_long(
                &e,
                "fewer --runs, --only/--skip, --depth 1, or one --shard I/N of it per machine",
                err,
            );
        }
        Err(e) => return report_error(&e, err),
    };
    emit_audit(&r, a.format, a.out.as_deref(), a.html.as_deref(), out, err)
}

/// Writes an audit result; exit 0 when it passes, 1 when not (a shard: 0, its verdict is
/// partial).
fn emit_audit(
    r: &sweep::audit::AuditResult,
    format: SweepFormat,
    to: Option<&Path>,
    html: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let text = match format {
        SweepFormat::Text => r.to_text(),
        SweepFormat::Csv => r.to_csv(),
        SweepFormat::Json => match r.to_json() {
            Ok(j) => j,
            Err(e) => {
                let _ = writeln!(err, "holdtime: cannot write JSON: {e}");
                return EXIT_NOT_RUN;
            }
        },
    };
    let written = write_out(&text, to, out, err);
    if written != EXIT_OK {
        return written;
    }
    if let Some(path) = html {
        let page = sweep::audit_html::page(r);
        let written = write_out(&page, Some(path), out, err);
        if written != EXIT_OK {
            return written;
        }
    }
    if r.shard.is_some() || r.passes() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}
