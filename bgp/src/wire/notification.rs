//! NOTIFICATION message (RFC 4271 §4.5) and the shutdown communication (RFC 8203, RFC 9003).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Error code    | Error subcode |   Data (variable)             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The subcode is kept as a raw octet because its meaning depends on the code; the typed
//! constants live in [`HeaderSubcode`], [`OpenSubcode`], [`UpdateSubcode`], [`FsmSubcode`],
//! [`CeaseSubcode`] and [`RouteRefreshSubcode`].

use bytes::{BufMut, BytesMut};
use serde::Serialize;

use super::iana::{
    CeaseSubcode, ErrorCode, FsmSubcode, HeaderSubcode, OpenSubcode, RouteRefreshSubcode,
    UpdateSubcode,
};
use super::reader::Reader;

/// Longest shutdown communication, in octets (RFC 9003 §2: "Length: ... up to 255").
pub const MAX_SHUTDOWN_COMMUNICATION_LEN: usize = 255;

/// A NOTIFICATION message: why the sender closes the session.
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Error code    | Error subcode |   Data (variable)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// Error code.
    pub code: ErrorCode,
    /// Error subcode; interpret with the constants of the code's subcode type.
    pub subcode: u8,
    /// Diagnostic data; its content depends on code and subcode.
    pub data: Vec<u8>,
}

impl Notification {
    /// A NOTIFICATION from its three fields.
    #[must_use]
    pub const fn new(code: ErrorCode, subcode: u8, data: Vec<u8>) -> Self {
        Self {
            code,
            subcode,
            data,
        }
    }

    /// Message Header Error (RFC 4271 §6.1).
    #[must_use]
    pub const fn header(subcode: HeaderSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::MESSAGE_HEADER, subcode.0, data)
    }

    /// OPEN Message Error (RFC 4271 §6.2).
    #[must_use]
    pub const fn open(subcode: OpenSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::OPEN_MESSAGE, subcode.0, data)
    }

    /// UPDATE Message Error (RFC 4271 §6.3).
    #[must_use]
    pub const fn update(subcode: UpdateSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::UPDATE_MESSAGE, subcode.0, data)
    }

    /// Hold Timer Expired (RFC 4271 §6.5); no subcode, no data.
    #[must_use]
    pub const fn hold_timer_expired() -> Self {
        Self::new(ErrorCode::HOLD_TIMER_EXPIRED, 0, Vec::new())
    }

    /// Finite State Machine Error (RFC 6608).
    #[must_use]
    pub const fn fsm(subcode: FsmSubcode) -> Self {
        Self::new(ErrorCode::FSM, subcode.0, Vec::new())
    }

    /// Cease with no data (RFC 4486).
    #[must_use]
    pub const fn cease(subcode: CeaseSubcode) -> Self {
        Self::new(ErrorCode::CEASE, subcode.0, Vec::new())
    }

    /// ROUTE-REFRESH Message Error (RFC 7313 §5).
    #[must_use]
    pub const fn route_refresh(subcode: RouteRefreshSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::ROUTE_REFRESH_MESSAGE, subcode.0, data)
    }

    /// Unsupported Capability (RFC 5492 §5): the data field lists the capabilities (code,
    /// length, value) the peer requires and we lack, already encoded.
    #[must_use]
    pub const fn unsupported_capability(capabilities: Vec<u8>) -> Self {
        Self::open(OpenSubcode::UNSUPPORTED_CAPABILITY, capabilities)
    }

    /// Cease with a shutdown communication (RFC 9003 §2), for subcode Administrative Shutdown
    /// or Administrative Reset.
    ///
    /// RFC 9003 §2: the message is "encoded in UTF-8 ... of no more than 255 octets"; a longer
    /// `message` is cut at the last character boundary that fits.
    #[must_use]
    pub fn shutdown(subcode: CeaseSubcode, message: &str) -> Self {
        let mut end = message.len().min(MAX_SHUTDOWN_COMMUNICATION_LEN);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = message.as_bytes().get(..end).unwrap_or_default();
        let mut data = Vec::with_capacity(1 + text.len());
        // `end <= 255` by construction, so the length fits one octet.
        data.push(u8::try_from(text.len()).unwrap_or(u8::MAX));
        data.extend_from_slice(text);
        Self::new(ErrorCode::CEASE, subcode.0, data)
    }

    /// The shutdown communication of a Cease / Administrative Shutdown or Administrative
    /// Reset NOTIFICATION (RFC 8203, RFC 9003).
    ///
    /// Returns `None` for other codes, or when data is empty (RFC 9003 §2 makes the message
    /// optional). RFC 9003 §5: a communication "with an invalid Length value, or an invalid
    /// UTF-8 sequence" is not an error of the session; it yields
    /// `Some(Err(ShutdownCommunicationError))` so the caller can log it.
    #[must_use]
    pub fn shutdown_communication(&self) -> Option<Result<&str, ShutdownCommunicationError>> {
        let subcode = CeaseSubcode(self.subcode);
        if self.code != ErrorCode::CEASE
            || (subcode != CeaseSubcode::ADMINISTRATIVE_SHUTDOWN
                && subcode != CeaseSubcode::ADMINISTRATIVE_RESET)
        {
            return None;
        }
        let (&len, text) = self.data.split_first()?;
        if usize::from(len) != text.len() {
            return Some(Err(ShutdownCommunicationError::Length {
                length: len,
                available: text.len(),
            }));
        }
        Some(
            core::str::from_utf8(text).map_err(|e| ShutdownCommunicationError::Utf8 {
                valid_up_to: e.valid_up_to(),
            }),
        )
    }

    /// Decodes the body (after the 19-octet header) of a NOTIFICATION.
    ///
    /// The framer has already checked the length is at least 21 (RFC 4271 §6.1), so the body
    /// holds at least code and subcode; a shorter body only happens through direct calls and is
    /// reported as `None`.
    pub(crate) fn decode_body(r: &mut Reader<'_>) -> Option<Self> {
        let code = ErrorCode(r.u8()?);
        let subcode = r.u8()?;
        let data = r.rest().to_vec();
        Some(Self {
            code,
            subcode,
            data,
        })
    }

    /// Appends the body (after the header).
    pub(crate) fn encode_body(&self, out: &mut BytesMut) {
        out.put_u8(self.code.0);
        out.put_u8(self.subcode);
        out.put_slice(&self.data);
    }
}

/// Why a shutdown communication could not be read (RFC 9003 §5: log, do not fail).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShutdownCommunicationError {
    /// The length octet disagrees with the data that follows.
    #[error("shutdown communication length {length} but {available} octets follow")]
    Length {
        /// The length octet.
        length: u8,
        /// Octets actually present after it.
        available: usize,
    },
    /// The text is not valid UTF-8.
    #[error("shutdown communication is not UTF-8 (valid up to octet {valid_up_to})")]
    Utf8 {
        /// Octets of valid UTF-8 before the error.
        valid_up_to: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_communication_round_trips() {
        let n = Notification::shutdown(CeaseSubcode::ADMINISTRATIVE_SHUTDOWN, "maintenance");
        assert_eq!(n.data[0], 11);
        assert_eq!(n.shutdown_communication(), Some(Ok("maintenance")));
    }

    #[test]
    fn shutdown_communication_is_cut_at_a_char_boundary() {
        let long = "é".repeat(200); // 400 octets
        let n = Notification::shutdown(CeaseSubcode::ADMINISTRATIVE_RESET, &long);
        assert_eq!(n.data[0], 254);
        assert_eq!(
            n.shutdown_communication().unwrap().unwrap().chars().count(),
            127
        );
    }

    #[test]
    fn reports_bad_shutdown_length_and_utf8() {
        let bad_len = Notification::new(ErrorCode::CEASE, 2, vec![5, b'a']);
        assert!(matches!(
            bad_len.shutdown_communication(),
            Some(Err(ShutdownCommunicationError::Length {
                length: 5,
                available: 1
            }))
        ));
        let bad_utf8 = Notification::new(ErrorCode::CEASE, 4, vec![1, 0xff]);
        assert!(matches!(
            bad_utf8.shutdown_communication(),
            Some(Err(ShutdownCommunicationError::Utf8 { valid_up_to: 0 }))
        ));
        assert_eq!(
            Notification::cease(CeaseSubcode::PEER_DECONFIGURED).shutdown_communication(),
            None
        );
    }
}
