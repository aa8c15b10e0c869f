//! The BFD Control packet (RFC 5880 §4.1): a 24-byte mandatory section, optionally followed by
//! an authentication section.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       My Discriminator                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Your Discriminator                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Desired Min TX Interval                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   Required Min RX Interval                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Required Min Echo RX Interval                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! An optional Authentication Section MAY be present:
//!
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Auth Type   |   Auth Len    |    Authentication Data...     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Contract: [`ControlPacket::decode`] performs the packet-level checks of RFC 5880 §6.8.6 that
//! need no session state (version, lengths, multiplier, multipoint bit, discriminator) and returns
//! a typed [`DecodeError`] for each; it never panics on any input. The authentication section is
//! parsed (so its length is validated) and returned as data; this implementation supports no
//! authentication type, and the session discards such packets (`bfd::Session::handle_packet`).
//! Intervals travel in microseconds on the wire and are [`Duration`]s here.

use serde::Serialize;
use sim_core::time::Duration;

/// The protocol version this module speaks (RFC 5880 §4.1: "This document defines protocol
/// version 1").
pub const VERSION: u8 = 1;

/// Length of the mandatory section in bytes.
pub const MANDATORY_LEN: usize = 24;

/// An encoded control packet: the mandatory section inline, longer packets (with an
/// authentication section) on the heap.
pub type PacketBuf = smallvec::SmallVec<[u8; MANDATORY_LEN]>;

/// [`MANDATORY_LEN`] as the Length field of a packet without authentication.
const MANDATORY_LENGTH_FIELD: u8 = 24;

/// The UDP destination port of single-hop BFD Control packets (RFC 5881 §4).
pub const UDP_PORT: u16 = 3784;

/// Session state as carried in the `Sta` field (RFC 5880 §4.1), in the RFC's numeric order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum State {
    /// 0: the session is administratively held down.
    AdminDown,
    /// 1: the session is down or has just been created.
    Down,
    /// 2: the remote system is communicating, the local one wants to bring the session up.
    Init,
    /// 3: the session is up.
    Up,
}

impl State {
    /// The two-bit wire value.
    #[must_use]
    pub const fn to_bits(self) -> u8 {
        match self {
            Self::AdminDown => 0,
            Self::Down => 1,
            Self::Init => 2,
            Self::Up => 3,
        }
    }

    /// The state from its two-bit wire value (only the low two bits are used).
    #[must_use]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0 => Self::AdminDown,
            1 => Self::Down,
            2 => Self::Init,
            _ => Self::Up,
        }
    }
}

/// The diagnostic code (RFC 5880 §4.1, "Diag"): why the session last left Up. An open newtype
/// so that unassigned values survive a round trip; the IANA registry is "BFD Diagnostic Codes"
/// (<https://www.iana.org/assignments/bfd-parameters>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Diagnostic(pub u8);

impl Diagnostic {
    /// 0: No Diagnostic.
    pub const NONE: Self = Self(0);
    /// 1: Control Detection Time Expired.
    pub const CONTROL_DETECTION_TIME_EXPIRED: Self = Self(1);
    /// 2: Echo Function Failed.
    pub const ECHO_FUNCTION_FAILED: Self = Self(2);
    /// 3: Neighbor Signaled Session Down.
    pub const NEIGHBOR_SIGNALED_SESSION_DOWN: Self = Self(3);
    /// 4: Forwarding Plane Reset.
    pub const FORWARDING_PLANE_RESET: Self = Self(4);
    /// 5: Path Down.
    pub const PATH_DOWN: Self = Self(5);
    /// 6: Concatenated Path Down.
    pub const CONCATENATED_PATH_DOWN: Self = Self(6);
    /// 7: Administratively Down.
    pub const ADMINISTRATIVELY_DOWN: Self = Self(7);
    /// 8: Reverse Concatenated Path Down.
    pub const REVERSE_CONCATENATED_PATH_DOWN: Self = Self(8);
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.0 {
            0 => "no diagnostic",
            1 => "control detection time expired",
            2 => "echo function failed",
            3 => "neighbor signaled session down",
            4 => "forwarding plane reset",
            5 => "path down",
            6 => "concatenated path down",
            7 => "administratively down",
            8 => "reverse concatenated path down",
            _ => return write!(f, "diagnostic {:#04x}", self.0),
        };
        f.write_str(name)
    }
}

/// The authentication section (RFC 5880 §4.1 "Auth Type", "Auth Len", data), kept as raw data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authentication {
    /// Auth Type: 1 Simple Password, 2 Keyed MD5, 3 Meticulous Keyed MD5, 4 Keyed SHA1,
    /// 5 Meticulous Keyed SHA1.
    pub auth_type: u8,
    /// The bytes after Auth Type and Auth Len.
    pub data: Vec<u8>,
}

/// One BFD Control packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlPacket {
    /// Diag: the local system's reason for the last change in session state.
    pub diagnostic: Diagnostic,
    /// Sta: the transmitting system's view of the session state.
    pub state: State,
    /// P: the transmitter requests verification of connectivity or of a parameter change.
    pub poll: bool,
    /// F: the response to a received packet with P set.
    pub final_: bool,
    /// C: the transmitter's BFD is independent of its control plane.
    pub control_plane_independent: bool,
    /// D: the transmitter wishes to run Demand mode.
    pub demand: bool,
    /// Detect Mult: the detection time multiplier.
    pub detect_mult: u8,
    /// My Discriminator: the transmitter's unique, nonzero discriminator.
    pub my_discriminator: u32,
    /// Your Discriminator: the discriminator received from the remote system, or zero.
    pub your_discriminator: u32,
    /// Desired Min TX Interval.
    pub desired_min_tx: Duration,
    /// Required Min RX Interval.
    pub required_min_rx: Duration,
    /// Required Min Echo RX Interval (zero: no Echo packets wanted).
    pub required_min_echo_rx: Duration,
    /// The authentication section, present when the A bit is set.
    pub authentication: Option<Authentication>,
}

/// Why a received datagram is not a valid BFD Control packet (RFC 5880 §6.8.6: each of these
/// says "the packet MUST be discarded").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the 24-byte mandatory section.
    #[error("BFD packet truncated: {len} bytes, at least 24 needed")]
    Truncated {
        /// Bytes received.
        len: usize,
    },
    /// The version is not 1.
    #[error("unsupported BFD version {version}")]
    BadVersion {
        /// The version field.
        version: u8,
    },
    /// The Length field is too small, or larger than the datagram.
    #[error("BFD Length field {length} is invalid for a {received}-byte datagram")]
    BadLength {
        /// The Length field.
        length: u8,
        /// Bytes received.
        received: usize,
    },
    /// Detect Mult is zero.
    #[error("BFD Detect Mult is zero")]
    ZeroDetectMult,
    /// The Multipoint bit is set.
    #[error("BFD Multipoint bit is set")]
    Multipoint,
    /// My Discriminator is zero.
    #[error("BFD My Discriminator is zero")]
    ZeroMyDiscriminator,
    /// The A bit is set but the authentication section is malformed.
    #[error("BFD authentication section malformed: Auth Len {auth_len} within Length {length}")]
    BadAuthentication {
        /// The Auth Len field.
        auth_len: u8,
        /// The Length field.
        length: u8,
    },
}

impl ControlPacket {
    /// Decodes one Control packet from a UDP payload. Bytes beyond the Length field are ignored
    /// (RFC 5880 §6.8.6 only requires Length not to exceed the payload).
    ///
    /// # Errors
    ///
    /// Every reception check of RFC 5880 §6.8.6 that needs no session state, as a
    /// [`DecodeError`].
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let Some(mandatory) = buf.get(..MANDATORY_LEN) else {
            return Err(DecodeError::Truncated { len: buf.len() });
        };
        let mut w = [0u32; 6];
        for (word, chunk) in w.iter_mut().zip(mandatory.chunks_exact(4)) {
            let mut b = [0u8; 4];
            b.copy_from_slice(chunk);
            *word = u32::from_be_bytes(b);
        }
        let [b0, b1, detect_mult, length] = w[0].to_be_bytes();
        // §6.8.6: "If the version number is not correct (1), the packet MUST be discarded."
        let version = b0 >> 5;
        if version != VERSION {
            return Err(DecodeError::BadVersion { version });
        }
        let auth_present = b1 & 0x04 != 0;
        // §6.8.6: "If the Length field is less than the minimum correct value (24 if the A bit
        // is clear, or 26 if the A bit is set), the packet MUST be discarded." and "If the Length
        // field is greater than the payload of the encapsulating protocol, the packet MUST be
        // discarded."
        let min_len = if auth_present { 26 } else { 24 };
        if usize::from(length) < min_len || usize::from(length) > buf.len() {
            return Err(DecodeError::BadLength {
                length,
                received: buf.len(),
            });
        }
        // §6.8.6: "If the Detect Mult field is zero, the packet MUST be discarded."
        if detect_mult == 0 {
            return Err(DecodeError::ZeroDetectMult);
        }
        // §6.8.6: "If the Multipoint (M) bit is nonzero, the packet MUST be discarded."
        if b1 & 0x01 != 0 {
            return Err(DecodeError::Multipoint);
        }
        // §6.8.6: "If the My Discriminator field is zero, the packet MUST be discarded."
        if w[1] == 0 {
            return Err(DecodeError::ZeroMyDiscriminator);
        }
        let authentication = if auth_present {
            let section = buf.get(MANDATORY_LEN..usize::from(length)).unwrap_or(&[]);
            let (auth_type, auth_len) = match section {
                [t, l, ..] => (*t, *l),
                _ => (0, 0),
            };
            // The Auth Len counts the whole section, type and length bytes included.
            if usize::from(auth_len) < 2 || usize::from(auth_len) != section.len() {
                return Err(DecodeError::BadAuthentication { auth_len, length });
            }
            Some(Authentication {
                auth_type,
                data: section.get(2..).unwrap_or(&[]).to_vec(),
            })
        } else {
            None
        };
        Ok(Self {
            diagnostic: Diagnostic(b0 & 0x1f),
            state: State::from_bits(b1 >> 6),
            poll: b1 & 0x20 != 0,
            final_: b1 & 0x10 != 0,
            control_plane_independent: b1 & 0x08 != 0,
            demand: b1 & 0x02 != 0,
            detect_mult,
            my_discriminator: w[1],
            your_discriminator: w[2],
            desired_min_tx: Duration::from_micros(u64::from(w[3])),
            required_min_rx: Duration::from_micros(u64::from(w[4])),
            required_min_echo_rx: Duration::from_micros(u64::from(w[5])),
            authentication,
        })
    }

    /// Encodes the packet, appending to `out`. Intervals are written in whole microseconds,
    /// saturating at `u32::MAX`; the diagnostic keeps its low five bits.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let auth_len = self
            .authentication
            .as_ref()
            .map_or(0, |a| a.data.len().saturating_add(2));
        let length = u8::try_from(MANDATORY_LEN.saturating_add(auth_len)).unwrap_or(u8::MAX);
        out.extend_from_slice(&self.mandatory(length));
        if let Some(auth) = &self.authentication {
            out.push(auth.auth_type);
            out.push(u8::try_from(auth_len).unwrap_or(u8::MAX));
            out.extend_from_slice(&auth.data);
        }
    }

    /// The encoded packet in a [`PacketBuf`]: inline, with no allocation, when there is no
    /// authentication section (what a session sends every interval).
    #[must_use]
    pub fn to_buf(&self) -> PacketBuf {
        if self.authentication.is_none() {
            return PacketBuf::from_buf(self.mandatory(MANDATORY_LENGTH_FIELD));
        }
        let mut out = Vec::with_capacity(MANDATORY_LEN);
        self.encode(&mut out);
        PacketBuf::from_vec(out)
    }

    /// The encoded packet as a new vector.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.authentication.is_none() {
            // The common case, one exact allocation: a BFD session sends this every interval.
            return self.mandatory(MANDATORY_LENGTH_FIELD).to_vec();
        }
        let mut out = Vec::with_capacity(MANDATORY_LEN);
        self.encode(&mut out);
        out
    }

    /// The 24-byte mandatory section with the given Length field.
    fn mandatory(&self, length: u8) -> [u8; MANDATORY_LEN] {
        let bit = |set: bool, bit: u8| if set { bit } else { 0 };
        let flags = (self.state.to_bits() << 6)
            | bit(self.poll, 0x20)
            | bit(self.final_, 0x10)
            | bit(self.control_plane_independent, 0x08)
            | bit(self.authentication.is_some(), 0x04)
            | bit(self.demand, 0x02);
        let micros = |d: Duration| u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
        let mut b = [0u8; MANDATORY_LEN];
        let words = [
            u32::from_be_bytes([
                (VERSION << 5) | (self.diagnostic.0 & 0x1f),
                flags,
                self.detect_mult,
                length,
            ]),
            self.my_discriminator,
            self.your_discriminator,
            micros(self.desired_min_tx),
            micros(self.required_min_rx),
            micros(self.required_min_echo_rx),
        ];
        for (chunk, word) in b.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Up packet: diag 0, Up, P clear, detect mult 3, discriminators 1 and 2, 300 ms / 300 ms,
    /// no echo.
    const UP_300MS: [u8; 24] = [
        0x20, 0xc0, 0x03, 0x18, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x04, 0x93,
        0xe0, 0x00, 0x04, 0x93, 0xe0, 0x00, 0x00, 0x00, 0x00,
    ];

    fn up_packet() -> ControlPacket {
        ControlPacket {
            diagnostic: Diagnostic::NONE,
            state: State::Up,
            poll: false,
            final_: false,
            control_plane_independent: false,
            demand: false,
            detect_mult: 3,
            my_discriminator: 1,
            your_discriminator: 2,
            desired_min_tx: Duration::from_millis(300),
            required_min_rx: Duration::from_millis(300),
            required_min_echo_rx: Duration::ZERO,
            authentication: None,
        }
    }

    #[test]
    fn vector_decodes_and_encodes() {
        assert_eq!(ControlPacket::decode(&UP_300MS), Ok(up_packet()));
        assert_eq!(up_packet().to_bytes(), UP_300MS);
    }

    #[test]
    fn flags_and_diagnostic_round_trip() {
        let mut p = up_packet();
        p.diagnostic = Diagnostic::CONTROL_DETECTION_TIME_EXPIRED;
        p.state = State::Init;
        p.poll = true;
        p.final_ = true;
        p.control_plane_independent = true;
        p.demand = true;
        let bytes = p.to_bytes();
        assert_eq!(bytes[0], 0x21);
        assert_eq!(bytes[1], 0b1011_1010);
        assert_eq!(ControlPacket::decode(&bytes), Ok(p));
    }

    #[test]
    fn to_bytes_matches_encode_with_and_without_authentication() {
        let mut p = up_packet();
        let mut out = Vec::new();
        p.encode(&mut out);
        assert_eq!(p.to_bytes(), out);
        p.authentication = Some(Authentication {
            auth_type: 1,
            data: vec![1, b'k', b'e', b'y'],
        });
        let mut out = Vec::new();
        p.encode(&mut out);
        let bytes = p.to_bytes();
        assert_eq!(bytes, out);
        assert_eq!(bytes.len(), 30);
        assert_eq!((bytes[1] & 0x04, bytes[3]), (0x04, 30), "A bit and Length");
        assert_eq!(ControlPacket::decode(&bytes), Ok(p));
    }

    #[test]
    fn rejects_truncated_packet() {
        for len in 0..MANDATORY_LEN {
            assert_eq!(
                ControlPacket::decode(&UP_300MS[..len]),
                Err(DecodeError::Truncated { len })
            );
        }
    }

    #[test]
    fn ignores_trailing_bytes_beyond_length() {
        let mut b = UP_300MS.to_vec();
        b.extend_from_slice(&[0xde, 0xad]);
        assert_eq!(ControlPacket::decode(&b), Ok(up_packet()));
    }

    #[test]
    fn rejects_wrong_version() {
        let mut b = UP_300MS;
        b[0] = 0x40;
        assert_eq!(
            ControlPacket::decode(&b),
            Err(DecodeError::BadVersion { version: 2 })
        );
    }

    #[test]
    fn rejects_length_field_out_of_range() {
        let mut b = UP_300MS;
        b[3] = 23;
        assert!(matches!(
            ControlPacket::decode(&b),
            Err(DecodeError::BadLength { length: 23, .. })
        ));
        b[3] = 25;
        assert!(matches!(
            ControlPacket::decode(&b),
            Err(DecodeError::BadLength { length: 25, .. })
        ));
    }

    #[test]
    fn rejects_zero_multiplier_multipoint_and_zero_discriminator() {
        let mut b = UP_300MS;
        b[2] = 0;
        assert_eq!(ControlPacket::decode(&b), Err(DecodeError::ZeroDetectMult));
        let mut b = UP_300MS;
        b[1] |= 0x01;
        assert_eq!(ControlPacket::decode(&b), Err(DecodeError::Multipoint));
        let mut b = UP_300MS;
        b[7] = 0;
        assert_eq!(
            ControlPacket::decode(&b),
            Err(DecodeError::ZeroMyDiscriminator)
        );
    }

    #[test]
    fn parses_authentication_section() {
        let mut p = up_packet();
        p.authentication = Some(Authentication {
            auth_type: 1,
            data: vec![1, b's', b'e', b'c', b'r', b'e', b't'],
        });
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), 24 + 9);
        assert_eq!(bytes[3], 33);
        assert_eq!(bytes[1] & 0x04, 0x04);
        assert_eq!(ControlPacket::decode(&bytes), Ok(p));
    }

    #[test]
    fn rejects_auth_bit_without_section() {
        let mut b = UP_300MS.to_vec();
        b[1] |= 0x04;
        assert!(matches!(
            ControlPacket::decode(&b),
            Err(DecodeError::BadLength { length: 24, .. })
        ));
        // Length says 26 but Auth Len disagrees with it.
        b[3] = 26;
        b.extend_from_slice(&[1, 5]);
        assert_eq!(
            ControlPacket::decode(&b),
            Err(DecodeError::BadAuthentication {
                auth_len: 5,
                length: 26
            })
        );
    }

    #[test]
    fn diagnostic_prints_name_or_hex() {
        assert_eq!(Diagnostic::PATH_DOWN.to_string(), "path down");
        assert_eq!(Diagnostic(0x1f).to_string(), "diagnostic 0x1f");
    }
}
