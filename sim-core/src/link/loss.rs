//! Random loss as a decorator around a [`Channel`]: independent (Bernoulli) or in bursts
//! (Gilbert–Elliott, in time or per packet).
//!
//! Loss happens *after* the inner channel accepted the frame: a frame lost in flight still
//! took its place in the queue and its serialisation time, as on a real line with bit errors.
//!
//! # Streams
//!
//! Two per decorator, so that neither perturbs the other:
//!
//! - the *loss* stream decides each frame. Bernoulli: one draw per frame offered. Per-packet
//!   Gilbert–Elliott: two, loss then state transition. Gilbert–Elliott in time: one when the
//!   state's loss probability is strictly between 0 and 1, none otherwise, so with the usual
//!   0 in the good state and 1 in the bad one the chain alone decides;
//! - the *burst* stream draws the time form's state changes ([`chain`]): one draw per sojourn,
//!   whatever the frames. Each realisation of the chain (at the start, after a re-key, for a
//!   new model) draws from its own copy of it, so the bursts a run sees do not depend on how
//!   many frames are sent or when.

mod chain;

use serde::{Deserialize, Serialize};

use self::chain::Chain;
use super::{Channel, DropCause};
use crate::rng::Stream;
use crate::time::{Duration, Instant};

/// A loss process.
///
/// The bursty forms are the Gilbert–Elliott channel: a hidden two-state Markov chain, good and
/// bad, with a loss probability in each state (E. N. Gilbert, "Capacity of a burst-noise
/// channel", Bell System Technical Journal 39(5), 1960, pp. 1253–1265, with loss only in the
/// bad state; E. O. Elliott, "Estimates of error rates for codes on burst-noise channels",
/// Bell System Technical Journal 42(5), 1963, pp. 1977–1997, with loss in both).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LossModel {
    /// Each frame is lost independently with probability `p`.
    Bernoulli {
        /// Loss probability in `[0, 1]`.
        p: f64,
    },
    /// Gilbert–Elliott in continuous time: the chain stays in the good state for an
    /// exponential time of mean `mean_good`, then in the bad state for an exponential time of
    /// mean `mean_bad`, and so on; a frame sent at `t` is lost with the probability of the
    /// state at `t`. The long-run share of time in the bad state is
    /// `mean_bad / (mean_good + mean_bad)`; a burst lasts `mean_bad` on average.
    ///
    /// Why in time: Gilbert's chain steps once per channel symbol, and symbols follow one
    /// another at a fixed rate, so his bursts have a duration. Stepping once per *packet*
    /// instead ([`LossModel::GilbertElliottPerPacket`]) ties the burst's duration to the
    /// packet rate: a 50-packet burst is 50 ms of a busy link but minutes of a link that
    /// carries only BGP keepalives, while the impairments behind bursts (a fading radio hop, a
    /// protection switch, a congested queue, a dirty connector) last milliseconds to seconds
    /// of time whatever crosses them. This is the chain of Gilbert's model with the symbol
    /// time taken to zero.
    ///
    /// The chain's state changes come from their own stream (see the module doc), and the
    /// chain starts in its stationary law; [`Loss::rekey`] and [`Loss::set_model`] draw a new
    /// realisation in that law, so a forked run or a loss episode starts in a random phase
    /// of the bursts, independent of what came before.
    GilbertElliott {
        /// Mean time in the good state.
        mean_good: Duration,
        /// Mean time in the bad state: the mean burst duration.
        mean_bad: Duration,
        /// Loss probability in the good state (often 0).
        loss_good: f64,
        /// Loss probability in the bad state (often 1).
        loss_bad: f64,
    },
    /// Gilbert–Elliott per packet: after each frame offered, the chain moves good→bad with
    /// probability `p_good_bad` and bad→good with `p_bad_good`. A burst lasts `1 / p_bad_good`
    /// *frames* on average, whatever time that takes; the long-run share of bad frames is
    /// `p_good_bad / (p_good_bad + p_bad_good)`. Only for traffic at a known, steady packet
    /// rate; prefer [`LossModel::GilbertElliott`] (see there why). The chain starts good.
    GilbertElliottPerPacket {
        /// Probability of moving from good to bad after a frame.
        p_good_bad: f64,
        /// Probability of moving from bad to good after a frame.
        p_bad_good: f64,
        /// Loss probability in the good state (often 0).
        loss_good: f64,
        /// Loss probability in the bad state (often 1).
        loss_bad: f64,
    },
    /// No random loss (no draws are consumed).
    #[default]
    None,
}

impl LossModel {
    /// The long-run fraction of frames lost (for the time form, of frames sent at times
    /// independent of the chain).
    #[must_use]
    pub fn mean_loss(self) -> f64 {
        match self {
            Self::None => 0.0,
            Self::Bernoulli { p } => p,
            Self::GilbertElliott {
                mean_good,
                mean_bad,
                loss_good,
                loss_bad,
            } => {
                let bad = chain::bad_share(mean_good, mean_bad);
                (1.0 - bad) * loss_good + bad * loss_bad
            }
            Self::GilbertElliottPerPacket {
                p_good_bad,
                p_bad_good,
                loss_good,
                loss_bad,
            } => {
                let moves = p_good_bad + p_bad_good;
                if moves > 0.0 {
                    (p_bad_good * loss_good + p_good_bad * loss_bad) / moves
                } else {
                    loss_good
                }
            }
        }
    }
}

impl LossModel {
    /// The log of the likelihood ratio `P_self / P_sampled` of one channel's loss decisions,
    /// `lost` frames lost and `kept` frames through, when both `self` and `sampled` are
    /// independent ([`LossModel::Bernoulli`]): `lost·ln(p/q) + kept·ln((1 − p)/(1 − q))`.
    /// Importance sampling (`holdtime advise`) simulates a link at a higher loss `q` and
    /// weights each run by this ratio at the real `p`; the frames' decisions are the only
    /// draws the two laws differ in, and a Bernoulli channel draws once per frame, so the
    /// counts are a sufficient statistic. `None` for any other pair of forms (a bursty
    /// chain's likelihood depends on its path, not on counts), and negative infinity when
    /// `self` cannot produce the counts (a loss at `p = 0`).
    #[must_use]
    pub fn bernoulli_log_ratio(self, sampled: Self, lost: u64, kept: u64) -> Option<f64> {
        let (Self::Bernoulli { p }, Self::Bernoulli { p: q }) = (self, sampled) else {
            return None;
        };
        #[allow(clippy::cast_precision_loss, reason = "frame counts far below 2^52")]
        let (l, k) = (lost as f64, kept as f64);
        let term = |n: f64, a: f64, b: f64| {
            if n == 0.0 {
                0.0
            } else if a <= 0.0 {
                f64::NEG_INFINITY
            } else {
                n * (a.ln() - b.ln())
            }
        };
        Some(term(l, p, q) + term(k, 1.0 - p, 1.0 - q))
    }
}

/// A channel decorated with random loss.
#[derive(Debug, Clone)]
pub struct Loss<C> {
    inner: C,
    model: LossModel,
    /// The loss stream (see the module doc).
    rng: Stream,
    /// The burst stream as given or last re-keyed. It is never drawn from: each realisation
    /// of the chain draws from its own copy, re-keyed with the realisation's number.
    burst_origin: Stream,
    /// Realisations of the chain started since `burst_origin` was set.
    starts: u64,
    /// The current realisation's stream: its state changes only.
    burst_rng: Stream,
    /// The per-packet form's state: `true` while bad.
    packet_bad: bool,
    /// The time form's chain, while that is the model.
    chain: Option<Chain>,
}

impl<C> Loss<C> {
    /// Wraps `inner` with the loss process `model`, deciding frames from `rng` and drawing
    /// the time form's state changes from `burst_rng` (see the module doc).
    #[must_use]
    pub fn new(inner: C, model: LossModel, rng: Stream, burst_rng: Stream) -> Self {
        let mut loss = Self {
            inner,
            model,
            rng,
            burst_origin: burst_rng.clone(),
            starts: 0,
            burst_rng,
            packet_bad: false,
            chain: None,
        };
        loss.restart();
        loss
    }

    /// The wrapped channel.
    #[must_use]
    pub const fn inner(&self) -> &C {
        &self.inner
    }

    /// The wrapped channel, mutably.
    pub const fn inner_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// The loss process in force.
    #[must_use]
    pub const fn model(&self) -> LossModel {
        self.model
    }

    /// Re-keys both streams (see [`Stream::rekey`]). The time form's chain restarts: a fresh
    /// realisation from the re-keyed stream, stationary from time zero and read from now on,
    /// so that now it is bad with probability `mean_bad / (mean_good + mean_bad)`, the rest of
    /// its sojourn is exponential with the state's full mean (memoryless), and nothing of the
    /// old realisation carries over. The per-packet form's state is kept.
    pub fn rekey(&mut self, key: u64) {
        self.rng.rekey(key);
        self.burst_origin.rekey(key);
        self.starts = 0;
        if self.chain.is_some() {
            self.restart();
        }
    }

    /// Replaces the loss process. The time form starts a new realisation in its stationary
    /// law; the per-packet form starts good.
    pub fn set_model(&mut self, model: LossModel) {
        self.model = model;
        self.restart();
    }

    /// Starts the model's state afresh. A realisation of the time form draws from a copy of
    /// the burst stream re-keyed with its number, so it is a function of the seed, the link,
    /// the fork key and how many models came before, and not of how far an earlier
    /// realisation was read (which depends on when frames were sent).
    fn restart(&mut self) {
        self.packet_bad = false;
        self.chain = match self.model {
            LossModel::GilbertElliott {
                mean_good,
                mean_bad,
                ..
            } => {
                self.burst_rng = self.burst_origin.clone();
                self.burst_rng.rekey(self.starts);
                self.starts += 1;
                Some(Chain::start(mean_good, mean_bad, &mut self.burst_rng))
            }
            _ => None,
        };
    }

    fn lose(&mut self, now: Instant) -> bool {
        match self.model {
            LossModel::None => false,
            LossModel::Bernoulli { p } => self.rng.bernoulli(p),
            LossModel::GilbertElliott {
                loss_good,
                loss_bad,
                ..
            } => {
                let bad = self
                    .chain
                    .as_mut()
                    .is_some_and(|c| c.bad_at(now, &mut self.burst_rng));
                let p = if bad { loss_bad } else { loss_good };
                // A certain outcome needs no draw: with the usual 0 (good) and 1 (bad) the
                // chain alone decides, and the loss stream is never touched.
                if p <= 0.0 {
                    false
                } else if p >= 1.0 {
                    true
                } else {
                    self.rng.bernoulli(p)
                }
            }
            LossModel::GilbertElliottPerPacket {
                p_good_bad,
                p_bad_good,
                loss_good,
                loss_bad,
            } => {
                let lost = self
                    .rng
                    .bernoulli(if self.packet_bad { loss_bad } else { loss_good });
                let flip = self.rng.bernoulli(if self.packet_bad {
                    p_bad_good
                } else {
                    p_good_bad
                });
                self.packet_bad ^= flip;
                lost
            }
        }
    }
}

impl<C: Channel> Channel for Loss<C> {
    fn transmit(&mut self, now: Instant, frame_len: usize) -> Result<Instant, DropCause> {
        let arrive_at = self.inner.transmit(now, frame_len)?;
        if self.lose(now) {
            Err(DropCause::Loss)
        } else {
            Ok(arrive_at)
        }
    }

    fn reset(&mut self, now: Instant) {
        self.inner.reset(now);
    }
}

#[cfg(test)]
mod ratio_tests {
    use super::LossModel;

    #[test]
    fn bernoulli_log_ratio_is_the_counts_likelihood_ratio() {
        let p = LossModel::Bernoulli { p: 0.01 };
        let q = LossModel::Bernoulli { p: 0.3 };
        let r = p.bernoulli_log_ratio(q, 4, 10).unwrap_or(f64::NAN);
        let want = 4.0 * (0.01_f64 / 0.3).ln() + 10.0 * (0.99_f64 / 0.7).ln();
        assert!((r - want).abs() < 1e-12, "{r} {want}");
        assert_eq!(p.bernoulli_log_ratio(p, 7, 9), Some(0.0));
        assert_eq!(
            LossModel::Bernoulli { p: 0.0 }.bernoulli_log_ratio(q, 1, 0),
            Some(f64::NEG_INFINITY)
        );
        assert_eq!(LossModel::None.bernoulli_log_ratio(q, 1, 1), None);
    }
}
