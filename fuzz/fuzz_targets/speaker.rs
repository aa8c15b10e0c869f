//! A BGP speaker fed an arbitrary byte stream on an Established session.
//!
//! Three speakers: A (under test) peers with B and with C. Both sessions are brought up
//! through the real handshake, then the fuzzer takes B's place: its bytes reach A in chunks,
//! with virtual time passing between them (A's timers and the A–C session run as usual).
//!
//! Input: `[config][pace][stream...]`. `config` picks the session options (4-octet AS,
//! extended messages, ADD-PATH, max-prefix, IPv6, graceful restart); `pace` the chunk size
//! (1–64 octets, low six bits) and the time between chunks (0, 10 ms, 1 s or 30 s, top two
//! bits). The stream is what B "sends": a seed is a run of BGP messages after two bytes.
//!
//! Checked:
//! - nothing panics;
//! - every error is a NOTIFICATION: A never closes the connection to B without sending a
//!   NOTIFICATION first, unless B sent one (RFC 4271 §6: "a NOTIFICATION message ... is
//!   sent, and the BGP connection is closed");
//! - bounded buffering: after every chunk A holds less than one maximum-size message of B's
//!   stream (`fsm::Session::buffered`), and no more B prefixes than its max-prefix limit;
//! - what A passes on is well-formed: C never sends or receives a NOTIFICATION and stays
//!   Established (a route from B that A re-advertises to C must decode at C).
#![no_main]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use bgp::fsm::{self, Command, SessionEvent, State, Transport};
use bgp::rib::adj_rib_in::{IpFamily, MaxPrefix};
use bgp::rib::{PeerConfig, PeerId, RibConfig};
use bgp::speaker::{PeerSpec, Speaker, SpeakerEvent, TransmitKind};
use bgp::wire::{
    AddPathFamily, AddPathMode, Family, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, PathAttributes,
};
use libfuzzer_sys::fuzz_target;
use sim_core::time::{Duration, Instant};

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;
/// A's id for B, B's and C's id for A.
const TO_FIRST: PeerId = PeerId(1);
/// A's id for C.
const TO_C: PeerId = PeerId(2);
/// B's prefix limit when the config asks for one.
const MAX_PREFIX: u32 = 8;

/// The link a speaker's peer is on: `(link, other speaker, other's id for this speaker)`.
const fn link(node: usize, peer: PeerId) -> Option<(usize, usize, PeerId)> {
    match (node, peer.0) {
        (A, 1) => Some((0, B, TO_FIRST)),
        (B, 1) => Some((0, A, TO_FIRST)),
        (A, 2) => Some((1, C, TO_FIRST)),
        (C, 1) => Some((1, A, TO_C)),
        _ => None,
    }
}

#[derive(Debug, Clone)]
enum Delivery {
    Bytes(Vec<u8>),
    Closed,
    Connected,
}

/// Three speakers over two TCP-like pipes (one connection each, ordered, 1 ms latency).
#[derive(Debug, Clone)]
struct Net {
    now: Instant,
    speakers: [Speaker; 3],
    /// (time, sequence) → (receiving speaker, its peer id, delivery).
    queue: BTreeMap<(Instant, u64), (usize, PeerId, Delivery)>,
    seq: u64,
    connected: [bool; 2],
    /// The fuzzer has taken B's place: B is no longer driven, A's output to B is kept in
    /// `to_b` instead of delivered.
    attacker: bool,
    to_b: Vec<TransmitKind>,
    /// A closed the connection that was Established with B.
    b_closed: bool,
    events: [Vec<SpeakerEvent>; 3],
}

fn addr(node: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, u8::try_from(node + 1).unwrap_or(0))
}

fn asn(node: usize) -> u32 {
    65_001 + u32::try_from(node).unwrap_or(0)
}

/// The session options of `config` for a session between `me` and `other`.
fn spec(config: u8, me: usize, other: usize, seed: u64) -> PeerSpec {
    let mut session = fsm::Config::new(asn(me), asn(other), addr(me));
    let b_session = me == B || other == B;
    if b_session {
        session.four_octet_as = config & 1 == 0;
        session.extended_message = config & 2 != 0;
        if config & 4 != 0 {
            // A receives multiple paths from B (RFC 7911 §4: 1 receive, 2 send, 3 both).
            let mode = if me == B { 2 } else { 1 };
            session.add_path = vec![AddPathFamily {
                family: Family::IPV4_UNICAST,
                mode: AddPathMode(mode),
            }];
        }
        if config & 16 != 0 {
            session.families.push(Family::IPV6_UNICAST);
        }
        if config & 32 != 0 {
            session.graceful_restart = Some(Duration::from_secs(120));
        }
    }
    let mut rib = PeerConfig::new(asn(other), IpAddr::V4(addr(other)), IpAddr::V4(addr(me)));
    if me == A && other == B && config & 8 != 0 {
        rib.max_prefix = MaxPrefix {
            ipv4: Some(MAX_PREFIX),
            ipv6: Some(MAX_PREFIX),
        };
    }
    PeerSpec {
        session,
        rib,
        bfd: None,
        seed,
    }
}

impl Net {
    fn new(config: u8) -> Self {
        let mut speakers = [A, B, C].map(|n| Speaker::new(RibConfig::new(asn(n), addr(n))));
        let peers = [
            (A, TO_FIRST, B),
            (A, TO_C, C),
            (B, TO_FIRST, A),
            (C, TO_FIRST, A),
        ];
        for (i, (me, id, other)) in peers.into_iter().enumerate() {
            let seed = u64::try_from(i).unwrap_or(0) + 1;
            if let Err(e) = speakers[me].add_peer(Instant::ZERO, id, spec(config, me, other, seed))
            {
                panic!("add_peer: {e}");
            }
        }
        let mut net = Self {
            now: Instant::ZERO,
            speakers,
            queue: BTreeMap::new(),
            seq: 0,
            connected: [false; 2],
            attacker: false,
            to_b: Vec::new(),
            b_closed: false,
            events: [Vec::new(), Vec::new(), Vec::new()],
        };
        let prefix = |s: &str| s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        net.speakers[A].originate(Instant::ZERO, prefix("192.0.2.0/24"), PathAttributes::new());
        net.speakers[C].originate(
            Instant::ZERO,
            prefix("198.51.100.0/24"),
            PathAttributes::new(),
        );
        net.speakers[B].originate(
            Instant::ZERO,
            prefix("203.0.113.0/24"),
            PathAttributes::new(),
        );
        for (me, id) in peers.map(|(me, id, _)| (me, id)) {
            if let Err(e) = net.speakers[me].handle_command(Instant::ZERO, id, Command::Start) {
                panic!("start: {e}");
            }
        }
        net.pump();
        net.run_until(Instant::ZERO + Duration::from_secs(10));
        for (me, id) in peers.map(|(me, id, _)| (me, id)) {
            assert_eq!(
                net.speakers[me].session(id).map(fsm::Session::state),
                Some(State::Established),
                "config {config:#04x}: speaker {me} peer {id:?} not Established"
            );
        }
        // The fuzzer takes B's place: nothing more reaches B, and nothing B had in flight
        // reaches A.
        net.attacker = true;
        net.queue
            .retain(|_, (to, peer, _)| link(*to, *peer).is_some_and(|l| l.0 != 0));
        for e in &mut net.events {
            e.clear();
        }
        net
    }

    fn send(&mut self, to: usize, peer: PeerId, delivery: Delivery) {
        self.seq += 1;
        let at = self.now + Duration::from_millis(1);
        self.queue.insert((at, self.seq), (to, peer, delivery));
    }

    /// Moves every output of the driven speakers into the pipes and the event logs.
    fn pump(&mut self) {
        for node in [A, B, C] {
            while let Some(t) = self.speakers[node].poll_transmit() {
                let Some((l, other, other_id)) = link(node, t.peer) else {
                    panic!("transmit to unknown peer {:?}", t.peer);
                };
                if self.attacker && l == 0 {
                    if node == A {
                        self.to_b.push(t.kind);
                    }
                    continue;
                }
                match t.kind {
                    TransmitKind::Bgp(fsm::Transmit::Connect) => {
                        if !self.connected[l] {
                            self.connected[l] = true;
                            self.send(node, t.peer, Delivery::Connected);
                            self.send(other, other_id, Delivery::Connected);
                        }
                    }
                    TransmitKind::Bgp(fsm::Transmit::Bytes(bytes)) => {
                        if self.connected[l] {
                            self.send(other, other_id, Delivery::Bytes(bytes));
                        }
                    }
                    TransmitKind::Bgp(fsm::Transmit::Close) => {
                        if self.connected[l] {
                            self.connected[l] = false;
                            self.send(other, other_id, Delivery::Closed);
                        }
                    }
                    // No BFD, and one connection per pipe: no second session.
                    TransmitKind::Bfd(_)
                    | TransmitKind::BgpSecond(_)
                    | TransmitKind::SwapConnections => {}
                }
            }
            while let Some(e) = self.speakers[node].poll_event() {
                self.events[node].push(e);
            }
        }
    }

    fn driven(&self) -> &'static [usize] {
        if self.attacker { &[A, C] } else { &[A, B, C] }
    }

    /// Runs deliveries and timers up to `until`, then sets the clock to it.
    fn run_until(&mut self, until: Instant) {
        loop {
            let arrival = self.queue.keys().next().map(|k| k.0);
            let timer = self
                .driven()
                .iter()
                .filter_map(|&n| self.speakers[n].poll_timeout())
                .min();
            let Some(next) = [arrival, timer]
                .into_iter()
                .flatten()
                .min()
                .filter(|t| *t <= until)
            else {
                break;
            };
            self.now = next;
            if arrival == Some(next) {
                if let Some((_, (to, peer, delivery))) = self.queue.pop_first() {
                    let s = &mut self.speakers[to];
                    let r = match delivery {
                        Delivery::Connected => s.handle_transport(next, peer, Transport::Connected),
                        Delivery::Closed => s.handle_transport(next, peer, Transport::Closed),
                        Delivery::Bytes(b) => s.handle_bytes(next, peer, &b),
                    };
                    if let Err(e) = r {
                        panic!("delivery to speaker {to}: {e}");
                    }
                }
            } else {
                for &n in self.driven() {
                    if self.speakers[n].poll_timeout().is_some_and(|t| t <= next) {
                        self.speakers[n].handle_timeout(next);
                    }
                }
            }
            self.pump();
        }
        self.now = self.now.max(until);
    }
}

/// The type of the last message in `bytes` (a run of whole messages), if any.
fn last_type(bytes: &[u8]) -> Option<u8> {
    let mut off = 0;
    let mut last = None;
    while let Some(h) = bytes.get(off..off + 19) {
        let len = usize::from(u16::from_be_bytes([h[16], h[17]]));
        last = Some(h[18]);
        if len < 19 {
            return None;
        }
        off += len;
    }
    last
}

/// Checks what A sent B since the last call: the close of the connection that was
/// Established follows a NOTIFICATION, unless B sent one. (Later closes end connection
/// attempts of A's automatic restart, which B never accepts: nothing to notify.)
fn check_to_b(net: &mut Net) {
    let b_notified = net.events[A].iter().any(|e| {
        matches!(
            e,
            SpeakerEvent::Session {
                peer: TO_FIRST,
                event: SessionEvent::NotificationReceived(_)
            }
        )
    });
    let mut notification = false;
    for t in std::mem::take(&mut net.to_b) {
        match t {
            TransmitKind::Bgp(fsm::Transmit::Bytes(bytes)) => {
                notification = last_type(&bytes) == Some(3);
            }
            TransmitKind::Bgp(fsm::Transmit::Close) if !net.b_closed => {
                net.b_closed = true;
                assert!(
                    notification || b_notified,
                    "A closed the connection to B without a NOTIFICATION"
                );
            }
            _ => {}
        }
    }
}

thread_local! {
    /// The established network of each config byte, built once and cloned per input.
    static NETS: RefCell<BTreeMap<u8, Net>> = const { RefCell::new(BTreeMap::new()) };
}

fuzz_target!(|data: &[u8]| {
    let [config, pace, stream @ ..] = data else {
        return;
    };
    let config = config & 0x3f;
    let mut net = NETS.with(|n| {
        n.borrow_mut()
            .entry(config)
            .or_insert_with(|| Net::new(config))
            .clone()
    });
    let chunk = usize::from(pace & 0x3f) + 1;
    let gap = match pace >> 6 {
        0 => Duration::ZERO,
        1 => Duration::from_millis(10),
        2 => Duration::from_secs(1),
        _ => Duration::from_secs(30),
    };
    let max_len = if config & 2 != 0 {
        MAX_EXTENDED_MESSAGE_LEN
    } else {
        MAX_MESSAGE_LEN
    };
    for piece in stream.chunks(chunk) {
        if net.b_closed {
            break;
        }
        let now = net.now;
        if let Err(e) = net.speakers[A].handle_bytes(now, TO_FIRST, piece) {
            panic!("handle_bytes: {e}");
        }
        net.pump();
        let buffered = net.speakers[A]
            .session(TO_FIRST)
            .map_or(0, fsm::Session::buffered);
        assert!(
            buffered < max_len,
            "A buffers {buffered} octets of B's stream"
        );
        let until = net.now + gap;
        net.run_until(until);
        check_to_b(&mut net);
        if let Some(adj) = net.speakers[A].rib().adj_rib_in(TO_FIRST)
            && config & 8 != 0
        {
            for f in [IpFamily::Ipv4, IpFamily::Ipv6] {
                assert!(
                    adj.count(f) <= MAX_PREFIX,
                    "{f:?}: {} prefixes kept",
                    adj.count(f)
                );
            }
        }
    }
    // Let A finish what the stream started (MRAI batches towards C, a damped restart).
    let until = net.now + Duration::from_secs(60);
    net.run_until(until);
    check_to_b(&mut net);
    for e in &net.events[C] {
        assert!(
            !matches!(
                e,
                SpeakerEvent::Session {
                    event: SessionEvent::NotificationSent(_)
                        | SessionEvent::NotificationReceived(_),
                    ..
                }
            ),
            "C: {e:?}"
        );
    }
    assert_eq!(
        net.speakers[C].session(TO_FIRST).map(fsm::Session::state),
        Some(State::Established)
    );
});
