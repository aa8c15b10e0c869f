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
use scenarios::sweep::rare::{
    ADVISE_MAX_BLOCKS, ADVISE_TARGET, ROULETTE, RareSpec, branching, direct,
};
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

/// A healthy single-CE scenario with BFD every `bfd_ms` × 3 (BGP 60/180 s) and independent
/// `loss` on the primary link's segments.
fn healthy_bfd(loss: f64, bfd_ms: u64) -> scenarios::scenario::Scenario {
    let text = format!(
        "name = \"healthy\"\ntopology = \"single-ce\"\nduration = \"7d\"\nseed = 1\n\n\
         [bfd]\nenabled = true\ninterval = \"{bfd_ms}ms\"\nmultiplier = 3\n\n\
         [[link]]\ntarget = \"circuit.primary\"\nloss = {loss}\n"
    );
    scenarios::load_str("healthy", &text)
        .expect("the healthy BFD scenario loads")
        .scenario
}

/// A small estimate: `n` deliveries in 10 batches, whatever the width, the trunk split in
/// two on every rise of a sender's back-off, with the default roulette (so every check of
/// unbiasedness below covers it).
fn small(n: u64, seed: u64) -> RareSpec {
    RareSpec {
        target: 0.0,
        max_blocks: n,
        min_blocks: n,
        batch: n / 10,
        split: 2,
        roulette: ROULETTE,
        seed,
    }
}

/// Loss and TCP preset of the unbiasedness check (hold 10 s, keepalive 3 s). RFC 6298 at
/// 40 % never settles (no instant with every byte acknowledged in 20 minutes), so its third
/// loss is 35 %.
const SETTINGS: [(f64, &str); 6] = [
    (0.2, "rfc6298"),
    (0.3, "rfc6298"),
    (0.35, "rfc6298"),
    (0.2, "linux"),
    (0.3, "linux"),
    (0.4, "linux"),
];

/// Unbiasedness where direct simulation can check it: at losses where a 3/10 s session
/// resets often, the rare-event estimate (600 deliveries) and 4 h of direct simulation agree
/// within their joint interval, for three losses and both TCP presets. Six comparisons, each
/// at z = 2.64 (two-sided 0.05/6, Bonferroni), so the test as a whole fails by chance for at
/// most 5 % of seeds; with these seeds it is deterministic. When written: 20 % RFC 6298
/// 1.02e6 against 1.11e6 direct, 30 % 2.25e6 against 2.28e6, 35 % 2.53e6 against 2.66e6;
/// Linux 20 % 1.05e5 (split in two) against 1.40e5, 30 % 8.09e5 against 7.88e5, 40 % 1.57e6
/// against 1.66e6.
#[test]
fn the_estimate_agrees_with_direct_simulation_where_resets_are_frequent() {
    for (loss, tcp) in SETTINGS {
        let d = direct(&healthy_single_ce(loss, tcp, "2h"), "circuit.primary", 2, 5)
            .expect("direct runs");
        // Split in two where a level is entered with about 36 % (20 % per segment), so
        // that the copies' weights are checked; not split above, where the copies would
        // multiply faster than they die.
        let split = if loss <= 0.2 { 2 } else { 1 };
        let (e, _) = branching(
            &healthy_single_ce(loss, tcp, "7d"),
            "circuit.primary",
            Duration::from_secs(10),
            &RareSpec {
                split,
                ..small(600, 11)
            },
        )
        .expect("the estimate runs");
        #[allow(clippy::cast_precision_loss, reason = "counts")]
        let se_direct = d.per_year / (d.resets as f64).max(1.0).sqrt();
        let se_est = (e.upper.unwrap_or(f64::INFINITY) - e.lower) / (2.0 * 1.96);
        let gap = (e.per_year - d.per_year).abs();
        let joint = 2.64 * se_est.hypot(se_direct);
        eprintln!(
            "{loss} {tcp}: estimate {:.3e} [{:.3e}, {:.3e}] ({} hits of {}); direct {:.3e} [{:.3e}, {:.3e}] ({} resets); gap {:.3e}, joint {:.3e}",
            e.per_year,
            e.lower,
            e.upper.unwrap_or(f64::INFINITY),
            e.hits,
            e.blocks,
            d.per_year,
            d.ci.0,
            d.ci.1,
            d.resets,
            gap,
            joint
        );
        assert!(
            d.resets >= 20,
            "{loss} {tcp}: too few direct resets to check"
        );
        assert!(
            gap <= joint,
            "{loss} {tcp}: the estimate and direct disagree"
        );
    }
}

/// The deep back-off states checked against direct simulation: keepalive 10 s, hold 30 s
/// under RFC 6298 TCP on `reference` at 10 % loss per segment and direction, where the
/// states with the RTO doubled (a lost keepalive keeps it doubled until a segment sent once
/// is acknowledged, RFC 6298 §5.5 and Karn's rule) carry about half the rate and a lost ACK
/// of the delivered segment decides a branch (the estimator conditions on it). The estimate
/// (2000 trunk deliveries) and 96 h of direct simulation agree within z = 1.96 of their
/// joint interval. When written: estimate 3.10e4 [2.44e4, 3.75e4] a year (the backed-off
/// levels carry half of it), direct 3.07e4 [2.75e4, 3.42e4] (331 resets). Deciding the way
/// back at a raised loss instead of conditioning on the ACK (tried, rejected) read 1.99e4
/// against 3.16e4 [3.02e4, 3.31e4] from 495 h of direct simulation.
#[test]
fn deep_back_off_states_agree_with_direct_simulation() {
    let (name, text) = scenarios::source_text("reference").expect("the reference scenario");
    let doc = scenarios::sweep::parse_doc(&name, &text).expect("the reference parses");
    let cand = candidate(30, 10, TcpPreset::Rfc6298);
    let make = |horizon| {
        scenarios::sweep::variant(
            "healthy",
            &scenarios::sweep::advise::healthy(
                &doc,
                LossSpec {
                    loss: 0.1,
                    burst: None,
                },
                horizon,
            ),
            &cand.point(),
        )
        .expect("the healthy variant is valid")
    };
    let d = direct(
        &make(Duration::from_secs(2 * 86_400)),
        "circuit.primary",
        2,
        5,
    )
    .expect("direct runs");
    let (e, _) = branching(
        &make(Duration::from_secs(7 * 86_400)),
        "circuit.primary",
        cand.detection(),
        &RareSpec {
            split: 0,
            ..small(2000, 1)
        },
    )
    .expect("the estimate runs");
    #[allow(clippy::cast_precision_loss, reason = "counts")]
    let se_direct = d.per_year / (d.resets as f64).max(1.0).sqrt();
    let se_est = (e.upper.unwrap_or(f64::INFINITY) - e.lower) / (2.0 * 1.96);
    let gap = (e.per_year - d.per_year).abs();
    eprintln!(
        "estimate {:.3e} [{:.3e}, {:.3e}]; direct {:.3e} [{:.3e}, {:.3e}] ({} resets); levels {:?}",
        e.per_year,
        e.lower,
        e.upper.unwrap_or(f64::INFINITY),
        d.per_year,
        d.ci.0,
        d.ci.1,
        d.resets,
        e.levels
    );
    assert!(d.resets >= 100, "too few direct resets to check");
    assert!(
        e.levels.iter().skip(1).map(|l| l.2).sum::<f64>() > 0.2 * e.per_year,
        "the backed-off states should carry a visible share"
    );
    assert!(
        gap <= 1.96 * se_est.hypot(se_direct),
        "the estimate and direct disagree"
    );
}

/// The exact rate where the schedule is simple: BFD every 750 ms × 3 (each end jitters its
/// interval uniformly to 75–100 %, RFC 5880 §6.8.7, mean 656.25 ms; the detection time is
/// 2.25 s, so exactly the three packets after a delivered one fit in it). A packet crosses
/// the circuit's two lossy segments, lost with `P = 1 − (1 − p)²`; a reset is a delivered
/// packet followed by three lost, in either direction: `2·(1 − P)·P³ / 0.65625 s` per
/// second of up time. At 1 % that is 742.8 a year (and 8.04e4 at 5 %); the estimate must
/// hold it within its interval.
#[test]
fn bfd_agrees_with_the_exact_rate() {
    for (loss, seed) in [(0.01, 1), (0.05, 2)] {
        let big_p: f64 = 1.0 - (1.0 - loss) * (1.0 - loss);
        let exact = 2.0 * (1.0 - big_p) * big_p.powi(3) / 0.656_25 * 365.25 * 86_400.0;
        let (e, _) = branching(
            &healthy_bfd(loss, 750),
            "circuit.primary",
            Duration::from_millis(2250),
            &small(1000, seed),
        )
        .expect("the estimate runs");
        eprintln!(
            "{loss}: estimate {:.1} [{:.1}, {:.1}], exact {exact:.1}",
            e.per_year,
            e.lower,
            e.upper.unwrap_or(f64::INFINITY)
        );
        assert!(
            e.lower <= exact && exact <= e.upper.unwrap_or(0.0),
            "{loss}: the exact rate {exact} is outside the interval"
        );
        // The roulette's skipped branches widen it (±13 % at 1 % loss, where every branch
        // ran before and it was ±1 %): what it buys is time, not precision.
        assert!(e.rel_half_width.is_some_and(|r| r < 0.2), "{e:?}");
    }
}

/// Coverage of the 95 % interval: 40 independent small estimates (400 deliveries each,
/// seeds 100..140) of BFD 750 ms × 3 at 1 % loss, each interval against the exact rate
/// above. At a true coverage of 95 % the count covering is Binomial(40, 0.95): 34 or
/// more with probability 0.99, so the test asks for at least 34 (a stated tolerance, not
/// a timing). When written: 38 of 40.
#[test]
fn the_interval_covers_the_exact_rate_about_95_percent_of_the_time() {
    let big_p: f64 = 1.0 - 0.99_f64 * 0.99;
    let exact = 2.0 * (1.0 - big_p) * big_p.powi(3) / 0.656_25 * 365.25 * 86_400.0;
    let sc = healthy_bfd(0.01, 750);
    let mut covered = 0;
    for seed in 100..140 {
        let (e, _) = branching(
            &sc,
            "circuit.primary",
            Duration::from_millis(2250),
            &small(400, seed),
        )
        .expect("the estimate runs");
        covered += u32::from(e.lower <= exact && exact <= e.upper.unwrap_or(0.0));
    }
    eprintln!("{covered} of 40 intervals cover the exact {exact:.1}");
    assert!(covered >= 34, "only {covered} of 40 intervals cover");
}

/// At 1 % loss the `is` method gives every candidate a finite interval, ranks them, marks
/// none as meeting the budget unless its upper bound is within it and its estimate has no
/// warning, and the same seed gives the same bytes whatever the number of threads. (Two
/// candidates of the default list and a small block budget; the next test runs all sixteen
/// at the default budget.)
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
            max_blocks: 400,
            min_blocks: 400,
            batch: 40,
            split: 0,
            roulette: ROULETTE,
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
        let e = a.rare.as_ref().expect("a rare-event estimate");
        eprintln!("{}: {e:?}", a.candidate.label());
        assert!(a.per_year_ci.1.is_finite(), "{}", a.candidate.label());
        assert!(a.per_year_ci.0 <= a.per_year && a.per_year <= a.per_year_ci.1);
        if a.verdict == Verdict::Meets {
            assert!(a.per_year_ci.1 <= 1.0 && e.warnings.is_empty());
        }
        // An interval wider than the target is warned, so never counted as meeting a budget.
        if e.rel_half_width.is_none_or(|r| r > spec.rare.target) {
            assert!(!e.warnings.is_empty(), "{e:?}");
            assert_ne!(a.verdict, Verdict::Meets);
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

/// Issue 19: the default advise at 1 % loss (`holdtime advise reference --loss 0.01`, the
/// sixteen default candidates and the default estimate: a 30 % target, at most 30,000 trunk
/// deliveries) gives every candidate a false-reset interval within 30 % of its estimate,
/// with no warning, so every verdict is `yes` or `no`, never `not shown`; ranks them (RFC
/// 6298 above Linux TCP for the same timers, longer holds lower); and gives the same
/// estimates with one thread and two. One failure run per candidate: the failure part is not what is
/// checked. Before the roulette (see `sweep::rare`), RFC 6298 20/60, 30/90 and 60/180 s
/// stopped at ±42-43 % after 4,000 deliveries, and 30,000 would have taken over a minute
/// of CPU.
#[test]
fn at_one_percent_loss_the_default_advise_narrows_every_candidate_within_30_percent() {
    let spec = AdviseSpec {
        source: "reference".to_owned(),
        candidates: scenarios::sweep::advise::default_candidates(),
        loss: LossSpec {
            loss: 0.01,
            burst: None,
        },
        metric: None,
        max_outage: Duration::from_secs(240),
        max_false_per_year: 1.0,
        runs: 1,
        method: Method::Is,
        rare: RareSpec {
            target: ADVISE_TARGET,
            max_blocks: ADVISE_MAX_BLOCKS,
            ..RareSpec::default()
        },
        healthy_runs: 1,
        horizon: Duration::from_secs(3600),
        seed: 1,
    };
    let one = assess(&spec, Exec::new(2)).expect("the advisor runs");
    assert_eq!(one.len(), 16);
    for a in &one {
        let label = a.candidate.label();
        let e = a.rare.as_ref().expect("a rare-event estimate");
        eprintln!(
            "{label}: {:.3e} ±{:.0} % ({} deliveries, {} branches with a reset)",
            e.per_year,
            e.rel_half_width.unwrap_or(f64::NAN) * 100.0,
            e.blocks,
            e.hits
        );
        assert!(e.rel_half_width.is_some_and(|r| r <= 0.3), "{label}: {e:?}");
        assert!(e.warnings.is_empty(), "{label}: {:?}", e.warnings);
        assert!(
            a.per_year_ci.1.is_finite() && a.per_year_ci.0 > 0.0,
            "{label}"
        );
        assert!(
            !matches!(a.verdict, Verdict::NotShown(_)),
            "{label}: {:?}",
            a.verdict
        );
    }
    for w in one.windows(2) {
        assert!(w[0].missed <= w[1].missed);
    }
    let rate = |hold, keepalive, tcp| find(&one, &candidate(hold, keepalive, tcp)).1.per_year;
    for (hold, keepalive) in [(10, 3), (15, 5), (30, 10), (60, 20), (90, 30), (180, 60)] {
        assert!(
            rate(hold, keepalive, TcpPreset::Linux) < rate(hold, keepalive, TcpPreset::Rfc6298),
            "{hold}/{keepalive}"
        );
    }
    let rfc: Vec<f64> = [(10, 3), (15, 5), (30, 10), (60, 20), (90, 30), (180, 60)]
        .iter()
        .map(|&(h, k)| rate(h, k, TcpPreset::Rfc6298))
        .collect();
    assert!(rfc.windows(2).all(|w| w[1] < w[0]), "{rfc:?}");
    // Determinism: every candidate's estimate depends on its own settings and the seed only,
    // so the candidates that are quick to estimate, run again on one thread (the full list
    // ran on two), give the same estimates, bit for bit.
    let quick = AdviseSpec {
        candidates: spec
            .candidates
            .iter()
            .filter(|c| c.tcp == TcpPreset::Linux || c.hold <= Duration::from_secs(15))
            .cloned()
            .collect(),
        ..spec.clone()
    };
    let again = assess(&quick, Exec::new(1)).expect("the advisor runs");
    assert!(again.len() >= 8);
    for a in &again {
        let (_, b) = find(&one, &a.candidate);
        assert_eq!(a.rare, b.rare, "{}", a.candidate.label());
        assert_eq!(a.per_year.to_bits(), b.per_year.to_bits());
    }
}
