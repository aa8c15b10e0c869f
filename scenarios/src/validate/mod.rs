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

use ipnet::{IpNet, Ipv4Net};
use sim_core::time::Duration;

use crate::diag::{Diagnostic, KeyPath};
use crate::scenario::{Direction, Fault, Probe, Scenario};
use crate::spec::{ScenarioSpec, TopologyChoice, TopologySpec};
use crate::topology::{
    self, BUILTIN_TOPOLOGIES, SegmentIx, SessionIx, SessionKind, Target, TargetClass, Topology,
};
use crate::units::TimeSpec;

mod expect;
mod faults;
mod overrides;

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
        let faults: Vec<Fault> = spec
            .fault
            .iter()
            .enumerate()
            .filter_map(|(i, f)| self.fault(i, f, &topo))
            .collect();
        self.timeline(&faults, &topo);
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
        if let Some(m) = spec.measure_from
            && m >= spec.duration
        {
            self.error(
                Diagnostic::error(
                    root().key("measure_from"),
                    "the measurement window would be empty",
                )
                .expected(format!(
                    "a time before the end of the run ({})",
                    spec.duration
                )),
            );
        }
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
            measure_from: spec.measure_from,
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
    topo.carrier_segments(target)
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
    let old: Vec<IpNet> = old.iter().map(|p| IpNet::V4(*p)).collect();
    for s in &mut topo.sessions {
        for end in &mut s.ends {
            if !end.announces.is_empty() && end.announces == old {
                end.announces = new.iter().map(|p| IpNet::V4(*p)).collect();
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
