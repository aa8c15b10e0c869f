//! The routing information bases: Adj-RIB-In, the decision process, Loc-RIB and Adj-RIB-Out.
pub mod adj_rib_in;
pub mod decision;
pub mod loc_rib;
pub mod path;
pub mod prefix_list;

use serde::{Deserialize, Serialize};

/// Identifies a route source inside one speaker: a configured peer, or [`PeerId::LOCAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PeerId(pub u32);

impl PeerId {
    /// The speaker itself: prefixes originated by configuration.
    pub const LOCAL: Self = Self(u32::MAX);
}
