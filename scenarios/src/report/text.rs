//! The text form of a [`RunReport`]: the timeline, then the summary tables.

use std::fmt::Write as _;

use sim_core::time::{Duration, Instant};

use super::*;
use crate::fmt;

/// A duration as text (see [`crate::fmt`] for the rounding rule).
pub(super) fn to_ms(d: Duration) -> String {
    fmt::duration(d)
}

/// An instant as text, for columns (see [`crate::fmt::instant`]).
pub(super) fn at(t: Instant) -> String {
    fmt::instant(t)
}

/// [`crate::fmt::rate`], under the name the report's tests know.
#[cfg(test)]
pub(super) fn human_bps(bps: u64) -> String {
    fmt::rate(bps)
}

/// A BGP FSM state as RFC 4271 §8.2.2 names it.
pub(crate) const fn state_name(s: SessionStateName) -> &'static str {
    match s {
        SessionStateName::Idle => "Idle",
        SessionStateName::Connect => "Connect",
        SessionStateName::Active => "Active",
        SessionStateName::OpenSent => "OpenSent",
        SessionStateName::OpenConfirm => "OpenConfirm",
        SessionStateName::Established => "Established",
    }
}

/// Why a session went down, in words. The VPN's BGP sessions (`vpn`, `vpn.instance0` ..., the
/// names [`crate::topology`] gives them) run over an IPsec tunnel interface, which goes down
/// when IKE dead-peer detection declares the other end dead (`sim::azure`); the simulator
/// records that as the interface's loss of carrier, and it is told here as what it is.
pub(crate) fn cause_text(session: &str, cause: DownCause) -> String {
    let vpn = session == "vpn" || session.starts_with("vpn.");
    match cause {
        DownCause::Carrier if vpn => "tunnel down: IKE dead-peer detection".to_owned(),
        other => other.label(),
    }
}

/// A TCP connection attempt's trouble in words, instants rounded like every other.
pub(crate) fn trouble_text(t: ConnectTrouble) -> String {
    let retry = |when: Option<Instant>| {
        when.map_or_else(
            || ", not retransmitted".to_owned(),
            |w| format!(", retransmitted at {}", fmt::instant(w)),
        )
    };
    match t {
        ConnectTrouble::SynLost { retransmit_at } => format!("SYN lost{}", retry(retransmit_at)),
        ConnectTrouble::SynAckLost { retransmit_at } => {
            format!("SYN-ACK lost{}", retry(retransmit_at))
        }
        other => other.label(),
    }
}

/// A timeline fault line: faults are `FAULT ...`; a restore (or the end of a maintenance) is
/// written as what it is, not as a fault.
fn fault_text(kind: &str, target: &str) -> String {
    let on = if target.is_empty() {
        String::new()
    } else {
        format!(" {target}")
    };
    if kind == "restore" {
        format!("RESTORED{on}")
    } else if let Some(what) = kind.strip_suffix(" ends") {
        format!(
            "END of {what}{}",
            if target.is_empty() {
                String::new()
            } else {
                format!(" on {target}")
            }
        )
    } else if target.is_empty() {
        format!("FAULT {kind}")
    } else {
        format!("FAULT {kind} on {target}")
    }
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
            fmt::duration(self.duration),
            if self.fork_at > Instant::ZERO {
                format!("; every seed shares the start-up to {}", at(self.fork_at))
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            out,
            "measured from {} ({}) to the end of the run",
            at(self.window.from),
            self.window.opened_by.label()
        );
        let _ = writeln!(out, "\ntimeline");
        for e in &self.timeline {
            let who = e.router.as_deref().unwrap_or("-");
            let what = match &e.event {
                TimelineEvent::Fault { kind, target } => fault_text(kind, target),
                TimelineEvent::Session {
                    session,
                    from,
                    to,
                    cause,
                } => {
                    let cause = cause
                        .map(|c| format!(" ({})", cause_text(session, c)))
                        .unwrap_or_default();
                    format!(
                        "bgp {session}: {} -> {}{cause}",
                        state_name(*from),
                        state_name(*to)
                    )
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
                    format!(
                        "gateway converged ({} programmed)",
                        fmt::count(*routes, "route")
                    )
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
                    format!("tcp {session}: {}", trouble_text(*trouble))
                }
                TimelineEvent::Congestion {
                    link,
                    offered_bps,
                    capacity_bps,
                } => {
                    if offered_bps > capacity_bps {
                        let bw = fmt::rate;
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
            let _ = writeln!(out, "  {:>12}  {who:<8} {what}", at(e.at));
        }
        let several = self.episodes.len() > 1;
        if several {
            let _ = writeln!(out, "\nepisodes (each measured from its fault)");
            for e in &self.episodes {
                let _ = writeln!(out, "  {:>2}  {:>12}  {}", e.index, at(e.at), e.label);
            }
        }
        if self.detections.is_empty() {
            let _ = writeln!(out, "\ndetection: no session went down");
        } else {
            let _ = writeln!(
                out,
                "\ndetection (per session end, from the fault of its episode)"
            );
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
                at(d.at),
                after,
                cause_text(&d.session, d.cause)
            );
        }
        if self.convergence.is_empty() {
            let _ = writeln!(
                out,
                "\nconvergence: no fault, or no forwarding change after one"
            );
        } else {
            let _ = writeln!(
                out,
                "\nconvergence (per router: its last forwarding change in the episode)"
            );
        }
        for c in &self.convergence {
            let label = self.episode_text(c.episode);
            let _ = writeln!(
                out,
                "  {:<8} {:>12} {:>10} after {label}",
                c.router,
                at(c.at),
                to_ms(c.after_fault)
            );
        }
        if !self.directions.is_empty() {
            let _ = writeln!(out, "\noutage (per direction: longest, total, flows hit)");
        }
        for d in &self.directions {
            if d.never_reachable {
                let _ = writeln!(
                    out,
                    "  {:<28} never reachable: none of its {} flows delivered from {} to the end",
                    d.direction,
                    d.flows,
                    at(self.window.from)
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
                        self.episode_text(e.episode),
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
                let _ = writeln!(
                    out,
                    "  {:<28} {:>10}  ({} bytes)",
                    b.direction,
                    fmt::bytes(b.bytes),
                    b.bytes
                );
            }
        }
        if !self.messages.is_empty() {
            let _ = writeln!(out, "\nmessages sent");
        }
        for m in &self.messages {
            let _ = writeln!(out, "  {:<14} {:>8}", m.kind.name(), m.count);
        }
        let flaps: u64 = self.flaps.iter().map(|f| f.count).sum();
        let _ = writeln!(out, "\nsession flaps: {flaps}");
        for f in &self.flaps {
            let _ = writeln!(out, "  {:<34} {:>4}", f.session, f.count);
        }
        if !self.isolation.is_empty() {
            let leaks: u64 = self.isolation.iter().map(|t| t.leaks).sum();
            let _ = writeln!(
                out,
                "\nisolation (routes of another tenant's address space in a tenant's routers, the whole run): {}",
                if leaks == 0 {
                    "none, every tenant isolated".to_owned()
                } else {
                    format!("{leaks}")
                }
            );
            for t in &self.isolation {
                let lost = if t.episodes_hit.is_empty() {
                    "lost no flow".to_owned()
                } else {
                    let eps: Vec<String> = t
                        .episodes_hit
                        .iter()
                        .map(|e| {
                            self.episodes
                                .iter()
                                .find(|x| x.index == *e)
                                .map_or_else(|| format!("{e}"), |x| format!("{e} ({})", x.label))
                        })
                        .collect();
                    format!("lost flows in episode {}", eps.join(", "))
                };
                let _ = writeln!(
                    out,
                    "  {:<12} {:>3} foreign of {:>6} routes installed, at {}; {lost}",
                    t.tenant,
                    t.leaks,
                    t.routes_checked,
                    t.routers.join(" ")
                );
                for l in &t.first_leaks {
                    let _ = writeln!(
                        out,
                        "    {} {} installed {} of tenant {}",
                        at(l.at),
                        l.router,
                        l.prefix,
                        l.owner
                    );
                }
            }
        }
        out
    }
}

impl RunReport {
    /// `silent on circuit.primary at 300.000s` for episode `n`, the instant rounded as
    /// [`crate::fmt`] rounds.
    #[must_use]
    pub fn episode_text(&self, n: u32) -> String {
        self.episodes.iter().find(|e| e.index == n).map_or_else(
            || format!("episode {n}"),
            |e| format!("{} at {}", e.label, at(e.at)),
        )
    }
}

pub(super) fn join_or(v: &[String], empty: &str) -> String {
    if v.is_empty() {
        empty.to_owned()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vpn_tunnel_going_down_is_not_called_carrier_loss() {
        assert_eq!(
            cause_text("vpn", DownCause::Carrier),
            "tunnel down: IKE dead-peer detection"
        );
        assert_eq!(
            cause_text("vpn.instance1", DownCause::Carrier),
            "tunnel down: IKE dead-peer detection"
        );
        assert_eq!(
            cause_text("circuit.primary.private", DownCause::Carrier),
            "carrier lost"
        );
    }

    #[test]
    fn a_restore_is_not_a_fault() {
        assert_eq!(fault_text("restore", "circuit"), "RESTORED circuit");
        assert_eq!(
            fault_text("msee_maintenance ends", "circuit.primary"),
            "END of msee_maintenance on circuit.primary"
        );
        assert_eq!(
            fault_text("silent", "circuit.primary"),
            "FAULT silent on circuit.primary"
        );
    }

    #[test]
    fn states_are_named_as_rfc_4271_names_them() {
        assert_eq!(state_name(SessionStateName::OpenSent), "OpenSent");
        assert_eq!(state_name(SessionStateName::Established), "Established");
    }
}
