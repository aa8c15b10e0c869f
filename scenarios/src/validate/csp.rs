//! The Cloud Solution Provider template (`[csp]`): N customers, each with its own circuits,
//! its own ExpressRoute gateway and its own VNet.
//!
//! Microsoft's "ExpressRoute for Cloud Solution Providers" describes two models:
//!
//! - **connect-through**: the provider's datacenter connects its customers' Azure
//!   subscriptions over ExpressRoute. Each customer has its own pair of links (circuits are
//!   not shared between customers) and its traffic is isolated from the others'. The
//!   provider's edge is shared: here two boxes, `edge1` and `edge2`, each a chassis with one
//!   VRF per customer (`edge1-t1`, `edge1-t2`, ...; the primary link of every customer's
//!   circuit on `edge1`, the secondary on `edge2`).
//! - **connect-to**: each customer's own circuit, from its own edge (`t1-ce1`, `t1-ce2`),
//!   reaches a subscription the provider manages.
//!
//! # Design, and why
//!
//! The template builds on the general layer rather than on a second special path: every part
//! it makes is a router, link, session, circuit or site that the general form can write and
//! read back (`[[router]]`, `[[link]]`, `[[session]]`, `[[circuit]]`, `[[site]]`), plus two
//! tables for what the general form could not say before:
//!
//! - `[[tenant]]`: a customer's hosts (a site), its VNet (a site behind its gateway), its
//!   circuits and its ExpressRoute gateway with that gateway's route-programming delay. The
//!   template's one gateway (`[er_gateway]`) stays as it was; a tenant's gateway is another
//!   router in role `er_gateway`, connected only to its own circuits' MSEEs, whose forwarding
//!   follows its BGP table after its own delay (`sim::azure`). A VNet behind a tenant gateway
//!   is a site: the template's `[[vnet]]` shares one ingress with every gateway, which is
//!   what made isolation impossible to model.
//! - `[[chassis]]`: the VRFs of one box. A router of the model has one RIB and one FIB, so a
//!   VRF is a router of its own; what makes them one box is that a crash (or restart) of any
//!   of them is a crash of all (`sim::faults`).
//!
//! Each tenant's address space (its hosts' and its VNet's) must stay apart from every other
//! tenant's. A real VRF may reuse another customer's addresses; the model may not, because
//! it tells tenants apart by their prefixes (the probe endpoints and the isolation check,
//! which counts every route of another tenant's space in a tenant's routers' tables).

use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};
use sim_core::time::Duration;

use super::{Validator, root};
use crate::diag::Diagnostic;
use crate::spec::{CspModel, CspSpec};
use crate::topology;
use crate::topology::{
    AZURE_GATEWAY_ASN, Chassis, Circuit, CircuitIx, CircuitLink, EndPolicy, ErGateway,
    GATEWAY_PREFIX_LIMIT, LinkProps, LinkSide, MAX_CIRCUITS, MAX_TENANTS, MICROSOFT_ASN, Node,
    PRIVATE_PREFIX_LIMIT, Peering, PeeringKind, ProviderKind, ProviderState, PublicPrefixesState,
    Role, Router, RouterIx, Segment, SegmentIx, SegmentKind, Session, SessionEnd, SessionKind,
    Site, Sku, Tenant, Topology,
};
use crate::units::{Bandwidth, LossModel, TimeSpec};

/// The provider's ASN on its shared edge when `[csp]` gives none.
const DEFAULT_PROVIDER_ASN: u32 = 65001;
/// One-way delays, as the ExpressRoute template's defaults.
const ACCESS_DELAY: Duration = Duration::from_millis(1);
const CORE_DELAY: Duration = Duration::from_millis(2);
const AZURE_DELAY: Duration = Duration::from_micros(500);
const LAN_DELAY: Duration = Duration::from_micros(100);

/// One customer as the template resolved it.
struct Customer {
    name: String,
    asn: u32,
    prefixes: Vec<Ipv4Net>,
    vnet_prefixes: Vec<Ipv4Net>,
    circuits: u32,
}

/// A /16 of 10.0.0.0/8: the default address space of customer `k` (1-based) in `base`.
fn default_space(base: u32, k: u32) -> Ipv4Net {
    let second = u8::try_from(base + k).unwrap_or(u8::MAX);
    Ipv4Net::new(Ipv4Addr::new(10, second, 0, 0), 16).unwrap_or_default()
}

fn simple(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Validator {
    /// The network of a `[csp]` table; `None` (with errors located at its keys) when it
    /// cannot be built.
    #[allow(
        clippy::too_many_lines,
        reason = "the checks of one table, key by key, in the order a reader meets them"
    )]
    pub(super) fn csp(&mut self, c: &CspSpec) -> Option<Topology> {
        let at = root().key("csp");
        let errors_before = self.diags.iter().filter(|d| d.is_error()).count();
        if c.tenants == 0 || c.tenants > MAX_TENANTS {
            self.error(
                Diagnostic::error(
                    at.key("tenants"),
                    format!("a Cloud Solution Provider with {} customers", c.tenants),
                )
                .expected(format!("1 to {MAX_TENANTS} tenants")),
            );
            return None;
        }
        if c.tenant.len() > c.tenants as usize {
            self.error(
                Diagnostic::error(
                    at.key("tenant").index(c.tenants as usize),
                    format!(
                        "{} [[csp.tenant]] tables for {} tenants",
                        c.tenant.len(),
                        c.tenants
                    ),
                )
                .expected(format!(
                    "at most {} table(s), one per tenant, or `tenants = {}`",
                    c.tenants,
                    c.tenant.len()
                )),
            );
        }
        let provider_asn = c.provider_asn.unwrap_or(DEFAULT_PROVIDER_ASN);
        match (c.model, c.provider_asn) {
            (CspModel::ConnectTo, Some(_)) => self.error(
                Diagnostic::error(
                    at.key("provider_asn"),
                    "`provider_asn` in the connect-to model",
                )
                .expected("no `provider_asn`: each customer's edge speaks its own ASN (`[[csp.tenant]] asn`)")
                .note("in connect-to the customer's own circuit and edge reach the subscription the provider manages (ExpressRoute for Cloud Solution Providers)"),
            ),
            (CspModel::ConnectThrough, Some(asn)) => {
                super::build::check_customer_asn(asn, &at.key("provider_asn"), &mut self.diags);
            }
            (_, None) => {}
        }
        if let Some(b) = c.bandwidth
            && !topology::CIRCUIT_BANDWIDTHS_MBPS
                .iter()
                .any(|m| m * 1_000_000 == b.bps())
        {
            self.error(
                Diagnostic::error(at.key("bandwidth"), format!("no circuit is sold at {b}"))
                    .expected("50Mbps 100Mbps 200Mbps 500Mbps 1Gbps 2Gbps 5Gbps 10Gbps"),
            );
        }
        if let Some(TimeSpec::Range { min, max }) = c.convergence_delay
            && min > max
        {
            self.error(
                Diagnostic::error(
                    at.key("convergence_delay"),
                    format!("the range {min}..{max} is empty"),
                )
                .expected("min <= max"),
            );
        }
        let mut customers: Vec<Customer> = Vec::new();
        for k in 1..=c.tenants {
            let t = c.tenant.get(k as usize - 1);
            let path = at.key("tenant").index(k as usize - 1);
            let name = t
                .and_then(|t| t.name.clone())
                .unwrap_or_else(|| format!("t{k}"));
            if !simple(&name) || ["onprem", "microsoft", "internet"].contains(&name.as_str()) {
                self.error(
                    Diagnostic::error(
                        path.key("name"),
                        format!("`{name}` is not a usable tenant name"),
                    )
                    .expected(
                        "letters, digits, `-` and `_`, not `onprem`, `microsoft` or `internet`",
                    ),
                );
            } else if customers.iter().any(|o| o.name == name) {
                self.error(
                    Diagnostic::error(path.key("name"), format!("two tenants named `{name}`"))
                        .expected("a name no other tenant has"),
                );
            }
            let asn = t.and_then(|t| t.asn);
            if let Some(a) = asn {
                if c.model == CspModel::ConnectThrough {
                    self.error(
                        Diagnostic::error(path.key("asn"), format!("an ASN of its own ({a}) for tenant `{name}` in the connect-through model"))
                            .expected("no `asn`: the customer's VRF on the provider's edge speaks the provider's ASN (`[csp] provider_asn`)"),
                    );
                } else {
                    super::build::check_customer_asn(a, &path.key("asn"), &mut self.diags);
                }
            }
            let circuits = t.and_then(|t| t.circuits).unwrap_or(1);
            if circuits == 0 || circuits as usize > MAX_CIRCUITS {
                self.error(
                    Diagnostic::error(
                        path.key("circuits"),
                        format!("{circuits} circuits for tenant `{name}`"),
                    )
                    .expected(format!(
                        "1 to {MAX_CIRCUITS} (a VNet spreads traffic over up to four circuits)"
                    )),
                );
            }
            let mut spaces = Vec::new();
            for (key, base) in [("prefixes", 100), ("vnet_prefixes", 200)] {
                let written = t.and_then(|t| match key {
                    "prefixes" => t.prefixes.clone(),
                    _ => t.vnet_prefixes.clone(),
                });
                let list = written
                    .clone()
                    .unwrap_or_else(|| vec![default_space(base, k)]);
                if list.is_empty() {
                    self.error(
                        Diagnostic::error(
                            path.key(key),
                            format!("tenant `{name}` without addresses"),
                        )
                        .expected("its address space, e.g. [\"10.101.0.0/16\"]"),
                    );
                }
                for (j, p) in list.iter().enumerate() {
                    if p.trunc() != *p {
                        self.error(
                            Diagnostic::error(
                                path.key(key).index(j),
                                format!("{p} has host bits set"),
                            )
                            .expected(format!("{}", p.trunc())),
                        );
                    }
                }
                spaces.push((key, list, written.is_some()));
            }
            // Address spaces apart: this tenant's from each other (Azure: a VNet's space stays
            // out of the on-premises ranges it connects to) and from every earlier tenant's.
            for (i, (key, list, written)) in spaces.iter().enumerate() {
                for (j, p) in list.iter().enumerate() {
                    let mut clash: Option<(Ipv4Net, String)> = None;
                    if i == 1
                        && let Some(q) = spaces[0].1.iter().find(|q| overlaps(p, q))
                    {
                        clash = Some((*q, format!("tenant `{name}`'s own hosts")));
                    }
                    for o in &customers {
                        if clash.is_some() {
                            break;
                        }
                        if let Some(q) = o
                            .prefixes
                            .iter()
                            .chain(&o.vnet_prefixes)
                            .find(|q| overlaps(p, q))
                        {
                            clash = Some((*q, format!("tenant `{}`", o.name)));
                        }
                    }
                    let Some((q, whose)) = clash else { continue };
                    let key_path = if *written {
                        path.key(key).index(j)
                    } else {
                        path.clone()
                    };
                    self.error(
                        Diagnostic::error(key_path, format!("{p} of tenant `{name}` overlaps {q} of {whose}"))
                            .expected("address space of the tenant's own: apart from every other tenant's, and its VNet's apart from its hosts'")
                            .note("a VRF may reuse another customer's addresses, but the model tells tenants apart by their prefixes (probe endpoints, the isolation check); and Azure requires a VNet's space to stay out of the on-premises ranges it connects to"),
                    );
                }
            }
            let mut spaces = spaces.into_iter();
            let prefixes = spaces.next().map(|s| s.1).unwrap_or_default();
            let vnet_prefixes = spaces.next().map(|s| s.1).unwrap_or_default();
            customers.push(Customer {
                name,
                asn: asn.unwrap_or(65100 + k),
                prefixes,
                vnet_prefixes,
                circuits,
            });
        }
        // The names the template makes from the tenants' must stay apart (`a` and `a-vnet`).
        let written_name = |k: usize| c.tenant.get(k).is_some_and(|t| t.name.is_some());
        let mut names: Vec<(String, usize)> = Vec::new();
        for (k, t) in customers.iter().enumerate() {
            for n in made_names(c.model, t) {
                match names.iter().find(|(m, _)| *m == n) {
                    Some((_, other)) if *other != k => {
                        // Located at a name as written: this tenant's, else the other's.
                        let blamed = if written_name(k) { k } else { *other };
                        let key_path = if written_name(blamed) {
                            at.key("tenant").index(blamed).key("name")
                        } else {
                            at.key("tenants")
                        };
                        self.error(
                            Diagnostic::error(
                                key_path,
                                format!(
                                    "the names of tenants `{}` and `{}` clash: both would make `{n}`",
                                    customers[*other].name, t.name
                                ),
                            )
                            .expected("tenant names whose routers, circuits and VNets stay apart (the template makes NAME-vnet, NAME-ergw, NAME-circuit, NAME-ce1, ...)"),
                        );
                        break;
                    }
                    Some(_) => {}
                    None => names.push((n, k)),
                }
            }
        }
        if self.diags.iter().filter(|d| d.is_error()).count() > errors_before {
            return None;
        }
        Some(build(c, provider_asn, &customers))
    }
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The circuit names of tenant `t`.
fn circuit_names(t: &Customer) -> Vec<String> {
    if t.circuits == 1 {
        vec![format!("{}-circuit", t.name)]
    } else {
        (1..=t.circuits)
            .map(|j| format!("{}-circuit{j}", t.name))
            .collect()
    }
}

/// The edge routers of tenant `t` (primary, secondary).
fn edge_names(model: CspModel, t: &Customer) -> [String; 2] {
    match model {
        CspModel::ConnectThrough => [format!("edge1-{}", t.name), format!("edge2-{}", t.name)],
        CspModel::ConnectTo => [format!("{}-ce1", t.name), format!("{}-ce2", t.name)],
    }
}

/// Every name tenant `t` gives to something the template makes.
fn made_names(model: CspModel, t: &Customer) -> Vec<String> {
    let mut v = vec![
        t.name.clone(),
        format!("{}-vnet", t.name),
        format!("{}-ergw", t.name),
        format!("{}-lan", t.name),
    ];
    v.extend(edge_names(model, t));
    v.extend(circuit_names(t));
    v
}

fn push_router(topo: &mut Topology, name: String, role: Role, asn: u32, id: Ipv4Addr) -> RouterIx {
    let (timers, bfd, max_paths) = super::build::role_defaults(role);
    topo.routers.push(Router {
        name,
        role,
        asn,
        router_id: id,
        profile: topology::Profile::Rfc4271,
        timers,
        bfd,
        max_paths,
    });
    RouterIx(topo.routers.len() - 1)
}

fn push_segment(
    topo: &mut Topology,
    name: String,
    kind: SegmentKind,
    ends: [Node; 2],
    props: LinkProps,
) -> SegmentIx {
    topo.segments.push(Segment {
        name,
        kind,
        ends,
        props,
    });
    SegmentIx(topo.segments.len() - 1)
}

fn end(
    router: RouterIx,
    addr: Ipv4Addr,
    max_prefixes: Option<u32>,
    announces: Vec<IpNet>,
) -> SessionEnd {
    SessionEnd {
        router,
        addr: IpAddr::V4(addr),
        local_pref: None,
        weight: None,
        max_prefixes,
        prepend: 0,
        announces,
        policy: EndPolicy::default(),
    }
}

/// A tenant's ExpressRoute gateway at `router`, its timings as given or the template
/// gateway's defaults ([`topology::ER_GATEWAY_CONVERGENCE_DELAY`],
/// [`topology::GATEWAY_PLANNED_FAILOVER`], [`topology::GATEWAY_UNPLANNED_FAILOVER`]).
pub(super) fn tenant_gateway(
    router: RouterIx,
    convergence_delay: Option<TimeSpec>,
    planned_failover: Option<TimeSpec>,
    unplanned_failover: Option<TimeSpec>,
) -> ErGateway {
    ErGateway {
        router,
        convergence_delay: convergence_delay.unwrap_or(topology::ER_GATEWAY_CONVERGENCE_DELAY),
        max_prefixes_to_onprem: GATEWAY_PREFIX_LIMIT,
        planned_failover: planned_failover.unwrap_or(topology::GATEWAY_PLANNED_FAILOVER),
        unplanned_failover: unplanned_failover.unwrap_or(topology::GATEWAY_UNPLANNED_FAILOVER),
    }
}

/// The network of checked customers.
#[allow(
    clippy::too_many_lines,
    reason = "one walk over the tenants; splitting it would scatter the naming rules"
)]
fn build(c: &CspSpec, provider_asn: u32, customers: &[Customer]) -> Topology {
    let mut topo = super::general::empty_topology();
    topo.name = format!("csp-{}", c.model.name());
    topo.provider = ProviderKind::Layer2;
    let bandwidth = c.bandwidth.unwrap_or(Bandwidth::from_bps(1_000_000_000));
    let access = LinkProps {
        delay: ACCESS_DELAY,
        jitter: Duration::ZERO,
        loss: LossModel::NONE,
        bandwidth: Some(bandwidth),
    };
    let mut chassis = [
        Chassis {
            name: "edge1".to_owned(),
            routers: Vec::new(),
        },
        Chassis {
            name: "edge2".to_owned(),
            routers: Vec::new(),
        },
    ];
    let mut onprem_sites = Vec::new();
    let mut vnet_sites = Vec::new();
    let mut tenants = Vec::new();
    let mut circuit_ix = 0u32;
    for (k, t) in customers.iter().enumerate() {
        let kk = u8::try_from(k + 1).unwrap_or(u8::MAX);
        let asn = match c.model {
            CspModel::ConnectThrough => provider_asn,
            CspModel::ConnectTo => t.asn,
        };
        let [e1, e2] = edge_names(c.model, t);
        let edges = [
            push_router(
                &mut topo,
                e1,
                Role::Ce,
                asn,
                Ipv4Addr::new(10, 255, 10 + kk, 1),
            ),
            push_router(
                &mut topo,
                e2,
                Role::Ce,
                asn,
                Ipv4Addr::new(10, 255, 10 + kk, 2),
            ),
        ];
        if c.model == CspModel::ConnectThrough {
            chassis[0].routers.push(edges[0]);
            chassis[1].routers.push(edges[1]);
        }
        let gw = push_router(
            &mut topo,
            format!("{}-ergw", t.name),
            Role::ErGateway,
            AZURE_GATEWAY_ASN,
            Ipv4Addr::new(10, 255, 4, kk),
        );
        let own: Vec<IpNet> = t.prefixes.iter().map(|p| IpNet::V4(*p)).collect();
        let vnet: Vec<IpNet> = t.vnet_prefixes.iter().map(|p| IpNet::V4(*p)).collect();
        let mut circuits = Vec::new();
        for name in circuit_names(t) {
            let ci = circuit_ix;
            circuit_ix += 1;
            let cix = CircuitIx(topo.circuits.len());
            let third = u8::try_from(100 + ci).unwrap_or(u8::MAX);
            let subnets = [
                Ipv4Net::new(Ipv4Addr::new(192, 168, third, 0), 30).unwrap_or_default(),
                Ipv4Net::new(Ipv4Addr::new(192, 168, third, 4), 30).unwrap_or_default(),
            ];
            let mut links = Vec::new();
            for side in LinkSide::BOTH {
                let n = u8::try_from(2 * ci + 1 + u32::from(side == LinkSide::Secondary))
                    .unwrap_or(u8::MAX);
                let msee = push_router(
                    &mut topo,
                    format!("msee{n}"),
                    Role::Msee,
                    MICROSOFT_ASN,
                    Ipv4Addr::new(10, 255, 3, n),
                );
                let edge = edges[side.index()];
                let provider = Node::Transit(format!("{name}.{}.provider", side.name()));
                let access_seg = push_segment(
                    &mut topo,
                    format!("{name}.{}.access", side.name()),
                    SegmentKind::Access,
                    [Node::Router(edge), provider.clone()],
                    access,
                );
                let core_seg = push_segment(
                    &mut topo,
                    format!("{name}.{}.core", side.name()),
                    SegmentKind::Core,
                    [provider, Node::Router(msee)],
                    LinkProps {
                        delay: CORE_DELAY,
                        ..access
                    },
                );
                let base = u32::from(subnets[side.index()].network());
                topo.sessions.push(Session {
                    name: format!("{name}.{}.private", side.name()),
                    kind: SessionKind::Peering,
                    ends: [
                        end(edge, Ipv4Addr::from(base + 1), None, own.clone()),
                        end(
                            msee,
                            Ipv4Addr::from(base + 2),
                            Some(PRIVATE_PREFIX_LIMIT),
                            Vec::new(),
                        ),
                    ],
                    on: Some((cix, side, PeeringKind::Private)),
                    path: vec![access_seg, core_seg],
                    vlan: Some(100),
                    md5: None,
                    bfd: None,
                    families: None,
                });
                let azure_seg = push_segment(
                    &mut topo,
                    format!("azure.msee{n}"),
                    SegmentKind::Azure,
                    [Node::Router(msee), Node::Router(gw)],
                    LinkProps {
                        delay: AZURE_DELAY,
                        jitter: Duration::ZERO,
                        loss: LossModel::NONE,
                        bandwidth: None,
                    },
                );
                // The tenant gateway's two instances at .4 and .5 of its GatewaySubnet
                // (10.255.K.0/27 here: a synthetic address that only names the session).
                let mut gw_end = end(
                    gw,
                    Ipv4Addr::new(10, 255, 100 + kk, 4 + u8::from(side == LinkSide::Secondary)),
                    None,
                    vnet.clone(),
                );
                gw_end.weight = Some(0);
                topo.sessions.push(Session {
                    name: format!("{name}.{}.gateway", side.name()),
                    kind: SessionKind::Gateway,
                    ends: [
                        end(
                            msee,
                            Ipv4Addr::new(192, 0, 2, n),
                            Some(GATEWAY_PREFIX_LIMIT),
                            Vec::new(),
                        ),
                        gw_end,
                    ],
                    on: Some((cix, side, PeeringKind::Private)),
                    path: vec![azure_seg],
                    vlan: None,
                    md5: None,
                    bfd: None,
                    families: None,
                });
                links.push(CircuitLink {
                    side,
                    ce: edge,
                    pe: None,
                    msee,
                    access: access_seg,
                    core: core_seg,
                });
            }
            let Ok(links) = <[CircuitLink; 2]>::try_from(links) else {
                continue;
            };
            topo.circuits.push(Circuit {
                name,
                bandwidth,
                sku: Sku::Standard,
                provider_state: ProviderState::Provisioned,
                enabled: true,
                weight: 0,
                links,
                peerings: vec![Peering {
                    kind: PeeringKind::Private,
                    subnets,
                    ipv6_subnets: None,
                    vlan: 100,
                    peer_asn: asn,
                    md5: None,
                    public_prefixes_state: PublicPrefixesState::Configured,
                    route_filter: None,
                    enabled: true,
                }],
            });
            circuits.push(cix);
        }
        // The tenant's two edge routers (or VRFs) share its LAN and peer over iBGP, as the
        // template's CEs do: a flow that reaches the edge whose link is down goes on by the
        // other.
        let lan: Vec<SegmentIx> = edges
            .iter()
            .map(|e| {
                let name = format!("{}.lan.{}", t.name, topo.router_name(*e));
                push_segment(
                    &mut topo,
                    name,
                    SegmentKind::Lan,
                    [Node::Router(*e), Node::Transit(format!("{}-lan", t.name))],
                    LinkProps {
                        delay: LAN_DELAY,
                        jitter: Duration::ZERO,
                        loss: LossModel::NONE,
                        bandwidth: None,
                    },
                )
            })
            .collect();
        let ids = edges.map(|e| topo.routers[e.0].router_id);
        topo.sessions.push(Session {
            name: format!(
                "ibgp.{}.{}",
                topo.router_name(edges[0]),
                topo.router_name(edges[1])
            ),
            kind: SessionKind::Ibgp,
            ends: [
                end(edges[0], ids[0], None, own.clone()),
                end(edges[1], ids[1], None, own.clone()),
            ],
            on: None,
            path: lan,
            vlan: None,
            md5: None,
            bfd: None,
            families: None,
        });
        onprem_sites.push(Site {
            name: t.name.clone(),
            routers: edges.to_vec(),
            prefixes: own,
        });
        vnet_sites.push(Site {
            name: format!("{}-vnet", t.name),
            routers: vec![gw],
            prefixes: vnet,
        });
        tenants.push((t.name.clone(), circuits, gw));
    }
    // The hosts' sites first, then the VNets' (the order the general form reads them back:
    // `[[site]]` tables, then each `[[tenant]]`'s VNet).
    let n = onprem_sites.len();
    topo.sites = onprem_sites;
    topo.sites.extend(vnet_sites);
    topo.tenants = tenants
        .into_iter()
        .enumerate()
        .map(|(k, (name, circuits, router))| Tenant {
            name,
            onprem: k,
            vnet: n + k,
            circuits,
            gateway: tenant_gateway(router, c.convergence_delay, None, None),
        })
        .collect();
    if c.model == CspModel::ConnectThrough {
        topo.chassis = chassis.to_vec();
    }
    topo
}
