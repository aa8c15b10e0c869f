//! Shared helpers for holdtime's criterion benchmarks.
//!
//! - [`corpus`]: the BGP UPDATE corpus of the codec benchmark (the RIPE RIS MRT dump when
//!   present, a deterministic synthetic stand-in otherwise).

pub mod corpus;
