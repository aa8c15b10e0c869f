//! The general form's round trip: every built-in topology and every library scenario,
//! written out in the general form (`holdtime topology show NAME --expand`), loads back
//! into the same network and runs to the same report, byte for byte, and the same event
//! trace. The ExpressRoute template is then exactly a way of writing routers, links,
//! sessions, circuits and gateways of the general layer, and so is the printed form.

use scenarios::library::LIBRARY;
use scenarios::scenario::Scenario;
use scenarios::topology::{Topology, general_scenario};
use scenarios::validate::BUILTIN_TOPOLOGIES;
use sim_core::rng::fnv1a64;

/// A scenario's text written out in the general form, and that form loaded.
fn expand(name: &str, text: &str) -> (Scenario, String, Scenario) {
    let original = match scenarios::load_str(name, text) {
        Ok(l) => l.scenario,
        Err(e) => panic!("{name} does not load: {e}"),
    };
    let written = match general_scenario(text, &original.topology) {
        Ok(t) => t,
        Err(e) => panic!("{name}: cannot write the general form: {e}"),
    };
    let again = match scenarios::load_str(&format!("<general:{name}>"), &written) {
        Ok(l) => l.scenario,
        Err(e) => {
            panic!("{name}: the general form does not load back:\n{e}\n--- the form:\n{written}")
        }
    };
    (original, written, again)
}

/// The first difference between two networks, by part, for a readable failure.
fn first_difference(a: &Topology, b: &Topology) -> String {
    macro_rules! part {
        ($field:ident) => {
            if a.$field != b.$field {
                return format!(
                    "{}:\n  template: {:?}\n  general:  {:?}",
                    stringify!($field),
                    a.$field,
                    b.$field
                );
            }
        };
    }
    for (x, y) in a.routers.iter().zip(&b.routers) {
        if x != y {
            return format!("router:\n  template: {x:?}\n  general:  {y:?}");
        }
    }
    for (x, y) in a.segments.iter().zip(&b.segments) {
        if x != y {
            return format!("link:\n  template: {x:?}\n  general:  {y:?}");
        }
    }
    for (x, y) in a.sessions.iter().zip(&b.sessions) {
        if x != y {
            return format!("session:\n  template: {x:?}\n  general:  {y:?}");
        }
    }
    part!(name);
    part!(provider);
    part!(customer_asn);
    part!(routers);
    part!(segments);
    part!(sessions);
    part!(circuits);
    part!(onprem_prefixes);
    part!(onprem_ipv6_prefixes);
    part!(public_prefixes);
    part!(er_gateway);
    part!(vpn);
    part!(vnets);
    part!(internet);
    part!(sites);
    "none".to_owned()
}

/// Runs both and compares the network, the scenario's parts, the JSON report and the
/// event trace's hash.
fn same_run(name: &str, original: &Scenario, written: &str, again: &Scenario) {
    assert!(
        original.topology == again.topology,
        "{name}: the general form loads into another network; first difference: {}\n--- the form:\n{written}",
        first_difference(&original.topology, &again.topology)
    );
    assert_eq!(
        format!("{:?}", original.faults),
        format!("{:?}", again.faults),
        "{name}"
    );
    assert_eq!(
        format!("{:?}", original.probes),
        format!("{:?}", again.probes),
        "{name}"
    );
    assert_eq!(
        format!("{:?}", original.expectations),
        format!("{:?}", again.expectations),
        "{name}"
    );
    assert_eq!(
        (original.seed, original.duration),
        (again.seed, again.duration),
        "{name}"
    );
    let run = |sc: &Scenario| {
        let mut trace = Vec::new();
        match scenarios::run(sc, sc.seed, Some(&mut trace)) {
            Ok(r) => match r.to_json() {
                Ok(j) => (j, fnv1a64(&trace)),
                Err(e) => panic!("{name}: report does not serialise: {e}"),
            },
            Err(e) => panic!("{name}: run failed: {e}"),
        }
    };
    let (a, b) = (run(original), run(again));
    assert!(
        a.0 == b.0,
        "{name}: the general form's report differs from the template's"
    );
    assert_eq!(a.1, b.1, "{name}: the general form's event trace differs");
}

/// A scenario on a built-in topology: its first link cut silently at 2 minutes (the VPN
/// tunnel when it has no circuit), traffic between on premises and every other endpoint.
fn on_builtin(topology: &str) -> String {
    let probe = scenarios::load_str(
        "<probe>",
        &format!("name = \"t\"\ntopology = \"{topology}\"\nduration = \"1s\"\n"),
    );
    let topo = match probe {
        Ok(l) => l.scenario.topology,
        Err(e) => panic!("built-in topology {topology} does not load: {e}"),
    };
    let target = topo.circuits.first().map_or_else(
        || "vpn.tunnel".to_owned(),
        |c| format!("{}.primary", c.name),
    );
    let mut text = format!(
        "name = \"round trip of {topology}\"\ntopology = \"{topology}\"\nduration = \"8m\"\nseed = 7\n\n[[fault]]\nat = \"2m\"\nkind = \"silent\"\ntarget = \"{target}\"\n"
    );
    for to in topo.endpoints().iter().filter(|e| *e != "onprem") {
        // The internet is measured one way, from a VNet (forced tunneling's endpoint).
        let (from, direction) = if to == "internet" {
            (topo.vnets[0].name.as_str(), "\ndirection = \"one\"")
        } else {
            ("onprem", "")
        };
        text.push_str(&format!(
            "\n[[probe]]\nfrom = \"{from}\"\nto = \"{to}\"\ninterval = \"100ms\"\nflows = 4{direction}\n"
        ));
    }
    text
}

#[test]
fn every_builtin_topology_expands_to_the_general_form_and_back_to_the_same_report() {
    assert!(!BUILTIN_TOPOLOGIES.is_empty());
    for (name, _) in BUILTIN_TOPOLOGIES {
        let text = on_builtin(name);
        let (original, written, again) = expand(name, &text);
        assert!(
            written.contains("role = \"msee\"") && !written.contains("topology ="),
            "{name}: the form is not the general one:\n{written}"
        );
        same_run(name, &original, &written, &again);
    }
}

#[test]
fn every_library_scenario_expands_to_the_general_form_and_back_to_the_same_report() {
    for entry in &LIBRARY {
        let (original, written, again) = expand(entry.name, entry.source);
        same_run(entry.name, &original, &written, &again);
    }
}

/// An ExpressRoute network written by hand in the general form: one CE on both links of a
/// circuit, two MSEEs, the ExpressRoute gateway and a VNet. `{ce}`, `{msee1}` and `{extra}`
/// add keys to ce1, msee1 and the end of the file.
fn by_hand(ce: &str, msee1: &str, extra: &str) -> String {
    format!(
        r#"name = "ExpressRoute by hand"
duration = "8m"
seed = 1
devices = ["provider1", "provider2"]

[onprem]
asn = 65001
prefixes = ["10.1.0.0/16"]

[[vnet]]
name = "vnet"
prefixes = ["10.10.0.0/16"]

[[router]]
name = "ce1"
role = "ce"
asn = 65001
{ce}
[[router]]
name = "msee1"
role = "msee"
asn = 12076
{msee1}
[[router]]
name = "msee2"
role = "msee"
asn = 12076

[[router]]
name = "ergw"
role = "er_gateway"
asn = 65515

[[link]]
name = "access1"
kind = "access"
ends = ["ce1", "provider1"]

[[link]]
name = "core1"
kind = "core"
ends = ["provider1", "msee1"]

[[link]]
name = "access2"
kind = "access"
ends = ["ce1", "provider2"]

[[link]]
name = "core2"
kind = "core"
ends = ["provider2", "msee2"]

[[link]]
name = "azure1"
kind = "azure"
ends = ["msee1", "ergw"]

[[link]]
name = "azure2"
kind = "azure"
ends = ["msee2", "ergw"]

[[session]]
name = "private1"
kind = "peering"
ends = ["ce1", "msee1"]
path = ["access1", "core1"]
peering = "c.primary.private"
originates.ce1 = ["10.1.0.0/16"]

[[session]]
name = "private2"
kind = "peering"
ends = ["ce1", "msee2"]
path = ["access2", "core2"]
peering = "c.secondary.private"
originates.ce1 = ["10.1.0.0/16"]

[[session]]
name = "gateway1"
kind = "gateway"
ends = ["msee1", "ergw"]
link = "azure1"
originates.ergw = ["10.10.0.0/16"]

[[session]]
name = "gateway2"
kind = "gateway"
ends = ["msee2", "ergw"]
link = "azure2"
originates.ergw = ["10.10.0.0/16"]

[[circuit]]
name = "c"
bandwidth = "1Gbps"
primary = {{ ce = "ce1", msee = "msee1", access = "access1", core = "core1" }}
secondary = {{ ce = "ce1", msee = "msee2", access = "access2", core = "core2" }}

[[circuit.peering]]
kind = "private"
subnets = ["192.168.100.0/30", "192.168.100.4/30"]
vlan = 100

[er_gateway]
router = "ergw"

[[fault]]
at = "2m"
kind = "silent"
target = "c.primary"

[[probe]]
from = "onprem"
to = "vnet"
interval = "100ms"
flows = 4
{extra}"#
    )
}

/// The located error text of a file that must be refused.
fn refused(text: &str) -> String {
    match scenarios::load_str("hand.toml", text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn routers_written_in_microsofts_roles_follow_azures_rules_as_the_templates_do() {
    let sc = match scenarios::load_str("hand.toml", &by_hand("", "", "")) {
        Ok(l) => l.scenario,
        Err(e) => panic!("{e}"),
    };
    let t = &sc.topology;
    // Microsoft's timers, the MSEE's BFD and Azure's prefix limits, none of them written.
    let msee1 = &t.routers[1];
    assert_eq!(msee1.timers.hold_time.as_secs(), 180);
    assert_eq!(msee1.timers.keepalive.map(|k| k.as_secs()), Some(60));
    assert!(msee1.bfd.is_some_and(|b| b.interval.as_millis() == 300));
    assert_eq!(t.sessions[0].ends[1].max_prefixes, Some(4_000));
    assert_eq!(t.sessions[2].ends[0].max_prefixes, Some(1_000));
    assert!(t.sessions[0].on.is_some() && t.er_gateway.is_some());
    // It runs as an ExpressRoute network: the silent cut waits for the 180 s hold timers,
    // then on premises reaches the VNet over the secondary link.
    let report = match scenarios::run(&sc, sc.seed, None) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let ce1 = report
        .detections
        .iter()
        .find(|d| d.router == "ce1")
        .and_then(|d| d.after_fault)
        .map(|d| d.as_secs());
    assert!(ce1.is_some_and(|s| (120..=180).contains(&s)), "{ce1:?}");

    // The rules, each at its key.
    let e = refused(&by_hand("", "hold_time = \"90s\"\n", ""));
    assert!(
        e.contains("hand.toml:23:13")
            && e.contains("`msee1` is Microsoft's router: its hold_time is 3m, not 1m30s"),
        "{e}"
    );
    let e = refused(&by_hand("hold_time = \"9s\"\n", "", ""));
    assert!(
        e.contains("hand.toml:18:13")
            && e.contains("hold time 9s on `ce1` is below what the MSEE accepts"),
        "{e}"
    );
    let e = refused(&by_hand("", "bfd = { interval = \"100ms\" }\n", ""));
    assert!(
        e.contains("hand.toml:23:") && e.contains("BFD interval on `msee1` below the MSEE's 300ms"),
        "{e}"
    );
    let e = refused(
        &by_hand("", "", "").replace("asn = 65001\n\n[[router]]", "asn = 12076\n\n[[router]]"),
    );
    assert!(e.contains("hand.toml:17:7") && e.contains("12076"), "{e}");
    let e = refused(&by_hand("", "", "").replace(
        "originates.ce1 = [\"10.1.0.0/16\"]\n\n[[session]]\nname = \"private2\"",
        "originates.ce1 = [\"10.1.0.0/16\"]\npolicy.msee1 = { max_prefixes = 100 }\n\n[[session]]\nname = \"private2\"",
    ));
    assert!(
        e.contains("Azure's limit here is 4000, not 100")
            && e.contains("policy.msee1.max_prefixes"),
        "{e}"
    );
    let e = refused(&by_hand("", "", "").replace("c.secondary.private", "c.tertiary.private"));
    assert!(e.contains("no circuit peering `c.tertiary.private`"), "{e}");
    // A session of the user's own kind may still not end on Microsoft's router.
    let e = refused(&by_hand("", "", "").replace(
        "name = \"private1\"\nkind = \"peering\"\n",
        "name = \"private1\"\n",
    ));
    assert!(e.contains("`msee1` is Microsoft's router"), "{e}");
    // The general form's route filter is checked as the template's: a community of no known
    // service, and a filter on private peering, refused at the entry and the key.
    let e = refused(&by_hand("", "", "").replace(
        "vlan = 100\n",
        "vlan = 100\n\n[[circuit.peering]]\nkind = \"microsoft\"\nsubnets = [\"203.0.113.0/30\", \"203.0.113.4/30\"]\nvlan = 300\nroute_filter = [\"12076:5010\", \"12076:5040\"]\n",
    ));
    assert!(
        e.contains("hand.toml:109:31")
            && e.contains("community 12076:5040 selects no service the model knows"),
        "{e}"
    );
    let e = refused(&by_hand("", "", "").replace(
        "vlan = 100\n",
        "vlan = 100\nroute_filter = [\"12076:5010\"]\n",
    ));
    assert!(
        e.contains("hand.toml:104:16")
            && e.contains("a route filter selects Microsoft's services on Microsoft peering, not on private peering"),
        "{e}"
    );
    // The written-out parts and the template do not mix.
    let e = refused(
        "name = \"t\"\ntopology = \"single-ce\"\nduration = \"1m\"\n\n[er_gateway]\nrouter = \"ergw\"\n",
    );
    assert!(e.contains("`er_gateway` beside `topology`"), "{e}");
}

#[test]
fn passive_names_the_end_that_listens() {
    let lab = |passive: &str| {
        format!(
            "name = \"p\"\nduration = \"1m\"\n\n[[router]]\nname = \"a\"\nasn = 65001\nprefixes = [\"10.1.0.0/16\"]\n\n[[router]]\nname = \"b\"\nasn = 65002\nprefixes = [\"10.2.0.0/16\"]\n\n[[router]]\nname = \"c\"\nasn = 65003\n\n[[link]]\nname = \"ac\"\nends = [\"a\", \"c\"]\n\n[[link]]\nname = \"cb\"\nends = [\"c\", \"b\"]\n\n[[session]]\nname = \"ab\"\nends = [\"a\", \"b\"]\npath = [\"ac\", \"cb\"]\naddresses = [\"192.0.2.1\", \"192.0.2.2\"]\n{passive}"
        )
    };
    let load = |text: &str| match scenarios::load_str("p.toml", text) {
        Ok(l) => l.scenario.topology,
        Err(e) => panic!("{e}"),
    };
    let ends = |t: &Topology| {
        let s = &t.sessions[0];
        let names: Vec<String> = s
            .path
            .iter()
            .map(|x| t.segments[x.0].name.clone())
            .collect();
        (
            t.router_name(s.ends[0].router).to_owned(),
            s.ends[0].addr.to_string(),
            names,
        )
    };
    // By default the second end listens, and end 0 (the one that connects) is the first.
    let default = load(&lab(""));
    assert_eq!(
        ends(&default),
        (
            "a".to_owned(),
            "192.0.2.1".to_owned(),
            vec!["ac".to_owned(), "cb".to_owned()]
        )
    );
    assert_eq!(default, load(&lab("passive = \"b\"\n")));
    // `passive = "a"`: b connects; its address and the path follow it.
    let turned = load(&lab("passive = \"a\"\n"));
    assert_eq!(
        ends(&turned),
        (
            "b".to_owned(),
            "192.0.2.2".to_owned(),
            vec!["cb".to_owned(), "ac".to_owned()]
        )
    );
    // Written out, the key says so, and the form loads back to the same network.
    let text = lab("passive = \"a\"\n");
    let (original, written, again) = expand("p", &text);
    assert!(
        written.contains("ends = [\"b\", \"a\"]\npassive = \"a\""),
        "{written}"
    );
    same_run("p", &original, &written, &again);
    // Refused: a router that is not an end, and the customer's end on an Azure session.
    let e = refused(&lab("passive = \"c\"\n"));
    assert!(
        e.contains("`c` is not an end of this session") && e.contains(":31:11"),
        "{e}"
    );
    let e = refused(&by_hand("", "", "").replace(
        "ends = [\"ce1\", \"msee1\"]\n",
        "ends = [\"ce1\", \"msee1\"]\npassive = \"ce1\"\n",
    ));
    assert!(
        e.contains("`ce1` listening on a session of the template's kind"),
        "{e}"
    );
}

#[test]
fn a_custom_template_mixed_with_routers_of_ones_own_round_trips() {
    // Every part the template and the overrides can set, with firewalls of the user's own
    // behind the CEs: the written-out form loads into the same network and the same run.
    let text = r#"name = "mixed"
duration = "10m"
seed = 5

[topology]
customer_asn = 65001
ce_routers = 2
onprem_prefixes = ["10.1.0.0/16"]
public_prefixes = ["203.0.113.0/28"]

[[topology.circuit]]
name = "east"
bandwidth = "2Gbps"
sku = "premium"
access_delay = "3ms"

[[topology.circuit.peering]]
kind = "private"
primary_subnet = "192.168.100.0/30"
secondary_subnet = "192.168.100.4/30"
vlan = 100
md5 = "s\"ecret"

[[topology.circuit.peering]]
kind = "microsoft"
primary_subnet = "192.168.200.0/30"
secondary_subnet = "192.168.200.4/30"
vlan = 200
public_prefixes_state = "Configured"

[[topology.circuit]]
name = "west"
bandwidth = "500Mbps"
provider_state = "Provisioning"

[[topology.circuit.peering]]
kind = "private"
primary_subnet = "192.168.101.0/30"
secondary_subnet = "192.168.101.4/30"
vlan = 101

[[topology.vnet]]
name = "hub"
prefixes = ["10.10.0.0/16"]

[[topology.vnet]]
name = "spoke"
prefixes = ["10.20.0.0/16"]

[topology.er_gateway]
convergence_delay = { min = "5s", max = "40s" }

[topology.vpn]
mode = "active-active"
dpd_timeout = "30s"

[topology.internet]
shares_edge_with_microsoft_peering = true

[bgp]
hold_time = "90s"

[bgp.router.ce1]
hold_time = "30s"
keepalive = "10s"

[bfd]
enabled = true
interval = "500ms"

[[policy.local_pref]]
target = "east.primary"
value = 200

[prefixes]
onprem = 20

[[router]]
name = "fw1"
asn = 65010
profile = "frr"
bfd = { interval = "100ms", multiplier = 3 }

[[router]]
name = "fw2"
asn = 65010
profile = "junos"
mrai = "5s"

[[link]]
name = "fw1-ce1"
ends = ["fw1", "ce1"]
loss = { p = 0.01, r = 0.5 }

[[link]]
name = "fw2-ce2"
ends = ["fw2", "ce2"]
jitter = "1ms"

[[link]]
target = "east.secondary.core"
loss = "0.5%"

[[session]]
ends = ["fw1", "ce1"]
policy.fw1 = { med = 5, import = ["10.0.0.0/8"] }

[[session]]
ends = ["fw2", "ce2"]
passive = "fw2"
md5 = "k"

[[site]]
name = "dmz"
routers = ["fw1", "fw2"]
prefixes = ["10.50.0.0/16"]

[[fault]]
at = "3m"
kind = "silent"
target = "east.primary"

[[probe]]
from = "dmz"
to = "hub"
interval = "200ms"
flows = 4

[[probe]]
from = "onprem"
to = "microsoft"
interval = "200ms"
flows = 2
"#;
    let (original, written, again) = expand("mixed", text);
    assert!(
        written.contains("role = \"msee\"") && written.contains("[[link]]\nname = \"fw1-ce1\"")
    );
    same_run("mixed", &original, &written, &again);
}

#[test]
fn global_keys_reach_routers_written_in_roles_as_they_reach_the_templates() {
    let load = |text: &str| match scenarios::load_str("hand.toml", text) {
        Ok(l) => l.scenario.topology,
        Err(e) => panic!("{e}"),
    };
    let global = "\n[bgp]\nhold_time = \"90s\"\n\n[bfd]\nenabled = true\ninterval = \"500ms\"\n";
    // [bgp] and [bfd] reach the CE, as the template's; never Microsoft's routers.
    let t = load(&by_hand("", "", global));
    let hold = |t: &Topology, r: &str| {
        t.routers[t.router(r).map_or(0, |x| x.0)]
            .timers
            .hold_time
            .as_secs()
    };
    let bfd = |t: &Topology, r: &str| {
        t.routers[t.router(r).map_or(0, |x| x.0)]
            .bfd
            .map(|b| b.interval.as_millis())
    };
    assert_eq!(
        (hold(&t, "ce1"), hold(&t, "msee1"), hold(&t, "ergw")),
        (90, 180, 180)
    );
    assert_eq!(
        (bfd(&t, "ce1"), bfd(&t, "msee1"), bfd(&t, "ergw")),
        (Some(500), Some(300), None)
    );
    // A router's own keys win over the global ones.
    let t = load(&by_hand(
        "hold_time = \"30s\"\nbfd = { interval = \"400ms\" }\n",
        "",
        global,
    ));
    assert_eq!((hold(&t, "ce1"), bfd(&t, "ce1")), (30, Some(400)));
    // The MSEE's BFD cannot be turned off, nor its hold changed by [bgp.router].
    let e = refused(&by_hand("", "bfd = { enabled = false }\n", ""));
    assert!(
        e.contains("hand.toml:23:") && e.contains("cannot be turned off"),
        "{e}"
    );
    let e = refused(&by_hand(
        "",
        "",
        "\n[bgp.router.msee1]\nhold_time = \"90s\"\n",
    ));
    assert!(e.contains("the timers of `msee1` are Microsoft's"), "{e}");
}
