//! # sim-core: the deterministic discrete-event substrate of holdtime
//!
//! Everything here is driven by virtual time; nothing reads a wall clock or draws ambient
//! randomness (enforced by `clippy.toml`). Same inputs and seed, same trace, byte for byte.
//!
//! # Layout
//!
//! - [`time`]: integer virtual [`time::Instant`] and [`time::Duration`], human durations.
//! - [`queue`]: [`queue::EventQueue`], events ordered by `(time, insertion seq)` with O(1)
//!   cancellation through [`queue::EventId`].
//! - [`engine`]: [`engine::Engine`], the virtual clock over the queue: `schedule_*`, `cancel`,
//!   `step`, `run_until`.
//! - [`link`]: [`link::Link`], a point-to-point link with per-direction delay, jitter, loss,
//!   bandwidth and queue, and up / down (carrier, both ends told) / silent (nobody told) states;
//!   impairments are [`link::Channel`] decorators.
//! - [`rng`]: [`rng::Seed`] and independent [`rng::Stream`]s per component, with hand-written,
//!   version-stable distributions.
#![warn(missing_docs)]

pub mod engine;
pub mod link;
pub mod queue;
pub mod rng;
pub mod time;
