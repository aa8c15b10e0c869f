//! Rare false resets: the rate of session resets on a healthy lossy link, per year of up
//! time, by branching a simulation at every delivery (conditional Monte Carlo on the
//! simulator's own loss draws).
//!
//! # Why this method
//!
//! At the losses real links have (0.1–2 %), a hold timer of 10 s with keepalives every 3 s
//! expires only when every transmission of every message sent for 10 s is lost,
//! retransmissions included: five or six losses in a row on one direction under the
//! simulator's TCP, a rate far below one per year. Direct simulation needs centuries of
//! simulated time to bound that. Three methods were weighed:
//!
//! - *importance sampling* (the previous estimator here): simulate blocks at a raised loss
//!   `q` and weight them by the likelihood ratio. Unbiased, but its variance depends on `q`
//!   matching the paths that matter, and they differ by candidate: with BFD, where a loss
//!   on either of the circuit's two lossy segments counts, blocks tilted on the first
//!   segment missed most reset paths and reported 30 resets a year, ±21 %, where direct
//!   simulation counts about 1,000 (BFD 750 ms × 3 at 1 %); with TCP, one block in 4,000
//!   often carried most of the sum.
//! - *exact computation*: the probability that every frame sent in a hold window is lost
//!   is a product of losses once the schedule of those frames is fixed; the schedule
//!   (keepalive jitter, RTO back-off, keepalives queued behind a lost one, the other
//!   direction) is what the simulator knows and a formula does not. Where the schedule is
//!   simple (BFD: three packets per detection time, jittered 75–100 %), the formula is the
//!   cross-check in `tests/advise.rs`.
//! - *splitting on the time since the last delivery* (chosen, in its limit): every
//!   delivery restarts the race to the detection time; the estimator lets the simulator
//!   compute the schedule, and the product of losses exactly.
//!
//! # The estimate
//!
//! A *trunk* runs the healthy scenario at its real loss, from a warmed-up world (sessions
//! Established, no byte unacknowledged; where resets are frequent, five mean up-and-down
//! cycles more). The frames that carry something (BGP bytes, BFD packets) of one exposed
//! session in one direction form a *component* `c`; a *delivery* of `c` is one of its
//! frames kept on the last lossy hop of its path. At every delivery the trunk is copied
//! into a *branch* (its network's draws re-keyed) in which every later frame of `c` is
//! lost, at the first lossy hop it meets, and weighed by `P`, its chance of being lost on
//! that hop or a later one under the real losses; everything else (the other direction,
//! ACKs, timers, jitter) runs at its real law. The branch runs until `c`'s session leaves
//! Established (or the hold time and 5 s pass). Its value is the product of the `P`s when
//! the end `c` travels toward is the first to leave, else 0.
//!
//! Every reset is counted exactly once: it is first declared by one end `X`, the component
//! toward `X` has a last delivery before it, and after that delivery none of its frames got
//! through; the branch at that delivery makes exactly that happen, and its value is the
//! probability of it given the trunk's state there (where a frame is lost does not change
//! what the session sees). So `E[Σ values] = E[resets]` over the trunk, and the rate is
//! `Σ values / up time` (up time: the exposed sessions' time with both ends Established,
//! averaged over them), with no tilt to choose. A reset's dominant path (everything lost
//! after a delivery) is simulated in every branch rather than waited for.
//!
//! # The interval and its warnings
//!
//! The trunk is cut into batches of [`RareSpec::batch`] deliveries; the 95 % interval is
//! the ratio estimator's, `Σz/Σu ± 1.96·s/(√n·ū)` with `s` the standard deviation of
//! `zᵦ − rate·uᵦ` over the `n` batches (batch means, for the correlation along the trunk).
//! The estimate runs at least [`RareSpec::min_blocks`] deliveries and stops when the
//! half-width is within [`RareSpec::target`] of the estimate, or at
//! [`RareSpec::max_blocks`]. What the interval cannot see are trunk states too rare to
//! have been visited: a lost segment whose retransmission is backed off while later ones
//! get through out of order (RFC 6298's 1 s RTO floor, long keepalives) makes the
//! branches after it worth far more than the others, and one such state in a short trunk
//! dominates the sum. [`RareEstimate::warnings`] says so: one delivery carrying over a
//! quarter of the sum, fewer than 10 batches, the target width not reached, or no reset at
//! all (then there is no upper bound). The advisor never counts a warned estimate as
//! meeting a budget.
//!
//! Only independent loss is covered: under Gilbert–Elliott loss a frame's chance of loss
//! depends on the chain's hidden state (the advisor uses direct simulation for bursty
//! loss).
//!
//! Determinism: the trunk is seeded from [`RareSpec::seed`], branch `j` from
//! [`super::run_seed`]`(seed, j + 1)`, everything runs in order on one thread, so the same
//! seed gives the same estimate, byte for byte.

use serde::{Deserialize, Serialize};
use sim_core::link::{Direction, LossModel as SimLoss};
use sim_core::time::{Duration, Instant};

use super::run_seed;
use crate::scenario::Scenario;
use crate::sim::RunError;
use crate::sim::net::{SegIx, Tilt};
use crate::sim::world::{World, sim_loss};
use crate::spec::SessionStateName;

/// Nanoseconds in a year (365.25 days).
pub const YEAR_NS: f64 = 365.25 * 86_400.0 * 1e9;

/// How much estimating to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RareSpec {
    /// Stop when the 95 % interval's half-width is at most this fraction of the estimate.
    pub target: f64,
    /// At most this many deliveries branched.
    pub max_blocks: u64,
    /// At least this many deliveries branched before the estimate may stop.
    pub min_blocks: u64,
    /// Deliveries per batch (the interval is computed over batches, see the module doc).
    pub batch: u64,
    /// Base seed.
    pub seed: u64,
}

impl Default for RareSpec {
    fn default() -> Self {
        Self {
            target: 0.25,
            max_blocks: 20_000,
            min_blocks: 2_000,
            batch: 100,
            seed: 1,
        }
    }
}

/// A false-reset rate estimated by branching the trunk at its deliveries (see the module
/// doc). The field names are those of the JSON the advisor writes (`holdtime.advise/2`).
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
    /// Deliveries branched.
    pub blocks: u64,
    /// Branches of a session that was up that reached their time limit without a reset
    /// (counted as 0).
    pub rejected: u64,
    /// Branches with a reset.
    pub hits: u64,
    /// The loss of the branched component's frames in a branch (1: all lost, weighed by
    /// their real chance of loss).
    pub tilt: f64,
    /// The shortest detection time `D` (hold time, or 3 BFD intervals), ns.
    pub block_ns: u64,
    /// Effective sample size of the branches' values, `(Σy)²/Σy²`.
    pub ess: f64,
    /// The largest branch's share of the sum.
    pub max_share: f64,
    /// Why the interval may not be trusted (empty when nothing is wrong).
    pub warnings: Vec<String>,
}

/// The world the trunk starts from: warmed up, sessions Established, TCP quiet.
pub(crate) struct Base<'a> {
    world: World<'a>,
    /// The independent-loss channels (segment, direction, real `p`).
    channels: Vec<(SegIx, Direction, f64)>,
    /// Sessions over the lossy link.
    exposed: Vec<usize>,
    /// The trunk's warm-up at the real loss before its first delivery counts (see
    /// [`Base::new`]).
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
    #[error("the rare-event estimate covers independent loss only; use --method direct")]
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
        // trunk starts in the stationary mix of young and old sessions.
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
}

/// Estimates the false-reset rate per year of up time from `base` (see the module doc): a
/// trunk at the real loss, branched at every delivery of a component (an exposed session's
/// messages in one direction), each branch run with that component's frames lost until the
/// session resets.
pub(crate) fn estimate(
    base: &Base<'_>,
    detect: Duration,
    spec: &RareSpec,
) -> Result<RareEstimate, RunError> {
    let mut trunk = base.world.snapshot();
    let now = trunk.engine.now();
    trunk.reseed(run_seed(spec.seed, 0), now);
    let mut p_of = vec![None; trunk.topo.segments.len()];
    for &(seg, _, p) in &base.channels {
        if let Some(x) = p_of.get_mut(seg.0) {
            *x = Some(p);
        }
    }
    let size = 2 * trunk.topo.sessions.len();
    // The trunk runs every frame at its real loss (no component picked); the hook counts
    // each component's frames through the loss, which is how deliveries are seen.
    trunk.net.tilt = Some(Tilt {
        p: p_of,
        q: 1.0,
        pick: usize::MAX,
        log_ratio: vec![0.0; size],
        counts: vec![(0, 0); size],
        force: false,
        passed: vec![0; size],
        datagrams: (0..trunk.topo.sessions.len())
            .map(|s| runs_bfd(trunk.topo, s))
            .collect(),
        through: vec![crate::sim::net::Through::default(); size],
    });
    trunk.step_until(now + base.warm, |_| false)?;
    let comps: Vec<usize> = base
        .exposed
        .iter()
        .flat_map(|&s| [2 * s, 2 * s + 1])
        .collect();
    let passed = |w: &World<'_>| -> Vec<u64> {
        let t = w.net.tilt.as_ref();
        comps
            .iter()
            .map(|&c| t.and_then(|t| t.passed.get(c).copied()).unwrap_or(0))
            .collect()
    };
    let ups = |w: &World<'_>| -> Vec<bool> {
        base.exposed
            .iter()
            .map(|&s| w.sessions.get(s).is_some_and(|x| x.up))
            .collect()
    };
    // A branch needs at most the longest hold time (or the BFD detection time) after its
    // delivery, and a little for the message in flight.
    let hold = base
        .exposed
        .iter()
        .filter_map(|&s| trunk.topo.sessions.get(s))
        .map(|s| s.negotiated_hold_time(trunk.topo))
        .max()
        .unwrap_or(detect)
        .max(detect);
    let cap = hold + BRANCH_SLACK;
    #[allow(clippy::cast_precision_loss, reason = "a handful of sessions")]
    let n_exposed = base.exposed.len().max(1) as f64;
    let batch = usize::try_from(spec.batch.max(1)).unwrap_or(usize::MAX);
    let mut prev = passed(&trunk);
    let mut prev_up = ups(&trunk);
    let mut t_last = trunk.engine.now();
    // Per batch of `batch` deliveries: the sum of the branches' values and the up time.
    let mut batches: Vec<(f64, f64)> = Vec::new();
    let (mut z_b, mut up_b) = (0.0_f64, 0.0_f64);
    let mut zs: Vec<f64> = Vec::new();
    let (mut hits, mut cuts) = (0u64, 0u64);
    let mut ended = false;
    loop {
        let more = trunk.step_until(Instant::MAX, |w| passed(w) != prev || ups(w) != prev_up)?;
        let t = trunk.engine.now();
        #[allow(clippy::cast_precision_loss, reason = "nanoseconds of up time")]
        {
            let up = prev_up.iter().filter(|u| **u).count() as f64;
            up_b += (t - t_last).as_nanos() as f64 * up / n_exposed;
        }
        t_last = t;
        if !more {
            ended = true;
            break;
        }
        let now_passed = passed(&trunk);
        for (&c, (&n1, &n0)) in comps.iter().zip(now_passed.iter().zip(&prev)) {
            for k in n0..n1 {
                // Two deliveries of one component in one step: all but the last are followed
                // by a delivery at once, so their branches are worth 0.
                let y = if k + 1 == n1 {
                    let index = u64::try_from(zs.len()).unwrap_or(u64::MAX);
                    let (y, cut) = branch(&trunk, c, cap, run_seed(spec.seed, index + 1))?;
                    cuts += u64::from(cut);
                    hits += u64::from(y > 0.0);
                    y
                } else {
                    0.0
                };
                zs.push(y);
                z_b += y;
                if zs.len().is_multiple_of(batch) {
                    batches.push((z_b, up_b));
                    (z_b, up_b) = (0.0, 0.0);
                }
            }
        }
        prev = now_passed;
        prev_up = ups(&trunk);
        let n = u64::try_from(zs.len()).unwrap_or(u64::MAX);
        if n >= spec.max_blocks {
            break;
        }
        if n >= spec.min_blocks
            && zs.len().is_multiple_of(batch)
            && ratio(&batches).rel_half.is_some_and(|r| r <= spec.target)
        {
            break;
        }
    }
    if up_b > 0.0 && (batches.is_empty() || ended) {
        batches.push((z_b, up_b));
    }
    let r = ratio(&batches);
    let s = summarise(&zs);
    let per_year = r.rate * YEAR_NS;
    let half = r.half * YEAR_NS;
    let anchors = u64::try_from(zs.len()).unwrap_or(u64::MAX);
    let mut warnings = Vec::new();
    if hits == 0 {
        warnings.push(format!(
            "no reset in the branches of {anchors} deliveries: no bound"
        ));
    } else if hits < 30 {
        warnings.push(format!(
            "only {hits} branches with a reset: the interval may be too narrow"
        ));
    }
    if batches.len() < MIN_BATCHES {
        warnings.push(format!(
            "only {} batches of deliveries: the interval may be too narrow",
            batches.len()
        ));
    }
    if hits > 0 && s.max_share > 0.25 {
        warnings.push(format!(
            "one delivery carries {:.0} % of the estimate: the interval may be too narrow",
            s.max_share * 100.0
        ));
    }
    if hits > 0 && r.rel_half.is_some_and(|x| x > spec.target) {
        warnings.push(format!(
            "relative half-width {:.0} % after {anchors} deliveries, above the {:.0} % target",
            r.rel_half.unwrap_or(0.0) * 100.0,
            spec.target * 100.0
        ));
    }
    if !(per_year.is_finite() && half.is_finite()) {
        warnings.push("the estimate is not a finite number".to_owned());
    }
    if cuts > 0 {
        warnings.push(format!(
            "{cuts} of {anchors} branches reached their time limit without a reset (counted as 0)"
        ));
    }
    Ok(RareEstimate {
        per_year,
        lower: (per_year - half).max(0.0),
        upper: (hits > 0 && (per_year + half).is_finite()).then_some(per_year + half),
        rel_half_width: r.rel_half,
        blocks: anchors,
        rejected: cuts,
        hits,
        tilt: 1.0,
        block_ns: detect.as_nanos(),
        ess: s.ess,
        max_share: s.max_share,
        warnings,
    })
}

/// Whether session `s` runs BFD: both ends have it and the session does not turn it off
/// (as the routers decide, `sim::router`).
fn runs_bfd(topo: &crate::topology::Topology, s: usize) -> bool {
    topo.sessions.get(s).is_some_and(|x| {
        x.bfd != Some(false)
            && x.ends.iter().all(|e| {
                topo.routers
                    .get(e.router.0)
                    .is_some_and(|r| r.bfd.is_some())
            })
    })
}

/// How long a branch may run past the longest detection time.
const BRANCH_SLACK: Duration = Duration::from_secs(5);

/// Fewer batches than this and the interval gets a warning.
const MIN_BATCHES: usize = 10;

/// One branch (see the module doc): a copy of the trunk just after a delivery of component
/// `c`, its network's draws re-keyed from `seed`, in which every later frame of `c` is lost
/// (each weighed by its chance of being lost under the real losses) and everything else runs
/// at its real loss, until `c`'s session leaves Established or `cap` has passed. Its value is
/// the product of those chances when the end that `c` travels toward is the first to leave
/// Established, else 0. The second value: `cap` passed without a reset of a session that
/// was up at the delivery.
fn branch(trunk: &World<'_>, c: usize, cap: Duration, seed: u64) -> Result<(f64, bool), RunError> {
    let mut w = trunk.snapshot();
    let start = w.engine.now();
    w.net.rekey(run_seed(seed, 0x6272_616e_6368));
    if let Some(t) = w.net.tilt.as_mut() {
        t.pick = c;
        t.q = 1.0;
        t.force = true;
        if let Some(r) = t.log_ratio.get_mut(c) {
            *r = 0.0;
        }
    }
    let (s, toward) = (c / 2, c % 2);
    let flaps0 = w.sessions.get(s).map_or(0, |x| x.flaps);
    let up0 = w.sessions.get(s).is_some_and(|x| x.up);
    let flapped = |w: &World<'_>| w.sessions.get(s).is_some_and(|x| x.flaps != flaps0);
    if !w.step_until(start + cap, flapped)? {
        // A session that was not up at the delivery (still connecting) may well never come
        // up with the component lost: only an up session that outlives the cap is a cut.
        return Ok((0.0, up0));
    }
    let ours = w
        .sessions
        .get(s)
        .is_some_and(|x| x.state.get(toward) != Some(&SessionStateName::Established));
    let log_w = w
        .net
        .tilt
        .as_ref()
        .and_then(|t| t.log_ratio.get(c).copied())
        .unwrap_or(f64::INFINITY);
    Ok((if ours { (-log_w).exp() } else { 0.0 }, false))
}

/// The ratio estimate `Σz / Σup` over batches, with its 95 % half-width by the delta method
/// over the batches (Glynn and Whitt's batch means for a regenerative-like ratio).
struct Ratio {
    rate: f64,
    half: f64,
    rel_half: Option<f64>,
}

fn ratio(batches: &[(f64, f64)]) -> Ratio {
    let z: f64 = batches.iter().map(|b| b.0).sum();
    let u: f64 = batches.iter().map(|b| b.1).sum();
    #[allow(clippy::cast_precision_loss, reason = "batch counts")]
    let n = batches.len() as f64;
    if u <= 0.0 || n < 2.0 {
        return Ratio {
            rate: if u > 0.0 { z / u } else { 0.0 },
            half: f64::INFINITY,
            rel_half: None,
        };
    }
    let rate = z / u;
    let mean_u = u / n;
    let var = batches
        .iter()
        .map(|(zb, ub)| (zb - rate * ub).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    let half = 1.96 * (var / n).sqrt() / mean_u;
    Ratio {
        rate,
        half,
        rel_half: (rate > 0.0).then_some(half / rate),
    }
}

/// Weight diagnostics of the branches' values.
struct Summary {
    ess: f64,
    max_share: f64,
}

fn summarise(ys: &[f64]) -> Summary {
    let sum: f64 = ys.iter().sum();
    let sq: f64 = ys.iter().map(|y| y * y).sum();
    let max = ys.iter().copied().fold(0.0, f64::max);
    Summary {
        ess: if sq > 0.0 { sum * sum / sq } else { 0.0 },
        max_share: if sum > 0.0 { max / sum } else { 0.0 },
    }
}

/// The rare-event estimate (see the module doc) of the false-reset rate per year of up time
/// of the sessions over `target` in `sc`, a healthy scenario (no faults; independent loss
/// on `target`; a duration long enough for the trunk: it ends there at the latest), whose
/// shortest detection time is `detect`. Also returns the messages per second on the
/// healthy link.
///
/// # Errors
///
/// [`RareError`] when the loss is not independent, no link is lossy, the sessions never
/// settle, or a run fails.
pub fn branching(
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

/// The sweep metric of false resets ([`super::false_resets`]): `false_resets` covers every
/// session whose path crosses a lossy segment, `false_resets.SESSION` that session only.
pub const METRIC: &str = "false_resets";

/// Whether `name` is a false-reset metric (`false_resets` or `false_resets.SESSION`).
#[must_use]
pub fn is_metric(name: &str) -> bool {
    name == METRIC
        || name
            .strip_prefix(METRIC)
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|s| !s.is_empty())
}

/// A false-reset rate of a sweep's grid point: the sessions it covers and the estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionsEstimate {
    /// The sessions whose resets are counted (their up time, averaged, is the exposure).
    pub sessions: Vec<String>,
    /// The estimate (resets of any of them per year of up time).
    #[serde(flatten)]
    pub estimate: RareEstimate,
}

/// The sessions metric `name` ([`is_metric`]) covers in `sc`: those whose path crosses a
/// segment with loss, or the one named if it does; with its shortest detection time (the
/// hold time, or the BFD detection time when the session runs BFD).
///
/// # Errors
///
/// Why the metric makes no sense in `sc`, in words: no lossy segment, a session that does
/// not exist or crosses none, or loss that is not independent.
pub fn metric_sessions(sc: &Scenario, name: &str) -> Result<(Vec<String>, Duration), String> {
    let topo = &sc.topology;
    let lossy: Vec<bool> = topo
        .segments
        .iter()
        .map(|s| !matches!(sim_loss(s.props.loss), SimLoss::None))
        .collect();
    if !lossy.contains(&true) {
        return Err(format!(
            "no link of `{}` is lossy, so there is no false reset to estimate: give one a loss \
             (`[[link]] target = \"circuit.primary\"`, `loss = 0.01`, or \
             `--set link[circuit.primary].loss=0.01`)",
            sc.name
        ));
    }
    if topo.segments.iter().any(|s| {
        !matches!(
            sim_loss(s.props.loss),
            SimLoss::None | SimLoss::Bernoulli { .. }
        )
    }) {
        return Err(RareError::NotBernoulli.to_string().replace(
            "; use --method direct",
            ": a link with loss in bursts has no false-reset estimate yet",
        ));
    }
    let crosses = |s: &crate::topology::Session| {
        s.path
            .iter()
            .any(|g| lossy.get(g.0).copied().unwrap_or(false))
    };
    let sessions: Vec<usize> = match name.strip_prefix(METRIC).and_then(|r| r.strip_prefix('.')) {
        None => topo
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| crosses(s))
            .map(|(i, _)| i)
            .collect(),
        Some(one) => {
            let Some(i) = topo.sessions.iter().position(|s| s.name == one) else {
                let names: Vec<&str> = topo.sessions.iter().map(|s| s.name.as_str()).collect();
                return Err(format!(
                    "no session `{one}`; the sessions are {}",
                    names.join(", ")
                ));
            };
            if !topo.sessions.get(i).is_some_and(crosses) {
                return Err(format!(
                    "session `{one}` crosses no lossy segment, so loss cannot reset it"
                ));
            }
            vec![i]
        }
    };
    if sessions.is_empty() {
        return Err("no session crosses a lossy segment, so loss resets none".to_owned());
    }
    let detect = sessions
        .iter()
        .filter_map(|&i| topo.sessions.get(i).map(|s| (i, s)))
        .map(|(i, s)| {
            let hold = s.negotiated_hold_time(topo);
            if !runs_bfd(topo, i) {
                return hold;
            }
            // RFC 5880 §6.8.4: the detection time is the remote multiplier times the agreed
            // interval (the larger of the two ends' intervals); the larger multiplier bounds it.
            let bfd = s
                .ends
                .iter()
                .filter_map(|e| topo.routers.get(e.router.0).and_then(|r| r.bfd))
                .fold(Duration::ZERO, |a, b| {
                    a.max(b.interval.saturating_mul(u64::from(b.multiplier)))
                });
            if bfd.is_zero() { hold } else { hold.min(bfd) }
        })
        .min()
        .unwrap_or(Duration::ZERO);
    Ok((
        sessions
            .iter()
            .filter_map(|&i| topo.sessions.get(i).map(|s| s.name.clone()))
            .collect(),
        detect,
    ))
}

/// The estimate of metric `name` ([`is_metric`]) on `sc`, a healthy scenario (no faults, a
/// duration out of the trunk's reach), as `holdtime advise` makes it.
///
/// # Errors
///
/// [`RareError`] as [`branching`]; `Invalid` is reported by [`metric_sessions`] first.
pub fn metric_estimate(
    sc: &Scenario,
    sessions: &[String],
    detect: Duration,
    spec: &RareSpec,
) -> Result<SessionsEstimate, RareError> {
    let base = Base::new(sc, sessions, detect)?;
    let estimate = estimate(&base, detect, spec)?;
    Ok(SessionsEstimate {
        sessions: sessions.to_vec(),
        estimate,
    })
}
