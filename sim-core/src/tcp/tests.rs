use super::*;
use crate::link::{Direction, DirectionConfig, End, LossModel};
use crate::rng::Seed;
use crate::testing::{PORT_A, PORT_B, TcpPair};
use crate::time::Duration;

const MS: Duration = Duration::from_millis(1);

fn secs(s: f64) -> Instant {
    Instant::ZERO + Duration::from_secs_f64(s)
}

/// 10 ms one way, lossless.
fn clean() -> DirectionConfig {
    DirectionConfig {
        delay: MS * 10,
        ..DirectionConfig::default()
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn connected(cfg: TcpConfig) -> TcpPair {
    let mut p = TcpPair::new(Seed(1), cfg, cfg, &clean());
    p.open();
    p.run_until(secs(1.0));
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(p.b.state(), State::Established);
    p
}

fn aborts(p: &TcpPair, end: End) -> Vec<(Instant, AbortReason)> {
    p.events
        .iter()
        .filter_map(|&(t, e, ev)| match ev {
            Event::Aborted { reason } if e == end => Some((t, reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn handshake_uses_seeded_isn_and_measures_rtt() {
    let p = connected(TcpConfig::linux());
    let syn = &p.sent[0].seg;
    assert_eq!(syn.flags, Flags::SYN);
    assert_eq!(syn.mss, Some(1460));
    let synack = &p.sent[1].seg;
    assert_eq!(synack.flags, Flags::SYN.with(Flags::ACK));
    assert_eq!(synack.ack, syn.seq.wrapping_add(1));
    let ack = &p.sent[2].seg;
    assert_eq!(
        (ack.seq, ack.ack),
        (syn.seq.wrapping_add(1), synack.seq.wrapping_add(1))
    );
    // Same seed, same ISN; another seed, another ISN.
    let again = connected(TcpConfig::linux());
    assert_eq!(again.sent[0].seg.seq, syn.seq);
    let mut other = TcpPair::new(Seed(2), TcpConfig::linux(), TcpConfig::linux(), &clean());
    other.open();
    assert_ne!(other.sent[0].seg.seq, syn.seq);
    // RTT 20 ms from the handshake: RTO = max(200 ms, 20 + 4 * 10 ms) = 200 ms.
    assert_eq!(p.a.srtt(), Some(MS * 20));
    assert_eq!(p.a.rto(), MS * 200);
    assert!(
        p.events
            .contains(&(Instant::ZERO + MS * 20, End::A, Event::Connected))
    );
    assert!(
        p.events
            .contains(&(Instant::ZERO + MS * 30, End::B, Event::Connected))
    );
}

#[test]
fn segments_at_mss_and_acks_cumulatively() {
    let mut p = connected(TcpConfig::linux());
    let data = pattern(5000);
    assert_eq!(p.write(End::A, &data), 5000);
    p.run_until(secs(2.0));
    // Linux negotiates timestamps: 12 option bytes leave 1448 of the 1460-byte MSS.
    let sizes: Vec<usize> = p.data_sends(End::A).iter().map(|s| s.2).collect();
    assert_eq!(sizes, vec![1448, 1448, 1448, 656]);
    assert!(p.sent.iter().all(|s| s.seg.timestamps.is_some()));
    assert_eq!(p.received[1], data);
    assert_eq!(p.a.unacknowledged(), 0);
    let last = p
        .sent
        .iter()
        .rev()
        .find(|s| s.from == End::A && !s.seg.payload.is_empty());
    assert!(last.is_some_and(|s| s.seg.flags.contains(Flags::PSH)));
    // Without timestamps (the RFC preset) segments carry the full MSS.
    let mut rfc = connected(TcpConfig::rfc6298());
    rfc.write(End::A, &data);
    rfc.run_until(secs(3.0));
    let sizes: Vec<usize> = rfc.data_sends(End::A).iter().map(|s| s.2).collect();
    assert_eq!(sizes, vec![1460, 1460, 1460, 620]);
    assert!(rfc.sent.iter().all(|s| s.seg.timestamps.is_none()));
    assert_eq!(rfc.received[1], data);
}

#[test]
fn delivers_byte_stream_in_order_under_30_percent_loss() {
    for seed in 1..=3 {
        let link = DirectionConfig {
            loss: LossModel::Bernoulli { p: 0.3 },
            ..clean()
        };
        let mut p = TcpPair::new(Seed(seed), TcpConfig::linux(), TcpConfig::linux(), &link);
        p.open();
        let data = pattern(60_000);
        assert_eq!(p.write(End::A, &data), data.len());
        // The listener can write once it has the connection.
        let mut t = 0.0;
        while p.b.state() != State::Established && t < 200.0 {
            t += 0.1;
            p.run_until(secs(t));
        }
        let back = pattern(9_000);
        assert_eq!(p.write(End::B, &back), back.len());
        p.run_until(secs(3600.0));
        assert!(aborts(&p, End::A).is_empty() && aborts(&p, End::B).is_empty());
        assert_eq!(
            p.received[1], data,
            "seed {seed}: A->B stream intact and in order"
        );
        assert_eq!(
            p.received[0], back,
            "seed {seed}: B->A stream intact and in order"
        );
        let lost = p.link.stats(Direction::AToB).dropped_loss;
        assert!(lost > 10, "the link really lost segments ({lost})");
    }
}

/// Sends one segment into a silent path and returns (first send, retransmission times, abort).
fn total_loss(cfg: TcpConfig) -> (Instant, Vec<Instant>, Vec<(Instant, AbortReason)>) {
    let mut p = connected(cfg);
    p.link.set_silent(Direction::AToB, true);
    p.write(End::A, b"keepalive");
    p.run_until(secs(3600.0));
    let sends: Vec<Instant> = p.data_sends(End::A).iter().map(|s| s.0).collect();
    let first = sends[0];
    (first, sends[1..].to_vec(), aborts(&p, End::A))
}

fn cumulative(first: Instant, intervals_ms: &[u64]) -> Vec<Instant> {
    let mut t = first;
    intervals_ms
        .iter()
        .map(|&ms| {
            t += MS * ms;
            t
        })
        .collect()
}

#[test]
fn linux_probes_then_retransmits_doubling_from_200ms_cap_at_120s_and_aborts_at_924_8s() {
    let (first, resends, aborted) = total_loss(TcpConfig::linux());
    // RTT 20 ms: the probe timeout 2·20 + 200 ms is capped at the RTO's expiry (200 ms), so
    // the tail-loss probe goes out at 200 ms; the RTO restarts from it (200 ms), then doubles.
    let intervals = [
        200, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 51_200, 102_400, 120_000, 120_000,
        120_000, 120_000, 120_000,
    ];
    assert_eq!(
        resends,
        cumulative(first, &intervals),
        "one probe, then tcp_retries2 = 15 retransmissions"
    );
    // The budget of 924.6 s runs from the first transmission; the RTO expiries sit 200 ms
    // later than without the probe, so the first one past the budget is at 924.8 s.
    assert_eq!(
        aborted,
        vec![(first + MS * 924_800, AbortReason::RetriesExhausted)]
    );
}

/// The brief's check of the Linux preset: the first retransmissions of a lost segment come at
/// the probe timeout (2·SRTT + the 200 ms floor for a lone segment), then one RTO later, then
/// doubling. RTT 600 ms: probe at 1.4 s, RTO 1.8 s after it, then 3.6 s, 7.2 s. With RTT
/// 20 ms the probe timeout (240 ms) is capped at the RTO's expiry: 200 ms, then 200, 400 ms.
#[test]
fn linux_first_retransmissions_come_at_the_probe_timeout_then_the_rto_then_doubling() {
    let run = |delay: Duration| {
        let link = DirectionConfig {
            delay,
            ..DirectionConfig::default()
        };
        let mut p = TcpPair::new(Seed(1), TcpConfig::linux(), TcpConfig::linux(), &link);
        p.open();
        p.run_until(secs(2.0));
        p.link.set_silent(Direction::AToB, true);
        p.write(End::A, b"keepalive");
        p.run_until(secs(40.0));
        let sends: Vec<Instant> = p.data_sends(End::A).iter().map(|s| s.0).collect();
        let gaps: Vec<Duration> = sends.windows(2).take(4).map(|w| w[1] - w[0]).collect();
        (gaps, p.a.tail_loss_probes(), p.a.retransmissions())
    };
    let (gaps, probes, rtos) = run(MS * 300);
    assert_eq!(gaps, vec![MS * 1_400, MS * 1_800, MS * 3_600, MS * 7_200]);
    assert_eq!(probes, 1, "one probe per episode");
    assert!(rtos >= 3);
    let (gaps, probes, _) = run(MS * 10);
    assert_eq!(gaps, vec![MS * 200, MS * 200, MS * 400, MS * 800]);
    assert_eq!(probes, 1);
}

/// The probe repairs a lone lost segment on a live path at the probe timeout, before any RTO;
/// the RFC preset waits for its 1 s RTO.
#[test]
fn a_lost_keepalive_is_repaired_by_the_probe_on_linux_and_by_the_rto_per_rfc6298() {
    let repaired = |cfg: TcpConfig| {
        let mut p = connected(cfg);
        p.link.set_silent(Direction::AToB, true);
        p.write(End::A, b"keepalive");
        p.link.set_silent(Direction::AToB, false);
        let t0 = p.engine.now();
        p.run_until(t0 + MS * 3_000);
        assert_eq!(p.received[1], b"keepalive");
        let readable = p
            .events
            .iter()
            .find(|&&(_, e, ev)| e == End::B && ev == Event::DataReadable)
            .map(|&(t, _, _)| t - t0);
        (readable, p.a.tail_loss_probes(), p.a.retransmissions())
    };
    // Probe at 200 ms (2·20 + 200 capped at the RTO), arriving 10 ms later.
    assert_eq!(repaired(TcpConfig::linux()), (Some(MS * 210), 1, 0));
    assert_eq!(repaired(TcpConfig::rfc6298()), (Some(MS * 1_010), 0, 1));
}

#[test]
fn rfc_retransmissions_double_from_1s_cap_at_60s() {
    let (first, resends, aborted) = total_loss(TcpConfig::rfc6298());
    let intervals = [
        1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000,
        60_000, 60_000, 60_000,
    ];
    assert_eq!(resends, cumulative(first, &intervals));
    // 63 s + 10 * 60 s = 663 s.
    assert_eq!(
        aborted,
        vec![(first + MS * 663_000, AbortReason::RetriesExhausted)]
    );
}

#[test]
fn retry_limit_is_configurable() {
    let cfg = TcpConfig {
        max_retransmissions: 3,
        ..TcpConfig::linux()
    };
    let (first, resends, aborted) = total_loss(cfg);
    // The probe at 200 ms, then three RTO retransmissions; the budget of three (3 s) is past
    // at the next RTO expiry, 3.2 s after the first transmission.
    assert_eq!(resends, cumulative(first, &[200, 200, 400, 800]));
    assert_eq!(
        aborted,
        vec![(first + MS * 3_200, AbortReason::RetriesExhausted)]
    );
}

#[test]
fn linux_abort_is_a_time_budget_so_long_paths_abort_after_fewer_retries() {
    // RTT 600 ms: the probe at 1.4 s (2·600 + 200 ms), then RTO 1.8 s from it, doubling to
    // the 120 s cap. Expiries at 3.2, 6.8, ..., 230 s, then every 120 s; the first at or after
    // 924.6 s is 950 s (12 retransmissions after the probe). Counting 15 retransmissions
    // instead would abort at 230 + 9 * 120 = 1310 s.
    let run = |cfg: TcpConfig| {
        let link = DirectionConfig {
            delay: MS * 300,
            ..DirectionConfig::default()
        };
        let mut p = TcpPair::new(Seed(1), cfg, cfg, &link);
        p.open();
        p.run_until(secs(2.0));
        p.link.set_silent(Direction::AToB, true);
        p.write(End::A, b"keepalive");
        p.run_until(secs(4000.0));
        let first = p.data_sends(End::A)[0].0;
        let resends = p.data_sends(End::A).len() - 1;
        (aborts(&p, End::A).first().map(|&(t, _)| t - first), resends)
    };
    assert_eq!(run(TcpConfig::linux()), (Some(MS * 950_000), 13));
    let counting = TcpConfig {
        abort_by_elapsed_time: false,
        ..TcpConfig::linux()
    };
    assert_eq!(run(counting), (Some(MS * 1_310_000), 16));
}

#[test]
fn linux_budget_matches_tcp_model_timeout() {
    assert_eq!(linux_retries_budget(&TcpConfig::linux()), MS * 924_600);
    let short = TcpConfig {
        max_retransmissions: 3,
        ..TcpConfig::linux()
    };
    // (2^4 - 1) * 200 ms.
    assert_eq!(linux_retries_budget(&short), MS * 3_000);
}

#[test]
fn rto_follows_measured_rtt_above_the_floor() {
    // RTT 600 ms: RTO = 600 + 4 * 300 = 1800 ms, then doubling (the RTO alone: no probe).
    let link = DirectionConfig {
        delay: MS * 300,
        ..DirectionConfig::default()
    };
    let cfg = TcpConfig {
        tail_loss_probe: false,
        ..TcpConfig::linux()
    };
    let mut p = TcpPair::new(Seed(1), cfg, cfg, &link);
    p.open();
    p.run_until(secs(2.0));
    assert_eq!(p.a.rto(), MS * 1_800);
    p.link.set_silent(Direction::AToB, true);
    p.write(End::A, b"x");
    p.run_until(secs(20.0));
    let sends: Vec<Instant> = p.data_sends(End::A).iter().map(|s| s.0).collect();
    assert_eq!(
        sends[1..4],
        cumulative(sends[0], &[1_800, 3_600, 7_200])[..]
    );
}

#[test]
fn lost_segment_holds_back_everything_behind_it() {
    /// Loses the first of `1 + behind` segments; returns when B could first read, the bytes
    /// B read by then, and A's (RTO, fast) retransmission counts.
    fn run(cfg: TcpConfig, behind: usize) -> (Duration, usize, u64, u64) {
        let mut p = connected(cfg);
        let data = pattern(1000 + behind * 1448);
        p.link.set_silent(Direction::AToB, true);
        p.write(End::A, &data[..1000]);
        p.link.set_silent(Direction::AToB, false);
        p.write(End::A, &data[1000..]);
        let t0 = p.engine.now();
        // The segments behind the gap arrive after 10 ms; nothing may be read before the
        // retransmission fills the gap.
        p.run_until(t0 + MS * 19);
        assert!(p.received[1].is_empty(), "bytes behind the gap must wait");
        assert_eq!(p.b.readable(), 0);
        p.run_until(t0 + MS * 1000);
        assert!(p.received[1] == data, "everything arrives, in order");
        let readable_at: Vec<Instant> = p
            .events
            .iter()
            .filter(|&&(_, e, ev)| e == End::B && ev == Event::DataReadable)
            .map(|&(t, _, _)| t)
            .collect();
        // The gap releases everything behind it at once: a single readable edge.
        assert_eq!(readable_at.len(), 1, "{readable_at:?}");
        (
            readable_at[0] - t0,
            p.received[1].len(),
            p.a.retransmissions(),
            p.a.fast_retransmits(),
        )
    }
    let linux = TcpConfig::linux();
    // Four segments behind the hole give three duplicate ACKs at 20 ms: fast retransmit, the
    // gap fills at 30 ms.
    assert_eq!(run(linux, 4), (MS * 30, 1000 + 4 * 1448, 0, 1));
    // One segment behind gives a single duplicate ACK. Linux probes at 42 ms (2·SRTT + 2 ms,
    // two segments in flight) with the last segment; its duplicate ACK at 62 ms shows the hole
    // (RACK's inference from the probe's SACK): the head is resent, the gap fills at 72 ms.
    assert_eq!(run(linux, 1), (MS * 72, 1000 + 1448, 0, 1));
    // Without the probe only the 200 ms RTO repairs the hole.
    let no_probe = TcpConfig {
        tail_loss_probe: false,
        ..linux
    };
    assert_eq!(run(no_probe, 1), (MS * 210, 1000 + 1448, 1, 0));
}

#[test]
fn syn_to_silent_peer_gives_up_after_six_retries_at_127s() {
    let mut p = TcpPair::new(Seed(1), TcpConfig::linux(), TcpConfig::linux(), &clean());
    p.link.set_silent(Direction::AToB, true);
    p.open();
    p.run_until(secs(1000.0));
    let syns: Vec<Instant> = p
        .sent
        .iter()
        .filter(|s| s.from == End::A && s.seg.flags == Flags::SYN)
        .map(|s| s.at)
        .collect();
    let want: Vec<Instant> = [0, 1, 3, 7, 15, 31, 63]
        .iter()
        .map(|&s| Instant::ZERO + Duration::from_secs(s))
        .collect();
    assert_eq!(syns, want);
    assert_eq!(
        aborts(&p, End::A),
        vec![(secs(127.0), AbortReason::SynRetriesExhausted)]
    );
    assert_eq!(p.a.state(), State::Closed);
    assert_eq!(p.a.poll_timeout(), None);
}

#[test]
fn lost_syn_falls_back_to_3s_rto_per_rfc6298_5_7() {
    let no_ts = TcpConfig {
        timestamps: false,
        ..TcpConfig::linux()
    };
    let mut p = TcpPair::new(Seed(1), no_ts, no_ts, &clean());
    p.link.set_silent(Direction::AToB, true);
    p.open();
    p.run_until(secs(0.5));
    p.link.set_silent(Direction::AToB, false);
    p.run_until(secs(2.0));
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(
        p.a.srtt(),
        None,
        "Karn: the retransmitted SYN gives no sample"
    );
    assert_eq!(p.a.rto(), Duration::from_secs(3));
    // The passive side did time its SYN-ACK.
    assert_eq!(p.b.srtt(), Some(MS * 20));
}

#[test]
fn orderly_close_runs_fin_handshake_and_time_wait() {
    let mut p = connected(TcpConfig::linux());
    p.write(End::A, b"bye");
    p.a.close();
    p.flush(End::A);
    p.run_until(secs(2.0));
    assert_eq!(p.received[1], b"bye");
    assert_eq!(p.a.state(), State::FinWait2);
    assert_eq!(p.b.state(), State::CloseWait);
    assert!(
        p.events
            .iter()
            .any(|&(_, e, ev)| e == End::B && ev == Event::PeerClosed)
    );
    assert_eq!(
        p.b.write(b"late"),
        Ok(4),
        "a half-closed peer may still send"
    );
    p.b.close();
    p.flush(End::B);
    p.run_until(secs(3.0));
    assert_eq!(p.received[0], b"late");
    assert_eq!(p.b.state(), State::Closed);
    assert_eq!(p.a.state(), State::TimeWait);
    p.run_until(secs(70.0));
    assert_eq!(p.a.state(), State::Closed, "TIME-WAIT lasts 60 s on Linux");
    assert_eq!(
        p.events
            .iter()
            .filter(|&&(_, _, ev)| ev == Event::Closed)
            .count(),
        2
    );
    assert_eq!(
        p.a.write(b"x"),
        Err(Error::NotWritable {
            state: State::Closed
        })
    );
}

#[test]
fn abort_sends_rst_and_peer_sees_reset() {
    let mut p = connected(TcpConfig::linux());
    let before = p.events.len();
    p.a.abort();
    p.flush(End::A);
    let rst = p.sent.last().map(|s| s.seg.flags);
    assert_eq!(rst, Some(Flags::RST.with(Flags::ACK)));
    p.run_until(secs(2.0));
    assert_eq!(p.b.state(), State::Closed);
    assert!(
        p.events
            .iter()
            .any(|&(_, e, ev)| e == End::B && ev == Event::Reset)
    );
    assert!(
        !p.events[before..].iter().any(|&(_, e, _)| e == End::A),
        "local abort raises nothing"
    );
}

#[test]
fn segment_to_closed_endpoint_is_answered_with_rst() {
    let mut p = connected(TcpConfig::linux());
    // B forgets the connection without telling A (e.g. a reboot).
    p.b = Endpoint::new(
        TcpConfig::linux(),
        179,
        50_000,
        &mut Seed(9).stream_named("x"),
    );
    p.write(End::A, b"hello");
    p.run_until(secs(3.0));
    assert!(
        p.events
            .iter()
            .any(|&(_, e, ev)| e == End::A && ev == Event::Reset)
    );
    assert_eq!(p.a.state(), State::Closed);
}

#[test]
fn connect_to_non_listening_peer_is_refused() {
    let mut p = TcpPair::new(Seed(1), TcpConfig::linux(), TcpConfig::linux(), &clean());
    p.a.connect(Instant::ZERO).expect("fresh");
    p.flush(End::A);
    p.run_until(secs(1.0));
    assert_eq!(
        p.events,
        vec![(Instant::ZERO + MS * 20, End::A, Event::Reset)]
    );
}

#[test]
fn opening_twice_is_an_error() {
    let mut p = connected(TcpConfig::linux());
    assert_eq!(
        p.a.connect(Instant::ZERO),
        Err(Error::AlreadyOpen {
            state: State::Established
        })
    );
    assert_eq!(
        p.b.listen(),
        Err(Error::AlreadyOpen {
            state: State::Established
        })
    );
}

#[test]
fn sequence_distance_unwraps_across_2_pow_32() {
    assert_eq!(unwrap_near(10, 5), Some(15));
    assert_eq!(unwrap_near(10, u32::MAX), Some(9), "one behind");
    assert_eq!(unwrap_near(0, u32::MAX), None);
    assert_eq!(unwrap_near(1 << 40, 1 << 31), Some((1 << 40) - (1 << 31)));
}

#[test]
fn same_seed_same_trace_hash_other_seed_other_hash() {
    let run = |seed| {
        let link = DirectionConfig {
            loss: LossModel::Bernoulli { p: 0.2 },
            ..clean()
        };
        let mut p = TcpPair::new(Seed(seed), TcpConfig::linux(), TcpConfig::linux(), &link);
        p.open();
        p.write(End::A, &pattern(20_000));
        p.run_until(secs(600.0));
        (p.trace_hash(), p.trace.records())
    };
    let (h1, n1) = run(7);
    let (h2, n2) = run(7);
    assert_eq!((h1, n1), (h2, n2));
    assert!(n1 > 30);
    assert_ne!(run(8).0, h1);
}

#[test]
fn sender_respects_a_small_receive_window() {
    let small = TcpConfig {
        recv_buffer: 2_000,
        ..TcpConfig::linux()
    };
    let mut p = TcpPair::new(Seed(1), TcpConfig::linux(), small, &clean());
    p.open();
    p.run_until(secs(1.0));
    let data = pattern(10_000);
    p.write(End::A, &data);
    p.run_until(secs(60.0));
    assert_eq!(p.received[1], data);
    let max_payload = p.data_sends(End::A).iter().map(|s| s.2).max().unwrap_or(0);
    assert!(max_payload <= 2_000);
}

#[test]
fn zero_window_is_probed_and_reopened_by_reading() {
    let small = TcpConfig {
        recv_buffer: 2_000,
        ..TcpConfig::linux()
    };
    let mut p = TcpPair::new(Seed(1), TcpConfig::linux(), small, &clean());
    p.reading = [true, false];
    p.open();
    p.run_until(secs(1.0));
    let data = pattern(10_000);
    p.write(End::A, &data);
    p.run_until(secs(5.0));
    assert_eq!(p.b.readable(), 2_000, "receive buffer full");
    let last_ack = p
        .sent
        .iter()
        .rev()
        .find(|s| s.from == End::B)
        .map(|s| s.seg.window);
    assert_eq!(last_ack, Some(0), "zero window advertised");
    let acked = p
        .sent
        .iter()
        .rev()
        .find(|s| s.from == End::B)
        .map_or(0, |s| s.seg.ack);
    let probes: Vec<Instant> = p
        .sent
        .iter()
        .filter(|s| {
            s.from == End::A && s.seg.payload.is_empty() && s.seg.seq == acked.wrapping_sub(1)
        })
        .map(|s| s.at)
        .collect();
    // Probes one below SND.UNA, backing off from the 200 ms RTO: 0.2, 0.4, 0.8, 1.6 s apart.
    assert!(probes.len() >= 4, "{probes:?}");
    assert_eq!(probes[1] - probes[0], MS * 400);
    assert_eq!(probes[2] - probes[1], MS * 800);
    assert!(aborts(&p, End::A).is_empty());
    // The application drains the buffer: a window update restarts the transfer at once.
    p.reading = [true, true];
    p.flush(End::B);
    let resumed = p.engine.now();
    p.run_until(resumed + MS * 500);
    assert!(
        p.received[1] == data,
        "got {} of {} bytes",
        p.received[1].len(),
        data.len()
    );
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn arb_segment(isn_hint: u32) -> impl Strategy<Value = Segment> {
        (
            any::<bool>(),
            any::<u32>(),
            any::<u32>(),
            0_u8..32,
            any::<u16>(),
            proptest::option::of(any::<u16>()),
            proptest::collection::vec(any::<u8>(), 0..40),
            proptest::option::of((any::<u32>(), any::<u32>())),
            proptest::option::of((any::<u32>(), any::<u32>())),
        )
            .prop_map(
                move |(near, seq, ack, flags, window, mss, payload, ts, dsack)| Segment {
                    src_port: 50_000,
                    dst_port: 179,
                    // Half the segments land near the real sequence space, so they get past the
                    // acceptability test and exercise the state machine.
                    seq: if near {
                        isn_hint.wrapping_add(seq % 64)
                    } else {
                        seq
                    },
                    ack: if near { ack % 4 } else { ack },
                    flags: Flags::from_bits(flags),
                    window,
                    mss,
                    timestamps: ts.map(|(val, ecr)| Timestamps { val, ecr }),
                    dsack,
                    payload: payload.into(),
                },
            )
    }

    proptest! {
        #[test]
        fn arbitrary_segments_never_panic_or_break_invariants(
            segs in proptest::collection::vec(arb_segment(0), 1..60),
            listen in any::<bool>(),
        ) {
            let mut ep = Endpoint::new(
                TcpConfig::linux(), 179, 50_000, &mut Seed(1).stream_named("fuzz"));
            let mut now = Instant::ZERO;
            if listen {
                ep.listen().expect("fresh");
            } else {
                ep.connect(now).expect("fresh");
            }
            // Steer the "near" sequence numbers at this endpoint's ISN for the ACK field.
            let iss = ep.iss;
            for mut seg in segs {
                if seg.ack < 4 {
                    seg.ack = iss.wrapping_add(seg.ack);
                }
                now += MS * 7;
                ep.handle_segment(now, &seg);
                let _ = ep.write(b"data");
                while ep.poll_transmit(now).is_some() {}
                while ep.poll_event().is_some() {}
                let mut buf = [0_u8; 64];
                while ep.read(&mut buf) > 0 {}
                if let Some(t) = ep.poll_timeout()
                    && t <= now + MS * 7
                {
                    ep.handle_timeout(t.max(now));
                }
                prop_assert!(ep.snd_una <= ep.snd_max && ep.snd_nxt <= ep.snd_max);
                prop_assert!(ep.buf_start <= ep.snd_una.max(1));
                prop_assert!(ep.readable() <= TcpConfig::linux().recv_buffer as usize);
            }
        }
    }
}

#[test]
fn simultaneous_open_connects_both_ends() {
    let mut p = TcpPair::new(Seed(1), TcpConfig::linux(), TcpConfig::linux(), &clean());
    p.a.connect(Instant::ZERO).expect("fresh");
    p.b.connect(Instant::ZERO).expect("fresh");
    p.flush(End::A);
    p.flush(End::B);
    p.run_until(secs(1.0));
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::Established, State::Established)
    );
    p.write(End::A, b"ping");
    p.write(End::B, b"pong");
    p.run_until(secs(2.0));
    assert_eq!(
        (p.received[0].as_slice(), p.received[1].as_slice()),
        (&b"pong"[..], &b"ping"[..])
    );
}

#[test]
fn listener_drops_half_open_after_synack_retries_and_keeps_listening() {
    // SYN-ACKs vanish: the listener resends them (on its timer and on each resent SYN), then
    // gives the half-open connection up and listens again; the opener aborts at 127 s.
    let mut p = TcpPair::new(Seed(1), TcpConfig::linux(), TcpConfig::linux(), &clean());
    p.link.set_silent(Direction::BToA, true);
    p.open();
    p.run_until(secs(200.0));
    assert_eq!(p.b.state(), State::Listen);
    assert!(aborts(&p, End::B).is_empty(), "a listener raises no abort");
    assert_eq!(
        aborts(&p, End::A),
        vec![(secs(127.0), AbortReason::SynRetriesExhausted)]
    );
    // The path heals and a new attempt succeeds against the same listener.
    p.link.set_silent(Direction::BToA, false);
    p.a = Endpoint::new(
        TcpConfig::linux(),
        PORT_A,
        PORT_B,
        &mut Seed(3).stream_named("again"),
    );
    p.a.connect(p.engine.now()).expect("fresh");
    p.flush(End::A);
    p.run_until(secs(201.0));
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::Established, State::Established)
    );
}

#[test]
fn timestamps_let_the_rto_collapse_right_after_a_retransmission() {
    // One keepalive is lost and retransmitted by the RTO (the probe is off: it would repair the
    // loss before any back-off). With timestamps (Linux) the ACK of the retransmission is a
    // valid RTT sample, so the RTO is back at 200 ms at once; without them (Karn's rule) it
    // stays backed off at 400 ms until new data is acknowledged.
    let rto_after = |cfg: TcpConfig| {
        let mut p = connected(cfg);
        p.link.set_silent(Direction::AToB, true);
        p.write(End::A, b"keepalive");
        p.link.set_silent(Direction::AToB, false);
        p.run_until(secs(3.0));
        assert_eq!(p.received[1], b"keepalive");
        assert_eq!(p.a.retransmissions(), 1);
        p.a.rto()
    };
    let rto_only = TcpConfig {
        tail_loss_probe: false,
        ..TcpConfig::linux()
    };
    let no_ts = TcpConfig {
        timestamps: false,
        ..rto_only
    };
    assert_eq!(rto_after(rto_only), MS * 200);
    assert_eq!(rto_after(no_ts), MS * 400);
}

#[test]
fn timestamps_are_negotiated_only_if_both_syns_carry_them() {
    let no_ts = TcpConfig {
        timestamps: false,
        ..TcpConfig::linux()
    };
    let mut p = TcpPair::new(Seed(1), TcpConfig::linux(), no_ts, &clean());
    p.open();
    p.run_until(secs(1.0));
    p.write(End::A, b"x");
    p.run_until(secs(2.0));
    assert!(p.sent[0].seg.timestamps.is_some(), "offered on the SYN");
    assert!(p.sent[1..].iter().all(|s| s.seg.timestamps.is_none()));
    // Both on: TSecr echoes the peer's TSval.
    let p = connected(TcpConfig::linux());
    let (syn, synack) = (&p.sent[0].seg, &p.sent[1].seg);
    let (Some(a), Some(b)) = (syn.timestamps, synack.timestamps) else {
        panic!("both SYNs carry timestamps");
    };
    assert_eq!((a.ecr, b.ecr), (0, a.val));
    assert_eq!(syn.tcp_header_len(), 36);
}

/// Regression: the passive end closes while still in SYN-RECEIVED with its first message
/// queued (a BGP speaker giving up during the handshake), its SYN-ACK is lost and its
/// retransmission timer fires. It must resend the SYN-ACK, not rewind into the send buffer
/// (this used to underflow), and deliver the data and the FIN once the handshake completes.
#[test]
fn close_in_syn_received_with_data_queued_waits_for_the_handshake() {
    let cfg = TcpConfig::rfc6298();
    let mut isn = Seed(9).stream_named("isn");
    let mut a = Endpoint::new(cfg, PORT_A, PORT_B, &mut isn);
    let mut b = Endpoint::new(cfg, PORT_B, PORT_A, &mut isn);
    let t0 = Instant::ZERO;
    a.connect(t0).unwrap();
    b.listen().unwrap();
    let syn = a.poll_transmit(t0).unwrap();
    b.handle_segment(t0, &syn);
    assert_eq!(b.state(), State::SynReceived);
    assert_eq!(b.write(b"OPEN").unwrap(), 4);
    b.close();
    assert_eq!(
        b.state(),
        State::SynReceived,
        "the FIN waits for ESTABLISHED (RFC 9293 §3.10.4)"
    );
    let lost = b.poll_transmit(t0).unwrap();
    assert!(lost.flags.contains(Flags::SYN) && lost.flags.contains(Flags::ACK));
    assert!(
        b.poll_transmit(t0).is_none(),
        "no data before the handshake"
    );
    // The SYN-ACK is lost; b's retransmission timer fires and resends it.
    let t1 = b.poll_timeout().unwrap();
    b.handle_timeout(t1);
    let synack = b.poll_transmit(t1).unwrap();
    assert!(synack.flags.contains(Flags::SYN) && synack.flags.contains(Flags::ACK));
    assert!(synack.payload.is_empty());
    a.handle_segment(t1, &synack);
    let ack = a.poll_transmit(t1).unwrap();
    b.handle_segment(t1, &ack);
    assert_eq!(b.state(), State::FinWait1);
    let data = b.poll_transmit(t1).unwrap();
    assert_eq!(&*data.payload, b"OPEN");
    assert!(data.flags.contains(Flags::FIN));
    a.handle_segment(t1, &data);
    let mut buf = [0u8; 8];
    assert_eq!(a.read(&mut buf), 4);
    assert_eq!(&buf[..4], b"OPEN");
    assert!(std::iter::from_fn(|| a.poll_event()).any(|e| e == Event::PeerClosed));
}

/// Sends a keepalive from A at `at` over a path silent A to B while `lost`, silent B to A
/// while `ack_lost` (for 100 ms: the segment or its ACK is dropped, a probe 200 ms later gets
/// through), and returns A's transmissions of it as gaps from the first.
fn keepalive_at(p: &mut TcpPair, at: Instant, lost: bool, ack_lost: bool) -> Vec<Duration> {
    p.run_until(at);
    let before = p.data_sends(End::A).len();
    p.link.set_silent(Direction::AToB, lost);
    p.link.set_silent(Direction::BToA, ack_lost);
    p.write(End::A, b"keepalive");
    p.run_until(at + MS * 100);
    p.link.set_silent(Direction::AToB, false);
    p.link.set_silent(Direction::BToA, false);
    p.run_until(at + MS * 900);
    let sends = p.data_sends(End::A);
    let first = sends[before].0;
    sends[before + 1..].iter().map(|s| s.0 - first).collect()
}

/// Linux `tcp_process_tlp_ack`: a probe that resent a lost keepalive is acknowledged by an ACK
/// of exactly `tlp_high_seq`, which ends the episode in none of its branches, so the next lost
/// keepalive gets no probe: it is resent by the RTO (200 ms) and again after the doubled RTO
/// (400 ms later), where a probe would have made the gaps 200 and 200 ms.
#[test]
fn a_probe_that_repaired_a_loss_withholds_the_next_probe_until_the_rto() {
    let mut p = connected(TcpConfig::linux());
    // Keepalive 1 lost, repaired by the probe at 200 ms.
    assert_eq!(keepalive_at(&mut p, secs(2.0), true, false), vec![MS * 200]);
    assert_eq!((p.a.tail_loss_probes(), p.a.retransmissions()), (1, 0));
    // Keepalive 2 lost for longer: no probe; the RTO at 200 ms, the doubled one 400 ms later.
    p.run_until(secs(3.0));
    let before = p.data_sends(End::A).len();
    p.link.set_silent(Direction::AToB, true);
    p.write(End::A, b"keepalive");
    p.run_until(secs(3.0) + MS * 500);
    p.link.set_silent(Direction::AToB, false);
    p.run_until(secs(5.0));
    let sends = p.data_sends(End::A);
    let gaps: Vec<Duration> = sends[before..]
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .collect();
    // With a probe: 200 (probe), 200 (RTO), 400 (doubled RTO, delivered).
    assert_eq!(gaps, vec![MS * 200, MS * 400]);
    assert_eq!((p.a.tail_loss_probes(), p.a.retransmissions()), (1, 2));
    assert_eq!(p.received[1].len(), 2 * b"keepalive".len());
}

/// The episode ends at an ACK beyond the probe's high mark (`tcp_process_tlp_ack`: "ACK
/// advances: there was a loss"): after a delivered keepalive, the next lost one is probed again.
#[test]
fn the_probe_episode_ends_at_an_ack_beyond_its_high_mark() {
    let mut p = connected(TcpConfig::linux());
    assert_eq!(keepalive_at(&mut p, secs(2.0), true, false), vec![MS * 200]);
    assert_eq!(keepalive_at(&mut p, secs(3.0), false, false), vec![]);
    assert_eq!(keepalive_at(&mut p, secs(4.0), true, false), vec![MS * 200]);
    assert_eq!((p.a.tail_loss_probes(), p.a.retransmissions()), (2, 0));
}

/// When the keepalive arrived and only its ACK was lost, the probe is a duplicate: the receiver
/// reports it in a D-SACK block (`tcp_send_dupack`), which ends the episode (`FLAG_DSACK_TLP`),
/// so the next lost keepalive is probed at once. Without the D-SACK the ACK of exactly the high
/// mark would have kept the episode open.
#[test]
fn a_dsack_of_the_probe_ends_the_episode() {
    let mut p = connected(TcpConfig::linux());
    assert_eq!(keepalive_at(&mut p, secs(2.0), false, true), vec![MS * 200]);
    let dsacks: Vec<&Segment> = p
        .sent
        .iter()
        .filter(|r| r.from == End::B)
        .map(|r| &r.seg)
        .filter(|s| s.dsack.is_some())
        .collect();
    assert_eq!(dsacks.len(), 1, "one D-SACK, for the duplicate");
    let (left, right) = dsacks[0].dsack.unwrap_or_default();
    assert_eq!(right.wrapping_sub(left), 9);
    assert_eq!(right, dsacks[0].ack);
    assert_eq!(dsacks[0].tcp_header_len(), 44);
    assert_eq!(keepalive_at(&mut p, secs(3.0), true, false), vec![MS * 200]);
    assert_eq!((p.a.tail_loss_probes(), p.a.retransmissions()), (2, 0));
    // The RFC preset negotiates no SACK here and sends no D-SACK.
    let mut q = connected(TcpConfig {
        tail_loss_probe: false,
        ..TcpConfig::linux()
    });
    keepalive_at(&mut q, secs(2.0), false, true);
    assert!(q.sent.iter().all(|r| r.seg.dsack.is_none()));
}

/// `tcp_process_tlp_ack`'s last branch: a pure duplicate ACK at the high mark (no data, same
/// window) shows the original and the probe both arrived, and ends the episode, so the next
/// lost keepalive is probed; one that changes the window (`FLAG_NOT_DUP`) does not, and the
/// next lost keepalive waits for the RTO.
#[test]
fn a_pure_duplicate_ack_at_the_high_mark_ends_the_episode_and_a_window_update_does_not() {
    let run = |window_update: bool| {
        let mut p = connected(TcpConfig::linux());
        assert_eq!(keepalive_at(&mut p, secs(2.0), true, false), vec![MS * 200]);
        // B's last ACK (of the probe), sent again.
        let mut dup = p
            .sent
            .iter()
            .rev()
            .find(|r| r.from == End::B)
            .map(|r| r.seg.clone())
            .unwrap_or_else(|| panic!("B sent nothing"));
        if window_update {
            dup.window -= 1;
        }
        let now = p.engine.now();
        p.a.handle_segment(now, &dup);
        assert_eq!(keepalive_at(&mut p, secs(3.0), true, false), vec![MS * 200]);
        (p.a.tail_loss_probes(), p.a.retransmissions())
    };
    assert_eq!(run(false), (2, 0), "probed");
    assert_eq!(run(true), (1, 1), "resent by the RTO");
}

/// A fast retransmission of a timed segment is timed by its echoed timestamp, as Linux does
/// for an ACK of retransmitted data (`tcp_clean_rtx_queue` sets `FLAG_RETRANS_DATA_ACKED`,
/// `tcp_ack_update_rtt` then takes `tcp_rtt_tsopt_us`): 20 ms on a 20 ms path. Timing it from
/// the original's send time gave 40 ms, moving SRTT to 22.5 ms; samples of a whole loss
/// episode (seconds, after several retransmissions) inflated the probe timeout by as much.
#[test]
fn an_ack_of_a_fast_retransmission_is_timed_by_the_echoed_timestamp() {
    let mut p = connected(TcpConfig::linux());
    assert_eq!(p.a.srtt(), Some(MS * 20));
    p.run_until(secs(2.0));
    // The first of five full segments is lost; the other four produce duplicate ACKs.
    p.link.set_silent(Direction::AToB, true);
    assert_eq!(p.write(End::A, &pattern(1448)), 1448);
    p.link.set_silent(Direction::AToB, false);
    assert_eq!(p.write(End::A, &pattern(4 * 1448)), 4 * 1448);
    p.run_until(secs(3.0));
    assert_eq!(p.received[1].len(), 5 * 1448);
    assert_eq!(p.a.fast_retransmits(), 1);
    assert_eq!(p.a.retransmissions(), 0);
    assert_eq!(p.a.srtt(), Some(MS * 20));
}
