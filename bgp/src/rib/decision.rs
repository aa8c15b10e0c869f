//! The BGP decision process: RFC 4271 §9.1.2 phase 2 plus the vendor and RFC 4456 steps.
//!
//! Every candidate route is summarised by a [`Rank`], computed once when the route is imported
//! (after import policy), so that selecting the best path never re-parses attributes. Selection
//! follows the RFC's *elimination* formulation ("remove from consideration all routes that are
//! not tied for ...") instead of a pairwise comparator: the MED step only compares routes from
//! the same neighbour AS, which makes any pairwise comparison non-transitive and the result
//! dependent on arrival order. Elimination over the whole candidate set is order-independent,
//! which the property tests check.
//!
//! # Steps, in order
//!
//! 0. Highest **weight** (a local, vendor attribute: Cisco IOS and FRR apply it before
//!    everything else; it never leaves the router).
//! 1. Highest **degree of preference**, i.e. LOCAL_PREF (RFC 4271 §9.1.1, §9.1.2.1).
//! 2. Shortest **AS_PATH** (RFC 4271 §9.1.2.2 a: "an AS_SET counts as 1, no matter how many ASes
//!    are in the set").
//! 3. Lowest **ORIGIN** (§9.1.2.2 b: IGP < EGP < INCOMPLETE).
//! 4. Lowest **MED** among routes from the same neighbour AS (§9.1.2.2 c: "MULTI_EXIT_DISC is
//!    only comparable between routes learned from the same neighboring AS"), or among all
//!    routes with [`DecisionConfig::always_compare_med`].
//! 5. **eBGP over iBGP** (§9.1.2.2 d: "If at least one of the candidate routes was received via
//!    EBGP, remove from consideration all routes that were received via IBGP").
//! 6. Lowest **IGP cost** to the NEXT_HOP (§9.1.2.2 e).
//! 7. Lowest **BGP Identifier**, where ORIGINATOR_ID stands in for it (§9.1.2.2 f; RFC 4456 §9:
//!    "the ORIGINATOR_ID SHOULD be treated as the BGP Identifier of the BGP speaker that has
//!    advertised the route").
//! 8. Shortest **CLUSTER_LIST** (RFC 4456 §9: "the route with the shorter CLUSTER_LIST length
//!    is preferred").
//! 9. Lowest **peer address** (§9.1.2.2 g: "Prefer the route received from the lowest peer
//!    address").
//!
//! Steps 7–9 are plain "lowest value wins" rules, hence transitive: after step 6 the survivors
//! are sorted by `(bgp_id, cluster_list_len, peer_addr, source)` and the first one is the best.
//!
//! # Multipath (ECMP)
//!
//! FRR's rule (documented for Quagga/FRR bgpd as the "multi-path check", step 9 of its decision
//! process): routes still tied after the IGP-cost step are *equal* when they came from eBGP
//! neighbours in the same AS, or via iBGP with identical AS_PATHs; with
//! [`Multipath::as_path_relax`] (`bgp bestpath as-path multipath-relax`) every route tied after
//! the IGP step is equal. The set is the best path followed by the equal paths in the order of
//! steps 7–9, truncated to [`Multipath::max_paths`]; so it is fully determined by the candidate
//! set, never by arrival order. FRR's "already-selected external" check (prefer the oldest eBGP
//! route) is deliberately not implemented: it makes the outcome depend on history.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// The decision-relevant facts about one candidate route, computed once at import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rank {
    /// Local weight (higher wins); 0 for learned routes unless policy sets it.
    pub weight: u32,
    /// Degree of preference: LOCAL_PREF for iBGP, the configured default otherwise (higher wins).
    pub local_pref: u32,
    /// AS_PATH length with each AS_SET counted as 1 and confederation segments as 0.
    pub as_path_len: u32,
    /// ORIGIN code: 0 IGP, 1 EGP, 2 INCOMPLETE (lower wins).
    pub origin: u8,
    /// MULTI_EXIT_DISC; a route without one counts as 0 (RFC 4271 §9.1.2.2 c).
    pub med: u32,
    /// The neighbour AS for the MED step (RFC 4271 §9.1.2.2 c `neighborAS(n)`).
    pub neighbor_as: u32,
    /// Learned over eBGP (or originated locally).
    pub ebgp: bool,
    /// IGP cost to the NEXT_HOP (lower wins).
    pub igp_cost: u32,
    /// ORIGINATOR_ID if present, else the advertising peer's BGP Identifier (lower wins).
    pub bgp_id: Ipv4Addr,
    /// Number of entries in CLUSTER_LIST, 0 without one (lower wins).
    pub cluster_list_len: u32,
    /// Address of the peer the route came from (lower wins).
    pub peer_addr: IpAddr,
    /// A total tie-breaker that distinguishes sources with equal addresses (the source's id).
    pub source: u32,
}

/// Knobs of the decision process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionConfig {
    /// Compare MED between routes from different neighbour ASes (`bgp always-compare-med`).
    pub always_compare_med: bool,
    /// Multipath (ECMP) settings.
    pub multipath: Multipath,
}

/// ECMP settings: how many equal paths go to the FIB and which paths count as equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Multipath {
    /// Maximum number of paths installed per prefix (`maximum-paths`); 1 disables ECMP.
    /// A value of 0 is treated as 1.
    pub max_paths: u8,
    /// Treat routes with different AS_PATHs of equal length as equal
    /// (`bgp bestpath as-path multipath-relax`).
    pub as_path_relax: bool,
}

impl Default for Multipath {
    fn default() -> Self {
        Self {
            max_paths: 1,
            as_path_relax: false,
        }
    }
}

/// A candidate route as the decision process sees it.
pub trait Ranked {
    /// The precomputed rank.
    fn rank(&self) -> &Rank;
    /// Whether the two routes carry identical AS_PATHs (for the strict multipath rule).
    fn same_as_path(&self, other: &Self) -> bool;
}

/// Order of steps 7–9 (and the final source tie-break): `Less` means `a` is preferred.
fn tail_order(a: &Rank, b: &Rank) -> Ordering {
    a.bgp_id
        .cmp(&b.bgp_id)
        .then(a.cluster_list_len.cmp(&b.cluster_list_len))
        .then(a.peer_addr.cmp(&b.peer_addr))
        .then(a.source.cmp(&b.source))
}

/// Keep only the survivors for which `key` equals the best (by `better`) value among them.
fn retain_best<T: Ranked, K: Copy + Ord>(
    cands: &[T],
    survivors: &mut SmallVec<[usize; 8]>,
    key: impl Fn(&Rank) -> K,
    higher_wins: bool,
) {
    let keys = survivors.iter().map(|&i| key(cands[i].rank()));
    let best = if higher_wins { keys.max() } else { keys.min() };
    if let Some(best) = best {
        survivors.retain(|i| key(cands[*i].rank()) == best);
    }
}

/// Runs the decision process over `cands` and moves the selected paths to the front.
///
/// Returns the number of selected paths `n` (0 only when `cands` is empty): `cands[0]` is the
/// best path and `cands[..n]` the multipath set in preference order. The remaining candidates
/// keep their relative order. The result depends only on the set of candidates, not on their
/// order in `cands`.
pub fn select<T: Ranked>(cands: &mut [T], config: &DecisionConfig) -> usize {
    match cands.len() {
        0 => return 0,
        1 => return 1,
        _ => {}
    }
    // Index lists stay inline up to 8 candidates: selecting among the few paths a prefix
    // usually has does not allocate.
    let mut survivors: SmallVec<[usize; 8]> = (0..cands.len()).collect();
    // Step 0: weight (vendor), step 1: degree of preference (RFC 4271 §9.1.1 / §9.1.2.1).
    retain_best(cands, &mut survivors, |r| r.weight, true);
    retain_best(cands, &mut survivors, |r| r.local_pref, true);
    // §9.1.2.2 a: shortest AS_PATH, an AS_SET counting 1.
    retain_best(cands, &mut survivors, |r| r.as_path_len, false);
    // §9.1.2.2 b: lowest ORIGIN.
    retain_best(cands, &mut survivors, |r| r.origin, false);
    // §9.1.2.2 c: lowest MED, only among routes from the same neighbour AS.
    if config.always_compare_med {
        retain_best(cands, &mut survivors, |r| r.med, false);
    } else {
        let snapshot = survivors.clone();
        survivors.retain(|i| {
            let r = cands[*i].rank();
            snapshot.iter().all(|&j| {
                let o = cands[j].rank();
                o.neighbor_as != r.neighbor_as || o.med >= r.med
            })
        });
    }
    // §9.1.2.2 d: eBGP over iBGP.
    retain_best(cands, &mut survivors, |r| r.ebgp, true);
    // §9.1.2.2 e: lowest interior cost to the NEXT_HOP.
    retain_best(cands, &mut survivors, |r| r.igp_cost, false);
    // Steps f, RFC 4456 §9 and g are transitive: sort the tied routes by them.
    survivors.sort_by(|&a, &b| tail_order(cands[a].rank(), cands[b].rank()));
    let Some(&best) = survivors.first() else {
        // Unreachable: every step keeps at least one survivor of a non-empty set.
        return 0;
    };
    let max = usize::from(config.multipath.max_paths.max(1));
    let mut chosen: SmallVec<[usize; 8]> = SmallVec::new();
    chosen.push(best);
    for &i in survivors.iter().skip(1) {
        if chosen.len() >= max {
            break;
        }
        if multipath_equal(&cands[best], &cands[i], config.multipath.as_path_relax) {
            chosen.push(i);
        }
    }
    reorder_front(cands, &chosen);
    chosen.len()
}

/// FRR's multipath equality for two routes already tied through the IGP-cost step.
fn multipath_equal<T: Ranked>(best: &T, other: &T, relax: bool) -> bool {
    if relax {
        return true;
    }
    let (b, o) = (best.rank(), other.rank());
    if b.ebgp && o.ebgp {
        b.neighbor_as == o.neighbor_as
    } else {
        best.same_as_path(other)
    }
}

/// Moves `cands[front[k]]` to position `k`, keeping the others in relative order.
fn reorder_front<T>(cands: &mut [T], front: &[usize]) {
    // Build the permutation: chosen first, then the rest in original order.
    let mut order: SmallVec<[usize; 8]> = front.iter().copied().collect();
    order.extend((0..cands.len()).filter(|i| !front.contains(i)));
    // Apply the permutation in place by following cycles: position k receives cands[order[k]].
    let mut done: SmallVec<[bool; 8]> = smallvec::smallvec![false; cands.len()];
    for start in 0..cands.len() {
        if done[start] {
            continue;
        }
        let mut k = start;
        loop {
            done[k] = true;
            let src = order[k];
            if src == start {
                break;
            }
            cands.swap(k, src);
            k = src;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Cand {
        rank: Rank,
        as_path: Vec<u32>,
    }

    impl Ranked for Cand {
        fn rank(&self) -> &Rank {
            &self.rank
        }
        fn same_as_path(&self, other: &Self) -> bool {
            self.as_path == other.as_path
        }
    }

    /// A neutral route from source `id`.
    fn rank(id: u32) -> Rank {
        Rank {
            weight: 0,
            local_pref: 100,
            as_path_len: 2,
            origin: 0,
            med: 0,
            neighbor_as: 65001,
            ebgp: true,
            igp_cost: 0,
            bgp_id: Ipv4Addr::new(10, 0, 0, 1),
            cluster_list_len: 0,
            peer_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            source: id,
        }
    }

    /// A route that wins every step after the one under test (lowest id, address, ...).
    fn strong_tail(id: u32) -> Rank {
        Rank {
            bgp_id: Ipv4Addr::new(1, 1, 1, 1),
            peer_addr: IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1)),
            cluster_list_len: 0,
            igp_cost: 0,
            ..rank(id)
        }
    }

    /// A route that loses every tail step.
    fn weak_tail(id: u32) -> Rank {
        Rank {
            bgp_id: Ipv4Addr::new(200, 0, 0, 1),
            peer_addr: IpAddr::V4(Ipv4Addr::new(200, 0, 0, 1)),
            cluster_list_len: 5,
            ..rank(id)
        }
    }

    fn cand(rank: Rank) -> Cand {
        Cand {
            rank,
            as_path: vec![rank.neighbor_as; rank.as_path_len as usize],
        }
    }

    /// The source id of the best path, checked in both arrival orders.
    fn best(a: Rank, b: Rank, config: &DecisionConfig) -> u32 {
        let mut one = [cand(a), cand(b)];
        let mut two = [cand(b), cand(a)];
        assert_eq!(select(&mut one, config), 1);
        assert_eq!(select(&mut two, config), 1);
        assert_eq!(
            one[0].rank.source, two[0].rank.source,
            "arrival order changed the result"
        );
        one[0].rank.source
    }

    fn default_best(a: Rank, b: Rank) -> u32 {
        best(a, b, &DecisionConfig::default())
    }

    // Step 0 (vendor weight, applied before LOCAL_PREF as Cisco IOS and FRR do).
    #[test]
    fn prefers_higher_weight() {
        let a = Rank {
            weight: 10,
            local_pref: 50,
            ..weak_tail(1)
        };
        let b = Rank {
            weight: 0,
            local_pref: 500,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 1);
        let a = Rank { weight: 0, ..a };
        let b = Rank {
            weight: 10,
            local_pref: 50,
            ..b
        };
        assert_eq!(default_best(a, b), 2);
    }

    // RFC 4271 §9.1.2.1 / §9.1.1: highest degree of preference (LOCAL_PREF).
    #[test]
    fn prefers_higher_local_pref() {
        let a = Rank {
            local_pref: 200,
            as_path_len: 9,
            ..weak_tail(1)
        };
        let b = Rank {
            local_pref: 100,
            as_path_len: 1,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 1);
        assert_eq!(
            default_best(
                Rank {
                    local_pref: 100,
                    ..a
                },
                Rank {
                    local_pref: 200,
                    ..b
                }
            ),
            2
        );
    }

    // RFC 4271 §9.1.2.2 a: smallest number of ASes in AS_PATH.
    #[test]
    fn prefers_shorter_as_path() {
        let a = Rank {
            as_path_len: 1,
            origin: 2,
            ..weak_tail(1)
        };
        let b = Rank {
            as_path_len: 3,
            origin: 0,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 1);
        assert_eq!(
            default_best(
                Rank {
                    as_path_len: 4,
                    ..a
                },
                b
            ),
            2
        );
    }

    // RFC 4271 §9.1.2.2 b: lowest ORIGIN (IGP < EGP < INCOMPLETE).
    #[test]
    fn prefers_lower_origin() {
        let a = Rank {
            origin: 0,
            med: 500,
            ..weak_tail(1)
        };
        let b = Rank {
            origin: 2,
            med: 0,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 1);
        assert_eq!(
            default_best(Rank { origin: 1, ..a }, Rank { origin: 0, ..b }),
            2
        );
    }

    // RFC 4271 §9.1.2.2 c: lowest MED between routes from the same neighbour AS.
    #[test]
    fn prefers_lower_med_same_neighbor_as() {
        let a = Rank {
            med: 10,
            ebgp: false,
            ..weak_tail(1)
        };
        let b = Rank {
            med: 20,
            ebgp: true,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 1);
        assert_eq!(default_best(Rank { med: 30, ..a }, b), 2);
    }

    // RFC 4271 §9.1.2.2 c: "MULTI_EXIT_DISC is only comparable between routes learned from the
    // same neighboring AS"; always-compare-med lifts that.
    #[test]
    fn ignores_med_across_neighbor_as_unless_always_compare() {
        let a = Rank {
            med: 10,
            neighbor_as: 65001,
            ..weak_tail(1)
        };
        let b = Rank {
            med: 20,
            neighbor_as: 65002,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 2, "MED ignored: tail steps decide");
        let always = DecisionConfig {
            always_compare_med: true,
            ..DecisionConfig::default()
        };
        assert_eq!(best(a, b, &always), 1);
        assert_eq!(best(Rank { med: 30, ..a }, b, &always), 2);
    }

    // RFC 4271 §9.1.2.2 d: eBGP over iBGP.
    #[test]
    fn prefers_ebgp_over_ibgp() {
        let a = Rank {
            ebgp: true,
            igp_cost: 100,
            ..weak_tail(1)
        };
        let b = Rank {
            ebgp: false,
            igp_cost: 0,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 1);
        assert_eq!(
            default_best(Rank { ebgp: false, ..a }, Rank { ebgp: true, ..b }),
            2
        );
    }

    // RFC 4271 §9.1.2.2 e: lowest interior cost to the NEXT_HOP.
    #[test]
    fn prefers_lower_igp_cost() {
        let a = Rank {
            igp_cost: 5,
            ..weak_tail(1)
        };
        let b = Rank {
            igp_cost: 10,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 1);
        assert_eq!(default_best(Rank { igp_cost: 20, ..a }, b), 2);
    }

    // RFC 4271 §9.1.2.2 f, with ORIGINATOR_ID standing in for the BGP Identifier (RFC 4456 §9).
    #[test]
    fn prefers_lower_bgp_identifier() {
        let a = Rank {
            bgp_id: Ipv4Addr::new(10, 0, 0, 1),
            cluster_list_len: 4,
            ..weak_tail(1)
        };
        let b = Rank {
            bgp_id: Ipv4Addr::new(10, 0, 0, 2),
            cluster_list_len: 0,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 1);
        assert_eq!(
            default_best(
                Rank {
                    bgp_id: Ipv4Addr::new(10, 0, 0, 3),
                    ..a
                },
                b
            ),
            2
        );
    }

    // RFC 4456 §9: "the route with the shorter CLUSTER_LIST length is preferred".
    #[test]
    fn prefers_shorter_cluster_list() {
        let id = Ipv4Addr::new(10, 0, 0, 9);
        let a = Rank {
            bgp_id: id,
            cluster_list_len: 1,
            ..weak_tail(1)
        };
        let b = Rank {
            bgp_id: id,
            cluster_list_len: 2,
            ..strong_tail(2)
        };
        assert_eq!(default_best(a, b), 1);
        assert_eq!(
            default_best(
                Rank {
                    cluster_list_len: 3,
                    ..a
                },
                b
            ),
            2
        );
    }

    // RFC 4271 §9.1.2.2 g: lowest peer address.
    #[test]
    fn prefers_lower_peer_address() {
        let a = Rank {
            peer_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            ..rank(1)
        };
        let b = Rank {
            peer_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            ..rank(2)
        };
        assert_eq!(default_best(a, b), 1);
        let a = Rank {
            peer_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 3)),
            ..a
        };
        assert_eq!(default_best(a, b), 2);
    }

    #[test]
    fn multipath_selects_routes_equal_through_igp_cost() {
        let config = DecisionConfig {
            multipath: Multipath {
                max_paths: 4,
                as_path_relax: false,
            },
            ..DecisionConfig::default()
        };
        let mut cands = vec![
            cand(Rank {
                igp_cost: 10,
                ..rank(1)
            }),
            cand(weak_tail(2)),
            cand(strong_tail(3)),
            cand(Rank {
                neighbor_as: 65009,
                ..rank(4)
            }),
        ];
        let n = select(&mut cands, &config);
        let ids: Vec<u32> = cands[..n].iter().map(|c| c.rank.source).collect();
        // 1 loses on IGP cost; 4 is from another neighbour AS (FRR's eBGP rule).
        assert_eq!(ids, vec![3, 2]);
        let relax = DecisionConfig {
            multipath: Multipath {
                max_paths: 4,
                as_path_relax: true,
            },
            ..DecisionConfig::default()
        };
        let n = select(&mut cands, &relax);
        let ids: Vec<u32> = cands[..n].iter().map(|c| c.rank.source).collect();
        assert_eq!(ids, vec![3, 4, 2]);
    }

    #[test]
    fn multipath_ibgp_requires_identical_as_path() {
        let config = DecisionConfig {
            multipath: Multipath {
                max_paths: 8,
                as_path_relax: false,
            },
            ..DecisionConfig::default()
        };
        let a = Cand {
            rank: Rank {
                ebgp: false,
                ..rank(1)
            },
            as_path: vec![1, 2],
        };
        let b = Cand {
            rank: Rank {
                ebgp: false,
                ..weak_tail(2)
            },
            as_path: vec![1, 2],
        };
        let c = Cand {
            rank: Rank {
                ebgp: false,
                ..weak_tail(3)
            },
            as_path: vec![1, 3],
        };
        let mut cands = vec![c, b, a];
        let n = select(&mut cands, &config);
        let ids: Vec<u32> = cands[..n].iter().map(|c| c.rank.source).collect();
        assert_eq!(ids, vec![1, 2]);
    }

    #[test]
    fn multipath_respects_maximum() {
        let config = DecisionConfig {
            multipath: Multipath {
                max_paths: 2,
                as_path_relax: true,
            },
            ..DecisionConfig::default()
        };
        let mut cands: Vec<Cand> = (1..=5).map(|i| cand(rank(i))).collect();
        assert_eq!(select(&mut cands, &config), 2);
        assert_eq!(cands[0].rank.source, 1);
        assert_eq!(cands[1].rank.source, 2);
        let rest: Vec<u32> = cands[2..].iter().map(|c| c.rank.source).collect();
        assert_eq!(rest, vec![3, 4, 5], "unselected keep their order");
    }

    #[test]
    fn empty_and_single_candidates() {
        let mut none: Vec<Cand> = Vec::new();
        assert_eq!(select(&mut none, &DecisionConfig::default()), 0);
        let mut one = vec![cand(rank(7))];
        assert_eq!(select(&mut one, &DecisionConfig::default()), 1);
    }

    fn arb_rank() -> impl Strategy<Value = Rank> {
        (
            (0u32..3, 0u32..3, 0u32..4, 0u8..3, 0u32..4, 65001u32..65004),
            (any::<bool>(), 0u32..3, 0u8..3, 0u32..3, 0u8..4),
        )
            .prop_map(
                |((w, lp, len, origin, med, nas), (ebgp, igp, id, cl, addr))| Rank {
                    weight: w,
                    local_pref: lp,
                    as_path_len: len,
                    origin,
                    med,
                    neighbor_as: nas,
                    ebgp,
                    igp_cost: igp,
                    bgp_id: Ipv4Addr::new(10, 0, 0, id),
                    cluster_list_len: cl,
                    peer_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, addr)),
                    source: 0,
                },
            )
    }

    proptest! {
        /// The best path and the ECMP set depend only on the set of routes, not on the order
        /// they arrived in (the MED step is evaluated over the set, RFC 4271 §9.1.2.2 c).
        #[test]
        fn selection_is_independent_of_arrival_order(
            ranks in proptest::collection::vec(arb_rank(), 1..8),
            max_paths in 1u8..4,
            relax in any::<bool>(),
            always_med in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let config = DecisionConfig {
                always_compare_med: always_med,
                multipath: Multipath { max_paths, as_path_relax: relax },
            };
            let cands: Vec<Cand> = ranks
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let source = u32::try_from(i).unwrap_or(u32::MAX);
                    let rank = Rank { source, ..*r };
                    Cand { rank, as_path: vec![r.neighbor_as; r.as_path_len as usize] }
                })
                .collect();
            let mut forward = cands.clone();
            let mut shuffled = cands;
            // A deterministic permutation derived from the seed (rotation plus reversal).
            let len = shuffled.len();
            shuffled.rotate_left(usize::try_from(seed % len as u64).unwrap_or(0));
            if seed & 1 == 1 {
                shuffled.reverse();
            }
            let n1 = select(&mut forward, &config);
            let n2 = select(&mut shuffled, &config);
            let set1: Vec<u32> = forward[..n1].iter().map(|c| c.rank.source).collect();
            let set2: Vec<u32> = shuffled[..n2].iter().map(|c| c.rank.source).collect();
            prop_assert_eq!(set1, set2);
        }

        /// Adding a route that loses at the first step never changes the best path or ECMP set.
        #[test]
        fn ecmp_set_is_stable_under_worse_routes(
            ranks in proptest::collection::vec(arb_rank(), 1..6),
        ) {
            let config = DecisionConfig {
                multipath: Multipath { max_paths: 4, as_path_relax: true },
                ..DecisionConfig::default()
            };
            let mut cands: Vec<Cand> = ranks
                .iter()
                .enumerate()
                .map(|(i, r)| cand(Rank { source: u32::try_from(i).unwrap_or(0), weight: 5, ..*r }))
                .collect();
            let n = select(&mut cands, &config);
            let before: Vec<u32> = cands[..n].iter().map(|c| c.rank.source).collect();
            cands.push(cand(Rank { weight: 0, ..strong_tail(99) }));
            let n = select(&mut cands, &config);
            let after: Vec<u32> = cands[..n].iter().map(|c| c.rank.source).collect();
            prop_assert_eq!(before, after);
        }
    }
}
