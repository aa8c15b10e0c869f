//! The session's only contact with the wire codec: building our OPEN from the configuration,
//! encoding KEEPALIVE / NOTIFICATION / UPDATE, and framing plus decoding the received stream.
//! Kept in one place so the state machine reads as the RFC's text, not as byte handling.

use bytes::BytesMut;
use std::net::Ipv4Addr;

use super::config::Config;
use crate::wire::{
    AddPathFamily, AddPathMode, Asn, Capability, DecodeCtx, DecodeError, EncodeCtx, EncodeError,
    Family, GracefulRestartFamily, HEADER_LEN, KEEPALIVE, MAX_MESSAGE_LEN, Message, Notification,
    Open, Update,
};

/// A received message, reduced to what the state machine distinguishes.
#[derive(Debug)]
pub(super) enum Incoming {
    Open(OpenInfo),
    Keepalive,
    Update(Update),
    Notification(Notification),
    /// ROUTE-REFRESH (the only other type the codec lets through).
    Other,
}

/// What the state machine needs from a received OPEN.
#[derive(Debug)]
pub(super) struct OpenInfo {
    /// The peer's AS: the 4-octet AS capability if present, else My Autonomous System.
    pub(super) asn: u32,
    /// Proposed hold time in seconds.
    pub(super) hold_time: u16,
    /// BGP Identifier.
    pub(super) id: Ipv4Addr,
    pub(super) capabilities: Capabilities,
}

/// The capabilities the peer announced that the session negotiates.
#[derive(Debug, Default)]
pub(super) struct Capabilities {
    /// Multiprotocol families (RFC 4760), in wire order.
    pub(super) families: Vec<Family>,
    /// The AS in the 4-octet AS capability (RFC 6793).
    pub(super) four_octet_as: Option<u32>,
    pub(super) route_refresh: bool,
    pub(super) extended_message: bool,
    /// The graceful restart capability (RFC 4724 §3): Restart Flags, Restart Time and the
    /// families listed (the last instance wins, as a capability repeated replaces).
    pub(super) graceful_restart: Option<(u8, u16, Vec<GracefulRestartFamily>)>,
    /// ADD-PATH tuples (RFC 7911 §4), first tuple per family; empty when the capability is
    /// absent or ignored.
    pub(super) add_path: Vec<AddPathFamily>,
}

impl OpenInfo {
    fn from_open(open: &Open) -> Self {
        let mut caps = Capabilities::default();
        for c in open.capabilities() {
            match c {
                Capability::Multiprotocol(f) if !caps.families.contains(f) => {
                    caps.families.push(*f);
                }
                Capability::RouteRefresh | Capability::EnhancedRouteRefresh => {
                    caps.route_refresh = true;
                }
                Capability::ExtendedMessage => caps.extended_message = true,
                Capability::GracefulRestart {
                    flags,
                    restart_time,
                    families,
                } => caps.graceful_restart = Some((*flags, *restart_time, families.clone())),
                Capability::FourOctetAs(asn) => caps.four_octet_as = Some(asn.0),
                Capability::AddPath(tuples) => {
                    // The codec has already refused a Send/Receive value other than 1, 2 or 3
                    // (OPEN Message Error, see `wire::Capability`); first tuple per family wins.
                    for t in tuples {
                        if !caps.add_path.iter().any(|c| c.family == t.family) {
                            caps.add_path.push(*t);
                        }
                    }
                }
                _ => {}
            }
        }
        Self {
            asn: open.asn().0,
            hold_time: open.hold_time,
            id: open.bgp_id,
            capabilities: caps,
        }
    }
}

/// The N bit of the graceful restart capability's Restart Flags (RFC 8538 §2).
pub(super) const GR_FLAG_NOTIFICATION: u8 = 0x4;

/// The Forwarding State bit of a family in the graceful restart capability (RFC 4724 §3).
pub(super) const GR_FAMILY_FORWARDING: u8 = 0x80;

/// Whether `mode` includes receiving multiple paths (Send/Receive 1 or 3, RFC 7911 §4).
const fn can_receive(mode: AddPathMode) -> bool {
    matches!(mode.0, 1 | 3)
}

/// Whether `mode` includes sending multiple paths (Send/Receive 2 or 3, RFC 7911 §4).
const fn can_send(mode: AddPathMode) -> bool {
    matches!(mode.0, 2 | 3)
}

/// The ADD-PATH families in force, from our configured tuples and the peer's: `(receive,
/// send)`, each in our configured order.
///
/// RFC 7911 §5: "For a BGP speaker to be able to send multiple paths to its peer, that BGP
/// speaker MUST advertise the ADD-PATH Capability with the Send/Receive field set to either 2
/// or 3, and MUST receive from its peer the ADD-PATH Capability with the Send/Receive field
/// set to either 1 or 3, for the corresponding <AFI, SAFI>." Receiving is the mirror image
/// ("The peer SHALL act accordingly in processing an UPDATE message"): we announced 1 or 3 and
/// the peer 2 or 3.
pub(super) fn add_path(
    ours: &[AddPathFamily],
    theirs: &[AddPathFamily],
) -> (Vec<Family>, Vec<Family>) {
    let mut receive = Vec::new();
    let mut send = Vec::new();
    for our in ours {
        let Some(their) = theirs.iter().find(|t| t.family == our.family) else {
            continue;
        };
        if can_receive(our.mode) && can_send(their.mode) && !receive.contains(&our.family) {
            receive.push(our.family);
        }
        if can_send(our.mode) && can_receive(their.mode) && !send.contains(&our.family) {
            send.push(our.family);
        }
    }
    (receive, send)
}

/// Frames the TCP byte stream into messages with [`crate::wire::Framer`] and decodes each,
/// with one shortcut. The 19 octets of a well-formed KEEPALIVE (the marker, Length 19, Type 4:
/// RFC 4271 §4.4, "a KEEPALIVE message consists of only the message header and has a length
/// of 19 octets") yield [`Incoming::Keepalive`] without building a [`Message`]: the general
/// path would accept exactly those octets as a KEEPALIVE under any context, so the result is
/// the same, and it is the message a session receives most.
#[derive(Debug, Clone, Default)]
pub(super) struct Framer {
    inner: crate::wire::Framer,
}

impl Framer {
    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.inner.handle_bytes(bytes);
    }

    /// Octets held for an incomplete message.
    pub(super) fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    /// Drops everything buffered (the connection is gone).
    pub(super) fn clear(&mut self) {
        self.inner.clear();
    }

    /// The next whole message, `Ok(None)` when more bytes are needed. After a header error
    /// the same error is returned again (the session closes on the first).
    pub(super) fn next(&mut self, ctx: &DecodeCtx) -> Result<Option<Incoming>, DecodeError> {
        let bytes = match self.inner.peek(ctx) {
            None => return Ok(None),
            Some(Err(header)) => return Err(header.into()),
            Some(Ok(bytes)) => bytes,
        };
        let len = bytes.len();
        // The framer checked the header, and only a KEEPALIVE may be 19 octets long (RFC 4271
        // §4.1: every other type has a body).
        if len == KEEPALIVE.len() {
            self.inner.consume(len);
            return Ok(Some(Incoming::Keepalive));
        }
        let message = Message::decode(bytes, ctx);
        self.inner.consume(len);
        Ok(Some(match message? {
            Message::Open(open) => Incoming::Open(OpenInfo::from_open(&open)),
            Message::Update(update) => Incoming::Update(update),
            Message::Notification(n) => Incoming::Notification(n),
            Message::Keepalive => Incoming::Keepalive,
            Message::RouteRefresh(_) => Incoming::Other,
        }))
    }
}

/// Our OPEN: version 4, our AS, the hold time, our identifier and the configured capabilities
/// (RFC 5492: one Capabilities parameter).
pub(super) fn open(config: &Config) -> Vec<u8> {
    let mut caps: Vec<Capability> = config
        .families
        .iter()
        .map(|f| Capability::Multiprotocol(*f))
        .collect();
    if config.route_refresh {
        caps.push(Capability::RouteRefresh);
    }
    if config.extended_message {
        caps.push(Capability::ExtendedMessage);
    }
    if let Some(restart) = config.graceful_restart {
        // RFC 4724 §3: Restart Time is 12 bits of seconds. The Restart State bit (0x8) is
        // never set: these sessions never restart their BGP process, they only lose
        // connections ("MUST NOT be set unless the Receiving Speaker is restarting", §4.2).
        // RFC 8538 §2: the N bit (0x4) says NOTIFICATIONs are handled gracefully too.
        let secs = u16::try_from(restart.as_secs().min(0x0fff)).unwrap_or(0x0fff);
        let flags = if config.graceful_restart_notification {
            GR_FLAG_NOTIFICATION
        } else {
            0
        };
        // Every family carried, with Forwarding State (0x80) set: a connection loss leaves
        // the router's forwarding as it was (§3: "the forwarding state has indeed been
        // preserved").
        let carried: &[Family] = if config.families.is_empty() {
            &[Family::IPV4_UNICAST]
        } else {
            &config.families
        };
        let families = carried
            .iter()
            .map(|f| GracefulRestartFamily {
                family: *f,
                flags: GR_FAMILY_FORWARDING,
            })
            .collect();
        caps.push(Capability::GracefulRestart {
            flags,
            restart_time: secs,
            families,
        });
    }
    if config.four_octet_as {
        caps.push(Capability::FourOctetAs(Asn(config.local_as)));
    }
    if !config.add_path.is_empty() {
        // RFC 7911 §4: "A BGP speaker that wishes to indicate support for multiple AFI/SAFIs
        // MUST do so by including the information in a single instance of the ADD-PATH
        // Capability."
        caps.push(Capability::AddPath(config.add_path.clone()));
    }
    // `Config::validate` keeps the hold time within 16 bits of seconds.
    let hold = u16::try_from(config.hold_time().as_secs()).unwrap_or(u16::MAX);
    let msg = Message::Open(Open::new(
        Asn(config.local_as),
        hold,
        config.router_id,
        caps,
    ));
    encode_fixed(&msg)
}

/// A KEEPALIVE: the 19-octet header alone (RFC 4271 §4.4), built without the general
/// encoder: the marker, Length 19 and Type 4. Sessions send one per keepalive interval, so
/// this is a hot path; `keepalive_is_the_encoded_message` pins it to the encoder's output.
pub(super) fn keepalive() -> Vec<u8> {
    let mut out = Vec::with_capacity(crate::wire::KEEPALIVE_LEN);
    out.extend_from_slice(&crate::wire::MARKER);
    out.extend_from_slice(&[0, 19, 4]);
    out
}

/// The most Data a NOTIFICATION can carry in a message of 4,096 octets (RFC 4271 §4.5: the
/// header, Error Code and Error Subcode, then Data).
pub(super) const MAX_NOTIFICATION_DATA: usize = MAX_MESSAGE_LEN - HEADER_LEN - 2;

/// A NOTIFICATION, its Data cut to [`MAX_NOTIFICATION_DATA`] octets. The Data of an error in an
/// extended message (RFC 8654) can be longer than that: the whole erroneous ROUTE-REFRESH (RFC
/// 7313 §5: "the Data field ... contains the complete ROUTE-REFRESH message") or attribute
/// (RFC 4271 §6.3). Such a NOTIFICATION did not encode, and the session closed without one;
/// cut, it fits a message every peer accepts, extended messages negotiated or not, and keeps
/// what the peer acts on: the code, the subcode and the start of the Data. RFC 4271 §6: "a
/// NOTIFICATION message with the indicated Error Code, Error Subcode, and Data fields, is
/// sent, and the BGP connection is closed".
pub(super) fn notification(n: &Notification) -> Vec<u8> {
    let mut n = n.clone();
    n.data.truncate(MAX_NOTIFICATION_DATA);
    encode_fixed(&Message::Notification(n))
}

/// An UPDATE under the negotiated context.
pub(super) fn update(update: Update, ctx: &EncodeCtx) -> Result<Vec<u8>, EncodeError> {
    let mut out = BytesMut::with_capacity(128);
    Message::Update(update).encode(&mut out, ctx)?;
    Ok(out.to_vec())
}

/// Encodes a message that always fits (OPEN, KEEPALIVE, NOTIFICATION of bounded data); should
/// the codec refuse it anyway, nothing is sent rather than a partial message.
fn encode_fixed(msg: &Message) -> Vec<u8> {
    // Room for an OPEN with a few capabilities or a short NOTIFICATION, so the buffer does
    // not grow while encoding.
    let mut out = BytesMut::with_capacity(128);
    match msg.encode(&mut out, &EncodeCtx::default()) {
        Ok(()) => out.to_vec(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_is_the_encoded_message() {
        let mut out = BytesMut::new();
        assert!(
            Message::Keepalive
                .encode(&mut out, &EncodeCtx::default())
                .is_ok()
        );
        assert_eq!(keepalive(), out.to_vec());
        assert_eq!(KEEPALIVE.to_vec(), out.to_vec());
    }

    #[test]
    fn framer_yields_keepalives_and_other_messages_in_stream_order() {
        let ctx = DecodeCtx::default();
        let mut notification = BytesMut::new();
        assert!(
            Message::Notification(Notification::hold_timer_expired())
                .encode(&mut notification, &EncodeCtx::default())
                .is_ok()
        );
        let mut stream = keepalive();
        stream.extend_from_slice(&notification);
        stream.extend_from_slice(&keepalive());
        let mut f = Framer::default();
        // Split inside the second message, then inside the last KEEPALIVE.
        f.push(&stream[..25]);
        assert!(matches!(f.next(&ctx), Ok(Some(Incoming::Keepalive))));
        assert!(matches!(f.next(&ctx), Ok(None)));
        f.push(&stream[25..stream.len() - 3]);
        assert!(matches!(f.next(&ctx), Ok(Some(Incoming::Notification(_)))));
        assert!(matches!(f.next(&ctx), Ok(None)));
        f.push(&stream[stream.len() - 3..]);
        assert!(matches!(f.next(&ctx), Ok(Some(Incoming::Keepalive))));
        assert!(matches!(f.next(&ctx), Ok(None)));
    }

    #[test]
    fn framer_rejects_a_keepalive_with_a_bad_length_every_time() {
        let ctx = DecodeCtx::default();
        let mut bad = keepalive();
        bad[17] = 20;
        bad.push(0);
        let mut f = Framer::default();
        f.push(&bad);
        assert!(f.next(&ctx).is_err());
        assert!(f.next(&ctx).is_err(), "the header error repeats");
    }
}
