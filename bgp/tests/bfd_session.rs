//! BFD sessions driven in pairs over a virtual-time link: handshake, interval negotiation,
//! detection time, transmit jitter, Poll/Final, AdminDown and authentication rejection.

use bgp::bfd::packet::{Authentication, ControlPacket, Diagnostic, PacketBuf, State};
use bgp::bfd::{Command, Config, Event, RxError, Session};
use bgp::fsm::profile::{BfdJitter, Profile};
use sim_core::time::{Duration, Instant};

/// Two BFD sessions joined by a link with a fixed one-way delay; each direction can be cut.
struct Pair {
    now: Instant,
    delay: Duration,
    a: Session,
    b: Session,
    /// In flight: (arrival, to_b, bytes), in send order.
    in_flight: Vec<(Instant, bool, PacketBuf)>,
    cut_a_to_b: bool,
    cut_b_to_a: bool,
    /// Send instants of periodic packets from each side.
    sent_a: Vec<Instant>,
    sent_b: Vec<Instant>,
    events_a: Vec<(Instant, Event)>,
    events_b: Vec<(Instant, Event)>,
}

impl Pair {
    fn new(ca: Config, cb: Config, seed: u64) -> Self {
        Self {
            now: Instant::ZERO,
            delay: Duration::from_millis(1),
            a: Session::new(Instant::ZERO, ca, seed),
            b: Session::new(Instant::ZERO, cb, seed.wrapping_add(1)),
            in_flight: Vec::new(),
            cut_a_to_b: false,
            cut_b_to_a: false,
            sent_a: Vec::new(),
            sent_b: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Some(p) = self.a.poll_transmit() {
            self.sent_a.push(self.now);
            if !self.cut_a_to_b {
                self.in_flight.push((self.now + self.delay, true, p));
            }
        }
        while let Some(p) = self.b.poll_transmit() {
            self.sent_b.push(self.now);
            if !self.cut_b_to_a {
                self.in_flight.push((self.now + self.delay, false, p));
            }
        }
        while let Some(e) = self.a.poll_event() {
            self.events_a.push((self.now, e));
        }
        while let Some(e) = self.b.poll_event() {
            self.events_b.push((self.now, e));
        }
    }

    /// Advances to the next event (timer or arrival) no later than `until`; false if none.
    fn step(&mut self, until: Instant) -> bool {
        self.drain();
        let arrival = self.in_flight.iter().map(|f| f.0).min();
        let next = [self.a.poll_timeout(), self.b.poll_timeout(), arrival]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next.filter(|t| *t <= until) else {
            self.now = until;
            return false;
        };
        self.now = next;
        if let Some(i) = self.in_flight.iter().position(|f| f.0 == next) {
            let (_, to_b, bytes) = self.in_flight.remove(i);
            let r = if to_b {
                self.b.handle_packet(next, &bytes)
            } else {
                self.a.handle_packet(next, &bytes)
            };
            assert_eq!(r, Ok(()));
        } else {
            if self.a.poll_timeout() == Some(next) {
                self.a.handle_timeout(next);
            }
            if self.b.poll_timeout() == Some(next) {
                self.b.handle_timeout(next);
            }
        }
        self.drain();
        true
    }

    fn run_until(&mut self, until: Instant) {
        while self.step(until) {}
    }
}

fn cfg(disc: u32) -> Config {
    Config {
        local_discriminator: disc,
        ..Config::default()
    }
}

fn at(ms: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(ms)
}

#[test]
fn three_way_handshake_brings_both_sides_up() {
    let mut p = Pair::new(cfg(1), cfg(2), 1);
    p.run_until(at(5_000));
    assert_eq!(p.a.state(), State::Up);
    assert_eq!(p.b.state(), State::Up);
    assert_eq!(p.a.remote_discriminator(), 2);
    assert_eq!(p.b.remote_discriminator(), 1);
    // Both start Down at t=0 and see each other's Down: Down → Init → Up on both sides
    // (§6.2 diagram), never skipping Init here.
    let path = |ev: &[(Instant, Event)]| -> Vec<State> {
        ev.iter()
            .filter_map(|(_, e)| match e {
                Event::StateChanged { to, .. } => Some(*to),
                _ => None,
            })
            .collect()
    };
    assert_eq!(path(&p.events_a), vec![State::Init, State::Up]);
    assert_eq!(path(&p.events_b), vec![State::Init, State::Up]);
}

#[test]
fn passive_side_waits_for_the_peer() {
    let mut passive = cfg(2);
    passive.passive = true;
    let mut p = Pair::new(cfg(1), passive, 3);
    p.cut_a_to_b = true;
    p.run_until(at(10_000));
    assert!(p.sent_b.is_empty(), "passive side transmitted first");
    p.cut_a_to_b = false;
    p.run_until(at(20_000));
    assert_eq!(p.a.state(), State::Up);
    assert_eq!(p.b.state(), State::Up);
}

#[test]
fn negotiates_the_slower_interval_each_way() {
    let ca = Config {
        desired_min_tx: Duration::from_millis(300),
        required_min_rx: Duration::from_millis(300),
        ..cfg(1)
    };
    let cb = Config {
        desired_min_tx: Duration::from_millis(100),
        required_min_rx: Duration::from_millis(750),
        ..cfg(2)
    };
    let mut p = Pair::new(ca, cb, 5);
    p.run_until(at(5_000));
    assert_eq!(p.a.state(), State::Up);
    // §6.8.7: the larger of local Desired Min TX and remote Required Min RX.
    assert_eq!(p.a.tx_interval(), Duration::from_millis(750));
    assert_eq!(p.b.tx_interval(), Duration::from_millis(300));
    // §6.8.4: remote Detect Mult × max(local Required Min RX, remote Desired Min TX).
    assert_eq!(p.a.detection_time(), Duration::from_millis(900));
    assert_eq!(p.b.detection_time(), Duration::from_millis(2_250));
}

#[test]
fn advertises_at_least_one_second_until_up() {
    let s = Session::new(Instant::ZERO, cfg(1), 0);
    assert_eq!(s.advertised_min_tx(), Duration::from_secs(1));
    assert_eq!(s.tx_interval(), Duration::from_secs(1));
}

/// Gaps between consecutive periodic packets once Up, relative to the negotiated interval.
fn periodic_gaps(sent: &[Instant], from: Instant) -> Vec<Duration> {
    let times: Vec<Instant> = sent.iter().copied().filter(|t| *t >= from).collect();
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn transmit_jitter_is_75_to_100_percent() {
    for seed in 0..20 {
        let mut p = Pair::new(cfg(1), cfg(2), seed);
        p.run_until(at(5_000));
        let from = p.now;
        p.run_until(at(65_000));
        let gaps = periodic_gaps(&p.sent_a, from);
        assert!(gaps.len() > 150);
        for g in &gaps {
            assert!(
                *g >= Duration::from_millis(225) && *g <= Duration::from_millis(300),
                "seed {seed}: gap {g}"
            );
        }
        // The jitter is real: not every gap is the same.
        assert!(gaps.iter().any(|g| *g < Duration::from_millis(240)));
        assert!(gaps.iter().any(|g| *g > Duration::from_millis(285)));
    }
}

#[test]
fn transmit_jitter_is_75_to_90_percent_with_multiplier_one() {
    let ca = Config {
        detect_mult: 1,
        ..cfg(1)
    };
    for seed in 0..20 {
        let mut p = Pair::new(ca.clone(), cfg(2), seed);
        p.run_until(at(5_000));
        let from = p.now;
        p.run_until(at(35_000));
        let gaps = periodic_gaps(&p.sent_a, from);
        assert!(gaps.len() > 100);
        for g in &gaps {
            assert!(
                *g >= Duration::from_millis(225) && *g <= Duration::from_millis(270),
                "seed {seed}: gap {g}"
            );
        }
    }
}

/// BIRD's `proto/bfd/bfd.c` (`bfd_session_update_tx_interval`) jitters every transmission to
/// 75–90 % of the interval, also with a multiplier of 3 where RFC 5880 §6.8.7 allows up to
/// 100 %: a `bird` router's BFD packets go out every 225–270 ms at 300 ms.
#[test]
fn bird_transmit_jitter_is_75_to_90_percent_whatever_the_multiplier() {
    let bird = Profile::BIRD.bfd_tx_jitter;
    assert_eq!(bird, BfdJitter::BIRD);
    let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
    let mut n = 0_usize;
    for mult in [1_u8, 3] {
        let ca = Config {
            detect_mult: mult,
            tx_jitter: bird,
            ..cfg(1)
        };
        for seed in 0..20 {
            let mut p = Pair::new(ca.clone(), cfg(2), seed);
            p.run_until(at(5_000));
            let from = p.now;
            p.run_until(at(65_000));
            let gaps = periodic_gaps(&p.sent_a, from);
            assert!(gaps.len() > 200, "{} gaps", gaps.len());
            for g in &gaps {
                assert!(
                    *g >= Duration::from_millis(225) && *g <= Duration::from_millis(270),
                    "multiplier {mult} seed {seed}: gap {g}"
                );
                lo = lo.min(*g);
                hi = hi.max(*g);
                n += 1;
            }
        }
    }
    println!("bird: {n} BFD gaps at 300 ms in [{lo}, {hi}]");
    // Uniform over 45 ms: thousands of draws come within a millisecond of both ends.
    assert!(lo < Duration::from_millis(226), "min {lo}");
    assert!(hi > Duration::from_millis(269), "max {hi}");
}

#[test]
fn detects_silent_peer_within_detection_time() {
    for seed in 0..50 {
        let mut p = Pair::new(cfg(1), cfg(2), seed);
        p.run_until(at(5_000));
        assert_eq!(p.a.state(), State::Up);
        let cut = p.now;
        p.cut_b_to_a = true;
        p.run_until(cut + Duration::from_secs(5));
        let down = p
            .events_a
            .iter()
            .find_map(|(t, e)| match e {
                Event::SessionDown { diagnostic } => Some((*t, *diagnostic)),
                _ => None,
            })
            .expect("A must detect the silent peer");
        assert_eq!(down.1, Diagnostic::CONTROL_DETECTION_TIME_EXPIRED);
        let detect = down.0 - cut;
        // The last packet from B left at most one (unjittered) interval before the cut and
        // arrived 1 ms later; detection fires 900 ms after that arrival.
        assert!(
            detect <= Duration::from_millis(901),
            "seed {seed}: {detect}"
        );
        assert!(
            detect >= Duration::from_millis(600),
            "seed {seed}: {detect}"
        );
        assert_eq!(p.a.state(), State::Down);
        assert_eq!(p.a.diagnostic(), Diagnostic::CONTROL_DETECTION_TIME_EXPIRED);
    }
}

#[test]
fn poll_sequence_defers_slower_tx_until_final() {
    let mut p = Pair::new(cfg(1), cfg(2), 9);
    p.run_until(at(5_000));
    let t = p.now;
    p.a.handle_command(
        t,
        Command::SetIntervals {
            desired_min_tx: Duration::from_secs(1),
            required_min_rx: Duration::from_millis(300),
        },
    );
    // §6.8.3: the actual interval must not grow before the Poll Sequence terminates.
    assert_eq!(p.a.tx_interval(), Duration::from_millis(300));
    p.run_until(t + Duration::from_secs(3));
    assert!(p.events_a.iter().any(|(_, e)| *e == Event::PollComplete));
    assert_eq!(p.a.tx_interval(), Duration::from_secs(1));
    // B now detects A with the new, slower interval: 3 × 1 s.
    assert_eq!(p.b.detection_time(), Duration::from_secs(3));
    assert_eq!(p.a.state(), State::Up);
    assert_eq!(p.b.state(), State::Up);
}

#[test]
fn admin_down_takes_the_peer_down_with_diag_3() {
    let mut p = Pair::new(cfg(1), cfg(2), 11);
    p.run_until(at(5_000));
    let t = p.now;
    p.a.handle_command(t, Command::AdminDown);
    p.run_until(t + Duration::from_secs(1));
    assert_eq!(p.a.state(), State::AdminDown);
    assert_eq!(p.a.diagnostic(), Diagnostic::ADMINISTRATIVELY_DOWN);
    assert_eq!(p.b.state(), State::Down);
    assert!(p.events_b.iter().any(|(_, e)| *e
        == Event::SessionDown {
            diagnostic: Diagnostic::NEIGHBOR_SIGNALED_SESSION_DOWN
        }));
    // AdminDown packets cease after a while, and AdminUp brings the session back.
    p.run_until(t + Duration::from_secs(10));
    let quiet_from = t + Duration::from_secs(5);
    assert!(p.sent_a.iter().all(|s| *s < quiet_from));
    p.a.handle_command(p.now, Command::AdminUp);
    let t2 = p.now;
    p.run_until(t2 + Duration::from_secs(5));
    assert_eq!(p.a.state(), State::Up);
    assert_eq!(p.b.state(), State::Up);
}

#[test]
fn discards_authenticated_and_misaddressed_packets() {
    let mut s = Session::new(Instant::ZERO, cfg(1), 0);
    let mut pkt = ControlPacket {
        diagnostic: Diagnostic::NONE,
        state: State::Down,
        poll: false,
        final_: false,
        control_plane_independent: false,
        demand: false,
        detect_mult: 3,
        my_discriminator: 9,
        your_discriminator: 0,
        desired_min_tx: Duration::from_secs(1),
        required_min_rx: Duration::from_secs(1),
        required_min_echo_rx: Duration::ZERO,
        authentication: Some(Authentication {
            auth_type: 2,
            data: vec![0; 22],
        }),
    };
    assert_eq!(
        s.handle_packet(Instant::ZERO, &pkt.to_bytes()),
        Err(RxError::AuthenticationUnsupported(2))
    );
    pkt.authentication = None;
    pkt.your_discriminator = 77;
    assert_eq!(
        s.handle_packet(Instant::ZERO, &pkt.to_bytes()),
        Err(RxError::UnknownDiscriminator(77))
    );
    pkt.your_discriminator = 0;
    pkt.state = State::Up;
    assert_eq!(
        s.handle_packet(Instant::ZERO, &pkt.to_bytes()),
        Err(RxError::ZeroYourDiscriminator(State::Up))
    );
    assert_eq!(s.state(), State::Down);
    assert_eq!(s.remote_discriminator(), 0);
}

#[test]
fn same_seed_gives_identical_packet_times() {
    let run = |seed| {
        let mut p = Pair::new(cfg(1), cfg(2), seed);
        p.run_until(at(20_000));
        p.sent_a
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}
