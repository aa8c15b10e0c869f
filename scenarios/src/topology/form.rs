//! A [`Topology`] written out in the general form (`holdtime topology show --expand`): every
//! router, link, session and site, whoever made it.
//!
//! The text is TOML in the shape of the scenario keys `[[router]]`, `[[link]]`, `[[session]]`
//! and `[[site]]`, so that a reader sees what the ExpressRoute template made in the words they
//! would use to describe a network of their own. What only the template can make is marked
//! with a comment: a `# role:` on routers in Microsoft's roles (Azure's rules apply to them
//! and to the sessions towards them), devices that are not routers (a provider's switch, the
//! on-premises LAN, the internet), VNets behind the gateways. Names with dots are the
//! template's; a file of the general form names its own without dots.

use std::fmt::Write as _;

use super::{BfdParams, Families, Node, Role, SegmentKind, SessionEnd, SessionKind, Topology};
use sim_core::time::Duration;

/// A duration as scenario files write it (`180s`, `300ms`).
fn dur(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

fn node_name(topo: &Topology, n: &Node) -> String {
    match n {
        Node::Router(r) => topo.router_name(*r).to_owned(),
        Node::Transit(t) => t.clone(),
    }
}

/// `topo` in the general form.
#[must_use]
pub fn general_form(topo: &Topology) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# `{}` in the general form: every router, link, session and site the simulation runs.",
        topo.name
    );
    if topo.routers.iter().any(|r| r.role != Role::Router) {
        let _ = writeln!(
            o,
            "# Lines `# made by the template` mark what the ExpressRoute template made; Azure's rules\n\
             # apply to the routers in Microsoft's roles and to the sessions towards them."
        );
    }
    for r in &topo.routers {
        let _ = writeln!(o, "\n[[router]]\nname = \"{}\"", r.name);
        if r.role != Role::Router {
            let azure = if r.role.is_azure() {
                ", Microsoft's: Azure's rules apply"
            } else {
                ""
            };
            let _ = writeln!(o, "# role: {} (made by the template{azure})", r.role.name());
        }
        let _ = writeln!(o, "asn = {}", r.asn);
        let _ = writeln!(o, "router_id = \"{}\"", r.router_id);
        let _ = writeln!(o, "profile = \"{}\"", r.profile.name());
        let t = &r.timers;
        let _ = writeln!(o, "hold_time = \"{}\"", dur(t.hold_time));
        match t.keepalive {
            Some(k) => {
                let _ = writeln!(o, "keepalive = \"{}\"", dur(k));
            }
            None => {
                let _ = writeln!(o, "# keepalive: a third of the negotiated hold time");
            }
        }
        let _ = writeln!(o, "connect_retry = \"{}\"", dur(t.connect_retry));
        for (key, v) in [
            ("connect_delay", t.connect_delay),
            ("mrai", t.mrai),
            ("idle_hold", t.idle_hold),
            ("idle_hold_max", t.idle_hold_max),
            ("idle_hold_forget", t.idle_hold_forget),
            ("graceful_restart", t.graceful_restart),
            ("route_install", t.route_install),
        ] {
            if let Some(v) = v {
                let _ = writeln!(o, "{key} = \"{}\"", dur(v));
            }
        }
        if t.graceful_restart_notification {
            let _ = writeln!(o, "graceful_restart_notification = true");
        }
        let _ = writeln!(o, "maximum_paths = {}", r.max_paths);
        if let Some(BfdParams {
            interval,
            multiplier,
        }) = r.bfd
        {
            let _ = writeln!(
                o,
                "bfd = {{ interval = \"{}\", multiplier = {multiplier} }}",
                dur(interval)
            );
        }
    }
    for s in &topo.segments {
        let _ = writeln!(o, "\n[[link]]\nname = \"{}\"", s.name);
        let devices: Vec<String> = s
            .ends
            .iter()
            .filter_map(|e| match e {
                Node::Transit(t) => Some(t.clone()),
                Node::Router(_) => None,
            })
            .collect();
        if s.kind != SegmentKind::Link {
            let kind = format!("{:?}", s.kind).to_lowercase();
            let _ = writeln!(o, "# kind: {kind} (made by the template)");
        }
        if !devices.is_empty() {
            let verb = if devices.len() > 1 {
                "are devices"
            } else {
                "is a device"
            };
            let _ = writeln!(
                o,
                "# {} {verb}, not a router: it hides carrier loss from what lies beyond",
                devices.join(" and ")
            );
        }
        let _ = writeln!(
            o,
            "ends = [\"{}\", \"{}\"]",
            node_name(topo, &s.ends[0]),
            node_name(topo, &s.ends[1])
        );
        let p = &s.props;
        let _ = writeln!(o, "delay = \"{}\"", dur(p.delay));
        if !p.jitter.is_zero() {
            let _ = writeln!(o, "jitter = \"{}\"", dur(p.jitter));
        }
        if p.loss != crate::units::LossModel::NONE {
            let _ = writeln!(o, "# loss: {:?}", p.loss);
        }
        if let Some(b) = p.bandwidth {
            let _ = writeln!(o, "bandwidth = \"{b}\"");
        }
    }
    for s in &topo.sessions {
        let _ = writeln!(o, "\n[[session]]\nname = \"{}\"", s.name);
        if s.kind != SessionKind::User {
            let azure = if s.ends.iter().any(|e| {
                topo.routers
                    .get(e.router.0)
                    .is_some_and(|r| r.role.is_azure())
            }) {
                "; Azure's rules apply"
            } else {
                ""
            };
            let kind = format!("{:?}", s.kind).to_lowercase();
            let _ = writeln!(o, "# kind: {kind} (made by the template{azure})");
        }
        let names = [
            topo.router_name(s.ends[0].router),
            topo.router_name(s.ends[1].router),
        ];
        let _ = writeln!(o, "ends = [\"{}\", \"{}\"]", names[0], names[1]);
        let path: Vec<&str> = s
            .path
            .iter()
            .filter_map(|p| topo.segments.get(p.0).map(|g| g.name.as_str()))
            .collect();
        let _ = writeln!(o, "path = {}", list(&path));
        let _ = writeln!(o, "# addresses: {} and {}", s.ends[0].addr, s.ends[1].addr);
        if let Some(b) = s.bfd {
            let _ = writeln!(o, "bfd = {b}");
        }
        if s.md5.is_some() {
            let _ = writeln!(o, "md5 = \"...\"");
        }
        match s.families {
            Some(Families::Ipv4) | None => {}
            Some(Families::Ipv6) => {
                let _ = writeln!(o, "families = [\"ipv6\"]");
            }
            Some(Families::Both) => {
                let _ = writeln!(o, "families = [\"ipv4\", \"ipv6\"]");
            }
        }
        for (name, e) in names.iter().zip(&s.ends) {
            if let Some(line) = end_policy(e) {
                let _ = writeln!(o, "policy.{name} = {{ {line} }}");
            }
            if !e.announces.is_empty() {
                let _ = writeln!(o, "# {name} originates {}", list(&e.announces));
            }
        }
    }
    for site in &topo.sites {
        let routers: Vec<&str> = site.routers.iter().map(|r| topo.router_name(*r)).collect();
        let _ = writeln!(
            o,
            "\n[[site]]\nname = \"{}\"\nrouters = {}\nprefixes = {}",
            site.name,
            list(&routers),
            list(&site.prefixes)
        );
    }
    if topo.has_onprem() {
        let first_hop = if topo.routers.iter().any(|r| r.role == Role::Ce) {
            Role::Ce
        } else {
            Role::VpnDevice
        };
        let routers: Vec<&str> = topo
            .routers
            .iter()
            .filter(|r| r.role == first_hop)
            .map(|r| r.name.as_str())
            .collect();
        let mut prefixes: Vec<String> = topo
            .onprem_prefixes
            .iter()
            .map(ToString::to_string)
            .collect();
        prefixes.extend(topo.onprem_ipv6_prefixes.iter().map(ToString::to_string));
        let _ = writeln!(
            o,
            "\n# made by the template: on premises, its hosts reaching {}\n[[site]]\nname = \"onprem\"\nrouters = {}\nprefixes = {}",
            routers.join(" and "),
            list(&routers),
            list(&prefixes)
        );
    }
    for v in &topo.vnets {
        let gateways: Vec<&str> = topo
            .er_gateway_router()
            .into_iter()
            .chain(topo.vpn.as_ref().map(|g| g.router))
            .map(|r| topo.router_name(r))
            .collect();
        let mut prefixes: Vec<String> = v.prefixes.iter().map(ToString::to_string).collect();
        prefixes.extend(v.ipv6_prefixes.iter().map(ToString::to_string));
        let _ = writeln!(
            o,
            "\n# made by the template: a VNet behind {} (ExpressRoute wins over the VPN for the same prefix)\n[[site]]\nname = \"{}\"\nrouters = {}\nprefixes = {}",
            gateways.join(" and "),
            v.name,
            list(&gateways),
            list(&prefixes)
        );
    }
    o
}

/// The policy keys of one session end, if any is set.
fn end_policy(e: &SessionEnd) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(v) = e.local_pref {
        parts.push(format!("local_pref = {v}"));
    }
    if let Some(v) = e.weight {
        parts.push(format!("weight = {v}"));
    }
    if let Some(v) = e.policy.med {
        parts.push(format!("med = {v}"));
    }
    if e.prepend > 0 {
        parts.push(format!("prepend = {}", e.prepend));
    }
    if let Some(v) = &e.policy.import {
        parts.push(format!("import = {}", list(v)));
    }
    if let Some(v) = &e.policy.export {
        parts.push(format!("export = {}", list(v)));
    }
    if let Some(v) = e.max_prefixes {
        parts.push(format!("max_prefixes = {v}"));
    }
    if let Some(v) = e.policy.max_prefix_restart {
        parts.push(format!("max_prefix_restart = \"{}\"", dur(v)));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}
