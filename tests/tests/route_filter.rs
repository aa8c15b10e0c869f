//! Route filters on Microsoft peering (issue 17, item 3): the MSEEs advertise exactly the
//! prefixes of the services the filter selects, each tagged with its service's community
//! (RFC 1997) — checked on the bytes the CEs receive, decoded — nothing without a filter (and
//! the file says why when it is loaded), and a filter where it does not belong is refused
//! with its location.

use std::collections::BTreeMap;

use bgp::fsm::State;
use bgp::wire::{Community, DecodeCtx, Framer, Message};
use ipnet::IpNet;
use scenarios::scenario::Scenario;
use scenarios::sim::net::{CapturePoint, SessIx};
use scenarios::sim::tap::Tap;
use sim_core::time::Instant;

/// A Microsoft-peering circuit whose peering carries `filter_line` (a `route_filter = ...`
/// line, or nothing).
fn design(filter_line: &str) -> String {
    format!(
        r#"name = "route filter"
duration = "3m"
seed = 1

[topology]
customer_asn = 65001
ce_routers = 2
onprem_prefixes = ["10.1.0.0/16"]
public_prefixes = ["203.0.113.0/28"]

[[topology.circuit]]
name = "circuit"
bandwidth = "1Gbps"

[[topology.circuit.peering]]
kind = "microsoft"
primary_subnet = "198.51.100.0/30"
secondary_subnet = "198.51.100.4/30"
vlan = 200
{filter_line}

[[topology.vnet]]
name = "vnet"
prefixes = ["10.10.0.0/16"]

[[probe]]
from = "onprem"
to = "microsoft"
"#
    )
}

fn load(text: &str) -> scenarios::Loaded {
    match scenarios::load_str("rf.toml", text) {
        Ok(l) => l,
        Err(e) => panic!("does not load: {e}"),
    }
}

/// The byte streams each session end received, by (session, end).
#[derive(Default)]
struct Received(BTreeMap<(usize, u8), Vec<u8>>);

impl Tap for Received {
    fn frame(&mut self, _: Instant, _: SessIx, _: u8, _: &scenarios::sim::net::Frame) {}
    fn received(&mut self, _: Instant, session: SessIx, end: u8, bytes: &[u8]) {
        self.0
            .entry((session.0, end))
            .or_default()
            .extend_from_slice(bytes);
    }
    fn state(&mut self, _: Instant, _: SessIx, _: u8, _: State, _: State) {}
}

/// Per prefix the CEs received over Microsoft peering: the communities it came with.
fn announced_to_the_ces(sc: &Scenario) -> BTreeMap<IpNet, Vec<Community>> {
    let mut tap = Received::default();
    if let Err(e) = scenarios::run_with_tap(sc, 1, None, &mut tap, CapturePoint::Receiver) {
        panic!("run failed: {e}");
    }
    let ctx = DecodeCtx {
        four_octet_as: true,
        ..DecodeCtx::default()
    };
    let mut out: BTreeMap<IpNet, Vec<Community>> = BTreeMap::new();
    let mut sessions = 0;
    for ((s, end), bytes) in &tap.0 {
        let session = &sc.topology.sessions[*s];
        if *end != 0 || !session.name.ends_with(".microsoft") {
            continue;
        }
        sessions += 1;
        let mut framer = Framer::new();
        framer.handle_bytes(bytes);
        while let Some(m) = framer.poll_message(&ctx) {
            let Ok(Message::Update(u)) = m else {
                continue;
            };
            for n in u.announcements() {
                out.entry(n.prefix)
                    .or_default()
                    .extend(u.attributes.communities().iter().copied());
            }
        }
    }
    assert_eq!(
        sessions, 2,
        "both CEs received on their Microsoft-peering session"
    );
    out
}

fn prefix(s: &str) -> IpNet {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn the_msees_advertise_only_the_selected_services_each_with_its_community() {
    let got = announced_to_the_ces(&load(&design(r#"route_filter = ["12076:5010"]"#)).scenario);
    let exchange = Community::new(12076, 5010);
    // Received once per CE, each time tagged with Exchange Online's community and no other.
    assert_eq!(
        got,
        BTreeMap::from([(prefix("13.107.6.152/31"), vec![exchange, exchange])]),
        "only Exchange Online's range, tagged 12076:5010"
    );

    let both = announced_to_the_ces(
        &load(&design(r#"route_filter = ["12076:5030", "12076:5010"]"#)).scenario,
    );
    let teams = Community::new(12076, 5030);
    assert_eq!(
        both,
        BTreeMap::from([
            (prefix("13.107.6.152/31"), vec![exchange, exchange]),
            (prefix("52.112.0.0/14"), vec![teams, teams]),
        ])
    );
}

#[test]
fn without_a_route_filter_nothing_is_advertised_and_loading_says_why() {
    let loaded = load(&design(""));
    let warnings = loaded.render_warnings();
    assert!(
        warnings.contains(
            "rf.toml:16:8: warning: Microsoft peering without a route filter: Microsoft advertises no prefix over it"
        ),
        "{warnings}"
    );
    assert_eq!(announced_to_the_ces(&loaded.scenario), BTreeMap::new());
}

fn refused(text: &str) -> String {
    match scenarios::load_str("rf.toml", text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_route_filter_elsewhere_or_with_an_unknown_community_is_refused_where_it_is_written() {
    let private = design(r#"route_filter = ["12076:5010"]"#)
        .replace(r#"kind = "microsoft""#, r#"kind = "private""#);
    let e = refused(&private);
    assert!(
        e.contains("rf.toml:20:16: error: a route filter selects Microsoft's services on Microsoft peering, not on private peering (at `topology.circuit[0].peering[0].route_filter`)"),
        "{e}"
    );
    let e = refused(&design(r#"route_filter = ["12076:5010", "12076:5040"]"#));
    assert!(
        e.contains("rf.toml:20:31: error: community 12076:5040 selects no service the model knows (at `topology.circuit[0].peering[0].route_filter[1]`)"),
        "{e}"
    );
    assert!(e.contains("12076:5010 (Exchange Online)"), "{e}");
    let e = refused(&design(r#"route_filter = ["exchange"]"#));
    assert!(
        e.contains("error: `exchange` is not a BGP community"),
        "{e}"
    );
    assert!(e.contains("= expected: ASN:value, both 0-65535"), "{e}");
}
