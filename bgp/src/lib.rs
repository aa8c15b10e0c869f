//! # bgp: a sans-IO BGP-4 speaker
//!
//! Protocol code here is a pure state machine: inputs come in through `handle_*` methods with the
//! current virtual time, outputs are drained through `poll_*` methods. It never reads a clock,
//! sleeps, spawns or touches a socket, so the simulator and the live tokio driver run exactly
//! the same code.
#![warn(missing_docs)]

pub mod bfd;
pub mod fsm;
#[cfg(feature = "tokio")]
pub mod live;
pub mod rib;
pub mod speaker;
pub mod wire;
