//! `holdtime live` end to end on loopback: msee1 listens, ce1 connects, both from the same
//! scenario; the session comes up and each side installs the other's prefixes.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use scenarios::live::{Endpoint, LiveOptions, LiveRole};
use sim_core::time::Duration;

fn options(role: LiveRole, endpoint: Endpoint, secs: u64) -> LiveOptions {
    LiveOptions {
        role,
        endpoints: vec![endpoint],
        duration: Duration::from_secs(secs),
        faults: Vec::new(),
        stdin: false,
        seed: 1,
        peer_profile: None,
    }
}

#[test]
fn msee_and_ce_establish_and_exchange_prefixes_over_loopback() {
    let loaded = scenarios::load("tuned-10-30").expect("built-in scenario");
    // A free port: bind, read it, release it (loopback only).
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("ephemeral port")
        .port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let topo = loaded.scenario.topology.clone();
    let msee = std::thread::spawn(move || {
        let mut out = Vec::new();
        let summary = scenarios::live::run(
            &topo,
            &options(LiveRole::Msee, Endpoint::Listen(addr), 4),
            &mut out,
        );
        (
            summary.map(|s| s.sessions.first().and_then(|s| s.negotiated)),
            String::from_utf8_lossy(&out).into_owned(),
        )
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut out = Vec::new();
    let ce = scenarios::live::run(
        &loaded.scenario.topology,
        &options(LiveRole::Ce, Endpoint::Connect(addr), 2),
        &mut out,
    )
    .expect("ce runs");
    let ce_text = String::from_utf8_lossy(&out).into_owned();
    let (msee_negotiated, msee_text) = msee.join().expect("msee thread");
    // RFC 4271 §4.2: the smaller hold time, ce1's 30 s against Azure's 180 s.
    let hold = Some((Duration::from_secs(30), Duration::from_secs(10)));
    assert_eq!(
        ce.sessions.first().and_then(|s| s.negotiated),
        hold,
        "{ce_text}"
    );
    assert_eq!(msee_negotiated.expect("msee runs"), hold, "{msee_text}");
    assert!(ce_text.contains("fib 10.10.0.0/16 via msee1"), "{ce_text}");
    assert!(msee_text.contains("fib 10.1.0.0/16 via ce1"), "{msee_text}");
}

#[test]
fn two_routers_of_the_general_form_establish_over_loopback() {
    // The triangle's routers a and b, each playing its first session (a-b) for real.
    let loaded = scenarios::load("triangle").expect("built-in scenario");
    let topo = loaded.scenario.topology;
    let index = |name: &str| topo.router(name).expect("router").0;
    let (a, b) = (index("a"), index("b"));
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("ephemeral port")
        .port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener_topo = topo.clone();
    let listener = std::thread::spawn(move || {
        let mut out = Vec::new();
        let summary = scenarios::live::run(
            &listener_topo,
            &options(LiveRole::Router(b), Endpoint::Listen(addr), 4),
            &mut out,
        );
        (
            summary.map(|s| s.sessions.first().and_then(|s| s.negotiated)),
            String::from_utf8_lossy(&out).into_owned(),
        )
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut out = Vec::new();
    let summary = scenarios::live::run(
        &topo,
        &options(LiveRole::Router(a), Endpoint::Connect(addr), 2),
        &mut out,
    )
    .expect("a runs");
    let a_text = String::from_utf8_lossy(&out).into_owned();
    let (b_negotiated, b_text) = listener.join().expect("b thread");
    // Both offer the [bgp] table's 9 s hold and 3 s keepalive.
    let timers = Some((Duration::from_secs(9), Duration::from_secs(3)));
    assert_eq!(
        summary.sessions.first().and_then(|s| s.negotiated),
        timers,
        "{a_text}"
    );
    assert_eq!(b_negotiated.expect("b runs"), timers, "{b_text}");
    assert!(a_text.contains("fib 10.2.0.0/16 via b"), "{a_text}");
    assert!(b_text.contains("fib 10.1.0.0/16 via a"), "{b_text}");
}
