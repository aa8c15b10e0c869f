//! The tail-loss probe (RFC 8985 §7) as Linux runs it, for [`TcpConfig::tail_loss_probe`].
//!
//! Why it is modelled: a lost keepalive is the tail of its flight, and nothing behind it can
//! produce duplicate ACKs, so without the probe only the RTO repairs it. Linux probes first,
//! after about 2·SRTT + 200 ms, and restarts the RTO from the probe: on a path with a small RTT
//! the first two retransmissions come about 200 ms and 200 ms apart before the doubling
//! starts, one more try before a hold time of a few seconds runs out.
//!
//! Sources, in Linux's `net/ipv4/tcp_output.c`:
//!
//! - `tcp_schedule_loss_probe`: a probe is scheduled only while data is outstanding and the
//!   connection is neither in fast recovery nor in loss recovery after an RTO ("not in loss
//!   recovery"); the probe timeout is "2*rtt", plus the RTO floor "to account for delayed ack
//!   when there's one outstanding packet" or `TCP_TIMEOUT_MIN` (2 ms) otherwise, and
//!   `TCP_TIMEOUT_INIT` (1 s) without an RTT sample; "If the RTO formula yields an earlier
//!   time, then use that time". It is rescheduled after every transmission of new data and on
//!   every ACK that leaves data outstanding. RFC 8985 §7.2 computes the same PTO, with 200 ms
//!   as its worst-case delayed-ACK time.
//! - `tcp_schedule_loss_probe` arms the timer in CA_Open and CA_CWR alike; the model has no
//!   CWR state (it is entered and left on the same ACK, below), so only fast recovery
//!   (`recover`) and CA_Loss (`loss_until`) stop it.
//! - `tcp_send_loss_probe`: "At most one outstanding TLP": while `tlp_high_seq` is set the
//!   timer fires, sends nothing, and `tcp_rearm_rto` re-arms the RTO for the time it had left
//!   (so it expires when it would have without the probe timer). Otherwise "try send a new
//!   segment if possible, else retransmit the last segment" (`tlp_retrans` = 1; a new segment
//!   may exceed the congestion window by one, not the peer's window); `tlp_high_seq` =
//!   SND.NXT; then "Reset s.t. tcp_rearm_rto will restart timer from now": the RTO runs in full
//!   from the probe, not backed off (the probe is not an RTO retransmission).
//!
//! When the episode ends, in Linux's `net/ipv4/tcp_input.c` and `tcp_timer.c`:
//!
//! - `tcp_process_tlp_ack`, from `tcp_ack` on every ACK while `tlp_high_seq` is set: nothing
//!   below it; at or above it the episode ends if the probe was new data (`!tlp_retrans`); if
//!   a D-SACK ends at `tlp_high_seq` (`FLAG_DSACK_TLP`, set by `tcp_dsack_seen`: the original
//!   and the probe both arrived); if the ACK is `after` it (a loss the probe repaired:
//!   `tcp_init_cwnd_reduction` clears it, CA_CWR is entered and `tcp_try_keep_open` returns to
//!   CA_Open at once); or for a pure duplicate ACK (none of `FLAG_SND_UNA_ADVANCED`,
//!   `FLAG_NOT_DUP`, `FLAG_DATA_SACKED`). A retransmitted probe that repaired a lost tail
//!   segment is acknowledged by an ACK of exactly `tlp_high_seq` that advances SND.UNA: no
//!   branch applies, the episode stays open, and the next segment, if it or its ACK is lost,
//!   gets no probe: the RTO repairs it, then the doubled RTO. That is how Linux at 40 % loss
//!   comes to double a sixth to a half of second retransmission gaps (`interop_tcp_loss`).
//!   Linux's `FLAG_WIN_UPDATE` also counts an ACK with a newer sequence number than the last
//!   window update (`tcp_may_update_window`); here a changed window or data stands for it.
//! - `tcp_retransmit_timer` clears `tlp_high_seq` before `tcp_enter_loss`, and
//!   `tcp_enter_recovery` through `tcp_init_cwnd_reduction`.
//! - The D-SACK comes from the receiver (`tcp_send_dupack` and `tcp_data_queue` call
//!   `tcp_dsack_set` for a segment wholly below RCV.NXT): the model's receiver sends one when
//!   it runs the preset with the probe (the probe needs SACK, `tcp_is_sack`, so that preset
//!   stands for a SACK-negotiated connection); a partly duplicate segment gets none here.
//!
//! The source read is the text of these functions in public copies of the 5.15 and 6.x trees
//! (`FLAG_DSACK_TLP` since 5.14); the kernel the interop tests run is what checks the result.
//!
//! What of RACK and SACK is taken along: Linux learns from the SACK block the probe elicits
//! that the segments before it are missing, and RACK retransmits them at once (RFC 8985
//! §7.4.1). Without SACK blocks here (other than the D-SACK above), a duplicate ACK that arrives while the probe is outstanding
//! stands for that SACK: it shows the probe arrived and the hole before it did not, so the head
//! is resent in fast recovery. Not modelled: the congestion-window reduction after a probe that
//! repaired a loss (`tcp_process_tlp_ack` enters CWR), which keepalive timing does not depend
//! on; the ACK of a probe, retransmitted data, is timed by the timestamp it echoes (the probe's
//! when the original was lost, the receiver taking a duplicate's too: `tcp_replace_ts_recent`).

use super::{Endpoint, Flags, Segment, State, TcpConfig};
use crate::time::{Duration, Instant};

/// Linux `TCP_TIMEOUT_MIN`: 2 jiffies, 2 ms at `HZ` = 1000, added to the probe timeout when
/// more than one segment is in flight.
const TIMEOUT_MIN: Duration = Duration::from_millis(2);

impl Endpoint {
    /// Whether the probe timer may be armed now (`tcp_schedule_loss_probe`): the option is on,
    /// the connection synchronised, data outstanding, no fast recovery, no loss recovery after
    /// an RTO. An earlier probe's episode (`tlp_high`) does not stop the timer; it stops the
    /// probe when the timer fires (`tcp_send_loss_probe`).
    pub(super) fn probe_allowed(&self) -> bool {
        self.cfg.tail_loss_probe
            && self.state.is_synchronized()
            && self.snd_una < self.snd_max
            && self.recover.is_none()
            && self.loss_until.is_none()
    }

    /// (Re)schedules the probe timeout from `now`, before the RTO's expiry (`rtx_at`), or
    /// clears it where no probe is allowed.
    pub(super) fn schedule_probe(&mut self, now: Instant) {
        self.pto_at = None;
        if !self.probe_allowed() {
            return;
        }
        let Some(rto_at) = self.rtx_at else { return };
        let pto = probe_timeout(
            &self.cfg,
            self.rtt.srtt(),
            self.snd_max - self.snd_una <= self.smss(),
        );
        self.pto_at = Some((now + pto).min(rto_at));
    }

    /// The probe timeout expired: send the probe, then restart the RTO from now.
    pub(super) fn on_probe_timeout(&mut self, now: Instant) {
        self.pto_at = None;
        if !self.probe_allowed() {
            return;
        }
        if self.tlp_high.is_some() {
            // `tcp_send_loss_probe`: "At most one outstanding TLP"; `tcp_rearm_rto` then
            // re-arms the RTO for the time it had left, so it expires when it would have.
            return;
        }
        let data_end = self.data_end();
        if self.snd_nxt < data_end && self.snd_nxt < self.snd_una.saturating_add(self.snd_wnd) {
            self.probe_new_due = true;
        } else {
            self.probe_tail_due = true;
        }
        self.tail_loss_probes += 1;
        // `tcp_rearm_rto` after `icsk_pending = 0`: a full RTO from the probe. `rtx_started`
        // is left alone: it marks when the data was sent for the abort budget.
        self.rtx_at = Some(now + self.rtt.rto());
    }

    /// The last segment sent, sent again as the probe: the last full-sized (or shorter) piece
    /// of data below SND.MAX, with the FIN if it was sent. `None` when nothing is outstanding.
    pub(super) fn resend_tail(&mut self, now: Instant) -> Option<Segment> {
        let data_end = self.data_end();
        let fin = self.fin_queued && self.snd_max > data_end;
        let top = self.snd_max.min(data_end);
        let start = top.saturating_sub(self.smss()).max(self.snd_una);
        let len = top.saturating_sub(start);
        if len == 0 && !fin {
            return None;
        }
        let mut flags = Flags::ACK;
        if len > 0 {
            flags = flags.with(Flags::PSH);
        }
        if fin {
            flags = flags.with(Flags::FIN);
        }
        let payload = self.copy_out(start, len);
        let seg = self.segment(now, self.snd_seq(start), flags, payload);
        let end = start + u64::from(seg.seq_len());
        self.mark_retransmitted(start, end);
        self.tlp_high = Some(self.snd_max);
        self.tlp_retrans = true;
        self.ack_due = false;
        Some(seg)
    }

    /// Whether `seg`, an ACK of `ack`, carries a D-SACK block for the retransmitted probe
    /// (Linux `tcp_dsack_seen` sets `FLAG_DSACK_TLP`): a valid block below the cumulative ACK,
    /// at most one segment long, ending at `tlp_high`.
    pub(super) fn dsack_covers_probe(&self, seg: &Segment, ack: u64) -> bool {
        let Some(high) = self.tlp_high else {
            return false;
        };
        let Some((left, right)) = seg.dsack else {
            return false;
        };
        match (self.snd_off(left), self.snd_off(right)) {
            (Some(left), Some(right)) => {
                left < right && right <= ack && right == high && right - left <= self.smss()
            }
            _ => false,
        }
    }

    /// Linux `tcp_process_tlp_ack`, for an ACK of `ack` (`advanced`: it moved SND.UNA;
    /// `not_dup`: it moved SND.UNA, carried data or changed the window, Linux's
    /// `FLAG_NOT_DUP`). Nothing happens below `tlp_high`. At or above it the episode ends when
    /// the probe was new data; when a D-SACK shows the probe was a duplicate (the original
    /// arrived: no loss); when the ACK goes beyond `tlp_high` (a loss the probe repaired;
    /// Linux also enters CWR there, not modelled, and `tcp_try_keep_open` returns to CA_Open at
    /// once); or for a pure duplicate ACK at `tlp_high`. An ACK that moves SND.UNA to exactly
    /// `tlp_high` after a retransmitted probe, the ACK of a probe that repaired a lost tail
    /// segment, matches none of these: the episode lasts until an ACK beyond it (the next
    /// segment's) or an RTO, and meanwhile no probe is sent.
    pub(super) fn on_probe_ack(&mut self, ack: u64, advanced: bool, not_dup: bool, dsack: bool) {
        let Some(high) = self.tlp_high else { return };
        if ack < high {
            return;
        }
        if !self.tlp_retrans || dsack || ack > high || !(advanced || not_dup) {
            self.tlp_high = None;
        }
    }

    /// A duplicate ACK while the probe is outstanding: the probe arrived and the head did not
    /// (what the probe's SACK tells Linux's RACK); resend the head in fast recovery.
    pub(super) fn probe_revealed_hole(&self) -> bool {
        self.tlp_high.is_some_and(|high| high > self.snd_una)
            && self.recover.is_none()
            && self.state != State::Closed
    }
}

/// The probe timeout for a smoothed RTT (`None`: no sample yet) and whether a single segment
/// is in flight (see the module doc for the source).
pub(super) fn probe_timeout(
    cfg: &TcpConfig,
    srtt: Option<Duration>,
    one_segment: bool,
) -> Duration {
    match srtt {
        Some(srtt) => {
            srtt * 2
                + if one_segment {
                    cfg.min_rto
                } else {
                    TIMEOUT_MIN
                }
        }
        None => cfg.initial_rto,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_timeout_is_two_srtt_plus_the_delayed_ack_allowance() {
        let cfg = TcpConfig::linux();
        let ms = Duration::from_millis;
        assert_eq!(probe_timeout(&cfg, Some(ms(20)), true), ms(240));
        assert_eq!(probe_timeout(&cfg, Some(ms(20)), false), ms(42));
        assert_eq!(probe_timeout(&cfg, None, true), Duration::from_secs(1));
    }
}
