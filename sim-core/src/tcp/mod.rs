//! A sans-IO TCP endpoint: a reliable, ordered byte stream, faithful where BGP timing
//! depends on it.
//!
//! BGP runs over TCP (RFC 4271 §2), and when a path dies silently what the speaker sees first
//! is TCP retransmitting: the hold timer races TCP's retransmission back-off and its abort
//! after `tcp_retries2`. This module models exactly that part of TCP, with real sequence
//! numbers, so segments can be written to a pcap as they are.
//!
//! # Use (quinn-proto style)
//!
//! An [`Endpoint`] never reads a clock or touches a socket. The driver:
//!
//! 1. creates it with [`Endpoint::new`], then calls [`Endpoint::connect`] (active open) or
//!    [`Endpoint::listen`] (passive open);
//! 2. feeds inputs: [`Endpoint::handle_segment`] when a segment arrives,
//!    [`Endpoint::handle_timeout`] when [`Endpoint::poll_timeout`]'s instant is reached, and the
//!    application's [`Endpoint::write`], [`Endpoint::read`], [`Endpoint::close`] and
//!    [`Endpoint::abort`];
//! 3. after every input, drains the outputs: [`Endpoint::poll_transmit`] until `None` (send
//!    each segment over a link), [`Endpoint::poll_event`] until `None`, and re-arms its timer
//!    from [`Endpoint::poll_timeout`].
//!
//! # What is modelled
//!
//! - Three-way handshake with SYN (and SYN-ACK) retransmission: initial RTO 1 s, doubling;
//!   the active opener gives up after [`TcpConfig::syn_retries`] (Linux 6: at 1+2+4+8+16+32+64
//!   = 127 s) and reports [`AbortReason::SynRetriesExhausted`].
//! - Segmentation at the MSS (the smaller of ours and the peer's SYN option), cumulative ACKs.
//! - ACKs are sent immediately for every segment that carries data or FIN, including
//!   out-of-order ones (which thereby act as duplicate ACKs); there is **no delayed ACK**.
//! - The retransmission timer of RFC 6298: SRTT/RTTVAR, Karn's rule (one timed segment at a
//!   time, never a retransmitted one; with timestamps an ACK of retransmitted data is timed
//!   by its echoed timestamp instead, as Linux's `tcp_ack_update_rtt` does), floor and ceiling
//!   from the config, exponential back-off, timer management of §5. On expiry the earliest
//!   unacknowledged segment is resent and the sender goes back to it (go-back-N paced by a
//!   one-segment loss window in bytes, RFC 5681 §3.1). Linux counts the window in segments
//!   (`tcp_enter_loss`, `tcp_cwnd_test`): a keepalive written during RTO recovery waits there
//!   for the ACK of the retransmission, where here it goes out beside it and the next RTO
//!   resends both merged (a known deviation: it shortens chains of retransmissions).
//! - Abort after [`TcpConfig::max_retransmissions`] retransmissions of the same data, when the
//!   next RTO expires, reported as [`AbortReason::RetriesExhausted`]. With Linux's 200 ms floor,
//!   120 s ceiling and 15 retries that is 924.6 s after the first transmission.
//! - Abort timing follows Linux when [`TcpConfig::abort_by_elapsed_time`] is set (the Linux
//!   preset): `tcp_retries2` becomes a time budget (924.6 s for 15 with a 200 ms floor) and the
//!   connection dies at the first RTO expiry past it, so a long path gives up after fewer
//!   retransmissions (with the tail-loss probe ahead of the RTOs, a lone segment on a short
//!   path is given up 924.8 s after it was sent). The RFC preset counts retransmissions.
//! - Fast retransmit on the third duplicate ACK, then NewReno fast recovery (RFC 5681 §3.2,
//!   RFC 6582): a hole with three or more segments behind it is repaired after one RTT rather
//!   than one RTO.
//! - The tail-loss probe of RFC 8985 §7 as Linux runs it ([`TcpConfig::tail_loss_probe`], on
//!   in the Linux preset): about 2·SRTT + 200 ms after a lone segment goes unacknowledged, the
//!   last segment is sent again and the RTO restarts in full from there, so a lost keepalive is
//!   resent after about 200 ms, 200 ms later, then with the doubling back-off (`tlp.rs`).
//! - Head-of-line blocking: the receiver delivers bytes only in order and buffers segments
//!   beyond a gap.
//! - Flow control by the advertised window (no window scaling), with a persist timer probing a
//!   zero window (RFC 9293 §3.8.6.1) the way Linux does: an empty segment one below SND.UNA
//!   that the peer must answer with its current window; probes back off like the RTO.
//! - FIN (orderly close, both half-closes, TIME-WAIT) and RST (abort, reset on unacceptable
//!   segments and on segments to a closed endpoint).
//!
//! # What is left out, and whether it moves keepalive timing
//!
//! - **Congestion control details**: slow start, congestion avoidance, the loss window after an
//!   RTO (RFC 5681) and fast retransmit with NewReno recovery (RFC 6582, without window
//!   inflation) are modelled; CUBIC, SACK-based recovery, RACK and pacing are not (of RACK,
//!   only what the tail-loss probe's ACK reveals is, see `tlp.rs`). BGP keepalives are single
//!   19-byte segments, always inside the initial window of 10 segments, and a lone lost segment
//!   can only be repaired by the probe or the RTO (fast retransmit needs three later segments to
//!   produce duplicate ACKs). So keepalive timing and hold-timer expiry are unaffected; only the
//!   duration of a large UPDATE burst under heavy loss is approximate.
//! - **Delayed ACK** (up to 40 ms on Linux): it delays only acknowledgements, never the
//!   delivery of data to the receiving speaker, so keepalive arrival times do not change; RTT
//!   samples would be up to 40 ms larger, which the 200 ms RTO floor hides.
//! - **SACK, window scaling, PAWS, Nagle, SO_KEEPALIVE, RFC 5961 challenge ACKs**: SACK
//!   changes recovery of several losses in one window (bulk transfer), not the single-segment
//!   keepalive path; PAWS only rejects old duplicates; Nagle could hold a keepalive behind an
//!   unacknowledged UPDATE for one RTT at most (many speakers set `TCP_NODELAY`). The
//!   timestamps option *is* modelled ([`TcpConfig::timestamps`]) because it does move keepalive
//!   timing on a lossy path: it decides how soon a backed-off RTO collapses.

mod config;
mod recv;
mod rtt;
mod segment;
mod tlp;

use std::collections::VecDeque;

use serde::Serialize;

pub use config::TcpConfig;
pub use segment::{Flags, HEADER_LEN, Payload, Segment, Timestamps};

use crate::rng::Stream;
use crate::time::Instant;
use recv::Reassembly;
use rtt::RttEstimator;

/// Connection states, RFC 9293 §3.3.2, in the RFC's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum State {
    /// Waiting for a connection request (passive open).
    Listen,
    /// SYN sent, waiting for the SYN-ACK.
    SynSent,
    /// SYN received and SYN-ACK sent, waiting for its ACK.
    SynReceived,
    /// Open: data flows both ways.
    Established,
    /// We closed; our FIN is not yet acknowledged.
    FinWait1,
    /// We closed and our FIN is acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// The peer closed; we may still send.
    CloseWait,
    /// Both sides closed at once; waiting for the ACK of our FIN.
    Closing,
    /// The peer closed first, then we did; waiting for the ACK of our FIN.
    LastAck,
    /// Both FINs exchanged; lingering to ACK a retransmitted FIN.
    TimeWait,
    /// No connection.
    Closed,
}

impl State {
    /// Whether the handshake has completed (RFC 9293's synchronised states).
    #[must_use]
    pub const fn is_synchronized(self) -> bool {
        !matches!(
            self,
            Self::Listen | Self::SynSent | Self::SynReceived | Self::Closed
        )
    }
}

/// Why the endpoint gave up on the connection by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AbortReason {
    /// Data (or FIN) was retransmitted [`TcpConfig::max_retransmissions`] times without an ACK.
    RetriesExhausted,
    /// The SYN was retransmitted [`TcpConfig::syn_retries`] times without a SYN-ACK.
    SynRetriesExhausted,
}

/// Something the application should know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Event {
    /// The connection failed on its own (the transport's "connection failure").
    Aborted {
        /// Which limit was hit.
        reason: AbortReason,
    },
    /// Both directions are closed and acknowledged (after LAST-ACK or TIME-WAIT).
    Closed,
    /// The handshake completed.
    Connected,
    /// In-order data became readable (edge-triggered: raised when the readable amount goes
    /// from zero to non-zero).
    DataReadable,
    /// The peer sent FIN: no more data will arrive (after everything readable is read).
    PeerClosed,
    /// The peer reset the connection (RST), or refused it.
    Reset,
}

/// Misuse of the application-side API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `connect` or `listen` on an endpoint that is not closed.
    #[error("cannot open: the endpoint is in state {state:?}, not Closed")]
    AlreadyOpen {
        /// The current state.
        state: State,
    },
    /// `write` after `close`/`abort`, or on an endpoint that was never opened.
    #[error("cannot write in state {state:?}")]
    NotWritable {
        /// The current state.
        state: State,
    },
}

/// One end of a TCP connection. See the module documentation for the call order.
#[derive(Debug, Clone)]
pub struct Endpoint {
    cfg: TcpConfig,
    state: State,
    local_port: u16,
    remote_port: u16,
    /// Effective MSS (ours, lowered to the peer's SYN option).
    mss: u64,
    /// Timestamps option negotiated (both SYNs carried it).
    ts_enabled: bool,
    /// Offset of our timestamp clock (RFC 7323 §5.4: a random per-connection offset).
    ts_offset: u32,
    /// TS.Recent: the TSval to echo (RFC 7323 §4.3).
    ts_recent: u32,

    // Send side. Offsets count from our ISN: 0 is the SYN, data octet k is at 1 + k, the FIN
    // follows the last data octet. Wrap-around is handled only when building/reading headers.
    iss: u32,
    snd_una: u64,
    snd_nxt: u64,
    /// Highest offset ever sent, plus one: everything below `snd_max` and at or above
    /// `snd_nxt` is being re-sent after an RTO.
    snd_max: u64,
    snd_wnd: u64,
    /// Written data from offset `buf_start` on: unacknowledged, then unsent.
    send_buf: VecDeque<u8>,
    buf_start: u64,
    fin_queued: bool,
    cwnd: u64,
    ssthresh: u64,
    rtt: RttEstimator,
    /// Karn's rule: the one segment being timed (end offset, send time), never a resent one.
    timed: Option<(u64, Instant)>,
    /// The span of retransmitted data not yet acknowledged (offsets): an ACK into it is
    /// Linux's `FLAG_RETRANS_DATA_ACKED`, which takes its RTT sample from the echoed timestamp
    /// only (`tcp_clean_rtx_queue`, `tcp_ack_update_rtt`).
    rtx_span: Option<(u64, u64)>,
    /// Consecutive RTO expiries for the same data.
    retries: u32,
    /// Duplicate ACKs in a row (RFC 5681 §2 definition).
    dupacks: u32,
    /// Fast recovery in progress until SND.UNA reaches this offset (RFC 6582 "recover").
    recover: Option<u64>,
    /// The head segment is to be resent now (fast retransmit or a NewReno partial ACK).
    fast_rtx_due: bool,
    fast_retransmits: u64,
    rtx_at: Option<Instant>,
    /// The tail-loss probe's timeout, before `rtx_at` (see `tlp.rs`).
    pto_at: Option<Instant>,
    /// SND.MAX when the last probe was sent (Linux `tlp_high_seq`): while set, no further
    /// probe is sent. Cleared as `tcp_process_tlp_ack` does, which for a retransmitted probe
    /// is not at an ACK of exactly this offset (see `tlp.rs`), or at an RTO.
    tlp_high: Option<u64>,
    /// Whether the last probe resent the tail rather than sending new data (Linux
    /// `tlp_retrans`).
    tlp_retrans: bool,
    /// A wholly duplicate segment arrived (offsets in the peer's sequence space): the next ACK
    /// reports it in a D-SACK block (Linux `tcp_dsack_set`).
    dsack_out: Option<(u64, u64)>,
    /// Loss recovery after an RTO until SND.UNA reaches this offset (Linux `TCP_CA_Loss`
    /// until `high_seq`): no probes meanwhile.
    loss_until: Option<u64>,
    /// The probe is due: new data beyond the congestion window by one segment.
    probe_new_due: bool,
    /// The probe is due: the last segment sent again.
    probe_tail_due: bool,
    tail_loss_probes: u64,
    /// When the retransmission timer was last started by RFC 6298 §5.1 or §5.3 (not §5.6).
    rtx_started: Instant,
    /// When the segment now being retransmitted was first sent (Linux `retrans_stamp`).
    retrans_stamp: Option<Instant>,
    /// Persist timer: probe a zero window when it fires.
    persist_at: Option<Instant>,
    /// Probes sent since the window was last open (back-off exponent).
    persist_probes: u32,
    probe_due: bool,
    time_wait_at: Option<Instant>,
    retransmissions: u64,

    // Receive side.
    irs: u32,
    recv: Reassembly,

    // Outputs.
    ack_due: bool,
    rst_out: Option<Segment>,
    events: VecDeque<Event>,
}

impl Endpoint {
    /// A closed endpoint between `local_port` and `remote_port`; its initial sequence number
    /// and timestamp-clock offset are drawn from `isn` (two draws).
    #[must_use]
    pub fn new(cfg: TcpConfig, local_port: u16, remote_port: u16, isn: &mut Stream) -> Self {
        let iss = isn.next_u32();
        let ts_offset = isn.next_u32();
        Self {
            cfg,
            state: State::Closed,
            local_port,
            remote_port,
            mss: u64::from(cfg.mss.max(1)),
            ts_enabled: false,
            ts_offset,
            ts_recent: 0,
            iss,
            snd_una: 0,
            snd_nxt: 0,
            snd_max: 0,
            snd_wnd: u64::from(cfg.mss),
            send_buf: VecDeque::new(),
            buf_start: 1,
            fin_queued: false,
            cwnd: u64::from(cfg.initial_window.max(1)) * u64::from(cfg.mss.max(1)),
            ssthresh: u64::MAX,
            rtt: RttEstimator::new(&cfg),
            timed: None,
            rtx_span: None,
            retries: 0,
            dupacks: 0,
            recover: None,
            fast_rtx_due: false,
            fast_retransmits: 0,
            rtx_at: None,
            pto_at: None,
            tlp_high: None,
            tlp_retrans: false,
            dsack_out: None,
            loss_until: None,
            probe_new_due: false,
            probe_tail_due: false,
            tail_loss_probes: 0,
            rtx_started: Instant::ZERO,
            retrans_stamp: None,
            persist_at: None,
            persist_probes: 0,
            probe_due: false,
            time_wait_at: None,
            retransmissions: 0,
            irs: 0,
            recv: Reassembly::new(cfg.recv_buffer),
            ack_due: false,
            rst_out: None,
            events: VecDeque::new(),
        }
    }

    /// Active open: the SYN goes out on the next [`Endpoint::poll_transmit`].
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyOpen`] unless the endpoint is [`State::Closed`].
    pub fn connect(&mut self, now: Instant) -> Result<(), Error> {
        if self.state != State::Closed {
            return Err(Error::AlreadyOpen { state: self.state });
        }
        self.reset_send_side();
        self.state = State::SynSent;
        self.rtx_at = Some(now + self.rtt.rto());
        self.rtx_started = now;
        Ok(())
    }

    /// Passive open: wait for a SYN.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyOpen`] unless the endpoint is [`State::Closed`].
    pub fn listen(&mut self) -> Result<(), Error> {
        if self.state != State::Closed {
            return Err(Error::AlreadyOpen { state: self.state });
        }
        self.reset_send_side();
        self.state = State::Listen;
        Ok(())
    }

    /// Queues application data; returns how many bytes fit in the send buffer. Data written
    /// before the handshake completes is sent once it does.
    ///
    /// # Errors
    ///
    /// [`Error::NotWritable`] after [`Endpoint::close`] or outside an open connection.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        let open = matches!(
            self.state,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        );
        if !open || self.fin_queued {
            return Err(Error::NotWritable { state: self.state });
        }
        let room = (self.cfg.send_buffer as usize).saturating_sub(self.send_buf.len());
        let n = room.min(data.len());
        self.send_buf.extend(data.get(..n).unwrap_or(&[]));
        Ok(n)
    }

    /// Copies readable in-order bytes into `buf`; returns how many (0 if none).
    ///
    /// If this reopens a window that had closed below one MSS (or half the buffer), a window
    /// update is sent on the next [`Endpoint::poll_transmit`]: RFC 9293 §3.8.6.2.2 lets the
    /// receiver advertise again once "the reduction ... is at least min(Fr * RCV.BUFF, Eff.snd.MSS)".
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let before = self.recv.window() as u64;
        let n = self.recv.read(buf);
        let threshold = self.mss.min(u64::from(self.cfg.recv_buffer) / 2);
        if n > 0
            && self.state.is_synchronized()
            && before < threshold
            && self.recv.window() as u64 >= threshold
        {
            self.ack_due = true;
        }
        n
    }

    /// Bytes readable now.
    #[must_use]
    pub fn readable(&self) -> usize {
        self.recv.readable()
    }

    /// Orderly close: a FIN follows the data already written. In LISTEN or SYN-SENT the
    /// endpoint closes at once (RFC 9293 §3.10.4).
    pub fn close(&mut self) {
        match self.state {
            State::Listen | State::SynSent => self.enter_closed(),
            // RFC 9293 §3.10.4, SYN-RECEIVED: "If no SENDs have been issued and there is no
            // pending data to send, then form a FIN segment and send it, and enter FIN-WAIT-1
            // state; otherwise, queue for processing after entering ESTABLISHED state". Our SYN
            // is not acknowledged yet either way, so the FIN is queued and `establish` sends it:
            // entering FIN-WAIT-1 early would let a retransmission timeout rewind to the
            // unacknowledged SYN and resend data from before the first data octet.
            State::SynReceived => self.fin_queued = true,
            State::Established => {
                self.fin_queued = true;
                self.state = State::FinWait1;
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.state = State::LastAck;
            }
            _ => {}
        }
    }

    /// Abortive close: a RST is sent if the peer knows of the connection, and everything is
    /// dropped (RFC 9293 §3.10.5). No event is raised: the caller knows.
    pub fn abort(&mut self) {
        if matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        ) {
            // Linux `tcp_send_active_reset`: RST|ACK at SND.NXT.
            // RSTs carry no options here (Linux would add the timestamps option).
            let mut rst = self.segment(
                Instant::ZERO,
                self.snd_seq(self.snd_nxt),
                Flags::RST.with(Flags::ACK),
                Payload::new(),
            );
            rst.timestamps = None;
            self.rst_out = Some(rst);
        }
        self.enter_closed();
    }

    /// The current state.
    #[must_use]
    pub const fn state(&self) -> State {
        self.state
    }

    /// Our port.
    #[must_use]
    pub const fn local_port(&self) -> u16 {
        self.local_port
    }

    /// The peer's port.
    #[must_use]
    pub const fn remote_port(&self) -> u16 {
        self.remote_port
    }

    /// The current retransmission timeout (backed off while retransmitting).
    #[must_use]
    pub const fn rto(&self) -> crate::time::Duration {
        self.rtt.rto()
    }

    /// Whether a tail-loss probe's episode is open (Linux `tlp_high_seq` set): while it is,
    /// no further probe is sent, so a lost segment waits for the RTO (see `tlp.rs`).
    #[must_use]
    pub const fn probe_episode_open(&self) -> bool {
        self.tlp_high.is_some()
    }

    /// The smoothed round-trip time, once measured.
    #[must_use]
    pub const fn srtt(&self) -> Option<crate::time::Duration> {
        self.rtt.srtt()
    }

    /// Total retransmission timeouts so far (SYN and data).
    #[must_use]
    pub const fn retransmissions(&self) -> u64 {
        self.retransmissions
    }

    /// Tail-loss probes sent so far ([`TcpConfig::tail_loss_probe`]).
    #[must_use]
    pub const fn tail_loss_probes(&self) -> u64 {
        self.tail_loss_probes
    }

    /// Fast retransmissions so far (triggered by duplicate ACKs, not by the timer).
    #[must_use]
    pub const fn fast_retransmits(&self) -> u64 {
        self.fast_retransmits
    }

    /// Bytes written but not yet acknowledged by the peer.
    #[must_use]
    pub fn unacknowledged(&self) -> usize {
        self.send_buf.len()
    }

    /// A segment arrived from the peer at `now`.
    pub fn handle_segment(&mut self, now: Instant, seg: &Segment) {
        if seg.dst_port != self.local_port || seg.src_port != self.remote_port {
            return;
        }
        match self.state {
            State::Closed => {
                if !seg.flags.contains(Flags::RST) {
                    self.rst_out = Some(self.reset_for(seg));
                }
            }
            State::Listen => self.on_listen(seg),
            State::SynSent => self.on_syn_sent(now, seg),
            _ => self.on_synchronized(now, seg),
        }
    }

    /// The instant from [`Endpoint::poll_timeout`] (or later) was reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.time_wait_at.is_some_and(|t| t <= now) {
            self.time_wait_at = None;
            self.enter_closed();
            self.events.push_back(Event::Closed);
            return;
        }
        // The probe timeout runs before the RTO and, when it fires, restarts the RTO from
        // now (`tlp.rs`); Linux keeps the two in one timer slot, so only one of them fires.
        if self.pto_at.is_some_and(|t| t <= now) {
            self.on_probe_timeout(now);
        } else if self.rtx_at.is_some_and(|t| t <= now) {
            self.on_rto(now);
        }
        if self.persist_at.is_some_and(|t| t <= now) {
            self.persist_at = None;
            self.probe_due = true;
        }
    }

    /// When [`Endpoint::handle_timeout`] must be called next, if at all.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let earlier = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let retransmit = earlier(self.pto_at, self.rtx_at);
        earlier(earlier(retransmit, self.persist_at), self.time_wait_at)
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next segment to send at `now`, if any. Call until `None` after every input.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Segment> {
        if let Some(rst) = self.rst_out.take() {
            return Some(rst);
        }
        match self.state {
            State::Closed | State::Listen => None,
            State::SynSent => (self.snd_nxt == 0).then(|| {
                let seg = self.segment(now, self.iss, Flags::SYN, Payload::new());
                self.sent(now, seg)
            }),
            State::SynReceived => {
                if self.snd_nxt == 0 {
                    let seg =
                        self.segment(now, self.iss, Flags::SYN.with(Flags::ACK), Payload::new());
                    Some(self.sent(now, seg))
                } else {
                    None
                }
            }
            _ => {
                let mut seg = self.poll_data(now)?;
                if seg.flags.contains(Flags::ACK)
                    && let Some((left, right)) = self.dsack_out.take()
                {
                    seg.dsack = Some((self.rcv_seq(left), self.rcv_seq(right)));
                }
                Some(seg)
            }
        }
    }

    // ---- transmit path -------------------------------------------------------------------

    /// Data, FIN or a pure ACK in a synchronised state.
    fn poll_data(&mut self, now: Instant) -> Option<Segment> {
        if self.probe_due {
            // Linux `tcp_xmit_probe_skb`: "Use a previous sequence. This should cause the
            // other end to send an ack" carrying its current window.
            self.probe_due = false;
            self.persist_probes += 1;
            self.persist_at = Some(now + self.persist_interval());
            let seq = self.snd_seq(self.snd_una).wrapping_sub(1);
            return Some(self.segment(now, seq, Flags::ACK, Payload::new()));
        }
        let data_end = self.data_end();
        if self.fast_rtx_due {
            self.fast_rtx_due = false;
            if let Some(seg) = self.resend_head(now, data_end) {
                return Some(seg);
            }
        }
        if std::mem::take(&mut self.probe_tail_due)
            && let Some(seg) = self.resend_tail(now)
        {
            return Some(seg);
        }
        // A new-data probe may exceed the congestion window by one segment, not the peer's
        // window (Linux `tcp_write_xmit` with `push_one` = 2: "Force out a loss probe pkt").
        let probing = std::mem::take(&mut self.probe_new_due);
        let mut window = self.cwnd;
        if probing {
            window = window.max(self.snd_nxt - self.snd_una + self.smss());
        }
        let window = window.min(self.snd_wnd);
        let limit = self.snd_una.saturating_add(window);
        if self.snd_wnd == 0
            && self.snd_una == self.snd_max
            && (self.snd_nxt < data_end || self.fin_queued)
            && self.persist_at.is_none()
        {
            // RFC 9293 §3.8.6.1: "The sending TCP peer must regularly retransmit to the
            // receiving TCP peer even when the window is zero".
            self.persist_at = Some(now + self.persist_interval());
        }
        if self.snd_nxt < data_end {
            let len = self
                .smss()
                .min(data_end - self.snd_nxt)
                .min(limit.saturating_sub(self.snd_nxt));
            if len > 0 {
                let end = self.snd_nxt + len;
                let mut flags = Flags::ACK;
                if end == data_end {
                    flags = flags.with(Flags::PSH);
                    if self.fin_queued {
                        flags = flags.with(Flags::FIN);
                    }
                }
                let payload = self.copy_out(self.snd_nxt, len);
                let seg = self.segment(now, self.snd_seq(self.snd_nxt), flags, payload);
                if probing {
                    self.tlp_high = Some(end.max(self.snd_max));
                    self.tlp_retrans = false;
                }
                return Some(self.sent(now, seg));
            }
        } else if self.fin_queued && self.snd_nxt == data_end {
            let seg = self.segment(
                now,
                self.snd_seq(self.snd_nxt),
                Flags::FIN.with(Flags::ACK),
                Payload::new(),
            );
            return Some(self.sent(now, seg));
        }
        if self.ack_due {
            let seg = self.segment(now, self.snd_seq(self.snd_nxt), Flags::ACK, Payload::new());
            return Some(self.sent(now, seg));
        }
        None
    }

    /// Resends the earliest unacknowledged segment without moving SND.NXT (fast retransmit).
    fn resend_head(&mut self, now: Instant, data_end: u64) -> Option<Segment> {
        let una = self.snd_una;
        if una >= self.snd_max {
            return None;
        }
        let len = self
            .smss()
            .min(data_end.saturating_sub(una))
            .min(self.snd_max - una);
        let fin = self.fin_queued && una + len == data_end && self.snd_max > data_end;
        if len == 0 && !fin {
            return None;
        }
        let mut flags = Flags::ACK;
        if fin {
            flags = flags.with(Flags::FIN);
        }
        let payload = self.copy_out(una, len);
        let seg = self.segment(now, self.snd_seq(una), flags, payload);
        self.mark_retransmitted(una, una + u64::from(seg.seq_len()));
        self.fast_retransmits += 1;
        self.ack_due = false;
        Some(seg)
    }

    /// Bookkeeping for a segment leaving now at `snd_nxt`.
    fn sent(&mut self, now: Instant, seg: Segment) -> Segment {
        let len = u64::from(seg.seq_len());
        let new_data = self.snd_nxt >= self.snd_max;
        if len > 0 {
            // Karn's rule: time only first transmissions; with timestamps a retransmission's
            // ACK is timed by its echoed timestamp instead (`on_new_ack`).
            if new_data {
                if self.timed.is_none() {
                    self.timed = Some((self.snd_nxt + len, now));
                }
            } else {
                self.mark_retransmitted(self.snd_nxt, self.snd_nxt + len);
            }
            self.snd_nxt += len;
            self.snd_max = self.snd_max.max(self.snd_nxt);
            // RFC 6298 §5.1: "Every time a packet containing data is sent (including a
            // retransmission), if the timer is not running, start it running so that it will
            // expire after RTO seconds".
            if self.rtx_at.is_none() {
                self.rtx_at = Some(now + self.rtt.rto());
                self.rtx_started = now;
            }
            // Linux `tcp_write_xmit`: the probe is rescheduled after new data goes out.
            if new_data && self.state.is_synchronized() {
                self.schedule_probe(now);
            }
        }
        self.ack_due = false;
        seg
    }

    fn segment(&self, now: Instant, seq: u32, flags: Flags, payload: Payload) -> Segment {
        let has_ack = flags.contains(Flags::ACK);
        let syn = flags.contains(Flags::SYN);
        // Offered on our SYN if configured, on a SYN-ACK only if the peer offered it, then on
        // every segment once negotiated (RFC 7323 §3.2).
        let stamp = if syn && self.state == State::SynSent {
            self.cfg.timestamps
        } else {
            self.ts_enabled
        };
        #[allow(
            clippy::cast_possible_truncation,
            reason = "the timestamp clock is milliseconds modulo 2^32 (RFC 7323 §5.1)"
        )]
        let timestamps = stamp.then(|| Timestamps {
            val: self
                .ts_offset
                .wrapping_add((now.as_nanos() / 1_000_000) as u32),
            ecr: if has_ack { self.ts_recent } else { 0 },
        });
        Segment {
            src_port: self.local_port,
            dst_port: self.remote_port,
            seq,
            ack: if has_ack {
                self.rcv_seq(self.recv.rcv_nxt)
            } else {
                0
            },
            flags,
            window: u16::try_from(self.recv.window()).unwrap_or(u16::MAX),
            mss: syn.then_some(self.cfg.mss),
            timestamps,
            dsack: None,
            payload,
        }
    }

    /// `len` octets of written data starting at sequence offset `from`.
    ///
    /// Invariant: `from >= buf_start` (only acknowledged octets leave the buffer, and SND.NXT
    /// never goes below SND.UNA in a synchronised state).
    fn copy_out(&self, from: u64, len: u64) -> Payload {
        debug_assert!(
            from >= self.buf_start,
            "copy_out below the send buffer: {from} < {}",
            self.buf_start
        );
        let start = usize::try_from(from.saturating_sub(self.buf_start)).unwrap_or(usize::MAX);
        let len = usize::try_from(len).unwrap_or(0);
        // The ring buffer's two halves, cut to `start..start + len` (clamped: the invariant
        // keeps the range inside the buffer).
        let (a, b) = self.send_buf.as_slices();
        let end = start.saturating_add(len).min(a.len() + b.len());
        let start = start.min(end);
        let head = a
            .get(start.min(a.len())..end.min(a.len()))
            .unwrap_or_default();
        let tail = b
            .get(start.saturating_sub(a.len())..end.saturating_sub(a.len()))
            .unwrap_or_default();
        Payload::from_parts(&[head, tail])
    }

    /// RFC 9293 §3.10.7.1: "If the ACK bit is off, sequence number zero is used,
    /// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>".
    fn reset_for(&self, seg: &Segment) -> Segment {
        let (seq, ack, flags) = if seg.flags.contains(Flags::ACK) {
            (seg.ack, 0, Flags::RST)
        } else {
            (
                0,
                seg.seq.wrapping_add(seg.seq_len()),
                Flags::RST.with(Flags::ACK),
            )
        };
        Segment {
            src_port: self.local_port,
            dst_port: self.remote_port,
            seq,
            ack,
            flags,
            window: 0,
            mss: None,
            timestamps: None,
            dsack: None,
            payload: Payload::new(),
        }
    }

    // ---- receive path --------------------------------------------------------------------

    fn on_listen(&mut self, seg: &Segment) {
        if seg.flags.contains(Flags::RST) {
            return;
        }
        if seg.flags.contains(Flags::ACK) {
            self.rst_out = Some(self.reset_for(seg));
            return;
        }
        if seg.flags.contains(Flags::SYN) {
            self.accept_syn(seg);
            self.state = State::SynReceived;
        }
    }

    /// Records the peer's SYN: its ISN, MSS option and window.
    fn accept_syn(&mut self, seg: &Segment) {
        self.irs = seg.seq;
        self.recv = Reassembly::new(self.cfg.recv_buffer);
        self.recv.rcv_nxt = 1;
        if let Some(peer_mss) = seg.mss {
            self.mss = self.mss.min(u64::from(peer_mss.max(1)));
        }
        // RFC 7323 §3.2: the option is used only if both SYNs carried it. A listener answers
        // with it iff the SYN had it; an opener got here with our own SYN carrying it.
        self.ts_enabled = self.cfg.timestamps && seg.timestamps.is_some();
        if let Some(ts) = seg.timestamps {
            self.ts_recent = ts.val;
        }
        self.snd_wnd = u64::from(seg.window);
    }

    fn on_syn_sent(&mut self, now: Instant, seg: &Segment) {
        let has_ack = seg.flags.contains(Flags::ACK);
        // Acceptable only if it acknowledges exactly our SYN.
        let ack_ok = has_ack && seg.ack == self.iss.wrapping_add(1);
        if has_ack && !ack_ok {
            if !seg.flags.contains(Flags::RST) {
                self.rst_out = Some(self.reset_for(seg));
            }
            return;
        }
        if seg.flags.contains(Flags::RST) {
            if ack_ok {
                // RFC 9293 §3.10.7.3: "signal to the user 'error: connection reset'".
                self.enter_closed();
                self.events.push_back(Event::Reset);
            }
            return;
        }
        if !seg.flags.contains(Flags::SYN) {
            return;
        }
        self.accept_syn(seg);
        if ack_ok {
            self.on_new_ack(now, 1);
            self.establish();
            self.rto_fallback();
            self.ack_due = true;
        } else {
            // Simultaneous open: answer with SYN-ACK.
            self.state = State::SynReceived;
            self.snd_nxt = 0;
        }
    }

    fn on_synchronized(&mut self, now: Instant, seg: &Segment) {
        let Some(off) = self.rcv_off(seg.seq) else {
            self.ack_due = !seg.flags.contains(Flags::RST);
            return;
        };
        if !self.acceptable(off, u64::from(seg.seq_len())) {
            if self.state == State::SynReceived
                && seg.flags.contains(Flags::SYN)
                && seg.seq == self.irs
            {
                if seg.flags.contains(Flags::ACK) && seg.ack == self.iss.wrapping_add(1) {
                    // Simultaneous open (RFC 9293 §3.5, figure 7): the peer's SYN-ACK repeats
                    // the SYN we already hold and acknowledges ours. Linux then completes the
                    // handshake at once; acknowledge it so the peer does too.
                    self.snd_wnd = u64::from(seg.window);
                    self.on_new_ack(now, 1);
                    self.establish();
                    self.rto_fallback();
                    self.ack_due = true;
                    return;
                }
                // The peer resent its SYN: our SYN-ACK was lost; resend it now.
                self.snd_nxt = 0;
                return;
            }
            // RFC 9293 §3.10.7.4: "If an incoming segment is not acceptable, an acknowledgment
            // should be sent in reply (unless the RST bit is set ...)".
            self.ack_due = !seg.flags.contains(Flags::RST);
            // Linux `tcp_send_dupack` (SACK negotiated, which the preset with the tail-loss
            // probe stands for): a segment wholly below RCV.NXT is reported in a D-SACK block.
            let len = u64::from(seg.seq_len());
            // Linux `tcp_sequence` passes a duplicate that ends at RCV.NXT, and `tcp_ack`
            // (`tcp_replace_ts_recent`) takes its TSval, newer than TS.Recent, since it starts
            // at or below the last ACK sent (RFC 7323 §4.3): the duplicate ACK echoes the copy
            // that was resent, not the original.
            if self.ts_enabled
                && len > 0
                && off.saturating_add(len) == self.recv.rcv_nxt
                && let Some(ts) = seg.timestamps
                && ts.val.wrapping_sub(self.ts_recent) < (1 << 31)
            {
                self.ts_recent = ts.val;
            }
            if self.cfg.tail_loss_probe
                && self.ack_due
                && len > 0
                && off.saturating_add(len) <= self.recv.rcv_nxt
            {
                self.dsack_out = Some((off, off + len));
            }
            if self.state == State::TimeWait && seg.flags.contains(Flags::FIN) {
                self.time_wait_at = Some(now + self.cfg.time_wait);
            }
            return;
        }
        if seg.flags.contains(Flags::RST) {
            self.enter_closed();
            self.events.push_back(Event::Reset);
            return;
        }
        if seg.flags.contains(Flags::SYN) {
            // A SYN in the window: challenge with an ACK (RFC 5961 §4.2 style) and drop.
            self.ack_due = true;
            return;
        }
        if !seg.flags.contains(Flags::ACK) {
            return;
        }
        // RFC 7323 §4.3: "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent, then
        // SEG.TSval is copied to TS.Recent" (Last.ACK.sent is RCV.NXT: every segment is ACKed
        // at once).
        if self.ts_enabled
            && let Some(ts) = seg.timestamps
            && off <= self.recv.rcv_nxt
            && ts.val.wrapping_sub(self.ts_recent) < (1 << 31)
        {
            self.ts_recent = ts.val;
        }
        let Some(ack) = self.snd_off(seg.ack).filter(|&a| a <= self.snd_max) else {
            // "If the ACK acks something not yet sent (SEG.ACK > SND.NXT) then send an ACK,
            // drop the segment, and return" (RFC 9293 §3.10.7.4).
            self.ack_due = true;
            return;
        };
        let just_established = self.state == State::SynReceived;
        if just_established {
            if ack <= self.snd_una {
                self.rst_out = Some(self.reset_for(seg));
                return;
            }
            self.establish();
        }
        // Linux `tcp_ack`: the ACK's flags as `tcp_process_tlp_ack` reads them.
        let advanced = ack > self.snd_una;
        let not_dup = advanced
            || !seg.payload.is_empty()
            || seg.flags.contains(Flags::FIN)
            || u64::from(seg.window) != self.snd_wnd;
        let dsack_tlp = self.dsack_covers_probe(seg, ack);
        if advanced {
            // No timestamp sample for the ACK completing the handshake (RFC 6298 §5.7 keys on
            // the handshake's own sample, taken as before).
            let ecr = if just_established {
                None
            } else {
                seg.timestamps.map(|ts| ts.ecr)
            };
            self.on_new_ack_echoing(now, ack, ecr);
        }
        self.on_probe_ack(ack, advanced, not_dup, dsack_tlp);
        if !advanced
            && ack == self.snd_una
            && self.snd_una < self.snd_max
            && !not_dup
            // `tcp_ack`: an ACK carrying a D-SACK is not counted as a duplicate.
            && seg.dsack.is_none()
        {
            self.on_dupack();
        }
        if just_established {
            self.rto_fallback();
        }
        if ack >= self.snd_una {
            self.snd_wnd = u64::from(seg.window);
            if self.snd_wnd > 0 {
                self.persist_at = None;
                self.persist_probes = 0;
            }
        }
        let fin_acked = self.fin_queued && self.snd_una > self.data_end();
        match self.state {
            State::FinWait1 if fin_acked => self.state = State::FinWait2,
            State::Closing if fin_acked => self.enter_time_wait(now),
            State::LastAck if fin_acked => {
                self.enter_closed();
                self.events.push_back(Event::Closed);
                return;
            }
            _ => {}
        }
        self.on_data(now, off, seg);
    }

    /// Payload and FIN of an acceptable segment.
    fn on_data(&mut self, now: Instant, off: u64, seg: &Segment) {
        let fin = seg.flags.contains(Flags::FIN);
        if seg.payload.is_empty() && !fin {
            return;
        }
        if !matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            // After the peer's FIN, further data is a retransmission: just acknowledge it.
            self.ack_due = true;
            return;
        }
        let was_empty = self.recv.readable() == 0;
        let got = self.recv.insert(off, &seg.payload, fin);
        // Every data or FIN segment is acknowledged at once (no delayed ACK, see module doc);
        // an out-of-order one thereby produces a duplicate ACK.
        self.ack_due = true;
        if got.readable && was_empty {
            self.events.push_back(Event::DataReadable);
        }
        if got.fin {
            self.events.push_back(Event::PeerClosed);
            let fin_acked = self.fin_queued && self.snd_una > self.data_end();
            match self.state {
                State::Established => self.state = State::CloseWait,
                State::FinWait1 if fin_acked => self.enter_time_wait(now),
                State::FinWait1 => self.state = State::Closing,
                State::FinWait2 => self.enter_time_wait(now),
                _ => {}
            }
        }
    }

    /// RFC 9293 §3.10.7.4 acceptability test, in offsets.
    fn acceptable(&self, off: u64, len: u64) -> bool {
        let nxt = self.recv.rcv_nxt;
        let wnd = self.recv.window() as u64;
        match (len, wnd) {
            (0, 0) => off == nxt,
            (0, _) => off >= nxt && off < nxt + wnd,
            (_, 0) => false,
            _ => {
                let last = off + len - 1;
                (off >= nxt && off < nxt + wnd) || (last >= nxt && last < nxt + wnd)
            }
        }
    }

    /// Records that `[from, to)` was sent again (Linux `TCPCB_RETRANS` on the skb).
    fn mark_retransmitted(&mut self, from: u64, to: u64) {
        if to <= from {
            return;
        }
        self.rtx_span = Some(match self.rtx_span {
            Some((lo, hi)) => (lo.min(from), hi.max(to)),
            None => (from, to),
        });
        // Karn's rule: a timed segment sent again is ambiguous.
        if self.timed.is_some_and(|(end, _)| end > from) {
            self.timed = None;
        }
    }

    /// The cumulative ACK moved to `ack` (> `snd_una`), on the handshake's ACK.
    fn on_new_ack(&mut self, now: Instant, ack: u64) {
        self.on_new_ack_echoing(now, ack, None);
    }

    /// The RTT sample of an ACK of `ack` echoing timestamp `ecr`, as Linux takes it
    /// (`tcp_clean_rtx_queue`, `tcp_ack_update_rtt`): from the timed segment's send time when
    /// no retransmitted data is acknowledged (Karn's rule); when some is
    /// (`FLAG_RETRANS_DATA_ACKED`), only from the echoed timestamp (RFC 7323 §4: the echo
    /// names the copy that arrived), in whole milliseconds of the timestamp clock, at least
    /// one (`tcp_rtt_tsopt_us`). Timing a retransmission from its own send time instead would
    /// take the span back to an earlier copy when the ACK is for a later one.
    fn rtt_sample(
        &mut self,
        now: Instant,
        ack: u64,
        ecr: Option<u32>,
    ) -> Option<crate::time::Duration> {
        let retrans_acked = self.rtx_span.is_some_and(|(lo, _)| ack > lo);
        if let Some((_, hi)) = self.rtx_span
            && ack >= hi
        {
            self.rtx_span = None;
        } else if let Some((lo, hi)) = self.rtx_span.as_mut()
            && ack > *lo
        {
            *lo = ack.min(*hi);
        }
        let timed = self.timed.filter(|&(end, _)| ack >= end);
        if timed.is_some() {
            self.timed = None;
        }
        // Without timestamps (RFC 6298 §3 with Karn's rule) the timed segment, never
        // retransmitted, is a valid sample even when the ACK also covers retransmitted data.
        if !retrans_acked || !self.ts_enabled {
            return timed.map(|(_, sent)| now - sent);
        }
        let ecr = ecr.filter(|&e| self.ts_enabled && e != 0)?;
        #[allow(
            clippy::cast_possible_truncation,
            reason = "the timestamp clock is milliseconds modulo 2^32 (RFC 7323 §5.1)"
        )]
        let ts_now = self
            .ts_offset
            .wrapping_add((now.as_nanos() / 1_000_000) as u32);
        let ticks = ts_now.wrapping_sub(ecr);
        (ticks < 1 << 31).then(|| crate::time::Duration::from_millis(u64::from(ticks.max(1))))
    }

    /// [`Endpoint::on_new_ack`] for an ACK echoing timestamp `ecr`.
    fn on_new_ack_echoing(&mut self, now: Instant, ack: u64, ecr: Option<u32>) {
        let data_acked_to = ack.min(self.data_end());
        if data_acked_to > self.buf_start {
            let n = usize::try_from(data_acked_to - self.buf_start).unwrap_or(usize::MAX);
            self.send_buf.drain(..n.min(self.send_buf.len()));
            self.buf_start = data_acked_to;
        }
        if let Some(r) = self.rtt_sample(now, ack, ecr) {
            self.rtt.sample(&self.cfg, r);
        }
        // RFC 5681 §3.1: slow start below ssthresh, congestion avoidance above.
        let acked = ack - self.snd_una;
        let smss = self.smss();
        if self.cwnd < self.ssthresh {
            self.cwnd += acked.min(smss);
        } else {
            self.cwnd += (smss * smss / self.cwnd.max(1)).max(1);
        }
        self.snd_una = ack;
        self.snd_nxt = self.snd_nxt.max(ack);
        self.retries = 0;
        self.dupacks = 0;
        if let Some(recover) = self.recover {
            if ack >= recover {
                // RFC 6582 §3.2 (3): full acknowledgment; deflate to ssthresh.
                self.recover = None;
                self.cwnd = self.ssthresh.max(self.smss());
            } else {
                // Partial acknowledgment: "retransmit the first unacknowledged segment".
                self.fast_rtx_due = true;
            }
        }
        self.retrans_stamp = None;
        self.rtx_started = now;
        // Linux `tcp_process_loss`: with SACK, `tcp_try_undo_recovery` returns to CA_Open once
        // SND.UNA reaches `high_seq` (what was outstanding at the RTO); `tcp_try_undo_loss` may
        // do so earlier for a spurious RTO, which for one outstanding segment is the same ACK.
        // The probe episode is ended separately (`on_probe_ack`).
        if self.loss_until.is_some_and(|h| ack >= h) {
            self.loss_until = None;
        }
        // RFC 6298 §5.2: "When all outstanding data has been acknowledged, turn off the
        // retransmission timer"; §5.3: "When an ACK is received that acknowledges new data,
        // restart the retransmission timer so that it will expire after RTO seconds".
        self.rtx_at = (self.snd_una < self.snd_max).then(|| now + self.rtt.rto());
        // Linux `tcp_set_xmit_timer`: the probe before that RTO, where one is allowed.
        self.schedule_probe(now);
    }

    /// A duplicate ACK (RFC 5681 §2). The third starts fast retransmit and fast recovery
    /// (RFC 5681 §3.2, RFC 6582 NewReno; the window is not inflated by further dupacks).
    fn on_dupack(&mut self) {
        self.dupacks += 1;
        if self.recover.is_some() || (self.dupacks != 3 && !self.probe_revealed_hole()) {
            return;
        }
        self.pto_at = None;
        // Linux `tcp_enter_recovery` -> `tcp_init_cwnd_reduction`: "tlp_high_seq = 0".
        self.tlp_high = None;
        // RFC 5681 §3.2 (2) and (4): "ssthresh = max (FlightSize / 2, 2*SMSS)", retransmit.
        let flight = self.snd_max - self.snd_una;
        self.ssthresh = (flight / 2).max(2 * self.smss());
        self.cwnd = self.ssthresh;
        self.recover = Some(self.snd_max);
        self.fast_rtx_due = true;
    }

    // ---- timers and state changes ----------------------------------------------------------

    fn on_rto(&mut self, now: Instant) {
        self.rtx_at = None;
        self.pto_at = None;
        let limit = match self.state {
            State::SynSent => self.cfg.syn_retries,
            State::SynReceived => self.cfg.synack_retries,
            _ => self.cfg.max_retransmissions,
        };
        if self.retries == 0 {
            // Linux `retrans_stamp`: when the head segment was sent.
            self.retrans_stamp = Some(self.rtx_started);
        }
        let expired = if self.state.is_synchronized() && self.cfg.abort_by_elapsed_time {
            let since = now - self.retrans_stamp.unwrap_or(self.rtx_started);
            since >= linux_retries_budget(&self.cfg)
        } else {
            self.retries >= limit
        };
        if expired {
            match self.state {
                State::SynSent => self.fail(AbortReason::SynRetriesExhausted),
                // Linux drops the half-open request; the listener stays.
                State::SynReceived => {
                    self.reset_send_side();
                    self.state = State::Listen;
                }
                _ => self.fail(AbortReason::RetriesExhausted),
            }
            return;
        }
        self.retries += 1;
        self.retransmissions += 1;
        // RFC 6298 §5.4: "Retransmit the earliest segment that has not been acknowledged";
        // §5.5: back off; §5.6: "Start the retransmission timer, such that it expires after
        // RTO seconds (for the value of RTO after the doubling operation)".
        self.rtt.back_off(&self.cfg);
        self.rtx_at = Some(now + self.rtt.rto());
        // RFC 5681 §3.1 (4): ssthresh = max (FlightSize / 2, 2*SMSS); cwnd = loss window.
        let flight = self.snd_max - self.snd_una;
        self.ssthresh = (flight / 2).max(2 * self.smss());
        self.cwnd = self.smss();
        self.snd_nxt = self.snd_una;
        self.dupacks = 0;
        self.recover = None;
        self.fast_rtx_due = false;
        // Linux `tcp_retransmit_timer` clears `tlp_high_seq` before `tcp_enter_loss`; CA_Loss
        // (`high_seq` = SND.NXT) runs until what is outstanding now is acknowledged.
        self.tlp_high = None;
        self.loss_until = Some(self.snd_max);
        self.probe_new_due = false;
        self.probe_tail_due = false;
        // Karn: nothing sent before is a valid RTT sample any more.
        self.timed = None;
    }

    /// Sender MSS: the most data one segment carries. The timestamps option takes 12 bytes of
    /// every segment (Linux sends 1448 of a 1460-byte MSS).
    fn smss(&self) -> u64 {
        if self.ts_enabled {
            self.mss.saturating_sub(12).max(1)
        } else {
            self.mss
        }
    }

    /// Interval of the persist timer: the RTO backed off per probe, capped like the RTO.
    fn persist_interval(&self) -> crate::time::Duration {
        let factor = 1_u64 << self.persist_probes.min(20);
        (self.rtt.rto() * factor).min(self.cfg.max_rto)
    }

    /// RFC 6298 §5.7 (see [`TcpConfig::rto_fallback`]): no RTT sample from the handshake.
    fn rto_fallback(&mut self) {
        if self.rtt.srtt().is_none()
            && let Some(rto) = self.cfg.rto_fallback
        {
            self.rtt.reset_to(rto);
        }
    }

    fn establish(&mut self) {
        self.state = State::Established;
        // RFC 5681 §3.1 / RFC 6928: the initial window counts segments of the negotiated size.
        self.cwnd = u64::from(self.cfg.initial_window.max(1)) * self.smss();
        self.events.push_back(Event::Connected);
        if self.fin_queued {
            // `close` in SYN-RECEIVED: the FIN goes out now.
            self.state = State::FinWait1;
        }
    }

    fn fail(&mut self, reason: AbortReason) {
        self.enter_closed();
        self.events.push_back(Event::Aborted { reason });
    }

    fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.rtx_at = None;
        self.pto_at = None;
        self.time_wait_at = Some(now + self.cfg.time_wait);
    }

    fn enter_closed(&mut self) {
        self.state = State::Closed;
        self.rtx_at = None;
        self.pto_at = None;
        self.probe_new_due = false;
        self.probe_tail_due = false;
        self.persist_at = None;
        self.probe_due = false;
        self.time_wait_at = None;
        self.send_buf.clear();
        self.ack_due = false;
    }

    fn reset_send_side(&mut self) {
        self.snd_una = 0;
        self.snd_nxt = 0;
        self.snd_max = 0;
        self.buf_start = 1;
        self.send_buf.clear();
        self.fin_queued = false;
        self.retries = 0;
        self.dupacks = 0;
        self.recover = None;
        self.fast_rtx_due = false;
        self.timed = None;
        self.rtx_span = None;
        self.rtx_at = None;
        self.pto_at = None;
        self.tlp_high = None;
        self.tlp_retrans = false;
        self.dsack_out = None;
        self.loss_until = None;
        self.probe_new_due = false;
        self.probe_tail_due = false;
        self.persist_at = None;
        self.persist_probes = 0;
        self.probe_due = false;
        self.rtt = RttEstimator::new(&self.cfg);
    }

    // ---- sequence-number arithmetic ----------------------------------------------------------

    /// Offset just past the last written octet.
    fn data_end(&self) -> u64 {
        self.buf_start + self.send_buf.len() as u64
    }

    /// Our sequence number at offset `off` (modulo 2^32 by design).
    #[allow(
        clippy::cast_possible_truncation,
        reason = "sequence numbers are offsets modulo 2^32"
    )]
    const fn snd_seq(&self, off: u64) -> u32 {
        self.iss.wrapping_add(off as u32)
    }

    /// The peer's sequence number at offset `off`.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "sequence numbers are offsets modulo 2^32"
    )]
    const fn rcv_seq(&self, off: u64) -> u32 {
        self.irs.wrapping_add(off as u32)
    }

    /// Our offset for an acknowledgement number, taken within ±2^31 of SND.UNA.
    fn snd_off(&self, ack: u32) -> Option<u64> {
        unwrap_near(self.snd_una, ack.wrapping_sub(self.snd_seq(self.snd_una)))
    }

    /// The peer's offset for a sequence number, taken within ±2^31 of RCV.NXT.
    fn rcv_off(&self, seq: u32) -> Option<u64> {
        let nxt = self.recv.rcv_nxt;
        unwrap_near(nxt, seq.wrapping_sub(self.rcv_seq(nxt)))
    }
}

/// Linux's time budget for `tcp_retries2` (`tcp_model_timeout` in `net/ipv4/tcp_timer.c`):
/// the time `max_retransmissions` retransmissions would take if the RTO started at the floor
/// and doubled up to the ceiling. 924.6 s for 15 retries, 200 ms and 120 s.
fn linux_retries_budget(cfg: &TcpConfig) -> crate::time::Duration {
    let base = cfg.min_rto.max(crate::time::Duration::from_nanos(1));
    let ratio = (cfg.max_rto.as_nanos() / base.as_nanos()).max(1);
    let thresh = ratio.ilog2();
    let boundary = cfg.max_retransmissions;
    let doublings = |n: u32| base.saturating_mul((2_u64 << n.min(62)) - 1);
    if boundary <= thresh {
        doublings(boundary)
    } else {
        doublings(thresh) + cfg.max_rto.saturating_mul(u64::from(boundary - thresh))
    }
}

/// `base + delta` with `delta` read as a signed 32-bit distance; `None` below zero.
#[allow(
    clippy::cast_possible_wrap,
    reason = "sequence-number distance is signed modulo 2^32 (RFC 1982 style)"
)]
fn unwrap_near(base: u64, delta: u32) -> Option<u64> {
    base.checked_add_signed(i64::from(delta as i32))
}

#[cfg(test)]
mod tests;
