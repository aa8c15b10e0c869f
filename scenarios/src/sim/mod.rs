//! The simulation runtime: instantiates a topology as speakers, links and TCP connections in
//! the `sim-core` engine, runs the fault timeline, and measures what users measure.
//!
//! # Layout
//!
//! - [`dataplane`]: per-router forwarding, per-flow ECMP, exact outage intervals and probes.
//! - [`net`]: TCP connections and datagrams carried hop by hop over session paths.
//! - `router`: one topology router as a running `bgp::speaker::Speaker`.
//! - [`tap`]: what the world reports to a capture (frames, received bytes, FSM transitions).
//! - [`recorder`]: the tap as pcapng and MRT files (`holdtime run --pcap/--mrt`), written
//!   with the codecs of [`crate::capture`].
//! - `wire`: BGP messages counted as they first leave the sender, for the report.
//! - `world`: the scenario instantiated in one engine: the event loop and the fork.
//! - `forwarding`: the topology as a [`dataplane::Plane`] (endpoints, pseudo routers).
//! - `azure`: Azure's gates, the ExpressRoute gateway's programming, the VPN gateway.
//! - `faults`: each fault kind's effect and its undoing.
//! - `measure`: the measurement model, the only code that computes what a report says.
//! - [`RunError`]: why a run did not produce a report.

pub(crate) mod azure;
pub mod dataplane;
pub(crate) mod faults;
pub(crate) mod forwarding;
pub(crate) mod install;
pub(crate) mod measure;
pub mod net;
pub mod recorder;
pub(crate) mod router;
pub mod tap;
pub(crate) mod wire;
pub(crate) mod world;

/// Why a run did not produce a report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The topology could not be instantiated (a session path that does not chain, a router
    /// configuration the BGP speaker refuses). Validation should have caught it first.
    #[error("cannot build the simulated network: {0}")]
    Model(String),
}

/// A part of the world that a snapshot does not carry (the trace writer, the capture sink):
/// its clone is empty, so every other part of the world derives `Clone` and a snapshot at
/// the fork is a plain clone.
pub(crate) struct Detached<T>(pub(crate) Option<T>);

impl<T> Clone for Detached<T> {
    fn clone(&self) -> Self {
        Self(None)
    }
}
