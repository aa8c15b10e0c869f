//! Live ingest benchmark: holdtime's live driver against BIRD 2, both receiving the same
//! 100,000 IPv4 prefixes from the same GoBGP, in one criterion run (issue 8, Performance).
//!
//! Setup, once: the bench writes an MRT TABLE_DUMP_V2 file (RFC 6396 §4.3) of 100,000 /24s,
//! starts gobgpd (AS 65001 on 127.0.0.4, two passive neighbors) and loads the file into its
//! global RIB with `gobgp mrt inject global`, then starts BIRD (AS 65100 on 127.0.0.2, `import
//! all`, nothing exported). Each iteration then measures one full table transfer, from the
//! moment the session is Established to the moment the last prefix is in:
//!
//! - `live_ingest/holdtime`: a fresh `bgp::live::Driver` (AS 12076, from 127.0.0.1) dials
//!   gobgpd; both instants are the driver's own event stamps (Established, then the
//!   100,000th forwarding entry installed, which comes after its Adj-RIB-In insert).
//! - `live_ingest/bird`: `birdc disable` / `enable` of BIRD's session; both instants are
//!   seen by polling `birdc` every 10 ms (`show protocols`, then `show route protocol
//!   gobgp count`), so BIRD's figure carries up to ~20 ms of polling in its favour or against.
//!
//! Criterion's throughput is prefixes per second; the bench also prints the ratio of the two
//! medians (holdtime's rate over BIRD's: above 1 means holdtime is faster). Samples are few
//! (each is a whole table transfer). When gobgpd, gobgp, bird or birdc is missing the bench
//! prints why and measures nothing; it must still compile in CI (`cargo bench --no-run`).
//!
//! Run: `cargo bench -p bench --bench live -- --warm-up-time 1 --measurement-time 1`.
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use bgp::fsm::{self, Command as BgpCommand, SessionEvent, State};
use bgp::live::{Driver, LiveEventKind, PeerTransport};
use bgp::rib::{PeerConfig, PeerId, RibConfig};
use bgp::speaker::{PeerSpec, Speaker, SpeakerEvent};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use sim_core::time::{Duration, Instant};

/// Prefixes in the table.
const PREFIXES: u32 = 100_000;
/// Repeated entries at the end of the MRT dump (see [`mrt_dump`]).
const PADDING: u32 = 5_000;
/// gobgpd's address.
const GOBGP_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
/// BIRD's address.
const BIRD_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// No single transfer may take longer.
const BOUND: StdDuration = StdDuration::from_secs(120);

#[allow(
    clippy::disallowed_methods,
    reason = "a live benchmark measures real time against real daemons"
)]
fn wall() -> std::time::Instant {
    std::time::Instant::now()
}

/// A daemon killed (and its directory removed) on drop.
struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find(program: &str) -> Result<PathBuf, String> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("`{program}` is not installed (apt-get install gobgpd bird2)"))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn run(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Polls `done` every `every` for at most [`BOUND`].
fn poll(every: StdDuration, mut done: impl FnMut() -> bool) -> bool {
    let start = wall();
    while start.elapsed() < BOUND {
        if done() {
            return true;
        }
        std::thread::sleep(every);
    }
    false
}

/// The `i`-th prefix: consecutive /24s from 20.0.0.0.
fn prefix(i: u32) -> [u8; 3] {
    let base = (20_u32 << 16) + i;
    let [_, a, b, c] = base.to_be_bytes();
    [a, b, c]
}

/// One MRT record (RFC 6396 §2): timestamp, type, subtype, length, message.
fn mrt_record(out: &mut Vec<u8>, subtype: u16, body: &[u8]) {
    out.extend_from_slice(&0_u32.to_be_bytes());
    // TABLE_DUMP_V2 (RFC 6396 §4.3).
    out.extend_from_slice(&13_u16.to_be_bytes());
    out.extend_from_slice(&subtype.to_be_bytes());
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
}

/// An MRT TABLE_DUMP_V2 dump of [`PREFIXES`] /24s, each with one path from one peer (AS 65010):
/// ORIGIN IGP, AS_PATH 65010 (4-octet, as RFC 6396 §4.3.4 requires), NEXT_HOP 127.0.0.4.
fn mrt_dump() -> Vec<u8> {
    let mut out = Vec::new();
    // PEER_INDEX_TABLE (subtype 1, §4.3.1): collector id, empty view name, one peer with a
    // 4-octet AS (peer type 0x02) and an IPv4 address.
    let mut body = Vec::new();
    body.extend_from_slice(&[192, 0, 2, 99]);
    body.extend_from_slice(&0_u16.to_be_bytes());
    body.extend_from_slice(&1_u16.to_be_bytes());
    body.push(0x02);
    body.extend_from_slice(&[192, 0, 2, 10]);
    body.extend_from_slice(&GOBGP_ADDR.octets());
    body.extend_from_slice(&65010_u32.to_be_bytes());
    mrt_record(&mut out, 1, &body);
    let mut attrs = vec![0x40, 1, 1, 0];
    attrs.extend_from_slice(&[0x40, 2, 6, 2, 1]);
    attrs.extend_from_slice(&65010_u32.to_be_bytes());
    attrs.extend_from_slice(&[0x40, 3, 4]);
    attrs.extend_from_slice(&GOBGP_ADDR.octets());
    let attrs_len = u16::try_from(attrs.len()).unwrap_or(u16::MAX);
    // `gobgp mrt inject` (GoBGP 3.10) loses its last partial batch (seen: 99,119 to 99,365 of
    // 100,000 destinations, always the last prefixes), so the dump ends with the first
    // prefixes once more: losing repeats loses nothing.
    for i in 0..PREFIXES + PADDING {
        // RIB_IPV4_UNICAST (subtype 2, §4.3.2): sequence, prefix, one RIB entry (§4.3.4).
        body.clear();
        body.extend_from_slice(&i.to_be_bytes());
        body.push(24);
        body.extend_from_slice(&prefix(i % PREFIXES));
        body.extend_from_slice(&1_u16.to_be_bytes());
        body.extend_from_slice(&0_u16.to_be_bytes());
        body.extend_from_slice(&0_u32.to_be_bytes());
        body.extend_from_slice(&attrs_len.to_be_bytes());
        body.extend_from_slice(&attrs);
        mrt_record(&mut out, 2, &body);
    }
    out
}

/// gobgpd with the table loaded, and BIRD peering with it.
struct Lab {
    gobgp_port: u16,
    birdc: PathBuf,
    bird_socket: PathBuf,
    // Dropped last: the daemons.
    _bird: Daemon,
    _gobgp: Daemon,
}

impl Lab {
    fn start() -> Result<Self, String> {
        let gobgpd = find("gobgpd")?;
        let gobgp = find("gobgp")?;
        let bird = find("bird")?;
        let birdc = find("birdc")?;
        let gobgp_port = free_port()?;
        let api = free_port()?.to_string();
        let dir = std::env::temp_dir().join(format!(
            "holdtime-bench-live-{}-{gobgp_port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let neighbor = |addr: Ipv4Addr, asn: u32| {
            format!(
                r#"[[neighbors]]
  [neighbors.config]
    neighbor-address = "{addr}"
    peer-as = {asn}
  [neighbors.transport.config]
    passive-mode = true
    local-address = "{GOBGP_ADDR}"
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
"#
            )
        };
        let config = format!(
            "[global.config]\n  as = 65001\n  router-id = \"192.0.2.67\"\n  port = {gobgp_port}\n  \
             local-address-list = [\"{GOBGP_ADDR}\"]\n{}{}",
            neighbor(Ipv4Addr::LOCALHOST, 12076),
            neighbor(BIRD_ADDR, 65100)
        );
        let conf = dir.join("gobgpd.toml");
        std::fs::write(&conf, config).map_err(|e| e.to_string())?;
        let child = Command::new(&gobgpd)
            .arg("-f")
            .arg(&conf)
            .args(["-t", "toml", "--pprof-disable", "--api-hosts"])
            .arg(format!("127.0.0.1:{api}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("gobgpd: {e}"))?;
        // Dropped last, it removes the whole directory.
        let gobgp_daemon = Daemon {
            child,
            dir: dir.clone(),
        };
        let mrt = dir.join("table.mrt");
        std::fs::write(&mrt, mrt_dump()).map_err(|e| e.to_string())?;
        let mrt = mrt.to_string_lossy().into_owned();
        let cli = |args: &[&str]| {
            let mut all = vec!["-p", api.as_str()];
            all.extend_from_slice(args);
            run(&gobgp, &all)
        };
        if !poll(StdDuration::from_millis(100), || {
            cli(&["global"]).contains("65001")
        }) {
            return Err("gobgpd did not start".to_owned());
        }
        let _ = cli(&["mrt", "inject", "global", &mrt]);
        let loaded = format!("Destination: {PREFIXES},");
        if !poll(StdDuration::from_millis(200), || {
            cli(&["global", "rib", "summary"]).contains(&loaded)
        }) {
            return Err(format!(
                "gobgpd did not load the table: {}",
                cli(&["global", "rib", "summary"])
            ));
        }

        let bird_port = free_port()?;
        let bird_dir = dir.join("bird");
        std::fs::create_dir_all(&bird_dir).map_err(|e| e.to_string())?;
        let bird_conf = bird_dir.join("bird.conf");
        // `protocol direct` puts 127.0.0.0/8 in the table, so the multihop next hop
        // (127.0.0.4) resolves and every route is usable, as ours are.
        let config = format!(
            "router id 192.0.2.65;
protocol device {{ }}
protocol direct {{ ipv4; interface \"lo\"; }}
protocol bgp gobgp {{
  local {BIRD_ADDR} port {bird_port} as 65100;
  neighbor {GOBGP_ADDR} port {gobgp_port} as 65001;
  multihop;
  connect delay time 1;
  connect retry time 1;
  ipv4 {{ import all; export none; }};
}}
"
        );
        std::fs::write(&bird_conf, config).map_err(|e| e.to_string())?;
        let bird_socket = bird_dir.join("bird.ctl");
        let child = Command::new(&bird)
            .arg("-f")
            .arg("-c")
            .arg(&bird_conf)
            .arg("-s")
            .arg(&bird_socket)
            .arg("-P")
            .arg(bird_dir.join("bird.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("bird: {e}"))?;
        let lab = Self {
            gobgp_port,
            birdc,
            bird_socket,
            _bird: Daemon {
                child,
                dir: bird_dir,
            },
            _gobgp: gobgp_daemon,
        };
        // The first full transfer to BIRD happens now; iterations redo it.
        if lab.bird_count() != Some(PREFIXES)
            && !poll(StdDuration::from_millis(100), || {
                lab.bird_count() == Some(PREFIXES)
            })
        {
            return Err("BIRD never received the table".to_owned());
        }
        Ok(lab)
    }

    fn birdc(&self, command: &str) -> String {
        let mut args = vec!["-s"];
        let socket = self.bird_socket.to_string_lossy();
        args.push(&socket);
        args.extend(command.split_whitespace());
        run(&self.birdc, &args)
    }

    /// Routes BIRD holds from gobgpd (`N of M routes for K networks`).
    fn bird_count(&self) -> Option<u32> {
        let out = self.birdc("show route protocol gobgp count");
        out.lines()
            .find(|l| l.contains(" routes for "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    }

    /// One full transfer to BIRD: disable, enable, Established → all prefixes.
    fn bird_once(&self) -> StdDuration {
        let _ = self.birdc("disable gobgp");
        let gone = poll(StdDuration::from_millis(20), || {
            self.bird_count().is_none_or(|n| n == 0)
        });
        assert!(gone, "BIRD kept its routes after disable");
        let _ = self.birdc("enable gobgp");
        let every = StdDuration::from_millis(10);
        let up = poll(every, || {
            self.birdc("show protocols gobgp").contains("Established")
        });
        assert!(up, "BIRD never re-established with gobgpd");
        let established = wall();
        let all = poll(every, || self.bird_count() == Some(PREFIXES));
        assert!(all, "BIRD never received the whole table");
        established.elapsed()
    }

    /// One full transfer to a fresh holdtime speaker.
    fn holdtime_once(&self, runtime: &tokio::runtime::Runtime) -> StdDuration {
        let target = SocketAddr::from((GOBGP_ADDR, self.gobgp_port));
        runtime.block_on(holdtime_ingest(target))
    }
}

/// A speaker (AS 12076) with gobgpd as its one peer.
fn speaker() -> Speaker {
    let peer = PeerId(1);
    let router_id = Ipv4Addr::new(10, 255, 3, 1);
    let mut session = fsm::Config::new(12076, 65001, router_id);
    // Retry quickly while gobgpd is still resetting the previous iteration's session.
    session.connect_retry = Some(Duration::from_secs(1));
    let spec = PeerSpec {
        session,
        rib: PeerConfig::new(
            65001,
            IpAddr::V4(GOBGP_ADDR),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        ),
        bfd: None,
        seed: 1,
    };
    let mut speaker = Speaker::new(RibConfig::new(12076, router_id));
    speaker
        .add_peer(Instant::ZERO, peer, spec)
        .expect("a valid peer");
    speaker
}

async fn holdtime_ingest(target: SocketAddr) -> StdDuration {
    let peer = PeerId(1);
    let transport = PeerTransport {
        connect: Some(target),
        bind: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        accept_from: None,
        md5: None,
        bfd_port: None,
    };
    let (driver, handle, mut events) = Driver::new(speaker(), [(peer, transport)]).expect("driver");
    handle.command(peer, BgpCommand::Start).expect("running");
    let task = tokio::spawn(driver.run());
    let mut established = None;
    let mut installed = 0_u32;
    let measured = tokio::time::timeout(BOUND, async {
        while let Some(event) = events.recv().await {
            match event.kind {
                LiveEventKind::Speaker(SpeakerEvent::Session {
                    event:
                        SessionEvent::StateChanged {
                            to: State::Established,
                            ..
                        },
                    ..
                }) => established = Some(event.at),
                LiveEventKind::Speaker(SpeakerEvent::FibChanged(change))
                    if !change.next_hops.is_empty() =>
                {
                    installed += 1;
                    if installed == PREFIXES {
                        return established.map(|e| event.at.saturating_duration_since(e));
                    }
                }
                _ => {}
            }
        }
        None
    })
    .await;
    let _ = handle.shutdown();
    let _ = task.await;
    match measured {
        Ok(Some(d)) => StdDuration::from_nanos(d.as_nanos()),
        other => panic!("holdtime did not receive the table ({installed} installed): {other:?}"),
    }
}

fn median(samples: &[StdDuration]) -> Option<StdDuration> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

fn live_ingest(c: &mut Criterion) {
    let lab = match Lab::start() {
        Ok(lab) => lab,
        Err(reason) => {
            println!("live_ingest skipped: {reason}");
            return;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ours = RefCell::new(Vec::new());
    let theirs = RefCell::new(Vec::new());
    let mut group = c.benchmark_group("live_ingest");
    group.throughput(Throughput::Elements(u64::from(PREFIXES)));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.bench_function("holdtime", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let d = lab.holdtime_once(&runtime);
                    ours.borrow_mut().push(d);
                    d
                })
                .sum()
        });
    });
    group.bench_function("bird", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let d = lab.bird_once();
                    theirs.borrow_mut().push(d);
                    d
                })
                .sum()
        });
    });
    group.finish();
    if let (Some(ours), Some(theirs)) = (median(&ours.borrow()), median(&theirs.borrow())) {
        let rate = |d: StdDuration| f64::from(PREFIXES) / d.as_secs_f64().max(1e-9);
        println!(
            "live_ingest: holdtime {:.0} prefixes/s (median {ours:?}), BIRD {:.0} prefixes/s \
             (median {theirs:?}); holdtime/BIRD = {:.2}",
            rate(ours),
            rate(theirs),
            rate(ours) / rate(theirs)
        );
    }
}

criterion_group!(benches, live_ingest);
criterion_main!(benches);
