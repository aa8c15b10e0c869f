//! ROUTE-REFRESH message (RFC 2918 §3) with the enhanced subtypes of RFC 7313 §3.
//!
//! ```text
//!  0       7      15      23      31
//! +-------+-------+-------+-------+
//! |      AFI      | Subtyp| SAFI  |
//! +-------+-------+-------+-------+
//! ```

use bytes::{BufMut, BytesMut};
use serde::Serialize;

use super::ctx::Family;
use super::error::RouteRefreshError;
use super::iana::{Afi, RouteRefreshType, Safi};
use super::reader::Reader;

/// A ROUTE-REFRESH message: asks the peer to re-advertise a family (RFC 2918), or marks the
/// beginning / end of such a re-advertisement (RFC 7313).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct RouteRefresh {
    /// The family to refresh.
    pub family: Family,
    /// Normal request, Beginning of Route Refresh, or End of Route Refresh. RFC 2918 called
    /// this octet Reserved (0).
    pub subtype: RouteRefreshType,
}

impl RouteRefresh {
    /// A normal refresh request for `family`.
    #[must_use]
    pub const fn new(family: Family) -> Self {
        Self {
            family,
            subtype: RouteRefreshType::NORMAL,
        }
    }

    /// Decodes the body; `message` is the complete message for the NOTIFICATION data.
    pub(crate) fn decode_body(
        r: &mut Reader<'_>,
        message: &[u8],
    ) -> Result<Self, RouteRefreshError> {
        // RFC 7313 §5: "If the length, excluding the fixed-size message header, of the received
        // ROUTE-REFRESH message with Message Subtype 1 and 2 is not 4, then the BGP speaker
        // MUST send a NOTIFICATION message with the Error Code of "ROUTE-REFRESH Message
        // Error" and the subcode of "Invalid Message Length"." The same length rule is applied
        // to subtype 0, whose RFC 2918 format is also exactly 4 octets.
        let invalid = || RouteRefreshError::InvalidLength {
            length: message.len(),
            message: message.to_vec(),
        };
        if r.remaining() != 4 {
            return Err(invalid());
        }
        let afi = Afi(r.u16().ok_or_else(invalid)?);
        let subtype = RouteRefreshType(r.u8().ok_or_else(invalid)?);
        let safi = Safi(r.u8().ok_or_else(invalid)?);
        // RFC 7313 §5: "When the BGP speaker receives a ROUTE-REFRESH message with a "Message
        // Subtype" field other than 0, 1, or 2, it MUST ignore the received ROUTE-REFRESH
        // message." Unknown subtypes are therefore decoded, not rejected; the session ignores
        // them.
        Ok(Self {
            family: Family::new(afi, safi),
            subtype,
        })
    }

    /// Appends the body.
    pub(crate) fn encode_body(&self, out: &mut BytesMut) {
        out.put_u16(self.family.afi.0);
        out.put_u8(self.subtype.0);
        out.put_u8(self.family.safi.0);
    }
}
