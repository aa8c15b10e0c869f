//! # bgp: a sans-IO BGP-4 speaker
//!
//! Protocol code here is a pure state machine: inputs come in through `handle_*` methods with the
//! current virtual time, outputs are drained through `poll_*` methods. It never reads a clock,
//! sleeps, spawns or touches a socket, so the simulator and the live tokio driver run exactly
//! the same code.
//!
//! # Layout
//!
//! - [`wire`]: the codec (messages, attributes, NLRI, framing, errors to NOTIFICATION).
//! - [`fsm`]: one BGP session (RFC 4271 §8) with timer profiles of real routers.
//! - [`bfd`]: one BFD session (RFC 5880).
//! - [`rib`]: Adj-RIB-In, the decision process, Loc-RIB (FIB changes), Adj-RIB-Out, policy.
//! - [`speaker`]: the router: sessions, BFD and the RIB behind one `handle_*`/`poll_*` surface.
#![warn(missing_docs)]

pub mod bfd;
pub mod fsm;
#[cfg(feature = "tokio")]
pub mod live;
pub mod rib;
pub mod speaker;
pub mod wire;
