//! One BGP session: the RFC 4271 §8.2.2 state machine over one TCP connection.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sim_core::time::{Duration, Instant};
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::Arc;

use super::codec::{self, Framer, Incoming, OpenInfo};
use super::config::{Config, ConfigError};
use super::event::{
    Command, Event, Negotiated, PeerGracefulRestart, SessionEvent, Transmit, Transport,
};
use super::profile::{Down, HoldExpiry, Jitter, RestartRule};
use super::{State, Timer, TimerTable};
use crate::wire::{
    CeaseSubcode, DecodeCtx, DecodeError, EncodeCtx, EncodeError, ErrorCode, Family, FsmSubcode,
    Notification, OpenSubcode,
};

/// Why a [`Command`] could not be carried out. State-changing commands always succeed (a start
/// while running or a stop while stopped is a no-op, as RFC 4271 §8.2.2 ignores them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// UPDATEs can only be sent in Established.
    #[error("cannot send an UPDATE in state {0}")]
    NotEstablished(State),
    /// The UPDATE does not encode under the negotiated context (e.g. too long).
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The state of the TCP connection as the session sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    /// No connection and none being opened.
    None,
    /// `Transmit::Connect` was issued; waiting for the transport's answer.
    Connecting,
    /// The connection is up.
    Open,
}

/// What happens once the session is back in Idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Restart {
    /// Stay in Idle until a start command.
    Never,
    /// The session went down by itself: restart after the delay the profile's
    /// [`RestartRule`] gives for this kind of down (§8.1.1 DampPeerOscillations and the
    /// implementations' variants), if automatic restarts are on.
    Automatic(Down),
    /// Restart after exactly this delay (maximum-prefix restart).
    After(Duration),
}

/// A BGP-4 session, sans-IO (quinn-proto's shape).
///
/// # Call order
///
/// 1. Feed inputs, each with the current virtual time:
///    [`handle_command`](Self::handle_command) (start, stop, max-prefix, BFD down, collision
///    dump, UPDATEs to send), [`handle_transport`](Self::handle_transport) (connection up,
///    failed, closed), [`handle_bytes`](Self::handle_bytes) (bytes read from the connection)
///    and [`handle_timeout`](Self::handle_timeout) once the instant returned by
///    [`poll_timeout`](Self::poll_timeout) is reached.
/// 2. After every input, drain [`poll_transmit`](Self::poll_transmit) until `None` (in order:
///    `Connect`, then `Bytes` to write, then `Close` after the bytes before it), then
///    [`poll_event`](Self::poll_event) until `None`.
/// 3. Ask [`poll_timeout`](Self::poll_timeout) again and schedule a wake-up for it.
///
/// The session reads no clock and owns no socket. Randomness (timer jitter) comes from a
/// ChaCha8 generator seeded in [`new`](Self::new), so a run is reproducible.
#[derive(Debug, Clone)]
pub struct Session {
    /// Shared, never mutated: cloning a session (a forked simulation copies every router)
    /// then copies no configuration.
    config: Arc<Config>,
    rng: ChaCha8Rng,
    state: State,
    timers: TimerTable,
    conn: Conn,
    framer: Framer,
    decode: DecodeCtx,
    encode: EncodeCtx,
    negotiated: Option<Negotiated>,
    /// The start mode of the last start (automatic restarts repeat it).
    passive: bool,
    /// ConnectRetryCounter (§8.1.2), kept for statistics and damping.
    connect_retry_counter: u32,
    /// The automatic-restart delay in force (BIRD's `startup_delay`, FRR's `v_start`; zero:
    /// none), as the profile's [`RestartRule`] moves it.
    restart_delay: Duration,
    /// When the last error that moved `restart_delay` happened (for `IdleHold::forget`).
    last_error: Option<Instant>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<SessionEvent>,
    /// The NOTIFICATION that is taking the session down was a Cease that ends graceful
    /// restart (RFC 8538 §3, §5); read by `go_idle`.
    hard_reset_received: bool,
    /// The hold timer expired and the session waits for its event loop's next wake-up to act
    /// on it ([`HoldExpiry::NextWakeUp`]): at this instant at the latest.
    wake_at: Option<Instant>,
}

impl Session {
    /// A session in Idle. `seed` seeds the jitter generator.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the configuration cannot run (hold time 1 or 2 s, zero router id,
    /// AS 0).
    pub fn new(config: Config, seed: u64) -> Result<Self, ConfigError> {
        Self::with_shared_config(Arc::new(config), seed)
    }

    /// [`Self::new`] with a configuration shared with its owner (a speaker keeps one per
    /// peer to make sessions on colliding connections from).
    ///
    /// # Errors
    ///
    /// As [`Self::new`].
    pub fn with_shared_config(config: Arc<Config>, seed: u64) -> Result<Self, ConfigError> {
        config.validate()?;
        let restart_delay = Self::initial_restart_delay(&config);
        Ok(Self {
            config,
            rng: ChaCha8Rng::seed_from_u64(seed),
            state: State::Idle,
            timers: TimerTable::default(),
            conn: Conn::None,
            framer: Framer::default(),
            decode: DecodeCtx::default(),
            encode: EncodeCtx::default(),
            negotiated: None,
            passive: false,
            connect_retry_counter: 0,
            restart_delay,
            last_error: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            hard_reset_received: false,
            wake_at: None,
        })
    }

    /// The current state.
    #[must_use]
    pub const fn state(&self) -> State {
        self.state
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The armed timers.
    #[must_use]
    pub const fn timers(&self) -> &TimerTable {
        &self.timers
    }

    /// What the OPENs negotiated, from OpenConfirm until the session goes down.
    #[must_use]
    pub const fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// Received octets held for an incomplete message. [`handle_bytes`](Self::handle_bytes)
    /// decodes every whole message before it returns, so this stays below the largest
    /// message the session accepts (4,096 octets, or 65,535 with RFC 8654 extended messages):
    /// a peer cannot make the session buffer without bound (the speaker fuzz target checks
    /// it).
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.framer.buffered()
    }

    /// ConnectRetryCounter (RFC 4271 §8.1.2).
    #[must_use]
    pub const fn connect_retry_counter(&self) -> u32 {
        self.connect_retry_counter
    }

    /// Whether an UPDATE may be sent now: Established, not waiting to act on an expired hold
    /// timer, and the MRAI timer not running.
    #[must_use]
    pub fn may_advertise(&self) -> bool {
        self.state == State::Established
            && self.wake_at.is_none()
            && !self.timers.is_armed(Timer::MinRouteAdvertisement)
    }

    /// When the session will act on its expired hold timer if nothing wakes its event loop
    /// sooner (`None`: not waiting). Only a profile with [`HoldExpiry::NextWakeUp`] waits:
    /// from the expiry, the session sends nothing (no KEEPALIVE), reads nothing, and still
    /// reads as [`State::Established`]; at [`handle_wake`](Self::handle_wake) (or this
    /// deadline, through [`handle_timeout`](Self::handle_timeout)) it sends its NOTIFICATION,
    /// closes and goes to Idle.
    #[must_use]
    pub const fn waiting_until(&self) -> Option<Instant> {
        self.wake_at
    }

    /// The owner's event loop woke up (BGP input on another connection, another BGP timer of
    /// the same daemon, an operator's command): a session waiting to act on its expired hold
    /// timer acts now (RFC 4271 §8.2.2 Event 10: the NOTIFICATION Hold Timer Expired, the
    /// close, Idle). Nothing happens otherwise.
    pub fn handle_wake(&mut self, now: Instant) {
        if self.wake_at.take().is_some() {
            self.act_on_hold_expiry(now);
        }
    }

    /// The next output for the transport.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the owner.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// The instant at which [`handle_timeout`](Self::handle_timeout) must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.timers.next_deadline(), self.wake_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Applies a command from the owner.
    ///
    /// # Errors
    ///
    /// Only [`Command::SendUpdate`] fails: outside Established, or when the UPDATE does not
    /// encode under the negotiated context.
    pub fn handle_command(&mut self, now: Instant, command: Command) -> Result<(), CommandError> {
        // A command comes in on the daemon's control socket (or from another of its
        // sessions): its loop is awake, so a pending hold expiry is acted on first.
        self.handle_wake(now);
        match command {
            Command::Start | Command::StartPassive => {
                // §8.2.2 Idle: "Any other event ... does not cause change in the state"; a
                // start in any other state is ignored.
                if self.state == State::Idle {
                    self.passive = command == Command::StartPassive;
                    self.forget_errors();
                    self.start(now, Event::ManualStart);
                }
            }
            Command::Stop { message } => self.manual_stop(
                now,
                CeaseSubcode::ADMINISTRATIVE_SHUTDOWN,
                message.as_deref(),
            ),
            Command::StopWith { subcode, message } => {
                self.manual_stop(now, subcode, message.as_deref());
            }
            Command::MaxPrefixExceeded { family, limit } => {
                if self.conn == Conn::Open
                    && matches!(self.state, State::OpenConfirm | State::Established)
                {
                    // RFC 4486 §4: "the Data field ... AFI (2 octets), SAFI (1 octet), and the
                    // upper bound on the number of address prefixes (4 octets)".
                    let mut data = Vec::with_capacity(7);
                    data.extend_from_slice(&family.afi.0.to_be_bytes());
                    data.push(family.safi.0);
                    data.extend_from_slice(&limit.to_be_bytes());
                    self.send_notification(Notification::new(
                        ErrorCode::CEASE,
                        CeaseSubcode::MAXIMUM_NUMBER_OF_PREFIXES_REACHED.0,
                        data,
                    ));
                    let restart = self
                        .config
                        .max_prefix_restart
                        .map_or(Restart::Never, Restart::After);
                    self.go_idle(now, Event::AutomaticStop, restart);
                }
            }
            Command::BfdDown => {
                if self.state != State::Idle {
                    if self.conn == Conn::Open && self.opened() {
                        self.send_notification(Notification::cease(CeaseSubcode::BFD_DOWN));
                    }
                    self.go_idle(now, Event::AutomaticStop, Restart::Automatic(Down::BfdDown));
                }
            }
            Command::CollisionDump => {
                if self.conn == Conn::Open && self.opened() {
                    // §6.8: "the local system closes the BGP connection ... by sending a
                    // NOTIFICATION message with the Error Code Cease".
                    self.send_notification(Notification::cease(
                        CeaseSubcode::CONNECTION_COLLISION_RESOLUTION,
                    ));
                }
                if self.state != State::Idle {
                    self.go_idle(now, Event::OpenCollisionDump, Restart::Never);
                }
            }
            Command::SendUpdate(update) => {
                if self.state != State::Established {
                    return Err(CommandError::NotEstablished(self.state));
                }
                // An End-of-RIB marker (RFC 4724 §2) advertises no destination, so it does not
                // start the MinRouteAdvertisementInterval (RFC 4271 §9.2.1.1: per destination).
                let end_of_rib = update.is_end_of_rib();
                let bytes = codec::update(update, &self.encode)?;
                self.transmits.push_back(Transmit::Bytes(bytes));
                self.restart_keepalive(now);
                let mrai = self.config.mrai();
                if !end_of_rib
                    && !mrai.is_zero()
                    && !self.timers.is_armed(Timer::MinRouteAdvertisement)
                {
                    let jitter = self.config.profile.mrai_jitter;
                    self.arm(Timer::MinRouteAdvertisement, now, mrai, jitter);
                }
            }
        }
        Ok(())
    }

    /// Reports a change of the TCP connection.
    ///
    /// A `Connected` outside Connect and Active is ignored: a second, colliding connection
    /// belongs to a second `Session` (see [`collision`](super::collision)).
    pub fn handle_transport(&mut self, now: Instant, transport: Transport) {
        match transport {
            Transport::Connected => match self.state {
                State::Connect | State::Active if self.conn != Conn::Open => {
                    self.conn = Conn::Open;
                    self.timers.stop(Timer::ConnectRetry);
                    if self.config.delay_open {
                        // §8.2.2 Connect, Event 16/17 with DelayOpen: "sets the DelayOpenTimer
                        // to the initial value (DelayOpenTime)".
                        let delay = self.config.profile.delay_open;
                        self.arm(Timer::DelayOpen, now, delay, Jitter::NONE);
                    } else {
                        self.send_open(now, Event::TcpConnectionConfirmed);
                    }
                }
                // §8.2.2 Idle: "the local system refuses all incoming BGP connections".
                State::Idle => self.transmits.push_back(Transmit::Close),
                _ => {}
            },
            Transport::ConnectFailed | Transport::Closed => match self.state {
                State::Connect | State::Active => {
                    if self.conn != Conn::None {
                        self.conn = Conn::None;
                        self.framer.clear();
                        self.timers.stop(Timer::DelayOpen);
                        // §8.2.2 says Connect → Idle on TcpConnectionFails without DelayOpen;
                        // real speakers keep retrying instead (BIRD `bgp_sock_err`: "state =
                        // BS_ACTIVE; bgp_start_timer(connect_retry_timer)"), as RFC 1771 did.
                        // Active with its ConnectRetryTimer is that behaviour.
                        self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
                        self.arm_connect_retry(now);
                        self.set_state(State::Active, Event::TcpConnectionFails);
                    }
                }
                State::OpenSent | State::OpenConfirm | State::Established
                    if self.wake_at.is_some() =>
                {
                    // Waiting to act on the hold expiry, the session no longer watches its
                    // connection (BIRD's close state polls it for nothing): the loss is seen
                    // at the wake-up, when there is no connection left to send the
                    // NOTIFICATION on.
                    self.conn = Conn::None;
                    self.framer.clear();
                }
                State::OpenSent => {
                    // §8.2.2 OpenSent, Event 18: "closes the BGP connection, restarts the
                    // ConnectRetryTimer, continues to listen for a connection ..., and changes
                    // its state to Active."
                    self.conn = Conn::None;
                    self.framer.clear();
                    self.timers.stop(Timer::Hold);
                    self.arm_connect_retry(now);
                    self.set_state(State::Active, Event::TcpConnectionFails);
                }
                State::OpenConfirm | State::Established => {
                    self.conn = Conn::None;
                    let restart = Restart::Automatic(Down::ConnectionLost);
                    self.go_idle(now, Event::TcpConnectionFails, restart);
                }
                State::Idle => {}
            },
        }
    }

    /// Processes bytes read from the connection: frames them into messages, decodes each with
    /// the negotiated context and runs the state machine. Bytes received without an open
    /// connection are ignored.
    pub fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) {
        // Waiting to act on an expired hold timer, the session reads nothing (BIRD's
        // `bgp_conn_enter_close_state` clears the socket's `rx_hook`).
        if self.conn != Conn::Open || self.wake_at.is_some() {
            return;
        }
        self.framer.push(bytes);
        while self.conn == Conn::Open {
            match self.framer.next(&self.decode) {
                Ok(None) => break,
                Ok(Some(message)) => self.handle_message(now, message),
                Err(error) => self.handle_decode_error(now, &error),
            }
        }
    }

    /// Runs every timer due at `now`, earliest first, after acting on an expired hold timer
    /// whose wake-up deadline ([`waiting_until`](Self::waiting_until)) has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.wake_at.is_some_and(|t| t <= now) {
            self.handle_wake(now);
        }
        while let Some(timer) = self.timers.expired(now) {
            self.timers.stop(timer);
            self.handle_timer(now, timer);
        }
    }

    fn handle_timer(&mut self, now: Instant, timer: Timer) {
        match (timer, self.state) {
            (Timer::ConnectRetry, State::Connect | State::Active) => {
                // §8.2.2 Connect, Event 9: "drops the TCP connection, restarts the
                // ConnectRetryTimer, stops the DelayOpenTimer and resets the timer, initiates a
                // TCP connection"; Active, Event 9: the same and "changes its state to
                // Connect".
                if self.conn != Conn::None {
                    self.transmits.push_back(Transmit::Close);
                    self.framer.clear();
                }
                self.timers.stop(Timer::DelayOpen);
                self.arm_connect_retry(now);
                self.conn = Conn::Connecting;
                self.transmits.push_back(Transmit::Connect);
                self.set_state(State::Connect, Event::ConnectRetryTimerExpires);
            }
            (Timer::DelayOpen, State::Connect | State::Active) if self.conn == Conn::Open => {
                // Event 12: "sends an OPEN message to its peer, sets the HoldTimer to a large
                // value, and changes its state to OpenSent".
                self.send_open(now, Event::DelayOpenTimerExpires);
            }
            (Timer::Hold, State::OpenSent | State::OpenConfirm | State::Established) => {
                self.events.push_back(SessionEvent::HoldTimerExpired);
                match self.config.profile.hold_expiry {
                    HoldExpiry::Immediate => self.act_on_hold_expiry(now),
                    HoldExpiry::NextWakeUp { cap } => {
                        // BIRD `bgp_error` → `bgp_conn_enter_close_state`: no more
                        // keepalives, no more input, the rest at the loop's next wake-up (see
                        // `Profile::BIRD`). Its 10 s close-state hold timer ends after the cap,
                        // so it is not modelled.
                        self.timers.stop_all();
                        self.wake_at = Some(now + cap);
                    }
                }
            }
            (Timer::Keepalive, State::OpenConfirm | State::Established) => {
                self.transmits
                    .push_back(Transmit::Bytes(codec::keepalive()));
                self.restart_keepalive(now);
            }
            (Timer::IdleHold, State::Idle) => self.start(now, Event::IdleHoldTimerExpires),
            (Timer::MinRouteAdvertisement, State::Established) => {
                self.events.push_back(SessionEvent::MraiExpired);
            }
            // A timer a state does not use is never armed (`State::uses`), so nothing else can
            // fire; were it to, the RFC's "any other event" rule is an FSM error.
            (_, state) => self.fsm_error(now, state, Event::AutomaticStop),
        }
    }

    /// Event 10: "sends a NOTIFICATION message with the Error Code Hold Timer Expired ...
    /// drops the TCP connection ... changes its state to Idle".
    fn act_on_hold_expiry(&mut self, now: Instant) {
        let n = Notification::hold_timer_expired();
        let restart = Restart::Automatic(Down::NotificationSent(n.code));
        self.send_notification(n);
        self.go_idle(now, Event::HoldTimerExpires, restart);
    }

    fn handle_message(&mut self, now: Instant, message: Incoming) {
        match message {
            Incoming::Notification(n) => {
                // Event 24/25 in every state: "drops the TCP connection, releases all BGP
                // resources, ... changes its state to Idle".
                self.hard_reset_received = ends_graceful_restart(&n);
                let restart = Restart::Automatic(Down::NotificationReceived(n.code));
                self.events.push_back(SessionEvent::NotificationReceived(n));
                self.go_idle(now, Event::NotifMsg, restart);
            }
            Incoming::Open(open) => match self.state {
                State::OpenSent => self.accept_open(now, &open, false),
                State::Connect | State::Active if self.timers.is_armed(Timer::DelayOpen) => {
                    // Event 20: the OPEN arrived while the DelayOpenTimer ran.
                    self.accept_open(now, &open, true);
                }
                state => self.fsm_error(now, state, Event::BgpOpen),
            },
            Incoming::Keepalive => match self.state {
                State::OpenConfirm => {
                    // Event 26 in OpenConfirm: "restarts the HoldTimer and changes its state
                    // to Established".
                    self.restart_hold(now);
                    self.set_state(State::Established, Event::KeepAliveMsg);
                    if self.config.idle_hold().rule == RestartRule::StartTimer {
                        // FRR `bgp_establish`: "Clear start timer value to default".
                        self.restart_delay = self.config.idle_hold().initial;
                    }
                    if let Some(n) = &self.negotiated {
                        self.events.push_back(SessionEvent::Established(n.clone()));
                    }
                }
                State::Established => self.restart_hold(now),
                state => self.fsm_error(now, state, Event::KeepAliveMsg),
            },
            Incoming::Update(update) => match self.state {
                State::Established => {
                    // Event 27: "restarts its HoldTimer, if the negotiated HoldTime value is
                    // non-zero".
                    self.restart_hold(now);
                    self.events.push_back(SessionEvent::UpdateReceived(update));
                }
                state => self.fsm_error(now, state, Event::UpdateMsg),
            },
            Incoming::Other => match self.state {
                // ROUTE-REFRESH and other known messages restart the hold timer (§4.4: the
                // hold timer tracks "successive KEEPALIVE and/or UPDATE messages"; a
                // ROUTE-REFRESH shows the peer alive just as well).
                State::Established => self.restart_hold(now),
                state => self.fsm_error(now, state, Event::UpdateMsg),
            },
        }
    }

    fn handle_decode_error(&mut self, now: Instant, error: &DecodeError) {
        let cause = match error {
            DecodeError::Header(_) => Event::BgpHeaderErr,
            DecodeError::Open(_) => Event::BgpOpenMsgErr,
            DecodeError::Update(_) | DecodeError::RouteRefresh(_) => Event::UpdateMsgErr,
        };
        // §6: "When any of the conditions described here are detected, a NOTIFICATION message,
        // with the indicated Error Code, Error Subcode, and Data fields, is sent, and the BGP
        // connection is closed".
        let n = Notification::from(error);
        let restart = Restart::Automatic(Down::NotificationSent(n.code));
        self.send_notification(n);
        self.go_idle(now, cause, restart);
    }

    /// Checks a received OPEN beyond what the codec checks, and negotiates.
    fn accept_open(&mut self, now: Instant, open: &OpenInfo, delayed: bool) {
        if let Err(n) = self.check_open(open) {
            let restart = Restart::Automatic(Down::NotificationSent(n.code));
            self.send_notification(n);
            self.go_idle(now, Event::BgpOpenMsgErr, restart);
            return;
        }
        let local_hold = self.config.hold_time();
        // §4.2: "the BGP speaker MUST calculate the value of the Hold Timer by using the
        // smaller of its configured Hold Time and the Hold Time received in the OPEN message".
        let hold = local_hold.min(Duration::from_secs(u64::from(open.hold_time)));
        let keepalive =
            self.config
                .profile
                .keepalive_rule
                .keepalive(hold, local_hold, self.config.keepalive());
        let negotiated = self.negotiate(open, hold, keepalive);
        self.decode = negotiated.decode.clone();
        self.encode = negotiated.encode.clone();
        self.negotiated = Some(negotiated);
        self.timers.stop(Timer::ConnectRetry);
        self.timers.stop(Timer::DelayOpen);
        if delayed {
            // Event 20: "sends an OPEN message, sends a KEEPALIVE message".
            self.transmits
                .push_back(Transmit::Bytes(codec::open(&self.config)));
        }
        // Event 19: "sends a KEEPALIVE message, sets a KeepaliveTimer ... sets the HoldTimer
        // according to the negotiated value"; a zero hold time stops both (§4.4, §8.2.2:
        // "If the negotiated hold time value is zero, then the HoldTimer and KeepaliveTimer
        // are not started").
        self.transmits
            .push_back(Transmit::Bytes(codec::keepalive()));
        self.restart_hold(now);
        self.restart_keepalive(now);
        self.set_state(State::OpenConfirm, Event::BgpOpen);
        self.events.push_back(SessionEvent::OpenReceived {
            remote_id: open.id,
            remote_as: open.asn,
        });
    }

    /// The OPEN checks of RFC 4271 §6.2 that need the session's configuration.
    fn check_open(&self, open: &OpenInfo) -> Result<(), Notification> {
        // §6.2: "If the Hold Time field of the OPEN message is unacceptable, then the Error
        // Subcode MUST be set to Unacceptable Hold Time. An implementation MUST reject Hold
        // Time values of one or two seconds." (The codec refuses them too; this keeps the
        // rule whatever the codec does.)
        if open.hold_time == 1 || open.hold_time == 2 {
            return Err(Notification::open(
                OpenSubcode::UNACCEPTABLE_HOLD_TIME,
                Vec::new(),
            ));
        }
        // §6.2: "If the Autonomous System field of the OPEN message is unacceptable, then the
        // Error Subcode MUST be set to Bad Peer AS."
        if open.asn != self.config.remote_as {
            return Err(Notification::open(OpenSubcode::BAD_PEER_AS, Vec::new()));
        }
        // RFC 6286 §2.2: within an AS the BGP Identifiers must differ; a peer using ours is
        // "Bad BGP Identifier" (§6.2).
        if self.config.internal && open.id == self.config.router_id {
            return Err(Notification::open(
                OpenSubcode::BAD_BGP_IDENTIFIER,
                open.id.octets().to_vec(),
            ));
        }
        Ok(())
    }

    /// Capability negotiation: each capability is in force when both sides announced it.
    fn negotiate(&self, open: &OpenInfo, hold: Duration, keepalive: Duration) -> Negotiated {
        let caps = &open.capabilities;
        // RFC 4760 §8: without Multiprotocol capabilities, IPv4 unicast is implied.
        let theirs: Vec<Family> = if caps.families.is_empty() {
            vec![Family::IPV4_UNICAST]
        } else {
            caps.families.clone()
        };
        let ours: Vec<Family> = if self.config.families.is_empty() {
            vec![Family::IPV4_UNICAST]
        } else {
            self.config.families.clone()
        };
        let families = ours.into_iter().filter(|f| theirs.contains(f)).collect();
        let four_octet_as = self.config.four_octet_as && caps.four_octet_as.is_some();
        let extended_message = self.config.extended_message && caps.extended_message;
        let (add_path_receive, add_path_send) =
            codec::add_path(&self.config.add_path, &caps.add_path);
        let decode = DecodeCtx {
            four_octet_as,
            add_path: add_path_receive,
            extended_message,
        };
        let encode = EncodeCtx {
            four_octet_as,
            add_path: add_path_send,
            extended_message,
        };
        Negotiated {
            remote_as: open.asn,
            remote_id: open.id,
            hold_time: hold,
            keepalive,
            families,
            route_refresh: self.config.route_refresh && caps.route_refresh,
            graceful_restart: self.config.graceful_restart.is_some()
                && caps.graceful_restart.is_some(),
            peer_graceful_restart: caps
                .graceful_restart
                .as_ref()
                .filter(|_| self.config.graceful_restart.is_some())
                .map(|(flags, time, families)| PeerGracefulRestart {
                    restart_time: Duration::from_secs(u64::from(*time)),
                    // RFC 8538 §2: in force when both sides set it (FRR
                    // `bgp_has_graceful_restart_notification` checks sent and received).
                    notification: self.config.graceful_restart_notification
                        && flags & codec::GR_FLAG_NOTIFICATION != 0,
                    families: families
                        .iter()
                        .map(|f| (f.family, f.flags & codec::GR_FAMILY_FORWARDING != 0))
                        .collect(),
                }),
            decode,
            encode,
        }
    }

    /// Idle → Connect (or Active when passive): Events 1, 3, 4, 5.
    fn start(&mut self, now: Instant, cause: Event) {
        self.connect_retry_counter = 0;
        let cause = if cause == Event::IdleHoldTimerExpires {
            Event::AutomaticStart
        } else {
            cause
        };
        self.timers.stop(Timer::IdleHold);
        if self.passive {
            // Event 4/5: "listens for a connection ... changes its state to Active". The RFC
            // also starts the ConnectRetryTimer, whose expiry would make the session connect
            // actively; real `passive` neighbours never connect (FRR `bgp_timer_set`, Active:
            // "If peer is passive mode, do not set connect timer"), so it stays stopped.
            self.set_state(State::Active, cause);
            return;
        }
        // Event 1/3: "starts the ConnectRetryTimer with the initial value, initiates a TCP
        // connection to the other BGP peer ... changes its state to Connect". A profile with a
        // connect delay (BIRD `connect delay time`) lets the first ConnectRetryTimer expiry
        // initiate the connection instead.
        let delay = self.config.connect_delay();
        if delay.is_zero() {
            self.arm_connect_retry(now);
            self.conn = Conn::Connecting;
            self.transmits.push_back(Transmit::Connect);
        } else {
            let jitter = self.config.profile.connect_retry_jitter;
            self.arm(Timer::ConnectRetry, now, delay, jitter);
        }
        self.set_state(State::Connect, cause);
    }

    fn manual_stop(&mut self, now: Instant, subcode: CeaseSubcode, message: Option<&str>) {
        if self.state == State::Idle {
            // A stop in Idle cancels a pending automatic restart.
            self.timers.stop(Timer::IdleHold);
            self.forget_errors();
            return;
        }
        if self.conn == Conn::Open && self.opened() {
            // §8.2.2 Event 2 in OpenSent/OpenConfirm/Established: "sends the NOTIFICATION with
            // a Cease"; RFC 4486 §4 picks the subcode ("Administrative Shutdown" for a plain
            // stop, "Peer De-configured" when the peering is removed, ...), and RFC 9003 §2
            // carries the operator's message with Administrative Shutdown or Reset only.
            let communicates = subcode == CeaseSubcode::ADMINISTRATIVE_SHUTDOWN
                || subcode == CeaseSubcode::ADMINISTRATIVE_RESET;
            let n = match message.filter(|_| communicates) {
                Some(text) => Notification::shutdown(subcode, text),
                None => Notification::cease(subcode),
            };
            self.send_notification(n);
        }
        self.forget_errors();
        // Event 2: "sets the ConnectRetryCounter to zero".
        self.connect_retry_counter = 0;
        self.go_idle(now, Event::ManualStop, Restart::Never);
    }

    /// Whether our OPEN went out on the current connection (a NOTIFICATION needs it).
    const fn opened(&self) -> bool {
        matches!(
            self.state,
            State::OpenSent | State::OpenConfirm | State::Established
        )
    }

    fn send_open(&mut self, now: Instant, cause: Event) {
        self.transmits
            .push_back(Transmit::Bytes(codec::open(&self.config)));
        // §8.2.2: "sets the HoldTimer to a large value ... A HoldTimer value of 4 minutes is
        // suggested"; profiles choose (FRR uses the configured hold time here).
        let large = self
            .config
            .profile
            .open_sent_hold
            .unwrap_or_else(|| self.config.hold_time());
        if large.is_zero() {
            self.timers.stop(Timer::Hold);
        } else {
            let jitter = self.config.profile.hold_jitter;
            self.arm(Timer::Hold, now, large, jitter);
        }
        self.set_state(State::OpenSent, cause);
    }

    fn send_notification(&mut self, n: Notification) {
        // RFC 8538 §5.1: with the N bit exchanged, the Ceases that end the peering on purpose
        // go out as a Hard Reset wrapping them (§3), so that the peer flushes our routes
        // instead of keeping them as stale.
        let notification = self
            .negotiated
            .as_ref()
            .and_then(|x| x.peer_graceful_restart.as_ref())
            .is_some_and(|gr| gr.notification);
        let mut n = if notification && self.sends_hard_reset(&n) {
            hard_reset(n)
        } else {
            n
        };
        // The event reports what goes on the wire: Data cut to fit (see `codec::notification`).
        n.data.truncate(codec::MAX_NOTIFICATION_DATA);
        if self.conn == Conn::Open {
            self.transmits
                .push_back(Transmit::Bytes(codec::notification(&n)));
        }
        self.events.push_back(SessionEvent::NotificationSent(n));
    }

    /// Whether a NOTIFICATION is sent as a Hard Reset when the N bit is in force: RFC 8538
    /// §5.1's table, Cease subcodes Maximum Number of Prefixes Reached (1), Administrative
    /// Shutdown (2) and Peer De-configured (3) "Hard Reset", Administrative Reset (4)
    /// "Provide user control" ([`Config::hard_administrative_reset`]); Connection Rejected,
    /// Other Configuration Change, Connection Collision Resolution and Out of Resources (5–8)
    /// "Graceful Cease". BFD Down (10, RFC 9384) postdates the table; it goes as a Hard Reset
    /// as FRR sends it (`bgpd/bgp_packet.c`, `bgp_notify_send_hard_reset`), since the sender
    /// found the forwarding path dead and keeps none of the peer's routes either
    /// (`helper_retains`). Every other error code is graceful (§4): the peer keeps our routes.
    fn sends_hard_reset(&self, n: &Notification) -> bool {
        n.code == ErrorCode::CEASE
            && match CeaseSubcode(n.subcode) {
                CeaseSubcode::MAXIMUM_NUMBER_OF_PREFIXES_REACHED
                | CeaseSubcode::ADMINISTRATIVE_SHUTDOWN
                | CeaseSubcode::PEER_DECONFIGURED
                | CeaseSubcode::BFD_DOWN => true,
                CeaseSubcode::ADMINISTRATIVE_RESET => self.config.hard_administrative_reset,
                _ => false,
            }
    }

    /// An event the current state does not expect: RFC 6608 FSM Error with the state's
    /// subcode when a connection is open, then Idle. For the restart rules it is an FSM error
    /// detected here either way.
    fn fsm_error(&mut self, now: Instant, state: State, cause: Event) {
        let n = Notification::fsm(FsmSubcode(state.fsm_error_subcode()));
        let restart = Restart::Automatic(Down::NotificationSent(n.code));
        if self.conn == Conn::Open {
            self.send_notification(n);
        }
        self.go_idle(now, cause, restart);
    }

    /// Everything that ends in Idle: "drops the TCP connection, releases all BGP resources"
    /// (§8.2.2), then arms the automatic restart if any.
    fn go_idle(&mut self, now: Instant, cause: Event, restart: Restart) {
        let from = self.state;
        let hard = std::mem::take(&mut self.hard_reset_received);
        if from == State::Established
            && let Some(gr) = self
                .negotiated
                .as_ref()
                .and_then(|n| n.peer_graceful_restart.as_ref())
            && helper_retains(restart, gr.notification, hard)
        {
            self.events.push_back(SessionEvent::GracefulRestart {
                restart_time: gr.restart_time,
                families: gr.families.iter().map(|&(f, _)| f).collect(),
            });
        }
        if self.conn != Conn::None {
            self.transmits.push_back(Transmit::Close);
        }
        self.conn = Conn::None;
        self.framer.clear();
        self.timers.stop_all();
        self.wake_at = None;
        self.negotiated = None;
        self.decode = DecodeCtx::default();
        self.encode = EncodeCtx::default();
        if cause != Event::ManualStop {
            // §8.2.2: most error paths "increment the ConnectRetryCounter by 1".
            self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
        }
        self.set_state(State::Idle, cause);
        match restart {
            Restart::Never => {}
            Restart::After(delay) => self.arm(Timer::IdleHold, now, delay, Jitter::NONE),
            Restart::Automatic(down) if self.config.damp_peer_oscillations => {
                self.count_down(now, down, from);
                let jitter = self.config.profile.idle_hold_jitter;
                self.arm(Timer::IdleHold, now, self.restart_delay, jitter);
            }
            Restart::Automatic(_) => {}
        }
    }

    /// Moves the automatic-restart delay for a session that went down by itself from `from`,
    /// as the profile's [`RestartRule`] says (each rule cites its source).
    fn count_down(&mut self, now: Instant, down: Down, from: State) {
        let idle_hold = self.config.idle_hold();
        let error = match idle_hold.rule {
            // §8.1.1 DampPeerOscillations: "the IdleHoldTimer ... increases exponentially"
            // for consecutive stops; a quiet period resets it (`IdleHold::forget`).
            RestartRule::DampPeerOscillations => true,
            // BIRD `bgp_update_startup_delay` runs from `bgp_error` and `bgp_rx_notification`
            // for codes other than Cease ("err = (code != 6)"), and from `bgp_bfd_notify` only
            // "if (ps == PS_UP)"; `bgp_sock_err` does not run it.
            RestartRule::ErrorWait => match down {
                Down::NotificationSent(code) | Down::NotificationReceived(code) => {
                    code != ErrorCode::CEASE
                }
                Down::BfdDown => from == State::Established,
                Down::ConnectionLost => false,
            },
            RestartRule::StartTimer => match down {
                // `bgp_stop_with_notify` (hold timer expired, FSM errors, and a NOTIFICATION
                // received in OpenSent through `bgp_fsm_event_error`): "Clear start timer value
                // to default".
                Down::NotificationSent(code)
                    if code == ErrorCode::HOLD_TIMER_EXPIRED || code == ErrorCode::FSM =>
                {
                    self.restart_delay = idle_hold.initial;
                    false
                }
                Down::NotificationReceived(_) if from == State::OpenSent => {
                    self.restart_delay = idle_hold.initial;
                    false
                }
                // `bgp_write_notify` for any other NOTIFICATION sent, `bgp_stop_with_error`
                // for one received in OpenConfirm or Established: "Double start timer".
                Down::NotificationSent(_) => true,
                Down::NotificationReceived(_) => {
                    matches!(from, State::OpenConfirm | State::Established)
                }
                // `bgp_stop` leaves `v_start` alone.
                Down::BfdDown | Down::ConnectionLost => false,
            },
        };
        if error {
            self.restart_delay = idle_hold.after_error(self.restart_delay, self.last_error, now);
            self.last_error = Some(now);
        }
    }

    /// The automatic-restart delay before any error: FRR's start timer begins at its initial
    /// value (`BGP_INIT_START_TIMER`); the others at none.
    fn initial_restart_delay(config: &Config) -> Duration {
        let idle_hold = config.idle_hold();
        match idle_hold.rule {
            RestartRule::StartTimer => idle_hold.initial,
            RestartRule::DampPeerOscillations | RestartRule::ErrorWait => Duration::ZERO,
        }
    }

    /// An operator's start or stop clears the error history (BIRD `bgp_shutdown`:
    /// "p->startup_delay = 0"; FRR resets `v_start` to `BGP_INIT_START_TIMER` on a
    /// configured stop or clear, `bgpd/bgpd.c`).
    fn forget_errors(&mut self) {
        self.restart_delay = Self::initial_restart_delay(&self.config);
        self.last_error = None;
    }

    fn set_state(&mut self, to: State, cause: Event) {
        let from = self.state;
        self.state = to;
        if from != to {
            self.events
                .push_back(SessionEvent::StateChanged { from, to, cause });
        }
    }

    fn arm(&mut self, timer: Timer, now: Instant, nominal: Duration, jitter: Jitter) {
        let d = jitter.apply(nominal, &mut self.rng);
        self.timers.set(timer, now + d);
    }

    fn arm_connect_retry(&mut self, now: Instant) {
        if self.passive {
            self.timers.stop(Timer::ConnectRetry);
            return;
        }
        let d = self.config.connect_retry();
        let jitter = self.config.profile.connect_retry_jitter;
        self.arm(Timer::ConnectRetry, now, d, jitter);
    }

    fn restart_hold(&mut self, now: Instant) {
        match self.negotiated.as_ref().map(|n| n.hold_time) {
            Some(hold) if !hold.is_zero() => {
                let jitter = self.config.profile.hold_jitter;
                self.arm(Timer::Hold, now, hold, jitter);
            }
            _ => self.timers.stop(Timer::Hold),
        }
    }

    fn restart_keepalive(&mut self, now: Instant) {
        match self.negotiated.as_ref().map(|n| n.keepalive) {
            Some(k) if !k.is_zero() => {
                // §10's jitter, then the profile's floor: `rfc4271` keeps §4.4's "MUST NOT be
                // sent more frequently than one per second" after jitter, BIRD does not (its
                // `bgp_start_timer` runs a 1 s keepalive for 0.75–1.0 s).
                let d = self.config.profile.keepalive_interval(k, &mut self.rng);
                self.timers.set(Timer::Keepalive, now + d);
            }
            _ => self.timers.stop(Timer::Keepalive),
        }
    }

    /// Re-keys the jitter generator: from now on it draws from a generator seeded with its
    /// own next draw XOR `key`. A simulator that forks one converged run into many calls this
    /// with a different key per run; the same key gives the same draws.
    pub fn rekey(&mut self, key: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(self.rng.next_u64() ^ key);
    }

    /// Puts an Established session's keepalive stream in its stationary phase at `now`, for a
    /// simulator that forks one converged run into many (each run must then see the failure
    /// at an independent, uniformly random phase of every keepalive stream).
    ///
    /// Keepalives are a renewal process: successive intervals `X` are the keepalive time
    /// jittered by the profile (§10) and raised to the profile's floor
    /// ([`Profile::keepalive_interval`](super::profile::Profile::keepalive_interval)). At an instant independent of
    /// the process, the interval that covers it is length-biased (density `x·f(x)/E[X]`) and
    /// the instant falls uniformly inside it. This draws that interval (by rejection: draw `X`,
    /// keep it with probability `X / max X`), a uniform position in it, re-arms the
    /// KeepaliveTimer for the rest of the interval, and returns the part already elapsed (the
    /// age of the previous keepalive), which the caller hands to the peer's
    /// [`rephase_hold`](Self::rephase_hold). The gap between two keepalives stays one
    /// jittered interval, so no hold timer expires that would not in a real run.
    ///
    /// Returns `None` (and changes nothing) outside Established or when keepalives are off
    /// (negotiated hold time zero).
    pub fn rephase_keepalive(&mut self, now: Instant) -> Option<Duration> {
        if self.state != State::Established || self.wake_at.is_some() {
            return None;
        }
        let k = self.negotiated.as_ref()?.keepalive;
        if k.is_zero() {
            return None;
        }
        let profile = self.config.profile;
        let max = profile.keepalive_bounds(k).1.as_nanos();
        let interval = loop {
            let x = profile.keepalive_interval(k, &mut self.rng);
            let u = (u128::from(self.rng.next_u64()) * u128::from(max)) >> 64;
            if u < u128::from(x.as_nanos()) {
                break x;
            }
        };
        let age = (u128::from(self.rng.next_u64()) * u128::from(interval.as_nanos())) >> 64;
        let age = Duration::from_nanos(u64::try_from(age).unwrap_or(0));
        // The rest of the interval is at least 1 ns: `age < interval`.
        self.timers.set(Timer::Keepalive, now + (interval - age));
        Some(age)
    }

    /// Re-arms an Established session's HoldTimer as if the peer's last message had arrived
    /// at `heard` (at or before `now`): §8.2.2 restarts the HoldTimer on every KEEPALIVE or
    /// UPDATE received, so it runs out one (jittered) hold time after `heard`, and never
    /// before `now` + 1 ns. The counterpart of the peer's
    /// [`rephase_keepalive`](Self::rephase_keepalive). Nothing changes outside Established
    /// or with a zero hold time.
    pub fn rephase_hold(&mut self, now: Instant, heard: Instant) {
        if self.state != State::Established || self.wake_at.is_some() {
            return;
        }
        match self.negotiated.as_ref().map(|n| n.hold_time) {
            Some(hold) if !hold.is_zero() => {
                let d = self.config.profile.hold_jitter.apply(hold, &mut self.rng);
                let at = (heard.min(now) + d).max(now + Duration::from_nanos(1));
                self.timers.set(Timer::Hold, at);
            }
            _ => {}
        }
    }

    /// Our BGP Identifier.
    #[must_use]
    pub fn router_id(&self) -> Ipv4Addr {
        self.config.router_id
    }
}

/// Whether a session leaving Established this way keeps the peer's routes as stale, this
/// speaker being the Receiving Speaker (helper) of graceful restart, given whether both sides
/// set the N bit and whether the NOTIFICATION received was a hard one.
///
/// - A lost connection, no NOTIFICATION: RFC 4724 §4.2, "When the Receiving Speaker detects
///   termination of the TCP session for a BGP session with a peer that has advertised the
///   Graceful Restart Capability, it MUST retain the routes received from the peer".
/// - A NOTIFICATION sent or received (a hold-timer expiry sends one): RFC 4724 leaves these to
///   the normal procedures of RFC 4271 (routes withdrawn); RFC 8538 §4, with the N bit
///   exchanged, applies §4.2's procedures to "receiving or sending a NOTIFICATION message"
///   other than Cease / Hard Reset, the hold-timer expiry included. BIRD 2 (no N bit) thus
///   withdraws after a hold-timer expiry (`bgp_hold_timeout` calls `bgp_error` unless
///   long-lived graceful restart is ready); FRR with the N bit retains (its topotest
///   `bgp_gr_notification`: routes retained after a Hold Timer Expired notification).
/// - A Cease we send: our administrative stops (6/2, 6/3) and maximum-prefix stop (6/1) are
///   those RFC 8538 §5 says MUST be a Hard Reset, so they end it; a Cease / BFD Down (6/10)
///   follows our BFD declaring the path down, and RFC 4724 §4.2 lets a speaker that "determines
///   that its peer's forwarding state is not viable" (BFD is its example) "cease to retain
///   stale routes".
/// - Our BFD down: the same §4.2 MAY.
/// - A manual stop, a collision dump: not a loss of the peer, nothing to help with.
fn helper_retains(restart: Restart, notification: bool, hard: bool) -> bool {
    match restart {
        Restart::Automatic(Down::ConnectionLost) => true,
        Restart::Automatic(Down::NotificationSent(code)) => {
            notification && code != ErrorCode::CEASE
        }
        Restart::Automatic(Down::NotificationReceived(_)) => notification && !hard,
        Restart::Automatic(Down::BfdDown) | Restart::Never | Restart::After(_) => false,
    }
}

/// `inner` wrapped in a Hard Reset (RFC 8538 §3): Cease, subcode 9, whose Data is the inner
/// NOTIFICATION's "ErrCode", "Subcode" and "Data".
fn hard_reset(inner: Notification) -> Notification {
    let mut data = Vec::with_capacity(2 + inner.data.len());
    data.push(inner.code.0);
    data.push(inner.subcode);
    data.extend_from_slice(&inner.data);
    Notification::new(ErrorCode::CEASE, CeaseSubcode::HARD_RESET.0, data)
}

/// Whether a received NOTIFICATION ends graceful restart even with the N bit (RFC 8538 §3: a
/// Cease / Hard Reset, subcode 9, "MUST ... follow the rules of RFC 4271"). The Ceases RFC
/// 8538 §5.1 says MUST be sent as a Hard Reset (Maximum Number of Prefixes Reached,
/// Administrative Shutdown, Peer De-configured) count as one when a peer sends them bare: they
/// say the peering was taken down on purpose. A bare Administrative Reset (6/4) does not: §5.1
/// leaves it to the sender's "user control", and a sender that chose a graceful reset sends it
/// bare, as FRR does for `clear bgp` without `bgp hard-administrative-reset` (its topotest
/// `bgp_gr_notification`: the routes are retained by the receiver).
fn ends_graceful_restart(n: &Notification) -> bool {
    n.code == ErrorCode::CEASE && matches!(n.subcode, 1..=3 | 9)
}
