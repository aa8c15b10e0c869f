//! The hybrid network as plain data: what the simulation driver instantiates.
//!
//! [`crate::validate`] builds a [`Topology`] from a [`crate::spec::TopologySpec`] (a built-in
//! one or the scenario's own `[topology]`), then applies the scenario's overrides (timers,
//! profiles, BFD, policies, prefix counts, link properties) to it. After that it is final: the
//! driver reads it and never has to interpret the scenario file. This module imports neither:
//! the file format takes its vocabulary (SKUs, profiles, modes, states) from here.
//!
//! # Contract for the driver
//!
//! - **Routers** ([`Router`]) are BGP speakers: CE routers (`ce1`, `ce2`), provider edges for
//!   a layer-3 provider (`pe1`, `pe2`, ...; one per link), the MSEEs (`msee1`, `msee2`, ...;
//!   circuit *k* ends on `msee(2k−1)` for its primary link and `msee(2k)` for its secondary),
//!   the ExpressRoute gateway `ergw`, the VPN gateway `vpngw` and the on-premises VPN device
//!   `vpn1`. Each has its ASN, router id, timer profile, configured timers and BFD settings.
//! - **Sessions** ([`Session`]) are eBGP or iBGP sessions between two routers, each end with
//!   its address, import policy (LOCAL_PREF, weight, maximum prefixes) and export policy
//!   (AS-path prepend), the prefixes it originates into the session, the segments the
//!   session's packets cross (in order, from end 0 to end 1) and its gates (provisioning
//!   states). End 0 is the end nearer on-premises: the customer side (CE, PE or VPN device)
//!   of sessions with Azure, the MSEE of a gateway session, the first router of an iBGP
//!   session; end 1 the far end. The negotiated hold time is the smaller of the two
//!   ends' (RFC 4271 §4.2); see [`Session::negotiated_hold_time`].
//! - **Segments** ([`Segment`]) carry packets between two [`Node`]s with [`LinkProps`]. A
//!   failure of a segment is carrier-visible only to a router attached *directly* to it; a
//!   provider node (layer-2 switch) hides it from the far end. That is how a cut inside the
//!   provider is silent to the customer.
//! - **Circuits** ([`Circuit`]) hold the Azure states that gate BGP: a session over a circuit
//!   may come up only when the circuit is `Provisioned` and enabled, the peering is enabled,
//!   and for Microsoft peering when the advertised public prefixes are `Configured`
//!   ([`Topology::session_gate`]).
//! - The **gateways** carry the parameters that are not BGP: the ExpressRoute gateway's
//!   route-programming delay and prefix limit, the VPN gateway's instance mode, failover
//!   times and dead-peer detection.
//! - A Cloud Solution Provider's network (`[csp]`, `validate/csp.rs`) has **tenants**
//!   ([`Tenant`]) instead of the template's on-premises site and VNets: each tenant's hosts
//!   and VNet are [`Site`]s, its VNet behind an ExpressRoute gateway of its own (its
//!   [`ErGateway`] in the tenant, [`Topology::er_gateway_of`]) that has sessions only with its
//!   own circuits' MSEEs. Routers that are VRFs of one box form a [`Chassis`]: a crash or
//!   restart of any of them is one of all ([`Topology::fails_with`]).
//!
//! Collections are `Vec`s indexed by the newtype ids ([`RouterIx`], [`SessionIx`],
//! [`SegmentIx`], [`CircuitIx`]); their order is the build order, stable for a given file, so
//! iterating them is deterministic.

mod form;
mod target;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};
use sim_core::time::Duration;

use crate::units::{Bandwidth, LossModel, TimeSpec};

pub use form::{general_form, general_scenario};
pub use target::{Target, TargetClass};

/// Microsoft's ASN on the MSEEs.
pub const MICROSOFT_ASN: u32 = 12076;
/// The default ASN of both Azure gateways.
pub const AZURE_GATEWAY_ASN: u32 = 65515;
/// ASNs Azure reserves, refused on the customer side (domain.md, "ASNs").
pub const RESERVED_ASNS: [u32; 9] = [8074, 8075, 12076, 65515, 65516, 65517, 65518, 65519, 65520];
/// Private-peering prefix limit from on-premises, standard SKU.
pub const PRIVATE_PREFIX_LIMIT: u32 = 4_000;
/// Private-peering prefix limit from on-premises, premium SKU.
pub const PRIVATE_PREFIX_LIMIT_PREMIUM: u32 = 10_000;
/// Microsoft-peering (and public-peering) prefix limit per session.
pub const MICROSOFT_PREFIX_LIMIT: u32 = 200;
/// Prefixes from Azure to on-premises per ExpressRoute connection.
pub const GATEWAY_PREFIX_LIMIT: u32 = 1_000;
/// IPv6 prefixes the MSEE accepts from on-premises on IPv6 private peering (domain.md).
pub const PRIVATE_IPV6_PREFIX_LIMIT: u32 = 100;
/// IPv6 prefixes from Azure to on-premises per ExpressRoute connection (domain.md).
pub const GATEWAY_IPV6_PREFIX_LIMIT: u32 = 100;
/// Prefixes from on-premises to the VPN gateway.
pub const VPN_PREFIX_LIMIT: u32 = 4_000;
/// LOCAL_PREF the CEs set on routes learned over ExpressRoute unless `[policy]
/// expressroute_local_pref` says otherwise (domain.md: "e.g. 150 against the default 100").
pub const DEFAULT_EXPRESSROUTE_LOCAL_PREF: u32 = 150;
/// Circuits one VNet spreads traffic over by ECMP.
pub const MAX_CIRCUITS: usize = 4;
/// Customers of the `[csp]` template (a bound of the model, not Azure's: each tenant adds
/// two to nine routers).
pub const MAX_TENANTS: u32 = 16;
/// The MSEE's minimum BFD interval: a faster request yields this.
pub const MSEE_BFD_MIN_INTERVAL: Duration = Duration::from_millis(300);
/// The MSEE's smallest accepted hold time.
pub const MSEE_MIN_HOLD_TIME: Duration = Duration::from_secs(10);
/// The MSEE's smallest accepted keepalive.
pub const MSEE_MIN_KEEPALIVE: Duration = Duration::from_secs(3);
/// A gateway's planned failover (maintenance moves it to its other instance): 10-15 s, as
/// Microsoft documents for the VPN gateway ("About VPN Gateway redundancy"). Microsoft
/// documents no figure for the ExpressRoute gateway, which borrows this one (an assumption,
/// see `sim::azure`). The default of both gateways' `planned_failover`.
pub const GATEWAY_PLANNED_FAILOVER: TimeSpec = TimeSpec::Range {
    min: Duration::from_secs(10),
    max: Duration::from_secs(15),
};
/// A gateway's unplanned failover (its active instance fails): 60-90 s, documented for the
/// VPN gateway and borrowed for the ExpressRoute gateway as [`GATEWAY_PLANNED_FAILOVER`] is.
/// The default of both gateways' `unplanned_failover`.
pub const GATEWAY_UNPLANNED_FAILOVER: TimeSpec = TimeSpec::Range {
    min: Duration::from_secs(60),
    max: Duration::from_secs(90),
};
/// How long the ExpressRoute gateway takes to program a route change into the VNet
/// (`[topology.er_gateway] convergence_delay`'s default): "up to about a minute" after a
/// route change on the circuit (domain.md).
pub const ER_GATEWAY_CONVERGENCE_DELAY: TimeSpec = TimeSpec::Fixed(Duration::from_secs(60));
/// The VPN gateway's IKE dead-peer-detection timeout (`dpd_timeout`'s default; domain.md).
pub const VPN_DPD_TIMEOUT: Duration = Duration::from_secs(45);
/// Bandwidths ExpressRoute circuits are sold in (per link).
pub const CIRCUIT_BANDWIDTHS_MBPS: [u64; 8] = [50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000];

/// How long deleting a circuit and creating and provisioning a new one takes when its
/// bandwidth is lowered (`bandwidth_change`'s `recreate`). Microsoft documents that a downgrade
/// needs a new circuit but gives no duration; it includes the provider's provisioning, an
/// operation of minutes to hours. Thirty minutes is this model's assumption.
pub const CIRCUIT_RECREATE: Duration = Duration::from_secs(30 * 60);

/// A Microsoft service behind Microsoft peering: Microsoft tags its prefixes with a BGP
/// community (RFC 1997) per service, and a route filter selects services by those communities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MicrosoftService {
    /// The name of its probe endpoint, `microsoft.NAME`.
    pub name: &'static str,
    /// What it is.
    pub what: &'static str,
    /// Its community, `12076:value`.
    pub community: u32,
    /// The prefix standing for its address ranges in the model.
    pub prefix: &'static str,
}

/// The Microsoft services the model knows, with the communities Microsoft documents for
/// ExpressRoute Microsoft peering ("ExpressRoute routing requirements", BGP community support)
/// and one published address range of each (Microsoft 365 URLs and IP address ranges). The
/// endpoint `microsoft` is the first of them.
pub const MICROSOFT_SERVICES: [MicrosoftService; 4] = [
    MicrosoftService {
        name: "exchange",
        what: "Exchange Online",
        community: 12076 << 16 | 5010,
        prefix: "13.107.6.152/31",
    },
    MicrosoftService {
        name: "teams",
        what: "Skype for Business Online and Microsoft Teams",
        community: 12076 << 16 | 5030,
        prefix: "52.112.0.0/14",
    },
    MicrosoftService {
        name: "sharepoint",
        what: "SharePoint Online",
        community: 12076 << 16 | 5020,
        prefix: "13.107.136.0/22",
    },
    MicrosoftService {
        name: "office365",
        what: "other Office 365 services (Microsoft Entra ID among them)",
        community: 12076 << 16 | 5100,
        prefix: "20.190.128.0/18",
    },
];

/// `ASN:value` of a standard community.
#[must_use]
pub fn community_text(c: u32) -> String {
    format!("{}:{}", c >> 16, c & 0xFFFF)
}

/// The service whose prefix is `prefix`.
#[must_use]
pub fn microsoft_service_of(prefix: Ipv4Net) -> Option<&'static MicrosoftService> {
    MICROSOFT_SERVICES
        .iter()
        .find(|s| s.prefix.parse::<Ipv4Net>().is_ok_and(|p| p == prefix))
}

/// Index of a router in [`Topology::routers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RouterIx(pub usize);
/// Index of a session in [`Topology::sessions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SessionIx(pub usize);
/// Index of a segment in [`Topology::segments`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SegmentIx(pub usize);
/// Index of a circuit in [`Topology::circuits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CircuitIx(pub usize);

/// An implementation whose timer behaviour a router follows (the `bgp` crate's profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// BIRD 2: jitters the hold timer as well as the keepalive.
    Bird,
    /// Cisco IOS (assumptions where undocumented are stated in the `bgp` crate).
    CiscoIos,
    /// FRR's bgpd.
    Frr,
    /// Juniper Junos.
    Junos,
    /// RFC 4271 as written: keepalive, ConnectRetry and MRAI jittered to 75–100 %, hold not.
    Rfc4271,
}

impl Profile {
    /// Every profile, in name order.
    pub const ALL: [Self; 5] = [
        Self::Bird,
        Self::CiscoIos,
        Self::Frr,
        Self::Junos,
        Self::Rfc4271,
    ];

    /// The name used in files.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bird => "bird",
            Self::CiscoIos => "cisco-ios",
            Self::Frr => "frr",
            Self::Junos => "junos",
            Self::Rfc4271 => "rfc4271",
        }
    }

    /// The `bgp` crate's timer profile of the same name (jitter ranges, keepalive rule,
    /// ConnectRetry, MRAI). Only its behaviours are meant: the configured timers of a router
    /// are in [`Router::timers`].
    #[must_use]
    pub fn behaviour(self) -> bgp::fsm::profile::Profile {
        // Every name above is one of the bgp crate's built-in profiles (tested below); the
        // default is only a fallback should the two lists ever drift apart.
        bgp::fsm::profile::Profile::by_name(self.name()).unwrap_or_default()
    }
}

/// Layer-2 or layer-3 connectivity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Ethernet service: the CE speaks BGP straight to the MSEEs.
    Layer2,
    /// IPVPN/MPLS: a PE speaks BGP with the CE and with the MSEEs (two BGP hops).
    Layer3,
}

/// `ServiceProviderProvisioningState` of a circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum ProviderState {
    /// Not provisioned (or deprovisioned): no BGP.
    NotProvisioned,
    /// Being provisioned: no BGP yet.
    Provisioning,
    /// Provisioned: BGP may come up.
    Provisioned,
}

/// The advertised-public-prefixes state of Microsoft peering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum PublicPrefixesState {
    /// Validated: the session is enabled.
    Configured,
    /// Validation in progress: not enabled.
    Configuring,
    /// Must be validated by hand: not enabled.
    ManualValidation,
    /// No prefixes configured: not enabled.
    NotConfigured,
    /// The prefixes do not match the AS in the routing registries: not enabled.
    ValidationNeeded,
}

/// Circuit SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sku {
    /// Premium: 10,000 private-peering prefixes.
    Premium,
    /// Standard: 4,000 private-peering prefixes.
    Standard,
}

/// VPN gateway instance arrangement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VpnMode {
    /// Two instances, both with a tunnel and a BGP session.
    ActiveActive,
    /// One active instance; the standby takes over after a failover time.
    ActiveStandby,
}

/// An ExpressRoute routing domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeeringKind {
    /// Microsoft peering (Office 365, Dynamics): public addresses; falls back to the internet.
    Microsoft,
    /// Azure private peering: to VNets; the only one that falls back to the VPN.
    Private,
    /// Azure public peering (legacy): falls back to the internet.
    Public,
}

impl PeeringKind {
    /// The name used in targets and session names.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Microsoft => "microsoft",
            Self::Private => "private",
            Self::Public => "public",
        }
    }
}

/// Which of a circuit's two links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkSide {
    /// The primary link (ends on the odd MSEE).
    Primary,
    /// The secondary link (ends on the even MSEE).
    Secondary,
}

impl LinkSide {
    /// Both sides, primary first.
    pub const BOTH: [Self; 2] = [Self::Primary, Self::Secondary];

    /// The name used in targets.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
        }
    }

    /// 0 for primary, 1 for secondary.
    #[must_use]
    pub const fn index(self) -> usize {
        match self {
            Self::Primary => 0,
            Self::Secondary => 1,
        }
    }
}

/// What a router is in the hybrid network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// On-premises customer edge router.
    Ce,
    /// The ExpressRoute gateway in the VNet.
    ErGateway,
    /// A Microsoft enterprise edge router.
    Msee,
    /// A layer-3 provider's edge router.
    Pe,
    /// The on-premises VPN appliance.
    VpnDevice,
    /// The Azure VPN gateway.
    VpnGateway,
    /// A router the scenario describes itself (`[[router]]`, the general form): its timers,
    /// BFD and policy are what the file says, and none of Azure's rules apply to it.
    Router,
}

impl Role {
    /// Whether Microsoft runs routers of this role (their timers are Azure's; Azure's rules
    /// apply to them and to the sessions towards them).
    #[must_use]
    pub const fn is_azure(self) -> bool {
        matches!(self, Self::Msee | Self::ErGateway | Self::VpnGateway)
    }

    /// The routers a crash, restart or graceful shutdown applies to (faults and the audit's
    /// failure set): every role but the two Azure gateways, which fail over with
    /// `gateway_instance_failure` instead.
    pub const FAILS_AS_A_ROUTER: [Self; 5] = [
        Self::Ce,
        Self::Pe,
        Self::Msee,
        Self::VpnDevice,
        Self::Router,
    ];

    /// The name used in files and reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ce => "ce",
            Self::ErGateway => "er_gateway",
            Self::Msee => "msee",
            Self::Pe => "pe",
            Self::VpnDevice => "vpn_device",
            Self::VpnGateway => "vpn_gateway",
            Self::Router => "router",
        }
    }
}

/// BGP timers as configured on one router (before negotiation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BgpTimers {
    /// Keepalive interval; `None` means a third of the negotiated hold time (RFC 4271 §10:
    /// "a reasonable maximum time between KEEPALIVE messages would be one third of the Hold
    /// Time interval").
    pub keepalive: Option<Duration>,
    /// Hold time offered in OPEN (whole seconds; 0 or ≥ 3 s per RFC 4271 §4.2).
    pub hold_time: Duration,
    /// ConnectRetry timer (RFC 4271 §10 suggests 120 s).
    pub connect_retry: Duration,
    /// Delay from a start or automatic restart to the first connection attempt; `None`: the
    /// profile's (BIRD 5 s, others none).
    pub connect_delay: Option<Duration>,
    /// MRAI on every session of the router; `None`: the profile's eBGP/iBGP values.
    pub mrai: Option<Duration>,
    /// Automatic-restart delay after the first error; `None`: the profile's (see the `bgp`
    /// crate's `RestartRule` for how each implementation moves it).
    pub idle_hold: Option<Duration>,
    /// Longest automatic-restart delay; `None`: the profile's.
    pub idle_hold_max: Option<Duration>,
    /// Quiet period after which the restart delay starts over; `None`: the profile's.
    pub idle_hold_forget: Option<Duration>,
    /// Graceful restart (RFC 4724): the Restart Time announced; `None`: the profile's (none
    /// in every built-in profile: off).
    pub graceful_restart: Option<Duration>,
    /// The graceful restart N bit (RFC 8538).
    pub graceful_restart_notification: bool,
    /// A constant route-install latency in place of the profile's model; `None`: the
    /// profile's.
    pub route_install: Option<Duration>,
    /// Time to program one prefix in a FIB programmed one prefix at a time, after
    /// `route_install`; `None`: the profile's model.
    pub route_install_per_prefix: Option<Duration>,
}

impl BgpTimers {
    /// Microsoft's fixed MSEE and gateway timers: keepalive 60 s, hold 180 s.
    pub const AZURE: Self = Self {
        keepalive: Some(Duration::from_secs(60)),
        hold_time: Duration::from_secs(180),
        connect_retry: Duration::from_secs(120),
        connect_delay: None,
        mrai: None,
        idle_hold: None,
        idle_hold_max: None,
        idle_hold_forget: None,
        graceful_restart: None,
        graceful_restart_notification: false,
        route_install: None,
        route_install_per_prefix: None,
    };
}

/// BFD parameters of one router (RFC 5880 asynchronous mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BfdParams {
    /// Desired min TX and required min RX interval (the same value, as all published
    /// ExpressRoute examples use).
    pub interval: Duration,
    /// Detect multiplier.
    pub multiplier: u8,
}

impl BfdParams {
    /// The MSEE default: 300 ms × 3.
    pub const MSEE: Self = Self {
        interval: Duration::from_millis(300),
        multiplier: 3,
    };
}

/// A BGP speaker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Router {
    /// Unique name (`ce1`, `msee2`, `ergw`, ...); no dots.
    pub name: String,
    /// What it is.
    pub role: Role,
    /// Its ASN.
    pub asn: u32,
    /// Its BGP identifier (synthetic, unique).
    pub router_id: Ipv4Addr,
    /// Timer behaviour.
    pub profile: Profile,
    /// Configured timers: Microsoft's fixed 60/180 on the MSEEs and gateways, 180 s hold on
    /// customer and provider routers unless the scenario changes it (the profile's own default
    /// hold time is not used: the reference network matches Microsoft's timers).
    pub timers: BgpTimers,
    /// BFD, when enabled on this router. A session runs BFD when both of its ends have it
    /// (the MSEE always offers it on private and Microsoft peering; the gateways never do).
    pub bfd: Option<BfdParams>,
    /// Maximum equal-cost paths installed (4 on the ExpressRoute gateway, 2 on CEs).
    pub max_paths: u8,
}

/// One end of a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionEnd {
    /// The router.
    pub router: RouterIx,
    /// Its address on this session (IPv6 on the IPv6 sessions of private peering).
    pub addr: IpAddr,
    /// LOCAL_PREF set on routes received (iBGP-relevant; `None`: default 100).
    pub local_pref: Option<u32>,
    /// Local weight on routes received (the gateway's connection weight; `None`: 0).
    pub weight: Option<u32>,
    /// Maximum prefixes accepted from the other end; above it the session is dropped with
    /// NOTIFICATION Cease/1 (RFC 4486) and comes back once the peer is below the limit.
    pub max_prefixes: Option<u32>,
    /// How many extra copies of its own ASN this end prepends when advertising.
    pub prepend: u8,
    /// Prefixes this end originates into this session.
    pub announces: Vec<IpNet>,
    /// The rest of this end's policy (what a `[[session]]` of the general form may set).
    pub policy: EndPolicy,
}

/// Policy of one session end beyond what the ExpressRoute template sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EndPolicy {
    /// MULTI_EXIT_DISC this end sets on the routes it advertises (RFC 4271 §5.1.4).
    pub med: Option<u32>,
    /// Only routes inside these prefixes (or equal to them) are accepted; `None` accepts all.
    pub import: Option<Vec<IpNet>>,
    /// Only routes inside these prefixes (or equal to them) are advertised; `None`: all.
    pub export: Option<Vec<IpNet>>,
    /// After dropping the session for too many prefixes (Cease 6/1, RFC 4486), restart it
    /// after this long; `None`: the model's one minute.
    pub max_prefix_restart: Option<Duration>,
}

/// Address families a session carries when the file says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Families {
    /// IPv4 unicast only.
    Ipv4,
    /// IPv6 unicast only (RFC 4760).
    Ipv6,
    /// Both (RFC 4760 multiprotocol extensions).
    Both,
}

/// What a session connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// Customer (CE, or PE on layer 3) to MSEE, on one peering of one link.
    Peering,
    /// CE to PE on a layer-3 provider.
    Access,
    /// MSEE to the ExpressRoute gateway.
    Gateway,
    /// VPN device to VPN gateway, over the tunnel.
    Vpn,
    /// On-premises iBGP between CEs and the VPN device.
    Ibgp,
    /// A session the scenario describes (`[[session]]`, the general form), eBGP or iBGP by
    /// the ends' ASNs.
    User,
}

/// A BGP session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    /// Unique name (`circuit.primary.private`, `circuit.primary.private.access`,
    /// `circuit.primary.gateway`, `vpn`, `ibgp.ce1.ce2`).
    pub name: String,
    /// What it connects.
    pub kind: SessionKind,
    /// The two ends: 0 is the end nearer on-premises (customer side; the MSEE on gateway
    /// sessions; the lower-named router on iBGP sessions), 1 the far end.
    pub ends: [SessionEnd; 2],
    /// The circuit, link and peering it runs on, if any.
    pub on: Option<(CircuitIx, LinkSide, PeeringKind)>,
    /// Segments crossed from end 0 to end 1.
    pub path: Vec<SegmentIx>,
    /// The VLAN, on circuit sessions.
    pub vlan: Option<u16>,
    /// The MD5 key (RFC 2385), if configured.
    pub md5: Option<String>,
    /// BFD on this session: `None` runs it when both ends have BFD configured; `Some(false)`
    /// keeps it off whatever the routers say.
    pub bfd: Option<bool>,
    /// Families carried; `None`: those of the session's address (IPv4, or IPv6 unicast on
    /// an IPv6 session).
    pub families: Option<Families>,
}

/// One end of a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// A router's interface: it sees carrier loss on this segment.
    Router(RouterIx),
    /// A device that is not a BGP speaker (a layer-2 provider switch, the internet, the
    /// on-premises LAN): it hides carrier loss from what lies beyond.
    Transit(String),
}

/// Properties of a segment, the same in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinkProps {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Uniform jitter added to the delay.
    pub jitter: Duration,
    /// Packet loss.
    pub loss: LossModel,
    /// Capacity (`None`: not a bottleneck).
    pub bandwidth: Option<Bandwidth>,
}

/// What a segment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// CE to provider (switch or PE).
    Access,
    /// Provider to MSEE.
    Core,
    /// MSEE to the ExpressRoute gateway inside Azure.
    Azure,
    /// The IPsec tunnel (riding the internet segment).
    Tunnel,
    /// The internet path.
    Internet,
    /// The on-premises LAN joining CEs and the VPN device.
    Lan,
    /// A link between two routers that the scenario describes (`[[link]]` with `ends`).
    Link,
}

/// A piece of a path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// Unique name (`circuit.primary.access`, `circuit.primary.core`, `vpn.tunnel`,
    /// `internet`, `azure.msee1`, `onprem.lan`).
    pub name: String,
    /// What it is.
    pub kind: SegmentKind,
    /// Its two ends.
    pub ends: [Node; 2],
    /// Delay, jitter, loss, bandwidth.
    pub props: LinkProps,
}

/// One peering of a circuit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Peering {
    /// Which routing domain.
    pub kind: PeeringKind,
    /// Primary and secondary /30s.
    pub subnets: [Ipv4Net; 2],
    /// Primary and secondary IPv6 /126s (private peering), when IPv6 is enabled.
    pub ipv6_subnets: Option<[Ipv6Net; 2]>,
    /// VLAN id.
    pub vlan: u16,
    /// The customer's ASN on it.
    pub peer_asn: u32,
    /// MD5 key.
    pub md5: Option<String>,
    /// Advertised public prefixes state (Microsoft peering; `Configured` elsewhere).
    pub public_prefixes_state: PublicPrefixesState,
    /// Microsoft peering: the communities of the services the attached route filter allows
    /// (`None`: no route filter, so Microsoft advertises nothing over the peering).
    pub route_filter: Option<Vec<u32>>,
    /// BGP enabled on the Microsoft side.
    pub enabled: bool,
}

/// One link of a circuit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitLink {
    /// Primary or secondary.
    pub side: LinkSide,
    /// The CE it ends on.
    pub ce: RouterIx,
    /// The PE in between (layer 3 only).
    pub pe: Option<RouterIx>,
    /// The MSEE it ends on.
    pub msee: RouterIx,
    /// CE–provider segment.
    pub access: SegmentIx,
    /// Provider–MSEE segment.
    pub core: SegmentIx,
}

/// An ExpressRoute circuit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Circuit {
    /// Name used in targets.
    pub name: String,
    /// Bandwidth per link (the pair may burst to twice this).
    pub bandwidth: Bandwidth,
    /// SKU.
    pub sku: Sku,
    /// Provider provisioning state.
    pub provider_state: ProviderState,
    /// Microsoft `Status` is `Enabled`.
    pub enabled: bool,
    /// Connection weight towards the ExpressRoute gateway (0–32000).
    pub weight: u32,
    /// Primary and secondary links.
    pub links: [CircuitLink; 2],
    /// Its peerings.
    pub peerings: Vec<Peering>,
}

impl Circuit {
    /// The peering of this kind, if configured.
    #[must_use]
    pub fn peering(&self, kind: PeeringKind) -> Option<&Peering> {
        self.peerings.iter().find(|p| p.kind == kind)
    }

    /// The private-peering prefix limit from on-premises, by SKU.
    #[must_use]
    pub const fn private_prefix_limit(&self) -> u32 {
        match self.sku {
            Sku::Standard => PRIVATE_PREFIX_LIMIT,
            Sku::Premium => PRIVATE_PREFIX_LIMIT_PREMIUM,
        }
    }
}

/// The ExpressRoute gateway.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErGateway {
    /// Its router.
    pub router: RouterIx,
    /// Route-programming delay after the MSEEs change their routes. domain.md: "Even after
    /// the MSEE detects, the ExpressRoute gateway in the VNet can take up to about a minute to
    /// converge". The default is that bound, 60 s, so that predictions are never optimistic;
    /// a range (drawn per change from the seeded stream) models the spread.
    pub convergence_delay: TimeSpec,
    /// Prefixes towards on-premises per connection (1,000).
    pub max_prefixes_to_onprem: u32,
    /// How long a failed instance is gone on planned maintenance. Microsoft documents no
    /// figure for the ExpressRoute gateway; the default (10–15 s) is the VPN gateway's.
    pub planned_failover: TimeSpec,
    /// How long a failed instance is gone on an unplanned failure; the default (60–90 s) is
    /// the VPN gateway's, likewise an assumption.
    pub unplanned_failover: TimeSpec,
}

/// The VPN gateway and tunnel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VpnGateway {
    /// The gateway router.
    pub router: RouterIx,
    /// The on-premises device.
    pub device: RouterIx,
    /// Instance arrangement.
    pub mode: VpnMode,
    /// IKE dead-peer detection timeout.
    pub dpd_timeout: Duration,
    /// Planned instance failover time (maintenance).
    pub planned_failover: TimeSpec,
    /// Unplanned instance failover time.
    pub unplanned_failover: TimeSpec,
    /// The tunnel segments: one (`vpn.tunnel`) for active-standby, one per instance
    /// (`vpn.tunnel.instance0`, `vpn.tunnel.instance1`) for active-active. Each rides the
    /// internet segment: when the internet path fails, so do the tunnels.
    pub tunnels: Vec<SegmentIx>,
    /// Maximum prefixes the gateway accepts from on-premises (4,000).
    pub max_prefixes: u32,
}

/// A VNet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vnet {
    /// Name (a probe endpoint).
    pub name: String,
    /// Address space (listed plus generated).
    pub prefixes: Vec<Ipv4Net>,
    /// IPv6 address space.
    pub ipv6_prefixes: Vec<Ipv6Net>,
    /// User-defined routes of its subnets' route table (`[[topology.vnet.route]]`), in file
    /// order. Azure picks a VNet's route by longest prefix first and, for the same prefix, a
    /// user-defined route over a BGP route over a system route ("Virtual network traffic
    /// routing", How Azure selects a route).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<UserRoute>,
}

/// A user-defined route of a VNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UserRoute {
    /// The destination prefix.
    pub prefix: Ipv4Net,
    /// Where matching traffic goes.
    pub next_hop: NextHop,
}

/// The next hop of a user-defined route (Azure's next hop types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NextHop {
    /// A network virtual appliance at this address in the VNet: it forwards what it gets by
    /// its own subnet's routes (BGP and system routes, no user-defined ones).
    VirtualAppliance(Ipv4Addr),
    /// The VPN gateway (Azure's `VirtualNetworkGateway`: a user-defined route may name only a
    /// gateway of type VPN, never the ExpressRoute gateway).
    VirtualNetworkGateway,
    /// Azure's own internet egress.
    Internet,
    /// Dropped.
    None,
}

impl NextHop {
    /// The name used in files (`next_hop_type`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::VirtualAppliance(_) => "virtual_appliance",
            Self::VirtualNetworkGateway => "virtual_network_gateway",
            Self::Internet => "internet",
            Self::None => "none",
        }
    }
}

impl fmt::Display for UserRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.next_hop {
            NextHop::VirtualAppliance(a) => write!(f, "{} -> virtual_appliance {a}", self.prefix),
            other => write!(f, "{} -> {}", self.prefix, other.name()),
        }
    }
}

/// How the VPN gateway gets the default route of forced tunneling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VpnDefaultRoute {
    /// The VPN device advertises 0.0.0.0/0 over the tunnel's BGP session ("About forced
    /// tunneling for site-to-site", Configure using BGP).
    Bgp,
    /// The gateway's Default Site: a static 0.0.0.0/0 into the tunnel to the on-premises
    /// device, without BGP (`Set-AzVirtualNetworkGatewayDefaultSite`).
    DefaultSite,
    /// The VPN carries no internet-bound traffic.
    None,
}

impl VpnDefaultRoute {
    /// The name used in files.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bgp => "bgp",
            Self::DefaultSite => "default_site",
            Self::None => "none",
        }
    }
}

/// Forced tunneling: the VNet's internet-bound traffic is sent back on premises.
///
/// "Advertising default routes into private peering results in the internet path from Azure
/// being blocked" (ExpressRoute routing requirements, Advertising default routes): while
/// forced tunneling is configured, the VNet never falls back to Azure's own internet egress;
/// with every tunnelled path gone, its internet traffic is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ForcedTunneling {
    /// The CEs originate 0.0.0.0/0 over private peering.
    pub expressroute: bool,
    /// How the VPN gateway gets the default route.
    pub vpn: VpnDefaultRoute,
}

/// The hosts that stand for the internet (the `internet` probe endpoint): 198.18.0.0/15
/// (RFC 2544's benchmarking range, used by nothing else in the model).
#[must_use]
pub fn internet_hosts() -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(198, 18, 0, 0), 15).unwrap_or_default()
}

/// The internet path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Internet {
    /// The internet segment (on-premises edge to Microsoft's edge).
    pub segment: SegmentIx,
    /// Microsoft service prefixes (reached over Microsoft peering, or the internet).
    pub microsoft_prefixes: Vec<Ipv4Net>,
    /// Whether on-premises uses one edge for the internet and Microsoft peering. When true,
    /// on-premises sends traffic for Microsoft prefixes out of that edge's internet default
    /// route while its public prefixes are advertised over Microsoft peering, so Microsoft
    /// returns the replies over ExpressRoute: the two directions take different paths (the
    /// asymmetric routing of domain.md). When false, on-premises prefers the Microsoft-peering
    /// routes and falls back to the internet only when they are withdrawn.
    pub shares_edge_with_microsoft_peering: bool,
    /// Forced tunneling, when configured (`[topology.forced_tunneling]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced_tunneling: Option<ForcedTunneling>,
}

/// The whole network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topology {
    /// Built-in name, or `custom`.
    pub name: String,
    /// Provider type.
    pub provider: ProviderKind,
    /// The customer's ASN.
    pub customer_asn: u32,
    /// Every BGP speaker.
    pub routers: Vec<Router>,
    /// Every BGP session.
    pub sessions: Vec<Session>,
    /// Every segment.
    pub segments: Vec<Segment>,
    /// Circuits (1 to 4).
    pub circuits: Vec<Circuit>,
    /// On-premises private prefixes (listed plus generated).
    pub onprem_prefixes: Vec<Ipv4Net>,
    /// On-premises IPv6 prefixes (IPv6 private peering).
    pub onprem_ipv6_prefixes: Vec<Ipv6Net>,
    /// On-premises public prefixes (Microsoft peering).
    pub public_prefixes: Vec<Ipv4Net>,
    /// The ExpressRoute gateway, when the network has a circuit.
    pub er_gateway: Option<ErGateway>,
    /// The VPN, if any.
    pub vpn: Option<VpnGateway>,
    /// VNets.
    pub vnets: Vec<Vnet>,
    /// The internet path, when the ExpressRoute template made one.
    pub internet: Option<Internet>,
    /// The general form's probe endpoints (`[[site]]`): hosts behind routers.
    pub sites: Vec<Site>,
    /// A Cloud Solution Provider's customers (the `[csp]` template, or `[[tenant]]`): each
    /// with its own circuits and its own ExpressRoute gateway.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<Tenant>,
    /// Routers that are virtual routing instances (VRFs) of one box: they fail together.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chassis: Vec<Chassis>,
}

/// One customer of a Cloud Solution Provider ("ExpressRoute for Cloud Solution Providers").
///
/// Circuits are not shared between customers and a customer's traffic is isolated from the
/// others': a tenant has its own circuits, its own ExpressRoute gateway and its own VNet, and
/// its gateway has sessions only with its own circuits' MSEEs. The tenant's hosts on the
/// provider's (or the customer's) side and its VNet are sites ([`Site`]): the VNet's site is
/// behind the tenant's gateway, whose forwarding follows its BGP table after its own
/// route-programming delay, as the template's gateway does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tenant {
    /// Name (`t1`; its on-premises site has this name).
    pub name: String,
    /// Its hosts on the customer's side (a site of [`Topology::sites`]).
    pub onprem: usize,
    /// Its VNet (a site of [`Topology::sites`] behind its gateway).
    pub vnet: usize,
    /// Its circuits.
    pub circuits: Vec<CircuitIx>,
    /// Its ExpressRoute gateway.
    pub gateway: ErGateway,
}

/// A box whose routers are VRFs: a crash or restart of any of them is one of the box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chassis {
    /// Name (`edge1`).
    pub name: String,
    /// Its VRFs, each a router of its own (one RIB and FIB each).
    pub routers: Vec<RouterIx>,
}

/// Hosts behind one or more routers (`[[site]]`, or a `[[router]]` with `prefixes`): a probe
/// endpoint. Its routers originate its prefixes into every session they have; traffic from
/// the site is spread per flow over its routers that are running (a first-hop redundancy
/// that moves at once, as on premises).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    /// Name (a probe endpoint).
    pub name: String,
    /// The routers the hosts reach first.
    pub routers: Vec<RouterIx>,
    /// Its address space.
    pub prefixes: Vec<IpNet>,
}

/// Why a session may not come up (Azure's gates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// The circuit's provider state is not `Provisioned`.
    NotProvisioned(ProviderState),
    /// The circuit's `Status` is not `Enabled`.
    CircuitDisabled,
    /// BGP is not enabled on the Microsoft side for the peering.
    PeeringDisabled,
    /// Microsoft peering's advertised public prefixes are not `Configured`.
    PublicPrefixes(PublicPrefixesState),
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotProvisioned(s) => write!(f, "provider state is {s:?}, not Provisioned"),
            Self::CircuitDisabled => f.write_str("circuit Status is not Enabled"),
            Self::PeeringDisabled => f.write_str("BGP is not enabled on the peering"),
            Self::PublicPrefixes(s) => {
                write!(
                    f,
                    "advertised public prefixes state is {s:?}, not Configured"
                )
            }
        }
    }
}

impl Session {
    /// The hold time both ends use: the smaller of the two offers (RFC 4271 §4.2: "the
    /// calculated value indicates the maximum number of seconds that may elapse between the
    /// receipt of successive KEEPALIVE and/or UPDATE messages" and §6.2: the speaker "MUST
    /// calculate the value of the Hold Timer by using the smaller of its configured Hold Time
    /// and the Hold Time received in the OPEN message").
    #[must_use]
    pub fn negotiated_hold_time(&self, topology: &Topology) -> Duration {
        let hold = |e: &SessionEnd| {
            topology
                .routers
                .get(e.router.0)
                .map_or(Duration::ZERO, |r| r.timers.hold_time)
        };
        hold(&self.ends[0]).min(hold(&self.ends[1]))
    }
}

impl Topology {
    /// The router with this name.
    #[must_use]
    pub fn router(&self, name: &str) -> Option<RouterIx> {
        self.routers
            .iter()
            .position(|r| r.name == name)
            .map(RouterIx)
    }

    /// The session with this name.
    #[must_use]
    pub fn session(&self, name: &str) -> Option<SessionIx> {
        self.sessions
            .iter()
            .position(|s| s.name == name)
            .map(SessionIx)
    }

    /// The segment with this name.
    #[must_use]
    pub fn segment(&self, name: &str) -> Option<SegmentIx> {
        self.segments
            .iter()
            .position(|s| s.name == name)
            .map(SegmentIx)
    }

    /// The circuit with this name.
    #[must_use]
    pub fn circuit(&self, name: &str) -> Option<CircuitIx> {
        self.circuits
            .iter()
            .position(|c| c.name == name)
            .map(CircuitIx)
    }

    /// The name of a router (empty if the index is out of range).
    #[must_use]
    pub fn router_name(&self, ix: RouterIx) -> &str {
        self.routers.get(ix.0).map_or("", |r| r.name.as_str())
    }

    /// Traffic endpoints: `onprem` (when the ExpressRoute template made the network),
    /// `microsoft` (when a circuit has Microsoft peering), each VNet and each site by name,
    /// and `internet` (hosts on the internet, [`internet_hosts`], reached from a VNet).
    #[must_use]
    pub fn endpoints(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.has_onprem() {
            out.push("onprem".to_owned());
        }
        out.extend(self.vnets.iter().map(|v| v.name.clone()));
        out.extend(self.sites.iter().map(|s| s.name.clone()));
        if self
            .circuits
            .iter()
            .any(|c| c.peering(PeeringKind::Microsoft).is_some())
        {
            out.push("microsoft".to_owned());
            out.extend(
                MICROSOFT_SERVICES
                    .iter()
                    .map(|s| format!("microsoft.{}", s.name)),
            );
        }
        if self.internet.is_some() && !self.vnets.is_empty() {
            out.push("internet".to_owned());
        }
        out
    }

    /// The prefix of probe endpoint `name` when it is Microsoft's: `microsoft` (the first
    /// service) or `microsoft.SERVICE`.
    #[must_use]
    pub fn microsoft_endpoint_prefix(&self, name: &str) -> Option<Ipv4Net> {
        let service = match name {
            "microsoft" => MICROSOFT_SERVICES.first(),
            other => other
                .strip_prefix("microsoft.")
                .and_then(|n| MICROSOFT_SERVICES.iter().find(|s| s.name == n)),
        }?;
        let prefix = service.prefix.parse().ok()?;
        self.microsoft_prefixes()
            .contains(&prefix)
            .then_some(prefix)
    }

    /// Forced tunneling, when the topology configures it.
    #[must_use]
    pub fn forced_tunneling(&self) -> Option<ForcedTunneling> {
        self.internet.as_ref().and_then(|i| i.forced_tunneling)
    }

    /// Microsoft's service prefixes (none without the template's internet path).
    #[must_use]
    pub fn microsoft_prefixes(&self) -> &[Ipv4Net] {
        self.internet
            .as_ref()
            .map_or(&[], |i| i.microsoft_prefixes.as_slice())
    }

    /// The ExpressRoute gateway's router, when the network has one.
    #[must_use]
    pub fn er_gateway_router(&self) -> Option<RouterIx> {
        self.er_gateway.as_ref().map(|g| g.router)
    }

    /// The ExpressRoute gateway whose router is `r`: the template's, or a tenant's.
    #[must_use]
    pub fn er_gateway_of(&self, r: RouterIx) -> Option<&ErGateway> {
        self.er_gateway
            .iter()
            .chain(self.tenants.iter().map(|t| &t.gateway))
            .find(|g| g.router == r)
    }

    /// The routers that fail with `r`: its chassis' VRFs, or `r` alone.
    #[must_use]
    pub fn fails_with(&self, r: RouterIx) -> Vec<RouterIx> {
        self.chassis
            .iter()
            .find(|c| c.routers.contains(&r))
            .map_or_else(|| vec![r], |c| c.routers.clone())
    }

    /// The tenant router `r` serves (its edge routers, its circuits' MSEEs and PEs, its
    /// gateway), if any.
    #[must_use]
    pub fn tenant_of_router(&self, r: RouterIx) -> Option<usize> {
        self.tenants.iter().position(|t| {
            t.gateway.router == r
                || self
                    .sites
                    .get(t.onprem)
                    .is_some_and(|s| s.routers.contains(&r))
                || t.circuits.iter().any(|c| {
                    self.circuits.get(c.0).is_some_and(|c| {
                        c.links
                            .iter()
                            .any(|l| l.ce == r || l.msee == r || l.pe == Some(r))
                    })
                })
        })
    }

    /// The tenant whose address space (its hosts' or its VNet's) holds `prefix`, if any.
    #[must_use]
    pub fn tenant_of_prefix(&self, prefix: &IpNet) -> Option<usize> {
        self.tenants.iter().position(|t| {
            [t.onprem, t.vnet].iter().any(|s| {
                self.sites
                    .get(*s)
                    .is_some_and(|s| s.prefixes.iter().any(|p| p.contains(prefix)))
            })
        })
    }

    /// Whether the ExpressRoute template made an on-premises site (its CE routers or VPN
    /// device). A Cloud Solution Provider's network has none: each tenant's hosts are a site
    /// of their own.
    #[must_use]
    pub fn has_onprem(&self) -> bool {
        self.tenants.is_empty()
            && self
                .routers
                .iter()
                .any(|r| matches!(r.role, Role::Ce | Role::VpnDevice))
    }

    /// The first reason Azure keeps a session down at the start, if any. Sessions not on a
    /// circuit (gateway sessions of a circuit aside) are never gated.
    #[must_use]
    pub fn session_gate(&self, ix: SessionIx) -> Option<Gate> {
        let session = self.sessions.get(ix.0)?;
        if session.kind == SessionKind::Access {
            // CE–PE sessions belong to the customer and the provider; Azure does not gate them.
            return None;
        }
        let (c, _, kind) = session.on?;
        let circuit = self.circuits.get(c.0)?;
        if circuit.provider_state != ProviderState::Provisioned {
            return Some(Gate::NotProvisioned(circuit.provider_state));
        }
        if !circuit.enabled {
            return Some(Gate::CircuitDisabled);
        }
        let peering = circuit.peering(kind)?;
        if !peering.enabled {
            return Some(Gate::PeeringDisabled);
        }
        if kind == PeeringKind::Microsoft
            && peering.public_prefixes_state != PublicPrefixesState::Configured
        {
            return Some(Gate::PublicPrefixes(peering.public_prefixes_state));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_names_a_bgp_crate_profile() {
        for p in [
            Profile::Bird,
            Profile::CiscoIos,
            Profile::Frr,
            Profile::Junos,
            Profile::Rfc4271,
        ] {
            assert_eq!(
                bgp::fsm::profile::Profile::by_name(p.name()).map(|b| b.name),
                Ok(p.name())
            );
            assert_eq!(p.behaviour().name, p.name());
        }
    }
}
