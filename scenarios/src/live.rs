//! `holdtime live`: routers of a scenario's topology, played for real over TCP.
//!
//! `--role` chooses which routers: `msee` the MSEE pair (msee1 on the circuit's primary
//! link, msee2 on the secondary), `vpn-gateway` the Azure VPN gateway, `ce` the customer
//! edge routers. Each endpoint given (`--listen` or `--connect`, one per router, in order)
//! plays the next router of the role, so `--role msee --listen A --listen B` plays both
//! MSEEs, msee1 on `A` and msee2 on `B`, and a single endpoint plays the first router only.
//! Each router is configured exactly as the simulator configures it (ASN, timers, profile,
//! max-prefix, export policy; `sim::router`), with the prefixes its sessions announce
//! originated, plus what its idle sessions would have brought (the VNet prefixes for the
//! Azure roles, the on-premises prefixes for the CE). One session per router, its first
//! customer-facing one (a peering for `msee` and `ce`, the tunnel session for
//! `vpn-gateway`), is carried by its own [`bgp::live::Driver`] to the real peer; the router's
//! other sessions stay Idle. The drivers share one clock and one printer, so the events of
//! both MSEEs print in order, each line naming its router and session, in `holdtime run`'s
//! timeline vocabulary.
//!
//! Faults come from `--fault "30s silent primary"` (time since start, kind, and optionally
//! which session: a router name, a session name, or one of the dot-separated words of a
//! session name such as `primary`; `all` or nothing means every played session) and from
//! standard input lines (`silent primary`, `down`, `restore all`). The summary puts, per
//! session, each measured detection next to the window the timer profile predicts: the hold
//! timer expires in `(lower(H) − K, upper(H)]` after the silence, where `H` is the
//! negotiated hold time, `K` the keepalive interval of the other side (its last keepalive
//! arrived up to `K` before the silence), and `lower`/`upper` the profile's hold jitter:
//! `(H − K, H]` for rfc4271, `(0.75H − K, H]` for bird. Ours is our hold timer expiring; the
//! peer's is the moment it closed the silenced connection
//! ([`LiveEventKind::PeerClosedUnseen`]), predicted with `--peer-profile` (default: the
//! topology's profile of the other end). The failover as seen by the peer is that same
//! moment: from then on its only routes to the VNet prefixes are those of the played
//! sessions still Established, which the summary names.
//!
//! BFD: when the scenario's peering runs BFD (both ends have it, e.g. the `bfd` scenario),
//! the driver carries it over UDP port 3784 between the addresses of the BGP connection
//! (RFC 5881; see `bgp::live::bfd_udp`), and BFD down takes the BGP session down as in the
//! simulator. The summary adds our BFD detection after a `silent` fault, predicted from the
//! topology's BFD settings of both ends: the peer's multiplier times the slower of our
//! receive interval and its transmit interval, less up to one of its transmit intervals
//! since its last packet.
//!
//! Limits: IPv4 BFD only; our NEXT_HOP is the topology's address on the session.

use std::io::Write;
use std::net::SocketAddr;
use std::str::FromStr;

use bgp::fsm::{Command, SessionEvent, State};
use bgp::live::{CloseCause, Driver, Fault, LiveEvent, LiveEventKind, PeerTransport};
use bgp::rib::PeerId;
use bgp::speaker::SpeakerEvent;
use bgp::wire::PathAttributes;
use ipnet::IpNet;
use sim_core::time::{Duration, Instant};

use crate::sim::router::RouterRt;
use crate::topology::{Role, SessionKind, Topology};

/// Which side of the scenario to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveRole {
    /// A Microsoft enterprise edge router (msee1).
    Msee,
    /// The Azure VPN gateway.
    VpnGateway,
    /// The customer edge router (ce1).
    Ce,
    /// One router of the general form (`[[router]]`), by index: its first session of its own.
    Router(usize),
}

impl LiveRole {
    /// The role as `--role` writes it (`msee`, `vpn-gateway`, `ce`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Msee => "msee",
            Self::VpnGateway => "vpn-gateway",
            Self::Ce => "ce",
            Self::Router(_) => "router",
        }
    }
}

/// How to reach the real peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Listen on this address and accept the peer's connection.
    Listen(SocketAddr),
    /// Connect to the peer at this address.
    Connect(SocketAddr),
}

/// A fault at a time since the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledFault {
    /// When, since the start.
    pub at: Duration,
    /// What.
    pub fault: Fault,
    /// Which played session (see [`matches_target`]); `None`: every one.
    pub target: Option<String>,
}

/// Why a `--fault` argument does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultParseError {
    /// Not `TIME KIND [TARGET]`.
    #[error("expected `TIME KIND [TARGET]` (e.g. `30s silent primary`), got `{0}`")]
    Shape(String),
    /// The time does not parse.
    #[error("bad time `{0}` (e.g. `30s`, `2m`)")]
    Time(String),
    /// The kind is not one of `silent`, `down`, `restore`.
    #[error("unknown fault `{0}`: expected silent, down or restore")]
    Kind(String),
}

/// Parses `silent`, `down` or `restore`.
///
/// # Errors
///
/// [`FaultParseError::Kind`] for anything else.
pub fn parse_fault_kind(text: &str) -> Result<Fault, FaultParseError> {
    match text.trim() {
        "silent" => Ok(Fault::Silent),
        "down" => Ok(Fault::Down),
        "restore" => Ok(Fault::Restore),
        other => Err(FaultParseError::Kind(other.to_owned())),
    }
}

/// Parses a fault command, `KIND [TARGET]` (a line of standard input): the fault and its
/// target (`None` for no target or `all`).
///
/// # Errors
///
/// [`FaultParseError::Shape`] for more than two words, [`FaultParseError::Kind`] for an
/// unknown kind.
pub fn parse_fault_command(text: &str) -> Result<(Fault, Option<String>), FaultParseError> {
    let mut words = text.split_whitespace();
    let (Some(kind), target, None) = (words.next(), words.next(), words.next()) else {
        return Err(FaultParseError::Shape(text.to_owned()));
    };
    Ok((parse_fault_kind(kind)?, target_of(target)))
}

/// `None` for no target or `all`, else the target.
fn target_of(word: Option<&str>) -> Option<String> {
    word.filter(|w| *w != "all").map(str::to_owned)
}

/// Whether fault target `target` names the session `session` of router `router`: the
/// router's name, the session's name, or one of the dot-separated words of the session's
/// name (`primary` names `circuit.primary.private`).
#[must_use]
pub fn matches_target(target: &str, router: &str, session: &str) -> bool {
    target == router || target == session || session.split('.').any(|w| w == target)
}

impl FromStr for ScheduledFault {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut words = text.split_whitespace();
        let (Some(at), Some(kind), target, None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(FaultParseError::Shape(text.to_owned()));
        };
        let at = Duration::from_str(at).map_err(|_| FaultParseError::Time(at.to_owned()))?;
        Ok(Self {
            at,
            fault: parse_fault_kind(kind)?,
            target: target_of(target),
        })
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The side to play.
    pub role: LiveRole,
    /// How to reach the peer, one endpoint per played router (in the role's router order:
    /// msee1 then msee2).
    pub endpoints: Vec<Endpoint>,
    /// How long to run.
    pub duration: Duration,
    /// Faults on a schedule.
    pub faults: Vec<ScheduledFault>,
    /// Also read fault commands from standard input, one per line.
    pub stdin: bool,
    /// Seed of the timer jitter.
    pub seed: u64,
    /// The real peer's timer profile, for the predicted window of its detection (`None`:
    /// the topology's profile of the other end of each session).
    pub peer_profile: Option<crate::topology::Profile>,
}

/// Why a live run could not start or went wrong.
#[derive(Debug, thiserror::Error)]
pub enum LiveRunError {
    /// The topology has no router with the role.
    #[error("the topology has no {} router", .0.name())]
    NoRouter(LiveRole),
    /// The router has no session of the kind played live.
    #[error("router {0} has no customer-facing session to play")]
    NoSession(String),
    /// No endpoint was given.
    #[error("no endpoint: give --listen or --connect")]
    NoEndpoint,
    /// More endpoints than routers of the role.
    #[error("{given} endpoints but the topology has {routers} {} router(s)", .role.name())]
    TooManyEndpoints {
        /// The role.
        role: LiveRole,
        /// Endpoints given.
        given: usize,
        /// Routers of the role with a session to play.
        routers: usize,
    },
    /// A fault's target names no played session.
    #[error(
        "fault target `{0}` names no played session (a router, a session, or a word of its name such as `primary`)"
    )]
    UnknownTarget(String),
    /// The router's configuration does not run.
    #[error("router configuration: {0}")]
    Config(String),
    /// The driver failed.
    #[error(transparent)]
    Driver(#[from] bgp::live::LiveError),
    /// The tokio runtime could not start.
    #[error("runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// One detection measured during the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// When the silence began.
    pub fault_at: Instant,
    /// How long after it our hold timer expired.
    pub after: Duration,
    /// The predicted window `(lower, upper]`.
    pub predicted: (Duration, Duration),
}

/// A NOTIFICATION sent or received during the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSeen {
    /// When.
    pub at: Instant,
    /// We sent it (`false`: the peer did).
    pub sent: bool,
    /// Error code (RFC 4271 §4.5).
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// The shutdown communication of a Cease 6/2 or 6/4 (RFC 9003 §2), when one was sent and
    /// is readable.
    pub communication: Option<String>,
}

impl NotificationSeen {
    fn new(at: Instant, sent: bool, n: &bgp::wire::Notification) -> Self {
        Self {
            at,
            sent,
            code: n.code.0,
            subcode: n.subcode,
            communication: communication(n),
        }
    }
}

/// The readable shutdown communication of `n`, if any (RFC 9003 §5: an unreadable one is
/// only logged, so it is dropped here).
fn communication(n: &bgp::wire::Notification) -> Option<String> {
    n.shutdown_communication()
        .and_then(Result::ok)
        .map(str::to_owned)
}

/// What a live run measured for one played session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionSummary {
    /// The router played (`msee1`).
    pub router: String,
    /// The session (`circuit.primary.private`).
    pub session: String,
    /// The topology's router at the other end (`ce1`), played by the real peer.
    pub peer: String,
    /// The negotiated hold time and keepalive of the last Established.
    pub negotiated: Option<(Duration, Duration)>,
    /// Detections by our hold timer after `silent` faults.
    pub detections: Vec<Detection>,
    /// Detections by our BFD session after `silent` faults (its detection time expired).
    pub bfd_detections: Vec<Detection>,
    /// Detections by the peer after `silent` faults, seen as its close of the silenced
    /// connection, predicted with the peer's profile and our keepalive interval.
    pub peer_detections: Vec<Detection>,
    /// Per `silent`/`down` fault: the time from the fault to our last forwarding change
    /// before the next fault (`None`: nothing changed).
    pub convergence: Vec<(Instant, Option<Duration>)>,
    /// Every NOTIFICATION sent or received, in order.
    pub notifications: Vec<NotificationSeen>,
}

/// The peer's failover after a silent fault on one played session, as it sees it: when it
/// gave up on that session, and which played sessions still brought it the VNet prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    /// The silenced session.
    pub from: String,
    /// When the silence began.
    pub fault_at: Instant,
    /// How long after it the peer closed the silenced session (its detection), with the
    /// predicted window.
    pub detection: Detection,
    /// The played sessions Established at that moment, announcing the same prefixes: where
    /// the peer's routes moved (empty: the peer lost them).
    pub to: Vec<String>,
}

/// What a live run measured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveSummary {
    /// Per played session, in the order played (msee1, msee2).
    pub sessions: Vec<SessionSummary>,
    /// The peer's failovers after silent faults, in order.
    pub failovers: Vec<Failover>,
}

/// The window in which a hold timer of nominal `hold`, jittered per `profile`, expires after
/// a silence, given keepalives every `keepalive`: `(lower(H) − K, upper(H)]`.
#[must_use]
pub fn predicted_detection(
    profile: &bgp::fsm::profile::Profile,
    hold: Duration,
    keepalive: Duration,
) -> (Duration, Duration) {
    let lower = profile
        .hold_jitter
        .lower_bound(hold)
        .saturating_sub(keepalive);
    (lower, profile.hold_jitter.upper_bound(hold))
}

/// The window in which a peer running `profile` closes the session after a silence (its
/// NOTIFICATION leaves): its hold timer's expiry ([`predicted_detection`]), then, for a
/// profile that acts on the expiry only at its event loop's next wake-up
/// (`bgp::fsm::profile::HoldExpiry::NextWakeUp`, BIRD), up to that wait: the loop of a daemon
/// with one session sleeps the whole cap, one with more wakes sooner. `(lower(H) − K,
/// upper(H) + cap]`.
#[must_use]
pub fn predicted_peer_detection(
    profile: &bgp::fsm::profile::Profile,
    hold: Duration,
    keepalive: Duration,
) -> (Duration, Duration) {
    let (lo, hi) = predicted_detection(profile, hold, keepalive);
    (lo, hi + profile.hold_expiry.cap())
}

/// The `(router, session)` indices of every router of `role` with a session of the kind
/// played live (its first), in router order.
fn pick(topo: &Topology, role: LiveRole) -> Result<Vec<(usize, usize)>, LiveRunError> {
    let (want, kind) = match role {
        LiveRole::Msee => (Role::Msee, SessionKind::Peering),
        LiveRole::VpnGateway => (Role::VpnGateway, SessionKind::Vpn),
        LiveRole::Ce => (Role::Ce, SessionKind::Peering),
        LiveRole::Router(_) => (Role::Router, SessionKind::User),
    };
    let routers: Vec<usize> = topo
        .routers
        .iter()
        .enumerate()
        .filter(|(r, x)| x.role == want && (!matches!(role, LiveRole::Router(n) if n != *r)))
        .map(|(r, _)| r)
        .collect();
    let first = *routers.first().ok_or(LiveRunError::NoRouter(role))?;
    let picked: Vec<(usize, usize)> = routers
        .iter()
        .filter_map(|&r| {
            topo.sessions
                .iter()
                .position(|s| s.kind == kind && s.ends.iter().any(|e| e.router.0 == r))
                .map(|s| (r, s))
        })
        .collect();
    if picked.is_empty() {
        return Err(LiveRunError::NoSession(topo.routers[first].name.clone()));
    }
    Ok(picked)
}

/// Plays `opts.role` of `topo` for real, printing events to `out`; returns the summary (also
/// printed).
///
/// # Errors
///
/// [`LiveRunError`] when the routers cannot be configured, a fault's target names no played
/// session, or a socket cannot be opened.
pub fn run(
    topo: &Topology,
    opts: &LiveOptions,
    out: &mut dyn Write,
) -> Result<LiveSummary, LiveRunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(topo, opts, out))
}

/// One router played, with its one live session.
struct Played {
    router: String,
    session: String,
    /// The other end's router name.
    other: String,
    /// Our hold-timer profile and the peer's (for the predictions).
    profile: bgp::fsm::profile::Profile,
    profile_name: &'static str,
    peer_profile: bgp::fsm::profile::Profile,
    peer_profile_name: &'static str,
    /// The predicted window of our BFD detection, when the session runs BFD.
    bfd_window: Option<(Duration, Duration)>,
    /// The predicted window of the peer's BFD detection, when the session runs BFD.
    peer_bfd_window: Option<(Duration, Duration)>,
}

/// The window of a BFD detection after a silence, from both ends' settings (RFC 5880
/// §6.8.4: "the Detection Time ... is equal to the value of Detect Mult received from the
/// remote system, multiplied by the agreed transmit interval of the remote system (the
/// greater of bfd.RequiredMinRxInterval and the last received Desired Min TX Interval)"),
/// less up to one of the peer's transmit intervals since its last packet.
#[must_use]
pub fn predicted_bfd_detection(
    ours: crate::topology::BfdParams,
    theirs: crate::topology::BfdParams,
) -> (Duration, Duration) {
    let agreed = ours.interval.max(theirs.interval);
    let detect = agreed * u64::from(theirs.multiplier);
    (detect.saturating_sub(agreed), detect)
}

/// The router's speaker, configured as the simulator does, with its prefixes originated.
fn build_speaker(
    topo: &Topology,
    r: usize,
    role: LiveRole,
    seed: u64,
) -> Result<bgp::speaker::Speaker, LiveRunError> {
    let mut speaker = RouterRt::new(topo, r, seed)
        .map_err(LiveRunError::Config)?
        .into_speaker();
    let mut originated: Vec<IpNet> = topo
        .sessions
        .iter()
        .flat_map(|s| s.ends.iter())
        .filter(|e| e.router.0 == r)
        .flat_map(|e| e.announces.iter().copied())
        .collect();
    // What the router would learn over its sessions that are not live: the VNet for the
    // Azure side (from the ExpressRoute gateway), the on-premises prefixes for the CE.
    let learned = match role {
        LiveRole::Msee | LiveRole::VpnGateway => topo
            .vnets
            .iter()
            .flat_map(|v| v.prefixes.iter())
            .copied()
            .collect(),
        LiveRole::Ce => topo.onprem_prefixes.clone(),
        // A router of the general form originates its own prefixes (above) and learns the
        // rest from its peers.
        LiveRole::Router(_) => Vec::new(),
    };
    originated.extend(learned.into_iter().map(IpNet::V4));
    originated.sort_unstable();
    originated.dedup();
    for p in originated {
        speaker.originate(Instant::ZERO, p, PathAttributes::default());
    }
    Ok(speaker)
}

/// The indices of the played sessions that `target` names (every one for `None`).
fn targets(played: &[(String, String)], target: Option<&str>) -> Vec<usize> {
    played
        .iter()
        .enumerate()
        .filter(|(_, (router, session))| target.is_none_or(|t| matches_target(t, router, session)))
        .map(|(i, _)| i)
        .collect()
}

async fn run_async(
    topo: &Topology,
    opts: &LiveOptions,
    out: &mut dyn Write,
) -> Result<LiveSummary, LiveRunError> {
    if opts.endpoints.is_empty() {
        return Err(LiveRunError::NoEndpoint);
    }
    let picked = pick(topo, opts.role)?;
    if opts.endpoints.len() > picked.len() {
        return Err(LiveRunError::TooManyEndpoints {
            role: opts.role,
            given: opts.endpoints.len(),
            routers: picked.len(),
        });
    }
    // One clock for every driver: their events print in one order.
    let epoch = tokio::time::Instant::now();
    let mut played = Vec::new();
    let mut handles = Vec::new();
    let (merged_tx, mut merged) = tokio::sync::mpsc::unbounded_channel::<(usize, LiveEvent)>();
    let mut drivers = Vec::new();
    for (i, (&(r, si), endpoint)) in picked.iter().zip(&opts.endpoints).enumerate() {
        let router = &topo.routers[r];
        let session = &topo.sessions[si];
        let peer = PeerId(u32::try_from(si).unwrap_or(u32::MAX - 1));
        let other_end = session.ends.iter().find(|e| e.router.0 != r);
        let other_router = other_end.map(|e| &topo.routers[e.router.0]);
        let other = other_router.map_or_else(|| "peer".to_owned(), |x| x.name.clone());
        let peer_profile = opts
            .peer_profile
            .or(other_router.map(|x| x.profile))
            .unwrap_or(crate::topology::Profile::Rfc4271);
        let speaker = build_speaker(topo, r, opts.role, opts.seed)?;
        let (bfd_window, peer_bfd_window) = match (router.bfd, other_router.and_then(|x| x.bfd)) {
            (Some(ours), Some(theirs)) if speaker.bfd(peer).is_some() => (
                Some(predicted_bfd_detection(ours, theirs)),
                Some(predicted_bfd_detection(theirs, ours)),
            ),
            _ => (None, None),
        };
        // RFC 5881 §4: single-hop BFD Control packets go to UDP port 3784.
        let bfd_port = bfd_window.map(|_| bgp::live::bfd_udp::BFD_PORT);

        // The peering's MD5 key (RFC 2385), when the topology configures one. Listening, the
        // key is installed for the peer's address on the session (the customer's /30
        // address, as at the MSEE); connecting, for the address dialled.
        let md5 = session
            .md5
            .as_deref()
            .map(|k| bgp::live::Md5Key::new(k.as_bytes()))
            .transpose()
            .map_err(|e| LiveRunError::Config(format!("session {}: md5: {e}", session.name)))?;
        let (transport, start) = match *endpoint {
            Endpoint::Listen(_) => (
                PeerTransport {
                    accept_from: md5.and(other_end.map(|e| e.addr)),
                    md5,
                    bfd_port,
                    ..PeerTransport::default()
                },
                Command::StartPassive,
            ),
            Endpoint::Connect(addr) => (
                PeerTransport {
                    connect: Some(addr),
                    md5,
                    bfd_port,
                    ..PeerTransport::default()
                },
                Command::Start,
            ),
        };
        if md5.is_some() {
            let _ = writeln!(
                out,
                "live: {}: TCP MD5 signatures on (RFC 2385)",
                router.name
            );
        }
        if let (Some(bfd), Some((_, detect))) = (router.bfd, bfd_window) {
            let _ = writeln!(
                out,
                "live: {}: BFD {} x {} over UDP 3784 (RFC 5881), detection {}",
                router.name,
                crate::fmt::duration(bfd.interval),
                bfd.multiplier,
                crate::fmt::duration(detect)
            );
        }
        let (mut driver, handle, mut events) = Driver::new(speaker, [(peer, transport)])?;
        driver.set_epoch(epoch);
        let _ = writeln!(
            out,
            "live: {} (AS {}, keepalive {}, hold {}, profile {}) on session {}, peer {other} (profile {})",
            router.name,
            router.asn,
            router.timers.keepalive.map_or_else(
                || "a third of the hold time".to_owned(),
                crate::fmt::duration
            ),
            crate::fmt::duration(router.timers.hold_time),
            router.profile.name(),
            session.name,
            peer_profile.name(),
        );
        match *endpoint {
            Endpoint::Listen(addr) => {
                let bound = driver.listen(addr).await?;
                let _ = writeln!(out, "live: {} listening on {bound}", router.name);
            }
            Endpoint::Connect(addr) => {
                let _ = writeln!(out, "live: {} connecting to {addr}", router.name);
            }
        }
        handle.command(peer, start)?;
        drivers.push(tokio::spawn(driver.run()));
        let tx = merged_tx.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if tx.send((i, event)).is_err() {
                    break;
                }
            }
        });
        handles.push((peer, handle));
        played.push(Played {
            router: router.name.clone(),
            session: session.name.clone(),
            other,
            profile: router.profile.behaviour(),
            profile_name: router.profile.name(),
            peer_profile: peer_profile.behaviour(),
            peer_profile_name: peer_profile.name(),
            bfd_window,
            peer_bfd_window,
        });
    }
    drop(merged_tx);
    for (r, _) in picked.iter().skip(played.len()) {
        let _ = writeln!(
            out,
            "live: {} not played (give one more --listen or --connect for it)",
            topo.routers[*r].name
        );
    }
    let names: Vec<(String, String)> = played
        .iter()
        .map(|p| (p.router.clone(), p.session.clone()))
        .collect();

    for f in &opts.faults {
        let chosen = targets(&names, f.target.as_deref());
        if chosen.is_empty() {
            return Err(LiveRunError::UnknownTarget(
                f.target.clone().unwrap_or_default(),
            ));
        }
        for i in chosen {
            let Some((peer, handle)) = handles.get(i).cloned() else {
                continue;
            };
            let (at, fault) = (f.at, f.fault);
            tokio::spawn(async move {
                tokio::time::sleep_until(epoch + std::time::Duration::from_nanos(at.as_nanos()))
                    .await;
                let _ = handle.fault(peer, fault);
            });
        }
    }
    if opts.stdin {
        let handles = handles.clone();
        let names = names.clone();
        // A plain thread: stdin has no portable non-blocking read; it ends with the process.
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                let Ok((fault, target)) = parse_fault_command(&line) else {
                    continue;
                };
                for i in targets(&names, target.as_deref()) {
                    if let Some((peer, handle)) = handles.get(i) {
                        let _ = handle.fault(*peer, fault);
                    }
                }
            }
        });
    }

    let mut tracker = Tracker::new(&played);
    let end =
        tokio::time::sleep_until(epoch + std::time::Duration::from_nanos(opts.duration.as_nanos()));
    tokio::pin!(end);
    loop {
        let event = tokio::select! {
            () = &mut end => break,
            event = merged.recv() => event,
        };
        let Some((i, event)) = event else { break };
        let Some(p) = played.get(i) else { continue };
        if let Some(line) = describe(&event, &p.session, &p.other) {
            let who = if matches!(event.kind, LiveEventKind::Fault { .. }) {
                "-"
            } else {
                p.router.as_str()
            };
            let _ = writeln!(
                out,
                "  {:>12}  {who:<8} {line}",
                crate::fmt::instant(event.at)
            );
        }
        tracker.observe(i, &event, &played);
    }
    for (_, handle) in &handles {
        let _ = handle.shutdown();
    }
    for driver in drivers {
        let _ = driver.await;
    }
    let summary = tracker.finish();
    print_summary(out, &summary, &played);
    Ok(summary)
}

/// Per session: the open fault (when, whether silent, our last FIB change since), whether
/// Established now.
#[derive(Debug, Default)]
struct SessionTrack {
    fault: Option<(Instant, bool, Option<Instant>)>,
    established: bool,
    silenced: bool,
}

/// Measures detections, convergence and failovers from the merged event stream.
#[derive(Debug)]
struct Tracker {
    summary: LiveSummary,
    tracks: Vec<SessionTrack>,
}

impl Tracker {
    fn new(played: &[Played]) -> Self {
        Self {
            summary: LiveSummary {
                sessions: played
                    .iter()
                    .map(|p| SessionSummary {
                        router: p.router.clone(),
                        session: p.session.clone(),
                        peer: p.other.clone(),
                        ..SessionSummary::default()
                    })
                    .collect(),
                failovers: Vec::new(),
            },
            tracks: played.iter().map(|_| SessionTrack::default()).collect(),
        }
    }

    fn observe(&mut self, i: usize, event: &LiveEvent, played: &[Played]) {
        let (Some(track), Some(summary), Some(p)) = (
            self.tracks.get_mut(i),
            self.summary.sessions.get_mut(i),
            played.get(i),
        ) else {
            return;
        };
        let mut failover = None;
        let silent_at = match track.fault {
            Some((at, true, _)) => Some(at),
            _ => None,
        };
        match &event.kind {
            LiveEventKind::Fault { fault, .. } => match fault {
                Fault::Silent | Fault::Down => {
                    close_fault(track, summary);
                    track.fault = Some((event.at, *fault == Fault::Silent, None));
                    track.silenced = *fault == Fault::Silent;
                }
                Fault::Restore => track.silenced = false,
            },
            LiveEventKind::Speaker(SpeakerEvent::Session { event: e, .. }) => match e {
                SessionEvent::Established(n) => {
                    summary.negotiated = Some((n.hold_time, n.keepalive));
                    track.established = true;
                }
                SessionEvent::StateChanged {
                    from: State::Established,
                    ..
                } => track.established = false,
                SessionEvent::HoldTimerExpired => {
                    if let (Some(at), Some((hold, keepalive))) = (silent_at, summary.negotiated)
                        && !summary.detections.iter().any(|d| d.fault_at == at)
                    {
                        summary.detections.push(Detection {
                            fault_at: at,
                            after: event.at.saturating_duration_since(at),
                            predicted: predicted_detection(&p.profile, hold, keepalive),
                        });
                    }
                }
                SessionEvent::NotificationSent(n) => summary
                    .notifications
                    .push(NotificationSeen::new(event.at, true, n)),
                SessionEvent::NotificationReceived(n) => summary
                    .notifications
                    .push(NotificationSeen::new(event.at, false, n)),
                _ => {}
            },
            LiveEventKind::Speaker(SpeakerEvent::Bfd {
                event: bgp::bfd::Event::SessionDown { diagnostic },
                ..
            }) => {
                if let (Some(at), Some(predicted)) = (silent_at, p.bfd_window)
                    && *diagnostic == bgp::bfd::packet::Diagnostic::CONTROL_DETECTION_TIME_EXPIRED
                    && !summary.bfd_detections.iter().any(|d| d.fault_at == at)
                {
                    summary.bfd_detections.push(Detection {
                        fault_at: at,
                        after: event.at.saturating_duration_since(at),
                        predicted,
                    });
                }
            }
            LiveEventKind::Speaker(SpeakerEvent::FibChanged(_)) => {
                if let Some((_, _, last)) = &mut track.fault {
                    *last = Some(event.at);
                }
            }
            LiveEventKind::PeerClosedUnseen { .. } => {
                // The peer's hold timer restarts on our keepalives, sent every K (the
                // negotiated keepalive, our side's): its window is (lower(H) − K, upper(H)].
                if let (Some(at), Some((hold, keepalive))) = (silent_at, summary.negotiated)
                    && !summary.peer_detections.iter().any(|d| d.fault_at == at)
                {
                    // With BFD, the peer's BFD detects first and takes its session down.
                    let predicted = p.peer_bfd_window.unwrap_or_else(|| {
                        predicted_peer_detection(&p.peer_profile, hold, keepalive)
                    });
                    let detection = Detection {
                        fault_at: at,
                        after: event.at.saturating_duration_since(at),
                        predicted,
                    };
                    summary.peer_detections.push(detection.clone());
                    failover = Some(detection);
                }
            }
            _ => {}
        }
        if let Some(detection) = failover {
            let to = self
                .tracks
                .iter()
                .zip(&self.summary.sessions)
                .enumerate()
                .filter(|(j, (t, _))| *j != i && t.established && !t.silenced)
                .map(|(_, (_, s))| s.session.clone())
                .collect();
            self.summary.failovers.push(Failover {
                from: p.session.clone(),
                fault_at: detection.fault_at,
                detection,
                to,
            });
        }
    }

    fn finish(mut self) -> LiveSummary {
        for (track, summary) in self.tracks.iter_mut().zip(&mut self.summary.sessions) {
            close_fault(track, summary);
        }
        self.summary
    }
}

/// Records the convergence of the session's open fault, if any, and closes it.
fn close_fault(track: &mut SessionTrack, summary: &mut SessionSummary) {
    if let Some((at, _, last)) = track.fault.take() {
        summary
            .convergence
            .push((at, last.map(|l| l.saturating_duration_since(at))));
    }
}

/// One timeline line for an event, or `None` for events not shown.
fn describe(event: &LiveEvent, session: &str, other: &str) -> Option<String> {
    Some(match &event.kind {
        LiveEventKind::Speaker(SpeakerEvent::Session { event, .. }) => match event {
            SessionEvent::StateChanged { from, to, cause } => {
                let why = if *from == State::Established {
                    format!(" ({})", event_words(*cause))
                } else {
                    String::new()
                };
                format!("bgp {session}: {from} -> {to}{why}")
            }
            SessionEvent::Established(n) => format!(
                "bgp {session}: negotiated keepalive {}, hold {}",
                crate::fmt::duration(n.keepalive),
                crate::fmt::duration(n.hold_time)
            ),
            SessionEvent::NotificationSent(n) => format!(
                "bgp {session}: sent NOTIFICATION {}/{}{}",
                n.code.0,
                n.subcode,
                quoted(n)
            ),
            SessionEvent::NotificationReceived(n) => format!(
                "bgp {session}: received NOTIFICATION {}/{}{}",
                n.code.0,
                n.subcode,
                quoted(n)
            ),
            SessionEvent::HoldTimerExpired => format!("bgp {session}: hold timer expired"),
            _ => return None,
        },
        LiveEventKind::Speaker(SpeakerEvent::FibChanged(change)) => {
            let via = if change.next_hops.is_empty() {
                "(removed)".to_owned()
            } else {
                change
                    .next_hops
                    .iter()
                    .map(|h| {
                        if h.peer == PeerId::LOCAL {
                            "local".to_owned()
                        } else {
                            format!("{other} ({})", h.next_hop)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!("fib {} via {via}", change.prefix)
        }
        LiveEventKind::Speaker(SpeakerEvent::Bfd { event, .. }) => match event {
            bgp::bfd::Event::StateChanged {
                from,
                to,
                diagnostic,
            } => format!(
                "bfd {session}: {} -> {} (diagnostic {})",
                bfd_state(*from),
                bfd_state(*to),
                diagnostic.0
            ),
            bgp::bfd::Event::SessionDown { diagnostic } => format!(
                "bfd {session}: session down (diagnostic {}), BGP goes down with it",
                diagnostic.0
            ),
            bgp::bfd::Event::PollComplete => return None,
        },
        LiveEventKind::Speaker(SpeakerEvent::CollisionResolved { kept, .. }) => {
            let by = match kept {
                bgp::fsm::collision::Direction::Incoming => other,
                bgp::fsm::collision::Direction::Outgoing => "us",
            };
            format!(
                "bgp {session}: connection collision, kept the connection opened by {by}, the other gets Cease 6/7"
            )
        }
        LiveEventKind::BfdTransport { local, remote, .. } => {
            format!("udp {session}: BFD from {local} to {remote}")
        }
        LiveEventKind::BfdUnavailable { error, .. } => {
            format!("udp {session}: BFD not carried ({error})")
        }
        LiveEventKind::BfdDiscarded { ttl, .. } => format!(
            "udp {session}: BFD packet with TTL {} discarded (RFC 5881 §5)",
            ttl.map_or_else(|| "?".to_owned(), |t| t.to_string())
        ),
        LiveEventKind::Speaker(SpeakerEvent::MaxPrefixExceeded { limit, .. }) => {
            format!("bgp {session}: max-prefix {limit} exceeded")
        }
        LiveEventKind::Speaker(_) => return None,
        LiveEventKind::Connected {
            remote, inbound, ..
        } => {
            let dir = if *inbound { "from" } else { "to" };
            format!("tcp {session}: connected {dir} {remote}")
        }
        LiveEventKind::ConnectFailed { error, .. } => {
            format!("tcp {session}: connect failed ({error})")
        }
        LiveEventKind::Closed { cause, .. } => {
            let by = match cause {
                CloseCause::Local => "by us".to_owned(),
                CloseCause::Remote => "by the peer".to_owned(),
                CloseCause::Fault => "by the fault".to_owned(),
                CloseCause::Error(e) => format!("on error ({e})"),
            };
            format!("tcp {session}: closed {by}")
        }
        LiveEventKind::PeerClosedUnseen { .. } => {
            format!("tcp {session}: {other} closed the silenced connection (unseen by our session)")
        }
        LiveEventKind::Refused { remote, reason } => {
            format!(
                "tcp {session}: refused {remote} ({})",
                match reason {
                    bgp::live::RefuseReason::UnknownPeer => "no configured peer has this address",
                    bgp::live::RefuseReason::Busy => "the peer already has a connection",
                }
            )
        }
        LiveEventKind::Fault { fault, .. } => match fault {
            Fault::Silent => format!("FAULT silent on {session}"),
            Fault::Down => format!("FAULT down on {session}"),
            Fault::Restore => format!("RESTORED {session}"),
        },
    })
}

/// An RFC 4271 §8.1 event in words, for why a session left Established.
const fn event_words(e: bgp::fsm::Event) -> &'static str {
    use bgp::fsm::Event as E;
    match e {
        E::ManualStart => "manual start",
        E::ManualStop => "manual stop",
        E::AutomaticStart => "automatic start",
        E::AutomaticStop => "automatic stop",
        E::ConnectRetryTimerExpires => "connect retry timer expired",
        E::HoldTimerExpires => "hold timer expired",
        E::KeepaliveTimerExpires => "keepalive timer expired",
        E::DelayOpenTimerExpires => "delay open timer expired",
        E::IdleHoldTimerExpires => "idle hold timer expired",
        E::TcpConnectionConfirmed => "TCP connection confirmed",
        E::TcpConnectionFails => "TCP connection closed or failed",
        E::BgpOpen => "OPEN received",
        E::BgpHeaderErr => "message header error",
        E::BgpOpenMsgErr => "OPEN message error",
        E::OpenCollisionDump => "connection collision",
        E::NotifMsg => "NOTIFICATION received",
        E::KeepAliveMsg => "KEEPALIVE received",
        E::UpdateMsg => "UPDATE received",
        E::UpdateMsgErr => "UPDATE message error",
    }
}

/// A BFD state as RFC 5880 §4.1 names it.
const fn bfd_state(s: bgp::bfd::packet::State) -> &'static str {
    match s {
        bgp::bfd::packet::State::AdminDown => "AdminDown",
        bgp::bfd::packet::State::Down => "Down",
        bgp::bfd::packet::State::Init => "Init",
        bgp::bfd::packet::State::Up => "Up",
    }
}

/// ` "text"` for a NOTIFICATION with a shutdown communication, else nothing.
fn quoted(n: &bgp::wire::Notification) -> String {
    communication(n).map_or_else(String::new, |text| format!(" {text:?}"))
}

/// `ok` when `after` lies in the predicted `(lo, hi]` (50 ms of scheduling slack above).
fn verdict(d: &Detection) -> &'static str {
    let (lo, hi) = d.predicted;
    if d.after > lo && d.after <= hi + Duration::from_millis(50) {
        "ok"
    } else {
        "OUTSIDE"
    }
}

fn print_summary(out: &mut dyn Write, summary: &LiveSummary, played: &[Played]) {
    let _ = writeln!(out, "\nsummary");
    for (s, p) in summary.sessions.iter().zip(played) {
        let _ = writeln!(out, "  {} {} (peer {})", s.router, s.session, s.peer);
        match s.negotiated {
            Some((h, k)) => {
                let _ = writeln!(
                    out,
                    "    negotiated keepalive {}, hold {}",
                    crate::fmt::duration(k),
                    crate::fmt::duration(h)
                );
            }
            None => {
                let _ = writeln!(out, "    the session never reached Established");
            }
        }
        let _ = writeln!(
            out,
            "    detection by {}'s hold timer (profile {}), measured vs predicted",
            s.router, p.profile_name
        );
        if s.detections.is_empty() {
            let _ = writeln!(out, "      (no silent fault detected)");
        }
        for d in &s.detections {
            let (lo, hi) = d.predicted;
            let (lo, hi) = (crate::fmt::duration(lo), crate::fmt::duration(hi));
            let _ = writeln!(
                out,
                "      silent at {}: detected after {}, predicted ({lo}, {hi}] {}",
                crate::fmt::instant(d.fault_at),
                crate::fmt::duration(d.after),
                verdict(d)
            );
        }
        if let Some((lo, hi)) = p.bfd_window {
            let (lo, hi) = (crate::fmt::duration(lo), crate::fmt::duration(hi));
            let _ = writeln!(
                out,
                "    detection by {}'s BFD, measured vs predicted ({lo}, {hi}]",
                s.router
            );
            if s.bfd_detections.is_empty() {
                let _ = writeln!(out, "      (no silent fault detected by BFD)");
            }
            for d in &s.bfd_detections {
                let _ = writeln!(
                    out,
                    "      silent at {}: detected after {} {}",
                    crate::fmt::instant(d.fault_at),
                    crate::fmt::duration(d.after),
                    verdict(d)
                );
            }
        }
        let by = if p.peer_bfd_window.is_some() {
            "BFD".to_owned()
        } else {
            format!("hold timer (profile {})", p.peer_profile_name)
        };
        let _ = writeln!(
            out,
            "    detection by {}'s {by}, seen as its close, measured vs predicted",
            s.peer
        );
        if s.peer_detections.is_empty() {
            let _ = writeln!(out, "      (the peer closed no silenced connection)");
        }
        for d in &s.peer_detections {
            let (lo, hi) = d.predicted;
            let (lo, hi) = (crate::fmt::duration(lo), crate::fmt::duration(hi));
            let _ = writeln!(
                out,
                "      silent at {}: closed after {}, predicted ({lo}, {hi}] {}",
                crate::fmt::instant(d.fault_at),
                crate::fmt::duration(d.after),
                verdict(d)
            );
        }
        for n in &s.notifications {
            let _ = writeln!(
                out,
                "    NOTIFICATION {}/{} {} at {}{}",
                n.code,
                n.subcode,
                if n.sent { "sent" } else { "received" },
                crate::fmt::instant(n.at),
                n.communication
                    .as_ref()
                    .map_or_else(String::new, |c| format!(": \"{}\"", c.escape_debug()))
            );
        }
        let _ = writeln!(
            out,
            "    convergence ({}'s last forwarding change after a fault)",
            s.router
        );
        if s.convergence.is_empty() {
            let _ = writeln!(out, "      (no fault)");
        }
        for (at, after) in &s.convergence {
            match after {
                Some(a) => {
                    let _ = writeln!(
                        out,
                        "      fault at {}: {}",
                        crate::fmt::instant(*at),
                        crate::fmt::duration(*a)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "      fault at {}: no forwarding change",
                        crate::fmt::instant(*at)
                    );
                }
            }
        }
    }
    let _ = writeln!(out, "  failover as seen by the peer");
    if summary.failovers.is_empty() {
        let _ = writeln!(out, "    (the peer gave up on no silenced session)");
    }
    for f in &summary.failovers {
        let (lo, hi) = f.detection.predicted;
        let (lo, hi) = (crate::fmt::duration(lo), crate::fmt::duration(hi));
        let to = if f.to.is_empty() {
            "no played session is left: the peer lost the routes".to_owned()
        } else {
            format!("its routes moved to {}", f.to.join(", "))
        };
        let _ = writeln!(
            out,
            "    {} silent at {}: after {} {to}, predicted ({lo}, {hi}] {}",
            f.from,
            crate::fmt::instant(f.fault_at),
            crate::fmt::duration(f.detection.after),
            verdict(&f.detection)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_scheduled_fault() {
        let f: ScheduledFault = "30s silent".parse().expect("valid");
        assert_eq!(f.at, Duration::from_secs(30));
        assert_eq!(f.fault, Fault::Silent);
        assert_eq!(f.target, None);
        assert_eq!(parse_fault_kind(" restore "), Ok(Fault::Restore));
        let f: ScheduledFault = "20s silent primary".parse().expect("valid");
        assert_eq!(f.target.as_deref(), Some("primary"));
        let f: ScheduledFault = "20s down all".parse().expect("valid");
        assert_eq!((f.fault, f.target), (Fault::Down, None));
        assert_eq!(
            parse_fault_command("silent msee2"),
            Ok((Fault::Silent, Some("msee2".to_owned())))
        );
    }

    #[test]
    fn fault_targets_name_a_router_a_session_or_a_word_of_its_name() {
        let names = vec![
            ("msee1".to_owned(), "circuit.primary.private".to_owned()),
            ("msee2".to_owned(), "circuit.secondary.private".to_owned()),
        ];
        assert_eq!(targets(&names, Some("primary")), vec![0]);
        assert_eq!(targets(&names, Some("msee2")), vec![1]);
        assert_eq!(targets(&names, Some("circuit.secondary.private")), vec![1]);
        assert_eq!(targets(&names, Some("private")), vec![0, 1]);
        assert_eq!(targets(&names, None), vec![0, 1]);
        assert!(targets(&names, Some("tertiary")).is_empty());
        // A word must match whole: `prim` names nothing.
        assert!(targets(&names, Some("prim")).is_empty());
    }

    #[test]
    fn rejects_malformed_faults() {
        assert!(matches!(
            "30s".parse::<ScheduledFault>(),
            Err(FaultParseError::Shape(_))
        ));
        assert!(matches!(
            "30s silent primary extra".parse::<ScheduledFault>(),
            Err(FaultParseError::Shape(_))
        ));
        assert!(matches!(
            "soon silent".parse::<ScheduledFault>(),
            Err(FaultParseError::Time(_))
        ));
        assert!(matches!(
            "30s explode".parse::<ScheduledFault>(),
            Err(FaultParseError::Kind(_))
        ));
    }

    #[test]
    fn predicted_window_follows_the_profile_hold_jitter() {
        let h = Duration::from_secs(180);
        let k = Duration::from_secs(60);
        let rfc = bgp::fsm::profile::Profile::RFC4271;
        assert_eq!(
            predicted_detection(&rfc, h, k),
            (Duration::from_secs(120), h)
        );
        // BIRD jitters its hold timer down to 0.75 H: (135 s − 60 s, 180 s].
        let bird = bgp::fsm::profile::Profile::BIRD;
        assert_eq!(
            predicted_detection(&bird, h, k),
            (Duration::from_secs(75), h)
        );
    }

    #[test]
    fn records_and_prints_a_received_admin_shutdown_with_its_communication() {
        let n = bgp::wire::Notification::shutdown(
            bgp::wire::CeaseSubcode::ADMINISTRATIVE_SHUTDOWN,
            "maintenance",
        );
        let event = LiveEvent {
            at: Instant::from_nanos(5),
            kind: LiveEventKind::Speaker(SpeakerEvent::Session {
                peer: PeerId(0),
                event: SessionEvent::NotificationReceived(n),
            }),
        };
        assert_eq!(
            describe(&event, "s", "p").as_deref(),
            Some("bgp s: received NOTIFICATION 6/2 \"maintenance\"")
        );
        let played = [played("msee1", "s")];
        let mut tracker = Tracker::new(&played);
        tracker.observe(0, &event, &played);
        assert_eq!(
            tracker.finish().sessions[0].notifications,
            vec![NotificationSeen {
                at: Instant::from_nanos(5),
                sent: false,
                code: 6,
                subcode: 2,
                communication: Some("maintenance".to_owned()),
            }]
        );
    }

    fn played(router: &str, session: &str) -> Played {
        Played {
            router: router.to_owned(),
            session: session.to_owned(),
            other: "ce".to_owned(),
            profile: bgp::fsm::profile::Profile::RFC4271,
            profile_name: "rfc4271",
            peer_profile: bgp::fsm::profile::Profile::BIRD,
            peer_profile_name: "bird",
            bfd_window: None,
            peer_bfd_window: None,
        }
    }

    fn at(secs: u64, kind: LiveEventKind) -> LiveEvent {
        LiveEvent {
            at: Instant::ZERO + Duration::from_secs(secs),
            kind,
        }
    }

    fn established(hold: u64) -> LiveEventKind {
        let n = bgp::fsm::Negotiated {
            remote_as: 65001,
            remote_id: std::net::Ipv4Addr::new(192, 0, 2, 1),
            hold_time: Duration::from_secs(hold),
            keepalive: Duration::from_secs(hold / 3),
            families: Vec::new(),
            route_refresh: false,
            graceful_restart: false,
            peer_graceful_restart: None,
            decode: bgp::wire::DecodeCtx::default(),
            encode: bgp::wire::EncodeCtx::default(),
        };
        LiveEventKind::Speaker(SpeakerEvent::Session {
            peer: PeerId(0),
            event: SessionEvent::Established(n),
        })
    }

    #[test]
    fn the_peers_close_of_a_silenced_session_is_its_detection_and_failover() {
        let played = [
            played("msee1", "circuit.primary.private"),
            played("msee2", "circuit.secondary.private"),
        ];
        let mut tracker = Tracker::new(&played);
        tracker.observe(0, &at(1, established(9)), &played);
        tracker.observe(1, &at(1, established(9)), &played);
        let silent = LiveEventKind::Fault {
            peer: PeerId(0),
            fault: Fault::Silent,
        };
        tracker.observe(0, &at(20, silent), &played);
        let closed = LiveEventKind::PeerClosedUnseen { peer: PeerId(0) };
        tracker.observe(0, &at(27, closed), &played);
        let summary = tracker.finish();
        // BIRD's window for H = 9 s, K = 3 s: its hold timer expires in (0.75 × 9 − 3, 9] =
        // (3.75 s, 9 s], and it closes at its event loop's next wake-up, at most 3 s later.
        let expected = Detection {
            fault_at: Instant::ZERO + Duration::from_secs(20),
            after: Duration::from_secs(7),
            predicted: (Duration::from_millis(3750), Duration::from_secs(12)),
        };
        assert_eq!(summary.sessions[0].peer_detections, vec![expected.clone()]);
        assert!(summary.sessions[1].peer_detections.is_empty());
        assert_eq!(
            summary.failovers,
            vec![Failover {
                from: "circuit.primary.private".to_owned(),
                fault_at: expected.fault_at,
                detection: expected,
                to: vec!["circuit.secondary.private".to_owned()],
            }]
        );
    }

    #[test]
    fn picks_every_router_of_the_role_with_its_customer_facing_session() {
        let loaded = crate::load("reference").expect("built-in scenario");
        let topo = &loaded.scenario.topology;
        let msees = pick(topo, LiveRole::Msee).expect("msee");
        let names: Vec<(&str, &str)> = msees
            .iter()
            .map(|&(r, s)| {
                (
                    topo.routers[r].name.as_str(),
                    topo.sessions[s].name.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("msee1", "circuit.primary.private"),
                ("msee2", "circuit.secondary.private")
            ]
        );
        assert!(msees.iter().all(|&(r, _)| topo.routers[r].asn == 12076));
        let ces = pick(topo, LiveRole::Ce).expect("ce");
        assert!(ces.iter().all(|&(r, _)| topo.routers[r].role == Role::Ce));
        assert_eq!(pick(topo, LiveRole::VpnGateway).expect("vpn").len(), 1);
    }
}
