//! Import and export policy: the route-map actions that holdtime's scenarios need.
//!
//! Import policy runs on every route received from a peer before it enters the Adj-RIB-In
//! (RFC 4271 §9.1.1, Phase 1: "the local speaker ... calculates the degree of preference");
//! export policy runs on the best path before it enters a peer's Adj-RIB-Out (§9.1.3, Phase 3).
//! Both are data (serde), evaluated in a fixed order documented on each field.
//!
//! Private AS removal follows RFC 6996 §5 ("private use ASNs ... SHOULD be stripped from the
//! AS_PATH ... before the route is propagated outside") and what Azure does on Microsoft
//! peering (private ASNs are stripped from the AS path). Every private ASN is removed, wherever
//! it stands (Cisco's `remove-private-as all`); segments left empty disappear.

use serde::{Deserialize, Serialize};

use super::prefix_list::PrefixList;
use crate::wire::{AsPath, AsSegment, Asn, AsnList};

/// What happens to routes received from a peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportPolicy {
    /// Only prefixes the list permits are accepted; `None` accepts all.
    pub prefix_list: Option<PrefixList>,
    /// Overrides the degree of preference (LOCAL_PREF) of accepted routes.
    pub set_local_pref: Option<u32>,
    /// Overrides MULTI_EXIT_DISC of accepted routes.
    pub set_med: Option<u32>,
    /// Sets the local weight of accepted routes (default 0).
    pub set_weight: Option<u32>,
    /// Strips private ASNs from the received AS_PATH (the MSEE's behaviour on Microsoft
    /// peering).
    pub remove_private_as: bool,
}

/// What happens to routes advertised to a peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportPolicy {
    /// Only prefixes the list permits are advertised; `None` advertises all.
    pub prefix_list: Option<PrefixList>,
    /// Extra copies of the local AS prepended for external peers, on top of the one RFC 4271
    /// §5.1.2 requires (AS-path prepending to make this path less preferred).
    pub prepend: u8,
    /// Sets MULTI_EXIT_DISC on advertised routes.
    pub set_med: Option<u32>,
    /// Sets LOCAL_PREF on routes advertised to internal peers.
    pub set_local_pref: Option<u32>,
    /// Advertises this speaker's address as NEXT_HOP to internal peers too.
    pub next_hop_self: bool,
    /// Strips private ASNs from the AS_PATH before prepending the local AS.
    pub remove_private_as: bool,
}

/// Whether `asn` is reserved for private use (RFC 6996 §5: 64512–65534 and
/// 4200000000–4294967294).
#[must_use]
pub const fn is_private_asn(asn: Asn) -> bool {
    matches!(asn.0, 64_512..=65_534 | 4_200_000_000..=4_294_967_294)
}

/// `path` without private ASNs; segments left empty are dropped.
#[must_use]
pub fn remove_private_asns(path: &AsPath) -> AsPath {
    let segments = path
        .segments
        .iter()
        .filter_map(|s| {
            let asns: AsnList = s
                .asns
                .iter()
                .copied()
                .filter(|a| !is_private_asn(*a))
                .collect();
            (!asns.is_empty()).then_some(AsSegment { kind: s.kind, asns })
        })
        .collect();
    AsPath { segments }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(asns: &[u32]) -> AsPath {
        AsPath::from_sequence(asns.iter().copied().map(Asn).collect())
    }

    #[test]
    fn private_asn_ranges_follow_rfc6996() {
        assert!(!is_private_asn(Asn(64_511)));
        assert!(is_private_asn(Asn(64_512)));
        assert!(is_private_asn(Asn(65_534)));
        assert!(!is_private_asn(Asn(65_535)));
        assert!(!is_private_asn(Asn(12_076)));
        assert!(is_private_asn(Asn(4_200_000_000)));
        assert!(!is_private_asn(Asn(4_294_967_295)));
    }

    #[test]
    fn removes_every_private_asn_and_empty_segments() {
        let mut path = seq(&[65_001, 12_076, 65_002, 3_356]);
        path.segments.push(AsSegment::set(vec![Asn(64_600)]));
        assert_eq!(remove_private_asns(&path), seq(&[12_076, 3_356]));
        assert_eq!(remove_private_asns(&seq(&[65_010])), AsPath::default());
    }
}
