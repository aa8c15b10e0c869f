//! `holdtime decode` on a capture holding an OPEN that is well-formed but must be refused
//! (Hold Time 2 s, RFC 4271 §6.2), as a real GoBGP→BIRD capture does: the OPEN is decoded
//! and counted as tshark counts it, the NOTIFICATION the receiver would answer (2/6) is said,
//! and `--check-roundtrip` finds nothing wrong.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Output};

use scenarios::capture::packet::{Addrs, IpFrame, TcpFields, build_tcp};
use scenarios::capture::pcap::PcapngWriter;

fn holdtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .args(args)
        .output()
        .expect("the holdtime binary runs")
}

/// A BGP message: marker, length, type, body.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    let len = u16::try_from(19 + body.len()).expect("short");
    m.extend_from_slice(&len.to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// An OPEN without optional parameters.
fn open(asn: u16, hold: u16, id: [u8; 4]) -> Vec<u8> {
    let mut b = vec![4];
    b.extend_from_slice(&asn.to_be_bytes());
    b.extend_from_slice(&hold.to_be_bytes());
    b.extend_from_slice(&id);
    b.push(0);
    message(1, &b)
}

/// The capture: the speaker at 10.0.0.1 opens with hold time 2, the one at 10.0.0.2 opens
/// with 90 and refuses the first with NOTIFICATION 2/6.
fn capture() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("decode-refused");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("hold2.pcapng");
    let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let frame = |src: Ipv4Addr, dst: Ipv4Addr| IpFrame {
        src_mac: [2, 0, 0, 0, 0, 1],
        dst_mac: [2, 0, 0, 0, 0, 2],
        vlan: None,
        addrs: Addrs::V4 { src, dst },
        ttl: 1,
        id: 1,
    };
    let tcp = |src_port, dst_port, seq| TcpFields {
        src_port,
        dst_port,
        seq,
        ack: 1,
        flags: 0x18,
        window: 65_535,
        mss: None,
        timestamps: None,
    };
    let open_a = open(65_001, 2, [10, 0, 0, 1]);
    let open_b = open(65_002, 90, [10, 0, 0, 2]);
    let notification = message(3, &[2, 6]);
    let mut w = PcapngWriter::new(Vec::new(), "test").expect("writer");
    let i = w.add_interface("eth0", "GoBGP to BIRD").expect("interface");
    let t0 = 1_767_225_600_000_000_000u64;
    w.packet(i, t0, &build_tcp(&frame(a, b), &tcp(40_000, 179, 1), &open_a))
        .expect("frame");
    w.packet(
        i,
        t0 + 1_000_000,
        &build_tcp(&frame(b, a), &tcp(179, 40_000, 1), &open_b),
    )
    .expect("frame");
    w.packet(
        i,
        t0 + 2_000_000,
        &build_tcp(
            &frame(b, a),
            &tcp(179, 40_000, 1 + u32::try_from(open_b.len()).expect("short")),
            &notification,
        ),
    )
    .expect("frame");
    std::fs::write(&path, w.finish().expect("finish")).expect("write");
    path
}

#[test]
fn an_open_with_hold_time_2_is_decoded_counted_and_its_refusal_named() {
    let path = capture();
    let file = path.to_string_lossy().into_owned();
    let out = holdtime(&["decode", &file, "--check-roundtrip"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let first = stdout.lines().next().expect("a line per message");
    assert!(
        first.contains("OPEN as=65001 hold=2 ")
            && first.ends_with("; receiver would answer 2/6 Unacceptable Hold Time"),
        "{first}"
    );
    assert!(!stdout.contains("MALFORMED"), "{stdout}");
    assert!(!stdout.contains("ROUNDTRIP"), "{stdout}");
    assert!(
        stdout.contains("NOTIFICATION OPEN_MESSAGE/UNACCEPTABLE_HOLD_TIME (2/6)"),
        "{stdout}"
    );
    // Both OPENs counted, as tshark counts them; nothing failed.
    assert!(
        stderr.contains("3 messages (NOTIFICATION 1, OPEN 2), 0 failed, 0 re-encoded differently, 1 refused by the receiver"),
        "{stderr}"
    );

    let out = holdtime(&["decode", &file, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .expect("a line"),
    )
    .expect("JSON");
    assert_eq!(first["type"], "OPEN");
    assert_eq!(first["refused"]["code"], 2);
    assert_eq!(first["refused"]["subcode"], 6);
}
