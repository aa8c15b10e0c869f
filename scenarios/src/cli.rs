//! The `holdtime` command line: argument parsing (clap) and the commands, writing to the
//! given streams so that tests can drive them. `src/bin/holdtime.rs` only calls [`main`].
//!
//! Exit codes: 0 success; 1 an expectation failed (`check`), or a message failed to decode
//! (`decode`); 2 an invalid or unknown scenario, a file refused before reading (not a regular
//! file, or over its size bound: [`crate::input`]), bad arguments (`--runs 0`, `--jobs 0`), or
//! a sweep or advise estimated to take more than an hour without `--yes`; 3 the scenario is
//! valid but could not be simulated.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::capture::{decode, render};
use crate::report::{Format, RunFormat, evaluate, render_verdicts};
use crate::sim::net::CapturePoint;
use crate::sim::recorder::Recorder;
use crate::{LoadError, Loaded, library};

pub mod sweep;

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: an expectation failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: an invalid or unknown scenario.
pub const EXIT_INVALID: u8 = 2;
/// Exit status: valid, but the simulation could not run.
pub const EXIT_NOT_RUN: u8 = 3;

/// Replay and measure BGP failover in hybrid ExpressRoute + VPN networks.
#[derive(Debug, Parser)]
#[command(name = "holdtime", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (a file or a built-in name; default: the reference "3 x 60 s").
    Run {
        /// A scenario file, or the name of a built-in scenario (see `holdtime scenarios`).
        scenario: Option<String>,
        /// Seed for every random stream (default: the file's `seed`, else 0).
        #[arg(long)]
        seed: Option<u64>,
        /// Output format: the text report, the report as JSON, or the outages as CSV.
        #[arg(long, value_enum, default_value = "text")]
        format: RunFormat,
        /// Write the event trace here, one JSON object per line.
        #[arg(long, value_name = "FILE.jsonl")]
        trace: Option<PathBuf>,
        /// Also write the run page here: the network drawn and coloured step by step, the
        /// timeline, and the numbers as tables (one self-contained HTML file).
        #[arg(long, value_name = "FILE.html")]
        html: Option<PathBuf>,
        /// Capture options: `--pcap`, `--mrt`, `--pcap-epoch`, `--capture-point`.
        #[command(flatten)]
        capture: CaptureArgs,
    },
    /// Print the BGP messages of a pcap, pcapng or MRT file (optionally gzip), one per line;
    /// exit 1 if anything failed to decode (or, with --check-roundtrip, re-encoded differently).
    Decode {
        /// The file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Re-encode each decoded message and report any byte difference.
        #[arg(long)]
        check_roundtrip: bool,
    },
    /// Evaluate the `[[expect]]` blocks of scenarios; exit 1 if one fails, 2 if a file is invalid.
    Check {
        /// Scenario files or built-in names.
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// Seed (default: each file's `seed`).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run a scenario many times over a grid of settings; summarise as histograms.
    Sweep(sweep::SweepArgs),
    /// Merge the JSON outputs of `sweep --shard I/N` into the unsharded result.
    Merge {
        /// The shard outputs (`sweep --format json`), all N of them, in any order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: sweep::SweepFormat,
        /// Write the output here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Play one side of a scenario for real over TCP against a real router; faults from
    /// `--fault` or standard input lines (`silent`, `down`, `restore`).
    Live(LiveArgs),
    /// Size BGP timers and BFD: outage after a silent failure against false resets on a
    /// lossy healthy link, ranked, with a recommendation.
    Advise(sweep::AdviseArgs),
    /// Every single failure of a design (links, routers, Azure's operations), each simulated
    /// over seeds and ranked worst first; names single points of failure and non-redundant
    /// directions. Exit 0 within budget, 1 over it (an outage open at the end is over any).
    Audit(sweep::AuditArgs),
    /// Turn a result file (`run --format json`, `sweep --format json`, `advise --json`) into
    /// a self-contained HTML page (inline SVG charts, tables) or SVG files; the file's
    /// `format` tag says which page.
    Report {
        /// The JSON result.
        result: PathBuf,
        /// Write the HTML page here (default: standard output, unless --svg is given).
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write each chart as an SVG file into this directory.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Run two scenarios (say, two timer settings) on the same seeds and show their outages,
    /// detection and flaps side by side: a table, and with --html a page of CDFs.
    Compare {
        /// The first scenario (A): a file or a built-in name.
        a: String,
        /// The second scenario (B).
        b: String,
        /// Runs per scenario (at least 1).
        #[arg(long, default_value_t = 20, value_parser = sweep::parse_runs)]
        runs: u64,
        /// Base seed: run R of both uses the same seed derived from it, as a sweep does.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write the comparison page here (one self-contained HTML file).
        #[arg(long, value_name = "FILE.html")]
        html: Option<PathBuf>,
    },
    /// List the built-in scenarios, or print one.
    Scenarios {
        /// `show NAME` prints a scenario's TOML.
        #[command(subcommand)]
        action: Option<ScenariosAction>,
    },
}

/// Where `holdtime run --pcap` captures frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CapturePointArg {
    /// At the sender, as frames enter the path: lost frames are included, at their send time.
    #[default]
    Sender,
    /// At the receiver, as frames leave the path: lost frames are omitted; arrival times.
    Receiver,
}

/// The capture options of `holdtime run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CaptureArgs {
    /// Write every BGP message and BFD packet of the run as a pcapng capture (one interface
    /// per session).
    #[arg(long, value_name = "FILE.pcapng")]
    pub pcap: Option<PathBuf>,
    /// Write every BGP message received and every FSM transition as MRT (RFC 6396 BGP4MP_ET).
    #[arg(long, value_name = "FILE.mrt")]
    pub mrt: Option<PathBuf>,
    /// Wall-clock time of virtual time zero in the pcap and MRT files, in seconds since 1970
    /// (default 1767225600 = 2026-01-01T00:00:00Z).
    #[arg(long, value_name = "UNIX_SECONDS", default_value_t = crate::sim::recorder::DEFAULT_EPOCH)]
    pub pcap_epoch: u64,
    /// Where frames are captured: `sender` includes frames the path loses, `receiver` omits them.
    #[arg(long, value_enum, default_value = "sender")]
    pub capture_point: CapturePointArg,
}

/// The side `holdtime live` plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LiveRoleArg {
    /// The MSEE pair: msee1 (primary link) on the first endpoint, msee2 (secondary) on the
    /// second (ASN 12076, Azure's 60/180 timers, VNet prefixes, prefix limit).
    Msee,
    /// The Azure VPN gateway.
    VpnGateway,
    /// The customer edge routers: ce1 on the first endpoint, ce2 on the second.
    Ce,
}

/// The options of `holdtime live`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("endpoint").required(true).args(["listen", "connect"])))]
pub struct LiveArgs {
    /// A scenario file or built-in name (its topology is used).
    pub scenario: String,
    /// Which router to play.
    #[arg(long, value_enum)]
    pub role: LiveRoleArg,
    /// Listen here for the peer's connection (e.g. 127.0.0.1:1179); repeat it to play more
    /// routers of the role, one address each: `--role msee --listen 127.0.0.1:11791 --listen
    /// 127.0.0.1:11792` plays msee1 on the first and msee2 on the second.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<std::net::SocketAddr>,
    /// Connect to the peer here; repeatable like --listen (one address per router).
    #[arg(long, value_name = "ADDR:PORT")]
    pub connect: Vec<std::net::SocketAddr>,
    /// How long to run (default: the scenario's duration).
    #[arg(long)]
    pub duration: Option<sim_core::time::Duration>,
    /// A fault at a time since the start, on one session or all: `--fault "30s silent
    /// primary"` (KIND: silent, down, restore; TARGET: a router such as msee2, a session, a
    /// word of its name such as primary/secondary, or all, the default); repeatable.
    /// Standard input takes the same commands without the time (`silent primary`).
    #[arg(long, value_name = "\"TIME KIND [TARGET]\"")]
    pub fault: Vec<crate::live::ScheduledFault>,
    /// The real peer's timer profile (bird, frr, cisco-ios, junos, rfc4271), for the
    /// predicted window of its detection (default: the topology's profile of the other end).
    #[arg(long, value_name = "PROFILE")]
    pub peer_profile: Option<String>,
    /// Seed of the timer jitter (default: the file's).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `holdtime scenarios ...`.
#[derive(Debug, Subcommand)]
pub enum ScenariosAction {
    /// Print a built-in scenario's TOML.
    Show {
        /// Its name.
        name: String,
    },
}

/// Runs the parsed command line, writing results to `out` and diagnostics to `err`;
/// returns the exit status.
pub fn main(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match &cli.command {
        Command::Run {
            scenario,
            seed,
            format,
            trace,
            html,
            capture,
        } => run(
            scenario.as_deref().unwrap_or(library::DEFAULT),
            *seed,
            *format,
            RunOutputs {
                trace: trace.as_ref(),
                html: html.as_ref(),
            },
            capture,
            out,
            err,
        ),
        Command::Decode {
            file,
            format,
            check_roundtrip,
        } => decode(file, *format, *check_roundtrip, out, err),
        Command::Check { scenarios, seed } => check(scenarios, *seed, out, err),
        Command::Sweep(args) => sweep::sweep(args, out, err),
        Command::Advise(args) => sweep::advise(args, out, err),
        Command::Audit(args) => sweep::audit(args, out, err),
        Command::Report { result, html, svg } => {
            sweep::report(result, html.as_deref(), svg.as_deref(), out, err)
        }
        Command::Merge {
            files,
            format,
            out: to,
        } => sweep::merge(files, *format, to.as_deref(), out, err),
        Command::Live(args) => live(args, out, err),
        Command::Compare {
            a,
            b,
            runs,
            seed,
            html,
        } => compare(a, b, *runs, *seed, html.as_deref(), out, err),
        Command::Scenarios { action: None } => {
            let width = library::LIBRARY
                .iter()
                .map(|e| e.name.len())
                .max()
                .unwrap_or(0);
            for e in &library::LIBRARY {
                let _ = writeln!(out, "{:<width$}  {}", e.name, library::summary(e));
            }
            let _ = writeln!(
                out,
                "\nrun one with `holdtime run NAME`; print it with `holdtime scenarios show NAME`"
            );
            EXIT_OK
        }
        Command::Scenarios {
            action: Some(ScenariosAction::Show { name }),
        } => match library::get(name) {
            Some(e) => {
                let _ = out.write_all(e.source.as_bytes());
                EXIT_OK
            }
            None => {
                let _ = writeln!(
                    err,
                    "holdtime: no built-in scenario `{name}`\n  = allowed: {}",
                    library::LIBRARY
                        .iter()
                        .map(|e| e.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                EXIT_INVALID
            }
        },
    }
}

fn live(args: &LiveArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let Some(loaded) = load(&args.scenario, err) else {
        return EXIT_INVALID;
    };
    let endpoints = args
        .listen
        .iter()
        .map(|a| crate::live::Endpoint::Listen(*a))
        .chain(
            args.connect
                .iter()
                .map(|a| crate::live::Endpoint::Connect(*a)),
        )
        .collect();
    let peer_profile = match args.peer_profile.as_deref() {
        None => None,
        Some(name) => match crate::topology::Profile::ALL
            .iter()
            .find(|p| p.name() == name)
        {
            Some(p) => Some(*p),
            None => {
                let _ = writeln!(
                    err,
                    "holdtime live: unknown profile `{name}`\n  = allowed: {}",
                    crate::topology::Profile::ALL
                        .iter()
                        .map(|p| p.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return EXIT_INVALID;
            }
        },
    };
    let opts = crate::live::LiveOptions {
        role: match args.role {
            LiveRoleArg::Msee => crate::live::LiveRole::Msee,
            LiveRoleArg::VpnGateway => crate::live::LiveRole::VpnGateway,
            LiveRoleArg::Ce => crate::live::LiveRole::Ce,
        },
        endpoints,
        duration: args.duration.unwrap_or(loaded.scenario.duration),
        faults: args.fault.clone(),
        stdin: true,
        seed: args.seed.unwrap_or(loaded.scenario.seed),
        peer_profile,
    };
    match crate::live::run(&loaded.scenario.topology, &opts, out) {
        Ok(_) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "holdtime live: {e}");
            EXIT_NOT_RUN
        }
    }
}

/// `holdtime compare A B`: exit 0, 2 when a scenario is invalid, 3 when one could not run.
fn compare(
    a: &str,
    b: &str,
    runs: u64,
    seed: u64,
    html: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let (Some(la), Some(lb)) = (load(a, err), load(b, err)) else {
        return EXIT_INVALID;
    };
    let c = match crate::compare::compare((a, &la.scenario), (b, &lb.scenario), runs, seed) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "holdtime compare: {e}");
            return EXIT_NOT_RUN;
        }
    };
    let _ = out.write_all(c.to_text().as_bytes());
    if let Some(path) = html {
        let (page, _) = crate::html::compare::compare_page(&c);
        if let Err(e) = std::fs::write(path, page) {
            let _ = writeln!(err, "holdtime: {}: {e}", path.display());
            return EXIT_INVALID;
        }
    }
    EXIT_OK
}

/// Loads and reports load problems; `None` when the scenario is unusable.
fn load(name: &str, err: &mut dyn Write) -> Option<Loaded> {
    match crate::load(name) {
        Ok(loaded) => {
            if !loaded.scenario.warnings.is_empty() {
                let _ = err.write_all(loaded.render_warnings().as_bytes());
            }
            Some(loaded)
        }
        Err(e @ (LoadError::Invalid { .. } | LoadError::Unknown { .. } | LoadError::Read(_))) => {
            let text = e.to_string();
            let _ = err.write_all(text.as_bytes());
            if !text.ends_with('\n') {
                let _ = writeln!(err);
            }
            None
        }
    }
}

/// Files `holdtime run` writes besides its standard output.
struct RunOutputs<'a> {
    trace: Option<&'a PathBuf>,
    html: Option<&'a PathBuf>,
}

fn run(
    name: &str,
    seed: Option<u64>,
    format: RunFormat,
    files: RunOutputs<'_>,
    capture: &CaptureArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let trace = files.trace;
    let Some(loaded) = load(name, err) else {
        return EXIT_INVALID;
    };
    let seed = seed.unwrap_or(loaded.scenario.seed);
    let mut trace_file = match trace.map(std::fs::File::create).transpose() {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "holdtime: cannot create trace file: {e}");
            return EXIT_INVALID;
        }
    };
    let trace_writer = trace_file.as_mut().map(|f| f as &mut dyn Write);
    let result = if capture.pcap.is_some() || capture.mrt.is_some() {
        match run_captured(&loaded, seed, trace_writer, capture) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "holdtime: {e}");
                return EXIT_INVALID;
            }
        }
    } else {
        crate::run(&loaded.scenario, seed, trace_writer)
    };
    match result {
        Ok(report) => {
            if let Some(path) = files.html {
                let (page, _) = crate::html::run::page(&report);
                if let Err(e) = std::fs::write(path, page) {
                    let _ = writeln!(err, "holdtime: {}: {e}", path.display());
                    return EXIT_INVALID;
                }
            }
            match format {
                RunFormat::Text => {
                    let _ = out.write_all(report.to_text().as_bytes());
                }
                RunFormat::Csv => {
                    let _ = out.write_all(report.to_csv().as_bytes());
                }
                RunFormat::Json => match report.to_json() {
                    Ok(j) => {
                        let _ = writeln!(out, "{j}");
                    }
                    Err(e) => {
                        let _ = writeln!(err, "holdtime: cannot write JSON: {e}");
                        return EXIT_NOT_RUN;
                    }
                },
            }
            EXIT_OK
        }
        Err(e) => {
            // Leave no empty trace behind that could pass for a run's output.
            drop(trace_file);
            for path in [trace, capture.pcap.as_ref(), capture.mrt.as_ref()]
                .into_iter()
                .flatten()
            {
                let _ = std::fs::remove_file(path);
            }
            let _ = writeln!(
                err,
                "{}: scenario `{}` is valid ({} faults, {} expectations, seed {seed}) but was not run\nholdtime: {e}",
                loaded.source.name(),
                loaded.scenario.name,
                loaded.scenario.faults.len(),
                loaded.scenario.expectations.len(),
            );
            EXIT_NOT_RUN
        }
    }
}

fn check(names: &[String], seed: Option<u64>, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut status = EXIT_OK;
    for name in names {
        let Some(loaded) = load(name, err) else {
            status = EXIT_INVALID;
            continue;
        };
        let seed = seed.unwrap_or(loaded.scenario.seed);
        match crate::run(&loaded.scenario, seed, None) {
            Ok(report) => {
                let verdicts = evaluate(&loaded.scenario, &report);
                let _ = out.write_all(render_verdicts(loaded.source.name(), &verdicts).as_bytes());
                if verdicts.iter().any(|v| !v.pass) && status == EXIT_OK {
                    status = EXIT_FAILED;
                }
            }
            Err(e) => {
                let _ = writeln!(
                    err,
                    "{}: valid; {} expectations not evaluated: {e}",
                    loaded.source.name(),
                    loaded.scenario.expectations.len()
                );
                if status == EXIT_OK {
                    status = EXIT_NOT_RUN;
                }
            }
        }
    }
    status
}

/// Runs with a [`Recorder`] writing the files `capture` names.
fn run_captured(
    loaded: &Loaded,
    seed: u64,
    trace: Option<&mut dyn Write>,
    capture: &CaptureArgs,
) -> std::io::Result<Result<crate::report::RunReport, crate::sim::RunError>> {
    let create =
        |p: &Option<PathBuf>| -> std::io::Result<Option<std::io::BufWriter<std::fs::File>>> {
            p.as_ref()
                .map(|p| {
                    std::fs::File::create(p)
                        .map(std::io::BufWriter::new)
                        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))
                })
                .transpose()
        };
    let mut pcap = create(&capture.pcap)?;
    let mut mrt = create(&capture.mrt)?;
    let mut rec = Recorder::new(
        &loaded.scenario.topology,
        capture.pcap_epoch,
        pcap.as_mut().map(|w| w as &mut dyn Write),
        mrt.as_mut().map(|w| w as &mut dyn Write),
    )?;
    let point = match capture.capture_point {
        CapturePointArg::Sender => CapturePoint::Sender,
        CapturePointArg::Receiver => CapturePoint::Receiver,
    };
    let result = crate::run_with_tap(&loaded.scenario, seed, trace, &mut rec, point);
    rec.finish()?;
    if let Some(mut w) = pcap {
        w.flush()?;
    }
    if let Some(mut w) = mrt {
        w.flush()?;
    }
    Ok(result)
}

/// `holdtime decode FILE`: exit 0 when every message decoded (and re-encoded identically when
/// checked), 1 when something failed, 2 when the file cannot be read at all.
fn decode(
    file: &std::path::Path,
    format: Format,
    check_roundtrip: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let data = match crate::input::read(file, crate::input::Kind::Capture) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "holdtime: {e}");
            return EXIT_INVALID;
        }
    };
    let opts = decode::Options { check_roundtrip };
    let mut failed_lines = 0u64;
    let summary = {
        let mut on_message = |m: decode::MessageItem| {
            let line = match format {
                Format::Text => render::text(&m),
                Format::Json => render::json(&m),
            };
            let _ = writeln!(out, "{line}");
            let differs = m
                .roundtrip
                .as_ref()
                .is_some_and(|r| *r != decode::RoundTrip::Same);
            if m.result.is_err() || differs {
                failed_lines += 1;
            }
        };
        let mut events: Vec<decode::Event> = Vec::new();
        let mut on_event = |e: decode::Event| events.push(e);
        let r = decode::decode(&data, opts, &mut on_message, &mut on_event);
        for e in &events {
            let line = match format {
                Format::Text => render::event_text(e),
                Format::Json => render::event_json(e),
            };
            if matches!(e, decode::Event::Problem { .. }) {
                let _ = writeln!(err, "{}: {line}", file.display());
            } else {
                let _ = writeln!(out, "{line}");
            }
        }
        r
    };
    match summary {
        Ok(s) => {
            let types: Vec<String> = s.by_type.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(
                err,
                "{}: {} frames/records, {} messages ({}), {} failed, {} re-encoded differently, {} retransmitted segments",
                file.display(),
                s.frames,
                s.messages,
                types.join(", "),
                s.failed,
                s.roundtrip_differs,
                s.retransmitted_segments
            );
            if s.ok() && failed_lines == 0 {
                EXIT_OK
            } else {
                EXIT_FAILED
            }
        }
        Err(e) => {
            let _ = writeln!(err, "holdtime: {}: {e}", file.display());
            EXIT_INVALID
        }
    }
}
