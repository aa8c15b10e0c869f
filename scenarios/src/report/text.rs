//! The text form of a [`RunReport`]: the timeline, then the summary tables.

use std::fmt::Write as _;

use sim_core::time::{Duration, Instant};

use super::*;

/// A duration rounded to the millisecond for the text summary (`2m21.999981039s` reads as
/// `2m22s`), or to the microsecond below half a millisecond (`400us`, not `0s`); the JSON
/// report keeps the exact nanoseconds.
pub(super) fn to_ms(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns > 0 && ns < 500_000 {
        // Below half a millisecond the millisecond would read as no time at all: microseconds.
        return Duration::from_nanos(ns.saturating_add(500) / 1_000 * 1_000).to_string();
    }
    Duration::from_millis(ns.saturating_add(500_000) / 1_000_000).to_string()
}

/// A rate for the timeline, to three significant digits: `1.6 Gb/s`, `600 Mb/s`.
pub(super) fn human_bps(bps: u64) -> String {
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
        let _ = writeln!(
            out,
            "measured from {} ({}) to the end of the run",
            self.window.from,
            self.window.opened_by.label()
        );
        let _ = writeln!(out, "\ntimeline");
        for e in &self.timeline {
            let who = e.router.as_deref().unwrap_or("-");
            let what = match &e.event {
                TimelineEvent::Fault { kind, target } if target.is_empty() => {
                    format!("FAULT {kind}")
                }
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
                TimelineEvent::StaleRoutes {
                    session,
                    routes,
                    what,
                    until,
                } => {
                    let s = if *routes == 1 { "" } else { "s" };
                    match until {
                        Some(t) => format!(
                            "bgp {session}: {routes} route{s} kept as stale until {t} (graceful restart)"
                        ),
                        None => format!(
                            "bgp {session}: {routes} stale route{s} withdrawn ({})",
                            what.replace('_', " ")
                        ),
                    }
                }
                TimelineEvent::BestPath { prefix, via } => {
                    format!("best path {prefix} via {}", join_or(via, "(unreachable)"))
                }
                TimelineEvent::Fib { prefix, via } => {
                    format!("fib {prefix} via {}", join_or(via, "(removed)"))
                }
                TimelineEvent::FibBulk { changed, removed } => {
                    format!("fib {changed} other prefixes changed ({removed} of them removed)")
                }
                TimelineEvent::GatewayConverged { routes } => {
                    format!("gateway converged ({routes} routes programmed)")
                }
                TimelineEvent::Path {
                    direction,
                    flows,
                    lost,
                    via,
                } => {
                    format!(
                        "traffic {direction}: {}",
                        describe_paths(*flows, *lost, via)
                    )
                }
                TimelineEvent::Connect { session, trouble } => {
                    format!("tcp {session}: {}", trouble.label())
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
        let several = self.episodes.len() > 1;
        if several {
            let _ = writeln!(out, "\nepisodes (each measured from its fault)");
            for e in &self.episodes {
                let _ = writeln!(
                    out,
                    "  {:>2}  {:>12}  {}",
                    e.index,
                    e.at.to_string(),
                    e.label
                );
            }
        }
        let _ = writeln!(
            out,
            "\ndetection (per session end, from the fault of its episode)"
        );
        if self.detections.is_empty() {
            let _ = writeln!(out, "  (no session went down)");
        } else {
            let _ = writeln!(
                out,
                "  {:<34} {:<8} {:>12} {:>10}  {}cause",
                "session",
                "router",
                "at",
                "after",
                if several { "ep  " } else { "" }
            );
        }
        for d in &self.detections {
            let after = d.after_fault.map_or_else(|| "-".to_owned(), to_ms);
            let ep = match (several, d.episode) {
                (false, _) => String::new(),
                (true, Some(e)) => format!("{e:<2}  "),
                (true, None) => "-   ".to_owned(),
            };
            let no_fault = if d.episode.is_none() {
                " (before any fault)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {:<34} {:<8} {:>12} {:>10}  {ep}{}{no_fault}",
                d.session,
                d.router,
                d.at.to_string(),
                after,
                d.cause.label()
            );
        }
        let _ = writeln!(
            out,
            "\nconvergence (per router: its last forwarding change in the episode)"
        );
        if self.convergence.is_empty() {
            let _ = writeln!(out, "  (no fault, or no forwarding change after one)");
        }
        for c in &self.convergence {
            let label = self.episode_label(c.episode);
            let _ = writeln!(
                out,
                "  {:<8} {:>12} {:>10} after {label}",
                c.router,
                c.at.to_string(),
                to_ms(c.after_fault)
            );
        }
        let _ = writeln!(out, "\noutage (per direction: longest, total, flows hit)");
        for d in &self.directions {
            if d.never_reachable {
                let _ = writeln!(
                    out,
                    "  {:<28} never reachable: none of its {} flows delivered from {} to the end",
                    d.direction, d.flows, self.window.from
                );
                continue;
            }
            let open = if d.open_flows > 0 {
                format!(
                    ", {} still down at the end of the run{}",
                    d.open_flows,
                    if d.longest_open {
                        format!(" (the longest: {} so far)", to_ms(d.longest))
                    } else {
                        String::new()
                    }
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {:<28} longest {:>10}  total {:>10}  flows {} of {}{open}",
                d.direction,
                to_ms(d.longest),
                to_ms(d.total),
                d.flows_hit,
                d.flows
            );
        }
        if several {
            let by_episode = self.episodes.iter().flat_map(|ep| {
                self.directions.iter().flat_map(move |d| {
                    d.episodes
                        .iter()
                        .filter(move |e| e.episode == ep.index)
                        .map(move |e| (d, e))
                })
            });
            {
                for (d, e) in by_episode {
                    let restored = match e.restored_after {
                        Some(r) => format!("all back {} after the fault", to_ms(r)),
                        None => format!("{} still down at the end", e.open_flows),
                    };
                    let _ = writeln!(
                        out,
                        "    episode {} ({}): {} longest {}, flows {}, {restored}",
                        e.episode,
                        self.episode_label(e.episode),
                        d.direction,
                        to_ms(e.longest),
                        e.flows_hit
                    );
                }
            }
        }
        if !self.probes.is_empty() {
            let _ = writeln!(out, "\nprobes (inside the window)");
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
}

pub(super) fn join_or(v: &[String], empty: &str) -> String {
    if v.is_empty() {
        empty.to_owned()
    } else {
        v.join(", ")
    }
}
