//! The routing information bases: Adj-RIB-In per peer, the decision process, the Loc-RIB with
//! its FIB changes, and Adj-RIB-Out per peer with import and export policy (RFC 4271 §3.2, §9).
//!
//! [`Rib`] ties them together and is what the speaker drives. It is sans-IO and has no timers:
//! the owner feeds it decoded UPDATEs and session up/down, drains [`RibEvent`]s (FIB changes,
//! max-prefix breaches), and pulls the UPDATEs for a peer with [`Rib::poll_updates`] whenever
//! the peer's session may advertise (at once for the first change, then when its
//! MinRouteAdvertisementInterval timer expires; the session owns that timer).
//!
//! # Contracts
//!
//! - Deterministic: every collection that is iterated is ordered (by prefix or [`PeerId`]);
//!   outputs depend only on the inputs, never on addresses or hashing.
//! - Implicit withdrawal: [`Rib::peer_down`] removes every route learned on the session
//!   (RFC 4271 §8.2.2: on a session drop the speaker "deletes all routes associated with this
//!   connection"; §9: routes from a closed session are no longer usable) and forgets the peer's
//!   Adj-RIB-Out.
//! - ADD-PATH (RFC 7911) is negotiated by the session and carried on the wire, but the RIB
//!   keeps one path per prefix and peer: a second path for the same prefix replaces the first
//!   (RFC 4271 §9.1.4 semantics) and a withdrawal removes the prefix, whatever the Path
//!   Identifier (RFC 7911 §5 would key both on prefix and identifier). Routes are sent one
//!   per prefix, with identifier 0 where ADD-PATH send is in force.
//! - Locally originated prefixes get weight 32,768, as Cisco IOS and FRR give them, so they win
//!   over learned paths at the first step.

pub mod adj_rib_in;
pub mod adj_rib_out;
pub mod decision;
pub mod loc_rib;
pub mod path;
pub mod policy;
pub mod prefix_list;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use self::adj_rib_in::{AdjRibIn, IpFamily, MaxPrefix};
use self::adj_rib_out::{AdjRibOut, ExportCtx};
use self::decision::{DecisionConfig, Rank};
use self::loc_rib::{FibChange, LocRib};
use self::path::Path;
use self::policy::{ExportPolicy, ImportPolicy, remove_private_asns};
use crate::wire::{
    AsPath, Asn, AttrType, AttrValue, EncodeCtx, EncodeError, MpNextHop, Origin, PathAttributes,
    Update,
};

/// Identifies a route source inside one speaker: a configured peer, or [`PeerId::LOCAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PeerId(pub u32);

impl PeerId {
    /// The speaker itself: prefixes originated by configuration.
    pub const LOCAL: Self = Self(u32::MAX);
}

/// The weight of locally originated prefixes (Cisco IOS and FRR use 32,768).
pub const LOCAL_WEIGHT: u32 = 32_768;

/// Speaker-wide RIB settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RibConfig {
    /// Our AS.
    pub local_as: u32,
    /// Our BGP Identifier.
    pub router_id: Ipv4Addr,
    /// Decision process knobs (always-compare-med, multipath).
    pub decision: DecisionConfig,
    /// Degree of preference for routes without LOCAL_PREF (eBGP-learned, or iBGP without the
    /// attribute); 100 on every common implementation.
    pub default_local_pref: u32,
    /// IGP cost to reach a next hop (RFC 4271 §9.1.2.2 e); unlisted next hops cost 0 (directly
    /// connected, as on the /30 of an ExpressRoute peering).
    pub igp_costs: BTreeMap<IpAddr, u32>,
}

impl RibConfig {
    /// Defaults for a speaker in `local_as` with identifier `router_id`.
    #[must_use]
    pub fn new(local_as: u32, router_id: Ipv4Addr) -> Self {
        Self {
            local_as,
            router_id,
            decision: DecisionConfig::default(),
            default_local_pref: 100,
            igp_costs: BTreeMap::new(),
        }
    }
}

/// Per-peer RIB settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerConfig {
    /// The peer's AS; equal to ours makes the peer internal.
    pub remote_as: u32,
    /// The peer's address (the last tie-breaker, RFC 4271 §9.1.2.2 g).
    pub peer_addr: IpAddr,
    /// Our IPv4 address on the session: NEXT_HOP of IPv4 routes we advertise.
    pub local_v4: Option<Ipv4Addr>,
    /// Our IPv6 address on the session: next hop of IPv6 routes we advertise.
    pub local_v6: Option<Ipv6Addr>,
    /// Policy for routes received.
    pub import: ImportPolicy,
    /// Policy for routes advertised.
    pub export: ExportPolicy,
    /// Limits on accepted prefixes.
    pub max_prefix: MaxPrefix,
}

impl PeerConfig {
    /// A peer in `remote_as` at `peer_addr`, our address `local_addr`, no policy, no limits.
    #[must_use]
    pub fn new(remote_as: u32, peer_addr: IpAddr, local_addr: IpAddr) -> Self {
        let (local_v4, local_v6) = match local_addr {
            IpAddr::V4(a) => (Some(a), None),
            IpAddr::V6(a) => (None, Some(a)),
        };
        Self {
            remote_as,
            peer_addr,
            local_v4,
            local_v6,
            import: ImportPolicy::default(),
            export: ExportPolicy::default(),
            max_prefix: MaxPrefix::default(),
        }
    }
}

/// Something the owner must act on or may report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RibEvent {
    /// The forwarding next hops of a prefix changed (empty: the prefix is gone).
    FibChanged(FibChange),
    /// A peer sent more prefixes than allowed; the owner tears the session down with Cease
    /// 6/1 (RFC 4486 §4). Reported once per session.
    MaxPrefixExceeded {
        /// The peer.
        peer: PeerId,
        /// The family whose limit was hit.
        family: IpFamily,
        /// The configured limit.
        limit: u32,
    },
}

/// Errors of the RIB's API (misuse by the owner, never caused by peer data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RibError {
    /// The peer id was already added.
    #[error("peer {0:?} is already configured")]
    DuplicatePeer(PeerId),
    /// The peer's session is not Established, so it cannot send routes.
    #[error("the session with peer {0:?} is not established")]
    NotEstablished(PeerId),
    /// No peer with this id was added (or it is [`PeerId::LOCAL`]).
    #[error("peer {0:?} is not configured")]
    UnknownPeer(PeerId),
}

/// What is known about an established session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Session {
    remote_id: Ipv4Addr,
    four_octet_as: bool,
    /// Families the session carries: `[IPv4 unicast, IPv6 unicast]`.
    families: [bool; 2],
}

impl Session {
    fn carries(&self, prefix: &IpNet) -> bool {
        match prefix {
            IpNet::V4(_) => self.families[0],
            IpNet::V6(_) => self.families[1],
        }
    }
}

#[derive(Debug, Clone)]
struct Peer {
    config: PeerConfig,
    adj_in: AdjRibIn,
    adj_out: AdjRibOut,
    /// `Some` while the session is Established.
    session: Option<Session>,
    /// The max-prefix breach of this session was reported.
    breached: bool,
    /// Routes kept from a lost session as stale (RFC 4724 §4.2), not yet replaced by the
    /// peer: every one of them is also in `adj_in`.
    stale: BTreeSet<IpNet>,
}

impl Peer {
    fn ebgp(&self, local_as: u32) -> bool {
        self.config.remote_as != local_as
    }
}

/// The RIB of one speaker. See the module documentation.
#[derive(Debug, Clone)]
pub struct Rib {
    config: RibConfig,
    loc: LocRib,
    peers: BTreeMap<PeerId, Peer>,
    /// Locally originated prefixes and their paths.
    originated: BTreeMap<IpNet, Arc<Path>>,
    events: VecDeque<RibEvent>,
}

impl Rib {
    /// An empty RIB.
    #[must_use]
    pub fn new(config: RibConfig) -> Self {
        Self {
            loc: LocRib::new(config.decision),
            config,
            peers: BTreeMap::new(),
            originated: BTreeMap::new(),
            events: VecDeque::new(),
        }
    }

    /// The speaker-wide settings.
    #[must_use]
    pub fn config(&self) -> &RibConfig {
        &self.config
    }

    /// The Loc-RIB (best paths, multipath sets).
    #[must_use]
    pub fn loc_rib(&self) -> &LocRib {
        &self.loc
    }

    /// The Adj-RIB-In of `peer`.
    #[must_use]
    pub fn adj_rib_in(&self, peer: PeerId) -> Option<&AdjRibIn> {
        self.peers.get(&peer).map(|p| &p.adj_in)
    }

    /// The Adj-RIB-Out of `peer`.
    #[must_use]
    pub fn adj_rib_out(&self, peer: PeerId) -> Option<&AdjRibOut> {
        self.peers.get(&peer).map(|p| &p.adj_out)
    }

    /// Adds a peer (its session down).
    ///
    /// # Errors
    ///
    /// [`RibError::DuplicatePeer`] if `peer` exists or is [`PeerId::LOCAL`].
    pub fn add_peer(&mut self, peer: PeerId, config: PeerConfig) -> Result<(), RibError> {
        if peer == PeerId::LOCAL || self.peers.contains_key(&peer) {
            return Err(RibError::DuplicatePeer(peer));
        }
        let adj_in = AdjRibIn::new(config.max_prefix);
        let state = Peer {
            config,
            adj_in,
            adj_out: AdjRibOut::default(),
            session: None,
            breached: false,
            stale: BTreeSet::new(),
        };
        self.peers.insert(peer, state);
        Ok(())
    }

    /// The export policy applied towards `peer`.
    #[must_use]
    pub fn export_policy(&self, peer: PeerId) -> Option<&ExportPolicy> {
        self.peers.get(&peer).map(|p| &p.config.export)
    }

    /// The max-prefix limits applied to `peer`.
    #[must_use]
    pub fn max_prefix(&self, peer: PeerId) -> Option<MaxPrefix> {
        self.peers.get(&peer).map(|p| p.config.max_prefix)
    }

    /// Changes the peer's max-prefix limits on a live session. A peer that already holds
    /// more prefixes than a new limit allows is in breach at once (the event
    /// [`RibEvent::MaxPrefixExceeded`], reported once as for a breach by an UPDATE): a
    /// router re-checks a lowered limit against what it holds (FRR does when
    /// `maximum-prefix` is reconfigured), and Azure drops a private-peering session that
    /// holds more than a lowered limit (a circuit downgraded from Premium to Standard).
    ///
    /// # Errors
    ///
    /// [`RibError::UnknownPeer`].
    pub fn set_max_prefix(&mut self, peer: PeerId, limits: MaxPrefix) -> Result<(), RibError> {
        let state = self
            .peers
            .get_mut(&peer)
            .ok_or(RibError::UnknownPeer(peer))?;
        state.config.max_prefix = limits;
        if let Some(exceeded) = state.adj_in.set_limits(limits)
            && state.session.is_some()
            && !state.breached
        {
            state.breached = true;
            self.events.push_back(RibEvent::MaxPrefixExceeded {
                peer,
                family: exceeded.family,
                limit: exceeded.limit,
            });
        }
        Ok(())
    }

    /// Replaces the export policy towards `peer` at run time and queues every best path for
    /// it again, so that the next [`Self::poll_updates`] re-advertises what the new policy
    /// changes (new attributes, or withdrawals of prefixes it now denies). This is a policy
    /// change followed by an outbound soft reset: RFC 4271 §9.2 lets a speaker advertise
    /// "any changes ... to the Adj-RIBs-Out", and RFC 2918 §1 notes that without
    /// ROUTE-REFRESH a policy change would otherwise need the session reset; the session
    /// stays up. Nothing is sent while the session is down (the next `peer_up` advertises
    /// under the new policy).
    ///
    /// # Errors
    ///
    /// [`RibError::UnknownPeer`].
    pub fn set_export_policy(
        &mut self,
        peer: PeerId,
        policy: ExportPolicy,
    ) -> Result<(), RibError> {
        let state = self
            .peers
            .get_mut(&peer)
            .ok_or(RibError::UnknownPeer(peer))?;
        state.config.export = policy;
        if let Some(session) = state.session {
            state.adj_out.mark_all(
                self.loc
                    .iter_best()
                    .map(|(p, _)| *p)
                    .filter(|p| session.carries(p)),
            );
            // Every advertised prefix has a best path (propagation withdraws the others), so
            // this also re-examines the prefixes the new policy denies.
        }
        Ok(())
    }

    /// The session with `peer` is Established: the whole Loc-RIB is queued for it (RFC 4271
    /// §9.2: the initial advertisement is the full set of exportable best paths).
    ///
    /// # Errors
    ///
    /// [`RibError::UnknownPeer`].
    pub fn peer_up(
        &mut self,
        peer: PeerId,
        remote_id: Ipv4Addr,
        four_octet_as: bool,
    ) -> Result<(), RibError> {
        self.peer_up_with_families(
            peer,
            remote_id,
            four_octet_as,
            &[IpFamily::Ipv4, IpFamily::Ipv6],
        )
    }

    /// [`Rib::peer_up`] for a session that negotiated only `families`: routes of other
    /// families are never advertised to it. RFC 4760 §8: a speaker "SHOULD use the Capability
    /// Advertisement procedures to determine whether the speaker could use Multiprotocol
    /// Extensions with a particular peer"; RFC 5492 §3: a capability not shared is not used.
    ///
    /// # Errors
    ///
    /// [`RibError::UnknownPeer`].
    pub fn peer_up_with_families(
        &mut self,
        peer: PeerId,
        remote_id: Ipv4Addr,
        four_octet_as: bool,
        families: &[IpFamily],
    ) -> Result<(), RibError> {
        let state = self
            .peers
            .get_mut(&peer)
            .ok_or(RibError::UnknownPeer(peer))?;
        let session = Session {
            remote_id,
            four_octet_as,
            families: [
                families.contains(&IpFamily::Ipv4),
                families.contains(&IpFamily::Ipv6),
            ],
        };
        state.session = Some(session);
        state.breached = false;
        state.adj_out.clear();
        state.adj_out.mark_all(
            self.loc
                .iter_best()
                .map(|(p, _)| *p)
                .filter(|p| session.carries(p)),
        );
        Ok(())
    }

    /// The session with `peer` left Established: every route learned on it is withdrawn at
    /// once (implicit withdrawal) and its Adj-RIB-Out is discarded.
    ///
    /// # Errors
    ///
    /// [`RibError::UnknownPeer`].
    pub fn peer_down(&mut self, peer: PeerId) -> Result<(), RibError> {
        let state = self
            .peers
            .get_mut(&peer)
            .ok_or(RibError::UnknownPeer(peer))?;
        state.session = None;
        state.adj_out.clear();
        state.stale.clear();
        let routes = state.adj_in.take_all();
        self.loc.remove_sorted(peer, routes.into_keys());
        self.propagate();
        Ok(())
    }

    /// The session with `peer` left Established and this speaker helps it restart (RFC 4724
    /// §4.2, the Receiving Speaker): its routes of `families` stay in the Adj-RIB-In and the
    /// Loc-RIB, marked stale, and go on being used for forwarding ("The router MUST NOT
    /// differentiate between stale and other routing information during forwarding"). Routes
    /// of other families are withdrawn as [`Self::peer_down`] does, and so are routes still
    /// stale from an earlier loss ("To deal with possible consecutive restarts, a route (from
    /// the peer) previously marked as stale MUST be deleted"). The Adj-RIB-Out is discarded.
    /// Returns how many routes are now stale.
    ///
    /// # Errors
    ///
    /// [`RibError::UnknownPeer`].
    pub fn peer_down_retaining(
        &mut self,
        peer: PeerId,
        families: &[IpFamily],
    ) -> Result<usize, RibError> {
        let state = self
            .peers
            .get_mut(&peer)
            .ok_or(RibError::UnknownPeer(peer))?;
        state.session = None;
        state.adj_out.clear();
        let previous = std::mem::take(&mut state.stale);
        let gone: Vec<IpNet> = state
            .adj_in
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| previous.contains(p) || !families.contains(&IpFamily::of(p)))
            .collect();
        for prefix in &gone {
            state.adj_in.remove(prefix);
        }
        state.stale = state.adj_in.iter().map(|(p, _)| *p).collect();
        let kept = state.stale.len();
        self.loc.remove_sorted(peer, gone.into_iter());
        self.propagate();
        Ok(kept)
    }

    /// Withdraws the routes of `peer` still stale (of `family`, or of every family when
    /// `None`): its restart time ran out, or its End-of-RIB arrived (RFC 4724 §4.2). Returns
    /// how many were withdrawn.
    ///
    /// # Errors
    ///
    /// [`RibError::UnknownPeer`].
    pub fn flush_stale(
        &mut self,
        peer: PeerId,
        family: Option<IpFamily>,
    ) -> Result<usize, RibError> {
        let state = self
            .peers
            .get_mut(&peer)
            .ok_or(RibError::UnknownPeer(peer))?;
        let gone: Vec<IpNet> = state
            .stale
            .iter()
            .copied()
            .filter(|p| family.is_none_or(|f| IpFamily::of(p) == f))
            .collect();
        for prefix in &gone {
            state.stale.remove(prefix);
            state.adj_in.remove(prefix);
        }
        let n = gone.len();
        self.loc.remove_sorted(peer, gone.into_iter());
        self.propagate();
        Ok(n)
    }

    /// How many routes of `peer` are stale (0 for an unknown peer).
    #[must_use]
    pub fn stale_count(&self, peer: PeerId) -> usize {
        self.peers.get(&peer).map_or(0, |p| p.stale.len())
    }

    /// Applies a received UPDATE: withdrawals (including RFC 7606 treat-as-withdraw), then
    /// announcements through import policy into the Adj-RIB-In and Loc-RIB.
    ///
    /// Routes whose AS_PATH holds our AS (RFC 4271 §9.1.2: "a route ... contains an AS loop ...
    /// should be excluded"), whose ORIGINATOR_ID is our identifier (RFC 4456 §8: "SHOULD ignore
    /// a route received with its BGP Identifier as the ORIGINATOR_ID"), that import policy
    /// rejects, or that lack a usable next hop are handled as withdrawals. The prefix that
    /// would exceed the max-prefix limit and all after it are dropped and the breach reported.
    ///
    /// # Errors
    ///
    /// [`RibError::UnknownPeer`] if `peer` is unknown, [`RibError::NotEstablished`] if its
    /// session is not Established.
    pub fn handle_update(&mut self, peer: PeerId, update: &Update) -> Result<(), RibError> {
        let state = self
            .peers
            .get_mut(&peer)
            .ok_or(RibError::UnknownPeer(peer))?;
        let session = state.session.ok_or(RibError::NotEstablished(peer))?;
        for nlri in update.withdrawals() {
            state.stale.remove(&nlri.prefix);
            if state.adj_in.remove(&nlri.prefix).is_some() {
                self.loc.remove(&nlri.prefix, peer);
            }
        }
        if !update.is_treat_as_withdraw() && update.announcements().next().is_some() {
            let (v4, mp) = ImportContext {
                config: &self.config,
                peer,
                session,
                state: &*state,
            }
            .paths(update);
            let reach = update
                .mp_reach
                .as_ref()
                .map_or(&[][..], |m| m.nlri.as_slice());
            let batches = [(update.nlri.as_slice(), v4.as_ref()), (reach, mp.as_ref())];
            'batches: for (nlri, path) in batches {
                for nlri in nlri {
                    if !import_prefix(
                        &mut self.loc,
                        state,
                        &mut self.events,
                        peer,
                        nlri.prefix,
                        path,
                    ) {
                        break 'batches;
                    }
                }
            }
        }
        self.propagate();
        Ok(())
    }

    /// Originates `prefix` from this speaker with `attrs` (ORIGIN IGP and an empty AS_PATH are
    /// added when missing; NEXT_HOP is set per peer at export).
    pub fn originate(&mut self, prefix: IpNet, attrs: PathAttributes) {
        self.originate_unpropagated(prefix, attrs);
        self.propagate();
    }

    /// Originates every prefix of `prefixes` as [`Self::originate`] does, marking the
    /// Adj-RIBs-Out once for all of them: the same marks (a flush sorts and de-duplicates
    /// them), without a pass over the peers per prefix.
    pub fn originate_many(&mut self, prefixes: impl IntoIterator<Item = (IpNet, PathAttributes)>) {
        for (prefix, attrs) in prefixes {
            self.originate_unpropagated(prefix, attrs);
        }
        self.propagate();
    }

    /// [`Self::originate`] without marking the Adj-RIBs-Out (the caller propagates).
    fn originate_unpropagated(&mut self, prefix: IpNet, attrs: PathAttributes) {
        let mut attrs = attrs;
        if attrs.origin().is_none() {
            attrs.set(AttrValue::Origin(Origin::Igp));
        }
        if attrs.as_path().is_none() {
            attrs.set(AttrValue::AsPath(AsPath::default()));
        }
        attrs.remove(AttrType::NEXT_HOP);
        let unspecified = match prefix {
            IpNet::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpNet::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let rank = Rank {
            weight: LOCAL_WEIGHT,
            local_pref: attrs.local_pref().unwrap_or(self.config.default_local_pref),
            as_path_len: attrs.as_path().map_or(0, path_len),
            origin: attrs.origin().map_or(2, Origin::to_u8),
            med: attrs.med().unwrap_or(0),
            neighbor_as: self.config.local_as,
            ebgp: true,
            igp_cost: 0,
            bgp_id: self.config.router_id,
            cluster_list_len: 0,
            peer_addr: unspecified,
            source: PeerId::LOCAL.0,
        };
        let path = Arc::new(Path {
            source: PeerId::LOCAL,
            next_hop: unspecified,
            rank,
            attrs: Arc::new(attrs),
        });
        self.originated.insert(prefix, Arc::clone(&path));
        self.loc.insert(prefix, path);
    }

    /// Stops originating `prefix`.
    pub fn withdraw_originated(&mut self, prefix: &IpNet) {
        if self.originated.remove(prefix).is_some() {
            self.loc.remove(prefix, PeerId::LOCAL);
            self.propagate();
        }
    }

    /// Stops originating every prefix of `prefixes`, marking the Adj-RIBs-Out once (see
    /// [`Self::originate_many`]).
    pub fn withdraw_originated_many<'p>(&mut self, prefixes: impl IntoIterator<Item = &'p IpNet>) {
        for prefix in prefixes {
            if self.originated.remove(prefix).is_some() {
                self.loc.remove(prefix, PeerId::LOCAL);
            }
        }
        self.propagate();
    }

    /// Whether changes wait to be advertised to `peer`.
    #[must_use]
    pub fn has_pending(&self, peer: PeerId) -> bool {
        self.peers
            .get(&peer)
            .is_some_and(|p| p.session.is_some() && p.adj_out.has_pending())
    }

    /// The UPDATEs that bring `peer` up to date with the Loc-RIB, packed for `enc`; empty when
    /// nothing changed or the session is down. Call it when the session may advertise (MRAI).
    ///
    /// # Errors
    ///
    /// [`EncodeError`] when an attribute set does not fit one message (see
    /// [`AdjRibOut::flush`]).
    pub fn poll_updates(
        &mut self,
        peer: PeerId,
        enc: &EncodeCtx,
    ) -> Result<Vec<Update>, EncodeError> {
        let local_as = self.config.local_as;
        let Some(state) = self.peers.get_mut(&peer).filter(|p| p.session.is_some()) else {
            return Ok(Vec::new());
        };
        let ctx = ExportCtx {
            peer,
            local_as,
            ebgp: state.ebgp(local_as),
            local_v4: state.config.local_v4,
            local_v6: state.config.local_v6,
            policy: &state.config.export,
        };
        state.adj_out.flush(&self.loc, &ctx, enc)
    }

    /// The next event: max-prefix breaches first, then FIB changes in order.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<RibEvent> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        self.loc.poll_fib_change().map(RibEvent::FibChanged)
    }

    /// Takes all queued FIB changes at once (faster than [`Self::poll_event`] for bulk).
    pub fn take_fib_changes(&mut self) -> Vec<FibChange> {
        self.loc.take_fib_changes()
    }

    /// Queues best-path changes for every established peer's Adj-RIB-Out.
    fn propagate(&mut self) {
        let changes = self.loc.take_best_changes();
        if changes.is_empty() {
            return;
        }
        let mut up: smallvec::SmallVec<[&mut Peer; 4]> = self
            .peers
            .values_mut()
            .filter(|p| p.session.is_some())
            .collect();
        // The last peer takes the list itself: a whole-table change costs no copy when only
        // one other session is up (the dual-homed case).
        if let Some(last) = up.pop() {
            for state in up {
                if let Some(session) = state.session {
                    state
                        .adj_out
                        .mark_all(changes.iter().copied().filter(|p| session.carries(p)));
                }
            }
            match last.session {
                Some(session) if session.families == [true, true] => {
                    last.adj_out.mark_vec(changes);
                }
                Some(session) => last
                    .adj_out
                    .mark_all(changes.into_iter().filter(|p| session.carries(p))),
                None => {}
            }
        }
    }
}

/// Imports one announced prefix; returns `false` once the max-prefix limit is hit.
fn import_prefix(
    loc: &mut LocRib,
    state: &mut Peer,
    events: &mut VecDeque<RibEvent>,
    peer: PeerId,
    prefix: IpNet,
    path: Option<&Arc<Path>>,
) -> bool {
    let permitted = state
        .config
        .import
        .prefix_list
        .as_ref()
        .is_none_or(|l| l.permits(&prefix));
    // RFC 4724 §4.2: "The Receiving Speaker MUST replace the stale routes by the routing
    // updates received from the peer."
    state.stale.remove(&prefix);
    let Some(path) = path.filter(|_| permitted) else {
        // Rejected by policy or unusable: withdraw what the peer sent before (RFC 4271 §9.1.4).
        if state.adj_in.remove(&prefix).is_some() {
            loc.remove(&prefix, peer);
        }
        return true;
    };
    match state.adj_in.insert(prefix, Arc::clone(path)) {
        Ok(()) => {
            loc.insert(prefix, Arc::clone(path));
            true
        }
        Err(exceeded) => {
            if !state.breached {
                state.breached = true;
                events.push_back(RibEvent::MaxPrefixExceeded {
                    peer,
                    family: exceeded.family,
                    limit: exceeded.limit,
                });
            }
            false
        }
    }
}

/// AS_PATH length for the decision process (RFC 4271 §9.1.2.2 a; AS_SET counts 1).
fn path_len(path: &AsPath) -> u32 {
    u32::try_from(path.path_len()).unwrap_or(u32::MAX)
}

/// Builds the paths of one UPDATE from one peer.
struct ImportContext<'a> {
    config: &'a RibConfig,
    peer: PeerId,
    session: Session,
    state: &'a Peer,
}

impl ImportContext<'_> {
    /// The path for the IPv4 NLRI field and the one for MP_REACH_NLRI; `None` where the route
    /// must be handled as withdrawn.
    fn paths(&self, update: &Update) -> (Option<Arc<Path>>, Option<Arc<Path>>) {
        let Some(attrs) = self.attributes(update) else {
            return (None, None);
        };
        let v4 = attrs.next_hop().map(|nh| self.path(&attrs, IpAddr::V4(nh)));
        let mp = update.mp_reach.as_ref().map(|m| {
            let nh = match m.next_hop {
                MpNextHop::Ipv4(a) => IpAddr::V4(a),
                MpNextHop::Ipv6(a) | MpNextHop::Ipv6WithLinkLocal { global: a, .. } => {
                    IpAddr::V6(a)
                }
            };
            self.path(&attrs, nh)
        });
        (v4, mp)
    }

    /// The attributes after loop checks and import policy, shared with `update` when
    /// unchanged; `None` for a looped route.
    fn attributes(&self, update: &Update) -> Option<Arc<PathAttributes>> {
        let original = &update.attributes;
        let local_as = Asn(self.config.local_as);
        let effective = original.effective_as_path(self.session.four_octet_as)?;
        if effective.contains(local_as) {
            return None;
        }
        if original.originator_id() == Some(self.config.router_id) {
            return None;
        }
        let policy = &self.state.config.import;
        let reconstructed = matches!(effective, std::borrow::Cow::Owned(_));
        if !reconstructed && !policy.remove_private_as && policy.set_med.is_none() {
            return Some(Arc::clone(original));
        }
        let mut attrs = PathAttributes::clone(original);
        let mut as_path = effective.into_owned();
        if policy.remove_private_as {
            as_path = remove_private_asns(&as_path);
        }
        attrs.set(AttrValue::AsPath(as_path));
        attrs.remove(AttrType::AS4_PATH);
        attrs.remove(AttrType::AS4_AGGREGATOR);
        if let Some(med) = policy.set_med {
            attrs.set(AttrValue::MultiExitDisc(med));
        }
        Some(Arc::new(attrs))
    }

    fn path(&self, attrs: &Arc<PathAttributes>, next_hop: IpAddr) -> Arc<Path> {
        let config = self.config;
        let peer = &self.state.config;
        let policy = &peer.import;
        let ebgp = peer.remote_as != config.local_as;
        let as_path = attrs.as_path();
        // RFC 4271 §5.1.5: LOCAL_PREF from an external peer "MUST be ignored".
        let received_lp = if ebgp { None } else { attrs.local_pref() };
        let rank = Rank {
            weight: policy.set_weight.unwrap_or(0),
            local_pref: policy
                .set_local_pref
                .or(received_lp)
                .unwrap_or(config.default_local_pref),
            as_path_len: as_path.map_or(0, path_len),
            origin: attrs.origin().map_or(2, Origin::to_u8),
            med: attrs.med().unwrap_or(0),
            // RFC 4271 §9.1.2.2 c: neighborAS is the first AS of the path, or the local AS
            // for a route an internal peer originated (empty path or leading AS_SET).
            neighbor_as: as_path
                .and_then(AsPath::first_asn)
                .map_or(config.local_as, |a| a.0),
            ebgp,
            igp_cost: config.igp_costs.get(&next_hop).copied().unwrap_or(0),
            bgp_id: attrs.originator_id().unwrap_or(self.session.remote_id),
            cluster_list_len: u32::try_from(attrs.cluster_list().len()).unwrap_or(u32::MAX),
            peer_addr: peer.peer_addr,
            source: self.peer.0,
        };
        Arc::new(Path {
            source: self.peer,
            next_hop,
            rank,
            attrs: Arc::clone(attrs),
        })
    }
}

#[cfg(test)]
mod tests;
