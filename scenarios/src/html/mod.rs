//! `holdtime report` and `run --html`: self-contained HTML pages with inline, hand-written
//! SVG charts.
//!
//! A result file is read through its typed model, chosen by its `format` tag
//! ([`ResultFile::parse`]): a run (`holdtime.run/1`, [`RunReport`]) gives the run page
//! ([`run`]: the topology diagram with a time control, the timeline, tables); a sweep
//! (`holdtime.sweep/2`, [`SweepResult`]) gives CDFs with percentiles and detection
//! histograms ([`sweep`]); an advise result (`holdtime.advise/2`, [`Advice`]) gives the
//! trade-off chart. Files of the earlier sweep and advise formats (microseconds, durations as
//! strings) are refused with that reason.
//!
//! Contract: the page fetches nothing (no scripts, fonts, images or styles from the
//! network), every chart is an inline `<svg>`, every chart has its numbers as a table under
//! it, and the same input gives the same bytes. All text from the input is XML-escaped.

use std::fmt::Write as _;

use crate::sweep::advise::Advice;

use crate::report::{RUN_FORMAT, RunReport};
use crate::sweep::SweepResult;

mod advise;
pub mod axis;
pub mod compare;
pub mod run;
pub mod sweep;

pub use advise::advise_chart;
pub use sweep::sweep_charts;

/// Chart width, pixels.
pub(crate) const W: f64 = 720.0;
/// Chart plot-area height, pixels.
pub(crate) const H: f64 = 320.0;
/// Left margin.
pub(crate) const ML: f64 = 70.0;
/// Right margin.
pub(crate) const MR: f64 = 20.0;
/// Top margin.
pub(crate) const MT: f64 = 30.0;
/// Bottom margin (tick labels and the axis label).
pub(crate) const MB: f64 = 45.0;
/// Series colours (colour-blind-friendly enough, and distinct in print).
pub(crate) const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// The advise result's tag ([`crate::sweep::advise::FORMAT`]).
const ADVISE_FORMAT: &str = crate::sweep::advise::FORMAT;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON without a `format` tag.
    #[error(
        "not a holdtime result: no `format` key (expected one of {RUN_FORMAT}, {sweep}, {ADVISE_FORMAT})",
        sweep = crate::sweep::FORMAT
    )]
    Untagged,
    /// A tag of no known kind.
    #[error(
        "unknown result format `{0}` (known: {RUN_FORMAT}, {sweep}, {ADVISE_FORMAT})",
        sweep = crate::sweep::FORMAT
    )]
    Unknown(String),
    /// A run result that does not decode.
    #[error("not a valid {RUN_FORMAT} result: {0}")]
    Run(serde_json::Error),
    /// A sweep result that does not decode (or one of an earlier format).
    #[error("{0}")]
    Sweep(#[from] crate::sweep::render::JsonError),
    /// An advise result that does not decode (or one of an earlier format).
    #[error("not a valid {ADVISE_FORMAT} result: {0}")]
    Advise(crate::sweep::render::JsonError),
}

/// A result file, read through its typed model.
#[derive(Debug)]
pub enum ResultFile {
    /// `holdtime run --format json`.
    Run(Box<RunReport>),
    /// `holdtime sweep --format json` (or `merge`).
    Sweep(Box<SweepResult>),
    /// `holdtime advise --json`.
    Advise(Box<Advice>),
}

#[derive(serde::Deserialize)]
struct Tag {
    format: Option<String>,
}

impl ResultFile {
    /// Reads `text`, dispatching on its `format` tag.
    ///
    /// # Errors
    ///
    /// [`ReportError`]: not JSON, no tag, an unknown tag, or a file that does not match its
    /// tag's model.
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        let tag: Tag = serde_json::from_str(text)?;
        match tag.format.as_deref() {
            None => Err(ReportError::Untagged),
            Some(RUN_FORMAT) => Ok(Self::Run(Box::new(
                RunReport::from_json(text).map_err(ReportError::Run)?,
            ))),
            Some(f) if f == crate::sweep::FORMAT || crate::sweep::OLD_FORMATS.contains(&f) => {
                Ok(Self::Sweep(Box::new(SweepResult::from_json(text)?)))
            }
            Some(f) if f == ADVISE_FORMAT || crate::sweep::advise::OLD_FORMATS.contains(&f) => {
                Ok(Self::Advise(Box::new(
                    Advice::from_json(text).map_err(ReportError::Advise)?,
                )))
            }
            Some(other) => Err(ReportError::Unknown(other.to_owned())),
        }
    }

    /// The HTML page and its charts (for `--svg`).
    #[must_use]
    pub fn render(&self) -> (String, Vec<Chart>) {
        match self {
            Self::Run(r) => run::page(r),
            Self::Sweep(r) => {
                let charts = sweep_charts(r);
                (page(&format!("sweep: {}", r.scenario), &charts), charts)
            }
            Self::Advise(v) => {
                let charts = vec![advise_chart(v)];
                let title = format!("advise: {}", v.scenario);
                (page(&title, &charts), charts)
            }
        }
    }
}

/// One chart: a title, its SVG and its numbers as an HTML table.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File-name-safe identifier.
    pub id: String,
    /// Title.
    pub title: String,
    /// The `<svg>` element (with a `<title>`, so that it also stands alone as a file).
    pub svg: String,
    /// The chart's numbers, an HTML `<table>` (may be empty).
    pub table: String,
}

impl Chart {
    /// A chart without a table.
    #[must_use]
    pub fn new(id: &str, title: &str, svg: String) -> Self {
        Self {
            id: id.to_owned(),
            title: title.to_owned(),
            svg,
            table: String::new(),
        }
    }
}

/// Charts for a result file's text (sweep, advise or run JSON), with the page's title.
///
/// # Errors
///
/// [`ReportError`] if the text is not one of the three kinds.
pub fn charts(text: &str) -> Result<(String, Vec<Chart>), ReportError> {
    let f = ResultFile::parse(text)?;
    let title = match &f {
        ResultFile::Run(r) => format!("run: {}", r.scenario),
        ResultFile::Sweep(r) => format!("sweep: {}", r.scenario),
        ResultFile::Advise(v) => format!("advise: {}", v.scenario),
    };
    Ok((title, f.render().1))
}

/// The page's style sheet.
pub(crate) const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;background:#fff;color:#222;max-width:1200px}\
figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}\
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}td.n,th.n{text-align:right}\
caption{text-align:left;font-style:italic;padding:2px 0}";

/// The whole HTML page: a title and charts, each with its table.
#[must_use]
pub fn page(title: &str, charts: &[Chart]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
         <style>{CSS}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = esc(title)
    );
    for c in charts {
        let _ = write!(
            s,
            "<figure id=\"{}\">\n<figcaption>{}</figcaption>\n{}\n{}\n</figure>\n",
            esc(&c.id),
            esc(&c.title),
            c.svg,
            c.table
        );
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// Escapes text for XML and HTML.
#[must_use]
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An HTML table: a caption, a header row and rows; columns whose header is in `numeric`
/// are right-aligned. Every cell is escaped.
pub(crate) fn table(
    caption: &str,
    head: &[&str],
    numeric: &[usize],
    rows: &[Vec<String>],
) -> String {
    let mut s = String::from("<table>");
    if !caption.is_empty() {
        let _ = write!(s, "<caption>{}</caption>", esc(caption));
    }
    s.push_str("<thead><tr>");
    for (i, h) in head.iter().enumerate() {
        let class = if numeric.contains(&i) {
            " class=\"n\""
        } else {
            ""
        };
        let _ = write!(s, "<th{class}>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if numeric.contains(&i) {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(s, "<td{class}>{}</td>", esc(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// An `<svg>` opening of `w`×`h` with a white background and a `<title>`.
pub(crate) fn svg_open(w: f64, h: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\">\
         <title>{}</title><rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>",
        esc(title)
    )
}

/// A legend under a chart's plot area (never over the data), from `y` down: one row per
/// label, in [`PALETTE`] order. Returns the height used.
pub(crate) fn legend_below(s: &mut String, y: f64, labels: &[String]) -> f64 {
    let mut row = 0.0;
    for (i, l) in labels.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let yy = y + 16.0 * row;
        let _ = write!(
            s,
            "<rect x=\"{ML}\" y=\"{:.1}\" width=\"12\" height=\"10\" fill=\"{c}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            yy,
            ML + 18.0,
            yy + 9.0,
            esc(l)
        );
        row += 1.0;
    }
    16.0 * row
}
