//! Capture file formats, and `holdtime decode` for captures and MRT files of real sessions.
//!
//! Everything here is a pure codec of bytes: it knows nothing of the simulator (the fuzz
//! target `capture` drives it on its own). The simulator's side, the tap that turns a run into
//! these files, is [`crate::sim::recorder`].
//!
//! # Out
//!
//! The writers that [`crate::sim::recorder::Recorder`] (`holdtime run --pcap/--mrt`) uses:
//!
//! - pcapng ([`pcap::PcapngWriter`]), one Ethernet interface per session (named after it),
//!   nanosecond timestamps; frames are built by [`packet`] (Ethernet II, 802.1Q, IPv4, IPv6,
//!   TCP with MSS and timestamps options, UDP, checksums computed).
//! - MRT (RFC 6396, [`mrt::MrtWriter`]): BGP4MP_ET records, microsecond timestamps,
//!   MESSAGE_AS4 and STATE_CHANGE_AS4.
//!
//! # In
//!
//! [`decode::decode`] reads pcap, pcapng and MRT, gzip-compressed or not, and yields every
//! BGP message with its frame or record number; [`render`] prints them.
//!
//! # Layout
//!
//! - [`packet`]: building and parsing Ethernet / VLAN / IPv4 / IPv6 / TCP / UDP.
//! - [`pcap`]: the pcapng writer, the pcap and pcapng reader.
//! - [`mrt`]: the MRT writer and reader.
//! - [`decode`]: TCP reassembly, BGP framing and decoding, round-trip checks.
//! - [`render`]: text and JSON lines.

pub mod decode;
pub mod mrt;
pub mod packet;
pub mod pcap;
pub mod render;
