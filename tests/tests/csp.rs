//! Cloud Solution Provider networks (issue 17, item 5): the `[csp]` template's isolation,
//! checked over every forwarding entry every tenant's routers installed; the shared edge's
//! VRFs failing together; and the refusals, each with its location and message.

use std::collections::BTreeMap;

use ipnet::IpNet;
use scenarios::report::{RunReport, TimelineEvent};
use scenarios::topology::{RouterIx, Topology};
use sim_core::time::{Duration, Instant};

mod support;
use support::*;

/// The tenant (by index) whose address space holds `prefix`, from the sites as the test reads
/// them (not the model's own lookup).
fn owner(topo: &Topology, prefix: &IpNet) -> Option<usize> {
    topo.tenants.iter().position(|t| {
        [t.onprem, t.vnet]
            .iter()
            .any(|s| topo.sites[*s].prefixes.iter().any(|p| p.contains(prefix)))
    })
}

/// Every router of tenant `t`: its edges (the routers of its hosts' site), its circuits'
/// MSEEs and its gateway.
fn routers_of(topo: &Topology, t: usize) -> Vec<RouterIx> {
    let tenant = &topo.tenants[t];
    let mut v = topo.sites[tenant.onprem].routers.clone();
    for c in &tenant.circuits {
        v.extend(topo.circuits[c.0].links.iter().map(|l| l.msee));
    }
    v.push(tenant.gateway.router);
    v
}

/// Each router's forwarding table as the timeline's `fib` lines leave it at `until`.
fn fibs_at(r: &RunReport, until: Instant) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut fibs: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for e in r.timeline.iter().take_while(|e| e.at <= until) {
        if let (TimelineEvent::Fib { prefix, via }, Some(router)) = (&e.event, &e.router) {
            let table = fibs.entry(router.clone()).or_default();
            if via.is_empty() {
                table.remove(prefix);
            } else {
                table.insert(prefix.clone(), via.clone());
            }
        }
    }
    fibs
}

#[test]
fn no_tenant_router_ever_installs_another_tenants_prefix_in_csp_connect_through() {
    let sc = library("csp-connect-through");
    let topo = &sc.topology;
    assert_eq!(topo.tenants.len(), 3);
    let r = run(&sc);
    let tenant_of: BTreeMap<&str, usize> = (0..topo.tenants.len())
        .flat_map(|t| {
            routers_of(topo, t)
                .into_iter()
                .map(move |x| (topo.router_name(x), t))
        })
        .collect();
    // Every FIB change of every tenant's router over the whole run.
    let mut checked = vec![0u32; topo.tenants.len()];
    for e in &r.timeline {
        let (TimelineEvent::Fib { prefix, via }, Some(router)) = (&e.event, &e.router) else {
            continue;
        };
        let Some(&t) = tenant_of.get(router.as_str()) else {
            continue;
        };
        if via.is_empty() {
            continue;
        }
        let p: IpNet = prefix.parse().expect("a prefix");
        let o = owner(topo, &p);
        assert!(
            o.is_none_or(|o| o == t),
            "{router} (tenant {}) installed {prefix} of tenant {:?} at {:?}",
            topo.tenants[t].name,
            o.map(|o| &topo.tenants[o].name),
            e.at
        );
        checked[t] += 1;
    }
    assert!(checked.iter().all(|c| *c >= 4), "{checked:?}");
    // The tables themselves, before the failure, while t2 is down, and at the end: each
    // tenant's edges reach its VNet, its gateway its hosts, and nothing of another tenant.
    let secs = |s: u64| Instant::ZERO + Duration::from_secs(s);
    for (when, t2_down) in [(secs(299), false), (secs(420), true), (secs(900), false)] {
        let fibs = fibs_at(&r, when);
        for (t, tenant) in topo.tenants.iter().enumerate() {
            let vnet = topo.sites[tenant.vnet].prefixes[0].to_string();
            let hosts = topo.sites[tenant.onprem].prefixes[0].to_string();
            let down = t2_down && tenant.name == "t2";
            for e in &topo.sites[tenant.onprem].routers {
                let table = fibs.get(topo.router_name(*e)).cloned().unwrap_or_default();
                assert_eq!(
                    table.contains_key(&vnet),
                    !down,
                    "{} at {when:?}: {table:?}",
                    topo.router_name(*e)
                );
            }
            let gw = topo.router_name(tenant.gateway.router);
            let table = fibs.get(gw).cloned().unwrap_or_default();
            assert_eq!(
                table.contains_key(&hosts),
                !down,
                "{gw} at {when:?}: {table:?}"
            );
            for x in routers_of(topo, t) {
                for prefix in fibs
                    .get(topo.router_name(x))
                    .map(|f| f.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
                {
                    let p: IpNet = prefix.parse().expect("a prefix");
                    assert!(
                        owner(topo, &p).is_none_or(|o| o == t),
                        "{prefix} at {}",
                        topo.router_name(x)
                    );
                }
            }
        }
    }
    // The report says so too, having checked every route.
    assert_eq!(r.isolation.len(), 3);
    for (i, t) in r.isolation.iter().enumerate() {
        assert_eq!(t.leaks, 0, "{t:?}");
        assert!(t.routes_checked >= u64::from(checked[i]), "{t:?}");
    }
    // t2's circuit failure (episode 1) cost t2 flows and nobody else.
    let hit: Vec<&[u32]> = r
        .isolation
        .iter()
        .map(|t| t.episodes_hit.as_slice())
        .collect();
    assert_eq!(hit, [&[][..], &[1][..], &[][..]]);
}

#[test]
fn a_gateway_session_across_tenants_is_caught_by_the_isolation_check() {
    // The same network written out, with one more gateway session: t1's primary MSEE also
    // peers with t2's gateway (as every VNet behind one gateway would). Then t1's routes reach
    // t2's gateway and t2's VNet reaches t1's edge: the check counts them and the library's
    // expectation fails.
    let text = scenarios::library::get("csp-connect-through")
        .expect("library")
        .source;
    let loaded = scenarios::load_str("csp-connect-through", text).expect("loads");
    let mut general =
        scenarios::topology::general_scenario(text, &loaded.scenario.topology).expect("written");
    general.push_str(
        "\n[[link]]\nname = \"azure.shared\"\nkind = \"azure\"\nends = [\"msee1\", \"t2-ergw\"]\n\n\
         [[session]]\nname = \"shared.gateway\"\nkind = \"gateway\"\nends = [\"msee1\", \"t2-ergw\"]\n\
         passive = \"t2-ergw\"\npath = [\"azure.shared\"]\n",
    );
    let sc = load_text("shared.toml", &general);
    let r = run(&sc);
    let leaks: u64 = r.isolation.iter().map(|t| t.leaks).sum();
    assert!(leaks > 0, "{:?}", r.isolation);
    let t1 = &r.isolation[0];
    assert!(
        t1.first_leaks
            .iter()
            .any(|l| l.router == "edge1-t1" && l.prefix == "10.202.0.0/16" && l.owner == "t2"),
        "{t1:?}"
    );
    let t2 = &r.isolation[1];
    assert!(
        t2.first_leaks
            .iter()
            .any(|l| l.router == "t2-ergw" && l.prefix == "10.101.0.0/16" && l.owner == "t1"),
        "{t2:?}"
    );
    let verdicts = scenarios::report::evaluate(&sc, &r);
    let isolation = verdicts
        .iter()
        .find(|v| v.expectation.contains("isolation.leaks"))
        .expect("the isolation expectation");
    assert!(!isolation.pass, "{isolation:?}");
    assert!(r.to_text().contains("installed 10.202.0.0/16 of tenant t2"));
}

/// A library scenario with its fault replaced by a crash of `router` at 5 minutes.
fn with_crash(name: &str, router: &str) -> RunReport {
    let text = scenarios::library::get(name).expect("library").source;
    let start = text.find("[[fault]]").expect("a fault");
    let end = text[start..].find("[[probe]]").expect("probes") + start;
    let text = format!(
        "{}[[fault]]\nat = \"5m\"\nkind = \"router_crash\"\ntarget = \"{router}\"\n\n{}",
        &text[..start],
        &text[end..]
    );
    run(&load_text(name, &text))
}

fn detected_at(r: &RunReport, router: &str) -> bool {
    r.detections.iter().any(|d| d.router == router)
}

#[test]
fn a_crash_of_one_vrf_is_a_crash_of_the_shared_edge_but_a_customers_own_edge_fails_alone() {
    // Connect-through: edge1-t1 is a VRF of edge1, whose other VRFs carry t2's and t3's
    // primary links: every tenant's primary MSEE loses its session (hold timer: the provider
    // hides the carrier loss).
    let r = with_crash("csp-connect-through", "edge1-t1");
    for msee in ["msee1", "msee3", "msee5", "msee7"] {
        assert!(detected_at(&r, msee), "{msee}: {:?}", r.detections);
    }
    assert!(!detected_at(&r, "msee2"));
    // The report names the crash among t3's losses (its flows on edge1's links).
    assert_eq!(r.isolation[2].episodes_hit, [1]);
    // Connect-to: t1-ce1 is t1's own router; the others are untouched.
    let r = with_crash("csp-connect-to", "t1-ce1");
    assert!(detected_at(&r, "msee1"));
    for msee in ["msee2", "msee3", "msee5"] {
        assert!(!detected_at(&r, msee), "{msee}: {:?}", r.detections);
    }
}

#[test]
fn each_tenant_gateway_programs_after_its_own_delay() {
    let text = scenarios::library::get("csp-connect-through")
        .expect("library")
        .source
        .replace(
            "provider_asn = 65001            # the provider's ASN, on every customer's VRF",
            "provider_asn = 65001\nconvergence_delay = \"20s\"",
        );
    let r = run(&load_text("fast.toml", &text));
    let worst = r
        .directions
        .iter()
        .find(|d| d.direction == "t2-vnet_to_t2")
        .expect("direction");
    let library = run(&library("csp-connect-through"));
    let slow = library
        .directions
        .iter()
        .find(|d| d.direction == "t2-vnet_to_t2")
        .expect("direction");
    // The gateway's 40 s less, exactly (the rest of the run is the same).
    assert_eq!(
        slow.longest.saturating_sub(worst.longest),
        Duration::from_secs(40),
        "{slow:?} {worst:?}"
    );
}

const HEAD: &str = "name = \"csp\"\nduration = \"10m\"\n\n";

#[test]
fn csp_files_are_refused_with_their_location() {
    let cases: [(&str, &str); 11] = [
        (
            "[csp]\nmodel = \"connect-to\"\ntenants = 1\nconvergence_delay = { min = \"60s\", max = \"10s\" }\n",
            "csp.toml:7:21: error: the range 1m..10s is empty (at `csp.convergence_delay`)",
        ),
        (
            "[csp]\nmodel = \"connect-to\"\ntenants = 1\nbandwidth = \"3Gbps\"\n",
            "csp.toml:7:13: error: no circuit is sold at 3Gbps (at `csp.bandwidth`)",
        ),
        (
            "[csp]\nmodel = \"connect-through\"\ntenants = 0\n",
            "csp.toml:6:11: error: a Cloud Solution Provider with 0 customers (at `csp.tenants`)",
        ),
        (
            "[csp]\nmodel = \"connect-through\"\ntenants = 2\n\n[[csp.tenant]]\nname = \"a\"\n\n[[csp.tenant]]\nname = \"b\"\nprefixes = [\"10.101.0.0/24\"]\n",
            "csp.toml:13:13: error: 10.101.0.0/24 of tenant `b` overlaps 10.101.0.0/16 of tenant `a` (at `csp.tenant[1].prefixes[0]`)",
        ),
        (
            "[csp]\nmodel = \"connect-to\"\ntenants = 1\n\n[[csp.tenant]]\nvnet_prefixes = [\"10.101.1.0/24\"]\n",
            "csp.toml:9:18: error: 10.101.1.0/24 of tenant `t1` overlaps 10.101.0.0/16 of tenant `t1`'s own hosts (at `csp.tenant[0].vnet_prefixes[0]`)",
        ),
        (
            "[csp]\nmodel = \"connect-to\"\ntenants = 1\nprovider_asn = 65001\n",
            "csp.toml:7:16: error: `provider_asn` in the connect-to model (at `csp.provider_asn`)",
        ),
        (
            "[csp]\nmodel = \"connect-through\"\ntenants = 1\n\n[[csp.tenant]]\nasn = 65002\n",
            "csp.toml:9:7: error: an ASN of its own (65002) for tenant `t1` in the connect-through model (at `csp.tenant[0].asn`)",
        ),
        (
            "[csp]\nmodel = \"connect-to\"\ntenants = 1\n\n[[csp.tenant]]\ncircuits = 5\n",
            "csp.toml:9:12: error: 5 circuits for tenant `t1` (at `csp.tenant[0].circuits`)",
        ),
        (
            "topology = \"single-ce\"\n[csp]\nmodel = \"connect-through\"\ntenants = 1\n",
            "csp.toml:5:1: error: `[csp]` beside `topology` (at `csp`)",
        ),
        (
            "[csp]\nmodel = \"connect-to\"\ntenants = 2\n\n[[csp.tenant]]\nname = \"t2-ce1\"\n",
            "csp.toml:9:8: error: the names of tenants `t2-ce1` and `t2` clash: both would make `t2-ce1` (at `csp.tenant[0].name`)",
        ),
        (
            "topology = \"single-ce\"\n[[expect]]\nmetric = \"isolation.leaks\"\nmax = 0\n",
            "csp.toml:6:10: error: metric `isolation.leaks` in a network without tenants (at `expect[0].metric`)",
        ),
    ];
    for (body, want) in cases {
        let err = refused("csp.toml", &format!("{HEAD}{body}"));
        assert!(err.contains(want), "want {want}\n got {err}");
    }
}

#[test]
fn written_tenants_may_not_share_a_circuit_or_a_gateway() {
    let text = scenarios::library::get("csp-connect-to")
        .expect("library")
        .source;
    let loaded = scenarios::load_str("csp-connect-to", text).expect("loads");
    let general =
        scenarios::topology::general_scenario(text, &loaded.scenario.topology).expect("written");
    // It loads back as it is.
    let again = load_text("w.toml", &general);
    assert_eq!(again.topology, loaded.scenario.topology);
    let line_col = |t: &str, needle: &str| {
        let at = t.find(needle).expect("needle");
        let line = t[..at].matches('\n').count() + 1;
        let col = at - t[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
        format!("{line}:{col}")
    };
    // t2 claims t1's circuit.
    let shared = general.replace("circuits = [\"t2-circuit\"]", "circuits = [\"t1-circuit\"]");
    let err = refused("w.toml", &shared);
    let at = line_col(&shared, "\"t1-circuit\"]\ngateway = \"t2-ergw\"");
    assert!(
        err.contains(&format!(
            "w.toml:{at}: error: circuit `t1-circuit` belongs to another tenant (at `tenant[1].circuits[0]`)"
        )),
        "{err}"
    );
    // A chassis of Microsoft's router, and of a router that does not exist.
    let boxed =
        format!("{general}\n[[chassis]]\nname = \"box\"\nrouters = [\"msee1\", \"nope\"]\n");
    let err = refused("w.toml", &boxed);
    assert!(
        err.contains("error: `msee1` is Microsoft's router (at `chassis[0].routers[0]`)")
            && err.contains("error: unknown router `nope` (at `chassis[0].routers[1]`)"),
        "{err}"
    );
    // t2 names t1's gateway.
    let shared = general.replace("gateway = \"t2-ergw\"", "gateway = \"t1-ergw\"");
    let err = refused("w.toml", &shared);
    assert!(
        err.contains("error: `t1-ergw` is already another gateway (at `tenant[1].gateway`)"),
        "{err}"
    );
}
