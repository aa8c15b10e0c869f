//! Azure's side of the world: the configuration gates on sessions, the ExpressRoute
//! gateway's route programming, and the VPN gateway (tunnels, dead-peer detection, instance
//! failover).
//!
//! Modelling choices made here:
//!
//! - Azure's gates (provider state, circuit Status, peering enabled, Microsoft peering's
//!   public prefixes) and the faults that change them act at the MSEE: it stops the session
//!   with a NOTIFICATION Cease / Administrative Shutdown (6/2, RFC 4486 §4), so the customer
//!   end learns at once, as the documented manual failover test shows, and refuses
//!   connections until the gate opens; the customer's next connection attempt then brings it
//!   up. A deprovisioned circuit's sessions end with 6/3 "Peer De-configured" instead.
//! - The ExpressRoute gateway's BGP table changes at once; the VNet's forwarding follows after
//!   the gateway's convergence delay (domain.md: up to about a minute), drawn per change from
//!   the run's seed; only the newest version is programmed.
//! - The VPN: `vpn_tunnel_down` silences the tunnel segments; IKE dead-peer detection
//!   (RFC 3706) declares the tunnel down after the gateway's DPD timeout, which takes the BGP
//!   session over it down at both ends like carrier loss (reported as `carrier`). When the
//!   tunnel comes back the device reconnects at once. `gateway_instance_failure`
//!   (active-standby) makes the gateway unreachable without telling anyone, for the failover
//!   time drawn from the seeded stream; the standby then starts with an empty state.
//! - The ExpressRoute gateway is deployed as two instances, both active (Microsoft: a virtual
//!   network gateway is two or more VMs in the GatewaySubnet; each MSEE of a connected
//!   circuit has both instances as BGP neighbours in AS 65515, at two addresses of that
//!   subnet). The model keeps one `ergw` router with one session per MSEE and folds the
//!   instances onto them: instance 0 is the gateway's first address (`.4`) and holds its
//!   sessions with every circuit's primary MSEE, instance 1 (`.5`) those with the secondary
//!   MSEEs. Azure has four sessions per circuit (each instance with each MSEE); the fold
//!   keeps two, so a failed instance takes every flow of one link's gateway hop where Azure
//!   would take half of each link's: the same kind of loss (the flows hashed onto the
//!   failed instance) with a different share. `gateway_instance_failure` on `gateway.er`
//!   (instance 0) or `gateway.er.instanceN`: the instance dies without a word. Its sessions'
//!   gateway-side segments carry nothing (traffic through it is lost both ways); the
//!   gateway end of each of its sessions is gone at once (cause `local`: the instance's
//!   state is lost), so the gateway's table drops those paths and the VNet's forwarding
//!   follows after the route-programming delay; the MSEE end hears nothing and learns from
//!   its hold timer (Azure's 180 s), as after a `router_crash` (the model sends no TCP
//!   reset). After the failover time (the gateway's `planned_failover`, default 10–15 s, or
//!   `unplanned_failover`, default 60–90 s, drawn from the seeded stream; Microsoft
//!   documents no figure for the ExpressRoute gateway, so these are the VPN gateway's,
//!   an assumption) the instance is back with no state: its segments carry traffic again
//!   and its sessions come up when the MSEE reconnects.

use std::collections::BTreeMap;

use bgp::wire::CeaseSubcode;
use ipnet::IpNet;
use sim_core::time::{Duration, Instant};

use super::faults::Undo;
use super::net::{SegIx, SessIx};
use super::world::{Ev, World, draw_time};
use crate::report::{DownCause, TimelineEvent};
use crate::topology::{self, LinkSide, PeeringKind, PublicPrefixesState, Role, Topology};

/// Azure holds a session down because a configuration gate is closed (domain.md: the circuit
/// must be Provisioned and Enabled, the peering enabled, Microsoft peering's public prefixes
/// Configured).
pub(crate) const BLOCK_GATE: u8 = 1;
/// ... because the circuit was deprovisioned by a fault.
pub(crate) const BLOCK_DEPROVISIONED: u8 = 2;
/// ... because its MSEE is down for maintenance.
pub(crate) const BLOCK_MAINTENANCE: u8 = 4;
/// ... because its circuit is deleted and re-created (a bandwidth downgrade). Bit 8 is
/// `sim::faults`' peering-disabled bit.
pub(crate) const BLOCK_RECREATE: u8 = 16;

/// Azure's state during a run.
#[derive(Clone)]
pub(crate) struct Azure {
    /// Per session: why Azure holds it down (bits `BLOCK_*`); the Azure end refuses
    /// connections and stays stopped while any bit is set.
    blocks: Vec<u8>,
    /// Per circuit: the advertised-public-prefixes state set by a fault.
    pub(crate) pp_state: Vec<Option<PublicPrefixesState>>,
    /// Per session: the tunnel under it was declared down by dead-peer detection.
    tunnel_down: Vec<bool>,
    /// The ExpressRoute gateway's BGP forwarding table (prefix → sessions), and the version of
    /// it the data plane has programmed.
    ergw_table: BTreeMap<IpNet, Vec<usize>>,
    ergw_version: u64,
    /// The same for each tenant's gateway (by router), when the network is a CSP's.
    tenant_tables: BTreeMap<usize, (BTreeMap<IpNet, Vec<usize>>, u64)>,
}

impl Azure {
    /// Every session closed by a gate of the topology starts blocked.
    pub(crate) fn new(topo: &Topology) -> Self {
        Self {
            blocks: (0..topo.sessions.len())
                .map(|i| {
                    if topo.session_gate(topology::SessionIx(i)).is_some() {
                        BLOCK_GATE
                    } else {
                        0
                    }
                })
                .collect(),
            pp_state: vec![None; topo.circuits.len()],
            tunnel_down: vec![false; topo.sessions.len()],
            ergw_table: BTreeMap::new(),
            ergw_version: 0,
            tenant_tables: BTreeMap::new(),
        }
    }
}

impl World<'_> {
    /// ExpressRoute gateway `r`'s BGP table changed now; its forwarding (the VNet's) follows
    /// after the gateway's route-programming delay.
    pub(crate) fn gateway_table_changed(
        &mut self,
        now: Instant,
        r: usize,
        changes: Vec<(IpNet, Vec<SessIx>)>,
    ) {
        let Some(gateway) = self.topo.er_gateway_of(topology::RouterIx(r)) else {
            return;
        };
        let hub = self.topo.er_gateway_router() == Some(topology::RouterIx(r));
        let (table, version) = if hub {
            (&mut self.azure.ergw_table, &mut self.azure.ergw_version)
        } else {
            let e = self.azure.tenant_tables.entry(r).or_default();
            (&mut e.0, &mut e.1)
        };
        for (prefix, via) in changes {
            if via.is_empty() {
                table.remove(&prefix);
            } else {
                table.insert(prefix, via.iter().map(|s| s.0).collect());
            }
        }
        *version += 1;
        let version = *version;
        // The template's gateway keeps its stream's name (runs stay byte-identical); a
        // tenant's gateway draws from a stream of its own.
        let name = if hub {
            format!("ergw/program/{version}")
        } else {
            format!("ergw/{}/program/{version}", self.topo.routers[r].name)
        };
        let mut stream = self.seed.stream_named(&name);
        let delay = draw_time(gateway.convergence_delay, &mut stream);
        self.engine.schedule_at(
            now + delay,
            Ev::Program {
                gateway: r,
                version,
            },
        );
    }

    /// ExpressRoute gateway `r` programs its table as of `version` (only the newest counts).
    pub(crate) fn program_gateway(&mut self, r: usize, version: u64) {
        let hub = self.topo.er_gateway_router() == Some(topology::RouterIx(r));
        let (table, newest) = if hub {
            (&self.azure.ergw_table, self.azure.ergw_version)
        } else {
            match self.azure.tenant_tables.get(&r) {
                Some((t, v)) => (t, *v),
                None => return,
            }
        };
        if version != newest {
            return;
        }
        let table = table.clone();
        let now = self.engine.now();
        // Replace the programmed table with the BGP table.
        let mut prefixes: Vec<IpNet> = table.keys().copied().collect();
        let programmed = self.fwd.routes_of(self.topo, r, table.keys().copied());
        for (prefix, _) in programmed {
            if !prefixes.contains(&prefix) {
                prefixes.push(prefix);
            }
        }
        for prefix in prefixes {
            let via: Vec<SessIx> = table
                .get(&prefix)
                .map_or_else(Vec::new, |v| v.iter().map(|s| SessIx(*s)).collect());
            self.fwd.set_fib(self.topo, r, prefix, &via);
            if hub {
                self.fwd.update_vnet_route(self.topo, prefix);
            }
        }
        self.meas.fib_changed(r, now);
        let routes = table.len() as u64;
        self.meas.push(
            now,
            Some(self.topo.routers[r].name.clone()),
            TimelineEvent::GatewayConverged { routes },
        );
    }

    /// The peering sessions on circuit `c` (of one kind, or all); customer–PE sessions of a
    /// layer-3 provider are not Azure's and are left out.
    pub(crate) fn circuit_sessions(&self, c: usize, kind: Option<PeeringKind>) -> Vec<usize> {
        self.topo
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == topology::SessionKind::Peering)
            .filter(|(_, s)| {
                s.on.is_some_and(|(ci, _, k)| ci.0 == c && kind.is_none_or(|want| want == k))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The sessions router `r` takes part in, with the prepend it is configured with there.
    pub(crate) fn sessions_of(&self, r: usize) -> Vec<(usize, u8)> {
        self.topo
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                s.ends
                    .iter()
                    .find(|e| e.router.0 == r)
                    .map(|e| (i, e.prepend))
            })
            .collect()
    }

    /// Whether Azure's configuration gates keep session `s` down now, with the public
    /// prefixes state a fault may have set.
    pub(crate) fn gate_closed(&self, s: usize) -> bool {
        let gate = self.topo.session_gate(topology::SessionIx(s));
        let ms = self.topo.sessions[s]
            .on
            .filter(|(_, _, k)| *k == PeeringKind::Microsoft);
        match ms.and_then(|(c, _, _)| self.azure.pp_state[c.0]) {
            Some(state) => {
                state != PublicPrefixesState::Configured
                    || gate.is_some_and(|g| !matches!(g, topology::Gate::PublicPrefixes(_)))
            }
            None => gate.is_some(),
        }
    }

    /// Sets or clears one reason for which Azure holds session `s` down. When the first
    /// reason appears the MSEE end stops the session (NOTIFICATION Cease / Administrative
    /// Shutdown, RFC 4486 §4 subcode 2, so the customer end learns it at once) and refuses
    /// new connections; when the last one goes it listens again and the customer's next
    /// connection attempt brings the session up.
    pub(crate) fn set_block(&mut self, s: usize, bit: u8, on: bool, why: &str) {
        let was = self.azure.blocks[s] != 0;
        if on {
            self.azure.blocks[s] |= bit;
        } else {
            self.azure.blocks[s] &= !bit;
        }
        let is = self.azure.blocks[s] != 0;
        if was == is {
            return;
        }
        let now = self.engine.now();
        let Some(end) = self.topo.sessions[s]
            .ends
            .iter()
            .position(|e| self.topo.routers[e.router.0].role == Role::Msee)
        else {
            return;
        };
        let r = self.topo.sessions[s].ends[end].router.0;
        self.net.set_accepting(SessIx(s), !is);
        if !self.net.is_alive(r) {
            return;
        }
        if is {
            // RFC 4486 §4: a deprovisioned (or deleted) circuit's peering is no longer
            // configured at all: Cease 6/3 Peer De-configured; every other gate is an
            // administrative shutdown (6/2).
            let subcode = if bit == BLOCK_DEPROVISIONED || bit == BLOCK_RECREATE {
                CeaseSubcode::PEER_DECONFIGURED
            } else {
                CeaseSubcode::ADMINISTRATIVE_SHUTDOWN
            };
            self.routers[r].admin_stop(now, SessIx(s), subcode, why);
        } else {
            self.routers[r].admin_start(now, SessIx(s));
        }
        self.flush_router(r);
    }

    /// The tunnel segments stop carrying traffic (IPsec packets vanish on the internet
    /// path); dead-peer detection declares them down after the gateway's DPD timeout.
    pub(crate) fn tunnels_silent(&mut self, index: usize, segments: Vec<usize>) {
        for s in &segments {
            self.net.set_silent(SegIx(*s), true);
        }
        let dpd = self
            .topo
            .vpn
            .as_ref()
            .map_or(Duration::ZERO, |g| g.dpd_timeout);
        self.engine
            .schedule_at(self.engine.now() + dpd, Ev::Stage { index, stage: 1 });
        self.faults.undo.insert(index, Undo::Tunnels { segments });
    }

    /// The tunnels silenced by fault `index` carry traffic again; their sessions reconnect.
    pub(crate) fn tunnels_back(&mut self, index: usize) {
        let Some(Undo::Tunnels { segments }) = self.faults.undo.remove(&index) else {
            return;
        };
        for s in &segments {
            self.net.set_silent(SegIx(*s), false);
        }
        for s in self.sessions_over(&segments) {
            self.tunnel_session_up(s);
        }
        self.faults.undo.insert(index, Undo::Done);
    }

    fn sessions_over(&self, segments: &[usize]) -> Vec<usize> {
        self.topo
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.path.iter().any(|p| segments.contains(&p.0)))
            .map(|(i, _)| i)
            .collect()
    }

    /// IKE dead-peer detection (RFC 3706) declared the tunnels under these segments down:
    /// each end's tunnel interface goes down, which takes the BGP session over it down at
    /// once, as carrier loss does (reported with cause `carrier`).
    pub(crate) fn dpd_expired(&mut self, segments: &[usize]) {
        for s in self.sessions_over(segments) {
            self.tunnel_session_down(s);
        }
    }

    fn tunnel_session_down(&mut self, s: usize) {
        if self.azure.tunnel_down[s] {
            return;
        }
        self.azure.tunnel_down[s] = true;
        let now = self.engine.now();
        for end in 0..2u8 {
            let r = self.router_at(SessIx(s), end);
            if !self.net.is_alive(r) {
                continue;
            }
            self.sessions[s].pending_cause[usize::from(end)] = Some(DownCause::Carrier);
            self.net.drop_end(&mut self.engine, SessIx(s), end);
            self.routers[r].handle_interface(now, SessIx(s), false);
            self.flush_router(r);
        }
    }

    fn tunnel_session_up(&mut self, s: usize) {
        if !self.azure.tunnel_down[s] {
            return;
        }
        self.azure.tunnel_down[s] = false;
        let now = self.engine.now();
        for end in 0..2u8 {
            let r = self.router_at(SessIx(s), end);
            if self.net.is_alive(r) {
                self.routers[r].handle_interface(now, SessIx(s), true);
                self.routers[r].reconnect(now, SessIx(s));
                self.flush_router(r);
            }
        }
    }

    /// A VPN gateway instance fails. Active-standby: the gateway is unreachable (its state
    /// lost, nothing told to the device) until the standby takes over after the failover
    /// time drawn from the seeded stream; the device's dead-peer detection takes its tunnel
    /// down after the DPD timeout if that comes first. Active-active: only that instance's
    /// tunnel stops for the failover time, the other tunnel keeps its session.
    pub(crate) fn gateway_failure(&mut self, index: usize, instance: Option<u8>, planned: bool) {
        let Some(g) = self.topo.vpn.clone() else {
            return;
        };
        let mut stream = self.seed.stream_named(&format!("fault/{index}/failover"));
        let spec = if planned {
            g.planned_failover
        } else {
            g.unplanned_failover
        };
        let failover = draw_time(spec, &mut stream);
        let now = self.engine.now();
        self.engine
            .schedule_at(now + failover, Ev::Stage { index, stage: 2 });
        match g.mode {
            topology::VpnMode::ActiveActive => {
                let k = usize::from(instance.unwrap_or(0));
                let segments: Vec<usize> = g.tunnels.get(k).map(|s| s.0).into_iter().collect();
                self.tunnels_silent(index, segments);
            }
            topology::VpnMode::ActiveStandby => {
                self.crash_router(g.router.0, false);
                self.engine
                    .schedule_at(now + g.dpd_timeout, Ev::Stage { index, stage: 1 });
                let segments = g.tunnels.iter().map(|s| s.0).collect();
                self.faults.undo.insert(index, Undo::Tunnels { segments });
            }
        }
    }

    /// A later stage of a gateway instance failure: dead-peer detection (1) or the failover
    /// done (2).
    pub(crate) fn gateway_stage(&mut self, index: usize, stage: u8) {
        let Some(g) = self.topo.vpn.clone() else {
            return;
        };
        let Some(Undo::Tunnels { segments }) = self.faults.undo.get(&index).cloned() else {
            return;
        };
        match (g.mode, stage) {
            (_, 1) => self.dpd_expired(&segments),
            (topology::VpnMode::ActiveActive, _) => self.tunnels_back(index),
            (topology::VpnMode::ActiveStandby, _) => {
                // The standby instance answers with a fresh IKE SA: whatever the device still
                // held for the old instance is gone (a device whose DPD had not fired yet
                // sees the tunnel flap), then the new tunnel and its BGP session come up.
                self.dpd_expired(&segments);
                self.restart_router(g.router.0);
                self.faults.undo.insert(index, Undo::Done);
                for s in self.sessions_over(&segments) {
                    self.tunnel_session_up(s);
                }
            }
        }
    }

    /// The ExpressRoute gateway's sessions that instance `instance` holds (0: those with
    /// each circuit's primary MSEE, 1: the secondary MSEEs; IPv6 ones included).
    pub(crate) fn er_instance_sessions(&self, instance: u8) -> Vec<usize> {
        let side = if instance == 0 {
            LinkSide::Primary
        } else {
            LinkSide::Secondary
        };
        self.topo
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == topology::SessionKind::Gateway)
            .filter(|(_, s)| s.on.is_some_and(|(_, sd, _)| sd == side))
            .map(|(i, _)| i)
            .collect()
    }

    /// An ExpressRoute gateway instance fails (see the module's notes): its segments go
    /// silent, the gateway end of each of its sessions is gone at once, and it comes back
    /// (stage 2) after the failover time drawn from the seeded stream.
    pub(crate) fn er_gateway_failure(&mut self, index: usize, instance: u8, planned: bool) {
        let Some(g) = self.topo.er_gateway.clone() else {
            return;
        };
        if self.faults.undo.contains_key(&index) {
            return;
        }
        let mut stream = self.seed.stream_named(&format!("fault/{index}/failover"));
        let spec = if planned {
            g.planned_failover
        } else {
            g.unplanned_failover
        };
        let failover = draw_time(spec, &mut stream);
        let now = self.engine.now();
        let sessions = self.er_instance_sessions(instance);
        let mut segments: Vec<usize> = sessions
            .iter()
            .flat_map(|s| self.topo.sessions[*s].path.iter().map(|p| p.0))
            .collect();
        segments.sort_unstable();
        segments.dedup();
        for s in &segments {
            self.net.set_silent(SegIx(*s), true);
        }
        let r = g.router.0;
        if self.net.is_alive(r) {
            for &s in &sessions {
                let Some(end) = self.topo.sessions[s]
                    .ends
                    .iter()
                    .position(|e| e.router.0 == r)
                else {
                    continue;
                };
                self.sessions[s].pending_cause[end] = Some(DownCause::Local);
                self.net
                    .drop_end(&mut self.engine, SessIx(s), u8::from(end == 1));
                self.routers[r].handle_interface(now, SessIx(s), false);
            }
            self.flush_router(r);
        }
        self.engine
            .schedule_at(now + failover, Ev::Stage { index, stage: 2 });
        self.faults
            .undo
            .insert(index, Undo::ErInstance { sessions, segments });
    }

    /// The failed ExpressRoute gateway instance is back, with no state: its segments carry
    /// traffic again and the gateway end of its sessions waits for the MSEE's connection.
    pub(crate) fn er_gateway_back(&mut self, index: usize) {
        let Some(Undo::ErInstance { sessions, segments }) = self.faults.undo.remove(&index) else {
            return;
        };
        self.faults.undo.insert(index, Undo::Done);
        for s in &segments {
            self.net.set_silent(SegIx(*s), false);
        }
        let Some(r) = self.topo.er_gateway_router().map(|r| r.0) else {
            return;
        };
        if !self.net.is_alive(r) {
            return;
        }
        let now = self.engine.now();
        for s in sessions {
            self.routers[r].handle_interface(now, SessIx(s), true);
            self.routers[r].reconnect(now, SessIx(s));
        }
        self.flush_router(r);
    }
}
