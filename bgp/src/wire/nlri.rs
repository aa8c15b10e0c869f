//! NLRI: IPv4 and IPv6 prefixes (RFC 4271 §4.3, RFC 4760 §5) with optional ADD-PATH path
//! identifiers (RFC 7911 §3), and the MP_REACH_NLRI / MP_UNREACH_NLRI attributes (RFC 4760).
//!
//! ```text
//! +---------------------------+
//! |   Path Identifier (4)     |   only where ADD-PATH is negotiated for the family
//! +---------------------------+
//! |   Length (1 octet)        |   prefix length in bits
//! +---------------------------+
//! |   Prefix (variable)       |   ceil(Length / 8) octets
//! +---------------------------+
//! ```
//!
//! RFC 4271 §4.3: the prefix is followed by "enough trailing bits to make the end of the field
//! fall on an octet boundary. Note that the value of trailing bits is irrelevant." Decoding
//! therefore clears host bits, so a prefix is always in canonical `ipnet` form (and a peer that
//! sets trailing bits is not re-encoded byte-for-byte, by design).

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;

use super::attribute::AttrFlags;
use super::ctx::Family;
use super::error::NlriError;
use super::iana::{Afi, Safi};
use super::reader::Reader;

/// One route in an UPDATE: a prefix and, with ADD-PATH, its path identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Nlri {
    /// The prefix, host bits cleared.
    pub prefix: IpNet,
    /// ADD-PATH Path Identifier (RFC 7911 §3), when negotiated for the family.
    pub path_id: Option<u32>,
}

impl Nlri {
    /// A prefix without a path identifier.
    #[must_use]
    pub const fn new(prefix: IpNet) -> Self {
        Self {
            prefix,
            path_id: None,
        }
    }

    /// Encoded size with or without the path identifier.
    #[must_use]
    pub fn encoded_len(&self, add_path: bool) -> usize {
        let bytes = usize::from(self.prefix.prefix_len()).div_ceil(8);
        1 + bytes + if add_path { 4 } else { 0 }
    }

    /// Appends the encoding. With `add_path`, a missing identifier is written as 0.
    pub(crate) fn encode(&self, out: &mut BytesMut, add_path: bool) {
        if add_path {
            out.put_u32(self.path_id.unwrap_or(0));
        }
        let len = self.prefix.prefix_len();
        out.put_u8(len);
        let n = usize::from(len).div_ceil(8);
        match self.prefix {
            IpNet::V4(p) => out.put_slice(p.addr().octets().get(..n).unwrap_or_default()),
            IpNet::V6(p) => out.put_slice(p.addr().octets().get(..n).unwrap_or_default()),
        }
    }
}

/// Decodes a field of prefixes of one address family until the reader is empty.
///
/// Returns the offset of the failing prefix with the reason.
pub(crate) fn decode_prefixes(
    r: &mut Reader<'_>,
    ipv6: bool,
    add_path: bool,
    out: &mut Vec<Nlri>,
) -> Result<(), (usize, NlriError)> {
    let max: u8 = if ipv6 { 128 } else { 32 };
    while !r.is_empty() {
        let offset = r.offset();
        let path_id = if add_path {
            Some(r.u32().ok_or((offset, NlriError::Truncated))?)
        } else {
            None
        };
        let len = r.u8().ok_or((offset, NlriError::Truncated))?;
        if len > max {
            return Err((offset, NlriError::PrefixLength { length: len, max }));
        }
        let n = usize::from(len).div_ceil(8);
        let bytes = r.take(n).ok_or((offset, NlriError::Truncated))?;
        let prefix = if ipv6 {
            let mut a = [0u8; 16];
            if let Some(dst) = a.get_mut(..n) {
                dst.copy_from_slice(bytes);
            }
            let v = u128::from_be_bytes(a) & mask128(len);
            IpNet::V6(
                Ipv6Net::new(Ipv6Addr::from(v), len)
                    .map_err(|_| (offset, NlriError::PrefixLength { length: len, max }))?,
            )
        } else {
            // Fixed-size loads instead of a variable-length copy (IPv4 is the hot path).
            let v = match *bytes {
                [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
                [a, b, c] => u32::from_be_bytes([a, b, c, 0]),
                [a, b] => u32::from_be_bytes([a, b, 0, 0]),
                [a] => u32::from_be_bytes([a, 0, 0, 0]),
                _ => 0,
            } & mask32(len);
            IpNet::V4(
                Ipv4Net::new(Ipv4Addr::from(v), len)
                    .map_err(|_| (offset, NlriError::PrefixLength { length: len, max }))?,
            )
        };
        out.push(Nlri { prefix, path_id });
    }
    Ok(())
}

#[inline]
const fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

#[inline]
const fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len as u32)
    }
}

/// Where an MP_REACH_NLRI / MP_UNREACH_NLRI sits among the UPDATE's path attributes, and its
/// flags octet: recorded on decode so encoding reproduces the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Placement {
    /// Attribute flags as received (Optional set; Extended Length kept if the sender used it).
    pub flags: AttrFlags,
    /// Index among all path attributes of the UPDATE (MP ones included) at which to encode the
    /// attribute. Values past the end put it last.
    pub position: usize,
}

impl Default for Placement {
    /// First attribute, optional non-transitive flags (RFC 4760 §3: "This is an optional
    /// non-transitive attribute").
    fn default() -> Self {
        Self {
            flags: AttrFlags::OPTIONAL,
            position: 0,
        }
    }
}

/// Next hop of an MP_REACH_NLRI (RFC 4760 §3; RFC 2545 §3 for IPv6; RFC 8950 for IPv4 NLRI
/// over an IPv6 next hop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum MpNextHop {
    /// A 4-octet IPv4 next hop.
    Ipv4(Ipv4Addr),
    /// A 16-octet global IPv6 next hop.
    Ipv6(Ipv6Addr),
    /// A 32-octet next hop: global followed by link-local (RFC 2545 §3).
    Ipv6WithLinkLocal {
        /// Global address.
        global: Ipv6Addr,
        /// Link-local address.
        link_local: Ipv6Addr,
    },
}

impl MpNextHop {
    fn encoded_len(&self) -> usize {
        match self {
            Self::Ipv4(_) => 4,
            Self::Ipv6(_) => 16,
            Self::Ipv6WithLinkLocal { .. } => 32,
        }
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        match bytes.len() {
            4 => Some(Self::Ipv4(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?))),
            16 => Some(Self::Ipv6(Ipv6Addr::from(
                <[u8; 16]>::try_from(bytes).ok()?,
            ))),
            32 => {
                let (g, l) = bytes.split_at(16);
                Some(Self::Ipv6WithLinkLocal {
                    global: Ipv6Addr::from(<[u8; 16]>::try_from(g).ok()?),
                    link_local: Ipv6Addr::from(<[u8; 16]>::try_from(l).ok()?),
                })
            }
            _ => None,
        }
    }

    fn encode(&self, out: &mut BytesMut) {
        match self {
            Self::Ipv4(a) => out.put_slice(&a.octets()),
            Self::Ipv6(a) => out.put_slice(&a.octets()),
            Self::Ipv6WithLinkLocal { global, link_local } => {
                out.put_slice(&global.octets());
                out.put_slice(&link_local.octets());
            }
        }
    }
}

/// MP_REACH_NLRI (RFC 4760 §3): reachable prefixes of a family other than (or besides) the
/// IPv4 unicast NLRI field, with their next hop.
///
/// ```text
/// +---------------------------------------------------------+
/// | Address Family Identifier (2 octets)                    |
/// +---------------------------------------------------------+
/// | Subsequent Address Family Identifier (1 octet)          |
/// +---------------------------------------------------------+
/// | Length of Next Hop Network Address (1 octet)            |
/// +---------------------------------------------------------+
/// | Network Address of Next Hop (variable)                  |
/// +---------------------------------------------------------+
/// | Reserved (1 octet)                                      |
/// +---------------------------------------------------------+
/// | Network Layer Reachability Information (variable)       |
/// +---------------------------------------------------------+
/// ```
///
/// Only IPv4/IPv6 unicast and multicast are decoded into this type; MP_REACH_NLRI of other
/// families stays an [`AttrValue::Unknown`](super::AttrValue::Unknown) raw attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MpReach {
    /// Address family of the next hop and NLRI.
    pub family: Family,
    /// Next hop for all the NLRI.
    pub next_hop: MpNextHop,
    /// Reachable prefixes.
    pub nlri: Vec<Nlri>,
    /// Flags and position for byte-exact encoding.
    pub placement: Placement,
}

/// MP_UNREACH_NLRI (RFC 4760 §4): withdrawn prefixes of a family.
///
/// ```text
/// +---------------------------------------------------------+
/// | Address Family Identifier (2 octets)                    |
/// +---------------------------------------------------------+
/// | Subsequent Address Family Identifier (1 octet)          |
/// +---------------------------------------------------------+
/// | Withdrawn Routes (variable)                             |
/// +---------------------------------------------------------+
/// ```
///
/// An MP_UNREACH_NLRI with no withdrawn routes is the End-of-RIB marker of the family
/// (RFC 4724 §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MpUnreach {
    /// Address family.
    pub family: Family,
    /// Withdrawn prefixes.
    pub withdrawn: Vec<Nlri>,
    /// Flags and position for byte-exact encoding.
    pub placement: Placement,
}

/// The AFI and SAFI that open MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4).
fn decode_family(r: &mut Reader<'_>) -> Result<Family, MpError> {
    let afi = Afi(r.u16().ok_or(MpError::Header)?);
    let safi = Safi(r.u8().ok_or(MpError::Header)?);
    Ok(Family::new(afi, safi))
}

/// The families whose MP NLRI this codec decodes into prefixes.
pub(crate) fn supported_family(family: Family) -> Option<bool> {
    let ipv6 = match family.afi {
        Afi::IPV4 => false,
        Afi::IPV6 => true,
        _ => return None,
    };
    matches!(family.safi, Safi::UNICAST | Safi::MULTICAST).then_some(ipv6)
}

/// Why an MP attribute value is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MpError {
    /// The fixed fields are truncated or the next hop length is not 4, 16 or 32.
    Header,
    /// A prefix is malformed.
    Nlri(usize, NlriError),
}

impl MpReach {
    /// Decodes the value; `Ok(None)` for a family this codec does not interpret.
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        add_path: &dyn Fn(Family) -> bool,
        placement: Placement,
    ) -> Result<Option<Self>, MpError> {
        let family = decode_family(r)?;
        let Some(ipv6) = supported_family(family) else {
            return Ok(None);
        };
        let nh_len = usize::from(r.u8().ok_or(MpError::Header)?);
        let nh = r.take(nh_len).ok_or(MpError::Header)?;
        // RFC 7606 §7.11: "If the Length of Next Hop Network Address field of the MP_REACH
        // attribute is inconsistent with that which was expected, the attribute is considered
        // malformed."
        let next_hop = MpNextHop::decode(nh).ok_or(MpError::Header)?;
        // RFC 4760 §3: Reserved "MUST be set to 0, and SHOULD be ignored upon receipt".
        let _reserved = r.u8().ok_or(MpError::Header)?;
        let mut nlri = Vec::with_capacity(r.remaining() / 4);
        decode_prefixes(r, ipv6, add_path(family), &mut nlri)
            .map_err(|(o, e)| MpError::Nlri(o, e))?;
        Ok(Some(Self {
            family,
            next_hop,
            nlri,
            placement,
        }))
    }

    pub(crate) fn value_len(&self, add_path: bool) -> usize {
        5 + self.next_hop.encoded_len()
            + self
                .nlri
                .iter()
                .map(|n| n.encoded_len(add_path))
                .sum::<usize>()
    }

    pub(crate) fn encode_value(&self, out: &mut BytesMut, add_path: bool) {
        out.put_u16(self.family.afi.0);
        out.put_u8(self.family.safi.0);
        // 4, 16 or 32 by construction of `MpNextHop`.
        out.put_u8(u8::try_from(self.next_hop.encoded_len()).unwrap_or(u8::MAX));
        self.next_hop.encode(out);
        out.put_u8(0);
        for n in &self.nlri {
            n.encode(out, add_path);
        }
    }
}

impl MpUnreach {
    /// Decodes the value; `Ok(None)` for a family this codec does not interpret.
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        add_path: &dyn Fn(Family) -> bool,
        placement: Placement,
    ) -> Result<Option<Self>, MpError> {
        let family = decode_family(r)?;
        let Some(ipv6) = supported_family(family) else {
            return Ok(None);
        };
        let mut withdrawn = Vec::with_capacity(r.remaining() / 4);
        decode_prefixes(r, ipv6, add_path(family), &mut withdrawn)
            .map_err(|(o, e)| MpError::Nlri(o, e))?;
        Ok(Some(Self {
            family,
            withdrawn,
            placement,
        }))
    }

    pub(crate) fn value_len(&self, add_path: bool) -> usize {
        3 + self
            .withdrawn
            .iter()
            .map(|n| n.encoded_len(add_path))
            .sum::<usize>()
    }

    pub(crate) fn encode_value(&self, out: &mut BytesMut, add_path: bool) {
        out.put_u16(self.family.afi.0);
        out.put_u8(self.family.safi.0);
        for n in &self.withdrawn {
            n.encode(out, add_path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], ipv6: bool, add_path: bool) -> Result<Vec<Nlri>, (usize, NlriError)> {
        let mut out = Vec::new();
        decode_prefixes(&mut Reader::new(bytes, 0), ipv6, add_path, &mut out).map(|()| out)
    }

    #[test]
    fn decodes_and_encodes_ipv4_prefixes() {
        let bytes = [24, 10, 1, 2, 0, 32, 192, 0, 2, 1];
        let got = decode(&bytes, false, false).unwrap();
        assert_eq!(got[0].prefix, "10.1.2.0/24".parse::<IpNet>().unwrap());
        assert_eq!(got[1].prefix, "0.0.0.0/0".parse::<IpNet>().unwrap());
        assert_eq!(got[2].prefix, "192.0.2.1/32".parse::<IpNet>().unwrap());
        let mut out = BytesMut::new();
        got.iter().for_each(|n| n.encode(&mut out, false));
        assert_eq!(&out[..], &bytes[..]);
    }

    #[test]
    fn clears_trailing_bits() {
        let got = decode(&[20, 10, 1, 0xff], false, false).unwrap();
        assert_eq!(got[0].prefix, "10.1.240.0/20".parse::<IpNet>().unwrap());
    }

    #[test]
    fn decodes_add_path_identifiers() {
        let got = decode(
            &[0, 0, 0, 7, 64, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 1],
            true,
            true,
        )
        .unwrap();
        assert_eq!(got[0].path_id, Some(7));
        assert_eq!(got[0].prefix, "2001:db8:0:1::/64".parse::<IpNet>().unwrap());
    }

    #[test]
    fn rejects_too_long_and_truncated_prefixes() {
        assert_eq!(
            decode(&[33, 1, 2, 3, 4, 5], false, false),
            Err((
                0,
                NlriError::PrefixLength {
                    length: 33,
                    max: 32
                }
            ))
        );
        assert_eq!(
            decode(&[24, 10, 1], false, false),
            Err((0, NlriError::Truncated))
        );
        assert_eq!(
            decode(&[0, 0, 1], false, true),
            Err((0, NlriError::Truncated))
        );
    }
}
