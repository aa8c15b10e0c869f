//! Measurement: the one place that turns what the simulation does (forwarding changes, flow
//! deliveries, session changes, faults) into the numbers a report prints and an
//! `[[expect]]` checks. The definitions are written down in `scenarios/library/README.md`
//! ("What the numbers mean"); this module implements exactly those.
//!
//! - **The window.** Reachability is expected from the window's start to the end of the run.
//!   It opens at the scenario's `measure_from` when given; otherwise at the first instant
//!   every flow of every probe has been delivered once (the network is up), but no later than
//!   the first fault, or, in a run without faults, than [`STARTUP_LIMIT`] (or half the run if
//!   that is shorter). Before it nothing is counted: the start-up's convergence is not an
//!   outage. A flow undeliverable when it opens is in outage from its start, and a direction
//!   no flow of which is delivered at any instant of it is *never reachable*.
//! - **Episodes.** Every fault line of the timeline (a fault's start, a later stage that
//!   changes the network, its end or a `restore`) opens an episode, except that lines at the
//!   same instant share one, and faults with the same `episode` name in the file share the
//!   episode the first of them opened. A detection, a forwarding change and an outage belong
//!   to the episode in force when they happen (the one the latest fault line opened or
//!   joined), and are measured from that episode's start.
//! - **Outages** are per flow, exact to the nanosecond (the data plane is re-walked after
//!   every event that can change forwarding); one still going on at the end is *open*, and
//!   its length is a lower bound.
//! - **Paths** are per direction: how many of its flows go which way, at every change.

use std::collections::BTreeMap;
use std::io::Write;

use sim_core::time::{Duration, Instant};
use sim_core::trace::{Record, Tracer};

use super::Detached;
use super::dataplane::{self as dp, AdjIx, FlowMeter, Walk};
use super::forwarding::Forwarding;
use crate::report::{
    BytesDropped, Convergence, Detection, DirectionSummary, DownCause, Episode, EpisodeOutage,
    Outage, PathChange, PathShare, ProbeStats, TimelineEntry, TimelineEvent, Window, WindowStart,
};
use crate::scenario::Scenario;
use crate::spec::Via;
use crate::topology::Topology;

/// In a run without faults, the window opens at the latest this long after the start (or at
/// half the run, if that is earlier): Azure's slowest start-up steps (a ConnectRetry of up to
/// 120 s, then the ExpressRoute gateway's route programming of up to a minute) fit in it
/// twice over, so a flow still undelivered then is not waiting for the start-up.
pub(crate) const STARTUP_LIMIT: Duration = Duration::from_mins(5);

/// Which way a flow goes right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FlowPath {
    /// The way (`Via::None`: lost).
    via: Via,
    /// The link label ([`Forwarding::link_names`]) it crosses first, if any.
    link: Option<u32>,
    /// The VNet's user-defined route that decided the way, if one did.
    route: Option<crate::topology::UserRoute>,
}

const LOST: FlowPath = FlowPath {
    via: Via::None,
    link: None,
    route: None,
};

/// A flow being measured.
#[derive(Clone)]
struct FlowRt {
    /// Index into [`Measure::directions`].
    dir: usize,
    index: u32,
    flow: dp::Flow,
    meter: FlowMeter,
    path: Option<FlowPath>,
    /// Offered load in bits per second (0: none).
    rate_bps: u64,
}

/// A direction: its name and probe interval.
#[derive(Clone)]
struct DirRt {
    name: String,
    interval: Option<Duration>,
    /// The distribution last reported (`None`: none yet).
    last: Option<(u32, Vec<(FlowPath, u32)>)>,
}

/// An episode as it runs.
#[derive(Clone)]
struct EpisodeRt {
    at: Instant,
    label: String,
    /// The file's `episode` name, when its faults named one.
    group: Option<String>,
}

/// Everything measured, and the timeline.
#[derive(Clone)]
pub(crate) struct Measure<'a> {
    topo: &'a Topology,
    /// The JSON-lines trace, when one was asked for (no trace: no record is even built).
    tracer: Detached<Tracer<&'a mut dyn Write>>,
    directions: Vec<DirRt>,
    flows: Vec<FlowRt>,
    /// The forwarding's link labels ([`Forwarding::link_names`]), to name paths.
    link_names: std::sync::Arc<[String]>,
    /// Scratch for the adjacencies a walk crosses.
    adjs: Vec<AdjIx>,
    measure_from: Option<Instant>,
    window: Option<(Instant, WindowStart)>,
    episodes: Vec<EpisodeRt>,
    /// Every fault line's instant and the episode it opened or joined, in time order: the
    /// episode in force from there on. A line that joins an earlier episode (its `episode`
    /// name) puts that episode back in force, so the episodes in force are not always the
    /// latest opened.
    in_force: Vec<(Instant, usize)>,
    timeline: Vec<TimelineEntry>,
    detections: Vec<Detection>,
    /// (episode, router) → the router's last forwarding change in that episode.
    fib_last: BTreeMap<(usize, usize), Instant>,
    /// Per router: FIB changes of prefixes not listed one by one, to sum up (first change,
    /// changed, removed).
    bulk_fib: BTreeMap<usize, (Instant, usize, usize)>,
    paths: Vec<PathChange>,
    /// Directions whose flows changed paths at `paths_at`, reported once that instant is over
    /// (several evaluations at one instant are one change).
    paths_pending: Vec<bool>,
    paths_at: Option<Instant>,
    /// BFD packets sent (BGP messages are counted on the wire, by `net`).
    pub(crate) bfd_sent: u64,
    /// Bytes dropped by congestion, per direction.
    drops: dp::DropMeter,
    /// Resources overloaded at the last evaluation, with the load offered there.
    overloaded: Vec<(dp::ResIx, u64)>,
}

impl<'a> Measure<'a> {
    /// The flows of every probe of `sc`, with 5-tuple hashes from `seed` (the file's).
    pub(crate) fn new(
        sc: &'a Scenario,
        fwd: &Forwarding,
        seed: u64,
        trace: Option<&'a mut dyn Write>,
    ) -> Self {
        let topo = &sc.topology;
        let mut directions: Vec<DirRt> = Vec::new();
        let mut flows = Vec::new();
        for probe in &sc.probes {
            for d in &probe.directions {
                let (Some(ingress), Some(_)) = (
                    fwd.endpoint_ingress(topo, &d.from),
                    fwd.endpoint_addr(topo, &d.from, &d.to, 0, probe.family),
                ) else {
                    continue;
                };
                let dir = match directions.iter().position(|x| x.name == d.name) {
                    Some(i) => i,
                    None => {
                        directions.push(DirRt {
                            name: d.name.clone(),
                            interval: probe.interval,
                            last: None,
                        });
                        directions.len() - 1
                    }
                };
                let rate_bps = probe
                    .rate
                    .map_or(0, |r| r.bps() / u64::from(probe.flows.max(1)));
                for k in 0..probe.flows.max(1) {
                    let dst = fwd
                        .endpoint_addr(topo, &d.from, &d.to, k, probe.family)
                        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
                    let hash = sim_core::rng::fnv1a64(format!("{seed}/{}#{k}", d.name).as_bytes());
                    flows.push(FlowRt {
                        dir,
                        index: k,
                        flow: dp::Flow {
                            name: format!("{}#{k}", d.name),
                            ingress,
                            dst,
                            hash,
                        },
                        meter: FlowMeter::new(),
                        path: None,
                        rate_bps,
                    });
                }
            }
        }
        Self {
            topo,
            tracer: Detached(trace.map(Tracer::new)),
            directions,
            flows,
            link_names: fwd.link_names().into(),
            adjs: Vec::new(),
            measure_from: sc.measure_from.map(|d| Instant::ZERO + d),
            window: None,
            episodes: Vec::new(),
            in_force: Vec::new(),
            timeline: Vec::new(),
            detections: Vec::new(),
            fib_last: BTreeMap::new(),
            bulk_fib: BTreeMap::new(),
            paths: Vec::new(),
            paths_pending: Vec::new(),
            paths_at: None,
            bfd_sent: 0,
            drops: dp::DropMeter::default(),
            overloaded: Vec::new(),
        }
    }

    /// When the window opens at the latest, and why, given the first fault's instant.
    pub(crate) fn window_deadline(
        &self,
        first_fault: Option<Instant>,
        end: Instant,
    ) -> (Instant, WindowStart) {
        if let Some(at) = self.measure_from {
            return (at.min(end), WindowStart::MeasureFrom);
        }
        match first_fault {
            Some(at) => (at.min(end), WindowStart::FirstFault),
            None => {
                let half = Instant::ZERO + (end - Instant::ZERO) / 2;
                (
                    (Instant::ZERO + STARTUP_LIMIT).min(half),
                    WindowStart::StartupLimit,
                )
            }
        }
    }

    /// Opens the window at `now` (when it is not open yet): every flow is measured from here.
    pub(crate) fn open_window(&mut self, now: Instant, why: WindowStart, fwd: &Forwarding) {
        if self.window.is_some() {
            return;
        }
        self.window = Some((now, why));
        for f in &mut self.flows {
            let walk = fwd.plane.walk(&f.flow);
            f.meter.arm(now, &walk);
        }
    }

    /// Writes one trace record.
    pub(crate) fn trace(&mut self, rec: &Record) {
        if let Some(tracer) = self.tracer.0.as_mut() {
            // A trace that cannot be written stops being written; the run and its report go on.
            let _ = tracer.record(rec);
        }
    }

    /// Adds a line to the timeline (after the summed FIB lines still pending, and after the
    /// path changes of an earlier instant).
    pub(crate) fn push(&mut self, at: Instant, router: Option<String>, event: TimelineEvent) {
        if !self.bulk_fib.is_empty() {
            self.flush_bulk_fib();
        }
        if self.paths_at.is_some_and(|t| t < at) {
            self.flush_paths();
        }
        self.record(at, router, event);
    }

    /// Reports the path changes of the instant `paths_at`.
    fn flush_paths(&mut self) {
        let Some(at) = self.paths_at.take() else {
            return;
        };
        let pending = std::mem::take(&mut self.paths_pending);
        for (d, _) in pending.iter().enumerate().filter(|(_, p)| **p) {
            self.report_paths(at, d);
        }
    }

    fn record(&mut self, at: Instant, router: Option<String>, event: TimelineEvent) {
        if let Some(tracer) = self.tracer.0.as_mut() {
            let mut rec = Record::new(at, router.clone().unwrap_or_else(|| "-".into()), "timeline");
            if let Ok(mut v) = serde_json::to_value(&event) {
                trace_keys(&mut v);
                rec = rec.with("event", v);
            }
            let _ = tracer.record(&rec);
        }
        self.timeline.push(TimelineEntry { at, router, event });
    }

    /// A fault line: written to the timeline, and it opens an episode (see the module doc).
    pub(crate) fn fault(&mut self, at: Instant, kind: String, target: String, group: Option<&str>) {
        let label = if target.is_empty() {
            kind.clone()
        } else {
            format!("{kind} on {target}")
        };
        let joins = match group {
            Some(g) => self
                .episodes
                .iter()
                .position(|e| e.group.as_deref() == Some(g)),
            None => self
                .in_force
                .last()
                .filter(|&&(t, _)| t == at)
                .map(|&(_, e)| e),
        };
        let e = joins.unwrap_or_else(|| {
            self.episodes.push(EpisodeRt {
                at,
                label,
                group: group.map(str::to_owned),
            });
            self.episodes.len() - 1
        });
        self.in_force.push((at, e));
        self.push(at, None, TimelineEvent::Fault { kind, target });
    }

    /// The episode in force: the one the latest fault line opened or joined (events arrive
    /// in time order).
    fn current_episode(&self) -> Option<usize> {
        self.in_force.last().map(|&(_, e)| e)
    }

    /// The episode in force at `t`.
    fn episode_at(&self, t: Instant) -> Option<usize> {
        self.in_force
            .iter()
            .rfind(|&&(at, _)| at <= t)
            .map(|&(_, e)| e)
    }

    /// An end of a session declared it down.
    pub(crate) fn detection(
        &mut self,
        session: String,
        router: String,
        at: Instant,
        cause: DownCause,
    ) {
        let episode = self.current_episode();
        self.detections.push(Detection {
            session,
            router,
            at,
            episode: episode.map(|e| u32::try_from(e + 1).unwrap_or(u32::MAX)),
            after_fault: episode.map(|e| at - self.episodes[e].at),
            cause,
        });
    }

    /// Router `r` changed its forwarding at `at`.
    pub(crate) fn fib_changed(&mut self, r: usize, at: Instant) {
        if let Some(e) = self.current_episode() {
            self.fib_last.insert((e, r), at);
        }
    }

    /// A FIB change of a prefix not listed one by one, summed into one line per router.
    pub(crate) fn bulk_fib(&mut self, r: usize, at: Instant, removed: bool) {
        let e = self.bulk_fib.entry(r).or_insert((at, 0, 0));
        e.1 += 1;
        e.2 += usize::from(removed);
    }

    /// Writes the summed FIB changes, stamped with the first change of each sum; called
    /// before any other timeline entry and at the end.
    fn flush_bulk_fib(&mut self) {
        for (r, (at, changed, removed)) in std::mem::take(&mut self.bulk_fib) {
            self.record(
                at,
                Some(self.topo.routers[r].name.clone()),
                TimelineEvent::FibBulk {
                    changed: u64::try_from(changed).unwrap_or(u64::MAX),
                    removed: u64::try_from(removed).unwrap_or(u64::MAX),
                },
            );
        }
    }

    /// Walks every flow after forwarding may have changed: opens the window when every flow
    /// has been delivered once, records outages, reports changed path distributions, and
    /// accounts congestion.
    pub(crate) fn evaluate(&mut self, now: Instant, fwd: &Forwarding) {
        if self.paths_at.is_some_and(|t| t < now) {
            self.flush_paths();
        }
        let mut changed = vec![false; self.directions.len()];
        for i in 0..self.flows.len() {
            let walk = fwd.plane.walk_adjs(&self.flows[i].flow, &mut self.adjs);
            let path = match &walk {
                Walk::Lost(_) => LOST,
                Walk::Delivered(routers) => {
                    let (via, link) = fwd.classify(routers, &self.adjs);
                    let route = fwd.deciding_route(&self.flows[i].flow);
                    FlowPath { via, link, route }
                }
            };
            let f = &mut self.flows[i];
            f.meter.observe(now, &walk);
            if f.path != Some(path) {
                f.path = Some(path);
                changed[f.dir] = true;
            }
        }
        if self.window.is_none()
            && self.measure_from.is_none()
            && self.flows.iter().all(|f| f.meter.ever_delivered())
        {
            self.open_window(now, WindowStart::AllDelivered, fwd);
        }
        if changed.iter().any(|c| *c) {
            if self.paths_pending.len() < changed.len() {
                self.paths_pending.resize(changed.len(), false);
            }
            for (p, c) in self.paths_pending.iter_mut().zip(&changed) {
                *p |= *c;
            }
            self.paths_at = Some(now);
        }
        self.account_congestion(now, fwd);
    }

    /// Reports direction `d`'s distribution over paths when it changed.
    fn report_paths(&mut self, now: Instant, d: usize) {
        let mut dist: Vec<(FlowPath, u32)> = Vec::new();
        let mut total = 0;
        for f in self.flows.iter().filter(|f| f.dir == d) {
            total += 1;
            let p = f.path.unwrap_or(LOST);
            match dist.iter_mut().find(|(x, _)| *x == p) {
                Some((_, n)) => *n += 1,
                None => dist.push((p, 1)),
            }
        }
        dist.sort_unstable();
        let now_dist = Some((total, dist));
        if self.directions[d].last == now_dist {
            return;
        }
        let Some((flows, dist)) = now_dist.clone() else {
            return;
        };
        self.directions[d].last = now_dist;
        let lost = dist
            .iter()
            .filter(|(p, _)| p.via == Via::None)
            .map(|(_, n)| n)
            .sum();
        let via: Vec<PathShare> = dist
            .iter()
            .filter(|(p, _)| p.via != Via::None)
            .map(|(p, n)| PathShare {
                via: p.via,
                link: p.link.map(|l| self.link_names[l as usize].clone()),
                flows: *n,
                route: p.route.map(|r| r.to_string()),
            })
            .collect();
        let direction = self.directions[d].name.clone();
        self.paths.push(PathChange {
            at: now,
            direction: direction.clone(),
            flows,
            lost,
            via: via.clone(),
        });
        self.push(
            now,
            None,
            TimelineEvent::Path {
                direction,
                flows,
                lost,
                via,
            },
        );
    }

    /// Recomputes what congestion drops under the current forwarding state (only when some
    /// flow offers a load, and inside the window) and starts the new drop rates at `now`.
    fn account_congestion(&mut self, now: Instant, fwd: &Forwarding) {
        if self.window.is_none() || !fwd.plane.has_resources() {
            return;
        }
        let rated: Vec<usize> = (0..self.flows.len())
            .filter(|&i| self.flows[i].rate_bps > 0)
            .collect();
        if rated.is_empty() {
            return;
        }
        let loads: Vec<dp::Load<'_>> = rated
            .iter()
            .map(|&i| dp::Load {
                flow: &self.flows[i].flow,
                rate_bps: self.flows[i].rate_bps,
            })
            .collect();
        let c = fwd.plane.congestion(&loads);
        let mut rates: BTreeMap<String, u64> = BTreeMap::new();
        for (&i, d) in rated.iter().zip(&c.dropped_bps) {
            let name = self.directions[self.flows[i].dir].name.clone();
            *rates.entry(name).or_insert(0) += d;
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
            let link = fwd.resource_name(r).to_owned();
            self.push(
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

    /// Writes a `fork` record to the trace.
    pub(crate) fn trace_fork(&mut self, at: Instant, seed: u64) {
        let rec = Record::new(at, "-".to_owned(), "fork").with("seed", seed);
        self.trace(&rec);
    }

    /// Closes the measurement at `end`: the parts of the report this module owns.
    pub(crate) fn finish(mut self, end: Instant) -> Measured {
        self.flush_bulk_fib();
        self.flush_paths();
        if let Some(t) = self.tracer.0.as_mut() {
            let _ = t.flush();
        }
        // A window that never opened (a run shorter than its own deadline) opens at the end:
        // nothing is measured.
        let (from, opened_by) = self.window.unwrap_or((end, WindowStart::StartupLimit));
        let ep_no = |e: usize| u32::try_from(e + 1).unwrap_or(u32::MAX);
        let mut outages = Vec::new();
        for f in &self.flows {
            for o in f.meter.outages(end) {
                outages.push(Outage {
                    direction: self.directions[f.dir].name.clone(),
                    flow: f.index,
                    start: o.from,
                    end: (!o.open).then_some(o.to),
                    open: o.open,
                    duration: o.duration(),
                    episode: self.episode_at(o.from).map(ep_no),
                });
            }
        }
        outages
            .sort_by(|a, b| (a.start, &a.direction, a.flow).cmp(&(b.start, &b.direction, b.flow)));
        let directions = self
            .directions
            .iter()
            .enumerate()
            .map(|(d, dir)| self.summary(d, &dir.name, &outages, from < end))
            .collect();
        let probes = self
            .directions
            .iter()
            .enumerate()
            .filter_map(|(d, dir)| {
                let iv = dir.interval?;
                let mut sent = 0;
                let mut lost = 0;
                for f in self.flows.iter().filter(|f| f.dir == d) {
                    sent += dp::probes_in(Instant::ZERO, iv, from, end);
                    lost += f.meter.probes_lost(Instant::ZERO, iv, end);
                }
                Some(ProbeStats {
                    direction: dir.name.clone(),
                    sent,
                    lost,
                })
            })
            .collect();
        let convergence = self
            .fib_last
            .iter()
            .map(|(&(e, r), &at)| Convergence {
                router: self.topo.routers[r].name.clone(),
                episode: ep_no(e),
                at,
                after_fault: at - self.episodes[e].at,
            })
            .collect();
        let episodes = self
            .episodes
            .iter()
            .enumerate()
            .map(|(i, e)| Episode {
                index: ep_no(i),
                at: e.at,
                label: e.label.clone(),
            })
            .collect();
        Measured {
            window: Window {
                from,
                to: end,
                opened_by,
            },
            episodes,
            timeline: self.timeline,
            detections: self.detections,
            convergence,
            outages,
            directions,
            paths: self.paths,
            probes,
            bfd_sent: self.bfd_sent,
            bytes_dropped: self
                .drops
                .bytes(end)
                .into_iter()
                .map(|(direction, bytes)| BytesDropped { direction, bytes })
                .collect(),
        }
    }

    /// Direction `d`'s figures from the outages of every flow.
    fn summary(&self, d: usize, name: &str, outages: &[Outage], window: bool) -> DirectionSummary {
        let flows = self.flows.iter().filter(|f| f.dir == d);
        let n = u32::try_from(flows.clone().count()).unwrap_or(u32::MAX);
        let never_reachable = window && flows.clone().all(|f| !f.meter.delivered_in_window());
        let mine: Vec<&Outage> = outages.iter().filter(|o| o.direction == name).collect();
        let count = |it: &mut dyn Iterator<Item = u32>| {
            let mut v: Vec<u32> = it.collect();
            v.sort_unstable();
            v.dedup();
            u32::try_from(v.len()).unwrap_or(u32::MAX)
        };
        let longest = mine
            .iter()
            .max_by_key(|o| (o.duration, o.open))
            .map_or((Duration::ZERO, false), |o| (o.duration, o.open));
        let mut episodes = Vec::new();
        for e in 0..self.episodes.len() {
            let no = u32::try_from(e + 1).unwrap_or(u32::MAX);
            let ep: Vec<&&Outage> = mine.iter().filter(|o| o.episode == Some(no)).collect();
            if ep.is_empty() {
                continue;
            }
            let open_flows = count(&mut ep.iter().filter(|o| o.open).map(|o| o.flow));
            episodes.push(EpisodeOutage {
                episode: no,
                flows_hit: count(&mut ep.iter().map(|o| o.flow)),
                longest: ep.iter().map(|o| o.duration).max().unwrap_or_default(),
                open_flows,
                restored_after: (open_flows == 0)
                    .then(|| ep.iter().filter_map(|o| o.end).max())
                    .flatten()
                    .map(|t| t - self.episodes[e].at),
            });
        }
        DirectionSummary {
            direction: name.to_owned(),
            flows: n,
            flows_hit: count(&mut mine.iter().map(|o| o.flow)),
            longest: longest.0,
            longest_open: longest.1,
            total: mine
                .iter()
                .map(|o| o.duration)
                .fold(Duration::ZERO, |a, b| a + b),
            open_flows: count(&mut mine.iter().filter(|o| o.open).map(|o| o.flow)),
            never_reachable,
            episodes,
        }
    }
}

/// What [`Measure::finish`] hands to the report.
pub(crate) struct Measured {
    pub(crate) window: Window,
    pub(crate) episodes: Vec<Episode>,
    pub(crate) timeline: Vec<TimelineEntry>,
    pub(crate) detections: Vec<Detection>,
    pub(crate) convergence: Vec<Convergence>,
    pub(crate) outages: Vec<Outage>,
    pub(crate) directions: Vec<DirectionSummary>,
    pub(crate) paths: Vec<PathChange>,
    pub(crate) probes: Vec<ProbeStats>,
    pub(crate) bfd_sent: u64,
    pub(crate) bytes_dropped: Vec<BytesDropped>,
}

/// The trace keeps its own key for a timeline event's times: `retransmit_at` (integer
/// nanoseconds), where the run result (`holdtime.run/1`) writes `retransmit_at_ns`. The
/// trace's bytes are pinned (`tests/golden/trace-hashes.txt`).
fn trace_keys(v: &mut serde_json::Value) {
    if let Some(trouble) = v
        .get_mut("trouble")
        .and_then(serde_json::Value::as_object_mut)
        && let Some(at) = trouble.remove("retransmit_at_ns")
    {
        trouble.insert("retransmit_at".to_owned(), at);
    }
}
