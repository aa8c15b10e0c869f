//! OPEN message (RFC 4271 §4.2) with capabilities (RFC 5492) and the extended optional
//! parameters length of RFC 9072.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+
//! |    Version    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     My Autonomous System      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Hold Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         BGP Identifier                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Opt Parm Len  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Optional Parameters (variable)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! RFC 9072 §2 extended form: Opt Parm Len = 255, then a Non-Ext OP Type of 255, then a 2-octet
//! Extended Opt. Parm. Length, and every parameter has a 2-octet length.
//!
//! Decoding checks what needs no configuration: version 4, a non-zero AS, a non-zero BGP
//! identifier, a hold time other than 1 or 2, only the Capabilities optional parameter. Whether
//! the peer AS is the configured one is the session's business (it builds the NOTIFICATION with
//! [`Notification::open`](super::Notification::open)).

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use serde::Serialize;

use super::as_path::Asn;
use super::capability::Capability;
use super::error::{EncodeError, OpenError};
use super::iana::{CapabilityCode, ParamType};
use super::reader::Reader;

/// BGP version this codec speaks (RFC 4271 §4.2).
pub const BGP_VERSION: u8 = 4;

/// One Capabilities optional parameter (type 2, RFC 5492 §4). Speakers may put all their
/// capabilities into one parameter or one parameter per capability; both are kept as received.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct OptionalParam {
    /// The capabilities in this parameter, in wire order.
    pub capabilities: Vec<Capability>,
}

/// An OPEN message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Open {
    /// Protocol version (4).
    pub version: u8,
    /// My Autonomous System: the sender's AS, or AS_TRANS (23456) when it needs 4 octets
    /// (RFC 6793 §4.2.1).
    pub my_as: u16,
    /// Proposed hold time in seconds (0, or at least 3).
    pub hold_time: u16,
    /// BGP Identifier.
    pub bgp_id: Ipv4Addr,
    /// Capabilities optional parameters.
    pub params: Vec<OptionalParam>,
    /// The parameters were (or are to be) encoded in the RFC 9072 extended form even if they
    /// would fit the short one. Encoding switches to the extended form anyway when the
    /// parameters exceed 255 octets.
    pub extended_params: bool,
}

impl Open {
    /// An OPEN for `asn` with one Capabilities parameter holding `capabilities`
    /// (RFC 6793 §4.2.1: a 4-octet `asn` is sent as AS_TRANS in My Autonomous System; the
    /// caller includes [`Capability::FourOctetAs`]).
    #[must_use]
    pub fn new(asn: Asn, hold_time: u16, bgp_id: Ipv4Addr, capabilities: Vec<Capability>) -> Self {
        let params = if capabilities.is_empty() {
            Vec::new()
        } else {
            vec![OptionalParam { capabilities }]
        };
        Self {
            version: BGP_VERSION,
            my_as: asn.to_u16_or_trans(),
            hold_time,
            bgp_id,
            params,
            extended_params: false,
        }
    }

    /// All capabilities, across parameters, in wire order.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> {
        self.params.iter().flat_map(|p| &p.capabilities)
    }

    /// The sender's AS: the 4-octet AS capability if present (RFC 6793 §4.1), else My AS.
    #[must_use]
    pub fn asn(&self) -> Asn {
        self.capabilities()
            .find_map(|c| match c {
                Capability::FourOctetAs(a) => Some(*a),
                _ => None,
            })
            .unwrap_or(Asn(u32::from(self.my_as)))
    }

    /// True when the OPEN carries a capability with this code.
    #[must_use]
    pub fn has_capability(&self, code: CapabilityCode) -> bool {
        self.capabilities().any(|c| c.code() == code)
    }

    /// Decodes the body (after the header).
    pub(crate) fn decode_body(r: &mut Reader<'_>) -> Result<Self, OpenError> {
        // The framer guarantees length >= 29, i.e. the 10 fixed octets.
        let malformed = |r: &Reader<'_>| OpenError::MalformedParameters { offset: r.offset() };
        let version = r.u8().ok_or_else(|| malformed(r))?;
        // RFC 4271 §6.2: "If the version number in the Version field of the received OPEN
        // message is not supported, then the Error Subcode MUST be set to Unsupported Version
        // Number."
        if version != BGP_VERSION {
            return Err(OpenError::UnsupportedVersion { version });
        }
        let my_as = r.u16().ok_or_else(|| malformed(r))?;
        let hold_time = r.u16().ok_or_else(|| malformed(r))?;
        let bgp_id = Ipv4Addr::from(r.array::<4>().ok_or_else(|| malformed(r))?);
        // RFC 7607 §3: "If a BGP speaker receives zero as the peer AS in an OPEN message, it
        // MUST abort the connection and send a NOTIFICATION with Error Code "OPEN Message
        // Error" and subcode "Bad Peer AS"".
        if my_as == 0 {
            return Err(OpenError::BadPeerAs { asn: 0 });
        }
        // RFC 4271 §6.2: "An implementation MUST reject Hold Time values of one or two
        // seconds."
        if matches!(hold_time, 1 | 2) {
            return Err(OpenError::UnacceptableHoldTime { hold_time });
        }
        // RFC 6286 §2.1: the BGP Identifier is "a 4-octet, unsigned, non-zero integer"; RFC 4271
        // §6.2: "If the BGP Identifier field of the OPEN message is syntactically incorrect,
        // then the Error Subcode MUST be set to Bad BGP Identifier."
        if bgp_id.is_unspecified() {
            return Err(OpenError::BadBgpIdentifier { id: bgp_id });
        }
        let opt_len = r.u8().ok_or_else(|| malformed(r))?;
        let mut probe = r.clone();
        let extended = opt_len == 255 && probe.u8() == Some(ParamType::EXTENDED_LENGTH.0);
        let mut params_reader = if extended {
            // RFC 9072 §2: "If the value of the Non-Ext OP Type field is 255, then the
            // Extended Optional Parameters Length field ... follows".
            let _non_ext_type = r.u8();
            let len = r.u16().ok_or_else(|| malformed(r))?;
            r.sub(usize::from(len)).ok_or_else(|| malformed(r))?
        } else {
            r.sub(usize::from(opt_len)).ok_or_else(|| malformed(r))?
        };
        // Sub-reader rule: the parameters must fill the message exactly.
        if !r.is_empty() {
            return Err(malformed(r));
        }
        let mut params = Vec::new();
        while !params_reader.is_empty() {
            let offset = params_reader.offset();
            let param_type = ParamType(
                params_reader
                    .u8()
                    .ok_or_else(|| malformed(&params_reader))?,
            );
            let len = if extended {
                params_reader.u16().map(usize::from)
            } else {
                params_reader.u8().map(usize::from)
            }
            .ok_or(OpenError::MalformedParameters { offset })?;
            let mut value = params_reader
                .sub(len)
                .ok_or(OpenError::MalformedParameters { offset })?;
            // RFC 5492 §3 / RFC 4271 §6.2: "If one of the Optional Parameters in the OPEN
            // message is not recognized, then the Error Subcode MUST be set to Unsupported
            // Optional Parameters."
            if param_type != ParamType::CAPABILITIES {
                return Err(OpenError::UnsupportedOptionalParameter { param_type, offset });
            }
            let mut capabilities = Vec::new();
            while !value.is_empty() {
                let offset = value.offset();
                let code = CapabilityCode(
                    value
                        .u8()
                        .ok_or(OpenError::MalformedParameters { offset })?,
                );
                let len = value
                    .u8()
                    .ok_or(OpenError::MalformedCapability { code, offset })?;
                let mut cv = value
                    .sub(usize::from(len))
                    .ok_or(OpenError::MalformedCapability { code, offset })?;
                let cap = Capability::decode_value(code, &mut cv)
                    .ok_or(OpenError::MalformedCapability { code, offset })?;
                if let Capability::FourOctetAs(Asn(0)) = cap {
                    // RFC 7607 §3 applies to the 4-octet AS capability as well.
                    return Err(OpenError::BadPeerAs { asn: 0 });
                }
                capabilities.push(cap);
            }
            params.push(OptionalParam { capabilities });
        }
        Ok(Self {
            version,
            my_as,
            hold_time,
            bgp_id,
            params,
            extended_params: extended,
        })
    }

    /// Appends the body (after the header).
    pub(crate) fn encode_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u8(self.version);
        out.put_u16(self.my_as);
        out.put_u16(self.hold_time);
        out.put_slice(&self.bgp_id.octets());
        for cap in self.capabilities() {
            let length = cap.encoded_len() - 2;
            if length > 255 {
                return Err(EncodeError::FieldOverflow {
                    what: "capability",
                    length,
                });
            }
        }
        let short_len: usize = self
            .params
            .iter()
            .map(|p| {
                2 + p
                    .capabilities
                    .iter()
                    .map(Capability::encoded_len)
                    .sum::<usize>()
            })
            .sum();
        let any_long_param = self.params.iter().any(|p| {
            p.capabilities
                .iter()
                .map(Capability::encoded_len)
                .sum::<usize>()
                > 255
        });
        // RFC 9072 §3: "... a BGP speaker MAY use the extended format ... and MUST use it if the
        // total length of the Optional Parameters exceeds 255".
        let extended = self.extended_params || short_len > 255 || any_long_param;
        if extended {
            out.put_u8(255);
            out.put_u8(ParamType::EXTENDED_LENGTH.0);
            let pos = out.len();
            out.put_u16(0);
            for p in &self.params {
                out.put_u8(ParamType::CAPABILITIES.0);
                let ppos = out.len();
                out.put_u16(0);
                p.capabilities.iter().for_each(|c| c.encode(out));
                super::update::patch_u16(out, ppos, "optional parameter")?;
            }
            super::update::patch_u16(out, pos, "optional parameters")?;
        } else {
            // `short_len <= 255` in this branch.
            out.put_u8(u8::try_from(short_len).unwrap_or(u8::MAX));
            for p in &self.params {
                out.put_u8(ParamType::CAPABILITIES.0);
                let len: usize = p.capabilities.iter().map(Capability::encoded_len).sum();
                out.put_u8(u8::try_from(len).unwrap_or(u8::MAX));
                p.capabilities.iter().for_each(|c| c.encode(out));
            }
        }
        Ok(())
    }
}
