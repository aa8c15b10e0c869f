//! Timer profiles: how a particular BGP implementation runs its timers.
//!
//! Engineers use holdtime to predict what *their* router does, so a session's timers follow a
//! named, data-driven [`Profile`] rather than only the RFC's text. A profile decides:
//!
//! - the jitter applied to each timer ([`Jitter`], a factor drawn uniformly in a range);
//! - the default timers (hold time advertised in OPEN, keepalive, ConnectRetry, the hold timer
//!   used in OpenSent, MRAI, DelayOpen);
//! - connect-retry and automatic-restart behaviour (the connect delay; [`IdleHold`]: the delay
//!   before the session restarts itself after it went down, how it backs off, and by
//!   [`RestartRule`] which kinds of [`Down`] move it);
//! - the BFD transmit jitter of the implementation's BFD ([`BfdJitter`]);
//! - when best-path changes reach the FIB ([`RouteInstall`]);
//! - how the keepalive interval follows the negotiated hold time ([`KeepaliveRule`]), and the
//!   shortest gap between two KEEPALIVEs once jitter is applied (`keepalive_floor`).
//!
//! Each profile's doc comment cites where each behaviour comes from (RFC section, or the
//! implementation's source file and function, or its documentation). Values that no public
//! source documents are marked **assumption**.
//!
//! The profiles are plain `const` data: [`Profile::RFC4271`], [`Profile::BIRD`],
//! [`Profile::FRR`], [`Profile::CISCO_IOS`] and [`Profile::JUNOS`]; [`Profile::by_name`] looks
//! one up by the name used in scenario files.

use rand_core::RngCore;
use serde::Serialize;
use sim_core::time::{Duration, Instant};

use crate::wire::ErrorCode;

/// A multiplicative jitter: a timer of nominal length `d` runs for a length drawn uniformly from
/// `[d × min, d × max]`, the factors written in per-mille so that profiles are exact data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Jitter {
    /// Lower factor in per-mille (750 = 0.75).
    pub min_permille: u16,
    /// Upper factor in per-mille (1000 = 1.0).
    pub max_permille: u16,
}

impl Jitter {
    /// No jitter: the timer runs for exactly its nominal length.
    pub const NONE: Self = Self::new(1000, 1000);

    /// RFC 4271 §10: "jitter SHOULD be applied to the timers associated with
    /// MinASOriginationInterval, KeepAlive, MinRouteAdvertisementInterval, and ConnectRetry ...
    /// The suggested default amount of jitter SHALL be determined by multiplying the base value
    /// of the appropriate timer by a random factor, which is uniformly distributed in the range
    /// from 0.75 to 1.0."
    pub const RFC4271: Self = Self::new(750, 1000);

    /// A jitter range; if `min_permille > max_permille` the two are swapped.
    #[must_use]
    pub const fn new(min_permille: u16, max_permille: u16) -> Self {
        if min_permille <= max_permille {
            Self {
                min_permille,
                max_permille,
            }
        } else {
            Self {
                min_permille: max_permille,
                max_permille: min_permille,
            }
        }
    }

    /// The shortest length a timer of nominal length `d` can run for.
    #[must_use]
    pub fn lower_bound(self, d: Duration) -> Duration {
        scale(d, self.min_permille)
    }

    /// The longest length a timer of nominal length `d` can run for.
    #[must_use]
    pub fn upper_bound(self, d: Duration) -> Duration {
        scale(d, self.max_permille)
    }

    /// Draws the jittered length of a timer of nominal length `d`, uniformly (to the
    /// nanosecond) in `[lower_bound(d), upper_bound(d)]`.
    pub fn apply(self, d: Duration, rng: &mut impl RngCore) -> Duration {
        let lo = self.lower_bound(d).as_nanos();
        let hi = self.upper_bound(d).as_nanos();
        let span = u128::from(hi - lo) + 1;
        // Lemire-style multiply-shift: maps 64 random bits onto [0, span) without division;
        // the bias is below 2^-64 × span, far under a nanosecond for any timer here.
        let offset = (u128::from(rng.next_u64()) * span) >> 64;
        Duration::from_nanos(lo + u64::try_from(offset).unwrap_or(0))
    }
}

/// `d × permille / 1000`, exact: in 64-bit arithmetic when the product fits (any timer
/// shorter than 213 days; sessions re-arm their timers on every message, and a 128-bit
/// division is a library call), in 128-bit arithmetic otherwise.
fn scale(d: Duration, permille: u16) -> Duration {
    let n = d.as_nanos();
    if let Some(p) = n.checked_mul(u64::from(permille)) {
        return Duration::from_nanos(p / 1000);
    }
    let n = u128::from(n) * u128::from(permille) / 1000;
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}

/// BFD transmit jitter (RFC 5880 §6.8.7): the range for a detect multiplier above 1 and the
/// range for a multiplier of 1. BFD is not BGP, but whose BFD a router runs goes with whose
/// BGP it runs (BIRD's `bfd` protocol, FRR's `bfdd`), so the profile carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct BfdJitter {
    /// The range used when bfd.DetectMult is above 1.
    pub normal: Jitter,
    /// The range used when bfd.DetectMult is 1.
    pub mult_1: Jitter,
}

impl BfdJitter {
    /// RFC 5880 §6.8.7: "The periodic transmission of BFD Control packets MUST be jittered on
    /// a per-packet basis by up to 25%, that is, the interval MUST be reduced by a random value
    /// of 0 to 25%" and "If bfd.DetectMult is equal to 1, the interval between transmitted BFD
    /// Control packets MUST be no more than 90% of the negotiated transmission interval, and
    /// MUST be no less than 75%".
    pub const RFC5880: Self = Self {
        normal: Jitter::new(750, 1000),
        mult_1: Jitter::new(750, 900),
    };

    /// BIRD 2 (`proto/bfd/bfd.c`, `bfd_session_update_tx_interval`): the transmit timer is
    /// recurrent at 75 % of the interval ("tx_int - (tx_int / 4)") plus a random part up to
    /// 90 % ("tx_int - (tx_int / 10)"), whatever the multiplier: always 75–90 %, the range
    /// §6.8.7 demands only for a multiplier of 1.
    pub const BIRD: Self = Self {
        normal: Jitter::new(750, 900),
        mult_1: Jitter::new(750, 900),
    };

    /// The range in force for a detect multiplier.
    #[must_use]
    pub const fn for_multiplier(self, detect_mult: u8) -> Jitter {
        if detect_mult == 1 {
            self.mult_1
        } else {
            self.normal
        }
    }
}

impl Default for BfdJitter {
    fn default() -> Self {
        Self::RFC5880
    }
}

/// When a best-path change in the BGP table reaches the router's forwarding table (FIB): the
/// route-install latency. Not a BGP timer, but a property of the daemon that runs BGP (how it
/// hands routes to the kernel), so the profile carries it; the speaker does not use it, the
/// simulator that owns the FIB does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RouteInstall {
    /// The FIB changes at the instant of the best-path change.
    Immediate,
    /// Every change reaches the FIB this long after the best-path change.
    After(Duration),
    /// An event loop that runs the work a timer started only at its next wake-up (BIRD 2.0):
    /// a change made from a timer (a stale-route flush; a hold-timer expiry when the session
    /// itself waits for the wake-up, [`HoldExpiry::NextWakeUp`], makes its changes at that
    /// wake-up, so they go in at once) reaches the FIB at the next timer of
    /// the daemon's loop (1 ms after it), at the next BGP input the router receives, or after
    /// `cap`, whichever is first; a change made from input (an UPDATE, a NOTIFICATION, BFD
    /// down, carrier loss) at once.
    NextWakeUp {
        /// The longest the loop sleeps when nothing wakes it.
        cap: Duration,
    },
}

/// When a session acts on its hold timer's expiry: sends the NOTIFICATION (Hold Timer
/// Expired), closes the connection and goes down, so when its peer learns of it and when its
/// routes are withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum HoldExpiry {
    /// At the expiry (RFC 4271 §8.2.2, Event 10: "sends a NOTIFICATION message with the Error
    /// Code Hold Timer Expired ... drops the TCP connection").
    Immediate,
    /// At the daemon's event loop's next wake-up after the expiry (BIRD 2.0): the expiry
    /// stops the keepalives and stops reading the connection at once, but the NOTIFICATION,
    /// the close and the withdrawal are events that run when the loop next wakes: for another
    /// BGP timer of the same daemon, for BGP input on another connection, for an operator's
    /// command, or after `cap` when nothing wakes it. Until then the session still reads as
    /// Established and its routes stay.
    NextWakeUp {
        /// The longest the loop sleeps when nothing wakes it.
        cap: Duration,
    },
}

impl HoldExpiry {
    /// The longest the session can wait after the expiry before it acts (zero for
    /// [`HoldExpiry::Immediate`]).
    #[must_use]
    pub const fn cap(self) -> Duration {
        match self {
            Self::Immediate => Duration::ZERO,
            Self::NextWakeUp { cap } => cap,
        }
    }
}

/// A predicted spread of a duration: every value in `(lo, hi]`, `mean` its expected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Window {
    /// The lower bound (exclusive).
    pub lo: Duration,
    /// The upper bound.
    pub hi: Duration,
    /// The expected value.
    pub mean: Duration,
}

impl Window {
    /// The window shifted later by `d`.
    #[must_use]
    pub fn shifted(self, d: Duration) -> Self {
        Self {
            lo: self.lo + d,
            hi: self.hi + d,
            mean: self.mean + d,
        }
    }

    /// Whether `d` lies in `(lo, hi]`.
    #[must_use]
    pub fn contains(self, d: Duration) -> bool {
        d > self.lo && d <= self.hi
    }
}

/// How the keepalive interval follows the negotiated hold time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum KeepaliveRule {
    /// `min(configured, negotiated / 3)`; a third of the negotiated hold time when nothing is
    /// configured (FRR `bgp_open_receive`: "Set effective keepalive to 1/3 the effective
    /// holdtime. Use configured keepalive when < effective keepalive").
    CappedAtThird,
    /// The configured keepalive scaled by `negotiated / configured hold`, keeping their
    /// proportion; a third of the negotiated hold time when nothing is configured (BIRD 2
    /// documentation, `keepalive time`: "scaled to maintain proportion between the keepalive
    /// time and the hold time").
    ScaledWithHold,
    /// Always a third of the negotiated hold time; a configured keepalive is ignored (Junos has
    /// no keepalive knob: the interval is one third of the hold time).
    ThirdOfHold,
}

impl KeepaliveRule {
    /// The nominal keepalive interval (before jitter) for a negotiated hold time, given the
    /// configured hold time and the configured keepalive (if any). Zero when the negotiated
    /// hold time is zero (RFC 4271 §4.4: "If the negotiated Hold Time interval is zero, then
    /// periodic KEEPALIVE messages MUST NOT be sent"), otherwise at least one second: every
    /// implementation here counts it in whole seconds (BIRD's `bgp_rx_open` raises a value
    /// rounded down to zero to 1 s). Whether the jittered interval may then fall below a
    /// second is the profile's [`keepalive_floor`](Profile::keepalive_floor).
    #[must_use]
    pub fn keepalive(
        self,
        negotiated_hold: Duration,
        configured_hold: Duration,
        configured_keepalive: Option<Duration>,
    ) -> Duration {
        if negotiated_hold.is_zero() {
            return Duration::ZERO;
        }
        let third = negotiated_hold / 3;
        let k = match (self, configured_keepalive) {
            (Self::ThirdOfHold, _) | (_, None) => third,
            (Self::CappedAtThird, Some(k)) => k.min(third),
            (Self::ScaledWithHold, Some(k)) => {
                if configured_hold.is_zero() || negotiated_hold >= configured_hold {
                    k
                } else {
                    let n = u128::from(k.as_nanos()) * u128::from(negotiated_hold.as_nanos())
                        / u128::from(configured_hold.as_nanos());
                    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
                }
            }
        };
        if k.is_zero() {
            // A configured keepalive of zero means "none" in every implementation here.
            return Duration::ZERO;
        }
        k.max(Duration::from_secs(1))
    }
}

/// Automatic restart after the session went down by itself (RFC 4271 §8.1.1
/// DampPeerOscillations / IdleHoldTimer): the session waits in Idle for a delay, which grows
/// with errors; [`RestartRule`] says which downs count as errors and what else moves the delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct IdleHold {
    /// Delay after the first error.
    pub initial: Duration,
    /// Upper bound of the delay.
    pub max: Duration,
    /// Each further error multiplies the delay by this.
    pub factor: u32,
    /// An error this long after the previous one starts again from `initial` (`None`: the
    /// delay is never forgotten by time).
    pub forget: Option<Duration>,
    /// Which downs count, and which restarts wait.
    pub rule: RestartRule,
}

impl IdleHold {
    /// The delay after one more counted error, given the delay in force (zero: none yet) and
    /// the instant of the previous counted error: `initial` when there is no delay yet or the
    /// previous error is `forget` old, otherwise the delay in force times `factor`, at most
    /// `max` (and never below `initial`).
    #[must_use]
    pub fn after_error(self, delay: Duration, previous: Option<Instant>, now: Instant) -> Duration {
        let forgotten = match (previous, self.forget) {
            (Some(at), Some(f)) => now.saturating_duration_since(at) >= f,
            _ => false,
        };
        if forgotten || delay.is_zero() {
            self.initial
        } else {
            delay
                .saturating_mul(u64::from(self.factor))
                .min(self.max)
                .max(self.initial)
        }
    }
}

/// Why a session went down by itself, as far as the restart rules tell downs apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Down {
    /// The peer's NOTIFICATION, with its error code.
    NotificationReceived(ErrorCode),
    /// Our NOTIFICATION, with its error code (hold timer expired 4, FSM error 5, message
    /// errors 1–3).
    NotificationSent(ErrorCode),
    /// BFD declared the path down (RFC 5882 §10.2); the session sends Cease 6/10 (RFC 9384).
    BfdDown,
    /// The TCP connection closed or failed under an open session.
    ConnectionLost,
}

/// Which downs count as errors for the restart delay, which restarts wait for it, and what
/// else resets it: the part of the automatic restart where implementations differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RestartRule {
    /// RFC 4271 §8.1.1 DampPeerOscillations as written: every automatic stop counts ("the
    /// IdleHoldTimer ... increases exponentially" for "persistent peer oscillations") and
    /// every automatic restart waits the delay.
    DampPeerOscillations,
    /// BIRD 2's `error wait time` (`proto/bgp/bgp.c`): only errors move the delay
    /// (`bgp_update_startup_delay`): a NOTIFICATION other than Cease sent (`bgp_error`, e.g.
    /// hold timer expired) or received (`bgp_rx_notification`, `proto/bgp/packets.c`), or BFD
    /// down while Established (`bgp_bfd_notify`). A lost connection (`bgp_sock_err`) or a
    /// Cease does not. Every restart waits the delay then in force (`bgp_initiate` starts the
    /// startup timer whenever `startup_delay` is set): zero until the first error, so after a
    /// lost connection BIRD comes back after its connect delay alone.
    ErrorWait,
    /// FRR 8's start timer `v_start` (`bgpd/bgp_fsm.c`): the delay starts at `initial` and
    /// goes back to it when the session reaches Established (`bgp_establish`: "Clear start
    /// timer value to default") and after a hold-timer expiry or FSM error
    /// (`bgp_stop_with_notify`, which resets it after sending); it doubles up to the maximum
    /// on a NOTIFICATION received in OpenConfirm or Established (`bgp_stop_with_error`) and
    /// on any other NOTIFICATION sent (`bgp_write_notify` in `bgpd/bgp_packet.c`: "Double
    /// start timer"). A lost connection or BFD down (`bgp_stop`) leaves it as it is. Every
    /// restart waits it (`bgp_timer_set`, Idle: the start timer runs with `v_start`).
    StartTimer,
}

/// A named set of timer behaviours of one implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Profile {
    /// The name used in scenario files (`rfc4271`, `bird`, `frr`, `cisco-ios`, `junos`).
    pub name: &'static str,
    /// Hold time advertised in OPEN when the scenario does not set one.
    pub hold_time: Duration,
    /// Keepalive interval configured when the scenario does not set one (`None`: derived from
    /// the negotiated hold time by `keepalive_rule`).
    pub keepalive: Option<Duration>,
    /// How the keepalive follows the negotiated hold time.
    pub keepalive_rule: KeepaliveRule,
    /// ConnectRetryTime.
    pub connect_retry: Duration,
    /// Delay from a start (or an automatic restart) to the first connection attempt (zero:
    /// connect at once).
    pub connect_delay: Duration,
    /// The shortest connect delay the implementation uses, whatever is configured.
    pub min_connect_delay: Duration,
    /// The hold timer while in OpenSent (`None`: the configured hold time).
    pub open_sent_hold: Option<Duration>,
    /// MinRouteAdvertisementIntervalTimer for external peers.
    pub mrai_ebgp: Duration,
    /// MinRouteAdvertisementIntervalTimer for internal peers.
    pub mrai_ibgp: Duration,
    /// DelayOpenTime when DelayOpen is enabled.
    pub delay_open: Duration,
    /// Automatic restart after the session went down by itself.
    pub idle_hold: IdleHold,
    /// Jitter of the keepalive timer.
    pub keepalive_jitter: Jitter,
    /// The shortest gap between two KEEPALIVEs, applied after `keepalive_jitter`: a jittered
    /// interval shorter than this runs for this long instead. Zero: no floor, the jittered
    /// interval as drawn.
    pub keepalive_floor: Duration,
    /// Jitter of the hold timer (each time it is restarted).
    pub hold_jitter: Jitter,
    /// Jitter of the ConnectRetry timer.
    pub connect_retry_jitter: Jitter,
    /// Jitter of the MRAI timer.
    pub mrai_jitter: Jitter,
    /// Jitter of the IdleHold (automatic restart) timer.
    pub idle_hold_jitter: Jitter,
    /// Jitter of the BFD transmit interval, for a router whose BFD sessions follow this
    /// profile (the owner copies it into `bfd::Config::tx_jitter`).
    pub bfd_tx_jitter: BfdJitter,
    /// When best-path changes reach the router's FIB.
    pub route_install: RouteInstall,
    /// When the session acts on a hold-timer expiry (its NOTIFICATION, its close, its routes).
    pub hold_expiry: HoldExpiry,
    /// Graceful restart (RFC 4724) announced and helped with when the scenario does not say:
    /// `None` in every built-in profile for now (see each profile's notes for what the real
    /// implementation does by default). Opt-in keeps every existing prediction as it was; a
    /// scenario turns it on per router (`graceful_restart`).
    pub graceful_restart: Option<GracefulRestart>,
}

/// Graceful restart as a router runs it: the capability it announces (RFC 4724 §3, RFC 8538
/// §2) and, when the peer announces it too, the helper (Receiving Speaker) behaviour of RFC
/// 4724 §4.2. Modelled as `bgp graceful-restart` (FRR, Cisco) or `graceful restart on`
/// (BIRD): every family is listed with Forwarding State set, so the peer keeps this router's
/// routes too. A helper-only router (FRR's default helper mode, BIRD's `aware`) lists no
/// family, so its peers keep nothing of it: not modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct GracefulRestart {
    /// The Restart Time announced: how long the peer keeps this router's routes after it lost
    /// the session (12 bits of seconds).
    pub restart_time: Duration,
    /// The N bit (RFC 8538): NOTIFICATIONs and hold-timer expiries handled gracefully too.
    pub notification: bool,
}

/// The name → profile table behind [`Profile::by_name`].
const ALL: [Profile; 5] = [
    Profile::RFC4271,
    Profile::BIRD,
    Profile::FRR,
    Profile::CISCO_IOS,
    Profile::JUNOS,
];

/// A profile name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown timer profile `{0}`: expected one of rfc4271, bird, frr, cisco-ios, junos")]
pub struct UnknownProfile(pub String);

impl Profile {
    /// **`rfc4271`**: the RFC's text, nothing more.
    ///
    /// - Hold time 90 s, keepalive a third of it (RFC 4271 §10: "HoldTime ... suggested value
    ///   ... 90 seconds", "KeepaliveTime ... suggested value ... 1/3 of HoldTime").
    /// - A configured keepalive above a third of the negotiated hold time is capped at a third
    ///   (§4.4: "A reasonable maximum time between KEEPALIVE messages would be one third of the
    ///   Hold Time interval").
    /// - ConnectRetryTime 120 s (§10), connect at once on start (§8.2.2 Idle, Event 1).
    /// - OpenSent hold 4 minutes (§8.2.2: "sets the HoldTimer to a large value ... A HoldTimer
    ///   value of 4 minutes is suggested").
    /// - MRAI 30 s eBGP, 5 s iBGP (§10); DelayOpenTime 120 s (no RFC value; FRR's
    ///   `BGP_DEFAULT_DELAYOPEN`).
    /// - Jitter 0.75–1.0 on keepalive, ConnectRetry and MRAI; the hold timer is not jittered
    ///   (§10, quoted on [`Jitter::RFC4271`]).
    /// - Keepalive floor 1 s after jitter (§4.4: "KEEPALIVE messages MUST NOT be sent more
    ///   frequently than one per second"). §10 makes jitter a SHOULD and §4.4 a MUST, so where
    ///   the two meet the MUST wins: a jittered interval below 1 s runs for 1 s. At a keepalive
    ///   of 1 s every interval is exactly 1 s; at 3 s they spread over [2.25 s, 3 s] as §10
    ///   suggests.
    /// - Automatic restart by §8.1.1 DampPeerOscillations ([`RestartRule::DampPeerOscillations`]:
    ///   every automatic stop counts). The RFC gives no IdleHoldTime: **assumption** 5 s
    ///   doubling to 120 s, forgotten after 300 s, not jittered; no connect delay (§8.2.2 Idle,
    ///   Event 3: "initiates a TCP connection").
    /// - BFD transmit jitter as RFC 5880 §6.8.7 ([`BfdJitter::RFC5880`]).
    /// - Routes reach the FIB at once ([`RouteInstall::Immediate`]): the RFC says nothing about
    ///   the forwarding table's timing.
    /// - Graceful restart off unless the scenario turns it on (RFC 4724 makes it optional).
    pub const RFC4271: Self = Self {
        name: "rfc4271",
        hold_time: Duration::from_secs(90),
        keepalive: None,
        keepalive_rule: KeepaliveRule::CappedAtThird,
        connect_retry: Duration::from_secs(120),
        connect_delay: Duration::ZERO,
        min_connect_delay: Duration::ZERO,
        open_sent_hold: Some(Duration::from_mins(4)),
        mrai_ebgp: Duration::from_secs(30),
        mrai_ibgp: Duration::from_secs(5),
        delay_open: Duration::from_secs(120),
        idle_hold: IdleHold {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(120),
            factor: 2,
            forget: Some(Duration::from_secs(300)),
            rule: RestartRule::DampPeerOscillations,
        },
        keepalive_jitter: Jitter::RFC4271,
        keepalive_floor: Duration::from_secs(1),
        hold_jitter: Jitter::NONE,
        connect_retry_jitter: Jitter::RFC4271,
        mrai_jitter: Jitter::RFC4271,
        idle_hold_jitter: Jitter::NONE,
        bfd_tx_jitter: BfdJitter::RFC5880,
        route_install: RouteInstall::Immediate,
        hold_expiry: HoldExpiry::Immediate,
        graceful_restart: None,
    };

    /// **`bird`**: BIRD 2.
    ///
    /// - Every BGP timer, the hold timer included, is started through `bgp_start_timer`
    ///   (BIRD `proto/bgp/bgp.c`, `bgp_start_timer`: "randomization suggested by the BGP
    ///   standard. Please use it for all BGP timers"; it subtracts a random amount up to a
    ///   quarter): `bgp_rx_open` (`proto/bgp/packets.c`) restarts the hold timer with it and
    ///   `bgp_fire_tx` (same file) the keepalive timer after each KEEPALIVE sent. So
    ///   keepalive, hold, ConnectRetry and the error-wait timer all run 0.75–1.0 of nominal.
    ///   This widens silent-failure detection to about (0.75·H − K, H].
    /// - No keepalive floor: `bgp_start_timer` subtracts its random quarter from the
    ///   keepalive time whatever it is, and `bgp_rx_open` (`proto/bgp/packets.c`) only keeps
    ///   the effective keepalive time from rounding down to zero ("Keepalive time might be
    ///   rounded down to zero": it becomes 1 s). So at a keepalive of 1 s BIRD sends every
    ///   0.75–1.0 s.
    /// - Defaults from the BIRD 2 user's guide, BGP protocol options
    ///   (<https://bird.network.cz/?get_doc&v=20&f=bird-6.html#bgp>, source `doc/bird.sgml`):
    ///   `hold time` 240 s, `startup hold time` 240 s (the OpenSent hold), `keepalive time` a
    ///   third of the hold time and otherwise "scaled to maintain proportion between the
    ///   keepalive time and the hold time" ([`KeepaliveRule::ScaledWithHold`]),
    ///   `connect delay time` 5 s, `connect retry time` 120 s, `error wait time` 60, 300 and
    ///   `error forget time` 300 s (the same defaults in `proto/bgp/config.Y`).
    /// - Restart ([`RestartRule::ErrorWait`]): `bgp_update_startup_delay`
    ///   (`proto/bgp/bgp.c`) sets the delay to the `error wait time` minimum on an error,
    ///   doubles it on each further one up to the maximum, and forgets it when the previous
    ///   error is `error forget time` old; `bgp_initiate` waits it (jittered by
    ///   `bgp_start_timer`), then `bgp_active` waits the connect delay, at least 1 s ("MAX(1,
    ///   p->cf->connect_delay_time)", jittered too), before `bgp_connect`. So after a hold-timer
    ///   expiry the next OPEN goes out 48.75–65 s later with the defaults, after a lost
    ///   connection 3.75–5 s later (until an error has set a delay). During the error wait
    ///   incoming connections are refused (`bgp_incoming_connection` accepts only from
    ///   `BSS_CONNECT` on), as in Idle here.
    /// - No MRAI: BIRD has no MinRouteAdvertisementInterval option (none in the BGP options of
    ///   the guide above), so updates go out at once (MRAI 0). DelayOpen is not implemented by
    ///   BIRD; 120 s is kept for scenarios that enable it anyway (**assumption**).
    /// - BFD transmit jitter 75–90 % whatever the multiplier ([`BfdJitter::BIRD`], from
    ///   `proto/bfd/bfd.c`).
    /// - Route installation ([`RouteInstall::NextWakeUp`], cap 3 s): `io_loop`
    ///   (`sysdep/unix/io.c`) runs the queued events, then fires the timers, then sleeps in
    ///   `poll` for "(events ? 0 : 3000)" ms, or until the first timer ("tm_remains(t) TO_MS +
    ///   1"), or until a socket is ready. A timer hook only schedules events (`bgp_stop` →
    ///   `ev_schedule`, the channel flush and the kernel protocol's update after it), and
    ///   `events` was computed before the timers fired, so they run after the next wake-up:
    ///   a route change a BGP timer makes (graceful restart's stale-route flush) moves the
    ///   FIB hundreds of milliseconds to 3 s later. A hold-timer expiry goes further: the
    ///   session itself waits for the wake-up (next item), and its withdrawal runs in that
    ///   same wake-up, with its NOTIFICATION (measured: the kernel route moves a few
    ///   milliseconds after BIRD's NOTIFICATION). BFD runs its own loop (`proto/bfd/bfd.c`,
    ///   `birdloop_new`) and wakes the main loop when a session goes down, and input arrives
    ///   on sockets, so those changes run at once. The daemon's other timers (the device and
    ///   kernel protocols' `scan time`, 60 s by default, `sysdep/unix/krt.c`) are not
    ///   modelled as wake-ups; its BGP sessions' timers are.
    /// - Hold-timer expiry acted on at the loop's next wake-up ([`HoldExpiry::NextWakeUp`],
    ///   cap 3 s), for the same reason: `bgp_hold_timeout` (`proto/bgp/bgp.c`) runs from
    ///   `timers_fire` and calls `bgp_error`, which at once enters the close state
    ///   (`bgp_conn_enter_close_state`: keepalive timer stopped, `rx_hook = NULL`, so the
    ///   connection is no longer polled for input, the hold timer re-armed for 10 s) and only
    ///   schedules the rest: the NOTIFICATION through `bgp_schedule_packet`
    ///   (`proto/bgp/packets.c`: `ev_schedule(conn->tx_ev)`) and the protocol's stop through
    ///   `bgp_stop`. `io_loop` computed `events` before it fired the timers, so it sleeps
    ///   `MIN(3000 ms, next timer + 1 ms)` first; with one BGP session nothing else is armed
    ///   within 3 s (its keepalive is stopped; the device and kernel protocols scan every
    ///   60 s, `scan time`, not modelled), so the NOTIFICATION leaves and the route moves 3 s
    ///   after the expiry. Measured against BIRD 2.0.12 (keepalive 1 s / hold 3 s, 30 silent
    ///   failures, the interop suite): detection 4.39–5.79 s after the silence, mean 5.10 s,
    ///   against 2.125 s for the expiry alone and 5.125 s with the wake-up
    ///   ([`Profile::hold_detection_window`]). A router with other sessions wakes sooner, at
    ///   their next BGP timer or input (the speaker wakes its waiting sessions then).
    /// - Not modelled: `bgp_hold_timeout` restarts the hold timer for 10 s when unread input is
    ///   queued on the socket; a sans-IO session always processes its input first.
    /// - Graceful restart off unless the scenario turns it on. Real BIRD 2 is `graceful
    ///   restart aware` by default (BIRD 2 user's guide, BGP `graceful restart`; time 120 s):
    ///   it helps a peer that lists its families but lists none itself. It has no N bit
    ///   (RFC 8538), so a hold-timer expiry withdraws at once (`proto/bgp/bgp.c`
    ///   `bgp_hold_timeout` calls `bgp_error` unless long-lived graceful restart is ready).
    pub const BIRD: Self = Self {
        name: "bird",
        hold_time: Duration::from_secs(240),
        keepalive: None,
        keepalive_rule: KeepaliveRule::ScaledWithHold,
        connect_retry: Duration::from_secs(120),
        connect_delay: Duration::from_secs(5),
        min_connect_delay: Duration::from_secs(1),
        open_sent_hold: Some(Duration::from_secs(240)),
        mrai_ebgp: Duration::ZERO,
        mrai_ibgp: Duration::ZERO,
        delay_open: Duration::from_secs(120),
        idle_hold: IdleHold {
            initial: Duration::from_secs(60),
            max: Duration::from_secs(300),
            factor: 2,
            forget: Some(Duration::from_secs(300)),
            rule: RestartRule::ErrorWait,
        },
        keepalive_jitter: Jitter::RFC4271,
        keepalive_floor: Duration::ZERO,
        hold_jitter: Jitter::RFC4271,
        connect_retry_jitter: Jitter::RFC4271,
        mrai_jitter: Jitter::NONE,
        idle_hold_jitter: Jitter::RFC4271,
        bfd_tx_jitter: BfdJitter::BIRD,
        route_install: RouteInstall::NextWakeUp {
            cap: Duration::from_secs(3),
        },
        hold_expiry: HoldExpiry::NextWakeUp {
            cap: Duration::from_secs(3),
        },
        graceful_restart: None,
    };

    /// **`frr`**: FRRouting bgpd with `frr defaults traditional`.
    ///
    /// - Hold 180 s, keepalive 60 s, ConnectRetry 120 s: `bgpd/bgpd.h`
    ///   (`BGP_DEFAULT_HOLDTIME`, `BGP_DEFAULT_KEEPALIVE`, `BGP_DEFAULT_CONNECT_RETRY`, set per
    ///   defaults profile in `bgpd/bgp_vty.c`; the `datacenter` profile uses 3/9/10 instead).
    /// - Keepalive: `bgpd/bgp_packet.c` `bgp_open_receive` sets it to a third of the negotiated
    ///   hold time and uses the configured one only when smaller
    ///   ([`KeepaliveRule::CappedAtThird`]).
    /// - No jitter on keepalive, hold or ConnectRetry: `bgpd/bgp_fsm.c` `bgp_timer_set` starts
    ///   `t_connect` with `v_connect` and `t_holdtime` with `v_holdtime` as they are, and
    ///   keepalives are sent at a fixed `v_keepalive` by `bgpd/bgp_keepalives.c`.
    /// - No keepalive floor beyond the whole-second `v_keepalive`: the keepalive pthread
    ///   (`bgpd/bgp_keepalives.c`, `peer_process`) sends when `v_keepalive` has elapsed since
    ///   the last KEEPALIVE, so at 1 s FRR sends every second. Not modelled: the same function
    ///   also sends up to 100 ms early (its `tolerance`) when the thread happens to wake for
    ///   another peer's keepalive within that margin; with a single session the thread wakes
    ///   only at this session's deadline, and with several their keepalives fall into step.
    /// - OpenSent hold: `bgp_timer_set` (case OpenSent) arms the hold timer with the configured
    ///   hold time, not 4 minutes.
    /// - Restart ([`RestartRule::StartTimer`]): the start timer `v_start` begins at
    ///   `BGP_INIT_START_TIMER` (1 s, `bgpd/bgpd.h`), doubles up to 120 s ("Overflow check" in
    ///   `bgp_stop_with_error`) on the errors listed there, and is back at 1 s after every
    ///   Established and after a hold-timer expiry, so FRR 8 restarts about 1 s after a hold
    ///   expiry however often it happens; not jittered (`BGP_TIMER_ON`), never forgotten by
    ///   time. When it expires, `bgp_start` connects at once (no connect delay).
    /// - MRAI 0 for eBGP and iBGP (`BGP_DEFAULT_EBGP_ROUTEADV`, `BGP_DEFAULT_IBGP_ROUTEADV` in
    ///   `bgpd/bgpd.h`); DelayOpenTime 120 s (`BGP_DEFAULT_DELAYOPEN`).
    /// - BFD transmit jitter as RFC 5880 §6.8.7: `bfdd/bfd.c` `ptm_bfd_start_xmt_timer` draws
    ///   75 % plus a random 0–25 % (0–15 % with a multiplier of 1) of the interval, in whole
    ///   percent; the model draws the same ranges continuously.
    /// - Route installation 70 ms after the change ([`RouteInstall::After`]), the holds of the
    ///   three work queues a session loss passes through (`lib/workqueue.c`
    ///   `work_queue_schedule` runs a queue `spec.hold` ms after its first item): the peer's
    ///   clear queue, 10 ms (`bgpd/bgp_route.c`, `clear_node_queue->spec.hold = 10`), bgpd's
    ///   route processing, 50 ms (`bgp_process_queue_init`: `spec.hold = 50`), zebra's RIB
    ///   queue, 10 ms (`ZEBRA_RIB_PROCESS_HOLD_TIME`, `zebra/zebra_router.h`), then the data
    ///   plane thread writes the kernel route. The same after a hold expiry and after BFD down
    ///   (both go through `bgp_stop`); a change learned by UPDATE skips the clear queue (60 ms
    ///   in FRR, 70 ms here). Processing time is not modelled.
    /// - Graceful restart off unless the scenario turns it on. Real FRR is a helper by default
    ///   (global helper mode; `BGP_DEFAULT_RESTART_TIME` 120 s and
    ///   `BGP_DEFAULT_STALEPATH_TIME` 360 s in `bgpd/bgpd.h`) but lists no family unless
    ///   `bgp graceful-restart` is configured; recent versions carry the N bit (`bgp
    ///   graceful-restart notification`, `bgp_has_graceful_restart_notification` checks it
    ///   sent and received), whose default was not checked here. Opt-in here so that existing
    ///   scenarios keep their predictions.
    pub const FRR: Self = Self {
        name: "frr",
        hold_time: Duration::from_secs(180),
        keepalive: Some(Duration::from_secs(60)),
        keepalive_rule: KeepaliveRule::CappedAtThird,
        connect_retry: Duration::from_secs(120),
        connect_delay: Duration::ZERO,
        min_connect_delay: Duration::ZERO,
        open_sent_hold: None,
        mrai_ebgp: Duration::ZERO,
        mrai_ibgp: Duration::ZERO,
        delay_open: Duration::from_secs(120),
        idle_hold: IdleHold {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(120),
            factor: 2,
            forget: None,
            rule: RestartRule::StartTimer,
        },
        keepalive_jitter: Jitter::NONE,
        keepalive_floor: Duration::ZERO,
        hold_jitter: Jitter::NONE,
        connect_retry_jitter: Jitter::NONE,
        mrai_jitter: Jitter::NONE,
        idle_hold_jitter: Jitter::NONE,
        bfd_tx_jitter: BfdJitter::RFC5880,
        route_install: RouteInstall::After(Duration::from_millis(70)),
        hold_expiry: HoldExpiry::Immediate,
        graceful_restart: None,
    };

    /// **`cisco-ios`**: Cisco IOS / IOS XE.
    ///
    /// - Documented: keepalive 60 s and hold 180 s by default (`timers bgp` / `neighbor
    ///   timers`, Cisco IOS command reference; "Cisco IOS in a Nutshell", `timers bgp`), and the
    ///   Azure MSEE (a Cisco-class edge) uses the same 60/180 (domain.md).
    /// - MRAI 30 s eBGP, 0 s iBGP (`neighbor advertisement-interval` defaults in the IOS
    ///   command reference).
    /// - **Assumptions** (no public source states them): keepalive capped at a third of the
    ///   negotiated hold time; RFC jitter 0.75–1.0 on keepalive, ConnectRetry and MRAI, none on
    ///   hold; the keepalive floor of 1 s of `rfc4271` (§4.4); ConnectRetry 120 s; OpenSent
    ///   hold 4 min; IdleHold as `rfc4271`; BFD transmit jitter as RFC 5880 §6.8.7; routes in
    ///   the FIB at once (a hardware FIB's per-prefix programming time is not modelled).
    /// - Graceful restart off unless the scenario turns it on (`bgp graceful-restart` is off by
    ///   default; restart time 120 s, stale-path time 360 s by default).
    pub const CISCO_IOS: Self = Self {
        name: "cisco-ios",
        hold_time: Duration::from_secs(180),
        keepalive: Some(Duration::from_secs(60)),
        keepalive_rule: KeepaliveRule::CappedAtThird,
        connect_retry: Duration::from_secs(120),
        connect_delay: Duration::ZERO,
        min_connect_delay: Duration::ZERO,
        open_sent_hold: Some(Duration::from_mins(4)),
        mrai_ebgp: Duration::from_secs(30),
        mrai_ibgp: Duration::ZERO,
        delay_open: Duration::from_secs(120),
        idle_hold: Self::RFC4271.idle_hold,
        keepalive_jitter: Jitter::RFC4271,
        keepalive_floor: Duration::from_secs(1),
        hold_jitter: Jitter::NONE,
        connect_retry_jitter: Jitter::RFC4271,
        mrai_jitter: Jitter::RFC4271,
        idle_hold_jitter: Jitter::NONE,
        bfd_tx_jitter: BfdJitter::RFC5880,
        route_install: RouteInstall::Immediate,
        hold_expiry: HoldExpiry::Immediate,
        graceful_restart: None,
    };

    /// **`junos`**: Juniper Junos OS.
    ///
    /// - Documented: `hold-time` defaults to 90 s and keepalives are sent at one third of the
    ///   hold time, with no separate keepalive setting (Junos BGP configuration guide,
    ///   `hold-time` statement) — [`KeepaliveRule::ThirdOfHold`]. `out-delay` (Junos's route
    ///   advertisement delay) defaults to 0, so MRAI is 0.
    /// - **Assumptions**: RFC jitter 0.75–1.0 on keepalive and ConnectRetry, none on hold; the
    ///   keepalive floor of 1 s of `rfc4271` (§4.4); ConnectRetry 120 s; OpenSent hold 4 min;
    ///   IdleHold as `rfc4271`; BFD transmit jitter as RFC 5880 §6.8.7; routes in the FIB at
    ///   once (a hardware FIB's per-prefix programming time is not modelled).
    /// - Graceful restart off unless the scenario turns it on (Junos `graceful-restart`:
    ///   "Graceful restart is disabled by default"; BGP helper mode without it since Junos 9.2,
    ///   restart time 120 s).
    pub const JUNOS: Self = Self {
        name: "junos",
        hold_time: Duration::from_secs(90),
        keepalive: None,
        keepalive_rule: KeepaliveRule::ThirdOfHold,
        connect_retry: Duration::from_secs(120),
        connect_delay: Duration::ZERO,
        min_connect_delay: Duration::ZERO,
        open_sent_hold: Some(Duration::from_mins(4)),
        mrai_ebgp: Duration::ZERO,
        mrai_ibgp: Duration::ZERO,
        delay_open: Duration::from_secs(120),
        idle_hold: Self::RFC4271.idle_hold,
        keepalive_jitter: Jitter::RFC4271,
        keepalive_floor: Duration::from_secs(1),
        hold_jitter: Jitter::NONE,
        connect_retry_jitter: Jitter::RFC4271,
        mrai_jitter: Jitter::NONE,
        idle_hold_jitter: Jitter::NONE,
        bfd_tx_jitter: BfdJitter::RFC5880,
        route_install: RouteInstall::Immediate,
        hold_expiry: HoldExpiry::Immediate,
        graceful_restart: None,
    };

    /// Every built-in profile, in a fixed order.
    #[must_use]
    pub const fn all() -> &'static [Self] {
        &ALL
    }

    /// Draws the gap until the next KEEPALIVE for a nominal keepalive interval `k`: `k`
    /// jittered by [`keepalive_jitter`](Self::keepalive_jitter), raised to
    /// [`keepalive_floor`](Self::keepalive_floor).
    pub fn keepalive_interval(&self, k: Duration, rng: &mut impl RngCore) -> Duration {
        self.keepalive_jitter
            .apply(k, rng)
            .max(self.keepalive_floor)
    }

    /// The shortest and the longest gap [`keepalive_interval`](Self::keepalive_interval) can
    /// draw for a nominal keepalive interval `k`.
    #[must_use]
    pub fn keepalive_bounds(&self, k: Duration) -> (Duration, Duration) {
        (
            self.keepalive_jitter
                .lower_bound(k)
                .max(self.keepalive_floor),
            self.keepalive_jitter
                .upper_bound(k)
                .max(self.keepalive_floor),
        )
    }

    /// When this profile's hold timer expires after its peer falls silent, measured from the
    /// silence, given a negotiated hold time `hold` and a silent peer that sent a KEEPALIVE
    /// every `keepalive` exactly until then (the silence at a uniformly random phase of
    /// them): `H·u − A`, `u` the hold timer's jitter factor (drawn when the last KEEPALIVE
    /// arrived, uniform in [`hold_jitter`](Self::hold_jitter)'s range), `A` the age of that
    /// KEEPALIVE, uniform in `[0, K)`. Window `(lower(H) − K, upper(H)]`, mean
    /// `(lower(H) + upper(H))/2 − K/2`.
    #[must_use]
    pub fn hold_expiry_window(&self, hold: Duration, keepalive: Duration) -> Window {
        let lower = self.hold_jitter.lower_bound(hold);
        let upper = self.hold_jitter.upper_bound(hold);
        Window {
            lo: lower.saturating_sub(keepalive),
            hi: upper,
            mean: ((lower + upper) / 2).saturating_sub(keepalive / 2),
        }
    }

    /// When this profile's router acts on that expiry (its NOTIFICATION leaves, its routes
    /// go), measured from the silence, on a router with nothing else to wake its loop (one
    /// BGP session): [`hold_expiry_window`](Self::hold_expiry_window) shifted by
    /// [`HoldExpiry::cap`] (zero unless the profile waits for a wake-up). A router whose loop
    /// wakes sooner (other sessions' timers or input) acts earlier, down to the expiry
    /// itself.
    #[must_use]
    pub fn hold_detection_window(&self, hold: Duration, keepalive: Duration) -> Window {
        self.hold_expiry_window(hold, keepalive)
            .shifted(self.hold_expiry.cap())
    }

    /// The built-in profile with this name.
    ///
    /// # Errors
    ///
    /// [`UnknownProfile`] naming the accepted names.
    pub fn by_name(name: &str) -> Result<Self, UnknownProfile> {
        ALL.iter()
            .find(|p| p.name == name)
            .copied()
            .ok_or_else(|| UnknownProfile(name.to_owned()))
    }
}

impl Default for Profile {
    fn default() -> Self {
        Self::RFC4271
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn scale_is_exact_on_both_sides_of_the_64_bit_product() {
        // The 128-bit formula, saturating like `scale`.
        let exact = |n: u64, p: u16| {
            u64::try_from(u128::from(n) * u128::from(p) / 1000).unwrap_or(u64::MAX)
        };
        for n in [
            0,
            1,
            999,
            60_000_000_007,
            u64::MAX / 1000,
            u64::MAX / 999,
            u64::MAX,
        ] {
            for p in [0, 1, 750, 999, 1000, u16::MAX] {
                assert_eq!(
                    scale(Duration::from_nanos(n), p).as_nanos(),
                    exact(n, p),
                    "{n} x {p}"
                );
            }
        }
    }

    #[test]
    fn jitter_stays_within_bounds_and_spreads() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let d = Duration::from_secs(60);
        let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
        for _ in 0..10_000 {
            let x = Jitter::RFC4271.apply(d, &mut rng);
            assert!(x >= Duration::from_secs(45) && x <= d, "{x:?}");
            lo = lo.min(x);
            hi = hi.max(x);
        }
        // Uniform over 15 s: 10 000 draws reach within 0.1 s of both ends.
        assert!(lo < Duration::from_millis(45_100), "{lo:?}");
        assert!(hi > Duration::from_millis(59_900), "{hi:?}");
    }

    #[test]
    fn no_jitter_is_exact() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let d = Duration::from_secs(180);
        assert_eq!(Jitter::NONE.apply(d, &mut rng), d);
    }

    #[test]
    fn keepalive_defaults_to_a_third_of_negotiated_hold() {
        for rule in [
            KeepaliveRule::CappedAtThird,
            KeepaliveRule::ScaledWithHold,
            KeepaliveRule::ThirdOfHold,
        ] {
            let k = rule.keepalive(Duration::from_secs(9), Duration::from_secs(180), None);
            assert_eq!(k, Duration::from_secs(3), "{rule:?}");
        }
    }

    #[test]
    fn keepalive_zero_when_hold_zero() {
        let k = KeepaliveRule::CappedAtThird.keepalive(
            Duration::ZERO,
            Duration::from_secs(180),
            Some(Duration::from_secs(60)),
        );
        assert_eq!(k, Duration::ZERO);
    }

    #[test]
    fn frr_caps_configured_keepalive_at_a_third() {
        // Configured 60/180, peer offers 9: FRR sends every 3 s.
        let k = KeepaliveRule::CappedAtThird.keepalive(
            Duration::from_secs(9),
            Duration::from_secs(180),
            Some(Duration::from_secs(60)),
        );
        assert_eq!(k, Duration::from_secs(3));
        // A configured keepalive below a third is kept.
        let k = KeepaliveRule::CappedAtThird.keepalive(
            Duration::from_secs(90),
            Duration::from_secs(90),
            Some(Duration::from_secs(10)),
        );
        assert_eq!(k, Duration::from_secs(10));
    }

    #[test]
    fn bird_scales_configured_keepalive_with_hold() {
        // Configured 80/240, peer offers 30: 80 × 30 / 240 = 10 s.
        let k = KeepaliveRule::ScaledWithHold.keepalive(
            Duration::from_secs(30),
            Duration::from_secs(240),
            Some(Duration::from_secs(80)),
        );
        assert_eq!(k, Duration::from_secs(10));
    }

    #[test]
    fn junos_ignores_configured_keepalive() {
        let k = KeepaliveRule::ThirdOfHold.keepalive(
            Duration::from_secs(90),
            Duration::from_secs(90),
            Some(Duration::from_secs(10)),
        );
        assert_eq!(k, Duration::from_secs(30));
    }

    #[test]
    fn keepalive_never_below_one_second() {
        let k = KeepaliveRule::CappedAtThird.keepalive(
            Duration::from_secs(3),
            Duration::from_secs(3),
            Some(Duration::from_millis(200)),
        );
        assert_eq!(k, Duration::from_secs(1));
    }

    #[test]
    fn keepalive_floor_is_the_profiles() {
        let k = Duration::from_secs(1);
        let ms = Duration::from_millis;
        // RFC 4271 §4.4's one-per-second MUST over §10's jitter; BIRD's `bgp_start_timer`
        // without a floor; FRR's unjittered keepalive thread.
        assert_eq!(Profile::RFC4271.keepalive_bounds(k), (k, k));
        assert_eq!(Profile::BIRD.keepalive_bounds(k), (ms(750), k));
        assert_eq!(Profile::FRR.keepalive_bounds(k), (k, k));
        // Above the floor the jitter shows in every profile that has it.
        assert_eq!(
            Profile::RFC4271.keepalive_bounds(Duration::from_secs(3)),
            (ms(2250), Duration::from_secs(3))
        );
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..1000 {
            assert_eq!(Profile::RFC4271.keepalive_interval(k, &mut rng), k);
            let x = Profile::BIRD.keepalive_interval(k, &mut rng);
            assert!(x >= ms(750) && x <= k, "{x}");
        }
    }

    #[test]
    fn profiles_found_by_name() {
        for p in Profile::all() {
            assert_eq!(Profile::by_name(p.name), Ok(*p));
        }
        assert_eq!(
            Profile::by_name("quagga"),
            Err(UnknownProfile("quagga".to_owned()))
        );
    }

    #[test]
    fn only_bird_waits_for_a_wake_up_to_act_on_a_hold_expiry() {
        let (h, k) = (Duration::from_secs(3), Duration::from_secs(1));
        let ms = Duration::from_millis;
        for p in Profile::all() {
            let expiry = p.hold_expiry_window(h, k);
            let detection = p.hold_detection_window(h, k);
            if p.name == "bird" {
                // (0.75 H − K, H] = (1.25 s, 3 s], mean 2.125 s; acted on 3 s later.
                assert_eq!((expiry.lo, expiry.hi, expiry.mean), (ms(1250), h, ms(2125)));
                assert_eq!(detection, expiry.shifted(Duration::from_secs(3)));
            } else {
                // (H − K, H] = (2 s, 3 s], mean 2.5 s, acted on at once.
                assert_eq!((expiry.lo, expiry.hi, expiry.mean), (ms(2000), h, ms(2500)));
                assert_eq!(detection, expiry, "{}", p.name);
            }
        }
        assert!(Window::contains(
            Profile::BIRD.hold_detection_window(h, k),
            ms(4300)
        ));
        assert!(!Profile::BIRD.hold_detection_window(h, k).contains(ms(4250)));
    }

    #[test]
    fn only_bird_jitters_the_hold_timer() {
        for p in Profile::all() {
            assert_eq!(
                p.hold_jitter != Jitter::NONE,
                p.name == "bird",
                "{}",
                p.name
            );
        }
    }
}
