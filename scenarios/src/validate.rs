//! From a parsed [`ScenarioSpec`] to a runnable [`Scenario`]: resolve every name against the
//! topology, apply the overrides, and apply Azure's rules the way Azure would — refusing what
//! it refuses, adjusting (with a warning) what it adjusts.
//!
//! Azure's rules (domain.md) and where they are enforced:
//!
//! - hold time 1 or 2 s: refused. RFC 4271 §4.2: "The Hold Time MUST be either zero or at
//!   least three seconds"; a peer would answer NOTIFICATION 2/6 (Unacceptable Hold Time).
//! - keepalive longer than the hold time: refused (the hold timer would always expire first).
//! - towards an MSEE, hold below 10 s or keepalive below 3 s: refused, because the MSEE
//!   refuses such an OPEN and the session would never come up (the MSEE "accepts keepalive
//!   down to 3 s and hold down to 10 s"); hold 0 is refused for the same reason.
//! - BFD faster than 300 ms towards an MSEE: adjusted to 300 ms with a warning ("a customer
//!   may ask for slower, never faster").
//! - reserved ASNs (8074, 8075, 12076, 65515–65520) on the customer side: refused.
//! - Microsoft's timers (MSEE, gateways) cannot be changed: refused with the reason.
//! - VPN gateway timers are fixed at 60/180 and not negotiated down: a shorter hold on the
//!   VPN device is adjusted to 180 s with a warning.
//! - provisioning states and the advertised-public-prefixes state that keep sessions down,
//!   and prefix counts above a limit: warnings (the run shows the consequence).
//!
//! Every problem is a [`Diagnostic`] with a key path; [`crate::load`] adds the line and column.

/// LOCAL_PREF the CEs set on routes learned over ExpressRoute unless `[policy]
/// expressroute_local_pref` says otherwise (domain.md: "e.g. 150 against the default 100").
pub const DEFAULT_EXPRESSROUTE_LOCAL_PREF: u32 = 150;

use ipnet::Ipv4Net;
use sim_core::time::Duration;

use crate::diag::{Diagnostic, KeyPath};
use crate::scenario::{
    Bounds, Check, Direction, Expectation, Fault, FaultAction, MessageType, Metric, Probe,
    Scenario, TcpConfig,
};
use crate::spec::{
    BfdRouterOverride, BgpRouterOverride, ExpectSpec, FaultKind, FaultSpec, LinkOverride,
    ProbeDirection, ScenarioSpec, TcpPreset, TopologyChoice, TopologySpec,
};
use crate::topology::{
    self, BUILTIN_TOPOLOGIES, MSEE_BFD_MIN_INTERVAL, MSEE_MIN_HOLD_TIME, MSEE_MIN_KEEPALIVE,
    PeeringKind, Role, RouterIx, SegmentIx, SessionIx, SessionKind, Target, TargetClass, Topology,
};
use crate::units::{LossModel, Quantity, TimeSpec};

/// Validates `spec`. Returns the scenario (when there is no error) and every diagnostic,
/// errors and warnings, with key paths but no spans yet.
#[must_use]
pub fn validate(spec: &ScenarioSpec) -> (Option<Scenario>, Vec<Diagnostic>) {
    let mut v = Validator {
        diags: Vec::new(),
        duration: spec.duration,
    };
    let scenario = v.scenario(spec);
    let errors = v.diags.iter().any(Diagnostic::is_error);
    (if errors { None } else { scenario }, v.diags)
}

struct Validator {
    diags: Vec<Diagnostic>,
    duration: Duration,
}

fn root() -> KeyPath {
    KeyPath::root()
}

impl Validator {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn scenario(&mut self, spec: &ScenarioSpec) -> Option<Scenario> {
        if spec.name.trim().is_empty() {
            self.error(
                Diagnostic::error(root().key("name"), "the scenario name is empty")
                    .expected("a short title"),
            );
        }
        if spec.description.trim().is_empty() {
            self.error(
                Diagnostic::error(root().key("description"), "the description is empty")
                    .expected("a paragraph a student can read: what happens and what to look at"),
            );
        }
        if spec.duration.is_zero() || spec.duration > Duration::from_secs(7 * 86_400) {
            self.error(
                Diagnostic::error(
                    root().key("duration"),
                    format!("duration {} is out of range", spec.duration),
                )
                .expected("more than 0 and at most 7d"),
            );
        }
        let mut topo = self.topology(&spec.topology)?;
        self.prefixes(spec, &mut topo);
        self.bgp(spec, &mut topo);
        self.bfd(spec, &mut topo);
        let tcp = self.tcp(spec);
        self.policy(spec, &mut topo);
        for (i, l) in spec.link.iter().enumerate() {
            self.link_override(l, &root().key("link").index(i), &mut topo);
        }
        self.azure_timer_rules(spec, &mut topo);
        self.gates_and_limits(spec, &topo);
        let faults = spec
            .fault
            .iter()
            .enumerate()
            .filter_map(|(i, f)| self.fault(i, f, &topo))
            .collect();
        let probes = self.probes(spec, &topo);
        let directions: Vec<Direction> = probes
            .iter()
            .flat_map(|p: &Probe| p.directions.iter().cloned())
            .collect();
        let expectations = spec
            .expect
            .iter()
            .enumerate()
            .filter_map(|(i, e)| self.expect(i, e, &topo, &directions))
            .collect();
        let warnings = self
            .diags
            .iter()
            .filter(|d| !d.is_error())
            .cloned()
            .collect();
        Some(Scenario {
            name: spec.name.clone(),
            description: spec.description.clone(),
            topology: topo,
            duration: spec.duration,
            seed: spec.seed.unwrap_or(0),
            tcp,
            faults,
            probes,
            expectations,
            warnings,
        })
    }

    fn topology(&mut self, choice: &TopologyChoice) -> Option<Topology> {
        let path = root().key("topology");
        match choice {
            TopologyChoice::Builtin(name) => {
                let Some(text) = topology::builtin_source(name) else {
                    self.error(
                        Diagnostic::error(path, format!("unknown built-in topology `{name}`"))
                            .expected("the name of a built-in topology, or a [topology] table")
                            .allowed(BUILTIN_TOPOLOGIES.iter().map(|(n, _)| *n)),
                    );
                    return None;
                };
                let spec: TopologySpec = match toml::from_str(text) {
                    Ok(s) => s,
                    Err(e) => {
                        // Only reachable if a built-in file is broken; the library tests
                        // parse every one of them.
                        self.error(Diagnostic::error(
                            path,
                            format!("built-in topology `{name}` does not parse: {}", e.message()),
                        ));
                        return None;
                    }
                };
                let mut inner = Vec::new();
                let topo = topology::build(name, &spec, &root(), &mut inner);
                for mut d in inner {
                    d.message = format!("built-in topology `{name}`: {}", d.message);
                    d.path = path.clone();
                    self.diags.push(d);
                }
                topo
            }
            TopologyChoice::Custom(spec) => topology::build("custom", spec, &path, &mut self.diags),
        }
    }

    fn prefixes(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        let Some(p) = &spec.prefixes else { return };
        let path = root().key("prefixes");
        if let Some(n) = p.onprem {
            if n == 0 || n > 16_384 {
                self.error(
                    Diagnostic::error(path.key("onprem"), format!("{n} on-premises prefixes"))
                        .expected("1 to 16384"),
                );
            } else {
                let extra = generated_prefixes(POOL_ONPREM, &topo.onprem_prefixes, n);
                set_announced(topo, &topo.onprem_prefixes.clone(), &extra);
                topo.onprem_prefixes = extra;
            }
        }
        if let Some(n) = p.vnet {
            if n == 0 || n > 4_096 {
                self.error(
                    Diagnostic::error(path.key("vnet"), format!("{n} prefixes per VNet"))
                        .expected("1 to 4096"),
                );
            } else {
                let old: Vec<Ipv4Net> = topo
                    .vnets
                    .iter()
                    .flat_map(|v| v.prefixes.iter().copied())
                    .collect();
                for (i, vnet) in topo.vnets.iter_mut().enumerate() {
                    let pool = POOL_VNET.saturating_add(u32::try_from(i).unwrap_or(0) << 16);
                    vnet.prefixes = generated_prefixes(pool, &vnet.prefixes, n);
                }
                let new: Vec<Ipv4Net> = topo
                    .vnets
                    .iter()
                    .flat_map(|v| v.prefixes.iter().copied())
                    .collect();
                set_announced(topo, &old, &new);
            }
        }
    }

    fn bgp(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        let Some(bgp) = &spec.bgp else { return };
        let path = root().key("bgp");
        let global = BgpRouterOverride {
            keepalive: bgp.keepalive,
            hold_time: bgp.hold_time,
            connect_retry: bgp.connect_retry,
            profile: bgp.profile,
        };
        for r in &mut topo.routers {
            if matches!(r.role, Role::Ce | Role::Pe | Role::VpnDevice) {
                apply_bgp(r, &global);
            }
        }
        self.check_timer_values(&global, &path);
        for (name, o) in &bgp.router {
            let p = path.key("router").key(name);
            let Some(ix) = topo.router(name) else {
                self.error(
                    Diagnostic::error(p, format!("unknown router `{name}`"))
                        .allowed(topo.routers.iter().map(|r| r.name.clone())),
                );
                continue;
            };
            let Some(router) = topo.routers.get_mut(ix.0) else {
                continue;
            };
            if matches!(router.role, Role::Msee | Role::ErGateway | Role::VpnGateway)
                && (o.keepalive.is_some() || o.hold_time.is_some() || o.connect_retry.is_some())
            {
                let key = if o.hold_time.is_some() {
                    "hold_time"
                } else if o.keepalive.is_some() {
                    "keepalive"
                } else {
                    "connect_retry"
                };
                self.error(
                    Diagnostic::error(
                        p.key(key),
                        format!("the timers of `{name}` are Microsoft's and cannot be changed"),
                    )
                    .expected("timers on a customer router (ce*, pe*, vpn1); only `profile` may be set here")
                    .note("Microsoft's side is fixed at keepalive 60 s / hold 180 s; lower the timers on your router and the session uses the smaller hold time (RFC 4271 §4.2)"),
                );
                continue;
            }
            apply_bgp(router, o);
            self.check_timer_values(o, &p);
        }
    }

    /// Whole-second and range checks on timer values as written.
    fn check_timer_values(&mut self, o: &BgpRouterOverride, path: &KeyPath) {
        for (key, value) in [
            ("hold_time", o.hold_time),
            ("keepalive", o.keepalive),
            ("connect_retry", o.connect_retry),
        ] {
            let Some(d) = value else { continue };
            if d.as_nanos() % 1_000_000_000 != 0 || d > Duration::from_secs(65_535) {
                self.error(
                    Diagnostic::error(path.key(key), format!("{key} {d} is not a whole number of seconds up to 65535s"))
                        .expected("whole seconds, e.g. \"30s\" or \"3m\"")
                        .note("the OPEN message carries the hold time as a 16-bit count of seconds (RFC 4271 §4.2), and routers configure keepalive in seconds"),
                );
            }
        }
        if let Some(h) = o.hold_time {
            if h == Duration::from_secs(1) || h == Duration::from_secs(2) {
                self.error(
                    Diagnostic::error(path.key("hold_time"), format!("hold time {h} is not allowed"))
                        .expected("0 or at least 3s")
                        .note("RFC 4271 §4.2: \"The Hold Time MUST be either zero or at least three seconds\"; a peer refuses it with NOTIFICATION 2/6 (Unacceptable Hold Time)"),
                );
            }
            if let Some(k) = o.keepalive
                && !h.is_zero()
                && k > h
            {
                self.error(
                    Diagnostic::error(
                        path.key("keepalive"),
                        format!("keepalive {k} is longer than the hold time {h}"),
                    )
                    .expected(format!(
                        "at most the hold time; usually a third of it ({})",
                        h / 3
                    ))
                    .note("the peer's hold timer would expire before each keepalive arrives"),
                );
            }
        }
    }

    fn bfd(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        let Some(bfd) = &spec.bfd else { return };
        let path = root().key("bfd");
        let global = BfdRouterOverride {
            enabled: bfd.enabled,
            interval: bfd.interval,
            multiplier: bfd.multiplier,
        };
        self.check_bfd_values(&global, &path);
        for r in &mut topo.routers {
            if matches!(r.role, Role::Ce | Role::Pe) {
                apply_bfd(r, &global);
            }
        }
        for (name, o) in &bfd.router {
            let p = path.key("router").key(name);
            let Some(ix) = topo.router(name) else {
                self.error(
                    Diagnostic::error(p, format!("unknown router `{name}`"))
                        .allowed(topo.routers.iter().map(|r| r.name.clone())),
                );
                continue;
            };
            self.check_bfd_values(o, &p);
            let Some(router) = topo.routers.get_mut(ix.0) else {
                continue;
            };
            match router.role {
                Role::VpnGateway | Role::VpnDevice if o.enabled == Some(true) => {
                    self.error(
                        Diagnostic::error(p.key("enabled"), format!("BFD cannot run on `{name}`"))
                            .note("the Azure VPN gateway does not support BFD (domain.md); its session relies on the 60/180 s timers and IKE dead-peer detection"),
                    );
                    continue;
                }
                Role::Msee if o.enabled == Some(false) => {
                    self.error(
                        Diagnostic::error(p.key("enabled"), "BFD on the MSEE cannot be turned off")
                            .note("BFD is on by default on the MSEE for private and Microsoft peering; disable it on your router instead"),
                    );
                    continue;
                }
                _ => {}
            }
            apply_bfd(router, o);
            if router.role == Role::Msee
                && let Some(b) = router.bfd.as_mut()
                && b.interval < MSEE_BFD_MIN_INTERVAL
            {
                self.diags.push(
                            Diagnostic::warning(
                                p.key("interval"),
                                format!("the MSEE runs BFD at 300ms, not {}", b.interval),
                            )
                            .note("the MSEE's BFD interval is 300 ms (750 ms in some cases); slower may be asked for, never faster"),
                        );
                b.interval = MSEE_BFD_MIN_INTERVAL;
            }
        }
    }

    fn check_bfd_values(&mut self, o: &BfdRouterOverride, path: &KeyPath) {
        if o.multiplier == Some(0) {
            self.error(
                Diagnostic::error(path.key("multiplier"), "BFD detect multiplier 0")
                    .expected("1 to 255 (3 in every published ExpressRoute example)")
                    .note("RFC 5880 §4.1: \"Detect Mult ... MUST NOT be zero\""),
            );
        }
        if let Some(i) = o.interval
            && i < Duration::from_millis(1)
        {
            self.error(
                Diagnostic::error(
                    path.key("interval"),
                    format!("BFD interval {i} is too short"),
                )
                .expected("at least 1ms (the MSEE itself runs 300ms)"),
            );
        }
    }

    fn tcp(&mut self, spec: &ScenarioSpec) -> TcpConfig {
        let Some(t) = &spec.tcp else {
            return TcpConfig::preset(TcpPreset::Linux);
        };
        let path = root().key("tcp");
        let mut c = TcpConfig::preset(t.preset.unwrap_or(TcpPreset::Linux));
        if let Some(v) = t.rto_min {
            c.rto_min = v;
        }
        if let Some(v) = t.rto_max {
            c.rto_max = v;
        }
        if let Some(v) = t.rto_initial {
            c.rto_initial = v;
        }
        if let Some(v) = t.max_retries {
            c.max_retries = v;
        }
        if c.rto_min.is_zero() || c.rto_min > c.rto_max {
            self.error(
                Diagnostic::error(
                    path.key(if t.rto_min.is_some() {
                        "rto_min"
                    } else {
                        "rto_max"
                    }),
                    format!(
                        "rto_min {} and rto_max {} do not make a range",
                        c.rto_min, c.rto_max
                    ),
                )
                .expected("0 < rto_min <= rto_max"),
            );
        }
        if c.max_retries == 0 || c.max_retries > 100 {
            self.error(
                Diagnostic::error(
                    path.key("max_retries"),
                    format!("{} retries", c.max_retries),
                )
                .expected("1 to 100 (Linux tcp_retries2 defaults to 15)"),
            );
        }
        c
    }

    fn policy(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        // domain.md: "the customer's own policy, usually local preference on the ExpressRoute
        // routes (e.g. 150 against the default 100) so that return traffic also prefers
        // ExpressRoute over the VPN". Without it the VPN path, one AS shorter, would win on
        // premises; a file that wants that misconfiguration sets the value to 100.
        let lp = spec
            .policy
            .as_ref()
            .and_then(|p| p.expressroute_local_pref)
            .unwrap_or(DEFAULT_EXPRESSROUTE_LOCAL_PREF);
        {
            // The CE sets it on what it learns from Azure: from the MSEE (layer 2) or from
            // the PE (layer 3).
            for s in &mut topo.sessions {
                let ce_end_learns_from_azure = match s.kind {
                    SessionKind::Peering => topo
                        .routers
                        .get(s.ends[0].router.0)
                        .is_some_and(|r| r.role == Role::Ce),
                    SessionKind::Access => true,
                    _ => false,
                };
                if ce_end_learns_from_azure {
                    s.ends[0].local_pref = Some(lp);
                }
            }
        }
        let Some(policy) = &spec.policy else { return };
        let path = root().key("policy");
        for (i, p) in policy.prepend.iter().enumerate() {
            let pp = path.key("prepend").index(i);
            if p.count == 0 || p.count > 10 {
                self.error(
                    Diagnostic::error(pp.key("count"), format!("prepend count {}", p.count))
                        .expected("1 to 10 extra copies of your ASN"),
                );
                continue;
            }
            let keep = |t: &Topology, target: Target| match target {
                Target::Session(s) => t
                    .sessions
                    .get(s.0)
                    .is_some_and(|s| s.kind == SessionKind::Peering),
                _ => true,
            };
            let Some(target) = self.resolve(topo, &p.target, &pp.key("target"), &[TargetClass::Link, TargetClass::Session], keep, "a link (`circuit.secondary`) or a link's peering session (`circuit.secondary.private`)") else {
                continue;
            };
            let sessions = peering_sessions(topo, target);
            for s in sessions {
                let Some(session) = topo.sessions.get(s.0) else {
                    continue;
                };
                let on = session.on;
                if let Some((_, _, PeeringKind::Microsoft)) = on
                    && is_private_asn(topo.customer_asn)
                {
                    self.diags.push(
                            Diagnostic::warning(pp.key("target"), format!("prepending on `{}` has no effect", session.name))
                                .note("on Microsoft peering, private ASNs are stripped from the AS path (domain.md)"),
                        );
                }
                // Layer 3: the CE prepends on its session with the PE, which passes it on.
                let access = format!("{}.access", session.name);
                let ix = topo.session(&access).unwrap_or(s);
                if let Some(sess) = topo.sessions.get_mut(ix.0) {
                    sess.ends[0].prepend = p.count;
                }
            }
        }
        for (name, weight) in &policy.connection_weight {
            let pp = path.key("connection_weight").key(name);
            let Some(c) = topo.circuit(name) else {
                self.error(
                    Diagnostic::error(pp, format!("unknown circuit `{name}`"))
                        .allowed(topo.circuits.iter().map(|c| c.name.clone())),
                );
                continue;
            };
            if *weight > 32_000 {
                self.error(
                    Diagnostic::error(pp, format!("connection weight {weight} is out of range"))
                        .expected("0 to 32000 (default 0; higher wins)"),
                );
                continue;
            }
            if let Some(circuit) = topo.circuits.get_mut(c.0) {
                circuit.weight = *weight;
            }
            for s in &mut topo.sessions {
                if s.kind == SessionKind::Gateway && s.on.is_some_and(|(ci, _, _)| ci == c) {
                    s.ends[1].weight = Some(*weight);
                }
            }
        }
    }

    fn link_override(&mut self, l: &LinkOverride, path: &KeyPath, topo: &mut Topology) {
        let Some(target) = self.resolve(
            topo,
            &l.target,
            &path.key("target"),
            &[
                TargetClass::Circuit,
                TargetClass::Link,
                TargetClass::Segment,
                TargetClass::VpnTunnel,
                TargetClass::Internet,
            ],
            |_, _| true,
            "a circuit, link, segment, `vpn.tunnel` or `internet`",
        ) else {
            return;
        };
        if let Some(loss) = l.loss {
            self.check_loss(loss, &path.key("loss"));
        }
        for seg in segments_of(topo, target) {
            let Some(s) = topo.segments.get_mut(seg.0) else {
                continue;
            };
            if let Some(d) = l.delay {
                s.props.delay = d;
            }
            if let Some(j) = l.jitter {
                s.props.jitter = j;
            }
            if let Some(loss) = l.loss {
                s.props.loss = loss;
            }
            if let Some(b) = l.bandwidth {
                s.props.bandwidth = Some(b);
            }
        }
    }

    fn check_loss(&mut self, loss: LossModel, path: &KeyPath) {
        for (name, p) in loss.probabilities() {
            if !(0.0..=1.0).contains(&p) {
                self.error(
                    Diagnostic::error(
                        path.clone(),
                        format!("probability `{name}` = {p} is outside [0, 1]"),
                    )
                    .expected("a probability from 0.0 to 1.0"),
                );
            }
        }
    }

    /// The MSEE and VPN-gateway rules on the timers in force after all overrides.
    fn azure_timer_rules(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        for ri in 0..topo.routers.len() {
            let Some(r) = topo.routers.get(ri) else {
                continue;
            };
            let towards_msee = topo
                .sessions
                .iter()
                .any(|s| s.kind == SessionKind::Peering && s.ends[0].router == RouterIx(ri));
            let (hold, keepalive, name) = (r.timers.hold_time, r.timers.keepalive, r.name.clone());
            let hold_path = timer_key_path(spec, &name, "hold_time");
            let keepalive_path = timer_key_path(spec, &name, "keepalive");
            if towards_msee {
                if hold < MSEE_MIN_HOLD_TIME {
                    self.error(
                        Diagnostic::error(hold_path.clone(), format!("hold time {hold} on `{name}` is below what the MSEE accepts"))
                            .expected("at least 10s towards an MSEE (Microsoft's default is 180s)")
                            .note("the MSEE accepts keepalive down to 3 s and hold down to 10 s; it would refuse the OPEN with NOTIFICATION 2/6 and the session would never come up"),
                    );
                }
                let effective_keepalive =
                    keepalive.unwrap_or(hold.min(Duration::from_secs(180)) / 3);
                if effective_keepalive < MSEE_MIN_KEEPALIVE && hold >= MSEE_MIN_HOLD_TIME {
                    self.error(
                        Diagnostic::error(keepalive_path, format!("keepalive {effective_keepalive} on `{name}` is below what the MSEE accepts"))
                            .expected("at least 3s towards an MSEE")
                            .note("the MSEE accepts keepalive down to 3 s and hold down to 10 s (domain.md)"),
                    );
                }
                if let Some(b) = r.bfd
                    && b.interval < MSEE_BFD_MIN_INTERVAL
                {
                    self.diags.push(
                            Diagnostic::warning(bfd_key_path(spec, &name), format!("BFD towards the MSEE runs at 300ms, not the {} asked for on `{name}`", b.interval))
                                .note("the MSEE's BFD interval is 300 ms and \"a customer may ask for slower, never faster\"; RFC 5880 §6.8.3: the transmit interval is the slower of the local desired and remote required intervals"),
                        );
                }
            }
            let towards_vpn_gateway = topo
                .sessions
                .iter()
                .any(|s| s.kind == SessionKind::Vpn && s.ends[0].router == RouterIx(ri));
            if towards_vpn_gateway && hold < Duration::from_secs(180) {
                self.diags.push(
                    Diagnostic::warning(hold_path, format!("hold time {hold} on `{name}` adjusted to 180s"))
                        .note("the Azure VPN gateway's timers are fixed at 60 s / 180 s and not negotiated downwards (domain.md)"),
                );
                if let Some(r) = topo.routers.get_mut(ri) {
                    r.timers.hold_time = Duration::from_secs(180);
                    r.timers.keepalive = Some(Duration::from_secs(60));
                }
            }
        }
    }

    /// Warnings for states that keep sessions down, and for prefix counts over a limit.
    fn gates_and_limits(&mut self, spec: &ScenarioSpec, topo: &Topology) {
        let custom = matches!(spec.topology, TopologyChoice::Custom(_));
        for (si, s) in topo.sessions.iter().enumerate() {
            if s.kind != SessionKind::Peering {
                continue;
            }
            if let Some(gate) = topo.session_gate(SessionIx(si)) {
                // Point at the key that sets the state when the file has it.
                let mut path = root().key("topology");
                if let (true, Some((c, _, kind))) = (custom, s.on) {
                    let circuit = path.key("circuit").index(c.0);
                    let peering_ix = topo
                        .circuits
                        .get(c.0)
                        .and_then(|c| c.peerings.iter().position(|p| p.kind == kind))
                        .unwrap_or(0);
                    path = match gate {
                        topology::Gate::NotProvisioned(_) => circuit.key("provider_state"),
                        topology::Gate::CircuitDisabled => circuit.key("enabled"),
                        topology::Gate::PeeringDisabled => {
                            circuit.key("peering").index(peering_ix).key("enabled")
                        }
                        topology::Gate::PublicPrefixes(_) => circuit
                            .key("peering")
                            .index(peering_ix)
                            .key("public_prefixes_state"),
                    };
                }
                self.diags.push(
                    Diagnostic::warning(path, format!("session `{}` will not come up: {gate}", s.name))
                        .note("Azure enables BGP only when the circuit is Provisioned and Enabled, the peering is enabled, and (Microsoft peering) the advertised public prefixes are Configured"),
                );
            }
        }
        for c in &topo.circuits {
            let limit = c.private_prefix_limit();
            let n = topo.onprem_prefixes.len();
            if c.peering(PeeringKind::Private).is_some() && n > limit as usize {
                self.diags.push(
                    Diagnostic::warning(root().key("prefixes").key("onprem"), format!("{n} on-premises prefixes exceed circuit `{}`'s private-peering limit of {limit}", c.name))
                        .note("the MSEE drops the session (NOTIFICATION Cease/1, maximum prefixes) and it comes back once below the limit"),
                );
            }
        }
        let vnet_prefixes: usize = topo.vnets.iter().map(|v| v.prefixes.len()).sum();
        if vnet_prefixes > topology::GATEWAY_PREFIX_LIMIT as usize {
            self.diags.push(
                Diagnostic::warning(root().key("prefixes").key("vnet"), format!("{vnet_prefixes} VNet prefixes exceed the 1,000 the gateway sends to on-premises per connection"))
                    .note("the gateway's connection to the circuit goes down (domain.md, limits)"),
            );
        }
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the argument list names exactly what a target lookup needs"
    )]
    fn resolve(
        &mut self,
        topo: &Topology,
        name: &str,
        path: &KeyPath,
        classes: &[TargetClass],
        keep: impl Fn(&Topology, Target) -> bool + Copy,
        what: &str,
    ) -> Option<Target> {
        match topo.resolve(name) {
            Some(t) if classes.contains(&t.class()) && keep(topo, t) => Some(t),
            found => {
                let message = match found {
                    Some(_) => format!("`{name}` cannot be used here"),
                    None => format!("unknown target `{name}`"),
                };
                self.error(
                    Diagnostic::error(path.clone(), message)
                        .expected(what)
                        .allowed(topo.target_names(classes, keep)),
                );
                None
            }
        }
    }

    fn time(&mut self, t: TimeSpec, path: &KeyPath) -> bool {
        if let TimeSpec::Range { min, max } = t
            && min > max
        {
            self.error(
                Diagnostic::error(path.clone(), format!("the range {min}..{max} is empty"))
                    .expected("min <= max"),
            );
            return false;
        }
        if t.max() >= self.duration {
            self.error(
                Diagnostic::error(
                    path.clone(),
                    format!("{t} is not before the end of the run ({})", self.duration),
                )
                .expected(format!("a time before `duration` = {}", self.duration)),
            );
            return false;
        }
        true
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one arm per fault kind, each short; a table of closures would be harder to read"
    )]
    fn fault(&mut self, i: usize, f: &FaultSpec, topo: &Topology) -> Option<Fault> {
        let path = root().key("fault").index(i);
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
        if (kind == FaultKind::VpnTunnelDown || kind == FaultKind::GatewayInstanceFailure)
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
                            .expected("loss = 0.02, or loss = { p = 0.01, r = 0.25 } for bursts"),
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
            FaultKind::RouterCrash | FaultKind::RouterRestart => {
                let Target::Router(router) = self.resolve(topo, target_name, &tpath, &[TargetClass::Router], is_role(&[Role::Ce, Role::Pe, Role::Msee, Role::VpnDevice]), "a router: ce*, pe*, msee* or vpn1 (gateways fail with `gateway_instance_failure`)")? else {
                    return None;
                };
                if kind == FaultKind::RouterCrash {
                    FaultAction::RouterCrash { router }
                } else {
                    FaultAction::RouterRestart { router }
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
                let keep = |_: &Topology, target: Target| !matches!(target, Target::ErGateway);
                let target = self.resolve(topo, target_name, &tpath, &[TargetClass::Gateway], keep, "`gateway.vpn` (the active instance, the default) or `gateway.vpn.instance0`/`instance1`")?;
                let instance = match target {
                    Target::VpnGatewayInstance(i) => Some(i),
                    _ => None,
                };
                FaultAction::GatewayInstanceFailure {
                    instance,
                    planned: f.planned.unwrap_or(false),
                }
            }
            FaultKind::Deprovision => {
                let Target::Circuit(circuit) = self.resolve(
                    topo,
                    target_name,
                    &tpath,
                    &[TargetClass::Circuit],
                    any,
                    "a circuit",
                )?
                else {
                    return None;
                };
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
                let Target::Circuit(circuit) = self.resolve(
                    topo,
                    target_name,
                    &tpath,
                    &[TargetClass::Circuit],
                    keep,
                    "a circuit with Microsoft peering",
                )?
                else {
                    return None;
                };
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
        ok.then_some(Fault {
            index: i,
            at: f.at,
            duration: f.duration,
            action,
        })
    }

    fn probes(&mut self, spec: &ScenarioSpec, topo: &Topology) -> Vec<Probe> {
        let endpoints = topo.endpoints();
        let first_vnet = topo
            .vnets
            .first()
            .map_or_else(|| "vnet".to_owned(), |v| v.name.clone());
        if spec.probe.is_empty() {
            return vec![Probe {
                directions: vec![
                    direction("onprem", &first_vnet),
                    direction(&first_vnet, "onprem"),
                ],
                interval: None,
                flows: 1,
            }];
        }
        let mut out = Vec::new();
        for (i, p) in spec.probe.iter().enumerate() {
            let path = root().key("probe").index(i);
            let mut ok = true;
            for (key, name) in [("from", &p.from), ("to", &p.to)] {
                if !endpoints.contains(name) {
                    self.error(
                        Diagnostic::error(path.key(key), format!("unknown endpoint `{name}`"))
                            .expected("on-premises, a VNet by name, or Microsoft (with Microsoft peering)")
                            .allowed(endpoints.iter().cloned()),
                    );
                    ok = false;
                }
            }
            if ok && p.from == p.to {
                self.error(
                    Diagnostic::error(path.key("to"), "a probe from an endpoint to itself")
                        .expected("two different endpoints"),
                );
                ok = false;
            }
            if ok && p.from != "onprem" && p.to != "onprem" {
                self.error(
                    Diagnostic::error(
                        path.key("to"),
                        format!(
                            "traffic between `{}` and `{}` does not cross the hybrid network",
                            p.from, p.to
                        ),
                    )
                    .expected("one end must be `onprem`"),
                );
                ok = false;
            }
            if let Some(iv) = p.interval
                && iv < Duration::from_micros(100)
            {
                self.error(
                    Diagnostic::error(
                        path.key("interval"),
                        format!("probe interval {iv} is too short"),
                    )
                    .expected("at least 100us (e.g. \"10ms\", like ping -i 0.01)"),
                );
                ok = false;
            }
            let flows = p.flows.unwrap_or(1);
            if flows == 0 || flows > 64 {
                self.error(
                    Diagnostic::error(path.key("flows"), format!("{flows} flows"))
                        .expected("1 to 64 distinct 5-tuples"),
                );
                ok = false;
            }
            if !ok {
                continue;
            }
            let mut directions = vec![direction(&p.from, &p.to)];
            if p.direction.unwrap_or(ProbeDirection::Both) == ProbeDirection::Both {
                directions.push(direction(&p.to, &p.from));
            }
            out.push(Probe {
                directions,
                interval: p.interval,
                flows,
            });
        }
        out
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one branch per expectation form, each short"
    )]
    fn expect(
        &mut self,
        i: usize,
        e: &ExpectSpec,
        topo: &Topology,
        directions: &[Direction],
    ) -> Option<Expectation> {
        let path = root().key("expect").index(i);
        let forms = [
            ("metric", e.metric.is_some()),
            ("session", e.session.is_some()),
            ("no_loss", e.no_loss.is_some()),
            ("path", e.path.is_some()),
        ];
        let given: Vec<&str> = forms.iter().filter(|(_, p)| *p).map(|(k, _)| *k).collect();
        if given.len() != 1 {
            self.error(
                Diagnostic::error(
                    path,
                    if given.is_empty() {
                        "an expectation must say what it checks".to_owned()
                    } else {
                        format!(
                            "an expectation checks one thing, not {}",
                            given.join(" and ")
                        )
                    },
                )
                .expected("exactly one of `metric`, `session`, `no_loss`, `path`")
                .allowed(["metric", "session", "no_loss", "path"]),
            );
            return None;
        }
        let direction_names: Vec<String> = directions.iter().map(|d| d.name.clone()).collect();
        let form = given.first().copied().unwrap_or("metric");
        let takes: &[&str] = match form {
            "metric" => &["metric", "max", "min", "eq"],
            "session" => &["session", "down_by", "state", "at", "never_up", "stays_up"],
            "no_loss" => &["no_loss"],
            _ => &["path", "via", "at"],
        };
        let present = [
            ("max", e.max.is_some()),
            ("min", e.min.is_some()),
            ("eq", e.eq.is_some()),
            ("down_by", e.down_by.is_some()),
            ("state", e.state.is_some()),
            ("at", e.at.is_some()),
            ("never_up", e.never_up.is_some()),
            ("stays_up", e.stays_up.is_some()),
            ("via", e.via.is_some()),
        ];
        for (key, is) in present {
            if is && !takes.contains(&key) {
                self.error(
                    Diagnostic::error(path.key(key), format!("`{key}` does not go with `{form}`"))
                        .allowed(takes.iter().copied().chain(["because"])),
                );
                return None;
            }
        }
        let check_direction = |v: &mut Self, name: &str, key: &str| -> bool {
            if direction_names.iter().any(|d| d == name) {
                true
            } else {
                v.error(
                    Diagnostic::error(path.key(key), format!("no probe measures direction `{name}`"))
                        .expected("a direction `FROM_to_TO` of a [[probe]] (without probes: onprem_to_<first vnet> and back)")
                        .allowed(direction_names.iter().cloned()),
                );
                false
            }
        };
        let (check, text) = match form {
            "metric" => {
                let name = e.metric.as_deref().unwrap_or("");
                let metric = self.metric(name, &path.key("metric"), topo, &direction_names)?;
                let bounds = Bounds {
                    min: e.min,
                    max: e.max,
                    eq: e.eq,
                };
                if bounds.min.is_none() && bounds.max.is_none() && bounds.eq.is_none() {
                    self.error(
                        Diagnostic::error(path.clone(), format!("metric `{name}` has no bound"))
                            .expected("`max`, `min` or `eq`"),
                    );
                    return None;
                }
                for (key, q) in [("max", e.max), ("min", e.min), ("eq", e.eq)] {
                    let Some(q) = q else { continue };
                    let is_duration = matches!(q, Quantity::Duration(_));
                    if is_duration != metric.is_duration() {
                        self.error(
                            Diagnostic::error(
                                path.key(key),
                                format!(
                                    "metric `{name}` is a {}, but {key} = {q} is a {}",
                                    if metric.is_duration() {
                                        "duration"
                                    } else {
                                        "count"
                                    },
                                    if is_duration { "duration" } else { "count" }
                                ),
                            )
                            .expected(if metric.is_duration() {
                                "a duration such as \"181s\""
                            } else {
                                "a whole number such as 0"
                            }),
                        );
                        return None;
                    }
                }
                let mut text = name.to_owned();
                for (op, q) in [(">=", e.min), ("<=", e.max), ("==", e.eq)] {
                    if let Some(q) = q {
                        text.push_str(&format!(" {op} {q}"));
                    }
                }
                (Check::Metric { metric, bounds }, text)
            }
            "session" => {
                let name = e.session.as_deref().unwrap_or("");
                let Some(session) = topo.session(name) else {
                    self.error(
                        Diagnostic::error(path.key("session"), format!("unknown session `{name}`"))
                            .allowed(topo.sessions.iter().map(|s| s.name.clone())),
                    );
                    return None;
                };
                let modes = [
                    ("down_by", e.down_by.is_some()),
                    ("state", e.state.is_some()),
                    ("never_up", e.never_up == Some(true)),
                    ("stays_up", e.stays_up == Some(true)),
                ];
                let chosen: Vec<&str> = modes.iter().filter(|(_, p)| *p).map(|(k, _)| *k).collect();
                if chosen.len() != 1 || e.never_up == Some(false) || e.stays_up == Some(false) {
                    self.error(
                        Diagnostic::error(path.clone(), format!("a session expectation on `{name}` must say one thing about it"))
                            .expected("exactly one of down_by = \"5m\", state = \"established\" with at = \"6m\", never_up = true, stays_up = true"),
                    );
                    return None;
                }
                match chosen.first().copied() {
                    Some("down_by") => {
                        let by = e.down_by.unwrap_or_default();
                        if by > self.duration {
                            self.error(
                                Diagnostic::error(
                                    path.key("down_by"),
                                    format!("{by} is after the end of the run ({})", self.duration),
                                )
                                .expected("a time within `duration`"),
                            );
                            return None;
                        }
                        (
                            Check::SessionDownBy { session, by },
                            format!("session {name} down by {by}"),
                        )
                    }
                    Some("state") => {
                        let Some(at) = e.at else {
                            self.error(
                                Diagnostic::error(path.clone(), "`state` needs `at`")
                                    .expected("at = \"6m\""),
                            );
                            return None;
                        };
                        if at > self.duration {
                            self.error(
                                Diagnostic::error(
                                    path.key("at"),
                                    format!("{at} is after the end of the run ({})", self.duration),
                                )
                                .expected("a time within `duration`"),
                            );
                            return None;
                        }
                        let state = e.state?;
                        (
                            Check::SessionState { session, state, at },
                            format!("session {name} is {state:?} at {at}"),
                        )
                    }
                    Some("never_up") => (
                        Check::SessionNeverUp { session },
                        format!("session {name} never established"),
                    ),
                    _ => (
                        Check::SessionStaysUp { session },
                        format!("session {name} stays established"),
                    ),
                }
            }
            "no_loss" => {
                let name = e.no_loss.as_deref().unwrap_or("");
                if !check_direction(self, name, "no_loss") {
                    return None;
                }
                (
                    Check::NoLoss {
                        direction: name.to_owned(),
                    },
                    format!("no loss {name}"),
                )
            }
            _ => {
                let name = e.path.as_deref().unwrap_or("");
                if !check_direction(self, name, "path") {
                    return None;
                }
                let (Some(via), Some(at)) = (e.via, e.at) else {
                    self.error(
                        Diagnostic::error(path.clone(), "`path` needs `via` and `at`")
                            .expected("via = \"vpn\" and at = \"10m\"")
                            .allowed(["expressroute", "vpn", "internet", "none"]),
                    );
                    return None;
                };
                if at > self.duration {
                    self.error(
                        Diagnostic::error(
                            path.key("at"),
                            format!("{at} is after the end of the run ({})", self.duration),
                        )
                        .expected("a time within `duration`"),
                    );
                    return None;
                }
                (
                    Check::Path {
                        direction: name.to_owned(),
                        via,
                        at,
                    },
                    format!("{name} via {via:?} at {at}"),
                )
            }
        };
        Some(Expectation {
            index: i,
            text,
            because: e.because.clone(),
            check,
        })
    }

    fn metric(
        &mut self,
        name: &str,
        path: &KeyPath,
        topo: &Topology,
        directions: &[String],
    ) -> Option<Metric> {
        let families = [
            "outage",
            "probes_lost",
            "bytes_dropped",
            "detection",
            "convergence",
            "messages",
            "flaps",
        ];
        let (family, rest) = name.split_once('.').unwrap_or((name, ""));
        let bad = |v: &mut Self, msg: String, allowed: Vec<String>| {
            v.error(
                Diagnostic::error(path.clone(), msg)
                    .expected("outage.DIR, probes_lost.DIR, bytes_dropped.DIR, detection.SESSION|ROUTER, convergence.ROUTER, messages.TYPE, flaps[.SESSION]")
                    .allowed(allowed),
            );
        };
        let family_list = || families.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>();
        match family {
            "outage" | "probes_lost" | "bytes_dropped" => {
                if !directions.iter().any(|d| d == rest) {
                    bad(
                        self,
                        format!("no probe measures direction `{rest}` (in metric `{name}`)"),
                        directions.iter().map(|d| format!("{family}.{d}")).collect(),
                    );
                    return None;
                }
                Some(match family {
                    "outage" => Metric::Outage(rest.to_owned()),
                    "probes_lost" => Metric::ProbesLost(rest.to_owned()),
                    _ => Metric::BytesDropped(rest.to_owned()),
                })
            }
            "detection" => {
                if let Some(s) = topo.session(rest) {
                    return Some(Metric::SessionDetection(s));
                }
                if let Some(r) = topo.router(rest) {
                    return Some(Metric::RouterDetection(r));
                }
                bad(
                    self,
                    format!("unknown session or router `{rest}` in metric `{name}`"),
                    topo.routers
                        .iter()
                        .map(|r| format!("detection.{}", r.name))
                        .chain(
                            topo.sessions
                                .iter()
                                .map(|s| format!("detection.{}", s.name)),
                        )
                        .collect(),
                );
                None
            }
            "convergence" => {
                if let Some(r) = topo.router(rest) {
                    return Some(Metric::Convergence(r));
                }
                bad(
                    self,
                    format!("unknown router `{rest}` in metric `{name}`"),
                    topo.routers
                        .iter()
                        .map(|r| format!("convergence.{}", r.name))
                        .collect(),
                );
                None
            }
            "messages" => {
                if let Some(t) = MessageType::ALL.iter().find(|t| t.name() == rest) {
                    return Some(Metric::Messages(*t));
                }
                bad(
                    self,
                    format!("unknown message type `{rest}` in metric `{name}`"),
                    MessageType::ALL
                        .iter()
                        .map(|t| format!("messages.{}", t.name()))
                        .collect(),
                );
                None
            }
            "flaps" if rest.is_empty() => Some(Metric::Flaps(None)),
            "flaps" => {
                if let Some(s) = topo.session(rest) {
                    return Some(Metric::Flaps(Some(s)));
                }
                bad(
                    self,
                    format!("unknown session `{rest}` in metric `{name}`"),
                    topo.sessions
                        .iter()
                        .map(|s| format!("flaps.{}", s.name))
                        .collect(),
                );
                None
            }
            _ => {
                bad(self, format!("unknown metric `{name}`"), family_list());
                None
            }
        }
    }
}

fn direction(from: &str, to: &str) -> Direction {
    Direction {
        name: format!("{from}_to_{to}"),
        from: from.to_owned(),
        to: to.to_owned(),
    }
}

fn apply_bgp(r: &mut topology::Router, o: &BgpRouterOverride) {
    if let Some(h) = o.hold_time {
        r.timers.hold_time = h;
        // A new hold time without a keepalive brings the default keepalive back (a third
        // of the negotiated hold time).
        if o.keepalive.is_none() {
            r.timers.keepalive = None;
        }
    }
    if let Some(k) = o.keepalive {
        r.timers.keepalive = Some(k);
    }
    if let Some(c) = o.connect_retry {
        r.timers.connect_retry = c;
    }
    if let Some(p) = o.profile {
        r.profile = p;
    }
}

fn apply_bfd(r: &mut topology::Router, o: &BfdRouterOverride) {
    let base = r.bfd.unwrap_or(topology::BfdParams::MSEE);
    let enabled = o
        .enabled
        .unwrap_or(r.bfd.is_some() || o.interval.is_some() || o.multiplier.is_some());
    r.bfd = enabled.then(|| topology::BfdParams {
        interval: o.interval.unwrap_or(base.interval),
        multiplier: o.multiplier.unwrap_or(base.multiplier),
    });
}

/// Where a router's timer `key` was set: its `[bgp.router.NAME]` entry if that sets it, else
/// the global `[bgp]` key, else the topology (the built-in default).
fn timer_key_path(spec: &ScenarioSpec, router: &str, key: &str) -> KeyPath {
    let Some(bgp) = &spec.bgp else {
        return root().key("topology");
    };
    let sets = |o: &BgpRouterOverride| match key {
        "hold_time" => o.hold_time.is_some(),
        "keepalive" => o.keepalive.is_some(),
        _ => false,
    };
    if bgp.router.get(router).is_some_and(sets) {
        return root().key("bgp").key("router").key(router).key(key);
    }
    let global = key == "hold_time" && bgp.hold_time.is_some()
        || key == "keepalive" && bgp.keepalive.is_some();
    if global {
        root().key("bgp").key(key)
    } else if bgp.router.contains_key(router) {
        root().key("bgp").key("router").key(router)
    } else {
        root().key("bgp")
    }
}

/// Where a router's BFD interval was set.
fn bfd_key_path(spec: &ScenarioSpec, router: &str) -> KeyPath {
    let Some(bfd) = &spec.bfd else {
        return root().key("topology");
    };
    if bfd.router.get(router).is_some_and(|o| o.interval.is_some()) {
        root().key("bfd").key("router").key(router).key("interval")
    } else if bfd.interval.is_some() {
        root().key("bfd").key("interval")
    } else {
        root().key("bfd")
    }
}

/// 64512–65534 and 4200000000–4294967294 (RFC 6996).
const fn is_private_asn(asn: u32) -> bool {
    (asn >= 64_512 && asn <= 65_534) || (asn >= 4_200_000_000 && asn <= 4_294_967_294)
}

/// The peering sessions a link or session target stands for.
fn peering_sessions(topo: &Topology, target: Target) -> Vec<SessionIx> {
    match target {
        Target::Session(s) => vec![s],
        Target::Link(c, side) => topo
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.kind == SessionKind::Peering
                    && s.on.is_some_and(|(ci, sd, _)| ci == c && sd == side)
            })
            .map(|(i, _)| SessionIx(i))
            .collect(),
        _ => Vec::new(),
    }
}

/// The segments a carrier target stands for.
fn segments_of(topo: &Topology, target: Target) -> Vec<SegmentIx> {
    match target {
        Target::Segment(s) => vec![s],
        Target::Link(c, side) => topo
            .circuits
            .get(c.0)
            .map(|c| {
                let l = &c.links[side.index()];
                vec![l.access, l.core]
            })
            .unwrap_or_default(),
        Target::Circuit(c) => topo
            .circuits
            .get(c.0)
            .map(|c| c.links.iter().flat_map(|l| [l.access, l.core]).collect())
            .unwrap_or_default(),
        Target::VpnTunnel => topo
            .vpn
            .as_ref()
            .map(|v| v.tunnels.clone())
            .unwrap_or_default(),
        Target::Internet => vec![topo.internet.segment],
        _ => Vec::new(),
    }
}

/// Base addresses of the pools generated prefixes come from: on-premises from 100.64.0.0/10
/// (16,384 /24s), VNet *i* from 10.(128+i).0.0/16 (256 /24s, then the next /16s).
const POOL_ONPREM: u32 = 0x6440_0000;
const POOL_VNET: u32 = 0x0A80_0000;

/// `listed` first, then /24s from `pool` (skipping any that overlap `listed`) up to `n`.
fn generated_prefixes(pool: u32, listed: &[Ipv4Net], n: u32) -> Vec<Ipv4Net> {
    let mut out: Vec<Ipv4Net> = listed.iter().take(n as usize).copied().collect();
    let mut k: u32 = 0;
    while out.len() < n as usize && k < 65_536 {
        let addr = std::net::Ipv4Addr::from(pool.wrapping_add(k << 8));
        k += 1;
        let Ok(net) = Ipv4Net::new(addr, 24) else {
            continue;
        };
        if !listed.iter().any(|l| l.contains(&net) || net.contains(l)) {
            out.push(net);
        }
    }
    out
}

/// Replaces `old` prefixes by `new` wherever a session end announces exactly `old`.
fn set_announced(topo: &mut Topology, old: &[Ipv4Net], new: &[Ipv4Net]) {
    for s in &mut topo.sessions {
        for end in &mut s.ends {
            if !end.announces.is_empty() && end.announces == old {
                end.announces = new.to_vec();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_prefixes_skip_listed_ones_and_stop_at_count() {
        let listed: Vec<Ipv4Net> = vec!["100.64.1.0/24".parse().unwrap()];
        let out = generated_prefixes(POOL_ONPREM, &listed, 4);
        assert_eq!(out.len(), 4);
        assert_eq!(out[0], listed[0]);
        assert_eq!(out[1].to_string(), "100.64.0.0/24");
        assert_eq!(out[2].to_string(), "100.64.2.0/24");
    }

    #[test]
    fn private_asn_ranges_follow_rfc6996() {
        assert!(is_private_asn(65_001));
        assert!(is_private_asn(4_200_000_000));
        assert!(!is_private_asn(8_075));
        assert!(!is_private_asn(65_535));
    }
}
