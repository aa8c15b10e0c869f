//! Link-layer frames, built and parsed: Ethernet II with optional 802.1Q tags, IPv4 / IPv6,
//! TCP and UDP, with the Internet checksums.
//!
//! Building is for the simulator's own traffic, IPv4 (the /30s) or IPv6 (the /126s of
//! dual-stack private peering);
//! parsing accepts what real captures hold (stacked VLAN tags, IPv6 with extension headers,
//! Linux cooked captures, raw IP). Parsing never panics: every field is read through bounds
//! checks, and what does not parse is a typed [`ParseError`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// EtherType of IPv4.
const ETH_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
const ETH_IPV6: u16 = 0x86DD;
/// EtherType of an IEEE 802.1Q customer VLAN tag.
const ETH_VLAN: u16 = 0x8100;
/// EtherTypes of IEEE 802.1ad service tags (and the legacy pre-standard QinQ value).
const ETH_QINQ: [u16; 2] = [0x88A8, 0x9100];
/// DSCP CS6 (internetwork control) in the IPv4 TOS octet or the IPv6 traffic class: what
/// routers mark BGP and BFD with (RFC 4594 §3.2).
const CS6: u8 = 0xC0;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;

/// The TCP header fields a frame is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFields {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (0 unless ACK is set).
    pub ack: u32,
    /// Flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10).
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// The MSS option, on SYNs.
    pub mss: Option<u16>,
    /// The timestamps option (TSval, TSecr), when the connection negotiated it.
    pub timestamps: Option<(u32, u32)>,
    /// One SACK block (left edge, right edge), e.g. a D-SACK (RFC 2883).
    pub sack: Option<(u32, u32)>,
}

/// The source and destination addresses of a packet: one family for both, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addrs {
    /// IPv4 (RFC 791).
    V4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
    },
    /// IPv6 (RFC 8200).
    V6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
    },
}

impl Addrs {
    /// The pair, or `None` when the two addresses are of different families.
    #[must_use]
    pub const fn new(src: IpAddr, dst: IpAddr) -> Option<Self> {
        match (src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => Some(Self::V4 { src, dst }),
            (IpAddr::V6(src), IpAddr::V6(dst)) => Some(Self::V6 { src, dst }),
            _ => None,
        }
    }
}

/// Addressing of a frame: MACs, optional VLAN, IP addresses, TTL (IPv6: hop limit) and IPv4
/// identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpFrame {
    /// Source MAC.
    pub src_mac: [u8; 6],
    /// Destination MAC.
    pub dst_mac: [u8; 6],
    /// The 802.1Q VLAN ID, when tagged.
    pub vlan: Option<u16>,
    /// Source and destination addresses.
    pub addrs: Addrs,
    /// Time to live (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    /// IP identification (IPv4 only: IPv6 has no such field outside a fragment header).
    pub id: u16,
}

/// The one's-complement sum of RFC 1071 over `data`, folded, starting from `acc`.
fn sum16(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

/// Folds a 32-bit sum into the 16-bit one's complement checksum (RFC 1071 §4.1).
fn fold(mut acc: u32) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    // The loop above leaves at most 16 significant bits.
    !u16::try_from(acc).unwrap_or(0xFFFF)
}

/// The RFC 1071 Internet checksum of `data`.
#[must_use]
pub fn checksum(data: &[u8]) -> u16 {
    fold(sum16(0, data))
}

/// The TCP/UDP checksum over the IP pseudo-header and `segment` (whose own checksum field
/// must be zero): IPv4's of RFC 9293 §3.1 / RFC 768, or IPv6's of RFC 8200 §8.1 (addresses,
/// 32-bit upper-layer length, three zero octets, next header).
fn l4_checksum(addrs: &Addrs, proto: u8, segment: &[u8]) -> u16 {
    let mut acc = match addrs {
        Addrs::V4 { src, dst } => sum16(sum16(0, &src.octets()), &dst.octets()),
        Addrs::V6 { src, dst } => sum16(sum16(0, &src.octets()), &dst.octets()),
    };
    let len = u32::try_from(segment.len()).unwrap_or(u32::MAX);
    acc = acc.wrapping_add(u32::from(proto));
    acc = acc.wrapping_add(len >> 16).wrapping_add(len & 0xFFFF);
    fold(sum16(acc, segment))
}

/// Appends the Ethernet (and VLAN) header and the IP header for a payload of `l4_len`
/// octets of protocol `proto`.
fn push_l2_l3(out: &mut Vec<u8>, f: &IpFrame, proto: u8, l4_len: usize, dont_frag: bool) {
    out.extend_from_slice(&f.dst_mac);
    out.extend_from_slice(&f.src_mac);
    if let Some(vid) = f.vlan {
        out.extend_from_slice(&ETH_VLAN.to_be_bytes());
        // TCI: priority 0, DEI 0, 12-bit VLAN ID.
        out.extend_from_slice(&(vid & 0x0FFF).to_be_bytes());
    }
    match f.addrs {
        Addrs::V4 { src, dst } => {
            out.extend_from_slice(&ETH_IPV4.to_be_bytes());
            let ip_start = out.len();
            let total = u16::try_from(20 + l4_len).unwrap_or(u16::MAX);
            out.push(0x45);
            out.push(CS6);
            out.extend_from_slice(&total.to_be_bytes());
            out.extend_from_slice(&f.id.to_be_bytes());
            out.extend_from_slice(&(if dont_frag { 0x4000u16 } else { 0 }).to_be_bytes());
            out.push(f.ttl);
            out.push(proto);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&src.octets());
            out.extend_from_slice(&dst.octets());
            let sum = checksum(out.get(ip_start..).unwrap_or_default());
            if let Some(c) = out.get_mut(ip_start + 10..ip_start + 12) {
                c.copy_from_slice(&sum.to_be_bytes());
            }
        }
        Addrs::V6 { src, dst } => {
            // RFC 8200 §3: version 6, traffic class, flow label 0, payload length, next
            // header, hop limit, addresses. No header checksum; IPv6 never fragments in
            // transit, so there is no DF bit either.
            out.extend_from_slice(&ETH_IPV6.to_be_bytes());
            out.push(0x60 | (CS6 >> 4));
            out.push((CS6 & 0x0F) << 4);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&u16::try_from(l4_len).unwrap_or(u16::MAX).to_be_bytes());
            out.push(proto);
            out.push(f.ttl);
            out.extend_from_slice(&src.octets());
            out.extend_from_slice(&dst.octets());
        }
    }
}

/// Builds an Ethernet frame carrying a TCP segment over IPv4 or IPv6, checksums filled in.
#[must_use]
pub fn build_tcp(f: &IpFrame, tcp: &TcpFields, payload: &[u8]) -> Vec<u8> {
    let hdr_len = 20
        + if tcp.mss.is_some() { 4 } else { 0 }
        + if tcp.timestamps.is_some() { 12 } else { 0 }
        + if tcp.sack.is_some() { 12 } else { 0 };
    let mut out = Vec::with_capacity(18 + 40 + hdr_len + payload.len());
    push_l2_l3(&mut out, f, PROTO_TCP, hdr_len + payload.len(), true);
    let start = out.len();
    out.extend_from_slice(&tcp.src_port.to_be_bytes());
    out.extend_from_slice(&tcp.dst_port.to_be_bytes());
    out.extend_from_slice(&tcp.seq.to_be_bytes());
    out.extend_from_slice(&tcp.ack.to_be_bytes());
    // Data offset in 32-bit words in the high nibble (5 to 12, so the cast cannot truncate).
    out.push(u8::try_from(hdr_len / 4).unwrap_or(5) << 4);
    out.push(tcp.flags);
    out.extend_from_slice(&tcp.window.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    if let Some(mss) = tcp.mss {
        // MSS option: kind 2, length 4 (RFC 9293 §3.2).
        out.extend_from_slice(&[2, 4]);
        out.extend_from_slice(&mss.to_be_bytes());
    }
    if let Some((val, ecr)) = tcp.timestamps {
        // Two NOPs, then TSopt: kind 8, length 10, TSval, TSecr (RFC 7323 §3.2 and its
        // Appendix A layout, which keeps the values 4-octet aligned).
        out.extend_from_slice(&[1, 1, 8, 10]);
        out.extend_from_slice(&val.to_be_bytes());
        out.extend_from_slice(&ecr.to_be_bytes());
    }
    if let Some((left, right)) = tcp.sack {
        // Two NOPs, then a SACK option with one block: kind 5, length 10 (RFC 2018 §3).
        out.extend_from_slice(&[1, 1, 5, 10]);
        out.extend_from_slice(&left.to_be_bytes());
        out.extend_from_slice(&right.to_be_bytes());
    }
    out.extend_from_slice(payload);
    let sum = l4_checksum(&f.addrs, PROTO_TCP, out.get(start..).unwrap_or_default());
    if let Some(c) = out.get_mut(start + 16..start + 18) {
        c.copy_from_slice(&sum.to_be_bytes());
    }
    out
}

/// Builds an Ethernet frame carrying a UDP datagram over IPv4 or IPv6, checksums filled in.
#[must_use]
pub fn build_udp(f: &IpFrame, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut out = Vec::with_capacity(18 + 40 + len);
    push_l2_l3(&mut out, f, PROTO_UDP, len, false);
    let start = out.len();
    out.extend_from_slice(&src_port.to_be_bytes());
    out.extend_from_slice(&dst_port.to_be_bytes());
    out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    let mut sum = l4_checksum(&f.addrs, PROTO_UDP, out.get(start..).unwrap_or_default());
    // RFC 768: "If the computed checksum is zero, it is transmitted as all ones"; over IPv6
    // the checksum is mandatory (RFC 8200 §8.1), so zero is never sent either.
    if sum == 0 {
        sum = 0xFFFF;
    }
    if let Some(c) = out.get_mut(start + 6..start + 8) {
        c.copy_from_slice(&sum.to_be_bytes());
    }
    out
}

/// Link-layer header types understood by the parser (the pcap LINKTYPE_ registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// LINKTYPE_NULL (0): BSD loopback, a 4-octet host-order address family.
    Null,
    /// LINKTYPE_ETHERNET (1).
    Ethernet,
    /// LINKTYPE_RAW (101) and LINKTYPE_IPV4 / LINKTYPE_IPV6 (228 / 229): no link header.
    Raw,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1.
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2.
    LinuxSll2,
}

impl LinkType {
    /// The link type of a LINKTYPE_ number, if supported.
    #[must_use]
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Self::Null),
            1 => Some(Self::Ethernet),
            101 | 228 | 229 => Some(Self::Raw),
            113 => Some(Self::LinuxSll),
            276 => Some(Self::LinuxSll2),
            _ => None,
        }
    }
}

/// A TCP segment found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful when the ACK flag, 0x10, is set).
    pub ack: u32,
    /// Flag bits.
    pub flags: u8,
    /// The payload as captured.
    pub payload: &'a [u8],
    /// Payload octets the IP length announces but the capture does not hold (cut by the
    /// snap length); they follow `payload` in sequence space.
    pub missing: usize,
}

/// What a frame holds, as far as BGP decoding cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A TCP segment.
    Tcp(TcpPacket<'a>),
    /// Something else (UDP, ARP, a non-first IP fragment, ...): not BGP.
    Other,
}

/// Why a frame did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The frame ends inside a header.
    #[error("truncated {layer} header ({have} of {need} octets)")]
    Truncated {
        /// The header being read.
        layer: &'static str,
        /// Octets present.
        have: usize,
        /// Octets needed.
        need: usize,
    },
    /// An IP header with a bad version or header length.
    #[error("bad IP header (version/IHL octet {0:#04x})")]
    BadIp(u8),
    /// A TCP header with a data offset below 5 words or beyond the segment.
    #[error("bad TCP data offset {0}")]
    BadTcpOffset(u8),
}

/// Parses a captured frame of `link` down to TCP.
///
/// # Errors
///
/// A [`ParseError`] when a header is cut short or inconsistent.
pub fn parse(link: LinkType, frame: &[u8]) -> Result<Parsed<'_>, ParseError> {
    let (ethertype, rest) = match link {
        LinkType::Ethernet => {
            let mut et = be16(frame, 12, "Ethernet")?;
            let mut off = 14;
            while et == ETH_VLAN || ETH_QINQ.contains(&et) {
                et = be16(frame, off + 2, "802.1Q")?;
                off += 4;
            }
            (et, frame.get(off..).unwrap_or_default())
        }
        LinkType::LinuxSll => (be16(frame, 14, "Linux SLL")?, tail(frame, 16)),
        LinkType::LinuxSll2 => (be16(frame, 0, "Linux SLL2")?, tail(frame, 20)),
        LinkType::Null => {
            let fam = frame.get(..4).ok_or(ParseError::Truncated {
                layer: "loopback",
                have: frame.len(),
                need: 4,
            })?;
            // Host byte order of the capturing machine: accept both.
            let v = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let v = if v > 0xFFFF { v.swap_bytes() } else { v };
            let et = if v == 2 { ETH_IPV4 } else { ETH_IPV6 };
            (et, tail(frame, 4))
        }
        LinkType::Raw => match frame.first().map(|b| b >> 4) {
            Some(4) => (ETH_IPV4, frame),
            Some(6) => (ETH_IPV6, frame),
            Some(_) => return Ok(Parsed::Other),
            None => {
                return Err(ParseError::Truncated {
                    layer: "IP",
                    have: 0,
                    need: 1,
                });
            }
        },
    };
    match ethertype {
        ETH_IPV4 => parse_ipv4(rest),
        ETH_IPV6 => parse_ipv6(rest),
        _ => Ok(Parsed::Other),
    }
}

fn tail(b: &[u8], from: usize) -> &[u8] {
    b.get(from..).unwrap_or_default()
}

fn be16(b: &[u8], at: usize, layer: &'static str) -> Result<u16, ParseError> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or(ParseError::Truncated {
            layer,
            have: b.len(),
            need: at + 2,
        })
}

fn be32(b: &[u8], at: usize, layer: &'static str) -> Result<u32, ParseError> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(ParseError::Truncated {
            layer,
            have: b.len(),
            need: at + 4,
        })
}

fn parse_ipv4(b: &[u8]) -> Result<Parsed<'_>, ParseError> {
    let Some(h) = b.get(..20) else {
        return Err(ParseError::Truncated {
            layer: "IPv4",
            have: b.len(),
            need: 20,
        });
    };
    let ihl = usize::from(h[0] & 0x0F) * 4;
    if h[0] >> 4 != 4 || ihl < 20 {
        return Err(ParseError::BadIp(h[0]));
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let frag = u16::from_be_bytes([h[6], h[7]]);
    // Not the first fragment, or more fragments follow: no whole TCP header to read here.
    if frag & 0x3FFF != 0 {
        return Ok(Parsed::Other);
    }
    let src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19]));
    // Ethernet pads short frames: the IP total length bounds the payload (when captured).
    let end = if total >= ihl {
        total.min(b.len())
    } else {
        b.len()
    };
    let l4 = b.get(ihl..end).unwrap_or_default();
    let missing = total.saturating_sub(b.len());
    if h[9] == PROTO_TCP {
        parse_tcp(src, dst, l4, missing)
    } else {
        Ok(Parsed::Other)
    }
}

fn parse_ipv6(b: &[u8]) -> Result<Parsed<'_>, ParseError> {
    let Some(h) = b.get(..40) else {
        return Err(ParseError::Truncated {
            layer: "IPv6",
            have: b.len(),
            need: 40,
        });
    };
    if h[0] >> 4 != 6 {
        return Err(ParseError::BadIp(h[0]));
    }
    let plen = usize::from(u16::from_be_bytes([h[4], h[5]]));
    let mut next = h[6];
    let mut src = [0u8; 16];
    src.copy_from_slice(&h[8..24]);
    let mut dst = [0u8; 16];
    dst.copy_from_slice(&h[24..40]);
    // A payload length of 0 with more behind it: a jumbogram (RFC 2675) or a segment the
    // kernel captured before segmentation (BIG TCP); the capture holds it all.
    let end = if plen == 0 {
        b.len()
    } else {
        (40 + plen).min(b.len())
    };
    let mut off = 40;
    // Walk the extension headers (RFC 8200 §4): hop-by-hop, routing, destination options;
    // a fragment header means the TCP header may not be here.
    loop {
        match next {
            0 | 43 | 60 => {
                let Some(ext) = b.get(off..off + 2) else {
                    return Err(ParseError::Truncated {
                        layer: "IPv6 extension",
                        have: b.len(),
                        need: off + 2,
                    });
                };
                next = ext[0];
                off += (usize::from(ext[1]) + 1) * 8;
            }
            44 => return Ok(Parsed::Other),
            _ => break,
        }
    }
    if next != PROTO_TCP {
        return Ok(Parsed::Other);
    }
    let l4 = b.get(off..end.max(off)).unwrap_or_default();
    let missing = if plen == 0 {
        0
    } else {
        (40 + plen).saturating_sub(b.len())
    };
    parse_tcp(
        IpAddr::V6(Ipv6Addr::from(src)),
        IpAddr::V6(Ipv6Addr::from(dst)),
        l4,
        missing,
    )
}

fn parse_tcp(src: IpAddr, dst: IpAddr, b: &[u8], missing: usize) -> Result<Parsed<'_>, ParseError> {
    let src_port = be16(b, 0, "TCP")?;
    let dst_port = be16(b, 2, "TCP")?;
    let seq = be32(b, 4, "TCP")?;
    let ack = be32(b, 8, "TCP")?;
    let Some(&[off_byte, flags]) = b.get(12..14) else {
        return Err(ParseError::Truncated {
            layer: "TCP",
            have: b.len(),
            need: 20,
        });
    };
    let data_off = usize::from(off_byte >> 4) * 4;
    if data_off < 20 || data_off > b.len() {
        return Err(ParseError::BadTcpOffset(off_byte >> 4));
    }
    Ok(Parsed::Tcp(TcpPacket {
        src,
        dst,
        src_port,
        dst_port,
        seq,
        ack,
        flags,
        payload: b.get(data_off..).unwrap_or_default(),
        missing,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(vlan: Option<u16>) -> IpFrame {
        IpFrame {
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [2, 0, 0, 0, 0, 2],
            vlan,
            addrs: Addrs::V4 {
                src: Ipv4Addr::new(192, 168, 0, 1),
                dst: Ipv4Addr::new(192, 168, 0, 2),
            },
            ttl: 64,
            id: 7,
        }
    }

    fn frame_v6(vlan: Option<u16>) -> IpFrame {
        IpFrame {
            addrs: Addrs::V6 {
                src: "2001:db8:7::1".parse().unwrap(),
                dst: "2001:db8:7::2".parse().unwrap(),
            },
            ..frame(vlan)
        }
    }

    #[test]
    fn built_tcp_frames_verify_and_parse_back() {
        let tcp = TcpFields {
            src_port: 32768,
            dst_port: 179,
            seq: 0xDEAD_BEEF,
            ack: 0,
            flags: 0x02,
            window: 65535,
            mss: Some(1460),
            timestamps: None,
            sack: None,
        };
        for vlan in [None, Some(100)] {
            let f = build_tcp(&frame(vlan), &tcp, b"abc");
            let ip = if vlan.is_some() { 18 } else { 14 };
            // A correct IPv4 header checksum sums to zero over the header.
            assert_eq!(checksum(&f[ip..ip + 20]), 0);
            let l4 = &f[ip + 20..];
            assert_eq!(
                l4_checksum(&frame(vlan).addrs, PROTO_TCP, l4),
                0,
                "TCP checksum verifies"
            );
            let Parsed::Tcp(p) = parse(LinkType::Ethernet, &f).unwrap() else {
                panic!("not TCP");
            };
            assert_eq!(
                (p.src_port, p.dst_port, p.seq, p.flags),
                (32768, 179, 0xDEAD_BEEF, 2)
            );
            assert_eq!(p.payload, b"abc");
        }
    }

    #[test]
    fn syn_with_mss_and_timestamps_has_both_options_and_verifies() {
        let tcp = TcpFields {
            src_port: 32768,
            dst_port: 179,
            seq: 1,
            ack: 0,
            flags: 0x02,
            window: 65535,
            mss: Some(1460),
            timestamps: Some((0x0102_0304, 0)),
            sack: None,
        };
        for f in [frame(None), frame_v6(Some(3))] {
            let b = build_tcp(&f, &tcp, b"");
            let ip_len = if matches!(f.addrs, Addrs::V4 { .. }) {
                20
            } else {
                40
            };
            let l4 = &b[b.len() - 36..];
            assert_eq!(
                b.len(),
                14 + usize::from(f.vlan.is_some()) * 4 + ip_len + 36
            );
            assert_eq!(l4[12] >> 4, 9, "data offset: 36 octets");
            assert_eq!(&l4[20..24], &[2, 4, 0x05, 0xB4], "MSS 1460");
            assert_eq!(&l4[24..28], &[1, 1, 8, 10], "NOP NOP TSopt");
            assert_eq!(&l4[28..36], &[1, 2, 3, 4, 0, 0, 0, 0], "TSval, TSecr");
            assert_eq!(l4_checksum(&f.addrs, PROTO_TCP, l4), 0);
            let Parsed::Tcp(p) = parse(LinkType::Ethernet, &b).unwrap() else {
                panic!("not TCP");
            };
            assert!(p.payload.is_empty());
        }
    }

    #[test]
    fn ack_with_timestamps_and_a_dsack_block_carries_both_options_and_verifies() {
        let tcp = TcpFields {
            src_port: 179,
            dst_port: 32768,
            seq: 9,
            ack: 20,
            flags: 0x10,
            window: 65535,
            mss: None,
            timestamps: Some((5, 6)),
            sack: Some((0x0A0B_0C0D, 0x0A0B_0C20)),
        };
        let f = frame(None);
        let b = build_tcp(&f, &tcp, b"");
        let l4 = &b[b.len() - 44..];
        assert_eq!(b.len(), 14 + 20 + 44);
        assert_eq!(l4[12] >> 4, 11, "data offset: 44 octets");
        assert_eq!(&l4[20..24], &[1, 1, 8, 10], "NOP NOP TSopt");
        assert_eq!(&l4[32..36], &[1, 1, 5, 10], "NOP NOP SACK, one block");
        assert_eq!(
            &l4[36..44],
            &[0x0A, 0x0B, 0x0C, 0x0D, 0x0A, 0x0B, 0x0C, 0x20],
            "left and right edge"
        );
        assert_eq!(l4_checksum(&f.addrs, PROTO_TCP, l4), 0);
        let Parsed::Tcp(p) = parse(LinkType::Ethernet, &b).unwrap() else {
            panic!("not TCP");
        };
        assert!(p.payload.is_empty());
    }

    #[test]
    fn built_ipv6_frames_verify_and_parse_back() {
        let tcp = TcpFields {
            src_port: 179,
            dst_port: 50000,
            seq: 42,
            ack: 7,
            flags: 0x18,
            window: 1000,
            mss: None,
            timestamps: None,
            sack: None,
        };
        for vlan in [None, Some(200)] {
            let f = build_tcp(&frame_v6(vlan), &tcp, b"bgp");
            let ip = if vlan.is_some() { 18 } else { 14 };
            assert_eq!(&f[ip - 2..ip], &[0x86, 0xDD], "IPv6 EtherType");
            assert_eq!(f[ip] >> 4, 6, "version 6");
            assert_eq!(
                u16::from_be_bytes([f[ip] & 0x0F, f[ip + 1]]) >> 4,
                u16::from(CS6),
                "traffic class CS6"
            );
            assert_eq!(usize::from(u16::from_be_bytes([f[ip + 4], f[ip + 5]])), 23);
            assert_eq!((f[ip + 6], f[ip + 7]), (PROTO_TCP, 64));
            assert_eq!(
                l4_checksum(&frame_v6(vlan).addrs, PROTO_TCP, &f[ip + 40..]),
                0,
                "TCP checksum over the IPv6 pseudo-header verifies"
            );
            let Parsed::Tcp(p) = parse(LinkType::Ethernet, &f).unwrap() else {
                panic!("not TCP");
            };
            assert_eq!(p.src, "2001:db8:7::1".parse::<IpAddr>().unwrap());
            assert_eq!((p.src_port, p.seq, p.payload), (179, 42, &b"bgp"[..]));
        }
        let u = build_udp(&frame_v6(None), 49152, 3784, &[0x20; 24]);
        assert_eq!(u.len(), 14 + 40 + 8 + 24);
        assert_eq!(l4_checksum(&frame_v6(None).addrs, PROTO_UDP, &u[54..]), 0);
    }

    #[test]
    fn addresses_of_mixed_families_are_refused() {
        let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert!(Addrs::new(v4, v6).is_none());
        assert!(matches!(Addrs::new(v6, v6), Some(Addrs::V6 { .. })));
    }

    #[test]
    fn parses_ipv6_tcp_behind_stacked_vlan_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xA8, 0, 10, 0x81, 0x00, 0, 20, 0x86, 0xDD]);
        let tcp_len = 20 + 2;
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&u16::try_from(8 + tcp_len).unwrap().to_be_bytes());
        // Next header: destination options (60), then TCP.
        f.extend_from_slice(&[60, 64]);
        f.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        f.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        f.extend_from_slice(&[PROTO_TCP, 0, 1, 4, 0, 0, 0, 0]);
        f.extend_from_slice(&[0xC0, 0x00, 0x00, 179, 0, 0, 0, 9, 0, 0, 0, 0, 0x50, 0x18]);
        f.extend_from_slice(&[0; 6]);
        f.extend_from_slice(b"hi");
        let Parsed::Tcp(p) = parse(LinkType::Ethernet, &f).unwrap() else {
            panic!("not TCP");
        };
        assert_eq!(p.src, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!((p.src_port, p.dst_port, p.seq), (0xC000, 179, 9));
        assert_eq!(p.payload, b"hi");
    }

    #[test]
    fn a_payload_cut_by_the_snap_length_reports_the_missing_octets() {
        let tcp = TcpFields {
            src_port: 179,
            dst_port: 40000,
            seq: 1,
            ack: 99,
            flags: 0x18,
            window: 1,
            mss: None,
            timestamps: None,
            sack: None,
        };
        for f in [frame(Some(9)), frame_v6(None)] {
            let full = build_tcp(&f, &tcp, &[0xAB; 100]);
            let Parsed::Tcp(p) = parse(LinkType::Ethernet, &full[..full.len() - 60]).unwrap()
            else {
                panic!("not TCP");
            };
            assert_eq!((p.payload.len(), p.missing, p.ack), (40, 60, 99));
            let Parsed::Tcp(p) = parse(LinkType::Ethernet, &full).unwrap() else {
                panic!("not TCP");
            };
            assert_eq!((p.payload.len(), p.missing), (100, 0));
        }
    }

    #[test]
    fn udp_checksum_verifies() {
        let f = build_udp(&frame(None), 49152, 3784, &[0x20, 0x40, 3, 24]);
        assert_eq!(l4_checksum(&frame(None).addrs, PROTO_UDP, &f[34..]), 0);
        assert_eq!(parse(LinkType::Ethernet, &f).unwrap(), Parsed::Other);
    }

    #[test]
    fn truncated_headers_are_errors_not_panics() {
        let f = build_tcp(
            &frame(Some(5)),
            &TcpFields {
                src_port: 1,
                dst_port: 179,
                seq: 1,
                ack: 1,
                flags: 0x10,
                window: 1,
                mss: None,
                timestamps: None,
                sack: None,
            },
            b"",
        );
        for n in 0..f.len() {
            let _ = parse(LinkType::Ethernet, &f[..n]);
            let _ = parse(LinkType::LinuxSll2, &f[..n]);
            let _ = parse(LinkType::Raw, &f[n..]);
        }
        assert!(matches!(
            parse(LinkType::Ethernet, &f[..30]),
            Err(ParseError::Truncated { .. })
        ));
    }
}
