//! The receive side: in-order delivery with an out-of-order buffer (head-of-line blocking).
//!
//! Offsets are positions in the peer's sequence space counted from its ISN as 64-bit numbers
//! (`0` is the SYN, `1` the first data octet), so wrap-around of the 32-bit sequence numbers is
//! handled once, at the edge, by the endpoint.

use std::collections::{BTreeMap, VecDeque};

/// What an incoming segment changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Accepted {
    /// New in-order bytes became readable.
    pub(super) readable: bool,
    /// The peer's FIN was reached in order (just now).
    pub(super) fin: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Reassembly {
    /// Next offset expected in order (RCV.NXT).
    pub(super) rcv_nxt: u64,
    /// In-order bytes not yet read by the application.
    ready: VecDeque<u8>,
    /// Out-of-order segments by starting offset, held back until the gap before them fills.
    ooo: BTreeMap<u64, Box<[u8]>>,
    /// Offset of the peer's FIN, once seen (possibly ahead of a gap).
    fin_at: Option<u64>,
    /// Whether the FIN has been consumed (RCV.NXT moved past it).
    fin_done: bool,
    capacity: usize,
}

impl Reassembly {
    pub(super) fn new(capacity: u32) -> Self {
        Self {
            rcv_nxt: 0,
            ready: VecDeque::new(),
            ooo: BTreeMap::new(),
            fin_at: None,
            fin_done: false,
            capacity: capacity as usize,
        }
    }

    /// Free receive buffer: the window to advertise (not counting out-of-order data, so the
    /// right edge never moves left; RFC 9293 §3.8.6.2.2 discourages shrinking the window).
    pub(super) fn window(&self) -> usize {
        self.capacity.saturating_sub(self.ready.len())
    }

    pub(super) fn readable(&self) -> usize {
        self.ready.len()
    }

    /// Takes in a segment's data starting at offset `off`, with its FIN flag.
    pub(super) fn insert(&mut self, off: u64, data: &[u8], fin: bool) -> Accepted {
        let right_edge = self.rcv_nxt + self.window() as u64;
        let mut start = off;
        let mut bytes = data;
        // Trim what we already have.
        if start < self.rcv_nxt {
            let skip = usize::try_from(self.rcv_nxt - start).unwrap_or(usize::MAX);
            bytes = bytes.get(skip..).unwrap_or(&[]);
            start = self.rcv_nxt;
        }
        // Trim what lies beyond the window we advertised.
        let room = usize::try_from(right_edge.saturating_sub(start)).unwrap_or(usize::MAX);
        let fits = bytes.len() <= room;
        bytes = bytes.get(..room.min(bytes.len())).unwrap_or(&[]);
        if fin && fits && !self.fin_done {
            self.fin_at = Some(off + data.len() as u64);
        }
        let mut out = Accepted::default();
        if !bytes.is_empty() {
            if start == self.rcv_nxt {
                self.ready.extend(bytes);
                self.rcv_nxt += bytes.len() as u64;
                out.readable = true;
                self.drain_ooo();
            } else {
                let keep = self.ooo.get(&start).is_none_or(|b| b.len() < bytes.len());
                if keep {
                    self.ooo.insert(start, bytes.into());
                }
            }
        }
        if self.fin_at == Some(self.rcv_nxt) && !self.fin_done {
            self.fin_done = true;
            self.rcv_nxt += 1;
            self.ooo.clear();
            out.fin = true;
        }
        out
    }

    /// Moves buffered segments that now continue the in-order stream into `ready`.
    fn drain_ooo(&mut self) {
        while let Some(entry) = self.ooo.first_entry() {
            let start = *entry.key();
            if start > self.rcv_nxt {
                break;
            }
            let seg = entry.remove();
            let skip = usize::try_from(self.rcv_nxt - start).unwrap_or(usize::MAX);
            if let Some(rest) = seg.get(skip..) {
                self.ready.extend(rest);
                self.rcv_nxt += rest.len() as u64;
            }
        }
    }

    /// Copies up to `buf.len()` readable bytes into `buf`; returns how many.
    pub(super) fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.ready.len());
        for (dst, src) in buf.iter_mut().zip(self.ready.drain(..n)) {
            *dst = src;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_holds_back_later_bytes_until_filled() {
        let mut r = Reassembly::new(1000);
        r.rcv_nxt = 1;
        assert_eq!(r.insert(4, b"def", false), Accepted::default());
        assert_eq!(r.readable(), 0, "head-of-line blocked");
        let a = r.insert(1, b"abc", false);
        assert!(a.readable);
        let mut buf = [0_u8; 16];
        let n = r.read(&mut buf);
        assert_eq!(&buf[..n], b"abcdef");
        assert_eq!(r.rcv_nxt, 7);
    }

    #[test]
    fn overlapping_and_duplicate_data_is_delivered_once() {
        let mut r = Reassembly::new(1000);
        r.rcv_nxt = 1;
        r.insert(1, b"abcd", false);
        r.insert(3, b"cdef", false);
        r.insert(1, b"ab", false);
        let mut buf = [0_u8; 16];
        let n = r.read(&mut buf);
        assert_eq!(&buf[..n], b"abcdef");
    }

    #[test]
    fn fin_after_gap_waits_for_the_gap() {
        let mut r = Reassembly::new(1000);
        r.rcv_nxt = 1;
        assert!(!r.insert(3, b"cd", true).fin);
        let a = r.insert(1, b"ab", false);
        assert!(a.fin && a.readable);
        assert_eq!(r.rcv_nxt, 6, "the FIN consumes one sequence number");
    }

    #[test]
    fn data_beyond_the_window_is_cut() {
        let mut r = Reassembly::new(4);
        r.rcv_nxt = 1;
        r.insert(1, b"abcdef", true);
        assert_eq!(r.readable(), 4);
        assert!(!r.fin_done, "the FIN lay beyond the window");
        assert_eq!(r.window(), 0);
    }
}
