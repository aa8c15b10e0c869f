//! BFD takes the registered BGP session down (`fall-over bfd`): the owner forwards the BFD
//! session's `SessionDown` to the BGP session as `Command::BfdDown`, and the BGP session is in
//! Idle after that single input, long before its hold timer.

mod common;

use bgp::bfd;
use bgp::fsm::profile::Profile;
use bgp::fsm::testing::Side;
use bgp::fsm::{Command, State};
use common::*;
use sim_core::time::{Duration, Instant};

/// Runs two BFD sessions over a 1 ms link until `until`; packets from B are dropped from
/// `cut` on. Returns the time A reported `SessionDown`, if it did.
fn run_bfd(
    a: &mut bfd::Session,
    b: &mut bfd::Session,
    from: Instant,
    cut: Instant,
    until: Instant,
) -> Option<Instant> {
    let latency = Duration::from_millis(1);
    let mut now = from;
    let mut in_flight: Vec<(Instant, bool, bfd::packet::PacketBuf)> = Vec::new();
    loop {
        while let Some(p) = a.poll_transmit() {
            in_flight.push((now + latency, true, p));
        }
        while let Some(p) = b.poll_transmit() {
            if now < cut {
                in_flight.push((now + latency, false, p));
            }
        }
        while let Some(e) = a.poll_event() {
            if matches!(e, bfd::Event::SessionDown { .. }) {
                return Some(now);
            }
        }
        while b.poll_event().is_some() {}
        let next_arrival = in_flight.iter().map(|f| f.0).min();
        let next = [a.poll_timeout(), b.poll_timeout(), next_arrival]
            .into_iter()
            .flatten()
            .min()?;
        if next > until {
            return None;
        }
        now = next;
        if let Some(i) = in_flight.iter().position(|f| f.0 == now) {
            let (_, to_b, bytes) = in_flight.remove(i);
            let r = if to_b {
                b.handle_packet(now, &bytes)
            } else {
                a.handle_packet(now, &bytes)
            };
            assert_eq!(r, Ok(()));
        } else {
            if a.poll_timeout() == Some(now) {
                a.handle_timeout(now);
            }
            if b.poll_timeout() == Some(now) {
                b.handle_timeout(now);
            }
        }
    }
}

#[test]
fn bfd_down_takes_bgp_down_within_one_event() {
    for seed in 0..10 {
        let mut p = established(cfg_a(Profile::CISCO_IOS), cfg_b(Profile::CISCO_IOS), seed);
        let start = p.now;
        let mut bfd_a = bfd::Session::new(
            start,
            bfd::Config {
                local_discriminator: 1,
                ..bfd::Config::default()
            },
            seed,
        );
        let mut bfd_b = bfd::Session::new(
            start,
            bfd::Config {
                local_discriminator: 2,
                ..bfd::Config::default()
            },
            seed + 1,
        );
        let cut = start + Duration::from_secs(30);
        let down = run_bfd(
            &mut bfd_a,
            &mut bfd_b,
            start,
            cut,
            cut + Duration::from_secs(10),
        )
        .expect("BFD detects the cut");
        // 300 ms × 3: detected within 0.9 s of the last packet from B.
        assert!(
            down - cut <= Duration::from_millis(901),
            "seed {seed}: {}",
            down - cut
        );
        // The BGP pair runs up to the detection, with the link silently cut as well.
        p.drive_until(cut);
        p.link_up = false;
        p.drive_until(down);
        assert_eq!(state(&p.a), State::Established);
        p.command(Side::A, Command::BfdDown);
        assert_eq!(state(&p.a), State::Idle, "seed {seed}");
        // Without BFD the hold timer (180 s for cisco-ios) would still be minutes away.
        assert!(received_notifications(&p.a).is_empty());
        assert_eq!(code(&sent_notifications(&p.a)[0].1), (6, 10));
    }
}
