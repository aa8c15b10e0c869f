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
use scenarios::sweep::advise::{
    AdviseSpec, Assessment, Candidate, LossSpec, Method, Verdict, assess,
};
use scenarios::sweep::rare::{RareSpec, direct, importance};
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
        method: Method::Direct,
        rare: RareSpec::default(),
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
    assert_eq!(a_linux.outage_p99_ns, a_rfc.outage_p99_ns);
    assert!(rank_linux < rank_rfc);

    // 180/60 never resets falsely but its outage is far longer.
    let (_, a_slow) = find(&lossy, &slow);
    assert_eq!(a_slow.false_resets, 0);
    assert!(a_slow.outage_p99_ns > a_rfc.outage_p99_ns);
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
        method: Method::Direct,
        rare: RareSpec::default(),
        healthy_runs: 1,
        horizon: Duration::from_secs(60),
        seed: 1,
    };
    let by_ce1 = spec(Some("detection.ce1"));
    let ranked = assess(&by_ce1, Exec::new(2)).expect("the advisor runs");
    let (_, b) = find(&ranked, &bfd);
    let (_, d) = find(&ranked, &default);
    // BFD 300 ms x 3: ce1 detects within (0.675 s, 0.9 s] of the cut (jitter 75-100 %).
    assert!(
        b.outage_p99_ns <= 900_000_000 + 1_000_000,
        "{}",
        b.outage_p99_ns
    );
    assert_eq!(b.missed, 0, "within the 5 s budget");
    // 180/60 s: ce1 waits for its hold timer, (120 s, 180 s].
    assert!(d.outage_p99_ns > 120_000_000_000, "{}", d.outage_p99_ns);
    assert_eq!(d.missed, 1, "over the 5 s budget");
    let text = scenarios::sweep::advise::render(&by_ce1, &ranked);
    assert!(text.contains("budgets: detection.ce1 p99 <= 5s"), "{text}");
    assert!(text.contains("detection.ce1 p99"), "{text}");
    let json = scenarios::sweep::advise::to_json(&by_ce1, &ranked);
    assert!(json.contains("\"metric\": \"detection.ce1\""), "{json}");
    // By the outage (the default), BFD still waits for the gateway's 60 s programming.
    let ranked = assess(&spec(None), Exec::new(2)).expect("the advisor runs");
    let (_, b) = find(&ranked, &bfd);
    assert!(b.outage_p99_ns > 60_000_000_000, "{}", b.outage_p99_ns);
}

/// A healthy single-CE scenario (no fault) with keepalive 3 s, hold 10 s, `tcp` and
/// independent `loss` on each direction of the primary link's segments.
fn healthy_single_ce(loss: f64, tcp: &str, duration: &str) -> scenarios::scenario::Scenario {
    let text = format!(
        "name = \"healthy\"\ntopology = \"single-ce\"\nduration = \"{duration}\"\nseed = 1\n\n\
         [bgp]\nkeepalive = \"3s\"\nhold_time = \"10s\"\n\n[tcp]\npreset = \"{tcp}\"\n\n\
         [[link]]\ntarget = \"circuit.primary\"\nloss = {loss}\n"
    );
    scenarios::load_str("healthy", &text)
        .expect("the healthy scenario loads")
        .scenario
}

/// Loss, TCP preset and direct simulation length of the unbiasedness check.
const SETTINGS: [(f64, &str, &str); 4] = [
    (0.1, "rfc6298", "1h"),
    (0.2, "rfc6298", "1h"),
    (0.25, "linux", "1h"),
    (0.3, "linux", "1h"),
];

/// Unbiasedness where direct simulation can check it: at losses where a 3/10 s session
/// resets often, the importance-sampling estimate and long direct simulation agree within
/// their joint interval, for four losses and both TCP presets. Four comparisons: each at
/// z = 2.5 (1 − 0.05/4, Bonferroni), so the test as a whole fails by chance at most 5 % of
/// the seeds; with these seeds it is deterministic. (Six settings, 0.1/0.15/0.2 under RFC
/// 6298 and 0.2/0.25/0.3 under Linux, 150 blocks each against 2 h of direct simulation,
/// all agreed when this was written; four keep the debug build's test time down.)
#[test]
fn importance_sampling_agrees_with_direct_simulation_where_resets_are_frequent() {
    let spec = RareSpec {
        target: 0.3,
        max_blocks: 150,
        batch: 50,
        seed: 11,
    };
    for (loss, tcp, hours) in SETTINGS {
        let d = direct(
            &healthy_single_ce(loss, tcp, hours),
            "circuit.primary",
            2,
            5,
        )
        .expect("direct runs");
        let (e, _) = importance(
            &healthy_single_ce(loss, tcp, "7d"),
            "circuit.primary",
            Duration::from_secs(10),
            &spec,
        )
        .expect("importance sampling runs");
        #[allow(clippy::cast_precision_loss, reason = "counts")]
        let se_direct = d.per_year / (d.resets as f64).max(1.0).sqrt();
        let se_is = (e.upper.unwrap_or(f64::INFINITY) - e.lower) / (2.0 * 1.96);
        let gap = (e.per_year - d.per_year).abs();
        let joint = 2.5 * se_is.hypot(se_direct);
        eprintln!(
            "{loss} {tcp}: IS {:.3e} [{:.3e}, {:.3e}] ({} hits/{} blocks, q {:.2}); direct {:.3e} [{:.3e}, {:.3e}] ({} resets); gap {:.3e}, joint {:.3e}",
            e.per_year,
            e.lower,
            e.upper.unwrap_or(f64::INFINITY),
            e.hits,
            e.blocks,
            e.tilt,
            d.per_year,
            d.ci.0,
            d.ci.1,
            d.resets,
            gap,
            joint
        );
        assert!(
            d.resets >= 10,
            "{loss} {tcp}: too few direct resets to check"
        );
        assert!(gap <= joint, "{loss} {tcp}: IS and direct disagree");
    }
}

/// Interval honesty over independent repetitions (other seeds) of a small estimate at a
/// frequent-reset setting: every 95 % interval that misses the direct estimate (long
/// simulation) carries a warning. At 50 blocks per estimate (about 10 with a reset) the
/// normal interval under-covers: 8 of 12 covered when this was written, which is why the
/// estimator warns below 30 blocks with a reset and the advisor never counts a warned
/// estimate as meeting a budget. (Coverage of about 95 % at the default sizes was not
/// measured: it needs far more simulation than a debug test.)
#[test]
fn an_interval_that_misses_the_direct_estimate_carries_a_warning() {
    let (loss, tcp) = (0.1, "rfc6298");
    let d =
        direct(&healthy_single_ce(loss, tcp, "3h"), "circuit.primary", 2, 9).expect("direct runs");
    let sc = healthy_single_ce(loss, tcp, "7d");
    let mut covered = 0;
    let reps = 8u64;
    for rep in 0..reps {
        let spec = RareSpec {
            target: 0.5,
            max_blocks: 50,
            batch: 50,
            seed: 1000 + rep,
        };
        let (e, _) = importance(&sc, "circuit.primary", Duration::from_secs(10), &spec)
            .expect("importance sampling runs");
        let hit = e.lower <= d.per_year && d.per_year <= e.upper.unwrap_or(f64::INFINITY);
        covered += u64::from(hit);
        eprintln!(
            "rep {rep}: [{:.3e}, {:.3e}] vs direct {:.3e}: {hit}; {:?}",
            e.lower,
            e.upper.unwrap_or(f64::INFINITY),
            d.per_year,
            e.warnings
        );
        assert!(
            hit || !e.warnings.is_empty(),
            "rep {rep}: missed without a warning"
        );
    }
    eprintln!("{covered} of {reps} intervals cover the direct estimate");
}

/// At 1 % loss the `is` method gives every candidate a finite interval, ranks them, marks
/// none as meeting the budget unless its upper bound is within it and its estimate has no
/// warning, and the same seed gives the same bytes whatever the number of threads. (Two
/// candidates of the default list and a small block budget keep the debug build fast;
/// `holdtime advise reference --loss 0.01` runs all sixteen.)
#[test]
fn at_one_percent_loss_every_candidate_gets_a_finite_interval_deterministically() {
    let candidates = vec![
        candidate(10, 3, TcpPreset::Rfc6298),
        Candidate {
            bfd: Some(Duration::from_millis(300)),
            ..candidate(180, 60, TcpPreset::Linux)
        },
    ];
    let spec = AdviseSpec {
        source: "reference".to_owned(),
        candidates,
        loss: LossSpec {
            loss: 0.01,
            burst: None,
        },
        metric: None,
        max_outage: Duration::from_secs(240),
        max_false_per_year: 1.0,
        runs: 2,
        method: Method::Is,
        rare: RareSpec {
            target: 0.3,
            max_blocks: 200,
            batch: 100,
            seed: 1,
        },
        healthy_runs: 1,
        horizon: Duration::from_secs(3600),
        seed: 1,
    };
    let one = assess(&spec, Exec::new(1)).expect("the advisor runs");
    let two = assess(&spec, Exec::new(2)).expect("the advisor runs");
    let json = scenarios::sweep::advise::to_json(&spec, &one);
    assert_eq!(json, scenarios::sweep::advise::to_json(&spec, &two));
    for a in &one {
        let e = a.rare.as_ref().expect("an importance-sampling estimate");
        eprintln!("{}: {e:?}", a.candidate.label());
        assert!(a.per_year_ci.1.is_finite(), "{}", a.candidate.label());
        assert!(a.per_year_ci.0 <= a.per_year && a.per_year <= a.per_year_ci.1);
        if a.verdict == Verdict::Meets {
            assert!(a.per_year_ci.1 <= 1.0 && e.warnings.is_empty());
        }
    }
    for w in one.windows(2) {
        assert!(w[0].missed <= w[1].missed);
    }
    let text = scenarios::sweep::advise::render(&spec, &one);
    assert!(text.contains("timers: keepalive/hold"), "{text}");
    assert!(text.contains("3/10 s, tcp rfc6298"), "{text}");
    let back = scenarios::sweep::advise::Advice::from_json(&json).expect("the JSON reads back");
    assert_eq!(back.format, "holdtime.advise/2");
    // Every time in integer nanoseconds, the unit in the key; no duration strings.
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["max_outage_ns"], 240_000_000_000_u64);
    let r = v["ranked"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|r| r["candidate"] == "3/10 s, tcp rfc6298")
                .cloned()
        })
        .expect("the 3/10 s candidate");
    assert_eq!(r["keepalive_ns"], 3_000_000_000_u64);
    assert_eq!(r["hold_ns"], 10_000_000_000_u64);
    assert!(r["bfd_interval_ns"].is_null());
    assert!(
        r["outage_p99_ns"]
            .as_u64()
            .is_some_and(|n| n > 1_000_000_000)
    );
    assert_eq!(r["importance"]["block_ns"], 10_000_000_000_u64);
    for old in ["keepalive", "hold", "bfd", "outage_p99_us", "outage_p50_us"] {
        assert!(r.get(old).is_none(), "{old} in {r}");
    }
    assert!(v.get("max_outage").is_none());
    let bfd = v["ranked"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["tcp"] == "linux").cloned())
        .expect("the BFD candidate");
    assert_eq!(bfd["bfd_interval_ns"], 300_000_000_u64);
    // The estimator's block: the shortest detection time, 3 x 300 ms.
    assert_eq!(bfd["importance"]["block_ns"], 900_000_000_u64);
}
