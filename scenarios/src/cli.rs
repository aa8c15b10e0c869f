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
use crate::report::junit::{SuiteOutcome, junit};
use crate::report::{
    Format, RunFormat, evaluate, render_verdict_section, render_verdicts, tally, tally_line,
};
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

/// holdtime simulates what happens to your traffic when a link, a router or an Azure
/// component of a hybrid network (on-premises CE routers, ExpressRoute circuits, the VPN)
/// fails: which BGP session notices, after how long and why, and how long each direction's
/// traffic has no path. Runs are deterministic: the same scenario and seed give the same
/// report, byte for byte.
///
/// Start with `holdtime run` (the reference scenario), `holdtime scenarios` (the library) and
/// `holdtime check FILE` (a scenario's expectations as PASS/FAIL).
#[derive(Debug, Parser)]
#[command(
    name = "holdtime",
    version,
    about = "Simulate BGP failover in hybrid ExpressRoute + VPN networks: who notices a failure, \
             how fast, and how long traffic has no path."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and report what happened, in words and in tables.
    ///
    /// Prints a summary paragraph, the timeline, the detection, convergence and outage
    /// tables, then the file's expectations as PASS/FAIL. The scenario is a file or a built-in name (default: `reference`, the 60/180 s timers
    /// Azure uses). Exit 0 when it ran (with --check: 1 if an expectation failed), 2 when the
    /// scenario is invalid, 3 when it could not be simulated.
    Run {
        /// A scenario file, or the name of a built-in scenario (see `holdtime scenarios`).
        scenario: Option<String>,
        /// Seed for every random stream (default: the file's `seed`, else 0).
        #[arg(long)]
        seed: Option<u64>,
        /// Output format: the text report, the report as JSON, or the outages as CSV.
        #[arg(long, value_enum, default_value = "text")]
        format: RunFormat,
        /// Exit 1 when an `[[expect]]` of the file fails (as `holdtime check` does).
        #[arg(long)]
        check: bool,
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
    /// Decode the BGP messages of a pcap, pcapng or MRT capture (optionally gzipped).
    ///
    /// Reads captures from tcpdump, Wireshark or `holdtime run --pcap`, and MRT from a route
    /// collector or `holdtime run --mrt`. Prints one line per message (time, frame number, sender > receiver, type and fields)
    /// and, on standard error, the counts by type. TCP streams are reassembled, so a message
    /// split over segments or retransmitted is decoded once. A well-formed message a receiver
    /// must refuse (an OPEN with a 2 s hold time) is decoded and counted, with the
    /// NOTIFICATION the receiver would answer. Exit 0 when every message decoded, 1 when one
    /// did not (or, with --check-roundtrip, re-encoded differently), 2 when the file cannot
    /// be read.
    Decode {
        /// The capture file.
        file: PathBuf,
        /// Output format: one text line per message, or one JSON object per message.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Re-encode each decoded message and report any octet where it differs from the
        /// capture (a check of the decoder and encoder against real traffic).
        #[arg(long)]
        check_roundtrip: bool,
    },
    /// Judge scenarios' `[[expect]]` blocks: PASS/FAIL per expectation, for people or CI.
    ///
    /// Simulates each file and prints one PASS/FAIL line per expectation with the measured
    /// value, then `N passed, M failed`. Exit 0 when all pass, 1 when one fails, 2 when a file is invalid or has no
    /// expectations (unless --allow-empty), 3 when one could not be simulated.
    /// `--format junit` writes JUnit XML for CI systems instead.
    Check {
        /// Scenario files or built-in names.
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// Seed (default: each file's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Output format: PASS/FAIL lines, or JUnit XML (one test case per expectation).
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
        /// Accept a file without expectations (exit 0 for it instead of 2).
        #[arg(long)]
        allow_empty: bool,
    },
    /// Run a scenario many times over a grid of settings; summarise as histograms.
    Sweep(sweep::SweepArgs),
    /// Merge the JSON outputs of `sweep --shard I/N` into the unsharded result.
    Merge {
        /// The shard outputs (`sweep --format json` or `audit --format json`), all N of them,
        /// in any order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: sweep::SweepFormat,
        /// Write the output here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Play routers of a scenario over real TCP against a lab router, and inject faults.
    ///
    /// Faults come from `--fault` or from standard input lines (`silent`, `down`,
    /// `restore`); the summary compares each measured detection with the window the timer
    /// profile predicts.
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
        /// Worker threads (at least 1; default: all cores). The result does not depend on it.
        #[arg(long, value_parser = sweep::parse_jobs)]
        jobs: Option<usize>,
        /// Also write the comparison page here (one self-contained HTML file).
        #[arg(long, value_name = "FILE.html")]
        html: Option<PathBuf>,
    },
    /// List the built-in scenarios, or print one to copy and edit.
    ///
    /// `holdtime scenarios show NAME` prints a scenario's TOML (or a built-in topology's).
    Scenarios {
        /// `show NAME` prints a scenario's TOML.
        #[command(subcommand)]
        action: Option<ScenariosAction>,
    },
    /// List the built-in topologies, or print one to copy into a scenario.
    ///
    /// A scenario names one with `topology = "NAME"`; `holdtime topology show NAME` prints it
    /// as the body of a `[topology]` table, to paste into a scenario and edit.
    Topology {
        /// `show NAME` prints a topology's TOML.
        #[command(subcommand)]
        action: Option<TopologyAction>,
    },
}

/// Output format of `holdtime check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// One PASS/FAIL line per expectation, then `N passed, M failed`.
    Text,
    /// JUnit XML: a test suite per file, a test case per expectation.
    Junit,
}

/// `holdtime topology ...`.
#[derive(Debug, Subcommand)]
pub enum TopologyAction {
    /// Print a built-in topology's TOML, or any network in the general form.
    ///
    /// `show NAME` prints the built-in topology NAME as the body of a `[topology]` table.
    /// `show --expand NAME`, and `show` of a scenario (a library name or a file), print the
    /// network in the general form: every router, link, session and site, as the keys
    /// `[[router]]`, `[[link]]`, `[[session]]` and `[[site]]` write them, with what the
    /// ExpressRoute template made marked as such.
    Show {
        /// A built-in topology (see `holdtime topology`), a library scenario or a scenario file.
        name: String,
        /// Print a built-in topology in the general form (what the template makes of it).
        #[arg(long)]
        expand: bool,
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
    /// A router of the general form (`[[router]]`), named by `--router`.
    Router,
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
    /// With `--role router`: the name of the router of the general form to play (its first
    /// session is the one played live).
    #[arg(long, required_if_eq("role", "router"))]
    pub router: Option<String>,
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
            check,
            trace,
            html,
            capture,
        } => run(
            scenario.as_deref().unwrap_or(library::DEFAULT),
            *seed,
            (*format, *check),
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
        Command::Check {
            scenarios,
            seed,
            format,
            allow_empty,
        } => check(scenarios, *seed, (*format, *allow_empty), out, err),
        Command::Topology { action: None } => {
            let builtin = crate::validate::BUILTIN_TOPOLOGIES;
            let width = builtin.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, source) in builtin {
                let _ = writeln!(out, "{name:<width$}  {}", topology_description(source));
            }
            let _ = writeln!(
                out,
                "\nuse one in a scenario with `topology = \"NAME\"`; print it with `holdtime topology show NAME`"
            );
            EXIT_OK
        }
        Command::Topology {
            action: Some(TopologyAction::Show { name, expand }),
        } => show_topology(name, *expand, out, err),
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
            jobs,
            html,
        } => compare(
            a,
            b,
            (*runs, *seed, jobs.unwrap_or_else(sweep::default_jobs)),
            html.as_deref(),
            out,
            err,
        ),
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
                "\nrun one with `holdtime run NAME`; print it with `holdtime scenarios show NAME`; \
                 the topologies they use: `holdtime topology`"
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
                if let Some(source) = crate::validate::builtin_source(name) {
                    // A topology's name: print it rather than refuse.
                    let _ = out.write_all(topology_toml(name, source).as_bytes());
                    return EXIT_OK;
                }
                let _ = writeln!(
                    err,
                    "holdtime: no built-in scenario or topology `{name}`\n  = allowed: {}\n  = topologies: {} (`holdtime topology show NAME`)",
                    library::LIBRARY
                        .iter()
                        .map(|e| e.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                    crate::validate::BUILTIN_TOPOLOGIES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                EXIT_INVALID
            }
        },
    }
}

/// A built-in topology's `description`.
fn topology_description(source: &str) -> String {
    toml::from_str::<toml::Table>(source)
        .ok()
        .and_then(|t| t.get("description")?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A built-in topology as `holdtime topology show` prints it: a comment saying how to use
/// it, then its TOML (the body of a `[topology]` table).
fn topology_toml(name: &str, source: &str) -> String {
    format!(
        "# Built-in topology `{name}`. A scenario uses it with `topology = \"{name}\"`; to change\n\
         # it, paste what follows under a `[topology]` table in the scenario and edit it.\n\n{source}"
    )
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
    let role = match args.role {
        LiveRoleArg::Msee => crate::live::LiveRole::Msee,
        LiveRoleArg::VpnGateway => crate::live::LiveRole::VpnGateway,
        LiveRoleArg::Ce => crate::live::LiveRole::Ce,
        LiveRoleArg::Router => {
            let topo = &loaded.scenario.topology;
            let name = args.router.as_deref().unwrap_or("");
            match topo
                .router(name)
                .filter(|r| topo.routers[r.0].role == crate::topology::Role::Router)
            {
                Some(r) => crate::live::LiveRole::Router(r.0),
                None => {
                    let _ = writeln!(
                        err,
                        "holdtime: --router `{name}` is not a router of the scenario's general form\n  = allowed: {}",
                        topo.routers
                            .iter()
                            .filter(|r| r.role == crate::topology::Role::Router)
                            .map(|r| r.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    return EXIT_INVALID;
                }
            }
        }
    };
    if args.router.is_some() && args.role != LiveRoleArg::Router {
        let _ = writeln!(err, "holdtime: --router goes with --role router");
        return EXIT_INVALID;
    }
    let opts = crate::live::LiveOptions {
        role,
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
    (runs, seed, jobs): (u64, u64, usize),
    html: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let (Some(la), Some(lb)) = (load(a, err), load(b, err)) else {
        return EXIT_INVALID;
    };
    let c = match crate::compare::compare((a, &la.scenario), (b, &lb.scenario), runs, seed, jobs) {
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

/// `holdtime topology show NAME [--expand]`.
fn show_topology(name: &str, expand: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let builtin = crate::validate::builtin_source(name);
    if let (Some(source), false) = (builtin, expand) {
        let _ = out.write_all(topology_toml(name, source).as_bytes());
        return EXIT_OK;
    }
    let loaded = if builtin.is_some() {
        // What the template makes of the built-in topology, through a scenario using it.
        crate::load_str(
            &format!("<topology:{name}>"),
            &format!("name = \"{name}\"\ntopology = \"{name}\"\nduration = \"1s\"\n"),
        )
    } else {
        crate::load(name)
    };
    match loaded {
        // A built-in topology prints as its network; a scenario as a whole scenario in the
        // general form (its network written out, then its faults, probes and expectations).
        Ok(l) if builtin.is_some() => {
            let _ = out.write_all(crate::topology::general_form(&l.scenario.topology).as_bytes());
            EXIT_OK
        }
        Ok(l) => match crate::topology::general_scenario(l.source.text(), &l.scenario.topology) {
            Ok(text) => {
                let _ = out.write_all(text.as_bytes());
                EXIT_OK
            }
            Err(e) => {
                let _ = writeln!(err, "holdtime: {name}: {e}");
                EXIT_INVALID
            }
        },
        Err(LoadError::Unknown { .. }) => {
            let _ = writeln!(
                err,
                "holdtime: `{name}` is neither a built-in topology, a library scenario nor a file\n  = built-in topologies: {}\n  = help: `holdtime scenarios` lists the library",
                crate::validate::BUILTIN_TOPOLOGIES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            EXIT_INVALID
        }
        Err(e) => {
            let text = e.to_string();
            let _ = err.write_all(text.as_bytes());
            if !text.ends_with('\n') {
                let _ = writeln!(err);
            }
            EXIT_INVALID
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
    (format, check): (RunFormat, bool),
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
            let verdicts = evaluate(&loaded.scenario, &report);
            if let Some(path) = files.html {
                let (page, _) = crate::html::run::page(&report);
                if let Err(e) = std::fs::write(path, page) {
                    let _ = writeln!(err, "holdtime: {}: {e}", path.display());
                    return EXIT_INVALID;
                }
            }
            match format {
                RunFormat::Text => {
                    let _ = out.write_all(report.summary_text().as_bytes());
                    let _ = writeln!(out);
                    let _ = out.write_all(report.to_text().as_bytes());
                    let _ = out.write_all(render_verdict_section(&verdicts).as_bytes());
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
            if check && verdicts.iter().any(|v| !v.pass) {
                if format != RunFormat::Text {
                    let (passed, failed) = tally(&verdicts);
                    let _ = writeln!(
                        err,
                        "{}: expectations: {}",
                        loaded.source.name(),
                        tally_line(passed, failed)
                    );
                }
                return EXIT_FAILED;
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

fn check(
    names: &[String],
    seed: Option<u64>,
    (format, allow_empty): (CheckFormat, bool),
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut status = EXIT_OK;
    let mut worsen = |s: u8| {
        if status == EXIT_OK {
            status = s;
        }
    };
    let mut suites: Vec<SuiteOutcome> = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for name in names {
        let mut buffered = Vec::new();
        let Some(loaded) = load(name, &mut buffered) else {
            let _ = err.write_all(&buffered);
            suites.push(SuiteOutcome {
                file: name.clone(),
                scenario: None,
                seed: None,
                verdicts: Vec::new(),
                error: Some(String::from_utf8_lossy(&buffered).trim_end().to_owned()),
            });
            worsen(EXIT_INVALID);
            continue;
        };
        let _ = err.write_all(&buffered);
        let file = loaded.source.name().to_owned();
        if loaded.scenario.expectations.is_empty() {
            let _ = writeln!(
                err,
                "{file}: no expectations to check (the file has no [[expect]] block){}",
                if allow_empty {
                    ""
                } else {
                    "; pass --allow-empty to accept it"
                }
            );
            if !allow_empty {
                worsen(EXIT_INVALID);
            }
            // Refused, it is an error a CI system shows; accepted, an empty suite.
            let error = (!allow_empty)
                .then(|| format!("{file}: no expectations to check (no [[expect]] block)"));
            suites.push(SuiteOutcome {
                file,
                scenario: Some(loaded.scenario.name.clone()),
                seed: None,
                verdicts: Vec::new(),
                error,
            });
            continue;
        }
        let seed = seed.unwrap_or(loaded.scenario.seed);
        match crate::run(&loaded.scenario, seed, None) {
            Ok(report) => {
                let verdicts = evaluate(&loaded.scenario, &report);
                let (p, f) = tally(&verdicts);
                passed += p;
                failed += f;
                if format == CheckFormat::Text {
                    let _ = out.write_all(render_verdicts(&file, &verdicts).as_bytes());
                }
                if f > 0 {
                    worsen(EXIT_FAILED);
                }
                suites.push(SuiteOutcome {
                    file,
                    scenario: Some(loaded.scenario.name.clone()),
                    seed: Some(seed),
                    verdicts,
                    error: None,
                });
            }
            Err(e) => {
                let text = format!(
                    "{file}: valid; {} expectations not evaluated: {e}",
                    loaded.scenario.expectations.len()
                );
                let _ = writeln!(err, "{text}");
                worsen(EXIT_NOT_RUN);
                suites.push(SuiteOutcome {
                    file,
                    scenario: Some(loaded.scenario.name.clone()),
                    seed: Some(seed),
                    verdicts: Vec::new(),
                    error: Some(text),
                });
            }
        }
    }
    match format {
        // The tally ends the PASS/FAIL lines; without any (every file refused or empty),
        // standard output stays empty and standard error said why.
        CheckFormat::Text if passed + failed > 0 => {
            let _ = writeln!(out, "{}", tally_line(passed, failed));
        }
        CheckFormat::Text => {}
        CheckFormat::Junit => {
            let _ = out.write_all(junit(&suites).as_bytes());
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
                "{}: {} frames/records, {} messages ({}), {} failed, {} re-encoded differently, {} refused by the receiver, {} retransmitted segments",
                file.display(),
                s.frames,
                s.messages,
                types.join(", "),
                s.failed,
                s.roundtrip_differs,
                s.refused,
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
