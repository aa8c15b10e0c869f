//! The general form: a network the scenario describes itself, router by router.
//!
//! `[[router]]`, `[[link]]` (with `ends`), `[[session]]` and `[[site]]` add routers, links,
//! sessions and probe endpoints to the [`Topology`], after the ExpressRoute template (when the
//! file has a `topology`) or on their own. They are the same kinds of thing the template makes
//! (routers, segments, sessions) and the simulator treats them alike; what differs is whose
//! rules apply. A router of the general form has [`Role::Router`]: its timers, BFD and policy
//! are what the file says, bounded only by the RFCs (hold 0 or ≥ 3 s, RFC 4271 §4.2; a BFD
//! multiplier ≥ 1, RFC 5880 §4.1), never by Azure's floors, which apply to the routers the
//! template makes in Microsoft's roles and to the sessions towards them. A session of the
//! general form may therefore not end on one of Microsoft's routers unless it is of one of the
//! template's kinds (`kind = "peering"`, ...), whose rules then apply: a `user` session there
//! would take Azure's rules away from a session Azure runs. A `[[router]]` with a `role`, a
//! `[[link]]` or `[[session]]` with a `kind`, and the other parts of the template written out
//! are `written.rs`'s.
//!
//! Defaults, each the plain choice a lab's configuration would start from:
//!
//! - a router's hold time, keepalive and ConnectRetry are its profile's defaults (BIRD 240 s,
//!   FRR and Cisco 180 s, Junos and RFC 4271 90 s), then `[bgp]`'s global keys, then its own;
//! - a router's BFD is off unless its `bfd` table (or `[bfd] enabled = true`) turns it on; a
//!   session runs BFD when both of its ends have it, unless the session says `bfd = false`;
//! - a link has 1 ms of delay each way, no jitter, no loss and no bandwidth limit;
//! - session addresses are synthetic (RFC 6598 shared space, 100.64.0.0/10, a /30 per session;
//!   `fd00::/8` for IPv6-only sessions): they identify the session and are never routed;
//! - a router with `prefixes` is also a site under its own name (hosts behind it).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use sim_core::time::Duration;

use super::{Validator, root};
use crate::diag::{Diagnostic, KeyPath};
use crate::spec::{AddressFamily, BgpRouterOverride, LinkOverride, RouterSpec, ScenarioSpec};
use crate::topology::{
    BfdParams, BgpTimers, EndPolicy, Families, LinkProps, Node, Profile, Role, Router, RouterIx,
    Segment, SegmentIx, SegmentKind, Session, SessionEnd, SessionKind, Site, Topology,
};
use crate::units::LossModel;

/// A link's one-way delay when the file gives none.
const LINK_DELAY: Duration = Duration::from_millis(1);

/// An empty network, for a file with no ExpressRoute template.
pub(super) fn empty_topology() -> Topology {
    Topology {
        name: "general".to_owned(),
        provider: crate::topology::ProviderKind::Layer2,
        customer_asn: 0,
        routers: Vec::new(),
        sessions: Vec::new(),
        segments: Vec::new(),
        circuits: Vec::new(),
        onprem_prefixes: Vec::new(),
        onprem_ipv6_prefixes: Vec::new(),
        public_prefixes: Vec::new(),
        er_gateway: None,
        vpn: None,
        vnets: Vec::new(),
        internet: None,
        sites: Vec::new(),
        tenants: Vec::new(),
        chassis: Vec::new(),
    }
}

/// The timers a router of the general form starts from: its profile's defaults.
fn profile_timers(profile: Profile) -> BgpTimers {
    let b = profile.behaviour();
    BgpTimers {
        keepalive: b.keepalive,
        hold_time: b.hold_time,
        connect_retry: b.connect_retry,
        connect_delay: None,
        mrai: None,
        idle_hold: None,
        idle_hold_max: None,
        idle_hold_forget: None,
        graceful_restart: None,
        graceful_restart_notification: false,
        route_install: None,
        route_install_per_prefix: None,
    }
}

/// Whether two prefixes share an address.
fn overlap(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

impl Validator {
    /// Adds the general form's routers, links, sessions and sites to `topo`.
    pub(super) fn general(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        self.routers(spec, topo);
        self.links(spec, topo);
        self.sessions(spec, topo);
        self.sites(spec, topo);
    }

    /// A new name must be simple and not name anything that exists.
    pub(super) fn fresh_name(&mut self, topo: &Topology, name: &str, path: &KeyPath) -> bool {
        self.fresh_name_as(topo, name, path, false)
    }

    /// [`Self::fresh_name`]; a link or session of one of the template's kinds (`template`)
    /// may also have dots in its name (`circuit.primary.access`) and be called `internet`.
    pub(super) fn fresh_name_as(
        &mut self,
        topo: &Topology,
        name: &str,
        path: &KeyPath,
        template: bool,
    ) -> bool {
        let simple = !name.is_empty()
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && name.chars().all(|c| {
                c.is_ascii_alphanumeric() || c == '-' || c == '_' || (template && c == '.')
            });
        if !simple {
            self.error(
                Diagnostic::error(path.clone(), format!("`{name}` is not a usable name")).expected(
                    "letters, digits, `-` and `_` (dots separate the parts of template names)",
                ),
            );
            return false;
        }
        // `internet` always names the internet path; the template's link of that name is it.
        let internet = template && name == "internet";
        let taken = (topo.resolve(name).is_some() && !internet)
            || topo.sites.iter().any(|s| s.name == name)
            || topo.vnets.iter().any(|v| v.name == name)
            || ["onprem", "microsoft"].contains(&name)
            || (name == "internet" && !internet);
        if taken {
            self.error(
                Diagnostic::error(path.clone(), format!("the name `{name}` is already used"))
                    .expected("a name no router, link, session, site or endpoint has"),
            );
            return false;
        }
        true
    }

    fn routers(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        let global = spec.bgp.as_ref().map(|b| BgpRouterOverride {
            keepalive: b.keepalive,
            hold_time: b.hold_time,
            connect_retry: b.connect_retry,
            connect_delay: b.connect_delay,
            mrai: b.mrai,
            idle_hold: b.idle_hold,
            idle_hold_max: b.idle_hold_max,
            idle_hold_forget: b.idle_hold_forget,
            graceful_restart: b.graceful_restart,
            graceful_restart_notification: b.graceful_restart_notification,
            route_install: b.route_install,
            route_install_per_prefix: b.route_install_per_prefix,
            profile: b.profile,
            maximum_paths: b.maximum_paths,
        });
        for (i, r) in spec.router.iter().enumerate() {
            let path = root().key("router").index(i);
            if !self.fresh_name(topo, &r.name, &path.key("name")) {
                continue;
            }
            self.router_asn(r, &path);
            let own = r.bgp();
            self.check_timer_values(&own, &path);
            if let Some(b) = &r.bfd {
                self.check_bfd_values(b, &path.key("bfd"));
            }
            let profile = own
                .profile
                .or_else(|| global.as_ref().and_then(|g| g.profile))
                .unwrap_or(Profile::Rfc4271);
            let n = topo.routers.len();
            let role = r.role.unwrap_or(Role::Router);
            let (timers, base_bfd, max_paths) = if role == Role::Router {
                (profile_timers(profile), None, 1)
            } else {
                // A router in one of the template's roles starts where the template's do.
                super::build::role_defaults(role)
            };
            let mut router = Router {
                name: r.name.clone(),
                role,
                asn: r.asn,
                router_id: r.router_id.unwrap_or_else(|| {
                    let k = u32::try_from(n).unwrap_or(0);
                    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 254, 0, 1)).wrapping_add(k))
                }),
                profile,
                timers,
                bfd: base_bfd,
                max_paths,
            };
            // `[bgp]`'s keys reach the routers they reach in the template (its customer edges)
            // and the general form's; never Microsoft's, whose timers are fixed.
            let takes_global = matches!(role, Role::Router | Role::Ce | Role::Pe);
            if let Some(g) = &global
                && takes_global
            {
                super::overrides::apply_bgp(&mut router, g);
            }
            super::overrides::apply_bgp(&mut router, &own);
            let global_bfd = spec.bfd.as_ref().filter(|b| b.enabled == Some(true));
            router.bfd = match (&r.bfd, global_bfd) {
                (Some(b), _) if b.enabled == Some(false) => None,
                (Some(b), _) => Some(BfdParams {
                    interval: b
                        .interval
                        .or_else(|| global_bfd.and_then(|g| g.interval))
                        .unwrap_or(BfdParams::MSEE.interval),
                    multiplier: b
                        .multiplier
                        .or_else(|| global_bfd.and_then(|g| g.multiplier))
                        .unwrap_or(BfdParams::MSEE.multiplier),
                }),
                (None, Some(g)) if takes_global => Some(BfdParams {
                    interval: g.interval.unwrap_or(BfdParams::MSEE.interval),
                    multiplier: g.multiplier.unwrap_or(BfdParams::MSEE.multiplier),
                }),
                (None, _) => base_bfd,
            };
            if let Some(h) = r.hold_time
                && r.keepalive.is_none()
                && h.is_zero()
            {
                router.timers.keepalive = None;
            }
            if let Some(id) = r.router_id
                && let Some(other) = topo.routers.iter().find(|x| x.router_id == id)
            {
                self.error(
                    Diagnostic::error(
                        path.key("router_id"),
                        format!("router id {id} is also `{}`'s", other.name),
                    )
                    .expected("a BGP identifier no other router has (RFC 4271 §4.2: it identifies the speaker)"),
                );
            }
            if !r.prefixes.is_empty() {
                topo.sites.push(Site {
                    name: r.name.clone(),
                    routers: vec![RouterIx(n)],
                    prefixes: r.prefixes.clone(),
                });
            }
            topo.routers.push(router);
        }
    }

    /// RFC 4271 §4.2 and RFC 6793: an ASN is not 0 and not AS_TRANS.
    fn router_asn(&mut self, r: &RouterSpec, path: &KeyPath) {
        if r.asn == 0 || r.asn == 23_456 {
            self.error(
                Diagnostic::error(
                    path.key("asn"),
                    format!("AS {} cannot be a router's", r.asn),
                )
                .expected("1 to 4294967295, not 23456")
                .note("AS 0 is refused in OPEN (RFC 7607) and 23456 is AS_TRANS (RFC 6793 §9)"),
            );
        }
    }

    /// A router by name, as a session or link end: one of the general form's, or a customer
    /// router the template made; Microsoft's are refused with the reason.
    fn end_router(&mut self, topo: &Topology, name: &str, path: &KeyPath) -> Option<RouterIx> {
        self.end_router_as(topo, name, path, false)
    }

    /// [`Self::end_router`]; a link or session of one of the template's kinds (`template`)
    /// may end on Microsoft's routers (Azure's rules follow the kind).
    fn end_router_as(
        &mut self,
        topo: &Topology,
        name: &str,
        path: &KeyPath,
        template: bool,
    ) -> Option<RouterIx> {
        let Some(ix) = topo.router(name) else {
            self.error(
                Diagnostic::error(path.clone(), format!("unknown router `{name}`"))
                    .allowed(topo.routers.iter().map(|r| r.name.clone())),
            );
            return None;
        };
        let role = topo.routers.get(ix.0).map(|r| r.role)?;
        if role.is_azure() && !template {
            self.error(
                Diagnostic::error(path.clone(), format!("`{name}` is Microsoft's router"))
                    .expected("a router of your own ([[router]]) or a customer router of the template (ce*, pe*, vpn1)")
                    .note("the ExpressRoute template makes every session and link of Microsoft's routers, with Azure's rules; describe your side of the network and join it to the CE routers"),
            );
            return None;
        }
        Some(ix)
    }

    fn links(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        for (i, l) in spec.link.iter().enumerate() {
            let path = root().key("link").index(i);
            let Some(ends) = &l.ends else { continue };
            if l.target.is_some() {
                self.error(
                    Diagnostic::error(
                        path.key("target"),
                        "a [[link]] with both `ends` and `target`",
                    )
                    .expected(
                        "`name` and `ends` for a new link, or `target` to change one that exists",
                    ),
                );
                continue;
            }
            let Some(name) = &l.name else {
                self.error(
                    Diagnostic::error(path.key("ends"), "a new link without a `name`")
                        .expected("name = \"...\" (faults and probes target links by name)"),
                );
                continue;
            };
            let kind = l.kind.unwrap_or(SegmentKind::Link);
            let template = kind != SegmentKind::Link;
            if !self.fresh_name_as(topo, name, &path.key("name"), template) {
                continue;
            }
            let a = self.link_end(topo, spec, &ends[0], &path.key("ends").index(0), template);
            let b = self.link_end(topo, spec, &ends[1], &path.key("ends").index(1), template);
            let (Some(a), Some(b)) = (a, b) else { continue };
            if a == b {
                self.error(
                    Diagnostic::error(path.key("ends").index(1), "a link from a router to itself")
                        .expected("two different routers"),
                );
                continue;
            }
            topo.segments.push(Segment {
                name: name.clone(),
                kind,
                ends: [a, b],
                props: LinkProps {
                    delay: l.delay.unwrap_or(LINK_DELAY),
                    jitter: l.jitter.unwrap_or(Duration::ZERO),
                    loss: l.loss.unwrap_or(LossModel::NONE),
                    bandwidth: l.bandwidth,
                },
            });
        }
    }

    /// A link's end: a router, or one of the file's `devices`.
    fn link_end(
        &mut self,
        topo: &Topology,
        spec: &ScenarioSpec,
        name: &str,
        path: &KeyPath,
        template: bool,
    ) -> Option<Node> {
        if topo.router(name).is_none() && spec.devices.iter().any(|d| d == name) {
            return Some(Node::Transit(name.to_owned()));
        }
        self.end_router_as(topo, name, path, template)
            .map(Node::Router)
    }

    /// The links a session crosses, checked to lead from its first end to its second.
    fn session_path(
        &mut self,
        topo: &Topology,
        s: &crate::spec::SessionSpec,
        ends: [RouterIx; 2],
        path: &KeyPath,
    ) -> Option<Vec<SegmentIx>> {
        let names: Vec<(String, KeyPath)> = match (&s.link, &s.path) {
            (Some(_), Some(_)) => {
                self.error(
                    Diagnostic::error(path.key("path"), "both `link` and `path`")
                        .expected("`link` for a session over one link, or `path` for several"),
                );
                return None;
            }
            (Some(l), None) => vec![(l.clone(), path.key("link"))],
            (None, Some(p)) => p
                .iter()
                .enumerate()
                .map(|(k, n)| (n.clone(), path.key("path").index(k)))
                .collect(),
            (None, None) => {
                let joining: Vec<&Segment> = topo
                    .segments
                    .iter()
                    .filter(|g| {
                        let has = |r: RouterIx| g.ends.contains(&Node::Router(r));
                        has(ends[0]) && has(ends[1])
                    })
                    .collect();
                if joining.len() != 1 {
                    self.error(
                        Diagnostic::error(
                            path.key("ends"),
                            format!(
                                "{} links join `{}` and `{}`",
                                joining.len(),
                                s.ends[0],
                                s.ends[1]
                            ),
                        )
                        .expected(
                            "`link = \"NAME\"` (or `path`) to say which the session runs over",
                        )
                        .allowed(joining.iter().map(|g| g.name.clone())),
                    );
                    return None;
                }
                return topo.segment(&joining[0].name).map(|x| vec![x]);
            }
        };
        if names.is_empty() {
            self.error(
                Diagnostic::error(path.key("path"), "an empty path")
                    .expected("the links the session crosses, in order"),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut at = Node::Router(ends[0]);
        for (name, p) in names {
            let Some(ix) = topo.segment(&name) else {
                self.error(
                    Diagnostic::error(p, format!("unknown link `{name}`"))
                        .allowed(topo.segments.iter().map(|g| g.name.clone())),
                );
                return None;
            };
            let seg = &topo.segments[ix.0];
            let next = if seg.ends[0] == at {
                seg.ends[1].clone()
            } else if seg.ends[1] == at {
                seg.ends[0].clone()
            } else {
                self.error(
                    Diagnostic::error(p, format!("link `{name}` does not continue the path"))
                        .expected(format!(
                            "a link from `{}`",
                            match &at {
                                Node::Router(r) => topo.router_name(*r).to_owned(),
                                Node::Transit(t) => t.clone(),
                            }
                        )),
                );
                return None;
            };
            out.push(ix);
            at = next;
        }
        if at != Node::Router(ends[1]) {
            self.error(
                Diagnostic::error(
                    path.key(if s.path.is_some() { "path" } else { "link" }),
                    format!("the path does not end at `{}`", s.ends[1]),
                )
                .expected(format!(
                    "links leading from `{}` to `{}`",
                    s.ends[0], s.ends[1]
                )),
            );
            return None;
        }
        Some(out)
    }

    fn sessions(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        let any_v6 = spec
            .router
            .iter()
            .flat_map(|r| &r.prefixes)
            .chain(spec.site.iter().flat_map(|s| &s.prefixes))
            .any(|p| matches!(p, IpNet::V6(_)));
        for (i, s) in spec.session.iter().enumerate() {
            let path = root().key("session").index(i);
            let kind = s.kind.unwrap_or(SessionKind::User);
            let template = kind != SessionKind::User;
            let a = self.end_router_as(topo, &s.ends[0], &path.key("ends").index(0), template);
            let b = self.end_router_as(topo, &s.ends[1], &path.key("ends").index(1), template);
            let (Some(a), Some(b)) = (a, b) else { continue };
            if a == b {
                self.error(
                    Diagnostic::error(
                        path.key("ends").index(1),
                        "a session from a router to itself",
                    )
                    .expected("two different routers"),
                );
                continue;
            }
            let Some(mut segments) = self.session_path(topo, s, [a, b], &path) else {
                continue;
            };
            // `passive` names the end that listens; the end that connects is end 0 of the
            // session (the simulator opens connections from end 0).
            let listens_first = match &s.passive {
                None => false,
                Some(p) if *p == s.ends[1] => false,
                Some(p) if *p == s.ends[0] && !template => true,
                Some(p) => {
                    let (message, expected) = if *p == s.ends[0] {
                        (
                            format!("`{p}` listening on a session of the template's kind"),
                            format!(
                                "`{}`: the customer's end connects, as the template's sessions do (and as Azure's rules read them)",
                                s.ends[1]
                            ),
                        )
                    } else {
                        (
                            format!("`{p}` is not an end of this session"),
                            "one of `ends`".to_owned(),
                        )
                    };
                    self.error(
                        Diagnostic::error(path.key("passive"), message)
                            .expected(expected)
                            .allowed(s.ends.iter().cloned()),
                    );
                    continue;
                }
            };
            let name = match (&s.name, &s.link, segments.as_slice()) {
                (Some(n), _, _) => n.clone(),
                (None, Some(l), _) => l.clone(),
                (None, None, [one]) => topo.segments[one.0].name.clone(),
                _ => format!("{}-{}", s.ends[0], s.ends[1]),
            };
            // A session named after its link shares the link's name: faults on that name
            // mean the link (a segment), `session` expectations the session.
            let reuses_link = s.name.is_none() && topo.segment(&name).is_some();
            if !reuses_link && !self.fresh_name_as(topo, &name, &path.key("name"), template) {
                continue;
            }
            if topo.sessions.iter().any(|x| x.name == name) {
                self.error(
                    Diagnostic::error(path.key("name"), format!("a second session named `{name}`"))
                        .expected("`name = \"...\"` to tell the sessions over this link apart"),
                );
                continue;
            }
            for (table, key) in s
                .policy
                .keys()
                .map(|k| ("policy", k))
                .chain(s.originates.keys().map(|k| ("originates", k)))
            {
                if key != &s.ends[0] && key != &s.ends[1] {
                    self.error(
                        Diagnostic::error(
                            path.key(table).key(key),
                            format!("`{key}` is not an end of this session"),
                        )
                        .allowed(s.ends.iter().cloned()),
                    );
                }
            }
            let written_families = s.families.as_ref().map(|f| {
                match (
                    f.contains(&AddressFamily::Ipv4),
                    f.contains(&AddressFamily::Ipv6),
                ) {
                    (true, true) => Families::Both,
                    (false, true) => Families::Ipv6,
                    _ => Families::Ipv4,
                }
            });
            let families = written_families.unwrap_or(if any_v6 {
                Families::Both
            } else {
                Families::Ipv4
            });
            if s.families.as_ref().is_some_and(Vec::is_empty) {
                self.error(
                    Diagnostic::error(path.key("families"), "no address family")
                        .expected("[\"ipv4\"], [\"ipv6\"] or both"),
                );
                continue;
            }
            if s.bfd == Some(true) {
                for (k, r) in [a, b].into_iter().enumerate() {
                    if topo.routers[r.0].bfd.is_none() {
                        self.error(
                            Diagnostic::error(
                                path.key("bfd"),
                                format!("BFD on a session whose end `{}` has none", s.ends[k]),
                            )
                            .expected(format!(
                                "a `bfd = {{ interval = \"300ms\", multiplier = 3 }}` on `{}`",
                                s.ends[k]
                            )),
                        );
                    }
                }
            }
            let k = u32::try_from(topo.sessions.len()).unwrap_or(0);
            let addr = |end: u32| -> IpAddr {
                if let Some(written) = s.addresses {
                    written[usize::try_from(end).unwrap_or(0).min(1)]
                } else if families == Families::Ipv6 {
                    IpAddr::V6(Ipv6Addr::new(
                        0xfd00,
                        0,
                        0,
                        0,
                        0,
                        0,
                        u16::try_from(k).unwrap_or(0),
                        u16::try_from(end + 1).unwrap_or(1),
                    ))
                } else {
                    // RFC 6598 shared address space: a /30 per session.
                    IpAddr::V4(Ipv4Addr::from(
                        u32::from(Ipv4Addr::new(100, 64, 0, 0))
                            .wrapping_add(k.wrapping_mul(4))
                            .wrapping_add(end + 1),
                    ))
                }
            };
            let end = |r: RouterIx, e: u32| {
                let p = s
                    .policy
                    .get(topo.router_name(r))
                    .cloned()
                    .unwrap_or_default();
                SessionEnd {
                    router: r,
                    addr: addr(e),
                    local_pref: p.local_pref,
                    weight: p.weight,
                    max_prefixes: p.max_prefixes,
                    prepend: p.prepend.unwrap_or(0),
                    announces: s
                        .originates
                        .get(topo.router_name(r))
                        .cloned()
                        .unwrap_or_default(),
                    policy: EndPolicy {
                        med: p.med,
                        import: p.import,
                        export: p.export,
                        max_prefix_restart: p.max_prefix_restart,
                    },
                }
            };
            for (key, p) in &s.policy {
                if p.prepend.is_some_and(|c| c > 10) {
                    self.error(
                        Diagnostic::error(
                            path.key("policy").key(key).key("prepend"),
                            "more than 10 prepends",
                        )
                        .expected("0 to 10 extra copies of the ASN"),
                    );
                }
                if p.max_prefixes == Some(0) {
                    self.error(
                        Diagnostic::error(
                            path.key("policy").key(key).key("max_prefixes"),
                            "a limit of 0 prefixes",
                        )
                        .expected("at least 1 (or no limit)"),
                    );
                }
            }
            let mut ends = [end(a, 0), end(b, 1)];
            if listens_first {
                ends.swap(0, 1);
                segments.reverse();
            }
            topo.sessions.push(Session {
                name,
                kind,
                ends,
                on: None,
                path: segments,
                vlan: s.vlan,
                md5: s.md5.clone(),
                bfd: s.bfd,
                // The template's sessions carry the families of their addresses unless the
                // file names them.
                families: if template {
                    written_families
                } else {
                    Some(families)
                },
            });
        }
    }

    fn sites(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        for (i, s) in spec.site.iter().enumerate() {
            let path = root().key("site").index(i);
            if !self.fresh_name(topo, &s.name, &path.key("name")) {
                continue;
            }
            if s.routers.is_empty() {
                self.error(
                    Diagnostic::error(path.key("routers"), "a site behind no router")
                        .expected("the routers its hosts reach first"),
                );
                continue;
            }
            if s.prefixes.is_empty() {
                self.error(
                    Diagnostic::error(path.key("prefixes"), "a site without addresses")
                        .expected("its address space, e.g. [\"10.1.0.0/16\"]"),
                );
                continue;
            }
            let routers: Vec<RouterIx> = s
                .routers
                .iter()
                .enumerate()
                .filter_map(|(k, r)| self.end_router(topo, r, &path.key("routers").index(k)))
                .collect();
            if routers.len() != s.routers.len() {
                continue;
            }
            topo.sites.push(Site {
                name: s.name.clone(),
                routers,
                prefixes: s.prefixes.clone(),
            });
        }
        // Address spaces apart: a site's prefixes overlap no other site's, no VNet's and not
        // on premises' (a destination must have one place to go).
        let mut seen: Vec<(IpNet, String)> = Vec::new();
        for v in &topo.vnets {
            seen.extend(v.prefixes.iter().map(|p| (IpNet::V4(*p), v.name.clone())));
            seen.extend(
                v.ipv6_prefixes
                    .iter()
                    .map(|p| (IpNet::V6(*p), v.name.clone())),
            );
        }
        seen.extend(
            topo.onprem_prefixes
                .iter()
                .map(|p| (IpNet::V4(*p), "onprem".to_owned())),
        );
        for site in &topo.sites {
            let at = spec
                .site
                .iter()
                .position(|s| s.name == site.name)
                .map_or_else(
                    || {
                        let r = spec
                            .router
                            .iter()
                            .position(|r| r.name == site.name)
                            .unwrap_or(0);
                        root().key("router").index(r).key("prefixes")
                    },
                    |k| root().key("site").index(k).key("prefixes"),
                );
            for p in &site.prefixes {
                if let Some((q, other)) = seen.iter().find(|(q, _)| overlap(p, q)) {
                    self.error(
                        Diagnostic::error(at.clone(), format!("{p} overlaps {q} of `{other}`"))
                            .expected(
                                "address space no other site, VNet or on-premises network uses",
                            ),
                    );
                }
            }
            seen.extend(site.prefixes.iter().map(|p| (*p, site.name.clone())));
        }
        // Every router of a site originates its prefixes into every session it has.
        for site in &topo.sites {
            for s in &mut topo.sessions {
                for e in &mut s.ends {
                    if site.routers.contains(&e.router) {
                        for p in &site.prefixes {
                            if !e.announces.contains(p) {
                                e.announces.push(*p);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether a `[[link]]` makes a link of the general form (`ends`) rather than changing the
/// properties of one that exists (`target`).
pub(super) const fn defines_link(l: &LinkOverride) -> bool {
    l.ends.is_some()
}
