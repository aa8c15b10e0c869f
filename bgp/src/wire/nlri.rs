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
use smallvec::SmallVec;

use super::attribute::AttrFlags;
use super::ctx::Family;
use super::error::NlriError;
use super::iana::{Afi, Safi};
use super::reader::Reader;

/// The announced prefixes of an UPDATE (its NLRI field, the prefixes of MP_REACH_NLRI), inline
/// when there is one: the common case (in the RIS corpus, 67 % of the UPDATEs announcing IPv4
/// prefixes announce one, and 88 % of those announcing IPv6 ones), so decoding such an UPDATE
/// allocates nothing for its prefixes. Withdrawn prefixes, rarer, are a `Vec<Nlri>`.
pub type NlriList = SmallVec<[Nlri; 1]>;

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

/// Decodes a field of prefixes of one address family until the reader is empty, appending
/// them to `out`.
///
/// Each prefix is checked as RFC 4271 §4.3 and RFC 4760 §5 describe it: the length octet is at
/// most 32 (IPv4) or 128 (IPv6), and exactly `ceil(length / 8)` octets follow (RFC 7606 §5.3:
/// an NLRI field is malformed if "the prefix length is greater than the length of the field ...
/// or ... the NLRI field is overrun").
///
/// Returns the offset of the failing prefix with the reason.
pub(crate) fn decode_prefixes(
    r: &mut Reader<'_>,
    ipv6: bool,
    add_path: bool,
    out: &mut impl Prefixes,
) -> Result<(), (usize, NlriError)> {
    // The field's first octet is at absolute offset `base + start`.
    let base = r.offset();
    let (all, start) = r.rest_with_read();
    let base = base - start;
    // A guess at the count from typical sizes (a /24 in 4 octets, a /48 in 7, 4 more with a
    // path identifier), by a shift: close enough that most fields are sized once; a wrong
    // guess only costs a regrowth.
    let shift = if ipv6 { 3 } else { 2 } + u32::from(add_path);
    out.reserve(all.len().saturating_sub(start) >> shift);
    if ipv6 {
        decode_field::<16>(all, start, base, add_path, out)
    } else {
        decode_field::<4>(all, start, base, add_path, out)
    }
}

/// The loop of [`decode_prefixes`] for `N`-octet addresses (4 or 16), over `all[start..]`.
///
/// The address is read with one fixed-size load: the `N` octets of `all` that end with the
/// prefix's last octet, shifted so the prefix octets come first, then masked to the prefix
/// length. The octets before the prefix that the load also reads (its length octet, the
/// previous prefix, the fields before) are shifted out, and the masking clears the trailing
/// bits (RFC 4271 §4.3: "the value of trailing bits is irrelevant"). Only when fewer than `N`
/// octets precede the prefix's end are the octets copied one by one.
#[inline]
fn decode_field<const N: usize>(
    all: &[u8],
    start: usize,
    base: usize,
    add_path: bool,
    out: &mut impl Prefixes,
) -> Result<(), (usize, NlriError)>
where
    [u8; N]: Address,
{
    let max = u8::try_from(N * 8).unwrap_or(u8::MAX);
    let mut pos = start;
    while let Some(rest) = all.get(pos..).filter(|r| !r.is_empty()) {
        let offset = base + pos;
        let (path_id, rest) = if add_path {
            let Some((id, tail)) = rest.split_first_chunk::<4>() else {
                return Err((offset, NlriError::Truncated));
            };
            (Some(u32::from_be_bytes(*id)), tail)
        } else {
            (None, rest)
        };
        let Some((&len, tail)) = rest.split_first() else {
            return Err((offset, NlriError::Truncated));
        };
        if len > max {
            return Err((offset, NlriError::PrefixLength { length: len, max }));
        }
        let n = usize::from(len).div_ceil(8);
        let Some(bytes) = tail.get(..n) else {
            return Err((offset, NlriError::Truncated));
        };
        // `all[end - N..end]` ends with the prefix octets.
        let end = all.len() - tail.len() + n;
        let window = end
            .checked_sub(N)
            .and_then(|from| all.get(from..end))
            .and_then(|w| w.first_chunk::<N>());
        let raw = match window {
            Some(w) => <[u8; N]>::shifted(*w, N - n),
            None => {
                let mut a = [0u8; N];
                for (dst, src) in a.iter_mut().zip(bytes) {
                    *dst = *src;
                }
                a
            }
        };
        let prefix = raw
            .to_net(len)
            .ok_or((offset, NlriError::PrefixLength { length: len, max }))?;
        out.push(Nlri { prefix, path_id });
        pos = end;
    }
    Ok(())
}

/// Where [`decode_prefixes`] puts prefixes: an [`NlriList`] or a `Vec<Nlri>`.
pub(crate) trait Prefixes {
    /// Makes room for `n` more.
    fn reserve(&mut self, n: usize);
    /// Appends one.
    fn push(&mut self, nlri: Nlri);
}

impl Prefixes for NlriList {
    #[inline]
    fn reserve(&mut self, n: usize) {
        Self::reserve(self, n);
    }

    #[inline]
    fn push(&mut self, nlri: Nlri) {
        Self::push(self, nlri);
    }
}

impl Prefixes for Vec<Nlri> {
    #[inline]
    fn reserve(&mut self, n: usize) {
        Self::reserve(self, n);
    }

    #[inline]
    fn push(&mut self, nlri: Nlri) {
        Self::push(self, nlri);
    }
}

/// The address octets of a prefix, turned into a canonical [`IpNet`].
trait Address: Sized {
    /// `self` moved towards the first octet by `octets` octets (zeros come in at the end).
    fn shifted(self, octets: usize) -> Self;

    /// The prefix of `len` bits (at most the address width) with the host bits cleared.
    fn to_net(self, len: u8) -> Option<IpNet>;
}

impl Address for [u8; 4] {
    #[inline]
    fn shifted(self, octets: usize) -> Self {
        let bits = u32::try_from(octets * 8).unwrap_or(u32::MAX);
        u32::from_be_bytes(self)
            .checked_shl(bits)
            .unwrap_or(0)
            .to_be_bytes()
    }

    #[inline]
    fn to_net(self, len: u8) -> Option<IpNet> {
        if len > 32 {
            return None;
        }
        let v = u32::from_be_bytes(self) & mask32(len);
        Ipv4Net::new(Ipv4Addr::from(v), len).ok().map(IpNet::V4)
    }
}

impl Address for [u8; 16] {
    #[inline]
    fn shifted(self, octets: usize) -> Self {
        let bits = u32::try_from(octets * 8).unwrap_or(u32::MAX);
        u128::from_be_bytes(self)
            .checked_shl(bits)
            .unwrap_or(0)
            .to_be_bytes()
    }

    #[inline]
    fn to_net(self, len: u8) -> Option<IpNet> {
        if len > 128 {
            return None;
        }
        let v = u128::from_be_bytes(self) & mask128(len);
        Ipv6Net::new(Ipv6Addr::from(v), len).ok().map(IpNet::V6)
    }
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
    /// attribute. Values past the end put it last. Two octets are enough: an attribute takes
    /// at least three octets of a message of at most 65,535.
    pub position: u16,
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
    pub nlri: NlriList,
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
        let mut nlri = NlriList::new();
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
        let mut withdrawn = Vec::new();
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
    use proptest::prelude::*;

    use super::*;

    fn decode(bytes: &[u8], ipv6: bool, add_path: bool) -> Result<NlriList, (usize, NlriError)> {
        let mut out = NlriList::new();
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

    /// The obvious decoder: octet by octet, no windows.
    fn reference(
        field: &[u8],
        base: usize,
        ipv6: bool,
        add_path: bool,
    ) -> Result<Vec<Nlri>, (usize, NlriError)> {
        let max: u8 = if ipv6 { 128 } else { 32 };
        let mut out = Vec::new();
        let mut i = 0;
        while i < field.len() {
            let offset = base + i;
            let path_id = if add_path {
                let id = field.get(i..i + 4).ok_or((offset, NlriError::Truncated))?;
                i += 4;
                Some(u32::from_be_bytes(id.try_into().unwrap()))
            } else {
                None
            };
            let len = *field.get(i).ok_or((offset, NlriError::Truncated))?;
            i += 1;
            if len > max {
                return Err((offset, NlriError::PrefixLength { length: len, max }));
            }
            let n = usize::from(len).div_ceil(8);
            let bytes = field.get(i..i + n).ok_or((offset, NlriError::Truncated))?;
            i += n;
            let mut a = [0u8; 16];
            a[..n].copy_from_slice(bytes);
            let prefix = if ipv6 {
                IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), len).unwrap().trunc())
            } else {
                let v4 = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
                IpNet::V4(Ipv4Net::new(v4, len).unwrap().trunc())
            };
            out.push(Nlri { prefix, path_id });
        }
        Ok(out)
    }

    proptest! {
        /// The windowed loads (and their octet-copy fallback near the start of the buffer)
        /// decode what the obvious decoder does, whatever octets precede the field.
        #[test]
        fn windowed_prefix_loads_match_octet_copies(
            before in prop::collection::vec(any::<u8>(), 0..20),
            prefixes in prop::collection::vec(
                (any::<u32>(), 0u8..=130, prop::collection::vec(any::<u8>(), 16)),
                0..6,
            ),
            cut in any::<prop::sample::Index>(),
            ipv6 in any::<bool>(),
            add_path in any::<bool>(),
        ) {
            let mut field = Vec::new();
            for (id, len, octets) in &prefixes {
                if add_path {
                    field.extend_from_slice(&id.to_be_bytes());
                }
                field.push(*len);
                let n = usize::from(*len).div_ceil(8).min(16);
                field.extend_from_slice(&octets[..n]);
            }
            // Sometimes truncated, so the error paths are compared too.
            if cut.index(3) == 0 {
                field.truncate(cut.index(field.len() + 1));
            }
            let mut all = before.clone();
            all.extend_from_slice(&field);
            let mut r = Reader::new(&all, 19);
            let _ = r.take(before.len());
            let mut got = NlriList::new();
            let got = decode_prefixes(&mut r, ipv6, add_path, &mut got).map(|()| got.to_vec());
            prop_assert_eq!(got, reference(&field, 19 + before.len(), ipv6, add_path));
            prop_assert!(r.is_empty());
        }
    }
}
