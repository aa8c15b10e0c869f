//! A path: the attributes one source announced for a set of prefixes, after import policy.
//!
//! One `Arc<Path>` is built per UPDATE (per source and attribute set) and shared by every
//! prefix the UPDATE carried, so a full table costs a pointer per prefix, not a copy of the
//! attributes.

use std::net::IpAddr;

use super::PeerId;
use super::decision::{Rank, Ranked};
use super::loc_rib::FibHop;

/// One source's route attributes as used by the Loc-RIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// Where the path came from.
    pub source: PeerId,
    /// The NEXT_HOP packets are forwarded to.
    pub next_hop: IpAddr,
    /// The decision-process summary.
    pub rank: Rank,
    /// The AS numbers of the AS_PATH, flattened (for the strict multipath rule).
    pub as_path: Vec<u32>,
}

impl Path {
    /// The forwarding next hop this path contributes.
    #[must_use]
    pub fn fib_hop(&self) -> FibHop {
        FibHop { peer: self.source, next_hop: self.next_hop }
    }
}

impl Ranked for std::sync::Arc<Path> {
    fn rank(&self) -> &Rank {
        &self.rank
    }

    fn same_as_path(&self, other: &Self) -> bool {
        self.as_path == other.as_path
    }
}
