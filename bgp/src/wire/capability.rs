//! Capabilities advertised in OPEN (RFC 5492 §4).
//!
//! ```text
//! +------------------------------+
//! | Capability Code (1 octet)    |
//! +------------------------------+
//! | Capability Length (1 octet)  |
//! +------------------------------+
//! | Capability Value (variable)  |
//! +------------------------------+
//! ```
//!
//! Known capabilities decode into typed variants; anything else is kept as
//! [`Capability::Unknown`] raw bytes, since RFC 5492 §3 says a speaker "... MUST ignore" a
//! capability it does not understand (the session may still refuse it as Unsupported
//! Capability, a policy decision for the FSM).

use bytes::{BufMut, BytesMut};
use serde::Serialize;

use super::as_path::Asn;
use super::ctx::Family;
use super::iana::{AddPathMode, Afi, CapabilityCode, Safi};
use super::reader::Reader;

/// One ADD-PATH tuple (RFC 7911 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct AddPathFamily {
    /// The family.
    pub family: Family,
    /// Whether the sender can send, receive or both.
    pub mode: AddPathMode,
}

/// One family of the graceful restart capability (RFC 4724 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct GracefulRestartFamily {
    /// The family.
    pub family: Family,
    /// Flags for Address Family (bit 0x80: Forwarding state preserved).
    pub flags: u8,
}

/// A capability (RFC 5492).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Capability {
    /// Multiprotocol extensions for one family (RFC 4760 §8, code 1).
    Multiprotocol(Family),
    /// Route refresh (RFC 2918, code 2).
    RouteRefresh,
    /// Extended message (RFC 8654, code 6).
    ExtendedMessage,
    /// Graceful restart (RFC 4724 §3, code 64).
    GracefulRestart {
        /// Restart Flags (4 bits; 0x8 = Restart State, 0x4 = Notification, RFC 8538).
        flags: u8,
        /// Restart Time in seconds (12 bits).
        restart_time: u16,
        /// Families with preserved forwarding state.
        families: Vec<GracefulRestartFamily>,
    },
    /// 4-octet AS number support, carrying the speaker's AS (RFC 6793 §3, code 65).
    FourOctetAs(Asn),
    /// ADD-PATH (RFC 7911 §4, code 69).
    AddPath(Vec<AddPathFamily>),
    /// Enhanced route refresh (RFC 7313, code 70).
    EnhancedRouteRefresh,
    /// Hostname / FQDN (draft-walton-bgp-hostname-capability, code 73), as raw octets.
    Fqdn {
        /// Host name.
        hostname: Vec<u8>,
        /// Domain name.
        domain: Vec<u8>,
    },
    /// Any other capability, kept as raw bytes.
    Unknown {
        /// Capability code.
        code: CapabilityCode,
        /// Capability value.
        data: Vec<u8>,
    },
}

impl Capability {
    /// The capability code.
    #[must_use]
    pub const fn code(&self) -> CapabilityCode {
        match self {
            Self::Multiprotocol(_) => CapabilityCode::MULTIPROTOCOL,
            Self::RouteRefresh => CapabilityCode::ROUTE_REFRESH,
            Self::ExtendedMessage => CapabilityCode::EXTENDED_MESSAGE,
            Self::GracefulRestart { .. } => CapabilityCode::GRACEFUL_RESTART,
            Self::FourOctetAs(_) => CapabilityCode::FOUR_OCTET_AS,
            Self::AddPath(_) => CapabilityCode::ADD_PATH,
            Self::EnhancedRouteRefresh => CapabilityCode::ENHANCED_ROUTE_REFRESH,
            Self::Fqdn { .. } => CapabilityCode::FQDN,
            Self::Unknown { code, .. } => *code,
        }
    }

    /// Decodes one capability value of `code` (the reader spans exactly its length).
    /// `None` means the value is malformed for the code.
    pub(crate) fn decode_value(code: CapabilityCode, v: &mut Reader<'_>) -> Option<Self> {
        let cap = match code {
            CapabilityCode::MULTIPROTOCOL => {
                let afi = Afi(v.u16()?);
                // RFC 4760 §8: "Res. - Reserved (8 bit) field. SHOULD be set to 0 by the sender
                // and ignored by the receiver."
                let _reserved = v.u8()?;
                let safi = Safi(v.u8()?);
                Self::Multiprotocol(Family::new(afi, safi))
            }
            CapabilityCode::ROUTE_REFRESH => Self::RouteRefresh,
            CapabilityCode::EXTENDED_MESSAGE => Self::ExtendedMessage,
            CapabilityCode::ENHANCED_ROUTE_REFRESH => Self::EnhancedRouteRefresh,
            CapabilityCode::GRACEFUL_RESTART => {
                let head = v.u16()?;
                let mut families = Vec::with_capacity(v.remaining() / 4);
                while !v.is_empty() {
                    let afi = Afi(v.u16()?);
                    let safi = Safi(v.u8()?);
                    let flags = v.u8()?;
                    families.push(GracefulRestartFamily {
                        family: Family::new(afi, safi),
                        flags,
                    });
                }
                Self::GracefulRestart {
                    flags: u8::try_from(head >> 12).ok()?,
                    restart_time: head & 0x0fff,
                    families,
                }
            }
            CapabilityCode::FOUR_OCTET_AS => Self::FourOctetAs(Asn(v.u32()?)),
            CapabilityCode::ADD_PATH => {
                let mut fams = Vec::with_capacity(v.remaining() / 4);
                let raw = v.clone().rest().to_vec();
                let mut understood = true;
                while !v.is_empty() {
                    let afi = Afi(v.u16()?);
                    let safi = Safi(v.u8()?);
                    let mode = AddPathMode(v.u8()?);
                    // RFC 7911 §4: Send/Receive is 1, 2 or 3; "If any other value is
                    // received, then the capability SHOULD be treated as not understood and
                    // ignored": kept as an unknown capability (raw octets), never negotiated.
                    understood &= matches!(mode.0, 1..=3);
                    fams.push(AddPathFamily {
                        family: Family::new(afi, safi),
                        mode,
                    });
                }
                if understood {
                    Self::AddPath(fams)
                } else {
                    Self::Unknown { code, data: raw }
                }
            }
            CapabilityCode::FQDN => {
                let hl = usize::from(v.u8()?);
                let hostname = v.take(hl)?.to_vec();
                let dl = usize::from(v.u8()?);
                let domain = v.take(dl)?.to_vec();
                Self::Fqdn { hostname, domain }
            }
            _ => Self::Unknown {
                code,
                data: v.rest().to_vec(),
            },
        };
        // A fixed-size value followed by extra octets is malformed (sub-reader rule).
        v.is_empty().then_some(cap)
    }

    /// Appends code, length and value.
    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.code().0);
        let len_pos = out.len();
        out.put_u8(0);
        match self {
            Self::Multiprotocol(f) => {
                out.put_u16(f.afi.0);
                out.put_u8(0);
                out.put_u8(f.safi.0);
            }
            Self::RouteRefresh | Self::ExtendedMessage | Self::EnhancedRouteRefresh => {}
            Self::GracefulRestart {
                flags,
                restart_time,
                families,
            } => {
                out.put_u16((u16::from(*flags & 0x0f) << 12) | (restart_time & 0x0fff));
                for f in families {
                    out.put_u16(f.family.afi.0);
                    out.put_u8(f.family.safi.0);
                    out.put_u8(f.flags);
                }
            }
            Self::FourOctetAs(asn) => out.put_u32(asn.0),
            Self::AddPath(fams) => {
                for f in fams {
                    out.put_u16(f.family.afi.0);
                    out.put_u8(f.family.safi.0);
                    out.put_u8(f.mode.0);
                }
            }
            Self::Fqdn { hostname, domain } => {
                put_short(out, hostname);
                put_short(out, domain);
            }
            Self::Unknown { data, .. } => out.put_slice(data),
        }
        let len = out.len() - len_pos - 1;
        if let Some(b) = out.get_mut(len_pos) {
            // Values above 255 octets cannot be represented; they are clamped and the OPEN
            // encoder rejects them before this point (see `Open::encode_body`).
            *b = u8::try_from(len).unwrap_or(u8::MAX);
        }
    }

    /// Encoded length including code and length octets.
    pub(crate) fn encoded_len(&self) -> usize {
        2 + match self {
            Self::Multiprotocol(_) | Self::FourOctetAs(_) => 4,
            Self::RouteRefresh | Self::ExtendedMessage | Self::EnhancedRouteRefresh => 0,
            Self::GracefulRestart { families, .. } => 2 + 4 * families.len(),
            Self::AddPath(f) => 4 * f.len(),
            Self::Fqdn { hostname, domain } => 2 + hostname.len().min(255) + domain.len().min(255),
            Self::Unknown { data, .. } => data.len(),
        }
    }
}

fn put_short(out: &mut BytesMut, s: &[u8]) {
    let s = s.get(..s.len().min(255)).unwrap_or_default();
    out.put_u8(u8::try_from(s.len()).unwrap_or(u8::MAX));
    out.put_slice(s);
}
