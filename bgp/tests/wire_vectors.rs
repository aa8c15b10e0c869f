//! Byte vectors for every message, capability and path attribute. Each vector drives both
//! decode (bytes → expected value) and encode (value → the same bytes); truncated and
//! trailing-data variants of each must fail with the right error.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bgp::wire::{
    AddPathFamily, AddPathMode, Afi, Aggregator, AsPath, AsSegment, Asn, AttrAction, AttrFlags,
    AttrType, AttrValue, Capability, CeaseSubcode, Community, DecodeCtx, DecodeError, EncodeCtx,
    ErrorCode, ExtendedCommunity, Family, Framer, GracefulRestartFamily, HeaderError,
    LargeCommunity, Message, MpNextHop, MpReach, MpUnreach, Nlri, Notification, Open, OpenError,
    OptionalParam, Origin, PathAttribute, PathAttributes, Placement, RawAttribute, RouteRefresh,
    RouteRefreshType, Safi, SegmentType, Update, UpdateError, pack,
};

fn msg(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
    v.push(ty);
    v.extend_from_slice(body);
    v
}

fn update_bytes(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&u16::try_from(withdrawn.len()).unwrap().to_be_bytes());
    b.extend_from_slice(withdrawn);
    b.extend_from_slice(&u16::try_from(attrs.len()).unwrap().to_be_bytes());
    b.extend_from_slice(attrs);
    b.extend_from_slice(nlri);
    msg(2, &b)
}

fn attr(flags: u8, ty: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, ty];
    if flags & 0x10 != 0 {
        v.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
    } else {
        v.push(u8::try_from(value.len()).unwrap());
    }
    v.extend_from_slice(value);
    v
}

const ORIGIN_IGP: [u8; 4] = [0x40, 1, 1, 0];
const AS_PATH_65000_2: [u8; 7] = [0x40, 2, 4, 2, 1, 0xfd, 0xe8];
const AS_PATH_65000_4: [u8; 9] = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe8];
const NEXT_HOP: [u8; 7] = [0x40, 3, 4, 192, 0, 2, 1];
const NLRI_10_8: [u8; 2] = [8, 10];

fn ctx2() -> DecodeCtx {
    DecodeCtx::default()
}

fn ctx4() -> DecodeCtx {
    DecodeCtx {
        four_octet_as: true,
        ..DecodeCtx::default()
    }
}

/// Decodes `bytes`, checks it equals `expected` when given, re-encodes and compares bytes.
fn roundtrip(bytes: &[u8], ctx: &DecodeCtx) -> Message {
    let m = Message::decode(bytes, ctx).unwrap_or_else(|e| panic!("decode failed: {e}"));
    let out = m.to_bytes(&EncodeCtx::from(ctx)).unwrap();
    assert_eq!(&out[..], bytes, "re-encoding differs for {m:?}");
    m
}

/// Encodes `value` and checks the bytes, then decodes them back to `value`.
fn vector(value: &Message, bytes: &[u8], ctx: &DecodeCtx) {
    let out = value.to_bytes(&EncodeCtx::from(ctx)).unwrap();
    assert_eq!(&out[..], bytes, "encoding of {value:?}");
    assert_eq!(&Message::decode(bytes, ctx).unwrap(), value);
}

/// A copy of a whole message with the body changed and the header length fixed up.
fn with_body(bytes: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = bytes[19..].to_vec();
    f(&mut body);
    msg(bytes[18], &body)
}

fn update(bytes: &[u8], ctx: &DecodeCtx) -> Update {
    match roundtrip(bytes, ctx) {
        Message::Update(u) => u,
        other => panic!("not an UPDATE: {other:?}"),
    }
}

fn attrs_of(values: Vec<PathAttribute>) -> Arc<PathAttributes> {
    Arc::new(PathAttributes::from(values))
}

// ---------------------------------------------------------------- KEEPALIVE

#[test]
fn keepalive_vector() {
    vector(&Message::Keepalive, &msg(4, &[]), &ctx2());
}

#[test]
fn rejects_keepalive_with_trailing_data() {
    let err = Message::decode(&msg(4, &[0]), &ctx2()).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Header(HeaderError::BadLength { length: 20, .. })
    ));
    let n = Notification::from(&err);
    assert_eq!(
        (n.code, n.subcode, n.data),
        (ErrorCode::MESSAGE_HEADER, 2, vec![0, 20])
    );
}

#[test]
fn rejects_truncated_header() {
    let bytes = msg(4, &[]);
    let err = Message::decode(&bytes[..18], &ctx2()).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Header(HeaderError::LengthMismatch { .. })
    ));
}

// ---------------------------------------------------------------- OPEN

fn open_body(params: &[u8]) -> Vec<u8> {
    let mut b = vec![
        4,
        0xfd,
        0xe8,
        0,
        180,
        192,
        0,
        2,
        1,
        u8::try_from(params.len()).unwrap(),
    ];
    b.extend_from_slice(params);
    b
}

fn cap_param(caps: &[&[u8]]) -> Vec<u8> {
    let inner: Vec<u8> = caps.concat();
    let mut v = vec![2, u8::try_from(inner.len()).unwrap()];
    v.extend(inner);
    v
}

fn open_with(caps: Vec<Capability>) -> Open {
    Open::new(Asn(65000), 180, Ipv4Addr::new(192, 0, 2, 1), caps)
}

#[test]
fn open_without_parameters_vector() {
    vector(
        &Message::Open(open_with(vec![])),
        &msg(1, &open_body(&[])),
        &ctx2(),
    );
}

/// One capability per vector: its bytes and its value.
fn capability_vectors() -> Vec<(Vec<u8>, Capability)> {
    vec![
        (
            vec![1, 4, 0, 1, 0, 1],
            Capability::Multiprotocol(Family::IPV4_UNICAST),
        ),
        (
            vec![1, 4, 0, 2, 0, 1],
            Capability::Multiprotocol(Family::IPV6_UNICAST),
        ),
        (vec![2, 0], Capability::RouteRefresh),
        (vec![6, 0], Capability::ExtendedMessage),
        (vec![70, 0], Capability::EnhancedRouteRefresh),
        (
            vec![65, 4, 0, 3, 0x0d, 0x40],
            Capability::FourOctetAs(Asn(200_000)),
        ),
        (
            vec![64, 6, 0x80, 120, 0, 1, 1, 0x80],
            Capability::GracefulRestart {
                flags: 8,
                restart_time: 120,
                families: vec![GracefulRestartFamily {
                    family: Family::IPV4_UNICAST,
                    flags: 0x80,
                }],
            },
        ),
        (
            vec![69, 8, 0, 1, 1, 3, 0, 2, 1, 1],
            Capability::AddPath(vec![
                AddPathFamily {
                    family: Family::IPV4_UNICAST,
                    mode: AddPathMode::SEND_RECEIVE,
                },
                AddPathFamily {
                    family: Family::IPV6_UNICAST,
                    mode: AddPathMode::RECEIVE,
                },
            ]),
        ),
        (
            vec![73, 7, 2, b'r', b'1', 3, b'l', b'a', b'b'],
            Capability::Fqdn {
                hostname: b"r1".to_vec(),
                domain: b"lab".to_vec(),
            },
        ),
        (
            vec![9, 1, 0],
            Capability::Unknown {
                code: bgp::wire::CapabilityCode::ROLE,
                data: vec![0],
            },
        ),
        (
            vec![200, 2, 0xab, 0xcd],
            Capability::Unknown {
                code: bgp::wire::CapabilityCode(200),
                data: vec![0xab, 0xcd],
            },
        ),
    ]
}

#[test]
fn every_capability_vector_decodes_and_encodes() {
    for (bytes, cap) in capability_vectors() {
        let wire = msg(1, &open_body(&cap_param(&[&bytes])));
        vector(&Message::Open(open_with(vec![cap.clone()])), &wire, &ctx2());
        assert_eq!(cap.code().0, bytes[0]);
    }
}

#[test]
fn rejects_truncated_and_trailing_capabilities() {
    for (bytes, cap) in capability_vectors() {
        if matches!(cap, Capability::Unknown { .. }) {
            continue; // any length is valid for an unknown capability
        }
        // Trailing: one extra octet inside the capability value.
        let mut long = bytes.clone();
        long[1] += 1;
        long.push(0);
        let err = Message::decode(&msg(1, &open_body(&cap_param(&[&long]))), &ctx2()).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Open(OpenError::MalformedCapability { .. })
            ),
            "{cap:?} with trailing octet: {err:?}"
        );
        // Truncated: value one octet shorter (only for non-empty values).
        if bytes[1] > 0 {
            let mut short = bytes.clone();
            short[1] -= 1;
            short.pop();
            let err =
                Message::decode(&msg(1, &open_body(&cap_param(&[&short]))), &ctx2()).unwrap_err();
            assert!(
                matches!(
                    err,
                    DecodeError::Open(OpenError::MalformedCapability { .. })
                ),
                "{cap:?} truncated: {err:?}"
            );
            assert_eq!(Notification::from(&err).code, ErrorCode::OPEN_MESSAGE);
        }
    }
}

#[test]
fn open_keeps_parameter_grouping() {
    // Two parameters with one capability each (as some routers send) round-trip as such.
    let params = [
        cap_param(&[&[1, 4, 0, 1, 0, 1]]),
        cap_param(&[&[65, 4, 0, 0, 0xfd, 0xe8]]),
    ]
    .concat();
    let m = roundtrip(&msg(1, &open_body(&params)), &ctx2());
    let Message::Open(open) = m else { panic!() };
    assert_eq!(open.params.len(), 2);
    assert_eq!(open.asn(), Asn(65000));
    assert!(open.has_capability(bgp::wire::CapabilityCode::MULTIPROTOCOL));
}

#[test]
fn open_extended_optional_parameters_vector() {
    // RFC 9072: Non-Ext OP Len 255, Non-Ext OP Type 255, 2-octet length, 2-octet param length.
    let caps = [1u8, 4, 0, 1, 0, 1];
    let mut body = vec![4, 0xfd, 0xe8, 0, 180, 192, 0, 2, 1, 255, 255, 0, 9, 2, 0, 6];
    body.extend_from_slice(&caps);
    let mut open = open_with(vec![Capability::Multiprotocol(Family::IPV4_UNICAST)]);
    open.extended_params = true;
    vector(&Message::Open(open), &msg(1, &body), &ctx2());
}

#[test]
fn open_switches_to_extended_parameters_when_they_exceed_255_octets() {
    let caps: Vec<Capability> = (0..90)
        .map(|i| Capability::Unknown {
            code: bgp::wire::CapabilityCode(200),
            data: vec![i],
        })
        .collect();
    let open = open_with(caps);
    let bytes = Message::Open(open).to_bytes(&EncodeCtx::default()).unwrap();
    assert_eq!(bytes[28], 255);
    assert_eq!(bytes[29], 255);
    let Message::Open(back) = Message::decode(&bytes, &ctx2()).unwrap() else {
        panic!()
    };
    assert!(back.extended_params);
    assert_eq!(back.capabilities().count(), 90);
}

#[test]
fn rejects_open_with_trailing_data_after_parameters() {
    let mut body = open_body(&[]);
    body.push(0);
    let err = Message::decode(&msg(1, &body), &ctx2()).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Open(OpenError::MalformedParameters { .. })
    ));
}

#[test]
fn rejects_open_with_truncated_parameters() {
    let mut body = open_body(&cap_param(&[&[2, 0]]));
    body[9] += 1; // Opt Parm Len claims one more octet than present
    let err = Message::decode(&msg(1, &body), &ctx2()).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Open(OpenError::MalformedParameters { .. })
    ));
}

// ---------------------------------------------------------------- NOTIFICATION

#[test]
fn notification_vectors() {
    vector(
        &Message::Notification(Notification::hold_timer_expired()),
        &msg(3, &[4, 0]),
        &ctx2(),
    );
    let shutdown = Notification::shutdown(CeaseSubcode::ADMINISTRATIVE_SHUTDOWN, "bye");
    vector(
        &Message::Notification(shutdown.clone()),
        &msg(3, &[6, 2, 3, b'b', b'y', b'e']),
        &ctx2(),
    );
    assert_eq!(shutdown.shutdown_communication(), Some(Ok("bye")));
    let bad_len = Notification::header(
        bgp::wire::HeaderSubcode::BAD_MESSAGE_LENGTH,
        vec![0x10, 0x01],
    );
    vector(
        &Message::Notification(bad_len),
        &msg(3, &[1, 2, 0x10, 0x01]),
        &ctx2(),
    );
}

#[test]
fn rejects_truncated_notification() {
    let err = Message::decode(&msg(3, &[6]), &ctx2()).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Header(HeaderError::BadLength { length: 20, .. })
    ));
}

// ---------------------------------------------------------------- ROUTE-REFRESH

#[test]
fn route_refresh_vectors() {
    vector(
        &Message::RouteRefresh(RouteRefresh::new(Family::IPV4_UNICAST)),
        &msg(5, &[0, 1, 0, 1]),
        &ctx2(),
    );
    let borr = RouteRefresh {
        family: Family::IPV6_UNICAST,
        subtype: RouteRefreshType::BEGIN,
    };
    vector(
        &Message::RouteRefresh(borr),
        &msg(5, &[0, 2, 1, 1]),
        &ctx2(),
    );
    let eorr = RouteRefresh {
        family: Family::IPV6_UNICAST,
        subtype: RouteRefreshType::END,
    };
    vector(
        &Message::RouteRefresh(eorr),
        &msg(5, &[0, 2, 2, 1]),
        &ctx2(),
    );
}

#[test]
fn rejects_route_refresh_of_wrong_length_with_the_whole_message_as_data() {
    for body in [&[0u8, 1, 0][..], &[0, 1, 0, 1, 0][..]] {
        let bytes = msg(5, body);
        let err = Message::decode(&bytes, &ctx2()).unwrap_err();
        let n = Notification::from(&err);
        assert_eq!((n.code, n.subcode), (ErrorCode::ROUTE_REFRESH_MESSAGE, 1));
        assert_eq!(n.data, bytes);
    }
}

// ---------------------------------------------------------------- UPDATE

fn base_attrs(four: bool) -> Vec<u8> {
    let as_path: &[u8] = if four {
        &AS_PATH_65000_4
    } else {
        &AS_PATH_65000_2
    };
    [&ORIGIN_IGP[..], as_path, &NEXT_HOP[..]].concat()
}

fn base_values() -> Vec<PathAttribute> {
    vec![
        PathAttribute::new(AttrValue::Origin(Origin::Igp)),
        PathAttribute::new(AttrValue::AsPath(AsPath::from_sequence(vec![Asn(65000)]))),
        PathAttribute::new(AttrValue::NextHop(Ipv4Addr::new(192, 0, 2, 1))),
    ]
}

fn net(s: &str) -> Nlri {
    Nlri::new(s.parse().unwrap())
}

#[test]
fn update_announce_vector() {
    let bytes = update_bytes(&[], &base_attrs(false), &[24, 10, 1, 2, 8, 11]);
    let value = Update::announce(
        attrs_of(base_values()),
        vec![net("10.1.2.0/24"), net("11.0.0.0/8")],
    );
    vector(&Message::Update(value), &bytes, &ctx2());
}

#[test]
fn update_withdraw_and_end_of_rib_vectors() {
    let bytes = update_bytes(&[16, 10, 1], &[], &[]);
    vector(
        &Message::Update(Update::withdraw(vec![net("10.1.0.0/16")])),
        &bytes,
        &ctx2(),
    );
    let eor = update_bytes(&[], &[], &[]);
    vector(
        &Message::Update(Update::end_of_rib(Family::IPV4_UNICAST)),
        &eor,
        &ctx2(),
    );
    let eor6 = update_bytes(&[], &attr(0x80, 15, &[0, 2, 1]), &[]);
    let u = update(&eor6, &ctx2());
    assert!(u.is_end_of_rib());
    assert_eq!(u, Update::end_of_rib(Family::IPV6_UNICAST));
}

#[test]
fn update_with_add_path_vector() {
    let ctx = DecodeCtx {
        add_path: vec![Family::IPV4_UNICAST],
        ..ctx2()
    };
    let bytes = update_bytes(&[], &base_attrs(false), &[0, 0, 0, 9, 24, 10, 1, 2]);
    let u = update(&bytes, &ctx);
    assert_eq!(
        u.nlri.as_slice(),
        [Nlri {
            path_id: Some(9),
            ..net("10.1.2.0/24")
        }]
    );
}

#[test]
fn rejects_truncated_and_trailing_update_nlri() {
    let good = update_bytes(&[], &base_attrs(false), &[24, 10, 1, 2]);
    let short = with_body(&good, |b| {
        b.pop();
    });
    let err = Message::decode(&short, &ctx2()).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Update(UpdateError::InvalidNetworkField { .. })
    ));
    let long = with_body(&good, |b| b.push(33));
    let err = Message::decode(&long, &ctx2()).unwrap_err();
    assert_eq!(Notification::from(&err).subcode, 10);
}

/// (name, attribute bytes, expected value, four-octet session)
fn attribute_vectors() -> Vec<(&'static str, Vec<u8>, AttrValue, bool)> {
    let ip = Ipv4Addr::new;
    vec![
        (
            "ORIGIN EGP",
            vec![0x40, 1, 1, 1],
            AttrValue::Origin(Origin::Egp),
            false,
        ),
        (
            "ORIGIN INCOMPLETE",
            vec![0x40, 1, 1, 2],
            AttrValue::Origin(Origin::Incomplete),
            false,
        ),
        (
            "AS_PATH 2-octet set and confed",
            attr(
                0x40,
                2,
                &[2, 2, 0, 1, 0, 2, 1, 1, 0, 3, 3, 1, 0, 4, 4, 1, 0, 5],
            ),
            AttrValue::AsPath(AsPath {
                segments: vec![
                    AsSegment::sequence(vec![Asn(1), Asn(2)]),
                    AsSegment::set(vec![Asn(3)]),
                    AsSegment {
                        kind: SegmentType::AS_CONFED_SEQUENCE,
                        asns: vec![Asn(4)].into(),
                    },
                    AsSegment {
                        kind: SegmentType::AS_CONFED_SET,
                        asns: vec![Asn(5)].into(),
                    },
                ]
                .into(),
            }),
            false,
        ),
        (
            "AS_PATH 4-octet",
            attr(0x40, 2, &[2, 2, 0, 3, 0x0d, 0x40, 0, 0, 0x2f, 0x2c]),
            AttrValue::AsPath(AsPath::from_sequence(vec![Asn(200_000), Asn(12076)])),
            true,
        ),
        (
            "MULTI_EXIT_DISC",
            attr(0x80, 4, &[0, 0, 0, 50]),
            AttrValue::MultiExitDisc(50),
            false,
        ),
        (
            "LOCAL_PREF",
            attr(0x40, 5, &[0, 0, 0, 150]),
            AttrValue::LocalPref(150),
            false,
        ),
        (
            "ATOMIC_AGGREGATE",
            attr(0x40, 6, &[]),
            AttrValue::AtomicAggregate,
            false,
        ),
        (
            "AGGREGATOR 2-octet",
            attr(0xc0, 7, &[0xfd, 0xe8, 10, 0, 0, 1]),
            AttrValue::Aggregator(Aggregator {
                asn: Asn(65000),
                address: ip(10, 0, 0, 1),
            }),
            false,
        ),
        (
            "AGGREGATOR 4-octet",
            attr(0xc0, 7, &[0, 3, 0x0d, 0x40, 10, 0, 0, 1]),
            AttrValue::Aggregator(Aggregator {
                asn: Asn(200_000),
                address: ip(10, 0, 0, 1),
            }),
            true,
        ),
        (
            "COMMUNITIES",
            attr(0xc0, 8, &[0x2f, 0x2c, 0xc7, 0x9c, 0xff, 0xff, 0, 0]),
            AttrValue::Communities(
                vec![Community::new(12076, 51100), Community::GRACEFUL_SHUTDOWN].into(),
            ),
            false,
        ),
        (
            "ORIGINATOR_ID",
            attr(0x80, 9, &[10, 0, 0, 9]),
            AttrValue::OriginatorId(ip(10, 0, 0, 9)),
            false,
        ),
        (
            "CLUSTER_LIST",
            attr(0x80, 10, &[10, 0, 0, 1, 10, 0, 0, 2]),
            AttrValue::ClusterList(vec![ip(10, 0, 0, 1), ip(10, 0, 0, 2)].into()),
            false,
        ),
        (
            "EXTENDED_COMMUNITIES",
            attr(0xc0, 16, &[0, 2, 0xfd, 0xe8, 0, 0, 0, 7]),
            AttrValue::ExtendedCommunities(vec![ExtendedCommunity::route_target(65000, 7)].into()),
            false,
        ),
        (
            "AS4_PATH",
            attr(0xc0, 17, &[2, 1, 0, 3, 0x0d, 0x40]),
            AttrValue::As4Path(AsPath::from_sequence(vec![Asn(200_000)])),
            false,
        ),
        (
            "AS4_AGGREGATOR",
            attr(0xc0, 18, &[0, 3, 0x0d, 0x40, 10, 0, 0, 1]),
            AttrValue::As4Aggregator(Aggregator {
                asn: Asn(200_000),
                address: ip(10, 0, 0, 1),
            }),
            false,
        ),
        (
            "LARGE_COMMUNITY",
            attr(0xc0, 32, &[0, 0, 0x2f, 0x2c, 0, 0, 0, 1, 0, 0, 0, 2]),
            AttrValue::LargeCommunities(
                vec![LargeCommunity {
                    global_admin: 12076,
                    local_data_1: 1,
                    local_data_2: 2,
                }]
                .into(),
            ),
            false,
        ),
        (
            "unknown optional transitive",
            attr(0xc0, 99, &[1, 2, 3]),
            AttrValue::Unknown(RawAttribute {
                type_code: AttrType(99),
                data: vec![1, 2, 3],
            }),
            false,
        ),
    ]
}

#[test]
fn every_attribute_vector_decodes_and_encodes() {
    for (name, bytes, value, four) in attribute_vectors() {
        let ctx = if four { ctx4() } else { ctx2() };
        // The attribute after the mandatory ones (or replacing AS_PATH when it is one).
        let mut list = base_values();
        let mut wire = base_attrs(four);
        if value.type_code() == AttrType::AS_PATH {
            list[1] = PathAttribute::new(value.clone());
            wire = [&ORIGIN_IGP[..], &bytes[..], &NEXT_HOP[..]].concat();
        } else if value.type_code() == AttrType::ORIGIN {
            list[0] = PathAttribute::new(value.clone());
            wire = [&bytes[..], &wire[4..]].concat();
        } else {
            list.push(PathAttribute {
                flags: AttrFlags(bytes[0]),
                value: value.clone(),
            });
            wire.extend_from_slice(&bytes);
        }
        let bytes_msg = update_bytes(&[], &wire, &NLRI_10_8);
        let expected = Update::announce(attrs_of(list), vec![net("10.0.0.0/8")]);
        let out = Message::Update(expected.clone())
            .to_bytes(&EncodeCtx::from(&ctx))
            .unwrap();
        assert_eq!(&out[..], &bytes_msg[..], "{name}: encoding");
        let got = update(&bytes_msg, &ctx);
        assert_eq!(got, expected, "{name}: decoding");
        assert!(got.issues.is_empty(), "{name}: {:?}", got.issues);
    }
}

#[test]
fn attribute_value_truncated_or_with_trailing_octet_is_malformed() {
    for (name, bytes, value, four) in attribute_vectors() {
        if matches!(value, AttrValue::Unknown(_)) {
            continue; // any length is valid for an unknown attribute
        }
        let ctx = if four { ctx4() } else { ctx2() };
        let mut variants = Vec::new();
        let mut long = bytes.clone();
        long[2] += 1;
        long.push(0);
        variants.push(("trailing", long));
        if bytes[2] > 0 {
            let mut short = bytes.clone();
            short[2] -= 1;
            short.pop();
            variants.push(("truncated", short));
        }
        for (how, a) in variants {
            let others: Vec<u8> = base_attrs(four)
                .chunks(1)
                .flatten()
                .copied()
                .collect::<Vec<u8>>();
            // Put the variant first; drop the mandatory attribute of the same type.
            let rest: Vec<u8> = match value.type_code() {
                AttrType::ORIGIN => others[4..].to_vec(),
                AttrType::AS_PATH => [&ORIGIN_IGP[..], &NEXT_HOP[..]].concat(),
                _ => others,
            };
            let wire = update_bytes(&[], &[&a[..], &rest[..]].concat(), &NLRI_10_8);
            let m = Message::decode(&wire, &ctx).unwrap_or_else(|e| panic!("{name} {how}: {e}"));
            let Message::Update(u) = m else { panic!() };
            assert!(!u.issues.is_empty(), "{name} {how}: no issue reported");
            assert_eq!(u.issues[0].type_code, value.type_code(), "{name} {how}");
            // Discarded or withdrawn attributes still re-encode byte-for-byte.
            assert_eq!(
                &Message::Update(u).to_bytes(&EncodeCtx::from(&ctx)).unwrap()[..],
                &wire[..]
            );
        }
    }
}

#[test]
fn extended_length_flag_is_preserved_on_short_attributes() {
    let wire = update_bytes(
        &[],
        &[&base_attrs(false)[..], &attr(0xd0, 8, &[0, 1, 0, 2])[..]].concat(),
        &NLRI_10_8,
    );
    let u = update(&wire, &ctx2());
    assert_eq!(u.attributes.communities(), &[Community::new(1, 2)]);
    assert_eq!(
        u.attributes.get(AttrType::COMMUNITIES).unwrap().flags,
        AttrFlags(0xd0)
    );
    assert!(
        u.attributes
            .get(AttrType::COMMUNITIES)
            .unwrap()
            .flags
            .is_extended_length()
    );
}

#[test]
fn long_attributes_get_the_extended_length_flag() {
    let mut attrs = PathAttributes::from(base_values());
    attrs.set(AttrValue::Communities(
        (0..100).map(|i| Community::new(1, i)).collect(),
    ));
    let u = Update::announce(Arc::new(attrs), vec![net("10.0.0.0/8")]);
    let bytes = Message::Update(u.clone())
        .to_bytes(&EncodeCtx::default())
        .unwrap();
    assert_eq!(
        bytes[19 + 4 + 4 + 7 + 7],
        0xd0,
        "COMMUNITIES flags on the wire"
    );
    let back = update(&bytes, &ctx2());
    assert_eq!(
        back, u,
        "the implied Extended Length bit is not kept in the value"
    );
    assert_eq!(back.attributes.communities().len(), 100);
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

#[test]
fn mp_reach_ipv6_with_link_local_vector() {
    let mut value = vec![0, 2, 1, 32];
    value.extend_from_slice(&v6("2001:db8::1").octets());
    value.extend_from_slice(&v6("fe80::1").octets());
    value.push(0);
    value.extend_from_slice(&[32, 0x20, 0x01, 0x0d, 0xb8]);
    let wire = update_bytes(
        &[],
        &[
            &attr(0x80, 14, &value)[..],
            &ORIGIN_IGP[..],
            &AS_PATH_65000_2[..],
        ]
        .concat(),
        &[],
    );
    let expected = Update {
        attributes: attrs_of(base_values()[..2].to_vec()),
        mp_reach: Some(MpReach {
            family: Family::IPV6_UNICAST,
            next_hop: MpNextHop::Ipv6WithLinkLocal {
                global: v6("2001:db8::1"),
                link_local: v6("fe80::1"),
            },
            nlri: vec![net("2001:db8::/32")].into(),
            placement: Placement::default(),
        }),
        ..Update::default()
    };
    vector(&Message::Update(expected.clone()), &wire, &ctx2());
    assert_eq!(expected.announcements().count(), 1);
}

#[test]
fn mp_unreach_after_other_attributes_keeps_its_position() {
    let wire = update_bytes(
        &[],
        &[
            &ORIGIN_IGP[..],
            &attr(0x80, 15, &[0, 2, 1, 48, 0x20, 1, 0x0d, 0xb8, 0, 1])[..],
        ]
        .concat(),
        &[],
    );
    let u = update(&wire, &ctx2());
    let m = u.mp_unreach.as_ref().unwrap();
    assert_eq!(m.placement.position, 1);
    assert_eq!(m.withdrawn, vec![net("2001:db8:1::/48")]);
    assert_eq!(u.withdrawals().count(), 1);
}

#[test]
fn mp_reach_of_unsupported_family_is_kept_raw() {
    let value = [0, 1, 128, 12, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1, 0];
    let wire = update_bytes(
        &[],
        &[
            &ORIGIN_IGP[..],
            &AS_PATH_65000_2[..],
            &attr(0x80, 14, &value)[..],
        ]
        .concat(),
        &[],
    );
    let u = update(&wire, &ctx2());
    assert!(u.mp_reach.is_none());
    assert_eq!(u.attributes.unknown().count(), 1);
}

#[test]
fn mp_reach_with_add_path_round_trips() {
    let ctx = DecodeCtx {
        add_path: vec![Family::IPV6_UNICAST],
        ..ctx4()
    };
    let mut value = vec![0, 2, 1, 16];
    value.extend_from_slice(&v6("2001:db8::1").octets());
    value.push(0);
    value.extend_from_slice(&[0, 0, 0, 5, 32, 0x20, 0x01, 0x0d, 0xb8]);
    let wire = update_bytes(
        &[],
        &[
            &ORIGIN_IGP[..],
            &AS_PATH_65000_4[..],
            &attr(0x90, 14, &value)[..],
        ]
        .concat(),
        &[],
    );
    let u = update(&wire, &ctx);
    assert_eq!(u.mp_reach.unwrap().nlri[0].path_id, Some(5));
}

// ---------------------------------------------------------------- RFC 6793 reconstruction

#[test]
fn reconstructs_as_path_from_as4_path_on_two_octet_session() {
    let as_path = attr(0x40, 2, &[2, 3, 0, 100, 0x5b, 0xa0, 0x5b, 0xa0]);
    let as4 = attr(0xc0, 17, &[2, 2, 0, 3, 0x0d, 0x40, 0, 4, 0x93, 0xe0]);
    let wire = update_bytes(
        &[],
        &[&ORIGIN_IGP[..], &as_path[..], &NEXT_HOP[..], &as4[..]].concat(),
        &NLRI_10_8,
    );
    let u = update(&wire, &ctx2());
    let path = u.attributes.effective_as_path(false).unwrap();
    let asns: Vec<u32> = path
        .segments
        .iter()
        .flat_map(|s| s.asns.iter().map(|a| a.0))
        .collect();
    assert_eq!(asns, vec![100, 200_000, 300_000]);
    // On a 4-octet session AS4_PATH is ignored.
    assert_eq!(
        &*u.attributes.effective_as_path(true).unwrap(),
        u.attributes.as_path().unwrap()
    );
}

#[test]
fn adds_as4_attributes_for_two_octet_peers() {
    let mut attrs = PathAttributes::from(base_values());
    attrs.set(AttrValue::AsPath(AsPath::from_sequence(vec![
        Asn(200_000),
        Asn(100),
    ])));
    let old = attrs.for_two_octet_peer();
    assert_eq!(old.as4_path().unwrap().path_len(), 2);
    let u = Update::announce(Arc::new(old), vec![net("10.0.0.0/8")]);
    let bytes = Message::Update(u).to_bytes(&EncodeCtx::default()).unwrap();
    let back = update(&bytes, &ctx2());
    assert_eq!(
        back.attributes.as_path().unwrap().segments[0].asns[..],
        [Asn(23456), Asn(100)]
    );
    let eff = back.attributes.effective_as_path(false).unwrap();
    assert_eq!(
        eff.segments
            .iter()
            .flat_map(|s| &s.asns)
            .copied()
            .collect::<Vec<_>>(),
        vec![Asn(200_000), Asn(100)]
    );
}

#[test]
fn forwarding_marks_unknown_transitive_partial_and_drops_the_rest() {
    let wire = update_bytes(
        &[],
        &[
            &base_attrs(false)[..],
            &attr(0xc0, 99, &[1])[..],
            &attr(0x80, 98, &[2])[..],
            &attr(0x40, 6, &[1])[..],
        ]
        .concat(),
        &NLRI_10_8,
    );
    let u = update(&wire, &ctx2());
    assert_eq!(u.action(), Some(AttrAction::Discard));
    let fwd = u.attributes.for_forwarding();
    let unknown: Vec<_> = fwd.unknown().collect();
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0].0.is_partial());
    assert_eq!(unknown[0].1.type_code, AttrType(99));
    assert!(!fwd.atomic_aggregate());
    assert_eq!(fwd.len(), 4);
}

// ---------------------------------------------------------------- packing

#[test]
fn packs_many_prefixes_into_updates_within_the_maximum_length() {
    let prefixes: Vec<Nlri> = (0..3000u32)
        .map(|i| {
            Nlri::new(ipnet::IpNet::V4(
                ipnet::Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 | (i << 8)), 24).unwrap(),
            ))
        })
        .collect();
    let attrs = attrs_of(base_values());
    let ctx = EncodeCtx::default();
    let updates = pack(
        Family::IPV4_UNICAST,
        &prefixes,
        &prefixes,
        &attrs,
        None,
        &ctx,
    )
    .unwrap();
    let mut withdrawn = 0;
    let mut announced = 0;
    for u in &updates {
        let bytes = Message::Update(u.clone()).to_bytes(&ctx).unwrap();
        assert!(bytes.len() <= 4096);
        withdrawn += u.withdrawn.len();
        announced += u.nlri.len();
    }
    assert_eq!((withdrawn, announced), (3000, 3000));
    // 3000 × 4 octets need at least 3 messages each way; greedy packing needs no more than 4.
    assert!(updates.len() <= 8, "{} updates", updates.len());
    // The first full announcement UPDATE is close to the limit.
    let first_announce = updates.iter().find(|u| !u.nlri.is_empty()).unwrap();
    let len = Message::Update(first_announce.clone())
        .to_bytes(&ctx)
        .unwrap()
        .len();
    assert!(len > 4096 - 4, "{len}");
}

#[test]
fn packs_ipv6_into_mp_attributes() {
    let prefixes: Vec<Nlri> = (0..1000u128)
        .map(|i| {
            Nlri::new(ipnet::IpNet::V6(
                ipnet::Ipv6Net::new(Ipv6Addr::from((0x2001_0db8u128 << 96) | (i << 64)), 64)
                    .unwrap(),
            ))
        })
        .collect();
    let attrs = attrs_of(base_values()[..2].to_vec());
    let ctx = EncodeCtx {
        extended_message: true,
        ..EncodeCtx::default()
    };
    let nh = MpNextHop::Ipv6(v6("2001:db8::1"));
    let updates = pack(
        Family::IPV6_UNICAST,
        &prefixes,
        &prefixes,
        &attrs,
        Some(nh),
        &ctx,
    )
    .unwrap();
    assert_eq!(
        updates.len(),
        2,
        "65,535-octet messages hold 1000 /64s each way"
    );
    let dctx = DecodeCtx {
        extended_message: true,
        ..DecodeCtx::default()
    };
    for u in updates {
        let bytes = Message::Update(u.clone()).to_bytes(&ctx).unwrap();
        assert_eq!(Message::decode(&bytes, &dctx).unwrap(), Message::Update(u));
    }
}

#[test]
fn refuses_to_encode_an_update_above_the_maximum() {
    let prefixes: Vec<Nlri> = (0..2000u32)
        .map(|i| {
            Nlri::new(ipnet::IpNet::V4(
                ipnet::Ipv4Net::new(Ipv4Addr::from(i << 8), 24).unwrap(),
            ))
        })
        .collect();
    let u = Update::announce(attrs_of(base_values()), prefixes);
    let mut out = bytes::BytesMut::new();
    let err = Message::Update(u)
        .encode(&mut out, &EncodeCtx::default())
        .unwrap_err();
    assert!(matches!(
        err,
        bgp::wire::EncodeError::TooLong { max: 4096, .. }
    ));
    assert!(out.is_empty());
}

// ---------------------------------------------------------------- framing

#[test]
fn framer_yields_messages_split_across_reads() {
    let mut stream = msg(4, &[]);
    stream.extend(update_bytes(&[], &base_attrs(false), &NLRI_10_8));
    stream.extend(msg(4, &[]));
    let mut framer = Framer::new();
    let mut got = Vec::new();
    for chunk in stream.chunks(7) {
        framer.handle_bytes(chunk);
        while let Some(m) = framer.poll_message(&ctx2()) {
            got.push(m.unwrap().msg_type());
        }
    }
    assert_eq!(
        got,
        vec![
            bgp::wire::MessageType::KEEPALIVE,
            bgp::wire::MessageType::UPDATE,
            bgp::wire::MessageType::KEEPALIVE
        ]
    );
    assert_eq!(framer.buffered(), 0);
}

#[test]
fn framer_rejects_oversized_length_as_soon_as_the_header_arrives() {
    let mut framer = Framer::new();
    let mut header = vec![0xff; 16];
    header.extend_from_slice(&5000u16.to_be_bytes());
    header.push(2);
    framer.handle_bytes(&header);
    let err = framer.poll_message(&ctx2()).unwrap().unwrap_err();
    let n = Notification::from(&err);
    assert_eq!(
        (n.code, n.subcode, n.data),
        (ErrorCode::MESSAGE_HEADER, 2, vec![0x13, 0x88])
    );
    // With extended messages the same header waits for the body.
    let ext = DecodeCtx {
        extended_message: true,
        ..ctx2()
    };
    assert!(framer.poll_message(&ext).is_none());
}

#[test]
fn framer_hands_out_each_message_s_octets_and_repeats_a_header_error() {
    let update = update_bytes(&[], &base_attrs(false), &NLRI_10_8);
    let mut stream = msg(4, &[]);
    stream.extend(&update);
    let mut framer = Framer::new();
    framer.handle_bytes(&stream[..stream.len() - 1]);
    assert_eq!(
        framer.poll_frame(&ctx2(), <[u8]>::to_vec),
        Some(Ok(msg(4, &[])))
    );
    assert_eq!(framer.poll_frame(&ctx2(), <[u8]>::to_vec), None);
    framer.handle_bytes(&stream[stream.len() - 1..]);
    assert_eq!(framer.poll_frame(&ctx2(), <[u8]>::to_vec), Some(Ok(update)));
    assert_eq!(framer.buffered(), 0);
    // A bad marker: the error, again and again, until the stream is dropped.
    framer.handle_bytes(&[0x00, 0x01]);
    let first = framer.poll_frame(&ctx2(), <[u8]>::len);
    assert!(matches!(first, Some(Err(_))), "{first:?}");
    assert_eq!(framer.poll_frame(&ctx2(), <[u8]>::len), first);
    framer.clear();
    assert_eq!(framer.buffered(), 0);
    assert_eq!(framer.poll_frame(&ctx2(), <[u8]>::len), None);
}

#[test]
fn framer_rejects_bad_marker_on_first_octet() {
    let mut framer = Framer::new();
    framer.handle_bytes(&[0x00]);
    let err = framer.poll_message(&ctx2()).unwrap().unwrap_err();
    assert_eq!(Notification::from(&err).subcode, 1);
}

#[test]
fn misc_value_helpers() {
    assert_eq!(Afi::IPV6.name(), Some("IPV6"));
    assert_eq!(Safi::UNICAST.0, 1);
    let _ = OptionalParam {
        capabilities: vec![],
    };
    let _ = MpUnreach {
        family: Family::IPV6_UNICAST,
        withdrawn: vec![],
        placement: Placement::default(),
    };
}

// ---------------------------------------------------------------- decoded attribute lists

#[test]
fn decoded_attributes_equal_the_typed_list_and_survive_mutation() {
    let wire = update_bytes(
        &[],
        &[&base_attrs(true)[..], &attr(0xc0, 8, &[0, 1, 0, 2])[..]].concat(),
        &NLRI_10_8,
    );
    let u = update(&wire, &ctx4());
    let typed = PathAttributes::from(u.attributes.as_slice().to_vec());
    assert_eq!(*u.attributes, typed);
    assert_eq!(u.attributes.len(), 4);
    assert!(u.attributes.contains(AttrType::COMMUNITIES));
    assert!(!u.attributes.contains(AttrType::MP_REACH_NLRI));
    let mut changed = (*u.attributes).clone();
    changed.set(AttrValue::LocalPref(200));
    assert_eq!(changed.local_pref(), Some(200));
    assert_eq!(changed.len(), 5);
    let out = Message::Update(Update {
        attributes: Arc::new(changed),
        ..u
    })
    .to_bytes(&EncodeCtx::from(&ctx4()))
    .unwrap();
    assert_eq!(out.len(), wire.len() + 7);
}

#[test]
fn decoded_attributes_are_reencoded_for_a_session_of_another_as_width() {
    let as_path = attr(0x40, 2, &[2, 1, 0, 3, 0x0d, 0x40]);
    let wire = update_bytes(
        &[],
        &[&ORIGIN_IGP[..], &as_path[..], &NEXT_HOP[..]].concat(),
        &NLRI_10_8,
    );
    let u = update(&wire, &ctx4());
    let two = Message::Update(u).to_bytes(&EncodeCtx::default()).unwrap();
    let back = update(&two, &ctx2());
    assert_eq!(
        back.attributes.as_path().unwrap().segments[0].asns[..],
        [Asn::TRANS]
    );
}

#[test]
fn mp_attributes_are_kept_out_of_the_attribute_list() {
    let mut value = vec![0, 2, 1, 16];
    value.extend_from_slice(&v6("2001:db8::1").octets());
    value.push(0);
    value.extend_from_slice(&[32, 0x20, 0x01, 0x0d, 0xb8]);
    let unreach = attr(0x80, 15, &[0, 2, 1, 16, 0x20, 0x01]);
    let wire = update_bytes(
        &[],
        &[
            &ORIGIN_IGP[..],
            &attr(0x80, 14, &value)[..],
            &AS_PATH_65000_2[..],
            &unreach[..],
        ]
        .concat(),
        &[],
    );
    let u = update(&wire, &ctx2());
    assert_eq!(u.attributes.len(), 2);
    assert_eq!(u.mp_reach.as_ref().unwrap().placement.position, 1);
    assert_eq!(u.mp_unreach.as_ref().unwrap().placement.position, 3);
    assert_eq!(u.attributes.as_slice().len(), 2);
}
