//! A point-to-point link between two endpoints `A` and `B`, sans-IO.
//!
//! The link carries nothing itself: a driver asks [`Link::transmit`] what happens to a frame of
//! a given length sent now in a given [`Direction`], and gets either the instant it arrives or
//! why it was dropped. The payload (a TCP segment, a BFD packet, a probe) stays with the
//! driver, which schedules the arrival in the engine and, when it fires, asks
//! [`Link::survives`] whether the link stayed usable while the frame was in flight.
//!
//! # Layers (decorators, as smoltcp wraps a device in `phy/fault_injector.rs`)
//!
//! Each direction is a [`Channel`]; the standard one is
//! `Jitter<Loss<Wire>>`: [`Wire`] gives propagation delay, serialisation at a bandwidth and a
//! tail-drop queue; [`Loss`] drops accepted frames at random (independently, or in bursts
//! of a Gilbert–Elliott chain that moves in time: see [`LossModel`]);
//! [`Jitter`] adds random extra delay while keeping the direction FIFO. [`Link`] on top holds the
//! state and is generic over the channel type, so other compositions need no new code.
//!
//! # States and who is told
//!
//! - **Up**: frames go through the channel.
//! - **Down** (carrier lost, e.g. an interface or the physical line fails): the whole link; both
//!   attached endpoints are told at the moment of failure, as the [`CarrierChange`]s returned by
//!   [`Link::set_down`]. Queued frames are flushed; frames in flight are lost.
//! - **Silent** (frames vanish, nobody is told: a cut inside a provider network while both
//!   interfaces stay up): per direction, set with [`Link::set_silent`]. This is the failure
//!   that only BGP's hold timer or BFD can detect (domain.md).
//!
//! # Randomness
//!
//! [`Link::new`] derives every random stream from the seed and the link's name:
//! `"{name}/a->b/loss"`, `"{name}/a->b/burst"`, `"{name}/a->b/jitter"` and the same under
//! `"{name}/b->a/"` (see [`crate::rng`]), so each direction and each impairment has its own
//! stream. In particular the two directions' loss bursts are independent chains: each
//! direction of a circuit has its own fibre or wavelength, optics and queues, and what makes
//! bursts there (bit errors, a queue overflowing) is not shared; a cause that stops both
//! directions at once is a fault ([`Link::set_down`], [`Link::set_silent`]), not random
//! loss.

mod jitter;
mod loss;
mod wire;

use serde::{Deserialize, Serialize};

pub use jitter::{Jitter, JitterModel};
pub use loss::{Loss, LossModel};
pub use wire::{QueueLimit, Wire};

use crate::rng::Seed;
use crate::time::{Duration, Instant};

/// One direction of a link, as seen by the frame: accepts it (returning its arrival time) or
/// drops it.
///
/// Implemented by [`Wire`] and the decorators [`Loss`] and [`Jitter`].
pub trait Channel {
    /// Offers a frame of `frame_len` bytes at `now`.
    ///
    /// # Errors
    ///
    /// The [`DropCause`] if the frame will never arrive.
    fn transmit(&mut self, now: Instant, frame_len: usize) -> Result<Instant, DropCause>;

    /// Forgets all queued frames (carrier lost at `now`).
    fn reset(&mut self, now: Instant);
}

/// A direction of travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From endpoint `A` to endpoint `B`.
    AToB,
    /// From endpoint `B` to endpoint `A`.
    BToA,
}

impl Direction {
    /// The opposite direction.
    #[must_use]
    pub const fn reverse(self) -> Self {
        match self {
            Self::AToB => Self::BToA,
            Self::BToA => Self::AToB,
        }
    }

    /// The direction in which `end` transmits.
    #[must_use]
    pub const fn from_end(end: End) -> Self {
        match end {
            End::A => Self::AToB,
            End::B => Self::BToA,
        }
    }

    const fn index(self) -> usize {
        match self {
            Self::AToB => 0,
            Self::BToA => 1,
        }
    }
}

/// One of the two endpoints of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum End {
    /// The `A` side.
    A,
    /// The `B` side.
    B,
}

/// Why a frame did not arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropCause {
    /// The link had no carrier.
    Down,
    /// Random loss ([`Loss`]).
    Loss,
    /// The transmit queue was full (tail drop).
    QueueFull,
    /// The direction was silent.
    Silent,
}

/// A frame accepted by the link, to be delivered at `arrive_at` if it [`Link::survives`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// When the last bit arrives at the far end.
    pub arrive_at: Instant,
    /// The direction's epoch at sending; bumped whenever the direction stops carrying frames.
    epoch: u32,
}

/// What happens to a frame offered to [`Link::transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// The frame arrives (subject to [`Link::survives`]).
    Deliver(Delivery),
    /// The frame is lost.
    Drop(DropCause),
}

/// The observable state of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// No carrier; both endpoints know.
    Down,
    /// Frames vanish; nobody knows.
    Silent,
    /// Frames are carried.
    Up,
}

/// A carrier notification for one endpoint, returned when the link goes down or up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CarrierChange {
    /// The endpoint to tell.
    pub end: End,
    /// When the change happened.
    pub at: Instant,
    /// `true` if carrier came back, `false` if it was lost.
    pub up: bool,
}

/// Frame counters of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Frames offered to [`Link::transmit`].
    pub offered: u64,
    /// Frames accepted for delivery.
    pub accepted: u64,
    /// Frames dropped because the link was down.
    pub dropped_down: u64,
    /// Frames dropped by random loss.
    pub dropped_loss: u64,
    /// Frames tail-dropped at the queue.
    pub dropped_queue: u64,
    /// Frames dropped because the direction was silent.
    pub dropped_silent: u64,
    /// Accepted frames lost in flight when the direction went down or silent.
    pub lost_in_flight: u64,
}

/// The impairments of one direction, for [`Link::new`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirectionConfig {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Extra random delay per frame.
    pub jitter: JitterModel,
    /// Random loss.
    pub loss: LossModel,
    /// Bandwidth in bits per second; `0` means infinite (no serialisation, no queue).
    pub bandwidth_bps: u64,
    /// Transmit queue bound (only with a finite bandwidth).
    pub queue: QueueLimit,
}

/// The standard channel of one direction: jitter over loss over a wire, plus an optional
/// latency episode (see [`DelayEpisode`]).
#[derive(Debug, Clone)]
pub struct Standard {
    chain: Jitter<Loss<Wire>>,
    /// The configured jitter, restored when an episode ends.
    base_jitter: JitterModel,
    /// Extra one-way delay of the current episode (zero outside one).
    extra_delay: Duration,
    /// Latest arrival handed out, so that the end of an episode never reorders frames.
    last_arrival: Instant,
}

/// A latency episode on one direction: every frame sent during it is delayed by `extra` on
/// top of the configured propagation delay, and its jitter is drawn from `jitter` instead of
/// the configured model (when `jitter` is [`JitterModel::None`] the configured jitter stays).
/// The direction stays FIFO when the episode starts or ends: a frame never overtakes one
/// sent before it (a line does not reorder).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DelayEpisode {
    /// Added one-way delay.
    pub extra: Duration,
    /// Jitter during the episode.
    pub jitter: JitterModel,
}

impl Standard {
    /// Builds the decorated channel for `cfg`, with streams named after `prefix`.
    #[must_use]
    pub fn new(cfg: &DirectionConfig, seed: Seed, prefix: &str) -> Self {
        let wire = Wire::new(cfg.delay).with_bandwidth(cfg.bandwidth_bps, cfg.queue);
        let loss = Loss::new(
            wire,
            cfg.loss,
            seed.stream_named(&format!("{prefix}/loss")),
            seed.stream_named(&format!("{prefix}/burst")),
        );
        Self {
            chain: Jitter::new(
                loss,
                cfg.jitter,
                seed.stream_named(&format!("{prefix}/jitter")),
            ),
            base_jitter: cfg.jitter,
            extra_delay: Duration::ZERO,
            last_arrival: Instant::ZERO,
        }
    }

    /// Re-keys the loss and jitter streams (see [`crate::rng::Stream::rekey`] and
    /// [`Loss::rekey`]): a Gilbert–Elliott chain in time restarts in its stationary law;
    /// queues, episodes and a per-packet chain's state are kept.
    pub fn rekey(&mut self, key: u64) {
        self.chain.rekey(key);
        self.chain.inner_mut().rekey(key);
    }

    /// Replaces the loss process (e.g. a scenario fault that starts dropping 30 %); see
    /// [`Loss::set_model`].
    pub fn set_loss(&mut self, model: LossModel) {
        self.chain.inner_mut().set_model(model);
    }

    /// Changes the wire's bandwidth from the next frame on (see [`Wire::set_bandwidth`]).
    pub fn set_bandwidth(&mut self, bps: u64) {
        self.chain.inner_mut().inner_mut().set_bandwidth(bps);
    }

    /// Starts (`Some`) or ends (`None`) a latency episode.
    pub fn set_delay_episode(&mut self, episode: Option<DelayEpisode>) {
        match episode {
            Some(e) => {
                self.extra_delay = e.extra;
                if e.jitter != JitterModel::None {
                    self.chain.set_model(e.jitter);
                }
            }
            None => {
                self.extra_delay = Duration::ZERO;
                self.chain.set_model(self.base_jitter);
            }
        }
    }
}

impl Channel for Standard {
    fn transmit(&mut self, now: Instant, frame_len: usize) -> Result<Instant, DropCause> {
        let arrive_at =
            (self.chain.transmit(now, frame_len)? + self.extra_delay).max(self.last_arrival);
        self.last_arrival = arrive_at;
        Ok(arrive_at)
    }

    fn reset(&mut self, now: Instant) {
        self.chain.reset(now);
        self.last_arrival = now;
    }
}

/// A point-to-point link with two directions of channel type `C`.
#[derive(Debug, Clone)]
pub struct Link<C = Standard> {
    channels: [C; 2],
    carrier: bool,
    silent: [bool; 2],
    epoch: [u32; 2],
    stats: [Stats; 2],
}

impl Link<Standard> {
    /// The standard link: each direction `Jitter<Loss<Wire>>` configured by `a_to_b` and
    /// `b_to_a`, random streams derived from `seed` and `name` (see the module doc).
    #[must_use]
    pub fn new(name: &str, seed: Seed, a_to_b: &DirectionConfig, b_to_a: &DirectionConfig) -> Self {
        Self::from_channels([
            Standard::new(a_to_b, seed, &format!("{name}/a->b")),
            Standard::new(b_to_a, seed, &format!("{name}/b->a")),
        ])
    }

    /// A symmetric standard link: the same impairments both ways (independent streams).
    #[must_use]
    pub fn symmetric(name: &str, seed: Seed, cfg: &DirectionConfig) -> Self {
        Self::new(name, seed, cfg, cfg)
    }

    /// Re-keys both directions' random streams (see [`Standard::rekey`]).
    pub fn rekey(&mut self, key: u64) {
        for c in &mut self.channels {
            c.rekey(key);
        }
    }

    /// Replaces the loss process of one direction.
    pub fn set_loss(&mut self, dir: Direction, model: LossModel) {
        self.channel_mut(dir).set_loss(model);
    }

    /// Changes one direction's bandwidth from the next frame on (a circuit resized in place).
    pub fn set_bandwidth(&mut self, dir: Direction, bps: u64) {
        self.channel_mut(dir).set_bandwidth(bps);
    }

    /// Starts (`Some`) or ends (`None`) a latency episode on one direction (see
    /// [`DelayEpisode`]).
    pub fn set_delay_episode(&mut self, dir: Direction, episode: Option<DelayEpisode>) {
        self.channel_mut(dir).set_delay_episode(episode);
    }
}

impl<C: Channel> Link<C> {
    /// A link that is up, over the channels `[a_to_b, b_to_a]`.
    #[must_use]
    pub const fn from_channels(channels: [C; 2]) -> Self {
        Self {
            channels,
            carrier: true,
            silent: [false; 2],
            epoch: [0; 2],
            stats: [Stats {
                offered: 0,
                accepted: 0,
                dropped_down: 0,
                dropped_loss: 0,
                dropped_queue: 0,
                dropped_silent: 0,
                lost_in_flight: 0,
            }; 2],
        }
    }

    /// The state of one direction.
    #[must_use]
    pub const fn state(&self, dir: Direction) -> State {
        if !self.carrier {
            State::Down
        } else if self.silent[dir.index()] {
            State::Silent
        } else {
            State::Up
        }
    }

    /// Whether the link has carrier (what each endpoint's interface reports).
    #[must_use]
    pub const fn carrier(&self) -> bool {
        self.carrier
    }

    /// Counters of one direction.
    #[must_use]
    pub const fn stats(&self, dir: Direction) -> &Stats {
        &self.stats[dir.index()]
    }

    /// The channel of one direction.
    pub const fn channel_mut(&mut self, dir: Direction) -> &mut C {
        &mut self.channels[dir.index()]
    }

    /// Offers a frame of `frame_len` bytes at `now` in direction `dir`.
    pub fn transmit(&mut self, now: Instant, dir: Direction, frame_len: usize) -> Outcome {
        let i = dir.index();
        let state = self.state(dir);
        let stats = &mut self.stats[i];
        stats.offered += 1;
        let result = match state {
            State::Down => Err(DropCause::Down),
            State::Silent => Err(DropCause::Silent),
            State::Up => self.channels[i].transmit(now, frame_len),
        };
        match result {
            Ok(arrive_at) => {
                stats.accepted += 1;
                Outcome::Deliver(Delivery {
                    arrive_at,
                    epoch: self.epoch[i],
                })
            }
            Err(cause) => {
                match cause {
                    DropCause::Down => stats.dropped_down += 1,
                    DropCause::Loss => stats.dropped_loss += 1,
                    DropCause::QueueFull => stats.dropped_queue += 1,
                    DropCause::Silent => stats.dropped_silent += 1,
                }
                Outcome::Drop(cause)
            }
        }
    }

    /// Whether a frame accepted earlier in `dir` really arrives: the direction is up now and
    /// has not been down or silent since the frame was sent. Call it when the arrival fires.
    pub fn survives(&mut self, dir: Direction, delivery: &Delivery) -> bool {
        let i = dir.index();
        let ok = self.state(dir) == State::Up && self.epoch[i] == delivery.epoch;
        if !ok {
            self.stats[i].lost_in_flight += 1;
        }
        ok
    }

    /// Carrier lost at `now`: both directions stop, queues are flushed, frames in flight are
    /// lost, and both endpoints are told at once. `None` if the link was already down.
    pub fn set_down(&mut self, now: Instant) -> Option<[CarrierChange; 2]> {
        if !self.carrier {
            return None;
        }
        self.carrier = false;
        for i in 0..2 {
            self.epoch[i] = self.epoch[i].wrapping_add(1);
            self.channels[i].reset(now);
        }
        Some(Self::notices(now, false))
    }

    /// Carrier back at `now`; both endpoints are told. Silence set per direction stays as it
    /// was. `None` if the link was already up.
    pub fn set_up(&mut self, now: Instant) -> Option<[CarrierChange; 2]> {
        if self.carrier {
            return None;
        }
        self.carrier = true;
        Some(Self::notices(now, true))
    }

    /// Makes one direction silent (frames vanish, nobody is told) or clears it. Frames in
    /// flight in that direction are lost when it becomes silent. Returns nothing to notify,
    /// by definition.
    pub fn set_silent(&mut self, dir: Direction, silent: bool) {
        let i = dir.index();
        if silent && !self.silent[i] {
            self.epoch[i] = self.epoch[i].wrapping_add(1);
        }
        self.silent[i] = silent;
    }

    const fn notices(at: Instant, up: bool) -> [CarrierChange; 2] {
        [
            CarrierChange {
                end: End::A,
                at,
                up,
            },
            CarrierChange {
                end: End::B,
                at,
                up,
            },
        ]
    }
}

#[cfg(test)]
mod tests;
