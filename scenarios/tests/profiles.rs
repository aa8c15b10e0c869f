//! Timer profiles seen end to end in simulated runs: the behaviours a router's profile gives
//! it, measured at the capture tap rather than read from the configuration.

use std::collections::BTreeMap;

use bgp::fsm::State;
use scenarios::sim::net::{CapturePoint, Frame, SessIx};
use scenarios::sim::tap::Tap;
use sim_core::time::{Duration, Instant};

/// Records when each end of each session sent a BFD control packet.
#[derive(Default)]
struct BfdSends {
    /// (session, sending end) → send instants, in order.
    at: BTreeMap<(usize, u8), Vec<Instant>>,
}

impl Tap for BfdSends {
    fn frame(&mut self, at: Instant, session: SessIx, from: u8, frame: &Frame) {
        if matches!(frame, Frame::Datagram(_)) {
            self.at.entry((session.0, from)).or_default().push(at);
        }
    }
    fn received(&mut self, _: Instant, _: SessIx, _: u8, _: &[u8]) {}
    fn state(&mut self, _: Instant, _: SessIx, _: u8, _: State, _: State) {}
}

/// The gaps between the BFD packets `router` sent on its sessions after the first 30 s (the
/// sessions are Up and at their negotiated interval by then).
fn bfd_gaps(text: &str, router: &str) -> Vec<Duration> {
    let loaded = scenarios::load_str("profiles.toml", text).expect("the scenario loads");
    let topo = &loaded.scenario.topology;
    let mut tap = BfdSends::default();
    scenarios::run_with_tap(&loaded.scenario, 1, None, &mut tap, CapturePoint::Sender)
        .expect("the scenario runs");
    let from = Instant::ZERO + Duration::from_secs(30);
    let mut gaps = Vec::new();
    for ((s, end), times) in &tap.at {
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
