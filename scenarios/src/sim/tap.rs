//! The simulator's capture tap: what the world reports, as the run goes, to whoever records
//! it. [`super::recorder::Recorder`] implements it for `holdtime run --pcap/--mrt`.

use bgp::fsm::State;
use sim_core::time::Instant;

use super::net::{Frame, SessIx};

/// What the world reports to a capture.
///
/// Call order: any interleaving, in virtual-time order per method.
pub trait Tap {
    /// A frame at the capture point, sent by end `from` of `session`.
    fn frame(&mut self, at: Instant, session: SessIx, from: u8, frame: &Frame);
    /// In-order bytes the router at end `end` of `session` received on its connection.
    fn received(&mut self, at: Instant, session: SessIx, end: u8, bytes: &[u8]);
    /// The FSM of end `end` of `session` moved from `from` to `to`.
    fn state(&mut self, at: Instant, session: SessIx, end: u8, from: State, to: State);
}
