//! The plain-words paragraph `holdtime run` prints before the timeline: what was done to the
//! network, who noticed and how fast, and what the traffic saw. Built from the typed
//! [`RunReport`] only; numbers are formatted by [`crate::fmt`].

use super::text::cause_text;
use super::{Detection, DownCause, RunReport};
use crate::fmt;

/// At most this many episodes are told in the paragraph; the rest are counted.
const EPISODES_TOLD: usize = 3;
/// At most this many session ends are named per episode.
const ENDS_NAMED: usize = 4;
/// The paragraph is wrapped at this width.
const WIDTH: usize = 92;

/// What a fault did, in words: `circuit.primary went silent`.
fn what_happened(label: &str) -> String {
    let (kind, target) = label
        .split_once(" on ")
        .map_or((label, ""), |(k, t)| (k, t));
    let target = if target.is_empty() {
        "the network"
    } else {
        target
    };
    match kind {
        "silent" => format!("{target} went silent (packets dropped, carrier still up)"),
        "down" => format!("{target} went down (carrier lost)"),
        "restore" => format!("{target} was restored"),
        "loss" => format!("{target} started losing packets"),
        "latency" => format!("{target}'s delay changed"),
        "router_crash" => format!("{target} crashed"),
        "router_restart" => format!("{target} restarted"),
        "msee_maintenance" => format!("{target} went into maintenance"),
        "msee_maintenance ends" => format!("{target}'s maintenance ended"),
        "bgp_disconnect" => format!("the BGP session {target} was reset"),
        "vpn_tunnel_down" => format!("{target} went down (VPN tunnel)"),
        // `gateway.vpn` names the gateway (one of its instances fails); `gateway.vpn.instance0`
        // names the instance itself.
        "gateway_instance_failure" if target.contains(".instance") => format!("{target} failed"),
        "gateway_instance_failure" => format!("an instance of {target} failed"),
        "deprovision" => format!("{target} was deprovisioned"),
        "prefix_flood" => format!("a flood of prefixes arrived on {target}"),
        "bandwidth_change" => format!("{target}'s bandwidth was changed"),
        "sku_change" => format!("{target}'s SKU was changed"),
        k if k.starts_with("sku_change: ") => {
            format!("{target}'s SKU: {}", &k["sku_change: ".len()..])
        }
        k if k.starts_with("bandwidth_change: ") => {
            format!("{target}'s bandwidth: {}", &k["bandwidth_change: ".len()..])
        }
        other => format!("{} on {target}", other.replace('_', " ")),
    }
}

/// `after 2m23s (hold timer expired (sent 4/0))` for one detection.
fn noticed(d: &Detection) -> String {
    let after = match d.after_fault {
        None => String::new(),
        Some(a) if a.is_zero() => " at once".to_owned(),
        Some(a) => format!(" after {}", fmt::duration(a)),
    };
    format!("{} noticed on {}{after} ({})", d.router, d.session, how(d))
}

/// How a session end noticed, short.
fn how(d: &Detection) -> String {
    match d.cause {
        DownCause::HoldTimer => "its hold timer".to_owned(),
        DownCause::Bfd => "BFD".to_owned(),
        other => cause_text(&d.session, other),
    }
}

impl RunReport {
    /// One paragraph in plain words: each fault (the first few), which session ends noticed
    /// it and how, when forwarding settled, and what each direction's traffic lost. Wrapped
    /// at 92 columns, ending with a newline.
    #[must_use]
    pub fn summary_text(&self) -> String {
        let mut sentences: Vec<String> = Vec::new();
        if self.episodes.is_empty() {
            let flaps: u64 = self.flaps.iter().map(|f| f.count).sum();
            sentences.push(format!(
                "No fault was scheduled in the {} simulated; {}.",
                fmt::duration(self.duration),
                match flaps {
                    0 => "no session left Established".to_owned(),
                    1 => "a session left Established once".to_owned(),
                    n => format!("sessions left Established {n} times"),
                }
            ));
        }
        // Sessions that went down with no fault to blame (a lossy link, a flood ...).
        let unprovoked: Vec<&Detection> = self
            .detections
            .iter()
            .filter(|d| d.episode.is_none())
            .collect();
        if !unprovoked.is_empty() {
            let named: Vec<String> = unprovoked
                .iter()
                .take(ENDS_NAMED)
                .map(|d| {
                    format!(
                        "{} on {} at {} ({})",
                        d.router,
                        d.session,
                        fmt::at(d.at),
                        how(d)
                    )
                })
                .collect();
            let more = unprovoked.len().saturating_sub(ENDS_NAMED);
            sentences.push(format!(
                "With no fault to blame, {} went down: {}{}.",
                if unprovoked.len() == 1 {
                    "a session end"
                } else {
                    "session ends"
                },
                named.join("; "),
                if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if self.episodes.is_empty() {
            let hit: Vec<String> = self
                .directions
                .iter()
                .filter(|d| d.flows_hit > 0 && !d.never_reachable)
                .map(|d| {
                    format!(
                        "{} lost {} of {} flows, the longest for {}",
                        d.direction,
                        d.flows_hit,
                        d.flows,
                        fmt::duration(d.longest)
                    )
                })
                .collect();
            if !hit.is_empty() {
                sentences.push(format!("Traffic: {}.", hit.join("; ")));
            }
        }
        for ep in self.episodes.iter().take(EPISODES_TOLD) {
            let mut s = format!("At {}, {}.", fmt::at(ep.at), what_happened(&ep.label));
            let mut ends: Vec<&Detection> = self
                .detections
                .iter()
                .filter(|d| d.episode == Some(ep.index))
                .collect();
            ends.sort_by_key(|d| d.at);
            // A repair that takes nothing down needs no "nothing went down".
            let repair = ep.label.starts_with("restore")
                || ep.label.starts_with("router_restart")
                || ep.label.contains(" ends");
            if ends.is_empty() {
                if !repair {
                    s.push_str(" No BGP session went down.");
                }
            } else {
                let named: Vec<String> = ends.iter().take(ENDS_NAMED).map(|d| noticed(d)).collect();
                let more = ends.len().saturating_sub(ENDS_NAMED);
                s.push_str(&format!(" Then {}", named.join("; ")));
                if more > 0 {
                    s.push_str(&format!(
                        "; and {more} more session end{}",
                        if more == 1 { "" } else { "s" }
                    ));
                }
                s.push('.');
            }
            if let Some(last) = self
                .convergence
                .iter()
                .filter(|c| c.episode == ep.index)
                .max_by_key(|c| c.after_fault)
            {
                let when = if last.after_fault.is_zero() {
                    "at once".to_owned()
                } else {
                    format!("{} after the fault", fmt::duration(last.after_fault))
                };
                s.push_str(&format!(
                    " Forwarding settled {when} ({} last).",
                    last.router
                ));
            }
            let mut hit = Vec::new();
            for d in &self.directions {
                for e in d.episodes.iter().filter(|e| e.episode == ep.index) {
                    let how = if e.open_flows > 0 {
                        format!(
                            "{} still down at the end (the longest {} so far)",
                            fmt::count(u64::from(e.open_flows), "flow"),
                            fmt::duration(e.longest)
                        )
                    } else {
                        format!("up to {}", fmt::duration(e.longest))
                    };
                    hit.push(format!(
                        "{} lost {} of {} flows, {how}",
                        d.direction, e.flows_hit, d.flows
                    ));
                }
            }
            if hit.is_empty() {
                if !repair {
                    s.push_str(" No traffic lost its path.");
                }
            } else {
                s.push_str(&format!(" Traffic: {}.", hit.join("; ")));
            }
            sentences.push(s);
        }
        if self.episodes.len() > EPISODES_TOLD {
            sentences.push(format!(
                "{} more faults follow in the timeline.",
                self.episodes.len() - EPISODES_TOLD
            ));
        }
        for d in self.directions.iter().filter(|d| d.never_reachable) {
            sentences.push(format!(
                "{} was never reachable: none of its flows was delivered in the window.",
                d.direction
            ));
        }
        wrap(&sentences.join(" "), WIDTH)
    }
}

/// Greedy word wrap at `width` columns; every line ends with a newline.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_told_as_what_happened() {
        assert_eq!(
            what_happened("silent on circuit.primary"),
            "circuit.primary went silent (packets dropped, carrier still up)"
        );
        assert_eq!(
            what_happened("gateway_instance_failure on gateway.vpn"),
            "an instance of gateway.vpn failed"
        );
        assert_eq!(
            what_happened("gateway_instance_failure on gateway.vpn.instance0"),
            "gateway.vpn.instance0 failed"
        );
        assert_eq!(
            what_happened("public_prefixes_state on circuit"),
            "public prefixes state on circuit"
        );
    }

    #[test]
    fn wrapping_keeps_every_word_and_the_width() {
        let text = "a bb ccc dddd eeeee ffffff";
        let w = wrap(text, 8);
        assert!(w.lines().all(|l| l.len() <= 8), "{w}");
        assert_eq!(w.split_whitespace().collect::<Vec<_>>().join(" "), text);
    }
}
