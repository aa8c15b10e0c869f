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
//! # Modelling choices (documented in the README too)
//!
//! - On-premises hosts reach the CEs through a first-hop redundancy that moves at once: the
//!   `onprem` ingress spreads flows per 5-tuple over the CEs that are running.
//! - A VNet forwards towards on-premises over the ExpressRoute gateway's *programmed* routes,
//!   which follow the gateway's BGP table after the gateway's convergence delay, and over the
//!   VPN gateway's routes only for prefixes ExpressRoute does not have (domain.md: for the same
//!   prefix ExpressRoute wins whatever the AS path; longest prefix first).
//! - Each flow of a probe sends its own probe stream at the probe interval (parallel pings).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
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
    Convergence, Detection, DownCause, FlapCount, MessageCount, Outage, PathChange, ProbeStats,
    RunReport, TimelineEntry, TimelineEvent,
};
use crate::scenario::{FaultAction, MessageType, Scenario};
use crate::spec::{SessionStateName, Via};
use crate::topology::{self, Node, Role, Target, Topology};
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
    /// The end of the run.
    End,
}

impl From<NetEvent> for Ev {
    fn from(e: NetEvent) -> Self {
        Self::Net(e)
    }
}

/// A flow being measured.
struct FlowRt {
    direction: String,
    index: u32,
    flow: dp::Flow,
    meter: FlowMeter,
    via: Via,
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
    // Faults.
    fault_at: Vec<Instant>,
    fault_times: Vec<Instant>,
    saved_loss: BTreeMap<usize, SimLoss>,
    // Measurement.
    timeline: Vec<TimelineEntry>,
    detections: Vec<Detection>,
    last_fib_change: BTreeMap<usize, Instant>,
    messages: BTreeMap<MessageType, u64>,
    path_changes: Vec<PathChange>,
    tracer: Tracer<&'a mut dyn Write>,
    end: Instant,
    /// The capture sink (`holdtime run --pcap/--mrt`), if any.
    tap: Option<&'a mut dyn Tap>,
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

fn sim_loss(l: LossModel) -> SimLoss {
    match l {
        LossModel::Bernoulli(p) if p <= 0.0 => SimLoss::None,
        LossModel::Bernoulli(p) => SimLoss::Bernoulli { p },
        LossModel::GilbertElliott {
            p,
            r,
            loss_good,
            loss_bad,
        } => SimLoss::GilbertElliott {
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
        IpNet::V6(n) => IpAddr::V6(n.network()),
    }
}

impl<'a> World<'a> {
    /// Builds the world for `sc` with `seed`.
    pub(crate) fn new(
        sc: &'a Scenario,
        seed: u64,
        trace: &'a mut dyn Write,
    ) -> Result<Self, RunError> {
        let topo = &sc.topology;
        let seed = Seed(seed);
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
            .collect();
        for (i, r) in topo.routers.iter().enumerate() {
            let local: Vec<IpNet> = match r.role {
                Role::Ce | Role::VpnDevice => {
                    topo.onprem_prefixes.iter().map(|p| IpNet::V4(*p)).collect()
                }
                Role::ErGateway | Role::VpnGateway => topo
                    .vnets
                    .iter()
                    .flat_map(|v| v.prefixes.iter().map(|p| IpNet::V4(*p)))
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
        plane.set_route(
            onprem,
            "0.0.0.0/0".parse().unwrap_or_default(),
            onprem_adjs.iter().map(|(_, a)| *a).collect(),
        );
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

        let end = Instant::ZERO + sc.duration;
        let mut world = Self {
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
            fault_at: Vec::new(),
            fault_times: Vec::new(),
            saved_loss: BTreeMap::new(),
            timeline: Vec::new(),
            detections: Vec::new(),
            last_fib_change: BTreeMap::new(),
            messages: BTreeMap::new(),
            path_changes: Vec::new(),
            tracer: Tracer::new(trace),
            end,
            tap: None,
        };
        world.build_flows();
        world.schedule_faults();
        Ok(world)
    }

    fn endpoint_ingress(&self, name: &str) -> Option<dp::RouterIx> {
        match name {
            "onprem" => Some(self.onprem),
            "microsoft" => None,
            _ => self.vnet_in.map(|(v, _, _)| v),
        }
    }

    fn endpoint_addr(&self, name: &str, k: u32) -> Option<IpAddr> {
        let net = match name {
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
                let (Some(ingress), Some(_)) =
                    (self.endpoint_ingress(&d.from), self.endpoint_addr(&d.to, 0))
                else {
                    continue;
                };
                for k in 0..probe.flows.max(1) {
                    let dst = self
                        .endpoint_addr(&d.to, k)
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
        let now = Instant::ZERO;
        for r in 0..self.routers.len() {
            self.routers[r].start(now, self.topo);
            self.flush_router(r);
        }
        self.settle();
        while let Some((t, ev)) = self.engine.step() {
            if t > self.end {
                break;
            }
            match ev {
                Ev::End => break,
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
            }
            self.settle();
        }
        self.finish()
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
        self.refresh_adjacencies();
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
                    count_bgp_messages(&bytes, &mut self.messages);
                    let end = self.end_of(s, r);
                    self.net.write(&mut self.engine, s, end, &bytes);
                }
                Out::Close(s) => {
                    let end = self.end_of(s, r);
                    self.net.close(&mut self.engine, s, end);
                }
                Out::Bfd(s, bytes) => {
                    *self.messages.entry(MessageType::Bfd).or_insert(0) += 1;
                    let end = self.end_of(s, r);
                    self.net
                        .send_datagram(&mut self.engine, s, end, bytes.into_boxed_slice());
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
        if changes.len() <= 8 {
            for (prefix, via) in &changes {
                let via = via.iter().map(|s| self.peer_name(r, *s)).collect();
                self.push_timeline(
                    now,
                    Some(name.clone()),
                    TimelineEvent::Fib {
                        prefix: prefix.to_string(),
                        via,
                    },
                );
            }
        } else {
            let withdrawn = changes.iter().filter(|(_, v)| v.is_empty()).count();
            self.push_timeline(
                now,
                Some(name),
                TimelineEvent::Fib {
                    prefix: format!("{} prefixes ({} removed)", changes.len(), withdrawn),
                    via: Vec::new(),
                },
            );
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
    }

    fn evaluate_flows(&mut self) {
        let now = self.engine.now();
        let mut changes = Vec::new();
        for f in &mut self.flows {
            let walk = self.plane.walk(&f.flow);
            f.meter.observe(now, &walk);
            let via = match &walk {
                Walk::Lost(_) => Via::None,
                Walk::Delivered(path) => via_of(self.topo, &self.plane_of, path),
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
    }

    fn push_timeline(&mut self, at: Instant, router: Option<String>, event: TimelineEvent) {
        let mut rec = Record::new(at, router.clone().unwrap_or_else(|| "-".into()), "timeline");
        if let Ok(v) = serde_json::to_value(&event) {
            rec = rec.with("event", v);
        }
        // A trace that cannot be written stops being written; the run and its report go on.
        let _ = self.tracer.record(&rec);
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
                    self.crash_router(router.0);
                }
            }
            FaultAction::RouterRestart { router } => self.restart_router(router.0),
            FaultAction::BgpDisconnect { sessions } => {
                for s in sessions {
                    let msee = self.topo.sessions[s.0].ends[1].router.0;
                    if end {
                        self.routers[msee].admin_start(now, SessIx(s.0));
                    } else {
                        self.routers[msee].admin_stop(now, SessIx(s.0));
                    }
                    self.flush_router(msee);
                }
            }
            FaultAction::Restore { target } => self.restore(index, target)?,
            other => {
                let (kind, _) = fault_label(self.topo, &other);
                return Err(RunError::Unsupported(format!(
                    "fault kind `{kind}` (fault #{}) is not simulated yet; the scenario is valid but this build \
                     cannot replay it",
                    index + 1
                )));
            }
        }
        self.plane_dirty = true;
        Ok(())
    }

    /// Ends every earlier fault on `target`.
    fn restore(&mut self, index: usize, target: Target) -> Result<(), RunError> {
        let earlier: Vec<usize> = (0..index)
            .filter(|&i| self.fault_at[i] <= self.engine.now())
            .filter(|&i| fault_target(&self.sc.faults[i].action) == Some(target))
            .collect();
        for i in earlier {
            if !matches!(self.sc.faults[i].action, FaultAction::Restore { .. }) {
                self.apply_fault(i, true)?;
            }
        }
        Ok(())
    }

    fn crash_router(&mut self, r: usize) {
        let now = self.engine.now();
        self.net.set_alive(&mut self.engine, r, false);
        if let Some((_, id)) = self.router_timer[r].take() {
            self.engine.cancel(id);
        }
        for (i, seg) in self.topo.segments.iter().enumerate() {
            if seg.ends.contains(&Node::Router(topology::RouterIx(r))) {
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
        let _ = self.tracer.flush();
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
                    count: self.messages.get(k).copied().unwrap_or(0),
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
            bytes_dropped: Vec::new(),
        };
        Ok(report)
    }
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

fn fault_target(a: &FaultAction) -> Option<Target> {
    Some(match a {
        FaultAction::Silent { target }
        | FaultAction::Down { target }
        | FaultAction::Loss { target, .. }
        | FaultAction::Latency { target, .. }
        | FaultAction::VpnTunnelDown { target }
        | FaultAction::Restore { target } => *target,
        FaultAction::RouterCrash { router } | FaultAction::RouterRestart { router } => {
            Target::Router(*router)
        }
        FaultAction::Deprovision { circuit } | FaultAction::PublicPrefixesState { circuit, .. } => {
            Target::Circuit(*circuit)
        }
        FaultAction::MseeMaintenance { circuit, side, .. } => Target::Link(*circuit, *side),
        FaultAction::BgpDisconnect { sessions } => Target::Session(*sessions.first()?),
        FaultAction::GatewayInstanceFailure { instance, .. } => {
            instance.map_or(Target::VpnGateway, Target::VpnGatewayInstance)
        }
        FaultAction::PrefixFlood { sessions, .. } => Target::Session(*sessions.first()?),
    })
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
    let target = fault_target(a).map_or_else(String::new, |t| topo.target_name(t));
    (kind.to_owned(), target)
}

/// Counts the BGP messages in a chunk written by a session (whole messages, RFC 4271 §4.1
/// header: 16-octet marker, 2-octet length, 1-octet type).
fn count_bgp_messages(bytes: &[u8], counts: &mut BTreeMap<MessageType, u64>) {
    let mut at = 0usize;
    while let Some(h) = bytes.get(at..at + 19) {
        let len = usize::from(u16::from_be_bytes([h[16], h[17]]));
        let kind = match h[18] {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            _ => break,
        };
        *counts.entry(kind).or_insert(0) += 1;
        if len < 19 {
            break;
        }
        at += len;
    }
}
