//! TCP tunables, with presets for the RFC and for Linux.

use serde::{Deserialize, Serialize};

use crate::time::Duration;

/// The tunables of one endpoint. Use a preset and adjust fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TcpConfig {
    /// Our maximum segment size, announced in the SYN; the effective MSS is the smaller of
    /// ours and the peer's.
    pub mss: u16,
    /// RTO before any RTT sample. RFC 6298 §2.1: "Until a round-trip time (RTT) measurement
    /// has been made [...] the sender SHOULD set RTO <- 1 second".
    pub initial_rto: Duration,
    /// Floor of the RTO. RFC 6298 §2.4: "Whenever RTO is computed, if it is less than 1 second,
    /// then the RTO SHOULD be rounded up to 1 second"; Linux uses `TCP_RTO_MIN` = 200 ms.
    pub min_rto: Duration,
    /// Ceiling of the backed-off RTO. RFC 6298 §2.5: "A maximum value MAY be placed on RTO
    /// provided it is at least 60 seconds"; Linux `TCP_RTO_MAX` = 120 s.
    pub max_rto: Duration,
    /// Clock granularity `G` of RFC 6298 §2.2 (`RTO <- SRTT + max (G, K*RTTVAR)`).
    pub clock_granularity: Duration,
    /// SYN retransmissions before giving up (Linux `tcp_syn_retries` = 6: gives up 127 s
    /// after the first SYN with a 1 s initial RTO).
    pub syn_retries: u32,
    /// SYN-ACK retransmissions of a passive opener before it returns to LISTEN (Linux
    /// `tcp_synack_retries` = 5).
    pub synack_retries: u32,
    /// Data retransmissions before the connection is aborted (Linux `tcp_retries2` = 15).
    /// The abort happens when the RTO following the last retransmission expires, or see
    /// [`TcpConfig::abort_by_elapsed_time`].
    pub max_retransmissions: u32,
    /// Linux semantics for [`TcpConfig::max_retransmissions`]: it is turned into a time
    /// budget (the time that many retransmissions take from an RTO at the floor, doubling up to
    /// the ceiling: 924.6 s for 15), and the connection is aborted at the first RTO expiry at
    /// least that long after the unacknowledged segment was first sent
    /// (`retransmits_timed_out`). Identical to counting when the RTO sits at the floor; earlier
    /// on a long path, where the RTO starts higher. `false` counts retransmissions.
    pub abort_by_elapsed_time: bool,
    /// RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
    /// implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized to
    /// 3 seconds when data transmission begins". Applied when the handshake yielded no valid
    /// RTT sample, as Linux does (`tcp_init_metrics`, `TCP_TIMEOUT_FALLBACK` = 3 s). `None`
    /// keeps the backed-off RTO instead.
    pub rto_fallback: Option<Duration>,
    /// Whether to offer the timestamps option (RFC 7323; Linux `tcp_timestamps` = 1). When both
    /// ends offer it, every segment carries it (12 bytes, so a segment holds MSS − 12 octets of
    /// data, as on Linux), and an RTT sample is taken even from a retransmitted segment:
    /// RFC 7323 §4 lets the echoed timestamp resolve the ambiguity Karn's rule avoids, so
    /// Linux's backed-off RTO collapses as soon as a retransmission is acknowledged
    /// (`tcp_ack_update_rtt`). Without it (RFC preset) the back-off lasts until a
    /// never-retransmitted segment is acknowledged, which delays the next keepalive's
    /// retransmission on a lossy path.
    pub timestamps: bool,
    /// Tail-loss probe (RFC 8985 §7, as Linux runs it: `tcp_schedule_loss_probe` and
    /// `tcp_send_loss_probe` in `net/ipv4/tcp_output.c`, on by default through
    /// `tcp_early_retrans` = 3). While data is outstanding and no recovery is under way, a
    /// probe timeout runs before the RTO: 2·SRTT, plus the RTO floor (Linux's stand-in for
    /// the peer's worst-case delayed ACK) when a single segment is in flight or 2 ms
    /// (`TCP_TIMEOUT_MIN`) otherwise, 1 s before any RTT sample, and never past the RTO's
    /// expiry. When it fires, one segment goes out: new data if the peer's window allows,
    /// else the last segment sent again; then the RTO restarts in full. No further probe is
    /// sent until the probe's episode ends, which after a probe that repaired a lost segment
    /// is only at the ACK of later data or an RTO, as in Linux (`tcp_process_tlp_ack`); the
    /// receiver reports a duplicate segment in a D-SACK block. So a lost keepalive on a path
    /// with a small RTT is resent after about 200 ms by the probe, 200 ms later by the RTO, and
    /// then with the doubling back-off; the next one lost after a repair has no probe: 200 ms,
    /// then 400 ms. See `tlp.rs` for what of RACK is taken along.
    pub tail_loss_probe: bool,
    /// Initial congestion window in segments (RFC 6928 and Linux: 10).
    pub initial_window: u32,
    /// Receive buffer in bytes; the advertised window is its free space, at most 65,535
    /// (no window scaling).
    pub recv_buffer: u32,
    /// Send buffer in bytes: [`super::Endpoint::write`] accepts at most the free space.
    pub send_buffer: u32,
    /// How long TIME-WAIT lasts (Linux `TCP_TIMEWAIT_LEN` = 60 s; RFC 9293 2*MSL = 4 min).
    pub time_wait: Duration,
}

impl TcpConfig {
    /// RFC 6298 as written: 1 s floor, 60 s ceiling, RTO reset to 3 s after a handshake
    /// without RTT sample, no tail-loss probe; the retry counts of Linux, so the two presets
    /// differ only where the RFC speaks.
    #[must_use]
    pub const fn rfc6298() -> Self {
        Self {
            mss: 1460,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(60),
            clock_granularity: Duration::from_millis(1),
            syn_retries: 6,
            synack_retries: 5,
            max_retransmissions: 15,
            abort_by_elapsed_time: false,
            rto_fallback: Some(Duration::from_secs(3)),
            timestamps: false,
            tail_loss_probe: false,
            initial_window: 10,
            recv_buffer: 65_535,
            send_buffer: 4 << 20,
            time_wait: Duration::from_secs(240),
        }
    }

    /// Linux defaults: 200 ms floor, 120 s ceiling, timestamps on, the tail-loss probe on,
    /// `tcp_syn_retries` 6, `tcp_retries2` 15 (a time budget of 924.6 s from the first
    /// transmission, with a 200 ms RTO).
    #[must_use]
    pub const fn linux() -> Self {
        Self {
            min_rto: Duration::from_millis(200),
            max_rto: Duration::from_secs(120),
            timestamps: true,
            tail_loss_probe: true,
            abort_by_elapsed_time: true,
            time_wait: Duration::from_secs(60),
            ..Self::rfc6298()
        }
    }
}

impl Default for TcpConfig {
    /// [`TcpConfig::linux`]: what the speakers being modelled run.
    fn default() -> Self {
        Self::linux()
    }
}
