//! Forwarding glue: the topology's routers, the endpoints and the pseudo routers of the
//! internet and Microsoft's network as a [`Plane`], and how link and router state become
//! usable adjacencies.
//!
//! Modelling choices made here:
//!
//! - On-premises hosts reach the CEs through a first-hop redundancy that moves at once: the
//!   `onprem` ingress spreads flows per 5-tuple over the CEs that are running.
//! - A VNet forwards towards on-premises over the ExpressRoute gateway's *programmed* routes
//!   (see `azure`), and over the VPN gateway's routes only for prefixes ExpressRoute does not
//!   have (domain.md: for the same prefix ExpressRoute wins whatever the AS path; longest
//!   prefix first).
//! - Microsoft's network and the internet edge are pseudo routers: CEs default to the
//!   internet edge, Microsoft reaches on-premises public prefixes through the MSEEs that have
//!   a route and over the internet otherwise (domain.md: Microsoft and public peering fall
//!   back to the internet).
//! - The VNet's own route table: user-defined routes over BGP routes over the system route
//!   0.0.0.0/0 to Azure's internet egress, longest prefix first (`VnetHops`). Forced
//!   tunneling takes that system route away for good: the VNet's internet traffic then goes
//!   by the default route on premises advertises, or nowhere. Hosts on the internet
//!   (`internet_hosts`) are delivered at the internet edge.
//! - A Cloud Solution Provider's tenants have no `onprem` or VNet ingress of the template:
//!   their hosts and VNets are sites, the VNet's behind its tenant's gateway, whose forwarding
//!   is its programmed table (`azure`), as the template's gateway's is.
//! - Every direction of a segment with a bandwidth is a capacity resource of the plane
//!   ([`Plane::congestion`]); each session adjacency is bound to the resources its frames
//!   cross.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::dataplane::{self as dp, AdjIx, Plane};
use super::net::{Net, SegIx, SessIx};
use crate::spec::{AddressFamily, Via};
use crate::topology::{NextHop, Node, Role, SessionKind, Target, Topology};

/// The VNet's next hops besides the two gateways: Azure's own internet egress, the drop of
/// a `None` route, and the network virtual appliances of user-defined routes.
///
/// Azure picks a VNet's route by longest prefix first, then a user-defined route over a BGP
/// route over a system route ("Virtual network traffic routing", How Azure selects a route).
/// The plane does the longest-prefix match; [`Forwarding::update_vnet_route`] writes, per
/// prefix, the route of the highest source that has one. An appliance forwards by its own
/// subnet's routes: the same BGP and system routes, without the user-defined ones.
#[derive(Clone)]
struct VnetHops {
    /// The VNet's user-defined routes (the first VNet's route table).
    routes: Vec<crate::topology::UserRoute>,
    /// The VNet's ingress → Azure's internet egress (the internet pseudo router).
    egress: AdjIx,
    /// The VNet's ingress → a router with no routes: what a `None` route drops.
    drop: AdjIx,
    /// The appliances' router (the subnet they sit in routes by BGP and system routes).
    nva: dp::RouterIx,
    /// The VNet's ingress → the appliances.
    to_nva: AdjIx,
    /// The appliances → the ExpressRoute gateway, the VPN gateway, the egress.
    nva_er: Option<AdjIx>,
    nva_vpn: Option<AdjIx>,
    nva_egress: AdjIx,
    /// Forced tunneling suppresses the system route 0.0.0.0/0 → Internet.
    forced: bool,
}

/// The data plane of a topology and the indices that tie it to the topology.
#[derive(Clone)]
pub(crate) struct Forwarding {
    pub(crate) plane: Plane,
    /// Topology router → plane router.
    pub(crate) plane_of: Vec<dp::RouterIx>,
    /// Per session: adjacency from end 0 to end 1 and from end 1 to end 0.
    pub(crate) adj: Vec<[AdjIx; 2]>,
    onprem: dp::RouterIx,
    onprem_adjs: Vec<(usize, AdjIx)>,
    /// Per site of the topology: its ingress and its adjacencies to its routers.
    sites: Vec<(dp::RouterIx, Vec<(usize, AdjIx)>)>,
    /// The VNet's ingress, with its adjacencies to the ExpressRoute and VPN gateways.
    vnet_in: Option<(dp::RouterIx, Option<AdjIx>, Option<AdjIx>)>,
    /// The VNet's other next hops (user-defined routes, system routes, forced tunneling).
    vnet_hops: Option<VnetHops>,
    /// The internet edge (pseudo router): on-premises and Microsoft meet here.
    inet: dp::RouterIx,
    /// Microsoft's network behind the MSEEs and the internet edge (the `microsoft` endpoint).
    mscloud: dp::RouterIx,
    /// Adjacencies that cross the internet segment.
    inet_adjs: Vec<AdjIx>,
    /// Microsoft's adjacencies to each MSEE (topology router, adjacency) and to the internet.
    mscloud_msee: Vec<(usize, AdjIx)>,
    mscloud_inet: AdjIx,
    /// Per plane router: the topology router's role, if it is one.
    role_of: Vec<Option<Role>>,
    /// Per adjacency: the link label it belongs to ([`Self::link_names`]).
    adj_link: Vec<Option<u32>>,
    /// Link labels: circuit links (`circuit.primary`) and other sessions' names.
    link_names: Vec<String>,
    /// Per link label: whether it names a session the file describes (the general form).
    user_labels: Vec<bool>,
    /// Per capacity resource: a readable name (`circuit.primary.core towards msee1`).
    res_names: Vec<String>,
    /// Per segment direction that is a capacity resource: the resource (a bandwidth change
    /// resizes it).
    seg_res: BTreeMap<(usize, sim_core::link::Direction), dp::ResIx>,
    /// A FIB or route changed since the flows were last walked.
    pub(crate) dirty: bool,
    /// A link or a router changed state since the adjacencies were last refreshed.
    pub(crate) links_dirty: bool,
}

impl Forwarding {
    /// The plane of `topo` over the network `net` (for the capacity resources' hops).
    pub(crate) fn new(topo: &Topology, net: &Net) -> Self {
        let mut plane = Plane::new();
        let plane_of: Vec<dp::RouterIx> = topo.routers.iter().map(|_| plane.add_router()).collect();
        let adj = topo
            .sessions
            .iter()
            .map(|s| {
                let a = plane_of[s.ends[0].router.0];
                let b = plane_of[s.ends[1].router.0];
                [plane.add_adjacency(a, b), plane.add_adjacency(b, a)]
            })
            .collect::<Vec<[AdjIx; 2]>>();
        let (res_names, seg_res) = bind_capacities(topo, net, &mut plane, &adj);
        for (i, r) in topo.routers.iter().enumerate() {
            for p in local_prefixes(topo, r.role) {
                plane.add_local(plane_of[i], p);
            }
        }
        let onprem = plane.add_router();
        let mut onprem_adjs = Vec::new();
        // On-premises hosts reach the CEs; on a VPN-only site (no CE), the VPN device.
        let first_hop = if topo.routers.iter().any(|r| r.role == Role::Ce) {
            Role::Ce
        } else {
            Role::VpnDevice
        };
        for (i, r) in topo.routers.iter().enumerate() {
            if r.role == first_hop {
                onprem_adjs.push((i, plane.add_adjacency(onprem, plane_of[i])));
            }
        }
        for default in ["0.0.0.0/0", "::/0"] {
            if let Ok(net) = default.parse::<IpNet>() {
                plane.set_route(onprem, net, onprem_adjs.iter().map(|(_, a)| *a).collect());
            }
        }
        let vnet_in = if topo.vnets.is_empty() {
            None
        } else {
            let v = plane.add_router();
            let er = topo
                .er_gateway_router()
                .map(|g| plane.add_adjacency(v, plane_of[g.0]));
            let vpn = topo
                .vpn
                .as_ref()
                .map(|g| plane.add_adjacency(v, plane_of[g.router.0]));
            Some((v, er, vpn))
        };

        // The internet: on-premises reaches it from every CE (its edge's default route) and,
        // when Microsoft peering shares that edge, directly for Microsoft's prefixes; Microsoft
        // reaches on-premises public prefixes over it when no MSEE has a route.
        let inet = plane.add_router();
        let mscloud = plane.add_router();
        let default_route: IpNet = "0.0.0.0/0".parse().unwrap_or_default();
        let microsoft: Vec<IpNet> = topo
            .microsoft_prefixes()
            .iter()
            .map(|p| IpNet::V4(*p))
            .collect();
        let public: Vec<IpNet> = topo.public_prefixes.iter().map(|p| IpNet::V4(*p)).collect();
        let mut inet_adjs = Vec::new();
        for (i, r) in topo.routers.iter().enumerate() {
            if r.role == Role::Ce {
                let a = plane.add_adjacency(plane_of[i], inet);
                plane.set_route(plane_of[i], default_route, vec![a]);
                inet_adjs.push(a);
            }
        }
        if topo
            .internet
            .as_ref()
            .is_some_and(|i| i.shares_edge_with_microsoft_peering)
        {
            let a = plane.add_adjacency(onprem, inet);
            for p in &microsoft {
                plane.set_route(onprem, *p, vec![a]);
            }
            inet_adjs.push(a);
        }
        let inet_ms = plane.add_adjacency(inet, mscloud);
        let inet_onprem = plane.add_adjacency(inet, onprem);
        inet_adjs.extend([inet_ms, inet_onprem]);
        for p in &microsoft {
            plane.set_route(inet, *p, vec![inet_ms]);
            plane.add_local(mscloud, *p);
        }
        for p in &public {
            plane.set_route(inet, *p, vec![inet_onprem]);
            plane.add_local(onprem, *p);
        }
        let mscloud_msee = topo
            .routers
            .iter()
            .enumerate()
            .filter(|(_, r)| r.role == Role::Msee)
            .map(|(i, _)| (i, plane.add_adjacency(mscloud, plane_of[i])))
            .collect();
        let mscloud_inet = plane.add_adjacency(mscloud, inet);
        inet_adjs.push(mscloud_inet);

        let mut role_of = vec![None; plane_of.len() + 8];
        for (i, p) in plane_of.iter().enumerate() {
            if let Some(slot) = role_of.get_mut(p.0 as usize) {
                *slot = Some(topo.routers[i].role);
            }
        }
        // Link labels: a circuit link's name for its peerings, the session's name for each of
        // several sessions to a VPN gateway and for each session the file describes; other
        // sessions (inside Azure, iBGP) have none.
        let mut link_names: Vec<String> = Vec::new();
        let mut user_labels: Vec<bool> = Vec::new();
        let mut adj_link = Vec::new();
        let to_vpn_gateway = |sess: &crate::topology::Session| {
            sess.ends
                .iter()
                .any(|e| topo.routers[e.router.0].role == Role::VpnGateway)
        };
        // One tunnel needs no name; active-active tunnels are told apart by their session.
        let tunnels = topo.sessions.iter().filter(|s| to_vpn_gateway(s)).count();
        for (s, sess) in topo.sessions.iter().enumerate() {
            let to_vpn = tunnels > 1 && to_vpn_gateway(sess);
            let user = sess.kind == SessionKind::User;
            let name = match sess.on {
                Some((c, side, _)) => topo.target_name(Target::Link(c, side)),
                None if to_vpn || user => sess.name.clone(),
                None => continue,
            };
            let label = match link_names.iter().position(|n| *n == name) {
                Some(i) => i,
                None => {
                    link_names.push(name);
                    user_labels.push(user);
                    link_names.len() - 1
                }
            };
            for a in adj[s] {
                let ix = a.0 as usize;
                if adj_link.len() <= ix {
                    adj_link.resize(ix + 1, None);
                }
                adj_link[ix] = u32::try_from(label).ok();
            }
        }
        // The general form's sites: hosts behind routers, each an ingress that spreads flows
        // over its routers that run (made last, so that the template's plane is unchanged).
        let sites = topo
            .sites
            .iter()
            .map(|site| {
                let ingress = plane.add_router();
                let adjs: Vec<(usize, AdjIx)> = site
                    .routers
                    .iter()
                    .map(|r| (r.0, plane.add_adjacency(ingress, plane_of[r.0])))
                    .collect();
                for r in &site.routers {
                    for p in &site.prefixes {
                        plane.add_local(plane_of[r.0], *p);
                    }
                }
                for default in ["0.0.0.0/0", "::/0"] {
                    if let Ok(net) = default.parse::<IpNet>() {
                        plane.set_route(ingress, net, adjs.iter().map(|(_, a)| *a).collect());
                    }
                }
                (ingress, adjs)
            })
            .collect();
        // Forced tunneling's on-premises end: the VPN device hands the VNet's internet traffic
        // to the on-premises internet edge (its proxy), as the CEs do.
        if let Some(f) = topo.forced_tunneling()
            && f.vpn != crate::topology::VpnDefaultRoute::None
            && let Some(vpn) = &topo.vpn
        {
            let a = plane.add_adjacency(plane_of[vpn.device.0], inet);
            plane.set_route(plane_of[vpn.device.0], default_route, vec![a]);
            inet_adjs.push(a);
            if f.vpn == crate::topology::VpnDefaultRoute::DefaultSite {
                // The gateway's Default Site: a static default route into the tunnel(s).
                let hops: Vec<AdjIx> = topo
                    .sessions
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.kind == SessionKind::Vpn)
                    .map(|(i, _)| adj[i][1])
                    .collect();
                plane.set_route(plane_of[vpn.router.0], default_route, hops);
            }
        }
        // The VNet's internet egress, drops and appliances (made last, so that the plane of a
        // network without them is unchanged).
        let vnet_hops = match (vnet_in, &topo.internet) {
            (Some((v, _, _)), Some(internet)) => {
                plane.add_local(inet, IpNet::V4(crate::topology::internet_hosts()));
                let egress = plane.add_adjacency(v, inet);
                let null = plane.add_router();
                let drop = plane.add_adjacency(v, null);
                let nva = plane.add_router();
                let to_nva = plane.add_adjacency(v, nva);
                let nva_er = topo
                    .er_gateway_router()
                    .map(|g| plane.add_adjacency(nva, plane_of[g.0]));
                let nva_vpn = topo
                    .vpn
                    .as_ref()
                    .map(|g| plane.add_adjacency(nva, plane_of[g.router.0]));
                let nva_egress = plane.add_adjacency(nva, inet);
                Some(VnetHops {
                    routes: topo
                        .vnets
                        .first()
                        .map(|v| v.routes.clone())
                        .unwrap_or_default(),
                    egress,
                    drop,
                    nva,
                    to_nva,
                    nva_er,
                    nva_vpn,
                    nva_egress,
                    forced: internet.forced_tunneling.is_some(),
                })
            }
            _ => None,
        };
        let mut this = Self {
            plane,
            plane_of,
            adj,
            onprem,
            onprem_adjs,
            sites,
            vnet_in,
            vnet_hops,
            inet,
            mscloud,
            inet_adjs,
            mscloud_msee,
            mscloud_inet,
            role_of,
            adj_link,
            link_names,
            user_labels,
            res_names,
            seg_res,
            dirty: true,
            links_dirty: true,
        };
        // The VNet's routes that hold from the start: the system default route and the
        // user-defined routes (and the Default Site's route, through the VPN gateway's FIB).
        if let Some(h) = &this.vnet_hops {
            let mut prefixes = vec![default_route];
            prefixes.extend(h.routes.iter().map(|r| IpNet::V4(r.prefix)));
            for p in prefixes {
                this.update_vnet_route(topo, p);
            }
        }
        this
    }

    /// The user-defined route that decides where `flow` goes, when it enters at the VNet and
    /// the longest prefix its destination matches there is a user-defined route's.
    pub(crate) fn deciding_route(&self, flow: &dp::Flow) -> Option<crate::topology::UserRoute> {
        let (v, _, _) = self.vnet_in?;
        let h = self.vnet_hops.as_ref()?;
        if flow.ingress != v || h.routes.is_empty() {
            return None;
        }
        let matched = self.plane.matched_prefix(v, flow.dst)?;
        h.routes
            .iter()
            .find(|r| IpNet::V4(r.prefix) == matched)
            .copied()
    }

    /// Every link label, indexed as [`Self::classify`] returns them.
    pub(crate) fn link_names(&self) -> Vec<String> {
        self.link_names.clone()
    }

    /// Resizes segment `seg`'s capacity resources (both directions) to `bps`; a segment
    /// without a bandwidth has none and is left alone.
    pub(crate) fn set_segment_capacity(&mut self, seg: usize, bps: u64) {
        for dir in [
            sim_core::link::Direction::AToB,
            sim_core::link::Direction::BToA,
        ] {
            if let Some(&r) = self.seg_res.get(&(seg, dir)) {
                self.plane.set_capacity(r, bps);
            }
        }
        self.dirty = true;
    }

    /// The readable name of capacity resource `r`.
    pub(crate) fn resource_name(&self, r: dp::ResIx) -> &str {
        self.res_names.get(r.0 as usize).map_or("", String::as_str)
    }

    /// Which way a delivered packet went, from the roles of the routers it crossed (`path`),
    /// and the first circuit link or session it crossed towards an MSEE or a VPN gateway
    /// (from the adjacencies `adjs`).
    pub(crate) fn classify(&self, path: &[dp::RouterIx], adjs: &[AdjIx]) -> (Via, Option<u32>) {
        let role = |p: &dp::RouterIx| self.role_of.get(p.0 as usize).copied().flatten();
        // Traffic to the internet ends at the internet edge: its way is what it crossed to
        // get there (ExpressRoute or the VPN when forced tunneling sends it on premises,
        // Azure's own egress otherwise).
        let to_internet = path.len() > 1 && path.last() == Some(&self.inet);
        let path = if to_internet {
            &path[..path.len() - 1]
        } else {
            path
        };
        let via = if path.contains(&self.inet) {
            Via::Internet
        } else if path.iter().any(|p| role(p) == Some(Role::Msee)) {
            Via::Expressroute
        } else if path.iter().any(|p| role(p) == Some(Role::VpnGateway)) {
            Via::Vpn
        } else if to_internet {
            Via::Internet
        } else {
            Via::Network
        };
        // The first link of the way: a circuit link or VPN session for Azure's ways, a
        // session of the file's own for the general form's.
        let user = via == Via::Network;
        let link = match via {
            Via::Expressroute | Via::Vpn | Via::Network => adjs.iter().find_map(|a| {
                self.adj_link
                    .get(a.0 as usize)
                    .copied()
                    .flatten()
                    .filter(|l| self.user_labels.get(*l as usize).copied() == Some(user))
            }),
            _ => None,
        };
        (via, link)
    }

    /// The ingress router of endpoint `name` (`onprem`, `microsoft`, a VNet or a site).
    pub(crate) fn endpoint_ingress(&self, topo: &Topology, name: &str) -> Option<dp::RouterIx> {
        if let Some(i) = topo.sites.iter().position(|s| s.name == name) {
            return self.sites.get(i).map(|(ingress, _)| *ingress);
        }
        match name {
            "onprem" => Some(self.onprem),
            m if topo.microsoft_endpoint_prefix(m).is_some() => Some(self.mscloud),
            "internet" => Some(self.inet),
            _ => self.vnet_in.map(|(v, _, _)| v),
        }
    }

    /// An address of endpoint `name` for flow `k`, as seen from `from`: Microsoft reaches
    /// on-premises only at its public prefixes.
    pub(crate) fn endpoint_addr(
        &self,
        topo: &Topology,
        from: &str,
        name: &str,
        k: u32,
        family: AddressFamily,
    ) -> Option<IpAddr> {
        if let Some(site) = topo.sites.iter().find(|s| s.name == name) {
            let net = site.prefixes.iter().find(|p| match family {
                AddressFamily::Ipv4 => matches!(p, IpNet::V4(_)),
                AddressFamily::Ipv6 => matches!(p, IpNet::V6(_)),
            })?;
            return Some(host_in(net, k + 3));
        }
        if family == AddressFamily::Ipv6 {
            let net = match name {
                "onprem" => topo.onprem_ipv6_prefixes.first().copied(),
                vnet => topo
                    .vnets
                    .iter()
                    .find(|v| v.name == vnet)
                    .and_then(|v| v.ipv6_prefixes.first().copied()),
            }?;
            return Some(host_in(&IpNet::V6(net), k + 3));
        }
        let net = match name {
            "onprem" if topo.microsoft_endpoint_prefix(from).is_some() => {
                topo.public_prefixes.first().copied()
            }
            "onprem" => topo.onprem_prefixes.first().copied(),
            m if topo.microsoft_endpoint_prefix(m).is_some() => topo.microsoft_endpoint_prefix(m),
            "internet" => Some(crate::topology::internet_hosts()),
            vnet => topo
                .vnets
                .iter()
                .find(|v| v.name == vnet)
                .and_then(|v| v.prefixes.first().copied()),
        }?;
        Some(host_in(&IpNet::V4(net), k + 3))
    }

    /// Router `r`'s FIB entry for `prefix` now points at the peers of `via` (empty: removed).
    pub(crate) fn set_fib(&mut self, topo: &Topology, r: usize, prefix: IpNet, via: &[SessIx]) {
        let hops = via
            .iter()
            .map(|s| self.adj[s.0][end_of(topo, *s, r)])
            .collect();
        self.plane.set_route(self.plane_of[r], prefix, hops);
        self.dirty = true;
    }

    /// The VNet forwards a prefix by its user-defined route when it has one; else over
    /// ExpressRoute when the gateway has it programmed, else over the VPN gateway when that
    /// has it (BGP routes); else by the system route (0.0.0.0/0 to Azure's internet egress,
    /// unless forced tunneling blocks it).
    pub(crate) fn update_vnet_route(&mut self, topo: &Topology, prefix: IpNet) {
        let Some((v, er, vpn)) = self.vnet_in else {
            return;
        };
        let er_has = topo
            .er_gateway_router()
            .is_some_and(|g| !self.plane.route(self.plane_of[g.0], &prefix).is_empty());
        let vpn_has = topo.vpn.as_ref().is_some_and(|g| {
            !self
                .plane
                .route(self.plane_of[g.router.0], &prefix)
                .is_empty()
        });
        let hops = match (er_has, vpn_has, er, vpn) {
            (true, _, Some(a), _) | (false, true, _, Some(a)) => vec![a],
            _ => Vec::new(),
        };
        let Some(h) = &self.vnet_hops else {
            self.plane.set_route(v, prefix, hops);
            self.dirty = true;
            return;
        };
        // The system route: Azure's internet egress for 0.0.0.0/0, blocked by forced
        // tunneling ("Advertising default routes into private peering results in the internet
        // path from Azure being blocked", ExpressRoute routing requirements).
        let system = prefix.prefix_len() == 0 && prefix.addr().is_ipv4() && !h.forced;
        let (nva_hops, own) = match (er_has, vpn_has) {
            (true, _) => (h.nva_er.into_iter().collect::<Vec<_>>(), hops),
            (false, true) => (h.nva_vpn.into_iter().collect(), hops),
            (false, false) if system => (vec![h.nva_egress], vec![h.egress]),
            (false, false) => (Vec::new(), Vec::new()),
        };
        let udr = h
            .routes
            .iter()
            .find(|r| IpNet::V4(r.prefix) == prefix)
            .map(|r| match r.next_hop {
                NextHop::VirtualAppliance(_) => vec![h.to_nva],
                NextHop::VirtualNetworkGateway => vpn.into_iter().collect(),
                NextHop::Internet => vec![h.egress],
                NextHop::None => vec![h.drop],
            });
        let nva = h.nva;
        self.plane.set_route(nva, prefix, nva_hops);
        self.plane.set_route(v, prefix, udr.unwrap_or(own));
        self.dirty = true;
    }

    /// Every route router `r` holds for the prefixes a user follows (on-premises, VNet,
    /// Microsoft), and for `extra`.
    pub(crate) fn routes_of(
        &self,
        topo: &Topology,
        r: usize,
        extra: impl Iterator<Item = IpNet>,
    ) -> Vec<(IpNet, Vec<AdjIx>)> {
        let pr = self.plane_of[r];
        let mut v: Vec<IpNet> = topo.onprem_prefixes.iter().map(|p| IpNet::V4(*p)).collect();
        v.extend(
            topo.vnets
                .iter()
                .flat_map(|n| n.prefixes.iter().map(|p| IpNet::V4(*p))),
        );
        v.extend(topo.microsoft_prefixes().iter().map(|p| IpNet::V4(*p)));
        v.extend(topo.sites.iter().flat_map(|s| s.prefixes.iter().copied()));
        if topo.forced_tunneling().is_some() {
            // Forced tunneling's default route is followed like the others.
            v.push(IpNet::V4(ipnet::Ipv4Net::default()));
        }
        for p in extra {
            if !v.contains(&p) {
                v.push(p);
            }
        }
        v.into_iter()
            .map(|p| (p, self.plane.route(pr, &p).to_vec()))
            .filter(|(_, h)| !h.is_empty())
            .collect()
    }

    /// A dead router forwards nothing: every route it holds is removed.
    pub(crate) fn clear_router(&mut self, topo: &Topology, r: usize) {
        // The default routes of on premises and of the VPN gateway's Default Site are static
        // (they come back with the router); only a learned default route goes.
        let static_default = matches!(
            topo.routers[r].role,
            Role::Ce | Role::VpnDevice | Role::VpnGateway
        );
        for (prefix, _) in self.routes_of(topo, r, std::iter::empty()) {
            if static_default && prefix.prefix_len() == 0 {
                continue;
            }
            self.plane.set_route(self.plane_of[r], prefix, Vec::new());
        }
        self.dirty = true;
    }

    /// Adjacency usability follows the links and whether the routers run.
    pub(crate) fn refresh_adjacencies(&mut self, topo: &Topology, net: &Net) {
        for s in 0..topo.sessions.len() {
            let [a, b] = [
                topo.sessions[s].ends[0].router.0,
                topo.sessions[s].ends[1].router.0,
            ];
            let alive = net.is_alive(a) && net.is_alive(b);
            for end in 0..2u8 {
                let usable = alive && net.path_up(SessIx(s), end);
                if self.plane.set_usable(self.adj[s][usize::from(end)], usable) {
                    self.dirty = true;
                }
            }
        }
        // The on-premises first-hop redundancy moves at once: hosts' traffic is spread over
        // the CEs that run (a dead CE's share moves to the others, as VRRP/HSRP would move
        // it), not hashed onto a dead one.
        let mut changed = false;
        for i in 0..self.onprem_adjs.len() {
            let (ce, adj) = self.onprem_adjs[i];
            changed |= self.plane.set_usable(adj, net.is_alive(ce));
        }
        if changed {
            self.dirty = true;
            let live: Vec<AdjIx> = self
                .onprem_adjs
                .iter()
                .filter(|(ce, _)| net.is_alive(*ce))
                .map(|(_, a)| *a)
                .collect();
            for default in ["0.0.0.0/0", "::/0"] {
                if let Ok(prefix) = default.parse::<IpNet>() {
                    self.plane.set_route(self.onprem, prefix, live.clone());
                }
            }
        }
        for i in 0..self.sites.len() {
            let mut changed = false;
            for j in 0..self.sites[i].1.len() {
                let (r, adj) = self.sites[i].1[j];
                changed |= self.plane.set_usable(adj, net.is_alive(r));
            }
            if changed {
                self.dirty = true;
                let (ingress, adjs) = &self.sites[i];
                let live: Vec<AdjIx> = adjs
                    .iter()
                    .filter(|(r, _)| net.is_alive(*r))
                    .map(|(_, a)| *a)
                    .collect();
                let ingress = *ingress;
                for default in ["0.0.0.0/0", "::/0"] {
                    if let Ok(prefix) = default.parse::<IpNet>() {
                        self.plane.set_route(ingress, prefix, live.clone());
                    }
                }
            }
        }
        let internet_up = topo.internet.as_ref().is_none_or(|i| {
            net.link(SegIx(i.segment.0)).is_none_or(|l| {
                l.state(sim_core::link::Direction::AToB) == sim_core::link::State::Up
                    && l.state(sim_core::link::Direction::BToA) == sim_core::link::State::Up
            })
        });
        for i in 0..self.inet_adjs.len() {
            if self.plane.set_usable(self.inet_adjs[i], internet_up) {
                self.dirty = true;
            }
        }
        for i in 0..self.mscloud_msee.len() {
            let (m, adj) = self.mscloud_msee[i];
            if self.plane.set_usable(adj, net.is_alive(m)) {
                self.dirty = true;
            }
        }
        self.route_microsoft(topo, net);
    }

    /// Microsoft's network sends traffic for on-premises public prefixes to the MSEEs that
    /// have a route for them (learned over Microsoft peering), and over the internet when
    /// none has (domain.md: Microsoft and public peering fall back to the internet).
    pub(crate) fn route_microsoft(&mut self, topo: &Topology, net: &Net) {
        for p in &topo.public_prefixes {
            let prefix = IpNet::V4(*p);
            let mut hops: Vec<AdjIx> = self
                .mscloud_msee
                .iter()
                .filter(|(m, _)| {
                    net.is_alive(*m) && !self.plane.route(self.plane_of[*m], &prefix).is_empty()
                })
                .map(|(_, a)| *a)
                .collect();
            if hops.is_empty() {
                hops.push(self.mscloud_inet);
            }
            self.plane.set_route(self.mscloud, prefix, hops);
        }
    }
}

/// Which end of session `s` router `r` is (0 or 1).
pub(crate) fn end_of(topo: &Topology, s: SessIx, r: usize) -> usize {
    usize::from(topo.sessions[s.0].ends[1].router.0 == r)
}

/// The prefixes a router of `role` delivers locally (its own networks).
fn local_prefixes(topo: &Topology, role: Role) -> Vec<IpNet> {
    let onprem_v6 = topo.onprem_ipv6_prefixes.iter().map(|p| IpNet::V6(*p));
    match role {
        Role::Ce => topo
            .onprem_prefixes
            .iter()
            .chain(&topo.public_prefixes)
            .map(|p| IpNet::V4(*p))
            .chain(onprem_v6)
            .collect(),
        Role::VpnDevice => topo
            .onprem_prefixes
            .iter()
            .map(|p| IpNet::V4(*p))
            .chain(onprem_v6)
            .collect(),
        Role::ErGateway | Role::VpnGateway => topo
            .vnets
            .iter()
            .flat_map(|v| {
                v.prefixes
                    .iter()
                    .map(|p| IpNet::V4(*p))
                    .chain(v.ipv6_prefixes.iter().map(|p| IpNet::V6(*p)))
            })
            .collect(),
        Role::Msee => topo
            .microsoft_prefixes()
            .iter()
            .map(|p| IpNet::V4(*p))
            .collect(),
        // A router of the general form delivers its sites' prefixes (added with the sites).
        Role::Pe | Role::Router => Vec::new(),
    }
}

/// An address inside `net` for host number `k` (skipping the network address).
fn host_in(net: &IpNet, k: u32) -> IpAddr {
    match net {
        IpNet::V4(n) => {
            let base = u32::from(n.network());
            let size = 1u64 << (32 - u32::from(n.prefix_len()));
            let off = 1 + u64::from(k) % size.saturating_sub(2).max(1);
            IpAddr::V4(Ipv4Addr::from(
                base.wrapping_add(u32::try_from(off).unwrap_or(1)),
            ))
        }
        IpNet::V6(n) => {
            let host_bits = 128 - u32::from(n.prefix_len());
            let off = if host_bits == 0 {
                0
            } else {
                1 + u128::from(k) % ((1u128 << host_bits.min(64)) - 1).max(1)
            };
            IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(n.network()).wrapping_add(off),
            ))
        }
    }
}

/// The resources of [`bind_capacities`]: their readable names, and which segment direction
/// each is.
type Capacities = (
    Vec<String>,
    BTreeMap<(usize, sim_core::link::Direction), dp::ResIx>,
);

/// Makes every direction of every segment with a bandwidth a capacity resource of the plane
/// and binds each session adjacency to the resources its frames cross; returns the
/// resources' readable names and the resource of each segment direction.
fn bind_capacities(
    topo: &Topology,
    net: &Net,
    plane: &mut Plane,
    adj: &[[AdjIx; 2]],
) -> Capacities {
    let mut names = Vec::new();
    let mut res: BTreeMap<(usize, sim_core::link::Direction), dp::ResIx> = BTreeMap::new();
    for (s, pair) in adj.iter().enumerate() {
        for (end, a) in pair.iter().enumerate() {
            let end = u8::try_from(end).unwrap_or(0);
            for (seg, dir) in net.hops_from(SessIx(s), end) {
                let Some(segment) = topo.segments.get(seg.0) else {
                    continue;
                };
                let Some(bw) = segment.props.bandwidth else {
                    continue;
                };
                let r = *res.entry((seg.0, dir)).or_insert_with(|| {
                    let to = match dir {
                        sim_core::link::Direction::AToB => &segment.ends[1],
                        sim_core::link::Direction::BToA => &segment.ends[0],
                    };
                    let to = match to {
                        Node::Router(r) => topo.routers[r.0].name.clone(),
                        Node::Transit(name) => name.clone(),
                    };
                    names.push(format!("{} towards {to}", segment.name));
                    plane.add_resource(bw.bps())
                });
                plane.bind(*a, r);
            }
        }
    }
    (names, res)
}
