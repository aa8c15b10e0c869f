//! The retransmission timer's RTO computation, RFC 6298 §2 and §5.5.

use super::TcpConfig;
use crate::time::Duration;

/// SRTT, RTTVAR and the current (possibly backed-off) RTO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
}

impl RttEstimator {
    pub(super) const fn new(cfg: &TcpConfig) -> Self {
        Self {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: cfg.initial_rto,
        }
    }

    /// The RTO to arm the retransmission timer with.
    pub(super) const fn rto(&self) -> Duration {
        self.rto
    }

    /// Smoothed RTT, once measured.
    pub(super) const fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// Folds in an RTT sample `r` (per Karn's rule never from a retransmitted segment's send
    /// time; with timestamps from the echo, `Endpoint::rtt_sample`).
    pub(super) fn sample(&mut self, cfg: &TcpConfig, r: Duration) {
        match self.srtt {
            // §2.2: "SRTT <- R, RTTVAR <- R/2".
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            // §2.3: "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|" then
            // "SRTT <- (1 - alpha) * SRTT + alpha * R'", alpha = 1/8, beta = 1/4.
            Some(srtt) => {
                let diff = if srtt > r { srtt - r } else { r - srtt };
                self.rttvar = (self.rttvar * 3 + diff) / 4;
                self.srtt = Some((srtt * 7 + r) / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        // §2.2/2.3: "RTO <- SRTT + max (G, K*RTTVAR)", K = 4; §2.4 floor; §2.5 ceiling.
        let rto = srtt + cfg.clock_granularity.max(self.rttvar * 4);
        self.rto = rto.max(cfg.min_rto).min(cfg.max_rto);
    }

    /// §5.5: "The host MUST set RTO <- RTO * 2 ('back off the timer')", bounded by §2.5.
    pub(super) fn back_off(&mut self, cfg: &TcpConfig) {
        self.rto = (self.rto * 2).min(cfg.max_rto);
    }

    /// §5.7: re-initialise the RTO (to 3 s) once data transmission begins after a lost SYN.
    pub(super) fn reset_to(&mut self, rto: Duration) {
        self.rto = rto;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sample_sets_srtt_and_half_rttvar() {
        let cfg = TcpConfig::linux();
        let mut e = RttEstimator::new(&cfg);
        assert_eq!(e.rto(), Duration::from_secs(1));
        e.sample(&cfg, Duration::from_millis(100));
        // 100 ms + 4 * 50 ms = 300 ms.
        assert_eq!(e.rto(), Duration::from_millis(300));
        e.sample(&cfg, Duration::from_millis(100));
        // RTTVAR = 3/4 * 50 = 37.5 ms; RTO = 100 + 150 = 250 ms.
        assert_eq!(e.rto(), Duration::from_millis(250));
    }

    #[test]
    fn floor_and_ceiling_apply() {
        let rfc = TcpConfig::rfc6298();
        let mut e = RttEstimator::new(&rfc);
        e.sample(&rfc, Duration::from_millis(10));
        assert_eq!(e.rto(), Duration::from_secs(1), "RFC 6298 §2.4 floor");
        for _ in 0..10 {
            e.back_off(&rfc);
        }
        assert_eq!(e.rto(), Duration::from_secs(60), "RFC 6298 §2.5 ceiling");
        let linux = TcpConfig::linux();
        let mut e = RttEstimator::new(&linux);
        e.sample(&linux, Duration::from_millis(10));
        assert_eq!(e.rto(), Duration::from_millis(200), "Linux TCP_RTO_MIN");
    }
}
