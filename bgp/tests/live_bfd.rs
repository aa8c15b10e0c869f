//! Two live drivers with BFD over UDP (RFC 5881) on loopback: A on 127.0.0.1 listens, B on
//! 127.0.0.2 dials; each carries its BFD session between the addresses of the BGP
//! connection. Both come Up; silencing B makes A's BFD detect within its detection time and
//! take the BGP session down (RFC 5882 §4.3) long before the 90 s hold timer could.
//!
//! The BFD port is a free UDP port on both addresses instead of 3784, so the test needs no
//! privileges and runs beside anything else using 3784; everything else is as in RFC 5881.
#![cfg(feature = "tokio")]

mod live_common;

use live_common::{BOUND, wait_for};

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration as StdDuration;

use bgp::bfd::{self, packet::State as BfdState};
use bgp::fsm::{self, Command, Event, SessionEvent, State};
use bgp::live::{Driver, Fault, Handle, LiveEvent, LiveEventKind, PeerTransport};
use bgp::rib::{PeerConfig, PeerId, RibConfig};
use bgp::speaker::{PeerSpec, Speaker, SpeakerEvent};
use sim_core::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;

const PEER: PeerId = PeerId(1);
const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

fn speaker(local_as: u32, remote_as: u32, id: u8, me: Ipv4Addr, them: Ipv4Addr) -> Speaker {
    let router_id = Ipv4Addr::new(10, 0, 0, id);
    let mut session = fsm::Config::new(local_as, remote_as, router_id);
    session.hold_time = Some(Duration::from_secs(90));
    let spec = PeerSpec {
        session,
        rib: PeerConfig::new(remote_as, IpAddr::from(them), IpAddr::from(me)),
        bfd: Some(bfd::Config {
            local_discriminator: u32::from(id),
            desired_min_tx: Duration::from_millis(300),
            required_min_rx: Duration::from_millis(300),
            detect_mult: 3,
            passive: false,
            ..bfd::Config::default()
        }),
        seed: u64::from(id),
    };
    let mut speaker = Speaker::new(RibConfig::new(local_as, router_id));
    speaker
        .add_peer(Instant::ZERO, PEER, spec)
        .expect("valid peer");
    speaker
}

/// A UDP port free on both loopback addresses.
fn bfd_port() -> u16 {
    for _ in 0..100 {
        let a = UdpSocket::bind((A, 0)).expect("udp");
        let port = a.local_addr().expect("bound").port();
        if UdpSocket::bind((B, port)).is_ok() {
            return port;
        }
    }
    panic!("no UDP port free on both 127.0.0.1 and 127.0.0.2")
}

fn bfd_to(state: BfdState) -> impl Fn(&LiveEventKind) -> bool {
    move |kind| {
        matches!(kind, LiveEventKind::Speaker(SpeakerEvent::Bfd {
            event: bfd::Event::StateChanged { to, .. }, ..
        }) if *to == state)
    }
}

fn bgp_down_by_bfd(kind: &LiveEventKind) -> bool {
    matches!(
        kind,
        LiveEventKind::Speaker(SpeakerEvent::Session {
            event: SessionEvent::StateChanged {
                from: State::Established,
                cause: Event::AutomaticStop,
                ..
            },
            ..
        })
    )
}

struct Pair {
    a: Handle,
    a_events: UnboundedReceiver<LiveEvent>,
    b: Handle,
    b_events: UnboundedReceiver<LiveEvent>,
}

/// The pair, both drivers on one clock (their events compare).
async fn pair() -> Pair {
    let epoch = tokio::time::Instant::now();
    let port = bfd_port();
    let a = speaker(12076, 65001, 1, A, B);
    let listen = PeerTransport {
        accept_from: Some(IpAddr::from(B)),
        bfd_port: Some(port),
        ..PeerTransport::default()
    };
    let (mut a_driver, a, a_events) = Driver::new(a, [(PEER, listen)]).expect("driver A");
    a_driver.set_epoch(epoch);
    let addr = a_driver
        .listen(SocketAddr::from((A, 0)))
        .await
        .expect("listen");
    a.command(PEER, Command::StartPassive).expect("A running");
    tokio::spawn(a_driver.run());
    let b = speaker(65001, 12076, 2, B, A);
    let dial = PeerTransport {
        connect: Some(addr),
        bind: Some(SocketAddr::from((B, 0))),
        bfd_port: Some(port),
        ..PeerTransport::default()
    };
    let (mut b_driver, b, b_events) = Driver::new(b, [(PEER, dial)]).expect("driver B");
    b_driver.set_epoch(epoch);
    b.command(PEER, Command::Start).expect("B running");
    tokio::spawn(b_driver.run());
    Pair {
        a,
        a_events,
        b,
        b_events,
    }
}

#[tokio::test]
async fn bfd_comes_up_over_udp_from_an_rfc_source_port() {
    let mut p = pair().await;
    let mut source = None;
    let up = timeout(BOUND, async {
        while let Some(event) = p.b_events.recv().await {
            match event.kind {
                LiveEventKind::BfdTransport { local, .. } => source = Some(local),
                kind if bfd_to(BfdState::Up)(&kind) => return true,
                _ => {}
            }
        }
        false
    })
    .await;
    assert_eq!(up, Ok(true), "B's BFD never came Up");
    wait_for(&mut p.a_events, bfd_to(BfdState::Up)).await;
    let source = source.expect("B reported its BFD path");
    // RFC 5881 §4: "The source port MUST be in the range 49152 through 65535."
    assert!((49152..=65535).contains(&source.port()), "{source}");
    assert_eq!(source.ip(), IpAddr::from(B));
    let _ = (p.a.shutdown(), p.b.shutdown());
}

#[tokio::test]
async fn silent_peer_is_detected_by_bfd_within_its_detection_time_and_takes_bgp_down() {
    let mut p = pair().await;
    wait_for(&mut p.a_events, bfd_to(BfdState::Up)).await;
    // Let the session settle at its fast rate (the slow 1 s rate ends with Up).
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    p.b.fault(PEER, Fault::Silent).expect("fault");
    let silent_at = wait_for(&mut p.b_events, |k| {
        matches!(
            k,
            LiveEventKind::Fault {
                fault: Fault::Silent,
                ..
            }
        )
    })
    .await;
    let down = wait_for(&mut p.a_events, bfd_to(BfdState::Down)).await;
    let bgp_down = wait_for(&mut p.a_events, bgp_down_by_bfd).await;
    let after = down.saturating_duration_since(silent_at);
    println!(
        "A's BFD detected the silent B after {after}, BGP down {}",
        bgp_down.saturating_duration_since(silent_at)
    );
    // Detection time = 3 × max(300 ms, 300 ms) = 900 ms after the last packet received, which
    // left B at most one (jittered) 300 ms interval before the silence.
    assert!(
        after <= Duration::from_millis(900 + 250),
        "BFD detected after {after}"
    );
    assert!(bgp_down.saturating_duration_since(down) < Duration::from_millis(50));
    let _ = (p.a.shutdown(), p.b.shutdown());
}

#[tokio::test]
async fn a_bfd_packet_from_the_peer_with_ttl_below_255_is_discarded() {
    let mut p = pair().await;
    let mut a_bfd = None;
    let up = timeout(BOUND, async {
        while let Some(event) = p.b_events.recv().await {
            match event.kind {
                LiveEventKind::BfdTransport { remote, .. } => a_bfd = Some(remote),
                kind if bfd_to(BfdState::Up)(&kind) => return true,
                _ => {}
            }
        }
        false
    })
    .await;
    assert_eq!(up, Ok(true));
    let a_bfd = a_bfd.expect("B's BFD path names A's BFD address");
    // A packet from B's address, but one hop away (TTL 64): RFC 5881 §5 GTSM discards it.
    let far = UdpSocket::bind((B, 0)).expect("udp");
    far.set_ttl(64).expect("ttl");
    far.send_to(&[0x20; 24], a_bfd).expect("sent");
    wait_for(&mut p.a_events, |k| {
        matches!(k, LiveEventKind::BfdDiscarded { ttl: Some(64), .. })
    })
    .await;
    let _ = (p.a.shutdown(), p.b.shutdown());
}
