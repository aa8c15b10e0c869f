//! Codec benchmark: full decode of every BGP UPDATE of the RIS corpus (or its synthetic
//! stand-in, see `bench::corpus`) by holdtime, netgauze-bgp-pkt 0.13 and bgpkit-parser 0.23,
//! plus holdtime's encode of the same messages.
//!
//! Ids: `decode_updates/holdtime`, `decode_updates/netgauze`, `decode_updates/bgpkit`,
//! `encode_updates/holdtime`; throughput in messages (one element = one UPDATE).
//!
//! All three decoders do the same work: every UPDATE is decoded completely, every path
//! attribute into its typed value (holdtime has no lazy mode: `Message::decode` builds every
//! `AttrValue`) and every prefix into an `ipnet` value.
//!
//! Measured 2026-11-23 on the shared 2-core machine (RIS corpus, 17,216 UPDATEs):
//! `decode_updates/holdtime` 1.66–1.70× the throughput of `decode_updates/netgauze` with the
//! project's profile (fat LTO), 1.73–1.77× without LTO; the goal is 1.5×. README has
//! the table; the example `codec_passes` counts instructions under callgrind.
//!
//! Run: `cargo bench -p bench --bench codec -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;

use bench::corpus::{Source, load_updates};
use bgp::wire::{EncodeCtx, Message};
use bgpkit_parser::models::AsnLength;
use bgpkit_parser::parser::bgp::parse_bgp_message;
use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netgauze_bgp_pkt::BgpMessage;
use netgauze_bgp_pkt::wire::deserializer::BgpParsingContext;
use netgauze_parse_utils::reader::SliceReader;
use netgauze_parse_utils::traits::ParseFromWithOneInput;

fn codec(c: &mut Criterion) {
    let corpus = load_updates();
    match &corpus.source {
        Source::Ris(path) => eprintln!(
            "codec bench: RIS corpus {} ({} UPDATEs)",
            path.display(),
            corpus.messages.len()
        ),
        Source::Synthetic => eprintln!(
            "codec bench: synthetic corpus ({} UPDATEs; RIS dump not found)",
            corpus.messages.len()
        ),
    }
    let msgs = &corpus.messages;
    let ctxs: Vec<_> = msgs.iter().map(|m| m.decode_ctx()).collect();
    let n = msgs.len() as u64;

    // Sanity: every message decodes with holdtime; count what the peers reject.
    let decoded: Vec<(Message, EncodeCtx)> = msgs
        .iter()
        .zip(&ctxs)
        .filter_map(|(m, ctx)| {
            Message::decode(&m.bytes, ctx)
                .ok()
                .map(|d| (d, EncodeCtx::from(ctx)))
        })
        .collect();
    eprintln!("holdtime decoded {}/{} messages", decoded.len(), msgs.len());

    let mut ng2 = BgpParsingContext::asn2_default();
    let mut ng4 = BgpParsingContext::default();
    let ng_ok = msgs
        .iter()
        .filter(|m| {
            let ctx = if m.four_octet_as { &mut ng4 } else { &mut ng2 };
            BgpMessage::parse(&mut SliceReader::new(&m.bytes), ctx).is_ok()
        })
        .count();
    eprintln!("netgauze decoded {ng_ok}/{} messages", msgs.len());
    let shared: Vec<Bytes> = msgs
        .iter()
        .map(|m| Bytes::copy_from_slice(&m.bytes))
        .collect();
    let bk_ok = msgs
        .iter()
        .zip(&shared)
        .filter(|(m, b)| {
            let asn = if m.four_octet_as {
                AsnLength::Bits32
            } else {
                AsnLength::Bits16
            };
            parse_bgp_message(&mut (*b).clone(), m.add_path, &asn).is_ok()
        })
        .count();
    eprintln!("bgpkit decoded {bk_ok}/{} messages", msgs.len());

    let mut g = c.benchmark_group("decode_updates");
    g.throughput(Throughput::Elements(n));
    g.bench_function("holdtime", |b| {
        b.iter(|| {
            for (m, ctx) in msgs.iter().zip(&ctxs) {
                let _ = black_box(Message::decode(black_box(&m.bytes), ctx));
            }
        });
    });
    g.bench_function("netgauze", |b| {
        b.iter(|| {
            for m in msgs {
                let ctx = if m.four_octet_as { &mut ng4 } else { &mut ng2 };
                let _ = black_box(BgpMessage::parse(
                    &mut SliceReader::new(black_box(&m.bytes)),
                    ctx,
                ));
                ctx.reset_parsing_errors();
            }
        });
    });
    g.bench_function("bgpkit", |b| {
        b.iter(|| {
            for (m, bytes) in msgs.iter().zip(&shared) {
                let asn = if m.four_octet_as {
                    AsnLength::Bits32
                } else {
                    AsnLength::Bits16
                };
                let _ = black_box(parse_bgp_message(&mut bytes.clone(), m.add_path, &asn));
            }
        });
    });
    g.finish();

    let mut g = c.benchmark_group("encode_updates");
    g.throughput(Throughput::Elements(decoded.len() as u64));
    let mut out = BytesMut::with_capacity(1 << 16);
    g.bench_function("holdtime", |b| {
        b.iter(|| {
            for (msg, ctx) in &decoded {
                out.clear();
                let _ = black_box(msg.encode(&mut out, ctx));
            }
        });
    });
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
