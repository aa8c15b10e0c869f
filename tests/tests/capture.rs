//! Captures and MRT files of simulated runs, checked by independent tools: tshark reads every
//! library scenario's pcap without a malformed packet or an error (checksums verified), counts
//! the same BGP messages by type as holdtime's decoder, the BFD packets the report counts, and
//! flags the TCP model's retransmissions; bgpdump reads the MRT files with the same messages
//! and prefixes; every message of the RIS corpus and of the made captures re-encodes byte for
//! byte.
//!
//! tshark and bgpdump are external: without them a test prints why it skips, except under
//! `CI=true`, where `.ci/run` installs them and a missing tool fails the test.

#[allow(
    dead_code,
    reason = "shared by several test binaries, not each uses every helper"
)]
mod capture_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bgp::wire::Message;
use capture_support::{decode_file, have, run, tshark, tshark_bgp_types};
use scenarios::capture::decode::{self, Event, MessageItem};
use scenarios::capture::packet::{self, Parsed};
use scenarios::capture::pcap;
use scenarios::report::RunReport;
use scenarios::sim::net::CapturePoint;
use scenarios::sim::recorder::{DEFAULT_EPOCH, Recorder};

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("capture");
    std::fs::create_dir_all(&d).expect("create the test output directory");
    d
}

/// A run's pcapng and MRT files, written under the target directory.
struct Captured {
    pcap: PathBuf,
    mrt: PathBuf,
    report: RunReport,
}

/// Runs a library scenario with captures; `None` when this build cannot replay it. `test`
/// keeps the files of tests running in parallel apart.
fn capture(test: &str, name: &str, point: CapturePoint) -> Option<Captured> {
    let loaded = scenarios::load(name).expect("library scenario loads");
    let (mut pcap, mut mrt) = (Vec::new(), Vec::new());
    let mut rec = Recorder::new(
        &loaded.scenario.topology,
        DEFAULT_EPOCH,
        Some(&mut pcap),
        Some(&mut mrt),
    )
    .expect("in-memory writers");
    let report = match scenarios::run_with_tap(
        &loaded.scenario,
        loaded.scenario.seed,
        None,
        &mut rec,
        point,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name}: not replayed by this build ({e}); no capture to check");
            return None;
        }
    };
    rec.finish().expect("in-memory writers flush");
    let tag = match point {
        CapturePoint::Sender => "sender",
        CapturePoint::Receiver => "receiver",
    };
    let dir = out_dir();
    let p = dir.join(format!("{test}.{name}.{tag}.pcapng"));
    let m = dir.join(format!("{test}.{name}.{tag}.mrt"));
    std::fs::write(&p, pcap).expect("write pcap");
    std::fs::write(&m, mrt).expect("write mrt");
    Some(Captured {
        pcap: p,
        mrt: m,
        report,
    })
}

/// The report's count of a message kind (`open`, `bfd`, ...).
fn reported(report: &RunReport, kind: &str) -> u64 {
    report
        .messages
        .iter()
        .find(|m| {
            serde_json::to_value(m.kind)
                .ok()
                .as_ref()
                .and_then(|v| v.as_str())
                == Some(kind)
        })
        .map_or(0, |m| m.count)
}

#[test]
fn library_pcaps_open_in_tshark_clean_with_the_same_message_counts() {
    if !have("tshark", "-v") {
        return;
    }
    let mut checked = 0;
    for entry in &scenarios::library::LIBRARY {
        let Some(c) = capture("tshark", entry.name, CapturePoint::Sender) else {
            continue;
        };
        let bad = tshark(
            &c.pcap,
            &["-Y", "_ws.malformed || _ws.expert.severity >= error"],
        );
        assert!(
            bad.trim().is_empty(),
            "{}: tshark finds malformed packets or errors:\n{bad}",
            entry.name
        );
        let (summary, msgs, _) = decode_file(&c.pcap);
        assert!(summary.ok(), "{}: {summary:?}", entry.name);
        // IPv6 sessions are written as IPv6 packets, which tshark reads clean (above) and
        // dissects as BGP.
        let v6 = entry.name == "dual-stack";
        assert_eq!(
            msgs.iter().any(|m| m.src.ip.is_ipv6()),
            v6,
            "{}: IPv6 BGP messages exactly in the dual-stack scenario",
            entry.name
        );
        if v6 {
            let bgp6 = tshark(
                &c.pcap,
                &["-Y", "ipv6 && bgp", "-T", "fields", "-e", "frame.number"],
            );
            assert!(!bgp6.trim().is_empty(), "tshark sees BGP over IPv6");
        }
        let theirs = tshark_bgp_types(&c.pcap);
        assert_eq!(
            theirs, summary.by_type,
            "{}: tshark and holdtime decode count different BGP messages",
            entry.name
        );
        // The report counts BGP messages as they left on the wire, so exactly what a capture
        // beside the sender holds.
        for (name, kind) in [
            ("OPEN", "open"),
            ("UPDATE", "update"),
            ("NOTIFICATION", "notification"),
            ("KEEPALIVE", "keepalive"),
        ] {
            assert_eq!(
                theirs.get(name).copied().unwrap_or(0),
                reported(&c.report, kind),
                "{}: {name} on the wire vs in the report",
                entry.name
            );
        }
        let bfd = tshark(
            &c.pcap,
            &["-Y", "bfd", "-T", "fields", "-e", "frame.number"],
        );
        assert_eq!(
            bfd.lines().count() as u64,
            reported(&c.report, "bfd"),
            "{}: every BFD packet sent is in the capture",
            entry.name
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} library scenarios ran");
}

/// Frame numbers of TCP segments that repeat sequence space already sent in their direction.
fn model_retransmissions(path: &Path) -> BTreeSet<u64> {
    let data = std::fs::read(path).expect("read capture");
    let mut r = pcap::Reader::new(&data).expect("pcapng header");
    let mut seen = BTreeSet::new();
    let mut out = BTreeSet::new();
    while let Some(p) = r.next_packet() {
        let p = p.expect("well-formed capture");
        let link = p.link.expect("Ethernet");
        let Ok(Parsed::Tcp(t)) = packet::parse(link, p.data) else {
            continue;
        };
        let ctl = t.flags & 0x03;
        if t.payload.is_empty() && ctl == 0 {
            continue;
        }
        let key = (
            t.src,
            t.src_port,
            t.dst,
            t.dst_port,
            t.seq,
            ctl,
            t.payload.len(),
        );
        if !seen.insert(key) {
            out.insert(p.number);
        }
    }
    out
}

#[test]
fn tshark_flags_the_tcp_models_retransmissions() {
    if !have("tshark", "-v") {
        return;
    }
    let c = capture("retx", "lossy-circuit", CapturePoint::Sender).expect("lossy-circuit runs");
    // The linux preset negotiates timestamps (RFC 7323): the frames carry the option.
    let stamped = tshark(
        &c.pcap,
        &[
            "-Y",
            "tcp.options.timestamp.tsval",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
    );
    assert!(
        stamped.lines().count() > 10,
        "the TCP model's timestamps are in the capture"
    );
    let ours = model_retransmissions(&c.pcap);
    assert!(
        ours.len() >= 5,
        "a lossy circuit makes the TCP model retransmit: {ours:?}"
    );
    let flagged: BTreeSet<u64> = tshark(
        &c.pcap,
        &[
            "-Y",
            "tcp.analysis.retransmission || tcp.analysis.fast_retransmission",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
    )
    .lines()
    .filter_map(|l| l.trim().parse().ok())
    .collect();
    let missed: Vec<_> = ours.difference(&flagged).collect();
    assert!(
        missed.is_empty(),
        "tshark does not flag these retransmitted segments: {missed:?}"
    );
}

#[test]
fn receiver_side_capture_omits_lost_frames() {
    let sender = capture("point", "lossy-circuit", CapturePoint::Sender).expect("runs");
    let receiver = capture("point", "lossy-circuit", CapturePoint::Receiver).expect("runs");
    let (s, _, _) = decode_file(&sender.pcap);
    let (r, _, _) = decode_file(&receiver.pcap);
    assert!(s.ok() && r.ok(), "{s:?} {r:?}");
    assert!(
        r.frames < s.frames,
        "frames lost on the path are not at the receiver: sender {} receiver {}",
        s.frames,
        r.frames
    );
}

/// `(A|W, peer, prefix)` lines, sorted.
fn prefix_lines(msgs: &[MessageItem]) -> Vec<String> {
    let mut out = Vec::new();
    for m in msgs {
        let Ok(Message::Update(u)) = &m.result else {
            continue;
        };
        let peer = m.src.ip;
        let withdrawn = u
            .withdrawn
            .iter()
            .chain(u.mp_unreach.iter().flat_map(|r| r.withdrawn.iter()));
        for n in withdrawn {
            out.push(format!("W|{peer}|{}", n.prefix));
        }
        for n in u
            .nlri
            .iter()
            .chain(u.mp_reach.iter().flat_map(|r| r.nlri.iter()))
        {
            out.push(format!("A|{peer}|{}", n.prefix));
        }
    }
    out.sort();
    out
}

#[test]
fn mrt_reads_in_bgpdump_with_the_same_messages_and_prefixes() {
    if !have("bgpdump", "-h") {
        return;
    }
    for name in ["reference", "lossy-circuit", "vpn-failover"] {
        let c = capture("bgpdump", name, CapturePoint::Sender).expect("runs");
        let (summary, msgs, events) = decode_file(&c.mrt);
        assert!(summary.ok() && summary.messages > 0, "{name}: {summary:?}");
        let mrt = c.mrt.to_str().expect("UTF-8 path");
        // Default output: one "TYPE:" line per record.
        let mut types: BTreeMap<String, u64> = BTreeMap::new();
        for l in run("bgpdump", &[mrt]).lines() {
            if let Some(t) = l.strip_prefix("TYPE: ") {
                *types.entry(t.trim().to_owned()).or_insert(0) += 1;
            }
        }
        let theirs = |k: &str| types.get(k).copied().unwrap_or(0);
        let ours = |k: &str| summary.by_type.get(k).copied().unwrap_or(0);
        assert_eq!(theirs("BGP4MP_ET/MESSAGE/Open"), ours("OPEN"), "{name}");
        assert_eq!(theirs("BGP4MP_ET/MESSAGE/Update"), ours("UPDATE"), "{name}");
        assert_eq!(
            theirs("BGP4MP_ET/MESSAGE/Notify"),
            ours("NOTIFICATION"),
            "{name}"
        );
        assert_eq!(
            theirs("BGP4MP_ET/MESSAGE/Keepalive"),
            ours("KEEPALIVE"),
            "{name}"
        );
        let states = events
            .iter()
            .filter(|e| matches!(e, Event::State { .. }))
            .count() as u64;
        assert_eq!(theirs("BGP4MP_ET/STATE_CHANGE"), states, "{name}");
        // One-line output: the announced and withdrawn prefixes, per peer.
        let mut lines: Vec<String> = run("bgpdump", &["-m", mrt])
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('|').collect();
                match f.as_slice() {
                    [_, _, kind @ ("A" | "W"), peer, _, prefix, ..] => {
                        Some(format!("{kind}|{peer}|{prefix}"))
                    }
                    _ => None,
                }
            })
            .collect();
        lines.sort();
        assert!(!lines.is_empty(), "{name}: no prefixes in the MRT");
        assert_eq!(lines, prefix_lines(&msgs), "{name}: bgpdump -m prefixes");
    }
}

/// The RIPE RIS dumps kept in the repository (`corpus/ris/README.md`: source, attribution).
fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/ris")
}

#[test]
fn corpus_and_simulated_captures_reencode_byte_for_byte() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".mrt.gz"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "ris-updates-20100722-2015.mrt.gz",
            "ris-updates-20160811-1600.mrt.gz"
        ],
        "the RIS dumps in {}",
        corpus_dir().display()
    );
    for name in ["reference", "lossy-circuit", "bfd", "four-circuits"] {
        for point in [CapturePoint::Sender, CapturePoint::Receiver] {
            if let Some(c) = capture("roundtrip", name, point) {
                files.push(c.pcap);
                files.push(c.mrt);
            }
        }
    }
    for f in &files {
        let (summary, msgs, events) = decode_file(f);
        assert!(summary.messages > 0, "{}: no messages", f.display());
        let problems: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, Event::Problem { .. }))
            .collect();
        assert!(problems.is_empty(), "{}: {problems:?}", f.display());
        let bad: Vec<String> = msgs
            .iter()
            .filter(|m| m.result.is_err() || m.roundtrip != Some(decode::RoundTrip::Same))
            .take(5)
            .map(scenarios::capture::render::text)
            .collect();
        assert!(bad.is_empty(), "{}: {bad:#?}", f.display());
        assert!(summary.ok(), "{}: {summary:?}", f.display());
    }
}
