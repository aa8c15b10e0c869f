//! HDR histograms with fixed bounds, serialised so that shards merge exactly.
//!
//! Every histogram of one unit has the same bounds (3 significant digits, from 1 to one hour
//! in nanoseconds for durations, to 3.6·10⁹ for counts) and grows no further: values above the
//! top saturate. Fixed bounds make the V2 serialisation a function of the counts alone, so a
//! histogram recorded in one go and the sum of shard histograms serialise to the same bytes.
//! Durations are recorded in integer nanoseconds, as every time in a result file is; counts as
//! they are.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use sim_core::time::Duration;

/// The largest count kept; larger ones are recorded as this.
pub const HIGHEST: u64 = 3_600_000_000;
/// The longest duration kept, in nanoseconds (one hour); longer ones are recorded as this.
pub const HIGHEST_NS: u64 = 3_600_000_000_000;
/// Significant decimal digits kept.
pub const SIGFIG: u8 = 3;

/// What a histogram's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Nanoseconds (durations).
    Ns,
    /// A plain count.
    Count,
}

/// A histogram and its unit.
#[derive(Debug, Clone)]
pub struct Hist {
    /// The unit of the values.
    pub unit: Unit,
    /// The counts.
    pub hist: Histogram<u64>,
}

/// Why a serialised histogram was refused.
#[derive(Debug, thiserror::Error)]
pub enum HistError {
    /// Not base64.
    #[error("histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not a V2 histogram.
    #[error("histogram does not decode: {0:?}")]
    Decode(hdrhistogram::serialization::DeserializeError),
    /// Serialisation failed.
    #[error("histogram does not encode: {0:?}")]
    Encode(hdrhistogram::serialization::V2SerializeError),
    /// Bounds other than [`Unit::highest`]/[`SIGFIG`] (not written by this version).
    #[error("histogram has other bounds than this version writes")]
    Bounds,
    /// Adding failed (cannot happen with equal bounds).
    #[error("histograms cannot be added: {0}")]
    Add(#[from] hdrhistogram::AdditionError),
}

impl Unit {
    /// The largest value a histogram of this unit keeps: [`HIGHEST_NS`] or [`HIGHEST`].
    #[must_use]
    pub const fn highest(self) -> u64 {
        match self {
            Self::Ns => HIGHEST_NS,
            Self::Count => HIGHEST,
        }
    }
}

impl Hist {
    /// An empty histogram.
    #[must_use]
    pub fn new(unit: Unit) -> Self {
        // Constant bounds that hdrhistogram accepts (low 1, high ≥ 2·low, sigfig ≤ 5): no
        // input can make this fail.
        let hist = Histogram::new_with_bounds(1, unit.highest(), SIGFIG)
            .expect("constant histogram bounds are valid");
        Self { unit, hist }
    }

    /// Records a duration, in nanoseconds.
    pub fn record_duration(&mut self, d: Duration) {
        self.record(d.as_nanos());
    }

    /// Records a value (saturating at the unit's [`Unit::highest`]).
    pub fn record(&mut self, v: u64) {
        self.hist.saturating_record(v.min(self.unit.highest()));
    }

    /// Adds another histogram's counts.
    ///
    /// # Errors
    ///
    /// [`HistError::Add`] if the bounds differ.
    pub fn add(&mut self, other: &Self) -> Result<(), HistError> {
        self.hist.add(&other.hist)?;
        Ok(())
    }

    /// The value at quantile `q` (0–1), 0 when empty.
    #[must_use]
    pub fn quantile(&self, q: f64) -> u64 {
        if self.hist.is_empty() {
            0
        } else {
            self.hist.value_at_quantile(q)
        }
    }

    /// The largest value recorded (at the histogram's precision), 0 when empty.
    #[must_use]
    pub fn max(&self) -> u64 {
        if self.hist.is_empty() {
            0
        } else {
            self.hist.highest_equivalent(self.hist.max())
        }
    }

    /// Number of values recorded.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    /// Whether nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// A value in this histogram's unit, for people ([`crate::fmt::duration`]): `2.5s` or `17`.
    #[must_use]
    pub fn show(&self, v: u64) -> String {
        match self.unit {
            Unit::Ns => crate::fmt::duration(Duration::from_nanos(v)),
            Unit::Count => v.to_string(),
        }
    }

    /// The V2 serialisation, base64.
    ///
    /// # Errors
    ///
    /// [`HistError::Encode`] if hdrhistogram cannot encode it.
    pub fn to_base64(&self) -> Result<String, HistError> {
        let mut buf = Vec::new();
        V2Serializer::new()
            .serialize(&self.hist, &mut buf)
            .map_err(HistError::Encode)?;
        Ok(STANDARD.encode(buf))
    }

    /// Reads [`Self::to_base64`]'s output.
    ///
    /// # Errors
    ///
    /// [`HistError`] when the text is not base64, not a V2 histogram, or has other bounds.
    pub fn from_base64(unit: Unit, text: &str) -> Result<Self, HistError> {
        let bytes = STANDARD.decode(text)?;
        let hist: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(HistError::Decode)?;
        if hist.high() != unit.highest() || hist.sigfig() != SIGFIG || hist.low() != 1 {
            return Err(HistError::Bounds);
        }
        Ok(Self { unit, hist })
    }

    /// `(value, cumulative fraction)` at each distinct recorded value, for CDF plots.
    #[must_use]
    pub fn cdf(&self) -> Vec<(u64, f64)> {
        let total = self.hist.len();
        if total == 0 {
            return Vec::new();
        }
        let mut acc = 0u64;
        let mut out = Vec::new();
        for v in self.hist.iter_recorded() {
            acc += v.count_at_value();
            #[allow(
                clippy::cast_precision_loss,
                reason = "a plotted fraction; counts far below 2^52"
            )]
            out.push((
                self.hist.highest_equivalent(v.value_iterated_to()),
                acc as f64 / total as f64,
            ));
        }
        out
    }
}

/// Microseconds as every text output writes a duration ([`crate::fmt::duration`]: `2m22s`,
/// `1m0.739s`, `675ms`).
#[must_use]
pub fn show_us(us: u64) -> String {
    crate::fmt::duration(Duration::from_micros(us))
}

/// Nanoseconds as every text output writes a duration ([`crate::fmt::duration`]).
#[must_use]
pub fn show_ns(ns: u64) -> String {
    crate::fmt::duration(Duration::from_nanos(ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_and_added_histograms_serialise_identically() {
        let mut whole = Hist::new(Unit::Ns);
        let mut a = Hist::new(Unit::Ns);
        let mut b = Hist::new(Unit::Ns);
        for v in 0..1000u64 {
            let x = v * v * 37 + 5;
            whole.record(x);
            if v % 3 == 0 { &mut a } else { &mut b }.record(x);
        }
        whole.record(u64::MAX);
        b.record(u64::MAX);
        a.add(&b).unwrap();
        assert_eq!(a.to_base64().unwrap(), whole.to_base64().unwrap());
        let back = Hist::from_base64(Unit::Ns, &whole.to_base64().unwrap()).unwrap();
        assert_eq!(back.quantile(0.99), whole.quantile(0.99));
        assert_eq!(back.max(), whole.max());
        // Saturated at an hour of nanoseconds, not at u64::MAX.
        assert!((HIGHEST_NS..HIGHEST_NS + HIGHEST_NS / 500).contains(&whole.max()));
    }

    #[test]
    fn durations_are_kept_in_nanoseconds_to_an_hour_and_counts_to_their_own_top() {
        let mut d = Hist::new(Unit::Ns);
        d.record_duration(Duration::from_nanos(1_234_567));
        // Three significant digits of the nanoseconds, not of the microseconds.
        let q = d.quantile(0.5);
        assert!((1_234_000..=1_236_000).contains(&q), "{q}");
        assert_eq!(d.show(q), crate::fmt::duration(Duration::from_nanos(q)));
        let mut c = Hist::new(Unit::Count);
        c.record(u64::MAX);
        assert!((HIGHEST..HIGHEST + HIGHEST / 500).contains(&c.max()));
        // A count histogram is not read as a duration one: the bounds differ.
        let text = c.to_base64().unwrap();
        assert!(matches!(
            Hist::from_base64(Unit::Ns, &text),
            Err(HistError::Bounds)
        ));
        assert!(Hist::from_base64(Unit::Count, &text).is_ok());
    }

    #[test]
    fn rejects_garbage() {
        assert!(Hist::from_base64(Unit::Ns, "not base64!").is_err());
        assert!(Hist::from_base64(Unit::Ns, "AAAA").is_err());
    }
}
