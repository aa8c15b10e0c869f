//! Helpers shared by the fsm integration tests.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::net::Ipv4Addr;

use bgp::fsm::profile::Profile;
use bgp::fsm::testing::{Endpoint, Pair};
use bgp::fsm::{Config, Session, SessionEvent, State};
use bgp::wire::{ErrorCode, Notification};
use sim_core::time::{Duration, Instant};

pub const ID_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const ID_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const AS_A: u32 = 65001;
pub const AS_B: u32 = 12076;

/// A's configuration towards B, with `profile`.
pub fn cfg_a(profile: Profile) -> Config {
    let mut c = Config::new(AS_A, AS_B, ID_A);
    c.profile = profile;
    c
}

/// B's configuration towards A, with `profile`.
pub fn cfg_b(profile: Profile) -> Config {
    let mut c = Config::new(AS_B, AS_A, ID_B);
    c.profile = profile;
    c
}

pub fn session(config: Config, seed: u64) -> Session {
    Session::new(config, seed).expect("valid test configuration")
}

pub fn pair(a: Config, b: Config, seed: u64) -> Pair {
    Pair::new(session(a, seed), session(b, seed ^ 0x5eed))
}

/// An established pair with the given profiles.
pub fn established(a: Config, b: Config, seed: u64) -> Pair {
    let mut p = pair(a, b, seed);
    p.start_both();
    assert!(
        p.drive_to_established(Duration::from_secs(600)),
        "no establishment: {p:?}"
    );
    p
}

/// Whether a chunk written by a session is a KEEPALIVE.
pub fn is_keepalive(bytes: &[u8]) -> bool {
    bytes.len() == 19 && bytes.get(18) == Some(&4)
}

/// Times at which `e` wrote a KEEPALIVE at or after `from`.
pub fn keepalive_times(e: &Endpoint, from: Instant) -> Vec<Instant> {
    e.written
        .iter()
        .filter(|(t, b)| *t >= from && is_keepalive(b))
        .map(|(t, _)| *t)
        .collect()
}

/// The NOTIFICATIONs `e` sent.
pub fn sent_notifications(e: &Endpoint) -> Vec<(Instant, Notification)> {
    e.events
        .iter()
        .filter_map(|(t, ev)| match ev {
            SessionEvent::NotificationSent(n) => Some((*t, n.clone())),
            _ => None,
        })
        .collect()
}

/// The NOTIFICATIONs `e` received.
pub fn received_notifications(e: &Endpoint) -> Vec<(Instant, Notification)> {
    e.events
        .iter()
        .filter_map(|(t, ev)| match ev {
            SessionEvent::NotificationReceived(n) => Some((*t, n.clone())),
            _ => None,
        })
        .collect()
}

/// (code, subcode) of a NOTIFICATION.
pub fn code(n: &Notification) -> (u8, u8) {
    (n.code.0, n.subcode)
}

pub fn is_hold_expired(n: &Notification) -> bool {
    n.code == ErrorCode::HOLD_TIMER_EXPIRED && n.subcode == 0
}

/// The state `e`'s session is in.
pub fn state(e: &Endpoint) -> State {
    e.session.state()
}
