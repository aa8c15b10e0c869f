//! A BFD session fed arbitrary packets, timer expiries and operator commands.
//!
//! Input: `[config][op...]`. `config` sets the role (active or passive), Detect Mult, the
//! intervals and the jitter ranges (RFC 5880's or BIRD's); each op is one input to the session:
//!
//! - `0b..00`: a raw packet: the next byte is its length (up to 64), then the octets;
//! - `0b..01`: a well-formed packet from the peer, built from the next 6 bytes (state, P and
//!   F bits, Detect Mult, Your Discriminator ours or zero, intervals): the handshake and
//!   Poll Sequences are reachable without the fuzzer having to find a valid packet first;
//! - `0b..10`: time passes (the next 2 bytes, in milliseconds) and every due timer runs;
//! - `0b..11`: an operator command (AdminDown, AdminUp, or new intervals from the next 2
//!   bytes).
//!
//! Checked: nothing panics; a discarded packet leaves the session as it was; after
//! `handle_timeout(now)` no timer is due at `now` any more (a driver would spin otherwise);
//! every packet the session sends decodes and carries its own discriminator and the peer's;
//! every state change starts from the state the session was in, and a `SessionDown` comes
//! exactly when the session leaves Up.
#![no_main]

use bgp::bfd::packet::{ControlPacket, State};
use bgp::bfd::{Command, Config, Event, Session};
use bgp::fsm::profile::BfdJitter;
use libfuzzer_sys::fuzz_target;
use sim_core::time::{Duration, Instant};

const LOCAL: u32 = 0x0000_1001;
const REMOTE: u32 = 0x0000_2002;

/// Interval from a byte: 1 ms to 2.55 s in 10 ms steps (the operator's configuration is
/// validated before it reaches a session: never zero).
fn interval(b: u8) -> Duration {
    Duration::from_millis(u64::from(b).max(1) * 10)
}

struct Harness {
    session: Session,
    now: Instant,
    state: State,
}

impl Harness {
    /// Drains the outputs and checks them.
    fn drain(&mut self) {
        while let Some(p) = self.session.poll_transmit() {
            let packet = ControlPacket::decode(&p).expect("a transmitted packet must decode");
            assert_eq!(packet.my_discriminator, LOCAL);
            assert_eq!(
                packet.your_discriminator,
                self.session.remote_discriminator()
            );
        }
        while let Some(e) = self.session.poll_event() {
            match e {
                Event::StateChanged { from, to, .. } => {
                    assert_eq!(
                        from, self.state,
                        "state change from a state the session was not in"
                    );
                    assert_ne!(from, to);
                    self.state = to;
                }
                Event::SessionDown { .. } => {
                    // Queued right after the StateChanged that left Up.
                    assert_ne!(self.state, State::Up, "SessionDown while Up");
                }
                Event::PollComplete => {}
            }
        }
        assert_eq!(self.session.state(), self.state);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, mut ops)) = data.split_first() else {
        return;
    };
    let config = Config {
        local_discriminator: LOCAL,
        desired_min_tx: interval(config & 0x0f),
        required_min_rx: interval(config >> 4),
        detect_mult: (config & 0x03) + 1,
        passive: config & 0x80 != 0,
        // The jitter ranges of RFC 5880 §6.8.7 or BIRD's.
        tx_jitter: if config & 0x40 != 0 {
            BfdJitter::BIRD
        } else {
            BfdJitter::RFC5880
        },
    };
    let mut h = Harness {
        session: Session::new(Instant::ZERO, config, 1),
        now: Instant::ZERO,
        state: State::Down,
    };
    h.drain();
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        match op & 3 {
            0 => {
                let n = usize::from(ops.first().copied().unwrap_or(0) & 0x3f);
                let packet = ops.get(1..1 + n).unwrap_or(ops.get(1..).unwrap_or(&[]));
                ops = ops.get(1 + packet.len()..).unwrap_or(&[]);
                receive(&mut h, packet);
            }
            1 => {
                let Some(f) = ops.get(..6) else { return };
                ops = &ops[6..];
                let state = State::from_bits(f[0] >> 6);
                let packet = ControlPacket {
                    diagnostic: bgp::bfd::packet::Diagnostic(f[0] & 0x1f),
                    state,
                    poll: f[1] & 1 != 0,
                    final_: f[1] & 2 != 0,
                    control_plane_independent: false,
                    demand: false,
                    detect_mult: (f[1] >> 2).max(1),
                    my_discriminator: REMOTE,
                    your_discriminator: if f[2] & 1 != 0 { LOCAL } else { 0 },
                    desired_min_tx: Duration::from_millis(u64::from(f[3]) * 10),
                    required_min_rx: Duration::from_millis(u64::from(f[4]) * 10),
                    required_min_echo_rx: Duration::from_millis(u64::from(f[5])),
                    authentication: None,
                };
                receive(&mut h, &packet.to_bytes());
            }
            2 => {
                let Some(t) = ops.get(..2) else { return };
                ops = &ops[2..];
                let until =
                    h.now + Duration::from_millis(u64::from(u16::from_be_bytes([t[0], t[1]])));
                // Every timer up to `until`, in order, as a driver runs them.
                while let Some(at) = h.session.poll_timeout().filter(|t| *t <= until) {
                    assert!(at >= h.now, "a timer in the past: {at:?} < {:?}", h.now);
                    h.now = at;
                    h.session.handle_timeout(at);
                    h.drain();
                    assert!(
                        h.session.poll_timeout().is_none_or(|t| t > at),
                        "a timer is still due after handle_timeout"
                    );
                }
                h.now = until;
            }
            _ => {
                let command = match op >> 2 & 3 {
                    0 => Command::AdminDown,
                    1 => Command::AdminUp,
                    _ => {
                        let Some(t) = ops.get(..2) else { return };
                        ops = &ops[2..];
                        Command::SetIntervals {
                            desired_min_tx: interval(t[0]),
                            required_min_rx: interval(t[1]),
                        }
                    }
                };
                let now = h.now;
                h.session.handle_command(now, command);
                h.drain();
            }
        }
    }
});

/// Hands `packet` to the session; a discarded packet must change nothing.
fn receive(h: &mut Harness, packet: &[u8]) {
    let before = format!("{:?}", h.session);
    let now = h.now;
    if let Err(e) = h.session.handle_packet(now, packet) {
        let _ = e.to_string();
        assert_eq!(
            before,
            format!("{:?}", h.session),
            "a discarded packet changed the session"
        );
    }
    h.drain();
}
