//! Adj-RIB-In: the routes one peer advertised to us and that import policy accepted.
//!
//! RFC 4271 §3.2: "Adj-RIBs-In: The Adj-RIBs-In contains unprocessed routing information that
//! has been advertised to the local BGP speaker by its peers." This implementation keeps the
//! routes *after* import policy (the view FRR keeps without `soft-reconfiguration inbound`):
//! rejected routes are not stored, and a policy change needs a ROUTE-REFRESH. What is stored is
//! exactly what the peer contributes to the Loc-RIB, so the map doubles as the list of prefixes
//! to withdraw when the session goes down (RFC 4271 §8.2.2, §9: routes learned over a closed
//! session are no longer usable).
//!
//! It also counts accepted prefixes per address family for the max-prefix limit: the prefix
//! that would exceed the limit is refused and reported, and the owner tears the session down
//! with Cease subcode 1 (RFC 4486 §4: "Maximum Number of Prefixes Reached").

use std::collections::BTreeMap;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::path::Path;

/// Per-family limits on accepted prefixes (`neighbor ... maximum-prefix`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxPrefix {
    /// Limit for IPv4 unicast prefixes; `None` is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<u32>,
    /// Limit for IPv6 unicast prefixes; `None` is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<u32>,
}

/// The limit that a new prefix would have exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("maximum number of {family:?} prefixes ({limit}) exceeded")]
pub struct LimitExceeded {
    /// The address family of the refused prefix.
    pub family: IpFamily,
    /// The configured limit.
    pub limit: u32,
}

/// The unicast address family of a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IpFamily {
    /// IPv4 unicast.
    Ipv4,
    /// IPv6 unicast.
    Ipv6,
}

impl IpFamily {
    /// The family of `prefix`.
    #[must_use]
    pub fn of(prefix: &IpNet) -> Self {
        match prefix {
            IpNet::V4(_) => Self::Ipv4,
            IpNet::V6(_) => Self::Ipv6,
        }
    }
}

/// One peer's accepted routes, keyed by prefix.
#[derive(Debug, Clone, Default)]
pub struct AdjRibIn {
    routes: BTreeMap<IpNet, Arc<Path>>,
    limits: MaxPrefix,
    ipv4: u32,
    ipv6: u32,
}

impl AdjRibIn {
    /// An empty Adj-RIB-In enforcing `limits`.
    #[must_use]
    pub fn new(limits: MaxPrefix) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Replaces the limits (the operator changed `maximum-prefix` on a live session). What is
    /// held stays; returns the first family that now holds more prefixes than its new limit
    /// allows, so that the owner can act on the breach as if the last prefix had just arrived.
    pub fn set_limits(&mut self, limits: MaxPrefix) -> Option<LimitExceeded> {
        self.limits = limits;
        [
            (IpFamily::Ipv4, limits.ipv4, self.ipv4),
            (IpFamily::Ipv6, limits.ipv6, self.ipv6),
        ]
        .into_iter()
        .find_map(|(family, limit, count)| {
            limit
                .filter(|&l| count > l)
                .map(|limit| LimitExceeded { family, limit })
        })
    }

    /// Number of accepted prefixes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no prefix is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Accepted prefixes of `family`.
    #[must_use]
    pub fn count(&self, family: IpFamily) -> u32 {
        match family {
            IpFamily::Ipv4 => self.ipv4,
            IpFamily::Ipv6 => self.ipv6,
        }
    }

    /// The route held for `prefix`.
    #[must_use]
    pub fn get(&self, prefix: &IpNet) -> Option<&Arc<Path>> {
        self.routes.get(prefix)
    }

    /// Iterates over the routes in prefix order.
    pub fn iter(&self) -> impl Iterator<Item = (&IpNet, &Arc<Path>)> {
        self.routes.iter()
    }

    /// Stores `path` for `prefix`, replacing the previous route for it (RFC 4271 §9.1.4).
    ///
    /// # Errors
    ///
    /// [`LimitExceeded`] if `prefix` is new and its family already holds the maximum number of
    /// prefixes; nothing is stored then.
    pub fn insert(&mut self, prefix: IpNet, path: Arc<Path>) -> Result<(), LimitExceeded> {
        if let Some(slot) = self.routes.get_mut(&prefix) {
            *slot = path;
            return Ok(());
        }
        let family = IpFamily::of(&prefix);
        let limit = match family {
            IpFamily::Ipv4 => self.limits.ipv4,
            IpFamily::Ipv6 => self.limits.ipv6,
        };
        let count = self.count(family);
        if let Some(limit) = limit.filter(|&l| count >= l) {
            return Err(LimitExceeded { family, limit });
        }
        self.routes.insert(prefix, path);
        *self.counter(family) += 1;
        Ok(())
    }

    /// Removes the route for `prefix`, returning it.
    pub fn remove(&mut self, prefix: &IpNet) -> Option<Arc<Path>> {
        let removed = self.routes.remove(prefix)?;
        let counter = self.counter(IpFamily::of(prefix));
        *counter = counter.saturating_sub(1);
        Some(removed)
    }

    /// Empties the table, returning every route in prefix order (session down).
    pub fn take_all(&mut self) -> BTreeMap<IpNet, Arc<Path>> {
        self.ipv4 = 0;
        self.ipv6 = 0;
        std::mem::take(&mut self.routes)
    }

    fn counter(&mut self, family: IpFamily) -> &mut u32 {
        match family {
            IpFamily::Ipv4 => &mut self.ipv4,
            IpFamily::Ipv6 => &mut self.ipv6,
        }
    }
}
