//! `holdtime audit --html FILE`: the audit as one self-contained HTML page.
//!
//! The page has, top to bottom:
//! - the verdict, the single points of failure, the non-redundant prefixes and the hazards;
//! - **the design's diagram** (the run page's drawing, [`crate::html::run::network_svg_states`])
//!   with each router, link and session coloured by the worst outage a single failure of it
//!   causes (open at the end first, then over budget, then by its worst direction's p99), a
//!   key, and a table naming each element's worst failure; a circuit's failures
//!   (`deprovision`, `peering_disabled`) colour its links, and `peering_disabled` the
//!   sessions of that peering too; pairs (depth 2) colour nothing, since no one element
//!   fails in them;
//! - the ranked table (worst first, the same rows as the text), each failure linking to its
//!   section;
//! - per failure, a bar per direction (p50, p99 and max outage on one scale shared by every
//!   failure, an open outage marked in red at its end) and beside it the outage's CDF over
//!   the runs, one step line per direction, on the same shared scale (small multiples, so
//!   that failures compare at a glance).
//!
//! No script and no external file; a function of the [`AuditResult`] alone (the JSON carries
//! the diagram's network and every histogram), so equal results give equal bytes, and a
//! merged audit draws the page its unsharded audit draws.

use std::fmt::Write as _;

use super::audit::{AuditResult, FailureResult, HazardKind};
use super::histogram::show_us;
use crate::report::TopologyView;
use crate::spec::FaultKind;
use crate::topology::SessionKind;

/// Escapes text for HTML (kept here so the page does not depend on the report module's
/// internals).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

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
         tr.over{{background:#fff4dc}}svg.bars text,svg.cdf text{{font-size:11px}}{DIAGRAM_CSS}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
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
    design(&mut s, r);
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

/// The diagram's styles: the elements' base look (as the run page draws them) and one
/// colour per severity ([`Severity`]).
const DIAGRAM_CSS: &str = ".session{fill:none;stroke-width:3}.link{stroke-width:3}\
g rect{fill:#f7f7ff;stroke:#333;stroke-width:1.2}g.device rect{fill:#f4f4f4;stroke-dasharray:4 2}\
g.vnet rect{fill:#eef6ee}#diagram{max-width:100%;height:auto}\
.session[data-state=none],.link[data-state=none]{stroke:#ccc}\
.session[data-state=s0],.link[data-state=s0]{stroke:#2ca02c}\
.session[data-state=s1],.link[data-state=s1]{stroke:#bcbd22;stroke-width:4}\
.session[data-state=s2],.link[data-state=s2]{stroke:#ff7f0e;stroke-width:4}\
.session[data-state=s3],.link[data-state=s3]{stroke:#e6550d;stroke-width:5}\
.session[data-state=s4],.link[data-state=s4]{stroke:#d62728;stroke-width:5}\
.session[data-state=s5],.link[data-state=s5]{stroke:#67000d;stroke-width:6;stroke-dasharray:8 3}\
g.router[data-state=s0] rect{fill:#e3f4e3}g.router[data-state=s1] rect{fill:#f4f4c8}\
g.router[data-state=s2] rect{fill:#ffe3c4}g.router[data-state=s3] rect{fill:#fbc9a8}\
g.router[data-state=s4] rect{fill:#f7b4b4;stroke:#d62728;stroke-width:2}\
g.router[data-state=s5] rect{fill:#e08080;stroke:#67000d;stroke-width:3}\
.key span{display:inline-block;margin-right:1.2em;font-size:12px}\
.sw{display:inline-block;width:18px;height:10px;vertical-align:middle;margin-right:4px;border:1px solid #999}\
.multiples{display:flex;flex-wrap:wrap;gap:.5em 2em;align-items:flex-start}\
.multiples section{flex:0 0 auto}svg.bars,svg.cdf{vertical-align:top;margin-right:1em}";

/// How bad an element's worst failure is: the diagram's colour classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    /// Nothing lost.
    NoLoss,
    /// Worst p99 under 10 s.
    Seconds,
    /// Under a minute.
    UnderMinute,
    /// A minute or more, within budget.
    Minutes,
    /// Over its direction's budget.
    OverBudget,
    /// Some direction still down at the end of some run.
    Open,
}

impl Severity {
    const ALL: [Self; 6] = [
        Self::NoLoss,
        Self::Seconds,
        Self::UnderMinute,
        Self::Minutes,
        Self::OverBudget,
        Self::Open,
    ];

    /// The `data-state` the diagram's CSS colours.
    const fn state(self) -> &'static str {
        match self {
            Self::NoLoss => "s0",
            Self::Seconds => "s1",
            Self::UnderMinute => "s2",
            Self::Minutes => "s3",
            Self::OverBudget => "s4",
            Self::Open => "s5",
        }
    }

    /// The key's swatch colour (the CSS's stroke colour).
    const fn colour(self) -> &'static str {
        match self {
            Self::NoLoss => "#2ca02c",
            Self::Seconds => "#bcbd22",
            Self::UnderMinute => "#ff7f0e",
            Self::Minutes => "#e6550d",
            Self::OverBudget => "#d62728",
            Self::Open => "#67000d",
        }
    }

    const fn words(self) -> &'static str {
        match self {
            Self::NoLoss => "nothing lost",
            Self::Seconds => "p99 outage under 10 s",
            Self::UnderMinute => "under a minute",
            Self::Minutes => "a minute or more, within budget",
            Self::OverBudget => "over budget",
            Self::Open => "still down at the end of some run",
        }
    }

    fn of(r: &AuditResult, f: &FailureResult) -> Self {
        let Some(w) = f.worst() else {
            return Self::NoLoss;
        };
        if w.open_runs > 0 {
            Self::Open
        } else if r
            .over_budget()
            .iter()
            .any(|o| o.failure.name == f.failure.name)
        {
            Self::OverBudget
        } else if w.max_us == 0 {
            Self::NoLoss
        } else if w.p99_us < 10_000_000 {
            Self::Seconds
        } else if w.p99_us < 60_000_000 {
            Self::UnderMinute
        } else {
            Self::Minutes
        }
    }
}

/// The diagram's elements a single failure acts on: (sessions, links, routers), indices in
/// the view's orders.
fn elements(view: &TopologyView, f: &FailureResult) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let (mut sessions, mut links, mut routers) = (Vec::new(), Vec::new(), Vec::new());
    let [part] = f.failure.parts.as_slice() else {
        return (sessions, links, routers);
    };
    let t = part.target.as_str();
    let router = match t {
        _ if t == "gateway.er" || t.starts_with("gateway.er.") => Some(view.er_gateway.as_str()),
        _ if t.starts_with("gateway.vpn") => view.vpn.as_ref().map(|v| v.gateway.as_str()),
        _ => Some(t),
    };
    routers.extend(
        view.routers
            .iter()
            .enumerate()
            .filter(|(_, x)| Some(x.name.as_str()) == router)
            .map(|(i, _)| i),
    );
    // A circuit names its links; a link (`circuit.primary`) its segments; `vpn.tunnel` the
    // tunnels.
    let circuit_links: Vec<&str> = view
        .circuits
        .iter()
        .filter(|c| c.name == t)
        .flat_map(|c| c.links.iter().map(String::as_str))
        .collect();
    let tunnels: Vec<&str> = match (t, &view.vpn) {
        ("vpn.tunnel", Some(v)) => v.tunnels.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    for (i, l) in view.links.iter().enumerate() {
        let of_link = l.circuit_link.as_deref();
        if l.name == t
            || of_link == Some(t)
            || of_link.is_some_and(|c| circuit_links.contains(&c))
            || tunnels.contains(&l.name.as_str())
        {
            links.push(i);
        }
    }
    for (i, x) in view.sessions.iter().enumerate() {
        let disabled = part.kind == FaultKind::PeeringDisabled
            && x.kind == SessionKind::Peering
            && x.name.starts_with(&format!("{t}."))
            && peering_of(&f.failure.name).is_none_or(|k| x.name.ends_with(&format!(".{k}")));
        if x.name == t || disabled {
            sessions.push(i);
        }
    }
    (sessions, links, routers)
}

/// The peering a generated `peering_disabled` failure names (`... (private peering)`).
fn peering_of(name: &str) -> Option<&str> {
    name.strip_suffix(" peering)")?
        .rsplit_once('(')
        .map(|(_, k)| k)
}

/// Per element of the diagram, its worst single failure (rank, from 1).
struct Worst {
    sessions: Vec<Option<usize>>,
    links: Vec<Option<usize>>,
    routers: Vec<Option<usize>>,
}

fn worst_per_element(r: &AuditResult) -> Worst {
    let v = &r.view;
    let mut w = Worst {
        sessions: vec![None; v.sessions.len()],
        links: vec![None; v.links.len()],
        routers: vec![None; v.routers.len()],
    };
    // The failures are ranked worst first: an element's first failure is its worst.
    for (i, f) in r.failures.iter().enumerate() {
        let (s, l, ro) = elements(v, f);
        for (slot, ix) in [
            (&mut w.sessions, s),
            (&mut w.links, l),
            (&mut w.routers, ro),
        ] {
            for k in ix {
                if let Some(e) = slot.get_mut(k)
                    && e.is_none()
                {
                    *e = Some(i);
                }
            }
        }
    }
    w
}

fn design(s: &mut String, r: &AuditResult) {
    if r.view.routers.is_empty() {
        return;
    }
    let w = worst_per_element(r);
    let state = |ix: &Option<usize>| {
        ix.and_then(|i| r.failures.get(i))
            .map_or("none", |f| Severity::of(r, f).state())
    };
    let svg = crate::html::run::network_svg_states(
        &r.view,
        w.sessions.iter().map(state).collect(),
        w.links.iter().map(state).collect(),
        w.routers.iter().map(state).collect(),
    );
    s.push_str(
        "<h2>The design, by the worst outage each element's failure causes</h2>\n<figure>\n",
    );
    s.push_str(&svg);
    s.push_str("\n<figcaption class=\"key\">");
    for sev in Severity::ALL {
        let _ = write!(
            s,
            "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
            sev.colour(),
            esc(sev.words())
        );
    }
    s.push_str("<span><i class=\"sw\" style=\"background:#ccc\"></i>no failure of its own audited</span></figcaption>\n</figure>\n");
    s.push_str(
        "<table class=\"elements\">\n<tr><th>element</th><th>worst failure of it</th><th>worst direction</th>\
         <th>p99</th><th>max</th><th>open runs</th></tr>\n",
    );
    let rows = w
        .routers
        .iter()
        .zip(&r.view.routers)
        .map(|(ix, x)| ("router", x.name.as_str(), ix))
        .chain(
            w.links
                .iter()
                .zip(&r.view.links)
                .map(|(ix, x)| ("link", x.name.as_str(), ix)),
        )
        .chain(
            w.sessions
                .iter()
                .zip(&r.view.sessions)
                .map(|(ix, x)| ("session", x.name.as_str(), ix)),
        );
    for (what, name, ix) in rows {
        let Some((rank, f)) = ix.and_then(|i| r.failures.get(i).map(|f| (i + 1, f))) else {
            continue;
        };
        let Some(d) = f.worst() else { continue };
        let sev = Severity::of(r, f);
        let _ = writeln!(
            s,
            "<tr data-element=\"{n}\" data-severity=\"{st}\"><td><i class=\"sw\" style=\"background:{c}\"></i>{what} {n}</td>\
             <td><a href=\"#f{rank}\">{fname}</a></td><td>{dir}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}/{}</td></tr>",
            show_us(d.p99_us),
            show_us(d.max_us),
            d.open_runs,
            f.runs(),
            n = esc(name),
            st = sev.state(),
            c = sev.colour(),
            fname = esc(&f.failure.name),
            dir = if d.max_us > 0 || d.open_runs > 0 {
                esc(&d.direction)
            } else {
                "(none lost)".to_owned()
            },
        );
    }
    s.push_str("</table>\n");
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
            if w.max_us > 0 || w.open_runs > 0 {
                esc(&w.direction)
            } else {
                "(none lost)".to_owned()
            },
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
    let x = |us: u64| us as f64 / longest as f64;
    let _ = writeln!(
        s,
        "<h2>Outage per failure and direction</h2>\n<p>Left, bars: light p50, medium p99, dark max; \
         a red edge: open at the end in some run. Right: the outage's distribution over the {} runs \
         (CDF: the share of runs whose outage is at most x), one line per direction. One scale, 0 to {}, \
         for every failure.</p>\n<p class=\"key\">{}</p>\n<div class=\"multiples\">",
        r.runs,
        show_us(longest),
        r.directions
            .iter()
            .enumerate()
            .map(|(j, d)| format!(
                "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
                DIR_COLOURS[j % DIR_COLOURS.len()],
                esc(d)
            ))
            .collect::<String>()
    );
    for (i, f) in r.failures.iter().enumerate() {
        one(s, i + 1, f, &x, longest);
    }
    s.push_str("</div>\n");
}

/// The CDF lines' colours, per direction in the audit's order.
const DIR_COLOURS: [&str; 6] = [
    "#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
];

/// Width of a failure's bars (the longest outage of the audit).
const BARS_W: f64 = 300.0;
/// The CDF plot's size.
const CDF_W: f64 = 260.0;
const CDF_H: f64 = 80.0;

#[allow(
    clippy::cast_precision_loss,
    reason = "pixel positions; exactness is not needed"
)]
fn one(s: &mut String, rank: usize, f: &FailureResult, x: &dyn Fn(u64) -> f64, longest: u64) {
    let row = 18.0;
    let label = 130.0;
    let height = f.directions.len() as f64 * row + 6.0;
    let _ = writeln!(
        s,
        "<section id=\"f{rank}\" data-failure=\"{n}\">\n<h3>{rank}. {n}</h3>\n\
         <svg class=\"bars\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{height:.0}\">",
        label + BARS_W + 10.0,
        n = esc(&f.failure.name),
    );
    for (j, d) in f.directions.iter().enumerate() {
        let y = j as f64 * row + 3.0;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\">{}</text>\
             <rect x=\"{label:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"12\" fill=\"#1f4e79\"/>\
             <rect x=\"{label:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"12\" fill=\"#4a86c5\"/>\
             <rect x=\"{label:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"12\" fill=\"#a9c8e8\"/>",
            y + 10.0,
            esc(&shorten(&d.direction, 20)),
            x(d.max_us) * BARS_W,
            x(d.p99_us) * BARS_W,
            x(d.p50_us) * BARS_W
        );
        if d.open_runs > 0 {
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"3\" height=\"12\" fill=\"#c00\"/>",
                (label + x(d.max_us) * BARS_W - 3.0).max(label)
            );
        }
        let _ = write!(
            s,
            "<title>{}: p50 {}, p99 {}, max {}{}</title>",
            esc(&d.direction),
            show_us(d.p50_us),
            show_us(d.p99_us),
            show_us(d.max_us),
            if d.open_runs > 0 {
                format!(", {}/{} runs open at the end", d.open_runs, f.runs())
            } else {
                String::new()
            }
        );
    }
    s.push_str("</svg>\n");
    cdf(s, f, x, longest);
    s.push_str("</section>\n");
}

/// A failure's outage CDF per direction: a step line each, x on the audit's shared scale.
#[allow(
    clippy::cast_precision_loss,
    reason = "pixel positions; exactness is not needed"
)]
fn cdf(s: &mut String, f: &FailureResult, x: &dyn Fn(u64) -> f64, longest: u64) {
    const L: f64 = 30.0;
    const T: f64 = 6.0;
    let (w, h) = (L + CDF_W + 10.0, T + CDF_H + 18.0);
    let _ = write!(
        s,
        "<svg class=\"cdf\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" role=\"img\">\
         <title>outage CDF of {n}</title>\
         <rect x=\"{L}\" y=\"{T}\" width=\"{CDF_W}\" height=\"{CDF_H}\" fill=\"none\" stroke=\"#999\"/>\
         <line x1=\"{L}\" y1=\"{m:.1}\" x2=\"{r:.1}\" y2=\"{m:.1}\" stroke=\"#eee\"/>\
         <text x=\"{lt:.1}\" y=\"{t1:.1}\" text-anchor=\"end\">1</text><text x=\"{lt:.1}\" y=\"{t0:.1}\" text-anchor=\"end\">0</text>\
         <text x=\"{L}\" y=\"{tx:.1}\">0</text><text x=\"{r:.1}\" y=\"{tx:.1}\" text-anchor=\"end\">{max}</text>",
        n = esc(&f.failure.name),
        m = T + CDF_H / 2.0,
        r = L + CDF_W,
        lt = L - 4.0,
        t1 = T + 8.0,
        t0 = T + CDF_H,
        tx = T + CDF_H + 14.0,
        max = esc(&show_us(longest)),
    );
    let px = |us: u64| L + x(us) * CDF_W;
    let py = |q: f64| T + CDF_H * (1.0 - q);
    for (j, d) in f.directions.iter().enumerate() {
        let Some(hist) = f.summary.hists.get(&format!("outage.{}", d.direction)) else {
            continue;
        };
        let points = hist.cdf();
        if points.is_empty() {
            continue;
        }
        // From (0, 0): right to each value at the share below it, then up to its share.
        let mut path = format!("M{:.1},{:.1}", px(0), py(0.0));
        let mut below = 0.0;
        for (v, q) in &points {
            let _ = write!(
                path,
                " L{:.1},{:.1} L{:.1},{:.1}",
                px(*v),
                py(below),
                px(*v),
                py(*q)
            );
            below = *q;
        }
        let _ = write!(path, " L{:.1},{:.1}", px(longest), py(below));
        let _ = write!(
            s,
            "<path class=\"cdf-line\" data-direction=\"{dn}\" d=\"{path}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"1.6\"><title>{dn}</title></path>",
            dn = esc(&d.direction),
            c = DIR_COLOURS[j % DIR_COLOURS.len()],
        );
    }
    s.push_str("</svg>\n");
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
