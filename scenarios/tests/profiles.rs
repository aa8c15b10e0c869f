//! Timer profiles seen end to end in simulated runs: the behaviours a router's profile gives
//! it, measured at the capture tap rather than read from the configuration.

use std::collections::BTreeMap;

use bgp::fsm::State;
use scenarios::report::{DownCause, TimelineEntry, TimelineEvent};
use scenarios::sim::net::{CapturePoint, Frame, SessIx};
use scenarios::sim::tap::Tap;
use scenarios::spec::SessionStateName;
use sim_core::time::{Duration, Instant};

/// Records when each end of each session sent a BFD control packet, and its FSM transitions.
#[derive(Default)]
struct Recorded {
    /// (session, sending end) → send instants, in order.
    bfd: BTreeMap<(usize, u8), Vec<Instant>>,
    /// (session, end) → its FSM transitions, in order.
    states: BTreeMap<(usize, u8), Vec<Transition>>,
    /// (session, receiving end) → when it received bytes, in order.
    received: BTreeMap<(usize, u8), Vec<Instant>>,
}

/// One FSM transition seen at the tap.
struct Transition {
    at: Instant,
    from: State,
    to: State,
}

impl Tap for Recorded {
    fn frame(&mut self, at: Instant, session: SessIx, from: u8, frame: &Frame) {
        if matches!(frame, Frame::Datagram(_)) {
            self.bfd.entry((session.0, from)).or_default().push(at);
        }
    }
    fn received(&mut self, at: Instant, session: SessIx, end: u8, _: &[u8]) {
        self.received.entry((session.0, end)).or_default().push(at);
    }
    fn state(&mut self, at: Instant, session: SessIx, end: u8, from: State, to: State) {
        self.states
            .entry((session.0, end))
            .or_default()
            .push(Transition { at, from, to });
    }
}

/// Runs `text` (seed `seed`) and returns what the tap saw, with the topology.
fn record(text: &str, seed: u64) -> (Recorded, scenarios::topology::Topology) {
    let loaded = scenarios::load_str("profiles.toml", text).expect("the scenario loads");
    let mut tap = Recorded::default();
    scenarios::run_with_tap(&loaded.scenario, seed, None, &mut tap, CapturePoint::Sender)
        .expect("the scenario runs");
    (tap, loaded.scenario.topology)
}

/// The gaps between the BFD packets `router` sent on its sessions after the first 30 s (the
/// sessions are Up and at their negotiated interval by then).
fn bfd_gaps(text: &str, router: &str) -> Vec<Duration> {
    let (tap, topo) = record(text, 1);
    let from = Instant::ZERO + Duration::from_secs(30);
    let mut gaps = Vec::new();
    for ((s, end), times) in &tap.bfd {
        let r = topo.sessions[*s].ends[usize::from(*end)].router;
        if topo.routers[r.0].name != router {
            continue;
        }
        let times: Vec<Instant> = times.iter().copied().filter(|t| *t >= from).collect();
        gaps.extend(times.windows(2).map(|w| w[1] - w[0]));
    }
    gaps
}

/// BIRD's BFD (`proto/bfd/bfd.c`) jitters every transmission to 75–90 % of the interval; the
/// MSEE's (RFC 5880 §6.8.7, multiplier 3) to 75–100 %. At 300 ms: [225, 270] ms and
/// [225, 300] ms.
#[test]
fn a_bird_routers_bfd_packets_leave_at_75_to_90_percent_of_the_interval() {
    let text = r#"
name = "bird with BFD"
topology = "expressroute-vpn-failover"
duration = "2m"

[bgp]
profile = "bird"

[bfd]
enabled = true
interval = "300ms"
multiplier = 3
"#;
    let ms = Duration::from_millis;
    let range = |g: &[Duration]| {
        (
            g.iter().copied().min().unwrap_or_default(),
            g.iter().copied().max().unwrap_or_default(),
        )
    };
    let ce = bfd_gaps(text, "ce1");
    let msee = bfd_gaps(text, "msee1");
    let (ce_lo, ce_hi) = range(&ce);
    let (msee_lo, msee_hi) = range(&msee);
    println!(
        "ce1 (bird): {} BFD gaps in [{ce_lo}, {ce_hi}]; msee1 (rfc4271): {} in [{msee_lo}, {msee_hi}]",
        ce.len(),
        msee.len()
    );
    assert!(ce.len() > 300, "{} gaps", ce.len());
    assert!(
        ce_lo >= ms(225) && ce_hi <= ms(270),
        "ce1: [{ce_lo}, {ce_hi}]"
    );
    assert!(
        ce_lo < ms(228) && ce_hi > ms(267),
        "ce1's jitter is spread: [{ce_lo}, {ce_hi}]"
    );
    assert!(
        msee_lo >= ms(225) && msee_hi <= ms(300),
        "msee1: [{msee_lo}, {msee_hi}]"
    );
    assert!(
        msee_hi > ms(285),
        "msee1 reaches past BIRD's 90 %: {msee_hi}"
    );
}

/// The (session, end) of `router` on the peering session of circuit link `link` (`primary`,
/// `secondary`).
fn peering_end(topo: &scenarios::topology::Topology, link: &str, router: &str) -> (usize, u8) {
    let name = format!("circuit.{link}.private");
    let s = topo
        .sessions
        .iter()
        .position(|s| s.name == name)
        .expect("the peering session");
    let end = topo.sessions[s]
        .ends
        .iter()
        .position(|e| topo.routers[e.router.0].name == router)
        .expect("the router ends the session");
    (s, u8::try_from(end).expect("0 or 1"))
}

/// How long `router`'s end of the session on circuit link `link` (`primary`, `secondary`)
/// stayed in Idle after it first went down at or after `after`: the restart delay.
fn restart_delay(
    tap: &Recorded,
    topo: &scenarios::topology::Topology,
    link: &str,
    router: &str,
    after: Instant,
) -> Duration {
    let states = &tap.states[&peering_end(topo, link, router)];
    let idle = states
        .iter()
        .find(|t| t.at >= after && t.to == State::Idle)
        .map(|t| t.at)
        .expect("the session went down");
    let restart = states
        .iter()
        .find(|t| t.at >= idle && t.from == State::Idle)
        .map(|t| t.at)
        .expect("the session restarted");
    restart - idle
}

/// The restart timers are the profile's and settable per router: after the hold timer expires
/// (a silent cut of both links), ce2 (`bird` defaults, `error wait time 60, 300` jittered by
/// `bgp_start_timer`) waits 45–60 s in Idle, ce1 (`bird` with `idle_hold = "2s"`) 1.5–2 s; an
/// `frr` router 1 s (its start timer after a hold expiry).
#[test]
fn restart_delays_follow_the_profile_and_the_router_settings() {
    let bird = r#"
name = "bird restarts"
topology = "expressroute-vpn-failover"
duration = "3m"

[bgp]
profile = "bird"
hold_time = "10s"
keepalive = "3s"

[bgp.router.ce1]
idle_hold = "2s"
idle_hold_max = "2s"
connect_delay = "1s"

[[fault]]
at = "60s"
kind = "silent"
target = "circuit"
"#;
    let cut = Instant::ZERO + Duration::from_secs(60);
    let (mut lo1, mut hi1, mut lo2, mut hi2) =
        (Duration::MAX, Duration::ZERO, Duration::MAX, Duration::ZERO);
    for seed in 1..=8 {
        let (tap, topo) = record(bird, seed);
        let ce1 = restart_delay(&tap, &topo, "primary", "ce1", cut);
        let ce2 = restart_delay(&tap, &topo, "secondary", "ce2", cut);
        assert!(
            ce1 >= Duration::from_millis(1500) && ce1 <= Duration::from_secs(2),
            "seed {seed}: ce1 {ce1}"
        );
        assert!(
            ce2 >= Duration::from_secs(45) && ce2 <= Duration::from_secs(60),
            "seed {seed}: ce2 {ce2}"
        );
        (lo1, hi1, lo2, hi2) = (lo1.min(ce1), hi1.max(ce1), lo2.min(ce2), hi2.max(ce2));
    }
    println!(
        "bird restart delay after a hold expiry: ce1 (idle_hold 2s) [{lo1}, {hi1}], ce2 (defaults) [{lo2}, {hi2}]"
    );
    let frr = bird
        .replace("profile = \"bird\"", "profile = \"frr\"")
        .replace(
            "idle_hold = \"2s\"\nidle_hold_max = \"2s\"\nconnect_delay = \"1s\"\n",
            "",
        );
    let (tap, topo) = record(&frr, 1);
    assert_eq!(
        restart_delay(&tap, &topo, "primary", "ce1", cut),
        Duration::from_secs(1)
    );
    assert_eq!(
        restart_delay(&tap, &topo, "secondary", "ce2", cut),
        Duration::from_secs(1)
    );
}

#[test]
fn restart_timers_of_microsofts_routers_are_refused() {
    let text = r#"
name = "msee restart"
topology = "expressroute-vpn-failover"
duration = "1m"

[bgp.router.msee1]
idle_hold = "1s"
"#;
    let Err(e) = scenarios::load_str("profiles.toml", text) else {
        panic!("an MSEE's restart timers are Microsoft's");
    };
    let msg = format!("{e:?}");
    assert!(
        msg.contains("idle_hold") && msg.contains("Microsoft"),
        "{msg}"
    );
}

/// When ce1 declared its primary session down after the cut at 60 s (and why), and when its
/// FIB first changed after that. The outages of on-premises flows that begin at the cut end
/// when that FIB change is made: measured outage follows the FIB.
fn detection_and_fib(text: &str, seed: u64) -> (Instant, DownCause, Instant) {
    let loaded = scenarios::load_str("profiles.toml", text).expect("the scenario loads");
    let report = scenarios::run(&loaded.scenario, seed, None).expect("the scenario runs");
    let cut = Instant::ZERO + Duration::from_secs(60);
    let ce1 = |e: &&TimelineEntry| e.at >= cut && e.router.as_deref() == Some("ce1");
    let (down, cause) = report
        .timeline
        .iter()
        .filter(ce1)
        .find_map(|e| match &e.event {
            TimelineEvent::Session {
                session,
                to: SessionStateName::Idle,
                cause: Some(cause),
                ..
            } if session == "circuit.primary.private" => Some((e.at, *cause)),
            _ => None,
        })
        .expect("ce1 detected the cut");
    let fib = report
        .timeline
        .iter()
        .filter(ce1)
        .find(|e| e.at >= down && matches!(e.event, TimelineEvent::Fib { .. }))
        .map(|e| e.at)
        .expect("ce1's FIB moved");
    let ends: Vec<Option<Instant>> = report
        .outages
        .iter()
        .filter(|o| o.direction == "onprem_to_vnet" && o.start == cut)
        .map(|o| o.end)
        .collect();
    assert!(
        !ends.is_empty(),
        "seed {seed}: flows through ce1's primary link break at the cut"
    );
    assert!(
        ends.iter().all(|e| *e == Some(fib)),
        "seed {seed}: outages end {ends:?}, ce1's FIB moved at {fib}"
    );
    (down, cause, fib)
}

/// When ce1 last heard msee1 on the primary session at or before `at` (its hold timer
/// restarts then).
fn last_heard(text: &str, seed: u64, at: Instant) -> Instant {
    let (tap, topo) = record(text, seed);
    tap.received[&peering_end(&topo, "primary", "ce1")]
        .iter()
        .copied()
        .filter(|t| *t <= at)
        .max()
        .expect("ce1 heard msee1")
}

/// Route-install latency per profile: BIRD 2.0 acts on a hold-timer expiry only at its event
/// loop's next wake-up (its next BGP timer or input, at most 3 s; `HoldExpiry::NextWakeUp`),
/// and its withdrawal runs in that same wake-up, so its FIB moves with its detection, which
/// comes up to 3 s after the hold timer ran out (up to 13 s after ce1 last heard msee1 with
/// a hold time of 10 s); BFD down at once; FRR takes its work queues' 70 ms either way, and
/// an `rfc4271` router detects exactly the hold time after it last heard its peer.
#[test]
fn the_fib_follows_each_profiles_route_install_latency() {
    let base = |profile: &str, bfd: bool| {
        let mut t = format!(
            r#"
name = "route install"
topology = "expressroute-vpn-failover"
duration = "3m"

[bgp]
profile = "{profile}"
hold_time = "10s"
keepalive = "3s"

[[fault]]
at = "60s"
kind = "silent"
target = "circuit.primary"

[[probe]]
from = "onprem"
to = "vnet"
flows = 8
"#
        );
        if bfd {
            t.push_str("\n[bfd]\nenabled = true\ninterval = \"300ms\"\nmultiplier = 3\n");
        }
        t
    };
    let ms = Duration::from_millis;
    let hold = Duration::from_secs(10);
    let cut = Instant::ZERO + Duration::from_secs(60);
    let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
    for seed in 1..=6 {
        let text = base("bird", false);
        let (down, cause, fib) = detection_and_fib(&text, seed);
        assert_eq!(cause, DownCause::HoldTimer);
        assert_eq!(
            fib, down,
            "seed {seed}: bird's withdrawal runs at the wake-up"
        );
        let after = down - last_heard(&text, seed, cut + ms(100));
        assert!(
            after > ms(7_500) && after <= hold + ms(3_000),
            "seed {seed}: bird detects {after} after it last heard msee1"
        );
        (lo, hi) = (lo.min(after), hi.max(after));
        let text = base("rfc4271", false);
        let (down, cause, _) = detection_and_fib(&text, seed);
        assert_eq!(cause, DownCause::HoldTimer);
        assert_eq!(
            down - last_heard(&text, seed, cut + ms(100)),
            hold,
            "seed {seed}"
        );
        let (down, cause, fib) = detection_and_fib(&base("bird", true), seed);
        assert_eq!(cause, DownCause::Bfd);
        assert_eq!(fib, down, "seed {seed}: bird after BFD down: at once");
        for bfd in [false, true] {
            let (down, _, fib) = detection_and_fib(&base("frr", bfd), seed);
            assert_eq!(fib - down, ms(70), "seed {seed}: frr, bfd {bfd}");
        }
    }
    println!(
        "bird: detection and FIB {lo} to {hi} after ce1 last heard msee1 (hold 10 s), at once after BFD down; frr: 70 ms"
    );
    assert!(
        hi > hold,
        "bird acts on some expiries after the hold time: the wake-up comes later"
    );
}

/// A silent cut of the primary link with hold 10 s, and `extra` appended (router settings).
fn silent_cut(profile: &str, extra: &str) -> String {
    format!(
        r#"
name = "silent cut"
topology = "expressroute-vpn-failover"
duration = "3m"

[bgp]
profile = "{profile}"
hold_time = "10s"
keepalive = "3s"

[[fault]]
at = "60s"
kind = "silent"
target = "circuit.primary"

[[probe]]
from = "onprem"
to = "vnet"
flows = 8
{extra}"#
    )
}

/// `route_install` on one router replaces its profile's model with a constant: the FIB moves
/// that long after the detection; `"0s"` puts an `frr` router's changes in at once.
#[test]
fn route_install_latency_is_settable_per_router() {
    let ms = Duration::from_millis;
    for seed in 1..=3 {
        let text = silent_cut("rfc4271", "\n[bgp.router.ce1]\nroute_install = \"250ms\"\n");
        let (down, cause, fib) = detection_and_fib(&text, seed);
        assert_eq!(cause, DownCause::HoldTimer);
        assert_eq!(fib - down, ms(250), "seed {seed}: rfc4271 with 250 ms");
        let text = silent_cut("frr", "\n[bgp.router.ce1]\nroute_install = \"0s\"\n");
        let (down, _, fib) = detection_and_fib(&text, seed);
        assert_eq!(fib, down, "seed {seed}: frr with route_install 0s");
        // Under [bgp] it applies to both CEs.
        let text = silent_cut("bird", "").replace(
            "keepalive = \"3s\"\n",
            "keepalive = \"3s\"\nroute_install = \"1s\"\n",
        );
        let (down, _, fib) = detection_and_fib(&text, seed);
        assert_eq!(fib - down, ms(1000), "seed {seed}: bird with 1 s");
    }
}

/// The graceful restart settings on ce1 and msee1 (both ends of the primary session).
fn graceful(restart: &str, notification: bool) -> String {
    format!(
        "\n[bgp.router.ce1]\ngraceful_restart = \"{restart}\"\ngraceful_restart_notification = {notification}\n\n[bgp.router.msee1]\ngraceful_restart = \"{restart}\"\ngraceful_restart_notification = {notification}\n"
    )
}

/// ce1's stale-route lines after the cut: (at, routes, what, until).
fn stale_lines(text: &str, seed: u64) -> Vec<(Instant, u64, String, Option<Instant>)> {
    let loaded = scenarios::load_str("profiles.toml", text).expect("the scenario loads");
    let report = scenarios::run(&loaded.scenario, seed, None).expect("the scenario runs");
    report
        .timeline
        .iter()
        .filter(|e| e.router.as_deref() == Some("ce1"))
        .filter_map(|e| match &e.event {
            TimelineEvent::StaleRoutes {
                session,
                routes,
                what,
                until,
            } if session == "circuit.primary.private" => {
                Some((e.at, *routes, what.clone(), *until))
            }
            _ => None,
        })
        .collect()
}

/// Graceful restart (RFC 4724, RFC 8538) after a silent failure: with the helper negotiated
/// and the N bit on both ends, ce1 keeps msee1's routes as stale when its hold timer expires
/// and forwards into the dead link for the 60 s restart time: the outage grows by exactly that.
/// Without graceful restart, or without the N bit (a hold-timer expiry sends a NOTIFICATION,
/// which RFC 4724 alone handles normally), the routes go at the detection.
#[test]
fn graceful_restart_keeps_stale_routes_and_a_silent_failure_lasts_the_restart_time_longer() {
    let restart = Duration::from_secs(60);
    for seed in 1..=3 {
        let plain = silent_cut("rfc4271", "");
        let (down, cause, fib) = detection_and_fib(&plain, seed);
        assert_eq!(cause, DownCause::HoldTimer);
        assert_eq!(
            fib, down,
            "seed {seed}: without graceful restart, at the detection"
        );
        assert!(stale_lines(&plain, seed).is_empty());

        let without_n = silent_cut("rfc4271", &graceful("60s", false));
        let (down_n, _, fib_n) = detection_and_fib(&without_n, seed);
        assert_eq!(fib_n, down_n, "seed {seed}: no N bit, nothing kept");
        assert!(stale_lines(&without_n, seed).is_empty());

        let helper = silent_cut("rfc4271", &graceful("60s", true));
        let (down_gr, cause, fib_gr) = detection_and_fib(&helper, seed);
        assert_eq!(cause, DownCause::HoldTimer);
        // The detection itself is the hold timer's either way (the longer OPEN moves the
        // run's timing a little, so not to the same instant).
        let cut = Instant::ZERO + Duration::from_secs(60);
        for d in [down, down_n, down_gr] {
            assert!(
                d - cut <= Duration::from_secs(10),
                "seed {seed}: {}",
                d - cut
            );
        }
        // `detection_and_fib` checked that the outages end at this FIB change.
        assert_eq!(
            fib_gr - down_gr,
            restart,
            "seed {seed}: stale for the restart time"
        );
        let lines = stale_lines(&helper, seed);
        let expires = down_gr + restart;
        assert_eq!(
            lines
                .iter()
                .map(|(at, _, what, until)| (*at, what.as_str(), *until))
                .collect::<Vec<_>>(),
            vec![
                (down_gr, "kept", Some(expires)),
                (expires, "restart_time_expired", None)
            ],
            "seed {seed}"
        );
        assert!(lines.iter().all(|l| l.1 > 0));
        println!(
            "seed {seed}: detection {} after the cut; outage ends {} after it without graceful restart, {} with it",
            down - cut,
            fib - cut,
            fib_gr - cut,
        );
    }
}

#[test]
fn bad_graceful_restart_and_route_install_settings_are_refused_where_written() {
    let cases = [
        (
            "[bgp.router.ce1]\ngraceful_restart = \"1.5s\"\n",
            "graceful_restart",
            "12-bit",
        ),
        (
            "[bgp]\ngraceful_restart = \"5000s\"\n",
            "graceful_restart",
            "4095s",
        ),
        (
            "[bgp.router.ce1]\ngraceful_restart_notification = true\n",
            "graceful_restart_notification",
            "RFC 8538",
        ),
        (
            "[bgp.router.ergw]\nroute_install = \"1s\"\n",
            "route_install",
            "convergence_delay",
        ),
        ("[bgp]\nroute_install = \"2m\"\n", "route_install", "60s"),
    ];
    for (block, key, why) in cases {
        let text = format!(
            "name = \"bad\"\ntopology = \"expressroute-vpn-failover\"\nduration = \"1m\"\n\n{block}"
        );
        let Err(e) = scenarios::load_str("bad.toml", &text) else {
            panic!("accepted:\n{block}");
        };
        let msg = e.to_string();
        assert!(
            msg.contains(key) && msg.contains(why) && msg.contains("bad.toml:"),
            "{block}\n{msg}"
        );
    }
}
