//! The three forms of a sweep result: a text table, CSV, and JSON that carries the histograms
//! (V2, base64) so that shards can be merged exactly ([`super::merge()`]).
//!
//! The JSON form (`holdtime.sweep/2`, [`SweepJson`]) follows the run result's rule: every
//! duration is an integer number of nanoseconds and its key ends in `_ns`. A duration
//! histogram has `"unit": "ns"`, counts nanoseconds (its HDR V2 serialisation too) and
//! summarises itself as `p50_ns` … `max_ns`; a count histogram has `"unit": "count"` and `p50`
//! … `max`. `simulated_ns` is a JSON integer (summed over runs it may exceed 2^64). The CSV
//! gives duration quantiles in microseconds (`_us` in the header), the text table through
//! [`crate::fmt::duration`].
//!
//! Contract: every form is a function of the [`SweepResult`] alone (no clock, no host), so
//! equal results print equal bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::grid::{Point, SetArg};
use super::histogram::{Hist, HistError, Unit};
use super::{FORMAT, OLD_FORMATS, PointResult, Shard, SweepResult};

/// The quantiles shown in tables.
pub const QUANTILES: [(&str, f64); 4] =
    [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999)];

/// The JSON form of a sweep result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepJson {
    /// Always [`FORMAT`].
    pub format: String,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario as given.
    pub source: String,
    /// Base seed.
    pub seed: u64,
    /// Runs per grid point.
    pub runs: u64,
    /// How run seeds derive from `seed`.
    pub seed_derivation: String,
    /// The `--set` arguments.
    pub grid: Vec<GridJson>,
    /// Traffic directions.
    pub directions: Vec<String>,
    /// The shard covered, `null` for the whole sweep.
    pub shard: Option<Shard>,
    /// One entry per grid point.
    pub points: Vec<PointJson>,
}

/// One `--set` in JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridJson {
    /// The key.
    pub key: String,
    /// Its values.
    pub values: Vec<String>,
}

/// One grid point in JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointJson {
    /// `(key, value)` pairs.
    pub settings: Vec<(String, String)>,
    /// Runs summarised.
    pub runs: u64,
    /// Per metric: runs whose value was still open at the end (in the histogram as lower
    /// bounds).
    #[serde(default)]
    pub open: BTreeMap<String, u64>,
    /// Per metric: runs without a value (not in the histogram).
    #[serde(default)]
    pub missing: BTreeMap<String, u64>,
    /// Messages, summed over runs.
    pub messages: u64,
    /// Simulated nanoseconds, summed over runs (it may exceed 2^64).
    pub simulated_ns: u128,
    /// Histograms by metric.
    pub histograms: BTreeMap<String, HistJson>,
    /// False-reset rates asked for (`false_resets`, `false_resets.SESSION`): per metric one
    /// estimate per year of up time with its 95 % interval and diagnostics, not a histogram
    /// ([`super::FalseResets`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub false_resets: BTreeMap<String, super::rare::SessionsEstimate>,
}

impl PointJson {
    /// The JSON form of one summary (the histograms in V2, base64).
    ///
    /// # Errors
    ///
    /// [`JsonError`] if a histogram cannot be encoded.
    pub fn of(p: &PointResult) -> Result<Self, JsonError> {
        let mut histograms = BTreeMap::new();
        for (k, h) in &p.hists {
            let suffix = match h.unit {
                Unit::Ns => "_ns",
                Unit::Count => "",
            };
            let mut summary = BTreeMap::new();
            for (name, q) in QUANTILES {
                summary.insert(format!("{name}{suffix}"), h.quantile(q));
            }
            summary.insert(format!("max{suffix}"), h.max());
            histograms.insert(
                k.clone(),
                HistJson {
                    unit: h.unit,
                    count: h.len(),
                    summary,
                    hdr: h.to_base64()?,
                },
            );
        }
        Ok(Self {
            settings: p.point.settings.clone(),
            runs: p.runs,
            open: p.open.clone(),
            missing: p.missing.clone(),
            messages: p.messages,
            simulated_ns: p.simulated_ns,
            histograms,
            false_resets: p.false_resets.clone(),
        })
    }

    /// The summary back.
    ///
    /// # Errors
    ///
    /// [`JsonError`] if a histogram does not decode.
    pub fn into_point(self) -> Result<PointResult, JsonError> {
        let mut hists = BTreeMap::new();
        for (k, h) in self.histograms {
            hists.insert(k, Hist::from_base64(h.unit, &h.hdr)?);
        }
        Ok(PointResult {
            point: Point {
                settings: self.settings,
            },
            runs: self.runs,
            open: self.open,
            missing: self.missing,
            messages: self.messages,
            simulated_ns: self.simulated_ns,
            hists,
            false_resets: self.false_resets,
        })
    }
}

/// One histogram in JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistJson {
    /// `ns` (a duration, in nanoseconds) or `count`.
    pub unit: Unit,
    /// Values recorded.
    pub count: u64,
    /// Quantiles for readers without an HDR decoder (informative; `hdr` is authoritative):
    /// `p50_ns`, `p90_ns`, `p99_ns`, `p99.9_ns`, `max_ns` for durations, the same without
    /// `_ns` for counts.
    pub summary: BTreeMap<String, u64>,
    /// V2 serialisation, base64.
    pub hdr: String,
}

/// Why JSON could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Not JSON of this shape.
    #[error("not a sweep result: {0}")]
    Json(#[from] serde_json::Error),
    /// Another format.
    #[error("format `{found}` is not `{expected}`")]
    Format {
        /// The tag found.
        found: String,
        /// The tag this reader reads.
        expected: &'static str,
    },
    /// An earlier version of the format, whose durations are in other units.
    #[error(
        "format `{found}` was written by an earlier holdtime (durations in microseconds and strings); \
         this one reads `{expected}`, with every duration in integer nanoseconds: run the command again to write it"
    )]
    Old {
        /// The tag found.
        found: String,
        /// The tag this reader reads.
        expected: &'static str,
    },
    /// A histogram does not decode.
    #[error("{0}")]
    Hist(#[from] HistError),
}

impl JsonError {
    /// The error for a file tagged `found` read as `expected`: [`Self::Old`] when `found` is
    /// one of `old`, else [`Self::Format`].
    #[must_use]
    pub fn tag(found: &str, expected: &'static str, old: &[&str]) -> Self {
        let found = found.to_owned();
        if old.contains(&found.as_str()) {
            Self::Old { found, expected }
        } else {
            Self::Format { found, expected }
        }
    }

    /// Reads only the `format` tag of `text` and refuses any but `expected` (an earlier one
    /// of `old` for what it is, not for a field that no longer matches).
    ///
    /// # Errors
    ///
    /// Not JSON, no tag, or another tag ([`Self::tag`]).
    pub fn check_tag(text: &str, expected: &'static str, old: &[&str]) -> Result<(), Self> {
        #[derive(Deserialize)]
        struct Tag {
            format: String,
        }
        let tag: Tag = serde_json::from_str(text)?;
        if tag.format == expected {
            Ok(())
        } else {
            Err(Self::tag(&tag.format, expected, old))
        }
    }
}

impl SweepResult {
    /// The JSON form (pretty, with a trailing newline).
    ///
    /// # Errors
    ///
    /// [`JsonError`] if a histogram cannot be encoded.
    pub fn to_json(&self) -> Result<String, JsonError> {
        let points = self
            .points
            .iter()
            .map(PointJson::of)
            .collect::<Result<Vec<_>, _>>()?;
        let json = SweepJson {
            format: FORMAT.to_owned(),
            scenario: self.scenario.clone(),
            source: self.source.clone(),
            seed: self.seed,
            runs: self.runs,
            seed_derivation: "run r of every point: splitmix64(seed + (r+1)*0x9E3779B97F4A7C15)"
                .to_owned(),
            grid: self
                .grid
                .iter()
                .map(|s| GridJson {
                    key: s.key.clone(),
                    values: s.values.clone(),
                })
                .collect(),
            directions: self.directions.clone(),
            shard: self.shard,
            points,
        };
        let mut s = serde_json::to_string_pretty(&json)?;
        s.push('\n');
        Ok(s)
    }

    /// Reads [`Self::to_json`]'s output.
    ///
    /// # Errors
    ///
    /// [`JsonError`] if the text is not a sweep result of this format.
    pub fn from_json(text: &str) -> Result<Self, JsonError> {
        JsonError::check_tag(text, FORMAT, &OLD_FORMATS)?;
        let j: SweepJson = serde_json::from_str(text)?;
        let points = j
            .points
            .into_iter()
            .map(PointJson::into_point)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            scenario: j.scenario,
            source: j.source,
            seed: j.seed,
            runs: j.runs,
            grid: j
                .grid
                .into_iter()
                .map(|g| SetArg {
                    key: g.key,
                    values: g.values,
                })
                .collect(),
            directions: j.directions,
            shard: j.shard,
            points,
        })
    }

    /// The text table: per grid point, one row per metric with p50/p90/p99/p99.9/max, the
    /// runs with a value, the runs still open at the end (censored: their lower bounds are in
    /// the quantiles) and the runs without a value. Without `select`, every metric with a
    /// value except the per-session-end detections (`detection.SESSION@ROUTER`); with it,
    /// those named.
    #[must_use]
    pub fn to_text(&self, select: &[String]) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "sweep: {}\n  {} per grid point, {}, seed {}{}",
            self.scenario,
            crate::fmt::count(self.runs, "run"),
            crate::fmt::count(self.points.len() as u64, "grid point"),
            self.seed,
            self.shard
                .map(|sh| format!(", shard {}/{}", sh.index, sh.count))
                .unwrap_or_default()
        );
        for (i, p) in self.points.iter().enumerate() {
            let _ = writeln!(
                s,
                "\n[{}] {}  ({} runs, {:.3} messages/s)",
                i + 1,
                p.point.label(),
                p.runs,
                p.messages_per_s()
            );
            let width = p
                .metric_names()
                .iter()
                .map(String::len)
                .max()
                .unwrap_or(0)
                .clamp(32, 60);
            let _ = write!(s, "  {:<width$}", "metric");
            for (name, _) in QUANTILES {
                let _ = write!(s, " {name:>12}");
            }
            let _ = writeln!(
                s,
                " {:>12} {:>7} {:>6} {:>6}",
                "max", "runs", "open", "none"
            );
            let mut censored = false;
            for k in p.metric_names() {
                let shown = if select.is_empty() {
                    !k.contains('@') && p.hists.contains_key(&k)
                } else {
                    select.contains(&k)
                };
                if !shown {
                    continue;
                }
                let open = p.open.get(&k).copied().unwrap_or(0);
                let none = p.missing.get(&k).copied().unwrap_or(0);
                let _ = write!(s, "  {k:<width$}");
                match p.hists.get(&k) {
                    Some(h) => {
                        for (_, q) in QUANTILES {
                            let _ = write!(s, " {:>12}", h.show(h.quantile(q)));
                        }
                        let _ = write!(s, " {:>12} {:>7}", h.show(h.max()), h.len());
                    }
                    None => {
                        for _ in 0..=QUANTILES.len() {
                            let _ = write!(s, " {:>12}", "-");
                        }
                        let _ = write!(s, " {:>7}", 0);
                    }
                }
                let _ = writeln!(s, " {open:>6} {none:>6}");
                censored |= open > 0;
            }
            if censored {
                let _ = writeln!(
                    s,
                    "  open: runs still down at the end; their length so far is in the quantiles (a lower bound)"
                );
            }
            for (k, e) in &p.false_resets {
                if !select.is_empty() && !select.contains(k) {
                    continue;
                }
                let _ = writeln!(s, "  {}", false_resets_line(k, e));
                for w in &e.estimate.warnings {
                    let _ = writeln!(s, "  warning: {k}: {w}");
                }
            }
        }
        s
    }

    /// CSV: a header, then one row per grid point. Duration quantiles are in microseconds
    /// (the header says `_us`; the histogram's nanoseconds, truncated); per metric also the runs with a value, still open at the end
    /// and without a value. `select` restricts the metrics as in [`Self::to_text`] (empty:
    /// all).
    #[must_use]
    pub fn to_csv(&self, select: &[String]) -> String {
        let metrics: Vec<String> = self
            .points
            .iter()
            .flat_map(PointResult::metric_names)
            .filter(|m| select.is_empty() || select.contains(m))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let unit_of = |m: &str| {
            self.points
                .iter()
                .find_map(|p| p.hists.get(m).map(|h| h.unit))
                .map_or("", |u| if u == Unit::Ns { "_us" } else { "" })
        };
        let mut s = String::new();
        let mut header: Vec<String> = vec!["point".to_owned()];
        header.extend(self.grid.iter().map(|g| csv_field(&g.key)));
        header.extend(["runs", "messages_per_s"].iter().map(|x| (*x).to_owned()));
        for m in &metrics {
            let unit = unit_of(m);
            for (name, _) in QUANTILES {
                header.push(csv_field(&format!("{m}.{name}{unit}")));
            }
            header.push(csv_field(&format!("{m}.max{unit}")));
            for what in ["runs", "open", "none"] {
                header.push(csv_field(&format!("{m}.{what}")));
            }
        }
        let rates: Vec<String> = self
            .points
            .iter()
            .flat_map(|p| p.false_resets.keys().cloned())
            .filter(|m| select.is_empty() || select.contains(m))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for m in &rates {
            for what in [
                "per_year",
                "lower_per_year",
                "upper_per_year",
                "rel_half_width",
                "deliveries",
                "warnings",
            ] {
                header.push(csv_field(&format!("{m}.{what}")));
            }
        }
        let _ = writeln!(s, "{}", header.join(","));
        for (i, p) in self.points.iter().enumerate() {
            let mut row = vec![(i + 1).to_string()];
            row.extend(p.point.settings.iter().map(|(_, v)| csv_field(v)));
            row.push(p.runs.to_string());
            row.push(format!("{:.6}", p.messages_per_s()));
            for m in &metrics {
                match p.hists.get(m) {
                    Some(h) => {
                        let cell = |v: u64| match h.unit {
                            Unit::Ns => (v / 1_000).to_string(),
                            Unit::Count => v.to_string(),
                        };
                        for (_, q) in QUANTILES {
                            row.push(cell(h.quantile(q)));
                        }
                        row.push(cell(h.max()));
                        row.push(h.len().to_string());
                    }
                    None => {
                        row.extend(std::iter::repeat_n(String::new(), QUANTILES.len() + 1));
                        row.push("0".to_owned());
                    }
                }
                row.push(p.open.get(m).copied().unwrap_or(0).to_string());
                row.push(p.missing.get(m).copied().unwrap_or(0).to_string());
            }
            for m in &rates {
                match p.false_resets.get(m).map(|x| &x.estimate) {
                    Some(e) => {
                        let num = |x: Option<f64>| x.map_or_else(String::new, |v| format!("{v:e}"));
                        row.push(num(Some(e.per_year)));
                        row.push(num(Some(e.lower)));
                        row.push(num(e.upper));
                        row.push(num(e.rel_half_width));
                        row.push(e.blocks.to_string());
                        row.push(csv_field(&e.warnings.join("; ")));
                    }
                    None => row.extend(std::iter::repeat_n(String::new(), 6)),
                }
            }
            let _ = writeln!(s, "{}", row.join(","));
        }
        s
    }
}

/// One false-reset rate as the text table shows it: `false_resets  46.9/year of up time,
/// 95 % CI [36.7, 57.2] (+/-22 %); 4000 deliveries branched; sessions ce1-msee1`.
#[must_use]
pub fn false_resets_line(name: &str, e: &super::rare::SessionsEstimate) -> String {
    use super::advise::show_rate;
    let r = &e.estimate;
    format!(
        "{name}  {}/year of up time, 95 % CI [{}, {}]{}; {} deliveries branched; sessions {}",
        show_rate(r.per_year),
        show_rate(r.lower),
        r.upper.map_or_else(|| "inf".to_owned(), show_rate),
        r.rel_half_width
            .map(|h| format!(" (+/-{:.0} %)", h * 100.0))
            .unwrap_or_default(),
        r.blocks,
        e.sessions.join(", ")
    )
}

/// Quotes a CSV field when it needs it (RFC 4180 §2: fields with commas, quotes or line
/// breaks "should be enclosed in double-quotes", and quotes inside doubled).
fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}
