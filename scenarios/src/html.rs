//! `holdtime report`: self-contained HTML pages with inline, hand-written SVG charts.
//!
//! Inputs are the JSON outputs of `sweep` (CDF of outage per grid point and direction,
//! histogram of detection times), `advise --json` (outage p99 against false failovers per
//! year) and `run --format json` (a timeline of the sessions' states and of each traffic
//! direction's outages). Contract: the page fetches nothing (no scripts, fonts, images or
//! styles from the network), every chart is an inline `<svg>`, and the same input gives the
//! same bytes. All text from the input is XML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::sweep::SweepResult;
use crate::sweep::histogram::Unit;

const W: f64 = 720.0;
const H: f64 = 320.0;
const ML: f64 = 70.0;
const MR: f64 = 20.0;
const MT: f64 = 30.0;
const MB: f64 = 45.0;
const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON of no known kind.
    #[error("not a sweep, advise or run result (no `format`, no `timeline`)")]
    Unknown,
    /// A sweep result that does not decode.
    #[error("{0}")]
    Sweep(#[from] crate::sweep::render::JsonError),
}

/// One chart: a title and its SVG.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File-name-safe identifier.
    pub id: String,
    /// Title.
    pub title: String,
    /// The `<svg>` element.
    pub svg: String,
}

/// Charts for a result file's text (sweep, advise or run JSON).
///
/// # Errors
///
/// [`ReportError`] if the text is not one of the three kinds.
pub fn charts(text: &str) -> Result<(String, Vec<Chart>), ReportError> {
    let v: Value = serde_json::from_str(text)?;
    match v.get("format").and_then(Value::as_str) {
        Some(crate::sweep::FORMAT) => {
            let r = SweepResult::from_json(text)?;
            Ok((format!("sweep: {}", r.scenario), sweep_charts(&r)))
        }
        Some("holdtime.advise/1" | "holdtime-advise/1") => Ok((
            format!("advise: {}", str_of(&v, "scenario")),
            vec![advise_chart(&v)],
        )),
        _ if v.get("timeline").is_some() => Ok((
            format!("run: {}", str_of(&v, "scenario")),
            vec![timeline_chart(&v)],
        )),
        _ => Err(ReportError::Unknown),
    }
}

/// The whole HTML page.
#[must_use]
pub fn page(title: &str, charts: &[Chart]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em;background:#fff;color:#222}}\
         figure{{margin:1.5em 0}}figcaption{{font-weight:bold;margin-bottom:.3em}}</style>\n\
         </head>\n<body>\n<h1>{t}</h1>\n",
        t = esc(title)
    );
    for c in charts {
        let _ = write!(
            s,
            "<figure id=\"{}\">\n<figcaption>{}</figcaption>\n{}\n</figure>\n",
            esc(&c.id),
            esc(&c.title),
            c.svg
        );
    }
    s.push_str("</body>\n</html>\n");
    s
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Escapes text for XML and HTML.
#[must_use]
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A linear plot area.
struct Axes {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Axes {
    fn px(&self, x: f64) -> f64 {
        let span = if self.x1 > self.x0 {
            self.x1 - self.x0
        } else {
            1.0
        };
        ML + (x - self.x0) / span * (W - ML - MR)
    }
    fn py(&self, y: f64) -> f64 {
        let span = if self.y1 > self.y0 {
            self.y1 - self.y0
        } else {
            1.0
        };
        H - MB - (y - self.y0) / span * (H - MT - MB)
    }
    /// Frame, ticks and labels.
    fn frame(&self, s: &mut String, xlabel: &str, ylabel: &str) {
        let _ = write!(
            s,
            "<rect x=\"{ML}\" y=\"{MT}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>",
            W - ML - MR,
            H - MT - MB
        );
        for i in 0..=5 {
            let f = f64::from(i) / 5.0;
            let xv = self.x0 + f * (self.x1 - self.x0);
            let yv = self.y0 + f * (self.y1 - self.y0);
            let (x, y) = (self.px(xv), self.py(yv));
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{b:.1}\" x2=\"{x:.1}\" y2=\"{b2:.1}\" stroke=\"#444\"/>\
                 <text x=\"{x:.1}\" y=\"{t:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\
                 <line x1=\"{ML}\" y1=\"{y:.1}\" x2=\"{l:.1}\" y2=\"{y:.1}\" stroke=\"#444\"/>\
                 <text x=\"{lt:.1}\" y=\"{yt:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
                tick(xv),
                tick(yv),
                b = H - MB,
                b2 = H - MB + 5.0,
                t = H - MB + 18.0,
                l = ML - 5.0,
                lt = ML - 8.0,
                yt = y + 4.0,
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\
             <text x=\"14\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
            (ML + W - MR) / 2.0,
            H - 8.0,
            esc(xlabel),
            (MT + H - MB) / 2.0,
            (MT + H - MB) / 2.0,
            esc(ylabel)
        );
    }
}

fn tick(v: f64) -> String {
    if v.abs() >= 100.0 || v == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn svg_open() -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\">\
         <rect width=\"{W}\" height=\"{H}\" fill=\"#fff\"/>"
    )
}

fn legend(s: &mut String, labels: &[String]) {
    for (i, l) in labels.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "a handful of legend rows")]
        let y = MT + 14.0 + 14.0 * i as f64;
        let c = PALETTE[i % PALETTE.len()];
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{c}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            ML + 10.0,
            y - 9.0,
            ML + 24.0,
            y,
            esc(l)
        );
    }
}

#[allow(clippy::cast_precision_loss, reason = "plotted values")]
fn secs(us: u64) -> f64 {
    us as f64 / 1e6
}

/// The sweep's charts: per direction, the CDF of the outage for each grid point; then the
/// histogram of detection times for each grid point.
#[must_use]
pub fn sweep_charts(r: &SweepResult) -> Vec<Chart> {
    let mut out = Vec::new();
    let labels: Vec<String> = r.points.iter().map(|p| p.point.label()).collect();
    for dir in &r.directions {
        let key = format!("outage.{dir}");
        let series: Vec<Vec<(f64, f64)>> = r
            .points
            .iter()
            .map(|p| {
                p.hists
                    .get(&key)
                    .map(|h| h.cdf().into_iter().map(|(v, f)| (secs(v), f)).collect())
                    .unwrap_or_default()
            })
            .collect();
        let xmax = series
            .iter()
            .flatten()
            .map(|(x, _)| *x)
            .fold(1.0_f64, f64::max);
        let ax = Axes {
            x0: 0.0,
            x1: xmax,
            y0: 0.0,
            y1: 1.0,
        };
        let mut s = svg_open();
        ax.frame(&mut s, "outage (s)", "fraction of runs");
        for (i, pts) in series.iter().enumerate() {
            let mut d = String::new();
            let mut last = 0.0;
            for (x, f) in pts {
                // A step function: horizontal to x at the previous level, then up.
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} {:.1},{:.1} ",
                    if d.is_empty() { "M" } else { "L" },
                    ax.px(*x),
                    ax.py(last),
                    ax.px(*x),
                    ax.py(*f)
                );
                last = *f;
            }
            if !d.is_empty() {
                let _ = write!(
                    s,
                    "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>",
                    d.trim_end(),
                    PALETTE[i % PALETTE.len()]
                );
            }
        }
        legend(&mut s, &labels);
        s.push_str("</svg>");
        out.push(Chart {
            id: format!("cdf-{dir}"),
            title: format!("CDF of the longest outage, {dir}, per grid point"),
            svg: s,
        });
    }
    for (i, p) in r.points.iter().enumerate() {
        // The first router's detection (`detection.ROUTER`, in name order).
        let first = p
            .hists
            .iter()
            .find(|(k, _)| k.starts_with("detection.") && !k.contains('@'));
        let Some((_, h)) = first.filter(|(_, h)| h.unit == Unit::Us) else {
            continue;
        };
        let cdf = h.cdf();
        let (Some(lo), Some(hi)) = (
            cdf.first().map(|c| secs(c.0)),
            cdf.last().map(|c| secs(c.0)),
        ) else {
            continue;
        };
        let bins = 30usize;
        let width = ((hi - lo) / 30.0).max(1e-3);
        let mut counts = vec![0u64; bins];
        for v in h.hist.iter_recorded() {
            let x = secs(h.hist.highest_equivalent(v.value_iterated_to()));
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "bin index of a non-negative offset, clamped"
            )]
            let b = (((x - lo) / width) as usize).min(bins - 1);
            if let Some(c) = counts.get_mut(b) {
                *c += v.count_at_value();
            }
        }
        let ymax = counts.iter().copied().max().unwrap_or(1).max(1);
        #[allow(clippy::cast_precision_loss, reason = "plotted counts")]
        let ax = Axes {
            x0: lo,
            x1: lo + width * 30.0,
            y0: 0.0,
            y1: ymax as f64,
        };
        let mut s = svg_open();
        ax.frame(&mut s, "detection after the fault (s)", "runs");
        for (b, c) in counts.iter().enumerate() {
            #[allow(clippy::cast_precision_loss, reason = "plotted values")]
            let (x, y) = (lo + width * b as f64, *c as f64);
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>",
                ax.px(x),
                ax.py(y),
                (ax.px(x + width) - ax.px(x) - 1.0).max(0.5),
                ax.py(0.0) - ax.py(y),
                PALETTE[i % PALETTE.len()]
            );
        }
        s.push_str("</svg>");
        out.push(Chart {
            id: format!("detection-{}", i + 1),
            title: format!("Detection times, {}", p.point.label()),
            svg: s,
        });
    }
    out
}

/// The advisor's trade-off: outage p99 (x) against false failovers per year (y, with the
/// 95 % interval as a vertical bar), one point per candidate.
#[must_use]
pub fn advise_chart(v: &Value) -> Chart {
    let ranked = v
        .get("ranked")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let pts: Vec<(String, f64, f64, f64, f64)> = ranked
        .iter()
        .map(|a| {
            let f = |k: &str| a.get(k).and_then(Value::as_f64).unwrap_or(0.0);
            let ci = a.get("false_per_year_ci").and_then(Value::as_array);
            let ci_at = |i: usize| {
                ci.and_then(|c| c.get(i))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
            };
            (
                str_of(a, "candidate").to_owned(),
                f("outage_p99_us") / 1e6,
                f("false_per_year"),
                ci_at(0),
                ci_at(1),
            )
        })
        .collect();
    let xmax = pts.iter().map(|p| p.1).fold(1.0_f64, f64::max) * 1.05;
    let ymax = pts.iter().map(|p| p.4).fold(1.0_f64, f64::max) * 1.05;
    let ax = Axes {
        x0: 0.0,
        x1: xmax,
        y0: 0.0,
        y1: ymax,
    };
    let mut s = svg_open();
    ax.frame(&mut s, "outage p99 (s)", "false failovers per year");
    for (i, (label, x, y, lo, hi)) in pts.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{:.1}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"{c}\"/>\
             <circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"4\" fill=\"{c}\"><title>{}</title></circle>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\">{}</text>",
            ax.py(*lo),
            ax.py(*hi),
            esc(label),
            ax.px(*x) + 6.0,
            ax.py(*y) - 4.0,
            i + 1,
            px = ax.px(*x),
            py = ax.py(*y),
        );
    }
    let names: Vec<String> = pts
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{} {}", i + 1, p.0))
        .collect();
    let mut s2 = s;
    s2.push_str("</svg>");
    let mut list = String::from("<ol>");
    for n in &names {
        let _ = write!(list, "<li>{}</li>", esc(n));
    }
    list.push_str("</ol>");
    Chart {
        id: "tradeoff".to_owned(),
        title: format!(
            "Trade-off: outage p99 against false failovers per year ({})",
            str_of(v, "loss")
        ),
        svg: format!("{s2}\n{list}"),
    }
}

/// A run's timeline: one lane per BGP session end (green while Established) and one per
/// traffic direction (red while some flow has no path).
#[must_use]
pub fn timeline_chart(v: &Value) -> Chart {
    let end = v
        .get("timeline")
        .and_then(Value::as_array)
        .and_then(|t| {
            t.iter()
                .filter_map(|e| e.get("at").and_then(Value::as_u64))
                .max()
        })
        .unwrap_or(1)
        .max(1);
    // The run's length when it is there (`"15m"`), else the last event.
    let mut end_ns = v
        .get("duration")
        .cloned()
        .and_then(|d| serde_json::from_value::<sim_core::time::Duration>(d).ok())
        .map_or(end, sim_core::time::Duration::as_nanos)
        .max(1);
    // Lanes of sessions: (router, session) → established intervals.
    let mut lanes: BTreeMap<String, Vec<(u64, Option<u64>)>> = BTreeMap::new();
    for e in v
        .get("timeline")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ev = &e["event"];
        if ev.get("type").and_then(Value::as_str) != Some("session") {
            continue;
        }
        let at = e.get("at").and_then(Value::as_u64).unwrap_or(0);
        let lane = format!("{} {}", str_of(e, "router"), str_of(ev, "session"));
        let iv = lanes.entry(lane).or_default();
        if str_of(ev, "to") == "established" {
            iv.push((at, None));
        } else if str_of(ev, "from") == "established"
            && let Some(last) = iv.last_mut()
        {
            last.1 = Some(at);
        }
    }
    let mut outages: BTreeMap<String, Vec<(u64, Option<u64>)>> = BTreeMap::new();
    for o in v
        .get("outages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let start = o.get("start").and_then(Value::as_u64).unwrap_or(0);
        let stop = o.get("end").and_then(Value::as_u64);
        end_ns = end_ns.max(stop.unwrap_or(start));
        outages
            .entry(str_of(o, "direction").to_owned())
            .or_default()
            .push((start, stop));
    }
    let rows = lanes.len() + outages.len();
    #[allow(clippy::cast_precision_loss, reason = "lane count")]
    let height = MT + MB + 18.0 * rows as f64;
    let left = 260.0;
    #[allow(clippy::cast_precision_loss, reason = "plotted times")]
    let x = |ns: u64| left + ns as f64 / end_ns as f64 * (W - left - MR);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{height}\" viewBox=\"0 0 {W} {height}\" role=\"img\">\
         <rect width=\"{W}\" height=\"{height}\" fill=\"#fff\"/>"
    );
    let all = lanes.iter().map(|(k, v)| (k.clone(), v, "#2ca02c")).chain(
        outages
            .iter()
            .map(|(k, v)| (format!("traffic {k}"), v, "#d62728")),
    );
    for (row, (label, ivs, colour)) in all.enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "lane index")]
        let y = MT + 18.0 * row as f64;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>\
             <line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>",
            left - 6.0,
            y + 11.0,
            esc(&label),
            y + 7.0,
            W - MR,
            y + 7.0
        );
        for (a, b) in ivs {
            let (xa, xb) = (x(*a), x(b.unwrap_or(end_ns)));
            let _ = write!(
                s,
                "<rect x=\"{xa:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" fill=\"{colour}\"/>",
                y + 1.0,
                (xb - xa).max(1.0)
            );
        }
    }
    #[allow(clippy::cast_precision_loss, reason = "axis label")]
    let _ = write!(
        s,
        "<text x=\"{left}\" y=\"{:.1}\" font-size=\"11\">0 s</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{:.0} s</text></svg>",
        height - 20.0,
        W - MR,
        height - 20.0,
        end_ns as f64 / 1e9
    );
    Chart {
        id: "timeline".to_owned(),
        title: "Timeline: sessions Established (green) and traffic outages (red)".to_owned(),
        svg: s,
    }
}
