//! `session/keepalive_roundtrip`: one KEEPALIVE round trip through two established BGP
//! sessions: A's keepalive timer fires (FSM), the KEEPALIVE is encoded, B frames and decodes it
//! and restarts its hold timer (FSM), then the same from B back to A.
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;
use std::net::Ipv4Addr;

use bgp::fsm::{Command, Config, Session, State, Transmit, Transport};
use criterion::{Criterion, criterion_group, criterion_main};
use sim_core::time::Instant;

/// Moves every output of `from` into `to`; returns how many bytes moved.
fn shuttle(from: &mut Session, to: &mut Session, now: Instant) -> usize {
    let mut moved = 0;
    while let Some(t) = from.poll_transmit() {
        if let Transmit::Bytes(b) = t {
            moved += b.len();
            to.handle_bytes(now, &b);
        }
    }
    while from.poll_event().is_some() {}
    moved
}

/// Two sessions taken to Established by hand (the connection is assumed up on both sides).
fn established() -> Result<(Session, Session), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut a = Session::new(Config::new(65001, 12076, Ipv4Addr::new(192, 0, 2, 1)), 1)
        .map_err(|e| err(&e))?;
    let mut b = Session::new(Config::new(12076, 65001, Ipv4Addr::new(192, 0, 2, 2)), 2)
        .map_err(|e| err(&e))?;
    let now = Instant::ZERO;
    a.handle_command(now, Command::Start).map_err(|e| err(&e))?;
    b.handle_command(now, Command::StartPassive)
        .map_err(|e| err(&e))?;
    a.handle_transport(now, Transport::Connected);
    b.handle_transport(now, Transport::Connected);
    for _ in 0..4 {
        shuttle(&mut a, &mut b, now);
        shuttle(&mut b, &mut a, now);
    }
    if a.state() == State::Established && b.state() == State::Established {
        Ok((a, b))
    } else {
        Err(format!(
            "sessions did not establish: {} / {}",
            a.state(),
            b.state()
        ))
    }
}

fn keepalive_roundtrip(c: &mut Criterion) {
    let (mut a, mut b) = match established() {
        Ok(pair) => pair,
        Err(e) => panic!("benchmark setup: {e}"),
    };
    // Each round trip happens at the later of the two keepalive deadlines; virtual time only
    // moves forward, so every iteration is a real timer expiry.
    let mut now = Instant::ZERO;
    c.bench_function("session/keepalive_roundtrip", |bench| {
        bench.iter(|| {
            now = now.max(a.poll_timeout().unwrap_or(now));
            a.handle_timeout(now);
            let there = shuttle(&mut a, &mut b, now);
            now = now.max(b.poll_timeout().unwrap_or(now));
            b.handle_timeout(now);
            let back = shuttle(&mut b, &mut a, now);
            black_box(there + back)
        });
    });
    // The sessions stayed up throughout.
    assert_eq!(a.state(), State::Established);
    assert_eq!(b.state(), State::Established);
}

criterion_group!(benches, keepalive_roundtrip);
criterion_main!(benches);
