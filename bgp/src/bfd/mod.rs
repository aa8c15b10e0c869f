//! BFD, Bidirectional Forwarding Detection (RFC 5880), Asynchronous mode, sans-IO.
//!
//! - [`packet`]: the Control packet wire format (§4.1), decode with the §6.8.6 checks and encode.
//! - [`Session`]: one BFD session: the AdminDown/Down/Init/Up state machine with the three-way
//!   handshake (§6.2), interval negotiation, detection time, transmit jitter and Poll/Final.
//!
//! Why it is here: a silent failure inside a provider leaves interfaces up, so only the BGP hold
//! timer or BFD notice it; BFD (300 ms × 3 on the Azure MSEE) detects in about a second, and its
//! `Event::SessionDown` takes the registered BGP session down at once (`fall-over bfd`):
//! the owner passes it to `fsm::Session::handle_command(now, fsm::Command::BfdDown)`.
//! Contract: like every protocol core here, no clock, no socket, no ambient randomness.

pub mod packet;
mod session;

pub use session::{Command, Config, Event, RxError, Session};
