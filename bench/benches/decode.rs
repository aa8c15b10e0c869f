//! Capture decoding benchmark: `holdtime decode`'s pipeline (pcapng reading, Ethernet / VLAN /
//! IPv4 / TCP parsing, stream reassembly with retransmissions, BGP framing and decoding) in
//! input MB per second. Id: `decode/pcap`.
//!
//! The input is the simulator's own output, built in memory at bench start and deterministic:
//! one sender-side pcapng per library scenario below (lossy circuit: retransmissions; VPN
//! failover: UPDATE-heavy; BFD: many small UDP frames to skip; four circuits: VLAN-tagged
//! sessions), each a pcapng section, the sections repeated in turn until the file reaches
//! 100 MiB. Every section begins its connections with SYNs, so repeated sections decode as new
//! connections, as a capture of the same outage replayed would.
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scenarios::capture::decode::{self, Options};
use scenarios::sim::net::CapturePoint;
use scenarios::sim::recorder::{DEFAULT_EPOCH, Recorder};

const TARGET: usize = 100 << 20;
const SCENARIOS: [&str; 4] = ["lossy-circuit", "vpn-failover", "bfd", "four-circuits"];

fn section(name: &str) -> Vec<u8> {
    let loaded = scenarios::load(name).expect("library scenario");
    let mut pcap = Vec::new();
    let mut rec = Recorder::new(
        &loaded.scenario.topology,
        DEFAULT_EPOCH,
        Some(&mut pcap),
        None,
    )
    .expect("in-memory writer");
    scenarios::run_with_tap(
        &loaded.scenario,
        loaded.scenario.seed,
        None,
        &mut rec,
        CapturePoint::Sender,
    )
    .expect("scenario runs");
    rec.finish().expect("flush");
    pcap
}

fn big_capture() -> Vec<u8> {
    let sections: Vec<Vec<u8>> = SCENARIOS.iter().map(|s| section(s)).collect();
    let mut out = Vec::with_capacity(TARGET + (4 << 20));
    'fill: loop {
        for s in &sections {
            out.extend_from_slice(s);
            if out.len() >= TARGET {
                break 'fill;
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let data = big_capture();
    // Sanity: the whole file decodes, with every message.
    let mut messages = 0u64;
    let summary = decode::decode(
        &data,
        Options::default(),
        &mut |_| messages += 1,
        &mut |_| {},
    )
    .expect("decodes");
    assert!(summary.ok() && messages > 100_000, "{summary:?}");

    let mut g = c.benchmark_group("decode");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("pcap", |b| {
        b.iter(|| {
            let mut n = 0u64;
            let s = decode::decode(&data, Options::default(), &mut |_| n += 1, &mut |_| {})
                .expect("decodes");
            assert_eq!(s.messages, n);
            n
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
