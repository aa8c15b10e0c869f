//! The ExpressRoute template's parts written out: what `holdtime topology show --expand`
//! prints, so that any network the template makes can be read back as a file of the general
//! form and run to the same report.
//!
//! Beside `[[router]]`, `[[link]]`, `[[session]]` and `[[site]]` (with `role`, `kind`,
//! `addresses`, `originates`, `peering`, `vlan`, handled in `general.rs`), a file may write:
//!
//! - `network`: the network's name in reports;
//! - `devices`: the nodes that are not BGP speakers and may end a link (a provider's switch,
//!   the on-premises LAN, the two edges of the internet);
//! - `[onprem]`: the customer's ASN and the on-premises address space (hosts behind the
//!   routers in role `ce`, or the `vpn_device`);
//! - `[[vnet]]`: the VNets behind the gateways;
//! - `[[circuit]]` with its `primary`/`secondary` links (CE, PE, MSEE, access and core links
//!   by name) and `[[circuit.peering]]` tables: Azure's provisioning gates;
//! - `[er_gateway]`, `[vpn_gateway]`, `[internet]`.
//!
//! Azure's rules apply to the routers written in Microsoft's roles exactly as to the
//! template's: their timers are Microsoft's fixed 60 s / 180 s, the MSEE's BFD is 300 ms × 3
//! (it may be slower, never faster), their ASNs are Microsoft's, the customer's routers may
//! not use a reserved ASN, and the prefix limits on their session ends are Azure's (written
//! or not). The session-level rules (the 3 s / 10 s floor towards an MSEE, the BFD floor,
//! the VPN gateway's fixed hold) follow the sessions' kinds, in `overrides.rs`, as for the
//! template.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{Validator, root};
use crate::diag::{Diagnostic, KeyPath};
use crate::spec::{CircuitLinkTable, ScenarioSpec};
use crate::topology::{
    self, AZURE_GATEWAY_ASN, BgpTimers, Circuit, CircuitLink, ErGateway, Internet, LinkSide,
    MICROSOFT_ASN, MSEE_BFD_MIN_INTERVAL, Peering, PeeringKind, ProviderKind, ProviderState,
    PublicPrefixesState, Role, RouterIx, SegmentIx, SessionKind, Sku, Topology, Vnet, VpnGateway,
    VpnMode,
};

/// The top-level keys that write out what the template makes; refused beside `topology`.
fn written_keys(spec: &ScenarioSpec) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if spec.network.is_some() {
        keys.push("network");
    }
    if !spec.circuit.is_empty() {
        keys.push("circuit");
    }
    if spec.er_gateway.is_some() {
        keys.push("er_gateway");
    }
    if spec.vpn_gateway.is_some() {
        keys.push("vpn_gateway");
    }
    if !spec.vnet.is_empty() {
        keys.push("vnet");
    }
    if spec.internet.is_some() {
        keys.push("internet");
    }
    if spec.onprem.is_some() {
        keys.push("onprem");
    }
    if !spec.tenant.is_empty() {
        keys.push("tenant");
    }
    if !spec.chassis.is_empty() {
        keys.push("chassis");
    }
    keys
}

impl Validator {
    /// Before the routers: the network's name, on premises and the VNets (so that the
    /// address-space checks see them as they see the template's).
    pub(super) fn written_spaces(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        if spec.topology.is_some() || spec.csp.is_some() {
            let template = if spec.csp.is_some() {
                "`[csp]`"
            } else {
                "`topology`"
            };
            for key in written_keys(spec) {
                self.error(
                    Diagnostic::error(
                        root().key(key),
                        format!("`{key}` beside {template}: the template makes that part"),
                    )
                    .expected(format!("either {template} (the template) or the network written out without it (what `holdtime topology show --expand` prints)")),
                );
            }
            if spec.csp.is_some() && spec.prefixes.is_some() {
                self.error(
                    Diagnostic::error(root().key("prefixes"), "`[prefixes]` beside `[csp]`")
                        .expected("each tenant's address space in `[[csp.tenant]]` (`prefixes`, `vnet_prefixes`)"),
                );
            }
            return;
        }
        if let Some(name) = &spec.network {
            if name.trim().is_empty() {
                self.error(
                    Diagnostic::error(root().key("network"), "the network's name is empty")
                        .expected("a short name (reports show it)"),
                );
            } else {
                topo.name.clone_from(name);
            }
        }
        if let Some(o) = &spec.onprem {
            let path = root().key("onprem");
            super::build::check_customer_asn(o.asn, &path.key("asn"), &mut self.diags);
            topo.customer_asn = o.asn;
            for p in &o.prefixes {
                match p {
                    IpNet::V4(n) => topo.onprem_prefixes.push(*n),
                    IpNet::V6(n) => topo.onprem_ipv6_prefixes.push(*n),
                }
            }
            topo.public_prefixes.clone_from(&o.public_prefixes);
        }
        for (i, v) in spec.vnet.iter().enumerate() {
            let path = root().key("vnet").index(i);
            if !self.fresh_name_as(topo, &v.name, &path.key("name"), false) {
                continue;
            }
            if v.prefixes.is_empty() {
                self.error(
                    Diagnostic::error(path.key("prefixes"), "a VNet without addresses")
                        .expected("its address space, e.g. [\"10.10.0.0/16\"]"),
                );
                continue;
            }
            let mut vnet = Vnet {
                name: v.name.clone(),
                prefixes: Vec::new(),
                ipv6_prefixes: Vec::new(),
                routes: v.route.iter().map(super::build::user_route).collect(),
            };
            for p in &v.prefixes {
                match p {
                    IpNet::V4(n) => vnet.prefixes.push(*n),
                    IpNet::V6(n) => vnet.ipv6_prefixes.push(*n),
                }
            }
            if i > 0 && !v.route.is_empty() {
                self.error(
                    Diagnostic::error(
                        path.key("route"),
                        format!("user-defined routes on VNet `{}` are not modelled", v.name),
                    )
                    .expected("routes on the first [[vnet]] only"),
                );
            }
            super::build::check_vnet_routes(
                &v.name,
                &vnet.prefixes,
                &v.route,
                &path.key("route"),
                spec.vpn_gateway.is_some(),
                &mut self.diags,
            );
            topo.vnets.push(vnet);
        }
    }

    /// After the general form's routers, links and sessions: the devices, circuits,
    /// gateways and the internet path, and Azure's rules on the routers written in its roles.
    pub(super) fn written_parts(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        self.devices(spec, topo);
        self.roles(spec, topo);
        if spec.topology.is_some() || spec.csp.is_some() {
            return;
        }
        for (i, c) in spec.circuit.iter().enumerate() {
            self.circuit(i, c, topo);
        }
        self.session_peerings(spec, topo);
        self.er_gateway(spec, topo);
        self.tenants(spec, topo);
        self.chassis(spec, topo);
        self.vpn_gateway(spec, topo);
        if let Some(net) = &spec.internet {
            let path = root().key("internet");
            if let Some(segment) = self.segment_named(topo, &net.link, &path.key("link")) {
                topo.internet = Some(Internet {
                    segment,
                    microsoft_prefixes: net.microsoft_prefixes.clone().unwrap_or_else(|| {
                        topology::MICROSOFT_SERVICES
                            .iter()
                            .filter_map(|s| s.prefix.parse().ok())
                            .collect()
                    }),
                    shares_edge_with_microsoft_peering: net
                        .shares_edge_with_microsoft_peering
                        .unwrap_or(false),
                    forced_tunneling: net.forced_tunneling.as_ref().map(|f| {
                        topology::ForcedTunneling {
                            expressroute: f.expressroute.unwrap_or(true),
                            vpn: f.vpn.unwrap_or(if spec.vpn_gateway.is_some() {
                                topology::VpnDefaultRoute::Bgp
                            } else {
                                topology::VpnDefaultRoute::None
                            }),
                        }
                    }),
                });
            }
        }
        if topo.routers.iter().any(|r| r.role == Role::Pe) {
            topo.provider = ProviderKind::Layer3;
        }
        self.azure_prefix_limits(spec, topo);
    }

    fn devices(&mut self, spec: &ScenarioSpec, topo: &Topology) {
        for (i, d) in spec.devices.iter().enumerate() {
            let path = root().key("devices").index(i);
            let simple = !d.is_empty()
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !simple {
                self.error(
                    Diagnostic::error(path, format!("`{d}` is not a usable device name"))
                        .expected("letters, digits, `-`, `_` and `.`"),
                );
            } else if topo.router(d).is_some() || spec.devices[..i].contains(d) {
                self.error(
                    Diagnostic::error(path, format!("the name `{d}` is already used"))
                        .expected("a name no router or other device has"),
                );
            }
        }
    }

    /// Azure's rules on the routers a `[[router]]` puts in one of the template's roles.
    fn roles(&mut self, spec: &ScenarioSpec, topo: &Topology) {
        for (i, r) in spec.router.iter().enumerate() {
            let Some(role) = r.role else { continue };
            if topo.router(&r.name).is_none() {
                continue;
            }
            let path = root().key("router").index(i);
            match role {
                Role::Ce | Role::Pe | Role::VpnDevice => {
                    super::build::check_customer_asn(r.asn, &path.key("asn"), &mut self.diags);
                }
                Role::Msee if r.asn != MICROSOFT_ASN => {
                    self.not_microsofts_asn(r.asn, MICROSOFT_ASN, &path)
                }
                Role::ErGateway if r.asn != AZURE_GATEWAY_ASN => {
                    self.not_microsofts_asn(r.asn, AZURE_GATEWAY_ASN, &path);
                }
                Role::Msee | Role::ErGateway | Role::VpnGateway | Role::Router => {}
            }
            if role == Role::VpnDevice && r.bfd.as_ref().is_some_and(|b| b.enabled != Some(false)) {
                self.error(
                    Diagnostic::error(path.key("bfd"), format!("BFD on `{}`, whose session is with the VPN gateway", r.name))
                        .expected("no `bfd`")
                        .note("the Azure VPN gateway does not support BFD (domain.md); its session relies on the 60/180 s timers and IKE dead-peer detection"),
                );
            }
            if !role.is_azure() {
                continue;
            }
            for (key, written, azure) in [
                ("hold_time", r.hold_time, Some(BgpTimers::AZURE.hold_time)),
                ("keepalive", r.keepalive, BgpTimers::AZURE.keepalive),
                (
                    "connect_retry",
                    r.connect_retry,
                    Some(BgpTimers::AZURE.connect_retry),
                ),
            ] {
                if let (Some(w), Some(a)) = (written, azure)
                    && w != a
                {
                    self.error(
                        Diagnostic::error(path.key(key), format!("`{}` is Microsoft's router: its {key} is {a}, not {w}", r.name))
                            .expected(format!("{a}, or no `{key}`"))
                            .note("Microsoft's timers on the MSEEs and gateways are fixed at keepalive 60 s and hold 180 s; a customer changes their own side (domain.md)"),
                    );
                }
            }
            if role == Role::Msee && r.bfd.as_ref().is_some_and(|b| b.enabled == Some(false)) {
                self.error(
                    Diagnostic::error(path.key("bfd").key("enabled"), format!("BFD on `{}`, an MSEE, cannot be turned off", r.name))
                        .expected("no `enabled = false`")
                        .note("BFD is on by default on the MSEE for private and Microsoft peering; disable it on your router instead"),
                );
            }
            if let Some(b) = &r.bfd
                && b.enabled != Some(false)
            {
                if role != Role::Msee {
                    self.error(
                        Diagnostic::error(
                            path.key("bfd"),
                            format!("BFD on `{}`, an Azure gateway", r.name),
                        )
                        .expected("no `bfd`: only the MSEEs run BFD")
                        .note("the ExpressRoute and VPN gateways do not run BFD (domain.md)"),
                    );
                } else if b.interval.is_some_and(|x| x < MSEE_BFD_MIN_INTERVAL) {
                    self.error(
                        Diagnostic::error(path.key("bfd").key("interval"), format!("BFD interval on `{}` below the MSEE's 300ms", r.name))
                            .expected("300ms or slower")
                            .note("the MSEE's BFD interval is 300 ms and \"a customer may ask for slower, never faster\""),
                    );
                }
            }
        }
    }

    fn not_microsofts_asn(&mut self, asn: u32, want: u32, path: &KeyPath) {
        self.error(
            Diagnostic::error(
                path.key("asn"),
                format!("AS {asn} in one of Microsoft's roles"),
            )
            .expected(format!("{want} (Microsoft's ASN for this role)")),
        );
    }

    fn router_in_role(
        &mut self,
        topo: &Topology,
        name: &str,
        role: Role,
        path: &KeyPath,
    ) -> Option<RouterIx> {
        let Some(ix) = topo.router(name) else {
            self.error(
                Diagnostic::error(path.clone(), format!("unknown router `{name}`")).allowed(
                    topo.routers
                        .iter()
                        .filter(|r| r.role == role)
                        .map(|r| r.name.clone()),
                ),
            );
            return None;
        };
        let has = topo.routers.get(ix.0).map(|r| r.role);
        if has != Some(role) {
            self.error(
                Diagnostic::error(
                    path.clone(),
                    format!("`{name}` is not in role `{}`", role.name()),
                )
                .expected(format!("a router with role = \"{}\"", role.name())),
            );
            return None;
        }
        Some(ix)
    }

    fn segment_named(&mut self, topo: &Topology, name: &str, path: &KeyPath) -> Option<SegmentIx> {
        let found = topo.segment(name);
        if found.is_none() {
            self.error(
                Diagnostic::error(path.clone(), format!("unknown link `{name}`"))
                    .allowed(topo.segments.iter().map(|g| g.name.clone())),
            );
        }
        found
    }

    fn circuit(&mut self, i: usize, c: &crate::spec::CircuitTable, topo: &mut Topology) {
        let path = root().key("circuit").index(i);
        if !self.fresh_name_as(topo, &c.name, &path.key("name"), false) {
            return;
        }
        // Its links are targets too (`NAME.primary`, `NAME.secondary`).
        if let Some(taken) = LinkSide::BOTH
            .into_iter()
            .map(|side| format!("{}.{}", c.name, side.name()))
            .find(|n| topo.resolve(n).is_some())
        {
            self.error(
                Diagnostic::error(path.key("name"), format!("`{taken}`, the name of this circuit's link, is already used"))
                    .expected("a circuit name whose `NAME.primary` and `NAME.secondary` no link or session has"),
            );
            return;
        }
        if topo.circuits.len() >= topology::MAX_CIRCUITS {
            self.error(
                Diagnostic::error(
                    path,
                    format!("more than {} circuits", topology::MAX_CIRCUITS),
                )
                .expected("at most 4 circuits (a VNet spreads traffic over up to four)"),
            );
            return;
        }
        let link = |v: &mut Self, side: LinkSide, l: &CircuitLinkTable, topo: &Topology| {
            let at = path.key(side.name());
            let ce = v.router_in_role(topo, &l.ce, Role::Ce, &at.key("ce"));
            let pe =
                l.pe.as_ref()
                    .map(|pe| v.router_in_role(topo, pe, Role::Pe, &at.key("pe")));
            let msee = v.router_in_role(topo, &l.msee, Role::Msee, &at.key("msee"));
            let access = v.segment_named(topo, &l.access, &at.key("access"));
            let core = v.segment_named(topo, &l.core, &at.key("core"));
            Some(CircuitLink {
                side,
                ce: ce?,
                pe: match pe {
                    Some(p) => Some(p?),
                    None => None,
                },
                msee: msee?,
                access: access?,
                core: core?,
            })
        };
        let primary = link(self, LinkSide::Primary, &c.primary, topo);
        let secondary = link(self, LinkSide::Secondary, &c.secondary, topo);
        let mut peerings: Vec<Peering> = Vec::new();
        for (k, p) in c.peering.iter().enumerate() {
            if peerings.iter().any(|q| q.kind == p.kind) {
                self.error(
                    Diagnostic::error(
                        path.key("peering").index(k).key("kind"),
                        format!("a second {} peering", p.kind.name()),
                    )
                    .expected("one peering of each kind per circuit"),
                );
                continue;
            }
            super::build::check_route_filter(
                p.kind,
                p.route_filter.as_deref(),
                &path.key("peering").index(k),
                &mut self.diags,
            );
            peerings.push(Peering {
                kind: p.kind,
                subnets: p.subnets,
                ipv6_subnets: p.ipv6_subnets,
                vlan: p.vlan,
                peer_asn: p.peer_asn.unwrap_or(topo.customer_asn),
                md5: p.md5.clone(),
                public_prefixes_state: p
                    .public_prefixes_state
                    .unwrap_or(PublicPrefixesState::Configured),
                enabled: p.enabled.unwrap_or(true),
                route_filter: p.route_filter.as_ref().map(|f| {
                    f.iter()
                        .filter_map(|c| super::build::parse_community(c))
                        .collect()
                }),
            });
        }
        let (Some(primary), Some(secondary)) = (primary, secondary) else {
            return;
        };
        topo.circuits.push(Circuit {
            name: c.name.clone(),
            bandwidth: c.bandwidth,
            sku: c.sku.unwrap_or(Sku::Standard),
            provider_state: c.provider_state.unwrap_or(ProviderState::Provisioned),
            enabled: c.enabled.unwrap_or(true),
            weight: c.weight.unwrap_or(0),
            links: [primary, secondary],
            peerings,
        });
    }

    /// `peering = "CIRCUIT.SIDE.KIND"` on a session: the circuit link and peering it runs on.
    fn session_peerings(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        for (i, s) in spec.session.iter().enumerate() {
            let Some(on) = &s.peering else { continue };
            let path = root().key("session").index(i).key("peering");
            let parts: Vec<&str> = on.split('.').collect();
            let found = match parts.as_slice() {
                [c, side, kind] => topo.circuit(c).and_then(|cix| {
                    let side = LinkSide::BOTH.into_iter().find(|x| x.name() == *side)?;
                    let kind = [
                        PeeringKind::Private,
                        PeeringKind::Microsoft,
                        PeeringKind::Public,
                    ]
                    .into_iter()
                    .find(|k| k.name() == *kind)?;
                    topo.circuits[cix.0].peering(kind)?;
                    Some((cix, side, kind))
                }),
                _ => None,
            };
            let Some(found) = found else {
                self.error(
                    Diagnostic::error(path, format!("no circuit peering `{on}`"))
                        .expected("CIRCUIT.SIDE.PEERING of a [[circuit]] with that [[circuit.peering]], e.g. `circuit.primary.private`")
                        .allowed(topo.circuits.iter().flat_map(|c| {
                            LinkSide::BOTH.into_iter().flat_map(move |side| {
                                c.peerings
                                    .iter()
                                    .map(move |p| format!("{}.{}.{}", c.name, side.name(), p.kind.name()))
                            })
                        })),
                );
                continue;
            };
            // The session's own name as the general form gave it (it may have been refused).
            let name = s.name.clone().or_else(|| s.link.clone());
            if let Some(ix) = name.and_then(|n| topo.session(&n))
                && let Some(session) = topo.sessions.get_mut(ix.0)
            {
                session.on = Some(found);
            }
        }
    }

    fn er_gateway(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        let Some(g) = &spec.er_gateway else { return };
        let path = root().key("er_gateway");
        let Some(router) =
            self.router_in_role(topo, &g.router, Role::ErGateway, &path.key("router"))
        else {
            return;
        };
        let limit = self.azure_limit(
            g.max_prefixes_to_onprem,
            topology::GATEWAY_PREFIX_LIMIT,
            &path.key("max_prefixes_to_onprem"),
        );
        topo.er_gateway = Some(ErGateway {
            router,
            convergence_delay: g
                .convergence_delay
                .unwrap_or(topology::ER_GATEWAY_CONVERGENCE_DELAY),
            max_prefixes_to_onprem: limit,
            planned_failover: g
                .planned_failover
                .unwrap_or(topology::GATEWAY_PLANNED_FAILOVER),
            unplanned_failover: g
                .unplanned_failover
                .unwrap_or(topology::GATEWAY_UNPLANNED_FAILOVER),
        });
    }

    /// `[[tenant]]`: a Cloud Solution Provider's customer, its VNet a site behind its own
    /// ExpressRoute gateway (see `csp.rs`).
    fn tenants(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        for (i, t) in spec.tenant.iter().enumerate() {
            let path = root().key("tenant").index(i);
            let Some(onprem) = topo.sites.iter().position(|s| s.name == t.name) else {
                self.error(
                    Diagnostic::error(
                        path.key("name"),
                        format!("no site `{}` for the tenant's hosts", t.name),
                    )
                    .expected("the name of a [[site]] (the tenant's hosts)")
                    .allowed(topo.sites.iter().map(|s| s.name.clone())),
                );
                continue;
            };
            if topo.tenants.iter().any(|o| o.onprem == onprem) {
                self.error(
                    Diagnostic::error(path.key("name"), format!("two tenants named `{}`", t.name))
                        .expected("a name no other tenant has"),
                );
                continue;
            }
            let Some(router) =
                self.router_in_role(topo, &t.gateway, Role::ErGateway, &path.key("gateway"))
            else {
                continue;
            };
            if topo.er_gateway_of(router).is_some() {
                self.error(
                    Diagnostic::error(path.key("gateway"), format!("`{}` is already another gateway", t.gateway))
                        .expected("a gateway of the tenant's own: circuits are not shared between a CSP's customers"),
                );
                continue;
            }
            let mut circuits = Vec::new();
            for (k, name) in t.circuits.iter().enumerate() {
                let at = path.key("circuits").index(k);
                let Some(c) = topo.circuit(name) else {
                    self.error(
                        Diagnostic::error(at, format!("unknown circuit `{name}`"))
                            .allowed(topo.circuits.iter().map(|c| c.name.clone())),
                    );
                    continue;
                };
                if topo.tenants.iter().any(|o| o.circuits.contains(&c)) || circuits.contains(&c) {
                    self.error(
                        Diagnostic::error(at, format!("circuit `{name}` belongs to another tenant"))
                            .expected("the tenant's own circuits: circuits are not shared between a CSP's customers (ExpressRoute for Cloud Solution Providers)"),
                    );
                    continue;
                }
                circuits.push(c);
            }
            if !self.fresh_name_as(topo, &t.vnet, &path.key("vnet"), false) {
                continue;
            }
            if t.vnet_prefixes.is_empty() {
                self.error(
                    Diagnostic::error(path.key("vnet_prefixes"), "a VNet without addresses")
                        .expected("its address space, e.g. [\"10.201.0.0/16\"]"),
                );
                continue;
            }
            for (k, p) in t.vnet_prefixes.iter().enumerate() {
                if let Some(other) = topo.sites.iter().find(|s| {
                    s.prefixes
                        .iter()
                        .any(|q| q.contains(&p.network()) || p.contains(&q.network()))
                }) {
                    self.error(
                        Diagnostic::error(
                            path.key("vnet_prefixes").index(k),
                            format!("{p} overlaps the address space of `{}`", other.name),
                        )
                        .expected("address space no other site, VNet or tenant uses"),
                    );
                }
            }
            // The gateway originates its VNet into every session it has, as a site's router.
            for s in &mut topo.sessions {
                for e in &mut s.ends {
                    if e.router == router {
                        for p in &t.vnet_prefixes {
                            if !e.announces.contains(p) {
                                e.announces.push(*p);
                            }
                        }
                    }
                }
            }
            topo.sites.push(topology::Site {
                name: t.vnet.clone(),
                routers: vec![router],
                prefixes: t.vnet_prefixes.clone(),
            });
            let vnet = topo.sites.len() - 1;
            topo.tenants.push(topology::Tenant {
                name: t.name.clone(),
                onprem,
                vnet,
                circuits,
                gateway: super::csp::tenant_gateway(
                    router,
                    t.convergence_delay,
                    t.planned_failover,
                    t.unplanned_failover,
                ),
            });
        }
    }

    /// `[[chassis]]`: routers that are VRFs of one box (they crash together).
    fn chassis(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        for (i, c) in spec.chassis.iter().enumerate() {
            let path = root().key("chassis").index(i);
            if !self.fresh_name(topo, &c.name, &path.key("name"))
                || !self.chassis_name_free(topo, &c.name, &path)
            {
                continue;
            }
            let mut routers = Vec::new();
            for (k, name) in c.routers.iter().enumerate() {
                let at = path.key("routers").index(k);
                let Some(r) = topo.router(name) else {
                    self.error(
                        Diagnostic::error(at, format!("unknown router `{name}`"))
                            .allowed(topo.routers.iter().map(|r| r.name.clone())),
                    );
                    continue;
                };
                if topo.chassis.iter().any(|o| o.routers.contains(&r)) || routers.contains(&r) {
                    self.error(
                        Diagnostic::error(at, format!("`{name}` is already a VRF of a chassis"))
                            .expected("a router in one chassis at most"),
                    );
                    continue;
                }
                if topo.routers.get(r.0).is_some_and(|x| x.role.is_azure()) {
                    self.error(
                        Diagnostic::error(at, format!("`{name}` is Microsoft's router"))
                            .expected("routers of the customer's or the provider's side"),
                    );
                    continue;
                }
                routers.push(r);
            }
            topo.chassis.push(topology::Chassis {
                name: c.name.clone(),
                routers,
            });
        }
    }

    fn chassis_name_free(&mut self, topo: &Topology, name: &str, path: &KeyPath) -> bool {
        if topo.chassis.iter().any(|c| c.name == name) {
            self.error(
                Diagnostic::error(path.key("name"), format!("two chassis named `{name}`"))
                    .expected("a name no other chassis has"),
            );
            return false;
        }
        true
    }

    fn vpn_gateway(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        let Some(g) = &spec.vpn_gateway else { return };
        let path = root().key("vpn_gateway");
        let router = self.router_in_role(topo, &g.router, Role::VpnGateway, &path.key("router"));
        let device = self.router_in_role(topo, &g.device, Role::VpnDevice, &path.key("device"));
        let mode = g.mode.unwrap_or(VpnMode::ActiveStandby);
        let want = match mode {
            VpnMode::ActiveStandby => 1,
            VpnMode::ActiveActive => 2,
        };
        if g.tunnels.len() != want {
            self.error(
                Diagnostic::error(
                    path.key("tunnels"),
                    format!(
                        "{} tunnels for an {} gateway",
                        g.tunnels.len(),
                        mode_name(mode)
                    ),
                )
                .expected(format!("{want} (one per instance with a tunnel)")),
            );
            return;
        }
        let tunnels: Vec<Option<SegmentIx>> = g
            .tunnels
            .iter()
            .enumerate()
            .map(|(k, t)| self.segment_named(topo, t, &path.key("tunnels").index(k)))
            .collect();
        let limit = self.azure_limit(
            g.max_prefixes,
            topology::VPN_PREFIX_LIMIT,
            &path.key("max_prefixes"),
        );
        let (Some(router), Some(device)) = (router, device) else {
            return;
        };
        let Some(tunnels) = tunnels.into_iter().collect::<Option<Vec<_>>>() else {
            return;
        };
        topo.vpn = Some(VpnGateway {
            router,
            device,
            mode,
            dpd_timeout: g.dpd_timeout.unwrap_or(topology::VPN_DPD_TIMEOUT),
            planned_failover: g
                .planned_failover
                .unwrap_or(topology::GATEWAY_PLANNED_FAILOVER),
            unplanned_failover: g
                .unplanned_failover
                .unwrap_or(topology::GATEWAY_UNPLANNED_FAILOVER),
            tunnels,
            max_prefixes: limit,
        });
    }

    /// One of Azure's fixed limits: the written value must be it.
    fn azure_limit(&mut self, written: Option<u32>, azure: u32, path: &KeyPath) -> u32 {
        if let Some(w) = written
            && w != azure
        {
            self.error(
                Diagnostic::error(
                    path.clone(),
                    format!("Azure's limit here is {azure}, not {w}"),
                )
                .expected(format!("{azure}, or nothing"))
                .note("Azure's prefix limits are fixed (domain.md, limits)"),
            );
        }
        azure
    }

    /// The prefix limits on the session ends at Microsoft's routers are Azure's: set when
    /// not written, refused when written otherwise (as the template sets them).
    fn azure_prefix_limits(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        for (i, s) in spec.session.iter().enumerate() {
            let Some(kind) = s.kind else { continue };
            let name = s.name.clone().or_else(|| s.link.clone());
            let Some(ix) = name.and_then(|n| topo.session(&n)) else {
                continue;
            };
            let Some(session) = topo.sessions.get(ix.0).cloned() else {
                continue;
            };
            let v6 = matches!(session.ends[0].addr, IpAddr::V6(_));
            let circuit_limit = session
                .on
                .and_then(|(c, _, _)| topo.circuits.get(c.0))
                .map_or(
                    topology::PRIVATE_PREFIX_LIMIT,
                    Circuit::private_prefix_limit,
                );
            let peering = session.on.map_or(PeeringKind::Private, |(_, _, k)| k);
            for end in 0..2 {
                let Some(role) = topo.routers.get(session.ends[end].router.0).map(|r| r.role)
                else {
                    continue;
                };
                let limit = match (kind, role) {
                    (SessionKind::Peering, Role::Msee) => Some(match (peering, v6) {
                        (PeeringKind::Private, true) => topology::PRIVATE_IPV6_PREFIX_LIMIT,
                        (PeeringKind::Private, false) => circuit_limit,
                        (PeeringKind::Microsoft | PeeringKind::Public, _) => {
                            topology::MICROSOFT_PREFIX_LIMIT
                        }
                    }),
                    (SessionKind::Gateway, Role::Msee) => Some(if v6 {
                        topology::GATEWAY_IPV6_PREFIX_LIMIT
                    } else {
                        topology::GATEWAY_PREFIX_LIMIT
                    }),
                    (SessionKind::Vpn, Role::VpnGateway) => Some(topology::VPN_PREFIX_LIMIT),
                    _ => None,
                };
                let Some(limit) = limit else { continue };
                let router = topo.router_name(session.ends[end].router).to_owned();
                let written = s.policy.get(&router).and_then(|p| p.max_prefixes);
                let at = root()
                    .key("session")
                    .index(i)
                    .key("policy")
                    .key(&router)
                    .key("max_prefixes");
                let limit = self.azure_limit(written, limit, &at);
                if let Some(session) = topo.sessions.get_mut(ix.0) {
                    session.ends[end].max_prefixes = Some(limit);
                }
            }
        }
    }
}

const fn mode_name(mode: VpnMode) -> &'static str {
    match mode {
        VpnMode::ActiveActive => "active-active",
        VpnMode::ActiveStandby => "active-standby",
    }
}
