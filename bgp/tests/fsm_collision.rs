//! Connection collision (RFC 4271 §6.8): both speakers connect at once, each runs two sessions
//! (one per TCP connection), and `fsm::collision::resolve` picks the same survivor on both
//! sides; the losers close with Cease / Connection Collision Resolution (6/7).

mod common;

use bgp::fsm::collision::{self, Candidate, Direction, Survivor};
use bgp::fsm::profile::Profile;
use bgp::fsm::testing::{Pair, Side};
use bgp::fsm::{Command, State};
use common::*;
use sim_core::time::{Duration, Instant};

/// The two connections: `out_a` was opened by A (A's outgoing, B's incoming), `out_b` by B.
struct Collision {
    out_a: Pair,
    out_b: Pair,
    dumped_at_a: bool,
    dumped_at_b: bool,
}

impl Collision {
    fn new(seed: u64) -> Self {
        let out_a = pair(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), seed);
        let out_b = pair(cfg_a(Profile::RFC4271), cfg_b(Profile::RFC4271), seed + 100);
        Self {
            out_a,
            out_b,
            dumped_at_a: false,
            dumped_at_b: false,
        }
    }

    /// One step of whichever connection has the earlier event, then the owners' collision
    /// check (the speaker's job).
    fn step(&mut self) -> bool {
        let t1 = self.out_a.next_event_time();
        let t2 = self.out_b.next_event_time();
        let stepped = match (t1, t2) {
            (Some(a), Some(b)) if a <= b => self.out_a.step(),
            (Some(_), None) => self.out_a.step(),
            (_, Some(_)) => self.out_b.step(),
            (None, None) => false,
        };
        // Keep both clocks together.
        let now = self.out_a.now.max(self.out_b.now);
        self.out_a.now = now;
        self.out_b.now = now;
        self.resolve(Side::A);
        self.resolve(Side::B);
        stepped
    }

    fn drive_until(&mut self, until: Instant) {
        while self.out_a.now.max(self.out_b.now) < until && self.step() {}
    }

    /// Speaker `side` compares its two sessions once both know the peer's identifier
    /// (OpenConfirm or later) and dumps the loser.
    fn resolve(&mut self, side: Side) {
        let done = match side {
            Side::A => self.dumped_at_a,
            Side::B => self.dumped_at_b,
        };
        if done {
            return;
        }
        // At A, `out_a` is outgoing; at B it is incoming.
        let (dir_first, dir_second) = match side {
            Side::A => (Direction::Outgoing, Direction::Incoming),
            Side::B => (Direction::Incoming, Direction::Outgoing),
        };
        let first = self.out_a.endpoint(side).session.state();
        let second = self.out_b.endpoint(side).session.state();
        let known = |s: State| matches!(s, State::OpenConfirm | State::Established);
        if !(known(first) && known(second)) {
            return;
        }
        let (local, other) = match side {
            Side::A => ((ID_A, AS_A), (ID_B, AS_B)),
            Side::B => ((ID_B, AS_B), (ID_A, AS_A)),
        };
        let survivor = collision::resolve(
            local.0,
            local.1,
            other.0,
            other.1,
            Candidate {
                state: first,
                direction: dir_first,
            },
            Candidate {
                state: second,
                direction: dir_second,
            },
        );
        let loser = match survivor {
            Survivor::First => &mut self.out_b,
            Survivor::Second => &mut self.out_a,
        };
        loser.command(side, Command::CollisionDump);
        match side {
            Side::A => self.dumped_at_a = true,
            Side::B => self.dumped_at_b = true,
        }
    }
}

#[test]
fn simultaneous_open_keeps_the_connection_of_the_higher_identifier() {
    for seed in 0..10 {
        let mut c = Collision::new(seed);
        // A and B each connect and each accept the other's connection.
        c.out_a.command(Side::B, Command::StartPassive);
        c.out_a.command(Side::A, Command::Start);
        c.out_b.command(Side::A, Command::StartPassive);
        c.out_b.command(Side::B, Command::Start);
        c.drive_until(Instant::ZERO + Duration::from_secs(60));
        assert!(c.dumped_at_a && c.dumped_at_b);
        // ID_B (192.0.2.2) > ID_A: the connection B opened survives on both sides.
        assert_eq!(state(&c.out_b.a), State::Established, "seed {seed}");
        assert_eq!(state(&c.out_b.b), State::Established, "seed {seed}");
        assert_eq!(state(&c.out_a.a), State::Idle, "seed {seed}");
        assert_eq!(state(&c.out_a.b), State::Idle, "seed {seed}");
        let cease7 = |e: &bgp::fsm::testing::Endpoint| {
            sent_notifications(e).iter().any(|(_, n)| code(n) == (6, 7))
        };
        assert!(cease7(&c.out_a.a) || cease7(&c.out_a.b));
        // The losers do not restart (a collision is not an error of the peer).
        assert!(c.out_a.a.session.timers().next_deadline().is_none());
    }
}

#[test]
fn established_connection_wins_over_a_newer_one() {
    let mut c = Collision::new(7);
    // First only A's connection comes up.
    c.out_a.command(Side::B, Command::StartPassive);
    c.out_a.command(Side::A, Command::Start);
    assert!(c.out_a.drive_to_established(Duration::from_secs(10)));
    c.out_b.now = c.out_a.now;
    // Later B opens a second connection, which A accepts.
    c.out_b.command(Side::A, Command::StartPassive);
    c.out_b.command(Side::B, Command::Start);
    let until = c.out_a.now + Duration::from_secs(60);
    c.drive_until(until);
    // B has the higher identifier, but the established connection survives.
    assert_eq!(state(&c.out_a.a), State::Established);
    assert_eq!(state(&c.out_a.b), State::Established);
    assert_eq!(state(&c.out_b.a), State::Idle);
    assert_eq!(state(&c.out_b.b), State::Idle);
}
