//! The general topology layer (issue 14): networks described router by router, the
//! ExpressRoute template on the same layer, and Azure's rules applied to Microsoft's routers
//! only.
//!
//! The command line is driven in process through `scenarios::cli::main`, as in
//! `measurement.rs`.

use scenarios::spec::Via;
use scenarios::topology::{Role, SessionKind};
use sim_core::time::Duration;

mod support;
use support::*;

/// Two routers of the user's own, two links, a session on each: `{extra}` is added to each
/// router's table (timers, BFD) and `{session}` to each session.
fn lab(extra: &str, session: &str) -> String {
    format!(
        r#"name = "lab"
duration = "3m"
seed = 1

[[router]]
name = "edge"
asn = 65001
prefixes = ["10.1.0.0/16"]
{extra}

[[router]]
name = "core"
asn = 65002
prefixes = ["10.2.0.0/16"]
{extra}

[[link]]
name = "primary"
ends = ["edge", "core"]

[[link]]
name = "secondary"
ends = ["edge", "core"]

[[session]]
ends = ["edge", "core"]
link = "primary"
{session}

[[session]]
ends = ["edge", "core"]
link = "secondary"

[[fault]]
at = "2m"
kind = "silent"
target = "primary"
"#
    )
}

/// The same lab through the ExpressRoute template: the on-premises CE against Microsoft's
/// MSEEs, with the same timers and BFD asked for on the CE.
fn template_lab(bgp: &str, bfd: &str) -> String {
    format!(
        r#"name = "template lab"
topology = "single-ce"
duration = "3m"
seed = 1

[bgp]
{bgp}

[bfd]
{bfd}
"#
    )
}

#[test]
fn hold_9s_and_bfd_100ms_are_a_labs_own_but_refused_towards_an_msee() {
    // The general form: accepted, and the session runs them.
    let sc = load_text(
        "lab.toml",
        &lab(
            "hold_time = \"9s\"\nkeepalive = \"3s\"\nbfd = { interval = \"100ms\", multiplier = 3 }",
            "",
        ),
    );
    let edge = sc.topology.router("edge").expect("edge");
    let r = &sc.topology.routers[edge.0];
    assert_eq!(r.role, Role::Router);
    assert_eq!(r.timers.hold_time, Duration::from_secs(9));
    assert_eq!(r.bfd.map(|b| b.interval), Some(Duration::from_millis(100)));
    assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
    let report = run_seed(&sc, 1);
    let detection = report
        .detections
        .iter()
        .find(|d| d.router == "edge" && d.session == "primary")
        .expect("edge detects the silent primary");
    // BFD at 100 ms x 3 (75-100 % jitter): within (0.2, 0.3] s, not the MSEE's 300 ms floor.
    let after = detection.at - at(120);
    assert!(
        after > Duration::from_millis(200) && after <= Duration::from_millis(300),
        "edge detected after {after}"
    );

    // The same values towards an MSEE: the hold time is refused at its key, and the BFD
    // interval is raised to 300 ms with a warning at its key.
    let text = template_lab("hold_time = \"9s\"\nkeepalive = \"3s\"", "enabled = true");
    let e = refused("template.toml", &text);
    assert!(
        e.contains("template.toml:7:13")
            && e.contains("hold time 9s on `ce1` is below what the MSEE accepts"),
        "{e}"
    );
    let sc = load_text(
        "template.toml",
        &template_lab(
            "hold_time = \"30s\"",
            "enabled = true\ninterval = \"100ms\"\nmultiplier = 3",
        ),
    );
    let warning = sc
        .warnings
        .iter()
        .map(|d| format!("{d:?}"))
        .find(|d| d.contains("runs at 300ms"))
        .unwrap_or_else(|| panic!("no BFD warning in {:?}", sc.warnings));
    assert!(
        warning.contains("line: 12") || warning.contains("12"),
        "{warning}"
    );
}

#[test]
fn a_session_of_the_general_form_may_not_end_on_microsofts_router() {
    let text = r#"name = "to the msee"
topology = "single-ce"
duration = "1m"

[[router]]
name = "mine"
asn = 65010
prefixes = ["10.50.0.0/16"]

[[link]]
name = "sneaky"
ends = ["mine", "msee1"]
"#;
    let e = refused("msee.toml", text);
    assert!(
        e.contains("msee.toml:12:17") && e.contains("`msee1` is Microsoft's router"),
        "{e}"
    );
}

#[test]
fn bad_general_form_inputs_are_refused_at_their_key() {
    let base = lab("", "");
    // Each case: what is changed, and the line:col and words of the error.
    let cases: [(&str, String, &str, &str); 5] = [
        (
            "unknown router in a link",
            base.replace(
                "ends = [\"edge\", \"core\"]\n\n[[link]]\nname = \"secondary\"",
                "ends = [\"edge\", \"kore\"]\n\n[[link]]\nname = \"secondary\"",
            ),
            "19:17",
            "unknown router `kore`",
        ),
        (
            "a duplicate name",
            base.replace("name = \"secondary\"", "name = \"edge\""),
            "22:8",
            "the name `edge` is already used",
        ),
        (
            "hold time 2 s",
            lab("hold_time = \"2s\"", ""),
            "9:13",
            "hold time 2s is not allowed",
        ),
        (
            "a session over a link that does not join its ends",
            format!(
                "{base}\n[[router]]\nname = \"third\"\nasn = 65003\n\n[[session]]\nends = [\"edge\", \"third\"]\nlink = \"primary\"\n"
            ),
            "45:8",
            "the path does not end at `third`",
        ),
        (
            "overlapping sites",
            base.replace(
                "prefixes = [\"10.2.0.0/16\"]",
                "prefixes = [\"10.1.128.0/17\"]",
            ),
            "14:12",
            "10.1.128.0/17 overlaps 10.1.0.0/16 of `edge`",
        ),
    ];
    let mut wrong = Vec::new();
    for (what, text, place, words) in cases {
        let e = refused("bad.toml", &text);
        if !(e.contains(&format!("bad.toml:{place}")) && e.contains(words)) {
            wrong.push(format!("{what}: expected `{words}` at {place}:\n{e}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn local_pref_and_prepend_pick_the_primary_both_ways_and_the_secondary_takes_over() {
    let sc = load_text(
        "lab.toml",
        &lab(
            "hold_time = \"9s\"\nkeepalive = \"3s\"",
            "policy.edge = { local_pref = 200 }",
        ),
    );
    let r = run_seed(&sc, 1);
    let before = paths_at(&r, "edge_to_core", at(60));
    assert_eq!(before.flows_via_link(Via::Network, Some("primary")), 1);
    // Without a prepend the core ties the two sessions and picks by its own rules; the edge's
    // local preference only decides the edge's way.
    let after = paths_at(&r, "edge_to_core", at(179));
    assert_eq!(after.flows_via_link(Via::Network, Some("secondary")), 1);

    // Export policy: with the edge advertising nothing over the secondary, the core has no
    // way back once the primary is gone.
    let sc = load_text(
        "lab.toml",
        &lab("hold_time = \"9s\"\nkeepalive = \"3s\"", "").replace(
            "link = \"secondary\"",
            "link = \"secondary\"\npolicy.edge = { export = [\"192.0.2.0/24\"] }",
        ),
    );
    let r = run_seed(&sc, 1);
    assert_eq!(
        paths_at(&r, "core_to_edge", at(179)).lost,
        1,
        "core_to_edge must be lost: the edge exports nothing over the secondary"
    );
    assert_eq!(
        paths_at(&r, "edge_to_core", at(179)).flows_via_link(Via::Network, Some("secondary")),
        1,
        "edge_to_core still has the core's route over the secondary"
    );
}

#[test]
fn import_filter_and_med_change_the_way_taken() {
    // Triangle: with a's import over c-a refusing b's prefix, the long way round is gone.
    let triangle = scenarios::library::get("triangle")
        .expect("triangle")
        .source;
    let filtered = triangle.replace(
        "[[session]]\nends = [\"c\", \"a\"]",
        "[[session]]\nends = [\"c\", \"a\"]\npolicy.a = { import = [\"10.3.0.0/16\"] }",
    );
    assert_ne!(
        filtered, triangle,
        "the triangle's c-a session is where the test expects it"
    );
    let r = run_seed(&load_text("triangle-filtered.toml", &filtered), 1);
    assert_eq!(paths_at(&r, "a_to_b", at(180)).lost, 1);
    let r = run_seed(&load_text("triangle.toml", triangle), 1);
    assert_eq!(
        paths_at(&r, "a_to_b", at(180)).flows_via_link(Via::Network, Some("c-a")),
        1
    );

    // MED: the core prefers the lower MED the edge sets on the secondary (same neighbour AS,
    // RFC 4271 §9.1.2.2 c), so the core's traffic leaves by the secondary.
    let text = lab("", "policy.edge = { med = 50 }").replace(
        "link = \"secondary\"",
        "link = \"secondary\"\npolicy.edge = { med = 10 }",
    );
    let r = run_seed(&load_text("med.toml", &text), 1);
    assert_eq!(
        paths_at(&r, "core_to_edge", at(60)).flows_via_link(Via::Network, Some("secondary")),
        1
    );
    let text = lab("", "policy.edge = { med = 10 }").replace(
        "link = \"secondary\"",
        "link = \"secondary\"\npolicy.edge = { med = 50 }",
    );
    let r = run_seed(&load_text("med.toml", &text), 1);
    assert_eq!(
        paths_at(&r, "core_to_edge", at(60)).flows_via_link(Via::Network, Some("primary")),
        1
    );
}

#[test]
fn per_link_local_pref_in_the_template_moves_every_on_premises_flow_to_the_primary() {
    let base = r#"name = "lp"
topology = "expressroute-vpn-failover"
duration = "2m"
seed = 1

[[probe]]
from = "onprem"
to = "vnet"
flows = 16
"#;
    let spread = run_seed(&load_text("lp.toml", base), 1);
    let p = paths_at(&spread, "onprem_to_vnet", at(110));
    let on_secondary = p.flows_via_link(Via::Expressroute, Some("circuit.secondary"));
    assert!(
        on_secondary > 0,
        "without a per-link preference ce2's flows take the secondary: {}",
        p.describe()
    );
    let text =
        format!("{base}\n[[policy.local_pref]]\ntarget = \"circuit.primary\"\nvalue = 200\n");
    let sc = load_text("lp.toml", &text);
    let ce1_end = sc
        .topology
        .sessions
        .iter()
        .find(|s| s.name == "circuit.primary.private")
        .map(|s| s.ends[0].local_pref);
    assert_eq!(ce1_end, Some(Some(200)));
    let preferred = run_seed(&sc, 1);
    let p = paths_at(&preferred, "onprem_to_vnet", at(110));
    assert_eq!(
        p.flows_via_link(Via::Expressroute, Some("circuit.primary")),
        16,
        "every flow prefers the primary (ce2 over iBGP to ce1): {}",
        p.describe()
    );
}

#[test]
fn a_vpn_only_site_runs_without_circuit_gateway_or_ce() {
    let sc = scenarios::load("vpn-only")
        .expect("vpn-only loads")
        .scenario;
    let t = &sc.topology;
    assert!(t.circuits.is_empty() && t.er_gateway.is_none());
    assert!(
        t.routers
            .iter()
            .all(|r| r.role != Role::Ce && r.role != Role::Msee)
    );
    let r = run_seed(&sc, 1);
    let verdicts = scenarios::report::evaluate(&sc, &r);
    assert!(verdicts.iter().all(|v| v.pass), "{verdicts:?}");
    // No circuit and no VPN: nothing to reach Azure with.
    let e = refused(
        "nothing.toml",
        "name = \"n\"\nduration = \"1m\"\n[topology]\ncustomer_asn = 65001\nonprem_prefixes = [\"10.1.0.0/16\"]\n[[topology.vnet]]\nname = \"vnet\"\nprefixes = [\"10.10.0.0/16\"]\n",
    );
    assert!(e.contains("neither a circuit nor a VPN"), "{e}");
}

#[test]
fn topology_show_prints_the_general_form_of_templates_files_and_labs() {
    let out = holdtime(&["topology", "show", "--expand", "single-ce"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(
        "[[router]]\nname = \"msee1\"\nrole = \"msee\"  # Microsoft's: Azure's rules apply"
    ));
    assert!(
        out.stdout
            .contains("[[session]]\nname = \"circuit.primary.private\"\nkind = \"peering\"")
    );
    assert!(
        out.stdout
            .contains("[onprem]\nasn = 65001\nprefixes = [\"10.1.0.0/16\"]")
    );
    // Without --expand a built-in topology prints as the template's own TOML.
    let out = holdtime(&["topology", "show", "single-ce"]);
    assert!(out.stdout.contains("ce_routers = 1") && !out.stdout.contains("[[router]]"));
    // A scenario file of the general form prints its own routers, unmarked.
    let path = write_temp("lab.toml", &lab("", ""));
    let out = holdtime(&["topology", "show", path.to_str().expect("utf-8")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("[[router]]\nname = \"edge\"\nasn = 65001")
    );
    assert!(!out.stdout.contains("role = "));
    // ... as a whole scenario, which loads and runs as the file does.
    assert!(out.stdout.contains("duration = "), "{}", out.stdout);
    let again = write_temp("lab-general.toml", &out.stdout);
    let out = holdtime(&["check", "--allow-empty", again.to_str().expect("utf-8")]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Something that is none of these.
    let out = holdtime(&["topology", "show", "no-such-thing"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("neither a built-in topology"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_template_expands_to_routers_links_and_sessions_of_the_general_layer() {
    // Every session of every built-in topology runs over segments that chain its two ends,
    // the layer a general-form session is checked against.
    for (name, _) in scenarios::validate::BUILTIN_TOPOLOGIES {
        let sc = load_text(
            name,
            &format!("name = \"{name}\"\ntopology = \"{name}\"\nduration = \"1s\"\n"),
        );
        let t = &sc.topology;
        for s in &t.sessions {
            assert_ne!(s.kind, SessionKind::User, "{name}: {}", s.name);
            assert!(!s.path.is_empty(), "{name}: {} has no path", s.name);
        }
        assert!(
            t.routers.iter().all(|r| r.role != Role::Router),
            "{name}: the template makes no router of the general form"
        );
        let form = scenarios::topology::general_form(t);
        for r in &t.routers {
            assert!(
                form.contains(&format!("name = \"{}\"", r.name)),
                "{name}: {}",
                r.name
            );
        }
    }
}

/// A chain a - b - c: b sends its own prefix to a as the session comes up, which starts b's
/// MRAI towards a (RFC 4271 §9.2.1.1); c's prefix reaches b a moment later and waits out that
/// interval before b may advertise it to a. So with `mrai = "30s"` a learns c's prefix 30 s
/// later than with `mrai = "0s"`, and the measurement window (every flow delivered once)
/// opens that much later.
fn chain(mrai: &str) -> String {
    format!(
        r#"
name = "chain"
duration = "2m"
seed = 1

[bgp]
profile = "frr"
keepalive = "3s"
hold_time = "9s"
{mrai}

[[router]]
name = "a"
asn = 65001
prefixes = ["10.1.0.0/16"]

[[router]]
name = "b"
asn = 65002
prefixes = ["10.2.0.0/16"]

[[router]]
name = "c"
asn = 65003
prefixes = ["10.3.0.0/16"]

[[link]]
name = "a-b"
ends = ["a", "b"]

[[link]]
name = "b-c"
ends = ["b", "c"]

[[session]]
ends = ["a", "b"]

[[session]]
ends = ["b", "c"]

[[probe]]
from = "a"
to = "c"
interval = "10ms"
"#
    )
}

#[test]
fn mrai_paces_the_advertisement_of_a_route_learned_after_the_first_update() {
    let from = |mrai: &str| {
        let sc = load_text("chain.toml", &chain(mrai));
        run_seed(&sc, 1).window.from
    };
    let fast = from("mrai = \"0s\"");
    let paced = from("mrai = \"30s\"");
    assert!(fast < at(1), "{fast:?}");
    let delay = paced - fast;
    assert!(
        delay > Duration::from_millis(29_900) && delay <= Duration::from_secs(30),
        "mrai 30s delays a's route to c by {delay:?}"
    );
    // The frr profile's own MRAI is 0 s: no key, no pacing.
    assert_eq!(from(""), fast);
    // A router of the general form may set it too; out of range is refused at its key.
    let own = chain("").replace(
        "name = \"b\"\nasn = 65002",
        "name = \"b\"\nasn = 65002\nmrai = \"30s\"",
    );
    let sc = load_text("chain.toml", &own);
    let b = sc.topology.router("b").expect("b");
    assert_eq!(
        sc.topology.routers[b.0].timers.mrai,
        Some(Duration::from_secs(30))
    );
    let err = refused("chain.toml", &chain("mrai = \"601s\""));
    assert!(
        err.contains("chain.toml:10:8") && err.contains("mrai 10m1s is longer than 600s"),
        "{err}"
    );
}

/// A FIB programmed one prefix at a time (`route_install_per_prefix`): in the triangle, b
/// originates 201 prefixes; when a-b goes down, a reprograms all 201 (via c) one after the
/// other, 1 ms each after FRR's 70 ms, while b moves its single route to a's hosts. So a
/// converges after 70 + 201 ms and b after 71 ms; without the key both take FRR's 70 ms.
#[test]
fn a_serial_fib_takes_its_time_per_prefix() {
    let base = include_str!("../../scenarios/library/triangle.toml");
    let many: Vec<String> = (0..200)
        .map(|i| format!("\"10.{}.{}.0/24\"", 20 + i / 250, i % 250))
        .collect();
    let text = base.replace(
        "name = \"b\"\nasn = 65002\nprefixes = [\"10.2.0.0/16\"]",
        &format!(
            "name = \"b\"\nasn = 65002\nprefixes = [\"10.2.0.0/16\", {}]",
            many.join(", ")
        ),
    );
    assert_ne!(text, base);
    let convergence = |text: &str| {
        let r = run_seed(&load_text("triangle.toml", text), 1);
        let of = |router: &str| {
            r.convergence
                .iter()
                .find(|c| c.router == router)
                .map(|c| c.after_fault)
                .unwrap_or_else(|| panic!("no convergence of {router}: {:?}", r.convergence))
        };
        (of("a"), of("b"))
    };
    let ms = Duration::from_millis;
    assert_eq!(convergence(&text), (ms(70), ms(70)));
    let serial = text.replace(
        "hold_time = \"9s\"\n",
        "hold_time = \"9s\"\nroute_install_per_prefix = \"1ms\"\n",
    );
    assert_eq!(convergence(&serial), (ms(271), ms(71)));
}
