//! Quantities written in scenario files: bandwidths, loss models and fault times.
//!
//! Each type parses from the human form a student would write (`"1Gbps"`, `0.01`,
//! `{ min = "4m", max = "6m" }`) and serialises back to the same form, so a scenario printed
//! from its parsed value reads like the file it came from. Durations themselves are
//! [`sim_core::time::Duration`].

use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sim_core::time::Duration;

/// A link or circuit bandwidth in bits per second.
///
/// Written `"50Mbps"`, `"1Gbps"`, `"2.5Gbps"`, `"64kbps"` or `"1000bps"` (decimal SI units, as
/// ExpressRoute bandwidths are sold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bandwidth(u64);

impl Bandwidth {
    /// A bandwidth of `bps` bits per second.
    #[must_use]
    pub const fn from_bps(bps: u64) -> Self {
        Self(bps)
    }

    /// A bandwidth of `mbps` megabits per second.
    #[must_use]
    pub const fn from_mbps(mbps: u64) -> Self {
        Self(mbps.saturating_mul(1_000_000))
    }

    /// Bits per second.
    #[must_use]
    pub const fn bps(self) -> u64 {
        self.0
    }
}

/// Why a bandwidth did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseBandwidthError {
    /// The number part is missing or malformed.
    #[error("expected a number followed by bps, kbps, Mbps or Gbps, e.g. \"1Gbps\", not `{0}`")]
    Malformed(String),
    /// The value does not fit or is finer than one bit per second.
    #[error("`{0}` is out of range or finer than 1 bit/s")]
    OutOfRange(String),
}

const BANDWIDTH_UNITS: [(&str, u64); 4] = [
    ("Gbps", 1_000_000_000),
    ("Mbps", 1_000_000),
    ("kbps", 1_000),
    ("bps", 1),
];

impl FromStr for Bandwidth {
    type Err = ParseBandwidthError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let s = text.trim();
        let malformed = || ParseBandwidthError::Malformed(text.to_owned());
        let out_of_range = || ParseBandwidthError::OutOfRange(text.to_owned());
        let (number, scale) = BANDWIDTH_UNITS
            .iter()
            .find_map(|(unit, scale)| s.strip_suffix(unit).map(|n| (n.trim(), *scale)))
            .ok_or_else(malformed)?;
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.is_empty() && frac_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(malformed());
        }
        let int: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| out_of_range())?
        };
        let mut bps = int.checked_mul(scale).ok_or_else(out_of_range)?;
        let mut place = scale;
        for digit in frac_part.bytes() {
            let digit = u64::from(digit - b'0');
            if place % 10 != 0 {
                if digit != 0 {
                    return Err(out_of_range());
                }
                continue;
            }
            place /= 10;
            bps = bps.checked_add(digit * place).ok_or_else(out_of_range)?;
        }
        Ok(Self(bps))
    }
}

impl fmt::Display for Bandwidth {
    /// The largest unit that represents the value exactly: `1Gbps`, `500Mbps`, `1500kbps`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, scale) = BANDWIDTH_UNITS
            .iter()
            .find(|(_, scale)| self.0 != 0 && self.0.is_multiple_of(*scale))
            .copied()
            .unwrap_or(("bps", 1));
        write!(f, "{}{unit}", self.0 / scale)
    }
}

impl Serialize for Bandwidth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Bandwidth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bandwidth;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bandwidth such as \"1Gbps\" or \"500Mbps\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bandwidth, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// When something happens: a fixed offset from the start of the run, or a range from which
/// the run draws one value from its seeded stream (so `--seed` moves the fault's phase
/// against the keepalive timers, deterministically).
///
/// Written `"5m"` or `{ min = "4m", max = "6m" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// Exactly this value.
    Fixed(Duration),
    /// A value drawn uniformly from `[min, max]` by the run's seeded stream.
    Range {
        /// Earliest value.
        min: Duration,
        /// Latest value (never before `min` once validated).
        max: Duration,
    },
}

impl TimeSpec {
    /// The earliest value this can take.
    #[must_use]
    pub const fn min(self) -> Duration {
        match self {
            Self::Fixed(d) | Self::Range { min: d, .. } => d,
        }
    }

    /// The latest value this can take.
    #[must_use]
    pub const fn max(self) -> Duration {
        match self {
            Self::Fixed(d) | Self::Range { max: d, .. } => d,
        }
    }

    /// The value at fraction `u` of the range (`u` from the run's seeded stream, uniform in
    /// `[0, 1)`; clamped into `[0, 1]`). A fixed value ignores `u`.
    #[must_use]
    pub fn pick(self, u: f64) -> Duration {
        match self {
            Self::Fixed(d) => d,
            Self::Range { min, max } => {
                let span = max.saturating_sub(min);
                min + span.mul_f64(if u.is_nan() { 0.0 } else { u.clamp(0.0, 1.0) })
            }
        }
    }
}

impl fmt::Display for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(d) => write!(f, "{d}"),
            Self::Range { min, max } => write!(f, "{min}..{max}"),
        }
    }
}

impl Serialize for TimeSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Fixed(d) => d.serialize(s),
            Self::Range { min, max } => {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct("TimeSpec", 2)?;
                st.serialize_field("min", min)?;
                st.serialize_field("max", max)?;
                st.end()
            }
        }
    }
}

/// The table form of [`TimeSpec`]; unknown keys are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeTable {
    min: Duration,
    max: Duration,
}

impl<'de> Deserialize<'de> for TimeSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TimeSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"5m\" or a range { min = \"4m\", max = \"6m\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TimeSpec, E> {
                v.parse().map(TimeSpec::Fixed).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TimeSpec, E> {
                if v == 0 {
                    Ok(TimeSpec::Fixed(Duration::ZERO))
                } else {
                    Err(E::custom(format!(
                        "a bare number ({v}) has no unit: write e.g. \"{v}s\" or \"{v}ms\""
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TimeSpec, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("a time cannot be negative"))
                    .and_then(|u| self.visit_u64(u))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TimeSpec, A::Error> {
                let t = RangeTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(TimeSpec::Range {
                    min: t.min,
                    max: t.max,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// The shortest mean stay accepted for either state of a Gilbert–Elliott chain in time.
///
/// Stays much shorter than the spacing of packets only thin the traffic out at random, which
/// the number form says directly; and the simulator draws every stay, so a chain of
/// nanosecond stays would cost billions of draws per simulated hour.
pub const MIN_STATE_MEAN: Duration = Duration::from_millis(1);

/// How a link loses packets.
///
/// Written as a number (independent loss with that probability, e.g. `loss = 0.01`) or as a
/// Gilbert–Elliott table for loss in bursts (Gilbert 1960, Elliott 1963; see
/// [`sim_core::link::LossModel`]):
///
/// ```toml
/// loss = { mean_good = "30s", mean_bad = "200ms", loss_good = 0.0, loss_bad = 1.0 }
/// ```
///
/// The link alternates between a good state and a bad one (a burst), each stay exponential
/// with mean `mean_good` or `mean_bad`, whatever traffic crosses it; `loss_good` (default 0)
/// and `loss_bad` (default 1) are the loss probabilities in each. The long-run loss is
/// `(mean_good·loss_good + mean_bad·loss_bad) / (mean_good + mean_bad)`.
///
/// The per-packet form `{ p = 0.002, r = 0.02 }` moves the chain once per packet instead: `p`
/// is the chance per packet of entering the bad state and `r` of leaving it, so a burst lasts
/// `1/r` *packets*, whatever time they take to be sent: milliseconds on a busy link, minutes
/// on one that carries only BGP keepalives. Use it only to reproduce a per-packet model
/// measured at a steady packet rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LossModel {
    /// Each packet is lost independently with this probability.
    Bernoulli(f64),
    /// Bursty loss in time (Gilbert–Elliott, continuous time).
    GilbertElliott {
        /// Mean time in the good state.
        mean_good: Duration,
        /// Mean time in the bad state: the mean burst duration.
        mean_bad: Duration,
        /// Loss probability in the good state.
        loss_good: f64,
        /// Loss probability in the bad state.
        loss_bad: f64,
    },
    /// Bursty loss per packet (Gilbert–Elliott, one step per packet).
    GilbertElliottPerPacket {
        /// Probability per packet of moving from the good to the bad state.
        p: f64,
        /// Probability per packet of moving from the bad to the good state.
        r: f64,
        /// Loss probability in the good state.
        loss_good: f64,
        /// Loss probability in the bad state.
        loss_bad: f64,
    },
}

impl LossModel {
    /// No loss at all.
    pub const NONE: Self = Self::Bernoulli(0.0);

    /// The long-run fraction of packets lost.
    #[must_use]
    pub fn mean_loss(self) -> f64 {
        match self {
            Self::Bernoulli(p) => p,
            Self::GilbertElliott {
                mean_good,
                mean_bad,
                loss_good,
                loss_bad,
            } => {
                let (good, bad) = (mean_good.as_secs_f64(), mean_bad.as_secs_f64());
                if good + bad <= 0.0 {
                    loss_good
                } else {
                    (good * loss_good + bad * loss_bad) / (good + bad)
                }
            }
            Self::GilbertElliottPerPacket {
                p,
                r,
                loss_good,
                loss_bad,
            } => {
                if p + r <= 0.0 {
                    loss_good
                } else {
                    (r * loss_good + p * loss_bad) / (p + r)
                }
            }
        }
    }

    /// The probabilities this model holds, by key (`loss` for the number form), for range
    /// checks.
    #[must_use]
    pub fn probabilities(self) -> Vec<(&'static str, f64)> {
        match self {
            Self::Bernoulli(p) => vec![("loss", p)],
            Self::GilbertElliott {
                loss_good,
                loss_bad,
                ..
            } => vec![("loss_good", loss_good), ("loss_bad", loss_bad)],
            Self::GilbertElliottPerPacket {
                p,
                r,
                loss_good,
                loss_bad,
            } => vec![
                ("p", p),
                ("r", r),
                ("loss_good", loss_good),
                ("loss_bad", loss_bad),
            ],
        }
    }

    /// The mean state durations this model holds, by key, for range checks.
    #[must_use]
    pub fn durations(self) -> Vec<(&'static str, Duration)> {
        match self {
            Self::GilbertElliott {
                mean_good,
                mean_bad,
                ..
            } => vec![("mean_good", mean_good), ("mean_bad", mean_bad)],
            Self::Bernoulli(_) | Self::GilbertElliottPerPacket { .. } => Vec::new(),
        }
    }
}

/// The table form of [`LossModel`]: the keys of both Gilbert–Elliott forms, sorted out by
/// [`GilbertElliottTable::model`]; unknown keys are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GilbertElliottTable {
    #[serde(default)]
    mean_good: Option<Duration>,
    #[serde(default)]
    mean_bad: Option<Duration>,
    #[serde(default)]
    p: Option<f64>,
    #[serde(default)]
    r: Option<f64>,
    #[serde(default)]
    loss_good: f64,
    #[serde(default = "one")]
    loss_bad: f64,
}

const fn one() -> f64 {
    1.0
}

/// Why a loss table names no single form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LossTableError {
    /// Keys of the time form and of the per-packet form together.
    #[error(
        "a loss table is either in time ({{ mean_good, mean_bad }}) or per packet ({{ p, r }}), not both"
    )]
    Mixed,
    /// One key of a form without the other.
    #[error("`{present}` needs `{missing}` beside it")]
    Missing {
        /// The key given.
        present: &'static str,
        /// The key it needs.
        missing: &'static str,
    },
    /// Neither form.
    #[error(
        "a loss table needs mean_good and mean_bad, e.g. {{ mean_good = \"30s\", mean_bad = \"200ms\" }}"
    )]
    Empty,
}

impl GilbertElliottTable {
    fn model(self) -> Result<LossModel, LossTableError> {
        let (loss_good, loss_bad) = (self.loss_good, self.loss_bad);
        let timed = self.mean_good.is_some() || self.mean_bad.is_some();
        let per_packet = self.p.is_some() || self.r.is_some();
        match (self.mean_good, self.mean_bad, self.p, self.r) {
            _ if timed && per_packet => Err(LossTableError::Mixed),
            (Some(mean_good), Some(mean_bad), None, None) => Ok(LossModel::GilbertElliott {
                mean_good,
                mean_bad,
                loss_good,
                loss_bad,
            }),
            (None, None, Some(p), Some(r)) => Ok(LossModel::GilbertElliottPerPacket {
                p,
                r,
                loss_good,
                loss_bad,
            }),
            (Some(_), None, ..) => Err(LossTableError::Missing {
                present: "mean_good",
                missing: "mean_bad",
            }),
            (None, Some(_), ..) => Err(LossTableError::Missing {
                present: "mean_bad",
                missing: "mean_good",
            }),
            (.., Some(_), None) => Err(LossTableError::Missing {
                present: "p",
                missing: "r",
            }),
            (.., None, Some(_)) => Err(LossTableError::Missing {
                present: "r",
                missing: "p",
            }),
            _ => Err(LossTableError::Empty),
        }
    }
}

impl<'de> Deserialize<'de> for LossModel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LossModel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a loss probability such as 0.01 or \"1%\", or a Gilbert-Elliott table \
                     { mean_good = \"30s\", mean_bad = \"200ms\" }",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LossModel, E> {
                Ok(LossModel::Bernoulli(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LossModel, E> {
                parse_fraction(v)
                    .map(LossModel::Bernoulli)
                    .map_err(E::custom)
            }
            #[allow(
                clippy::cast_precision_loss,
                reason = "only 0 and 1 are valid integer probabilities; others are refused later"
            )]
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LossModel, E> {
                Ok(LossModel::Bernoulli(v as f64))
            }
            #[allow(
                clippy::cast_precision_loss,
                reason = "only 0 and 1 are valid integer probabilities; others are refused later"
            )]
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LossModel, E> {
                Ok(LossModel::Bernoulli(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LossModel, A::Error> {
                GilbertElliottTable::deserialize(de::value::MapAccessDeserializer::new(map))?
                    .model()
                    .map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A fraction as engineers type it: a percentage (`1%`, `0.5 %`) or a decimal fraction
/// (`0.01`). Used by `--loss` and by a loss written as a string in a scenario file
/// (`loss = "1%"`); the range is checked where the value is used.
///
/// # Errors
///
/// A message naming both accepted forms when `text` is neither.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim_end(), 100.0),
        None => (t, 1.0),
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v / scale),
        _ => Err(format!(
            "`{text}` is not a fraction: write a percentage such as 1% or a fraction such as 0.01"
        )),
    }
}

/// A value an expectation compares a metric with: a duration (`"181s"`) or a count (`0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Quantity {
    /// A span of time.
    Duration(Duration),
    /// A number of things (probes, messages, flaps, bytes).
    Count(u64),
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duration(d) => write!(f, "{d}"),
            Self::Count(n) => write!(f, "{n}"),
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"181s\" or a count such as 0")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                v.parse().map(Quantity::Duration).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity::Count(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                u64::try_from(v)
                    .map(Quantity::Count)
                    .map_err(|_| E::custom("a count cannot be negative"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bandwidths_in_si_units() {
        assert_eq!("1Gbps".parse(), Ok(Bandwidth::from_mbps(1000)));
        assert_eq!("50Mbps".parse(), Ok(Bandwidth::from_mbps(50)));
        assert_eq!("2.5Gbps".parse(), Ok(Bandwidth::from_mbps(2500)));
        assert_eq!("64kbps".parse(), Ok(Bandwidth::from_bps(64_000)));
        assert!("1GB".parse::<Bandwidth>().is_err());
        assert!("Gbps".parse::<Bandwidth>().is_err());
        assert!("1.5bps".parse::<Bandwidth>().is_err());
        assert_eq!(Bandwidth::from_mbps(1000).to_string(), "1Gbps");
        assert_eq!(Bandwidth::from_bps(1_500_000).to_string(), "1500kbps");
    }

    #[test]
    fn time_spec_accepts_value_or_range() {
        #[derive(Deserialize)]
        struct T {
            a: TimeSpec,
            b: TimeSpec,
        }
        let t: T = toml::from_str("a = \"5m\"\nb = { min = \"4m\", max = \"6m\" }").unwrap();
        assert_eq!(t.a, TimeSpec::Fixed(Duration::from_mins(5)));
        assert_eq!(
            t.b,
            TimeSpec::Range {
                min: Duration::from_mins(4),
                max: Duration::from_mins(6)
            }
        );
        assert!(toml::from_str::<T>("a = 5\nb = \"1s\"").is_err());
        assert!(toml::from_str::<T>("a = \"1s\"\nb = { min = \"1s\", mx = \"2s\" }").is_err());
    }

    #[test]
    fn picks_within_the_range_and_ignores_u_when_fixed() {
        let r = TimeSpec::Range {
            min: Duration::from_mins(4),
            max: Duration::from_mins(6),
        };
        assert_eq!(r.pick(0.0), Duration::from_mins(4));
        assert_eq!(r.pick(0.5), Duration::from_mins(5));
        assert_eq!(r.pick(7.0), Duration::from_mins(6));
        assert_eq!(r.pick(f64::NAN), Duration::from_mins(4));
        assert_eq!(
            TimeSpec::Fixed(Duration::from_secs(3)).pick(0.9),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn gilbert_elliott_mean_loss_matches_closed_form() {
        let m = LossModel::GilbertElliottPerPacket {
            p: 0.01,
            r: 0.09,
            loss_good: 0.0,
            loss_bad: 1.0,
        };
        assert!((m.mean_loss() - 0.1).abs() < 1e-12);
        let t = LossModel::GilbertElliott {
            mean_good: Duration::from_secs(27),
            mean_bad: Duration::from_secs(3),
            loss_good: 0.01,
            loss_bad: 0.5,
        };
        // (27·0.01 + 3·0.5) / 30 = 0.059.
        assert!((t.mean_loss() - 0.059).abs() < 1e-12);
        assert!((LossModel::Bernoulli(0.02).mean_loss() - 0.02).abs() < 1e-12);
    }

    #[derive(Debug, Deserialize, Serialize)]
    struct L {
        loss: LossModel,
    }

    fn parse(text: &str) -> Result<LossModel, String> {
        toml::from_str::<L>(text)
            .map(|l| l.loss)
            .map_err(|e| e.message().to_owned())
    }

    #[test]
    fn parses_the_time_form_with_default_loss_probabilities() {
        assert_eq!(
            parse("loss = { mean_good = \"30s\", mean_bad = \"200ms\" }"),
            Ok(LossModel::GilbertElliott {
                mean_good: Duration::from_secs(30),
                mean_bad: Duration::from_millis(200),
                loss_good: 0.0,
                loss_bad: 1.0,
            })
        );
        assert_eq!(
            parse("loss = { p = 0.002, r = 0.02, loss_bad = 0.5 }"),
            Ok(LossModel::GilbertElliottPerPacket {
                p: 0.002,
                r: 0.02,
                loss_good: 0.0,
                loss_bad: 0.5,
            })
        );
        assert_eq!(parse("loss = 0.01"), Ok(LossModel::Bernoulli(0.01)));
    }

    #[test]
    fn time_form_prints_as_written() {
        let m = LossModel::GilbertElliott {
            mean_good: Duration::from_secs(30),
            mean_bad: Duration::from_millis(200),
            loss_good: 0.0,
            loss_bad: 1.0,
        };
        let text = toml::to_string(&L { loss: m }).unwrap_or_default();
        assert!(text.contains("mean_bad = \"200ms\""), "{text}");
        assert_eq!(parse(&text), Ok(m), "{text}");
    }

    #[test]
    fn refuses_tables_that_name_no_single_form() {
        for (text, want) in [
            (
                "loss = { mean_good = \"30s\", r = 0.1 }",
                LossTableError::Mixed.to_string(),
            ),
            (
                "loss = { mean_good = \"30s\" }",
                "`mean_good` needs `mean_bad` beside it".to_owned(),
            ),
            (
                "loss = { p = 0.1, loss_bad = 1.0 }",
                "`p` needs `r` beside it".to_owned(),
            ),
            (
                "loss = { loss_bad = 1.0 }",
                LossTableError::Empty.to_string(),
            ),
        ] {
            let got = parse(text).expect_err(text);
            assert!(got.contains(&want), "{text}: {got}");
        }
        let unknown = parse("loss = { mean_good = \"30s\", mean_bd = \"1s\" }").unwrap_err();
        assert!(unknown.contains("unknown field `mean_bd`"), "{unknown}");
        let negative = parse("loss = { mean_good = \"-30s\", mean_bad = \"1s\" }").unwrap_err();
        assert!(negative.contains("expected a number"), "{negative}");
    }

    #[test]
    fn fractions_are_accepted_as_percentages_too() {
        assert_eq!(parse_fraction("1%"), Ok(0.01));
        assert_eq!(parse_fraction("0.5 %"), Ok(0.005));
        assert_eq!(parse_fraction("0.01"), Ok(0.01));
        assert!(parse_fraction("1 percent").is_err());
        assert!(parse_fraction("%").is_err());
        #[derive(Deserialize)]
        struct L {
            loss: LossModel,
        }
        let l: L = toml::from_str("loss = \"2%\"").unwrap();
        assert_eq!(l.loss, LossModel::Bernoulli(0.02));
        let l: L = toml::from_str("loss = 0.02").unwrap();
        assert_eq!(l.loss, LossModel::Bernoulli(0.02));
    }
}
