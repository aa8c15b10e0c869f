//! Rare false resets: the rate of session resets on a healthy lossy link, per year of up
//! time, by importance sampling on the simulator's own loss draws.
//!
//! # Why importance sampling
//!
//! At the losses real links have (0.1–2 %), a hold timer of 9 s with keepalives every 3 s
//! expires only when every transmission of every message sent for 9 s is lost, retransmissions
//! included: with RFC 6298's 1 s RTO floor that is four or more losses in a row on one
//! direction, about 1e-8 per hold window, a rate of order 0.1 per year. Direct simulation
//! needs decades of simulated time to bound that. Three methods were weighed:
//!
//! - *importance sampling* (IS, chosen): simulate at a higher loss `q`, where resets are
//!   common, and weight each block by the exact likelihood ratio of its loss draws under the
//!   real `p`. The loss model is the simulator's own: a Bernoulli channel draws once per
//!   frame, so the ratio is `(p/q)^lost · ((1 − p)/(1 − q))^kept` over the tilted frames
//!   (as [`sim_core::link::LossModel::bernoulli_log_ratio`] computes it); nothing else is
//!   changed (TCP, BGP, BFD and their timers run as in any run). The estimator is unbiased
//!   whatever `q`; `q` only sets its variance, and is chosen by the cross-entropy method
//!   (below). A reset needs the losses of one session's messages in one direction only
//!   (its keepalives and their retransmissions, on every lossy hop they cross; the
//!   reverse direction's ACKs do not matter, since a hold timer restarts on a message
//!   received), so raising the loss of every frame would inflate the weights with draws
//!   that do not help: at 10 % loss under Linux TCP that left one block with 70 % of the
//!   estimate. Each block instead raises to `q` only the frames carrying data (TCP payload,
//!   BFD) of one component, one (exposed session, direction) picked at random, through a
//!   hook in the network layer (`sim::net::Tilt`, absent from every ordinary run), and is
//!   weighted by `P_p / mean_c P_{q on c}` (a defensive mixture: Hesterberg, *Technometrics*
//!   37(2), 1995; Owen and Zhou, *JASA* 95(449), 2000), which stays bounded by the number of
//!   components wherever any component explains the block well.
//! - *splitting* (RESTART) on "time since the last message delivered" would need the
//!   simulation cloned at intermediate levels of a progress measure that the TCP state
//!   (retransmission backoff, queued keepalives) makes hard to define without bias; IS
//!   needs no such measure.
//! - *exact computation*: the probability that one keepalive and all its retransmissions are
//!   lost within a hold window is a product of `p`s once the TCP schedule is fixed, but the
//!   schedule depends on the RTT estimate, the keepalive jitter and the keepalives queued
//!   behind a lost one, and the two directions and the ACKs interact. It holds as a lower
//!   bound on a simplified session, which `tests/advise.rs` uses as a cross-check.
//!
//! # The estimate
//!
//! A false reset is a renewal event: after one, the session spends time reconnecting, during
//! which it cannot be reset. The rate is counted per year of *up time* (as in
//! [`super::advise`]): `λ = E[resets in [t, t + M] | up at t] / M` for a session in its
//! stationary law at `t`. That identity is exact (not an approximation for small rates) when
//! no session that is down at `t` can be reset before `t + M` and no session is reset twice
//! in `M`: a reset session is down for at least the reconnection, and after it is up again
//! it needs a full detection time without a delivery before it can be reset again, so any
//! `M` up to the shortest detection time `D` (the hold time, or 3 BFD intervals) will do.
//! The block length is `M = D`.
//!
//! Each block: a clone of a warmed-up world (sessions Established, no byte unacknowledged),
//! re-keyed with the block's seed and its keepalive phases re-drawn from their stationary
//! law (the fork of `sim::world`), run for a warm-up `W` at the real loss so that the
//! TCP and timer state (a retransmission in progress, a backed-off RTO) reaches its law
//! under `p`; then, if every session over the lossy link is up, one component's loss is
//! raised to `q` for `M` and the resets in `[W, W + M)` are counted and weighted. Blocks that
//! find a session down after the warm-up are left out (conditioning on up at `t`) and
//! counted in [`RareEstimate::rejected`]. `W = D` when the 10-minute trunk the blocks are
//! cloned from saw no reset; where resets are frequent, a session re-established recently
//! (a young RTT estimate, an RTO still at its initial 1 s) is a visible part of the up time
//! and resets far more easily than an old one (at 30 % loss under Linux TCP, ignoring that
//! halved the rate), so `W` then spans five mean up-and-down cycles as counted in the trunk
//! (at most 30 minutes), and the blocks start in the stationary mix of young and old
//! sessions. What remains approximate is that mixing, and only where resets are frequent;
//! `tests/advise.rs` compares with long direct simulation there.
//!
//! # Choosing `q` (cross-entropy) and the interval
//!
//! Pilot levels `q = 0.1, 0.2, 0.3, 0.45, 0.6, 0.75, 0.9` (those above `p`) run a few blocks
//! each until one sees resets; its weighted blocks give the cross-entropy update
//! `q* = Σ wᵢ·Nᵢ·lostᵢ / Σ wᵢ·Nᵢ·drawnᵢ` (over the tilted component's frames) (Rubinstein and Kroese, *The Cross-Entropy Method*,
//! 2004, §2.3: the maximum-likelihood `q` of the reset paths under `p`), refined once. The
//! estimate then runs batches of blocks at `q*` until the 95 % interval's half-width is
//! within the target fraction of the estimate (and at least 30 resets are seen), or the block
//! budget is spent. Pilot blocks are not part of the estimate. The interval is the normal
//! one, `mean ± 1.96·s/√n` over the blocks' weighted counts; because weights can be
//! heavy-tailed, [`RareEstimate::warnings`] says when it cannot be trusted: few resets seen,
//! one block carrying a large share of the sum (weight degeneracy), a low effective sample
//! size, or the target width not reached. With no reset seen at all the upper bound is
//! infinite: IS gives no bound from nothing.
//!
//! Only independent loss is covered: a Gilbert–Elliott chain's likelihood ratio depends on its
//! sojourns, not on counts (the advisor uses direct simulation for bursty loss).
//!
//! Determinism: block `j` of every candidate uses [`super::run_seed`]`(seed, j)` (common
//! random numbers across candidates), the blocks run in order on one thread, and the batch
//! sizes are fixed, so the same seed gives the same estimate, byte for byte.

use serde::{Deserialize, Serialize};
use sim_core::link::{Direction, LossModel as SimLoss};
use sim_core::time::{Duration, Instant};

use super::run_seed;
use crate::scenario::Scenario;
use crate::sim::RunError;
use crate::sim::net::{SegIx, Tilt};
use crate::sim::world::{World, sim_loss};

/// Nanoseconds in a year (365.25 days).
pub const YEAR_NS: f64 = 365.25 * 86_400.0 * 1e9;

/// The pilot levels of the tilted loss (see the module doc).
const LEVELS: [f64; 7] = [0.1, 0.2, 0.3, 0.45, 0.6, 0.75, 0.9];

/// How much estimating to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RareSpec {
    /// Stop when the 95 % interval's half-width is at most this fraction of the estimate.
    pub target: f64,
    /// At most this many blocks in the estimate (pilots excluded).
    pub max_blocks: u64,
    /// Blocks per pilot level and per batch of the estimate.
    pub batch: u64,
    /// Base seed.
    pub seed: u64,
}

impl Default for RareSpec {
    fn default() -> Self {
        Self {
            target: 0.25,
            max_blocks: 4_000,
            batch: 200,
            seed: 1,
        }
    }
}

/// A false-reset rate estimated by importance sampling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RareEstimate {
    /// Resets per year of up time.
    pub per_year: f64,
    /// 95 % interval, lower bound (at least 0).
    pub lower: f64,
    /// 95 % interval, upper bound (`None`: unbounded, no reset seen).
    pub upper: Option<f64>,
    /// Half-width of the interval over the estimate (`None` when the estimate is 0).
    pub rel_half_width: Option<f64>,
    /// Blocks in the estimate (pilots excluded, rejected ones included).
    pub blocks: u64,
    /// Blocks left out because a session over the lossy link was down after the warm-up.
    pub rejected: u64,
    /// Blocks with at least one reset.
    pub hits: u64,
    /// The tilted loss probability `q` the blocks ran at.
    pub tilt: f64,
    /// The block length `M` (the shortest detection time), as `9s`.
    pub block: String,
    /// Effective sample size of the blocks with resets, `(Σy)²/Σy²`.
    pub ess: f64,
    /// The largest block's share of the sum.
    pub max_share: f64,
    /// Why the interval may not be trusted (empty when nothing is wrong).
    pub warnings: Vec<String>,
}

/// One block's outcome.
#[derive(Debug, Clone, Copy)]
struct Block {
    /// Session resets in the tilted part.
    resets: u64,
    /// Log of the likelihood ratio of the tilted draws.
    log_w: f64,
    /// Frames lost and frames drawn on the tilted channels.
    lost: u64,
    drawn: u64,
}

/// The world to draw blocks from: warmed up, sessions Established, TCP quiet.
pub(crate) struct Base<'a> {
    world: World<'a>,
    /// The independent-loss channels (segment, direction, real `p`).
    channels: Vec<(SegIx, Direction, f64)>,
    /// Sessions over the lossy link.
    exposed: Vec<usize>,
    /// The warm-up of each block at the real loss (see [`Base::new`]).
    warm: Duration,
    /// Messages per second in the warm-up's second half.
    pub(crate) messages_per_s: f64,
}

/// Why no estimate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RareError {
    /// A run failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The lossy link's loss is not independent.
    #[error("importance sampling covers independent loss only; use --method direct")]
    NotBernoulli,
    /// No lossy link.
    #[error("no link is lossy: nothing to estimate")]
    NoLoss,
    /// The sessions over the lossy link never settled.
    #[error(
        "the sessions over the lossy link were not all Established with nothing in flight \
         after {0} of warm-up"
    )]
    NeverSettled(Duration),
}

impl<'a> Base<'a> {
    /// Builds `sc` (a healthy scenario: no faults, loss on the link named by the sessions
    /// `exposed`), runs it `max(10 min, 4·D)` at its real loss, and stops at the first instant
    /// after that with every exposed session Established and no byte unacknowledged.
    pub(crate) fn new(
        sc: &'a Scenario,
        exposed: &[String],
        detect: Duration,
    ) -> Result<Self, RareError> {
        let mut channels = Vec::new();
        for (i, seg) in sc.topology.segments.iter().enumerate() {
            match sim_loss(seg.props.loss) {
                SimLoss::None => {}
                SimLoss::Bernoulli { p } => {
                    for d in [Direction::AToB, Direction::BToA] {
                        channels.push((SegIx(i), d, p));
                    }
                }
                _ => return Err(RareError::NotBernoulli),
            }
        }
        if channels.is_empty() {
            return Err(RareError::NoLoss);
        }
        let exposed: Vec<usize> = sc
            .topology
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| exposed.contains(&s.name))
            .map(|(i, _)| i)
            .collect();
        let mut world = World::new(sc, None)?;
        world.advance_to_fork()?;
        world.fork(sc.seed);
        let half = Duration::from_secs(300).max(detect.saturating_mul(2));
        world.step_until(Instant::ZERO + half, |_| false)?;
        let (m0, t0) = (world.messages_sent(), world.engine.now());
        world.step_until(Instant::ZERO + half.saturating_mul(2), |_| false)?;
        let (m1, t1) = (world.messages_sent(), world.engine.now());
        #[allow(clippy::cast_precision_loss, reason = "a displayed rate")]
        let messages_per_s = if t1 > t0 {
            (m1 - m0) as f64 / (t1 - t0).as_secs_f64()
        } else {
            0.0
        };
        // Where resets are frequent, sessions recently re-established (a young RTT estimate,
        // an RTO still at its initial 1 s) are a visible part of the up time: the warm-up
        // then spans five mean up-and-down cycles, as counted in the trunk, so that the
        // block starts in the stationary mix of young and old sessions.
        let resets: u64 = world.sessions.iter().map(|s| s.flaps).sum();
        let warm = if resets == 0 {
            detect
        } else {
            detect
                .max(half.saturating_mul(2).saturating_mul(5) / resets)
                .min(Duration::from_secs(1800))
        };
        let limit = Instant::ZERO + half.saturating_mul(4);
        let settled = world.step_until(limit, |w| {
            w.net.tcp_quiet() && exposed.iter().all(|&s| w.sessions[s].up)
        })?;
        if !settled {
            return Err(RareError::NeverSettled(half.saturating_mul(4)));
        }
        Ok(Self {
            world,
            channels,
            exposed,
            warm,
            messages_per_s,
        })
    }

    /// One block (see the module doc): `None` when a session over the lossy link is down at
    /// the end of the warm-up.
    fn block(
        &self,
        seed: u64,
        q: f64,
        warm: Duration,
        len: Duration,
    ) -> Result<Option<Block>, RunError> {
        let mut w = self.world.snapshot();
        let now = w.engine.now();
        w.reseed(seed, now);
        let start = now + warm;
        w.step_until(start, |_| false)?;
        if !self.exposed.iter().all(|&s| w.sessions[s].up) {
            return Ok(None);
        }
        // The defensive mixture (see the module doc): one component (an exposed session's
        // messages in one direction), picked uniformly from the block's seed, runs at q; the
        // rest at their real loss.
        let comps: Vec<usize> = self
            .exposed
            .iter()
            .flat_map(|&s| [2 * s, 2 * s + 1])
            .collect();
        let n = u64::try_from(comps.len()).unwrap_or(1).max(1);
        let pick = usize::try_from(run_seed(seed ^ 0x7117_0000_0000_0000, 0) % n)
            .ok()
            .and_then(|i| comps.get(i).copied())
            .unwrap_or(0);
        let mut p_of = vec![None; w.topo.segments.len()];
        for &(seg, _, p) in &self.channels {
            if let Some(x) = p_of.get_mut(seg.0) {
                *x = Some(p);
            }
        }
        let size = 2 * w.topo.sessions.len();
        w.net.tilt = Some(Tilt {
            p: p_of,
            q,
            pick,
            log_ratio: vec![0.0; size],
            counts: vec![(0, 0); size],
        });
        // The tilt ends at the first reset (a stopping time, so the ratio of the frames
        // decided until then is the whole likelihood ratio): a reset session's reconnection
        // drawn at q would only shrink the weights.
        let flaps = |w: &World<'_>| w.sessions.iter().map(|s| s.flaps).sum::<u64>();
        let flaps0 = flaps(&w);
        w.step_until(start + len, |w| flaps(w) > flaps0)?;
        let Some(t) = w.net.tilt.take() else {
            return Ok(None);
        };
        w.step_until(start + len, |_| false)?;
        let resets = flaps(&w) - flaps0;
        let (lost, drawn) = t.counts.get(pick).copied().unwrap_or((0, 0));
        // log of P_mixture/P_p = log of the mean over the components of P_{q on c}/P_p, where
        // P_{q on c}/P_p is component c's own ratio (every other frame is alike in both).
        let ratios: Vec<f64> = comps
            .iter()
            .map(|&c| t.log_ratio.get(c).copied().unwrap_or(0.0))
            .collect();
        let top = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        #[allow(clippy::cast_precision_loss, reason = "a handful of components")]
        let mean = ratios.iter().map(|r| (r - top).exp()).sum::<f64>() / n as f64;
        let b = Block {
            resets,
            log_w: -(top + mean.ln()),
            lost,
            drawn,
        };
        Ok(Some(b))
    }

    /// The real loss of the tilted channels (the largest, if they differ).
    fn p(&self) -> f64 {
        self.channels.iter().map(|c| c.2).fold(0.0, f64::max)
    }
}

/// Estimates the false-reset rate per year of up time from `base` with blocks of `detect`
/// (the shortest detection time: hold time, or 3 BFD intervals).
pub(crate) fn estimate(
    base: &Base<'_>,
    detect: Duration,
    spec: &RareSpec,
) -> Result<RareEstimate, RunError> {
    let p = base.p();
    let warm = base.warm;
    let len = detect;
    let mut next = 0u64;
    let mut run = |q: f64, n: u64| -> Result<Vec<Option<Block>>, RunError> {
        let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        for _ in 0..n {
            out.push(base.block(run_seed(spec.seed, next), q, warm, len)?);
            next += 1;
        }
        Ok(out)
    };
    // Pilot: the first level that sees resets, then a cross-entropy update, refined once.
    let mut levels: Vec<f64> = LEVELS.iter().copied().filter(|&q| q > p).collect();
    if p >= LEVELS[0] {
        levels.insert(0, p);
    }
    let mut q = levels.last().copied().unwrap_or(p);
    let need = (spec.batch / 20).max(3);
    for &level in &levels {
        let pilot = run(level, spec.batch)?;
        let hits = pilot.iter().flatten().filter(|b| b.resets > 0).count();
        if u64::try_from(hits).unwrap_or(0) >= need {
            q = cross_entropy(&pilot, p, level);
            let again = run(q, spec.batch)?;
            if again.iter().flatten().any(|b| b.resets > 0) {
                q = cross_entropy(&again, p, q);
            }
            break;
        }
    }
    // The estimate: batches at q until the interval is narrow enough.
    let mut ys: Vec<f64> = Vec::new();
    let mut rejected = 0u64;
    let mut blocks = 0u64;
    loop {
        for b in run(q, spec.batch)? {
            blocks += 1;
            match b {
                None => rejected += 1,
                #[allow(clippy::cast_precision_loss, reason = "reset counts are small")]
                Some(b) => ys.push(b.resets as f64 * b.log_w.exp()),
            }
        }
        let s = summarise(&ys);
        let hits = ys.iter().filter(|y| **y > 0.0).count();
        let narrow = s.rel_half.is_some_and(|r| r <= spec.target) && hits >= 30;
        if narrow || blocks >= spec.max_blocks {
            break;
        }
    }
    let s = summarise(&ys);
    #[allow(clippy::cast_precision_loss, reason = "nanoseconds of a block")]
    let per = YEAR_NS / len.as_nanos() as f64;
    let hits = u64::try_from(ys.iter().filter(|y| **y > 0.0).count()).unwrap_or(u64::MAX);
    let mut warnings = Vec::new();
    if hits == 0 {
        warnings.push(format!(
            "no reset in {blocks} blocks at {:.0} % loss: no bound",
            q * 100.0
        ));
    } else if hits < 30 {
        warnings.push(format!(
            "only {hits} blocks with a reset: the interval may be too narrow"
        ));
    }
    if hits > 0 && s.max_share > 0.25 {
        warnings.push(format!(
            "one block carries {:.0} % of the estimate (weight degeneracy): the interval may be too narrow",
            s.max_share * 100.0
        ));
    }
    if hits > 0 && s.rel_half.is_some_and(|r| r > spec.target) {
        warnings.push(format!(
            "relative half-width {:.0} % after {blocks} blocks, above the {:.0} % target",
            s.rel_half.unwrap_or(0.0) * 100.0,
            spec.target * 100.0
        ));
    }
    if blocks > 0 && rejected * 10 > blocks {
        warnings.push(format!(
            "{rejected} of {blocks} blocks found a session down after the warm-up"
        ));
    }
    Ok(RareEstimate {
        per_year: s.mean * per,
        lower: (s.mean - s.half).max(0.0) * per,
        upper: (hits > 0).then_some((s.mean + s.half) * per),
        rel_half_width: s.rel_half,
        blocks,
        rejected,
        hits,
        tilt: q,
        block: len.to_string(),
        ess: s.ess,
        max_share: s.max_share,
        warnings,
    })
}

/// The cross-entropy update of the tilt from blocks run at `q` (see the module doc),
/// clamped to `[p, 0.95]`.
fn cross_entropy(blocks: &[Option<Block>], p: f64, q: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for b in blocks.iter().flatten().filter(|b| b.resets > 0) {
        let w = b.log_w.exp();
        #[allow(clippy::cast_precision_loss, reason = "frame counts far below 2^52")]
        {
            num += w * b.lost as f64;
            den += w * b.drawn as f64;
        }
    }
    if den > 0.0 && num > 0.0 {
        (num / den).clamp(p, 0.95)
    } else {
        q
    }
}

/// Mean, 95 % half-width and weight diagnostics of the blocks' weighted counts.
struct Summary {
    mean: f64,
    half: f64,
    rel_half: Option<f64>,
    ess: f64,
    max_share: f64,
}

fn summarise(ys: &[f64]) -> Summary {
    #[allow(clippy::cast_precision_loss, reason = "block counts far below 2^52")]
    let n = ys.len() as f64;
    if ys.is_empty() {
        return Summary {
            mean: 0.0,
            half: 0.0,
            rel_half: None,
            ess: 0.0,
            max_share: 0.0,
        };
    }
    let sum: f64 = ys.iter().sum();
    let mean = sum / n;
    let var = if n > 1.0 {
        ys.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let half = 1.96 * (var / n).sqrt();
    let sq: f64 = ys.iter().map(|y| y * y).sum();
    let max = ys.iter().copied().fold(0.0, f64::max);
    Summary {
        mean,
        half,
        rel_half: (mean > 0.0).then_some(half / mean),
        ess: if sq > 0.0 { sum * sum / sq } else { 0.0 },
        max_share: if sum > 0.0 { max / sum } else { 0.0 },
    }
}

/// The importance-sampling estimate of the false-reset rate per year of up time of the
/// sessions over `target` in `sc`, a healthy scenario (no faults; independent loss on
/// `target`; a duration longer than any block), with blocks of `detect` (the shortest
/// detection time). Also returns the messages per second on the healthy link.
///
/// # Errors
///
/// [`RareError`] when the loss is not independent, no link is lossy, the sessions never
/// settle, or a run fails.
pub fn importance(
    sc: &Scenario,
    target: &str,
    detect: Duration,
    spec: &RareSpec,
) -> Result<(RareEstimate, f64), RareError> {
    let exposed = sc.topology.sessions_over(target);
    let base = Base::new(sc, &exposed, detect)?;
    let est = estimate(&base, detect, spec)?;
    Ok((est, base.messages_per_s))
}

/// A false-reset rate counted in direct simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Direct {
    /// Session resets counted (all sessions).
    pub resets: u64,
    /// Up time of the sessions over the lossy link (both ends Established, averaged over
    /// those sessions), ns.
    pub up_ns: u128,
    /// Resets per year of up time.
    pub per_year: f64,
    /// Exact (Garwood) 95 % interval per year.
    pub ci: (f64, f64),
}

/// Runs seeds [`run_seed`]`(seed, 0..runs)` of the healthy scenario `sc` to its end and
/// counts the resets per year of up time of the sessions over `target`, as `holdtime advise
/// --method direct` does.
///
/// # Errors
///
/// [`RunError`] if a run fails.
pub fn direct(sc: &Scenario, target: &str, runs: u64, seed: u64) -> Result<Direct, RunError> {
    let exposed = sc.topology.sessions_over(target);
    let prepared = crate::Prepared::new(sc)?;
    let (mut resets, mut up_ns) = (0u64, 0u128);
    for r in 0..runs {
        let report = prepared.run(run_seed(seed, r))?;
        resets += report.flaps.iter().map(|f| f.count).sum::<u64>();
        let ups: Vec<u128> = exposed
            .iter()
            .map(|s| u128::from(report.established_time(s).as_nanos()))
            .collect();
        let n = u128::try_from(ups.len()).unwrap_or(1).max(1);
        up_ns += if ups.is_empty() {
            u128::from(report.duration.as_nanos())
        } else {
            ups.iter().sum::<u128>() / n
        };
    }
    #[allow(clippy::cast_precision_loss, reason = "rates")]
    let years = up_ns as f64 / YEAR_NS;
    let (lo, hi) = super::advise::garwood(resets, 0.05);
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let k = resets as f64;
    let (per_year, ci) = if years > 0.0 {
        (k / years, (lo / years, hi / years))
    } else {
        (f64::INFINITY, (0.0, f64::INFINITY))
    };
    Ok(Direct {
        resets,
        up_ns,
        per_year,
        ci,
    })
}
