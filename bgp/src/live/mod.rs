//! The live driver: runs the sans-IO [`Speaker`] over real TCP with tokio (feature `tokio`).
//!
//! This is quinn's split (quinn-proto is the state machine, quinn its tokio driver): the
//! driver only moves bytes and time. It reads the tokio clock, hands the speaker the time
//! elapsed since the driver was created as its [`Instant`], sleeps until
//! [`Speaker::poll_timeout`], writes every [`fsm::Transmit`] to the peer's socket, and feeds
//! what it reads back through [`Speaker::handle_bytes`]. Every protocol decision (OPEN, hold
//! timer, NOTIFICATIONs, max-prefix) stays in the speaker, so a live session behaves exactly as
//! the simulated one.
//!
//! # Connections
//!
//! - **Active**: a peer with [`PeerTransport::connect`] set is dialled whenever its session asks
//!   ([`fsm::Transmit::Connect`]); the outcome goes back as [`Transport::Connected`] or
//!   [`Transport::ConnectFailed`].
//! - **Passive**: [`Driver::listen`] binds a listener; an accepted connection goes to the first
//!   peer (in [`PeerId`] order) whose [`PeerTransport::accept_from`] matches the remote address
//!   and which has no connection yet, else (a collision, below) to the first such peer
//!   whose session may take a second one. Anything else is refused at once (closed without
//!   a byte), so any number of connections at once costs one accept and one close each: the
//!   driver holds at most two connections per configured peer. A session in Idle closes an
//!   accepted connection itself (RFC 4271 §8.2.2 Idle: "the local system refuses all incoming
//!   BGP connections").
//! - Connection collisions (RFC 4271 §6.8): when both sides dial, a second connection to a
//!   peer whose session is in OpenSent or OpenConfirm (an inbound one while ours is up, or
//!   our dial completing after the peer's connection was accepted) is handed to
//!   [`Speaker::handle_second_connection`], which runs a second session on it and decides
//!   which connection survives (the one opened by the higher BGP Identifier); the driver
//!   only follows [`TransmitKind::BgpSecond`] and [`TransmitKind::SwapConnections`]. At most
//!   two connections per peer; any other is refused.
//!
//! # TCP MD5 signatures
//!
//! A peer with [`PeerTransport::md5`] gets its RFC 2385 key installed on the dialling socket
//! before `connect` and on the listener for its [`PeerTransport::accept_from`] address (so a
//! keyed peer needs one), through the one audited `setsockopt` of [`md5`]. A segment without
//! the right digest is dropped by the kernel: a wrong or missing key on either side means no
//! connection at all, which is what a router with a key configured does.
//!
//! # BFD over UDP (RFC 5881)
//!
//! A peer with [`PeerTransport::bfd_port`] (3784, [`bfd_udp::BFD_PORT`], for RFC 5881; another
//! port only for tests) has its BFD session carried over UDP between the two addresses of its
//! BGP connection (single hop: the BGP neighbour is the BFD neighbour). When a connection is
//! installed, the driver binds a receiver on the connection's local address and that port
//! (shared by the peers of one local address, packets demultiplexed by source address) and
//! a sender from a source port in 49152-65535 with TTL 255, kept while the addresses stay
//! the same; see [`bfd_udp`] for the RFC's rules. Received packets that did not arrive with
//! TTL 255 are discarded and reported ([`LiveEventKind::BfdDiscarded`]); the rest go to
//! [`Speaker::handle_bfd_packet`], where every BFD decision is made, including taking the
//! BGP session down when BFD goes down (RFC 5882 §4.3). Before the first connection the
//! session's BFD packets have nowhere to go and are dropped (BFD stays Down meanwhile).
//!
//! # Bounded resources
//!
//! Each connection task reads at most [`READ_CHUNK`] octets at a time and waits (TCP back
//! pressure) while [`IO_QUEUE`] chunks are queued for the speaker; the session's framer keeps at
//! most one maximum-size message. A connection asked to close writes what was queued before
//! the close, sends FIN and drains the peer for at most [`CLOSE_LINGER`], so the NOTIFICATION
//! reaches the peer even when it keeps sending (closing with unread data would send RST).
//!
//! # Faults
//!
//! [`Fault::Silent`] models a black hole: the driver stops reading the socket and drops what
//! the speaker writes, without closing anything; [`Fault::Down`] closes the connection;
//! [`Fault::Restore`] ends a silence. While silent, new connections to or from the peer are
//! refused, and a connection our session closes (its own hold timer expires too, since
//! nothing is read) is parked instead of closed: in a black hole our FIN would not reach the
//! peer either, so the peer must detect the silence with its own hold timer. A parked
//! connection is closed on [`Fault::Restore`] or [`Fault::Down`]. A silenced peer's BFD
//! packets are dropped both ways too.
//!
//! While silent, a connection task still drains the socket into a buffer of at most
//! [`SILENT_HOLD`] octets, handed to the session in order when the silence ends (TCP would
//! retransmit what a black hole lost, so nothing is dropped mid-stream). When the peer closes
//! the connection during the silence, the session is not told (the FIN is lost in the black
//! hole too), but the driver reports [`LiveEventKind::PeerClosedUnseen`]: the moment the peer
//! gave up on the session, which is how an observer measures the peer's own detection.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use sim_core::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

pub mod bfd_udp;
pub mod md5;

pub use md5::Md5Key;

use crate::fsm::collision::Direction;
use crate::fsm::{self, Command, Transport};
use crate::rib::PeerId;
use crate::speaker::{Speaker, SpeakerEvent, TransmitKind};
use crate::wire::PathAttributes;

/// Octets read from a socket at a time.
pub const READ_CHUNK: usize = 4096;
/// Read chunks queued from all connections to the speaker before readers wait.
pub const IO_QUEUE: usize = 64;
/// How long a closing connection may still flush its last bytes and drain the peer.
pub const CLOSE_LINGER: std::time::Duration = std::time::Duration::from_secs(2);
/// Octets a silenced connection buffers from the peer before it stops reading (TCP back
/// pressure then holds the rest in the kernel).
pub const SILENT_HOLD: usize = 256 * 1024;
/// How long the driver waits for each read of what a peer sent before the connection failed
/// under a write of ours (see the pump): the data is already in the kernel, so this only
/// bounds the wait when the failure was not a reset by the peer.
pub const UNREAD_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// How the driver reaches one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerTransport {
    /// Dial this address when the session asks to connect; `None`: passive only.
    pub connect: Option<SocketAddr>,
    /// Bind outgoing connections to this local address (port 0: any).
    pub bind: Option<SocketAddr>,
    /// Accept incoming connections from this address; `None`: from any address.
    pub accept_from: Option<IpAddr>,
    /// The RFC 2385 MD5 key of the session, if the peering has one.
    pub md5: Option<Md5Key>,
    /// Carry the session's BFD over UDP on this port (RFC 5881: [`bfd_udp::BFD_PORT`]),
    /// between the addresses of its BGP connection; `None`: BFD packets are dropped.
    pub bfd_port: Option<u16>,
}

/// A transport fault injected on a peer's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Fault {
    /// Stop sending and reading, without closing the socket (a black hole).
    Silent,
    /// Close the connection.
    Down,
    /// End a silence.
    Restore,
}

/// Who or what ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCause {
    /// Our session closed it.
    Local,
    /// The peer closed it (end of stream).
    Remote,
    /// A [`Fault::Down`].
    Fault,
    /// A socket error.
    Error(io::ErrorKind),
}

/// Why an incoming connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefuseReason {
    /// No configured peer accepts this address.
    UnknownPeer,
    /// Every matching peer already has a connection (or is silenced).
    Busy,
}

/// Something the driver reports, stamped with the speaker's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEvent {
    /// When (time since the driver was created).
    pub at: Instant,
    /// What.
    pub kind: LiveEventKind,
}

/// The driver's events: the speaker's own, plus what happened to the sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEventKind {
    /// An event of the speaker (sessions, RIB, BFD).
    Speaker(SpeakerEvent),
    /// A connection to the peer is up.
    Connected {
        /// The peer.
        peer: PeerId,
        /// The remote socket address.
        remote: SocketAddr,
        /// The peer dialled us.
        inbound: bool,
    },
    /// Dialling the peer failed.
    ConnectFailed {
        /// The peer.
        peer: PeerId,
        /// The socket error.
        error: io::ErrorKind,
    },
    /// The peer's connection ended.
    Closed {
        /// The peer.
        peer: PeerId,
        /// Why.
        cause: CloseCause,
    },
    /// An incoming connection was refused.
    Refused {
        /// Who dialled.
        remote: SocketAddr,
        /// Why.
        reason: RefuseReason,
    },
    /// The peer closed a connection that a [`Fault::Silent`] hides: the session is not told
    /// (the black hole swallows the FIN), but the peer has given up on the session by now,
    /// typically because its own hold timer expired.
    PeerClosedUnseen {
        /// The peer.
        peer: PeerId,
    },
    /// The peer's BFD is carried over UDP from now on.
    BfdTransport {
        /// The peer.
        peer: PeerId,
        /// Our sending address (source port in 49152-65535).
        local: SocketAddr,
        /// The peer's BFD address (its port 3784).
        remote: SocketAddr,
    },
    /// The peer's BFD cannot be carried (the port is taken, the address is IPv6, ...).
    BfdUnavailable {
        /// The peer.
        peer: PeerId,
        /// The socket error.
        error: io::ErrorKind,
    },
    /// A BFD packet from the peer was discarded because its TTL was not 255 (RFC 5881 §5).
    BfdDiscarded {
        /// The peer.
        peer: PeerId,
        /// The TTL it arrived with (`None`: the kernel did not say).
        ttl: Option<u8>,
    },
    /// A fault was applied.
    Fault {
        /// The peer.
        peer: PeerId,
        /// The fault.
        fault: Fault,
    },
}

/// Errors of the live driver.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// A transport names a peer that the speaker does not have.
    #[error("peer {0:?} has a transport but is not configured in the speaker")]
    UnknownPeer(PeerId),
    /// Binding or accepting on the listener failed.
    #[error("listener: {0}")]
    Io(#[from] io::Error),
    /// The driver has stopped; the handle can no longer reach it.
    #[error("the live driver has stopped")]
    Stopped,
    /// A peer with an MD5 key must name the address it connects from: the listener's key is
    /// per address.
    #[error("peer {0:?} has an MD5 key but no accept_from address for the listener")]
    Md5NeedsPeerAddress(PeerId),
    /// Installing an MD5 key on a socket failed.
    #[error("TCP MD5 key for peer {0:?}: {1}")]
    Md5(PeerId, io::Error),
}

/// What a [`Handle`] asks the driver to do.
#[derive(Debug)]
enum Control {
    Command(PeerId, Command),
    Fault(PeerId, Fault),
    /// Boxed: an inline attribute list is large, and the other messages are small.
    Originate(IpNet, Box<PathAttributes>),
    Withdraw(IpNet),
    Shutdown,
}

/// Controls a running [`Driver`] from elsewhere (operator commands, faults, routes).
#[derive(Debug, Clone)]
pub struct Handle {
    control: mpsc::UnboundedSender<Control>,
}

impl Handle {
    fn send(&self, control: Control) -> Result<(), LiveError> {
        self.control.send(control).map_err(|_| LiveError::Stopped)
    }

    /// Passes an operator command to the session of `peer` (a refused command is ignored).
    ///
    /// # Errors
    ///
    /// [`LiveError::Stopped`] when the driver has stopped.
    pub fn command(&self, peer: PeerId, command: Command) -> Result<(), LiveError> {
        self.send(Control::Command(peer, command))
    }

    /// Applies a transport fault to `peer`.
    ///
    /// # Errors
    ///
    /// [`LiveError::Stopped`] when the driver has stopped.
    pub fn fault(&self, peer: PeerId, fault: Fault) -> Result<(), LiveError> {
        self.send(Control::Fault(peer, fault))
    }

    /// Originates `prefix` with `attrs` (see [`Speaker::originate`]).
    ///
    /// # Errors
    ///
    /// [`LiveError::Stopped`] when the driver has stopped.
    pub fn originate(&self, prefix: IpNet, attrs: PathAttributes) -> Result<(), LiveError> {
        self.send(Control::Originate(prefix, Box::new(attrs)))
    }

    /// Stops originating `prefix`.
    ///
    /// # Errors
    ///
    /// [`LiveError::Stopped`] when the driver has stopped.
    pub fn withdraw(&self, prefix: IpNet) -> Result<(), LiveError> {
        self.send(Control::Withdraw(prefix))
    }

    /// Stops the driver: every connection is closed at once, [`Driver::run`] returns.
    ///
    /// # Errors
    ///
    /// [`LiveError::Stopped`] when the driver has already stopped.
    pub fn shutdown(&self) -> Result<(), LiveError> {
        self.send(Control::Shutdown)
    }
}

/// What connection tasks and dialers report to the driver.
#[derive(Debug)]
enum Io {
    Bytes {
        peer: PeerId,
        conn: u64,
        bytes: Vec<u8>,
    },
    Ended {
        peer: PeerId,
        conn: u64,
        error: Option<io::ErrorKind>,
    },
    Dialled {
        peer: PeerId,
        attempt: u64,
        result: io::Result<TcpStream>,
    },
    /// The peer closed the connection while it was silenced.
    SilentEof { peer: PeerId, conn: u64 },
    /// A datagram on the BFD receiver of local address `local`.
    Bfd {
        local: IpAddr,
        datagram: bfd_udp::Datagram,
    },
}

/// The driver's side of one connection task.
#[derive(Debug)]
struct Conn {
    id: u64,
    /// Bytes to write; dropping it closes the connection gracefully.
    out: mpsc::UnboundedSender<Vec<u8>>,
    /// Dropping it ends the task at once.
    kill: Option<oneshot::Sender<()>>,
    /// Whether the task reads the socket.
    reading: watch::Sender<bool>,
    /// The peer opened it.
    inbound: bool,
}

impl Conn {
    /// Graceful close: the task writes what is queued, sends FIN and drains the peer, and is
    /// killed after [`CLOSE_LINGER`] at the latest.
    fn close(self) {
        let Self { out, kill, .. } = self;
        drop(out);
        if let Some(kill) = kill {
            tokio::spawn(async move {
                tokio::time::sleep(CLOSE_LINGER).await;
                drop(kill);
            });
        }
    }
}

#[derive(Debug)]
struct PeerLink {
    transport: PeerTransport,
    conn: Option<Conn>,
    /// The dial in flight, by attempt number.
    dialling: Option<u64>,
    silent: bool,
    /// A connection our session closed while silent: kept open, unread and unwritten, until
    /// the silence ends (see the module documentation).
    parked: Option<Conn>,
    /// The UDP path of the peer's BFD, once a connection told us the addresses.
    bfd: Option<BfdLink>,
    /// A second, colliding connection, run by the speaker's second session (RFC 4271 §6.8).
    second: Option<Conn>,
}

/// The UDP path of one peer's BFD session.
#[derive(Debug)]
struct BfdLink {
    local: IpAddr,
    remote: IpAddr,
    /// Bound to a source port of RFC 5881 §4's range, TTL 255, connected to the peer.
    tx: tokio::net::UdpSocket,
}

/// Runs a [`Speaker`] over tokio TCP. See the module documentation.
#[derive(Debug)]
pub struct Driver {
    speaker: Speaker,
    start: tokio::time::Instant,
    peers: BTreeMap<PeerId, PeerLink>,
    listener: Option<TcpListener>,
    control: mpsc::UnboundedReceiver<Control>,
    control_open: bool,
    events: mpsc::UnboundedSender<LiveEvent>,
    io_tx: mpsc::Sender<Io>,
    io_rx: mpsc::Receiver<Io>,
    next_id: u64,
    /// BFD receivers by local address and port.
    bfd_rx: BTreeMap<(IpAddr, u16), tokio::task::JoinHandle<()>>,
}

impl Driver {
    /// A driver for `speaker`, whose peers are reached through `transports`. The speaker's
    /// time zero is now: build the speaker (add peers, originate routes) at
    /// [`Instant::ZERO`](sim_core::time::Instant) just before. Returns the driver, a handle to
    /// control it and the stream of its events.
    ///
    /// # Errors
    ///
    /// [`LiveError::UnknownPeer`] when a transport names a peer the speaker lacks.
    pub fn new(
        speaker: Speaker,
        transports: impl IntoIterator<Item = (PeerId, PeerTransport)>,
    ) -> Result<(Self, Handle, mpsc::UnboundedReceiver<LiveEvent>), LiveError> {
        let mut peers = BTreeMap::new();
        for (peer, transport) in transports {
            if speaker.session(peer).is_none() {
                return Err(LiveError::UnknownPeer(peer));
            }
            peers.insert(
                peer,
                PeerLink {
                    transport,
                    conn: None,
                    dialling: None,
                    silent: false,
                    parked: None,
                    bfd: None,
                    second: None,
                },
            );
        }
        let (control_tx, control) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let (io_tx, io_rx) = mpsc::channel(IO_QUEUE);
        let driver = Self {
            speaker,
            start: tokio::time::Instant::now(),
            peers,
            listener: None,
            control,
            control_open: true,
            events,
            io_tx,
            io_rx,
            next_id: 0,
            bfd_rx: BTreeMap::new(),
        };
        Ok((
            driver,
            Handle {
                control: control_tx,
            },
            events_rx,
        ))
    }

    /// Listens for incoming connections on `addr` (port 0: an ephemeral port) and returns the
    /// address bound.
    ///
    /// # Errors
    ///
    /// The socket error when binding fails.
    pub async fn listen(&mut self, addr: SocketAddr) -> Result<SocketAddr, LiveError> {
        let listener = TcpListener::bind(addr).await?;
        for (&peer, link) in &self.peers {
            if let Some(key) = &link.transport.md5 {
                let from = link
                    .transport
                    .accept_from
                    .ok_or(LiveError::Md5NeedsPeerAddress(peer))?;
                md5::set_key(&listener, from, Some(key)).map_err(|e| LiveError::Md5(peer, e))?;
            }
        }
        let local = listener.local_addr()?;
        self.listener = Some(listener);
        Ok(local)
    }

    /// Moves the speaker's time zero back to `epoch`, e.g. one instant shared by several
    /// drivers so that their events are stamped on one clock. An `epoch` after the driver's
    /// creation is ignored: the speaker's time must never run backwards. Call it before
    /// [`Driver::run`].
    pub fn set_epoch(&mut self, epoch: tokio::time::Instant) {
        self.start = self.start.min(epoch);
    }

    /// The speaker (its RIB and sessions), for inspection.
    #[must_use]
    pub const fn speaker(&self) -> &Speaker {
        &self.speaker
    }

    /// The speaker's current time: real time elapsed since the driver was created.
    #[must_use]
    pub fn now(&self) -> Instant {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.start);
        Instant::from_nanos(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
    }

    /// The real deadline of a speaker instant.
    fn deadline(&self, at: Instant) -> tokio::time::Instant {
        let since = Duration::from_nanos(at.as_nanos());
        self.start + std::time::Duration::from_nanos(since.as_nanos())
    }

    /// Runs until [`Handle::shutdown`], then closes every connection and returns the speaker.
    /// If every handle is dropped the driver keeps running (until its task is dropped).
    ///
    /// # Errors
    ///
    /// [`LiveError::Io`] when the listener fails.
    pub async fn run(mut self) -> Result<Speaker, LiveError> {
        self.flush();
        loop {
            let deadline = self.speaker.poll_timeout().map(|t| self.deadline(t));
            let wake = tokio::select! {
                () = sleep_until(deadline) => Wake::Timer,
                control = self.control.recv(), if self.control_open => Wake::Control(control),
                Some(io) = self.io_rx.recv() => Wake::Io(io),
                accepted = accept(self.listener.as_ref()) => Wake::Accepted(accepted),
            };
            let now = self.now();
            match wake {
                Wake::Timer => self.speaker.handle_timeout(now),
                Wake::Control(None) => self.control_open = false,
                Wake::Control(Some(Control::Shutdown)) => break,
                Wake::Control(Some(control)) => self.handle_control(now, control),
                Wake::Io(io) => self.handle_io(now, io),
                Wake::Accepted(accepted) => {
                    let (stream, remote) = accepted?;
                    self.handle_accept(now, stream, remote);
                }
            }
            self.flush();
        }
        for link in self.peers.values_mut() {
            // Dropping the kill switch ends each task at once.
            drop(link.conn.take());
            drop(link.parked.take());
            drop(link.bfd.take());
            drop(link.second.take());
        }
        for receiver in self.bfd_rx.values() {
            receiver.abort();
        }
        Ok(self.speaker)
    }

    fn emit(&self, at: Instant, kind: LiveEventKind) {
        // Nobody listening is fine: events are informational.
        let _ = self.events.send(LiveEvent { at, kind });
    }

    fn handle_control(&mut self, now: Instant, control: Control) {
        match control {
            Control::Command(peer, command) => {
                // A refused command (unknown peer, SendUpdate outside Established) changes
                // nothing; the speaker reports what it did through its events.
                let _ = self.speaker.handle_command(now, peer, command);
            }
            Control::Fault(peer, fault) => self.handle_fault(now, peer, fault),
            Control::Originate(prefix, attrs) => self.speaker.originate(now, prefix, *attrs),
            Control::Withdraw(prefix) => self.speaker.withdraw_originated(now, &prefix),
            Control::Shutdown => {}
        }
    }

    fn handle_fault(&mut self, now: Instant, peer: PeerId, fault: Fault) {
        let Some(link) = self.peers.get_mut(&peer) else {
            return;
        };
        let mut closed = false;
        match fault {
            Fault::Silent | Fault::Restore => {
                link.silent = fault == Fault::Silent;
                if let Some(conn) = &link.conn {
                    let _ = conn.reading.send(!link.silent);
                }
                if !link.silent
                    && let Some(parked) = link.parked.take()
                {
                    parked.close();
                }
            }
            Fault::Down => {
                // A parked or colliding connection is closed at once too.
                drop(link.parked.take());
                if link.second.take().is_some() {
                    let _ = self.speaker.handle_second_closed(now, peer);
                }
                // Dropping the connection drops its kill switch: closed at once.
                closed = link.conn.take().is_some();
            }
        }
        self.emit(now, LiveEventKind::Fault { peer, fault });
        if closed {
            self.emit(
                now,
                LiveEventKind::Closed {
                    peer,
                    cause: CloseCause::Fault,
                },
            );
            let _ = self.speaker.handle_transport(now, peer, Transport::Closed);
        }
    }

    fn handle_io(&mut self, now: Instant, io: Io) {
        match io {
            Io::Bytes { peer, conn, bytes } => {
                if self.is_current(peer, conn) {
                    let _ = self.speaker.handle_bytes(now, peer, &bytes);
                } else if self.is_second(peer, conn) {
                    let _ = self.speaker.handle_second_bytes(now, peer, &bytes);
                }
            }
            Io::Ended { peer, conn, error } => {
                if self.is_second(peer, conn) {
                    if let Some(link) = self.peers.get_mut(&peer) {
                        link.second = None;
                    }
                    let cause = error.map_or(CloseCause::Remote, CloseCause::Error);
                    self.emit(now, LiveEventKind::Closed { peer, cause });
                    let _ = self.speaker.handle_second_closed(now, peer);
                } else if self.is_current(peer, conn) {
                    if let Some(link) = self.peers.get_mut(&peer) {
                        link.conn = None;
                    }
                    let cause = error.map_or(CloseCause::Remote, CloseCause::Error);
                    self.emit(now, LiveEventKind::Closed { peer, cause });
                    let _ = self.speaker.handle_transport(now, peer, Transport::Closed);
                }
            }
            Io::Bfd { local, datagram } => self.handle_bfd(now, local, datagram),
            Io::SilentEof { peer, conn } => {
                let known = self.peers.get(&peer).is_some_and(|l| {
                    [l.conn.as_ref(), l.parked.as_ref()]
                        .into_iter()
                        .flatten()
                        .any(|c| c.id == conn)
                });
                if known {
                    self.emit(now, LiveEventKind::PeerClosedUnseen { peer });
                }
            }
            Io::Dialled {
                peer,
                attempt,
                result,
            } => {
                let Some(link) = self.peers.get_mut(&peer) else {
                    return;
                };
                if link.dialling != Some(attempt) {
                    // Superseded (closed meanwhile).
                    return;
                }
                link.dialling = None;
                if let Some(main) = &link.conn {
                    // The peer's connection was accepted while we dialled: a collision
                    // (RFC 4271 §6.8) for the speaker to resolve, or nothing to do.
                    if let (true, Ok(stream)) = (main.inbound, result) {
                        self.offer_second(now, peer, stream, false);
                    }
                    return;
                }
                match result {
                    Ok(stream) => {
                        let remote = stream.peer_addr().unwrap_or_else(|_| {
                            link.transport
                                .connect
                                .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
                        });
                        self.install(now, peer, stream, remote, false, false);
                    }
                    Err(error) => {
                        let error = error.kind();
                        self.emit(now, LiveEventKind::ConnectFailed { peer, error });
                        let _ = self
                            .speaker
                            .handle_transport(now, peer, Transport::ConnectFailed);
                    }
                }
            }
        }
    }

    fn is_second(&self, peer: PeerId, conn: u64) -> bool {
        self.peers
            .get(&peer)
            .and_then(|l| l.second.as_ref())
            .is_some_and(|c| c.id == conn)
    }

    /// A second connection to `peer` (inbound or our dial): the speaker runs a second
    /// session on it if the peer's session may collide (RFC 4271 §6.8); else it is closed.
    fn offer_second(&mut self, now: Instant, peer: PeerId, stream: TcpStream, inbound: bool) {
        let remote = stream
            .peer_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let direction = if inbound {
            Direction::Incoming
        } else {
            Direction::Outgoing
        };
        let taken = self.peers.get(&peer).is_some_and(|l| l.second.is_none())
            && matches!(
                self.speaker.handle_second_connection(now, peer, direction),
                Ok(true)
            );
        if taken {
            self.install(now, peer, stream, remote, inbound, true);
        } else if inbound {
            drop(stream);
            let reason = RefuseReason::Busy;
            self.emit(now, LiveEventKind::Refused { remote, reason });
        }
    }

    fn is_current(&self, peer: PeerId, conn: u64) -> bool {
        self.peers
            .get(&peer)
            .and_then(|l| l.conn.as_ref())
            .is_some_and(|c| c.id == conn)
    }

    fn handle_accept(&mut self, now: Instant, stream: TcpStream, remote: SocketAddr) {
        let mut reason = RefuseReason::UnknownPeer;
        let mut chosen = None;
        for (&peer, link) in &self.peers {
            if link.transport.accept_from.is_some_and(|a| a != remote.ip()) {
                continue;
            }
            if link.conn.is_some() || link.silent {
                reason = RefuseReason::Busy;
                continue;
            }
            chosen = Some(peer);
            break;
        }
        let Some(peer) = chosen else {
            // A peer with one connection may take a second, colliding one (RFC 4271 §6.8).
            let colliding = self.peers.iter().find_map(|(&peer, link)| {
                // §6.8 is about the two directions: only a connection of ours collides with
                // the peer's; a second one from the peer is just refused.
                let matches = link.transport.accept_from.is_none_or(|a| a == remote.ip());
                let ours = link.conn.as_ref().is_some_and(|c| !c.inbound);
                (matches && ours && link.second.is_none() && !link.silent).then_some(peer)
            });
            match colliding {
                Some(peer) => self.offer_second(now, peer, stream, true),
                None => {
                    drop(stream);
                    self.emit(now, LiveEventKind::Refused { remote, reason });
                }
            }
            return;
        };
        // A dial in flight goes on: if it completes, the two connections collide and the
        // speaker resolves it (RFC 4271 §6.8).
        self.install(now, peer, stream, remote, true, false);
    }

    /// Starts the task of a new connection to `peer` and tells the session it is up (for
    /// a `second` connection, the speaker already knows).
    fn install(
        &mut self,
        now: Instant,
        peer: PeerId,
        stream: TcpStream,
        remote: SocketAddr,
        inbound: bool,
        second: bool,
    ) {
        let Some(link) = self.peers.get_mut(&peer) else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().ok().map(|a| a.ip());
        self.next_id += 1;
        let id = self.next_id;
        let (out, out_rx) = mpsc::unbounded_channel();
        let (kill, kill_rx) = oneshot::channel();
        let (reading, reading_rx) = watch::channel(!link.silent);
        let task = ConnTask {
            peer,
            id,
            stream,
            out: out_rx,
            kill: kill_rx,
            reading: reading_rx,
            io: self.io_tx.clone(),
        };
        tokio::spawn(task.run());
        let conn = Conn {
            id,
            out,
            kill: Some(kill),
            reading,
            inbound,
        };
        if second {
            link.second = Some(conn);
        } else {
            link.conn = Some(conn);
        }
        self.emit(
            now,
            LiveEventKind::Connected {
                peer,
                remote,
                inbound,
            },
        );
        if second {
            return;
        }
        if let Some(local) = local {
            self.ensure_bfd(now, peer, local, remote.ip());
        }
        let _ = self
            .speaker
            .handle_transport(now, peer, Transport::Connected);
    }

    /// Sets up the UDP path of `peer`'s BFD between `local` and `remote`, the addresses of its
    /// BGP connection, unless it already runs there (module documentation).
    fn ensure_bfd(&mut self, now: Instant, peer: PeerId, local: IpAddr, remote: IpAddr) {
        let Some(link) = self.peers.get_mut(&peer) else {
            return;
        };
        let Some(port) = link.transport.bfd_port else {
            return;
        };
        if link
            .bfd
            .as_ref()
            .is_some_and(|b| b.local == local && b.remote == remote)
        {
            return;
        }
        link.bfd = None;
        if let std::collections::btree_map::Entry::Vacant(slot) = self.bfd_rx.entry((local, port)) {
            match bfd_udp::bind_receiver(local, port) {
                Ok(socket) => {
                    let io = self.io_tx.clone();
                    slot.insert(tokio::spawn(async move {
                        while let Ok(datagram) = bfd_udp::recv(&socket).await {
                            if io.send(Io::Bfd { local, datagram }).await.is_err() {
                                break;
                            }
                        }
                    }));
                }
                Err(error) => {
                    let error = error.kind();
                    self.emit(now, LiveEventKind::BfdUnavailable { peer, error });
                    return;
                }
            }
        }
        // RFC 5881 §4: the source port "SHOULD be unique among all BFD sessions on the
        // system": each session starts its search at its own port; a taken port moves on.
        let first = *bfd_udp::SOURCE_PORTS.start();
        let start = first.saturating_add(u16::try_from(peer.0 % 16_384).unwrap_or(0));
        let target = SocketAddr::new(remote, port);
        match bfd_udp::bind_sender(local, target, start) {
            Ok(tx) => {
                let from = tx.local_addr().unwrap_or(SocketAddr::new(local, 0));
                if let Some(link) = self.peers.get_mut(&peer) {
                    link.bfd = Some(BfdLink { local, remote, tx });
                }
                self.emit(
                    now,
                    LiveEventKind::BfdTransport {
                        peer,
                        local: from,
                        remote: target,
                    },
                );
            }
            Err(error) => {
                let error = error.kind();
                self.emit(now, LiveEventKind::BfdUnavailable { peer, error });
            }
        }
    }

    /// A datagram on a BFD port: to the session of the peer it comes from, unless it is
    /// silenced or the TTL check fails.
    fn handle_bfd(&mut self, now: Instant, local: IpAddr, datagram: bfd_udp::Datagram) {
        let from = datagram.from.ip();
        let found = self.peers.iter().find_map(|(&peer, link)| {
            link.bfd
                .as_ref()
                .filter(|b| b.local == local && b.remote == from)
                .map(|_| (peer, link.silent))
        });
        // From no peer of ours: nothing to demultiplex it to.
        let Some((peer, silent)) = found else {
            return;
        };
        if silent {
            return;
        }
        // RFC 5881 §5: "All received BFD Control packets that are demultiplexed to the session
        // MUST be discarded if the received TTL or Hop Limit is not equal to 255."
        if datagram.ttl != Some(bfd_udp::BFD_TTL) {
            let ttl = datagram.ttl;
            self.emit(now, LiveEventKind::BfdDiscarded { peer, ttl });
            return;
        }
        // An invalid packet is discarded by the session itself (RFC 5880 §6.8.6).
        let _ = self.speaker.handle_bfd_packet(now, peer, &datagram.payload);
    }

    /// Forwards the speaker's events, then carries out its transmits, until both are drained
    /// (a failed dial is reported back at once and may produce more). Events first, so that
    /// the cause (a hold timer expiry) is reported before its effect (the close).
    fn flush(&mut self) {
        loop {
            let mut progressed = false;
            let now = self.now();
            while let Some(event) = self.speaker.poll_event() {
                progressed = true;
                self.emit(now, LiveEventKind::Speaker(event));
            }
            while let Some(transmit) = self.speaker.poll_transmit() {
                progressed = true;
                let peer = transmit.peer;
                match transmit.kind {
                    TransmitKind::Bgp(transmit) => self.transmit(peer, transmit),
                    TransmitKind::Bfd(packet) => self.transmit_bfd(peer, &packet),
                    TransmitKind::BgpSecond(transmit) => self.transmit_second(peer, transmit),
                    TransmitKind::SwapConnections => {
                        if let Some(link) = self.peers.get_mut(&peer) {
                            std::mem::swap(&mut link.conn, &mut link.second);
                        }
                    }
                }
            }
            if !progressed {
                break;
            }
        }
    }

    /// Carries out a transmit of the speaker's second session on the second connection.
    fn transmit_second(&mut self, peer: PeerId, transmit: fsm::Transmit) {
        let now = self.now();
        let Some(link) = self.peers.get_mut(&peer) else {
            return;
        };
        match transmit {
            // A second session never dials.
            fsm::Transmit::Connect => {}
            fsm::Transmit::Bytes(bytes) => {
                if let Some(conn) = &link.second {
                    let _ = conn.out.send(bytes);
                }
            }
            fsm::Transmit::Close => {
                if let Some(conn) = link.second.take() {
                    conn.close();
                    self.emit(
                        now,
                        LiveEventKind::Closed {
                            peer,
                            cause: CloseCause::Local,
                        },
                    );
                }
            }
        }
    }

    /// Sends a BFD packet to `peer`, unless it is silenced or has no UDP path yet. A packet
    /// the socket cannot take at once is lost, as UDP may lose it anyway.
    fn transmit_bfd(&self, peer: PeerId, packet: &[u8]) {
        let Some(link) = self.peers.get(&peer).filter(|l| !l.silent) else {
            return;
        };
        if let Some(bfd) = &link.bfd {
            let _ = bfd.tx.try_send(packet);
        }
    }

    fn transmit(&mut self, peer: PeerId, transmit: fsm::Transmit) {
        let now = self.now();
        let Some(link) = self.peers.get_mut(&peer) else {
            return;
        };
        match transmit {
            fsm::Transmit::Connect => {
                let target = link.transport.connect.filter(|_| !link.silent);
                match target {
                    Some(target) if link.conn.is_none() => {
                        self.next_id += 1;
                        let attempt = self.next_id;
                        link.dialling = Some(attempt);
                        let io = self.io_tx.clone();
                        let bind = link.transport.bind;
                        let key = link.transport.md5;
                        tokio::spawn(async move {
                            let result = dial(target, bind, key).await;
                            let _ = io
                                .send(Io::Dialled {
                                    peer,
                                    attempt,
                                    result,
                                })
                                .await;
                        });
                    }
                    // Already connected (an inbound connection won): nothing to dial.
                    Some(_) => {}
                    None => {
                        // Passive-only peer, or silenced: the attempt fails at once and the
                        // session waits in Active for its ConnectRetryTimer.
                        let error = io::ErrorKind::AddrNotAvailable;
                        self.emit(now, LiveEventKind::ConnectFailed { peer, error });
                        let _ = self
                            .speaker
                            .handle_transport(now, peer, Transport::ConnectFailed);
                    }
                }
            }
            fsm::Transmit::Bytes(bytes) => {
                if let Some(conn) = link.conn.as_ref().filter(|_| !link.silent) {
                    // The task may have ended; its end is reported through `Io::Ended`.
                    let _ = conn.out.send(bytes);
                }
            }
            fsm::Transmit::Close => {
                link.dialling = None;
                if let Some(conn) = link.conn.take() {
                    if link.silent {
                        // A black hole carries no FIN either: park it (module docs).
                        link.parked = Some(conn);
                    } else {
                        conn.close();
                    }
                    self.emit(
                        now,
                        LiveEventKind::Closed {
                            peer,
                            cause: CloseCause::Local,
                        },
                    );
                }
            }
        }
    }
}

/// Why the driver's loop woke up.
enum Wake {
    Timer,
    Control(Option<Control>),
    Io(Io),
    Accepted(io::Result<(TcpStream, SocketAddr)>),
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Accepts on `listener`, or waits forever without one.
async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Opens a TCP connection to `target`, from `bind` when given.
async fn dial(
    target: SocketAddr,
    bind: Option<SocketAddr>,
    key: Option<Md5Key>,
) -> io::Result<TcpStream> {
    let socket = if target.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(key) = key {
        md5::set_key(&socket, target.ip(), Some(&key))?;
    }
    if let Some(bind) = bind {
        socket.bind(bind)?;
    }
    socket.connect(target).await
}

/// The task that owns one socket: writes what the driver sends, reads while allowed.
struct ConnTask {
    peer: PeerId,
    id: u64,
    stream: TcpStream,
    out: mpsc::UnboundedReceiver<Vec<u8>>,
    kill: oneshot::Receiver<()>,
    reading: watch::Receiver<bool>,
    io: mpsc::Sender<Io>,
}

impl ConnTask {
    async fn run(mut self) {
        let error = tokio::select! {
            // Killed: the driver has already forgotten the connection.
            _ = &mut self.kill => return,
            result = Self::pump(
                &mut self.stream,
                &mut self.out,
                &mut self.reading,
                &self.io,
                self.peer,
                self.id,
            ) => result,
        };
        match error {
            // The driver closed the connection: flush, FIN, drain until the peer closes too.
            Ok(Pumped::Closing) => {
                let mut kill = self.kill;
                let mut stream = self.stream;
                tokio::select! {
                    _ = &mut kill => {}
                    () = linger(&mut stream) => {}
                }
            }
            Ok(Pumped::Eof) => {
                let ended = Io::Ended {
                    peer: self.peer,
                    conn: self.id,
                    error: None,
                };
                let _ = self.io.send(ended).await;
            }
            Err(error) => {
                let ended = Io::Ended {
                    peer: self.peer,
                    conn: self.id,
                    error: Some(error.kind()),
                };
                let _ = self.io.send(ended).await;
            }
        }
    }

    async fn pump(
        stream: &mut TcpStream,
        out: &mut mpsc::UnboundedReceiver<Vec<u8>>,
        reading: &mut watch::Receiver<bool>,
        io: &mpsc::Sender<Io>,
        peer: PeerId,
        conn: u64,
    ) -> io::Result<Pumped> {
        let mut buf = vec![0_u8; READ_CHUNK];
        // What the peer sent during a silence, and whether it closed meanwhile.
        let mut held: Vec<u8> = Vec::new();
        let mut eof_held = false;
        loop {
            let open = *reading.borrow_and_update();
            if open && !held.is_empty() {
                let bytes = std::mem::take(&mut held);
                if io.send(Io::Bytes { peer, conn, bytes }).await.is_err() {
                    return Ok(Pumped::Closing);
                }
            }
            if open && eof_held {
                return Ok(Pumped::Eof);
            }
            // Silenced, the socket is still drained (bounded) so a close by the peer is seen.
            let may_read = open || (!eof_held && held.len() < SILENT_HOLD);
            tokio::select! {
                biased;
                bytes = out.recv() => match bytes {
                    Some(bytes) => {
                        if let Err(error) = stream.write_all(&bytes).await {
                            // A peer that sends a NOTIFICATION and closes (RFC 4271 §6: "the
                            // BGP connection is closed immediately after it is sent") resets
                            // the connection when our data reaches it unread, so this write
                            // fails while its NOTIFICATION still waits in our receive
                            // buffer. Hand that over before the error ends the connection.
                            if open {
                                Self::deliver_unread(stream, &mut buf, io, peer, conn).await;
                            }
                            return Err(error);
                        }
                    }
                    None => return Ok(Pumped::Closing),
                },
                changed = reading.changed() => {
                    if changed.is_err() {
                        // The driver is gone.
                        return Ok(Pumped::Closing);
                    }
                }
                n = stream.read(&mut buf), if may_read => {
                    let n = n?;
                    let Some(bytes) = buf.get(..n).filter(|b| !b.is_empty()) else {
                        if open {
                            return Ok(Pumped::Eof);
                        }
                        eof_held = true;
                        if io.send(Io::SilentEof { peer, conn }).await.is_err() {
                            return Ok(Pumped::Closing);
                        }
                        continue;
                    };
                    if open {
                        let bytes = bytes.to_vec();
                        if io.send(Io::Bytes { peer, conn, bytes }).await.is_err() {
                            return Ok(Pumped::Closing);
                        }
                    } else {
                        held.extend_from_slice(bytes);
                    }
                }
            }
        }
    }

    /// Forwards what the kernel still holds for a connection whose write failed: reads until
    /// end of stream or an error, each read bounded by [`UNREAD_WAIT`]. A reset connection
    /// returns its queued data at once, then the error; a reactor turn may be needed first,
    /// since nothing may yet have marked the socket readable.
    async fn deliver_unread(
        stream: &mut TcpStream,
        buf: &mut [u8],
        io: &mpsc::Sender<Io>,
        peer: PeerId,
        conn: u64,
    ) {
        while let Ok(Ok(n)) = tokio::time::timeout(UNREAD_WAIT, stream.read(buf)).await {
            let Some(bytes) = buf.get(..n).filter(|b| !b.is_empty()) else {
                return;
            };
            let bytes = bytes.to_vec();
            if io.send(Io::Bytes { peer, conn, bytes }).await.is_err() {
                return;
            }
        }
    }
}

/// How a connection's pump ended without a socket error.
enum Pumped {
    /// The driver closed it.
    Closing,
    /// The peer closed it.
    Eof,
}

/// The end of a connection we close: FIN, then read and discard until the peer closes, so
/// that unread data does not turn our close into a reset before the peer has read our last
/// message (a NOTIFICATION). Bounded by the caller's [`CLOSE_LINGER`].
async fn linger(stream: &mut TcpStream) {
    let _ = stream.flush().await;
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut buf = [0_u8; 1024];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}

#[cfg(test)]
mod unread_tests {
    use super::*;

    #[tokio::test]
    async fn a_notification_left_unread_by_a_reset_is_still_delivered() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
        let addr = listener.local_addr().expect("bound");
        let mut ours = TcpStream::connect(addr).await.expect("connect");
        let (mut theirs, _) = listener.accept().await.expect("accept");
        // Data the peer never reads: its close then resets the connection.
        ours.write_all(b"unread by the peer").await.expect("write");
        // A NOTIFICATION, Cease / Maximum Number of Prefixes Reached (RFC 4486 §4).
        let bytes: Vec<u8> = [0xff_u8; 16].into_iter().chain([0, 21, 3, 6, 1]).collect();
        theirs.write_all(&bytes).await.expect("peer writes");
        // Blocking sleeps: the runtime's reactor does not run, so, as in the pump when a
        // write fails in the same instant, nothing has yet told tokio our socket is readable.
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(theirs);
        std::thread::sleep(std::time::Duration::from_millis(50));
        // Our next write fails: the peer reset the connection.
        assert!(ours.write_all(&[0; 19]).await.is_err() || ours.write_all(&[0; 19]).await.is_err());
        let (tx, mut rx) = mpsc::channel(4);
        let mut buf = [0_u8; 64];
        ConnTask::deliver_unread(&mut ours, &mut buf, &tx, PeerId(1), 7).await;
        drop(tx);
        let mut got = Vec::new();
        while let Some(Io::Bytes { bytes, conn, .. }) = rx.recv().await {
            assert_eq!(conn, 7);
            got.extend(bytes);
        }
        assert_eq!(got, bytes);
    }
}
