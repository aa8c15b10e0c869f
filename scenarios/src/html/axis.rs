//! Axes with "nice" ticks: steps of 1, 2 or 5 times a power of ten; counts on whole
//! numbers; times in seconds, or in minutes once the axis spans several minutes. A y axis
//! whose values span more than a decade ([`spans_decades`]) can be logarithmic
//! ([`Axes::log_y`]): ticks at the powers of ten, and a `0` under them for values of zero.

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

/// Whether positive values span more than a decade (the largest over ten times the smallest),
/// so that a linear axis would squash the small ones against zero. Zeros, negatives and
/// infinities are left out.
#[must_use]
pub fn spans_decades(values: &[f64]) -> bool {
    let mut pos = values.iter().copied().filter(|v| v.is_finite() && *v > 0.0);
    let Some(first) = pos.next() else {
        return false;
    };
    let (lo, hi) = pos.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)));
    hi > 10.0 * lo
}

/// A power of ten as a tick label: `0.001` to `1000` written out, `1e-5` and `1e6` beyond.
#[must_use]
pub fn decade_label(exp: i32) -> String {
    match exp {
        0..=3 => format!("{}", 10_i64.pow(exp.unsigned_abs())),
        -3..=-1 => format!("{:.*}", exp.unsigned_abs() as usize, 10f64.powi(exp)),
        _ => format!("1e{exp}"),
    }
}

/// A logarithmic y range: the decades `lo..=hi` (exponents of ten), with a band one decade
/// high under `lo` for zeros when some value is zero.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LogY {
    /// The exponent at the bottom of the plot (the zero band's bottom when there is one).
    bottom: f64,
    /// The exponent at the top.
    top: f64,
}

/// A plot area inside a chart of the standard size (720×320 pixels), with its ticks; x linear,
/// y linear or logarithmic.
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
    /// Set when y is logarithmic.
    log: Option<LogY>,
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
            log: None,
        }
    }

    /// Axes with x linear as in [`Self::new`] and y logarithmic: from the decade at or below
    /// the smallest positive value of `values` to the decade at or above `ymax`, ticks at each
    /// power of ten (every second or more when there are many); when `zero` is set, a band one
    /// decade high under them with a tick `0`, where [`Self::py`] puts values of zero.
    /// `y0` and `y1` are the lowest and highest powers of ten.
    #[must_use]
    pub fn log_y(xmin: f64, xmax: f64, xs: Scale, values: &[f64], ymax: f64, zero: bool) -> Self {
        let xt = ticks(xmin, xmax, 8, xs);
        let pos: Vec<f64> = values
            .iter()
            .copied()
            .chain([ymax])
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect();
        let exp = |v: f64| {
            #[allow(clippy::cast_possible_truncation, reason = "a decade of a finite f64")]
            let e = v.log10().floor() as i32;
            e
        };
        let lo = pos.iter().copied().fold(f64::INFINITY, f64::min);
        let lo = if lo.is_finite() { exp(lo) } else { 0 };
        let hi = if ymax.is_finite() && ymax > 0.0 {
            let e = exp(ymax);
            // The decade at or above ymax.
            if 10f64.powi(e) < ymax * (1.0 - 1e-12) {
                e + 1
            } else {
                e
            }
        } else {
            lo + 1
        }
        .max(lo + 1);
        let every = (hi - lo) / 6 + 1;
        let mut yt: Vec<(f64, String)> = Vec::new();
        if zero {
            yt.push((0.0, "0".to_owned()));
        }
        let mut e = hi;
        let mut decades = Vec::new();
        while e >= lo {
            decades.push((10f64.powi(e), decade_label(e)));
            e -= every;
        }
        decades.reverse();
        yt.extend(decades);
        Self {
            x0: xt.first().map_or(0.0, |t| t.0),
            x1: xt.last().map_or(1.0, |t| t.0),
            y0: 10f64.powi(lo),
            y1: 10f64.powi(hi),
            xt,
            yt,
            log: Some(LogY {
                bottom: f64::from(lo) - if zero { 1.0 } else { 0.0 },
                top: f64::from(hi),
            }),
        }
    }

    /// Whether y is logarithmic.
    #[must_use]
    pub const fn is_log_y(&self) -> bool {
        self.log.is_some()
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

    /// The y pixel of `y`. On a logarithmic axis a value of zero (or less) is drawn at the
    /// bottom (the zero band's `0` tick), a positive one below the lowest decade there too.
    #[must_use]
    pub fn py(&self, y: f64) -> f64 {
        if let Some(l) = self.log {
            let e = if y > 0.0 {
                y.log10().max(l.bottom)
            } else {
                l.bottom
            };
            let span = (l.top - l.bottom).max(f64::MIN_POSITIVE);
            return H - MB - (e - l.bottom) / span * (H - MT - MB);
        }
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
    fn a_log_axis_ticks_at_decades_and_puts_zero_under_them() {
        assert!(spans_decades(&[0.0, 0.02, 0.5, 3.0]));
        assert!(!spans_decades(&[0.0, 2.0, 5.0, 19.0, f64::INFINITY]));
        assert!(!spans_decades(&[]));
        let ax = Axes::log_y(0.0, 300.0, Scale::Seconds, &[0.02, 3.0, 400.0], 600.0, true);
        assert!(ax.is_log_y());
        assert_eq!(
            labels(&ax.yt),
            ["0", "0.01", "0.1", "1", "10", "100", "1000"]
        );
        // Equal ratios, equal distances; zero at the bottom, one decade under 0.01.
        let step = ax.py(0.1) - ax.py(1.0);
        assert!(step > 0.0);
        assert!((ax.py(1.0) - ax.py(10.0) - step).abs() < 1e-9);
        assert!((ax.py(0.0) - ax.py(0.01) - step).abs() < 1e-9);
        assert!((ax.py(0.0) - (H - MB)).abs() < 1e-9);
        assert!((ax.py(1000.0) - MT).abs() < 1e-9);
        // Many decades: every third one labelled here, counted down from the top one.
        let wide = Axes::log_y(0.0, 1.0, Scale::Plain, &[1e-10], 1e6, false);
        assert_eq!(
            labels(&wide.yt),
            ["1e-9", "1e-6", "0.001", "1", "1000", "1e6"]
        );
        assert_eq!(decade_label(-2), "0.01");
        assert_eq!(decade_label(3), "1000");
        assert_eq!(decade_label(-4), "1e-4");
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
