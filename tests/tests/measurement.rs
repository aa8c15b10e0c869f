//! The measurement model of issue 13, end to end: every number a report prints or an
//! `[[expect]]` checks means what it says.
//!
//! Each test names the defect of the issue's list it would have caught on the code before the
//! measurement model (`scenarios/src/sim/measure.rs`) landed:
//!
//! 1. a network that never works reports no loss;
//! 2. path lines and `[[expect]] path` describe flow 0 as if it were the whole direction;
//! 3. load sharing is hard-wired (`maximum_paths` on the CEs; four-circuits spreads over every
//!    link; an active-active VPN uses both tunnels);
//! 4. detection and convergence are measured from different faults;
//! 5. an outage still open at the end is reported as a finished one;
//! 6. a sweep's `detection` is the earliest detection of any router;
//! 7. bursty loss counted per packet (not measured here);
//! 8. input that should be refused (not measured here);
//! 9. the detection table of a run with no fault prints "after 0s".
//!
//! The command line is driven in process through `scenarios::cli::main`, the function the
//! `holdtime` binary calls after parsing its arguments: same output, same exit codes, and no
//! dependency on where cargo put the binary of another package.

use scenarios::report::{Detection, DownCause, Observation, PathChange, RunReport, TimelineEvent};
use scenarios::scenario::{Metric, Scenario};
use scenarios::spec::Via;
use scenarios::sweep::histogram::{Hist, Unit};
use scenarios::sweep::{self, Sample, SweepResult};
use scenarios::units::Quantity;
use sim_core::time::{Duration, Instant};

mod support;
use support::*;

fn path_str(p: &std::path::Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

fn json(text: &str) -> serde_json::Value {
    match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}):\n{text}"),
    }
}

/// The metric a sweep records as `name` (`detection.ce1`, `convergence.ergw`, ...).
fn metric(sc: &Scenario, name: &str) -> Metric {
    sweep::metrics(sc)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, m)| m)
        .unwrap_or_else(|| panic!("{}: no metric {name}", sc.name))
}

fn duration_value(o: Observation) -> Duration {
    match o {
        Observation::Value {
            q: Quantity::Duration(d),
            ..
        } => d,
        other => panic!("expected a duration, got {other:?}"),
    }
}

/// One circuit from a layer-2 provider with private peering, two CEs, and no VPN: when the
/// circuit does not carry traffic, nothing does. `{state}` is the provider state.
fn no_vpn_topology(state: &str) -> String {
    format!(
        r#"
[topology]
customer_asn = 65001
ce_routers = 2
provider = "layer2"
onprem_prefixes = ["10.1.0.0/16"]

[[topology.circuit]]
name = "circuit"
bandwidth = "1Gbps"
provider_state = "{state}"

[[topology.circuit.peering]]
kind = "private"
primary_subnet = "192.168.100.0/30"
secondary_subnet = "192.168.100.4/30"
vlan = 100

[[topology.vnet]]
name = "vnet"
prefixes = ["10.10.0.0/16"]
"#
    )
}

/// The distribution of `dir` in force just before `t` and the last one recorded at `t`.
fn paths_around<'a>(r: &'a RunReport, dir: &str, t: Instant) -> (&'a PathChange, &'a PathChange) {
    let before = r
        .paths
        .iter()
        .rfind(|p| p.direction == dir && p.at < t)
        .unwrap_or_else(|| panic!("{dir}: no path before {t}"));
    let at = r
        .paths
        .iter()
        .rfind(|p| p.direction == dir && p.at == t)
        .unwrap_or_else(|| panic!("{dir}: no path change at {t}"));
    (before, at)
}

fn flows_on_link(p: &PathChange, link: &str) -> u32 {
    p.via
        .iter()
        .filter(|s| s.link.as_deref() == Some(link))
        .map(|s| s.flows)
        .sum()
}

/// Defect 1 (a network that never works reports no loss): loss was counted only after a
/// flow's first delivery, so a circuit that never came up passed `no_loss` and `outage max
/// = "0s"`. Now the window opens at the start-up limit and both directions are never
/// reachable: `check` exits 1 saying so, the text and JSON reports say so, and every probe
/// sent inside the window is lost.
#[test]
fn never_working_network_fails_no_loss_and_outage_as_never_reachable() {
    let text = format!(
        r#"
name = "never works: circuit not provisioned, no VPN"
duration = "7m"
{}
[[probe]]
from = "onprem"
to = "vnet"
interval = "1s"

[[expect]]
no_loss = "onprem_to_vnet"

[[expect]]
metric = "outage.vnet_to_onprem"
max = "0s"
"#,
        no_vpn_topology("NotProvisioned")
    );
    let file = write_temp("never-works.toml", &text);
    let file = path_str(&file);

    let check = holdtime(&["check", file]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    let fails: Vec<&str> = check
        .stdout
        .lines()
        .filter(|l| l.contains(": FAIL "))
        .collect();
    assert_eq!(fails.len(), 2, "{}", check.stdout);
    assert!(
        fails[0].contains("no loss onprem_to_vnet") && fails[0].contains("never reachable"),
        "{}",
        check.stdout
    );
    assert!(
        fails[1].contains("outage.vnet_to_onprem") && fails[1].contains("never reachable"),
        "{}",
        check.stdout
    );
    assert!(!check.stdout.contains("PASS"), "{}", check.stdout);

    let run_text = holdtime(&["run", file]);
    assert_eq!(run_text.code, 0, "{}", run_text.stderr);
    for dir in ["onprem_to_vnet", "vnet_to_onprem"] {
        assert!(
            run_text
                .stdout
                .lines()
                .any(|l| l.contains(dir) && l.contains("never reachable")),
            "{dir}:\n{}",
            run_text.stdout
        );
    }

    let run_json = holdtime(&["run", file, "--format", "json"]);
    assert_eq!(run_json.code, 0, "{}", run_json.stderr);
    let v = json(&run_json.stdout);
    let dirs = v["directions"].as_array().expect("directions");
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    for d in dirs {
        assert_eq!(d["never_reachable"], true, "{d}");
    }
    // No fault, and never every flow delivered: the window opens at the start-up limit,
    // here half of the 7-minute run (shorter than 5 minutes).
    assert_eq!(
        v["window"]["from_ns"], 210_000_000_000_u64,
        "{}",
        v["window"]
    );
    assert_eq!(v["window"]["opened_by"], "startup_limit", "{}", v["window"]);
    let probes = v["probes"].as_array().expect("probes");
    assert_eq!(probes.len(), 2, "{probes:?}");
    for p in probes {
        // From 3m30s to 7m: 210 probes at 1 s, all lost.
        assert_eq!(p["sent"], 210, "{p}");
        assert_eq!(p["lost"], p["sent"], "{p}");
    }
}

/// Defect 1 again, for a direction that does recover: without a VPN, VNet to on-premises
/// has no path until the ExpressRoute gateway programs the on-premises route (60 s after it
/// learns it). Measured from `measure_from = "10s"`, the flow is in outage from exactly 10 s
/// (the old code counted nothing before a flow's first delivery) to the instant the gateway
/// converges and the path line shows the flow delivered.
#[test]
fn direction_down_at_window_start_is_in_outage_from_the_window_start() {
    let text = format!(
        r#"
name = "no VPN: VNet to on-premises waits for the gateway's programming"
duration = "2m"
measure_from = "10s"
{}
[[probe]]
from = "onprem"
to = "vnet"
interval = "1s"
"#,
        no_vpn_topology("Provisioned")
    );
    let sc = load_text("late-start.toml", &text);
    let r = run_seed(&sc, sc.seed);
    let from = at(10);
    assert_eq!(r.window.from, from, "{:?}", r.window);
    assert_eq!(
        r.window.opened_by,
        scenarios::report::WindowStart::MeasureFrom
    );

    // The instant the gateway's programming lands, and the path line that shows it.
    let converged = r
        .timeline
        .iter()
        .find(|e| matches!(e.event, TimelineEvent::GatewayConverged { .. }))
        .map(|e| e.at)
        .expect("the gateway converges");
    assert!(
        converged > from,
        "converged at {converged}, before the window"
    );
    let delivered = r
        .paths
        .iter()
        .find(|p| p.direction == "vnet_to_onprem" && p.lost == 0)
        .expect("vnet_to_onprem is delivered at last");
    assert_eq!(delivered.at, converged);

    let outages: Vec<_> = r
        .outages
        .iter()
        .filter(|o| o.direction == "vnet_to_onprem")
        .collect();
    assert_eq!(outages.len(), 1, "{outages:?}");
    let o = outages[0];
    assert_eq!(o.start, from, "the outage starts at the window's start");
    assert_eq!(
        o.end,
        Some(converged),
        "and ends when the route is programmed"
    );
    assert!(!o.open);
    assert_eq!(o.duration, converged - from);
    assert_eq!(o.episode, None, "no fault: no episode");

    // On-premises to VNet was delivered long before 10 s (the CEs learn the VNet within
    // milliseconds): no outage.
    assert!(
        r.outages.iter().all(|o| o.direction == "vnet_to_onprem"),
        "{:?}",
        r.outages
    );
    let d = r.direction("vnet_to_onprem").expect("direction");
    assert!(!d.never_reachable);
    assert_eq!(
        (d.flows_hit, d.longest, d.open_flows),
        (1, converged - from, 0)
    );
    // Probes at 10 s, 11 s, ... up to the last one before the route arrives.
    let lost = r
        .probes
        .iter()
        .find(|p| p.direction == "vnet_to_onprem")
        .expect("probes")
        .lost;
    let expected = (converged - from).as_nanos().div_ceil(1_000_000_000);
    assert_eq!(lost, expected);
}

/// Defect 4 (detection and convergence measured from different faults): the convergence of
/// the second episode was counted from the first fault (11 minutes instead of one). Two
/// `down` faults ten minutes apart, each line checked against hand-computed values:
///
/// - a `down` of a whole link removes carrier at both ends: the CE and the MSEE of that link
///   detect at the fault's instant (after 0 s), each in its own episode;
/// - the MSEE withdraws at once, its withdrawal reaches the ExpressRoute gateway after the
///   MSEE-gateway delay (500 µs), and the gateway programs it 60 s later
///   (`convergence_delay`): the gateway converges 60.0005 s after *each* fault, and the
///   flows it had hashed onto the failed link are lost for exactly that long;
/// - episode 1: on-premises to VNet loses nothing (ce1 switches to ce2 at the fault's
///   instant); episode 2: both CEs lose the VNet and get the VPN's route from vpn1, two
///   iBGP hops later (each 2 × 100 µs of on-premises LAN): 400 µs.
#[test]
fn two_faults_ten_minutes_apart_are_measured_each_from_its_own_fault() {
    let text = r#"
name = "two links fail ten minutes apart"
topology = "expressroute-vpn-failover"
duration = "25m"
seed = 1

[[fault]]
at = "5m"
kind = "down"
target = "circuit.primary"

[[fault]]
at = "15m"
kind = "down"
target = "circuit.secondary"

[[probe]]
from = "onprem"
to = "vnet"
flows = 4
"#;
    let sc = load_text("two-faults.toml", text);
    let r = run_seed(&sc, sc.seed);
    let (f1, f2) = (at(300), at(900));
    let episodes: Vec<(u32, Instant, &str)> = r
        .episodes
        .iter()
        .map(|e| (e.index, e.at, e.label.as_str()))
        .collect();
    assert_eq!(
        episodes,
        vec![
            (1, f1, "down on circuit.primary"),
            (2, f2, "down on circuit.secondary"),
        ]
    );

    // Detection: carrier loss at both ends of each link, after 0 s, each in its episode.
    let carrier = |session: &str, router: &str, at: Instant, episode: u32| Detection {
        session: session.to_owned(),
        router: router.to_owned(),
        at,
        episode: Some(episode),
        after_fault: Some(Duration::ZERO),
        cause: DownCause::Carrier,
    };
    let mut detections = r.detections.clone();
    detections.sort_unstable_by(|a, b| (&a.session, &a.router).cmp(&(&b.session, &b.router)));
    assert_eq!(
        detections,
        vec![
            carrier("circuit.primary.private", "ce1", f1, 1),
            carrier("circuit.primary.private", "msee1", f1, 1),
            carrier("circuit.secondary.private", "ce2", f2, 2),
            carrier("circuit.secondary.private", "msee2", f2, 2),
        ]
    );

    // Convergence of the ExpressRoute gateway: 500 µs + 60 s after each fault.
    let gateway = Duration::from_secs(60) + Duration::from_micros(500);
    let ergw: Vec<(u32, Instant, Duration)> = r
        .convergence
        .iter()
        .filter(|c| c.router == "ergw")
        .map(|c| (c.episode, c.at, c.after_fault))
        .collect();
    assert_eq!(
        ergw,
        vec![(1, f1 + gateway, gateway), (2, f2 + gateway, gateway)]
    );
    // The same through `observe` (what `[[expect]]` and sweeps use), per episode and over
    // the run (the longest of the episodes, not 11 minutes from the first fault).
    let conv = metric(&sc, "convergence.ergw");
    for e in [Some(1), Some(2), None] {
        assert_eq!(duration_value(r.observe(&sc, &conv, e)), gateway, "{e:?}");
    }
    let det = metric(&sc, "detection.ce2");
    assert_eq!(
        r.observe(&sc, &det, None),
        Observation::Value {
            q: Quantity::Duration(Duration::ZERO),
            open: false,
            episode: Some(2),
        }
    );
    assert_eq!(
        r.observe(&sc, &det, Some(1)),
        Observation::NotObserved,
        "ce2 detects nothing in episode 1"
    );
    let sample = Sample::of(&r, &sc, &sweep::metrics(&sc));
    let got = |name: &str| sample.get(name).map(duration_value);
    assert_eq!(got("episode1.convergence.ergw"), Some(gateway));
    assert_eq!(got("episode2.convergence.ergw"), Some(gateway));
    assert_eq!(got("episode1.detection.msee1"), Some(Duration::ZERO));
    assert_eq!(got("episode2.detection.msee2"), Some(Duration::ZERO));

    // Outages, per flow, each in its episode.
    let (before, _) = paths_around(&r, "vnet_to_onprem", f1);
    let on_primary = flows_on_link(before, "circuit.primary");
    assert!(
        on_primary > 0 && on_primary < 4,
        "the gateway spreads the 4 flows over both links: {before:?}"
    );
    let outages = |dir: &str, ep: u32| -> Vec<(Instant, Option<Instant>, Duration)> {
        r.outages
            .iter()
            .filter(|o| o.direction == dir && o.episode == Some(ep))
            .map(|o| (o.start, o.end, o.duration))
            .collect()
    };
    let ep1 = outages("vnet_to_onprem", 1);
    assert_eq!(ep1.len(), on_primary as usize, "{:?}", r.outages);
    assert!(
        ep1.iter().all(|o| *o == (f1, Some(f1 + gateway), gateway)),
        "{ep1:?}"
    );
    let ep2 = outages("vnet_to_onprem", 2);
    assert_eq!(ep2, vec![(f2, Some(f2 + gateway), gateway); 4]);
    assert_eq!(outages("onprem_to_vnet", 1), vec![]);
    let vpn = Duration::from_micros(400);
    assert_eq!(
        outages("onprem_to_vnet", 2),
        vec![(f2, Some(f2 + vpn), vpn); 4]
    );
    assert!(
        r.outages.iter().all(|o| o.episode.is_some()),
        "{:?}",
        r.outages
    );

    let d = r.direction("vnet_to_onprem").expect("direction");
    let per_episode: Vec<(u32, u32, Duration, Option<Duration>)> = d
        .episodes
        .iter()
        .map(|e| (e.episode, e.flows_hit, e.longest, e.restored_after))
        .collect();
    assert_eq!(
        per_episode,
        vec![
            (1, on_primary, gateway, Some(gateway)),
            (2, 4, gateway, Some(gateway)),
        ]
    );
    let outage = metric(&sc, "outage.onprem_to_vnet");
    assert_eq!(duration_value(r.observe(&sc, &outage, Some(2))), vpn);
    assert_eq!(
        duration_value(r.observe(&sc, &outage, Some(1))),
        Duration::ZERO
    );

    // The text says which fault each line is measured from.
    let text = r.to_text();
    assert!(
        text.contains("episodes (each measured from its fault)"),
        "{text}"
    );
    let conv_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("ergw "))
        .collect();
    assert_eq!(
        conv_lines.len(),
        2,
        "one convergence line per episode:\n{text}"
    );
    assert!(
        conv_lines[0].ends_with("1m0.001s after down on circuit.primary at 300.000s"),
        "{text}"
    );
    assert!(
        conv_lines[1].ends_with("1m0.001s after down on circuit.secondary at 900.000s"),
        "{text}"
    );
    assert!(
        text.contains(
            "episode 2 (down on circuit.secondary at 900.000s): vnet_to_onprem longest 1m0.001s, flows 4, all back 1m0.001s after the fault"
        ),
        "{text}"
    );
}

/// Defect 5 (an outage still open at the end reported as a finished one): without a VPN,
/// a `down` of the whole circuit two minutes before the end leaves both directions down.
/// The outage is open in the text (`still down at the end of the run`), in JSON (`"open":
/// true`, `end: null`, `open_flows`), in the sweep's CSV (`.open`), text and JSON (`open`
/// counts); `[[expect]]` on it fails, and passes with `allow_open = true`.
#[test]
fn outage_open_at_the_end_is_flagged_everywhere_and_fails_expectations() {
    let base = format!(
        r#"
name = "no VPN: the circuit goes down for good"
duration = "4m"
{}
[[probe]]
from = "onprem"
to = "vnet"

[[fault]]
at = "2m"
kind = "down"
target = "circuit"
"#,
        no_vpn_topology("Provisioned")
    );
    let expect = "\n[[expect]]\nmetric = \"outage.onprem_to_vnet\"\nmax = \"10m\"\n";
    let strict = write_temp("open-strict.toml", &format!("{base}{expect}"));
    let allowed = write_temp(
        "open-allowed.toml",
        &format!("{base}{expect}allow_open = true\n"),
    );
    let strict = path_str(&strict);

    // [[expect]]: 2 minutes is under 10 minutes, but the outage has not ended.
    let check = holdtime(&["check", strict]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check
            .stdout
            .contains("FAIL outage.onprem_to_vnet <= 10m  (measured: still down at the end of the run, 2m so far)"),
        "{}",
        check.stdout
    );
    let check = holdtime(&["check", path_str(&allowed)]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("PASS") && check.stdout.contains("(still open at the end)"),
        "{}",
        check.stdout
    );

    // Text report.
    let out = holdtime(&["run", strict]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for dir in ["onprem_to_vnet", "vnet_to_onprem"] {
        assert!(
            out.stdout.lines().any(|l| l.contains(dir)
                && l.contains("1 still down at the end of the run (the longest: 2m so far)")),
            "{dir}:\n{}",
            out.stdout
        );
    }

    // JSON report.
    let out = holdtime(&["run", strict, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = json(&out.stdout);
    let outages = v["outages"].as_array().expect("outages");
    assert_eq!(outages.len(), 2, "{outages:?}");
    for o in outages {
        assert_eq!(o["open"], true, "{o}");
        assert!(o["end_ns"].is_null(), "{o}");
        assert_eq!(o["duration_ns"], 120_000_000_000_u64, "{o}");
    }
    for d in v["directions"].as_array().expect("directions") {
        assert_eq!(d["open_flows"], 1, "{d}");
        assert_eq!(d["longest_open"], true, "{d}");
        assert_eq!(d["never_reachable"], false, "{d}");
        assert_eq!(d["episodes"][0]["open_flows"], 1, "{d}");
        assert!(d["episodes"][0]["restored_after_ns"].is_null(), "{d}");
    }

    // Sweeps: every run is censored.
    let m = "outage.onprem_to_vnet";
    let sweep_args = |format: &'static str| {
        vec![
            "sweep", strict, "--runs", "2", "--jobs", "1", "--metric", m, "--format", format,
        ]
    };
    let csv = holdtime(&sweep_args("csv"));
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let mut lines = csv.stdout.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let row: Vec<&str> = lines.next().expect("a row").split(',').collect();
    let col = |name: &str| {
        let i = header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}: {header:?}"));
        row[i]
    };
    assert_eq!(col(&format!("{m}.runs")), "2", "{}", csv.stdout);
    assert_eq!(col(&format!("{m}.open")), "2", "{}", csv.stdout);
    assert_eq!(col(&format!("{m}.none")), "0", "{}", csv.stdout);

    let text = holdtime(&sweep_args("text"));
    assert_eq!(text.code, 0, "{}", text.stderr);
    let line = text
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(m))
        .unwrap_or_else(|| panic!("no row {m}:\n{}", text.stdout));
    let cols: Vec<&str> = line.split_whitespace().collect();
    // metric, 4 quantiles, max, runs, open, none.
    assert_eq!(cols.len(), 9, "{line}");
    assert_eq!(&cols[6..], ["2", "2", "0"], "{line}");
    assert!(
        text.stdout
            .contains("open: runs still down at the end; their length so far is in the quantiles (a lower bound)"),
        "{}",
        text.stdout
    );

    let j = holdtime(&sweep_args("json"));
    assert_eq!(j.code, 0, "{}", j.stderr);
    let v = json(&j.stdout);
    let point = &v["points"][0];
    assert_eq!(point["open"][m], 2, "{point}");
    assert_eq!(point["open"]["outage.vnet_to_onprem"], 2, "{point}");
    assert_eq!(point["histograms"][m]["count"], 2, "{point}");
}

/// Defect 2 (path lines described flow 0 only: "traffic vnet_to_onprem now via None" while
/// 11 of 32 flows were hit) in `four-circuits`: at the silent cut of circuit1.primary, the
/// path line of each direction counts the flows lost, and that count is exactly the number
/// of flows the distribution just before had on the cut link, which is also the number of
/// flows with an outage in the episode. The other links keep their flows.
#[test]
fn four_circuits_loses_exactly_the_flows_on_the_cut_link() {
    let sc = library("four-circuits");
    let r = run_seed(&sc, sc.seed);
    let fault = r.episodes.first().expect("one episode").at;
    assert_eq!(fault, at(300));
    let cut = "circuit1.primary";
    let text = r.to_text();
    for dir in ["onprem_to_vnet", "vnet_to_onprem"] {
        let (before, at) = paths_around(&r, dir, fault);
        assert_eq!(
            before.lost, 0,
            "{dir}: every flow delivered before the fault"
        );
        let on_cut = flows_on_link(before, cut);
        assert!(
            on_cut > 0,
            "{dir}: no flow on {cut} before the fault: {before:?}"
        );
        assert_eq!(
            at.lost, on_cut,
            "{dir}: lost at the fault vs on {cut} before"
        );
        assert_eq!(flows_on_link(at, cut), 0, "{dir}: {at:?}");
        // Every other link keeps what it carried.
        for s in &before.via {
            let link = s.link.as_deref().unwrap_or("");
            if link != cut {
                assert_eq!(flows_on_link(at, link), s.flows, "{dir} on {link}: {at:?}");
            }
        }
        // The same flows have an outage that starts at the fault, in episode 1.
        let hit: std::collections::BTreeSet<u32> = r
            .outages
            .iter()
            .filter(|o| o.direction == dir && o.start == fault && o.episode == Some(1))
            .map(|o| o.flow)
            .collect();
        assert_eq!(hit.len(), on_cut as usize, "{dir}: {:?}", r.outages);
        let d = r.direction(dir).expect("direction");
        assert_eq!((d.flows, d.flows_hit), (32, on_cut), "{dir}");
        // The timeline line at the fault names the distribution and the lost flows.
        let line = format!(
            "{:>12}  {:<8} traffic {dir}: {} of 32 flows via expressroute (",
            fault.to_string(),
            "-",
            32 - on_cut
        );
        let found = text
            .lines()
            .find(|l| l.starts_with(&format!("  {line}")))
            .unwrap_or_else(|| panic!("{dir}: no line `{line}`:\n{text}"));
        assert!(found.ends_with(&format!("), {on_cut} lost")), "{found}");
        assert!(!found.contains(cut), "{found}");
    }
}

/// Defect 3 (load sharing hard-wired: `four-circuits` says the gateway spreads flows over all
/// four circuits, yet only circuit1 and circuit2 carried traffic): with the gateway's eight
/// paths and `maximum_paths = 4` on the CEs, every one of the eight links carries flows in
/// both directions before the fault.
#[test]
fn four_circuits_every_link_carries_flows_before_the_fault() {
    let sc = library("four-circuits");
    let r = run_seed(&sc, sc.seed);
    let fault = r.episodes.first().expect("one episode").at;
    for dir in ["onprem_to_vnet", "vnet_to_onprem"] {
        let (before, _) = paths_around(&r, dir, fault);
        for c in 1..=4 {
            for side in ["primary", "secondary"] {
                let link = format!("circuit{c}.{side}");
                assert!(
                    flows_on_link(before, &link) > 0,
                    "{dir}: no flow on {link} before the fault: {before:?}"
                );
            }
        }
    }
}

/// Defect 6 (a sweep's `detection` was the earliest detection of any router, unlabelled):
/// `sweep --metric detection.ce1` must be ce1's detection, run for run. Three ways to the
/// same numbers for runs 0..20 of `reference`: `holdtime run --seed S --format json` (ce1's
/// first detection in an episode, from the episode's start), `RunReport::observe` of
/// `scenarios::run`, and the samples the sweep itself records (`run_samples`); the sweep's
/// JSON histogram is the histogram of those values, bit for bit. In some of these runs msee1
/// detects before ce1, so "the earliest of any router" would differ.
#[test]
fn sweep_detection_ce1_equals_each_runs_ce1_detection() {
    const RUNS: u64 = 20;
    let sc = library("reference");
    let det_ce1 = metric(&sc, "detection.ce1");
    let det_msee1 = metric(&sc, "detection.msee1");
    let mut per_run = Vec::new();
    let mut msee1_first = 0;
    for r in 0..RUNS {
        let seed = sweep::run_seed(sc.seed, r);
        let report = run_seed(&sc, seed);
        let ce1 = duration_value(report.observe(&sc, &det_ce1, None));
        let msee1 = duration_value(report.observe(&sc, &det_msee1, None));
        msee1_first += u32::from(msee1 < ce1);

        let out = holdtime(&[
            "run",
            "reference",
            "--seed",
            &seed.to_string(),
            "--format",
            "json",
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let v = json(&out.stdout);
        let d = v["detections"]
            .as_array()
            .expect("detections")
            .iter()
            .find(|d| d["router"] == "ce1" && !d["episode"].is_null())
            .unwrap_or_else(|| panic!("seed {seed}: ce1 never detects"));
        let ep = d["episode"].as_u64().expect("episode number");
        let start = v["episodes"][usize::try_from(ep - 1).expect("small")]["at_ns"]
            .as_u64()
            .expect("episode start");
        let at = d["at_ns"].as_u64().expect("at_ns");
        let after = Duration::from_nanos(d["after_fault_ns"].as_u64().expect("after_fault_ns"));
        assert_eq!(after, Duration::from_nanos(at - start), "seed {seed}");
        assert_eq!(after, ce1, "seed {seed}: CLI JSON vs observe");
        per_run.push(ce1);
    }
    assert!(
        msee1_first > 0 && msee1_first < 20,
        "msee1 detected first in {msee1_first} of {RUNS} runs: the test would not tell ce1 from the earliest"
    );

    // The samples the sweep records (`Sample::of` over the sweep's metrics, from the forked
    // runs a sweep makes with `Prepared`), run by run.
    let names = sweep::metrics(&sc);
    let prepared = scenarios::Prepared::new(&sc).expect("start-up runs");
    let seen: Vec<Duration> = (0..RUNS)
        .map(|r| {
            let report = prepared.run(sweep::run_seed(sc.seed, r)).expect("runs");
            let s = Sample::of(&report, &sc, &names);
            s.get("detection.ce1")
                .map(duration_value)
                .expect("every run has detection.ce1")
        })
        .collect();
    assert_eq!(seen, per_run);

    // The command line's JSON histogram is exactly the histogram of the per-run values.
    let out = holdtime(&[
        "sweep",
        "reference",
        "--runs",
        "20",
        "--jobs",
        "1",
        "--metric",
        "detection.ce1",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let result = SweepResult::from_json(&out.stdout).expect("a sweep result");
    let point = &result.points[0];
    let hist = point.hists.get("detection.ce1").expect("histogram");
    let mut mine = Hist::new(Unit::Ns);
    for d in &per_run {
        mine.record_duration(*d);
    }
    assert_eq!(hist.len(), RUNS);
    assert_eq!(
        hist.to_base64().expect("encodes"),
        mine.to_base64().expect("encodes")
    );
    assert_eq!(point.open.get("detection.ce1"), None);
    assert_eq!(point.missing.get("detection.ce1"), None);
}

/// Defect 9 (the detection table of a run with no fault printed "after 0s"): 40 % loss on
/// the primary link with a 10 s hold time resets its session with no fault at all. Those
/// detections belong to no episode: JSON `episode` and `after_fault` are null, the text's
/// `after` column is `-` with "(before any fault)", and no metric counts them.
#[test]
fn detections_without_a_fault_have_no_episode_and_no_after() {
    let text = r#"
name = "no fault: a very lossy link"
topology = "expressroute-vpn-failover"
duration = "3m"

[bgp]
hold_time = "10s"

[[link]]
target = "circuit.primary"
loss = 0.4
"#;
    let file = write_temp("no-fault.toml", text);
    let file = path_str(&file);

    let out = holdtime(&["run", file]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let table: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("detection"))
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(!table.is_empty(), "no detection rows:\n{}", out.stdout);
    for row in &table {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // session, router, at, after, cause...
        assert_eq!(cols[3], "-", "{row}");
        assert!(row.ends_with("(before any fault)"), "{row}");
    }
    assert!(!out.stdout.contains("after 0s"), "{}", out.stdout);

    let out = holdtime(&["run", file, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = json(&out.stdout);
    let detections = v["detections"].as_array().expect("detections");
    assert!(!detections.is_empty());
    for d in detections {
        assert!(d["episode"].is_null(), "{d}");
        assert!(d["after_fault_ns"].is_null(), "{d}");
    }
    assert_eq!(v["episodes"], serde_json::json!([]));

    let sc = load_text("no-fault.toml", text);
    let r = run_seed(&sc, sc.seed);
    for name in ["detection.msee1", "detection.ce1"] {
        assert_eq!(
            r.observe(&sc, &metric(&sc, name), None),
            Observation::NotObserved,
            "{name}"
        );
    }
}

/// Defect 2 (`[[expect]] path` checked flow 0 only): six minutes into the reference's silent
/// cut, ce1's flows to the VNet are lost and ce2's go over ExpressRoute. Flow 0 is one of
/// ce2's, so "via expressroute" held for the old check; it fails now, saying how many flows
/// did not, and passes with a `share` the distribution meets (and not with one it misses).
#[test]
fn path_expectation_checks_every_flow_or_a_share() {
    let text = r#"
name = "path of every flow"
topology = "expressroute-vpn-failover"
duration = "7m"
seed = 1

[[fault]]
at = "5m"
kind = "silent"
target = "circuit.primary"

[[probe]]
from = "onprem"
to = "vnet"
flows = 8

[[expect]]
path = "onprem_to_vnet"
via = "expressroute"
at = "6m"

[[expect]]
path = "onprem_to_vnet"
via = "expressroute"
at = "6m"
share = "30%"

[[expect]]
path = "onprem_to_vnet"
via = "expressroute"
at = "6m"
share = "40%"
"#;
    let sc = load_text("paths.toml", text);
    let r = run_seed(&sc, sc.seed);
    // Preconditions: at 6m flow 0 is delivered over ExpressRoute, and 3 of 8 flows are.
    let six = at(360);
    assert!(
        !r.outages.iter().any(|o| o.direction == "onprem_to_vnet"
            && o.flow == 0
            && o.start <= six
            && o.end.is_none_or(|e| e > six)),
        "flow 0 is lost at 6m: {:?}",
        r.outages
    );
    let p = r
        .paths
        .iter()
        .rfind(|p| p.direction == "onprem_to_vnet" && p.at <= six)
        .expect("a path at 6m");
    assert_eq!(
        (p.flows, p.flows_via(Via::Expressroute), p.lost),
        (8, 3, 5),
        "{p:?}"
    );

    let verdicts = scenarios::report::evaluate(&sc, &r);
    let got: Vec<(bool, &str)> = verdicts
        .iter()
        .map(|v| (v.pass, v.measured.as_str()))
        .collect();
    let words = "3 of 8 flows via expressroute (circuit.secondary), 5 lost";
    let not_via = format!("{words} (5 of 8 flows not via expressroute)");
    assert_eq!(
        got,
        vec![
            (false, not_via.as_str()),
            (true, words),
            (false, not_via.as_str())
        ]
    );

    let file = write_temp("paths.toml", text);
    let check = holdtime(&["check", path_str(&file)]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert_eq!(
        check.stdout.matches(": FAIL ").count(),
        2,
        "{}",
        check.stdout
    );
    assert_eq!(
        check.stdout.matches(": PASS ").count(),
        1,
        "{}",
        check.stdout
    );
}

/// Defect 4 again, with named episodes: the `restore` of a maintenance named `episode =
/// "maintenance"` comes after another fault opened episode 2. What the restore sets off
/// (the CE and MSEE re-establishing, the gateway reprogramming) belongs to the maintenance,
/// measured from its start at 5m; it was put in episode 2 and measured from an unrelated
/// fault (latency on the internet, which changes no forwarding at all).
#[test]
fn named_episode_is_in_force_again_after_its_later_fault() {
    let text = r#"
name = "a named episode interleaved with another fault"
topology = "expressroute-vpn-failover"
duration = "15m"
seed = 1

[[fault]]
at = "5m"
kind = "down"
target = "circuit.primary"
episode = "maintenance"

[[fault]]
at = "10m"
kind = "latency"
target = "internet"
delay = "50ms"

[[fault]]
at = "12m"
kind = "restore"
target = "circuit.primary"
episode = "maintenance"

[[probe]]
from = "onprem"
to = "vnet"
flows = 4
"#;
    let sc = load_text("named-episode.toml", text);
    let r = run_seed(&sc, sc.seed);
    let episodes: Vec<(u32, Instant, &str)> = r
        .episodes
        .iter()
        .map(|e| (e.index, e.at, e.label.as_str()))
        .collect();
    assert_eq!(
        episodes,
        vec![
            (1, at(300), "down on circuit.primary"),
            (2, at(600), "latency on internet"),
        ]
    );
    // The gateway programs the restored link's route once after the restore.
    let restore = at(720);
    let programmed = r
        .timeline
        .iter()
        .find(|e| e.at > restore && matches!(e.event, TimelineEvent::GatewayConverged { .. }))
        .map(|e| e.at)
        .expect("the gateway reprograms after the restore");
    let ergw: Vec<(u32, Instant, Duration)> = r
        .convergence
        .iter()
        .filter(|c| c.router == "ergw")
        .map(|c| (c.episode, c.at, c.after_fault))
        .collect();
    assert_eq!(
        ergw,
        vec![(1, programmed, programmed - at(300))],
        "{:?}",
        r.convergence
    );
    assert!(
        r.convergence.iter().all(|c| c.episode == 1),
        "nothing converges because of the latency: {:?}",
        r.convergence
    );
    let conv = metric(&sc, "convergence.ergw");
    assert_eq!(r.observe(&sc, &conv, Some(2)), Observation::NotObserved);
    assert_eq!(
        duration_value(r.observe(&sc, &conv, Some(1))),
        programmed - at(300)
    );
}

/// `single-ce` (one CE carrying both links, no VPN) with `[bgp] maximum_paths = {mp}` on the
/// CE and a silent cut of `circuit.{link}` at 3m; eight flows each way, exact outages.
fn single_ce_text(mp: u8, link: &str) -> String {
    format!(
        r#"
name = "single CE, maximum_paths {mp}, silent cut of circuit.{link}"
topology = "single-ce"
duration = "8m"
seed = 1

[bgp]
maximum_paths = {mp}

[[fault]]
at = "3m"
kind = "silent"
target = "circuit.{link}"

[[probe]]
from = "onprem"
to = "vnet"
flows = 8
"#
    )
}

fn single_ce_scenario(mp: u8, link: &str) -> Scenario {
    load_text(
        &format!("single-ce-mp{mp}-{link}.toml"),
        &single_ce_text(mp, link),
    )
}

/// The flows of `dir` with an outage, sorted; asserts that each began at `t`, in episode 1,
/// and lasted exactly `d`.
fn outages_from(r: &RunReport, dir: &str, t: Instant, d: Duration) -> Vec<u32> {
    let mut flows: Vec<u32> = r
        .outages
        .iter()
        .filter(|o| o.direction == dir)
        .map(|o| {
            assert_eq!(
                (o.start, o.duration, o.open, o.episode),
                (t, d, false, Some(1)),
                "{dir} flow {}: {o:?}",
                o.flow
            );
            o.flow
        })
        .collect();
    flows.sort_unstable();
    flows.dedup();
    flows
}

/// Defect 3 (load sharing hard-wired: the CEs' maximum paths were fixed at 2 and no key
/// changed them): `maximum_paths` on the one CE of `single-ce` decides what a silent cut of
/// the primary link costs from on-premises, for the same seed and so the same flow hashes.
///
/// - 2 (the default): ce1 spreads its flows over both links; only those hashed onto the
///   primary (some of the 8, not all) are lost, each until ce1's hold timer expires.
/// - 1: ce1 installs only the best path. Both routes to the VNet tie up to the BGP Identifier
///   step (same LOCAL_PREF, AS_PATH 12076, ORIGIN, no MED, both eBGP, same IGP cost), and
///   msee1's identifier 10.255.3.1 is lower than msee2's 10.255.3.2 (RFC 4271 §9.1.2.2 f; the
///   peer addresses, 192.168.100.2 against .6, would agree): every flow takes the primary
///   link. Its silent cut loses all 8 flows until ce1 detects; a cut of the secondary loses
///   none.
///
/// The VNet's direction is spread by the ExpressRoute gateway, whatever the CE's setting:
/// its outages are the same in both runs.
#[test]
fn maximum_paths_on_the_ce_decides_which_flows_a_link_cut_loses() {
    let fault = at(180);
    let dir = "onprem_to_vnet";
    let detection = |r: &RunReport| {
        r.detections
            .iter()
            .find(|d| d.router == "ce1" && d.session == "circuit.primary.private")
            .and_then(|d| d.after_fault)
            .unwrap_or_else(|| panic!("ce1 never detects the cut: {:?}", r.detections))
    };

    // maximum_paths = 2: the flows hashed onto the primary link, and only those.
    let two = run_seed(&single_ce_scenario(2, "primary"), 1);
    let (before, at) = paths_around(&two, dir, fault);
    let on_primary = flows_on_link(before, "circuit.primary");
    assert_eq!(before.lost, 0, "{before:?}");
    assert!(
        on_primary > 0 && on_primary < 8,
        "ECMP over both links puts some but not all of 8 flows on the primary: {before:?}"
    );
    assert_eq!(flows_on_link(before, "circuit.secondary"), 8 - on_primary);
    assert_eq!(at.lost, on_primary, "{at:?}");
    assert_eq!(flows_on_link(at, "circuit.secondary"), 8 - on_primary);
    let hit = outages_from(&two, dir, fault, detection(&two));
    assert_eq!(hit.len(), on_primary as usize, "{:?}", two.outages);
    let d = two.direction(dir).expect("direction");
    assert_eq!((d.flows, d.flows_hit), (8, on_primary));

    // maximum_paths = 1: the best path is msee1's, so all 8 flows are on the primary link
    // and all 8 are lost until ce1's hold timer expires.
    let one = run_seed(&single_ce_scenario(1, "primary"), 1);
    let (before, at) = paths_around(&one, dir, fault);
    assert_eq!(
        (before.lost, flows_on_link(before, "circuit.primary")),
        (0, 8),
        "one path: the best, via msee1 (lowest BGP Identifier): {before:?}"
    );
    assert_eq!((at.lost, at.flows_via(Via::Expressroute)), (8, 0), "{at:?}");
    let hit = outages_from(&one, dir, fault, detection(&one));
    assert_eq!(hit, (0..8).collect::<Vec<u32>>(), "{:?}", one.outages);
    // ce1's forwarding to the VNet: the one best path via msee1, then, once ce1 has
    // detected the cut, via msee2.
    let ce1_fib: Vec<(Instant, Vec<String>)> = one
        .timeline
        .iter()
        .filter(|e| e.router.as_deref() == Some("ce1"))
        .filter_map(|e| match &e.event {
            TimelineEvent::Fib { prefix, via } if prefix == "10.10.0.0/16" => {
                Some((e.at, via.clone()))
            }
            _ => None,
        })
        .collect();
    let ce1_detects = fault + detection(&one);
    assert_eq!(
        ce1_fib.iter().map(|(_, v)| v.join(",")).collect::<Vec<_>>(),
        vec!["msee1", "msee2"],
        "{ce1_fib:?}"
    );
    assert!(
        ce1_fib[0].0 < fault && ce1_fib[1].0 == ce1_detects,
        "{ce1_fib:?}"
    );
    // Same seed, same hold-timer phases: the two runs detect at the same instant.
    assert_eq!(detection(&one), detection(&two));
    // `holdtime run` says so: one path via msee1, and every flow lost at the fault.
    let file = write_temp("single-ce-mp1.toml", &single_ce_text(1, "primary"));
    let out = holdtime(&["run", path_str(&file)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for line in [
        "ce1      fib 10.10.0.0/16 via msee1\n",
        "traffic onprem_to_vnet: via expressroute (circuit.primary)\n",
        "  180.000s  -        traffic onprem_to_vnet: all 8 flows lost\n",
    ] {
        assert!(out.stdout.contains(line), "no `{line}` in:\n{}", out.stdout);
    }

    // ... and a cut of the secondary link, which no flow uses, loses none.
    let secondary = run_seed(&single_ce_scenario(1, "secondary"), 1);
    let d = secondary.direction(dir).expect("direction");
    assert_eq!(
        (d.flows_hit, d.total),
        (0, Duration::ZERO),
        "{:?}",
        secondary.outages
    );

    // From the VNet the gateway spreads the flows over both MSEEs whatever the CE does.
    let vnet = |r: &RunReport| -> Vec<(u32, Instant, Duration)> {
        r.outages
            .iter()
            .filter(|o| o.direction == "vnet_to_onprem")
            .map(|o| (o.flow, o.start, o.duration))
            .collect()
    };
    assert!(!vnet(&two).is_empty());
    assert_eq!(vnet(&one), vnet(&two));
}

/// Defect 3 (an active-active VPN behaved like active-standby: every flow was lost for 45 s
/// when instance 0 failed): with ExpressRoute never provisioned, an active-active gateway
/// carries the traffic over both tunnels, and the VPN device spreads its flows over both as
/// well. When instance 0 fails (unplanned), only the flows on its tunnel are lost, in each
/// direction, and only until IKE dead-peer detection (45 s, the default `dpd_timeout`) takes
/// that tunnel and its BGP session down at both ends; the flows on instance 1 go on. A
/// built-in topology cannot be partly overridden, so the network is written out in full.
#[test]
fn active_active_vpn_loses_only_the_flows_on_the_failed_instance() {
    let text = r#"
name = "active-active VPN gateway, instance 0 fails, no ExpressRoute"
duration = "5m"
seed = 1

[topology]
customer_asn = 65001
ce_routers = 2
provider = "layer2"
onprem_prefixes = ["10.1.0.0/16"]

[[topology.circuit]]
name = "circuit"
bandwidth = "1Gbps"
provider_state = "NotProvisioned"

[[topology.circuit.peering]]
kind = "private"
primary_subnet = "192.168.100.0/30"
secondary_subnet = "192.168.100.4/30"
vlan = 100

[[topology.vnet]]
name = "vnet"
prefixes = ["10.10.0.0/16"]

[topology.vpn]
mode = "active-active"
dpd_timeout = "45s"

[[fault]]
at = "2m"
kind = "gateway_instance_failure"
target = "gateway.vpn.instance0"

[[probe]]
from = "onprem"
to = "vnet"
flows = 8
"#;
    let sc = load_text("active-active-vpn.toml", text);
    let r = run_seed(&sc, sc.seed);
    let fault = at(120);
    let dpd = Duration::from_secs(45);
    assert_eq!(r.episodes.len(), 1, "{:?}", r.episodes);
    for dir in ["onprem_to_vnet", "vnet_to_onprem"] {
        let (before, at) = paths_around(&r, dir, fault);
        let on0 = flows_on_link(before, "vpn.instance0");
        let on1 = flows_on_link(before, "vpn.instance1");
        assert_eq!(
            (before.lost, before.flows_via(Via::Vpn), on0 + on1),
            (0, 8, 8),
            "{dir}: every flow over one of the two tunnels before the fault: {before:?}"
        );
        assert!(
            on0 > 0 && on1 > 0,
            "{dir}: both tunnels carry flows: {before:?}"
        );
        // At the fault: exactly instance 0's flows are lost, instance 1 keeps its own.
        assert_eq!(
            (
                at.lost,
                flows_on_link(at, "vpn.instance0"),
                flows_on_link(at, "vpn.instance1")
            ),
            (on0, 0, on1),
            "{dir}: {at:?}"
        );
        // Each of them for exactly the dead-peer detection time; no other flow at all.
        let hit = outages_from(&r, dir, fault, dpd);
        assert_eq!(hit.len(), on0 as usize, "{dir}: {:?}", r.outages);
        let d = r.direction(dir).expect("direction");
        assert_eq!(
            (d.flows, d.flows_hit, d.longest, d.open_flows),
            (8, on0, dpd, 0),
            "{dir}"
        );
        assert_eq!(d.total, dpd * u64::from(on0), "{dir}");
        // From the detection on, every flow goes over instance 1.
        let (_, after) = paths_around(&r, dir, fault + dpd);
        assert_eq!(
            (after.lost, flows_on_link(after, "vpn.instance1")),
            (0, 8),
            "{dir}: {after:?}"
        );
    }
    // Both ends of the tunnel's session declare it down when dead-peer detection expires.
    let mut ends: Vec<(&str, Option<Duration>)> = r
        .detections
        .iter()
        .filter(|d| d.session == "vpn.instance0")
        .map(|d| (d.router.as_str(), d.after_fault))
        .collect();
    ends.sort_unstable();
    assert_eq!(ends, vec![("vpn1", Some(dpd)), ("vpngw", Some(dpd))]);
    assert!(
        r.detections.iter().all(|d| d.session != "vpn.instance1"),
        "instance 1's session stays up: {:?}",
        r.detections
    );
}

/// A probe without `interval` sends no packets, so it has no probe-loss count: a sweep must
/// not print `probes_lost 0` beside a two-minute outage, and an expectation on the count is
/// refused; with an interval, the count follows the outage.
#[test]
fn probes_lost_exists_only_where_probe_packets_are_sent() {
    let text = |interval: &str| {
        format!(
            r#"
name = "no VPN: the circuit goes down for good"
duration = "4m"
{}
[[probe]]
from = "onprem"
to = "vnet"
{interval}

[[fault]]
at = "2m"
kind = "down"
target = "circuit"
"#,
            no_vpn_topology("Provisioned")
        )
    };
    let silent = write_temp("no-packets.toml", &text(""));
    let sweep = holdtime(&["sweep", path_str(&silent), "--runs", "2"]);
    assert_eq!(sweep.code, 0, "{}{}", sweep.stdout, sweep.stderr);
    assert!(
        sweep.stdout.contains("outage.onprem_to_vnet"),
        "{}",
        sweep.stdout
    );
    assert!(!sweep.stdout.contains("probes_lost"), "{}", sweep.stdout);
    let refused = write_temp(
        "no-packets-expect.toml",
        &format!(
            "{}\n[[expect]]\nmetric = \"probes_lost.onprem_to_vnet\"\nmax = 0\n",
            text("")
        ),
    );
    let check = holdtime(&["check", path_str(&refused)]);
    assert_eq!(check.code, 2, "{}{}", check.stdout, check.stderr);
    assert!(
        check
            .stderr
            .contains("direction `onprem_to_vnet` sends no probe packets"),
        "{}",
        check.stderr
    );
    // One packet a second: the 2 minutes down from 2m to the end lose 120 of them.
    let packets = write_temp("packets.toml", &text("interval = \"1s\""));
    let sweep = holdtime(&["sweep", path_str(&packets), "--runs", "2"]);
    assert_eq!(sweep.code, 0, "{}{}", sweep.stdout, sweep.stderr);
    let row = sweep
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("probes_lost.onprem_to_vnet"))
        .unwrap_or_else(|| panic!("{}", sweep.stdout));
    assert_eq!(row.split_whitespace().nth(1), Some("120"), "{row}");
}
