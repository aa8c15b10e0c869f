//! Faults: each fault kind's effect on the world, its later stages, and its undoing.
//!
//! A fault is one [`FaultAction`] from the file to its effect here; its name comes from
//! [`FaultAction::kind`] (the file's spelling, one source). Every fault line written to the
//! timeline goes through [`crate::sim::measure::Measure::fault`], which opens the episodes.
//!
//! Modelling choices made here:
//!
//! - `silent` on a circuit or link fails the provider core (the customer's access stays up):
//!   no carrier event anywhere, only timers notice.
//! - `msee_maintenance` drains by AS-path prepending on every session of that MSEE (towards
//!   the customer and the ExpressRoute gateway) through `Speaker::set_export_policy`, then
//!   closes its sessions for `down_for`; the link's carrier stays up (nothing in
//!   Microsoft's description says the customer's interface goes down).
//! - `prefix_flood` originates the extra prefixes (generated /24s from 100.64.0.0/10) at once
//!   on the customer router, with an export filter on its other sessions so that only the
//!   named sessions receive them; the MSEE's max-prefix limit trips Cease 6/1 and the session
//!   comes back after the restart delay once the flood is withdrawn.
//! - A crashed router loses its state: it restarts as a fresh speaker.
//! - `router_shutdown` takes a router out of service gracefully: every session it takes part
//!   in is closed from its end with Cease 6/2 (so every peer learns at once, where a crash
//!   leaves them to their hold timers), and a second later the router goes down as a crash
//!   does (its attached segments lose carrier, the on-premises first-hop redundancy moves
//!   off a CE); when the fault ends it boots as after a crash. RFC 8326's GRACEFUL_SHUTDOWN
//!   community (a drain before the close) is not modelled: the close is immediate.
//! - `gateway_instance_failure` on the ExpressRoute gateway: see `sim::azure`.
//! - `peering_disabled` acts like Azure's other gates: the MSEE end of each session of that
//!   peering on both links closes it with Cease 6/2 and refuses it until the fault ends.
//! - `bandwidth_change` and `sku_change` are changes, not episodes: they have no end (a
//!   `restore` of the circuit does not undo them; write the opposite change instead). A raised
//!   bandwidth resizes the circuit's links in place (the wires' serialisation and the data
//!   plane's capacity both follow); a lowered one is a delete and re-create, as Microsoft
//!   documents: the circuit's sessions are closed and refused as by a deprovisioning for
//!   `recreate`, then the new circuit, with the new bandwidth, accepts them again (the
//!   customer's routers reconnect at their next ConnectRetry). An SKU change sets the MSEEs'
//!   private-peering prefix limit (IPv4) in place; a session that holds more than the lowered
//!   limit is closed at once with Cease 6/1 (Microsoft: "the BGP session will drop").

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use bgp::rib::prefix_list::{self, PrefixList};
use bgp::wire::CeaseSubcode;
use ipnet::{IpNet, Ipv4Net};
use sim_core::link::{JitterModel, LossModel as SimLoss};
use sim_core::rng::fnv1a64;
use sim_core::time::Instant;

use super::RunError;
use super::azure::{BLOCK_DEPROVISIONED, BLOCK_GATE, BLOCK_MAINTENANCE, BLOCK_RECREATE};
use super::net::{SegIx, SessIx};
use super::router::RouterRt;
use super::world::{Ev, World, sim_loss};
use crate::report::{DownCause, TimelineEvent};
use crate::scenario::FaultAction;
use crate::spec::SessionStateName;
use crate::topology::{self, Node, PeeringKind, Sku, Target, Topology};
use crate::units::Bandwidth;

/// Azure holds a session down because a `peering_disabled` fault disabled its peering (a
/// bit of its own beside `sim::azure`'s, so that the peering's end does not reopen a session
/// another reason keeps closed).
const BLOCK_PEERING_DISABLED: u8 = 8;

/// How long after a `router_shutdown` closed its sessions the router goes down (its
/// NOTIFICATIONs are long delivered by then: the model's one-way delays are milliseconds).
const SHUTDOWN_POWER_OFF: sim_core::time::Duration = sim_core::time::Duration::from_secs(1);

/// What a fault changed, to undo at its end.
#[derive(Debug, Clone)]
pub(crate) enum Undo {
    /// A prefix flood: the router, the prefixes it originated, the export filters replaced.
    Flood {
        router: usize,
        prefixes: Vec<IpNet>,
        filters: Vec<(SessIx, Option<PrefixList>)>,
    },
    /// Tunnel segments silenced (and the sessions over them).
    Tunnels { segments: Vec<usize> },
    /// A failed ExpressRoute gateway instance: its sessions and their silenced segments.
    ErInstance {
        sessions: Vec<usize>,
        segments: Vec<usize>,
    },
    /// A stage of a multi-step fault is done (later stages must not repeat it).
    Done,
}

/// The faults' state during a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultState {
    /// Per fault: state saved at its start to undo at its end.
    pub(crate) undo: BTreeMap<usize, Undo>,
    /// Per fault: its start, drawn at the fork.
    pub(crate) fault_at: Vec<Instant>,
    /// Per segment: its loss model before a `loss` fault replaced it.
    saved_loss: BTreeMap<usize, SimLoss>,
    /// Per circuit whose bandwidth a `bandwidth_change` changed: its bandwidth now (the
    /// next change is an upgrade or a downgrade from it).
    bandwidth: BTreeMap<usize, Bandwidth>,
    /// Per (session, end) whose prefix limit an `sku_change` changed: the limit now (kept
    /// over a restart of the router, whose configuration it is).
    pub(crate) max_prefixes: BTreeMap<(usize, usize), u32>,
}

/// The fault's kind as the file names it, and its target's name.
fn fault_label(topo: &Topology, a: &FaultAction) -> (String, String) {
    let target = match (a.target(), a) {
        (Some(t), _) => topo.target_name(t),
        (
            None,
            FaultAction::BgpDisconnect { sessions } | FaultAction::PrefixFlood { sessions, .. },
        ) => sessions
            .iter()
            .map(|s| topo.target_name(Target::Session(*s)))
            .collect::<Vec<_>>()
            .join(", "),
        (None, _) => String::new(),
    };
    (a.kind().name().to_owned(), target)
}

impl World<'_> {
    fn segments_of(&self, target: Target) -> Vec<usize> {
        let t = self.topo;
        match target {
            Target::Circuit(c) => t.circuits[c.0]
                .links
                .iter()
                .flat_map(|l| [l.access.0, l.core.0])
                .collect(),
            Target::Link(c, side) => {
                let l = &t.circuits[c.0].links[side.index()];
                vec![l.access.0, l.core.0]
            }
            Target::Segment(s) => vec![s.0],
            Target::Session(s) => t.sessions[s.0].path.iter().map(|p| p.0).collect(),
            Target::VpnTunnel => t
                .vpn
                .as_ref()
                .map_or_else(Vec::new, |g| g.tunnels.iter().map(|s| s.0).collect()),
            Target::Internet => {
                let mut v: Vec<usize> = t.internet.iter().map(|i| i.segment.0).collect();
                if let Some(g) = &t.vpn {
                    v.extend(g.tunnels.iter().map(|s| s.0));
                }
                v
            }
            Target::Router(_)
            | Target::ErGateway
            | Target::ErGatewayInstance(_)
            | Target::VpnGateway
            | Target::VpnGatewayInstance(_) => Vec::new(),
        }
    }

    /// For a silent failure of a link: the provider core (the customer's access stays up).
    fn silent_segments(&self, target: Target) -> Vec<usize> {
        match target {
            Target::Circuit(c) => self.topo.circuits[c.0]
                .links
                .iter()
                .map(|l| l.core.0)
                .collect(),
            Target::Link(c, side) => vec![self.topo.circuits[c.0].links[side.index()].core.0],
            other => self.segments_of(other),
        }
    }

    /// Fault `index` starts (`end == false`) or ends: its line in the timeline (which opens
    /// an episode), then its effect.
    pub(crate) fn apply_fault(&mut self, index: usize, end: bool) -> Result<(), RunError> {
        self.fwd.links_dirty = true;
        let now = self.engine.now();
        let fault = &self.sc.faults[index];
        let (kind, target_name) = fault_label(self.topo, &fault.action);
        let label = if end { format!("{kind} ends") } else { kind };
        self.meas
            .fault(now, label, target_name, fault.episode.as_deref());
        match fault.action.clone() {
            FaultAction::Silent { target } => {
                for s in self.silent_segments(target) {
                    self.net.set_silent(SegIx(s), !end);
                }
            }
            FaultAction::Down { target } => {
                for s in self.segments_of(target) {
                    self.net.set_carrier(now, SegIx(s), end);
                }
            }
            FaultAction::Loss { target, loss } => {
                for s in self.segments_of(target) {
                    let model = if end {
                        self.faults.saved_loss.remove(&s).unwrap_or(SimLoss::None)
                    } else {
                        let original = sim_loss(self.topo.segments[s].props.loss);
                        self.faults.saved_loss.entry(s).or_insert(original);
                        sim_loss(loss)
                    };
                    if let Some(link) = self.net.link_mut(SegIx(s)) {
                        link.set_loss(sim_core::link::Direction::AToB, model);
                        link.set_loss(sim_core::link::Direction::BToA, model);
                    }
                }
            }
            // A VRF cannot fail alone: its chassis does (`Topology::fails_with`).
            FaultAction::RouterCrash { router } => {
                for r in self.topo.fails_with(router) {
                    if end {
                        self.restart_router(r.0);
                    } else {
                        self.crash_router(r.0, true);
                    }
                }
            }
            FaultAction::RouterRestart { router } => {
                for r in self.topo.fails_with(router) {
                    self.restart_router(r.0);
                }
            }
            FaultAction::BgpDisconnect { sessions } => {
                for s in sessions {
                    let msee = self.topo.sessions[s.0].ends[1].router.0;
                    if end {
                        self.routers[msee].admin_start(now, SessIx(s.0));
                    } else {
                        self.routers[msee].admin_stop(
                            now,
                            SessIx(s.0),
                            CeaseSubcode::ADMINISTRATIVE_SHUTDOWN,
                            "administrative shutdown (BGP disconnect test)",
                        );
                    }
                    self.flush_router(msee);
                }
            }
            FaultAction::Restore { target } => self.restore(index, target)?,
            FaultAction::Latency {
                target,
                delay,
                jitter,
            } => {
                let episode = (!end).then_some(sim_core::link::DelayEpisode {
                    extra: delay,
                    jitter: if jitter.is_zero() {
                        JitterModel::None
                    } else {
                        JitterModel::Uniform { max: jitter }
                    },
                });
                for s in self.segments_of(target) {
                    if let Some(link) = self.net.link_mut(SegIx(s)) {
                        link.set_delay_episode(sim_core::link::Direction::AToB, episode);
                        link.set_delay_episode(sim_core::link::Direction::BToA, episode);
                    }
                }
            }
            FaultAction::Deprovision { circuit } => {
                for s in self.circuit_sessions(circuit.0, None) {
                    self.set_block(
                        s,
                        BLOCK_DEPROVISIONED,
                        !end,
                        "circuit deprovisioned (provider state NotProvisioned)",
                    );
                }
            }
            FaultAction::PublicPrefixesState { circuit, state } => {
                self.azure.pp_state[circuit.0] = (!end).then_some(state);
                for s in self.circuit_sessions(circuit.0, Some(PeeringKind::Microsoft)) {
                    let closed = self.gate_closed(s);
                    self.set_block(
                        s,
                        BLOCK_GATE,
                        closed,
                        "advertised public prefixes are not Configured",
                    );
                }
            }
            FaultAction::MseeMaintenance {
                circuit,
                side,
                drain,
                down_for,
                prepend,
            } => {
                let msee = self.topo.circuits[circuit.0].links[side.index()].msee.0;
                if end {
                    self.maintenance_over(index, msee);
                } else if !self.faults.undo.contains_key(&index) {
                    for (s, base) in self.sessions_of(msee) {
                        self.routers[msee].set_prepend(
                            now,
                            SessIx(s),
                            base.saturating_add(prepend),
                        );
                    }
                    self.flush_router(msee);
                    self.engine
                        .schedule_at(now + drain, Ev::Stage { index, stage: 1 });
                    self.engine
                        .schedule_at(now + drain + down_for, Ev::Stage { index, stage: 2 });
                }
            }
            FaultAction::PrefixFlood { sessions, count } => {
                if end {
                    self.flood_over(index);
                } else {
                    self.flood(index, &sessions, count);
                }
            }
            FaultAction::VpnTunnelDown { target } => {
                if end {
                    self.tunnels_back(index);
                } else {
                    let segments = self.segments_of(target);
                    self.tunnels_silent(index, segments);
                }
            }
            FaultAction::GatewayInstanceFailure { instance, planned } => {
                if !end {
                    self.gateway_failure(index, instance, planned);
                }
            }
            FaultAction::ErGatewayInstanceFailure { instance, planned } => {
                if end {
                    self.er_gateway_back(index);
                } else {
                    self.er_gateway_failure(index, instance, planned);
                }
            }
            FaultAction::RouterShutdown { router } => {
                let members = self.topo.fails_with(router);
                if end {
                    if self.faults.undo.insert(index, Undo::Done).is_none() {
                        for r in members.iter().map(|r| r.0) {
                            if self.net.is_alive(r) {
                                for (s, _) in self.sessions_of(r) {
                                    self.routers[r].admin_start(now, SessIx(s));
                                }
                                self.flush_router(r);
                            } else {
                                self.restart_router(r);
                            }
                        }
                    }
                } else {
                    let mut stopped = false;
                    for r in members.iter().map(|r| r.0) {
                        if !self.net.is_alive(r) {
                            continue;
                        }
                        for (s, _) in self.sessions_of(r) {
                            // RFC 4486 §4: Cease subcode 2, Administrative Shutdown, is what a
                            // speaker sends when it is administratively shut down.
                            self.routers[r].admin_stop(
                                now,
                                SessIx(s),
                                CeaseSubcode::ADMINISTRATIVE_SHUTDOWN,
                                "graceful shutdown of the router",
                            );
                        }
                        self.flush_router(r);
                        stopped = true;
                    }
                    if stopped {
                        self.engine
                            .schedule_at(now + SHUTDOWN_POWER_OFF, Ev::Stage { index, stage: 1 });
                    }
                }
            }
            FaultAction::BandwidthChange {
                circuit,
                bandwidth,
                recreate,
            } => {
                if !end {
                    self.bandwidth_change(index, circuit.0, bandwidth, recreate);
                }
            }
            FaultAction::SkuChange { circuit, sku } => {
                if !end {
                    self.sku_change(index, circuit.0, sku);
                }
            }
            FaultAction::PeeringDisabled { circuit, peering } => {
                for s in self.circuit_sessions(circuit.0, Some(peering)) {
                    self.set_block(
                        s,
                        BLOCK_PEERING_DISABLED,
                        !end,
                        "peering disabled (BGP state Disabled on the Microsoft side)",
                    );
                }
            }
        }
        self.fwd.dirty = true;
        Ok(())
    }

    /// Ends every earlier fault on `target`.
    fn restore(&mut self, index: usize, target: Target) -> Result<(), RunError> {
        let earlier: Vec<usize> = (0..index)
            .filter(|&i| self.faults.fault_at[i] <= self.engine.now())
            .filter(|&i| self.sc.faults[i].action.target() == Some(target))
            .collect();
        for i in earlier {
            if !matches!(self.sc.faults[i].action, FaultAction::Restore { .. }) {
                self.apply_fault(i, true)?;
            }
        }
        Ok(())
    }

    /// The router stops dead; with `carrier`, its directly attached segments lose carrier
    /// (a box that loses power), without, its neighbours are not told (an instance that
    /// becomes unreachable behind a tunnel).
    pub(crate) fn crash_router(&mut self, r: usize, carrier: bool) {
        self.fwd.links_dirty = true;
        let now = self.engine.now();
        self.net.set_alive(&mut self.engine, r, false);
        if let Some((_, id)) = self.router_timer[r].take() {
            self.engine.cancel(id);
        }
        for (i, seg) in self.topo.segments.iter().enumerate() {
            if carrier && seg.ends.contains(&Node::Router(topology::RouterIx(r))) {
                self.net.set_carrier(now, SegIx(i), false);
            }
        }
        // A dead router forwards nothing; its state is lost, the FIB changes it had not
        // installed yet with it.
        self.fwd.clear_router(self.topo, r);
        if let Some(id) = self.install.discard(r) {
            self.engine.cancel(id);
        }
        for s in 0..self.topo.sessions.len() {
            for end in 0..2 {
                if self.topo.sessions[s].ends[end].router.0 == r
                    && self.sessions[s].state[end] != SessionStateName::Idle
                {
                    self.meas.push(
                        now,
                        Some(self.topo.routers[r].name.clone()),
                        TimelineEvent::Session {
                            session: self.topo.sessions[s].name.clone(),
                            from: self.sessions[s].state[end],
                            to: SessionStateName::Idle,
                            cause: Some(DownCause::Local),
                        },
                    );
                    if self.sessions[s].up {
                        self.sessions[s].flaps += 1;
                        self.sessions[s].up = false;
                    }
                    self.sessions[s].state[end] = SessionStateName::Idle;
                }
            }
        }
        let rseed = fnv1a64(
            format!(
                "{}/router/{}/{}",
                self.seed.0,
                self.topo.routers[r].name,
                now.as_nanos()
            )
            .as_bytes(),
        );
        if let Ok(fresh) = RouterRt::new(self.topo, r, rseed) {
            self.routers[r] = fresh;
            // A limit an SKU change set is the router's configuration: it survives the crash.
            let changed: Vec<(usize, u32)> = self
                .faults
                .max_prefixes
                .iter()
                .filter(|((s, end), _)| self.topo.sessions[*s].ends[*end].router.0 == r)
                .map(|((s, _), limit)| (*s, *limit))
                .collect();
            for (s, limit) in changed {
                self.routers[r].set_max_prefixes(now, SessIx(s), limit);
            }
        }
        self.fwd.dirty = true;
    }

    /// A later stage of fault `index`.
    pub(crate) fn fault_stage(&mut self, index: usize, stage: u8) {
        self.fwd.links_dirty = true;
        if matches!(self.faults.undo.get(&index), Some(Undo::Done)) {
            return;
        }
        let now = self.engine.now();
        match self.sc.faults[index].action.clone() {
            FaultAction::MseeMaintenance { circuit, side, .. } => {
                let msee = self.topo.circuits[circuit.0].links[side.index()].msee.0;
                let group = self.sc.faults[index].episode.as_deref();
                if stage == 1 {
                    let kind = format!(
                        "{}: drained, sessions closed",
                        self.sc.faults[index].action.kind().name()
                    );
                    let target = self.topo.routers[msee].name.clone();
                    self.meas.fault(now, kind, target, group);
                    for (s, _) in self.sessions_of(msee) {
                        self.set_block(s, BLOCK_MAINTENANCE, true, "MSEE maintenance");
                    }
                } else {
                    let (kind, target) = fault_label(self.topo, &self.sc.faults[index].action);
                    self.meas.fault(now, format!("{kind} ends"), target, group);
                    self.maintenance_over(index, msee);
                }
            }
            FaultAction::VpnTunnelDown { .. } => {
                if let Some(Undo::Tunnels { segments }) = self.faults.undo.get(&index).cloned() {
                    self.dpd_expired(&segments);
                }
            }
            FaultAction::GatewayInstanceFailure { .. } => self.gateway_stage(index, stage),
            FaultAction::BandwidthChange {
                circuit, bandwidth, ..
            } => {
                // The new circuit is provisioned: the MSEEs accept its sessions again.
                let (kind, target) = fault_label(self.topo, &self.sc.faults[index].action);
                let group = self.sc.faults[index].episode.as_deref();
                self.meas.fault(
                    now,
                    format!("{kind}: re-created at {bandwidth}"),
                    target,
                    group,
                );
                self.faults.undo.insert(index, Undo::Done);
                self.resize(circuit.0, bandwidth);
                for s in self.circuit_sessions(circuit.0, None) {
                    self.set_block(s, BLOCK_RECREATE, false, "");
                }
            }
            FaultAction::ErGatewayInstanceFailure { .. } => self.er_gateway_back(index),
            FaultAction::RouterShutdown { router } if stage == 1 => {
                for r in self.topo.fails_with(router) {
                    if self.net.is_alive(r.0) {
                        self.crash_router(r.0, true);
                    }
                }
            }
            _ => {}
        }
        self.fwd.dirty = true;
    }

    fn maintenance_over(&mut self, index: usize, msee: usize) {
        if self.faults.undo.insert(index, Undo::Done).is_some() {
            return;
        }
        let now = self.engine.now();
        for (s, base) in self.sessions_of(msee) {
            self.routers[msee].set_prepend(now, SessIx(s), base);
            self.flush_router(msee);
            self.set_block(s, BLOCK_MAINTENANCE, false, "");
        }
    }

    /// The customer router of `sessions` originates `count` prefixes in all (its configured
    /// ones plus generated /24s from 100.64.0.0/10, RFC 6598 space that nothing else in the
    /// model uses). Its other sessions get an export filter so that the flood reaches only
    /// the sessions the fault names (the misconfiguration is on those sessions).
    fn flood(&mut self, index: usize, sessions: &[topology::SessionIx], count: u32) {
        let Some(first) = sessions.first() else {
            return;
        };
        let r = self.topo.sessions[first.0].ends[0].router.0;
        let mut configured: Vec<IpNet> = sessions
            .iter()
            .flat_map(|s| self.topo.sessions[s.0].ends[0].announces.iter().copied())
            .filter(|p| p.addr().is_ipv4())
            .collect();
        configured.sort_unstable();
        configured.dedup();
        let extra = count.saturating_sub(u32::try_from(configured.len()).unwrap_or(u32::MAX));
        // 2^14 /24s fit in the /10; a larger flood is capped there (documented).
        let prefixes: Vec<IpNet> = (0..extra.min(1 << 14))
            .filter_map(|k| {
                let base = u32::from(Ipv4Addr::new(100, 64, 0, 0)) + (k << 8);
                Ipv4Net::new(Ipv4Addr::from(base), 24).ok().map(IpNet::V4)
            })
            .collect();
        let flood_space: IpNet = "100.64.0.0/10".parse().unwrap_or_default();
        let any: IpNet = "0.0.0.0/0".parse().unwrap_or_default();
        let deny = PrefixList {
            entries: vec![
                prefix_list::Entry {
                    action: prefix_list::Action::Deny,
                    prefix: flood_space,
                    ge: None,
                    le: Some(32),
                },
                prefix_list::Entry {
                    action: prefix_list::Action::Permit,
                    prefix: any,
                    ge: None,
                    le: Some(32),
                },
            ],
        };
        let now = self.engine.now();
        let mut filters = Vec::new();
        for (s, _) in self.sessions_of(r) {
            if sessions.iter().any(|x| x.0 == s) {
                continue;
            }
            let old = self.routers[r].export_filter(SessIx(s));
            let new = match &old {
                None => deny.clone(),
                Some(list) => {
                    let mut l = deny.clone();
                    l.entries.truncate(1);
                    l.entries.extend(list.entries.iter().copied());
                    l
                }
            };
            self.routers[r].set_export_filter(now, SessIx(s), Some(new));
            filters.push((SessIx(s), old));
        }
        self.routers[r].originate(now, &prefixes);
        self.flush_router(r);
        self.faults.undo.insert(
            index,
            Undo::Flood {
                router: r,
                prefixes,
                filters,
            },
        );
    }

    fn flood_over(&mut self, index: usize) {
        let Some(Undo::Flood {
            router,
            prefixes,
            filters,
        }) = self.faults.undo.remove(&index)
        else {
            return;
        };
        let now = self.engine.now();
        self.routers[router].withdraw(now, &prefixes);
        for (s, old) in filters {
            self.routers[router].set_export_filter(now, s, old);
        }
        self.flush_router(router);
        self.faults.undo.insert(index, Undo::Done);
    }

    pub(crate) fn restart_router(&mut self, r: usize) {
        self.fwd.links_dirty = true;
        let now = self.engine.now();
        if self.net.is_alive(r) {
            return;
        }
        self.net.set_alive(&mut self.engine, r, true);
        for (i, seg) in self.topo.segments.iter().enumerate() {
            if seg.ends.contains(&Node::Router(topology::RouterIx(r))) {
                self.net.set_carrier(now, SegIx(i), true);
            }
        }
        self.routers[r].start(now, self.topo);
        self.flush_router(r);
    }

    /// The circuit's bandwidth as configured or last changed.
    fn circuit_bandwidth(&self, c: usize) -> Bandwidth {
        self.faults
            .bandwidth
            .get(&c)
            .copied()
            .unwrap_or(self.topo.circuits[c].bandwidth)
    }

    /// `bandwidth_change` starts: in place when raised, else the circuit is deleted and its
    /// re-creation scheduled (see the module doc).
    fn bandwidth_change(
        &mut self,
        index: usize,
        c: usize,
        bandwidth: Bandwidth,
        recreate: sim_core::time::Duration,
    ) {
        let now = self.engine.now();
        let (kind, target) = fault_label(self.topo, &self.sc.faults[index].action);
        let group = self.sc.faults[index].episode.clone();
        let before = self.circuit_bandwidth(c);
        if bandwidth.bps() >= before.bps() {
            self.meas.fault(
                now,
                format!("{kind}: {before} to {bandwidth} in place"),
                target,
                group.as_deref(),
            );
            self.resize(c, bandwidth);
            return;
        }
        self.meas.fault(
            now,
            format!("{kind}: {before} to {bandwidth}, circuit deleted to be re-created"),
            target,
            group.as_deref(),
        );
        self.faults.bandwidth.insert(c, bandwidth);
        for s in self.circuit_sessions(c, None) {
            self.set_block(
                s,
                BLOCK_RECREATE,
                true,
                "circuit deleted to lower its bandwidth (re-created later)",
            );
        }
        self.engine
            .schedule_at(now + recreate, Ev::Stage { index, stage: 1 });
    }

    /// Every segment of circuit `c` that has a bandwidth carries `bandwidth` from now on.
    fn resize(&mut self, c: usize, bandwidth: Bandwidth) {
        self.faults.bandwidth.insert(c, bandwidth);
        let segments: Vec<usize> = self.segments_of(Target::Circuit(topology::CircuitIx(c)));
        for s in segments {
            if self.topo.segments[s].props.bandwidth.is_none() {
                continue;
            }
            if let Some(link) = self.net.link_mut(SegIx(s)) {
                link.set_bandwidth(sim_core::link::Direction::AToB, bandwidth.bps());
                link.set_bandwidth(sim_core::link::Direction::BToA, bandwidth.bps());
            }
            self.fwd.set_segment_capacity(s, bandwidth.bps());
        }
    }

    /// `sku_change`: the MSEE end of each IPv4 private-peering session of circuit `c` takes
    /// the new SKU's prefix limit.
    fn sku_change(&mut self, index: usize, c: usize, sku: Sku) {
        let (limit, name) = match sku {
            Sku::Standard => (topology::PRIVATE_PREFIX_LIMIT, "standard"),
            Sku::Premium => (topology::PRIVATE_PREFIX_LIMIT_PREMIUM, "premium"),
        };
        let now = self.engine.now();
        let (kind, target) = fault_label(self.topo, &self.sc.faults[index].action);
        let group = self.sc.faults[index].episode.clone();
        self.meas.fault(
            now,
            format!("{kind}: {name}, private-peering prefix limit {limit}"),
            target,
            group.as_deref(),
        );
        for s in self.circuit_sessions(c, Some(PeeringKind::Private)) {
            let session = &self.topo.sessions[s];
            if !session.ends[1].addr.is_ipv4() {
                continue;
            }
            let msee = session.ends[1].router.0;
            self.faults.max_prefixes.insert((s, 1), limit);
            self.routers[msee].set_max_prefixes(now, SessIx(s), limit);
            self.flush_router(msee);
        }
    }
}
