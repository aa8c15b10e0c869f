//! The grid of a sweep: `--set KEY=V1,V2,...` arguments and the scenario variants they make.
//!
//! A setting edits the scenario's TOML document at a dotted key *before* validation, so every
//! key a scenario file accepts can be swept and a bad value is reported by the ordinary
//! validator, located in the edited document. Keys are dotted paths into the document:
//!
//! - `bgp.hold_time=10s,180s`, `bgp.keepalive=3s`, `bfd.interval=300ms`, `bgp.profile=frr`,
//!   `tcp.rto_min=200ms`, `tcp.preset=linux,rfc6298`, `duration=1h`;
//! - `profile=...` is short for `bgp.profile=...` (the profile lives in `[bgp]`);
//! - `NAME[INDEX]` picks one element of an array of tables (`fault[0].at=4m`);
//! - `NAME[TARGET]` picks the element whose `target` is TARGET, creating it when there is none
//!   (`link[circuit.primary].loss=0.01` adds a `[[link]]` for the primary link);
//! - `NAME` on an existing array of tables sets the key in every element (`link.loss=0.05`).
//!
//! Values are TOML values (`0.01`, `true`, `{ mean_good = "2m", mean_bad = "3s" }`); anything
//! that is not a TOML value is taken as a string (`180s`, `linux`). Values are separated by
//! commas outside braces, brackets and quotes.
//!
//! The grid is the cartesian product of the settings in the order given: the first `--set`
//! varies slowest. Contract: the same arguments give the same points in the same order.

use std::fmt;

use toml::{Table, Value};

/// One `--set KEY=V1,V2,...` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct SetArg {
    /// The dotted key as written.
    pub key: String,
    /// The values, as written (each parsed with [`parse_value`] when applied).
    pub values: Vec<String>,
}

/// Why a `--set` argument is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// No `=` between key and values.
    #[error("`{0}`: expected KEY=V1,V2,...")]
    Syntax(String),
    /// An empty key, key segment or value list.
    #[error("`{0}`: empty key or value")]
    Empty(String),
    /// A selector `[..]` that is not closed.
    #[error("`{key}`: unclosed `[` in key")]
    Unclosed {
        /// The key.
        key: String,
    },
    /// The key goes through a value that is not a table.
    #[error("`{key}`: `{segment}` is not a table in the scenario")]
    NotATable {
        /// The key.
        key: String,
        /// The segment that is not a table.
        segment: String,
    },
    /// An index past the end of an array.
    #[error("`{key}`: `{segment}` has {len} element(s), no index {index}")]
    NoSuchIndex {
        /// The key.
        key: String,
        /// The array's name.
        segment: String,
        /// Its length.
        len: usize,
        /// The index asked for.
        index: usize,
    },
    /// `NAME.key` on an array of tables that does not exist or is empty.
    #[error(
        "`{key}`: the scenario has no `[[{segment}]]` table; name one with `{segment}[TARGET]`"
    )]
    EmptyArray {
        /// The key.
        key: String,
        /// The array's name.
        segment: String,
    },
    /// The same key given twice.
    #[error("`{0}` is set twice")]
    Duplicate(String),
}

impl SetArg {
    /// Parses `KEY=V1,V2,...`.
    ///
    /// # Errors
    ///
    /// [`SetError::Syntax`] without `=`, [`SetError::Empty`] for an empty key or value.
    pub fn parse(arg: &str) -> Result<Self, SetError> {
        let (key, values) = arg
            .split_once('=')
            .ok_or_else(|| SetError::Syntax(arg.to_owned()))?;
        let key = key.trim();
        let values: Vec<String> = split_values(values)
            .into_iter()
            .map(|v| v.trim().to_owned())
            .collect();
        if key.is_empty() || values.iter().any(String::is_empty) {
            return Err(SetError::Empty(arg.to_owned()));
        }
        // Check the key's shape now, so that errors come before any run.
        parse_key(key)?;
        Ok(Self {
            key: key.to_owned(),
            values,
        })
    }
}

impl std::str::FromStr for SetArg {
    type Err = SetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// One point of the grid: a value for each key, in `--set` order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    /// `(key, value)` pairs, in `--set` order.
    pub settings: Vec<(String, String)>,
}

impl Point {
    /// `key=value, key=value`, or `(as written)` for the scenario unchanged.
    #[must_use]
    pub fn label(&self) -> String {
        if self.settings.is_empty() {
            return "(as written)".to_owned();
        }
        self.settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Applies every setting to `doc`.
    ///
    /// # Errors
    ///
    /// A [`SetError`] when a key cannot be placed in the document.
    pub fn apply(&self, doc: &mut Table) -> Result<(), SetError> {
        for (k, v) in &self.settings {
            set_key(doc, k, parse_value(v))?;
        }
        Ok(())
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Every combination of the settings, the first setting varying slowest. No settings give
/// one point, the scenario as written.
///
/// # Errors
///
/// [`SetError::Duplicate`] when a key is given twice.
pub fn points(sets: &[SetArg]) -> Result<Vec<Point>, SetError> {
    for (i, s) in sets.iter().enumerate() {
        if sets.iter().take(i).any(|o| o.key == s.key) {
            return Err(SetError::Duplicate(s.key.clone()));
        }
    }
    let mut out = vec![Point {
        settings: Vec::new(),
    }];
    for s in sets {
        let mut next = Vec::with_capacity(out.len() * s.values.len());
        for p in &out {
            for v in &s.values {
                let mut q = p.clone();
                q.settings.push((s.key.clone(), v.clone()));
                next.push(q);
            }
        }
        out = next;
    }
    Ok(out)
}

/// A value as TOML when it is one (`0.01`, `true`, `{ mean_good = "2m", ... }`), else as a string
/// (`180s`, `linux`).
#[must_use]
pub fn parse_value(text: &str) -> Value {
    let doc = format!("v = {text}");
    match doc.parse::<Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(text.to_owned())),
        Err(_) => Value::String(text.to_owned()),
    }
}

/// Splits on commas that are outside braces, brackets and double quotes.
fn split_values(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '{' | '[' if !quoted => depth += 1,
            '}' | ']' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// The top-level arrays of tables of a scenario file (`[[link]]` …): a key through one of
/// them that does not exist yet needs a selector.
const ARRAYS_OF_TABLES: [&str; 4] = ["link", "fault", "probe", "expect"];

/// A key segment: a name, optionally with a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    Index(String, usize),
    Target(String, String),
}

fn parse_key(key: &str) -> Result<Vec<Segment>, SetError> {
    let mut segs = Vec::new();
    let mut rest = key;
    while !rest.is_empty() {
        let name_end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..name_end];
        if name.is_empty() {
            return Err(SetError::Empty(key.to_owned()));
        }
        rest = &rest[name_end..];
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or_else(|| SetError::Unclosed {
                key: key.to_owned(),
            })?;
            let sel = &after[..close];
            if sel.is_empty() {
                return Err(SetError::Empty(key.to_owned()));
            }
            segs.push(match sel.parse::<usize>() {
                Ok(i) => Segment::Index(name.to_owned(), i),
                Err(_) => Segment::Target(name.to_owned(), sel.to_owned()),
            });
            rest = &after[close + 1..];
        } else {
            segs.push(Segment::Name(name.to_owned()));
        }
        if let Some(r) = rest.strip_prefix('.') {
            if r.is_empty() {
                return Err(SetError::Empty(key.to_owned()));
            }
            rest = r;
        }
    }
    // `profile` lives in `[bgp]`.
    if segs == [Segment::Name("profile".to_owned())] {
        segs.insert(0, Segment::Name("bgp".to_owned()));
    }
    Ok(segs)
}

/// `doc` with every per-router and per-session timer and BFD setting removed, so that the
/// scenario-wide `[bgp]` and `[bfd]` values an advise candidate sets reach every router the
/// file may configure: `hold_time` and `keepalive` of each `[bgp.router.NAME]` and
/// `[[router]]`, the `bfd` of each `[[router]]` and `[[session]]`, and each
/// `[bfd.router.NAME]`. Otherwise a router with timers of its own (every router of a lab
/// written in the general form) would keep them, and every candidate would measure the same.
#[must_use]
pub fn without_router_timers(doc: &Table) -> Table {
    let mut doc = doc.clone();
    let strip = |t: &mut Table, keys: &[&str]| {
        for k in keys {
            t.remove(*k);
        }
    };
    if let Some(Value::Table(bgp)) = doc.get_mut("bgp")
        && let Some(Value::Table(routers)) = bgp.get_mut("router")
    {
        for (_, r) in routers.iter_mut() {
            if let Value::Table(r) = r {
                strip(r, &["hold_time", "keepalive"]);
            }
        }
    }
    if let Some(Value::Table(bfd)) = doc.get_mut("bfd") {
        bfd.remove("router");
    }
    for (array, keys) in [
        ("router", &["hold_time", "keepalive", "bfd"][..]),
        ("session", &["bfd"][..]),
    ] {
        if let Some(Value::Array(items)) = doc.get_mut(array) {
            for item in items {
                if let Value::Table(t) = item {
                    strip(t, keys);
                }
            }
        }
    }
    doc
}

/// Sets `value` at the dotted `key` of `doc` (see the module documentation for the syntax).
///
/// # Errors
///
/// A [`SetError`] when the key runs through something that is not a table, an index past
/// the end of an array, or an empty array of tables.
pub fn set_key(doc: &mut Table, key: &str, value: Value) -> Result<(), SetError> {
    let segs = parse_key(key)?;
    set_in(doc, key, &segs, value)
}

fn set_in(table: &mut Table, key: &str, segs: &[Segment], value: Value) -> Result<(), SetError> {
    let Some((first, rest)) = segs.split_first() else {
        return Ok(());
    };
    let not_table = |segment: &str| SetError::NotATable {
        key: key.to_owned(),
        segment: segment.to_owned(),
    };
    match first {
        Segment::Name(name) if rest.is_empty() => {
            table.insert(name.clone(), value);
            Ok(())
        }
        Segment::Name(name) => {
            if ARRAYS_OF_TABLES.contains(&name.as_str()) && !table.contains_key(name) {
                return Err(SetError::EmptyArray {
                    key: key.to_owned(),
                    segment: name.clone(),
                });
            }
            let entry = table
                .entry(name.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            match entry {
                Value::Table(t) => set_in(t, key, rest, value),
                Value::Array(items) => {
                    if items.is_empty() {
                        return Err(SetError::EmptyArray {
                            key: key.to_owned(),
                            segment: name.clone(),
                        });
                    }
                    for item in items.iter_mut() {
                        let Value::Table(t) = item else {
                            return Err(not_table(name));
                        };
                        set_in(t, key, rest, value.clone())?;
                    }
                    Ok(())
                }
                _ => Err(not_table(name)),
            }
        }
        Segment::Index(name, index) => {
            let Some(Value::Array(items)) = table.get_mut(name) else {
                return Err(SetError::NoSuchIndex {
                    key: key.to_owned(),
                    segment: name.clone(),
                    len: 0,
                    index: *index,
                });
            };
            let len = items.len();
            match items.get_mut(*index) {
                Some(Value::Table(t)) => set_in(t, key, rest, value),
                Some(_) => Err(not_table(name)),
                None => Err(SetError::NoSuchIndex {
                    key: key.to_owned(),
                    segment: name.clone(),
                    len,
                    index: *index,
                }),
            }
        }
        Segment::Target(name, target) => {
            let entry = table
                .entry(name.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(items) = entry else {
                return Err(not_table(name));
            };
            let found = items
                .iter()
                .position(|v| v.get("target").and_then(Value::as_str) == Some(target.as_str()));
            let i = if let Some(i) = found {
                i
            } else {
                let mut t = Table::new();
                t.insert("target".to_owned(), Value::String(target.clone()));
                items.push(Value::Table(t));
                items.len() - 1
            };
            match items.get_mut(i) {
                Some(Value::Table(t)) => set_in(t, key, rest, value),
                _ => Err(not_table(name)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_values_outside_braces() {
        let a = SetArg::parse(
            "link[circuit.primary].loss=0.01,{ mean_good = \"2m\", mean_bad = \"3s\" }",
        )
        .unwrap();
        assert_eq!(
            a.values,
            vec!["0.01", "{ mean_good = \"2m\", mean_bad = \"3s\" }"]
        );
    }

    #[test]
    fn grid_is_cartesian_with_first_key_slowest() {
        let sets = [
            SetArg::parse("bgp.hold_time=10s,180s").unwrap(),
            SetArg::parse("tcp.preset=linux,rfc6298").unwrap(),
        ];
        let p = points(&sets).unwrap();
        let labels: Vec<String> = p.iter().map(Point::label).collect();
        assert_eq!(
            labels,
            [
                "bgp.hold_time=10s tcp.preset=linux",
                "bgp.hold_time=10s tcp.preset=rfc6298",
                "bgp.hold_time=180s tcp.preset=linux",
                "bgp.hold_time=180s tcp.preset=rfc6298",
            ]
        );
    }

    #[test]
    fn sets_nested_keys_and_targets() {
        let mut doc: Table = "name = \"x\"\n[[link]]\ntarget = \"a\"\nloss = 0.5\n"
            .parse()
            .unwrap();
        set_key(&mut doc, "bgp.hold_time", parse_value("10s")).unwrap();
        set_key(&mut doc, "profile", parse_value("frr")).unwrap();
        set_key(&mut doc, "link[b].loss", parse_value("0.01")).unwrap();
        set_key(&mut doc, "link[a].delay", parse_value("5ms")).unwrap();
        let text = toml::to_string(&doc).unwrap();
        assert!(text.contains("hold_time = \"10s\""), "{text}");
        assert!(text.contains("profile = \"frr\""), "{text}");
        let links = doc["link"].as_array().unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!(links[1]["loss"].as_float(), Some(0.01));
        assert_eq!(links[0]["delay"].as_str(), Some("5ms"));
    }

    #[test]
    fn rejects_keys_through_scalars_and_bad_indices() {
        let mut doc: Table = "name = \"x\"\n".parse().unwrap();
        assert!(matches!(
            set_key(&mut doc, "name.x", Value::Integer(1)),
            Err(SetError::NotATable { .. })
        ));
        assert!(matches!(
            set_key(&mut doc, "fault[3].at", Value::Integer(1)),
            Err(SetError::NoSuchIndex { .. })
        ));
        assert!(SetArg::parse("bgp.hold_time").is_err());
        assert!(SetArg::parse("link[a.loss=1").is_err());
        assert!(points(&[SetArg::parse("a=1").unwrap(), SetArg::parse("a=2").unwrap()]).is_err());
    }
}
