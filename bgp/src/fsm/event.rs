//! The session's inputs and outputs as data.
//!
//! Inputs: [`Command`] (from the owner: operator actions and owner-detected conditions),
//! [`Transport`] (the TCP connection), plus bytes and timeouts through the `Session` methods.
//! Outputs: [`Transmit`] (bytes to write and connection actions) and [`SessionEvent`].
//! [`Event`] names the RFC 4271 §8.1 event behind each state change (the `cause`).
//!
//! Contract: events carry data only, never sockets or channels (style.md), and derive
//! `Serialize` so traces can be compared as golden files.

use serde::Serialize;
use sim_core::time::Duration;
use std::net::Ipv4Addr;

use super::State;
use crate::wire::{CeaseSubcode, DecodeCtx, EncodeCtx, Family, Notification, Update};

/// An input from the owner of the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Command {
    /// ManualStart (RFC 4271 Event 1): connect actively (and accept the peer's connection).
    Start,
    /// ManualStart_with_PassiveTcpEstablishment (Event 4): wait for the peer to connect.
    StartPassive,
    /// ManualStop (Event 2): an administrative shutdown. In OpenSent, OpenConfirm and
    /// Established a NOTIFICATION Cease / Administrative Shutdown (6/2, RFC 4486 §4) is sent,
    /// carrying the RFC 8203/9003 shutdown communication when given. The session stays in Idle
    /// until the next start.
    Stop {
        /// The shutdown communication (UTF-8, cut to 255 octets).
        message: Option<String>,
    },
    /// ManualStop (Event 2) with a chosen Cease subcode (RFC 4486 §4), e.g.
    /// [`CeaseSubcode::PEER_DECONFIGURED`] (6/3) when the peering itself is removed ("Peer
    /// De-configured") rather than shut down for a while. Behaves exactly as [`Self::Stop`]
    /// (the NOTIFICATION goes out in OpenSent, OpenConfirm and Established; the session then
    /// stays in Idle until the next start). `message` is sent only with Administrative
    /// Shutdown (6/2) and Administrative Reset (6/4), the two subcodes RFC 9003 §2 defines the
    /// shutdown communication for; with any other subcode the Data field is empty.
    StopWith {
        /// The Cease subcode of the NOTIFICATION.
        subcode: CeaseSubcode,
        /// The shutdown communication for 6/2 and 6/4 (UTF-8, cut to 255 octets).
        message: Option<String>,
    },
    /// AutomaticStop (Event 8) because the owner counted more prefixes than allowed: sends
    /// Cease / Maximum Number of Prefixes Reached (6/1) with AFI, SAFI and the limit as data
    /// (RFC 4486 §4), and restarts after `Config::max_prefix_restart` if set.
    MaxPrefixExceeded {
        /// The family whose limit was exceeded.
        family: Family,
        /// The configured limit.
        limit: u32,
    },
    /// The BFD session registered for this peer went down (`fall-over bfd`, RFC 5882 §4.3):
    /// the session drops to Idle at once, without waiting for the hold timer. Treated as
    /// AutomaticStop (Event 8); where a BGP connection is open, a Cease / BFD Down (6/10,
    /// RFC 9384) is sent first, although the path to the peer is most likely gone.
    BfdDown,
    /// OpenCollisionDump (Event 23): this connection lost collision resolution (§6.8); sends
    /// Cease / Connection Collision Resolution (6/7).
    CollisionDump,
    /// Send an UPDATE (Established only; ignored otherwise). Restarts the KeepaliveTimer
    /// (§8.2.2: "Each time the local system sends a KEEPALIVE or UPDATE message, it restarts
    /// its KeepaliveTimer") and arms the MRAI timer.
    SendUpdate(Update),
}

impl Command {
    /// [`Command::StopWith`] without a shutdown communication: `Command::stop_with(
    /// CeaseSubcode::PEER_DECONFIGURED)` ends the session with Cease 6/3.
    #[must_use]
    pub const fn stop_with(subcode: CeaseSubcode) -> Self {
        Self::StopWith {
            subcode,
            message: None,
        }
    }
}

/// What happened to the TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Transport {
    /// The connection is up: our connect completed (Event 16 Tcp_CR_Acked) or the peer's was
    /// accepted (Event 17 TcpConnectionConfirmed).
    Connected,
    /// Our connection attempt failed (Event 18 TcpConnectionFails).
    ConnectFailed,
    /// The established connection closed or broke (Event 18 TcpConnectionFails).
    Closed,
}

/// An output for the owner's transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Transmit {
    /// Open a TCP connection to the peer ("initiates a TCP connection").
    Connect,
    /// Write these bytes, in order, on the connection.
    Bytes(Vec<u8>),
    /// Close the connection (after writing the bytes queued before this).
    Close,
}

/// The RFC 4271 §8.1 events, as causes of state changes. Each variant lists the event numbers
/// it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Event {
    /// Event 1 ManualStart, Event 4 ManualStart_with_PassiveTcpEstablishment.
    ManualStart,
    /// Event 2 ManualStop.
    ManualStop,
    /// Event 3 AutomaticStart, Event 5 AutomaticStart_with_PassiveTcpEstablishment.
    AutomaticStart,
    /// Event 8 AutomaticStop (maximum prefixes, BFD down).
    AutomaticStop,
    /// Event 9 ConnectRetryTimer_Expires.
    ConnectRetryTimerExpires,
    /// Event 10 HoldTimer_Expires.
    HoldTimerExpires,
    /// Event 11 KeepaliveTimer_Expires.
    KeepaliveTimerExpires,
    /// Event 12 DelayOpenTimer_Expires.
    DelayOpenTimerExpires,
    /// Event 13 IdleHoldTimer_Expires.
    IdleHoldTimerExpires,
    /// Event 16 Tcp_CR_Acked, Event 17 TcpConnectionConfirmed.
    TcpConnectionConfirmed,
    /// Event 18 TcpConnectionFails.
    TcpConnectionFails,
    /// Event 19 BGPOpen, Event 20 BGPOpen with DelayOpenTimer running.
    BgpOpen,
    /// Event 21 BGPHeaderErr.
    BgpHeaderErr,
    /// Event 22 BGPOpenMsgErr (including an unacceptable Hold Time, bad peer AS).
    BgpOpenMsgErr,
    /// Event 23 OpenCollisionDump.
    OpenCollisionDump,
    /// Event 24 NotifMsgVerErr, Event 25 NotifMsg.
    NotifMsg,
    /// Event 26 KeepAliveMsg.
    KeepAliveMsg,
    /// Event 27 UpdateMsg.
    UpdateMsg,
    /// Event 28 UpdateMsgErr.
    UpdateMsgErr,
}

/// Parameters fixed when the OPENs are exchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negotiated {
    /// The peer's AS (from the 4-octet AS capability when present).
    pub remote_as: u32,
    /// The peer's BGP Identifier.
    pub remote_id: Ipv4Addr,
    /// The negotiated hold time: the smaller of the two OPENs (§4.2); zero means no hold timer
    /// and no keepalives.
    pub hold_time: Duration,
    /// The keepalive interval in force (from the profile's keepalive rule).
    pub keepalive: Duration,
    /// Families both sides announced (RFC 4760); IPv4 unicast when neither sent any (§1 of
    /// RFC 4760: it is implied without the capability).
    pub families: Vec<Family>,
    /// Both sides announced route refresh (RFC 2918).
    pub route_refresh: bool,
    /// Both sides announced graceful restart (RFC 4724).
    pub graceful_restart: bool,
    /// What the peer announced in its graceful restart capability, when both sides announced
    /// one (RFC 4724 §3); `None` otherwise.
    pub peer_graceful_restart: Option<PeerGracefulRestart>,
    /// How to decode the peer's messages from now on.
    pub decode: DecodeCtx,
    /// How to encode ours.
    pub encode: EncodeCtx,
}

/// The peer's graceful restart capability as negotiated (RFC 4724 §3, RFC 8538 §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerGracefulRestart {
    /// The peer's Restart Time: how long its routes are kept as stale after the session is
    /// lost before it is Established again (RFC 4724 §4.2).
    pub restart_time: Duration,
    /// Both sides set the N bit (RFC 8538 §2): NOTIFICATIONs other than Cease / Hard Reset
    /// are handled gracefully too.
    pub notification: bool,
    /// The families the peer listed, each with its Forwarding State bit.
    pub families: Vec<(Family, bool)>,
}

impl PeerGracefulRestart {
    /// Whether the peer listed `family` with Forwarding State set (RFC 4724 §4.2: otherwise
    /// a Receiving Speaker "MUST immediately remove all the stale routes from the peer ...
    /// for that address family" once the session is back).
    #[must_use]
    pub fn preserves(&self, family: Family) -> bool {
        self.families.iter().any(|&(f, fwd)| f == family && fwd)
    }
}

/// What the owner learns from the session, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SessionEvent {
    /// The state changed because of `cause`.
    StateChanged {
        /// The previous state.
        from: State,
        /// The new state.
        to: State,
        /// The RFC event that caused it.
        cause: Event,
    },
    /// The peer's OPEN was accepted (the session moves to OpenConfirm): the owner now knows
    /// its identifier and checks for a connection collision (§6.8).
    OpenReceived {
        /// The peer's BGP Identifier.
        remote_id: Ipv4Addr,
        /// The peer's AS.
        remote_as: u32,
    },
    /// The session is Established with these parameters.
    Established(Negotiated),
    /// An UPDATE arrived. RFC 7606 treat-as-withdraw and attribute-discard outcomes travel
    /// inside it; the owner applies them.
    UpdateReceived(Update),
    /// A NOTIFICATION was sent; the session is going down.
    NotificationSent(Notification),
    /// The peer sent a NOTIFICATION; the session is going down.
    NotificationReceived(Notification),
    /// The hold timer expired (a NOTIFICATION 4/0 follows when a connection exists).
    HoldTimerExpired,
    /// The MinRouteAdvertisementInterval timer expired: the owner may send the next batch.
    MraiExpired,
    /// The session is leaving Established in a way that makes this speaker the Receiving
    /// Speaker of RFC 4724 §4.2 (the helper): keep the peer's routes of `families` as stale,
    /// and go on forwarding on them, for `restart_time`. Comes just before the
    /// [`SessionEvent::StateChanged`] out of Established; without it, leaving Established
    /// withdraws the peer's routes at once (RFC 4271 §8.2.2).
    GracefulRestart {
        /// The peer's Restart Time.
        restart_time: Duration,
        /// The families the peer listed in its capability (§4.2: "for all the address
        /// families that were previously received in the Graceful Restart Capability").
        families: Vec<Family>,
    },
}
