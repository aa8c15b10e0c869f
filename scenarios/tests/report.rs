//! `holdtime report` pages (run, sweep, advise) and the `holdtime compare` page render in
//! headless Chromium: no console errors, a non-blank screenshot (kept in
//! `target/ci-screenshots/` for CI's logs), charts and tables in the DOM, and nothing fetched
//! from the network (the only URL in the page is the SVG namespace). Skips with a reason
//! when Chromium is missing, unless CI is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/browser.rs"]
mod browser;

use browser::{CHROMIUM, chromium, screenshot_dir};

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

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("holdtime-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Renders `html` headless; returns (stderr log, DOM, screenshot path).
fn render(browser: &str, html: &Path, dir: &Path) -> (String, String, PathBuf) {
    let shot = html.with_extension("png");
    let profile = dir.join(format!(
        "profile-{}",
        html.file_stem().and_then(|s| s.to_str()).unwrap_or("x")
    ));
    let url = format!("file://{}", html.display());
    let user_dir = format!("--user-data-dir={}", profile.display());
    let shot_arg = format!("--screenshot={}", shot.display());
    let s = Command::new(browser)
        .args(CHROMIUM)
        .args([&user_dir, &shot_arg, "--window-size=900,1400", &url])
        .output()
        .expect("chromium runs");
    let d = Command::new(browser)
        .args(CHROMIUM)
        .args([&user_dir, "--dump-dom", &url])
        .output()
        .expect("chromium runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&s.stderr),
        String::from_utf8_lossy(&d.stderr)
    );
    (log, String::from_utf8_lossy(&d.stdout).into_owned(), shot)
}

/// Share of pixels that are not (near) white.
fn ink(png_path: &Path) -> f64 {
    let file = std::fs::File::open(png_path).expect("screenshot written");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let total = px.len() / channels;
    let inked = px
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|c| *c < 200))
        .count();
    inked as f64 / total as f64
}

#[test]
fn report_pages_render_in_headless_chromium_without_console_errors() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium is not installed (.ci/run installs it)"
        );
        eprintln!("skipped: chromium not installed (apt-get install chromium)");
        return;
    };
    let dir = temp_dir();
    let p = |n: &str| dir.join(n).to_str().expect("utf-8 path").to_owned();
    ok(&holdtime(&[
        "sweep",
        "reference",
        "--runs",
        "20",
        "--set",
        "bgp.hold_time=30s,180s",
        "--format",
        "json",
        "--out",
        &p("sweep.json"),
    ]));
    ok(&holdtime(&[
        "advise",
        "--runs",
        "2",
        "--method",
        "direct",
        "--healthy-runs",
        "1",
        "--horizon",
        "10m",
        "--json",
        &p("advise.json"),
    ]));
    let run = holdtime(&["run", "reference", "--format", "json"]);
    ok(&run);
    std::fs::write(p("run.json"), &run.stdout).expect("write run JSON");

    ok(&holdtime(&[
        "compare",
        "reference",
        "tuned-10-30",
        "--runs",
        "3",
        "--html",
        &p("compare.html"),
    ]));
    for (input, needle) in [
        ("sweep", "CDF of the longest outage"),
        ("advise", "Trade-off"),
        ("run", "Timeline"),
        ("compare", "CDF of outage.onprem_to_vnet"),
    ] {
        let html = p(&format!("{input}.html"));
        if input != "compare" {
            ok(&holdtime(&[
                "report",
                &p(&format!("{input}.json")),
                "--html",
                &html,
            ]));
        }
        let text = std::fs::read_to_string(&html).expect("page written");
        let urls: Vec<&str> = text
            .match_indices("http")
            .map(|(i, _)| &text[i..])
            .collect();
        assert!(
            urls.iter()
                .all(|u| u.starts_with("http://www.w3.org/2000/svg")),
            "{input}: the page names a URL other than the SVG namespace"
        );
        let (log, dom, shot) = render(browser, Path::new(&html), &dir);
        for line in log.lines() {
            assert!(
                !(line.contains("CONSOLE") || line.contains("Uncaught")),
                "{input}: console message: {line}"
            );
        }
        assert!(dom.contains("<svg"), "{input}: no SVG in the DOM");
        assert!(dom.contains(needle), "{input}: `{needle}` missing");
        assert!(dom.contains("<table"), "{input}: no table of the numbers");
        assert!(dom.contains("<title>"), "{input}: a chart without a title");
        let ink = ink(&shot);
        assert!(ink > 0.01, "{input}: screenshot is blank ({ink:.4} inked)");
        std::fs::copy(&shot, screenshot_dir().join(format!("{input}-page.png")))
            .expect("screenshot kept");
    }
}
