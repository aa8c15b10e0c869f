//! # scenarios: the hybrid ExpressRoute/VPN network, scenario files and `holdtime`
//!
//! A scenario file (TOML) says which network to build, what to change in it, which faults
//! to inject when, what traffic to measure and what the run must show. This crate parses it
//! with located errors, validates it against the network and Azure's rules, and hands the
//! result to the simulation driver; it also holds the built-in library of scenarios and the
//! `holdtime` command line.
//!
//! # Layout
//!
//! - [`spec`]: the file format as written (serde, unknown keys refused).
//! - [`units`]: bandwidths, loss models, fault times (value or seeded range), quantities.
//! - [`topology`]: the network as plain data (routers, sessions, segments, circuits,
//!   gateways) and the target grammar.
//! - [`validate`]: spec → [`scenario::Scenario`]: the topology built (from the file's
//!   `[topology]` or a built-in one), names resolved, Azure's rules applied.
//! - [`scenario`]: the validated scenario the driver runs: faults, probes, expectations.
//! - [`diag`]: diagnostics with file, line, column, key, expected and allowed values.
//! - [`input`]: reading the files a user names, regular files within a size bound only.
//! - [`library`]: the built-in scenarios (`scenarios/library/*.toml`).
//! - [`sim`]: the simulation runtime: the scenario instantiated in the `sim-core` engine,
//!   and [`sim::RunError`] when it cannot be.
//! - [`report`]: what a run measured ([`report::RunReport`]), its text and JSON forms,
//!   and the judging of expectations.
//! - [`sweep`]: many runs over a grid of settings, HDR histograms, shards and their merge.
//! - [`capture`]: the capture formats (pcap, pcapng, MRT, gzip) as codecs that know nothing of
//!   the simulator, and decoding captures and MRT files; [`sim::recorder`] writes a run in
//!   them.
//! - [`live`]: `holdtime live`: one router of the topology over real TCP (the `bgp` live
//!   driver), with faults, and measured detection next to the predicted window.
//! - [`cli`]: `holdtime run | check | scenarios | sweep | merge | decode`.
//!
//! # Entry points
//!
//! [`load`] (a path or a library name) or [`load_str`] give a [`Loaded`] scenario or a
//! [`LoadError`] whose text is ready to print; [`run`] simulates it (or says why not, a
//! [`RunError`]).
#![warn(missing_docs)]

pub mod capture;
pub mod cli;
pub mod compare;
pub mod diag;
pub mod fmt;
pub mod html;
pub mod input;
pub mod library;
pub mod live;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod spec;
pub mod sweep;
pub mod topology;
pub mod units;
pub mod validate;

use std::path::Path;

use diag::{Diagnostic, Source};
use report::RunReport;
use scenario::Scenario;
use sim::RunError;
use spec::ScenarioSpec;

/// A scenario that parsed and validated, with its source for rendering its warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file name and text.
    pub source: Source,
    /// The validated scenario (its warnings carry spans into `source`).
    pub scenario: Scenario,
}

impl Loaded {
    /// The warnings, rendered with file, line and column.
    #[must_use]
    pub fn render_warnings(&self) -> String {
        self.source.render_all(&self.scenario.warnings)
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read: not a regular file, too large, not UTF-8, or an I/O error.
    #[error("{0}")]
    Read(#[from] input::ReadError),
    /// The file is not a valid scenario; `rendered` holds every located diagnostic.
    #[error("{rendered}")]
    Invalid {
        /// The diagnostics, rendered like rustc.
        rendered: String,
        /// The diagnostics themselves (errors and warnings), with spans.
        diagnostics: Vec<Diagnostic>,
    },
    /// Neither a file nor a library scenario has this name.
    #[error(
        "`{name}` is neither a file nor a built-in scenario\n  = allowed: {}",
        available.join(", ")
    )]
    Unknown {
        /// The name given.
        name: String,
        /// The library's names.
        available: Vec<String>,
    },
}

/// Parses and validates scenario text. `name` is used in diagnostics (a path, or
/// `<builtin:NAME>`).
///
/// # Errors
///
/// [`LoadError::Invalid`] with every located diagnostic when the text is not a valid scenario.
pub fn load_str(name: &str, text: &str) -> Result<Loaded, LoadError> {
    let source = Source::new(name, text);
    let spec: ScenarioSpec = match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => {
            let d = source.from_toml_error(&e);
            return Err(LoadError::Invalid {
                rendered: source.render_all(std::slice::from_ref(&d)),
                diagnostics: vec![d],
            });
        }
    };
    let (scenario, mut diags) = validate::validate(&spec);
    for d in &mut diags {
        source.locate(d);
    }
    match scenario {
        Some(mut scenario) => {
            scenario.warnings = diags;
            Ok(Loaded { source, scenario })
        }
        None => Err(LoadError::Invalid {
            rendered: source.render_all(&diags),
            diagnostics: diags,
        }),
    }
}

/// Loads a scenario from a file path, or from the library by name when no such file exists.
///
/// # Errors
///
/// [`LoadError::Read`] if the path exists but is not a regular file of at most
/// [`input::MAX_SCENARIO_BYTES`] of UTF-8 text, [`LoadError::Invalid`] if it is not a valid
/// scenario, [`LoadError::Unknown`] if it is neither a file nor a library name.
pub fn load(name_or_path: &str) -> Result<Loaded, LoadError> {
    let (name, text) = source_text(name_or_path)?;
    load_str(&name, &text)
}

/// The scenario text behind a path or a library name: `(name for diagnostics, text)`. A path
/// that exists is read with [`input::read_text`] (a regular file within the bound, or an
/// error); otherwise the name is looked up in the library (`<builtin:NAME>`).
///
/// # Errors
///
/// [`LoadError::Read`] or [`LoadError::Unknown`], as for [`load`].
pub fn source_text(name_or_path: &str) -> Result<(String, String), LoadError> {
    let path = Path::new(name_or_path);
    match std::fs::metadata(path) {
        Ok(_) => {
            let text = input::read_text(path, input::Kind::Scenario)?;
            return Ok((name_or_path.to_owned(), text));
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(input::ReadError::Io {
                path: path.to_owned(),
                source: e,
            }
            .into());
        }
        Err(_) => {}
    }
    match library::get(name_or_path) {
        Some(e) => Ok((format!("<builtin:{}>", e.name), e.source.to_owned())),
        None => Err(LoadError::Unknown {
            name: name_or_path.to_owned(),
            available: library::LIBRARY.iter().map(|e| e.name.to_owned()).collect(),
        }),
    }
}

/// Simulates `scenario` with `seed`, writing the event trace as JSON lines to `trace` when
/// given. It draws the fault times from the seeded streams, builds the world from
/// [`Scenario::topology`], runs it for [`Scenario::duration`] and fills a [`RunReport`].
/// The same scenario and seed give the same report and the same trace, byte for byte.
///
/// # Errors
///
/// [`RunError::Model`] if the network cannot be instantiated.
pub fn run(
    scenario: &Scenario,
    seed: u64,
    trace: Option<&mut dyn std::io::Write>,
) -> Result<RunReport, RunError> {
    // Re-borrow the writer for the world's lifetime (a trait object's bound only shortens).
    let trace = trace.map(|t| t as &mut dyn std::io::Write);
    let mut world = sim::world::World::new(scenario, trace)?;
    world.advance_to_fork()?;
    world.fork(seed);
    world.run()
}

/// A scenario whose start-up has been simulated once, to run many seeds from: each
/// [`Prepared::run`] clones the world at the fork instead of simulating the start-up again
/// (see "Start-up, the fork, and seeds" in the `sim::world` module). `Prepared::new(sc)?.run(seed)`
/// gives the same report as [`run`]`(sc, seed, None)`, byte for byte.
pub struct Prepared<'a> {
    world: sim::world::World<'a>,
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("fork_at", &self.fork_at())
            .finish_non_exhaustive()
    }
}

impl<'a> Prepared<'a> {
    /// Builds `scenario`'s world and simulates its start-up up to the fork.
    ///
    /// # Errors
    ///
    /// [`RunError::Model`] if the network cannot be instantiated.
    pub fn new(scenario: &'a Scenario) -> Result<Self, RunError> {
        let mut world = sim::world::World::new(scenario, None)?;
        world.advance_to_fork()?;
        Ok(Self { world })
    }

    /// Where the shared start-up ends.
    #[must_use]
    pub fn fork_at(&self) -> sim_core::time::Instant {
        self.world.fork_at()
    }

    /// Runs `seed` from the fork to the end.
    ///
    /// # Errors
    ///
    /// As [`run`].
    pub fn run(&self, seed: u64) -> Result<RunReport, RunError> {
        let mut world = self.world.snapshot();
        world.fork(seed);
        world.run()
    }
}

/// As [`run`], and reports every frame at `point`, every byte stream received and every FSM
/// transition to `tap` (`holdtime run --pcap/--mrt`; see [`sim::recorder`]).
///
/// # Errors
///
/// As [`run`].
pub fn run_with_tap(
    scenario: &Scenario,
    seed: u64,
    trace: Option<&mut dyn std::io::Write>,
    tap: &mut dyn sim::tap::Tap,
    point: sim::net::CapturePoint,
) -> Result<RunReport, RunError> {
    // Re-borrow the writer for the world's lifetime (a trait object's bound only shortens).
    let trace = trace.map(|t| t as &mut dyn std::io::Write);
    let mut world = sim::world::World::new(scenario, trace)?.with_tap(tap, point);
    world.advance_to_fork()?;
    world.fork(seed);
    world.run()
}
