//! The scenario file format, exactly as written: serde types for TOML, nothing resolved.
//!
//! Every table refuses unknown keys (`deny_unknown_fields`), so a typo is an error that lists
//! the keys that exist. Names that refer to the topology (targets, routers, sessions, metrics)
//! stay strings here; [`crate::validate`] resolves them against the topology and turns this
//! into a [`crate::scenario::Scenario`], refusing what Azure would refuse. The reference of the
//! format, with an example of every key, is `scenarios/library/README.md`.
//!
//! Faults and expectations are flat tables with a discriminating key (`kind`, or which of
//! `metric`/`session`/`no_loss`/`path` is present) rather than serde's tagged enums, because
//! tagged enums buffer their content and lose the line/column of errors inside them; the
//! validator checks which keys each kind takes and says so at the offending key.

use std::collections::BTreeMap;

use ipnet::{Ipv4Net, Ipv6Net};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sim_core::time::Duration;

use crate::topology::{
    PeeringKind, Profile, ProviderKind, ProviderState, PublicPrefixesState, Sku, VpnMode,
};
use crate::units::{Bandwidth, LossModel, Quantity, TimeSpec};

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// A short title.
    pub name: String,
    /// A paragraph a student can read: what happens and what to look at (every library
    /// scenario has one; optional in other files).
    #[serde(default)]
    pub description: String,
    /// The ExpressRoute template: a built-in topology by name, or a full `[topology]` table.
    /// Absent: the network is only what the general form (`[[router]]`, `[[link]]`,
    /// `[[session]]`, `[[site]]`) describes.
    #[serde(default)]
    pub topology: Option<TopologyChoice>,
    /// The general form's routers: the scenario's own, with their timers, BFD and prefixes
    /// (none of Azure's rules apply to them).
    #[serde(default)]
    pub router: Vec<RouterSpec>,
    /// The general form's BGP sessions.
    #[serde(default)]
    pub session: Vec<SessionSpec>,
    /// The general form's sites: hosts behind one or more routers, as probe endpoints.
    #[serde(default)]
    pub site: Vec<SiteSpec>,
    /// How much virtual time to simulate.
    pub duration: Duration,
    /// The default seed (overridden by `--seed`).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Where the measurement window starts (default: every flow delivered once, or the first
    /// fault, whichever comes first; see the library README, "What the numbers mean").
    #[serde(default)]
    pub measure_from: Option<Duration>,
    /// BGP timer and profile overrides.
    #[serde(default)]
    pub bgp: Option<BgpSection>,
    /// BFD overrides.
    #[serde(default)]
    pub bfd: Option<BfdSection>,
    /// TCP retransmission behaviour of BGP transports.
    #[serde(default)]
    pub tcp: Option<TcpSection>,
    /// Routing policy overrides.
    #[serde(default)]
    pub policy: Option<PolicySection>,
    /// Prefix count overrides.
    #[serde(default)]
    pub prefixes: Option<PrefixSection>,
    /// Links: with `ends`, a link of the general form between two routers; with `target`,
    /// new properties for a link or segment that exists.
    #[serde(default)]
    pub link: Vec<LinkOverride>,
    /// The fault timeline.
    #[serde(default)]
    pub fault: Vec<FaultSpec>,
    /// Probe traffic; without any, one flow each way between on-premises and the first VNet.
    #[serde(default)]
    pub probe: Vec<ProbeSpec>,
    /// What the run must show.
    #[serde(default)]
    pub expect: Vec<ExpectSpec>,
    /// `holdtime audit`'s settings for this design and the user's own failures (a run
    /// ignores it once it is valid).
    #[serde(default)]
    pub audit: Option<AuditSection>,
    /// The network's name in reports (general form; default `general`). `holdtime topology
    /// show --expand` writes the template's (`reference`, `custom`).
    #[serde(default)]
    pub network: Option<String>,
    /// Devices that are not BGP speakers and may end a `[[link]]` (a layer-2 provider's
    /// switch, the on-premises LAN, the two edges of the internet): each hides carrier loss
    /// from what lies beyond it.
    #[serde(default)]
    pub devices: Vec<String>,
    /// ExpressRoute circuits written out (the general form of what `[topology]` makes).
    #[serde(default)]
    pub circuit: Vec<CircuitTable>,
    /// The ExpressRoute gateway written out.
    #[serde(default)]
    pub er_gateway: Option<ErGatewayTable>,
    /// The VPN gateway written out.
    #[serde(default)]
    pub vpn_gateway: Option<VpnGatewayTable>,
    /// VNets written out: probe endpoints behind the gateways.
    #[serde(default)]
    pub vnet: Vec<VnetTable>,
    /// The internet path written out.
    #[serde(default)]
    pub internet: Option<InternetTable>,
    /// The on-premises site written out: its hosts behind the routers in role `ce` (or the
    /// `vpn_device` when there is none).
    #[serde(default)]
    pub onprem: Option<OnpremTable>,
    /// The Cloud Solution Provider template: N customers, each with its own circuits and
    /// VNet (`[csp]`).
    #[serde(default)]
    pub csp: Option<CspSpec>,
    /// A Cloud Solution Provider's customers written out (what `[csp]` makes).
    #[serde(default)]
    pub tenant: Vec<TenantTable>,
    /// Boxes whose routers are VRFs (what `[csp]` makes of a shared provider edge).
    #[serde(default)]
    pub chassis: Vec<ChassisTable>,
}

/// How a Cloud Solution Provider reaches its customers' Azure subscriptions ("ExpressRoute
/// for Cloud Solution Providers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CspModel {
    /// The provider's datacenter connects its customers' subscriptions: each customer's
    /// circuit ends on the provider's shared edge, in a VRF of the customer's own.
    ConnectThrough,
    /// Each customer's own circuit, from its own edge, reaches a subscription the provider
    /// manages.
    ConnectTo,
}

impl CspModel {
    /// The name used in files.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::ConnectThrough => "connect-through",
            Self::ConnectTo => "connect-to",
        }
    }
}

/// `[csp]`: the Cloud Solution Provider template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CspSpec {
    /// `connect-through` or `connect-to`.
    pub model: CspModel,
    /// How many customers (1 to [`crate::topology::MAX_TENANTS`]).
    pub tenants: u32,
    /// Connect-through: the provider's ASN, on every customer's VRF of its shared edge
    /// (default 65001).
    #[serde(default)]
    pub provider_asn: Option<u32>,
    /// Each circuit's bandwidth (default 1 Gbps).
    #[serde(default)]
    pub bandwidth: Option<Bandwidth>,
    /// Each tenant gateway's route-programming delay (default 60 s).
    #[serde(default)]
    pub convergence_delay: Option<TimeSpec>,
    /// Per customer, in order (the first table is tenant 1): what differs from the defaults.
    #[serde(default)]
    pub tenant: Vec<CspTenantSpec>,
}

/// `[[csp.tenant]]`: one customer of the CSP template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CspTenantSpec {
    /// Its name (default `tK`): its hosts' probe endpoint; its VNet is `NAME-vnet`.
    #[serde(default)]
    pub name: Option<String>,
    /// Connect-to: the customer's own ASN (default 65100 + K).
    #[serde(default)]
    pub asn: Option<u32>,
    /// Its hosts' address space (default 10.(100+K).0.0/16).
    #[serde(default)]
    pub prefixes: Option<Vec<Ipv4Net>>,
    /// Its VNet's address space (default 10.(200+K).0.0/16).
    #[serde(default)]
    pub vnet_prefixes: Option<Vec<Ipv4Net>>,
    /// How many circuits (1 to 4, default 1): a large customer needs several for bandwidth.
    #[serde(default)]
    pub circuits: Option<u32>,
}

/// `[[tenant]]`: a CSP's customer written out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantTable {
    /// Its name: the name of its hosts' site.
    pub name: String,
    /// Its VNet: a site of this name behind its gateway.
    pub vnet: String,
    /// The VNet's address space.
    pub vnet_prefixes: Vec<ipnet::IpNet>,
    /// Its circuits, by name.
    pub circuits: Vec<String>,
    /// Its ExpressRoute gateway (a router with `role = "er_gateway"`).
    pub gateway: String,
    /// Its gateway's route-programming delay (default 60 s).
    #[serde(default)]
    pub convergence_delay: Option<TimeSpec>,
    /// Its gateway's instance failovers (defaults as `[er_gateway]`'s).
    #[serde(default)]
    pub planned_failover: Option<TimeSpec>,
    /// As `planned_failover`, unplanned.
    #[serde(default)]
    pub unplanned_failover: Option<TimeSpec>,
}

/// `[[chassis]]`: routers that are VRFs of one box.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChassisTable {
    /// The box's name.
    pub name: String,
    /// Its VRFs, by router name.
    pub routers: Vec<String>,
}

/// `[audit]`: how `holdtime audit` treats this design.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// When every failure starts (default: the file's first fault time, else 5 min).
    #[serde(default)]
    pub at: Option<Duration>,
    /// Whether the generated failure set is audited (default `true`); `false`: only the
    /// file's own `[[audit.fault]]`s.
    #[serde(default)]
    pub defaults: Option<bool>,
    /// Only generated failures of these kinds (empty: all).
    #[serde(default)]
    pub only: Vec<FaultKind>,
    /// Generated failures of these kinds are left out.
    #[serde(default)]
    pub skip: Vec<FaultKind>,
    /// The user's own failures, audited beside (or instead of) the generated ones.
    #[serde(default)]
    pub fault: Vec<AuditFaultSpec>,
}

/// `[[audit.fault]]`: one failure of the user's own, a `[[fault]]` without `at` (every failure
/// starts at the audit's start) or `episode`, with an optional name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFaultSpec {
    /// How the audit names it (default: `KIND TARGET`).
    #[serde(default)]
    pub name: Option<String>,
    /// What happens.
    pub kind: FaultKind,
    /// What it happens to.
    #[serde(default)]
    pub target: Option<String>,
    /// How long until it ends by itself (absent: to the end of the run).
    #[serde(default)]
    pub duration: Option<TimeSpec>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub loss: Option<LossModel>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub delay: Option<Duration>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub jitter: Option<Duration>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub count: Option<u32>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub state: Option<PublicPrefixesState>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub planned: Option<bool>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub drain: Option<Duration>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub down_for: Option<Duration>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub prepend: Option<u8>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub peering: Option<PeeringKind>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub bandwidth: Option<Bandwidth>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub recreate: Option<Duration>,
    /// As in `[[fault]]`.
    #[serde(default)]
    pub sku: Option<Sku>,
}

impl AuditFaultSpec {
    /// The `[[fault]]` it stands for, starting at `at`.
    #[must_use]
    pub fn at(&self, at: Duration) -> FaultSpec {
        FaultSpec {
            kind: self.kind,
            at: TimeSpec::Fixed(at),
            target: self.target.clone(),
            duration: self.duration,
            loss: self.loss,
            delay: self.delay,
            jitter: self.jitter,
            count: self.count,
            state: self.state,
            planned: self.planned,
            drain: self.drain,
            down_for: self.down_for,
            prepend: self.prepend,
            peering: self.peering,
            bandwidth: self.bandwidth,
            recreate: self.recreate,
            sku: self.sku,
            episode: None,
        }
    }
}

/// `topology = "name"` or a `[topology]` table.
#[derive(Debug, Clone)]
pub enum TopologyChoice {
    /// A built-in topology, by name.
    Builtin(String),
    /// A full description.
    Custom(Box<TopologySpec>),
}

impl<'de> Deserialize<'de> for TopologyChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopologyChoice;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the name of a built-in topology or a [topology] table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TopologyChoice, E> {
                Ok(TopologyChoice::Builtin(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TopologyChoice, A::Error> {
                TopologySpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| TopologyChoice::Custom(Box::new(t)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A full topology description (`[topology]`, or a built-in file under
/// `scenarios/library/topologies/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    /// What this topology shows (optional).
    #[serde(default)]
    pub description: Option<String>,
    /// The customer's ASN (on the CE routers and the VPN device).
    pub customer_asn: u32,
    /// One CE router carrying both links (no SLA), or two in active-active (the default);
    /// none on a VPN-only site.
    #[serde(default)]
    pub ce_routers: Option<u8>,
    /// Layer 2 (CE speaks BGP to the MSEEs) or layer 3 (a PE per link in between).
    #[serde(default = "default_provider")]
    pub provider: ProviderKind,
    /// The provider's ASN, for a layer-3 provider.
    #[serde(default)]
    pub provider_asn: Option<u32>,
    /// On-premises private prefixes the CEs advertise over private peering.
    pub onprem_prefixes: Vec<Ipv4Net>,
    /// On-premises IPv6 prefixes the CEs advertise over IPv6 private peering (needs the
    /// peering's `ipv6_primary_subnet` / `ipv6_secondary_subnet`).
    #[serde(default)]
    pub onprem_ipv6_prefixes: Vec<Ipv6Net>,
    /// On-premises public prefixes (NAT pools) advertised over Microsoft/public peering.
    #[serde(default)]
    pub public_prefixes: Vec<Ipv4Net>,
    /// The GatewaySubnet of the hub VNet (a /27 or larger).
    #[serde(default)]
    pub gateway_subnet: Option<Ipv4Net>,
    /// ExpressRoute circuits (1 to 4, spread by ECMP; none on a VPN-only site).
    #[serde(default)]
    pub circuit: Vec<CircuitSpec>,
    /// VNets linked to the circuits.
    pub vnet: Vec<VnetSpec>,
    /// The ExpressRoute gateway.
    #[serde(default)]
    pub er_gateway: Option<ErGatewaySpec>,
    /// The site-to-site VPN backup; absent means no VPN.
    #[serde(default)]
    pub vpn: Option<VpnSpec>,
    /// The internet path (Microsoft/public peering fallback and the VPN's underlay).
    #[serde(default)]
    pub internet: Option<InternetSpec>,
    /// Forced tunneling: on premises advertises the default route (`[topology.forced_tunneling]`).
    #[serde(default)]
    pub forced_tunneling: Option<ForcedTunnelingSpec>,
}

/// `[topology.forced_tunneling]`: the VNet's internet-bound traffic goes back on premises.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForcedTunnelingSpec {
    /// The CEs originate 0.0.0.0/0 over private peering (default true).
    #[serde(default)]
    pub expressroute: Option<bool>,
    /// How the VPN gateway gets the default route: `bgp` (the VPN device advertises it over
    /// the tunnel's BGP session; the default with a VPN), `default_site` (the gateway's
    /// Default Site, a static route into the tunnel) or `none`.
    #[serde(default)]
    pub vpn: Option<crate::topology::VpnDefaultRoute>,
}

/// A user-defined route of a VNet (`[[topology.vnet.route]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// The destination prefix.
    pub prefix: Ipv4Net,
    /// `virtual_appliance`, `virtual_network_gateway` (or its alias `vpn_gateway`),
    /// `internet` or `none`.
    pub next_hop_type: NextHopType,
    /// The appliance's address (`virtual_appliance` only), inside the VNet.
    #[serde(default)]
    pub next_hop_address: Option<std::net::Ipv4Addr>,
}

/// Azure's next hop types of a user-defined route, as files write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NextHopType {
    /// A network virtual appliance (needs `next_hop_address`).
    VirtualAppliance,
    /// The VPN gateway (Azure's `VirtualNetworkGateway`).
    VirtualNetworkGateway,
    /// The same as `virtual_network_gateway`: Azure lets a user-defined route name only a
    /// gateway of type VPN.
    VpnGateway,
    /// Azure's own internet egress.
    Internet,
    /// Dropped.
    None,
}

impl NextHopType {
    /// The name as files write it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::VirtualAppliance => "virtual_appliance",
            Self::VirtualNetworkGateway => "virtual_network_gateway",
            Self::VpnGateway => "vpn_gateway",
            Self::Internet => "internet",
            Self::None => "none",
        }
    }
}

impl TopologySpec {
    /// CE routers: as written, else 2 (active-active) with a circuit and 0 without.
    #[must_use]
    pub fn ce_routers(&self) -> u8 {
        self.ce_routers
            .unwrap_or(if self.circuit.is_empty() { 0 } else { 2 })
    }
}

const fn default_provider() -> ProviderKind {
    ProviderKind::Layer2
}

/// One ExpressRoute circuit (`[[topology.circuit]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitSpec {
    /// Its name, used in targets (`circuit.primary`).
    pub name: String,
    /// Bandwidth per link: 50Mbps, 100Mbps, 200Mbps, 500Mbps, 1Gbps, 2Gbps, 5Gbps or 10Gbps.
    pub bandwidth: Bandwidth,
    /// Standard or premium (premium raises the private-peering prefix limit to 10,000).
    #[serde(default)]
    pub sku: Option<Sku>,
    /// The provider's provisioning state.
    #[serde(default)]
    pub provider_state: Option<ProviderState>,
    /// Microsoft's `Status`: `true` is `Enabled`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Its peerings.
    pub peering: Vec<PeeringSpec>,
    /// One-way delay of the CE–PE access segment.
    #[serde(default)]
    pub access_delay: Option<Duration>,
    /// One-way delay of the PE–MSEE provider core segment.
    #[serde(default)]
    pub core_delay: Option<Duration>,
}

/// One peering of a circuit (`[[topology.circuit.peering]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeeringSpec {
    /// private, microsoft or public.
    pub kind: PeeringKind,
    /// The primary link's /30: first usable address the customer's, second the MSEE's.
    pub primary_subnet: Ipv4Net,
    /// The secondary link's /30.
    pub secondary_subnet: Ipv4Net,
    /// The primary link's IPv6 /126 (private peering): a second BGP session per link, over
    /// IPv6, carrying IPv6 unicast (first usable address the customer's, second the MSEE's).
    #[serde(default)]
    pub ipv6_primary_subnet: Option<Ipv6Net>,
    /// The secondary link's IPv6 /126.
    #[serde(default)]
    pub ipv6_secondary_subnet: Option<Ipv6Net>,
    /// The 802.1Q VLAN id.
    pub vlan: u16,
    /// The customer's ASN on this peering (defaults to `customer_asn`).
    #[serde(default)]
    pub peer_asn: Option<u32>,
    /// Optional MD5 key (RFC 2385).
    #[serde(default)]
    pub md5: Option<String>,
    /// Microsoft peering: the advertised public prefixes state.
    #[serde(default)]
    pub public_prefixes_state: Option<PublicPrefixesState>,
    /// Whether BGP is enabled on the Microsoft side for this peering.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Microsoft peering: the route filter attached, as the BGP communities of the services
    /// it allows (`["12076:5010", "12076:5030"]`); absent: no route filter, and Microsoft
    /// advertises no prefix over the peering.
    #[serde(default)]
    pub route_filter: Option<Vec<String>>,
}

/// A VNet (`[[topology.vnet]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VnetSpec {
    /// Its name, used as a probe endpoint.
    pub name: String,
    /// Its address space.
    pub prefixes: Vec<Ipv4Net>,
    /// Its IPv6 address space (reached over IPv6 private peering).
    #[serde(default)]
    pub ipv6_prefixes: Vec<Ipv6Net>,
    /// User-defined routes of its subnets (one route table for the whole VNet).
    #[serde(default)]
    pub route: Vec<RouteSpec>,
}

/// The ExpressRoute gateway (`[topology.er_gateway]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErGatewaySpec {
    /// Route-programming delay after the MSEEs converge (value or range).
    #[serde(default)]
    pub convergence_delay: Option<TimeSpec>,
    /// How long a failed instance is gone on planned maintenance (default 10–15 s, an
    /// assumption borrowed from the VPN gateway's documented figure).
    #[serde(default)]
    pub planned_failover: Option<TimeSpec>,
    /// How long a failed instance is gone on an unplanned failure (default 60–90 s, borrowed
    /// from the VPN gateway likewise).
    #[serde(default)]
    pub unplanned_failover: Option<TimeSpec>,
}

/// The site-to-site VPN (`[topology.vpn]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpnSpec {
    /// active-standby or active-active.
    #[serde(default)]
    pub mode: Option<VpnMode>,
    /// The VPN gateway's ASN (Azure default 65515).
    #[serde(default)]
    pub asn: Option<u32>,
    /// IKE dead-peer-detection timeout (9 s to 3600 s, default 45 s).
    #[serde(default)]
    pub dpd_timeout: Option<Duration>,
    /// Failover time of a planned instance switch (default 10–15 s).
    #[serde(default)]
    pub planned_failover: Option<TimeSpec>,
    /// Failover time of an unplanned instance failure (default 60–90 s).
    #[serde(default)]
    pub unplanned_failover: Option<TimeSpec>,
}

/// The internet path (`[topology.internet]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternetSpec {
    /// One-way delay on-premises to Microsoft over the internet.
    #[serde(default)]
    pub delay: Option<Duration>,
    /// Delay jitter.
    #[serde(default)]
    pub jitter: Option<Duration>,
    /// Whether the on-premises internet edge is also the Microsoft-peering edge (the set-up
    /// that routes asymmetrically).
    #[serde(default)]
    pub shares_edge_with_microsoft_peering: Option<bool>,
}

/// `[bgp]`: timers and profile for the routers that face the MSEEs (CEs, and PEs on a
/// layer-3 provider), and per router (`[bgp.router.vpn1]` for the VPN device).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgpSection {
    /// Keepalive interval (defaults to a third of the hold time).
    #[serde(default)]
    pub keepalive: Option<Duration>,
    /// Hold time offered in OPEN.
    #[serde(default)]
    pub hold_time: Option<Duration>,
    /// ConnectRetry timer.
    #[serde(default)]
    pub connect_retry: Option<Duration>,
    /// Delay from a start or automatic restart to the first connection attempt (BIRD's
    /// `connect delay time`).
    #[serde(default)]
    pub connect_delay: Option<Duration>,
    /// MinRouteAdvertisementInterval (RFC 4271 §9.2.1.1) on every session of the router, in
    /// place of its profile's eBGP/iBGP values (FRR's `advertisement-interval`).
    #[serde(default)]
    pub mrai: Option<Duration>,
    /// Automatic-restart delay after the first error (RFC 4271 §8.1.1 IdleHoldTime; BIRD's
    /// first `error wait time`; FRR's start timer).
    #[serde(default)]
    pub idle_hold: Option<Duration>,
    /// Longest automatic-restart delay (BIRD's second `error wait time`).
    #[serde(default)]
    pub idle_hold_max: Option<Duration>,
    /// Quiet period after which the restart delay starts again from `idle_hold` (BIRD's
    /// `error forget time`).
    #[serde(default)]
    pub idle_hold_forget: Option<Duration>,
    /// Graceful restart (RFC 4724): the Restart Time announced, whole seconds up to 4095 s;
    /// the router then also keeps a lost peer's routes as stale for the peer's restart time
    /// when the peer announces it too. Off unless set.
    #[serde(default)]
    pub graceful_restart: Option<Duration>,
    /// Set the graceful restart N bit (RFC 8538): a hold-timer expiry or a NOTIFICATION other
    /// than a hard Cease keeps the stale routes too, when both ends set it.
    #[serde(default)]
    pub graceful_restart_notification: Option<bool>,
    /// Route-install latency: how long after a best-path change the router's FIB changes, a
    /// constant that replaces the profile's model (FRR 70 ms, BIRD its event loop's next
    /// wake-up, others at once).
    #[serde(default)]
    pub route_install: Option<Duration>,
    /// A FIB programmed one prefix at a time: each prefix takes this long, queued behind the
    /// router's earlier changes, after `route_install` (a hardware FIB; off by default).
    #[serde(default)]
    pub route_install_per_prefix: Option<Duration>,
    /// The implementation whose timer behaviour to model.
    #[serde(default)]
    pub profile: Option<Profile>,
    /// Equal-cost paths the customer's edge routers (CEs, PEs) spread flows over (ECMP).
    #[serde(default)]
    pub maximum_paths: Option<u8>,
    /// Per-router overrides, keyed by router name (`[bgp.router.ce1]`).
    #[serde(default)]
    pub router: BTreeMap<String, BgpRouterOverride>,
}

/// `[bgp.router.NAME]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgpRouterOverride {
    /// Keepalive interval.
    #[serde(default)]
    pub keepalive: Option<Duration>,
    /// Hold time offered in OPEN.
    #[serde(default)]
    pub hold_time: Option<Duration>,
    /// ConnectRetry timer.
    #[serde(default)]
    pub connect_retry: Option<Duration>,
    /// Delay from a start or automatic restart to the first connection attempt (BIRD's
    /// `connect delay time`).
    #[serde(default)]
    pub connect_delay: Option<Duration>,
    /// MinRouteAdvertisementInterval (RFC 4271 §9.2.1.1) on every session of the router, in
    /// place of its profile's eBGP/iBGP values (FRR's `advertisement-interval`).
    #[serde(default)]
    pub mrai: Option<Duration>,
    /// Automatic-restart delay after the first error (RFC 4271 §8.1.1 IdleHoldTime; BIRD's
    /// first `error wait time`; FRR's start timer).
    #[serde(default)]
    pub idle_hold: Option<Duration>,
    /// Longest automatic-restart delay (BIRD's second `error wait time`).
    #[serde(default)]
    pub idle_hold_max: Option<Duration>,
    /// Quiet period after which the restart delay starts again from `idle_hold` (BIRD's
    /// `error forget time`).
    #[serde(default)]
    pub idle_hold_forget: Option<Duration>,
    /// Graceful restart (RFC 4724): the Restart Time announced, whole seconds up to 4095 s;
    /// the router then also keeps a lost peer's routes as stale for the peer's restart time
    /// when the peer announces it too. Off unless set.
    #[serde(default)]
    pub graceful_restart: Option<Duration>,
    /// Set the graceful restart N bit (RFC 8538): a hold-timer expiry or a NOTIFICATION other
    /// than a hard Cease keeps the stale routes too, when both ends set it.
    #[serde(default)]
    pub graceful_restart_notification: Option<bool>,
    /// Route-install latency: how long after a best-path change the router's FIB changes, a
    /// constant that replaces the profile's model (FRR 70 ms, BIRD its event loop's next
    /// wake-up, others at once).
    #[serde(default)]
    pub route_install: Option<Duration>,
    /// A FIB programmed one prefix at a time: each prefix takes this long, queued behind the
    /// router's earlier changes, after `route_install` (a hardware FIB; off by default).
    #[serde(default)]
    pub route_install_per_prefix: Option<Duration>,
    /// The implementation whose timer behaviour to model.
    #[serde(default)]
    pub profile: Option<Profile>,
    /// Equal-cost paths this router spreads flows over (ECMP), 1 to 64.
    #[serde(default)]
    pub maximum_paths: Option<u8>,
}

/// `[bfd]`: BFD on the customer-side routers, and per router.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BfdSection {
    /// Whether BFD runs (the MSEE side always offers it on private and Microsoft peering).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Desired transmit and required receive interval.
    #[serde(default)]
    pub interval: Option<Duration>,
    /// Detection multiplier.
    #[serde(default)]
    pub multiplier: Option<u8>,
    /// Per-router overrides (`[bfd.router.ce1]`).
    #[serde(default)]
    pub router: BTreeMap<String, BfdRouterOverride>,
}

/// `[bfd.router.NAME]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BfdRouterOverride {
    /// Whether BFD runs on this router.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Desired transmit and required receive interval.
    #[serde(default)]
    pub interval: Option<Duration>,
    /// Detection multiplier.
    #[serde(default)]
    pub multiplier: Option<u8>,
}

/// `[tcp]`: retransmission behaviour of every BGP transport.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpSection {
    /// Starting point: `rfc6298` (1 s floor, 60 s ceiling) or `linux` (200 ms, 120 s).
    #[serde(default)]
    pub preset: Option<TcpPreset>,
    /// Minimum retransmission timeout.
    #[serde(default)]
    pub rto_min: Option<Duration>,
    /// Maximum retransmission timeout.
    #[serde(default)]
    pub rto_max: Option<Duration>,
    /// Initial retransmission timeout, before any RTT sample.
    #[serde(default)]
    pub rto_initial: Option<Duration>,
    /// Retransmissions of one segment before the connection is aborted.
    #[serde(default)]
    pub max_retries: Option<u32>,
}

/// A TCP retransmission preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TcpPreset {
    /// Linux: 200 ms RTO floor, 120 s ceiling, abort after 15 retries (`tcp_retries2`).
    Linux,
    /// RFC 6298: 1 s floor, 60 s ceiling; 15 retries as Linux does, since the RFC sets none.
    Rfc6298,
}

/// `[policy]`: routing policy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    /// LOCAL_PREF the CEs set on routes learned from the MSEEs (e.g. 150 against the
    /// default 100 on VPN routes), so return traffic prefers ExpressRoute. Default 150.
    #[serde(default)]
    pub expressroute_local_pref: Option<u32>,
    /// AS-path prepending by the customer on a link or a link's peering.
    #[serde(default)]
    pub prepend: Vec<PrependSpec>,
    /// LOCAL_PREF the CE sets on routes learned over one link, circuit or peering session
    /// (over `expressroute_local_pref`): the primary preferred, the secondary as backup.
    #[serde(default)]
    pub local_pref: Vec<LocalPrefSpec>,
    /// Connection weight (0–32000) of each circuit's connection to the gateway, by circuit.
    #[serde(default)]
    pub connection_weight: BTreeMap<String, u32>,
}

/// `[[policy.prepend]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrependSpec {
    /// A link (`circuit.secondary`) or a link's peering (`circuit.secondary.private`).
    pub target: String,
    /// How many extra copies of the customer's ASN to prepend.
    pub count: u8,
}

/// `[[policy.local_pref]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalPrefSpec {
    /// A circuit (`circuit`), a link (`circuit.primary`) or a link's peering session
    /// (`circuit.primary.private`).
    pub target: String,
    /// The LOCAL_PREF (higher is preferred; the default on other routes is 100).
    pub value: u32,
}

/// `[prefixes]`: how many prefixes each side advertises.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixSection {
    /// Total on-premises prefixes advertised over private peering (listed ones first, then
    /// generated /24s).
    #[serde(default)]
    pub onprem: Option<u32>,
    /// Total prefixes per VNet (listed ones first, then generated /24s).
    #[serde(default)]
    pub vnet: Option<u32>,
}

/// `[[link]]`: a link of the general form (`name` and `ends`), or the properties of a link or
/// segment that exists (`target`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOverride {
    /// A link, segment, `vpn.tunnel` or `internet` whose properties change.
    #[serde(default)]
    pub target: Option<String>,
    /// The new link's name (with `ends`).
    #[serde(default)]
    pub name: Option<String>,
    /// The two routers a new link joins.
    #[serde(default)]
    pub ends: Option<[String; 2]>,
    /// What the new link is (default `link`); the template's kinds (`access`, `core`,
    /// `azure`, `tunnel`, `internet`, `lan`) may end on Microsoft's routers and have names
    /// with dots.
    #[serde(default)]
    pub kind: Option<crate::topology::SegmentKind>,
    /// One-way propagation delay.
    #[serde(default)]
    pub delay: Option<Duration>,
    /// Delay jitter (uniform, added to `delay`).
    #[serde(default)]
    pub jitter: Option<Duration>,
    /// Packet loss.
    #[serde(default)]
    pub loss: Option<LossModel>,
    /// Capacity.
    #[serde(default)]
    pub bandwidth: Option<Bandwidth>,
}

/// `[[router]]`: a router of the general form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    /// Unique name (letters, digits, `-`, `_`).
    pub name: String,
    /// Its ASN (sessions between equal ASNs are iBGP).
    pub asn: u32,
    /// BGP identifier (default: synthetic and unique).
    #[serde(default)]
    pub router_id: Option<std::net::Ipv4Addr>,
    /// Timer behaviour (default `rfc4271`); its hold time, keepalive and ConnectRetry are the
    /// defaults of the keys below.
    #[serde(default)]
    pub profile: Option<Profile>,
    /// Hold time offered in OPEN.
    #[serde(default)]
    pub hold_time: Option<Duration>,
    /// Keepalive interval.
    #[serde(default)]
    pub keepalive: Option<Duration>,
    /// ConnectRetry timer.
    #[serde(default)]
    pub connect_retry: Option<Duration>,
    /// Delay before the first connection attempt after a start.
    #[serde(default)]
    pub connect_delay: Option<Duration>,
    /// MinRouteAdvertisementInterval (RFC 4271 §9.2.1.1) on every session of the router, in
    /// place of its profile's eBGP/iBGP values (FRR's `advertisement-interval`).
    #[serde(default)]
    pub mrai: Option<Duration>,
    /// Automatic-restart delay after an error.
    #[serde(default)]
    pub idle_hold: Option<Duration>,
    /// Longest automatic-restart delay.
    #[serde(default)]
    pub idle_hold_max: Option<Duration>,
    /// Quiet time after which the restart delay starts over.
    #[serde(default)]
    pub idle_hold_forget: Option<Duration>,
    /// Graceful restart time (RFC 4724).
    #[serde(default)]
    pub graceful_restart: Option<Duration>,
    /// The graceful restart N bit (RFC 8538).
    #[serde(default)]
    pub graceful_restart_notification: Option<bool>,
    /// Route-install latency.
    #[serde(default)]
    pub route_install: Option<Duration>,
    /// A FIB programmed one prefix at a time: each prefix takes this long, queued behind the
    /// router's earlier changes, after `route_install` (a hardware FIB; off by default).
    #[serde(default)]
    pub route_install_per_prefix: Option<Duration>,
    /// Equal-cost paths installed (default 1).
    #[serde(default)]
    pub maximum_paths: Option<u8>,
    /// BFD (RFC 5880): `{ interval = "100ms", multiplier = 3 }`.
    #[serde(default)]
    pub bfd: Option<BfdRouterOverride>,
    /// Prefixes it originates into every session; with any, it is also a probe endpoint
    /// under its own name (hosts behind it).
    #[serde(default)]
    pub prefixes: Vec<ipnet::IpNet>,
    /// What it is (default `router`: one of the user's, none of Azure's rules apply). A
    /// router in one of the template's roles starts from that role's defaults, and Azure's
    /// rules apply to it exactly as to the template's (`msee`, `er_gateway`, `vpn_gateway`
    /// are Microsoft's).
    #[serde(default)]
    pub role: Option<crate::topology::Role>,
}

impl RouterSpec {
    /// Its BGP keys as an override.
    #[must_use]
    pub const fn bgp(&self) -> BgpRouterOverride {
        BgpRouterOverride {
            keepalive: self.keepalive,
            hold_time: self.hold_time,
            connect_retry: self.connect_retry,
            connect_delay: self.connect_delay,
            mrai: self.mrai,
            idle_hold: self.idle_hold,
            idle_hold_max: self.idle_hold_max,
            idle_hold_forget: self.idle_hold_forget,
            graceful_restart: self.graceful_restart,
            graceful_restart_notification: self.graceful_restart_notification,
            route_install: self.route_install,
            route_install_per_prefix: self.route_install_per_prefix,
            profile: self.profile,
            maximum_paths: self.maximum_paths,
        }
    }
}

/// `[[session]]`: a BGP session of the general form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    /// Unique name (default: the link's name, when it runs over one link).
    #[serde(default)]
    pub name: Option<String>,
    /// Its two routers; the first opens the connection, the second listens.
    pub ends: [String; 2],
    /// The link it runs over (default: the one link joining its ends).
    #[serde(default)]
    pub link: Option<String>,
    /// The links it crosses in order, from its first end to its second (multihop).
    #[serde(default)]
    pub path: Option<Vec<String>>,
    /// BFD on this session (default: when both routers have BFD).
    #[serde(default)]
    pub bfd: Option<bool>,
    /// TCP MD5 key (RFC 2385).
    #[serde(default)]
    pub md5: Option<String>,
    /// Address families carried (default `["ipv4"]`, with `ipv6` too when an IPv6 prefix is
    /// originated anywhere).
    #[serde(default)]
    pub families: Option<Vec<AddressFamily>>,
    /// Per end, by router name: its policy on this session.
    #[serde(default)]
    pub policy: BTreeMap<String, EndPolicySpec>,
    /// What it connects (default `user`); the template's kinds (`peering`, `access`,
    /// `gateway`, `vpn`, `ibgp`) may end on Microsoft's routers and have names with dots.
    #[serde(default)]
    pub kind: Option<crate::topology::SessionKind>,
    /// The two ends' addresses, in the order of `ends` (default: synthetic ones).
    #[serde(default)]
    pub addresses: Option<[std::net::IpAddr; 2]>,
    /// Per end, by router name: the prefixes it originates into this session (besides its
    /// sites').
    #[serde(default)]
    pub originates: BTreeMap<String, Vec<ipnet::IpNet>>,
    /// The circuit link and peering it runs on, `CIRCUIT.SIDE.PEERING`
    /// (`circuit.primary.private`): Azure's provisioning gates apply to it.
    #[serde(default)]
    pub peering: Option<String>,
    /// The VLAN it runs on (circuit sessions).
    #[serde(default)]
    pub vlan: Option<u16>,
    /// The end that listens for the connection (default: the second of `ends`); the other
    /// connects.
    #[serde(default)]
    pub passive: Option<String>,
}

/// One end's policy on a `[[session]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndPolicySpec {
    /// LOCAL_PREF set on the routes this end receives.
    #[serde(default)]
    pub local_pref: Option<u32>,
    /// Local weight of the routes this end receives (Cisco's `weight`; higher wins first).
    #[serde(default)]
    pub weight: Option<u32>,
    /// MULTI_EXIT_DISC set on the routes this end advertises.
    #[serde(default)]
    pub med: Option<u32>,
    /// Extra copies of this end's ASN prepended on what it advertises.
    #[serde(default)]
    pub prepend: Option<u8>,
    /// Accept only routes within these prefixes.
    #[serde(default)]
    pub import: Option<Vec<ipnet::IpNet>>,
    /// Advertise only routes within these prefixes.
    #[serde(default)]
    pub export: Option<Vec<ipnet::IpNet>>,
    /// Most prefixes accepted from the other end; beyond: Cease 6/1 (RFC 4486).
    #[serde(default)]
    pub max_prefixes: Option<u32>,
    /// After a Cease 6/1 this end sent, restart the session after this long (default 60s).
    #[serde(default)]
    pub max_prefix_restart: Option<Duration>,
}

/// `[[site]]`: hosts behind one or more routers (a probe endpoint).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// Unique name.
    pub name: String,
    /// The routers its hosts reach first (flows spread over those running).
    pub routers: Vec<String>,
    /// Its address space; its routers originate it into every session they have.
    pub prefixes: Vec<ipnet::IpNet>,
}

/// The kinds of fault, in the order the format documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum FaultKind {
    /// Traffic stops, interfaces stay up: only timers notice.
    Silent,
    /// The segment or link goes down; routers attached to it see carrier loss.
    Down,
    /// A loss episode.
    Loss,
    /// A latency episode.
    Latency,
    /// A router stops dead.
    RouterCrash,
    /// A crashed router comes back.
    RouterRestart,
    /// A router's graceful shutdown: it closes every BGP session with Cease 6/2, then stops.
    RouterShutdown,
    /// Microsoft maintains one link: prepend drain, then down, then up.
    MseeMaintenance,
    /// The MSEE administratively shuts one BGP session (the hard BGP-disconnect test).
    BgpDisconnect,
    /// The IPsec tunnel fails.
    VpnTunnelDown,
    /// A VPN or ExpressRoute gateway instance fails over.
    GatewayInstanceFailure,
    /// The provider deprovisions the circuit.
    Deprovision,
    /// A router advertises this many prefixes.
    PrefixFlood,
    /// Microsoft peering's advertised public prefixes change state.
    PublicPrefixesState,
    /// Azure disables BGP on one peering of a circuit (both links' sessions).
    PeeringDisabled,
    /// The circuit's bandwidth changes: in place when raised, by deleting and re-creating
    /// the circuit when lowered.
    BandwidthChange,
    /// The circuit's SKU changes (Standard ↔ Premium), in place.
    SkuChange,
    /// Ends earlier faults on the target.
    Restore,
}

impl FaultKind {
    /// Every kind, for error messages.
    pub const ALL: [Self; 18] = [
        Self::Silent,
        Self::Down,
        Self::Loss,
        Self::Latency,
        Self::RouterCrash,
        Self::RouterRestart,
        Self::RouterShutdown,
        Self::MseeMaintenance,
        Self::BgpDisconnect,
        Self::VpnTunnelDown,
        Self::GatewayInstanceFailure,
        Self::Deprovision,
        Self::PrefixFlood,
        Self::PublicPrefixesState,
        Self::PeeringDisabled,
        Self::BandwidthChange,
        Self::SkuChange,
        Self::Restore,
    ];

    /// The name used in files.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Silent => "silent",
            Self::Down => "down",
            Self::Loss => "loss",
            Self::Latency => "latency",
            Self::RouterCrash => "router_crash",
            Self::RouterRestart => "router_restart",
            Self::MseeMaintenance => "msee_maintenance",
            Self::BgpDisconnect => "bgp_disconnect",
            Self::VpnTunnelDown => "vpn_tunnel_down",
            Self::GatewayInstanceFailure => "gateway_instance_failure",
            Self::Deprovision => "deprovision",
            Self::PrefixFlood => "prefix_flood",
            Self::PublicPrefixesState => "public_prefixes_state",
            Self::Restore => "restore",
            Self::RouterShutdown => "router_shutdown",
            Self::PeeringDisabled => "peering_disabled",
            Self::BandwidthChange => "bandwidth_change",
            Self::SkuChange => "sku_change",
        }
    }
}

/// `[[fault]]`, flat: which keys apply depends on `kind` (checked by the validator).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// What happens.
    pub kind: FaultKind,
    /// When: a value or `{ min, max }`.
    pub at: TimeSpec,
    /// What it happens to (see the target grammar).
    #[serde(default)]
    pub target: Option<String>,
    /// How long until it ends by itself (absent: until a `restore` or the end of the run).
    #[serde(default)]
    pub duration: Option<TimeSpec>,
    /// `loss`: the loss model of the episode.
    #[serde(default)]
    pub loss: Option<LossModel>,
    /// `latency`: added one-way delay.
    #[serde(default)]
    pub delay: Option<Duration>,
    /// `latency`: added jitter.
    #[serde(default)]
    pub jitter: Option<Duration>,
    /// `prefix_flood`: how many prefixes to advertise.
    #[serde(default)]
    pub count: Option<u32>,
    /// `public_prefixes_state`: the new state.
    #[serde(default)]
    pub state: Option<PublicPrefixesState>,
    /// `gateway_instance_failure`: planned maintenance (10–15 s) or unplanned (60–90 s), on
    /// the VPN gateway or the ExpressRoute gateway.
    #[serde(default)]
    pub planned: Option<bool>,
    /// `msee_maintenance`: how long the prepend drain lasts before the link goes down.
    #[serde(default)]
    pub drain: Option<Duration>,
    /// `msee_maintenance`: how long the link stays down.
    #[serde(default)]
    pub down_for: Option<Duration>,
    /// `msee_maintenance`: how many times the MSEE prepends 12076 while draining.
    #[serde(default)]
    pub prepend: Option<u8>,
    /// `peering_disabled`: which peering of the circuit (default: its only one).
    #[serde(default)]
    pub peering: Option<PeeringKind>,
    /// `bandwidth_change`: the circuit's new bandwidth (one ExpressRoute sells).
    #[serde(default)]
    pub bandwidth: Option<Bandwidth>,
    /// `bandwidth_change` to a lower bandwidth: how long deleting the circuit and creating
    /// and provisioning the new one takes (default 30 minutes, an assumption).
    #[serde(default)]
    pub recreate: Option<Duration>,
    /// `sku_change`: the circuit's new SKU.
    #[serde(default)]
    pub sku: Option<Sku>,
    /// The episode this fault belongs to: faults with the same name are measured as one
    /// episode, from the first of them (default: each fault opens its own).
    #[serde(default)]
    pub episode: Option<String>,
}

/// `[[probe]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// Source endpoint: `onprem`, `microsoft` or a VNet name.
    pub from: String,
    /// Destination endpoint.
    pub to: String,
    /// Probe packet interval (absent: no probe packets, outage still computed exactly).
    #[serde(default)]
    pub interval: Option<Duration>,
    /// `both` (default) or `one` (only from → to).
    #[serde(default)]
    pub direction: Option<ProbeDirection>,
    /// Number of distinct 5-tuples, to exercise per-flow ECMP (default 1).
    #[serde(default)]
    pub flows: Option<u32>,
    /// `ipv4` (default) or `ipv6`: which address family the flows use (IPv6 flows are named
    /// `FROM_to_TO_ipv6`).
    #[serde(default)]
    pub family: Option<AddressFamily>,
    /// Offered load per direction (e.g. `"1.6Gbps"`), spread evenly over the flows; what the
    /// links on its path cannot carry is dropped and reported as `bytes_dropped.DIR`
    /// (absent: no load, no congestion accounting).
    #[serde(default)]
    pub rate: Option<Bandwidth>,
}

/// The address family of a probe's flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressFamily {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

/// Which directions a probe measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeDirection {
    /// Both ways.
    Both,
    /// Only `from` → `to`.
    One,
}

/// `[[expect]]`, flat: one of `metric`, `session`, `no_loss`, `path` says which kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// A metric name (see the metric grammar).
    #[serde(default)]
    pub metric: Option<String>,
    /// Upper bound (inclusive).
    #[serde(default)]
    pub max: Option<Quantity>,
    /// Lower bound (inclusive).
    #[serde(default)]
    pub min: Option<Quantity>,
    /// Exact value.
    #[serde(default)]
    pub eq: Option<Quantity>,
    /// A session name, for session expectations.
    #[serde(default)]
    pub session: Option<String>,
    /// The session is down (has left Established) by this time.
    #[serde(default)]
    pub down_by: Option<Duration>,
    /// The session is in this state at `at`.
    #[serde(default)]
    pub state: Option<SessionStateName>,
    /// The time for `state` or `via`.
    #[serde(default)]
    pub at: Option<Duration>,
    /// The session never reaches Established.
    #[serde(default)]
    pub never_up: Option<bool>,
    /// The session never leaves Established once up.
    #[serde(default)]
    pub stays_up: Option<bool>,
    /// A traffic direction (`onprem_to_vnet`) that must lose nothing.
    #[serde(default)]
    pub no_loss: Option<String>,
    /// A traffic direction whose path is checked at `at`.
    #[serde(default)]
    pub path: Option<String>,
    /// Which way that direction's traffic goes at `at`.
    #[serde(default)]
    pub via: Option<Via>,
    /// `path`: the link (`circuit.primary`, a VPN session, a link of the general form) the
    /// flows must go by: the first link of their way, as the timeline names it.
    #[serde(default)]
    pub link: Option<String>,
    /// `path`: the least share of the direction's flows that must go `via` (`"90%"`;
    /// default: every flow).
    #[serde(default)]
    pub share: Option<String>,
    /// `metric` (outage, detection, convergence): the episode to measure in, from 1 (default:
    /// over the whole run; see the library README).
    #[serde(default)]
    pub episode: Option<u32>,
    /// `metric` (outage): an outage still open at the end of the run may pass (its length is
    /// then a lower bound); by default it fails.
    #[serde(default)]
    pub allow_open: Option<bool>,
    /// Why this expectation holds (shown by `holdtime check`).
    #[serde(default)]
    pub because: Option<String>,
}

/// BGP FSM states (RFC 4271 §8.2.2), as written in expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStateName {
    /// Idle.
    Idle,
    /// Connect.
    Connect,
    /// Active.
    Active,
    /// OpenSent.
    OpenSent,
    /// OpenConfirm.
    OpenConfirm,
    /// Established.
    Established,
}

/// Which way a direction's traffic flows at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// Over an ExpressRoute circuit.
    Expressroute,
    /// Over the site-to-site VPN.
    Vpn,
    /// Over the internet (Microsoft/public peering fallback).
    Internet,
    /// Over the scenario's own routers and links only (the general form): no Azure path.
    Network,
    /// Nowhere: black-holed or unreachable.
    None,
}

impl Via {
    /// The name as scenario files write it (`expressroute`, `vpn`, `internet`, `network`,
    /// `none`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Expressroute => "expressroute",
            Self::Vpn => "vpn",
            Self::Internet => "internet",
            Self::Network => "network",
            Self::None => "none",
        }
    }
}

/// `[[circuit]]`: an ExpressRoute circuit written out, referring to the routers and links
/// it is made of.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitTable {
    /// Unique name, no dots (targets: `NAME`, `NAME.primary`, `NAME.secondary`).
    pub name: String,
    /// Bandwidth per link.
    pub bandwidth: Bandwidth,
    /// `standard` (default) or `premium`.
    #[serde(default)]
    pub sku: Option<Sku>,
    /// Provider provisioning state (default `Provisioned`).
    #[serde(default)]
    pub provider_state: Option<ProviderState>,
    /// Microsoft `Status` is `Enabled` (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Connection weight towards the ExpressRoute gateway (default 0).
    #[serde(default)]
    pub weight: Option<u32>,
    /// The primary link.
    pub primary: CircuitLinkTable,
    /// The secondary link.
    pub secondary: CircuitLinkTable,
    /// Its peerings.
    #[serde(default)]
    pub peering: Vec<PeeringTable>,
}

/// One link of a `[[circuit]]`: the routers and links it is made of, by name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitLinkTable {
    /// The CE router (role `ce`).
    pub ce: String,
    /// The layer-3 provider's edge (role `pe`), if any.
    #[serde(default)]
    pub pe: Option<String>,
    /// The MSEE (role `msee`).
    pub msee: String,
    /// The link from the CE to the provider.
    pub access: String,
    /// The link from the provider to the MSEE.
    pub core: String,
}

/// `[[circuit.peering]]`: one routing domain of a circuit written out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeeringTable {
    /// `private`, `microsoft` or `public`.
    pub kind: PeeringKind,
    /// Primary and secondary /30s.
    pub subnets: [Ipv4Net; 2],
    /// Primary and secondary IPv6 /126s.
    #[serde(default)]
    pub ipv6_subnets: Option<[Ipv6Net; 2]>,
    /// VLAN id.
    pub vlan: u16,
    /// The customer's ASN on it (default `[onprem] asn`).
    #[serde(default)]
    pub peer_asn: Option<u32>,
    /// MD5 key.
    #[serde(default)]
    pub md5: Option<String>,
    /// Advertised public prefixes state (default `Configured`).
    #[serde(default)]
    pub public_prefixes_state: Option<PublicPrefixesState>,
    /// BGP enabled on the Microsoft side (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Microsoft peering's route filter: the communities of the services selected
    /// (`"12076:5010"`).
    #[serde(default)]
    pub route_filter: Option<Vec<String>>,
}

/// `[er_gateway]`: the ExpressRoute gateway written out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErGatewayTable {
    /// Its router (role `er_gateway`).
    pub router: String,
    /// Route-programming delay after the MSEEs change their routes (default 60 s).
    #[serde(default)]
    pub convergence_delay: Option<TimeSpec>,
    /// Prefixes towards on-premises per connection: Azure's 1,000, the only value accepted.
    #[serde(default)]
    pub max_prefixes_to_onprem: Option<u32>,
    /// An instance failover, planned (default 10-15 s, as `[topology.er_gateway]`).
    #[serde(default)]
    pub planned_failover: Option<TimeSpec>,
    /// An instance failover, unplanned (default 60-90 s).
    #[serde(default)]
    pub unplanned_failover: Option<TimeSpec>,
}

/// `[vpn_gateway]`: the VPN gateway and its tunnels written out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpnGatewayTable {
    /// Its router (role `vpn_gateway`).
    pub router: String,
    /// The on-premises device (role `vpn_device`).
    pub device: String,
    /// `active-standby` (default) or `active-active`.
    #[serde(default)]
    pub mode: Option<VpnMode>,
    /// IKE dead-peer detection timeout (default 45 s).
    #[serde(default)]
    pub dpd_timeout: Option<Duration>,
    /// Planned instance failover time (default 10–15 s).
    #[serde(default)]
    pub planned_failover: Option<TimeSpec>,
    /// Unplanned instance failover time (default 60–90 s).
    #[serde(default)]
    pub unplanned_failover: Option<TimeSpec>,
    /// The tunnel links (kind `tunnel`): one, or one per instance when active-active.
    pub tunnels: Vec<String>,
    /// Prefixes accepted from on-premises: Azure's 4,000, the only value accepted.
    #[serde(default)]
    pub max_prefixes: Option<u32>,
}

/// `[[vnet]]`: a VNet written out (a probe endpoint behind the gateways).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VnetTable {
    /// Unique name.
    pub name: String,
    /// Its address space (IPv4 and IPv6).
    pub prefixes: Vec<ipnet::IpNet>,
    /// Its user-defined routes, as `[[topology.vnet.route]]` (the first VNet only).
    #[serde(default)]
    pub route: Vec<RouteSpec>,
}

/// `[internet]`: the internet path written out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternetTable {
    /// The link (kind `internet`) between the two edges.
    pub link: String,
    /// Microsoft's service prefixes (default: the template's).
    #[serde(default)]
    pub microsoft_prefixes: Option<Vec<Ipv4Net>>,
    /// On premises uses one edge for the internet and Microsoft peering (default false).
    #[serde(default)]
    pub shares_edge_with_microsoft_peering: Option<bool>,
    /// Forced tunneling, as `[topology.forced_tunneling]` (the default routes themselves are
    /// the sessions' `originates`).
    #[serde(default)]
    pub forced_tunneling: Option<ForcedTunnelingSpec>,
}

/// `[onprem]`: the on-premises site written out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnpremTable {
    /// The customer's ASN.
    pub asn: u32,
    /// Its private address space (IPv4 and IPv6).
    #[serde(default)]
    pub prefixes: Vec<ipnet::IpNet>,
    /// Its public prefixes (advertised over Microsoft peering).
    #[serde(default)]
    pub public_prefixes: Vec<Ipv4Net>,
}
