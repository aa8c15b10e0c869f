//! A table of malformed inputs, each with the exact NOTIFICATION code/subcode RFC 4271 §6
//! (and RFC 5492, 6793, 7313, 7607, 8654) prescribes and, for UPDATE attribute errors, the
//! RFC 7606 action. Treat-as-withdraw cases must still yield the NLRI to withdraw.

use bgp::wire::{AttrAction, DecodeCtx, ErrorCode, Message, Notification};

fn msg(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
    v.push(ty);
    v.extend_from_slice(body);
    v
}

fn raw_header(len: u16, ty: u8, body_len: usize) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&len.to_be_bytes());
    v.push(ty);
    v.resize(19 + body_len, 0);
    v
}

fn update(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&u16::try_from(withdrawn.len()).unwrap().to_be_bytes());
    b.extend_from_slice(withdrawn);
    b.extend_from_slice(&u16::try_from(attrs.len()).unwrap().to_be_bytes());
    b.extend_from_slice(attrs);
    b.extend_from_slice(nlri);
    msg(2, &b)
}

fn open(version: u8, my_as: u16, hold: u16, id: [u8; 4], params: &[u8]) -> Vec<u8> {
    let mut b = vec![version];
    b.extend_from_slice(&my_as.to_be_bytes());
    b.extend_from_slice(&hold.to_be_bytes());
    b.extend_from_slice(&id);
    b.push(u8::try_from(params.len()).unwrap());
    b.extend_from_slice(params);
    msg(1, &b)
}

fn good_open(params: &[u8]) -> Vec<u8> {
    open(4, 65000, 90, [10, 0, 0, 1], params)
}

const ORIGIN: &[u8] = &[0x40, 1, 1, 0];
const AS_PATH: &[u8] = &[0x40, 2, 4, 2, 1, 0xfd, 0xe8];
const NEXT_HOP: &[u8] = &[0x40, 3, 4, 192, 0, 2, 1];
const NLRI: &[u8] = &[8, 10];

/// Mandatory attributes with one replaced/added.
fn attrs(extra: &[&[u8]]) -> Vec<u8> {
    extra.concat()
}

fn with_mandatory(extra: &[u8]) -> Vec<u8> {
    [ORIGIN, AS_PATH, NEXT_HOP, extra].concat()
}

fn mp_reach_v6(nh: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 2, 1, u8::try_from(nh.len()).unwrap()];
    v.extend_from_slice(nh);
    v.push(0);
    v.extend_from_slice(nlri);
    let mut a = vec![0x80, 14, u8::try_from(v.len()).unwrap()];
    a.extend(v);
    a
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    ctx: DecodeCtx,
    code: ErrorCode,
    subcode: u8,
    /// `None`: decoding fails (session reset). `Some`: decoding succeeds with this action.
    action: Option<AttrAction>,
}

fn case(
    name: &'static str,
    bytes: Vec<u8>,
    code: u8,
    subcode: u8,
    action: Option<AttrAction>,
) -> Case {
    Case {
        name,
        bytes,
        ctx: DecodeCtx::default(),
        code: ErrorCode(code),
        subcode,
        action,
    }
}

#[allow(clippy::too_many_lines, reason = "one table row per malformed input")]
fn cases() -> Vec<Case> {
    use AttrAction::{Discard, SessionReset, TreatAsWithdraw};
    let taw = Some(TreatAsWithdraw);
    let discard = Some(Discard);
    let four = DecodeCtx {
        four_octet_as: true,
        ..DecodeCtx::default()
    };
    let ext = DecodeCtx {
        extended_message: true,
        ..DecodeCtx::default()
    };
    let mut bad_marker_first = msg(4, &[]);
    bad_marker_first[0] = 0;
    let mut bad_marker_last = msg(4, &[]);
    bad_marker_last[15] = 0xfe;
    let _ = SessionReset;
    vec![
        // --- RFC 4271 §6.1 Message Header Error
        case("bad marker (first octet)", bad_marker_first, 1, 1, None),
        case("bad marker (last octet)", bad_marker_last, 1, 1, None),
        case("length below 19", raw_header(18, 4, 0), 1, 2, None),
        case(
            "UPDATE above 4096 without extended messages",
            raw_header(4097, 2, 4078),
            1,
            2,
            None,
        ),
        case("KEEPALIVE of 20 octets", msg(4, &[0]), 1, 2, None),
        case(
            "OPEN below 29 octets",
            msg(1, &[4, 0, 1, 0, 90, 10, 0, 0, 1]),
            1,
            2,
            None,
        ),
        case("UPDATE below 23 octets", msg(2, &[0, 0, 0]), 1, 2, None),
        case("NOTIFICATION below 21 octets", msg(3, &[6]), 1, 2, None),
        Case {
            ctx: ext.clone(),
            ..case(
                "OPEN above 4096 even with extended messages",
                raw_header(4097, 1, 4078),
                1,
                2,
                None,
            )
        },
        Case {
            ctx: ext,
            ..case(
                "KEEPALIVE above 19 even with extended messages",
                raw_header(4000, 4, 3981),
                1,
                2,
                None,
            )
        },
        case("message type 0", msg(0, &[]), 1, 3, None),
        case("message type 6", msg(6, &[]), 1, 3, None),
        // --- RFC 4271 §6.2 OPEN Message Error
        case(
            "unsupported version 3",
            open(3, 65000, 90, [10, 0, 0, 1], &[]),
            2,
            1,
            None,
        ),
        case(
            "bad peer AS 0",
            open(4, 0, 90, [10, 0, 0, 1], &[]),
            2,
            2,
            None,
        ),
        case(
            "bad peer AS 0 in 4-octet capability",
            good_open(&[2, 6, 65, 4, 0, 0, 0, 0]),
            2,
            2,
            None,
        ),
        case(
            "bad BGP identifier 0.0.0.0",
            open(4, 65000, 90, [0, 0, 0, 0], &[]),
            2,
            3,
            None,
        ),
        case(
            "unacceptable hold time 1",
            open(4, 65000, 1, [10, 0, 0, 1], &[]),
            2,
            6,
            None,
        ),
        case(
            "unacceptable hold time 2",
            open(4, 65000, 2, [10, 0, 0, 1], &[]),
            2,
            6,
            None,
        ),
        case(
            "unsupported optional parameter (authentication)",
            good_open(&[1, 1, 0]),
            2,
            4,
            None,
        ),
        case(
            "unsupported optional parameter type 3",
            good_open(&[3, 0]),
            2,
            4,
            None,
        ),
        case(
            "malformed multiprotocol capability",
            good_open(&[2, 5, 1, 3, 0, 1, 0]),
            2,
            0,
            None,
        ),
        case(
            "malformed 4-octet AS capability",
            good_open(&[2, 4, 65, 2, 0, 1]),
            2,
            0,
            None,
        ),
        case(
            "optional parameter overruns Opt Parm Len",
            good_open(&[2, 9, 2, 0]),
            2,
            0,
            None,
        ),
        // --- RFC 4271 §6.3 UPDATE Message Error, session reset
        case(
            "withdrawn routes length overruns the message",
            msg(2, &[0, 9, 0, 0]),
            3,
            1,
            None,
        ),
        case(
            "total attribute length overruns the message",
            msg(2, &[0, 0, 0, 9]),
            3,
            1,
            None,
        ),
        case(
            "withdrawn prefix length 33",
            update(&[33, 1, 2, 3, 4, 5], &[], &[]),
            3,
            10,
            None,
        ),
        case(
            "NLRI prefix length 33",
            update(&[], &with_mandatory(&[]), &[33, 1, 2, 3, 4, 5]),
            3,
            10,
            None,
        ),
        case(
            "NLRI prefix truncated",
            update(&[], &with_mandatory(&[]), &[24, 10, 1]),
            3,
            10,
            None,
        ),
        case(
            "unrecognized well-known attribute",
            update(&[], &with_mandatory(&[0x40, 99, 1, 0]), NLRI),
            3,
            2,
            None,
        ),
        case(
            "MP_REACH_NLRI twice",
            update(
                &[],
                &attrs(&[
                    ORIGIN,
                    AS_PATH,
                    &mp_reach_v6(&[0; 16], &[]),
                    &mp_reach_v6(&[0; 16], &[]),
                ]),
                &[],
            ),
            3,
            1,
            None,
        ),
        case(
            "MP_REACH_NLRI next hop length 5",
            update(
                &[],
                &attrs(&[ORIGIN, AS_PATH, &mp_reach_v6(&[1; 5], &[])]),
                &[],
            ),
            3,
            9,
            None,
        ),
        case(
            "MP_REACH_NLRI prefix length 129",
            update(
                &[],
                &attrs(&[ORIGIN, AS_PATH, &mp_reach_v6(&[1; 16], &[129, 0])]),
                &[],
            ),
            3,
            9,
            None,
        ),
        case(
            "MP_UNREACH_NLRI truncated prefix",
            update(&[], &[0x80, 15, 5, 0, 2, 1, 64, 0x20], &[]),
            3,
            9,
            None,
        ),
        case(
            "MP_REACH_NLRI with well-known flags",
            update(&[], &[0x40, 14, 5, 0, 2, 1, 0, 0], &[]),
            3,
            4,
            None,
        ),
        // --- UPDATE errors handled by treat-as-withdraw (RFC 7606)
        case(
            "missing ORIGIN",
            update(&[], &attrs(&[AS_PATH, NEXT_HOP]), NLRI),
            3,
            3,
            taw,
        ),
        case(
            "missing AS_PATH",
            update(&[], &attrs(&[ORIGIN, NEXT_HOP]), NLRI),
            3,
            3,
            taw,
        ),
        case(
            "missing NEXT_HOP",
            update(&[], &attrs(&[ORIGIN, AS_PATH]), NLRI),
            3,
            3,
            taw,
        ),
        case(
            "ORIGIN with optional flag",
            update(&[], &attrs(&[&[0x80, 1, 1, 0], AS_PATH, NEXT_HOP]), NLRI),
            3,
            4,
            taw,
        ),
        case(
            "MULTI_EXIT_DISC with well-known flags",
            update(&[], &with_mandatory(&[0x40, 4, 4, 0, 0, 0, 1]), NLRI),
            3,
            4,
            taw,
        ),
        case(
            "ORIGIN of length 2",
            update(&[], &attrs(&[&[0x40, 1, 2, 0, 0], AS_PATH, NEXT_HOP]), NLRI),
            3,
            5,
            taw,
        ),
        case(
            "invalid ORIGIN value 3",
            update(&[], &attrs(&[&[0x40, 1, 1, 3], AS_PATH, NEXT_HOP]), NLRI),
            3,
            6,
            taw,
        ),
        case(
            "NEXT_HOP of length 5",
            update(
                &[],
                &attrs(&[ORIGIN, AS_PATH, &[0x40, 3, 5, 1, 2, 3, 4, 5]]),
                NLRI,
            ),
            3,
            5,
            taw,
        ),
        case(
            "NEXT_HOP 0.0.0.0",
            update(
                &[],
                &attrs(&[ORIGIN, AS_PATH, &[0x40, 3, 4, 0, 0, 0, 0]]),
                NLRI,
            ),
            3,
            8,
            taw,
        ),
        case(
            "NEXT_HOP multicast",
            update(
                &[],
                &attrs(&[ORIGIN, AS_PATH, &[0x40, 3, 4, 224, 0, 0, 1]]),
                NLRI,
            ),
            3,
            8,
            taw,
        ),
        case(
            "AS_PATH unknown segment type",
            update(
                &[],
                &attrs(&[ORIGIN, &[0x40, 2, 4, 5, 1, 0, 1], NEXT_HOP]),
                NLRI,
            ),
            3,
            11,
            taw,
        ),
        case(
            "AS_PATH segment overruns",
            update(
                &[],
                &attrs(&[ORIGIN, &[0x40, 2, 4, 2, 2, 0, 1], NEXT_HOP]),
                NLRI,
            ),
            3,
            11,
            taw,
        ),
        case(
            "AS_PATH zero-length segment",
            update(&[], &attrs(&[ORIGIN, &[0x40, 2, 2, 2, 0], NEXT_HOP]), NLRI),
            3,
            11,
            taw,
        ),
        case(
            "AS_PATH containing AS 0",
            update(
                &[],
                &attrs(&[ORIGIN, &[0x40, 2, 4, 2, 1, 0, 0], NEXT_HOP]),
                NLRI,
            ),
            3,
            11,
            taw,
        ),
        Case {
            ctx: four,
            ..case(
                "2-octet AS_PATH on a 4-octet session",
                update(&[], &attrs(&[ORIGIN, AS_PATH, NEXT_HOP]), NLRI),
                3,
                11,
                taw,
            )
        },
        case(
            "MULTI_EXIT_DISC of length 3",
            update(&[], &with_mandatory(&[0x80, 4, 3, 0, 0, 1]), NLRI),
            3,
            5,
            taw,
        ),
        case(
            "LOCAL_PREF of length 5",
            update(&[], &with_mandatory(&[0x40, 5, 5, 0, 0, 0, 0, 1]), NLRI),
            3,
            5,
            taw,
        ),
        case(
            "COMMUNITIES of length 5",
            update(&[], &with_mandatory(&[0xc0, 8, 5, 0, 0, 0, 1, 2]), NLRI),
            3,
            5,
            taw,
        ),
        case(
            "COMMUNITIES of length 0",
            update(&[], &with_mandatory(&[0xc0, 8, 0]), NLRI),
            3,
            5,
            taw,
        ),
        case(
            "ORIGINATOR_ID of length 5",
            update(&[], &with_mandatory(&[0x80, 9, 5, 1, 2, 3, 4, 5]), NLRI),
            3,
            5,
            taw,
        ),
        case(
            "CLUSTER_LIST of length 3",
            update(&[], &with_mandatory(&[0x80, 10, 3, 1, 2, 3]), NLRI),
            3,
            5,
            taw,
        ),
        case(
            "EXTENDED_COMMUNITIES of length 7",
            update(
                &[],
                &with_mandatory(&[0xc0, 16, 7, 0, 2, 0, 1, 0, 0, 0]),
                NLRI,
            ),
            3,
            5,
            taw,
        ),
        case(
            "LARGE_COMMUNITY of length 11",
            update(
                &[],
                &with_mandatory(&[0xc0, 32, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]),
                NLRI,
            ),
            3,
            5,
            taw,
        ),
        case(
            "attribute length overruns the attribute field",
            update(&[], &with_mandatory(&[0xc0, 8, 8, 0, 0]), NLRI),
            3,
            1,
            taw,
        ),
        case(
            "fewer than 3 octets left in the attribute field",
            update(&[], &with_mandatory(&[0xc0, 8]), NLRI),
            3,
            1,
            taw,
        ),
        // --- UPDATE errors handled by attribute discard (RFC 7606, RFC 6793, RFC 7607)
        case(
            "ATOMIC_AGGREGATE of length 1",
            update(&[], &with_mandatory(&[0x40, 6, 1, 0]), NLRI),
            3,
            5,
            discard,
        ),
        case(
            "AGGREGATOR of length 8 on a 2-octet session",
            update(
                &[],
                &with_mandatory(&[0xc0, 7, 8, 0, 0, 0, 1, 10, 0, 0, 1]),
                NLRI,
            ),
            3,
            5,
            discard,
        ),
        case(
            "AGGREGATOR with AS 0",
            update(&[], &with_mandatory(&[0xc0, 7, 6, 0, 0, 10, 0, 0, 1]), NLRI),
            3,
            9,
            discard,
        ),
        case(
            "AS4_PATH malformed",
            update(&[], &with_mandatory(&[0xc0, 17, 3, 2, 1, 0]), NLRI),
            3,
            11,
            discard,
        ),
        case(
            "AS4_PATH with confederation segment",
            update(&[], &with_mandatory(&[0xc0, 17, 6, 3, 1, 0, 0, 0, 1]), NLRI),
            3,
            11,
            discard,
        ),
        case(
            "AS4_AGGREGATOR of length 6",
            update(
                &[],
                &with_mandatory(&[0xc0, 18, 6, 0, 1, 10, 0, 0, 1]),
                NLRI,
            ),
            3,
            5,
            discard,
        ),
        case(
            "COMMUNITIES twice",
            update(
                &[],
                &with_mandatory(&[0xc0, 8, 4, 0, 1, 0, 1, 0xc0, 8, 4, 0, 1, 0, 2]),
                NLRI,
            ),
            3,
            1,
            discard,
        ),
        // --- RFC 7313 §5 ROUTE-REFRESH Message Error
        case("ROUTE-REFRESH of 22 octets", msg(5, &[0, 1, 0]), 7, 1, None),
        case(
            "ROUTE-REFRESH of 24 octets",
            msg(5, &[0, 1, 0, 1, 0]),
            7,
            1,
            None,
        ),
    ]
}

#[test]
fn table_has_at_least_forty_cases() {
    assert!(cases().len() >= 40, "{} cases", cases().len());
}

#[test]
fn every_malformed_input_maps_to_the_prescribed_notification() {
    let mut failures = Vec::new();
    for c in cases() {
        let got: Result<(Notification, Option<AttrAction>), String> =
            match Message::decode(&c.bytes, &c.ctx) {
                Err(e) => Ok((Notification::from(&e), None)),
                Ok(Message::Update(u)) => match u.issues.iter().max_by_key(|i| i.action) {
                    Some(issue) => {
                        // Treat-as-withdraw must still name the NLRI to withdraw.
                        if issue.action == AttrAction::TreatAsWithdraw
                            && !u.nlri.is_empty()
                            && u.withdrawals().count() != u.nlri.len() + u.withdrawn.len()
                        {
                            failures.push(format!("{}: NLRI not offered for withdrawal", c.name));
                        }
                        if issue.action == AttrAction::TreatAsWithdraw
                            && u.announcements().count() != 0
                        {
                            failures.push(format!("{}: routes still announced", c.name));
                        }
                        Ok((issue.notification(), Some(issue.action)))
                    }
                    None => Err("decoded without issue".to_owned()),
                },
                Ok(other) => Err(format!("decoded as {other:?}")),
            };
        match got {
            Err(e) => failures.push(format!("{}: {e}", c.name)),
            Ok((n, action)) => {
                if (n.code, n.subcode, action) != (c.code, c.subcode, c.action) {
                    failures.push(format!(
                        "{}: got {}/{} {:?}, want {}/{} {:?}",
                        c.name, n.code, n.subcode, action, c.code, c.subcode, c.action
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn notification_data_follows_rfc_4271() {
    let data = |bytes: &[u8]| match Message::decode(bytes, &DecodeCtx::default()) {
        Err(e) => Notification::from(&e).data,
        Ok(Message::Update(u)) => u.issues[0].notification().data,
        Ok(_) => panic!("no error"),
    };
    // §6.1: Bad Message Length carries the erroneous Length field; Bad Message Type the type.
    assert_eq!(data(&msg(4, &[0])), vec![0, 20]);
    assert_eq!(data(&msg(9, &[])), vec![9]);
    // §6.2: Unsupported Version Number carries the largest supported version (2 octets).
    assert_eq!(data(&open(5, 65000, 90, [10, 0, 0, 1], &[])), vec![0, 4]);
    // §6.3: Missing Well-known Attribute carries the type code.
    assert_eq!(
        data(&update(&[], &attrs(&[AS_PATH, NEXT_HOP]), NLRI)),
        vec![1]
    );
    // §6.3: Invalid ORIGIN carries the whole attribute.
    assert_eq!(
        data(&update(
            &[],
            &attrs(&[&[0x40, 1, 1, 7], AS_PATH, NEXT_HOP]),
            NLRI
        )),
        vec![0x40, 1, 1, 7]
    );
    // §6.3: Malformed AS_PATH carries no data.
    assert_eq!(
        data(&update(
            &[],
            &attrs(&[ORIGIN, &[0x40, 2, 2, 2, 0], NEXT_HOP]),
            NLRI
        )),
        Vec::<u8>::new()
    );
}

#[test]
fn treat_as_withdraw_yields_the_prefixes_to_withdraw() {
    let bytes = update(
        &[16, 10, 9],
        &attrs(&[&[0x40, 1, 1, 9], AS_PATH, NEXT_HOP]),
        &[24, 10, 1, 1, 8, 11],
    );
    let Ok(Message::Update(u)) = Message::decode(&bytes, &DecodeCtx::default()) else {
        panic!()
    };
    assert!(u.is_treat_as_withdraw());
    let w: Vec<String> = u.withdrawals().map(|n| n.prefix.to_string()).collect();
    assert_eq!(w, vec!["10.9.0.0/16", "10.1.1.0/24", "11.0.0.0/8"]);
}

#[test]
fn add_path_with_an_invalid_send_receive_value_is_ignored_not_fatal() {
    // RFC 7911 §4: "If any other value is received, then the capability SHOULD be treated as
    // not understood and ignored." AFI 1, SAFI 1, Send/Receive 4.
    let bytes = good_open(&[2, 6, 69, 4, 0, 1, 1, 4]);
    let Ok(Message::Open(open)) = Message::decode(&bytes, &DecodeCtx::default()) else {
        panic!("an OPEN with an unusable ADD-PATH capability must still decode")
    };
    let caps: Vec<_> = open.capabilities().collect();
    assert!(
        caps.iter()
            .all(|c| !matches!(c, bgp::wire::Capability::AddPath(_))),
        "{caps:?}"
    );
    assert!(
        caps.iter()
            .any(|c| matches!(c, bgp::wire::Capability::Unknown { .. })),
        "kept as an unknown capability: {caps:?}"
    );
    // And it re-encodes to the same octets.
    let mut out = bytes::BytesMut::new();
    Message::Open(open)
        .encode(&mut out, &bgp::wire::EncodeCtx::default())
        .expect("encode");
    assert_eq!(out.as_ref(), bytes.as_slice());
}
