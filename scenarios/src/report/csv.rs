//! The CSV form of a [`RunReport`]: one row per outage of one flow.

use std::fmt::Write as _;

use super::RunReport;

impl RunReport {
    /// The outages as CSV (RFC 4180): one row per outage of one flow inside the window, with
    /// `open` = 1 for an outage still going on at the end of the run (its `end_s` is then the
    /// end of the run and `duration_s` a lower bound), and the episode it began in (empty:
    /// before any fault). Times are seconds since the start of the run, to the nanosecond.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let secs = |ns: u64| format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000);
        let mut out =
            String::from("direction,flow,start_s,end_s,duration_s,open,episode,episode_fault\n");
        for o in &self.outages {
            let end = o.start + o.duration;
            let (ep, fault) = o.episode.map_or_else(
                || (String::new(), String::new()),
                |e| (e.to_string(), csv_quote(&self.episode_label(e))),
            );
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{ep},{fault}",
                csv_quote(&o.direction),
                o.flow,
                secs(o.start.as_nanos()),
                secs(end.as_nanos()),
                secs(o.duration.as_nanos()),
                u8::from(o.open),
            );
        }
        out
    }
}

/// A CSV field, quoted when it needs it (RFC 4180 §2).
fn csv_quote(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}
