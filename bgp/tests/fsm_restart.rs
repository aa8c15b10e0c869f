//! Re-establishment after a reset, per profile: when the next OPEN goes out after the session
//! went down by itself (hold timer expired, NOTIFICATION received, connection lost, BFD down),
//! as each implementation's restart timers say. One session is driven by hand; its transport
//! connects at once, so the OPEN goes out when the restart delay and the connect delay are
//! over.

mod common;

use bgp::fsm::profile::Profile;
use bgp::fsm::{Command, Config, Session, SessionEvent, State, Transmit, Transport};
use bgp::wire::{Asn, Capability, EncodeCtx, Family, Message, Open};
use common::*;
use sim_core::time::{Duration, Instant};

const HOLD: u16 = 9;

fn msg(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    let len = u16::try_from(19 + body.len()).expect("small");
    v.extend_from_slice(&len.to_be_bytes());
    v.push(msg_type);
    v.extend_from_slice(body);
    v
}

fn keepalive() -> Vec<u8> {
    msg(4, &[])
}

fn notification(code: u8, subcode: u8) -> Vec<u8> {
    msg(3, &[code, subcode])
}

fn open_from_b() -> Vec<u8> {
    let open = Open::new(
        Asn(AS_B),
        HOLD,
        ID_B,
        vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::FourOctetAs(Asn(AS_B)),
        ],
    );
    Message::Open(open)
        .to_bytes(&EncodeCtx::default())
        .expect("encodes")
        .to_vec()
}

fn is_open(bytes: &[u8]) -> bool {
    bytes.len() >= 19 && bytes[18] == 1
}

/// A's configuration with `profile` and hold time 9 s.
fn config(profile: Profile) -> Config {
    let mut c = cfg_a(profile);
    c.hold_time = Some(Duration::from_secs(u64::from(HOLD)));
    c
}

/// One session and its virtual time.
struct Driver {
    s: Session,
    now: Instant,
    /// The session entered Idle since this was last cleared (it may have left it again at the
    /// same instant when the restart delay is zero).
    went_idle: bool,
}

impl Driver {
    /// Started at time zero and driven to OpenSent (our OPEN out).
    fn new(config: Config, seed: u64) -> Self {
        let mut d = Self {
            s: Session::new(config, seed).expect("valid configuration"),
            now: Instant::ZERO,
            went_idle: false,
        };
        d.s.handle_command(d.now, Command::Start).expect("start");
        d.next_open();
        d
    }

    /// Drains the outputs at `now`; a connection attempt connects at once. Whether an OPEN
    /// went out.
    fn drain(&mut self) -> bool {
        let mut open = false;
        let mut connect = false;
        while let Some(t) = self.s.poll_transmit() {
            match t {
                Transmit::Connect => connect = true,
                Transmit::Bytes(b) => open |= is_open(&b),
                Transmit::Close => {}
            }
        }
        while let Some(e) = self.s.poll_event() {
            if let SessionEvent::StateChanged {
                to: State::Idle, ..
            } = e
            {
                self.went_idle = true;
            }
        }
        if connect {
            self.s.handle_transport(self.now, Transport::Connected);
            open |= self.drain();
        }
        open
    }

    /// Runs the session's timers until it sends an OPEN; the time it did.
    fn next_open(&mut self) -> Instant {
        if self.drain() {
            return self.now;
        }
        for _ in 0..100 {
            let t = self.s.poll_timeout().expect("a timer runs until the OPEN");
            self.now = t;
            self.s.handle_timeout(t);
            if self.drain() {
                return t;
            }
        }
        panic!("no OPEN");
    }

    /// From OpenSent to Established: B's OPEN and KEEPALIVE arrive.
    fn establish(&mut self) {
        assert_eq!(self.s.state(), State::OpenSent);
        self.input(&open_from_b());
        self.input(&keepalive());
        assert_eq!(self.s.state(), State::Established);
    }

    fn input(&mut self, bytes: &[u8]) {
        self.s.handle_bytes(self.now, bytes);
        assert!(!self.drain(), "no OPEN in answer to input");
    }

    /// Lets time pass without input until the hold timer expires; the time A went Idle.
    fn hold_expires(&mut self) -> Instant {
        self.went_idle = false;
        while !self.went_idle {
            let t = self.s.poll_timeout().expect("the hold timer runs");
            self.now = t;
            self.s.handle_timeout(t);
            assert!(!self.drain());
        }
        self.now
    }

    /// Moves time on by `d` with the session left alone but for keepalives from B.
    fn idle_for(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            self.now = (self.now + Duration::from_secs(1)).min(end);
            if self.s.state() == State::Established {
                self.input(&keepalive());
            }
            self.s.handle_timeout(self.now);
            assert!(!self.drain());
        }
    }

    /// Applies `reset` to an Established session, then returns how long after it the next
    /// OPEN went out, and leaves the session Established again.
    fn reset(&mut self, reset: Reset) -> Duration {
        assert_eq!(self.s.state(), State::Established);
        self.went_idle = false;
        let at = match reset {
            Reset::HoldExpiry => self.hold_expires(),
            Reset::Notification(code, subcode) => {
                self.input(&notification(code, subcode));
                self.now
            }
            Reset::ConnectionLost => {
                self.s.handle_transport(self.now, Transport::Closed);
                assert!(!self.drain());
                self.now
            }
            Reset::BfdDown => {
                self.s
                    .handle_command(self.now, Command::BfdDown)
                    .expect("BFD down");
                assert!(!self.drain());
                self.now
            }
        };
        assert!(self.went_idle, "{reset:?}");
        let open = self.next_open();
        self.establish();
        open - at
    }
}

#[derive(Debug, Clone, Copy)]
enum Reset {
    HoldExpiry,
    Notification(u8, u8),
    ConnectionLost,
    BfdDown,
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

fn within(d: Duration, lo: Duration, hi: Duration) -> bool {
    d >= lo && d <= hi
}

/// `rfc4271`: §8.1.1 DampPeerOscillations, every automatic stop counts: 5 s, then doubling
/// (10, 20 s) while the stops come within 300 s of each other, whatever the cause; back to
/// 5 s after 300 s of quiet. No jitter, no connect delay.
#[test]
fn rfc4271_restarts_after_an_idle_hold_that_doubles_for_every_stop() {
    let mut d = Driver::new(config(Profile::RFC4271), 1);
    d.establish();
    assert_eq!(d.reset(Reset::HoldExpiry), secs(5));
    assert_eq!(d.reset(Reset::ConnectionLost), secs(10));
    assert_eq!(d.reset(Reset::Notification(6, 2)), secs(20));
    d.idle_for(secs(300));
    assert_eq!(d.reset(Reset::BfdDown), secs(5));
}

/// `bird` with its defaults (`error wait time 60, 300`, `error forget time 300`, `connect delay
/// time 5`, each through `bgp_start_timer`'s 0.75–1.0): a hold-timer expiry costs 45–60 s of
/// error wait plus 3.75–5 s of connect delay; the next error within 300 s doubles the wait
/// (90–120 s); a lost connection or a Cease adds no error but waits the delay in force; before
/// any error a lost connection costs the connect delay alone; 300 s after the last error the
/// wait starts again from 60 s.
#[test]
fn bird_restarts_after_its_error_wait_and_connect_delay() {
    let cd = (ms(3750), secs(5));
    let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
    for seed in 0..30 {
        let mut d = Driver::new(config(Profile::BIRD), seed);
        d.establish();
        // No error yet: the connect delay alone.
        let t = d.reset(Reset::ConnectionLost);
        assert!(
            within(t, cd.0, cd.1),
            "seed {seed}: lost connection, OPEN after {t}"
        );
        // The first error: error wait 60 s.
        let t = d.reset(Reset::HoldExpiry);
        assert!(
            within(t, ms(48_750), secs(65)),
            "seed {seed}: hold expiry, OPEN after {t}"
        );
        lo = lo.min(t);
        hi = hi.max(t);
        // A Cease counts for nothing, but the delay in force is waited.
        let t = d.reset(Reset::Notification(6, 2));
        assert!(
            within(t, ms(48_750), secs(65)),
            "seed {seed}: Cease, OPEN after {t}"
        );
        // The second error within 300 s: 120 s.
        let t = d.reset(Reset::BfdDown);
        assert!(
            within(t, ms(93_750), secs(125)),
            "seed {seed}: BFD down, OPEN after {t}"
        );
        // The third: 240 s; an UPDATE error received counts as one.
        let t = d.reset(Reset::Notification(3, 1));
        assert!(
            within(t, ms(183_750), secs(245)),
            "seed {seed}: 3/1, OPEN after {t}"
        );
        // 300 s after the last error the next one starts from 60 s again.
        d.idle_for(secs(300));
        let t = d.reset(Reset::HoldExpiry);
        assert!(
            within(t, ms(48_750), secs(65)),
            "seed {seed}: after quiet, OPEN after {t}"
        );
    }
    println!("bird: OPEN 48.75-65 s after a first hold expiry: seen [{lo}, {hi}]");
    assert!(
        lo < secs(52) && hi > secs(61),
        "the jitter spreads: [{lo}, {hi}]"
    );
}

/// `bird` configured as in a test lab (`error wait time 1, 1`, `connect delay time 1`):
/// Established again within seconds, 1.5–2 s after a hold expiry. A connect delay set below
/// BIRD's 1 s floor (`bgp_active`: "MAX(1, ...)") still waits 0.75–1 s.
#[test]
fn bird_with_short_error_wait_is_back_within_seconds() {
    for seed in 0..30 {
        let mut c = config(Profile::BIRD);
        c.idle_hold = Some(secs(1));
        c.idle_hold_max = Some(secs(1));
        c.connect_delay = Some(secs(1));
        let mut d = Driver::new(c.clone(), seed);
        d.establish();
        for _ in 0..3 {
            let t = d.reset(Reset::HoldExpiry);
            assert!(within(t, ms(1500), secs(2)), "seed {seed}: OPEN after {t}");
        }
        c.idle_hold = Some(Duration::ZERO);
        c.connect_delay = Some(Duration::ZERO);
        let mut d = Driver::new(c, seed);
        d.establish();
        let t = d.reset(Reset::HoldExpiry);
        assert!(within(t, ms(750), secs(1)), "seed {seed}: OPEN after {t}");
    }
}

/// `frr` (8.x `v_start`): 1 s after a hold-timer expiry, every time (`bgp_stop_with_notify`
/// resets the start timer); 1 s after a lost connection or BFD down (`bgp_stop` leaves it);
/// 2 s after a NOTIFICATION received in Established (`bgp_stop_with_error` doubles it, from the
/// 1 s `bgp_establish` set), and doubling again (4, 8 s) while the session fails in OpenConfirm
/// before it is Established again. No jitter, no connect delay.
#[test]
fn frr_restarts_after_one_second_without_doubling_on_hold_expiry() {
    let mut d = Driver::new(config(Profile::FRR), 1);
    d.establish();
    for _ in 0..4 {
        assert_eq!(d.reset(Reset::HoldExpiry), secs(1));
    }
    assert_eq!(d.reset(Reset::ConnectionLost), secs(1));
    assert_eq!(d.reset(Reset::BfdDown), secs(1));
    assert_eq!(d.reset(Reset::Notification(6, 4)), secs(2));
    // Established again: back to 1 s, so the next NOTIFICATION costs 2 s again.
    assert_eq!(d.reset(Reset::Notification(3, 1)), secs(2));
    // A NOTIFICATION in Established (2 s), then in OpenConfirm twice before the session is
    // Established again: 4 s, then 8 s.
    for want in [2, 4, 8] {
        d.input(&notification(6, 2));
        assert_eq!(d.s.state(), State::Idle);
        let at = d.now;
        assert_eq!(d.next_open() - at, secs(want));
        d.input(&open_from_b());
        assert_eq!(d.s.state(), State::OpenConfirm);
    }
}

/// A scenario may set FRR's start timer (`idle_hold`): 5 s instead of 1 s.
#[test]
fn frr_start_timer_is_settable() {
    let mut c = config(Profile::FRR);
    c.idle_hold = Some(secs(5));
    let mut d = Driver::new(c, 1);
    d.establish();
    assert_eq!(d.reset(Reset::HoldExpiry), secs(5));
    assert_eq!(d.reset(Reset::HoldExpiry), secs(5));
}
