//! The BGP-4 session state machine of RFC 4271 §8, sans-IO, with the timer profiles of real
//! routers.
//!
//! - [`State`]: the six states in RFC order.
//! - [`Timer`], [`TimerTable`]: the session's timers as deadlines.
//! - [`profile`]: named timer behaviours (`rfc4271`, `bird`, `frr`, `cisco-ios`, `junos`) with
//!   their sources.

pub mod profile;
mod state;
mod timer;

pub use state::State;
pub use timer::{Timer, TimerTable};
