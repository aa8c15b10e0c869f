//! RIB benchmarks: withdrawing a whole session (`rib_withdraw/N`) and importing a full table
//! (`rib_import/N`), plus the memory a 1 M-prefix table takes.
//!
//! The table has N IPv4 /24 prefixes, each learned from two peers; peer 1 has the higher
//! LOCAL_PREF, so withdrawing its session changes the best path and the FIB of every prefix:
//! N prefix changes. Paths are shared by runs of 8 prefixes, as prefixes of one UPDATE share
//! their attributes in real tables.
//!
//! Run: `cargo bench -p bench --bench rib -- --warm-up-time 1 --measurement-time 3
//! --sample-size 10`. The memory figure is printed to stderr from `/proc/self/statm` (Linux).
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bgp::rib::PeerId;
use bgp::rib::adj_rib_in::{AdjRibIn, MaxPrefix};
use bgp::rib::decision::{DecisionConfig, Rank};
use bgp::rib::loc_rib::LocRib;
use bgp::rib::path::Path;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net};

const PREFIXES_PER_UPDATE: u32 = 8;

fn path(source: u32, local_pref: u32, update: u32) -> Arc<Path> {
    let addr = Ipv4Addr::new(192, 0, 2, u8::try_from(source).unwrap_or(0));
    Arc::new(Path {
        source: PeerId(source),
        next_hop: IpAddr::V4(addr),
        rank: Rank {
            weight: 0,
            local_pref,
            as_path_len: 2 + update % 3,
            origin: 0,
            med: 0,
            neighbor_as: 65000 + source,
            ebgp: true,
            igp_cost: 0,
            bgp_id: addr,
            cluster_list_len: 0,
            peer_addr: IpAddr::V4(addr),
            source,
        },
        as_path: vec![65000 + source, 64512 + update % 1000],
    })
}

fn prefix(i: u32) -> IpNet {
    // 10.0.0.0/24, 10.0.1.0/24, ... wrapping into 11.x, 12.x for large tables.
    IpNet::V4(Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + (i << 8)), 24).unwrap_or_default())
}

struct Table {
    loc: LocRib,
    peers: [AdjRibIn; 2],
}

/// Imports `n` prefixes from `peers` (1 and 2) into a fresh table.
fn import(n: u32, peers: &[u32]) -> Table {
    let mut table = Table {
        loc: LocRib::new(DecisionConfig::default()),
        peers: [AdjRibIn::new(MaxPrefix::default()), AdjRibIn::new(MaxPrefix::default())],
    };
    for &peer in peers {
        let lp = if peer == 1 { 200 } else { 100 };
        let mut shared = path(peer, lp, 0);
        for i in 0..n {
            if i % PREFIXES_PER_UPDATE == 0 {
                shared = path(peer, lp, i / PREFIXES_PER_UPDATE);
            }
            let adj = &mut table.peers[usize::try_from(peer - 1).unwrap_or(0)];
            if adj.insert(prefix(i), Arc::clone(&shared)).is_ok() {
                table.loc.insert(prefix(i), Arc::clone(&shared));
            }
        }
        black_box(table.loc.take_fib_changes());
        black_box(table.loc.take_best_changes());
    }
    table
}

/// Session 1 goes down: withdraw everything it taught us and reconverge.
fn withdraw_peer1(table: &mut Table) -> usize {
    let routes = table.peers[0].take_all();
    table.loc.remove_sorted(PeerId(1), routes.into_keys());
    let changes = table.loc.take_fib_changes();
    black_box(table.loc.take_best_changes());
    changes.len()
}

/// Resident set size in bytes, from `/proc/self/statm` (0 where unavailable).
fn rss_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn report_memory() {
    let before = rss_bytes();
    let table = import(1_000_000, &[1, 2]);
    let after = rss_bytes();
    eprintln!(
        "rib memory: 1,000,000 prefixes x 2 paths: {:.1} MiB resident ({} prefixes in Loc-RIB)",
        (after.saturating_sub(before)) as f64 / (1024.0 * 1024.0),
        table.loc.len()
    );
    drop(table);
}

#[allow(clippy::disallowed_methods, reason = "benchmarks time themselves with the wall clock")]
fn bench_withdraw(c: &mut Criterion) {
    report_memory();
    let mut group = c.benchmark_group("rib_withdraw");
    for n in [10_000u32, 1_000_000] {
        group.throughput(Throughput::Elements(u64::from(n)));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let mut table = import(n, &[1, 2]);
                    let start = std::time::Instant::now();
                    let changes = withdraw_peer1(&mut table);
                    total += start.elapsed();
                    assert_eq!(changes, n as usize, "every prefix must move to peer 2");
                    drop(table);
                }
                total
            });
        });
    }
    group.finish();
}

#[allow(clippy::disallowed_methods, reason = "benchmarks time themselves with the wall clock")]
fn bench_import(c: &mut Criterion) {
    let mut group = c.benchmark_group("rib_import");
    for n in [10_000u32, 1_000_000] {
        // Two full tables: 2n route imports, each running the decision process.
        group.throughput(Throughput::Elements(2 * u64::from(n)));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let start = std::time::Instant::now();
                    let table = import(n, &[1, 2]);
                    total += start.elapsed();
                    drop(black_box(table));
                }
                total
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_withdraw, bench_import);
criterion_main!(benches);
