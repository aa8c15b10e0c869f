//! The target grammar: how scenario files name parts of the network.
//!
//! | target | meaning |
//! |---|---|
//! | `CIRCUIT` (e.g. `circuit`) | the whole circuit: both links |
//! | `CIRCUIT.primary`, `CIRCUIT.secondary` | one link, end to end (access + core) |
//! | `CIRCUIT.LINK.access` | the CE–provider segment: carrier-visible to the CE only |
//! | `CIRCUIT.LINK.core` | the provider–MSEE segment: carrier-visible to the MSEE only (and the PE on layer 3) |
//! | `CIRCUIT.LINK.PEERING` (e.g. `circuit.primary.private`) | that peering's BGP session on that link |
//! | any other session name | `circuit.primary.private.access` (layer-3 CE–PE), `circuit.primary.gateway`, `vpn`, `ibgp.ce1.ce2` |
//! | `ce1`, `ce2`, `pe1`.., `msee1`.., `vpn1`, `ergw`, `vpngw` | a router |
//! | `vpn.tunnel` | every IPsec tunnel; `vpn.tunnel.instance0`/`1` one of them (active-active) |
//! | `internet` | the internet path (also carries the tunnels) |
//! | `gateway.er`, `gateway.vpn` | a gateway; `gateway.vpn.instance0`/`1` one VPN instance, `gateway.er.instance0`/`1` one ExpressRoute gateway instance |
//!
//! Resolution is exact and case-sensitive; a name that does not resolve is an error listing
//! the names that would, filtered to the kinds the key accepts.

use serde::Serialize;

use super::{CircuitIx, LinkSide, RouterIx, SegmentIx, SegmentKind, SessionIx, Topology};

/// A resolved target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A whole circuit.
    Circuit(CircuitIx),
    /// One link of a circuit.
    Link(CircuitIx, LinkSide),
    /// One segment.
    Segment(SegmentIx),
    /// A router.
    Router(RouterIx),
    /// A BGP session.
    Session(SessionIx),
    /// Every VPN tunnel.
    VpnTunnel,
    /// The internet path.
    Internet,
    /// The ExpressRoute gateway.
    ErGateway,
    /// The VPN gateway (its active instance).
    VpnGateway,
    /// One VPN gateway instance.
    VpnGatewayInstance(u8),
    /// One ExpressRoute gateway instance: 0 holds the gateway's sessions with every
    /// circuit's primary MSEE, 1 those with the secondary MSEEs (see `sim::azure`).
    ErGatewayInstance(u8),
}

/// Classes of target, for saying which a key accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetClass {
    /// [`Target::Circuit`].
    Circuit,
    /// [`Target::ErGateway`], [`Target::ErGatewayInstance`], [`Target::VpnGateway`],
    /// [`Target::VpnGatewayInstance`].
    Gateway,
    /// [`Target::Internet`].
    Internet,
    /// [`Target::Link`].
    Link,
    /// [`Target::Router`].
    Router,
    /// [`Target::Segment`].
    Segment,
    /// [`Target::Session`].
    Session,
    /// [`Target::VpnTunnel`].
    VpnTunnel,
}

impl Target {
    /// Its class.
    #[must_use]
    pub const fn class(self) -> TargetClass {
        match self {
            Self::Circuit(_) => TargetClass::Circuit,
            Self::Link(..) => TargetClass::Link,
            Self::Segment(_) => TargetClass::Segment,
            Self::Router(_) => TargetClass::Router,
            Self::Session(_) => TargetClass::Session,
            Self::VpnTunnel => TargetClass::VpnTunnel,
            Self::Internet => TargetClass::Internet,
            Self::ErGateway
            | Self::ErGatewayInstance(_)
            | Self::VpnGateway
            | Self::VpnGatewayInstance(_) => TargetClass::Gateway,
        }
    }
}

impl Topology {
    /// Every target name with what it resolves to, in a stable order: circuits, links,
    /// segments, routers, sessions, then the special names.
    #[must_use]
    pub fn targets(&self) -> Vec<(String, Target)> {
        let mut out = Vec::new();
        for (ci, c) in self.circuits.iter().enumerate() {
            out.push((c.name.clone(), Target::Circuit(CircuitIx(ci))));
            for side in LinkSide::BOTH {
                out.push((
                    format!("{}.{}", c.name, side.name()),
                    Target::Link(CircuitIx(ci), side),
                ));
            }
        }
        for (si, s) in self.segments.iter().enumerate() {
            // The internet and the single tunnel have their own names below.
            if matches!(s.kind, SegmentKind::Internet) || s.name == "vpn.tunnel" {
                continue;
            }
            out.push((s.name.clone(), Target::Segment(SegmentIx(si))));
        }
        for (ri, r) in self.routers.iter().enumerate() {
            out.push((r.name.clone(), Target::Router(RouterIx(ri))));
        }
        for (si, s) in self.sessions.iter().enumerate() {
            out.push((s.name.clone(), Target::Session(SessionIx(si))));
        }
        out.push(("internet".to_owned(), Target::Internet));
        out.push(("gateway.er".to_owned(), Target::ErGateway));
        if self.er_gateway.is_some() {
            for i in 0..2 {
                out.push((
                    format!("gateway.er.instance{i}"),
                    Target::ErGatewayInstance(i),
                ));
            }
        }
        if self.vpn.is_some() {
            out.push(("vpn.tunnel".to_owned(), Target::VpnTunnel));
            out.push(("gateway.vpn".to_owned(), Target::VpnGateway));
            out.push((
                "gateway.vpn.instance0".to_owned(),
                Target::VpnGatewayInstance(0),
            ));
            out.push((
                "gateway.vpn.instance1".to_owned(),
                Target::VpnGatewayInstance(1),
            ));
        }
        out
    }

    /// The segments a carrier target (circuit, link, segment, `vpn.tunnel`, `internet`)
    /// stands for, as `[[link]]` applies its properties to them; none for other targets.
    #[must_use]
    pub fn carrier_segments(&self, target: Target) -> Vec<SegmentIx> {
        match target {
            Target::Segment(s) => vec![s],
            Target::Link(c, side) => self
                .circuits
                .get(c.0)
                .map(|c| {
                    let l = &c.links[side.index()];
                    vec![l.access, l.core]
                })
                .unwrap_or_default(),
            Target::Circuit(c) => self
                .circuits
                .get(c.0)
                .map(|c| c.links.iter().flat_map(|l| [l.access, l.core]).collect())
                .unwrap_or_default(),
            Target::VpnTunnel => self
                .vpn
                .as_ref()
                .map(|v| v.tunnels.clone())
                .unwrap_or_default(),
            Target::Internet => self.internet.iter().map(|i| i.segment).collect(),
            _ => Vec::new(),
        }
    }

    /// The names of the sessions whose path crosses a segment of the carrier target `name`
    /// (see [`Topology::carrier_segments`]): the sessions that `[[link]] target = name`
    /// impairs. Empty when `name` is not a carrier target.
    #[must_use]
    pub fn sessions_over(&self, name: &str) -> Vec<String> {
        let segments = self
            .resolve(name)
            .map(|t| self.carrier_segments(t))
            .unwrap_or_default();
        self.sessions
            .iter()
            .filter(|s| s.path.iter().any(|p| segments.contains(p)))
            .map(|s| s.name.clone())
            .collect()
    }

    /// Resolves a target name.
    #[must_use]
    pub fn resolve(&self, name: &str) -> Option<Target> {
        self.targets()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
    }

    /// The canonical name of a target.
    #[must_use]
    pub fn target_name(&self, target: Target) -> String {
        self.targets()
            .into_iter()
            .find(|(_, t)| *t == target)
            .map_or_else(|| format!("{target:?}"), |(n, _)| n)
    }

    /// The names of targets of the given classes that also pass `keep`.
    #[must_use]
    pub fn target_names(
        &self,
        classes: &[TargetClass],
        keep: impl Fn(&Self, Target) -> bool,
    ) -> Vec<String> {
        self.targets()
            .into_iter()
            .filter(|(_, t)| classes.contains(&t.class()) && keep(self, *t))
            .map(|(n, _)| n)
            .collect()
    }
}
