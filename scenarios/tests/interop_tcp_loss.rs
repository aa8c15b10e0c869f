//! Issue 20, item 2: the `linux` TCP preset's retransmission timing (the tail-loss probe of
//! RFC 8985 §7, then the RTO, then its doubling; `sim_core::tcp::TcpConfig::linux`) checked
//! against the kernel's own TCP.
//!
//! Two BIRD daemons, each in a network namespace of its own, joined by a veth pair
//! (10.239.0.0/30), hold their eBGP session with keepalive 1 s / hold 9 s. Each namespace
//! drops 40 % of the BGP segments with payload coming in, at random (nftables `numgen random`
//! in its input hook; pure ACKs, 52 octets with timestamps, pass), so that a capture on A's
//! end of the veth sees every transmission both ways, the lost ones included. tshark captures
//! 40 s; every segment with payload sent more than once is a loss episode, and the gaps between
//! its transmissions are the retransmission spacing: the first gap the probe timeout, the
//! second the RTO run from the probe, the third the RTO doubled. The model runs the same thing
//! in virtual time (two `sim_core::tcp::Endpoint`s on the `linux` preset, the measured RTT,
//! the same loss of segments with payload, 19-octet keepalives every 0.875 s, BIRD's mean with
//! its 75-100 % jitter). The medians of the first, second and third gaps must agree within
//! [`TOLERANCE_PERMILLE`] (at least 10, 3 and 1 episodes measured), each taken over the gaps as
//! timed: a gap more than 1.5 times the model's median is one after a further doubling of the
//! RTO. How often the second gap doubled is compared too (at least [`SHARE_MIN_EPISODES`]
//! measured): it doubles when the first retransmission was the RTO rather than a probe, which
//! Linux does for a segment lost right after one a probe repaired (`tcp_process_tlp_ack` keeps
//! the probe's episode open; see the preset's `tlp.rs`). The measured count must lie in the
//! acceptance region of an exact binomial test at [`SHARE_ALPHA`] for some share within
//! [`SHARE_Z`] standard errors of the model's. Before the preset modelled that rule it doubled
//! about 1 % of second gaps (the model now about 22 %); Linux doubled 17-50 % of 14-18 in
//! earlier 40 s runs, and 0 of 32, 2 of 28, 5 of 27 and 10 of 41 in four 90 s runs (in the
//! run inspected episode by episode every doubled one followed a probe-repaired loss of the
//! segment just before, as the rule says). Single gaps
//! are printed, not bounded: when two segments are in flight the probe timeout is
//! 2·SRTT + 2 ms, and a measured first gap of 8 ms was seen once.
//!
//! Why pure ACKs are spared: a lost ACK makes the sender resend data that had arrived, and the
//! timestamp echoed for it (the original's) gives Linux an RTT sample of the whole probe
//! timeout, which its SRTT carries for seconds; with every packet dropped at random the first
//! gaps measured here at 20 % loss had medians of 211, 219 and 280 ms in three runs, where the preset stays at
//! 200 ms. The check isolates the probe and the RTO; that deviation is reported in the issue.
//!
//! Skips with a printed reason when BIRD, tshark or nft is missing or when not root, unless
//! `CI=true` (`.ci/run` installs bird2, tshark and nftables and runs it as root). About 95 s.

mod interop_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use interop_support::{Daemon, output, poll, require, require_root, temp_dir};
use sim_core::rng::Seed;
use sim_core::tcp::{Endpoint, Segment, TcpConfig};
use sim_core::time::{Duration, Instant};

/// Share of the incoming BGP segments with payload each namespace drops, in percent: enough
/// for a few segments lost three times in a row within the capture.
const LOSS_PERCENT: u32 = 40;
/// How long tshark captures, in seconds: long enough for about 30 second retransmission gaps
/// (40 s gave 14, too few to tell a share of 1 % from one of 20 % reliably).
const CAPTURE_SECS: u64 = 90;
/// Second gaps the capture must hold for the share that doubled to be compared.
const SHARE_MIN_EPISODES: usize = 15;
/// Error rate of each of the two steps of the check of the share of doubled second gaps (the
/// model's share within its own interval, the measured count within the binomial acceptance
/// region of a share in that interval): a correct model fails it with probability below
/// 2 x 0.0005 = 1 in 1,000.
const SHARE_ALPHA: f64 = 0.0005;
/// The two-sided normal quantile for [`SHARE_ALPHA`]: 3.48 standard errors.
const SHARE_Z: f64 = 3.48;
/// The tolerance on each median gap: 20 % of the model's, plus 4 ms (one jiffy at `HZ` = 250,
/// the kernel's timer granularity here). Measured over four runs (RTT 32-37 µs): first gap
/// medians 208-211 ms, second 208-212 ms, third 432-448 ms, against the preset's 200, 200 and
/// 400 ms. Linux runs a few per cent later: its timers fire on the next jiffy, and its RTO is
/// SRTT + RTTVAR with RTTVAR kept at least `tcp_rto_min` (`tcp_rtt_estimator`,
/// `__tcp_set_rto`) where the preset takes max(200 ms, SRTT + 4·RTTVAR). A preset without the
/// probe (second gap 400 ms) or with RFC 6298's 1 s floor would fail.
const TOLERANCE_PERMILLE: u32 = 200;
const JIFFY: StdDuration = StdDuration::from_millis(4);

/// Two namespaces joined by a veth pair, removed (with the pair) on drop.
struct NsPair {
    names: [String; 2],
    /// A's end of the veth.
    veth_a: String,
}

impl NsPair {
    const ADDRS: [&str; 2] = ["10.239.0.1", "10.239.0.2"];

    fn create() -> Self {
        let pid = std::process::id();
        let pair = Self {
            names: [format!("holdtime-tlA-{pid}"), format!("holdtime-tlB-{pid}")],
            veth_a: format!("tl{}a", pid % 100_000),
        };
        let veth_b = format!("tl{}b", pid % 100_000);
        let ip = |args: &[&str]| {
            let ok = Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "ip {}", args.join(" "));
        };
        for name in &pair.names {
            ip(&["netns", "add", name]);
        }
        ip(&[
            "link",
            "add",
            &pair.veth_a,
            "netns",
            &pair.names[0],
            "type",
            "veth",
            "peer",
            "name",
            &veth_b,
            "netns",
            &pair.names[1],
        ]);
        for (i, dev) in [&pair.veth_a, &veth_b].into_iter().enumerate() {
            let addr = format!("{}/30", Self::ADDRS[i]);
            ip(&["-n", &pair.names[i], "addr", "add", &addr, "dev", dev]);
            ip(&["-n", &pair.names[i], "link", "set", dev, "up"]);
            ip(&["-n", &pair.names[i], "link", "set", "lo", "up"]);
        }
        pair
    }

    /// `program` run inside namespace `i`.
    fn command(&self, i: usize, program: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.names[i]]).arg(program);
        c
    }
}

impl Drop for NsPair {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// BIRD `i` (0: A, AS 65001; 1: B, AS 65002) in its namespace, peering with the other over the
/// veth with keepalive 1 s / hold 9 s; returns the daemon and its control socket.
fn start_bird(pair: &NsPair, bird: &Path, i: usize) -> (Daemon, PathBuf) {
    let dir = temp_dir(&format!("bird-tl{i}"), 239);
    let conf = dir.join("bird.conf");
    let socket = dir.join("bird.ctl");
    let config = format!(
        "router id {me};
protocol device {{ }}
protocol bgp peer {{
  local {me} as {asn};
  neighbor {other} as {other_asn};
  hold time 9;
  keepalive time 1;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 {{ import none; export none; }};
}}
",
        me = NsPair::ADDRS[i],
        other = NsPair::ADDRS[1 - i],
        asn = 65_001 + i,
        other_asn = 65_002 - i,
    );
    std::fs::write(&conf, config).expect("write bird.conf");
    let child = pair
        .command(i, bird)
        .arg("-f")
        .arg("-c")
        .arg(&conf)
        .arg("-s")
        .arg(&socket)
        .arg("-P")
        .arg(dir.join("bird.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bird");
    (Daemon { child, dir }, socket)
}

/// Payload-carrying transmissions from a capture or a model run: (sender, sequence number,
/// length) → the times it went out, in order.
type Sends = BTreeMap<(String, u64, u64), Vec<StdDuration>>;

/// The gaps between successive transmissions of every segment sent more than once: index 0
/// holds the first gaps (original to first retransmission), index 1 the second, and so on.
fn gaps(sends: &Sends) -> Vec<Vec<StdDuration>> {
    let mut by_index: Vec<Vec<StdDuration>> = Vec::new();
    for times in sends.values() {
        for (k, w) in times.windows(2).enumerate() {
            if by_index.len() <= k {
                by_index.push(Vec::new());
            }
            by_index[k].push(w[1].saturating_sub(w[0]));
        }
    }
    by_index
}

/// Binomial probability of `k` successes in `n` trials of probability `p`.
fn binomial_pmf(n: usize, k: usize, p: f64) -> f64 {
    if k > n {
        return 0.0;
    }
    if p <= 0.0 || p >= 1.0 {
        let certain = if p <= 0.0 { 0 } else { n };
        return if k == certain { 1.0 } else { 0.0 };
    }
    let ln_choose: f64 = (0..k)
        .map(|i| ((n - i) as f64).ln() - ((i + 1) as f64).ln())
        .sum();
    (ln_choose + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp()
}

/// Two-sided exact binomial test: the probability, at share `p`, of an outcome of `n` trials
/// no likelier than `k`.
fn binomial_p_value(n: usize, k: usize, p: f64) -> f64 {
    let at = binomial_pmf(n, k, p) * (1.0 + 1e-9);
    (0..=n)
        .map(|i| binomial_pmf(n, i, p))
        .filter(|q| *q <= at)
        .sum::<f64>()
        .min(1.0)
}

/// Whether `k` doubled of `n` measured agrees with the model's `s_hi` doubled of `s_n`: some
/// share within [`SHARE_Z`] standard errors of the model's (its run is finite too) leaves `k`
/// inside the exact binomial test's acceptance region at [`SHARE_ALPHA`]. Returns the verdict,
/// the share interval and the largest p-value found in it.
fn shares_agree(n: usize, k: usize, s_n: usize, s_hi: usize) -> (bool, (f64, f64), f64) {
    let p = s_hi as f64 / s_n.max(1) as f64;
    let se = (p * (1.0 - p) / s_n.max(1) as f64).sqrt();
    let (lo, hi) = ((p - SHARE_Z * se).max(0.0), (p + SHARE_Z * se).min(1.0));
    let best = (0..=200)
        .map(|i| binomial_p_value(n, k, lo + (hi - lo) * f64::from(i) / 200.0))
        .fold(0.0, f64::max);
    (best >= SHARE_ALPHA, (lo, hi), best)
}

#[test]
fn the_share_check_tells_one_percent_from_a_fifth_and_passes_a_match() {
    // 30 second gaps measured, the model's share from 1,500 of its own.
    assert!(shares_agree(30, 6, 1_500, 300).0, "6/30 against 20 %");
    assert!(
        shares_agree(30, 2, 1_500, 300).0,
        "2/30 against 20 %: unlikely, not rare enough"
    );
    assert!(!shares_agree(30, 6, 1_500, 15).0, "6/30 against 1 %");
    assert!(!shares_agree(30, 18, 1_500, 300).0, "18/30 against 20 %");
    assert!(shares_agree(30, 1, 1_500, 15).0, "1/30 against 1 %");
    assert!((binomial_p_value(10, 5, 0.5) - 1.0).abs() < 1e-9);
    assert!((binomial_p_value(4, 0, 0.5) - 0.125).abs() < 1e-9);
}

fn median(xs: &[StdDuration]) -> Option<StdDuration> {
    let mut v = xs.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

/// Reads the capture with tshark: the payload-carrying segments, and the median of tshark's
/// ACK round-trip times of segments sent once.
fn read_capture(tshark: &Path, pcap: &Path) -> (Sends, Option<StdDuration>) {
    let path = pcap.to_string_lossy();
    let segments = output(
        tshark,
        &[
            "-r",
            &path,
            "-Y",
            "tcp.len > 0",
            "-T",
            "fields",
            "-e",
            "frame.time_relative",
            "-e",
            "ip.src",
            "-e",
            "tcp.seq_raw",
            "-e",
            "tcp.len",
        ],
    );
    let mut sends = Sends::new();
    for line in segments.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (Some(t), Some(src), Some(seq), Some(len)) = (
            f.first().and_then(|s| s.parse::<f64>().ok()),
            f.get(1),
            f.get(2).and_then(|s| s.parse::<u64>().ok()),
            f.get(3).and_then(|s| s.parse::<u64>().ok()),
        ) else {
            continue;
        };
        sends
            .entry(((*src).to_owned(), seq, len))
            .or_default()
            .push(StdDuration::from_secs_f64(t));
    }
    let rtts = output(
        tshark,
        &[
            "-r",
            &path,
            "-Y",
            "tcp.analysis.ack_rtt && !tcp.analysis.retransmission",
            "-T",
            "fields",
            "-e",
            "tcp.analysis.ack_rtt",
        ],
    );
    let rtts: Vec<StdDuration> = rtts
        .lines()
        .filter_map(|l| l.trim().parse::<f64>().ok())
        .filter(|s| *s < 0.1)
        .map(StdDuration::from_secs_f64)
        .collect();
    (sends, median(&rtts))
}

/// The model's run of the same exchange: two endpoints on the `linux` preset joined by a
/// path of one-way delay half `rtt`, each segment with payload lost with probability
/// `LOSS_PERCENT` % (pure ACKs pass, as the nftables rule lets them), each end writing a
/// 19-octet keepalive every 875 ms (A) and 880 ms (B), for 2,000 s of virtual time.
/// Deterministic: the loss draws come from one seeded stream.
fn model_sends(rtt: StdDuration) -> Sends {
    let seed = Seed(20);
    let cfg = TcpConfig::linux();
    let mut ends = [
        Endpoint::new(cfg, 40_179, 179, &mut seed.stream_named("tcp/a/isn")),
        Endpoint::new(cfg, 179, 40_179, &mut seed.stream_named("tcp/b/isn")),
    ];
    let mut loss = seed.stream_named("loss");
    let p = f64::from(LOSS_PERCENT) / 100.0;
    let delay = Duration::from_nanos(u64::try_from(rtt.as_nanos() / 2).unwrap_or(1).max(1));
    let stop = Instant::ZERO + Duration::from_secs(2_000);
    let every = [Duration::from_millis(875), Duration::from_millis(880)];
    let mut next_write = [
        Instant::ZERO + Duration::from_secs(5),
        Instant::ZERO + Duration::from_millis(5_440),
    ];
    let keepalive = [19_u8; 19];
    // (arrival, order) → (receiving end, segment).
    let mut in_flight: BTreeMap<(Instant, u64), (usize, Segment)> = BTreeMap::new();
    let mut order = 0_u64;
    let mut sends = Sends::new();
    let mut now = Instant::ZERO;
    assert!(ends[1].listen().is_ok() && ends[0].connect(now).is_ok());
    loop {
        for (i, name) in ["a", "b"].into_iter().enumerate() {
            while let Some(seg) = ends[i].poll_transmit(now) {
                if !seg.payload.is_empty() {
                    let len = u64::try_from(seg.payload.len()).unwrap_or(u64::MAX);
                    sends
                        .entry((name.to_owned(), u64::from(seg.seq), len))
                        .or_default()
                        .push(StdDuration::from_nanos(now.as_nanos()));
                    if loss.bernoulli(p) {
                        continue;
                    }
                }
                order += 1;
                in_flight.insert((now + delay, order), (1 - i, seg));
            }
            let mut buf = [0_u8; 4096];
            while ends[i].read(&mut buf) > 0 {}
            while ends[i].poll_event().is_some() {}
        }
        let arrival = in_flight.keys().next().map(|k| k.0);
        let timers = ends.iter().filter_map(Endpoint::poll_timeout).min();
        let write = next_write.iter().copied().min();
        let Some(next) = [arrival, timers, write]
            .into_iter()
            .flatten()
            .min()
            .filter(|t| *t <= stop)
        else {
            break;
        };
        now = next;
        if arrival == Some(now) {
            if let Some((_, (to, seg))) = in_flight.pop_first() {
                ends[to].handle_segment(now, &seg);
            }
        } else if timers == Some(now) {
            for e in &mut ends {
                if e.poll_timeout().is_some_and(|t| t <= now) {
                    e.handle_timeout(now);
                }
            }
        } else {
            let i = usize::from(next_write[1] < next_write[0]);
            let _ = ends[i].write(&keepalive);
            next_write[i] += every[i];
        }
    }
    sends
}

#[test]
fn first_retransmissions_under_random_loss_are_spaced_as_the_linux_preset_models() {
    let (Some(bird), Some(birdc), Some(tshark), Some(nft)) = (
        require("bird", "bird2"),
        require("birdc", "bird2"),
        require("tshark", "tshark"),
        require("nft", "nftables"),
    ) else {
        return;
    };
    if !require_root("two BIRDs in network namespaces with nftables loss") {
        return;
    }
    let pair = NsPair::create();
    let (bird_a, socket_a) = start_bird(&pair, &bird, 0);
    let (bird_b, _) = start_bird(&pair, &bird, 1);
    let socket_a = socket_a.to_string_lossy().into_owned();
    let up = poll(
        StdDuration::from_secs(15),
        StdDuration::from_millis(200),
        || output(&birdc, &["-s", &socket_a, "show", "protocols", "peer"]).contains("Established"),
    );
    assert!(up, "the two BIRDs never reached Established");
    let dir = temp_dir("tcp-loss", 239);
    let pcap = dir.join("loss.pcapng");
    let mut capture = pair
        .command(0, &tshark)
        .args(["-q", "-i", &pair.veth_a, "-f", "tcp port 179", "-a"])
        .arg(format!("duration:{CAPTURE_SECS}"))
        .arg("-w")
        .arg(&pcap)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tshark");
    // Let the capture open before the loss starts.
    std::thread::sleep(StdDuration::from_millis(1_500));
    for i in 0..2 {
        let nft_in = |args: &[&str]| {
            let ok = pair
                .command(i, &nft)
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "nft {}", args.join(" "));
        };
        nft_in(&["add", "table", "inet", "holdtime_loss"]);
        nft_in(&["add chain inet holdtime_loss input { type filter hook input priority 0 ; }"]);
        for port in ["sport", "dport"] {
            nft_in(&[&format!(
                "add rule inet holdtime_loss input tcp {port} 179 ip length > 52 numgen random mod 100 < {LOSS_PERCENT} drop"
            )]);
        }
    }
    let captured = capture.wait().is_ok_and(|s| s.success());
    let still_up =
        output(&birdc, &["-s", &socket_a, "show", "protocols", "peer"]).contains("Established");
    drop(bird_a);
    drop(bird_b);
    drop(pair);
    assert!(captured, "tshark failed");
    let (sends, rtt) = read_capture(&tshark, &pcap);
    let _ = std::fs::remove_dir_all(&dir);
    let measured = gaps(&sends);
    let rtt = rtt.unwrap_or(StdDuration::from_micros(50));
    let modelled = gaps(&model_sends(rtt));
    println!(
        "{} segments with payload captured in {CAPTURE_SECS} s at {LOSS_PERCENT} % loss each way, median ACK RTT {rtt:?}; session still Established: {still_up}",
        sends.len()
    );
    for (k, what) in ["first", "second", "third"].into_iter().enumerate() {
        let m = measured.get(k).map_or(&[][..], Vec::as_slice);
        let s = modelled.get(k).map_or(&[][..], Vec::as_slice);
        let Some(s_med) = median(s) else {
            panic!("no {what} retransmission gaps modelled: measured {m:?}")
        };
        assert!(
            m.len() >= [10, 3, 1][k],
            "too few {what} gaps measured to compare: {m:?}"
        );
        // Two modes: the gap as timed (about the model's median), and the gap after one more
        // doubling of the RTO (a loss of the probe's ACK, or the probe spent on another
        // segment). Compared mode by mode: the gap as timed, and how often it doubled.
        let split = s_med * 3 / 2;
        let (m_lo, m_hi): (Vec<_>, Vec<_>) = m.iter().partition(|g| **g <= split);
        let (s_lo, s_hi): (Vec<_>, Vec<_>) = s.iter().partition(|g| **g <= split);
        let tolerance = s_med * TOLERANCE_PERMILLE / 1000 + JIFFY;
        let share = |hi: usize, all: usize| hi as f64 / all.max(1) as f64;
        let (m_share, s_share) = (share(m_hi.len(), m.len()), share(s_hi.len(), s.len()));
        println!(
            "{what} retransmission gap: measured {} episodes, {} as timed (median {:?}), {} doubled (share {m_share:.2}; min {:?}, max {:?}); linux preset {} episodes, median {:?} as timed, share doubled {s_share:.2}; tolerance {tolerance:?}",
            m.len(),
            m_lo.len(),
            median(&m_lo),
            m_hi.len(),
            m.iter().min().copied().unwrap_or_default(),
            m.iter().max().copied().unwrap_or_default(),
            s.len(),
            median(&s_lo),
        );
        let (Some(m_med), Some(s_lo_med)) = (median(&m_lo), median(&s_lo)) else {
            panic!("no {what} retransmission gap as timed (at most {split:?}): measured {m:?}")
        };
        assert!(
            m_med.abs_diff(s_lo_med) <= tolerance,
            "{what} retransmission gap as timed: measured median {m_med:?} vs the linux preset's {s_lo_med:?}, more than {tolerance:?} apart; measured {m:?}"
        );
        // How often the second gap doubled: after a probe that repaired a lost segment Linux
        // sends no probe for the next one (`tcp_process_tlp_ack`, see the preset's `tlp.rs`),
        // whose first retransmission is then the RTO and whose second the doubled RTO. The
        // preset without that rule doubled about 1 % of second gaps where Linux doubled 17-50 %
        // in three runs of 14 episodes: this check fails it.
        if k == 1 {
            assert!(
                m.len() >= SHARE_MIN_EPISODES,
                "too few second gaps measured to compare how often they doubled: {m:?}"
            );
            let (agree, (lo, hi), p_value) = shares_agree(m.len(), m_hi.len(), s.len(), s_hi.len());
            println!(
                "second gaps doubled: measured {} of {}, linux preset {} of {} (share {lo:.3}-{hi:.3} at {SHARE_Z} standard errors); largest exact binomial p-value {p_value:.4}, bound {SHARE_ALPHA}",
                m_hi.len(),
                m.len(),
                s_hi.len(),
                s.len()
            );
            assert!(
                agree,
                "second retransmission gaps doubled: measured {} of {}, the linux preset {} of {}: no share in {lo:.3}-{hi:.3} makes the measured count likelier than p = {SHARE_ALPHA} (largest {p_value:.5})",
                m_hi.len(),
                m.len(),
                s_hi.len(),
                s.len()
            );
        }
    }
}
