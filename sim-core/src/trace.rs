//! The event trace: structured records written as JSON lines, with a running hash.
//!
//! A [`Record`] is `(time, node, kind, fields)`. Its JSON form has the keys in that order and
//! the fields sorted by name (a `BTreeMap`), so the same record always serialises to the same
//! bytes. [`Tracer`] streams records to any `io::Write`, one JSON object per line, and keeps a
//! running hash of everything written.
//!
//! # The trace hash (fixed; documented so other tools can recompute it)
//!
//! FNV-1a 64 (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`) over the exact bytes
//! written, each line including its terminating `\n`. The hash of a run therefore equals the
//! FNV-1a 64 of its `.jsonl` file, and two runs are identical iff (barring collisions) their
//! hashes are. Time is written as integer nanoseconds, so no float formatting is involved in
//! the common fields.

use std::collections::BTreeMap;
use std::fmt;
use std::io;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::rng::{FNV_OFFSET_BASIS, fnv1a64_extend};
use crate::time::Instant;

/// One trace record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Virtual time of the record, in nanoseconds in JSON.
    pub time: Instant,
    /// The node (router, endpoint, link) the record is about.
    pub node: String,
    /// What happened, e.g. `"tcp.send"`, `"link.drop"`, `"bgp.state"`.
    pub kind: String,
    /// Details, sorted by name (and the keys of every object inside them too, whatever
    /// serde_json's features in the build).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "serialize_sorted"
    )]
    pub fields: BTreeMap<String, Value>,
}

/// Serialises `fields` with the keys of every nested object sorted.
fn serialize_sorted<S: Serializer>(
    fields: &BTreeMap<String, Value>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(fields.iter().map(|(k, v)| (k, Sorted(v))))
}

/// A JSON value that serialises with its object keys sorted at every depth. Without this the
/// bytes of a trace depended on the build: serde_json's `preserve_order` feature keeps
/// objects in insertion order (struct fields in declaration order), and Cargo turns it on for
/// every crate of a build as soon as one crate in it asks (a dev-dependency of `bench` does),
/// so `cargo test --workspace` wrote other traces than `cargo test -p tests`, with other
/// hashes.
struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, &Sorted(v))?;
                }
                m.end()
            }
            Value::Array(items) => s.collect_seq(items.iter().map(Sorted)),
            other => other.serialize(s),
        }
    }
}

impl Record {
    /// A record without fields.
    #[must_use]
    pub fn new(time: Instant, node: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            time,
            node: node.into(),
            kind: kind.into(),
            fields: BTreeMap::new(),
        }
    }

    /// The record with one more field (replacing a field of the same name).
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// Parses one JSON line back into a record.
    ///
    /// # Errors
    ///
    /// [`TraceError::Json`] if the line is not a record.
    pub fn from_json_line(line: &str) -> Result<Self, TraceError> {
        Ok(serde_json::from_str(line)?)
    }
}

/// Failure to write a trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The underlying writer failed.
    #[error("writing the trace failed: {0}")]
    Io(#[from] io::Error),
    /// A record could not be serialised (or parsed).
    #[error("trace record is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The running trace hash (see the module doc). Displays as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TraceHash(pub u64);

impl fmt::Display for TraceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Streams records as JSON lines to `W` and hashes them.
#[derive(Debug)]
pub struct Tracer<W> {
    out: W,
    hash: u64,
    records: u64,
    /// Reused line buffer: one allocation for the whole run.
    line: Vec<u8>,
}

impl Tracer<io::Sink> {
    /// A tracer that only hashes (nothing is kept).
    #[must_use]
    pub fn hash_only() -> Self {
        Self::new(io::sink())
    }
}

impl<W: io::Write> Tracer<W> {
    /// A tracer writing to `out`.
    #[must_use]
    pub const fn new(out: W) -> Self {
        Self {
            out,
            hash: FNV_OFFSET_BASIS,
            records: 0,
            line: Vec::new(),
        }
    }

    /// Writes one record as a JSON line and folds it into the hash.
    ///
    /// # Errors
    ///
    /// [`TraceError`] if serialisation or the writer fails; the hash then does not include
    /// the record.
    pub fn record(&mut self, record: &Record) -> Result<(), TraceError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.hash = fnv1a64_extend(self.hash, &self.line);
        self.records += 1;
        Ok(())
    }

    /// The hash of everything written so far.
    #[must_use]
    pub const fn hash(&self) -> TraceHash {
        TraceHash(self.hash)
    }

    /// Number of records written.
    #[must_use]
    pub const fn records(&self) -> u64 {
        self.records
    }

    /// Flushes the writer.
    ///
    /// # Errors
    ///
    /// The writer's error.
    pub fn flush(&mut self) -> Result<(), TraceError> {
        Ok(self.out.flush()?)
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::fnv1a64;

    #[test]
    fn nested_objects_serialise_with_sorted_keys_whatever_the_build() {
        // Inserted out of order: with serde_json's `preserve_order` (on in a workspace build)
        // the map keeps that order, and only `Sorted` puts it right.
        let mut inner = serde_json::Map::new();
        inner.insert("to".into(), Value::from("idle"));
        inner.insert("from".into(), Value::from("up"));
        let mut outer = serde_json::Map::new();
        outer.insert("type".into(), Value::from("session"));
        outer.insert("event".into(), Value::Array(vec![Value::Object(inner)]));
        let r = Record::new(Instant::from_nanos(1), "ce1", "timeline")
            .with("event", Value::Object(outer));
        let mut t = Tracer::new(Vec::new());
        t.record(&r).unwrap();
        assert_eq!(
            String::from_utf8(t.into_inner()).unwrap(),
            "{\"time\":1,\"node\":\"ce1\",\"kind\":\"timeline\",\"fields\":{\"event\":\
             {\"event\":[{\"from\":\"up\",\"to\":\"idle\"}],\"type\":\"session\"}}}\n"
        );
    }

    #[test]
    fn records_serialise_with_stable_key_order() {
        let r = Record::new(Instant::from_nanos(1_500), "ce1", "tcp.send")
            .with("seq", 7_u32)
            .with("flags", "SA")
            .with("acked", true);
        let mut t = Tracer::new(Vec::new());
        t.record(&r).expect("vec writer");
        let out = String::from_utf8(t.into_inner()).expect("utf8");
        assert_eq!(
            out,
            "{\"time\":1500,\"node\":\"ce1\",\"kind\":\"tcp.send\",\
             \"fields\":{\"acked\":true,\"flags\":\"SA\",\"seq\":7}}\n"
        );
        assert_eq!(Record::from_json_line(out.trim_end()).expect("parses"), r);
    }

    #[test]
    fn hash_is_fnv1a_of_the_written_bytes() {
        let mut t = Tracer::new(Vec::new());
        for i in 0..10_u64 {
            t.record(&Record::new(Instant::from_nanos(i), "n", "k").with("i", i))
                .expect("vec writer");
        }
        let h = t.hash();
        assert_eq!(t.records(), 10);
        let bytes = t.into_inner();
        assert_eq!(h, TraceHash(fnv1a64(&bytes)));
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 10);
    }

    #[test]
    fn different_records_give_different_hashes() {
        let mut a = Tracer::hash_only();
        let mut b = Tracer::hash_only();
        a.record(&Record::new(Instant::ZERO, "n", "k").with("v", 1))
            .expect("sink");
        b.record(&Record::new(Instant::ZERO, "n", "k").with("v", 2))
            .expect("sink");
        assert_ne!(a.hash(), b.hash());
        assert_eq!(format!("{}", TraceHash(0xab)), "00000000000000ab");
    }
}
