//! Property tests: for generated messages, encode then decode gives the value back and decode
//! then encode gives the bytes back; for corrupted encodings, decoding never panics and
//! decode → encode → decode is stable.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bgp::wire::{
    AddPathFamily, AddPathMode, Afi, Aggregator, AsPath, AsSegment, Asn, AttrFlags, AttrType,
    AttrValue, Capability, CapabilityCode, Community, DecodeCtx, EncodeCtx, ErrorCode,
    ExtendedCommunity, Family, Framer, GracefulRestartFamily, LargeCommunity, Message, MpNextHop,
    MpReach, MpUnreach, Nlri, Notification, Open, OptionalParam, Origin, PathAttribute,
    PathAttributes, Placement, RawAttribute, RouteRefresh, RouteRefreshType, Safi, SegmentType,
    Update,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

fn ctx_strategy() -> impl Strategy<Value = DecodeCtx> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(four, ap4, ap6)| {
        let mut add_path = Vec::new();
        if ap4 {
            add_path.push(Family::IPV4_UNICAST);
        }
        if ap6 {
            add_path.push(Family::IPV6_UNICAST);
        }
        DecodeCtx {
            four_octet_as: four,
            add_path,
            extended_message: false,
        }
    })
}

fn v4_nlri(add_path: bool) -> impl Strategy<Value = Nlri> {
    (any::<u32>(), 0u8..=32, any::<u32>()).prop_map(move |(a, len, id)| Nlri {
        prefix: IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), len).unwrap().trunc()),
        path_id: add_path.then_some(id),
    })
}

fn v6_nlri(add_path: bool) -> impl Strategy<Value = Nlri> {
    (any::<u128>(), 0u8..=128, any::<u32>()).prop_map(move |(a, len, id)| Nlri {
        prefix: IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), len).unwrap().trunc()),
        path_id: add_path.then_some(id),
    })
}

fn asn(four: bool) -> BoxedStrategy<Asn> {
    if four {
        (1u32..).prop_map(Asn).boxed()
    } else {
        (1u32..=65535).prop_map(Asn).boxed()
    }
}

fn as_path(four: bool, confed: bool) -> impl Strategy<Value = AsPath> {
    let kinds: Vec<u8> = if confed { vec![1, 2, 3, 4] } else { vec![1, 2] };
    prop::collection::vec(
        (
            prop::sample::select(kinds),
            prop::collection::vec(asn(four), 1..6),
        )
            .prop_map(|(k, asns)| AsSegment {
                kind: SegmentType(k),
                asns: asns.into(),
            }),
        0..4,
    )
    .prop_map(|segments: Vec<AsSegment>| AsPath {
        segments: segments.into(),
    })
}

fn unicast_v4() -> impl Strategy<Value = Ipv4Addr> {
    (1u32..0xE000_0000).prop_map(Ipv4Addr::from)
}

fn aggregator(four: bool) -> impl Strategy<Value = Aggregator> {
    (asn(four), any::<u32>()).prop_map(|(asn, a)| Aggregator {
        asn,
        address: Ipv4Addr::from(a),
    })
}

/// Optional attributes with distinct type codes; ORIGIN, AS_PATH and NEXT_HOP always present.
fn attributes(four: bool) -> impl Strategy<Value = PathAttributes> {
    let optional = (
        prop::option::of(any::<u32>().prop_map(AttrValue::MultiExitDisc)),
        prop::option::of(any::<u32>().prop_map(AttrValue::LocalPref)),
        prop::option::of(Just(AttrValue::AtomicAggregate)),
        prop::option::of(aggregator(four).prop_map(AttrValue::Aggregator)),
        prop::option::of(
            prop::collection::vec(any::<u32>().prop_map(Community), 1..8)
                .prop_map(|v| AttrValue::Communities(v.into())),
        ),
        prop::option::of(any::<u32>().prop_map(|a| AttrValue::OriginatorId(Ipv4Addr::from(a)))),
        prop::option::of(
            prop::collection::vec(any::<u32>().prop_map(Ipv4Addr::from), 1..4)
                .prop_map(|v| AttrValue::ClusterList(v.into())),
        ),
        prop::option::of(
            prop::collection::vec(any::<[u8; 8]>().prop_map(ExtendedCommunity), 1..4)
                .prop_map(|v| AttrValue::ExtendedCommunities(v.into())),
        ),
        prop::option::of(as_path(true, false).prop_map(AttrValue::As4Path)),
        prop::option::of(aggregator(true).prop_map(AttrValue::As4Aggregator)),
        prop::option::of(
            prop::collection::vec(
                any::<(u32, u32, u32)>().prop_map(|(g, a, b)| LargeCommunity {
                    global_admin: g,
                    local_data_1: a,
                    local_data_2: b,
                }),
                1..4,
            )
            .prop_map(|v| AttrValue::LargeCommunities(v.into())),
        ),
        prop::option::of(
            (40u8..=60, prop::collection::vec(any::<u8>(), 0..20)).prop_map(|(t, data)| {
                AttrValue::Unknown(RawAttribute {
                    type_code: AttrType(t),
                    data,
                })
            }),
        ),
    );
    let mandatory = (
        prop::sample::select(vec![Origin::Igp, Origin::Egp, Origin::Incomplete]),
        as_path(four, true),
        unicast_v4(),
    );
    (mandatory, optional, any::<u64>()).prop_flat_map(move |((o, p, nh), opt, flag_bits)| {
        let (a, b, c, d, e, f, g, h, i, j, k, l) = opt;
        let mut values = vec![
            AttrValue::Origin(o),
            AttrValue::AsPath(p),
            AttrValue::NextHop(nh),
        ];
        values.extend([a, b, c, d, e, f, g, h, i, j, k, l].into_iter().flatten());
        let list: Vec<PathAttribute> = values
            .into_iter()
            .enumerate()
            .map(|(n, v)| {
                let mut attr = PathAttribute::new(v);
                // Extended Length on a short value, and Partial on optional transitive ones,
                // are sender choices that must survive a round trip.
                if flag_bits >> (2 * n) & 1 == 1 {
                    attr.flags = attr.flags.with(AttrFlags::EXTENDED_LENGTH);
                }
                if flag_bits >> (2 * n + 1) & 1 == 1 && attr.flags.0 & 0xC0 == 0xC0 {
                    attr.flags = attr.flags.with(AttrFlags::PARTIAL);
                }
                attr
            })
            .collect();
        Just(list).prop_shuffle().prop_map(PathAttributes::from)
    })
}

fn mp_next_hop() -> impl Strategy<Value = MpNextHop> {
    prop_oneof![
        any::<u128>().prop_map(|a| MpNextHop::Ipv6(Ipv6Addr::from(a))),
        (any::<u128>(), any::<u128>()).prop_map(|(g, l)| MpNextHop::Ipv6WithLinkLocal {
            global: Ipv6Addr::from(g),
            link_local: Ipv6Addr::from(l),
        }),
    ]
}

fn update_strategy(ctx: &DecodeCtx) -> impl Strategy<Value = Update> + use<> {
    let four = ctx.four_octet_as;
    let ap4 = ctx.add_path(Family::IPV4_UNICAST);
    let ap6 = ctx.add_path(Family::IPV6_UNICAST);
    let announce = (
        prop::collection::vec(v4_nlri(ap4), 0..20),
        attributes(four),
        prop::collection::vec(v4_nlri(ap4), 1..20),
        prop::option::of((
            mp_next_hop(),
            prop::collection::vec(v6_nlri(ap6), 0..20),
            any::<bool>(),
        )),
        prop::option::of((prop::collection::vec(v6_nlri(ap6), 0..20), any::<bool>())),
        any::<(usize, usize)>(),
    )
        .prop_map(move |(withdrawn, attrs, nlri, reach, unreach, (p1, p2))| {
            let n = attrs.len();
            // Positions as a decoder records them: reach at p1 in 0..=n, unreach at another
            // slot in 0..=n+1 (see `Placement`).
            let p1 = p1 % (n + 1);
            let mut p2 = p2 % (n + 2);
            if p2 == p1 {
                p2 = n + 1;
            }
            let (p1, p2) = match (&reach, &unreach) {
                (Some(_), None) => (p1, 0),
                (None, Some(_)) => (0, p2.min(n)),
                _ => (p1, p2),
            };
            Update {
                withdrawn,
                attributes: Arc::new(attrs),
                mp_reach: reach.map(|(next_hop, nlri, ext)| {
                    let nh = if matches!(next_hop, MpNextHop::Ipv6(_)) {
                        16
                    } else {
                        32
                    };
                    let len = 5 + nh + nlri.iter().map(|n| n.encoded_len(ap6)).sum::<usize>();
                    MpReach {
                        family: Family::IPV6_UNICAST,
                        next_hop,
                        nlri: nlri.into(),
                        placement: Placement {
                            flags: flags(ext, len),
                            position: u16::try_from(p1).unwrap(),
                        },
                    }
                }),
                mp_unreach: unreach.map(|(withdrawn, ext)| {
                    let len = 3 + withdrawn.iter().map(|n| n.encoded_len(ap6)).sum::<usize>();
                    MpUnreach {
                        family: Family::IPV6_UNICAST,
                        withdrawn,
                        placement: Placement {
                            flags: flags(ext, len),
                            position: u16::try_from(p2).unwrap(),
                        },
                    }
                }),
                nlri: nlri.into(),
                issues: Vec::new(),
            }
        });
    let withdraw_only = prop::collection::vec(v4_nlri(ap4), 0..30).prop_map(Update::withdraw);
    prop_oneof![4 => announce, 1 => withdraw_only]
}

/// MP attribute flags; Extended Length is a sender's choice only for values up to 255 octets
/// (above, it is implied and not kept in the decoded value).
fn flags(ext: bool, value_len: usize) -> AttrFlags {
    if ext && value_len <= 255 {
        AttrFlags::OPTIONAL.with(AttrFlags::EXTENDED_LENGTH)
    } else {
        AttrFlags::OPTIONAL
    }
}

fn family() -> impl Strategy<Value = Family> {
    (any::<u16>(), any::<u8>()).prop_map(|(a, s)| Family::new(Afi(a), Safi(s)))
}

fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        family().prop_map(Capability::Multiprotocol),
        Just(Capability::RouteRefresh),
        Just(Capability::ExtendedMessage),
        Just(Capability::EnhancedRouteRefresh),
        (1u32..).prop_map(|a| Capability::FourOctetAs(Asn(a))),
        (
            0u8..16,
            0u16..4096,
            prop::collection::vec((family(), any::<u8>()), 0..3)
        )
            .prop_map(|(flags, t, fams)| {
                Capability::GracefulRestart {
                    flags,
                    restart_time: t,
                    families: fams
                        .into_iter()
                        .map(|(family, flags)| GracefulRestartFamily { family, flags })
                        .collect(),
                }
            }),
        prop::collection::vec((family(), 1u8..=3), 0..3).prop_map(|f| Capability::AddPath(
            f.into_iter()
                .map(|(family, m)| AddPathFamily {
                    family,
                    mode: AddPathMode(m)
                })
                .collect()
        )),
        (
            prop::collection::vec(any::<u8>(), 0..10),
            prop::collection::vec(any::<u8>(), 0..10)
        )
            .prop_map(|(hostname, domain)| Capability::Fqdn { hostname, domain }),
        (100u8..=127, prop::collection::vec(any::<u8>(), 0..10)).prop_map(|(c, data)| {
            Capability::Unknown {
                code: CapabilityCode(c),
                data,
            }
        }),
    ]
}

fn open_strategy() -> impl Strategy<Value = Open> {
    (
        1u16..,
        prop_oneof![Just(0u16), 3u16..],
        1u32..,
        prop::collection::vec(prop::collection::vec(capability(), 0..5), 0..3),
        any::<bool>(),
    )
        .prop_map(|(my_as, hold_time, id, params, extended_params)| Open {
            version: 4,
            my_as,
            hold_time,
            bgp_id: Ipv4Addr::from(id),
            params: params
                .into_iter()
                .map(|capabilities| OptionalParam { capabilities })
                .collect(),
            extended_params,
        })
}

fn message(ctx: &DecodeCtx) -> impl Strategy<Value = Message> + use<> {
    prop_oneof![
        3 => update_strategy(ctx).prop_map(Message::Update),
        1 => open_strategy().prop_map(Message::Open),
        1 => (any::<u8>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(c, s, d)| Message::Notification(Notification::new(ErrorCode(c), s, d))),
        1 => Just(Message::Keepalive),
        1 => (family(), any::<u8>())
            .prop_map(|(family, t)| Message::RouteRefresh(RouteRefresh { family, subtype: RouteRefreshType(t) })),
    ]
}

fn ctx_and_message() -> impl Strategy<Value = (DecodeCtx, Message)> {
    ctx_strategy().prop_flat_map(|ctx| (Just(ctx.clone()), message(&ctx)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_gives_the_value_back((ctx, msg) in ctx_and_message()) {
        let bytes = msg.to_bytes(&EncodeCtx::from(&ctx)).unwrap();
        let back = Message::decode(&bytes, &ctx).unwrap();
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn decode_then_encode_gives_the_bytes_back((ctx, msg) in ctx_and_message()) {
        let bytes = msg.to_bytes(&EncodeCtx::from(&ctx)).unwrap();
        let decoded = Message::decode(&bytes, &ctx).unwrap();
        let again = decoded.to_bytes(&EncodeCtx::from(&ctx)).unwrap();
        prop_assert_eq!(&again[..], &bytes[..]);
    }

    #[test]
    fn corrupted_messages_never_panic_and_reencode_stably(
        (ctx, msg) in ctx_and_message(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = msg.to_bytes(&EncodeCtx::from(&ctx)).unwrap().to_vec();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            // Keep marker and length intact so the body decoders are exercised.
            if at >= 18 {
                bytes[at] = b;
            }
        }
        if let Ok(first) = Message::decode(&bytes, &ctx) {
            // An UPDATE decoded without issues holds no malformed (discarded) entry.
            if let Message::Update(u) = &first
                && u.issues.is_empty()
            {
                let n = u.attributes.len();
                prop_assert_eq!(u.attributes.as_slice().len(), n);
                prop_assert!(u.attributes.iter().all(|a| !matches!(a.value, AttrValue::Malformed(_))));
            }
            let enc = EncodeCtx::from(&ctx);
            if let Ok(re) = first.to_bytes(&enc) {
                let second = Message::decode(&re, &ctx).unwrap();
                prop_assert_eq!(second.to_bytes(&enc).unwrap(), re);
            }
        }
    }

    #[test]
    fn framer_never_panics_on_arbitrary_bytes(
        data in prop::collection::vec(any::<u8>(), 0..200),
        cut in 1usize..50,
    ) {
        let mut framer = Framer::new();
        let ctx = DecodeCtx::default();
        let mut stream = vec![0xff; 16];
        stream.extend_from_slice(&data);
        for chunk in stream.chunks(cut) {
            framer.handle_bytes(chunk);
            while let Some(r) = framer.poll_message(&ctx) {
                if r.is_err() {
                    return Ok(());
                }
            }
        }
    }
}
