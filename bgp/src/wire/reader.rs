//! A bounds-checked byte reader with sub-readers (rustls `Reader::sub`), private to `wire`.
//!
//! Every read returns `None` instead of panicking when the input is short; callers turn that
//! into the typed error of their layer. A reader remembers the absolute offset of its first
//! byte inside the whole message, so errors can carry the offset a peer's bytes went wrong at.

use smallvec::{Array, SmallVec};

/// Cursor over a borrowed byte slice.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    /// Absolute offset (within the BGP message, header included) of `buf[0]`.
    base: usize,
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, whose first byte sits at absolute offset `base`.
    pub(crate) const fn new(buf: &'a [u8], base: usize) -> Self {
        Self { buf, base, pos: 0 }
    }

    /// Absolute offset of the next unread byte.
    pub(crate) const fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    pub(crate) const fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been read.
    pub(crate) const fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Reads one octet.
    #[inline]
    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// Reads a big-endian `u16`.
    #[inline]
    pub(crate) fn u16(&mut self) -> Option<u16> {
        let b = self.array::<2>()?;
        Some(u16::from_be_bytes(b))
    }

    /// Reads a big-endian `u32`.
    #[inline]
    pub(crate) fn u32(&mut self) -> Option<u32> {
        let b = self.array::<4>()?;
        Some(u32::from_be_bytes(b))
    }

    /// Reads a fixed-size array.
    #[inline]
    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.take(N)?;
        s.try_into().ok()
    }

    /// Reads `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// Splits off the next `n` bytes as a sub-reader; the caller must consume it entirely.
    #[inline]
    pub(crate) fn sub(&mut self, n: usize) -> Option<Self> {
        let base = self.offset();
        let s = self.take(n)?;
        Some(Reader::new(s, base))
    }

    /// Reads everything left, returned with the octets already read before it: the unread part
    /// is `all[start..]` of `(all, start)`. For decoders that load a fixed-size window ending
    /// inside the unread part.
    pub(crate) fn rest_with_read(&mut self) -> (&'a [u8], usize) {
        let start = self.pos;
        self.pos = self.buf.len();
        (self.buf, start)
    }

    /// Reads everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        s
    }
}

/// Decodes `raw`, a run of `W`-octet values, into a list stored inline up to `N` values.
///
/// Each value is written once into an array that then becomes the list, without the capacity
/// check a push makes per value; a longer list goes to the heap in one allocation of the
/// exact size. Octets past the last whole value are ignored: callers check the length first.
#[inline]
pub(crate) fn fixed_list<T: Copy, const W: usize, const N: usize>(
    raw: &[u8],
    blank: T,
    value: impl FnMut(&[u8; W]) -> T,
) -> SmallVec<[T; N]>
where
    [T; N]: Array<Item = T>,
{
    let (chunks, _) = raw.as_chunks::<W>();
    if chunks.len() <= N {
        let mut buf = [blank; N];
        for (slot, v) in buf.iter_mut().zip(chunks.iter().map(value)) {
            *slot = v;
        }
        // `len <= N` on this branch, as `from_buf_and_len` requires.
        SmallVec::from_buf_and_len(buf, chunks.len())
    } else {
        SmallVec::from_vec(chunks.iter().map(value).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked_and_track_offsets() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5], 19);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.offset(), 20);
        let mut sub = r.sub(2).unwrap();
        assert_eq!(sub.offset(), 20);
        assert_eq!(sub.u16(), Some(0x0203));
        assert!(sub.is_empty());
        assert_eq!(r.u32(), None);
        assert_eq!(r.u16(), Some(0x0405));
        assert_eq!(r.u8(), None);
    }

    #[test]
    fn fixed_lists_are_inline_up_to_their_capacity() {
        let raw = [0, 1, 0, 2, 0, 3, 9];
        let short: SmallVec<[u16; 4]> = fixed_list(&raw, 0, |c: &[u8; 2]| u16::from_be_bytes(*c));
        assert_eq!(short.as_slice(), [1, 2, 3]);
        assert!(!short.spilled());
        let long: SmallVec<[u16; 2]> = fixed_list(&raw, 0, |c: &[u8; 2]| u16::from_be_bytes(*c));
        assert_eq!(long.as_slice(), [1, 2, 3]);
        assert!(long.spilled());
    }
}
