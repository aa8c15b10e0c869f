//! The simulation runtime: instantiates a topology as speakers, links and TCP connections in
//! the `sim-core` engine, runs the fault timeline, and measures what users measure.
//!
//! # Layout
//!
//! - [`dataplane`]: per-router forwarding, per-flow ECMP, exact outage intervals and probes.

pub mod dataplane;
pub mod net;
