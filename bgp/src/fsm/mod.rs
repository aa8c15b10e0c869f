//! The BGP-4 session state machine of RFC 4271 §8, sans-IO, with the timer profiles of real
//! routers.
//!
//! - [`Session`]: one session over one TCP connection; inputs `handle_*`, outputs `poll_*`
//!   (the call order is documented on the type).
//! - [`Config`]: identity, timers, optional attributes (passive, DelayOpen, damping,
//!   maximum-prefix restart) and the capabilities to announce.
//! - [`Command`], [`Transport`] in; [`Transmit`], [`SessionEvent`] out; [`Event`] names the
//!   RFC event behind each state change; [`Negotiated`] is what the OPENs settled.
//! - [`State`], [`Timer`], [`TimerTable`]: the six states in RFC order and the timers as
//!   deadlines.
//! - [`profile`]: named timer behaviours (`rfc4271`, `bird`, `frr`, `cisco-ios`, `junos`) with
//!   their sources.
//! - [`collision`]: which of two colliding connections survives (§6.8).
//! - `testing` (feature `_test`): a two-speaker harness over an in-memory pipe.
//!
//! Contracts: a NOTIFICATION goes out on every error path while a connection is open (codec
//! errors map through `wire::Notification::from`, hold expiry is 4/0, unexpected messages are
//! RFC 6608 FSM errors, stops and limits are RFC 4486 Cease subcodes; a profile may wait for
//! its event loop's next wake-up before acting on a hold expiry, `Session::handle_wake`); a
//! state never has a
//! timer armed that it does not use ([`State::uses`]); the same configuration, seed and inputs
//! give the same outputs.

mod codec;
pub mod collision;
mod config;
mod event;
pub mod profile;
mod session;
mod state;
#[cfg(any(test, feature = "_test"))]
pub mod testing;
mod timer;

pub use config::{Config, ConfigError};
pub use event::{
    Command, Event, Negotiated, PeerGracefulRestart, SessionEvent, Transmit, Transport,
};
pub use session::{CommandError, Session};
pub use state::State;
pub use timer::{Timer, TimerTable};
