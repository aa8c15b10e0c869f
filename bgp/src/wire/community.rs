//! Communities: standard (RFC 1997), extended (RFC 4360) and large (RFC 8092).
//!
//! All three are fixed-size values kept in wire order; well-known values are named constants
//! ([`Community::NO_EXPORT`], [`Community::GRACEFUL_SHUTDOWN`], ...). Registry:
//! <https://www.iana.org/assignments/bgp-well-known-communities/bgp-well-known-communities.xhtml>

use std::net::Ipv4Addr;

use serde::Serialize;
use smallvec::SmallVec;

/// A COMMUNITIES value, inline up to ten communities.
pub type CommunityList = SmallVec<[Community; 10]>;
/// An EXTENDED COMMUNITIES value, inline up to five.
pub type ExtendedCommunityList = SmallVec<[ExtendedCommunity; 5]>;
/// A LARGE_COMMUNITY value, inline up to three.
pub type LargeCommunityList = SmallVec<[LargeCommunity; 3]>;
/// A CLUSTER_LIST value (RFC 4456), inline up to ten cluster ids.
pub type ClusterIdList = SmallVec<[Ipv4Addr; 10]>;

/// A standard community (RFC 1997): a 32-bit value, conventionally `ASN:value`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Community(pub u32);

impl Community {
    /// GRACEFUL_SHUTDOWN (RFC 8326 §4): the route is about to go away; receivers lower its
    /// LOCAL_PREF.
    pub const GRACEFUL_SHUTDOWN: Self = Self(0xFFFF_0000);
    /// ACCEPT_OWN (RFC 7611).
    pub const ACCEPT_OWN: Self = Self(0xFFFF_0001);
    /// BLACKHOLE (RFC 7999).
    pub const BLACKHOLE: Self = Self(0xFFFF_029A);
    /// NO_EXPORT (RFC 1997): do not advertise outside the AS (or confederation).
    pub const NO_EXPORT: Self = Self(0xFFFF_FF01);
    /// NO_ADVERTISE (RFC 1997): do not advertise to any peer.
    pub const NO_ADVERTISE: Self = Self(0xFFFF_FF02);
    /// NO_EXPORT_SUBCONFED (RFC 1997): do not advertise to external peers, even within a
    /// confederation.
    pub const NO_EXPORT_SUBCONFED: Self = Self(0xFFFF_FF03);
    /// NOPEER (RFC 3765).
    pub const NO_PEER: Self = Self(0xFFFF_FF04);

    /// `asn:value`.
    #[must_use]
    pub const fn new(asn: u16, value: u16) -> Self {
        Self(((asn as u32) << 16) | value as u32)
    }

    /// The high 16 bits (conventionally the AS number).
    #[must_use]
    pub const fn asn(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The low 16 bits.
    #[must_use]
    pub const fn value(self) -> u16 {
        (self.0 & 0xffff) as u16
    }
}

impl core::fmt::Debug for Community {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = match *self {
            Self::GRACEFUL_SHUTDOWN => "GRACEFUL_SHUTDOWN",
            Self::ACCEPT_OWN => "ACCEPT_OWN",
            Self::BLACKHOLE => "BLACKHOLE",
            Self::NO_EXPORT => "NO_EXPORT",
            Self::NO_ADVERTISE => "NO_ADVERTISE",
            Self::NO_EXPORT_SUBCONFED => "NO_EXPORT_SUBCONFED",
            Self::NO_PEER => "NO_PEER",
            _ => return write!(f, "{}:{}", self.asn(), self.value()),
        };
        f.write_str(name)
    }
}

impl core::fmt::Display for Community {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

/// An extended community (RFC 4360 §2): 8 octets, type high / type low / value.
///
/// ```text
/// +-------------+-------------+------------------------------------------+
/// | Type high   | Type low    |          Value (6 octets)                |
/// +-------------+-------------+------------------------------------------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ExtendedCommunity(pub [u8; 8]);

impl ExtendedCommunity {
    /// The Type high octet (bit 0x40 clear means transitive across ASes, RFC 4360 §2).
    #[must_use]
    pub const fn type_high(&self) -> u8 {
        self.0[0]
    }

    /// The Type low (sub-type) octet.
    #[must_use]
    pub const fn type_low(&self) -> u8 {
        self.0[1]
    }

    /// True when the community may cross AS boundaries (RFC 4360 §2: "T - Transitive bit:
    /// Value 0: The community is transitive across ASes").
    #[must_use]
    pub const fn is_transitive(&self) -> bool {
        self.0[0] & 0x40 == 0
    }

    /// A two-octet-AS-specific Route Target (RFC 4360 §4, type 0x00, sub-type 0x02).
    #[must_use]
    pub const fn route_target(asn: u16, value: u32) -> Self {
        let a = asn.to_be_bytes();
        let v = value.to_be_bytes();
        Self([0x00, 0x02, a[0], a[1], v[0], v[1], v[2], v[3]])
    }
}

/// A large community (RFC 8092 §3): three 32-bit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LargeCommunity {
    /// Global Administrator (an AS number).
    pub global_admin: u32,
    /// Local Data Part 1.
    pub local_data_1: u32,
    /// Local Data Part 2.
    pub local_data_2: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_well_known_communities() {
        assert_eq!(
            format!("{:?}", Community::GRACEFUL_SHUTDOWN),
            "GRACEFUL_SHUTDOWN"
        );
        assert_eq!(format!("{}", Community::new(12076, 51100)), "12076:51100");
        assert_eq!(Community::new(65535, 0), Community::GRACEFUL_SHUTDOWN);
    }

    #[test]
    fn route_target_is_transitive() {
        let rt = ExtendedCommunity::route_target(65000, 7);
        assert!(rt.is_transitive());
        assert_eq!(rt.type_low(), 2);
    }
}
