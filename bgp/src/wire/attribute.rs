//! Path attributes (RFC 4271 §4.3, §5) and their RFC 7606 error handling.
//!
//! ```text
//!  0                   1
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Attr. Flags  |Attr. Type Code|  then Attribute Length (1 octet, or 2 with Extended Length)
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  then the value
//!  O T P E 0 0 0 0
//!  | | | +-- Extended Length
//!  | | +---- Partial
//!  | +------ Transitive
//!  +-------- Optional
//! ```
//!
//! Contracts:
//! - [`PathAttributes`] keeps attributes in wire order with their received flags octet, so
//!   decode → encode is byte-exact (the Extended Length bit is kept even when not needed).
//!   MP_REACH_NLRI / MP_UNREACH_NLRI are not in it: they live in [`Update`](super::Update)
//!   with a [`Placement`](super::Placement), so the per-route attribute set a RIB shares behind
//!   an `Arc` holds no prefixes.
//! - Attributes that RFC 7606 says to discard (and duplicates, §3 (g)) stay in the list as
//!   [`AttrValue::Malformed`], verbatim, only for byte-exact re-encoding; every accessor ignores
//!   them and [`PathAttributes::for_forwarding`] drops them.
//! - Accessors scan the short list (typically 4–8 entries); no map, no per-access allocation.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use smallvec::SmallVec;

use super::as_path::{AsPath, AsPathError, Asn};
use super::community::{
    ClusterIdList, Community, CommunityList, ExtendedCommunity, ExtendedCommunityList,
    LargeCommunity, LargeCommunityList,
};
use super::ctx::{DecodeCtx, EncodeCtx, Family};
use super::error::{AttrAction, AttributeError, AttributeErrorKind, EncodeError};
use super::iana::AttrType;
use super::nlri::{MpError, MpReach, MpUnreach, Placement};
use super::reader::{Reader, fixed_list};

/// The attribute flags octet (RFC 4271 §4.3), kept whole so unused low bits round-trip.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AttrFlags(pub u8);

impl AttrFlags {
    /// Optional bit: the attribute is optional (1) or well-known (0).
    pub const OPTIONAL: Self = Self(0x80);
    /// Transitive bit: an optional attribute is transitive (1) or not (0); set for well-known.
    pub const TRANSITIVE: Self = Self(0x40);
    /// Partial bit: some optional transitive attribute was added by a speaker that did not
    /// recognise it (RFC 4271 §5).
    pub const PARTIAL: Self = Self(0x20);
    /// Extended Length bit: the length field is two octets.
    pub const EXTENDED_LENGTH: Self = Self(0x10);
    /// Well-known attributes: Transitive set, Optional clear.
    pub const WELL_KNOWN: Self = Self::TRANSITIVE;
    /// Optional transitive attributes.
    pub const OPTIONAL_TRANSITIVE: Self = Self(0xC0);

    /// True when every bit of `other` is set.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags with the bits of `other` set.
    #[must_use]
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// These flags with the bits of `other` cleared.
    #[must_use]
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// A length above 255 implies the Extended Length bit, which the encoder sets again; keep
    /// the bit only where it is a choice of the sender (a short value in a 2-octet length), so
    /// that value -> bytes -> value is the identity as well as bytes -> value -> bytes.
    const fn without_implied(self, len: usize) -> Self {
        if len > 255 {
            self.without(Self::EXTENDED_LENGTH)
        } else {
            self
        }
    }

    /// The Optional bit.
    #[must_use]
    pub const fn is_optional(self) -> bool {
        self.contains(Self::OPTIONAL)
    }

    /// The Transitive bit.
    #[must_use]
    pub const fn is_transitive(self) -> bool {
        self.contains(Self::TRANSITIVE)
    }

    /// The Partial bit.
    #[must_use]
    pub const fn is_partial(self) -> bool {
        self.contains(Self::PARTIAL)
    }

    /// The Extended Length bit.
    #[must_use]
    pub const fn is_extended_length(self) -> bool {
        self.contains(Self::EXTENDED_LENGTH)
    }
}

impl core::fmt::Debug for AttrFlags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AttrFlags({:#04x})", self.0)
    }
}

impl AttrType {
    /// The Optional and Transitive bits the type code requires (RFC 4271 §5 and each
    /// attribute's RFC), or `None` for a type this codec does not know.
    #[must_use]
    pub const fn expected_flags(self) -> Option<AttrFlags> {
        Some(match self {
            Self::ORIGIN
            | Self::AS_PATH
            | Self::NEXT_HOP
            | Self::LOCAL_PREF
            | Self::ATOMIC_AGGREGATE => AttrFlags::WELL_KNOWN,
            Self::MULTI_EXIT_DISC
            | Self::ORIGINATOR_ID
            | Self::CLUSTER_LIST
            | Self::MP_REACH_NLRI
            | Self::MP_UNREACH_NLRI => AttrFlags::OPTIONAL,
            Self::AGGREGATOR
            | Self::COMMUNITIES
            | Self::EXTENDED_COMMUNITIES
            | Self::AS4_PATH
            | Self::AS4_AGGREGATOR
            | Self::LARGE_COMMUNITY => AttrFlags::OPTIONAL_TRANSITIVE,
            _ => return None,
        })
    }
}

/// ORIGIN (RFC 4271 §5.1.1), in RFC order (lower is preferred, §9.1.2.2 (c)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Origin {
    /// 0: learned from an interior gateway protocol.
    Igp,
    /// 1: learned from EGP.
    Egp,
    /// 2: learned some other way.
    Incomplete,
}

impl Origin {
    /// The wire value.
    #[must_use]
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::Igp => 0,
            Self::Egp => 1,
            Self::Incomplete => 2,
        }
    }
}

/// AGGREGATOR / AS4_AGGREGATOR value (RFC 4271 §5.1.7, RFC 6793).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Aggregator {
    /// AS of the speaker that aggregated.
    pub asn: Asn,
    /// Its BGP identifier / address.
    pub address: Ipv4Addr,
}

/// An attribute kept as bytes: an unknown optional attribute, or MP_REACH/MP_UNREACH of a
/// family this codec does not interpret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RawAttribute {
    /// Type code.
    pub type_code: AttrType,
    /// Value octets.
    pub data: Vec<u8>,
}

/// The typed value of one path attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum AttrValue {
    /// ORIGIN (type 1).
    Origin(Origin),
    /// AS_PATH (type 2), AS numbers at the session's width.
    AsPath(AsPath),
    /// NEXT_HOP (type 3).
    NextHop(Ipv4Addr),
    /// MULTI_EXIT_DISC (type 4).
    MultiExitDisc(u32),
    /// LOCAL_PREF (type 5).
    LocalPref(u32),
    /// ATOMIC_AGGREGATE (type 6).
    AtomicAggregate,
    /// AGGREGATOR (type 7), AS at the session's width.
    Aggregator(Aggregator),
    /// COMMUNITIES (type 8).
    Communities(CommunityList),
    /// ORIGINATOR_ID (type 9).
    OriginatorId(Ipv4Addr),
    /// CLUSTER_LIST (type 10).
    ClusterList(ClusterIdList),
    /// EXTENDED COMMUNITIES (type 16).
    ExtendedCommunities(ExtendedCommunityList),
    /// AS4_PATH (type 17), always 4-octet AS numbers.
    As4Path(AsPath),
    /// AS4_AGGREGATOR (type 18), always a 4-octet AS.
    As4Aggregator(Aggregator),
    /// LARGE_COMMUNITY (type 32).
    LargeCommunities(LargeCommunityList),
    /// An attribute kept as raw bytes (see [`RawAttribute`]).
    Unknown(RawAttribute),
    /// An attribute discarded per RFC 7606 (or a duplicate), kept verbatim (flags, type,
    /// length, value) only so re-encoding is byte-exact. Accessors ignore it.
    Malformed(RawAttribute),
}

impl AttrValue {
    /// The attribute type code.
    #[must_use]
    pub const fn type_code(&self) -> AttrType {
        match self {
            Self::Origin(_) => AttrType::ORIGIN,
            Self::AsPath(_) => AttrType::AS_PATH,
            Self::NextHop(_) => AttrType::NEXT_HOP,
            Self::MultiExitDisc(_) => AttrType::MULTI_EXIT_DISC,
            Self::LocalPref(_) => AttrType::LOCAL_PREF,
            Self::AtomicAggregate => AttrType::ATOMIC_AGGREGATE,
            Self::Aggregator(_) => AttrType::AGGREGATOR,
            Self::Communities(_) => AttrType::COMMUNITIES,
            Self::OriginatorId(_) => AttrType::ORIGINATOR_ID,
            Self::ClusterList(_) => AttrType::CLUSTER_LIST,
            Self::ExtendedCommunities(_) => AttrType::EXTENDED_COMMUNITIES,
            Self::As4Path(_) => AttrType::AS4_PATH,
            Self::As4Aggregator(_) => AttrType::AS4_AGGREGATOR,
            Self::LargeCommunities(_) => AttrType::LARGE_COMMUNITY,
            Self::Unknown(raw) | Self::Malformed(raw) => raw.type_code,
        }
    }

    /// The flags a freshly originated attribute of this type carries.
    #[must_use]
    pub const fn default_flags(&self) -> AttrFlags {
        match self.type_code().expected_flags() {
            Some(flags) => flags,
            None => AttrFlags::OPTIONAL_TRANSITIVE,
        }
    }

    fn value_len(&self, ctx: &EncodeCtx) -> usize {
        match self {
            Self::Origin(_) => 1,
            Self::AsPath(p) => p.encoded_len(ctx.four_octet_as),
            Self::NextHop(_)
            | Self::MultiExitDisc(_)
            | Self::LocalPref(_)
            | Self::OriginatorId(_) => 4,
            Self::AtomicAggregate => 0,
            Self::Aggregator(_) => {
                if ctx.four_octet_as {
                    8
                } else {
                    6
                }
            }
            Self::Communities(c) => 4 * c.len(),
            Self::ClusterList(c) => 4 * c.len(),
            Self::ExtendedCommunities(c) => 8 * c.len(),
            Self::As4Path(p) => p.encoded_len(true),
            Self::As4Aggregator(_) => 8,
            Self::LargeCommunities(c) => 12 * c.len(),
            Self::Unknown(raw) | Self::Malformed(raw) => raw.data.len(),
        }
    }

    fn encode_value(&self, out: &mut BytesMut, ctx: &EncodeCtx) {
        match self {
            Self::Origin(o) => out.put_u8(o.to_u8()),
            Self::AsPath(p) => p.encode(out, ctx.four_octet_as),
            Self::NextHop(a) | Self::OriginatorId(a) => out.put_slice(&a.octets()),
            Self::MultiExitDisc(v) | Self::LocalPref(v) => out.put_u32(*v),
            Self::AtomicAggregate => {}
            Self::Aggregator(a) => {
                if ctx.four_octet_as {
                    out.put_u32(a.asn.0);
                } else {
                    out.put_u16(a.asn.to_u16_or_trans());
                }
                out.put_slice(&a.address.octets());
            }
            Self::Communities(c) => c.iter().for_each(|c| out.put_u32(c.0)),
            Self::ClusterList(c) => c.iter().for_each(|a| out.put_slice(&a.octets())),
            Self::ExtendedCommunities(c) => c.iter().for_each(|c| out.put_slice(&c.0)),
            Self::As4Path(p) => p.encode(out, true),
            Self::As4Aggregator(a) => {
                out.put_u32(a.asn.0);
                out.put_slice(&a.address.octets());
            }
            Self::LargeCommunities(c) => c.iter().for_each(|c| {
                out.put_u32(c.global_admin);
                out.put_u32(c.local_data_1);
                out.put_u32(c.local_data_2);
            }),
            Self::Unknown(raw) | Self::Malformed(raw) => out.put_slice(&raw.data),
        }
    }
}

/// One path attribute: flags octet and value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PathAttribute {
    /// Flags as received or to be sent. Encoding sets Extended Length when the value needs it
    /// and otherwise keeps the bit as given.
    pub flags: AttrFlags,
    /// The value.
    pub value: AttrValue,
}

impl PathAttribute {
    /// An attribute with the default flags of its type.
    #[must_use]
    pub const fn new(value: AttrValue) -> Self {
        Self {
            flags: value.default_flags(),
            value,
        }
    }

    /// Appends the attribute (flags, type, length, value).
    pub(crate) fn encode(&self, out: &mut BytesMut, ctx: &EncodeCtx) -> Result<(), EncodeError> {
        if let AttrValue::Malformed(raw) = &self.value {
            // Verbatim: `data` holds the whole attribute as received.
            out.put_slice(&raw.data);
            return Ok(());
        }
        let len = self.value.value_len(ctx);
        encode_header(out, self.flags, self.value.type_code(), len)?;
        self.value.encode_value(out, ctx);
        Ok(())
    }
}

/// Writes flags, type and length, choosing the length width.
pub(crate) fn encode_header(
    out: &mut BytesMut,
    flags: AttrFlags,
    type_code: AttrType,
    len: usize,
) -> Result<(), EncodeError> {
    let flags = if len > 255 {
        flags.with(AttrFlags::EXTENDED_LENGTH)
    } else {
        flags
    };
    out.put_u8(flags.0);
    out.put_u8(type_code.0);
    if flags.is_extended_length() {
        let len = u16::try_from(len).map_err(|_| EncodeError::FieldOverflow {
            what: "path attribute",
            length: len,
        })?;
        out.put_u16(len);
    } else {
        // `len <= 255` in this branch.
        out.put_u8(u8::try_from(len).unwrap_or(u8::MAX));
    }
    Ok(())
}

/// The path attributes of an UPDATE, in wire order, without MP_REACH_NLRI / MP_UNREACH_NLRI.
///
/// Cheap to share: the RIB keeps one `Arc<PathAttributes>` per UPDATE for all its routes.
/// Decoding builds every typed value in one pass over the octets (each attribute validated
/// once, while it is built). The list itself is inline up to [`Self::INLINE`] attributes, and
/// AS paths and community lists are inline up to typical sizes
/// ([`AsnList`](super::AsnList), [`CommunityList`](super::CommunityList), ...), so decoding a
/// typical UPDATE allocates only the `Arc` (which holds the whole list) and, past one prefix,
/// the prefix lists ([`NlriList`](super::NlriList)).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct PathAttributes {
    /// The typed attributes in wire order.
    list: AttrList,
}

/// The attribute list, inline up to [`PathAttributes::INLINE`] entries.
type AttrList = SmallVec<[PathAttribute; PathAttributes::INLINE]>;

impl core::fmt::Debug for PathAttributes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PathAttributes")
            .field("list", &self.as_slice())
            .finish()
    }
}

impl Serialize for PathAttributes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("PathAttributes", 1)?;
        st.serialize_field("list", self.as_slice())?;
        st.end()
    }
}

impl From<Vec<PathAttribute>> for PathAttributes {
    fn from(list: Vec<PathAttribute>) -> Self {
        Self {
            list: AttrList::from_vec(list),
        }
    }
}

impl FromIterator<AttrValue> for PathAttributes {
    /// Attributes with default flags, in the given order.
    fn from_iter<I: IntoIterator<Item = AttrValue>>(iter: I) -> Self {
        Self {
            list: iter.into_iter().map(PathAttribute::new).collect(),
        }
    }
}

macro_rules! accessor {
    ($(#[$m:meta])* $name:ident -> $ty:ty, $variant:ident($v:ident) => $e:expr) => {
        $(#[$m])*
        #[must_use]
        pub fn $name(&self) -> Option<$ty> {
            self.as_slice().iter().find_map(|a| match &a.value {
                AttrValue::$variant($v) => Some($e),
                _ => None,
            })
        }
    };
}

macro_rules! list_accessor {
    ($(#[$m:meta])* $name:ident -> $ty:ty, $variant:ident) => {
        $(#[$m])*
        #[must_use]
        pub fn $name(&self) -> &[$ty] {
            self.as_slice()
                .iter()
                .find_map(|a| match &a.value {
                    AttrValue::$variant(v) => Some(v.as_slice()),
                    _ => None,
                })
                .unwrap_or_default()
        }
    };
}

impl PathAttributes {
    /// How many attributes are stored without a separate allocation: 99.98 % of the UPDATEs
    /// of the RIS corpus carry at most seven besides MP_REACH_NLRI / MP_UNREACH_NLRI.
    pub const INLINE: usize = 7;

    /// No attributes.
    #[must_use]
    pub fn new() -> Self {
        Self {
            list: AttrList::new(),
        }
    }

    /// An empty set with room for `n` attributes.
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self {
            list: AttrList::with_capacity(n),
        }
    }

    /// The attributes in wire order (including [`AttrValue::Malformed`] entries).
    #[must_use]
    pub fn as_slice(&self) -> &[PathAttribute] {
        &self.list
    }

    /// Iterates in wire order.
    pub fn iter(&self) -> core::slice::Iter<'_, PathAttribute> {
        self.list.iter()
    }

    /// Number of attributes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// True when an attribute of `type_code` is present (malformed ones included).
    #[must_use]
    pub fn contains(&self, type_code: AttrType) -> bool {
        self.list.iter().any(|a| a.value.type_code() == type_code)
    }

    /// The first usable attribute of `type_code` (never a malformed one).
    #[must_use]
    pub fn get(&self, type_code: AttrType) -> Option<&PathAttribute> {
        self.list.iter().find(|a| {
            a.value.type_code() == type_code && !matches!(a.value, AttrValue::Malformed(_))
        })
    }

    /// The typed list for mutation.
    fn list_mut(&mut self) -> &mut AttrList {
        &mut self.list
    }

    /// Sets an attribute: replaces the value of an existing one of the same type (keeping its
    /// position, resetting its flags to the type's default), or inserts it before the first
    /// attribute with a higher type code (RFC 4271 §5: "the sender SHOULD order path attributes
    /// by type code", which keeps our encodings canonical).
    pub fn set(&mut self, value: AttrValue) {
        let code = value.type_code();
        let attr = PathAttribute::new(value);
        let list = self.list_mut();
        if let Some(slot) = list.iter_mut().find(|a| a.value.type_code() == code) {
            *slot = attr;
        } else {
            let at = list
                .iter()
                .position(|a| a.value.type_code() > code)
                .unwrap_or(list.len());
            list.insert(at, attr);
        }
    }

    /// Appends an attribute with explicit flags, at the end (no reordering).
    pub fn push(&mut self, attr: PathAttribute) {
        self.list_mut().push(attr);
    }

    /// Removes every attribute of `type_code`; returns the first removed.
    pub fn remove(&mut self, type_code: AttrType) -> Option<PathAttribute> {
        let list = self.list_mut();
        let first = list.iter().position(|a| a.value.type_code() == type_code)?;
        let removed = list.remove(first);
        list.retain(|a| a.value.type_code() != type_code);
        Some(removed)
    }

    accessor!(
        /// ORIGIN.
        origin -> Origin, Origin(o) => *o
    );
    accessor!(
        /// AS_PATH as received (on a 2-octet session it may hold AS_TRANS; see
        /// [`Self::effective_as_path`]).
        as_path -> &AsPath, AsPath(p) => p
    );
    accessor!(
        /// NEXT_HOP (IPv4 NLRI only; MP next hops are in `MpReach`).
        next_hop -> Ipv4Addr, NextHop(a) => *a
    );
    accessor!(
        /// MULTI_EXIT_DISC.
        med -> u32, MultiExitDisc(v) => *v
    );
    accessor!(
        /// LOCAL_PREF.
        local_pref -> u32, LocalPref(v) => *v
    );
    accessor!(
        /// AGGREGATOR as received.
        aggregator -> &Aggregator, Aggregator(a) => a
    );
    accessor!(
        /// ORIGINATOR_ID (RFC 4456).
        originator_id -> Ipv4Addr, OriginatorId(a) => *a
    );
    accessor!(
        /// AS4_PATH (RFC 6793), only meaningful on 2-octet sessions.
        as4_path -> &AsPath, As4Path(p) => p
    );
    accessor!(
        /// AS4_AGGREGATOR (RFC 6793), only meaningful on 2-octet sessions.
        as4_aggregator -> &Aggregator, As4Aggregator(a) => a
    );
    list_accessor!(
        /// COMMUNITIES (empty when absent).
        communities -> Community, Communities
    );
    list_accessor!(
        /// CLUSTER_LIST (empty when absent).
        cluster_list -> Ipv4Addr, ClusterList
    );
    list_accessor!(
        /// EXTENDED COMMUNITIES (empty when absent).
        extended_communities -> ExtendedCommunity, ExtendedCommunities
    );
    list_accessor!(
        /// LARGE_COMMUNITY values (empty when absent).
        large_communities -> LargeCommunity, LargeCommunities
    );

    /// ATOMIC_AGGREGATE is present.
    #[must_use]
    pub fn atomic_aggregate(&self) -> bool {
        self.as_slice()
            .iter()
            .any(|a| matches!(a.value, AttrValue::AtomicAggregate))
    }

    /// Unknown optional attributes kept as raw bytes, with their flags.
    pub fn unknown(&self) -> impl Iterator<Item = (AttrFlags, &RawAttribute)> {
        self.as_slice().iter().filter_map(|a| match &a.value {
            AttrValue::Unknown(raw) => Some((a.flags, raw)),
            _ => None,
        })
    }

    /// The AS path to use for routing decisions.
    ///
    /// On a 4-octet session this is AS_PATH: RFC 6793 §4.1 has a NEW speaker receiving
    /// AS4_PATH from a NEW speaker "discard these path attributes". On a 2-octet session with
    /// AS4_PATH present it is the RFC 6793 §4.2.3 reconstruction ([`AsPath::reconstruct`]),
    /// unless the AGGREGATOR rule below applies: "If the AGGREGATOR attribute contains an AS
    /// number other than AS_TRANS, then ... the AS4_AGGREGATOR and AS4_PATH attributes SHALL
    /// be ignored".
    #[must_use]
    pub fn effective_as_path(&self, four_octet_session: bool) -> Option<Cow<'_, AsPath>> {
        let as_path = self.as_path()?;
        if four_octet_session || self.aggregator().is_some_and(|a| a.asn != Asn::TRANS) {
            return Some(Cow::Borrowed(as_path));
        }
        Some(AsPath::reconstructed(as_path, self.as4_path()))
    }

    /// The aggregator to use: AS4_AGGREGATOR replaces an AGGREGATOR carrying AS_TRANS on a
    /// 2-octet session (RFC 6793 §4.2.3).
    #[must_use]
    pub fn effective_aggregator(&self, four_octet_session: bool) -> Option<Aggregator> {
        let agg = *self.aggregator()?;
        if four_octet_session || agg.asn != Asn::TRANS {
            return Some(agg);
        }
        Some(self.as4_aggregator().copied().unwrap_or(agg))
    }

    /// The attributes as a speaker passes them on to another peer (RFC 4271 §5, §9.1.3):
    /// malformed (discarded) attributes are dropped; RFC 4271 §5: "If an optional
    /// non-transitive attribute is unrecognized, it is quietly ignored" (dropped); an
    /// unrecognised optional transitive attribute is kept with the Partial bit set ("If an
    /// optional transitive attribute is unrecognized, the Partial bit ... is set to 1, and the
    /// attribute is retained for propagation to other BGP speakers").
    ///
    /// The caller still applies its own rules for recognised attributes (e.g. not sending
    /// LOCAL_PREF or MED to an external peer, updating NEXT_HOP and AS_PATH).
    #[must_use]
    pub fn for_forwarding(&self) -> Self {
        let list: AttrList = self
            .as_slice()
            .iter()
            .filter_map(|a| match &a.value {
                AttrValue::Malformed(_) => None,
                AttrValue::Unknown(_) if !a.flags.is_transitive() => None,
                AttrValue::Unknown(_) => Some(PathAttribute {
                    flags: a.flags.with(AttrFlags::PARTIAL),
                    value: a.value.clone(),
                }),
                _ => Some(a.clone()),
            })
            .collect();
        Self { list }
    }

    /// The attributes as sent to a 2-octet ("OLD") speaker (RFC 6793 §4.2.2): when AS_PATH or
    /// AGGREGATOR hold an AS number above 65,535, AS4_PATH / AS4_AGGREGATOR are added (the
    /// encoder writes AS_TRANS into the 2-octet fields). RFC 6793 §4.2.2: "... the NEW BGP
    /// speaker MUST NOT send the AS4_PATH ... if the AS_PATH ... contains only 2-octet AS
    /// numbers" is honoured, and confederation segments are left out of AS4_PATH (§5).
    #[must_use]
    pub fn for_two_octet_peer(&self) -> Self {
        let mut out = self.clone();
        out.remove(AttrType::AS4_PATH);
        out.remove(AttrType::AS4_AGGREGATOR);
        if let Some(path) = self.as_path().filter(|p| p.has_four_octet_asn()) {
            let segments = path
                .segments
                .iter()
                .filter(|s| {
                    matches!(
                        s.kind,
                        super::iana::SegmentType::AS_SEQUENCE | super::iana::SegmentType::AS_SET
                    )
                })
                .cloned()
                .collect();
            out.set(AttrValue::As4Path(AsPath { segments }));
        }
        if let Some(agg) = self.aggregator().filter(|a| a.asn.is_four_octet()) {
            out.set(AttrValue::As4Aggregator(*agg));
        }
        out
    }
}

/// The outcome of decoding the Path Attributes field besides the attribute list itself; the
/// decoder fills one the caller owns (returning it by value cost a copy in the profile).
#[derive(Default)]
pub(crate) struct DecodedAttributes {
    pub(crate) mp_reach: Option<MpReach>,
    pub(crate) mp_unreach: Option<MpUnreach>,
    /// Errors whose action is discard or treat-as-withdraw.
    pub(crate) issues: Vec<AttributeError>,
    /// Bitset of the type codes present in the field (malformed and MP attributes included).
    pub(crate) present: [u64; 4],
}

/// True when `present` (a [`DecodedAttributes::present`] set) holds `type_code`: what
/// [`PathAttributes::contains`] says of the decoded list, for the non-MP types.
pub(crate) fn decoded_has(present: &[u64; 4], type_code: AttrType) -> bool {
    present
        .get(usize::from(type_code.0 >> 6))
        .is_some_and(|w| w & (1u64 << (type_code.0 & 63)) != 0)
}

/// What `decode_regular` pushes to claim a list slot before writing the attribute into it: a
/// constant, so the push copies it from read-only data (a value built at run time was staged
/// on the stack and copied with wide loads that stalled on store forwarding).
const PLACEHOLDER: PathAttribute = PathAttribute {
    flags: AttrFlags(0),
    value: AttrValue::AtomicAggregate,
};

/// A per-attribute decode failure before it is placed in context.
type Fail = (AttributeErrorKind, AttrAction);

/// Decodes the Path Attributes field (the reader spans exactly Total Path Attribute Length)
/// into `attrs` (which must be empty), building every typed value in one pass.
///
/// Each attribute is validated once, while its value is built ([`decode_regular`]); only when
/// an attribute is irregular (any RFC 7606 error, a duplicate, a truncated header) is the
/// field decoded again by [`decode_classified`], which names every problem and its action.
///
/// # Errors
///
/// Returns the first error whose RFC 7606 action is session reset.
pub(crate) fn decode_attributes(
    r: &mut Reader<'_>,
    ctx: &DecodeCtx,
    attrs: &mut PathAttributes,
    out: &mut DecodedAttributes,
) -> Result<(), AttributeError> {
    let base = r.offset();
    let block = r.rest();
    if decode_regular(block, base, ctx, &mut attrs.list, out).is_some() {
        return Ok(());
    }
    attrs.list.clear();
    *out = decode_classified(&mut Reader::new(block, base), ctx, &mut attrs.list)?;
    Ok(())
}

/// The single pass over a regular attribute field: reads each header straight from the
/// slice, rejects duplicates and wrong Optional/Transitive bits, and builds each value with
/// the checks of [`decode_known`], writing it straight into the list (no intermediate
/// `Result<Decoded, _>` to copy: that copy was the hot spot of the profile). `None` means
/// "irregular: let [`decode_classified`] name the problem"; it never accepts what the
/// classifying decoder would flag, and builds the same values (the test
/// `regular_and_classified_decoders_agree` checks both on arbitrary input).
#[inline]
fn decode_regular(
    block: &[u8],
    base: usize,
    ctx: &DecodeCtx,
    list: &mut AttrList,
    out: &mut DecodedAttributes,
) -> Option<()> {
    let mut seen = [0u64; 4];
    let mut rest = block;
    let mut position = 0u16;
    while let [flags, type_code, tail @ ..] = rest {
        let flags = AttrFlags(*flags);
        let type_code = AttrType(*type_code);
        let (len, tail) = if flags.is_extended_length() {
            let [hi, lo, tail @ ..] = tail else {
                return None;
            };
            (usize::from(u16::from_be_bytes([*hi, *lo])), tail)
        } else {
            let [len, tail @ ..] = tail else {
                return None;
            };
            (usize::from(*len), tail)
        };
        let (value, next) = tail.split_at_checked(len)?;
        let word = seen.get_mut(usize::from(type_code.0 >> 6))?;
        let bit = 1u64 << (type_code.0 & 63);
        if *word & bit != 0 {
            return None;
        }
        *word |= bit;
        let flags = flags.without_implied(len);
        let value_offset = base + (block.len() - tail.len());
        rest = next;
        let this_position = position;
        // At most 21,845 attributes fit in a message (3 octets each); saturating all the same.
        position = position.saturating_add(1);
        let expected = match type_code.expected_flags() {
            None if !flags.is_optional() => return None,
            None => {
                list.push(PathAttribute {
                    flags,
                    value: AttrValue::Unknown(RawAttribute {
                        type_code,
                        data: value.to_vec(),
                    }),
                });
                continue;
            }
            Some(expected) => expected,
        };
        if flags.0 & 0xC0 != expected.0 {
            return None;
        }
        // Each arm applies exactly the checks of `decode_known` (whose comments quote the
        // RFCs) and writes the value straight into the list. `put!` claims the slot with the
        // constant `PLACEHOLDER` and writes the attribute over it in place: pushing a value
        // built at run time made the compiler stage it on the stack and copy it with wide loads
        // that stalled on store forwarding (a third of this function in the profile). The
        // placeholder owns nothing, so forgetting it (instead of dropping it) leaks nothing.
        let n = value.len();
        macro_rules! put {
            ($value:expr) => {{
                list.push(PLACEHOLDER);
                if let Some(slot) = list.last_mut() {
                    core::mem::forget(core::mem::replace(
                        slot,
                        PathAttribute {
                            flags,
                            value: $value,
                        },
                    ));
                }
            }};
        }
        match type_code {
            AttrType::ORIGIN => put!(AttrValue::Origin(match value {
                [0] => Origin::Igp,
                [1] => Origin::Egp,
                [2] => Origin::Incomplete,
                _ => return None,
            })),
            AttrType::AS_PATH => {
                // Placed first, then filled where it lies (see `AsPath::decode_into`).
                put!(AttrValue::AsPath(AsPath::default()));
                let Some(PathAttribute {
                    value: AttrValue::AsPath(path),
                    ..
                }) = list.last_mut()
                else {
                    return None;
                };
                let mut v = Reader::new(value, value_offset);
                path.decode_into(&mut v, ctx.four_octet_as).ok()?;
            }
            AttrType::NEXT_HOP => {
                let a = Ipv4Addr::from(<[u8; 4]>::try_from(value).ok()?);
                if a.is_unspecified() || a.is_multicast() || a.is_broadcast() {
                    return None;
                }
                put!(AttrValue::NextHop(a));
            }
            AttrType::MULTI_EXIT_DISC => {
                put!(AttrValue::MultiExitDisc(u32::from_be_bytes(
                    value.try_into().ok()?
                )));
            }
            AttrType::LOCAL_PREF => {
                put!(AttrValue::LocalPref(u32::from_be_bytes(
                    value.try_into().ok()?
                )));
            }
            AttrType::ORIGINATOR_ID => {
                put!(AttrValue::OriginatorId(Ipv4Addr::from(
                    <[u8; 4]>::try_from(value).ok()?
                )));
            }
            AttrType::ATOMIC_AGGREGATE if n == 0 => put!(AttrValue::AtomicAggregate),
            AttrType::AGGREGATOR | AttrType::AS4_AGGREGATOR => {
                let four = type_code == AttrType::AS4_AGGREGATOR || ctx.four_octet_as;
                let (asn, addr) = match (four, value) {
                    (true, &[a, b, c, d, e, f, g, h]) => {
                        (u32::from_be_bytes([a, b, c, d]), [e, f, g, h])
                    }
                    (false, &[a, b, e, f, g, h]) => {
                        (u32::from(u16::from_be_bytes([a, b])), [e, f, g, h])
                    }
                    _ => return None,
                };
                if asn == 0 {
                    return None;
                }
                let agg = Aggregator {
                    asn: Asn(asn),
                    address: Ipv4Addr::from(addr),
                };
                if type_code == AttrType::AGGREGATOR {
                    put!(AttrValue::Aggregator(agg));
                } else {
                    put!(AttrValue::As4Aggregator(agg));
                }
            }
            AttrType::COMMUNITIES if n != 0 && n.is_multiple_of(4) => {
                put!(AttrValue::Communities(communities(value)));
            }
            AttrType::CLUSTER_LIST if n != 0 && n.is_multiple_of(4) => {
                put!(AttrValue::ClusterList(cluster_list(value)));
            }
            AttrType::EXTENDED_COMMUNITIES if n != 0 && n.is_multiple_of(8) => {
                put!(AttrValue::ExtendedCommunities(extended_communities(value)));
            }
            AttrType::LARGE_COMMUNITY if n != 0 && n.is_multiple_of(12) => {
                put!(AttrValue::LargeCommunities(large_communities(value)));
            }
            AttrType::AS4_PATH => {
                let mut v = Reader::new(value, value_offset);
                let path = AsPath::decode(&mut v, true).ok()?;
                if path.has_confed() {
                    return None;
                }
                put!(AttrValue::As4Path(path));
            }
            AttrType::MP_REACH_NLRI | AttrType::MP_UNREACH_NLRI => {
                let placement = Placement {
                    flags,
                    position: this_position,
                };
                let add_path = |f: Family| ctx.add_path(f);
                let mut v = Reader::new(value, value_offset);
                let supported = if type_code == AttrType::MP_REACH_NLRI {
                    MpReach::decode(&mut v, &add_path, placement)
                        .ok()?
                        .map(|m| out.mp_reach = Some(m))
                } else {
                    MpUnreach::decode(&mut v, &add_path, placement)
                        .ok()?
                        .map(|m| out.mp_unreach = Some(m))
                };
                if supported.is_none() {
                    put!(AttrValue::Unknown(RawAttribute {
                        type_code,
                        data: value.to_vec(),
                    }));
                }
            }
            _ => return None,
        }
    }
    // Fewer than three octets left: a truncated header (RFC 7606 §4), classified elsewhere.
    if !rest.is_empty() {
        return None;
    }
    out.present = seen;
    Some(())
}

/// The classifying decoder: builds every typed value and names every problem with its RFC 7606
/// action.
///
/// # Errors
///
/// Returns the first error whose RFC 7606 action is session reset.
fn decode_classified(
    r: &mut Reader<'_>,
    ctx: &DecodeCtx,
    list: &mut AttrList,
) -> Result<DecodedAttributes, AttributeError> {
    let mut mp_reach = None;
    let mut mp_unreach = None;
    let mut issues = Vec::new();
    let mut seen = [0u64; 4];
    let mut position = 0u16;
    while !r.is_empty() {
        let start = r.clone();
        let offset = r.offset();
        let header = read_header(r);
        let Some((flags, type_code, mut value)) = header else {
            // RFC 7606 §4: "... the length of the last encountered path attribute would cause
            // the Total Attribute Length to be exceeded ... [or] fewer than three octets remain
            // ... In either of these cases, an error condition exists and the
            // "treat-as-withdraw" approach MUST be used ... and the Total Attribute Length MUST
            // be relied upon to enable the beginning of the NLRI field to be located."
            let mut rest = start;
            let bytes = rest.rest().to_vec();
            let type_code = AttrType(bytes.get(1).copied().unwrap_or(0));
            if let Some(w) = seen.get_mut(usize::from(type_code.0 >> 6)) {
                *w |= 1u64 << (type_code.0 & 63);
            }
            issues.push(AttributeError {
                type_code,
                offset,
                attribute: bytes.clone(),
                kind: AttributeErrorKind::Overrun,
                action: AttrAction::TreatAsWithdraw,
            });
            list.push(PathAttribute {
                flags: AttrFlags(bytes.first().copied().unwrap_or(0)),
                value: AttrValue::Malformed(RawAttribute {
                    type_code,
                    data: bytes,
                }),
            });
            break;
        };
        let verbatim = || {
            let mut s = start.clone();
            s.take(r.offset() - offset).unwrap_or_default().to_vec()
        };
        let error = |kind: AttributeErrorKind, action: AttrAction| AttributeError {
            type_code,
            offset,
            attribute: verbatim(),
            kind,
            action,
        };
        let this_position = position;
        // At most 21,845 attributes fit in a message (3 octets each); saturating all the same.
        position = position.saturating_add(1);

        // Duplicates, RFC 7606 §3 (g): "If the MP_REACH_NLRI attribute or the MP_UNREACH_NLRI
        // attribute appears more than once in the UPDATE message, then a NOTIFICATION message
        // MUST be sent with the Error Subcode "Malformed Attribute List". If any other
        // attribute (whether recognized or unrecognized) appears more than once in an UPDATE
        // message, then all the occurrences of the attribute other than the first one SHALL be
        // discarded and the UPDATE message will continue to be processed."
        let word = usize::from(type_code.0 >> 6);
        let bit = 1u64 << (type_code.0 & 63);
        let duplicate = seen.get(word).is_some_and(|w| w & bit != 0);
        if let Some(w) = seen.get_mut(word) {
            *w |= bit;
        }
        if duplicate {
            if matches!(
                type_code,
                AttrType::MP_REACH_NLRI | AttrType::MP_UNREACH_NLRI
            ) {
                return Err(error(
                    AttributeErrorKind::Duplicate,
                    AttrAction::SessionReset,
                ));
            }
            issues.push(error(AttributeErrorKind::Duplicate, AttrAction::Discard));
            list.push(malformed(flags, type_code, verbatim()));
            continue;
        }

        let outcome = match type_code.expected_flags() {
            None if !flags.is_optional() => {
                // RFC 4271 §6.3: "If any of the well-known mandatory attributes are not
                // recognized, then the Error Subcode MUST be set to Unrecognized Well-known
                // Attribute." RFC 7606 does not relax this case.
                Err((
                    AttributeErrorKind::UnrecognizedWellKnown,
                    AttrAction::SessionReset,
                ))
            }
            None => Ok(Decoded::Value(AttrValue::Unknown(RawAttribute {
                type_code,
                data: value.rest().to_vec(),
            }))),
            Some(expected) if flags.0 & 0xC0 != expected.0 => {
                // RFC 7606 §3 (c): "If the value of either the Optional or Transitive bits in
                // the Attribute Flags is in conflict with their specified values, then the
                // attribute MUST be treated as malformed and the "treat-as-withdraw" approach
                // used, unless the specification for the attribute mandates different handling
                // for incorrect Attribute Flags." MP_* keep their session-reset handling.
                let action = if matches!(
                    type_code,
                    AttrType::MP_REACH_NLRI | AttrType::MP_UNREACH_NLRI
                ) {
                    AttrAction::SessionReset
                } else {
                    AttrAction::TreatAsWithdraw
                };
                Err((AttributeErrorKind::Flags { flags: flags.0 }, action))
            }
            Some(_) => decode_known(type_code, flags, &mut value, ctx, this_position),
        };
        match outcome {
            Ok(Decoded::Value(v)) => list.push(PathAttribute { flags, value: v }),
            Ok(Decoded::Reach(m)) => mp_reach = Some(m),
            Ok(Decoded::Unreach(m)) => mp_unreach = Some(m),
            Err((kind, action)) => {
                let err = error(kind, action);
                if action == AttrAction::SessionReset {
                    return Err(err);
                }
                issues.push(err);
                list.push(malformed(flags, type_code, verbatim()));
            }
        }
    }
    Ok(DecodedAttributes {
        mp_reach,
        mp_unreach,
        issues,
        present: seen,
    })
}

fn malformed(flags: AttrFlags, type_code: AttrType, data: Vec<u8>) -> PathAttribute {
    PathAttribute {
        flags,
        value: AttrValue::Malformed(RawAttribute { type_code, data }),
    }
}

/// Reads flags, type, length and splits off the value.
fn read_header<'a>(r: &mut Reader<'a>) -> Option<(AttrFlags, AttrType, Reader<'a>)> {
    let flags = AttrFlags(r.u8()?);
    let type_code = AttrType(r.u8()?);
    let len = if flags.is_extended_length() {
        usize::from(r.u16()?)
    } else {
        usize::from(r.u8()?)
    };
    let value = r.sub(len)?;
    // A length above 255 implies the Extended Length bit, which the encoder sets again; keep
    // the bit only where it is a choice of the sender (a short value in a 2-octet length), so
    // that value -> bytes -> value is the identity as well as bytes -> value -> bytes.
    Some((flags.without_implied(len), type_code, value))
}

enum Decoded {
    Value(AttrValue),
    Reach(MpReach),
    Unreach(MpUnreach),
}

/// Decodes the value of a known attribute whose flags are right.
fn decode_known(
    type_code: AttrType,
    flags: AttrFlags,
    v: &mut Reader<'_>,
    ctx: &DecodeCtx,
    position: u16,
) -> Result<Decoded, Fail> {
    use AttrAction::{Discard, SessionReset, TreatAsWithdraw};
    use AttributeErrorKind as K;
    let len = v.remaining();
    let length = |action| (K::Length { length: len }, action);
    let value = match type_code {
        AttrType::ORIGIN => {
            // RFC 7606 §7.1: "The attribute is considered malformed if its length is not 1 or
            // if it has an undefined value ... treat-as-withdraw".
            if len != 1 {
                return Err(length(TreatAsWithdraw));
            }
            match v.u8() {
                Some(0) => AttrValue::Origin(Origin::Igp),
                Some(1) => AttrValue::Origin(Origin::Egp),
                Some(2) => AttrValue::Origin(Origin::Incomplete),
                other => {
                    return Err((
                        K::InvalidOrigin {
                            value: other.unwrap_or(0),
                        },
                        TreatAsWithdraw,
                    ));
                }
            }
        }
        AttrType::AS_PATH => {
            // RFC 7606 §7.2: "An AS_PATH is considered malformed if an unrecognized segment type
            // is encountered or if it contains a malformed segment ... treat-as-withdraw".
            let path = AsPath::decode(v, ctx.four_octet_as)
                .map_err(|_| (K::MalformedAsPath, TreatAsWithdraw))?;
            AttrValue::AsPath(path)
        }
        AttrType::NEXT_HOP => {
            // RFC 7606 §7.3: "The attribute is considered malformed if its length is not 4
            // ... treat-as-withdraw".
            let Some(b) = v.array::<4>().filter(|_| len == 4) else {
                return Err(length(TreatAsWithdraw));
            };
            let next_hop = Ipv4Addr::from(b);
            // RFC 4271 §6.3: syntactic correctness "means that the NEXT_HOP attribute
            // represents a valid IP host address"; RFC 7606 §7.3 keeps the session ("the
            // route SHOULD be ignored"), i.e. treat-as-withdraw.
            if next_hop.is_unspecified() || next_hop.is_multicast() || next_hop.is_broadcast() {
                return Err((K::InvalidNextHop { next_hop }, TreatAsWithdraw));
            }
            AttrValue::NextHop(next_hop)
        }
        AttrType::MULTI_EXIT_DISC | AttrType::LOCAL_PREF => {
            // RFC 7606 §7.4/§7.5: "malformed if its length is not 4 ... treat-as-withdraw".
            let Some(x) = v.u32().filter(|_| len == 4) else {
                return Err(length(TreatAsWithdraw));
            };
            if type_code == AttrType::LOCAL_PREF {
                AttrValue::LocalPref(x)
            } else {
                AttrValue::MultiExitDisc(x)
            }
        }
        AttrType::ATOMIC_AGGREGATE => {
            // RFC 7606 §7.6: "malformed if its length is not 0 ... attribute discard".
            if len != 0 {
                return Err(length(Discard));
            }
            AttrValue::AtomicAggregate
        }
        AttrType::AGGREGATOR | AttrType::AS4_AGGREGATOR => {
            // RFC 7606 §7.7: AGGREGATOR "is considered malformed if its length is not 6 (when
            // the 4-octet AS number capability is not advertised to, or not received from the
            // peer) or 8 ... attribute discard"; RFC 6793 §6 likewise discards a malformed
            // AS4_AGGREGATOR.
            let four = type_code == AttrType::AS4_AGGREGATOR || ctx.four_octet_as;
            let want = if four { 8 } else { 6 };
            if len != want {
                return Err(length(Discard));
            }
            let asn = if four {
                v.u32()
            } else {
                v.u16().map(u32::from)
            };
            let addr = v.array::<4>();
            let (Some(asn), Some(addr)) = (asn, addr) else {
                return Err(length(Discard));
            };
            // RFC 7607 §2: "... an AGGREGATOR or AS4_AGGREGATOR attribute [with AS 0] ... MUST
            // be considered as malformed" (attribute discard, as for its length).
            if asn == 0 {
                return Err((K::Optional, Discard));
            }
            let agg = Aggregator {
                asn: Asn(asn),
                address: Ipv4Addr::from(addr),
            };
            if type_code == AttrType::AGGREGATOR {
                AttrValue::Aggregator(agg)
            } else {
                AttrValue::As4Aggregator(agg)
            }
        }
        AttrType::COMMUNITIES => {
            // RFC 7606 §7.8: "malformed if the length of the attribute is not a non-zero
            // multiple of 4 ... treat-as-withdraw".
            if len == 0 || !len.is_multiple_of(4) {
                return Err(length(TreatAsWithdraw));
            }
            AttrValue::Communities(communities(v.rest()))
        }
        AttrType::ORIGINATOR_ID => {
            // RFC 7606 §7.9: "malformed if its length is not 4 ... treat-as-withdraw".
            let Some(b) = v.array::<4>().filter(|_| len == 4) else {
                return Err(length(TreatAsWithdraw));
            };
            AttrValue::OriginatorId(Ipv4Addr::from(b))
        }
        AttrType::CLUSTER_LIST => {
            // RFC 7606 §7.10: "malformed if its length is not a non-zero multiple of 4 ...
            // treat-as-withdraw".
            if len == 0 || !len.is_multiple_of(4) {
                return Err(length(TreatAsWithdraw));
            }
            AttrValue::ClusterList(cluster_list(v.rest()))
        }
        AttrType::EXTENDED_COMMUNITIES => {
            // RFC 7606 §7.14: "malformed if its length is not a non-zero multiple of 8 ...
            // treat-as-withdraw".
            if len == 0 || !len.is_multiple_of(8) {
                return Err(length(TreatAsWithdraw));
            }
            AttrValue::ExtendedCommunities(extended_communities(v.rest()))
        }
        AttrType::LARGE_COMMUNITY => {
            // RFC 8092 §6: "... if the length of the attribute is not a non-zero multiple of 12
            // ... treat-as-withdraw".
            if len == 0 || !len.is_multiple_of(12) {
                return Err(length(TreatAsWithdraw));
            }
            AttrValue::LargeCommunities(large_communities(v.rest()))
        }
        AttrType::AS4_PATH => {
            // RFC 6793 §6: a malformed AS4_PATH "... MUST be discarded" (attribute discard);
            // §5: confederation segments are not allowed in AS4_PATH.
            let path = AsPath::decode(v, true).map_err(|e| match e {
                AsPathError::Structure | AsPathError::ZeroAsn => (K::MalformedAsPath, Discard),
            })?;
            if path.has_confed() {
                return Err((K::MalformedAsPath, Discard));
            }
            AttrValue::As4Path(path)
        }
        AttrType::MP_REACH_NLRI | AttrType::MP_UNREACH_NLRI => {
            let placement = Placement { flags, position };
            let add_path = |f: Family| ctx.add_path(f);
            // RFC 7606 §7.11 / §5.3: a malformed MP_REACH_NLRI or MP_UNREACH_NLRI (next hop
            // length, NLRI syntax) is handled by "session reset" or "AFI/SAFI disable"; this
            // codec resets (RFC 4760 §7: subcode "Optional Attribute Error").
            let mp_fail = |e: MpError| match e {
                MpError::Header | MpError::Nlri(..) => (K::Optional, SessionReset),
            };
            // Kept only for families this codec does not interpret.
            let mut whole = v.clone();
            if type_code == AttrType::MP_REACH_NLRI {
                return match MpReach::decode(v, &add_path, placement).map_err(mp_fail)? {
                    Some(m) => Ok(Decoded::Reach(m)),
                    None => Ok(Decoded::Value(AttrValue::Unknown(RawAttribute {
                        type_code,
                        data: whole.rest().to_vec(),
                    }))),
                };
            }
            return match MpUnreach::decode(v, &add_path, placement).map_err(mp_fail)? {
                Some(m) => Ok(Decoded::Unreach(m)),
                None => Ok(Decoded::Value(AttrValue::Unknown(RawAttribute {
                    type_code,
                    data: whole.rest().to_vec(),
                }))),
            };
        }
        // `expected_flags` returned Some only for the types above.
        _ => AttrValue::Unknown(RawAttribute {
            type_code,
            data: v.rest().to_vec(),
        }),
    };
    Ok(Decoded::Value(value))
}

/// COMMUNITIES values (RFC 1997 §3: "a set of four octet values"); the caller has checked
/// that the length is a non-zero multiple of 4, and this one of the next three functions.
fn communities(raw: &[u8]) -> CommunityList {
    fixed_list(raw, Community(0), |c: &[u8; 4]| {
        Community(u32::from_be_bytes(*c))
    })
}

/// CLUSTER_LIST values (RFC 4456 §8: "a sequence of CLUSTER_ID values", 4 octets each).
fn cluster_list(raw: &[u8]) -> ClusterIdList {
    fixed_list(raw, Ipv4Addr::UNSPECIFIED, |c: &[u8; 4]| Ipv4Addr::from(*c))
}

/// EXTENDED COMMUNITIES values (RFC 4360 §2: "a sequence of eight octet values").
fn extended_communities(raw: &[u8]) -> ExtendedCommunityList {
    fixed_list(raw, ExtendedCommunity([0; 8]), |c: &[u8; 8]| {
        ExtendedCommunity(*c)
    })
}

/// LARGE_COMMUNITY values (RFC 8092 §3: three 4-octet fields each).
fn large_communities(raw: &[u8]) -> LargeCommunityList {
    let blank = LargeCommunity {
        global_admin: 0,
        local_data_1: 0,
        local_data_2: 0,
    };
    fixed_list(raw, blank, |c: &[u8; 12]| {
        let (a, rest) = c.split_first_chunk::<4>().unwrap_or((&[0; 4], &[]));
        let (b, rest) = rest.split_first_chunk::<4>().unwrap_or((&[0; 4], &[]));
        let d = rest.first_chunk::<4>().unwrap_or(&[0; 4]);
        LargeCommunity {
            global_admin: u32::from_be_bytes(*a),
            local_data_1: u32::from_be_bytes(*b),
            local_data_2: u32::from_be_bytes(*d),
        }
    })
}

/// Appends the Path Attributes field content: `attrs` in order with the MP attributes merged
/// in at their placement positions.
pub(crate) fn encode_attributes(
    attrs: &PathAttributes,
    mp_reach: Option<&MpReach>,
    mp_unreach: Option<&MpUnreach>,
    out: &mut BytesMut,
    ctx: &EncodeCtx,
) -> Result<(), EncodeError> {
    let mut regular = attrs.as_slice().iter();
    encode_merged(
        &mut regular,
        |a: &PathAttribute, out: &mut BytesMut| a.encode(out, ctx),
        mp_reach,
        mp_unreach,
        out,
        ctx,
    )
}

/// Writes `regular` attributes with the MP attributes merged in at their positions.
fn encode_merged<T>(
    regular: &mut dyn Iterator<Item = T>,
    put: impl Fn(T, &mut BytesMut) -> Result<(), EncodeError>,
    mp_reach: Option<&MpReach>,
    mp_unreach: Option<&MpUnreach>,
    out: &mut BytesMut,
    ctx: &EncodeCtx,
) -> Result<(), EncodeError> {
    let mut reach = mp_reach;
    let mut unreach = mp_unreach;
    let mut slot = 0usize;
    loop {
        if let Some(m) = reach.filter(|m| usize::from(m.placement.position) == slot) {
            encode_mp_reach(m, out, ctx)?;
            reach = None;
        } else if let Some(m) = unreach.filter(|m| usize::from(m.placement.position) == slot) {
            encode_mp_unreach(m, out, ctx)?;
            unreach = None;
        } else if let Some(a) = regular.next() {
            put(a, out)?;
        } else {
            break;
        }
        slot += 1;
    }
    // Positions past the end: in position order.
    let mut rest: Vec<(u16, bool)> = Vec::new();
    if let Some(m) = reach {
        rest.push((m.placement.position, true));
    }
    if let Some(m) = unreach {
        rest.push((m.placement.position, false));
    }
    rest.sort_unstable();
    for (_, is_reach) in rest {
        match (is_reach, reach, unreach) {
            (true, Some(m), _) => encode_mp_reach(m, out, ctx)?,
            (false, _, Some(m)) => encode_mp_unreach(m, out, ctx)?,
            _ => {}
        }
    }
    Ok(())
}

fn encode_mp_reach(m: &MpReach, out: &mut BytesMut, ctx: &EncodeCtx) -> Result<(), EncodeError> {
    let add_path = ctx.add_path(m.family);
    encode_header(
        out,
        m.placement.flags,
        AttrType::MP_REACH_NLRI,
        m.value_len(add_path),
    )?;
    m.encode_value(out, add_path);
    Ok(())
}

fn encode_mp_unreach(
    m: &MpUnreach,
    out: &mut BytesMut,
    ctx: &EncodeCtx,
) -> Result<(), EncodeError> {
    let add_path = ctx.add_path(m.family);
    encode_header(
        out,
        m.placement.flags,
        AttrType::MP_UNREACH_NLRI,
        m.value_len(add_path),
    )?;
    m.encode_value(out, add_path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// One attribute: flags, type code and value, with types and lengths biased towards the
    /// codes this module knows and the lengths their checks accept or reject.
    fn attribute() -> impl Strategy<Value = Vec<u8>> {
        let code = prop_oneof![(1u8..=18).boxed(), Just(32u8).boxed(), any::<u8>().boxed()];
        let flags = prop_oneof![
            Just(0x40u8),
            Just(0x80u8),
            Just(0xc0u8),
            Just(0x50u8),
            any::<u8>()
        ];
        let value = prop_oneof![
            prop::collection::vec(any::<u8>(), 0..4),
            prop::collection::vec(prop_oneof![Just(0u8), Just(1), Just(2), any::<u8>()], 0..40),
        ];
        (flags, code, value).prop_map(|(flags, code, value)| {
            let mut out = vec![flags, code];
            if flags & 0x10 != 0 {
                out.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
            } else {
                out.push(u8::try_from(value.len()).unwrap());
            }
            out.extend_from_slice(&value);
            out
        })
    }

    proptest! {
        /// The single-pass decoder accepts only what the classifying decoder finds no issue
        /// in, and builds the same values.
        #[test]
        fn regular_and_classified_decoders_agree(
            attrs in prop::collection::vec(attribute(), 0..6),
            truncate in any::<prop::sample::Index>(),
            four_octet_as in any::<bool>(),
        ) {
            let mut block = attrs.concat();
            if truncate.index(4) == 0 {
                let keep = truncate.index(block.len() + 1);
                block.truncate(keep);
            }
            let ctx = DecodeCtx { four_octet_as, ..DecodeCtx::default() };
            let mut fast = AttrList::new();
            let mut regular = DecodedAttributes::default();
            let accepted = decode_regular(&block, 23, &ctx, &mut fast, &mut regular).is_some();
            let mut slow = AttrList::new();
            let classified = decode_classified(&mut Reader::new(&block, 23), &ctx, &mut slow);
            if accepted {
                let classified = classified.expect("regular input never resets the session");
                prop_assert!(classified.issues.is_empty());
                prop_assert_eq!(&fast, &slow);
                prop_assert_eq!(regular.mp_reach, classified.mp_reach);
                prop_assert_eq!(regular.mp_unreach, classified.mp_unreach);
                prop_assert_eq!(regular.present, classified.present);
            } else if let Ok(classified) = classified {
                // Irregular input: the classifier names at least one problem.
                prop_assert!(!classified.issues.is_empty());
            }
        }
    }
}
