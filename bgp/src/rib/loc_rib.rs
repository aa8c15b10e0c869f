//! The Loc-RIB: every usable path per prefix, the selected (best and multipath) paths, and the
//! FIB changes that selection produces.
//!
//! RFC 4271 §3.2: "The Loc-RIB contains the local routing information the BGP speaker selected
//! by applying its local policies to the routing information contained in its Adj-RIBs-In."
//! Each prefix keeps all candidate paths (one per source: without ADD-PATH a peer has at most
//! one path per prefix, RFC 4271 §9.1.4 implicit replacement) so that losing the best path
//! re-runs the decision process over the rest at once.
//!
//! # Data layout and speed
//!
//! A [`BTreeMap`] keyed by prefix holds, per prefix, a `Vec` of `Arc<Path>`: the attributes of
//! one UPDATE are shared by every prefix it carried, so a path costs 8 bytes per prefix. The
//! selected paths are kept at the front of the vector (`paths[..selected]`, best first).
//! Withdrawing a whole session walks the session's prefixes in order; when the session holds a
//! large share of the table it walks the table once alongside them (a merge join, about 10 ns a
//! prefix) instead of a lookup per prefix.
//!
//! # Outputs
//!
//! Every change of the set of forwarding next hops of a prefix queues a [`FibChange`]; every
//! change of the best path queues the prefix for the Adj-RIBs-Out. Both queues are drained by
//! the owner, in the order the changes happened.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::PeerId;
use super::decision::{self, DecisionConfig};
use super::path::Path;

/// One forwarding next hop of a prefix: where the packets go and which session taught us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FibHop {
    /// The source of the path ([`PeerId::LOCAL`] for originated prefixes).
    pub peer: PeerId,
    /// The path's NEXT_HOP.
    pub next_hop: IpAddr,
}

/// A change to the forwarding table: the new set of next hops of `prefix`, best first.
///
/// An empty `next_hops` removes the prefix from the FIB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FibChange {
    /// The destination.
    pub prefix: IpNet,
    /// The selected next hops (ECMP set) in preference order; empty when unreachable. Up to
    /// two are stored inline, so the common single-path change does not allocate.
    pub next_hops: SmallVec<[FibHop; 2]>,
}

/// The candidate paths of one prefix; `paths[..selected]` is the multipath set, best first.
#[derive(Debug, Clone, Default)]
struct Entry {
    /// Two paths per prefix (dual-homed) is the common case: keep them inline.
    paths: SmallVec<[Arc<Path>; 2]>,
    selected: u8,
}

impl Entry {
    fn selected(&self) -> &[Arc<Path>] {
        self.paths.get(..usize::from(self.selected)).unwrap_or(&[])
    }

    fn best(&self) -> Option<&Arc<Path>> {
        self.selected().first()
    }
}

/// The Loc-RIB. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct LocRib {
    table: BTreeMap<IpNet, Entry>,
    config: DecisionConfig,
    /// Queued FIB changes, oldest first.
    fib_changes: VecDeque<FibChange>,
    /// Prefixes whose best path changed, oldest first (may repeat a prefix).
    best_changes: Vec<IpNet>,
    /// Scratch space for the next hops before a change (avoids an allocation per prefix).
    scratch: Vec<FibHop>,
}

impl LocRib {
    /// An empty Loc-RIB using `config` for the decision process.
    #[must_use]
    pub fn new(config: DecisionConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// The decision process settings.
    #[must_use]
    pub fn config(&self) -> &DecisionConfig {
        &self.config
    }

    /// Number of prefixes with at least one path.
    #[must_use]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the table is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The best path for `prefix`.
    #[must_use]
    pub fn best(&self, prefix: &IpNet) -> Option<&Arc<Path>> {
        self.table.get(prefix).and_then(Entry::best)
    }

    /// The selected (multipath) paths for `prefix`, best first; empty if unreachable.
    #[must_use]
    pub fn selected(&self, prefix: &IpNet) -> &[Arc<Path>] {
        self.table.get(prefix).map_or(&[], Entry::selected)
    }

    /// All candidate paths for `prefix`, the selected ones first.
    #[must_use]
    pub fn paths(&self, prefix: &IpNet) -> &[Arc<Path>] {
        self.table.get(prefix).map_or(&[], |e| e.paths.as_slice())
    }

    /// Iterates over every prefix and its best path, in prefix order.
    pub fn iter_best(&self) -> impl Iterator<Item = (&IpNet, &Arc<Path>)> {
        self.table
            .iter()
            .filter_map(|(p, e)| e.best().map(|b| (p, b)))
    }

    /// Installs `path` for `prefix`, replacing any path from the same source (RFC 4271 §9.1.4:
    /// a new route for the same destination from the same peer implicitly withdraws the old).
    pub fn insert(&mut self, prefix: IpNet, path: Arc<Path>) {
        let entry = self.table.entry(prefix).or_default();
        let source = path.source;
        let mut path = Some(path);
        let changed = Self::modify(entry, &self.config, &mut self.scratch, |paths| match paths
            .iter_mut()
            .find(|p| p.source == source)
        {
            Some(slot) => {
                if let Some(new) = path.take() {
                    *slot = new;
                }
            }
            None => paths.extend(path.take()),
        });
        Self::record(
            prefix,
            entry,
            changed,
            &mut self.fib_changes,
            &mut self.best_changes,
        );
    }

    /// Removes the path from `source` for `prefix`, if any.
    pub fn remove(&mut self, prefix: &IpNet, source: PeerId) {
        let Some(entry) = self.table.get_mut(prefix) else {
            return;
        };
        if !entry.paths.iter().any(|p| p.source == source) {
            return;
        }
        let changed = Self::modify(entry, &self.config, &mut self.scratch, |paths| {
            paths.retain(|p| p.source != source);
        });
        Self::record(
            *prefix,
            entry,
            changed,
            &mut self.fib_changes,
            &mut self.best_changes,
        );
        if entry.paths.is_empty() {
            self.table.remove(prefix);
        }
    }

    /// Removes the paths from `source` for every prefix in `prefixes`, which must be sorted
    /// ascending (as the keys of an Adj-RIB-In are). Unsorted input is still handled correctly,
    /// only more slowly.
    pub fn remove_sorted<I>(&mut self, source: PeerId, prefixes: I)
    where
        I: ExactSizeIterator<Item = IpNet>,
    {
        // A merge join costs one step per table entry, a lookup about log2(n) steps per prefix.
        let lookups = prefixes.len().saturating_mul(16);
        if lookups < self.table.len() {
            for prefix in prefixes {
                self.remove(&prefix, source);
            }
            return;
        }
        // Every prefix may change: size the output queues once instead of doubling them.
        self.fib_changes.reserve(prefixes.len());
        self.best_changes.reserve(prefixes.len());
        let mut prefixes = prefixes.peekable();
        let mut any_emptied = false;
        let mut unsorted: Vec<IpNet> = Vec::new();
        {
            let mut table = self.table.iter_mut().peekable();
            while let Some(&want) = prefixes.peek() {
                // Advance the table to the first key >= want.
                while table.peek().is_some_and(|(k, _)| **k < want) {
                    table.next();
                }
                match table.peek_mut() {
                    Some((key, entry)) if **key == want => {
                        if entry.paths.iter().any(|p| p.source == source) {
                            let changed =
                                Self::modify(entry, &self.config, &mut self.scratch, |paths| {
                                    paths.retain(|p| p.source != source);
                                });
                            Self::record(
                                want,
                                entry,
                                changed,
                                &mut self.fib_changes,
                                &mut self.best_changes,
                            );
                            any_emptied |= entry.paths.is_empty();
                        }
                        prefixes.next();
                    }
                    _ => {
                        // Not in the table (or out of order): handle it with a lookup afterwards.
                        unsorted.extend(prefixes.next());
                    }
                }
            }
        }
        if any_emptied {
            self.table.retain(|_, e| !e.paths.is_empty());
        }
        for prefix in unsorted {
            self.remove(&prefix, source);
        }
    }

    /// Takes the queued FIB changes, oldest first.
    pub fn take_fib_changes(&mut self) -> Vec<FibChange> {
        std::mem::take(&mut self.fib_changes).into()
    }

    /// The oldest queued FIB change.
    pub fn poll_fib_change(&mut self) -> Option<FibChange> {
        self.fib_changes.pop_front()
    }

    /// Takes the prefixes whose best path changed, oldest first (a prefix may repeat).
    pub fn take_best_changes(&mut self) -> Vec<IpNet> {
        std::mem::take(&mut self.best_changes)
    }

    /// Applies `edit` to the paths of `entry` and re-runs the decision process.
    ///
    /// Returns whether the best path changed and whether the forwarding next hops changed.
    fn modify(
        entry: &mut Entry,
        config: &DecisionConfig,
        scratch: &mut Vec<FibHop>,
        edit: impl FnOnce(&mut SmallVec<[Arc<Path>; 2]>),
    ) -> Changed {
        scratch.clear();
        scratch.extend(entry.selected().iter().map(|p| p.fib_hop()));
        // Identity of the old best path, compared by address without holding a reference (an
        // `Arc` clone costs two atomic operations per prefix). Sound because every path in the
        // entry after `edit` was allocated before it, so none can reuse a freed old address.
        let old_best = entry.best().map(Arc::as_ptr);
        edit(&mut entry.paths);
        let n = decision::select(&mut entry.paths, config);
        entry.selected = u8::try_from(n).unwrap_or(u8::MAX);
        let best = old_best != entry.best().map(Arc::as_ptr);
        let fib = !entry
            .selected()
            .iter()
            .map(|p| p.fib_hop())
            .eq(scratch.iter().copied());
        Changed { best, fib }
    }

    fn record(
        prefix: IpNet,
        entry: &Entry,
        changed: Changed,
        fib_changes: &mut VecDeque<FibChange>,
        best_changes: &mut Vec<IpNet>,
    ) {
        if changed.fib {
            let next_hops = entry.selected().iter().map(|p| p.fib_hop()).collect();
            fib_changes.push_back(FibChange { prefix, next_hops });
        }
        if changed.best {
            best_changes.push(prefix);
        }
    }
}

/// What one modification changed.
#[derive(Debug, Clone, Copy)]
struct Changed {
    best: bool,
    fib: bool,
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::rib::decision::{Multipath, Rank};

    fn path(source: u32, local_pref: u32) -> Arc<Path> {
        let addr = Ipv4Addr::new(192, 0, 2, u8::try_from(source % 250).unwrap_or(0));
        Arc::new(Path {
            source: PeerId(source),
            next_hop: IpAddr::V4(addr),
            rank: Rank {
                weight: 0,
                local_pref,
                as_path_len: 1,
                origin: 0,
                med: 0,
                neighbor_as: 65000,
                ebgp: true,
                igp_cost: 0,
                bgp_id: addr,
                cluster_list_len: 0,
                peer_addr: IpAddr::V4(addr),
                source,
            },
            attrs: Arc::new(crate::wire::PathAttributes::new()),
        })
    }

    fn net(i: u32) -> IpNet {
        IpNet::V4(
            ipnet::Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + (i << 8)), 24).unwrap_or_default(),
        )
    }

    fn hops(change: &FibChange) -> Vec<u32> {
        change.next_hops.iter().map(|h| h.peer.0).collect()
    }

    #[test]
    fn withdrawing_the_best_path_falls_back_and_emits_a_fib_change() {
        let mut rib = LocRib::new(DecisionConfig::default());
        rib.insert(net(1), path(1, 200));
        rib.insert(net(1), path(2, 100));
        let changes = rib.take_fib_changes();
        assert_eq!(
            changes.len(),
            1,
            "the worse second path does not touch the FIB"
        );
        assert_eq!(hops(&changes[0]), vec![1]);
        assert_eq!(rib.take_best_changes(), vec![net(1)]);

        rib.remove(&net(1), PeerId(1));
        let changes = rib.take_fib_changes();
        assert_eq!(changes.len(), 1);
        assert_eq!(hops(&changes[0]), vec![2]);
        assert_eq!(rib.best(&net(1)).map(|p| p.source), Some(PeerId(2)));

        rib.remove(&net(1), PeerId(2));
        let changes = rib.take_fib_changes();
        assert_eq!(
            changes,
            vec![FibChange {
                prefix: net(1),
                next_hops: SmallVec::new()
            }]
        );
        assert!(rib.is_empty());
    }

    #[test]
    fn removing_a_non_selected_path_changes_nothing_visible() {
        let mut rib = LocRib::new(DecisionConfig::default());
        rib.insert(net(1), path(1, 200));
        rib.insert(net(1), path(2, 100));
        let _ = rib.take_fib_changes();
        let _ = rib.take_best_changes();
        rib.remove(&net(1), PeerId(2));
        assert!(rib.take_fib_changes().is_empty());
        assert!(rib.take_best_changes().is_empty());
        assert_eq!(rib.paths(&net(1)).len(), 1);
    }

    #[test]
    fn reannouncement_replaces_the_sources_previous_path() {
        let mut rib = LocRib::new(DecisionConfig::default());
        rib.insert(net(1), path(1, 200));
        rib.insert(net(1), path(2, 150));
        rib.insert(net(1), path(1, 100));
        assert_eq!(rib.paths(&net(1)).len(), 2);
        assert_eq!(rib.best(&net(1)).map(|p| p.source), Some(PeerId(2)));
    }

    #[test]
    fn ecmp_set_change_is_a_fib_change() {
        let config = DecisionConfig {
            multipath: Multipath {
                max_paths: 4,
                as_path_relax: false,
            },
            ..DecisionConfig::default()
        };
        let mut rib = LocRib::new(config);
        rib.insert(net(1), path(1, 100));
        rib.insert(net(1), path(2, 100));
        let changes = rib.take_fib_changes();
        assert_eq!(changes.len(), 2);
        assert_eq!(hops(&changes[1]), vec![1, 2]);
        // The best path did not change when the second equal path joined.
        assert_eq!(rib.take_best_changes(), vec![net(1)]);
        rib.remove(&net(1), PeerId(2));
        let changes = rib.take_fib_changes();
        assert_eq!(hops(&changes[0]), vec![1]);
        assert!(rib.take_best_changes().is_empty());
    }

    /// The bulk path (merge join) and the lookup path give the same table and changes.
    #[test]
    fn bulk_removal_matches_point_removal() {
        let build = || {
            let mut rib = LocRib::new(DecisionConfig::default());
            for i in 0..200 {
                rib.insert(net(i), path(1, 200));
                if i % 3 != 0 {
                    rib.insert(net(i), path(2, 100));
                }
            }
            let _ = rib.take_fib_changes();
            let _ = rib.take_best_changes();
            rib
        };
        let mut bulk = build();
        // Include a prefix the table does not hold, and one out of order.
        let mut prefixes: Vec<IpNet> = (0..200).map(net).collect();
        prefixes.push(net(999));
        prefixes.push(net(5));
        bulk.remove_sorted(PeerId(1), prefixes.clone().into_iter());
        let mut point = build();
        for p in &prefixes {
            point.remove(p, PeerId(1));
        }
        assert_eq!(bulk.take_fib_changes(), point.take_fib_changes());
        assert_eq!(bulk.len(), point.len());
        assert_eq!(
            bulk.len(),
            133,
            "prefixes with only the withdrawn path are gone"
        );
        let a: Vec<_> = bulk.iter_best().map(|(p, b)| (*p, b.source)).collect();
        let b: Vec<_> = point.iter_best().map(|(p, b)| (*p, b.source)).collect();
        assert_eq!(a, b);
    }

    fn ranked_path(source: u32, lp: u32, len: u32, med: u32, nas: u32) -> Arc<Path> {
        let p = path(source, lp);
        let rank = Rank {
            as_path_len: len,
            med,
            neighbor_as: nas,
            ..p.rank
        };
        Arc::new(Path {
            rank,
            ..Path::clone(&p)
        })
    }

    proptest::proptest! {
        /// The Loc-RIB's best path and multipath set for a prefix depend only on the paths it
        /// holds, not on the order announcements and withdrawals arrived in.
        #[test]
        fn loc_rib_outcome_is_independent_of_arrival_order(
            routes in proptest::collection::vec((0u32..3, 0u32..3, 0u32..3, 65_001u32..65_003), 1..7),
            withdrawn in proptest::collection::vec(proptest::bool::ANY, 7),
            rotate in 0usize..7,
        ) {
            let config = DecisionConfig {
                multipath: Multipath { max_paths: 3, as_path_relax: false },
                ..DecisionConfig::default()
            };
            let paths: Vec<Arc<Path>> = routes
                .iter()
                .enumerate()
                .map(|(i, &(lp, len, med, nas))| {
                    ranked_path(u32::try_from(i).unwrap_or(0) + 1, lp, len, med, nas)
                })
                .collect();
            let mut forward = LocRib::new(config);
            for p in &paths {
                forward.insert(net(1), Arc::clone(p));
            }
            let mut other = LocRib::new(config);
            let mut order = paths.clone();
            let len = order.len();
            order.rotate_left(rotate % len);
            order.reverse();
            for p in &order {
                other.insert(net(1), Arc::clone(p));
            }
            for (p, w) in paths.iter().zip(&withdrawn) {
                if *w {
                    forward.remove(&net(1), p.source);
                }
            }
            for (p, w) in paths.iter().zip(&withdrawn).rev() {
                if *w {
                    other.remove(&net(1), p.source);
                }
            }
            let a: Vec<PeerId> = forward.selected(&net(1)).iter().map(|p| p.source).collect();
            let b: Vec<PeerId> = other.selected(&net(1)).iter().map(|p| p.source).collect();
            proptest::prop_assert_eq!(a, b);
        }
    }
}
