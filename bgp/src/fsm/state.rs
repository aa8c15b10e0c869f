//! The six session states of RFC 4271 §8.2.2, in the RFC's order.

use serde::Serialize;

use super::Timer;

/// A BGP session state (RFC 4271 §8.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum State {
    /// Idle: refuses connections, waits for a start event.
    Idle,
    /// Connect: waiting for an outgoing TCP connection to complete.
    Connect,
    /// Active: listening for the peer's connection after a failed attempt (or passively).
    Active,
    /// OpenSent: our OPEN is out, waiting for the peer's.
    OpenSent,
    /// OpenConfirm: OPENs exchanged, waiting for KEEPALIVE or NOTIFICATION.
    OpenConfirm,
    /// Established: UPDATE, KEEPALIVE and NOTIFICATION flow.
    Established,
}

impl State {
    /// All states, in RFC order.
    pub const ALL: [Self; 6] = [
        Self::Idle,
        Self::Connect,
        Self::Active,
        Self::OpenSent,
        Self::OpenConfirm,
        Self::Established,
    ];

    /// Whether a session in this state may have `timer` armed (RFC 4271 §8.2.2):
    ///
    /// - Idle: only IdleHoldTimer (automatic restart, §8.1.1 DampPeerOscillations);
    /// - Connect, Active: ConnectRetryTimer and DelayOpenTimer;
    /// - OpenSent: HoldTimer (the large initial value);
    /// - OpenConfirm: HoldTimer and KeepaliveTimer;
    /// - Established: HoldTimer, KeepaliveTimer and MinRouteAdvertisementIntervalTimer.
    #[must_use]
    pub const fn uses(self, timer: Timer) -> bool {
        matches!(
            (self, timer),
            (Self::Idle, Timer::IdleHold)
                | (
                    Self::Connect | Self::Active,
                    Timer::ConnectRetry | Timer::DelayOpen
                )
                | (Self::OpenSent, Timer::Hold)
                | (Self::OpenConfirm, Timer::Hold | Timer::Keepalive)
                | (
                    Self::Established,
                    Timer::Hold | Timer::Keepalive | Timer::MinRouteAdvertisement
                )
        )
    }

    /// The FSM Error subcode for an unexpected message received in this state (RFC 6608 §3):
    /// 1 in OpenSent, 2 in OpenConfirm, 3 in Established, 0 (unspecific) elsewhere.
    #[must_use]
    pub const fn fsm_error_subcode(self) -> u8 {
        match self {
            Self::OpenSent => 1,
            Self::OpenConfirm => 2,
            Self::Established => 3,
            Self::Idle | Self::Connect | Self::Active => 0,
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Idle => "Idle",
            Self::Connect => "Connect",
            Self::Active => "Active",
            Self::OpenSent => "OpenSent",
            Self::OpenConfirm => "OpenConfirm",
            Self::Established => "Established",
        })
    }
}
