//! Scenario benchmark: a library scenario end to end (load once, then build the world, run
//! the whole simulated duration with its default probes, and produce the report).
//!
//! Ids: `scenario/reference` (the 15-minute reference: silent cut, 60/180 timers) and
//! `scenario/bfd` (the same network with BFD 300 ms × 3, which adds ~10 BFD packets per
//! second per session). Throughput is reported as elements = simulated seconds, so
//! criterion's "elem/s" *is* the ratio simulated seconds per wall second (the figure
//! of merit: at least 10⁵× real time for the BFD variant).
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn scenario(c: &mut Criterion) {
    let mut group = c.benchmark_group("scenario");
    group.sample_size(10);
    for name in ["reference", "bfd"] {
        let sc = match scenarios::load(name) {
            Ok(l) => l.scenario,
            Err(e) => panic!("library scenario {name}: {e}"),
        };
        group.throughput(Throughput::Elements(sc.duration.as_secs_f64() as u64));
        group.bench_function(name, |b| {
            b.iter(|| match scenarios::run(black_box(&sc), sc.seed, None) {
                Ok(r) => black_box(r),
                Err(e) => panic!("{name}: {e}"),
            });
        });
    }
    group.finish();
}

criterion_group!(benches, scenario);
criterion_main!(benches);
