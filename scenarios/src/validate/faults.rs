//! The fault timeline: each `[[fault]]` resolved to a [`FaultAction`], with the keys each kind
//! takes, and the order checks (`restore` and `router_restart` follow what they undo).

use sim_core::time::Duration;

use crate::diag::Diagnostic;
use crate::scenario::{Fault, FaultAction};
use crate::spec::{FaultKind, FaultSpec};
use crate::topology::{
    self, PeeringKind, Role, SessionIx, SessionKind, Target, TargetClass, Topology,
};
use crate::units::Bandwidth;

use super::{Validator, peering_sessions, root};

impl Validator {
    pub(super) fn fault(&mut self, i: usize, f: &FaultSpec, topo: &Topology) -> Option<Fault> {
        self.fault_at(i, root().key("fault").index(i), f, topo)
    }

    /// Validates fault `i`, written at `path` (`fault[i]`, or `audit.fault[i]` for an audit's
    /// own failure).
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per fault kind, each short; a table of closures would be harder to read"
    )]
    pub(super) fn fault_at(
        &mut self,
        i: usize,
        path: crate::diag::KeyPath,
        f: &FaultSpec,
        topo: &Topology,
    ) -> Option<Fault> {
        let kind = f.kind;
        let mut ok = self.time(f.at, &path.key("at"));
        if let Some(d) = f.duration
            && d.min().is_zero()
        {
            self.error(
                Diagnostic::error(path.key("duration"), "a fault duration of 0")
                    .expected("a positive duration, or no `duration` to last until a `restore`"),
            );
            ok = false;
        }
        // Which optional keys each kind takes.
        let takes: &[&str] = match kind {
            FaultKind::Silent | FaultKind::Down => &["target", "duration"],
            FaultKind::Loss => &["target", "duration", "loss"],
            FaultKind::Latency => &["target", "duration", "delay", "jitter"],
            FaultKind::RouterCrash | FaultKind::RouterRestart | FaultKind::Deprovision => {
                &["target"]
            }
            FaultKind::MseeMaintenance => &["target", "drain", "down_for", "prepend"],
            FaultKind::BgpDisconnect => &["target", "duration"],
            FaultKind::VpnTunnelDown => &["target", "duration"],
            FaultKind::GatewayInstanceFailure => &["target", "planned"],
            FaultKind::PrefixFlood => &["target", "duration", "count"],
            FaultKind::PublicPrefixesState => &["target", "state"],
            FaultKind::Restore => &["target"],
            FaultKind::RouterShutdown => &["target", "duration"],
            FaultKind::PeeringDisabled => &["target", "duration", "peering"],
            FaultKind::BandwidthChange => &["target", "bandwidth", "recreate"],
            FaultKind::SkuChange => &["target", "sku"],
        };
        let present = [
            ("target", f.target.is_some()),
            ("duration", f.duration.is_some()),
            ("loss", f.loss.is_some()),
            ("delay", f.delay.is_some()),
            ("jitter", f.jitter.is_some()),
            ("count", f.count.is_some()),
            ("state", f.state.is_some()),
            ("planned", f.planned.is_some()),
            ("drain", f.drain.is_some()),
            ("down_for", f.down_for.is_some()),
            ("prepend", f.prepend.is_some()),
            ("peering", f.peering.is_some()),
            ("bandwidth", f.bandwidth.is_some()),
            ("recreate", f.recreate.is_some()),
            ("sku", f.sku.is_some()),
        ];
        for (key, is) in present {
            if is && !takes.contains(&key) {
                self.error(
                    Diagnostic::error(
                        path.key(key),
                        format!("fault kind `{}` does not take `{key}`", kind.name()),
                    )
                    .allowed(["kind", "at"].iter().chain(takes.iter()).copied()),
                );
                ok = false;
            }
        }
        let default_target = match kind {
            FaultKind::VpnTunnelDown => Some("vpn.tunnel"),
            FaultKind::GatewayInstanceFailure => Some("gateway.vpn"),
            _ => None,
        };
        let target_name = f.target.as_deref().or(default_target);
        let Some(target_name) = target_name else {
            self.error(
                Diagnostic::error(
                    path,
                    format!("fault kind `{}` needs a `target`", kind.name()),
                )
                .expected("target = \"...\""),
            );
            return None;
        };
        let tpath = path.key("target");
        let is_role = |roles: &'static [Role]| {
            move |t: &Topology, target: Target| match target {
                Target::Router(r) => t.routers.get(r.0).is_some_and(|r| roles.contains(&r.role)),
                _ => true,
            }
        };
        let any = |_: &Topology, _: Target| true;
        let carrier = [
            TargetClass::Circuit,
            TargetClass::Link,
            TargetClass::Segment,
            TargetClass::VpnTunnel,
            TargetClass::Internet,
        ];
        let carrier_what = "a circuit, link (`circuit.primary`), segment (`circuit.primary.core`), `vpn.tunnel` or `internet`";
        // `gateway_instance_failure` acts on the ExpressRoute gateway when its target names
        // it, else on the VPN gateway.
        let on_er_gateway = kind == FaultKind::GatewayInstanceFailure
            && (target_name == "gateway.er" || target_name.starts_with("gateway.er."));
        if on_er_gateway && topo.er_gateway.is_none() {
            self.error(
                Diagnostic::error(
                    tpath.clone(),
                    format!(
                        "`{target_name}`: topology `{}` has no ExpressRoute gateway (it has no circuit)",
                        topo.name
                    ),
                )
                .expected("a topology with a [[topology.circuit]] (the gateway comes with it), e.g. `expressroute-vpn-failover`")
                .allowed(topo.target_names(&[TargetClass::Gateway], |t, target| {
                    !matches!(target, Target::ErGateway) || t.er_gateway.is_some()
                })),
            );
            return None;
        }
        if (kind == FaultKind::VpnTunnelDown
            || (kind == FaultKind::GatewayInstanceFailure && !on_er_gateway))
            && topo.vpn.is_none()
        {
            self.error(
                Diagnostic::error(
                    path.key("kind"),
                    format!(
                        "fault kind `{}` needs a VPN, and topology `{}` has none",
                        kind.name(),
                        topo.name
                    ),
                )
                .expected(
                    "a topology with a [topology.vpn] table, e.g. `expressroute-vpn-failover`",
                ),
            );
            return None;
        }
        let action = match kind {
            FaultKind::Silent => FaultAction::Silent {
                target: self.resolve(topo, target_name, &tpath, &carrier, any, carrier_what)?,
            },
            FaultKind::Down => FaultAction::Down {
                target: self.resolve(topo, target_name, &tpath, &carrier, any, carrier_what)?,
            },
            FaultKind::Loss => {
                let target =
                    self.resolve(topo, target_name, &tpath, &carrier, any, carrier_what)?;
                let Some(loss) = f.loss else {
                    self.error(
                        Diagnostic::error(path, "fault kind `loss` needs `loss`")
                            .expected("loss = 0.02, or loss = { mean_good = \"30s\", mean_bad = \"2s\" } for bursts"),
                    );
                    return None;
                };
                self.check_loss(loss, &path.key("loss"));
                FaultAction::Loss { target, loss }
            }
            FaultKind::Latency => {
                let target =
                    self.resolve(topo, target_name, &tpath, &carrier, any, carrier_what)?;
                if f.delay.is_none() && f.jitter.is_none() {
                    self.error(
                        Diagnostic::error(path, "fault kind `latency` needs `delay` or `jitter`")
                            .expected("delay = \"50ms\" and/or jitter = \"10ms\""),
                    );
                    return None;
                }
                FaultAction::Latency {
                    target,
                    delay: f.delay.unwrap_or(Duration::ZERO),
                    jitter: f.jitter.unwrap_or(Duration::ZERO),
                }
            }
            FaultKind::RouterCrash | FaultKind::RouterRestart | FaultKind::RouterShutdown => {
                let Target::Router(router) = self.resolve(topo, target_name, &tpath, &[TargetClass::Router], is_role(&Role::FAILS_AS_A_ROUTER), "a router: ce*, pe*, msee*, vpn1 or a `[[router]]` of the file (gateways fail with `gateway_instance_failure`)")? else {
                    return None;
                };
                match kind {
                    FaultKind::RouterCrash => FaultAction::RouterCrash { router },
                    FaultKind::RouterRestart => FaultAction::RouterRestart { router },
                    _ => FaultAction::RouterShutdown { router },
                }
            }
            FaultKind::MseeMaintenance => {
                let target = self.resolve(
                    topo,
                    target_name,
                    &tpath,
                    &[TargetClass::Link, TargetClass::Router],
                    is_role(&[Role::Msee]),
                    "a link (`circuit.primary`) or the MSEE it ends on (`msee1`)",
                )?;
                let (circuit, side) = match target {
                    Target::Link(c, s) => (c, s),
                    Target::Router(r) => topo.circuits.iter().enumerate().find_map(|(ci, c)| {
                        c.links
                            .iter()
                            .find(|l| l.msee == r)
                            .map(|l| (topology::CircuitIx(ci), l.side))
                    })?,
                    _ => return None,
                };
                let drain = f.drain.unwrap_or(Duration::from_mins(5));
                let down_for = f.down_for.unwrap_or(Duration::from_mins(10));
                let prepend = f.prepend.unwrap_or(3);
                if prepend == 0 {
                    self.error(
                        Diagnostic::error(path.key("prepend"), "a drain with no prepend")
                            .expected("1 to 10"),
                    );
                    return None;
                }
                FaultAction::MseeMaintenance {
                    circuit,
                    side,
                    drain,
                    down_for,
                    prepend,
                }
            }
            FaultKind::BgpDisconnect => {
                let keep = |t: &Topology, target: Target| match target {
                    Target::Session(s) => t
                        .sessions
                        .get(s.0)
                        .is_some_and(|s| s.kind == SessionKind::Peering),
                    _ => true,
                };
                let target = self.resolve(topo, target_name, &tpath, &[TargetClass::Link, TargetClass::Session], keep, "a peering session (`circuit.primary.private`) or a link (all its peering sessions)")?;
                FaultAction::BgpDisconnect {
                    sessions: peering_sessions(topo, target),
                }
            }
            FaultKind::VpnTunnelDown => {
                let keep = |t: &Topology, target: Target| match target {
                    Target::Segment(s) => t
                        .segments
                        .get(s.0)
                        .is_some_and(|s| s.kind == topology::SegmentKind::Tunnel),
                    _ => true,
                };
                FaultAction::VpnTunnelDown {
                    target: self.resolve(
                        topo,
                        target_name,
                        &tpath,
                        &[TargetClass::VpnTunnel, TargetClass::Segment],
                        keep,
                        "`vpn.tunnel` (the default) or one tunnel",
                    )?,
                }
            }
            FaultKind::GatewayInstanceFailure => {
                let keep = |t: &Topology, target: Target| {
                    !matches!(target, Target::ErGateway) || t.er_gateway.is_some()
                };
                let target = self.resolve(topo, target_name, &tpath, &[TargetClass::Gateway], keep, "`gateway.vpn` (the active instance, the default), `gateway.vpn.instance0`/`instance1`, `gateway.er` (its instance0) or `gateway.er.instance0`/`instance1`")?;
                let planned = f.planned.unwrap_or(false);
                match target {
                    Target::VpnGatewayInstance(i) => FaultAction::GatewayInstanceFailure {
                        instance: Some(i),
                        planned,
                    },
                    // Both ExpressRoute gateway instances are active: `gateway.er` names
                    // the first.
                    Target::ErGateway => FaultAction::ErGatewayInstanceFailure {
                        instance: 0,
                        planned,
                    },
                    Target::ErGatewayInstance(i) => FaultAction::ErGatewayInstanceFailure {
                        instance: i,
                        planned,
                    },
                    _ => FaultAction::GatewayInstanceFailure {
                        instance: None,
                        planned,
                    },
                }
            }
            FaultKind::Deprovision => {
                let circuit = self.resolve_circuit(topo, target_name, &tpath, any, "a circuit")?;
                FaultAction::Deprovision { circuit }
            }
            FaultKind::PrefixFlood => {
                let keep = |t: &Topology, target: Target| match target {
                    Target::Session(s) => t
                        .sessions
                        .get(s.0)
                        .is_some_and(|s| matches!(s.kind, SessionKind::Peering | SessionKind::Vpn)),
                    Target::Router(r) => t
                        .routers
                        .get(r.0)
                        .is_some_and(|r| matches!(r.role, Role::Ce | Role::VpnDevice)),
                    _ => true,
                };
                let target = self.resolve(topo, target_name, &tpath, &[TargetClass::Router, TargetClass::Session], keep, "a CE router or the VPN device (all its sessions towards Azure), or one peering session")?;
                let Some(count) = f.count else {
                    self.error(
                        Diagnostic::error(path, "fault kind `prefix_flood` needs `count`")
                            .expected("count = 4001 (the number of prefixes to advertise)"),
                    );
                    return None;
                };
                if count == 0 || count > 100_000 {
                    self.error(
                        Diagnostic::error(path.key("count"), format!("{count} prefixes"))
                            .expected("1 to 100000"),
                    );
                    return None;
                }
                let sessions = match target {
                    Target::Session(s) => vec![s],
                    Target::Router(r) => topo
                        .sessions
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| {
                            s.ends[0].router == r
                                && matches!(
                                    s.kind,
                                    SessionKind::Peering | SessionKind::Access | SessionKind::Vpn
                                )
                        })
                        .map(|(i, _)| SessionIx(i))
                        .collect(),
                    _ => Vec::new(),
                };
                FaultAction::PrefixFlood { sessions, count }
            }
            FaultKind::PublicPrefixesState => {
                let keep = |t: &Topology, target: Target| match target {
                    Target::Circuit(c) => t
                        .circuits
                        .get(c.0)
                        .is_some_and(|c| c.peering(PeeringKind::Microsoft).is_some()),
                    _ => false,
                };
                let circuit = self.resolve_circuit(
                    topo,
                    target_name,
                    &tpath,
                    keep,
                    "a circuit with Microsoft peering",
                )?;
                let Some(state) = f.state else {
                    self.error(
                        Diagnostic::error(path, "fault kind `public_prefixes_state` needs `state`")
                            .allowed([
                                "Configured",
                                "Configuring",
                                "ManualValidation",
                                "NotConfigured",
                                "ValidationNeeded",
                            ]),
                    );
                    return None;
                };
                FaultAction::PublicPrefixesState { circuit, state }
            }
            FaultKind::PeeringDisabled => {
                let circuit = self.resolve_circuit(topo, target_name, &tpath, any, "a circuit")?;
                let kinds: Vec<PeeringKind> = topo
                    .circuits
                    .get(circuit.0)
                    .map(|c| c.peerings.iter().map(|p| p.kind).collect())
                    .unwrap_or_default();
                let names = || kinds.iter().map(|k| k.name()).collect::<Vec<_>>();
                let peering = match (f.peering, kinds.as_slice()) {
                    (Some(k), _) if kinds.contains(&k) => k,
                    (None, [only]) => *only,
                    (Some(k), _) => {
                        self.error(
                            Diagnostic::error(
                                path.key("peering"),
                                format!("circuit `{target_name}` has no {} peering", k.name()),
                            )
                            .allowed(names()),
                        );
                        return None;
                    }
                    (None, _) => {
                        self.error(
                            Diagnostic::error(
                                path,
                                format!(
                                    "fault kind `peering_disabled` needs `peering`: circuit `{target_name}` has {} peerings",
                                    kinds.len()
                                ),
                            )
                            .allowed(names()),
                        );
                        return None;
                    }
                };
                FaultAction::PeeringDisabled { circuit, peering }
            }
            FaultKind::BandwidthChange | FaultKind::SkuChange => {
                let circuit = self.resolve_circuit(topo, target_name, &tpath, any, "a circuit")?;
                self.change(kind, circuit, f, &path)?
            }
            FaultKind::Restore => {
                let all = [
                    TargetClass::Circuit,
                    TargetClass::Gateway,
                    TargetClass::Internet,
                    TargetClass::Link,
                    TargetClass::Router,
                    TargetClass::Segment,
                    TargetClass::Session,
                    TargetClass::VpnTunnel,
                ];
                FaultAction::Restore {
                    target: self.resolve(
                        topo,
                        target_name,
                        &tpath,
                        &all,
                        any,
                        "anything an earlier fault targeted",
                    )?,
                }
            }
        };
        if let Some(name) = &f.episode
            && name.trim().is_empty()
        {
            self.error(
                Diagnostic::error(path.key("episode"), "an empty episode name")
                    .expected("a name shared by the faults to measure as one episode"),
            );
            ok = false;
        }
        ok.then_some(Fault {
            index: i,
            at: f.at,
            duration: f.duration,
            action,
            episode: f.episode.clone(),
        })
    }

    /// `restore` and `router_restart` must follow a fault on the same target. Only faults
    /// certainly earlier count (a range counts from its latest value).
    pub(super) fn timeline(&mut self, faults: &[Fault], topo: &Topology) {
        for (i, f) in faults.iter().enumerate() {
            let (target, what) = match f.action {
                FaultAction::Restore { target } => (target, "restore"),
                FaultAction::RouterRestart { router } => (Target::Router(router), "router_restart"),
                _ => continue,
            };
            let earlier: Vec<Target> = faults[..i]
                .iter()
                .filter(|e| {
                    e.at.max() < f.at.min()
                        && !matches!(
                            e.action,
                            FaultAction::Restore { .. } | FaultAction::RouterRestart { .. }
                        )
                })
                .filter(|e| {
                    what != "router_restart" || matches!(e.action, FaultAction::RouterCrash { .. })
                })
                .filter_map(|e| e.action.target())
                .collect();
            if !earlier.contains(&target) {
                let name = topo.target_name(target);
                let mut allowed: Vec<String> =
                    earlier.iter().map(|t| topo.target_name(*t)).collect();
                allowed.dedup();
                self.error(
                    Diagnostic::error(
                        root().key("fault").index(f.index).key("target"),
                        format!(
                            "`{what}` of `{name}` at {}, but no earlier fault {} `{name}`",
                            f.at,
                            if what == "restore" {
                                "targets"
                            } else {
                                "crashes"
                            }
                        ),
                    )
                    .expected(if what == "restore" {
                        "the target of an earlier fault"
                    } else {
                        "a router crashed by an earlier `router_crash`"
                    })
                    .allowed(allowed),
                );
            }
        }
    }
}

/// The longest `recreate` a bandwidth downgrade may take (a day: longer is not a failover).
const MAX_RECREATE: Duration = Duration::from_secs(24 * 3600);

impl Validator {
    /// `bandwidth_change` and `sku_change` on `circuit`: the new value must be one Azure sells
    /// and differ from the configured one; a downgrade's `recreate` is bounded.
    fn change(
        &mut self,
        kind: FaultKind,
        circuit: topology::CircuitIx,
        f: &FaultSpec,
        path: &crate::diag::KeyPath,
    ) -> Option<FaultAction> {
        if kind == FaultKind::SkuChange {
            let Some(sku) = f.sku else {
                self.error(
                    Diagnostic::error(path.clone(), "fault kind `sku_change` needs `sku`")
                        .allowed(["standard", "premium"]),
                );
                return None;
            };
            return Some(FaultAction::SkuChange { circuit, sku });
        }
        let offered = || {
            topology::CIRCUIT_BANDWIDTHS_MBPS
                .iter()
                .map(|m| Bandwidth::from_mbps(*m).to_string())
        };
        let Some(bandwidth) = f.bandwidth else {
            self.error(
                Diagnostic::error(
                    path.clone(),
                    "fault kind `bandwidth_change` needs `bandwidth`",
                )
                .allowed(offered()),
            );
            return None;
        };
        if !topology::CIRCUIT_BANDWIDTHS_MBPS
            .iter()
            .any(|m| Bandwidth::from_mbps(*m) == bandwidth)
        {
            self.error(
                Diagnostic::error(
                    path.key("bandwidth"),
                    format!("ExpressRoute is not sold at {bandwidth}"),
                )
                .allowed(offered()),
            );
            return None;
        }
        let recreate = f.recreate.unwrap_or(topology::CIRCUIT_RECREATE);
        if recreate.is_zero() || recreate > MAX_RECREATE {
            self.error(
                Diagnostic::error(path.key("recreate"), format!("recreate = {recreate}"))
                    .expected("a positive duration of at most 24h"),
            );
            return None;
        }
        Some(FaultAction::BandwidthChange {
            circuit,
            bandwidth,
            recreate,
        })
    }
}
