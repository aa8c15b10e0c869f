//! The ExpressRoute gateway's instance failover (`gateway_instance_failure` on `gateway.er`):
//! what traffic it loses and for how long, which sessions drop, where it is refused, and its
//! place in `holdtime audit`'s failure set.

use std::process::{Command, Output};

use scenarios::report::{DownCause, PathChange, RunReport};
use scenarios::scenario::Scenario;
use scenarios::spec::FaultKind;
use scenarios::sweep::Exec;
use scenarios::sweep::audit::{AuditSpec, audit, plan};
use sim_core::time::{Duration, Instant};

fn holdtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .args(args)
        .output()
        .expect("the holdtime binary runs")
}

fn load_text(name: &str, text: &str) -> Scenario {
    match scenarios::load_str(name, text) {
        Ok(l) => l.scenario,
        Err(e) => panic!("{name} does not load: {e}"),
    }
}

fn run(sc: &Scenario) -> RunReport {
    match scenarios::run(sc, sc.seed, None) {
        Ok(r) => r,
        Err(e) => panic!("{}: run failed: {e}", sc.name),
    }
}

/// The reference design with one `gateway_instance_failure` at 5 minutes.
fn scenario(target: &str, planned: bool) -> Scenario {
    let text = format!(
        r#"
name = "er gateway instance"
topology = "expressroute-vpn-failover"
duration = "15m"
seed = 1

[[fault]]
at = "5m"
kind = "gateway_instance_failure"
target = "{target}"
planned = {planned}

[[probe]]
from = "onprem"
to = "vnet"
interval = "10ms"
flows = 8
"#
    );
    load_text("er.toml", &text)
}

/// The distribution of `dir` in force just before `t`.
fn before<'a>(r: &'a RunReport, dir: &str, t: Instant) -> &'a PathChange {
    r.paths
        .iter()
        .rfind(|p| p.direction == dir && p.at < t)
        .unwrap_or_else(|| panic!("{dir}: no path before {t}"))
}

fn flows_on_link(p: &PathChange, link: &str) -> u32 {
    p.via
        .iter()
        .filter(|s| s.link.as_deref() == Some(link))
        .map(|s| s.flows)
        .sum()
}

/// Every session down event of the run after the fault: (session, router, after, cause).
fn downs(r: &RunReport) -> Vec<(String, String, Option<Duration>, DownCause)> {
    let mut v: Vec<_> = r
        .detections
        .iter()
        .map(|d| (d.session.clone(), d.router.clone(), d.after_fault, d.cause))
        .collect();
    v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    v
}

#[test]
fn an_unplanned_instance_failure_loses_its_flows_until_it_is_back_or_reprogrammed() {
    let fault = Instant::ZERO + Duration::from_secs(300);
    let r = run(&scenario("gateway.er.instance0", false));
    // Before the failure both links carry flows each way.
    let up = before(&r, "onprem_to_vnet", fault);
    let on_primary_up = flows_on_link(up, "circuit.primary");
    let down = before(&r, "vnet_to_onprem", fault);
    let on_primary_down = flows_on_link(down, "circuit.primary");
    assert!(
        on_primary_up > 0 && on_primary_up < 8 && on_primary_down > 0 && on_primary_down < 8,
        "{up:?} {down:?}"
    );
    // On-premises to the VNet: msee1 forwards into the dead instance until it is back, after
    // the unplanned failover time (60-90 s); exactly the flows on the primary link are hit.
    let d = r.direction("onprem_to_vnet").expect("direction");
    assert_eq!((d.flows_hit, d.open_flows), (on_primary_up, 0), "{d:?}");
    assert!(
        d.longest >= Duration::from_secs(60) && d.longest <= Duration::from_millis(90_100),
        "{d:?}"
    );
    // The VNet to on-premises: the gateway dropped the instance's paths at once, and the
    // VNet follows after the 60 s of programming, before the instance is back.
    let d = r.direction("vnet_to_onprem").expect("direction");
    assert_eq!((d.flows_hit, d.open_flows), (on_primary_down, 0), "{d:?}");
    assert!(
        d.longest >= Duration::from_secs(60) && d.longest <= Duration::from_millis(60_100),
        "{d:?}"
    );
    // Which sessions drop: the gateway end of instance 0's session at once (the instance's
    // state is gone), msee1's end by its hold timer (180 s, the last keepalive 0-60 s before).
    // Nothing else: not instance 1's session, not the CEs' sessions with the MSEEs.
    let downs = downs(&r);
    assert_eq!(downs.len(), 2, "{downs:?}");
    let (s, router, after, cause) = &downs[0];
    assert_eq!(
        (s.as_str(), router.as_str(), *after, *cause),
        (
            "circuit.primary.gateway",
            "ergw",
            Some(Duration::ZERO),
            DownCause::Local
        ),
        "{downs:?}"
    );
    let (s, router, after, cause) = &downs[1];
    assert_eq!(
        (s.as_str(), router.as_str(), *cause),
        ("circuit.primary.gateway", "msee1", DownCause::HoldTimer),
        "{downs:?}"
    );
    let after = after.expect("in the episode");
    assert!(
        after >= Duration::from_secs(120) && after <= Duration::from_secs(180),
        "{after}"
    );
}

#[test]
fn a_planned_instance_failure_is_short_and_hits_the_other_link_for_instance_one() {
    let fault = Instant::ZERO + Duration::from_secs(300);
    let r = run(&scenario("gateway.er.instance1", true));
    let on_secondary = |dir: &str| flows_on_link(before(&r, dir, fault), "circuit.secondary");
    // Planned maintenance keeps the instance away 10-15 s, less than the gateway's 60 s of
    // reprogramming: both directions get their flows back when the instance returns.
    for dir in ["onprem_to_vnet", "vnet_to_onprem"] {
        let d = r.direction(dir).expect("direction");
        assert_eq!((d.flows_hit, d.open_flows), (on_secondary(dir), 0), "{d:?}");
        assert!(
            d.longest >= Duration::from_secs(10) && d.longest <= Duration::from_millis(15_100),
            "{dir}: {d:?}"
        );
    }
    assert!(
        r.detections
            .iter()
            .all(|d| d.session == "circuit.secondary.gateway"),
        "{:?}",
        r.detections
    );
    // `gateway.er` names instance 0, like `gateway.er.instance0`.
    let a = run(&scenario("gateway.er", true));
    let b = run(&scenario("gateway.er.instance0", true));
    assert_eq!(a.directions, b.directions);
    assert_eq!(downs(&a), downs(&b));
}

#[test]
fn the_fault_is_refused_where_there_is_no_expressroute_gateway() {
    let dir = std::env::temp_dir().join(format!("holdtime-ergw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.toml");
    // A VPN-only site: the template with no circuit has no ExpressRoute gateway.
    std::fs::write(
        &bad,
        "name = \"bad\"\nduration = \"10m\"\n\n[topology]\ncustomer_asn = 65001\nonprem_prefixes = [\"10.1.0.0/16\"]\n\n[[topology.vnet]]\nname = \"vnet\"\nprefixes = [\"10.10.0.0/16\"]\n\n[topology.vpn]\nmode = \"active-active\"\n\n[[fault]]\nat = \"5m\"\nkind = \"gateway_instance_failure\"\ntarget = \"gateway.er.instance1\"\n",
    )
    .expect("write");
    let out = holdtime(&["check", bad.to_str().expect("utf-8")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml:18:10:")
            && err.contains("has no ExpressRoute gateway")
            && err.contains("gateway.vpn.instance0"),
        "{err}"
    );
    // An instance the gateway does not have is an unknown target, with the ones it has.
    let bad2 = dir.join("bad2.toml");
    std::fs::write(
        &bad2,
        "name = \"bad\"\ntopology = \"expressroute-vpn-failover\"\nduration = \"10m\"\n\n[[fault]]\nat = \"5m\"\nkind = \"gateway_instance_failure\"\ntarget = \"gateway.er.instance2\"\n",
    )
    .expect("write");
    let out = holdtime(&["check", bad2.to_str().expect("utf-8")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad2.toml:8:10:")
            && err.contains("unknown target `gateway.er.instance2`")
            && err.contains("gateway.er.instance1"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_audit_fails_each_expressroute_gateway_instance() {
    let names = |source: &str| -> Vec<String> {
        plan(&AuditSpec::new(source, 1, 1))
            .expect("plans")
            .failures
            .iter()
            .map(|f| f.name.clone())
            .collect()
    };
    let er = [
        "gateway_instance_failure gateway.er.instance0",
        "gateway_instance_failure gateway.er.instance1",
    ];
    for source in ["reference", "single-ce"] {
        let n = names(source);
        for f in er {
            assert!(n.iter().any(|x| x == f), "{source}: {f} missing: {n:?}");
        }
    }
    // A VPN-only site has no ExpressRoute gateway to fail.
    assert!(
        names("vpn-only").iter().all(|x| !x.contains("gateway.er")),
        "{:?}",
        names("vpn-only")
    );
    // In the reference design each instance's failure loses flows for the failover time,
    // then everything is back: not a single point of failure.
    let r = audit(
        &AuditSpec {
            only: vec![FaultKind::GatewayInstanceFailure],
            ..AuditSpec::new("reference", 4, 1)
        },
        Exec::new(2),
    )
    .expect("audits");
    for f in er {
        let got = r
            .failures
            .iter()
            .find(|x| x.failure.name == f)
            .unwrap_or_else(|| panic!("{f}: {}", r.to_text()));
        assert!(
            got.directions.iter().all(|d| d.open_runs == 0),
            "{}",
            r.to_text()
        );
        let worst = got.worst().expect("loses flows");
        assert!(
            worst.max_us >= 60_000_000 && worst.max_us <= 90_100_000,
            "{f}: {worst:?}\n{}",
            r.to_text()
        );
    }
    assert!(r.single_points_of_failure().is_empty(), "{}", r.to_text());
}
