//! `holdtime live`: one router of a scenario's topology, played for real over TCP.
//!
//! The router is the first of the chosen [`Role`] (`msee` → msee1,
//! `vpn-gateway` → the Azure VPN gateway, `ce` → ce1), configured exactly as the simulator
//! configures it (ASN, timers, profile, max-prefix, export policy; `sim::router`), with the
//! prefixes its sessions announce originated, plus what its idle sessions would have brought
//! (the VNet prefixes for the Azure roles, the on-premises prefixes for the CE). One of its sessions, the first customer-facing
//! one (a peering for `msee` and `ce`, the tunnel session for `vpn-gateway`), is carried by
//! [`bgp::live::Driver`] to the real peer; the router's other sessions stay Idle.
//!
//! Events print as they happen, in `holdtime run`'s timeline vocabulary. Faults come from
//! `--fault "30s silent"` (time since start) and from standard input lines (`silent`, `down`,
//! `restore`). The summary puts each measured detection (our hold timer, after a `silent`)
//! next to the window the timer profile predicts: the hold timer expires in `(lower(H) − K,
//! upper(H)]` after the silence, where `H` is the negotiated hold time, `K` the keepalive
//! interval (the last keepalive arrived up to `K` before the silence), and `lower`/`upper`
//! the profile's hold jitter: `(H − K, H]` for rfc4271, `(0.75H − K, H]` for bird.
//!
//! Limits: one session per run (the MSEE pair's second session needs a second address); no
//! BFD (the driver carries no UDP yet); our NEXT_HOP is the topology's address on the session.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledFault {
    /// When, since the start.
    pub at: Duration,
    /// What.
    pub fault: Fault,
}

/// Why a `--fault` argument does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultParseError {
    /// Not `TIME KIND`.
    #[error("expected `TIME KIND` (e.g. `30s silent`), got `{0}`")]
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

impl FromStr for ScheduledFault {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut words = text.split_whitespace();
        let (Some(at), Some(kind), None) = (words.next(), words.next(), words.next()) else {
            return Err(FaultParseError::Shape(text.to_owned()));
        };
        let at = Duration::from_str(at).map_err(|_| FaultParseError::Time(at.to_owned()))?;
        Ok(Self {
            at,
            fault: parse_fault_kind(kind)?,
        })
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The side to play.
    pub role: LiveRole,
    /// How to reach the peer.
    pub endpoint: Endpoint,
    /// How long to run.
    pub duration: Duration,
    /// Faults on a schedule.
    pub faults: Vec<ScheduledFault>,
    /// Also read fault commands from standard input, one per line.
    pub stdin: bool,
    /// Seed of the timer jitter.
    pub seed: u64,
}

/// Why a live run could not start or went wrong.
#[derive(Debug, thiserror::Error)]
pub enum LiveRunError {
    /// The topology has no router with the role.
    #[error("the topology has no {0:?} router")]
    NoRouter(LiveRole),
    /// The router has no session of the kind played live.
    #[error("router {0} has no customer-facing session to play")]
    NoSession(String),
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

/// What a live run measured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveSummary {
    /// The negotiated hold time and keepalive of the last Established.
    pub negotiated: Option<(Duration, Duration)>,
    /// Detections by our hold timer after `silent` faults.
    pub detections: Vec<Detection>,
    /// Per `silent`/`down` fault: the time from the fault to our last forwarding change
    /// before the next fault (`None`: nothing changed).
    pub convergence: Vec<(Instant, Option<Duration>)>,
    /// Every NOTIFICATION sent or received, in order.
    pub notifications: Vec<NotificationSeen>,
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

/// The router index and the session index played for `role`.
fn pick(topo: &Topology, role: LiveRole) -> Result<(usize, usize), LiveRunError> {
    let (want, kind) = match role {
        LiveRole::Msee => (Role::Msee, SessionKind::Peering),
        LiveRole::VpnGateway => (Role::VpnGateway, SessionKind::Vpn),
        LiveRole::Ce => (Role::Ce, SessionKind::Peering),
    };
    let r = topo
        .routers
        .iter()
        .position(|x| x.role == want)
        .ok_or(LiveRunError::NoRouter(role))?;
    let s = topo
        .sessions
        .iter()
        .position(|s| s.kind == kind && s.ends.iter().any(|e| e.router.0 == r))
        .ok_or_else(|| LiveRunError::NoSession(topo.routers[r].name.clone()))?;
    Ok((r, s))
}

/// Plays `opts.role` of `topo` for real, printing events to `out`; returns the summary (also
/// printed).
///
/// # Errors
///
/// [`LiveRunError`] when the router cannot be configured or the socket cannot be opened.
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

async fn run_async(
    topo: &Topology,
    opts: &LiveOptions,
    out: &mut dyn Write,
) -> Result<LiveSummary, LiveRunError> {
    let (r, si) = pick(topo, opts.role)?;
    let router = &topo.routers[r];
    let session = &topo.sessions[si];
    let peer = PeerId(u32::try_from(si).unwrap_or(u32::MAX - 1));
    let other = session
        .ends
        .iter()
        .find(|e| e.router.0 != r)
        .map_or("peer", |e| topo.routers[e.router.0].name.as_str());

    let mut speaker = RouterRt::new(topo, r, opts.seed)
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
    let learned = match opts.role {
        LiveRole::Msee | LiveRole::VpnGateway => topo
            .vnets
            .iter()
            .flat_map(|v| v.prefixes.iter())
            .copied()
            .collect(),
        LiveRole::Ce => topo.onprem_prefixes.clone(),
    };
    originated.extend(learned.into_iter().map(IpNet::V4));
    originated.sort_unstable();
    originated.dedup();
    for p in originated {
        speaker.originate(Instant::ZERO, p, PathAttributes::default());
    }
    let profile = router.profile.behaviour();

    // The peering's MD5 key (RFC 2385), when the topology configures one. Listening, the key
    // is installed for the peer's address on the session (the customer's /30 address, as
    // at the MSEE); connecting, for the address dialled.
    let md5 = session
        .md5
        .as_deref()
        .map(|k| bgp::live::Md5Key::new(k.as_bytes()))
        .transpose()
        .map_err(|e| LiveRunError::Config(format!("session {}: md5: {e}", session.name)))?;
    let peer_addr = session
        .ends
        .iter()
        .find(|e| e.router.0 != r)
        .map(|e| e.addr);
    let (transport, start) = match opts.endpoint {
        Endpoint::Listen(_) => (
            PeerTransport {
                accept_from: md5.and(peer_addr),
                md5,
                ..PeerTransport::default()
            },
            Command::StartPassive,
        ),
        Endpoint::Connect(addr) => (
            PeerTransport {
                connect: Some(addr),
                md5,
                ..PeerTransport::default()
            },
            Command::Start,
        ),
    };
    if md5.is_some() {
        let _ = writeln!(out, "live: TCP MD5 signatures on (RFC 2385)");
    }
    let (mut driver, handle, mut events) = Driver::new(speaker, [(peer, transport)])?;
    let _ = writeln!(
        out,
        "live: {} (AS {}, hold {}, profile {}) on session {}, peer {other}",
        router.name,
        router.asn,
        router.timers.hold_time,
        router.profile.name(),
        session.name
    );
    if let Endpoint::Listen(addr) = opts.endpoint {
        let bound = driver.listen(addr).await?;
        let _ = writeln!(out, "live: listening on {bound}");
    }
    handle.command(peer, start)?;
    let driver = tokio::spawn(driver.run());

    for f in &opts.faults {
        let handle = handle.clone();
        let f = *f;
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_nanos(f.at.as_nanos())).await;
            let _ = handle.fault(peer, f.fault);
        });
    }
    if opts.stdin {
        let handle = handle.clone();
        // A plain thread: stdin has no portable non-blocking read; it ends with the process.
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if let Ok(fault) = parse_fault_kind(&line) {
                    let _ = handle.fault(peer, fault);
                }
            }
        });
    }

    let mut summary = LiveSummary::default();
    let mut tracker = Tracker::default();
    let end = tokio::time::sleep(std::time::Duration::from_nanos(opts.duration.as_nanos()));
    tokio::pin!(end);
    loop {
        let event = tokio::select! {
            () = &mut end => break,
            event = events.recv() => event,
        };
        let Some(event) = event else { break };
        let line = describe(&event, &session.name, other);
        if let Some(line) = line {
            let _ = writeln!(out, "  {:>12}  {:<8} {line}", event.at.to_string(), {
                if matches!(event.kind, LiveEventKind::Fault { .. }) {
                    "-"
                } else {
                    router.name.as_str()
                }
            });
        }
        tracker.observe(&event, &profile, &mut summary);
    }
    let _ = handle.shutdown();
    let _ = driver.await;
    tracker.finish(&mut summary);
    print_summary(out, &summary, &router.name, router.profile.name());
    Ok(summary)
}

/// Measures detections and convergence from the event stream.
#[derive(Debug, Default)]
struct Tracker {
    /// The open fault: when, whether silent, last FIB change since.
    fault: Option<(Instant, bool, Option<Instant>)>,
}

impl Tracker {
    fn observe(
        &mut self,
        event: &LiveEvent,
        profile: &bgp::fsm::profile::Profile,
        summary: &mut LiveSummary,
    ) {
        match &event.kind {
            LiveEventKind::Fault { fault, .. } => match fault {
                Fault::Silent | Fault::Down => {
                    self.finish(summary);
                    self.fault = Some((event.at, *fault == Fault::Silent, None));
                }
                Fault::Restore => {}
            },
            LiveEventKind::Speaker(SpeakerEvent::Session {
                event: SessionEvent::Established(n),
                ..
            }) => summary.negotiated = Some((n.hold_time, n.keepalive)),
            LiveEventKind::Speaker(SpeakerEvent::Session {
                event: SessionEvent::HoldTimerExpired,
                ..
            }) => {
                if let (Some((at, true, _)), Some((hold, keepalive))) =
                    (self.fault, summary.negotiated)
                {
                    let after = event.at.saturating_duration_since(at);
                    if !summary.detections.iter().any(|d| d.fault_at == at) {
                        summary.detections.push(Detection {
                            fault_at: at,
                            after,
                            predicted: predicted_detection(profile, hold, keepalive),
                        });
                    }
                }
            }
            LiveEventKind::Speaker(SpeakerEvent::Session {
                event: SessionEvent::NotificationSent(n),
                ..
            }) => summary
                .notifications
                .push(NotificationSeen::new(event.at, true, n)),
            LiveEventKind::Speaker(SpeakerEvent::Session {
                event: SessionEvent::NotificationReceived(n),
                ..
            }) => summary
                .notifications
                .push(NotificationSeen::new(event.at, false, n)),
            LiveEventKind::Speaker(SpeakerEvent::FibChanged(_)) => {
                if let Some((_, _, last)) = &mut self.fault {
                    *last = Some(event.at);
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, summary: &mut LiveSummary) {
        if let Some((at, _, last)) = self.fault.take() {
            summary
                .convergence
                .push((at, last.map(|l| l.saturating_duration_since(at))));
        }
    }
}

/// One timeline line for an event, or `None` for events not shown.
fn describe(event: &LiveEvent, session: &str, other: &str) -> Option<String> {
    Some(match &event.kind {
        LiveEventKind::Speaker(SpeakerEvent::Session { event, .. }) => match event {
            SessionEvent::StateChanged { from, to, cause } => {
                let why = if *from == State::Established {
                    format!(" ({cause:?})")
                } else {
                    String::new()
                };
                format!("bgp {session}: {from} -> {to}{why}")
            }
            SessionEvent::Established(n) => format!(
                "bgp {session}: negotiated hold {}, keepalive {}",
                n.hold_time, n.keepalive
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
        LiveEventKind::Refused { remote, reason } => {
            format!("tcp {session}: refused {remote} ({reason:?})")
        }
        LiveEventKind::Fault { fault, .. } => {
            format!("FAULT {} on {session}", format!("{fault:?}").to_lowercase())
        }
    })
}

/// ` "text"` for a NOTIFICATION with a shutdown communication, else nothing.
fn quoted(n: &bgp::wire::Notification) -> String {
    communication(n).map_or_else(String::new, |text| format!(" {text:?}"))
}

fn print_summary(out: &mut dyn Write, summary: &LiveSummary, router: &str, profile: &str) {
    let _ = writeln!(out, "\nsummary");
    match summary.negotiated {
        Some((h, k)) => {
            let _ = writeln!(out, "  negotiated hold {h}, keepalive {k}");
        }
        None => {
            let _ = writeln!(out, "  the session never reached Established");
        }
    }
    let _ = writeln!(
        out,
        "  detection by {router}'s hold timer (profile {profile}), measured vs predicted"
    );
    if summary.detections.is_empty() {
        let _ = writeln!(out, "    (no silent fault detected)");
    }
    for d in &summary.detections {
        let (lo, hi) = d.predicted;
        let inside = d.after > lo && d.after <= hi + Duration::from_millis(50);
        let _ = writeln!(
            out,
            "    silent at {}: detected after {}, predicted ({lo}, {hi}] {}",
            d.fault_at,
            d.after,
            if inside { "ok" } else { "OUTSIDE" }
        );
    }
    for n in &summary.notifications {
        let _ = writeln!(
            out,
            "  NOTIFICATION {}/{} {} at {}{}",
            n.code,
            n.subcode,
            if n.sent { "sent" } else { "received" },
            n.at,
            n.communication
                .as_ref()
                .map_or_else(String::new, |c| format!(": {c:?}"))
        );
    }
    let _ = writeln!(
        out,
        "  convergence (our last forwarding change after a fault)"
    );
    for (at, after) in &summary.convergence {
        match after {
            Some(a) => {
                let _ = writeln!(out, "    fault at {at}: {a}");
            }
            None => {
                let _ = writeln!(out, "    fault at {at}: no forwarding change");
            }
        }
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
        assert_eq!(parse_fault_kind(" restore "), Ok(Fault::Restore));
    }

    #[test]
    fn rejects_malformed_faults() {
        assert!(matches!(
            "30s".parse::<ScheduledFault>(),
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
        let mut summary = LiveSummary::default();
        Tracker::default().observe(&event, &bgp::fsm::profile::Profile::RFC4271, &mut summary);
        assert_eq!(
            summary.notifications,
            vec![NotificationSeen {
                at: Instant::from_nanos(5),
                sent: false,
                code: 6,
                subcode: 2,
                communication: Some("maintenance".to_owned()),
            }]
        );
    }

    #[test]
    fn picks_the_customer_facing_session_of_each_role() {
        let loaded = crate::load("reference").expect("built-in scenario");
        let topo = &loaded.scenario.topology;
        let (r, s) = pick(topo, LiveRole::Msee).expect("msee");
        assert_eq!(topo.routers[r].asn, 12076);
        assert_eq!(topo.sessions[s].kind, SessionKind::Peering);
        let (r, _) = pick(topo, LiveRole::Ce).expect("ce");
        assert_eq!(topo.routers[r].role, Role::Ce);
    }
}
