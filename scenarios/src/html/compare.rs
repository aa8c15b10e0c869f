//! The compare page: the two sides' percentiles in one table, then per metric a CDF with
//! both sides on it (p50/p90/p99 marked) and its percentile table.

use super::sweep::cdf_chart;
use super::{Chart, page, table};
use crate::compare::Comparison;
use crate::sweep::histogram::Unit;

/// The page and its charts.
#[must_use]
pub fn compare_page(c: &Comparison) -> (String, Vec<Chart>) {
    let labels: Vec<String> = c
        .sides
        .iter()
        .zip(["A", "B"])
        .map(|(s, l)| format!("{l}: {}", s.source))
        .collect();
    let mut rows = Vec::new();
    for (i, m) in c.metrics.iter().enumerate() {
        for (side, label) in labels.iter().enumerate() {
            let cells = c.cells(i, side);
            let mut row = vec![
                m.clone(),
                label.clone(),
                c.sides[side].hists[i].len().to_string(),
            ];
            row.extend(cells);
            row.push(c.sides[side].missing[i].to_string());
            rows.push(row);
        }
    }
    let mut charts = vec![Chart {
        id: "summary".to_owned(),
        title: format!(
            "{} against {}: {} runs each on the same seeds (base seed {})",
            c.sides[0].source, c.sides[1].source, c.runs, c.seed
        ),
        svg: String::new(),
        table: table(
            "per metric and side; none: runs without a value",
            &["metric", "side", "runs", "p50", "p90", "p99", "max", "none"],
            &[2, 3, 4, 5, 6, 7],
            &rows,
        ),
    }];
    for (i, m) in c.metrics.iter().enumerate() {
        if c.sides.iter().any(|s| s.hists[i].unit != Unit::Ns) {
            continue;
        }
        let hists: Vec<Option<&crate::sweep::histogram::Hist>> =
            c.sides.iter().map(|s| Some(&s.hists[i])).collect();
        charts.push(cdf_chart(
            &format!("cdf-{}", m.replace('.', "-")),
            &format!("CDF of {m}, A against B"),
            if m == "detection" {
                "first detection after the fault"
            } else {
                "longest outage of one flow"
            },
            &labels,
            &hists,
        ));
    }
    let title = format!("compare: {} and {}", c.sides[0].source, c.sides[1].source);
    (page(&title, &charts), charts)
}
