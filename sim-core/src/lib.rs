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
//! - [`tcp`]: [`tcp::Endpoint`], a sans-IO TCP endpoint with real sequence numbers, RFC 6298
//!   retransmission timer, SYN retries and abort after `tcp_retries2`; presets
//!   [`tcp::TcpConfig::linux`] and [`tcp::TcpConfig::rfc6298`].
//! - [`trace`]: [`trace::Record`]s as JSON lines through a [`trace::Tracer`] with a running
//!   FNV-1a [`trace::TraceHash`] for cheap determinism checks.
//! - [`testing`]: [`testing::TcpPair`], two endpoints over a link in an engine: the reference
//!   driver loop, used by tests and benches.
//!
//! # How the pieces fit
//!
//! A model defines its event enum `E` and owns an [`engine::Engine<E>`]. Protocol state machines
//! (TCP here, BGP and BFD in the `bgp` crate) are sans-IO: the model feeds them inputs with
//! `now`, drains their `poll_*` outputs, sends frames over [`link::Link`]s (which answer with
//! an arrival time or a drop), schedules arrivals and timers as events, and records what
//! happened in a [`trace::Tracer`]. Every random choice draws from an [`rng::Stream`] derived
//! from the run's [`rng::Seed`].
#![warn(missing_docs)]

pub mod engine;
pub mod link;
pub mod queue;
pub mod rng;
pub mod tcp;
pub mod testing;
pub mod time;
pub mod trace;
