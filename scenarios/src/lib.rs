//! # scenarios: the hybrid-network model and the `holdtime` command line
//!
//! Not built yet: the model, scenario files and `holdtime run` arrive with the scenarios issue.
#![warn(missing_docs)]

pub mod sim;
