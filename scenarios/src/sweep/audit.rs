//! `holdtime audit`: every failure of a design (or every pair of them), simulated over seeds
//! and ranked.
//!
//! The design is a scenario file (or a library name): its topology, its probes, its timers.
//! The audit replaces its faults and expectations with one failure at a time ([`plan`]), each
//! starting at the same instant on the converged network and lasting to the end of the run
//! (no repair), and runs every failure over `runs` seeds like a sweep (the start-up simulated
//! once per failure and worker, every run forked from it; run `r` of every failure has the
//! same seed, so failures are compared on the same timer phases). Each run is measured by the
//! measurement model (`sim::measure`), so a failure's outage per direction is exactly what
//! `holdtime sweep` of the same one-fault scenario reports.
//!
//! The failures: the generated set ([`failures`]), restricted by `--only`/`--skip` and the
//! file's `[audit]` table, plus the file's own `[[audit.fault]]`s. With depth 2, every
//! unordered pair of them too, as one episode (both faults at the same instant), pruned only
//! where the pruned pair is provably the same run or no failure at all:
//! - `{A, B}` is run once, never also as `{B, A}` (the faults start at the same instant);
//! - two failures of one element are not paired, since one element cannot fail two ways at
//!   once: the same target as written (`silent circuit.primary` with `down
//!   circuit.primary`) or once resolved (`msee_maintenance msee1` acts on the link
//!   `circuit.primary`);
//! - a pair whose faults, as the validator resolves them (action, target, every parameter,
//!   duration), are those of an earlier pair is not run again: the simulator's input is the
//!   same, so is every run (a failure of the file's own equal to a generated one, paired with
//!   a third).
//!
//! Mirror images by the design's symmetry (`{silent primary, crash ce2}` and `{silent
//! secondary, crash ce1}`) are not pruned: the model is not mirror-symmetric run by run (the
//! on-premises ECMP hash spreads flows unevenly over the CEs, each router's timers draw from
//! a stream seeded by its name, BGP breaks ties on router ID), so their outcomes are not
//! provably equal, and measured they differ.
//!
//! The work is numbered like a sweep's (item `k = failure · runs + r`), so `--shard I/N` runs
//! a contiguous slice and [`merge`] of every shard's JSON gives the unsharded result, byte for
//! byte: the JSON carries each failure's histograms, and everything the audit concludes is a
//! function of those sums (`AuditResult::assemble`), whatever `--jobs`.
//!
//! What it concludes:
//! - **ranked failures**, worst first: a failure that leaves a direction without a path to the
//!   end of the run in some run first (the more runs, the worse), then by the worst
//!   direction's p99 outage;
//! - **single points of failure**: a failure after which some direction stays down until the
//!   end of the run in every run: nothing in the design takes over;
//! - **non-redundant prefixes**: each direction such a failure leaves without a path, named
//!   by the prefixes of its destination (a direction is the traffic towards one endpoint's
//!   prefixes of one address family: the probes' destination), with the failure;
//! - **budgets**: `--budget outage=30s` (or the smallest `max` of the file's `outage.*`
//!   expectations) against each failure's worst p99 outage; an open outage exceeds any budget;
//! - **hazards** ([`HazardKind`]), each established from what the simulation measures or the
//!   design states, never assumed:
//!   - *hold timer only*: a peering session towards an MSEE on which BFD does not run because
//!     the customer's end has none (the MSEE offers BFD on private and Microsoft peering;
//!     Microsoft, "Configure BFD over ExpressRoute"): a silent failure of its link is detected
//!     by the hold timer alone. The design states it; the audit adds the detection measured
//!     under that link's silent failure.
//!   - *asymmetric routing after a failure*: the two directions of a flow (`a_to_b`,
//!     `b_to_a`) delivered over different ways (ExpressRoute, VPN, internet) at the end of a
//!     run but not just before the failure, measured from the runs' path changes; a design
//!     that is asymmetric before any failure is reported as such (as with Microsoft
//!     peering whose on-premises edge is also the internet edge).
//!   - *the VPN cannot carry what ExpressRoute carried*: (a) measured: a failure after which an
//!     IPv6 direction stays down to the end in every run while the IPv4 direction between the
//!     same endpoints gets a path back (the model's site-to-site VPN carries IPv4 only: its
//!     BGP session and tunnel are IPv4, see `dual-stack` in the library); (b) stated:
//!     on-premises advertises more prefixes than the VPN gateway accepts (its `max_prefixes`,
//!     4,000 by default): after the loss of ExpressRoute the VPN session is dropped (Cease
//!     6/1, RFC 4486), a consequence the audit's ExpressRoute failures then show as open
//!     outages.
//!
//! What it cannot establish, and so does not report: stateful devices dropping the halves of
//! an asymmetric flow (the simulator has no firewall or NAT), and symmetry of the design
//! itself (mirror-image pairs are both run, above).
//!
//! The failure set and its defaults are documented in `scenarios/library/README.md`
//! ("`holdtime audit`").

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sim_core::time::Duration;
use toml::{Table, Value};

use super::grid::Point;
use super::histogram::{show_ns, show_us};
use super::render::{JsonError, PointJson};
use super::{Exec, PointResult, Sample, Shard, SweepError, parse_doc, run_seed, runner};
use crate::report::TopologyView;
use crate::scenario::{Check, Metric, Scenario};
use crate::spec::{FaultKind, ScenarioSpec};
use crate::topology::{LinkSide, Role, SessionKind, Target, Topology};
use crate::units::Quantity;

/// The JSON format tag of audit results.
pub const FORMAT: &str = "holdtime.audit/3";

/// Tags of earlier audit results, refused with the reason: their outages are in microseconds
/// and their times strings.
pub const OLD_FORMATS: [&str; 2] = ["holdtime.audit/1", "holdtime.audit/2"];

/// When the failures start in a design whose file has no fault and no `[audit] at`.
pub const DEFAULT_AT: Duration = Duration::from_mins(5);

/// The loss of a `loss` failure: a link that still works but loses one packet in twenty.
pub const LOSSY: f64 = 0.05;

/// How long a generated prefix-limit breach lasts: a misconfiguration corrected a minute
/// later. The drop and what it costs happen at once (`prefix-limit` in the library: the later
/// drops of a longer breach cost nothing more), and each reconnection during a breach sends
/// the limit + 1 prefixes again, which makes an open-ended breach the costliest failure to
/// simulate by far (about 7 times a one-minute one). An open-ended breach can be audited as a
/// failure of the file's own (`[[audit.fault]]` without `duration`).
pub const PREFIX_BREACH_FOR: Duration = Duration::from_mins(1);

/// The episode name both faults of a pair share, so that they are measured as one episode.
const PAIR_EPISODE: &str = "audit";

/// What to audit.
#[derive(Debug, Clone)]
pub struct AuditSpec {
    /// The design: a scenario path or a library name.
    pub source: String,
    /// Seeds per failure.
    pub runs: u64,
    /// Base seed (run `r` of every failure: [`run_seed`]`(seed, r)`).
    pub seed: u64,
    /// Only failures whose kinds are all listed (empty: all).
    pub only: Vec<FaultKind>,
    /// Failures with a kind listed are left out.
    pub skip: Vec<FaultKind>,
    /// Outage budget for every direction's p99; `None`: each direction's `outage.DIR` max in
    /// the file's expectations, where it has one.
    pub budget: Option<Duration>,
    /// 1: single failures; 2: single failures and every unordered pair of them.
    pub depth: u8,
    /// Only this slice of the (failure, run) items.
    pub shard: Option<Shard>,
}

impl AuditSpec {
    /// Single failures of `source`, `runs` seeds each from `seed`, no filter, no budget.
    #[must_use]
    pub fn new(source: &str, runs: u64, seed: u64) -> Self {
        Self {
            source: source.to_owned(),
            runs,
            seed,
            only: Vec::new(),
            skip: Vec::new(),
            budget: None,
            depth: 1,
            shard: None,
        }
    }
}

/// One fault of a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// The fault kind.
    pub kind: FaultKind,
    /// Its target.
    pub target: String,
}

/// One failure of the design: one fault (or two at depth 2) as a scenario file writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// `silent circuit.primary`, or `silent circuit.primary + router_crash ce2`.
    pub name: String,
    /// The first fault's kind.
    pub kind: FaultKind,
    /// The first fault's target (both, joined with ` + `, for a pair).
    pub target: String,
    /// Every fault of the failure.
    pub parts: Vec<Part>,
    /// From the file's `[[audit.fault]]` (the user's own) rather than the generated set.
    pub own: bool,
    /// The `[[fault]]` tables, without `at`.
    #[serde(skip)]
    pub faults: Vec<Table>,
    /// Per fault, what it resolves to in the design ([`Resolved`]); filled by [`plan`].
    #[serde(skip)]
    resolved: Vec<Resolved>,
}

/// One fault of a failure as the validator resolved it: what it acts on, and everything it
/// does, in a canonical text (the resolved action and its duration as JSON). Two faults
/// with equal `action` are the same input to the simulator, whatever the file called them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Resolved {
    /// The element: the resolved target (or the sessions of a many-session fault).
    element: String,
    /// The action and its duration.
    action: String,
}

impl Failure {
    fn single(kind: FaultKind, target: String, mut table: Table, own: bool, name: String) -> Self {
        table.insert("kind".to_owned(), Value::String(kind.name().to_owned()));
        table.insert("target".to_owned(), Value::String(target.clone()));
        Self {
            name,
            kind,
            target: target.clone(),
            parts: vec![Part { kind, target }],
            own,
            faults: vec![table],
            resolved: Vec::new(),
        }
    }

    fn pair(a: &Self, b: &Self) -> Self {
        let faults = a
            .faults
            .iter()
            .chain(&b.faults)
            .map(|t| {
                let mut t = t.clone();
                t.insert("episode".to_owned(), Value::String(PAIR_EPISODE.to_owned()));
                t
            })
            .collect();
        Self {
            name: format!("{} + {}", a.name, b.name),
            kind: a.kind,
            target: format!("{} + {}", a.target, b.target),
            parts: a.parts.iter().chain(&b.parts).cloned().collect(),
            own: a.own || b.own,
            faults,
            resolved: a.resolved.iter().chain(&b.resolved).cloned().collect(),
        }
    }

    /// Whether two failures act on one element (they are not paired): the same target as
    /// written, or the same element once resolved (`msee_maintenance msee1` and `silent
    /// circuit.primary` both act on the link `circuit.primary`).
    fn same_element(&self, o: &Self) -> bool {
        self.parts
            .iter()
            .any(|p| o.parts.iter().any(|q| p.target == q.target))
            || self
                .resolved
                .iter()
                .any(|p| o.resolved.iter().any(|q| p.element == q.element))
    }

    /// The simulator's input for this failure, order aside: its resolved faults, sorted.
    fn identity(&self) -> Vec<Resolved> {
        let mut v = self.resolved.clone();
        v.sort();
        v
    }
}

/// One direction under one failure, over the runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectionOutcome {
    /// The direction.
    pub direction: String,
    /// Outage quantiles over the runs, microseconds (the histogram's nanoseconds truncated;
    /// the JSON gives them in nanoseconds, `p50_ns`; an open outage counts its length so far,
    /// a lower bound).
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// The longest.
    pub max_us: u64,
    /// Runs in which the direction was still without a path at the end.
    pub open_runs: u64,
}

/// The two directions of a flow under one failure: runs in which they took different ways.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asymmetry {
    /// Runs asymmetric just before the failure.
    pub before: u64,
    /// Runs asymmetric at the end but not before, by the ways taken
    /// (`a_to_b via internet; b_to_a via expressroute`).
    pub after: BTreeMap<String, u64>,
}

/// One failure's result.
#[derive(Debug, Clone)]
pub struct FailureResult {
    /// The failure.
    pub failure: Failure,
    /// Per direction.
    pub directions: Vec<DirectionOutcome>,
    /// Per pair of directions of one flow (`a_to_b | b_to_a`), where they differed.
    pub asymmetry: BTreeMap<String, Asymmetry>,
    /// Every metric's histogram over the runs, as a sweep keeps them (detection per router,
    /// convergence, outages, probes, flaps).
    pub summary: PointResult,
}

impl FailureResult {
    /// The direction with the worst outage (open first, then p99).
    #[must_use]
    pub fn worst(&self) -> Option<&DirectionOutcome> {
        self.directions.iter().max_by_key(|d| {
            (
                d.open_runs,
                d.p99_us,
                std::cmp::Reverse(d.direction.clone()),
            )
        })
    }

    /// Some direction stays down to the end in every run.
    #[must_use]
    pub fn single_point_of_failure(&self, runs: u64) -> bool {
        runs > 0 && self.directions.iter().any(|d| d.open_runs == runs)
    }

    /// Runs of this failure summarised (all of them, unless this is a shard).
    #[must_use]
    pub const fn runs(&self) -> u64 {
        self.summary.runs
    }
}

/// What the design states that the hazard rules read (kept in the JSON, so that [`merge`]
/// concludes from shards exactly what the whole audit concludes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignFacts {
    /// Peering sessions towards an MSEE without BFD because the customer's end has none.
    pub no_bfd: Vec<NoBfd>,
    /// The pairs of directions of one flow: `(a_to_b, b_to_a)`.
    pub flows: Vec<(String, String)>,
    /// Per direction, its destination's prefixes in its family.
    pub prefixes: BTreeMap<String, Vec<String>>,
    /// Whether the design has a site-to-site VPN.
    pub vpn: bool,
    /// The VPN gateway's prefix limit from on-premises, and what on-premises advertises.
    pub vpn_prefix_limit: Option<(u32, u32)>,
}

/// A peering session on which BFD does not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoBfd {
    /// The session.
    pub session: String,
    /// Its circuit link.
    pub link: String,
    /// The customer's router (the end without BFD).
    pub router: String,
    /// That router's configured hold time (`hold_ns` in the JSON).
    #[serde(rename = "hold_ns", with = "super::ns")]
    pub hold: Duration,
}

/// A kind of hazard (see the module documentation for each rule and its source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    /// Detection of a silent failure rests on the hold timer where BFD would apply.
    HoldTimerOnly,
    /// The two directions of a flow take different ways after a failure.
    AsymmetricAfterFailure,
    /// The two directions of a flow take different ways before any failure.
    AsymmetricByDesign,
    /// The VPN does not carry a family ExpressRoute carried.
    VpnFamily,
    /// The VPN gateway accepts fewer prefixes than on-premises advertises.
    VpnPrefixCount,
}

/// One hazard the design shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    /// Which rule.
    pub kind: HazardKind,
    /// The failure it shows under, if any.
    pub failure: Option<String>,
    /// What, in words.
    pub detail: String,
}

/// The audit of a design (or one shard of it).
#[derive(Debug, Clone)]
pub struct AuditResult {
    /// The design's name.
    pub scenario: String,
    /// The design as given.
    pub source: String,
    /// Seeds per failure.
    pub runs: u64,
    /// Base seed.
    pub seed: u64,
    /// 1 or 2.
    pub depth: u8,
    /// When every failure starts.
    pub at: Duration,
    /// The slice this result covers, `None` for all of it.
    pub shard: Option<Shard>,
    /// The outage budget of each direction that has one (`--budget`, else the file's
    /// `outage.DIR` max).
    pub budgets: BTreeMap<String, Duration>,
    /// The traffic directions, in scenario order.
    pub directions: Vec<String>,
    /// What the design states, for the hazard rules.
    pub facts: DesignFacts,
    /// The design's network, for the HTML page's diagram.
    pub view: TopologyView,
    /// Every failure, worst first.
    pub failures: Vec<FailureResult>,
    /// The hazards, in rule order.
    pub hazards: Vec<Hazard>,
}

/// What an audit will run: the design, the failures, the pruning.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The design's name for diagnostics.
    pub name: String,
    /// The design.
    pub base: Scenario,
    /// Its document, to edit per failure.
    doc: Table,
    /// When every failure starts.
    pub at: Duration,
    /// How many single failures.
    pub singles: usize,
    /// Pairs left out because both failures act on one element.
    pub pruned: usize,
    /// Pairs left out because an earlier pair gives the simulator the same faults (a
    /// failure of the file's own that resolves to a generated one, paired with a third).
    pub identical: usize,
    /// Every failure to run: the singles, then (depth 2) the pairs.
    pub failures: Vec<Failure>,
}

impl Plan {
    /// The pairs among [`Self::failures`].
    #[must_use]
    pub fn pairs(&self) -> usize {
        self.failures.len() - self.singles
    }

    /// Runs in all (failures × runs).
    #[must_use]
    pub fn total_runs(&self, runs: u64) -> u64 {
        u64::try_from(self.failures.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(runs)
    }

    /// One line: what will run.
    #[must_use]
    pub fn describe(&self, runs: u64) -> String {
        let mut s = format!("{} single failure(s)", self.singles);
        if self.pairs() > 0 || self.pruned > 0 || self.identical > 0 {
            let _ = write!(
                s,
                " + {} unordered pair(s) ({} pair(s) on one element pruned{})",
                self.pairs(),
                self.pruned,
                if self.identical > 0 {
                    format!(", {} identical to an earlier pair", self.identical)
                } else {
                    String::new()
                }
            );
        }
        let _ = write!(
            s,
            " = {} failures x {runs} runs = {} runs",
            self.failures.len(),
            self.total_runs(runs)
        );
        s
    }
}

/// The single failures of `topo` (see the library README for the set and its sources):
/// every circuit link silent (a cut inside the provider) and down (carrier lost); every link
/// lossy ([`LOSSY`]); every link of the general form (`[[link]]`) silent, down and lossy;
/// every CE, PE, MSEE, the VPN device and every router of the general form crashing and
/// shut down gracefully; every peering of every circuit disabled; each MSEE's
/// maintenance on its link; each peering session disconnected by Microsoft (the BGP
/// disconnect test); each IPv4 session towards Azure with a prefix limit receiving one prefix
/// more than its limit for [`PREFIX_BREACH_FOR`] (`prefix_flood`); each circuit deprovisioned; each ExpressRoute
/// gateway instance failing (unplanned); the VPN tunnel down and the active VPN gateway
/// instance failing (unplanned).
#[must_use]
pub fn failures(topo: &Topology) -> Vec<Failure> {
    let mut out = Vec::new();
    let mut add = |kind: FaultKind, target: String, extra: Table| {
        let name = format!("{} {target}", kind.name());
        out.push(Failure::single(kind, target, extra, false, name));
    };
    for (c, circuit) in topo.circuits.iter().enumerate() {
        for side in [LinkSide::Primary, LinkSide::Secondary] {
            let link = topo.target_name(Target::Link(crate::topology::CircuitIx(c), side));
            add(FaultKind::Silent, link.clone(), Table::new());
            add(FaultKind::Down, link.clone(), Table::new());
            let mut loss = Table::new();
            loss.insert("loss".to_owned(), Value::Float(LOSSY));
            add(FaultKind::Loss, link.clone(), loss);
            add(FaultKind::MseeMaintenance, link, Table::new());
        }
        add(FaultKind::Deprovision, circuit.name.clone(), Table::new());
    }
    for circuit in &topo.circuits {
        for p in &circuit.peerings {
            let mut peering = Table::new();
            peering.insert(
                "peering".to_owned(),
                Value::String(p.kind.name().to_owned()),
            );
            let name = format!(
                "{} {} ({} peering)",
                FaultKind::PeeringDisabled.name(),
                circuit.name,
                p.kind.name()
            );
            out.push(Failure::single(
                FaultKind::PeeringDisabled,
                circuit.name.clone(),
                peering,
                false,
                name,
            ));
        }
    }
    let mut add = |kind: FaultKind, target: String, extra: Table| {
        let name = format!("{} {target}", kind.name());
        out.push(Failure::single(kind, target, extra, false, name));
    };
    // The general form's own links (`[[link]]` between the user's routers): silent, down
    // and lossy like a circuit's links (no Microsoft operation applies to them).
    for seg in topo
        .segments
        .iter()
        .filter(|s| s.kind == crate::topology::SegmentKind::Link)
    {
        add(FaultKind::Silent, seg.name.clone(), Table::new());
        add(FaultKind::Down, seg.name.clone(), Table::new());
        let mut loss = Table::new();
        loss.insert("loss".to_owned(), Value::Float(LOSSY));
        add(FaultKind::Loss, seg.name.clone(), loss);
    }
    for (i, r) in topo.routers.iter().enumerate() {
        // The VRFs of one chassis fail as one box: audited once, under its first VRF's name.
        let ix = crate::topology::RouterIx(i);
        if topo.fails_with(ix).first() != Some(&ix) {
            continue;
        }
        if Role::FAILS_AS_A_ROUTER.contains(&r.role) {
            add(FaultKind::RouterCrash, r.name.clone(), Table::new());
            add(FaultKind::RouterShutdown, r.name.clone(), Table::new());
        }
    }
    for s in &topo.sessions {
        if s.kind == SessionKind::Peering && s.on.is_some() {
            add(FaultKind::BgpDisconnect, s.name.clone(), Table::new());
        }
    }
    for s in &topo.sessions {
        let limit = s.ends[1].max_prefixes;
        if matches!(s.kind, SessionKind::Peering | SessionKind::Vpn)
            && s.ends[0].addr.is_ipv4()
            && let Some(limit) = limit
        {
            let mut count = Table::new();
            count.insert(
                "count".to_owned(),
                Value::Integer(i64::from(limit.saturating_add(1))),
            );
            count.insert(
                "duration".to_owned(),
                Value::String(PREFIX_BREACH_FOR.to_string()),
            );
            add(FaultKind::PrefixFlood, s.name.clone(), count);
        }
    }
    // Both ExpressRoute gateway instances are active and hold different sessions: each
    // fails on its own (unplanned, the longer failover).
    if topo.er_gateway.is_some() && topo.sessions.iter().any(|s| s.kind == SessionKind::Gateway) {
        for i in 0..2 {
            let mut planned = Table::new();
            planned.insert("planned".to_owned(), Value::Boolean(false));
            add(
                FaultKind::GatewayInstanceFailure,
                format!("gateway.er.instance{i}"),
                planned,
            );
        }
    }
    if topo.vpn.is_some() {
        add(
            FaultKind::VpnTunnelDown,
            "vpn.tunnel".to_owned(),
            Table::new(),
        );
        let mut planned = Table::new();
        planned.insert("planned".to_owned(), Value::Boolean(false));
        add(
            FaultKind::GatewayInstanceFailure,
            "gateway.vpn".to_owned(),
            planned,
        );
    }
    out
}

/// The budgets the file's expectations set: per direction, the smallest `max` of its
/// `outage.DIR` expectations (whole-run ones; per-episode ones belong to the file's faults).
fn file_budgets(sc: &Scenario) -> BTreeMap<String, Duration> {
    let mut out: BTreeMap<String, Duration> = BTreeMap::new();
    for e in &sc.expectations {
        if let Check::Metric {
            metric: Metric::Outage(dir),
            bounds,
            episode: None,
            ..
        } = &e.check
            && let Some(Quantity::Duration(d)) = bounds.max
        {
            let b = out.entry(dir.clone()).or_insert(d);
            *b = (*b).min(d);
        }
    }
    out
}

/// What the design states for the hazard rules.
fn facts(sc: &Scenario) -> DesignFacts {
    let topo = &sc.topology;
    let mut no_bfd = Vec::new();
    for s in &topo.sessions {
        let Some((c, side, _)) = s.on else { continue };
        if s.kind != SessionKind::Peering {
            continue;
        }
        let ends: Vec<&crate::topology::Router> =
            s.ends.iter().map(|e| &topo.routers[e.router.0]).collect();
        let msee = ends.iter().any(|r| r.role == Role::Msee);
        if let Some(customer) = ends.iter().find(|r| r.role != Role::Msee)
            && msee
            && customer.bfd.is_none()
        {
            no_bfd.push(NoBfd {
                session: s.name.clone(),
                link: topo.target_name(Target::Link(c, side)),
                router: customer.name.clone(),
                hold: customer.timers.hold_time,
            });
        }
    }
    let dirs = sc.directions();
    let suffix = |d: &crate::scenario::Direction| {
        d.name
            .strip_prefix(&format!("{}_to_{}", d.from, d.to))
            .unwrap_or("")
            .to_owned()
    };
    let mut flows = Vec::new();
    for a in &dirs {
        if let Some(b) = dirs
            .iter()
            .find(|b| b.from == a.to && b.to == a.from && suffix(b) == suffix(a))
            && a.name < b.name
        {
            flows.push((a.name.clone(), b.name.clone()));
        }
    }
    let mut prefixes = BTreeMap::new();
    for d in &dirs {
        let v6 = suffix(d) == "_ipv6";
        let list: Vec<String> = match d.to.as_str() {
            "onprem" if v6 => topo
                .onprem_ipv6_prefixes
                .iter()
                .map(ToString::to_string)
                .collect(),
            "onprem" => topo
                .onprem_prefixes
                .iter()
                .map(ToString::to_string)
                .collect(),
            m if topo.microsoft_endpoint_prefix(m).is_some() => topo
                .microsoft_endpoint_prefix(m)
                .iter()
                .map(ToString::to_string)
                .collect(),
            site if topo.sites.iter().any(|s| s.name == site) => topo
                .sites
                .iter()
                .filter(|s| s.name == site)
                .flat_map(|s| s.prefixes.iter())
                .filter(|p| p.addr().is_ipv6() == v6)
                .map(ToString::to_string)
                .collect(),
            vnet => topo
                .vnets
                .iter()
                .filter(|v| v.name == vnet)
                .flat_map(|v| {
                    if v6 {
                        v.ipv6_prefixes.iter().map(ToString::to_string).collect()
                    } else {
                        v.prefixes
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                    }
                })
                .collect(),
        };
        prefixes.insert(d.name.clone(), list);
    }
    DesignFacts {
        no_bfd,
        flows,
        prefixes,
        vpn: topo.vpn.is_some(),
        vpn_prefix_limit: topo.vpn.as_ref().map(|g| {
            (
                g.max_prefixes,
                u32::try_from(topo.onprem_prefixes.len()).unwrap_or(u32::MAX),
            )
        }),
    }
}

/// Whether every kind of `f` passes the filters.
fn passes(f: &Failure, only: &[FaultKind], skip: &[FaultKind]) -> bool {
    f.parts
        .iter()
        .all(|p| (only.is_empty() || only.contains(&p.kind)) && !skip.contains(&p.kind))
}

/// Plans an audit: loads the design, lists its failures (generated, filtered, the file's
/// own, then the pairs at depth 2).
///
/// # Errors
///
/// [`SweepError`] if the design is invalid or `spec.depth` is not 1 or 2.
pub fn plan(spec: &AuditSpec) -> Result<Plan, SweepError> {
    let (name, text) = crate::source_text(&spec.source)?;
    let base = crate::load_str(&name, &text)?.scenario;
    let doc = parse_doc(&name, &text)?;
    // The file validated, so it parses as a spec.
    let parsed: ScenarioSpec = toml::from_str(&text).map_err(|e| SweepError::Toml {
        name: name.clone(),
        error: e.to_string(),
    })?;
    let at = crate::validate::audit_start(&parsed);
    let section = parsed.audit.unwrap_or_default();
    let mut singles: Vec<Failure> = if section.defaults == Some(false) {
        Vec::new()
    } else {
        failures(&base.topology)
            .into_iter()
            .filter(|f| passes(f, &section.only, &section.skip))
            .collect()
    };
    let own_tables: Vec<Table> = doc
        .get("audit")
        .and_then(|a| a.get("fault"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_table).cloned().collect())
        .unwrap_or_default();
    for (f, mut table) in section.fault.iter().zip(own_tables) {
        table.remove("name");
        let target = f.target.clone().unwrap_or_else(|| {
            match f.kind {
                FaultKind::VpnTunnelDown => "vpn.tunnel",
                FaultKind::GatewayInstanceFailure => "gateway.vpn",
                _ => "",
            }
            .to_owned()
        });
        let name = f
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {target}", f.kind.name()));
        singles.push(Failure::single(f.kind, target, table, true, name));
    }
    singles.retain(|f| passes(f, &spec.only, &spec.skip));
    // Two failures with one name would be one row: the later ones are told apart.
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for f in &mut singles {
        let n = seen.entry(f.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            f.name = format!("{} (#{n})", f.name);
        }
    }
    for f in &mut singles {
        let sc = variant(&name, &doc, at, f)?;
        f.resolved = sc.faults.iter().map(resolve).collect();
    }
    let count = singles.len();
    let mut all = singles.clone();
    let (mut pruned, mut identical) = (0, 0);
    match spec.depth {
        1 => {}
        2 => {
            let mut seen: std::collections::BTreeSet<Vec<Resolved>> =
                std::collections::BTreeSet::new();
            for (i, a) in singles.iter().enumerate() {
                for b in singles.iter().skip(i + 1) {
                    if a.same_element(b) {
                        pruned += 1;
                        continue;
                    }
                    let pair = Failure::pair(a, b);
                    if seen.insert(pair.identity()) {
                        all.push(pair);
                    } else {
                        identical += 1;
                    }
                }
            }
        }
        d => {
            return Err(SweepError::Toml {
                name,
                error: format!("audit depth {d}: expected 1 (single failures) or 2 (pairs)"),
            });
        }
    }
    Ok(Plan {
        name,
        base,
        doc,
        at,
        singles: count,
        pruned,
        identical,
        failures: all,
    })
}

/// The design `doc` with its faults and expectations replaced by failure `f` at `at`.
fn variant(name: &str, doc: &Table, at: Duration, f: &Failure) -> Result<Scenario, SweepError> {
    let mut d = doc.clone();
    d.remove("expect");
    d.remove("audit");
    let faults = f
        .faults
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t.insert("at".to_owned(), Value::String(at.to_string()));
            Value::Table(t)
        })
        .collect();
    d.insert("fault".to_owned(), Value::Array(faults));
    let text = toml::to_string(&d).map_err(|e| SweepError::Toml {
        name: name.to_owned(),
        error: e.to_string(),
    })?;
    let label = format!("{name} with failure {}", f.name);
    crate::load_str(&label, &text)
        .map(|l| l.scenario)
        .map_err(|error| SweepError::Variant {
            point: f.name.clone(),
            error,
        })
}

/// A validated fault in the canonical form pairs are compared by.
fn resolve(f: &crate::scenario::Fault) -> Resolved {
    let element = match f.action.target() {
        Some(t) => serde_json::to_string(&t),
        None => serde_json::to_string(&f.action),
    }
    .unwrap_or_default();
    Resolved {
        element,
        action: serde_json::to_string(&(&f.action, &f.duration)).unwrap_or_default(),
    }
}

/// Audits a design.
///
/// # Errors
///
/// [`SweepError::NoRuns`] when `spec.runs` is 0; [`SweepError`] if the design or a failure's
/// scenario is invalid, or a run fails.
pub fn audit(spec: &AuditSpec, exec: Exec<'_>) -> Result<AuditResult, SweepError> {
    let p = plan(spec)?;
    run(spec, &p, exec)
}

/// Runs a [`plan`].
///
/// # Errors
///
/// As [`audit`].
pub fn run(spec: &AuditSpec, plan: &Plan, exec: Exec<'_>) -> Result<AuditResult, SweepError> {
    if spec.runs == 0 {
        return Err(SweepError::NoRuns {
            what: "runs per failure",
        });
    }
    let name = &plan.name;
    let mut variants = Vec::with_capacity(plan.failures.len());
    for f in &plan.failures {
        variants.push(variant(name, &plan.doc, plan.at, f)?);
    }
    let facts = facts(&plan.base);
    let scenarios: Vec<&Scenario> = variants.iter().collect();
    let batch = runner::Batch::new(&scenarios, spec.runs, spec.seed, spec.shard);
    let bar = runner::progress_bar(exec, batch.len());
    let asym: Mutex<Vec<BTreeMap<String, Asymmetry>>> =
        Mutex::new(vec![BTreeMap::new(); variants.len()]);
    let observe = |p: usize, s: &Sample| {
        let found = asymmetries(&facts.flows, s);
        if found.is_empty() {
            return;
        }
        let mut all = asym
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(slot) = all.get_mut(p) {
            for (pair, before, after) in found {
                let a = slot.entry(pair).or_default();
                if before {
                    a.before += 1;
                } else if let Some(ways) = after {
                    *a.after.entry(ways).or_insert(0) += 1;
                }
            }
        }
    };
    let mut gate = runner::Gate::new(exec);
    let samples = batch
        .pilot(&mut gate, bar.as_ref(), &observe)
        .and_then(|pilot| {
            gate.proceed()?;
            batch.finish(pilot, exec, bar.as_ref(), &observe)
        });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let per_failure = samples.map_err(|stop| {
        stop.into_error(exec, |k, error| {
            let p = usize::try_from(k / spec.runs).unwrap_or(usize::MAX);
            let r = k % spec.runs;
            SweepError::Run {
                point: plan
                    .failures
                    .get(p)
                    .map(|f| f.name.clone())
                    .unwrap_or_default(),
                run: r,
                seed: run_seed(spec.seed, r),
                error,
            }
        })
    })?;
    let asym = asym
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let directions: Vec<String> = plan.base.directions().into_iter().map(|d| d.name).collect();
    let mut measured = Vec::with_capacity(plan.failures.len());
    for ((f, parts), a) in plan.failures.iter().zip(per_failure).zip(asym) {
        let mut acc = PointResult::new(Point {
            settings: vec![("failure".to_owned(), f.name.clone())],
        });
        for part in parts {
            acc.add(&part)?;
        }
        measured.push((f.clone(), acc, a));
    }
    Ok(AuditResult::assemble(
        Header {
            scenario: plan.base.name.clone(),
            source: spec.source.clone(),
            runs: spec.runs,
            seed: spec.seed,
            depth: spec.depth,
            at: plan.at,
            shard: spec.shard,
            budgets: match spec.budget {
                Some(b) => directions.iter().map(|d| (d.clone(), b)).collect(),
                None => file_budgets(&plan.base),
            },
            directions,
            facts,
            view: TopologyView::of(&plan.base.topology),
        },
        measured,
    ))
}

/// Per flow (pair of directions) that the sample has path data for: whether its two
/// directions took different ways just before the failure, and the ways at the end when they
/// differ then but not before.
fn asymmetries(flows: &[(String, String)], s: &Sample) -> Vec<(String, bool, Option<String>)> {
    let ways = |d: &str| s.ways.iter().find(|(n, _, _)| n == d);
    let mut out = Vec::new();
    for (a, b) in flows {
        let (Some((_, a0, a1)), Some((_, b0, b1))) = (ways(a), ways(b)) else {
            continue;
        };
        let differ = |x: &String, y: &String| !x.is_empty() && !y.is_empty() && x != y;
        let pair = format!("{a} | {b}");
        if differ(a0, b0) {
            out.push((pair, true, None));
        } else if differ(a1, b1) {
            out.push((pair, false, Some(format!("{a} via {a1}; {b} via {b1}"))));
        }
    }
    out
}

/// Everything of a result but the failures.
struct Header {
    scenario: String,
    source: String,
    runs: u64,
    seed: u64,
    depth: u8,
    at: Duration,
    shard: Option<Shard>,
    budgets: BTreeMap<String, Duration>,
    directions: Vec<String>,
    facts: DesignFacts,
    view: TopologyView,
}

impl AuditResult {
    /// The result from each failure's summed measurements: per-direction outcomes, the
    /// ranking and the hazards are functions of these sums alone (so shards merge exactly).
    fn assemble(
        h: Header,
        measured: Vec<(Failure, PointResult, BTreeMap<String, Asymmetry>)>,
    ) -> Self {
        let mut results: Vec<FailureResult> = measured
            .into_iter()
            .map(|(failure, summary, asymmetry)| {
                let outcome = h
                    .directions
                    .iter()
                    .map(|d| {
                        let key = format!("outage.{d}");
                        let hist = summary.hists.get(&key);
                        DirectionOutcome {
                            direction: d.clone(),
                            p50_us: hist.map_or(0, |x| x.quantile(0.5)) / 1_000,
                            p99_us: hist.map_or(0, |x| x.quantile(0.99)) / 1_000,
                            max_us: hist.map_or(0, super::histogram::Hist::max) / 1_000,
                            // A direction never reachable in a run is down to the end too.
                            open_runs: summary.open.get(&key).copied().unwrap_or(0)
                                + summary.missing.get(&key).copied().unwrap_or(0),
                        }
                    })
                    .collect();
                FailureResult {
                    failure,
                    directions: outcome,
                    asymmetry,
                    summary,
                }
            })
            .collect();
        results.sort_by(|a, b| {
            let key = |r: &FailureResult| r.worst().map(|w| (w.open_runs, w.p99_us, w.max_us));
            key(b)
                .cmp(&key(a))
                .then_with(|| a.failure.name.cmp(&b.failure.name))
        });
        let mut r = Self {
            scenario: h.scenario,
            source: h.source,
            runs: h.runs,
            seed: h.seed,
            depth: h.depth,
            at: h.at,
            shard: h.shard,
            budgets: h.budgets,
            directions: h.directions,
            facts: h.facts,
            view: h.view,
            failures: results,
            hazards: Vec::new(),
        };
        r.hazards = r.find_hazards();
        r
    }

    fn find_hazards(&self) -> Vec<Hazard> {
        let mut out = Vec::new();
        let by_name = |n: &str| self.failures.iter().find(|f| f.failure.name == n);
        for nb in &self.facts.no_bfd {
            let silent = format!("silent {}", nb.link);
            let measured = by_name(&silent)
                .and_then(|f| f.summary.hists.get(&format!("detection.{}", nb.router)))
                .filter(|h| !h.is_empty())
                .map(|h| {
                    format!(
                        "; measured under `{silent}`: {} detects in p50 {}, p99 {}",
                        nb.router,
                        show_ns(h.quantile(0.5)),
                        show_ns(h.quantile(0.99))
                    )
                })
                .unwrap_or_default();
            out.push(Hazard {
                kind: HazardKind::HoldTimerOnly,
                failure: by_name(&silent).map(|_| silent.clone()),
                detail: format!(
                    "{}: BFD does not run ({} has none; the MSEE offers it), so a silent failure of {} is detected by the hold timer alone ({}){measured}",
                    nb.session, nb.router, nb.link, nb.hold
                ),
            });
        }
        let mut by_design: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for f in &self.failures {
            for (pair, a) in &f.asymmetry {
                if a.before > 0 {
                    by_design
                        .entry(pair.as_str())
                        .or_default()
                        .push(f.failure.name.as_str());
                }
                for (ways, n) in &a.after {
                    out.push(Hazard {
                        kind: HazardKind::AsymmetricAfterFailure,
                        failure: Some(f.failure.name.clone()),
                        detail: format!(
                            "{ways} ({n}/{} runs; symmetric before the failure)",
                            f.runs()
                        ),
                    });
                }
            }
        }
        for (pair, _) in by_design {
            out.push(Hazard {
                kind: HazardKind::AsymmetricByDesign,
                failure: None,
                detail: format!(
                    "{pair}: the two directions take different ways before any failure"
                ),
            });
        }
        if self.facts.vpn {
            for f in &self.failures {
                let runs = f.runs();
                for d in &f.directions {
                    let Some(v4) = d.direction.strip_suffix("_ipv6") else {
                        continue;
                    };
                    let v4 = f.directions.iter().find(|x| x.direction == v4);
                    if runs > 0
                        && d.open_runs == runs
                        && let Some(v4) = v4
                        && v4.open_runs == 0
                    {
                        out.push(Hazard {
                            kind: HazardKind::VpnFamily,
                            failure: Some(f.failure.name.clone()),
                            detail: format!(
                                "{} has no path to the end in every run while {} gets one back: the VPN does not carry IPv6",
                                d.direction, v4.direction
                            ),
                        });
                    }
                }
            }
        }
        if let Some((limit, n)) = self.facts.vpn_prefix_limit
            && n > limit
        {
            out.push(Hazard {
                kind: HazardKind::VpnPrefixCount,
                failure: None,
                detail: format!(
                    "on-premises advertises {n} prefixes and the VPN gateway accepts at most {limit}: without ExpressRoute the VPN session is dropped (Cease 6/1)"
                ),
            });
        }
        out.sort_by_key(|h| h.kind);
        out
    }

    /// Failures that leave a direction without a path until the end in every run.
    #[must_use]
    pub fn single_points_of_failure(&self) -> Vec<&FailureResult> {
        self.failures
            .iter()
            .filter(|f| f.single_point_of_failure(f.runs()))
            .collect()
    }

    /// Directions some failure leaves without a path until the end (in every run), with
    /// those failures.
    #[must_use]
    pub fn non_redundant(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in &self.failures {
            for d in &f.directions {
                if f.runs() > 0 && d.open_runs == f.runs() {
                    out.entry(d.direction.clone())
                        .or_default()
                        .push(f.failure.name.clone());
                }
            }
        }
        out
    }

    /// The destination prefixes of a direction, in words (at most three, then a count).
    #[must_use]
    pub fn prefixes_of(&self, direction: &str) -> String {
        let Some(list) = self.facts.prefixes.get(direction) else {
            return String::new();
        };
        let mut s = list.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        if list.len() > 3 {
            let _ = write!(s, " and {} more", list.len() - 3);
        }
        s
    }

    /// Failures over the budget: a direction's outage open at the end in some run, or its p99
    /// over its budget.
    #[must_use]
    pub fn over_budget(&self) -> Vec<&FailureResult> {
        self.failures
            .iter()
            .filter(|f| {
                f.directions.iter().any(|d| {
                    d.open_runs > 0
                        || self
                            .budgets
                            .get(&d.direction)
                            .is_some_and(|b| d.p99_us > b.as_nanos() / 1_000)
                })
            })
            .collect()
    }

    /// Whether the design passes: no failure over the budget (an open outage is over any).
    #[must_use]
    pub fn passes(&self) -> bool {
        self.over_budget().is_empty()
    }

    /// The ranked table and the conclusions, as text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "audit: {}\n  {} failures{}, each from {} to the end of the run, {} runs each (seed {})",
            self.scenario,
            self.failures.len(),
            if self.depth > 1 {
                " (single failures and pairs)"
            } else {
                ""
            },
            self.at,
            self.runs,
            self.seed
        );
        if let Some(sh) = self.shard {
            let _ = writeln!(
                s,
                "  shard {}/{}: a slice of the runs only; `holdtime merge` every shard's JSON for the audit",
                sh.index, sh.count
            );
        }
        if !self.budgets.is_empty() {
            let b: Vec<String> = self
                .budgets
                .iter()
                .map(|(d, b)| format!("{d} <= {}", crate::fmt::duration(*b)))
                .collect();
            let _ = writeln!(s, "  budget (outage p99): {}", b.join(", "));
        }
        let width = self
            .failures
            .iter()
            .map(|f| f.failure.name.len())
            .max()
            .unwrap_or(0)
            .clamp(44, 90);
        let _ = writeln!(
            s,
            "\n{:>4}  {:<width$} {:<22} {:>11} {:>11} {:>11} {:>9}",
            "rank", "failure", "worst direction", "p50", "p99", "max", "open runs"
        );
        for (i, f) in self.failures.iter().enumerate() {
            let Some(w) = f.worst() else { continue };
            let lost = w.max_us > 0 || w.open_runs > 0;
            let _ = writeln!(
                s,
                "{:>4}  {:<width$} {:<22} {:>11} {:>11} {:>11} {:>9}",
                i + 1,
                f.failure.name,
                if lost {
                    w.direction.as_str()
                } else {
                    "(none lost)"
                },
                show_us(w.p50_us),
                show_us(w.p99_us),
                show_us(w.max_us),
                format!("{}/{}", w.open_runs, f.runs())
            );
        }
        let spofs: Vec<&FailureResult> = self
            .single_points_of_failure()
            .into_iter()
            .filter(|f| f.failure.parts.len() == 1)
            .collect();
        let _ = writeln!(s);
        if spofs.is_empty() {
            let _ = writeln!(
                s,
                "single points of failure: none (after every single failure each direction gets a path back in every run)"
            );
        } else {
            let _ = writeln!(
                s,
                "single points of failure (a direction stays down to the end in every run):"
            );
            for f in spofs {
                let down: Vec<&str> = f
                    .directions
                    .iter()
                    .filter(|d| d.open_runs == f.runs())
                    .map(|d| d.direction.as_str())
                    .collect();
                let _ = writeln!(s, "  {}: {}", f.failure.name, down.join(", "));
            }
        }
        let nr = self.non_redundant();
        if nr.is_empty() {
            let _ = writeln!(s, "non-redundant prefixes: none");
        } else {
            let _ = writeln!(s, "non-redundant prefixes (no path until repaired after):");
            for (d, fs) in &nr {
                let _ = writeln!(s, "  {d} ({}): {}", self.prefixes_of(d), fs.join("; "));
            }
        }
        if self.hazards.is_empty() {
            let _ = writeln!(s, "hazards: none found");
        } else {
            let _ = writeln!(s, "hazards:");
            for h in &self.hazards {
                let label = match h.kind {
                    HazardKind::HoldTimerOnly => "hold timer only",
                    HazardKind::AsymmetricAfterFailure => "asymmetric after a failure",
                    HazardKind::AsymmetricByDesign => "asymmetric by design",
                    HazardKind::VpnFamily | HazardKind::VpnPrefixCount => {
                        "VPN cannot carry what ExpressRoute carried"
                    }
                };
                match &h.failure {
                    Some(f) if h.kind != HazardKind::HoldTimerOnly => {
                        let _ = writeln!(s, "  {label}: under `{f}`: {}", h.detail);
                    }
                    _ => {
                        let _ = writeln!(s, "  {label}: {}", h.detail);
                    }
                }
            }
        }
        let over = self.over_budget();
        if over.is_empty() {
            let _ = writeln!(s, "verdict: every failure within budget");
        } else {
            let _ = writeln!(
                s,
                "verdict: {} failure(s) over budget (an outage over its budget, or open at the end): {}",
                over.len(),
                over.iter()
                    .map(|f| f.failure.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        s
    }

    /// The ranked failures as CSV: one row per failure and direction, durations in
    /// microseconds (the header says `_us`).
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "rank,failure,kind,target,direction,p50_us,p99_us,max_us,open_runs,runs\n",
        );
        for (i, f) in self.failures.iter().enumerate() {
            let kinds: Vec<&str> = f.failure.parts.iter().map(|p| p.kind.name()).collect();
            for d in &f.directions {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{},{},{},{},{}",
                    i + 1,
                    csv(&f.failure.name),
                    csv(&kinds.join(" + ")),
                    csv(&f.failure.target),
                    csv(&d.direction),
                    d.p50_us,
                    d.p99_us,
                    d.max_us,
                    d.open_runs,
                    f.runs()
                );
            }
        }
        s
    }

    /// The result as pretty JSON (format [`FORMAT`]), with each failure's histograms so that
    /// shards can be merged.
    ///
    /// # Errors
    ///
    /// [`JsonError`] if a histogram cannot be encoded.
    pub fn to_json(&self) -> Result<String, JsonError> {
        let failures = self
            .failures
            .iter()
            .enumerate()
            .map(|(i, f)| {
                Ok(FailureJson {
                    rank: i + 1,
                    failure: f.failure.clone(),
                    runs: f.runs(),
                    directions: f
                        .directions
                        .iter()
                        .map(|d| DirectionJson::of(d, &f.summary))
                        .collect(),
                    asymmetry: f.asymmetry.clone(),
                    summary: PointJson::of(&f.summary)?,
                })
            })
            .collect::<Result<Vec<_>, JsonError>>()?;
        let json = AuditJson {
            format: FORMAT.to_owned(),
            scenario: self.scenario.clone(),
            source: self.source.clone(),
            runs: self.runs,
            seed: self.seed,
            seed_derivation: "run r of every failure: splitmix64(seed + (r+1)*0x9E3779B97F4A7C15)"
                .to_owned(),
            depth: self.depth,
            at: self.at,
            shard: self.shard,
            budgets: self.budgets.clone(),
            directions: self.directions.clone(),
            passes: self.passes(),
            single_points_of_failure: self
                .single_points_of_failure()
                .iter()
                .map(|f| f.failure.name.clone())
                .collect(),
            non_redundant: self.non_redundant(),
            hazards: self.hazards.clone(),
            facts: self.facts.clone(),
            topology: self.view.clone(),
            failures,
        };
        let mut s = serde_json::to_string_pretty(&json)?;
        s.push('\n');
        Ok(s)
    }

    /// Reads [`Self::to_json`]'s output (the conclusions are recomputed from the
    /// histograms).
    ///
    /// # Errors
    ///
    /// [`JsonError`] if the text is not an audit result of this format.
    pub fn from_json(text: &str) -> Result<Self, JsonError> {
        JsonError::check_tag(text, FORMAT, &OLD_FORMATS)?;
        let j: AuditJson = serde_json::from_str(text)?;
        let measured = j
            .failures
            .into_iter()
            .map(|f| Ok((f.failure, f.summary.into_point()?, f.asymmetry)))
            .collect::<Result<Vec<_>, JsonError>>()?;
        Ok(Self::assemble(
            Header {
                scenario: j.scenario,
                source: j.source,
                runs: j.runs,
                seed: j.seed,
                depth: j.depth,
                at: j.at,
                shard: j.shard,
                budgets: j.budgets,
                directions: j.directions,
                facts: j.facts,
                view: j.topology,
            },
            measured,
        ))
    }
}

/// The JSON form of an audit.
#[derive(Debug, Serialize, Deserialize)]
struct AuditJson {
    format: String,
    scenario: String,
    source: String,
    runs: u64,
    seed: u64,
    seed_derivation: String,
    depth: u8,
    #[serde(rename = "at_ns", with = "super::ns")]
    at: Duration,
    shard: Option<Shard>,
    #[serde(rename = "budgets_ns", with = "super::ns::map")]
    budgets: BTreeMap<String, Duration>,
    directions: Vec<String>,
    /// Derived (informative; recomputed when read back).
    passes: bool,
    single_points_of_failure: Vec<String>,
    non_redundant: BTreeMap<String, Vec<String>>,
    hazards: Vec<Hazard>,
    facts: DesignFacts,
    /// The design's network (absent in files written before the page drew it).
    #[serde(default)]
    topology: TopologyView,
    failures: Vec<FailureJson>,
}

/// One failure in JSON.
#[derive(Debug, Serialize, Deserialize)]
struct FailureJson {
    rank: usize,
    failure: Failure,
    runs: u64,
    /// Derived (informative; recomputed from `summary` when read back).
    directions: Vec<DirectionJson>,
    asymmetry: BTreeMap<String, Asymmetry>,
    summary: PointJson,
}

/// One direction under one failure in JSON: its outage quantiles in integer nanoseconds,
/// from the failure's histogram (the [`DirectionOutcome`] keeps microseconds for the text).
#[derive(Debug, Serialize, Deserialize)]
struct DirectionJson {
    direction: String,
    p50_ns: u64,
    p99_ns: u64,
    max_ns: u64,
    open_runs: u64,
}

impl DirectionJson {
    fn of(d: &DirectionOutcome, summary: &PointResult) -> Self {
        let hist = summary.hists.get(&format!("outage.{}", d.direction));
        Self {
            direction: d.direction.clone(),
            p50_ns: hist.map_or(0, |x| x.quantile(0.5)),
            p99_ns: hist.map_or(0, |x| x.quantile(0.99)),
            max_ns: hist.map_or(0, super::histogram::Hist::max),
            open_runs: d.open_runs,
        }
    }
}

/// Merges the shards of one audit into the unsharded result (the same bytes in every format).
///
/// # Errors
///
/// [`super::MergeError`] for inputs that are not the complete set of shards of one audit.
pub fn merge(parts: &[AuditResult]) -> Result<AuditResult, super::MergeError> {
    use super::MergeError;
    let first = parts.first().ok_or(MergeError::Empty)?;
    let count = first.shard.ok_or(MergeError::NotAShard(1))?.count;
    let mut coverage = super::merge::Coverage::new(count);
    fn names(r: &AuditResult) -> Vec<&str> {
        let mut v: Vec<&str> = r.failures.iter().map(|f| f.failure.name.as_str()).collect();
        v.sort_unstable();
        v
    }
    for (i, p) in parts.iter().enumerate() {
        let index = i + 1;
        let shard = p.shard.ok_or(MergeError::NotAShard(index))?;
        let mismatch = |what| MergeError::Mismatch { index, what };
        if p.scenario != first.scenario || p.source != first.source {
            return Err(mismatch("scenario"));
        }
        if p.seed != first.seed {
            return Err(mismatch("seed"));
        }
        if p.runs != first.runs {
            return Err(mismatch("runs"));
        }
        if p.depth != first.depth || p.at != first.at || names(p) != names(first) {
            return Err(mismatch("failures"));
        }
        if p.directions != first.directions || p.budgets != first.budgets {
            return Err(mismatch("directions or budgets"));
        }
        if p.facts != first.facts || p.view != first.view {
            return Err(mismatch("design"));
        }
        if shard.count != count {
            return Err(mismatch("shard count"));
        }
        coverage.mark(shard)?;
    }
    coverage.complete()?;
    // Every failure, in the order of the first shard's ranking (the assembly ranks again).
    let mut acc: BTreeMap<String, (Failure, PointResult, BTreeMap<String, Asymmetry>)> =
        BTreeMap::new();
    for part in parts {
        for f in &part.failures {
            let e = acc.entry(f.failure.name.clone()).or_insert_with(|| {
                (
                    f.failure.clone(),
                    PointResult::new(f.summary.point.clone()),
                    BTreeMap::new(),
                )
            });
            e.1.add(&f.summary)?;
            for (pair, a) in &f.asymmetry {
                let mine = e.2.entry(pair.clone()).or_default();
                mine.before += a.before;
                for (w, n) in &a.after {
                    *mine.after.entry(w.clone()).or_insert(0) += n;
                }
            }
        }
    }
    Ok(AuditResult::assemble(
        Header {
            scenario: first.scenario.clone(),
            source: first.source.clone(),
            runs: first.runs,
            seed: first.seed,
            depth: first.depth,
            at: first.at,
            shard: None,
            budgets: first.budgets.clone(),
            directions: first.directions.clone(),
            facts: first.facts.clone(),
            view: first.view.clone(),
        },
        acc.into_values().collect(),
    ))
}

/// A CSV field, quoted when it needs it (RFC 4180 §2).
fn csv(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}
