//! The two-state continuous-time Markov chain behind the time form of Gilbert–Elliott loss
//! ([`super::LossModel::GilbertElliott`]).
//!
//! The chain alternates between a good and a bad state; each stay (sojourn) is exponential
//! with the state's mean, independent of everything else. Its realisation is a function of its
//! stream and its two means alone: [`Chain::start`] draws the state at time zero from the
//! stationary law and the sojourns follow from the stream, one draw each. [`Chain::bad_at`]
//! reads that realisation at an instant, drawing the sojourns that end before it, so however
//! many frames ask, and whenever, they see the same chain (a frame only reads it).
//!
//! # Contracts
//!
//! - Instants passed to [`Chain::bad_at`] never decrease (a link direction's send times).
//!   An earlier instant reads the current sojourn's state instead of failing.
//! - The cost of a read is one draw per sojourn that ended since the last read:
//!   `2·elapsed / (mean_good + mean_bad)` on average. Every sojourn lasts at least a
//!   nanosecond, so a read always terminates; callers keep the means far above that (the
//!   scenario files refuse means below a millisecond).

use crate::rng::Stream;
use crate::time::{Duration, Instant};

/// One realisation of the chain, read lazily.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Chain {
    /// Mean stay in the good state.
    mean_good: Duration,
    /// Mean stay in the bad state.
    mean_bad: Duration,
    /// Whether the current sojourn is in the bad state.
    bad: bool,
    /// When the current sojourn ends.
    until: Instant,
}

impl Chain {
    /// A fresh realisation, in the stationary law from time zero: bad with probability
    /// `mean_bad / (mean_good + mean_bad)` and, the sojourns being exponential (memoryless),
    /// the rest of the first one exponential with the state's mean. Two draws from `rng`.
    ///
    /// Starting stationary at zero makes the chain stationary at every instant, so this is
    /// also the right restart for a re-keyed stream or a new model in the middle of a run.
    pub(super) fn start(mean_good: Duration, mean_bad: Duration, rng: &mut Stream) -> Self {
        let bad = rng.bernoulli(bad_share(mean_good, mean_bad));
        let mut chain = Self {
            mean_good,
            mean_bad,
            bad,
            until: Instant::ZERO,
        };
        chain.until = Instant::ZERO + chain.sojourn(rng);
        chain
    }

    /// Whether the chain is in the bad state at `now`, drawing the sojourns that ended
    /// before it from `rng`.
    pub(super) fn bad_at(&mut self, now: Instant, rng: &mut Stream) -> bool {
        while self.until <= now {
            self.bad = !self.bad;
            self.until += self.sojourn(rng);
        }
        self.bad
    }

    /// The length of a sojourn in the current state: exponential, at least 1 ns.
    fn sojourn(&self, rng: &mut Stream) -> Duration {
        let mean = if self.bad {
            self.mean_bad
        } else {
            self.mean_good
        };
        rng.exponential_duration(mean).max(Duration::from_nanos(1))
    }
}

/// The stationary probability of the bad state, `mean_bad / (mean_good + mean_bad)` (0 when
/// both means are zero).
pub(super) fn bad_share(mean_good: Duration, mean_bad: Duration) -> f64 {
    let (good, bad) = (mean_good.as_secs_f64(), mean_bad.as_secs_f64());
    if good + bad > 0.0 {
        bad / (good + bad)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seed;

    const GOOD: Duration = Duration::from_secs(8);
    const BAD: Duration = Duration::from_secs(2);

    #[test]
    fn reads_do_not_change_the_realisation() {
        // One reader every 10 ms, another every 70 ms: where both read, they agree.
        let mut fine_rng = Seed(1).stream_named("c");
        let mut coarse_rng = Seed(1).stream_named("c");
        let mut fine = Chain::start(GOOD, BAD, &mut fine_rng);
        let mut coarse = Chain::start(GOOD, BAD, &mut coarse_rng);
        let mut flips = 0;
        let mut last = false;
        for k in 0..100_000_u64 {
            let t = Instant::ZERO + Duration::from_millis(10 * k);
            let f = fine.bad_at(t, &mut fine_rng);
            flips += u32::from(f != last);
            last = f;
            if k % 7 == 0 {
                assert_eq!(f, coarse.bad_at(t, &mut coarse_rng), "at {t}");
            }
        }
        assert!(flips > 100, "the chain moved ({flips} changes)");
    }

    /// Many independent starts: the share that starts bad, and the mean rest of the first
    /// sojourn in each state. A chain in its stationary law starts bad with probability 0.2;
    /// memorylessness makes the rest of the first sojourn exponential with the full mean.
    #[test]
    #[allow(clippy::cast_precision_loss, reason = "test statistics")]
    fn starts_in_the_stationary_law_with_memoryless_sojourns() {
        let n = 10_000_u64;
        let (mut bad, mut rest_bad, mut rest_good) = (0_u64, 0.0, 0.0);
        for i in 0..n {
            let mut rng = Seed(i).stream_named("start");
            let c = Chain::start(GOOD, BAD, &mut rng);
            let rest = (c.until - Instant::ZERO).as_secs_f64();
            if c.bad {
                bad += 1;
                rest_bad += rest;
            } else {
                rest_good += rest;
            }
        }
        let share = bad as f64 / n as f64;
        // Binomial(10000, 0.2): sd 0.004; 4 sd.
        assert!((share - 0.2).abs() < 0.016, "bad share {share}");
        // Exponential means: relative sd 1/sqrt(2000) = 2.2 % (bad), 1/sqrt(8000) = 1.1 %
        // (good); 4 sd.
        let mean_bad = rest_bad / bad as f64;
        let mean_good = rest_good / (n - bad) as f64;
        assert!((mean_bad / 2.0 - 1.0).abs() < 0.09, "bad {mean_bad} s");
        assert!((mean_good / 8.0 - 1.0).abs() < 0.045, "good {mean_good} s");
    }

    #[test]
    fn zero_means_never_stall() {
        let mut rng = Seed(3).stream_named("z");
        let mut c = Chain::start(Duration::ZERO, Duration::ZERO, &mut rng);
        // Every sojourn is 1 ns: a microsecond is a thousand of them.
        let _ = c.bad_at(Instant::ZERO + Duration::from_micros(1), &mut rng);
        assert!(c.until > Instant::ZERO + Duration::from_micros(1));
        assert!(bad_share(Duration::ZERO, Duration::ZERO).abs() < f64::EPSILON);
    }
}
