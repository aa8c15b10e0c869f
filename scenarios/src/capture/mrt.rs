//! MRT (RFC 6396) records: a BGP4MP writer and a reader.
//!
//! The writer emits what route collectors write for a live session, with microsecond
//! timestamps: type BGP4MP_ET (17, RFC 6396 §3: "the Microsecond Timestamp field ... is
//! included in the Length field") with subtype BGP4MP_MESSAGE_AS4 (4) for each BGP message
//! received and BGP4MP_STATE_CHANGE_AS4 (5) for each FSM transition (§4.4.4, §4.4.5). When
//! the session did not negotiate 4-octet AS numbers the message goes in BGP4MP_MESSAGE (1)
//! instead, because §4.4.2 ties the AS_PATH encoding inside the message to the subtype.
//!
//! The reader accepts BGP4MP and BGP4MP_ET with the message subtypes 1, 4, 6, 7 and their
//! ADD-PATH forms 8–11 (RFC 8050 §3), and reports state changes; other types (TABLE_DUMP_V2
//! RIB snapshots, ...) are counted and skipped.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// MRT type BGP4MP (RFC 6396 §4.4).
pub const BGP4MP: u16 = 16;
/// MRT type BGP4MP_ET: BGP4MP with a microsecond timestamp (RFC 6396 §3).
pub const BGP4MP_ET: u16 = 17;
/// Subtype BGP4MP_STATE_CHANGE (2-octet AS).
const STATE_CHANGE: u16 = 0;
/// Subtype BGP4MP_MESSAGE (2-octet AS).
pub const MESSAGE: u16 = 1;
/// Subtype BGP4MP_MESSAGE_AS4.
pub const MESSAGE_AS4: u16 = 4;
/// Subtype BGP4MP_STATE_CHANGE_AS4.
pub const STATE_CHANGE_AS4: u16 = 5;

/// The two speakers of a BGP4MP record, as a collector names them: the peer sent the message
/// (or owns the FSM's partner), the local end received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peering {
    /// The sender's AS.
    pub peer_as: u32,
    /// The receiver's AS.
    pub local_as: u32,
    /// An interface index (the session's number).
    pub ifindex: u16,
    /// The sender's address.
    pub peer_ip: IpAddr,
    /// The receiver's address.
    pub local_ip: IpAddr,
}

/// Writes BGP4MP_ET records.
#[derive(Debug)]
pub struct MrtWriter<W: Write> {
    out: W,
}

impl<W: Write> MrtWriter<W> {
    /// A writer onto `out`.
    pub const fn new(out: W) -> Self {
        Self { out }
    }

    fn record(
        &mut self,
        unix_micros: u64,
        subtype: u16,
        p: &Peering,
        four: bool,
        tail: &[u8],
    ) -> io::Result<()> {
        let mut body = Vec::with_capacity(64 + tail.len());
        // Microsecond Timestamp, part of the ET header and counted in Length (§3).
        body.extend_from_slice(&((unix_micros % 1_000_000) as u32).to_be_bytes());
        if four {
            body.extend_from_slice(&p.peer_as.to_be_bytes());
            body.extend_from_slice(&p.local_as.to_be_bytes());
        } else {
            // A 4-octet AS in a 2-octet field is AS_TRANS (RFC 6793 §4.2.1 by analogy).
            for asn in [p.peer_as, p.local_as] {
                body.extend_from_slice(&u16::try_from(asn).unwrap_or(23_456).to_be_bytes());
            }
        }
        body.extend_from_slice(&p.ifindex.to_be_bytes());
        match (p.peer_ip, p.local_ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                body.extend_from_slice(&1u16.to_be_bytes());
                body.extend_from_slice(&a.octets());
                body.extend_from_slice(&b.octets());
            }
            (a, b) => {
                body.extend_from_slice(&2u16.to_be_bytes());
                body.extend_from_slice(&v6(a).octets());
                body.extend_from_slice(&v6(b).octets());
            }
        }
        body.extend_from_slice(tail);
        let secs = u32::try_from(unix_micros / 1_000_000)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "time beyond 2106"))?;
        let len = u32::try_from(body.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "record too large"))?;
        self.out.write_all(&secs.to_be_bytes())?;
        self.out.write_all(&BGP4MP_ET.to_be_bytes())?;
        self.out.write_all(&subtype.to_be_bytes())?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(&body)
    }

    /// A BGP message (whole, marker included) that `p.local_ip` received from `p.peer_ip`.
    /// `four_octet_as`: the session negotiated 4-octet AS numbers (subtype 4, else 1).
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn message(
        &mut self,
        unix_micros: u64,
        p: &Peering,
        four_octet_as: bool,
        msg: &[u8],
    ) -> io::Result<()> {
        let sub = if four_octet_as { MESSAGE_AS4 } else { MESSAGE };
        self.record(unix_micros, sub, p, four_octet_as, msg)
    }

    /// An FSM transition of the local end's session with the peer; states are RFC 6396
    /// §4.4.1's numbers (1 Idle … 6 Established).
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn state_change(
        &mut self,
        unix_micros: u64,
        p: &Peering,
        old: u16,
        new: u16,
    ) -> io::Result<()> {
        let mut tail = [0u8; 4];
        tail[..2].copy_from_slice(&old.to_be_bytes());
        tail[2..].copy_from_slice(&new.to_be_bytes());
        self.record(unix_micros, STATE_CHANGE_AS4, p, true, &tail)
    }

    /// Flushes and returns the inner writer.
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V4(v) => v.to_ipv6_mapped(),
        IpAddr::V6(v) => v,
    }
}

/// One MRT record read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record<'a> {
    /// A BGP message (BGP4MP_MESSAGE and its variants).
    Message {
        /// The sender and receiver.
        peering: Peering,
        /// The session used 4-octet AS numbers (AS4 subtypes).
        four_octet_as: bool,
        /// NLRI carry ADD-PATH path identifiers (RFC 8050 subtypes).
        add_path: bool,
        /// The whole BGP message.
        bytes: &'a [u8],
    },
    /// An FSM state change.
    StateChange {
        /// The peers.
        peering: Peering,
        /// Old state (1–6).
        old: u16,
        /// New state.
        new: u16,
    },
    /// Any other record type or subtype.
    Other {
        /// MRT type.
        kind: u16,
        /// MRT subtype.
        subtype: u16,
    },
}

/// A record with its position and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// 1-based record number.
    pub number: u64,
    /// Timestamp, nanoseconds since the Unix epoch.
    pub unix_nanos: i128,
    /// The record, or why its body did not parse.
    pub record: Result<Record<'a>, MrtError>,
}

/// Why an MRT file or record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MrtError {
    /// The file ends inside a record.
    #[error("truncated MRT record at offset {0}")]
    Truncated(usize),
    /// A BGP4MP record whose body is shorter than its fixed fields.
    #[error("BGP4MP record body too short ({0} octets)")]
    ShortBody(usize),
    /// A BGP4MP record with an address family other than IPv4 (1) or IPv6 (2).
    #[error("BGP4MP record with address family {0}")]
    BadFamily(u16),
}

/// Iterates over the records of an MRT file held in memory.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    number: u64,
}

/// Whether `data` plausibly starts with an MRT record (a known type with a sane length).
#[must_use]
pub fn is_mrt(data: &[u8]) -> bool {
    let Some(h) = data.get(..12) else {
        return false;
    };
    let kind = u16::from_be_bytes([h[4], h[5]]);
    let len = u32::from_be_bytes([h[8], h[9], h[10], h[11]]);
    // RFC 6396 §4 types (11–17, 32–49) and a length below 16 MiB.
    matches!(kind, 11..=17 | 32..=49) && len < (1 << 24)
}

impl<'a> Reader<'a> {
    /// A reader over a whole MRT file.
    #[must_use]
    pub const fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            number: 0,
        }
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Entry<'a>, MrtError>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.pos;
        if at >= self.data.len() {
            return None;
        }
        let Some(h) = self.data.get(at..at + 12) else {
            self.pos = self.data.len();
            return Some(Err(MrtError::Truncated(at)));
        };
        let secs = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let kind = u16::from_be_bytes([h[4], h[5]]);
        let subtype = u16::from_be_bytes([h[6], h[7]]);
        let len =
            usize::try_from(u32::from_be_bytes([h[8], h[9], h[10], h[11]])).unwrap_or(usize::MAX);
        let Some(mut body) = (at + 12)
            .checked_add(len)
            .and_then(|e| self.data.get(at + 12..e))
        else {
            self.pos = self.data.len();
            return Some(Err(MrtError::Truncated(at)));
        };
        self.pos = at + 12 + len;
        self.number += 1;
        let mut nanos = i128::from(secs) * 1_000_000_000;
        if kind == BGP4MP_ET {
            let Some(us) = body.get(..4) else {
                return Some(Ok(Entry {
                    number: self.number,
                    unix_nanos: nanos,
                    record: Err(MrtError::ShortBody(body.len())),
                }));
            };
            nanos += i128::from(u32::from_be_bytes([us[0], us[1], us[2], us[3]])) * 1000;
            body = body.get(4..).unwrap_or_default();
        }
        let record = if kind == BGP4MP || kind == BGP4MP_ET {
            parse_bgp4mp(subtype, body)
        } else {
            Ok(Record::Other { kind, subtype })
        };
        Some(Ok(Entry {
            number: self.number,
            unix_nanos: nanos,
            record,
        }))
    }
}

fn parse_bgp4mp(subtype: u16, body: &[u8]) -> Result<Record<'_>, MrtError> {
    // Subtypes (RFC 6396 §4.4, RFC 8050 §3): 0 STATE_CHANGE, 1 MESSAGE, 4 MESSAGE_AS4,
    // 5 STATE_CHANGE_AS4, 6 MESSAGE_LOCAL, 7 MESSAGE_AS4_LOCAL, 8–11 their ADD-PATH forms.
    let (is_msg, four, add_path) = match subtype {
        STATE_CHANGE => (false, false, false),
        STATE_CHANGE_AS4 => (false, true, false),
        1 | 6 => (true, false, false),
        4 | 7 => (true, true, false),
        8 | 10 => (true, false, true),
        9 | 11 => (true, true, true),
        _ => {
            return Ok(Record::Other {
                kind: BGP4MP,
                subtype,
            });
        }
    };
    let short = MrtError::ShortBody(body.len());
    let asw = if four { 4 } else { 2 };
    let fixed = 2 * asw + 4;
    let head = body.get(..fixed).ok_or(short)?;
    let asn = |b: &[u8]| -> u32 {
        match *b {
            [a, b2] => u32::from(u16::from_be_bytes([a, b2])),
            [a, b2, c, d] => u32::from_be_bytes([a, b2, c, d]),
            _ => 0,
        }
    };
    let peer_as = asn(head.get(..asw).unwrap_or_default());
    let local_as = asn(head.get(asw..2 * asw).unwrap_or_default());
    let ifindex = u16::from_be_bytes([head[2 * asw], head[2 * asw + 1]]);
    let afi = u16::from_be_bytes([head[2 * asw + 2], head[2 * asw + 3]]);
    let alen = match afi {
        1 => 4,
        2 => 16,
        other => return Err(MrtError::BadFamily(other)),
    };
    let addrs = body.get(fixed..fixed + 2 * alen).ok_or(short)?;
    let ip = |b: &[u8]| -> IpAddr {
        if let Ok(a) = <[u8; 4]>::try_from(b) {
            IpAddr::V4(Ipv4Addr::from(a))
        } else if let Ok(a) = <[u8; 16]>::try_from(b) {
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        }
    };
    let peering = Peering {
        peer_as,
        local_as,
        ifindex,
        peer_ip: ip(addrs.get(..alen).unwrap_or_default()),
        local_ip: ip(addrs.get(alen..).unwrap_or_default()),
    };
    let rest = body.get(fixed + 2 * alen..).unwrap_or_default();
    if is_msg {
        Ok(Record::Message {
            peering,
            four_octet_as: four,
            add_path,
            bytes: rest,
        })
    } else {
        let st = rest.get(..4).ok_or(short)?;
        Ok(Record::StateChange {
            peering,
            old: u16::from_be_bytes([st[0], st[1]]),
            new: u16::from_be_bytes([st[2], st[3]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peering() -> Peering {
        Peering {
            peer_as: 12_076,
            local_as: 4_200_000_001,
            ifindex: 3,
            peer_ip: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2)),
            local_ip: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1)),
        }
    }

    #[test]
    fn written_records_read_back() {
        let mut w = MrtWriter::new(Vec::new());
        let keepalive = [&[0xFFu8; 16][..], &[0, 19, 4]].concat();
        w.message(1_767_225_600_250_000, &peering(), true, &keepalive)
            .unwrap();
        w.state_change(1_767_225_601_000_001, &peering(), 5, 6)
            .unwrap();
        let file = w.finish().unwrap();
        assert!(is_mrt(&file));
        let got: Vec<_> = Reader::new(&file).map(Result::unwrap).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].unix_nanos, 1_767_225_600_250_000_000);
        assert_eq!(
            got[0].record,
            Ok(Record::Message {
                peering: peering(),
                four_octet_as: true,
                add_path: false,
                bytes: &keepalive,
            })
        );
        assert_eq!(
            got[1].record,
            Ok(Record::StateChange {
                peering: peering(),
                old: 5,
                new: 6
            })
        );
    }

    #[test]
    fn truncated_records_are_errors() {
        let mut w = MrtWriter::new(Vec::new());
        w.state_change(5_000_000, &peering(), 1, 2).unwrap();
        let file = w.finish().unwrap();
        for n in 1..file.len() {
            let r: Vec<_> = Reader::new(&file[..n]).collect();
            assert!(
                r.iter().any(Result::is_err)
                    || r.iter()
                        .any(|e| e.as_ref().is_ok_and(|e| e.record.is_err())),
                "cut at {n}"
            );
        }
    }
}
