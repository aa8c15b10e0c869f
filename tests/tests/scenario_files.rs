//! Scenario files: every library scenario and built-in topology loads; malformed files are
//! refused with a located message (file:line:col, the key, what was expected, the allowed
//! values); Azure's adjustments appear as warnings.

use scenarios::LoadError;
use scenarios::diag::Severity;

/// The first four lines of most cases; case text starts on line 5.
const HEAD: &str = "name = \"t\"\ndescription = \"d\"\ntopology = \"expressroute-vpn-failover\"\nduration = \"15m\"\n";

/// Loads `text` as `bad.toml`, which must be refused; returns the rendered diagnostics.
fn refused(text: &str) -> String {
    match scenarios::load_str("bad.toml", text) {
        Ok(_) => panic!("accepted a malformed scenario:\n{text}"),
        Err(LoadError::Invalid { rendered, .. }) => rendered,
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

fn assert_has(rendered: &str, fragments: &[&str]) {
    for f in fragments {
        assert!(rendered.contains(f), "missing {f:?} in:\n{rendered}");
    }
}

macro_rules! malformed {
    ($($name:ident: $text:expr => [$($frag:expr),+ $(,)?];)+) => {
        $(
            #[test]
            fn $name() {
                let text: String = $text;
                assert_has(&refused(&text), &[$($frag),+]);
            }
        )+
    };
}

fn with(tail: &str) -> String {
    format!("{HEAD}{tail}")
}

/// A custom dual-stack-capable topology: `onprem6` goes after `onprem_prefixes` (line 7),
/// `v6` after the peering's `vlan` (line 17), `tail` after the VNet (from line 22).
fn topo6(kind: &str, onprem6: &str, v6: &str, tail: &str) -> String {
    format!(
        "name = \"t\"\nduration = \"15m\"\n\n[topology]\ncustomer_asn = 65001\nce_routers = 2\nonprem_prefixes = [\"10.1.0.0/16\"]\n{onprem6}\n[[topology.circuit]]\nname = \"circuit\"\nbandwidth = \"1Gbps\"\n\n[[topology.circuit.peering]]\nkind = \"{kind}\"\nprimary_subnet = \"192.168.100.0/30\"\nsecondary_subnet = \"192.168.100.4/30\"\nvlan = 100\n{v6}\n[[topology.vnet]]\nname = \"vnet\"\nprefixes = [\"10.10.0.0/16\"]\n{tail}"
    )
}

malformed! {
    rejects_unknown_top_level_key:
        with("durration = \"1m\"\n") => [
            "bad.toml:5:1: error: unknown field `durration`",
            "= allowed: name, description, topology, router, session, site, duration, seed, measure_from, bgp, bfd, tcp, policy, prefixes, link, fault, probe, expect",
        ];
    rejects_unknown_fault_kind:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"silnt\"\ntarget = \"circuit.primary\"\n") => [
            "bad.toml:8:8: error: unknown variant `silnt` (at `fault[0].kind`)",
            "8 | kind = \"silnt\"",
            "  |        ^^^^^^^",
            "= allowed: silent, down, loss, latency, router_crash, router_restart, router_shutdown, msee_maintenance, bgp_disconnect, vpn_tunnel_down, gateway_instance_failure, deprovision, prefix_flood, public_prefixes_state, peering_disabled, bandwidth_change, sku_change, restore",
        ];
    rejects_unknown_fault_target_listing_allowed_targets:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"silent\"\ntarget = \"circuit.tertiary\"\n") => [
            "bad.toml:9:10: error: unknown target `circuit.tertiary` (at `fault[0].target`)",
            "= expected: a circuit, link (`circuit.primary`), segment (`circuit.primary.core`), `vpn.tunnel` or `internet`",
            "= allowed: circuit, circuit.primary, circuit.secondary, circuit.primary.access, circuit.primary.core,",
            "internet, vpn.tunnel",
        ];
    rejects_a_link_as_router_crash_target:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"router_crash\"\ntarget = \"circuit.primary\"\n") => [
            "bad.toml:9:10: error: `circuit.primary` cannot be used here (at `fault[0].target`)",
            "= allowed: ce1, ce2, msee1, msee2, vpn1",
        ];
    rejects_a_bandwidth_change_without_bandwidth:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"bandwidth_change\"\ntarget = \"circuit\"\n") => [
            "bad.toml:6:1: error: fault kind `bandwidth_change` needs `bandwidth` (at `fault[0]`)",
            "= allowed: 50Mbps, 100Mbps, 200Mbps, 500Mbps, 1Gbps, 2Gbps, 5Gbps, 10Gbps",
        ];
    rejects_a_bandwidth_that_expressroute_does_not_sell:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"bandwidth_change\"\ntarget = \"circuit\"\nbandwidth = \"3Gbps\"\n") => [
            "bad.toml:10:13: error: ExpressRoute is not sold at 3Gbps (at `fault[0].bandwidth`)",
            "= allowed: 50Mbps, 100Mbps, 200Mbps, 500Mbps, 1Gbps, 2Gbps, 5Gbps, 10Gbps",
        ];
    rejects_a_bandwidth_change_on_a_link:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"bandwidth_change\"\ntarget = \"circuit.primary\"\nbandwidth = \"2Gbps\"\n") => [
            "bad.toml:9:10: error: `circuit.primary` cannot be used here (at `fault[0].target`)",
            "= expected: a circuit",
        ];
    rejects_a_bandwidth_change_with_a_duration:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"bandwidth_change\"\ntarget = \"circuit\"\nbandwidth = \"2Gbps\"\nduration = \"1m\"\n") => [
            "bad.toml:11:12: error: fault kind `bandwidth_change` does not take `duration` (at `fault[0].duration`)",
            "= allowed: kind, at, target, bandwidth, recreate",
        ];
    rejects_a_recreate_of_more_than_a_day:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"bandwidth_change\"\ntarget = \"circuit\"\nbandwidth = \"500Mbps\"\nrecreate = \"2d\"\n") => [
            "bad.toml:11:12: error: recreate = 2d (at `fault[0].recreate`)",
            "= expected: a positive duration of at most 24h",
        ];
    rejects_an_sku_change_without_sku:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"sku_change\"\ntarget = \"circuit\"\n") => [
            "bad.toml:6:1: error: fault kind `sku_change` needs `sku` (at `fault[0]`)",
            "= allowed: standard, premium",
        ];
    rejects_an_unknown_sku:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"sku_change\"\ntarget = \"circuit\"\nsku = \"ultra\"\n") => [
            "bad.toml:10:7: error: unknown variant `ultra` (at `fault[0].sku`)",
            "= allowed: premium, standard",
        ];
    rejects_unknown_builtin_topology:
        "name = \"t\"\ndescription = \"d\"\ntopology = \"hub-and-spoke\"\nduration = \"15m\"\n".to_owned() => [
            "bad.toml:3:12: error: unknown built-in topology `hub-and-spoke` (at `topology`)",
            "= allowed: expressroute-vpn-failover, four-circuits, layer3-provider, microsoft-peering, single-ce",
        ];
    rejects_duration_without_unit:
        "name = \"t\"\ndescription = \"d\"\ntopology = \"single-ce\"\nduration = 900\n".to_owned() => [
            "bad.toml:4:12: error: a bare number (900) has no unit: write e.g. \"900s\" or \"900ms\"",
        ];
    rejects_duration_with_unknown_unit:
        "name = \"t\"\ndescription = \"d\"\ntopology = \"single-ce\"\nduration = \"15 minutes\"\n".to_owned() => [
            "bad.toml:4:12: error: unknown or missing unit at byte 2 of `15 minutes`: expected one of d, h, m, s, ms, us, ns",
        ];
    rejects_hold_time_of_two_seconds:
        with("\n[bgp]\nhold_time = \"2s\"\nkeepalive = \"1s\"\n") => [
            "bad.toml:7:13: error: hold time 2s is not allowed (at `bgp.hold_time`)",
            "= expected: 0 or at least 3s",
            "RFC 4271 §4.2",
        ];
    rejects_keepalive_longer_than_hold_time:
        with("\n[bgp]\nhold_time = \"30s\"\nkeepalive = \"40s\"\n") => [
            "bad.toml:8:13: error: keepalive 40s is longer than the hold time 30s (at `bgp.keepalive`)",
            "= expected: at most the hold time; usually a third of it (10s)",
        ];
    rejects_hold_time_below_msee_minimum:
        with("\n[bgp.router.ce1]\nhold_time = \"9s\"\n") => [
            "bad.toml:7:13: error: hold time 9s on `ce1` is below what the MSEE accepts (at `bgp.router.ce1.hold_time`)",
            "= expected: at least 10s towards an MSEE",
            "NOTIFICATION 2/6",
        ];
    rejects_keepalive_below_msee_minimum:
        with("\n[bgp]\nhold_time = \"10s\"\nkeepalive = \"2s\"\n") => [
            "bad.toml:8:13: error: keepalive 2s on `ce1` is below what the MSEE accepts (at `bgp.keepalive`)",
            "= expected: at least 3s towards an MSEE",
        ];
    rejects_changing_microsoft_timers:
        with("\n[bgp.router.msee1]\nhold_time = \"30s\"\n") => [
            "bad.toml:7:13: error: the timers of `msee1` are Microsoft's and cannot be changed (at `bgp.router.msee1.hold_time`)",
            "the session uses the smaller hold time",
        ];
    rejects_unknown_profile:
        with("\n[bgp]\nprofile = \"quagga\"\n") => [
            "bad.toml:7:11: error: unknown variant `quagga` (at `bgp.profile`)",
            "= allowed: bird, cisco-ios, frr, junos, rfc4271",
        ];
    rejects_unknown_router_in_bgp_overrides:
        with("\n[bgp.router.ce9]\nhold_time = \"30s\"\n") => [
            "bad.toml:6:1: error: unknown router `ce9` (at `bgp.router.ce9`)",
            "= allowed: ce1, ce2, msee1, msee2, ergw, vpn1, vpngw",
        ];
    rejects_reserved_customer_asn:
        custom_topology("customer_asn = 65515", "") => [
            "bad.toml:6:16: error: ASN 65515 is reserved by Azure and cannot be used on the customer side (at `topology.customer_asn`)",
            "65515–65520",
        ];
    rejects_microsoft_asn_as_peer_asn:
        custom_topology("customer_asn = 65001", "peer_asn = 12076\n") => [
            "error: ASN 12076 is reserved by Azure and cannot be used on the customer side (at `topology.circuit[0].peering[0].peer_asn`)",
        ];
    rejects_subnet_that_is_not_a_slash_30:
        custom_topology_subnet("192.168.100.0/29") => [
            "bad.toml:20:18: error: `192.168.100.0/29` is not a /30 network address (at `topology.circuit[0].peering[0].primary_subnet`)",
            "first usable address is the customer's, the second the MSEE's",
        ];
    rejects_subnet_with_host_bits:
        custom_topology_subnet("192.168.100.1/30") => [
            "error: `192.168.100.1/30` is not a /30 network address",
        ];
    rejects_bandwidth_not_sold:
        custom_topology_bandwidth("3Gbps") => [
            "bad.toml:16:13: error: ExpressRoute is not sold at 3Gbps (at `topology.circuit[0].bandwidth`)",
            "= allowed: 50Mbps, 100Mbps, 200Mbps, 500Mbps, 1Gbps, 2Gbps, 5Gbps, 10Gbps",
        ];
    rejects_malformed_bandwidth:
        custom_topology_bandwidth("1GB") => [
            "bad.toml:16:13: error: expected a number followed by bps, kbps, Mbps or Gbps",
        ];
    rejects_three_ce_routers:
        custom_topology("customer_asn = 65001", "").replace("ce_routers = 2", "ce_routers = 3") => [
            "error: 3 CE routers is not supported (at `topology.ce_routers`)",
            "= allowed: 1, 2",
        ];
    rejects_fault_after_end_of_run:
        with("\n[[fault]]\nat = \"20m\"\nkind = \"silent\"\ntarget = \"circuit.primary\"\n") => [
            "bad.toml:7:6: error: 20m is not before the end of the run (15m) (at `fault[0].at`)",
        ];
    rejects_empty_time_range:
        with("\n[[fault]]\nat = { min = \"6m\", max = \"4m\" }\nkind = \"silent\"\ntarget = \"circuit.primary\"\n") => [
            "bad.toml:7:6: error: the range 6m..4m is empty (at `fault[0].at`)",
            "= expected: min <= max",
        ];
    rejects_unknown_key_in_time_range:
        with("\n[[fault]]\nat = { min = \"4m\", mx = \"6m\" }\nkind = \"silent\"\ntarget = \"circuit.primary\"\n") => [
            "bad.toml:7:20: error: unknown field `mx` (at `fault[0].at.mx`)",
            "= allowed: min, max",
        ];
    rejects_key_a_fault_kind_does_not_take:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"silent\"\ntarget = \"circuit.primary\"\ncount = 4001\n") => [
            "bad.toml:10:9: error: fault kind `silent` does not take `count` (at `fault[0].count`)",
            "= allowed: kind, at, target, duration",
        ];
    rejects_prefix_flood_without_count:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"prefix_flood\"\ntarget = \"ce1\"\n") => [
            "bad.toml:6:1: error: fault kind `prefix_flood` needs `count` (at `fault[0]`)",
            "= expected: count = 4001",
        ];
    rejects_misspelt_key_in_fault:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"silent\"\ntagret = \"circuit.primary\"\n") => [
            "bad.toml:9:1: error: unknown field `tagret`",
            "= allowed: kind, at, target, duration, loss, delay, jitter, count, state, planned, drain, down_for, prepend",
        ];
    rejects_loss_probability_above_one:
        with("\n[[link]]\ntarget = \"circuit.primary.core\"\nloss = 1.5\n") => [
            "bad.toml:8:8: error: probability `loss` = 1.5 is outside [0, 1] (at `link[0].loss`)",
        ];
    rejects_a_zero_mean_burst:
        with("\n[[link]]\ntarget = \"circuit.primary.core\"\nloss = { mean_good = \"30s\", mean_bad = \"0s\" }\n") => [
            "bad.toml:8:40: error: `mean_bad` = 0s is shorter than 1ms (at `link[0].loss.mean_bad`)",
            "= expected: a mean stay of at least 1ms",
        ];
    rejects_a_negative_mean_stay:
        with("\n[[link]]\ntarget = \"circuit.primary.core\"\nloss = { mean_good = \"-30s\", mean_bad = \"1s\" }\n") => [
            "bad.toml:8:22: error: expected a number at byte 0 of `-30s`",
            "(at `link[0].loss.mean_good`)",
        ];
    rejects_a_burst_loss_probability_outside_zero_one_at_its_key:
        with("\n[[fault]]\nat = \"5m\"\nkind = \"loss\"\ntarget = \"circuit.primary\"\nloss = { mean_good = \"30s\", mean_bad = \"2s\", loss_bad = 1.5 }\n") => [
            "bad.toml:10:57: error: probability `loss_bad` = 1.5 is outside [0, 1] (at `fault[0].loss.loss_bad`)",
        ];
    rejects_a_loss_table_mixing_time_and_per_packet_keys:
        with("\n[[link]]\ntarget = \"circuit.primary.core\"\nloss = { mean_good = \"30s\", mean_bad = \"2s\", r = 0.1 }\n") => [
            "bad.toml:8:8: error: a loss table is either in time ({ mean_good, mean_bad }) or per packet ({ p, r }), not both (at `link[0].loss`)",
        ];
    rejects_bfd_multiplier_zero:
        with("\n[bfd]\nenabled = true\nmultiplier = 0\n") => [
            "bad.toml:8:14: error: BFD detect multiplier 0 (at `bfd.multiplier`)",
            "RFC 5880",
        ];
    rejects_unknown_metric_family:
        with("\n[[expect]]\nmetric = \"downtime.onprem_to_vnet\"\nmax = \"1s\"\n") => [
            "bad.toml:7:10: error: unknown metric `downtime.onprem_to_vnet` (at `expect[0].metric`)",
            "= allowed: outage, probes_lost, bytes_dropped, detection, convergence, messages, flaps",
        ];
    rejects_outage_of_unmeasured_direction:
        with("\n[[expect]]\nmetric = \"outage.onprem_to_microsoft\"\nmax = \"1s\"\n") => [
            "bad.toml:7:10: error: no probe measures direction `onprem_to_microsoft` (in metric `outage.onprem_to_microsoft`)",
            "= allowed: outage.onprem_to_vnet, outage.vnet_to_onprem",
        ];
    rejects_duration_bound_on_a_count_metric:
        with("\n[[expect]]\nmetric = \"messages.update\"\nmax = \"10s\"\n") => [
            "bad.toml:8:7: error: metric `messages.update` is a count, but max = 10s is a duration (at `expect[0].max`)",
            "= expected: a whole number such as 0",
        ];
    rejects_unknown_session_in_expectation:
        with("\n[[expect]]\nsession = \"circuit.primary.microsoft\"\nstays_up = true\n") => [
            "bad.toml:7:11: error: unknown session `circuit.primary.microsoft` (at `expect[0].session`)",
            "= allowed: circuit.primary.private, circuit.secondary.private, circuit.primary.gateway, circuit.secondary.gateway, vpn, ibgp.ce1.ce2, ibgp.ce1.vpn1, ibgp.ce2.vpn1",
        ];
    rejects_expectation_checking_two_things:
        with("\n[[expect]]\nmetric = \"outage.onprem_to_vnet\"\nmax = \"1s\"\nsession = \"vpn\"\n") => [
            "bad.toml:6:1: error: an expectation checks one thing, not metric and session (at `expect[0]`)",
            "= allowed: metric, session, no_loss, path",
        ];
    rejects_probe_rate_without_unit:
        with("\n[[probe]]\nfrom = \"onprem\"\nto = \"vnet\"\nrate = \"fast\"\n") => [
            "bad.toml:9:8: error:",
            "expected a number followed by bps, kbps, Mbps or Gbps",
        ];
    rejects_probe_rate_below_one_bit_per_flow:
        with("\n[[probe]]\nfrom = \"onprem\"\nto = \"vnet\"\nflows = 8\nrate = \"4bps\"\n") => [
            "bad.toml:10:8: error: offered load 4bps over 8 flows (at `probe[0].rate`)",
            "= expected: at least 1 bps per flow",
        ];
    rejects_ipv6_subnet_that_is_not_a_126:
        topo6("private", "", "ipv6_primary_subnet = \"2001:db8:100::/64\"\nipv6_secondary_subnet = \"2001:db8:100::4/126\"", "") => [
            "bad.toml:18:23: error: `2001:db8:100::/64` is not a /126 network address (at `topology.circuit[0].peering[0].ipv6_primary_subnet`)",
            "= expected: a /126 such as \"2001:db8:10::/126\"",
        ];
    rejects_ipv6_primary_without_secondary:
        topo6("private", "", "ipv6_primary_subnet = \"2001:db8:100::/126\"", "") => [
            "error: `ipv6_secondary_subnet` is missing (at `topology.circuit[0].peering[0]`)",
            "= expected: both IPv6 /126s (one per link) or neither",
        ];
    rejects_ipv6_on_microsoft_peering:
        topo6("microsoft", "", "ipv6_primary_subnet = \"2001:db8:100::/126\"\nipv6_secondary_subnet = \"2001:db8:100::4/126\"", "") => [
            "bad.toml:18:23: error: IPv6 on microsoft peering is not modelled (at `topology.circuit[0].peering[0].ipv6_primary_subnet`)",
        ];
    rejects_ipv6_prefixes_without_ipv6_peering:
        topo6("private", "onprem_ipv6_prefixes = [\"2001:db8:1::/48\"]", "", "") => [
            "bad.toml:8:24: error: IPv6 address space without IPv6 private peering (at `topology.onprem_ipv6_prefixes`)",
        ];
    rejects_onprem_prefix_overlapping_a_vnet:
        topo6("private", "", "", "\n[[topology.vnet]]\nname = \"spoke\"\nprefixes = [\"10.1.128.0/17\"]\n") => [
            "bad.toml:7:20: error: on-premises prefix 10.1.0.0/16 overlaps the address space of VNet `spoke` (10.1.128.0/17) (at `topology.onprem_prefixes[0]`)",
            "7 | onprem_prefixes = [\"10.1.0.0/16\"]\n  |                    ^^^^^^^^^^^^^",
            "= expected: on-premises prefixes outside the VNet's address space (10.1.128.0/17)",
            "= note: Azure: the address space of a VNet connected to an ExpressRoute circuit or a VPN gateway must not overlap the on-premises address space, and a local network gateway's address prefixes must not overlap the VNet's",
        ];
    rejects_onprem_ipv6_prefix_overlapping_a_vnet:
        topo6(
            "private",
            "onprem_ipv6_prefixes = [\"fd00:10::/32\"]",
            "ipv6_primary_subnet = \"2001:db8:100::/126\"\nipv6_secondary_subnet = \"2001:db8:100::4/126\"",
            "ipv6_prefixes = [\"fd00:10:1::/64\"]\n",
        ) => [
            "bad.toml:8:25: error: on-premises prefix fd00:10::/32 overlaps the address space of VNet `vnet` (fd00:10:1::/64) (at `topology.onprem_ipv6_prefixes[0]`)",
            "= expected: on-premises prefixes outside the VNet's address space (10.10.0.0/16, fd00:10:1::/64)",
        ];
    rejects_generated_onprem_prefixes_in_a_vnet:
        topo6("private", "", "", "\n[[topology.vnet]]\nname = \"cgnat\"\nprefixes = [\"100.64.0.0/12\"]\n\n[prefixes]\nonprem = 300\n") => [
            "bad.toml:25:13: error: on-premises prefix 100.64.0.0/24 overlaps the address space of VNet `cgnat` (100.64.0.0/12, which `prefixes.onprem` generates on-premises prefixes into) (at `topology.vnet[1].prefixes[0]`)",
            "25 | prefixes = [\"100.64.0.0/12\"]\n   |             ^^^^^^^^^^^^^^^",
        ];
    rejects_ipv6_probe_without_ipv6_space:
        topo6("private", "", "", "\n[[probe]]\nfrom = \"onprem\"\nto = \"vnet\"\nfamily = \"ipv6\"\n") => [
            "error: no IPv6 address space between `onprem` and `vnet` (at `probe[0].family`)",
            "= expected: topology.onprem_ipv6_prefixes and the VNet's ipv6_prefixes",
        ];
    rejects_unknown_probe_endpoint:
        with("\n[[probe]]\nfrom = \"onprem\"\nto = \"office365\"\n") => [
            "bad.toml:8:6: error: unknown endpoint `office365` (at `probe[0].to`)",
            "= allowed: onprem, vnet",
        ];
    rejects_no_loss_on_unmeasured_direction:
        with("\n[[expect]]\nno_loss = \"vnet_to_microsoft\"\n") => [
            "bad.toml:7:11: error: no probe measures direction `vnet_to_microsoft` (at `expect[0].no_loss`)",
            "= allowed: onprem_to_vnet, vnet_to_onprem",
        ];
    rejects_vpn_fault_on_topology_without_vpn:
        "name = \"t\"\ndescription = \"d\"\ntopology = \"single-ce\"\nduration = \"15m\"\n\n[[fault]]\nat = \"5m\"\nkind = \"vpn_tunnel_down\"\n".to_owned() => [
            "bad.toml:8:8: error: fault kind `vpn_tunnel_down` needs a VPN, and topology `single-ce` has none (at `fault[0].kind`)",
        ];
    rejects_toml_syntax_error_with_location:
        "name = \"t\ndescription = \"d\"\n".to_owned() => [
            "bad.toml:1:",
            "error:",
            "1 | name = \"t",
        ];
    rejects_missing_duration:
        "name = \"t\"\ndescription = \"d\"\ntopology = \"single-ce\"\n".to_owned() => [
            "bad.toml:1:1: error: missing field `duration`",
        ];
    rejects_connection_weight_out_of_range:
        with("\n[policy.connection_weight]\ncircuit = 40000\n") => [
            "bad.toml:7:11: error: connection weight 40000 is out of range (at `policy.connection_weight.circuit`)",
            "= expected: 0 to 32000",
        ];
    rejects_public_prefixes_state_on_private_peering:
        custom_topology("customer_asn = 65001", "public_prefixes_state = \"Configured\"\n") => [
            "error: only Microsoft peering has an advertised public prefixes state (at `topology.circuit[0].peering[0].public_prefixes_state`)",
        ];
    rejects_layer3_provider_without_its_asn:
        custom_topology("customer_asn = 65001\nprovider = \"layer3\"", "") => [
            "bad.toml:7:12: error: a layer-3 provider needs `provider_asn` (at `topology.provider`)",
        ];
    rejects_bfd_on_the_vpn_gateway:
        with("\n[bfd.router.vpngw]\nenabled = true\n") => [
            "bad.toml:7:11: error: BFD cannot run on `vpngw` (at `bfd.router.vpngw.enabled`)",
            "does not support BFD",
        ];
}

/// A scenario with a full `[topology]` table; `top` replaces the customer_asn line (line 6),
/// `peering_extra` is appended to the private peering (after line 21).
fn custom_topology(top: &str, peering_extra: &str) -> String {
    format!(
        "name = \"t\"\ndescription = \"d\"\nduration = \"15m\"\n\n[topology]\n{top}\nce_routers = 2\nonprem_prefixes = [\"10.1.0.0/16\"]\n\n[[topology.vnet]]\nname = \"vnet\"\nprefixes = [\"10.10.0.0/16\"]\n\n[[topology.circuit]]\nname = \"circuit\"\nbandwidth = \"1Gbps\"\n\n[[topology.circuit.peering]]\nkind = \"private\"\nprimary_subnet = \"192.168.100.0/30\"\nsecondary_subnet = \"192.168.100.4/30\"\nvlan = 100\n{peering_extra}"
    )
}

fn custom_topology_subnet(subnet: &str) -> String {
    custom_topology("customer_asn = 65001", "")
        .replace("\"192.168.100.0/30\"", &format!("\"{subnet}\""))
}

fn custom_topology_bandwidth(bw: &str) -> String {
    custom_topology("customer_asn = 65001", "").replace("\"1Gbps\"", &format!("\"{bw}\""))
}

#[test]
fn custom_topology_template_is_itself_valid() {
    let loaded = scenarios::load_str("ok.toml", &custom_topology("customer_asn = 65001", ""));
    assert!(
        loaded.is_ok(),
        "{}",
        loaded.err().map(|e| e.to_string()).unwrap_or_default()
    );
}

#[test]
fn every_library_scenario_parses_and_validates_without_errors() {
    for entry in &scenarios::library::LIBRARY {
        let loaded = scenarios::load(entry.name)
            .unwrap_or_else(|e| panic!("library scenario {} is invalid:\n{e}", entry.name));
        let s = &loaded.scenario;
        assert!(
            !s.description.trim().is_empty(),
            "{} has no description",
            entry.name
        );
        assert!(
            !s.expectations.is_empty(),
            "{} states no expectation",
            entry.name
        );
        assert!(
            s.warnings.iter().all(|w| w.severity == Severity::Warning),
            "{}",
            entry.name
        );
    }
}

#[test]
fn every_builtin_topology_builds() {
    for (name, _) in scenarios::validate::BUILTIN_TOPOLOGIES {
        let text = HEAD.replace("expressroute-vpn-failover", name);
        let loaded = scenarios::load_str("t.toml", &text)
            .unwrap_or_else(|e| panic!("built-in topology {name} does not build:\n{e}"));
        let topo = &loaded.scenario.topology;
        assert_eq!(topo.name, name);
        assert!(topo.circuits.len() <= 4 && !topo.circuits.is_empty());
        for c in &topo.circuits {
            for link in &c.links {
                let msee = &topo.routers[link.msee.0];
                assert_eq!(msee.asn, 12_076, "MSEEs are AS 12076");
            }
        }
    }
}

#[test]
fn addressing_gives_customer_first_usable_and_msee_second() {
    let loaded = scenarios::load_str("t.toml", HEAD).unwrap();
    let topo = &loaded.scenario.topology;
    let s = &topo.sessions[topo.session("circuit.secondary.private").unwrap().0];
    assert_eq!(s.ends[0].addr.to_string(), "192.168.100.5");
    assert_eq!(s.ends[1].addr.to_string(), "192.168.100.6");
    assert_eq!(topo.router_name(s.ends[0].router), "ce2");
    assert_eq!(topo.router_name(s.ends[1].router), "msee2");
    assert_eq!(s.ends[1].max_prefixes, Some(4_000));
    assert_eq!(s.vlan, Some(100));
}

#[test]
fn layer3_provider_has_two_bgp_hops() {
    let text = HEAD.replace("expressroute-vpn-failover", "layer3-provider");
    let loaded = scenarios::load_str("t.toml", &text).unwrap();
    let topo = &loaded.scenario.topology;
    let access = &topo.sessions[topo.session("circuit.primary.private.access").unwrap().0];
    let peering = &topo.sessions[topo.session("circuit.primary.private").unwrap().0];
    assert_eq!(topo.router_name(access.ends[0].router), "ce1");
    assert_eq!(topo.router_name(access.ends[1].router), "pe1");
    assert_eq!(topo.router_name(peering.ends[0].router), "pe1");
    assert_eq!(topo.router_name(peering.ends[1].router), "msee1");
    assert_eq!(topo.routers[peering.ends[0].router.0].asn, 64_600);
}

#[test]
fn timers_negotiate_to_the_smaller_hold_time() {
    let text = with("\n[bgp]\nhold_time = \"30s\"\n");
    let loaded = scenarios::load_str("t.toml", &text).unwrap();
    let topo = &loaded.scenario.topology;
    let s = &topo.sessions[topo.session("circuit.primary.private").unwrap().0];
    assert_eq!(s.negotiated_hold_time(topo).as_secs(), 30);
}

fn warnings_of(text: &str) -> Vec<String> {
    let loaded = scenarios::load_str("w.toml", text)
        .unwrap_or_else(|e| panic!("should load with warnings only:\n{e}"));
    let rendered = loaded.render_warnings();
    loaded
        .scenario
        .warnings
        .iter()
        .map(|w| format!("{}|{}", w.message, rendered))
        .collect()
}

#[test]
fn warns_and_runs_msee_bfd_at_300ms_when_faster_is_asked() {
    let text = with("\n[bfd]\nenabled = true\ninterval = \"100ms\"\n");
    let w = warnings_of(&text);
    assert!(
        w.iter().any(|m| m
            .contains("BFD towards the MSEE runs at 300ms, not the 100ms asked for on `ce1`")
            && m.contains("w.toml:8:12: warning:")),
        "{w:?}"
    );
}

#[test]
fn adjusts_vpn_device_hold_time_to_the_gateways_180s() {
    let text = with("\n[bgp.router.vpn1]\nhold_time = \"30s\"\n");
    let loaded = scenarios::load_str("w.toml", &text).unwrap();
    let topo = &loaded.scenario.topology;
    let vpn1 = &topo.routers[topo.router("vpn1").unwrap().0];
    assert_eq!(vpn1.timers.hold_time.as_secs(), 180);
    assert!(
        loaded
            .render_warnings()
            .contains("w.toml:7:13: warning: hold time 30s on `vpn1` adjusted to 180s")
    );
}

#[test]
fn warns_when_prefixes_exceed_the_private_peering_limit() {
    let text = with("\n[prefixes]\nonprem = 4001\n");
    let loaded = scenarios::load_str("w.toml", &text).unwrap();
    assert_eq!(loaded.scenario.topology.onprem_prefixes.len(), 4001);
    assert!(loaded
        .render_warnings()
        .contains("w.toml:7:10: warning: 4001 on-premises prefixes exceed circuit `circuit`'s private-peering limit of 4000"));
    assert!(loaded.render_warnings().contains(
        "w.toml:7:10: warning: 4001 on-premises prefixes exceed the VPN gateway's limit of 4000"
    ));
}

#[test]
fn warns_that_prepending_a_private_asn_on_microsoft_peering_does_nothing() {
    let text = "name = \"t\"\ndescription = \"d\"\ntopology = \"microsoft-peering\"\nduration = \"15m\"\n\n[[policy.prepend]]\ntarget = \"circuit.secondary.microsoft\"\ncount = 3\n";
    let loaded = scenarios::load_str("w.toml", text).unwrap();
    assert!(loaded.render_warnings().contains(
        "w.toml:7:10: warning: prepending on `circuit.secondary.microsoft` has no effect"
    ));
}

#[test]
fn fault_time_ranges_are_kept_for_the_seeded_draw() {
    let text = with(
        "\n[[fault]]\nat = { min = \"4m\", max = \"6m\" }\nkind = \"silent\"\ntarget = \"circuit.primary\"\n",
    );
    let loaded = scenarios::load_str("t.toml", &text).unwrap();
    let f = &loaded.scenario.faults[0];
    assert_eq!(f.at.min().as_secs(), 240);
    assert_eq!(f.at.max().as_secs(), 360);
}

#[test]
fn rejects_restore_without_an_earlier_fault_on_the_target() {
    let text = with(
        "\n[[fault]]\nat = \"5m\"\nkind = \"silent\"\ntarget = \"circuit.primary\"\n\n[[fault]]\nat = \"9m\"\nkind = \"restore\"\ntarget = \"circuit.secondary\"\n",
    );
    assert_has(
        &refused(&text),
        &[
            "bad.toml:14:10: error: `restore` of `circuit.secondary` at 9m, but no earlier fault targets `circuit.secondary` (at `fault[1].target`)",
            "= allowed: circuit.primary",
        ],
    );
}

#[test]
fn rejects_router_restart_of_a_router_that_never_crashed() {
    let text = with("\n[[fault]]\nat = \"9m\"\nkind = \"router_restart\"\ntarget = \"ce2\"\n");
    assert_has(
        &refused(&text),
        &[
            "bad.toml:9:10: error: `router_restart` of `ce2` at 9m, but no earlier fault crashes `ce2`",
        ],
    );
}

#[test]
fn rejects_missing_key_in_nested_table_naming_the_table() {
    let text = custom_topology("customer_asn = 65001", "").replace("vlan = 100\n", "");
    assert_has(
        &refused(&text),
        &[
            "bad.toml:18:1: error: missing field `vlan` (at `topology.circuit[0].peering[0]`)",
            "18 | [[topology.circuit.peering]]",
        ],
    );
}

#[test]
fn rejects_vpn_gateway_asn_equal_to_customer_asn() {
    let text = format!(
        "{}\n[topology.vpn]\nasn = 65001\n",
        custom_topology("customer_asn = 65001", "")
    );
    assert_has(
        &refused(&text),
        &[
            "bad.toml:25:7: error: the VPN gateway's ASN 65001 is the customer's (at `topology.vpn.asn`)",
        ],
    );
}

#[test]
fn first_scenario_in_the_library_readme_is_valid_and_passes_its_expectation() {
    let readme = include_str!("../../scenarios/library/README.md");
    let section = readme
        .find("## A first scenario file")
        .expect("the library README has a first scenario");
    let start = readme[section..]
        .find("```toml\n")
        .map(|i| section + i + "```toml\n".len())
        .expect("the section has a toml block");
    let len = readme[start..].find("```").expect("the block is closed");
    let sketch = &readme[start..start + len];
    let loaded = scenarios::load_str("first.toml", sketch)
        .unwrap_or_else(|e| panic!("the README's first scenario is refused:\n{e}"));
    assert!(
        loaded.scenario.warnings.is_empty(),
        "{}",
        loaded.render_warnings()
    );
    assert_eq!(loaded.scenario.seed, 7);
    assert_eq!(loaded.scenario.faults.len(), 1);
    assert_eq!(loaded.scenario.expectations.len(), 1);
    let report = scenarios::run(&loaded.scenario, loaded.scenario.seed, None).expect("it runs");
    let verdicts = scenarios::report::evaluate(&loaded.scenario, &report);
    assert!(
        verdicts.iter().all(|v| v.pass),
        "{}",
        scenarios::report::render_verdicts("first.toml", &verdicts)
    );
}
