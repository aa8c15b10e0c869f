//! Input the `holdtime` binary refuses, each with a message and exit status 2: scenario and
//! capture paths that are not regular files or are too large (refused before reading, so a
//! FIFO does not block and `/dev/zero` is not read), `--runs 0`, `--jobs 0`,
//! `--healthy-runs 0`, and a sweep or advise estimated to take more than an hour without
//! `--yes`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary; fails the test if it has not exited after `limit` (a FIFO read that
/// blocks would otherwise hang the test).
fn holdtime_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .env("CI", "true")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the holdtime binary runs");
    #[allow(
        clippy::disallowed_methods,
        reason = "a test's watchdog measures wall time; nothing simulated depends on it"
    )]
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait for holdtime").is_some() {
            return child.wait_with_output().expect("holdtime's output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("holdtime's output");
            panic!(
                "holdtime {args:?} still running after {limit:?}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn holdtime(args: &[&str]) -> Output {
    holdtime_within(args, Duration::from_secs(120))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts exit status 2 and that standard error contains every fragment.
fn refused(out: &Output, fragments: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    for f in fragments {
        assert!(err.contains(f), "missing {f:?} in:\n{err}");
    }
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("holdtime-refusals-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A FIFO with no writer: opening it for reading would block forever.
fn fifo(dir: &Path) -> PathBuf {
    let p = dir.join("pipe.toml");
    let _ = std::fs::remove_file(&p);
    let status = Command::new("mkfifo")
        .arg(&p)
        .status()
        .expect("mkfifo (coreutils) runs");
    assert!(status.success(), "mkfifo {}", p.display());
    p
}

/// Every command that reads a scenario path, with that path.
fn scenario_commands(path: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["run", path],
        vec!["check", path],
        vec!["sweep", path, "--runs", "1"],
        vec!["sweep", path, "--runs", "1", "--seed", "1"],
        vec!["advise", path, "--runs", "1", "--healthy-runs", "1"],
        vec!["live", path, "--role", "msee", "--listen", "127.0.0.1:0"],
    ]
}

#[test]
fn a_fifo_is_refused_by_every_command_without_blocking() {
    let dir = temp_dir("fifo");
    let p = fifo(&dir);
    let path = p.to_str().expect("utf-8 temp path");
    for args in scenario_commands(path) {
        let out = holdtime_within(&args, Duration::from_secs(30));
        refused(
            &out,
            &[&format!(
                "{path}: is a FIFO (named pipe), not a regular file: a scenario file is read only from a regular file"
            )],
        );
    }
    let out = holdtime_within(&["decode", path], Duration::from_secs(30));
    refused(
        &out,
        &[&format!(
            "holdtime: {path}: is a FIFO (named pipe), not a regular file: a capture or MRT file is read only from a regular file"
        )],
    );
}

#[test]
fn dev_zero_and_a_directory_are_refused_before_reading() {
    let out = holdtime_within(&["run", "/dev/zero"], Duration::from_secs(30));
    refused(
        &out,
        &["/dev/zero: is a character device, not a regular file"],
    );
    let out = holdtime_within(&["decode", "/dev/zero"], Duration::from_secs(30));
    refused(
        &out,
        &["/dev/zero: is a character device, not a regular file: a capture or MRT file"],
    );
    let dir = temp_dir("dir");
    let path = dir.to_str().expect("utf-8 temp path");
    for args in scenario_commands(path) {
        refused(
            &holdtime(&args),
            &[&format!("{path}: is a directory, not a regular file")],
        );
    }
    refused(
        &holdtime(&["merge", path]),
        &[&format!(
            "{path}: is a directory, not a regular file: a result file is read only from a regular file"
        )],
    );
}

#[test]
fn a_scenario_file_over_16_mib_is_refused_before_reading() {
    let dir = temp_dir("big");
    let p = dir.join("big.toml");
    // Sparse: 16 MiB + 1 byte of size without writing them.
    let f = std::fs::File::create(&p).expect("create");
    f.set_len(16 * 1024 * 1024 + 1).expect("set_len");
    let path = p.to_str().expect("utf-8 temp path");
    for args in scenario_commands(path) {
        refused(
            &holdtime(&args),
            &[&format!(
                "{path}: 16,777,217 bytes is larger than the 16 MiB a scenario file may have"
            )],
        );
    }
}

#[test]
fn zero_runs_and_zero_jobs_are_usage_errors() {
    let runs = "0 runs would measure nothing: give at least 1";
    let jobs = "0 worker threads would run nothing: give at least 1";
    for (args, fragments) in [
        (
            &["sweep", "reference", "--runs", "0"][..],
            &["invalid value '0' for '--runs <RUNS>'", runs][..],
        ),
        (
            &["sweep", "reference", "--runs", "3", "--jobs", "0"],
            &["invalid value '0' for '--jobs <JOBS>'", jobs],
        ),
        (
            &["advise", "--runs", "0"],
            &["invalid value '0' for '--runs <RUNS>'", runs],
        ),
        (
            &["advise", "--healthy-runs", "0"],
            &[
                "invalid value '0' for '--healthy-runs <HEALTHY_RUNS>'",
                runs,
            ],
        ),
        (
            &["advise", "--jobs", "0"],
            &["invalid value '0' for '--jobs <JOBS>'", jobs],
        ),
    ] {
        refused(&holdtime(args), fragments);
    }
}

#[test]
fn a_sweep_estimated_over_an_hour_is_refused_with_the_estimate_unless_yes() {
    // A reference run takes a fraction of a millisecond: 10^12 of them take years on any
    // machine.
    let out = holdtime_within(
        &[
            "sweep",
            "reference",
            "--runs",
            "1000000000000",
            "--jobs",
            "2",
        ],
        Duration::from_secs(60),
    );
    refused(
        &out,
        &[
            "holdtime: this would take about ",
            " of wall time for 999,999,999,999 more runs on ",
            "(timed from the first run of each of 1 variant): more than the limit of 1h",
            "= help: give --yes to run it anyway, or make it smaller: fewer --runs, fewer --set values, or one --shard I/N of it per machine",
        ],
    );
    let out = holdtime_within(
        &["advise", "--runs", "1000000000000", "--horizon", "1h"],
        Duration::from_secs(60),
    );
    refused(
        &out,
        &[
            "holdtime: this would take at least ",
            "more than the limit of 1h",
            "fewer --runs or --healthy-runs, or a shorter --horizon",
        ],
    );
    // --yes changes nothing in a result (the estimate never reaches one).
    let small = ["sweep", "reference", "--runs", "3", "--format", "json"];
    let plain = holdtime(&small);
    let yes = holdtime(&[&small[..], &["--yes"]].concat());
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    assert_eq!(yes.status.code(), Some(0), "{}", stderr(&yes));
    assert_eq!(plain.stdout, yes.stdout);
}

/// A custom topology whose second on-premises prefix, 10.0.0.0/8, contains the VNet's
/// 10.10.0.0/16.
const OVERLAP: &str = r#"name = "on-premises space over the VNet's"
duration = "15m"

[topology]
customer_asn = 65001
ce_routers = 2
onprem_prefixes = ["10.1.0.0/16", "10.0.0.0/8"]

[[topology.circuit]]
name = "circuit"
bandwidth = "1Gbps"

[[topology.circuit.peering]]
kind = "private"
primary_subnet = "192.168.100.0/30"
secondary_subnet = "192.168.100.4/30"
vlan = 100

[[topology.vnet]]
name = "hub"
prefixes = ["10.10.0.0/16"]
"#;

#[test]
fn an_onprem_prefix_overlapping_a_vnet_is_refused_at_its_line_and_column() {
    let dir = temp_dir("overlap");
    let p = dir.join("overlap.toml");
    std::fs::write(&p, OVERLAP).expect("write");
    let path = p.to_str().expect("utf-8 temp path");
    for args in [vec!["run", path], vec!["check", path]] {
        refused(
            &holdtime(&args),
            &[
                &format!(
                    "{path}:7:35: error: on-premises prefix 10.0.0.0/8 overlaps the address space of VNet `hub` (10.10.0.0/16) (at `topology.onprem_prefixes[1]`)"
                ),
                "7 | onprem_prefixes = [\"10.1.0.0/16\", \"10.0.0.0/8\"]",
                "= note: Azure: the address space of a VNet connected to an ExpressRoute circuit or a VPN gateway must not overlap the on-premises address space",
                &format!("{path}: 1 error found; the scenario was not run"),
            ],
        );
    }
}
