//! Per-session configuration: identity, timers (falling back to the profile's defaults) and
//! the optional session attributes of RFC 4271 §8.1.1.

use serde::Serialize;
use sim_core::time::Duration;
use std::net::Ipv4Addr;

use super::profile::{IdleHold, Profile};
use crate::wire::{AddPathFamily, Family};

/// Configuration of one BGP session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Our AS.
    pub local_as: u32,
    /// The AS the peer must announce (a mismatch is OPEN error 2/2 Bad Peer AS).
    pub remote_as: u32,
    /// Our BGP Identifier (nonzero).
    pub router_id: Ipv4Addr,
    /// The implementation whose timer behaviour this session follows.
    pub profile: Profile,
    /// Hold time to advertise; `None` takes the profile's. Zero or at least 3 s (§4.2).
    pub hold_time: Option<Duration>,
    /// Configured keepalive; `None` takes the profile's (which may derive it from the hold).
    pub keepalive: Option<Duration>,
    /// ConnectRetryTime; `None` takes the profile's.
    pub connect_retry: Option<Duration>,
    /// Delay from a start or automatic restart to the first connection attempt (BIRD's
    /// `connect delay time`); `None` takes the profile's. Raised to the profile's
    /// `min_connect_delay`.
    pub connect_delay: Option<Duration>,
    /// MinRouteAdvertisementIntervalTimer (RFC 4271 §9.2.1.1) in place of the profile's
    /// eBGP or iBGP value; `None` takes the profile's.
    pub mrai: Option<Duration>,
    /// Automatic-restart delay after the first error (§8.1.1 IdleHoldTime; BIRD's first
    /// `error wait time`; FRR's initial start timer); `None` takes the profile's.
    pub idle_hold: Option<Duration>,
    /// Longest automatic-restart delay (BIRD's second `error wait time`); `None` takes the
    /// profile's.
    pub idle_hold_max: Option<Duration>,
    /// Quiet period after which the restart delay starts again from `idle_hold` (BIRD's
    /// `error forget time`); `None` takes the profile's.
    pub idle_hold_forget: Option<Duration>,
    /// DelayOpen (§8.1.1): wait for the peer's OPEN for DelayOpenTime before sending ours.
    pub delay_open: bool,
    /// DampPeerOscillations (§8.1.1): after it went down by itself (an error, a lost
    /// connection, BFD) the session restarts by itself once the IdleHoldTimer expires, after
    /// the delay the profile's restart rule gives ([`Self::idle_hold`]). Without it, only a new
    /// start command restarts.
    pub damp_peer_oscillations: bool,
    /// After a Cease 6/1 (maximum prefixes), restart after this long; `None`: stay down until
    /// started again (RFC 4486 §4 leaves this to configuration).
    pub max_prefix_restart: Option<Duration>,
    /// Families to announce with the Multiprotocol capability (RFC 4760).
    pub families: Vec<Family>,
    /// Announce the 4-octet AS capability (RFC 6793).
    pub four_octet_as: bool,
    /// Announce route refresh (RFC 2918).
    pub route_refresh: bool,
    /// Announce extended messages (RFC 8654).
    pub extended_message: bool,
    /// Announce graceful restart with this Restart Time (RFC 4724 §3), listing every family
    /// of [`Self::families`] with Forwarding State set, and act as its Receiving Speaker
    /// (helper, §4.2) when the peer announces it too; `None`: not announced, no helper. The
    /// time is carried in 12 bits of seconds (at most 4095 s).
    pub graceful_restart: Option<Duration>,
    /// Set the N bit of the graceful restart capability (RFC 8538 §2): when both sides set it,
    /// a NOTIFICATION other than Cease / Hard Reset, and a hold-timer expiry, keep the peer's
    /// routes as stale as a lost connection does (RFC 8538 §4). Ignored without
    /// [`Self::graceful_restart`].
    pub graceful_restart_notification: bool,
    /// With the N bit in force, send an Administrative Reset (Cease 6/4, an operator's clear)
    /// as a Hard Reset too: RFC 8538 §5.1 leaves that subcode to "user control" (FRR's `bgp
    /// hard-administrative-reset`, off by default); the other Ceases follow §5.1's table.
    pub hard_administrative_reset: bool,
    /// The peer is internal (same AS): selects the iBGP MRAI.
    pub internal: bool,
    /// ADD-PATH (RFC 7911): per family, whether we can receive and/or send multiple paths.
    /// Empty (the default): the capability is not announced and no Path Identifiers are used.
    /// What is in force per family is computed from both OPENs (see [`crate::fsm`]'s
    /// `Negotiated::decode` / `Negotiated::encode`).
    pub add_path: Vec<AddPathFamily>,
}

/// Why a [`Config`] cannot run a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// RFC 4271 §4.2: "The Hold Time MUST be either zero or at least three seconds."
    #[error("hold time {0} is neither zero nor at least 3s (RFC 4271 §4.2)")]
    HoldTime(Duration),
    /// The hold time does not fit the 16-bit OPEN field.
    #[error("hold time {0} exceeds 65535s")]
    HoldTimeTooLarge(Duration),
    /// RFC 6286 §2.1: the BGP Identifier is "a non-zero 32-bit unsigned integer".
    #[error("router id 0.0.0.0 is not a valid BGP Identifier (RFC 6286 §2.1)")]
    ZeroRouterId,
    /// AS 0 is reserved (RFC 7607).
    #[error("AS 0 is reserved (RFC 7607)")]
    ZeroAs,
}

impl Config {
    /// A session between `local_as` and `remote_as` with the given identifier, the RFC 4271
    /// profile, IPv4 unicast, 4-octet AS and route refresh announced, restart damping on.
    #[must_use]
    pub fn new(local_as: u32, remote_as: u32, router_id: Ipv4Addr) -> Self {
        Self {
            local_as,
            remote_as,
            router_id,
            profile: Profile::RFC4271,
            hold_time: None,
            keepalive: None,
            connect_retry: None,
            connect_delay: None,
            mrai: None,
            idle_hold: None,
            idle_hold_max: None,
            idle_hold_forget: None,
            delay_open: false,
            damp_peer_oscillations: true,
            max_prefix_restart: None,
            families: vec![Family::IPV4_UNICAST],
            four_octet_as: true,
            route_refresh: true,
            extended_message: false,
            graceful_restart: None,
            graceful_restart_notification: false,
            hard_administrative_reset: false,
            internal: local_as == remote_as,
            add_path: Vec::new(),
        }
    }

    /// The hold time this session advertises.
    #[must_use]
    pub fn hold_time(&self) -> Duration {
        self.hold_time.unwrap_or(self.profile.hold_time)
    }

    /// The configured keepalive, if any.
    #[must_use]
    pub fn keepalive(&self) -> Option<Duration> {
        self.keepalive.or(self.profile.keepalive)
    }

    /// ConnectRetryTime.
    #[must_use]
    pub fn connect_retry(&self) -> Duration {
        self.connect_retry.unwrap_or(self.profile.connect_retry)
    }

    /// The delay from a start or automatic restart to the first connection attempt: the
    /// configured or the profile's, at least the profile's minimum (BIRD's `bgp_active`:
    /// "MAX(1, p->cf->connect_delay_time)").
    #[must_use]
    pub fn connect_delay(&self) -> Duration {
        self.connect_delay
            .unwrap_or(self.profile.connect_delay)
            .max(self.profile.min_connect_delay)
    }

    /// The automatic-restart behaviour: the profile's, with the configured delays in place of
    /// its own. A maximum below the first delay is raised to it.
    #[must_use]
    pub fn idle_hold(&self) -> IdleHold {
        let p = self.profile.idle_hold;
        let initial = self.idle_hold.unwrap_or(p.initial);
        IdleHold {
            initial,
            max: self.idle_hold_max.unwrap_or(p.max).max(initial),
            forget: self.idle_hold_forget.or(p.forget),
            ..p
        }
    }

    /// The MRAI for this peer: the configured one, else the profile's for eBGP or iBGP.
    #[must_use]
    pub fn mrai(&self) -> Duration {
        if let Some(m) = self.mrai {
            m
        } else if self.internal {
            self.profile.mrai_ibgp
        } else {
            self.profile.mrai_ebgp
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`ConfigError`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        let hold = self.hold_time();
        if !hold.is_zero() && hold < Duration::from_secs(3) {
            return Err(ConfigError::HoldTime(hold));
        }
        if hold > Duration::from_secs(u64::from(u16::MAX)) {
            return Err(ConfigError::HoldTimeTooLarge(hold));
        }
        if self.router_id.is_unspecified() {
            return Err(ConfigError::ZeroRouterId);
        }
        if self.local_as == 0 || self.remote_as == 0 {
            return Err(ConfigError::ZeroAs);
        }
        Ok(())
    }
}
