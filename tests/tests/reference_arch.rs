//! The rest of the reference architectures (issue 17): forced tunneling and user-defined
//! routes. What the data plane does with them, what goes on the wire, and what validation
//! refuses (each refusal with its exact message and location).

use bgp::wire::Message;
use scenarios::capture::decode::{self, MessageItem, Options};
use scenarios::report::PathChange;
use scenarios::scenario::Scenario;
use scenarios::sim::net::CapturePoint;
use scenarios::sim::recorder::{DEFAULT_EPOCH, Recorder};
use scenarios::spec::Via;
use sim_core::time::Duration;

mod support;
use support::*;

/// One circuit (private peering), one VNet, a VPN; `extra` is appended to the `[topology]`
/// table's body (before the circuit), `vnet_extra` after the VNet, `rest` after the topology.
fn network(topology_keys: &str, vnet_extra: &str, rest: &str) -> String {
    format!(
        r#"name = "t"
duration = "12m"
seed = 1

[topology]
customer_asn = 65001
onprem_prefixes = ["10.1.0.0/16"]
{topology_keys}
[[topology.circuit]]
name = "circuit"
bandwidth = "1Gbps"

[[topology.circuit.peering]]
kind = "private"
primary_subnet = "192.168.100.0/30"
secondary_subnet = "192.168.100.4/30"
vlan = 100

[[topology.vnet]]
name = "vnet"
prefixes = ["10.10.0.0/16"]
{vnet_extra}
[topology.vpn]
mode = "active-standby"

[policy]
expressroute_local_pref = 150
{rest}"#
    )
}

/// The circuit goes down at 3 minutes; the VNet's internet traffic is probed.
const CIRCUIT_DOWN_INTERNET: &str = r#"
[[fault]]
at = "3m"
kind = "down"
target = "circuit"

[[probe]]
from = "vnet"
to = "internet"
flows = 4
"#;

const FORCED_NO_VPN: &str = "\n[topology.forced_tunneling]\nvpn = \"none\"\n";

/// The UPDATEs of a run, decoded from its sender-side capture.
fn updates(sc: &Scenario) -> Vec<MessageItem> {
    let mut pcap = Vec::new();
    let mut rec = Recorder::new(&sc.topology, DEFAULT_EPOCH, Some(&mut pcap), None)
        .expect("in-memory writer");
    scenarios::run_with_tap(sc, sc.seed, None, &mut rec, CapturePoint::Sender).expect("run");
    rec.finish().expect("in-memory writer flushes");
    let mut msgs = Vec::new();
    decode::decode(
        &pcap,
        Options {
            check_roundtrip: true,
        },
        &mut |m| msgs.push(m),
        &mut |_| {},
    )
    .expect("the capture decodes");
    msgs.retain(|m| matches!(m.result, Ok(Message::Update(_))));
    msgs
}

/// Senders (by address) of an UPDATE announcing 0.0.0.0/0.
fn default_route_senders(msgs: &[MessageItem]) -> Vec<String> {
    let mut out: Vec<String> = msgs
        .iter()
        .filter(|m| {
            let Ok(Message::Update(u)) = &m.result else {
                return false;
            };
            u.nlri.iter().any(|n| n.prefix.to_string() == "0.0.0.0/0")
        })
        .map(|m| format!("{} -> {}", m.src.ip, m.dst.ip))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn forced_tunneling_puts_the_default_route_on_the_wire() {
    // BGP over the VPN: both CEs to their MSEE, and the VPN device to the gateway.
    let loaded = scenarios::load("forced-tunneling").expect("library scenario loads");
    let senders = default_route_senders(&updates(&loaded.scenario));
    // ce1 -> msee1 and ce2 -> msee2 over private peering, each MSEE on to the gateway
    // (192.0.2.x -> 10.10.255.x) and the gateway to the other MSEE (which drops it: its own AS
    // is in the path), and vpn1 -> vpngw over the tunnel.
    let gateway = [
        "10.10.255.4 -> 192.0.2.6",
        "10.10.255.5 -> 192.0.2.7",
        "192.0.2.6 -> 10.10.255.4",
        "192.0.2.7 -> 10.10.255.5",
    ];
    let mut want: Vec<&str> = gateway.to_vec();
    want.extend([
        "169.254.21.2 -> 169.254.21.1",
        "192.168.100.1 -> 192.168.100.2",
        "192.168.100.5 -> 192.168.100.6",
    ]);
    want.sort_unstable();
    assert_eq!(senders, want);
    // The Default Site is the gateway's own static route: nothing crosses the tunnel for it.
    let loaded = scenarios::load("forced-tunneling-default-site").expect("library scenario loads");
    let senders = default_route_senders(&updates(&loaded.scenario));
    want.retain(|s| !s.starts_with("169.254."));
    assert_eq!(senders, want);
    // Without forced tunneling no one advertises it.
    let plain = load_text("plain.toml", &network("", "", CIRCUIT_DOWN_INTERNET));
    assert!(default_route_senders(&updates(&plain)).is_empty());
}

#[test]
fn without_forced_tunneling_the_vnet_leaves_by_azures_egress_and_loses_nothing() {
    let sc = load_text("plain.toml", &network("", "", CIRCUIT_DOWN_INTERNET));
    let r = run(&sc);
    for t in [120, 200, 600] {
        assert_eq!(
            paths_at(&r, "vnet_to_internet", at(t)).flows_via(Via::Internet),
            4,
            "at {t}s"
        );
    }
    let d = r
        .directions
        .iter()
        .find(|d| d.direction == "vnet_to_internet")
        .expect("the direction is measured");
    assert_eq!(d.total, Duration::ZERO, "{d:?}");
}

#[test]
fn forced_tunneling_without_a_vpn_route_is_lost_with_the_circuit_although_the_vpn_is_up() {
    let sc = load_text(
        "ft.toml",
        &network(FORCED_NO_VPN, "", CIRCUIT_DOWN_INTERNET),
    );
    let r = run(&sc);
    assert_eq!(
        paths_at(&r, "vnet_to_internet", at(120)).flows_via(Via::Expressroute),
        4
    );
    // After the gateway has reprogrammed (60 s), nothing is left: not the VPN (it carries no
    // default route), not Azure's egress (blocked by forced tunneling).
    let after = paths_at(&r, "vnet_to_internet", at(600));
    assert_eq!((after.lost, after.flows), (4, 4), "{after:?}");
}

#[test]
fn a_user_defined_internet_route_still_leaves_by_azures_egress_under_forced_tunneling() {
    let sc = load_text(
        "split.toml",
        &network(
            FORCED_NO_VPN,
            "\n[[topology.vnet.route]]\nprefix = \"198.18.0.0/15\"\nnext_hop_type = \"internet\"\n",
            CIRCUIT_DOWN_INTERNET,
        ),
    );
    let r = run(&sc);
    for t in [120, 600] {
        let p = paths_at(&r, "vnet_to_internet", at(t));
        assert_eq!(p.flows_via(Via::Internet), 4, "at {t}s: {p:?}");
        assert_eq!(
            p.via[0].route.as_deref(),
            Some("198.18.0.0/15 -> internet"),
            "the timeline names the route that decides"
        );
    }
}

/// The VNet's traffic to on premises with a user-defined route `udr` (TOML body of one
/// `[[topology.vnet.route]]`), at 2 minutes (before any fault).
fn vnet_to_onprem_with(udr: &str) -> PathChange {
    let sc = load_text(
        "udr.toml",
        &network(
            "",
            &format!("\n[[topology.vnet.route]]\n{udr}\n"),
            "\n[[probe]]\nfrom = \"onprem\"\nto = \"vnet\"\nflows = 4\n",
        ),
    );
    paths_at(&run(&sc), "vnet_to_onprem", at(120)).clone()
}

#[test]
fn a_longer_bgp_prefix_beats_a_shorter_user_defined_route() {
    // 10.0.0.0/8 -> none is shorter than the BGP route 10.1.0.0/16: the BGP route wins.
    let p = vnet_to_onprem_with("prefix = \"10.0.0.0/8\"\nnext_hop_type = \"none\"");
    assert_eq!(p.flows_via(Via::Expressroute), 4, "{p:?}");
    assert!(p.via.iter().all(|s| s.route.is_none()), "{p:?}");
}

#[test]
fn an_equal_length_user_defined_route_beats_bgp() {
    // The same prefix as the BGP route: the user-defined route wins and drops the traffic.
    let p = vnet_to_onprem_with("prefix = \"10.1.0.0/16\"\nnext_hop_type = \"none\"");
    assert_eq!((p.lost, p.flows), (4, 4), "{p:?}");
    // ... or sends it to the VPN gateway, whose BGP route carries it.
    let p = vnet_to_onprem_with(
        "prefix = \"10.1.0.0/16\"\nnext_hop_type = \"virtual_network_gateway\"",
    );
    assert_eq!(p.flows_via(Via::Vpn), 4, "{p:?}");
    // A longer user-defined route inside the BGP prefix wins too (longest prefix first).
    let p = vnet_to_onprem_with("prefix = \"10.1.0.0/24\"\nnext_hop_type = \"vpn_gateway\"");
    assert!(p.flows_via(Via::Vpn) > 0, "{p:?}");
}

#[test]
fn an_appliance_forwards_by_the_bgp_routes_and_the_timeline_names_the_route() {
    let p = vnet_to_onprem_with(
        "prefix = \"10.1.0.0/16\"\nnext_hop_type = \"virtual_appliance\"\nnext_hop_address = \"10.10.1.4\"",
    );
    assert_eq!(p.flows_via(Via::Expressroute), 4, "{p:?}");
    assert!(
        p.describe()
            .contains("by user-defined route 10.1.0.0/16 -> virtual_appliance 10.10.1.4"),
        "{}",
        p.describe()
    );
}

#[test]
fn udr_pins_vpn_keeps_the_pinned_prefix_off_expressroute() {
    let loaded = scenarios::load("udr-pins-vpn").expect("library scenario loads");
    let r = run(&loaded.scenario);
    let verdicts = scenarios::report::evaluate(&loaded.scenario, &r);
    assert!(verdicts.iter().all(|v| v.pass), "{verdicts:?}");
    let before = paths_at(&r, "vnet_to_onprem", at(170));
    assert_eq!(before.flows_via(Via::Vpn), 4);
    assert_eq!(
        before.via[0].route.as_deref(),
        Some("10.1.0.0/16 -> virtual_network_gateway")
    );
}

#[test]
fn forced_tunneling_and_routes_are_refused_with_their_location() {
    // Forced tunneling without private peering.
    let text = network(FORCED_NO_VPN, "", "").replace("kind = \"private\"", "kind = \"public\"");
    let err = refused("ft.toml", &text);
    assert!(
        err.contains("ft.toml:9:1")
            && err.contains("error: forced tunneling without private peering"),
        "{err}"
    );
    // A VPN default route without a VPN.
    let text = network(
        "\n[topology.forced_tunneling]\nvpn = \"default_site\"\n",
        "",
        "",
    )
    .replace("[topology.vpn]\nmode = \"active-standby\"\n", "");
    let err = refused("ft.toml", &text);
    assert!(
        err.contains("ft.toml:10:7")
            && err.contains("error: a VPN default route (`default_site`) without a VPN"),
        "{err}"
    );
    // An appliance outside the VNet.
    let text = network(
        "",
        "\n[[topology.vnet.route]]\nprefix = \"10.1.0.0/16\"\nnext_hop_type = \"virtual_appliance\"\nnext_hop_address = \"10.20.0.4\"\n",
        "",
    );
    let err = refused("udr.toml", &text);
    assert!(
        err.contains("udr.toml:26:20")
            && err.contains("error: appliance address 10.20.0.4 is outside VNet `vnet`"),
        "{err}"
    );
    // An appliance route without its address.
    let text = network(
        "",
        "\n[[topology.vnet.route]]\nprefix = \"10.1.0.0/16\"\nnext_hop_type = \"virtual_appliance\"\n",
        "",
    );
    let err = refused("udr.toml", &text);
    assert!(
        err.contains("udr.toml:25:17")
            && err.contains("error: a virtual_appliance route without `next_hop_address`"),
        "{err}"
    );
    // Traffic from the internet is not measured.
    let text = network("", "", "\n[[probe]]\nfrom = \"internet\"\nto = \"vnet\"\n");
    let err = refused("probe.toml", &text);
    assert!(
        err.contains("probe.toml:30:8")
            && err.contains("error: traffic from the internet is not measured"),
        "{err}"
    );
}
