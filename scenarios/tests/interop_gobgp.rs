//! Interop with GoBGP 3: a gobgpd started by the test plays ce1 (AS 65001, hold 9 s,
//! keepalive 3 s) on 127.0.0.4 in passive mode, with a TOML config in a temporary directory
//! and its gRPC API on a loopback port of its own; `holdtime live` plays msee1 of the
//! reference scenario (AS 12076, hold 180 s) and dials it. (We dial because gobgpd waits a
//! random 5–10 s before its own first connection attempt.) gobgpd is driven and read with
//! `gobgp -p PORT`, and its JSON log (standard output) is kept to read why a session went
//! down.
//!
//! Checks: Established with the capabilities both sides announce, hold time 9 (RFC 4271
//! §4.2), routes both ways with AS path 12076, detection windows both ways, and NOTIFICATIONs
//! both ways (bad peer AS either way, Cease 6/1 from `prefix-limit` and from our limit, Cease
//! 6/2 with the RFC 9003 shutdown communication from `gobgp neighbor ADDR shutdown --reason`).
//!
//! Skips with a printed reason when GoBGP is not installed, except under `CI=true` (`.ci/run`
//! installs `gobgpd`). Each daemon is killed on drop.

mod interop_support;

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use bgp::fsm::profile::Profile;
use bgp::live::Fault;
use interop_support::{
    Daemon, LiveRun, assert_daemon_detected_our_silence, assert_we_detected_the_freeze, at,
    free_port, freeze_after_a_keepalive, has, output, poll, reference, require, temp_dir, wall,
};
use scenarios::live::{Endpoint, LiveRole, ScheduledFault, SessionSummary};
use scenarios::topology::Topology;
use sim_core::time::Duration;

/// GoBGP's address.
const GOBGP_ADDR: &str = "127.0.0.4";

/// How the test configures gobgpd.
struct GobgpConfig {
    /// gobgpd's own AS (the topology's ce1 is 65001).
    local_as: u32,
    /// The AS gobgpd expects from us (msee1 is 12076).
    peer_as: u32,
    /// `prefix-limit` `max-prefixes` for our routes.
    max_prefixes: Option<u32>,
    /// Prefixes gobgpd originates besides 10.1.0.0/16 (10.2.0.0/16, 10.3.0.0/16, ...).
    extra_prefixes: u8,
}

impl Default for GobgpConfig {
    fn default() -> Self {
        Self {
            local_as: 65001,
            peer_as: 12076,
            max_prefixes: None,
            extra_prefixes: 0,
        }
    }
}

/// A running gobgpd and its CLI.
struct Gobgp {
    daemon: Daemon,
    cli: PathBuf,
    api: String,
    /// The BGP port gobgpd listens on.
    port: u16,
}

impl Gobgp {
    fn cli(&self, args: &[&str]) -> String {
        let mut all = vec!["-p", self.api.as_str()];
        all.extend_from_slice(args);
        output(&self.cli, &all)
    }

    fn neighbor(&self) -> String {
        self.cli(&["neighbor", "127.0.0.1"])
    }

    fn established(&self) -> bool {
        self.neighbor().contains("BGP state = ESTABLISHED")
    }

    /// gobgpd's JSON log so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.daemon.dir.join("gobgpd.log")).unwrap_or_default()
    }
}

fn gobgp_or_skip() -> Option<(PathBuf, PathBuf)> {
    let daemon = require("gobgpd", "gobgpd")?;
    let cli = require("gobgp", "gobgpd")?;
    Some((daemon, cli))
}

/// Starts gobgpd, originates 10.1.0.0/16 in it, and waits (at most 20 s) until its API
/// answers with the route in place.
fn start_gobgp(bins: &(PathBuf, PathBuf), cfg: &GobgpConfig) -> Gobgp {
    let (gobgpd, cli) = bins;
    let port = free_port();
    let api = free_port().to_string();
    let dir = temp_dir("gobgp", port);
    let prefix_limit = cfg.max_prefixes.map_or_else(String::new, |n| {
        format!("    [neighbors.afi-safis.prefix-limit.config]\n      max-prefixes = {n}\n")
    });
    let config = format!(
        r#"[global.config]
  as = {local_as}
  router-id = "192.0.2.67"
  port = {port}
  local-address-list = ["{GOBGP_ADDR}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = {peer_as}
  [neighbors.transport.config]
    passive-mode = true
    local-address = "{GOBGP_ADDR}"
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
{prefix_limit}"#,
        local_as = cfg.local_as,
        peer_as = cfg.peer_as,
    );
    let conf = dir.join("gobgpd.toml");
    std::fs::write(&conf, config).expect("write gobgpd.toml");
    let log = File::create(dir.join("gobgpd.log")).expect("log file");
    let child = Command::new(gobgpd)
        .arg("-f")
        .arg(&conf)
        .args(["-t", "toml", "--api-hosts", &format!("127.0.0.1:{api}")])
        // Its profiling listener has a fixed port (6060) that parallel tests would share.
        .arg("--pprof-disable")
        .stdout(Stdio::from(log))
        .stderr(Stdio::null())
        .spawn()
        .expect("start gobgpd");
    let gobgp = Gobgp {
        daemon: Daemon { child, dir },
        cli: cli.clone(),
        api,
        port,
    };
    let ready = poll(
        StdDuration::from_secs(20),
        StdDuration::from_millis(100),
        || {
            let _ = gobgp.cli(&["global", "rib", "add", "10.1.0.0/16"]);
            gobgp.cli(&["global", "rib"]).contains("10.1.0.0/16")
        },
    );
    assert!(ready, "gobgpd did not start:\n{}", gobgp.log());
    for i in 0..cfg.extra_prefixes {
        let prefix = format!("10.{}.0.0/16", u16::from(i) + 2);
        let _ = gobgp.cli(&["global", "rib", "add", &prefix]);
    }
    gobgp
}

/// msee1 of `topo` dialling `gobgp` for `secs` seconds.
fn dial(gobgp: &Gobgp, topo: Topology, secs: u64, faults: Vec<ScheduledFault>) -> LiveRun {
    let addr: SocketAddr = format!("{GOBGP_ADDR}:{}", gobgp.port)
        .parse()
        .expect("address");
    LiveRun::spawn(topo, LiveRole::Msee, Endpoint::Connect(addr), secs, faults)
}

fn wait_established(gobgp: &Gobgp) -> bool {
    poll(
        StdDuration::from_secs(20),
        StdDuration::from_millis(100),
        || gobgp.established(),
    )
}

#[test]
fn gobgp_establishes_with_live_msee_negotiates_hold_9_and_routes_flow_both_ways() {
    let Some(bins) = gobgp_or_skip() else {
        return;
    };
    let gobgp = start_gobgp(&bins, &GobgpConfig::default());
    let live = dial(&gobgp, reference(), 8, Vec::new());
    let mut rib = String::new();
    let up = wait_established(&gobgp)
        && poll(
            StdDuration::from_secs(5),
            StdDuration::from_millis(100),
            || {
                rib = gobgp.cli(&["global", "rib"]);
                rib.contains("10.10.0.0/16")
            },
        );
    let neighbor = gobgp.neighbor();
    let (summary, text) = live.join();
    drop(gobgp);
    assert!(up, "GoBGP: {neighbor}\n{rib}\nours:\n{text}");
    // RFC 4271 §4.2: the smaller hold time.
    assert_eq!(
        summary.negotiated,
        Some((Duration::from_secs(9), Duration::from_secs(3))),
        "{text}"
    );
    assert!(
        neighbor.contains("Hold time is 9, keepalive interval is 3 seconds"),
        "{neighbor}"
    );
    for cap in [
        "ipv4-unicast:\tadvertised and received",
        "route-refresh:\tadvertised and received",
        "4-octet-as:\tadvertised and received",
    ] {
        assert!(neighbor.contains(cap), "GoBGP lacks `{cap}`:\n{neighbor}");
    }
    // Our VNet prefix with AS path 12076 (RFC 4271 §5.1.2: an eBGP speaker prepends its AS).
    let line = rib.lines().find(|l| l.contains("10.10.0.0/16"));
    assert!(
        line.is_some_and(|l| l.split_whitespace().nth(3) == Some("12076")),
        "GoBGP's table:\n{rib}"
    );
    assert!(
        text.contains(&format!("fib 10.1.0.0/16 via ce1 ({GOBGP_ADDR})")),
        "ours:\n{text}"
    );
}

#[test]
fn our_silence_expires_gobgps_hold_timer_within_its_window() {
    let Some(bins) = gobgp_or_skip() else {
        return;
    };
    let gobgp = start_gobgp(&bins, &GobgpConfig::default());
    let t0 = wall();
    let silent_at = StdDuration::from_secs(5);
    let faults = vec![ScheduledFault {
        at: at(silent_at),
        fault: Fault::Silent,
        target: None,
    }];
    let live = dial(&gobgp, reference(), 17, faults);
    let was_up = wait_established(&gobgp);
    let mut went_down = None;
    if was_up {
        poll(
            StdDuration::from_secs(16),
            StdDuration::from_millis(50),
            || {
                let down = !gobgp.established();
                if down {
                    went_down = Some(t0.elapsed());
                }
                down
            },
        );
    }
    let (summary, text) = live.join();
    let log = gobgp.log();
    drop(gobgp);
    assert!(was_up, "never Established:\n{text}");
    // GoBGP arms its hold timer with the negotiated hold time as is (`time.NewTimer` in
    // `pkg/server/fsm.go`, `established`): no jitter, the rfc4271 window (H − K, H] after
    // the silence, K = 3 s our keepalive.
    assert_daemon_detected_our_silence(
        "GoBGP",
        &Profile::RFC4271,
        (silent_at, went_down),
        StdDuration::from_millis(600),
        (&summary, &text, &log),
    );
    assert!(
        log.contains("hold timer expired"),
        "GoBGP's session went down for another reason:\n{log}"
    );
}

#[test]
fn a_frozen_gobgp_expires_our_hold_timer_within_our_profiles_window() {
    let Some(bins) = gobgp_or_skip() else {
        return;
    };
    let gobgp = start_gobgp(&bins, &GobgpConfig::default());
    let t0 = wall();
    let live = dial(&gobgp, reference(), 16, Vec::new());
    let mut stopped_at = None;
    if wait_established(&gobgp) {
        stopped_at = Some(freeze_after_a_keepalive(&gobgp.daemon, t0));
    }
    let (summary, text) = live.join();
    drop(gobgp);
    // GoBGP's keepalive ticker runs every 3 s.
    assert_we_detected_the_freeze("GoBGP", stopped_at, &summary, &text);
}

/// Runs msee1 of `topo` against gobgpd configured by `cfg` for `secs`, calling `during` once
/// our run has started; returns our summary, our timeline and gobgpd's log.
fn run_against(
    cfg: &GobgpConfig,
    topo: Topology,
    secs: u64,
    during: impl FnOnce(&Gobgp),
) -> Option<(SessionSummary, String, String)> {
    let bins = gobgp_or_skip()?;
    let gobgp = start_gobgp(&bins, cfg);
    let live = dial(&gobgp, topo, secs, Vec::new());
    during(&gobgp);
    let (summary, text) = live.join();
    let log = gobgp.log();
    drop(gobgp);
    Some((summary, text, log))
}

#[test]
fn gobgp_expecting_another_as_sends_us_open_error_bad_peer_as() {
    let cfg = GobgpConfig {
        peer_as: 12077,
        ..GobgpConfig::default()
    };
    let Some((summary, text, log)) = run_against(&cfg, reference(), 3, |_| {}) else {
        return;
    };
    // RFC 4271 §6.2: "If the Autonomous System field of the OPEN message is unacceptable,
    // then the Error Subcode MUST be set to Bad Peer AS."
    assert!(has(&summary, false, 2, 2), "{text}\nGoBGP:\n{log}");
    assert!(summary.negotiated.is_none(), "{text}");
}

#[test]
fn we_send_open_error_bad_peer_as_to_gobgp_with_an_unexpected_as() {
    let cfg = GobgpConfig {
        local_as: 65002,
        ..GobgpConfig::default()
    };
    let Some((summary, text, log)) = run_against(&cfg, reference(), 3, |_| {}) else {
        return;
    };
    // RFC 4271 §6.2 from our side: ce1 must be AS 65001.
    assert!(has(&summary, true, 2, 2), "{text}\nGoBGP:\n{log}");
    assert!(summary.negotiated.is_none(), "{text}");
}

#[test]
fn gobgp_sends_cease_max_prefix_when_we_exceed_its_prefix_limit() {
    let mut topo = reference();
    interop_support::add_vnet_prefixes(&mut topo, 4);
    let cfg = GobgpConfig {
        max_prefixes: Some(2),
        ..GobgpConfig::default()
    };
    // 8 s: ample for OPEN, UPDATE and GoBGP's Cease even on a loaded machine (a 4 s window
    // failed once while five builds shared the two cores).
    let Some((summary, text, log)) = run_against(&cfg, topo, 8, |_| {}) else {
        return;
    };
    // RFC 4486 §4: "Maximum Number of Prefixes Reached" is Cease subcode 1.
    assert!(has(&summary, false, 6, 1), "{text}\nGoBGP:\n{log}");
    assert!(summary.negotiated.is_some(), "{text}");
}

#[test]
fn we_send_cease_max_prefix_when_gobgp_exceeds_our_limit() {
    // msee1's limit lowered from Azure's 4,000 to 2; gobgpd originates 5 prefixes.
    let mut topo = reference();
    interop_support::limit_msee_prefixes(&mut topo, 2);
    let cfg = GobgpConfig {
        extra_prefixes: 4,
        ..GobgpConfig::default()
    };
    let Some((summary, text, log)) = run_against(&cfg, topo, 8, |_| {}) else {
        return;
    };
    // RFC 4486 §4: Cease subcode 1, "Maximum Number of Prefixes Reached".
    assert!(has(&summary, true, 6, 1), "{text}\nGoBGP:\n{log}");
    assert!(text.contains("max-prefix 2 exceeded"), "{text}");
}

#[test]
fn gobgp_neighbor_shutdown_reaches_us_as_cease_admin_shutdown_with_its_reason() {
    let message = "maintenance: traffic moves to ce2";
    let mut up = false;
    let ran = run_against(&GobgpConfig::default(), reference(), 6, |gobgp| {
        up = wait_established(gobgp);
        if up {
            // Let the first keepalives pass, so the Cease ends an Established session.
            std::thread::sleep(StdDuration::from_secs(1));
            // `shutdown` (deprecated for `disable`, which in GoBGP 3.10 drops the reason).
            let _ = gobgp.cli(&["neighbor", "127.0.0.1", "shutdown", "--reason", message]);
        }
    });
    let Some((summary, text, log)) = ran else {
        return;
    };
    assert!(up, "never Established:\n{text}");
    // RFC 4486 §4: Administrative Shutdown is Cease subcode 2; RFC 9003 §2 carries the text.
    let seen = summary
        .notifications
        .iter()
        .find(|n| !n.sent && (n.code, n.subcode) == (6, 2));
    let Some(seen) = seen else {
        panic!("no Cease 6/2 received:\n{text}\nGoBGP:\n{log}")
    };
    assert_eq!(seen.communication.as_deref(), Some(message), "{text}");
}
