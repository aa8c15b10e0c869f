//! Timer behaviour per profile over the two-speaker harness: keepalive cadence and jitter,
//! hold expiry after a silent stop (NOTIFICATION 4/0), ConnectRetry, IdleHold back-off.

mod common;

use bgp::fsm::profile::{HoldExpiry, Jitter, Profile};
use bgp::fsm::testing::Side;
use bgp::fsm::{Command, SessionEvent, State, Timer};
use common::*;
use sim_core::time::{Duration, Instant};

/// A pair Established with hold time 90 s on both sides and the keepalive the profile derives.
fn established_90(profile: Profile, seed: u64) -> bgp::fsm::testing::Pair {
    let mut a = cfg_a(profile);
    a.hold_time = Some(Duration::from_secs(90));
    a.keepalive = None;
    let mut b = cfg_b(profile);
    b.hold_time = Some(Duration::from_secs(90));
    b.keepalive = None;
    established(a, b, seed)
}

/// Keepalive gaps of A over ten minutes after establishment, for hold 90 s.
fn keepalive_gaps(profile: Profile, seed: u64) -> (Duration, Vec<Duration>) {
    let mut p = established_90(profile, seed);
    let from = p.now;
    p.drive_for(Duration::from_secs(600));
    let k =
        p.a.session
            .negotiated()
            .map(|n| n.keepalive)
            .unwrap_or_default();
    let times = keepalive_times(&p.a, from);
    (k, times.windows(2).map(|w| w[1] - w[0]).collect())
}

#[test]
fn keepalive_cadence_follows_each_profiles_jitter() {
    for profile in Profile::all() {
        let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
        for seed in 0..40 {
            let (k, gaps) = keepalive_gaps(*profile, seed);
            assert_eq!(k, Duration::from_secs(30), "{}", profile.name);
            assert!(
                gaps.len() >= 19,
                "{}: {} keepalives",
                profile.name,
                gaps.len()
            );
            for g in gaps {
                assert!(
                    g >= profile.keepalive_jitter.lower_bound(k)
                        && g <= profile.keepalive_jitter.upper_bound(k),
                    "{} seed {seed}: gap {g}",
                    profile.name
                );
                lo = lo.min(g);
                hi = hi.max(g);
            }
        }
        if profile.keepalive_jitter == Jitter::NONE {
            assert_eq!((lo, hi), (Duration::from_secs(30), Duration::from_secs(30)));
        } else {
            // 0.75–1.0 of 30 s: the draws reach near both ends of [22.5 s, 30 s].
            assert!(
                lo < Duration::from_millis(23_000),
                "{}: min {lo}",
                profile.name
            );
            assert!(
                hi > Duration::from_millis(29_500),
                "{}: max {hi}",
                profile.name
            );
        }
    }
}

/// Keepalive gaps of A over a minute with hold 3 s, so the nominal keepalive is 1 s.
fn keepalive_gaps_at_one_second(profile: Profile, seed: u64) -> Vec<Duration> {
    let mut a = cfg_a(profile);
    a.hold_time = Some(Duration::from_secs(3));
    a.keepalive = None;
    let mut b = cfg_b(profile);
    b.hold_time = Some(Duration::from_secs(3));
    b.keepalive = None;
    let mut p = established(a, b, seed);
    assert_eq!(
        p.a.session.negotiated().map(|n| n.keepalive),
        Some(Duration::from_secs(1)),
        "{}",
        profile.name
    );
    let from = p.now;
    p.drive_for(Duration::from_secs(60));
    assert_eq!(state(&p.a), State::Established, "{}", profile.name);
    let times = keepalive_times(&p.a, from);
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

/// The keepalive floor is the profile's: at K = 1 s BIRD's `bgp_start_timer` jitter runs
/// below a second (0.75–1.0 s), `rfc4271` keeps §4.4's one-per-second after §10's jitter
/// (exactly 1 s), and FRR does not jitter (exactly 1 s).
#[test]
fn keepalive_intervals_at_one_second_follow_each_profiles_floor() {
    let ms = Duration::from_millis;
    for (profile, lo_want, hi_want) in [
        (Profile::BIRD, ms(750), ms(1000)),
        (Profile::RFC4271, ms(1000), ms(1000)),
        (Profile::FRR, ms(1000), ms(1000)),
    ] {
        let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
        let mut n = 0_usize;
        for seed in 0..20 {
            let gaps = keepalive_gaps_at_one_second(profile, seed);
            assert!(gaps.len() >= 55, "{}: {} gaps", profile.name, gaps.len());
            for g in gaps {
                assert!(
                    g >= lo_want && g <= hi_want,
                    "{} seed {seed}: gap {g} outside [{lo_want}, {hi_want}]",
                    profile.name
                );
                lo = lo.min(g);
                hi = hi.max(g);
                n += 1;
            }
        }
        println!(
            "{}: {n} keepalive gaps at K = 1 s in [{lo}, {hi}]",
            profile.name
        );
        if profile.name == "bird" {
            // Uniform over 250 ms: well over a thousand draws reach near both ends.
            assert!(lo < ms(760), "bird min {lo}");
            assert!(hi > ms(990), "bird max {hi}");
        }
    }
}

/// Establishes with hold 90 s, cuts the link silently, returns (detection delay after the last
/// message A received, NOTIFICATION A sent).
fn silent_cut(profile: Profile, seed: u64) -> (Duration, (u8, u8)) {
    let mut a = cfg_a(profile);
    a.hold_time = Some(Duration::from_secs(90));
    let mut b = cfg_b(profile);
    b.hold_time = Some(Duration::from_secs(90));
    let mut p = established(a, b, seed);
    // Let a few keepalives flow, then cut at a seed-dependent phase.
    p.drive_for(Duration::from_secs(60) + Duration::from_millis(seed * 997 % 30_000));
    let cut = p.now;
    p.link_up = false;
    assert!(
        p.drive_until_pred(Duration::from_secs(200), |p| p.a.session.state()
            == State::Idle)
    );
    let expired =
        p.a.events
            .iter()
            .find_map(|(t, e)| (*e == SessionEvent::HoldTimerExpired).then_some(*t))
            .expect("hold timer expired");
    let last_rx =
        p.b.written
            .iter()
            .map(|(t, _)| *t + p.latency)
            .filter(|t| *t <= cut)
            .max()
            .expect("B wrote before the cut");
    let sent = sent_notifications(&p.a);
    let last = sent.last().map(|(_, n)| code(n)).unwrap_or_default();
    (expired - last_rx, last)
}

#[test]
fn silent_stop_fires_hold_timer_at_the_profiles_time_with_4_0() {
    let hold = Duration::from_secs(90);
    for profile in Profile::all() {
        let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
        for seed in 0..40 {
            let (d, n) = silent_cut(*profile, seed);
            assert_eq!(n, (4, 0), "{}", profile.name);
            assert!(
                d >= profile.hold_jitter.lower_bound(hold)
                    && d <= profile.hold_jitter.upper_bound(hold),
                "{} seed {seed}: detected after {d}",
                profile.name
            );
            lo = lo.min(d);
            hi = hi.max(d);
        }
        if profile.name == "bird" {
            // BIRD jitters the hold timer: detection spreads over [67.5 s, 90 s].
            assert!(lo < Duration::from_secs(72), "bird min {lo}");
            assert!(hi > Duration::from_secs(85), "bird max {hi}");
        } else {
            assert_eq!((lo, hi), (hold, hold), "{}", profile.name);
        }
    }
}

#[test]
fn frozen_peer_is_detected_by_hold_timer() {
    let mut p = established(cfg_a(Profile::FRR), cfg_b(Profile::FRR), 3);
    p.drive_for(Duration::from_secs(10));
    p.b.frozen = true;
    let t = p.now;
    assert!(
        p.drive_until_pred(Duration::from_secs(200), |p| p.a.session.state()
            == State::Idle)
    );
    let d = p.now - t;
    // FRR: hold 180 s, keepalive 60 s, no jitter: detected within (120 s, 180 s].
    assert!(
        d > Duration::from_secs(120) && d <= Duration::from_secs(180),
        "{d}"
    );
    assert!(is_hold_expired(&sent_notifications(&p.a)[0].1));
}

#[test]
fn connect_retry_repeats_while_peer_refuses() {
    for profile in [Profile::RFC4271, Profile::FRR, Profile::BIRD] {
        for seed in 0..10 {
            let mut p = pair(cfg_a(profile), cfg_b(profile), seed);
            // B stays Idle and refuses every connection.
            p.command(Side::A, Command::Start);
            p.drive_for(Duration::from_secs(1200));
            let connects = &p.a.connects;
            assert!(
                connects.len() >= 9,
                "{}: {} attempts",
                profile.name,
                connects.len()
            );
            let cr = profile.connect_retry;
            // A refused attempt sends A to Active and restarts the ConnectRetryTimer (RFC 4271
            // §8.2.2 Active, Event 18); the next attempt starts when it expires.
            let failed = p.a.entered(State::Active);
            for (fail, next) in failed.iter().zip(connects.iter().skip(1)) {
                let gap = *next - *fail;
                assert!(
                    gap >= profile.connect_retry_jitter.lower_bound(cr)
                        && gap <= profile.connect_retry_jitter.upper_bound(cr),
                    "{} seed {seed}: gap {gap}",
                    profile.name
                );
            }
            assert_eq!(state(&p.a), State::Active);
            assert!(p.a.session.connect_retry_counter() >= 9);
        }
    }
}

#[test]
fn bird_waits_connect_delay_before_first_attempt() {
    for seed in 0..20 {
        let mut p = pair(cfg_a(Profile::BIRD), cfg_b(Profile::BIRD), seed);
        p.command(Side::A, Command::Start);
        assert_eq!(state(&p.a), State::Connect);
        assert!(p.a.connects.is_empty());
        p.drive_for(Duration::from_secs(6));
        let first = p.a.connects[0] - Instant::ZERO;
        assert!(
            first >= Duration::from_millis(3_750) && first <= Duration::from_secs(5),
            "{first}"
        );
    }
}

#[test]
fn idle_hold_backs_off_exponentially_after_errors() {
    // B keeps rejecting A's OPEN (wrong AS configured on B), so every attempt of A ends in a
    // NOTIFICATION and A's automatic restarts show the IdleHold back-off. B, without damping,
    // goes Idle after each rejection; the loop restarts it so it keeps listening.
    let mut b = cfg_b(Profile::RFC4271);
    b.remote_as = 64999;
    b.damp_peer_oscillations = false;
    let mut p = pair(cfg_a(Profile::RFC4271), b, 1);
    p.command(Side::B, Command::StartPassive);
    p.command(Side::A, Command::Start);
    let mut restarts = Vec::new();
    let end = p.now + Duration::from_secs(1500);
    while p.now < end {
        if p.b.session.state() == State::Idle {
            p.command(Side::B, Command::StartPassive);
        }
        if !p.step() {
            break;
        }
    }
    for (t, e) in &p.a.events {
        if let SessionEvent::StateChanged {
            from: State::Idle,
            cause,
            ..
        } = e
        {
            restarts.push((*t, *cause));
        }
    }
    let idles = p.a.entered(State::Idle);
    // Delays between going Idle and the automatic restart: 5, 10, 20, 40, 80, 120, 120 s ...
    let delays: Vec<Duration> = restarts
        .iter()
        .skip(1)
        .zip(&idles)
        .map(|((t, _), idle)| *t - *idle)
        .collect();
    let secs: Vec<u64> = delays.iter().map(|d| d.as_secs()).take(7).collect();
    assert_eq!(secs, vec![5, 10, 20, 40, 80, 120, 120]);
    assert!(
        restarts
            .iter()
            .skip(1)
            .all(|(_, c)| *c == bgp::fsm::Event::AutomaticStart)
    );
}

#[test]
fn idle_hold_is_forgotten_after_a_quiet_period() {
    let mut p = established(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 2);
    // Two hold expiries far apart each restart after the initial 5 s.
    for _ in 0..2 {
        p.link_up = false;
        assert!(
            p.drive_until_pred(Duration::from_secs(200), |p| p.a.session.state()
                == State::Idle)
        );
        let idle_at = p.now;
        assert_eq!(
            p.a.session.timers().get(Timer::IdleHold),
            Some(idle_at + Duration::from_secs(5))
        );
        p.link_up = true;
        assert!(p.drive_to_established(Duration::from_secs(600)));
        p.drive_for(Duration::from_secs(400));
    }
}

#[test]
fn no_restart_without_damping() {
    let mut a = cfg_a(Profile::RFC4271);
    a.damp_peer_oscillations = false;
    let mut p = established(a, cfg_b(Profile::RFC4271), 3);
    p.link_up = false;
    p.drive_for(Duration::from_secs(3600));
    assert_eq!(state(&p.a), State::Idle);
    assert!(!p.a.session.timers().is_armed(Timer::IdleHold));
}

#[test]
fn keepalive_and_hold_restart_on_every_message() {
    let mut p = established(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 4);
    // Hours of keepalives and the session stays up: every KEEPALIVE restarts the hold timer.
    p.drive_for(Duration::from_secs(4 * 3600));
    assert_eq!(state(&p.a), State::Established);
    assert_eq!(state(&p.b), State::Established);
    assert!(sent_notifications(&p.a).is_empty());
}

#[test]
fn bird_detection_window_reaches_below_hold_minus_keepalive() {
    // domain.md: BIRD jitters the hold timer too, so a silent failure is detected anywhere in
    // about (0.75·H − K, H] after the cut, not (H − K, H] as with the RFC's timers.
    let hold = Duration::from_secs(90);
    let k = Duration::from_secs(30);
    let mut earliest = Duration::MAX;
    for seed in 0..60 {
        let mut a = cfg_a(Profile::BIRD);
        a.hold_time = Some(hold);
        let mut b = cfg_b(Profile::BIRD);
        b.hold_time = Some(hold);
        let mut p = established(a, b, seed);
        p.drive_for(Duration::from_secs(60) + Duration::from_millis(seed * 7919 % 30_000));
        let cut = p.now;
        p.link_up = false;
        assert!(
            p.drive_until_pred(Duration::from_secs(200), |p| p.a.session.state()
                == State::Idle)
        );
        // The hold timer's expiry; BIRD acts on it (NOTIFICATION, Idle) at its loop's next
        // wake-up, 3 s later for a lone session (`bird_acts_on_a_hold_expiry_...`).
        let expired =
            p.a.events
                .iter()
                .find_map(|(t, e)| (*e == SessionEvent::HoldTimerExpired).then_some(*t))
                .expect("hold timer expired");
        let d = expired - cut;
        assert!(d > hold.mul_f64(0.75) - k && d <= hold, "seed {seed}: {d}");
        assert_eq!(p.now - expired, Duration::from_secs(3), "seed {seed}");
        earliest = earliest.min(d);
    }
    assert!(
        earliest < hold - k,
        "BIRD never detected before H − K: {earliest}"
    );
}

#[test]
fn same_seed_gives_the_same_trace() {
    let run = |seed| {
        let mut p = established(cfg_a(Profile::BIRD), cfg_b(Profile::RFC4271), seed);
        p.drive_for(Duration::from_secs(300));
        p.link_up = false;
        p.drive_for(Duration::from_secs(600));
        (p.a.events, p.b.events, p.a.written, p.b.written)
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9).0, run(10).0);
}

/// The fork of a converged run (`Session::rephase_keepalive`, `Session::rephase_hold`): the
/// drawn age of the last keepalive follows the renewal process's equilibrium law
/// `P(A ≤ a) = a / E[X]` for `a` below the shortest interval, the keepalive then comes one
/// whole jittered interval after it, and the peer's hold timer runs out one hold time after
/// the age it is given.
#[test]
fn rephased_keepalive_is_stationary_and_the_peer_hold_matches() {
    let profile = Profile::RFC4271;
    let p = established_90(profile, 3);
    let now = p.now + Duration::from_secs(5);
    let k = Duration::from_secs(30);
    let (lo, hi) = (
        profile.keepalive_jitter.lower_bound(k),
        profile.keepalive_jitter.upper_bound(k),
    );
    let runs = 4000_u32;
    let (mut under_10, mut over_lo) = (0_u32, 0_u32);
    for key in 0..u64::from(runs) {
        let mut s = p.a.session.clone();
        s.rekey(key);
        let Some(age) = s.rephase_keepalive(now) else {
            panic!("an Established session re-phases");
        };
        let Some(next) = s.timers().get(Timer::Keepalive) else {
            panic!("the keepalive timer is armed");
        };
        assert!(
            next > now,
            "key {key}: keepalive at {next}, not after {now}"
        );
        let interval = (next - now) + age;
        assert!(
            interval >= lo && interval <= hi,
            "key {key}: interval {interval} outside [{lo}, {hi}]"
        );
        under_10 += u32::from(age <= Duration::from_secs(10));
        over_lo += u32::from(age > lo);
        if key < 20 {
            let mut peer = p.b.session.clone();
            peer.rephase_hold(now, now - age);
            assert_eq!(
                peer.timers().get(Timer::Hold),
                Some(now - age + Duration::from_secs(90)),
                "rfc4271 does not jitter the hold timer"
            );
        }
    }
    // E[X] = 26.25 s: P(A ≤ 10 s) = 10 / 26.25 = 0.381 and P(A > 22.5 s) = 1 − 22.5 / 26.25
    // = 0.143; a uniform age over [0, 30 s] would give 0.333 and 0.25. Bounds: ±4.5 σ.
    let f = |n: u32| f64::from(n) / f64::from(runs);
    assert!(
        (f(under_10) - 0.381).abs() < 0.035,
        "P(A ≤ 10 s) = {}",
        f(under_10)
    );
    assert!(
        (f(over_lo) - 0.143).abs() < 0.025,
        "P(A > 22.5 s) = {}",
        f(over_lo)
    );
    // Outside Established nothing is re-phased.
    let mut idle = session(cfg_a(profile), 1);
    assert_eq!(idle.rephase_keepalive(now), None);
    assert_eq!(idle.timers().get(Timer::Keepalive), None);
}

/// One silent failure at keepalive 1 s / hold 3 s: A runs `profile`, B `rfc4271` (a KEEPALIVE
/// every second exactly, as our live speaker sends them in the interop suite) and goes silent
/// at a seed-dependent phase. Returns (hold expiry, NOTIFICATION sent, Idle) after the
/// silence, and the KEEPALIVEs A wrote between its expiry and its NOTIFICATION.
fn silent_at_one_second(profile: Profile, seed: u64) -> (Duration, Duration, Duration, usize) {
    let mut a = cfg_a(profile);
    a.hold_time = Some(Duration::from_secs(3));
    a.keepalive = Some(Duration::from_secs(1));
    let mut b = cfg_b(Profile::RFC4271);
    b.hold_time = Some(Duration::from_secs(3));
    b.keepalive = Some(Duration::from_secs(1));
    let mut p = established(a, b, seed);
    p.drive_for(Duration::from_secs(10) + Duration::from_micros(seed * 7_919 % 1_000_000));
    // The silence falls at a seed-dependent phase of B's keepalives, measured from the
    // moment B stops being heard, as the interop suite measures from our side's silence.
    let cut = p.now;
    p.link_up = false;
    assert!(
        p.drive_until_pred(Duration::from_secs(30), |p| p.a.session.state()
            == State::Idle)
    );
    let idle = p.now;
    let expired =
        p.a.events
            .iter()
            .find_map(|(t, e)| (*e == SessionEvent::HoldTimerExpired).then_some(*t))
            .expect("hold timer expired");
    let (sent, n) = sent_notifications(&p.a)
        .pop()
        .expect("A sent a NOTIFICATION");
    assert!(is_hold_expired(&n), "{n:?}");
    let quiet = keepalive_times(&p.a, expired)
        .iter()
        .filter(|t| **t < sent)
        .count();
    (expired - cut, sent - cut, idle - cut, quiet)
}

/// BIRD 2.0 acts on a hold-timer expiry at its event loop's next wake-up (`HoldExpiry`, see
/// `Profile::BIRD`): a lone session's NOTIFICATION and Idle come 3 s after the expiry, with no
/// KEEPALIVE in between, so its detection of a silent failure at keepalive 1 s / hold 3 s lies
/// in the profile's window (4.25 s, 6 s] (the expiry's (1.25 s, 3 s] plus 3 s), mean near
/// 5.125 s (measured against BIRD 2.0.12: 4.39–5.79 s, mean 5.10 s); the other profiles act
/// at the expiry.
#[test]
fn bird_acts_on_a_hold_expiry_at_its_loops_next_wake_up() {
    let hold = Duration::from_secs(3);
    let k = Duration::from_secs(1);
    assert_eq!(
        Profile::BIRD.hold_expiry,
        HoldExpiry::NextWakeUp {
            cap: Duration::from_secs(3)
        }
    );
    let window = Profile::BIRD.hold_detection_window(hold, k);
    assert_eq!(
        (window.lo, window.hi, window.mean),
        (
            Duration::from_millis(4_250),
            Duration::from_secs(6),
            Duration::from_millis(5_125)
        )
    );
    let expiry = Profile::BIRD.hold_expiry_window(hold, k);
    let runs = 200_u64;
    let mut total = Duration::ZERO;
    for seed in 0..runs {
        let (expired, sent, idle, quiet) = silent_at_one_second(Profile::BIRD, seed);
        assert!(expiry.contains(expired), "seed {seed}: expiry {expired}");
        assert!(window.contains(sent), "seed {seed}: NOTIFICATION {sent}");
        assert_eq!(sent - expired, Duration::from_secs(3), "seed {seed}");
        assert_eq!(idle, sent, "seed {seed}: Idle with the NOTIFICATION");
        assert_eq!(quiet, 0, "seed {seed}: KEEPALIVEs after the expiry");
        total += sent;
    }
    let mean = total / runs;
    println!(
        "bird: NOTIFICATION {mean} after the silence on average; predicted {}",
        window.mean
    );
    // 200 draws of (uniform jitter, uniform phase): the mean is within 100 ms of 5.125 s.
    let off = mean.saturating_sub(window.mean) + window.mean.saturating_sub(mean);
    assert!(off < Duration::from_millis(100), "{mean}");
    for profile in [Profile::RFC4271, Profile::FRR] {
        let window = profile.hold_detection_window(hold, k);
        assert_eq!(
            window,
            profile.hold_expiry_window(hold, k),
            "{}",
            profile.name
        );
        for seed in 0..20 {
            let (expired, sent, _, _) = silent_at_one_second(profile, seed);
            assert_eq!(sent, expired, "{} seed {seed}", profile.name);
            assert!(
                window.contains(sent),
                "{} seed {seed}: {sent}",
                profile.name
            );
        }
    }
}

/// An operator's command (or BFD declaring the path down) wakes BIRD's loop: a session that
/// waits to act on its expired hold timer sends its Hold Timer Expired NOTIFICATION then,
/// and the command finds it in Idle.
#[test]
fn a_command_wakes_a_session_waiting_on_its_hold_expiry() {
    let mut a = cfg_a(Profile::BIRD);
    a.hold_time = Some(Duration::from_secs(3));
    let mut b = cfg_b(Profile::RFC4271);
    b.hold_time = Some(Duration::from_secs(3));
    let mut p = established(a, b, 4);
    p.drive_for(Duration::from_secs(5));
    p.link_up = false;
    assert!(p.drive_until_pred(Duration::from_secs(10), |p| {
        p.a.session.waiting_until().is_some()
    }));
    let expired = p.now;
    assert_eq!(
        p.a.session.waiting_until(),
        Some(expired + Duration::from_secs(3))
    );
    assert_eq!(state(&p.a), State::Established);
    assert!(!p.a.session.may_advertise());
    p.drive_for(Duration::from_millis(1_200));
    p.command(Side::A, Command::BfdDown);
    let sent = sent_notifications(&p.a);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(is_hold_expired(&sent[0].1));
    assert_eq!(sent[0].0, expired + Duration::from_millis(1_200));
    assert_eq!(state(&p.a), State::Idle);
}
