//! How every text output writes numbers and names: durations, instants, rates, byte counts,
//! loss and the names of ways traffic takes. The run report, `check`, the sweep table,
//! `decode` and live mode all format through here, so one quantity reads the same everywhere.
//!
//! # The rounding rule
//!
//! Times are rounded **half up to the millisecond**, durations and instants alike, so an
//! instant of 326.1806 s and a duration of 26.1806 s read `326.181s` and `26.181s`. The one
//! exception keeps a small non-zero duration from reading as no time at all: below one
//! millisecond a duration is rounded half up to the microsecond (`400us`), and below one
//! microsecond it is written in nanoseconds (`250ns`). Zero is `0s`. JSON keeps the exact
//! nanoseconds; only text rounds.
//!
//! # The forms
//!
//! - a **duration** is written in the largest units that fit, with the seconds always in
//!   seconds once it reaches a minute: `739ms`, `26.181s`, `1m0.739s` (never `1m739ms`),
//!   `2m23s`, `5m`, `1h0m5s`; below a second, milliseconds (`739ms`). Every form parses back
//!   as a duration in a scenario file.
//! - an **instant** (time since the start of the run) is seconds with exactly three decimals,
//!   `326.181s`, so that a timeline column aligns; [`at`] writes it as a duration (`5m`) for
//!   prose.
//! - a **rate** has three significant digits and an SI prefix: `1.6 Gb/s`, `600 Mb/s`.
//! - a **byte count** likewise: `512 B`, `1.23 MB` (SI, 1 MB = 10^6 bytes).
//! - a **loss** (a fraction) is a percentage with up to three significant digits: `1%`,
//!   `0.5%`, `12.5%`.
//! - a **way** (path) is the scenario file's word: `expressroute`, `vpn`, `internet`, `none`.

use sim_core::time::{Duration, Instant};

use crate::spec::Via;

const NS_PER_US: u64 = 1_000;
const NS_PER_MS: u64 = 1_000_000;
const MS_PER_S: u64 = 1_000;
const MS_PER_MIN: u64 = 60_000;
const MS_PER_HOUR: u64 = 3_600_000;

/// Nanoseconds rounded half up to a multiple of `unit`.
const fn round_to(ns: u64, unit: u64) -> u64 {
    (ns / unit + if ns % unit >= unit / 2 { 1 } else { 0 }) * unit
}

/// A duration, rounded by the module's rule (see the module docs): `0s`, `250ns`, `400us`,
/// `739ms`, `26.181s`, `1m0.739s`, `2m23s`, `1h0m5s`.
#[must_use]
pub fn duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_owned();
    }
    if ns < NS_PER_US {
        return format!("{ns}ns");
    }
    if ns < NS_PER_MS {
        let us = round_to(ns, NS_PER_US) / NS_PER_US;
        if us < 1_000 {
            return format!("{us}us");
        }
    }
    millis(round_to(ns, NS_PER_MS) / NS_PER_MS)
}

/// A whole number of milliseconds as a duration.
fn millis(ms: u64) -> String {
    if ms < MS_PER_S {
        return format!("{ms}ms");
    }
    let mut out = String::new();
    let (h, rest) = (ms / MS_PER_HOUR, ms % MS_PER_HOUR);
    let (m, rest) = (rest / MS_PER_MIN, rest % MS_PER_MIN);
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    // Minutes are written between hours and seconds even when zero (`1h0m5s`).
    if m > 0 || (h > 0 && rest > 0) {
        out.push_str(&format!("{m}m"));
    }
    if rest > 0 {
        out.push_str(&seconds(rest));
    }
    out
}

/// A duration the user wrote (a bound, a moment in an expectation), without rounding: the
/// module's form when it is a whole number of milliseconds (`3m0.1s`, `903ms`), else the
/// exact form with every digit (`1.0000005s`).
#[must_use]
pub fn exact(d: Duration) -> String {
    if d.as_nanos().is_multiple_of(NS_PER_MS) {
        duration(d)
    } else {
        d.to_string()
    }
}

/// A quantity a user wrote: a duration as [`exact`], a count as is.
#[must_use]
pub fn quantity(q: crate::units::Quantity) -> String {
    match q {
        crate::units::Quantity::Duration(d) => exact(d),
        crate::units::Quantity::Count(n) => n.to_string(),
    }
}

/// Milliseconds as seconds with the trailing zeros of the fraction dropped: `26.181s`, `3s`.
fn seconds(ms: u64) -> String {
    let (s, frac) = (ms / MS_PER_S, ms % MS_PER_S);
    if frac == 0 {
        format!("{s}s")
    } else {
        let digits = format!("{frac:03}");
        format!("{s}.{}s", digits.trim_end_matches('0'))
    }
}

/// An instant as time since the start, for columns: seconds with three decimals, rounded
/// half up to the millisecond (`326.181s`).
#[must_use]
pub fn instant(t: Instant) -> String {
    let ms = round_to(t.since_start().as_nanos(), NS_PER_MS) / NS_PER_MS;
    format!("{}.{:03}s", ms / MS_PER_S, ms % MS_PER_S)
}

/// An instant for prose, as a duration since the start: `5m`, `5m26.181s`.
#[must_use]
pub fn at(t: Instant) -> String {
    duration(t.since_start())
}

/// A value with three significant digits, trailing fractional zeros dropped.
fn three_digits(v: f64) -> String {
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A number scaled by SI prefixes to three significant digits, with `unit`.
#[allow(clippy::cast_precision_loss, reason = "display only, three digits")]
fn si(n: u64, unit: &str) -> String {
    let x = n as f64;
    let (v, prefix) = if n >= 1_000_000_000_000 {
        (x / 1e12, "T")
    } else if n >= 1_000_000_000 {
        (x / 1e9, "G")
    } else if n >= 1_000_000 {
        (x / 1e6, "M")
    } else if n >= 1_000 {
        (x / 1e3, "k")
    } else {
        return format!("{n} {unit}");
    };
    // 999.6 k rounds to "1000 k": write it with the next prefix instead.
    let s = three_digits(v);
    if s == "1000" && prefix != "T" {
        let next = match prefix {
            "k" => "M",
            "M" => "G",
            _ => "T",
        };
        return format!("1 {next}{unit}");
    }
    format!("{s} {prefix}{unit}")
}

/// A rate in bits per second: `1.6 Gb/s`, `600 Mb/s`, `800 b/s`.
#[must_use]
pub fn rate(bps: u64) -> String {
    si(bps, "b/s")
}

/// A byte count: `512 B`, `1.23 MB` (SI prefixes: 1 kB = 1000 bytes).
#[must_use]
pub fn bytes(n: u64) -> String {
    si(n, "B")
}

/// A loss fraction as a percentage: `0.01` → `1%`, `0.005` → `0.5%`, `0.125` → `12.5%`.
#[must_use]
pub fn loss(fraction: f64) -> String {
    let pct = fraction * 100.0;
    if pct == 0.0 {
        return "0%".to_owned();
    }
    let s = if pct >= 1.0 {
        three_digits(pct)
    } else {
        // Three significant digits below 1 %: 0.0125 % stays 0.0125 %.
        let places = (-pct.log10().floor()) as usize + 2;
        let s = format!("{pct:.places$}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    format!("{s}%")
}

/// A way traffic takes, as scenario files write it (`expressroute`, `vpn`, `internet`,
/// `none`), never Rust's spelling of the enum.
#[must_use]
pub const fn way(v: Via) -> &'static str {
    v.name()
}

/// `n thing` or `n things`.
#[must_use]
pub fn count(n: u64, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }
    fn ns(n: u64) -> Duration {
        Duration::from_nanos(n)
    }

    #[test]
    fn durations_round_half_up_to_the_millisecond() {
        assert_eq!(duration(ns(26_180_600_000)), "26.181s");
        assert_eq!(duration(ns(26_180_499_999)), "26.18s");
        assert_eq!(duration(ns(26_180_500_000)), "26.181s");
        assert_eq!(duration(ns(141_999_981_039)), "2m22s");
        assert_eq!(duration(ns(999_600_000)), "1s");
    }

    #[test]
    fn instants_round_like_durations() {
        // The example: 326.1806 s beside a duration of 26.1806 s.
        let t = Instant::ZERO + ns(326_180_600_000);
        assert_eq!(instant(t), "326.181s");
        assert_eq!(duration(ns(26_180_600_000)), "26.181s");
        assert_eq!(instant(Instant::ZERO), "0.000s");
        assert_eq!(instant(Instant::ZERO + ns(300_000_000_000)), "300.000s");
        assert_eq!(instant(Instant::ZERO + ns(999_999)), "0.001s");
        assert_eq!(at(Instant::ZERO + ms(300_000)), "5m");
        assert_eq!(at(Instant::ZERO + ms(326_181)), "5m26.181s");
    }

    #[test]
    fn past_a_minute_the_seconds_stay_in_seconds() {
        assert_eq!(duration(ms(60_739)), "1m0.739s");
        assert_eq!(duration(ms(60_001)), "1m0.001s");
        assert_eq!(duration(ms(60_000)), "1m");
        assert_eq!(duration(ms(143_000)), "2m23s");
        assert_eq!(duration(ms(150_500)), "2m30.5s");
        assert_eq!(duration(ms(3_605_000)), "1h0m5s");
        assert_eq!(duration(ms(5_400_000)), "1h30m");
        assert_eq!(duration(ms(3_600_000)), "1h");
        assert_eq!(duration(ms(90_000_000)), "25h");
    }

    #[test]
    fn small_durations_never_read_as_zero() {
        assert_eq!(duration(Duration::ZERO), "0s");
        assert_eq!(duration(ns(1)), "1ns");
        assert_eq!(duration(ns(999)), "999ns");
        assert_eq!(duration(ns(400_000)), "400us");
        assert_eq!(duration(ns(400_499)), "400us");
        assert_eq!(duration(ns(999_499)), "999us");
        assert_eq!(duration(ns(999_500)), "1ms");
        assert_eq!(duration(ns(1_499_999)), "1ms");
        assert_eq!(duration(ms(739)), "739ms");
    }

    #[test]
    fn written_durations_keep_every_digit() {
        assert_eq!(exact(ms(180_100)), "3m0.1s");
        assert_eq!(exact(ms(903)), "903ms");
        assert_eq!(exact(ns(1_000_000_500)), "1.0000005s");
    }

    #[test]
    fn every_duration_form_parses_back() {
        for d in [
            ns(250),
            ns(400_000),
            ms(739),
            ms(26_181),
            ms(60_739),
            ms(143_000),
            ms(3_605_000),
        ] {
            let text = duration(d);
            let back: Duration = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(back, d, "{text}");
        }
    }

    #[test]
    fn rates_and_bytes_have_three_significant_digits() {
        assert_eq!(rate(1_600_000_000), "1.6 Gb/s");
        assert_eq!(rate(600_000_000), "600 Mb/s");
        assert_eq!(rate(12_345_678), "12.3 Mb/s");
        assert_eq!(rate(800), "800 b/s");
        assert_eq!(rate(999_999), "1 Mb/s");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_234_567), "1.23 MB");
        assert_eq!(bytes(1_000), "1 kB");
    }

    #[test]
    fn loss_is_a_percentage() {
        assert_eq!(loss(0.01), "1%");
        assert_eq!(loss(0.005), "0.5%");
        assert_eq!(loss(0.125), "12.5%");
        assert_eq!(loss(0.000_125), "0.0125%");
        assert_eq!(loss(0.0), "0%");
        assert_eq!(loss(1.0), "100%");
    }

    #[test]
    fn ways_are_written_as_in_the_file() {
        assert_eq!(way(Via::Expressroute), "expressroute");
        assert_eq!(way(Via::Vpn), "vpn");
        assert_eq!(way(Via::None), "none");
        assert_eq!(count(1, "flow"), "1 flow");
        assert_eq!(count(3, "flow"), "3 flows");
    }
}
