//! Decodes every UPDATE of the codec corpus (see `bench::corpus`) several times with one
//! decoder, for deterministic instruction counts where the criterion bench (`codec`) is noisy:
//!
//! ```text
//! cargo build --release -p bench --example codec_passes
//! valgrind --tool=callgrind target/release/examples/codec_passes holdtime 0
//! valgrind --tool=callgrind target/release/examples/codec_passes holdtime 5
//! ```
//!
//! Arguments: decoder (`holdtime` or `netgauze`, default `holdtime`) and passes (default 5).
//! Instructions per UPDATE = (count at N passes - count at 0 passes) / (N * UPDATEs): the
//! difference removes loading and gunzipping the corpus.
use std::hint::black_box;

use bench::corpus::load_updates;
use bgp::wire::Message;
use netgauze_bgp_pkt::BgpMessage;
use netgauze_bgp_pkt::wire::deserializer::BgpParsingContext;
use netgauze_parse_utils::reader::SliceReader;
use netgauze_parse_utils::traits::ParseFromWithOneInput;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let decoder = args.next().unwrap_or_else(|| "holdtime".to_owned());
    let passes: u64 = args.next().map_or(Ok(5), |s| s.parse())?;
    let corpus = load_updates();
    let msgs = &corpus.messages;
    let ctxs: Vec<_> = msgs.iter().map(|m| m.decode_ctx()).collect();
    let mut ok = 0u64;
    match decoder.as_str() {
        "holdtime" => {
            for _ in 0..passes {
                for (m, ctx) in msgs.iter().zip(&ctxs) {
                    ok += u64::from(black_box(Message::decode(black_box(&m.bytes), ctx)).is_ok());
                }
            }
        }
        "netgauze" => {
            let mut ng2 = BgpParsingContext::asn2_default();
            let mut ng4 = BgpParsingContext::default();
            for _ in 0..passes {
                for m in msgs {
                    let ctx = if m.four_octet_as { &mut ng4 } else { &mut ng2 };
                    let r = black_box(BgpMessage::parse(
                        &mut SliceReader::new(black_box(&m.bytes)),
                        ctx,
                    ));
                    ok += u64::from(r.is_ok());
                    ctx.reset_parsing_errors();
                }
            }
        }
        other => return Err(format!("unknown decoder `{other}` (holdtime, netgauze)").into()),
    }
    println!(
        "{decoder}: {passes} passes over {} UPDATEs, {ok} decoded",
        msgs.len()
    );
    Ok(())
}
