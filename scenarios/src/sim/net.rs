//! The transport between BGP speakers: TCP connections and datagrams carried hop by hop over
//! each session's path of segments.
//!
//! Every BGP session of the topology has a path: the segments its packets cross from end 0 to
//! end 1 (CE → access → provider → core → MSEE, say). This module owns one `sim-core`
//! [`Link`] per segment and at most one TCP connection per session (two
//! [`tcp::Endpoint`]s). A segment sent by one end is offered to the first link, and on arrival
//! to the next, so a silent cut anywhere on the path swallows it, a lossy segment drops it at
//! random, and the delays add up. Datagrams (BFD control packets) take the same hops without
//! TCP. What arrives is queued as an [`Upcall`] for the world to hand to the speakers.
//!
//! # Contracts
//!
//! - End 0 of a session opens the connection (active), end 1 listens (passive). That avoids
//!   connection collisions by construction, as ExpressRoute deployments do in practice with the
//!   customer initiating; the FSM's collision handling is exercised by its own tests.
//! - A connection has a generation number; frames of an older generation that are still in
//!   flight when a new connection is opened are discarded on arrival, as a real stack would
//!   reset them (different ports).
//! - Carrier loss on a segment is reported only to routers attached directly to it
//!   ([`Upcall::Carrier`]); a router behind a provider switch never hears of it.
//! - A crashed router neither sends nor answers: frames to it vanish, its endpoints are gone.

use std::collections::VecDeque;

use bgp::bfd::packet::PacketBuf;
use sim_core::engine::Engine;
use sim_core::link::{Direction, DropCause, Link, Outcome, State};
use sim_core::queue::EventId;
use sim_core::rng::{Seed, Stream};
use sim_core::tcp::{self, Segment, TcpConfig};
use sim_core::time::Instant;

use super::wire::WireCounter;
use crate::scenario::MessageType;

/// Index of a segment (the topology's segment order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegIx(pub usize);

/// Index of a session (the topology's session order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessIx(pub usize);

/// The well-known BGP port (RFC 4271 §8.2.1.2 and IANA).
pub const BGP_PORT: u16 = 179;

/// Events of this layer, scheduled in the world's engine.
#[derive(Debug, Clone)]
pub enum NetEvent {
    /// A frame reaches the far side of one hop.
    Hop {
        /// The session whose path it travels.
        session: SessIx,
        /// The end it travels towards (0 or 1).
        toward: u8,
        /// Index of the hop just crossed, in travel order.
        hop: u16,
        /// The delivery ticket from the link.
        delivery: sim_core::link::Delivery,
        /// What it carries.
        frame: Frame,
    },
    /// A TCP endpoint's timer.
    TcpTimer {
        /// The session.
        session: SessIx,
        /// The end whose endpoint it is.
        end: u8,
        /// The connection generation it was armed for.
        generation: u32,
    },
}

/// What a frame carries.
#[derive(Debug, Clone)]
pub enum Frame {
    /// A TCP segment of connection generation `generation`.
    Tcp {
        /// Connection generation.
        generation: u32,
        /// The segment.
        segment: Box<Segment>,
    },
    /// A datagram (a BFD control packet, inline: no allocation per packet).
    Datagram(PacketBuf),
}

impl Frame {
    /// Bytes on the wire: IPv4 + TCP/UDP headers + payload.
    fn wire_len(&self) -> usize {
        match self {
            Self::Tcp { segment, .. } => segment.wire_len(),
            Self::Datagram(d) => 28 + d.len(),
        }
    }
}

/// What the network tells the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upcall {
    /// The TCP connection of a session is established at this end.
    Connected {
        /// The session.
        session: SessIx,
        /// The end.
        end: u8,
    },
    /// In-order bytes arrived at this end.
    Data {
        /// The session.
        session: SessIx,
        /// The end.
        end: u8,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The connection failed or was closed or reset, as seen by this end.
    Closed {
        /// The session.
        session: SessIx,
        /// The end.
        end: u8,
        /// Whether it had been established (otherwise: the connection attempt failed).
        was_connected: bool,
        /// What happened.
        why: CloseCause,
    },
    /// A datagram arrived at this end.
    Datagram {
        /// The session.
        session: SessIx,
        /// The end.
        end: u8,
        /// The payload.
        bytes: PacketBuf,
    },
    /// A handshake segment (SYN, or SYN-ACK) of the current connection attempt was lost on
    /// the path; reported once per attempt and end, so that a timeline can say why a session
    /// does not come back.
    HandshakeLost {
        /// The session.
        session: SessIx,
        /// The end that sent it (0: the SYN of the active opener; 1: the SYN-ACK).
        from: u8,
        /// When the sender retransmits it (its retransmission timer), if it still will.
        retransmit_at: Option<Instant>,
    },
    /// Carrier changed on a segment attached directly to a router.
    Carrier {
        /// The router (topology index).
        router: usize,
        /// The segment.
        segment: SegIx,
        /// Carrier back (`true`) or lost.
        up: bool,
    },
}

/// Why a connection ended at one end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCause {
    /// TCP gave up retransmitting.
    Aborted(tcp::AbortReason),
    /// The peer sent FIN.
    PeerClosed,
    /// The peer reset or refused the connection.
    Reset,
}

/// One hop of a session path, in the 0 → 1 direction.
#[derive(Debug, Clone, Copy)]
struct Hop {
    segment: SegIx,
    dir: Direction,
}

#[derive(Debug, Clone)]
struct Conn {
    generation: u32,
    eps: [Option<tcp::Endpoint>; 2],
    /// Whether each end has seen `Connected`.
    connected: [bool; 2],
    timers: [Option<(Instant, EventId)>; 2],
    /// A lost handshake segment has been reported for this end (once per attempt).
    handshake_lost: [bool; 2],
}

/// A session's path and connection.
#[derive(Debug, Clone)]
struct SessionNet {
    routers: [usize; 2],
    hops: Vec<Hop>,
    conn: Option<Conn>,
    next_generation: u32,
    /// Whether end 1 accepts connections (Azure's gates, a configured session).
    accepting: bool,
}

/// Counters of what crossed the network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// TCP segments offered to a first hop.
    pub tcp_segments: u64,
    /// Datagrams offered to a first hop.
    pub datagrams: u64,
    /// Frames dropped on some hop.
    pub dropped: u64,
    /// Frames discarded at arrival (old connection generation, dead router).
    pub discarded: u64,
}

/// A segment's endpoint as far as carrier goes: a router index, or a transit device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// A router's interface (sees carrier changes).
    Router(usize),
    /// A transit node (provider switch, internet): hides carrier changes.
    Transit,
}

/// Where a packet capture of the run is taken (`holdtime run --capture-point`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapturePoint {
    /// At the sending router's interface, as each frame is put on its path's first hop: every
    /// frame sent is recorded at its send time, including those the path later loses.
    #[default]
    Sender,
    /// At the receiving router's interface, as each frame leaves its path's last hop: only
    /// frames that survived the path, at their arrival time.
    Receiver,
}

/// A frame seen at the capture point (see [`Net::set_capture`]).
#[derive(Debug, Clone)]
pub struct Captured {
    /// When it was seen.
    pub at: Instant,
    /// The session whose path it travels.
    pub session: SessIx,
    /// The end that sent it (0 or 1).
    pub from: u8,
    /// The frame.
    pub frame: Frame,
}

/// The network: links per segment, paths and connections per session.
#[derive(Debug, Clone)]
pub struct Net {
    links: Vec<Link>,
    attach: Vec<[Attach; 2]>,
    sessions: Vec<SessionNet>,
    alive: Vec<bool>,
    tcp: TcpConfig,
    isn: Stream,
    upcalls: VecDeque<Upcall>,
    stats: NetStats,
    /// The capture point, when a capture is taken.
    capture: Option<CapturePoint>,
    /// Frames seen at the capture point and not yet drained.
    captured: Vec<Captured>,
    /// BGP messages as they first leave their sender (the report's message counts).
    wire: WireCounter,
    /// Segments an endpoint emitted, between polling and sending them (kept to reuse).
    scratch: Vec<Segment>,
    /// Buffers of delivered [`Upcall::Data`] handed back by [`Net::recycle`], reused for the
    /// next deliveries so that steady keepalive traffic allocates nothing.
    spare: Vec<Vec<u8>>,
    /// Boxes of delivered segments, reused for the next segments sent (the box keeps
    /// [`Frame`], and so every queued event, small).
    #[allow(
        clippy::vec_box,
        reason = "the boxes themselves are what is reused: a frame carries a Box<Segment>"
    )]
    spare_segments: Vec<Box<Segment>>,
    /// Importance sampling's tilt ([`crate::sweep::rare`]); `None` in every ordinary run.
    pub(crate) tilt: Option<Tilt>,
}

/// Importance sampling ([`crate::sweep::rare`]): the frames that carry something (TCP data,
/// a datagram) travelling on hops with independent loss are sorted into components, one per
/// (session, direction of travel); the frames of component `pick` are decided at loss `q`
/// instead of their hop's `p`, the others at `p`. For every component, `log_ratio` sums
/// `ln(q/p)` per loss and `ln((1 − q)/(1 − p))` per frame through: the log of the likelihood
/// ratio of its frames' decisions under `q` against `p`. Pure ACKs are left alone: a hold
/// timer restarts only on a message delivered, so their loss does not make a reset.
#[derive(Debug, Clone)]
pub(crate) struct Tilt {
    /// Per segment: the real loss `p` of an independent-loss hop (`None`: not tilted).
    pub(crate) p: Vec<Option<f64>>,
    /// The tilted loss.
    pub(crate) q: f64,
    /// The component run at `q`: `2·session + toward`.
    pub(crate) pick: usize,
    /// Per component: the log likelihood ratio of its frames' decisions (`q` against `p`).
    pub(crate) log_ratio: Vec<f64>,
    /// Per component: frames lost and frames decided.
    pub(crate) counts: Vec<(u64, u64)>,
    /// Forced loss (the branches of [`crate::sweep::rare`]): component `pick`'s frames that
    /// would deliver (see [`Through`]) are lost at the first lossy hop they meet from now on, whichever hop of their path that is
    /// (a frame already past earlier lossy hops included), and each adds to `log_ratio` the
    /// log of `1 / P`, `P` the probability that the frame is lost on this or a later lossy
    /// hop under the real losses; `q` is then 1.
    pub(crate) force: bool,
    /// With `force`: the fate of the first pure ACK sent back on `pick`'s session (toward
    /// `pick`'s sender) from now on, at the lossy hops of its path in travel order: lost at
    /// hop `j` (and kept at those before), or kept at all when `j` is past the last. `None`:
    /// decided at the real loss (see [`AckPlan`]).
    pub(crate) ack_plan: Option<AckPlan>,
    /// Per component: frames kept on the last lossy hop of their path (through the loss:
    /// nothing can drop them later but congestion) that delivered (see [`Through`]).
    pub(crate) passed: Vec<u64>,
    /// Per session: its components are its datagrams (BFD) only, not its TCP data (a
    /// session with BFD is reset by BFD, whose packets a delivered keepalive does not
    /// replace); sessions beyond the end count their TCP data only.
    pub(crate) datagrams: Vec<bool>,
    /// Per component: what has got through the loss of its TCP stream (see [`Through`]).
    pub(crate) through: Vec<Through>,
}

/// The fate set for one ACK in a branch of [`crate::sweep::rare`] ([`Tilt::ack_plan`]): the
/// branch is then conditioned on it, and its value weighed by the fate's chance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AckPlan {
    /// The lossy hop (counted from 0 in travel order) where the ACK is lost; past the last:
    /// kept everywhere.
    pub(crate) lost_at: usize,
    /// The ACK steered, once sent (its sequence and acknowledgement numbers), and the lossy
    /// hops it has crossed.
    pub(crate) steered: Option<(u32, u32, usize)>,
    /// The ACK's fate has been decided (lost, or kept at its last lossy hop).
    pub(crate) done: bool,
}

/// The part of a component's TCP stream that got through the loss, as its receiver will
/// reassemble it: a frame *delivers* when it covers the next byte not yet through (it
/// extends what the receiver can read); a frame beyond it waits out of order and delivers
/// nothing until the gap is filled. Datagrams always deliver.
#[derive(Debug, Clone, Default)]
pub(crate) struct Through {
    /// The connection generation (`None`: nothing through yet).
    generation: Option<u32>,
    /// The next byte not yet through.
    next: u32,
    /// Ranges through beyond `next`, `[start, end)`.
    ahead: Vec<(u32, u32)>,
}

impl Through {
    /// Whether `frame` would extend what got through.
    fn delivers(&self, frame: &Frame) -> bool {
        match frame {
            Frame::Datagram(_) => true,
            Frame::Tcp {
                generation,
                segment,
            } => {
                let len = u32::try_from(segment.payload.len()).unwrap_or(u32::MAX);
                self.generation != Some(*generation) || self.next.wrapping_sub(segment.seq) < len
            }
        }
    }

    /// Records `frame` through the loss; returns whether it delivered.
    fn pass(&mut self, frame: &Frame) -> bool {
        let Frame::Tcp {
            generation,
            segment,
        } = frame
        else {
            return true;
        };
        let len = u32::try_from(segment.payload.len()).unwrap_or(u32::MAX);
        let end = segment.seq.wrapping_add(len);
        if self.generation != Some(*generation) {
            *self = Self {
                generation: Some(*generation),
                next: end,
                ahead: Vec::new(),
            };
            return true;
        }
        if self.next.wrapping_sub(segment.seq) < len {
            self.next = end;
            // Absorb what waited out of order.
            loop {
                let next = self.next;
                let Some(i) = self
                    .ahead
                    .iter()
                    .position(|&(a, _)| next.wrapping_sub(a) < 1 << 31)
                else {
                    break;
                };
                let (_, b) = self.ahead.swap_remove(i);
                if b.wrapping_sub(self.next) < 1 << 31 {
                    self.next = b;
                }
            }
            return true;
        }
        if segment.seq.wrapping_sub(self.next) < 1 << 31 && self.ahead.len() < 64 {
            self.ahead.push((segment.seq, end));
        }
        false
    }
}

/// Errors building the network from a topology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// A session path does not chain from end 0 to end 1.
    #[error(
        "session {session}: segment {segment} does not continue the path from its previous hop"
    )]
    BrokenPath {
        /// Session index.
        session: usize,
        /// Segment index.
        segment: usize,
    },
}

/// A node identity used to chain paths: a router index or a transit node name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathNode {
    /// A router.
    Router(usize),
    /// A named transit node.
    Transit(String),
}

impl Net {
    /// Builds the network.
    ///
    /// `segments` gives each segment's link and its two end nodes; `sessions` gives each
    /// session's two routers and its path (segment indices from end 0 to end 1).
    ///
    /// # Errors
    ///
    /// [`NetError::BrokenPath`] if a path does not chain.
    pub fn new(
        seed: Seed,
        tcp: TcpConfig,
        routers: usize,
        segments: Vec<(Link, [PathNode; 2])>,
        sessions: &[([usize; 2], Vec<usize>)],
    ) -> Result<Self, NetError> {
        let ends: Vec<[PathNode; 2]> = segments.iter().map(|(_, e)| e.clone()).collect();
        let attach = ends
            .iter()
            .map(|e| {
                e.clone().map(|n| match n {
                    PathNode::Router(r) => Attach::Router(r),
                    PathNode::Transit(_) => Attach::Transit,
                })
            })
            .collect();
        let mut out = Vec::with_capacity(sessions.len());
        for (si, (routers_of, path)) in sessions.iter().enumerate() {
            let mut at = PathNode::Router(routers_of[0]);
            let mut hops = Vec::with_capacity(path.len());
            for &seg in path {
                let broken = NetError::BrokenPath {
                    session: si,
                    segment: seg,
                };
                let e = ends.get(seg).ok_or_else(|| broken.clone())?;
                let dir = if e[0] == at {
                    at = e[1].clone();
                    Direction::AToB
                } else if e[1] == at {
                    at = e[0].clone();
                    Direction::BToA
                } else {
                    return Err(broken);
                };
                hops.push(Hop {
                    segment: SegIx(seg),
                    dir,
                });
            }
            if at != PathNode::Router(routers_of[1]) {
                return Err(NetError::BrokenPath {
                    session: si,
                    segment: path.last().copied().unwrap_or(0),
                });
            }
            out.push(SessionNet {
                routers: *routers_of,
                hops,
                conn: None,
                next_generation: 0,
                accepting: true,
            });
        }
        Ok(Self {
            links: segments.into_iter().map(|(l, _)| l).collect(),
            attach,
            sessions: out,
            alive: vec![true; routers],
            tcp,
            isn: seed.stream_named("net/tcp-isn"),
            upcalls: VecDeque::new(),
            stats: NetStats::default(),
            capture: None,
            captured: Vec::new(),
            wire: WireCounter::default(),
            scratch: Vec::new(),
            spare: Vec::new(),
            spare_segments: Vec::new(),
            tilt: None,
        })
    }

    /// Re-keys every random stream of the network (TCP initial sequence numbers, each link
    /// direction's loss and jitter) for a forked run; see [`Stream::rekey`].
    pub fn rekey(&mut self, key: u64) {
        self.isn.rekey(key);
        for l in &mut self.links {
            l.rekey(key);
        }
    }

    /// Whether every byte written on every TCP connection has been acknowledged and read:
    /// the BGP byte streams are at rest (a fork waits for this before it re-draws the
    /// keepalive phases; the model has no delayed ACK).
    #[must_use]
    pub fn tcp_quiet(&self) -> bool {
        self.sessions
            .iter()
            .filter_map(|s| s.conn.as_ref())
            .flat_map(|c| c.eps.iter().flatten())
            .all(|ep| ep.unacknowledged() == 0 && ep.readable() == 0)
    }

    /// Starts (or, with `None`, stops) recording every frame at `point`; drain them with
    /// [`Self::drain_captured`]. Recording copies each frame, so it is off by default.
    pub fn set_capture(&mut self, point: Option<CapturePoint>) {
        self.capture = point;
        if point.is_none() {
            self.captured.clear();
        }
    }

    /// BGP messages of `kind` transmitted so far: a message counts once its last octet has left
    /// its sender, whatever the segmentation and retransmissions (see [`super::wire`]).
    pub(crate) fn messages_sent(&self, kind: MessageType) -> u64 {
        self.wire.get(kind)
    }

    /// The frames recorded at the capture point since the last call, in time order.
    pub fn drain_captured(&mut self) -> std::vec::Drain<'_, Captured> {
        self.captured.drain(..)
    }

    /// The next thing to tell the world.
    pub fn poll_upcall(&mut self) -> Option<Upcall> {
        self.upcalls.pop_front()
    }

    /// Counters.
    #[must_use]
    pub const fn stats(&self) -> NetStats {
        self.stats
    }

    /// The link of a segment.
    #[must_use]
    pub fn link(&self, seg: SegIx) -> Option<&Link> {
        self.links.get(seg.0)
    }

    /// The link of a segment, mutably (loss episodes change its channel).
    pub fn link_mut(&mut self, seg: SegIx) -> Option<&mut Link> {
        self.links.get_mut(seg.0)
    }

    /// Whether every hop of a session's path carries frames from `from_end` towards the other.
    #[must_use]
    pub fn path_up(&self, session: SessIx, from_end: u8) -> bool {
        let Some(s) = self.sessions.get(session.0) else {
            return false;
        };
        s.hops.iter().all(|h| {
            let dir = if from_end == 0 {
                h.dir
            } else {
                h.dir.reverse()
            };
            self.links
                .get(h.segment.0)
                .is_some_and(|l| l.state(dir) == State::Up)
        })
    }

    /// Whether the session's path starts (at `end`'s router) on `segment`: carrier loss there
    /// is visible to that end's session.
    #[must_use]
    pub fn first_hop_is(&self, session: SessIx, end: u8, segment: SegIx) -> bool {
        self.sessions.get(session.0).is_some_and(|s| {
            let hop = if end == 0 {
                s.hops.first()
            } else {
                s.hops.last()
            };
            hop.is_some_and(|h| h.segment == segment)
        })
    }

    /// The routers at a session's ends.
    #[must_use]
    pub fn routers(&self, session: SessIx) -> Option<[usize; 2]> {
        self.sessions.get(session.0).map(|s| s.routers)
    }

    /// Sets whether end 1 accepts connections (refused ones are reset).
    pub fn set_accepting(&mut self, session: SessIx, accepting: bool) {
        if let Some(s) = self.sessions.get_mut(session.0) {
            s.accepting = accepting;
        }
    }

    /// End 0 opens a new TCP connection (replacing any previous one, which is dropped without
    /// a word: the FSM has already given up on it).
    pub fn connect<E: From<NetEvent>>(&mut self, engine: &mut Engine<E>, session: SessIx) {
        let now = engine.now();
        let Some(s) = self.sessions.get_mut(session.0) else {
            return;
        };
        if let Some(old) = s.conn.take() {
            for (_, id) in old.timers.into_iter().flatten() {
                engine.cancel(id);
            }
        }
        let generation = s.next_generation;
        s.next_generation = s.next_generation.wrapping_add(1);
        // Ephemeral port per generation, in Linux's default range, so captures distinguish
        // successive connections.
        let eph = 32_768 + u16::try_from(generation % 28_232).unwrap_or(0);
        let mut active = tcp::Endpoint::new(self.tcp, eph, BGP_PORT, &mut self.isn);
        let mut passive = tcp::Endpoint::new(self.tcp, BGP_PORT, eph, &mut self.isn);
        // `connect`/`listen` fail only on an endpoint that is not closed; these are new.
        let _ = active.connect(now);
        if s.accepting && self.alive.get(s.routers[1]).copied().unwrap_or(false) {
            let _ = passive.listen();
        }
        s.conn = Some(Conn {
            generation,
            eps: [Some(active), Some(passive)],
            connected: [false; 2],
            timers: [None; 2],
            handshake_lost: [false; 2],
        });
        self.flush(engine, session, 0);
        self.flush(engine, session, 1);
    }

    /// The application at `end` writes bytes. Returns how many were accepted (all, unless the
    /// 4 MiB send buffer is full).
    pub fn write<E: From<NetEvent>>(
        &mut self,
        engine: &mut Engine<E>,
        session: SessIx,
        end: u8,
        bytes: &[u8],
    ) -> usize {
        let n = self
            .endpoint_mut(session, end)
            .and_then(|ep| ep.write(bytes).ok())
            .unwrap_or(0);
        self.flush(engine, session, end);
        n
    }

    /// The application at `end` closes its side (FIN).
    pub fn close<E: From<NetEvent>>(&mut self, engine: &mut Engine<E>, session: SessIx, end: u8) {
        if let Some(ep) = self.endpoint_mut(session, end) {
            ep.close();
        }
        self.flush(engine, session, end);
    }

    /// Drops `end`'s endpoint without sending anything (its interface is down, or its router
    /// died). The other end finds out only through its own timers.
    pub fn drop_end<E: From<NetEvent>>(
        &mut self,
        engine: &mut Engine<E>,
        session: SessIx,
        end: u8,
    ) {
        let Some(conn) = self
            .sessions
            .get_mut(session.0)
            .and_then(|s| s.conn.as_mut())
        else {
            return;
        };
        let i = usize::from(end & 1);
        conn.eps[i] = None;
        conn.connected[i] = false;
        if let Some((_, id)) = conn.timers[i].take() {
            engine.cancel(id);
        }
    }

    /// A router crashes (`alive = false`: every endpoint it has is dropped silently) or boots.
    pub fn set_alive<E: From<NetEvent>>(
        &mut self,
        engine: &mut Engine<E>,
        router: usize,
        alive: bool,
    ) {
        if let Some(a) = self.alive.get_mut(router) {
            *a = alive;
        }
        if !alive {
            for si in 0..self.sessions.len() {
                for end in 0..2u8 {
                    if self.sessions[si].routers[usize::from(end)] == router {
                        self.drop_end(engine, SessIx(si), end);
                    }
                }
            }
        }
    }

    /// Whether a router is running.
    #[must_use]
    pub fn is_alive(&self, router: usize) -> bool {
        self.alive.get(router).copied().unwrap_or(false)
    }

    /// Hands back the buffer of an [`Upcall::Data`] once its bytes are consumed, to be reused
    /// for a later delivery (a few are kept; the contents do not matter).
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < 8 {
            buf.clear();
            self.spare.push(buf);
        }
    }

    /// Sends a datagram from `end` along the session path.
    pub fn send_datagram<E: From<NetEvent>>(
        &mut self,
        engine: &mut Engine<E>,
        session: SessIx,
        end: u8,
        bytes: PacketBuf,
    ) {
        self.stats.datagrams += 1;
        self.send_hop(engine, session, 1 - (end & 1), 0, Frame::Datagram(bytes));
    }

    /// Carrier lost (`up = false`) or back on a segment; routers attached to it are told.
    pub fn set_carrier(&mut self, now: Instant, seg: SegIx, up: bool) {
        let Some(link) = self.links.get_mut(seg.0) else {
            return;
        };
        let changes = if up {
            link.set_up(now)
        } else {
            link.set_down(now)
        };
        if changes.is_none() {
            return;
        }
        if let Some(attach) = self.attach.get(seg.0) {
            for a in attach {
                if let Attach::Router(router) = *a {
                    self.upcalls.push_back(Upcall::Carrier {
                        router,
                        segment: seg,
                        up,
                    });
                }
            }
        }
    }

    /// Makes a segment silent in both directions (or clears it).
    pub fn set_silent(&mut self, seg: SegIx, silent: bool) {
        if let Some(link) = self.links.get_mut(seg.0) {
            link.set_silent(Direction::AToB, silent);
            link.set_silent(Direction::BToA, silent);
        }
    }

    /// Handles one of this layer's events.
    pub fn handle<E: From<NetEvent>>(&mut self, engine: &mut Engine<E>, event: NetEvent) {
        match event {
            NetEvent::Hop {
                session,
                toward,
                hop,
                delivery,
                frame,
            } => {
                self.arrive(engine, session, toward, hop, delivery, frame);
            }
            NetEvent::TcpTimer {
                session,
                end,
                generation,
            } => {
                let now = engine.now();
                let Some(conn) = self
                    .sessions
                    .get_mut(session.0)
                    .and_then(|s| s.conn.as_mut())
                else {
                    return;
                };
                if conn.generation != generation {
                    return;
                }
                let i = usize::from(end & 1);
                conn.timers[i] = None;
                if let Some(ep) = conn.eps[i].as_mut() {
                    ep.handle_timeout(now);
                }
                self.flush(engine, session, end);
            }
        }
    }

    /// The retransmission timeout (backed off while retransmitting) of end `end`'s TCP
    /// endpoint on session `session`; `None` without a connection ([`crate::sweep::rare`]'s
    /// splitting levels).
    pub(crate) fn rto_of(&self, session: usize, end: u8) -> Option<sim_core::time::Duration> {
        self.sessions
            .get(session)?
            .conn
            .as_ref()?
            .eps
            .get(usize::from(end & 1))?
            .as_ref()
            .map(tcp::Endpoint::rto)
    }

    /// Whether end `end`'s tail-loss probe episode on `session` is open (see
    /// [`tcp::Endpoint::probe_episode_open`]).
    pub(crate) fn probe_episode_open(&self, session: usize, end: u8) -> bool {
        self.sessions
            .get(session)
            .and_then(|s| s.conn.as_ref())
            .and_then(|c| c.eps.get(usize::from(end & 1)))
            .and_then(Option::as_ref)
            .is_some_and(tcp::Endpoint::probe_episode_open)
    }

    fn endpoint_mut(&mut self, session: SessIx, end: u8) -> Option<&mut tcp::Endpoint> {
        self.sessions
            .get_mut(session.0)?
            .conn
            .as_mut()?
            .eps
            .get_mut(usize::from(end & 1))?
            .as_mut()
    }

    /// The segments a session's frames cross from end `from_end` to the other end, in travel
    /// order, each with the direction it is crossed in.
    #[must_use]
    pub fn hops_from(&self, session: SessIx, from_end: u8) -> Vec<(SegIx, Direction)> {
        let toward = 1 - (from_end & 1);
        (0..)
            .map_while(|k| self.hop_at(session, toward, k))
            .collect()
    }

    /// The hop of a path in travel order towards `toward`.
    fn hop_at(&self, session: SessIx, toward: u8, k: usize) -> Option<(SegIx, Direction)> {
        let s = self.sessions.get(session.0)?;
        if toward == 1 {
            s.hops.get(k).map(|h| (h.segment, h.dir))
        } else {
            let n = s.hops.len();
            let i = n.checked_sub(k + 1)?;
            s.hops.get(i).map(|h| (h.segment, h.dir.reverse()))
        }
    }

    fn send_hop<E: From<NetEvent>>(
        &mut self,
        engine: &mut Engine<E>,
        session: SessIx,
        toward: u8,
        k: usize,
        frame: Frame,
    ) {
        let now = engine.now();
        let Some((seg, dir)) = self.hop_at(session, toward, k) else {
            return;
        };
        if k == 0
            && let Frame::Tcp { segment, .. } = &frame
        {
            self.wire.on_segment(session, 1 - (toward & 1), segment);
        }
        if k == 0 && self.capture == Some(CapturePoint::Sender) {
            self.captured.push(Captured {
                at: now,
                session,
                from: 1 - (toward & 1),
                frame: frame.clone(),
            });
        }
        // A branch's steered ACK (see `AckPlan`): lost or kept here as planned.
        let mut steer = None;
        let later_lossy = self.tilt.as_ref().is_some_and(|t| {
            t.ack_plan.is_some() && {
                let n = self.sessions.get(session.0).map_or(0, |s| s.hops.len());
                (k + 1..n)
                    .filter_map(|j| self.hop_at(session, toward, j))
                    .any(|(s, _)| t.p.get(s.0).copied().flatten().is_some())
            }
        });
        if let (Some(t), Frame::Tcp { segment, .. }) = (self.tilt.as_mut(), &frame)
            && t.force
            && segment.payload.is_empty()
            && 2 * session.0 + usize::from(toward & 1) == t.pick ^ 1
            && let Some(plan) = t.ack_plan.as_mut()
            && !plan.done
        {
            if k == 0 && plan.steered.is_none() {
                plan.steered = Some((segment.seq, segment.ack, 0));
            }
            let lossy_here = t.p.get(seg.0).copied().flatten().is_some();
            if let Some((sq, ak, crossed)) = plan.steered.as_mut()
                && (*sq, *ak) == (segment.seq, segment.ack)
                && lossy_here
            {
                let lose = *crossed == plan.lost_at;
                *crossed += 1;
                if lose || !later_lossy {
                    plan.done = true;
                }
                steer = Some(lose);
            }
        }
        let mut last_lossy = None;
        let tilted = match (&self.tilt, &frame) {
            _ if steer.is_some() => None,
            (Some(_), Frame::Tcp { segment, .. }) if segment.payload.is_empty() => None,
            (Some(t), f)
                if t.datagrams.get(session.0).copied().unwrap_or(false)
                    == matches!(f, Frame::Tcp { .. }) =>
            {
                None
            }
            (Some(t), _) => {
                let lossy = |seg: SegIx| t.p.get(seg.0).copied().flatten();
                let c = 2 * session.0 + usize::from(toward & 1);
                let n = self.sessions.get(session.0).map_or(0, |s| s.hops.len());
                let later: Vec<f64> = (k + 1..n)
                    .filter_map(|j| self.hop_at(session, toward, j))
                    .filter_map(|(s, _)| lossy(s))
                    .collect();
                if lossy(seg).is_some() && later.is_empty() {
                    last_lossy = Some(c);
                }
                let delivers = t.through.get(c).is_none_or(|x| x.delivers(&frame));
                if t.force && c == t.pick && delivers {
                    // Forced loss: lost here, weighed by the chance of being lost here or on
                    // a later lossy hop (where it is lost does not change what the session
                    // sees).
                    lossy(seg).map(|p| {
                        let through = later.iter().fold(1.0 - p, |a, x| a * (1.0 - x));
                        (c, 1.0 - through, 1.0, true)
                    })
                } else if t.force {
                    // Everything else runs at its real loss, and weighs nothing.
                    None
                } else {
                    // Only the first lossy hop a frame meets is tilted: a frame lost on a
                    // later hop instead would weigh ((1 − p)/(1 − q))·(p/q), not p/q, and
                    // that spread between paths is weight degeneracy.
                    let earlier = (0..k)
                        .filter_map(|j| self.hop_at(session, toward, j))
                        .any(|(s, _)| lossy(s).is_some());
                    lossy(seg)
                        .filter(|_| !earlier)
                        .map(|p| (c, p, t.q, c == t.pick))
                }
            }
            (None, _) => None,
        };
        let Some(link) = self.links.get_mut(seg.0) else {
            return;
        };
        if let Some((_, _, q, true)) = tilted {
            link.set_loss(dir, sim_core::link::LossModel::Bernoulli { p: q });
        }
        let real = steer.and_then(|lose| {
            let p = self.tilt.as_ref()?.p.get(seg.0).copied().flatten()?;
            let q = if lose { 1.0 } else { 0.0 };
            link.set_loss(dir, sim_core::link::LossModel::Bernoulli { p: q });
            Some(p)
        });
        let outcome = link.transmit(now, dir, frame.wire_len());
        if let Some(p) = real {
            link.set_loss(dir, sim_core::link::LossModel::Bernoulli { p });
        }
        if let Some((c, p, q, pick)) = tilted {
            if pick {
                link.set_loss(dir, sim_core::link::LossModel::Bernoulli { p });
            }
            let lost = match outcome {
                Outcome::Deliver(_) => Some(false),
                Outcome::Drop(DropCause::Loss) => Some(true),
                Outcome::Drop(_) => None,
            };
            if let (Some(lost), Some(t)) = (lost, self.tilt.as_mut()) {
                if t.log_ratio.len() <= c {
                    t.log_ratio.resize(c + 1, 0.0);
                    t.counts.resize(c + 1, (0, 0));
                }
                t.log_ratio[c] += if lost {
                    q.ln() - p.ln()
                } else {
                    (1.0 - q).ln() - (1.0 - p).ln()
                };
                t.counts[c].0 += u64::from(lost);
                t.counts[c].1 += 1;
            }
        }
        if let (Some(c), Outcome::Deliver(_), Some(t)) = (last_lossy, &outcome, self.tilt.as_mut())
        {
            if t.passed.len() <= c {
                t.passed.resize(c + 1, 0);
                t.through.resize(c + 1, Through::default());
            }
            if t.through[c].pass(&frame) {
                t.passed[c] += 1;
            }
        }
        match outcome {
            Outcome::Deliver(delivery) => {
                let hop = u16::try_from(k).unwrap_or(u16::MAX);
                engine.schedule_at(
                    delivery.arrive_at,
                    NetEvent::Hop {
                        session,
                        toward,
                        hop,
                        delivery,
                        frame,
                    }
                    .into(),
                );
            }
            Outcome::Drop(
                DropCause::Down | DropCause::Loss | DropCause::QueueFull | DropCause::Silent,
            ) => {
                self.stats.dropped += 1;
                self.lost(session, toward, &frame);
            }
        }
    }

    /// A frame travelling towards `toward` was lost: a handshake segment of the current
    /// attempt is reported (once per attempt and end) with the sender's retransmission time.
    fn lost(&mut self, session: SessIx, toward: u8, frame: &Frame) {
        let Frame::Tcp {
            generation,
            segment,
        } = frame
        else {
            return;
        };
        if !segment.flags.contains(tcp::Flags::SYN) {
            return;
        }
        let from = 1 - (toward & 1);
        let i = usize::from(from);
        let Some(conn) = self
            .sessions
            .get_mut(session.0)
            .and_then(|s| s.conn.as_mut())
            .filter(|c| c.generation == *generation && !c.connected[i])
        else {
            return;
        };
        if conn.handshake_lost[i] {
            return;
        }
        conn.handshake_lost[i] = true;
        let retransmit_at = conn.eps[i].as_ref().and_then(tcp::Endpoint::poll_timeout);
        self.upcalls.push_back(Upcall::HandshakeLost {
            session,
            from,
            retransmit_at,
        });
    }

    fn arrive<E: From<NetEvent>>(
        &mut self,
        engine: &mut Engine<E>,
        session: SessIx,
        toward: u8,
        hop: u16,
        delivery: sim_core::link::Delivery,
        frame: Frame,
    ) {
        let k = usize::from(hop);
        let Some((seg, dir)) = self.hop_at(session, toward, k) else {
            return;
        };
        let survived = self
            .links
            .get_mut(seg.0)
            .is_some_and(|l| l.survives(dir, &delivery));
        if !survived {
            self.stats.dropped += 1;
            self.lost(session, toward, &frame);
            return;
        }
        let hops = self.sessions.get(session.0).map_or(0, |s| s.hops.len());
        if k + 1 < hops {
            self.send_hop(engine, session, toward, k + 1, frame);
            return;
        }
        if self.capture == Some(CapturePoint::Receiver) {
            self.captured.push(Captured {
                at: engine.now(),
                session,
                from: 1 - (toward & 1),
                frame: frame.clone(),
            });
        }
        let router = self.sessions[session.0].routers[usize::from(toward)];
        if !self.is_alive(router) {
            self.stats.discarded += 1;
            return;
        }
        match frame {
            Frame::Datagram(bytes) => {
                self.upcalls.push_back(Upcall::Datagram {
                    session,
                    end: toward,
                    bytes,
                });
            }
            Frame::Tcp {
                generation,
                segment,
            } => {
                let now = engine.now();
                let Some(conn) = self.sessions[session.0].conn.as_mut() else {
                    self.stats.discarded += 1;
                    return;
                };
                if conn.generation != generation {
                    self.stats.discarded += 1;
                    return;
                }
                match conn.eps[usize::from(toward)].as_mut() {
                    Some(ep) => ep.handle_segment(now, &segment),
                    None => {
                        self.stats.discarded += 1;
                        return;
                    }
                }
                if self.spare_segments.len() < 16 {
                    self.spare_segments.push(segment);
                }
                self.flush(engine, session, toward);
            }
        }
    }

    /// Drains an endpoint's outputs after an input: segments onto the path, events into
    /// upcalls, and its timer into the engine.
    fn flush<E: From<NetEvent>>(&mut self, engine: &mut Engine<E>, session: SessIx, end: u8) {
        let now = engine.now();
        let i = usize::from(end & 1);
        // Reuse one buffer for the segments to send (most flushes send zero or one).
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        let Some(conn) = self
            .sessions
            .get_mut(session.0)
            .and_then(|s| s.conn.as_mut())
        else {
            return;
        };
        let generation = conn.generation;
        let Some(ep) = conn.eps[i].as_mut() else {
            return;
        };
        while let Some(seg) = ep.poll_transmit(now) {
            out.push(seg);
        }
        let mut closed = None;
        while let Some(ev) = ep.poll_event() {
            match ev {
                tcp::Event::Connected => {
                    conn.connected[i] = true;
                    self.upcalls.push_back(Upcall::Connected { session, end });
                }
                tcp::Event::DataReadable => {
                    let mut bytes = self.spare.pop().unwrap_or_default();
                    bytes.resize(ep.readable(), 0);
                    let n = ep.read(&mut bytes);
                    bytes.truncate(n);
                    if !bytes.is_empty() {
                        self.upcalls.push_back(Upcall::Data {
                            session,
                            end,
                            bytes,
                        });
                    }
                }
                tcp::Event::PeerClosed => closed = Some(CloseCause::PeerClosed),
                tcp::Event::Reset => closed = Some(CloseCause::Reset),
                tcp::Event::Aborted { reason } => closed = Some(CloseCause::Aborted(reason)),
                tcp::Event::Closed => {}
            }
        }
        // Data may have become readable without a fresh edge (read only part earlier).
        if ep.readable() > 0 {
            let mut bytes = self.spare.pop().unwrap_or_default();
            bytes.resize(ep.readable(), 0);
            let n = ep.read(&mut bytes);
            bytes.truncate(n);
            self.upcalls.push_back(Upcall::Data {
                session,
                end,
                bytes,
            });
        }
        let deadline = ep.poll_timeout();
        if conn.timers[i].map(|(t, _)| t) != deadline {
            if let Some((_, id)) = conn.timers[i].take() {
                engine.cancel(id);
            }
            if let Some(t) = deadline {
                let id = engine.schedule_at(
                    t,
                    NetEvent::TcpTimer {
                        session,
                        end,
                        generation,
                    }
                    .into(),
                );
                conn.timers[i] = Some((t, id));
            }
        }
        if let Some(why) = closed {
            let was_connected = conn.connected[i];
            conn.connected[i] = false;
            self.upcalls.push_back(Upcall::Closed {
                session,
                end,
                was_connected,
                why,
            });
        }
        for seg in out.drain(..) {
            self.stats.tcp_segments += 1;
            let segment = match self.spare_segments.pop() {
                Some(mut b) => {
                    *b = seg;
                    b
                }
                None => Box::new(seg),
            };
            self.send_hop(
                engine,
                session,
                1 - (end & 1),
                0,
                Frame::Tcp {
                    generation,
                    segment,
                },
            );
        }
        self.scratch = out;
    }
}

#[cfg(test)]
mod tests {
    use sim_core::link::DirectionConfig;
    use sim_core::time::Duration;

    use super::*;

    #[derive(Debug)]
    struct Ev(NetEvent);
    impl From<NetEvent> for Ev {
        fn from(e: NetEvent) -> Self {
            Self(e)
        }
    }

    /// ce(0) —access— switch —core— msee(1)
    fn two_hop() -> (Engine<Ev>, Net) {
        let seed = Seed(7);
        let cfg = DirectionConfig {
            delay: Duration::from_millis(1),
            ..DirectionConfig::default()
        };
        let segs = vec![
            (
                Link::symmetric("access", seed, &cfg),
                [PathNode::Router(0), PathNode::Transit("sw".into())],
            ),
            (
                Link::symmetric("core", seed, &cfg),
                [PathNode::Transit("sw".into()), PathNode::Router(1)],
            ),
        ];
        let net = Net::new(seed, TcpConfig::linux(), 2, segs, &[([0, 1], vec![0, 1])]).unwrap();
        (Engine::new(), net)
    }

    fn run(engine: &mut Engine<Ev>, net: &mut Net, until: Instant) -> Vec<(Instant, Upcall)> {
        let mut seen = Vec::new();
        while engine.peek_time().is_some_and(|t| t <= until) {
            let Some((_, Ev(e))) = engine.step() else {
                break;
            };
            net.handle(engine, e);
            while let Some(u) = net.poll_upcall() {
                seen.push((engine.now(), u));
            }
        }
        seen
    }

    #[test]
    fn a_lost_syn_is_reported_once_per_attempt_with_its_retransmission_time() {
        let (mut engine, mut net) = two_hop();
        let s = SessIx(0);
        // The core goes silent: every SYN (and its retransmissions) is lost on the 2nd hop.
        net.set_silent(SegIx(1), true);
        net.connect(&mut engine, s);
        let up = run(&mut engine, &mut net, Instant::from_nanos(10_000_000_000));
        let lost: Vec<&(Instant, Upcall)> = up
            .iter()
            .filter(|(_, u)| matches!(u, Upcall::HandshakeLost { .. }))
            .collect();
        // Once for the attempt, although the SYN is retransmitted at 1 s, 3 s and 7 s.
        assert_eq!(lost.len(), 1, "{up:?}");
        // Lost where the first hop (1 ms) delivers it into the silent core; the sender's
        // retransmission timer fires at the initial RTO, 1 s after the SYN was sent.
        assert_eq!(
            *lost[0],
            (
                Instant::from_nanos(1_000_000),
                Upcall::HandshakeLost {
                    session: s,
                    from: 0,
                    retransmit_at: Some(Instant::from_nanos(1_000_000_000)),
                }
            )
        );
        // A new attempt is reported again.
        net.connect(&mut engine, s);
        let again = run(&mut engine, &mut net, Instant::from_nanos(20_000_000_000));
        assert_eq!(
            again
                .iter()
                .filter(|(_, u)| matches!(u, Upcall::HandshakeLost { from: 0, .. }))
                .count(),
            1,
            "{again:?}"
        );
    }

    #[test]
    fn connects_and_carries_bytes_over_a_two_hop_path() {
        let (mut engine, mut net) = two_hop();
        let s = SessIx(0);
        net.connect(&mut engine, s);
        let up = run(&mut engine, &mut net, Instant::from_nanos(1_000_000_000));
        assert!(
            up.iter()
                .any(|(_, u)| *u == Upcall::Connected { session: s, end: 0 })
        );
        assert!(
            up.iter()
                .any(|(_, u)| *u == Upcall::Connected { session: s, end: 1 })
        );
        // SYN and SYN-ACK cross two 1 ms hops each: established at 4 ms at end 0.
        let t0 = up
            .iter()
            .find(|(_, u)| *u == Upcall::Connected { session: s, end: 0 })
            .unwrap()
            .0;
        assert_eq!(t0, Instant::from_nanos(4_000_000));
        net.write(&mut engine, s, 0, b"hello");
        let got = run(&mut engine, &mut net, Instant::from_nanos(2_000_000_000));
        assert!(got.iter().any(|(_, u)| *u
            == Upcall::Data {
                session: s,
                end: 1,
                bytes: b"hello".to_vec()
            }));
    }

    #[test]
    fn silent_core_swallows_bytes_and_tells_nobody() {
        let (mut engine, mut net) = two_hop();
        let s = SessIx(0);
        net.connect(&mut engine, s);
        run(&mut engine, &mut net, Instant::from_nanos(1_000_000_000));
        net.set_silent(SegIx(1), true);
        assert!(!net.path_up(s, 0));
        net.write(&mut engine, s, 0, b"keepalive");
        let got = run(&mut engine, &mut net, Instant::from_nanos(30_000_000_000));
        assert!(
            got.iter()
                .all(|(_, u)| !matches!(u, Upcall::Data { .. } | Upcall::Carrier { .. })),
            "{got:?}"
        );
        assert!(
            net.stats().dropped >= 5,
            "retransmissions kept dying: {:?}",
            net.stats()
        );
    }

    #[test]
    fn carrier_loss_is_told_only_to_the_attached_router() {
        let (mut engine, mut net) = two_hop();
        net.set_carrier(Instant::ZERO, SegIx(1), false);
        assert_eq!(
            net.poll_upcall(),
            Some(Upcall::Carrier {
                router: 1,
                segment: SegIx(1),
                up: false
            })
        );
        assert_eq!(
            net.poll_upcall(),
            None,
            "the CE behind the switch hears nothing"
        );
        assert!(net.first_hop_is(SessIx(0), 1, SegIx(1)));
        assert!(!net.first_hop_is(SessIx(0), 0, SegIx(1)));
        let _ = &mut engine;
    }

    #[test]
    fn refused_connection_resets_the_opener() {
        let (mut engine, mut net) = two_hop();
        let s = SessIx(0);
        net.set_accepting(s, false);
        net.connect(&mut engine, s);
        let got = run(&mut engine, &mut net, Instant::from_nanos(1_000_000_000));
        assert!(
            got.iter().any(|(_, u)| matches!(
                u,
                Upcall::Closed {
                    end: 0,
                    was_connected: false,
                    why: CloseCause::Reset,
                    ..
                }
            )),
            "{got:?}"
        );
    }

    #[test]
    fn broken_paths_are_refused() {
        let seed = Seed(1);
        let cfg = DirectionConfig::default();
        let segs = vec![(
            Link::symmetric("x", seed, &cfg),
            [PathNode::Router(0), PathNode::Router(2)],
        )];
        let err = Net::new(seed, TcpConfig::linux(), 3, segs, &[([0, 1], vec![0])]).unwrap_err();
        assert_eq!(
            err,
            NetError::BrokenPath {
                session: 0,
                segment: 0
            }
        );
    }
}
