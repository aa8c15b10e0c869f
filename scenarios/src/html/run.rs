//! The run page: what happened in one run, for a student.
//!
//! - **The network**: the design drawn from the result's [`TopologyView`], laid out in
//!   columns by role (on-premises, provider, Microsoft edge, Azure gateways, VNets); links
//!   as straight lines, BGP sessions as curves between their two routers.
//! - **A time control**: a slider and step buttons through the instants at which something
//!   visible happened ([`frames`]); the diagram is coloured for the chosen instant (sessions
//!   by state, links up/silent/down, routers up/down, the links each direction's flows take)
//!   and the instant's events are printed beside it. The URL fragment sets it: `#t=300.5`
//!   (seconds), `#event=N` (the N-th step, from 0), `#fault=N` and `#detection=N` (from 1).
//! - **The timeline**: one lane per session and per traffic direction (the fraction of its
//!   flows without a path, so partial outages show as such), minute ticks, fault and
//!   detection markers; under it, its numbers as tables.
//!
//! Everything is computed here, in Rust, from the typed [`RunReport`]; the page's script only
//! shows one precomputed step or another, so the page is the same bytes for the same run.

use std::fmt::Write as _;

use serde::Serialize;
use sim_core::time::{Duration, Instant};

use super::axis::{Scale, ticks};
use super::{CSS, Chart, esc, table};
use crate::report::{RunReport, TimelineEntry, TimelineEvent, TopologyView, describe_paths};
use crate::spec::{SessionStateName, Via};
use crate::topology::{Role, SegmentKind, SessionKind};

/// Box width of a router in the diagram.
pub const BOX_W: f64 = 128.0;
/// Box height.
pub const BOX_H: f64 = 38.0;
const COL: f64 = 200.0;
const ROW: f64 = 66.0;
const TOP: f64 = 44.0;
const LEFT: f64 = 16.0;

/// What a box in the diagram stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxKind {
    /// A BGP speaker.
    Router(Role),
    /// A device that is not a speaker (a layer-2 switch, the internet, a LAN).
    Device,
    /// The VNets.
    Vnet,
}

/// One box of the diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The router's or device's name (`VNet` for the VNets' box).
    pub name: String,
    /// What it is.
    pub kind: BoxKind,
    /// Its column (0: the on-premises LAN, 1: on-premises routers, ... 5: VNets).
    pub layer: usize,
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
}

impl Placed {
    /// The centre.
    #[must_use]
    pub fn centre(&self) -> (f64, f64) {
        (self.x + BOX_W / 2.0, self.y + BOX_H / 2.0)
    }
}

/// The diagram's boxes and size.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The boxes.
    pub boxes: Vec<Placed>,
    /// The columns' headings, left to right.
    pub columns: Vec<&'static str>,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl Layout {
    /// The box of `name`.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<&Placed> {
        self.boxes.iter().find(|b| b.name == name)
    }
}

/// The column of the on-premises LAN, left of the routers.
const LAN: usize = 0;

const HEADINGS: [&str; 6] = [
    "LAN",
    "on-premises",
    "provider",
    "Microsoft edge",
    "Azure gateways",
    "VNets",
];

/// The column of a role.
const fn layer_of(role: Role) -> usize {
    match role {
        Role::Ce | Role::VpnDevice | Role::Router => 1,
        Role::Pe => 2,
        Role::Msee => 3,
        Role::ErGateway | Role::VpnGateway => 4,
    }
}

/// Lays `view` out: a column per role (empty columns dropped), each column's boxes ordered
/// by the mean row of their neighbours in the columns to their left (fewer crossings), and
/// spaced a row apart, so that no two boxes overlap whatever the topology.
#[must_use]
pub fn layout(view: &TopologyView) -> Layout {
    let mut items: Vec<(String, BoxKind, usize)> = view
        .routers
        .iter()
        .map(|r| (r.name.clone(), BoxKind::Router(r.role), layer_of(r.role)))
        .collect();
    for d in &view.devices {
        let mut attached = view.links.iter().filter(|l| l.ends.contains(d));
        let layer = if attached.clone().all(|l| l.kind == SegmentKind::Lan) {
            LAN
        } else if attached.any(|l| l.kind == SegmentKind::Internet && l.ends[1] == *d) {
            // The internet's far end is Microsoft's edge.
            3
        } else {
            2
        };
        items.push((d.clone(), BoxKind::Device, layer));
    }
    if !view.vnets.is_empty() {
        items.push(("VNet".to_owned(), BoxKind::Vnet, 5));
    }
    // Who is joined to whom: links, sessions, and the VNets to the gateways.
    let mut edges: Vec<(String, String)> = view
        .links
        .iter()
        .map(|l| (l.ends[0].clone(), l.ends[1].clone()))
        .chain(
            view.sessions
                .iter()
                .map(|s| (s.ends[0].clone(), s.ends[1].clone())),
        )
        .collect();
    for g in gateways(view) {
        edges.push((g, "VNet".to_owned()));
    }
    let used: Vec<usize> = (0..HEADINGS.len())
        .filter(|l| items.iter().any(|i| i.2 == *l))
        .collect();
    // Row of each placed item, by name.
    let mut row: Vec<(String, f64)> = Vec::new();
    let mut columns: Vec<Vec<usize>> = Vec::new();
    for &layer in &used {
        let mut members: Vec<(f64, usize)> = items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.2 == layer)
            .map(|(ix, it)| {
                let rows: Vec<f64> = edges
                    .iter()
                    .filter_map(|(a, b)| {
                        let other = if *a == it.0 {
                            b
                        } else if *b == it.0 {
                            a
                        } else {
                            return None;
                        };
                        row.iter().find(|(n, _)| n == other).map(|(_, r)| *r)
                    })
                    .collect();
                #[allow(clippy::cast_precision_loss, reason = "a few neighbours")]
                let key = if rows.is_empty() {
                    1e6 + ix as f64
                } else {
                    rows.iter().sum::<f64>() / rows.len() as f64
                };
                (key, ix)
            })
            .collect();
        members.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        #[allow(clippy::cast_precision_loss, reason = "a few boxes")]
        for (i, (_, ix)) in members.iter().enumerate() {
            row.push((items[*ix].0.clone(), i as f64));
        }
        columns.push(members.into_iter().map(|(_, ix)| ix).collect());
    }
    let rows = columns.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut boxes = Vec::new();
    #[allow(clippy::cast_precision_loss, reason = "a few boxes")]
    for (c, members) in columns.iter().enumerate() {
        let offset = (rows - members.len()) as f64 * ROW / 2.0;
        for (i, ix) in members.iter().enumerate() {
            let (name, kind, layer) = &items[*ix];
            boxes.push(Placed {
                name: name.clone(),
                kind: *kind,
                layer: *layer,
                x: LEFT + COL * c as f64,
                y: TOP + offset + ROW * i as f64,
            });
        }
    }
    #[allow(clippy::cast_precision_loss, reason = "a few boxes")]
    Layout {
        boxes,
        columns: used.iter().map(|l| HEADINGS[*l]).collect(),
        width: LEFT * 2.0 + COL * (columns.len().max(1) - 1) as f64 + BOX_W,
        height: TOP + ROW * rows as f64 + 10.0,
    }
}

fn gateways(view: &TopologyView) -> Vec<String> {
    let mut g = vec![view.er_gateway.clone()];
    if let Some(v) = &view.vpn {
        g.push(v.gateway.clone());
    }
    g.retain(|n| !n.is_empty());
    g
}

/// How the page colours a session, a link or a router.
const fn colour(state: &str) -> &'static str {
    match state.as_bytes() {
        b"up" => "#2ca02c",
        b"half" => "#ff7f0e",
        b"opening" => "#bcbd22",
        b"silent" => "#ff7f0e",
        b"degraded" => "#bcbd22",
        b"down" => "#d62728",
        _ => "#999",
    }
}

/// A direction's flows at one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowState {
    /// Flows without a path.
    pub lost: u32,
    /// Flows.
    pub flows: u32,
    /// Indices of the links the delivered flows cross.
    pub links: Vec<usize>,
    /// In words.
    pub text: String,
}

/// One step of the time control: the state of everything from `t` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// When, nanoseconds since the start.
    pub t: u64,
    /// `300.000s`.
    pub label: String,
    /// What happened at `t` (indices into the report's timeline).
    pub ev: Vec<usize>,
    /// Per session (the view's order): `up` (both ends Established), `half` (one end),
    /// `opening` (OpenSent/OpenConfirm), `down`.
    pub s: Vec<&'static str>,
    /// Per link: `up`, `silent`, `down`, `degraded` (loss or latency).
    pub l: Vec<&'static str>,
    /// Per router: `up` or `down` (crashed).
    pub r: Vec<&'static str>,
    /// Per direction (the report's order).
    pub f: Vec<FlowState>,
}

/// Whether an entry changes what the diagram shows (forwarding-table lines do not).
const fn visible(e: &TimelineEvent) -> bool {
    !matches!(
        e,
        TimelineEvent::BestPath { .. }
            | TimelineEvent::Fib { .. }
            | TimelineEvent::FibBulk { .. }
            | TimelineEvent::Congestion { .. }
    )
}

/// The links a fault's target names: the link itself, or every link under it
/// (`circuit.primary` names `circuit.primary.access` and `circuit.primary.core`).
fn targeted(view: &TopologyView, target: &str) -> Vec<usize> {
    let prefix = format!("{target}.");
    view.links
        .iter()
        .enumerate()
        .filter(|(_, l)| l.name == target || l.name.starts_with(&prefix))
        .map(|(i, _)| i)
        .collect()
}

/// The links that flows going `via` (by `link`) cross.
fn carried(view: &TopologyView, via: Via, link: Option<&str>) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    let mut add_session_paths = |pred: &dyn Fn(&crate::report::SessionView) -> bool| {
        for s in view.sessions.iter().filter(|s| pred(s)) {
            for p in &s.path {
                if let Some(i) = view.links.iter().position(|l| l.name == *p) {
                    out.push(i);
                }
            }
        }
    };
    match (via, link) {
        (Via::None, _) => {}
        (_, Some(link)) if view.sessions.iter().any(|s| s.name == link) => {
            add_session_paths(&|s| s.name == link);
        }
        (Via::Expressroute, Some(link)) => {
            let prefix = format!("{link}.");
            add_session_paths(&|s| s.name.starts_with(&prefix));
            out.extend(
                view.links
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.circuit_link.as_deref() == Some(link))
                    .map(|(i, _)| i),
            );
        }
        (Via::Expressroute, None) => {
            add_session_paths(&|s| matches!(s.kind, SessionKind::Peering | SessionKind::Gateway));
        }
        (Via::Vpn, _) => add_session_paths(&|s| s.kind == SessionKind::Vpn),
        (Via::Network, _) => add_session_paths(&|s| s.kind == SessionKind::User),
        (Via::Internet, _) => out.extend(
            view.links
                .iter()
                .enumerate()
                .filter(|(_, l)| l.kind == SegmentKind::Internet)
                .map(|(i, _)| i),
        ),
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The session state shown for two ends' states.
fn session_state(ends: [SessionStateName; 2]) -> &'static str {
    use SessionStateName::{Established, OpenConfirm, OpenSent};
    let up = ends.iter().filter(|s| **s == Established).count();
    match up {
        2 => "up",
        1 => "half",
        _ if ends.iter().any(|s| matches!(s, OpenSent | OpenConfirm)) => "opening",
        _ => "down",
    }
}

/// The steps of the time control: the start, then every instant at which a fault, a session
/// or BFD state, a path or a connection attempt changed.
#[must_use]
pub fn frames(r: &RunReport) -> Vec<Frame> {
    let view = &r.topology;
    let mut ends: Vec<[SessionStateName; 2]> =
        vec![[SessionStateName::Idle; 2]; view.sessions.len()];
    let mut links: Vec<&'static str> = vec!["up"; view.links.len()];
    let mut routers: Vec<&'static str> = vec!["up"; view.routers.len()];
    let mut flows: Vec<FlowState> = r
        .directions
        .iter()
        .map(|d| FlowState {
            lost: d.flows,
            flows: d.flows,
            links: Vec::new(),
            text: "no path yet".to_owned(),
        })
        .collect();
    let snapshot = |t: Instant,
                    ev: Vec<usize>,
                    ends: &[[SessionStateName; 2]],
                    links: &[&'static str],
                    routers: &[&'static str],
                    flows: &[FlowState]| Frame {
        t: t.as_nanos(),
        label: t.to_string(),
        ev,
        s: ends.iter().map(|e| session_state(*e)).collect(),
        l: links.to_vec(),
        r: routers.to_vec(),
        f: flows.to_vec(),
    };
    let mut out = vec![snapshot(
        Instant::ZERO,
        Vec::new(),
        &ends,
        &links,
        &routers,
        &flows,
    )];
    let mut i = 0;
    while i < r.timeline.len() {
        let at = r.timeline[i].at;
        let mut ev = Vec::new();
        let mut j = i;
        while j < r.timeline.len() && r.timeline[j].at == at {
            let e = &r.timeline[j];
            if visible(&e.event) {
                ev.push(j);
            }
            apply(view, r, e, &mut ends, &mut links, &mut routers, &mut flows);
            j += 1;
        }
        if !ev.is_empty() {
            let f = snapshot(at, ev, &ends, &links, &routers, &flows);
            match out.last_mut() {
                // Events at 0 join the start.
                Some(last) if last.t == f.t => *last = f,
                _ => out.push(f),
            }
        }
        i = j;
    }
    out
}

fn apply(
    view: &TopologyView,
    r: &RunReport,
    e: &TimelineEntry,
    ends: &mut [[SessionStateName; 2]],
    links: &mut [&'static str],
    routers: &mut [&'static str],
    flows: &mut [FlowState],
) {
    match &e.event {
        TimelineEvent::Session { session, to, .. } => {
            if let Some(ix) = view.sessions.iter().position(|s| s.name == *session) {
                let end = usize::from(e.router.as_deref() == Some(&view.sessions[ix].ends[1]));
                ends[ix][end] = *to;
            }
        }
        TimelineEvent::Fault { kind, target } => {
            let (kind, ended) = match kind.strip_suffix(" ends") {
                Some(k) => (k, true),
                None => (kind.as_str(), false),
            };
            let state = match kind {
                _ if ended => Some("up"),
                "silent" => Some("silent"),
                "down" | "vpn_tunnel_down" | "deprovision" => Some("down"),
                "loss" | "latency" => Some("degraded"),
                "restore" => Some("up"),
                _ => None,
            };
            if let Some(state) = state {
                for l in targeted(view, target) {
                    links[l] = state;
                }
            }
            if let Some(ix) = view.routers.iter().position(|x| x.name == *target) {
                match kind {
                    "router_crash" if !ended => routers[ix] = "down",
                    "router_crash" | "router_restart" | "restore" => routers[ix] = "up",
                    _ => {}
                }
            }
        }
        TimelineEvent::Path {
            direction,
            flows: n,
            lost,
            via,
        } => {
            if let Some(d) = r.directions.iter().position(|d| d.direction == *direction) {
                let mut carried_links: Vec<usize> = via
                    .iter()
                    .flat_map(|s| carried(view, s.via, s.link.as_deref()))
                    .collect();
                carried_links.sort_unstable();
                carried_links.dedup();
                flows[d] = FlowState {
                    lost: *lost,
                    flows: *n,
                    links: carried_links,
                    text: describe_paths(*n, *lost, via),
                };
            }
        }
        _ => {}
    }
}

/// A timeline entry in words.
#[must_use]
pub fn entry_text(e: &TimelineEntry) -> String {
    let who = e
        .router
        .as_deref()
        .map_or_else(String::new, |r| format!("{r}: "));
    let what = match &e.event {
        TimelineEvent::Fault { kind, target } => {
            format!("fault: {} on {target}", kind.replace('_', " "))
        }
        TimelineEvent::Session {
            session,
            from,
            to,
            cause,
        } => format!(
            "session {session} {} → {}{}",
            state_name(*from),
            state_name(*to),
            cause.map_or_else(String::new, |c| format!(" ({})", c.label()))
        ),
        TimelineEvent::Bfd { session, state } => {
            format!("BFD of {session} {}", state.replace('_', " "))
        }
        TimelineEvent::BestPath { prefix, via } => format!(
            "best path to {prefix}: {}",
            if via.is_empty() {
                "unreachable".to_owned()
            } else {
                via.join(", ")
            }
        ),
        TimelineEvent::Fib { prefix, via } => format!(
            "forwarding to {prefix}: {}",
            if via.is_empty() {
                "removed".to_owned()
            } else {
                via.join(", ")
            }
        ),
        TimelineEvent::FibBulk { changed, removed } => {
            format!("forwarding table: {changed} prefixes changed ({removed} removed)")
        }
        TimelineEvent::GatewayConverged { routes } => {
            format!("ExpressRoute gateway programmed {routes} routes")
        }
        TimelineEvent::Path {
            direction,
            flows,
            lost,
            via,
        } => format!("{direction}: {}", describe_paths(*flows, *lost, via)),
        TimelineEvent::Connect { session, trouble } => {
            format!("session {session}: {}", trouble.label())
        }
        TimelineEvent::StaleRoutes {
            session,
            routes,
            what,
            until,
        } => match until {
            Some(t) => format!(
                "session {session}: {} kept as stale until {} (graceful restart)",
                crate::fmt::count(*routes, "route"),
                crate::fmt::instant(*t)
            ),
            None => format!(
                "session {session}: {} withdrawn ({})",
                crate::fmt::count(*routes, "stale route"),
                what.replace('_', " ")
            ),
        },
        TimelineEvent::Congestion {
            link,
            offered_bps,
            capacity_bps,
        } => {
            if *capacity_bps == 0 {
                format!("{link}: back under capacity")
            } else {
                format!("{link}: {offered_bps} b/s offered, capacity {capacity_bps} b/s")
            }
        }
    };
    format!("{who}{what}")
}

const fn state_name(s: SessionStateName) -> &'static str {
    match s {
        SessionStateName::Idle => "Idle",
        SessionStateName::Connect => "Connect",
        SessionStateName::Active => "Active",
        SessionStateName::OpenSent => "OpenSent",
        SessionStateName::OpenConfirm => "OpenConfirm",
        SessionStateName::Established => "Established",
    }
}

const fn role_name(role: Role) -> &'static str {
    match role {
        Role::Ce => "customer edge",
        Role::ErGateway => "ExpressRoute gateway",
        Role::Msee => "Microsoft edge (MSEE)",
        Role::Pe => "provider edge",
        Role::VpnDevice => "VPN device",
        Role::VpnGateway => "VPN gateway",
        Role::Router => "router",
    }
}

/// A duration for tables, as every text output writes it ([`crate::fmt::duration`]).
fn dur(d: Duration) -> String {
    crate::fmt::duration(d)
}

/// The step shown when the fragment names none: the first fault, else the last step.
fn default_frame(r: &RunReport, f: &[Frame]) -> usize {
    r.episodes
        .first()
        .and_then(|e| f.iter().position(|x| x.t == e.at.as_nanos()))
        .unwrap_or(f.len().saturating_sub(1))
}

fn frame_at(f: &[Frame], t: u64) -> usize {
    f.iter().rposition(|x| x.t <= t).unwrap_or(0)
}

/// The diagram of `view` with every session and link up and no flows drawn (what
/// `holdtime report` draws before the time control colours it; used by the layout tests).
#[must_use]
pub fn network_svg(view: &TopologyView) -> String {
    network_svg_states(
        view,
        vec!["up"; view.sessions.len()],
        vec!["up"; view.links.len()],
        vec!["up"; view.routers.len()],
    )
}

/// The diagram of `view` with each session, link and router given the `data-state` the
/// caller names (in the view's orders) and no flows drawn: the run page's drawing for a page
/// that colours the design by something else, with its own CSS for those states.
#[must_use]
pub fn network_svg_states(
    view: &TopologyView,
    sessions: Vec<&'static str>,
    links: Vec<&'static str>,
    routers: Vec<&'static str>,
) -> String {
    let fr = Frame {
        t: 0,
        label: String::new(),
        ev: Vec::new(),
        s: sessions,
        l: links,
        r: routers,
        f: Vec::new(),
    };
    diagram(view, &view.name, 0, &layout(view), &fr)
}

/// The diagram of `view`, coloured for step `fr`; `dirs` traffic directions.
fn diagram(view: &TopologyView, name: &str, dirs: usize, lay: &Layout, fr: &Frame) -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"diagram\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\">\
         <title>{t}</title><rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>",
        w = lay.width,
        h = lay.height,
        t = esc(&format!("The network of {name}"))
    );
    #[allow(clippy::cast_precision_loss, reason = "a few columns")]
    for (c, h) in lay.columns.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"20\" font-size=\"13\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#555\">{h}</text>",
            LEFT + COL * c as f64 + BOX_W / 2.0
        );
    }
    let centre = |n: &str| lay.find(n).map(Placed::centre);
    // The VNets hang off the gateways.
    if let Some((vx, vy)) = centre("VNet") {
        for g in gateways(view) {
            if let Some((gx, gy)) = centre(&g) {
                let _ = write!(
                    s,
                    "<line x1=\"{gx:.1}\" y1=\"{gy:.1}\" x2=\"{vx:.1}\" y2=\"{vy:.1}\" stroke=\"#bbb\" stroke-width=\"2\"/>"
                );
            }
        }
    }
    // Links: straight, spread apart when two join the same boxes.
    let mut geometry: Vec<Option<(f64, f64, f64, f64)>> = Vec::new();
    for (i, l) in view.links.iter().enumerate() {
        let (Some(a), Some(b)) = (centre(&l.ends[0]), centre(&l.ends[1])) else {
            geometry.push(None);
            continue;
        };
        let twins: Vec<usize> = view
            .links
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                (m.ends[0] == l.ends[0] && m.ends[1] == l.ends[1])
                    || (m.ends[0] == l.ends[1] && m.ends[1] == l.ends[0])
            })
            .map(|(j, _)| j)
            .collect();
        let k = twins.iter().position(|j| *j == i).unwrap_or(0);
        #[allow(clippy::cast_precision_loss, reason = "a few twins")]
        let off = (k as f64 - (twins.len() as f64 - 1.0) / 2.0) * 8.0;
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy).max(1.0);
        let (nx, ny) = (-dy / len * off, dx / len * off);
        let g = (a.0 + nx, a.1 + ny, b.0 + nx, b.1 + ny);
        geometry.push(Some(g));
        let st = fr.l.get(i).copied().unwrap_or("up");
        let _ = write!(
            s,
            "<line class=\"link\" id=\"link-{i}\" data-i=\"{i}\" data-name=\"{n}\" data-state=\"{st}\" \
             x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"><title>{n} ({k})</title></line>",
            g.0,
            g.1,
            g.2,
            g.3,
            n = esc(&l.name),
            k = esc(&format!("{:?}", l.kind).to_lowercase()),
        );
    }
    // Flow overlays: one thin line per direction and link, shown while it carries flows.
    for d in 0..dirs {
        #[allow(clippy::cast_precision_loss, reason = "a few directions")]
        let off = (d as f64 - (dirs as f64 - 1.0) / 2.0) * 5.0;
        for (i, g) in geometry.iter().enumerate() {
            let Some(g) = g else { continue };
            let on = fr.f.get(d).is_some_and(|f| f.links.contains(&i));
            let (dx, dy) = (g.2 - g.0, g.3 - g.1);
            let len = dx.hypot(dy).max(1.0);
            let (nx, ny) = (-dy / len * off, dx / len * off);
            let _ = write!(
                s,
                "<line class=\"flow dir{c}\" data-dir=\"{d}\" data-link=\"{i}\" data-on=\"{}\" \
                 x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
                u8::from(on),
                g.0 + nx,
                g.1 + ny,
                g.2 + nx,
                g.3 + ny,
                c = d % 4,
            );
        }
    }
    // Sessions: curves, bowed apart when several join the same two routers.
    for (i, sv) in view.sessions.iter().enumerate() {
        let (Some(a), Some(b)) = (centre(&sv.ends[0]), centre(&sv.ends[1])) else {
            continue;
        };
        let twins: Vec<usize> = view
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                (m.ends[0] == sv.ends[0] && m.ends[1] == sv.ends[1])
                    || (m.ends[0] == sv.ends[1] && m.ends[1] == sv.ends[0])
            })
            .map(|(j, _)| j)
            .collect();
        let k = twins.iter().position(|j| *j == i).unwrap_or(0);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy).max(1.0);
        #[allow(clippy::cast_precision_loss, reason = "a few twins")]
        let bow = if (a.0 - b.0).abs() < 1.0 {
            // Same column: bow out to the left, clear of the boxes between.
            -(BOX_W / 2.0 + 18.0 + 14.0 * k as f64)
        } else {
            22.0 + 16.0 * k as f64
        };
        let (mx, my) = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        let (cx, cy) = if (a.0 - b.0).abs() < 1.0 {
            (mx + bow * 2.0, my)
        } else {
            (mx - dy / len * bow * 2.0, my + dx / len * bow * 2.0)
        };
        let st = fr.s.get(i).copied().unwrap_or("down");
        let _ = write!(
            s,
            "<path class=\"session\" id=\"session-{i}\" data-i=\"{i}\" data-name=\"{n}\" data-state=\"{st}\" \
             d=\"M{:.1},{:.1} Q{cx:.1},{cy:.1} {:.1},{:.1}\"><title>session {n}: {} – {}</title></path>",
            a.0,
            a.1,
            b.0,
            b.1,
            esc(&sv.ends[0]),
            esc(&sv.ends[1]),
            n = esc(&sv.name),
        );
    }
    // Boxes on top.
    for b in &lay.boxes {
        let (class, sub, state, i) = match b.kind {
            BoxKind::Router(role) => {
                let i = view.routers.iter().position(|x| x.name == b.name);
                (
                    "router",
                    role_name(role).to_owned(),
                    i.and_then(|i| fr.r.get(i).copied()).unwrap_or("up"),
                    i.map_or(String::new(), |i| format!(" data-i=\"{i}\"")),
                )
            }
            BoxKind::Device => (
                "device",
                match device_parts(&b.name) {
                    Some((_, last)) => format!("{last}, no BGP"),
                    None => "no BGP".to_owned(),
                },
                "up",
                String::new(),
            ),
            BoxKind::Vnet => ("vnet", view.vnets.join(", "), "up", String::new()),
        };
        let label = if b.kind == BoxKind::Vnet {
            "VNet".to_owned()
        } else {
            box_label(&b.name)
        };
        let _ = write!(
            s,
            "<g class=\"{class}\"{i} data-name=\"{n}\" data-state=\"{state}\">\
             <title>{n}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"6\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{fs}\" font-weight=\"bold\" text-anchor=\"middle\">{l}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\" fill=\"#555\">{sub}</text></g>",
            b.x,
            b.y,
            b.x + BOX_W / 2.0,
            b.y + 16.0,
            b.x + BOX_W / 2.0,
            b.y + 30.0,
            n = esc(&b.name),
            l = esc(&label),
            fs = if label.chars().count() > 15 { 11 } else { 12 },
            sub = esc(&shorten(&sub, 26)),
        );
    }
    s.push_str("</svg>");
    s
}

/// A long dotted name split for a box: (`circuit1.primary`, `provider`) from
/// `circuit1.primary.provider`; `None` for a name that fits.
fn device_parts(name: &str) -> Option<(&str, &str)> {
    if name.chars().count() <= 17 {
        return None;
    }
    name.rsplit_once('.')
}

/// A step's events for the list of steps: the first four, then how many more (the panel
/// above the list shows them all).
fn step_summary(ev: &[usize], texts: &[String]) -> String {
    let mut parts: Vec<&str> = ev.iter().take(4).map(|e| texts[*e].as_str()).collect();
    let more = ev.len().saturating_sub(4);
    let tail = format!("and {more} more");
    if more > 0 {
        parts.push(&tail);
    }
    if parts.is_empty() {
        return "the start of the run".to_owned();
    }
    parts.join("; ")
}

/// A name that fits a box: a long dotted name loses its last part, which the box's second
/// line shows (`circuit1.primary` over `provider, no BGP`); the full name is the box's
/// title.
fn box_label(name: &str) -> String {
    shorten(device_parts(name).map_or(name, |(head, _)| head), 19)
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// The timeline chart: lanes of sessions and directions over the run, with markers.
#[allow(clippy::too_many_lines, reason = "one drawing, top to bottom")]
fn timeline(r: &RunReport, fr: &[Frame]) -> Chart {
    const TW: f64 = 980.0;
    const LX: f64 = 250.0;
    const RX: f64 = 20.0;
    const LANE: f64 = 18.0;
    const DLANE: f64 = 40.0;
    const TOPM: f64 = 34.0;
    let end = r.duration.as_nanos().max(1);
    #[allow(clippy::cast_precision_loss, reason = "plotted times")]
    let x = |ns: u64| LX + ns.min(end) as f64 / end as f64 * (TW - LX - RX);
    let view = &r.topology;
    #[allow(clippy::cast_precision_loss, reason = "a few lanes")]
    let height =
        TOPM + LANE * view.sessions.len() as f64 + DLANE * r.directions.len() as f64 + 50.0;
    let title = "Timeline: sessions by state, and each direction's share of flows without a path";
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline-chart\" width=\"{TW}\" height=\"{height}\" viewBox=\"0 0 {TW} {height}\" role=\"img\">\
         <title>{title}</title><rect width=\"{TW}\" height=\"{height}\" fill=\"#fff\"/>"
    );
    let bottom = height - 40.0;
    // Before the measurement window: shaded.
    let wx = x(r.window.from.as_nanos());
    let _ = write!(
        s,
        "<rect x=\"{LX}\" y=\"{TOPM}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f2f2f2\"><title>before the measurement window</title></rect>",
        (wx - LX).max(0.0),
        bottom - TOPM
    );
    // Minute (or second) ticks.
    #[allow(clippy::cast_precision_loss, reason = "plotted times")]
    let end_s = end as f64 / 1e9;
    for (v, l) in ticks(0.0, end_s, 10, Scale::Seconds) {
        if v > end_s + 1e-9 {
            break;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a tick inside the run"
        )]
        let px = x((v * 1e9) as u64);
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{TOPM}\" x2=\"{px:.1}\" y2=\"{bottom:.1}\" stroke=\"#e4e4e4\"/>\
             <line x1=\"{px:.1}\" y1=\"{bottom:.1}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#444\"/>\
             <text x=\"{px:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            bottom + 5.0,
            bottom + 18.0,
            esc(&l)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">time since the start of the run</text>",
        (LX + TW - RX) / 2.0,
        height - 6.0
    );
    // Session lanes.
    let span = |k: usize| (fr[k].t, fr.get(k + 1).map_or(end, |n| n.t));
    for (i, sv) in view.sessions.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "lane index")]
        let y = TOPM + LANE * i as f64;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            LX - 6.0,
            y + 13.0,
            esc(&sv.name)
        );
        let mut k = 0;
        while k < fr.len() {
            let st = fr[k].s.get(i).copied().unwrap_or("down");
            let mut k2 = k;
            while k2 + 1 < fr.len() && fr[k2 + 1].s.get(i).copied().unwrap_or("down") == st {
                k2 += 1;
            }
            let (a, b) = (span(k).0, span(k2).1);
            if st != "down" || a > 0 {
                let _ = write!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {st}</title></rect>",
                    x(a),
                    y + 3.0,
                    (x(b) - x(a)).max(0.5),
                    LANE - 6.0,
                    colour(st),
                    esc(&sv.name)
                );
            }
            k = k2 + 1;
        }
    }
    // Direction lanes: the fraction of flows without a path, as an area.
    #[allow(clippy::cast_precision_loss, reason = "lane index")]
    let d0 = TOPM + LANE * view.sessions.len() as f64;
    for (d, dir) in r.directions.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "lane index")]
        let y = d0 + DLANE * d as f64 + 4.0;
        let h = DLANE - 10.0;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{} lost</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"end\" fill=\"#666\">100%</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"end\" fill=\"#666\">0%</text>\
             <line x1=\"{LX}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#bbb\"/>",
            LX - 34.0,
            y + h / 2.0 + 4.0,
            esc(&dir.direction),
            LX - 4.0,
            y + 7.0,
            LX - 4.0,
            y + h,
            y + h,
            TW - RX,
            y + h
        );
        let mut p = format!("M{LX:.1},{:.1}", y + h);
        for (k, f) in fr.iter().enumerate() {
            let Some(st) = f.f.get(d) else { continue };
            #[allow(clippy::cast_precision_loss, reason = "a fraction of flows")]
            let frac = if st.flows == 0 {
                0.0
            } else {
                (f64::from(st.lost) / f64::from(st.flows)).clamp(0.0, 1.0)
            };
            let (a, b) = span(k);
            let yy = y + h - frac * h;
            let _ = write!(p, " L{:.1},{yy:.1} L{:.1},{yy:.1}", x(a), x(b));
        }
        let _ = write!(p, " L{:.1},{:.1} Z", x(end), y + h);
        let _ = write!(
            s,
            "<path d=\"{p}\" fill=\"#d62728\" fill-opacity=\"0.75\" stroke=\"#d62728\" stroke-width=\"0.8\"><title>{}: share of flows without a path</title></path>",
            esc(&dir.direction)
        );
    }
    // Faults: dashed red lines; detections: black triangles on their session's lane.
    for e in &r.episodes {
        let px = x(e.at.as_nanos());
        let _ = write!(
            s,
            "<line class=\"fault-mark\" x1=\"{px:.1}\" y1=\"{:.1}\" x2=\"{px:.1}\" y2=\"{bottom:.1}\" stroke=\"#b00\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\
             <text x=\"{px:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#b00\" text-anchor=\"middle\">fault {}<title>{}</title></text>",
            TOPM - 14.0,
            TOPM - 18.0,
            e.index,
            esc(&e.label)
        );
    }
    for d in r.detections.iter().filter(|d| d.episode.is_some()) {
        let Some(i) = view.sessions.iter().position(|s| s.name == d.session) else {
            continue;
        };
        #[allow(clippy::cast_precision_loss, reason = "lane index")]
        let y = TOPM + LANE * i as f64;
        let px = x(d.at.as_nanos());
        let _ = write!(
            s,
            "<path class=\"detection-mark\" d=\"M{:.1},{:.1} L{:.1},{:.1} L{px:.1},{:.1} Z\" fill=\"#000\"><title>{} detected by {} at {} ({})</title></path>",
            px - 5.0,
            y - 1.0,
            px + 5.0,
            y - 1.0,
            y + 8.0,
            esc(&d.session),
            esc(&d.router),
            d.at,
            esc(&d.cause.label())
        );
    }
    // The time control's cursor.
    let cx = x(fr.first().map_or(0, |f| f.t));
    let _ = write!(
        s,
        "<line id=\"cursor\" x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{bottom:.1}\" stroke=\"#1f77b4\" stroke-width=\"2\" data-x0=\"{LX}\" data-w=\"{:.1}\" data-end=\"{end}\"/>",
        TOPM - 4.0,
        TW - LX - RX
    );
    s.push_str("</svg>");
    // Its numbers.
    let mut t = String::new();
    t.push_str(&table(
        "faults (episodes)",
        &["episode", "at", "fault"],
        &[0],
        &r.episodes
            .iter()
            .map(|e| vec![e.index.to_string(), e.at.to_string(), e.label.clone()])
            .collect::<Vec<_>>(),
    ));
    t.push_str(&table(
        "detections: a session's end declaring it down",
        &["session", "router", "at", "after the fault", "how"],
        &[2, 3],
        &r.detections
            .iter()
            .map(|d| {
                vec![
                    d.session.clone(),
                    d.router.clone(),
                    d.at.to_string(),
                    d.after_fault
                        .map_or_else(|| "before any fault".to_owned(), dur),
                    d.cause.label(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    t.push_str(&table(
        "outages per direction, inside the measurement window",
        &[
            "direction",
            "flows",
            "flows hit",
            "longest",
            "total",
            "still out at the end",
        ],
        &[1, 2, 3, 4, 5],
        &r.directions
            .iter()
            .map(|d| {
                vec![
                    d.direction.clone(),
                    d.flows.to_string(),
                    d.flows_hit.to_string(),
                    if d.never_reachable {
                        "never reachable".to_owned()
                    } else {
                        format!(
                            "{}{}",
                            dur(d.longest),
                            if d.longest_open { " (open)" } else { "" }
                        )
                    },
                    dur(d.total),
                    d.open_flows.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    t.push_str(&table(
        "paths: each change of how a direction's flows are spread",
        &["at", "direction", "flows lost", "paths"],
        &[0, 2],
        &r.paths
            .iter()
            .map(|p| {
                vec![
                    p.at.to_string(),
                    p.direction.clone(),
                    format!("{} of {}", p.lost, p.flows),
                    p.describe(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    Chart {
        id: "timeline".to_owned(),
        title: title.to_owned(),
        svg: s,
        table: t,
    }
}

/// The data the page's script steps through.
#[derive(Serialize)]
struct Data<'a> {
    frames: &'a [Frame],
    /// Per episode: its step.
    faults: Vec<usize>,
    /// Per detection after a fault, in time order: its step.
    detections: Vec<usize>,
}

const SCRIPT: &str = r"(function(){
var D=JSON.parse(document.getElementById('frames').textContent),F=D.frames,cur=0;
var ev=JSON.parse(document.getElementById('events-data').textContent);
var slider=document.getElementById('slider'),cursor=document.getElementById('cursor');
function all(s){return Array.prototype.slice.call(document.querySelectorAll(s));}
function set(e,k,v){e.setAttribute(k,String(v));}
function show(i){
 i=Math.max(0,Math.min(F.length-1,i|0));cur=i;var f=F[i];
 all('.session').forEach(function(e){set(e,'data-state',f.s[+e.getAttribute('data-i')]);});
 all('.link').forEach(function(e){set(e,'data-state',f.l[+e.getAttribute('data-i')]);});
 all('g.router').forEach(function(e){set(e,'data-state',f.r[+e.getAttribute('data-i')]);});
 all('.flow').forEach(function(e){var d=f.f[+e.getAttribute('data-dir')];
  set(e,'data-on',d&&d.links.indexOf(+e.getAttribute('data-link'))>=0?1:0);});
 all('tr.dir').forEach(function(e){var d=f.f[+e.getAttribute('data-i')];
  set(e,'data-lost',d.lost);set(e,'data-state',d.lost===0?'ok':(d.lost>=d.flows?'lost':'partial'));
  e.querySelector('.what').textContent=d.text;});
 document.getElementById('clock').textContent=f.label+' (step '+i+' of '+(F.length-1)+')';
 var now=document.getElementById('now');now.textContent='';
 if(f.ev.length===0){var li=document.createElement('li');li.textContent='the start of the run';now.appendChild(li);}
 f.ev.forEach(function(k){var li=document.createElement('li');li.textContent=ev[k];now.appendChild(li);});
 all('#events li').forEach(function(e){e.className=(+e.getAttribute('data-step')===i)?'here':'';});
 var list=document.getElementById('events'),here=list.querySelector('li.here');
 if(here){list.scrollTop=Math.max(0,here.offsetTop-list.clientHeight/3);}
 slider.value=String(Math.round(f.t/1e6));
 var x0=+cursor.getAttribute('data-x0'),w=+cursor.getAttribute('data-w'),end=+cursor.getAttribute('data-end');
 var x=(x0+Math.min(f.t,end)/end*w).toFixed(1);set(cursor,'x1',x);set(cursor,'x2',x);
 set(document.body,'data-step',i);
}
function at(t){var k=0;for(var j=0;j<F.length;j++){if(F[j].t<=t+0.5)k=j;}return k;}
function fromHash(){var h=decodeURIComponent(location.hash.slice(1)),m;
 if((m=/^t=([0-9.]+)$/.exec(h)))show(at(parseFloat(m[1])*1e9));
 else if((m=/^event=([0-9]+)$/.exec(h)))show(+m[1]);
 else if((m=/^fault=([0-9]+)$/.exec(h))&&D.faults[m[1]-1]!==undefined)show(D.faults[m[1]-1]);
 else if((m=/^detection=([0-9]+)$/.exec(h))&&D.detections[m[1]-1]!==undefined)show(D.detections[m[1]-1]);}
slider.addEventListener('input',function(){show(at(+slider.value*1e6));});
document.getElementById('first').addEventListener('click',function(){show(0);});
document.getElementById('prev').addEventListener('click',function(){show(cur-1);});
document.getElementById('next').addEventListener('click',function(){show(cur+1);});
document.getElementById('last').addEventListener('click',function(){show(F.length-1);});
document.addEventListener('keydown',function(e){if(e.key==='ArrowRight')show(cur+1);if(e.key==='ArrowLeft')show(cur-1);});
all('#events li').forEach(function(e){e.addEventListener('click',function(){show(+e.getAttribute('data-step'));});});
window.addEventListener('hashchange',fromHash);
show(+document.body.getAttribute('data-step'));fromHash();
})();";

const RUN_CSS: &str = ".session{fill:none;stroke-width:3}.link{stroke-width:2.5}\
.session[data-state=up],.link[data-state=up]{stroke:#2ca02c}.session[data-state=half]{stroke:#ff7f0e}\
.session[data-state=opening]{stroke:#bcbd22}.session[data-state=down]{stroke:#d62728;stroke-dasharray:6 4}\
.link[data-state=up]{stroke:#888}.link[data-state=silent]{stroke:#ff7f0e;stroke-dasharray:2 3;stroke-width:4}\
.link[data-state=down]{stroke:#d62728;stroke-dasharray:8 4;stroke-width:4}.link[data-state=degraded]{stroke:#bcbd22;stroke-width:4}\
.flow{stroke-width:3;stroke-linecap:round;opacity:0}.flow[data-on='1']{opacity:.55}\
.flow.dir0{stroke:#1f77b4}.flow.dir1{stroke:#9467bd}.flow.dir2{stroke:#17becf}.flow.dir3{stroke:#8c564b}\
g rect{fill:#f7f7ff;stroke:#333;stroke-width:1.2}g.device rect{fill:#f4f4f4;stroke-dasharray:4 2}\
g.vnet rect{fill:#eef6ee}g.router[data-state=down] rect{fill:#fdd;stroke:#d62728;stroke-width:2.5}\
.below{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1.5em;align-items:start}\
@media (max-width:900px){.below{grid-template-columns:1fr}}#diagram{max-width:100%;height:auto}\
#events{position:relative;max-height:320px;overflow:auto;font-size:12px;padding-left:3.5em;border:1px solid #ddd;margin:0}\
#events li.here{background:#ffe9a8;font-weight:bold}#now{font-size:13px;padding-left:1.2em}\
.controls{margin:.6em 0;display:flex;gap:.4em;align-items:center}.controls button{font-size:14px}#slider{flex:1}\
.clockline{margin:.2em 0;font-size:15px}\
tr.dir[data-state=lost] td{background:#fdd}tr.dir[data-state=partial] td{background:#ffe9cc}tr.dir[data-state=ok] td{background:#e6f5e6}\
.key span{display:inline-block;margin-right:1em;font-size:12px}.sw{display:inline-block;width:18px;height:4px;vertical-align:middle;margin-right:4px}";

/// The run page and its charts (the diagram at the first fault, and the timeline).
#[must_use]
#[allow(clippy::too_many_lines, reason = "the page, top to bottom")]
pub fn page(r: &RunReport) -> (String, Vec<Chart>) {
    let fr = frames(r);
    let lay = layout(&r.topology);
    let start = default_frame(r, &fr);
    let svg = diagram(
        &r.topology,
        &r.scenario,
        r.directions.len(),
        &lay,
        &fr[start],
    );
    let tl = timeline(r, &fr);
    let faults: Vec<usize> = r
        .episodes
        .iter()
        .map(|e| frame_at(&fr, e.at.as_nanos()))
        .collect();
    let mut dets: Vec<&crate::report::Detection> = r
        .detections
        .iter()
        .filter(|d| d.episode.is_some())
        .collect();
    dets.sort_by_key(|d| d.at);
    let detections: Vec<usize> = dets
        .iter()
        .map(|d| frame_at(&fr, d.at.as_nanos()))
        .collect();
    let data = serde_json::to_string(&Data {
        frames: &fr,
        faults,
        detections,
    })
    .unwrap_or_else(|_| "{}".to_owned())
    .replace("</", "<\\/");
    // The text of every timeline entry, for the "now" panel.
    let texts: Vec<String> = r.timeline.iter().map(entry_text).collect();
    let texts_json = serde_json::to_string(&texts)
        .unwrap_or_else(|_| "[]".to_owned())
        .replace("</", "<\\/");
    let title = format!("run: {}", r.scenario);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
         <style>{CSS}{RUN_CSS}</style>\n</head>\n<body data-step=\"{start}\">\n<h1>{t}</h1>\n",
        t = esc(&title)
    );
    let _ = writeln!(
        s,
        "<p>Seed {}, {} simulated on the design <b>{}</b>. The measurement window runs from {} ({}) to the end. \
         Step through the run with the buttons, the slider or the arrow keys; the diagram shows the chosen instant.</p>",
        r.seed,
        dur(r.duration),
        esc(&r.topology.name),
        r.window.from,
        esc(r.window.opened_by.label())
    );
    // The network and the time control.
    s.push_str("<h2>The network, step by step</h2>\n");
    let _ = write!(
        s,
        "<div class=\"controls\"><button id=\"first\" type=\"button\">|◀</button><button id=\"prev\" type=\"button\">◀ step</button>\
         <button id=\"next\" type=\"button\">step ▶</button><button id=\"last\" type=\"button\">▶|</button>\
         <input id=\"slider\" type=\"range\" min=\"0\" max=\"{}\" step=\"1\" value=\"{}\" aria-label=\"time (ms)\"></div>\n\
         <p class=\"clockline\"><b>At <span id=\"clock\">{}</span></b></p>\n",
        r.duration.as_nanos() / 1_000_000,
        fr[start].t / 1_000_000,
        esc(&fr[start].label)
    );
    s.push_str(&svg);
    s.push_str(
        "\n<div class=\"key\"><span><i class=\"sw\" style=\"background:#2ca02c\"></i>session up (both ends Established)</span>\
         <span><i class=\"sw\" style=\"background:#ff7f0e\"></i>one end up</span>\
         <span><i class=\"sw\" style=\"background:#bcbd22\"></i>opening</span>\
         <span><i class=\"sw\" style=\"background:#d62728\"></i>down</span>\
         <span><i class=\"sw\" style=\"background:#888\"></i>link up</span>\
         <span><i class=\"sw\" style=\"background:#ff7f0e;height:2px;border-top:2px dotted #ff7f0e\"></i>link silent</span>\
         <span><i class=\"sw\" style=\"background:#d62728\"></i>link down</span>",
    );
    for (d, dir) in r.directions.iter().enumerate() {
        let c = ["#1f77b4", "#9467bd", "#17becf", "#8c564b"][d % 4];
        let _ = write!(
            s,
            "<span><i class=\"sw\" style=\"background:{c};opacity:.6\"></i>{} flows</span>",
            esc(&dir.direction)
        );
    }
    s.push_str("</div>\n<div class=\"below\">\n<div>\n<ul id=\"now\">");
    for k in &fr[start].ev {
        let _ = write!(s, "<li>{}</li>", esc(&texts[*k]));
    }
    s.push_str("</ul>\n<table><caption>traffic at this instant</caption><thead><tr><th>direction</th><th>flows</th></tr></thead><tbody>");
    for (d, dir) in r.directions.iter().enumerate() {
        let f = &fr[start].f[d];
        let state = if f.lost == 0 {
            "ok"
        } else if f.lost >= f.flows {
            "lost"
        } else {
            "partial"
        };
        let _ = write!(
            s,
            "<tr class=\"dir\" id=\"dir-{d}\" data-i=\"{d}\" data-direction=\"{}\" data-lost=\"{}\" data-state=\"{state}\"><td>{}</td><td class=\"what\">{}</td></tr>",
            esc(&dir.direction),
            f.lost,
            esc(&dir.direction),
            esc(&f.text)
        );
    }
    s.push_str("</tbody></table>\n</div>\n<div>\n<ol id=\"events\" start=\"0\">");
    for (k, f) in fr.iter().enumerate() {
        let _ = write!(
            s,
            "<li data-step=\"{k}\"{}>{} {}</li>",
            if k == start { " class=\"here\"" } else { "" },
            esc(&f.label),
            esc(&step_summary(&f.ev, &texts))
        );
    }
    s.push_str("</ol>\n</div>\n</div>\n");
    let _ = write!(
        s,
        "<h2>Timeline</h2>\n<figure id=\"timeline\">\n<figcaption>{}</figcaption>\n{}\n<p>Red dashed lines: faults. \
         Black triangles: a session's end declaring it down (detection). Grey: before the measurement window. \
         Blue line: the instant shown above.</p>\n{}\n</figure>\n",
        esc(&tl.title),
        tl.svg,
        tl.table
    );
    // The design in numbers.
    s.push_str("<h2>The design</h2>\n");
    s.push_str(&table(
        "routers",
        &["router", "role", "ASN"],
        &[2],
        &r.topology
            .routers
            .iter()
            .map(|x| {
                vec![
                    x.name.clone(),
                    role_name(x.role).to_owned(),
                    x.asn.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    s.push_str(&table(
        "BGP sessions",
        &["session", "between", "links crossed", "flaps"],
        &[3],
        &r.topology
            .sessions
            .iter()
            .map(|x| {
                vec![
                    x.name.clone(),
                    format!("{} – {}", x.ends[0], x.ends[1]),
                    x.path.join(", "),
                    r.flaps
                        .iter()
                        .find(|f| f.session == x.name)
                        .map_or(0, |f| f.count)
                        .to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    s.push_str(&table(
        "links",
        &["link", "between", "circuit link"],
        &[],
        &r.topology
            .links
            .iter()
            .map(|l| {
                vec![
                    l.name.clone(),
                    format!("{} – {}", l.ends[0], l.ends[1]),
                    l.circuit_link.clone().unwrap_or_default(),
                ]
            })
            .collect::<Vec<_>>(),
    ));
    let _ = write!(
        s,
        "<script type=\"application/json\" id=\"frames\">{data}</script>\n\
         <script type=\"application/json\" id=\"events-data\">{texts_json}</script>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    );
    let charts = vec![
        Chart {
            id: "network".to_owned(),
            title: format!("The network at {}", fr[start].label),
            svg,
            table: String::new(),
        },
        tl,
    ];
    (s, charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result file that contradicts itself (a session between unknown routers, a path of
    /// an unknown direction, more flows lost than there are, a zero-length run) still makes
    /// a page, and the same page twice.
    #[test]
    fn inconsistent_results_make_a_page_without_panicking() {
        let text = serde_json::json!({
            "format": "holdtime.run/1", "scenario": "odd <b>", "seed": 0, "duration_ns": 0,
            "fork_at_ns": 0,
            "topology": {
                "name": "t", "routers": [{"name": "a", "role": "ce", "asn": 1}],
                "devices": [], "links": [{"name": "l", "kind": "access", "ends": ["a", "zz"],
                "circuit_link": null}],
                "sessions": [{"name": "s", "kind": "peering", "ends": ["x", "y"], "path": ["nope"]}],
                "circuits": [], "er_gateway": "", "vpn": null, "vnets": []
            },
            "window": {"from_ns": 5, "to_ns": 0, "opened_by": "first_fault"},
            "episodes": [{"index": 1, "at_ns": 7, "label": "x"}],
            "timeline": [
                {"at_ns": 9, "router": "q", "event": {"type": "session", "session": "s",
                 "from": "idle", "to": "established", "cause": null}},
                {"at_ns": 3, "router": null, "event": {"type": "path", "direction": "d",
                 "flows": 1, "lost": 5, "via": []}},
                {"at_ns": 3, "router": null, "event": {"type": "fault", "kind": "silent ends",
                 "target": "a"}}
            ],
            "detections": [{"session": "s", "router": "q", "at_ns": 1, "episode": 1,
                "after_fault_ns": null, "cause": {"cause": "bfd"}}],
            "convergence": [], "outages": [],
            "directions": [{"direction": "d", "flows": 1, "flows_hit": 1, "longest_ns": 0,
                "longest_open": false, "total_ns": 0, "open_flows": 0, "never_reachable": true,
                "episodes": []}],
            "paths": [], "probes": [], "messages": [], "flaps": [], "bytes_dropped": []
        })
        .to_string();
        let r = RunReport::from_json(&text).unwrap();
        let (a, charts) = page(&r);
        assert_eq!(a, page(&r).0);
        assert_eq!(charts.len(), 2);
        assert!(a.contains("odd &lt;b&gt;") && !a.contains("odd <b>"));
        assert_eq!(frames(&r).len(), 3);
    }

    #[test]
    fn durations_read_to_the_millisecond() {
        assert_eq!(dur(Duration::from_secs(170)), "2m50s");
        assert_eq!(dur(Duration::from_millis(1500)), "1.5s");
        assert_eq!(dur(Duration::from_millis(60_001)), "1m0.001s");
    }
}
