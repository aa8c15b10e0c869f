//! Sweep throughput: whole simulated runs per second on one core, for the reference scenario
//! (silent cut, default 60/180 s timers, 15 simulated minutes) and its BFD 300 ms × 3
//! variant (the library's `bfd` scenario). Each iteration is one run with a new seed, as
//! `holdtime sweep` does on each worker: the scenario's start-up, which every seed shares, is
//! simulated once (`scenarios::Prepared::new`, outside the timed loop, as a sweep worker does
//! it once per grid point) and each run forks from it (`Prepared::run`), from the fork to the
//! end of the run, report included. `sweep/reference-from-start` times `scenarios::run`, which
//! simulates the start-up again for every run (what `holdtime run --seed` does), for the ratio
//! in the same run.
//!
//! Ids: `sweep/reference`, `sweep/reference-from-start`, `sweep/bfd`; throughput in runs (one element = one run).
//!
//! Run: `cargo bench -p bench --bench sweep -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scenarios::sweep::run_seed;

/// The allocator the `holdtime` binary ships with (`scenarios/src/bin/holdtime.rs`), so that
/// runs per second here are what `holdtime sweep` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("sweep");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    for (id, name) in [("reference", "reference"), ("bfd", "bfd")] {
        let scenario = match scenarios::load(name) {
            Ok(l) => l.scenario,
            Err(e) => panic!("library scenario {name}: {e}"),
        };
        let prepared = match scenarios::Prepared::new(&scenario) {
            Ok(p) => p,
            Err(e) => panic!("library scenario {name}: {e}"),
        };
        let mut r = 0u64;
        g.bench_function(id, |b| {
            b.iter(|| {
                r += 1;
                black_box(prepared.run(run_seed(1, r)).map(|rep| rep.flaps.len()))
            });
        });
        if id == "reference" {
            g.bench_function("reference-from-start", |b| {
                b.iter(|| {
                    r += 1;
                    black_box(
                        scenarios::run(&scenario, run_seed(1, r), None).map(|rep| rep.flaps.len()),
                    )
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
