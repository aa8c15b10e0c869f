//! Establishment over the two-speaker harness: both active, one passive, DelayOpen, and
//! hold-time negotiation (RFC 4271 §4.2, §6.2, §8.2.2).

mod common;

use bgp::fsm::profile::Profile;
use bgp::fsm::testing::Side;
use bgp::fsm::{Command, SessionEvent, State, Timer};
use bgp::wire::Family;
use common::*;
use sim_core::time::Duration;

#[test]
fn establishes_with_both_sides_active() {
    let p = established(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 1);
    for e in [&p.a, &p.b] {
        assert_eq!(state(e), State::Established);
        // Idle → Connect → OpenSent → OpenConfirm → Established, or via Active after a
        // refused simultaneous attempt.
        let path = e.path();
        assert_eq!(path.last(), Some(&State::Established));
        assert!(path.contains(&State::OpenSent) && path.contains(&State::OpenConfirm));
        assert!(
            e.events
                .iter()
                .any(|(_, ev)| matches!(ev, SessionEvent::Established(_)))
        );
    }
    // Established within a few round trips, not after a ConnectRetry.
    assert!(p.now < sim_core::time::Instant::ZERO + Duration::from_secs(1));
}

#[test]
fn establishes_with_one_passive_side() {
    let mut p = pair(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 2);
    p.command(Side::B, Command::StartPassive);
    assert_eq!(state(&p.b), State::Active);
    assert!(!p.b.session.timers().is_armed(Timer::ConnectRetry));
    p.command(Side::A, Command::Start);
    assert!(p.drive_to_established(Duration::from_secs(10)));
    assert!(p.b.connects.is_empty(), "the passive side connected");
    assert_eq!(
        p.b.path(),
        vec![
            State::Active,
            State::OpenSent,
            State::OpenConfirm,
            State::Established
        ]
    );
}

#[test]
fn passive_sides_never_meet() {
    let mut p = pair(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 3);
    p.command(Side::A, Command::StartPassive);
    p.command(Side::B, Command::StartPassive);
    p.drive_for(Duration::from_secs(3600));
    assert_eq!(state(&p.a), State::Active);
    assert_eq!(state(&p.b), State::Active);
}

#[test]
fn delay_open_waits_for_the_peers_open() {
    let mut a = cfg_a(Profile::RFC4271);
    a.delay_open = true;
    let mut p = pair(a, cfg_b(Profile::RFC4271), 4);
    p.command(Side::A, Command::StartPassive);
    p.command(Side::B, Command::Start);
    assert!(p.drive_to_established(Duration::from_secs(10)));
    // A answered B's OPEN with its own OPEN and a KEEPALIVE in one go (§8.2.2 Event 20) and
    // never passed through OpenSent.
    assert!(!p.a.path().contains(&State::OpenSent));
    assert_eq!(
        p.a.path(),
        vec![State::Active, State::OpenConfirm, State::Established]
    );
}

#[test]
fn delay_open_timer_sends_open_when_peer_is_silent() {
    let mut a = cfg_a(Profile::RFC4271);
    a.delay_open = true;
    let mut b = cfg_b(Profile::RFC4271);
    b.delay_open = true;
    let mut p = pair(a, b, 5);
    p.start_both();
    // Both wait DelayOpenTime (120 s in the RFC profile) before sending OPEN.
    p.drive_for(Duration::from_secs(100));
    assert!(p.a.written.is_empty() && p.b.written.is_empty());
    assert!(p.drive_to_established(Duration::from_secs(30)));
}

#[test]
fn negotiates_the_smaller_hold_time_180_vs_9() {
    let mut a = cfg_a(Profile::RFC4271);
    a.hold_time = Some(Duration::from_secs(180));
    let mut b = cfg_b(Profile::RFC4271);
    b.hold_time = Some(Duration::from_secs(9));
    let p = established(a, b, 6);
    for e in [&p.a, &p.b] {
        let n = e.session.negotiated().expect("negotiated");
        assert_eq!(n.hold_time, Duration::from_secs(9));
        assert_eq!(n.keepalive, Duration::from_secs(3));
    }
}

#[test]
fn hold_time_zero_disables_hold_and_keepalive() {
    let mut a = cfg_a(Profile::RFC4271);
    a.hold_time = Some(Duration::ZERO);
    let mut p = established(a, cfg_b(Profile::RFC4271), 7);
    let since = p.now;
    for e in [&p.a, &p.b] {
        assert_eq!(
            e.session.negotiated().map(|n| n.hold_time),
            Some(Duration::ZERO)
        );
        assert!(!e.session.timers().is_armed(Timer::Hold));
        assert!(!e.session.timers().is_armed(Timer::Keepalive));
    }
    p.drive_for(Duration::from_secs(3600));
    // §4.4: "If the negotiated Hold Time interval is zero, then periodic KEEPALIVE messages
    // MUST NOT be sent."
    assert!(keepalive_times(&p.a, since).is_empty());
    assert!(keepalive_times(&p.b, since).is_empty());
    assert_eq!(state(&p.a), State::Established);
    assert_eq!(state(&p.b), State::Established);
}

/// Rewrites the Hold Time field of A's OPEN (offsets 22..24 of the message).
fn pair_with_peer_hold(hold: u16) -> bgp::fsm::testing::Pair {
    let mut p = pair(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), 8);
    p.alter(move |side, bytes| {
        if side == Side::A && bytes.len() > 24 && bytes[18] == 1 {
            bytes[22..24].copy_from_slice(&hold.to_be_bytes());
        }
    });
    p
}

#[test]
fn refuses_peer_hold_time_of_one_and_two_seconds() {
    for hold in [1u16, 2] {
        let mut p = pair_with_peer_hold(hold);
        p.command(Side::A, Command::Start);
        p.command(Side::B, Command::StartPassive);
        p.drive_for(Duration::from_millis(50));
        // §6.2: "An implementation MUST reject Hold Time values of one or two seconds" with
        // OPEN Message Error / Unacceptable Hold Time (2/6).
        let sent = sent_notifications(&p.b);
        assert_eq!(sent.len(), 1, "hold {hold}");
        assert_eq!(code(&sent[0].1), (2, 6), "hold {hold}");
        assert_eq!(state(&p.b), State::Idle);
        let got = received_notifications(&p.a);
        assert_eq!(
            got.iter().map(|(_, n)| code(n)).collect::<Vec<_>>(),
            vec![(2, 6)]
        );
        assert_eq!(state(&p.a), State::Idle);
    }
}

#[test]
fn accepts_peer_hold_time_of_three_seconds() {
    let mut p = pair_with_peer_hold(3);
    p.command(Side::A, Command::Start);
    p.command(Side::B, Command::StartPassive);
    assert!(p.drive_to_established(Duration::from_secs(1)));
    assert_eq!(
        p.b.session.negotiated().map(|n| n.hold_time),
        Some(Duration::from_secs(3))
    );
    assert_eq!(
        p.b.session.negotiated().map(|n| n.keepalive),
        Some(Duration::from_secs(1))
    );
}

#[test]
fn rejects_unexpected_peer_as_with_bad_peer_as() {
    let mut b = cfg_b(Profile::RFC4271);
    b.remote_as = 64999;
    let mut p = pair(cfg_a(Profile::RFC4271), b, 9);
    p.start_both();
    p.drive_for(Duration::from_millis(50));
    let sent = sent_notifications(&p.b);
    assert!(!sent.is_empty());
    assert_eq!(code(&sent[0].1), (2, 2));
}

#[test]
fn negotiates_common_capabilities() {
    let mut a = cfg_a(Profile::RFC4271);
    a.families = vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST];
    a.extended_message = true;
    let mut b = cfg_b(Profile::RFC4271);
    b.route_refresh = false;
    let p = established(a, b, 10);
    let n = p.a.session.negotiated().expect("negotiated");
    assert_eq!(n.families, vec![Family::IPV4_UNICAST]);
    assert!(n.decode.four_octet_as && n.encode.four_octet_as);
    assert!(!n.route_refresh);
    assert!(!n.decode.extended_message);
    assert_eq!(n.remote_as, AS_B);
    assert_eq!(n.remote_id, ID_B);
}

#[test]
fn four_octet_as_without_the_capability_is_bad_peer_as() {
    // A announces a 4-octet AS but suppresses the capability: B sees AS_TRANS (23456).
    let mut a = cfg_a(Profile::RFC4271);
    a.local_as = 4_200_000_001;
    a.four_octet_as = false;
    let mut b = cfg_b(Profile::RFC4271);
    b.remote_as = 4_200_000_001;
    let mut p = pair(a, b, 11);
    p.start_both();
    p.drive_for(Duration::from_millis(50));
    assert_eq!(code(&sent_notifications(&p.b)[0].1), (2, 2));
    // With the capability the session comes up.
    let mut a = cfg_a(Profile::RFC4271);
    a.local_as = 4_200_000_001;
    let mut b = cfg_b(Profile::RFC4271);
    b.remote_as = 4_200_000_001;
    let p = established(a, b, 12);
    assert_eq!(
        p.b.session.negotiated().map(|n| n.remote_as),
        Some(4_200_000_001)
    );
}
