//! Running a batch of sweep items over worker threads: the pilot, the estimate gate, the rest.
//!
//! A [`Batch`] is `runs` seeds of each of some scenario variants, item `k = variant · runs + r`
//! (within a shard's range). It runs in two phases:
//!
//! 1. [`Batch::pilot`]: the first item of every variant, each timed (start-up and run) for the
//!    [`Estimate`] (see [`super::estimate`]);
//! 2. [`Batch::finish`]: every other item, once the [`Gate`] has let the estimate through.
//!
//! Both phases spread their items over `jobs` workers, each run single-threaded; each worker
//! fills its own summaries, which the caller adds. The pilot's items are items of the sweep, so
//! the two phases together run each item of the range exactly once, whatever the number of
//! workers, and give the same sums. When a run fails, the failure reported is that of the
//! lowest-numbered pilot item if one fails (the rest is then not run), else that of the
//! lowest-numbered item of the rest: either way the same whatever the number of workers.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::estimate::{Estimate, Stopwatch, VariantCost};
use super::grid::Point;
use super::{Exec, PointResult, RunFailure, Sample, SweepError, run_seed};
use crate::scenario::{Metric, Scenario};

/// Why a batch stopped without a result.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Item `k` failed (the lowest-numbered failure, see the module doc).
    Failed(u64, RunFailure),
    /// The estimate passed the limit.
    TooLong(Estimate),
}

impl Stop {
    /// The sweep error, with `failed(k, error)` naming a failed item.
    pub(crate) fn into_error(
        self,
        exec: Exec<'_>,
        failed: impl FnOnce(u64, RunFailure) -> SweepError,
    ) -> SweepError {
        match self {
            Self::Failed(k, e) => failed(k, e),
            Self::TooLong(estimate) => SweepError::TooLong {
                estimate,
                limit: exec.wall_limit.unwrap_or_default(),
            },
        }
    }
}

/// Per variant, per worker: the partial summaries the caller adds up.
pub(crate) type Parts = Vec<Vec<PointResult>>;

/// `runs` seeds of each scenario in `scenarios`, the items in `range`.
pub(crate) struct Batch<'s> {
    scenarios: &'s [&'s Scenario],
    /// Per scenario, the metrics every run records ([`super::metrics`]).
    metrics: Vec<Vec<(String, Metric)>>,
    runs: u64,
    seed: u64,
    range: Range<u64>,
}

/// What the pilot ran and measured.
pub(crate) struct Pilot {
    /// The items it ran, ascending.
    items: Vec<u64>,
    parts: Parts,
}

/// Accumulates the estimates of the batches of one command, refuses when their sum is over
/// the limit, and reports it when not.
pub(crate) struct Gate<'e> {
    exec: Exec<'e>,
    so_far: Estimate,
}

impl<'e> Gate<'e> {
    pub(crate) fn new(exec: Exec<'e>) -> Self {
        Self {
            exec,
            so_far: Estimate::zero(workers(exec.jobs)),
        }
    }

    fn over(&self, e: &Estimate) -> bool {
        self.exec.wall_limit.is_some_and(|l| e.wall > l)
    }

    /// Lets the work through when the estimates add up to at most the limit, telling
    /// `exec.on_estimate` first.
    ///
    /// # Errors
    ///
    /// [`Stop::TooLong`] with the estimate when it is over the limit.
    pub(crate) fn proceed(&self) -> Result<(), Stop> {
        if self.over(&self.so_far) {
            return Err(Stop::TooLong(self.so_far));
        }
        if let Some(f) = self.exec.on_estimate {
            f(&self.so_far);
        }
        Ok(())
    }
}

fn workers(jobs: usize) -> usize {
    jobs.max(1)
        .min(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

/// Which items a phase runs.
#[derive(Clone, Copy)]
enum Items<'a> {
    /// These, ascending.
    Listed(&'a [u64]),
    /// The range, except these (ascending).
    Except(&'a Range<u64>, &'a [u64]),
}

impl Items<'_> {
    fn len(self) -> usize {
        match self {
            Self::Listed(l) => l.len(),
            Self::Except(r, _) => usize::try_from(r.end - r.start).unwrap_or(usize::MAX),
        }
    }

    /// The `i`-th candidate item: `Some(None)` for one to skip, `None` past the end.
    fn get(self, i: usize) -> Option<Option<u64>> {
        match self {
            Self::Listed(l) => l.get(i).map(|k| Some(*k)),
            Self::Except(r, skip) => {
                let k = r.start.checked_add(u64::try_from(i).ok()?)?;
                (k < r.end).then(|| skip.binary_search(&k).is_err().then_some(k))
            }
        }
    }
}

/// What the workers of one phase share.
struct Shared<'a> {
    next: AtomicUsize,
    failed: AtomicBool,
    /// Set when the pilot's partial estimate is over the limit.
    stop: AtomicBool,
    first_error: Mutex<Option<(u64, RunFailure)>>,
    /// Per variant, what its pilot item cost (pilot phase only).
    costs: Option<Mutex<Vec<Option<VariantCost>>>>,
    /// For the pilot's early stop, when there is a limit.
    early: Option<Early<'a>>,
}

/// What the pilot needs to stop early: the estimate of the batches before, the limit, and the
/// runs left per variant of this batch.
struct Early<'a> {
    before: Estimate,
    limit: std::time::Duration,
    jobs: usize,
    left: &'a [u64],
}

impl<'s> Batch<'s> {
    /// The items of `shard` (all without one) of `runs` seeds of each scenario.
    pub(crate) fn new(
        scenarios: &'s [&'s Scenario],
        runs: u64,
        seed: u64,
        shard: Option<super::Shard>,
    ) -> Self {
        let total = u64::try_from(scenarios.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(runs);
        Self {
            scenarios,
            metrics: scenarios.iter().map(|s| super::metrics(s)).collect(),
            runs,
            seed,
            range: shard.map_or(0..total, |s| s.range(total)),
        }
    }

    /// How many items the batch runs.
    pub(crate) fn len(&self) -> u64 {
        self.range.end - self.range.start
    }

    /// The variant item `k` belongs to.
    fn variant(&self, k: u64) -> usize {
        usize::try_from(k / self.runs.max(1)).unwrap_or(usize::MAX)
    }

    /// The first item of each variant within the range, ascending.
    fn first_items(&self) -> Vec<u64> {
        let runs = self.runs.max(1);
        let mut out = Vec::new();
        let mut k = self.range.start;
        while k < self.range.end {
            out.push(k);
            // The next variant's first item.
            k = match (k / runs).checked_add(1).and_then(|v| v.checked_mul(runs)) {
                Some(next) => next,
                None => break,
            };
        }
        out
    }

    /// Runs of each variant in the range left after `pilot`.
    fn left(&self, pilot: &[u64]) -> Vec<u64> {
        let runs = self.runs.max(1);
        (0..self.scenarios.len())
            .map(|p| {
                let p = u64::try_from(p).unwrap_or(u64::MAX);
                let lo = p.saturating_mul(runs).max(self.range.start);
                let hi = p.saturating_add(1).saturating_mul(runs).min(self.range.end);
                let n = hi.saturating_sub(lo);
                let piloted = u64::try_from(pilot.iter().filter(|k| **k >= lo && **k < hi).count())
                    .unwrap_or(0);
                n.saturating_sub(piloted)
            })
            .collect()
    }

    /// Runs and times the first item of every variant, and adds this batch's estimate to
    /// `gate`. Stops early when the estimate is over the gate's limit before every variant is
    /// timed.
    ///
    /// # Errors
    ///
    /// [`Stop::Failed`] when a pilot item fails (the lowest-numbered one),
    /// [`Stop::TooLong`] when the estimate (with the gate's earlier batches) is over the limit.
    pub(crate) fn pilot(
        &self,
        gate: &mut Gate<'_>,
        bar: Option<&indicatif::ProgressBar>,
        observe: &(dyn Fn(usize, &Sample) + Sync),
    ) -> Result<Pilot, Stop> {
        let items = self.first_items();
        let left = self.left(&items);
        let shared = Shared {
            next: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            first_error: Mutex::new(None),
            costs: Some(Mutex::new(vec![None; self.scenarios.len()])),
            early: gate.exec.wall_limit.map(|limit| Early {
                before: gate.so_far,
                limit,
                jobs: gate.exec.jobs,
                left: &left,
            }),
        };
        let parts = self.phase(Items::Listed(&items), gate.exec, &shared, bar, observe);
        if let Some((k, e)) = shared
            .first_error
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            return Err(Stop::Failed(k, e));
        }
        let costs = shared
            .costs
            .map(|c| {
                c.into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            })
            .unwrap_or_default();
        // Variants the pilot stopped before still have all their runs left.
        let ran: Vec<u64> = items
            .iter()
            .copied()
            .filter(|k| costs.get(self.variant(*k)).is_some_and(Option::is_some))
            .collect();
        let mine = Estimate::of(
            &self.left(&ran),
            &costs,
            gate.exec.jobs,
            workers(usize::MAX),
        );
        gate.so_far = gate.so_far.then(mine);
        if gate.over(&gate.so_far) {
            return Err(Stop::TooLong(gate.so_far));
        }
        Ok(Pilot { items, parts })
    }

    /// Runs every item the pilot did not, and returns both phases' partial summaries.
    ///
    /// # Errors
    ///
    /// [`Stop::Failed`] with the lowest-numbered failing item.
    pub(crate) fn finish(
        &self,
        pilot: Pilot,
        exec: Exec<'_>,
        bar: Option<&indicatif::ProgressBar>,
        observe: &(dyn Fn(usize, &Sample) + Sync),
    ) -> Result<Parts, Stop> {
        let shared = Shared {
            next: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            first_error: Mutex::new(None),
            costs: None,
            early: None,
        };
        let mut parts = self.phase(
            Items::Except(&self.range, &pilot.items),
            exec,
            &shared,
            bar,
            observe,
        );
        if let Some((k, e)) = shared
            .first_error
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            return Err(Stop::Failed(k, e));
        }
        for (mine, theirs) in parts.iter_mut().zip(pilot.parts) {
            mine.extend(theirs);
        }
        Ok(parts)
    }

    /// Runs `items` over `exec.jobs` workers; per variant, the workers' partial summaries.
    fn phase(
        &self,
        items: Items<'_>,
        exec: Exec<'_>,
        shared: &Shared<'_>,
        bar: Option<&indicatif::ProgressBar>,
        observe: &(dyn Fn(usize, &Sample) + Sync),
    ) -> Parts {
        let jobs = exec.jobs.max(1).min(items.len().max(1));
        let per_worker: Vec<Vec<PointResult>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..jobs)
                .map(|_| scope.spawn(|| self.worker(items, shared, bar, observe)))
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        // Transpose worker × variant into variant × worker.
        let mut per_variant: Parts = self.scenarios.iter().map(|_| Vec::new()).collect();
        for worker in per_worker {
            for (p, r) in worker.into_iter().enumerate() {
                if let Some(slot) = per_variant.get_mut(p) {
                    slot.push(r);
                }
            }
        }
        per_variant
    }

    fn worker(
        &self,
        items: Items<'_>,
        shared: &Shared<'_>,
        bar: Option<&indicatif::ProgressBar>,
        observe: &(dyn Fn(usize, &Sample) + Sync),
    ) -> Vec<PointResult> {
        let mut mine: Vec<PointResult> = self
            .scenarios
            .iter()
            .map(|_| {
                PointResult::new(Point {
                    settings: Vec::new(),
                })
            })
            .collect();
        // Each worker simulates each variant's start-up once, when it first meets the
        // variant, and forks every run from it (`crate::Prepared`).
        let mut prepared: Vec<Option<crate::Prepared<'_>>> =
            self.scenarios.iter().map(|_| None).collect();
        loop {
            if shared.failed.load(Ordering::Relaxed) || shared.stop.load(Ordering::Relaxed) {
                break;
            }
            let i = shared.next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                break;
            };
            let Some(k) = item else {
                continue;
            };
            let p = self.variant(k);
            let (Some(sc), Some(names), Some(acc), Some(slot)) = (
                self.scenarios.get(p),
                self.metrics.get(p),
                mine.get_mut(p),
                prepared.get_mut(p),
            ) else {
                break;
            };
            let mut cost = VariantCost::default();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let prep = match slot.take() {
                    Some(prep) => prep,
                    None => {
                        let watch = Stopwatch::start();
                        let prep = crate::Prepared::new(sc)?;
                        cost.prep = watch.elapsed();
                        prep
                    }
                };
                let watch = Stopwatch::start();
                let report = prep.run(run_seed(self.seed, k % self.runs.max(1)));
                cost.run = watch.elapsed();
                *slot = Some(prep);
                report.map_err(RunFailure::from)
            }))
            .unwrap_or_else(|payload| Err(RunFailure::Panic(super::panic_text(&*payload))));
            match result {
                Ok(report) => {
                    let s = Sample::of(&report, sc, names);
                    observe(p, &s);
                    acc.record(&s);
                    self.note_cost(shared, p, cost);
                }
                Err(e) => {
                    let mut slot = shared
                        .first_error
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if slot.as_ref().is_none_or(|(j, _)| k < *j) {
                        *slot = Some((k, e));
                    }
                    shared.failed.store(true, Ordering::Relaxed);
                }
            }
            if let Some(b) = bar {
                b.inc(1);
            }
        }
        mine
    }

    /// Records a pilot item's cost; stops the pilot when the variants timed so far already
    /// put the estimate over the limit.
    fn note_cost(&self, shared: &Shared<'_>, p: usize, cost: VariantCost) {
        let Some(costs) = &shared.costs else {
            return;
        };
        let mut costs = costs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = costs.get_mut(p) {
            *c = Some(cost);
        }
        if let Some(early) = &shared.early {
            let partial = Estimate::of(early.left, &costs, early.jobs, workers(usize::MAX));
            if early.before.then(partial).wall > early.limit {
                shared.stop.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// A progress bar over `len` runs on stderr, when `exec.progress` asks for one.
pub(crate) fn progress_bar(exec: Exec<'_>, len: u64) -> Option<indicatif::ProgressBar> {
    if !exec.progress {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {per_sec}  ETA {eta}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(scenarios: &[&Scenario], runs: u64, shard: Option<super::super::Shard>) -> Vec<u64> {
        Batch::new(scenarios, runs, 0, shard).first_items()
    }

    #[test]
    fn the_pilot_takes_the_first_item_of_each_variant_in_the_range() {
        let loaded = crate::load("reference").expect("built-in");
        let sc = &loaded.scenario;
        let three = [sc, sc, sc];
        assert_eq!(batch(&three, 5, None), vec![0, 5, 10]);
        // Items 5..10 of 15: the middle variant only, from its first item.
        let shard = "2/3".parse().ok();
        assert_eq!(batch(&three, 5, shard), vec![5]);
        // Items 3..6 of 9 (3 runs each, second shard of 3): variant 1's first item.
        assert_eq!(batch(&three, 3, shard), vec![3]);
        // Items 4..8 of 12 (4 runs, shard 2/3): variant 1 from item 4.
        assert_eq!(batch(&three, 4, shard), vec![4]);
        // Items 2..5 of 7 with 1 variant of 7 runs, a shard starting mid-variant.
        let one = [sc];
        let b = Batch::new(&one, 7, 0, "2/3".parse().ok());
        assert_eq!(b.range, 2..4);
        assert_eq!(b.first_items(), vec![2]);
        assert_eq!(b.left(&[2]), vec![1]);
        let b = Batch::new(&three, 5, 0, None);
        assert_eq!(b.left(&[0, 5, 10]), vec![4, 4, 4]);
    }

    #[test]
    fn except_skips_the_pilot_items() {
        let r = 0..6;
        let skip = [0, 3];
        let items = Items::Except(&r, &skip);
        let got: Vec<Option<u64>> = (0..items.len()).filter_map(|i| items.get(i)).collect();
        assert_eq!(got, vec![None, Some(1), Some(2), None, Some(4), Some(5)]);
        assert_eq!(items.get(6), None);
    }
}
