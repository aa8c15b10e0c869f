//! Rare false resets: the wall time of one rare-event estimate (a trunk branched at every
//! delivery, `scenarios::sweep::rare`) of the false-reset rate of the reference CE–MSEE
//! session (keepalive 3 s, hold 10 s, RFC 6298 TCP) at 1 % independent loss, to a 95 %
//! relative half-width of 30 % (`holdtime advise --method is`),
//! against the direct simulation's time to reach the same half-width, extrapolated from the
//! wall time of one simulated hour of the same healthy link: a Poisson count needs
//! `k = (1.96 / 0.3)² ≈ 43` resets for a 30 % half-width, so `43 / rate` of up time. Both are
//! measured in the same run, and the speed-up is printed at the end.
//!
//! Ids: `rare/is-3-10-rfc6298-1pct` (one estimate), `rare/direct-1h` (one simulated hour).
//!
//! Run: `cargo bench -p bench --bench rare -- --warm-up-time 1 --measurement-time 5`.
//! When written (2-core machine shared with other work, load average 2.6), with the
//! roulette on branches: one estimate 0.219 s, 61.5/year ±30 % from 1900 deliveries; direct
//! 24.6 ms per simulated hour, 150 s for the same width: 683 times faster. (Before the
//! roulette, load 2.1: 0.392 s for ±21 % from 2000 deliveries, direct 9.4 ms per hour, 145
//! times; at 3/10 s the roulette buys little, its gain is on the long holds.)
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::cell::Cell;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scenarios::spec::TcpPreset;
use scenarios::sweep::advise::{Candidate, LossSpec, healthy};
use scenarios::sweep::rare::{RareSpec, branching};
use scenarios::sweep::{parse_doc, run_seed, variant};
use sim_core::time::Duration;

/// The allocator the `holdtime` binary ships with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(clippy::disallowed_methods, reason = "a bench measures wall time")]
fn now() -> std::time::Instant {
    std::time::Instant::now()
}

fn rare(c: &mut Criterion) {
    let (name, text) = scenarios::source_text("reference").expect("the reference scenario");
    let doc = parse_doc(&name, &text).expect("the reference scenario parses");
    let cand = Candidate {
        hold: Duration::from_secs(10),
        keepalive: Duration::from_secs(3),
        bfd: None,
        tcp: TcpPreset::Rfc6298,
    };
    let loss = LossSpec {
        loss: 0.01,
        burst: None,
    };
    let make = |horizon| {
        variant("healthy", &healthy(&doc, loss, horizon), &cand.point())
            .expect("the healthy variant is valid")
    };
    let is_sc = make(Duration::from_secs(7 * 86_400));
    let direct_sc = make(Duration::from_secs(3600));
    let spec = RareSpec {
        target: 0.3,
        max_blocks: 20_000,
        ..RareSpec::default()
    };
    let (est, _) =
        branching(&is_sc, "circuit.primary", cand.detection(), &spec).expect("the estimate runs");
    let mut g = c.benchmark_group("rare");
    g.sample_size(10);
    let is_time = Cell::new((0u64, std::time::Duration::ZERO));
    g.bench_function("is-3-10-rfc6298-1pct", |b| {
        b.iter_custom(|iters| {
            let t = now();
            for _ in 0..iters {
                black_box(branching(&is_sc, "circuit.primary", cand.detection(), &spec).ok());
            }
            let e = t.elapsed();
            let (n, d) = is_time.get();
            is_time.set((n + iters, d + e));
            e
        });
    });
    let prepared = scenarios::Prepared::new(&direct_sc).expect("the healthy run builds");
    let direct_time = Cell::new((0u64, std::time::Duration::ZERO));
    let mut r = 0u64;
    g.bench_function("direct-1h", |b| {
        b.iter_custom(|iters| {
            let t = now();
            for _ in 0..iters {
                r += 1;
                black_box(prepared.run(run_seed(1, r)).map(|rep| rep.flaps.len()).ok());
            }
            let e = t.elapsed();
            let (n, d) = direct_time.get();
            direct_time.set((n + iters, d + e));
            e
        });
    });
    g.finish();
    let mean = |(n, d): (u64, std::time::Duration)| {
        #[allow(clippy::cast_precision_loss, reason = "iteration counts")]
        let x = d.as_secs_f64() / n.max(1) as f64;
        x
    };
    let is_s = mean(is_time.get());
    let hour_s = mean(direct_time.get());
    let k = (1.96_f64 / 0.3).powi(2);
    let hours = k / (est.per_year / (365.25 * 24.0));
    let direct_s = hours * hour_s;
    println!(
        "rare: estimate {:.3e}/year [{:.3e}, {:.3e}] (+/-{:.0} %, {} deliveries branched) in {is_s:.3} s; \
         direct: {hour_s:.4} s per simulated hour, {hours:.3e} hours for {k:.0} resets = {direct_s:.3e} s; \
         speed-up {:.3e}",
        est.per_year,
        est.lower,
        est.upper.unwrap_or(f64::INFINITY),
        est.rel_half_width.unwrap_or(f64::NAN) * 100.0,
        est.blocks,
        direct_s / is_s
    );
}

criterion_group!(benches, rare);
criterion_main!(benches);
