//! Arbitrary files through `holdtime decode`'s entry point, `scenarios::capture::decode::decode`
//! (gzip, pcap, pcapng, MRT; TCP reassembly, BGP framing and decoding, the round-trip check),
//! and every message and event through both renderers, as `holdtime decode --format text|json`
//! prints them.
//!
//! Checked: nothing panics (the module's contract: every failure is an event or a message's
//! error); the summary counts the messages and problems handed to the sinks; a file that is
//! not a capture is refused as a whole, not half-read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenarios::capture::decode::{self, Event, MessageItem, Options};
use scenarios::capture::render;

fuzz_target!(|data: &[u8]| {
    let opts = Options {
        check_roundtrip: true,
    };
    let mut messages = 0_u64;
    let mut failed = 0_u64;
    let mut differs = 0_u64;
    let mut on_message = |m: MessageItem| {
        messages += 1;
        failed += u64::from(m.result.is_err());
        differs += u64::from(
            m.roundtrip
                .as_ref()
                .is_some_and(|r| *r != decode::RoundTrip::Same),
        );
        let _ = render::text(&m);
        let _ = render::json(&m);
    };
    let mut problems = 0_u64;
    let mut on_event = |e: Event| {
        problems += u64::from(matches!(e, Event::Problem { .. }));
        let _ = render::event_text(&e);
        let _ = render::event_json(&e);
    };
    match decode::decode(data, opts, &mut on_message, &mut on_event) {
        Ok(summary) => {
            assert_eq!(summary.messages, messages, "summary.messages");
            assert_eq!(summary.failed, failed + problems, "summary.failed");
            assert_eq!(
                summary.roundtrip_differs, differs,
                "summary.roundtrip_differs"
            );
        }
        Err(e) => {
            let _ = e.to_string();
            assert_eq!(messages, 0, "a refused file yielded messages");
        }
    }
});
