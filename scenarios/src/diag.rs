//! Located diagnostics for scenario files: errors and warnings that name the file, line,
//! column and key, say what was expected and list the allowed values.
//!
//! Two sources feed them: the TOML/serde layer (syntax errors, unknown keys, wrong types,
//! unknown variants, which `toml` reports with a byte span) and the semantic checks of
//! [`crate::validate`] (unknown targets, Azure's rules), which know a [`KeyPath`] such as
//! `fault[1].target` but not where it sits in the text. [`Source`] keeps the spanned TOML
//! document so that each can be turned into the other: a span into the key path it falls in,
//! a key path into the span of its value.
//!
//! Rendering follows rustc and `toml`: `file:line:col: error: message`, then the source line
//! with a caret under the offending text, then `= expected:`/`= allowed:`/`= note:` lines.
//! Columns count characters, from 1. A diagnostic stays a few lines long whatever the input:
//! a source line longer than [`MAX_LINE_CHARS`] is shown as a window around the column, cut
//! with `...` (as rustc does), and a message that quotes a long value is cut in its middle.

use std::fmt;
use std::ops::Range;

use serde::Serialize;
use toml::de::{DeTable, DeValue};

/// The longest source line shown whole; a longer one is shown as a window of this many
/// characters around the column.
pub const MAX_LINE_CHARS: usize = 120;
/// Characters of the window before the column (the rest follows it).
const LINE_CONTEXT_BEFORE: usize = 40;
/// The longest message shown whole: one that quotes a long value (an unknown name of 200 KB)
/// keeps its first and last characters around a count of those left out.
pub const MAX_MESSAGE_CHARS: usize = 240;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The scenario is refused.
    Error,
    /// The scenario runs, but something was adjusted or will not behave as the file suggests.
    Warning,
}

/// One step of a [`KeyPath`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum KeySegment {
    /// A table key.
    Key(String),
    /// An array index (0-based, as `fault[0]` is the first `[[fault]]`).
    Index(usize),
}

/// Where a value sits in a scenario document, e.g. `fault[1].target` or `bgp.router.ce1`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct KeyPath(Vec<KeySegment>);

impl KeyPath {
    /// The document root.
    #[must_use]
    pub const fn root() -> Self {
        Self(Vec::new())
    }

    /// This path followed by table key `key`.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut v = self.0.clone();
        v.push(KeySegment::Key(key.to_owned()));
        Self(v)
    }

    /// This path followed by array index `i`.
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(KeySegment::Index(i));
        Self(v)
    }

    /// The segments, outermost first.
    #[must_use]
    pub fn segments(&self) -> &[KeySegment] {
        &self.0
    }

    /// Whether this is the document root.
    #[must_use]
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                KeySegment::Key(k) if i == 0 => f.write_str(k)?,
                KeySegment::Key(k) => write!(f, ".{k}")?,
                KeySegment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A problem found in a scenario file, with enough structure to render it and to test it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The key the problem is about (root for whole-document problems).
    pub path: KeyPath,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What was expected there, when that is not obvious from the message.
    pub expected: Option<String>,
    /// The values that would have been accepted (targets, fault kinds, profiles, ...).
    pub allowed: Vec<String>,
    /// Why (a domain fact or an RFC quote) or what happens instead.
    pub note: Option<String>,
    /// Byte range in the source text, when known.
    pub span: Option<Range<usize>>,
}

impl Diagnostic {
    /// An error about the value at `path`.
    #[must_use]
    pub fn error(path: KeyPath, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            path,
            message: message.into(),
            expected: None,
            allowed: Vec::new(),
            note: None,
            span: None,
        }
    }

    /// A warning about the value at `path`.
    #[must_use]
    pub fn warning(path: KeyPath, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(path, message)
        }
    }

    /// Adds what was expected.
    #[must_use]
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// Adds the list of allowed values.
    #[must_use]
    pub fn allowed<I, S>(mut self, allowed: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed = allowed.into_iter().map(Into::into).collect();
        self
    }

    /// Adds an explanatory note.
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Whether this refuses the scenario.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A scenario's text with its name, and the spanned TOML document when it parsed.
#[derive(Debug, Clone)]
pub struct Source {
    name: String,
    text: String,
}

impl Source {
    /// A source called `name` (a path, or `<builtin:NAME>`) with contents `text`.
    #[must_use]
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// The file name used in diagnostics.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Fills in the span of `diag` from its key path (if it has none) and, for diagnostics
    /// that came with a span but no path (serde errors), the path from the span.
    pub fn locate(&self, diag: &mut Diagnostic) {
        let Ok(doc) = DeTable::parse(&self.text) else {
            return;
        };
        let root = doc.get_ref();
        if diag.span.is_none() {
            diag.span = span_of_path(root, diag.path.segments(), doc.span());
        } else if diag.path.is_root()
            && let Some(span) = &diag.span
        {
            let mut path = KeyPath::root();
            path_at_table(root, span.start, &mut path);
            diag.path = path;
        }
    }

    /// 1-based line and column (in characters) of byte `offset`.
    #[must_use]
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before.get(line_start..).unwrap_or("").chars().count() + 1;
        (line, col)
    }

    /// Renders a diagnostic the way rustc does.
    #[must_use]
    pub fn render(&self, diag: &Diagnostic) -> String {
        let mut out = String::new();
        let sev = match diag.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let key = if diag.path.is_root() {
            String::new()
        } else {
            format!(" (at `{}`)", diag.path)
        };
        match &diag.span {
            Some(span) => {
                let (line, col) = self.line_col(span.start);
                out.push_str(&format!(
                    "{}:{line}:{col}: {sev}: {}{key}\n",
                    self.name,
                    clip_message(&diag.message)
                ));
                let line_text = self.text.lines().nth(line - 1).unwrap_or("");
                let gutter = line.to_string().len();
                let pad = " ".repeat(gutter);
                // The caret covers the span, clipped to the end of its first line.
                let line_chars = line_text.chars().count();
                let remaining = line_chars.saturating_sub(col - 1);
                let span_chars = self
                    .text
                    .get(span.clone())
                    .map_or(1, |s| s.lines().next().unwrap_or("").chars().count());
                let width = span_chars.clamp(1, remaining.max(1));
                let (shown, caret_at, width) = window(line_text, line_chars, col - 1, width);
                out.push_str(&format!("{pad} |\n{line} | {shown}\n"));
                out.push_str(&format!(
                    "{pad} | {}{}\n",
                    " ".repeat(caret_at),
                    "^".repeat(width)
                ));
            }
            None => out.push_str(&format!(
                "{}: {sev}: {}{key}\n",
                self.name,
                clip_message(&diag.message)
            )),
        }
        if let Some(expected) = &diag.expected {
            out.push_str(&format!("  = expected: {expected}\n"));
        }
        if !diag.allowed.is_empty() {
            out.push_str(&format!("  = allowed: {}\n", diag.allowed.join(", ")));
        }
        if let Some(note) = &diag.note {
            out.push_str(&format!("  = note: {note}\n"));
        }
        out
    }

    /// Renders a list of diagnostics, errors first, then a one-line count.
    #[must_use]
    pub fn render_all(&self, diags: &[Diagnostic]) -> String {
        let mut sorted: Vec<&Diagnostic> = diags.iter().collect();
        sorted.sort_by_key(|d| (d.severity, d.span.as_ref().map_or(0, |s| s.start)));
        let mut out = String::new();
        for d in &sorted {
            out.push_str(&self.render(d));
        }
        let errors = diags.iter().filter(|d| d.is_error()).count();
        if errors > 0 {
            out.push_str(&format!(
                "{}: {errors} error{} found; the scenario was not run\n",
                self.name,
                if errors == 1 { "" } else { "s" }
            ));
        }
        out
    }

    /// Turns a `toml` deserialisation error into a located diagnostic.
    #[must_use]
    pub fn from_toml_error(&self, err: &toml::de::Error) -> Diagnostic {
        let mut diag = Diagnostic::error(KeyPath::root(), err.message().trim().to_owned());
        diag.span = err.span();
        if let Some((msg, allowed)) = split_expected_list(err.message()) {
            diag.message = msg;
            diag.allowed = allowed;
        }
        self.locate(&mut diag);
        // A missing field is reported with the span of the table it is missing from, which
        // starts at that table's first key: the path is the table, not that key.
        if diag.message.starts_with("missing field")
            && matches!(diag.path.0.last(), Some(KeySegment::Key(_)))
        {
            diag.path.0.pop();
        }
        diag
    }
}

/// The part of `line` (of `chars` characters) to show, with the caret's column (0-based) and
/// width in it: the whole line when it is at most [`MAX_LINE_CHARS`] long, else a window of that
/// many characters starting [`LINE_CONTEXT_BEFORE`] before column `col`, with `...` where the
/// line goes on, and the caret clipped to the window.
fn window(line: &str, chars: usize, col: usize, width: usize) -> (String, usize, usize) {
    if chars <= MAX_LINE_CHARS {
        return (line.to_owned(), col, width);
    }
    let start = col
        .saturating_sub(LINE_CONTEXT_BEFORE)
        .min(chars - MAX_LINE_CHARS);
    let end = start + MAX_LINE_CHARS;
    let mut shown = String::new();
    if start > 0 {
        shown.push_str("...");
    }
    shown.extend(line.chars().skip(start).take(MAX_LINE_CHARS));
    if end < chars {
        shown.push_str("...");
    }
    let lead = if start > 0 { 3 } else { 0 };
    let width = width.min(end - col).max(1);
    (shown, col - start + lead, width)
}

/// `message`, cut in its middle when longer than [`MAX_MESSAGE_CHARS`] characters.
fn clip_message(message: &str) -> std::borrow::Cow<'_, str> {
    let chars = message.chars().count();
    if chars <= MAX_MESSAGE_CHARS {
        return message.into();
    }
    let keep = MAX_MESSAGE_CHARS / 2;
    let head: String = message.chars().take(keep).collect();
    let tail: String = message.chars().skip(chars - keep).collect();
    format!(
        "{head}... ({} characters left out) ...{tail}",
        chars - 2 * keep
    )
    .into()
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant ...")
/// into the message and the allowed values, so they render on their own line.
fn split_expected_list(message: &str) -> Option<(String, Vec<String>)> {
    let message = message.trim();
    let (head, list) = message
        .split_once(", expected one of ")
        .or_else(|| message.split_once(", expected "))?;
    if !(head.starts_with("unknown field") || head.starts_with("unknown variant")) {
        return None;
    }
    // serde writes "one of `a`, `b`" for three or more and "`a` or `b`" for two.
    let list = list.replace("` or `", "`, `");
    let allowed: Vec<String> = list
        .split(", ")
        .map(|s| s.trim().trim_matches('`').to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    Some((head.to_owned(), allowed))
}

/// The span of the value at `path`; for a missing last key, the span of its parent table.
fn span_of_path(
    table: &DeTable<'_>,
    path: &[KeySegment],
    table_span: Range<usize>,
) -> Option<Range<usize>> {
    let Some((first, rest)) = path.split_first() else {
        return Some(table_span);
    };
    let KeySegment::Key(key) = first else {
        return Some(table_span);
    };
    let Some(value) = table.get(key.as_str()) else {
        return Some(table_span);
    };
    span_of_value(value.get_ref(), rest, value.span())
}

fn span_of_value(
    value: &DeValue<'_>,
    path: &[KeySegment],
    span: Range<usize>,
) -> Option<Range<usize>> {
    let Some((first, rest)) = path.split_first() else {
        return Some(span);
    };
    match (value, first) {
        (DeValue::Table(t), KeySegment::Key(_)) => span_of_path(t, path, span),
        (DeValue::Array(a), KeySegment::Index(i)) => match a.get(*i) {
            Some(v) => span_of_value(v.get_ref(), rest, v.span()),
            None => Some(span),
        },
        _ => Some(span),
    }
}

/// Finds the deepest key whose key or value span contains `offset`.
fn path_at_table(table: &DeTable<'_>, offset: usize, path: &mut KeyPath) {
    for (key, value) in table.iter() {
        let key_span = key.span();
        let value_span = value.span();
        if key_span.contains(&offset) || value_span.contains(&offset) {
            *path = path.key(key.get_ref());
            path_at_value(value.get_ref(), offset, path);
            return;
        }
        // Array-of-tables and dotted tables: the value's span may not cover its children.
        if let DeValue::Array(a) = value.get_ref() {
            for (i, item) in a.iter().enumerate() {
                if covers(item.get_ref(), item.span(), offset) {
                    *path = path.key(key.get_ref()).index(i);
                    path_at_value(item.get_ref(), offset, path);
                    return;
                }
            }
        }
        if let DeValue::Table(t) = value.get_ref()
            && t.iter()
                .any(|(k, v)| k.span().contains(&offset) || covers(v.get_ref(), v.span(), offset))
        {
            *path = path.key(key.get_ref());
            path_at_table(t, offset, path);
            return;
        }
    }
}

fn path_at_value(value: &DeValue<'_>, offset: usize, path: &mut KeyPath) {
    match value {
        DeValue::Table(t) => path_at_table(t, offset, path),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                if covers(item.get_ref(), item.span(), offset) {
                    *path = path.index(i);
                    path_at_value(item.get_ref(), offset, path);
                    return;
                }
            }
        }
        _ => {}
    }
}

fn covers(value: &DeValue<'_>, span: Range<usize>, offset: usize) -> bool {
    if span.contains(&offset) {
        return true;
    }
    match value {
        DeValue::Table(t) => t
            .iter()
            .any(|(k, v)| k.span().contains(&offset) || covers(v.get_ref(), v.span(), offset)),
        DeValue::Array(a) => a
            .iter()
            .any(|item| covers(item.get_ref(), item.span(), offset)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "name = \"x\"\n\n[[fault]]\nat = \"1s\"\n\n[[fault]]\nat = \"2s\"\ntarget = \"nowhere\"\n";

    #[test]
    fn key_path_displays_like_a_toml_path() {
        let p = KeyPath::root().key("fault").index(1).key("target");
        assert_eq!(p.to_string(), "fault[1].target");
        assert_eq!(KeyPath::root().to_string(), "(top level)");
    }

    #[test]
    fn locates_value_of_key_path_in_array_of_tables() {
        let src = Source::new("s.toml", DOC);
        let mut d = Diagnostic::error(KeyPath::root().key("fault").index(1).key("target"), "bad");
        src.locate(&mut d);
        let span = d.span.clone().unwrap();
        assert_eq!(&DOC[span.clone()], "\"nowhere\"");
        assert_eq!(src.line_col(span.start), (8, 10));
        let text = src.render(&d);
        assert!(
            text.starts_with("s.toml:8:10: error: bad (at `fault[1].target`)"),
            "{text}"
        );
        assert!(
            text.contains("8 | target = \"nowhere\"\n  |          ^^^^^^^^^"),
            "{text}"
        );
    }

    #[test]
    fn finds_key_path_from_a_span() {
        let src = Source::new("s.toml", DOC);
        let offset = DOC.find("\"nowhere\"").unwrap();
        let mut d = Diagnostic::error(KeyPath::root(), "bad");
        d.span = Some(offset..offset + 9);
        src.locate(&mut d);
        assert_eq!(d.path.to_string(), "fault[1].target");
    }

    /// The caret line's first `^` and how many there are.
    fn caret(rendered: &str) -> (usize, usize) {
        let line = rendered
            .lines()
            .find(|l| l.contains('^'))
            .unwrap_or_else(|| panic!("no caret in {rendered}"));
        let (_, after_gutter) = line.split_once(" | ").unwrap();
        let at = after_gutter.find('^').unwrap();
        (at, after_gutter.len() - at)
    }

    /// The shown source line, after its gutter.
    fn shown(rendered: &str, line: usize) -> &str {
        let prefix = format!("{line} | ");
        rendered
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("line {line} not shown in {rendered}"))
    }

    #[test]
    fn cuts_a_long_source_line_around_the_column() {
        // A 200 KB line with the offending value in its middle.
        let filler = "1, ".repeat(35_000);
        let doc = format!("name = \"x\"\nlist = [{filler}\"bad\", {filler}1]\n");
        let src = Source::new("s.toml", doc.as_str());
        let offset = doc.find("\"bad\"").unwrap();
        let mut d = Diagnostic::error(KeyPath::root().key("list").index(35_000), "bad value");
        d.span = Some(offset..offset + 5);
        let text = src.render(&d);
        assert!(text.len() < 600, "{} bytes rendered", text.len());
        let (_, col) = src.line_col(offset);
        assert!(
            text.starts_with(&format!("s.toml:2:{col}: error: bad value")),
            "{text}"
        );
        let line = shown(&text, 2);
        assert!(line.starts_with("...") && line.ends_with("..."), "{line}");
        assert_eq!(line.chars().count(), MAX_LINE_CHARS + 6);
        // The caret is under the value, in full.
        let (at, width) = caret(&text);
        assert_eq!(line.get(at..at + 5), Some("\"bad\""), "{text}");
        assert_eq!(width, 5);
        assert_eq!(at, 3 + LINE_CONTEXT_BEFORE);
    }

    #[test]
    fn long_lines_keep_their_start_or_end_when_the_column_is_near_it() {
        let long = "a".repeat(200_000);
        let doc = format!("topology = \"{long}\"\n");
        let src = Source::new("s.toml", doc.as_str());
        let mut d = Diagnostic::error(KeyPath::root().key("topology"), "unknown");
        src.locate(&mut d);
        let text = src.render(&d);
        let line = shown(&text, 1);
        assert!(
            line.starts_with("topology = \"aaa") && line.ends_with("..."),
            "{line}"
        );
        // The caret starts under the value and stops at the window's end.
        assert_eq!(caret(&text), (11, MAX_LINE_CHARS - 11));
        // An offending end of the line: the window ends there.
        let mut d = Diagnostic::error(KeyPath::root(), "end");
        d.span = Some(doc.len() - 2..doc.len() - 1);
        let text = src.render(&d);
        let line = shown(&text, 1);
        assert!(line.starts_with("...") && line.ends_with("aa\""), "{line}");
        assert_eq!(caret(&text), (3 + MAX_LINE_CHARS - 1, 1));
        // Short lines are shown whole, as before.
        let src = Source::new("s.toml", DOC);
        let mut d = Diagnostic::error(KeyPath::root().key("fault").index(1).key("target"), "b");
        src.locate(&mut d);
        assert!(src.render(&d).contains("8 | target = \"nowhere\"\n"));
    }

    #[test]
    fn a_long_value_in_an_error_is_not_echoed_whole() {
        // Through the front end: an unknown built-in topology of 200 KB, quoted by the
        // message and standing on the source line.
        let long = "a".repeat(200_000);
        let doc =
            format!("name = \"x\"\ndescription = \"\"\ntopology = \"{long}\"\nduration = \"1m\"\n");
        let Err(e) = crate::load_str("s.toml", &doc) else {
            panic!("an unknown topology loads")
        };
        let text = e.to_string();
        assert!(
            text.len() < 1_500,
            "{} bytes: {}",
            text.len(),
            &text[..1_500.min(text.len())]
        );
        assert!(text.contains("unknown built-in topology `aaa"), "{text}");
        assert!(text.contains("characters left out"), "{text}");
        assert!(text.contains("3 | topology = \"aaa"), "{text}");
    }

    #[test]
    fn splits_serde_expected_lists_into_allowed_values() {
        let (msg, allowed) =
            split_expected_list("unknown variant `x`, expected one of `a`, `b`").unwrap();
        assert_eq!(msg, "unknown variant `x`");
        assert_eq!(allowed, vec!["a", "b"]);
        let (_, two) = split_expected_list("unknown field `mx`, expected `min` or `max`").unwrap();
        assert_eq!(two, vec!["min", "max"]);
        assert!(split_expected_list("invalid type: integer, expected a string").is_none());
    }
}
