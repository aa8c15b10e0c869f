//! Delay jitter as a decorator around a [`Channel`].
//!
//! Jitter adds a random, non-negative extra delay to each delivered frame. A point-to-point
//! link does not reorder, so a frame never arrives before the previous frame of the same
//! direction: the arrival is raised to the last arrival if needed (what a FIFO line does; it
//! also keeps TCP free of spurious reordering). One draw (uniform) or two (normal, log-normal)
//! per delivered frame, from the decorator's own stream.

use serde::{Deserialize, Serialize};

use super::{Channel, DropCause};
use crate::rng::Stream;
use crate::time::{Duration, Instant};

/// A distribution of extra delay per frame.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JitterModel {
    /// `median * exp(sigma * Z)` with `Z` standard normal: heavy right tail, never negative.
    LogNormal {
        /// Median extra delay.
        median: Duration,
        /// Shape: standard deviation of the underlying normal.
        sigma: f64,
    },
    /// No jitter (no draws are consumed).
    #[default]
    None,
    /// `max(0, N(mean, sd))`: a normal extra delay, clamped at zero.
    Normal {
        /// Mean of the normal before clamping.
        mean: Duration,
        /// Standard deviation.
        sd: Duration,
    },
    /// Uniform extra delay in `[0, max)`.
    Uniform {
        /// Upper bound (exclusive).
        max: Duration,
    },
}

/// A channel decorated with jitter.
#[derive(Debug, Clone)]
pub struct Jitter<C> {
    inner: C,
    model: JitterModel,
    rng: Stream,
    /// Latest arrival handed out, to keep the direction FIFO.
    last_arrival: Instant,
}

impl<C> Jitter<C> {
    /// Wraps `inner` with the jitter distribution `model`, drawing from `rng`.
    #[must_use]
    pub const fn new(inner: C, model: JitterModel, rng: Stream) -> Self {
        Self {
            inner,
            model,
            rng,
            last_arrival: Instant::ZERO,
        }
    }

    /// The wrapped channel.
    #[must_use]
    pub const fn inner(&self) -> &C {
        &self.inner
    }

    /// Re-keys the jitter stream (see [`Stream::rekey`]).
    pub fn rekey(&mut self, key: u64) {
        self.rng.rekey(key);
    }

    /// The wrapped channel, mutably (e.g. to change its loss model).
    pub const fn inner_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// The jitter distribution in force.
    #[must_use]
    pub const fn model(&self) -> JitterModel {
        self.model
    }

    /// Replaces the jitter distribution (a latency episode); the FIFO guarantee holds across
    /// the change.
    pub const fn set_model(&mut self, model: JitterModel) {
        self.model = model;
    }

    fn extra(&mut self) -> Duration {
        match self.model {
            JitterModel::None => Duration::ZERO,
            JitterModel::Uniform { max } => self.rng.range_duration(Duration::ZERO, max),
            JitterModel::Normal { mean, sd } => {
                Duration::from_secs_f64(self.rng.normal(mean.as_secs_f64(), sd.as_secs_f64()))
            }
            JitterModel::LogNormal { median, sigma } => {
                median.mul_f64(libm::exp(sigma * self.rng.standard_normal()))
            }
        }
    }
}

impl<C: Channel> Channel for Jitter<C> {
    fn transmit(&mut self, now: Instant, frame_len: usize) -> Result<Instant, DropCause> {
        let arrive_at = self.inner.transmit(now, frame_len)?;
        let arrive_at = (arrive_at + self.extra()).max(self.last_arrival);
        self.last_arrival = arrive_at;
        Ok(arrive_at)
    }

    fn reset(&mut self, now: Instant) {
        self.inner.reset(now);
        self.last_arrival = now;
    }
}
