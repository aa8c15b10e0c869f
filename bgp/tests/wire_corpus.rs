//! Every BGP message of the RIPE RIS update dump decodes without error and re-encodes
//! byte-for-byte.
//!
//! The corpus is gzip-compressed MRT (RFC 6396). BGP4MP_MESSAGE and BGP4MP_MESSAGE_AS4 records
//! (and their _LOCAL and _ADDPATH variants, RFC 8050) each carry one whole BGP message, marker
//! included. The AS4 subtypes tell us the session used 4-octet AS numbers; the ADDPATH ones that
//! NLRI carry path identifiers.
//!
//! The file is the copy kept in the repository, `corpus/ris/` (its README gives the source and
//! RIPE NCC's attribution), or `$HOLDTIME_CORPUS` (a file or directory) when set. It is part of
//! every clone, so a missing file fails the test.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use bgp::wire::{DecodeCtx, EncodeCtx, Family, Message, PathAttributes, Update};

const FILE: &str = "ris-updates-20160811-1600.mrt.gz";

fn corpus_path() -> PathBuf {
    if let Some(p) = std::env::var_os("HOLDTIME_CORPUS") {
        let p = PathBuf::from(p);
        return if p.is_dir() { p.join(FILE) } else { p };
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/ris")
        .join(FILE)
}

/// One BGP message from the MRT file with the context its session implies.
struct Record {
    index: usize,
    ctx: DecodeCtx,
    message: Vec<u8>,
}

fn records(data: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut index = 0;
    while pos + 12 <= data.len() {
        let typ = u16::from_be_bytes([data[pos + 4], data[pos + 5]]);
        let subtype = u16::from_be_bytes([data[pos + 6], data[pos + 7]]);
        let len = u32::from_be_bytes([data[pos + 8], data[pos + 9], data[pos + 10], data[pos + 11]])
            as usize;
        let mut body = &data[pos + 12..pos + 12 + len];
        pos += 12 + len;
        index += 1;
        // BGP4MP = 16, BGP4MP_ET = 17 (4 more octets of microseconds).
        match typ {
            16 => {}
            17 => body = &body[4..],
            _ => continue,
        }
        // RFC 6396 §4.4 / RFC 8050: 1 MESSAGE, 4 MESSAGE_AS4, 6 MESSAGE_LOCAL,
        // 7 MESSAGE_AS4_LOCAL, 8 MESSAGE_ADDPATH, 9 MESSAGE_AS4_ADDPATH, 10 MESSAGE_LOCAL_ADDPATH,
        // 11 MESSAGE_AS4_LOCAL_ADDPATH.
        let (as4, add_path) = match subtype {
            1 | 6 => (false, false),
            4 | 7 => (true, false),
            8 | 10 => (false, true),
            9 | 11 => (true, true),
            _ => continue,
        };
        let as_len = if as4 { 4 } else { 2 };
        let afi = u16::from_be_bytes([body[2 * as_len + 2], body[2 * as_len + 3]]);
        let ip_len = if afi == 2 { 16 } else { 4 };
        let message = body[2 * as_len + 4 + 2 * ip_len..].to_vec();
        let ctx = DecodeCtx {
            four_octet_as: as4,
            add_path: if add_path {
                vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]
            } else {
                Vec::new()
            },
            // The collector does not record whether extended messages were negotiated.
            extended_message: true,
        };
        out.push(Record {
            index,
            ctx,
            message,
        });
    }
    out
}

#[test]
fn ris_corpus_decodes_and_reencodes_byte_for_byte() {
    let path = corpus_path();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the RIS corpus is kept in corpus/ris/; HOLDTIME_CORPUS overrides it)",
            path.display()
        )
    });
    let mut data = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut data)
        .unwrap();
    let recs = records(&data);
    let mut updates = 0;
    let mut failures = Vec::new();
    for rec in &recs {
        match Message::decode(&rec.message, &rec.ctx) {
            Err(e) => failures.push(format!("record {}: decode error {e}", rec.index)),
            Ok(msg) => {
                if matches!(msg, Message::Update(_)) {
                    updates += 1;
                }
                let bytes = msg.to_bytes(&EncodeCtx::from(&rec.ctx)).unwrap();
                if bytes[..] != rec.message[..] {
                    failures.push(format!(
                        "record {}: re-encoding differs\n  in : {:02x?}\n  out: {:02x?}",
                        rec.index,
                        rec.message,
                        &bytes[..]
                    ));
                }
                // The same message rebuilt from a copy of its typed attribute values must encode
                // to the same bytes too.
                if let Message::Update(u) = &msg {
                    let typed = Update {
                        attributes: Arc::new(PathAttributes::from(
                            u.attributes.as_slice().to_vec(),
                        )),
                        ..u.clone()
                    };
                    let bytes = Message::Update(typed)
                        .to_bytes(&EncodeCtx::from(&rec.ctx))
                        .unwrap();
                    if bytes[..] != rec.message[..] {
                        failures.push(format!("record {}: typed re-encoding differs", rec.index));
                    }
                }
            }
        }
    }
    eprintln!("{} messages ({updates} UPDATEs) checked", recs.len());
    assert!(recs.len() > 10_000, "only {} messages found", recs.len());
    assert!(
        failures.is_empty(),
        "{} failures, first: {}",
        failures.len(),
        failures
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
