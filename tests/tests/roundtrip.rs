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
        text.push_str(&format!(
            "\n[[probe]]\nfrom = \"onprem\"\nto = \"{to}\"\ninterval = \"100ms\"\nflows = 4\n"
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
