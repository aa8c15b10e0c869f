//! Reading the files a user names: scenario files, captures and MRT files, sweep results.
//!
//! Every command that reads such a file goes through [`read`] (or [`read_text`]), which
//! refuses, before reading a byte:
//!
//! - anything that is not a regular file: a directory, a FIFO (opening one for reading would
//!   block until a writer appears), a socket, a character or block device (`/dev/zero` never
//!   ends). Symbolic links are followed; what they point to must be a regular file;
//! - a regular file larger than the bound of its [`Kind`]: 16 MiB for a scenario file (the
//!   largest in the library is 3 KB, and a topology with thousands of prefixes
//!   generates them from `[prefixes]` counts rather than listing them), 1 GiB for a capture or
//!   MRT file (after gzip decompression too: [`crate::capture::decode::gunzip`] applies the
//!   same bound), 256 MiB for a sweep or advise result.
//!
//! The type and size are checked on the path, then again on the opened file (the path may
//! have changed in between), and the read itself stops one byte past the bound, so a file
//! that grows while it is read is refused rather than read without limit.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a file is read as; each kind has its size bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A pcap, pcapng or MRT file, possibly gzip-compressed (`holdtime decode`).
    Capture,
    /// A JSON result of `sweep`, `advise --json` or `run --format json` (`merge`, `report`).
    Result,
    /// A scenario file (`run`, `check`, `sweep`, `advise`, `live`).
    Scenario,
}

/// 16 MiB: the largest scenario file read.
pub const MAX_SCENARIO_BYTES: u64 = 16 * 1024 * 1024;
/// 1 GiB: the largest capture or MRT file read, before and after gzip decompression.
pub const MAX_CAPTURE_BYTES: u64 = 1024 * 1024 * 1024;
/// 256 MiB: the largest sweep, advise or run result read.
pub const MAX_RESULT_BYTES: u64 = 256 * 1024 * 1024;

impl Kind {
    /// The largest file of this kind that is read, in bytes.
    #[must_use]
    pub const fn limit(self) -> u64 {
        match self {
            Self::Capture => MAX_CAPTURE_BYTES,
            Self::Result => MAX_RESULT_BYTES,
            Self::Scenario => MAX_SCENARIO_BYTES,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Capture => "capture or MRT file",
            Self::Result => "result file",
            Self::Scenario => "scenario file",
        })
    }
}

/// What a path names when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// A block device.
    BlockDevice,
    /// A character device, such as `/dev/zero` or a terminal.
    CharDevice,
    /// A directory.
    Directory,
    /// A FIFO (named pipe), such as `/dev/stdin` fed by a shell pipe.
    Fifo,
    /// A Unix domain socket.
    Socket,
    /// Anything else the platform has.
    Unknown,
}

impl FileType {
    fn of(t: std::fs::FileType) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if t.is_fifo() {
                return Self::Fifo;
            }
            if t.is_socket() {
                return Self::Socket;
            }
            if t.is_char_device() {
                return Self::CharDevice;
            }
            if t.is_block_device() {
                return Self::BlockDevice;
            }
        }
        if t.is_dir() {
            Self::Directory
        } else {
            Self::Unknown
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BlockDevice => "a block device",
            Self::CharDevice => "a character device",
            Self::Directory => "a directory",
            Self::Fifo => "a FIFO (named pipe)",
            Self::Socket => "a socket",
            Self::Unknown => "not a regular file",
        })
    }
}

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The operating system refused to open or read it.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The path names a directory, FIFO, socket or device.
    #[error(
        "{}: is {found}, not a regular file: a {kind} is read only from a regular file",
        path.display()
    )]
    NotAFile {
        /// The path given.
        path: PathBuf,
        /// What it names.
        found: FileType,
        /// What it was to be read as.
        kind: Kind,
    },
    /// The text is not UTF-8. A scenario file is TOML, which "must be a valid UTF-8 encoded
    /// Unicode document" (TOML 1.0, "Spec"); a result is JSON, exchanged as UTF-8 (RFC 8259
    /// §8.1).
    #[error(
        "{}: not UTF-8 text (invalid byte at offset {offset}): a {kind} must be UTF-8",
        path.display()
    )]
    NotUtf8 {
        /// The path given.
        path: PathBuf,
        /// The offset of the first invalid byte.
        offset: usize,
        /// What it was to be read as.
        kind: Kind,
    },
    /// The file is larger than its kind's bound.
    #[error(
        "{}: {} is larger than the {} a {kind} may have",
        path.display(),
        show_size(*size),
        show_size(kind.limit())
    )]
    TooLarge {
        /// The path given.
        path: PathBuf,
        /// Its size in bytes, or the bound plus one when it grew while being read.
        size: u64,
        /// What it was to be read as.
        kind: Kind,
    },
}

/// `16 MiB`, `1 GiB`, or bytes with digit groups when not a whole number of MiB.
#[must_use]
pub fn show_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    const GIB: u64 = 1024 * MIB;
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{} GiB", bytes / GIB)
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} bytes", group_digits(bytes))
    }
}

/// `16,777,217`: digits in groups of three.
#[must_use]
pub(crate) fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Reads the regular file at `path`, of at most `kind.limit()` bytes.
///
/// # Errors
///
/// [`ReadError::NotAFile`] for a directory, FIFO, socket or device (checked before opening
/// it, so a FIFO does not block); [`ReadError::TooLarge`] for a file over the bound (checked
/// before reading, and again while reading); [`ReadError::Io`] when it cannot be opened or
/// read.
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    check(path, &std::fs::metadata(path).map_err(io)?, kind)?;
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    check(path, &meta, kind)?;
    let limit = kind.limit();
    // The size only sizes the buffer; the read is bounded by `take` whatever it says.
    let mut data = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io)?;
    let read = u64::try_from(data.len()).unwrap_or(u64::MAX);
    if read > limit {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            size: read,
            kind,
        });
    }
    Ok(data)
}

/// As [`read`], for a UTF-8 text file.
///
/// # Errors
///
/// As [`read`], and [`ReadError::NotUtf8`] when the bytes are not UTF-8.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, ReadError> {
    String::from_utf8(read(path, kind)?).map_err(|e| ReadError::NotUtf8 {
        path: path.to_owned(),
        offset: e.utf8_error().valid_up_to(),
        kind,
    })
}

fn check(path: &Path, meta: &std::fs::Metadata, kind: Kind) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotAFile {
            path: path.to_owned(),
            found: FileType::of(meta.file_type()),
            kind,
        });
    }
    if meta.len() > kind.limit() {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            size: meta.len(),
            kind,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("holdtime-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn reads_a_regular_file_up_to_its_bound() {
        let p = temp("ok.toml");
        std::fs::write(&p, "name = \"x\"\n").unwrap();
        assert_eq!(read_text(&p, Kind::Scenario).unwrap(), "name = \"x\"\n");
    }

    #[test]
    fn refuses_a_file_one_byte_over_the_bound_before_reading_it() {
        let p = temp("big.toml");
        let f = std::fs::File::create(&p).unwrap();
        // Sparse: the size is set without writing 16 MiB.
        f.set_len(MAX_SCENARIO_BYTES + 1).unwrap();
        let e = read(&p, Kind::Scenario).unwrap_err();
        assert!(
            matches!(e, ReadError::TooLarge { size, .. } if size == MAX_SCENARIO_BYTES + 1),
            "{e}"
        );
        assert!(
            e.to_string()
                .ends_with(": 16,777,217 bytes is larger than the 16 MiB a scenario file may have"),
            "{e}"
        );
        f.set_len(MAX_SCENARIO_BYTES).unwrap();
        assert_eq!(
            read(&p, Kind::Scenario).unwrap().len() as u64,
            MAX_SCENARIO_BYTES
        );
    }

    #[test]
    fn refuses_directories_and_devices() {
        let dir = temp("a-dir");
        std::fs::create_dir_all(&dir).unwrap();
        let e = read(&dir, Kind::Scenario).unwrap_err();
        assert!(
            matches!(
                e,
                ReadError::NotAFile {
                    found: FileType::Directory,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("is a directory, not a regular file"));
        #[cfg(unix)]
        {
            let e = read(Path::new("/dev/zero"), Kind::Capture).unwrap_err();
            assert!(
                matches!(
                    e,
                    ReadError::NotAFile {
                        found: FileType::CharDevice,
                        kind: Kind::Capture,
                        ..
                    }
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn refuses_invalid_utf8_with_its_offset() {
        let p = temp("latin1.toml");
        std::fs::write(&p, b"name = \"caf\xe9\"\n").unwrap();
        let e = read_text(&p, Kind::Scenario).unwrap_err();
        assert!(matches!(e, ReadError::NotUtf8 { offset: 11, .. }), "{e}");
    }

    #[test]
    fn sizes_show_in_binary_units_or_grouped_bytes() {
        assert_eq!(show_size(MAX_SCENARIO_BYTES), "16 MiB");
        assert_eq!(show_size(MAX_CAPTURE_BYTES), "1 GiB");
        assert_eq!(show_size(1_234_567), "1,234,567 bytes");
        assert_eq!(show_size(12), "12 bytes");
    }
}
