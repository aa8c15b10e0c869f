//! The UPDATE corpus for the codec benchmark.
//!
//! [`load_updates`] reads every BGP UPDATE of the RIPE RIS dump
//! `ris-updates-20160811-1600.mrt.gz` (gzip MRT, RFC 6396; BGP4MP_MESSAGE(_AS4) records each
//! carry one whole BGP message, header included) from `$HOLDTIME_CORPUS` (a file or directory)
//! or the copy kept in the repository, `corpus/ris/` (its README gives the source and RIPE NCC's
//! attribution). When the file is absent (an override naming nothing) it builds a
//! deterministic synthetic corpus with a similar mix (IPv4 announcements and withdrawals, IPv6
//! MP_REACH / MP_UNREACH, 4-octet AS paths of 2–10 hops, communities on a share of routes,
//! 1–30 prefixes per message), so the benchmark runs on any checkout. [`Corpus::source`] says
//! which one was loaded.

use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bgp::wire::{
    AsPath, Asn, AttrValue, Community, DecodeCtx, EncodeCtx, Family, Message, MpNextHop, Nlri,
    Origin, PathAttributes, pack,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// File name of the RIS dump inside the corpus directory.
pub const RIS_FILE: &str = "ris-updates-20160811-1600.mrt.gz";

/// One BGP message with what its session negotiated.
#[derive(Debug, Clone)]
pub struct CorpusMessage {
    /// The session used 4-octet AS numbers (MRT `_AS4` subtypes).
    pub four_octet_as: bool,
    /// NLRI carry ADD-PATH identifiers (MRT `_ADDPATH` subtypes, RFC 8050).
    pub add_path: bool,
    /// The whole message, marker included.
    pub bytes: Vec<u8>,
}

impl CorpusMessage {
    /// The holdtime decode context for this message's session.
    #[must_use]
    pub fn decode_ctx(&self) -> DecodeCtx {
        DecodeCtx {
            four_octet_as: self.four_octet_as,
            add_path: if self.add_path {
                vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]
            } else {
                Vec::new()
            },
            // MRT does not record whether RFC 8654 was negotiated.
            extended_message: true,
        }
    }
}

/// Where the corpus came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The RIS dump at this path.
    Ris(PathBuf),
    /// The synthetic stand-in.
    Synthetic,
}

/// A set of UPDATE messages.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Where it came from.
    pub source: Source,
    /// The UPDATE messages.
    pub messages: Vec<CorpusMessage>,
}

/// Finds the RIS dump: `$HOLDTIME_CORPUS` (file or directory), else `<workspace>/corpus/ris/`.
#[must_use]
pub fn ris_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HOLDTIME_CORPUS") {
        let p = PathBuf::from(p);
        let p = if p.is_dir() { p.join(RIS_FILE) } else { p };
        return p.exists().then_some(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/ris")
        .join(RIS_FILE);
    p.exists().then_some(p)
}

/// Loads the RIS UPDATEs, or the synthetic corpus when the dump is absent or unreadable.
#[must_use]
pub fn load_updates() -> Corpus {
    if let Some(path) = ris_path()
        && let Ok(messages) = read_mrt(&path)
    {
        let messages: Vec<_> = messages
            .into_iter()
            .filter(|m| m.bytes.get(18) == Some(&2))
            .collect();
        if !messages.is_empty() {
            return Corpus {
                source: Source::Ris(path),
                messages,
            };
        }
    }
    Corpus {
        source: Source::Synthetic,
        messages: synthetic(17_000),
    }
}

/// Reads every BGP4MP message record of a gzip MRT file.
///
/// # Errors
///
/// I/O or gzip errors; malformed MRT records end the scan early instead.
pub fn read_mrt(path: &Path) -> std::io::Result<Vec<CorpusMessage>> {
    let mut data = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_end(&mut data)?;
    Ok(parse_mrt(&data))
}

/// Splits decompressed MRT data into BGP messages (RFC 6396 §4.4, RFC 8050 subtypes).
#[must_use]
pub fn parse_mrt(data: &[u8]) -> Vec<CorpusMessage> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some((header, tail)) = rest.split_at_checked(12) {
        let be16 = |i: usize| {
            header
                .get(i..i + 2)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
        };
        let typ = be16(4);
        let subtype = be16(6);
        let len = header
            .get(8..12)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
        let Some((body, next)) = tail.split_at_checked(len) else {
            break;
        };
        rest = next;
        // BGP4MP = 16; BGP4MP_ET = 17 carries 4 octets of microseconds first.
        let body = match typ {
            16 => body,
            17 => body.get(4..).unwrap_or_default(),
            _ => continue,
        };
        let (four_octet_as, add_path) = match subtype {
            1 | 6 => (false, false),
            4 | 7 => (true, false),
            8 | 10 => (false, true),
            9 | 11 => (true, true),
            _ => continue,
        };
        let as_len = if four_octet_as { 4 } else { 2 };
        let afi = body
            .get(2 * as_len + 2..2 * as_len + 4)
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
        let ip_len = if afi == 2 { 16 } else { 4 };
        let Some(bytes) = body.get(2 * as_len + 4 + 2 * ip_len..) else {
            continue;
        };
        out.push(CorpusMessage {
            four_octet_as,
            add_path,
            bytes: bytes.to_vec(),
        });
    }
    out
}

/// SplitMix64: a fixed, version-stable generator, so the synthetic corpus is identical on
/// every machine and every build.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A deterministic synthetic corpus of `count` UPDATEs shaped like the RIS dump: about 55 %
/// IPv4 announcements, 15 % IPv4 withdrawals, 22 % IPv6 announcements, 8 % IPv6 withdrawals.
#[must_use]
pub fn synthetic(count: usize) -> Vec<CorpusMessage> {
    let mut rng = SplitMix(0x686f_6c64_7469_6d65); // "holdtime"
    let ctx = EncodeCtx {
        four_octet_as: true,
        add_path: Vec::new(),
        extended_message: false,
    };
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let kind = rng.below(100);
        let n = 1 + match rng.below(10) {
            0..=5 => 0,
            6..=8 => rng.below(5),
            _ => rng.below(30),
        } as usize;
        let ipv6 = kind >= 70;
        let prefixes: Vec<Nlri> = (0..n)
            .map(|_| {
                let net: IpNet = if ipv6 {
                    let len = [32u8, 40, 44, 48, 48, 48][rng.below(6) as usize];
                    let addr = Ipv6Addr::from((0x2000u128 << 112) | (u128::from(rng.next()) << 48));
                    IpNet::V6(
                        Ipv6Net::new(addr, len)
                            .map(|p| p.trunc())
                            .unwrap_or_default(),
                    )
                } else {
                    let len = [16u8, 20, 22, 23, 24, 24, 24, 24][rng.below(8) as usize];
                    let addr = Ipv4Addr::from(rng.next() as u32);
                    IpNet::V4(
                        Ipv4Net::new(addr, len)
                            .map(|p| p.trunc())
                            .unwrap_or_default(),
                    )
                };
                Nlri::new(net)
            })
            .collect();
        let withdraw = matches!(kind, 55..=69 | 92..=99);
        let family = if ipv6 {
            Family::IPV6_UNICAST
        } else {
            Family::IPV4_UNICAST
        };
        let hops = 2 + rng.below(9) as usize;
        let path: Vec<Asn> = (0..hops)
            .map(|_| Asn(1 + rng.below(400_000) as u32))
            .collect();
        let mut attrs: PathAttributes = [
            AttrValue::Origin(if rng.below(4) == 0 {
                Origin::Incomplete
            } else {
                Origin::Igp
            }),
            AttrValue::AsPath(AsPath::from_sequence(path)),
        ]
        .into_iter()
        .collect();
        if !ipv6 {
            attrs.set(AttrValue::NextHop(Ipv4Addr::from(
                0xC000_0200 | (rng.below(250) as u32 + 1),
            )));
        }
        if rng.below(3) == 0 {
            attrs.set(AttrValue::MultiExitDisc(rng.below(1000) as u32));
        }
        if rng.below(2) == 0 {
            let k = 1 + rng.below(8) as usize;
            attrs.set(AttrValue::Communities(
                (0..k)
                    .map(|_| Community::new(rng.below(65_000) as u16, rng.below(65_000) as u16))
                    .collect(),
            ));
        }
        let attrs = Arc::new(attrs);
        let next_hop = ipv6.then(|| {
            MpNextHop::Ipv6(Ipv6Addr::from(
                0x2001_0db8u128 << 96 | u128::from(rng.below(1000)),
            ))
        });
        let (w, a): (&[Nlri], &[Nlri]) = if withdraw {
            (&prefixes, &[])
        } else {
            (&[], &prefixes)
        };
        let Ok(updates) = pack(family, w, a, &attrs, next_hop, &ctx) else {
            continue;
        };
        for u in updates {
            if let Ok(bytes) = Message::Update(u).to_bytes(&ctx) {
                out.push(CorpusMessage {
                    four_octet_as: true,
                    add_path: false,
                    bytes: bytes.to_vec(),
                });
            }
        }
    }
    out.truncate(count);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_corpus_is_deterministic_and_decodes() {
        let a = synthetic(500);
        let b = synthetic(500);
        assert_eq!(a.len(), 500);
        assert!(a.iter().zip(&b).all(|(x, y)| x.bytes == y.bytes));
        for m in &a {
            let msg = Message::decode(&m.bytes, &m.decode_ctx()).unwrap();
            let Message::Update(u) = msg else {
                panic!("not an UPDATE")
            };
            assert!(u.issues.is_empty());
        }
    }
}
