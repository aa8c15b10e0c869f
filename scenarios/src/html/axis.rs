//! Axes with "nice" ticks: steps of 1, 2 or 5 times a power of ten; counts on whole
//! numbers; times in seconds, or in minutes once the axis spans several minutes.

use std::fmt::Write as _;

use super::{H, MB, ML, MR, MT, W, esc};

/// The 1-2-5 step that puts at most `target` steps in `span` (1 for an empty span).
#[must_use]
pub fn nice_step(span: f64, target: usize) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss, reason = "a handful of ticks")]
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// How tick values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Plain numbers.
    Plain,
    /// Whole counts: the step is at least 1.
    Count,
    /// Seconds: labelled `30s`, or `5m` when the step is whole minutes.
    Seconds,
}

/// Tick values from 0 (or `lo`) up to the first tick at or above `hi`, and their labels.
#[must_use]
pub fn ticks(lo: f64, hi: f64, target: usize, scale: Scale) -> Vec<(f64, String)> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let mut step = match scale {
        Scale::Count => nice_step(span, target).max(1.0),
        Scale::Plain => nice_step(span, target),
        Scale::Seconds if span >= 180.0 => {
            // Whole minutes, then 1-2-5 multiples of them (15 and 30 as well).
            let minutes = span / 60.0 / target.max(1) as f64;
            let m = [
                1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1440.0,
            ]
            .into_iter()
            .find(|c| *c >= minutes)
            .unwrap_or_else(|| nice_step(minutes * target as f64, target));
            m * 60.0
        }
        Scale::Seconds => nice_step(span, target),
    };
    if step <= 0.0 {
        step = 1.0;
    }
    let first = (lo / step).floor();
    let mut out = Vec::new();
    let mut k = first;
    loop {
        let v = k * step;
        out.push((v, label(v, step, scale)));
        if v >= hi - step * 1e-9 || out.len() > 100 {
            break;
        }
        k += 1.0;
    }
    out
}

/// A tick's label.
fn label(v: f64, step: f64, scale: Scale) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a few decimals"
        )]
        let d = (-step.log10()).ceil().max(0.0) as usize;
        d
    };
    match scale {
        Scale::Seconds if step >= 60.0 && (step % 60.0).abs() < 1e-9 => {
            let m = (v / 60.0).round();
            if m >= 60.0 && (m % 60.0).abs() < 1e-9 {
                format!("{}h", m / 60.0)
            } else {
                format!("{m}m")
            }
        }
        Scale::Seconds => format!("{v:.decimals$}s"),
        Scale::Plain | Scale::Count => format!("{v:.decimals$}"),
    }
}

/// A linear plot area inside a chart of the standard size (720×320 pixels), with its ticks.
pub struct Axes {
    /// Left end of the x range.
    pub x0: f64,
    /// Right end of the x range (the last tick).
    pub x1: f64,
    /// Bottom of the y range.
    pub y0: f64,
    /// Top of the y range (the last tick).
    pub y1: f64,
    xt: Vec<(f64, String)>,
    yt: Vec<(f64, String)>,
}

impl Axes {
    /// Axes from 0 (x) and 0 (y) to nice ends at or above `xmax` and `ymax`.
    #[must_use]
    pub fn new(xmin: f64, xmax: f64, xs: Scale, ymax: f64, ys: Scale) -> Self {
        let xt = ticks(xmin, xmax, 8, xs);
        let yt = ticks(0.0, ymax, 5, ys);
        Self {
            x0: xt.first().map_or(0.0, |t| t.0),
            x1: xt.last().map_or(1.0, |t| t.0),
            y0: 0.0,
            y1: yt.last().map_or(1.0, |t| t.0),
            xt,
            yt,
        }
    }

    /// The x pixel of `x`.
    #[must_use]
    pub fn px(&self, x: f64) -> f64 {
        let span = if self.x1 > self.x0 {
            self.x1 - self.x0
        } else {
            1.0
        };
        ML + (x - self.x0) / span * (W - ML - MR)
    }

    /// The y pixel of `y`.
    #[must_use]
    pub fn py(&self, y: f64) -> f64 {
        let span = if self.y1 > self.y0 {
            self.y1 - self.y0
        } else {
            1.0
        };
        H - MB - (y - self.y0) / span * (H - MT - MB)
    }

    /// Frame, grid, ticks and axis labels.
    pub fn frame(&self, s: &mut String, xlabel: &str, ylabel: &str) {
        for (v, l) in &self.xt {
            let x = self.px(*v);
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{MT}\" x2=\"{x:.1}\" y2=\"{b:.1}\" stroke=\"#eee\"/>\
                 <line x1=\"{x:.1}\" y1=\"{b:.1}\" x2=\"{x:.1}\" y2=\"{b2:.1}\" stroke=\"#444\"/>\
                 <text x=\"{x:.1}\" y=\"{t:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
                esc(l),
                b = H - MB,
                b2 = H - MB + 5.0,
                t = H - MB + 18.0,
            );
        }
        for (v, l) in &self.yt {
            let y = self.py(*v);
            let _ = write!(
                s,
                "<line x1=\"{ML}\" y1=\"{y:.1}\" x2=\"{r:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
                 <line x1=\"{l5:.1}\" y1=\"{y:.1}\" x2=\"{ML}\" y2=\"{y:.1}\" stroke=\"#444\"/>\
                 <text x=\"{lt:.1}\" y=\"{yt:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
                esc(l),
                r = W - MR,
                l5 = ML - 5.0,
                lt = ML - 8.0,
                yt = y + 4.0,
            );
        }
        let _ = write!(
            s,
            "<rect x=\"{ML}\" y=\"{MT}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\
             <text x=\"14\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
            W - ML - MR,
            H - MT - MB,
            (ML + W - MR) / 2.0,
            H - 8.0,
            esc(xlabel),
            (MT + H - MB) / 2.0,
            (MT + H - MB) / 2.0,
            esc(ylabel)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &[(f64, String)]) -> Vec<&str> {
        t.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(10.0, 5), 2.0);
        assert_eq!(nice_step(1.0, 5), 0.2);
        assert_eq!(nice_step(179.7, 5), 50.0);
        assert_eq!(nice_step(0.0, 5), 1.0);
    }

    #[test]
    fn time_axes_tick_in_minutes_and_counts_on_whole_numbers() {
        assert_eq!(
            labels(&ticks(0.0, 900.0, 8, Scale::Seconds)),
            ["0m", "2m", "4m", "6m", "8m", "10m", "12m", "14m", "16m"]
        );
        assert_eq!(
            labels(&ticks(0.0, 179.7, 8, Scale::Seconds)),
            ["0s", "50s", "100s", "150s", "200s"]
        );
        assert_eq!(
            labels(&ticks(0.0, 3.0, 5, Scale::Count)),
            ["0", "1", "2", "3"]
        );
        assert_eq!(
            labels(&ticks(0.0, 1.0, 5, Scale::Plain)),
            ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
    }
}
