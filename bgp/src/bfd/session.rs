//! A sans-IO BFD session in Asynchronous mode (RFC 5880 §6.1, §6.2, §6.8).
//!
//! The session owns no socket and reads no clock. Drive it like `fsm::Session`:
//!
//! 1. feed inputs: [`Session::handle_packet`] for each received UDP payload,
//!    [`Session::handle_timeout`] when the instant from [`Session::poll_timeout`] is reached,
//!    [`Session::handle_command`] for administrative changes;
//! 2. then drain outputs until they return `None`: [`Session::poll_transmit`] (datagrams to
//!    send), [`Session::poll_event`] (state changes, in particular [`Event::SessionDown`], which
//!    the owner forwards to the BGP sessions registered on this BFD session, like
//!    `neighbor fall-over bfd`), and finally [`Session::poll_timeout`].
//!
//! Contracts: the transmit interval is the slower of the local Desired Min TX and the remote
//! Required Min RX (§6.8.7), jittered per [`Config::tx_jitter`] (by default §6.8.7's 75–100 %,
//! 75–90 % with a local multiplier of 1; BIRD's 75–90 % always); the
//! detection time is the remote Detect Mult times the slower of the local Required Min RX and the
//! remote Desired Min TX (§6.8.4); interval changes run a Poll Sequence (§6.5) and take effect as
//! §6.8.3 requires. Randomness comes from a ChaCha8 generator seeded by the owner.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::Serialize;
use sim_core::time::{Duration, Instant};
use std::collections::VecDeque;

use super::packet::{ControlPacket, DecodeError, Diagnostic, PacketBuf, State};
use crate::fsm::profile::BfdJitter;

/// Session parameters chosen by the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    /// bfd.LocalDiscr: unique and nonzero (§6.8.1).
    pub local_discriminator: u32,
    /// bfd.DesiredMinTxInterval: the fastest this system wants to transmit.
    pub desired_min_tx: Duration,
    /// bfd.RequiredMinRxInterval: the fastest this system can receive.
    pub required_min_rx: Duration,
    /// bfd.DetectMult.
    pub detect_mult: u8,
    /// Passive role (§6.1): send nothing until the peer has been heard from.
    pub passive: bool,
    /// How the transmit interval is jittered: RFC 5880 §6.8.7's ranges, or an implementation's
    /// (the owner takes it from the router's timer profile, `Profile::bfd_tx_jitter`).
    pub tx_jitter: BfdJitter,
}

impl Default for Config {
    /// The Azure MSEE defaults (domain.md): 300 ms both ways, multiplier 3, active role.
    fn default() -> Self {
        Self {
            local_discriminator: 1,
            desired_min_tx: Duration::from_millis(300),
            required_min_rx: Duration::from_millis(300),
            detect_mult: 3,
            passive: false,
            tx_jitter: BfdJitter::RFC5880,
        }
    }
}

/// Operator commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Command {
    /// Hold the session administratively down (§6.8.16).
    AdminDown,
    /// Leave AdminDown and start bringing the session up.
    AdminUp,
    /// Change the local intervals; starts a Poll Sequence (§6.8.3).
    SetIntervals {
        /// New bfd.DesiredMinTxInterval.
        desired_min_tx: Duration,
        /// New bfd.RequiredMinRxInterval.
        required_min_rx: Duration,
    },
}

/// What the owner learns from the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Event {
    /// bfd.SessionState changed.
    StateChanged {
        /// The previous state.
        from: State,
        /// The new state.
        to: State,
        /// bfd.LocalDiag after the change.
        diagnostic: Diagnostic,
    },
    /// The session left Up: registered clients (BGP) must go down now.
    SessionDown {
        /// Why (detection time expired, neighbour signalled down, ...).
        diagnostic: Diagnostic,
    },
    /// A Poll Sequence completed: the new intervals are in force.
    PollComplete,
}

/// Why a received packet was discarded (RFC 5880 §6.8.6). The session state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RxError {
    /// The packet itself is invalid.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Your Discriminator is nonzero and not ours.
    #[error("BFD Your Discriminator {0} does not match this session")]
    UnknownDiscriminator(u32),
    /// Your Discriminator is zero while the peer claims Init or Up.
    #[error("BFD Your Discriminator is zero in state {0:?}")]
    ZeroYourDiscriminator(State),
    /// The packet is authenticated; this implementation supports no authentication.
    #[error("BFD authentication type {0} is not supported")]
    AuthenticationUnsupported(u8),
}

/// The value bfd.DesiredMinTxInterval is raised to while the session is not Up (§6.8.3: "the
/// system MUST set bfd.DesiredMinTxInterval to a value of not less than one second").
const SLOW_TX: Duration = Duration::from_secs(1);

/// One BFD session (see the module docs for the call order).
#[derive(Debug, Clone)]
pub struct Session {
    config: Config,
    state: State,
    remote_state: State,
    remote_discriminator: u32,
    diagnostic: Diagnostic,
    /// bfd.RemoteMinRxInterval; 1 µs until heard from (§6.8.1: "initialized to 1").
    remote_min_rx: Duration,
    /// The remote Desired Min TX, used for the detection time.
    remote_desired_min_tx: Duration,
    remote_detect_mult: u8,
    /// The Desired Min TX in force for our own transmit timing (may lag `config` during a poll).
    active_tx: Duration,
    /// The Required Min RX in force for detection (may lag `config` during a poll).
    active_rx: Duration,
    poll_active: bool,
    /// A Final must go out now (we received a Poll).
    send_final: bool,
    next_tx: Option<Instant>,
    detect_deadline: Option<Instant>,
    /// After AdminDown, AdminDown packets are sent until this instant (§6.8.16).
    admin_down_until: Option<Instant>,
    rng: ChaCha8Rng,
    transmits: VecDeque<PacketBuf>,
    events: VecDeque<Event>,
}

impl Session {
    /// A session in state Down, transmitting (unless passive) from `now`. `seed` feeds the
    /// jitter generator.
    #[must_use]
    pub fn new(now: Instant, config: Config, seed: u64) -> Self {
        let next_tx = (!config.passive).then_some(now);
        Self {
            active_tx: config.desired_min_tx,
            active_rx: config.required_min_rx,
            config,
            state: State::Down,
            remote_state: State::Down,
            remote_discriminator: 0,
            diagnostic: Diagnostic::NONE,
            remote_min_rx: Duration::from_micros(1),
            remote_desired_min_tx: Duration::ZERO,
            remote_detect_mult: 0,
            poll_active: false,
            send_final: false,
            next_tx,
            detect_deadline: None,
            admin_down_until: None,
            rng: ChaCha8Rng::seed_from_u64(seed),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Re-keys the jitter generator (see [`crate::fsm::Session::rekey`]). BFD's own phase
    /// needs no re-drawing at a fork: at intervals of a second or less, a minute of jittered
    /// transmissions leaves no trace of the phase at the fork.
    pub fn rekey(&mut self, key: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(self.rng.next_u64() ^ key);
    }

    /// bfd.SessionState.
    #[must_use]
    pub const fn state(&self) -> State {
        self.state
    }

    /// bfd.LocalDiag.
    #[must_use]
    pub const fn diagnostic(&self) -> Diagnostic {
        self.diagnostic
    }

    /// bfd.RemoteDiscr (zero until heard from).
    #[must_use]
    pub const fn remote_discriminator(&self) -> u32 {
        self.remote_discriminator
    }

    /// The Desired Min TX this system advertises: the configured value, raised to one second
    /// while not Up (§6.8.3).
    #[must_use]
    pub fn advertised_min_tx(&self) -> Duration {
        if self.state == State::Up {
            self.config.desired_min_tx
        } else {
            self.config.desired_min_tx.max(SLOW_TX)
        }
    }

    /// The negotiated transmit interval before jitter (§6.8.7): "the larger of
    /// bfd.DesiredMinTxInterval and bfd.RemoteMinRxInterval".
    #[must_use]
    pub fn tx_interval(&self) -> Duration {
        let local = if self.state == State::Up {
            self.active_tx
        } else {
            self.active_tx.max(SLOW_TX)
        };
        local.max(self.remote_min_rx)
    }

    /// The detection time in Asynchronous mode (§6.8.4): "the value of Detect Mult received
    /// from the remote system, multiplied by the agreed transmit interval of the remote system
    /// (the greater of bfd.RequiredMinRxInterval and the last received Desired Min TX
    /// Interval)". Zero until the peer has been heard from.
    #[must_use]
    pub fn detection_time(&self) -> Duration {
        self.active_rx
            .max(self.remote_desired_min_tx)
            .saturating_mul(u64::from(self.remote_detect_mult))
    }

    /// Applies an operator command.
    pub fn handle_command(&mut self, now: Instant, command: Command) {
        match command {
            Command::AdminDown => {
                if self.state != State::AdminDown {
                    // §6.8.16: set bfd.SessionState to AdminDown with diag 7, and "SHOULD
                    // transmit AdminDown ... for a Detection Time ... then cease".
                    self.diagnostic = Diagnostic::ADMINISTRATIVELY_DOWN;
                    self.set_state(State::AdminDown);
                    self.detect_deadline = None;
                    let linger = self.detection_time().max(self.tx_interval());
                    self.admin_down_until = Some(now + linger);
                    self.next_tx = Some(now);
                }
            }
            Command::AdminUp => {
                if self.state == State::AdminDown {
                    self.diagnostic = Diagnostic::NONE;
                    self.admin_down_until = None;
                    self.set_state(State::Down);
                    self.next_tx =
                        (!self.config.passive || self.remote_discriminator != 0).then_some(now);
                }
            }
            Command::SetIntervals {
                desired_min_tx,
                required_min_rx,
            } => {
                let tx_up = desired_min_tx > self.config.desired_min_tx;
                let rx_down = required_min_rx < self.config.required_min_rx;
                self.config.desired_min_tx = desired_min_tx;
                self.config.required_min_rx = required_min_rx;
                // §6.8.3: while Up, a larger Desired Min TX "MUST NOT change until the Poll
                // Sequence ... has terminated", and a smaller Required Min RX must not shorten
                // the detection time until then either. Otherwise the change applies at once.
                if self.state != State::Up || !tx_up {
                    self.active_tx = desired_min_tx;
                }
                if self.state != State::Up || !rx_down {
                    self.active_rx = required_min_rx;
                }
                // §6.8.3: "If either bfd.DesiredMinTxInterval is changed or
                // bfd.RequiredMinRxInterval is changed, a Poll Sequence MUST be initiated".
                self.poll_active = true;
                if self.state != State::AdminDown && self.may_transmit() {
                    self.next_tx = Some(now);
                }
            }
        }
    }

    /// Processes one received UDP payload (RFC 5880 §6.8.6).
    ///
    /// # Errors
    ///
    /// The reason the packet was discarded; the session is then unchanged.
    pub fn handle_packet(&mut self, now: Instant, payload: &[u8]) -> Result<(), RxError> {
        let p = ControlPacket::decode(payload)?;
        // §6.8.6: "If the Your Discriminator field is nonzero, it MUST be used to select the
        // session ... If no session is found, the packet MUST be discarded."
        if p.your_discriminator != 0 && p.your_discriminator != self.config.local_discriminator {
            return Err(RxError::UnknownDiscriminator(p.your_discriminator));
        }
        // §6.8.6: "If the Your Discriminator field is zero and the State field is not Down or
        // AdminDown, the packet MUST be discarded."
        if p.your_discriminator == 0 && !matches!(p.state, State::Down | State::AdminDown) {
            return Err(RxError::ZeroYourDiscriminator(p.state));
        }
        // §6.8.6: "If the A bit is set and no authentication is in use (bfd.AuthType is zero),
        // the packet MUST be discarded."
        if let Some(auth) = &p.authentication {
            return Err(RxError::AuthenticationUnsupported(auth.auth_type));
        }
        self.remote_discriminator = p.my_discriminator;
        self.remote_state = p.state;
        self.remote_min_rx = p.required_min_rx;
        self.remote_desired_min_tx = p.desired_min_tx;
        self.remote_detect_mult = p.detect_mult;
        // §6.8.6: "If a Poll Sequence is being transmitted by the local system and the Final
        // (F) bit in the received packet is set, the Poll Sequence MUST be terminated."
        if p.final_ && self.poll_active {
            self.poll_active = false;
            self.active_tx = self.config.desired_min_tx;
            self.active_rx = self.config.required_min_rx;
            self.events.push_back(Event::PollComplete);
        }
        // §6.8.6: "If bfd.SessionState is AdminDown: Discard the packet".
        if self.state == State::AdminDown {
            return Ok(());
        }
        let before = self.state;
        if p.state == State::AdminDown {
            if self.state != State::Down {
                self.diagnostic = Diagnostic::NEIGHBOR_SIGNALED_SESSION_DOWN;
                self.set_state(State::Down);
            }
        } else {
            match (self.state, p.state) {
                (State::Down, State::Down) => self.set_state(State::Init),
                (State::Down | State::Init, State::Init | State::Up) => self.set_state(State::Up),
                (State::Up, State::Down) => {
                    self.diagnostic = Diagnostic::NEIGHBOR_SIGNALED_SESSION_DOWN;
                    self.set_state(State::Down);
                }
                _ => {}
            }
        }
        if before != State::Up && self.state == State::Up {
            self.diagnostic = Diagnostic::NONE;
        }
        // §6.8.7: "if a BFD Control packet is received with the Poll (P) bit set ..., the
        // receiving system MUST transmit a BFD Control packet with the Poll (P) bit clear and
        // the Final (F) bit set as soon as practicable, without respect to the transmission
        // timer".
        if p.poll {
            self.send_final = true;
        }
        // The passive side starts transmitting once it has heard from the peer.
        if self.next_tx.is_none() || self.send_final {
            self.next_tx = Some(now);
        } else if before != self.state {
            // A state change is signalled at once rather than at the next periodic slot.
            self.next_tx = Some(now);
        }
        // §6.8.4: the detection timer restarts on every valid packet.
        let detect = self.detection_time();
        self.detect_deadline = (!detect.is_zero()).then(|| now + detect);
        Ok(())
    }

    /// Runs the timers due at `now`: detection expiry (§6.8.4) and periodic transmission
    /// (§6.8.7).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.detect_deadline.is_some_and(|t| t <= now) {
            self.detect_deadline = None;
            // §6.8.1 bfd.RemoteDiscr: "MUST be set to zero if Detection Time passes without the
            // receipt of a valid, authenticated BFD packet from the remote system."
            self.remote_discriminator = 0;
            self.remote_min_rx = Duration::from_micros(1);
            if matches!(self.state, State::Init | State::Up) {
                // §6.8.4: "the session has gone down -- the local system MUST set
                // bfd.SessionState to Down and bfd.LocalDiag to 1".
                self.diagnostic = Diagnostic::CONTROL_DETECTION_TIME_EXPIRED;
                self.set_state(State::Down);
            }
            if self.config.passive {
                self.next_tx = None;
            }
        }
        if self.next_tx.is_some_and(|t| t <= now) {
            self.transmit(now);
        }
    }

    /// The earliest instant at which [`Session::handle_timeout`] must be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.next_tx, self.detect_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next UDP payload to send to the peer.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<PacketBuf> {
        self.transmits.pop_front()
    }

    /// The next event for the owner.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether an event is waiting for [`Session::poll_event`] (without taking it).
    #[must_use]
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    fn may_transmit(&self) -> bool {
        // §6.8.7: "A system MUST NOT transmit BFD Control packets if bfd.RemoteDiscr is zero
        // and the system is taking the Passive role", nor periodically "if
        // bfd.RemoteMinRxInterval is zero".
        let passive_unheard = self.config.passive && self.remote_discriminator == 0;
        !passive_unheard && !self.remote_min_rx.is_zero()
    }

    fn transmit(&mut self, now: Instant) {
        if self.state == State::AdminDown && self.admin_down_until.is_some_and(|t| t <= now) {
            self.next_tx = None;
            return;
        }
        if !self.may_transmit() && !self.send_final {
            self.next_tx = None;
            return;
        }
        let final_ = std::mem::take(&mut self.send_final);
        let packet = ControlPacket {
            diagnostic: self.diagnostic,
            state: self.state,
            // "A system MUST NOT set the Poll (P) and Final (F) bits at the same time" is not
            // RFC text, but §6.8.7 asks for P clear on the Final reply; a pending poll goes out
            // on the next periodic packet.
            poll: self.poll_active && !final_,
            final_,
            control_plane_independent: false,
            demand: false,
            detect_mult: self.config.detect_mult,
            my_discriminator: self.config.local_discriminator,
            your_discriminator: self.remote_discriminator,
            desired_min_tx: self.advertised_min_tx(),
            required_min_rx: self.config.required_min_rx,
            required_min_echo_rx: Duration::ZERO,
            authentication: None,
        };
        self.transmits.push_back(packet.to_buf());
        // §6.8.7: jittered per packet, in the ranges of `BfdJitter` (the RFC's or BIRD's).
        let jitter = self
            .config
            .tx_jitter
            .for_multiplier(self.config.detect_mult);
        self.next_tx = Some(now + jitter.apply(self.tx_interval(), &mut self.rng));
    }

    fn set_state(&mut self, to: State) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        self.events.push_back(Event::StateChanged {
            from,
            to,
            diagnostic: self.diagnostic,
        });
        if from == State::Up {
            self.events.push_back(Event::SessionDown {
                diagnostic: self.diagnostic,
            });
        }
    }

    /// The last state the remote system reported.
    #[must_use]
    pub const fn remote_state(&self) -> State {
        self.remote_state
    }
}
