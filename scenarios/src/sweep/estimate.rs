//! How long a sweep will take, measured before it commits to the bulk of its runs.
//!
//! Method: the first run of every scenario variant (grid point, or advise candidate) runs
//! first, as the *pilot*, and each is timed in two parts: simulating the start-up up to the
//! fork ([`crate::Prepared::new`]) and running one seed from the fork. A variant with `n` runs
//! left then costs `n · run + min(jobs, n) · start-up` of CPU time (each worker simulates a
//! variant's start-up once, when it first meets it), and the runs left take that total divided
//! by the workers that run in parallel: `--jobs`, at most the cores available. The pilot's runs
//! are runs of the sweep (same items, same seeds), so their samples count in the result and the
//! estimate costs nothing but one extra start-up per variant.
//!
//! One cold run per variant times a little long (caches and the allocator warm up over the
//! first runs): on the development machine the estimate of a large reference sweep came out
//! about a quarter above its actual time, an error on the side of asking.
//!
//! The estimate is wall-clock time: it depends on the machine and its load, so it only
//! decides whether to go ahead (and goes to standard error); it never reaches a result, which
//! stays deterministic. When the variants timed so far already add up to more than the limit,
//! the pilot stops early and the estimate is a lower bound ("at least").

use std::fmt;
use std::time::Duration as WallDuration;

/// The wall time a sweep or advise may be estimated to take without `--yes`: one hour.
pub const WALL_LIMIT: WallDuration = WallDuration::from_secs(3600);

/// A stopwatch over wall time, for the estimate only.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopwatch(std::time::Instant);

impl Stopwatch {
    pub(crate) fn start() -> Self {
        #[allow(
            clippy::disallowed_methods,
            reason = "the sweep's wall-time estimate times the pilot runs; it decides whether to \
                      go ahead and never reaches a result"
        )]
        let now = std::time::Instant::now();
        Self(now)
    }

    pub(crate) fn elapsed(self) -> WallDuration {
        self.0.elapsed()
    }
}

/// What the pilot measured of one variant: its start-up and one run from the fork.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct VariantCost {
    /// Simulating the start-up up to the fork.
    pub(crate) prep: WallDuration,
    /// One run from the fork to the end.
    pub(crate) run: WallDuration,
}

/// An estimate of the wall time of the runs left after the pilot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Runs left after the pilot.
    pub runs_left: u64,
    /// Variants whose first run was timed.
    pub timed: u64,
    /// Variants not timed because the estimate had already passed the limit: when not 0,
    /// [`Self::wall`] is a lower bound.
    pub untimed: u64,
    /// Worker threads sharing the work: `--jobs`, at most the cores available.
    pub workers: usize,
    /// The estimated wall time of the runs left.
    pub wall: WallDuration,
}

impl Estimate {
    /// Nothing yet: no runs, no time.
    #[must_use]
    pub const fn zero(workers: usize) -> Self {
        Self {
            runs_left: 0,
            timed: 0,
            untimed: 0,
            workers,
            wall: WallDuration::ZERO,
        }
    }

    /// The estimate of one batch of variants, `left[i]` runs left of variant `i` whose pilot
    /// cost `costs[i]` (`None`: not timed), spread over `jobs` workers on `cores` cores.
    pub(crate) fn of(
        left: &[u64],
        costs: &[Option<VariantCost>],
        jobs: usize,
        cores: usize,
    ) -> Self {
        let jobs = jobs.max(1);
        let workers = jobs.min(cores.max(1));
        let mut cpu = 0.0_f64;
        let mut e = Self::zero(workers);
        for (n, cost) in left.iter().zip(costs) {
            e.runs_left = e.runs_left.saturating_add(*n);
            let Some(c) = cost else {
                e.untimed += 1;
                continue;
            };
            e.timed += 1;
            let starts = (*n).min(u64::try_from(jobs).unwrap_or(u64::MAX));
            #[allow(
                clippy::cast_precision_loss,
                reason = "an estimate in seconds; counts beyond 2^52 lose only precision"
            )]
            let (runs, starts) = (*n as f64, starts as f64);
            cpu += runs * c.run.as_secs_f64() + starts * c.prep.as_secs_f64();
        }
        #[allow(clippy::cast_precision_loss, reason = "a handful of workers")]
        let wall = cpu / workers as f64;
        e.wall = WallDuration::try_from_secs_f64(wall).unwrap_or(WallDuration::MAX);
        e
    }

    /// Whether variants were left untimed, making [`Self::wall`] a lower bound.
    #[must_use]
    pub const fn is_lower_bound(&self) -> bool {
        self.untimed > 0
    }

    /// This estimate and `other`, run one after the other on the same workers.
    #[must_use]
    pub fn then(self, other: Self) -> Self {
        Self {
            runs_left: self.runs_left.saturating_add(other.runs_left),
            timed: self.timed + other.timed,
            untimed: self.untimed + other.untimed,
            workers: self.workers.max(other.workers),
            wall: self.wall.saturating_add(other.wall),
        }
    }
}

/// `12m34s` (whole seconds) under an hour, `3h12m` (whole minutes) under two days, `88d6h`
/// (whole hours) under a year, then `5.8 years`.
#[must_use]
pub fn show_wall(d: WallDuration) -> String {
    const HOUR: u64 = 3600;
    const DAY: u64 = 24 * HOUR;
    const YEAR: f64 = 365.25 * 86_400.0;
    let secs = d.as_secs();
    let secs = match secs {
        s if s >= 365 * DAY => return format!("{:.1} years", d.as_secs_f64() / YEAR),
        s if s >= 2 * DAY => s / HOUR * HOUR,
        s if s >= HOUR => s / 60 * 60,
        s => s.max(1),
    };
    sim_core::time::Duration::from_secs(secs).to_string()
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let timed = if self.is_lower_bound() {
            format!(
                "timed from the first run of {} of {} variants",
                self.timed,
                self.timed + self.untimed
            )
        } else {
            format!(
                "timed from the first run of each of {} variant{}",
                self.timed,
                if self.timed == 1 { "" } else { "s" }
            )
        };
        write!(
            f,
            "{} {} of wall time for {} more run{} on {} worker{} ({timed})",
            if self.is_lower_bound() {
                "at least"
            } else {
                "about"
            },
            show_wall(self.wall),
            crate::input::group_digits(self.runs_left),
            if self.runs_left == 1 { "" } else { "s" },
            self.workers,
            if self.workers == 1 { "" } else { "s" },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(prep_ms: u64, run_ms: u64) -> Option<VariantCost> {
        Some(VariantCost {
            prep: WallDuration::from_millis(prep_ms),
            run: WallDuration::from_millis(run_ms),
        })
    }

    #[test]
    fn runs_and_one_start_up_per_worker_divide_over_the_workers() {
        // 1000 runs of 10 ms and 2 start-ups of 500 ms, plus 10 runs of 100 ms and 2
        // start-ups of 50 ms: 10 + 1 + 1 + 0.1 = 12.1 s of CPU over 2 workers.
        let e = Estimate::of(&[1000, 10], &[cost(500, 10), cost(50, 100)], 2, 8);
        assert_eq!(e.workers, 2);
        assert_eq!(e.runs_left, 1010);
        assert!(!e.is_lower_bound());
        assert!((e.wall.as_secs_f64() - 6.05).abs() < 1e-9, "{:?}", e.wall);
        // 4 jobs on 2 cores run 2 at a time, but start 4 start-ups per variant.
        let e = Estimate::of(&[1000], &[cost(500, 10)], 4, 2);
        assert_eq!(e.workers, 2);
        assert!((e.wall.as_secs_f64() - 6.0).abs() < 1e-9, "{:?}", e.wall);
        // A variant with 1 run left starts once, whatever the jobs.
        let e = Estimate::of(&[1], &[cost(500, 10)], 4, 4);
        assert!(
            (e.wall.as_secs_f64() - 0.51 / 4.0).abs() < 1e-9,
            "{:?}",
            e.wall
        );
    }

    #[test]
    fn untimed_variants_make_a_lower_bound() {
        let e = Estimate::of(&[100, 100], &[cost(0, 36_000), None], 1, 1);
        assert!(e.is_lower_bound());
        assert_eq!(e.wall, WallDuration::from_secs(3600));
        assert_eq!(
            e.to_string(),
            "at least 1h of wall time for 200 more runs on 1 worker (timed from the first run \
             of 1 of 2 variants)"
        );
    }

    #[test]
    fn huge_counts_saturate_instead_of_overflowing() {
        let e = Estimate::of(&[u64::MAX, u64::MAX], &[cost(1, 1), cost(1, 1)], 2, 2);
        assert_eq!(e.runs_left, u64::MAX);
        assert!(e.wall > WALL_LIMIT);
        let both = e.then(e);
        assert_eq!(both.runs_left, u64::MAX);
        assert!(!show_wall(both.wall).is_empty());
    }

    #[test]
    fn display_rounds_to_seconds_then_minutes() {
        assert_eq!(show_wall(WallDuration::from_millis(200)), "1s");
        assert_eq!(show_wall(WallDuration::from_secs(754)), "12m34s");
        assert_eq!(show_wall(WallDuration::from_secs(3 * 3600 + 754)), "3h12m");
        assert_eq!(
            show_wall(WallDuration::from_secs(88 * 86_400 + 6 * 3600 + 754)),
            "88d6h"
        );
        assert_eq!(
            show_wall(WallDuration::from_secs(2 * 31_557_600)),
            "2.0 years"
        );
        let e = Estimate::of(&[1_000_000], &[cost(3, 12)], 2, 2);
        assert_eq!(
            e.to_string(),
            "about 1h40m of wall time for 1,000,000 more runs on 2 workers (timed from the \
             first run of each of 1 variant)"
        );
    }
}
