//! One line per decoded message, as text or JSON (`holdtime decode --format`).

use std::fmt::Write as _;

use bgp::wire::{
    AsPath, Capability, Message, MpNextHop, Nlri, Notification, Origin, RouteRefresh,
    RouteRefreshType, SegmentType,
};
use serde_json::json;

use super::decode::{Event, MessageItem, RoundTrip, format_time, notification_name, type_name};

fn prefixes(list: &[Nlri]) -> String {
    let mut s = String::new();
    for (i, n) in list.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{}", n.prefix);
        if let Some(id) = n.path_id {
            let _ = write!(s, "#{id}");
        }
    }
    s
}

fn as_path(p: &AsPath) -> String {
    let mut parts = Vec::new();
    for seg in &p.segments {
        let asns: Vec<String> = seg.asns.iter().map(ToString::to_string).collect();
        parts.push(match seg.kind {
            SegmentType::AS_SET => format!("{{{}}}", asns.join(",")),
            SegmentType::AS_CONFED_SEQUENCE => format!("({})", asns.join(" ")),
            SegmentType::AS_CONFED_SET => format!("[{}]", asns.join(",")),
            _ => asns.join(" "),
        });
    }
    parts.join(" ")
}

fn capability(c: &Capability) -> String {
    match c {
        Capability::Multiprotocol(f) => format!("mp:{}/{}", f.afi, f.safi),
        Capability::RouteRefresh => "route-refresh".to_owned(),
        Capability::ExtendedMessage => "extended-message".to_owned(),
        Capability::FourOctetAs(a) => format!("as4:{a}"),
        Capability::EnhancedRouteRefresh => "enhanced-route-refresh".to_owned(),
        Capability::GracefulRestart { restart_time, .. } => {
            format!("graceful-restart:{restart_time}s")
        }
        Capability::AddPath(fs) => {
            let f: Vec<String> = fs
                .iter()
                .map(|a| format!("{}/{}:{}", a.family.afi, a.family.safi, a.mode))
                .collect();
            format!("add-path:{}", f.join(","))
        }
        Capability::Fqdn { hostname, domain } => format!(
            "fqdn:{}{}{}",
            String::from_utf8_lossy(hostname).escape_debug(),
            if domain.is_empty() { "" } else { "." },
            String::from_utf8_lossy(domain).escape_debug()
        ),
        Capability::Unknown { code, data } => {
            let mut s = format!("cap{}", code.0);
            if !data.is_empty() {
                s.push(':');
                for b in data {
                    let _ = write!(s, "{b:02x}");
                }
            }
            s
        }
    }
}

/// ORIGIN as RFC 4271 §5.1.1 writes it.
const fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Igp => "IGP",
        Origin::Egp => "EGP",
        Origin::Incomplete => "INCOMPLETE",
    }
}

/// A ROUTE-REFRESH's fields: its family, and its subtype when not a normal request.
fn route_refresh(r: &RouteRefresh) -> String {
    let mut s = format!("family={}/{}", r.family.afi, r.family.safi);
    if r.subtype != RouteRefreshType::NORMAL {
        let _ = write!(s, " subtype={}", r.subtype);
    }
    s
}

/// ` ; receiver would answer 2/6 Unacceptable Hold Time` for a refused message.
fn refused_note(n: Option<&Notification>) -> String {
    n.map_or_else(String::new, |n| {
        format!(
            "; receiver would answer {}/{} {}",
            n.code.0,
            n.subcode,
            notification_words(n)
        )
    })
}

/// A NOTIFICATION's subcode in words, as RFC 4271 §4.5 names it (`Unacceptable Hold Time`).
fn notification_words(n: &Notification) -> String {
    let name = notification_name(n);
    // `OPEN_MESSAGE/UNACCEPTABLE_HOLD_TIME (2/6)` → `Unacceptable Hold Time`.
    let sub = name
        .split_once('/')
        .map_or(name.as_str(), |(_, rest)| rest)
        .split(" (")
        .next()
        .unwrap_or_default();
    sub.split('_')
        .map(|w| {
            // RFC 4271 §4.5 writes these in capitals: `Bad Peer AS`, `Bad BGP Identifier`.
            if matches!(w, "AS" | "BGP" | "FSM" | "BFD") {
                return w.to_owned();
            }
            let lower = w.to_lowercase();
            let mut c = lower.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().chain(c).collect::<String>()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn next_hop(n: &MpNextHop) -> String {
    match n {
        MpNextHop::Ipv4(a) => a.to_string(),
        MpNextHop::Ipv6(a) => a.to_string(),
        MpNextHop::Ipv6WithLinkLocal { global, link_local } => format!("{global},{link_local}"),
    }
}

fn notification(n: &Notification) -> String {
    let mut s = notification_name(n);
    if let Some(Ok(text)) = n.shutdown_communication() {
        let _ = write!(s, " \"{}\"", text.escape_debug());
    } else if !n.data.is_empty() {
        s.push_str(" data=");
        for b in &n.data {
            let _ = write!(s, "{b:02x}");
        }
    }
    s
}

/// The decoded fields of a message, as `key=value` words.
#[must_use]
pub fn fields(m: &Message) -> String {
    match m {
        Message::Open(o) => {
            let caps: Vec<String> = o.capabilities().map(capability).collect();
            format!(
                "as={} hold={} id={} caps=[{}]",
                o.asn(),
                o.hold_time,
                o.bgp_id,
                caps.join(" ")
            )
        }
        Message::Update(u) => {
            let mut s = String::new();
            if !u.withdrawn.is_empty() {
                let _ = write!(s, " withdrawn={}", prefixes(&u.withdrawn));
            }
            if let Some(o) = u.attributes.origin() {
                let _ = write!(s, " origin={}", origin(o));
            }
            if let Some(p) = u.attributes.as_path() {
                let _ = write!(s, " as_path=[{}]", as_path(p));
            }
            if let Some(p) = u.attributes.as4_path() {
                let _ = write!(s, " as4_path=[{}]", as_path(p));
            }
            if let Some(n) = u.attributes.next_hop() {
                let _ = write!(s, " next_hop={n}");
            }
            if let Some(v) = u.attributes.med() {
                let _ = write!(s, " med={v}");
            }
            if let Some(v) = u.attributes.local_pref() {
                let _ = write!(s, " local_pref={v}");
            }
            let comms = u.attributes.communities();
            if !comms.is_empty() {
                let c: Vec<String> = comms.iter().map(ToString::to_string).collect();
                let _ = write!(s, " communities=[{}]", c.join(" "));
            }
            if let Some(r) = &u.mp_reach {
                let _ = write!(
                    s,
                    " mp_reach={}/{} nh={} nlri={}",
                    r.family.afi,
                    r.family.safi,
                    next_hop(&r.next_hop),
                    prefixes(&r.nlri)
                );
            }
            if let Some(r) = &u.mp_unreach {
                let _ = write!(
                    s,
                    " mp_unreach={}/{} withdrawn={}",
                    r.family.afi,
                    r.family.safi,
                    prefixes(&r.withdrawn)
                );
            }
            if !u.nlri.is_empty() {
                let _ = write!(s, " nlri={}", prefixes(&u.nlri));
            }
            for issue in &u.issues {
                let _ = write!(s, " issue=\"{issue}\"");
            }
            if s.is_empty() {
                "end-of-rib".to_owned()
            } else {
                s.trim_start().to_owned()
            }
        }
        Message::Notification(n) => notification(n),
        Message::Keepalive => String::new(),
        Message::RouteRefresh(r) => route_refresh(r),
    }
}

fn roundtrip_note(r: Option<&RoundTrip>) -> String {
    match r {
        None | Some(RoundTrip::Same) => String::new(),
        Some(RoundTrip::Differs {
            offset,
            original,
            encoded,
        }) => format!(
            " ROUNDTRIP-DIFFERS at octet {offset} (original {original} octets, re-encoded {encoded})"
        ),
        Some(RoundTrip::EncodeFailed(e)) => format!(" ROUNDTRIP-ENCODE-FAILED {e}"),
    }
}

/// A message as one text line.
#[must_use]
pub fn text(m: &MessageItem) -> String {
    let head = format!(
        "{} #{} {} > {}",
        format_time(m.unix_nanos),
        m.number,
        m.src,
        m.dst
    );
    match &m.result {
        Ok(msg) => {
            let f = fields(msg);
            let sep = if f.is_empty() { "" } else { " " };
            format!(
                "{head} {}{sep}{f}{}{}",
                type_name(msg),
                roundtrip_note(m.roundtrip.as_ref()),
                refused_note(m.refused.as_ref())
            )
        }
        Err(e) => format!(
            "{head} MALFORMED {e}; would send NOTIFICATION {}",
            notification_name(&Notification::from(e))
        ),
    }
}

/// A message as one JSON object (the decoded message under `message`).
#[must_use]
pub fn json(m: &MessageItem) -> String {
    let v = match &m.result {
        Ok(msg) => json!({
            "number": m.number,
            "time": format_time(m.unix_nanos),
            "src": m.src.to_string(),
            "dst": m.dst.to_string(),
            "type": type_name(msg),
            "length": m.bytes.len(),
            "summary": fields(msg),
            "message": msg,
            "roundtrip": m.roundtrip,
            "refused": m.refused.as_ref().map(|n| json!({
                "code": n.code.0,
                "subcode": n.subcode,
                "name": notification_name(n),
            })),
        }),
        Err(e) => {
            let n = Notification::from(e);
            json!({
                "number": m.number,
                "time": format_time(m.unix_nanos),
                "src": m.src.to_string(),
                "dst": m.dst.to_string(),
                "error": e.to_string(),
                "notification": {"code": n.code.0, "subcode": n.subcode, "name": notification_name(&n)},
            })
        }
    };
    v.to_string()
}

/// RFC 6396 §4.4.1 state numbers to RFC 4271 names.
fn state(n: u16) -> String {
    match n {
        1 => "Idle".to_owned(),
        2 => "Connect".to_owned(),
        3 => "Active".to_owned(),
        4 => "OpenSent".to_owned(),
        5 => "OpenConfirm".to_owned(),
        6 => "Established".to_owned(),
        other => format!("state{other}"),
    }
}

/// An event as one text line.
#[must_use]
pub fn event_text(e: &Event) -> String {
    match e {
        Event::Problem { number, error } => format!("#{number} ERROR {error}"),
        Event::State {
            number,
            unix_nanos,
            peer,
            local,
            old,
            new,
        } => format!(
            "{} #{number} {local} peer {peer} STATE {} -> {}",
            format_time(*unix_nanos),
            state(*old),
            state(*new)
        ),
    }
}

/// An event as one JSON object.
#[must_use]
pub fn event_json(e: &Event) -> String {
    match e {
        Event::Problem { number, error } => {
            json!({"number": number, "error": error.to_string()}).to_string()
        }
        Event::State {
            number,
            unix_nanos,
            peer,
            local,
            old,
            new,
        } => json!({
            "number": number,
            "time": format_time(*unix_nanos),
            "local": local.to_string(),
            "peer": peer.to_string(),
            "state": {"from": state(*old), "to": state(*new)},
        })
        .to_string(),
    }
}
