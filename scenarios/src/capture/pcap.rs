//! Capture files: a pcapng writer and a reader for pcapng and classic pcap.
//!
//! Written by hand rather than with the `pcap-file` crate: the writer needs three block types
//! (SHB, IDB, EPB) and the reader must never panic and must report the frame number of a bad
//! record and carry on where it can, which a few bounds-checked functions do with no
//! dependency. Formats: pcapng is draft-ietf-opsawg-pcapng (section header §4.1, interface
//! description §4.2, enhanced packet §4.3, simple packet §4.4, `if_tsresol` / `if_tsoffset`
//! options); classic pcap is draft-ietf-opsawg-pcap (microsecond and nanosecond magics, both
//! byte orders).

use std::io::{self, Write};

use super::packet::LinkType;

/// pcapng block type of the Section Header Block (also the file's magic).
const SHB: u32 = 0x0A0D_0D0A;
/// pcapng block type of the Interface Description Block.
const IDB: u32 = 1;
/// pcapng block type of the obsolete Packet Block.
const PB: u32 = 2;
/// pcapng block type of the Simple Packet Block.
const SPB: u32 = 3;
/// pcapng block type of the Enhanced Packet Block.
const EPB: u32 = 6;
/// The pcapng byte-order magic.
const BYTE_ORDER: u32 = 0x1A2B_3C4D;
/// LINKTYPE_ETHERNET.
const LINKTYPE_ETHERNET: u16 = 1;

/// Writes a pcapng file: one section, Ethernet interfaces, nanosecond timestamps.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    interfaces: u32,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

fn option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
    buf.extend_from_slice(value);
    buf.extend(std::iter::repeat_n(0u8, pad4(value.len())));
}

fn block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(12 + body.len() + pad4(body.len()))
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pcapng block too large"))?;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&[0u8; 3][..pad4(body.len())])?;
    out.write_all(&total.to_le_bytes())
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the Section Header Block (little-endian, version 1.0, length unknown).
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn new(mut out: W, app: &str) -> io::Result<Self> {
        let mut body = Vec::new();
        body.extend_from_slice(&BYTE_ORDER.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        // shb_userappl (4).
        option(&mut body, 4, app.as_bytes());
        option(&mut body, 0, &[]);
        block(&mut out, SHB, &body)?;
        Ok(Self { out, interfaces: 0 })
    }

    /// Adds an Ethernet interface named `name`, with nanosecond timestamps; returns its id.
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn add_interface(&mut self, name: &str, description: &str) -> io::Result<u32> {
        let mut body = Vec::new();
        body.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        option(&mut body, 2, name.as_bytes());
        option(&mut body, 3, description.as_bytes());
        // if_tsresol (9) = 9: timestamps count nanoseconds.
        option(&mut body, 9, &[9]);
        option(&mut body, 0, &[]);
        block(&mut self.out, IDB, &body)?;
        let id = self.interfaces;
        self.interfaces += 1;
        Ok(id)
    }

    /// Writes one Enhanced Packet Block.
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn packet(&mut self, interface: u32, unix_nanos: u64, frame: &[u8]) -> io::Result<()> {
        let len = u32::try_from(frame.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
        let mut body = Vec::with_capacity(20 + frame.len());
        body.extend_from_slice(&interface.to_le_bytes());
        // Timestamp split into high and low 32 bits (truncation intended).
        body.extend_from_slice(&((unix_nanos >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(unix_nanos as u32).to_le_bytes());
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(frame);
        block(&mut self.out, EPB, &body)
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

/// One captured frame read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// 1-based frame number (the number Wireshark shows).
    pub number: u64,
    /// Timestamp, nanoseconds since the Unix epoch.
    pub unix_nanos: i128,
    /// The link-layer header type, or `None` for one this reader does not parse.
    pub link: Option<LinkType>,
    /// The captured octets.
    pub data: &'a [u8],
}

/// Why a capture file (or one of its records) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// The file ends inside a header or record.
    #[error("truncated {what} at offset {offset}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Its file offset.
        offset: usize,
    },
    /// A pcapng block whose length is impossible.
    #[error("bad pcapng block length {length} at offset {offset}")]
    BadBlockLength {
        /// The length field.
        length: u32,
        /// The block's file offset.
        offset: usize,
    },
    /// A packet on an interface that was never described.
    #[error("packet on undeclared interface {0}")]
    UnknownInterface(u32),
    /// A pcapng section header with an unknown byte-order magic.
    #[error("bad pcapng byte-order magic at offset {0}")]
    BadByteOrder(usize),
}

#[derive(Debug, Clone, Copy)]
struct Iface {
    link: Option<LinkType>,
    /// Ticks per second as a divisor: (base, exponent), base 10 or 2.
    resol: (u32, u32),
    offset_s: i64,
}

impl Iface {
    fn nanos(&self, ticks: u64) -> i128 {
        let (base, exp) = self.resol;
        let per_sec = i128::from(base).checked_pow(exp).unwrap_or(1).max(1);
        let t = i128::from(ticks);
        (t / per_sec) * 1_000_000_000
            + (t % per_sec) * 1_000_000_000 / per_sec
            + i128::from(self.offset_s) * 1_000_000_000
    }
}

/// Reads the frames of a pcap or pcapng file in order.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    number: u64,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Pcap {
        big: bool,
        nanos: bool,
        link: Option<LinkType>,
    },
    Pcapng {
        big: bool,
        ifaces: Vec<Iface>,
    },
}

/// The classic pcap magics, as read little-endian: microsecond and nanosecond.
const PCAP_US: u32 = 0xA1B2_C3D4;
const PCAP_NS: u32 = 0xA1B2_3C4D;

/// Whether `data` starts like a pcap or pcapng file.
#[must_use]
pub fn is_capture(data: &[u8]) -> bool {
    let Some(m) = data.get(..4) else {
        return false;
    };
    let le = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
    let be = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
    le == SHB || [le, be].iter().any(|v| *v == PCAP_US || *v == PCAP_NS)
}

fn u16_at(d: &[u8], at: usize, big: bool) -> Option<u16> {
    let s = d.get(at..at.checked_add(2)?)?;
    let b = [s[0], s[1]];
    Some(if big {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    })
}

fn u32_at(d: &[u8], at: usize, big: bool) -> Option<u32> {
    let s = d.get(at..at.checked_add(4)?)?;
    let b = [s[0], s[1], s[2], s[3]];
    Some(if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

impl<'a> Reader<'a> {
    /// Opens a capture held in memory.
    ///
    /// # Errors
    ///
    /// [`CaptureError::Truncated`] when the file header is cut short.
    pub fn new(data: &'a [u8]) -> Result<Self, CaptureError> {
        let truncated = CaptureError::Truncated {
            what: "file header",
            offset: 0,
        };
        let magic = u32_at(data, 0, false).ok_or(truncated.clone())?;
        if magic == SHB {
            return Ok(Self {
                data,
                pos: 0,
                number: 0,
                kind: Kind::Pcapng {
                    big: false,
                    ifaces: Vec::new(),
                },
            });
        }
        let big = magic != PCAP_US && magic != PCAP_NS;
        let m = u32_at(data, 0, big).ok_or(truncated.clone())?;
        let link = u32_at(data, 20, big).ok_or(truncated)?;
        Ok(Self {
            data,
            pos: 24,
            number: 0,
            kind: Kind::Pcap {
                big,
                nanos: m == PCAP_NS,
                link: LinkType::from_code(link & 0xFFFF),
            },
        })
    }

    /// The next frame; `None` at the end of the file. After an error the reader stops
    /// (the record boundaries are lost).
    pub fn next_packet(&mut self) -> Option<Result<Packet<'a>, CaptureError>> {
        if self.pos >= self.data.len() {
            return None;
        }
        let r = match &mut self.kind {
            Kind::Pcap { big, nanos, link } => {
                let (big, nanos, link) = (*big, *nanos, *link);
                self.next_pcap(big, nanos, link)
            }
            Kind::Pcapng { .. } => self.next_pcapng(),
        };
        if r.as_ref().is_some_and(Result::is_err) {
            self.pos = self.data.len();
        }
        r
    }

    fn next_pcap(
        &mut self,
        big: bool,
        nanos: bool,
        link: Option<LinkType>,
    ) -> Option<Result<Packet<'a>, CaptureError>> {
        let at = self.pos;
        let trunc = CaptureError::Truncated {
            what: "pcap record",
            offset: at,
        };
        let (Some(sec), Some(frac), Some(incl)) = (
            u32_at(self.data, at, big),
            u32_at(self.data, at + 4, big),
            u32_at(self.data, at + 8, big),
        ) else {
            return Some(Err(trunc));
        };
        let start = at + 16;
        let end = start.checked_add(usize::try_from(incl).ok()?)?;
        let Some(data) = self.data.get(start..end) else {
            return Some(Err(trunc));
        };
        self.pos = end;
        self.number += 1;
        let frac_ns = if nanos {
            i128::from(frac)
        } else {
            i128::from(frac) * 1000
        };
        Some(Ok(Packet {
            number: self.number,
            unix_nanos: i128::from(sec) * 1_000_000_000 + frac_ns,
            link,
            data,
        }))
    }

    fn next_pcapng(&mut self) -> Option<Result<Packet<'a>, CaptureError>> {
        loop {
            let at = self.pos;
            if at >= self.data.len() {
                return None;
            }
            let Kind::Pcapng { big, ifaces } = &mut self.kind else {
                return None;
            };
            let kind = u32_at(self.data, at, *big);
            if kind == Some(SHB) {
                // A new section: its own byte order and interfaces.
                match u32_at(self.data, at + 8, false) {
                    Some(BYTE_ORDER) => *big = false,
                    Some(v) if v.swap_bytes() == BYTE_ORDER => *big = true,
                    Some(_) => return Some(Err(CaptureError::BadByteOrder(at))),
                    None => {
                        return Some(Err(CaptureError::Truncated {
                            what: "pcapng section header",
                            offset: at,
                        }));
                    }
                }
                ifaces.clear();
            }
            let big = *big;
            let (Some(kind), Some(len)) = (kind, u32_at(self.data, at + 4, big)) else {
                return Some(Err(CaptureError::Truncated {
                    what: "pcapng block header",
                    offset: at,
                }));
            };
            let ulen = usize::try_from(len).unwrap_or(usize::MAX);
            if ulen < 12 || ulen % 4 != 0 {
                return Some(Err(CaptureError::BadBlockLength {
                    length: len,
                    offset: at,
                }));
            }
            let Some(block) = at.checked_add(ulen).and_then(|e| self.data.get(at..e)) else {
                return Some(Err(CaptureError::Truncated {
                    what: "pcapng block",
                    offset: at,
                }));
            };
            self.pos = at + ulen;
            let body = block.get(8..ulen - 4).unwrap_or_default();
            match kind {
                IDB => {
                    let link = u16_at(body, 0, big).map(u32::from);
                    let mut iface = Iface {
                        link: link.and_then(LinkType::from_code),
                        resol: (10, 6),
                        offset_s: 0,
                    };
                    read_idb_options(body.get(8..).unwrap_or_default(), big, &mut iface);
                    ifaces.push(iface);
                }
                EPB | PB => {
                    self.number += 1;
                    let iface_id = if kind == EPB {
                        u32_at(body, 0, big)
                    } else {
                        u16_at(body, 0, big).map(u32::from)
                    };
                    let (Some(id), Some(hi), Some(lo), Some(cap)) = (
                        iface_id,
                        u32_at(body, 4, big),
                        u32_at(body, 8, big),
                        u32_at(body, 12, big),
                    ) else {
                        return Some(Err(CaptureError::Truncated {
                            what: "pcapng packet block",
                            offset: at,
                        }));
                    };
                    let Some(iface) = usize::try_from(id).ok().and_then(|i| ifaces.get(i)) else {
                        return Some(Err(CaptureError::UnknownInterface(id)));
                    };
                    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
                    let Some(data) = cap.checked_add(20).and_then(|e| body.get(20..e)) else {
                        return Some(Err(CaptureError::Truncated {
                            what: "pcapng packet data",
                            offset: at,
                        }));
                    };
                    let ticks = (u64::from(hi) << 32) | u64::from(lo);
                    return Some(Ok(Packet {
                        number: self.number,
                        unix_nanos: iface.nanos(ticks),
                        link: iface.link,
                        data,
                    }));
                }
                SPB => {
                    self.number += 1;
                    let Some(iface) = ifaces.first() else {
                        return Some(Err(CaptureError::UnknownInterface(0)));
                    };
                    let orig = u32_at(body, 0, big)
                        .and_then(|v| usize::try_from(v).ok())
                        .unwrap_or(0);
                    let data = body.get(4..).unwrap_or_default();
                    let data = data.get(..orig.min(data.len())).unwrap_or_default();
                    return Some(Ok(Packet {
                        number: self.number,
                        unix_nanos: 0,
                        link: iface.link,
                        data,
                    }));
                }
                _ => {}
            }
        }
    }
}

fn read_idb_options(mut opts: &[u8], big: bool, iface: &mut Iface) {
    while let (Some(code), Some(len)) = (u16_at(opts, 0, big), u16_at(opts, 2, big)) {
        let len = usize::from(len);
        let Some(value) = opts.get(4..4 + len) else {
            return;
        };
        match (code, value) {
            (0, _) => return,
            (9, [r]) => {
                iface.resol = if r & 0x80 == 0 {
                    (10, u32::from(*r))
                } else {
                    (2, u32::from(r & 0x7F))
                };
            }
            (14, v) if v.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(v);
                iface.offset_s = if big {
                    i64::from_be_bytes(b)
                } else {
                    i64::from_le_bytes(b)
                };
            }
            _ => {}
        }
        opts = opts.get(4 + len + pad4(len)..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcapng_written_reads_back_with_nanosecond_times() {
        let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
        let a = w.add_interface("a", "first").unwrap();
        let b = w.add_interface("b", "second").unwrap();
        w.packet(a, 1_700_000_000_123_456_789, b"hello").unwrap();
        w.packet(b, 1_700_000_001_000_000_001, b"world!!").unwrap();
        let file = w.finish().unwrap();
        assert!(is_capture(&file));
        let mut r = Reader::new(&file).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.number, p.unix_nanos, p.data),
            (1, 1_700_000_000_123_456_789, &b"hello"[..])
        );
        assert_eq!(p.link, Some(LinkType::Ethernet));
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.number, p.unix_nanos, p.data),
            (2, 1_700_000_001_000_000_001, &b"world!!"[..])
        );
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn classic_pcap_big_endian_microseconds_reads() {
        let mut f = Vec::new();
        f.extend_from_slice(&PCAP_US.to_be_bytes());
        f.extend_from_slice(&[0, 2, 0, 4]);
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_be_bytes());
        f.extend_from_slice(&1u32.to_be_bytes());
        f.extend_from_slice(&10u32.to_be_bytes());
        f.extend_from_slice(&5u32.to_be_bytes());
        f.extend_from_slice(&3u32.to_be_bytes());
        f.extend_from_slice(&3u32.to_be_bytes());
        f.extend_from_slice(b"xyz");
        let mut r = Reader::new(&f).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.unix_nanos, 10_000_005_000);
        assert_eq!(p.data, b"xyz");
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn truncated_files_report_errors_without_panicking() {
        let mut w = PcapngWriter::new(Vec::new(), "t").unwrap();
        let a = w.add_interface("a", "").unwrap();
        w.packet(a, 5, b"0123456789").unwrap();
        let file = w.finish().unwrap();
        for n in 0..file.len() {
            if let Ok(mut r) = Reader::new(&file[..n]) {
                while let Some(p) = r.next_packet() {
                    let _ = p;
                }
            }
        }
        let mut r = Reader::new(&file[..file.len() - 2]).unwrap();
        assert!(matches!(
            r.next_packet(),
            Some(Err(CaptureError::Truncated { .. }))
        ));
    }
}
