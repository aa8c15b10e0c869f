//! The routing information bases: Adj-RIB-In, the decision process, Loc-RIB and Adj-RIB-Out.
pub mod decision;
