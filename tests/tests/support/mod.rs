//! What the cross-crate tests share: loading a scenario or seeing it refused, running it,
//! running the `holdtime` command line in process, and a few instants and lookups.
//!
//! Each test file that needs it says `mod support;`; a test binary uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;

use clap::Parser as _;
use scenarios::report::{PathChange, RunReport};
use scenarios::scenario::Scenario;
use sim_core::time::{Duration, Instant};

/// A scenario from its TOML text; panics with the rendered diagnostics if it does not load.
pub(crate) fn load_text(name: &str, text: &str) -> Scenario {
    match scenarios::load_str(name, text) {
        Ok(l) => l.scenario,
        Err(e) => panic!("{name} does not load: {e}"),
    }
}

/// The rendered diagnostics of a file that must not load.
pub(crate) fn refused(name: &str, text: &str) -> String {
    match scenarios::load_str(name, text) {
        Ok(_) => panic!("{name} loaded, but it must be refused"),
        Err(e) => e.to_string(),
    }
}

/// A scenario of the built-in library, by name.
pub(crate) fn library(name: &str) -> Scenario {
    match scenarios::load(name) {
        Ok(l) => l.scenario,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// Runs `sc` at its own seed.
pub(crate) fn run(sc: &Scenario) -> RunReport {
    run_seed(sc, sc.seed)
}

/// Runs `sc` at `seed`.
pub(crate) fn run_seed(sc: &Scenario, seed: u64) -> RunReport {
    match scenarios::run(sc, seed, None) {
        Ok(r) => r,
        Err(e) => panic!("{}: run failed: {e}", sc.name),
    }
}

/// `s` seconds after the start.
pub(crate) fn at(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

/// The path distribution of `dir` in force at `t`.
pub(crate) fn paths_at<'a>(r: &'a RunReport, dir: &str, t: Instant) -> &'a PathChange {
    r.paths
        .iter()
        .rfind(|p| p.direction == dir && p.at <= t)
        .unwrap_or_else(|| panic!("no path of {dir} by {t}"))
}

/// What one `holdtime` invocation gave: exit code, standard output, standard error.
pub(crate) struct Out {
    pub(crate) code: u8,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `holdtime ARGS` in process, through `scenarios::cli::main`.
pub(crate) fn holdtime(args: &[&str]) -> Out {
    let cli = match scenarios::cli::Cli::try_parse_from(
        std::iter::once("holdtime").chain(args.iter().copied()),
    ) {
        Ok(c) => c,
        Err(e) => panic!("holdtime {args:?}: arguments refused: {e}"),
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = scenarios::cli::main(&cli, &mut out, &mut err);
    Out {
        code,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

/// Writes `contents` to a file of this test process's own directory and returns its path.
pub(crate) fn write_temp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("holdtime-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}
