//! TCP MD5 signatures (RFC 2385) for live sessions, on Linux.
//!
//! Azure peerings accept an optional MD5 key; a router configured with one drops every TCP
//! segment that does not carry a valid signature. RFC 2385 §2: "Every segment sent on a TCP
//! connection to be protected against spoofing will contain the 16-byte MD5 digest"; the
//! kernel computes and checks the digests once the key is installed on the socket with
//! `setsockopt(IPPROTO_TCP, TCP_MD5SIG, struct tcp_md5sig)` for the peer's address: on the
//! connecting socket before `connect`, and on the listening socket before the peer's SYN
//! arrives (accepted sockets inherit it).
//!
//! # Why this module uses `unsafe`
//!
//! The workspace denies `unsafe_code`. No well-kept crate wraps `TCP_MD5SIG` (nix 0.30,
//! socket2 0.6, rustix 1.1 and tokio 1 have none; libc has the constant only), so the one
//! `setsockopt` call lives here, audited: the option value is a plain `#[repr(C)]` struct
//! built field by field (no uninitialised memory, no transmute), laid out as Linux's
//! `struct tcp_md5sig` (include/uapi/linux/tcp.h), and the kernel only reads it during the
//! call. A test pins the size the kernel expects (216 octets).

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

/// Longest key Linux accepts (`TCP_MD5SIG_MAXKEYLEN`).
pub const MAX_KEY_LEN: usize = 80;

/// An MD5 signature key (RFC 2385), 1 to [`MAX_KEY_LEN`] octets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Md5Key {
    len: u8,
    bytes: [u8; MAX_KEY_LEN],
}

impl std::fmt::Debug for Md5Key {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Md5Key({} octets)", self.len)
    }
}

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Md5KeyError {
    /// Empty, or longer than Linux accepts.
    #[error("an MD5 key must be 1 to {MAX_KEY_LEN} octets, not {0}")]
    Length(usize),
}

impl Md5Key {
    /// A key from its octets (a router's `password "..."` is its UTF-8 text).
    ///
    /// # Errors
    ///
    /// [`Md5KeyError::Length`] for an empty key or one over [`MAX_KEY_LEN`] octets.
    pub fn new(key: &[u8]) -> Result<Self, Md5KeyError> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(Md5KeyError::Length(key.len()));
        }
        let mut bytes = [0; MAX_KEY_LEN];
        bytes[..key.len()].copy_from_slice(key);
        Ok(Self {
            len: u8::try_from(key.len()).unwrap_or(u8::MAX),
            bytes,
        })
    }

    /// The key's octets.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// `struct __kernel_sockaddr_storage`: 128 octets, pointer-aligned.
#[repr(C, align(8))]
struct SockaddrStorage([u8; 128]);

/// `struct tcp_md5sig` of include/uapi/linux/tcp.h.
#[repr(C)]
struct TcpMd5Sig {
    addr: SockaddrStorage,
    flags: u8,
    prefixlen: u8,
    keylen: u16,
    ifindex: i32,
    key: [u8; MAX_KEY_LEN],
}

impl TcpMd5Sig {
    /// The option value that installs `key` for segments to and from `peer`.
    fn new(peer: IpAddr, key: &Md5Key) -> Self {
        let mut addr = [0u8; 128];
        match peer {
            IpAddr::V4(a) => {
                // struct sockaddr_in: family (host order), port 0, address.
                addr[..2].copy_from_slice(&af(libc::AF_INET).to_ne_bytes());
                addr[4..8].copy_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                // struct sockaddr_in6: family, port 0, flow info 0, address, scope 0.
                addr[..2].copy_from_slice(&af(libc::AF_INET6).to_ne_bytes());
                addr[8..24].copy_from_slice(&a.octets());
            }
        }
        Self {
            addr: SockaddrStorage(addr),
            flags: 0,
            prefixlen: 0,
            keylen: u16::from(key.len),
            ifindex: 0,
            key: key.bytes,
        }
    }
}

fn af(family: libc::c_int) -> u16 {
    u16::try_from(family).unwrap_or(0)
}

/// Installs `key` on `socket` for segments exchanged with `peer` (`None` removes it).
///
/// # Errors
///
/// The `setsockopt` error (e.g. `EINVAL` for an address family the socket does not have).
pub fn set_key(socket: &impl AsRawFd, peer: IpAddr, key: Option<&Md5Key>) -> io::Result<()> {
    let empty = Md5Key {
        len: 0,
        bytes: [0; MAX_KEY_LEN],
    };
    let sig = TcpMd5Sig::new(peer, key.unwrap_or(&empty));
    setsockopt_md5(socket.as_raw_fd(), &sig)
}

#[allow(
    unsafe_code,
    reason = "the one audited setsockopt(TCP_MD5SIG); see the module docs"
)]
fn setsockopt_md5(fd: libc::c_int, sig: &TcpMd5Sig) -> io::Result<()> {
    let len = libc::socklen_t::try_from(size_of::<TcpMd5Sig>())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `sig` is a live, fully initialised `#[repr(C)]` value laid out as the kernel's
    // `struct tcp_md5sig`; the pointer and `len` describe exactly that value, which outlives
    // the call; setsockopt only reads from it. `fd` is an open socket borrowed by the caller.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            std::ptr::from_ref(sig).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_value_has_the_kernels_layout() {
        // sizeof(struct tcp_md5sig) on Linux: 128 + 1 + 1 + 2 + 4 + 80.
        assert_eq!(size_of::<TcpMd5Sig>(), 216);
        assert_eq!(std::mem::offset_of!(TcpMd5Sig, keylen), 130);
        assert_eq!(std::mem::offset_of!(TcpMd5Sig, key), 136);
        let key = Md5Key::new(b"secret").unwrap();
        let sig = TcpMd5Sig::new("192.0.2.1".parse().unwrap(), &key);
        assert_eq!(sig.addr.0[4..8], [192, 0, 2, 1]);
        assert_eq!(u16::from_ne_bytes([sig.addr.0[0], sig.addr.0[1]]), 2);
        assert_eq!(sig.keylen, 6);
        assert_eq!(&sig.key[..6], b"secret");
    }

    #[test]
    fn keys_are_one_to_eighty_octets_and_never_printed() {
        assert_eq!(Md5Key::new(b""), Err(Md5KeyError::Length(0)));
        assert_eq!(Md5Key::new(&[b'k'; 81]), Err(Md5KeyError::Length(81)));
        let k = Md5Key::new(&[b'k'; 80]).unwrap();
        assert_eq!(k.as_bytes().len(), 80);
        assert_eq!(format!("{k:?}"), "Md5Key(80 octets)");
    }

    #[test]
    fn the_kernel_accepts_the_option_on_a_tcp_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let key = Md5Key::new(b"secret").unwrap();
        set_key(&listener, "127.0.0.1".parse().unwrap(), Some(&key)).unwrap();
        set_key(&listener, "127.0.0.1".parse().unwrap(), None).unwrap();
    }
}
