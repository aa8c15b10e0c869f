//! Changes to a circuit while it runs (issue 17, item 4): `bandwidth_change` raised in place and
//! lowered by deleting and re-creating the circuit, and `sku_change` moving the MSEEs'
//! private-peering prefix limit. The library scenario `bandwidth-downgrade` pins the data
//! plane's side (bytes dropped before and after each change); these tests pin the control
//! plane's.

use scenarios::report::{DownCause, RunReport, TimelineEvent};
use scenarios::scenario::Scenario;
use scenarios::spec::SessionStateName;
use sim_core::time::{Duration, Instant};

/// A premium circuit whose CEs originate `onprem` prefixes, with `faults` appended.
fn premium(onprem: u32, faults: &str) -> String {
    format!(
        r#"name = "premium circuit"
duration = "10m"
seed = 1

[topology]
customer_asn = 65001
ce_routers = 2
onprem_prefixes = ["10.1.0.0/16"]

[[topology.circuit]]
name = "circuit"
bandwidth = "1Gbps"
sku = "premium"

[[topology.circuit.peering]]
kind = "private"
primary_subnet = "192.168.100.0/30"
secondary_subnet = "192.168.100.4/30"
vlan = 100

[[topology.vnet]]
name = "vnet"
prefixes = ["10.10.0.0/16"]

[prefixes]
onprem = {onprem}

[[probe]]
from = "onprem"
to = "vnet"
{faults}"#
    )
}

fn load(text: &str) -> Scenario {
    match scenarios::load_str("changes.toml", text) {
        Ok(l) => l.scenario,
        Err(e) => panic!("does not load: {e}"),
    }
}

fn run(text: &str) -> RunReport {
    let sc = load(text);
    match scenarios::run(&sc, 1, None) {
        Ok(r) => r,
        Err(e) => panic!("run failed: {e}"),
    }
}

fn at_s(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

/// The session ends that went down after `from`, with why.
fn downs_after(r: &RunReport, from: Instant) -> Vec<(String, String, DownCause)> {
    r.timeline
        .iter()
        .filter(|e| e.at >= from)
        .filter_map(|e| match &e.event {
            TimelineEvent::Session {
                session,
                cause: Some(cause),
                ..
            } => Some((
                e.router.clone().unwrap_or_default(),
                session.clone(),
                *cause,
            )),
            _ => None,
        })
        .collect()
}

const TO_STANDARD: &str = r#"
[[fault]]
at = "3m"
kind = "sku_change"
target = "circuit"
sku = "standard"
"#;

#[test]
fn a_downgrade_to_standard_drops_the_sessions_holding_more_than_4000_prefixes() {
    let r = run(&premium(4500, TO_STANDARD));
    let downs = downs_after(&r, at_s(180));
    // RFC 4486 §4: Cease, subcode 1, from each MSEE at the instant of the change.
    for (msee, session) in [
        ("msee1", "circuit.primary.private"),
        ("msee2", "circuit.secondary.private"),
    ] {
        assert!(
            downs.iter().any(|(r, s, c)| r == msee
                && s == session
                && *c
                    == DownCause::NotificationSent {
                        code: 6,
                        subcode: 1
                    }),
            "{msee} closes {session} with Cease 6/1: {downs:?}"
        );
    }
    let first = r
        .detections
        .iter()
        .filter(|d| d.router.starts_with("msee"))
        .map(|d| d.at)
        .min();
    assert_eq!(first, Some(at_s(180)), "at once: {:?}", r.detections);
}

#[test]
fn a_downgrade_within_the_standard_limit_and_an_upgrade_change_nothing() {
    let to_premium = TO_STANDARD
        .replace("\"3m\"", "\"5m\"")
        .replace("\"standard\"", "\"premium\"");
    let r = run(&premium(4000, &format!("{TO_STANDARD}{to_premium}")));
    assert_eq!(downs_after(&r, at_s(170)), Vec::new());
    assert!(r.timeline.iter().any(|e| matches!(&e.event,
        TimelineEvent::Fault { kind, .. } if kind == "sku_change: standard, private-peering prefix limit 4000")));
}

#[test]
fn the_lowered_limit_survives_a_crash_of_the_msee() {
    // After the downgrade ce1 is dropped (4,500 > 4,000); msee1 then crashes and boots from
    // its configuration, which the SKU change is part of: ce1's next session is dropped too.
    let faults = format!(
        "{TO_STANDARD}\n[[fault]]\nat = \"4m\"\nkind = \"router_crash\"\ntarget = \"msee1\"\n\n[[fault]]\nat = \"4m10s\"\nkind = \"router_restart\"\ntarget = \"msee1\"\n"
    );
    let r = run(&premium(4500, &faults));
    let drops = downs_after(&r, at_s(241))
        .into_iter()
        .filter(|(router, _, c)| {
            router == "msee1"
                && *c
                    == DownCause::NotificationSent {
                        code: 6,
                        subcode: 1,
                    }
        })
        .count();
    assert!(drops >= 1, "msee1 still enforces 4,000 after its restart");
}

const RAISE: &str = r#"
[[fault]]
at = "3m"
kind = "bandwidth_change"
target = "circuit"
bandwidth = "2Gbps"
"#;

const LOWER: &str = r#"
[[fault]]
at = "3m"
kind = "bandwidth_change"
target = "circuit"
bandwidth = "500Mbps"
recreate = "2m"
"#;

#[test]
fn a_raised_bandwidth_touches_no_session() {
    let r = run(&premium(10, RAISE));
    assert_eq!(downs_after(&r, at_s(170)), Vec::new());
}

#[test]
fn a_lowered_bandwidth_deletes_the_circuit_until_it_is_re_created() {
    let r = run(&premium(10, LOWER));
    let downs = downs_after(&r, at_s(170));
    // RFC 4486 §4: the deleted circuit's peerings are de-configured, Cease 6/3.
    for msee in ["msee1", "msee2"] {
        assert!(
            downs.iter().any(|(r, _, c)| r == msee
                && *c
                    == DownCause::NotificationSent {
                        code: 6,
                        subcode: 3
                    }),
            "{msee} closes its session with Cease 6/3: {downs:?}"
        );
    }
    // Refused while the circuit is re-created; up again on the new one after 5m (the CEs
    // reconnect at their next ConnectRetry, within 120 s).
    let established = |t0: Instant, t1: Instant| {
        r.timeline.iter().any(|e| {
            e.at >= t0
                && e.at < t1
                && matches!(
                    &e.event,
                    TimelineEvent::Session {
                        to: SessionStateName::Established,
                        ..
                    }
                )
        })
    };
    assert!(
        !established(at_s(181), at_s(300)),
        "nothing comes up before 5m"
    );
    assert!(
        established(at_s(300), at_s(420)),
        "the new circuit's sessions come up"
    );
}
