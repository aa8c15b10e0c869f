//! Two live drivers over loopback TCP: one dials, one listens; they reach Established,
//! exchange routes, and a silent fault on one side is detected by the other's hold timer.
#![cfg(feature = "tokio")]

mod live_common;

use live_common::{BOUND, wait_for};

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration as StdDuration;

use bgp::fsm::{self, Command, SessionEvent, State};
use bgp::live::{Driver, Fault, Handle, LiveEvent, LiveEventKind, Md5Key, PeerTransport};
use bgp::rib::{PeerConfig, PeerId, RibConfig};
use bgp::speaker::{PeerSpec, Speaker, SpeakerEvent};
use bgp::wire::PathAttributes;
use sim_core::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;

const PEER: PeerId = PeerId(1);

fn speaker(local_as: u32, remote_as: u32, id: u8, hold: u64, prefix: &str) -> Speaker {
    let router_id = Ipv4Addr::new(10, 0, 0, id);
    let mut session = fsm::Config::new(local_as, remote_as, router_id);
    session.hold_time = Some(Duration::from_secs(hold));
    let localhost = IpAddr::from(Ipv4Addr::LOCALHOST);
    let spec = PeerSpec {
        session,
        rib: PeerConfig::new(remote_as, localhost, localhost),
        bfd: None,
        seed: u64::from(id),
    };
    let mut speaker = Speaker::new(RibConfig::new(local_as, router_id));
    speaker
        .add_peer(Instant::ZERO, PEER, spec)
        .expect("valid peer");
    let prefix = prefix.parse().expect("prefix");
    speaker.originate(Instant::ZERO, prefix, PathAttributes::new());
    speaker
}

fn established(kind: &LiveEventKind) -> bool {
    matches!(
        kind,
        LiveEventKind::Speaker(SpeakerEvent::Session {
            event: SessionEvent::StateChanged {
                to: State::Established,
                ..
            },
            ..
        })
    )
}

fn learned(prefix: &'static str) -> impl Fn(&LiveEventKind) -> bool {
    move |kind| {
        matches!(kind, LiveEventKind::Speaker(SpeakerEvent::FibChanged(c))
            if c.prefix.to_string() == prefix && !c.next_hops.is_empty())
    }
}

struct Pair {
    a: Handle,
    a_events: UnboundedReceiver<LiveEvent>,
    b: Handle,
    b_events: UnboundedReceiver<LiveEvent>,
}

/// A listens (AS 12076, hold `hold_a`); B dials it (AS 65001, hold 9 s).
async fn pair(hold_a: u64) -> Pair {
    pair_keyed(hold_a, None, None).await
}

/// [`pair`] with RFC 2385 MD5 keys on A's listener and B's dialling socket.
async fn pair_keyed(hold_a: u64, key_a: Option<&str>, key_b: Option<&str>) -> Pair {
    let localhost = IpAddr::from(Ipv4Addr::LOCALHOST);
    let key = |k: Option<&str>| k.map(|k| Md5Key::new(k.as_bytes()).expect("key"));
    let a = speaker(12076, 65001, 1, hold_a, "192.0.2.0/24");
    let listen = PeerTransport {
        accept_from: Some(localhost),
        md5: key(key_a),
        ..PeerTransport::default()
    };
    let (mut a_driver, a, a_events) = Driver::new(a, [(PEER, listen)]).expect("driver A");
    let addr = a_driver
        .listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("bind");
    a.command(PEER, Command::StartPassive).expect("A running");
    tokio::spawn(a_driver.run());

    let b = speaker(65001, 12076, 2, 9, "198.51.100.0/24");
    let dial = PeerTransport {
        connect: Some(addr),
        md5: key(key_b),
        ..PeerTransport::default()
    };
    let (b_driver, b, b_events) = Driver::new(b, [(PEER, dial)]).expect("driver B");
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
async fn dialler_and_listener_establish_and_exchange_routes() {
    let mut p = pair(180).await;
    wait_for(&mut p.a_events, established).await;
    wait_for(&mut p.b_events, established).await;
    wait_for(&mut p.a_events, learned("198.51.100.0/24")).await;
    wait_for(&mut p.b_events, learned("192.0.2.0/24")).await;
    p.a.shutdown().expect("A running");
    p.b.shutdown().expect("B running");
}

#[tokio::test]
async fn md5_keys_that_match_establish() {
    let mut p = pair_keyed(180, Some("azure-peering"), Some("azure-peering")).await;
    wait_for(&mut p.a_events, established).await;
    wait_for(&mut p.b_events, established).await;
    wait_for(&mut p.b_events, learned("192.0.2.0/24")).await;
    p.a.shutdown().expect("A running");
    p.b.shutdown().expect("B running");
}

/// RFC 2385 §2: a segment without a valid digest is dropped, so the TCP handshake never
/// completes: no connection, no OPEN, nothing Established.
async fn never_establishes(key_a: Option<&str>, key_b: Option<&str>) {
    let mut p = pair_keyed(180, key_a, key_b).await;
    let seen = timeout(StdDuration::from_secs(4), async {
        while let Some(event) = p.a_events.recv().await {
            if matches!(
                event.kind,
                LiveEventKind::Speaker(SpeakerEvent::Session { .. })
            ) && established(&event.kind)
            {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        !matches!(seen, Ok(true)),
        "keys {key_a:?} / {key_b:?} must not connect"
    );
    p.a.shutdown().expect("A running");
    p.b.shutdown().expect("B running");
}

#[tokio::test]
async fn md5_key_mismatch_never_connects() {
    never_establishes(Some("azure-peering"), Some("wrong-key")).await;
}

#[tokio::test]
async fn md5_key_missing_on_one_side_never_connects() {
    never_establishes(Some("azure-peering"), None).await;
    never_establishes(None, Some("azure-peering")).await;
}

#[tokio::test]
async fn silent_peer_is_detected_by_the_hold_timer_within_the_negotiated_hold() {
    // A advertises 3 s, B 9 s: RFC 4271 §4.2, the hold time is "the smaller of its
    // configured Hold Time and the Hold Time received in the OPEN message": 3 s, keepalive
    // 1 s (a third, §10), jittered to 0.75–1 s.
    let mut p = pair(3).await;
    wait_for(&mut p.a_events, established).await;
    wait_for(&mut p.b_events, established).await;
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    while p.a_events.try_recv().is_ok() {}
    let silenced = tokio::time::Instant::now();
    p.b.fault(PEER, Fault::Silent).expect("B running");
    wait_for(&mut p.a_events, |k| {
        matches!(
            k,
            LiveEventKind::Speaker(SpeakerEvent::Session {
                event: SessionEvent::HoldTimerExpired,
                ..
            })
        )
    })
    .await;
    let after = silenced.elapsed();
    // The last keepalive from B arrived at most 1 s before the silence, so A's hold timer
    // (restarted by it, §8.2.2 "restarts its HoldTimer") expires in (H − K, H] = (2 s, 3 s]
    // after the silence; loopback and scheduling add a little.
    assert!(
        after > StdDuration::from_millis(1900) && after < StdDuration::from_millis(3500),
        "hold timer expired {after:?} after the silence"
    );
    // A sends its NOTIFICATION 4/0 and closes; B, not reading, learns nothing yet.
    wait_for(&mut p.a_events, |k| {
        matches!(k, LiveEventKind::Closed { .. })
    })
    .await;
}

#[tokio::test]
async fn a_close_during_silence_is_parked_so_the_peer_detects_by_its_hold_timer() {
    // Negotiated hold 3 s (as above). B goes silent, then its session is stopped: in a black
    // hole B's FIN would not reach A either, so A must still detect by its hold timer, not by
    // an end of stream.
    let mut p = pair(3).await;
    wait_for(&mut p.a_events, established).await;
    wait_for(&mut p.b_events, established).await;
    while p.a_events.try_recv().is_ok() {}
    p.b.fault(PEER, Fault::Silent).expect("B running");
    p.b.command(PEER, Command::Stop { message: None })
        .expect("B running");
    let first = timeout(BOUND, async {
        while let Some(event) = p.a_events.recv().await {
            match event.kind {
                LiveEventKind::Speaker(SpeakerEvent::Session {
                    event: SessionEvent::HoldTimerExpired,
                    ..
                })
                | LiveEventKind::Closed { .. } => return Some(event.kind),
                _ => {}
            }
        }
        None
    })
    .await;
    assert!(
        matches!(
            first,
            Ok(Some(LiveEventKind::Speaker(SpeakerEvent::Session {
                event: SessionEvent::HoldTimerExpired,
                ..
            })))
        ),
        "A saw {first:?} first"
    );
    // Restoring B closes the parked connection.
    p.b.fault(PEER, Fault::Restore).expect("B running");
}
