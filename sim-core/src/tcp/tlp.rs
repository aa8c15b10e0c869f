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
//! - `tcp_send_loss_probe`: "At most one outstanding TLP"; "try send a new segment if
//!   possible, else retransmit the last segment" (a new segment may exceed the congestion
//!   window by one, not the peer's window); then "Reset s.t. tcp_rearm_rto will restart timer
//!   from now": the RTO runs in full from the probe, not backed off (the probe is not an RTO
//!   retransmission). The episode ends when an ACK covers what was outstanding at the probe
//!   (`tcp_process_tlp_ack`), or at an RTO.
//!
//! What of RACK and SACK is taken along: Linux learns from the SACK block the probe elicits
//! that the segments before it are missing, and RACK retransmits them at once (RFC 8985
//! §7.4.1). Without SACK here, a duplicate ACK that arrives while the probe is outstanding
//! stands for that SACK: it shows the probe arrived and the hole before it did not, so the head
//! is resent in fast recovery. Not modelled: the congestion-window reduction after a probe that
//! repaired a loss (`tcp_process_tlp_ack` enters CWR), which keepalive timing does not depend
//! on; the RTT sample of a probe is taken from its own transmission (with timestamps, what the
//! echoed timestamp of the probe gives when the original was lost).

use super::{Endpoint, Flags, Segment, State, TcpConfig};
use crate::time::{Duration, Instant};

/// Linux `TCP_TIMEOUT_MIN`: 2 jiffies, 2 ms at `HZ` = 1000, added to the probe timeout when
/// more than one segment is in flight.
const TIMEOUT_MIN: Duration = Duration::from_millis(2);

impl Endpoint {
    /// Whether a probe may be scheduled now: the option is on, the connection synchronised,
    /// data outstanding, no fast recovery, no loss recovery after an RTO, no probe outstanding.
    pub(super) fn probe_allowed(&self) -> bool {
        self.cfg.tail_loss_probe
            && self.state.is_synchronized()
            && self.snd_una < self.snd_max
            && self.recover.is_none()
            && self.loss_until.is_none()
            && self.tlp_high.is_none()
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
        if self.ts_enabled {
            self.timed = Some((end, now));
        } else if self.timed.is_some_and(|(timed_end, _)| timed_end > start) {
            // Karn's rule: the timed segment is now ambiguous.
            self.timed = None;
        }
        self.tlp_high = Some(self.snd_max);
        self.ack_due = false;
        Some(seg)
    }

    /// A duplicate ACK while the probe is outstanding: the probe arrived and the head did not
    /// (what the probe's SACK tells Linux's RACK); resend the head in fast recovery.
    pub(super) fn probe_revealed_hole(&self) -> bool {
        self.tlp_high.is_some() && self.recover.is_none() && self.state != State::Closed
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
