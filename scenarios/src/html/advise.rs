//! The advise page: outage p99 against false failovers per year, one point per candidate,
//! the budgets drawn, the recommendation in a sentence and the ranking as a table. The rates
//! often span decades (BFD at tens a year, long timers at 1e-10): when the estimates and the
//! budget span more than one, the y axis is logarithmic, with a `0` under its decades for the
//! candidates that never reset.

use std::fmt::Write as _;

use super::axis::{Axes, Scale, spans_decades};
use super::{Chart, H, MR, MT, PALETTE, W, esc, svg_open, table};
use crate::fmt::duration;
use crate::sweep::advise::{Advice, show_rate};
use sim_core::time::Duration;

/// One candidate as the chart needs it.
struct Point {
    label: String,
    p50_ns: u64,
    p99_ns: u64,
    p99: f64,
    per_year: Option<f64>,
    lo: f64,
    hi: Option<f64>,
    meets: bool,
}

/// The advisor's trade-off chart, from its typed result ([`Advice`], `advise --json`).
#[must_use]
pub fn advise_chart(v: &Advice) -> Chart {
    #[allow(clippy::cast_precision_loss, reason = "plotted seconds")]
    let secs = |ns: u64| ns as f64 / 1e9;
    let pts: Vec<Point> = v
        .ranked
        .iter()
        .map(|a| Point {
            label: a.candidate.clone(),
            p50_ns: a.outage_p50_ns,
            p99_ns: a.outage_p99_ns,
            p99: secs(a.outage_p99_ns),
            per_year: a.false_per_year,
            lo: a.false_per_year_ci[0].unwrap_or(0.0),
            hi: a.false_per_year_ci[1],
            meets: a.meets_budgets,
        })
        .collect();
    let max_outage = Some(secs(v.max_outage_ns));
    let max_false = Some(v.max_false_per_year).filter(|y| y.is_finite());
    // Room right of the last point and the budget line.
    let xmax = pts
        .iter()
        .map(|p| p.p99)
        .chain(max_outage)
        .fold(1.0_f64, f64::max)
        * 1.08;
    // The estimates and the budget set the scale; an interval reaching higher is cut at the
    // top (its full range is in the table).
    let ymax = pts
        .iter()
        .filter_map(|p| p.per_year)
        .chain(max_false)
        .fold(1.0_f64, f64::max)
        * 1.5;
    let shown: Vec<f64> = pts
        .iter()
        .flat_map(|p| [p.per_year, p.hi])
        .flatten()
        .chain(max_false)
        .collect();
    let ax = if spans_decades(&shown) {
        let zero = pts.iter().any(|p| p.per_year == Some(0.0));
        let top = shown
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(1.0_f64, f64::max);
        // The estimates and the budget set the bottom; an upper bound may set the top.
        let bottom: Vec<f64> = pts
            .iter()
            .filter_map(|p| p.per_year)
            .chain(max_false)
            .collect();
        Axes::log_y(0.0, xmax, Scale::Seconds, &bottom, top * 1.5, zero)
    } else {
        Axes::new(0.0, xmax, Scale::Seconds, ymax, Scale::Plain)
    };
    let title = format!(
        "Trade-off: outage p99 against false failovers per year ({})",
        v.loss
    );
    let mut s = svg_open(W, H, &title);
    ax.frame(
        &mut s,
        "outage p99 after a silent failure",
        if ax.is_log_y() {
            "false failovers per year (log scale)"
        } else {
            "false failovers per year"
        },
    );
    // The budgets: the acceptable region is left of the outage line and under the
    // false-failover line.
    if let Some(x) = max_outage {
        let px = ax.px(x);
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{MT}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#b00\" stroke-dasharray=\"6 4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#b00\" text-anchor=\"end\">outage budget</text>",
            ax.py(0.0),
            px - 4.0,
            MT + 12.0
        );
    }
    if let Some(y) = max_false {
        let py = ax.py(y);
        let _ = write!(
            s,
            "<line x1=\"{:.1}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#b00\" stroke-dasharray=\"6 4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#b00\" text-anchor=\"end\">false-failover budget</text>",
            ax.px(ax.x0),
            W - MR,
            W - MR - 4.0,
            py - 4.0
        );
    }
    for (i, p) in pts.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let y = p.per_year.unwrap_or(ax.y1);
        let px = ax.px(p.p99);
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{:.1}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"{c}\"/>\
             <circle cx=\"{px:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{c}\"><title>{}</title></circle>",
            ax.py(p.lo.min(ax.y1)),
            ax.py(p.hi.unwrap_or(ax.y1).min(ax.y1)),
            ax.py(y.min(ax.y1)),
            esc(&format!("{}. {}", i + 1, p.label)),
        );
    }
    // Rank numbers, placed beside their points; a later label that would overlap an earlier
    // one moves down a line.
    let mut placed: Vec<(f64, f64)> = Vec::new();
    for (i, p) in pts.iter().enumerate() {
        let (x, mut y) = (ax.px(p.p99) + 7.0, ax.py(p.per_year.unwrap_or(ax.y1)) - 6.0);
        while placed
            .iter()
            .any(|(a, b)| (a - x).abs() < 16.0 && (b - y).abs() < 11.0)
        {
            y += 11.0;
        }
        placed.push((x, y));
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"10\">{}</text>",
            i + 1
        );
    }
    s.push_str("</svg>");
    let best = pts.iter().position(|p| p.meets);
    let sentence = match best {
        Some(i) => format!(
            "Recommendation: {} (rank {}): outage p99 {}, {} false failovers per year, within both budgets.",
            pts[i].label,
            i + 1,
            duration(Duration::from_nanos(pts[i].p99_ns)),
            pts[i]
                .per_year
                .map_or_else(|| "unbounded".to_owned(), show_rate)
        ),
        None => "No candidate meets both budgets: relax a budget or try other timers.".to_owned(),
    };
    let rows: Vec<Vec<String>> = pts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                (i + 1).to_string(),
                p.label.clone(),
                duration(Duration::from_nanos(p.p50_ns)),
                duration(Duration::from_nanos(p.p99_ns)),
                p.per_year.map_or_else(|| "inf".to_owned(), show_rate),
                format!(
                    "{} to {}",
                    show_rate(p.lo),
                    p.hi.map_or_else(|| "inf".to_owned(), show_rate)
                ),
                if p.meets { "yes" } else { "no" }.to_owned(),
            ]
        })
        .collect();
    let t = table(
        "the candidates, best first",
        &[
            "rank",
            "candidate",
            "outage p50",
            "outage p99",
            "false failovers / year",
            "95 % interval",
            "within budgets",
        ],
        &[0, 2, 3, 4, 5],
        &rows,
    );
    Chart {
        id: "tradeoff".to_owned(),
        title,
        svg: s,
        table: format!("<p class=\"advice\">{}</p>\n{t}", esc(&sentence)),
    }
}
