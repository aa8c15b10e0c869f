//! The advisor on a lab written in the general form (`lab-bird-pair`: two routers whose
//! timers are their own, 3 s / 9 s in each `[[router]]` table, and a run that ends a minute
//! after its fault). Each candidate's timers must reach those routers, and a slow candidate's
//! outage must not be cut short by the file's end: before, every candidate measured the same
//! 8 s (the routers kept their own timers), and 60/180 s was reported as 1m0.029s (the run's
//! end) instead of the 2-3 minutes its hold timer takes.

use scenarios::spec::TcpPreset;
use scenarios::sweep::Exec;
use scenarios::sweep::advise::{AdviseSpec, Candidate, LossSpec, Method, assess};
use scenarios::sweep::rare::RareSpec;
use sim_core::time::Duration;

fn candidate(keepalive: u64, hold: u64) -> Candidate {
    Candidate {
        hold: Duration::from_secs(hold),
        keepalive: Duration::from_secs(keepalive),
        bfd: None,
        tcp: TcpPreset::Linux,
    }
}

#[test]
fn candidates_reach_routers_with_timers_of_their_own_and_slow_ones_run_to_the_end() {
    let spec = AdviseSpec {
        source: "lab-bird-pair".to_owned(),
        candidates: vec![candidate(3, 10), candidate(10, 30), candidate(60, 180)],
        loss: LossSpec {
            loss: 0.01,
            burst: None,
        },
        metric: None,
        max_outage: Duration::from_secs(240),
        max_false_per_year: 1e12,
        runs: 4,
        method: Method::Direct,
        rare: RareSpec::default(),
        healthy_runs: 1,
        horizon: Duration::from_secs(60),
        seed: 1,
    };
    let a = assess(&spec, Exec::new(2)).expect("the advisor runs");
    let p99: Vec<u64> = a.iter().map(|x| x.outage_p99_ns).collect();
    let secs = |s: u64| s * 1_000_000_000;
    // Each outage is bounded by its candidate's hold time plus BIRD's wake-up (up to 3 s)
    // and the install and re-convergence after it; and grows with the hold time.
    assert!(p99[0] > secs(5) && p99[0] < secs(16), "{p99:?}");
    assert!(p99[1] > secs(15) && p99[1] < secs(36), "{p99:?}");
    assert!(p99[2] > secs(90) && p99[2] < secs(186), "{p99:?}");
    assert!(p99[0] < p99[1] && p99[1] < p99[2], "{p99:?}");
}
