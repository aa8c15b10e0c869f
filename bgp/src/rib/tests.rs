//! Behaviour of the assembled RIB: import and export policy, implicit withdrawal, max-prefix,
//! MRAI batching and packing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;

use super::adj_rib_in::{IpFamily, MaxPrefix};
use super::decision::Multipath;
use super::prefix_list::{Action, Entry, PrefixList};
use super::*;
use crate::wire::{
    AsPath, Asn, AttrType, AttrValue, EncodeCtx, Message, MpNextHop, MpReach, Nlri, Origin,
    PathAttributes, Placement, Update,
};

const LOCAL_AS: u32 = 65_000;

fn net(s: &str) -> IpNet {
    s.parse()
        .unwrap_or_else(|e| panic!("bad test prefix {s}: {e}"))
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn attrs(as_path: &[u32], next_hop: Ipv4Addr) -> PathAttributes {
    [
        AttrValue::Origin(Origin::Igp),
        AttrValue::AsPath(AsPath::from_sequence(
            as_path.iter().copied().map(Asn).collect(),
        )),
        AttrValue::NextHop(next_hop),
    ]
    .into_iter()
    .collect()
}

fn announce(attrs: PathAttributes, prefixes: &[&str]) -> Update {
    Update::announce(
        Arc::new(attrs),
        prefixes
            .iter()
            .map(|p| Nlri::new(net(p)))
            .collect::<Vec<_>>(),
    )
}

fn withdraw(prefixes: &[&str]) -> Update {
    Update::withdraw(prefixes.iter().map(|p| Nlri::new(net(p))).collect())
}

/// A RIB in AS 65000 with eBGP peers 1 (AS 65001, 10.0.1.2) and 2 (AS 65002, 10.0.2.2), an
/// iBGP peer 3 (10.0.3.2), all Established.
fn rib_with(tweak: impl Fn(PeerId, &mut PeerConfig)) -> Rib {
    let mut rib = Rib::new(RibConfig::new(LOCAL_AS, v4(10, 255, 0, 1)));
    for (id, asn) in [(1u8, 65_001u32), (2, 65_002), (3, LOCAL_AS)] {
        let mut config = PeerConfig::new(
            asn,
            IpAddr::V4(v4(10, 0, id, 2)),
            IpAddr::V4(v4(10, 0, id, 1)),
        );
        tweak(PeerId(u32::from(id)), &mut config);
        assert_eq!(rib.add_peer(PeerId(u32::from(id)), config), Ok(()));
        assert_eq!(
            rib.peer_up(PeerId(u32::from(id)), v4(10, 0, id, 2), true),
            Ok(())
        );
    }
    rib
}

fn rib() -> Rib {
    rib_with(|_, _| {})
}

fn best_source(rib: &Rib, prefix: &str) -> Option<PeerId> {
    rib.loc_rib().best(&net(prefix)).map(|p| p.source)
}

fn fib_changes(rib: &mut Rib) -> Vec<FibChange> {
    let mut out = Vec::new();
    while let Some(event) = rib.poll_event() {
        if let RibEvent::FibChanged(change) = event {
            out.push(change);
        }
    }
    out
}

fn flush(rib: &mut Rib, peer: u32) -> Vec<Update> {
    rib.poll_updates(
        PeerId(peer),
        &EncodeCtx {
            four_octet_as: true,
            ..EncodeCtx::default()
        },
    )
    .unwrap_or_else(|e| panic!("packing failed: {e}"))
}

fn announced(updates: &[Update]) -> Vec<IpNet> {
    updates
        .iter()
        .flat_map(|u| u.announcements().map(|n| n.prefix))
        .collect()
}

fn withdrawn(updates: &[Update]) -> Vec<IpNet> {
    updates
        .iter()
        .flat_map(|u| u.withdrawals().map(|n| n.prefix))
        .collect()
}

fn ok(result: Result<(), RibError>) {
    assert_eq!(result, Ok(()));
}

#[test]
fn implicit_withdrawal_on_session_down_falls_back_to_other_peer() {
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(
            attrs(&[65_001], v4(10, 0, 1, 2)),
            &["192.0.2.0/24", "198.51.100.0/24"],
        ),
    ));
    ok(rib.handle_update(
        PeerId(2),
        &announce(attrs(&[65_002, 1], v4(10, 0, 2, 2)), &["192.0.2.0/24"]),
    ));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), Some(PeerId(1)));
    let _ = fib_changes(&mut rib);

    ok(rib.peer_down(PeerId(1)));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), Some(PeerId(2)));
    assert_eq!(best_source(&rib, "198.51.100.0/24"), None);
    assert!(rib.adj_rib_in(PeerId(1)).is_some_and(AdjRibIn::is_empty));
    let changes = fib_changes(&mut rib);
    let summary: Vec<(IpNet, Vec<PeerId>)> = changes
        .iter()
        .map(|c| (c.prefix, c.next_hops.iter().map(|h| h.peer).collect()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (net("192.0.2.0/24"), vec![PeerId(2)]),
            (net("198.51.100.0/24"), vec![])
        ]
    );
    // UPDATEs from a session that is down are refused.
    assert_eq!(
        rib.handle_update(
            PeerId(1),
            &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["10.0.0.0/8"])
        ),
        Err(RibError::NotEstablished(PeerId(1)))
    );
}

#[test]
fn withdraw_and_reannounce_update_the_best_path() {
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    ok(rib.handle_update(PeerId(1), &withdraw(&["192.0.2.0/24"])));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), None);
    ok(rib.handle_update(
        PeerId(2),
        &announce(attrs(&[65_002], v4(10, 0, 2, 2)), &["192.0.2.0/24"]),
    ));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), Some(PeerId(2)));
}

#[test]
fn shares_one_path_among_the_prefixes_of_an_update() {
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(
            attrs(&[65_001], v4(10, 0, 1, 2)),
            &["192.0.2.0/24", "198.51.100.0/24"],
        ),
    ));
    let a = rib.loc_rib().best(&net("192.0.2.0/24")).cloned();
    let b = rib.loc_rib().best(&net("198.51.100.0/24")).cloned();
    assert!(matches!((a, b), (Some(a), Some(b)) if Arc::ptr_eq(&a, &b)));
}

#[test]
fn rejects_routes_with_own_as_in_path() {
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(
            attrs(&[65_001, LOCAL_AS, 7], v4(10, 0, 1, 2)),
            &["192.0.2.0/24"],
        ),
    ));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), None);
}

#[test]
fn treat_as_withdraw_removes_the_previous_route() {
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    let mut bad = announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]);
    bad.issues.push(crate::wire::AttributeError {
        type_code: AttrType::MULTI_EXIT_DISC,
        offset: 0,
        attribute: vec![],
        kind: crate::wire::AttributeErrorKind::Length { length: 5 },
        action: crate::wire::AttrAction::TreatAsWithdraw,
    });
    ok(rib.handle_update(PeerId(1), &bad));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), None);
}

#[test]
fn import_prefix_list_with_ge_le_filters_announcements() {
    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(1) {
            c.import.prefix_list = Some(PrefixList {
                entries: vec![Entry {
                    action: Action::Permit,
                    prefix: net("10.0.0.0/8"),
                    ge: Some(16),
                    le: Some(24),
                }],
            });
        }
    });
    let prefixes = [
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.1.2.0/24",
        "10.1.2.0/25",
        "172.16.0.0/16",
    ];
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &prefixes),
    ));
    let accepted: Vec<IpNet> = rib.loc_rib().iter_best().map(|(p, _)| *p).collect();
    assert_eq!(accepted, vec![net("10.1.0.0/16"), net("10.1.2.0/24")]);
}

#[test]
fn import_local_pref_and_weight_steer_the_best_path() {
    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(2) {
            c.import.set_local_pref = Some(150);
        }
    });
    // Peer 1 has the shorter AS path, but peer 2's LOCAL_PREF 150 wins (RFC 4271 §9.1.1).
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    ok(rib.handle_update(
        PeerId(2),
        &announce(attrs(&[65_002, 9, 9], v4(10, 0, 2, 2)), &["192.0.2.0/24"]),
    ));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), Some(PeerId(2)));

    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(1) {
            c.import.set_weight = Some(10);
        }
        if peer == PeerId(2) {
            c.import.set_local_pref = Some(500);
        }
    });
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    ok(rib.handle_update(
        PeerId(2),
        &announce(attrs(&[65_002], v4(10, 0, 2, 2)), &["192.0.2.0/24"]),
    ));
    assert_eq!(
        best_source(&rib, "192.0.2.0/24"),
        Some(PeerId(1)),
        "weight precedes LOCAL_PREF"
    );
}

#[test]
fn ignores_local_pref_received_from_external_peer() {
    let mut rib = rib();
    let mut high = attrs(&[65_001], v4(10, 0, 1, 2));
    high.set(AttrValue::LocalPref(1_000));
    ok(rib.handle_update(PeerId(1), &announce(high, &["192.0.2.0/24"])));
    ok(rib.handle_update(
        PeerId(2),
        &announce(attrs(&[65_002], v4(10, 0, 2, 2)), &["192.0.2.0/24"]),
    ));
    assert_eq!(
        rib.loc_rib()
            .best(&net("192.0.2.0/24"))
            .map(|p| p.rank.local_pref),
        Some(100)
    );
}

#[test]
fn import_removes_private_asns_like_msee_on_microsoft_peering() {
    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(1) {
            c.import.remove_private_as = true;
        }
    });
    ok(rib.handle_update(
        PeerId(1),
        &announce(
            attrs(&[65_001, 64_700, 3_356], v4(10, 0, 1, 2)),
            &["192.0.2.0/24"],
        ),
    ));
    let best = rib.loc_rib().best(&net("192.0.2.0/24")).cloned();
    let path = best.as_ref().and_then(|p| p.attrs.as_path().cloned());
    assert_eq!(path, Some(AsPath::from_sequence(vec![Asn(3_356)])));
    assert_eq!(best.map(|p| p.rank.as_path_len), Some(1));
}

#[test]
fn ebgp_export_prepends_local_as_n_times_and_sets_next_hop_self() {
    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(2) {
            c.export.prepend = 2;
        }
    });
    let mut learned = attrs(&[65_001], v4(10, 0, 1, 2));
    learned.set(AttrValue::MultiExitDisc(50));
    ok(rib.handle_update(PeerId(1), &announce(learned, &["192.0.2.0/24"])));
    let updates = flush(&mut rib, 2);
    assert_eq!(updates.len(), 1);
    let sent = &updates[0].attributes;
    let want = AsPath::from_sequence(vec![
        Asn(LOCAL_AS),
        Asn(LOCAL_AS),
        Asn(LOCAL_AS),
        Asn(65_001),
    ]);
    assert_eq!(sent.as_path(), Some(&want));
    assert_eq!(
        sent.next_hop(),
        Some(v4(10, 0, 2, 1)),
        "RFC 4271 §5.1.3: our address"
    );
    assert_eq!(
        sent.med(),
        None,
        "RFC 4271 §5.1.4: MED not passed to another AS"
    );
    assert_eq!(
        sent.local_pref(),
        None,
        "RFC 4271 §5.1.5: no LOCAL_PREF to eBGP"
    );
    // Split horizon: nothing goes back to peer 1.
    assert!(flush(&mut rib, 1).is_empty());
}

#[test]
fn export_removes_private_asns_before_prepending() {
    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(2) {
            c.export.remove_private_as = true;
        }
    });
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001, 3_356], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    let updates = flush(&mut rib, 2);
    let path = updates
        .first()
        .and_then(|u| u.attributes.as_path().cloned());
    assert_eq!(
        path,
        Some(AsPath::from_sequence(vec![Asn(LOCAL_AS), Asn(3_356)]))
    );
}

#[test]
fn ibgp_export_keeps_next_hop_unless_next_hop_self() {
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    let updates = flush(&mut rib, 3);
    let sent = &updates[0].attributes;
    assert_eq!(
        sent.next_hop(),
        Some(v4(10, 0, 1, 2)),
        "RFC 4271 §5.1.3: unchanged to iBGP"
    );
    assert_eq!(
        sent.local_pref(),
        Some(100),
        "RFC 4271 §5.1.5: LOCAL_PREF to iBGP"
    );
    assert_eq!(
        sent.as_path(),
        Some(&AsPath::from_sequence(vec![Asn(65_001)]))
    );

    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(3) {
            c.export.next_hop_self = true;
            c.export.set_local_pref = Some(150);
        }
    });
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    let updates = flush(&mut rib, 3);
    assert_eq!(updates[0].attributes.next_hop(), Some(v4(10, 0, 3, 1)));
    assert_eq!(updates[0].attributes.local_pref(), Some(150));
}

#[test]
fn ibgp_routes_are_not_reflected_to_ibgp_peers() {
    let mut rib = rib();
    let mut from_ibgp = attrs(&[65_001], v4(10, 0, 3, 2));
    from_ibgp.set(AttrValue::LocalPref(100));
    ok(rib.handle_update(PeerId(3), &announce(from_ibgp, &["192.0.2.0/24"])));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), Some(PeerId(3)));
    assert!(flush(&mut rib, 3).is_empty());
    assert_eq!(announced(&flush(&mut rib, 1)), vec![net("192.0.2.0/24")]);
}

#[test]
fn export_prefix_list_limits_what_is_advertised() {
    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(2) {
            c.export.prefix_list = Some(PrefixList {
                entries: vec![Entry {
                    action: Action::Permit,
                    prefix: net("192.0.2.0/24"),
                    ge: None,
                    le: None,
                }],
            });
        }
    });
    ok(rib.handle_update(
        PeerId(1),
        &announce(
            attrs(&[65_001], v4(10, 0, 1, 2)),
            &["192.0.2.0/24", "198.51.100.0/24"],
        ),
    ));
    assert_eq!(announced(&flush(&mut rib, 2)), vec![net("192.0.2.0/24")]);
}

#[test]
fn max_prefix_breach_is_reported_once_and_stops_import() {
    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(1) {
            c.max_prefix = MaxPrefix {
                ipv4: Some(2),
                ipv6: None,
            };
        }
    });
    let first = ["192.0.2.0/24", "198.51.100.0/24"];
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &first),
    ));
    let events: Vec<RibEvent> = std::iter::from_fn(|| rib.poll_event()).collect();
    assert!(events.iter().all(|e| matches!(e, RibEvent::FibChanged(_))));
    // Re-announcing a held prefix does not count; a third prefix breaches.
    ok(rib.handle_update(
        PeerId(1),
        &announce(
            attrs(&[65_001], v4(10, 0, 1, 2)),
            &["192.0.2.0/24", "203.0.113.0/24", "203.0.114.0/24"],
        ),
    ));
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["203.0.115.0/24"]),
    ));
    let breaches: Vec<RibEvent> = std::iter::from_fn(|| rib.poll_event())
        .filter(|e| matches!(e, RibEvent::MaxPrefixExceeded { .. }))
        .collect();
    assert_eq!(
        breaches,
        vec![RibEvent::MaxPrefixExceeded {
            peer: PeerId(1),
            family: IpFamily::Ipv4,
            limit: 2
        }]
    );
    assert_eq!(best_source(&rib, "203.0.113.0/24"), None);
    assert_eq!(rib.adj_rib_in(PeerId(1)).map(AdjRibIn::len), Some(2));
    // After the session restarts the count starts afresh.
    ok(rib.peer_down(PeerId(1)));
    ok(rib.peer_up(PeerId(1), v4(10, 0, 1, 2), true));
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["203.0.113.0/24"]),
    ));
    assert_eq!(best_source(&rib, "203.0.113.0/24"), Some(PeerId(1)));
}

#[test]
fn changes_between_flushes_are_batched_to_the_final_state() {
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    assert_eq!(announced(&flush(&mut rib, 2)), vec![net("192.0.2.0/24")]);
    assert!(!rib.has_pending(PeerId(2)));
    // While the MRAI timer runs: a flap (withdraw + re-announce) and a new prefix that comes and
    // goes. At the next flush only the net difference is sent: nothing for either.
    ok(rib.handle_update(PeerId(1), &withdraw(&["192.0.2.0/24"])));
    ok(rib.handle_update(
        PeerId(1),
        &announce(
            attrs(&[65_001], v4(10, 0, 1, 2)),
            &["192.0.2.0/24", "198.51.100.0/24"],
        ),
    ));
    ok(rib.handle_update(PeerId(1), &withdraw(&["198.51.100.0/24"])));
    assert!(rib.has_pending(PeerId(2)));
    assert!(flush(&mut rib, 2).is_empty());
    // A real change is sent once, then a withdrawal.
    ok(rib.handle_update(PeerId(1), &withdraw(&["192.0.2.0/24"])));
    let updates = flush(&mut rib, 2);
    assert_eq!(withdrawn(&updates), vec![net("192.0.2.0/24")]);
    assert!(announced(&updates).is_empty());
}

#[test]
fn packs_many_prefixes_into_few_updates_within_max_length() {
    let mut rib = rib();
    let prefixes: Vec<String> = (0..3_000u32)
        .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
        .collect();
    let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &refs),
    ));
    let mut other = attrs(&[65_001, 7], v4(10, 0, 1, 2));
    other.set(AttrValue::Origin(Origin::Incomplete));
    ok(rib.handle_update(PeerId(1), &announce(other, &["172.16.0.0/12"])));
    let enc = EncodeCtx {
        four_octet_as: true,
        ..EncodeCtx::default()
    };
    let updates = rib.poll_updates(PeerId(2), &enc).unwrap_or_default();
    // 3,000 /24s take 4 octets each: 12,000 octets need 3 messages of at most 4,096 octets,
    // plus one UPDATE for the other attribute set.
    assert_eq!(updates.len(), 4);
    for update in &updates {
        let bytes = Message::Update(update.clone())
            .to_bytes(&enc)
            .unwrap_or_default();
        assert!(
            !bytes.is_empty() && bytes.len() <= 4_096,
            "UPDATE of {} octets",
            bytes.len()
        );
    }
    let mut sent = announced(&updates);
    sent.sort();
    let mut want: Vec<IpNet> = refs.iter().map(|p| net(p)).collect();
    want.push(net("172.16.0.0/12"));
    want.sort();
    assert_eq!(sent, want);
}

#[test]
fn paths_exported_alike_share_updates_though_their_meds_differ() {
    // Peer 1 announces each prefix in an UPDATE of its own, each with its own MED. Towards
    // eBGP peer 2 the MED is removed (RFC 4271 §5.1.4) and every path is exported with the
    // same attributes, so they go out together, not one UPDATE per prefix.
    let mut rib = rib();
    for i in 0..200u32 {
        let mut a = attrs(&[65_001], v4(10, 0, 1, 2));
        a.set(AttrValue::MultiExitDisc(i));
        let prefix = format!("10.0.{i}.0/24");
        ok(rib.handle_update(PeerId(1), &announce(a, &[prefix.as_str()])));
    }
    let updates = flush(&mut rib, 2);
    assert_eq!(
        updates.len(),
        1,
        "one UPDATE for 200 prefixes exported alike"
    );
    assert_eq!(announced(&updates).len(), 200);
    // Towards iBGP peer 3 the MED stays, so each path keeps its own UPDATE.
    assert_eq!(flush(&mut rib, 3).len(), 200);
}

#[test]
fn new_session_receives_the_whole_table() {
    let mut rib = Rib::new(RibConfig::new(LOCAL_AS, v4(10, 255, 0, 1)));
    ok(rib.add_peer(
        PeerId(1),
        PeerConfig::new(
            65_001,
            IpAddr::V4(v4(10, 0, 1, 2)),
            IpAddr::V4(v4(10, 0, 1, 1)),
        ),
    ));
    ok(rib.add_peer(
        PeerId(2),
        PeerConfig::new(
            65_002,
            IpAddr::V4(v4(10, 0, 2, 2)),
            IpAddr::V4(v4(10, 0, 2, 1)),
        ),
    ));
    ok(rib.peer_up(PeerId(1), v4(10, 0, 1, 2), true));
    rib.originate(net("203.0.113.0/24"), PathAttributes::new());
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    assert!(
        !rib.has_pending(PeerId(2)),
        "no queue while the session is down"
    );
    ok(rib.peer_up(PeerId(2), v4(10, 0, 2, 2), true));
    let updates = flush(&mut rib, 2);
    assert_eq!(
        announced(&updates),
        vec![net("192.0.2.0/24"), net("203.0.113.0/24")]
    );
    let local = updates
        .iter()
        .find(|u| u.nlri.iter().any(|n| n.prefix == net("203.0.113.0/24")));
    assert_eq!(
        local.and_then(|u| u.attributes.as_path().cloned()),
        Some(AsPath::from_sequence(vec![Asn(LOCAL_AS)]))
    );
    // The originated prefix wins by weight over a learned one.
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["203.0.113.0/24"]),
    ));
    assert_eq!(best_source(&rib, "203.0.113.0/24"), Some(PeerId::LOCAL));
    rib.withdraw_originated(&net("203.0.113.0/24"));
    assert_eq!(best_source(&rib, "203.0.113.0/24"), Some(PeerId(1)));
}

#[test]
fn ipv6_routes_travel_in_mp_reach_with_our_next_hop() {
    let mut rib = rib_with(|peer, c| {
        if peer == PeerId(2) {
            c.local_v6 = Some("2001:db8:2::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED));
        }
    });
    let mut update = Update {
        attributes: Arc::new(
            [
                AttrValue::Origin(Origin::Igp),
                AttrValue::AsPath(AsPath::from_sequence(vec![Asn(65_001)])),
            ]
            .into_iter()
            .collect(),
        ),
        ..Update::default()
    };
    update.mp_reach = Some(MpReach {
        family: crate::wire::Family::IPV6_UNICAST,
        next_hop: MpNextHop::Ipv6("2001:db8:1::2".parse().unwrap_or(Ipv6Addr::UNSPECIFIED)),
        nlri: smallvec::smallvec![Nlri::new(net("2001:db8:100::/48"))],
        placement: Placement::default(),
    });
    ok(rib.handle_update(PeerId(1), &update));
    assert_eq!(best_source(&rib, "2001:db8:100::/48"), Some(PeerId(1)));
    let updates = flush(&mut rib, 2);
    assert_eq!(updates.len(), 1);
    let reach = updates[0].mp_reach.as_ref();
    assert_eq!(
        reach.map(|m| m.next_hop),
        Some(MpNextHop::Ipv6(
            "2001:db8:2::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED)
        ))
    );
    assert_eq!(updates[0].attributes.next_hop(), None);
}

#[test]
fn multipath_installs_equal_paths_from_the_same_neighbor_as() {
    let mut config = RibConfig::new(LOCAL_AS, v4(10, 255, 0, 1));
    config.decision.multipath = Multipath {
        max_paths: 4,
        as_path_relax: false,
    };
    let mut rib = Rib::new(config);
    // Two circuits to the same provider AS (like the two links of one ExpressRoute circuit).
    for id in [1u8, 2] {
        ok(rib.add_peer(
            PeerId(u32::from(id)),
            PeerConfig::new(
                12_076,
                IpAddr::V4(v4(10, 0, id, 2)),
                IpAddr::V4(v4(10, 0, id, 1)),
            ),
        ));
        ok(rib.peer_up(PeerId(u32::from(id)), v4(10, 0, id, 2), true));
        ok(rib.handle_update(
            PeerId(u32::from(id)),
            &announce(attrs(&[12_076], v4(10, 0, id, 2)), &["10.1.0.0/16"]),
        ));
    }
    let hops: Vec<PeerId> = rib
        .loc_rib()
        .selected(&net("10.1.0.0/16"))
        .iter()
        .map(|p| p.source)
        .collect();
    assert_eq!(hops, vec![PeerId(1), PeerId(2)]);
    let last = fib_changes(&mut rib).pop().map(|c| c.next_hops.len());
    assert_eq!(last, Some(2));
    ok(rib.peer_down(PeerId(1)));
    let last = fib_changes(&mut rib)
        .pop()
        .map(|c| c.next_hops.iter().map(|h| h.peer).collect::<Vec<_>>());
    assert_eq!(last, Some(vec![PeerId(2)]));
}

#[test]
fn ipv6_withdrawal_in_mp_unreach_removes_the_route() {
    let mut rib = rib();
    let update = Update {
        attributes: Arc::new(
            [
                AttrValue::Origin(Origin::Igp),
                AttrValue::AsPath(AsPath::from_sequence(vec![Asn(65_001)])),
            ]
            .into_iter()
            .collect(),
        ),
        mp_reach: Some(MpReach {
            family: crate::wire::Family::IPV6_UNICAST,
            next_hop: MpNextHop::Ipv6(Ipv6Addr::LOCALHOST),
            nlri: smallvec::smallvec![Nlri::new(net("2001:db8:100::/48"))],
            placement: Placement::default(),
        }),
        ..Update::default()
    };
    ok(rib.handle_update(PeerId(1), &update));
    assert_eq!(best_source(&rib, "2001:db8:100::/48"), Some(PeerId(1)));
    let unreach = Update {
        mp_unreach: Some(crate::wire::MpUnreach {
            family: crate::wire::Family::IPV6_UNICAST,
            withdrawn: vec![Nlri::new(net("2001:db8:100::/48"))],
            placement: Placement::default(),
        }),
        ..Update::default()
    };
    ok(rib.handle_update(PeerId(1), &unreach));
    assert_eq!(best_source(&rib, "2001:db8:100::/48"), None);
    assert_eq!(
        rib.adj_rib_in(PeerId(1)).map(|a| a.count(IpFamily::Ipv6)),
        Some(0)
    );
}

// RFC 4271 §9.1.2.2 c, end to end: the neighbour AS comes from the AS_PATH of the UPDATE.
#[test]
fn med_is_compared_only_within_the_neighbor_as_from_the_as_path() {
    let with_med = |as_path: &[u32], nh: Ipv4Addr, med: u32| {
        let mut a = attrs(as_path, nh);
        a.set(AttrValue::MultiExitDisc(med));
        a
    };
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(with_med(&[65_001], v4(10, 0, 1, 2), 50), &["192.0.2.0/24"]),
    ));
    ok(rib.handle_update(
        PeerId(2),
        &announce(with_med(&[65_002], v4(10, 0, 2, 2), 10), &["192.0.2.0/24"]),
    ));
    // Different neighbour ASes: MED ignored, the lower BGP Identifier (peer 1) wins.
    assert_eq!(best_source(&rib, "192.0.2.0/24"), Some(PeerId(1)));

    let mut config = RibConfig::new(LOCAL_AS, v4(10, 255, 0, 1));
    config.decision.always_compare_med = true;
    let mut rib = Rib::new(config);
    for id in [1u8, 2] {
        let asn = 65_000 + u32::from(id);
        ok(rib.add_peer(
            PeerId(u32::from(id)),
            PeerConfig::new(
                asn,
                IpAddr::V4(v4(10, 0, id, 2)),
                IpAddr::V4(v4(10, 0, id, 1)),
            ),
        ));
        ok(rib.peer_up(PeerId(u32::from(id)), v4(10, 0, id, 2), true));
    }
    ok(rib.handle_update(
        PeerId(1),
        &announce(with_med(&[65_001], v4(10, 0, 1, 2), 50), &["192.0.2.0/24"]),
    ));
    ok(rib.handle_update(
        PeerId(2),
        &announce(with_med(&[65_002], v4(10, 0, 2, 2), 10), &["192.0.2.0/24"]),
    ));
    assert_eq!(
        best_source(&rib, "192.0.2.0/24"),
        Some(PeerId(2)),
        "always-compare-med"
    );
}

#[test]
fn ibgp_route_with_empty_path_has_the_local_as_as_neighbor() {
    let mut rib = rib();
    let mut internal = attrs(&[], v4(10, 0, 3, 2));
    internal.set(AttrValue::LocalPref(100));
    ok(rib.handle_update(PeerId(3), &announce(internal, &["192.0.2.0/24"])));
    let rank = rib.loc_rib().best(&net("192.0.2.0/24")).map(|p| p.rank);
    assert_eq!(
        rank.map(|r| (r.neighbor_as, r.as_path_len, r.ebgp)),
        Some((LOCAL_AS, 0, false))
    );
}

#[test]
fn stale_routes_stay_best_until_flushed_then_fall_back() {
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(
            attrs(&[65_001], v4(10, 0, 1, 2)),
            &["192.0.2.0/24", "198.51.100.0/24"],
        ),
    ));
    ok(rib.handle_update(
        PeerId(2),
        &announce(attrs(&[65_002, 1], v4(10, 0, 2, 2)), &["192.0.2.0/24"]),
    ));
    let _ = fib_changes(&mut rib);
    // RFC 4724 §4.2: kept, and "MUST NOT differentiate between stale and other routing
    // information during forwarding": no FIB change, peer 1 still best.
    assert_eq!(rib.peer_down_retaining(PeerId(1), &[IpFamily::Ipv4]), Ok(2));
    assert_eq!(rib.stale_count(PeerId(1)), 2);
    assert_eq!(best_source(&rib, "192.0.2.0/24"), Some(PeerId(1)));
    assert!(fib_changes(&mut rib).is_empty());
    assert_eq!(rib.flush_stale(PeerId(1), None), Ok(2));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), Some(PeerId(2)));
    assert_eq!(best_source(&rib, "198.51.100.0/24"), None);
    assert_eq!(fib_changes(&mut rib).len(), 2);
    assert_eq!(rib.stale_count(PeerId(1)), 0);
}

#[test]
fn stale_routes_refreshed_by_the_peer_are_kept_and_a_second_loss_deletes_the_rest() {
    let mut rib = rib();
    ok(rib.handle_update(
        PeerId(1),
        &announce(
            attrs(&[65_001], v4(10, 0, 1, 2)),
            &["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"],
        ),
    ));
    assert_eq!(rib.peer_down_retaining(PeerId(1), &[IpFamily::Ipv4]), Ok(3));
    // Updates are refused while the session is down.
    assert_eq!(
        rib.handle_update(PeerId(1), &withdraw(&["192.0.2.0/24"])),
        Err(RibError::NotEstablished(PeerId(1)))
    );
    ok(rib.peer_up(PeerId(1), v4(10, 0, 1, 2), true));
    // "MUST replace the stale routes by the routing updates received from the peer".
    ok(rib.handle_update(
        PeerId(1),
        &announce(attrs(&[65_001], v4(10, 0, 1, 2)), &["192.0.2.0/24"]),
    ));
    ok(rib.handle_update(PeerId(1), &withdraw(&["198.51.100.0/24"])));
    assert_eq!(rib.stale_count(PeerId(1)), 1);
    // Lost again before the End-of-RIB: "a route (from the peer) previously marked as stale
    // MUST be deleted"; the refreshed one becomes stale.
    assert_eq!(rib.peer_down_retaining(PeerId(1), &[IpFamily::Ipv4]), Ok(1));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), Some(PeerId(1)));
    assert_eq!(best_source(&rib, "203.0.113.0/24"), None);
    // A family the peer did not list is withdrawn at once.
    assert_eq!(rib.peer_down_retaining(PeerId(1), &[IpFamily::Ipv6]), Ok(0));
    assert_eq!(best_source(&rib, "192.0.2.0/24"), None);
}
