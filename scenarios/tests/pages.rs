//! The run page and the typed result files:
//!
//! - `holdtime report` reads a result through its `format` tag and refuses a file of
//!   another or an unknown format, or an untagged one, with a clear message;
//! - every library topology's diagram has no two boxes overlapping (from the SVG's
//!   coordinates);
//! - in headless Chromium, the run page's time control, set from the URL fragment, colours
//!   the primary session and the flows as the run says at the fault and at the detection;
//!   screenshots go to `target/ci-screenshots/` (kept by CI as logs); no console errors.
//!   Skips with a reason when Chromium is missing, unless CI is set;
//! - the advise page's y axis is logarithmic when the rates span more than a decade.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/browser.rs"]
mod browser;

use browser::{CHROMIUM, attr_of, chromium, no_console_errors, screenshot_dir};

fn holdtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .env("CI", "true")
        .args(args)
        .output()
        .expect("the holdtime binary runs")
}

fn ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("holdtime-pages-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn report_refuses_files_of_another_or_an_unknown_format() {
    let dir = temp_dir("refuse");
    let run = holdtime(&["run", "reference", "--format", "json"]);
    ok(&run);
    let text = String::from_utf8(run.stdout).expect("UTF-8");
    assert!(
        text.contains("\"format\": \"holdtime.run/1\""),
        "untagged run result"
    );
    let cases = [
        (
            "unknown",
            text.replacen("holdtime.run/1", "holdtime.bogus/7", 1),
            "unknown result format `holdtime.bogus/7`",
        ),
        (
            "wrong",
            text.replacen("holdtime.run/1", "holdtime.sweep/2", 1),
            "not a sweep result",
        ),
        (
            "wrong-advise",
            text.replacen("holdtime.run/1", "holdtime.advise/2", 1),
            "not a valid holdtime.advise/2 result",
        ),
        (
            "old-advise",
            text.replacen("holdtime.run/1", "holdtime.advise/1", 1),
            "format `holdtime.advise/1` was written by an earlier holdtime (durations in microseconds and strings)",
        ),
        (
            "old-sweep",
            text.replacen("holdtime.run/1", "holdtime.sweep/1", 1),
            "format `holdtime.sweep/1` was written by an earlier holdtime",
        ),
        (
            "untagged",
            text.replacen("\"format\": \"holdtime.run/1\",", "", 1),
            "no `format` key",
        ),
        (
            "broken",
            text.replacen("\"duration_ns\"", "\"duration\"", 1),
            "not a valid holdtime.run/1 result",
        ),
        ("not-json", "timeline".to_owned(), "not JSON"),
    ];
    for (name, body, want) in cases {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, body).expect("write");
        let out = holdtime(&["report", path.to_str().expect("UTF-8 path")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(want), "{name}: `{want}` not in: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: wrote a page");
    }
    // The run result itself is read, and gives the same page as `run --html`.
    let json = dir.join("run.json");
    std::fs::write(&json, &text).expect("write");
    let from_report = dir.join("report.html");
    let from_run = dir.join("run.html");
    ok(&holdtime(&[
        "report",
        json.to_str().expect("UTF-8"),
        "--html",
        from_report.to_str().expect("UTF-8"),
    ]));
    ok(&holdtime(&[
        "run",
        "reference",
        "--format",
        "csv",
        "--html",
        from_run.to_str().expect("UTF-8"),
    ]));
    let a = std::fs::read(&from_report).expect("page");
    let b = std::fs::read(&from_run).expect("page");
    assert!(a == b, "report run.json and run --html differ");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `(x, y)` of every box (`<g class="router|device|vnet"> … <rect x y width height>`).
fn boxes(svg: &str) -> Vec<(String, f64, f64, f64, f64)> {
    let attr = |tag: &str, k: &str| -> f64 {
        let key = format!(" {k}=\"");
        let i = tag.find(&key).expect("attribute") + key.len();
        tag[i..]
            .split('"')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a number")
    };
    let mut out = Vec::new();
    for part in svg.split("<g class=\"").skip(1) {
        let name = part
            .split("data-name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("")
            .to_owned();
        let rect = part
            .split("<rect")
            .nth(1)
            .and_then(|r| r.split("/>").next())
            .expect("a box's rect");
        out.push((
            name,
            attr(rect, "x"),
            attr(rect, "y"),
            attr(rect, "width"),
            attr(rect, "height"),
        ));
    }
    out
}

#[test]
fn no_library_topology_draws_overlapping_boxes() {
    let mut topologies = 0;
    for entry in &scenarios::library::LIBRARY {
        let loaded = scenarios::load(entry.name).expect("library scenario loads");
        let view = scenarios::report::TopologyView::of(&loaded.scenario.topology);
        let svg = scenarios::html::run::network_svg(&view);
        let b = boxes(&svg);
        // Every router and device has its box.
        assert_eq!(
            b.iter().filter(|x| x.0 != "VNet").count(),
            view.routers.len() + view.devices.len(),
            "{}: {b:?}",
            entry.name
        );
        let (w, h) = (
            svg.split("width=\"")
                .nth(1)
                .and_then(|v| v.split('"').next()),
            svg.split("height=\"")
                .nth(1)
                .and_then(|v| v.split('"').next()),
        );
        let (w, h): (f64, f64) = (
            w.and_then(|v| v.parse().ok()).expect("svg width"),
            h.and_then(|v| v.parse().ok()).expect("svg height"),
        );
        for (i, a) in b.iter().enumerate() {
            assert!(
                a.1 >= 0.0 && a.2 >= 0.0 && a.1 + a.3 <= w && a.2 + a.4 <= h,
                "{}: {} outside the drawing",
                entry.name,
                a.0
            );
            for c in &b[i + 1..] {
                let apart =
                    a.1 + a.3 <= c.1 || c.1 + c.3 <= a.1 || a.2 + a.4 <= c.2 || c.2 + c.4 <= a.2;
                assert!(apart, "{}: {} overlaps {}", entry.name, a.0, c.0);
            }
        }
        topologies += 1;
    }
    assert!(topologies >= 5);
}

/// The DOM of `url` after its scripts ran, and the browser's log.
fn dom(browser: &str, url: &str, profile: &Path) -> (String, String) {
    let user_dir = format!("--user-data-dir={}", profile.display());
    let d = Command::new(browser)
        .args(CHROMIUM)
        .args([&user_dir, "--virtual-time-budget=2000", "--dump-dom", url])
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&d.stdout).into_owned(),
        String::from_utf8_lossy(&d.stderr).into_owned(),
    )
}

fn screenshot(browser: &str, url: &str, profile: &Path, to: &Path, size: &str) -> String {
    let user_dir = format!("--user-data-dir={}", profile.display());
    let shot = format!("--screenshot={}", to.display());
    let window = format!("--window-size={size}");
    let s = Command::new(browser)
        .args(CHROMIUM)
        .args([&user_dir, "--virtual-time-budget=2000", &shot, &window, url])
        .output()
        .expect("chromium runs");
    assert!(to.is_file(), "no screenshot at {}", to.display());
    String::from_utf8_lossy(&s.stderr).into_owned()
}

#[test]
fn run_page_steps_through_the_failover_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium is not installed (.ci/run installs it)"
        );
        eprintln!("skipped: chromium not installed (apt-get install chromium)");
        return;
    };
    let dir = temp_dir("browser");
    let shots = screenshot_dir();
    let page = dir.join("run.html");
    let json = holdtime(&[
        "run",
        "reference",
        "--format",
        "json",
        "--html",
        page.to_str().expect("UTF-8"),
    ]);
    ok(&json);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("run JSON");
    let fault_ns = v["episodes"][0]["at_ns"].as_u64().expect("a fault");
    let detection_ns = v["detections"]
        .as_array()
        .expect("detections")
        .iter()
        .filter(|d| d["session"] == "circuit.primary.private" && !d["episode"].is_null())
        .filter_map(|d| d["at_ns"].as_u64())
        .min()
        .expect("the primary session's detection");
    let url = format!("file://{}", page.display());
    let profile = dir.join("profile");
    let primary = "data-name=\"circuit.primary.private\"";
    let flows = "data-direction=\"onprem_to_vnet\"";

    // At the start, nothing is up yet.
    let (start, log) = dom(browser, &format!("{url}#event=0"), &profile);
    no_console_errors("start", &log);
    assert_eq!(attr_of(&start, "session", primary, "data-state"), "down");

    // At the fault (silent): the session still looks up to both ends, the core link is
    // silent, and some of on-premises' flows have lost their path.
    for fragment in [
        "#fault=1".to_owned(),
        format!("#t={}", fault_ns as f64 / 1e9),
    ] {
        let (d, log) = dom(browser, &format!("{url}{fragment}"), &profile);
        no_console_errors(&fragment, &log);
        assert_eq!(
            attr_of(&d, "session", primary, "data-state"),
            "up",
            "{fragment}"
        );
        assert_eq!(
            attr_of(
                &d,
                "link",
                "data-name=\"circuit.primary.core\"",
                "data-state"
            ),
            "silent",
            "{fragment}"
        );
        assert_ne!(attr_of(&d, "dir", flows, "data-state"), "ok", "{fragment}");
        let lost: u32 = attr_of(&d, "dir", flows, "data-lost")
            .parse()
            .expect("a count");
        assert!(lost > 0, "{fragment}: no flow lost at the fault");
    }

    // At the detection (ce1's hold timer): the session is down at ce1's end, and the
    // on-premises flows have moved to the secondary circuit.
    let t = format!("#t={:.9}", detection_ns as f64 / 1e9);
    for fragment in ["#detection=1", t.as_str()] {
        let (d, log) = dom(browser, &format!("{url}{fragment}"), &profile);
        no_console_errors(fragment, &log);
        let state = attr_of(&d, "session", primary, "data-state");
        assert!(state == "half" || state == "down", "{fragment}: {state}");
        assert_eq!(attr_of(&d, "dir", flows, "data-state"), "ok", "{fragment}");
        assert_eq!(attr_of(&d, "dir", flows, "data-lost"), "0", "{fragment}");
        assert!(
            d.contains("hold timer expired"),
            "{fragment}: the event is not shown"
        );
        // The flows are drawn on the secondary circuit's links, not on the primary's.
        assert!(d.contains("class=\"flow dir0\" data-dir=\"0\" data-link=\"2\" data-on=\"1\""));
        assert!(d.contains("class=\"flow dir0\" data-dir=\"0\" data-link=\"0\" data-on=\"0\""));
    }

    let log = screenshot(
        browser,
        &format!("{url}#detection=1"),
        &profile,
        &shots.join("run.png"),
        "1280,2200",
    );
    no_console_errors("screenshot", &log);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_runs_both_sides_on_the_same_seeds() {
    // The same scenario on both sides: every row of B repeats A's.
    let out = holdtime(&["compare", "reference", "reference", "--runs", "2"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("  A  ") || l.contains("  B  "))
        .collect();
    assert!(rows.len() >= 6, "{text}");
    for pair in rows.chunks(2) {
        let cells = |l: &str| {
            l.split_whitespace()
                .rev()
                .take(5)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(cells(pair[0]), cells(pair[1]), "{text}");
    }
    assert!(text.contains("2 runs each, on the same seeds"), "{text}");
    // Shorter timers detect sooner: B's detection p50 is under A's.
    let out = holdtime(&["compare", "reference", "tuned-10-30", "--runs", "2"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    let detection: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("detection"))
        .take(2)
        .collect();
    // The first duration of the row (`2m22.752s`, `9.5s`), as the text writes durations.
    let p50 = |l: &str| -> u64 {
        l.split_whitespace()
            .find_map(|w| w.parse::<sim_core::time::Duration>().ok())
            .map(sim_core::time::Duration::as_nanos)
            .expect("a p50")
    };
    assert!(p50(detection[1]) < p50(detection[0]), "{text}");
    // A scenario that does not load: exit 2, nothing run.
    let out = holdtime(&["compare", "reference", "no-such-scenario"]);
    assert_eq!(out.status.code(), Some(2));
}

/// An advise result with one candidate per `(outage p99 s, false failovers per year)`.
fn advice(points: &[(u64, Option<f64>)], budget: f64) -> scenarios::sweep::advise::Advice {
    use scenarios::sweep::advise::{Advice, FORMAT, Method, Ranked, Verdict};
    Advice {
        format: FORMAT.to_owned(),
        scenario: "reference".to_owned(),
        metric: "outage".to_owned(),
        loss: "1 % independent loss".to_owned(),
        method: Method::Is,
        healthy: "importance sampling".to_owned(),
        failure_runs: 10,
        max_outage_ns: 240_000_000_000,
        max_false_per_year: budget,
        ranked: points
            .iter()
            .enumerate()
            .map(|(i, &(outage_s, rate))| Ranked {
                rank: i + 1,
                candidate: format!("candidate {}", i + 1),
                keepalive_ns: 60_000_000_000,
                hold_ns: 180_000_000_000,
                bfd_interval_ns: None,
                tcp: "linux".to_owned(),
                outage_p50_ns: outage_s * 900_000_000,
                outage_p99_ns: outage_s * 1_000_000_000,
                false_per_year: rate,
                false_per_year_ci: [rate.map(|r| r / 2.0), rate.map(|r| r * 2.0)],
                rel_half_width: None,
                false_resets: 0,
                healthy_ns: 0,
                up_ns: 0,
                importance: None,
                messages_per_s: 1.0,
                meets_budgets: false,
                verdict: Verdict::NotShown("a test".to_owned()),
            })
            .collect(),
    }
}

/// The advise chart of `a` through `holdtime report --svg`: its y tick labels, bottom to top,
/// with their pixel rows, each candidate's point row, in rank order, and the false-failover
/// budget line's row.
fn advise_svg(
    a: &scenarios::sweep::advise::Advice,
    name: &str,
) -> (Vec<(f64, String)>, Vec<f64>, Option<f64>) {
    let dir = temp_dir(name);
    let json = dir.join("advise.json");
    std::fs::write(&json, serde_json::to_string_pretty(a).expect("JSON")).expect("write");
    let charts = dir.join("svg");
    ok(&holdtime(&[
        "report",
        json.to_str().expect("UTF-8"),
        "--svg",
        charts.to_str().expect("UTF-8"),
    ]));
    let svg = std::fs::read_to_string(charts.join("tradeoff.svg")).expect("the chart");
    let num = |s: &str, key: &str| -> Option<f64> {
        let at = s.find(&format!("{key}=\""))? + key.len() + 2;
        s[at..].split('"').next()?.parse().ok()
    };
    // Y tick labels are right-aligned just left of the plot area.
    let ticks: Vec<(f64, String)> = svg
        .split("<text ")
        .skip(1)
        .filter(|t| t.starts_with("x=\"62.0\"") && t.contains("text-anchor=\"end\""))
        .filter_map(|t| {
            let label = t.split('>').nth(1)?.split('<').next()?.to_owned();
            Some((num(t, "y")? - 4.0, label))
        })
        .collect();
    let points: Vec<f64> = svg
        .split("<circle ")
        .skip(1)
        .filter_map(|c| num(c, "cy"))
        .collect();
    let budget = svg
        .split("<line ")
        .skip(1)
        .filter(|l| l.contains("stroke=\"#b00\""))
        .find(|l| num(l, "y1") == num(l, "y2"))
        .and_then(|l| num(l, "y1"));
    (ticks, points, budget)
}

/// The advise page's y axis is logarithmic when the false-failover rates span more than a
/// decade (ticks at powers of ten, equal ratios at equal distances, a `0` under them for a
/// candidate that never resets) and linear when they do not.
#[test]
fn advise_page_uses_a_log_axis_when_rates_span_decades() {
    let wide = advice(
        &[
            (10, Some(30.0)),
            (40, Some(0.3)),
            (90, Some(0.003)),
            (200, Some(0.0)),
        ],
        1.0,
    );
    let (ticks, points, budget) = advise_svg(&wide, "advise-log");
    let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(
        labels,
        ["0", "0.001", "0.01", "0.1", "1", "10", "100"],
        "{ticks:?}"
    );
    // Rows go down the page: 0 at the bottom, each decade the same distance above the last.
    let step = ticks[1].0 - ticks[2].0;
    assert!(step > 10.0, "{ticks:?}");
    for w in ticks.windows(2) {
        assert!((w[0].0 - w[1].0 - step).abs() < 0.2, "{ticks:?}");
    }
    // 30, 0.3, 0.003: two decades apart each; the candidate without resets on the 0 tick.
    assert!(
        (points[1] - points[0] - 2.0 * step).abs() < 0.2,
        "{points:?}"
    );
    assert!(
        (points[2] - points[1] - 2.0 * step).abs() < 0.2,
        "{points:?}"
    );
    assert!((points[3] - ticks[0].0).abs() < 0.2, "{points:?} {ticks:?}");
    // The budget line (1 per year) sits on the `1` tick.
    let one = ticks.iter().find(|(_, l)| l == "1").map(|t| t.0);
    assert!(
        budget.zip(one).is_some_and(|(b, o)| (b - o).abs() < 0.2),
        "{budget:?} {one:?}"
    );
    let page = holdtime(&["report", &{
        let d = temp_dir("advise-log-page");
        let f = d.join("a.json");
        std::fs::write(&f, serde_json::to_string(&wide).expect("JSON")).expect("write");
        f.to_string_lossy().into_owned()
    }]);
    ok(&page);
    let html = String::from_utf8_lossy(&page.stdout);
    assert!(
        html.contains("false failovers per year (log scale)"),
        "{html}"
    );
    // The table writes small rates as the text does, not as 0.00.
    assert!(html.contains("<td class=\"n\">3.0e-3</td>"), "{html}");

    // Within a decade: a linear axis from 0.
    let narrow = advice(&[(10, Some(2.0)), (40, Some(5.0)), (90, Some(8.0))], 4.0);
    let (ticks, points, _) = advise_svg(&narrow, "advise-linear");
    let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(labels.first(), Some(&"0"), "{ticks:?}");
    assert!(!labels.contains(&"0.1"), "{ticks:?}");
    let per_unit = (points[0] - points[1]) / 3.0;
    assert!(
        (points[1] - points[2] - 3.0 * per_unit).abs() < 0.2,
        "{points:?}"
    );
}
