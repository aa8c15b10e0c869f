//! Interop with FRRouting bgpd (FRR 8): `holdtime live` plays msee1 of the reference scenario
//! (AS 12076, hold 180 s, profile rfc4271) listening on 127.0.0.1, and a bgpd started by the
//! test plays ce1 (AS 65001, `timers 3 9`) from 127.0.0.3, without zebra (`-Z`) and without
//! touching the kernel (`-n`), with a config, pid file and vty socket in a temporary directory
//! per test and unprivileged ports. FRR is driven and read through `vtysh --vty_socket`.
//!
//! Checks: Established with the capabilities both sides announce, hold time 9 (RFC 4271
//! §4.2), routes both ways with AS path 12076, detection windows both ways (our `silent`
//! fault against FRR's hold timer, a SIGSTOPped bgpd against ours), and NOTIFICATIONs both
//! ways (bad peer AS either way, Cease 6/1 from FRR's maximum-prefix and from ours, Cease 6/2
//! with the RFC 9003 shutdown communication from `neighbor shutdown message`).
//!
//! BFD over UDP (RFC 5881) needs a real link and port 3784, so those two tests run FRR in its
//! own network namespace joined to ours by a veth /30 on 10.232.x.y (BIRD's use 10.231):
//! zebra, bfdd and bgpd (bgpd registers its BFD peers with bfdd through zebra's ZAPI),
//! `neighbor ... bfd profile fast` at 300 ms × 3 against the library's `bfd` scenario. They
//! check FRR's BFD taking its BGP session down after our `silent` fault, and ours detecting a
//! SIGSTOPped bfdd, each within (600 ms, 900 ms] (RFC 5880 §6.8.4). They need root: skipped
//! with a printed reason otherwise, failed instead under `CI=true`.
//!
//! Issue 20's series of 30 silent failures against FRR is `interop_frr_failures`.
//!
//! Skips with a printed reason when FRR is not installed, except under `CI=true` (`.ci/run`
//! installs `frr`). Each daemon is killed on drop.

mod interop_support;

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use bgp::fsm::profile::Profile;
use bgp::live::Fault;
use interop_support::{
    Daemon, LiveRun, Netns, assert_bgp_fell_with_bfd, assert_daemon_detected_our_silence,
    assert_we_detected_the_freeze, assert_within, at, bfd_topology, free_port,
    freeze_after_a_keepalive, has, line_time_after, output, poll, reference, require, require_root,
    temp_dir, wall,
};
use scenarios::live::{Endpoint, LiveRole, ScheduledFault};
use sim_core::time::Duration;

/// FRR's address (our side listens on 127.0.0.1).
const FRR_ADDR: &str = "127.0.0.3";

/// How the test configures bgpd.
struct FrrConfig {
    /// bgpd's own AS (the topology's ce1 is 65001).
    local_as: u32,
    /// The AS bgpd expects from us (msee1 is 12076).
    remote_as: u32,
    /// `neighbor maximum-prefix` for our routes.
    max_prefix: Option<u32>,
    /// Networks bgpd originates besides 10.1.0.0/16 (10.2.0.0/16, 10.3.0.0/16, ...).
    extra_networks: u8,
    /// `neighbor password` (RFC 2385 MD5).
    password: Option<&'static str>,
}

impl Default for FrrConfig {
    fn default() -> Self {
        Self {
            local_as: 65001,
            remote_as: 12076,
            max_prefix: None,
            extra_networks: 0,
            password: None,
        }
    }
}

/// A running bgpd and its vtysh.
struct Frr {
    daemon: Daemon,
    vtysh: PathBuf,
}

impl Frr {
    /// Runs vtysh commands (each `-c`) against this bgpd.
    fn vtysh(&self, commands: &[&str]) -> String {
        let dir = self.daemon.dir.to_string_lossy().into_owned();
        let mut args = vec!["--vty_socket", dir.as_str()];
        for c in commands {
            args.extend(["-c", c]);
        }
        output(&self.vtysh, &args)
    }

    /// `show bgp neighbors` for our session.
    fn neighbor(&self) -> String {
        self.vtysh(&["show bgp neighbors 127.0.0.1"])
    }

    fn established(&self) -> bool {
        self.neighbor().contains("BGP state = Established")
    }
}

/// bgpd and vtysh, or `None` (skipped) when FRR is missing.
fn frr_or_skip() -> Option<(PathBuf, PathBuf)> {
    let bgpd = require("bgpd", "frr")?;
    let vtysh = require("vtysh", "frr")?;
    Some((bgpd, vtysh))
}

fn start_frr(bins: &(PathBuf, PathBuf), our_port: u16, cfg: &FrrConfig) -> Frr {
    let (bgpd, vtysh) = bins;
    let frr_port = free_port();
    let dir = temp_dir("frr", our_port);
    let max_prefix = cfg.max_prefix.map_or_else(String::new, |n| {
        format!("  neighbor 127.0.0.1 maximum-prefix {n}\n")
    });
    let password = cfg.password.map_or_else(String::new, |p| {
        format!(" neighbor 127.0.0.1 password {p}\n")
    });
    let networks: String = (0..cfg.extra_networks)
        .map(|i| format!("  network 10.{}.0.0/16\n", u16::from(i) + 2))
        .collect();
    // `frr defaults traditional`: 180/60 timers unless set. FRR 8 requires an explicit policy
    // for eBGP routes (`bgp ebgp-requires-policy`); the test has none, so it is turned off.
    let config = format!(
        "frr defaults traditional
hostname holdtime-frr
log stdout informational
router bgp {local_as}
 bgp router-id 192.0.2.66
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 127.0.0.1 remote-as {remote_as}
 neighbor 127.0.0.1 port {our_port}
 neighbor 127.0.0.1 ebgp-multihop 2
 neighbor 127.0.0.1 update-source {FRR_ADDR}
 neighbor 127.0.0.1 timers 3 9
 neighbor 127.0.0.1 timers connect 1
{password} address-family ipv4 unicast
  network 10.1.0.0/16
{networks}{max_prefix} exit-address-family
",
        local_as = cfg.local_as,
        remote_as = cfg.remote_as,
    );
    let conf = dir.join("bgpd.conf");
    std::fs::write(&conf, config).expect("write bgpd.conf");
    let port = frr_port.to_string();
    let child = Command::new(bgpd)
        .arg("-f")
        .arg(&conf)
        .arg("-i")
        .arg(dir.join("bgpd.pid"))
        .arg("--vty_socket")
        .arg(&dir)
        // No zebra (-Z), no kernel routes (-n), no user switch (-S), our port and address.
        .args(["-Z", "-n", "-S", "-p", &port, "-l", FRR_ADDR])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bgpd");
    Frr {
        daemon: Daemon { child, dir },
        vtysh: vtysh.clone(),
    }
}

/// Waits (at most 20 s: start-up on a loaded machine) for FRR to reach Established.
fn wait_established(frr: &Frr) -> bool {
    poll(
        StdDuration::from_secs(20),
        StdDuration::from_millis(100),
        || frr.established(),
    )
}

#[test]
fn frr_establishes_with_live_msee_negotiates_hold_9_and_routes_flow_both_ways() {
    let Some(bins) = frr_or_skip() else {
        return;
    };
    let our_port = free_port();
    let live = LiveRun::msee(our_port, 12, Vec::new());
    let frr = start_frr(&bins, our_port, &FrrConfig::default());
    let mut route = String::new();
    let up = wait_established(&frr)
        && poll(
            StdDuration::from_secs(5),
            StdDuration::from_millis(100),
            || {
                route = frr.vtysh(&["show bgp ipv4 unicast 10.10.0.0/16"]);
                route.contains("valid")
            },
        );
    let neighbor = frr.neighbor();
    let (summary, text) = live.join();
    drop(frr);
    assert!(up, "FRR: {neighbor}\n{route}\nours:\n{text}");
    // RFC 4271 §4.2: "the smaller of its configured Hold Time and the Hold Time received".
    assert_eq!(
        summary.negotiated,
        Some((Duration::from_secs(9), Duration::from_secs(3))),
        "{text}"
    );
    assert!(
        neighbor.contains("Hold time is 9 seconds, keepalive interval is 3 seconds"),
        "{neighbor}"
    );
    // What FRR saw us announce (RFC 6793, RFC 2918, RFC 4760).
    for cap in [
        "4 Byte AS: advertised and received",
        "Route refresh: advertised and received",
        "Address Family IPv4 Unicast: advertised and received",
    ] {
        assert!(neighbor.contains(cap), "FRR lacks `{cap}`:\n{neighbor}");
    }
    // Our VNet prefix in FRR's table, AS path 12076 (we are eBGP: RFC 4271 §5.1.2 prepends
    // our AS), from our router id.
    assert!(route.contains("\n  12076\n"), "AS path:\n{route}");
    // FRR's prefix in our forwarding table, via FRR's address.
    assert!(
        text.contains(&format!("fib 10.1.0.0/16 via ce1 ({FRR_ADDR})")),
        "ours:\n{text}"
    );
}

#[test]
fn our_silence_expires_frrs_hold_timer_within_its_profiles_window() {
    let Some(bins) = frr_or_skip() else {
        return;
    };
    let our_port = free_port();
    let t0 = wall();
    let silent_at = StdDuration::from_secs(10);
    let faults = vec![ScheduledFault {
        at: at(silent_at),
        fault: Fault::Silent,
        target: None,
    }];
    let live = LiveRun::msee(our_port, 24, faults);
    let frr = start_frr(&bins, our_port, &FrrConfig::default());
    let was_up = wait_established(&frr);
    let mut went_down = None;
    let mut neighbor = String::new();
    if was_up {
        // Poll every 50 ms until 23 s after the start.
        poll(
            StdDuration::from_secs(22),
            StdDuration::from_millis(50),
            || {
                let now = frr.neighbor();
                let down = !now.contains("BGP state = Established");
                if down {
                    went_down = Some(t0.elapsed());
                    neighbor = now;
                }
                down
            },
        );
    }
    let (summary, text) = live.join();
    drop(frr);
    assert!(was_up, "never Established:\n{text}");
    // FRR does not jitter its hold timer (profile `frr`): it expires in (H − K, H] after the
    // silence, H = 9 s negotiated, K = 3 s our keepalive interval. 50 ms polling plus a vtysh
    // round trip on a loaded machine.
    assert_daemon_detected_our_silence(
        "FRR",
        &Profile::FRR,
        (silent_at, went_down),
        StdDuration::from_millis(600),
        (&summary, &text, &neighbor),
    );
    assert!(
        neighbor.contains("Hold Timer Expired"),
        "FRR's session went down for another reason:\n{neighbor}"
    );
}

#[test]
fn a_frozen_frr_expires_our_hold_timer_within_our_profiles_window() {
    let Some(bins) = frr_or_skip() else {
        return;
    };
    let our_port = free_port();
    let t0 = wall();
    let live = LiveRun::msee(our_port, 24, Vec::new());
    let frr = start_frr(&bins, our_port, &FrrConfig::default());
    let mut stopped_at = None;
    if wait_established(&frr) {
        stopped_at = Some(freeze_after_a_keepalive(&frr.daemon, t0));
    }
    let (summary, text) = live.join();
    drop(frr);
    // FRR sends keepalives at a fixed 3 s.
    assert_we_detected_the_freeze("FRR", stopped_at, &summary, &text);
    // RFC 4271 §6.5: on expiry "the error code Hold Timer Expired" (4/0) is sent.
    assert!(
        summary
            .notifications
            .iter()
            .any(|n| n.sent && (n.code, n.subcode) == (4, 0)),
        "{text}"
    );
}

/// Runs msee1 against FRR configured by `cfg` for `secs`, calling `during` once FRR has
/// started; returns our summary, our timeline and FRR's neighbor view at the end.
fn run_against(
    cfg: &FrrConfig,
    topo: scenarios::topology::Topology,
    secs: u64,
    during: impl FnOnce(&Frr),
) -> Option<(scenarios::live::SessionSummary, String, String)> {
    let bins = frr_or_skip()?;
    let our_port = free_port();
    let live = LiveRun::msee_of(topo, our_port, secs, Vec::new());
    let frr = start_frr(&bins, our_port, cfg);
    during(&frr);
    let (summary, text) = live.join();
    let neighbor = frr.neighbor();
    drop(frr);
    Some((summary, text, neighbor))
}

#[test]
fn frr_expecting_another_as_sends_us_open_error_bad_peer_as() {
    let cfg = FrrConfig {
        remote_as: 12077,
        ..FrrConfig::default()
    };
    let Some((summary, text, neighbor)) = run_against(&cfg, reference(), 6, |_| {}) else {
        return;
    };
    // RFC 4271 §6.2: "If the Autonomous System field of the OPEN message is unacceptable,
    // then the Error Subcode MUST be set to Bad Peer AS."
    assert!(has(&summary, false, 2, 2), "{text}\nFRR:\n{neighbor}");
    assert!(summary.negotiated.is_none(), "{text}");
}

#[test]
fn we_send_open_error_bad_peer_as_to_frr_with_an_unexpected_as() {
    let cfg = FrrConfig {
        local_as: 65002,
        ..FrrConfig::default()
    };
    let Some((summary, text, neighbor)) = run_against(&cfg, reference(), 6, |_| {}) else {
        return;
    };
    // RFC 4271 §6.2, as above, from our side: ce1 must be AS 65001.
    assert!(has(&summary, true, 2, 2), "{text}");
    assert!(summary.negotiated.is_none(), "{text}");
    assert!(neighbor.contains("Bad Peer AS"), "FRR:\n{neighbor}");
}

#[test]
fn frr_sends_cease_max_prefix_when_we_exceed_its_limit() {
    // Five VNet prefixes against FRR's limit of two. (FRR counts accepted prefixes when
    // it processes the next UPDATE, so the limit is crossed by a margin.)
    let mut topo = reference();
    interop_support::add_vnet_prefixes(&mut topo, 4);
    let cfg = FrrConfig {
        max_prefix: Some(2),
        ..FrrConfig::default()
    };
    let Some((summary, text, neighbor)) = run_against(&cfg, topo, 8, |_| {}) else {
        return;
    };
    // RFC 4486 §4: "Maximum Number of Prefixes Reached" is Cease subcode 1.
    assert!(has(&summary, false, 6, 1), "{text}\nFRR:\n{neighbor}");
    assert!(summary.negotiated.is_some(), "{text}");
}

#[test]
fn we_send_cease_max_prefix_when_frr_exceeds_our_limit() {
    // msee1's limit lowered from Azure's 4,000 to 2; FRR originates 5 networks.
    let mut topo = reference();
    interop_support::limit_msee_prefixes(&mut topo, 2);
    let cfg = FrrConfig {
        extra_networks: 4,
        ..FrrConfig::default()
    };
    let Some((summary, text, neighbor)) = run_against(&cfg, topo, 8, |_| {}) else {
        return;
    };
    // RFC 4486 §4: Cease subcode 1, "Maximum Number of Prefixes Reached".
    assert!(has(&summary, true, 6, 1), "{text}\nFRR:\n{neighbor}");
    assert!(text.contains("max-prefix 2 exceeded"), "{text}");
    assert!(
        neighbor.contains("Maximum Number of Prefixes Reached"),
        "FRR:\n{neighbor}"
    );
}

#[test]
fn frr_neighbor_shutdown_reaches_us_as_cease_admin_shutdown_with_its_message() {
    let message = "maintenance: traffic moves to ce2";
    let mut up = false;
    let ran = run_against(&FrrConfig::default(), reference(), 12, |frr| {
        up = wait_established(frr);
        if up {
            let _ = frr.vtysh(&[
                "configure terminal",
                "router bgp 65001",
                &format!("neighbor 127.0.0.1 shutdown message {message}"),
            ]);
        }
    });
    let Some((summary, text, neighbor)) = ran else {
        return;
    };
    assert!(up, "never Established:\n{text}");
    // RFC 4486 §4: Administrative Shutdown is Cease subcode 2; RFC 9003 §2 carries the text.
    let seen = summary
        .notifications
        .iter()
        .find(|n| !n.sent && (n.code, n.subcode) == (6, 2));
    let Some(seen) = seen else {
        panic!("no Cease 6/2 received:\n{text}\nFRR:\n{neighbor}")
    };
    assert_eq!(seen.communication.as_deref(), Some(message), "{text}");
    assert!(
        text.contains(&format!("received NOTIFICATION 6/2 {message:?}")),
        "{text}"
    );
}

/// RFC 2385 against FRR: msee1 listens with the peering's key installed for FRR's address;
/// bgpd dials with `neighbor password`. Returns whether FRR reached Established within 12 s.
fn md5_session_with_frr(bins: &(PathBuf, PathBuf), password: &'static str) -> (bool, String) {
    let our_port = free_port();
    let topo = interop_support::reference_with_md5("azure-md5-key", FRR_ADDR);
    let live = LiveRun::msee_of(topo, our_port, 14, Vec::new());
    let cfg = FrrConfig {
        password: Some(password),
        ..FrrConfig::default()
    };
    let frr = start_frr(bins, our_port, &cfg);
    let up = poll(
        StdDuration::from_secs(12),
        StdDuration::from_millis(100),
        || frr.established(),
    );
    let neighbor = frr.neighbor();
    let (_, text) = live.join();
    drop(frr);
    (up, format!("FRR: {neighbor}\nours:\n{text}"))
}

#[test]
fn frr_with_the_same_md5_key_establishes() {
    let Some(bins) = frr_or_skip() else {
        return;
    };
    let (up, log) = md5_session_with_frr(&bins, "azure-md5-key");
    assert!(up, "{log}");
    assert!(log.contains("TCP MD5 signatures on"), "{log}");
}

#[test]
fn frr_with_another_md5_key_never_connects() {
    let Some(bins) = frr_or_skip() else {
        return;
    };
    let (up, log) = md5_session_with_frr(&bins, "not-the-key");
    assert!(!up, "{log}");
}

/// FRR as ce1 in its own network namespace with BFD: zebra (bgpd registers its BFD peers
/// with bfdd through zebra's ZAPI socket), bfdd and bgpd, all with their sockets, configs and
/// pid files in one temporary directory. Each daemon is killed on drop.
struct FrrBfd {
    // Dropped in this order: bgpd, bfdd, then zebra.
    bgpd: Daemon,
    bfdd: Daemon,
    /// Kept to be killed on drop.
    _zebra: Daemon,
    vtysh: PathBuf,
    /// Our address, FRR's neighbor.
    ours: Ipv4Addr,
}

impl FrrBfd {
    /// Runs vtysh commands (each `-c`) against these daemons.
    fn vtysh(&self, commands: &[&str]) -> String {
        let dir = self.bgpd.dir.to_string_lossy().into_owned();
        let mut args = vec!["--vty_socket", dir.as_str()];
        for c in commands {
            args.extend(["-c", c]);
        }
        output(&self.vtysh, &args)
    }

    /// `show bgp neighbors` for our session.
    fn neighbor(&self) -> String {
        self.vtysh(&[&format!("show bgp neighbors {}", self.ours)])
    }

    fn established(&self) -> bool {
        self.neighbor().contains("BGP state = Established")
    }

    /// FRR's BFD session to us is Up and its BGP session Established.
    fn bfd_and_bgp_up(&self) -> bool {
        self.vtysh(&["show bfd peers"]).contains("Status: up") && self.established()
    }
}

/// Starts zebra, bfdd and bgpd inside `ns` (AS 65001, hold 9 s, `neighbor ... bfd` with a
/// bfdd profile of 300 ms × 3), bgpd dialling msee1 at our address, port `our_port`, from
/// its veth address. Returns `None` (skipped) when FRR is missing.
fn start_frr_with_bfd(ns: &Netns, our_port: u16) -> Option<FrrBfd> {
    let (bgpd, vtysh) = frr_or_skip()?;
    let bfdd = require("bfdd", "frr")?;
    let zebra = require("zebra", "frr")?;
    let dir = temp_dir("frr-bfd", our_port);
    // zebra and bfdd drop to the `frr` user: they write their pid files and sockets here.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
        .expect("open the daemon directory to the frr user");
    let ours = ns.ours;
    let theirs = ns.theirs;
    let bgpd_conf = format!(
        "frr defaults traditional
hostname holdtime-frr
router bgp 65001
 bgp router-id 192.0.2.66
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor {ours} remote-as 12076
 neighbor {ours} port {our_port}
 neighbor {ours} update-source {theirs}
 neighbor {ours} timers 3 9
 neighbor {ours} timers connect 1
 neighbor {ours} bfd
 neighbor {ours} bfd profile fast
 address-family ipv4 unicast
  network 10.1.0.0/16
 exit-address-family
"
    );
    // RFC 5880 §6.8.4: Detection Time = the remote Detect Mult × the agreed interval.
    let bfdd_conf = "hostname holdtime-frr-bfdd
bfd
 profile fast
  detect-multiplier 3
  receive-interval 300
  transmit-interval 300
 !
!
";
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write an FRR config");
        path
    };
    let zserv = dir.join("zserv.api");
    let launch = |program: &Path, name: &str, conf: &str, extra: &[&str]| {
        let conf = write(&format!("{name}.conf"), conf);
        let child = ns
            .command(program)
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join(format!("{name}.pid")))
            .arg("--vty_socket")
            .arg(&dir)
            .arg("-z")
            .arg(&zserv)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start an FRR daemon");
        Daemon {
            child,
            dir: dir.clone(),
        }
    };
    let zebra = launch(&zebra, "zebra", "hostname holdtime-frr-zebra\n", &[]);
    // bfdd and bgpd register with zebra once its ZAPI socket exists.
    poll(
        StdDuration::from_secs(5),
        StdDuration::from_millis(50),
        || zserv.exists(),
    );
    let bfdctl = dir.join("bfdd.sock").to_string_lossy().into_owned();
    let bfdd = launch(&bfdd, "bfdd", bfdd_conf, &["--bfdctl", &bfdctl]);
    // No kernel routes (-n), no user switch (-S), no listener (-p 0): bgpd dials us.
    let bgpd = launch(&bgpd, "bgpd", &bgpd_conf, &["-n", "-S", "-p", "0"]);
    Some(FrrBfd {
        bgpd,
        bfdd,
        _zebra: zebra,
        vtysh,
        ours,
    })
}

/// Our run as msee1 of the `bfd` scenario, listening on our veth address.
fn live_bfd(ns: &Netns, port: u16, secs: u64, faults: Vec<ScheduledFault>) -> LiveRun {
    LiveRun::spawn_all(
        bfd_topology(ns.ours),
        LiveRole::Msee,
        vec![Endpoint::Listen(SocketAddr::from((ns.ours, port)))],
        secs,
        faults,
        Some(scenarios::topology::Profile::Frr),
    )
}

/// RFC 5880 §6.8.4 with 300 ms × 3 at both ends: detection 900 ms after the last packet,
/// which left up to one 300 ms interval before the silence: (600 ms, 900 ms].
const BFD_WINDOW: (StdDuration, StdDuration) =
    (StdDuration::from_millis(600), StdDuration::from_millis(900));

/// FRR's subnet for the BFD tests: 10.232.x.y (BIRD's are on 10.231).
const FRR_BFD_NET: u8 = 232;

#[test]
fn frrs_bfd_detects_our_silence_within_its_detection_time_and_takes_bgp_down() {
    if frr_or_skip().is_none() || !require_root("BFD over UDP 3784 with FRR in a namespace") {
        return;
    }
    let port = free_port();
    let ns = Netns::create_on(port, FRR_BFD_NET, "hf");
    // 12 s: room for FRR's occasional reset of a new BFD session (see the frozen-bfdd test)
    // and the BGP session's re-establishment before the fault.
    let silent_at = StdDuration::from_secs(12);
    let t0 = wall();
    let faults = vec![ScheduledFault {
        at: at(silent_at),
        fault: Fault::Silent,
        target: Some("primary".to_owned()),
    }];
    let live = live_bfd(&ns, port, 17, faults);
    let Some(frr) = start_frr_with_bfd(&ns, port) else {
        return;
    };
    let up = poll(
        StdDuration::from_secs(9),
        StdDuration::from_millis(250),
        || frr.bfd_and_bgp_up(),
    );
    let peers = frr.vtysh(&["show bfd peers"]);
    // Then, from just before the fault, every 50 ms until FRR's BGP session leaves
    // Established (a reset before the fault is FRR's start-up, not our silence).
    let mut went_down = None;
    let mut neighbor = String::new();
    if up {
        poll(
            StdDuration::from_secs(16).saturating_sub(t0.elapsed()),
            StdDuration::from_millis(50),
            || {
                if t0.elapsed() + StdDuration::from_millis(100) < silent_at {
                    return false;
                }
                let now = frr.neighbor();
                if !now.contains("BGP state = Established") {
                    went_down = Some(t0.elapsed());
                    neighbor = now;
                }
                went_down.is_some()
            },
        );
    }
    let (summary, text) = live.join_all();
    drop(frr);
    drop(ns);
    assert!(
        up,
        "BFD never Up with BGP Established: {peers}\nours:\n{text}"
    );
    let Some(went_down) = went_down else {
        panic!("FRR's session never went down:\n{text}")
    };
    assert_within(
        "FRR's BFD took its session down after our silence, after",
        went_down.saturating_sub(silent_at),
        BFD_WINDOW,
        // 50 ms polling, vtysh's own latency, the run's start-up offset.
        StdDuration::from_millis(400),
        &text,
    );
    // RFC 5882 §4.3: the BFD session going down takes BGP down, not its hold timer (9 s);
    // FRR 8 records it as "Notification sent (Cease/BFD Down)" (RFC 9384, Cease 6/10).
    assert!(
        neighbor.contains("Cease/BFD Down"),
        "FRR's session went down for another reason:\n{neighbor}"
    );
    // Our view: FRR closed the silenced session, within its BFD detection time.
    let ours = summary
        .sessions
        .first()
        .unwrap_or_else(|| panic!("no session in our summary:\n{text}"));
    let seen = ours
        .peer_detections
        .first()
        .unwrap_or_else(|| panic!("we did not see FRR close:\n{text}"));
    assert_within(
        "we saw FRR close the silenced session after",
        StdDuration::from_nanos(seen.after.as_nanos()),
        BFD_WINDOW,
        StdDuration::from_millis(150),
        &text,
    );
}

#[test]
fn a_frozen_frr_bfdd_is_detected_by_ours_within_our_detection_time() {
    if frr_or_skip().is_none() || !require_root("BFD over UDP 3784 with FRR in a namespace") {
        return;
    }
    let port = free_port();
    let ns = Netns::create_on(port, FRR_BFD_NET, "hf");
    let t0 = wall();
    let live = live_bfd(&ns, port, 18, Vec::new());
    let Some(frr) = start_frr_with_bfd(&ns, port) else {
        return;
    };
    let mut stopped_at = None;
    // FRR's bfdd sometimes signals Down once right after a new session comes Up (seen in a
    // CI run: Init -> Up -> Down, diagnostic 3, within 5 ms, and BGP re-established seconds
    // later), so freeze only once BFD and BGP have stayed up for 2 s.
    let mut up_since: Option<StdDuration> = None;
    let stable = poll(
        StdDuration::from_secs(14),
        StdDuration::from_millis(100),
        || {
            if !frr.bfd_and_bgp_up() {
                up_since = None;
                return false;
            }
            let now = t0.elapsed();
            now - *up_since.get_or_insert(now) >= StdDuration::from_secs(2)
        },
    );
    if stable {
        // Freeze bfdd alone: no more BFD packets arrive while bgpd keeps its session (and
        // keepalives) alive.
        frr.bfdd.freeze();
        stopped_at = Some(t0.elapsed());
    }
    let (_, text) = live.join_all();
    drop(frr);
    drop(ns);
    let Some(stopped_at) = stopped_at else {
        panic!("BFD never Up with BGP Established:\n{text}")
    };
    let down = "bfd circuit.primary.private: session down";
    let Some(down) = line_time_after(&text, down, stopped_at) else {
        panic!("our BFD never went down after bfdd froze at {stopped_at:?}:\n{text}")
    };
    assert_within(
        "our BFD detected the frozen FRR bfdd after",
        down.saturating_sub(stopped_at),
        BFD_WINDOW,
        StdDuration::from_millis(200),
        &text,
    );
    assert_bgp_fell_with_bfd(&text);
}
