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
        metric: None,
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

/// `--metric detection.ce1`: the candidates are budgeted and ranked by ce1's detection p99,
/// not by the worst direction's outage, and the columns say so. With BFD ce1 detects in under
/// a second; with 180/60 s timers it waits for its hold timer; the gateway's 60 s programming,
/// which dominates the outage, does not enter.
#[test]
fn advise_ranks_by_the_metric_it_is_given() {
    let bfd = Candidate {
        bfd: Some(Duration::from_millis(300)),
        ..candidate(180, 60, TcpPreset::Linux)
    };
    let default = candidate(180, 60, TcpPreset::Linux);
    let spec = |metric: Option<&str>| AdviseSpec {
        source: "reference".to_owned(),
        candidates: vec![default.clone(), bfd.clone()],
        loss: LossSpec {
            loss: 0.01,
            burst: None,
        },
        metric: metric.map(str::to_owned),
        max_outage: Duration::from_secs(5),
        max_false_per_year: 1e12,
        runs: 4,
        healthy_runs: 1,
        horizon: Duration::from_secs(60),
        seed: 1,
    };
    let by_ce1 = spec(Some("detection.ce1"));
    let ranked = assess(&by_ce1, Exec::new(2)).expect("the advisor runs");
    let (_, b) = find(&ranked, &bfd);
    let (_, d) = find(&ranked, &default);
    // BFD 300 ms x 3: ce1 detects within (0.675 s, 0.9 s] of the cut (jitter 75-100 %).
    assert!(b.outage_p99_us <= 900_000 + 1_000, "{}", b.outage_p99_us);
    assert_eq!(b.missed, 0, "within the 5 s budget");
    // 180/60 s: ce1 waits for its hold timer, (120 s, 180 s].
    assert!(d.outage_p99_us > 120_000_000, "{}", d.outage_p99_us);
    assert_eq!(d.missed, 1, "over the 5 s budget");
    let text = scenarios::sweep::advise::render(&by_ce1, &ranked);
    assert!(text.contains("budgets: detection.ce1 p99 <= 5s"), "{text}");
    assert!(text.contains("detection.ce1 p99"), "{text}");
    let json = scenarios::sweep::advise::to_json(&by_ce1, &ranked);
    assert!(json.contains("\"metric\": \"detection.ce1\""), "{json}");
    // By the outage (the default), BFD still waits for the gateway's 60 s programming.
    let ranked = assess(&spec(None), Exec::new(2)).expect("the advisor runs");
    let (_, b) = find(&ranked, &bfd);
    assert!(b.outage_p99_us > 60_000_000, "{}", b.outage_p99_us);
}
