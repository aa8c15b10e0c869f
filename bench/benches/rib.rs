//! RIB benchmarks: withdrawing a whole session (`rib_withdraw/N`) and importing a full table
//! (`rib_import/N`), plus the memory a 1 M-prefix table takes.
//!
//! The table has N IPv4 /24 prefixes, each learned from two eBGP peers through the full
//! `Rib` (UPDATEs of 8 prefixes, as real tables average a handful of prefixes per attribute
//! set); peer 1's import policy sets LOCAL_PREF 200, so withdrawing its session changes the
//! best path and the FIB of every prefix: N prefix changes, each re-running the decision
//! process and queuing the prefix for peer 2's Adj-RIB-Out (to which the table had been
//! advertised). Setup (import, advertisement) is not timed.
//!
//! Run: `cargo bench -p bench --bench rib -- --warm-up-time 1 --measurement-time 3
//! --sample-size 10`. The memory figure is printed to stderr from `/proc/self/statm` (Linux).
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bgp::rib::{PeerConfig, PeerId, Rib, RibConfig};
use bgp::wire::{AsPath, Asn, AttrValue, EncodeCtx, Nlri, Origin, PathAttributes, Update};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net};

const PREFIXES_PER_UPDATE: u32 = 8;
const LOCAL_AS: u32 = 65_000;

fn prefix(i: u32) -> IpNet {
    // 10.0.0.0/24, 10.0.1.0/24, ... continuing into 11.x, 12.x for large tables.
    IpNet::V4(Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + (i << 8)), 24).unwrap_or_default())
}

fn peer_addr(peer: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 255, u8::try_from(peer).unwrap_or(0), 2)
}

/// The UPDATEs of one peer's full table: runs of 8 prefixes share attributes.
fn table_updates(n: u32, peer: u32) -> Vec<Update> {
    (0..n.div_ceil(PREFIXES_PER_UPDATE))
        .map(|u| {
            let attrs: PathAttributes = [
                AttrValue::Origin(Origin::Igp),
                AttrValue::AsPath(AsPath::from_sequence(vec![
                    Asn(65_000 + peer),
                    Asn(3_356),
                    Asn(64_512 + u % 400),
                ])),
                AttrValue::NextHop(peer_addr(peer)),
            ]
            .into_iter()
            .collect();
            let nlri: Vec<Nlri> = (u * PREFIXES_PER_UPDATE..((u + 1) * PREFIXES_PER_UPDATE).min(n))
                .map(|i| Nlri::new(prefix(i)))
                .collect();
            Update::announce(Arc::new(attrs), nlri)
        })
        .collect()
}

/// A RIB with eBGP peers 1 and 2 Established; peer 1's routes get LOCAL_PREF 200.
fn empty_rib() -> Rib {
    let mut rib = Rib::new(RibConfig::new(LOCAL_AS, Ipv4Addr::new(10, 255, 0, 1)));
    for peer in [1, 2] {
        let local = IpAddr::V4(Ipv4Addr::new(10, 255, u8::try_from(peer).unwrap_or(0), 1));
        let mut config = PeerConfig::new(65_000 + peer, IpAddr::V4(peer_addr(peer)), local);
        if peer == 1 {
            config.import.set_local_pref = Some(200);
        }
        rib.add_peer(PeerId(peer), config)
            .unwrap_or_else(|e| panic!("{e}"));
        rib.peer_up(PeerId(peer), peer_addr(peer), true)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    rib
}

fn import(rib: &mut Rib, updates: &[Vec<Update>; 2]) {
    for (peer, list) in [(1, &updates[0]), (2, &updates[1])] {
        for update in list {
            rib.handle_update(PeerId(peer), update)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    black_box(rib.take_fib_changes());
}

/// Advertises the table to both peers (the state before a failure: peer 2 has been sent the
/// routes learned from peer 1).
fn advertise(rib: &mut Rib) -> usize {
    let enc = EncodeCtx {
        four_octet_as: true,
        ..EncodeCtx::default()
    };
    [1, 2]
        .into_iter()
        .map(|p| {
            rib.poll_updates(PeerId(p), &enc)
                .map(|u| u.len())
                .unwrap_or(0)
        })
        .sum()
}

/// Session 1 goes down: withdraw everything it taught us and reconverge.
fn withdraw_peer1(rib: &mut Rib) -> usize {
    rib.peer_down(PeerId(1)).unwrap_or_else(|e| panic!("{e}"));
    rib.take_fib_changes().len()
}

/// Resident set size in bytes, from `/proc/self/statm` (0 where unavailable).
fn rss_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// CPU time this thread has run, in nanoseconds, from `/proc/thread-self/schedstat` (Linux);
/// unlike wall time it does not grow when other processes compete for the cores.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Prints the import and withdrawal rates of a 1 M-prefix table measured in thread CPU time
/// (best of 3).
fn report_cpu_rate() {
    let n = 1_000_000u32;
    let updates = [table_updates(n, 1), table_updates(n, 2)];
    let (mut best_import, mut best_withdraw): (Option<u64>, Option<u64>) = (None, None);
    let min = |best: Option<u64>, spent: u64| Some(best.map_or(spent, |b| b.min(spent)));
    for _ in 0..3 {
        let mut rib = empty_rib();
        let (Some(t0), (), Some(t1)) =
            (thread_cpu_ns(), import(&mut rib, &updates), thread_cpu_ns())
        else {
            return;
        };
        best_import = min(best_import, t1.saturating_sub(t0));
        advertise(&mut rib);
        let (Some(t0), changes, Some(t1)) =
            (thread_cpu_ns(), withdraw_peer1(&mut rib), thread_cpu_ns())
        else {
            return;
        };
        assert_eq!(changes, n as usize);
        best_withdraw = min(best_withdraw, t1.saturating_sub(t0));
    }
    let rate = |ns: u64, elements: u32| f64::from(elements) * 1e3 / ns as f64;
    if let (Some(i), Some(w)) = (
        best_import.filter(|&v| v > 0),
        best_withdraw.filter(|&v| v > 0),
    ) {
        eprintln!(
            "thread CPU time, 1,000,000 prefixes: rib_import {:.1} ms ({:.2} M routes/s, 2 paths \
             each); rib_withdraw {:.1} ms ({:.2} M prefix changes/s)",
            i as f64 / 1e6,
            rate(i, 2 * n),
            w as f64 / 1e6,
            rate(w, n),
        );
    }
}

fn report_memory() {
    let updates = [table_updates(1_000_000, 1), table_updates(1_000_000, 2)];
    let before = rss_bytes();
    let mut rib = empty_rib();
    import(&mut rib, &updates);
    let after_import = rss_bytes();
    // Advertise the table to peer 2 as well, so the Adj-RIB-Out holds it too.
    let sent = advertise(&mut rib);
    let after_out = rss_bytes();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    eprintln!(
        "rib memory: 1,000,000 prefixes x 2 paths: {:.1} MiB resident after import \
         (Adj-RIBs-In + Loc-RIB), {:.1} MiB with peer 2's Adj-RIB-Out ({} UPDATEs sent; \
         UPDATE inputs excluded)",
        mib(after_import.saturating_sub(before)),
        mib(after_out.saturating_sub(before)),
        sent,
    );
    black_box(rib.loc_rib().len());
}

#[allow(
    clippy::disallowed_methods,
    reason = "benchmarks time themselves with the wall clock"
)]
fn bench_withdraw(c: &mut Criterion) {
    report_memory();
    report_cpu_rate();
    let mut group = c.benchmark_group("rib_withdraw");
    for n in [10_000u32, 1_000_000] {
        let updates = [table_updates(n, 1), table_updates(n, 2)];
        group.throughput(Throughput::Elements(u64::from(n)));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let mut rib = empty_rib();
                    import(&mut rib, &updates);
                    advertise(&mut rib);
                    let start = std::time::Instant::now();
                    let changes = withdraw_peer1(&mut rib);
                    total += start.elapsed();
                    assert_eq!(changes, n as usize, "every prefix must move to peer 2");
                    drop(rib);
                }
                total
            });
        });
    }
    group.finish();
}

#[allow(
    clippy::disallowed_methods,
    reason = "benchmarks time themselves with the wall clock"
)]
fn bench_import(c: &mut Criterion) {
    let mut group = c.benchmark_group("rib_import");
    for n in [10_000u32, 1_000_000] {
        let updates = [table_updates(n, 1), table_updates(n, 2)];
        // Two full tables: 2n route imports, each running import policy and the decision
        // process.
        group.throughput(Throughput::Elements(2 * u64::from(n)));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let mut rib = empty_rib();
                    let start = std::time::Instant::now();
                    import(&mut rib, &updates);
                    total += start.elapsed();
                    drop(black_box(rib));
                }
                total
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_withdraw, bench_import);
criterion_main!(benches);
