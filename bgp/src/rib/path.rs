//! A path: the attributes one source announced for a set of prefixes, after import policy.
//!
//! One `Arc<Path>` is built per UPDATE (per source, attribute set and next hop) and shared by
//! every prefix the UPDATE carried, so a full table costs a pointer per prefix, not a copy of
//! the attributes. The attributes themselves sit behind their own `Arc`, shared with the
//! decoded UPDATE when import policy leaves them unchanged.

use std::net::IpAddr;
use std::sync::Arc;

use super::PeerId;
use super::decision::{Rank, Ranked};
use super::loc_rib::FibHop;
use crate::wire::PathAttributes;

/// One source's route for a set of prefixes, as stored in the Adj-RIB-In and Loc-RIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// Where the path came from.
    pub source: PeerId,
    /// The NEXT_HOP (or MP_REACH_NLRI next hop) packets are forwarded to; unspecified for
    /// locally originated prefixes.
    pub next_hop: IpAddr,
    /// The decision-process summary, computed once at import.
    pub rank: Rank,
    /// The path attributes after import policy.
    pub attrs: Arc<PathAttributes>,
}

impl Path {
    /// The forwarding next hop this path contributes.
    #[must_use]
    pub fn fib_hop(&self) -> FibHop {
        FibHop {
            peer: self.source,
            next_hop: self.next_hop,
        }
    }

    /// Whether the path was originated by this speaker.
    #[must_use]
    pub fn is_local(&self) -> bool {
        self.source == PeerId::LOCAL
    }
}

impl Ranked for Arc<Path> {
    fn rank(&self) -> &Rank {
        &self.rank
    }

    fn same_as_path(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.attrs, &other.attrs) || self.attrs.as_path() == other.attrs.as_path()
    }
}
