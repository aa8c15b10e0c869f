//! Judging a scenario's `[[expect]]` table against a [`RunReport`]: one [`Verdict`] per
//! expectation, and the `PASS`/`FAIL` lines `holdtime check` prints.

use std::fmt::Write as _;

use serde::Serialize;
use sim_core::time::Duration;

use super::text::{join_or, state_name};
use super::{Observation, RunReport};
use crate::scenario::{Check, Expectation, Metric, Scenario};
use crate::spec::SessionStateName;
use crate::units::Quantity;

/// The verdict on one expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The expectation as written.
    pub expectation: String,
    /// Its `because`.
    pub because: Option<String>,
    /// What was measured, in words, exact (durations to the nanosecond): the JSON form.
    pub measured: String,
    /// What was measured as `holdtime check` prints it: durations rounded to the millisecond,
    /// as in the run summary.
    #[serde(skip)]
    pub shown: String,
    /// Whether it held.
    pub pass: bool,
}

/// Judges every expectation of `scenario` against `report`.
#[must_use]
pub fn evaluate(scenario: &Scenario, report: &RunReport) -> Vec<Verdict> {
    scenario
        .expectations
        .iter()
        .map(|e| judge(scenario, report, e))
        .collect()
}

fn judge(scenario: &Scenario, report: &RunReport, e: &Expectation) -> Verdict {
    let topo = &scenario.topology;
    let session_name =
        |s: crate::topology::SessionIx| topo.sessions.get(s.0).map_or("", |s| s.name.as_str());
    // Each arm gives the words twice: exact and for display (see `Verdict::shown`).
    let ((measured, shown), pass) = match &e.check {
        Check::Metric {
            metric,
            bounds,
            episode,
            allow_open,
        } => match report.observe(scenario, metric, *episode) {
            Observation::Value { q, open, episode } => {
                let within = bounds.admits(q);
                // Rounding must not make a verdict look wrong (a FAIL at "900ms" against
                // "<= 900ms"): then the exact value is shown.
                let shown = if bounds.admits(rounded(q)) == within {
                    human(q)
                } else {
                    q.to_string()
                };
                let from = match (metric.is_duration(), episode) {
                    (true, Some(e)) if !matches!(metric, Metric::Outage(_)) => {
                        format!(" after {}", report.episode_text(e))
                    }
                    _ => String::new(),
                };
                if open && !allow_open {
                    let words = |v: String| format!("still down at the end of the run, {v} so far");
                    ((words(q.to_string()), words(shown)), false)
                } else {
                    let open_note = if open { " (still open at the end)" } else { "" };
                    (
                        (
                            format!("{q}{from}{open_note}"),
                            format!("{shown}{from}{open_note}"),
                        ),
                        within,
                    )
                }
            }
            Observation::NeverReachable => (
                same(&format!(
                    "never reachable: no flow delivered from {} to the end",
                    crate::fmt::instant(report.window.from)
                )),
                false,
            ),
            Observation::NotObserved => (
                same(&match episode {
                    Some(e) if report.episodes.len() < *e as usize => format!(
                        "not observed (the run had {} episodes)",
                        report.episodes.len()
                    ),
                    _ => "not observed".to_owned(),
                }),
                false,
            ),
        },
        Check::SessionDownBy { session, by } => {
            let name = session_name(*session);
            let changes = report.session_changes(name);
            let mut was_up = false;
            let mut down_at = None;
            for (at, _, to) in changes {
                if to == SessionStateName::Established {
                    was_up = true;
                } else if was_up && down_at.is_none() {
                    down_at = Some(at);
                }
            }
            match down_at {
                Some(at) => (
                    same(&format!("down at {}", crate::fmt::instant(at))),
                    at.since_start() <= *by,
                ),
                None => (same("never went down"), false),
            }
        }
        Check::SessionState { session, state, at } => {
            let name = session_name(*session);
            let mut per_end: Vec<(&str, SessionStateName)> = Vec::new();
            for (t, router, to) in report.session_changes(name) {
                if t.since_start() > *at {
                    break;
                }
                match per_end.iter_mut().find(|(r, _)| *r == router) {
                    Some(entry) => entry.1 = to,
                    None => per_end.push((router, to)),
                }
            }
            let states: Vec<String> = per_end
                .iter()
                .map(|(r, s)| format!("{r}: {}", state_name(*s)))
                .collect();
            let pass = if *state == SessionStateName::Established {
                per_end.len() == 2 && per_end.iter().all(|(_, s)| *s == *state)
            } else if per_end.is_empty() {
                *state == SessionStateName::Idle
            } else {
                per_end.iter().any(|(_, s)| *s == *state)
            };
            (same(&join_or(&states, "no state change (Idle)")), pass)
        }
        Check::SessionNeverUp { session } => {
            let up = report
                .session_changes(session_name(*session))
                .iter()
                .any(|(_, _, s)| *s == SessionStateName::Established);
            (
                same(if up {
                    "reached Established"
                } else {
                    "never Established"
                }),
                !up,
            )
        }
        Check::SessionStaysUp { session } => {
            let mut up = false;
            let mut left = false;
            for (_, _, s) in report.session_changes(session_name(*session)) {
                if s == SessionStateName::Established {
                    up = true;
                } else if up {
                    left = true;
                }
            }
            (
                same(if left {
                    "left Established"
                } else {
                    "stayed Established"
                }),
                up && !left,
            )
        }
        Check::NoLoss { direction } => {
            if report
                .direction(direction)
                .is_some_and(|d| d.never_reachable)
            {
                (
                    same(&format!(
                        "never reachable: no flow delivered from {} to the end",
                        crate::fmt::instant(report.window.from)
                    )),
                    false,
                )
            } else {
                let outage = report.metric(scenario, &Metric::Outage(direction.clone()));
                let lost = report.metric(scenario, &Metric::ProbesLost(direction.clone()));
                let zero_outage = outage == Some(Quantity::Duration(Duration::ZERO));
                // A direction without probe packets has no count: the outage decides alone.
                let zero_lost = lost.is_none_or(|q| q == Quantity::Count(0));
                let words = |f: fn(Quantity) -> String| {
                    let outage = format!("outage {}", outage.map_or_else(|| "?".to_owned(), f));
                    match lost {
                        Some(q) => format!("{outage}, probes lost {}", f(q)),
                        None => outage,
                    }
                };
                (
                    (words(|q| q.to_string()), words(human)),
                    zero_outage && zero_lost,
                )
            }
        }
        Check::Path {
            direction,
            via,
            link,
            at,
            share_percent,
        } => {
            let current = report
                .paths
                .iter()
                .rfind(|p| p.direction == *direction && p.at.since_start() <= *at);
            match current {
                Some(p) => {
                    let n = p.flows_via_link(*via, link.as_deref());
                    let pass = p.flows > 0
                        && u64::from(n) * 100 >= u64::from(*share_percent) * u64::from(p.flows);
                    let words = if pass || p.flows == 1 {
                        p.describe()
                    } else {
                        format!(
                            "{} ({} of {} flows not via {}{})",
                            p.describe(),
                            p.flows - n,
                            p.flows,
                            via.name(),
                            link.as_ref()
                                .map_or_else(String::new, |l| format!(" ({l})"))
                        )
                    };
                    (same(&words), pass)
                }
                None => (same("no path recorded"), false),
            }
        }
    };
    Verdict {
        expectation: e.text.clone(),
        because: e.because.clone(),
        measured,
        shown,
        pass,
    }
}

/// Words that read the same exact and displayed.
fn same(words: &str) -> (String, String) {
    (words.to_owned(), words.to_owned())
}

/// A quantity as shown: durations rounded by [`crate::fmt`]'s rule.
fn rounded(q: Quantity) -> Quantity {
    match q {
        // Exactly the value the text shows (every form of `fmt::duration` parses back).
        Quantity::Duration(d) => Quantity::Duration(crate::fmt::duration(d).parse().unwrap_or(d)),
        Quantity::Count(_) => q,
    }
}

/// A quantity as the run summary prints it ([`crate::fmt`]'s rounding).
fn human(q: Quantity) -> String {
    match q {
        Quantity::Duration(d) => crate::fmt::duration(d),
        Quantity::Count(n) => n.to_string(),
    }
}

/// Renders verdicts as `PASS`/`FAIL` lines.
#[must_use]
pub fn render_verdicts(file: &str, verdicts: &[Verdict]) -> String {
    let mut out = String::new();
    for v in verdicts {
        let _ = writeln!(
            out,
            "{file}: {} {}  (measured: {})",
            if v.pass { "PASS" } else { "FAIL" },
            v.expectation,
            v.shown
        );
        if let (false, Some(because)) = (v.pass, &v.because) {
            let _ = writeln!(out, "  = expected because: {because}");
        }
    }
    out
}

/// How many verdicts passed and how many failed.
#[must_use]
pub fn tally(verdicts: &[Verdict]) -> (usize, usize) {
    let passed = verdicts.iter().filter(|v| v.pass).count();
    (passed, verdicts.len() - passed)
}

/// `3 passed, 1 failed`.
#[must_use]
pub fn tally_line(passed: usize, failed: usize) -> String {
    format!("{passed} passed, {failed} failed")
}

/// The verdicts as the end of `holdtime run` prints them: a heading with the tally, then one
/// `PASS`/`FAIL` line per expectation (and the reason under a failure). Empty when there are
/// none: an empty section prints no heading.
#[must_use]
pub fn render_verdict_section(verdicts: &[Verdict]) -> String {
    if verdicts.is_empty() {
        return String::new();
    }
    let (passed, failed) = tally(verdicts);
    let mut out = format!("\nexpectations: {}\n", tally_line(passed, failed));
    for v in verdicts {
        let _ = writeln!(
            out,
            "  {} {}  (measured: {})",
            if v.pass { "PASS" } else { "FAIL" },
            v.expectation,
            v.shown
        );
        if let (false, Some(because)) = (v.pass, &v.because) {
            let _ = writeln!(out, "    = expected because: {because}");
        }
    }
    out
}
