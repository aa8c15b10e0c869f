//! Properties over random input sequences: the session never panics, and after every input
//! no timer is armed that the current state does not use (`State::uses`, RFC 4271 §8.2.2).

mod common;

use bgp::fsm::profile::Profile;
use bgp::fsm::testing::Side;
use bgp::fsm::{Command, Session, Transport};
use bgp::wire::{Asn, Capability, EncodeCtx, Family, Message, Nlri, Open, Update};
use common::*;
use proptest::prelude::*;
use sim_core::time::{Duration, Instant};

#[derive(Debug, Clone)]
enum Input {
    Command(u8),
    Transport(u8),
    Bytes(u8),
    Garbage(Vec<u8>),
    Advance(u64),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        (0u8..8).prop_map(Input::Command),
        (0u8..3).prop_map(Input::Transport),
        (0u8..7).prop_map(Input::Bytes),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Input::Garbage),
        (0u64..400_000).prop_map(Input::Advance),
    ]
}

fn open(hold: u16) -> Vec<u8> {
    Message::Open(Open::new(
        Asn(AS_B),
        hold,
        ID_B,
        vec![Capability::FourOctetAs(Asn(AS_B))],
    ))
    .to_bytes(&EncodeCtx::default())
    .map(|b| b.to_vec())
    .unwrap_or_default()
}

fn sample(i: u8) -> Vec<u8> {
    let mut keepalive = vec![0xff; 16];
    keepalive.extend_from_slice(&[0, 19, 4]);
    match i {
        0 => keepalive,
        1 => open(90),
        2 => open(0),
        3 => open(1),
        4 => {
            let mut n = vec![0xff; 16];
            n.extend_from_slice(&[0, 21, 3, 6, 2]);
            n
        }
        5 => Message::Update(Update::withdraw(vec![Nlri::from(
            "10.0.0.0/8".parse::<ipnet::IpNet>().unwrap_or_default(),
        )]))
        .to_bytes(&EncodeCtx::default())
        .map(|b| b.to_vec())
        .unwrap_or_default(),
        _ => keepalive[..7].to_vec(),
    }
}

fn command(i: u8) -> Command {
    match i {
        0 => Command::Start,
        1 => Command::StartPassive,
        2 => Command::Stop { message: None },
        3 => Command::Stop {
            message: Some("bye".to_owned()),
        },
        4 => Command::MaxPrefixExceeded {
            family: Family::IPV4_UNICAST,
            limit: 10,
        },
        5 => Command::BfdDown,
        6 => Command::CollisionDump,
        _ => Command::SendUpdate(Update::withdraw(Vec::new())),
    }
}

fn check(s: &mut Session) -> Result<(), TestCaseError> {
    while s.poll_transmit().is_some() {}
    while s.poll_event().is_some() {}
    let state = s.state();
    for t in s.timers().armed() {
        prop_assert!(state.uses(t), "{state:?} has {t:?} armed");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_inputs_never_panic_nor_arm_unused_timers(
        profile in 0usize..5,
        delay_open in any::<bool>(),
        inputs in proptest::collection::vec(input(), 1..120),
    ) {
        let mut cfg = cfg_a(Profile::all()[profile]);
        cfg.delay_open = delay_open;
        cfg.max_prefix_restart = Some(Duration::from_secs(60));
        let mut s = session(cfg, 1);
        let mut now = Instant::ZERO;
        for i in inputs {
            match i {
                Input::Command(c) => {
                    // SendUpdate may be refused outside Established; that is not a failure.
                    let _ = s.handle_command(now, command(c));
                }
                Input::Transport(t) => s.handle_transport(now, match t {
                    0 => Transport::Connected,
                    1 => Transport::ConnectFailed,
                    _ => Transport::Closed,
                }),
                Input::Bytes(b) => s.handle_bytes(now, &sample(b)),
                Input::Garbage(g) => s.handle_bytes(now, &g),
                Input::Advance(ms) => {
                    now += Duration::from_millis(ms);
                    if s.poll_timeout().is_some_and(|t| t <= now) {
                        s.handle_timeout(now);
                    }
                    // Every deadline left is in the future.
                    prop_assert!(s.poll_timeout().is_none_or(|t| t > now));
                }
            }
            check(&mut s)?;
        }
    }

    #[test]
    fn random_pair_operations_keep_timers_consistent(
        seed in any::<u64>(),
        ops in proptest::collection::vec((0u8..6, 0u64..200_000), 1..40),
    ) {
        let mut p = pair(cfg_a(Profile::BIRD), cfg_b(Profile::FRR), seed);
        for (op, ms) in ops {
            match op {
                0 => p.command(Side::A, Command::Start),
                1 => p.command(Side::B, Command::StartPassive),
                2 => p.link_up = !p.link_up,
                3 => p.command(Side::A, Command::BfdDown),
                4 => p.command(Side::B, Command::Stop { message: None }),
                _ => p.command(Side::A, Command::MaxPrefixExceeded {
                    family: Family::IPV4_UNICAST,
                    limit: 1,
                }),
            }
            p.drive_for(Duration::from_millis(ms));
            for e in [&p.a, &p.b] {
                let state = e.session.state();
                for t in e.session.timers().armed() {
                    prop_assert!(state.uses(t), "{state:?} has {t:?} armed");
                }
            }
        }
    }
}
