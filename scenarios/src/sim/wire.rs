//! BGP messages counted as they leave the sender on the wire, for the run report.
//!
//! A router hands bytes to TCP; TCP sends them when the window allows, and a connection torn
//! down first never sends what is still queued (msee1's NOTIFICATION 4/0 in the reference
//! scenario is written behind unacknowledged data and never leaves). The report counts what
//! a capture beside the sender shows, so the two agree exactly: [`WireCounter`] follows each
//! direction's sequence space through the segments as they are first transmitted, skips
//! octets sent before (retransmissions), and counts a message when its last octet leaves for
//! the first time.
//!
//! Contracts: each message is counted once whatever the segmentation; a SYN starts a new
//! stream; a header whose length is below 19 (RFC 4271 §4.1 minimum) stops counting that
//! stream until the next SYN, as the receiver would close the connection on it.

use sim_core::tcp::{Flags, Segment};

use super::net::SessIx;
use crate::scenario::MessageType;

/// The BGP header length (RFC 4271 §4.1).
const HEADER: usize = 19;

/// One direction's progress through its byte stream.
#[derive(Debug, Clone, Copy, Default)]
struct Direction {
    /// The sequence number of the next octet never sent before (`None` before the SYN).
    next_seq: Option<u32>,
    /// The header of the message being sent, as far as it has left.
    header: [u8; HEADER],
    /// Octets of `header` filled.
    header_len: usize,
    /// Body octets of the current message still to leave (after its header is complete).
    body_left: usize,
    /// A bad length was seen: nothing more of this stream is a message.
    broken: bool,
}

impl Direction {
    /// Counts the messages `bytes` (new octets, in stream order) complete.
    fn feed(&mut self, mut bytes: &[u8], counts: &mut [u64; TYPES]) {
        while !bytes.is_empty() && !self.broken {
            if self.header_len < HEADER {
                let take = (HEADER - self.header_len).min(bytes.len());
                let (head, rest) = bytes.split_at(take);
                if let Some(dst) = self.header.get_mut(self.header_len..self.header_len + take) {
                    dst.copy_from_slice(head);
                }
                self.header_len += take;
                bytes = rest;
                if self.header_len < HEADER {
                    return;
                }
                let len = usize::from(u16::from_be_bytes([self.header[16], self.header[17]]));
                if len < HEADER {
                    self.broken = true;
                    return;
                }
                self.body_left = len - HEADER;
            } else {
                let take = self.body_left.min(bytes.len());
                self.body_left -= take;
                bytes = bytes.get(take..).unwrap_or_default();
            }
            if self.header_len == HEADER && self.body_left == 0 {
                // The BGP Type codes (RFC 4271 §4.1, RFC 2918 §3) are the indices of `counts`;
                // other types are not counted.
                if let Some(c) = counts.get_mut(usize::from(self.header[18])) {
                    *c += 1;
                }
                self.header_len = 0;
            }
        }
    }
}

/// Entries of [`WireCounter::counts`]: index 0 unused, then the BGP Type codes 1 to 5.
const TYPES: usize = 6;

/// BGP messages by type as first transmitted, per session and sending end.
#[derive(Debug, Clone, Default)]
pub(crate) struct WireCounter {
    streams: Vec<[Direction; 2]>,
    /// Messages counted, indexed by BGP Type code (1 OPEN ... 5 ROUTE-REFRESH).
    counts: [u64; TYPES],
}

impl WireCounter {
    /// Takes note of a segment end `from` of `session` transmits (first hop, before any loss).
    pub(crate) fn on_segment(&mut self, session: SessIx, from: u8, segment: &Segment) {
        if self.streams.len() <= session.0 {
            self.streams
                .resize(session.0 + 1, [Direction::default(); 2]);
        }
        let Some(d) = self
            .streams
            .get_mut(session.0)
            .and_then(|s| s.get_mut(usize::from(from & 1)))
        else {
            return;
        };
        if segment.flags.contains(Flags::SYN) {
            *d = Direction {
                next_seq: Some(segment.seq.wrapping_add(1)),
                ..Direction::default()
            };
            return;
        }
        let Some(next) = d.next_seq else {
            return;
        };
        // Octets before `next` were sent before: skip them (RFC 9293 §3.4 sequence
        // arithmetic, modulo 2^32).
        let behind = usize::try_from(next.wrapping_sub(segment.seq)).unwrap_or(usize::MAX);
        if behind > segment.payload.len() || segment.payload.is_empty() {
            return;
        }
        let fresh = segment.payload.get(behind..).unwrap_or_default();
        let n = u32::try_from(fresh.len()).unwrap_or(u32::MAX);
        d.next_seq = Some(next.wrapping_add(n));
        d.feed(fresh, &mut self.counts);
    }

    /// Messages counted so far, by type.
    pub(crate) fn get(&self, kind: MessageType) -> u64 {
        let code = match kind {
            MessageType::Open => 1,
            MessageType::Update => 2,
            MessageType::Notification => 3,
            MessageType::Keepalive => 4,
            MessageType::RouteRefresh => 5,
            MessageType::Bfd => return 0,
        };
        self.counts.get(code).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(seq: u32, flags: Flags, payload: &[u8]) -> Segment {
        Segment {
            src_port: 179,
            dst_port: 40000,
            seq,
            ack: 0,
            flags,
            window: 65535,
            mss: None,
            timestamps: None,
            dsack: None,
            payload: payload.into(),
        }
    }

    fn message(kind: u8, len: u16) -> Vec<u8> {
        let mut m = vec![0xFF; 16];
        m.extend_from_slice(&len.to_be_bytes());
        m.push(kind);
        m.resize(usize::from(len), 0);
        m
    }

    #[test]
    fn counts_each_message_once_across_splits_and_retransmissions() {
        let mut w = WireCounter::default();
        let s = SessIx(0);
        w.on_segment(s, 1, &segment(99, Flags::SYN, &[]));
        let mut stream = message(1, 29);
        stream.extend(message(4, 19));
        stream.extend(message(2, 40));
        // The OPEN and the first 10 octets of the KEEPALIVE.
        w.on_segment(s, 1, &segment(100, Flags::ACK, &stream[..39]));
        assert_eq!(
            (w.get(MessageType::Open), w.get(MessageType::Keepalive)),
            (1, 0)
        );
        // A retransmission of all of it plus the rest of the KEEPALIVE and 5 UPDATE octets.
        w.on_segment(s, 1, &segment(100, Flags::ACK, &stream[..53]));
        assert_eq!(
            (w.get(MessageType::Open), w.get(MessageType::Keepalive)),
            (1, 1)
        );
        assert_eq!(w.get(MessageType::Update), 0, "the UPDATE has not all left");
        w.on_segment(s, 1, &segment(153, Flags::ACK, &stream[53..]));
        assert_eq!(w.get(MessageType::Update), 1);
        // A pure retransmission counts nothing.
        w.on_segment(s, 1, &segment(100, Flags::ACK, &stream));
        assert_eq!(w.get(MessageType::Open), 1);
    }

    #[test]
    fn a_new_connection_starts_a_new_stream_and_bad_lengths_stop_counting() {
        let mut w = WireCounter::default();
        let s = SessIx(3);
        w.on_segment(s, 0, &segment(5, Flags::SYN, &[]));
        let ka = message(4, 19);
        // The first 10 octets of a KEEPALIVE, then the connection is replaced.
        w.on_segment(s, 0, &segment(6, Flags::ACK, &ka[..10]));
        w.on_segment(s, 0, &segment(1000, Flags::SYN, &[]));
        w.on_segment(s, 0, &segment(1001, Flags::ACK, &ka));
        assert_eq!(w.get(MessageType::Keepalive), 1);
        let mut bad = message(4, 19);
        bad[17] = 3;
        w.on_segment(s, 0, &segment(1020, Flags::ACK, &bad));
        w.on_segment(s, 0, &segment(1039, Flags::ACK, &ka));
        assert_eq!(w.get(MessageType::Keepalive), 1, "after a bad length");
        // Segments before any SYN are not counted.
        w.on_segment(SessIx(1), 0, &segment(1, Flags::ACK, &ka));
        assert_eq!(w.get(MessageType::Keepalive), 1);
    }
}
