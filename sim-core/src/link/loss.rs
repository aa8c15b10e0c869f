//! Random loss as a decorator around a [`Channel`]: Bernoulli or Gilbert–Elliott bursts.
//!
//! Loss happens *after* the inner channel accepted the frame: a frame lost in flight still
//! took its place in the queue and its serialisation time, as on a real line with bit errors.
//! Each decision consumes a fixed number of draws from the decorator's own stream (Bernoulli:
//! one; Gilbert–Elliott: two, loss then state transition), so the pattern depends only on the
//! seed and the number of frames offered.

use serde::{Deserialize, Serialize};

use super::{Channel, DropCause};
use crate::rng::Stream;
use crate::time::Instant;

/// A loss process.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LossModel {
    /// Each frame is lost independently with probability `p`.
    Bernoulli {
        /// Loss probability in `[0, 1]`.
        p: f64,
    },
    /// Two-state Markov chain (Gilbert–Elliott). In the good state a frame is lost with
    /// probability `loss_good`, in the bad state with `loss_bad`; after each frame the chain
    /// moves good→bad with `p_good_bad` and bad→good with `p_bad_good`. The mean burst (bad
    /// period) lasts `1 / p_bad_good` frames; the long-run share of bad frames is
    /// `p_good_bad / (p_good_bad + p_bad_good)`.
    GilbertElliott {
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

/// A channel decorated with random loss.
#[derive(Debug, Clone)]
pub struct Loss<C> {
    inner: C,
    model: LossModel,
    rng: Stream,
    /// Gilbert–Elliott state: `true` while in the bad state. Starts good.
    bad: bool,
}

impl<C> Loss<C> {
    /// Wraps `inner` with the loss process `model`, drawing from `rng`.
    #[must_use]
    pub const fn new(inner: C, model: LossModel, rng: Stream) -> Self {
        Self {
            inner,
            model,
            rng,
            bad: false,
        }
    }

    /// The wrapped channel.
    #[must_use]
    pub const fn inner(&self) -> &C {
        &self.inner
    }

    /// Re-keys the loss stream (see [`Stream::rekey`]); the Gilbert–Elliott state is kept.
    pub fn rekey(&mut self, key: u64) {
        self.rng.rekey(key);
    }

    /// Replaces the loss process (the Gilbert–Elliott state restarts good).
    pub fn set_model(&mut self, model: LossModel) {
        self.model = model;
        self.bad = false;
    }

    fn lose(&mut self) -> bool {
        match self.model {
            LossModel::None => false,
            LossModel::Bernoulli { p } => self.rng.bernoulli(p),
            LossModel::GilbertElliott {
                p_good_bad,
                p_bad_good,
                loss_good,
                loss_bad,
            } => {
                let lost = self
                    .rng
                    .bernoulli(if self.bad { loss_bad } else { loss_good });
                let flip = self
                    .rng
                    .bernoulli(if self.bad { p_bad_good } else { p_good_bad });
                self.bad ^= flip;
                lost
            }
        }
    }
}

impl<C: Channel> Channel for Loss<C> {
    fn transmit(&mut self, now: Instant, frame_len: usize) -> Result<Instant, DropCause> {
        let arrive_at = self.inner.transmit(now, frame_len)?;
        if self.lose() {
            Err(DropCause::Loss)
        } else {
            Ok(arrive_at)
        }
    }

    fn reset(&mut self, now: Instant) {
        self.inner.reset(now);
    }
}
