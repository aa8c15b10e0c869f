//! KEEPALIVE message (RFC 4271 §4.4): a header with no body.
//!
//! ```text
//! +-----------------------------------+
//! |  Marker (16) | Length = 19 | Type 4 |
//! +-----------------------------------+
//! ```
//!
//! RFC 4271 §4.4: "A KEEPALIVE message consists of only the message header and has a length
//! of 19 octets." The framer rejects any other length as Bad Message Length (RFC 4271 §6.1:
//! "... or if the Length field of a KEEPALIVE message is not equal to 19").

/// Length of a KEEPALIVE message, which is just the header.
pub const KEEPALIVE_LEN: usize = super::header::HEADER_LEN;
