//! The hostile-peer suite: a misbehaving client against the live driver on 127.0.0.1.
//!
//! Each test starts a speaker (AS 12076, one passive peer in AS 65001) behind
//! [`bgp::live::Driver`] listening on an ephemeral loopback port, connects a raw TCP client
//! that misbehaves in one way, and checks what came back: the RFC's NOTIFICATION where one
//! applies, then a clean close (end of stream, not a reset), and a driver still running.
//! Every test is bounded by `tokio::time::timeout` and touches only 127.0.0.1.
#![cfg(feature = "tokio")]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration as StdDuration;

use bgp::fsm::profile::Profile;
use bgp::fsm::{self, Command, SessionEvent};
use bgp::live::{Driver, Handle, LiveEvent, LiveEventKind, PeerTransport};
use bgp::rib::{PeerConfig, PeerId, RibConfig};
use bgp::speaker::{PeerSpec, Speaker, SpeakerEvent};
use sim_core::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;
use tokio::time::timeout;

const LOCAL_AS: u32 = 12076;
const PEER_AS: u32 = 65001;
const PEER: PeerId = PeerId(1);
/// The OpenSent hold timer of the test profile (RFC 4271 §8.2.2 suggests 4 minutes; every
/// test must finish in seconds).
const OPEN_SENT_HOLD: Duration = Duration::from_secs(3);
/// Upper bound on any single exchange in these tests.
const BOUND: StdDuration = StdDuration::from_secs(20);

/// A running driver: its address, handle, events and task.
struct Live {
    addr: SocketAddr,
    _handle: Handle,
    events: UnboundedReceiver<LiveEvent>,
    task: JoinHandle<Result<Speaker, bgp::live::LiveError>>,
}

impl Live {
    /// The events reported so far.
    fn drain(&mut self) -> Vec<LiveEventKind> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            out.push(event.kind);
        }
        out
    }
}

async fn start_live() -> Live {
    let router_id = Ipv4Addr::new(10, 0, 0, 1);
    let mut session = fsm::Config::new(LOCAL_AS, PEER_AS, router_id);
    session.profile = Profile {
        open_sent_hold: Some(OPEN_SENT_HOLD),
        ..Profile::RFC4271
    };
    session.hold_time = Some(Duration::from_secs(180));
    let localhost = Ipv4Addr::LOCALHOST.into();
    let spec = PeerSpec {
        session,
        rib: PeerConfig::new(PEER_AS, localhost, localhost),
        bfd: None,
        seed: 7,
    };
    let mut speaker = Speaker::new(RibConfig::new(LOCAL_AS, router_id));
    speaker
        .add_peer(Instant::ZERO, PEER, spec)
        .expect("valid peer");
    let transport = PeerTransport {
        accept_from: Some(localhost),
        ..PeerTransport::default()
    };
    let (mut driver, handle, events) = Driver::new(speaker, [(PEER, transport)]).expect("driver");
    let addr = driver
        .listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("bind 127.0.0.1:0");
    handle
        .command(PEER, Command::StartPassive)
        .expect("driver running");
    let task = tokio::spawn(driver.run());
    Live {
        addr,
        _handle: handle,
        events,
        task,
    }
}

/// A BGP header: marker, length, type.
fn header(marker: [u8; 16], len: u16, kind: u8) -> Vec<u8> {
    let mut out = marker.to_vec();
    out.extend_from_slice(&len.to_be_bytes());
    out.push(kind);
    out
}

/// A minimal OPEN from AS 65001 with the given hold time and no optional parameters.
fn open(hold: u16) -> Vec<u8> {
    let mut out = header([0xff; 16], 29, 1);
    out.push(4);
    out.extend_from_slice(&u16::try_from(PEER_AS).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(&hold.to_be_bytes());
    out.extend_from_slice(&[192, 0, 2, 1]);
    out.push(0);
    out
}

/// Reads until the driver closes; `Ok` only for a clean end of stream.
async fn read_to_end(stream: &mut TcpStream) -> (Vec<u8>, Result<(), std::io::ErrorKind>) {
    let mut got = Vec::new();
    let result = timeout(BOUND, stream.read_to_end(&mut got)).await;
    let result = match result {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.kind()),
        Err(_) => Err(std::io::ErrorKind::TimedOut),
    };
    (got, result)
}

/// Splits a byte stream into (type, body) messages by their header lengths.
fn messages(mut buf: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while let (Some(len), Some(&kind)) = (buf.get(16..18), buf.get(18)) {
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let Some(message) = buf.get(..len).filter(|_| len >= 19) else {
            break;
        };
        out.push((kind, message[19..].to_vec()));
        buf = &buf[len..];
    }
    out
}

/// The (code, subcode) of the NOTIFICATIONs in a byte stream.
fn notifications(buf: &[u8]) -> Vec<(u8, u8)> {
    messages(buf)
        .into_iter()
        .filter(|(kind, _)| *kind == 3)
        .filter_map(|(_, body)| Some((*body.first()?, *body.get(1)?)))
        .collect()
}

/// Sends `bytes`, then expects our OPEN, exactly one NOTIFICATION `expected`, and a clean
/// close; the driver must still be running.
async fn expect_notification(bytes: &[u8], expected: (u8, u8)) {
    let mut live = start_live().await;
    let mut stream = TcpStream::connect(live.addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let (got, end) = read_to_end(&mut stream).await;
    let kinds: Vec<u8> = messages(&got).iter().map(|m| m.0).collect();
    assert_eq!(kinds.first(), Some(&1), "our OPEN comes first: {kinds:?}");
    assert_eq!(notifications(&got), vec![expected]);
    assert_eq!(end, Ok(()), "clean close, not a reset");
    assert!(!live.task.is_finished(), "driver still running");
    let events = live.drain();
    assert!(
        events.iter().any(|e| matches!(
            e,
            LiveEventKind::Speaker(SpeakerEvent::Session {
                event: SessionEvent::NotificationSent(n),
                ..
            }) if (n.code.0, n.subcode) == expected
        )),
        "NotificationSent reported: {events:?}"
    );
}

#[tokio::test]
async fn bad_marker_gets_connection_not_synchronized() {
    // RFC 4271 §6.1: a marker that is not all ones → "Connection Not Synchronized" (1/1).
    expect_notification(&header([0; 16], 19, 4), (1, 1)).await;
}

#[tokio::test]
async fn length_below_header_gets_bad_message_length() {
    // §6.1: "Length field ... is less than 19 or greater than 4096" → Bad Message Length (1/2).
    expect_notification(&header([0xff; 16], 18, 4), (1, 2)).await;
}

#[tokio::test]
async fn length_above_maximum_gets_bad_message_length() {
    let mut bytes = header([0xff; 16], 5000, 2);
    bytes.resize(5000, 0);
    expect_notification(&bytes, (1, 2)).await;
}

#[tokio::test]
async fn unknown_type_gets_bad_message_type() {
    // §6.1: "If the Type field of the message header is not recognized" → 1/3.
    expect_notification(&header([0xff; 16], 19, 9), (1, 3)).await;
}

#[tokio::test]
async fn open_with_hold_time_one_gets_unacceptable_hold_time() {
    // §6.2: "An implementation MUST reject Hold Time values of one or two seconds" → 2/6.
    expect_notification(&open(1), (2, 6)).await;
}

#[tokio::test]
async fn oversized_open_gets_bad_message_length() {
    // RFC 8654 §4: an OPEN is limited to 4096 octets even with extended messages; §6.1 →
    // Bad Message Length (1/2) as soon as the header is read.
    let mut bytes = header([0xff; 16], 4200, 1);
    bytes.resize(4200, 0);
    expect_notification(&bytes, (1, 2)).await;
}

#[tokio::test]
async fn garbage_after_notification_is_ignored_without_reply() {
    let mut live = start_live().await;
    let mut stream = TcpStream::connect(live.addr).await.expect("connect");
    // A Cease / Administrative Shutdown, then garbage.
    let mut bytes = header([0xff; 16], 21, 3);
    bytes.extend_from_slice(&[6, 2]);
    bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef].repeat(64));
    stream.write_all(&bytes).await.expect("write");
    let (got, end) = read_to_end(&mut stream).await;
    // RFC 4271 §6: a NOTIFICATION is never answered with one.
    assert_eq!(notifications(&got), Vec::<(u8, u8)>::new());
    assert_eq!(end, Ok(()));
    assert!(!live.task.is_finished(), "driver still running");
    let events = live.drain();
    assert!(events.iter().any(|e| matches!(
        e,
        LiveEventKind::Speaker(SpeakerEvent::Session {
            event: SessionEvent::NotificationReceived(n),
            ..
        }) if (n.code.0, n.subcode) == (6, 2)
    )));
}

#[tokio::test]
async fn one_byte_per_second_is_cut_by_open_sent_hold_timer() {
    // §8.2.2 OpenSent: the hold timer runs while waiting for the OPEN ("4 minutes is
    // suggested"; 3 s in this test); on expiry, NOTIFICATION Hold Timer Expired (4/0).
    let live = start_live().await;
    let stream = TcpStream::connect(live.addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for byte in open(180) {
            if wr.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(StdDuration::from_secs(1)).await;
        }
    });
    let started = tokio::time::Instant::now();
    let mut got = Vec::new();
    let end = timeout(BOUND, rd.read_to_end(&mut got)).await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(matches!(end, Ok(Ok(_))), "clean close: {end:?}");
    assert_eq!(notifications(&got), vec![(4, 0)]);
    let hold = StdDuration::from_nanos(OPEN_SENT_HOLD.as_nanos());
    assert!(
        elapsed >= hold.mul_f64(0.7) && elapsed < hold + StdDuration::from_secs(3),
        "cut after {elapsed:?}"
    );
    assert!(!live.task.is_finished());
}

#[tokio::test]
async fn extra_connections_are_refused_cleanly_while_one_is_served() {
    let mut live = start_live().await;
    let mut first = TcpStream::connect(live.addr).await.expect("connect");
    // Our OPEN arrives on the first connection.
    let mut head = [0_u8; 19];
    timeout(BOUND, first.read_exact(&mut head))
        .await
        .expect("bounded")
        .expect("OPEN header");
    assert_eq!(head[18], 1);

    let mut extra = Vec::new();
    for _ in 0..64 {
        extra.push(TcpStream::connect(live.addr).await.expect("connect extra"));
    }
    for mut stream in extra {
        let (got, end) = read_to_end(&mut stream).await;
        assert!(got.is_empty(), "a refused connection gets no bytes");
        assert_eq!(end, Ok(()), "refused with a clean close");
    }

    // The first connection is unaffected: it completes the OPEN exchange.
    first.write_all(&open(90)).await.expect("write OPEN");
    let mut rest = vec![0_u8; usize::from(u16::from_be_bytes([head[16], head[17]])) - 19];
    first.read_exact(&mut rest).await.expect("OPEN body");
    let mut keepalive = [0_u8; 19];
    timeout(BOUND, first.read_exact(&mut keepalive))
        .await
        .expect("bounded")
        .expect("KEEPALIVE");
    assert_eq!((keepalive[16], keepalive[17], keepalive[18]), (0, 19, 4));
    let refused = live
        .drain()
        .into_iter()
        .filter(|e| matches!(e, LiveEventKind::Refused { .. }))
        .count();
    assert_eq!(refused, 64);
    assert!(!live.task.is_finished());
}
