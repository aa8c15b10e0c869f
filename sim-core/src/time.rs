//! Virtual time: [`Instant`] and [`Duration`] as integer nanoseconds.
//!
//! The simulator never reads a wall clock (design.md, principle 3). Time is a plain `u64` of
//! nanoseconds since the start of a run, so arithmetic is exact and identical on every machine;
//! `u64` nanoseconds cover about 584 years, far beyond any scenario.
//!
//! Durations are written the way humans write them in scenario files: `180s`, `300ms`, `1h30m`,
//! `2.5s`, `750us`. [`Duration::from_str`](std::str::FromStr) parses them and `Display` prints
//! them back in the shortest exact form, so a printed duration always parses to the same value.
//!
//! The same types are used by the sans-IO protocol core in `bgp`; the live driver converts real
//! time into them at its edge.

use std::fmt;
use std::ops::{Add, AddAssign, Div, Mul, Sub, SubAssign};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;
const NANOS_PER_MIN: u64 = 60 * NANOS_PER_SEC;
const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MIN;
const NANOS_PER_DAY: u64 = 24 * NANOS_PER_HOUR;

/// A point in virtual time: nanoseconds since the start of the run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Instant(u64);

/// A span of virtual time in nanoseconds. Never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

impl Instant {
    /// The start of every run.
    pub const ZERO: Self = Self(0);
    /// The latest representable instant; used as "never".
    pub const MAX: Self = Self(u64::MAX);

    /// The instant `nanos` nanoseconds after the start.
    #[must_use]
    pub const fn from_nanos(nanos: u64) -> Self {
        Self(nanos)
    }

    /// Nanoseconds since the start.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Time elapsed since the start, as a [`Duration`].
    #[must_use]
    pub const fn since_start(self) -> Duration {
        Duration(self.0)
    }

    /// `self - earlier`, or zero if `earlier` is later than `self`.
    #[must_use]
    pub const fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, d: Duration) -> Option<Self> {
        match self.0.checked_add(d.0) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    /// `self + d`, clamped to [`Instant::MAX`].
    #[must_use]
    pub const fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.0))
    }
}

impl Duration {
    /// Zero length.
    pub const ZERO: Self = Self(0);
    /// The longest representable duration.
    pub const MAX: Self = Self(u64::MAX);

    /// A duration of `n` nanoseconds.
    #[must_use]
    pub const fn from_nanos(n: u64) -> Self {
        Self(n)
    }
    /// A duration of `n` microseconds (saturating).
    #[must_use]
    pub const fn from_micros(n: u64) -> Self {
        Self(n.saturating_mul(NANOS_PER_MICRO))
    }
    /// A duration of `n` milliseconds (saturating).
    #[must_use]
    pub const fn from_millis(n: u64) -> Self {
        Self(n.saturating_mul(NANOS_PER_MILLI))
    }
    /// A duration of `n` seconds (saturating).
    #[must_use]
    pub const fn from_secs(n: u64) -> Self {
        Self(n.saturating_mul(NANOS_PER_SEC))
    }
    /// A duration of `n` minutes (saturating).
    #[must_use]
    pub const fn from_mins(n: u64) -> Self {
        Self(n.saturating_mul(NANOS_PER_MIN))
    }

    /// Length in nanoseconds.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Length in whole microseconds (truncated).
    #[must_use]
    pub const fn as_micros(self) -> u64 {
        self.0 / NANOS_PER_MICRO
    }
    /// Length in whole milliseconds (truncated).
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.0 / NANOS_PER_MILLI
    }
    /// Length in whole seconds (truncated).
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0 / NANOS_PER_SEC
    }
    /// Length in seconds as a float (for reports and statistics, never for scheduling).
    #[must_use]
    #[allow(
        clippy::cast_precision_loss,
        reason = "reporting only; exact below 2^53 ns (104 days)"
    )]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// A duration from float seconds, rounded to the nearest nanosecond; negative and NaN
    /// inputs give zero, too large ones saturate.
    #[must_use]
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "clamped to the u64 range before the cast"
    )]
    pub fn from_secs_f64(secs: f64) -> Self {
        let n = (secs * NANOS_PER_SEC as f64).round();
        if n.is_nan() || n <= 0.0 {
            Self(0)
        } else if n >= u64::MAX as f64 {
            Self(u64::MAX)
        } else {
            Self(n as u64)
        }
    }

    /// Whether this is zero length.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self - other`, or zero if `other` is longer.
    #[must_use]
    pub const fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }

    /// `self + other`, clamped to [`Duration::MAX`].
    #[must_use]
    pub const fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    /// `self * k`, clamped to [`Duration::MAX`].
    #[must_use]
    pub const fn saturating_mul(self, k: u64) -> Self {
        Self(self.0.saturating_mul(k))
    }

    /// `self` scaled by a factor (e.g. a jitter factor in `[0.75, 1.0]`), rounded to the
    /// nearest nanosecond.
    #[must_use]
    #[allow(
        clippy::cast_precision_loss,
        reason = "scaling by a float is inherently inexact"
    )]
    pub fn mul_f64(self, factor: f64) -> Self {
        Self::from_secs_f64(self.0 as f64 * factor / NANOS_PER_SEC as f64)
    }
}

impl Add<Duration> for Instant {
    type Output = Self;
    /// Saturates at [`Instant::MAX`] rather than wrapping: "never" stays "never".
    fn add(self, d: Duration) -> Self {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Self;
    /// Saturates at [`Instant::ZERO`].
    fn sub(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(d.0))
    }
}

impl Sub for Instant {
    type Output = Duration;
    /// Saturates at zero when `rhs` is later.
    fn sub(self, rhs: Self) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl Add for Duration {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.saturating_add(rhs)
    }
}

impl AddAssign for Duration {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl Sub for Duration {
    type Output = Self;
    /// Saturates at zero.
    fn sub(self, rhs: Self) -> Self {
        self.saturating_sub(rhs)
    }
}

impl SubAssign for Duration {
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl Mul<u64> for Duration {
    type Output = Self;
    fn mul(self, k: u64) -> Self {
        self.saturating_mul(k)
    }
}

impl Div<u64> for Duration {
    type Output = Self;
    /// Integer division; dividing by zero gives [`Duration::MAX`] rather than panicking.
    fn div(self, k: u64) -> Self {
        match self.0.checked_div(k) {
            Some(n) => Self(n),
            None => Self::MAX,
        }
    }
}

/// Units accepted by the parser, longest suffix first so that `ms` is not read as `m` + `s`.
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", NANOS_PER_MICRO),
    ("µs", NANOS_PER_MICRO),
    ("ms", NANOS_PER_MILLI),
    ("s", NANOS_PER_SEC),
    ("m", NANOS_PER_MIN),
    ("h", NANOS_PER_HOUR),
    ("d", NANOS_PER_DAY),
];

/// Why a human duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseDurationError {
    /// The text was empty.
    #[error("empty duration: expected a number and a unit, e.g. `180s`, `300ms`, `1h30m`")]
    Empty,
    /// A number was expected at this byte offset.
    #[error("expected a number at byte {offset} of `{text}` (e.g. `180s`, `300ms`, `1h30m`)")]
    ExpectedNumber {
        /// Byte offset in the text.
        offset: usize,
        /// The whole text.
        text: String,
    },
    /// A number had no unit or an unknown one.
    #[error(
        "unknown or missing unit at byte {offset} of `{text}`: expected one of d, h, m, s, ms, us, ns"
    )]
    BadUnit {
        /// Byte offset in the text.
        offset: usize,
        /// The whole text.
        text: String,
    },
    /// The value does not fit in 64-bit nanoseconds, or has more precision than a nanosecond.
    #[error("`{text}` is out of range or finer than one nanosecond")]
    OutOfRange {
        /// The whole text.
        text: String,
    },
}

impl FromStr for Duration {
    type Err = ParseDurationError;

    /// Parses `180s`, `300ms`, `1h30m`, `2.5s`, `1m 30s`, `0`. A bare `0` is accepted (it is
    /// the same in every unit); any other number needs a unit.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let s = text.trim();
        if s.is_empty() {
            return Err(ParseDurationError::Empty);
        }
        if s == "0" {
            return Ok(Self::ZERO);
        }
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut total: u64 = 0;
        let out_of_range = || ParseDurationError::OutOfRange {
            text: text.to_owned(),
        };
        while i < bytes.len() {
            if bytes[i] == b' ' {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let int_part = &s[start..i];
            let mut frac_part = "";
            if i < bytes.len() && bytes[i] == b'.' {
                let fstart = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                frac_part = &s[fstart..i];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(ParseDurationError::ExpectedNumber {
                    offset: start,
                    text: text.to_owned(),
                });
            }
            let rest = &s[i..];
            let Some(&(unit, scale)) = UNITS
                .iter()
                .filter(|(u, _)| rest.starts_with(u))
                .max_by_key(|(u, _)| u.len())
            else {
                return Err(ParseDurationError::BadUnit {
                    offset: i,
                    text: text.to_owned(),
                });
            };
            i += unit.len();
            let int: u64 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| out_of_range())?
            };
            let mut nanos = int.checked_mul(scale).ok_or_else(out_of_range)?;
            // Fraction: exact decimal arithmetic, refusing anything finer than 1 ns.
            let mut place = scale;
            for d in frac_part.bytes() {
                let digit = u64::from(d - b'0');
                if place % 10 != 0 {
                    if digit != 0 {
                        return Err(out_of_range());
                    }
                    continue;
                }
                place /= 10;
                nanos = nanos.checked_add(digit * place).ok_or_else(out_of_range)?;
            }
            total = total.checked_add(nanos).ok_or_else(out_of_range)?;
        }
        Ok(Self(total))
    }
}

impl fmt::Display for Duration {
    /// The shortest exact human form: `3m`, `1h30m`, `180ms`, `2.5s`, `1m0.5s` → `1m500ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut n = self.0;
        if n == 0 {
            return f.write_str("0s");
        }
        // Whole days/hours/minutes first, then the sub-minute remainder in the largest unit
        // that represents it exactly (with a decimal fraction where that is shorter).
        let mut out = String::new();
        for (unit, scale) in [
            ("d", NANOS_PER_DAY),
            ("h", NANOS_PER_HOUR),
            ("m", NANOS_PER_MIN),
        ] {
            if n >= scale {
                out.push_str(&format!("{}{unit}", n / scale));
                n %= scale;
            }
        }
        if n > 0 {
            let (unit, scale) = if n >= NANOS_PER_SEC {
                ("s", NANOS_PER_SEC)
            } else if n >= NANOS_PER_MILLI {
                ("ms", NANOS_PER_MILLI)
            } else if n >= NANOS_PER_MICRO {
                ("us", NANOS_PER_MICRO)
            } else {
                ("ns", 1)
            };
            let whole = n / scale;
            let frac = n % scale;
            if frac == 0 {
                out.push_str(&format!("{whole}{unit}"));
            } else {
                let width = scale.ilog10() as usize;
                let digits = format!("{frac:0width$}");
                out.push_str(&format!("{whole}.{}{unit}", digits.trim_end_matches('0')));
            }
        }
        f.write_str(&out)
    }
}

impl fmt::Display for Instant {
    /// Printed as the time since the start, e.g. `t=5m0.25s` style is left to callers; this
    /// prints seconds with millisecond precision: `300.000s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / NANOS_PER_SEC;
        let millis = (self.0 % NANOS_PER_SEC) / NANOS_PER_MILLI;
        write!(f, "{secs}.{millis:03}s")
    }
}

impl Serialize for Duration {
    /// Serialised as its human form (`"180s"`), so JSON and TOML round-trip exactly.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    /// Accepts the human form (`"180s"`); a bare integer `0` is also accepted.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration with a unit, e.g. \"180s\", \"300ms\", \"1h30m\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                if v == 0 {
                    Ok(Duration::ZERO)
                } else {
                    Err(E::custom(format!(
                        "a bare number ({v}) has no unit: write e.g. \"{v}s\" or \"{v}ms\""
                    )))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    Err(_) => Err(E::custom("a duration cannot be negative")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_durations() {
        let cases = [
            ("180s", Duration::from_secs(180)),
            ("300ms", Duration::from_millis(300)),
            ("1h30m", Duration::from_mins(90)),
            ("2.5s", Duration::from_millis(2500)),
            ("1m 30s", Duration::from_secs(90)),
            ("750us", Duration::from_micros(750)),
            ("750µs", Duration::from_micros(750)),
            ("15m", Duration::from_mins(15)),
            ("1d", Duration::from_secs(86_400)),
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("0.001ms", Duration::from_nanos(1000)),
            ("42ns", Duration::from_nanos(42)),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Duration>(), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in [
            "",
            "s",
            "180",
            "10x",
            "1.5ns",
            "-3s",
            "1h30",
            "99999999999999999999s",
        ] {
            assert!(bad.parse::<Duration>().is_err(), "{bad:?} should not parse");
        }
        assert!(matches!(
            "10x".parse::<Duration>(),
            Err(ParseDurationError::BadUnit { offset: 2, .. })
        ));
    }

    #[test]
    fn display_is_shortest_exact_form_and_round_trips() {
        let cases = [
            (Duration::from_secs(180), "3m"),
            (Duration::from_millis(300), "300ms"),
            (Duration::from_mins(90), "1h30m"),
            (Duration::from_millis(2500), "2.5s"),
            (Duration::from_millis(60_500), "1m500ms"),
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(1_500), "1.5us"),
        ];
        for (d, text) in cases {
            assert_eq!(d.to_string(), text);
            assert_eq!(text.parse::<Duration>(), Ok(d));
        }
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::ZERO - Duration::from_secs(1), Instant::ZERO);
        assert_eq!(
            Instant::from_nanos(5) - Instant::from_nanos(9),
            Duration::ZERO
        );
        assert_eq!(Duration::from_secs(1) / 0, Duration::MAX);
        assert_eq!(Duration::from_secs(180) / 3, Duration::from_secs(60));
        assert_eq!(
            Duration::from_secs(10).mul_f64(0.75),
            Duration::from_millis(7500)
        );
    }

    #[test]
    fn serde_uses_human_form() {
        let d = Duration::from_millis(300);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"300ms\"");
        assert_eq!(serde_json::from_str::<Duration>(&json).unwrap(), d);
        assert!(serde_json::from_str::<Duration>("180").is_err());
    }

    proptest::proptest! {
        #[test]
        fn display_then_parse_is_identity(n in 0u64..u64::MAX / 2) {
            let d = Duration::from_nanos(n);
            proptest::prop_assert_eq!(d.to_string().parse::<Duration>(), Ok(d));
        }
    }
}
