//! The `holdtime` binary end to end: listing, showing, exit codes of `run` and `check`.

use std::process::{Command, Output};

#[path = "support/hold2.rs"]
mod hold2;

fn holdtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .args(args)
        .output()
        .expect("the holdtime binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_temp(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("holdtime-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

#[test]
fn scenarios_lists_every_library_entry_with_its_summary() {
    let out = holdtime(&["scenarios"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    for entry in &scenarios::library::LIBRARY {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(entry.name))
            .unwrap_or_else(|| panic!("{} not listed:\n{stdout}", entry.name));
        assert!(line.contains(&scenarios::library::summary(entry)), "{line}");
    }
}

#[test]
fn scenarios_show_prints_the_toml_exactly() {
    let out = holdtime(&["scenarios", "show", "reference"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        scenarios::library::get("reference").unwrap().source
    );
}

#[test]
fn scenarios_show_unknown_name_exits_2_listing_names() {
    let out = holdtime(&["scenarios", "show", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no built-in scenario or topology `nope`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("= allowed: reference, tuned-10-30"),
        "{stderr}"
    );
}

#[test]
fn run_without_scenario_replays_the_reference_with_timeline_and_summary() {
    let out = holdtime(&["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // A paragraph in words first, then the report's heading.
    assert!(
        stdout.starts_with("At 5m, circuit.primary went silent"),
        "{stdout}"
    );
    assert!(stdout.contains("\n\nscenario: reference:"), "{stdout}");
    // The silent cut, then each end's hold timer: the MSEE and the CE detect on their own.
    assert!(
        stdout.contains("FAULT silent on circuit.primary"),
        "{stdout}"
    );
    assert!(
        stdout.contains("msee1    bgp circuit.primary.private: Established -> Idle (hold timer expired (sent 4/0))"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ce1      bgp circuit.primary.private: Established -> Idle (hold timer expired (sent 4/0))"),
        "{stdout}"
    );
    for section in [
        "measured from",
        "detection (per session end, from the fault of its episode)",
        "convergence (per router",
        "outage (per direction",
        "probes",
        "messages",
    ] {
        assert!(stdout.contains(section), "missing {section}: {stdout}");
    }
}

#[test]
fn run_is_deterministic_and_the_seed_moves_the_phase() {
    let a = holdtime(&["run", "reference", "--format", "json"]);
    let b = holdtime(&["run", "reference", "--format", "json"]);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout, "same scenario and seed, same report");
    let c = holdtime(&["run", "reference", "--format", "json", "--seed", "2"]);
    assert_eq!(c.status.code(), Some(0));
    assert_ne!(a.stdout, c.stdout, "another seed draws other timer phases");
}

#[test]
fn run_replays_a_prefix_flood_with_cease_6_1() {
    let out = holdtime(&["run", "prefix-limit"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAULT prefix_flood"), "{stdout}");
    assert!(stdout.contains("NOTIFICATION 6/1 received"), "{stdout}");
}

#[test]
fn run_invalid_file_prints_located_error_and_exits_2() {
    let path = write_temp(
        "bad-run.toml",
        "name = \"t\"\ndescription = \"d\"\ntopology = \"single-ce\"\nduration = \"15m\"\n\n[bgp]\nhold_time = \"1s\"\n",
    );
    let out = holdtime(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .contains("bad-run.toml:7:13: error: hold time 1s is not allowed (at `bgp.hold_time`)"),
        "{stderr}"
    );
    assert!(stderr.contains("7 | hold_time = \"1s\""), "{stderr}");
}

#[test]
fn run_unknown_name_exits_2_listing_library() {
    let out = holdtime(&["run", "no-such-scenario"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`no-such-scenario` is neither a file nor a built-in scenario"),
        "{stderr}"
    );
    assert!(stderr.contains("reference"), "{stderr}");
}

#[test]
fn check_invalid_file_exits_2_even_next_to_a_valid_one() {
    let path = write_temp(
        "bad-check.toml",
        "name = \"t\"\ndescription = \"d\"\ntopology = \"single-ce\"\nduration = \"15m\"\nsede = 3\n",
    );
    let out = holdtime(&["check", "reference", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad-check.toml:5:1: error: unknown field `sede`"),
        "{stderr}"
    );
}

#[test]
fn check_passes_the_bfd_scenario_and_prints_each_measured_value() {
    let out = holdtime(&["check", "bfd"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches(": PASS ").count(), 4, "{stdout}");
    assert!(stdout.contains("(measured: "), "{stdout}");
}

#[test]
fn check_exits_1_when_an_expectation_fails() {
    // The reference scenario with an impossible bound: detection by hold timer within 1 s.
    let src = scenarios::library::get("reference").unwrap().source;
    let path = write_temp(
        "too-fast.toml",
        &format!("{src}\n[[expect]]\nmetric = \"detection.msee1\"\nmax = \"1s\"\n"),
    );
    let out = holdtime(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("FAIL detection.msee1"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_evaluates_msee_maintenance_and_passes() {
    let out = holdtime(&["check", "msee-maintenance"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("PASS no loss onprem_to_vnet"), "{stdout}");
    assert!(stdout.contains("PASS no loss vnet_to_onprem"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn check_requires_at_least_one_scenario() {
    let out = holdtime(&["check"]);
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
}

#[test]
fn run_rejects_unknown_format() {
    let out = holdtime(&["run", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("possible values: text, json"));
}

#[test]
fn run_csv_lists_outages_and_flags_the_open_ones() {
    // dual-stack: IPv6 has no backup, so its flows are lost from the second fault (10m, both
    // links down) to the end of the run: open outages, lower bounds of 5 minutes.
    let out = holdtime(&["run", "dual-stack", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("direction,flow,start_s,end_s,duration_s,open,episode,episode_fault")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(!rows.is_empty(), "{csv}");
    let open: Vec<&Vec<&str>> = rows.iter().filter(|r| r[5] == "1").collect();
    assert!(!open.is_empty(), "{csv}");
    for r in &open {
        assert!(r[0].ends_with("_ipv6"), "only IPv6 stays down: {r:?}");
        assert_eq!(
            r[3], "900.000000000",
            "an open outage runs to the end: {r:?}"
        );
        assert_eq!(r[6], "2", "it began with the second fault: {r:?}");
        assert_eq!(r[7], "down on circuit.secondary at 600.000s", "{r:?}");
    }
    // Every IPv4 outage closed (the VPN carries IPv4).
    assert!(
        rows.iter()
            .filter(|r| !r[0].ends_with("_ipv6"))
            .all(|r| r[5] == "0"),
        "{csv}"
    );
}

#[test]
fn the_timeline_says_why_a_session_does_not_come_back() {
    // prefix-limit: msee1 ends the session with Cease 6/1 and holds it down for its restart
    // delay; ce1's next attempt is closed by msee1 while the OPENs are exchanged. The flood's
    // FIB changes are summed, and say how many were removed.
    let out = holdtime(&["run", "prefix-limit"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ce1      tcp circuit.primary.private: connection closed by the peer (FIN) before the session was established"),
        "{stdout}"
    );
    // The flood's routes arrive in batches (each a bulk line), and all 3,999 leave at once
    // with the session.
    assert!(
        stdout.contains("other prefixes changed (0 of them removed)")
            && stdout.contains("msee1    fib 3999 other prefixes changed (3999 of them removed)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("other prefixes (0 removed) via (removed)"),
        "{stdout}"
    );
    // microsoft-peering-validation: Azure holds Microsoft peering down; every attempt is refused.
    let out = holdtime(&["run", "microsoft-peering-validation"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ce1      tcp circuit.primary.microsoft: connection refused (RST)"),
        "{stdout}"
    );
}

/// `compare --jobs N`: the same table and the same page, byte for byte, whatever the number of
/// workers; 0 workers (or not a number) is a usage error, as for `sweep --jobs`.
#[test]
fn compare_gives_the_same_bytes_whatever_the_jobs() {
    let dir = std::env::temp_dir().join(format!("holdtime-cli-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut seen: Vec<(String, Vec<u8>)> = Vec::new();
    for jobs in ["1", "2", "4"] {
        let page = dir.join(format!("compare-{jobs}.html"));
        let out = holdtime(&[
            "compare",
            "reference",
            "tuned-10-30",
            "--runs",
            "5",
            "--jobs",
            jobs,
            "--html",
            page.to_str().expect("UTF-8 path"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let html = std::fs::read(&page).expect("the page");
        seen.push((text(&out.stdout), html));
    }
    let (table, page) = &seen[0];
    assert!(table.contains("5 runs each"), "{table}");
    for (i, (t, p)) in seen.iter().enumerate().skip(1) {
        assert_eq!(t, table, "--jobs changed the table ({i})");
        assert!(p == page, "--jobs changed the page ({i})");
    }
    for (bad, want) in [
        ("0", "0 worker threads would run nothing"),
        ("two", "invalid digit"),
    ] {
        let out = holdtime(&["compare", "reference", "tuned-10-30", "--jobs", bad]);
        assert_eq!(out.status.code(), Some(2), "--jobs {bad}");
        let err = text(&out.stderr);
        assert!(err.contains(want), "--jobs {bad}: {err}");
    }
}

/// `holdtime decode` on OPENs that are well-formed but refused (RFC 4271 §6.2): AS 0 (2/2),
/// BGP identifier 0 (2/3) and hold time 2 (2/6). Each is decoded and counted as an OPEN, as
/// tshark counts it, with the answer the receiver would send; none is MALFORMED, the run
/// exits 0 and `--check-roundtrip` finds the OPEN re-encodes to what was sent.
#[test]
fn decode_names_the_refusal_of_well_formed_opens_with_as_0_or_identifier_0() {
    let cases = [
        (
            hold2::refused("decode-as0", (0, 90, [10, 0, 0, 1]), 2),
            "OPEN as=AS0 hold=90 ",
            "; receiver would answer 2/2 Bad Peer AS",
        ),
        (
            hold2::refused("decode-id0", (65_001, 90, [0, 0, 0, 0]), 3),
            "OPEN as=AS65001 hold=90 id=0.0.0.0",
            "; receiver would answer 2/3 Bad BGP Identifier",
        ),
        (
            hold2::capture("decode-hold2-cli"),
            "OPEN as=AS65001 hold=2 ",
            "; receiver would answer 2/6 Unacceptable Hold Time",
        ),
    ];
    for (path, open, answer) in cases {
        let file = path.to_string_lossy().into_owned();
        let out = holdtime(&["decode", &file, "--check-roundtrip"]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        let first = stdout.lines().next().expect("a line per message");
        assert!(
            first.contains(open) && first.ends_with(answer),
            "{open}: {first}"
        );
        assert!(!stdout.contains("MALFORMED"), "{stdout}");
        assert!(!stdout.contains("ROUNDTRIP"), "{stdout}");
        assert!(
            stderr.contains("3 messages (NOTIFICATION 1, OPEN 2), 0 failed, 0 re-encoded differently, 1 refused by the receiver"),
            "{stderr}"
        );
    }
}

/// Every command's `--help` is read by people: doc comments that clap turns into help text
/// must not carry rustdoc's link syntax (``[`path`]``), which means nothing on a terminal.
#[test]
fn no_help_text_shows_rustdoc_link_syntax() {
    let top = text(&holdtime(&["--help"]).stdout);
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 10, "commands found: {commands:?}");
    for c in std::iter::once("").chain(commands) {
        let args: Vec<&str> = [c, "--help"]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let help = text(&holdtime(&args).stdout);
        assert!(help.contains("Usage:"), "holdtime {c} --help:\n{help}");
        for (n, line) in help.lines().enumerate() {
            assert!(
                !line.contains("[`") && !line.contains("`]"),
                "holdtime {c} --help, line {}: {line}",
                n + 1
            );
        }
    }
}
