//! A two-speaker test harness: two [`Session`]s joined by an in-memory TCP-like pipe in virtual
//! time (quinn-proto's `tests/util.rs` `Pair`), with an [`alter`](Pair::alter) hook that corrupts
//! bytes in flight (rustls-test `transfer_altered`).
//!
//! Available to this crate's tests and, through the `_test` feature, to integration tests and
//! benches. Not part of the stable API.
//!
//! The pipe models what the FSM cares about: connection set-up takes one `latency` each way,
//! bytes arrive in order after `latency`, a close arrives after the bytes sent before it. A
//! connection attempt reaches the peer only while the peer listens (Connect or Active, no
//! connection yet); when both sides connect at once, the harness keeps the connection initiated
//! by the higher BGP Identifier, which is what collision resolution (RFC 4271 §6.8) would
//! keep. (The collision tests run two sessions per side to exercise the real procedure.)
//!
//! Time advances to the next event (a timer or an arrival), never in fixed ticks.

use sim_core::time::{Duration, Instant};

use super::{Command, Session, SessionEvent, State, Transmit, Transport};

/// One of the two speakers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The first speaker.
    A,
    /// The second speaker.
    B,
}

impl Side {
    /// The other speaker.
    #[must_use]
    pub const fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }
}

/// One speaker: its session and what it did.
#[derive(Debug)]
pub struct Endpoint {
    /// The session under test.
    pub session: Session,
    /// Every event the session emitted, with its time.
    pub events: Vec<(Instant, SessionEvent)>,
    /// Every chunk of bytes the session wrote, with its time (before any alteration).
    pub written: Vec<(Instant, Vec<u8>)>,
    /// Every connection attempt the session started.
    pub connects: Vec<Instant>,
    /// A frozen speaker is not driven any more: no timers, no input (a hung process).
    pub frozen: bool,
    conn: Option<u64>,
    connecting: Option<u64>,
}

impl Endpoint {
    fn new(session: Session) -> Self {
        Self {
            session,
            events: Vec::new(),
            written: Vec::new(),
            connects: Vec::new(),
            frozen: false,
            conn: None,
            connecting: None,
        }
    }

    /// The times of the state changes into `state`.
    #[must_use]
    pub fn entered(&self, state: State) -> Vec<Instant> {
        self.events
            .iter()
            .filter_map(|(t, e)| match e {
                SessionEvent::StateChanged { to, .. } if *to == state => Some(*t),
                _ => None,
            })
            .collect()
    }

    /// The sequence of states entered, in order.
    #[must_use]
    pub fn path(&self) -> Vec<State> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                SessionEvent::StateChanged { to, .. } => Some(*to),
                _ => None,
            })
            .collect()
    }
}

#[derive(Debug)]
enum Delivery {
    /// A connection attempt (SYN) with its id and the initiator's router id.
    Syn(u64),
    /// The attempt was accepted.
    SynAck(u64),
    /// The attempt was refused.
    Refused(u64),
    Bytes(u64, Vec<u8>),
    Closed(u64),
}

#[derive(Debug)]
struct InFlight {
    at: Instant,
    seq: u64,
    to: Side,
    what: Delivery,
}

/// Bytes in flight may be rewritten by this hook: `(sender, bytes)`.
type AlterFn = Box<dyn FnMut(Side, &mut Vec<u8>)>;

/// Two sessions over an in-memory pipe.
pub struct Pair {
    /// The current virtual time.
    pub now: Instant,
    /// One-way delay of the pipe.
    pub latency: Duration,
    /// The first speaker.
    pub a: Endpoint,
    /// The second speaker.
    pub b: Endpoint,
    /// While false, everything sent in either direction is lost (a silent failure: no close
    /// is ever seen).
    pub link_up: bool,
    in_flight: Vec<InFlight>,
    seq: u64,
    next_conn: u64,
    alter: Option<AlterFn>,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pair")
            .field("now", &self.now)
            .field("a", &self.a.session.state())
            .field("b", &self.b.session.state())
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

impl Pair {
    /// Two sessions at time zero, 1 ms apart.
    #[must_use]
    pub fn new(a: Session, b: Session) -> Self {
        Self {
            now: Instant::ZERO,
            latency: Duration::from_millis(1),
            a: Endpoint::new(a),
            b: Endpoint::new(b),
            link_up: true,
            in_flight: Vec::new(),
            seq: 0,
            next_conn: 1,
            alter: None,
        }
    }

    /// The endpoint of `side`.
    #[must_use]
    pub const fn endpoint(&self, side: Side) -> &Endpoint {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    fn endpoint_mut(&mut self, side: Side) -> &mut Endpoint {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    /// Installs a hook that may rewrite every chunk of bytes as it is sent.
    pub fn alter(&mut self, f: impl FnMut(Side, &mut Vec<u8>) + 'static) {
        self.alter = Some(Box::new(f));
    }

    /// Gives `side` a command at the current time.
    ///
    /// # Panics
    ///
    /// If the session refuses the command (only `SendUpdate` can); tests want to know.
    pub fn command(&mut self, side: Side, command: Command) {
        let now = self.now;
        let r = self.endpoint_mut(side).session.handle_command(now, command);
        assert_eq!(r, Ok(()), "command refused by {side:?}");
        self.flush(side);
    }

    /// Hands `bytes` to `side`'s session as if they had arrived on its connection now.
    pub fn inject(&mut self, side: Side, bytes: &[u8]) {
        let now = self.now;
        self.endpoint_mut(side).session.handle_bytes(now, bytes);
        self.flush(side);
    }

    /// Starts both sides actively.
    pub fn start_both(&mut self) {
        self.command(Side::A, Command::Start);
        self.command(Side::B, Command::Start);
    }

    /// The time of the next event (timer or arrival), if any.
    #[must_use]
    pub fn next_event_time(&self) -> Option<Instant> {
        let timers = [Side::A, Side::B].into_iter().filter_map(|s| {
            let e = self.endpoint(s);
            if e.frozen {
                None
            } else {
                e.session.poll_timeout()
            }
        });
        let arrivals = self.in_flight.iter().map(|f| f.at);
        timers.chain(arrivals).min()
    }

    /// Runs the next event. Returns false when nothing is pending at all.
    pub fn step(&mut self) -> bool {
        let Some(at) = self.next_event_time() else {
            return false;
        };
        self.now = self.now.max(at);
        // Arrivals first (in send order), then timers, at equal times.
        if let Some(i) = self
            .in_flight
            .iter()
            .enumerate()
            .filter(|(_, f)| f.at <= self.now)
            .min_by_key(|(_, f)| (f.at, f.seq))
            .map(|(i, _)| i)
        {
            let f = self.in_flight.remove(i);
            self.deliver(f.to, f.what);
            return true;
        }
        for side in [Side::A, Side::B] {
            let now = self.now;
            let e = self.endpoint_mut(side);
            if !e.frozen && e.session.poll_timeout().is_some_and(|t| t <= now) {
                e.session.handle_timeout(now);
                self.flush(side);
            }
        }
        true
    }

    /// Steps until nothing is in flight (timers due before the last arrival run too).
    pub fn drive(&mut self) {
        while !self.in_flight.is_empty() && self.step() {}
    }

    /// Steps at most `max_steps` times; true if the pipe went quiet (nothing in flight).
    pub fn drive_bounded(&mut self, max_steps: usize) -> bool {
        for _ in 0..max_steps {
            if self.in_flight.is_empty() {
                return true;
            }
            self.step();
        }
        self.in_flight.is_empty()
    }

    /// Steps through every event up to and including `until`, then sets the clock to `until`.
    pub fn drive_until(&mut self, until: Instant) {
        while self.next_event_time().is_some_and(|t| t <= until) {
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Drives for `d` of virtual time.
    pub fn drive_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.drive_until(until);
    }

    /// Drives until `pred` holds or `limit` of virtual time has passed; true if it held.
    pub fn drive_until_pred(
        &mut self,
        limit: Duration,
        mut pred: impl FnMut(&Self) -> bool,
    ) -> bool {
        let until = self.now + limit;
        loop {
            if pred(self) {
                return true;
            }
            match self.next_event_time() {
                Some(t) if t <= until => {
                    self.step();
                }
                _ => {
                    self.now = self.now.max(until);
                    return pred(self);
                }
            }
        }
    }

    /// Drives until both sides are Established (at most `limit`); true on success.
    pub fn drive_to_established(&mut self, limit: Duration) -> bool {
        self.drive_until_pred(limit, |p| {
            p.a.session.state() == State::Established && p.b.session.state() == State::Established
        })
    }

    fn send(&mut self, to: Side, what: Delivery) {
        let at = self.now + self.latency;
        self.seq += 1;
        self.in_flight.push(InFlight {
            at,
            seq: self.seq,
            to,
            what,
        });
    }

    /// Drains `side`'s outputs into the pipe and its event log.
    fn flush(&mut self, side: Side) {
        let now = self.now;
        while let Some(t) = self.endpoint_mut(side).session.poll_transmit() {
            match t {
                Transmit::Connect => {
                    let id = self.next_conn;
                    self.next_conn += 1;
                    let e = self.endpoint_mut(side);
                    e.connecting = Some(id);
                    e.connects.push(now);
                    self.send(side.other(), Delivery::Syn(id));
                }
                Transmit::Bytes(mut bytes) => {
                    let e = self.endpoint_mut(side);
                    e.written.push((now, bytes.clone()));
                    if let Some(id) = e.conn {
                        if let Some(f) = self.alter.as_mut() {
                            f(side, &mut bytes);
                        }
                        self.send(side.other(), Delivery::Bytes(id, bytes));
                    }
                }
                Transmit::Close => {
                    let e = self.endpoint_mut(side);
                    // An attempt still in progress is abandoned; its SYN-ACK, if any, is
                    // answered with a close.
                    e.connecting = None;
                    if let Some(id) = e.conn.take() {
                        self.send(side.other(), Delivery::Closed(id));
                    }
                }
            }
        }
        let e = self.endpoint_mut(side);
        while let Some(ev) = e.session.poll_event() {
            e.events.push((now, ev));
        }
    }

    fn deliver(&mut self, to: Side, what: Delivery) {
        let now = self.now;
        if !self.link_up || self.endpoint(to).frozen {
            return;
        }
        match what {
            Delivery::Syn(id) => {
                let me = self.endpoint(to);
                let listening = matches!(me.session.state(), State::Connect | State::Active)
                    && me.conn.is_none();
                let busy = me.connecting.is_some()
                    && u32::from(me.session.router_id())
                        > u32::from(self.endpoint(to.other()).session.router_id());
                if listening && !busy {
                    let me = self.endpoint_mut(to);
                    me.connecting = None;
                    me.conn = Some(id);
                    me.session.handle_transport(now, Transport::Connected);
                    self.send(to.other(), Delivery::SynAck(id));
                    self.flush(to);
                } else {
                    self.send(to.other(), Delivery::Refused(id));
                }
            }
            Delivery::SynAck(id) => {
                let me = self.endpoint_mut(to);
                if me.connecting == Some(id) {
                    me.connecting = None;
                    me.conn = Some(id);
                    me.session.handle_transport(now, Transport::Connected);
                    self.flush(to);
                } else {
                    self.send(to.other(), Delivery::Closed(id));
                }
            }
            Delivery::Refused(id) => {
                let me = self.endpoint_mut(to);
                if me.connecting == Some(id) {
                    me.connecting = None;
                    me.session.handle_transport(now, Transport::ConnectFailed);
                    self.flush(to);
                }
            }
            Delivery::Bytes(id, bytes) => {
                let me = self.endpoint_mut(to);
                if me.conn == Some(id) {
                    me.session.handle_bytes(now, &bytes);
                    self.flush(to);
                }
            }
            Delivery::Closed(id) => {
                let me = self.endpoint_mut(to);
                if me.conn == Some(id) {
                    me.conn = None;
                    me.session.handle_transport(now, Transport::Closed);
                    self.flush(to);
                }
            }
        }
    }
}
