//! # wire: the BGP-4 codec
//!
//! Messages are values: bytes decode into typed [`Message`]s and typed messages encode back
//! into bytes, under a [`DecodeCtx`] / [`EncodeCtx`] carrying what the session negotiated
//! (4-octet AS, ADD-PATH per family, extended messages). Nothing here keeps state except the
//! [`Framer`]'s byte buffer; `wire` depends on no other module of the crate.
//!
//! ## Contracts
//!
//! - **Exact.** Decoding then encoding with the same context gives the same bytes (attribute
//!   order and flags, optional-parameter grouping, MP attribute placement are kept). The one
//!   deliberate exception: NLRI trailing bits are cleared (RFC 4271 §4.3 calls them
//!   irrelevant).
//! - **Strict where the RFCs are strict.** Every decode error is typed, carries offsets and
//!   values, and maps to the NOTIFICATION of RFC 4271 §6 through
//!   `impl From<&DecodeError> for Notification`.
//! - **Forgiving where RFC 7606 is.** UPDATE attribute errors with the "treat-as-withdraw" or
//!   "attribute discard" outcome do not fail decoding; they come back in [`Update::issues`]
//!   with an [`AttrAction`].
//! - **Bounded.** The [`Framer`] rejects a bad header as soon as it is seen; nothing panics on
//!   peer input. Every read is bounds-checked (`reader.rs`, fixed-size loads); no parser
//!   combinator type appears in the API.
//!
//! ## Where to look
//!
//! | concept | file |
//! |---|---|
//! | header, framing | `header.rs`, `framing.rs` |
//! | messages | `message.rs`, `open.rs`, `update.rs`, `notification.rs`, `keepalive.rs`, `route_refresh.rs` |
//! | capabilities | `capability.rs` |
//! | path attributes, RFC 7606 | `attribute.rs`, `as_path.rs`, `community.rs` |
//! | prefixes, MP_REACH / MP_UNREACH | `nlri.rs` |
//! | code points | `iana.rs` |
//! | errors → NOTIFICATION | `error.rs` |

mod as_path;
mod attribute;
mod capability;
mod community;
mod ctx;
mod error;
mod framing;
mod header;
mod iana;
mod keepalive;
mod message;
mod nlri;
mod notification;
mod open;
mod reader;
mod route_refresh;
mod update;

pub use as_path::{AsPath, AsSegment, Asn, AsnList, SegmentList};
pub use attribute::{
    Aggregator, AttrFlags, AttrValue, Origin, PathAttribute, PathAttributes, RawAttribute,
};
pub use capability::{AddPathFamily, Capability, GracefulRestartFamily};
pub use community::{
    ClusterIdList, Community, CommunityList, ExtendedCommunity, ExtendedCommunityList,
    LargeCommunity, LargeCommunityList,
};
pub use ctx::{DecodeCtx, EncodeCtx, Family, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
pub use error::{
    AttrAction, AttributeError, AttributeErrorKind, DecodeError, EncodeError, HeaderError,
    NlriError, OpenError, RouteRefreshError, UpdateError,
};
pub use framing::{Frame, Framer, frame};
pub use header::{HEADER_LEN, Header, MARKER};
pub use iana::{
    AddPathMode, Afi, AttrType, CapabilityCode, CeaseSubcode, ErrorCode, FsmSubcode, HeaderSubcode,
    MessageType, OpenSubcode, ParamType, RouteRefreshSubcode, RouteRefreshType, Safi, SegmentType,
    UpdateSubcode,
};
pub use keepalive::{KEEPALIVE, KEEPALIVE_LEN};
pub use message::Message;
pub use nlri::{MpNextHop, MpReach, MpUnreach, Nlri, NlriList, Placement};
pub use notification::{MAX_SHUTDOWN_COMMUNICATION_LEN, Notification, ShutdownCommunicationError};
pub use open::{BGP_VERSION, Open, OptionalParam};
pub use route_refresh::RouteRefresh;
pub use update::{Update, pack};
