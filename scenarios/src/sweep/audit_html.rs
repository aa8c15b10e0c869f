//! `holdtime audit --html FILE`: the audit as one self-contained HTML page.
//!
//! The page has the verdict, the ranked table (worst first, the same rows as the text), and
//! per failure a bar per direction: p50, p99 and max outage on one scale shared by every
//! failure, an open outage drawn to the end with a hatched cap. No script, no external file;
//! a function of the [`AuditResult`] alone, so equal results give equal bytes.
//!
//! Not yet: the design's diagram coloured by the worst outage each element's failure causes,
//! and per-failure CDFs (the histograms are in the JSON for that).

use std::fmt::Write as _;

use super::audit::{AuditResult, FailureResult, HazardKind};
use super::histogram::show_us;

/// Escapes text for HTML (kept here so the page does not depend on the report module's
/// internals).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Bar width in pixels for the longest outage of the audit.
const BAR: f64 = 520.0;

/// The page.
#[must_use]
pub fn page(r: &AuditResult) -> String {
    let mut s = String::new();
    let title = format!("audit: {}", r.scenario);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em;color:#222}}\
         table{{border-collapse:collapse}}td,th{{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left}}\
         td.n{{text-align:right;font-variant-numeric:tabular-nums}}tr.open{{background:#fde8e8}}\
         tr.over{{background:#fff4dc}}svg text{{font-size:11px}}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = esc(&title)
    );
    let _ = writeln!(
        s,
        "<p>{} failures, each from {} to the end of the run, {} runs each (seed {}){}.</p>",
        r.failures.len(),
        r.at,
        r.runs,
        r.seed,
        r.shard
            .map(|sh| format!("; shard {}/{} only", sh.index, sh.count))
            .unwrap_or_default()
    );
    let over = r.over_budget();
    let verdict = if over.is_empty() {
        "every failure within budget".to_owned()
    } else {
        format!("{} failure(s) over budget or open at the end", over.len())
    };
    let _ = writeln!(s, "<p><strong>verdict:</strong> {}</p>", esc(&verdict));
    conclusions(&mut s, r);
    table(&mut s, r);
    bars(&mut s, r);
    s.push_str("</body>\n</html>\n");
    s
}

fn conclusions(s: &mut String, r: &AuditResult) {
    let spofs = r.single_points_of_failure();
    s.push_str("<h2>Single points of failure</h2>\n");
    if spofs.is_empty() {
        s.push_str("<p>none</p>\n");
    } else {
        s.push_str("<ul>\n");
        for f in spofs {
            let _ = writeln!(s, "<li>{}</li>", esc(&f.failure.name));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("<h2>Non-redundant prefixes</h2>\n");
    let nr = r.non_redundant();
    if nr.is_empty() {
        s.push_str("<p>none</p>\n");
    } else {
        s.push_str("<ul>\n");
        for (d, fs) in &nr {
            let _ = writeln!(
                s,
                "<li>{} ({}): {}</li>",
                esc(d),
                esc(&r.prefixes_of(d)),
                esc(&fs.join("; "))
            );
        }
        s.push_str("</ul>\n");
    }
    s.push_str("<h2>Hazards</h2>\n");
    if r.hazards.is_empty() {
        s.push_str("<p>none found</p>\n");
    } else {
        s.push_str("<ul>\n");
        for h in &r.hazards {
            let kind = match h.kind {
                HazardKind::HoldTimerOnly => "hold timer only",
                HazardKind::AsymmetricAfterFailure => "asymmetric after a failure",
                HazardKind::AsymmetricByDesign => "asymmetric by design",
                HazardKind::VpnFamily | HazardKind::VpnPrefixCount => {
                    "VPN cannot carry what ExpressRoute carried"
                }
            };
            let _ = writeln!(
                s,
                "<li><strong>{}</strong>{}: {}</li>",
                esc(kind),
                h.failure
                    .as_ref()
                    .map(|f| format!(" under <code>{}</code>", esc(f)))
                    .unwrap_or_default(),
                esc(&h.detail)
            );
        }
        s.push_str("</ul>\n");
    }
}

fn table(s: &mut String, r: &AuditResult) {
    let over: Vec<&str> = r
        .over_budget()
        .iter()
        .map(|f| f.failure.name.as_str())
        .collect();
    s.push_str(
        "<h2>Ranked failures</h2>\n<table>\n<tr><th>rank</th><th>failure</th><th>worst direction</th>\
         <th>p50</th><th>p99</th><th>max</th><th>open runs</th></tr>\n",
    );
    for (i, f) in r.failures.iter().enumerate() {
        let Some(w) = f.worst() else { continue };
        let class = if w.open_runs > 0 {
            " class=\"open\""
        } else if over.contains(&f.failure.name.as_str()) {
            " class=\"over\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<tr{class}><td class=\"n\">{}</td><td><a href=\"#f{}\">{}</a></td><td>{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}/{}</td></tr>",
            i + 1,
            i + 1,
            esc(&f.failure.name),
            esc(&w.direction),
            show_us(w.p50_us),
            show_us(w.p99_us),
            show_us(w.max_us),
            w.open_runs,
            f.runs()
        );
    }
    s.push_str("</table>\n");
}

#[allow(
    clippy::cast_precision_loss,
    reason = "pixel positions; exactness is not needed"
)]
fn bars(s: &mut String, r: &AuditResult) {
    let longest = r
        .failures
        .iter()
        .flat_map(|f| f.directions.iter().map(|d| d.max_us))
        .max()
        .unwrap_or(0)
        .max(1);
    let x = |us: u64| us as f64 / longest as f64 * BAR;
    s.push_str(
        "<h2>Outage per failure and direction</h2>\n<p>Light: p50; medium: p99; dark: max \
         (one scale for every failure); red edge: open at the end in some run.</p>\n",
    );
    for (i, f) in r.failures.iter().enumerate() {
        one(s, i + 1, f, &x);
    }
}

fn one(s: &mut String, rank: usize, f: &FailureResult, x: &dyn Fn(u64) -> f64) {
    let row = 18.0;
    let label = 190.0;
    #[allow(
        clippy::cast_precision_loss,
        reason = "a handful of rows; exact in f64"
    )]
    let height = f.directions.len() as f64 * row + 6.0;
    let _ = writeln!(
        s,
        "<h3 id=\"f{rank}\">{rank}. {}</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{height:.0}\">",
        esc(&f.failure.name),
        label + BAR + 120.0
    );
    for (j, d) in f.directions.iter().enumerate() {
        #[allow(
            clippy::cast_precision_loss,
            reason = "a handful of rows; exact in f64"
        )]
        let y = j as f64 * row + 3.0;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\">{}</text>\
             <rect x=\"{label:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"12\" fill=\"#1f4e79\"/>\
             <rect x=\"{label:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"12\" fill=\"#4a86c5\"/>\
             <rect x=\"{label:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"12\" fill=\"#a9c8e8\"/>",
            y + 10.0,
            esc(&d.direction),
            x(d.max_us),
            x(d.p99_us),
            x(d.p50_us)
        );
        if d.open_runs > 0 {
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"3\" height=\"12\" fill=\"#c00\"/>",
                label + x(d.max_us)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\">p99 {} max {}{}</text>",
            label + x(d.max_us) + 6.0,
            y + 10.0,
            show_us(d.p99_us),
            show_us(d.max_us),
            if d.open_runs > 0 {
                format!(" ({}/{} open)", d.open_runs, f.runs())
            } else {
                String::new()
            }
        );
    }
    s.push_str("</svg>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
