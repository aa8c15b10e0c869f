use super::*;

const MS: Duration = Duration::from_millis(1);

fn at_ms(ms: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(ms)
}

fn cfg(delay_ms: u64) -> DirectionConfig {
    DirectionConfig {
        delay: MS * delay_ms,
        ..DirectionConfig::default()
    }
}

fn arrival(o: Outcome) -> Option<Instant> {
    match o {
        Outcome::Deliver(d) => Some(d.arrive_at),
        Outcome::Drop(_) => None,
    }
}

#[test]
fn up_link_delivers_after_propagation_delay() {
    let mut l = Link::new("l", Seed(1), &cfg(5), &cfg(7));
    assert_eq!(
        arrival(l.transmit(at_ms(10), Direction::AToB, 100)),
        Some(at_ms(15))
    );
    assert_eq!(
        arrival(l.transmit(at_ms(10), Direction::BToA, 100)),
        Some(at_ms(17))
    );
}

#[test]
fn silent_drops_without_notifying_and_loses_frames_in_flight() {
    let mut l = Link::symmetric("l", Seed(1), &cfg(10));
    let Outcome::Deliver(in_flight) = l.transmit(at_ms(0), Direction::AToB, 60) else {
        panic!("up link must deliver");
    };
    // `set_silent` returns nothing: there is nobody to tell.
    l.set_silent(Direction::AToB, true);
    assert!(
        l.carrier(),
        "silent keeps carrier: endpoints see the link up"
    );
    assert_eq!(l.state(Direction::AToB), State::Silent);
    assert_eq!(
        l.state(Direction::BToA),
        State::Up,
        "silence is per direction"
    );
    assert!(!l.survives(Direction::AToB, &in_flight));
    assert_eq!(
        l.transmit(at_ms(1), Direction::AToB, 60),
        Outcome::Drop(DropCause::Silent)
    );
    assert!(arrival(l.transmit(at_ms(1), Direction::BToA, 60)).is_some());
    l.set_silent(Direction::AToB, false);
    assert!(arrival(l.transmit(at_ms(2), Direction::AToB, 60)).is_some());
    assert_eq!(l.stats(Direction::AToB).dropped_silent, 1);
    assert_eq!(l.stats(Direction::AToB).lost_in_flight, 1);
}

#[test]
fn down_notifies_both_ends_at_the_moment_of_failure() {
    let mut l = Link::symmetric("l", Seed(1), &cfg(10));
    let Outcome::Deliver(in_flight) = l.transmit(at_ms(0), Direction::BToA, 60) else {
        panic!("up link must deliver");
    };
    let notes = l.set_down(at_ms(3)).expect("first failure notifies");
    assert_eq!(
        notes,
        [
            CarrierChange {
                end: End::A,
                at: at_ms(3),
                up: false
            },
            CarrierChange {
                end: End::B,
                at: at_ms(3),
                up: false
            },
        ]
    );
    assert!(
        l.set_down(at_ms(4)).is_none(),
        "already down: nothing new to tell"
    );
    assert_eq!(l.state(Direction::AToB), State::Down);
    assert_eq!(l.state(Direction::BToA), State::Down);
    assert!(!l.survives(Direction::BToA, &in_flight));
    assert_eq!(
        l.transmit(at_ms(5), Direction::AToB, 60),
        Outcome::Drop(DropCause::Down)
    );
    let up = l.set_up(at_ms(9)).expect("restoration notifies");
    assert!(up.iter().all(|n| n.up && n.at == at_ms(9)));
    assert_eq!(up.map(|n| n.end), [End::A, End::B]);
    assert!(arrival(l.transmit(at_ms(9), Direction::AToB, 60)).is_some());
}

#[test]
fn frame_survives_when_nothing_happened_in_flight() {
    let mut l = Link::symmetric("l", Seed(1), &cfg(10));
    let Outcome::Deliver(d) = l.transmit(at_ms(0), Direction::AToB, 60) else {
        panic!("up link must deliver");
    };
    // Silence in the other direction does not touch this frame.
    l.set_silent(Direction::BToA, true);
    assert!(l.survives(Direction::AToB, &d));
}

#[test]
fn bernoulli_loss_rate_within_bounds() {
    let c = DirectionConfig {
        loss: LossModel::Bernoulli { p: 0.1 },
        ..cfg(1)
    };
    let mut l = Link::symmetric("lossy", Seed(11), &c);
    let n = 100_000;
    let lost = (0..n)
        .filter(|&i| l.transmit(at_ms(i), Direction::AToB, 100) == Outcome::Drop(DropCause::Loss))
        .count();
    // Expected 10,000 with sd 95: allow about 5 sd.
    assert!((9_500..10_500).contains(&lost), "lost {lost}");
    assert_eq!(l.stats(Direction::AToB).dropped_loss, lost as u64);
}

#[test]
fn per_packet_gilbert_elliott_loss_comes_in_bursts_of_packets() {
    // Bad share 0.01 / 0.11 = 9.09 %, mean burst 10 frames (loss 1 in bad, 0 in good).
    let c = DirectionConfig {
        loss: LossModel::GilbertElliottPerPacket {
            p_good_bad: 0.01,
            p_bad_good: 0.1,
            loss_good: 0.0,
            loss_bad: 1.0,
        },
        ..cfg(1)
    };
    let mut l = Link::symmetric("ge", Seed(12), &c);
    let n = 200_000;
    let lost: Vec<bool> = (0..n)
        .map(|i| arrival(l.transmit(at_ms(i), Direction::AToB, 100)).is_none())
        .collect();
    let total = lost.iter().filter(|&&x| x).count();
    let bursts = lost.windows(2).filter(|w| !w[0] && w[1]).count().max(1);
    #[allow(clippy::cast_precision_loss, reason = "test statistics")]
    let (rate, mean_burst) = (total as f64 / n as f64, total as f64 / bursts as f64);
    assert!((rate - 0.0909).abs() < 0.01, "rate {rate}");
    assert!((mean_burst - 10.0).abs() < 1.0, "mean burst {mean_burst}");
}

#[test]
fn uniform_jitter_mean_and_bounds() {
    let c = DirectionConfig {
        jitter: JitterModel::Uniform { max: MS * 4 },
        ..cfg(10)
    };
    let mut l = Link::symmetric("j", Seed(13), &c);
    let n = 20_000_u64;
    let mut sum = 0_u64;
    for i in 0..n {
        // Frames 100 ms apart, so the FIFO clamp never applies.
        let sent = at_ms(100 * i);
        let a = arrival(l.transmit(sent, Direction::AToB, 100)).expect("lossless");
        let d = a - sent;
        assert!(d >= MS * 10 && d < MS * 14, "{d}");
        sum += d.as_nanos();
    }
    // Mean 12 ms; sd of the mean 1.15 ms / sqrt(n) = 8 us.
    let mean = Duration::from_nanos(sum / n);
    assert!(
        mean > Duration::from_micros(11_950) && mean < Duration::from_micros(12_050),
        "{mean}"
    );
}

#[test]
fn normal_jitter_has_requested_spread_and_keeps_fifo() {
    let c = DirectionConfig {
        jitter: JitterModel::Normal {
            mean: MS * 5,
            sd: MS,
        },
        ..cfg(10)
    };
    let mut l = Link::symmetric("n", Seed(14), &c);
    let mut samples = Vec::new();
    for i in 0..20_000 {
        let sent = at_ms(100 * i);
        let a = arrival(l.transmit(sent, Direction::AToB, 100)).expect("lossless");
        samples.push((a - sent).as_secs_f64() * 1e3);
    }
    #[allow(clippy::cast_precision_loss, reason = "test statistics")]
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let sd = (samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!((mean - 15.0).abs() < 0.05, "mean {mean} ms");
    assert!((sd - 1.0).abs() < 0.05, "sd {sd} ms");
    // Back-to-back frames: jitter must not reorder them.
    let mut last = Instant::ZERO;
    for _ in 0..1000 {
        let a = arrival(l.transmit(at_ms(3_000_000), Direction::AToB, 100)).expect("lossless");
        assert!(a >= last);
        last = a;
    }
}

#[test]
fn bandwidth_serialises_and_queue_tail_drops_under_overload() {
    // 8 Mbit/s: a 1000-byte frame takes 1 ms. Queue of 3 frames.
    let c = DirectionConfig {
        bandwidth_bps: 8_000_000,
        queue: QueueLimit::Frames(3),
        ..cfg(10)
    };
    let mut l = Link::symmetric("bw", Seed(1), &c);
    let burst: Vec<Outcome> = (0..5)
        .map(|_| l.transmit(at_ms(0), Direction::AToB, 1000))
        .collect();
    assert_eq!(
        burst.iter().map(|&o| arrival(o)).collect::<Vec<_>>(),
        vec![
            Some(at_ms(11)),
            Some(at_ms(12)),
            Some(at_ms(13)),
            None,
            None
        ]
    );
    assert_eq!(burst[3], Outcome::Drop(DropCause::QueueFull));
    // At 1 ms the first frame has left: room for one more, queued behind the third.
    assert_eq!(
        arrival(l.transmit(at_ms(1), Direction::AToB, 1000)),
        Some(at_ms(14))
    );
    assert_eq!(l.stats(Direction::AToB).dropped_queue, 2);
    // Sustained overload (2 frames per ms into a 1 frame per ms line) drops about half.
    let mut dropped = 0;
    for i in 0..2000 {
        let now = Instant::ZERO + Duration::from_micros(10_000 + 500 * i);
        if l.transmit(now, Direction::AToB, 1000) == Outcome::Drop(DropCause::QueueFull) {
            dropped += 1;
        }
    }
    assert!((990..=1010).contains(&dropped), "dropped {dropped}");
}

#[test]
fn byte_limited_queue_counts_bytes() {
    let c = DirectionConfig {
        bandwidth_bps: 8_000,
        queue: QueueLimit::Bytes(1500),
        ..cfg(0)
    };
    let mut l = Link::symmetric("b", Seed(1), &c);
    assert!(arrival(l.transmit(at_ms(0), Direction::AToB, 1000)).is_some());
    assert_eq!(
        l.transmit(at_ms(0), Direction::AToB, 600),
        Outcome::Drop(DropCause::QueueFull)
    );
    assert!(arrival(l.transmit(at_ms(0), Direction::AToB, 500)).is_some());
}

#[test]
fn down_flushes_the_queue() {
    let c = DirectionConfig {
        bandwidth_bps: 8_000_000,
        queue: QueueLimit::Frames(2),
        ..cfg(0)
    };
    let mut l = Link::symmetric("f", Seed(1), &c);
    l.transmit(at_ms(0), Direction::AToB, 1000);
    l.transmit(at_ms(0), Direction::AToB, 1000);
    l.set_down(at_ms(0));
    l.set_up(at_ms(0));
    // The queue is empty again: the next frame goes straight onto the wire.
    assert_eq!(
        arrival(l.transmit(at_ms(0), Direction::AToB, 1000)),
        Some(at_ms(1))
    );
}

#[test]
fn directions_draw_from_independent_streams() {
    let c = DirectionConfig {
        loss: LossModel::Bernoulli { p: 0.5 },
        ..cfg(1)
    };
    let pattern = |l: &mut Link, dir| {
        (0..64)
            .map(|i| arrival(l.transmit(at_ms(i), dir, 10)).is_some())
            .collect::<Vec<_>>()
    };
    let mut only_ab = Link::symmetric("x", Seed(5), &c);
    let alone = pattern(&mut only_ab, Direction::AToB);
    let mut both = Link::symmetric("x", Seed(5), &c);
    let other = pattern(&mut both, Direction::BToA);
    let after = pattern(&mut both, Direction::AToB);
    assert_eq!(alone, after, "traffic B->A must not change A->B's losses");
    assert_ne!(alone, other);
}

#[test]
fn delay_episode_adds_delay_then_ends_without_reordering() {
    let mut l = Link::symmetric("l", Seed(1), &cfg(10));
    l.set_delay_episode(
        Direction::AToB,
        Some(DelayEpisode {
            extra: MS * 200,
            jitter: JitterModel::None,
        }),
    );
    let during = arrival(l.transmit(at_ms(0), Direction::AToB, 60));
    assert_eq!(during, Some(at_ms(210)));
    // The other direction is untouched.
    assert_eq!(
        arrival(l.transmit(at_ms(0), Direction::BToA, 60)),
        Some(at_ms(10))
    );
    l.set_delay_episode(Direction::AToB, None);
    // Sent after the episode, it would arrive at 11 ms, but not before the frame ahead of it.
    assert_eq!(
        arrival(l.transmit(at_ms(1), Direction::AToB, 60)),
        Some(at_ms(210))
    );
    assert_eq!(
        arrival(l.transmit(at_ms(300), Direction::AToB, 60)),
        Some(at_ms(310))
    );
}

#[test]
fn delay_episode_jitter_stays_within_its_bound() {
    let mut l = Link::symmetric("l", Seed(3), &cfg(10));
    l.set_delay_episode(
        Direction::AToB,
        Some(DelayEpisode {
            extra: MS * 50,
            jitter: JitterModel::Uniform { max: MS * 20 },
        }),
    );
    let mut spread = false;
    for k in 0..100u64 {
        let sent = at_ms(k * 1000);
        let a = arrival(l.transmit(sent, Direction::AToB, 60));
        let Some(a) = a else {
            panic!("no loss configured")
        };
        let d = a.saturating_duration_since(sent);
        assert!(d >= MS * 60 && d < MS * 80, "delay {d:?}");
        spread |= d > MS * 61;
    }
    assert!(spread, "the episode's jitter was drawn");
}

/// Gilbert–Elliott in time with 4 s good, 2 s bad, loss 0 when good and 1 when bad.
fn timed(mean_good_ms: u64, mean_bad_ms: u64) -> LossModel {
    LossModel::GilbertElliott {
        mean_good: MS * mean_good_ms,
        mean_bad: MS * mean_bad_ms,
        loss_good: 0.0,
        loss_bad: 1.0,
    }
}

/// What packets sent every `interval_ms` for `horizon_s` see on one direction of a link with
/// `model`: `true` for each packet lost.
fn losses(model: LossModel, seed: u64, interval_ms: u64, horizon_s: u64) -> Vec<bool> {
    let mut l = Link::symmetric(
        "ge",
        Seed(seed),
        &DirectionConfig {
            loss: model,
            ..cfg(1)
        },
    );
    (0..horizon_s * 1000 / interval_ms)
        .map(|i| arrival(l.transmit(at_ms(i * interval_ms), Direction::AToB, 100)).is_none())
        .collect()
}

/// Bursts as packets see them: each run of lost packets lasts from the first lost packet to
/// the next delivered one. Returns (number of bursts, mean duration in seconds).
#[allow(clippy::cast_precision_loss, reason = "test statistics")]
fn bursts(lost: &[bool], interval_ms: u64) -> (usize, f64) {
    let runs = lost.windows(2).filter(|w| !w[0] && w[1]).count();
    let lost_packets = lost.iter().skip(1).filter(|&&x| x).count();
    let mean = lost_packets as f64 * interval_ms as f64 / 1e3 / runs.max(1) as f64;
    (runs, mean)
}

#[test]
fn gilbert_elliott_bursts_last_mean_bad_whatever_the_packet_rate() {
    // Bursts of 2 s on average. Packets every 10 ms (30,000 s, about 5,000 bursts) and every
    // 50 ms (60,000 s, about 10,000). Burst lengths are exponential, so the measured mean has
    // a relative sd of 1/sqrt(bursts): 1.4 % and 1.0 %. Packets also miss the bursts and the
    // gaps shorter than their spacing, which lengthens the measured mean by about
    // interval/(2·mean) for each: 0.4 % at 10 ms, 1.9 % at 50 ms. So 5 % is over 3 sd away
    // for both. A per-packet chain tuned to 2 s at one interval gives 10 s at the other
    // (`per_packet_bursts_stretch_with_the_packet_interval`).
    for (interval_ms, horizon_s) in [(10, 30_000), (50, 60_000)] {
        let (n, mean) = bursts(
            &losses(timed(4_000, 2_000), 21, interval_ms, horizon_s),
            interval_ms,
        );
        assert!(n > 4_000, "{n} bursts at {interval_ms} ms");
        assert!(
            (mean / 2.0 - 1.0).abs() < 0.05,
            "mean burst {mean} s at {interval_ms} ms ({n} bursts)"
        );
    }
}

#[test]
fn per_packet_bursts_stretch_with_the_packet_interval() {
    // 1/200 per packet: bursts of 2 s at 10 ms, so of 10 s at 50 ms (about 330 bursts over
    // 10,000 s, relative sd 5.5 %; 20 % is over 3.5 sd).
    let per_packet = LossModel::GilbertElliottPerPacket {
        p_good_bad: 0.0025,
        p_bad_good: 0.005,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    let (n, mean) = bursts(&losses(per_packet, 22, 50, 10_000), 50);
    assert!(
        (mean / 10.0 - 1.0).abs() < 0.2,
        "mean burst {mean} s ({n} bursts)"
    );
}

#[test]
#[allow(clippy::cast_precision_loss, reason = "test statistics")]
fn gilbert_elliott_loses_the_stationary_share() {
    // Bad a third of the time. The time average of the state over T has variance
    // 2·π_bad·π_good / ((1/mean_good + 1/mean_bad)·T) = 0.593 s / T: sd 0.0031 over
    // 60,000 s; 4 sd is 0.0126.
    let lost = losses(timed(4_000, 2_000), 23, 50, 60_000);
    let share = lost.iter().filter(|&&x| x).count() as f64 / lost.len() as f64;
    assert!((share - 1.0 / 3.0).abs() < 0.0126, "loss {share}");
    assert!(
        (timed(4_000, 2_000).mean_loss() - 1.0 / 3.0).abs() < 1e-12,
        "closed form"
    );
}

#[test]
fn gilbert_elliott_bursts_are_the_same_at_any_packet_rate_and_depend_on_the_seed() {
    let fine = losses(timed(4_000, 2_000), 24, 10, 2_000);
    let coarse = losses(timed(4_000, 2_000), 24, 50, 2_000);
    // A packet every 50 ms sees exactly what the packet sent at the same instant in the
    // 10 ms run saw: the chain does not move with the packets.
    let subsampled: Vec<bool> = fine.iter().step_by(5).copied().collect();
    assert_eq!(coarse, subsampled);
    assert!(fine.iter().any(|&x| x) && !fine.iter().all(|&x| x));
    assert_eq!(
        fine,
        losses(timed(4_000, 2_000), 24, 10, 2_000),
        "same seed"
    );
    assert_ne!(
        fine,
        losses(timed(4_000, 2_000), 25, 10, 2_000),
        "another seed"
    );
}

#[test]
fn gilbert_elliott_directions_are_independent_chains() {
    let c = DirectionConfig {
        loss: timed(4_000, 2_000),
        ..cfg(1)
    };
    let pattern = |l: &mut Link, dir| {
        (0..20_000)
            .map(|i| arrival(l.transmit(at_ms(50 * i), dir, 10)).is_some())
            .collect::<Vec<_>>()
    };
    let mut only_ab = Link::symmetric("x", Seed(5), &c);
    let alone = pattern(&mut only_ab, Direction::AToB);
    let mut both = Link::symmetric("x", Seed(5), &c);
    let other = pattern(&mut both, Direction::BToA);
    let after = pattern(&mut both, Direction::AToB);
    assert_eq!(alone, after, "traffic B->A must not change A->B's bursts");
    assert_ne!(alone, other);
}

#[test]
#[allow(clippy::cast_precision_loss, reason = "test statistics")]
fn rekeying_puts_the_chain_in_its_stationary_law() {
    // One link, run to 100 s, then forked with 3,000 keys. Each fork's chain must be bad with
    // probability 1/3 (binomial sd 0.0086; 4 sd 0.034), and the rest of the state it starts
    // in must be exponential with that state's full mean, not the rest of the parent's
    // sojourn (about 1,000 bad forks: sd 3.2 % of 2 s; 2,000 good: 2.2 % of 4 s; 4 sd).
    let mut parent = Link::symmetric(
        "fork",
        Seed(26),
        &DirectionConfig {
            loss: timed(4_000, 2_000),
            ..cfg(1)
        },
    );
    for i in 0..1_000 {
        let _ = parent.transmit(at_ms(100 * i), Direction::AToB, 100);
    }
    let t0 = 100_000;
    let lost_at = |l: &mut Link, ms| arrival(l.transmit(at_ms(ms), Direction::AToB, 100)).is_none();
    let (mut bad, mut rest) = (0_u64, [0.0_f64; 2]);
    let keys = 3_000_u64;
    for key in 0..keys {
        let mut fork = parent.clone();
        fork.rekey(key);
        let starts_bad = lost_at(&mut fork, t0);
        bad += u64::from(starts_bad);
        // Probe every 20 ms until the state changes (which adds 10 ms on average).
        let mut t = t0 + 20;
        while lost_at(&mut fork, t) == starts_bad {
            t += 20;
        }
        rest[usize::from(starts_bad)] += (t - t0) as f64 / 1e3;
    }
    let share = bad as f64 / keys as f64;
    assert!((share - 1.0 / 3.0).abs() < 0.034, "bad share {share}");
    let (rest_good, rest_bad) = (rest[0] / (keys - bad) as f64, rest[1] / bad as f64);
    assert!(
        (rest_bad / 2.0 - 1.0).abs() < 0.13,
        "rest of a bad state {rest_bad} s"
    );
    assert!(
        (rest_good / 4.0 - 1.0).abs() < 0.09,
        "rest of a good state {rest_good} s"
    );
    // Reproducible: the same key gives the same fork.
    let (mut a, mut b) = (parent.clone(), parent);
    a.rekey(7);
    b.rekey(7);
    let pa: Vec<bool> = (0..2_000).map(|i| lost_at(&mut a, t0 + 50 * i)).collect();
    let pb: Vec<bool> = (0..2_000).map(|i| lost_at(&mut b, t0 + 50 * i)).collect();
    assert_eq!(pa, pb);
}

#[test]
fn gilbert_elliott_bursts_after_a_fork_or_a_new_model_ignore_earlier_traffic() {
    // Two copies of a link: one carried a frame every 10 ms for 100 s, the other one frame.
    // Forked with the same key, or given the same new model, they must lose the same frames
    // from then on: the new chain cannot depend on how far the old one was read.
    let c = DirectionConfig {
        loss: timed(4_000, 2_000),
        ..cfg(1)
    };
    let mut busy = Link::symmetric("h", Seed(27), &c);
    let mut quiet = busy.clone();
    for i in 0..10_000 {
        let _ = busy.transmit(at_ms(10 * i), Direction::AToB, 100);
    }
    let _ = quiet.transmit(at_ms(0), Direction::AToB, 100);
    let after = |l: &mut Link| {
        (0..4_000)
            .map(|i| arrival(l.transmit(at_ms(100_000 + 50 * i), Direction::AToB, 100)).is_none())
            .collect::<Vec<_>>()
    };
    let (mut a, mut b) = (busy.clone(), quiet.clone());
    a.rekey(9);
    b.rekey(9);
    let forked = after(&mut a);
    assert_eq!(forked, after(&mut b), "forks");
    assert!(forked.iter().any(|&x| x) && !forked.iter().all(|&x| x));
    let (mut a, mut b) = (busy, quiet);
    a.set_loss(Direction::AToB, timed(3_000, 1_000));
    b.set_loss(Direction::AToB, timed(3_000, 1_000));
    assert_eq!(after(&mut a), after(&mut b), "new models");
}

#[test]
fn a_bandwidth_change_applies_from_the_next_frame() {
    // 8 Mbit/s: a 1000-byte frame takes 1 ms; raised to 16 Mbit/s it takes 0.5 ms.
    let c = DirectionConfig {
        bandwidth_bps: 8_000_000,
        ..cfg(10)
    };
    let mut l = Link::symmetric("bw", Seed(1), &c);
    assert_eq!(
        arrival(l.transmit(at_ms(0), Direction::AToB, 1000)),
        Some(at_ms(11))
    );
    l.set_bandwidth(Direction::AToB, 16_000_000);
    assert_eq!(
        arrival(l.transmit(at_ms(20), Direction::AToB, 1000)),
        Some(at_ms(30) + Duration::from_micros(500))
    );
    // The other direction keeps its own bandwidth.
    assert_eq!(
        arrival(l.transmit(at_ms(40), Direction::BToA, 1000)),
        Some(at_ms(51))
    );
}
