//! The built-in library as a whole: every scenario replays and passes its own expectations,
//! runs are deterministic (same seed, same report and trace; another seed, other phases), the
//! detection bounds of the theory hold over many seeds, and each scenario's report is pinned
//! by a golden file.
//!
//! Golden files live in `tests/golden/NAME.json` (the JSON report of the library scenario
//! `NAME` with its own seed) and `tests/golden/trace-hashes.txt` (the hashes of every library
//! scenario's event trace, packet capture and MRT file at two seeds, so that a change of any event, of
//! its order or of one byte of it fails, on any machine). They are compared byte for byte and rewritten
//! only when the environment variable `UPDATE_GOLDEN=1` is set:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test -p tests --test library
//! ```

use std::path::PathBuf;

use scenarios::library::LIBRARY;
use scenarios::report::{self, RunReport};
use scenarios::scenario::Scenario;
use scenarios::sim::net::CapturePoint;
use scenarios::sim::recorder::{DEFAULT_EPOCH, Recorder};
use scenarios::topology::Profile;
use sim_core::rng::fnv1a64;
use sim_core::time::Duration;
use sim_core::trace::TraceHash;

fn load(name: &str) -> Scenario {
    match scenarios::load(name) {
        Ok(l) => l.scenario,
        Err(e) => panic!("library scenario {name} does not load: {e}"),
    }
}

/// Runs `sc` with `seed` and returns the report and the trace's bytes.
fn run_traced(sc: &Scenario, seed: u64) -> (RunReport, Vec<u8>) {
    let mut trace = Vec::new();
    match scenarios::run(sc, seed, Some(&mut trace)) {
        Ok(r) => (r, trace),
        Err(e) => panic!("{}: run failed: {e}", sc.name),
    }
}

fn run(sc: &Scenario, seed: u64) -> RunReport {
    match scenarios::run(sc, seed, None) {
        Ok(r) => r,
        Err(e) => panic!("{}: run failed: {e}", sc.name),
    }
}

fn json(r: &RunReport) -> String {
    match r.to_json() {
        Ok(j) => j,
        Err(e) => panic!("report does not serialise: {e}"),
    }
}

/// The first detection by `router` (of any session) after the first fault.
fn detection(r: &RunReport, router: &str) -> Option<Duration> {
    r.detections
        .iter()
        .find(|d| d.router == router)
        .and_then(|d| d.after_fault)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn every_library_scenario_passes_its_expectations() {
    for entry in &LIBRARY {
        let sc = load(entry.name);
        let report = run(&sc, sc.seed);
        let verdicts = report::evaluate(&sc, &report);
        assert!(!verdicts.is_empty(), "{}: no expectations", entry.name);
        let failed: Vec<String> = verdicts
            .iter()
            .filter(|v| !v.pass)
            .map(|v| format!("{} (measured: {})", v.expectation, v.measured))
            .collect();
        assert!(failed.is_empty(), "{}: {failed:#?}", entry.name);
    }
}

#[test]
fn same_seed_gives_identical_report_and_trace_for_every_library_scenario() {
    for entry in &LIBRARY {
        let sc = load(entry.name);
        let (a, ta) = run_traced(&sc, sc.seed);
        let (b, tb) = run_traced(&sc, sc.seed);
        assert_eq!(json(&a), json(&b), "{}: reports differ", entry.name);
        assert!(!ta.is_empty(), "{}: empty trace", entry.name);
        assert_eq!(
            fnv1a64(&ta),
            fnv1a64(&tb),
            "{}: trace hashes differ",
            entry.name
        );
    }
}

#[test]
fn another_seed_moves_the_reference_timer_phases() {
    let sc = load("reference");
    let a = run(&sc, 1);
    let b = run(&sc, 2);
    assert_ne!(detection(&a, "ce1"), detection(&b, "ce1"));
    assert_ne!(detection(&a, "msee1"), detection(&b, "msee1"));
    assert_ne!(json(&a), json(&b));
}

/// Runs `name` with every router on the `rfc4271` profile over seeds 1..=200 and checks that
/// ce1 and msee1 detect the silent cut within (H − K_max, H] plus propagation, and that the
/// detections spread over most of that window (the keepalive phase is random per seed).
fn silent_cut_detection_window(name: &str, hold: Duration, keepalive: Duration) {
    let mut sc = load(name);
    for r in &mut sc.topology.routers {
        r.profile = Profile::Rfc4271;
    }
    // Propagation: one-way delays of a few milliseconds; 50 ms bounds it generously.
    let lo = hold.saturating_sub(keepalive).saturating_sub(ms(50));
    let hi = hold + ms(50);
    for router in ["ce1", "msee1"] {
        let mut seen = Vec::new();
        for seed in 1..=200 {
            let report = run(&sc, seed);
            let Some(d) = detection(&report, router) else {
                panic!("{name}: seed {seed}: {router} never detected the cut")
            };
            assert!(
                d > lo && d <= hi,
                "{name}: seed {seed}: {router} detected after {d}, outside ({lo}, {hi}]"
            );
            seen.push(d);
        }
        let (Some(min), Some(max)) = (seen.iter().min(), seen.iter().max()) else {
            panic!("no detections")
        };
        // 200 uniform phases cover the window but for a few percent at each edge.
        let slack = keepalive.mul_f64(0.15);
        assert!(
            *min < hold.saturating_sub(keepalive) + slack && *max > hold.saturating_sub(slack),
            "{name}: {router}: detections only span [{min}, {max}]"
        );
    }
}

#[test]
fn rfc4271_silent_cut_is_detected_within_the_hold_window_reference() {
    silent_cut_detection_window(
        "reference",
        Duration::from_secs(180),
        Duration::from_secs(60),
    );
}

#[test]
fn rfc4271_silent_cut_is_detected_within_the_hold_window_tuned_10_30() {
    silent_cut_detection_window(
        "tuned-10-30",
        Duration::from_secs(30),
        Duration::from_secs(10),
    );
}

#[test]
fn bfd_300ms_x3_detects_within_its_bound() {
    let sc = load("bfd");
    for seed in 1..=40 {
        let report = run(&sc, seed);
        for router in ["ce1", "msee1"] {
            let Some(d) = detection(&report, router) else {
                panic!("seed {seed}: {router} never detected")
            };
            // RFC 5880 §6.8.4: Detection Time = multiplier × the agreed interval (3 × 300 ms),
            // counted from the last packet received, which left at most one (jittered)
            // interval before the cut.
            assert!(
                d > ms(600).saturating_sub(ms(50)) && d <= ms(900) + ms(50),
                "seed {seed}: {router} detected after {d}"
            );
        }
    }
}

#[test]
fn carrier_down_is_detected_at_once() {
    let sc = load("carrier-down");
    let report = run(&sc, sc.seed);
    let Some(d) = detection(&report, "ce1") else {
        panic!("ce1 never detected the carrier loss")
    };
    assert_eq!(d, Duration::ZERO, "the interface event is immediate");
}

#[test]
fn reference_directions_recover_at_different_times() {
    let sc = load("reference");
    let report = run(&sc, sc.seed);
    let end_of = |direction: &str| {
        report
            .outages
            .iter()
            .filter(|o| o.direction == direction)
            .filter_map(|o| o.end)
            .max()
    };
    let (Some(up), Some(down)) = (end_of("onprem_to_vnet"), end_of("vnet_to_onprem")) else {
        panic!(
            "both directions must have a finished outage: {:?}",
            report.outages
        )
    };
    assert_ne!(up, down);
    // The VNet direction waits for msee1's own hold timer and then the gateway's
    // reprogramming, so it recovers later here.
    assert!(
        down > up,
        "onprem_to_vnet back at {up}, vnet_to_onprem at {down}"
    );
    let text = report.to_text();
    assert!(text.contains("onprem_to_vnet") && text.contains("vnet_to_onprem"));
}

/// `bytes_dropped.DIR` of the burst-capacity scenario with its offered rate replaced.
fn burst_drops(rate: &str) -> (u64, u64, RunReport) {
    let text = scenarios::library::get("burst-capacity")
        .map(|e| e.source)
        .unwrap_or_else(|| panic!("burst-capacity is in the library"));
    let text = text.replace("rate = \"1.6Gbps\"", &format!("rate = \"{rate}\""));
    let sc = match scenarios::load_str("burst.toml", &text) {
        Ok(l) => l.scenario,
        Err(e) => panic!("{e}"),
    };
    let r = run(&sc, sc.seed);
    let get = |d: &str| {
        r.bytes_dropped
            .iter()
            .find(|b| b.direction == d)
            .map_or_else(|| panic!("no bytes_dropped.{d}"), |b| b.bytes)
    };
    (get("onprem_to_vnet"), get("vnet_to_onprem"), r)
}

#[test]
fn congestion_drops_exactly_the_excess_over_the_surviving_link() {
    // 1.6 Gb/s on one 1 Gb/s link from the cut (5m, carrier: immediate) to the end (15m):
    // 0.6 Gb/s × 600 s / 8 = 45 GB, to the byte.
    let (up, down, report) = burst_drops("1.6Gbps");
    assert_eq!(up, 45_000_000_000);
    // The VNet side crowds onto the secondary link only once the gateway has reprogrammed.
    assert!((40_000_000_000..45_000_000_000).contains(&down), "{down}");
    assert!(
        report
            .to_text()
            .contains("1.6 Gb/s offered, 1 Gb/s capacity, 600 Mb/s dropped")
    );
    // 2 Gb/s: 1 Gb/s excess for 600 s = 75 GB.
    assert_eq!(burst_drops("2Gbps").0, 75_000_000_000);
    // What one link carries is never dropped, before or after the cut.
    let (up, down, report) = burst_drops("1Gbps");
    assert_eq!((up, down), (0, 0));
    assert!(!report.to_text().contains("congestion on"));
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(format!("{name}.json"))
}

#[test]
fn library_reports_match_their_golden_files() {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut mismatched = Vec::new();
    for entry in &LIBRARY {
        let sc = load(entry.name);
        let mut got = json(&run(&sc, sc.seed));
        got.push('\n');
        let path = golden_path(entry.name);
        if update {
            if let Some(dir) = path.parent()
                && let Err(e) = std::fs::create_dir_all(dir)
            {
                panic!("cannot create {}: {e}", dir.display());
            }
            if let Err(e) = std::fs::write(&path, &got) {
                panic!("cannot write {}: {e}", path.display());
            }
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == got => {}
            Ok(_) => mismatched.push(format!("{} differs", path.display())),
            Err(e) => mismatched.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        mismatched.is_empty(),
        "{mismatched:#?}\nIf the change is intended, regenerate with UPDATE_GOLDEN=1 cargo test -p tests --test library"
    );
}

/// Runs `sc` with `seed` under a capture tap: the bytes of the event trace, of the pcapng
/// capture (every BGP and BFD frame with its time) and of the MRT file (every message
/// received, every FSM transition).
fn run_traced_and_captured(sc: &Scenario, seed: u64) -> [Vec<u8>; 3] {
    let mut trace = Vec::new();
    let mut pcap = Vec::new();
    let mut mrt = Vec::new();
    let mut rec = match Recorder::new(&sc.topology, DEFAULT_EPOCH, Some(&mut pcap), Some(&mut mrt))
    {
        Ok(r) => r,
        Err(e) => panic!("{}: recorder: {e}", sc.name),
    };
    let run = scenarios::run_with_tap(sc, seed, Some(&mut trace), &mut rec, CapturePoint::Sender);
    if let Err(e) = run {
        panic!("{}: run failed: {e}", sc.name);
    }
    if let Err(e) = rec.finish() {
        panic!("{}: capture: {e}", sc.name);
    }
    [trace, pcap, mrt]
}

/// The pinned hashes: one line per library scenario and seed (its own and the next),
/// `NAME SEED TRACE-HASH LINES BYTES PCAP-HASH PCAP-BYTES MRT-HASH MRT-BYTES`. TRACE-HASH is
/// the trace hash (`sim_core::trace`: the FNV-1a 64 of the JSON lines `holdtime run NAME --seed
/// SEED --trace FILE` writes); PCAP-HASH and MRT-HASH the FNV-1a 64 of the files `--pcap FILE
/// --mrt FILE` write, which hold every frame and every message of the run, so a change in any
/// message, timer or packet shows even where the trace's timeline does not.
fn trace_hashes() -> String {
    let mut out = String::from(
        "# Every library scenario at two seeds, as `holdtime run NAME --seed SEED --trace FILE\n\
         # --pcap FILE --mrt FILE` writes it: the trace's hash (FNV-1a 64 of the file), lines\n\
         # and bytes, the capture's hash and bytes, the MRT file's hash and bytes.\n\
         # Regenerate deliberately: UPDATE_GOLDEN=1 cargo test -p tests --test library\n\
         # name seed trace-hash lines bytes pcap-hash pcap-bytes mrt-hash mrt-bytes\n",
    );
    for entry in &LIBRARY {
        let sc = load(entry.name);
        for seed in [sc.seed, sc.seed.wrapping_add(1)] {
            let [trace, pcap, mrt] = run_traced_and_captured(&sc, seed);
            assert!(
                run_traced(&sc, seed).1 == trace,
                "{}: seed {seed}: the capture tap changed the trace",
                entry.name
            );
            let lines = trace.iter().filter(|&&b| b == b'\n').count();
            let hash = |b: &[u8]| TraceHash(fnv1a64(b));
            out.push_str(&format!(
                "{} {seed} {} {lines} {} {} {} {} {}\n",
                entry.name,
                hash(&trace),
                trace.len(),
                hash(&pcap),
                pcap.len(),
                hash(&mrt),
                mrt.len()
            ));
        }
    }
    out
}

#[test]
fn library_trace_hashes_match_their_golden_file() {
    let got = trace_hashes();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join("trace-hashes.txt");
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        if let Err(e) = std::fs::write(&path, &got) {
            panic!("cannot write {}: {e}", path.display());
        }
        return;
    }
    let want = match std::fs::read_to_string(&path) {
        Ok(w) => w,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let differ: Vec<String> = got
        .lines()
        .zip(want.lines())
        .filter(|(g, w)| g != w)
        .map(|(g, w)| format!("got  {g}\nwant {w}"))
        .collect();
    assert!(
        got == want,
        "{} differs:\n{}\n({} lines got, {} pinned)\nIf the change is intended, regenerate with UPDATE_GOLDEN=1 cargo test -p tests --test library",
        path.display(),
        differ.join("\n"),
        got.lines().count(),
        want.lines().count()
    );
}

#[test]
fn deprovisioning_ends_sessions_with_cease_peer_deconfigured() {
    // RFC 4486 §4: subcode 3 "Peer De-configured"; the customer end receives it.
    let sc = load("manual-vpn-failover-test");
    let report = run(&sc, sc.seed);
    let received: Vec<String> = report.detections.iter().map(|d| d.cause.label()).collect();
    assert!(
        received.iter().any(|c| c.contains("6/3")),
        "detections: {received:?}"
    );
    assert!(!received.iter().any(|c| c.contains("6/2")), "{received:?}");
}

/// A sweep forks every run from the start-up simulated once (`scenarios::Prepared`); `holdtime
/// run --seed` simulates the start-up again. Both must give the same report, byte for byte,
/// for every library scenario and seed, and a prepared start-up must not be changed by the
/// runs forked from it (the second run of a seed equals the first).
#[test]
fn prepared_runs_equal_runs_from_the_start_for_every_library_scenario() {
    for entry in &LIBRARY {
        let sc = load(entry.name);
        let prepared = match scenarios::Prepared::new(&sc) {
            Ok(p) => p,
            Err(e) => panic!("{}: {e}", entry.name),
        };
        for seed in [sc.seed, 7, 0xDEAD_BEEF] {
            let fresh = json(&run(&sc, seed));
            let forked = match prepared.run(seed) {
                Ok(r) => json(&r),
                Err(e) => panic!("{}: seed {seed}: {e}", entry.name),
            };
            assert!(
                fresh == forked,
                "{}: seed {seed}: the forked run differs from the run from the start",
                entry.name
            );
        }
        let again = prepared.run(7).map(|r| json(&r)).ok();
        assert_eq!(
            again,
            Some(json(&run(&sc, 7))),
            "{}: snapshot changed",
            entry.name
        );
    }
}

/// Where the start-up shared by every seed ends (`sim::world`'s module doc): one minute before
/// the earliest fault, at the start when a link is lossy from the start (loss before the fault
/// must vary with the seed) or when no fault is scheduled; and nothing before it depends on the
/// seed, everything after it may.
#[test]
fn the_fork_is_a_minute_before_the_first_fault_unless_links_are_lossy() {
    let fork = |name: &str| {
        let sc = load(name);
        match scenarios::Prepared::new(&sc) {
            Ok(p) => p.fork_at() - sim_core::time::Instant::ZERO,
            Err(e) => panic!("{name}: {e}"),
        }
    };
    // The reference cuts at 5m: the fork waits for TCP to be quiet from 4m on.
    let r = fork("reference");
    assert!(
        r >= Duration::from_mins(4) && r < Duration::from_secs(4 * 60 + 30),
        "reference forks at {r}"
    );
    assert_eq!(
        fork("lossy-circuit"),
        Duration::ZERO,
        "a lossy link shares nothing"
    );
    assert_eq!(
        fork("microsoft-peering-validation"),
        Duration::ZERO,
        "no fault: nothing to fork before"
    );
    // BFD 300 ms: 200 intervals are a minute, so the fork is where the reference's is.
    assert_eq!(fork("bfd"), r);
    let sc = load("reference");
    let (a, b) = (run(&sc, 11), run(&sc, 12));
    let before = |r: &RunReport| {
        r.timeline
            .iter()
            .filter(|e| e.at - sim_core::time::Instant::ZERO < Duration::from_mins(4))
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
    };
    assert!(!before(&a).is_empty(), "the start-up shows in the timeline");
    assert_eq!(
        before(&a),
        before(&b),
        "the start-up is the same for every seed"
    );
    assert_ne!(
        detection(&a, "ce1"),
        detection(&b, "ce1"),
        "after the fork the seeds differ"
    );
}
