//! Snapshots of the text pages, for fixed seeds: one file per page type under
//! `tests/snapshots/` (`run.txt`, `check.txt`, `check.junit.xml`, `sweep.txt`,
//! `decode.txt`). A change in what the program prints shows as a diff of these files; after a
//! deliberate change, regenerate them with `UPDATE_GOLDEN=1 cargo test -p scenarios --test
//! snapshots` and read the diff. The rules behind the numbers (rounding, names, units) are
//! unit-tested in `src/fmt.rs`; the JUnit file is also checked for the structure CI systems
//! read (and, where `xmllint` is installed, against `tests/support/junit.xsd`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/hold2.rs"]
mod hold2;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `holdtime` in `dir`.
fn holdtime_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the holdtime binary runs")
}

fn holdtime(args: &[&str]) -> Output {
    holdtime_in(&manifest_dir(), args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Compares `got` with the snapshot `name`, or writes it under `UPDATE_GOLDEN=1`.
fn snapshot(name: &str, got: &str) {
    let path = manifest_dir().join("tests/snapshots").join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, got).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with UPDATE_GOLDEN=1 cargo test -p scenarios --test snapshots",
            path.display()
        )
    });
    if want != got {
        let first = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| want.lines().count().min(got.lines().count()));
        panic!(
            "{} differs from the program's output, first at line {}:\n  want: {:?}\n  got:  {:?}\n\
             (after a deliberate change: UPDATE_GOLDEN=1 cargo test -p scenarios --test snapshots)",
            path.display(),
            first + 1,
            want.lines().nth(first).unwrap_or(""),
            got.lines().nth(first).unwrap_or("")
        );
    }
}

const CHECK_INPUT: &str = "tests/snapshots/check-input.toml";

#[test]
fn run_page() {
    let out = holdtime(&["run", "reference", "--seed", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    snapshot("run.txt", &text(&out.stdout));
}

#[test]
fn check_page() {
    let out = holdtime(&["check", CHECK_INPUT, "bfd"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.ends_with("passed, 2 failed\n"), "{stdout}");
    snapshot("check.txt", &stdout);
}

/// Checks that `xml` is well-formed (every element closed in order, attributes quoted, one
/// root) and returns each element as (name, attributes), in document order.
fn elements(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("an XML declaration");
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut rest = body;
    let mut roots = 0;
    while let Some(open) = rest.find('<') {
        let text_before = &rest[..open];
        assert!(
            !text_before.contains('>') && !text_before.contains('&') || {
                // Character data may hold entity references only.
                text_before.split('&').skip(1).all(|e| {
                    ["amp;", "lt;", "gt;", "quot;", "apos;", "#10;", "#9;"]
                        .iter()
                        .any(|r| e.starts_with(r))
                })
            },
            "bad character data: {text_before:?}"
        );
        let close = rest[open..].find('>').expect("tag closed") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing tag in order");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs_text) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut attrs = Vec::new();
        while !attrs_text.trim().is_empty() {
            let t = attrs_text.trim_start();
            let (key, after) = t.split_once("=\"").expect("attribute=\"value\"");
            let end = after.find('"').expect("attribute value closed");
            let value = &after[..end];
            assert!(!value.contains('<'), "no < in an attribute: {value}");
            attrs.push((key.to_owned(), value.to_owned()));
            attrs_text = &after[end + 1..];
        }
        if stack.is_empty() {
            roots += 1;
        }
        out.push((name.to_owned(), attrs));
        if !self_closing {
            stack.push(name.to_owned());
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert!(rest.trim().is_empty());
    assert_eq!(roots, 1, "one root element");
    out
}

fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn check_junit_page_has_the_structure_ci_systems_read() {
    let out = holdtime(&["check", CHECK_INPUT, "bfd", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let xml = text(&out.stdout);
    let els = elements(&xml);
    assert_eq!(els[0].0, "testsuites");
    let suites: Vec<_> = els.iter().filter(|(n, _)| n == "testsuite").collect();
    assert_eq!(suites.len(), 2);
    for (_, a) in &suites {
        for key in ["name", "tests", "failures", "errors"] {
            assert!(attr(a, key).is_some(), "testsuite without {key}: {a:?}");
        }
    }
    let cases: Vec<_> = els.iter().filter(|(n, _)| n == "testcase").collect();
    assert!(cases.iter().all(|(_, a)| attr(a, "name").is_some()));
    // Every expectation of both files is a test case.
    let expectations = |toml: &str| toml.matches("[[expect]]").count();
    let input = std::fs::read_to_string(manifest_dir().join(CHECK_INPUT)).expect("input");
    let bfd = scenarios::library::get("bfd").expect("bfd").source;
    assert_eq!(cases.len(), expectations(&input) + expectations(bfd));
    let failures = els.iter().filter(|(n, _)| n == "failure").count();
    assert_eq!(failures, 2);
    assert_eq!(
        attr(&els[0].1, "tests"),
        Some(cases.len().to_string().as_str())
    );
    assert_eq!(attr(&els[0].1, "failures"), Some("2"));
    assert!(
        xml.contains(
            "<failure message=\"measured: 2m22.752s after silent on circuit.primary at 300.000s\""
        ),
        "{xml}"
    );
    xmllint(&xml);
    snapshot("check.junit.xml", &xml);
}

/// Validates against `tests/support/junit.xsd` with xmllint: required on CI (which installs
/// libxml2-utils), skipped with a reason elsewhere when xmllint is missing.
fn xmllint(xml: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("check.junit.xml");
    std::fs::write(&file, xml).expect("write");
    let schema = manifest_dir().join("tests/support/junit.xsd");
    let run = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output();
    match run {
        Ok(out) => assert!(
            out.status.success(),
            "xmllint refuses the JUnit output: {}",
            text(&out.stderr)
        ),
        Err(e) if !ci => {
            println!(
                "skipped the xmllint schema check: xmllint not runnable here ({e}); CI runs it"
            );
        }
        Err(e) => panic!("CI=true but xmllint is not runnable: {e}"),
    }
}

#[test]
fn check_without_expectations_exits_2_unless_allowed() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("snapshots-empty");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("empty.toml"),
        "name = \"no expectations\"\ntopology = \"single-ce\"\nduration = \"1m\"\n",
    )
    .expect("write");
    let out = holdtime_in(&dir, &["check", "empty.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("empty.toml: no expectations to check"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let out = holdtime_in(&dir, &["check", "empty.toml", "--allow-empty"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = holdtime_in(&dir, &["check", "empty.toml", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(2));
    let xml = text(&out.stdout);
    assert!(
        xml.contains("<testsuite name=\"empty.toml\" tests=\"1\" failures=\"0\" errors=\"1\"")
            && xml.contains("no expectations to check"),
        "{xml}"
    );
    let out = holdtime_in(
        &dir,
        &["check", "empty.toml", "--format", "junit", "--allow-empty"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("<testsuite name=\"empty.toml\" tests=\"0\""),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn run_prints_the_verdicts_and_exits_1_on_a_failure_only_with_check() {
    let out = holdtime(&["run", CHECK_INPUT]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("\nexpectations: 1 passed, 2 failed\n  PASS session circuit.secondary.private stays established"),
        "{stdout}"
    );
    let out = holdtime(&["run", CHECK_INPUT, "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let out = holdtime(&["run", "reference", "--check"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn sweep_page() {
    let out = holdtime(&["sweep", "tuned-10-30", "--runs", "4", "--jobs", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    snapshot("sweep.txt", &text(&out.stdout));
}

#[test]
fn decode_page() {
    let file = hold2::capture("snapshots-decode");
    let dir = file.parent().expect("dir");
    let out = holdtime_in(dir, &["decode", "hold2.pcapng", "--check-roundtrip"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    snapshot(
        "decode.txt",
        &format!("{}{}", text(&out.stdout), text(&out.stderr)),
    );
}

#[test]
fn topology_show_prints_a_builtin_topology_and_scenarios_show_finds_it_too() {
    let out = holdtime(&["topology", "show", "expressroute-vpn-failover"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("# Built-in topology `expressroute-vpn-failover`"),
        "{stdout}"
    );
    assert!(stdout.contains("[[circuit]]"), "{stdout}");
    let again = holdtime(&["scenarios", "show", "expressroute-vpn-failover"]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(again.stdout, out.stdout);
    let list = text(&holdtime(&["topology"]).stdout);
    assert!(list.contains("single-ce"), "{list}");
    let out = holdtime(&["topology", "show", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("`nope` is neither a built-in topology, a library scenario nor a file")
    );
}

#[test]
fn help_texts_are_written_for_each_command() {
    let top = text(&holdtime(&["--help"]).stdout);
    assert!(
        top.starts_with("holdtime simulates what happens to your traffic"),
        "{top}"
    );
    let short = text(&holdtime(&["-h"]).stdout);
    assert!(short.starts_with("Simulate BGP failover"), "{short}");
    let decode = text(&holdtime(&["decode", "--help"]).stdout);
    assert!(
        decode.starts_with("Decode the BGP messages of a pcap, pcapng or MRT capture"),
        "{decode}"
    );
    assert!(!decode.contains("RunReport"), "{decode}");
    let run = text(&holdtime(&["run", "--help"]).stdout);
    assert!(run.contains("--check"), "{run}");
    assert!(!run.contains("RunReport"), "{run}");
}
