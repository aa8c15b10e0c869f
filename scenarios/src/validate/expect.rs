//! Probes (traffic directions) and expectations: each `[[expect]]` resolved to a [`Check`],
//! metric names parsed against the metric grammar and the directions actually measured.

use sim_core::time::Duration;

use crate::diag::{Diagnostic, KeyPath};
use crate::scenario::{Bounds, Check, Direction, Expectation, MessageType, Metric, Probe};
use crate::spec::{AddressFamily, ExpectSpec, ProbeDirection, ScenarioSpec};
use crate::topology::Topology;
use crate::units::Quantity;

use super::{Validator, root};

impl Validator {
    /// Whether `t` lies within the run; otherwise reports a located error at `key`.
    fn within_run(&mut self, t: Duration, key: KeyPath) -> bool {
        if t > self.duration {
            self.error(
                Diagnostic::error(
                    key,
                    format!("{t} is after the end of the run ({})", self.duration),
                )
                .expected("a time within `duration`"),
            );
            return false;
        }
        true
    }

    pub(super) fn probes(&mut self, spec: &ScenarioSpec, topo: &Topology) -> Vec<Probe> {
        let endpoints = topo.endpoints();
        let first_vnet = topo
            .vnets
            .first()
            .map_or_else(|| "vnet".to_owned(), |v| v.name.clone());
        if spec.probe.is_empty() && !topo.tenants.is_empty() {
            // A CSP's network: each tenant's hosts and its VNet, both ways.
            return topo
                .tenants
                .iter()
                .filter_map(|t| Some((topo.sites.get(t.onprem)?, topo.sites.get(t.vnet)?)))
                .map(|(a, b)| Probe {
                    directions: vec![
                        direction(&a.name, &b.name, ""),
                        direction(&b.name, &a.name, ""),
                    ],
                    interval: None,
                    flows: 1,
                    family: AddressFamily::Ipv4,
                    rate: None,
                })
                .collect();
        }
        if spec.probe.is_empty() && !topo.has_onprem() {
            // The general form alone: between its first two sites, both ways.
            let [a, b] = match topo.sites.as_slice() {
                [a, b, ..] => [a.name.clone(), b.name.clone()],
                _ => {
                    self.error(
                        Diagnostic::error(root().key("probe"), "nothing to measure: fewer than two sites and no [[probe]]")
                            .expected("routers with `prefixes` (each a site under its name) or [[site]] tables, and [[probe]] tables between them")
                            .allowed(topo.sites.iter().map(|s| s.name.clone())),
                    );
                    return Vec::new();
                }
            };
            return vec![Probe {
                directions: vec![direction(&a, &b, ""), direction(&b, &a, "")],
                interval: None,
                flows: 1,
                family: AddressFamily::Ipv4,
                rate: None,
            }];
        }
        if spec.probe.is_empty() {
            return vec![Probe {
                directions: vec![
                    direction("onprem", &first_vnet, ""),
                    direction(&first_vnet, "onprem", ""),
                ],
                interval: None,
                flows: 1,
                family: AddressFamily::Ipv4,
                rate: None,
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
                            .expected("on-premises, a VNet by name, Microsoft (with Microsoft peering), or a site")
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
            // The internet is reached from a VNet, one way: its hosts do not open connections
            // to the VNet's private addresses.
            let is_vnet = |n: &str| topo.vnets.iter().any(|v| v.name == n);
            let to_internet = p.to == "internet";
            if ok && p.from == "internet" {
                self.error(
                    Diagnostic::error(
                        path.key("from"),
                        "traffic from the internet is not measured",
                    )
                    .expected(
                        "from = a VNet, to = \"internet\" (the VNet's internet-bound traffic)",
                    ),
                );
                ok = false;
            } else if ok && to_internet && !is_vnet(&p.from) {
                self.error(
                    Diagnostic::error(
                        path.key("from"),
                        format!(
                            "traffic from `{}` to the internet does not cross the hybrid network",
                            p.from
                        ),
                    )
                    .expected("a VNet")
                    .allowed(topo.vnets.iter().map(|v| v.name.clone())),
                );
                ok = false;
            } else if ok && to_internet && p.direction == Some(ProbeDirection::Both) {
                self.error(
                    Diagnostic::error(
                        path.key("direction"),
                        "internet traffic is measured one way",
                    )
                    .expected("direction = \"one\" (the default towards the internet)"),
                );
                ok = false;
            }
            let own_side = |n: &str| n == "onprem" || topo.sites.iter().any(|s| s.name == n);
            if ok && !to_internet && !own_side(&p.from) && !own_side(&p.to) {
                self.error(
                    Diagnostic::error(
                        path.key("to"),
                        format!(
                            "traffic between `{}` and `{}` does not cross the hybrid network",
                            p.from, p.to
                        ),
                    )
                    .expected("one end must be `onprem` or a site"),
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
            if let Some(r) = p.rate
                && r.bps() < u64::from(flows)
            {
                self.error(
                    Diagnostic::error(
                        path.key("rate"),
                        format!("offered load {r} over {flows} flows"),
                    )
                    .expected("at least 1 bps per flow, e.g. \"1.6Gbps\""),
                );
                ok = false;
            }
            let family = p.family.unwrap_or(AddressFamily::Ipv4);
            if ok && family == AddressFamily::Ipv6 {
                let v6_onprem = !topo.onprem_ipv6_prefixes.is_empty();
                let other = if p.from == "onprem" { &p.to } else { &p.from };
                let v6_other = topo
                    .vnets
                    .iter()
                    .any(|v| v.name == *other && !v.ipv6_prefixes.is_empty());
                if to_internet {
                    self.error(
                        Diagnostic::error(
                            path.key("family"),
                            "IPv6 internet traffic is not modelled",
                        )
                        .expected("family = \"ipv4\" towards the internet"),
                    );
                    ok = false;
                } else if !(v6_onprem && v6_other) {
                    self.error(
                        Diagnostic::error(
                            path.key("family"),
                            format!("no IPv6 address space between `{}` and `{}`", p.from, p.to),
                        )
                        .expected("topology.onprem_ipv6_prefixes and the VNet's ipv6_prefixes (IPv6 runs over private peering only)"),
                    );
                    ok = false;
                }
            }
            if !ok {
                continue;
            }
            let suffix = if family == AddressFamily::Ipv6 {
                "_ipv6"
            } else {
                ""
            };
            let mut directions = vec![direction(&p.from, &p.to, suffix)];
            let default = if to_internet {
                ProbeDirection::One
            } else {
                ProbeDirection::Both
            };
            if p.direction.unwrap_or(default) == ProbeDirection::Both {
                directions.push(direction(&p.to, &p.from, suffix));
            }
            out.push(Probe {
                directions,
                interval: p.interval,
                flows,
                family,
                rate: p.rate,
            });
        }
        out
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one branch per expectation form, each short"
    )]
    pub(super) fn expect(
        &mut self,
        i: usize,
        e: &ExpectSpec,
        topo: &Topology,
        directions: &[Direction],
        packets: &[String],
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
            "metric" => &["metric", "max", "min", "eq", "episode", "allow_open"],
            "session" => &["session", "down_by", "state", "at", "never_up", "stays_up"],
            "no_loss" => &["no_loss"],
            _ => &["path", "via", "link", "at", "share"],
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
            ("share", e.share.is_some()),
            ("link", e.link.is_some()),
            ("episode", e.episode.is_some()),
            ("allow_open", e.allow_open.is_some()),
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
                let metric =
                    self.metric(name, &path.key("metric"), topo, &direction_names, packets)?;
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
                let episodic = matches!(
                    metric,
                    Metric::Outage(_)
                        | Metric::SessionDetection(_)
                        | Metric::RouterDetection(_)
                        | Metric::Convergence(_)
                );
                if e.episode.is_some() && !episodic {
                    self.error(
                        Diagnostic::error(
                            path.key("episode"),
                            format!(
                                "metric `{name}` is counted over the whole run, not per episode"
                            ),
                        )
                        .expected("`episode` with outage.DIR, detection.X or convergence.ROUTER"),
                    );
                    return None;
                }
                if e.episode == Some(0) {
                    self.error(
                        Diagnostic::error(path.key("episode"), "episode 0")
                            .expected("an episode number from 1 (the first fault's)"),
                    );
                    return None;
                }
                if e.allow_open.is_some() && !matches!(metric, Metric::Outage(_)) {
                    self.error(
                        Diagnostic::error(
                            path.key("allow_open"),
                            format!("`allow_open` is for outage metrics, not `{name}`"),
                        )
                        .expected("`allow_open` with outage.DIR"),
                    );
                    return None;
                }
                let mut text = name.to_owned();
                if let Some(ep) = e.episode {
                    text.push_str(&format!(" (episode {ep})"));
                }
                for (op, q) in [(">=", e.min), ("<=", e.max), ("==", e.eq)] {
                    if let Some(q) = q {
                        text.push_str(&format!(" {op} {}", crate::fmt::quantity(q)));
                    }
                }
                (
                    Check::Metric {
                        metric,
                        bounds,
                        episode: e.episode,
                        allow_open: e.allow_open.unwrap_or(false),
                    },
                    text,
                )
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
                        if !self.within_run(by, path.key("down_by")) {
                            return None;
                        }
                        (
                            Check::SessionDownBy { session, by },
                            format!("session {name} down by {}", crate::fmt::exact(by)),
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
                        if !self.within_run(at, path.key("at")) {
                            return None;
                        }
                        let state = e.state?;
                        (
                            Check::SessionState { session, state, at },
                            format!(
                                "session {name} is {} at {}",
                                crate::report::state_name(state),
                                crate::fmt::exact(at)
                            ),
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
                if !self.within_run(at, path.key("at")) {
                    return None;
                }
                let share_percent = match e.share.as_deref() {
                    None => 100,
                    Some(text) => {
                        let n = text
                            .trim()
                            .strip_suffix('%')
                            .and_then(|n| n.trim().parse::<u32>().ok())
                            .filter(|n| (1..=100).contains(n));
                        let Some(n) = n else {
                            self.error(
                                Diagnostic::error(path.key("share"), format!("share `{text}`"))
                                    .expected("a whole percentage from 1% to 100%, e.g. \"90%\""),
                            );
                            return None;
                        };
                        n
                    }
                };
                if let Some(l) = &e.link {
                    let known = topo.session(l).is_some()
                        || matches!(topo.resolve(l), Some(crate::topology::Target::Link(..)));
                    if !known {
                        self.error(
                            Diagnostic::error(path.key("link"), format!("unknown link `{l}`"))
                                .expected("a circuit link (`circuit.primary`) or a session, as the timeline's traffic lines name them")
                                .allowed(
                                    topo.target_names(&[crate::topology::TargetClass::Link], |_, _| true)
                                        .into_iter()
                                        .chain(topo.sessions.iter().map(|s| s.name.clone())),
                                ),
                        );
                        return None;
                    }
                }
                let by = e
                    .link
                    .as_ref()
                    .map_or_else(String::new, |l| format!(" ({l})"));
                let text = if share_percent == 100 {
                    format!("{name} via {}{by} at {}", via.name(), crate::fmt::exact(at))
                } else {
                    format!(
                        "{name} via {}{by} at {} (at least {share_percent} % of flows)",
                        via.name(),
                        crate::fmt::exact(at)
                    )
                };
                (
                    Check::Path {
                        direction: name.to_owned(),
                        via,
                        link: e.link.clone(),
                        at,
                        share_percent,
                    },
                    text,
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

    pub(super) fn metric(
        &mut self,
        name: &str,
        path: &KeyPath,
        topo: &Topology,
        directions: &[String],
        packets: &[String],
    ) -> Option<Metric> {
        let families = [
            "outage",
            "probes_lost",
            "bytes_dropped",
            "detection",
            "convergence",
            "messages",
            "flaps",
            "isolation",
        ];
        let (family, rest) = name.split_once('.').unwrap_or((name, ""));
        let bad = |v: &mut Self, msg: String, allowed: Vec<String>| {
            v.error(
                Diagnostic::error(path.clone(), msg)
                    .expected("outage.DIR, probes_lost.DIR, bytes_dropped.DIR, detection.SESSION|ROUTER|SESSION@ROUTER, convergence.ROUTER, messages.TYPE, flaps[.SESSION], isolation.leaks[.TENANT]")
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
                if family == "probes_lost" && !packets.iter().any(|d| d == rest) {
                    // Without packets there is nothing to lose: a count of 0 would read as
                    // "no loss" whatever the outage.
                    bad(
                        self,
                        format!(
                            "direction `{rest}` sends no probe packets (its [[probe]] has no \
                             `interval`), so there are none to lose (in metric `{name}`)"
                        ),
                        std::iter::once(format!("outage.{rest}"))
                            .chain(packets.iter().map(|d| format!("probes_lost.{d}")))
                            .collect(),
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
                if let Some((sname, rname)) = rest.rsplit_once('@') {
                    let session = topo.session(sname);
                    let router = topo.router(rname);
                    if let (Some(s), Some(r)) = (session, router)
                        && topo.sessions[s.0].ends.iter().any(|e| e.router == r)
                    {
                        return Some(Metric::EndDetection(s, r));
                    }
                    bad(
                        self,
                        format!(
                            "`{rest}` is not an end of a session (SESSION@ROUTER) in metric `{name}`"
                        ),
                        topo.sessions
                            .iter()
                            .flat_map(|s| {
                                s.ends.iter().map(move |e| {
                                    format!("detection.{}@{}", s.name, topo.router_name(e.router))
                                })
                            })
                            .collect(),
                    );
                    return None;
                }
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
            "isolation" => {
                let tenant = rest.strip_prefix("leaks").and_then(|t| {
                    if t.is_empty() {
                        Some(None)
                    } else {
                        t.strip_prefix('.')
                            .and_then(|t| topo.tenants.iter().position(|x| x.name == t))
                            .map(Some)
                    }
                });
                match tenant {
                    Some(t) if !topo.tenants.is_empty() => Some(Metric::Leaks(t)),
                    _ => {
                        bad(
                            self,
                            if topo.tenants.is_empty() {
                                format!("metric `{name}` in a network without tenants")
                            } else {
                                format!("unknown metric `{name}`")
                            },
                            std::iter::once("isolation.leaks".to_owned())
                                .chain(
                                    topo.tenants
                                        .iter()
                                        .map(|t| format!("isolation.leaks.{}", t.name)),
                                )
                                .collect(),
                        );
                        None
                    }
                }
            }
            _ => {
                bad(self, format!("unknown metric `{name}`"), family_list());
                None
            }
        }
    }
}

fn direction(from: &str, to: &str, suffix: &str) -> Direction {
    Direction {
        name: format!("{from}_to_{to}{suffix}"),
        from: from.to_owned(),
        to: to.to_owned(),
    }
}
