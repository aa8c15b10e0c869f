//! Framing a TCP byte stream into BGP messages.
//!
//! A peer can only make us buffer one maximum-size message: the header is checked (marker,
//! length range for the type and session, known type) as soon as its 19 octets arrive, and a
//! bad marker as soon as its first octet does. [`frame`] distinguishes a complete message from
//! "need more bytes" from a malformed header (mini-redis `Frame::check`); [`Framer`] is the
//! buffering driver on top.

use bytes::{Buf, BytesMut};

use super::ctx::DecodeCtx;
use super::error::{DecodeError, HeaderError};
use super::header::{HEADER_LEN, Header};
use super::keepalive::KEEPALIVE;
use super::message::Message;

/// What the start of a byte stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A whole message of `len` octets (header included) is at the start of the buffer.
    Complete {
        /// Message length.
        len: usize,
    },
    /// More octets are needed; at least `needed` more.
    Incomplete {
        /// Minimum number of octets still missing.
        needed: usize,
    },
}

/// Looks at the start of `buf`.
///
/// # Errors
///
/// The [`HeaderError`] of a bad marker, length or type, as soon as it can be seen.
pub fn frame(buf: &[u8], ctx: &DecodeCtx) -> Result<Frame, HeaderError> {
    match Header::check(buf, ctx)? {
        None => Ok(Frame::Incomplete {
            needed: HEADER_LEN - buf.len(),
        }),
        Some(h) => {
            let len = usize::from(h.length);
            if buf.len() >= len {
                Ok(Frame::Complete { len })
            } else {
                Ok(Frame::Incomplete {
                    needed: len - buf.len(),
                })
            }
        }
    }
}

/// Buffers stream bytes and yields whole messages: the BGP stream framer of the project (the
/// session FSM and the simulator's MRT recorder frame with it; `holdtime decode`, which must
/// resynchronise on the next marker after a hole in a capture, runs [`frame`] itself).
///
/// Call order: [`Framer::handle_bytes`] with whatever the transport delivered, then
/// [`Framer::poll_message`] (decoded), [`Framer::poll_frame`] (the octets) or
/// [`Framer::peek`] and [`Framer::consume`] until it returns `None`. After an error the
/// session must close: the framer keeps returning the same header error, and a body error
/// consumed its message.
#[derive(Debug, Clone, Default)]
pub struct Framer {
    buf: BytesMut,
}

impl Framer {
    /// An empty framer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn handle_bytes(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Octets buffered and not yet returned as a message.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops everything buffered (the connection is gone, or its stream is abandoned).
    pub fn clear(&mut self) {
        self.buf = BytesMut::new();
    }

    /// The next message, `None` when more bytes are needed.
    ///
    /// # Errors
    ///
    /// `Some(Err(_))` with the decode error; map it to the NOTIFICATION to send with
    /// `Notification::from(&err)`.
    #[must_use]
    pub fn poll_message(&mut self, ctx: &DecodeCtx) -> Option<Result<Message, DecodeError>> {
        match self.poll_frame(ctx, |bytes| Message::decode(bytes, ctx))? {
            Err(e) => Some(Err(e.into())),
            Ok(message) => Some(message),
        }
    }

    /// The next whole message's octets (header included), handed to `f` and then consumed;
    /// `None` when more bytes are needed. The octets are borrowed from the buffer: nothing is
    /// copied unless `f` copies.
    ///
    /// # Errors
    ///
    /// `Some(Err(_))` with the header error, as soon as the header shows it (the bytes stay
    /// buffered: the same error comes again).
    pub fn poll_frame<T>(
        &mut self,
        ctx: &DecodeCtx,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Option<Result<T, HeaderError>> {
        let out = match self.peek(ctx)? {
            Err(e) => return Some(Err(e)),
            Ok(bytes) => (bytes.len(), f(bytes)),
        };
        self.consume(out.0);
        Some(Ok(out.1))
    }

    /// The next whole message's octets (header included), left in the buffer: `None` when
    /// more bytes are needed. Hand its length to [`Framer::consume`] once done with it
    /// ([`Framer::poll_frame`] does both; this pair lets a caller return a large decoded value
    /// without moving it through a closure's result).
    ///
    /// # Errors
    ///
    /// `Some(Err(_))` with the header error, as soon as the header shows it.
    pub fn peek(&self, ctx: &DecodeCtx) -> Option<Result<&[u8], HeaderError>> {
        // A KEEPALIVE's header is valid under every context: no need to parse it.
        let len = if self.buf.starts_with(&KEEPALIVE) {
            KEEPALIVE.len()
        } else {
            match frame(&self.buf, ctx) {
                Err(e) => return Some(Err(e)),
                Ok(Frame::Incomplete { .. }) => return None,
                Ok(Frame::Complete { len }) => len,
            }
        };
        // `len` octets are buffered.
        self.buf.get(..len).map(Ok)
    }

    /// Drops the first `len` octets: the message [`Framer::peek`] returned.
    pub fn consume(&mut self, len: usize) {
        self.buf.advance(len.min(self.buf.len()));
    }
}
