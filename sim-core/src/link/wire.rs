//! The undecorated wire of one link direction: propagation delay, serialisation at a finite
//! bandwidth, and a bounded FIFO transmit queue with tail drop.
//!
//! The queue holds every frame whose serialisation has not finished yet, including the one on
//! the wire (so `QueueLimit::Frames(1)` means "no queueing at all"). A frame that finds the
//! queue full is dropped on arrival at the tail, like a `pfifo` qdisc. Departures are kept in
//! a `VecDeque` that is reused, so steady-state traffic allocates nothing.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{Channel, DropCause};
use crate::time::{Duration, Instant};

/// How much a direction's transmit queue holds before it tail-drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueLimit {
    /// At most this many bytes waiting or being serialised.
    Bytes(u64),
    /// At most this many frames waiting or being serialised (Linux `txqueuelen` is 1000).
    Frames(u32),
}

impl Default for QueueLimit {
    fn default() -> Self {
        Self::Frames(1000)
    }
}

/// One direction's wire: delay, optional bandwidth and its queue.
#[derive(Debug, Clone)]
pub struct Wire {
    delay: Duration,
    bandwidth_bps: Option<u64>,
    limit: QueueLimit,
    /// `(serialisation finished, frame length)` of frames still in the queue, oldest first.
    departures: VecDeque<(Instant, u64)>,
    /// Sum of the lengths in `departures`.
    queued_bytes: u64,
}

impl Wire {
    /// A wire with propagation `delay` and infinite bandwidth (no serialisation, no queue).
    #[must_use]
    pub const fn new(delay: Duration) -> Self {
        Self {
            delay,
            bandwidth_bps: None,
            limit: QueueLimit::Frames(u32::MAX),
            departures: VecDeque::new(),
            queued_bytes: 0,
        }
    }

    /// The same wire serialising at `bps` bits per second behind a queue bounded by `limit`.
    /// A bandwidth of zero means infinite.
    #[must_use]
    pub fn with_bandwidth(mut self, bps: u64, limit: QueueLimit) -> Self {
        self.bandwidth_bps = (bps > 0).then_some(bps);
        self.limit = limit;
        self
    }

    /// Changes the bandwidth from now on (a circuit resized in place); `0` means infinite.
    /// Frames already queued keep the departure times they were given: a line rate change
    /// takes effect for the next frame clocked out.
    pub fn set_bandwidth(&mut self, bps: u64) {
        self.bandwidth_bps = (bps > 0).then_some(bps);
    }

    /// Time to clock `len` bytes onto the wire, rounded up to the nanosecond.
    #[must_use]
    pub fn serialisation(&self, len: u64) -> Duration {
        match self.bandwidth_bps {
            None => Duration::ZERO,
            Some(bps) => {
                let nanos = (u128::from(len) * 8 * 1_000_000_000).div_ceil(u128::from(bps));
                Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
            }
        }
    }

    /// Frames currently queued (including the one being serialised) as of the last transmit.
    #[must_use]
    pub fn queued_frames(&self) -> usize {
        self.departures.len()
    }

    fn full_for(&self, len: u64) -> bool {
        match self.limit {
            QueueLimit::Bytes(max) => self.queued_bytes.saturating_add(len) > max,
            QueueLimit::Frames(max) => self.departures.len() >= max as usize,
        }
    }
}

impl Channel for Wire {
    fn transmit(&mut self, now: Instant, frame_len: usize) -> Result<Instant, DropCause> {
        let len = frame_len as u64;
        if self.bandwidth_bps.is_none() {
            return Ok(now + self.delay);
        }
        while let Some(&(done, l)) = self.departures.front() {
            if done > now {
                break;
            }
            self.departures.pop_front();
            self.queued_bytes -= l;
        }
        if self.full_for(len) {
            return Err(DropCause::QueueFull);
        }
        let start = self
            .departures
            .back()
            .map_or(now, |&(done, _)| done.max(now));
        let done = start + self.serialisation(len);
        self.departures.push_back((done, len));
        self.queued_bytes += len;
        Ok(done + self.delay)
    }

    fn reset(&mut self, _now: Instant) {
        self.departures.clear();
        self.queued_bytes = 0;
    }
}
