//! ADD-PATH negotiation (RFC 7911 §4–5): the session computes, per family, whether received
//! NLRI carry Path Identifiers (we announced receive, the peer send) and whether ours do (we
//! announced send, the peer receive), and puts it into the decode and encode contexts. An
//! UPDATE with Path Identifiers decodes only where receive was negotiated; elsewhere its NLRI
//! are read without identifiers, which RFC 4271 §6.3 reports as Invalid Network Field (3/10)
//! when the bytes no longer parse as prefixes.

mod common;

use bgp::fsm::profile::Profile;
use bgp::fsm::{Command, Config, SessionEvent, State, Transmit, Transport};
use bgp::wire::{
    AddPathFamily, AddPathMode, Asn, Capability, EncodeCtx, Family, Message, Nlri, Open,
};
use common::*;
use sim_core::time::{Duration, Instant};

fn with_add_path(mut c: Config, tuples: &[(Family, AddPathMode)]) -> Config {
    c.add_path = tuples
        .iter()
        .map(|&(family, mode)| AddPathFamily { family, mode })
        .collect();
    c
}

/// Families in force on each side once established: (A receive, A send, B receive, B send).
fn negotiate(a: &[(Family, AddPathMode)], b: &[(Family, AddPathMode)]) -> [Vec<Family>; 4] {
    let mut cb = cfg_b(Profile::RFC4271);
    cb.families = vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST];
    let mut ca = cfg_a(Profile::RFC4271);
    ca.families = vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST];
    let p = established(with_add_path(ca, a), with_add_path(cb, b), 7);
    let na = p.a.session.negotiated().expect("A negotiated").clone();
    let nb = p.b.session.negotiated().expect("B negotiated").clone();
    [
        na.decode.add_path,
        na.encode.add_path,
        nb.decode.add_path,
        nb.encode.add_path,
    ]
}

const V4: Family = Family::IPV4_UNICAST;
const V6: Family = Family::IPV6_UNICAST;

#[test]
fn add_path_is_off_by_default() {
    assert!(cfg_a(Profile::RFC4271).add_path.is_empty());
    let none: [Vec<Family>; 4] = Default::default();
    assert_eq!(negotiate(&[], &[]), none);
}

#[test]
fn send_receive_on_both_sides_negotiates_both_ways() {
    let both = [(V4, AddPathMode::SEND_RECEIVE)];
    assert_eq!(
        negotiate(&both, &both),
        [vec![V4], vec![V4], vec![V4], vec![V4]]
    );
}

#[test]
fn one_sided_send_and_receive_negotiate_one_direction() {
    // A can send, B can receive: A's UPDATEs carry identifiers, B's do not.
    assert_eq!(
        negotiate(&[(V4, AddPathMode::SEND)], &[(V4, AddPathMode::RECEIVE)]),
        [vec![], vec![V4], vec![V4], vec![]]
    );
    // A announces both, B only receive: still A → B only.
    assert_eq!(
        negotiate(
            &[(V4, AddPathMode::SEND_RECEIVE)],
            &[(V4, AddPathMode::RECEIVE)]
        ),
        [vec![], vec![V4], vec![V4], vec![]]
    );
    // Both only send (or only receive): nothing.
    let none: [Vec<Family>; 4] = Default::default();
    assert_eq!(
        negotiate(&[(V4, AddPathMode::SEND)], &[(V4, AddPathMode::SEND)]),
        none
    );
    assert_eq!(
        negotiate(&[(V4, AddPathMode::RECEIVE)], &[(V4, AddPathMode::RECEIVE)]),
        none
    );
    // Announced by one side only: nothing.
    assert_eq!(negotiate(&[(V4, AddPathMode::SEND_RECEIVE)], &[]), none);
}

#[test]
fn add_path_is_negotiated_per_family() {
    // Mismatched families: nothing in force.
    let none: [Vec<Family>; 4] = Default::default();
    assert_eq!(
        negotiate(
            &[(V4, AddPathMode::SEND_RECEIVE)],
            &[(V6, AddPathMode::SEND_RECEIVE)]
        ),
        none
    );
    // Overlap on IPv6 only, and each family with its own direction.
    assert_eq!(
        negotiate(
            &[(V4, AddPathMode::RECEIVE), (V6, AddPathMode::SEND_RECEIVE)],
            &[(V4, AddPathMode::RECEIVE), (V6, AddPathMode::SEND)]
        ),
        [vec![V6], vec![], vec![], vec![V6]]
    );
}

// ------------------------------------------------ hand-driven session of A against B's bytes

const MARKER: [u8; 16] = [0xff; 16];

fn msg(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = MARKER.to_vec();
    let len = u16::try_from(19 + body.len()).expect("small");
    v.extend_from_slice(&len.to_be_bytes());
    v.push(msg_type);
    v.extend_from_slice(body);
    v
}

/// B's OPEN with the given extra capabilities.
fn open_from_b(extra: Vec<Capability>) -> Vec<u8> {
    let mut caps = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::FourOctetAs(Asn(AS_B)),
    ];
    caps.extend(extra);
    Message::Open(Open::new(Asn(AS_B), 90, ID_B, caps))
        .to_bytes(&EncodeCtx::default())
        .expect("encodes")
        .to_vec()
}

/// A (configured with `a`) established against B's OPEN carrying `b_caps`.
fn established_a(a: Config, b_caps: Vec<Capability>) -> bgp::fsm::Session {
    let mut s = session(a, 1);
    s.handle_command(Instant::ZERO, Command::Start)
        .expect("start");
    s.handle_transport(Instant::ZERO, Transport::Connected);
    s.handle_bytes(Instant::ZERO, &open_from_b(b_caps));
    s.handle_bytes(Instant::ZERO, &msg(4, &[]));
    assert_eq!(s.state(), State::Established);
    drain(&mut s);
    s
}

fn drain(s: &mut bgp::fsm::Session) -> (Vec<Transmit>, Vec<SessionEvent>) {
    let mut t = Vec::new();
    while let Some(x) = s.poll_transmit() {
        t.push(x);
    }
    let mut e = Vec::new();
    while let Some(x) = s.poll_event() {
        e.push(x);
    }
    (t, e)
}

/// An UPDATE announcing 10.1.2.0/24 with Path Identifier 100 (ORIGIN IGP, AS_PATH 12076,
/// NEXT_HOP 192.0.2.2), as a peer that negotiated ADD-PATH send writes it.
fn update_with_path_id() -> Vec<u8> {
    let mut body = vec![0, 0];
    let attrs: &[u8] = &[
        0x40, 1, 1, 0, // ORIGIN IGP
        0x40, 2, 6, 2, 1, 0, 0, 0x2f, 0x2c, // AS_PATH (12076), 4-octet
        0x40, 3, 4, 192, 0, 2, 2, // NEXT_HOP
    ];
    body.extend_from_slice(&u16::try_from(attrs.len()).expect("small").to_be_bytes());
    body.extend_from_slice(attrs);
    body.extend_from_slice(&[0, 0, 0, 100, 24, 10, 1, 2]);
    msg(2, &body)
}

fn b_send() -> Vec<Capability> {
    vec![Capability::AddPath(vec![AddPathFamily {
        family: V4,
        mode: AddPathMode::SEND,
    }])]
}

#[test]
fn update_with_path_ids_decodes_where_receive_was_negotiated() {
    let a = with_add_path(cfg_a(Profile::RFC4271), &[(V4, AddPathMode::RECEIVE)]);
    let mut s = established_a(a, b_send());
    s.handle_bytes(
        Instant::ZERO + Duration::from_secs(1),
        &update_with_path_id(),
    );
    let (_, events) = drain(&mut s);
    let got: Vec<Nlri> = events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::UpdateReceived(u) => Some(u.nlri.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let want = Nlri {
        prefix: "10.1.2.0/24".parse().expect("net"),
        path_id: Some(100),
    };
    assert_eq!(got, vec![want]);
    assert_eq!(s.state(), State::Established);
}

#[test]
fn update_with_path_ids_is_invalid_network_field_where_not_negotiated() {
    // B announces send, but A did not announce receive: A reads the NLRI without Path
    // Identifiers. Its octets 0, 0, 0, 100, ... then parse as three /0 prefixes and a prefix
    // of length 100, which RFC 4271 §6.3 reports with "Invalid Network Field" (3/10).
    let mut s = established_a(cfg_a(Profile::RFC4271), b_send());
    assert!(
        s.negotiated()
            .expect("negotiated")
            .decode
            .add_path
            .is_empty()
    );
    s.handle_bytes(
        Instant::ZERO + Duration::from_secs(1),
        &update_with_path_id(),
    );
    let (tx, events) = drain(&mut s);
    let sent: Vec<(u8, u8)> = events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::NotificationSent(n) => Some(code(n)),
            _ => None,
        })
        .collect();
    assert_eq!(sent, vec![(3, 10)]);
    assert!(matches!(tx.last(), Some(Transmit::Close)), "{tx:?}");
    assert_eq!(s.state(), State::Idle);
}

#[test]
fn peer_capability_with_an_invalid_mode_is_ignored() {
    // RFC 7911 §4: "If any other value is received, then the capability SHOULD be treated as
    // not understood and ignored": the OPEN is accepted, nothing is negotiated from it.
    let a = with_add_path(cfg_a(Profile::RFC4271), &[(V4, AddPathMode::SEND_RECEIVE)]);
    let mut s = session(a, 1);
    s.handle_command(Instant::ZERO, Command::Start)
        .expect("start");
    s.handle_transport(Instant::ZERO, Transport::Connected);
    drain(&mut s);
    let caps = vec![Capability::AddPath(vec![AddPathFamily {
        family: V4,
        mode: AddPathMode(7),
    }])];
    s.handle_bytes(Instant::ZERO, &open_from_b(caps));
    let (_, events) = drain(&mut s);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, SessionEvent::NotificationSent(_))),
        "{events:?}"
    );
    assert_eq!(s.state(), State::OpenConfirm);
    s.handle_bytes(Instant::ZERO, &msg(4, &[]));
    let (_, events) = drain(&mut s);
    let negotiated = events.iter().find_map(|e| match e {
        SessionEvent::Established(n) => Some(n.clone()),
        _ => None,
    });
    let Some(n) = negotiated else {
        panic!("not Established: {events:?}")
    };
    assert!(n.decode.add_path.is_empty() && n.encode.add_path.is_empty());
}

#[test]
fn our_open_announces_the_configured_tuples_once() {
    let a = with_add_path(
        cfg_a(Profile::RFC4271),
        &[(V4, AddPathMode::SEND_RECEIVE), (V6, AddPathMode::RECEIVE)],
    );
    let mut s = session(a, 1);
    s.handle_command(Instant::ZERO, Command::Start)
        .expect("start");
    s.handle_transport(Instant::ZERO, Transport::Connected);
    let (tx, _) = drain(&mut s);
    let open = tx
        .iter()
        .find_map(|t| match t {
            Transmit::Bytes(b) => match Message::decode(b, &Default::default()) {
                Ok(Message::Open(o)) => Some(o),
                _ => None,
            },
            _ => None,
        })
        .expect("A sent its OPEN");
    let add_path: Vec<&Capability> = open
        .capabilities()
        .filter(|c| matches!(c, Capability::AddPath(_)))
        .collect();
    assert_eq!(
        add_path,
        vec![&Capability::AddPath(vec![
            AddPathFamily {
                family: V4,
                mode: AddPathMode::SEND_RECEIVE
            },
            AddPathFamily {
                family: V6,
                mode: AddPathMode::RECEIVE
            },
        ])]
    );
}
