//! BFD Control packets over UDP for the live driver: RFC 5881, BFD for IPv4 single hop.
//!
//! Only the transport is here; the BFD state machine is the sans-IO [`crate::bfd::Session`]
//! inside the speaker. The rules carried out:
//!
//! - RFC 5881 §4: "BFD Control packets MUST be transmitted in UDP packets with destination
//!   port 3784" ([`BFD_PORT`]); "The source port MUST be in the range 49152 through 65535.
//!   The same UDP source port number MUST be used for all BFD Control packets associated with
//!   a particular session. The source port number SHOULD be unique among all BFD sessions on
//!   the system": one sender socket per session, bound once to the first free port of
//!   [`SOURCE_PORTS`] from a per-session starting point, kept for the session's life.
//! - RFC 5881 §5 (GTSM, RFC 5082): "all BFD Control packets for the session MUST be sent with
//!   a TTL or Hop Limit value of 255. All received BFD Control packets that are demultiplexed
//!   to the session MUST be discarded if the received TTL or Hop Limit is not equal to 255"
//!   (no authentication is supported, so the rule always applies): senders set
//!   [`BFD_TTL`]; the receiver asks the kernel for each datagram's TTL (`IP_RECVTTL`, read
//!   with `recvmsg` through nix, no `unsafe` here) and the driver drops any other TTL.
//!
//! IPv4 only: an IPv6 session's BFD is not carried (its hop limit would need
//! `IPV6_RECVHOPLIMIT`), and the driver reports it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket as StdUdpSocket};
use std::ops::RangeInclusive;
use std::os::fd::AsRawFd;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrIn, recvmsg, setsockopt, sockopt};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// The destination port of single-hop BFD Control packets (RFC 5881 §4).
pub const BFD_PORT: u16 = 3784;
/// The source ports a session may send from (RFC 5881 §4).
pub const SOURCE_PORTS: RangeInclusive<u16> = 49152..=65535;
/// The TTL every BFD Control packet is sent with and must arrive with (RFC 5881 §5).
pub const BFD_TTL: u8 = 255;
/// The largest datagram read: a Control packet is 24 octets plus at most 28 of
/// authentication (RFC 5880 §4.1); anything longer is cut and fails the length check.
const MAX_DATAGRAM: usize = 128;

/// A datagram received on a BFD port.
#[derive(Debug)]
pub(crate) struct Datagram {
    /// Who sent it.
    pub(crate) from: SocketAddr,
    /// The IP TTL it arrived with, when the kernel reported one.
    pub(crate) ttl: Option<u8>,
    /// The UDP payload.
    pub(crate) payload: Vec<u8>,
}

/// A receiving socket on `local`:`port` that reports each datagram's TTL.
///
/// # Errors
///
/// The socket error (the port is taken, the address is not local, IPv6).
pub(crate) fn bind_receiver(local: IpAddr, port: u16) -> io::Result<UdpSocket> {
    let IpAddr::V4(local) = local else {
        return Err(io::ErrorKind::Unsupported.into());
    };
    let socket = StdUdpSocket::bind((local, port))?;
    setsockopt(&socket, sockopt::Ipv4RecvTtl, &true).map_err(io::Error::from)?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

/// The sending socket of one session: from `local` and the first free port of
/// [`SOURCE_PORTS`] at or after `start` (wrapping), to `remote`, with TTL 255.
///
/// # Errors
///
/// The socket error, or `AddrInUse` when every source port is taken.
pub(crate) fn bind_sender(local: IpAddr, remote: SocketAddr, start: u16) -> io::Result<UdpSocket> {
    let (IpAddr::V4(local), SocketAddr::V4(remote)) = (local, remote) else {
        return Err(io::ErrorKind::Unsupported.into());
    };
    let first = *SOURCE_PORTS.start();
    let span = u32::from(*SOURCE_PORTS.end() - first) + 1;
    let offset = u32::from(start.saturating_sub(first)) % span;
    let mut last = io::Error::from(io::ErrorKind::AddrInUse);
    for i in 0..span {
        let port = first + u16::try_from((offset + i) % span).unwrap_or(0);
        match StdUdpSocket::bind(SocketAddrV4::new(local, port)) {
            Ok(socket) => {
                socket.set_ttl(u32::from(BFD_TTL))?;
                socket.connect(remote)?;
                socket.set_nonblocking(true)?;
                return UdpSocket::from_std(socket);
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Receives one datagram with its TTL.
///
/// # Errors
///
/// The socket error.
pub(crate) async fn recv(socket: &UdpSocket) -> io::Result<Datagram> {
    loop {
        socket.readable().await?;
        match socket.try_io(Interest::READABLE, || recv_now(socket)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            other => return other,
        }
    }
}

/// One non-blocking `recvmsg` with the TTL control message.
fn recv_now(socket: &UdpSocket) -> io::Result<Datagram> {
    let mut buf = [0_u8; MAX_DATAGRAM];
    let mut cmsg = nix::cmsg_space!(libc::c_int);
    let (from, ttl, n) = {
        let mut iov = [io::IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<SockaddrIn>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        let ttl = msg.cmsgs().ok().and_then(|mut c| {
            c.find_map(|m| match m {
                ControlMessageOwned::Ipv4Ttl(t) => u8::try_from(t).ok(),
                _ => None,
            })
        });
        let from = msg.address.map_or_else(
            || SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            |a| SocketAddr::from((a.ip(), a.port())),
        );
        (from, ttl, msg.bytes)
    };
    let payload = buf.get(..n).unwrap_or(&[]).to_vec();
    Ok(Datagram { from, ttl, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sender_uses_a_source_port_of_the_rfc_range_and_the_receiver_sees_ttl_255() {
        let rx = bind_receiver(IpAddr::from(Ipv4Addr::LOCALHOST), 0).expect("receiver");
        let to = rx.local_addr().expect("bound");
        let tx = bind_sender(IpAddr::from(Ipv4Addr::LOCALHOST), to, 50_000).expect("sender");
        let from = tx.local_addr().expect("bound");
        assert!(SOURCE_PORTS.contains(&from.port()), "{from}");
        tx.send(b"bfd").await.expect("sent");
        let got = recv(&rx).await.expect("received");
        assert_eq!(got.payload, b"bfd");
        assert_eq!(got.from, from);
        assert_eq!(got.ttl, Some(BFD_TTL));
    }

    #[tokio::test]
    async fn the_receiver_reports_a_lower_ttl_for_the_driver_to_discard() {
        let rx = bind_receiver(IpAddr::from(Ipv4Addr::LOCALHOST), 0).expect("receiver");
        let to = rx.local_addr().expect("bound");
        let tx = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("socket");
        tx.set_ttl(64).expect("ttl");
        tx.send_to(b"far", to).expect("sent");
        let got = recv(&rx).await.expect("received");
        assert_eq!(got.ttl, Some(64));
    }

    #[test]
    fn a_taken_source_port_moves_to_the_next() {
        let rx = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("socket");
        let to = rx.local_addr().expect("bound");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _guard = rt.enter();
        let a = bind_sender(IpAddr::from(Ipv4Addr::LOCALHOST), to, 65_535).expect("a");
        let b = bind_sender(IpAddr::from(Ipv4Addr::LOCALHOST), to, 65_535).expect("b");
        let (pa, pb) = (
            a.local_addr().expect("a").port(),
            b.local_addr().expect("b").port(),
        );
        assert_ne!(pa, pb);
        assert!(SOURCE_PORTS.contains(&pa) && SOURCE_PORTS.contains(&pb));
    }
}
