//! The timer advisor on the reference scenario: it ranks a dominated configuration below its
//! dominator, and its false-reset rate rises with loss and falls with a lower TCP RTO floor
//! (TCP retransmits a lost keepalive sooner, so fewer bursts outlast the hold time).
//!
//! A heavy 30 % loss runs too (it once panicked the TCP model). The rate counts resets per
//! hour of up time (both ends Established) of the sessions over the lossy link, so it rises
//! monotonically from 3 % through 10 % to 30 %. Counted per hour of simulated time it did not:
//! at 30 % a reset session spends much of the hour getting its connection and OPENs through
//! the loss, with less Established time in which to be reset again.

use scenarios::spec::TcpPreset;
use scenarios::sweep::Exec;
use scenarios::sweep::advise::{AdviseSpec, Assessment, Candidate, LossSpec, assess};
use sim_core::time::Duration;

fn candidate(hold: u64, keepalive: u64, tcp: TcpPreset) -> Candidate {
    Candidate {
        hold: Duration::from_secs(hold),
        keepalive: Duration::from_secs(keepalive),
        bfd: None,
        tcp,
    }
}

fn advise(loss: f64, candidates: Vec<Candidate>) -> Vec<Assessment> {
    let spec = AdviseSpec {
        source: "reference".to_owned(),
        candidates,
        loss: LossSpec { loss, burst: None },
        max_outage: Duration::from_secs(240),
        max_false_per_year: 1.0,
        runs: 4,
        healthy_runs: 2,
        horizon: Duration::from_secs(3600),
        seed: 1,
    };
    assess(&spec, Exec::new(2)).expect("the advisor runs")
}

fn find<'a>(list: &'a [Assessment], c: &Candidate) -> (usize, &'a Assessment) {
    list.iter()
        .enumerate()
        .find(|(_, a)| &a.candidate == c)
        .expect("candidate assessed")
}

#[test]
fn false_resets_rise_with_loss_fall_with_the_tcp_floor_and_rank_dominated_lower() {
    let rfc = candidate(10, 3, TcpPreset::Rfc6298);
    let linux = candidate(10, 3, TcpPreset::Linux);
    let slow = candidate(180, 60, TcpPreset::Rfc6298);
    let lossy = advise(0.1, vec![slow.clone(), rfc.clone(), linux.clone()]);
    let light = advise(0.03, vec![rfc.clone()]);
    let heavy = advise(0.3, vec![rfc.clone()]);

    let (rank_rfc, a_rfc) = find(&lossy, &rfc);
    let (rank_linux, a_linux) = find(&lossy, &linux);
    let (_, a_light) = find(&light, &rfc);
    let (_, a_heavy) = find(&heavy, &rfc);
    assert!(a_rfc.false_resets > 0, "10 % loss resets a 10 s session");
    assert!(
        a_rfc.per_year > a_light.per_year,
        "rate must rise with loss: {} at 10 % vs {} at 3 %",
        a_rfc.per_year,
        a_light.per_year
    );
    assert!(
        a_heavy.per_year > a_rfc.per_year,
        "rate must rise with loss: {} at 30 % vs {} at 10 %",
        a_heavy.per_year,
        a_rfc.per_year
    );
    // The exposure is up time: at 30 % the session is down (reconnecting) for a visible part
    // of the horizon, at 3 % it is up nearly all the time.
    assert!(
        a_heavy.up_ns < a_light.up_ns,
        "up time must shrink with heavy loss: {} vs {}",
        a_heavy.up_ns,
        a_light.up_ns
    );
    assert!(
        a_heavy.missed >= 1,
        "30 % loss misses the false-reset budget"
    );
    assert!(
        a_linux.per_year < a_rfc.per_year,
        "rate must fall with the 200 ms floor: linux {} vs rfc {}",
        a_linux.per_year,
        a_rfc.per_year
    );
    // Same outage (the TCP floor does not change hold-timer detection), fewer false resets:
    // Linux dominates RFC 6298 here and must rank above it.
    assert_eq!(a_linux.outage_p99_us, a_rfc.outage_p99_us);
    assert!(rank_linux < rank_rfc);

    // 180/60 never resets falsely but its outage is far longer.
    let (_, a_slow) = find(&lossy, &slow);
    assert_eq!(a_slow.false_resets, 0);
    assert!(a_slow.outage_p99_us > a_rfc.outage_p99_us);
}
