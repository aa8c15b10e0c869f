//! The README stays true to what the program prints today: every line of its excerpt of
//! `holdtime run` (the first code block after "An excerpt of what it prints today") is a line
//! of what `holdtime run` prints now, in the same order; `...` stands for lines left out. And
//! every page a README link or picture names exists.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The lines of the first fenced block after `marker`.
fn block_after(text: &str, marker: &str) -> Vec<String> {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("README has {marker:?}"));
    let mut lines = text[start..].lines().skip_while(|l| !l.starts_with("```"));
    lines.next();
    lines
        .take_while(|l| !l.starts_with("```"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_excerpt_of_holdtime_run_is_what_it_prints() {
    let excerpt = block_after(&readme(), "An excerpt of what it prints today");
    assert!(excerpt.len() > 10, "the excerpt is there: {excerpt:?}");
    let output = Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .arg("run")
        .output()
        .expect("holdtime run");
    let printed = String::from_utf8_lossy(&output.stdout);
    let printed: Vec<&str> = printed.lines().collect();
    // Each excerpt line, in order, somewhere after the previous one.
    let mut at = 0;
    for line in excerpt.iter().filter(|l| l.trim() != "...") {
        let found = printed[at..].iter().position(|p| p == line);
        let Some(offset) = found else {
            panic!(
                "README excerpt line not printed (in this order) by `holdtime run`:\n{line}\n\n\
                 what it prints:\n{}",
                printed.join("\n")
            );
        };
        at += offset + 1;
    }
}

#[test]
fn every_page_and_picture_the_readme_names_exists() {
    let text = readme();
    let mut missing = Vec::new();
    for (i, _) in text.match_indices("](") {
        let rest = &text[i + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = &rest[..end];
        if target.starts_with("http") || target.starts_with('#') {
            continue;
        }
        if !root().join(target).exists() {
            missing.push(target.to_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "README links to missing files: {missing:?}"
    );
}
