//! `holdtime audit`: every single failure of a design, ranked, with its single points of
//! failure and exit codes for CI.

use std::process::{Command, Output};

#[path = "support/browser.rs"]
mod browser;

use browser::{CHROMIUM, attr_of, chromium, no_console_errors, screenshot_dir};

use scenarios::spec::FaultKind;
use scenarios::sweep::audit::{AuditResult, AuditSpec, Hazard, HazardKind, audit, plan};
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
    AuditSpec::new(source, runs, 1)
}

#[test]
fn the_single_ce_is_a_single_point_of_failure_and_two_ces_are_not() {
    // The prefix-limit breaches are the costliest to simulate (each sends 4,001 prefixes) and
    // are not what this test is about: they are listed below, from the plan.
    let cheap = |source: &str| AuditSpec {
        skip: vec![FaultKind::PrefixFlood],
        ..spec(source, 4)
    };
    let one = audit(&cheap("single-ce"), Exec::new(2)).expect("audits");
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

    let two = audit(&cheap("reference"), Exec::new(2)).expect("audits");
    assert!(
        two.single_points_of_failure().is_empty(),
        "{}",
        two.to_text()
    );
    assert!(two.to_text().contains("single points of failure: none"));
    // Every link, router, peering, circuit and VPN operation of the design is tried.
    let planned = plan(&spec("reference", 1)).expect("plans");
    let names: Vec<&str> = planned.failures.iter().map(|f| f.name.as_str()).collect();
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
        "prefix_flood circuit.primary.private",
        "prefix_flood vpn",
    ] {
        assert!(names.contains(&n), "{n} missing: {names:?}");
    }
}

#[test]
fn the_silent_cut_ranks_above_the_carrier_cut_and_equals_its_sweep() {
    let runs = 6;
    let r = audit(
        &only("reference", runs, &[FaultKind::Silent, FaultKind::Down], 1),
        Exec::new(2),
    )
    .expect("audits");
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
        // The histograms count nanoseconds; the outcome keeps microseconds for the text.
        assert_eq!(d.p99_us, h.quantile(0.99) / 1_000, "{}", d.direction);
        assert_eq!(d.max_us, h.max() / 1_000, "{}", d.direction);
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
    assert_eq!(v["format"], "holdtime.audit/3");
    // Every time in integer nanoseconds, the unit in the key.
    assert!(v["at_ns"].as_u64().is_some(), "{v}");
    assert!(
        v["failures"][0]["directions"][0]["p99_ns"]
            .as_u64()
            .is_some()
    );
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

fn only(source: &str, runs: u64, kinds: &[FaultKind], depth: u8) -> AuditSpec {
    AuditSpec {
        only: kinds.to_vec(),
        depth,
        ..spec(source, runs)
    }
}

#[test]
fn depth_two_runs_every_unordered_pair_once() {
    // Five routers that can crash: 5 singles and C(5, 2) = 10 pairs, none pruned.
    let p = plan(&only("reference", 1, &[FaultKind::RouterCrash], 2)).expect("plans");
    assert_eq!((p.singles, p.pairs(), p.pruned), (5, 10, 0));
    let mut names: Vec<&str> = p.failures.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"router_crash ce1 + router_crash ce2"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"router_crash ce2 + router_crash ce1"),
        "{names:?}"
    );
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 15);
    // Two failures of one element are not paired: of the C(4, 2) = 6 pairs of silent and
    // down on two links, the 2 on one link are pruned.
    let p = plan(&only(
        "single-ce",
        1,
        &[FaultKind::Silent, FaultKind::Down],
        2,
    ))
    .expect("plans");
    assert_eq!((p.singles, p.pairs(), p.pruned), (4, 4, 2));
    // The command says so before running, and runs them all.
    let out = holdtime(&[
        "audit",
        "reference",
        "--depth",
        "2",
        "--only",
        "router_crash",
        "--runs",
        "1",
        "--format",
        "csv",
    ]);
    let err = text(&out.stderr);
    assert!(
        err.contains("5 single failure(s) + 10 unordered pair(s) (0 pair(s) on one element pruned) = 15 failures x 1 runs = 15 runs"),
        "{err}"
    );
    assert!(err.contains("this will take"), "{err}");
    let csv = text(&out.stdout);
    let ranks: std::collections::BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(ranks.len(), 15, "{csv}");
    assert_eq!(
        holdtime(&["audit", "reference", "--depth", "3"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn shards_merge_into_the_whole_audit_whatever_the_jobs() {
    let dir = std::env::temp_dir().join(format!("holdtime-audit-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let base = [
        "audit",
        "single-ce",
        "--only",
        "down,deprovision",
        "--depth",
        "2",
        "--runs",
        "3",
        "--format",
        "json",
    ];
    let whole = holdtime(&[&base[..], &["--jobs", "2"]].concat());
    assert_eq!(whole.status.code(), Some(1), "{}", text(&whole.stderr));
    let one_job = holdtime(&[&base[..], &["--jobs", "1"]].concat());
    assert_eq!(whole.stdout, one_job.stdout, "--jobs changes nothing");
    let mut files = Vec::new();
    for i in 1..=3 {
        let path = dir.join(format!("shard{i}.json"));
        let shard = format!("{i}/3");
        let out = holdtime(
            &[
                &base[..],
                &["--shard", &shard, "--out", path.to_str().expect("utf-8")],
            ]
            .concat(),
        );
        // A shard's verdict is partial: it exits 0.
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        files.push(path.to_string_lossy().into_owned());
    }
    // In any order.
    files.reverse();
    let merged = holdtime(
        &[
            &["merge"][..],
            &files.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    assert_eq!(merged.status.code(), Some(1), "{}", text(&merged.stderr));
    assert_eq!(text(&merged.stdout), text(&whole.stdout));
    // A missing shard is refused.
    let short = holdtime(&["merge", &files[0], &files[1]]);
    assert_eq!(short.status.code(), Some(2));
    assert!(
        text(&short.stderr).contains("missing"),
        "{}",
        text(&short.stderr)
    );
    // The merged result reads back into the same text.
    let r = AuditResult::from_json(&text(&merged.stdout)).expect("reads back");
    let direct = audit(
        &only(
            "single-ce",
            3,
            &[FaultKind::Down, FaultKind::Deprovision],
            2,
        ),
        Exec::new(2),
    )
    .expect("audits");
    assert_eq!(r.to_text(), direct.to_text());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ipv6_without_a_vpn_is_non_redundant_under_the_loss_of_both_links() {
    let r = audit(&only("dual-stack", 2, &[FaultKind::Down], 2), Exec::new(2)).expect("audits");
    let both = "down circuit.primary + down circuit.secondary";
    let nr = r.non_redundant();
    for d in ["onprem_to_vnet_ipv6", "vnet_to_onprem_ipv6"] {
        assert!(
            nr.get(d).is_some_and(|f| f.iter().any(|n| n == both)),
            "{d}\n{}",
            r.to_text()
        );
    }
    // IPv4 has the VPN.
    assert!(!nr.contains_key("onprem_to_vnet"), "{}", r.to_text());
    assert!(
        r.hazards
            .iter()
            .any(|h| h.kind == HazardKind::VpnFamily && h.failure.as_deref() == Some(both)),
        "{}",
        r.to_text()
    );
    assert!(r.to_text().contains("2001:db8:1::/48"), "{}", r.to_text());
    // Neither link alone: each single cut leaves IPv6 a path.
    assert!(
        r.single_points_of_failure()
            .iter()
            .all(|f| f.failure.parts.len() == 2),
        "{}",
        r.to_text()
    );
}

#[test]
fn hazards_asymmetry_and_the_hold_timer() {
    let r = audit(
        &only("asymmetric-routing", 2, &[FaultKind::Down], 1),
        Exec::new(2),
    )
    .expect("audits");
    assert!(
        r.hazards
            .iter()
            .any(|h| h.kind == HazardKind::AsymmetricByDesign
                && h.detail.contains("onprem_to_microsoft")),
        "{}",
        r.to_text()
    );
    // The reference's CEs run no BFD: silent failures rest on the hold timer; with BFD on
    // the CEs (the `bfd` scenario) that hazard is gone.
    let reference =
        audit(&only("reference", 1, &[FaultKind::Silent], 1), Exec::new(2)).expect("audits");
    let held: Vec<&Hazard> = reference
        .hazards
        .iter()
        .filter(|h| h.kind == HazardKind::HoldTimerOnly)
        .collect();
    assert_eq!(held.len(), 2, "{}", reference.to_text());
    assert!(
        held[0]
            .detail
            .contains("measured under `silent circuit.primary`"),
        "{}",
        held[0].detail
    );
    let bfd = audit(&only("bfd", 1, &[FaultKind::Silent], 1), Exec::new(2)).expect("audits");
    assert!(
        bfd.hazards
            .iter()
            .all(|h| h.kind != HazardKind::HoldTimerOnly),
        "{}",
        bfd.to_text()
    );
    // Budgets come from the file's [[expect]] outage maxima without --budget.
    assert!(!reference.budgets.is_empty());
    assert!(
        reference
            .to_text()
            .contains("budget (outage p99): onprem_to_vnet <=")
    );
}

#[test]
fn the_files_own_failures_are_audited_and_bad_ones_located() {
    let dir = std::env::temp_dir().join(format!("holdtime-audit-own-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let own = dir.join("own.toml");
    std::fs::write(
        &own,
        r#"name = "own failures"
topology = "single-ce"
duration = "15m"

[audit]
at = "4m"
defaults = false

[[audit.fault]]
name = "carrier cut of both links"
kind = "down"
target = "circuit"

[[audit.fault]]
kind = "latency"
target = "circuit.primary"
delay = "50ms"
"#,
    )
    .expect("write");
    let r = audit(&spec(own.to_str().expect("utf-8"), 2), Exec::new(2)).expect("audits");
    let names: Vec<&str> = r.failures.iter().map(|f| f.failure.name.as_str()).collect();
    assert_eq!(
        names,
        ["carrier cut of both links", "latency circuit.primary"]
    );
    assert!(r.failures.iter().all(|f| f.failure.own));
    assert_eq!(r.at, sim_core::time::Duration::from_mins(4));
    assert!(r.failures[0].single_point_of_failure(2), "{}", r.to_text());

    let bad = dir.join("bad.toml");
    for (body, line_col, what) in [
        (
            "[audit]\ncolour = \"red\"\n",
            ":5:1:",
            "unknown field `colour`",
        ),
        (
            "[[audit.fault]]\nkind = \"down\"\ntarget = \"circuit.nowhere\"\n",
            ":6:10:",
            "unknown target `circuit.nowhere`",
        ),
        (
            "[[audit.fault]]\nkind = \"down\"\ntarget = \"circuit\"\nat = \"1m\"\n",
            ":7:1:",
            "unknown field `at`",
        ),
        (
            "[[audit.fault]]\nkind = \"restore\"\ntarget = \"circuit\"\n",
            ":5:8:",
            "not one",
        ),
        ("[audit]\nat = \"20m\"\n", ":5:6:", "not before the end"),
    ] {
        std::fs::write(
            &bad,
            format!("name = \"bad\"\ntopology = \"single-ce\"\nduration = \"15m\"\n{body}"),
        )
        .expect("write");
        let out = holdtime(&["audit", bad.to_str().expect("utf-8"), "--runs", "1"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{body}: {err}");
        assert!(
            err.contains(&format!("bad.toml{line_col}")) && err.contains(what),
            "{body}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The page's checks, on the file as written and on the DOM Chromium parsed from it.
fn check_page(html: &str) {
    assert!(html.contains("<h2>Ranked failures</h2>"), "{html}");
    // The crash of the only CE ranks first, open at the end.
    assert!(
        html.contains(
            "<tr class=\"open\"><td class=\"n\">1</td><td><a href=\"#f1\">router_crash ce1</a>"
        ),
        "{html}"
    );
    // The diagram: ce1's crash leaves both directions down to the end (darkest); msee1's
    // crash waits for a hold timer (minutes, within no budget: the file has none); the
    // primary link's carrier cut costs the gateway's minute; the gateway sessions and the
    // gateway fail in no failure of their own.
    assert_eq!(
        attr_of(html, "router", "data-name=\"ce1\"", "data-state"),
        "s5"
    );
    assert_eq!(
        attr_of(html, "router", "data-name=\"msee1\"", "data-state"),
        "s3"
    );
    assert_eq!(
        attr_of(
            html,
            "link",
            "data-name=\"circuit.primary.core\"",
            "data-state"
        ),
        "s3"
    );
    assert_eq!(
        attr_of(
            html,
            "session",
            "data-name=\"circuit.primary.gateway\"",
            "data-state"
        ),
        "none"
    );
    assert_eq!(
        attr_of(html, "router", "data-name=\"ergw\"", "data-state"),
        "none"
    );
    assert!(
        html.contains("<tr data-element=\"ce1\" data-severity=\"s5\">"),
        "{html}"
    );
    // Per failure, its section with the bars and a CDF line per direction.
    for rank in 1..=5 {
        let from = html
            .find(&format!("<section id=\"f{rank}\""))
            .unwrap_or_else(|| panic!("no section {rank}: {html}"));
        let section = &html[from..from + html[from..].find("</section>").expect("closed")];
        assert!(section.contains("<svg class=\"bars\""), "{section}");
        assert!(section.contains("<svg class=\"cdf\""), "{section}");
        assert_eq!(
            section.matches("class=\"cdf-line\"").count(),
            2,
            "{section}"
        );
    }
    // No script at all.
    assert!(!html.contains("<script"), "{html}");
}

#[test]
fn the_html_page_colours_the_design_ranks_and_draws_each_failures_cdf() {
    let dir = std::env::temp_dir().join(format!("holdtime-audit-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let page = dir.join("audit.html");
    let out = holdtime(&[
        "audit",
        "single-ce",
        "--only",
        "router_crash,down",
        "--runs",
        "3",
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).expect("the page is written");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    check_page(&html);
    // A merged JSON draws the same page: the diagram's network travels in the JSON.
    let json = dir.join("audit.json");
    let sharded = |i: u32| {
        let file = dir.join(format!("s{i}.json"));
        let out = holdtime(&[
            "audit",
            "single-ce",
            "--only",
            "router_crash,down",
            "--runs",
            "3",
            "--shard",
            &format!("{i}/2"),
            "--format",
            "json",
            "--out",
            file.to_str().expect("utf-8"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        file
    };
    let (a, b) = (sharded(1), sharded(2));
    let out = holdtime(&[
        "merge",
        a.to_str().expect("utf-8"),
        b.to_str().expect("utf-8"),
        "--format",
        "json",
        "--out",
        json.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let merged = AuditResult::from_json(&std::fs::read_to_string(&json).expect("merged JSON"))
        .expect("an audit");
    assert_eq!(scenarios::sweep::audit_html::page(&merged), html);

    // In a browser: the page parses to the same elements, and shows without a console error.
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium is not installed (.ci/run installs it)"
        );
        eprintln!("skipped: chromium not installed (apt-get install chromium)");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let url = format!("file://{}", page.display());
    let profile = dir.join("profile");
    let d = Command::new(browser)
        .args(CHROMIUM)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=2000", "--dump-dom", &url])
        .output()
        .expect("chromium runs");
    let dom = text(&d.stdout);
    check_page(&dom);
    no_console_errors("dump-dom", &text(&d.stderr));
    let shot = screenshot_dir().join("audit-single-ce.png");
    let s = Command::new(browser)
        .args(CHROMIUM)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args([
            "--virtual-time-budget=2000",
            &format!("--screenshot={}", shot.display()),
            "--window-size=1300,2200",
            &url,
        ])
        .output()
        .expect("chromium runs");
    assert!(shot.is_file(), "no screenshot at {}", shot.display());
    no_console_errors("screenshot", &text(&s.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn graceful_shutdown_is_told_at_once_and_a_disabled_peering_falls_back_to_the_vpn() {
    let r = audit(
        &only(
            "reference",
            3,
            &[
                FaultKind::RouterCrash,
                FaultKind::RouterShutdown,
                FaultKind::PeeringDisabled,
            ],
            1,
        ),
        Exec::new(2),
    )
    .expect("audits");
    let by = |name: &str| {
        r.failures
            .iter()
            .find(|f| f.failure.name == name)
            .unwrap_or_else(|| panic!("{name}: {}", r.to_text()))
    };
    let worst = |name: &str| by(name).worst().map_or(0, |w| w.max_us);
    // Every router that can crash can also be shut down.
    for router in ["ce1", "ce2", "msee1", "msee2", "vpn1"] {
        by(&format!("router_shutdown {router}"));
    }
    // msee1 crashing behind a layer-2 provider: ce1 waits for its hold timer (at least
    // 120 s). Shut down gracefully, msee1's Cease 6/2 reaches ce1 in milliseconds.
    // The histograms count nanoseconds.
    let detect = |name: &str| by(name).summary.hists["detection.ce1"].max();
    assert!(
        detect("router_crash msee1") >= 120_000_000_000,
        "{}",
        r.to_text()
    );
    assert!(
        detect("router_shutdown msee1") < 1_000_000_000,
        "{}",
        r.to_text()
    );
    assert!(
        worst("router_shutdown msee1") < worst("router_crash msee1"),
        "{}",
        r.to_text()
    );
    // Private peering disabled on the only circuit: both sessions close with Cease 6/2 and
    // the VPN carries the traffic; nothing stays down.
    let pd = by("peering_disabled circuit (private peering)");
    assert!(
        pd.directions.iter().all(|d| d.open_runs == 0),
        "{}",
        r.to_text()
    );
    assert!(pd.summary.hists["detection.ce1"].max() < 1_000_000_000);
    // Without a VPN it is a single point of failure.
    let one = audit(
        &only("single-ce", 2, &[FaultKind::PeeringDisabled], 1),
        Exec::new(2),
    )
    .expect("audits");
    assert_eq!(
        one.single_points_of_failure()
            .iter()
            .map(|f| f.failure.name.as_str())
            .collect::<Vec<_>>(),
        ["peering_disabled circuit (private peering)"],
        "{}",
        one.to_text()
    );
    // A peering the circuit does not have is refused where the file names it.
    let dir = std::env::temp_dir().join(format!("holdtime-audit-pd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\ntopology = \"single-ce\"\nduration = \"15m\"\n\n[[fault]]\nat = \"5m\"\nkind = \"peering_disabled\"\ntarget = \"circuit\"\npeering = \"microsoft\"\n",
    )
    .expect("write");
    let out = holdtime(&["check", bad.to_str().expect("utf-8")]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml:9:11:")
            && err.contains("circuit `circuit` has no microsoft peering"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn depth_two_prunes_only_pairs_that_are_provably_the_same_runs() {
    // Ten single failures (a crash and a graceful shutdown of each of five routers):
    // C(10, 2) = 45 unordered pairs, of which the 5 that crash and shut down one router act
    // on one element: 40 are run.
    let p = plan(&only(
        "reference",
        1,
        &[FaultKind::RouterCrash, FaultKind::RouterShutdown],
        2,
    ))
    .expect("plans");
    assert_eq!(
        (p.singles, p.pairs(), p.pruned, p.identical),
        (10, 40, 5, 0)
    );
    // Failures of the file's own that resolve to generated ones: `street cut` is `silent
    // circuit.primary` under another name, and `msee1 maintained` acts on the link
    // `circuit.primary` too (msee1 ends it). Of C(4, 2) = 6 pairs: three act on one element
    // (primary with street cut, primary with msee1 maintained, street cut with msee1
    // maintained), and {secondary, street cut} gives the simulator exactly the faults of
    // {primary, secondary}: 2 are run.
    let dir = std::env::temp_dir().join(format!("holdtime-audit-prune-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let own = dir.join("own.toml");
    std::fs::write(
        &own,
        r#"name = "pruning"
topology = "single-ce"
duration = "15m"

[audit]
only = ["silent"]

[[audit.fault]]
name = "street cut"
kind = "silent"
target = "circuit.primary"

[[audit.fault]]
name = "msee1 maintained"
kind = "msee_maintenance"
target = "msee1"
"#,
    )
    .expect("write");
    let p = plan(&AuditSpec {
        depth: 2,
        ..spec(own.to_str().expect("utf-8"), 1)
    })
    .expect("plans");
    let pairs: Vec<&str> = p.failures[p.singles..]
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        pairs,
        [
            "silent circuit.primary + silent circuit.secondary",
            "silent circuit.secondary + msee1 maintained"
        ]
    );
    assert_eq!((p.singles, p.pruned, p.identical), (4, 3, 1));
    assert!(
        p.describe(1)
            .contains("(3 pair(s) on one element pruned, 1 identical to an earlier pair)"),
        "{}",
        p.describe(1)
    );
    let _ = std::fs::remove_dir_all(&dir);
    // Mirror images are not pruned: the model is not mirror-symmetric run by run (the
    // on-premises ECMP hash puts 5 of 8 flows on ce1, and each router's timers draw from
    // its own seeded stream), so the two links' silent cuts measure differently on the same
    // seeds. Both mirror-image pairs are planned.
    let r = audit(&only("reference", 4, &[FaultKind::Silent], 1), Exec::new(2)).expect("audits");
    let hist = |name: &str, d: &str| {
        r.failures
            .iter()
            .find(|f| f.failure.name == name)
            .map(|f| f.summary.hists[&format!("outage.{d}")].cdf())
            .expect("measured")
    };
    assert_ne!(
        hist("silent circuit.primary", "onprem_to_vnet"),
        hist("silent circuit.secondary", "onprem_to_vnet"),
        "{}",
        r.to_text()
    );
    let p = plan(&only(
        "reference",
        1,
        &[FaultKind::Silent, FaultKind::RouterCrash],
        2,
    ))
    .expect("plans");
    let names: Vec<&str> = p.failures.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"silent circuit.primary + router_crash ce2"));
    assert!(names.contains(&"silent circuit.secondary + router_crash ce1"));
}

/// A network of the general form has failures of its own: every `[[link]]` silent, down and
/// lossy, every `[[router]]` crashing and shut down. The triangle (a, b, c pairwise linked,
/// hosts behind a and b): a silent a-b waits for the 9 s hold timer, a lost carrier costs
/// FRR's 70 ms install, the links through c cost nothing, and a and b, each the only router
/// of its hosts, are single points of failure; c is not.
#[test]
fn a_general_form_network_is_audited_link_by_link_and_router_by_router() {
    let p = plan(&spec("triangle", 1)).expect("plans");
    let mut names: Vec<&str> = p.failures.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    let mut want = Vec::new();
    for link in ["a-b", "b-c", "c-a"] {
        for kind in ["down", "loss", "silent"] {
            want.push(format!("{kind} {link}"));
        }
    }
    for router in ["a", "b", "c"] {
        want.push(format!("router_crash {router}"));
        want.push(format!("router_shutdown {router}"));
    }
    want.sort_unstable();
    assert_eq!(names, want.iter().map(String::as_str).collect::<Vec<_>>());

    let r = audit(&spec("triangle", 3), Exec::new(2)).expect("audits");
    let by = |name: &str| {
        r.failures
            .iter()
            .find(|f| f.failure.name == name)
            .unwrap_or_else(|| panic!("{name}: {}", r.to_text()))
    };
    let worst = |name: &str| by(name).worst().map_or((0, 0), |w| (w.max_us, w.open_runs));
    // 70 ms, as the histogram (three significant digits) keeps it.
    let (down, open) = worst("down a-b");
    assert!(
        open == 0 && (70_000..70_100).contains(&down),
        "{}",
        r.to_text()
    );
    let (silent, open) = worst("silent a-b");
    assert!(
        open == 0 && silent > 6_000_000 && silent <= 9_100_000,
        "{}",
        r.to_text()
    );
    for quiet in ["down b-c", "silent c-a", "loss b-c", "router_crash c"] {
        assert_eq!(worst(quiet), (0, 0), "{quiet}: {}", r.to_text());
    }
    let mut spof: Vec<&str> = r
        .single_points_of_failure()
        .iter()
        .map(|f| f.failure.name.as_str())
        .collect();
    spof.sort_unstable();
    assert_eq!(
        spof,
        [
            "router_crash a",
            "router_crash b",
            "router_shutdown a",
            "router_shutdown b"
        ]
    );
    let text = r.to_text();
    assert!(
        text.contains("a_to_b (10.2.0.0/16): router_crash a"),
        "{text}"
    );
}

#[test]
fn a_csp_network_is_audited_tenant_by_tenant_and_the_shared_edge_fails_as_one_box() {
    let cheap = AuditSpec {
        skip: vec![FaultKind::PrefixFlood, FaultKind::Loss],
        ..spec("csp-connect-through", 1)
    };
    let r = audit(&cheap, Exec::new(2)).expect("audits");
    let spofs: Vec<&str> = r
        .single_points_of_failure()
        .iter()
        .map(|f| f.failure.name.as_str())
        .collect();
    // A tenant with one circuit has nothing else: losing it is a single point of failure for
    // that tenant; t3 has two circuits.
    assert!(spofs.contains(&"deprovision t1-circuit"), "{spofs:?}");
    assert!(spofs.contains(&"deprovision t2-circuit"), "{spofs:?}");
    assert!(!spofs.iter().any(|s| s.contains("t3-circuit")), "{spofs:?}");
    let outage = |failure: &str, direction: &str| {
        let f = r
            .failures
            .iter()
            .find(|f| f.failure.name == failure)
            .unwrap_or_else(|| panic!("{failure} audited"));
        f.directions
            .iter()
            .find(|d| d.direction == direction)
            .map_or(0, |d| d.max_us)
    };
    // A crash of t1's VRF on edge1 is a crash of edge1: t3's flows over its primary links are
    // hit too (until its MSEEs' hold timers); losing t1's circuit is t1's loss alone.
    assert!(
        outage("router_crash edge1-t1", "t3-vnet_to_t3") > 0,
        "{}",
        r.to_text()
    );
    assert!(outage("deprovision t1-circuit", "t1-vnet_to_t1") > 0);
    for d in [
        "t2-vnet_to_t2",
        "t2_to_t2-vnet",
        "t3-vnet_to_t3",
        "t3_to_t3-vnet",
    ] {
        assert_eq!(outage("deprovision t1-circuit", d), 0, "{d}");
    }
}
