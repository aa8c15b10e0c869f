//! Interop with BIRD 2: `holdtime live` plays msee1 (AS 12076, hold 180 s) on 127.0.0.1 and a
//! BIRD started by this test plays the customer router (AS 65001, hold 9 s) on 127.0.0.2 with
//! a config written by the test, on unprivileged ports. (On one address BIRD refuses to send
//! its routes: "Invalid NEXT_HOP attribute - neighbor address", its own next hop being the
//! neighbor's address.) Checks: the session reaches Established, the
//! hold time negotiates to 9 s (RFC 4271 §4.2: the smaller of the two), our VNet prefix is in
//! BIRD's table (`birdc show route`) and BIRD's prefix is in our forwarding table.
//!
//! Two more tests put a wire probe in holdtime's place (a raw socket speaking through
//! `bgp::wire`): BIRD's OPEN must decode to the capabilities its config asks for, and its
//! KEEPALIVEs must arrive at its jittered keepalive time, measured on the wire.
//!
//! Issue 20's series of 30 silent failures against BIRD is `interop_bird_failures`.
//!
//! Skips with a printed reason when `bird` is not installed, except under `CI=true`, where a
//! missing BIRD fails the test (`.ci/run` installs `bird2`). The daemon is killed on drop.
//! The harness (skip rule, ports, daemons, live runs, windows) is `interop_support`.

mod interop_support;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use bgp::fsm::profile::Profile;
use bgp::live::Fault;
use interop_support::{
    Daemon, LiveRun, Netns, assert_bgp_fell_with_bfd, assert_daemon_detected_our_silence,
    assert_we_detected_the_freeze, assert_within, at, bfd_topology, free_port,
    freeze_after_a_keepalive, line_time, output, poll, reference, require, require_root, temp_dir,
    wall, window,
};
use scenarios::live::{Endpoint, LiveRole, ScheduledFault};
use sim_core::time::Duration;

/// A BIRD daemon and its control socket.
struct Bird {
    daemon: Daemon,
    socket: PathBuf,
}

impl Bird {
    fn birdc(&self, command: &str) -> String {
        let socket = self.socket.to_string_lossy().into_owned();
        let mut args = vec!["-s", socket.as_str()];
        args.extend(command.split_whitespace());
        output(Path::new("birdc"), &args)
    }

    fn established(&self, protocol: &str) -> bool {
        self.birdc(&format!("show protocols {protocol}"))
            .contains("Established")
    }
}

/// The `bird` binary, or `None` (skipped) when BIRD is missing.
fn bird_or_skip() -> Option<PathBuf> {
    require("bird", "bird2")
}

/// Starts `bird` in the foreground with `config`, in a temporary directory named after
/// `port` (unique per test).
fn spawn_bird(bird: &Path, port: u16, config: &str) -> Bird {
    launch_bird(Command::new(bird), "bird", port, config)
}

/// BIRD as ce1 (AS 65001, hold 9 s) on 127.0.0.2, dialling msee1 on 127.0.0.1:`our_port`.
fn start_bird(bird: &Path, our_port: u16) -> Bird {
    start_bird_with(bird, our_port, "")
}

/// [`start_bird`] with `extra` lines in the BGP protocol (e.g. `password "..."`).
fn start_bird_with(bird: &Path, our_port: u16, extra: &str) -> Bird {
    let bird_port = free_port();
    let config = format!(
        "router id 192.0.2.65;
log stderr all;
protocol device {{ }}
protocol static customer {{
  ipv4;
  route 10.1.0.0/16 via \"lo\";
}}
protocol bgp msee1 {{
  local 127.0.0.2 port {bird_port} as 65001;
  neighbor 127.0.0.1 port {our_port} as 12076;
  multihop;
  hold time 9;
  connect retry time 1;
  {extra}
  ipv4 {{ import all; export where proto = \"customer\"; next hop self; }};
}}
"
    );
    spawn_bird(bird, our_port, &config)
}

#[test]
fn bird_establishes_with_live_msee_and_routes_flow_both_ways() {
    let Some(bird) = bird_or_skip() else {
        return;
    };
    let our_port = free_port();
    let live = LiveRun::msee(our_port, 12, Vec::new());
    let daemon = start_bird(&bird, our_port);
    let mut routes = String::new();
    let mut protocols = String::new();
    // At most 10 s: BIRD waits its 5 s connect delay before dialling.
    poll(
        StdDuration::from_secs(10),
        StdDuration::from_millis(250),
        || {
            protocols = daemon.birdc("show protocols msee1");
            routes = daemon.birdc("show route");
            protocols.contains("Established") && routes.contains("10.10.0.0/16")
        },
    );
    let exported = daemon.birdc("show route export msee1 all");
    let (summary, text) = live.join();
    drop(daemon);
    assert!(
        protocols.contains("Established"),
        "BIRD: {protocols}\nours:\n{text}"
    );
    assert!(
        routes.contains("10.10.0.0/16"),
        "BIRD's table: {routes}\nours:\n{text}"
    );
    // RFC 4271 §4.2: "the smaller of its configured Hold Time and the Hold Time received".
    assert_eq!(
        summary.negotiated.map(|(h, _)| h),
        Some(Duration::from_secs(9)),
        "{text}"
    );
    assert!(
        text.contains("fib 10.1.0.0/16 via ce1 (127.0.0.2)"),
        "BIRD exported: {exported}\nours:\n{text}"
    );
}

#[test]
fn our_silence_expires_birds_hold_timer_within_its_profiles_window() {
    let Some(bird) = bird_or_skip() else {
        return;
    };
    let our_port = free_port();
    let silent_at = StdDuration::from_secs(8);
    let t0 = wall();
    let faults = vec![ScheduledFault {
        at: at(silent_at),
        fault: Fault::Silent,
        target: None,
    }];
    let live = LiveRun::msee(our_port, 20, faults);
    let daemon = start_bird(&bird, our_port);
    let mut was_up = false;
    let mut went_down = None;
    // Poll every 100 ms for at most 19 s.
    poll(
        StdDuration::from_secs(19),
        StdDuration::from_millis(100),
        || {
            let up = daemon.established("msee1");
            was_up |= up;
            if was_up && !up {
                went_down = Some(t0.elapsed());
            }
            went_down.is_some()
        },
    );
    let (summary, text) = live.join();
    drop(daemon);
    assert!(was_up, "never Established:\n{text}");
    // BIRD jitters its hold timer (profile `bird`): it expires in (0.75 H − K, H] after our
    // silence, H = 9 s negotiated, K = 3 s our keepalive; BIRD acts on it (the session goes
    // down) at its event loop's next wake-up, up to 3 s later (`HoldExpiry::NextWakeUp`).
    // 100 ms polling and process start-up on either side of the window.
    assert_daemon_detected_our_silence(
        "BIRD",
        &Profile::BIRD,
        (silent_at, went_down),
        StdDuration::from_millis(500),
        (&summary, &text, ""),
    );
}

#[test]
fn a_frozen_bird_expires_our_hold_timer_within_our_profiles_window() {
    let Some(bird) = bird_or_skip() else {
        return;
    };
    let our_port = free_port();
    let t0 = wall();
    let live = LiveRun::msee(our_port, 20, Vec::new());
    let daemon = start_bird(&bird, our_port);
    let mut stopped_at = None;
    if poll(
        StdDuration::from_secs(10),
        StdDuration::from_millis(100),
        || daemon.established("msee1"),
    ) {
        stopped_at = Some(freeze_after_a_keepalive(&daemon.daemon, t0));
    }
    let (summary, text) = live.join();
    drop(daemon);
    // BIRD's keepalive: K = 3 s, a third of the hold time.
    assert_we_detected_the_freeze("BIRD", stopped_at, &summary, &text);
}

/// BIRD as the customer side of the whole circuit (AS 65001, hold 9 s) on 127.0.0.6 (an
/// address no other suite uses), with two neighbours: msee1 on 127.0.0.1:`primary` and
/// msee2 on 127.0.0.1:`secondary`. Local preference 200 on routes from msee1 and 100 from
/// msee2: the usual customer policy that prefers the primary link.
fn start_bird_for_pair(bird: &Path, primary: u16, secondary: u16) -> Bird {
    let bird_port = free_port();
    let neighbour = |name: &str, port: u16, pref: u32| {
        format!(
            "protocol bgp {name} {{
  local 127.0.0.6 port {bird_port} as 65001;
  neighbor 127.0.0.1 port {port} as 12076;
  multihop;
  hold time 9;
  connect retry time 1;
  ipv4 {{
    import filter {{ bgp_local_pref = {pref}; accept; }};
    export where proto = \"customer\";
    next hop self;
  }};
}}
"
        )
    };
    let config = format!(
        "router id 192.0.2.66;
log stderr all;
protocol device {{ }}
protocol static customer {{
  ipv4;
  route 10.1.0.0/16 via \"lo\";
}}
{}{}",
        neighbour("msee1", primary, 200),
        neighbour("msee2", secondary, 100)
    );
    spawn_bird(bird, primary, &config)
}

/// The protocol (`msee1`, `msee2`) of BIRD's best route for the VNet prefix, if any: the
/// route line marked `*` in `birdc show route for 10.10.0.0/16`.
fn best_vnet_route(daemon: &Bird) -> Option<String> {
    let shown = daemon.birdc("show route for 10.10.0.0/16");
    shown
        .lines()
        .find(|l| l.contains(" * "))
        .and_then(|l| l.split_once('[').map(|(_, rest)| rest))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
}

#[test]
fn msee_pair_silence_on_the_primary_moves_birds_best_route_to_the_secondary_in_its_window() {
    let Some(bird) = bird_or_skip() else {
        return;
    };
    let (primary, secondary) = (free_port(), free_port());
    let silent_at = StdDuration::from_secs(14);
    let t0 = wall();
    let faults = vec![ScheduledFault {
        at: at(silent_at),
        fault: Fault::Silent,
        target: Some("primary".to_owned()),
    }];
    let endpoints = [primary, secondary]
        .map(|p| Endpoint::Listen(SocketAddr::from((Ipv4Addr::LOCALHOST, p))))
        .to_vec();
    let live = LiveRun::spawn_all(
        reference(),
        LiveRole::Msee,
        endpoints,
        26,
        faults,
        Some(scenarios::topology::Profile::Bird),
    );
    let daemon = start_bird_for_pair(&bird, primary, secondary);
    // Both sessions up and the VNet prefix learned over both, the primary preferred.
    let mut before = None;
    poll(
        StdDuration::from_secs(13),
        StdDuration::from_millis(250),
        || {
            before = best_vnet_route(&daemon);
            daemon.established("msee1")
                && daemon.established("msee2")
                && before.as_deref() == Some("msee1")
        },
    );
    let learned_over_both = daemon.birdc("show route for 10.10.0.0/16 all");
    // Then poll every 100 ms until the best route is the secondary's.
    let mut moved = None;
    poll(
        StdDuration::from_secs(24).saturating_sub(t0.elapsed()),
        StdDuration::from_millis(100),
        || {
            if best_vnet_route(&daemon).as_deref() == Some("msee2") {
                moved = Some(t0.elapsed());
            }
            moved.is_some()
        },
    );
    let after_move = daemon.birdc("show route for 10.10.0.0/16 all");
    let (summary, text) = live.join_all();
    drop(daemon);
    assert_eq!(
        before.as_deref(),
        Some("msee1"),
        "{learned_over_both}\nours:\n{text}"
    );
    assert!(
        learned_over_both.contains("[msee1") && learned_over_both.contains("[msee2"),
        "the VNet prefix over both sessions: {learned_over_both}\nours:\n{text}"
    );
    let Some(moved) = moved else {
        panic!("BIRD's best route never moved to msee2: {after_move}\nours:\n{text}")
    };
    assert!(
        after_move.contains("BGP.as_path: 12076"),
        "{after_move}\nours:\n{text}"
    );
    let primary_summary = summary
        .sessions
        .first()
        .unwrap_or_else(|| panic!("no session:\n{text}"));
    // BIRD's hold timer, jittered down to 0.75 H, restarts on our keepalives: it expires in
    // (0.75 H − K, H] after the silence, H = 9 s, K = 3 s, and BIRD acts on it (failover) at
    // its event loop's next wake-up, here the other session's next timer or KEEPALIVE, at
    // most 3 s later (`HoldExpiry::NextWakeUp`).
    let predicted = window(&Profile::BIRD, primary_summary, &text);
    assert_within(
        "BIRD's best route moved to the secondary after",
        moved.saturating_sub(silent_at),
        predicted,
        StdDuration::from_millis(500),
        &text,
    );
    // Our own view of the same failover: BIRD closed the silenced session, and the
    // secondary session was still Established to carry the routes.
    let failover = summary
        .failovers
        .first()
        .unwrap_or_else(|| panic!("no failover in the summary:\n{text}"));
    assert_eq!(failover.from, "circuit.primary.private", "{text}");
    assert_eq!(
        failover.to,
        vec!["circuit.secondary.private".to_owned()],
        "{text}"
    );
    assert_within(
        "we saw BIRD close the silenced primary after",
        StdDuration::from_nanos(failover.detection.after.as_nanos()),
        predicted,
        StdDuration::from_millis(300),
        &text,
    );
    assert!(
        text.contains("msee2    bgp circuit.secondary.private: negotiated keepalive 3s, hold 9s"),
        "{text}"
    );
    assert!(
        !text.contains("FAULT silent on circuit.secondary"),
        "{text}"
    );
}

/// Starts `bird` inside `ns` with `config`, in a temporary directory named after `port`.
fn spawn_bird_in(ns: &Netns, bird: &Path, port: u16, config: &str) -> Bird {
    launch_bird(ns.command(bird), "bird-bfd", port, config)
}

/// Starts BIRD by `command` (the binary, maybe inside a namespace) in the foreground with
/// `config`, its control socket in a temporary directory named after `tag` and `port`.
fn launch_bird(mut command: Command, tag: &str, port: u16, config: &str) -> Bird {
    let dir = temp_dir(tag, port);
    let conf = dir.join("bird.conf");
    std::fs::write(&conf, config).expect("write bird.conf");
    let socket = dir.join("bird.ctl");
    let child = command
        .arg("-f")
        .arg("-c")
        .arg(&conf)
        .arg("-s")
        .arg(&socket)
        .arg("-P")
        .arg(dir.join("bird.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bird");
    Bird {
        daemon: Daemon { child, dir },
        socket,
    }
}

/// BIRD as ce1 inside `ns` (AS 65001, hold 9 s, BFD 300 ms × 3 on its veth, `bfd on` for
/// the BGP session), dialling msee1 at our address, port `our_port`.
fn start_bird_with_bfd(ns: &Netns, bird: &Path, our_port: u16) -> Bird {
    let config = format!(
        "router id 192.0.2.68;
log stderr all;
protocol device {{ }}
protocol bfd {{
  interface \"{inner}\" {{ interval 300 ms; multiplier 3; }};
}}
protocol static customer {{
  ipv4;
  route 10.1.0.0/16 via \"lo\";
}}
protocol bgp msee1 {{
  local {theirs} as 65001;
  neighbor {ours} port {our_port} as 12076;
  hold time 9;
  connect retry time 1;
  bfd on;
  ipv4 {{ import all; export where proto = \"customer\"; next hop self; }};
}}
",
        inner = ns.inner,
        theirs = ns.theirs,
        ours = ns.ours,
    );
    spawn_bird_in(ns, bird, our_port, &config)
}

/// BIRD's BFD session to us is Up, its BGP session Established and our VNet prefix in its
/// table.
fn bfd_and_bgp_up(daemon: &Bird) -> bool {
    daemon.birdc("show bfd sessions").contains(" Up ")
        && daemon.established("msee1")
        && daemon.birdc("show route").contains("10.10.0.0/16")
}

/// RFC 5880 §6.8.4 with 300 ms × 3 at both ends: detection 900 ms after the last packet,
/// which left up to one 300 ms interval before the silence: (600 ms, 900 ms].
const BFD_WINDOW: (StdDuration, StdDuration) =
    (StdDuration::from_millis(600), StdDuration::from_millis(900));

#[test]
fn birds_bfd_detects_our_silence_within_its_detection_time_and_drops_the_route() {
    let Some(bird) = bird_or_skip() else {
        return;
    };
    if !require_root("BFD over UDP 3784 with BIRD in a network namespace") {
        return;
    }
    let port = free_port();
    let ns = Netns::create(port);
    let silent_at = StdDuration::from_secs(10);
    let t0 = wall();
    let faults = vec![ScheduledFault {
        at: at(silent_at),
        fault: Fault::Silent,
        target: Some("primary".to_owned()),
    }];
    let live = LiveRun::spawn_all(
        bfd_topology(ns.ours),
        LiveRole::Msee,
        vec![Endpoint::Listen(SocketAddr::from((ns.ours, port)))],
        15,
        faults,
        Some(scenarios::topology::Profile::Bird),
    );
    let daemon = start_bird_with_bfd(&ns, &bird, port);
    let up = poll(
        StdDuration::from_secs(9),
        StdDuration::from_millis(250),
        || bfd_and_bgp_up(&daemon),
    );
    let sessions = daemon.birdc("show bfd sessions");
    // Then every 50 ms until BIRD's BGP session leaves Established.
    let mut went_down = None;
    if up {
        poll(
            StdDuration::from_secs(14).saturating_sub(t0.elapsed()),
            StdDuration::from_millis(50),
            || {
                if !daemon.established("msee1") {
                    went_down = Some(t0.elapsed());
                }
                went_down.is_some()
            },
        );
    }
    let routes = daemon.birdc("show route");
    let (summary, text) = live.join_all();
    drop(daemon);
    drop(ns);
    assert!(
        up,
        "BFD never Up with BGP Established: {sessions}\nours:\n{text}"
    );
    let Some(went_down) = went_down else {
        panic!("BIRD's session never went down:\n{text}")
    };
    assert_within(
        "BIRD's BFD took its session down after our silence, after",
        went_down.saturating_sub(silent_at),
        BFD_WINDOW,
        // 50 ms polling, birdc's own latency, the run's start-up offset.
        StdDuration::from_millis(400),
        &text,
    );
    assert!(
        !routes.contains("10.10.0.0/16"),
        "BIRD still routes the VNet via the dead session: {routes}\nours:\n{text}"
    );
    // Our view: BIRD closed the silenced connection, within its BFD detection time.
    let seen = summary
        .sessions
        .first()
        .and_then(|s| s.peer_detections.first())
        .unwrap_or_else(|| panic!("we did not see BIRD close:\n{text}"));
    assert_within(
        "we saw BIRD close the silenced session after",
        StdDuration::from_nanos(seen.after.as_nanos()),
        BFD_WINDOW,
        StdDuration::from_millis(150),
        &text,
    );
}

#[test]
fn a_frozen_birds_bfd_is_detected_by_ours_within_our_detection_time() {
    let Some(bird) = bird_or_skip() else {
        return;
    };
    if !require_root("BFD over UDP 3784 with BIRD in a network namespace") {
        return;
    }
    let port = free_port();
    let ns = Netns::create(port);
    let t0 = wall();
    let live = LiveRun::spawn_all(
        bfd_topology(ns.ours),
        LiveRole::Msee,
        vec![Endpoint::Listen(SocketAddr::from((ns.ours, port)))],
        13,
        Vec::new(),
        Some(scenarios::topology::Profile::Bird),
    );
    let daemon = start_bird_with_bfd(&ns, &bird, port);
    let mut stopped_at = None;
    if poll(
        StdDuration::from_secs(9),
        StdDuration::from_millis(100),
        || bfd_and_bgp_up(&daemon),
    ) {
        // Let BFD run at its fast rate, then freeze BIRD: nothing more arrives.
        std::thread::sleep(StdDuration::from_millis(1000));
        daemon.daemon.freeze();
        stopped_at = Some(t0.elapsed());
    }
    let (_, text) = live.join_all();
    drop(daemon);
    drop(ns);
    let Some(stopped_at) = stopped_at else {
        panic!("BFD never Up with BGP Established:\n{text}")
    };
    let Some(down) = line_time(&text, "bfd circuit.primary.private: session down") else {
        panic!("our BFD never went down:\n{text}")
    };
    assert_within(
        "our BFD detected the frozen BIRD after",
        down.saturating_sub(stopped_at),
        BFD_WINDOW,
        StdDuration::from_millis(200),
        &text,
    );
    assert_bgp_fell_with_bfd(&text);
}

/// BIRD configured for the wire probe below: hold 9 s, keepalive 3 s, IPv4 and IPv6
/// channels, ADD-PATH receive on IPv4, extended messages on, graceful restart off. It dials
/// 127.0.0.1:`probe_port` from 127.0.0.2.
fn start_bird_for_probe(bird: &Path, probe_port: u16) -> Bird {
    let bird_port = free_port();
    let config = format!(
        "router id 192.0.2.65;
protocol device {{ }}
protocol static customer {{
  ipv4;
  route 10.1.0.0/16 via \"lo\";
}}
protocol bgp probe {{
  local 127.0.0.2 port {bird_port} as 65001;
  neighbor 127.0.0.1 port {probe_port} as 12076;
  multihop;
  hold time 9;
  keepalive time 3;
  connect delay time 1;
  connect retry time 1;
  enable route refresh on;
  enable as4 on;
  enable extended messages on;
  graceful restart off;
  long lived graceful restart off;
  ipv4 {{ import all; export where proto = \"customer\"; next hop self; add paths rx; }};
  ipv6 {{ import none; export none; }};
}}
"
    );
    spawn_bird(bird, probe_port, &config)
}

/// What the wire probe saw from BIRD.
struct Probed {
    open: bgp::wire::Open,
    /// The gaps between consecutive KEEPALIVEs with no other message in between.
    keepalive_gaps: Vec<StdDuration>,
}

/// Plays a minimal BGP speaker on a raw socket with holdtime's codec: accepts BIRD's
/// connection, sends an OPEN (AS 12076, hold 180 s, 4-octet AS, IPv4 and IPv6 unicast, route
/// refresh, extended messages), answers with KEEPALIVEs every 2 s, and records every message
/// BIRD sends for `listen_for`.
fn probe(listener: &TcpListener, listen_for: StdDuration) -> Result<Probed, String> {
    use std::io::{Read, Write};

    use bgp::wire::{
        Asn, Capability, DecodeCtx, EncodeCtx, Family, Framer, MAX_MESSAGE_LEN, Message,
    };

    #[allow(
        clippy::disallowed_methods,
        reason = "the probe timestamps real messages from a real daemon"
    )]
    let now = std::time::Instant::now;
    listener.set_nonblocking(false).map_err(|e| e.to_string())?;
    let (mut stream, _) = listener.accept().map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(StdDuration::from_millis(100)))
        .map_err(|e| e.to_string())?;
    let open = bgp::wire::Open::new(
        Asn(12076),
        180,
        Ipv4Addr::new(10, 255, 3, 1),
        vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
            Capability::ExtendedMessage,
            Capability::FourOctetAs(Asn(12076)),
        ],
    );
    let send = |stream: &mut std::net::TcpStream, m: &Message| -> Result<(), String> {
        let bytes = m
            .to_bytes(&EncodeCtx::default())
            .map_err(|e| e.to_string())?;
        stream.write_all(&bytes).map_err(|e| e.to_string())
    };
    send(&mut stream, &Message::Open(open))?;
    let ctx = DecodeCtx {
        four_octet_as: true,
        add_path: Vec::new(),
        extended_message: true,
    };
    let mut framer = Framer::new();
    let mut their_open = None;
    let mut last: Option<(std::time::Instant, bool)> = None;
    let mut gaps = Vec::new();
    let start = now();
    let mut sent_at = start;
    let mut buf = vec![0_u8; MAX_MESSAGE_LEN];
    while start.elapsed() < listen_for {
        if their_open.is_some() && sent_at.elapsed() >= StdDuration::from_secs(2) {
            send(&mut stream, &Message::Keepalive)?;
            sent_at = now();
        }
        let n = match stream.read(&mut buf) {
            Ok(0) => return Err("BIRD closed the connection".to_owned()),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        let at = now();
        framer.handle_bytes(buf.get(..n).unwrap_or_default());
        while let Some(message) = framer.poll_message(&ctx) {
            let message = message.map_err(|e| format!("undecodable message from BIRD: {e}"))?;
            let keepalive = matches!(message, Message::Keepalive);
            match message {
                Message::Open(o) => {
                    their_open = Some(o);
                    send(&mut stream, &Message::Keepalive)?;
                    sent_at = now();
                }
                Message::Notification(n) => {
                    return Err(format!("BIRD sent NOTIFICATION {}/{}", n.code.0, n.subcode));
                }
                _ => {}
            }
            if let (true, Some((prev, true))) = (keepalive, last) {
                gaps.push(at.saturating_duration_since(prev));
            }
            last = Some((at, keepalive));
        }
    }
    let open = their_open.ok_or("no OPEN from BIRD")?;
    Ok(Probed {
        open,
        keepalive_gaps: gaps,
    })
}

#[test]
fn birds_open_capabilities_decode_to_what_its_config_says() {
    use bgp::wire::{AddPathFamily, AddPathMode, Asn, Capability, Family};
    let Some(bird) = bird_or_skip() else {
        return;
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("bound").port();
    let daemon = start_bird_for_probe(&bird, port);
    let probed = probe(&listener, StdDuration::from_secs(4));
    drop(daemon);
    let open = probed.expect("probe BIRD").open;
    assert_eq!(open.asn(), Asn(65001));
    // `hold time 9`.
    assert_eq!(open.hold_time, 9);
    assert_eq!(open.bgp_id, Ipv4Addr::new(192, 0, 2, 65));
    let caps: Vec<&Capability> = open.capabilities().collect();
    for want in [
        // One MP capability per channel (RFC 4760 §8).
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::Multiprotocol(Family::IPV6_UNICAST),
        // `enable route refresh on` (RFC 2918), `enable as4 on` (RFC 6793),
        // `enable extended messages on` (RFC 8654).
        Capability::RouteRefresh,
        Capability::FourOctetAs(Asn(65001)),
        Capability::ExtendedMessage,
        // `add paths rx` on the IPv4 channel only (RFC 7911 §4: Send/Receive 1 = receive).
        Capability::AddPath(vec![AddPathFamily {
            family: Family::IPV4_UNICAST,
            mode: AddPathMode::RECEIVE,
        }]),
    ] {
        assert!(
            caps.contains(&&want),
            "BIRD's OPEN lacks {want:?}: {caps:#?}"
        );
    }
    // `graceful restart off`: no capability 64.
    assert!(
        !caps
            .iter()
            .any(|c| matches!(c, Capability::GracefulRestart { .. })),
        "{caps:#?}"
    );
}

#[test]
fn birds_keepalives_arrive_at_its_jittered_third_of_the_hold_time() {
    let Some(bird) = bird_or_skip() else {
        return;
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("bound").port();
    let daemon = start_bird_for_probe(&bird, port);
    let probed = probe(&listener, StdDuration::from_secs(16));
    drop(daemon);
    let gaps = probed.expect("probe BIRD").keepalive_gaps;
    // `keepalive time 3`, run through BIRD's `bgp_start_timer` jitter (profile `bird`:
    // 0.75–1.0 of nominal): each gap in [2.25 s, 3 s]. Timestamps are taken when a 100 ms
    // read timeout loop sees the bytes; allow 250 ms either side on a loaded machine.
    let jitter = Profile::BIRD.keepalive_jitter;
    let nominal = Duration::from_secs(3);
    let lo = StdDuration::from_nanos(jitter.lower_bound(nominal).as_nanos());
    let hi = StdDuration::from_nanos(jitter.upper_bound(nominal).as_nanos());
    let slack = StdDuration::from_millis(250);
    println!("BIRD keepalive gaps {gaps:?}; predicted [{lo:?}, {hi:?}] ± {slack:?}");
    assert!(gaps.len() >= 3, "too few keepalives: {gaps:?}");
    for gap in &gaps {
        assert!(
            *gap + slack >= lo && *gap <= hi + slack,
            "keepalive gap {gap:?} outside [{lo:?}, {hi:?}] ± {slack:?}: {gaps:?}"
        );
    }
}

/// RFC 2385 against BIRD: msee1 listens with the peering's key installed for BIRD's address;
/// BIRD dials with `password`. Returns whether BIRD reached Established within 12 s (its
/// first dial waits about 5 s).
fn md5_session_with_bird(bird: &Path, bird_password: &str) -> (bool, String) {
    let our_port = free_port();
    let topo = interop_support::reference_with_md5("azure-md5-key", "127.0.0.2");
    let live = LiveRun::msee_of(topo, our_port, 14, Vec::new());
    let daemon = start_bird_with(bird, our_port, &format!("password \"{bird_password}\";"));
    let up = poll(
        StdDuration::from_secs(12),
        StdDuration::from_millis(250),
        || daemon.established("msee1"),
    );
    let state = daemon.birdc("show protocols all msee1");
    let (_, text) = live.join();
    drop(daemon);
    (up, format!("BIRD: {state}\nours:\n{text}"))
}

#[test]
fn bird_with_the_same_md5_key_establishes() {
    let Some(bird) = bird_or_skip() else {
        return;
    };
    let (up, log) = md5_session_with_bird(&bird, "azure-md5-key");
    assert!(up, "{log}");
    assert!(log.contains("TCP MD5 signatures on"), "{log}");
}

#[test]
fn bird_with_another_md5_key_never_connects() {
    let Some(bird) = bird_or_skip() else {
        return;
    };
    let (up, log) = md5_session_with_bird(&bird, "not-the-key");
    assert!(!up, "{log}");
}
