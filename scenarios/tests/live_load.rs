//! Live mode under load: one live driver (the tokio driver `holdtime live` runs, on one
//! thread) holding [`SESSIONS`] BGP sessions with one BIRD, which floods [`FLOOD`] prefixes
//! towards us on the first of them, each with its own MED so that every prefix is an UPDATE
//! of its own (about 5 MB of UPDATEs as fast as BIRD writes them), and [`OVER`] prefixes on
//! the second, whose max-prefix limit is [`LIMIT`].
//!
//! Checks:
//! - every session comes up and none goes down but the limited one (its Cease 6/1 is ours,
//!   RFC 4486 §4): a flood on one session must not starve the keepalives of the others;
//! - all [`FLOOD`] prefixes reach the forwarding table, and the limited session is torn down
//!   by its limit;
//! - the process's peak resident memory stays under [`RSS_BOUND`]: the driver reads each
//!   connection [`bgp::live::READ_CHUNK`] octets at a time and stops reading while
//!   [`bgp::live::IO_QUEUE`] chunks wait for the speaker, so a peer that writes faster than
//!   the speaker decodes is held back by TCP (its data waits in the kernel's socket buffers
//!   and then in BIRD), not buffered by us without bound. What the memory holds is the
//!   routes themselves (about [`FLOOD`] Adj-RIB-In, Loc-RIB and FIB entries).
//!
//! - sessions 3 to [`FULL_FEEDS`] get the flood re-advertised (the outbound half of the load,
//!   packed into as few UPDATEs as fit: the MEDs are not passed on to another AS).
//!
//! It prints the figures (sessions, prefixes, UPDATEs processed per second, peak RSS).
//!
//! Each BIRD protocol dials us from its own loopback address (127.0.3.N; Linux routes all of
//! 127/8 to `lo`), so the driver tells the sessions apart by source address as it would tell
//! real routers apart. Skips with a printed reason when BIRD is missing, except under
//! `CI=true` (`.ci/run` installs `bird2`). Its own test binary, so that the peak RSS is this
//! test's. Measured on the project's 2-core machine (debug build, as `cargo test` runs it):
//! about 45 s in all, 5,000 to 8,000 UPDATEs/s, a peak RSS of about 245 MiB, against the
//! bound of 384 MiB. `LOAD_DEBUG=1` prints the driver's other events.

mod interop_support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use bgp::fsm::{self, SessionEvent, State};
use bgp::live::{Driver, LiveEventKind, PeerTransport};
use bgp::rib::adj_rib_in::MaxPrefix;
use bgp::rib::prefix_list::{Action, Entry, PrefixList};
use bgp::rib::{PeerConfig, PeerId, RibConfig};
use bgp::speaker::{PeerSpec, Speaker, SpeakerEvent};
use bgp::wire::ErrorCode;
use interop_support::{Daemon, free_port, require, temp_dir, wall};
use sim_core::time::{Duration, Instant};

/// Sessions between the driver and BIRD.
const SESSIONS: u8 = 50;
/// Prefixes BIRD floods on session 1, one UPDATE each.
const FLOOD: u32 = 100_000;
/// Prefixes BIRD sends on session 2 ...
const OVER: u32 = 1_500;
/// ... whose max-prefix limit (ours) is this.
const LIMIT: u32 = 1_000;
/// Prefixes on every other session.
const FEW: u32 = 4;
/// Sessions 3 to this one receive everything we learn, the flood included (re-advertised
/// with our AS prepended); the others only the few prefixes, through an export prefix list
/// (a debug build spends most of its time exporting, about 10 µs per prefix and peer).
const FULL_FEEDS: u8 = 5;
/// The peak resident memory the test allows (debug build, the whole test process).
const RSS_BOUND: u64 = 384 * 1024 * 1024;
/// How long everything may take.
const DEADLINE: StdDuration = StdDuration::from_secs(180);
/// Hold time of every session (keepalive a third of it).
const HOLD: u64 = 30;

const OUR_AS: u32 = 65000;
const BIRD_AS: u32 = 65001;

/// BIRD's address on session `n` (1-based).
fn bird_addr(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 3, n)
}

/// Our address on session `n`: one per session, since BIRD runs one BGP protocol per
/// neighbour address at a time (it locks the remote address and port).
fn our_addr(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 2, n)
}

/// The `i`-th prefix of a static protocol whose prefixes start at `first.0.0.0`.
fn prefix(first: u8, i: u32) -> String {
    let [_, a, b, _] = (i << 8).to_be_bytes();
    let hi = first + u8::try_from(i >> 16).expect("fewer than 2^24 prefixes");
    format!("{hi}.{a}.{b}.0/24")
}

fn static_protocol(name: &str, first: u8, count: u32, distinct_med: bool) -> String {
    let mut s = format!("protocol static {name} {{\n  ipv4;\n");
    for i in 0..count {
        if distinct_med {
            let _ = writeln!(
                s,
                "  route {} blackhole {{ bgp_med = {i}; }};",
                prefix(first, i)
            );
        } else {
            let _ = writeln!(s, "  route {} blackhole;", prefix(first, i));
        }
    }
    s.push_str("}\n");
    s
}

fn bird_config(bird_port: u16) -> String {
    let mut s = String::from("router id 192.0.2.70;\nprotocol device { }\n");
    s.push_str(&static_protocol("flood", 20, FLOOD, true));
    s.push_str(&static_protocol("over", 40, OVER, false));
    s.push_str(&static_protocol("few", 50, FEW, false));
    for n in 1..=SESSIONS {
        let export = match n {
            1 => "flood",
            2 => "over",
            _ => "few",
        };
        let _ = write!(
            s,
            "protocol bgp p{n} {{
  local {bird} port {bird_port} as {BIRD_AS};
  neighbor {ours} as {OUR_AS};
  passive on;
  multihop;
  allow local as;
  hold time {HOLD};
  keepalive time {keepalive};
  connect retry time 1;
  error wait time 300, 300;
  ipv4 {{ import none; export where proto = \"{export}\"; next hop self; }};
}}
",
            bird = bird_addr(n),
            ours = our_addr(n),
            keepalive = HOLD / 3,
        );
    }
    s
}

fn speaker() -> Speaker {
    let router_id = Ipv4Addr::new(10, 0, 0, 1);
    let mut speaker = Speaker::new(RibConfig::new(OUR_AS, router_id));
    for n in 1..=SESSIONS {
        let mut session = fsm::Config::new(OUR_AS, BIRD_AS, router_id);
        session.hold_time = Some(Duration::from_secs(HOLD));
        session.connect_retry = Some(Duration::from_secs(1));
        let mut rib = PeerConfig::new(
            BIRD_AS,
            IpAddr::from(bird_addr(n)),
            IpAddr::from(our_addr(n)),
        );
        rib.max_prefix = MaxPrefix {
            ipv4: Some(if n == 2 { LIMIT } else { 2 * FLOOD }),
            ipv6: None,
        };
        if n > FULL_FEEDS {
            rib.export.prefix_list = Some(PrefixList {
                entries: vec![Entry {
                    action: Action::Permit,
                    prefix: "50.0.0.0/8".parse().expect("prefix"),
                    ge: None,
                    le: Some(32),
                }],
            });
        }
        let spec = PeerSpec {
            session,
            rib,
            bfd: None,
            seed: u64::from(n),
        };
        speaker
            .add_peer(Instant::ZERO, PeerId(u32::from(n)), spec)
            .expect("valid peer");
    }
    speaker
}

/// `VmHWM` (peak resident set) of this process, in octets.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM in /proc/self/status")
        * 1024
}

/// The prefixes BIRD's protocol `p{n}` received from us (`Import updates: received`).
fn import_updates_received(socket: &std::path::Path, n: u8) -> u32 {
    let out = Command::new("birdc")
        .arg("-s")
        .arg(socket)
        .args(["show", "protocols", "all", &format!("p{n}")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .find_map(|l| l.trim().strip_prefix("Import updates:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// What the event stream showed.
#[derive(Debug, Default)]
struct Seen {
    established: BTreeSet<u32>,
    /// Sessions that left Established, with the cause.
    dropped: Vec<(u32, String)>,
    limit_hit: bool,
    cease_6_1_sent: bool,
    flood_installed: u32,
    first_flood: Option<std::time::Instant>,
    last_flood: Option<std::time::Instant>,
}

impl Seen {
    fn done(&self) -> bool {
        self.established.len() == usize::from(SESSIONS)
            && self.flood_installed >= FLOOD
            && self.limit_hit
            && self.cease_6_1_sent
    }
}

#[test]
fn fifty_sessions_and_a_flood_of_100k_prefixes_stay_up_in_bounded_memory() {
    let Some(bird) = require("bird", "bird2") else {
        return;
    };
    let bird_port = free_port();
    let dir = temp_dir("bird-load", bird_port);
    let conf = dir.join("bird.conf");
    std::fs::write(&conf, bird_config(bird_port)).expect("write bird.conf");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (seen, speaker, elapsed, fed) = runtime.block_on(async {
        let transports = (1..=SESSIONS).map(|n| {
            (
                PeerId(u32::from(n)),
                PeerTransport {
                    connect: Some(SocketAddr::from((bird_addr(n), bird_port))),
                    bind: Some(SocketAddr::from((our_addr(n), 0))),
                    ..PeerTransport::default()
                },
            )
        });
        let (driver, handle, mut events) = Driver::new(speaker(), transports).expect("driver");

        let child = Command::new(&bird)
            .arg("-f")
            .arg("-c")
            .arg(&conf)
            .arg("-s")
            .arg(dir.join("bird.ctl"))
            .arg("-P")
            .arg(dir.join("bird.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bird");
        let _bird = Daemon {
            child,
            dir: dir.clone(),
        };
        // We dial (BIRD is passive), every second until BIRD listens.
        for n in 1..=SESSIONS {
            handle
                .command(PeerId(u32::from(n)), fsm::Command::Start)
                .expect("start");
        }
        let driver = tokio::spawn(driver.run());

        let start = wall();
        let mut seen = Seen::default();
        let flood_net: ipnet::Ipv4Net = "20.0.0.0/7".parse().expect("net");
        while !seen.done() && start.elapsed() < DEADLINE {
            let event = match tokio::time::timeout(StdDuration::from_secs(1), events.recv()).await {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(_) => continue,
            };
            match event.kind {
                LiveEventKind::Speaker(SpeakerEvent::Session { peer, event }) => match event {
                    SessionEvent::StateChanged {
                        to: State::Established,
                        ..
                    } => {
                        seen.established.insert(peer.0);
                    }
                    SessionEvent::StateChanged {
                        from: State::Established,
                        cause,
                        ..
                    } => seen.dropped.push((peer.0, format!("{cause:?}"))),
                    SessionEvent::NotificationSent(n)
                        if n.code == ErrorCode::CEASE && n.subcode == 1 =>
                    {
                        seen.cease_6_1_sent |= peer.0 == 2;
                    }
                    _ => {}
                },
                LiveEventKind::Speaker(SpeakerEvent::MaxPrefixExceeded { peer, limit, .. }) => {
                    seen.limit_hit |= peer.0 == 2 && limit == LIMIT;
                }
                LiveEventKind::Speaker(SpeakerEvent::FibChanged(change)) => {
                    if let ipnet::IpNet::V4(net) = change.prefix
                        && flood_net.contains(&net)
                        && !change.next_hops.is_empty()
                    {
                        let now = wall();
                        seen.first_flood.get_or_insert(now);
                        seen.last_flood = Some(now);
                        seen.flood_installed += 1;
                    }
                }
                other => {
                    if std::env::var("LOAD_DEBUG").is_ok() {
                        eprintln!("{other:?}");
                    }
                }
            }
        }
        // A few keepalive intervals more under the installed table: nothing may drop.
        let calm = wall();
        while calm.elapsed() < StdDuration::from_secs(HOLD / 3 + 2) {
            if let Ok(Some(event)) =
                tokio::time::timeout(StdDuration::from_millis(200), events.recv()).await
                && let LiveEventKind::Speaker(SpeakerEvent::Session {
                    peer,
                    event:
                        SessionEvent::StateChanged {
                            from: State::Established,
                            cause,
                            ..
                        },
                }) = event.kind
            {
                seen.dropped.push((peer.0, format!("{cause:?}")));
            }
        }
        // The outbound half: what BIRD received from us on a full feed (its AS is in the
        // paths we send, which `allow local as` lets through to its import filter; that
        // imports nothing, so every prefix counts as received and filtered).
        let socket = dir.join("bird.ctl");
        let mut fed = 0;
        let fed_by = wall();
        while fed < FLOOD && fed_by.elapsed() < StdDuration::from_secs(60) {
            fed = import_updates_received(&socket, FULL_FEEDS);
            if fed < FLOOD {
                tokio::time::sleep(StdDuration::from_millis(500)).await;
            }
        }
        let elapsed = start.elapsed();
        handle.shutdown().expect("shutdown");
        let speaker = driver.await.expect("driver task").expect("driver");
        (seen, speaker, elapsed, fed)
    });

    let rss = peak_rss();
    let flood_secs = match (seen.first_flood, seen.last_flood) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    #[allow(clippy::cast_precision_loss, reason = "a printed rate")]
    let rate = f64::from(seen.flood_installed) / flood_secs.max(1e-3);
    println!(
        "live load: {} of {SESSIONS} sessions Established; {} flood prefixes (one UPDATE each) \
         installed in {flood_secs:.2} s = {rate:.0} UPDATEs/s; {fed} re-advertised to \
         session {FULL_FEEDS}; session 2 over its limit of {LIMIT}: Cease 6/1 sent {}; peak RSS {:.1} MiB (bound {} MiB); {:.1} s in all",
        seen.established.len(),
        seen.flood_installed,
        seen.cease_6_1_sent,
        rss as f64 / 1_048_576.0,
        RSS_BOUND / 1_048_576,
        elapsed.as_secs_f64(),
    );

    assert_eq!(
        seen.established.len(),
        usize::from(SESSIONS),
        "every session comes up: {seen:?}"
    );
    assert_eq!(
        seen.flood_installed, FLOOD,
        "every flooded prefix installed"
    );
    assert!(
        fed >= FLOOD,
        "the flood re-advertised on a full feed: BIRD received {fed}"
    );
    assert!(
        seen.limit_hit && seen.cease_6_1_sent,
        "session 2 is torn down by its limit of {LIMIT} with Cease 6/1: {seen:?}"
    );
    let unexplained: Vec<_> = seen
        .dropped
        .iter()
        // Session 2's drop is its limit's (checked above); any other is unexplained.
        .filter(|(peer, _)| *peer != 2)
        .collect();
    assert!(
        unexplained.is_empty(),
        "no session but the limited one leaves Established: {unexplained:?}"
    );
    assert!(
        rss < RSS_BOUND,
        "peak RSS {rss} octets is over the bound of {RSS_BOUND}"
    );
    // The table the speaker ends with: the flood and the few prefixes (the same on every
    // small session), none of the limited session's (its routes go with the session, RFC
    // 4271 §8.2.2).
    let fib = speaker.rib().loc_rib().len();
    let expected = (FLOOD + FEW) as usize;
    assert_eq!(fib, expected, "FIB entries at the end");
}
