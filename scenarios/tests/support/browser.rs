//! Headless Chromium for the page tests (`pages.rs`, `report.rs`, `audit.rs`): finding the
//! browser, its common flags, the console check, where screenshots go, and reading one
//! attribute of a tag out of a page or a DOM dump. Each test file uses what it needs.
#![allow(
    dead_code,
    reason = "each test crate that includes this uses a part of it"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The first Chromium on the PATH, if any.
pub(crate) fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Flags of every headless run: no sandbox or GPU (CI runs as root in a container), no
/// background traffic, the console to stderr.
pub(crate) const CHROMIUM: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
];

/// Fails on any console message or uncaught exception in Chromium's `log`.
pub(crate) fn no_console_errors(what: &str, log: &str) {
    for line in log.lines() {
        assert!(
            !(line.contains("CONSOLE") || line.contains("Uncaught")),
            "{what}: console message: {line}"
        );
    }
}

/// The screenshots' directory: `target/ci-screenshots/` of the workspace (kept by CI).
pub(crate) fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let dir = target.join("ci-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// The value of `attr` on the first tag that has `class="cls"` and `marker` (e.g.
/// `data-name="vpn"`).
pub(crate) fn attr_of(html: &str, cls: &str, marker: &str, attr: &str) -> String {
    let key = format!("class=\"{cls}\"");
    for (i, _) in html.match_indices('<') {
        let tag = &html[i..html[i..].find('>').map_or(html.len(), |e| i + e)];
        if tag.contains(&key) && tag.contains(marker) {
            let k = format!(" {attr}=\"");
            if let Some(j) = tag.find(&k) {
                return tag[j + k.len()..]
                    .split('"')
                    .next()
                    .unwrap_or("")
                    .to_owned();
            }
        }
    }
    panic!("no element of class {cls} with {marker} and {attr}")
}
