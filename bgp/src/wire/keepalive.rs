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

/// The octets of a KEEPALIVE: the marker, Length 19, Type 4. Valid under every session
/// context, so [`super::Framer`] recognises it without parsing a header: it is the message a
/// session receives most.
pub const KEEPALIVE: [u8; KEEPALIVE_LEN] = {
    let mut k = [0xff; KEEPALIVE_LEN];
    k[16] = 0;
    k[17] = 19;
    k[18] = 4;
    k
};
