//! Audit throughput: the whole single-failure audit of the reference design (`holdtime audit
//! reference`: every failure of the generated set, 200 seeds per failure) on one worker, in
//! failures × seeds per second per core. One iteration is one whole audit, as
//! `scenarios::sweep::audit::audit` runs it with `--jobs 1`: per failure, the start-up is
//! simulated once and every seed forks from it. `audit/reference-no-prefix-flood` leaves out
//! the prefix-limit breaches, which send 4,001 prefixes each and dominate the cost, to show
//! the rest of the set on its own.
//!
//! Ids: `audit/reference`, `audit/reference-no-prefix-flood`; throughput in failure runs (one
//! element = one failure × one seed).
//!
//! Run: `cargo bench -p bench --bench audit -- --warm-up-time 1 --measurement-time 20`.
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scenarios::spec::FaultKind;
use scenarios::sweep::Exec;
use scenarios::sweep::audit::{AuditSpec, audit, plan};

/// The allocator the `holdtime` binary ships with, so that the figures are `holdtime audit`'s.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seeds per failure.
const SEEDS: u64 = 200;

fn audits(c: &mut Criterion) {
    let mut g = c.benchmark_group("audit");
    g.sample_size(10);
    for (id, skip) in [
        ("reference", Vec::new()),
        ("reference-no-prefix-flood", vec![FaultKind::PrefixFlood]),
    ] {
        let spec = AuditSpec {
            skip,
            ..AuditSpec::new("reference", SEEDS, 1)
        };
        let failures = match plan(&spec) {
            Ok(p) => p.failures.len(),
            Err(e) => panic!("the reference design: {e}"),
        };
        g.throughput(Throughput::Elements(
            u64::try_from(failures).unwrap_or(0) * SEEDS,
        ));
        g.bench_function(id, |b| {
            b.iter(|| black_box(audit(&spec, Exec::new(1)).map(|r| r.failures.len())));
        });
    }
    g.finish();
}

criterion_group!(benches, audits);
criterion_main!(benches);
