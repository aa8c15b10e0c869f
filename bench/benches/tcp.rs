//! TCP benchmark: simulated bytes delivered per wall-clock second over a lossy link.
//!
//! A connected `sim_core::testing::TcpPair` (Linux preset) moves 1 MiB from `A` to `B` over a
//! 100 Mbit/s link with 5 ms one-way delay, a 1000-frame queue and 1 % Bernoulli loss in each
//! direction (so ACKs are lost too). Criterion's byte throughput is then "simulated bytes
//! delivered in order per wall second": engine, link, TCP and harness together, with the
//! harness's logging off. Id: `tcp/lossy_1pct`.
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::link::{DirectionConfig, End, LossModel, QueueLimit};
use sim_core::rng::Seed;
use sim_core::tcp::{State, TcpConfig};
use sim_core::testing::TcpPair;
use sim_core::time::Duration;

const BYTES: usize = 1 << 20;

fn connected(seed: u64) -> TcpPair {
    let link = DirectionConfig {
        delay: Duration::from_millis(5),
        loss: LossModel::Bernoulli { p: 0.01 },
        bandwidth_bps: 100_000_000,
        queue: QueueLimit::Frames(1000),
        ..DirectionConfig::default()
    };
    let mut p = TcpPair::new(Seed(seed), TcpConfig::linux(), TcpConfig::linux(), &link);
    p.logging = false;
    p.open();
    let mut horizon = p.engine.now();
    while p.a.state() != State::Established || p.b.state() != State::Established {
        horizon += Duration::from_secs(1);
        p.run_until(horizon);
        assert!(
            horizon.as_nanos() < 600_000_000_000,
            "handshake never completed"
        );
    }
    p
}

fn transfer(mut p: TcpPair, data: &[u8]) -> usize {
    let mut written = p.write(End::A, data);
    let mut horizon = p.engine.now();
    while p.received[1].len() < data.len() {
        horizon += Duration::from_millis(100);
        p.run_until(horizon);
        if written < data.len() {
            written += p.write(End::A, &data[written..]);
        }
        assert!(horizon.as_nanos() < 3_600_000_000_000, "transfer stalled");
    }
    p.received[1].len()
}

fn tcp(c: &mut Criterion) {
    let data: Vec<u8> = (0..BYTES).map(|i| (i % 251) as u8).collect();
    let mut group = c.benchmark_group("tcp");
    group.throughput(Throughput::Bytes(BYTES as u64));
    group.sample_size(20);
    // The same seed every iteration: identical simulated work, so only wall time varies.
    group.bench_function("lossy_1pct", |b| {
        b.iter_batched(
            || connected(1),
            |p| transfer(p, &data),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, tcp);
criterion_main!(benches);
