//! AS numbers, AS_PATH / AS4_PATH (RFC 4271 §4.3, §5.1.2; RFC 6793; RFC 5065) and the RFC 6793
//! §4.2.3 reconstruction of the 4-octet path on sessions with a 2-octet-only ("OLD") speaker.
//!
//! Segments keep the order and grouping they had on the wire, so decoding then encoding gives
//! the same bytes. AS numbers are always held as 4-octet values; the session's
//! [`DecodeCtx`](super::DecodeCtx) says which width the wire used.

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use smallvec::{SmallVec, smallvec};

use super::iana::SegmentType;
use super::reader::{Reader, fixed_list};

/// An autonomous system number (4-octet, RFC 6793).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Asn(pub u32);

impl Asn {
    /// AS_TRANS, the 2-octet stand-in for a 4-octet AS number (RFC 6793 §9).
    pub const TRANS: Self = Self(23456);

    /// The number as written into a 2-octet field: itself if it fits, AS_TRANS otherwise
    /// (RFC 6793 §4.2.2: "... the AS_TRANS is used in place of the 4-octet AS number").
    #[must_use]
    pub fn to_u16_or_trans(self) -> u16 {
        u16::try_from(self.0).unwrap_or(23456)
    }

    /// True when the number does not fit in two octets.
    #[must_use]
    pub const fn is_four_octet(self) -> bool {
        self.0 > 0xffff
    }
}

impl core::fmt::Display for Asn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AS{}", self.0)
    }
}

/// The AS numbers of one segment, inline up to eight (longer paths, e.g. heavy prepending,
/// spill to the heap).
pub type AsnList = SmallVec<[Asn; 8]>;

/// The segments of a path, inline when there is one (the common case).
pub type SegmentList = SmallVec<[AsSegment; 1]>;

/// One AS_PATH segment.
///
/// ```text
/// +-----------------+-----------------+------------------------------+
/// | segment type(1) | segment len(1)  | len AS numbers (2 or 4 each) |
/// +-----------------+-----------------+------------------------------+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct AsSegment {
    /// AS_SET, AS_SEQUENCE, or a confederation segment (RFC 5065).
    pub kind: SegmentType,
    /// The AS numbers, in wire order.
    pub asns: AsnList,
}

impl AsSegment {
    /// An AS_SEQUENCE.
    #[must_use]
    pub fn sequence(asns: Vec<Asn>) -> Self {
        Self {
            kind: SegmentType::AS_SEQUENCE,
            asns: AsnList::from_vec(asns),
        }
    }

    /// An AS_SET.
    #[must_use]
    pub fn set(asns: Vec<Asn>) -> Self {
        Self {
            kind: SegmentType::AS_SET,
            asns: AsnList::from_vec(asns),
        }
    }

    /// Contribution to the path length used by the decision process and by RFC 6793 §4.2.3:
    /// "AS_SET counts as 1 ... AS_CONFED_SEQUENCE and AS_CONFED_SET are not counted"
    /// (RFC 4271 §9.1.2.2 (a), RFC 5065 §5.3).
    #[must_use]
    pub fn path_len(&self) -> usize {
        match self.kind {
            SegmentType::AS_SEQUENCE => self.asns.len(),
            SegmentType::AS_SET => 1,
            _ => 0,
        }
    }

    const fn is_confed(&self) -> bool {
        matches!(
            self.kind,
            SegmentType::AS_CONFED_SEQUENCE | SegmentType::AS_CONFED_SET
        )
    }
}

/// An AS_PATH (or AS4_PATH) value: a list of segments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct AsPath {
    /// Segments in wire order.
    pub segments: SegmentList,
}

/// Why an AS path value is malformed (RFC 7606 §7.2, RFC 7607).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AsPathError {
    /// Unknown segment type, zero-length segment, or a segment overrunning the attribute.
    Structure,
    /// AS number 0 (RFC 7607 §2).
    ZeroAsn,
}

impl AsPath {
    /// A path of one AS_SEQUENCE (empty for an empty list, as iBGP originations send).
    #[must_use]
    pub fn from_sequence(asns: Vec<Asn>) -> Self {
        if asns.is_empty() {
            Self::default()
        } else {
            Self {
                segments: smallvec![AsSegment::sequence(asns)],
            }
        }
    }

    /// Path length for the decision process (RFC 4271 §9.1.2.2 (a)).
    #[must_use]
    pub fn path_len(&self) -> usize {
        self.segments.iter().map(AsSegment::path_len).sum()
    }

    /// The first AS of the path (the neighbouring AS), if the path starts with a sequence.
    #[must_use]
    pub fn first_asn(&self) -> Option<Asn> {
        let seg = self.segments.first()?;
        if seg.kind == SegmentType::AS_SEQUENCE {
            seg.asns.first().copied()
        } else {
            None
        }
    }

    /// The originating AS: the last AS of a final AS_SEQUENCE.
    #[must_use]
    pub fn origin_asn(&self) -> Option<Asn> {
        let seg = self.segments.last()?;
        if seg.kind == SegmentType::AS_SEQUENCE {
            seg.asns.last().copied()
        } else {
            None
        }
    }

    /// True when `asn` appears anywhere in the path (loop detection, RFC 4271 §9.1.2).
    #[must_use]
    pub fn contains(&self, asn: Asn) -> bool {
        self.segments.iter().any(|s| s.asns.contains(&asn))
    }

    /// True when any AS number needs four octets.
    #[must_use]
    pub fn has_four_octet_asn(&self) -> bool {
        self.segments
            .iter()
            .flat_map(|s| &s.asns)
            .any(|a| a.is_four_octet())
    }

    /// The path with `asn` prepended `count` times, as a speaker does when advertising to an
    /// external peer (RFC 4271 §5.1.2 b): "the local system prepends its own AS number as the
    /// last element of the sequence" (a leading AS_SEQUENCE is extended while it has room for
    /// 255 numbers; otherwise a new one is started).
    #[must_use]
    pub fn prepended(&self, asn: Asn, count: usize) -> Self {
        let mut out = self.clone();
        for _ in 0..count {
            match out.segments.first_mut() {
                Some(seg) if seg.kind == SegmentType::AS_SEQUENCE && seg.asns.len() < 255 => {
                    seg.asns.insert(0, asn);
                }
                _ => out.segments.insert(
                    0,
                    AsSegment {
                        kind: SegmentType::AS_SEQUENCE,
                        asns: smallvec![asn],
                    },
                ),
            }
        }
        out
    }

    /// Decodes an AS_PATH/AS4_PATH value with `width`-octet AS numbers (2 or 4).
    pub(crate) fn decode(r: &mut Reader<'_>, four_octet: bool) -> Result<Self, AsPathError> {
        let mut path = Self::default();
        path.decode_into(r, four_octet)?;
        Ok(path)
    }

    /// Decodes into `self` (empty): the decoder of the hot path calls this on a path already
    /// placed in the attribute list, so the path is not copied once built. Each segment's AS
    /// numbers are written once, inline up to eight ([`AsnList`]).
    pub(crate) fn decode_into(
        &mut self,
        r: &mut Reader<'_>,
        four_octet: bool,
    ) -> Result<(), AsPathError> {
        let mut zero = false;
        let width = if four_octet { 4 } else { 2 };
        while !r.is_empty() {
            // RFC 7606 §7.2: "An AS_PATH is considered malformed if an unrecognized segment type
            // is encountered or if it contains a malformed segment. A segment is considered
            // malformed if ... the segment length field is zero ... or overruns the end".
            let [kind, count] = r.array::<2>().ok_or(AsPathError::Structure)?;
            if !matches!(kind, 1..=4) || count == 0 {
                return Err(AsPathError::Structure);
            }
            let raw = r
                .take(usize::from(count) * width)
                .ok_or(AsPathError::Structure)?;
            let asns = if four_octet {
                fixed_list(raw, Asn(0), |c: &[u8; 4]| {
                    let v = u32::from_be_bytes(*c);
                    zero |= v == 0;
                    Asn(v)
                })
            } else {
                fixed_list(raw, Asn(0), |c: &[u8; 2]| {
                    let v = u16::from_be_bytes(*c);
                    zero |= v == 0;
                    Asn(u32::from(v))
                })
            };
            self.segments.push(AsSegment {
                kind: SegmentType(kind),
                asns,
            });
        }
        // RFC 7607 §2: "An UPDATE message that contains the AS number of zero in the AS_PATH
        // or AS4_PATH attribute MUST be considered as malformed".
        if zero {
            return Err(AsPathError::ZeroAsn);
        }
        Ok(())
    }

    /// Encoded length with `four_octet` AS numbers, splitting segments longer than 255.
    pub(crate) fn encoded_len(&self, four_octet: bool) -> usize {
        let width = if four_octet { 4 } else { 2 };
        self.segments
            .iter()
            .map(|s| {
                let chunks = s.asns.len().div_ceil(255).max(1);
                chunks * 2 + s.asns.len() * width
            })
            .sum()
    }

    /// Appends the encoded value. On a 2-octet session AS numbers above 65,535 are written as
    /// AS_TRANS (RFC 6793 §4.2.2); segments of more than 255 numbers are split.
    pub(crate) fn encode(&self, out: &mut BytesMut, four_octet: bool) {
        for seg in &self.segments {
            if seg.asns.is_empty() {
                out.put_u8(seg.kind.0);
                out.put_u8(0);
                continue;
            }
            for chunk in seg.asns.chunks(255) {
                out.put_u8(seg.kind.0);
                // `chunks(255)` bounds the count.
                out.put_u8(u8::try_from(chunk.len()).unwrap_or(u8::MAX));
                for asn in chunk {
                    if four_octet {
                        out.put_u32(asn.0);
                    } else {
                        out.put_u16(asn.to_u16_or_trans());
                    }
                }
            }
        }
    }

    /// RFC 6793 §4.2.3: combines the AS_PATH received from a 2-octet ("OLD") speaker with its
    /// AS4_PATH.
    ///
    /// "If the number of AS numbers in the AS_PATH attribute is less than the number of AS
    /// numbers in the AS4_PATH attribute, then the AS4_PATH attribute SHALL be ignored, and the
    /// AS_PATH attribute SHALL be taken as the AS path information. If the number of AS numbers
    /// in the AS_PATH attribute is larger than or equal to the number of AS numbers in the
    /// AS4_PATH attribute, then the AS path information SHALL be constructed by taking as many
    /// AS numbers and path segments as necessary from the leading part of the AS_PATH
    /// attribute, and then prepending them to the AS4_PATH attribute so that the AS path
    /// information has a number of AS numbers identical to that of the AS_PATH attribute."
    #[must_use]
    pub fn reconstruct(as_path: &Self, as4_path: &Self) -> Self {
        let n = as_path.path_len();
        let n4 = as4_path.path_len();
        if n < n4 {
            return as_path.clone();
        }
        let mut lead = n - n4;
        let mut segments =
            SegmentList::with_capacity(as_path.segments.len() + as4_path.segments.len());
        for seg in &as_path.segments {
            if lead == 0 {
                break;
            }
            let take = seg.path_len();
            if seg.is_confed() {
                // Confederation segments count 0; they precede the AS4 part as received.
                segments.push(seg.clone());
            } else if take <= lead {
                segments.push(seg.clone());
                lead -= take;
            } else {
                // Only an AS_SEQUENCE can be split (an AS_SET counts as 1).
                let asns = AsnList::from_slice(seg.asns.get(..lead).unwrap_or_default());
                segments.push(AsSegment {
                    kind: seg.kind,
                    asns,
                });
                lead = 0;
            }
        }
        segments.extend(as4_path.segments.iter().cloned());
        Self { segments }
    }

    /// Borrowed-or-owned helper used by `PathAttributes::effective_as_path`.
    pub(crate) fn reconstructed<'a>(as_path: &'a Self, as4_path: Option<&Self>) -> Cow<'a, Self> {
        match as4_path {
            Some(as4) => Cow::Owned(Self::reconstruct(as_path, as4)),
            None => Cow::Borrowed(as_path),
        }
    }

    /// True when the path holds a confederation segment (forbidden in AS4_PATH, RFC 6793 §5).
    pub(crate) fn has_confed(&self) -> bool {
        self.segments.iter().any(AsSegment::is_confed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(asns: &[u32]) -> AsSegment {
        AsSegment::sequence(asns.iter().map(|&a| Asn(a)).collect())
    }

    #[test]
    fn reconstructs_four_octet_path_from_as4_path() {
        // OLD speaker 100 prepended itself in front of a NEW path 23456 23456 (= 200000 300000).
        let as_path = AsPath {
            segments: smallvec![seq(&[100, 23456, 23456])],
        };
        let as4 = AsPath {
            segments: smallvec![seq(&[200_000, 300_000])],
        };
        let got = AsPath::reconstruct(&as_path, &as4);
        assert_eq!(&got.segments[..], &[seq(&[100]), seq(&[200_000, 300_000])]);
        assert_eq!(got.path_len(), 3);
    }

    #[test]
    fn ignores_as4_path_longer_than_as_path() {
        let as_path = AsPath {
            segments: smallvec![seq(&[100])],
        };
        let as4 = AsPath {
            segments: smallvec![seq(&[200_000, 300_000])],
        };
        assert_eq!(AsPath::reconstruct(&as_path, &as4), as_path);
    }

    #[test]
    fn prepends_into_leading_sequence() {
        let p = AsPath::from_sequence(vec![Asn(2)]).prepended(Asn(1), 2);
        assert_eq!(&p.segments[..], &[seq(&[1, 1, 2])]);
        assert_eq!(p.first_asn(), Some(Asn(1)));
        assert_eq!(p.origin_asn(), Some(Asn(2)));
    }

    #[test]
    fn splits_segments_longer_than_255() {
        let p = AsPath::from_sequence((1..=300).map(Asn).collect());
        let mut out = BytesMut::new();
        p.encode(&mut out, true);
        assert_eq!(out.len(), p.encoded_len(true));
        assert_eq!(out.len(), 2 + 255 * 4 + 2 + 45 * 4);
        let back = AsPath::decode(&mut Reader::new(&out, 0), true).unwrap();
        assert_eq!(back.path_len(), 300);
    }
}
