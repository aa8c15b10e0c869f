//! `holdtime check --format junit`: the verdicts as JUnit XML, the report format CI systems
//! (Jenkins, GitLab, GitHub Actions test reporters, Azure Pipelines) read. One `<testsuite>`
//! per scenario file, one `<testcase>` per expectation; a failed expectation carries a
//! `<failure>` whose message is the measured value and whose text adds the file's reason; a
//! file that could not be checked (invalid, or not simulated) is a suite with one `<error>`.
//! No timestamps or host names: the same run writes the same bytes.

use std::fmt::Write as _;

use super::verdict::Verdict;

/// One scenario file's outcome, for [`junit`].
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteOutcome {
    /// The file (or built-in name) as given on the command line.
    pub file: String,
    /// The scenario's name (its `name`), when it loaded.
    pub scenario: Option<String>,
    /// The seed the scenario ran with, when it ran.
    pub seed: Option<u64>,
    /// One verdict per expectation, in file order.
    pub verdicts: Vec<Verdict>,
    /// Why the file could not be checked, if it could not.
    pub error: Option<String>,
}

/// Escapes text for an XML attribute or element (XML 1.0 §2.4, §3.3.3): the five special
/// characters, and control characters XML 1.0 cannot carry are replaced by `?`.
#[must_use]
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// The JUnit XML document for `suites`.
#[must_use]
pub fn junit(suites: &[SuiteOutcome]) -> String {
    let count = |f: &dyn Fn(&SuiteOutcome) -> usize| suites.iter().map(f).sum::<usize>();
    let tests = count(&|s| s.verdicts.len() + usize::from(s.error.is_some()));
    let failures = count(&|s| s.verdicts.iter().filter(|v| !v.pass).count());
    let errors = count(&|s| usize::from(s.error.is_some()));
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"holdtime check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for s in suites {
        let name = xml_escape(&s.file);
        let classname = xml_escape(s.scenario.as_deref().unwrap_or(&s.file));
        let failed = s.verdicts.iter().filter(|v| !v.pass).count();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failed}\" errors=\"{}\" skipped=\"0\">",
            s.verdicts.len() + usize::from(s.error.is_some()),
            usize::from(s.error.is_some())
        );
        if let Some(seed) = s.seed {
            let _ = writeln!(
                x,
                "    <properties>\n      <property name=\"seed\" value=\"{seed}\"/>\n    </properties>"
            );
        }
        if let Some(e) = &s.error {
            let _ = writeln!(
                x,
                "    <testcase name=\"{name}\" classname=\"{classname}\">\n      <error message=\"{}\" type=\"not checked\">{}</error>\n    </testcase>",
                xml_escape(e.lines().next().unwrap_or_default()),
                xml_escape(e)
            );
        }
        for v in &s.verdicts {
            let case = xml_escape(&v.expectation);
            if v.pass {
                let _ = writeln!(
                    x,
                    "    <testcase name=\"{case}\" classname=\"{classname}\"/>"
                );
                continue;
            }
            let mut text = format!("measured: {}", v.shown);
            if let Some(b) = &v.because {
                let _ = write!(text, "\nexpected because: {b}");
            }
            let _ = writeln!(
                x,
                "    <testcase name=\"{case}\" classname=\"{classname}\">\n      <failure message=\"measured: {}\" type=\"expectation\">{}</failure>\n    </testcase>",
                xml_escape(&v.shown),
                xml_escape(&text)
            );
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str, pass: bool) -> Verdict {
        Verdict {
            expectation: text.to_owned(),
            because: Some("BFD & <hold>".to_owned()),
            measured: "2m23s".to_owned(),
            shown: "2m23s".to_owned(),
            pass,
        }
    }

    #[test]
    fn counts_and_escapes() {
        let x = junit(&[
            SuiteOutcome {
                file: "a.toml".to_owned(),
                scenario: Some("a \"quoted\" name".to_owned()),
                seed: Some(7),
                verdicts: vec![
                    verdict("outage.x <= 1s", true),
                    verdict("flaps == 0", false),
                ],
                error: None,
            },
            SuiteOutcome {
                file: "b.toml".to_owned(),
                scenario: None,
                seed: None,
                verdicts: vec![],
                error: Some("b.toml: invalid".to_owned()),
            },
        ]);
        assert!(
            x.contains(
                "<testsuites name=\"holdtime check\" tests=\"3\" failures=\"1\" errors=\"1\">"
            ),
            "{x}"
        );
        assert!(x.contains("name=\"outage.x &lt;= 1s\""), "{x}");
        assert!(x.contains("classname=\"a &quot;quoted&quot; name\""), "{x}");
        assert!(
            x.contains("expected because: BFD &amp; &lt;hold&gt;"),
            "{x}"
        );
        assert!(x.contains("<error message=\"b.toml: invalid\""), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 3);
    }
}
