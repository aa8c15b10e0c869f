//! The 19-octet message header (RFC 4271 §4.1) and its checks (RFC 4271 §6.1, RFC 8654 §4).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                                                               +
//! |                           Marker                              |
//! +                                                               +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Length               |      Type     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The header is read with fixed-size loads (no `nom` here: its combinators cost a fifth of
//! the whole header check in the codec profile, and the layout is fixed).

use super::ctx::{DecodeCtx, MAX_MESSAGE_LEN};
use super::error::HeaderError;
use super::iana::MessageType;

/// Length of the message header.
pub const HEADER_LEN: usize = 19;
/// The all-ones marker (RFC 4271 §4.1: "This 16-octet field is included for compatibility; it
/// MUST be set to all ones.").
pub const MARKER: [u8; 16] = [0xff; 16];

/// A checked message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Header {
    /// Total message length, header included.
    pub length: u16,
    /// Message type (one of the five known types once checked).
    pub msg_type: MessageType,
}

impl Header {
    /// Checks the first 19 octets of `buf` against RFC 4271 §6.1 and the session limits.
    ///
    /// Returns `Ok(None)` when fewer than 19 octets are available but the marker octets seen so
    /// far are all ones (so a bad marker is reported as soon as its first octet arrives).
    ///
    /// # Errors
    ///
    /// A bad marker, an unknown type, or a length out of range for the type: RFC 4271 §6.1
    /// "if the Length field of the message header is less than 19 or greater than 4096, or if
    /// the Length field of an OPEN message is less than the minimum length of the OPEN message,
    /// or if the Length field of an UPDATE message is less than the minimum length of the
    /// UPDATE message, or if the Length field of a KEEPALIVE message is not equal to 19, or if
    /// the Length field of a NOTIFICATION message is less than the minimum length of the
    /// NOTIFICATION message, then the Error Subcode MUST be set to Bad Message Length."
    pub fn check(buf: &[u8], ctx: &DecodeCtx) -> Result<Option<Self>, HeaderError> {
        let Some((marker, [hi, lo, msg_type, ..])) = buf.split_first_chunk::<16>() else {
            // Fewer than 19 octets: check the marker octets seen so far.
            let seen = buf.get(..buf.len().min(16)).unwrap_or_default();
            return match seen.iter().position(|&b| b != 0xff) {
                Some(offset) => Err(HeaderError::ConnectionNotSynchronized {
                    offset,
                    value: seen.get(offset).copied().unwrap_or(0),
                }),
                None => Ok(None),
            };
        };
        if *marker != MARKER {
            let offset = marker.iter().position(|&b| b != 0xff).unwrap_or(0);
            return Err(HeaderError::ConnectionNotSynchronized {
                offset,
                value: marker.get(offset).copied().unwrap_or(0),
            });
        }
        let length = u16::from_be_bytes([*hi, *lo]);
        let msg_type = MessageType(*msg_type);
        let (min, max) = match msg_type {
            // OPEN: 10 fixed octets after the header.
            MessageType::OPEN => (29, MAX_MESSAGE_LEN),
            MessageType::UPDATE => (23, ctx.max_message_len()),
            MessageType::NOTIFICATION => (21, ctx.max_message_len()),
            MessageType::KEEPALIVE => (HEADER_LEN, HEADER_LEN),
            // RFC 7313 §5 reports a wrong ROUTE-REFRESH length with its own error code, so the
            // header only bounds it like any message.
            MessageType::ROUTE_REFRESH => (HEADER_LEN, ctx.max_message_len()),
            // RFC 4271 §6.1: "If the Type field of the message header is not recognized, then
            // the Error Subcode MUST be set to Bad Message Type."
            _ => return Err(HeaderError::BadType { msg_type }),
        };
        // RFC 8654 §4: "The BGP Extended Message Capability applies to all messages except for
        // OPEN and KEEPALIVE messages."
        let len = usize::from(length);
        if len < min || len > max {
            return Err(HeaderError::BadLength {
                length,
                msg_type,
                min,
                max,
            });
        }
        Ok(Some(Self { length, msg_type }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_bad_marker_before_the_header_is_complete() {
        let err = Header::check(&[0xff, 0xff, 0x00], &DecodeCtx::default()).unwrap_err();
        assert_eq!(
            err,
            HeaderError::ConnectionNotSynchronized {
                offset: 2,
                value: 0
            }
        );
    }

    #[test]
    fn waits_for_a_complete_header() {
        assert_eq!(Header::check(&[0xff; 18], &DecodeCtx::default()), Ok(None));
    }
}
