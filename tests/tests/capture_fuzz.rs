//! `holdtime decode` never panics: random bytes, and random corruptions of real pcapng, classic
//! pcap and MRT files made by the simulator, all decode to messages and reported problems.
//! Targeted corruptions check that a bad message is reported with its frame number and the
//! NOTIFICATION it would cause, and that decoding carries on after it.

use std::sync::OnceLock;

use bgp::wire::{ErrorCode, HeaderSubcode, Notification};
use proptest::prelude::*;
use scenarios::capture::decode::{self, Event, MessageItem, Options, Summary};
use scenarios::sim::net::CapturePoint;
use scenarios::sim::recorder::{DEFAULT_EPOCH, Recorder};

/// The reference scenario's pcapng and MRT, made once.
fn files() -> &'static (Vec<u8>, Vec<u8>) {
    static FILES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    FILES.get_or_init(|| {
        let loaded = scenarios::load("single-ce").expect("library scenario");
        let (mut pcap, mut mrt) = (Vec::new(), Vec::new());
        let mut rec = Recorder::new(
            &loaded.scenario.topology,
            DEFAULT_EPOCH,
            Some(&mut pcap),
            Some(&mut mrt),
        )
        .expect("writers");
        scenarios::run_with_tap(&loaded.scenario, 1, None, &mut rec, CapturePoint::Sender)
            .expect("single-ce runs");
        rec.finish().expect("flush");
        (pcap, mrt)
    })
}

fn decode_all(data: &[u8]) -> Option<(Summary, Vec<MessageItem>, Vec<Event>)> {
    let mut msgs = Vec::new();
    let mut events = Vec::new();
    let s = decode::decode(
        data,
        Options {
            check_roundtrip: true,
        },
        &mut |m| msgs.push(m),
        &mut |e| events.push(e),
    )
    .ok()?;
    Some((s, msgs, events))
}

/// The file offset of the first BGP marker in a capture.
fn first_marker(data: &[u8]) -> usize {
    data.windows(16)
        .position(|w| w.iter().all(|b| *b == 0xFF))
        .expect("a BGP message in the capture")
}

#[test]
fn a_corrupted_marker_is_reported_with_its_frame_and_notification_and_decoding_goes_on() {
    let (pcap, _) = files();
    let (clean, clean_msgs, _) = decode_all(pcap).expect("clean capture decodes");
    assert!(clean.ok());
    let mut bad = pcap.clone();
    let at = first_marker(&bad);
    bad[at + 3] = 0x00;
    let (s, msgs, _) = decode_all(&bad).expect("still a capture");
    assert!(!s.ok(), "the failure is counted: {s:?}");
    let failed: Vec<_> = msgs.iter().filter(|m| m.result.is_err()).collect();
    assert_eq!(failed.len(), 1, "one message is malformed");
    let err = failed[0].result.as_ref().expect_err("malformed");
    let n = Notification::from(err);
    assert_eq!(
        (n.code, n.subcode),
        (
            ErrorCode::MESSAGE_HEADER,
            HeaderSubcode::CONNECTION_NOT_SYNCHRONIZED.0
        )
    );
    assert_eq!(
        failed[0].number, clean_msgs[0].number,
        "reported at its frame"
    );
    let line = scenarios::capture::render::text(failed[0]);
    assert!(
        line.contains("MALFORMED") && line.contains("CONNECTION_NOT_SYNCHRONIZED"),
        "{line}"
    );
    assert_eq!(
        msgs.iter().filter(|m| m.result.is_ok()).count(),
        clean_msgs.len() - 1,
        "every other message still decodes"
    );
}

#[test]
fn a_truncated_capture_reports_the_frame_it_stopped_at() {
    let (pcap, mrt) = files();
    let (_, _, events) = decode_all(&pcap[..pcap.len() - 7]).expect("capture header intact");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Problem { number, .. } if *number > 1)),
        "{events:?}"
    );
    let (s, _, events) = decode_all(&mrt[..mrt.len() - 3]).expect("MRT start intact");
    assert!(!s.ok());
    assert!(events.iter().any(|e| matches!(e, Event::Problem { .. })));
}

#[test]
fn garbage_is_not_a_capture() {
    assert!(decode_all(b"hello, world, this is not a capture").is_none());
    assert!(decode_all(&[0x1F, 0x8B, 1, 2, 3]).is_none(), "corrupt gzip");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode_all(&data);
        // The same behind each format's magic, so the readers themselves get exercised.
        for magic in [
            &[0x0A, 0x0D, 0x0D, 0x0A][..],
            &[0xD4, 0xC3, 0xB2, 0xA1],
            &[0xA1, 0xB2, 0x3C, 0x4D],
            &[0, 0, 0, 0, 0, 16, 0, 4],
        ] {
            let mut d = magic.to_vec();
            d.extend_from_slice(&data);
            let _ = decode_all(&d);
        }
    }

    #[test]
    fn corrupted_simulator_files_never_panic(
        which in 0..2usize,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
        cut in any::<prop::sample::Index>(),
    ) {
        let (pcap, mrt) = files();
        let mut d = if which == 0 { pcap.clone() } else { mrt.clone() };
        for (i, b) in edits {
            let at = i.index(d.len());
            d[at] = b;
        }
        let keep = cut.index(d.len() + 1);
        let _ = decode_all(&d);
        let _ = decode_all(&d[..keep.max(1)]);
    }
}
