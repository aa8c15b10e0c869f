//! The simulation runtime: instantiates a topology as speakers, links and TCP connections in
//! the `sim-core` engine, runs the fault timeline, and measures what users measure.
//!
//! # Layout
//!
//! - [`dataplane`]: per-router forwarding, per-flow ECMP, exact outage intervals and probes.
//! - [`net`]: TCP connections and datagrams carried hop by hop over session paths.
//! - `router`: one topology router as a running `bgp::speaker::Speaker`.
//! - `wire`: BGP messages counted as they first leave the sender, for the report.
//! - `world`: the scenario instantiated in one engine, run, and measured.

pub mod dataplane;
pub mod net;
pub(crate) mod router;
pub(crate) mod wire;
pub(crate) mod world;
