//! Analytic cross-check: with the `rfc4271` profile, 60/180 s timers and a silent failure at
//! a uniformly random phase, the simulated detection times of 10,000 runs follow the closed
//! form of `scenarios::sweep::analytic` (derivation there) by a Kolmogorov–Smirnov test.
//!
//! The scenario is the smallest that has a BGP session to an MSEE: one CE on the `single-ce`
//! topology, probes every 10 s (the data plane is not under test), the cut drawn uniformly
//! between 10 and 40 minutes so that the keepalive phase at the cut is stationary.
//!
//! The second test fixes the cut at 5 minutes, as the reference scenario does: the phase
//! is then random only because the run's seed re-draws every keepalive stream's phase from
//! its stationary law at the fork (`sim::world`), and the same closed form must hold.
//!
//! Each worker forks its runs from one prepared start-up (`scenarios::Prepared`, as `holdtime
//! sweep` does). An optimised build (`cargo test --release`) runs 10,000 seeds per test; a debug
//! build runs the first 4,000 of the same sequence, with the critical value for that sample
//! size, so that `cargo test --workspace` stays quick (both tests about 15 s on two threads of
//! the 2-core machine, 2026-11-23).

use scenarios::sweep::analytic::{detection_cdf, ks_critical, ks_statistic};
use scenarios::sweep::run_seed;

/// The KS scenario: one CE, rfc4271, 60/180 s, a silent cut at `at` (a TOML value), run for
/// `duration`; `phase` names how the cut meets the keepalive phase.
fn scenario(phase: &str, duration: &str, at: &str) -> String {
    format!(
        r#"
name = "KS cross-check: silent cut at {phase}, rfc4271, 60/180 s"
topology = "single-ce"
duration = "{duration}"
seed = 1

[bgp]
profile = "rfc4271"
keepalive = "60s"
hold_time = "180s"

[[fault]]
at = {at}
kind = "silent"
target = "circuit.primary"

[[probe]]
from = "onprem"
to = "vnet"
interval = "10s"
"#
    )
}

const RUNS: u64 = if cfg!(debug_assertions) {
    4_000
} else {
    10_000
};

/// ce1's detection times, in seconds after the cut, of [`RUNS`] seeds of the scenario
/// `text`, on two threads, each forking its runs from one prepared start-up (as `holdtime
/// sweep` does; the same reports as `scenarios::run`, see `tests/tests/library.rs`).
fn detections(text: &str) -> Vec<f64> {
    let loaded = scenarios::load_str("<ks>", text).expect("the KS scenario is valid");
    let scenario = &loaded.scenario;
    let half = RUNS / 2;
    let work = |range: std::ops::Range<u64>| {
        let prepared = scenarios::Prepared::new(scenario).expect("start-up runs");
        range
            .map(|r| {
                let report = prepared.run(run_seed(1, r)).expect("runs");
                let d = report
                    .detections
                    .iter()
                    .find(|d| d.router == "ce1")
                    .expect("ce1 detects the cut");
                #[allow(clippy::cast_precision_loss, reason = "nanoseconds below 2^52")]
                let s = d.after_fault.expect("after the cut").as_nanos() as f64 / 1e9;
                s
            })
            .collect::<Vec<f64>>()
    };
    std::thread::scope(|s| {
        let a = s.spawn(|| work(0..half));
        let mut out = work(half..RUNS);
        out.extend(a.join().expect("worker"));
        out
    })
}

/// The detection times `d` follow the closed form for 180/60 s and jitter [0.75, 1] by a KS
/// test at the 0.1 % level, and the test has power: the naive "uniform over [H − K, H]" model
/// is rejected.
fn assert_closed_form(d: &[f64]) {
    assert_eq!(d.len() as u64, RUNS);
    assert!(
        d.iter().all(|x| (119.9..=180.1).contains(x)),
        "outside [120, 180] s"
    );
    let crit = ks_critical(0.001, d.len());
    let stat = ks_statistic(d, |x| detection_cdf(180.0, 60.0, 0.75, 1.0, x));
    assert!(stat < crit, "KS statistic {stat:.4} >= critical {crit:.4}");
    let naive = ks_statistic(d, |x| ((x - 120.0) / 60.0).clamp(0.0, 1.0));
    assert!(naive > crit * 2.0, "naive model not rejected: {naive:.4}");
}

#[test]
fn detection_times_match_the_length_biased_closed_form() {
    assert_closed_form(&detections(&scenario(
        "a random phase",
        "44m",
        r#"{ min = "10m", max = "40m" }"#,
    )));
}

#[test]
fn a_fixed_fault_time_sees_a_stationary_phase_after_the_fork() {
    assert_closed_form(&detections(&scenario("a fixed time", "9m", r#""5m""#)));
}
