//! A validated scenario: what the driver runs. Names are resolved to topology indices and the
//! overrides are already applied to the topology; nothing here needs checking again.

use serde::Serialize;
use sim_core::time::Duration;

use crate::diag::Diagnostic;
use crate::spec::{FaultKind, SessionStateName, TcpPreset, Via};
use crate::topology::{
    CircuitIx, LinkSide, PeeringKind, PublicPrefixesState, RouterIx, SessionIx, Sku, Target,
    Topology,
};
use crate::units::{Bandwidth, LossModel, Quantity, TimeSpec};

/// A scenario ready to run.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// Short title.
    pub name: String,
    /// The paragraph for students.
    pub description: String,
    /// The network, with every override applied.
    pub topology: Topology,
    /// Simulated time.
    pub duration: Duration,
    /// The file's seed (used unless `--seed` is given; 0 when the file has none).
    pub seed: u64,
    /// Where the measurement window starts, when the file says (`measure_from`); otherwise
    /// the measurement model chooses (see the library README, "What the numbers mean").
    pub measure_from: Option<Duration>,
    /// TCP retransmission behaviour of every BGP transport.
    pub tcp: TcpConfig,
    /// The fault timeline, in file order (times may be ranges: draw them per run).
    pub faults: Vec<Fault>,
    /// Traffic flows and probes.
    pub probes: Vec<Probe>,
    /// What the run must show.
    pub expectations: Vec<Expectation>,
    /// Warnings found while validating (adjustments Azure would make, states that keep
    /// sessions down); shown to the user before the run.
    pub warnings: Vec<Diagnostic>,
}

impl Scenario {
    /// Every traffic direction measured, in probe order, without duplicates.
    #[must_use]
    pub fn directions(&self) -> Vec<Direction> {
        let mut out: Vec<Direction> = Vec::new();
        for p in &self.probes {
            for d in &p.directions {
                if !out.iter().any(|o| o.name == d.name) {
                    out.push(d.clone());
                }
            }
        }
        out
    }

    /// The names of the directions whose probe sends packets (an `interval`): the only ones
    /// with a `probes_lost` count.
    #[must_use]
    pub fn packet_directions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in self.probes.iter().filter(|p| p.interval.is_some()) {
            for d in &p.directions {
                if !out.contains(&d.name) {
                    out.push(d.name.clone());
                }
            }
        }
        out
    }
}

/// TCP retransmission parameters (RFC 6298, with the floor and ceiling as parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TcpConfig {
    /// The preset these started from.
    pub preset: TcpPreset,
    /// Initial RTO before any RTT sample (RFC 6298 §2.1: 1 s).
    pub rto_initial: Duration,
    /// RTO floor (RFC 6298 §2.4: 1 s; Linux: 200 ms).
    pub rto_min: Duration,
    /// RTO ceiling (RFC 6298 §2.5: at least 60 s; Linux: 120 s).
    pub rto_max: Duration,
    /// Retransmissions before the connection is aborted (Linux `tcp_retries2` = 15).
    pub max_retries: u32,
}

impl TcpConfig {
    /// The values of a preset.
    #[must_use]
    pub const fn preset(preset: TcpPreset) -> Self {
        match preset {
            TcpPreset::Rfc6298 => Self {
                preset,
                rto_initial: Duration::from_secs(1),
                rto_min: Duration::from_secs(1),
                rto_max: Duration::from_secs(60),
                max_retries: 15,
            },
            TcpPreset::Linux => Self {
                preset,
                rto_initial: Duration::from_secs(1),
                rto_min: Duration::from_millis(200),
                rto_max: Duration::from_secs(120),
                max_retries: 15,
            },
        }
    }
}

/// One fault of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    /// Position in the file (0-based), for reports.
    pub index: usize,
    /// When it starts.
    pub at: TimeSpec,
    /// When it ends by itself, counted from its start (`None`: it lasts until a `restore`
    /// or the end of the run).
    pub duration: Option<TimeSpec>,
    /// What happens.
    pub action: FaultAction,
    /// The episode it belongs to, when the file groups faults (`episode = "name"`): faults
    /// with the same name are measured as one episode, from the first of them.
    pub episode: Option<String>,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultAction {
    /// Packets are dropped, interfaces stay up: no carrier event anywhere. Target: a
    /// circuit, link, segment, `vpn.tunnel` or `internet`.
    Silent {
        /// What goes silent.
        target: Target,
    },
    /// The target goes down: routers attached directly to an affected segment see carrier
    /// loss at once; those behind a transit node do not.
    Down {
        /// What goes down.
        target: Target,
    },
    /// A loss episode replacing the target's loss model.
    Loss {
        /// Where.
        target: Target,
        /// The episode's loss model.
        loss: LossModel,
    },
    /// A latency episode added to the target's delay.
    Latency {
        /// Where.
        target: Target,
        /// Added one-way delay.
        delay: Duration,
        /// Added jitter.
        jitter: Duration,
    },
    /// The router stops dead: no NOTIFICATION, no more packets; its directly attached
    /// segments lose carrier.
    RouterCrash {
        /// Which router.
        router: RouterIx,
    },
    /// A crashed router boots and starts its sessions again.
    RouterRestart {
        /// Which router.
        router: RouterIx,
    },
    /// Microsoft maintains one link: the link's MSEE prepends its ASN `prepend` times on
    /// every route it advertises, towards the customer and towards the ExpressRoute gateway
    /// (both directions of traffic drain to the other link), after `drain` the MSEE closes
    /// the sessions (Cease, administrative shutdown, RFC 4486 subcode 2) and the link is down
    /// for `down_for`, then everything comes back without the prepend.
    MseeMaintenance {
        /// The circuit.
        circuit: CircuitIx,
        /// The link under maintenance.
        side: LinkSide,
        /// Drain time before the sessions close.
        drain: Duration,
        /// Time the link stays down.
        down_for: Duration,
        /// Extra copies of 12076 prepended while draining.
        prepend: u8,
    },
    /// The MSEE administratively shuts these BGP sessions (NOTIFICATION Cease/2) — Azure's
    /// hard BGP-disconnect test; they come back when the fault ends.
    BgpDisconnect {
        /// The sessions.
        sessions: Vec<SessionIx>,
    },
    /// The IPsec tunnel(s) stop carrying traffic; IKE dead-peer detection notices after
    /// the gateway's DPD timeout and takes the tunnel (and its BGP session) down.
    VpnTunnelDown {
        /// `vpn.tunnel` (all) or one tunnel segment.
        target: Target,
    },
    /// A VPN gateway instance fails; the other takes over after the planned or unplanned
    /// failover time (active-standby), or its tunnel's traffic moves (active-active).
    GatewayInstanceFailure {
        /// Which instance (`None`: the active one).
        instance: Option<u8>,
        /// Planned maintenance (10–15 s) rather than an unplanned failure (60–90 s).
        planned: bool,
    },
    /// An ExpressRoute gateway instance fails (both instances are active): its sessions with
    /// the MSEEs and the traffic through it stop for the planned or unplanned failover time,
    /// then it comes back with no state (see `sim::azure`).
    ErGatewayInstanceFailure {
        /// Which instance: 0 (`gateway.er`, `gateway.er.instance0`) or 1.
        instance: u8,
        /// Planned maintenance rather than an unplanned failure (the gateway's
        /// `planned_failover` or `unplanned_failover` time).
        planned: bool,
    },
    /// The provider deprovisions the circuit: state `NotProvisioned`; Microsoft closes every
    /// BGP session on it with a NOTIFICATION, so both ends know at once, and refuses new
    /// connections until a `restore` (provisioned again). The model sends Cease/2
    /// (administrative shutdown); RFC 4486's Cease/3 (peer de-configured) would fit a
    /// deconfiguration better but the session FSM has no command for it yet.
    Deprovision {
        /// The circuit.
        circuit: CircuitIx,
    },
    /// The router advertises `count` prefixes (listed plus generated) on the sessions; a
    /// later `restore` (or the fault's end) goes back to the configured prefixes.
    PrefixFlood {
        /// Sessions on which the prefixes are advertised.
        sessions: Vec<SessionIx>,
        /// How many prefixes.
        count: u32,
    },
    /// Microsoft peering's advertised-public-prefixes state changes; anything but
    /// `Configured` takes its sessions down and keeps them down.
    PublicPrefixesState {
        /// The circuit.
        circuit: CircuitIx,
        /// The new state.
        state: PublicPrefixesState,
    },
    /// Ends every earlier fault on the target (and reprovisions a deprovisioned circuit).
    Restore {
        /// What to restore.
        target: Target,
    },
    /// The router is taken out of service gracefully: it closes every BGP session it takes
    /// part in with a NOTIFICATION Cease / Administrative Shutdown (RFC 4486 §4, subcode 2),
    /// so every peer learns at once, then goes down a second later as a crash does; it boots
    /// again when the fault ends.
    RouterShutdown {
        /// Which router.
        router: RouterIx,
    },
    /// Azure disables BGP on one peering of a circuit (the peering's state `Disabled`): the
    /// MSEEs close its sessions on both links with Cease 6/2 and refuse them until the fault
    /// ends or a `restore` of the circuit.
    PeeringDisabled {
        /// The circuit.
        circuit: CircuitIx,
        /// The peering.
        peering: PeeringKind,
    },
    /// The circuit's bandwidth changes. Raised, it changes in place without disruption; lowered,
    /// Azure cannot resize it: the circuit is deleted (its sessions closed by the MSEEs, as a
    /// deprovisioning does) and a new one created and provisioned `recreate` later, with the
    /// new bandwidth. Either way the links' capacity follows the new bandwidth.
    BandwidthChange {
        /// The circuit.
        circuit: CircuitIx,
        /// The new bandwidth.
        bandwidth: Bandwidth,
        /// How long a downgrade's delete and re-create take.
        recreate: Duration,
    },
    /// The circuit's SKU changes in place: the MSEEs' private-peering prefix limit follows
    /// (4,000 Standard, 10,000 Premium); a session holding more than a lowered limit drops.
    SkuChange {
        /// The circuit.
        circuit: CircuitIx,
        /// The new SKU.
        sku: Sku,
    },
}

impl FaultAction {
    /// The kind, whose name is the file's spelling ([`FaultKind::name`]).
    #[must_use]
    pub const fn kind(&self) -> FaultKind {
        match self {
            Self::Silent { .. } => FaultKind::Silent,
            Self::Down { .. } => FaultKind::Down,
            Self::Loss { .. } => FaultKind::Loss,
            Self::Latency { .. } => FaultKind::Latency,
            Self::RouterCrash { .. } => FaultKind::RouterCrash,
            Self::RouterRestart { .. } => FaultKind::RouterRestart,
            Self::MseeMaintenance { .. } => FaultKind::MseeMaintenance,
            Self::BgpDisconnect { .. } => FaultKind::BgpDisconnect,
            Self::VpnTunnelDown { .. } => FaultKind::VpnTunnelDown,
            Self::GatewayInstanceFailure { .. } | Self::ErGatewayInstanceFailure { .. } => {
                FaultKind::GatewayInstanceFailure
            }
            Self::Deprovision { .. } => FaultKind::Deprovision,
            Self::PrefixFlood { .. } => FaultKind::PrefixFlood,
            Self::PublicPrefixesState { .. } => FaultKind::PublicPrefixesState,
            Self::Restore { .. } => FaultKind::Restore,
            Self::RouterShutdown { .. } => FaultKind::RouterShutdown,
            Self::PeeringDisabled { .. } => FaultKind::PeeringDisabled,
            Self::BandwidthChange { .. } => FaultKind::BandwidthChange,
            Self::SkuChange { .. } => FaultKind::SkuChange,
        }
    }

    /// The one target this fault acts on, as a `restore` names it; `None` for a fault on
    /// several sessions, which no single `restore` target can name.
    #[must_use]
    pub fn target(&self) -> Option<Target> {
        Some(match self {
            Self::Silent { target }
            | Self::Down { target }
            | Self::Loss { target, .. }
            | Self::Latency { target, .. }
            | Self::VpnTunnelDown { target }
            | Self::Restore { target } => *target,
            Self::RouterCrash { router }
            | Self::RouterRestart { router }
            | Self::RouterShutdown { router } => Target::Router(*router),
            Self::MseeMaintenance { circuit, side, .. } => Target::Link(*circuit, *side),
            Self::BgpDisconnect { sessions } | Self::PrefixFlood { sessions, .. } => {
                match sessions.as_slice() {
                    [one] => Target::Session(*one),
                    _ => return None,
                }
            }
            Self::GatewayInstanceFailure { instance, .. } => {
                instance.map_or(Target::VpnGateway, Target::VpnGatewayInstance)
            }
            Self::ErGatewayInstanceFailure { instance, .. } => Target::ErGatewayInstance(*instance),
            Self::Deprovision { circuit }
            | Self::PublicPrefixesState { circuit, .. }
            | Self::PeeringDisabled { circuit, .. }
            | Self::BandwidthChange { circuit, .. }
            | Self::SkuChange { circuit, .. } => Target::Circuit(*circuit),
        })
    }
}

/// One traffic direction between two endpoints, e.g. `onprem_to_vnet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Direction {
    /// `<from>_to_<to>`.
    pub name: String,
    /// Source endpoint (`onprem`, `microsoft` or a VNet name).
    pub from: String,
    /// Destination endpoint.
    pub to: String,
}

/// Traffic between two endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// The directions measured (one or both).
    pub directions: Vec<Direction>,
    /// Probe packet interval; `None`: no packets, the outage is still computed exactly
    /// from the forwarding state.
    pub interval: Option<Duration>,
    /// Distinct 5-tuples per direction (ECMP spreads them).
    pub flows: u32,
    /// The flows' address family.
    pub family: crate::spec::AddressFamily,
    /// Offered load per direction in bits per second, spread evenly over the flows
    /// (`None`: no load; congestion is not accounted).
    pub rate: Option<Bandwidth>,
}

/// BGP message types and BFD, for message counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// BFD control packets.
    Bfd,
    /// KEEPALIVE.
    Keepalive,
    /// NOTIFICATION.
    Notification,
    /// OPEN.
    Open,
    /// ROUTE-REFRESH.
    RouteRefresh,
    /// UPDATE.
    Update,
}

impl MessageType {
    /// Every type, for error messages and reports.
    pub const ALL: [Self; 6] = [
        Self::Bfd,
        Self::Keepalive,
        Self::Notification,
        Self::Open,
        Self::RouteRefresh,
        Self::Update,
    ];

    /// The name used in metric names.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bfd => "bfd",
            Self::Keepalive => "keepalive",
            Self::Notification => "notification",
            Self::Open => "open",
            Self::RouteRefresh => "route_refresh",
            Self::Update => "update",
        }
    }
}

/// A measured quantity, named in files by the metric grammar. Each is defined in the library
/// README ("What the numbers mean") and computed in `sim::measure`:
///
/// | name | unit | meaning |
/// |---|---|---|
/// | `outage.DIR` | duration | the longest interval of the window in which one flow of DIR had no working path (lower bound when still open at the end; fails when DIR is never reachable) |
/// | `probes_lost.DIR` | count | probe packets of DIR sent inside the window and lost (only a direction whose probe has an `interval`) |
/// | `bytes_dropped.DIR` | count | bytes of DIR dropped by congestion inside the window |
/// | `detection.SESSION` | duration | from its episode's start to the first end of SESSION declaring it down |
/// | `detection.ROUTER` | duration | from its episode's start to ROUTER's first session-down |
/// | `detection.SESSION@ROUTER` | duration | from its episode's start to ROUTER's end of SESSION declaring it down |
/// | `convergence.ROUTER` | duration | from an episode's start to ROUTER's last forwarding change in it (the longest over the episodes) |
/// | `messages.TYPE` | count | messages of TYPE sent in the whole run (`open`, `update`, `notification`, `keepalive`, `route_refresh`, `bfd`) |
/// | `flaps` / `flaps.SESSION` | count | times a session (any, or SESSION) left Established |
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "metric", content = "of")]
pub enum Metric {
    /// `outage.DIR`.
    Outage(String),
    /// `probes_lost.DIR`.
    ProbesLost(String),
    /// `bytes_dropped.DIR`.
    BytesDropped(String),
    /// `detection.SESSION`.
    SessionDetection(SessionIx),
    /// `detection.ROUTER`.
    RouterDetection(RouterIx),
    /// `detection.SESSION@ROUTER`: one end of one session.
    EndDetection(SessionIx, RouterIx),
    /// `convergence.ROUTER`.
    Convergence(RouterIx),
    /// `messages.TYPE`.
    Messages(MessageType),
    /// `flaps` (`None`) or `flaps.SESSION`.
    Flaps(Option<SessionIx>),
    /// `isolation.leaks` (every tenant, `None`) or `isolation.leaks.TENANT` (an index of
    /// [`Topology::tenants`]): routes of another tenant's address space its routers installed.
    Leaks(Option<usize>),
}

impl Metric {
    /// Whether the metric is a duration (else a count).
    #[must_use]
    pub const fn is_duration(&self) -> bool {
        matches!(
            self,
            Self::Outage(_)
                | Self::SessionDetection(_)
                | Self::RouterDetection(_)
                | Self::EndDetection(..)
                | Self::Convergence(_)
        )
    }

    /// Whether the metric can be measured per episode (outage, detection, convergence).
    #[must_use]
    pub const fn is_episodic(&self) -> bool {
        self.is_duration()
    }

    /// The metric's name in the file grammar (`detection.circuit.primary.private@ce1`).
    #[must_use]
    pub fn name(&self, topo: &Topology) -> String {
        let session = |s: &SessionIx| topo.sessions.get(s.0).map_or("?", |s| s.name.as_str());
        match self {
            Self::Outage(d) => format!("outage.{d}"),
            Self::ProbesLost(d) => format!("probes_lost.{d}"),
            Self::BytesDropped(d) => format!("bytes_dropped.{d}"),
            Self::SessionDetection(s) => format!("detection.{}", session(s)),
            Self::RouterDetection(r) => format!("detection.{}", topo.router_name(*r)),
            Self::EndDetection(s, r) => {
                format!("detection.{}@{}", session(s), topo.router_name(*r))
            }
            Self::Convergence(r) => format!("convergence.{}", topo.router_name(*r)),
            Self::Messages(t) => format!("messages.{}", t.name()),
            Self::Flaps(None) => "flaps".to_owned(),
            Self::Flaps(Some(s)) => format!("flaps.{}", session(s)),
            Self::Leaks(None) => "isolation.leaks".to_owned(),
            Self::Leaks(Some(t)) => format!(
                "isolation.leaks.{}",
                topo.tenants.get(*t).map_or("?", |t| t.name.as_str())
            ),
        }
    }
}

/// Bounds on a metric; at least one is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bounds {
    /// Inclusive lower bound.
    pub min: Option<Quantity>,
    /// Inclusive upper bound.
    pub max: Option<Quantity>,
    /// Exact value.
    pub eq: Option<Quantity>,
}

impl Bounds {
    /// Whether `value` satisfies every bound.
    #[must_use]
    pub fn admits(&self, value: Quantity) -> bool {
        let key = |q: Quantity| match q {
            Quantity::Duration(d) => d.as_nanos(),
            Quantity::Count(n) => n,
        };
        let v = key(value);
        self.min.is_none_or(|m| v >= key(m))
            && self.max.is_none_or(|m| v <= key(m))
            && self.eq.is_none_or(|m| v == key(m))
    }
}

/// What an expectation checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Check {
    /// A metric within bounds.
    Metric {
        /// The metric.
        metric: Metric,
        /// The bounds.
        bounds: Bounds,
        /// Measured in this episode only (from 1).
        episode: Option<u32>,
        /// An outage still open at the end may pass.
        allow_open: bool,
    },
    /// The session has left Established by `by`.
    SessionDownBy {
        /// The session.
        session: SessionIx,
        /// The deadline.
        by: Duration,
    },
    /// The session is in `state` at `at` (for `established`, at both ends; otherwise at
    /// either end).
    SessionState {
        /// The session.
        session: SessionIx,
        /// The state.
        state: SessionStateName,
        /// The moment.
        at: Duration,
    },
    /// The session never reaches Established.
    SessionNeverUp {
        /// The session.
        session: SessionIx,
    },
    /// The session never leaves Established once up.
    SessionStaysUp {
        /// The session.
        session: SessionIx,
    },
    /// The direction loses nothing: no outage and no probe lost.
    NoLoss {
        /// The direction name.
        direction: String,
    },
    /// At least `share_percent` % of the direction's flows go `via` at `at`.
    Path {
        /// The direction name.
        direction: String,
        /// Which way.
        via: Via,
        /// By which link, when the file says (the first link of the way).
        link: Option<String>,
        /// The moment.
        at: Duration,
        /// The least share of flows, in percent (100: every flow).
        share_percent: u32,
    },
}

/// One `[[expect]]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expectation {
    /// Position in the file (0-based).
    pub index: usize,
    /// How the file wrote it, for reports (`outage.onprem_to_vnet <= 181s`).
    pub text: String,
    /// Why it should hold (the file's `because`).
    pub because: Option<String>,
    /// What it checks.
    pub check: Check,
}
