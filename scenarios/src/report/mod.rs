//! What a run measured ([`RunReport`]), how it is shown (text, JSON and CSV), and how a
//! scenario's expectations are judged against it ([`evaluate`]).
//!
//! The simulation driver fills a [`RunReport`]; everything here is pure formatting and
//! arithmetic over it, so it is tested with hand-built reports.
//!
//! # The JSON form (`holdtime.run/1`)
//!
//! The JSON form is the serde serialisation of [`RunReport`], read back by
//! [`RunReport::from_json`] (`holdtime report` draws the run page from it). Its first key is
//! `"format": "holdtime.run/1"` ([`RUN_FORMAT`]); a reader refuses any other tag. Field names
//! are part of the stable interface: add fields, never rename them (a change of meaning is a
//! new format tag). One unit per kind:
//!
//! - every time, instant or duration, is an integer number of **nanoseconds** and its key
//!   ends in `_ns`: instants count from the start of the run (`at_ns`, `start_ns`,
//!   `fork_at_ns`), durations are spans (`duration_ns`, `longest_ns`, `after_fault_ns`);
//! - counts are plain integers (`flows`, `lost`, `count`), bytes are `bytes`, rates `_bps`.
//!
//! The text report prints instants as `300.000s` and durations as `2m57s`; the CSV form
//! (`run --format csv`) uses decimal seconds with `_s` in the column name.

use serde::{Deserialize, Serialize};
use sim_core::time::{Duration, Instant};

use crate::scenario::{MessageType, Metric, Scenario};
use crate::spec::{SessionStateName, Via};
use crate::units::Quantity;

pub use view::{CircuitView, LinkView, RouterView, SessionView, TopologyView, VpnView};

/// The format tag of a run result: the value of its `format` key.
pub const RUN_FORMAT: &str = "holdtime.run/1";

/// The `format` key of a run result: always [`RUN_FORMAT`]; reading a file with any other
/// tag fails with a message naming both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunFormatTag;

impl Serialize for RunFormatTag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(RUN_FORMAT)
    }
}

impl<'de> Deserialize<'de> for RunFormatTag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(d)?;
        if tag == RUN_FORMAT {
            Ok(Self)
        } else {
            Err(serde::de::Error::custom(format!(
                "format `{tag}` is not `{RUN_FORMAT}`"
            )))
        }
    }
}

/// A [`Duration`] as integer nanoseconds (keys ending in `_ns`).
mod ns {
    use serde::{Deserialize, Deserializer, Serializer};
    use sim_core::time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_nanos())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_nanos)
    }
}

/// An optional [`Duration`] as integer nanoseconds or `null`.
mod ns_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use sim_core::time::Duration;

    #[allow(
        clippy::ref_option,
        reason = "serde's `with` passes the field by reference"
    )]
    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_nanos()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<u64>::deserialize(d).map(|o| o.map(Duration::from_nanos))
    }
}

/// Everything one run measured. Every number here is defined once, in the measurement model
/// (`scenarios/library/README.md`, "What the numbers mean", and the module `sim::measure`,
/// which is the only code that computes them); the writers only render it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The file format, `holdtime.run/1` ([`RUN_FORMAT`]).
    pub format: RunFormatTag,
    /// The scenario's name.
    pub scenario: String,
    /// The seed used.
    pub seed: u64,
    /// Simulated time.
    #[serde(rename = "duration_ns", with = "ns")]
    pub duration: Duration,
    /// The end of the start-up every seed of the scenario shares (simulated with the file's
    /// seed; from here on every random stream is keyed by `seed`; see `sim::world`).
    #[serde(rename = "fork_at_ns")]
    pub fork_at: Instant,
    /// The design the run was made on, for drawing it.
    pub topology: TopologyView,
    /// The measurement window: reachability is expected from its start to the end of the run.
    pub window: Window,
    /// The episodes, in time order: each opened by a fault (or a group of faults the file
    /// names as one); detection, convergence and outages are measured from their episode's
    /// start.
    pub episodes: Vec<Episode>,
    /// What happened, in time order (ties in the order they happened).
    pub timeline: Vec<TimelineEntry>,
    /// Each time an end of a session declared it down.
    pub detections: Vec<Detection>,
    /// Forwarding convergence per router and episode.
    pub convergence: Vec<Convergence>,
    /// Every interval inside the window in which a flow had no working path.
    pub outages: Vec<Outage>,
    /// Per direction: its outage figures over the window and per episode.
    pub directions: Vec<DirectionSummary>,
    /// How each direction's flows were spread over paths, at every change.
    pub paths: Vec<PathChange>,
    /// Probe counts per direction, inside the window.
    pub probes: Vec<ProbeStats>,
    /// Messages sent, by type (all sessions, the whole run).
    pub messages: Vec<MessageCount>,
    /// Sessions that left Established, and how often.
    pub flaps: Vec<FlapCount>,
    /// Bytes dropped by congestion, per direction, inside the window.
    pub bytes_dropped: Vec<BytesDropped>,
    /// Per tenant of a Cloud Solution Provider's network: whether any route of another
    /// tenant's address space ever entered its routers' tables (empty without tenants).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub isolation: Vec<TenantIsolation>,
}

/// The isolation check of one tenant over the whole run: every route its routers (its edge
/// routers or VRFs, its circuits' MSEEs, its gateway) installed, each checked against the
/// other tenants' address spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantIsolation {
    /// The tenant.
    pub tenant: String,
    /// Its routers.
    pub routers: Vec<String>,
    /// Routes installed at its routers over the run (each one checked).
    pub routes_checked: u64,
    /// Routes of another tenant's address space installed at its routers (0: isolated).
    pub leaks: u64,
    /// The first few of them (at most [`TenantIsolation::KEPT`]).
    pub first_leaks: Vec<Leak>,
    /// The episodes in which a flow to or from one of its endpoints lost its path: a fault
    /// of another tenant's circuit or routers should never appear here (a crash of a shared
    /// edge does).
    #[serde(default)]
    pub episodes_hit: Vec<u32>,
}

impl TenantIsolation {
    /// How many leaks are kept by name.
    pub const KEPT: usize = 10;
}

/// A route of another tenant's address space in a tenant's router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leak {
    /// When it was installed.
    #[serde(rename = "at_ns")]
    pub at: Instant,
    /// The router.
    pub router: String,
    /// The prefix.
    pub prefix: String,
    /// The tenant whose address space it is.
    pub owner: String,
}

/// The measurement window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Where it starts.
    #[serde(rename = "from_ns")]
    pub from: Instant,
    /// Where it ends (the end of the run).
    #[serde(rename = "to_ns")]
    pub to: Instant,
    /// What opened it.
    pub opened_by: WindowStart,
}

/// What opened the measurement window (see the library README, "What the numbers mean").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowStart {
    /// Every flow of every probe had been delivered once: the network was up.
    AllDelivered,
    /// The first fault came before every flow had been delivered.
    FirstFault,
    /// The scenario's `measure_from`.
    MeasureFrom,
    /// No fault, and some flow was still undelivered at the start-up limit.
    StartupLimit,
}

impl WindowStart {
    /// Words for the text report.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::AllDelivered => "every flow delivered once",
            Self::FirstFault => "the first fault, before every flow was delivered",
            Self::MeasureFrom => "the scenario's measure_from",
            Self::StartupLimit => "the start-up limit, before every flow was delivered",
        }
    }
}

/// One episode: what a fault (or a named group of faults) set off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    /// Its number, from 1, in time order.
    pub index: u32,
    /// Its start: the first fault line of the episode.
    #[serde(rename = "at_ns")]
    pub at: Instant,
    /// The fault it is measured from, as the timeline writes it (`silent on circuit.primary`).
    pub label: String,
}

/// A direction's outage figures (see the library README for each definition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectionSummary {
    /// The direction.
    pub direction: String,
    /// Its flows (5-tuples).
    pub flows: u32,
    /// Flows with at least one outage in the window.
    pub flows_hit: u32,
    /// The longest outage of any one flow (to the end of the run when still open).
    #[serde(rename = "longest_ns", with = "ns")]
    pub longest: Duration,
    /// Whether that longest outage was still open at the end of the run.
    pub longest_open: bool,
    /// The sum of every flow's outages.
    #[serde(rename = "total_ns", with = "ns")]
    pub total: Duration,
    /// Flows still without a path at the end of the run.
    pub open_flows: u32,
    /// No flow of the direction was delivered at any instant of the window.
    pub never_reachable: bool,
    /// Per episode in which some flow of the direction lost its path.
    pub episodes: Vec<EpisodeOutage>,
}

/// A direction's outages that began in one episode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeOutage {
    /// The episode.
    pub episode: u32,
    /// Flows that lost their path in it.
    pub flows_hit: u32,
    /// The longest of those outages.
    #[serde(rename = "longest_ns", with = "ns")]
    pub longest: Duration,
    /// Of those, flows still without a path at the end of the run.
    pub open_flows: u32,
    /// From the episode's start to the last of those flows getting its path back (`None`
    /// while one is still open).
    #[serde(rename = "restored_after_ns", with = "ns_opt")]
    pub restored_after: Option<Duration>,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When.
    #[serde(rename = "at_ns")]
    pub at: Instant,
    /// The router it happened on, if any.
    pub router: Option<String>,
    /// What.
    pub event: TimelineEvent,
}

/// What can appear in a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum TimelineEvent {
    /// A fault from the scenario took effect.
    Fault {
        /// Its kind, as in the file.
        kind: String,
        /// Its target, as in the file.
        target: String,
    },
    /// A BGP session changed state at one end.
    Session {
        /// The session.
        session: String,
        /// Old state.
        from: SessionStateName,
        /// New state.
        to: SessionStateName,
        /// Why, when it went down.
        cause: Option<DownCause>,
    },
    /// A BFD session changed state at one end.
    Bfd {
        /// The session it protects.
        session: String,
        /// `up`, `down`, `init` or `admin_down`.
        state: String,
    },
    /// A router's best path for a prefix changed.
    BestPath {
        /// The prefix.
        prefix: String,
        /// The new next hop(s), or empty when unreachable.
        via: Vec<String>,
    },
    /// A router's forwarding table changed.
    Fib {
        /// The prefix.
        prefix: String,
        /// The new next hop(s), or empty when removed.
        via: Vec<String>,
    },
    /// A router's forwarding table changed for prefixes not listed one by one (a flood), summed
    /// per router and instant.
    FibBulk {
        /// Prefixes changed (added, moved or removed).
        changed: u64,
        /// Of those, removed.
        removed: u64,
    },
    /// The ExpressRoute gateway finished programming a change.
    GatewayConverged {
        /// Routes now programmed.
        routes: u64,
    },
    /// A direction's flows changed paths: how they are spread now.
    Path {
        /// The direction.
        direction: String,
        /// Its flows.
        flows: u32,
        /// Flows without a path.
        lost: u32,
        /// Flows delivered, by way and link.
        via: Vec<PathShare>,
    },
    /// A session's TCP connection attempt ran into trouble: why a session does not come (back)
    /// up.
    Connect {
        /// The session.
        session: String,
        /// What happened.
        trouble: ConnectTrouble,
    },
    /// Graceful restart (RFC 4724 §4.2): a router keeps the routes of a lost session as stale
    /// and goes on forwarding on them, or withdraws the stale routes.
    StaleRoutes {
        /// The session.
        session: String,
        /// How many routes.
        routes: u64,
        /// `kept`, or why they were withdrawn: `restart_time_expired`, `end_of_rib`,
        /// `not_preserved` (back without graceful restart for the family), `stale_path_time`,
        /// `hard_reset` (a Cease / Hard Reset sent or received, RFC 8538 §3).
        what: String,
        /// When kept: when they are withdrawn unless the session is Established first.
        until: Option<Instant>,
    },
    /// A link direction's offered load changed while above its capacity, or fell back under
    /// it (then both numbers are 0).
    Congestion {
        /// The segment and direction (`circuit.primary.core towards msee1`).
        link: String,
        /// Load offered there, bits per second.
        offered_bps: u64,
        /// Its capacity, bits per second.
        capacity_bps: u64,
    },
}

/// What kept a TCP connection attempt from succeeding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "what")]
pub enum ConnectTrouble {
    /// The active opener's SYN was lost on the path (the first loss of the attempt).
    SynLost {
        /// When TCP sends it again (RFC 6298 §5.7 back-off), if it still will.
        #[serde(rename = "retransmit_at_ns")]
        retransmit_at: Option<Instant>,
    },
    /// The passive end's SYN-ACK was lost on the path (the first loss of the attempt).
    SynAckLost {
        /// When TCP sends it again, if it still will.
        #[serde(rename = "retransmit_at_ns")]
        retransmit_at: Option<Instant>,
    },
    /// The peer answered with a reset: it does not accept the connection (Azure holds the
    /// session down, or the peer is not configured).
    Refused,
    /// TCP gave up: no SYN-ACK after its SYN retransmissions (Linux `tcp_syn_retries`).
    GaveUp,
    /// The peer closed (FIN) or reset the connection before the session was Established: it
    /// refused the OPEN (a NOTIFICATION is reported as the session's cause) or holds the session
    /// down (e.g. an MSEE in its restart delay after a prefix-limit Cease).
    ClosedByPeer {
        /// Reset rather than closed.
        reset: bool,
    },
}

impl ConnectTrouble {
    /// Words for the timeline.
    #[must_use]
    pub fn label(self) -> String {
        let retry = |at: Option<Instant>| {
            at.map_or_else(
                || ", not retransmitted".to_owned(),
                |t| format!(", retransmitted at {t}"),
            )
        };
        match self {
            Self::SynLost { retransmit_at } => format!("SYN lost{}", retry(retransmit_at)),
            Self::SynAckLost { retransmit_at } => format!("SYN-ACK lost{}", retry(retransmit_at)),
            Self::Refused => "connection refused (RST)".to_owned(),
            Self::GaveUp => {
                "connection attempt given up: no SYN-ACK after the SYN retransmissions".to_owned()
            }
            Self::ClosedByPeer { reset: false } => {
                "connection closed by the peer (FIN) before the session was established".to_owned()
            }
            Self::ClosedByPeer { reset: true } => {
                "connection reset by the peer before the session was established".to_owned()
            }
        }
    }
}

/// Why a session went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "cause")]
pub enum DownCause {
    /// The BFD session went down.
    Bfd,
    /// The interface lost carrier.
    Carrier,
    /// The hold timer expired (NOTIFICATION 4/0 sent).
    HoldTimer,
    /// A NOTIFICATION was received.
    NotificationReceived {
        /// Error code.
        code: u8,
        /// Error subcode.
        subcode: u8,
    },
    /// A NOTIFICATION was sent for another reason (e.g. maximum prefixes, Cease/1).
    NotificationSent {
        /// Error code.
        code: u8,
        /// Error subcode.
        subcode: u8,
    },
    /// The transport (TCP) gave up after its retransmissions.
    TransportAborted,
    /// The router itself stopped or was reconfigured.
    Local,
}

impl DownCause {
    /// A short human label.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Self::Bfd => "BFD down".to_owned(),
            Self::Carrier => "carrier lost".to_owned(),
            Self::HoldTimer => "hold timer expired (sent 4/0)".to_owned(),
            Self::NotificationReceived { code, subcode } => {
                format!("NOTIFICATION {code}/{subcode} received")
            }
            Self::NotificationSent { code, subcode } => {
                format!("NOTIFICATION {code}/{subcode} sent")
            }
            Self::TransportAborted => "TCP aborted".to_owned(),
            Self::Local => "local".to_owned(),
        }
    }
}

/// One end of a session declaring it down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    /// The session.
    pub session: String,
    /// The end that detected.
    pub router: String,
    /// When.
    #[serde(rename = "at_ns")]
    pub at: Instant,
    /// The episode it belongs to (`None`: before any fault).
    pub episode: Option<u32>,
    /// Since its episode's start (`None`: before any fault).
    #[serde(rename = "after_fault_ns", with = "ns_opt")]
    pub after_fault: Option<Duration>,
    /// How.
    pub cause: DownCause,
}

/// A router's forwarding settling in one episode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Convergence {
    /// The router.
    pub router: String,
    /// The episode.
    pub episode: u32,
    /// Its last forwarding change in the episode.
    #[serde(rename = "at_ns")]
    pub at: Instant,
    /// Since the episode's start.
    #[serde(rename = "after_fault_ns", with = "ns")]
    pub after_fault: Duration,
}

/// One interval without a working path for one flow, inside the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    /// The direction.
    pub direction: String,
    /// The flow (0-based 5-tuple index).
    pub flow: u32,
    /// Start.
    #[serde(rename = "start_ns")]
    pub start: Instant,
    /// End (`None`: still out at the end of the run, see `open`).
    #[serde(rename = "end_ns")]
    pub end: Option<Instant>,
    /// Still going on at the end of the run: `duration` is a lower bound.
    pub open: bool,
    /// Length (to the end of the run when open).
    #[serde(rename = "duration_ns", with = "ns")]
    pub duration: Duration,
    /// The episode it began in (`None`: it began before any fault, e.g. at the window's start).
    pub episode: Option<u32>,
}

/// How a direction's flows were spread over paths from `at` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathChange {
    /// When.
    #[serde(rename = "at_ns")]
    pub at: Instant,
    /// The direction.
    pub direction: String,
    /// Its flows.
    pub flows: u32,
    /// Flows without a path.
    pub lost: u32,
    /// Flows delivered, by way (and circuit link where ExpressRoute carries them), sorted.
    pub via: Vec<PathShare>,
}

impl PathChange {
    /// Flows going `via` (for `none`: the lost flows).
    #[must_use]
    pub fn flows_via(&self, via: Via) -> u32 {
        if via == Via::None {
            return self.lost;
        }
        self.via
            .iter()
            .filter(|s| s.via == via)
            .map(|s| s.flows)
            .sum()
    }

    /// Flows going `via` by `link` (the first link of the way); `None`: by any link.
    #[must_use]
    pub fn flows_via_link(&self, via: Via, link: Option<&str>) -> u32 {
        match link {
            None => self.flows_via(via),
            Some(l) => self
                .via
                .iter()
                .filter(|s| s.via == via && s.link.as_deref() == Some(l))
                .map(|s| s.flows)
                .sum(),
        }
    }

    /// The distribution in words (see [`describe_paths`]).
    #[must_use]
    pub fn describe(&self) -> String {
        describe_paths(self.flows, self.lost, &self.via)
    }
}

/// A direction's spread over paths in words: `via expressroute (circuit.primary)` for one
/// flow or all flows one way, else `5 of 8 flows via expressroute (circuit.primary 3,
/// circuit.secondary 2), 3 lost`.
#[must_use]
pub fn describe_paths(flows: u32, lost: u32, via: &[PathShare]) -> String {
    let mut ways: Vec<(Via, Vec<(&str, u32)>)> = Vec::new();
    for s in via {
        let link = s.link.as_deref().unwrap_or("");
        match ways.iter_mut().find(|(v, _)| *v == s.via) {
            Some((_, links)) => links.push((link, s.flows)),
            None => ways.push((s.via, vec![(link, s.flows)])),
        }
    }
    let single = flows == 1;
    let parts: Vec<String> = ways
        .iter()
        .map(|(way, links)| {
            let n: u32 = links.iter().map(|(_, f)| f).sum();
            let named: Vec<String> = links
                .iter()
                .filter(|(l, _)| !l.is_empty())
                .map(|(l, f)| {
                    if links.len() == 1 {
                        (*l).to_owned()
                    } else {
                        format!("{l} {f}")
                    }
                })
                .collect();
            let mut detail = if named.is_empty() {
                String::new()
            } else {
                format!(" ({})", named.join(", "))
            };
            let mut routes: Vec<&str> = via
                .iter()
                .filter(|s| s.via == *way)
                .filter_map(|s| s.route.as_deref())
                .collect();
            routes.dedup();
            if !routes.is_empty() {
                detail.push_str(&format!(" by user-defined route {}", routes.join(", ")));
            }
            if single || n == flows {
                format!("via {}{detail}", way.name())
            } else {
                format!("{n} of {flows} flows via {}{detail}", way.name())
            }
        })
        .collect();
    match (parts.is_empty(), lost) {
        (true, _) if single => "lost".to_owned(),
        (true, _) => format!("all {flows} flows lost"),
        (false, 0) => parts.join(", "),
        (false, lost) => format!("{}, {lost} lost", parts.join(", ")),
    }
}

/// Flows of a direction going one way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PathShare {
    /// The way.
    pub via: Via,
    /// The circuit link (`circuit.primary`) or session the flows leave or enter by, when
    /// the way has several.
    pub link: Option<String>,
    /// How many flows.
    pub flows: u32,
    /// The VNet's user-defined route that sent them this way (`10.1.0.0/16 ->
    /// virtual_network_gateway`), when one decided it (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}

/// Probe packets of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeStats {
    /// The direction.
    pub direction: String,
    /// Sent.
    pub sent: u64,
    /// Lost.
    pub lost: u64,
}

/// Messages of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCount {
    /// The type.
    pub kind: MessageType,
    /// How many were sent.
    pub count: u64,
}

/// Flaps of one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlapCount {
    /// The session.
    pub session: String,
    /// Times it left Established.
    pub count: u64,
}

/// Bytes dropped by congestion in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BytesDropped {
    /// The direction.
    pub direction: String,
    /// Bytes.
    pub bytes: u64,
}

/// Output format of `holdtime decode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One readable line per message.
    Text,
    /// One JSON object per message.
    Json,
}

/// Output format of `holdtime run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RunFormat {
    /// A readable timeline and summary tables.
    Text,
    /// The whole report as JSON, exact to the nanosecond (for scripts and `holdtime report`).
    Json,
    /// The outages as CSV, one row per outage of one flow.
    Csv,
}

mod csv;
pub mod junit;
mod summary;
mod text;
mod verdict;
mod view;

pub(crate) use text::state_name;
pub use verdict::{Verdict, evaluate, render_verdict_section, render_verdicts, tally, tally_line};

impl RunReport {
    /// The report as pretty JSON.
    ///
    /// # Errors
    ///
    /// Only if serialisation fails, which the types here cannot cause.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// A run result read back from its JSON form (`holdtime.run/1`).
    ///
    /// # Errors
    ///
    /// If the text is not JSON, carries another `format` tag, or does not match the model.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// `silent on circuit.primary at 300.000s` for episode `n`.
    #[must_use]
    pub fn episode_label(&self, n: u32) -> String {
        self.episodes.iter().find(|e| e.index == n).map_or_else(
            || format!("episode {n}"),
            |e| format!("{} at {}", e.label, e.at),
        )
    }

    /// The figures of direction `dir`.
    #[must_use]
    pub fn direction(&self, dir: &str) -> Option<&DirectionSummary> {
        self.directions.iter().find(|d| d.direction == dir)
    }

    /// What the run observed for `metric` (in `episode` only, when given): see
    /// [`Observation`].
    #[must_use]
    pub fn observe(
        &self,
        scenario: &Scenario,
        metric: &Metric,
        episode: Option<u32>,
    ) -> Observation {
        let topo = &scenario.topology;
        let session_name = |s: crate::topology::SessionIx| {
            topo.sessions
                .get(s.0)
                .map(|s| s.name.clone())
                .unwrap_or_default()
        };
        let value = |q: Quantity| Observation::Value {
            q,
            open: false,
            episode: None,
        };
        let in_episode = |e: Option<u32>| episode.is_none() || e == episode;
        match metric {
            Metric::Outage(dir) => {
                if self.direction(dir).is_some_and(|d| d.never_reachable) {
                    return Observation::NeverReachable;
                }
                let worst = self
                    .outages
                    .iter()
                    .filter(|o| o.direction == *dir && (episode.is_none() || o.episode == episode))
                    .max_by_key(|o| (o.duration, o.open));
                match worst {
                    Some(o) => Observation::Value {
                        q: Quantity::Duration(o.duration),
                        open: o.open,
                        episode: o.episode,
                    },
                    None => value(Quantity::Duration(Duration::ZERO)),
                }
            }
            // A direction without probe packets has no count at all (not 0).
            Metric::ProbesLost(dir) => {
                let mut stats = self
                    .probes
                    .iter()
                    .filter(|p| p.direction == *dir)
                    .peekable();
                if stats.peek().is_none() {
                    Observation::NotObserved
                } else {
                    value(Quantity::Count(stats.map(|p| p.lost).sum()))
                }
            }
            Metric::BytesDropped(dir) => value(Quantity::Count(
                self.bytes_dropped
                    .iter()
                    .filter(|b| b.direction == *dir)
                    .map(|b| b.bytes)
                    .sum(),
            )),
            Metric::SessionDetection(_) | Metric::RouterDetection(_) | Metric::EndDetection(..) => {
                let want = |d: &Detection| match metric {
                    Metric::SessionDetection(s) => d.session == session_name(*s),
                    Metric::RouterDetection(r) => d.router == topo.router_name(*r),
                    Metric::EndDetection(s, r) => {
                        d.session == session_name(*s) && d.router == topo.router_name(*r)
                    }
                    _ => false,
                };
                self.detections
                    .iter()
                    .filter(|d| want(d) && d.episode.is_some() && in_episode(d.episode))
                    .min_by_key(|d| d.at)
                    .and_then(|d| {
                        d.after_fault.map(|a| Observation::Value {
                            q: Quantity::Duration(a),
                            open: false,
                            episode: d.episode,
                        })
                    })
                    .unwrap_or(Observation::NotObserved)
            }
            Metric::Convergence(r) => {
                let name = topo.router_name(*r);
                self.convergence
                    .iter()
                    .filter(|c| c.router == name && in_episode(Some(c.episode)))
                    .max_by_key(|c| c.after_fault)
                    .map_or(Observation::NotObserved, |c| Observation::Value {
                        q: Quantity::Duration(c.after_fault),
                        open: false,
                        episode: Some(c.episode),
                    })
            }
            Metric::Messages(t) => value(Quantity::Count(
                self.messages
                    .iter()
                    .filter(|m| m.kind == *t)
                    .map(|m| m.count)
                    .sum(),
            )),
            Metric::Leaks(t) => {
                let name = t.and_then(|t| topo.tenants.get(t)).map(|t| t.name.as_str());
                value(Quantity::Count(
                    self.isolation
                        .iter()
                        .filter(|i| name.is_none_or(|n| n == i.tenant))
                        .map(|i| i.leaks)
                        .sum(),
                ))
            }
            Metric::Flaps(s) => {
                let name = s.map(session_name);
                value(Quantity::Count(
                    self.flaps
                        .iter()
                        .filter(|f| name.as_ref().is_none_or(|n| *n == f.session))
                        .map(|f| f.count)
                        .sum(),
                ))
            }
        }
    }

    /// The measured value of a metric over the whole run; `None` when the report has nothing
    /// to say (no detection happened, or the direction was never reachable).
    #[must_use]
    pub fn metric(&self, scenario: &Scenario, metric: &Metric) -> Option<Quantity> {
        match self.observe(scenario, metric, None) {
            Observation::Value { q, .. } => Some(q),
            Observation::NeverReachable | Observation::NotObserved => None,
        }
    }

    /// How long `session` was up during the run: the time both of its ends were
    /// Established, from the timeline (the run starts with every session Idle). A session
    /// leaves "up" exactly when a flap is counted for it.
    #[must_use]
    pub fn established_time(&self, session: &str) -> Duration {
        let end = Instant::ZERO + self.duration;
        // (router, Established?) for the ends seen so far; a session has two ends.
        let mut ends: Vec<(&str, bool)> = Vec::with_capacity(2);
        let mut up_since: Option<Instant> = None;
        let mut total = Duration::ZERO;
        for (at, router, to) in self.session_changes(session) {
            let established = to == SessionStateName::Established;
            match ends.iter_mut().find(|(r, _)| *r == router) {
                Some(e) => e.1 = established,
                None => ends.push((router, established)),
            }
            let up = ends.len() == 2 && ends.iter().all(|(_, e)| *e);
            match (up_since, up) {
                (None, true) => up_since = Some(at),
                (Some(since), false) => {
                    total += at.min(end) - since.min(end);
                    up_since = None;
                }
                _ => {}
            }
        }
        if let Some(since) = up_since {
            total += end - since.min(end);
        }
        total
    }

    /// State changes of one session, in order: (time, router, new state).
    fn session_changes(&self, session: &str) -> Vec<(Instant, &str, SessionStateName)> {
        self.timeline
            .iter()
            .filter_map(|e| match &e.event {
                TimelineEvent::Session { session: s, to, .. } if s == session => {
                    Some((e.at, e.router.as_deref().unwrap_or(""), *to))
                }
                _ => None,
            })
            .collect()
    }
}

/// What a run observed for one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// A value (for an outage: the longest; `open` when still going on at the end, so the
    /// value is a lower bound), and the episode it was measured in.
    Value {
        /// The value.
        q: Quantity,
        /// Still open at the end of the run.
        open: bool,
        /// The episode it belongs to, if any.
        episode: Option<u32>,
    },
    /// The direction was never reachable inside the window.
    NeverReachable,
    /// Nothing to measure (no detection, no forwarding change in an episode).
    NotObserved,
}

#[cfg(test)]
mod tests {
    use super::text::human_bps;
    use super::*;

    /// [`SCENARIO`], validated (through `validate`: the crate root's `load_str` would be an
    /// import back up from `report`).
    fn scenario() -> Scenario {
        let spec = toml::from_str(SCENARIO).unwrap();
        let (scenario, diags) = crate::validate::validate(&spec);
        scenario.unwrap_or_else(|| panic!("{diags:?}"))
    }

    const SCENARIO: &str = r#"
name = "t"
description = "a test"
topology = "expressroute-vpn-failover"
duration = "15m"

[[fault]]
at = "5m"
kind = "silent"
target = "circuit.primary.core"

[[expect]]
metric = "outage.onprem_to_vnet"
max = "181s"

[[expect]]
metric = "detection.ce1"
min = "120s"
max = "180s"

[[expect]]
session = "circuit.primary.private"
down_by = "8m1s"

[[expect]]
no_loss = "vnet_to_onprem"

[[expect]]
path = "onprem_to_vnet"
via = "expressroute"
at = "9m"

[[expect]]
metric = "messages.notification"
eq = 1
"#;

    #[test]
    fn established_time_counts_only_while_both_ends_are_established() {
        let at = |s: u64| Instant::from_nanos(s * 1_000_000_000);
        let change = |t: u64, router: &str, from, to| TimelineEntry {
            at: at(t),
            router: Some(router.to_owned()),
            event: TimelineEvent::Session {
                session: "s".to_owned(),
                from,
                to,
                cause: None,
            },
        };
        use SessionStateName::{Established, Idle, OpenConfirm};
        let mut report = hand_built();
        report.timeline = vec![
            change(10, "a", OpenConfirm, Established),
            change(12, "b", OpenConfirm, Established),
            change(470, "a", Established, Idle),
            change(475, "b", Established, Idle),
            change(500, "b", OpenConfirm, Established),
            change(501, "a", OpenConfirm, Established),
        ];
        // Up from 12 s (both ends) to 470 s (the first end drops), then from 501 s to the end
        // of the 15-minute run.
        assert_eq!(
            report.established_time("s"),
            Duration::from_secs((470 - 12) + (900 - 501))
        );
        assert_eq!(report.established_time("other"), Duration::ZERO);
    }

    fn hand_built() -> RunReport {
        let at = |s: u64| Instant::from_nanos(s * 1_000_000_000);
        RunReport {
            format: RunFormatTag,
            scenario: "t".to_owned(),
            seed: 1,
            duration: Duration::from_mins(15),
            fork_at: Instant::ZERO,
            topology: TopologyView::default(),
            window: Window {
                from: at(10),
                to: at(900),
                opened_by: WindowStart::AllDelivered,
            },
            episodes: vec![Episode {
                index: 1,
                at: at(300),
                label: "silent on circuit.primary.core".to_owned(),
            }],
            timeline: vec![
                TimelineEntry {
                    at: at(10),
                    router: Some("ce1".to_owned()),
                    event: TimelineEvent::Session {
                        session: "circuit.primary.private".to_owned(),
                        from: SessionStateName::OpenConfirm,
                        to: SessionStateName::Established,
                        cause: None,
                    },
                },
                TimelineEntry {
                    at: at(300),
                    router: None,
                    event: TimelineEvent::Fault {
                        kind: "silent".to_owned(),
                        target: "circuit.primary.core".to_owned(),
                    },
                },
                TimelineEntry {
                    at: at(470),
                    router: Some("ce1".to_owned()),
                    event: TimelineEvent::Session {
                        session: "circuit.primary.private".to_owned(),
                        from: SessionStateName::Established,
                        to: SessionStateName::Idle,
                        cause: Some(DownCause::HoldTimer),
                    },
                },
            ],
            detections: vec![Detection {
                session: "circuit.primary.private".to_owned(),
                router: "ce1".to_owned(),
                at: at(470),
                episode: Some(1),
                after_fault: Some(Duration::from_secs(170)),
                cause: DownCause::HoldTimer,
            }],
            convergence: vec![Convergence {
                router: "ce1".to_owned(),
                episode: 1,
                at: at(470),
                after_fault: Duration::from_secs(170),
            }],
            outages: vec![Outage {
                direction: "onprem_to_vnet".to_owned(),
                flow: 0,
                start: at(300),
                end: Some(at(470)),
                open: false,
                duration: Duration::from_secs(170),
                episode: Some(1),
            }],
            directions: vec![DirectionSummary {
                direction: "onprem_to_vnet".to_owned(),
                flows: 1,
                flows_hit: 1,
                longest: Duration::from_secs(170),
                longest_open: false,
                total: Duration::from_secs(170),
                open_flows: 0,
                never_reachable: false,
                episodes: vec![EpisodeOutage {
                    episode: 1,
                    flows_hit: 1,
                    longest: Duration::from_secs(170),
                    open_flows: 0,
                    restored_after: Some(Duration::from_secs(170)),
                }],
            }],
            paths: vec![PathChange {
                at: at(470),
                direction: "onprem_to_vnet".to_owned(),
                flows: 1,
                lost: 0,
                via: vec![PathShare {
                    via: Via::Expressroute,
                    link: Some("circuit.secondary".to_owned()),
                    flows: 1,
                    route: None,
                }],
            }],
            probes: vec![ProbeStats {
                direction: "vnet_to_onprem".to_owned(),
                sent: 100,
                lost: 3,
            }],
            messages: vec![MessageCount {
                kind: MessageType::Notification,
                count: 1,
            }],
            flaps: vec![FlapCount {
                session: "circuit.primary.private".to_owned(),
                count: 1,
            }],
            bytes_dropped: Vec::new(),
            isolation: Vec::new(),
        }
    }

    #[test]
    fn rates_read_as_humans_write_them() {
        assert_eq!(human_bps(1_600_000_000), "1.6 Gb/s");
        assert_eq!(human_bps(1_000_000_000), "1 Gb/s");
        assert_eq!(human_bps(599_999_999), "600 Mb/s");
        assert_eq!(human_bps(12_340_000), "12.3 Mb/s");
        assert_eq!(human_bps(999), "999 b/s");
    }

    #[test]
    fn evaluates_each_expectation_form_against_a_report() {
        let scenario = scenario();
        let verdicts = evaluate(&scenario, &hand_built());
        let got: Vec<(bool, &str)> = verdicts
            .iter()
            .map(|v| (v.pass, v.measured.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (true, "2m50s"),
                (
                    true,
                    "2m50s after silent on circuit.primary.core at 300.000s"
                ),
                (true, "down at 470.000s"),
                (false, "outage 0s, probes lost 3"),
                (true, "via expressroute (circuit.secondary)"),
                (true, "1"),
            ]
        );
    }

    #[test]
    fn check_prints_measured_durations_to_the_millisecond_and_keeps_json_exact() {
        let scenario = scenario();
        let mut report = hand_built();
        let exact = Duration::from_nanos(141_999_981_039);
        report.detections[0].after_fault = Some(exact);
        report.outages[0].duration = exact;
        let verdicts = evaluate(&scenario, &report);
        let detection = verdicts
            .iter()
            .find(|v| v.expectation.starts_with("detection.ce1"))
            .unwrap();
        let after = " after silent on circuit.primary.core at 300.000s";
        assert_eq!(detection.measured, format!("2m21.999981039s{after}"));
        assert_eq!(detection.shown, format!("2m22s{after}"));
        let json = serde_json::to_value(detection).unwrap();
        assert_eq!(
            json["measured"],
            format!("2m21.999981039s{after}"),
            "JSON stays exact"
        );
        assert!(json.get("shown").is_none(), "{json}");
        let text = render_verdicts("t.toml", &verdicts);
        assert!(text.contains("(measured: 2m22s)"), "{text}");
        assert!(!text.contains("999981039"), "{text}");
        // Just over a bound: rounded it would read as inside, so the exact value is shown.
        report.detections[0].after_fault = Some(Duration::from_nanos(180_000_000_400));
        let verdicts = evaluate(&scenario, &report);
        let v = verdicts
            .iter()
            .find(|v| v.expectation.starts_with("detection.ce1"))
            .unwrap();
        assert!(!v.pass, "{v:?}");
        assert_eq!(v.shown, format!("3m400ns{after}"));
    }

    #[test]
    fn text_report_shows_timeline_causes_and_summary() {
        let text = hand_built().to_text();
        assert!(
            text.contains("FAULT silent on circuit.primary.core"),
            "{text}"
        );
        assert!(
            text.contains("Established -> Idle (hold timer expired (sent 4/0))"),
            "{text}"
        );
        assert!(
            text.contains("onprem_to_vnet               longest      2m50s"),
            "{text}"
        );
        assert!(text.contains("session flaps: 1"), "{text}");
    }

    #[test]
    fn json_report_is_stable_and_tagged() {
        let json = hand_built().to_json().unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["detections"][0]["cause"]["cause"], "hold_timer");
        assert_eq!(v["timeline"][1]["event"]["type"], "fault");
        assert_eq!(v["outages"][0]["duration_ns"], 170_000_000_000_u64);
        assert_eq!(v["messages"][0]["kind"], "notification");
        assert_eq!(v["format"], RUN_FORMAT);
        assert_eq!(v["duration_ns"], 900_000_000_000_u64);
        assert_eq!(v["detections"][0]["after_fault_ns"], 170_000_000_000_u64);
        assert_eq!(
            v["directions"][0]["episodes"][0]["restored_after_ns"],
            170_000_000_000_u64
        );
    }

    /// Every key of the JSON form that holds a time ends in `_ns` and holds an integer: no
    /// duration strings (`"2m50s"`) anywhere.
    #[test]
    fn json_uses_integer_nanoseconds_for_every_time() {
        fn walk(v: &serde_json::Value, path: &str, bad: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, x) in m {
                        let p = format!("{path}.{k}");
                        if k.ends_with("_ns") && !(x.is_u64() || x.is_null()) {
                            bad.push(format!("{p} = {x}"));
                        }
                        if [
                            "at",
                            "start",
                            "end",
                            "duration",
                            "longest",
                            "total",
                            "after_fault",
                        ]
                        .contains(&k.as_str())
                        {
                            bad.push(format!("{p}: a time without its unit"));
                        }
                        walk(x, &p, bad);
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, path, bad)),
                serde_json::Value::String(t)
                    if t.parse::<Duration>().is_ok() && t.chars().any(|c| c.is_ascii_digit()) =>
                {
                    bad.push(format!("{path} = {t:?}: a duration string"));
                }
                _ => {}
            }
        }
        let mut bad = Vec::new();
        walk(&serde_json::to_value(hand_built()).unwrap(), "", &mut bad);
        assert!(bad.is_empty(), "{bad:#?}");
    }

    #[test]
    fn json_round_trips_and_refuses_another_format() {
        let report = hand_built();
        let json = report.to_json().unwrap();
        assert_eq!(RunReport::from_json(&json).unwrap(), report);
        let other = json.replace(RUN_FORMAT, "holdtime.sweep/1");
        let e = RunReport::from_json(&other).unwrap_err().to_string();
        assert!(
            e.contains("format `holdtime.sweep/1` is not `holdtime.run/1`"),
            "{e}"
        );
    }
}
