//! The BGP message: one of the five types, decoded from and encoded to whole messages.

use bytes::{BufMut, BytesMut};
use serde::Serialize;

use super::ctx::{DecodeCtx, EncodeCtx, MAX_MESSAGE_LEN};
use super::error::{DecodeError, EncodeError, HeaderError};
use super::header::{HEADER_LEN, Header, MARKER};
use super::iana::MessageType;
use super::notification::Notification;
use super::open::Open;
use super::reader::Reader;
use super::route_refresh::RouteRefresh;
use super::update::Update;

/// A BGP message (RFC 4271 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Message {
    /// OPEN (type 1).
    Open(Open),
    /// UPDATE (type 2).
    Update(Update),
    /// NOTIFICATION (type 3).
    Notification(Notification),
    /// KEEPALIVE (type 4).
    Keepalive,
    /// ROUTE-REFRESH (type 5).
    RouteRefresh(RouteRefresh),
}

impl Message {
    /// The message type.
    #[must_use]
    pub const fn msg_type(&self) -> MessageType {
        match self {
            Self::Open(_) => MessageType::OPEN,
            Self::Update(_) => MessageType::UPDATE,
            Self::Notification(_) => MessageType::NOTIFICATION,
            Self::Keepalive => MessageType::KEEPALIVE,
            Self::RouteRefresh(_) => MessageType::ROUTE_REFRESH,
        }
    }

    /// Decodes exactly one whole message (header included) from `buf`.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`]; `Notification::from(&err)` gives the NOTIFICATION to send. When
    /// `buf` is not exactly one message long, [`HeaderError::LengthMismatch`].
    pub fn decode(buf: &[u8], ctx: &DecodeCtx) -> Result<Self, DecodeError> {
        let Some(header) = Header::check(buf, ctx)? else {
            return Err(HeaderError::LengthMismatch {
                length: 0,
                available: buf.len(),
            }
            .into());
        };
        if usize::from(header.length) != buf.len() {
            return Err(HeaderError::LengthMismatch {
                length: header.length,
                available: buf.len(),
            }
            .into());
        }
        let body = buf.get(HEADER_LEN..).unwrap_or_default();
        let mut r = Reader::new(body, HEADER_LEN);
        let msg = match header.msg_type {
            MessageType::OPEN => Self::Open(Open::decode_body(&mut r)?),
            MessageType::UPDATE => Self::Update(Update::decode_body(&mut r, ctx)?),
            MessageType::NOTIFICATION => Self::Notification(
                Notification::decode_body(&mut r).ok_or(HeaderError::LengthMismatch {
                    length: header.length,
                    available: buf.len(),
                })?,
            ),
            MessageType::ROUTE_REFRESH => {
                Self::RouteRefresh(RouteRefresh::decode_body(&mut r, buf)?)
            }
            // `Header::check` only lets the five known types through; KEEPALIVE has no body.
            _ => Self::Keepalive,
        };
        Ok(msg)
    }

    /// Appends the encoded message (header included) to `out`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::TooLong`] when the message exceeds the session's maximum (4,096 octets,
    /// or 65,535 with RFC 8654 extended messages, which never apply to OPEN and KEEPALIVE);
    /// `out` is then left as it was.
    pub fn encode(&self, out: &mut BytesMut, ctx: &EncodeCtx) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.encode_inner(out, ctx);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_inner(&self, out: &mut BytesMut, ctx: &EncodeCtx) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_slice(&MARKER);
        out.put_u16(0);
        out.put_u8(self.msg_type().0);
        match self {
            Self::Open(m) => m.encode_body(out)?,
            Self::Update(m) => m.encode_body(out, ctx)?,
            Self::Notification(m) => m.encode_body(out),
            Self::Keepalive => {}
            Self::RouteRefresh(m) => m.encode_body(out),
        }
        let length = out.len() - start;
        let max = match self {
            Self::Open(_) | Self::Keepalive => MAX_MESSAGE_LEN,
            _ => ctx.max_message_len(),
        };
        let len16 = u16::try_from(length).ok().filter(|_| length <= max);
        let Some(len16) = len16 else {
            return Err(EncodeError::TooLong {
                msg_type: self.msg_type(),
                length,
                max,
            });
        };
        if let Some(dst) = out.get_mut(start + 16..start + 18) {
            dst.copy_from_slice(&len16.to_be_bytes());
        }
        Ok(())
    }

    /// Encodes into a fresh buffer.
    ///
    /// # Errors
    ///
    /// As [`Self::encode`].
    pub fn to_bytes(&self, ctx: &EncodeCtx) -> Result<BytesMut, EncodeError> {
        let mut out = BytesMut::new();
        self.encode(&mut out, ctx)?;
        Ok(out)
    }
}

impl From<Open> for Message {
    fn from(m: Open) -> Self {
        Self::Open(m)
    }
}

impl From<Update> for Message {
    fn from(m: Update) -> Self {
        Self::Update(m)
    }
}

impl From<Notification> for Message {
    fn from(m: Notification) -> Self {
        Self::Notification(m)
    }
}

impl From<RouteRefresh> for Message {
    fn from(m: RouteRefresh) -> Self {
        Self::RouteRefresh(m)
    }
}
