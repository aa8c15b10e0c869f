//! The session's timers as data: one [`Timer`] per RFC 4271 timer and a [`TimerTable`] of
//! deadlines (quinn-proto's `connection/timer.rs` shape).
//!
//! Contract: the table only stores deadlines; the session decides when to arm and stop each one,
//! and the owner learns the earliest deadline through `Session::poll_timeout`.

use serde::Serialize;
use sim_core::time::Instant;

/// The timers of one session (RFC 4271 §8, §10 and the optional §8.1.1 attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Timer {
    /// ConnectRetryTimer (Event 9 on expiry).
    ConnectRetry,
    /// HoldTimer (Event 10 on expiry).
    Hold,
    /// KeepaliveTimer (Event 11 on expiry).
    Keepalive,
    /// MinRouteAdvertisementIntervalTimer (§9.2.1.1).
    MinRouteAdvertisement,
    /// DelayOpenTimer (Event 12 on expiry).
    DelayOpen,
    /// IdleHoldTimer (Event 13 on expiry).
    IdleHold,
}

impl Timer {
    /// Every timer, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::ConnectRetry,
        Self::Hold,
        Self::Keepalive,
        Self::MinRouteAdvertisement,
        Self::DelayOpen,
        Self::IdleHold,
    ];

    const fn index(self) -> usize {
        match self {
            Self::ConnectRetry => 0,
            Self::Hold => 1,
            Self::Keepalive => 2,
            Self::MinRouteAdvertisement => 3,
            Self::DelayOpen => 4,
            Self::IdleHold => 5,
        }
    }
}

/// A deadline per [`Timer`]; `None` is stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TimerTable {
    deadlines: [Option<Instant>; 6],
}

impl TimerTable {
    /// Arms `timer` to fire at `at`, replacing any earlier deadline.
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer.index()] = Some(at);
    }

    /// Stops `timer`.
    pub fn stop(&mut self, timer: Timer) {
        self.deadlines[timer.index()] = None;
    }

    /// Stops every timer.
    pub fn stop_all(&mut self) {
        self.deadlines = [None; 6];
    }

    /// The deadline of `timer`, if armed.
    #[must_use]
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer.index()]
    }

    /// Whether `timer` is armed.
    #[must_use]
    pub fn is_armed(&self, timer: Timer) -> bool {
        self.get(timer).is_some()
    }

    /// The earliest deadline of all armed timers.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// The first timer (in declaration order) whose deadline is at or before `now`.
    #[must_use]
    pub fn expired(&self, now: Instant) -> Option<Timer> {
        Timer::ALL
            .into_iter()
            .filter(|t| self.get(*t).is_some_and(|at| at <= now))
            .min_by_key(|t| self.get(*t))
    }

    /// The armed timers, in declaration order.
    pub fn armed(&self) -> impl Iterator<Item = Timer> + '_ {
        Timer::ALL.into_iter().filter(|t| self.is_armed(*t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_deadline_is_the_earliest_armed() {
        let mut t = TimerTable::default();
        assert_eq!(t.next_deadline(), None);
        t.set(Timer::Hold, Instant::from_nanos(90));
        t.set(Timer::Keepalive, Instant::from_nanos(30));
        assert_eq!(t.next_deadline(), Some(Instant::from_nanos(30)));
        t.stop(Timer::Keepalive);
        assert_eq!(t.next_deadline(), Some(Instant::from_nanos(90)));
    }

    #[test]
    fn expired_returns_the_earliest_due_timer() {
        let mut t = TimerTable::default();
        t.set(Timer::Hold, Instant::from_nanos(20));
        t.set(Timer::Keepalive, Instant::from_nanos(10));
        assert_eq!(t.expired(Instant::from_nanos(5)), None);
        assert_eq!(t.expired(Instant::from_nanos(25)), Some(Timer::Keepalive));
        t.stop_all();
        assert_eq!(t.armed().count(), 0);
    }
}
