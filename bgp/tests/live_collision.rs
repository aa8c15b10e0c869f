//! Connection collision resolution (RFC 4271 §6.8) between two live drivers that both listen
//! and both dial: A (BGP Identifier 10.0.0.1) on 127.0.0.1, B (10.0.0.2) on 127.0.0.2. Both
//! are told to start before either driver runs, so each dials while the other's connection
//! arrives: each side has two connections to the same peer, and both must keep the one B
//! opened (the higher identifier), close the other with Cease 6/7, and reach Established
//! exactly once, on the same TCP connection.
#![cfg(feature = "tokio")]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration as StdDuration;

use bgp::fsm::collision::Direction;
use bgp::fsm::{self, Command, SessionEvent, State};
use bgp::live::{Driver, LiveEvent, LiveEventKind, PeerTransport};
use bgp::rib::{PeerConfig, PeerId, RibConfig};
use bgp::speaker::{PeerSpec, Speaker, SpeakerEvent};
use sim_core::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

const PEER: PeerId = PeerId(1);
const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

fn speaker(local_as: u32, remote_as: u32, id: u8, me: Ipv4Addr, them: Ipv4Addr) -> Speaker {
    let router_id = Ipv4Addr::new(10, 0, 0, id);
    let mut session = fsm::Config::new(local_as, remote_as, router_id);
    session.hold_time = Some(Duration::from_secs(30));
    let spec = PeerSpec {
        session,
        rib: PeerConfig::new(remote_as, IpAddr::from(them), IpAddr::from(me)),
        bfd: None,
        seed: u64::from(id),
    };
    let mut speaker = Speaker::new(RibConfig::new(local_as, router_id));
    speaker
        .add_peer(Instant::ZERO, PEER, spec)
        .expect("valid peer");
    speaker
}

/// What one side saw in `within`.
#[derive(Debug, Default)]
struct Seen {
    established: usize,
    kept: Vec<Direction>,
    /// (remote, inbound) of every connection, in order.
    connections: Vec<(SocketAddr, bool)>,
    closed: usize,
    dropped_from_established: bool,
}

async fn watch(mut events: UnboundedReceiver<LiveEvent>, within: StdDuration) -> Seen {
    let mut seen = Seen::default();
    let _ = tokio::time::timeout(within, async {
        while let Some(event) = events.recv().await {
            match event.kind {
                LiveEventKind::Connected {
                    remote, inbound, ..
                } => seen.connections.push((remote, inbound)),
                LiveEventKind::Closed { .. } => seen.closed += 1,
                LiveEventKind::Speaker(SpeakerEvent::CollisionResolved { kept, .. }) => {
                    seen.kept.push(kept);
                }
                LiveEventKind::Speaker(SpeakerEvent::Session { event, .. }) => match event {
                    SessionEvent::Established(_) => seen.established += 1,
                    SessionEvent::StateChanged {
                        from: State::Established,
                        ..
                    } => seen.dropped_from_established = true,
                    _ => {}
                },
                _ => {}
            }
        }
    })
    .await;
    seen
}

/// A free TCP port on `addr`: bind, read it, release it.
fn free_port(addr: Ipv4Addr) -> u16 {
    std::net::TcpListener::bind((addr, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn collide() -> (Seen, Seen) {
    let (a_port, b_port) = (free_port(A), free_port(B));
    let a = speaker(65001, 65002, 1, A, B);
    let b = speaker(65002, 65001, 2, B, A);
    let a_transport = PeerTransport {
        connect: Some(SocketAddr::from((B, b_port))),
        bind: Some(SocketAddr::from((A, 0))),
        accept_from: Some(IpAddr::from(B)),
        ..PeerTransport::default()
    };
    let b_transport = PeerTransport {
        connect: Some(SocketAddr::from((A, a_port))),
        bind: Some(SocketAddr::from((B, 0))),
        accept_from: Some(IpAddr::from(A)),
        ..PeerTransport::default()
    };
    let (mut a_driver, a_handle, a_events) = Driver::new(a, [(PEER, a_transport)]).expect("A");
    let (mut b_driver, b_handle, b_events) = Driver::new(b, [(PEER, b_transport)]).expect("B");
    a_driver
        .listen(SocketAddr::from((A, a_port)))
        .await
        .expect("A listens");
    b_driver
        .listen(SocketAddr::from((B, b_port)))
        .await
        .expect("B listens");
    // Both start before either runs: both dial at once.
    a_handle.command(PEER, Command::Start).expect("A");
    b_handle.command(PEER, Command::Start).expect("B");
    tokio::spawn(a_driver.run());
    tokio::spawn(b_driver.run());
    let within = StdDuration::from_secs(3);
    let (a_seen, b_seen) = tokio::join!(watch(a_events, within), watch(b_events, within));
    let _ = (a_handle.shutdown(), b_handle.shutdown());
    (a_seen, b_seen)
}

#[tokio::test]
async fn both_dialling_keep_the_connection_opened_by_the_higher_identifier() {
    let (a, b) = collide().await;
    // Each side had both connections: the one it opened and the one the other opened.
    assert_eq!(a.connections.len(), 2, "A: {a:?}");
    assert_eq!(b.connections.len(), 2, "B: {b:?}");
    // §6.8: the connection initiated by the higher BGP Identifier (B's) survives: incoming
    // at A, outgoing at B.
    assert_eq!(a.kept, vec![Direction::Incoming], "A: {a:?}");
    assert_eq!(b.kept, vec![Direction::Outgoing], "B: {b:?}");
    // The loser (sent Cease 6/7 by the speaker) is the one connection each side closes, and
    // each side reaches Established once and stays there.
    assert_eq!((a.closed, b.closed), (1, 1), "A: {a:?}\nB: {b:?}");
    assert_eq!((a.established, b.established), (1, 1), "A: {a:?}\nB: {b:?}");
    assert!(!a.dropped_from_established && !b.dropped_from_established);
}
