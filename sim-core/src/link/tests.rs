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
fn gilbert_elliott_loss_comes_in_bursts() {
    // Bad share 0.01 / 0.11 = 9.09 %, mean burst 10 frames (loss 1 in bad, 0 in good).
    let c = DirectionConfig {
        loss: LossModel::GilbertElliott {
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
