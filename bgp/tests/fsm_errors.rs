//! Every error path sends its NOTIFICATION and takes the right transition: malformed input
//! from the codec (RFC 4271 §6.1–6.3), unexpected messages (RFC 6608 FSM errors), and the
//! Cease subcodes of RFC 4486 (maximum prefixes 6/1, administrative shutdown 6/2, collision
//! 6/7) and RFC 9384 (BFD down 6/10).

mod common;

use bgp::fsm::profile::Profile;
use bgp::fsm::testing::{Pair, Side};
use bgp::fsm::{Command, Event, SessionEvent, State, Timer, Transmit, Transport};
use bgp::wire::{
    Asn, Capability, CeaseSubcode, EncodeCtx, ErrorCode, Family, Message, Nlri, Open, Update,
};
use common::*;
use sim_core::time::{Duration, Instant};

const MARKER: [u8; 16] = [0xff; 16];

/// A message with the given type and body, with a correct header.
fn msg(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = MARKER.to_vec();
    let len = u16::try_from(19 + body.len()).expect("small");
    v.extend_from_slice(&len.to_be_bytes());
    v.push(msg_type);
    v.extend_from_slice(body);
    v
}

fn keepalive() -> Vec<u8> {
    msg(4, &[])
}

/// B's OPEN as B would send it (AS 12076, hold 90, id 192.0.2.2, IPv4 unicast, 4-octet AS).
fn open_from_b() -> Vec<u8> {
    let open = Open::new(
        Asn(AS_B),
        90,
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

/// A well-formed UPDATE withdrawing 10.0.0.0/8.
fn withdraw_update() -> Vec<u8> {
    let u = Update::withdraw(vec![Nlri::from(
        "10.0.0.0/8".parse::<ipnet::IpNet>().expect("net"),
    )]);
    Message::Update(u)
        .to_bytes(&EncodeCtx::default())
        .expect("encodes")
        .to_vec()
}

/// An UPDATE announcing 10.0.0.0/8 with ORIGIN 5 (invalid): RFC 7606 §7.1 treat-as-withdraw.
fn update_bad_origin() -> Vec<u8> {
    let attrs: &[u8] = &[
        0x40, 1, 1, 5, // ORIGIN = 5 (invalid)
        0x40, 2, 6, 2, 1, 0x00, 0x00, 0x2f, 0x2c, // AS_PATH: SEQUENCE [12076] (4-octet)
        0x40, 3, 4, 10, 0, 0, 1, // NEXT_HOP 10.0.0.1
    ];
    let mut body = vec![0, 0];
    body.extend_from_slice(&u16::try_from(attrs.len()).expect("small").to_be_bytes());
    body.extend_from_slice(attrs);
    body.extend_from_slice(&[8, 10]);
    msg(2, &body)
}

/// A session of A driven by hand into OpenSent (our OPEN sent, waiting for B's).
fn open_sent() -> bgp::fsm::Session {
    let mut s = session(cfg_a(Profile::RFC4271), 1);
    s.handle_command(Instant::ZERO, Command::Start)
        .expect("start");
    s.handle_transport(Instant::ZERO, Transport::Connected);
    assert_eq!(s.state(), State::OpenSent);
    drain(&mut s);
    s
}

/// A in OpenConfirm: B's OPEN accepted.
fn open_confirm() -> bgp::fsm::Session {
    let mut s = open_sent();
    s.handle_bytes(Instant::ZERO, &open_from_b());
    assert_eq!(s.state(), State::OpenConfirm);
    drain(&mut s);
    s
}

/// A in Established.
fn established_session() -> bgp::fsm::Session {
    let mut s = open_confirm();
    s.handle_bytes(Instant::ZERO, &keepalive());
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

/// Feeds `input` and checks: one NOTIFICATION (code, subcode) sent and written before the
/// close, the session Idle because of `cause`.
fn expect_notification(
    mut s: bgp::fsm::Session,
    input: &[u8],
    want: (u8, u8),
    cause: Event,
    what: &str,
) {
    s.handle_bytes(Instant::ZERO, input);
    let (tx, ev) = drain(&mut s);
    let sent: Vec<(u8, u8)> = ev
        .iter()
        .filter_map(|e| match e {
            SessionEvent::NotificationSent(n) => Some(code(n)),
            _ => None,
        })
        .collect();
    assert_eq!(sent, vec![want], "{what}");
    // The NOTIFICATION goes out on the wire, then the connection closes.
    match tx.as_slice() {
        [Transmit::Bytes(b), Transmit::Close] => {
            assert_eq!(b.get(18), Some(&3), "{what}: not a NOTIFICATION");
            assert_eq!((b[19], b[20]), want, "{what}");
        }
        other => panic!("{what}: unexpected transmits {other:?}"),
    }
    assert_eq!(s.state(), State::Idle, "{what}");
    assert!(
        ev.iter().any(|e| matches!(
            e,
            SessionEvent::StateChanged { to: State::Idle, cause: c, .. } if *c == cause
        )),
        "{what}: cause {cause:?} missing in {ev:?}"
    );
    // Damping is on: the session will restart by itself, and only the IdleHold timer runs.
    assert_eq!(
        s.timers().armed().collect::<Vec<_>>(),
        vec![Timer::IdleHold],
        "{what}"
    );
}

#[test]
fn header_errors_send_message_header_notifications() {
    let mut bad_marker = keepalive();
    bad_marker[3] = 0;
    let mut short_len = keepalive();
    short_len[17] = 18;
    let mut long_keepalive = msg(4, &[0]);
    long_keepalive[17] = 20;
    let bad_type = msg(9, &[]);
    let cases: [(&str, Vec<u8>, (u8, u8)); 4] = [
        ("bad marker", bad_marker, (1, 1)),
        ("length below 19", short_len, (1, 2)),
        ("KEEPALIVE of 20 octets", long_keepalive, (1, 2)),
        ("unknown type 9", bad_type, (1, 3)),
    ];
    for (what, bytes, want) in cases {
        for (state, s) in [
            ("OpenSent", open_sent()),
            ("Established", established_session()),
        ] {
            expect_notification(
                s,
                &bytes,
                want,
                Event::BgpHeaderErr,
                &format!("{what} in {state}"),
            );
        }
    }
}

#[test]
fn open_errors_send_open_message_notifications() {
    let base = open_from_b();
    let patch = |at: usize, bytes: &[u8]| {
        let mut v = base.clone();
        v[at..at + bytes.len()].copy_from_slice(bytes);
        v
    };
    // OPEN body: version @19, my AS @20..22, hold @22..24, id @24..28, opt len @28.
    let mut unsupported_param = base.clone();
    unsupported_param[28] = base[28];
    unsupported_param[29] = 1; // first parameter's type: 1 (deprecated authentication)
    let cases: Vec<(&str, Vec<u8>, (u8, u8))> = vec![
        ("version 3", patch(19, &[3]), (2, 1)),
        ("BGP identifier 0.0.0.0", patch(24, &[0, 0, 0, 0]), (2, 3)),
        ("hold time 1", patch(22, &[0, 1]), (2, 6)),
        ("hold time 2", patch(22, &[0, 2]), (2, 6)),
        ("optional parameter type 1", unsupported_param, (2, 4)),
    ];
    for (what, bytes, want) in cases {
        expect_notification(open_sent(), &bytes, want, Event::BgpOpenMsgErr, what);
    }
    // An AS the configuration does not expect (the 4-octet AS capability says 64999).
    let wrong_as = Message::Open(Open::new(
        Asn(64999),
        90,
        ID_B,
        vec![Capability::FourOctetAs(Asn(64999))],
    ))
    .to_bytes(&EncodeCtx::default())
    .expect("encodes")
    .to_vec();
    expect_notification(
        open_sent(),
        &wrong_as,
        (2, 2),
        Event::BgpOpenMsgErr,
        "peer AS",
    );
}

#[test]
fn update_errors_send_update_message_notifications() {
    // Withdrawn Routes Length 200 in a 23-octet UPDATE: "Malformed Attribute List" (3/1,
    // RFC 4271 §6.3; RFC 7606 §5.3 keeps session reset for an unparsable UPDATE).
    let overrun = msg(2, &[0, 200, 0, 0]);
    expect_notification(
        established_session(),
        &overrun,
        (3, 1),
        Event::UpdateMsgErr,
        "withdrawn length overrun",
    );
}

#[test]
fn treat_as_withdraw_keeps_the_session_up() {
    let mut s = established_session();
    s.handle_bytes(Instant::ZERO, &update_bad_origin());
    let (tx, ev) = drain(&mut s);
    assert!(tx.is_empty(), "{tx:?}");
    assert_eq!(s.state(), State::Established);
    let update = ev
        .iter()
        .find_map(|e| match e {
            SessionEvent::UpdateReceived(u) => Some(u),
            _ => None,
        })
        .expect("UPDATE delivered");
    // RFC 7606 §7.1: a bad ORIGIN value is "treat-as-withdraw".
    assert!(update.is_treat_as_withdraw());
    assert_eq!(update.withdrawals().count(), 1);
}

#[test]
fn an_error_in_an_extended_message_still_sends_its_notification_with_data_cut_to_fit() {
    // Found by the `speaker` fuzz target: with extended messages (RFC 8654) a ROUTE-REFRESH of
    // 4,415 octets passes the header check and fails RFC 7313 §5's length check, whose Data is
    // the whole message; a NOTIFICATION carrying it did not fit 4,096 octets, did not encode,
    // and the session closed after an empty write instead.
    let mut body = vec![0, 1, 0, 1];
    body.resize(4415 - 19, 0xab);
    let refresh = msg(5, &body);
    expect_notification(
        established_extended(),
        &refresh,
        (7, 1),
        Event::UpdateMsgErr,
        "oversized ROUTE-REFRESH",
    );
    // The NOTIFICATION itself: 4,096 octets, its Data the start of the message.
    let mut s = established_extended();
    s.handle_bytes(Instant::ZERO, &refresh);
    let (tx, ev) = drain(&mut s);
    let Some(Transmit::Bytes(bytes)) = tx.first() else {
        panic!("no NOTIFICATION written: {tx:?}")
    };
    assert_eq!(bytes.len(), 4096);
    let Ok(Message::Notification(n)) = Message::decode(bytes, &bgp::wire::DecodeCtx::default())
    else {
        panic!("not a NOTIFICATION")
    };
    assert_eq!(n.data, refresh[..4096 - 21].to_vec());
    // The event reports what was sent.
    assert!(ev.contains(&SessionEvent::NotificationSent(n)));
}

/// A with extended messages (RFC 8654), Established with a B that announced them too.
fn established_extended() -> bgp::fsm::Session {
    let mut a = cfg_a(Profile::RFC4271);
    a.extended_message = true;
    let mut s = session(a, 1);
    s.handle_command(Instant::ZERO, Command::Start)
        .expect("start");
    s.handle_transport(Instant::ZERO, Transport::Connected);
    let open = Open::new(
        Asn(AS_B),
        90,
        ID_B,
        vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::FourOctetAs(Asn(AS_B)),
            Capability::RouteRefresh,
            Capability::ExtendedMessage,
        ],
    );
    let open = Message::Open(open)
        .to_bytes(&EncodeCtx::default())
        .expect("encodes");
    s.handle_bytes(Instant::ZERO, &open);
    s.handle_bytes(Instant::ZERO, &keepalive());
    assert_eq!(s.state(), State::Established);
    drain(&mut s);
    s
}

#[test]
fn buffers_at_most_the_incomplete_message() {
    let mut s = established_session();
    let update = withdraw_update();
    // A whole message and the first half of the next, one octet at a time: only the half
    // stays buffered.
    let mut stream = update.clone();
    stream.extend_from_slice(&update[..update.len() / 2]);
    for octet in &stream {
        s.handle_bytes(Instant::ZERO, std::slice::from_ref(octet));
    }
    assert_eq!(s.buffered(), update.len() / 2);
    s.handle_bytes(Instant::ZERO, &update[update.len() / 2..]);
    assert_eq!(s.buffered(), 0);
    // A header announcing the largest message: held until it is whole, never beyond.
    let mut big = MARKER.to_vec();
    big.extend_from_slice(&4096_u16.to_be_bytes());
    big.push(2);
    s.handle_bytes(Instant::ZERO, &big);
    s.handle_bytes(Instant::ZERO, &[0; 4000]);
    assert_eq!(s.buffered(), 19 + 4000);
    assert_eq!(s.state(), State::Established);
    // A length above the maximum is a header error (RFC 4271 §6.1): nothing stays buffered.
    let mut s = established_session();
    let mut over = MARKER.to_vec();
    over.extend_from_slice(&4097_u16.to_be_bytes());
    over.push(2);
    s.handle_bytes(Instant::ZERO, &over);
    assert_eq!(s.state(), State::Idle);
    assert_eq!(s.buffered(), 0);
}

#[test]
fn unexpected_messages_are_fsm_errors_per_rfc_6608() {
    type Case = (
        &'static str,
        fn() -> bgp::fsm::Session,
        Vec<u8>,
        (u8, u8),
        Event,
    );
    let cases: Vec<Case> = vec![
        (
            "KEEPALIVE in OpenSent",
            open_sent,
            keepalive(),
            (5, 1),
            Event::KeepAliveMsg,
        ),
        (
            "UPDATE in OpenSent",
            open_sent,
            withdraw_update(),
            (5, 1),
            Event::UpdateMsg,
        ),
        (
            "UPDATE in OpenConfirm",
            open_confirm,
            withdraw_update(),
            (5, 2),
            Event::UpdateMsg,
        ),
        (
            "OPEN in OpenConfirm",
            open_confirm,
            open_from_b(),
            (5, 2),
            Event::BgpOpen,
        ),
        (
            "OPEN in Established",
            established_session,
            open_from_b(),
            (5, 3),
            Event::BgpOpen,
        ),
    ];
    for (what, make, bytes, want, cause) in cases {
        expect_notification(make(), &bytes, want, cause, what);
    }
}

#[test]
fn received_notification_goes_idle_without_answering() {
    for make in [open_sent, open_confirm, established_session] {
        let mut s = make();
        s.handle_bytes(Instant::ZERO, &msg(3, &[6, 2]));
        let (tx, ev) = drain(&mut s);
        assert_eq!(tx, vec![Transmit::Close]);
        assert_eq!(s.state(), State::Idle);
        assert!(
            ev.iter()
                .any(|e| matches!(e, SessionEvent::NotificationReceived(n)
            if n.code == ErrorCode::CEASE && n.subcode == 2))
        );
    }
}

#[test]
fn malformed_bytes_in_flight_reset_both_sides() {
    // Corrupt the marker of B's keepalives in flight: A detects 1/1, and B learns it from A's
    // NOTIFICATION.
    let mut p = established(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 5);
    p.alter(|side, bytes| {
        if side == Side::B && is_keepalive(bytes) {
            bytes[0] = 0;
        }
    });
    assert!(
        p.drive_until_pred(Duration::from_secs(120), |p| p.a.session.state()
            == State::Idle)
    );
    assert_eq!(code(&sent_notifications(&p.a)[0].1), (1, 1));
    p.drive();
    assert_eq!(state(&p.b), State::Idle);
    assert_eq!(code(&received_notifications(&p.b)[0].1), (1, 1));
}

#[test]
fn stop_sends_administrative_shutdown_with_message() {
    let mut p = established(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 6);
    p.command(
        Side::A,
        Command::Stop {
            message: Some("maintenance: circuit swap".to_owned()),
        },
    );
    assert_eq!(state(&p.a), State::Idle);
    p.drive();
    let (_, n) = received_notifications(&p.b)
        .pop()
        .expect("B got the NOTIFICATION");
    assert_eq!(code(&n), (6, 2));
    assert_eq!(
        n.shutdown_communication(),
        Some(Ok("maintenance: circuit swap"))
    );
    // A stays down: a manual stop never restarts by itself.
    p.drive_for(Duration::from_secs(3600));
    assert_eq!(state(&p.a), State::Idle);
    assert!(!p.a.session.timers().is_armed(Timer::IdleHold));
}

#[test]
fn stop_with_peer_deconfigured_sends_cease_3_without_data() {
    let mut p = established(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 6);
    p.command(
        Side::A,
        Command::StopWith {
            subcode: CeaseSubcode::PEER_DECONFIGURED,
            // RFC 9003 §2 defines the communication for 6/2 and 6/4 only: not sent with 6/3.
            message: Some("circuit deprovisioned".to_owned()),
        },
    );
    assert_eq!(state(&p.a), State::Idle);
    p.drive();
    let (_, n) = received_notifications(&p.b)
        .pop()
        .expect("B got the NOTIFICATION");
    assert_eq!(code(&n), (6, 3));
    assert!(n.data.is_empty(), "data {:?}", n.data);
    assert_eq!(n.shutdown_communication(), None);
    // Like any manual stop: A stays down until started again.
    p.drive_for(Duration::from_secs(3600));
    assert_eq!(state(&p.a), State::Idle);
    assert!(!p.a.session.timers().is_armed(Timer::IdleHold));
}

#[test]
fn stop_with_administrative_reset_carries_the_message() {
    let mut p = established(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 6);
    p.command(
        Side::A,
        Command::StopWith {
            subcode: CeaseSubcode::ADMINISTRATIVE_RESET,
            message: Some("policy change".to_owned()),
        },
    );
    p.drive();
    let (_, n) = received_notifications(&p.b)
        .pop()
        .expect("B got the NOTIFICATION");
    assert_eq!(code(&n), (6, 4));
    assert_eq!(n.shutdown_communication(), Some(Ok("policy change")));
}

#[test]
fn stop_with_before_open_sends_nothing() {
    let mut s = session(cfg_a(Profile::RFC4271), 1);
    s.handle_command(Instant::ZERO, Command::Start).unwrap();
    drain(&mut s);
    s.handle_command(
        Instant::ZERO,
        Command::stop_with(CeaseSubcode::PEER_DECONFIGURED),
    )
    .unwrap();
    let (tx, _) = drain(&mut s);
    assert!(
        !tx.iter().any(|t| matches!(t, Transmit::Bytes(_))),
        "no NOTIFICATION before our OPEN: {tx:?}"
    );
    assert_eq!(s.state(), State::Idle);
}

fn max_prefix(restart: Option<Duration>) -> Pair {
    let mut a = cfg_a(Profile::RFC4271);
    a.max_prefix_restart = restart;
    let mut p = established(a, cfg_b(Profile::RFC4271), 7);
    p.command(
        Side::A,
        Command::MaxPrefixExceeded {
            family: Family::IPV4_UNICAST,
            limit: 4000,
        },
    );
    p
}

#[test]
fn max_prefix_sends_cease_1_with_afi_safi_limit_and_restarts() {
    let mut p = max_prefix(Some(Duration::from_secs(30)));
    let t = p.now;
    assert_eq!(state(&p.a), State::Idle);
    let (_, n) = sent_notifications(&p.a).pop().expect("sent");
    assert_eq!(code(&n), (6, 1));
    // RFC 4486 §4: AFI (2 octets), SAFI (1 octet), prefix upper bound (4 octets).
    assert_eq!(n.data, vec![0, 1, 1, 0, 0, 0x0f, 0xa0]);
    assert_eq!(
        p.a.session.timers().get(Timer::IdleHold),
        Some(t + Duration::from_secs(30))
    );
    p.drive();
    assert_eq!(code(&received_notifications(&p.b)[0].1), (6, 1));
    assert!(p.drive_to_established(Duration::from_secs(600)));
    let restarted = p.a.entered(State::Connect).pop().expect("restarted");
    assert_eq!(restarted - t, Duration::from_secs(30));
}

#[test]
fn max_prefix_without_restart_stays_down() {
    let mut p = max_prefix(None);
    p.drive_for(Duration::from_secs(3600));
    assert_eq!(state(&p.a), State::Idle);
    assert!(p.a.session.timers().next_deadline().is_none());
}

#[test]
fn collision_dump_sends_cease_7() {
    let mut s = open_confirm();
    s.handle_command(Instant::ZERO, Command::CollisionDump)
        .expect("dump");
    let (tx, ev) = drain(&mut s);
    assert!(
        matches!(tx.as_slice(), [Transmit::Bytes(b), Transmit::Close] if b[19] == 6 && b[20] == 7)
    );
    assert_eq!(s.state(), State::Idle);
    assert!(ev.iter().any(|e| matches!(
        e,
        SessionEvent::StateChanged {
            to: State::Idle,
            cause: Event::OpenCollisionDump,
            ..
        }
    )));
    // The loser does not restart: the surviving connection carries the session.
    assert!(s.timers().next_deadline().is_none());
}

#[test]
fn bfd_down_takes_the_session_down_in_one_event() {
    let mut s = established_session();
    s.handle_command(Instant::ZERO, Command::BfdDown)
        .expect("bfd");
    assert_eq!(s.state(), State::Idle);
    let (tx, ev) = drain(&mut s);
    assert!(
        matches!(tx.as_slice(), [Transmit::Bytes(b), Transmit::Close]
        if b[19] == 6 && b[20] == CeaseSubcode::BFD_DOWN.0)
    );
    assert!(ev.iter().any(|e| matches!(
        e,
        SessionEvent::StateChanged {
            from: State::Established,
            to: State::Idle,
            cause: Event::AutomaticStop,
        }
    )));
}

#[test]
fn send_update_only_when_established() {
    let u = Update::withdraw(vec![Nlri::from(
        "10.0.0.0/8".parse::<ipnet::IpNet>().expect("net"),
    )]);
    let mut s = open_confirm();
    assert_eq!(
        s.handle_command(Instant::ZERO, Command::SendUpdate(u.clone())),
        Err(bgp::fsm::CommandError::NotEstablished(State::OpenConfirm))
    );
    let mut s = established_session();
    let t = Instant::ZERO + Duration::from_secs(1);
    s.handle_command(t, Command::SendUpdate(u)).expect("sent");
    let (tx, _) = drain(&mut s);
    assert!(matches!(tx.as_slice(), [Transmit::Bytes(b)] if b[18] == 2));
    // RFC profile: eBGP MRAI 30 s (jittered) now runs, and the keepalive restarted.
    let mrai = s
        .timers()
        .get(Timer::MinRouteAdvertisement)
        .expect("MRAI armed");
    assert!(mrai >= t + Duration::from_millis(22_500) && mrai <= t + Duration::from_secs(30));
    assert!(!s.may_advertise());
    assert!(s.timers().get(Timer::Keepalive).expect("keepalive") > t);
}
