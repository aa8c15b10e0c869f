//! Overrides applied to the topology: BGP timers and profiles, BFD, TCP, policy, link
//! properties; then Azure's rules on the timers in force and the states that gate sessions.

use sim_core::time::Duration;

use crate::diag::{Diagnostic, KeyPath};
use crate::scenario::TcpConfig;
use crate::spec::{
    BfdRouterOverride, BgpRouterOverride, LinkOverride, ScenarioSpec, TcpPreset, TopologyChoice,
};
use crate::topology::{
    self, DEFAULT_EXPRESSROUTE_LOCAL_PREF, MSEE_BFD_MIN_INTERVAL, MSEE_MIN_HOLD_TIME,
    MSEE_MIN_KEEPALIVE, PeeringKind, Role, RouterIx, SessionIx, SessionKind, Target, TargetClass,
    Topology,
};
use crate::units::{LossModel, MIN_STATE_MEAN};

use super::{Validator, is_private_asn, peering_sessions, root, segments_of};

impl Validator {
    pub(super) fn bgp(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        let Some(bgp) = &spec.bgp else { return };
        let path = root().key("bgp");
        let global = BgpRouterOverride {
            keepalive: bgp.keepalive,
            hold_time: bgp.hold_time,
            connect_retry: bgp.connect_retry,
            connect_delay: bgp.connect_delay,
            mrai: bgp.mrai,
            idle_hold: bgp.idle_hold,
            idle_hold_max: bgp.idle_hold_max,
            idle_hold_forget: bgp.idle_hold_forget,
            graceful_restart: bgp.graceful_restart,
            graceful_restart_notification: bgp.graceful_restart_notification,
            route_install: bgp.route_install,
            route_install_per_prefix: bgp.route_install_per_prefix,
            profile: bgp.profile,
            maximum_paths: bgp.maximum_paths,
        };
        for r in &mut topo.routers {
            // The edge routers facing Azure; the VPN device is set only by name, since its
            // session with the gateway cannot use shorter timers anyway. A `[[router]]` took
            // these keys before its own when it was made.
            if matches!(r.role, Role::Ce | Role::Pe)
                && !spec.router.iter().any(|x| x.name == r.name)
            {
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
            let timer_set = [
                ("hold_time", o.hold_time),
                ("keepalive", o.keepalive),
                ("connect_retry", o.connect_retry),
                ("connect_delay", o.connect_delay),
                ("mrai", o.mrai),
                ("idle_hold", o.idle_hold),
                ("idle_hold_max", o.idle_hold_max),
                ("idle_hold_forget", o.idle_hold_forget),
            ]
            .into_iter()
            .find_map(|(key, value)| value.map(|_| key));
            if matches!(router.role, Role::Msee | Role::ErGateway | Role::VpnGateway)
                && let Some(key) = timer_set
            {
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
            if matches!(router.role, Role::Msee | Role::ErGateway | Role::VpnGateway)
                && o.maximum_paths.is_some()
            {
                self.error(
                    Diagnostic::error(
                        p.key("maximum_paths"),
                        format!("`{name}` is Microsoft's: how it spreads flows is not configurable"),
                    )
                    .expected("maximum_paths on a customer router (ce*, pe*, vpn1)")
                    .note("the ExpressRoute gateway spreads equal routes over up to four circuits, both links of each (8 paths); an MSEE has one link per peering; an active-active VPN gateway uses both tunnels"),
                );
                continue;
            }
            if router.role == Role::ErGateway
                && (o.route_install.is_some() || o.route_install_per_prefix.is_some())
            {
                let key = if o.route_install.is_some() {
                    "route_install"
                } else {
                    "route_install_per_prefix"
                };
                self.error(
                    Diagnostic::error(
                        p.key(key),
                        format!("`{name}` programs its routes on its own schedule"),
                    )
                    .expected("route_install(_per_prefix) on a router other than the ExpressRoute gateway")
                    .note("the gateway's route programming delay is `[topology.er_gateway] convergence_delay`"),
                );
                continue;
            }
            apply_bgp(router, o);
            self.check_timer_values(o, &p);
        }
        // The N bit is a flag of the graceful restart capability: without the capability there
        // is nothing to carry it (RFC 8538 §2).
        let mut reported_global = false;
        for r in &topo.routers {
            if !r.timers.graceful_restart_notification || r.timers.graceful_restart.is_some() {
                continue;
            }
            let own = bgp
                .router
                .get(&r.name)
                .is_some_and(|o| o.graceful_restart_notification.is_some());
            let at = if own {
                path.key("router").key(&r.name)
            } else if std::mem::replace(&mut reported_global, true) {
                continue;
            } else {
                path.clone()
            };
            self.error(
                Diagnostic::error(
                    at.key("graceful_restart_notification"),
                    format!("graceful_restart_notification without graceful_restart on `{}`", r.name),
                )
                .expected("graceful_restart = \"120s\" (the restart time) as well")
                .note("the N bit is a flag of the graceful restart capability (RFC 8538 §2): without the capability there is nothing to carry it"),
            );
        }
    }

    /// Whole-second and range checks on timer values as written, the restart delays, and the
    /// ECMP width.
    pub(super) fn check_timer_values(&mut self, o: &BgpRouterOverride, path: &KeyPath) {
        if let Some(m) = o.maximum_paths
            && !(1..=64).contains(&m)
        {
            self.error(
                Diagnostic::error(path.key("maximum_paths"), format!("maximum_paths {m}"))
                    .expected("1 (no ECMP) to 64 equal-cost paths")
                    .note("64 is the largest ECMP width of common routers (FRR's default build, most NOS)"),
            );
        }
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
        for (key, value) in [
            ("connect_delay", o.connect_delay),
            ("idle_hold", o.idle_hold),
            ("idle_hold_max", o.idle_hold_max),
            ("idle_hold_forget", o.idle_hold_forget),
        ] {
            let Some(d) = value else { continue };
            if d > Duration::from_secs(65_535) {
                self.error(
                    Diagnostic::error(path.key(key), format!("{key} {d} is longer than 65535s"))
                        .expected("a delay of seconds to minutes, e.g. \"1s\" or \"60s\"")
                        .note("these are the restart timers of a router (BIRD's `connect delay time`, `error wait time`, `error forget time`); hours would keep the session down for the whole run"),
                );
            }
        }
        if let Some(d) = o.mrai
            && d > Duration::from_secs(600)
        {
            self.error(
                Diagnostic::error(path.key("mrai"), format!("mrai {d} is longer than 600s"))
                    .expected("0s (no pacing) to 600s, e.g. \"30s\" (RFC 4271 §10's eBGP suggestion)")
                    .note("600 s is the largest advertisement interval routers accept (FRR's `advertisement-interval` range 0-600)"),
            );
        }
        if let Some(d) = o.graceful_restart
            && (d.as_nanos() % 1_000_000_000 != 0 || d > Duration::from_secs(4095))
        {
            self.error(
                Diagnostic::error(
                    path.key("graceful_restart"),
                    format!("graceful_restart {d} is not a whole number of seconds up to 4095s"),
                )
                .expected("whole seconds, e.g. \"120s\" (the usual default)")
                .note("the Restart Time is a 12-bit count of seconds in the graceful restart capability (RFC 4724 §3)"),
            );
        }
        if let Some(d) = o.route_install
            && d > Duration::from_secs(60)
        {
            self.error(
                Diagnostic::error(
                    path.key("route_install"),
                    format!("route_install {d} is longer than 60s"),
                )
                .expected("a latency of milliseconds to seconds, e.g. \"70ms\"")
                .note("the delay between a best-path change and the FIB change (FRR's zebra about 70 ms); a FIB minutes behind is a fault, not a latency"),
            );
        }
        if let Some(d) = o.route_install_per_prefix
            && d > Duration::from_millis(100)
        {
            self.error(
                Diagnostic::error(
                    path.key("route_install_per_prefix"),
                    format!("route_install_per_prefix {d} is longer than 100ms"),
                )
                .expected("microseconds per prefix, e.g. \"50us\" (20,000 prefixes a second)")
                .note("the time a FIB takes to program one prefix; 100 ms a prefix would take minutes for a few thousand routes"),
            );
        }
        if let (Some(first), Some(max)) = (o.idle_hold, o.idle_hold_max)
            && max < first
        {
            self.error(
                Diagnostic::error(
                    path.key("idle_hold_max"),
                    format!("idle_hold_max {max} is shorter than idle_hold {first}"),
                )
                .expected(format!("at least {first}"))
                .note("the restart delay starts at idle_hold and grows up to idle_hold_max (BIRD: `error wait time MIN, MAX`)"),
            );
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

    pub(super) fn bfd(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
        let Some(bfd) = &spec.bfd else { return };
        let path = root().key("bfd");
        let global = BfdRouterOverride {
            enabled: bfd.enabled,
            interval: bfd.interval,
            multiplier: bfd.multiplier,
        };
        self.check_bfd_values(&global, &path);
        for r in &mut topo.routers {
            // A `[[router]]` took these keys before its own when it was made.
            if matches!(r.role, Role::Ce | Role::Pe)
                && !spec.router.iter().any(|x| x.name == r.name)
            {
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

    pub(super) fn check_bfd_values(&mut self, o: &BfdRouterOverride, path: &KeyPath) {
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

    pub(super) fn tcp(&mut self, spec: &ScenarioSpec) -> TcpConfig {
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

    pub(super) fn policy(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
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
                // A session written out with its own `local_pref` keeps it (the template's
                // have none yet).
                if ce_end_learns_from_azure && s.ends[0].local_pref.is_none() {
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
        for (i, l) in policy.local_pref.iter().enumerate() {
            let pp = path.key("local_pref").index(i);
            let keep = |t: &Topology, target: Target| match target {
                Target::Session(s) => t
                    .sessions
                    .get(s.0)
                    .is_some_and(|s| s.kind == SessionKind::Peering),
                _ => true,
            };
            let Some(target) = self.resolve(
                topo,
                &l.target,
                &pp.key("target"),
                &[TargetClass::Circuit, TargetClass::Link, TargetClass::Session],
                keep,
                "a circuit (`circuit`), a link (`circuit.primary`) or a link's peering session (`circuit.primary.private`)",
            ) else {
                continue;
            };
            for s in peering_sessions(topo, target) {
                let Some(session) = topo.sessions.get(s.0) else {
                    continue;
                };
                // Layer 3: the CE learns Azure's routes from the PE, on the access session.
                let access = format!("{}.access", session.name);
                let ix = topo.session(&access).unwrap_or(s);
                if let Some(sess) = topo.sessions.get_mut(ix.0) {
                    sess.ends[0].local_pref = Some(l.value);
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

    pub(super) fn link_override(&mut self, l: &LinkOverride, path: &KeyPath, topo: &mut Topology) {
        let Some(target_name) = &l.target else {
            self.error(
                Diagnostic::error(path.clone(), "a [[link]] with neither `target` nor `ends`")
                    .expected("`target = \"NAME\"` to change a link that exists, or `name` and `ends = [\"A\", \"B\"]` for a new link between two routers"),
            );
            return;
        };
        if let Some(name) = &l.name {
            self.error(
                Diagnostic::error(
                    path.key("name"),
                    format!("`name = \"{name}\"` on a [[link]] that changes `{target_name}`"),
                )
                .expected("`name` only with `ends` (a new link)"),
            );
        }
        let Some(target) = self.resolve(
            topo,
            target_name,
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

    /// Range checks on a loss model, each located at its key (`loss` itself for the number
    /// form, `loss.mean_bad` and so on for a table).
    pub(super) fn check_loss(&mut self, loss: LossModel, path: &KeyPath) {
        let key = |name: &str| {
            if matches!(loss, LossModel::Bernoulli(_)) {
                path.clone()
            } else {
                path.key(name)
            }
        };
        for (name, p) in loss.probabilities() {
            if !(0.0..=1.0).contains(&p) {
                self.error(
                    Diagnostic::error(
                        key(name),
                        format!("probability `{name}` = {p} is outside [0, 1]"),
                    )
                    .expected("a probability from 0.0 to 1.0"),
                );
            }
        }
        for (name, d) in loss.durations() {
            if d < MIN_STATE_MEAN {
                self.error(
                    Diagnostic::error(
                        key(name),
                        format!("`{name}` = {d} is shorter than {MIN_STATE_MEAN}"),
                    )
                    .expected(format!(
                        "a mean stay of at least {MIN_STATE_MEAN}, e.g. mean_good = \"30s\", mean_bad = \"200ms\""
                    ))
                    .note("each state of the chain lasts a random time with this mean; for loss without bursts write a number, e.g. loss = 0.01"),
                );
            }
        }
    }

    /// The MSEE and VPN-gateway rules on the timers in force after all overrides.
    pub(super) fn azure_timer_rules(&mut self, spec: &ScenarioSpec, topo: &mut Topology) {
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
    pub(super) fn gates_and_limits(&mut self, spec: &ScenarioSpec, topo: &Topology) {
        let custom = matches!(spec.topology, Some(TopologyChoice::Custom(_)));
        for (si, s) in topo.sessions.iter().enumerate() {
            if s.kind != SessionKind::Peering {
                continue;
            }
            if let Some(gate) = topo.session_gate(SessionIx(si)) {
                // Point at the key that sets the state when the file has it.
                // A circuit written out (`[[circuit]]`) sits at the top level.
                let written = spec.topology.is_none() && !spec.circuit.is_empty();
                let mut path = if written {
                    root()
                } else {
                    root().key("topology")
                };
                if let (true, Some((c, _, kind))) = (custom || written, s.on) {
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
        let n = topo.onprem_prefixes.len();
        if topo.vpn.is_some() && n > topology::VPN_PREFIX_LIMIT as usize {
            self.diags.push(
                Diagnostic::warning(
                    root().key("prefixes").key("onprem"),
                    format!("{n} on-premises prefixes exceed the VPN gateway's limit of 4000"),
                )
                .note("the VPN gateway drops the BGP session (domain.md, limits)"),
            );
        }
        let vnet_prefixes: usize = topo.vnets.iter().map(|v| v.prefixes.len()).sum();
        if vnet_prefixes > topology::GATEWAY_PREFIX_LIMIT as usize {
            self.diags.push(
                Diagnostic::warning(root().key("prefixes").key("vnet"), format!("{vnet_prefixes} VNet prefixes exceed the 1,000 the gateway sends to on-premises per connection"))
                    .note("the gateway's connection to the circuit goes down (domain.md, limits)"),
            );
        }
    }
}

pub(super) fn apply_bgp(r: &mut topology::Router, o: &BgpRouterOverride) {
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
    if let Some(d) = o.connect_delay {
        r.timers.connect_delay = Some(d);
    }
    if let Some(d) = o.mrai {
        r.timers.mrai = Some(d);
    }
    if let Some(d) = o.idle_hold {
        r.timers.idle_hold = Some(d);
    }
    if let Some(d) = o.idle_hold_max {
        r.timers.idle_hold_max = Some(d);
    }
    if let Some(d) = o.idle_hold_forget {
        r.timers.idle_hold_forget = Some(d);
    }
    if let Some(d) = o.graceful_restart {
        r.timers.graceful_restart = Some(d);
    }
    if let Some(n) = o.graceful_restart_notification {
        r.timers.graceful_restart_notification = n;
    }
    if let Some(d) = o.route_install {
        r.timers.route_install = Some(d);
    }
    if let Some(d) = o.route_install_per_prefix {
        r.timers.route_install_per_prefix = Some(d);
    }
    if let Some(p) = o.profile {
        r.profile = p;
    }
    if let Some(m) = o.maximum_paths {
        r.max_paths = m;
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
    // A `[[router]]` that writes the key itself (a router of the general form, or one in a
    // template's role written out).
    if let Some(i) = spec.router.iter().position(|r| r.name == router) {
        let r = &spec.router[i];
        let at = root().key("router").index(i);
        let own = match key {
            "hold_time" => r.hold_time.is_some(),
            "keepalive" => r.keepalive.is_some(),
            _ => false,
        };
        if own || spec.bgp.is_none() {
            return if own { at.key(key) } else { at };
        }
    }
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
    if let Some(i) = spec.router.iter().position(|r| r.name == router)
        && spec.router[i]
            .bfd
            .as_ref()
            .is_some_and(|b| b.interval.is_some())
    {
        return root().key("router").index(i).key("bfd").key("interval");
    }
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
