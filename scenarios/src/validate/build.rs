//! Building a [`Topology`] from a [`TopologySpec`], and the built-in topologies.
//!
//! The built-in topologies are TOML files under `scenarios/library/topologies/`, embedded in
//! the binary and parsed by exactly the code that parses a scenario's own `[topology]` table,
//! so a user can copy one into a scenario and edit it.
//!
//! Naming and addressing are deterministic and documented in [`crate::topology`]: routers
//! `ce1`, `ce2`, `pe1`.., `msee1`.., `ergw`, `vpn1`, `vpngw`; sessions `<circuit>.<link>.<peering>`
//! (and `.access` for a layer-3 CE–PE session), `<circuit>.<link>.gateway`, `vpn` (or
//! `vpn.instance0`/`vpn.instance1`), `ibgp.<a>.<b>`. Router ids and the addresses of sessions
//! that Azure does not publish (gateway, CE–PE, iBGP) are synthetic: unique, stable, and
//! never used for anything but identification.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net};
use sim_core::time::Duration;

use crate::diag::{Diagnostic, KeyPath};
use crate::spec::{NextHopType, RouteSpec, TopologySpec};
use crate::topology::{
    self, AZURE_GATEWAY_ASN, BfdParams, BgpTimers, Circuit, CircuitIx, CircuitLink, EndPolicy,
    ErGateway, ForcedTunneling, GATEWAY_PREFIX_LIMIT, Internet, LinkProps, LinkSide, MICROSOFT_ASN,
    MICROSOFT_PREFIX_LIMIT, NextHop, Node, Peering, PeeringKind, Profile, ProviderKind,
    ProviderState, PublicPrefixesState, Role, Router, RouterIx, Segment, SegmentIx, SegmentKind,
    Session, SessionEnd, SessionKind, Sku, Topology, UserRoute, VPN_PREFIX_LIMIT, Vnet,
    VpnDefaultRoute, VpnGateway, VpnMode,
};
use crate::units::{Bandwidth, LossModel};

/// The built-in topologies: name and TOML source (a `[topology]` table's body).
pub const BUILTIN_TOPOLOGIES: [(&str, &str); 5] = [
    (
        "expressroute-vpn-failover",
        include_str!("../../library/topologies/expressroute-vpn-failover.toml"),
    ),
    (
        "four-circuits",
        include_str!("../../library/topologies/four-circuits.toml"),
    ),
    (
        "layer3-provider",
        include_str!("../../library/topologies/layer3-provider.toml"),
    ),
    (
        "microsoft-peering",
        include_str!("../../library/topologies/microsoft-peering.toml"),
    ),
    (
        "single-ce",
        include_str!("../../library/topologies/single-ce.toml"),
    ),
];

/// The TOML source of a built-in topology.
#[must_use]
pub fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTIN_TOPOLOGIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
}

const DEFAULT_GATEWAY_SUBNET: &str = "10.10.255.0/27";

/// Default one-way delays (assumptions: a metro provider; they move results by milliseconds).
const ACCESS_DELAY: Duration = Duration::from_millis(1);
const CORE_DELAY: Duration = Duration::from_millis(2);
const AZURE_DELAY: Duration = Duration::from_micros(500);
const INTERNET_DELAY: Duration = Duration::from_millis(15);
const INTERNET_JITTER: Duration = Duration::from_millis(2);
const LAN_DELAY: Duration = Duration::from_micros(100);

/// Builds the topology named `name` from `spec`. Problems are pushed to `diags` with key
/// paths under `at` (the `[topology]` table's path, or the root of a built-in file); `None`
/// when an error makes the network unbuildable.
pub fn build(
    name: &str,
    spec: &TopologySpec,
    at: &KeyPath,
    diags: &mut Vec<Diagnostic>,
) -> Option<Topology> {
    let errors_before = diags.iter().filter(|d| d.is_error()).count();
    check_spec(spec, at, diags);
    if diags.iter().filter(|d| d.is_error()).count() > errors_before {
        return None;
    }
    let mut b = Builder {
        topo: Topology {
            name: name.to_owned(),
            provider: spec.provider,
            customer_asn: spec.customer_asn,
            routers: Vec::new(),
            sessions: Vec::new(),
            segments: Vec::new(),
            circuits: Vec::new(),
            onprem_prefixes: spec.onprem_prefixes.clone(),
            onprem_ipv6_prefixes: spec.onprem_ipv6_prefixes.clone(),
            public_prefixes: spec.public_prefixes.clone(),
            er_gateway: None,
            vpn: None,
            vnets: spec
                .vnet
                .iter()
                .map(|v| Vnet {
                    name: v.name.clone(),
                    prefixes: v.prefixes.clone(),
                    ipv6_prefixes: v.ipv6_prefixes.clone(),
                    routes: v.route.iter().map(user_route).collect(),
                })
                .collect(),
            internet: Some(Internet {
                segment: SegmentIx(0),
                microsoft_prefixes: topology::MICROSOFT_SERVICES
                    .iter()
                    .filter_map(|s| s.prefix.parse().ok())
                    .collect(),
                shares_edge_with_microsoft_peering: spec
                    .internet
                    .as_ref()
                    .and_then(|i| i.shares_edge_with_microsoft_peering)
                    .unwrap_or(false),
                forced_tunneling: spec.forced_tunneling.as_ref().map(|f| ForcedTunneling {
                    expressroute: f.expressroute.unwrap_or(true),
                    vpn: f.vpn.unwrap_or(if spec.vpn.is_some() {
                        VpnDefaultRoute::Bgp
                    } else {
                        VpnDefaultRoute::None
                    }),
                }),
            }),
            sites: Vec::new(),
            tenants: Vec::new(),
            chassis: Vec::new(),
        },
        access_subnets: 0,
    };
    b.build(spec);
    Some(b.topo)
}

/// A `[[topology.vnet.route]]` as the model holds it (checked by [`check_routes`]).
pub(super) fn user_route(r: &RouteSpec) -> UserRoute {
    UserRoute {
        prefix: r.prefix,
        next_hop: match r.next_hop_type {
            NextHopType::VirtualAppliance => {
                NextHop::VirtualAppliance(r.next_hop_address.unwrap_or(Ipv4Addr::UNSPECIFIED))
            }
            NextHopType::VirtualNetworkGateway | NextHopType::VpnGateway => {
                NextHop::VirtualNetworkGateway
            }
            NextHopType::Internet => NextHop::Internet,
            NextHopType::None => NextHop::None,
        },
    }
}

/// Forced tunneling and the VNets' user-defined routes.
fn check_routes(spec: &TopologySpec, at: &KeyPath, diags: &mut Vec<Diagnostic>) {
    if let Some(f) = &spec.forced_tunneling {
        let p = at.key("forced_tunneling");
        let has_private = spec
            .circuit
            .iter()
            .any(|c| c.peering.iter().any(|x| x.kind == PeeringKind::Private));
        if f.expressroute.unwrap_or(true) && !has_private {
            let key = if f.expressroute.is_some() {
                p.key("expressroute")
            } else {
                p.clone()
            };
            diags.push(
                Diagnostic::error(key, "forced tunneling without private peering")
                    .expected("a circuit with kind = \"private\" peering, or expressroute = false (the VPN alone carries the default route)")
                    .note("Azure accepts a default route on private peering only (ExpressRoute routing requirements, Advertising default routes)"),
            );
        }
        if matches!(
            f.vpn,
            Some(VpnDefaultRoute::Bgp | VpnDefaultRoute::DefaultSite)
        ) && spec.vpn.is_none()
        {
            diags.push(
                Diagnostic::error(
                    p.key("vpn"),
                    format!(
                        "a VPN default route (`{}`) without a VPN",
                        f.vpn.map_or("", VpnDefaultRoute::name)
                    ),
                )
                .expected("a [topology.vpn] table, or vpn = \"none\""),
            );
        }
        let vpn_carries = spec.vpn.is_some() && f.vpn != Some(VpnDefaultRoute::None);
        if f.expressroute == Some(false) && !vpn_carries {
            diags.push(
                Diagnostic::error(
                    p.key("expressroute"),
                    "forced tunneling that tunnels nothing",
                )
                .expected("expressroute = true, or a VPN with vpn = \"bgp\" or \"default_site\""),
            );
        }
    }
    for (i, vnet) in spec.vnet.iter().enumerate() {
        if i > 0 && !vnet.route.is_empty() {
            diags.push(
                Diagnostic::error(
                    at.key("vnet").index(i).key("route"),
                    format!(
                        "user-defined routes on VNet `{}` are not modelled",
                        vnet.name
                    ),
                )
                .expected("routes on the first [[topology.vnet]] only")
                .note("the model's VNets share one ingress, whose route table is the first VNet's"),
            );
        }
        check_vnet_routes(
            &vnet.name,
            &vnet.prefixes,
            &vnet.route,
            &at.key("vnet").index(i).key("route"),
            spec.vpn.is_some(),
            diags,
        );
    }
}

/// The user-defined routes of one VNet (`name`, address space `prefixes`) written at `at`:
/// network addresses, one route per prefix, an appliance address inside the VNet and only
/// for an appliance, a route to the gateway only with a VPN (`has_vpn`). Shared by the
/// template's `[[topology.vnet.route]]` and the general form's `[[vnet.route]]`.
pub(super) fn check_vnet_routes(
    name: &str,
    prefixes: &[Ipv4Net],
    routes: &[RouteSpec],
    at: &KeyPath,
    has_vpn: bool,
    diags: &mut Vec<Diagnostic>,
) {
    for (j, r) in routes.iter().enumerate() {
        let p = at.index(j);
        if r.prefix.trunc() != r.prefix {
            diags.push(
                Diagnostic::error(
                    p.key("prefix"),
                    format!("`{}` is not a network address", r.prefix),
                )
                .expected(format!("\"{}\"", r.prefix.trunc())),
            );
        }
        if routes[..j].iter().any(|o| o.prefix == r.prefix) {
            diags.push(
                Diagnostic::error(
                    p.key("prefix"),
                    format!("two routes for `{}` in VNet `{}`", r.prefix, name),
                )
                .note("a route table holds one route per prefix"),
            );
        }
        match (r.next_hop_type, r.next_hop_address) {
                (NextHopType::VirtualAppliance, None) => diags.push(
                    Diagnostic::error(
                        p.key("next_hop_type"),
                        "a virtual_appliance route without `next_hop_address`",
                    )
                    .expected("next_hop_address = the appliance's private address in the VNet, e.g. \"10.10.1.4\""),
                ),
                (NextHopType::VirtualAppliance, Some(a))
                    if !prefixes.iter().any(|n| n.contains(&a)) =>
                {
                    diags.push(
                        Diagnostic::error(
                            p.key("next_hop_address"),
                            format!("appliance address {a} is outside VNet `{}`", name),
                        )
                        .expected("an address inside the VNet's prefixes")
                        .allowed(prefixes.iter().map(ToString::to_string))
                        .note("a next hop address must be reachable without a gateway (Virtual network traffic routing, User-defined)"),
                    );
                }
                (NextHopType::VirtualAppliance, Some(_)) => {}
                (other, Some(_)) => diags.push(
                    Diagnostic::error(
                        p.key("next_hop_address"),
                        "only a virtual_appliance route has a next hop address",
                    )
                    .note(format!(
                        "next_hop_type = \"{}\" names its next hop itself",
                        other.name()
                    )),
                ),
                (NextHopType::VirtualNetworkGateway | NextHopType::VpnGateway, None)
                    if !has_vpn =>
                {
                    diags.push(
                        Diagnostic::error(
                            p.key("next_hop_type"),
                            "a route to the virtual network gateway without a VPN",
                        )
                        .expected("a [topology.vpn] table")
                        .note("a user-defined route may name a gateway of type VPN only, never the ExpressRoute gateway (Virtual network traffic routing, User-defined)"),
                    );
                }
                _ => {}
            }
    }
}

/// Structural checks that do not need the built network.
fn check_spec(spec: &TopologySpec, at: &KeyPath, diags: &mut Vec<Diagnostic>) {
    check_routes(spec, at, diags);
    let ce_routers = spec.ce_routers();
    if spec.circuit.is_empty() {
        if ce_routers != 0 {
            diags.push(
                Diagnostic::error(
                    at.key("ce_routers"),
                    format!("{ce_routers} CE routers without a circuit"),
                )
                .expected("no `ce_routers` (or 0) on a site that reaches Azure only over the VPN")
                .note("the CE routers are the ends of the circuits' links; a VPN-only site's router is its VPN device, `vpn1`"),
            );
        }
        if spec.vpn.is_none() {
            diags.push(
                Diagnostic::error(at.key("circuit"), "neither a circuit nor a VPN")
                    .expected("1 to 4 [[topology.circuit]] tables, or a [topology.vpn] table (a VPN-only site), or both")
                    .note("without either, on premises reaches no VNet"),
            );
        }
    } else if !(1..=2).contains(&ce_routers) {
        diags.push(
            Diagnostic::error(
                at.key("ce_routers"),
                format!("{ce_routers} CE routers is not supported"),
            )
            .expected("1 (one router carrying both links, no SLA) or 2 (active-active)")
            .allowed(["1", "2"]),
        );
    }
    if spec.circuit.len() > topology::MAX_CIRCUITS {
        diags.push(
            Diagnostic::error(
                at.key("circuit"),
                format!("{} circuits given", spec.circuit.len()),
            )
            .expected("1 to 4 [[topology.circuit]] tables")
            .note("a VNet spreads traffic by ECMP over at most 4 circuits (domain.md, limits)"),
        );
    }
    let has_v6_peering = spec
        .circuit
        .iter()
        .flat_map(|c| &c.peering)
        .any(|p| p.ipv6_primary_subnet.is_some() || p.ipv6_secondary_subnet.is_some());
    let has_v6_space = !spec.onprem_ipv6_prefixes.is_empty()
        || spec.vnet.iter().any(|v| !v.ipv6_prefixes.is_empty());
    if has_v6_space && !has_v6_peering {
        let key = if spec.onprem_ipv6_prefixes.is_empty() {
            at.key("vnet")
        } else {
            at.key("onprem_ipv6_prefixes")
        };
        diags.push(
            Diagnostic::error(key, "IPv6 address space without IPv6 private peering").expected(
                "ipv6_primary_subnet and ipv6_secondary_subnet (/126s) on a private peering",
            ),
        );
    }
    if spec.vnet.is_empty() {
        diags.push(
            Diagnostic::error(at.key("vnet"), "no VNet given")
                .expected("at least one [[topology.vnet]] with a name and prefixes"),
        );
    }
    check_customer_asn(spec.customer_asn, &at.key("customer_asn"), diags);
    match (spec.provider, spec.provider_asn) {
        (ProviderKind::Layer3, None) => diags.push(
            Diagnostic::error(
                at.key("provider"),
                "a layer-3 provider needs `provider_asn`",
            )
            .expected("provider_asn = <the provider's ASN>, e.g. 64600"),
        ),
        (ProviderKind::Layer2, Some(_)) => diags.push(
            Diagnostic::error(
                at.key("provider_asn"),
                "`provider_asn` is only used with provider = \"layer3\"",
            )
            .note("a layer-2 provider does not run BGP: the CE peers with the MSEEs directly"),
        ),
        _ => {}
    }
    if let Some(asn) = spec.provider_asn {
        check_customer_asn(asn, &at.key("provider_asn"), diags);
        if asn == spec.customer_asn {
            diags.push(
                Diagnostic::error(
                    at.key("provider_asn"),
                    format!("the provider's ASN {asn} is the customer's"),
                )
                .expected("the layer-3 provider's own ASN, different from customer_asn")
                .note("CE and PE run eBGP: with one ASN each would drop the other's routes as a loop (RFC 4271 §9.1.2)"),
            );
        }
    }
    if let Some(asn) = spec.vpn.as_ref().and_then(|v| v.asn)
        && asn == spec.customer_asn
    {
        diags.push(
            Diagnostic::error(
                at.key("vpn").key("asn"),
                format!("the VPN gateway's ASN {asn} is the customer's"),
            )
            .expected("a different ASN (Azure's default for the gateway is 65515)")
            .note("the VPN device and the gateway run eBGP over the tunnel"),
        );
    }
    if spec.onprem_prefixes.is_empty() {
        diags.push(
            Diagnostic::error(at.key("onprem_prefixes"), "no on-premises prefixes")
                .expected("a list of prefixes such as [\"10.1.0.0/16\"]"),
        );
    }
    let reserved_names = ["onprem", "microsoft", "internet"];
    for (i, vnet) in spec.vnet.iter().enumerate() {
        let p = at.key("vnet").index(i);
        if reserved_names.contains(&vnet.name.as_str()) || !is_simple_name(&vnet.name) {
            diags.push(
                Diagnostic::error(
                    p.key("name"),
                    format!("`{}` cannot name a VNet", vnet.name),
                )
                .expected("a name of letters, digits, `-` and `_`, other than onprem, microsoft and internet"),
            );
        }
        if spec.vnet[..i].iter().any(|v| v.name == vnet.name) {
            diags.push(Diagnostic::error(
                p.key("name"),
                format!("VNet `{}` is defined twice", vnet.name),
            ));
        }
        if vnet.prefixes.is_empty() {
            diags.push(
                Diagnostic::error(p.key("prefixes"), "a VNet needs an address space")
                    .expected("a list of prefixes such as [\"10.10.0.0/16\"]"),
            );
        }
    }
    for (i, c) in spec.circuit.iter().enumerate() {
        let p = at.key("circuit").index(i);
        if !is_simple_name(&c.name) {
            diags.push(
                Diagnostic::error(p.key("name"), format!("`{}` cannot name a circuit", c.name))
                    .expected("letters, digits, `-` and `_` (no dots: the name starts targets such as `circuit.primary`)"),
            );
        }
        if spec.circuit[..i].iter().any(|o| o.name == c.name) {
            diags.push(Diagnostic::error(
                p.key("name"),
                format!("circuit `{}` is defined twice", c.name),
            ));
        }
        if !topology::CIRCUIT_BANDWIDTHS_MBPS
            .iter()
            .any(|m| Bandwidth::from_mbps(*m) == c.bandwidth)
        {
            diags.push(
                Diagnostic::error(
                    p.key("bandwidth"),
                    format!("ExpressRoute is not sold at {}", c.bandwidth),
                )
                .allowed(
                    topology::CIRCUIT_BANDWIDTHS_MBPS
                        .iter()
                        .map(|m| Bandwidth::from_mbps(*m).to_string()),
                ),
            );
        }
        if c.peering.is_empty() {
            diags.push(
                Diagnostic::error(p.key("peering"), "a circuit needs at least one peering")
                    .expected("[[topology.circuit.peering]] with kind = \"private\", \"microsoft\" or \"public\""),
            );
        }
        for (j, peering) in c.peering.iter().enumerate() {
            let pp = p.key("peering").index(j);
            if c.peering[..j].iter().any(|o| o.kind == peering.kind) {
                diags.push(Diagnostic::error(
                    pp.key("kind"),
                    format!("the {} peering is defined twice", peering.kind.name()),
                ));
            }
            for (key, net) in [
                ("primary_subnet", peering.primary_subnet),
                ("secondary_subnet", peering.secondary_subnet),
            ] {
                if net.prefix_len() != 30 || net.trunc() != net {
                    diags.push(
                        Diagnostic::error(
                            pp.key(key),
                            format!("`{net}` is not a /30 network address"),
                        )
                        .expected("a /30 such as \"192.168.10.0/30\": its first usable address is the customer's, the second the MSEE's"),
                    );
                }
            }
            match (peering.ipv6_primary_subnet, peering.ipv6_secondary_subnet) {
                (None, None) => {}
                (Some(a), Some(b)) => {
                    for (key, net) in [("ipv6_primary_subnet", a), ("ipv6_secondary_subnet", b)] {
                        if net.prefix_len() != 126 || net.trunc() != net {
                            diags.push(
                                Diagnostic::error(
                                    pp.key(key),
                                    format!("`{net}` is not a /126 network address"),
                                )
                                .expected("a /126 such as \"2001:db8:10::/126\": its first usable address is the customer's, the second the MSEE's"),
                            );
                        }
                    }
                    if a == b {
                        diags.push(Diagnostic::error(
                            pp.key("ipv6_secondary_subnet"),
                            "the secondary /126 is the same as the primary",
                        ));
                    }
                    if peering.kind != PeeringKind::Private {
                        diags.push(
                            Diagnostic::error(
                                pp.key("ipv6_primary_subnet"),
                                format!("IPv6 on {} peering is not modelled", peering.kind.name()),
                            )
                            .expected("IPv6 subnets on the private peering"),
                        );
                    }
                    if spec.provider == ProviderKind::Layer3 {
                        diags.push(
                            Diagnostic::error(
                                pp.key("ipv6_primary_subnet"),
                                "IPv6 private peering is modelled on a layer-2 provider only",
                            )
                            .note("on a layer-3 provider the PE would need IPv6 sessions towards the CE too"),
                        );
                    }
                }
                (Some(_), None) | (None, Some(_)) => {
                    let missing = if peering.ipv6_primary_subnet.is_none() {
                        "ipv6_primary_subnet"
                    } else {
                        "ipv6_secondary_subnet"
                    };
                    diags.push(
                        Diagnostic::error(pp.clone(), format!("`{missing}` is missing"))
                            .expected("both IPv6 /126s (one per link) or neither"),
                    );
                }
            }
            if peering.primary_subnet == peering.secondary_subnet {
                diags.push(
                    Diagnostic::error(
                        pp.key("secondary_subnet"),
                        "the secondary /30 is the same as the primary",
                    )
                    .note("each link of a peering has its own /30"),
                );
            }
            if !(1..=4094).contains(&peering.vlan) {
                diags.push(
                    Diagnostic::error(
                        pp.key("vlan"),
                        format!("VLAN {} is out of range", peering.vlan),
                    )
                    .expected("an 802.1Q VLAN id from 1 to 4094"),
                );
            }
            if c.peering[..j].iter().any(|o| o.vlan == peering.vlan) {
                diags.push(Diagnostic::error(
                    pp.key("vlan"),
                    format!(
                        "VLAN {} is used by two peerings of one circuit",
                        peering.vlan
                    ),
                ));
            }
            if let Some(asn) = peering.peer_asn {
                check_customer_asn(asn, &pp.key("peer_asn"), diags);
            }
            if peering.public_prefixes_state.is_some() && peering.kind != PeeringKind::Microsoft {
                diags.push(
                    Diagnostic::error(
                        pp.key("public_prefixes_state"),
                        "only Microsoft peering has an advertised public prefixes state",
                    )
                    .allowed(["kind = \"microsoft\""]),
                );
            }
            check_route_filter(peering.kind, peering.route_filter.as_deref(), &pp, diags);
        }
    }
    if let Some(vpn) = &spec.vpn
        && let Some(d) = vpn.dpd_timeout
        && (d < Duration::from_secs(9) || d > Duration::from_secs(3600))
    {
        diags.push(
            Diagnostic::error(
                at.key("vpn").key("dpd_timeout"),
                format!("IKE dead-peer-detection timeout {d} is out of range"),
            )
            .expected("9s to 3600s (Azure's range; default 45s)"),
        );
    }
}

/// Refuses ASNs Azure reserves, on the customer side.
pub(crate) fn check_customer_asn(asn: u32, path: &KeyPath, diags: &mut Vec<Diagnostic>) {
    if topology::RESERVED_ASNS.contains(&asn) {
        diags.push(
            Diagnostic::error(
                path.clone(),
                format!("ASN {asn} is reserved by Azure and cannot be used on the customer side"),
            )
            .expected("any other ASN, e.g. a private one from 64512–65514 or 4200000000–4294967294")
            .note("reserved in Azure: 8074, 8075, 12076 (Microsoft), 65515–65520 (65515 is the gateways' default ASN)"),
        );
    } else if asn == 0 || asn == 23456 {
        diags.push(
            Diagnostic::error(path.clone(), format!("ASN {asn} cannot be used"))
                .note("0 is reserved (RFC 7607) and 23456 is AS_TRANS (RFC 6793)"),
        );
    }
}

/// Letters, digits, `-` and `_`; not empty.
fn is_simple_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// What a router of `role` starts from: its configured timers, BFD and `maximum_paths`
/// (the template's routers, and `[[router]]` tables with a `role`).
pub(super) fn role_defaults(role: Role) -> (BgpTimers, Option<BfdParams>, u8) {
    let timers = match role {
        Role::Msee | Role::ErGateway | Role::VpnGateway => BgpTimers::AZURE,
        // The customer and provider defaults match Microsoft's (60/180): that is the
        // "3 × 60 s" the reference scenario is about.
        Role::Ce | Role::Pe | Role::VpnDevice | Role::Router => BgpTimers {
            keepalive: None,
            hold_time: Duration::from_secs(180),
            connect_retry: Duration::from_secs(120),
            ..BgpTimers::AZURE
        },
    };
    // Equal-cost paths each role spreads flows over (`maximum_paths`, settable per router
    // for the customer's routers):
    // - the ExpressRoute gateway: Azure spreads equal routes per flow over up to four
    //   circuits, each circuit's two links active-active ("Designing for high
    //   availability with ExpressRoute"; domain.md), so eight BGP paths;
    // - a CE: two, the active-active configuration Microsoft asks customers for (both
    //   links of a circuit carry traffic). That is configured, not a vendor default:
    //   Cisco IOS-XE (`maximum-paths`, default 1), Junos (`multipath`, off) and BIRD
    //   (`merge paths`, off) use one path unless told; set `maximum_paths = 1` to model
    //   such a router;
    // - an MSEE and a PE: one (each has one link towards the customer per peering);
    // - the VPN device and the VPN gateway: one, or two for an active-active gateway
    //   (set after the tunnels are built: Azure sends over both tunnels of an
    //   active-active gateway, and the device is expected to use both).
    let (bfd, max_paths) = match role {
        Role::Msee => (Some(BfdParams::MSEE), 1),
        Role::ErGateway => (None, 8),
        Role::Ce => (None, 2),
        Role::Pe | Role::VpnDevice | Role::VpnGateway | Role::Router => (None, 1),
    };
    (timers, bfd, max_paths)
}

struct Builder {
    topo: Topology,
    /// Synthetic /30s handed out so far (CE–PE access sessions).
    access_subnets: u32,
}

impl Builder {
    fn router(&mut self, name: String, role: Role, asn: u32, id: Ipv4Addr) -> RouterIx {
        let (timers, bfd, max_paths) = role_defaults(role);
        self.topo.routers.push(Router {
            name,
            role,
            asn,
            router_id: id,
            profile: Profile::Rfc4271,
            timers,
            bfd,
            max_paths,
        });
        RouterIx(self.topo.routers.len() - 1)
    }

    fn segment(
        &mut self,
        name: String,
        kind: SegmentKind,
        ends: [Node; 2],
        props: LinkProps,
    ) -> SegmentIx {
        self.topo.segments.push(Segment {
            name,
            kind,
            ends,
            props,
        });
        SegmentIx(self.topo.segments.len() - 1)
    }

    fn next_access_subnet(&mut self) -> (Ipv4Addr, Ipv4Addr) {
        // 172.16.0.0/12 split into /30s: CE first usable, PE second.
        let base = u32::from(Ipv4Addr::new(172, 16, 0, 0)) + self.access_subnets * 4;
        self.access_subnets += 1;
        (Ipv4Addr::from(base + 1), Ipv4Addr::from(base + 2))
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one linear walk over the network; splitting it would scatter the naming rules"
    )]
    fn build(&mut self, spec: &TopologySpec) {
        let asn = spec.customer_asn;
        let ces: Vec<RouterIx> = (1..=spec.ce_routers())
            .map(|i| {
                self.router(
                    format!("ce{i}"),
                    Role::Ce,
                    asn,
                    Ipv4Addr::new(10, 255, 1, i),
                )
            })
            .collect();
        let ce_for = |side: LinkSide| -> RouterIx {
            // Active-active: the primary link ends on ce1, the secondary on ce2.
            ces.get(side.index())
                .or_else(|| ces.first())
                .copied()
                .unwrap_or(RouterIx(0))
        };
        let link_bw = |c: &crate::spec::CircuitSpec| Some(c.bandwidth);
        // MSEEs (and PEs) per circuit, in circuit order.
        let mut per_circuit = Vec::new();
        for (ci, c) in spec.circuit.iter().enumerate() {
            let k = u8::try_from(ci).unwrap_or(u8::MAX);
            let mut links = Vec::new();
            for side in LinkSide::BOTH {
                let n = 2 * k + 1 + u8::try_from(side.index()).unwrap_or(0);
                let pe = (spec.provider == ProviderKind::Layer3).then(|| {
                    self.router(
                        format!("pe{n}"),
                        Role::Pe,
                        spec.provider_asn.unwrap_or(0),
                        Ipv4Addr::new(10, 255, 2, n),
                    )
                });
                let msee = self.router(
                    format!("msee{n}"),
                    Role::Msee,
                    MICROSOFT_ASN,
                    Ipv4Addr::new(10, 255, 3, n),
                );
                let ce = ce_for(side);
                let node = match pe {
                    Some(pe) => Node::Router(pe),
                    None => Node::Transit(format!("{}.{}.provider", c.name, side.name())),
                };
                let access_props = LinkProps {
                    delay: c.access_delay.unwrap_or(ACCESS_DELAY),
                    jitter: Duration::ZERO,
                    loss: LossModel::NONE,
                    bandwidth: link_bw(c),
                };
                let access = self.segment(
                    format!("{}.{}.access", c.name, side.name()),
                    SegmentKind::Access,
                    [Node::Router(ce), node.clone()],
                    access_props,
                );
                let core = self.segment(
                    format!("{}.{}.core", c.name, side.name()),
                    SegmentKind::Core,
                    [node, Node::Router(msee)],
                    LinkProps {
                        delay: c.core_delay.unwrap_or(CORE_DELAY),
                        ..access_props
                    },
                );
                links.push(CircuitLink {
                    side,
                    ce,
                    pe,
                    msee,
                    access,
                    core,
                });
            }
            // Invariant: one link per side, pushed just above.
            let Ok(links) = <[CircuitLink; 2]>::try_from(links) else {
                continue;
            };
            per_circuit.push(links);
        }
        // The ExpressRoute gateway exists when a circuit does (a VPN-only site has none).
        let ergw = if spec.circuit.is_empty() {
            RouterIx(usize::MAX)
        } else {
            let ergw = self.router(
                "ergw".to_owned(),
                Role::ErGateway,
                AZURE_GATEWAY_ASN,
                Ipv4Addr::new(10, 255, 4, 1),
            );
            self.topo.er_gateway = Some(ErGateway {
                router: ergw,
                convergence_delay: spec
                    .er_gateway
                    .as_ref()
                    .and_then(|g| g.convergence_delay)
                    .unwrap_or(topology::ER_GATEWAY_CONVERGENCE_DELAY),
                max_prefixes_to_onprem: GATEWAY_PREFIX_LIMIT,
                // Microsoft documents failover times for the VPN gateway only; the
                // ExpressRoute gateway borrows them (an assumption, see `sim::azure`).
                planned_failover: spec
                    .er_gateway
                    .as_ref()
                    .and_then(|g| g.planned_failover)
                    .unwrap_or(topology::GATEWAY_PLANNED_FAILOVER),
                unplanned_failover: spec
                    .er_gateway
                    .as_ref()
                    .and_then(|g| g.unplanned_failover)
                    .unwrap_or(topology::GATEWAY_UNPLANNED_FAILOVER),
            });
            ergw
        };
        let gateway_subnet: Ipv4Net = spec
            .gateway_subnet
            .or_else(|| DEFAULT_GATEWAY_SUBNET.parse().ok())
            .unwrap_or_default();
        let vnet_prefixes: Vec<Ipv4Net> = self
            .topo
            .vnets
            .iter()
            .flat_map(|v| v.prefixes.iter().copied())
            .collect();
        let v4 = |p: &[Ipv4Net]| p.iter().map(|x| IpNet::V4(*x)).collect::<Vec<IpNet>>();
        let onprem = v4(&spec.onprem_prefixes);
        // Forced tunneling: on premises also originates the default route, over private
        // peering and (with `vpn = "bgp"`) over the tunnel's BGP session.
        let forced = self.topo.forced_tunneling();
        let default_route = IpNet::V4(Ipv4Net::default());
        let mut onprem_private = onprem.clone();
        if forced.is_some_and(|f| f.expressroute) {
            onprem_private.push(default_route);
        }
        let mut onprem_vpn = onprem;
        if forced.is_some_and(|f| f.vpn == VpnDefaultRoute::Bgp) {
            onprem_vpn.push(default_route);
        }
        let onprem_v6: Vec<IpNet> = spec
            .onprem_ipv6_prefixes
            .iter()
            .map(|x| IpNet::V6(*x))
            .collect();
        let vnet_v6: Vec<IpNet> = self
            .topo
            .vnets
            .iter()
            .flat_map(|v| v.ipv6_prefixes.iter().map(|x| IpNet::V6(*x)))
            .collect();
        let public = v4(&spec.public_prefixes);
        let microsoft = self
            .topo
            .internet
            .as_ref()
            .map_or_else(Vec::new, |i| v4(&i.microsoft_prefixes));

        for (ci, (c, links)) in spec.circuit.iter().zip(per_circuit).enumerate() {
            let cix = CircuitIx(ci);
            let mut peerings = Vec::new();
            for p in &c.peering {
                let peering = Peering {
                    kind: p.kind,
                    subnets: [p.primary_subnet, p.secondary_subnet],
                    ipv6_subnets: p
                        .ipv6_primary_subnet
                        .zip(p.ipv6_secondary_subnet)
                        .map(|(a, b)| [a, b]),
                    vlan: p.vlan,
                    peer_asn: p.peer_asn.unwrap_or(asn),
                    md5: p.md5.clone(),
                    public_prefixes_state: p
                        .public_prefixes_state
                        .unwrap_or(PublicPrefixesState::Configured),
                    enabled: p.enabled.unwrap_or(true),
                    route_filter: p
                        .route_filter
                        .as_ref()
                        .map(|f| f.iter().filter_map(|c| parse_community(c)).collect()),
                };
                for link in &links {
                    let subnet = peering.subnets[link.side.index()];
                    let base = u32::from(subnet.network());
                    let (customer_addr, msee_addr) = (
                        IpAddr::V4(Ipv4Addr::from(base + 1)),
                        IpAddr::V4(Ipv4Addr::from(base + 2)),
                    );
                    let (customer_announces, msee_announces, limit) = match p.kind {
                        PeeringKind::Private => (
                            onprem_private.clone(),
                            Vec::new(),
                            match c.sku.unwrap_or(Sku::Standard) {
                                Sku::Standard => topology::PRIVATE_PREFIX_LIMIT,
                                Sku::Premium => topology::PRIVATE_PREFIX_LIMIT_PREMIUM,
                            },
                        ),
                        // Microsoft peering carries only what the route filter allows: nothing
                        // without one. Public peering (retired) predates route filters.
                        PeeringKind::Microsoft => (
                            public.clone(),
                            microsoft
                                .iter()
                                .filter(|m| {
                                    let IpNet::V4(m) = m else { return false };
                                    topology::microsoft_service_of(*m).is_some_and(|s| {
                                        peering
                                            .route_filter
                                            .as_ref()
                                            .is_some_and(|f| f.contains(&s.community))
                                    })
                                })
                                .copied()
                                .collect(),
                            MICROSOFT_PREFIX_LIMIT,
                        ),
                        PeeringKind::Public => {
                            (public.clone(), microsoft.clone(), MICROSOFT_PREFIX_LIMIT)
                        }
                    };
                    let name = format!("{}.{}.{}", c.name, link.side.name(), p.kind.name());
                    let customer_router = link.pe.unwrap_or(link.ce);
                    let customer_path = match link.pe {
                        Some(_) => vec![link.core],
                        None => vec![link.access, link.core],
                    };
                    self.topo.sessions.push(Session {
                        name: name.clone(),
                        kind: SessionKind::Peering,
                        ends: [
                            SessionEnd {
                                router: customer_router,
                                addr: customer_addr,
                                local_pref: None,
                                weight: None,
                                max_prefixes: None,
                                prepend: 0,
                                policy: EndPolicy::default(),
                                // A PE relays what the CE sends; it originates nothing.
                                announces: if link.pe.is_some() {
                                    Vec::new()
                                } else {
                                    customer_announces.clone()
                                },
                            },
                            SessionEnd {
                                router: link.msee,
                                addr: msee_addr,
                                local_pref: None,
                                weight: None,
                                max_prefixes: Some(limit),
                                prepend: 0,
                                policy: EndPolicy::default(),
                                announces: msee_announces,
                            },
                        ],
                        on: Some((cix, link.side, p.kind)),
                        path: customer_path.clone(),
                        vlan: Some(p.vlan),
                        md5: p.md5.clone(),
                        bfd: None,
                        families: None,
                    });
                    // IPv6 private peering: a second session per link over the /126, same
                    // VLAN and path, carrying IPv6 unicast only (layer 2; `check_spec`
                    // refuses IPv6 on a layer-3 provider).
                    if let (Some(v6), None) = (peering.ipv6_subnets, link.pe) {
                        let base = u128::from(v6[link.side.index()].network());
                        self.topo.sessions.push(Session {
                            name: format!("{name}.ipv6"),
                            kind: SessionKind::Peering,
                            ends: [
                                SessionEnd {
                                    router: link.ce,
                                    addr: IpAddr::V6(Ipv6Addr::from(base + 1)),
                                    local_pref: None,
                                    weight: None,
                                    max_prefixes: None,
                                    prepend: 0,
                                    policy: EndPolicy::default(),
                                    announces: onprem_v6.clone(),
                                },
                                SessionEnd {
                                    router: link.msee,
                                    addr: IpAddr::V6(Ipv6Addr::from(base + 2)),
                                    local_pref: None,
                                    weight: None,
                                    max_prefixes: Some(topology::PRIVATE_IPV6_PREFIX_LIMIT),
                                    prepend: 0,
                                    policy: EndPolicy::default(),
                                    announces: Vec::new(),
                                },
                            ],
                            on: Some((cix, link.side, p.kind)),
                            path: customer_path,
                            vlan: Some(p.vlan),
                            md5: p.md5.clone(),
                            bfd: None,
                            families: None,
                        });
                    }
                    if let Some(pe) = link.pe {
                        let (ce_addr, pe_addr) = self.next_access_subnet();
                        self.topo.sessions.push(Session {
                            name: format!("{name}.access"),
                            kind: SessionKind::Access,
                            ends: [
                                SessionEnd {
                                    router: link.ce,
                                    addr: IpAddr::V4(ce_addr),
                                    local_pref: None,
                                    weight: None,
                                    max_prefixes: None,
                                    prepend: 0,
                                    policy: EndPolicy::default(),
                                    announces: customer_announces,
                                },
                                SessionEnd {
                                    router: pe,
                                    addr: IpAddr::V4(pe_addr),
                                    local_pref: None,
                                    weight: None,
                                    max_prefixes: None,
                                    prepend: 0,
                                    policy: EndPolicy::default(),
                                    announces: Vec::new(),
                                },
                            ],
                            on: Some((cix, link.side, p.kind)),
                            path: vec![link.access],
                            vlan: None,
                            md5: None,
                            bfd: None,
                            families: None,
                        });
                    }
                }
                peerings.push(peering);
            }
            // The gateway's BGP sessions with the two MSEEs (private peering only).
            if c.peering.iter().any(|p| p.kind == PeeringKind::Private) {
                for link in &links {
                    let msee_name = self.topo.router_name(link.msee).to_owned();
                    let seg = self.segment(
                        format!("azure.{msee_name}"),
                        SegmentKind::Azure,
                        [Node::Router(link.msee), Node::Router(ergw)],
                        LinkProps {
                            delay: AZURE_DELAY,
                            jitter: Duration::ZERO,
                            loss: LossModel::NONE,
                            bandwidth: None,
                        },
                    );
                    let n = u32::try_from(self.topo.segments.len()).unwrap_or(0);
                    let base = u32::from(gateway_subnet.network());
                    self.topo.sessions.push(Session {
                        name: format!("{}.{}.gateway", c.name, link.side.name()),
                        kind: SessionKind::Gateway,
                        ends: [
                            SessionEnd {
                                router: link.msee,
                                addr: IpAddr::V4(Ipv4Addr::new(
                                    192,
                                    0,
                                    2,
                                    u8::try_from(n % 250).unwrap_or(1) + 1,
                                )),
                                local_pref: None,
                                weight: None,
                                max_prefixes: Some(GATEWAY_PREFIX_LIMIT),
                                prepend: 0,
                                policy: EndPolicy::default(),
                                announces: Vec::new(),
                            },
                            SessionEnd {
                                router: ergw,
                                addr: IpAddr::V4(Ipv4Addr::from(
                                    base + 4 + u32::from(link.side == LinkSide::Secondary),
                                )),
                                local_pref: None,
                                weight: Some(0),
                                max_prefixes: None,
                                prepend: 0,
                                policy: EndPolicy::default(),
                                announces: v4(&vnet_prefixes),
                            },
                        ],
                        on: Some((cix, link.side, PeeringKind::Private)),
                        path: vec![seg],
                        vlan: None,
                        md5: None,
                        bfd: None,
                        families: None,
                    });
                    // With IPv6 private peering, the gateway learns and advertises IPv6 over
                    // its own IPv6 sessions with the MSEEs. Their addresses are internal to
                    // Azure (a ULA here); nothing outside sees them.
                    if c.peering
                        .iter()
                        .any(|p| p.kind == PeeringKind::Private && p.ipv6_primary_subnet.is_some())
                    {
                        let n = u128::from(u16::from(link.side == LinkSide::Secondary))
                            + 2 * u128::try_from(ci).unwrap_or(0);
                        let base =
                            u128::from(Ipv6Addr::new(0xfd00, 0x12, 0x76, 0, 0, 0, 0, 0)) + 4 * n;
                        self.topo.sessions.push(Session {
                            name: format!("{}.{}.gateway.ipv6", c.name, link.side.name()),
                            kind: SessionKind::Gateway,
                            ends: [
                                SessionEnd {
                                    router: link.msee,
                                    addr: IpAddr::V6(Ipv6Addr::from(base + 1)),
                                    local_pref: None,
                                    weight: None,
                                    max_prefixes: Some(topology::GATEWAY_IPV6_PREFIX_LIMIT),
                                    prepend: 0,
                                    policy: EndPolicy::default(),
                                    announces: Vec::new(),
                                },
                                SessionEnd {
                                    router: ergw,
                                    addr: IpAddr::V6(Ipv6Addr::from(base + 2)),
                                    local_pref: None,
                                    weight: Some(0),
                                    max_prefixes: None,
                                    prepend: 0,
                                    policy: EndPolicy::default(),
                                    announces: vnet_v6.clone(),
                                },
                            ],
                            on: Some((cix, link.side, PeeringKind::Private)),
                            path: vec![seg],
                            vlan: None,
                            md5: None,
                            bfd: None,
                            families: None,
                        });
                    }
                }
            }
            self.topo.circuits.push(Circuit {
                name: c.name.clone(),
                bandwidth: c.bandwidth,
                sku: c.sku.unwrap_or(Sku::Standard),
                provider_state: c.provider_state.unwrap_or(ProviderState::Provisioned),
                enabled: c.enabled.unwrap_or(true),
                weight: 0,
                links,
                peerings,
            });
        }

        let internet_props = LinkProps {
            delay: spec
                .internet
                .as_ref()
                .and_then(|i| i.delay)
                .unwrap_or(INTERNET_DELAY),
            jitter: spec
                .internet
                .as_ref()
                .and_then(|i| i.jitter)
                .unwrap_or(INTERNET_JITTER),
            loss: LossModel::NONE,
            bandwidth: None,
        };
        let internet_segment = self.segment(
            "internet".to_owned(),
            SegmentKind::Internet,
            [
                Node::Transit("onprem-edge".to_owned()),
                Node::Transit("microsoft-edge".to_owned()),
            ],
            internet_props,
        );
        if let Some(i) = self.topo.internet.as_mut() {
            i.segment = internet_segment;
        }

        // On-premises LAN: one segment per router, joined by a transit node.
        let mut onprem_routers = ces.clone();
        if let Some(vpn) = &spec.vpn {
            let device = self.router(
                "vpn1".to_owned(),
                Role::VpnDevice,
                asn,
                Ipv4Addr::new(10, 255, 1, 100),
            );
            onprem_routers.push(device);
            let gw_asn = vpn.asn.unwrap_or(AZURE_GATEWAY_ASN);
            let vpngw = self.router(
                "vpngw".to_owned(),
                Role::VpnGateway,
                gw_asn,
                Ipv4Addr::new(10, 255, 4, 2),
            );
            let mode = vpn.mode.unwrap_or(VpnMode::ActiveStandby);
            let instances: Vec<Option<u8>> = match mode {
                VpnMode::ActiveStandby => vec![None],
                VpnMode::ActiveActive => vec![Some(0), Some(1)],
            };
            let mut tunnels = Vec::new();
            for inst in instances {
                let (seg_name, sess_name, k) = match inst {
                    None => ("vpn.tunnel".to_owned(), "vpn".to_owned(), 0u8),
                    Some(i) => (
                        format!("vpn.tunnel.instance{i}"),
                        format!("vpn.instance{i}"),
                        i,
                    ),
                };
                let tunnel = self.segment(
                    seg_name,
                    SegmentKind::Tunnel,
                    [Node::Router(device), Node::Router(vpngw)],
                    internet_props,
                );
                tunnels.push(tunnel);
                // Azure's APIPA BGP range for VPN gateways: 169.254.21.0–169.254.22.255.
                self.topo.sessions.push(Session {
                    name: sess_name,
                    kind: SessionKind::Vpn,
                    ends: [
                        SessionEnd {
                            router: device,
                            addr: IpAddr::V4(Ipv4Addr::new(169, 254, 21, 4 * k + 2)),
                            local_pref: None,
                            weight: None,
                            max_prefixes: None,
                            prepend: 0,
                            policy: EndPolicy::default(),
                            announces: onprem_vpn.clone(),
                        },
                        SessionEnd {
                            router: vpngw,
                            addr: IpAddr::V4(Ipv4Addr::new(169, 254, 21, 4 * k + 1)),
                            local_pref: None,
                            weight: None,
                            max_prefixes: Some(VPN_PREFIX_LIMIT),
                            prepend: 0,
                            policy: EndPolicy::default(),
                            announces: v4(&vnet_prefixes),
                        },
                    ],
                    on: None,
                    path: vec![tunnel],
                    vlan: None,
                    md5: None,
                    bfd: None,
                    families: None,
                });
            }
            if mode == VpnMode::ActiveActive {
                for r in [device, vpngw] {
                    if let Some(router) = self.topo.routers.get_mut(r.0) {
                        router.max_paths = 2;
                    }
                }
            }
            self.topo.vpn = Some(VpnGateway {
                router: vpngw,
                device,
                mode,
                dpd_timeout: vpn.dpd_timeout.unwrap_or(topology::VPN_DPD_TIMEOUT),
                planned_failover: vpn
                    .planned_failover
                    .unwrap_or(topology::GATEWAY_PLANNED_FAILOVER),
                unplanned_failover: vpn
                    .unplanned_failover
                    .unwrap_or(topology::GATEWAY_UNPLANNED_FAILOVER),
                tunnels,
                max_prefixes: VPN_PREFIX_LIMIT,
            });
        }
        if onprem_routers.len() > 1 {
            let lan: Vec<SegmentIx> = onprem_routers
                .iter()
                .map(|r| {
                    let name = format!("onprem.lan.{}", self.topo.router_name(*r));
                    self.segment(
                        name,
                        SegmentKind::Lan,
                        [Node::Router(*r), Node::Transit("onprem-lan".to_owned())],
                        LinkProps {
                            delay: LAN_DELAY,
                            jitter: Duration::ZERO,
                            loss: LossModel::NONE,
                            bandwidth: None,
                        },
                    )
                })
                .collect();
            for i in 0..onprem_routers.len() {
                for j in i + 1..onprem_routers.len() {
                    let (a, b) = (onprem_routers[i], onprem_routers[j]);
                    let name = format!(
                        "ibgp.{}.{}",
                        self.topo.router_name(a),
                        self.topo.router_name(b)
                    );
                    let addr = |r: RouterIx, t: &Topology| {
                        t.routers
                            .get(r.0)
                            .map_or(Ipv4Addr::UNSPECIFIED, |x| x.router_id)
                    };
                    let end = |r: RouterIx, t: &Topology| SessionEnd {
                        router: r,
                        addr: IpAddr::V4(addr(r, t)),
                        local_pref: None,
                        weight: None,
                        max_prefixes: None,
                        prepend: 0,
                        policy: EndPolicy::default(),
                        announces: Vec::new(),
                    };
                    let ends = [end(a, &self.topo), end(b, &self.topo)];
                    self.topo.sessions.push(Session {
                        name,
                        kind: SessionKind::Ibgp,
                        ends,
                        on: None,
                        path: vec![lan[i], lan[j]],
                        vlan: None,
                        md5: None,
                        bfd: None,
                        families: None,
                    });
                }
            }
        }
    }
}

/// A standard community written `ASN:value` (both 16 bits).
pub(super) fn parse_community(text: &str) -> Option<u32> {
    let (asn, value) = text.split_once(':')?;
    let asn: u16 = asn.parse().ok()?;
    let value: u16 = value.parse().ok()?;
    Some(u32::from(asn) << 16 | u32::from(value))
}

/// A peering's `route_filter`: Microsoft peering only, each entry the community of a service
/// the model knows; a Microsoft peering without one is warned about, since Microsoft
/// advertises nothing over it ("Configure route filters for Microsoft peering": a circuit's
/// Microsoft peering receives no prefixes until a route filter is attached). `pp` is the
/// peering's table (the template's `[[topology.circuit.peering]]` or the general form's
/// `[[circuit.peering]]`: one check for both).
pub(super) fn check_route_filter(
    kind: PeeringKind,
    route_filter: Option<&[String]>,
    pp: &KeyPath,
    diags: &mut Vec<Diagnostic>,
) {
    let known = || {
        topology::MICROSOFT_SERVICES
            .iter()
            .map(|s| format!("{} ({})", topology::community_text(s.community), s.what))
    };
    let Some(filter) = route_filter else {
        if kind == PeeringKind::Microsoft {
            diags.push(
                Diagnostic::warning(
                    pp.key("kind"),
                    "Microsoft peering without a route filter: Microsoft advertises no prefix over it, so Microsoft's services are reached over the internet",
                )
                .note("attach one: route_filter = [\"12076:5010\"] selects Exchange Online; the services the model knows are below")
                .allowed(known()),
            );
        }
        return;
    };
    if kind != PeeringKind::Microsoft {
        diags.push(
            Diagnostic::error(
                pp.key("route_filter"),
                format!(
                    "a route filter selects Microsoft's services on Microsoft peering, not on {} peering",
                    kind.name()
                ),
            )
            .allowed(["kind = \"microsoft\""]),
        );
        return;
    }
    for (k, text) in filter.iter().enumerate() {
        let at = pp.key("route_filter").index(k);
        match parse_community(text) {
            None => diags.push(
                Diagnostic::error(at, format!("`{text}` is not a BGP community"))
                    .expected("ASN:value, both 0-65535, e.g. \"12076:5010\""),
            ),
            Some(c)
                if !topology::MICROSOFT_SERVICES
                    .iter()
                    .any(|s| s.community == c) =>
            {
                diags.push(
                    Diagnostic::error(
                        at,
                        format!("community {text} selects no service the model knows"),
                    )
                    .allowed(known()),
                );
            }
            Some(c) if filter[..k].iter().any(|o| parse_community(o) == Some(c)) => diags.push(
                Diagnostic::error(at, format!("community {text} is listed twice")),
            ),
            Some(_) => {}
        }
    }
}
