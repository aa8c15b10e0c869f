//! Closed-form detection-time distribution of a silent failure, for cross-checking the
//! simulator (the Kolmogorov–Smirnov test in `scenarios/tests/ks.rs`).
//!
//! # Derivation
//!
//! A router detects a silent failure when its hold timer expires: `H` after the last message
//! it received (RFC 4271 §6.5: "If a system does not receive successive KEEPALIVE, UPDATE,
//! and/or NOTIFICATION messages within the period specified in the Hold Time field of the
//! OPEN message, then the NOTIFICATION message with the Hold Timer Expired Error Code is
//! sent"). On an idle session those messages are the peer's keepalives, sent at intervals
//! `X = K·U` where `K` is the keepalive time and `U ~ Uniform[a, b]` is the jitter
//! (RFC 4271 §10: the timers "SHOULD" be jittered by "a random factor which is uniformly
//! distributed in the range from 0.75 to 1.0": `a = 0.75`, `b = 1`). The hold timer itself is
//! not jittered in the `rfc4271` profile.
//!
//! If the failure strikes at time `t`, detection comes `D = H − A` after it, where `A` is
//! the age at `t` of the last keepalive received. The receipts form a renewal process with
//! inter-arrival `X` (a constant propagation delay shifts it and does not change the gaps).
//! At an instant independent of the process (uniformly random phase), the interval that
//! covers it is length-biased (density `x·f(x)/E[X]`) and the instant falls uniformly
//! inside it, so `A` has the equilibrium ("residual life") density
//!
//! ```text
//! g(α) = P(X > α) / E[X],          E[X] = K·(a + b)/2,
//! ```
//!
//! with `P(X > α) = 1` for `α ≤ aK`, `(bK − α)/((b − a)K)` for `aK ≤ α ≤ bK`, 0 beyond.
//! Integrating:
//!
//! ```text
//! F_A(α) = α / E[X]                                               for 0 ≤ α ≤ aK
//!        = (aK + ((bK − aK)² − (bK − α)²) / (2(b − a)K)) / E[X]   for aK ≤ α ≤ bK
//!        = 1                                                      for α ≥ bK
//! ```
//!
//! and `F_D(d) = P(H − A ≤ d) = 1 − F_A(H − d)` (A is continuous). For 180/60 s and
//! `[0.75, 1]`: detection lies in `[120 s, 180 s]`, with density flat at `1/52.5 s` from 135 s
//! to 180 s and falling linearly to 0 at 120 s, so `P(D ≤ 135 s) = 7.5/52.5 = 0.1428…`, not the 0.25 a
//! naive "uniform in [H − K, H]" would say.

/// The CDF of `A`, the age of the last keepalive at a random instant, for keepalive time `k`
/// (seconds) jittered by a factor uniform in `[lo, hi]` (`0 < lo ≤ hi`).
#[must_use]
pub fn age_cdf(k: f64, lo: f64, hi: f64, age: f64) -> f64 {
    let mean = k * (lo + hi) / 2.0;
    let (a, b) = (lo * k, hi * k);
    if age <= 0.0 {
        0.0
    } else if age <= a {
        age / mean
    } else if age < b {
        (a + ((b - a).powi(2) - (b - age).powi(2)) / (2.0 * (b - a))) / mean
    } else {
        1.0
    }
}

/// The CDF of the detection time `D = H − A` (seconds after the failure) for hold time `h`.
#[must_use]
pub fn detection_cdf(h: f64, k: f64, lo: f64, hi: f64, d: f64) -> f64 {
    1.0 - age_cdf(k, lo, hi, h - d)
}

/// The Kolmogorov–Smirnov statistic `sup |F_n − F|` of `samples` against `cdf`.
#[must_use]
pub fn ks_statistic(samples: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut xs = samples.to_vec();
    xs.sort_by(f64::total_cmp);
    #[allow(
        clippy::cast_precision_loss,
        reason = "sample counts are far below 2^52"
    )]
    let n = xs.len() as f64;
    let mut d: f64 = 0.0;
    for (i, x) in xs.iter().enumerate() {
        let f = cdf(*x);
        #[allow(
            clippy::cast_precision_loss,
            reason = "sample counts are far below 2^52"
        )]
        let i = i as f64;
        d = d.max((i + 1.0) / n - f).max(f - i / n);
    }
    d
}

/// The asymptotic critical value of the KS statistic at level `alpha` for `n` samples:
/// `sqrt(−ln(alpha/2) / 2) / sqrt(n)`.
#[must_use]
pub fn ks_critical(alpha: f64, n: usize) -> f64 {
    #[allow(
        clippy::cast_precision_loss,
        reason = "sample counts are far below 2^52"
    )]
    let n = n as f64;
    (-(alpha / 2.0).ln() / 2.0).sqrt() / n.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_cdf_is_a_distribution_with_the_right_mean_shape() {
        assert!((age_cdf(60.0, 0.75, 1.0, 60.0) - 1.0).abs() < 1e-12);
        assert!((age_cdf(60.0, 0.75, 1.0, 45.0) - 45.0 / 52.5).abs() < 1e-12);
        let mut last = 0.0;
        for i in 0..=600 {
            let f = age_cdf(60.0, 0.75, 1.0, f64::from(i) / 10.0);
            assert!(f >= last - 1e-12 && f <= 1.0 + 1e-12);
            last = f;
        }
        assert!((detection_cdf(180.0, 60.0, 0.75, 1.0, 135.0) - 7.5 / 52.5).abs() < 1e-12);
        assert!(detection_cdf(180.0, 60.0, 0.75, 1.0, 119.9).abs() < 1e-12);
        assert!((detection_cdf(180.0, 60.0, 0.75, 1.0, 180.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ks_statistic_of_a_perfect_grid_is_one_over_n() {
        let xs: Vec<f64> = (0..100).map(|i| (f64::from(i) + 0.5) / 100.0).collect();
        let d = ks_statistic(&xs, |x| x);
        assert!((d - 0.005).abs() < 1e-12, "{d}");
    }
}
