//! A small pcapng capture for `holdtime decode` tests: an OPEN with Hold Time 2 s (well-formed,
//! refused by RFC 4271 §6.2), the peer's OPEN, and the peer's NOTIFICATION 2/6.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use scenarios::capture::packet::{Addrs, IpFrame, TcpFields, build_tcp};
use scenarios::capture::pcap::PcapngWriter;

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
pub(crate) fn capture(name: &str) -> PathBuf {
    refused(name, (65_001, 2, [10, 0, 0, 1]), 6)
}

/// The same exchange with the first OPEN's `(AS, hold time, BGP identifier)` given, refused
/// with NOTIFICATION 2/`subcode`.
pub(crate) fn refused(name: &str, (asn, hold, id): (u16, u16, [u8; 4]), subcode: u8) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
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
        sack: None,
    };
    let open_a = open(asn, hold, id);
    let open_b = open(65_002, 90, [10, 0, 0, 2]);
    let notification = message(3, &[2, subcode]);
    let mut w = PcapngWriter::new(Vec::new(), "test").expect("writer");
    let i = w.add_interface("eth0", "GoBGP to BIRD").expect("interface");
    let t0 = 1_767_225_600_000_000_000u64;
    w.packet(
        i,
        t0,
        &build_tcp(&frame(a, b), &tcp(40_000, 179, 1), &open_a),
    )
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
