//! Decode and encode contexts: what the session negotiated, as the codec needs to know it.
//!
//! The wire format of an UPDATE depends on the capabilities both sides announced: AS numbers
//! are 2 or 4 octets (RFC 6793), NLRI may carry ADD-PATH identifiers per address family
//! (RFC 7911), and messages may exceed 4,096 octets (RFC 8654). The session (fsm) builds a
//! context once the OPENs are exchanged and passes it to every decode and encode call
//! (holo: `DecodeCxt`/`EncodeCxt`).

use serde::Serialize;

use super::iana::{Afi, Safi};

/// Maximum BGP message length without the extended message capability (RFC 4271 §4.1).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Maximum BGP message length once RFC 8654 extended messages are negotiated.
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

/// An address family: an (AFI, SAFI) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Family {
    /// Address family identifier.
    pub afi: Afi,
    /// Subsequent address family identifier.
    pub safi: Safi,
}

impl Family {
    /// IPv4 unicast.
    pub const IPV4_UNICAST: Self = Self::new(Afi::IPV4, Safi::UNICAST);
    /// IPv6 unicast.
    pub const IPV6_UNICAST: Self = Self::new(Afi::IPV6, Safi::UNICAST);

    /// A family from its parts.
    #[must_use]
    pub const fn new(afi: Afi, safi: Safi) -> Self {
        Self { afi, safi }
    }
}

/// What the codec must know to decode messages received on a session.
///
/// `Default` is the state before capabilities are negotiated: 2-octet AS numbers, no ADD-PATH,
/// 4,096-octet messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DecodeCtx {
    /// Both sides announced the 4-octet AS capability (RFC 6793 §4): AS_PATH and AGGREGATOR
    /// carry 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Families for which received NLRI carry a Path Identifier (RFC 7911 §3: we announced
    /// "receive" and the peer "send").
    pub add_path: Vec<Family>,
    /// Both sides announced the extended message capability (RFC 8654): the maximum message
    /// length is 65,535 instead of 4,096 (except OPEN and KEEPALIVE).
    pub extended_message: bool,
}

impl DecodeCtx {
    /// True when NLRI of `family` carry ADD-PATH path identifiers.
    #[inline]
    #[must_use]
    pub fn add_path(&self, family: Family) -> bool {
        self.add_path.contains(&family)
    }

    /// The largest message length accepted on this session (RFC 4271 §4.1, RFC 8654 §4).
    #[must_use]
    pub const fn max_message_len(&self) -> usize {
        if self.extended_message {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        }
    }
}

/// What the codec must know to encode messages sent on a session; mirrors [`DecodeCtx`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EncodeCtx {
    /// Both sides announced the 4-octet AS capability (RFC 6793): write 4-octet AS numbers.
    /// Without it, AS numbers above 65,535 are written as AS_TRANS (RFC 6793 §4.2.2).
    pub four_octet_as: bool,
    /// Families for which sent NLRI carry a Path Identifier (RFC 7911: we announced "send" and
    /// the peer "receive"). A prefix without an identifier is sent with identifier 0.
    pub add_path: Vec<Family>,
    /// Extended messages (RFC 8654) were negotiated: UPDATEs may be up to 65,535 octets.
    pub extended_message: bool,
}

impl EncodeCtx {
    /// True when NLRI of `family` carry ADD-PATH path identifiers.
    #[inline]
    #[must_use]
    pub fn add_path(&self, family: Family) -> bool {
        self.add_path.contains(&family)
    }

    /// The largest message length this session may send.
    #[must_use]
    pub const fn max_message_len(&self) -> usize {
        if self.extended_message {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        }
    }
}

impl From<&DecodeCtx> for EncodeCtx {
    /// The encode context that writes exactly what `ctx` reads (useful for re-encoding
    /// captures byte-for-byte).
    fn from(ctx: &DecodeCtx) -> Self {
        Self {
            four_octet_as: ctx.four_octet_as,
            add_path: ctx.add_path.clone(),
            extended_message: ctx.extended_message,
        }
    }
}
