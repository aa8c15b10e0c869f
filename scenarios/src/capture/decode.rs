//! `holdtime decode`: BGP messages out of pcap, pcapng and MRT files (optionally gzip).
//!
//! Captures: every TCP segment to or from port 179 (IPv4 or IPv6, any number of VLAN tags) is
//! put into its direction's stream by sequence number: duplicates and retransmissions are
//! trimmed, out-of-order segments wait until the gap fills, a SYN starts a fresh stream. The
//! in-order bytes go through the wire framer ([`bgp::wire::frame`]) and each whole message is
//! decoded under the context both OPENs negotiated (4-octet AS, ADD-PATH, extended messages;
//! before any OPEN is seen, e.g. a capture started mid-session, 4-octet AS and extended
//! messages are assumed, as every current implementation negotiates them). A stream that does
//! not start with its SYN is synchronised on the first BGP marker.
//!
//! Real captures hold what the simulator never makes, and the reassembly is built for it:
//! several messages in one segment and messages split across segments (framing works on the
//! stream, not on segments); TCP options (skipped by the data offset); checksums left for the
//! NIC to fill in (offload: not verified, as Wireshark does by default); segments the
//! capture dropped or the snap length cut. Those last are holes: when the other end
//! acknowledges octets the capture never showed, or the IP length announces more than was
//! captured, the hole is reported as a [`Problem::CaptureGap`] (a failure: the message in it
//! is lost), the partial message before it dropped, and decoding resumes at the next marker.
//!
//! MRT: each BGP4MP message record holds one whole message; the subtype gives the context.
//!
//! # Contracts
//!
//! - Nothing here panics on any input; every failure becomes an [`Event::Problem`] or a
//!   [`MessageItem`] whose `result` is the [`DecodeError`], with the frame or record number.
//! - After a bad header the stream resynchronises on the next marker; decoding goes on.
//! - `check_roundtrip` re-encodes each decoded message with the same context and compares.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::IpAddr;

use bgp::wire::{
    Capability, DecodeCtx, DecodeError, EncodeCtx, Family, Frame, MARKER, Message, Notification,
    Open, frame,
};
use serde::Serialize;

use super::mrt::{self, MrtError, Record};
use super::packet::{self, ParseError, Parsed};
use super::pcap::{self, CaptureError};

/// TCP flag bits.
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;
/// Out-of-order bytes kept per stream while waiting for a gap to fill.
const MAX_PENDING: usize = 16 << 20;
/// The BGP port.
const BGP_PORT: u16 = 179;

/// What to do besides decoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Re-encode every decoded message and compare with the original bytes.
    pub check_roundtrip: bool,
}

/// One end of a message's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Endpoint {
    /// Address.
    pub ip: IpAddr,
    /// TCP port (`None` in MRT, which records no ports).
    pub port: Option<u16>,
}

impl core::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match (self.ip, self.port) {
            (IpAddr::V4(a), Some(p)) => write!(f, "{a}:{p}"),
            (IpAddr::V6(a), Some(p)) => write!(f, "[{a}]:{p}"),
            (a, None) => write!(f, "{a}"),
        }
    }
}

/// The outcome of re-encoding a decoded message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundTrip {
    /// Byte for byte the same.
    Same,
    /// Different: the first differing offset and both lengths.
    Differs {
        /// First offset where the bytes differ (or the shorter length).
        offset: usize,
        /// Original length.
        original: usize,
        /// Re-encoded length.
        encoded: usize,
    },
    /// The encoder refused the decoded value.
    EncodeFailed(String),
}

/// One BGP message found in the input (decoded or not).
#[derive(Debug, Clone)]
pub struct MessageItem {
    /// Frame number (captures) or record number (MRT) where the message ended.
    pub number: u64,
    /// Time, nanoseconds since the Unix epoch.
    pub unix_nanos: i128,
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// The message octets (for a bad header: what was available of it).
    pub bytes: Vec<u8>,
    /// The decoded message, or the error (whose NOTIFICATION is `Notification::from(&err)`).
    pub result: Result<Message, DecodeError>,
    /// Set when round-trip checking was asked for and the message decoded.
    pub roundtrip: Option<RoundTrip>,
    /// For a well-formed message that a receiver must nevertheless refuse (an OPEN with a
    /// Hold Time of 1 or 2 seconds, RFC 4271 §6.2): the NOTIFICATION it would answer with.
    /// The message is decoded and counted like any other, as tshark counts it.
    pub refused: Option<Notification>,
}

/// Something that is not a BGP message but went wrong, or is worth a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A frame or record that could not be read.
    Problem {
        /// Frame or record number (0: the file as a whole).
        number: u64,
        /// What went wrong.
        error: Problem,
    },
    /// An MRT state change record.
    State {
        /// Record number.
        number: u64,
        /// Time, nanoseconds since the Unix epoch.
        unix_nanos: i128,
        /// The peer.
        peer: Endpoint,
        /// The local end whose FSM changed.
        local: Endpoint,
        /// Old state (RFC 6396 §4.4.1 numbering).
        old: u16,
        /// New state.
        new: u16,
    },
}

/// What went wrong with a frame or record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The capture file's structure.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// A frame's headers.
    #[error(transparent)]
    Packet(#[from] ParseError),
    /// An MRT record.
    #[error(transparent)]
    Mrt(#[from] MrtError),
    /// A frame of a link type this decoder does not read.
    #[error("unsupported link type")]
    LinkType,
    /// Octets of a TCP stream the capture does not hold: the other end acknowledged them, or
    /// the snap length cut them off. The message they belonged to is lost; decoding resumes
    /// at the next BGP marker.
    #[error(
        "{octets} octets of the TCP stream {flow} are not in the capture; resuming at the next BGP marker"
    )]
    CaptureGap {
        /// The direction, `source > destination`.
        flow: String,
        /// How many octets are missing.
        octets: u64,
    },
}

/// Why a file could not be decoded at all.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// gzip decompression failed.
    #[error("gzip: {0}")]
    Gzip(std::io::Error),
    /// The decompressed data exceeds [`crate::input::MAX_CAPTURE_BYTES`].
    #[error(
        "gzip: decompresses to more than {}, the most a capture or MRT file may have",
        crate::input::show_size(crate::input::MAX_CAPTURE_BYTES)
    )]
    GzipTooLarge,
    /// Neither pcap, pcapng nor MRT.
    #[error("not a pcap, pcapng or MRT file")]
    Unknown,
    /// The capture's file header is unreadable.
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

/// Counts of a whole decode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Input octets (after decompression).
    pub bytes: u64,
    /// Frames or records read.
    pub frames: u64,
    /// BGP messages found (decoded or not).
    pub messages: u64,
    /// Decoded messages by type name.
    pub by_type: BTreeMap<String, u64>,
    /// Messages that failed to decode, and unreadable frames or records.
    pub failed: u64,
    /// Messages whose re-encoding differs (with `check_roundtrip`).
    pub roundtrip_differs: u64,
    /// Well-formed messages a receiver would refuse (see [`MessageItem::refused`]); they are
    /// counted in `by_type` too.
    pub refused: u64,
    /// TCP segments whose data had been seen already (retransmissions).
    pub retransmitted_segments: u64,
}

impl Summary {
    /// Whether everything decoded (and re-encoded the same, when checked).
    #[must_use]
    pub const fn ok(&self) -> bool {
        self.failed == 0 && self.roundtrip_differs == 0
    }
}

/// Decompresses gzip input (detected by its magic, RFC 1952 §2.3.1), or borrows it as is.
/// The output is bounded like a file read ([`crate::input::MAX_CAPTURE_BYTES`]): a small
/// gzip stream can expand a thousandfold.
///
/// # Errors
///
/// [`FileError::Gzip`] when the gzip stream is corrupt, [`FileError::GzipTooLarge`] when it
/// decompresses to more than the bound.
pub fn gunzip(data: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, FileError> {
    gunzip_bounded(data, crate::input::MAX_CAPTURE_BYTES)
}

fn gunzip_bounded(data: &[u8], limit: u64) -> Result<std::borrow::Cow<'_, [u8]>, FileError> {
    if data.starts_with(&[0x1F, 0x8B]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(data)
            .take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(FileError::Gzip)?;
        if u64::try_from(out.len()).unwrap_or(u64::MAX) > limit {
            return Err(FileError::GzipTooLarge);
        }
        Ok(out.into())
    } else {
        Ok(data.into())
    }
}

/// Decodes a whole file held in memory, handing every message and event to the sinks.
///
/// # Errors
///
/// A [`FileError`] when the input is not a readable capture or MRT file at all; problems
/// inside the file are events instead.
pub fn decode(
    data: &[u8],
    opts: Options,
    on_message: &mut dyn FnMut(MessageItem),
    on_event: &mut dyn FnMut(Event),
) -> Result<Summary, FileError> {
    let data = gunzip(data)?;
    let mut summary = Summary {
        bytes: u64::try_from(data.len()).unwrap_or(u64::MAX),
        ..Summary::default()
    };
    let mut sink = Sink {
        opts,
        summary: &mut summary,
        on_message,
        on_event,
    };
    if pcap::is_capture(&data) {
        decode_capture(&data, &mut sink)?;
    } else if mrt::is_mrt(&data) {
        decode_mrt(&data, &mut sink);
    } else {
        return Err(FileError::Unknown);
    }
    Ok(summary)
}

struct Sink<'s> {
    opts: Options,
    summary: &'s mut Summary,
    on_message: &'s mut dyn FnMut(MessageItem),
    on_event: &'s mut dyn FnMut(Event),
}

impl Sink<'_> {
    fn problem(&mut self, number: u64, error: Problem) {
        self.summary.failed += 1;
        (self.on_event)(Event::Problem { number, error });
    }

    fn message(
        &mut self,
        number: u64,
        unix_nanos: i128,
        (src, dst): (Endpoint, Endpoint),
        bytes: &[u8],
        result: Result<Message, DecodeError>,
        ctx: &DecodeCtx,
    ) {
        let (result, refused) = accept_refused(bytes, result, ctx);
        self.summary.messages += 1;
        let roundtrip = match &result {
            Ok(m) => {
                *self
                    .summary
                    .by_type
                    .entry(type_name(m).to_owned())
                    .or_insert(0) += 1;
                self.opts.check_roundtrip.then(|| roundtrip(m, bytes, ctx))
            }
            Err(_) => {
                self.summary.failed += 1;
                None
            }
        };
        if roundtrip.as_ref().is_some_and(|r| *r != RoundTrip::Same) {
            self.summary.roundtrip_differs += 1;
        }
        if refused.is_some() {
            self.summary.refused += 1;
        }
        (self.on_message)(MessageItem {
            number,
            unix_nanos,
            src,
            dst,
            bytes: bytes.to_vec(),
            result,
            roundtrip,
            refused,
        });
    }
}

fn roundtrip(m: &Message, original: &[u8], ctx: &DecodeCtx) -> RoundTrip {
    match m.to_bytes(&EncodeCtx::from(ctx)) {
        Ok(enc) if enc.as_ref() == original => RoundTrip::Same,
        Ok(enc) => RoundTrip::Differs {
            offset: enc
                .iter()
                .zip(original)
                .position(|(a, b)| a != b)
                .unwrap_or(enc.len().min(original.len())),
            original: original.len(),
            encoded: enc.len(),
        },
        Err(e) => RoundTrip::EncodeFailed(e.to_string()),
    }
}

/// The type's name as RFC 4271 §4.1 spells it.
#[must_use]
pub const fn type_name(m: &Message) -> &'static str {
    match m {
        Message::Open(_) => "OPEN",
        Message::Update(_) => "UPDATE",
        Message::Notification(_) => "NOTIFICATION",
        Message::Keepalive => "KEEPALIVE",
        Message::RouteRefresh(_) => "ROUTE-REFRESH",
    }
}

fn decode_mrt(data: &[u8], sink: &mut Sink<'_>) {
    for entry in mrt::Reader::new(data) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let n = sink.summary.frames + 1;
                sink.problem(n, e.into());
                break;
            }
        };
        sink.summary.frames += 1;
        match entry.record {
            Err(e) => sink.problem(entry.number, e.into()),
            Ok(Record::Message {
                peering,
                four_octet_as,
                add_path,
                bytes,
            }) => {
                let ctx = DecodeCtx {
                    four_octet_as,
                    add_path: if add_path {
                        vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]
                    } else {
                        Vec::new()
                    },
                    // MRT does not record whether RFC 8654 was negotiated: accept both sizes.
                    extended_message: true,
                };
                let ends = (
                    Endpoint {
                        ip: peering.peer_ip,
                        port: None,
                    },
                    Endpoint {
                        ip: peering.local_ip,
                        port: None,
                    },
                );
                let result = Message::decode(bytes, &ctx);
                sink.message(entry.number, entry.unix_nanos, ends, bytes, result, &ctx);
            }
            Ok(Record::StateChange { peering, old, new }) => {
                (sink.on_event)(Event::State {
                    number: entry.number,
                    unix_nanos: entry.unix_nanos,
                    peer: Endpoint {
                        ip: peering.peer_ip,
                        port: None,
                    },
                    local: Endpoint {
                        ip: peering.local_ip,
                        port: None,
                    },
                    old,
                    new,
                });
            }
            Ok(Record::Other { .. }) => {}
        }
    }
}

/// A TCP direction: source and destination.
type FlowKey = (Endpoint, Endpoint);

#[derive(Debug, Default)]
struct Stream {
    /// Sequence number of the next in-order octet (`None` before any segment).
    next_seq: Option<u32>,
    /// Stream offset of `next_seq`.
    next_off: u64,
    /// In-order octets not yet framed.
    buf: Vec<u8>,
    /// Out-of-order segments by stream offset.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_len: usize,
    /// `buf` starts at a message boundary.
    synced: bool,
    /// Sequence number of this direction's FIN, once seen (it occupies one number).
    fin: Option<u32>,
    /// This direction's OPEN (its sender's capabilities).
    open: Option<Open>,
    /// The context for decoding this direction.
    ctx: DecodeCtx,
}

fn unknown_ctx() -> DecodeCtx {
    DecodeCtx {
        four_octet_as: true,
        add_path: Vec::new(),
        extended_message: true,
    }
}

impl Stream {
    fn fresh(&mut self, next_seq: u32, synced: bool) {
        *self = Self {
            next_seq: Some(next_seq),
            synced,
            ctx: unknown_ctx(),
            ..Self::default()
        };
    }

    /// Adds a segment's payload; returns whether it carried only octets seen before.
    fn add(&mut self, seq: u32, payload: &[u8]) -> bool {
        let Some(next_seq) = self.next_seq else {
            return false;
        };
        if payload.is_empty() {
            return false;
        }
        let delta = i64::from(seq.wrapping_sub(next_seq).cast_signed());
        let off = i64::try_from(self.next_off).unwrap_or(i64::MAX) + delta;
        let len = i64::try_from(payload.len()).unwrap_or(i64::MAX);
        let next = i64::try_from(self.next_off).unwrap_or(i64::MAX);
        if off + len <= next {
            return true;
        }
        if off <= next {
            let skip = usize::try_from(next - off).unwrap_or(0);
            self.append(payload.get(skip..).unwrap_or_default());
        } else if self.pending_len + payload.len() <= MAX_PENDING {
            let key = u64::try_from(off).unwrap_or(0);
            let slot = self.pending.entry(key).or_default();
            if slot.len() < payload.len() {
                self.pending_len += payload.len() - slot.len();
                *slot = payload.to_vec();
            }
        }
        self.drain_pending();
        false
    }

    /// Moves waiting segments that now continue the stream into `buf`.
    fn drain_pending(&mut self) {
        while let Some(entry) = self.pending.first_entry() {
            let at = *entry.key();
            if at > self.next_off {
                break;
            }
            let seg = entry.remove();
            self.pending_len = self.pending_len.saturating_sub(seg.len());
            let skip = usize::try_from(self.next_off - at).unwrap_or(usize::MAX);
            if let Some(tail) = seg.get(skip..) {
                self.append(tail);
            }
        }
    }

    /// Gives up on the first hole before sequence number `upto` that the capture does not
    /// hold (octets acknowledged by the other end, or cut by the snap length): drops the
    /// partial message before it, skips it, moves the waiting segments after it into `buf`
    /// and resynchronises on the next marker. Returns the octets skipped (0: no hole). Call
    /// again after framing `buf` until it returns 0: several holes may lie before `upto`.
    fn skip_to(&mut self, upto: u32) -> u64 {
        let Some(next_seq) = self.next_seq else {
            return 0;
        };
        let ahead = upto.wrapping_sub(next_seq).cast_signed();
        // The other end acknowledges our FIN with its sequence number plus one (RFC 9293
        // §3.4: "the FIN ... occupies one sequence number"): not a missing octet.
        let fin_acked = self.fin == Some(next_seq) && ahead == 1;
        if ahead <= 0 || fin_acked {
            return 0;
        }
        let target = self.next_off + u64::from(ahead.unsigned_abs());
        let hole_end = self
            .pending
            .keys()
            .next()
            .map_or(target, |&k| k.min(target));
        let n = hole_end.saturating_sub(self.next_off);
        if n > 0 {
            self.buf.clear();
            self.synced = false;
            self.next_off = hole_end;
            let n32 = u32::try_from(n).unwrap_or(u32::MAX);
            self.next_seq = Some(next_seq.wrapping_add(n32));
        }
        self.drain_pending();
        n
    }

    fn append(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        let n = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.next_seq = self.next_seq.map(|s| s.wrapping_add(n));
        self.next_off += u64::from(n);
    }
}

/// The context for messages from the sender of `s` to the sender of `r`.
fn negotiate(s: &Open, r: &Open) -> DecodeCtx {
    let four = |o: &Open| {
        o.capabilities()
            .any(|c| matches!(c, Capability::FourOctetAs(_)))
    };
    let ext = |o: &Open| {
        o.capabilities()
            .any(|c| matches!(c, Capability::ExtendedMessage))
    };
    let modes = |o: &Open| -> Vec<(Family, u8)> {
        o.capabilities()
            .filter_map(|c| match c {
                Capability::AddPath(f) => Some(f.iter().map(|a| (a.family, a.mode.0))),
                _ => None,
            })
            .flatten()
            .collect()
    };
    let recv = modes(r);
    // RFC 7911 §4: the sender sends path identifiers for a family when it announced "send"
    // (2 or 3) and the receiver "receive" (1 or 3).
    let add_path = modes(s)
        .into_iter()
        .filter(|(f, m)| m & 2 != 0 && recv.iter().any(|(g, n)| g == f && n & 1 != 0))
        .map(|(f, _)| f)
        .collect();
    DecodeCtx {
        four_octet_as: four(s) && four(r),
        add_path,
        // RFC 8654 §3: only when both sides announced the capability.
        extended_message: ext(s) && ext(r),
    }
}

fn decode_capture(data: &[u8], sink: &mut Sink<'_>) -> Result<(), FileError> {
    let mut reader = pcap::Reader::new(data)?;
    let mut streams: BTreeMap<FlowKey, Stream> = BTreeMap::new();
    while let Some(p) = reader.next_packet() {
        let p = match p {
            Ok(p) => p,
            Err(e) => {
                let n = sink.summary.frames + 1;
                sink.problem(n, e.into());
                break;
            }
        };
        sink.summary.frames += 1;
        let Some(link) = p.link else {
            sink.problem(p.number, Problem::LinkType);
            continue;
        };
        let tcp = match packet::parse(link, p.data) {
            Ok(Parsed::Tcp(t)) => t,
            Ok(Parsed::Other) => continue,
            Err(e) => {
                sink.problem(p.number, e.into());
                continue;
            }
        };
        if tcp.src_port != BGP_PORT && tcp.dst_port != BGP_PORT {
            continue;
        }
        let key = (
            Endpoint {
                ip: tcp.src,
                port: Some(tcp.src_port),
            },
            Endpoint {
                ip: tcp.dst,
                port: Some(tcp.dst_port),
            },
        );
        let at = (p.number, p.unix_nanos);
        // What this segment acknowledges, the other direction sent: octets of it the capture
        // never showed are a hole to skip, or that stream would wait for them forever.
        if tcp.flags & ACK != 0 {
            fill_holes(&mut streams, (key.1, key.0), tcp.ack, at, sink);
        }
        let stream = streams.entry(key).or_default();
        if tcp.flags & SYN != 0 {
            stream.fresh(tcp.seq.wrapping_add(1), true);
            continue;
        }
        if tcp.flags & RST != 0 && tcp.payload.is_empty() {
            continue;
        }
        if stream.next_seq.is_none() {
            stream.fresh(tcp.seq, false);
        }
        let len = u32::try_from(tcp.payload.len() + tcp.missing).unwrap_or(u32::MAX);
        let end = tcp.seq.wrapping_add(len);
        if tcp.flags & FIN != 0 {
            stream.fin = Some(end);
        }
        if stream.add(tcp.seq, tcp.payload) {
            sink.summary.retransmitted_segments += 1;
        }
        deliver(&mut streams, key, at, sink);
        if tcp.missing > 0 {
            fill_holes(&mut streams, key, end, at, sink);
        }
    }
    Ok(())
}

/// Skips the holes of `key`'s stream before sequence number `upto` (see [`Stream::skip_to`]),
/// reporting each, and decodes what follows them.
fn fill_holes(
    streams: &mut BTreeMap<FlowKey, Stream>,
    key: FlowKey,
    upto: u32,
    at: (u64, i128),
    sink: &mut Sink<'_>,
) {
    loop {
        let Some(stream) = streams.get_mut(&key) else {
            return;
        };
        let octets = stream.skip_to(upto);
        if octets == 0 {
            return;
        }
        let flow = format!("{} > {}", key.0, key.1);
        sink.problem(at.0, Problem::CaptureGap { flow, octets });
        deliver(streams, key, at, sink);
    }
}

/// Decodes the whole messages `key`'s stream holds; an OPEN sets the context of both
/// directions once both sides' OPENs are known.
fn deliver(
    streams: &mut BTreeMap<FlowKey, Stream>,
    key: FlowKey,
    (number, unix_nanos): (u64, i128),
    sink: &mut Sink<'_>,
) {
    let Some(stream) = streams.get_mut(&key) else {
        return;
    };
    let Some(open) = frame_stream(stream, key, number, unix_nanos, sink) else {
        return;
    };
    let rev = (key.1, key.0);
    let their = streams.get(&rev).and_then(|s| s.open.clone());
    if let Some(theirs) = their {
        let ctx_fwd = negotiate(&open, &theirs);
        let ctx_rev = negotiate(&theirs, &open);
        if let Some(s) = streams.get_mut(&rev) {
            s.ctx = ctx_rev;
        }
        if let Some(s) = streams.get_mut(&key) {
            s.ctx = ctx_fwd;
        }
    }
    if let Some(s) = streams.get_mut(&key) {
        s.open = Some(open);
    }
}

/// Frames and decodes whatever whole messages `stream` holds; returns the last OPEN decoded.
fn frame_stream(
    stream: &mut Stream,
    key: FlowKey,
    number: u64,
    unix_nanos: i128,
    sink: &mut Sink<'_>,
) -> Option<Open> {
    let mut start = 0;
    let mut opened = None;
    loop {
        let buf = stream.buf.get(start..).unwrap_or_default();
        if !stream.synced {
            match buf.windows(MARKER.len()).position(|w| w == MARKER) {
                Some(i) => {
                    start += i;
                    stream.synced = true;
                    continue;
                }
                None => {
                    start += buf.len().saturating_sub(MARKER.len() - 1);
                    break;
                }
            }
        }
        match frame(buf, &stream.ctx) {
            Ok(Frame::Incomplete { .. }) => break,
            Ok(Frame::Complete { len }) => {
                let bytes = buf.get(..len).unwrap_or_default();
                let result = Message::decode(bytes, &stream.ctx);
                if let Ok(Message::Open(o)) = &result {
                    opened = Some(o.clone());
                }
                let ctx = stream.ctx.clone();
                sink.message(number, unix_nanos, key, bytes, result, &ctx);
                start += len;
            }
            Err(e) => {
                let shown = buf.get(..buf.len().min(19)).unwrap_or_default();
                let ctx = stream.ctx.clone();
                sink.message(number, unix_nanos, key, shown, Err(e.into()), &ctx);
                // Resynchronise on the next marker after this one.
                start += 1;
                stream.synced = false;
            }
        }
    }
    stream.buf.drain(..start.min(stream.buf.len()));
    opened
}

/// A message the decoder refused although it is well-formed, decoded anyway, with the
/// NOTIFICATION a receiver would answer. RFC 4271 §6.2 lists what a receiver checks in a
/// well-formed OPEN and the subcode it answers with; of those, the codec refuses on its own:
///
/// - My Autonomous System 0, or a 4-octet AS capability of 0 (RFC 7607 §3: "MUST abort the
///   connection and send a NOTIFICATION with ... Bad Peer AS"): 2/2;
/// - a BGP Identifier of 0.0.0.0 (RFC 6286 §2.1: "a 4-octet, unsigned, non-zero integer";
///   RFC 4271 §6.2: "the Error Subcode MUST be set to Bad BGP Identifier"): 2/3;
/// - a Hold Time of 1 or 2 seconds (RFC 4271 §6.2: "MUST reject"): 2/6 Unacceptable Hold Time.
///
/// Each of these is a field value, not a framing problem: the message parses, and tshark
/// decodes and counts it. So does `holdtime decode`: the refused fields are set to acceptable
/// values in a copy, the copy decoded, and the received values put back, so the OPEN shows
/// (and re-encodes to) what was sent. The answer is the NOTIFICATION of the first refusal the
/// codec meets, in its order (AS, hold time, identifier, then the capabilities).
fn accept_refused(
    bytes: &[u8],
    result: Result<Message, DecodeError>,
    ctx: &DecodeCtx,
) -> (Result<Message, DecodeError>, Option<Notification>) {
    let notification = match &result {
        Err(e @ DecodeError::Open(o)) if refusal(o).is_some() => Notification::from(e),
        _ => return (result, None),
    };
    let mut patched = bytes.to_vec();
    let mut put_back = PutBack::default();
    // Each round fixes one more field (or gives up): My AS, Hold Time, BGP Identifier and
    // each 4-octet AS capability, at most one per 6 octets of the message.
    for _ in 0..4 + bytes.len() / 6 {
        match Message::decode(&patched, ctx) {
            Ok(Message::Open(mut open)) => {
                put_back.apply(&mut open);
                return (Ok(Message::Open(open)), Some(notification));
            }
            Err(DecodeError::Open(e)) => {
                let fixed = refusal(&e).and_then(|f| put_back.patch(f, &e, &mut patched));
                if fixed.is_none() {
                    break;
                }
            }
            _ => break,
        }
    }
    (result, None)
}

/// The offsets in an OPEN (after the 19-octet header): My AS, Hold Time, BGP Identifier, Opt
/// Parm Len (RFC 4271 §4.2).
const MY_AS_AT: usize = 20;
const HOLD_AT: usize = 22;
const BGP_ID_AT: usize = 24;
const OPT_LEN_AT: usize = 28;

/// A field of a well-formed OPEN that a receiver refuses (see [`accept_refused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    /// AS 0: in My Autonomous System or in the 4-octet AS capability (2/2).
    PeerAs,
    /// BGP Identifier 0.0.0.0 (2/3).
    BgpIdentifier,
    /// Hold Time 1 or 2 (2/6).
    HoldTime,
}

/// Which refused field an OPEN decoding error is about; `None` for a malformed message.
const fn refusal(e: &bgp::wire::OpenError) -> Option<Refused> {
    use bgp::wire::OpenError;
    match e {
        OpenError::BadPeerAs { .. } => Some(Refused::PeerAs),
        OpenError::BadBgpIdentifier { .. } => Some(Refused::BgpIdentifier),
        OpenError::UnacceptableHoldTime { .. } => Some(Refused::HoldTime),
        _ => None,
    }
}

/// The received values of the fields patched to decode a refused OPEN.
#[derive(Debug, Default)]
struct PutBack {
    my_as: bool,
    hold_time: Option<u16>,
    bgp_id: bool,
    /// Which 4-octet AS capabilities (among those in wire order) were 0.
    as4: Vec<usize>,
}

impl PutBack {
    /// Sets the field `e` is about to an acceptable value in `bytes`; `None` when it cannot.
    fn patch(&mut self, f: Refused, e: &bgp::wire::OpenError, bytes: &mut [u8]) -> Option<()> {
        match f {
            Refused::PeerAs if bytes.get(MY_AS_AT..MY_AS_AT + 2)? == [0, 0] && !self.my_as => {
                bytes
                    .get_mut(MY_AS_AT..MY_AS_AT + 2)?
                    .copy_from_slice(&[0, 1]);
                self.my_as = true;
            }
            Refused::PeerAs => {
                // Patched capabilities read 1 now: this finds the next one that is 0.
                let (at, ordinal) = zero_as4_capability(bytes)?;
                bytes.get_mut(at..at + 4)?.copy_from_slice(&[0, 0, 0, 1]);
                self.as4.push(ordinal);
            }
            Refused::HoldTime if self.hold_time.is_none() => {
                let bgp::wire::OpenError::UnacceptableHoldTime { hold_time } = *e else {
                    return None;
                };
                // Zero is an acceptable Hold Time (no hold timer).
                bytes
                    .get_mut(HOLD_AT..HOLD_AT + 2)?
                    .copy_from_slice(&[0, 0]);
                self.hold_time = Some(hold_time);
            }
            Refused::BgpIdentifier if !self.bgp_id => {
                bytes
                    .get_mut(BGP_ID_AT..BGP_ID_AT + 4)?
                    .copy_from_slice(&[0, 0, 0, 1]);
                self.bgp_id = true;
            }
            // The same field refused twice: not one this function knows how to fix.
            _ => return None,
        }
        Some(())
    }

    /// Puts the received values back into the decoded OPEN.
    fn apply(&self, open: &mut Open) {
        if self.my_as {
            open.my_as = 0;
        }
        if let Some(h) = self.hold_time {
            open.hold_time = h;
        }
        if self.bgp_id {
            open.bgp_id = std::net::Ipv4Addr::UNSPECIFIED;
        }
        let as4 = open
            .params
            .iter_mut()
            .flat_map(|p| p.capabilities.iter_mut())
            .filter_map(|c| match c {
                Capability::FourOctetAs(a) => Some(a),
                _ => None,
            });
        for (k, a) in as4.enumerate() {
            if self.as4.contains(&k) {
                *a = bgp::wire::Asn(0);
            }
        }
    }
}

/// The offset of the value of the first 4-octet AS capability (RFC 6793, code 65) whose value
/// is 0 in an OPEN's optional parameters, and its ordinal among the code-65 capabilities;
/// both parameter length forms (RFC 9072 §2). `None` when there is none or the parameters do
/// not parse.
fn zero_as4_capability(bytes: &[u8]) -> Option<(usize, usize)> {
    const CAPABILITIES: u8 = 2;
    const FOUR_OCTET_AS: u8 = 65;
    let opt_len = *bytes.get(OPT_LEN_AT)?;
    let extended = opt_len == 255 && bytes.get(OPT_LEN_AT + 1) == Some(&255);
    let (mut i, end) = if extended {
        let len = u16::from_be_bytes([*bytes.get(OPT_LEN_AT + 2)?, *bytes.get(OPT_LEN_AT + 3)?]);
        (OPT_LEN_AT + 4, OPT_LEN_AT + 4 + usize::from(len))
    } else {
        (OPT_LEN_AT + 1, OPT_LEN_AT + 1 + usize::from(opt_len))
    };
    let mut ordinal = 0;
    while i < end.min(bytes.len()) {
        let param_type = *bytes.get(i)?;
        let (len, head) = if extended {
            (
                usize::from(u16::from_be_bytes([*bytes.get(i + 1)?, *bytes.get(i + 2)?])),
                3,
            )
        } else {
            (usize::from(*bytes.get(i + 1)?), 2)
        };
        let value = bytes.get(i + head..i + head + len)?;
        if param_type == CAPABILITIES {
            let mut j = 0;
            while j + 2 <= value.len() {
                let (code, clen) = (value[j], usize::from(value[j + 1]));
                if code == FOUR_OCTET_AS {
                    if clen == 4 && value.get(j + 2..j + 6) == Some(&[0, 0, 0, 0][..]) {
                        return Some((i + head + j + 2, ordinal));
                    }
                    ordinal += 1;
                }
                j += 2 + clen;
            }
        }
        i += head + len;
    }
    None
}

/// Formats nanoseconds since the Unix epoch as RFC 3339 UTC with nanoseconds.
#[must_use]
pub fn format_time(unix_nanos: i128) -> String {
    let secs = unix_nanos.div_euclid(1_000_000_000);
    let nanos = unix_nanos.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil from days (H. Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i128::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// The NOTIFICATION code and subcode with their names, e.g. `CEASE/ADMINISTRATIVE_SHUTDOWN (6/2)`.
#[must_use]
pub fn notification_name(n: &Notification) -> String {
    use bgp::wire::{
        CeaseSubcode, ErrorCode, FsmSubcode, HeaderSubcode, OpenSubcode, RouteRefreshSubcode,
        UpdateSubcode,
    };
    let sub = match n.code {
        ErrorCode::MESSAGE_HEADER => HeaderSubcode(n.subcode).name(),
        ErrorCode::OPEN_MESSAGE => OpenSubcode(n.subcode).name(),
        ErrorCode::UPDATE_MESSAGE => UpdateSubcode(n.subcode).name(),
        ErrorCode::FSM => FsmSubcode(n.subcode).name(),
        ErrorCode::CEASE => CeaseSubcode(n.subcode).name(),
        ErrorCode::ROUTE_REFRESH_MESSAGE => RouteRefreshSubcode(n.subcode).name(),
        _ => None,
    };
    let code = n
        .code
        .name()
        .map_or_else(|| format!("code {}", n.code.0), str::to_owned);
    match sub {
        Some(s) => format!("{code}/{s} ({}/{})", n.code.0, n.subcode),
        None if n.subcode == 0 => format!("{code} ({}/0)", n.code.0),
        None => format!("{code}/subcode {} ({}/{})", n.subcode, n.code.0, n.subcode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gunzip_stops_at_the_bound() {
        use std::io::Write as _;
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&[0u8; 1000]).unwrap();
        let gz = z.finish().unwrap();
        assert!(matches!(
            gunzip_bounded(&gz, 999),
            Err(FileError::GzipTooLarge)
        ));
        assert_eq!(gunzip_bounded(&gz, 1000).unwrap().len(), 1000);
    }

    #[test]
    fn formats_times_in_utc() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            format_time(1_767_225_600_000_000_123),
            "2026-01-01T00:00:00.000000123Z"
        );
        assert_eq!(
            format_time(951_827_696_500_000_000),
            "2000-02-29T12:34:56.500000000Z"
        );
    }

    #[test]
    fn reassembles_out_of_order_and_duplicate_segments() {
        let mut s = Stream::default();
        s.fresh(1000, true);
        assert!(!s.add(1005, b"fghij"));
        assert!(s.buf.is_empty(), "waits for the gap");
        assert!(!s.add(1000, b"abcde"));
        assert_eq!(s.buf, b"abcdefghij");
        assert!(s.add(1003, b"def"), "old data is a retransmission");
        assert!(!s.add(1008, b"ijKL"), "overlap keeps only the new tail");
        assert_eq!(s.buf, b"abcdefghijKL");
    }

    #[test]
    fn skips_a_hole_up_to_the_next_waiting_segment_and_not_past_a_fin() {
        let mut s = Stream::default();
        s.fresh(1000, true);
        assert!(!s.add(1000, b"abc"));
        assert!(!s.add(1010, b"klmno"));
        assert_eq!(s.skip_to(1015), 7, "1003..1010 never captured");
        assert_eq!(
            s.buf, b"klmno",
            "the partial message before the hole is dropped"
        );
        assert!(!s.synced, "resynchronises on the next marker");
        assert_eq!(s.skip_to(1015), 0);
        assert_eq!(s.skip_to(900), 0, "an old acknowledgement is no hole");
        s.fin = Some(1015);
        assert_eq!(
            s.skip_to(1016),
            0,
            "the FIN's sequence number is not an octet"
        );
    }

    /// A pcapng of one connection, 10.0.0.1:40000 > 10.0.0.2:179: the SYN, then `segments`
    /// (sequence offset from the first data octet, octets, how many to capture) and finally
    /// an ACK from the other side of everything sent.
    fn connection(segments: &[(u32, &[u8], usize)]) -> Vec<u8> {
        use super::super::packet::{Addrs, IpFrame, TcpFields, build_tcp};
        use super::super::pcap::PcapngWriter;
        let f = IpFrame {
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [2, 0, 0, 0, 0, 2],
            vlan: None,
            addrs: Addrs::V4 {
                src: "10.0.0.1".parse().unwrap(),
                dst: "10.0.0.2".parse().unwrap(),
            },
            ttl: 64,
            id: 0,
        };
        let back = IpFrame {
            src_mac: f.dst_mac,
            dst_mac: f.src_mac,
            addrs: Addrs::V4 {
                src: "10.0.0.2".parse().unwrap(),
                dst: "10.0.0.1".parse().unwrap(),
            },
            ..f
        };
        let tcp = |seq: u32, flags: u8| TcpFields {
            src_port: 40000,
            dst_port: 179,
            seq,
            ack: 1,
            flags,
            window: 65535,
            mss: None,
            timestamps: None,
            sack: None,
        };
        let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
        let i = w.add_interface("eth0", "").unwrap();
        w.packet(i, 1, &build_tcp(&f, &tcp(99, SYN), b"")).unwrap();
        let mut end = 100;
        for (k, (off, bytes, captured)) in segments.iter().enumerate() {
            let frame = build_tcp(&f, &tcp(100 + off, ACK), bytes);
            let cut = frame.len() - (bytes.len() - captured);
            if *captured > 0 {
                w.packet(i, 2 + k as u64, &frame[..cut]).unwrap();
            }
            end = end.max(100 + off + u32::try_from(bytes.len()).unwrap());
        }
        let ack = TcpFields {
            src_port: 179,
            dst_port: 40000,
            seq: 1,
            ack: end,
            flags: ACK,
            window: 65535,
            mss: None,
            timestamps: None,
            sack: None,
        };
        w.packet(i, 100, &build_tcp(&back, &ack, b"")).unwrap();
        w.finish().unwrap()
    }

    /// An OPEN's octets, as a speaker would send it.
    fn open_bytes(open: Open) -> Vec<u8> {
        Message::Open(open)
            .to_bytes(&EncodeCtx::from(&unknown_ctx()))
            .unwrap()
            .to_vec()
    }

    fn open(asn: u32, hold: u16, id: &str, caps: Vec<Capability>) -> Open {
        Open::new(bgp::wire::Asn(asn), hold, id.parse().unwrap(), caps)
    }

    /// Decodes `bytes` as `holdtime decode` does: the OPEN (as received) and the answer.
    fn refused(bytes: &[u8]) -> (Result<Message, DecodeError>, Option<(u8, u8)>) {
        let ctx = unknown_ctx();
        let (m, n) = accept_refused(bytes, Message::decode(bytes, &ctx), &ctx);
        (m, n.map(|n| (n.code.0, n.subcode)))
    }

    /// RFC 4271 §6.2 / RFC 7607 §3 / RFC 6286 §2.1: an OPEN with AS 0 or BGP identifier 0 is
    /// well-formed; the receiver refuses it with 2/2 or 2/3. It decodes, with the values as
    /// sent, re-encodes to the same octets, and the answer is named.
    #[test]
    fn opens_with_as_0_or_identifier_0_decode_with_the_answer_a_receiver_would_send() {
        let ctx = unknown_ctx();
        let as4 = |a: u32| Capability::FourOctetAs(bgp::wire::Asn(a));
        let mut extended = open(23_456, 90, "10.0.0.1", vec![as4(0)]);
        extended.extended_params = true;
        let cases: Vec<(&str, Open, (u8, u8))> = vec![
            ("my AS 0", open(0, 90, "10.0.0.1", vec![]), (2, 2)),
            (
                "4-octet AS 0 beside AS_TRANS",
                open(23_456, 90, "10.0.0.1", vec![as4(0)]),
                (2, 2),
            ),
            ("4-octet AS 0, RFC 9072 lengths", extended, (2, 2)),
            (
                "AS 0 in both",
                open(0, 90, "10.0.0.1", vec![as4(0)]),
                (2, 2),
            ),
            ("identifier 0", open(65_001, 90, "0.0.0.0", vec![]), (2, 3)),
            (
                "hold 2 and identifier 0: the first refusal",
                open(65_001, 2, "0.0.0.0", vec![]),
                (2, 6),
            ),
            (
                "everything at once",
                open(0, 1, "0.0.0.0", vec![as4(0), as4(0)]),
                (2, 2),
            ),
        ];
        for (what, sent, answer) in cases {
            let bytes = open_bytes(sent.clone());
            assert!(
                Message::decode(&bytes, &ctx).is_err(),
                "{what}: the codec refuses it"
            );
            let (m, n) = refused(&bytes);
            assert_eq!(n, Some(answer), "{what}");
            let Ok(Message::Open(got)) = m else {
                panic!("{what}: not decoded: {m:?}")
            };
            assert_eq!(got, sent, "{what}: the fields as sent");
            assert_eq!(
                roundtrip(&Message::Open(got), &bytes, &ctx),
                RoundTrip::Same,
                "{what}"
            );
        }
        // A malformed OPEN stays malformed, and an acceptable one has no answer.
        let good = open_bytes(open(65_001, 90, "10.0.0.1", vec![as4(65_001)]));
        assert!(matches!(refused(&good), (Ok(Message::Open(_)), None)));
        let mut bad_version = open_bytes(open(0, 90, "10.0.0.1", vec![]));
        bad_version[19] = 3;
        assert!(matches!(refused(&bad_version), (Err(_), None)));
        // Opt Parm Len one longer than the parameters: malformed, whatever the AS.
        let mut overrun = open_bytes(open(0, 90, "10.0.0.1", vec![as4(0)]));
        overrun[OPT_LEN_AT] += 1;
        assert!(matches!(refused(&overrun), (Err(_), None)));
        // Truncated after the AS4 capability's header: nothing is read past the end.
        assert_eq!(zero_as4_capability(&overrun[..overrun.len() - 3]), None);
    }

    /// In a capture, the OPEN with AS 0 is counted as an OPEN (as tshark counts it), not as a
    /// failure, and its refusal is counted.
    #[test]
    fn a_capture_with_an_open_of_as_0_counts_it_and_its_refusal() {
        let sent = open_bytes(open(0, 90, "10.0.0.1", vec![]));
        let n = sent.len();
        let file = connection(&[(0, &sent, n)]);
        let mut messages = Vec::new();
        let summary = decode(
            &file,
            Options {
                check_roundtrip: true,
            },
            &mut |m| messages.push(m),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(summary.messages, 1);
        assert_eq!(summary.failed, 0);
        assert_eq!(summary.refused, 1);
        assert_eq!(summary.roundtrip_differs, 0);
        assert_eq!(summary.by_type.get("OPEN"), Some(&1));
        assert!(summary.ok());
        let m = &messages[0];
        assert!(matches!(&m.result, Ok(Message::Open(o)) if o.my_as == 0));
        assert_eq!(
            m.refused.as_ref().map(|n| (n.code.0, n.subcode)),
            Some((2, 2))
        );
    }

    fn decode_all(file: &[u8]) -> (Summary, Vec<Event>) {
        let mut events = Vec::new();
        let summary = decode(file, Options::default(), &mut |_| {}, &mut |e| {
            events.push(e)
        })
        .unwrap();
        (summary, events)
    }

    #[test]
    fn a_segment_missing_from_the_capture_is_reported_and_decoding_resumes_after_it() {
        let ka = Message::Keepalive
            .to_bytes(&EncodeCtx::from(&unknown_ctx()))
            .unwrap()
            .to_vec();
        // The middle KEEPALIVE was acknowledged but never captured.
        let file = connection(&[(0, &ka, 19), (19, &ka, 0), (38, &ka, 19)]);
        let (summary, events) = decode_all(&file);
        assert_eq!(summary.by_type.get("KEEPALIVE"), Some(&2), "{summary:?}");
        assert_eq!(summary.failed, 1, "the hole is a failure: {events:?}");
        assert!(
            matches!(
                &events[..],
                [Event::Problem {
                    error: Problem::CaptureGap { octets: 19, .. },
                    ..
                }]
            ),
            "{events:?}"
        );
    }

    #[test]
    fn a_payload_cut_by_the_snap_length_is_reported_and_decoding_resumes_after_it() {
        let ka = Message::Keepalive
            .to_bytes(&EncodeCtx::from(&unknown_ctx()))
            .unwrap()
            .to_vec();
        let file = connection(&[(0, &ka, 19), (19, &ka, 10), (38, &ka, 19)]);
        let (summary, events) = decode_all(&file);
        assert_eq!(summary.by_type.get("KEEPALIVE"), Some(&2), "{summary:?}");
        assert!(
            matches!(
                &events[..],
                [Event::Problem {
                    error: Problem::CaptureGap { octets: 9, .. },
                    ..
                }]
            ),
            "{events:?}"
        );
    }

    #[test]
    fn reassembles_across_sequence_wrap() {
        let mut s = Stream::default();
        s.fresh(u32::MAX - 1, true);
        s.add(u32::MAX - 1, b"ab");
        s.add(0, b"cd");
        assert_eq!(s.buf, b"abcd");
    }
}
