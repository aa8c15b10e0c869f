//! Snapshots of the text pages, for fixed seeds: one file per page type under
//! `tests/snapshots/` (`run.txt`, `check.txt`, `check.junit.xml`, `sweep.txt`,
//! `decode.txt`, and `live.txt`: `holdtime live` against a scripted peer on loopback, its
//! wall-clock times and ports masked). A change in what the program prints shows as a diff of
//! these files; after a deliberate change, regenerate them with `UPDATE_GOLDEN=1 cargo test -p
//! scenarios --test snapshots` and read the diff. The rules behind the numbers (rounding,
//! names, units) are unit-tested in `src/fmt.rs`; the JUnit file is also checked for the
//! structure CI systems read (and, where `xmllint` is installed, against
//! `tests/support/junit.xsd`).

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

/// One BGP message: marker, length, type, body (RFC 4271 §4.1).
fn bgp_message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&u16::try_from(19 + body.len()).expect("short").to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// Reads one BGP message's type; `None` at the end of the stream.
fn read_bgp(s: &mut std::net::TcpStream) -> Option<u8> {
    use std::io::Read as _;
    let mut head = [0u8; 19];
    s.read_exact(&mut head).ok()?;
    let len = usize::from(u16::from_be_bytes([head[16], head[17]]));
    let mut body = vec![0u8; len.saturating_sub(19)];
    s.read_exact(&mut body).ok()?;
    Some(head[18])
}

/// The live text with what the wall clock and the kernel choose masked: the time column of
/// each event line, instants in the summary (`at 0.097s`), ephemeral ports.
fn mask_live(text: &str) -> String {
    let is_time = |w: &str| {
        let w = w.trim_end_matches(':');
        w.contains('.') && w.parse::<sim_core::time::Duration>().is_ok()
    };
    let mut out = String::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let masked = if line.starts_with("  ") && words.first().is_some_and(|w| is_time(w)) {
            // An event: `  {time:>12}  {who:<8} {what}`.
            format!(
                "  {:>12}  {}",
                "<t>",
                &line.trim_start()[words[0].len()..].trim_start()
            )
        } else {
            line.to_owned()
        };
        let masked: Vec<String> = masked
            .split(' ')
            .map(|w| {
                if is_time(w) {
                    format!("<t>{}", if w.ends_with(':') { ":" } else { "" })
                } else if let Some((host, _)) =
                    w.strip_prefix("127.0.0.1:").map(|p| ("127.0.0.1", p))
                {
                    format!("{host}:<port>")
                } else {
                    w.to_owned()
                }
            })
            .collect();
        out.push_str(&masked.join(" "));
        out.push('\n');
    }
    out
}

/// `holdtime live` against a scripted peer on loopback: msee1 listens, the test plays ce1 byte
/// by byte (OPEN, KEEPALIVE, an UPDATE, then NOTIFICATION Cease/Administrative Shutdown with a
/// message, RFC 9003), then asks on standard input for a `down` fault and a restore. Every
/// step waits for the one before it on the wire or in one ordered channel, so the lines come
/// in one order; the wall-clock times and the ports are masked. Nothing else can happen in the
/// 5 s: the session's automatic restart waits 5 s after Idle (the rfc4271 profile's
/// IdleHoldTime, not jittered), so it falls after the run's end.
#[test]
fn live_page() {
    use std::io::Write as _;
    use std::process::Stdio;
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .args([
            "live",
            "tuned-10-30",
            "--role",
            "msee",
            "--listen",
            &addr,
            "--duration",
            "5s",
        ])
        .current_dir(manifest_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("holdtime live starts");
    let mut peer = (0..200)
        .find_map(|_| {
            std::net::TcpStream::connect(&addr).ok().or_else(|| {
                std::thread::sleep(std::time::Duration::from_millis(25));
                None
            })
        })
        .expect("holdtime live listens");
    peer.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    // ce1's OPEN: AS 65001, hold 30 s, identifier 10.0.0.9, the 4-octet AS capability.
    let mut open = vec![4];
    open.extend_from_slice(&65_001u16.to_be_bytes());
    open.extend_from_slice(&30u16.to_be_bytes());
    open.extend_from_slice(&[10, 0, 0, 9, 8, 2, 6, 65, 4]);
    open.extend_from_slice(&65_001u32.to_be_bytes());
    peer.write_all(&bgp_message(1, &open)).expect("OPEN");
    // Our KEEPALIVE answers msee1's OPEN; its first UPDATE says it is Established.
    loop {
        match read_bgp(&mut peer).expect("msee1 answers") {
            1 => peer.write_all(&bgp_message(4, &[])).expect("KEEPALIVE"),
            2 => break,
            _ => {}
        }
    }
    // 10.1.0.0/16 from AS 65001, next hop 127.0.0.1: ORIGIN, AS_PATH (4-octet), NEXT_HOP.
    let mut attrs = vec![0x40, 1, 1, 0, 0x40, 2, 6, 2, 1];
    attrs.extend_from_slice(&65_001u32.to_be_bytes());
    attrs.extend_from_slice(&[0x40, 3, 4, 127, 0, 0, 1]);
    let mut update = vec![0, 0];
    update.extend_from_slice(&u16::try_from(attrs.len()).expect("short").to_be_bytes());
    update.extend_from_slice(&attrs);
    update.extend_from_slice(&[16, 10, 1]);
    peer.write_all(&bgp_message(2, &update)).expect("UPDATE");
    let mut cease = vec![6, 2, 11];
    cease.extend_from_slice(b"maintenance");
    peer.write_all(&bgp_message(3, &cease))
        .expect("NOTIFICATION");
    while read_bgp(&mut peer).is_some() {}
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"down primary\nrestore all\n")
        .expect("fault commands");
    drop(stdin);
    let out = child.wait_with_output().expect("holdtime live ends");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let masked = mask_live(&text(&out.stdout));
    assert!(
        masked.contains("received NOTIFICATION 6/2 \"maintenance\""),
        "{masked}"
    );
    assert!(!masked.contains("127.0.0.1:5"), "{masked}");
    snapshot("live.txt", &masked);
}

/// Every built-in topology's general form (`holdtime topology show --expand`): a change in
/// what the ExpressRoute template makes (a router, link, session, timer or policy) moves one
/// of these files, and the diff shows which.
#[test]
fn general_form_of_each_builtin_topology() {
    for name in [
        "expressroute-vpn-failover",
        "four-circuits",
        "layer3-provider",
        "microsoft-peering",
        "single-ce",
    ] {
        let out = holdtime(&["topology", "show", "--expand", name]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.contains("[[router]]"), "{stdout}");
        assert!(stdout.contains("[[session]]"), "{stdout}");
        snapshot(&format!("expand-{name}.txt"), &stdout);
    }
}
