//! A run as files: [`Recorder`], the [`Tap`] behind `holdtime run --pcap/--mrt`, writes what
//! the world reports in the formats of [`crate::capture`] (codecs that know nothing of the
//! simulator; this module is the only place where the two meet).
//!
//! The world tells a [`Tap`] about every frame at the capture point (TCP segments with the
//! model's own sequence numbers, flags, window and MSS; BFD control packets), every byte
//! stream a router received, and every FSM transition. The recorder writes:
//!
//! - pcapng, one Ethernet interface per session (named after it), nanosecond timestamps:
//!   each frame is Ethernet II (802.1Q-tagged when the session has a VLAN), IPv4 or IPv6
//!   between the session ends' addresses (the /30s; the /126s of dual-stack private peering),
//!   DSCP CS6, then TCP (port 179 on the listening end) or, for BFD, UDP to port 3784 from a
//!   source port in 49152–65535 with TTL (hop limit) 255 (RFC 5881 §4: "The source port MUST
//!   be in the range 49152 through 65535"; §5: "the TTL or Hop Limit ... MUST be set to
//!   255"). TCP carries the model's MSS and timestamps (RFC 7323) options. Checksums are
//!   computed. TCP MD5 signatures (RFC 2385) are not modelled, so sessions with an `md5` key
//!   are captured without the option.
//! - MRT (RFC 6396): BGP4MP_ET records, microsecond timestamps, one MESSAGE_AS4 per message
//!   received (peer = sender, local = receiver, as a collector beside the receiver sees it)
//!   and one STATE_CHANGE_AS4 per FSM transition (see [`crate::capture::mrt`]).
//!
//! Timestamps are the virtual time plus an epoch, [`DEFAULT_EPOCH`] (2026-01-01T00:00:00Z)
//! unless `--pcap-epoch` says otherwise, so the same run gives the same files byte for byte.

use std::io::{self, Write};
use std::net::IpAddr;

use bgp::fsm::State;
use bgp::wire::{Capability, DecodeCtx, Framer, Message};
use sim_core::tcp::Flags;
use sim_core::time::Instant;

use super::net::{Frame, SessIx};
use super::tap::Tap;
use crate::capture::mrt::{MrtWriter, Peering};
use crate::capture::packet::{self, Addrs, IpFrame, TcpFields};
use crate::capture::pcap::PcapngWriter;
use crate::topology::Topology;

/// The default epoch of virtual time zero: 2026-01-01T00:00:00Z, in seconds since 1970.
pub const DEFAULT_EPOCH: u64 = 1_767_225_600;
/// The BFD single-hop control port (RFC 5881 §4).
pub const BFD_PORT: u16 = 3784;

/// What the recorder knows of a session.
#[derive(Debug, Clone)]
struct SessionInfo {
    addr: [IpAddr; 2],
    asn: [u32; 2],
    mac: [[u8; 6]; 2],
    vlan: Option<u16>,
}

/// The tap behind `holdtime run --pcap FILE --mrt FILE`: writes pcapng and MRT as the run goes.
pub struct Recorder<'w> {
    sessions: Vec<SessionInfo>,
    pcap: Option<PcapngWriter<&'w mut dyn Write>>,
    mrt: Option<MrtWriter<&'w mut dyn Write>>,
    epoch_nanos: u64,
    /// Next IPv4 identification per session and sending end.
    ip_id: Vec<[u16; 2]>,
    /// Received bytes not yet split into messages, per session and receiving end.
    pending: Vec<[Framer; 2]>,
    /// Whether each end's last OPEN announced 4-octet AS numbers, per session and sender.
    four_octet: Vec<[bool; 2]>,
    /// Frames and records written.
    written: (u64, u64),
    error: Option<io::Error>,
}

impl core::fmt::Debug for Recorder<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Recorder")
            .field("sessions", &self.sessions.len())
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

fn mac(router: usize) -> [u8; 6] {
    // Locally administered unicast (IEEE 802: bit 1 of the first octet set, bit 0 clear).
    let r = u32::try_from(router).unwrap_or(u32::MAX).to_be_bytes();
    [0x02, 0x00, r[0], r[1], r[2], r[3]]
}

const fn fsm_number(s: State) -> u16 {
    // RFC 6396 §4.4.1: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established.
    match s {
        State::Idle => 1,
        State::Connect => 2,
        State::Active => 3,
        State::OpenSent => 4,
        State::OpenConfirm => 5,
        State::Established => 6,
    }
}

impl<'w> Recorder<'w> {
    /// A recorder for `topo`'s sessions writing pcapng to `pcap` and MRT to `mrt` (either may
    /// be absent); virtual time zero is `epoch` seconds after 1970.
    ///
    /// # Errors
    ///
    /// The pcap writer's I/O error (the section and interface blocks are written at once).
    pub fn new(
        topo: &Topology,
        epoch: u64,
        pcap: Option<&'w mut dyn Write>,
        mrt: Option<&'w mut dyn Write>,
    ) -> io::Result<Self> {
        let sessions: Vec<SessionInfo> = topo
            .sessions
            .iter()
            .map(|s| SessionInfo {
                addr: [s.ends[0].addr, s.ends[1].addr],
                asn: [0, 1].map(|i| topo.routers.get(s.ends[i].router.0).map_or(0, |r| r.asn)),
                mac: [mac(s.ends[0].router.0), mac(s.ends[1].router.0)],
                vlan: s.vlan,
            })
            .collect();
        let pcap = match pcap {
            Some(out) => {
                let mut w = PcapngWriter::new(out, "holdtime")?;
                for s in &topo.sessions {
                    let name = |i: usize| {
                        topo.routers
                            .get(s.ends[i].router.0)
                            .map_or("?", |r| r.name.as_str())
                    };
                    let vlan = s.vlan.map(|v| format!(", VLAN {v}")).unwrap_or_default();
                    let desc = format!(
                        "{} {} <-> {} {}{vlan}",
                        name(0),
                        s.ends[0].addr,
                        name(1),
                        s.ends[1].addr
                    );
                    w.add_interface(&s.name, &desc)?;
                }
                Some(w)
            }
            None => None,
        };
        let n = sessions.len();
        Ok(Self {
            sessions,
            pcap,
            mrt: mrt.map(MrtWriter::new),
            epoch_nanos: epoch.saturating_mul(1_000_000_000),
            ip_id: vec![[0; 2]; n],
            pending: vec![[Framer::new(), Framer::new()]; n],
            four_octet: vec![[false; 2]; n],
            written: (0, 0),
            error: None,
        })
    }

    /// Packets and MRT records written so far.
    #[must_use]
    pub const fn written(&self) -> (u64, u64) {
        self.written
    }

    /// Flushes both files.
    ///
    /// # Errors
    ///
    /// The first I/O error met while recording, or the flush's.
    pub fn finish(self) -> io::Result<()> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Some(p) = self.pcap {
            p.finish()?;
        }
        if let Some(m) = self.mrt {
            m.finish()?;
        }
        Ok(())
    }

    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }

    fn unix_nanos(&self, at: Instant) -> u64 {
        self.epoch_nanos.saturating_add(at.as_nanos())
    }

    fn peering(&self, session: SessIx, local: u8) -> Option<Peering> {
        let s = self.sessions.get(session.0)?;
        let (l, p) = (usize::from(local & 1), usize::from(1 - (local & 1)));
        Some(Peering {
            peer_as: s.asn[p],
            local_as: s.asn[l],
            ifindex: u16::try_from(session.0).unwrap_or(u16::MAX),
            peer_ip: s.addr[p],
            local_ip: s.addr[l],
        })
    }
}

impl Tap for Recorder<'_> {
    fn frame(&mut self, at: Instant, session: SessIx, from: u8, frame: &Frame) {
        let ts = self.unix_nanos(at);
        let (Some(s), Some(ids)) = (self.sessions.get(session.0), self.ip_id.get_mut(session.0))
        else {
            return;
        };
        let Some(pcap) = self.pcap.as_mut() else {
            return;
        };
        let (f, t) = (usize::from(from & 1), usize::from(1 - (from & 1)));
        // A session's two ends are of one family (the topology builds them from one subnet).
        let Some(addrs) = Addrs::new(s.addr[f], s.addr[t]) else {
            return;
        };
        let id = ids[f];
        ids[f] = id.wrapping_add(1);
        let l3 = IpFrame {
            src_mac: s.mac[f],
            dst_mac: s.mac[t],
            vlan: s.vlan,
            addrs,
            ttl: 255,
            id,
        };
        let bytes = match frame {
            Frame::Tcp { segment, .. } => {
                let l3 = IpFrame { ttl: 64, ..l3 };
                let fields = TcpFields {
                    src_port: segment.src_port,
                    dst_port: segment.dst_port,
                    seq: segment.seq,
                    ack: if segment.flags.contains(Flags::ACK) {
                        segment.ack
                    } else {
                        0
                    },
                    flags: segment.flags.bits(),
                    window: segment.window,
                    mss: segment.mss,
                    timestamps: segment.timestamps.map(|t| (t.val, t.ecr)),
                    sack: segment.dsack,
                };
                packet::build_tcp(&l3, &fields, &segment.payload)
            }
            Frame::Datagram(payload) => {
                let sport = 49_152 + u16::try_from(session.0 % 16_384).unwrap_or(0);
                packet::build_udp(&l3, sport, BFD_PORT, payload)
            }
        };
        let iface = u32::try_from(session.0).unwrap_or(u32::MAX);
        let r = pcap.packet(iface, ts, &bytes);
        self.written.0 += 1;
        self.keep(r);
    }

    fn received(&mut self, at: Instant, session: SessIx, end: u8, bytes: &[u8]) {
        if self.mrt.is_none() {
            return;
        }
        let e = usize::from(end & 1);
        let sender = 1 - e;
        let Some(peering) = self.peering(session, end) else {
            return;
        };
        let Some(framer) = self.pending.get_mut(session.0).map(|p| &mut p[e]) else {
            return;
        };
        framer.handle_bytes(bytes);
        // Lenient framing: the receiving FSM judges lengths; the collector records what came.
        let ctx = DecodeCtx {
            extended_message: true,
            ..DecodeCtx::default()
        };
        let mut out = Vec::new();
        loop {
            match framer.poll_frame(&ctx, <[u8]>::to_vec) {
                Some(Ok(msg)) => out.push(msg),
                None => break,
                // The receiver will close the session; nothing more of this stream is a message.
                Some(Err(_)) => {
                    framer.clear();
                    break;
                }
            }
        }
        // RFC 4271 §4.1: Type 1 is OPEN.
        for msg in out.iter().filter(|m| m.get(18) == Some(&1)) {
            if let Ok(Message::Open(o)) = Message::decode(msg, &ctx) {
                let four = o
                    .capabilities()
                    .any(|c| matches!(c, Capability::FourOctetAs(_)));
                if let Some(f) = self.four_octet.get_mut(session.0) {
                    f[sender] = four;
                }
            }
        }
        let four = self.four_octet.get(session.0).is_some_and(|f| f[0] && f[1]);
        let micros = self.unix_nanos(at) / 1000;
        for msg in out {
            let r = self
                .mrt
                .as_mut()
                .map_or(Ok(()), |m| m.message(micros, &peering, four, &msg));
            self.written.1 += 1;
            self.keep(r);
        }
    }

    fn state(&mut self, at: Instant, session: SessIx, end: u8, from: State, to: State) {
        if matches!(to, State::Idle | State::Connect | State::Active) {
            // A new connection starts a new byte stream.
            if let Some(p) = self.pending.get_mut(session.0) {
                p[usize::from(end & 1)].clear();
            }
        }
        let Some(peering) = self.peering(session, end) else {
            return;
        };
        let micros = self.unix_nanos(at) / 1000;
        if let Some(m) = self.mrt.as_mut() {
            let r = m.state_change(micros, &peering, fsm_number(from), fsm_number(to));
            self.written.1 += 1;
            self.keep(r);
        }
    }
}
