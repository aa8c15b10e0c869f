//! The design a run was made on, as the run page draws it: a small typed view of the
//! scenario's topology ([`TopologyView`]), carried in the run result so that a page made
//! from a result file alone (`holdtime report run.json`) can draw the network.

use serde::{Deserialize, Serialize};

use crate::topology::{Node, Role, SegmentKind, SessionKind, Topology};

/// The network of a run: routers, the devices between them, the links (segments), the
/// sessions and what the circuits and gateways are made of.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TopologyView {
    /// The topology's name.
    pub name: String,
    /// The BGP speakers, in the topology's order.
    pub routers: Vec<RouterView>,
    /// Devices on a path that are not BGP speakers (a layer-2 provider's switch, the
    /// internet, the on-premises LAN), by name, sorted.
    pub devices: Vec<String>,
    /// The segments (links), in the topology's order.
    pub links: Vec<LinkView>,
    /// The BGP sessions, in the topology's order.
    pub sessions: Vec<SessionView>,
    /// The ExpressRoute circuits.
    pub circuits: Vec<CircuitView>,
    /// The ExpressRoute gateway's router (empty when the network has none).
    pub er_gateway: String,
    /// The VPN, if the design has one.
    pub vpn: Option<VpnView>,
    /// The VNets, by name.
    pub vnets: Vec<String>,
}

/// A BGP speaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterView {
    /// Its name (`ce1`, `msee2`, `ergw`).
    pub name: String,
    /// What it is.
    pub role: Role,
    /// Its ASN.
    pub asn: u32,
}

/// A segment: one link of a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    /// Its name (`circuit.primary.access`, `vpn.tunnel`, `azure.msee1`).
    pub name: String,
    /// What it is.
    pub kind: SegmentKind,
    /// Its two ends: router names, or device names (see [`TopologyView::devices`]).
    pub ends: [String; 2],
    /// The circuit link it belongs to (`circuit.primary`), if any.
    pub circuit_link: Option<String>,
}

/// A BGP session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Its name (`circuit.primary.private`, `vpn`).
    pub name: String,
    /// What it connects.
    pub kind: SessionKind,
    /// The routers at its two ends (the end nearer on-premises first).
    pub ends: [String; 2],
    /// The links it crosses, from its first end to its second.
    pub path: Vec<String>,
}

/// An ExpressRoute circuit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitView {
    /// Its name.
    pub name: String,
    /// Its two links, primary first: `circuit.primary`, `circuit.secondary`.
    pub links: Vec<String>,
}

/// The VPN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpnView {
    /// The Azure VPN gateway's router.
    pub gateway: String,
    /// The on-premises device's router.
    pub device: String,
    /// The tunnel links.
    pub tunnels: Vec<String>,
}

impl TopologyView {
    /// The view of `t`.
    #[must_use]
    pub fn of(t: &Topology) -> Self {
        let router = |ix: crate::topology::RouterIx| t.router_name(ix).to_owned();
        let node = |n: &Node| match n {
            Node::Router(r) => router(*r),
            Node::Transit(name) => name.clone(),
        };
        let segment = |ix: crate::topology::SegmentIx| {
            t.segments
                .get(ix.0)
                .map(|s| s.name.clone())
                .unwrap_or_default()
        };
        let mut devices: Vec<String> = t
            .segments
            .iter()
            .flat_map(|s| s.ends.iter())
            .filter_map(|n| match n {
                Node::Transit(name) => Some(name.clone()),
                Node::Router(_) => None,
            })
            .collect();
        devices.sort();
        devices.dedup();
        let circuit_link = |seg: usize| {
            t.circuits.iter().find_map(|c| {
                c.links
                    .iter()
                    .find(|l| l.access.0 == seg || l.core.0 == seg)
                    .map(|l| format!("{}.{}", c.name, l.side.name()))
            })
        };
        Self {
            name: t.name.clone(),
            routers: t
                .routers
                .iter()
                .map(|r| RouterView {
                    name: r.name.clone(),
                    role: r.role,
                    asn: r.asn,
                })
                .collect(),
            devices,
            links: t
                .segments
                .iter()
                .enumerate()
                .map(|(i, s)| LinkView {
                    name: s.name.clone(),
                    kind: s.kind,
                    ends: [node(&s.ends[0]), node(&s.ends[1])],
                    circuit_link: circuit_link(i),
                })
                .collect(),
            sessions: t
                .sessions
                .iter()
                .map(|s| SessionView {
                    name: s.name.clone(),
                    kind: s.kind,
                    ends: [router(s.ends[0].router), router(s.ends[1].router)],
                    path: s.path.iter().map(|p| segment(*p)).collect(),
                })
                .collect(),
            circuits: t
                .circuits
                .iter()
                .map(|c| CircuitView {
                    name: c.name.clone(),
                    links: c
                        .links
                        .iter()
                        .map(|l| format!("{}.{}", c.name, l.side.name()))
                        .collect(),
                })
                .collect(),
            er_gateway: t.er_gateway_router().map(router).unwrap_or_default(),
            vpn: t.vpn.as_ref().map(|v| VpnView {
                gateway: router(v.router),
                device: router(v.device),
                tunnels: v.tunnels.iter().map(|s| segment(*s)).collect(),
            }),
            vnets: t.vnets.iter().map(|v| v.name.clone()).collect(),
        }
    }

    /// The role of router `name` (`None` for a device).
    #[must_use]
    pub fn role(&self, name: &str) -> Option<Role> {
        self.routers.iter().find(|r| r.name == name).map(|r| r.role)
    }
}
