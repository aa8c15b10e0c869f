//! Adj-RIB-Out: what we advertised to one peer, the changes waiting for the next batch, and
//! the export rules that turn a Loc-RIB best path into the attributes a peer receives.
//!
//! RFC 4271 §3.2: "Adj-RIBs-Out contains the information that the local BGP speaker selected
//! for advertisement to its peers." Changes of the Loc-RIB only *mark* prefixes here (a
//! `Vec` append, so a session withdrawal of a million prefixes costs a few milliseconds per
//! peer). When the owner flushes — at once for the first change, then each time the
//! MinRouteAdvertisementInterval timer of the session expires (RFC 4271 §9.2.1.1) — the marks
//! are sorted and de-duplicated, each prefix's *current* best path is exported, compared with
//! what was last advertised, and the differences are packed into as few UPDATEs as the
//! session's maximum message length allows ([`crate::wire::pack`]). Intermediate states
//! between two flushes are never sent, which is the point of MRAI.
//!
//! # Export rules (RFC 4271 §5.1, §9.1.3, §9.2; RFC 4456)
//!
//! - A path is not sent back to the peer it came from (split horizon, as FRR and BIRD do; the
//!   peer would drop it by AS-path loop detection anyway).
//! - §9.2: "When a BGP speaker receives an UPDATE message from an internal peer, the receiving
//!   BGP speaker SHALL NOT re-distribute the routing information ... to other internal peers".
//! - To external peers: AS_PATH gets the local AS prepended (§5.1.2 b), plus the policy's
//!   extra copies; NEXT_HOP becomes our address (§5.1.3); LOCAL_PREF is removed (§5.1.5: "A
//!   BGP speaker MUST NOT include this attribute in UPDATE messages it sends to external
//!   peers"); a MED learned from another AS is removed (§5.1.4: "MUST NOT be propagated to
//!   other neighboring ASes"); ORIGINATOR_ID and CLUSTER_LIST (iBGP-only, RFC 4456) are
//!   removed.
//! - To internal peers: AS_PATH unchanged (§5.1.2 a: "SHALL NOT modify the AS_PATH"); NEXT_HOP
//!   unchanged unless `next_hop_self` or locally originated (§5.1.3: "SHOULD NOT modify the
//!   NEXT_HOP attribute unless it has been explicitly configured"); LOCAL_PREF always present
//!   (§5.1.5: "MUST include this attribute in UPDATE messages it sends to internal peers").

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;

use super::PeerId;
use super::loc_rib::LocRib;
use super::path::Path;
use super::policy::{ExportPolicy, remove_private_asns};
use crate::wire::{
    AttrType, AttrValue, EncodeCtx, EncodeError, Family, MpNextHop, Nlri, PathAttributes, Update,
    pack,
};

/// The attributes advertised for a prefix, shared by every prefix of one batch that has them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Exported {
    /// Path attributes as sent (without MP_REACH_NLRI).
    pub attrs: Arc<PathAttributes>,
    /// The MP_REACH_NLRI next hop, for prefixes other than IPv4.
    pub mp_next_hop: Option<MpNextHop>,
}

/// What the export rules need to know about the receiving peer.
#[derive(Debug, Clone, Copy)]
pub struct ExportCtx<'a> {
    /// The receiving peer.
    pub peer: PeerId,
    /// Our AS.
    pub local_as: u32,
    /// The peer is in another AS.
    pub ebgp: bool,
    /// Our IPv4 address on the session (NEXT_HOP for IPv4 prefixes).
    pub local_v4: Option<Ipv4Addr>,
    /// Our IPv6 address on the session (MP_REACH_NLRI next hop for IPv6 prefixes).
    pub local_v6: Option<Ipv6Addr>,
    /// Export policy for this peer.
    pub policy: &'a ExportPolicy,
}

/// One peer's Adj-RIB-Out. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct AdjRibOut {
    advertised: BTreeMap<IpNet, Arc<Exported>>,
    /// Prefixes to re-evaluate at the next flush, unsorted, possibly repeated.
    pending: Vec<IpNet>,
}

impl AdjRibOut {
    /// Number of prefixes currently advertised.
    #[must_use]
    pub fn len(&self) -> usize {
        self.advertised.len()
    }

    /// Whether nothing is advertised.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.advertised.is_empty()
    }

    /// What was last advertised for `prefix`.
    #[must_use]
    pub fn get(&self, prefix: &IpNet) -> Option<&Arc<Exported>> {
        self.advertised.get(prefix)
    }

    /// Whether changes wait for the next flush.
    #[must_use]
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Marks `prefix` for re-evaluation at the next flush.
    pub fn mark(&mut self, prefix: IpNet) {
        self.pending.push(prefix);
    }

    /// Marks every prefix of `prefixes` (the initial advertisement of a new session).
    pub fn mark_all(&mut self, prefixes: impl IntoIterator<Item = IpNet>) {
        self.pending.extend(prefixes);
    }

    /// Marks every prefix of `prefixes`, taking the vector over when nothing is pending.
    pub fn mark_vec(&mut self, prefixes: Vec<IpNet>) {
        if self.pending.is_empty() {
            self.pending = prefixes;
        } else {
            self.pending.extend(prefixes);
        }
    }

    /// Forgets everything: the session went down (its Adj-RIB-Out is meaningless then).
    pub fn clear(&mut self) {
        self.advertised.clear();
        self.pending.clear();
    }

    /// Exports the current best paths of the marked prefixes and returns the UPDATEs that
    /// bring the peer up to date: withdrawals first, then announcements grouped by attributes
    /// in the order their first prefix sorts, each packed up to the maximum message length.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] from packing, when one set of attributes does not fit a message. The
    /// Adj-RIB-Out then already records the new state; the session should be reset.
    pub fn flush(
        &mut self,
        loc: &LocRib,
        ctx: &ExportCtx<'_>,
        enc: &EncodeCtx,
    ) -> Result<Vec<Update>, EncodeError> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable();
        pending.dedup();
        let mut withdraw_v4: Vec<Nlri> = Vec::new();
        let mut withdraw_v6: Vec<Nlri> = Vec::new();
        // Exported attributes per (path, family); keyed by the path's address for lookup only
        // (iteration order never reaches the output). Paths stay alive in `loc` meanwhile.
        let mut cache: BTreeMap<(usize, bool), Option<Arc<Exported>>> = BTreeMap::new();
        let mut groups: Vec<(Arc<Exported>, Family, Vec<Nlri>)> = Vec::new();
        // The batch a path's export joins: found by its address, else by its value, so that
        // prefixes of different paths exported alike (towards another AS the MED and
        // LOCAL_PREF are gone and the next hop is ours, §5.1) share UPDATEs, as BIRD's and
        // FRR's update groups do: a peer announcing one UPDATE per prefix costs the other
        // peers one UPDATE per batch, not one per prefix.
        let mut group_of: BTreeMap<usize, usize> = BTreeMap::new();
        #[allow(
            clippy::disallowed_types,
            reason = "lookup only: batches keep the order of their first prefix, which is sorted"
        )]
        let mut group_by_value: std::collections::HashMap<(Arc<Exported>, bool), usize> =
            std::collections::HashMap::new();
        // The last path exported and its result: consecutive prefixes often have equal
        // paths that are different allocations (prefixes originated one by one, or learned
        // in different UPDATEs with the same attributes). `export` depends on the path's
        // value only, so an equal path exports to the same result.
        let mut last: Option<(Arc<Path>, bool, Option<Arc<Exported>>)> = None;
        for prefix in pending {
            let v6 = matches!(prefix, IpNet::V6(_));
            let desired = match loc.best(&prefix) {
                None => None,
                Some(_)
                    if ctx
                        .policy
                        .prefix_list
                        .as_ref()
                        .is_some_and(|l| !l.permits(&prefix)) =>
                {
                    None
                }
                Some(best) => match &last {
                    Some((path, was_v6, exported))
                        if *was_v6 == v6 && (Arc::ptr_eq(path, best) || **path == **best) =>
                    {
                        exported.clone()
                    }
                    _ => {
                        let key = (Arc::as_ptr(best) as usize, v6);
                        let exported = cache
                            .entry(key)
                            .or_insert_with(|| export(best, v6, ctx, enc).map(Arc::new))
                            .clone();
                        last = Some((Arc::clone(best), v6, exported.clone()));
                        exported
                    }
                },
            };
            match (desired, self.advertised.get(&prefix)) {
                (None, None) => {}
                (None, Some(_)) => {
                    self.advertised.remove(&prefix);
                    (if v6 {
                        &mut withdraw_v6
                    } else {
                        &mut withdraw_v4
                    })
                    .push(Nlri::new(prefix));
                }
                (Some(want), Some(have)) if Arc::ptr_eq(&want, have) || want == *have => {}
                (Some(want), _) => {
                    let ptr = Arc::as_ptr(&want) as usize;
                    let index = *group_of.entry(ptr).or_insert_with(|| {
                        *group_by_value
                            .entry((Arc::clone(&want), v6))
                            .or_insert_with(|| {
                                let family = if v6 {
                                    Family::IPV6_UNICAST
                                } else {
                                    Family::IPV4_UNICAST
                                };
                                groups.push((Arc::clone(&want), family, Vec::new()));
                                groups.len() - 1
                            })
                    });
                    // The batch's attributes, not this path's copy: prefixes exported alike
                    // share one allocation in the Adj-RIB-Out too.
                    let shared = groups.get_mut(index).map_or(want, |group| {
                        group.2.push(Nlri::new(prefix));
                        Arc::clone(&group.0)
                    });
                    self.advertised.insert(prefix, shared);
                }
            }
        }
        let mut out = Vec::new();
        let none = Arc::new(PathAttributes::new());
        // A default route (prefix length 0) travels in an UPDATE of its own. Any packing is
        // valid (RFC 4271 §4.3), but a 0 octet next to other prefixes also parses as an
        // ADD-PATH Path Identifier and prefix (RFC 7911 §3), and decoders that guess whether
        // the capability is in use (Wireshark) then call the message malformed.
        for (family, withdrawn) in [
            (Family::IPV4_UNICAST, withdraw_v4),
            (Family::IPV6_UNICAST, withdraw_v6),
        ] {
            for part in default_apart(&withdrawn) {
                out.extend(pack(family, &part, &[], &none, None, enc)?);
            }
        }
        for (exported, family, nlri) in &groups {
            for part in default_apart(nlri) {
                out.extend(pack(
                    *family,
                    &[],
                    &part,
                    &exported.attrs,
                    exported.mp_next_hop,
                    enc,
                )?);
            }
        }
        Ok(out)
    }
}

/// `nlri` as the batches to pack: the prefixes other than a default route, then the default
/// route(s) alone; empty batches left out. Without a default route: `nlri` unchanged.
fn default_apart(nlri: &[Nlri]) -> Vec<Vec<Nlri>> {
    let (default, rest): (Vec<Nlri>, Vec<Nlri>) = nlri
        .iter()
        .copied()
        .partition(|n| n.prefix.prefix_len() == 0);
    [rest, default]
        .into_iter()
        .filter(|b| !b.is_empty())
        .collect()
}

/// The attributes `path` is advertised with to the peer of `ctx`, or `None` when the export
/// rules forbid advertising it there (see the module documentation).
#[must_use]
pub fn export(path: &Path, v6: bool, ctx: &ExportCtx<'_>, enc: &EncodeCtx) -> Option<Exported> {
    if path.source == ctx.peer {
        return None;
    }
    if !ctx.ebgp && !path.is_local() && !path.rank.ebgp {
        return None;
    }
    let mut attrs = path.attrs.for_forwarding();
    let next_hop: IpAddr = if ctx.ebgp {
        attrs.remove(AttrType::LOCAL_PREF);
        attrs.remove(AttrType::ORIGINATOR_ID);
        attrs.remove(AttrType::CLUSTER_LIST);
        if !path.is_local() {
            attrs.remove(AttrType::MULTI_EXIT_DISC);
        }
        let mut as_path = attrs.as_path().cloned().unwrap_or_default();
        if ctx.policy.remove_private_as {
            as_path = remove_private_asns(&as_path);
        }
        let copies = 1 + usize::from(ctx.policy.prepend);
        attrs.set(AttrValue::AsPath(
            as_path.prepended(crate::wire::Asn(ctx.local_as), copies),
        ));
        local_addr(ctx, v6)?
    } else {
        let lp = ctx.policy.set_local_pref.unwrap_or(path.rank.local_pref);
        attrs.set(AttrValue::LocalPref(lp));
        if ctx.policy.next_hop_self || path.is_local() {
            local_addr(ctx, v6)?
        } else {
            path.next_hop
        }
    };
    if let Some(med) = ctx.policy.set_med {
        attrs.set(AttrValue::MultiExitDisc(med));
    }
    let mp_next_hop = match (v6, next_hop) {
        (false, IpAddr::V4(nh)) => {
            attrs.set(AttrValue::NextHop(nh));
            None
        }
        (true, IpAddr::V6(nh)) => {
            attrs.remove(AttrType::NEXT_HOP);
            Some(MpNextHop::Ipv6(nh))
        }
        // A next hop of the other family would need RFC 8950; not supported.
        _ => return None,
    };
    if !enc.four_octet_as {
        attrs = attrs.for_two_octet_peer();
    }
    Some(Exported {
        attrs: Arc::new(attrs),
        mp_next_hop,
    })
}

fn local_addr(ctx: &ExportCtx<'_>, v6: bool) -> Option<IpAddr> {
    if v6 {
        ctx.local_v6.map(IpAddr::V6)
    } else {
        ctx.local_v4.map(IpAddr::V4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nlri(s: &str) -> Nlri {
        Nlri::new(s.parse().expect("prefix"))
    }

    #[test]
    fn a_default_route_is_packed_apart_from_the_other_prefixes() {
        let batches = default_apart(&[nlri("0.0.0.0/0"), nlri("10.1.0.0/16"), nlri("10.2.0.0/16")]);
        assert_eq!(
            batches,
            vec![
                vec![nlri("10.1.0.0/16"), nlri("10.2.0.0/16")],
                vec![nlri("0.0.0.0/0")]
            ]
        );
        assert_eq!(
            default_apart(&[nlri("10.1.0.0/16")]),
            vec![vec![nlri("10.1.0.0/16")]]
        );
        assert_eq!(default_apart(&[nlri("::/0")]), vec![vec![nlri("::/0")]]);
        assert!(default_apart(&[]).is_empty());
    }
}
