//! The world: a validated [`Scenario`] instantiated as speakers, links, connections and a data
//! plane in one `sim-core` engine, run to the end, and turned into a [`RunReport`].
//!
//! # Map
//!
//! - this file: the event loop (one step, the fork, routers' inputs and outputs);
//! - [`super::forwarding`]: the data plane glue (adjacencies, endpoints, pseudo routers);
//! - [`super::install`]: when a router's best-path changes reach its FIB (its profile's
//!   route-install latency);
//! - [`super::azure`]: Azure's gates, the ExpressRoute gateway's programming, the VPN;
//! - [`super::faults`]: each fault kind's effect and its undoing;
//! - [`super::measure`]: everything a report says (window, episodes, outages, paths).
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

use std::io::Write;

use bgp::fsm::profile::RouteInstall;
use bgp::speaker::StaleFlush;
use sim_core::engine::Engine;
use sim_core::link::{DirectionConfig, JitterModel, Link, LossModel as SimLoss, QueueLimit};
use sim_core::queue::EventId;
use sim_core::rng::{Seed, Stream, fnv1a64};
use sim_core::time::{Duration, Instant};

use super::azure::Azure;
use super::faults::FaultState;
use super::forwarding::{Forwarding, end_of};
use super::install::Install;
use super::measure::Measure;
use super::net::{CapturePoint, CloseCause, Net, NetEvent, PathNode, SessIx, Upcall};
use super::router::{Out, RouterRt, RtEvent, SessionDown};
use super::tap::Tap;
use super::{Detached, RunError};
use crate::report::{
    ConnectTrouble, DownCause, FlapCount, MessageCount, RunReport, TimelineEvent, WindowStart,
};
use crate::scenario::{MessageType, Scenario};
use crate::spec::SessionStateName;
use crate::topology::RouterIx;
use crate::topology::{self, Node, Topology};
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
    Program { gateway: usize, version: u64 },
    /// A router's waiting FIB changes are due (route-install latency, [`Install`]).
    Install(usize),
    /// A later stage of a multi-step fault (maintenance, dead-peer detection, failover).
    Stage { index: usize, stage: u8 },
    /// The measurement window opens at the latest (see `measure`).
    Window(WindowStart),
    /// The end of the run.
    End,
}

impl From<NetEvent> for Ev {
    fn from(e: NetEvent) -> Self {
        Self::Net(e)
    }
}

/// Per session: the state of each end and the cause to report when it next goes down.
#[derive(Clone)]
pub(crate) struct SessionRt {
    pub(crate) state: [SessionStateName; 2],
    pub(crate) pending_cause: [Option<DownCause>; 2],
    pub(crate) up: bool,
    pub(crate) flaps: u64,
}

/// The scenario instantiated. Every part is `Clone`: a snapshot at the fork is a clone,
/// without the trace and the capture sink ([`Detached`]).
#[derive(Clone)]
pub(crate) struct World<'a> {
    pub(crate) sc: &'a Scenario,
    pub(crate) topo: &'a Topology,
    pub(crate) seed: Seed,
    pub(crate) engine: Engine<Ev>,
    pub(crate) net: Net,
    pub(crate) routers: Vec<RouterRt>,
    pub(crate) router_timer: Vec<Option<(Instant, EventId)>>,
    pub(crate) sessions: Vec<SessionRt>,
    pub(crate) fwd: Forwarding,
    /// FIB changes waiting for their route-install latency.
    pub(crate) install: Install,
    /// The router whose BGP timer is being handled, while it is (its FIB changes are
    /// timer-driven: see `bgp::fsm::profile::RouteInstall::NextWakeUp`).
    timer_dispatch: Option<usize>,
    pub(crate) azure: Azure,
    pub(crate) faults: FaultState,
    pub(crate) meas: Measure<'a>,
    /// The capture sink (`holdtime run --pcap/--mrt`), if any.
    tap: Detached<&'a mut dyn Tap>,
    end: Instant,
    /// The routers have been started.
    started: bool,
    /// Where the start-up shared by every seed ended (see the module doc).
    fork_at: Instant,
    /// Per router: the tenant it serves, if any (a CSP's network).
    tenant_of: Vec<Option<usize>>,
    /// Per tenant: the isolation check so far.
    isolation: Vec<crate::report::TenantIsolation>,
}

/// How long before the earliest fault the start-up shared by every seed ends (see the module
/// doc): a minute of jittered BFD transmissions at a second or less erases their phase at the
/// fork (the phase after `n` intervals jittered by 75–100 % is uniform to within 0.87^n).
pub(crate) const FORK_LEAD: Duration = Duration::from_secs(60);

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
pub(crate) fn sim_loss(l: LossModel) -> SimLoss {
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

/// Makes `draw` visible to the other parts of the world.
pub(crate) fn draw_time(spec: TimeSpec, stream: &mut Stream) -> Duration {
    draw(spec, stream)
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
        let fwd = Forwarding::new(topo, &net);
        let meas = Measure::new(sc, &fwd, seed.0, trace);
        Ok(Self {
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
            fwd,
            install: Install::new(topo.routers.iter().map(|r| {
                // A scenario's `route_install` is a constant in place of the profile's model;
                // with `route_install_per_prefix` the FIB programs one prefix at a time after
                // that constant (without one: the profile's constant, FRR's 70 ms, else 0).
                match (r.timers.route_install, r.timers.route_install_per_prefix) {
                    (base, Some(per_prefix)) if !per_prefix.is_zero() => RouteInstall::Serial {
                        base: base.unwrap_or(match r.profile.behaviour().route_install {
                            RouteInstall::After(d) => d,
                            _ => Duration::ZERO,
                        }),
                        per_prefix,
                    },
                    (Some(d), _) if d.is_zero() => RouteInstall::Immediate,
                    (Some(d), _) => RouteInstall::After(d),
                    (None, _) => r.profile.behaviour().route_install,
                }
            })),
            timer_dispatch: None,
            azure: Azure::new(topo),
            faults: FaultState::default(),
            meas,
            tap: Detached(None),
            end: Instant::ZERO + sc.duration,
            started: false,
            fork_at: Instant::ZERO,
            tenant_of: (0..topo.routers.len())
                .map(|r| topo.tenant_of_router(RouterIx(r)))
                .collect(),
            isolation: topo
                .tenants
                .iter()
                .enumerate()
                .map(|(t, tenant)| crate::report::TenantIsolation {
                    tenant: tenant.name.clone(),
                    routers: (0..topo.routers.len())
                        .filter(|r| topo.tenant_of_router(RouterIx(*r)) == Some(t))
                        .map(|r| topo.routers[r].name.clone())
                        .collect(),
                    routes_checked: 0,
                    leaks: 0,
                    first_leaks: Vec::new(),
                    episodes_hit: Vec::new(),
                })
                .collect(),
        })
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
        // The window must not open in the start-up later than the fork: a `measure_from`
        // inside the lead makes the fork start at 0, like a fault would.
        let earliest = match self.sc.measure_from {
            Some(m) => earliest.min(m),
            None => earliest,
        };
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
        self.clone()
    }

    /// Hands the run over to `seed` at the fork (see the module doc): re-keys every random
    /// stream, re-draws the keepalive phases, and schedules the faults.
    pub(crate) fn fork(&mut self, seed: u64) {
        self.reseed(seed, self.fork_at);
        self.meas.trace_fork(self.fork_at, seed);
        self.schedule_faults();
    }

    /// The fork's re-keying at `now`, without scheduling anything: every random stream
    /// re-keyed from `seed`, every Established session's keepalive stream put in its
    /// stationary phase (see the module doc). [`crate::sweep::rare`] calls it at the start
    /// of each block of a rare-event estimate, on a clone of a world that is past its fork.
    pub(crate) fn reseed(&mut self, seed: u64, now: Instant) {
        self.seed = Seed(seed);
        let key = self.seed.stream_named("fork").next_u64();
        self.net.rekey(key);
        for r in &mut self.routers {
            r.rekey(key);
        }
        if self.started {
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
    }

    /// Rare-event estimation ([`crate::sweep::rare`]): starts the routers if need be, then
    /// handles every event before `until` and before the end, stopping early (before the
    /// next event) once `stop` holds. Returns whether it stopped early.
    pub(crate) fn step_until(
        &mut self,
        until: Instant,
        stop: impl Fn(&Self) -> bool,
    ) -> Result<bool, RunError> {
        self.start();
        while let Some(t) = self.engine.peek_time() {
            if stop(self) {
                return Ok(true);
            }
            if t >= until || t >= self.end {
                break;
            }
            if let Some((t, ev)) = self.engine.step() {
                self.dispatch(t, ev)?;
            }
        }
        Ok(stop(self))
    }

    /// Messages sent so far, every kind (BGP as they left on the wire, BFD as sent), as the
    /// report counts them.
    pub(crate) fn messages_sent(&self) -> u64 {
        MessageType::ALL
            .iter()
            .map(|k| match k {
                MessageType::Bfd => self.meas.bfd_sent,
                _ => self.net.messages_sent(*k),
            })
            .sum()
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

    /// Draws the fault times from the run's seed and schedules them, after the event that
    /// opens the measurement window at the latest (so it opens before a fault at the same
    /// instant acts), and the end.
    fn schedule_faults(&mut self) {
        let mut starts = Vec::with_capacity(self.sc.faults.len());
        for (i, f) in self.sc.faults.iter().enumerate() {
            let mut stream = self.seed.stream_named(&format!("fault/{i}"));
            let at = Instant::ZERO + draw(f.at, &mut stream);
            let len = f.duration.map(|d| draw(d, &mut stream));
            starts.push((at, len));
        }
        let first = starts.iter().map(|(at, _)| *at).min();
        let (deadline, why) = self.meas.window_deadline(first, self.end);
        self.engine
            .schedule_at(deadline.max(self.engine.now()), Ev::Window(why));
        for (i, (at, len)) in starts.into_iter().enumerate() {
            self.faults.fault_at.push(at);
            self.engine.schedule_at(
                at,
                Ev::Fault {
                    index: i,
                    end: false,
                },
            );
            if let Some(len) = len {
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
    /// transition to `tap` (see [`super::recorder`]).
    pub(crate) fn with_tap(mut self, tap: &'a mut dyn Tap, point: CapturePoint) -> Self {
        self.net.set_capture(Some(point));
        self.tap = Detached(Some(tap));
        self
    }

    /// Hands the frames the network recorded to the tap.
    fn drain_capture(&mut self) {
        if let Some(tap) = self.tap.0.as_deref_mut() {
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
        Ok(self.finish())
    }

    /// Handles one event at `t` and settles what it touched.
    fn dispatch(&mut self, t: Instant, ev: Ev) -> Result<(), RunError> {
        match ev {
            Ev::End => {}
            Ev::Net(e) => self.net.handle(&mut self.engine, e),
            Ev::Router(r) => {
                self.router_timer[r] = None;
                if self.net.is_alive(r) {
                    // A BGP timer wakes an event loop that was waiting (BIRD runs the queued
                    // events before it fires the timers); what the timer changes is
                    // timer-driven. BFD's timers run apart (BIRD's BFD has its own loop).
                    let bgp_due = self.routers[r].bgp_deadline().is_some_and(|d| d <= t);
                    if bgp_due {
                        self.wake(r);
                        // The loop's queued events run before its timers fire: a session
                        // that waited to act on an expired hold timer acts now, and its
                        // withdrawal is not timer-driven (it is the wake-up's work).
                        if self.routers[r].handle_wake(t) {
                            self.flush_router(r);
                        }
                    }
                    let timer_due = self.routers[r].bgp_timer_deadline().is_some_and(|d| d <= t);
                    self.timer_dispatch = timer_due.then_some(r);
                    self.routers[r].handle_timeout(t);
                    self.flush_router(r);
                    self.timer_dispatch = None;
                }
            }
            Ev::Install(r) => {
                self.install.fired(r);
                self.install_due(r);
            }
            Ev::Fault { index, end } => self.apply_fault(index, end)?,
            Ev::Program { gateway, version } => self.program_gateway(gateway, version),
            Ev::Stage { index, stage } => self.fault_stage(index, stage),
            Ev::Window(why) => {
                // Forwarding settles first, so the window sees the state as of now.
                self.settle();
                self.meas.open_window(t, why, &self.fwd);
            }
        }
        self.settle();
        Ok(())
    }

    /// Drains network upcalls into routers and router outputs into the network until quiet,
    /// then re-evaluates the flows if forwarding may have changed.
    pub(crate) fn settle(&mut self) {
        while let Some(up) = self.net.poll_upcall() {
            let now = self.engine.now();
            match up {
                Upcall::Connected { session, end } => {
                    let r = self.router_at(session, end);
                    self.wake(r);
                    self.routers[r].handle_transport(now, session, bgp::fsm::Transport::Connected);
                    self.flush_router(r);
                }
                Upcall::Data {
                    session,
                    end,
                    bytes,
                } => {
                    let r = self.router_at(session, end);
                    if let Some(tap) = self.tap.0.as_deref_mut() {
                        tap.received(now, session, end, &bytes);
                    }
                    self.wake(r);
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
                    // A connection closed while the OPENs are being exchanged: the attempt
                    // failed (after the session went down it is the old one's teardown).
                    let opening = matches!(
                        self.sessions[session.0].state[usize::from(end)],
                        SessionStateName::OpenSent | SessionStateName::OpenConfirm
                    );
                    let trouble = match why {
                        _ if was_connected && !opening => None,
                        CloseCause::PeerClosed if was_connected => {
                            Some(ConnectTrouble::ClosedByPeer { reset: false })
                        }
                        CloseCause::Reset if was_connected => {
                            Some(ConnectTrouble::ClosedByPeer { reset: true })
                        }
                        _ if was_connected => None,
                        CloseCause::Reset => Some(ConnectTrouble::Refused),
                        CloseCause::Aborted(sim_core::tcp::AbortReason::SynRetriesExhausted) => {
                            Some(ConnectTrouble::GaveUp)
                        }
                        CloseCause::Aborted(_) | CloseCause::PeerClosed => None,
                    };
                    if let Some(trouble) = trouble {
                        self.connect_trouble(r, session, trouble);
                    }
                    let t = if was_connected {
                        bgp::fsm::Transport::Closed
                    } else {
                        bgp::fsm::Transport::ConnectFailed
                    };
                    self.wake(r);
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
                Upcall::HandshakeLost {
                    session,
                    from,
                    retransmit_at,
                } => {
                    let r = self.router_at(session, from);
                    let trouble = if from == 0 {
                        ConnectTrouble::SynLost { retransmit_at }
                    } else {
                        ConnectTrouble::SynAckLost { retransmit_at }
                    };
                    self.connect_trouble(r, session, trouble);
                }
                Upcall::Carrier {
                    router,
                    segment,
                    up,
                } => self.carrier(router, segment, up),
            }
        }
        self.drain_capture();
        if self.fwd.links_dirty {
            self.fwd.links_dirty = false;
            self.fwd.refresh_adjacencies(self.topo, &self.net);
        } else if self.fwd.dirty {
            self.fwd.route_microsoft(self.topo, &self.net);
        }
        if self.fwd.dirty {
            self.fwd.dirty = false;
            let now = self.engine.now();
            self.meas.evaluate(now, &self.fwd);
        }
    }

    /// A timeline line on why a session's connection attempt did not succeed.
    fn connect_trouble(&mut self, r: usize, session: SessIx, trouble: ConnectTrouble) {
        let now = self.engine.now();
        self.meas.push(
            now,
            Some(self.topo.routers[r].name.clone()),
            TimelineEvent::Connect {
                session: self.topo.sessions[session.0].name.clone(),
                trouble,
            },
        );
    }

    pub(crate) fn router_at(&self, session: SessIx, end: u8) -> usize {
        self.topo.sessions[session.0].ends[usize::from(end & 1)]
            .router
            .0
    }

    pub(crate) fn end_of(&self, session: SessIx, router: usize) -> u8 {
        u8::from(end_of(self.topo, session, router) == 1)
    }

    fn carrier(&mut self, router: usize, segment: super::net::SegIx, up: bool) {
        self.fwd.links_dirty = true;
        // The kernel reports the link change on a socket (netlink): the daemon wakes.
        self.wake(router);
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
        self.fwd.dirty = true;
    }

    /// Drains one router's outputs.
    pub(crate) fn flush_router(&mut self, r: usize) {
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
                    self.meas.bfd_sent += 1;
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

    /// Records that session `s`'s end at router `r` is now in state `to`, with the timeline
    /// line, the detection when it leaves Established, and the flap count.
    pub(crate) fn session_state(
        &mut self,
        r: usize,
        s: usize,
        from: SessionStateName,
        to: SessionStateName,
        cause: Option<DownCause>,
    ) {
        let now = self.engine.now();
        let end = usize::from(self.end_of(SessIx(s), r));
        let name = self.topo.routers[r].name.clone();
        self.sessions[s].state[end] = to;
        let left = from == SessionStateName::Established && to != SessionStateName::Established;
        let cause = if left {
            let c = self.sessions[s].pending_cause[end].take().or(cause);
            let c = c.unwrap_or(DownCause::Local);
            self.meas
                .detection(self.topo.sessions[s].name.clone(), name.clone(), now, c);
            Some(c)
        } else {
            self.sessions[s].pending_cause[end] = None;
            None
        };
        let both_up = self.sessions[s]
            .state
            .iter()
            .all(|x| *x == SessionStateName::Established);
        if self.sessions[s].up && !both_up {
            self.sessions[s].flaps += 1;
        }
        self.sessions[s].up = both_up;
        self.meas.push(
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

    fn router_event(&mut self, r: usize, now: Instant, ev: RtEvent) {
        match ev {
            RtEvent::State {
                session,
                from,
                to,
                down,
            } => {
                let tap_end = self.end_of(session, r);
                if let Some(tap) = self.tap.0.as_deref_mut() {
                    tap.state(now, session, tap_end, from, to);
                }
                let cause = match down {
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
                };
                self.session_state(r, session.0, state_name(from), state_name(to), Some(cause));
            }
            RtEvent::Bfd { session, state } => {
                let name = self.topo.routers[r].name.clone();
                self.meas.push(
                    now,
                    Some(name),
                    TimelineEvent::Bfd {
                        session: self.topo.sessions[session.0].name.clone(),
                        state,
                    },
                );
            }
            RtEvent::Fib { changes } => self.fib_changes(r, now, changes),
            RtEvent::Stale {
                session,
                routes,
                until,
                why,
            } => {
                let name = self.topo.routers[r].name.clone();
                let what = match why {
                    None => "kept",
                    Some(StaleFlush::RestartTimeExpired) => "restart_time_expired",
                    Some(StaleFlush::EndOfRib) => "end_of_rib",
                    Some(StaleFlush::NotPreserved) => "not_preserved",
                    Some(StaleFlush::StalePathTime) => "stale_path_time",
                    Some(StaleFlush::HardReset) => "hard_reset",
                };
                self.meas.push(
                    now,
                    Some(name),
                    TimelineEvent::StaleRoutes {
                        session: self.topo.sessions[session.0].name.clone(),
                        routes: u64::try_from(routes).unwrap_or(u64::MAX),
                        what: what.to_owned(),
                        until,
                    },
                );
            }
        }
    }

    /// Router `r`'s RIB changed these forwarding entries now: into the FIB at once, or after
    /// the router's route-install latency ([`Install`]). The ExpressRoute gateway has its own
    /// programming delay (`azure`) and installs at once here.
    fn fib_changes(&mut self, r: usize, now: Instant, changes: Vec<(ipnet::IpNet, Vec<SessIx>)>) {
        if changes.is_empty() {
            return;
        }
        let is_er_gateway = self.topo.er_gateway_of(RouterIx(r)).is_some();
        if !is_er_gateway {
            let timer_driven = self.timer_dispatch == Some(r);
            let next_timer = self.routers[r].bgp_deadline();
            match self
                .install
                .batches(r, now, timer_driven, next_timer, changes)
            {
                Ok(batches) => {
                    for b in batches {
                        if let Some(at) = self.install.push(r, b) {
                            self.schedule_install(r, at);
                        }
                    }
                }
                Err(changes) => {
                    // Installed at once: whatever the router's loop still held goes first.
                    self.wake(r);
                    self.install_fib(r, now, changes);
                }
            }
            return;
        }
        self.install_fib(r, now, changes);
    }

    /// An event loop model's wake-up at router `r` (BGP input or a BGP timer): the FIB
    /// changes it held are installed now (see `RouteInstall::NextWakeUp`).
    fn wake(&mut self, r: usize) {
        let now = self.engine.now();
        let (batches, cancel) = self.install.take(r, now, true);
        if let Some(id) = cancel {
            self.engine.cancel(id);
        }
        for b in batches {
            self.install_fib(r, now, b.changes);
        }
    }

    /// Router `r`'s `Ev::Install`: installs the batches due, schedules the next.
    fn install_due(&mut self, r: usize) {
        let now = self.engine.now();
        let (batches, cancel) = self.install.take(r, now, false);
        if let Some(id) = cancel {
            self.engine.cancel(id);
        }
        for b in batches {
            self.install_fib(r, now, b.changes);
        }
        if let Some(at) = self.install.next_due(r) {
            self.schedule_install(r, at);
        }
    }

    fn schedule_install(&mut self, r: usize, at: Instant) {
        let at = at.max(self.engine.now());
        let id = self.engine.schedule_at(at, Ev::Install(r));
        if let Some(old) = self.install.scheduled(r, at, id) {
            self.engine.cancel(old);
        }
    }

    /// Router `r`'s forwarding entries change now: the timeline, the data plane, and the
    /// measurement of convergence.
    fn install_fib(&mut self, r: usize, now: Instant, changes: Vec<(ipnet::IpNet, Vec<SessIx>)>) {
        let name = self.topo.routers[r].name.clone();
        self.check_isolation(r, now, &changes);
        // The prefixes a user follows (on-premises, public, VNet and Microsoft prefixes) are
        // listed one by one; any others (a flood) are summed into one line per router and
        // event, written when the event settles.
        for (prefix, via) in &changes {
            if self.known_prefix(prefix) {
                let via = via.iter().map(|s| self.peer_name(r, *s)).collect();
                self.meas.push(
                    now,
                    Some(name.clone()),
                    TimelineEvent::Fib {
                        prefix: prefix.to_string(),
                        via,
                    },
                );
            } else {
                self.meas.bulk_fib(r, now, via.is_empty());
            }
        }
        if self.topo.er_gateway_of(RouterIx(r)).is_some() {
            self.gateway_table_changed(now, r, changes);
            return;
        }
        self.meas.fib_changed(r, now);
        let is_vpn = self.topo.vpn.as_ref().is_some_and(|g| g.router.0 == r);
        for (prefix, via) in changes {
            self.fwd.set_fib(self.topo, r, prefix, &via);
            if is_vpn {
                self.fwd.update_vnet_route(self.topo, prefix);
            }
        }
    }

    /// A tenant's router installs routes: each is checked against the other tenants' address
    /// spaces ("ExpressRoute for Cloud Solution Providers": a customer's traffic is isolated
    /// from the others').
    fn check_isolation(&mut self, r: usize, now: Instant, changes: &[(ipnet::IpNet, Vec<SessIx>)]) {
        let Some(t) = self.tenant_of.get(r).copied().flatten() else {
            return;
        };
        for (prefix, via) in changes {
            if via.is_empty() {
                continue;
            }
            let owner = self.topo.tenant_of_prefix(prefix).filter(|o| *o != t);
            let Some(check) = self.isolation.get_mut(t) else {
                return;
            };
            check.routes_checked += 1;
            let Some(owner) = owner else { continue };
            check.leaks += 1;
            if check.first_leaks.len() < crate::report::TenantIsolation::KEPT {
                check.first_leaks.push(crate::report::Leak {
                    at: now,
                    router: self.topo.routers[r].name.clone(),
                    prefix: prefix.to_string(),
                    owner: self.topo.tenants[owner].name.clone(),
                });
            }
        }
    }

    fn known_prefix(&self, prefix: &ipnet::IpNet) -> bool {
        let t = self.topo;
        let p = match prefix {
            ipnet::IpNet::V4(p) => p,
            ipnet::IpNet::V6(p) => {
                return t.onprem_ipv6_prefixes.contains(p)
                    || t.vnets.iter().any(|v| v.ipv6_prefixes.contains(p))
                    || t.sites.iter().any(|s| s.prefixes.contains(prefix));
            }
        };
        t.onprem_prefixes.contains(p)
            || t.public_prefixes.contains(p)
            || t.microsoft_prefixes().contains(p)
            || t.vnets.iter().any(|v| v.prefixes.contains(p))
            || t.sites.iter().any(|s| s.prefixes.contains(prefix))
    }

    fn peer_name(&self, r: usize, s: SessIx) -> String {
        let other = 1 - usize::from(self.end_of(s, r));
        self.topo.routers[self.topo.sessions[s.0].ends[other].router.0]
            .name
            .clone()
    }

    // ---- report ----

    fn finish(mut self) -> RunReport {
        let m = self.meas.finish(self.end);
        // Which episodes cost each tenant flows (its endpoints: its hosts' site and its VNet).
        for (t, tenant) in self.topo.tenants.iter().enumerate() {
            let names: Vec<&str> = [tenant.onprem, tenant.vnet]
                .iter()
                .filter_map(|s| self.topo.sites.get(*s).map(|s| s.name.as_str()))
                .collect();
            let mine: Vec<&str> = self
                .sc
                .probes
                .iter()
                .flat_map(|p| &p.directions)
                .filter(|d| names.contains(&d.from.as_str()) || names.contains(&d.to.as_str()))
                .map(|d| d.name.as_str())
                .collect();
            let mut hit: Vec<u32> = m
                .directions
                .iter()
                .filter(|d| mine.contains(&d.direction.as_str()))
                .flat_map(|d| &d.episodes)
                .filter(|e| e.flows_hit > 0)
                .map(|e| e.episode)
                .collect();
            hit.sort_unstable();
            hit.dedup();
            if let Some(i) = self.isolation.get_mut(t) {
                i.episodes_hit = hit;
            }
        }
        RunReport {
            format: crate::report::RunFormatTag,
            scenario: self.sc.name.clone(),
            seed: self.seed.0,
            duration: self.sc.duration,
            fork_at: self.fork_at,
            topology: crate::report::TopologyView::of(self.topo),
            window: m.window,
            episodes: m.episodes,
            timeline: m.timeline,
            detections: m.detections,
            convergence: m.convergence,
            outages: m.outages,
            directions: m.directions,
            paths: m.paths,
            probes: m.probes,
            messages: MessageType::ALL
                .iter()
                .map(|k| MessageCount {
                    kind: *k,
                    // BGP messages as they left on the wire (a message queued behind
                    // unacknowledged data when its connection closed never did); BFD as sent.
                    count: match k {
                        MessageType::Bfd => m.bfd_sent,
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
            bytes_dropped: m.bytes_dropped,
            isolation: self.isolation,
        }
    }
}
