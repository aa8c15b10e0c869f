//! Engine benchmark: the classic *hold* model of priority-queue benchmarking.
//!
//! `n` events are pending; one operation pops the earliest and schedules a new one at
//! `now + Exp(mean 1 s)`, so the queue size stays `n`. Measured at n = 1,000 and 100,000 for:
//!
//! - `holdtime`: `sim_core::engine::Engine<u32>` (the real engine, with its cancellable slab);
//! - `binaryheap`: `std::collections::BinaryHeap<Reverse<(u64, u64)>>` holding only
//!   `(time, seq)` with no payload and no cancellation: the floor any engine is measured against;
//! - `peer`: `simcore` 0.1, the simulation core of DSLab (osukhoroslov/dslab). Chosen because it
//!   is a published, maintained, general-purpose Rust discrete-event engine with the same
//!   semantics (a binary heap ordered by time then event id, ties FIFO, cancellable events), and
//!   it runs on stable Rust; `desim` needs nightly generators. Its events carry a boxed
//!   `dyn EventData` payload delivered to a `dyn EventHandler`, the usual design of such engines.
//!
//! All three draw the exponential from the same `sim_core::rng::Stream`, so the difference is
//! the queue. Ids: `engine_hold/{holdtime,binaryheap,peer}/{1000,100000}`.
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::rc::Rc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::engine::Engine;
use sim_core::rng::{Seed, Stream, StreamId};
use sim_core::time::Duration;

const SIZES: [usize; 2] = [1_000, 100_000];
const MEAN: Duration = Duration::from_secs(1);

fn stream() -> Stream {
    Seed(1).stream(StreamId(0))
}

fn holdtime(n: usize) -> impl FnMut() {
    let mut rng = stream();
    let mut engine = Engine::with_capacity(n);
    for i in 0..n {
        let at = rng.exponential_duration(MEAN);
        engine.schedule_after(at, u32::try_from(i).unwrap_or(0));
    }
    move || {
        if let Some((_, ev)) = engine.step() {
            let d = rng.exponential_duration(MEAN);
            engine.schedule_after(d, black_box(ev));
        }
    }
}

fn binaryheap(n: usize) -> impl FnMut() {
    let mut rng = stream();
    let mut heap = BinaryHeap::with_capacity(n);
    let mut seq = 0_u64;
    for _ in 0..n {
        heap.push(Reverse((rng.exponential_duration(MEAN).as_nanos(), seq)));
        seq += 1;
    }
    move || {
        if let Some(Reverse((now, s))) = heap.pop() {
            black_box(s);
            let d = rng.exponential_duration(MEAN).as_nanos();
            heap.push(Reverse((now + d, seq)));
            seq += 1;
        }
    }
}

/// The peer's handler: on every event, emit the next one to itself after Exp(mean).
struct HoldComponent {
    ctx: simcore::SimulationContext,
    rng: Stream,
}

impl simcore::EventHandler for HoldComponent {
    fn on(&mut self, event: simcore::Event) {
        black_box(event.id);
        let d = self.rng.exponential_duration(MEAN).as_secs_f64();
        self.ctx.emit_self(0_u32, d);
    }
}

fn peer(n: usize) -> impl FnMut() {
    let mut rng = stream();
    let mut sim = simcore::Simulation::new(1);
    let ctx = sim.create_context("hold");
    for _ in 0..n {
        ctx.emit_self(0_u32, rng.exponential_duration(MEAN).as_secs_f64());
    }
    let comp = Rc::new(RefCell::new(HoldComponent { ctx, rng }));
    sim.add_handler("hold", comp);
    move || {
        sim.step();
    }
}

fn engine_hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_hold");
    group.throughput(Throughput::Elements(1));
    for n in SIZES {
        let mut op = holdtime(n);
        group.bench_function(BenchmarkId::new("holdtime", n), |b| b.iter(&mut op));
        let mut op = binaryheap(n);
        group.bench_function(BenchmarkId::new("binaryheap", n), |b| b.iter(&mut op));
        let mut op = peer(n);
        group.bench_function(BenchmarkId::new("peer", n), |b| b.iter(&mut op));
    }
    group.finish();
}

criterion_group!(benches, engine_hold);
criterion_main!(benches);
