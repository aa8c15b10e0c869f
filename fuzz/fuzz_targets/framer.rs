//! Arbitrary bytes, cut into arbitrary chunks, through the stream framer: never panics, never
//! buffers more than one maximum-size message before reporting an error.
#![no_main]

use bgp::wire::{Framer, MAX_EXTENDED_MESSAGE_LEN};
use libfuzzer_sys::fuzz_target;

#[path = "ctx.rs"]
mod ctx;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let ctx = ctx::ctx_from(first);
    let chunk = usize::from(first >> 4) + 1;
    let mut framer = Framer::new();
    for piece in rest.chunks(chunk) {
        framer.handle_bytes(piece);
        while let Some(result) = framer.poll_message(&ctx) {
            if result.is_err() {
                return;
            }
        }
        assert!(framer.buffered() < MAX_EXTENDED_MESSAGE_LEN + chunk);
    }
});
