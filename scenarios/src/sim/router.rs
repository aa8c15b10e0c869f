//! One router of the topology as a running [`Speaker`], in the world's vocabulary.
//!
//! This adapter is the only place that knows the speaker's API: it configures one peer per
//! session the router takes part in (peer id = session index), originates the router's
//! prefixes, and translates the speaker's outputs into [`Out`] (what to put on which
//! session's connection or path) and [`RtEvent`] (state changes with the cause a user wants to
//! read, BFD changes, forwarding changes).

use std::collections::{BTreeMap, VecDeque};

use bgp::bfd;
use bgp::fsm::{self, Command, SessionEvent, State, Transport};
use bgp::rib::prefix_list::{self, PrefixList};
use bgp::rib::{PeerConfig, PeerId, RibConfig};
use bgp::speaker::{PeerSpec, Speaker, SpeakerEvent, TransmitKind};
use bgp::wire::{AttrValue, CeaseSubcode, Community, Family, PathAttributes};
use ipnet::IpNet;
use sim_core::time::{Duration, Instant};

use super::net::SessIx;
use crate::topology::{self, Families, PeeringKind, Role, Topology};

/// What a router wants done on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Out {
    /// Open the session's TCP connection.
    Connect(SessIx),
    /// Write bytes on the session's connection.
    Bytes(SessIx, Vec<u8>),
    /// Close the session's connection.
    Close(SessIx),
    /// Send a BFD control packet along the session's path.
    Bfd(SessIx, bfd::packet::PacketBuf),
}

/// Why a session went down, as far as the router knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionDown {
    /// The hold timer expired.
    HoldTimer,
    /// BFD declared the path down.
    Bfd,
    /// The peer sent this NOTIFICATION.
    NotificationReceived(u8, u8),
    /// We sent this NOTIFICATION (an error, a limit, an administrative stop).
    NotificationSent(u8, u8),
    /// The transport failed.
    Transport,
    /// Stopped locally.
    Local,
}

/// What a router reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RtEvent {
    /// A session changed state at this router.
    State {
        /// The session.
        session: SessIx,
        /// From.
        from: State,
        /// To.
        to: State,
        /// The cause, meaningful when leaving Established.
        down: SessionDown,
    },
    /// A BFD session changed state.
    Bfd {
        /// The session it protects.
        session: SessIx,
        /// The new state's name.
        state: String,
    },
    /// Graceful restart: the routes of a lost session kept as stale (`until` is `Some`), or
    /// the stale routes withdrawn (`why`).
    Stale {
        /// The session.
        session: SessIx,
        /// How many routes.
        routes: usize,
        /// When kept: when they go unless the session is back first.
        until: Option<Instant>,
        /// When withdrawn: why.
        why: Option<bgp::speaker::StaleFlush>,
    },
    /// Forwarding changes: prefix → sessions whose peers are the next hops (empty: none).
    Fib {
        /// The changes, in the order the RIB made them.
        changes: Vec<(IpNet, Vec<SessIx>)>,
    },
}

/// A running router.
#[derive(Debug, Clone)]
pub(crate) struct RouterRt {
    speaker: Speaker,
    /// Sessions this router takes part in, with its end.
    sessions: Vec<(SessIx, u8)>,
    /// Per session: the last NOTIFICATION seen (sent or received) and whether BFD went down,
    /// to explain the next state change.
    last_cause: BTreeMap<usize, SessionDown>,
    out: VecDeque<Out>,
    events: VecDeque<RtEvent>,
    started: bool,
    /// Sessions administratively stopped (not restarted by `start`).
    stopped: Vec<SessIx>,
}

fn peer(s: SessIx) -> PeerId {
    PeerId(u32::try_from(s.0).unwrap_or(u32::MAX - 1))
}

/// How a session end starts: end 0 (the customer side) connects, end 1 (Azure) listens, so
/// connections never collide (see `net`).
const fn start_command(end: u8) -> Command {
    if end == 0 {
        Command::Start
    } else {
        Command::StartPassive
    }
}

/// A router's IPv6 address for next-hop-self on dual-stack iBGP (a ULA, never on the wire
/// as a packet address).
fn synthetic_v6(r: usize) -> std::net::Ipv6Addr {
    let r = u16::try_from(r).unwrap_or(u16::MAX);
    std::net::Ipv6Addr::new(0xfd00, 0xffff, 0, 0, 0, 0, 0, r.wrapping_add(1))
}

fn sess(p: PeerId) -> SessIx {
    SessIx(p.0 as usize)
}

/// The export filter of router `r` on session `si`, or `None` when it advertises everything.
///
/// Two rules, both standing in for what real routers do with separate configuration:
///
/// - The router originates the union of what its sessions announce; each session advertises
///   only its own share of those (Microsoft prefixes only on Microsoft peering, private
///   prefixes only on private peering). Whatever the router learned passes.
/// - Routing domains stay apart, as the MSEE's per-peering VRFs keep them (domain.md: each
///   peering is its own routing domain; only private peering falls back to the VPN): a
///   Microsoft or public peering session carries only Microsoft-domain prefixes (Microsoft's
///   service prefixes and the customer's public prefixes), and every other session carries
///   none of them. One speaker per router with these filters is this model's stand-in for
///   VRFs.
fn session_filter(topo: &Topology, r: usize, si: usize) -> Option<PrefixList> {
    let s = topo.sessions.get(si)?;
    let mine = s.ends.iter().find(|e| e.router.0 == r)?;
    let entry = |action, prefix, le| prefix_list::Entry {
        action,
        prefix,
        ge: None,
        le,
    };
    let mut entries: Vec<prefix_list::Entry> = Vec::new();
    let mut foreign: Vec<IpNet> = topo
        .sessions
        .iter()
        .flat_map(|x| x.ends.iter())
        .filter(|e| e.router.0 == r)
        .flat_map(|e| e.announces.iter())
        .filter(|p| !mine.announces.contains(p))
        .copied()
        .collect();
    foreign.sort_unstable();
    foreign.dedup();
    entries.extend(
        foreign
            .into_iter()
            .map(|p| entry(prefix_list::Action::Deny, p, None)),
    );
    let microsoft_domain: Vec<IpNet> = topo
        .microsoft_prefixes()
        .iter()
        .chain(&topo.public_prefixes)
        .map(|p| IpNet::V4(*p))
        .collect();
    let is_microsoft = s.on.is_some_and(|(_, _, k)| k != PeeringKind::Private);
    if is_microsoft {
        entries.extend(
            microsoft_domain
                .iter()
                .map(|p| entry(prefix_list::Action::Permit, *p, Some(32))),
        );
    } else {
        if entries.is_empty() && microsoft_domain.is_empty() {
            return None;
        }
        entries.extend(
            microsoft_domain
                .iter()
                .map(|p| entry(prefix_list::Action::Deny, *p, Some(32))),
        );
        entries.push(entry(
            prefix_list::Action::Permit,
            IpNet::V4(ipnet::Ipv4Net::default()),
            Some(32),
        ));
        entries.push(entry(
            prefix_list::Action::Permit,
            IpNet::V6(ipnet::Ipv6Net::default()),
            Some(128),
        ));
    }
    Some(PrefixList { entries })
}

/// A prefix list permitting routes within `prefixes` (each prefix or a longer one inside
/// it) and denying the rest.
fn within(prefixes: &[IpNet]) -> PrefixList {
    PrefixList {
        entries: prefixes
            .iter()
            .map(|p| prefix_list::Entry {
                action: prefix_list::Action::Permit,
                prefix: *p,
                ge: None,
                le: Some(match p {
                    IpNet::V4(_) => 32,
                    IpNet::V6(_) => 128,
                }),
            })
            .collect(),
    }
}

/// `list` (the model's own filter, if any) narrowed to routes within `prefixes`: its denies
/// first, then the permits of [`within`]; whatever neither matches is denied.
fn restrict(list: Option<PrefixList>, prefixes: &[IpNet]) -> PrefixList {
    let mut entries: Vec<prefix_list::Entry> = list
        .map(|l| l.entries)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.action == prefix_list::Action::Deny)
        .collect();
    entries.extend(within(prefixes).entries);
    PrefixList { entries }
}

impl RouterRt {
    /// Configures router `r` of `topo`.
    pub(crate) fn new(topo: &Topology, r: usize, seed: u64) -> Result<Self, String> {
        let me = &topo.routers[r];
        let mut rib = RibConfig::new(me.asn, me.router_id);
        rib.decision.multipath.max_paths = me.max_paths.max(1);
        let mut speaker = Speaker::new(rib);
        let mut sessions = Vec::new();
        let profile =
            fsm::profile::Profile::by_name(me.profile.name()).map_err(|e| e.to_string())?;
        for (si, s) in topo.sessions.iter().enumerate() {
            let Some(end) = s.ends.iter().position(|e| e.router.0 == r) else {
                continue;
            };
            let mine = &s.ends[end];
            let theirs = &s.ends[1 - end];
            let other = &topo.routers[theirs.router.0];
            let mut cfg = fsm::Config::new(me.asn, other.asn, me.router_id);
            cfg.profile = profile;
            cfg.hold_time = Some(me.timers.hold_time);
            cfg.keepalive = me.timers.keepalive;
            cfg.connect_retry = Some(me.timers.connect_retry);
            cfg.connect_delay = me.timers.connect_delay;
            cfg.mrai = me.timers.mrai;
            cfg.idle_hold = me.timers.idle_hold;
            cfg.idle_hold_max = me.timers.idle_hold_max;
            cfg.idle_hold_forget = me.timers.idle_hold_forget;
            // Graceful restart: the router's own setting, else its profile's (none of the
            // built-in profiles turns it on).
            let gr = me
                .timers
                .graceful_restart
                .map(|t| (t, me.timers.graceful_restart_notification))
                .or(profile
                    .graceful_restart
                    .map(|g| (g.restart_time, g.notification)));
            cfg.graceful_restart = gr.map(|(t, _)| t);
            cfg.graceful_restart_notification = gr.is_some_and(|(_, n)| n);
            cfg.internal = me.asn == other.asn;
            // RFC 4486 §4 leaves the restart after a Cease 6/1 to configuration; Azure
            // documents that the session "comes back once below the limit". One minute is
            // this model's assumption.
            cfg.max_prefix_restart = Some(
                mine.policy
                    .max_prefix_restart
                    .unwrap_or(Duration::from_secs(60)),
            );
            let mut pc = PeerConfig::new(other.asn, theirs.addr, mine.addr);
            pc.import.set_local_pref = mine.local_pref;
            pc.import.set_weight = mine.weight;
            pc.import.prefix_list = mine.policy.import.as_deref().map(within);
            pc.export.set_med = mine.policy.med;
            if mine.addr.is_ipv6() {
                // An IPv6 session of private peering carries IPv6 unicast only (RFC 4760;
                // Azure's IPv6 private peering is its own session over the /126).
                cfg.families = vec![Family::IPV6_UNICAST];
                pc.max_prefix.ipv6 = mine.max_prefixes;
            } else {
                pc.max_prefix.ipv4 = mine.max_prefixes;
                if cfg.internal && !topo.onprem_ipv6_prefixes.is_empty() {
                    // On-premises iBGP is dual-stack (MP-BGP) when the site has IPv6, so a CE
                    // that loses its IPv6 session still reaches Azure through the other CE.
                    // The IPv6 next hop it advertises (next-hop-self) is synthetic: the model
                    // forwards by peer, not by address.
                    cfg.families = vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST];
                    pc.local_v6 = Some(synthetic_v6(r));
                }
            }
            match s.families {
                Some(Families::Ipv6) => {
                    cfg.families = vec![Family::IPV6_UNICAST];
                    pc.max_prefix.ipv6 = mine.max_prefixes;
                }
                Some(Families::Both) => {
                    cfg.families = vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST];
                    pc.max_prefix.ipv6 = mine.max_prefixes;
                    if pc.local_v6.is_none() {
                        pc.local_v6 = Some(synthetic_v6(r));
                    }
                    if pc.local_v4.is_none() {
                        pc.local_v4 = Some(me.router_id);
                    }
                }
                Some(Families::Ipv4) | None => {}
            }
            pc.export.prepend = mine.prepend;
            pc.export.prefix_list = session_filter(topo, r, si);
            if let Some(export) = &mine.policy.export {
                pc.export.prefix_list = Some(restrict(pc.export.prefix_list.take(), export));
            }
            // iBGP on premises: the CEs advertise themselves as next hop (next-hop-self), as
            // every active-active CE design does.
            pc.export.next_hop_self = cfg.internal;
            let bfd_cfg = match (me.bfd, other.bfd, s.bfd) {
                (_, _, Some(false)) => None,
                (Some(a), Some(_), _) => Some(bfd::Config {
                    local_discriminator: u32::try_from(si * 2 + end + 1).unwrap_or(1),
                    desired_min_tx: a.interval,
                    required_min_rx: a.interval,
                    detect_mult: a.multiplier,
                    passive: false,
                    // Whose BFD runs here goes with whose BGP (BIRD's bfd protocol jitters
                    // 75-90 %, RFC 5880 §6.8.7 75-100 %).
                    tx_jitter: profile.bfd_tx_jitter,
                }),
                _ => None,
            };
            let spec = PeerSpec {
                session: cfg,
                rib: pc,
                bfd: bfd_cfg,
                seed: seed.wrapping_add(si as u64 * 2),
            };
            speaker
                .add_peer(Instant::ZERO, peer(SessIx(si)), spec)
                .map_err(|e| format!("router {}: session {}: {e}", me.name, s.name))?;
            sessions.push((SessIx(si), u8::try_from(end).unwrap_or(0)));
        }
        Ok(Self {
            speaker,
            sessions,
            last_cause: BTreeMap::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            started: false,
            stopped: Vec::new(),
        })
    }

    /// The configured speaker, not started, for a driver other than the simulator (the live
    /// driver plays one router of the topology for real).
    pub(crate) fn into_speaker(self) -> Speaker {
        self.speaker
    }

    /// Boots the router: originates its prefixes and starts its sessions (end 0 actively,
    /// end 1 passively). Sessions that Azure gates stay down at the Azure end.
    pub(crate) fn start(&mut self, now: Instant, topo: &Topology) {
        if self.started {
            return;
        }
        self.started = true;
        let mut originated: Vec<IpNet> = Vec::new();
        for &(s, end) in &self.sessions {
            for p in &topo.sessions[s.0].ends[usize::from(end)].announces {
                let p = *p;
                if !originated.contains(&p) {
                    originated.push(p);
                }
            }
        }
        originated.sort_unstable();
        let msee = self.sessions.first().is_some_and(|&(s, end)| {
            topo.routers[topo.sessions[s.0].ends[usize::from(end)].router.0].role == Role::Msee
        });
        for p in originated {
            let mut attrs = PathAttributes::default();
            // Microsoft tags each service's prefixes with the service's community (RFC 1997),
            // the handle a route filter and the customer's policy select them by.
            if let IpNet::V4(v4) = p
                && msee
                && let Some(service) = topology::microsoft_service_of(v4)
            {
                attrs.set(AttrValue::Communities(
                    std::iter::once(Community(service.community)).collect(),
                ));
            }
            self.speaker.originate(now, p, attrs);
        }
        for &(s, end) in &self.sessions.clone() {
            let gated = topo.session_gate(topology::SessionIx(s.0)).is_some();
            let azure_end = end == 1
                && matches!(
                    topo.routers[topo.sessions[s.0].ends[1].router.0].role,
                    Role::Msee
                );
            if gated && azure_end {
                continue;
            }
            let cmd = start_command(end);
            let _ = self.speaker.handle_command(now, peer(s), cmd);
        }
        self.drain();
    }

    /// The transport of a session changed.
    pub(crate) fn handle_transport(&mut self, now: Instant, s: SessIx, t: Transport) {
        if t == Transport::Closed || t == Transport::ConnectFailed {
            self.last_cause.entry(s.0).or_insert(SessionDown::Transport);
        }
        let _ = self.speaker.handle_transport(now, peer(s), t);
        self.drain();
    }

    /// The interface under a session lost (`up == false`) or regained carrier.
    pub(crate) fn handle_interface(&mut self, now: Instant, s: SessIx, up: bool) {
        if !up {
            let _ = self
                .speaker
                .handle_transport(now, peer(s), Transport::Closed);
            if self.speaker.bfd(peer(s)).is_some() {
                let _ = self
                    .speaker
                    .handle_bfd_command(now, peer(s), bfd::Command::AdminDown);
            }
        } else if self.speaker.bfd(peer(s)).is_some() {
            let _ = self
                .speaker
                .handle_bfd_command(now, peer(s), bfd::Command::AdminUp);
        }
        self.drain();
    }

    /// Bytes arrived on a session's connection.
    pub(crate) fn handle_bytes(&mut self, now: Instant, s: SessIx, bytes: &[u8]) {
        let _ = self.speaker.handle_bytes(now, peer(s), bytes);
        self.drain();
    }

    /// A BFD packet arrived for a session.
    pub(crate) fn handle_bfd(&mut self, now: Instant, s: SessIx, bytes: &[u8]) {
        let _ = self.speaker.handle_bfd_packet(now, peer(s), bytes);
        self.drain();
    }

    /// Re-keys the speaker's random generators for a forked run.
    pub(crate) fn rekey(&mut self, key: u64) {
        self.speaker.rekey(key);
    }

    /// Puts this end's keepalive stream on session `s` in its stationary phase at `now`;
    /// returns the age of its previous keepalive (see `bgp::fsm::Session::rephase_keepalive`).
    pub(crate) fn rephase_keepalive(&mut self, now: Instant, s: SessIx) -> Option<Duration> {
        let age = self.speaker.rephase_keepalive(now, peer(s));
        self.drain();
        age
    }

    /// Re-arms this end's hold timer on session `s` as if the peer was last heard at `heard`.
    pub(crate) fn rephase_hold(&mut self, now: Instant, s: SessIx, heard: Instant) {
        self.speaker.rephase_hold(now, peer(s), heard);
        self.drain();
    }

    /// The router's timer fired.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.speaker.handle_timeout(now);
        self.drain();
    }

    /// The router's event loop woke: sessions waiting to act on an expired hold timer act
    /// now (see `bgp::speaker::Speaker::handle_wake`). Returns whether one was waiting
    /// (nothing changes otherwise).
    pub(crate) fn handle_wake(&mut self, now: Instant) -> bool {
        let waiting = self.sessions.iter().any(|&(s, _)| {
            self.speaker
                .session(peer(s))
                .is_some_and(|x| x.waiting_until().is_some())
        });
        if waiting {
            self.speaker.handle_wake(now);
            self.drain();
        }
        waiting
    }

    /// Administrative stop of one session with NOTIFICATION Cease/`subcode` (RFC 4486 §4):
    /// 6/2 Administrative Shutdown carries `why` as the RFC 9003 shutdown communication;
    /// 6/3 Peer De-configured carries none (RFC 9003 §2 defines it for 6/2 and 6/4 only).
    pub(crate) fn admin_stop(&mut self, now: Instant, s: SessIx, subcode: CeaseSubcode, why: &str) {
        if !self.stopped.contains(&s) {
            self.stopped.push(s);
        }
        let message =
            (subcode == CeaseSubcode::ADMINISTRATIVE_SHUTDOWN).then(|| format!("holdtime: {why}"));
        let _ = self
            .speaker
            .handle_command(now, peer(s), Command::StopWith { subcode, message });
        self.drain();
    }

    /// Ends an administrative shutdown.
    pub(crate) fn admin_start(&mut self, now: Instant, s: SessIx) {
        self.stopped.retain(|x| *x != s);
        self.start_session(now, s);
        self.drain();
    }

    /// Starts session `s` the way its end starts (actively or passively).
    fn start_session(&mut self, now: Instant, s: SessIx) {
        let end = self
            .sessions
            .iter()
            .find(|(x, _)| *x == s)
            .map_or(0, |(_, e)| *e);
        let _ = self
            .speaker
            .handle_command(now, peer(s), start_command(end));
    }

    /// Sets how many extra copies of the local AS are prepended towards the peer of `s`
    /// (maintenance drain), re-advertising what that changes.
    pub(crate) fn set_prepend(&mut self, now: Instant, s: SessIx, prepend: u8) {
        if let Some(mut policy) = self.speaker.export_policy(peer(s)).cloned() {
            policy.prepend = prepend;
            let _ = self.speaker.set_export_policy(now, peer(s), policy);
        }
        self.drain();
    }

    /// Sets the IPv4 prefix limit on the peer of `s` (an SKU change on Azure's side); a peer
    /// holding more is closed with Cease 6/1 at once (see [`bgp::speaker::Speaker::set_max_prefix`]).
    pub(crate) fn set_max_prefixes(&mut self, now: Instant, s: SessIx, limit: u32) {
        if let Some(mut limits) = self.speaker.max_prefix(peer(s)) {
            limits.ipv4 = Some(limit);
            let _ = self.speaker.set_max_prefix(now, peer(s), limits);
        }
        self.drain();
    }

    /// Replaces the export prefix list towards the peer of `s` (`None`: advertise all).
    pub(crate) fn set_export_filter(&mut self, now: Instant, s: SessIx, list: Option<PrefixList>) {
        if let Some(mut policy) = self.speaker.export_policy(peer(s)).cloned() {
            policy.prefix_list = list;
            let _ = self.speaker.set_export_policy(now, peer(s), policy);
        }
        self.drain();
    }

    /// The export prefix list towards the peer of `s`.
    pub(crate) fn export_filter(&self, s: SessIx) -> Option<PrefixList> {
        self.speaker
            .export_policy(peer(s))
            .and_then(|p| p.prefix_list.clone())
    }

    /// Originates `prefixes` all at once (a misconfiguration's flood, say).
    pub(crate) fn originate(&mut self, now: Instant, prefixes: &[IpNet]) {
        self.speaker.originate_all(
            now,
            prefixes.iter().map(|p| (*p, PathAttributes::default())),
        );
        self.drain();
    }

    /// Stops originating `prefixes`.
    pub(crate) fn withdraw(&mut self, now: Instant, prefixes: &[IpNet]) {
        self.speaker.withdraw_originated_all(now, prefixes);
        self.drain();
    }

    /// The interface under `s` came back: a session that is not up (Idle, Connect, Active)
    /// is restarted so that it connects now instead of at its next ConnectRetry expiry, as
    /// routers do when the interface a neighbour is reached over comes up (a tunnel
    /// interface after IKE re-establishes). Sessions that are opening or up are left alone.
    pub(crate) fn reconnect(&mut self, now: Instant, s: SessIx) {
        let idle = self
            .speaker
            .session(peer(s))
            .is_some_and(|x| matches!(x.state(), State::Idle | State::Connect | State::Active));
        if idle && !self.stopped.contains(&s) {
            let _ = self
                .speaker
                .handle_command(now, peer(s), Command::Stop { message: None });
            self.start_session(now, s);
        }
        self.drain();
    }

    /// The next network action.
    pub(crate) fn poll_out(&mut self) -> Option<Out> {
        self.out.pop_front()
    }

    /// The next report.
    pub(crate) fn poll_event(&mut self) -> Option<RtEvent> {
        self.events.pop_front()
    }

    /// When the router's timer must fire.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.speaker.poll_timeout()
    }

    /// The earliest deadline of this router's BGP sessions (their FSM timers, not BFD's).
    pub(crate) fn bgp_deadline(&self) -> Option<Instant> {
        self.sessions
            .iter()
            .filter_map(|&(s, _)| self.speaker.session(peer(s))?.poll_timeout())
            .min()
    }

    /// The earliest deadline of this router's BGP timers proper: [`Self::bgp_deadline`]
    /// without the wake-up deadlines of sessions waiting to act on an expired hold timer
    /// (what those do at the wake-up is not timer-driven).
    pub(crate) fn bgp_timer_deadline(&self) -> Option<Instant> {
        self.sessions
            .iter()
            .filter_map(|&(s, _)| self.speaker.session(peer(s))?.timers().next_deadline())
            .min()
    }

    fn drain(&mut self) {
        while let Some(t) = self.speaker.poll_transmit() {
            let s = sess(t.peer);
            self.out.push_back(match t.kind {
                TransmitKind::Bfd(bytes) => Out::Bfd(s, bytes),
                TransmitKind::Bgp(fsm::Transmit::Connect) => Out::Connect(s),
                TransmitKind::Bgp(fsm::Transmit::Bytes(b)) => Out::Bytes(s, b),
                TransmitKind::Bgp(fsm::Transmit::Close) => Out::Close(s),
                // The simulated network never makes two connections to one peer (module
                // `sim::net`), so the speaker never runs a second session here.
                TransmitKind::BgpSecond(_) | TransmitKind::SwapConnections => continue,
            });
        }
        // Events are rare next to transmits (a BFD packet, a KEEPALIVE): handled out of line
        // so that the common case stays a short loop.
        if let Some(first) = self.speaker.poll_event() {
            self.drain_events(first);
        }
    }

    /// Translates the speaker's events, `first` and those after it, into [`RtEvent`]s.
    #[inline(never)]
    fn drain_events(&mut self, first: SpeakerEvent) {
        let mut fib = Vec::new();
        let mut first = Some(first);
        while let Some(ev) = first.take().or_else(|| self.speaker.poll_event()) {
            match ev {
                SpeakerEvent::Session { peer: p, event } => {
                    let s = sess(p);
                    match event {
                        SessionEvent::StateChanged { from, to, cause } => {
                            let remembered = self.last_cause.remove(&s.0);
                            let down = match cause {
                                fsm::Event::HoldTimerExpires => SessionDown::HoldTimer,
                                // An administrative stop that sent a Cease (RFC 4486) says
                                // which; a plain stop is local.
                                fsm::Event::ManualStop => remembered
                                    .filter(|c| matches!(c, SessionDown::NotificationSent(..)))
                                    .unwrap_or(SessionDown::Local),
                                _ => remembered.unwrap_or(SessionDown::Local),
                            };
                            self.events.push_back(RtEvent::State {
                                session: s,
                                from,
                                to,
                                down,
                            });
                        }
                        SessionEvent::NotificationSent(n) => {
                            let c = self
                                .last_cause
                                .entry(s.0)
                                .or_insert(SessionDown::NotificationSent(0, 0));
                            if !matches!(c, SessionDown::Bfd) {
                                *c = SessionDown::NotificationSent(n.code.0, n.subcode);
                            }
                        }
                        SessionEvent::NotificationReceived(n) => {
                            self.last_cause.insert(
                                s.0,
                                SessionDown::NotificationReceived(n.code.0, n.subcode),
                            );
                        }
                        _ => {}
                    }
                }
                SpeakerEvent::Bfd { peer: p, event } => {
                    let s = sess(p);
                    match event {
                        bfd::Event::StateChanged { to, .. } => {
                            self.events.push_back(RtEvent::Bfd {
                                session: s,
                                state: format!("{to:?}").to_lowercase(),
                            });
                        }
                        bfd::Event::SessionDown { .. } => {
                            self.last_cause.insert(s.0, SessionDown::Bfd);
                        }
                        bfd::Event::PollComplete => {}
                    }
                }
                SpeakerEvent::FibChanged(change) => {
                    // Locally originated prefixes are delivered here; the data plane knows.
                    if change.next_hops.iter().any(|h| h.peer == PeerId::LOCAL) {
                        continue;
                    }
                    let via = change
                        .next_hops
                        .iter()
                        .filter(|h| h.peer != PeerId::LOCAL)
                        .map(|h| sess(h.peer))
                        .collect();
                    fib.push((change.prefix, via));
                }
                SpeakerEvent::StaleRoutesKept {
                    peer: p,
                    routes,
                    until,
                } => self.events.push_back(RtEvent::Stale {
                    session: sess(p),
                    routes,
                    until: Some(until),
                    why: None,
                }),
                SpeakerEvent::StaleRoutesFlushed {
                    peer: p,
                    routes,
                    why,
                } => self.events.push_back(RtEvent::Stale {
                    session: sess(p),
                    routes,
                    until: None,
                    why: Some(why),
                }),
                SpeakerEvent::MaxPrefixExceeded { .. }
                | SpeakerEvent::AdvertisementFailed { .. }
                | SpeakerEvent::CollisionResolved { .. } => {}
            }
        }
        if !fib.is_empty() {
            self.events.push_back(RtEvent::Fib { changes: fib });
        }
    }
}
