//! The world: a validated [`Scenario`] instantiated as speakers, links, connections and a data
//! plane in one `sim-core` engine, run to the end, and turned into a [`RunReport`].
//!
//! # One step
//!
//! The engine pops the earliest event (ties first-in, first-out). A network event moves a
//! frame one hop or fires a TCP timer ([`Net`]); what arrives becomes an input to a router
//! ([`RouterRt`]); a router timer drives its sessions; a fault changes links or routers. After
//! every event the world drains the outputs of everything it touched: bytes onto connections,
//! BFD packets onto paths, timers into the engine, forwarding changes into the [`Plane`], and
//! finally re-evaluates every flow whose path may have changed. Nothing here reads a clock or
//! draws ambient randomness: every random stream comes from the run's seed.
//!
//! # Start-up, the fork, and seeds
//!
//! A run has two parts. The **start-up** (routers start, sessions open, routes converge) is
//! simulated with the scenario file's own `seed`, whatever seed the run was given, up to the
//! **fork instant** ([`World::fork_time`]). There the run's seed takes over ([`World::fork`]):
//! every random stream (link loss and jitter, TCP initial sequence numbers, every session's
//! timer jitter) is re-keyed from it, every Established session's keepalive stream is put
//! in its stationary phase (`bgp::fsm::Session::rephase_keepalive`: the age of the last
//! keepalive drawn from the renewal process's equilibrium law, the peer's hold timer
//! re-armed to match), and the faults are scheduled with times drawn from it. So a failure
//! strikes every keepalive stream at an independent, uniformly random phase, which a fixed
//! fault time after a shared start-up could not give; and the start-up, identical for every
//! seed, can be simulated once and cloned ([`crate::Prepared`], what `holdtime sweep` does)
//! with the same result, byte for byte, as simulating it again (`holdtime run --seed`). The
//! probe flows' 5-tuple hashes (which link ECMP gives each flow) are made with the world, so
//! they too follow the file's seed; sweeping the file's `seed` varies them and the start-up.
//!
//! The fork instant is [`FORK_LEAD`] (or 200 BFD intervals, if longer) before the earliest
//! time any fault can start, so that BFD's jittered transmissions forget the fork's phase
//! before the first fault; then the simulation waits, if need be (for at most half the lead),
//! until no BGP byte is unacknowledged, so that no message is in flight when the phases are
//! re-drawn. A capture of such a run shows it: the gap between the last keepalive before the
//! fork and the first after it is not one jittered interval. It is the
//! start (nothing shared) when no fault is scheduled, when a fault may start within the lead,
//! or when a link is lossy from the start: loss before the first fault can change what the
//! fault finds (a session already flapped, a retransmission in progress), and that must vary
//! with the seed.
//!
//! # Modelling choices (documented in the README too)
//!
//! - On-premises hosts reach the CEs through a first-hop redundancy that moves at once: the
//!   `onprem` ingress spreads flows per 5-tuple over the CEs that are running.
//! - A VNet forwards towards on-premises over the ExpressRoute gateway's *programmed* routes,
//!   which follow the gateway's BGP table after the gateway's convergence delay, and over the
//!   VPN gateway's routes only for prefixes ExpressRoute does not have (domain.md: for the same
//!   prefix ExpressRoute wins whatever the AS path; longest prefix first).
//! - Each flow of a probe sends its own probe stream at the probe interval (parallel pings).
//! - Azure's gates (provider state, circuit Status, peering enabled, Microsoft peering's
//!   public prefixes) and faults that change them (`deprovision`, `public_prefixes_state`,
//!   the down phase of `msee_maintenance`) act at the MSEE: it stops the session with a
//!   NOTIFICATION Cease / Administrative Shutdown (6/2, RFC 4486 §4) — so the customer end
//!   learns at once, as the documented manual failover test shows — and refuses connections
//!   until the gate opens; the customer's next connection attempt then brings it up. A
//!   deprovisioned circuit's sessions end with 6/3 "Peer De-configured" instead.
//! - `msee_maintenance` drains by AS-path prepending on every session of that MSEE (towards
//!   the customer and the ExpressRoute gateway) through `Speaker::set_export_policy`, then
//!   closes its sessions for `down_for`; the link's carrier stays up (nothing in
//!   Microsoft's description says the customer's interface goes down).
//! - `prefix_flood` originates the extra prefixes (generated /24s from 100.64.0.0/10) at once
//!   on the customer router, with an export filter on its other sessions so that only the
//!   named sessions receive them; the MSEE's max-prefix limit trips Cease 6/1 and the session
//!   comes back after the restart delay once the flood is withdrawn.
//! - The VPN: `vpn_tunnel_down` silences the tunnel segments; IKE dead-peer detection
//!   (RFC 3706) declares the tunnel down after the gateway's DPD timeout, which takes the BGP
//!   session over it down at both ends like carrier loss (reported as `carrier`). When the
//!   tunnel comes back the device reconnects at once. `gateway_instance_failure`
//!   (active-standby) makes the gateway unreachable without telling anyone, for the failover
//!   time drawn from the seeded stream; the standby then starts with an empty state.
//! - Routing domains: one speaker per router, with export filters standing in for the MSEE's
//!   per-peering VRFs (Microsoft peering carries only Microsoft and public prefixes, private
//!   peering none of them). Microsoft's network and the internet edge are pseudo routers of
//!   the data plane: CEs default to the internet edge, Microsoft reaches on-premises public
//!   prefixes through the MSEEs that have a route and over the internet otherwise.
//! - Bandwidth: a `[[probe]]` with a `rate` offers that load per direction, spread evenly over
//!   its flows (per-flow ECMP decides which link each flow takes). Every direction of a
//!   segment with a bandwidth (the circuit's access and core segments carry the circuit's
//!   bandwidth on each link, so two links give the 2× burst) is a capacity in the data
//!   plane's fluid model ([`Plane::congestion`]); what does not fit is dropped, counted as
//!   `bytes_dropped.DIR` from the moment measuring starts (every flow delivered once, or the
//!   first fault), and overloads show in the timeline. Probes without a rate offer no load.
//!   Congestion drops are not probe losses: probes count outages only.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

use bgp::rib::prefix_list::{self, PrefixList};
use bgp::wire::CeaseSubcode;
use ipnet::{IpNet, Ipv4Net};
use sim_core::engine::Engine;
use sim_core::link::{DirectionConfig, JitterModel, Link, LossModel as SimLoss, QueueLimit};
use sim_core::queue::EventId;
use sim_core::rng::{Seed, Stream, fnv1a64};
use sim_core::time::{Duration, Instant};
use sim_core::trace::{Record, Tracer};

use super::dataplane::{self as dp, AdjIx, FlowMeter, Plane, Walk};
use super::net::{CapturePoint, CloseCause, Net, NetEvent, PathNode, SegIx, SessIx, Upcall};
use super::router::{Out, RouterRt, RtEvent, SessionDown};
use crate::RunError;
use crate::capture::Tap;
use crate::report::{
    BytesDropped, Convergence, Detection, DownCause, FlapCount, MessageCount, Outage, PathChange,
    ProbeStats, RunReport, TimelineEntry, TimelineEvent,
};
use crate::scenario::{FaultAction, MessageType, Scenario};
use crate::spec::{AddressFamily, SessionStateName, Via};
use crate::topology::{self, Node, PeeringKind, PublicPrefixesState, Role, Target, Topology};
use crate::units::{LossModel, TimeSpec};

/// The engine's event type.
#[derive(Debug, Clone)]
pub(crate) enum Ev {
    /// A network event.
    Net(NetEvent),
    /// A router's timer.
    Router(usize),
    /// A fault starts (`end == false`) or ends by itself.
    Fault { index: usize, end: bool },
    /// The ExpressRoute gateway finishes programming the routes it had at `version`.
    Program { version: u64 },
    /// A later stage of a multi-step fault (maintenance, dead-peer detection, failover).
    Stage { index: usize, stage: u8 },
    /// The end of the run.
    End,
}

impl From<NetEvent> for Ev {
    fn from(e: NetEvent) -> Self {
        Self::Net(e)
    }
}

/// A flow being measured.
#[derive(Clone)]
struct FlowRt {
    direction: String,
    index: u32,
    flow: dp::Flow,
    meter: FlowMeter,
    via: Via,
    /// Offered load in bits per second (0: none).
    rate_bps: u64,
}

/// Per session: the state of each end and the cause to report when it next goes down.
#[derive(Clone)]
struct SessionRt {
    state: [SessionStateName; 2],
    pending_cause: [Option<DownCause>; 2],
    up: bool,
    flaps: u64,
}

pub(crate) struct World<'a> {
    sc: &'a Scenario,
    topo: &'a Topology,
    seed: Seed,
    engine: Engine<Ev>,
    net: Net,
    routers: Vec<RouterRt>,
    router_timer: Vec<Option<(Instant, EventId)>>,
    sessions: Vec<SessionRt>,
    // Data plane.
    plane: Plane,
    /// Topology router → plane router.
    plane_of: Vec<dp::RouterIx>,
    /// Per session: adjacency from end 0 to end 1 and from end 1 to end 0.
    adj: Vec<[AdjIx; 2]>,
    onprem: dp::RouterIx,
    onprem_adjs: Vec<(usize, AdjIx)>,
    vnet_in: Option<(dp::RouterIx, Option<AdjIx>, Option<AdjIx>)>,
    /// The ExpressRoute gateway's BGP forwarding table (prefix → sessions), and the version of
    /// it the data plane has programmed.
    ergw_table: BTreeMap<IpNet, Vec<usize>>,
    ergw_version: u64,
    flows: Vec<FlowRt>,
    plane_dirty: bool,
    /// A link or a router changed state since the adjacencies were last refreshed (only the
    /// world changes them: faults, carrier, crashes), so `settle` need not look every time.
    links_dirty: bool,
    /// The internet edge (pseudo router): on-premises and Microsoft meet here.
    inet: dp::RouterIx,
    /// Microsoft's network behind the MSEEs and the internet edge (the `microsoft` endpoint).
    mscloud: dp::RouterIx,
    /// Adjacencies that cross the internet segment.
    inet_adjs: Vec<AdjIx>,
    /// Microsoft's adjacencies to each MSEE (topology router, adjacency) and to the internet.
    mscloud_msee: Vec<(usize, AdjIx)>,
    mscloud_inet: AdjIx,
    // Faults.
    /// Per session: why Azure holds it down (bits `BLOCK_*`); the Azure end refuses
    /// connections and stays stopped while any bit is set.
    blocks: Vec<u8>,
    /// Per circuit: deprovisioned by a fault.
    deprovisioned: Vec<bool>,
    /// Per circuit: the advertised-public-prefixes state set by a fault.
    pp_state: Vec<Option<PublicPrefixesState>>,
    /// Per session: the tunnel under it was declared down by dead-peer detection.
    tunnel_down: Vec<bool>,
    /// Per router: FIB changes of prefixes not listed one by one, to sum up (changed, removed).
    bulk_fib: BTreeMap<usize, (Instant, usize, usize)>,
    /// Per fault: state saved at its start to undo at its end.
    undo: BTreeMap<usize, Undo>,
    fault_at: Vec<Instant>,
    fault_times: Vec<Instant>,
    saved_loss: BTreeMap<usize, SimLoss>,
    // Measurement.
    timeline: Vec<TimelineEntry>,
    detections: Vec<Detection>,
    last_fib_change: BTreeMap<usize, Instant>,
    /// BFD packets sent (BGP messages are counted on the wire, by `net`).
    bfd_sent: u64,
    path_changes: Vec<PathChange>,
    /// The JSON-lines trace, when one was asked for (no trace: no record is even built).
    tracer: Option<Tracer<&'a mut dyn Write>>,
    end: Instant,
    /// The capture sink (`holdtime run --pcap/--mrt`), if any.
    tap: Option<&'a mut dyn Tap>,
    /// The routers have been started.
    started: bool,
    /// Where the start-up shared by every seed ended (see the module doc).
    fork_at: Instant,
    /// Per capacity resource of the plane: a readable name (`circuit.primary.core towards
    /// msee1`).
    res_names: Vec<String>,
    /// Bytes dropped by congestion, per direction.
    drops: dp::DropMeter,
    /// Resources overloaded at the last evaluation, with the load offered there.
    overloaded: Vec<(dp::ResIx, u64)>,
}

/// How long before the earliest fault the start-up shared by every seed ends (see the module
/// doc): a minute of jittered BFD transmissions at a second or less erases their phase at the
/// fork (the phase after `n` intervals jittered by 75–100 % is uniform to within 0.87^n).
pub(crate) const FORK_LEAD: Duration = Duration::from_secs(60);

/// Azure holds a session down because a configuration gate is closed (domain.md: the circuit
/// must be Provisioned and Enabled, the peering enabled, Microsoft peering's public prefixes
/// Configured).
const BLOCK_GATE: u8 = 1;
/// ... because the circuit was deprovisioned by a fault.
const BLOCK_DEPROVISIONED: u8 = 2;
/// ... because its MSEE is down for maintenance.
const BLOCK_MAINTENANCE: u8 = 4;

/// What a fault changed, to undo at its end.
#[derive(Debug, Clone)]
enum Undo {
    /// A prefix flood: the router, the prefixes it originated, the export filters replaced.
    Flood {
        router: usize,
        prefixes: Vec<IpNet>,
        filters: Vec<(SessIx, Option<PrefixList>)>,
    },
    /// Tunnel segments silenced (and the sessions over them).
    Tunnels { segments: Vec<usize> },
    /// A stage of a multi-step fault is done (later stages must not repeat it).
    Done,
}

/// The TCP model's configuration from the scenario's `[tcp]`.
fn tcp_config(c: &crate::scenario::TcpConfig) -> sim_core::tcp::TcpConfig {
    let base = match c.preset {
        crate::spec::TcpPreset::Linux => sim_core::tcp::TcpConfig::linux(),
        crate::spec::TcpPreset::Rfc6298 => sim_core::tcp::TcpConfig::rfc6298(),
    };
    sim_core::tcp::TcpConfig {
        initial_rto: c.rto_initial,
        min_rto: c.rto_min,
        max_rto: c.rto_max,
        max_retransmissions: c.max_retries,
        ..base
    }
}

/// Builds the link of a topology segment.
fn link_of(seg: &topology::Segment, seed: Seed) -> Link {
    let cfg = DirectionConfig {
        delay: seg.props.delay,
        jitter: if seg.props.jitter.is_zero() {
            JitterModel::None
        } else {
            JitterModel::Uniform {
                max: seg.props.jitter,
            }
        },
        loss: sim_loss(seg.props.loss),
        bandwidth_bps: seg.props.bandwidth.map_or(0, |b| b.bps()),
        queue: QueueLimit::default(),
    };
    Link::symmetric(&seg.name, seed, &cfg)
}

/// The link layer's loss process for a scenario's loss model; a model that cannot lose a
/// packet (probability 0, or 0 in both states) is no loss at all, so that it draws nothing.
fn sim_loss(l: LossModel) -> SimLoss {
    match l {
        LossModel::Bernoulli(p) if p <= 0.0 => SimLoss::None,
        LossModel::Bernoulli(p) => SimLoss::Bernoulli { p },
        LossModel::GilbertElliott {
            loss_good,
            loss_bad,
            ..
        }
        | LossModel::GilbertElliottPerPacket {
            loss_good,
            loss_bad,
            ..
        } if loss_good <= 0.0 && loss_bad <= 0.0 => SimLoss::None,
        LossModel::GilbertElliott {
            mean_good,
            mean_bad,
            loss_good,
            loss_bad,
        } => SimLoss::GilbertElliott {
            mean_good,
            mean_bad,
            loss_good,
            loss_bad,
        },
        LossModel::GilbertElliottPerPacket {
            p,
            r,
            loss_good,
            loss_bad,
        } => SimLoss::GilbertElliottPerPacket {
            p_good_bad: p,
            p_bad_good: r,
            loss_good,
            loss_bad,
        },
    }
}

fn path_node(n: &Node) -> PathNode {
    match n {
        Node::Router(r) => PathNode::Router(r.0),
        Node::Transit(name) => PathNode::Transit(name.clone()),
    }
}

fn draw(spec: TimeSpec, stream: &mut Stream) -> Duration {
    match spec {
        TimeSpec::Fixed(d) => d,
        TimeSpec::Range { min, max } => stream.range_duration(min, max),
    }
}

fn state_name(s: bgp::fsm::State) -> SessionStateName {
    use bgp::fsm::State;
    match s {
        State::Idle => SessionStateName::Idle,
        State::Connect => SessionStateName::Connect,
        State::Active => SessionStateName::Active,
        State::OpenSent => SessionStateName::OpenSent,
        State::OpenConfirm => SessionStateName::OpenConfirm,
        State::Established => SessionStateName::Established,
    }
}

/// An address inside `net` for host number `k` (skipping the network address).
fn host_in(net: &IpNet, k: u32) -> IpAddr {
    match net {
        IpNet::V4(n) => {
            let base = u32::from(n.network());
            let size = 1u64 << (32 - u32::from(n.prefix_len()));
            let off = 1 + u64::from(k) % size.saturating_sub(2).max(1);
            IpAddr::V4(Ipv4Addr::from(
                base.wrapping_add(u32::try_from(off).unwrap_or(1)),
            ))
        }
        IpNet::V6(n) => {
            let host_bits = 128 - u32::from(n.prefix_len());
            let off = if host_bits == 0 {
                0
            } else {
                1 + u128::from(k) % ((1u128 << host_bits.min(64)) - 1).max(1)
            };
            IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(n.network()).wrapping_add(off),
            ))
        }
    }
}

impl<'a> World<'a> {
    /// Builds the world for `sc`, keyed by the scenario's own seed until [`Self::fork`].
    pub(crate) fn new(
        sc: &'a Scenario,
        trace: Option<&'a mut dyn Write>,
    ) -> Result<Self, RunError> {
        let topo = &sc.topology;
        let seed = Seed(sc.seed);
        let segments = topo
            .segments
            .iter()
            .map(|s| {
                (
                    link_of(s, seed),
                    [path_node(&s.ends[0]), path_node(&s.ends[1])],
                )
            })
            .collect();
        let sessions: Vec<([usize; 2], Vec<usize>)> = topo
            .sessions
            .iter()
            .map(|s| {
                (
                    [s.ends[0].router.0, s.ends[1].router.0],
                    s.path.iter().map(|p| p.0).collect(),
                )
            })
            .collect();
        let tcp = tcp_config(&sc.tcp);
        let mut net = Net::new(seed, tcp, topo.routers.len(), segments, &sessions)
            .map_err(|e| RunError::Model(e.to_string()))?;
        for (i, _) in topo.sessions.iter().enumerate() {
            if topo.session_gate(topology::SessionIx(i)).is_some() {
                net.set_accepting(SessIx(i), false);
            }
        }
        let mut routers = Vec::with_capacity(topo.routers.len());
        for (i, r) in topo.routers.iter().enumerate() {
            let rseed = fnv1a64(format!("{}/router/{}", seed.0, r.name).as_bytes());
            routers.push(RouterRt::new(topo, i, rseed).map_err(RunError::Model)?);
        }

        // Data plane: one plane router per topology router, then the pseudo-routers.
        let mut plane = Plane::new();
        let plane_of: Vec<dp::RouterIx> = topo.routers.iter().map(|_| plane.add_router()).collect();
        let adj = topo
            .sessions
            .iter()
            .map(|s| {
                let a = plane_of[s.ends[0].router.0];
                let b = plane_of[s.ends[1].router.0];
                [plane.add_adjacency(a, b), plane.add_adjacency(b, a)]
            })
            .collect::<Vec<[AdjIx; 2]>>();
        let res_names = bind_capacities(topo, &net, &mut plane, &adj);
        for (i, r) in topo.routers.iter().enumerate() {
            let onprem_v6 = topo.onprem_ipv6_prefixes.iter().map(|p| IpNet::V6(*p));
            let local: Vec<IpNet> = match r.role {
                Role::Ce => topo
                    .onprem_prefixes
                    .iter()
                    .chain(&topo.public_prefixes)
                    .map(|p| IpNet::V4(*p))
                    .chain(onprem_v6)
                    .collect(),
                Role::VpnDevice => topo
                    .onprem_prefixes
                    .iter()
                    .map(|p| IpNet::V4(*p))
                    .chain(onprem_v6)
                    .collect(),
                Role::ErGateway | Role::VpnGateway => topo
                    .vnets
                    .iter()
                    .flat_map(|v| {
                        v.prefixes
                            .iter()
                            .map(|p| IpNet::V4(*p))
                            .chain(v.ipv6_prefixes.iter().map(|p| IpNet::V6(*p)))
                    })
                    .collect(),
                Role::Msee => topo
                    .internet
                    .microsoft_prefixes
                    .iter()
                    .map(|p| IpNet::V4(*p))
                    .collect(),
                Role::Pe => Vec::new(),
            };
            for p in local {
                plane.add_local(plane_of[i], p);
            }
        }
        let onprem = plane.add_router();
        let mut onprem_adjs = Vec::new();
        for (i, r) in topo.routers.iter().enumerate() {
            if r.role == Role::Ce {
                onprem_adjs.push((i, plane.add_adjacency(onprem, plane_of[i])));
            }
        }
        for default in ["0.0.0.0/0", "::/0"] {
            if let Ok(net) = default.parse::<IpNet>() {
                plane.set_route(onprem, net, onprem_adjs.iter().map(|(_, a)| *a).collect());
            }
        }
        let vnet_in = if topo.vnets.is_empty() {
            None
        } else {
            let v = plane.add_router();
            let er = Some(plane.add_adjacency(v, plane_of[topo.er_gateway.router.0]));
            let vpn = topo
                .vpn
                .as_ref()
                .map(|g| plane.add_adjacency(v, plane_of[g.router.0]));
            Some((v, er, vpn))
        };

        // The internet: on-premises reaches it from every CE (its edge's default route) and,
        // when Microsoft peering shares that edge, directly for Microsoft's prefixes; Microsoft
        // reaches on-premises public prefixes over it when no MSEE has a route.
        let inet = plane.add_router();
        let mscloud = plane.add_router();
        let default_route: IpNet = "0.0.0.0/0".parse().unwrap_or_default();
        let microsoft: Vec<IpNet> = topo
            .internet
            .microsoft_prefixes
            .iter()
            .map(|p| IpNet::V4(*p))
            .collect();
        let public: Vec<IpNet> = topo.public_prefixes.iter().map(|p| IpNet::V4(*p)).collect();
        let mut inet_adjs = Vec::new();
        for (i, r) in topo.routers.iter().enumerate() {
            if r.role == Role::Ce {
                let a = plane.add_adjacency(plane_of[i], inet);
                plane.set_route(plane_of[i], default_route, vec![a]);
                inet_adjs.push(a);
            }
        }
        if topo.internet.shares_edge_with_microsoft_peering {
            let a = plane.add_adjacency(onprem, inet);
            for p in &microsoft {
                plane.set_route(onprem, *p, vec![a]);
            }
            inet_adjs.push(a);
        }
        let inet_ms = plane.add_adjacency(inet, mscloud);
        let inet_onprem = plane.add_adjacency(inet, onprem);
        inet_adjs.extend([inet_ms, inet_onprem]);
        for p in &microsoft {
            plane.set_route(inet, *p, vec![inet_ms]);
            plane.add_local(mscloud, *p);
        }
        for p in &public {
            plane.set_route(inet, *p, vec![inet_onprem]);
            plane.add_local(onprem, *p);
        }
        let mscloud_msee = topo
            .routers
            .iter()
            .enumerate()
            .filter(|(_, r)| r.role == Role::Msee)
            .map(|(i, _)| (i, plane.add_adjacency(mscloud, plane_of[i])))
            .collect();
        let mscloud_inet = plane.add_adjacency(mscloud, inet);
        inet_adjs.push(mscloud_inet);

        let end = Instant::ZERO + sc.duration;
        let blocks = (0..topo.sessions.len())
            .map(|i| {
                if topo.session_gate(topology::SessionIx(i)).is_some() {
                    BLOCK_GATE
                } else {
                    0
                }
            })
            .collect();
        let mut world = Self {
            inet,
            mscloud,
            inet_adjs,
            mscloud_msee,
            mscloud_inet,
            blocks,
            deprovisioned: vec![false; topo.circuits.len()],
            pp_state: vec![None; topo.circuits.len()],
            tunnel_down: vec![false; topo.sessions.len()],
            undo: BTreeMap::new(),
            bulk_fib: BTreeMap::new(),
            sc,
            topo,
            seed,
            engine: Engine::with_capacity(1024),
            net,
            routers,
            router_timer: vec![None; topo.routers.len()],
            sessions: vec![
                SessionRt {
                    state: [SessionStateName::Idle; 2],
                    pending_cause: [None; 2],
                    up: false,
                    flaps: 0,
                };
                topo.sessions.len()
            ],
            plane,
            plane_of,
            adj,
            onprem,
            onprem_adjs,
            vnet_in,
            ergw_table: BTreeMap::new(),
            ergw_version: 0,
            flows: Vec::new(),
            plane_dirty: true,
            links_dirty: true,
            fault_at: Vec::new(),
            fault_times: Vec::new(),
            saved_loss: BTreeMap::new(),
            timeline: Vec::new(),
            detections: Vec::new(),
            last_fib_change: BTreeMap::new(),
            bfd_sent: 0,
            path_changes: Vec::new(),
            tracer: trace.map(Tracer::new),
            end,
            tap: None,
            started: false,
            fork_at: Instant::ZERO,
            res_names,
            drops: dp::DropMeter::default(),
            overloaded: Vec::new(),
        };
        world.build_flows();
        Ok(world)
    }

    /// Where the start-up shared by every seed ended (the start before
    /// [`Self::advance_to_fork`]).
    pub(crate) const fn fork_at(&self) -> Instant {
        self.fork_at
    }

    /// The instant the start-up shared by every seed ends at the latest (see the module doc).
    pub(crate) fn fork_time(&self) -> Instant {
        let lossy = self
            .topo
            .segments
            .iter()
            .any(|s| sim_loss(s.props.loss) != SimLoss::None);
        let earliest = self.sc.faults.iter().map(|f| match f.at {
            TimeSpec::Fixed(d) => d,
            TimeSpec::Range { min, .. } => min,
        });
        let Some(earliest) = earliest.min() else {
            return Instant::ZERO;
        };
        if lossy {
            return Instant::ZERO;
        }
        let bfd = self
            .topo
            .routers
            .iter()
            .filter_map(|r| r.bfd.map(|b| b.interval))
            .max()
            .unwrap_or_default();
        let lead = FORK_LEAD.max(bfd.saturating_mul(200));
        if earliest <= lead {
            Instant::ZERO
        } else {
            Instant::ZERO + (earliest - lead)
        }
    }

    /// Simulates the start-up up to the fork (see the module doc): every event before
    /// [`Self::fork_time`], then more until no BGP byte is unacknowledged (while that stays
    /// before the earliest fault can start). Nothing happens when the fork is at the start.
    pub(crate) fn advance_to_fork(&mut self) -> Result<(), RunError> {
        let target = self.fork_time();
        if target == Instant::ZERO {
            return Ok(());
        }
        self.start();
        let limit = target + FORK_LEAD / 2;
        while let Some(t) = self.engine.peek_time() {
            let quiet = t >= target && self.net.tcp_quiet();
            if quiet || t >= limit || t > self.end {
                break;
            }
            if let Some((t, ev)) = self.engine.step() {
                self.dispatch(t, ev)?;
            }
        }
        self.fork_at = self.engine.now().max(target);
        Ok(())
    }

    /// A copy of this world for another run from the same point, without the trace and the
    /// capture sink (a snapshot never has them: see [`crate::Prepared`]).
    pub(crate) fn snapshot(&self) -> Self {
        Self {
            sc: self.sc,
            topo: self.topo,
            seed: self.seed,
            engine: self.engine.clone(),
            net: self.net.clone(),
            routers: self.routers.clone(),
            router_timer: self.router_timer.clone(),
            sessions: self.sessions.clone(),
            plane: self.plane.clone(),
            plane_of: self.plane_of.clone(),
            adj: self.adj.clone(),
            onprem: self.onprem,
            onprem_adjs: self.onprem_adjs.clone(),
            vnet_in: self.vnet_in,
            ergw_table: self.ergw_table.clone(),
            ergw_version: self.ergw_version,
            flows: self.flows.clone(),
            plane_dirty: self.plane_dirty,
            links_dirty: self.links_dirty,
            inet: self.inet,
            mscloud: self.mscloud,
            inet_adjs: self.inet_adjs.clone(),
            mscloud_msee: self.mscloud_msee.clone(),
            mscloud_inet: self.mscloud_inet,
            blocks: self.blocks.clone(),
            deprovisioned: self.deprovisioned.clone(),
            pp_state: self.pp_state.clone(),
            tunnel_down: self.tunnel_down.clone(),
            bulk_fib: self.bulk_fib.clone(),
            undo: self.undo.clone(),
            fault_at: self.fault_at.clone(),
            fault_times: self.fault_times.clone(),
            saved_loss: self.saved_loss.clone(),
            timeline: self.timeline.clone(),
            detections: self.detections.clone(),
            last_fib_change: self.last_fib_change.clone(),
            bfd_sent: self.bfd_sent,
            path_changes: self.path_changes.clone(),
            tracer: None,
            end: self.end,
            tap: None,
            started: self.started,
            fork_at: self.fork_at,
            res_names: self.res_names.clone(),
            drops: self.drops.clone(),
            overloaded: self.overloaded.clone(),
        }
    }

    /// Hands the run over to `seed` at the fork (see the module doc): re-keys every random
    /// stream, re-draws the keepalive phases, and schedules the faults.
    pub(crate) fn fork(&mut self, seed: u64) {
        self.seed = Seed(seed);
        let key = self.seed.stream_named("fork").next_u64();
        self.net.rekey(key);
        for r in &mut self.routers {
            r.rekey(key);
        }
        if self.started {
            let now = self.fork_at;
            for s in 0..self.topo.sessions.len() {
                for end in 0..2_u8 {
                    let (me, peer) = (
                        self.router_at(SessIx(s), end),
                        self.router_at(SessIx(s), 1 - end),
                    );
                    if let Some(age) = self.routers[me].rephase_keepalive(now, SessIx(s)) {
                        self.routers[peer].rephase_hold(now, SessIx(s), now - age);
                    }
                }
            }
            for r in 0..self.routers.len() {
                self.flush_router(r);
            }
        }
        if let Some(tracer) = &mut self.tracer {
            let rec = Record::new(self.fork_at, "-".to_owned(), "fork").with("seed", seed);
            let _ = tracer.record(&rec);
        }
        self.schedule_faults();
    }

    /// Starts every router (once).
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        let now = self.engine.now();
        for r in 0..self.routers.len() {
            self.routers[r].start(now, self.topo);
            self.flush_router(r);
        }
        self.settle();
    }

    fn endpoint_ingress(&self, name: &str) -> Option<dp::RouterIx> {
        match name {
            "onprem" => Some(self.onprem),
            "microsoft" => Some(self.mscloud),
            _ => self.vnet_in.map(|(v, _, _)| v),
        }
    }

    /// An address of endpoint `name` for flow `k`, as seen from `from`: Microsoft reaches
    /// on-premises only at its public prefixes.
    fn endpoint_addr(
        &self,
        from: &str,
        name: &str,
        k: u32,
        family: AddressFamily,
    ) -> Option<IpAddr> {
        if family == AddressFamily::Ipv6 {
            let net = match name {
                "onprem" => self.topo.onprem_ipv6_prefixes.first().copied(),
                vnet => self
                    .topo
                    .vnets
                    .iter()
                    .find(|v| v.name == vnet)
                    .and_then(|v| v.ipv6_prefixes.first().copied()),
            }?;
            return Some(host_in(&IpNet::V6(net), k + 3));
        }
        let net = match name {
            "onprem" if from == "microsoft" => self.topo.public_prefixes.first().copied(),
            "onprem" => self.topo.onprem_prefixes.first().copied(),
            "microsoft" => self.topo.internet.microsoft_prefixes.first().copied(),
            vnet => self
                .topo
                .vnets
                .iter()
                .find(|v| v.name == vnet)
                .and_then(|v| v.prefixes.first().copied()),
        }?;
        Some(host_in(&IpNet::V4(net), k + 3))
    }

    fn build_flows(&mut self) {
        for probe in &self.sc.probes {
            for d in &probe.directions {
                let (Some(ingress), Some(_)) = (
                    self.endpoint_ingress(&d.from),
                    self.endpoint_addr(&d.from, &d.to, 0, probe.family),
                ) else {
                    continue;
                };
                let rate_bps = probe
                    .rate
                    .map_or(0, |r| r.bps() / u64::from(probe.flows.max(1)));
                for k in 0..probe.flows.max(1) {
                    let dst = self
                        .endpoint_addr(&d.from, &d.to, k, probe.family)
                        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                    let hash = fnv1a64(format!("{}/{}#{k}", self.seed.0, d.name).as_bytes());
                    self.flows.push(FlowRt {
                        direction: d.name.clone(),
                        index: k,
                        flow: dp::Flow {
                            name: format!("{}#{k}", d.name),
                            ingress,
                            dst,
                            hash,
                        },
                        meter: FlowMeter::new(),
                        via: Via::None,
                        rate_bps,
                    });
                }
            }
        }
    }

    fn schedule_faults(&mut self) {
        for (i, f) in self.sc.faults.iter().enumerate() {
            let mut stream = self.seed.stream_named(&format!("fault/{i}"));
            let at = Instant::ZERO + draw(f.at, &mut stream);
            self.fault_at.push(at);
            self.engine.schedule_at(
                at,
                Ev::Fault {
                    index: i,
                    end: false,
                },
            );
            if let Some(d) = f.duration {
                let len = draw(d, &mut stream);
                self.engine.schedule_at(
                    at + len,
                    Ev::Fault {
                        index: i,
                        end: true,
                    },
                );
            }
        }
        self.engine.schedule_at(self.end, Ev::End);
    }

    /// Sends every frame seen at `point`, every BGP byte stream received and every FSM
    /// transition to `tap` (see [`crate::capture`]).
    pub(crate) fn with_tap(mut self, tap: &'a mut dyn Tap, point: CapturePoint) -> Self {
        self.net.set_capture(Some(point));
        self.tap = Some(tap);
        self
    }

    /// Hands the frames the network recorded to the tap.
    fn drain_capture(&mut self) {
        if let Some(tap) = self.tap.as_deref_mut() {
            for c in self.net.drain_captured() {
                tap.frame(c.at, c.session, c.from, &c.frame);
            }
        }
    }

    /// Runs to the end and returns the report.
    pub(crate) fn run(mut self) -> Result<RunReport, RunError> {
        self.start();
        while let Some((t, ev)) = self.engine.step() {
            if t > self.end || matches!(ev, Ev::End) {
                break;
            }
            self.dispatch(t, ev)?;
        }
        self.finish()
    }

    /// Handles one event at `t` and settles what it touched.
    fn dispatch(&mut self, t: Instant, ev: Ev) -> Result<(), RunError> {
        match ev {
            Ev::End => {}
            Ev::Net(e) => self.net.handle(&mut self.engine, e),
            Ev::Router(r) => {
                self.router_timer[r] = None;
                if self.net.is_alive(r) {
                    self.routers[r].handle_timeout(t);
                    self.flush_router(r);
                }
            }
            Ev::Fault { index, end } => self.apply_fault(index, end)?,
            Ev::Program { version } => self.program_gateway(version),
            Ev::Stage { index, stage } => self.fault_stage(index, stage),
        }
        self.settle();
        Ok(())
    }

    /// Drains network upcalls into routers and router outputs into the network until quiet,
    /// then re-evaluates the flows if forwarding may have changed.
    fn settle(&mut self) {
        while let Some(up) = self.net.poll_upcall() {
            let now = self.engine.now();
            match up {
                Upcall::Connected { session, end } => {
                    let r = self.router_at(session, end);
                    self.routers[r].handle_transport(now, session, bgp::fsm::Transport::Connected);
                    self.flush_router(r);
                }
                Upcall::Data {
                    session,
                    end,
                    bytes,
                } => {
                    let r = self.router_at(session, end);
                    if let Some(tap) = self.tap.as_deref_mut() {
                        tap.received(now, session, end, &bytes);
                    }
                    self.routers[r].handle_bytes(now, session, &bytes);
                    self.net.recycle(bytes);
                    self.flush_router(r);
                }
                Upcall::Closed {
                    session,
                    end,
                    was_connected,
                    why,
                } => {
                    let r = self.router_at(session, end);
                    if matches!(why, CloseCause::Aborted(_)) {
                        self.sessions[session.0].pending_cause[usize::from(end)] =
                            Some(DownCause::TransportAborted);
                    }
                    let t = if was_connected {
                        bgp::fsm::Transport::Closed
                    } else {
                        bgp::fsm::Transport::ConnectFailed
                    };
                    self.routers[r].handle_transport(now, session, t);
                    self.flush_router(r);
                }
                Upcall::Datagram {
                    session,
                    end,
                    bytes,
                } => {
                    let r = self.router_at(session, end);
                    self.routers[r].handle_bfd(now, session, &bytes);
                    self.flush_router(r);
                }
                Upcall::Carrier {
                    router,
                    segment,
                    up,
                } => self.carrier(router, segment, up),
            }
        }
        self.drain_capture();
        if self.links_dirty {
            self.links_dirty = false;
            self.refresh_adjacencies();
        } else if self.plane_dirty {
            self.route_microsoft();
        }
        if self.plane_dirty {
            self.plane_dirty = false;
            self.evaluate_flows();
        }
    }

    fn router_at(&self, session: SessIx, end: u8) -> usize {
        self.topo.sessions[session.0].ends[usize::from(end & 1)]
            .router
            .0
    }

    fn end_of(&self, session: SessIx, router: usize) -> u8 {
        u8::from(self.topo.sessions[session.0].ends[1].router.0 == router)
    }

    fn carrier(&mut self, router: usize, segment: SegIx, up: bool) {
        self.links_dirty = true;
        let now = self.engine.now();
        for s in 0..self.topo.sessions.len() {
            let session = SessIx(s);
            let ends = &self.topo.sessions[s].ends;
            for end in 0..2u8 {
                if ends[usize::from(end)].router.0 != router
                    || !self.net.first_hop_is(session, end, segment)
                {
                    continue;
                }
                if up {
                    self.routers[router].handle_interface(now, session, true);
                } else {
                    // Fast external fallover: the interface went down, the session with it.
                    self.sessions[s].pending_cause[usize::from(end)] = Some(DownCause::Carrier);
                    self.net.drop_end(&mut self.engine, session, end);
                    self.routers[router].handle_interface(now, session, false);
                }
                self.flush_router(router);
            }
        }
        self.plane_dirty = true;
    }

    /// Drains one router's outputs.
    fn flush_router(&mut self, r: usize) {
        let now = self.engine.now();
        while let Some(out) = self.routers[r].poll_out() {
            match out {
                Out::Connect(s) => {
                    if self.end_of(s, r) == 0 {
                        self.net.connect(&mut self.engine, s);
                    }
                }
                Out::Bytes(s, bytes) => {
                    let end = self.end_of(s, r);
                    self.net.write(&mut self.engine, s, end, &bytes);
                }
                Out::Close(s) => {
                    let end = self.end_of(s, r);
                    self.net.close(&mut self.engine, s, end);
                }
                Out::Bfd(s, bytes) => {
                    self.bfd_sent += 1;
                    let end = self.end_of(s, r);
                    self.net.send_datagram(&mut self.engine, s, end, bytes);
                }
            }
        }
        while let Some(ev) = self.routers[r].poll_event() {
            self.router_event(r, now, ev);
        }
        let deadline = self.routers[r].poll_timeout();
        if self.router_timer[r].map(|(t, _)| t) != deadline {
            if let Some((_, id)) = self.router_timer[r].take() {
                self.engine.cancel(id);
            }
            if let Some(t) = deadline {
                let t = t.max(now);
                let id = self.engine.schedule_at(t, Ev::Router(r));
                self.router_timer[r] = Some((t, id));
            }
        }
    }

    fn router_event(&mut self, r: usize, now: Instant, ev: RtEvent) {
        let name = self.topo.routers[r].name.clone();
        match ev {
            RtEvent::State {
                session,
                from,
                to,
                down,
            } => {
                let s = session.0;
                let end = usize::from(self.end_of(session, r));
                let tap_end = self.end_of(session, r);
                if let Some(tap) = self.tap.as_deref_mut() {
                    tap.state(now, session, tap_end, from, to);
                }
                let (from, to) = (state_name(from), state_name(to));
                self.sessions[s].state[end] = to;
                let mut cause = None;
                if from == SessionStateName::Established && to != SessionStateName::Established {
                    let c = self.sessions[s].pending_cause[end]
                        .take()
                        .unwrap_or(match down {
                            SessionDown::HoldTimer => DownCause::HoldTimer,
                            SessionDown::Bfd => DownCause::Bfd,
                            SessionDown::NotificationReceived(code, subcode) => {
                                DownCause::NotificationReceived { code, subcode }
                            }
                            SessionDown::NotificationSent(code, subcode) => {
                                DownCause::NotificationSent { code, subcode }
                            }
                            SessionDown::Transport => DownCause::TransportAborted,
                            SessionDown::Local => DownCause::Local,
                        });
                    cause = Some(c);
                    let last_fault = self.fault_times.iter().rev().find(|t| **t <= now).copied();
                    self.detections.push(Detection {
                        session: self.topo.sessions[s].name.clone(),
                        router: name.clone(),
                        at: now,
                        after_fault: last_fault.map_or(Duration::ZERO, |f| now - f),
                        cause: c,
                    });
                } else {
                    self.sessions[s].pending_cause[end] = None;
                }
                let both_up = self.sessions[s]
                    .state
                    .iter()
                    .all(|x| *x == SessionStateName::Established);
                if self.sessions[s].up && !both_up {
                    self.sessions[s].flaps += 1;
                }
                self.sessions[s].up = both_up;
                self.push_timeline(
                    now,
                    Some(name),
                    TimelineEvent::Session {
                        session: self.topo.sessions[s].name.clone(),
                        from,
                        to,
                        cause,
                    },
                );
            }
            RtEvent::Bfd { session, state } => {
                self.push_timeline(
                    now,
                    Some(name),
                    TimelineEvent::Bfd {
                        session: self.topo.sessions[session.0].name.clone(),
                        state,
                    },
                );
            }
            RtEvent::Fib { changes } => self.fib_changes(r, now, changes),
        }
    }

    fn fib_changes(&mut self, r: usize, now: Instant, changes: Vec<(IpNet, Vec<SessIx>)>) {
        if changes.is_empty() {
            return;
        }
        let name = self.topo.routers[r].name.clone();
        // The prefixes a user follows (on-premises, public, VNet and Microsoft prefixes) are
        // listed one by one; any others (a flood) are summed into one line per router and
        // event, written when the event settles.
        for (prefix, via) in &changes {
            if self.known_prefix(prefix) {
                let via = via.iter().map(|s| self.peer_name(r, *s)).collect();
                self.push_timeline(
                    now,
                    Some(name.clone()),
                    TimelineEvent::Fib {
                        prefix: prefix.to_string(),
                        via,
                    },
                );
            } else {
                let e = self.bulk_fib.entry(r).or_insert((now, 0, 0));
                e.1 += 1;
                e.2 += usize::from(via.is_empty());
            }
        }
        if r == self.topo.er_gateway.router.0 {
            // The gateway's BGP table changes now; the VNet's forwarding follows after the
            // route-programming delay.
            for (prefix, via) in changes {
                if via.is_empty() {
                    self.ergw_table.remove(&prefix);
                } else {
                    self.ergw_table
                        .insert(prefix, via.iter().map(|s| s.0).collect());
                }
            }
            self.ergw_version += 1;
            let mut stream = self
                .seed
                .stream_named(&format!("ergw/program/{}", self.ergw_version));
            let delay = draw(self.topo.er_gateway.convergence_delay, &mut stream);
            self.engine.schedule_at(
                now + delay,
                Ev::Program {
                    version: self.ergw_version,
                },
            );
            return;
        }
        self.last_fib_change.insert(r, now);
        let pr = self.plane_of[r];
        for (prefix, via) in changes {
            let hops = via
                .iter()
                .map(|s| self.adj[s.0][usize::from(self.end_of(*s, r))])
                .collect();
            self.plane.set_route(pr, prefix, hops);
            if self.topo.vpn.as_ref().is_some_and(|g| g.router.0 == r) {
                self.update_vnet_route(prefix);
            }
        }
        self.plane_dirty = true;
    }

    /// The ExpressRoute gateway programs its table as of `version` (only the newest counts).
    fn program_gateway(&mut self, version: u64) {
        if version != self.ergw_version {
            return;
        }
        let now = self.engine.now();
        let r = self.topo.er_gateway.router.0;
        let pr = self.plane_of[r];
        // Replace the programmed table with the BGP table.
        let mut prefixes: Vec<IpNet> = self.ergw_table.keys().copied().collect();
        for (prefix, _) in self.programmed_routes(pr) {
            if !prefixes.contains(&prefix) {
                prefixes.push(prefix);
            }
        }
        for prefix in prefixes {
            let hops = self.ergw_table.get(&prefix).map_or_else(Vec::new, |via| {
                via.iter()
                    .map(|s| self.adj[*s][usize::from(self.end_of(SessIx(*s), r))])
                    .collect()
            });
            self.plane.set_route(pr, prefix, hops);
            self.update_vnet_route(prefix);
        }
        self.last_fib_change.insert(r, now);
        let routes = self.ergw_table.len() as u64;
        self.push_timeline(
            now,
            Some(self.topo.routers[r].name.clone()),
            TimelineEvent::GatewayConverged { routes },
        );
        self.plane_dirty = true;
    }

    fn programmed_routes(&self, pr: dp::RouterIx) -> Vec<(IpNet, Vec<AdjIx>)> {
        self.topo
            .onprem_prefixes
            .iter()
            .map(|p| IpNet::V4(*p))
            .chain(self.ergw_table.keys().copied())
            .map(|p| (p, self.plane.route(pr, &p).to_vec()))
            .filter(|(_, h)| !h.is_empty())
            .collect()
    }

    /// The VNet forwards a prefix over ExpressRoute when the gateway has it programmed, else
    /// over the VPN gateway when that has it.
    fn update_vnet_route(&mut self, prefix: IpNet) {
        let Some((v, er, vpn)) = self.vnet_in else {
            return;
        };
        let er_has = !self
            .plane
            .route(self.plane_of[self.topo.er_gateway.router.0], &prefix)
            .is_empty();
        let vpn_has = self.topo.vpn.as_ref().is_some_and(|g| {
            !self
                .plane
                .route(self.plane_of[g.router.0], &prefix)
                .is_empty()
        });
        let hops = match (er_has, vpn_has, er, vpn) {
            (true, _, Some(a), _) | (false, true, _, Some(a)) => vec![a],
            _ => Vec::new(),
        };
        self.plane.set_route(v, prefix, hops);
    }

    fn known_prefix(&self, prefix: &IpNet) -> bool {
        let t = self.topo;
        let p = match prefix {
            IpNet::V4(p) => p,
            IpNet::V6(p) => {
                return t.onprem_ipv6_prefixes.contains(p)
                    || t.vnets.iter().any(|v| v.ipv6_prefixes.contains(p));
            }
        };
        t.onprem_prefixes.contains(p)
            || t.public_prefixes.contains(p)
            || t.internet.microsoft_prefixes.contains(p)
            || t.vnets.iter().any(|v| v.prefixes.contains(p))
    }

    /// Writes the summed FIB changes of other prefixes (see `fib_changes`), stamped with the
    /// first change of each sum; called before any other timeline entry and at the end.
    fn flush_bulk_fib(&mut self) {
        for (r, (at, changed, removed)) in std::mem::take(&mut self.bulk_fib) {
            self.record_timeline(
                at,
                Some(self.topo.routers[r].name.clone()),
                TimelineEvent::Fib {
                    prefix: format!("{changed} other prefixes ({removed} removed)"),
                    via: Vec::new(),
                },
            );
        }
    }

    fn peer_name(&self, r: usize, s: SessIx) -> String {
        let other = 1 - usize::from(self.end_of(s, r));
        self.topo.routers[self.topo.sessions[s.0].ends[other].router.0]
            .name
            .clone()
    }

    /// Adjacency usability follows the links and whether the routers run.
    fn refresh_adjacencies(&mut self) {
        for s in 0..self.topo.sessions.len() {
            let [a, b] = [
                self.topo.sessions[s].ends[0].router.0,
                self.topo.sessions[s].ends[1].router.0,
            ];
            let alive = self.net.is_alive(a) && self.net.is_alive(b);
            for end in 0..2u8 {
                let usable = alive && self.net.path_up(SessIx(s), end);
                if self.plane.set_usable(self.adj[s][usize::from(end)], usable) {
                    self.plane_dirty = true;
                }
            }
        }
        for i in 0..self.onprem_adjs.len() {
            let (ce, adj) = self.onprem_adjs[i];
            if self.plane.set_usable(adj, self.net.is_alive(ce)) {
                self.plane_dirty = true;
            }
        }
        let internet_up = self
            .net
            .link(SegIx(self.topo.internet.segment.0))
            .is_none_or(|l| {
                l.state(sim_core::link::Direction::AToB) == sim_core::link::State::Up
                    && l.state(sim_core::link::Direction::BToA) == sim_core::link::State::Up
            });
        for i in 0..self.inet_adjs.len() {
            if self.plane.set_usable(self.inet_adjs[i], internet_up) {
                self.plane_dirty = true;
            }
        }
        for i in 0..self.mscloud_msee.len() {
            let (m, adj) = self.mscloud_msee[i];
            if self.plane.set_usable(adj, self.net.is_alive(m)) {
                self.plane_dirty = true;
            }
        }
        self.route_microsoft();
    }

    /// Microsoft's network sends traffic for on-premises public prefixes to the MSEEs that
    /// have a route for them (learned over Microsoft peering), and over the internet when
    /// none has (domain.md: Microsoft and public peering fall back to the internet).
    fn route_microsoft(&mut self) {
        for p in &self.topo.public_prefixes {
            let prefix = IpNet::V4(*p);
            let mut hops: Vec<AdjIx> = self
                .mscloud_msee
                .iter()
                .filter(|(m, _)| {
                    self.net.is_alive(*m)
                        && !self.plane.route(self.plane_of[*m], &prefix).is_empty()
                })
                .map(|(_, a)| *a)
                .collect();
            if hops.is_empty() {
                hops.push(self.mscloud_inet);
            }
            self.plane.set_route(self.mscloud, prefix, hops);
        }
    }

    fn evaluate_flows(&mut self) {
        let now = self.engine.now();
        let mut changes = Vec::new();
        for f in &mut self.flows {
            let walk = self.plane.walk(&f.flow);
            f.meter.observe(now, &walk);
            let via = match &walk {
                Walk::Lost(_) => Via::None,
                Walk::Delivered(path) => {
                    if path.contains(&self.inet) {
                        Via::Internet
                    } else {
                        via_of(self.topo, &self.plane_of, path)
                    }
                }
            };
            if via != f.via {
                f.via = via;
                if f.index == 0 {
                    changes.push((f.direction.clone(), via));
                }
            }
        }
        for (direction, via) in changes {
            self.path_changes.push(PathChange {
                at: now,
                direction: direction.clone(),
                via,
            });
            self.push_timeline(now, None, TimelineEvent::Path { direction, via });
        }
        self.account_congestion(now);
    }

    /// Recomputes what congestion drops under the current forwarding state (only when some
    /// flow offers a load) and starts the new drop rates at `now`.
    fn account_congestion(&mut self, now: Instant) {
        let rated: Vec<usize> = (0..self.flows.len())
            .filter(|&i| self.flows[i].rate_bps > 0)
            .collect();
        if rated.is_empty() || !self.plane.has_resources() {
            return;
        }
        // Measure once the network is up: every loaded flow delivered once, or the first
        // fault (which arms every meter).
        if !self.drops.started() && !rated.iter().all(|&i| self.flows[i].meter.armed()) {
            return;
        }
        let loads: Vec<dp::Load<'_>> = rated
            .iter()
            .map(|&i| dp::Load {
                flow: &self.flows[i].flow,
                rate_bps: self.flows[i].rate_bps,
            })
            .collect();
        let c = self.plane.congestion(&loads);
        let mut rates: BTreeMap<String, u64> = BTreeMap::new();
        for (&i, d) in rated.iter().zip(&c.dropped_bps) {
            *rates.entry(self.flows[i].direction.clone()).or_insert(0) += d;
        }
        self.drops.observe(now, rates);
        // Timeline: resources that became overloaded, changed load, or recovered.
        let now_over: Vec<(dp::ResIx, u64)> =
            c.overloaded.iter().map(|&(r, load, _)| (r, load)).collect();
        let mut events = Vec::new();
        for &(r, load, cap) in &c.overloaded {
            if !self.overloaded.contains(&(r, load)) {
                events.push((r, load, cap));
            }
        }
        for &(r, _) in &self.overloaded {
            if !now_over.iter().any(|(x, _)| *x == r) {
                events.push((r, 0, 0));
            }
        }
        self.overloaded = now_over;
        for (r, load, cap) in events {
            let link = self
                .res_names
                .get(r.0 as usize)
                .cloned()
                .unwrap_or_default();
            self.push_timeline(
                now,
                None,
                TimelineEvent::Congestion {
                    link,
                    offered_bps: load,
                    capacity_bps: cap,
                },
            );
        }
    }

    fn push_timeline(&mut self, at: Instant, router: Option<String>, event: TimelineEvent) {
        if !self.bulk_fib.is_empty() {
            self.flush_bulk_fib();
        }
        self.record_timeline(at, router, event);
    }

    fn record_timeline(&mut self, at: Instant, router: Option<String>, event: TimelineEvent) {
        if let Some(tracer) = &mut self.tracer {
            let mut rec = Record::new(at, router.clone().unwrap_or_else(|| "-".into()), "timeline");
            if let Ok(v) = serde_json::to_value(&event) {
                rec = rec.with("event", v);
            }
            // A trace that cannot be written stops being written; the run and its report go on.
            let _ = tracer.record(&rec);
        }
        self.timeline.push(TimelineEntry { at, router, event });
    }

    // ---- faults ----

    fn segments_of(&self, target: Target) -> Vec<usize> {
        let t = self.topo;
        match target {
            Target::Circuit(c) => t.circuits[c.0]
                .links
                .iter()
                .flat_map(|l| [l.access.0, l.core.0])
                .collect(),
            Target::Link(c, side) => {
                let l = &t.circuits[c.0].links[side.index()];
                vec![l.access.0, l.core.0]
            }
            Target::Segment(s) => vec![s.0],
            Target::Session(s) => t.sessions[s.0].path.iter().map(|p| p.0).collect(),
            Target::VpnTunnel => t
                .vpn
                .as_ref()
                .map_or_else(Vec::new, |g| g.tunnels.iter().map(|s| s.0).collect()),
            Target::Internet => {
                let mut v = vec![t.internet.segment.0];
                if let Some(g) = &t.vpn {
                    v.extend(g.tunnels.iter().map(|s| s.0));
                }
                v
            }
            Target::Router(_)
            | Target::ErGateway
            | Target::VpnGateway
            | Target::VpnGatewayInstance(_) => Vec::new(),
        }
    }

    /// For a silent failure of a link: the provider core (the customer's access stays up).
    fn silent_segments(&self, target: Target) -> Vec<usize> {
        match target {
            Target::Circuit(c) => self.topo.circuits[c.0]
                .links
                .iter()
                .map(|l| l.core.0)
                .collect(),
            Target::Link(c, side) => vec![self.topo.circuits[c.0].links[side.index()].core.0],
            other => self.segments_of(other),
        }
    }

    fn apply_fault(&mut self, index: usize, end: bool) -> Result<(), RunError> {
        self.links_dirty = true;
        let now = self.engine.now();
        let fault = &self.sc.faults[index];
        let (kind, target_name) = fault_label(self.topo, &fault.action);
        if !end {
            if self.fault_times.is_empty() {
                // Measuring starts at the latest here, even for flows never delivered.
                for f in &mut self.flows {
                    let walk = self.plane.walk(&f.flow);
                    f.meter.arm(now, &walk);
                }
            }
            self.fault_times.push(now);
        }
        let label = if end { format!("{kind} ends") } else { kind };
        self.push_timeline(
            now,
            None,
            TimelineEvent::Fault {
                kind: label,
                target: target_name,
            },
        );
        match fault.action.clone() {
            FaultAction::Silent { target } => {
                for s in self.silent_segments(target) {
                    self.net.set_silent(SegIx(s), !end);
                }
            }
            FaultAction::Down { target } => {
                for s in self.segments_of(target) {
                    self.net.set_carrier(now, SegIx(s), end);
                }
            }
            FaultAction::Loss { target, loss } => {
                for s in self.segments_of(target) {
                    let model = if end {
                        self.saved_loss.remove(&s).unwrap_or(SimLoss::None)
                    } else {
                        let original = sim_loss(self.topo.segments[s].props.loss);
                        self.saved_loss.entry(s).or_insert(original);
                        sim_loss(loss)
                    };
                    if let Some(link) = self.net.link_mut(SegIx(s)) {
                        link.set_loss(sim_core::link::Direction::AToB, model);
                        link.set_loss(sim_core::link::Direction::BToA, model);
                    }
                }
            }
            FaultAction::RouterCrash { router } => {
                if end {
                    self.restart_router(router.0);
                } else {
                    self.crash_router(router.0, true);
                }
            }
            FaultAction::RouterRestart { router } => self.restart_router(router.0),
            FaultAction::BgpDisconnect { sessions } => {
                for s in sessions {
                    let msee = self.topo.sessions[s.0].ends[1].router.0;
                    if end {
                        self.routers[msee].admin_start(now, SessIx(s.0));
                    } else {
                        self.routers[msee].admin_stop(
                            now,
                            SessIx(s.0),
                            CeaseSubcode::ADMINISTRATIVE_SHUTDOWN,
                            "administrative shutdown (BGP disconnect test)",
                        );
                    }
                    self.flush_router(msee);
                }
            }
            FaultAction::Restore { target } => self.restore(index, target)?,
            FaultAction::Latency {
                target,
                delay,
                jitter,
            } => {
                let episode = (!end).then_some(sim_core::link::DelayEpisode {
                    extra: delay,
                    jitter: if jitter.is_zero() {
                        JitterModel::None
                    } else {
                        JitterModel::Uniform { max: jitter }
                    },
                });
                for s in self.segments_of(target) {
                    if let Some(link) = self.net.link_mut(SegIx(s)) {
                        link.set_delay_episode(sim_core::link::Direction::AToB, episode);
                        link.set_delay_episode(sim_core::link::Direction::BToA, episode);
                    }
                }
            }
            FaultAction::Deprovision { circuit } => {
                self.deprovisioned[circuit.0] = !end;
                for s in self.circuit_sessions(circuit.0, None) {
                    self.set_block(
                        s,
                        BLOCK_DEPROVISIONED,
                        !end,
                        "circuit deprovisioned (provider state NotProvisioned)",
                    );
                }
            }
            FaultAction::PublicPrefixesState { circuit, state } => {
                self.pp_state[circuit.0] = (!end).then_some(state);
                for s in self.circuit_sessions(circuit.0, Some(PeeringKind::Microsoft)) {
                    let closed = self.gate_closed(s);
                    self.set_block(
                        s,
                        BLOCK_GATE,
                        closed,
                        "advertised public prefixes are not Configured",
                    );
                }
            }
            FaultAction::MseeMaintenance {
                circuit,
                side,
                drain,
                down_for,
                prepend,
            } => {
                let msee = self.topo.circuits[circuit.0].links[side.index()].msee.0;
                if end {
                    self.maintenance_over(index, msee);
                } else if !self.undo.contains_key(&index) {
                    for (s, base) in self.sessions_of(msee) {
                        self.routers[msee].set_prepend(
                            now,
                            SessIx(s),
                            base.saturating_add(prepend),
                        );
                    }
                    self.flush_router(msee);
                    self.engine
                        .schedule_at(now + drain, Ev::Stage { index, stage: 1 });
                    self.engine
                        .schedule_at(now + drain + down_for, Ev::Stage { index, stage: 2 });
                }
            }
            FaultAction::PrefixFlood { sessions, count } => {
                if end {
                    self.flood_over(index);
                } else {
                    self.flood(index, &sessions, count);
                }
            }
            FaultAction::VpnTunnelDown { target } => {
                if end {
                    self.tunnels_back(index);
                } else {
                    let segments = self.segments_of(target);
                    self.tunnels_silent(index, segments);
                }
            }
            FaultAction::GatewayInstanceFailure { instance, planned } => {
                if !end {
                    self.gateway_failure(index, instance, planned);
                }
            }
        }
        self.plane_dirty = true;
        Ok(())
    }

    /// Ends every earlier fault on `target`.
    fn restore(&mut self, index: usize, target: Target) -> Result<(), RunError> {
        let earlier: Vec<usize> = (0..index)
            .filter(|&i| self.fault_at[i] <= self.engine.now())
            .filter(|&i| self.sc.faults[i].action.target() == Some(target))
            .collect();
        for i in earlier {
            if !matches!(self.sc.faults[i].action, FaultAction::Restore { .. }) {
                self.apply_fault(i, true)?;
            }
        }
        Ok(())
    }

    /// The router stops dead; with `carrier`, its directly attached segments lose carrier
    /// (a box that loses power), without, its neighbours are not told (an instance that
    /// becomes unreachable behind a tunnel).
    fn crash_router(&mut self, r: usize, carrier: bool) {
        self.links_dirty = true;
        let now = self.engine.now();
        self.net.set_alive(&mut self.engine, r, false);
        if let Some((_, id)) = self.router_timer[r].take() {
            self.engine.cancel(id);
        }
        for (i, seg) in self.topo.segments.iter().enumerate() {
            if carrier && seg.ends.contains(&Node::Router(topology::RouterIx(r))) {
                self.net.set_carrier(now, SegIx(i), false);
            }
        }
        // A dead router forwards nothing; its state is lost.
        let pr = self.plane_of[r];
        for (prefix, _) in self.all_routes(pr) {
            self.plane.set_route(pr, prefix, Vec::new());
        }
        for s in 0..self.topo.sessions.len() {
            for end in 0..2 {
                if self.topo.sessions[s].ends[end].router.0 == r
                    && self.sessions[s].state[end] != SessionStateName::Idle
                {
                    self.push_timeline(
                        now,
                        Some(self.topo.routers[r].name.clone()),
                        TimelineEvent::Session {
                            session: self.topo.sessions[s].name.clone(),
                            from: self.sessions[s].state[end],
                            to: SessionStateName::Idle,
                            cause: Some(DownCause::Local),
                        },
                    );
                    if self.sessions[s].up {
                        self.sessions[s].flaps += 1;
                        self.sessions[s].up = false;
                    }
                    self.sessions[s].state[end] = SessionStateName::Idle;
                }
            }
        }
        let rseed = fnv1a64(
            format!(
                "{}/router/{}/{}",
                self.seed.0,
                self.topo.routers[r].name,
                now.as_nanos()
            )
            .as_bytes(),
        );
        if let Ok(fresh) = RouterRt::new(self.topo, r, rseed) {
            self.routers[r] = fresh;
        }
        self.plane_dirty = true;
    }

    // ---- Azure's gates, maintenance, floods, tunnels ----

    /// The peering sessions on circuit `c` (of one kind, or all); customer–PE sessions of a
    /// layer-3 provider are not Azure's and are left out.
    fn circuit_sessions(&self, c: usize, kind: Option<PeeringKind>) -> Vec<usize> {
        self.topo
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == topology::SessionKind::Peering)
            .filter(|(_, s)| {
                s.on.is_some_and(|(ci, _, k)| ci.0 == c && kind.is_none_or(|want| want == k))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The sessions router `r` takes part in, with the prepend it is configured with there.
    fn sessions_of(&self, r: usize) -> Vec<(usize, u8)> {
        self.topo
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                s.ends
                    .iter()
                    .find(|e| e.router.0 == r)
                    .map(|e| (i, e.prepend))
            })
            .collect()
    }

    /// Whether Azure's configuration gates keep session `s` down now, with the public
    /// prefixes state a fault may have set.
    fn gate_closed(&self, s: usize) -> bool {
        let gate = self.topo.session_gate(topology::SessionIx(s));
        let ms = self.topo.sessions[s]
            .on
            .filter(|(_, _, k)| *k == PeeringKind::Microsoft);
        match ms.and_then(|(c, _, _)| self.pp_state[c.0]) {
            Some(state) => {
                state != PublicPrefixesState::Configured
                    || gate.is_some_and(|g| !matches!(g, topology::Gate::PublicPrefixes(_)))
            }
            None => gate.is_some(),
        }
    }

    /// Sets or clears one reason for which Azure holds session `s` down. When the first
    /// reason appears the MSEE end stops the session (NOTIFICATION Cease / Administrative
    /// Shutdown, RFC 4486 §4 subcode 2, so the customer end learns it at once) and refuses
    /// new connections; when the last one goes it listens again and the customer's next
    /// connection attempt brings the session up.
    fn set_block(&mut self, s: usize, bit: u8, on: bool, why: &str) {
        let was = self.blocks[s] != 0;
        if on {
            self.blocks[s] |= bit;
        } else {
            self.blocks[s] &= !bit;
        }
        let is = self.blocks[s] != 0;
        if was == is {
            return;
        }
        let now = self.engine.now();
        let Some(end) = self.topo.sessions[s]
            .ends
            .iter()
            .position(|e| self.topo.routers[e.router.0].role == Role::Msee)
        else {
            return;
        };
        let r = self.topo.sessions[s].ends[end].router.0;
        self.net.set_accepting(SessIx(s), !is);
        if !self.net.is_alive(r) {
            return;
        }
        if is {
            // RFC 4486 §4: a deprovisioned circuit's peering is no longer configured at all:
            // Cease 6/3 Peer De-configured; every other gate is an administrative shutdown (6/2).
            let subcode = if bit == BLOCK_DEPROVISIONED {
                CeaseSubcode::PEER_DECONFIGURED
            } else {
                CeaseSubcode::ADMINISTRATIVE_SHUTDOWN
            };
            self.routers[r].admin_stop(now, SessIx(s), subcode, why);
        } else {
            self.routers[r].admin_start(now, SessIx(s));
        }
        self.flush_router(r);
    }

    /// A later stage of fault `index`.
    fn fault_stage(&mut self, index: usize, stage: u8) {
        self.links_dirty = true;
        if matches!(self.undo.get(&index), Some(Undo::Done)) {
            return;
        }
        let now = self.engine.now();
        match self.sc.faults[index].action.clone() {
            FaultAction::MseeMaintenance { circuit, side, .. } => {
                let msee = self.topo.circuits[circuit.0].links[side.index()].msee.0;
                if stage == 1 {
                    self.push_timeline(
                        now,
                        Some(self.topo.routers[msee].name.clone()),
                        TimelineEvent::Fault {
                            kind: "msee_maintenance: drained, sessions closed".into(),
                            target: self.topo.routers[msee].name.clone(),
                        },
                    );
                    for (s, _) in self.sessions_of(msee) {
                        self.set_block(s, BLOCK_MAINTENANCE, true, "MSEE maintenance");
                    }
                } else {
                    self.maintenance_over(index, msee);
                }
            }
            FaultAction::VpnTunnelDown { .. } => {
                if let Some(Undo::Tunnels { segments }) = self.undo.get(&index).cloned() {
                    self.dpd_expired(&segments);
                }
            }
            FaultAction::GatewayInstanceFailure { .. } => self.gateway_stage(index, stage),
            _ => {}
        }
        self.plane_dirty = true;
    }

    fn maintenance_over(&mut self, index: usize, msee: usize) {
        if self.undo.insert(index, Undo::Done).is_some() {
            return;
        }
        let now = self.engine.now();
        for (s, base) in self.sessions_of(msee) {
            self.routers[msee].set_prepend(now, SessIx(s), base);
            self.flush_router(msee);
            self.set_block(s, BLOCK_MAINTENANCE, false, "");
        }
    }

    /// The customer router of `sessions` originates `count` prefixes in all (its configured
    /// ones plus generated /24s from 100.64.0.0/10, RFC 6598 space that nothing else in the
    /// model uses). Its other sessions get an export filter so that the flood reaches only
    /// the sessions the fault names (the misconfiguration is on those sessions).
    fn flood(&mut self, index: usize, sessions: &[topology::SessionIx], count: u32) {
        let Some(first) = sessions.first() else {
            return;
        };
        let r = self.topo.sessions[first.0].ends[0].router.0;
        let mut configured: Vec<IpNet> = sessions
            .iter()
            .flat_map(|s| self.topo.sessions[s.0].ends[0].announces.iter().copied())
            .filter(|p| p.addr().is_ipv4())
            .collect();
        configured.sort_unstable();
        configured.dedup();
        let extra = count.saturating_sub(u32::try_from(configured.len()).unwrap_or(u32::MAX));
        // 2^14 /24s fit in the /10; a larger flood is capped there (documented).
        let prefixes: Vec<IpNet> = (0..extra.min(1 << 14))
            .filter_map(|k| {
                let base = u32::from(Ipv4Addr::new(100, 64, 0, 0)) + (k << 8);
                Ipv4Net::new(Ipv4Addr::from(base), 24).ok().map(IpNet::V4)
            })
            .collect();
        let flood_space: IpNet = "100.64.0.0/10".parse().unwrap_or_default();
        let any: IpNet = "0.0.0.0/0".parse().unwrap_or_default();
        let deny = PrefixList {
            entries: vec![
                prefix_list::Entry {
                    action: prefix_list::Action::Deny,
                    prefix: flood_space,
                    ge: None,
                    le: Some(32),
                },
                prefix_list::Entry {
                    action: prefix_list::Action::Permit,
                    prefix: any,
                    ge: None,
                    le: Some(32),
                },
            ],
        };
        let now = self.engine.now();
        let mut filters = Vec::new();
        for (s, _) in self.sessions_of(r) {
            if sessions.iter().any(|x| x.0 == s) {
                continue;
            }
            let old = self.routers[r].export_filter(SessIx(s));
            let new = match &old {
                None => deny.clone(),
                Some(list) => {
                    let mut l = deny.clone();
                    l.entries.truncate(1);
                    l.entries.extend(list.entries.iter().copied());
                    l
                }
            };
            self.routers[r].set_export_filter(now, SessIx(s), Some(new));
            filters.push((SessIx(s), old));
        }
        self.routers[r].originate(now, &prefixes);
        self.flush_router(r);
        self.undo.insert(
            index,
            Undo::Flood {
                router: r,
                prefixes,
                filters,
            },
        );
    }

    fn flood_over(&mut self, index: usize) {
        let Some(Undo::Flood {
            router,
            prefixes,
            filters,
        }) = self.undo.remove(&index)
        else {
            return;
        };
        let now = self.engine.now();
        self.routers[router].withdraw(now, &prefixes);
        for (s, old) in filters {
            self.routers[router].set_export_filter(now, s, old);
        }
        self.flush_router(router);
        self.undo.insert(index, Undo::Done);
    }

    /// The tunnel segments stop carrying traffic (IPsec packets vanish on the internet
    /// path); dead-peer detection declares them down after the gateway's DPD timeout.
    fn tunnels_silent(&mut self, index: usize, segments: Vec<usize>) {
        for s in &segments {
            self.net.set_silent(SegIx(*s), true);
        }
        let dpd = self
            .topo
            .vpn
            .as_ref()
            .map_or(Duration::ZERO, |g| g.dpd_timeout);
        self.engine
            .schedule_at(self.engine.now() + dpd, Ev::Stage { index, stage: 1 });
        self.undo.insert(index, Undo::Tunnels { segments });
    }

    fn tunnels_back(&mut self, index: usize) {
        let Some(Undo::Tunnels { segments }) = self.undo.remove(&index) else {
            return;
        };
        for s in &segments {
            self.net.set_silent(SegIx(*s), false);
        }
        for s in self.sessions_over(&segments) {
            self.tunnel_session_up(s);
        }
        self.undo.insert(index, Undo::Done);
    }

    fn sessions_over(&self, segments: &[usize]) -> Vec<usize> {
        self.topo
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.path.iter().any(|p| segments.contains(&p.0)))
            .map(|(i, _)| i)
            .collect()
    }

    /// IKE dead-peer detection (RFC 3706) declared the tunnels under these segments down:
    /// each end's tunnel interface goes down, which takes the BGP session over it down at
    /// once, as carrier loss does (reported with cause `carrier`).
    fn dpd_expired(&mut self, segments: &[usize]) {
        for s in self.sessions_over(segments) {
            self.tunnel_session_down(s);
        }
    }

    fn tunnel_session_down(&mut self, s: usize) {
        if self.tunnel_down[s] {
            return;
        }
        self.tunnel_down[s] = true;
        let now = self.engine.now();
        for end in 0..2u8 {
            let r = self.router_at(SessIx(s), end);
            if !self.net.is_alive(r) {
                continue;
            }
            self.sessions[s].pending_cause[usize::from(end)] = Some(DownCause::Carrier);
            self.net.drop_end(&mut self.engine, SessIx(s), end);
            self.routers[r].handle_interface(now, SessIx(s), false);
            self.flush_router(r);
        }
    }

    fn tunnel_session_up(&mut self, s: usize) {
        if !self.tunnel_down[s] {
            return;
        }
        self.tunnel_down[s] = false;
        let now = self.engine.now();
        for end in 0..2u8 {
            let r = self.router_at(SessIx(s), end);
            if self.net.is_alive(r) {
                self.routers[r].handle_interface(now, SessIx(s), true);
                self.routers[r].reconnect(now, SessIx(s));
                self.flush_router(r);
            }
        }
    }

    /// A VPN gateway instance fails. Active-standby: the gateway is unreachable (its state
    /// lost, nothing told to the device) until the standby takes over after the failover
    /// time drawn from the seeded stream; the device's dead-peer detection takes its tunnel
    /// down after the DPD timeout if that comes first. Active-active: only that instance's
    /// tunnel stops for the failover time, the other tunnel keeps its session.
    fn gateway_failure(&mut self, index: usize, instance: Option<u8>, planned: bool) {
        let Some(g) = self.topo.vpn.clone() else {
            return;
        };
        let mut stream = self.seed.stream_named(&format!("fault/{index}/failover"));
        let spec = if planned {
            g.planned_failover
        } else {
            g.unplanned_failover
        };
        let failover = draw(spec, &mut stream);
        let now = self.engine.now();
        self.engine
            .schedule_at(now + failover, Ev::Stage { index, stage: 2 });
        match g.mode {
            topology::VpnMode::ActiveActive => {
                let k = usize::from(instance.unwrap_or(0));
                let segments: Vec<usize> = g.tunnels.get(k).map(|s| s.0).into_iter().collect();
                self.tunnels_silent(index, segments);
            }
            topology::VpnMode::ActiveStandby => {
                self.crash_router(g.router.0, false);
                self.engine
                    .schedule_at(now + g.dpd_timeout, Ev::Stage { index, stage: 1 });
                let segments = g.tunnels.iter().map(|s| s.0).collect();
                self.undo.insert(index, Undo::Tunnels { segments });
            }
        }
    }

    fn gateway_stage(&mut self, index: usize, stage: u8) {
        let Some(g) = self.topo.vpn.clone() else {
            return;
        };
        let Some(Undo::Tunnels { segments }) = self.undo.get(&index).cloned() else {
            return;
        };
        match (g.mode, stage) {
            (_, 1) => self.dpd_expired(&segments),
            (topology::VpnMode::ActiveActive, _) => self.tunnels_back(index),
            (topology::VpnMode::ActiveStandby, _) => {
                // The standby instance answers with a fresh IKE SA: whatever the device still
                // held for the old instance is gone (a device whose DPD had not fired yet
                // sees the tunnel flap), then the new tunnel and its BGP session come up.
                self.dpd_expired(&segments);
                self.restart_router(g.router.0);
                self.undo.insert(index, Undo::Done);
                for s in self.sessions_over(&segments) {
                    self.tunnel_session_up(s);
                }
            }
        }
    }

    fn all_routes(&self, pr: dp::RouterIx) -> Vec<(IpNet, Vec<AdjIx>)> {
        let mut v: Vec<IpNet> = self
            .topo
            .onprem_prefixes
            .iter()
            .map(|p| IpNet::V4(*p))
            .collect();
        v.extend(
            self.topo
                .vnets
                .iter()
                .flat_map(|n| n.prefixes.iter().map(|p| IpNet::V4(*p))),
        );
        v.extend(
            self.topo
                .internet
                .microsoft_prefixes
                .iter()
                .map(|p| IpNet::V4(*p)),
        );
        v.into_iter()
            .map(|p| (p, self.plane.route(pr, &p).to_vec()))
            .filter(|(_, h)| !h.is_empty())
            .collect()
    }

    fn restart_router(&mut self, r: usize) {
        self.links_dirty = true;
        let now = self.engine.now();
        if self.net.is_alive(r) {
            return;
        }
        self.net.set_alive(&mut self.engine, r, true);
        for (i, seg) in self.topo.segments.iter().enumerate() {
            if seg.ends.contains(&Node::Router(topology::RouterIx(r))) {
                self.net.set_carrier(now, SegIx(i), true);
            }
        }
        self.routers[r].start(now, self.topo);
        self.flush_router(r);
    }

    // ---- report ----

    fn finish(mut self) -> Result<RunReport, RunError> {
        let end = self.end;
        self.flush_bulk_fib();
        if let Some(t) = &mut self.tracer {
            let _ = t.flush();
        }
        let first_fault = self.fault_times.first().copied();
        let mut outages = Vec::new();
        let mut probes: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let probe_of: BTreeMap<String, Option<Duration>> = self
            .sc
            .probes
            .iter()
            .flat_map(|p| {
                p.directions
                    .iter()
                    .map(move |d| (d.name.clone(), p.interval))
            })
            .collect();
        for f in &self.flows {
            for o in f.meter.outages(end) {
                outages.push(Outage {
                    direction: f.direction.clone(),
                    flow: f.index,
                    start: o.from,
                    end: (!o.open).then_some(o.to),
                    duration: o.duration(),
                });
            }
            if let Some(Some(iv)) = probe_of.get(&f.direction) {
                let e = probes.entry(f.direction.clone()).or_insert((0, 0));
                e.0 += dp::probes_in(Instant::ZERO, *iv, Instant::ZERO, end);
                e.1 += f.meter.probes_lost(Instant::ZERO, *iv, end);
            }
        }
        outages
            .sort_by(|a, b| (a.start, &a.direction, a.flow).cmp(&(b.start, &b.direction, b.flow)));
        let convergence = match first_fault {
            None => Vec::new(),
            Some(f) => self
                .last_fib_change
                .iter()
                .filter(|(_, t)| **t >= f)
                .map(|(r, t)| Convergence {
                    router: self.topo.routers[*r].name.clone(),
                    at: *t,
                    after_fault: *t - f,
                })
                .collect(),
        };
        let report = RunReport {
            scenario: self.sc.name.clone(),
            seed: self.seed.0,
            duration: self.sc.duration,
            fork_at: self.fork_at,
            timeline: self.timeline,
            detections: self.detections,
            convergence,
            outages,
            paths: self.path_changes,
            probes: probes
                .into_iter()
                .map(|(direction, (sent, lost))| ProbeStats {
                    direction,
                    sent,
                    lost,
                })
                .collect(),
            messages: MessageType::ALL
                .iter()
                .map(|k| MessageCount {
                    kind: *k,
                    // BGP messages as they left on the wire (a message queued behind
                    // unacknowledged data when its connection closed never did); BFD as sent.
                    count: match k {
                        MessageType::Bfd => self.bfd_sent,
                        _ => self.net.messages_sent(*k),
                    },
                })
                .collect(),
            flaps: self
                .topo
                .sessions
                .iter()
                .zip(&self.sessions)
                .map(|(s, rt)| FlapCount {
                    session: s.name.clone(),
                    count: rt.flaps,
                })
                .collect(),
            bytes_dropped: self
                .drops
                .bytes(end)
                .into_iter()
                .map(|(direction, bytes)| BytesDropped { direction, bytes })
                .collect(),
        };
        Ok(report)
    }
}

/// Makes every direction of every segment with a bandwidth a capacity resource of the plane
/// and binds each session adjacency to the resources its frames cross; returns the
/// resources' readable names.
fn bind_capacities(
    topo: &Topology,
    net: &Net,
    plane: &mut Plane,
    adj: &[[AdjIx; 2]],
) -> Vec<String> {
    let mut names = Vec::new();
    let mut res: BTreeMap<(usize, sim_core::link::Direction), dp::ResIx> = BTreeMap::new();
    for (s, pair) in adj.iter().enumerate() {
        for (end, a) in pair.iter().enumerate() {
            let end = u8::try_from(end).unwrap_or(0);
            for (seg, dir) in net.hops_from(SessIx(s), end) {
                let Some(segment) = topo.segments.get(seg.0) else {
                    continue;
                };
                let Some(bw) = segment.props.bandwidth else {
                    continue;
                };
                let r = *res.entry((seg.0, dir)).or_insert_with(|| {
                    let to = match dir {
                        sim_core::link::Direction::AToB => &segment.ends[1],
                        sim_core::link::Direction::BToA => &segment.ends[0],
                    };
                    let to = match to {
                        Node::Router(r) => topo.routers[r.0].name.clone(),
                        Node::Transit(name) => name.clone(),
                    };
                    names.push(format!("{} towards {to}", segment.name));
                    plane.add_resource(bw.bps())
                });
                plane.bind(*a, r);
            }
        }
    }
    names
}

/// Which way a delivered packet went, from the roles of the routers it crossed.
fn via_of(topo: &Topology, plane_of: &[dp::RouterIx], path: &[dp::RouterIx]) -> Via {
    let role = |p: &dp::RouterIx| {
        plane_of
            .iter()
            .position(|x| x == p)
            .map(|i| topo.routers[i].role)
    };
    if path.iter().any(|p| role(p) == Some(Role::Msee)) {
        Via::Expressroute
    } else if path.iter().any(|p| role(p) == Some(Role::VpnGateway)) {
        Via::Vpn
    } else {
        Via::Internet
    }
}

fn fault_label(topo: &Topology, a: &FaultAction) -> (String, String) {
    let kind = match a {
        FaultAction::Silent { .. } => "silent",
        FaultAction::Down { .. } => "down",
        FaultAction::Loss { .. } => "loss",
        FaultAction::Latency { .. } => "latency",
        FaultAction::RouterCrash { .. } => "router_crash",
        FaultAction::RouterRestart { .. } => "router_restart",
        FaultAction::MseeMaintenance { .. } => "msee_maintenance",
        FaultAction::BgpDisconnect { .. } => "bgp_disconnect",
        FaultAction::VpnTunnelDown { .. } => "vpn_tunnel_down",
        FaultAction::GatewayInstanceFailure { .. } => "gateway_instance_failure",
        FaultAction::Deprovision { .. } => "deprovision",
        FaultAction::PrefixFlood { .. } => "prefix_flood",
        FaultAction::PublicPrefixesState { .. } => "public_prefixes_state",
        FaultAction::Restore { .. } => "restore",
    };
    let target = match (a.target(), a) {
        (Some(t), _) => topo.target_name(t),
        (
            None,
            FaultAction::BgpDisconnect { sessions } | FaultAction::PrefixFlood { sessions, .. },
        ) => sessions
            .iter()
            .map(|s| topo.target_name(Target::Session(*s)))
            .collect::<Vec<_>>()
            .join(", "),
        (None, _) => String::new(),
    };
    (kind.to_owned(), target)
}
