//! The harness shared by the interop tests (`interop_bird`, `interop_frr`, `interop_gobgp`):
//! finding a daemon (skip with a printed reason on a developer's machine, fail under
//! `CI=true`), free ports, a temporary directory per daemon, daemons killed on drop, a
//! `holdtime live` run on a thread, polling with a deadline, and the detection-window check.
//!
//! Every test picks its own ports (and its own daemon directory named after them), so the
//! tests of one binary run in parallel. Live interop is wall-clock by nature: the one place
//! reading the clock here is [`wall`], with the clippy ban allowed and the reason given.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each interop test binary uses its own part of this shared harness"
)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::thread::JoinHandle;
use std::time::Duration as StdDuration;

use scenarios::live::{
    Endpoint, LiveOptions, LiveRole, LiveSummary, ScheduledFault, SessionSummary,
};
use scenarios::topology::Topology;
use sim_core::time::Duration;

/// The wall clock (the interop tests measure real daemons in real time).
#[must_use]
pub fn wall() -> std::time::Instant {
    #[allow(
        clippy::disallowed_methods,
        reason = "a live interop test measures real time against a real daemon"
    )]
    std::time::Instant::now()
}

/// `program` found on the PATH or in the sbin directories, or `None` after printing why the
/// test is skipped. Under `CI=true` a missing program fails the test instead: `.ci/run`
/// installs `package`.
#[must_use]
pub fn require(program: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/lib/frr"])
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        let reason = format!("`{program}` is not installed: apt-get install {package}");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run the interop tests: {reason}"
        );
        println!("skipped: {reason}");
    }
    found
}

/// A free TCP port on loopback: bind, read it, release it.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral loopback port")
}

/// A fresh temporary directory for one daemon, named after the test's unique port.
#[must_use]
pub fn temp_dir(daemon: &str, port: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("holdtime-{daemon}-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A daemon process, killed (and its directory removed) when dropped.
pub struct Daemon {
    /// The process.
    pub child: Child,
    /// Its temporary directory.
    pub dir: PathBuf,
}

impl Daemon {
    /// Freezes the daemon with SIGSTOP: its sockets stay open and nothing more is sent, the
    /// silent failure as seen from the other side.
    pub fn freeze(&self) {
        let frozen = Command::new("kill")
            .args(["-STOP", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(frozen, "SIGSTOP the daemon");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `program args`, returning its standard output (empty when it cannot run).
#[must_use]
pub fn output(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Calls `done` every `every` until it returns true or `within` has passed; returns whether
/// it did.
pub fn poll(within: StdDuration, every: StdDuration, mut done: impl FnMut() -> bool) -> bool {
    let start = wall();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() >= within {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// A `holdtime live` run on its own thread.
pub struct LiveRun {
    thread: JoinHandle<(Result<LiveSummary, String>, String)>,
}

impl LiveRun {
    /// Plays `role` of `topo` for `secs` seconds on `endpoint`, with `faults`.
    #[must_use]
    pub fn spawn(
        topo: Topology,
        role: LiveRole,
        endpoint: Endpoint,
        secs: u64,
        faults: Vec<ScheduledFault>,
    ) -> Self {
        Self::spawn_all(topo, role, vec![endpoint], secs, faults, None)
    }

    /// Plays `role` of `topo` for `secs` seconds, one router per endpoint (the MSEE pair with
    /// two), with `faults`, predicting the peer's detection with `peer_profile`.
    #[must_use]
    pub fn spawn_all(
        topo: Topology,
        role: LiveRole,
        endpoints: Vec<Endpoint>,
        secs: u64,
        faults: Vec<ScheduledFault>,
        peer_profile: Option<scenarios::topology::Profile>,
    ) -> Self {
        let thread = std::thread::spawn(move || {
            let opts = LiveOptions {
                role,
                endpoints,
                duration: Duration::from_secs(secs),
                faults,
                stdin: false,
                seed: 1,
                peer_profile,
            };
            let mut out = Vec::new();
            let summary = scenarios::live::run(&topo, &opts, &mut out).map_err(|e| e.to_string());
            (summary, String::from_utf8_lossy(&out).into_owned())
        });
        Self { thread }
    }

    /// msee1 of the reference scenario listening on 127.0.0.1:`port` for `secs` seconds.
    #[must_use]
    pub fn msee(port: u16, secs: u64, faults: Vec<ScheduledFault>) -> Self {
        Self::msee_of(reference(), port, secs, faults)
    }

    /// msee1 of `topo` listening on 127.0.0.1:`port` for `secs` seconds.
    #[must_use]
    pub fn msee_of(topo: Topology, port: u16, secs: u64, faults: Vec<ScheduledFault>) -> Self {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        Self::spawn(topo, LiveRole::Msee, Endpoint::Listen(addr), secs, faults)
    }

    /// Waits for the end of a one-router run: its session's summary and printed timeline.
    ///
    /// # Panics
    ///
    /// When the run could not start (the test fails with the reason).
    #[must_use]
    pub fn join(self) -> (SessionSummary, String) {
        let (mut summary, text) = self.join_all();
        if summary.sessions.is_empty() {
            panic!("no session played:\n{text}");
        }
        (summary.sessions.swap_remove(0), text)
    }

    /// Waits for the end of the run: its whole summary and printed timeline.
    ///
    /// # Panics
    ///
    /// When the run could not start (the test fails with the reason).
    #[must_use]
    pub fn join_all(self) -> (LiveSummary, String) {
        let (summary, text) = self.thread.join().expect("live thread");
        match summary {
            Ok(summary) => (summary, text),
            Err(e) => panic!("holdtime live failed: {e}\n{text}"),
        }
    }
}

/// The reference scenario's topology.
#[must_use]
pub fn reference() -> Topology {
    scenarios::load("reference")
        .expect("built-in scenario")
        .scenario
        .topology
}

/// The reference topology with an MD5 key on the primary private peering, and ce1's address
/// on it set to `ce_addr` (the listener installs the key for that address: RFC 2385 keys are
/// per peer address).
#[must_use]
pub fn reference_with_md5(key: &str, ce_addr: &str) -> Topology {
    let mut topo = reference();
    if let Some(s) = topo
        .sessions
        .iter_mut()
        .find(|s| s.name == "circuit.primary.private")
    {
        s.md5 = Some(key.to_owned());
        s.ends[0].addr = ce_addr.parse().expect("address");
    }
    topo
}

/// The time of the first timeline line containing `needle` (the timeline's first column).
#[must_use]
pub fn line_time(text: &str, needle: &str) -> Option<StdDuration> {
    line_time_after(text, needle, StdDuration::ZERO)
}

/// The time of the first live event line containing `needle` at or after `after`.
#[must_use]
pub fn line_time_after(text: &str, needle: &str, after: StdDuration) -> Option<StdDuration> {
    text.lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|at| at.parse::<Duration>().ok())
        .map(|d| StdDuration::from_nanos(d.as_nanos()))
        .find(|&t| t >= after)
}

/// The predicted detection window `(lo, hi]` of `profile` for the run's negotiated timers, as
/// std durations: when its hold timer expires and, for a profile that acts on the expiry only
/// at its event loop's next wake-up (BIRD), when it acts (`predicted_peer_detection`: up to
/// the loop's cap later, sooner when its other sessions wake it).
#[must_use]
pub fn window(
    profile: &bgp::fsm::profile::Profile,
    summary: &SessionSummary,
    text: &str,
) -> (StdDuration, StdDuration) {
    let Some((hold, keepalive)) = summary.negotiated else {
        panic!("never Established:\n{text}")
    };
    let (lo, hi) = scenarios::live::predicted_peer_detection(profile, hold, keepalive);
    (
        StdDuration::from_nanos(lo.as_nanos()),
        StdDuration::from_nanos(hi.as_nanos()),
    )
}

/// Asserts `after` lies in `(lo − slack, hi + slack]`: the slack covers the poll interval and
/// process scheduling on a loaded machine, and is stated in the failure message.
pub fn assert_within(
    what: &str,
    after: StdDuration,
    (lo, hi): (StdDuration, StdDuration),
    slack: StdDuration,
    text: &str,
) {
    println!("{what}: {after:?}; predicted ({lo:?}, {hi:?}], slack {slack:?}");
    assert!(
        after + slack > lo && after <= hi + slack,
        "{what}: {after:?}, outside the predicted ({lo:?}, {hi:?}] with {slack:?} slack\n{text}"
    );
}

/// Asserts that our BGP session fell with BFD, not by its hold timer: RFC 5882 §4.3 takes BGP
/// down at once when BFD goes down, with Cease 6/10 (RFC 9384).
pub fn assert_bgp_fell_with_bfd(text: &str) {
    assert!(
        text.contains("Established -> Idle (automatic stop)") && text.contains("NOTIFICATION 6/10"),
        "{text}"
    );
    assert!(
        !text.contains("hold timer expired"),
        "BGP should fall with BFD, not by its hold timer:\n{text}"
    );
}

/// A time since the run's start as the live runner's fault schedule wants it.
#[must_use]
pub fn at(d: StdDuration) -> Duration {
    Duration::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Adds `n` VNet prefixes (10.11.0.0/16, 10.12.0.0/16, ...) so that msee1 advertises more
/// than a daemon's lowered prefix limit.
pub fn add_vnet_prefixes(topo: &mut Topology, n: u8) {
    let vnet = topo
        .vnets
        .first_mut()
        .expect("the reference scenario has a VNet");
    for i in 11..11 + n {
        vnet.prefixes
            .push(format!("10.{i}.0.0/16").parse().expect("prefix"));
    }
}

/// Whether the live run saw NOTIFICATION `code`/`subcode`, sent by us (`sent`) or received.
#[must_use]
pub fn has(summary: &SessionSummary, sent: bool, code: u8, subcode: u8) -> bool {
    summary
        .notifications
        .iter()
        .any(|n| n.sent == sent && (n.code, n.subcode) == (code, subcode))
}

/// Lowers msee1's maximum-prefix limit on routes from the customer to `limit` (Azure's is
/// 4,000 on private peering), so a daemon advertising a few more prefixes exceeds it.
pub fn limit_msee_prefixes(topo: &mut Topology, limit: u32) {
    let msee: Vec<usize> = topo
        .routers
        .iter()
        .enumerate()
        .filter(|(_, r)| r.role == scenarios::topology::Role::Msee)
        .map(|(i, _)| i)
        .collect();
    for end in topo.sessions.iter_mut().flat_map(|s| s.ends.iter_mut()) {
        if msee.contains(&end.router.0) {
            end.max_prefixes = Some(limit);
        }
    }
}

/// Whether this process may create network namespaces (root). Otherwise prints why the test
/// is skipped and returns false; under `CI=true` not being root fails the test instead, since
/// CI must run every interop test.
#[must_use]
pub fn require_root(what: &str) -> bool {
    let uid = output(Path::new("id"), &["-u"]);
    if uid.trim() == "0" {
        return true;
    }
    let reason = format!(
        "{what} needs root (network namespaces); uid is {}",
        uid.trim()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI must run the privileged interop tests: {reason}"
    );
    println!("skipped: {reason}");
    false
}

/// A network namespace joined to ours by a veth pair with a /30 on it: the daemon runs inside
/// (single hop, TTL 255 preserved, its own port 3784), we stay outside. Removed on drop.
pub struct Netns {
    /// The namespace's name.
    pub name: String,
    /// Our end's address (outside).
    pub ours: Ipv4Addr,
    /// The daemon's address (inside).
    pub theirs: Ipv4Addr,
    /// The interface name inside.
    pub inner: String,
    outer: String,
}

impl Netns {
    /// A namespace named after `tag` (a test's unique port), with addresses 10.231.a.b/30
    /// derived from it so that tests running at once never share a subnet.
    ///
    /// # Panics
    ///
    /// When `ip` fails (the caller checked [`require_root`]).
    #[must_use]
    pub fn create(tag: u16) -> Self {
        Self::create_on(tag, 231, "ht")
    }

    /// As [`Netns::create`], on 10.`net`.a.b/30 with interfaces `{label}{tag}a`/`b` and the
    /// namespace `holdtime-{label}-{pid}-{tag}`: test binaries running at once (BIRD's on
    /// 10.231, FRR's on 10.232) never share a subnet, an interface or a namespace name.
    /// `label` is two characters (interface names are at most 15).
    ///
    /// # Panics
    ///
    /// When `ip` fails (the caller checked [`require_root`]).
    #[must_use]
    pub fn create_on(tag: u16, net: u8, label: &str) -> Self {
        let [hi, lo] = tag.to_be_bytes();
        let base = lo & 0xfc;
        let name = format!("holdtime-{label}-{}-{tag}", std::process::id());
        let ns = Self {
            name,
            ours: Ipv4Addr::new(10, net, hi, base + 1),
            theirs: Ipv4Addr::new(10, net, hi, base + 2),
            inner: format!("{label}{tag}b"),
            outer: format!("{label}{tag}a"),
        };
        let ip = |args: &[&str]| {
            let ok = Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "ip {}", args.join(" "));
        };
        let ours = format!("{}/30", ns.ours);
        let theirs = format!("{}/30", ns.theirs);
        ip(&["netns", "add", &ns.name]);
        ip(&[
            "link", "add", &ns.outer, "type", "veth", "peer", "name", &ns.inner,
        ]);
        ip(&["link", "set", &ns.inner, "netns", &ns.name]);
        ip(&["addr", "add", &ours, "dev", &ns.outer]);
        ip(&["link", "set", &ns.outer, "up"]);
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", ns.name.as_str(), "ip"];
            all.extend_from_slice(args);
            ip(&all);
        };
        inside(&["addr", "add", &theirs, "dev", &ns.inner]);
        inside(&["link", "set", &ns.inner, "up"]);
        inside(&["link", "set", "lo", "up"]);
        ns
    }

    /// `program` to run inside the namespace.
    #[must_use]
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        // The veth pair goes with the namespace; delete our end in case it lingers.
        let _ = Command::new("ip")
            .args(["link", "del", &self.outer])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// The `bfd` scenario (BFD 300 ms × 3 at both ends) with msee1's address on the primary
/// peering set to `ours`, so the NEXT_HOP we send is on the daemon's subnet (single hop).
#[must_use]
pub fn bfd_topology(ours: Ipv4Addr) -> Topology {
    let mut topo = scenarios::load("bfd")
        .expect("built-in scenario")
        .scenario
        .topology;
    if let Some(s) = topo
        .sessions
        .iter_mut()
        .find(|s| s.name == "circuit.primary.private")
    {
        s.ends[1].addr = IpAddr::from(ours);
    }
    topo
}

/// The reference topology with msee1's address on the primary peering set to `ours`, so the
/// NEXT_HOP we send is on the daemon's subnet (single hop) and it can install our route in
/// its namespace's kernel table.
#[must_use]
pub fn reference_at(ours: Ipv4Addr) -> Topology {
    let mut topo = reference();
    if let Some(s) = topo
        .sessions
        .iter_mut()
        .find(|s| s.name == "circuit.primary.private")
    {
        s.ends[1].addr = IpAddr::from(ours);
    }
    topo
}

/// Watches a namespace's kernel routing table (`ip -n NS monitor route`), each line stamped
/// with the wall time it was read. The monitor is killed on drop.
pub struct RouteWatch {
    child: Child,
    lines: std::sync::mpsc::Receiver<(std::time::Instant, String)>,
}

impl RouteWatch {
    /// Starts watching `ns`.
    ///
    /// # Panics
    ///
    /// When `ip` cannot start.
    #[must_use]
    pub fn start(ns: &Netns) -> Self {
        let mut child = Command::new("ip")
            .args(["-n", &ns.name, "monitor", "route"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("ip monitor route");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send((wall(), line)).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The wall time of the first line read so far (and up to `wait` more) that removes
    /// `prefix` from the table at or after `after`.
    #[must_use]
    pub fn deleted(
        &self,
        prefix: &str,
        after: std::time::Instant,
        wait: StdDuration,
    ) -> Option<std::time::Instant> {
        let until = wall() + wait;
        loop {
            let left = until.saturating_duration_since(wall());
            let (at, line) = self.lines.recv_timeout(left).ok()?;
            if at >= after && line.starts_with("Deleted ") && line.contains(prefix) {
                return Some(at);
            }
        }
    }
}

impl Drop for RouteWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a daemon did after one silent failure: when it detected it (its NOTIFICATION or
/// close reached us) and when its kernel route to our prefix moved, both after the silence.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Silence to the daemon's close.
    pub detection: StdDuration,
    /// Silence to the kernel route's removal.
    pub route: StdDuration,
}

/// A prediction: every value in `(lo, hi]`, their mean `mean`.
#[derive(Debug, Clone, Copy)]
pub struct Predicted {
    /// Lower bound (exclusive).
    pub lo: StdDuration,
    /// Upper bound.
    pub hi: StdDuration,
    /// Expected mean.
    pub mean: StdDuration,
}

impl From<bgp::fsm::profile::Window> for Predicted {
    fn from(w: bgp::fsm::profile::Window) -> Self {
        let std = |d: Duration| StdDuration::from_nanos(d.as_nanos());
        Self {
            lo: std(w.lo),
            hi: std(w.hi),
            mean: std(w.mean),
        }
    }
}

/// The detection a hold timer of `hold` gives after a silence, per `profile`, when the silent
/// side sent keepalives every `keepalive` exactly and the silence falls at a uniformly random
/// phase of them: when the daemon acts on the expiry (its NOTIFICATION leaves), on a daemon
/// with one BGP session (`Profile::hold_detection_window`: the expiry `H·u − A`, `u` the hold
/// timer's jitter factor, `A` the age of the last keepalive, uniform in `[0, K)`, then the
/// profile's wait for its event loop's wake-up, if any).
#[must_use]
pub fn predicted_hold_detection(
    profile: &bgp::fsm::profile::Profile,
    hold: Duration,
    keepalive: Duration,
) -> Predicted {
    profile.hold_detection_window(hold, keepalive).into()
}

/// Whether the kernel table of `ns` has a route to our VNet prefix (10.10.0.0/16).
pub fn kernel_route(ns: &Netns) -> bool {
    output(
        Path::new("ip"),
        &["-n", &ns.name, "route", "show", "10.10.0.0/16"],
    )
    .contains("10.10.0.0/16")
}

/// One silent failure against `daemon` (its name, for messages) in a network namespace of
/// its own, the `i`-th of a series: `holdtime live` plays msee1 (keepalive 1 s / hold 3 s
/// offered by the daemon) outside, predicting with `profile`, and goes silent
/// `8 s + i × 37 ms` after it starts (spreading the silences over our keepalive phase);
/// `start` starts the daemon inside the namespace, dialling our port (it is dropped, and the
/// daemon with it, once measured). Waits for the silence, watches the daemon's kernel route
/// for our VNet prefix, and returns the daemon's detection (when it closed the session, as
/// our side saw it) and when its kernel route went, both after the silence.
///
/// # Errors
///
/// Which step failed, with our run's timeline.
pub fn silent_failure<D>(
    daemon: &str,
    i: u16,
    (net, label): (u8, &str),
    profile: scenarios::topology::Profile,
    start: impl FnOnce(&Netns, u16) -> Result<D, String>,
) -> Result<Measured, Failed> {
    let ns = Netns::create_on(4 * (i + 1), net, label);
    let watch = RouteWatch::start(&ns);
    let port = free_port();
    let silent_at = StdDuration::from_millis(8_000 + 37 * u64::from(i));
    let faults = vec![ScheduledFault {
        at: at(silent_at),
        fault: bgp::live::Fault::Silent,
        target: Some("primary".to_owned()),
    }];
    let t0 = wall();
    let live = LiveRun::spawn_all(
        reference_at(ns.ours),
        LiveRole::Msee,
        vec![Endpoint::Listen(SocketAddr::from((ns.ours, port)))],
        16,
        faults,
        Some(profile),
    );
    let running = match start(&ns, port) {
        Ok(running) => running,
        Err(e) => {
            let (_, text) = live.join();
            return Err(Failed::Setup(format!(
                "#{i}: {daemon} did not start: {e}\n{text}"
            )));
        }
    };
    let installed = poll(
        silent_at.saturating_sub(StdDuration::from_millis(500)),
        StdDuration::from_millis(100),
        || kernel_route(&ns),
    );
    let silence = t0 + silent_at;
    let wait = (silent_at + StdDuration::from_secs(7)).saturating_sub(t0.elapsed());
    let removed = watch.deleted("10.10.0.0/16", silence, wait);
    let (summary, text) = live.join();
    drop(running);
    drop(ns);
    if !installed {
        return Err(Failed::Setup(format!(
            "#{i}: our route never reached {daemon}'s kernel table\n{text}"
        )));
    }
    let detection = summary
        .peer_detections
        .first()
        .map(|d| StdDuration::from_nanos(d.after.as_nanos()))
        .ok_or_else(|| Failed::Measure(format!("#{i}: we did not see {daemon} close\n{text}")))?;
    let removed = removed.ok_or_else(|| {
        Failed::Measure(format!("#{i}: {daemon}'s kernel route never moved\n{text}"))
    })?;
    Ok(Measured {
        detection,
        route: removed.saturating_duration_since(silence),
    })
}

/// Why one silent failure gave no measurement.
#[derive(Debug)]
pub enum Failed {
    /// The set-up never reached the point the silence is measured from: the daemon did not
    /// start, or our route never reached its kernel table before the silence (30 daemon pairs
    /// starting at once on 2 cores can take one of them past the 7.5 s allowed). Nothing was
    /// measured, so [`silent_failures`] runs it again in a fresh namespace.
    Setup(String),
    /// The silence happened on an established session and the daemon did not do what is
    /// measured: a test failure, never retried.
    Measure(String),
}

/// How many times [`silent_failures`] runs one failure whose set-up never came up before it
/// gives up (and fails the test).
const SETUP_ATTEMPTS: u16 = 3;

/// Runs `run` `HOLDTIME_INTEROP_RUNS` times (30 by default), all at once, one thread each,
/// their starts spread 100 ms apart, and returns what they measured. `run(i)` is the `i`-th
/// failure; a run whose set-up failed ([`Failed::Setup`]: nothing was measured) is run again
/// as `run(i + attempt × runs)`, a fresh namespace and addresses, up to [`SETUP_ATTEMPTS`]
/// times in all, and the reason is printed. A measurement failure is never retried.
///
/// # Panics
///
/// When a run fails (with its reason).
pub fn silent_failures(
    run: impl Fn(u16) -> Result<Measured, Failed> + Send + Sync + 'static,
) -> Vec<Measured> {
    let runs: u16 = std::env::var("HOLDTIME_INTEROP_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let run = std::sync::Arc::new(run);
    let threads: Vec<_> = (0..runs)
        .map(|i| {
            let run = std::sync::Arc::clone(&run);
            std::thread::spawn(move || {
                std::thread::sleep(StdDuration::from_millis(100 * u64::from(i)));
                let mut attempt = 0;
                loop {
                    match run(i + attempt * runs) {
                        Ok(measured) => return Ok(measured),
                        Err(Failed::Setup(why)) if attempt + 1 < SETUP_ATTEMPTS => {
                            println!("set-up failed, run again in a fresh namespace: {why}");
                            attempt += 1;
                        }
                        Err(Failed::Setup(why) | Failed::Measure(why)) => return Err(why),
                    }
                }
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| {
            t.join()
                .unwrap_or_else(|_| Err("a run panicked".to_owned()))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

fn mean(xs: &[StdDuration]) -> StdDuration {
    let n = u32::try_from(xs.len().max(1)).unwrap_or(u32::MAX);
    xs.iter().sum::<StdDuration>() / n
}

/// Prints and checks a series of `what` values against `predicted`: each inside
/// `(lo − slack, hi + slack]` (the slack covers process scheduling of up to 30 daemons at once
/// on a loaded machine, and is printed), and their mean within 10 % of the predicted mean.
pub fn assert_series(what: &str, values: &[StdDuration], predicted: Predicted, slack: StdDuration) {
    let lo = values.iter().min().copied().unwrap_or_default();
    let hi = values.iter().max().copied().unwrap_or_default();
    let m = mean(values);
    println!(
        "{what}: {} failures, measured mean {m:?} (min {lo:?}, max {hi:?}); predicted mean {:?}, window ({:?}, {:?}] with {slack:?} slack",
        values.len(),
        predicted.mean,
        predicted.lo,
        predicted.hi
    );
    for v in values {
        assert!(
            *v + slack > predicted.lo && *v <= predicted.hi + slack,
            "{what}: {v:?} outside the predicted ({:?}, {:?}] with {slack:?} slack; all: {values:?}",
            predicted.lo,
            predicted.hi
        );
    }
    let off = m.abs_diff(predicted.mean);
    assert!(
        off * 10 <= predicted.mean,
        "{what}: mean {m:?} is more than 10 % from the predicted {:?}; all: {values:?}",
        predicted.mean
    );
}

/// The end of a "frozen daemon" test: the daemon was frozen (SIGSTOP: its socket stays open
/// and nothing more arrives) at `frozen_at` after `t0` (`None`: it never was Established), and
/// our run's hold timer must have expired within the `rfc4271` window for the negotiated
/// timers, `(H − K, H]` after the freeze (our profile does not jitter the hold timer; the
/// daemon's keepalives came every K). 300 ms slack: our run's clock starts a few ms after
/// `t0`, and no polling is involved.
///
/// # Panics
///
/// When the daemon never was Established, our hold timer never expired, or it expired
/// outside the window.
pub fn assert_we_detected_the_freeze(
    daemon: &str,
    frozen_at: Option<StdDuration>,
    summary: &SessionSummary,
    text: &str,
) {
    let Some(frozen_at) = frozen_at else {
        panic!("never Established:\n{text}")
    };
    let Some(expired) = line_time(text, "hold timer expired") else {
        panic!("our hold timer never expired:\n{text}")
    };
    let predicted = window(&bgp::fsm::profile::Profile::RFC4271, summary, text);
    assert_within(
        &format!("we detected the frozen {daemon} after"),
        expired.saturating_sub(frozen_at),
        predicted,
        StdDuration::from_millis(300),
        text,
    );
}

/// Freezes `daemon` half a second after it became Established (a keepalive exchange
/// happened), and returns when, after `t0`: the silent failure seen from our side.
pub fn freeze_after_a_keepalive(daemon: &Daemon, t0: std::time::Instant) -> StdDuration {
    std::thread::sleep(StdDuration::from_millis(500));
    daemon.freeze();
    t0.elapsed()
}

/// The end of an "our silence" test: we went silent at `silent_at` after `t0`, and the daemon
/// (polled by the test) took its session down at `went_down` after `t0` (`None`: never,
/// `daemon_log` says what it showed); that must lie in the window `profile` predicts for the
/// negotiated timers ([`window`]), with `slack` for the polling interval and a loaded machine.
///
/// # Panics
///
/// When the session never went down or went down outside the window.
pub fn assert_daemon_detected_our_silence(
    daemon: &str,
    profile: &bgp::fsm::profile::Profile,
    (silent_at, went_down): (StdDuration, Option<StdDuration>),
    slack: StdDuration,
    (summary, text, daemon_log): (&SessionSummary, &str, &str),
) {
    let Some(went_down) = went_down else {
        panic!("{daemon}'s session never went down:\n{daemon_log}\n{text}")
    };
    let predicted = window(profile, summary, text);
    assert_within(
        &format!("{daemon} detected our silence after"),
        went_down.saturating_sub(silent_at),
        predicted,
        slack,
        text,
    );
}

/// The end of a series of [`silent_failures`] against `daemon` with keepalive 1 s / hold 3 s:
/// its detections must follow [`predicted_hold_detection`] for `profile`, and its kernel route
/// the same window `install` later (the profile's route-install latency after a detection:
/// zero when the route goes in the wake-up that sends the NOTIFICATION), each through
/// [`assert_series`] with `slack`.
///
/// # Panics
///
/// As [`assert_series`].
pub fn assert_failure_series(
    daemon: &str,
    measured: &[Measured],
    profile: &bgp::fsm::profile::Profile,
    install: StdDuration,
    slack: StdDuration,
) {
    let detection =
        predicted_hold_detection(profile, Duration::from_secs(3), Duration::from_secs(1));
    let detections: Vec<StdDuration> = measured.iter().map(|m| m.detection).collect();
    assert_series(
        &format!("{daemon}'s detection after the silence"),
        &detections,
        detection,
        slack,
    );
    let route = Predicted {
        lo: detection.lo + install,
        hi: detection.hi + install,
        mean: detection.mean + install,
    };
    let routes: Vec<StdDuration> = measured.iter().map(|m| m.route).collect();
    assert_series(
        &format!("{daemon}'s kernel route moved after the silence"),
        &routes,
        route,
        slack,
    );
}
