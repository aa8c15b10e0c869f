//! Arbitrary bytes behind a valid marker through `Message::decode`: never panics; every error
//! maps to a NOTIFICATION.
#![no_main]

use bgp::wire::{Message, Notification};
use libfuzzer_sys::fuzz_target;

#[path = "ctx.rs"]
mod ctx;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let ctx = ctx::ctx_from(first);
    // Most inputs would die at the marker; give half of them a valid one and a length that
    // matches, so the body decoders see the bytes.
    let mut buf = Vec::with_capacity(rest.len() + 19);
    if first & 0x80 != 0 && !rest.is_empty() && rest.len() + 18 <= 65535 {
        buf.extend_from_slice(&[0xff; 16]);
        buf.extend_from_slice(&u16::try_from(rest.len() + 18).unwrap_or(0).to_be_bytes());
        buf.extend_from_slice(rest);
    } else {
        buf.extend_from_slice(rest);
    }
    if let Err(e) = Message::decode(&buf, &ctx) {
        let _ = Notification::from(&e);
    }
});
