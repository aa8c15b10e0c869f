//! Sweep throughput: whole simulated runs per second on one core, for the reference scenario
//! (silent cut, default 60/180 s timers, 15 simulated minutes) and its BFD 300 ms × 3
//! variant (the library's `bfd` scenario). Each iteration is one `scenarios::run` with a new
//! seed, as `holdtime sweep` does on each worker.
//!
//! Ids: `sweep/reference`, `sweep/bfd`; throughput in runs (one element = one run).
//!
//! Run: `cargo bench -p bench --bench sweep -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scenarios::sweep::run_seed;

fn sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("sweep");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    for (id, name) in [("reference", "reference"), ("bfd", "bfd")] {
        let scenario = match scenarios::load(name) {
            Ok(l) => l.scenario,
            Err(e) => panic!("library scenario {name}: {e}"),
        };
        let mut r = 0u64;
        g.bench_function(id, |b| {
            b.iter(|| {
                r += 1;
                black_box(
                    scenarios::run(&scenario, run_seed(1, r), None).map(|rep| rep.flaps.len()),
                )
            });
        });
    }
    g.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
