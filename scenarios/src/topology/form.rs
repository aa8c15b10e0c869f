//! A [`Topology`] written out in the general form (`holdtime topology show --expand`): every
//! router, link, session and site, whoever made it, as a file that loads back into the same
//! network.
//!
//! The text is TOML in the shape of the scenario keys `[[router]]`, `[[link]]`, `[[session]]`
//! and `[[site]]`, so that a reader sees what the ExpressRoute template made in the words they
//! would use to describe a network of their own. What the template makes beyond those is
//! written with the keys of the template written out (`role`, `kind`, `addresses`,
//! `originates`, `peering`, `network`, `devices`, `[onprem]`, `[[vnet]]`, `[[circuit]]`,
//! `[er_gateway]`, `[vpn_gateway]`, `[internet]`; `validate/written.rs`), every value
//! explicit, so that loading the text gives an equal [`Topology`] (`tests/tests/roundtrip.rs`).
//! [`general_scenario`] writes a whole scenario: its network so, its faults, probes and
//! expectations as written.

use std::fmt::Write as _;

use super::{
    BfdParams, Families, Node, Role, RouterIx, SegmentKind, SessionEnd, SessionKind, Sku, Topology,
    VpnMode,
};
use crate::units::{LossModel, TimeSpec};
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

/// A time as scenario files write it: `"60s"`, or `{ min = "10s", max = "15s" }`.
fn time_spec(t: TimeSpec) -> String {
    match t {
        TimeSpec::Fixed(d) => format!("\"{}\"", dur(d)),
        TimeSpec::Range { min, max } => {
            format!("{{ min = \"{}\", max = \"{}\" }}", dur(min), dur(max))
        }
    }
}

/// A loss model as scenario files write it.
fn loss(l: LossModel) -> String {
    match l {
        LossModel::Bernoulli(p) => format!("{p:?}"),
        LossModel::GilbertElliott {
            mean_good,
            mean_bad,
            loss_good,
            loss_bad,
        } => format!(
            "{{ mean_good = \"{}\", mean_bad = \"{}\", loss_good = {loss_good:?}, loss_bad = {loss_bad:?} }}",
            dur(mean_good),
            dur(mean_bad)
        ),
        LossModel::GilbertElliottPerPacket {
            p,
            r,
            loss_good,
            loss_bad,
        } => format!(
            "{{ p = {p:?}, r = {r:?}, loss_good = {loss_good:?}, loss_bad = {loss_bad:?} }}"
        ),
    }
}

/// A TOML basic string (quotes and backslashes escaped).
fn quoted(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(o, "\\u{:04X}", u32::from(c));
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// `topo` in the general form: a file that loads back into the same network (with
/// `name` and `duration` added at its top, and the scenario's faults, probes and
/// expectations after it).
#[must_use]
#[allow(
    clippy::too_many_lines,
    reason = "one table after the other, in the order a reader meets them"
)]
pub fn general_form(topo: &Topology) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# `{}` in the general form: every router, link, session and site the simulation runs.\n\
         # It loads back: with a `name` and `duration` at the top (and the faults, probes and\n\
         # expectations after it), `holdtime run` gives the same report as the original.",
        topo.name
    );
    let template = topo.routers.iter().any(|r| r.role != Role::Router);
    if template {
        let _ = writeln!(
            o,
            "# `role` and `kind` mark what the ExpressRoute template made; Azure's rules apply to\n\
             # the routers in Microsoft's roles (msee, er_gateway, vpn_gateway) and to the sessions\n\
             # towards them, whether the template or a file made them."
        );
    }
    let _ = writeln!(o, "\nnetwork = {}", quoted(&topo.name));
    let mut devices: Vec<&str> = Vec::new();
    for s in &topo.segments {
        for e in &s.ends {
            if let Node::Transit(t) = e
                && !devices.contains(&t.as_str())
            {
                devices.push(t);
            }
        }
    }
    if !devices.is_empty() {
        let _ = writeln!(
            o,
            "# not routers: each hides carrier loss from what lies beyond it\ndevices = {}",
            list(&devices)
        );
    }
    if topo.has_onprem()
        || topo.customer_asn != 0
        || !topo.onprem_prefixes.is_empty()
        || !topo.public_prefixes.is_empty()
    {
        let mut prefixes: Vec<String> = topo
            .onprem_prefixes
            .iter()
            .map(ToString::to_string)
            .collect();
        prefixes.extend(topo.onprem_ipv6_prefixes.iter().map(ToString::to_string));
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
        let _ = writeln!(
            o,
            "\n# on premises: its hosts reach {}\n[onprem]\nasn = {}\nprefixes = {}",
            if routers.is_empty() {
                "no router yet".to_owned()
            } else {
                routers.join(" and ")
            },
            topo.customer_asn,
            list(&prefixes)
        );
        if !topo.public_prefixes.is_empty() {
            let _ = writeln!(o, "public_prefixes = {}", list(&topo.public_prefixes));
        }
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
            "\n# a VNet behind {} (ExpressRoute wins over the VPN for the same prefix)\n[[vnet]]\nname = {}\nprefixes = {}",
            if gateways.is_empty() {
                "no gateway".to_owned()
            } else {
                gateways.join(" and ")
            },
            quoted(&v.name),
            list(&prefixes)
        );
        for r in &v.routes {
            let _ = write!(
                o,
                "[[vnet.route]]\nprefix = {}\nnext_hop_type = {}\n",
                quoted(&r.prefix.to_string()),
                quoted(r.next_hop.name())
            );
            if let crate::topology::NextHop::VirtualAppliance(a) = r.next_hop {
                let _ = writeln!(o, "next_hop_address = {}", quoted(&a.to_string()));
            }
        }
    }
    // A site made by a router's own `prefixes` is written on that router.
    let own_site = |r: RouterIx, name: &str| {
        topo.sites
            .iter()
            .find(|s| s.name == name && s.routers == [r])
    };
    for (ix, r) in topo.routers.iter().enumerate() {
        let _ = writeln!(o, "\n[[router]]\nname = {}", quoted(&r.name));
        if r.role != Role::Router {
            let azure = if r.role.is_azure() {
                "  # Microsoft's: Azure's rules apply"
            } else {
                ""
            };
            let _ = writeln!(o, "role = \"{}\"{azure}", r.role.name());
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
            ("route_install_per_prefix", t.route_install_per_prefix),
        ] {
            if let Some(v) = v {
                let _ = writeln!(o, "{key} = \"{}\"", dur(v));
            }
        }
        if t.graceful_restart_notification {
            let _ = writeln!(o, "graceful_restart_notification = true");
        }
        let _ = writeln!(o, "maximum_paths = {}", r.max_paths);
        // Absent: no BFD (an MSEE always has it: it cannot be turned off).
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
        if let Some(site) = own_site(RouterIx(ix), &r.name) {
            let _ = writeln!(o, "prefixes = {}", list(&site.prefixes));
        }
    }
    for s in &topo.segments {
        let _ = writeln!(o, "\n[[link]]\nname = {}", quoted(&s.name));
        if s.kind != SegmentKind::Link {
            let kind = format!("{:?}", s.kind).to_lowercase();
            let _ = writeln!(o, "kind = \"{kind}\"");
        }
        let _ = writeln!(
            o,
            "ends = [{}, {}]",
            quoted(&node_name(topo, &s.ends[0])),
            quoted(&node_name(topo, &s.ends[1]))
        );
        let p = &s.props;
        let _ = writeln!(o, "delay = \"{}\"", dur(p.delay));
        if !p.jitter.is_zero() {
            let _ = writeln!(o, "jitter = \"{}\"", dur(p.jitter));
        }
        if p.loss != LossModel::NONE {
            let _ = writeln!(o, "loss = {}", loss(p.loss));
        }
        if let Some(b) = p.bandwidth {
            let _ = writeln!(o, "bandwidth = \"{b}\"");
        }
    }
    for s in &topo.sessions {
        let path: Vec<&str> = s
            .path
            .iter()
            .filter_map(|p| topo.segments.get(p.0).map(|g| g.name.as_str()))
            .collect();
        // A session of the general form named after its one link is written by its link
        // (a `name` would have to be new).
        let by_link = s.kind == SessionKind::User && path == [s.name.as_str()];
        if by_link {
            let _ = writeln!(o, "\n[[session]]");
        } else {
            let _ = writeln!(o, "\n[[session]]\nname = {}", quoted(&s.name));
        }
        if s.kind != SessionKind::User {
            let kind = format!("{:?}", s.kind).to_lowercase();
            let _ = writeln!(o, "kind = \"{kind}\"");
        }
        let names = [
            topo.router_name(s.ends[0].router),
            topo.router_name(s.ends[1].router),
        ];
        let _ = writeln!(o, "ends = [{}, {}]", quoted(names[0]), quoted(names[1]));
        let _ = writeln!(o, "passive = {}", quoted(names[1]));
        if by_link {
            let _ = writeln!(o, "link = {}", quoted(&s.name));
        } else {
            let _ = writeln!(o, "path = {}", list(&path));
        }
        let _ = writeln!(
            o,
            "addresses = [\"{}\", \"{}\"]",
            s.ends[0].addr, s.ends[1].addr
        );
        if let Some((c, side, kind)) = s.on {
            let circuit = topo.circuits.get(c.0).map_or("", |c| c.name.as_str());
            let _ = writeln!(o, "peering = \"{circuit}.{}.{}\"", side.name(), kind.name());
        }
        if let Some(v) = s.vlan {
            let _ = writeln!(o, "vlan = {v}");
        }
        if let Some(b) = s.bfd {
            let _ = writeln!(o, "bfd = {b}");
        }
        if let Some(m) = &s.md5 {
            let _ = writeln!(o, "md5 = {}", quoted(m));
        }
        match s.families {
            None => {}
            Some(Families::Ipv4) => {
                let _ = writeln!(o, "families = [\"ipv4\"]");
            }
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
                let _ = writeln!(o, "originates.{name} = {}", list(&e.announces));
            }
        }
    }
    let tenant_vnet = |i: usize| topo.tenants.iter().any(|t| t.vnet == i);
    for (i, site) in topo.sites.iter().enumerate() {
        if site.routers.len() == 1 && own_site(site.routers[0], &site.name).is_some()
            || tenant_vnet(i)
        {
            continue;
        }
        let routers: Vec<&str> = site.routers.iter().map(|r| topo.router_name(*r)).collect();
        let _ = writeln!(
            o,
            "\n[[site]]\nname = {}\nrouters = {}\nprefixes = {}",
            quoted(&site.name),
            list(&routers),
            list(&site.prefixes)
        );
    }
    for c in &topo.circuits {
        let _ = writeln!(
            o,
            "\n# an ExpressRoute circuit: Azure's gates on the sessions with `peering = \"{}.SIDE.PEERING\"`\n[[circuit]]\nname = {}\nbandwidth = \"{}\"\nsku = \"{}\"\nprovider_state = \"{:?}\"\nenabled = {}\nweight = {}",
            c.name,
            quoted(&c.name),
            c.bandwidth,
            match c.sku {
                Sku::Standard => "standard",
                Sku::Premium => "premium",
            },
            c.provider_state,
            c.enabled,
            c.weight
        );
        for l in &c.links {
            let pe =
                l.pe.map(|p| format!("pe = {}, ", quoted(topo.router_name(p))))
                    .unwrap_or_default();
            let seg = |x: super::SegmentIx| topo.segments.get(x.0).map_or("", |g| g.name.as_str());
            let _ = writeln!(
                o,
                "{} = {{ ce = {}, {pe}msee = {}, access = {}, core = {} }}",
                l.side.name(),
                quoted(topo.router_name(l.ce)),
                quoted(topo.router_name(l.msee)),
                quoted(seg(l.access)),
                quoted(seg(l.core))
            );
        }
        for p in &c.peerings {
            let _ = writeln!(
                o,
                "\n[[circuit.peering]]\nkind = \"{}\"\nsubnets = {}\nvlan = {}\npeer_asn = {}\npublic_prefixes_state = \"{:?}\"\nenabled = {}",
                p.kind.name(),
                list(&p.subnets),
                p.vlan,
                p.peer_asn,
                p.public_prefixes_state,
                p.enabled
            );
            if let Some(v6) = &p.ipv6_subnets {
                let _ = writeln!(o, "ipv6_subnets = {}", list(v6));
            }
            if let Some(m) = &p.md5 {
                let _ = writeln!(o, "md5 = {}", quoted(m));
            }
            if let Some(f) = &p.route_filter {
                let communities: Vec<String> =
                    f.iter().map(|c| super::community_text(*c)).collect();
                let _ = writeln!(o, "route_filter = {}", list(&communities));
            }
        }
    }
    if let Some(g) = &topo.er_gateway {
        let _ = writeln!(
            o,
            "\n[er_gateway]\nrouter = {}\nconvergence_delay = {}\nmax_prefixes_to_onprem = {}\nplanned_failover = {}\nunplanned_failover = {}",
            quoted(topo.router_name(g.router)),
            time_spec(g.convergence_delay),
            g.max_prefixes_to_onprem,
            time_spec(g.planned_failover),
            time_spec(g.unplanned_failover)
        );
    }
    for t in &topo.tenants {
        let circuits: Vec<&str> = t
            .circuits
            .iter()
            .filter_map(|c| topo.circuits.get(c.0).map(|c| c.name.as_str()))
            .collect();
        let vnet = topo.sites.get(t.vnet);
        let g = &t.gateway;
        let _ = writeln!(
            o,
            "\n# a Cloud Solution Provider's customer: its hosts (the site `{}`), its own circuits,\n# and its VNet behind its own gateway\n[[tenant]]\nname = {}\nvnet = {}\nvnet_prefixes = {}\ncircuits = {}\ngateway = {}\nconvergence_delay = {}\nplanned_failover = {}\nunplanned_failover = {}",
            t.name,
            quoted(&t.name),
            quoted(vnet.map_or("", |s| s.name.as_str())),
            list(vnet.map_or(&[][..], |s| s.prefixes.as_slice())),
            list(&circuits),
            quoted(topo.router_name(g.router)),
            time_spec(g.convergence_delay),
            time_spec(g.planned_failover),
            time_spec(g.unplanned_failover)
        );
    }
    for c in &topo.chassis {
        let routers: Vec<&str> = c.routers.iter().map(|r| topo.router_name(*r)).collect();
        let _ = writeln!(
            o,
            "\n# one box whose VRFs fail together\n[[chassis]]\nname = {}\nrouters = {}",
            quoted(&c.name),
            list(&routers)
        );
    }
    if let Some(g) = &topo.vpn {
        let tunnels: Vec<&str> = g
            .tunnels
            .iter()
            .filter_map(|t| topo.segments.get(t.0).map(|s| s.name.as_str()))
            .collect();
        let _ = writeln!(
            o,
            "\n[vpn_gateway]\nrouter = {}\ndevice = {}\nmode = \"{}\"\ndpd_timeout = \"{}\"\nplanned_failover = {}\nunplanned_failover = {}\ntunnels = {}\nmax_prefixes = {}",
            quoted(topo.router_name(g.router)),
            quoted(topo.router_name(g.device)),
            match g.mode {
                VpnMode::ActiveActive => "active-active",
                VpnMode::ActiveStandby => "active-standby",
            },
            dur(g.dpd_timeout),
            time_spec(g.planned_failover),
            time_spec(g.unplanned_failover),
            list(&tunnels),
            g.max_prefixes
        );
    }
    if let Some(i) = &topo.internet {
        let _ = writeln!(
            o,
            "\n[internet]\nlink = {}\nmicrosoft_prefixes = {}\nshares_edge_with_microsoft_peering = {}",
            quoted(
                topo.segments
                    .get(i.segment.0)
                    .map_or("", |s| s.name.as_str())
            ),
            list(&i.microsoft_prefixes),
            i.shares_edge_with_microsoft_peering
        );
        if let Some(f) = i.forced_tunneling {
            let _ = writeln!(
                o,
                "forced_tunneling = {{ expressroute = {}, vpn = {} }}",
                f.expressroute,
                quoted(f.vpn.name())
            );
        }
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

/// The top-level keys of a scenario that do not describe the network: kept as written when
/// a scenario is written out in the general form. Every other key (`topology`, `[bgp]`,
/// `[bfd]`, `[policy]`, `[prefixes]`, `[[link]]`, `[[router]]`, ...) is folded into the
/// network [`general_form`] prints.
const KEPT_SCALARS: [&str; 5] = ["name", "description", "duration", "seed", "measure_from"];
/// The tables kept (after the network).
const KEPT_TABLES: [&str; 5] = ["tcp", "fault", "probe", "expect", "audit"];

/// A whole scenario in the general form: its `name`, `description`, `duration`, `seed` and
/// `measure_from`, then its network as [`general_form`] prints it (`topo`, the network the
/// scenario's `text` validated into), then its `[tcp]`, faults, probes, expectations and
/// `[audit]` as written. Loading the result gives the same network, and running it the same
/// report.
///
/// # Errors
///
/// When `text` is not TOML or its kept parts cannot be written back (the message says why).
pub fn general_scenario(text: &str, topo: &Topology) -> Result<String, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_owned())?;
    // Key by key, in the order a scenario file is read (a table serialises sorted).
    let pick = |keys: &[&str]| -> Result<String, String> {
        let mut o = String::new();
        for k in keys {
            if let Some(v) = table.get(*k) {
                let one: toml::Table = std::iter::once(((*k).to_owned(), v.clone())).collect();
                let text = toml::to_string(&one).map_err(|e| e.to_string())?;
                if !o.is_empty() && text.starts_with('[') {
                    o.push('\n');
                }
                o.push_str(&text);
            }
        }
        Ok(o)
    };
    let head = pick(&KEPT_SCALARS)?;
    let tail = pick(&KEPT_TABLES)?;
    let mut o = head;
    o.push('\n');
    o.push_str(&general_form(topo));
    if !tail.trim().is_empty() {
        o.push_str("\n# the scenario's own parts, as written\n");
        o.push_str(&tail);
    }
    Ok(o)
}
