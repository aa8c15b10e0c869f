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
//! # Splitting the trunk on the sender's back-off
//!
//! The branch at a delivery is worth far more when the sender's RTO is backed off there:
//! after a loss, RFC 6298 §5.5 doubles the RTO and Karn's rule keeps it doubled until a
//! segment sent once is acknowledged, so with a 1 s floor and keepalives 10 s apart a lost
//! keepalive leaves the next one with a 2 s RTO, and fewer retransmissions fit in the hold
//! time after it. A state `k` losses deep occurs about `P^k` as often (`P` the chance a frame
//! is lost on its path) and its branches are worth about `1/P^k` as much: with long hold
//! times every depth carries a similar share of the rate, and a trunk of a few thousand
//! deliveries visits the deep ones once or never (the estimate was then low, with one
//! delivery carrying a third of it: 10/30 s under RFC 6298 at 1 % read 0.13 a year, ±46 %).
//!
//! So the trunk is split as in RESTART (Villén-Altamirano): its *level* is the most, over
//! the exposed TCP senders, of the doublings of the sender's RTO over its value at rest, plus
//! one while its tail-loss probe's episode is open (at most 8). The open episode counts
//! because under the `linux` preset it is the same kind of state: after a probe that resent
//! a lost segment, Linux sends no probe until an ACK beyond it (`tcp_process_tlp_ack`), so
//! the next segment, if lost, waits for the RTO, one try fewer before the hold time runs out
//! and a branch about `1/P` times more valuable. Without it in the level, four seeds of
//! 3/10 s under Linux TCP at 1 % read 3.1e-5 to 6.9e-5 a year with mutually exclusive
//! intervals (±11–29 %: the open-episode excursions, about one delivery in fifty, made the
//! sum and the batches did not show it); with it, 4.6e-5 to 6.2e-5, every interval
//! holding the others' centre. On every rise
//! into level `j` the trajectory is copied `R − 1` times (each copy's random streams re-keyed,
//! its state unchanged); a copy is dropped when it falls back below `j`, the original goes on.
//! Every trajectory in level `l` weighs `R^-l`, so the `R` copies of an excursion above `j`
//! average it, and the weighted sum of any quantity over all trajectories is unbiased
//! whatever `R` and the level function (they change only the variance). `R` defaults to
//! `0.2 / P` (10 at 1 % on the circuit's two lossy segments). BFD sessions have no level
//! (their packets are not retransmitted).
//!
//! The original trajectory alone is also an unbiased simulation at the real law, so each
//! quantity may be counted either way: a delivery whose own sender is backed off (own level
//! at least 1) is counted in every trajectory at its weight; any other delivery, and the up
//! time, in the original only, at weight 1. The copies then branch only the direction they
//! were split for (the other direction's deliveries in a copy cost a branch each and are no
//! rarer there than in the trunk).
//!
//! # The ACK of the delivered segment
//!
//! Where the sender is backed off, a branch's value hangs on one event of the way back: if
//! the ACK of the delivered segment gets through, that segment (sent once) gives an RTT
//! sample and the RTO falls back to rest, and many retransmissions fit in the hold time; if
//! it is lost (a chance of about `P`), the sender retransmits it and backs off further, and
//! a reset may then need only two or three more losses, `1/P³` times likelier. Left to
//! chance, branches from one backed-off state of 60/180 s (RFC 6298, 1 % loss) ranged from
//! `1e-18` to `6e-6`. So at such a delivery the branch is run once per fate of the first
//! pure ACK sent back (lost on the first lossy hop it meets, weighed by its chance `P` of
//! being lost on its path, as the forced losses are; or kept on every lossy hop, weighed
//! `1 − P`: `AckPlan` in `sim::net`) and the two values are summed: exact conditioning,
//! still unbiased, at twice the branches where the sender is backed off. Deciding the way back at a raised loss `q`
//! (importance sampling with its likelihood ratio) was tried instead and rejected: with `q`
//! large enough for the deep states it read 1.99e4 resets a year for 10/30 s at 10 % loss,
//! where direct simulation counts 3.16e4 [3.02e4, 3.31e4] and this estimate 3.10e4 [2.44e4,
//! 3.75e4] (`tests/advise.rs`): weight degeneracy.
//!
//! # Russian roulette on branches
//!
//! Most branches are worth almost nothing next to the few that carry the sum, and each
//! costs a copy of the world and up to a hold time of simulation: on 60/180 s (RFC 6298,
//! 1 % loss) branches ran 88 % of the CPU, a third of it copying and dropping worlds, and
//! within a class of branch (its sender's own back-off level and the ACK's fate) values
//! spread over three orders of magnitude while the estimate's spread came from the trunk
//! (whether a batch held an excursion into the deep levels: batch sums from 0.0 to 5.9
//! times their mean). So a branch is run with a chance `s` below 1, and its value, when
//! run, weighed `1/s`; `E[value · 1{run} / s] = E[value]` for any `s` fixed from the past, so
//! the estimate stays unbiased whatever `s`, which only trades variance for time. Twice:
//!
//! - *before the copy*: `s` is the class's root mean square weighted value so far over
//!   `F·m`, within [1/32, 1], with `m` the mean weighted value per trunk delivery so far
//!   ([`RareSpec::roulette`] is `F`, [`ROULETTE`] by default; no roulette before the first
//!   batch has closed and for a class's first 50 branches). Survival in proportion to the
//!   root mean square is the choice that minimises variance plus cost when branches of a
//!   class cost alike.
//! - *in flight*: a branch's value can only shrink as it runs (each forced loss multiplies
//!   in a chance below 1), so its running product (times its chance, weight and `1/s`) bounds
//!   what it can add. When that bound falls below `F·m`, the branch goes on with chance
//!   `bound / (F·m)`, weighed by the inverse, else ends with value 0.
//!
//! Draws come from the branch's seed, so the estimate is still the same byte for byte.
//!
//! # What it costs, and what is left
//!
//! On `reference` at 1 % loss (`holdtime advise reference --loss 0.01 --jobs 1`, release),
//! before the roulette 4,000 trunk deliveries gave RFC 6298 20/60 s ±43 %, 30/90 s ±42 %,
//! 60/180 s ±43 % and 5/15 s ±30 %, in 14.3 s of CPU for the whole advise (12.3 s on a
//! quiet machine; the 16 × 200 failure runs take about 5 s of it). Measured one seed at a
//! time on 60/180 s, 4,000 deliveries (wall time of the estimate alone, on the shared
//! machine): no roulette 2.1 s ±43 %; in flight only, `F` = 1, 2.1 s (it ends branches late,
//! after most of their simulation); both, `F` = 1 1.3 s ±44 %, `F` = 3 0.84 s ±50 %, `F` = 10
//! 0.63 s ±51 %; at `F` = 3 the in-flight part saves 15 % (1.35 against 1.57 s, 8,000
//! deliveries, same width). To ±30 %: 60/180 s took 10,600 deliveries and 3.4 s at `F` = 1,
//! 11,100 and 2.0 s at 3, 11,450 and 1.35 s at 6; 30/90 s, the slowest, 11,200 and 2.2 s at
//! 1, 24,300 and 3.2 s at 6 (its deep levels weigh most: RTO 32 s and the 60 s cap carry
//! 37 %), and at `F` = 10 with a floor of 1/8 instead of 1/32 one surviving branch carried
//! 17 % of it (±41 % after 16,000). The default is `F` = 6, and the advisor asks for ±30 %
//! with up to 30,000 trunk deliveries: every candidate reaches it, without a warning, and
//! the whole advise takes 8.7 s of CPU (load average 3.3); 9.3 s on a quiet machine once
//! the open probe episode counts as a level (the Linux candidates split there too). Splitting harder is no cure:
//! `R` = 20 and 40 with the roulette cost 2.5 and 40 times the time for 60/180 s (the copies
//! of the deep, long-lived levels multiply), and `R` = 3 read 30/90 s at 1.8e-4 ±27 % where
//! the estimate is 1e-3 (the deep levels barely reached, and the interval did not show it). What
//! still spreads the sum is how often the trunk enters a backed-off excursion (a Poisson
//! count of about `P` per keepalive) and how deep that excursion's copies get; enumerating
//! the fate of the first loss of a segment sent at rest, as is done for the ACK, would
//! remove the first part.
//!
//! Under Linux TCP the timestamps option lets an ACK of a retransmission collapse the
//! back-off (RFC 7323 §4), so backed-off states last one round trip; what carries the rate
//! besides the deliveries at rest is the open probe episode above (the per-level shares are
//! in [`RareEstimate::levels`]; a warning is raised when the deepest level reached carries
//! over a quarter of the estimate on fewer than 100 deliveries). The Linux intervals come
//! out ±17–30 % at the minimum of 1,000 deliveries.
//!
//! # The interval and its warnings
//!
//! The trunk is cut into batches of [`RareSpec::batch`] of its own deliveries (the branch
//! values and up time of the copies split off in a batch count in it); the 95 % interval is
//! the ratio estimator's, `Σz/Σu ± 1.96·s/(√n·ū)` with `s` the standard deviation of
//! `zᵦ − rate·uᵦ` over the `n` batches (batch means, for the correlation along the trunk).
//! The estimate runs at least [`RareSpec::min_blocks`] trunk deliveries and stops when the
//! half-width is within [`RareSpec::target`] of the estimate, or at
//! [`RareSpec::max_blocks`]. What the interval cannot see are trunk states too rare to
//! have been visited even with the splitting; [`RareEstimate::warnings`] says when the sum
//! looks dominated by few: one delivery carrying over a quarter of the sum, the deepest
//! back-off level reached carrying over a quarter of it on fewer than 100 deliveries (the
//! levels above, never reached, may carry as much), fewer than 10 batches, the target width
//! not reached, or no reset at all (then there is no upper bound). The advisor never counts a warned estimate as meeting a budget.
//!
//! Only independent loss is covered: under Gilbert–Elliott loss a frame's chance of loss
//! depends on the chain's hidden state (the advisor uses direct simulation for bursty
//! loss).
//!
//! Determinism: the trunk is seeded from [`RareSpec::seed`], branch `j` from
//! [`super::run_seed`]`(seed, j + 1)`, copy `i` from `run_seed(seed ^ salt, i)`, everything
//! runs in order (copies depth first, when split off) on one thread, so the same seed gives
//! the same estimate, byte for byte.

use serde::{Deserialize, Serialize};
use sim_core::link::{Direction, LossModel as SimLoss};
use sim_core::time::{Duration, Instant};

use super::run_seed;
use crate::scenario::Scenario;
use crate::sim::RunError;
use crate::sim::net::{AckPlan, SegIx, SessIx, Tilt};
use crate::sim::world::{World, sim_loss};
use crate::spec::SessionStateName;

/// The default roulette factor (see [`RareSpec::roulette`]).
pub const ROULETTE: f64 = 6.0;

/// Nanoseconds in a year (365.25 days).
pub const YEAR_NS: f64 = 365.25 * 86_400.0 * 1e9;

/// `holdtime advise`'s default target half-width (`--target-width`): a rate within ±30 % is
/// narrow enough to compare with a budget.
pub const ADVISE_TARGET: f64 = 0.3;

/// `holdtime advise`'s default budget of trunk deliveries (`--max-blocks`): enough for every
/// default candidate on `reference` at 1 % loss to reach [`ADVISE_TARGET`].
pub const ADVISE_MAX_BLOCKS: u64 = 30_000;

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
    /// Copies a trajectory is split into when its splitting level rises (1: no splitting;
    /// 0: automatic, `0.2 / P` with `P` the chance that a frame is lost on its way, between
    /// 2 and 1,000; see the module doc).
    pub split: u32,
    /// Russian roulette on branches (see the module doc): a branch whose value can no
    /// longer exceed this many times the mean value per trunk delivery so far goes on with
    /// the chance that it could, weighed by its inverse (0: no roulette).
    pub roulette: f64,
    /// Base seed.
    pub seed: u64,
}

impl Default for RareSpec {
    fn default() -> Self {
        Self {
            target: 0.25,
            max_blocks: 20_000,
            min_blocks: 1_000,
            batch: 50,
            split: 0,
            roulette: ROULETTE,
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
    /// The trunk's deliveries branched (the copies split off it branch theirs too).
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
    /// Per splitting level of the trajectories (trunk and copies): deliveries counted there,
    /// branches with a reset, resets per year those deliveries carry (weighed as counted),
    /// simulated seconds run there. Not in the JSON.
    #[serde(skip)]
    pub levels: Vec<(u64, u64, f64, f64)>,
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
        let exposed = session_indices(sc, exposed);
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

/// The indices in `sc`'s topology of the sessions named in `names`, in topology order.
fn session_indices(sc: &Scenario, names: &[String]) -> Vec<usize> {
    sc.topology
        .sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| names.contains(&s.name))
        .map(|(i, _)| i)
        .collect()
}

/// How many times end `end`'s RTO on session `s` has doubled over `rest`, plus one while its
/// tail-loss probe's episode is open (0 without a connection): the sender's splitting level.
fn doublings(w: &World<'_>, s: usize, end: u8, rest: Duration) -> u32 {
    let d = w.net.rto_of(s, end).map_or(0, |rto| {
        let r = rto.as_nanos() / rest.as_nanos().max(1);
        if r == 0 { 0 } else { 63 - r.leading_zeros() }
    });
    d + u32::from(w.net.probe_episode_open(s, end))
}

/// Splitting levels above this are not split further.
const MAX_LEVEL: u32 = 8;

/// Salt of the retrials' seeds (distinct from the branches').
const RETRIAL_SALT: u64 = 0x7265_7472_6961_6c73;

/// What the trunk and its retrials share while they run (see [`estimate`]).
struct Walk<'w> {
    /// The exposed sessions' components (`2·session + toward`).
    comps: Vec<usize>,
    /// The exposed sessions.
    exposed: &'w [usize],
    /// Per TCP component: its session, the sending end, and that end's RTO at rest.
    senders: Vec<(usize, u8, Duration)>,
    /// A branch's time limit.
    cap: Duration,
    /// How many exposed sessions (the up time is averaged over them).
    n_exposed: f64,
    /// Deliveries per batch.
    batch: usize,
    spec: RareSpec,
}

/// What the trunk and its retrials add up (see [`estimate`]).
#[derive(Default)]
struct Acc {
    /// Closed batches: the sum of weighted branch values and the weighted up time.
    batches: Vec<(f64, f64)>,
    /// The open batch's sums.
    z_b: f64,
    up_b: f64,
    /// Every delivery's weighted branch value.
    zs: Vec<f64>,
    /// The trunk's own deliveries.
    trunk: u64,
    /// Branches run (their seeds' index).
    branches: u64,
    /// Retrials run (their seeds' index).
    retrials: u64,
    /// Branches with a reset; branches of an up session cut at their limit.
    hits: u64,
    cuts: u64,
    /// Retrials that reached their time limit still above their level.
    retrials_cut: u64,
    /// The highest level reached.
    deepest: u32,
    /// The trunk reached the end of the scenario.
    ended: bool,
    /// Per level: deliveries, hits, weighted value, simulated ns.
    levels: Vec<(u64, u64, f64, f64)>,
    /// The sum of every delivery's weighted branch value so far.
    z_sum: f64,
    /// Branches ended by the roulette.
    killed: u64,
    /// Branches skipped by the roulette before the copy.
    skipped: u64,
    /// Per class of branch (fate of the ACK, own level of the sender): branches considered,
    /// and the sum of their weighted values squared (each survivor's weighed by its chance,
    /// so that the mean estimates the class's mean square without the roulette).
    classes: Vec<(u64, f64)>,
}

impl Acc {
    /// The chance of running a branch of `class` (see the module doc): the class's root
    /// mean square value so far over `factor` times the mean value per trunk delivery,
    /// within [`ROULETTE_FLOOR`, 1]; 1 until the class has [`ROULETTE_LEARN`] branches.
    fn survival(&self, class: usize, factor: f64) -> f64 {
        let thr = self.threshold(factor);
        match self.classes.get(class) {
            #[allow(clippy::cast_precision_loss, reason = "a count of branches")]
            Some(&(n, sq)) if n >= ROULETTE_LEARN && thr > 0.0 => {
                ((sq / n as f64).sqrt() / thr).clamp(ROULETTE_FLOOR, 1.0)
            }
            _ => 1.0,
        }
    }

    /// Records a branch of `class` run with chance `go` whose weighted value (divided by
    /// `go`) is `v` (0 when skipped).
    fn note(&mut self, class: usize, v: f64, go: f64) {
        if self.classes.len() <= class {
            self.classes.resize(class + 1, (0, 0.0));
        }
        if let Some(x) = self.classes.get_mut(class) {
            x.0 += 1;
            x.1 += v * v * go;
        }
    }

    /// The roulette's threshold for the next branch (see the module doc): `factor` times
    /// the mean weighted value per trunk delivery so far, from the past only; 0 (no
    /// roulette) before the first batch has closed or while nothing has been found.
    fn threshold(&self, factor: f64) -> f64 {
        if self.batches.is_empty() || self.z_sum <= 0.0 || factor <= 0.0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss, reason = "a count of deliveries")]
        let n = self.trunk as f64;
        factor * self.z_sum / n
    }
}

impl Walk<'_> {
    fn passed(&self, w: &World<'_>) -> Vec<u64> {
        let t = w.net.tilt.as_ref();
        self.comps
            .iter()
            .map(|&c| t.and_then(|t| t.passed.get(c).copied()).unwrap_or(0))
            .collect()
    }

    fn ups(&self, w: &World<'_>) -> Vec<bool> {
        self.exposed
            .iter()
            .map(|&s| w.sessions.get(s).is_some_and(|x| x.up))
            .collect()
    }

    /// The splitting level: the most, over the exposed TCP senders, of the doublings of the
    /// sender's RTO over its value at rest (RFC 6298 §5.5's back-off, undone by the next valid
    /// RTT sample) plus one while its tail-loss probe's episode is open (see the module doc),
    /// at most [`MAX_LEVEL`]; 0 without a connection.
    fn level(&self, w: &World<'_>) -> u32 {
        self.senders
            .iter()
            .map(|&(s, end, rest)| doublings(w, s, end, rest))
            .max()
            .unwrap_or(0)
            .min(MAX_LEVEL)
    }

    /// The own level of component `c`'s sender (`c = 2·session + toward`): how many times
    /// its RTO has doubled over its value at rest, plus one while its probe episode is open
    /// (0 for BFD and without a connection).
    fn own_level(&self, w: &World<'_>, c: usize) -> u32 {
        let (s, sender) = (c / 2, u8::from(c.is_multiple_of(2)));
        self.senders
            .iter()
            .filter(|&&(s2, end, _)| s2 == s && end == sender)
            .map(|&(s, end, rest)| doublings(w, s, end, rest))
            .max()
            .unwrap_or(0)
    }

    /// Whether the sender of component `c` (`2·session + toward`) is backed off itself (its
    /// own level is at least 1: RTO doubled, or probe episode open): only then are `c`'s
    /// deliveries branched in the copies.
    fn backed_off(&self, w: &World<'_>, c: usize) -> bool {
        self.own_level(w, c) >= 1
    }

    /// The value of the branches at a delivery of `c` (see the module doc): one branch, or,
    /// when `c`'s sender is backed off (`rare`), one per fate of the first ACK sent back
    /// (lost, or kept on every lossy hop of its path), each weighed by that fate's chance,
    /// summed. Also whether one was cut at its limit.
    fn branches(
        &self,
        w: &World<'_>,
        c: usize,
        rare: bool,
        weight: f64,
        acc: &mut Acc,
    ) -> Result<(f64, bool), RunError> {
        let back: Vec<f64> = if rare {
            w.net
                .hops_from(SessIx(c / 2), u8::try_from(c % 2).unwrap_or(0))
                .iter()
                .filter_map(|(seg, _)| w.net.tilt.as_ref()?.p.get(seg.0).copied().flatten())
                .collect()
        } else {
            Vec::new()
        };
        let thr = acc.threshold(self.spec.roulette);
        // Two fates where the sender is backed off: lost (on the first lossy hop it meets:
        // where does not change what the sender sees), or kept on every lossy hop.
        let kept: f64 = back.iter().map(|p| 1.0 - p).product();
        let fates: Vec<(Option<usize>, f64)> = if back.is_empty() {
            vec![(None, 1.0)]
        } else {
            vec![(Some(0), 1.0 - kept), (Some(back.len()), kept)]
        };
        let own = self.own_level(w, c).min(MAX_LEVEL) as usize;
        let (mut sum, mut cut_any) = (0.0, false);
        for (fate, (ack, chance)) in fates.into_iter().enumerate() {
            let class = (fate + usize::from(rare)) * (MAX_LEVEL as usize + 1) + own;
            let seed = run_seed(self.spec.seed, acc.branches + 1);
            acc.branches += 1;
            // Roulette before the copy (see the module doc): a branch of a class whose
            // values have been small so far is run with a chance below 1, weighed by its
            // inverse.
            let go = acc.survival(class, self.spec.roulette);
            if go < 1.0 {
                #[allow(clippy::cast_precision_loss, reason = "53 random bits")]
                let u =
                    (run_seed(seed ^ ROULETTE_SALT, u64::MAX) >> 11) as f64 / (1_u64 << 53) as f64;
                if u >= go {
                    acc.note(class, 0.0, go);
                    acc.skipped += 1;
                    continue;
                }
            }
            let (y, cut, killed) = branch(w, c, self.cap, ack, (weight * chance / go, thr), seed)?;
            acc.killed += u64::from(killed);
            acc.note(class, weight * chance * y / go, go);
            sum += chance * y / go;
            cut_any |= cut;
        }
        Ok((sum, cut_any))
    }

    /// The weight of a trajectory at `level`: `split^-level`.
    fn weight(&self, level: u32) -> f64 {
        f64::from(self.spec.split.max(1)).powi(-i32::try_from(level).unwrap_or(i32::MAX))
    }

    /// Runs trajectory `w` (the trunk when `birth` is 0, else a retrial born on crossing
    /// into level `birth`, killed when it falls below it), from level `from`: splits it on
    /// every crossing into a higher level, branches it at every delivery, and adds its
    /// weighted branch values and up time to `acc`.
    fn run(&self, w: &mut World<'_>, birth: u32, from: u32, acc: &mut Acc) -> Result<(), RunError> {
        let trunk = birth == 0;
        let limit = if trunk {
            Instant::MAX
        } else {
            w.engine.now() + RETRIAL_LIMIT
        };
        let mut level = from;
        let mut prev = self.passed(w);
        let mut prev_up = self.ups(w);
        let mut t_last = w.engine.now();
        loop {
            let now_level = self.level(w);
            if !trunk && now_level < birth {
                return Ok(());
            }
            // RESTART (Villén-Altamirano): on crossing into level j, split - 1 retrials start
            // from here, each killed when it falls below j; every trajectory in level l weighs
            // split^-l, so the copies of an excursion above j average it.
            for j in level + 1..=now_level {
                for _ in 1..self.spec.split.max(1) {
                    let mut copy = w.snapshot();
                    let key = run_seed(self.spec.seed ^ RETRIAL_SALT, acc.retrials);
                    acc.retrials += 1;
                    copy.net.rekey(key);
                    for r in &mut copy.routers {
                        r.rekey(key);
                    }
                    self.run(&mut copy, j, j, acc)?;
                }
            }
            acc.deepest = acc.deepest.max(now_level);
            level = now_level;
            let more = w.step_until(limit, |w| {
                self.passed(w) != prev || self.ups(w) != prev_up || self.level(w) != level
            })?;
            let t = w.engine.now();
            let weight = self.weight(level);
            let li = level as usize;
            if acc.levels.len() <= li {
                acc.levels.resize(li + 1, (0, 0, 0.0, 0.0));
            }
            acc.levels[li].3 += (t - t_last).as_nanos() as f64;
            // The up time is no rare quantity: the original trajectory (the trunk) alone
            // counts it, at its real law (weight 1).
            #[allow(clippy::cast_precision_loss, reason = "nanoseconds of up time")]
            if trunk {
                let up = prev_up.iter().filter(|u| **u).count() as f64;
                acc.up_b += (t - t_last).as_nanos() as f64 * up / self.n_exposed;
            }
            t_last = t;
            if !more {
                if trunk {
                    acc.ended = true;
                } else {
                    acc.retrials_cut += 1;
                }
                return Ok(());
            }
            let now_passed = self.passed(w);
            for (&c, (&n1, &n0)) in self.comps.iter().zip(now_passed.iter().zip(&prev)) {
                // A delivery whose own sender is backed off is counted in every trajectory
                // (weighed by its level); any other only in the trunk, at weight 1 (see the
                // module doc): both are unbiased, and the copies then branch only what they
                // were split for.
                let rare = self.backed_off(w, c);
                if !trunk && !rare {
                    continue;
                }
                let weight = if rare { weight } else { 1.0 };
                for k in n0..n1 {
                    // Two deliveries of one component in one step: all but the last are
                    // followed by a delivery at once, so their branches are worth 0.
                    let y = if k + 1 == n1 {
                        let (y, cut) = self.branches(w, c, rare, weight, acc)?;
                        acc.cuts += u64::from(cut);
                        acc.hits += u64::from(y > 0.0);
                        acc.levels[li].1 += u64::from(y > 0.0);
                        y * weight
                    } else {
                        0.0
                    };
                    acc.zs.push(y);
                    acc.z_sum += y;
                    acc.levels[li].0 += 1;
                    acc.levels[li].2 += y;
                    acc.z_b += y;
                    if trunk {
                        acc.trunk += 1;
                        if usize::try_from(acc.trunk).is_ok_and(|n| n.is_multiple_of(self.batch)) {
                            acc.batches.push((acc.z_b, acc.up_b));
                            (acc.z_b, acc.up_b) = (0.0, 0.0);
                        }
                    }
                }
            }
            prev = now_passed;
            prev_up = self.ups(w);
            if trunk {
                let n = acc.trunk;
                if n >= self.spec.max_blocks {
                    return Ok(());
                }
                if n >= self.spec.min_blocks
                    && usize::try_from(n).is_ok_and(|n| n.is_multiple_of(self.batch))
                    && ratio(&acc.batches)
                        .rel_half
                        .is_some_and(|r| r <= self.spec.target)
                {
                    return Ok(());
                }
            }
        }
    }
}

/// How long a retrial may stay above its level before it is cut (counted in the estimate
/// as it stands, with a warning).
const RETRIAL_LIMIT: Duration = Duration::from_secs(600);

/// Estimates the false-reset rate per year of up time from `base` (see the module doc): a
/// trunk at the real loss, split on every rise of a TCP sender's back-off and branched at
/// every delivery of a component (an exposed session's messages in one direction), each
/// branch run with that component's frames lost until the session resets.
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
    let datagrams: Vec<bool> = (0..trunk.topo.sessions.len())
        .map(|s| runs_bfd(trunk.topo, s))
        .collect();
    // The trunk runs every frame at its real loss (no component picked); the hook counts
    // each component's frames through the loss, which is how deliveries are seen.
    trunk.net.tilt = Some(Tilt {
        p: p_of,
        q: 1.0,
        pick: usize::MAX,
        log_ratio: vec![0.0; size],
        counts: vec![(0, 0); size],
        force: false,
        ack_plan: None,
        passed: vec![0; size],
        datagrams: datagrams.clone(),
        through: vec![crate::sim::net::Through::default(); size],
    });
    trunk.step_until(now + base.warm, |_| false)?;
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
    // Each TCP sender's RTO at rest: the base world is settled (nothing unacknowledged).
    let senders: Vec<(usize, u8, Duration)> = base
        .exposed
        .iter()
        .filter(|&&s| !datagrams.get(s).copied().unwrap_or(false))
        .flat_map(|&s| [(s, 0_u8), (s, 1_u8)])
        .filter_map(|(s, end)| base.world.net.rto_of(s, end).map(|rto| (s, end, rto)))
        .collect();
    // Automatic splitting: a level is entered with about the chance `P` that a frame is lost
    // on its path; `0.2 / P` copies make each level about a fifth as visited as the one
    // below (`0.8 / P`, as many, cost 30 times the unsplit trunk on `reference`).
    let lost = base
        .exposed
        .iter()
        .filter_map(|&s| trunk.topo.sessions.get(s))
        .map(|s| {
            1.0 - s
                .path
                .iter()
                .filter_map(|g| base.channels.iter().find(|c| c.0.0 == g.0))
                .fold(1.0, |a, c| a * (1.0 - c.2))
        })
        .fold(0.0_f64, f64::max);
    let split = if spec.split > 0 {
        spec.split
    } else if lost > 0.0 {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped to 2..=1000 first"
        )]
        let r = (0.2 / lost).round().clamp(2.0, 1000.0) as u32;
        r
    } else {
        1
    };
    #[allow(clippy::cast_precision_loss, reason = "a handful of sessions")]
    let walk = Walk {
        comps: base
            .exposed
            .iter()
            .flat_map(|&s| [2 * s, 2 * s + 1])
            .collect(),
        exposed: &base.exposed,
        senders,
        cap: hold + BRANCH_SLACK,
        n_exposed: base.exposed.len().max(1) as f64,
        batch: usize::try_from(spec.batch.max(1)).unwrap_or(usize::MAX),
        spec: RareSpec { split, ..*spec },
    };
    let mut acc = Acc::default();
    let level = walk.level(&trunk);
    walk.run(&mut trunk, 0, level, &mut acc)?;
    if acc.up_b > 0.0 && (acc.batches.is_empty() || acc.ended) {
        acc.batches.push((acc.z_b, acc.up_b));
    }
    let r = ratio(&acc.batches);
    let s = summarise(&acc.zs);
    let per_year = r.rate * YEAR_NS;
    let half = r.half * YEAR_NS;
    let anchors = acc.trunk;
    let hits = acc.hits;
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
    if acc.batches.len() < MIN_BATCHES {
        warnings.push(format!(
            "only {} batches of deliveries: the interval may be too narrow",
            acc.batches.len()
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
    // The deepest splitting level reached: if it carries a large share, the levels above
    // it (never reached) may carry as much, and the interval cannot see them.
    let u_total: f64 = acc.batches.iter().map(|b| b.1).sum();
    let z_total: f64 = acc.levels.iter().map(|l| l.2).sum();
    if let Some((deep, l)) = acc.levels.iter().enumerate().rev().find(|(_, l)| l.0 > 0)
        && deep > 0
        && z_total > 0.0
        && l.2 / z_total > DEEP_SHARE
        && l.0 < DEEP_VISITS
    {
        warnings.push(format!(
            "the deepest back-off level reached ({deep}, {} deliveries) carries {:.0} % of the \
             estimate: deeper states, never reached, may carry as much",
            l.0,
            l.2 / z_total * 100.0
        ));
    }
    if acc.cuts > 0 {
        warnings.push(format!(
            "{} of {} branches reached their time limit without a reset (counted as 0)",
            acc.cuts, acc.branches
        ));
    }
    if acc.retrials_cut > 0 {
        warnings.push(format!(
            "{} of {} retrials stayed backed off for {RETRIAL_LIMIT} and were cut",
            acc.retrials_cut, acc.retrials
        ));
    }
    Ok(RareEstimate {
        per_year,
        lower: (per_year - half).max(0.0),
        upper: (hits > 0 && (per_year + half).is_finite()).then_some(per_year + half),
        rel_half_width: r.rel_half,
        blocks: anchors,
        rejected: acc.cuts,
        hits,
        tilt: 1.0,
        block_ns: detect.as_nanos(),
        ess: s.ess,
        max_share: s.max_share,
        warnings,
        levels: acc
            .levels
            .iter()
            .map(|&(n, h, z, t)| (n, h, z / u_total * YEAR_NS, t / 1e9))
            .collect(),
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

/// The deepest level reached carrying more than this share of the estimate with fewer than
/// [`DEEP_VISITS`] deliveries there gets a warning.
const DEEP_SHARE: f64 = 0.25;

/// See [`DEEP_SHARE`].
const DEEP_VISITS: u64 = 100;

/// Fewer batches than this and the interval gets a warning.
const MIN_BATCHES: usize = 10;

/// One branch (see the module doc): a copy of the trunk just after a delivery of component
/// `c`, its network's draws re-keyed from `seed`, in which every later frame of `c` is lost
/// (each weighed by its chance of being lost under the real losses) and everything else runs
/// at its real loss, until `c`'s session leaves Established or `cap` has passed. Its value is
/// the product of those chances when the end that `c` travels toward is the first to leave
/// Established, else 0. The second value: `cap` passed without a reset of a session that
/// was up at the delivery.
fn branch(
    trunk: &World<'_>,
    c: usize,
    cap: Duration,
    ack: Option<usize>,
    (pre, thr): (f64, f64),
    seed: u64,
) -> Result<(f64, bool, bool), RunError> {
    let mut w = trunk.snapshot();
    let start = w.engine.now();
    w.net.rekey(run_seed(seed, 0x6272_616e_6368));
    if let Some(t) = w.net.tilt.as_mut() {
        t.pick = c;
        t.q = 1.0;
        t.force = true;
        t.ack_plan = ack.map(|lost_at| AckPlan {
            lost_at,
            steered: None,
            done: false,
        });
        if let Some(r) = t.log_ratio.get_mut(c) {
            *r = 0.0;
        }
    }
    let (s, toward) = (c / 2, c % 2);
    let flaps0 = w.sessions.get(s).map_or(0, |x| x.flaps);
    let up0 = w.sessions.get(s).is_some_and(|x| x.up);
    let flapped = |w: &World<'_>| w.sessions.get(s).is_some_and(|x| x.flaps != flaps0);
    let log_ratio = |w: &World<'_>| {
        w.net
            .tilt
            .as_ref()
            .and_then(|t| t.log_ratio.get(c).copied())
            .unwrap_or(f64::INFINITY)
    };
    // Russian roulette (see the module doc): the branch's value can only shrink as it runs,
    // so `pre · survived · e^-log_ratio` bounds what it can add; once that falls below `thr`
    // the branch goes on with chance `bound / thr`, weighed by its inverse.
    let mut survived = 1.0_f64;
    let mut draws = 0_u64;
    // The log ratio at the last draw: the next draw waits for a further forced loss (a
    // survivor's bound sits at the threshold, and rounding must not draw again at once).
    let mut drawn_at = f64::NEG_INFINITY;
    loop {
        let floor = if thr > 0.0 && pre > 0.0 {
            (pre * survived / thr).ln().max(drawn_at)
        } else {
            f64::INFINITY
        };
        let stopped = w.step_until(start + cap, |w| flapped(w) || log_ratio(w) > floor)?;
        if flapped(&w) {
            break;
        }
        if !stopped {
            // A session that was not up at the delivery (still connecting) may well never
            // come up with the component lost: only an up session that outlives the cap is
            // a cut.
            return Ok((0.0, up0, false));
        }
        drawn_at = log_ratio(&w);
        let bound = pre * survived * (-drawn_at).exp();
        let chance = (bound / thr).clamp(0.0, 1.0);
        #[allow(clippy::cast_precision_loss, reason = "53 random bits")]
        let u = (run_seed(seed ^ ROULETTE_SALT, draws) >> 11) as f64 / (1_u64 << 53) as f64;
        draws += 1;
        if u >= chance {
            return Ok((0.0, false, true));
        }
        survived /= chance;
    }
    let ours = w
        .sessions
        .get(s)
        .is_some_and(|x| x.state.get(toward) != Some(&SessionStateName::Established));
    let log_w = log_ratio(&w);
    Ok((
        if ours { (-log_w).exp() * survived } else { 0.0 },
        false,
        false,
    ))
}

/// Branches of a class seen before the roulette may skip one.
const ROULETTE_LEARN: u64 = 50;

/// The least chance the roulette gives a branch before its copy.
const ROULETTE_FLOOR: f64 = 1.0 / 32.0;

/// Salt of the roulette's draws in a branch (distinct from the branch's network seed).
const ROULETTE_SALT: u64 = 0x726f_756c_6574_7465;

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

/// The sweep metric of false resets ([`super::FalseResets`]): `false_resets` covers every
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A single-CE link at 20 % independent loss under Linux TCP, keepalive 3 s, hold 10 s.
    fn lossy_linux() -> Scenario {
        let text = "name = \"lossy\"\ntopology = \"single-ce\"\nduration = \"1h\"\nseed = 1\n\n\
                    [bgp]\nkeepalive = \"3s\"\nhold_time = \"10s\"\n\n[tcp]\npreset = \"linux\"\n\n\
                    [[link]]\ntarget = \"circuit.primary\"\nloss = 0.2\n";
        crate::load_str("lossy", text)
            .expect("the lossy scenario loads")
            .scenario
    }

    /// The splitting level counts an open tail-loss-probe episode as one more level, at an
    /// RTO at rest: the state in which Linux withholds the probe (see the module doc).
    #[test]
    fn an_open_probe_episode_is_one_splitting_level() {
        let sc = lossy_linux();
        let sessions = session_indices(&sc, &sc.topology.sessions_over("circuit.primary"));
        assert!(!sessions.is_empty(), "a session crosses the lossy link");
        let mut w = World::new(&sc, None).expect("the world builds");
        w.advance_to_fork().expect("start-up");
        w.fork(sc.seed);
        let open = |w: &World<'_>| {
            sessions.iter().find_map(|&s| {
                (0..2u8).find_map(|end| w.net.probe_episode_open(s, end).then_some((s, end)))
            })
        };
        let found = w
            .step_until(Instant::ZERO + Duration::from_secs(3600), |w| {
                open(w).is_some()
            })
            .expect("the run steps");
        assert!(found, "no probe episode opened in an hour at 20 % loss");
        let (s, end) = open(&w).expect("an open episode");
        let rto = w.net.rto_of(s, end).expect("a connection");
        // At the sender's current RTO taken as its rest, the RTO has not doubled: the one
        // level is the open episode's.
        assert_eq!(doublings(&w, s, end, rto), 1);
        // Where no episode is open, the same RTO gives level 0.
        let found = w
            .step_until(Instant::ZERO + Duration::from_secs(3600), |w| {
                !w.net.probe_episode_open(s, end) && w.net.rto_of(s, end).is_some()
            })
            .expect("the run steps");
        assert!(found, "the episode never closed");
        let rto = w.net.rto_of(s, end).expect("a connection");
        assert_eq!(doublings(&w, s, end, rto), 0);
    }
}
