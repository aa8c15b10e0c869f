//! Typed decode and encode errors, and their mapping onto NOTIFICATION messages.
//!
//! Errors are layered per message (`HeaderError`, `OpenError`, `UpdateError`,
//! `RouteRefreshError` inside `DecodeError`, holo `packet/error.rs`) and carry the byte offset
//! (from the first marker octet) and the offending value. Each maps, through
//! `impl From<&DecodeError> for Notification`, onto the exact code, subcode and data RFC 4271
//! §6.1–6.3 (and RFC 5492, 6793, 7313, 8654) prescribe.
//!
//! UPDATE path-attribute errors are classified per RFC 7606 into an [`AttrAction`]. Only
//! `SessionReset` makes decoding fail; "treat-as-withdraw" and "attribute discard" errors are
//! returned inside the decoded [`Update`](super::Update) (`Update::issues`) so the caller still
//! gets the NLRI to withdraw.

use std::net::Ipv4Addr;

use serde::Serialize;

use super::iana::{
    AttrType, CapabilityCode, HeaderSubcode, MessageType, OpenSubcode, ParamType,
    RouteRefreshSubcode, UpdateSubcode,
};
use super::notification::Notification;

/// Any error decoding a BGP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The 19-octet header is wrong (RFC 4271 §6.1).
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// An OPEN is wrong (RFC 4271 §6.2, RFC 5492, RFC 9072).
    #[error(transparent)]
    Open(#[from] OpenError),
    /// An UPDATE is wrong in a way that resets the session (RFC 4271 §6.3, RFC 7606).
    #[error(transparent)]
    Update(#[from] UpdateError),
    /// A ROUTE-REFRESH is wrong (RFC 7313 §5).
    #[error(transparent)]
    RouteRefresh(#[from] RouteRefreshError),
}

/// Message Header Error (RFC 4271 §6.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The marker is not all ones (RFC 4271 §6.1: "Connection Not Synchronized").
    #[error("marker is not all ones (octet {offset} is {value:#04x})")]
    ConnectionNotSynchronized {
        /// Offset of the first marker octet that is not 0xff.
        offset: usize,
        /// Its value.
        value: u8,
    },
    /// The Length field is out of range for the message type or the session (RFC 4271 §6.1,
    /// RFC 8654 §4).
    #[error("bad message length {length} for {msg_type} (allowed {min}..={max})")]
    BadLength {
        /// The Length field.
        length: u16,
        /// The message type.
        msg_type: MessageType,
        /// Smallest length allowed for this type.
        min: usize,
        /// Largest length allowed for this type on this session.
        max: usize,
    },
    /// The Type field is not a known message type (RFC 4271 §6.1: "Bad Message Type").
    #[error("bad message type {msg_type}")]
    BadType {
        /// The Type field.
        msg_type: MessageType,
    },
    /// [`Message::decode`](super::Message::decode) was given a buffer whose size differs from
    /// the header's Length field (not reachable through the framer, which cuts exact messages).
    #[error("buffer holds {available} octets but the header says {length}")]
    LengthMismatch {
        /// The Length field (0 when the buffer is shorter than a header).
        length: u16,
        /// Octets in the buffer.
        available: usize,
    },
}

/// OPEN Message Error (RFC 4271 §6.2, RFC 5492, RFC 6793, RFC 9072).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Version other than 4.
    #[error("unsupported BGP version {version}")]
    UnsupportedVersion {
        /// The Version field.
        version: u8,
    },
    /// My Autonomous System (or the 4-octet AS capability) is 0 (RFC 7607 §3).
    #[error("bad peer AS {asn}")]
    BadPeerAs {
        /// The AS number received.
        asn: u32,
    },
    /// BGP Identifier is 0.0.0.0 (RFC 6286 §2.1: "a non-zero 32-bit unsigned integer").
    #[error("bad BGP identifier {id}")]
    BadBgpIdentifier {
        /// The identifier received.
        id: Ipv4Addr,
    },
    /// Hold Time of 1 or 2 seconds (RFC 4271 §6.2: "MUST reject Hold Time values of one or
    /// two seconds").
    #[error("unacceptable hold time {hold_time}s")]
    UnacceptableHoldTime {
        /// The Hold Time field, in seconds.
        hold_time: u16,
    },
    /// An optional parameter other than Capabilities (RFC 4271 §6.2, RFC 5492 §3).
    #[error("unsupported optional parameter {param_type} at offset {offset}")]
    UnsupportedOptionalParameter {
        /// The parameter type.
        param_type: ParamType,
        /// Offset of the parameter.
        offset: usize,
    },
    /// The optional parameters do not fill exactly Opt Parm Len octets, or a parameter overruns
    /// them.
    #[error("malformed optional parameters at offset {offset}")]
    MalformedParameters {
        /// Offset where parsing failed.
        offset: usize,
    },
    /// A known capability has a value of the wrong length or content.
    #[error("malformed capability {code} at offset {offset}")]
    MalformedCapability {
        /// The capability code.
        code: CapabilityCode,
        /// Offset of the capability.
        offset: usize,
    },
}

/// UPDATE Message Error that resets the session (RFC 4271 §6.3 as revised by RFC 7606).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// Withdrawn Routes Length overruns the message (RFC 4271 §6.3: "Malformed Attribute
    /// List").
    #[error("withdrawn routes length {length} at offset {offset} overruns the message")]
    WithdrawnRoutesLength {
        /// Offset of the length field.
        offset: usize,
        /// The length field.
        length: u16,
    },
    /// Total Path Attribute Length overruns the message (RFC 4271 §6.3: "Malformed Attribute
    /// List"; RFC 7606 §4 only relaxes overruns *inside* the attribute list).
    #[error("total path attribute length {length} at offset {offset} overruns the message")]
    TotalAttributeLength {
        /// Offset of the length field.
        offset: usize,
        /// The length field.
        length: u16,
    },
    /// A prefix in the Withdrawn Routes or NLRI field is syntactically wrong (RFC 4271 §6.3:
    /// "Invalid Network Field"; RFC 7606 §5.3: such errors need a session reset since the NLRI
    /// cannot be reliably located).
    #[error("invalid network field at offset {offset}: {reason}")]
    InvalidNetworkField {
        /// Offset of the prefix.
        offset: usize,
        /// What is wrong.
        reason: NlriError,
    },
    /// A path attribute error whose RFC 7606 action is "session reset".
    #[error(transparent)]
    Attribute(#[from] AttributeError),
}

/// What is wrong with one encoded prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum NlriError {
    /// Length longer than the address (RFC 4271 §4.3).
    #[error("prefix length {length} exceeds {max}")]
    PrefixLength {
        /// The length octet.
        length: u8,
        /// Address width in bits.
        max: u8,
    },
    /// The prefix octets run past the end of the field.
    #[error("prefix truncated")]
    Truncated,
}

/// ROUTE-REFRESH Message Error (RFC 7313 §5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteRefreshError {
    /// Length other than 23 (RFC 7313 §5: "the Data field of the NOTIFICATION message MUST
    /// contain the complete ROUTE-REFRESH message").
    #[error("ROUTE-REFRESH length {length} is not 23")]
    InvalidLength {
        /// The message length.
        length: usize,
        /// The complete message, for the NOTIFICATION data.
        message: Vec<u8>,
    },
}

/// What RFC 7606 §2 tells a receiver to do about a malformed UPDATE, least severe first (so
/// the strongest action among several errors is their maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum AttrAction {
    /// "Attribute discard": drop the attribute, process the rest of the UPDATE.
    Discard,
    /// "Treat-as-withdraw": handle every route the UPDATE carries as withdrawn.
    TreatAsWithdraw,
    /// "Session reset": send the NOTIFICATION and close the session. (This codec always picks
    /// session reset where RFC 7606 allows "AFI/SAFI disable" as an alternative.)
    SessionReset,
}

/// An error in one path attribute, with its RFC 7606 action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("path attribute {type_code} at offset {offset}: {kind} ({action:?})")]
pub struct AttributeError {
    /// The attribute's type code.
    pub type_code: AttrType,
    /// Offset of the attribute's flags octet, from the first marker octet.
    pub offset: usize,
    /// The whole attribute as received (flags, type, length, value): the data RFC 4271 §6.3
    /// puts into most UPDATE NOTIFICATIONs. Empty when the attribute is absent or cannot be
    /// delimited.
    pub attribute: Vec<u8>,
    /// What is wrong.
    pub kind: AttributeErrorKind,
    /// What RFC 7606 says to do about it.
    pub action: AttrAction,
}

/// What is wrong with a path attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum AttributeErrorKind {
    /// Optional/Transitive bits conflict with the type code (RFC 4271 §6.3 "Attribute Flags
    /// Error").
    #[error("flags {flags:#04x} conflict with the type code")]
    Flags {
        /// The flags octet.
        flags: u8,
    },
    /// The length is wrong for the type (RFC 4271 §6.3 "Attribute Length Error").
    #[error("length {length} is invalid")]
    Length {
        /// The attribute length.
        length: usize,
    },
    /// ORIGIN value other than 0, 1, 2 (RFC 4271 §6.3 "Invalid ORIGIN Attribute").
    #[error("invalid ORIGIN value {value}")]
    InvalidOrigin {
        /// The value octet.
        value: u8,
    },
    /// NEXT_HOP is not a unicast address (RFC 4271 §6.3 "Invalid NEXT_HOP Attribute").
    #[error("invalid NEXT_HOP {next_hop}")]
    InvalidNextHop {
        /// The address received.
        next_hop: Ipv4Addr,
    },
    /// AS_PATH (or AS4_PATH) segment structure is wrong (RFC 7606 §7.2), or it contains AS 0
    /// (RFC 7607 §2).
    #[error("malformed AS path")]
    MalformedAsPath,
    /// A recognised optional attribute has a wrong value (RFC 4271 §6.3 "Optional Attribute
    /// Error"), e.g. AS 0 in AGGREGATOR or a bad MP_REACH_NLRI field.
    #[error("invalid optional attribute value")]
    Optional,
    /// The Optional bit is clear but the type code is unknown (RFC 4271 §6.3 "Unrecognized
    /// Well-known Attribute").
    #[error("unrecognized well-known attribute")]
    UnrecognizedWellKnown,
    /// A well-known mandatory attribute is absent (RFC 4271 §6.3 "Missing Well-known
    /// Attribute").
    #[error("missing well-known attribute")]
    Missing,
    /// The attribute appears a second time (RFC 7606 §3 (g)).
    #[error("duplicate attribute")]
    Duplicate,
    /// The attribute header or value runs past the Total Path Attribute Length (RFC 7606 §4).
    #[error("attribute overruns the path attribute field")]
    Overrun,
}

impl AttributeError {
    /// The NOTIFICATION RFC 4271 §6.3 prescribes for this error (sent only when the action is
    /// [`AttrAction::SessionReset`]; RFC 7606 §2 otherwise asks to log it).
    #[must_use]
    pub fn notification(&self) -> Notification {
        let attribute = || self.attribute.clone();
        match self.kind {
            AttributeErrorKind::Flags { .. } => {
                Notification::update(UpdateSubcode::ATTRIBUTE_FLAGS_ERROR, attribute())
            }
            AttributeErrorKind::Length { .. } => {
                Notification::update(UpdateSubcode::ATTRIBUTE_LENGTH_ERROR, attribute())
            }
            AttributeErrorKind::InvalidOrigin { .. } => {
                Notification::update(UpdateSubcode::INVALID_ORIGIN_ATTRIBUTE, attribute())
            }
            AttributeErrorKind::InvalidNextHop { .. } => {
                Notification::update(UpdateSubcode::INVALID_NEXT_HOP_ATTRIBUTE, attribute())
            }
            // RFC 4271 §6.3: "If the AS_PATH attribute is syntactically incorrect, then the Error
            // Subcode MUST be set to Malformed AS_PATH." (no data)
            AttributeErrorKind::MalformedAsPath => {
                Notification::update(UpdateSubcode::MALFORMED_AS_PATH, Vec::new())
            }
            AttributeErrorKind::Optional => {
                Notification::update(UpdateSubcode::OPTIONAL_ATTRIBUTE_ERROR, attribute())
            }
            AttributeErrorKind::UnrecognizedWellKnown => Notification::update(
                UpdateSubcode::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                attribute(),
            ),
            // RFC 4271 §6.3: "The Data field MUST contain the Attribute Type Code of the missing,
            // well-known attribute."
            AttributeErrorKind::Missing => Notification::update(
                UpdateSubcode::MISSING_WELL_KNOWN_ATTRIBUTE,
                vec![self.type_code.0],
            ),
            AttributeErrorKind::Duplicate | AttributeErrorKind::Overrun => {
                Notification::update(UpdateSubcode::MALFORMED_ATTRIBUTE_LIST, Vec::new())
            }
        }
    }
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The message would exceed the session's maximum length (RFC 4271 §4.1, RFC 8654).
    #[error("{msg_type} of {length} octets exceeds the maximum of {max}")]
    TooLong {
        /// Message type.
        msg_type: MessageType,
        /// Encoded length.
        length: usize,
        /// Session maximum.
        max: usize,
    },
    /// A length field would overflow (an attribute above 65,535 octets, optional parameters
    /// above 65,535, a capability above 255).
    #[error("{what} of {length} octets does not fit its length field")]
    FieldOverflow {
        /// Which field.
        what: &'static str,
        /// The length that did not fit.
        length: usize,
    },
}

impl From<&DecodeError> for Notification {
    /// The NOTIFICATION to send for a decode error (RFC 4271 §6).
    fn from(err: &DecodeError) -> Self {
        match err {
            DecodeError::Header(e) => e.into(),
            DecodeError::Open(e) => e.into(),
            DecodeError::Update(e) => e.into(),
            DecodeError::RouteRefresh(RouteRefreshError::InvalidLength { message, .. }) => {
                Self::route_refresh(RouteRefreshSubcode::INVALID_MESSAGE_LENGTH, message.clone())
            }
        }
    }
}

impl From<DecodeError> for Notification {
    fn from(err: DecodeError) -> Self {
        Self::from(&err)
    }
}

impl From<&HeaderError> for Notification {
    /// RFC 4271 §6.1.
    fn from(err: &HeaderError) -> Self {
        match *err {
            HeaderError::ConnectionNotSynchronized { .. } => {
                Self::header(HeaderSubcode::CONNECTION_NOT_SYNCHRONIZED, Vec::new())
            }
            // RFC 4271 §6.1: "The Data field MUST contain the erroneous Length field."
            HeaderError::BadLength { length, .. } | HeaderError::LengthMismatch { length, .. } => {
                Self::header(
                    HeaderSubcode::BAD_MESSAGE_LENGTH,
                    length.to_be_bytes().to_vec(),
                )
            }
            // RFC 4271 §6.1: "The Data field MUST contain the erroneous Type field."
            HeaderError::BadType { msg_type } => {
                Self::header(HeaderSubcode::BAD_MESSAGE_TYPE, vec![msg_type.0])
            }
        }
    }
}

impl From<&OpenError> for Notification {
    /// RFC 4271 §6.2.
    fn from(err: &OpenError) -> Self {
        match *err {
            // RFC 4271 §6.2: "The Data field is a 2-octet unsigned integer, which indicates the
            // largest, locally-supported version number less than the version the remote BGP
            // peer bid".
            OpenError::UnsupportedVersion { .. } => Self::open(
                OpenSubcode::UNSUPPORTED_VERSION_NUMBER,
                4u16.to_be_bytes().to_vec(),
            ),
            OpenError::BadPeerAs { .. } => Self::open(OpenSubcode::BAD_PEER_AS, Vec::new()),
            OpenError::BadBgpIdentifier { .. } => {
                Self::open(OpenSubcode::BAD_BGP_IDENTIFIER, Vec::new())
            }
            OpenError::UnacceptableHoldTime { .. } => {
                Self::open(OpenSubcode::UNACCEPTABLE_HOLD_TIME, Vec::new())
            }
            OpenError::UnsupportedOptionalParameter { .. } => {
                Self::open(OpenSubcode::UNSUPPORTED_OPTIONAL_PARAMETER, Vec::new())
            }
            // Neither RFC 4271 nor RFC 5492 names a subcode for a malformed parameter or
            // capability; RFC 9072 §3 and common practice use "Unspecific" (0).
            OpenError::MalformedParameters { .. } | OpenError::MalformedCapability { .. } => {
                Self::open(OpenSubcode::UNSPECIFIC, Vec::new())
            }
        }
    }
}

impl From<&UpdateError> for Notification {
    /// RFC 4271 §6.3.
    fn from(err: &UpdateError) -> Self {
        match err {
            UpdateError::WithdrawnRoutesLength { .. }
            | UpdateError::TotalAttributeLength { .. } => {
                Self::update(UpdateSubcode::MALFORMED_ATTRIBUTE_LIST, Vec::new())
            }
            UpdateError::InvalidNetworkField { .. } => {
                Self::update(UpdateSubcode::INVALID_NETWORK_FIELD, Vec::new())
            }
            UpdateError::Attribute(e) => e.notification(),
        }
    }
}
