//! Helpers shared by the capture tests: external tools that may be missing, tshark's view of a
//! capture, and holdtime's decode of a file.
//!
//! A missing tool skips a test with a printed reason, except under `CI=true`, where `.ci/run`
//! installs it and a missing tool fails the test.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use scenarios::capture::decode::{self, Event, MessageItem, Options, Summary};

/// Whether `tool` can run; under `CI=true` a missing tool is a failure.
pub(crate) fn have(tool: &str, version_arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is not installed but CI=true: .ci/run must install it"
        );
        eprintln!("SKIP: {tool} is not installed (apt-get install {tool})");
    }
    ok
}

/// `holdtime decode FILE --check-roundtrip`, as the library does it: the summary, every
/// message and every event.
pub(crate) fn decode_file(path: &Path) -> (Summary, Vec<MessageItem>, Vec<Event>) {
    let data = std::fs::read(path).expect("read capture");
    let mut msgs = Vec::new();
    let mut events = Vec::new();
    let summary = decode::decode(
        &data,
        Options {
            check_roundtrip: true,
        },
        &mut |m| msgs.push(m),
        &mut |e| events.push(e),
    )
    .unwrap_or_else(|e| panic!("holdtime decodes {}: {e}", path.display()));
    (summary, msgs, events)
}

/// Runs `tool args`, which must succeed; its standard output.
pub(crate) fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// tshark over `path` with checksum verification on, then `args`.
pub(crate) fn tshark(path: &Path, args: &[&str]) -> String {
    let mut all = vec![
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
    ];
    all.extend_from_slice(args);
    tshark_unverified(path, &all)
}

/// tshark over `path` with its default of not verifying checksums: a capture taken on the
/// sending host holds the checksums the kernel leaves for the NIC to fill in (offload).
pub(crate) fn tshark_unverified(path: &Path, args: &[&str]) -> String {
    let p = path.to_str().expect("UTF-8 path");
    let mut all = vec!["-r", p];
    all.extend_from_slice(args);
    run("tshark", &all)
}

/// tshark's BGP messages by type name (`bgp.type` may list several per frame). Checksums are
/// not verified: tshark does not reassemble a segment whose checksum it finds wrong.
pub(crate) fn tshark_bgp_types(path: &Path) -> BTreeMap<String, u64> {
    let names = [
        (1, "OPEN"),
        (2, "UPDATE"),
        (3, "NOTIFICATION"),
        (4, "KEEPALIVE"),
        (5, "ROUTE-REFRESH"),
    ];
    let mut counts = BTreeMap::new();
    for field in tshark_unverified(path, &["-T", "fields", "-e", "bgp.type"])
        .split(['\n', ','])
        .filter(|s| !s.trim().is_empty())
    {
        let n: u8 = field.trim().parse().expect("numeric bgp.type");
        let name = names
            .iter()
            .find(|(k, _)| *k == n)
            .map_or_else(|| format!("type {n}"), |(_, v)| (*v).to_owned());
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}
