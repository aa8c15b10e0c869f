//! The sweep page: per direction, the CDF of the outage for each grid point with its
//! p50/p90/p99 marked, and a percentile table; then the histogram of detection times for
//! each grid point, with a whole-number count axis.

use std::fmt::Write as _;

use super::axis::{Axes, Scale, nice_step};
use super::{Chart, H, PALETTE, W, esc, legend_below, svg_open, table};
use crate::sweep::SweepResult;
use crate::sweep::histogram::{Hist, Unit, show_ns};

/// The quantiles marked on every CDF.
const MARKED: [(f64, &str); 3] = [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")];

#[allow(clippy::cast_precision_loss, reason = "plotted values")]
fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// The sweep's charts.
#[must_use]
pub fn sweep_charts(r: &SweepResult) -> Vec<Chart> {
    let mut out = Vec::new();
    let labels: Vec<String> = r.points.iter().map(|p| p.point.label()).collect();
    for dir in &r.directions {
        let key = format!("outage.{dir}");
        let hists: Vec<Option<&Hist>> = r.points.iter().map(|p| p.hists.get(&key)).collect();
        out.push(cdf_chart(
            &format!("cdf-{dir}"),
            &format!("CDF of the longest outage, {dir}, per grid point"),
            "longest outage of one flow",
            &labels,
            &hists,
        ));
    }
    for (i, p) in r.points.iter().enumerate() {
        // The first router's detection (`detection.ROUTER`, in name order).
        let first = p
            .hists
            .iter()
            .find(|(k, _)| k.starts_with("detection.") && !k.contains('@'));
        let Some((key, h)) = first.filter(|(_, h)| h.unit == Unit::Ns && !h.is_empty()) else {
            continue;
        };
        out.push(histogram_chart(
            &format!("detection-{}", i + 1),
            &format!("Detection times ({key}), {}", p.point.label()),
            h,
            PALETTE[i % PALETTE.len()],
        ));
    }
    out
}

/// A CDF chart of duration histograms (nanoseconds), one series per label, p50/p90/p99
/// marked on each curve, and the percentile table.
pub(crate) fn cdf_chart(
    id: &str,
    title: &str,
    what: &str,
    labels: &[String],
    hists: &[Option<&Hist>],
) -> Chart {
    let series: Vec<Vec<(f64, f64)>> = hists
        .iter()
        .map(|h| {
            h.map(|h| h.cdf().into_iter().map(|(v, f)| (secs(v), f)).collect())
                .unwrap_or_default()
        })
        .collect();
    let xmax = series
        .iter()
        .flatten()
        .map(|(x, _)| *x)
        .fold(0.0_f64, f64::max)
        .max(1e-3);
    let ax = Axes::new(0.0, xmax, Scale::Seconds, 1.0, Scale::Plain);
    let legend_h = 16.0 * labels.len() as f64 + 8.0;
    let mut s = svg_open(W, H + legend_h, title);
    ax.frame(&mut s, what, "fraction of runs");
    for (i, pts) in series.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
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
                "<path d=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\"/>",
                d.trim_end()
            );
        }
        if let Some(h) = hists.get(i).copied().flatten().filter(|h| !h.is_empty()) {
            for (q, name) in MARKED {
                let (x, y) = (ax.px(secs(h.quantile(q))), ax.py(q));
                let _ = write!(
                    s,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"#fff\" stroke=\"{c}\" stroke-width=\"1.5\">\
                     <title>{} {name} {}</title></circle>",
                    esc(&labels[i]),
                    show_ns(h.quantile(q))
                );
            }
        }
    }
    // The quantile levels, named once at the right edge.
    for (q, name) in MARKED {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#666\">{name}</text>",
            W - 18.0,
            ax.py(q) + 3.0
        );
    }
    legend_below(&mut s, H + 4.0, labels);
    s.push_str("</svg>");
    let rows: Vec<Vec<String>> = labels
        .iter()
        .zip(hists)
        .map(|(l, h)| match h {
            Some(h) if !h.is_empty() => vec![
                l.clone(),
                h.len().to_string(),
                show_ns(h.quantile(0.5)),
                show_ns(h.quantile(0.9)),
                show_ns(h.quantile(0.99)),
                show_ns(h.max()),
            ],
            _ => vec![
                l.clone(),
                "0".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ],
        })
        .collect();
    Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        svg: s,
        table: table(
            &format!("{what}: percentiles per series"),
            &["series", "runs", "p50", "p90", "p99", "max"],
            &[1, 2, 3, 4, 5],
            &rows,
        ),
    }
}

/// A histogram of durations (nanoseconds) in nice-width bins, counts on whole numbers.
fn histogram_chart(id: &str, title: &str, h: &Hist, colour: &str) -> Chart {
    let cdf = h.cdf();
    let (lo, hi) = (
        cdf.first().map_or(0.0, |c| secs(c.0)),
        cdf.last().map_or(1.0, |c| secs(c.0)),
    );
    let width = nice_step((hi - lo).max(1e-3), 30);
    let start = (lo / width).floor() * width;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a bin count of at most a few dozen"
    )]
    let bins = (((hi - start) / width).floor() as usize + 1).clamp(1, 200);
    let mut counts = vec![0u64; bins];
    for v in h.hist.iter_recorded() {
        let x = secs(h.hist.highest_equivalent(v.value_iterated_to()));
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "bin index of a non-negative offset, clamped"
        )]
        let b = (((x - start) / width).max(0.0) as usize).min(bins - 1);
        counts[b] += v.count_at_value();
    }
    let ymax = counts.iter().copied().max().unwrap_or(1).max(1);
    #[allow(clippy::cast_precision_loss, reason = "plotted counts and bins")]
    let ax = Axes::new(
        start,
        start + width * bins as f64,
        Scale::Seconds,
        ymax as f64,
        Scale::Count,
    );
    let mut s = svg_open(W, H, title);
    ax.frame(&mut s, "detection after the fault", "runs");
    let mut rows = Vec::new();
    for (b, c) in counts.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "plotted values")]
        let (x, y) = (start + width * b as f64, *c as f64);
        if *c > 0 {
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"/>",
                ax.px(x),
                ax.py(y),
                (ax.px(x + width) - ax.px(x) - 1.0).max(0.5),
                ax.py(0.0) - ax.py(y),
            );
            rows.push(vec![format!("{x:.3}s to {:.3}s", x + width), c.to_string()]);
        }
    }
    s.push_str("</svg>");
    let t = table(
        &format!(
            "runs per bin; p50 {}, p90 {}, p99 {}",
            show_ns(h.quantile(0.5)),
            show_ns(h.quantile(0.9)),
            show_ns(h.quantile(0.99))
        ),
        &["detection after the fault", "runs"],
        &[1],
        &rows,
    );
    Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        svg: s,
        table: t,
    }
}
