//! Two speakers joined by an in-memory network in virtual time: a TCP-like pipe for BGP (one
//! connection, ordered bytes, one latency) and a lossy datagram channel for BFD.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use sim_core::time::{Duration, Instant};

use super::*;
use crate::rib::adj_rib_in::MaxPrefix;
use crate::wire::{CeaseSubcode, ErrorCode, Notification};

const PEER: PeerId = PeerId(1);

fn parse_net(s: &str) -> IpNet {
    s.parse()
        .unwrap_or_else(|e| panic!("bad test prefix {s}: {e}"))
}

fn addr(side: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, u8::try_from(side + 1).unwrap_or(0))
}

fn asn(side: usize) -> u32 {
    65_001 + u32::try_from(side).unwrap_or(0)
}

#[derive(Debug)]
enum Delivery {
    Bfd(Vec<u8>),
    Bytes(Vec<u8>),
    Closed,
    Connected,
}

/// The two-speaker network.
struct Net {
    now: Instant,
    speakers: [Speaker; 2],
    /// (time, sequence) → (receiving side, delivery).
    queue: BTreeMap<(Instant, u64), (usize, Delivery)>,
    seq: u64,
    latency: Duration,
    connected: bool,
    /// Drop BGP bytes and BFD packets silently (a cut inside the provider).
    silent: bool,
    events: [Vec<(Instant, SpeakerEvent)>; 2],
}

impl Net {
    /// Two speakers in AS 65001 and 65002, each with the other as `PEER`.
    fn new(tweak: impl Fn(usize, &mut PeerSpec)) -> Self {
        let speakers = [0usize, 1].map(|side| {
            let mut speaker = Speaker::new(RibConfig::new(asn(side), addr(side)));
            let other = 1 - side;
            let mut spec = PeerSpec {
                session: fsm::Config::new(asn(side), asn(other), addr(side)),
                rib: PeerConfig::new(asn(other), IpAddr::V4(addr(other)), IpAddr::V4(addr(side))),
                bfd: None,
                seed: 7 + u64::try_from(side).unwrap_or(0),
            };
            tweak(side, &mut spec);
            if let Err(e) = speaker.add_peer(Instant::ZERO, PEER, spec) {
                panic!("add_peer: {e}");
            }
            speaker
        });
        let mut net = Self {
            now: Instant::ZERO,
            speakers,
            queue: BTreeMap::new(),
            seq: 0,
            latency: Duration::from_millis(5),
            connected: false,
            silent: false,
            events: [Vec::new(), Vec::new()],
        };
        net.pump();
        net
    }

    fn send(&mut self, to: usize, delivery: Delivery) {
        self.seq += 1;
        self.queue.insert(
            (self.now.saturating_add(self.latency), self.seq),
            (to, delivery),
        );
    }

    /// Moves every output of both speakers into the network and the event logs.
    fn pump(&mut self) {
        for side in 0..2 {
            while let Some(t) = self.speakers[side].poll_transmit() {
                match t.kind {
                    TransmitKind::Bgp(fsm::Transmit::Connect) => {
                        if !self.connected {
                            self.connected = true;
                            self.send(side, Delivery::Connected);
                            self.send(1 - side, Delivery::Connected);
                        }
                    }
                    TransmitKind::Bgp(fsm::Transmit::Bytes(bytes)) => {
                        if self.connected && !self.silent {
                            self.send(1 - side, Delivery::Bytes(bytes));
                        }
                    }
                    TransmitKind::Bgp(fsm::Transmit::Close) => {
                        if self.connected {
                            self.connected = false;
                            // A silent cut loses the FIN too.
                            if !self.silent {
                                self.send(1 - side, Delivery::Closed);
                            }
                        }
                    }
                    TransmitKind::Bfd(packet) => {
                        if !self.silent {
                            self.send(1 - side, Delivery::Bfd(packet.to_vec()));
                        }
                    }
                    // One connection in this network: never a second session.
                    TransmitKind::BgpSecond(_) | TransmitKind::SwapConnections => {}
                }
            }
            while let Some(event) = self.speakers[side].poll_event() {
                self.events[side].push((self.now, event));
            }
        }
    }

    /// Advances to the next delivery or timer no later than `until`; false if there is none.
    fn step(&mut self, until: Instant) -> bool {
        let arrival = self.queue.keys().next().map(|k| k.0);
        let timers = self.speakers.iter().filter_map(Speaker::poll_timeout).min();
        let Some(next) = [arrival, timers]
            .into_iter()
            .flatten()
            .min()
            .filter(|t| *t <= until)
        else {
            return false;
        };
        self.now = next;
        if arrival == Some(next) {
            if let Some((_, (to, delivery))) = self.queue.pop_first() {
                let speaker = &mut self.speakers[to];
                let result = match delivery {
                    Delivery::Connected => {
                        speaker.handle_transport(next, PEER, Transport::Connected)
                    }
                    Delivery::Closed => speaker.handle_transport(next, PEER, Transport::Closed),
                    Delivery::Bytes(bytes) => speaker.handle_bytes(next, PEER, &bytes),
                    Delivery::Bfd(packet) => {
                        speaker.handle_bfd_packet(next, PEER, &packet).map(|_| ())
                    }
                };
                assert_eq!(result, Ok(()));
            }
        } else {
            for speaker in &mut self.speakers {
                speaker.handle_timeout(next);
            }
        }
        self.pump();
        true
    }

    fn run_until(&mut self, until: Instant) {
        while self.step(until) {}
        self.now = self.now.max(until);
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(self.now.saturating_add(d));
    }

    fn start(&mut self) {
        for side in 0..2 {
            let now = self.now;
            assert_eq!(
                self.speakers[side].handle_command(now, PEER, Command::Start),
                Ok(())
            );
        }
        self.pump();
    }

    fn state(&self, side: usize) -> Option<State> {
        self.speakers[side].session(PEER).map(fsm::Session::state)
    }

    fn best_from_peer(&self, side: usize, prefix: &str) -> bool {
        self.speakers[side]
            .rib()
            .loc_rib()
            .best(&parse_net(prefix))
            .is_some_and(|p| p.source == PEER)
    }

    /// Times at which `side` saw a FIB change for `prefix`, with the number of next hops.
    fn fib(&self, side: usize, prefix: &str) -> Vec<(Instant, usize)> {
        self.events[side]
            .iter()
            .filter_map(|(t, e)| match e {
                SpeakerEvent::FibChanged(c) if c.prefix == parse_net(prefix) => {
                    Some((*t, c.next_hops.len()))
                }
                _ => None,
            })
            .collect()
    }

    fn established_at(&self, side: usize) -> Option<Instant> {
        self.events[side].iter().find_map(|(t, e)| {
            matches!(
                e,
                SpeakerEvent::Session {
                    event: SessionEvent::Established(_),
                    ..
                }
            )
            .then_some(*t)
        })
    }

    fn originate(&mut self, side: usize, prefix: &str) {
        let now = self.now;
        self.speakers[side].originate(now, parse_net(prefix), PathAttributes::new());
        self.pump();
    }
}

#[test]
fn speakers_exchange_originated_routes() {
    let mut net = Net::new(|_, _| {});
    net.originate(0, "192.0.2.0/24");
    net.originate(1, "198.51.100.0/24");
    net.start();
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.state(0), Some(State::Established));
    assert_eq!(net.state(1), Some(State::Established));
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    assert!(net.best_from_peer(0, "198.51.100.0/24"));
    let best = net.speakers[1]
        .rib()
        .loc_rib()
        .best(&parse_net("192.0.2.0/24"))
        .cloned();
    assert_eq!(best.as_ref().map(|p| p.next_hop), Some(IpAddr::V4(addr(0))));
    assert_eq!(
        best.and_then(|p| p.attrs.as_path().cloned()),
        Some(crate::wire::AsPath::from_sequence(vec![crate::wire::Asn(
            asn(0)
        )]))
    );
    assert_eq!(net.fib(1, "192.0.2.0/24").len(), 1);
}

#[test]
fn later_changes_wait_for_the_mrai_timer_and_travel_together() {
    let mut net = Net::new(|_, _| {});
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    let first = net.fib(1, "192.0.2.0/24").first().map(|f| f.0);
    let Some(first) = first else {
        panic!("first prefix never arrived")
    };
    net.run_for(Duration::from_secs(1));
    net.originate(0, "198.51.100.0/24");
    net.run_for(Duration::from_secs(1));
    net.originate(0, "203.0.113.0/24");
    net.run_for(Duration::from_secs(60));
    let second = net.fib(1, "198.51.100.0/24");
    let third = net.fib(1, "203.0.113.0/24");
    assert_eq!(second.len(), 1);
    assert_eq!(
        second.first().map(|f| f.0),
        third.first().map(|f| f.0),
        "one batch"
    );
    // RFC 4271 §9.2.1.1 with §10's jitter: the eBGP MRAI of 30 s, reduced by at most 25 %.
    let gap = second.first().map(|f| f.0.saturating_duration_since(first));
    assert!(
        gap.is_some_and(|g| g >= Duration::from_millis(22_500) && g <= Duration::from_secs(31)),
        "gap {gap:?}"
    );
}

#[test]
fn stopping_a_session_withdraws_its_routes_on_the_peer() {
    let mut net = Net::new(|_, _| {});
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    let now = net.now;
    assert_eq!(
        net.speakers[0].handle_command(now, PEER, Command::Stop { message: None }),
        Ok(())
    );
    net.pump();
    net.run_for(Duration::from_secs(1));
    assert_ne!(net.state(1), Some(State::Established));
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    assert_eq!(
        net.fib(1, "192.0.2.0/24").last().map(|f| f.1),
        Some(0),
        "FIB entry removed"
    );
}

#[test]
fn add_path_sessions_carry_routes_with_path_identifiers() {
    // RFC 7911 both ways on IPv4 unicast: every UPDATE carries Path Identifiers (the RIB keeps
    // one path per prefix and sends it with identifier 0).
    let mut net = Net::new(|_, spec| {
        spec.session.add_path = vec![crate::wire::AddPathFamily {
            family: Family::IPV4_UNICAST,
            mode: crate::wire::AddPathMode::SEND_RECEIVE,
        }];
    });
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    let negotiated = net.events[1]
        .iter()
        .find_map(|(_, e)| match e {
            SpeakerEvent::Session {
                event: SessionEvent::Established(n),
                ..
            } => Some(n.clone()),
            _ => None,
        })
        .expect("side 1 established");
    assert_eq!(negotiated.decode.add_path, vec![Family::IPV4_UNICAST]);
    assert_eq!(negotiated.encode.add_path, vec![Family::IPV4_UNICAST]);
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    // Withdrawal (the session going down) reaches the peer too.
    let now = net.now;
    assert_eq!(
        net.speakers[0].handle_command(now, PEER, Command::Stop { message: None }),
        Ok(())
    );
    net.pump();
    net.run_for(Duration::from_secs(1));
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
}

#[test]
fn stop_with_peer_deconfigured_sends_cease_6_3_and_withdraws_the_routes() {
    let mut net = Net::new(|_, _| {});
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    let now = net.now;
    let stop = Command::stop_with(CeaseSubcode::PEER_DECONFIGURED);
    assert_eq!(net.speakers[0].handle_command(now, PEER, stop), Ok(()));
    net.pump();
    net.run_for(Duration::from_secs(1));
    // RFC 4486 §4: Cease, subcode 3 "Peer De-configured", no data.
    let expected = Notification::cease(CeaseSubcode::PEER_DECONFIGURED);
    let received = net.events[1].iter().any(|(_, e)| {
        matches!(e, SpeakerEvent::Session { event: SessionEvent::NotificationReceived(n), .. } if *n == expected)
    });
    assert!(received, "the peer receives Cease 6/3: {:?}", net.events[1]);
    assert_eq!(net.state(0), Some(State::Idle));
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
}

#[test]
fn max_prefix_breach_sends_cease_6_1_and_drops_the_routes() {
    let mut net = Net::new(|side, spec| {
        if side == 1 {
            spec.rib.max_prefix = MaxPrefix {
                ipv4: Some(1),
                ipv6: None,
            };
        }
    });
    net.originate(0, "192.0.2.0/24");
    net.originate(0, "198.51.100.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    let breach = net.events[1].iter().any(|(_, e)| {
        matches!(
            e,
            SpeakerEvent::MaxPrefixExceeded {
                peer: PEER,
                family: IpFamily::Ipv4,
                limit: 1
            }
        )
    });
    assert!(breach);
    // RFC 4486 §4: Cease, subcode 1, data AFI 1, SAFI 1, limit 1.
    let expected = Notification::new(
        ErrorCode::CEASE,
        CeaseSubcode::MAXIMUM_NUMBER_OF_PREFIXES_REACHED.0,
        vec![0, 1, 1, 0, 0, 0, 1],
    );
    let received = net.events[0].iter().any(|(_, e)| {
        matches!(e, SpeakerEvent::Session { event: SessionEvent::NotificationReceived(n), .. } if *n == expected)
    });
    assert!(received, "the peer receives Cease 6/1: {:?}", net.events[0]);
    assert_ne!(net.state(1), Some(State::Established));
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    assert!(net.speakers[1].rib().loc_rib().is_empty());
}

#[test]
fn a_limit_lowered_below_what_is_held_closes_the_session_at_once() {
    let mut net = Net::new(|_, _| {});
    net.originate(0, "192.0.2.0/24");
    net.originate(0, "198.51.100.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.state(1), Some(State::Established));
    // Raising the limit, or lowering it to exactly what is held, changes nothing.
    for limit in [10, 2] {
        let limits = MaxPrefix {
            ipv4: Some(limit),
            ipv6: None,
        };
        let now = net.now;
        assert!(net.speakers[1].set_max_prefix(now, PEER, limits).is_ok());
        net.pump();
        net.run_for(Duration::from_secs(1));
        assert_eq!(net.state(1), Some(State::Established), "limit {limit}");
    }
    let now = net.now;
    let one = MaxPrefix {
        ipv4: Some(1),
        ipv6: None,
    };
    assert!(net.speakers[1].set_max_prefix(now, PEER, one).is_ok());
    net.pump();
    net.run_for(Duration::from_secs(1));
    // RFC 4486 §4: Cease 6/1 with AFI 1, SAFI 1 and the limit, 1.
    let expected = Notification::new(
        ErrorCode::CEASE,
        CeaseSubcode::MAXIMUM_NUMBER_OF_PREFIXES_REACHED.0,
        vec![0, 1, 1, 0, 0, 0, 1],
    );
    let received = net.events[0].iter().any(|(_, e)| {
        matches!(e, SpeakerEvent::Session { event: SessionEvent::NotificationReceived(n), .. } if *n == expected)
    });
    assert!(received, "the peer receives Cease 6/1: {:?}", net.events[0]);
    assert_ne!(net.state(1), Some(State::Established));
}

#[test]
fn bfd_down_takes_bgp_down_long_before_the_hold_timer() {
    let mut net = Net::new(|side, spec| {
        spec.bfd = Some(bfd::Config {
            local_discriminator: 100 + u32::try_from(side).unwrap_or(0),
            ..bfd::Config::default()
        });
    });
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(10));
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    assert!(net.established_at(1).is_some());
    assert_eq!(
        net.speakers[1].bfd(PEER).map(bfd::Session::state),
        Some(bfd::packet::State::Up)
    );
    // A silent cut: nothing arrives any more, interfaces stay up.
    net.silent = true;
    let cut = net.now;
    net.run_for(Duration::from_secs(5));
    let withdrawn = net.fib(1, "192.0.2.0/24").last().copied();
    let Some((at, 0)) = withdrawn else {
        panic!("route not withdrawn: {withdrawn:?}")
    };
    // Detection time 3 × 300 ms (RFC 5880 §6.8.4), far below the 90 s hold time.
    let detection = at.saturating_duration_since(cut);
    assert!(
        detection <= Duration::from_millis(1_000),
        "detected after {detection}"
    );
    assert_ne!(net.state(1), Some(State::Established));
}

#[test]
fn refuses_peers_whose_session_and_rib_disagree_on_ases() {
    let mut speaker = Speaker::new(RibConfig::new(65_001, addr(0)));
    let spec = PeerSpec {
        session: fsm::Config::new(65_001, 65_002, addr(0)),
        rib: PeerConfig::new(65_003, IpAddr::V4(addr(1)), IpAddr::V4(addr(0))),
        bfd: None,
        seed: 1,
    };
    assert_eq!(
        speaker.add_peer(Instant::ZERO, PEER, spec.clone()),
        Err(SpeakerError::AsMismatch(PEER))
    );
    let good = PeerSpec {
        rib: PeerConfig {
            remote_as: 65_002,
            ..spec.rib.clone()
        },
        ..spec
    };
    assert_eq!(speaker.add_peer(Instant::ZERO, PEER, good.clone()), Ok(()));
    assert_eq!(
        speaker.add_peer(Instant::ZERO, PEER, good),
        Err(SpeakerError::DuplicatePeer(PEER))
    );
    assert_eq!(speaker.peer_ids().collect::<Vec<_>>(), vec![PEER]);
}

#[test]
fn export_prepend_change_readvertises_with_a_longer_path_and_keeps_the_session() {
    let mut net = Net::new(|_, _| {});
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    let path_len = |net: &Net| {
        net.speakers[1]
            .rib()
            .loc_rib()
            .best(&parse_net("192.0.2.0/24"))
            .and_then(|p| p.attrs.as_path().map(crate::wire::AsPath::path_len))
    };
    assert_eq!(path_len(&net), Some(1));
    let mut policy = net.speakers[0]
        .export_policy(PEER)
        .cloned()
        .unwrap_or_default();
    policy.prepend = 3;
    let now = net.now;
    assert_eq!(net.speakers[0].set_export_policy(now, PEER, policy), Ok(()));
    net.pump();
    // The change waits for the MRAI timer (at most 30 s) like any other.
    net.run_for(Duration::from_secs(31));
    assert_eq!(path_len(&net), Some(4), "65001 prepended three more times");
    assert_eq!(net.state(0), Some(State::Established));
    assert_eq!(net.state(1), Some(State::Established));

    // A prefix list that denies the prefix withdraws it.
    let mut policy = net.speakers[0]
        .export_policy(PEER)
        .cloned()
        .unwrap_or_default();
    policy.prefix_list = Some(crate::rib::prefix_list::PrefixList::default());
    let now = net.now;
    assert_eq!(net.speakers[0].set_export_policy(now, PEER, policy), Ok(()));
    net.pump();
    net.run_for(Duration::from_secs(31));
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    assert_eq!(
        net.speakers[0].set_export_policy(now, PeerId(99), ExportPolicy::default()),
        Err(SpeakerError::UnknownPeer(PeerId(99)))
    );
}

#[test]
fn originate_all_advertises_every_prefix_in_one_batch() {
    let mut net = Net::new(|_, _| {});
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    let now = net.now;
    let many: Vec<(IpNet, PathAttributes)> = (0..50u8)
        .map(|k| (parse_net(&format!("10.0.{k}.0/24")), PathAttributes::new()))
        .collect();
    net.speakers[0].originate_all(now, many);
    net.pump();
    // One MRAI interval at most (the initial advertisement armed it), then all at once.
    net.run_for(Duration::from_secs(31));
    let first = net.fib(1, "10.0.0.0/24");
    let last = net.fib(1, "10.0.49.0/24");
    assert_eq!(first.len(), 1);
    assert_eq!(
        first.first().map(|f| f.0),
        last.first().map(|f| f.0),
        "one batch, not one prefix per MRAI interval"
    );
    let now = net.now;
    let gone: Vec<IpNet> = (0..50u8)
        .map(|k| parse_net(&format!("10.0.{k}.0/24")))
        .collect();
    net.speakers[0].withdraw_originated_all(now, &gone);
    net.pump();
    net.run_for(Duration::from_secs(31));
    assert!(!net.best_from_peer(1, "10.0.0.0/24"));
    assert!(!net.best_from_peer(1, "10.0.49.0/24"));
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
}

#[test]
fn routes_of_a_family_not_negotiated_are_never_advertised() {
    // Default sessions carry IPv4 unicast only: an IPv6 route stays home (RFC 4760 §8),
    // even with an IPv6 next hop at hand.
    let mut net = Net::new(|side, spec| {
        spec.rib.local_v6 = Some(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0xff,
            0,
            0,
            0,
            0,
            1 + side as u16,
        ));
    });
    net.originate(0, "192.0.2.0/24");
    net.originate(0, "2001:db8:1::/48");
    net.start();
    net.run_for(Duration::from_secs(10));
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    assert!(!net.best_from_peer(1, "2001:db8:1::/48"));
    // Both ends announcing IPv6 unicast too (and a next hop to put in MP_REACH_NLRI): the
    // IPv6 route crosses.
    let mut net = Net::new(|side, spec| {
        spec.session.families = vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST];
        spec.rib.local_v6 = Some(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0xff,
            0,
            0,
            0,
            0,
            1 + side as u16,
        ));
    });
    net.originate(0, "2001:db8:1::/48");
    net.start();
    net.run_for(Duration::from_secs(10));
    assert!(net.best_from_peer(1, "2001:db8:1::/48"));
}

/// A lone speaker of `side` with the other side as `PEER`.
fn lone(side: usize) -> Speaker {
    let other = 1 - side;
    let mut speaker = Speaker::new(RibConfig::new(asn(side), addr(side)));
    let spec = PeerSpec {
        session: fsm::Config::new(asn(side), asn(other), addr(side)),
        rib: PeerConfig::new(asn(other), IpAddr::V4(addr(other)), IpAddr::V4(addr(side))),
        bfd: None,
        seed: 7,
    };
    if let Err(e) = speaker.add_peer(Instant::ZERO, PEER, spec) {
        panic!("add_peer: {e}");
    }
    speaker
}

fn drain(speaker: &mut Speaker) -> Vec<TransmitKind> {
    std::iter::from_fn(|| speaker.poll_transmit())
        .map(|t| t.kind)
        .collect()
}

/// The OPEN that `side` sends on a fresh connection.
fn open_of(side: usize) -> Vec<u8> {
    let mut s = lone(side);
    let t = Instant::ZERO;
    let _ = s.handle_command(t, PEER, Command::StartPassive);
    let _ = s.handle_transport(t, PEER, Transport::Connected);
    drain(&mut s)
        .into_iter()
        .find_map(|k| match k {
            TransmitKind::Bgp(fsm::Transmit::Bytes(b)) => Some(b),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no OPEN"))
}

/// Side `side` with its peer's session on an outgoing connection (OPEN sent) and a second,
/// incoming connection taken as a collision.
fn colliding(side: usize) -> Speaker {
    let t = Instant::ZERO;
    let mut s = lone(side);
    let _ = s.handle_command(t, PEER, Command::Start);
    let _ = s.handle_transport(t, PEER, Transport::Connected);
    assert_eq!(
        s.handle_second_connection(t, PEER, Direction::Incoming),
        Ok(true)
    );
    drain(&mut s);
    while s.poll_event().is_some() {}
    s
}

/// Whether `k` writes a NOTIFICATION Cease / Connection Collision Resolution (6/7) on the
/// second connection (octet 18 is the type, 19-20 code and subcode: RFC 4271 §4.1, §4.5).
fn is_cease_6_7_on_second(k: &TransmitKind) -> bool {
    matches!(k, TransmitKind::BgpSecond(fsm::Transmit::Bytes(b))
        if b.get(18..21) == Some(&[3, 6, 7][..]))
}

#[test]
fn the_lower_identifier_keeps_the_incoming_connection_swapped_in_and_dumps_its_own() {
    // Side 0 is 10.0.0.1, the lower identifier: §6.8 keeps the connection the peer opened.
    let mut s = colliding(0);
    let _ = s.handle_second_bytes(Instant::ZERO, PEER, &open_of(1));
    let out = drain(&mut s);
    let swap = out
        .iter()
        .position(|k| *k == TransmitKind::SwapConnections)
        .unwrap_or_else(|| panic!("no swap: {out:?}"));
    // After the swap, the old connection (ours, now second) gets Cease 6/7 and is closed.
    let after = out.get(swap + 1..).unwrap_or_default();
    assert!(after.first().is_some_and(is_cease_6_7_on_second), "{out:?}");
    assert_eq!(
        after.get(1),
        Some(&TransmitKind::BgpSecond(fsm::Transmit::Close))
    );
    let events: Vec<SpeakerEvent> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(events.contains(&SpeakerEvent::CollisionResolved {
        peer: PEER,
        kept: Direction::Incoming,
    }));
    // The winner is now the peer's session, in OpenConfirm after the peer's OPEN.
    assert_eq!(
        s.session(PEER).map(fsm::Session::state),
        Some(State::OpenConfirm)
    );
}

#[test]
fn the_higher_identifier_keeps_its_outgoing_connection_and_dumps_the_incoming_one() {
    // Side 1 is 10.0.0.2, the higher identifier: its own connection survives, no swap.
    let mut s = colliding(1);
    let _ = s.handle_second_bytes(Instant::ZERO, PEER, &open_of(0));
    let out = drain(&mut s);
    assert!(!out.contains(&TransmitKind::SwapConnections), "{out:?}");
    assert!(out.iter().any(is_cease_6_7_on_second), "{out:?}");
    assert_eq!(
        out.last(),
        Some(&TransmitKind::BgpSecond(fsm::Transmit::Close))
    );
    let events: Vec<SpeakerEvent> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(events.contains(&SpeakerEvent::CollisionResolved {
        peer: PEER,
        kept: Direction::Outgoing,
    }));
    // The peer's session still waits for the OPEN on its own connection.
    assert_eq!(
        s.session(PEER).map(fsm::Session::state),
        Some(State::OpenSent)
    );
}

#[test]
fn a_second_connection_is_refused_while_established_or_idle() {
    let t = Instant::ZERO;
    // Idle: §8.2.2 refuses every incoming connection.
    let mut idle = lone(0);
    assert_eq!(
        idle.handle_second_connection(t, PEER, Direction::Incoming),
        Ok(false)
    );
    // Established: "causes closing of the newly created connection" (§6.8).
    let mut net = Net::new(|_, _| {});
    net.start();
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.state(0), Some(State::Established));
    assert_eq!(
        net.speakers[0].handle_second_connection(net.now, PEER, Direction::Incoming),
        Ok(false)
    );
}

/// Graceful restart on both sides (RFC 4724), with the N bit (RFC 8538) when `notification`;
/// hold time 9 s so that a silent cut is detected quickly.
fn graceful(restart: u64, notification: bool) -> impl Fn(usize, &mut PeerSpec) {
    move |_, spec| {
        spec.session.hold_time = Some(Duration::from_secs(9));
        spec.session.graceful_restart = Some(Duration::from_secs(restart));
        spec.session.graceful_restart_notification = notification;
    }
}

/// Stale routes kept: (time, routes).
type Kept = Vec<(Instant, usize)>;
/// Stale routes withdrawn: (time, routes, why).
type Flushed = Vec<(Instant, usize, StaleFlush)>;

/// The stale events of `side`.
fn stale_events(net: &Net, side: usize) -> (Kept, Flushed) {
    let mut kept = Vec::new();
    let mut flushed = Vec::new();
    for (t, e) in &net.events[side] {
        match e {
            SpeakerEvent::StaleRoutesKept { routes, .. } => kept.push((*t, *routes)),
            SpeakerEvent::StaleRoutesFlushed { routes, why, .. } => {
                flushed.push((*t, *routes, *why));
            }
            _ => {}
        }
    }
    (kept, flushed)
}

/// A connection lost without NOTIFICATION at `side` (the peer's side sees nothing: the path
/// is cut silently).
fn lose_connection(net: &mut Net, side: usize) {
    net.silent = true;
    let now = net.now;
    assert_eq!(
        net.speakers[side].handle_transport(now, PEER, Transport::Closed),
        Ok(())
    );
    net.pump();
}

#[test]
fn graceful_restart_negotiated_carries_the_restart_time_families_and_n_bit() {
    let mut net = Net::new(graceful(120, true));
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    let negotiated = net.speakers[1]
        .session(PEER)
        .and_then(|s| s.negotiated().cloned());
    let gr = negotiated.and_then(|n| n.peer_graceful_restart);
    let Some(gr) = gr else {
        panic!("graceful restart not negotiated")
    };
    assert_eq!(gr.restart_time, Duration::from_secs(120));
    assert!(gr.notification);
    assert!(gr.preserves(Family::IPV4_UNICAST));
    assert!(!gr.preserves(Family::IPV6_UNICAST));
    // Without it on one side, nothing is in force.
    let mut net = Net::new(|side, spec| {
        if side == 0 {
            spec.session.graceful_restart = Some(Duration::from_secs(120));
        }
    });
    net.start();
    net.run_for(Duration::from_secs(5));
    let n = net.speakers[1]
        .session(PEER)
        .and_then(|s| s.negotiated().cloned());
    assert!(n.is_some_and(|n| !n.graceful_restart && n.peer_graceful_restart.is_none()));
}

#[test]
fn a_lost_connection_keeps_the_peers_routes_stale_for_its_restart_time() {
    let mut net = Net::new(graceful(120, false));
    net.originate(0, "192.0.2.0/24");
    net.originate(0, "198.51.100.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    let before = net.fib(1, "192.0.2.0/24").len();
    lose_connection(&mut net, 1);
    let lost = net.now;
    assert_ne!(net.state(1), Some(State::Established));
    // RFC 4724 §4.2: kept, marked stale, still forwarded on.
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    assert_eq!(net.speakers[1].rib().stale_count(PEER), 2);
    net.run_for(Duration::from_secs(119));
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    assert_eq!(net.fib(1, "192.0.2.0/24").len(), before);
    net.run_for(Duration::from_secs(2));
    // ... and withdrawn when the restart time runs out.
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    let (kept, flushed) = stale_events(&net, 1);
    assert_eq!(kept, vec![(lost, 2)]);
    let restart = lost + Duration::from_secs(120);
    assert_eq!(flushed, vec![(restart, 2, StaleFlush::RestartTimeExpired)]);
    assert_eq!(net.fib(1, "192.0.2.0/24").last(), Some(&(restart, 0)));
}

#[test]
fn without_graceful_restart_a_lost_connection_withdraws_at_once() {
    let mut net = Net::new(|_, spec| spec.session.hold_time = Some(Duration::from_secs(9)));
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    lose_connection(&mut net, 1);
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    assert_eq!(net.fib(1, "192.0.2.0/24").last(), Some(&(net.now, 0)));
    assert_eq!(stale_events(&net, 1), (Vec::new(), Vec::new()));
}

#[test]
fn a_hold_timer_expiry_keeps_stale_routes_only_with_the_n_bit() {
    for notification in [false, true] {
        let mut net = Net::new(graceful(120, notification));
        net.originate(0, "192.0.2.0/24");
        net.start();
        net.run_for(Duration::from_secs(5));
        net.silent = true;
        let cut = net.now;
        net.run_for(Duration::from_secs(10));
        assert_ne!(net.state(1), Some(State::Established));
        let (kept, _) = stale_events(&net, 1);
        // RFC 4724 alone: the NOTIFICATION 4/0 sent means normal procedures (withdrawn);
        // RFC 8538 §4 with the N bit: retained.
        assert_eq!(
            kept.len(),
            usize::from(notification),
            "N bit {notification}"
        );
        assert_eq!(net.best_from_peer(1, "192.0.2.0/24"), notification);
        if let Some((at, 1)) = kept.first().copied() {
            let detection = at.saturating_duration_since(cut);
            assert!(detection <= Duration::from_secs(9), "{detection}");
            net.run_for(Duration::from_secs(120));
            assert!(!net.best_from_peer(1, "192.0.2.0/24"));
            assert_eq!(
                net.fib(1, "192.0.2.0/24").last(),
                Some(&(at + Duration::from_secs(120), 0))
            );
        }
    }
}

#[test]
fn bfd_down_and_hard_ceases_withdraw_even_with_graceful_restart() {
    // Our BFD down (RFC 4724 §4.2's MAY: forwarding state not viable).
    let mut net = Net::new(|side, spec| {
        graceful(120, true)(side, spec);
        spec.bfd = Some(bfd::Config {
            local_discriminator: 100 + u32::try_from(side).unwrap_or(0),
            ..bfd::Config::default()
        });
    });
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    net.silent = true;
    net.run_for(Duration::from_secs(2));
    assert_ne!(net.state(1), Some(State::Established));
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    assert!(stale_events(&net, 1).0.is_empty());
    // An administrative shutdown received (RFC 8538 §5: MUST be a Hard Reset).
    let mut net = Net::new(graceful(120, true));
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    let now = net.now;
    assert_eq!(
        net.speakers[0].handle_command(now, PEER, Command::Stop { message: None }),
        Ok(())
    );
    net.pump();
    net.run_for(Duration::from_secs(1));
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    assert!(stale_events(&net, 1).0.is_empty());
}

#[test]
fn end_of_rib_after_reestablishment_flushes_what_the_peer_did_not_send_again() {
    let mut net = Net::new(graceful(300, true));
    net.originate(0, "192.0.2.0/24");
    net.originate(0, "198.51.100.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    net.silent = true;
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.speakers[1].rib().stale_count(PEER), 2);
    // While the session is down, the peer stops originating one of the two.
    let now = net.now;
    net.speakers[0].withdraw_originated_all(now, &[parse_net("198.51.100.0/24")]);
    net.pump();
    net.silent = false;
    net.run_for(Duration::from_secs(60));
    assert_eq!(net.state(1), Some(State::Established));
    // The route sent again replaced its stale copy; the other went at the End-of-RIB.
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    assert!(!net.best_from_peer(1, "198.51.100.0/24"));
    assert_eq!(net.speakers[1].rib().stale_count(PEER), 0);
    let (_, flushed) = stale_events(&net, 1);
    assert_eq!(flushed.len(), 1, "{flushed:?}");
    assert_eq!((flushed[0].1, flushed[0].2), (1, StaleFlush::EndOfRib));
    // The refreshed route never left the FIB.
    assert!(
        net.fib(1, "192.0.2.0/24")
            .iter()
            .all(|(_, hops)| *hops == 1)
    );
}

/// The NOTIFICATIONs `side` sent (`sent`) or received, as (code, subcode, data).
fn notifications(net: &Net, side: usize, sent: bool) -> Vec<(u8, u8, Vec<u8>)> {
    net.events[side]
        .iter()
        .filter_map(|(_, e)| match e {
            SpeakerEvent::Session {
                event: SessionEvent::NotificationSent(n),
                ..
            } if sent => Some((n.code.0, n.subcode, n.data.clone())),
            SpeakerEvent::Session {
                event: SessionEvent::NotificationReceived(n),
                ..
            } if !sent => Some((n.code.0, n.subcode, n.data.clone())),
            _ => None,
        })
        .collect()
}

/// Established with graceful restart (N bit as `notification`, Administrative Reset sent hard
/// as `hard_admin_reset` on side 0), side 0 originating 192.0.2.0/24, then side 0 stops the
/// session with `command`.
fn stopped_by_side_0(notification: bool, hard_admin_reset: bool, command: Command) -> Net {
    let mut net = Net::new(move |side, spec| {
        graceful(120, notification)(side, spec);
        spec.session.hard_administrative_reset = side == 0 && hard_admin_reset;
    });
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.state(1), Some(State::Established));
    let now = net.now;
    assert_eq!(net.speakers[0].handle_command(now, PEER, command), Ok(()));
    net.pump();
    net.run_for(Duration::from_secs(1));
    net
}

#[test]
fn an_administrative_shutdown_goes_out_as_a_hard_reset_only_with_the_n_bit() {
    let stop = || Command::Stop {
        message: Some("maintenance".to_owned()),
    };
    let shutdown = Notification::shutdown(CeaseSubcode::ADMINISTRATIVE_SHUTDOWN, "maintenance");
    // With the N bit: Cease / Hard Reset (6/9) whose Data is 6, 2 and the 6/2's own Data (RFC
    // 8538 §3, §5.1), on the wire as the peer decodes it.
    let net = stopped_by_side_0(true, false, stop());
    let mut wrapped = vec![6, 2];
    wrapped.extend_from_slice(&shutdown.data);
    let hard = vec![(6, 9, wrapped)];
    assert_eq!(notifications(&net, 0, true), hard);
    assert_eq!(notifications(&net, 1, false), hard);
    // ... and the peer withdraws at once: nothing kept stale.
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    assert!(stale_events(&net, 1).0.is_empty());
    // Without it: the plain 6/2 with its shutdown communication.
    let net = stopped_by_side_0(false, false, stop());
    let plain = vec![(6, 2, shutdown.data.clone())];
    assert_eq!(notifications(&net, 0, true), plain);
    assert_eq!(notifications(&net, 1, false), plain);
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
}

#[test]
fn an_administrative_reset_is_hard_only_with_hard_administrative_reset() {
    let reset = || Command::StopWith {
        subcode: CeaseSubcode::ADMINISTRATIVE_RESET,
        message: None,
    };
    // Default (FRR's, `bgp hard-administrative-reset` off): a bare 6/4, a graceful Cease the
    // peer answers with RFC 8538 §4's procedures: our routes stay with it, stale.
    let net = stopped_by_side_0(true, false, reset());
    assert_eq!(notifications(&net, 1, false), vec![(6, 4, Vec::new())]);
    assert!(net.best_from_peer(1, "192.0.2.0/24"));
    assert_eq!(net.speakers[1].rib().stale_count(PEER), 1);
    assert_eq!(stale_events(&net, 1).0.len(), 1);
    // With it: 6/9 wrapping 6/4, and the peer withdraws.
    let net = stopped_by_side_0(true, true, reset());
    assert_eq!(notifications(&net, 0, true), vec![(6, 9, vec![6, 4])]);
    assert_eq!(notifications(&net, 1, false), vec![(6, 9, vec![6, 4])]);
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    assert!(stale_events(&net, 1).0.is_empty());
    // The setting means nothing without the N bit: a bare 6/4, and RFC 4724 alone withdraws.
    let net = stopped_by_side_0(false, true, reset());
    assert_eq!(notifications(&net, 0, true), vec![(6, 4, Vec::new())]);
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    // Ceases §5.1 calls graceful stay bare even with both settings.
    let net = stopped_by_side_0(
        true,
        true,
        Command::StopWith {
            subcode: CeaseSubcode::OTHER_CONFIGURATION_CHANGE,
            message: None,
        },
    );
    assert_eq!(notifications(&net, 0, true), vec![(6, 6, Vec::new())]);
}

/// Graceful restart with the N bit; side 1 keeps side 0's route stale after a silent cut (its
/// hold timer expires), then the cut heals and the two reconnect. Steps until `side` is in
/// OpenConfirm of the new connection (the N bit negotiated again, side 1's route still
/// stale).
fn stale_then_open_confirm(side: usize) -> Net {
    let mut net = Net::new(graceful(120, true));
    net.originate(0, "192.0.2.0/24");
    net.start();
    net.run_for(Duration::from_secs(5));
    net.silent = true;
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.speakers[1].rib().stale_count(PEER), 1);
    net.silent = false;
    let limit = net.now + Duration::from_secs(120);
    while net.state(side) != Some(State::OpenConfirm) {
        assert!(net.step(limit), "side {side} never reached OpenConfirm");
    }
    assert_eq!(net.speakers[1].rib().stale_count(PEER), 1);
    net
}

#[test]
fn a_hard_reset_sent_or_received_flushes_stale_routes_before_established() {
    // Received: side 0 stops in OpenConfirm, its 6/2 goes as a Hard Reset, and side 1 (not
    // Established, so no end of a session to withdraw with) drops the stale route at once.
    let mut net = stale_then_open_confirm(0);
    let now = net.now;
    let stop = Command::Stop { message: None };
    assert_eq!(net.speakers[0].handle_command(now, PEER, stop), Ok(()));
    net.pump();
    net.run_for(Duration::from_secs(1));
    assert_eq!(
        notifications(&net, 1, false).last(),
        Some(&(6, 9, vec![6, 2]))
    );
    let (_, flushed) = stale_events(&net, 1);
    assert_eq!(flushed.len(), 1, "{flushed:?}");
    assert_eq!((flushed[0].1, flushed[0].2), (1, StaleFlush::HardReset));
    assert!(flushed[0].0 < now + Duration::from_secs(1));
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
    assert_eq!(net.speakers[1].rib().stale_count(PEER), 0);
    // Sent: side 1 itself stops in OpenConfirm; its Hard Reset ends the graceful restart too.
    let mut net = stale_then_open_confirm(1);
    let now = net.now;
    let stop = Command::Stop { message: None };
    assert_eq!(net.speakers[1].handle_command(now, PEER, stop), Ok(()));
    net.pump();
    assert_eq!(
        notifications(&net, 1, true).last(),
        Some(&(6, 9, vec![6, 2]))
    );
    let (_, flushed) = stale_events(&net, 1);
    assert_eq!(flushed, vec![(now, 1, StaleFlush::HardReset)]);
    assert!(!net.best_from_peer(1, "192.0.2.0/24"));
}

/// One BIRD speaker (side 0's addresses) with two peers, each a bare [`fsm::Session`] joined
/// to it without latency: the wake-up of a session waiting on its expired hold timer comes
/// from the speaker's other session.
struct Hub {
    now: Instant,
    speaker: Speaker,
    /// The remote sessions of peers 1 and 2.
    remotes: [fsm::Session; 2],
    /// Remote `i` is silent: what it sends and what is sent to it is lost.
    silent: [bool; 2],
    /// What the speaker wrote, per peer: (time, bytes).
    written: [Vec<(Instant, Vec<u8>)>; 2],
    events: Vec<(Instant, SpeakerEvent)>,
}

impl Hub {
    const PEERS: [PeerId; 2] = [PeerId(1), PeerId(2)];

    fn new() -> Self {
        let mut speaker = Speaker::new(RibConfig::new(asn(0), addr(0)));
        let remotes = [0_usize, 1].map(|i| {
            let remote_addr = Ipv4Addr::new(10, 0, 1, u8::try_from(i + 1).unwrap_or(0));
            let remote_as = 65_100 + u32::try_from(i).unwrap_or(0);
            let mut ours = fsm::Config::new(asn(0), remote_as, addr(0));
            ours.profile = fsm::profile::Profile::BIRD;
            ours.hold_time = Some(Duration::from_secs(3));
            ours.keepalive = Some(Duration::from_secs(1));
            let spec = PeerSpec {
                session: ours,
                rib: PeerConfig::new(remote_as, IpAddr::V4(remote_addr), IpAddr::V4(addr(0))),
                bfd: None,
                seed: 11 + u64::try_from(i).unwrap_or(0),
            };
            if let Err(e) = speaker.add_peer(Instant::ZERO, Self::PEERS[i], spec) {
                panic!("add_peer: {e}");
            }
            let mut theirs = fsm::Config::new(remote_as, asn(0), remote_addr);
            theirs.hold_time = Some(Duration::from_secs(3));
            theirs.keepalive = Some(Duration::from_secs(1));
            let Ok(remote) = fsm::Session::new(theirs, 40 + u64::try_from(i).unwrap_or(0)) else {
                panic!("remote session")
            };
            remote
        });
        Self {
            now: Instant::ZERO,
            speaker,
            remotes,
            silent: [false; 2],
            written: [Vec::new(), Vec::new()],
            events: Vec::new(),
        }
    }

    /// Moves every output between the speaker and the remotes until quiet.
    fn pump(&mut self) {
        let now = self.now;
        loop {
            let mut moved = false;
            while let Some(t) = self.speaker.poll_transmit() {
                moved = true;
                let i = Self::PEERS.iter().position(|p| *p == t.peer).unwrap_or(0);
                match t.kind {
                    TransmitKind::Bgp(fsm::Transmit::Connect) => {
                        self.remotes[i].handle_transport(now, Transport::Connected);
                        let r = self
                            .speaker
                            .handle_transport(now, t.peer, Transport::Connected);
                        assert_eq!(r, Ok(()));
                    }
                    TransmitKind::Bgp(fsm::Transmit::Bytes(b)) => {
                        self.written[i].push((now, b.clone()));
                        if !self.silent[i] {
                            self.remotes[i].handle_bytes(now, &b);
                        }
                    }
                    _ => {}
                }
            }
            for i in 0..2 {
                while let Some(t) = self.remotes[i].poll_transmit() {
                    moved = true;
                    if let fsm::Transmit::Bytes(b) = t
                        && !self.silent[i]
                    {
                        let r = self.speaker.handle_bytes(now, Self::PEERS[i], &b);
                        assert_eq!(r, Ok(()));
                    }
                }
                while self.remotes[i].poll_event().is_some() {}
            }
            while let Some(e) = self.speaker.poll_event() {
                self.events.push((now, e));
            }
            if !moved {
                break;
            }
        }
    }

    fn run_until(&mut self, until: Instant) {
        loop {
            let next = [
                self.speaker.poll_timeout(),
                self.remotes[0].poll_timeout(),
                self.remotes[1].poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min()
            .filter(|t| *t <= until);
            let Some(next) = next else { break };
            self.now = next;
            self.speaker.handle_timeout(next);
            for r in &mut self.remotes {
                r.handle_timeout(next);
            }
            self.pump();
        }
        self.now = self.now.max(until);
    }
}

/// A BIRD router acts on an expired hold timer at its event loop's next wake-up
/// (`HoldExpiry::NextWakeUp`): with a second session whose KEEPALIVEs go and come every
/// second or less, that is the second session's next timer or input, well before the 3 s
/// cap; the NOTIFICATION goes out and the session goes down at that instant, together.
#[test]
fn another_sessions_timer_wakes_a_bird_session_waiting_on_its_hold_expiry() {
    let mut hub = Hub::new();
    for i in 0..2 {
        assert_eq!(
            hub.remotes[i].handle_command(Instant::ZERO, Command::StartPassive),
            Ok(())
        );
        let r = hub
            .speaker
            .handle_command(Instant::ZERO, Hub::PEERS[i], Command::Start);
        assert_eq!(r, Ok(()));
    }
    hub.pump();
    hub.run_until(Instant::ZERO + Duration::from_secs(10));
    for peer in Hub::PEERS {
        assert_eq!(
            hub.speaker.session(peer).map(fsm::Session::state),
            Some(State::Established)
        );
    }
    hub.silent[0] = true;
    // Step until peer 1's hold timer has expired: it waits for a wake-up.
    let mut expired = None;
    while expired.is_none() {
        let next = hub.speaker.poll_timeout();
        let Some(next) = next.filter(|t| *t <= Instant::ZERO + Duration::from_secs(20)) else {
            panic!("peer 1's hold timer never expired")
        };
        hub.run_until(next);
        expired = hub
            .speaker
            .session(Hub::PEERS[0])
            .and_then(fsm::Session::waiting_until)
            .map(|cap| (hub.now, cap));
    }
    let Some((at, cap)) = expired else {
        panic!("never waited")
    };
    assert_eq!(cap, at + Duration::from_secs(3));
    let other = hub
        .speaker
        .session(Hub::PEERS[1])
        .and_then(|s| s.timers().next_deadline());
    let Some(other) = other else {
        panic!("peer 2 has a keepalive timer")
    };
    // Peer 2's next input (its remote's KEEPALIVE, sent every second) wakes the loop too.
    let input = hub.remotes[1].poll_timeout().unwrap_or(cap);
    let other = other.min(input);
    assert!(
        other < cap,
        "peer 2's next timer or input {other} before the cap {cap}"
    );
    hub.run_until(cap);
    let notification = hub.written[0]
        .iter()
        .find(|(_, b)| b.get(18) == Some(&3))
        .map(|(t, _)| *t);
    assert_eq!(
        notification,
        Some(other),
        "woken by peer 2's timer or input"
    );
    let down = hub.events.iter().find_map(|(t, e)| match e {
        SpeakerEvent::Session {
            peer,
            event: SessionEvent::StateChanged {
                to: State::Idle, ..
            },
        } if *peer == Hub::PEERS[0] => Some(*t),
        _ => None,
    });
    assert_eq!(down, Some(other));
    // No KEEPALIVE to peer 1 between its expiry and its NOTIFICATION.
    assert!(
        hub.written[0]
            .iter()
            .all(|(t, b)| *t <= at || *t >= other || b.get(18) != Some(&4))
    );
    assert_eq!(
        hub.speaker.session(Hub::PEERS[1]).map(fsm::Session::state),
        Some(State::Established)
    );
}
