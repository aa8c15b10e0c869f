//! TCP segments as values: real sequence and acknowledgement numbers, flags, window, the MSS
//! option on SYNs, and the payload, so a pcap exporter can frame them byte for byte.

use std::fmt;

use serde::Serialize;
use smallvec::SmallVec;

/// TCP header flags (RFC 9293 §3.1), as the low byte of the header's flag field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Flags(u8);

impl Flags {
    /// No flag.
    pub const NONE: Self = Self(0);
    /// FIN: no more data from sender.
    pub const FIN: Self = Self(0x01);
    /// SYN: synchronise sequence numbers.
    pub const SYN: Self = Self(0x02);
    /// RST: reset the connection.
    pub const RST: Self = Self(0x04);
    /// PSH: push function.
    pub const PSH: Self = Self(0x08);
    /// ACK: the acknowledgement field is significant.
    pub const ACK: Self = Self(0x10);

    /// The flag byte as carried in the header.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Flags from a header byte (bits above ACK, e.g. URG/ECE/CWR, are kept as they are).
    #[must_use]
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    /// Whether every flag of `other` is set in `self`.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with the flags of `other` added.
    #[must_use]
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl fmt::Display for Flags {
    /// tcpdump's notation: `S` SYN, `F` FIN, `R` RST, `P` PSH, `.` ACK (e.g. `S.` for SYN-ACK,
    /// `none` for no flag).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        for (flag, c) in [
            (Self::SYN, 'S'),
            (Self::FIN, 'F'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::ACK, '.'),
        ] {
            if self.contains(flag) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// One TCP segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number of the first octet (or of the SYN).
    pub seq: u32,
    /// Acknowledgement number; meaningful when [`Flags::ACK`] is set, otherwise 0.
    pub ack: u32,
    /// Header flags.
    pub flags: Flags,
    /// Receive window (no window scaling: RFC 7323 is not negotiated).
    pub window: u16,
    /// The MSS option (kind 2, length 4), present on SYN segments only.
    pub mss: Option<u16>,
    /// The timestamps option (RFC 7323 §3, kind 8, length 10, padded with two NOPs to 12
    /// bytes), when negotiated.
    pub timestamps: Option<Timestamps>,
    /// A D-SACK block (RFC 2883 §4: the first SACK block reports a duplicate segment), as
    /// (left edge, right edge) sequence numbers: sent by a receiver of the `linux` preset,
    /// where the SACK option is negotiated, in the ACK of a segment it already had (Linux
    /// `tcp_dsack_set`); 12 octets with its two NOPs. It is all of SACK the model carries:
    /// the sender reads it to end a tail-loss probe episode (`tcp_process_tlp_ack`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsack: Option<(u32, u32)>,
    /// The data octets.
    #[serde(skip)]
    pub payload: Payload,
}

/// Octets a segment carries.
///
/// Up to [`Payload::INLINE`] octets are held inline, without a heap allocation: a BGP
/// KEEPALIVE (19 octets) is the segment a simulated session sends most, and allocating and
/// freeing a buffer for each was a measurable share of every simulated keepalive's cost.
/// Larger payloads (UPDATEs) live on the heap. It dereferences to `[u8]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload(SmallVec<[u8; INLINE]>);

/// See [`Payload::INLINE`].
const INLINE: usize = 24;

impl Payload {
    /// Octets held without allocating.
    pub const INLINE: usize = INLINE;

    /// No octets.
    #[must_use]
    pub fn new() -> Self {
        Self(SmallVec::new())
    }

    /// The concatenation of `parts` (the two halves of a ring buffer, say).
    #[must_use]
    pub fn from_parts(parts: &[&[u8]]) -> Self {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len <= Self::INLINE {
            // Fill a plain array and hand it over whole: cheaper than growing in place.
            let mut buf = [0_u8; Self::INLINE];
            let mut at = 0;
            for p in parts {
                if let Some(dst) = buf.get_mut(at..at + p.len()) {
                    dst.copy_from_slice(p);
                }
                at += p.len();
            }
            return Self(SmallVec::from_buf_and_len(buf, len));
        }
        let mut v = Vec::with_capacity(len);
        for p in parts {
            v.extend_from_slice(p);
        }
        Self(SmallVec::from_vec(v))
    }
}

impl std::ops::Deref for Payload {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for Payload {
    fn from(bytes: &[u8]) -> Self {
        Self(SmallVec::from_slice(bytes))
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Self(SmallVec::from_vec(bytes))
    }
}

/// The values of the TCP timestamps option (RFC 7323 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Timestamps {
    /// TSval: the sender's timestamp clock (milliseconds plus a per-connection offset).
    pub val: u32,
    /// TSecr: the most recent TSval received from the peer (0 on the first SYN).
    pub ecr: u32,
}

/// Bytes of an IPv4 header without options plus a TCP header without options.
pub const HEADER_LEN: usize = 40;

impl Segment {
    /// Sequence space consumed: payload length, plus one for SYN and one for FIN.
    #[must_use]
    pub fn seq_len(&self) -> u32 {
        let ctl =
            u32::from(self.flags.contains(Flags::SYN)) + u32::from(self.flags.contains(Flags::FIN));
        u32::try_from(self.payload.len())
            .unwrap_or(u32::MAX)
            .saturating_add(ctl)
    }

    /// TCP header length in bytes: 20, plus 4 for the MSS option, plus 12 for the timestamps
    /// option with its two NOPs, plus 12 for a D-SACK block with its two NOPs.
    #[must_use]
    pub const fn tcp_header_len(&self) -> usize {
        let mss = if self.mss.is_some() { 4 } else { 0 };
        let ts = if self.timestamps.is_some() { 12 } else { 0 };
        let sack = if self.dsack.is_some() { 12 } else { 0 };
        20 + mss + ts + sack
    }

    /// Length of the IPv4 packet carrying this segment (what a link serialises).
    #[must_use]
    pub fn wire_len(&self) -> usize {
        20 + self.tcp_header_len() + self.payload.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_like_tcpdump() {
        assert_eq!(Flags::SYN.with(Flags::ACK).to_string(), "S.");
        assert_eq!(
            Flags::FIN.with(Flags::PSH).with(Flags::ACK).to_string(),
            "FP."
        );
        assert_eq!(Flags::RST.to_string(), "R");
        assert_eq!(Flags::NONE.to_string(), "none");
    }

    #[test]
    fn lengths_count_syn_fin_and_mss_option() {
        let seg = Segment {
            src_port: 1,
            dst_port: 2,
            seq: 0,
            ack: 0,
            flags: Flags::SYN,
            window: 0,
            mss: Some(1460),
            timestamps: None,
            dsack: None,
            payload: Payload::new(),
        };
        assert_eq!(
            (seg.seq_len(), seg.tcp_header_len(), seg.wire_len()),
            (1, 24, 44)
        );
        let data = Segment {
            flags: Flags::FIN.with(Flags::ACK),
            mss: None,
            payload: vec![0; 100].into(),
            ..seg
        };
        assert_eq!((data.seq_len(), data.wire_len()), (101, 140));
        let stamped = Segment {
            timestamps: Some(Timestamps { val: 1, ecr: 2 }),
            ..data
        };
        assert_eq!(stamped.wire_len(), 152);
        let dsacked = Segment {
            dsack: Some((1, 2)),
            ..stamped
        };
        assert_eq!(dsacked.tcp_header_len(), 44);
    }

    #[test]
    fn payload_joins_parts_and_reads_as_bytes() {
        let short = Payload::from_parts(&[b"ab", b"", b"cd"]);
        assert_eq!(&*short, b"abcd");
        let long: Vec<u8> = (0..100).collect();
        let joined = Payload::from_parts(&[&long[..30], &long[30..]]);
        assert_eq!(&*joined, &long[..]);
        assert_eq!(joined, Payload::from(long.clone()));
        assert_eq!(Payload::from(&long[..]).len(), 100);
        assert!(Payload::new().is_empty());
    }
}
