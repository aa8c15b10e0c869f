//! What a run measured ([`RunReport`]), how it is shown (text and JSON), and how a
//! scenario's expectations are judged against it ([`evaluate`]).
//!
//! The simulation driver fills a [`RunReport`]; everything here is pure formatting and
//! arithmetic over it, so it is tested with hand-built reports. The JSON form is the serde
//! serialisation of [`RunReport`] (field names are part of the stable interface: add fields,
//! never rename them). Times are [`Instant`]s since the start of the run (printed `300.000s`)
//! and [`Duration`]s (printed `2m57s`).

use std::fmt::Write as _;

use serde::Serialize;
use sim_core::time::{Duration, Instant};

use crate::scenario::{Check, Expectation, MessageType, Metric, Scenario};
use crate::spec::{SessionStateName, Via};
use crate::units::Quantity;

/// Everything one run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// The seed used.
    pub seed: u64,
    /// Simulated time.
    pub duration: Duration,
    /// The end of the start-up every seed of the scenario shares (simulated with the file's
    /// seed; from here on every random stream is keyed by `seed`; see `sim::world`).
    pub fork_at: Instant,
    /// What happened, in time order (ties in the order they happened).
    pub timeline: Vec<TimelineEntry>,
    /// Each time an end of a session declared it down.
    pub detections: Vec<Detection>,
    /// Forwarding convergence per router, after each fault.
    pub convergence: Vec<Convergence>,
    /// Every interval in which a flow had no working path.
    pub outages: Vec<Outage>,
    /// Which way each direction's traffic went, as it changed.
    pub paths: Vec<PathChange>,
    /// Probe counts per direction.
    pub probes: Vec<ProbeStats>,
    /// Messages sent, by type (all sessions).
    pub messages: Vec<MessageCount>,
    /// Sessions that left Established, and how often.
    pub flaps: Vec<FlapCount>,
    /// Bytes dropped by congestion, per direction.
    pub bytes_dropped: Vec<BytesDropped>,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    /// When.
    pub at: Instant,
    /// The router it happened on, if any.
    pub router: Option<String>,
    /// What.
    pub event: TimelineEvent,
}

/// What can appear in a timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// The ExpressRoute gateway finished programming a change.
    GatewayConverged {
        /// Routes now programmed.
        routes: u64,
    },
    /// A direction's traffic changed path.
    Path {
        /// The direction.
        direction: String,
        /// The new way.
        via: Via,
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

/// Why a session went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// The session.
    pub session: String,
    /// The end that detected.
    pub router: String,
    /// When.
    pub at: Instant,
    /// Since the latest fault before it.
    pub after_fault: Duration,
    /// How.
    pub cause: DownCause,
}

/// A router's forwarding settling after a fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Convergence {
    /// The router.
    pub router: String,
    /// Its last forwarding change after the fault.
    pub at: Instant,
    /// Since the first fault.
    pub after_fault: Duration,
}

/// One interval without a working path for one flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outage {
    /// The direction.
    pub direction: String,
    /// The flow (0-based 5-tuple index).
    pub flow: u32,
    /// Start.
    pub start: Instant,
    /// End (`None`: still out at the end of the run).
    pub end: Option<Instant>,
    /// Length (to the end of the run when still out).
    pub duration: Duration,
}

/// A direction's traffic changing path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathChange {
    /// When.
    pub at: Instant,
    /// The direction.
    pub direction: String,
    /// The new way (for the first flow; flows split by ECMP report the worst).
    pub via: Via,
}

/// Probe packets of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeStats {
    /// The direction.
    pub direction: String,
    /// Sent.
    pub sent: u64,
    /// Lost.
    pub lost: u64,
}

/// Messages of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageCount {
    /// The type.
    pub kind: MessageType,
    /// How many were sent.
    pub count: u64,
}

/// Flaps of one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlapCount {
    /// The session.
    pub session: String,
    /// Times it left Established.
    pub count: u64,
}

/// Bytes dropped by congestion in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BytesDropped {
    /// The direction.
    pub direction: String,
    /// Bytes.
    pub bytes: u64,
}

/// Output format of `holdtime run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable timeline and summary tables.
    Text,
    /// [`RunReport`] as JSON.
    Json,
}

/// A duration rounded to the millisecond for the text summary (`2m21.999981039s` reads as
/// `2m22s`); the JSON report keeps the exact nanoseconds.
fn to_ms(d: Duration) -> String {
    Duration::from_millis(d.as_nanos().saturating_add(500_000) / 1_000_000).to_string()
}

/// A rate for the timeline, to three significant digits: `1.6 Gb/s`, `600 Mb/s`.
fn human_bps(bps: u64) -> String {
    #[allow(clippy::cast_precision_loss, reason = "display only, three digits")]
    let x = bps as f64;
    let (v, unit) = if bps >= 1_000_000_000 {
        (x / 1e9, "Gb/s")
    } else if bps >= 1_000_000 {
        (x / 1e6, "Mb/s")
    } else if bps >= 1_000 {
        (x / 1e3, "kb/s")
    } else {
        (x, "b/s")
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{v:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    };
    format!("{s} {unit}")
}

impl RunReport {
    /// The report as pretty JSON.
    ///
    /// # Errors
    ///
    /// Only if serialisation fails, which the types here cannot cause.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The report as text: the timeline, then the summary tables.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "scenario: {}  (seed {}, {} simulated{})",
            self.scenario,
            self.seed,
            self.duration,
            if self.fork_at > Instant::ZERO {
                format!("; every seed shares the start-up to {}", self.fork_at)
            } else {
                String::new()
            }
        );
        let _ = writeln!(out, "\ntimeline");
        for e in &self.timeline {
            let who = e.router.as_deref().unwrap_or("-");
            let what = match &e.event {
                TimelineEvent::Fault { kind, target } => format!("FAULT {kind} on {target}"),
                TimelineEvent::Session {
                    session,
                    from,
                    to,
                    cause,
                } => {
                    let cause = cause
                        .map(|c| format!(" ({})", c.label()))
                        .unwrap_or_default();
                    format!("bgp {session}: {from:?} -> {to:?}{cause}")
                }
                TimelineEvent::Bfd { session, state } => format!("bfd {session}: {state}"),
                TimelineEvent::BestPath { prefix, via } => {
                    format!("best path {prefix} via {}", join_or(via, "(unreachable)"))
                }
                TimelineEvent::Fib { prefix, via } => {
                    format!("fib {prefix} via {}", join_or(via, "(removed)"))
                }
                TimelineEvent::GatewayConverged { routes } => {
                    format!("gateway converged ({routes} routes programmed)")
                }
                TimelineEvent::Path { direction, via } => {
                    format!("traffic {direction} now via {via:?}")
                }
                TimelineEvent::Congestion {
                    link,
                    offered_bps,
                    capacity_bps,
                } => {
                    if offered_bps > capacity_bps {
                        let bw = human_bps;
                        format!(
                            "congestion on {link}: {} offered, {} capacity, {} dropped",
                            bw(*offered_bps),
                            bw(*capacity_bps),
                            bw(offered_bps - capacity_bps)
                        )
                    } else {
                        format!("congestion over on {link}")
                    }
                }
            };
            let _ = writeln!(out, "  {:>12}  {who:<8} {what}", e.at.to_string());
        }
        let _ = writeln!(out, "\ndetection (per session end)");
        let _ = writeln!(
            out,
            "  {:<34} {:<8} {:>12} {:>10}  cause",
            "session", "router", "at", "after"
        );
        for d in &self.detections {
            let _ = writeln!(
                out,
                "  {:<34} {:<8} {:>12} {:>10}  {}",
                d.session,
                d.router,
                d.at.to_string(),
                to_ms(d.after_fault),
                d.cause.label()
            );
        }
        let _ = writeln!(out, "\nconvergence (per router)");
        for c in &self.convergence {
            let _ = writeln!(
                out,
                "  {:<8} {:>12} {:>10} after the fault",
                c.router,
                c.at.to_string(),
                to_ms(c.after_fault)
            );
        }
        let _ = writeln!(out, "\noutage (per direction: longest, total, flows hit)");
        for (direction, longest, total, flows) in self.outage_summary() {
            let _ = writeln!(
                out,
                "  {direction:<28} longest {:>10}  total {:>10}  flows {flows}",
                to_ms(longest),
                to_ms(total)
            );
        }
        if !self.probes.is_empty() {
            let _ = writeln!(out, "\nprobes");
            for p in &self.probes {
                let _ = writeln!(
                    out,
                    "  {:<28} sent {:>8}  lost {:>8}",
                    p.direction, p.sent, p.lost
                );
            }
        }
        if !self.bytes_dropped.is_empty() {
            let _ = writeln!(out, "\nbytes dropped by congestion");
            for b in &self.bytes_dropped {
                let _ = writeln!(out, "  {:<28} {:>14}", b.direction, b.bytes);
            }
        }
        let _ = writeln!(out, "\nmessages");
        for m in &self.messages {
            let _ = writeln!(out, "  {:<14} {:>8}", m.kind.name(), m.count);
        }
        let flaps: u64 = self.flaps.iter().map(|f| f.count).sum();
        let _ = writeln!(out, "\nsession flaps: {flaps}");
        for f in &self.flaps {
            let _ = writeln!(out, "  {:<34} {:>4}", f.session, f.count);
        }
        out
    }

    /// Per direction, in first-seen order: longest outage, total outage, flows affected.
    #[must_use]
    pub fn outage_summary(&self) -> Vec<(String, Duration, Duration, usize)> {
        let mut out: Vec<(String, Duration, Duration, Vec<u32>)> = Vec::new();
        for o in &self.outages {
            let pos = out.iter().position(|(d, ..)| *d == o.direction);
            let entry = match pos {
                Some(p) => &mut out[p],
                None => {
                    out.push((
                        o.direction.clone(),
                        Duration::ZERO,
                        Duration::ZERO,
                        Vec::new(),
                    ));
                    let last = out.len() - 1;
                    &mut out[last]
                }
            };
            entry.1 = entry.1.max(o.duration);
            entry.2 += o.duration;
            if !entry.3.contains(&o.flow) {
                entry.3.push(o.flow);
            }
        }
        out.into_iter()
            .map(|(d, l, t, f)| (d, l, t, f.len()))
            .collect()
    }

    /// The measured value of a metric; `None` when the report has nothing to say (e.g. no
    /// detection happened).
    #[must_use]
    pub fn metric(&self, scenario: &Scenario, metric: &Metric) -> Option<Quantity> {
        let topo = &scenario.topology;
        let session_name = |s: crate::topology::SessionIx| {
            topo.sessions
                .get(s.0)
                .map(|s| s.name.clone())
                .unwrap_or_default()
        };
        match metric {
            Metric::Outage(dir) => Some(Quantity::Duration(
                self.outages
                    .iter()
                    .filter(|o| o.direction == *dir)
                    .map(|o| o.duration)
                    .max()
                    .unwrap_or(Duration::ZERO),
            )),
            Metric::ProbesLost(dir) => Some(Quantity::Count(
                self.probes
                    .iter()
                    .filter(|p| p.direction == *dir)
                    .map(|p| p.lost)
                    .sum(),
            )),
            Metric::BytesDropped(dir) => Some(Quantity::Count(
                self.bytes_dropped
                    .iter()
                    .filter(|b| b.direction == *dir)
                    .map(|b| b.bytes)
                    .sum(),
            )),
            Metric::SessionDetection(s) => {
                let name = session_name(*s);
                self.detections
                    .iter()
                    .filter(|d| d.session == name)
                    .min_by_key(|d| d.at)
                    .map(|d| Quantity::Duration(d.after_fault))
            }
            Metric::RouterDetection(r) => {
                let name = topo.router_name(*r);
                self.detections
                    .iter()
                    .filter(|d| d.router == name)
                    .min_by_key(|d| d.at)
                    .map(|d| Quantity::Duration(d.after_fault))
            }
            Metric::Convergence(r) => {
                let name = topo.router_name(*r);
                self.convergence
                    .iter()
                    .filter(|c| c.router == name)
                    .max_by_key(|c| c.at)
                    .map(|c| Quantity::Duration(c.after_fault))
            }
            Metric::Messages(t) => Some(Quantity::Count(
                self.messages
                    .iter()
                    .filter(|m| m.kind == *t)
                    .map(|m| m.count)
                    .sum(),
            )),
            Metric::Flaps(s) => {
                let name = s.map(session_name);
                Some(Quantity::Count(
                    self.flaps
                        .iter()
                        .filter(|f| name.as_ref().is_none_or(|n| *n == f.session))
                        .map(|f| f.count)
                        .sum(),
                ))
            }
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

fn join_or(v: &[String], empty: &str) -> String {
    if v.is_empty() {
        empty.to_owned()
    } else {
        v.join(", ")
    }
}

/// The verdict on one expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The expectation as written.
    pub expectation: String,
    /// Its `because`.
    pub because: Option<String>,
    /// What was measured, in words, exact (durations to the nanosecond): the JSON form.
    pub measured: String,
    /// What was measured as `holdtime check` prints it: durations rounded to the millisecond,
    /// as in the run summary.
    #[serde(skip)]
    pub shown: String,
    /// Whether it held.
    pub pass: bool,
}

/// Judges every expectation of `scenario` against `report`.
#[must_use]
pub fn evaluate(scenario: &Scenario, report: &RunReport) -> Vec<Verdict> {
    scenario
        .expectations
        .iter()
        .map(|e| judge(scenario, report, e))
        .collect()
}

fn judge(scenario: &Scenario, report: &RunReport, e: &Expectation) -> Verdict {
    let topo = &scenario.topology;
    let session_name =
        |s: crate::topology::SessionIx| topo.sessions.get(s.0).map_or("", |s| s.name.as_str());
    // Each arm gives the words twice: exact and for display (see `Verdict::shown`).
    let ((measured, shown), pass) = match &e.check {
        Check::Metric { metric, bounds } => match report.metric(scenario, metric) {
            Some(q) => {
                let pass = bounds.admits(q);
                // Rounding must not make a verdict look wrong (a FAIL at "900ms" against
                // "<= 900ms"): then the exact value is shown.
                let shown = if bounds.admits(rounded(q)) == pass {
                    human(q)
                } else {
                    q.to_string()
                };
                ((q.to_string(), shown), pass)
            }
            None => (same("not observed"), false),
        },
        Check::SessionDownBy { session, by } => {
            let name = session_name(*session);
            let changes = report.session_changes(name);
            let mut was_up = false;
            let mut down_at = None;
            for (at, _, to) in changes {
                if to == SessionStateName::Established {
                    was_up = true;
                } else if was_up && down_at.is_none() {
                    down_at = Some(at);
                }
            }
            match down_at {
                Some(at) => (same(&format!("down at {at}")), at.since_start() <= *by),
                None => (same("never went down"), false),
            }
        }
        Check::SessionState { session, state, at } => {
            let name = session_name(*session);
            let mut per_end: Vec<(&str, SessionStateName)> = Vec::new();
            for (t, router, to) in report.session_changes(name) {
                if t.since_start() > *at {
                    break;
                }
                match per_end.iter_mut().find(|(r, _)| *r == router) {
                    Some(entry) => entry.1 = to,
                    None => per_end.push((router, to)),
                }
            }
            let states: Vec<String> = per_end.iter().map(|(r, s)| format!("{r}: {s:?}")).collect();
            let pass = if *state == SessionStateName::Established {
                per_end.len() == 2 && per_end.iter().all(|(_, s)| *s == *state)
            } else if per_end.is_empty() {
                *state == SessionStateName::Idle
            } else {
                per_end.iter().any(|(_, s)| *s == *state)
            };
            (same(&join_or(&states, "no state change (Idle)")), pass)
        }
        Check::SessionNeverUp { session } => {
            let up = report
                .session_changes(session_name(*session))
                .iter()
                .any(|(_, _, s)| *s == SessionStateName::Established);
            (
                same(if up {
                    "reached Established"
                } else {
                    "never Established"
                }),
                !up,
            )
        }
        Check::SessionStaysUp { session } => {
            let mut up = false;
            let mut left = false;
            for (_, _, s) in report.session_changes(session_name(*session)) {
                if s == SessionStateName::Established {
                    up = true;
                } else if up {
                    left = true;
                }
            }
            (
                same(if left {
                    "left Established"
                } else {
                    "stayed Established"
                }),
                up && !left,
            )
        }
        Check::NoLoss { direction } => {
            let outage = report.metric(scenario, &Metric::Outage(direction.clone()));
            let lost = report.metric(scenario, &Metric::ProbesLost(direction.clone()));
            let zero_outage = outage == Some(Quantity::Duration(Duration::ZERO));
            let zero_lost = lost == Some(Quantity::Count(0));
            let words = |f: fn(Quantity) -> String| {
                format!(
                    "outage {}, probes lost {}",
                    outage.map_or_else(|| "?".to_owned(), f),
                    lost.map_or_else(|| "?".to_owned(), f)
                )
            };
            (
                (words(|q| q.to_string()), words(human)),
                zero_outage && zero_lost,
            )
        }
        Check::Path { direction, via, at } => {
            let current = report
                .paths
                .iter()
                .rfind(|p| p.direction == *direction && p.at.since_start() <= *at)
                .map(|p| p.via);
            match current {
                Some(v) => (same(&format!("{v:?}")), v == *via),
                None => (same("no path recorded"), false),
            }
        }
    };
    Verdict {
        expectation: e.text.clone(),
        because: e.because.clone(),
        measured,
        shown,
        pass,
    }
}

/// Words that read the same exact and displayed.
fn same(words: &str) -> (String, String) {
    (words.to_owned(), words.to_owned())
}

/// A quantity with durations rounded to the millisecond.
fn rounded(q: Quantity) -> Quantity {
    match q {
        Quantity::Duration(d) => Quantity::Duration(Duration::from_millis(
            d.as_nanos().saturating_add(500_000) / 1_000_000,
        )),
        Quantity::Count(_) => q,
    }
}

/// A quantity as the run summary prints it: durations rounded to the millisecond.
fn human(q: Quantity) -> String {
    rounded(q).to_string()
}

/// Renders verdicts as `PASS`/`FAIL` lines.
#[must_use]
pub fn render_verdicts(file: &str, verdicts: &[Verdict]) -> String {
    let mut out = String::new();
    for v in verdicts {
        let _ = writeln!(
            out,
            "{file}: {} {}  (measured: {})",
            if v.pass { "PASS" } else { "FAIL" },
            v.expectation,
            v.shown
        );
        if let (false, Some(because)) = (v.pass, &v.because) {
            let _ = writeln!(out, "  = expected because: {because}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_str;

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
            scenario: "t".to_owned(),
            seed: 1,
            duration: Duration::from_mins(15),
            fork_at: Instant::ZERO,
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
                after_fault: Duration::from_secs(170),
                cause: DownCause::HoldTimer,
            }],
            convergence: vec![Convergence {
                router: "ce1".to_owned(),
                at: at(470),
                after_fault: Duration::from_secs(170),
            }],
            outages: vec![Outage {
                direction: "onprem_to_vnet".to_owned(),
                flow: 0,
                start: at(300),
                end: Some(at(470)),
                duration: Duration::from_secs(170),
            }],
            paths: vec![PathChange {
                at: at(470),
                direction: "onprem_to_vnet".to_owned(),
                via: Via::Expressroute,
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
        let scenario = load_str("t.toml", SCENARIO).unwrap().scenario;
        let verdicts = evaluate(&scenario, &hand_built());
        let got: Vec<(bool, &str)> = verdicts
            .iter()
            .map(|v| (v.pass, v.measured.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (true, "2m50s"),
                (true, "2m50s"),
                (true, "down at 470.000s"),
                (false, "outage 0s, probes lost 3"),
                (true, "Expressroute"),
                (true, "1"),
            ]
        );
    }

    #[test]
    fn check_prints_measured_durations_to_the_millisecond_and_keeps_json_exact() {
        let scenario = load_str("t.toml", SCENARIO).unwrap().scenario;
        let mut report = hand_built();
        let exact = Duration::from_nanos(141_999_981_039);
        report.detections[0].after_fault = exact;
        report.outages[0].duration = exact;
        let verdicts = evaluate(&scenario, &report);
        let detection = verdicts
            .iter()
            .find(|v| v.expectation.starts_with("detection.ce1"))
            .unwrap();
        assert_eq!(detection.measured, "2m21.999981039s");
        assert_eq!(detection.shown, "2m22s");
        let json = serde_json::to_value(detection).unwrap();
        assert_eq!(json["measured"], "2m21.999981039s", "JSON stays exact");
        assert!(json.get("shown").is_none(), "{json}");
        let text = render_verdicts("t.toml", &verdicts);
        assert!(text.contains("(measured: 2m22s)"), "{text}");
        assert!(!text.contains("999981039"), "{text}");
        // Just over a bound: rounded it would read as inside, so the exact value is shown.
        report.detections[0].after_fault = Duration::from_nanos(180_000_000_400);
        let verdicts = evaluate(&scenario, &report);
        let v = verdicts
            .iter()
            .find(|v| v.expectation.starts_with("detection.ce1"))
            .unwrap();
        assert!(!v.pass, "{v:?}");
        assert_eq!(v.shown, "3m400ns");
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
        assert_eq!(v["outages"][0]["duration"], "2m50s");
        assert_eq!(v["messages"][0]["kind"], "notification");
    }

    #[test]
    fn outage_summary_takes_longest_and_total_per_direction() {
        let mut r = hand_built();
        r.outages.push(Outage {
            direction: "onprem_to_vnet".to_owned(),
            flow: 1,
            start: Instant::from_nanos(0),
            end: None,
            duration: Duration::from_secs(10),
        });
        let s = r.outage_summary();
        assert_eq!(
            s,
            vec![(
                "onprem_to_vnet".to_owned(),
                Duration::from_secs(170),
                Duration::from_secs(180),
                2
            )]
        );
    }
}
