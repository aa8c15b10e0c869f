//! Connection collision resolution (RFC 4271 §6.8) with the "established wins" practice.
//!
//! When both speakers open a TCP connection to each other at the same time, each ends up with
//! two sessions for one peer. The owner of the sessions (the speaker) runs one
//! [`Session`](super::Session) per connection and, once it knows the peer's BGP Identifier
//! (from an OPEN), asks [`resolve`] which connection survives; it then sends
//! `Command::CollisionDump` (RFC 4271 Event 23) to the loser, which closes with Cease /
//! Connection Collision Resolution (6/7, RFC 4486 §3).
//!
//! Contract: both speakers evaluate the same rule and therefore keep the same TCP connection.

use serde::Serialize;
use std::net::Ipv4Addr;

use super::State;

/// Who opened a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Direction {
    /// The remote speaker connected to us.
    Incoming,
    /// We connected to the remote speaker.
    Outgoing,
}

/// One of the two colliding connections, as seen locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Candidate {
    /// The state of the session running on the connection.
    pub state: State,
    /// Who opened it.
    pub direction: Direction,
}

/// Which of the two connections given to [`resolve`] survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Survivor {
    /// The first candidate survives; dump the second.
    First,
    /// The second candidate survives; dump the first.
    Second,
}

/// Decides which of two connections to the same peer survives.
///
/// 1. Established wins: a connection already in Established is kept and the other dumped. RFC
///    4271 §6.8: "a connection collision with an existing BGP connection that is in the
///    Established state causes closing of the newly created connection" (and §8.1.1,
///    CollisionDetectEstablishedState, is the optional attribute to do otherwise; real
///    routers keep the established session).
/// 2. Otherwise the BGP Identifiers decide, compared "as 4-octet unsigned integers" (§6.8):
///    "If the value of the local BGP Identifier is less than the remote one, the local system
///    closes the BGP connection that already exists ... and accepts the BGP connection
///    initiated by the remote system. Otherwise, the local system closes the newly created BGP
///    connection ... and continues to use the existing one". Either way the connection
///    initiated by the speaker with the higher identifier survives, which is what this checks.
/// 3. Equal identifiers (possible across ASes since RFC 6286 §2.2): the side with the larger
///    AS number plays the higher identifier; `local_as`/`remote_as` break the tie.
#[must_use]
pub fn resolve(
    local_id: Ipv4Addr,
    local_as: u32,
    remote_id: Ipv4Addr,
    remote_as: u32,
    first: Candidate,
    second: Candidate,
) -> Survivor {
    match (
        first.state == State::Established,
        second.state == State::Established,
    ) {
        (true, false) => return Survivor::First,
        (false, true) => return Survivor::Second,
        _ => {}
    }
    let local_wins = (u32::from(local_id), local_as) > (u32::from(remote_id), remote_as);
    let keep = if local_wins {
        Direction::Outgoing
    } else {
        Direction::Incoming
    };
    if first.direction == keep {
        Survivor::First
    } else {
        Survivor::Second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOW: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const HIGH: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn c(state: State, direction: Direction) -> Candidate {
        Candidate { state, direction }
    }

    #[test]
    fn higher_identifier_keeps_its_outgoing_connection() {
        let out = c(State::OpenConfirm, Direction::Outgoing);
        let inc = c(State::OpenConfirm, Direction::Incoming);
        assert_eq!(resolve(HIGH, 1, LOW, 2, out, inc), Survivor::First);
        assert_eq!(resolve(HIGH, 1, LOW, 2, inc, out), Survivor::Second);
    }

    #[test]
    fn lower_identifier_keeps_the_incoming_connection() {
        let out = c(State::OpenConfirm, Direction::Outgoing);
        let inc = c(State::OpenSent, Direction::Incoming);
        assert_eq!(resolve(LOW, 1, HIGH, 2, out, inc), Survivor::Second);
    }

    #[test]
    fn both_sides_keep_the_same_connection() {
        // Connection X: opened by HIGH (outgoing at HIGH, incoming at LOW).
        let at_high = resolve(
            HIGH,
            1,
            LOW,
            2,
            c(State::OpenConfirm, Direction::Outgoing),
            c(State::OpenConfirm, Direction::Incoming),
        );
        let at_low = resolve(
            LOW,
            2,
            HIGH,
            1,
            c(State::OpenConfirm, Direction::Incoming),
            c(State::OpenConfirm, Direction::Outgoing),
        );
        assert_eq!(at_high, Survivor::First);
        assert_eq!(at_low, Survivor::First);
    }

    #[test]
    fn established_connection_always_wins() {
        let est = c(State::Established, Direction::Incoming);
        let new = c(State::OpenConfirm, Direction::Outgoing);
        // HIGH would keep its outgoing connection, but the established one wins.
        assert_eq!(resolve(HIGH, 1, LOW, 2, est, new), Survivor::First);
        assert_eq!(resolve(HIGH, 1, LOW, 2, new, est), Survivor::Second);
    }

    #[test]
    fn equal_identifiers_fall_back_to_as_numbers() {
        let out = c(State::OpenConfirm, Direction::Outgoing);
        let inc = c(State::OpenConfirm, Direction::Incoming);
        assert_eq!(resolve(LOW, 65001, LOW, 65000, out, inc), Survivor::First);
        assert_eq!(resolve(LOW, 65000, LOW, 65001, out, inc), Survivor::Second);
    }
}
