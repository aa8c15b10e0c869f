//! `holdtime audit`: every single failure of a design, ranked, with its single points of
//! failure and exit codes for CI.

use std::process::{Command, Output};

use scenarios::sweep::audit::{AuditSpec, audit};
use scenarios::sweep::{Exec, SweepSpec};

fn holdtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .args(args)
        .output()
        .expect("the holdtime binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn spec(source: &str, runs: u64) -> AuditSpec {
    AuditSpec {
        source: source.to_owned(),
        runs,
        seed: 1,
        only: Vec::new(),
        skip: Vec::new(),
        budget: None,
    }
}

#[test]
fn the_single_ce_is_a_single_point_of_failure_and_two_ces_are_not() {
    let one = audit(&spec("single-ce", 4), Exec::new(2)).expect("audits");
    let spofs: Vec<&str> = one
        .single_points_of_failure()
        .iter()
        .map(|f| f.failure.name.as_str())
        .collect();
    assert!(
        spofs.contains(&"router_crash ce1"),
        "{spofs:?}\n{}",
        one.to_text()
    );
    // It ranks among the first, with the other single points of failure (without a VPN, the
    // circuit's deprovisioning too): on-premises traffic has no other way out, to the end of
    // every run.
    let first: Vec<&str> = one
        .failures
        .iter()
        .take_while(|f| f.single_point_of_failure(one.runs))
        .map(|f| f.failure.name.as_str())
        .collect();
    assert!(first.contains(&"router_crash ce1"), "{}", one.to_text());
    assert!(first.contains(&"deprovision circuit"), "{}", one.to_text());
    assert!(!one.passes());
    assert!(
        one.non_redundant()
            .get("onprem_to_vnet")
            .is_some_and(|f| f.iter().any(|n| n == "router_crash ce1")),
        "{}",
        one.to_text()
    );

    let two = audit(&spec("reference", 4), Exec::new(2)).expect("audits");
    assert!(
        two.single_points_of_failure().is_empty(),
        "{}",
        two.to_text()
    );
    assert!(two.to_text().contains("single points of failure: none"));
    // Every link, router, peering, circuit and VPN operation of the design is tried.
    let names: Vec<&str> = two
        .failures
        .iter()
        .map(|f| f.failure.name.as_str())
        .collect();
    for n in [
        "silent circuit.primary",
        "down circuit.secondary",
        "loss circuit.primary",
        "msee_maintenance circuit.primary",
        "router_crash ce1",
        "router_crash msee2",
        "bgp_disconnect circuit.primary.private",
        "deprovision circuit",
        "vpn_tunnel_down vpn.tunnel",
        "gateway_instance_failure gateway.vpn",
    ] {
        assert!(names.contains(&n), "{n} missing: {names:?}");
    }
}

#[test]
fn the_silent_cut_ranks_above_the_carrier_cut_and_equals_its_sweep() {
    let runs = 6;
    let r = audit(&spec("reference", runs), Exec::new(2)).expect("audits");
    let rank = |name: &str| {
        r.failures
            .iter()
            .position(|f| f.failure.name == name)
            .unwrap_or_else(|| panic!("{name}: {}", r.to_text()))
    };
    // A silent cut waits for the hold timers; carrier loss is seen at once.
    assert!(
        rank("silent circuit.primary") < rank("down circuit.primary"),
        "{}",
        r.to_text()
    );
    // The same one-fault scenario swept over the same seeds gives the same histogram.
    let silent = &r.failures[rank("silent circuit.primary")];
    let dir = std::env::temp_dir().join(format!("holdtime-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("silent.toml");
    let (_, text) = scenarios::source_text("reference").expect("the reference");
    let mut doc: toml::Table = text.parse().expect("TOML");
    doc.remove("expect");
    let mut fault = toml::Table::new();
    fault.insert("kind".into(), "silent".into());
    fault.insert("at".into(), "5m".into());
    fault.insert("target".into(), "circuit.primary".into());
    doc.insert(
        "fault".into(),
        toml::Value::Array(vec![toml::Value::Table(fault)]),
    );
    std::fs::write(&file, toml::to_string(&doc).expect("TOML")).expect("write");
    let sweep = scenarios::sweep::run(
        &SweepSpec {
            source: file.to_string_lossy().into_owned(),
            sets: Vec::new(),
            runs,
            seed: 1,
            shard: None,
        },
        Exec::new(2),
    )
    .expect("sweeps");
    for d in &silent.directions {
        let h = &sweep.points[0].hists[&format!("outage.{}", d.direction)];
        assert_eq!(d.p99_us, h.quantile(0.99), "{}", d.direction);
        assert_eq!(d.max_us, h.max(), "{}", d.direction);
    }
}

#[test]
fn exit_codes_follow_the_budget() {
    // Within 5 minutes every failure of the reference recovers: exit 0.
    let ok = holdtime(&[
        "audit",
        "reference",
        "--runs",
        "2",
        "--budget",
        "outage=5m",
        "--only",
        "silent,down",
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}{}",
        text(&ok.stdout),
        text(&ok.stderr)
    );
    assert!(text(&ok.stdout).contains("verdict: every failure within budget"));
    // A silent cut takes minutes: over a 1 s budget, exit 1, and the verdict names it.
    let over = holdtime(&[
        "audit",
        "reference",
        "--runs",
        "2",
        "--budget",
        "outage=1s",
        "--only",
        "silent",
    ]);
    assert_eq!(over.status.code(), Some(1), "{}", text(&over.stderr));
    assert!(
        text(&over.stdout).contains("over budget")
            && text(&over.stdout).contains("silent circuit.primary"),
        "{}",
        text(&over.stdout)
    );
    // A crash of the only CE leaves an open outage: over any budget.
    let spof = holdtime(&[
        "audit",
        "single-ce",
        "--runs",
        "2",
        "--only",
        "router_crash",
    ]);
    assert_eq!(spof.status.code(), Some(1), "{}", text(&spof.stderr));
    // Invalid input: exit 2.
    for args in [
        &["audit", "reference", "--only", "meteor"][..],
        &["audit", "reference", "--budget", "latency=1s"][..],
        &["audit", "reference", "--runs", "0"][..],
        &["audit", "no-such-design"][..],
    ] {
        let out = holdtime(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // JSON and CSV carry the same ranking.
    let json = holdtime(&[
        "audit",
        "single-ce",
        "--runs",
        "2",
        "--only",
        "router_crash",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(v["format"], "holdtime.audit/1");
    assert_eq!(v["failures"][0]["failure"]["name"], "router_crash ce1");
    let csv = holdtime(&[
        "audit",
        "single-ce",
        "--runs",
        "2",
        "--only",
        "router_crash",
        "--format",
        "csv",
    ]);
    let csv = text(&csv.stdout);
    assert!(
        csv.starts_with("rank,failure,kind,target,direction,p50_us,p99_us,max_us,open_runs,runs\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\n1,router_crash ce1,router_crash,ce1,onprem_to_vnet,"),
        "{csv}"
    );
}
