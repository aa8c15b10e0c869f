//! # sim-core: the deterministic discrete-event substrate of holdtime
//!
//! Everything here is driven by virtual time; nothing reads a wall clock or draws ambient
//! randomness (enforced by `clippy.toml`). Same inputs and seed, same trace, byte for byte.
//!
//! # Layout
//!
//! - [`time`]: integer virtual [`time::Instant`] and [`time::Duration`], human durations.
#![warn(missing_docs)]

pub mod time;
