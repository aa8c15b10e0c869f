//! decode → encode → decode is stable: whatever decodes re-encodes into bytes that decode to
//! the same value and re-encode to the same bytes (rustls `fuzz_message`).
#![no_main]

use bgp::wire::{EncodeCtx, Message};
use libfuzzer_sys::fuzz_target;

#[path = "ctx.rs"]
mod ctx;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let ctx = ctx::ctx_from(first);
    let mut buf = Vec::with_capacity(rest.len() + 19);
    if rest.is_empty() || rest.len() + 18 > 65535 {
        return;
    }
    buf.extend_from_slice(&[0xff; 16]);
    buf.extend_from_slice(&u16::try_from(rest.len() + 18).unwrap_or(0).to_be_bytes());
    buf.extend_from_slice(rest);
    let Ok(first_value) = Message::decode(&buf, &ctx) else {
        return;
    };
    let enc = EncodeCtx::from(&ctx);
    let Ok(bytes) = first_value.to_bytes(&enc) else {
        return;
    };
    let second = Message::decode(&bytes, &ctx).expect("re-encoded message must decode");
    assert_eq!(second, first_value, "decode(encode(m)) != m");
    let again = second.to_bytes(&enc).expect("second encoding");
    assert_eq!(&again[..], &bytes[..], "encoding not stable");
});
