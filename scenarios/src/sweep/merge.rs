//! `holdtime merge`: the shards of one sweep, added back into the unsharded result.
//!
//! Contract: given the outputs of shards `1/N … N/N` of one sweep (same scenario, seed, runs
//! and grid), in any order, [`merge`] returns exactly the [`SweepResult`] that the unsharded
//! sweep returns, so its JSON, text and CSV are the same bytes. It refuses shards of different
//! sweeps, a missing or repeated shard, and results that are not shards.

use super::{PointResult, Shard, SweepResult};

/// Why shard outputs could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no files to merge")]
    Empty,
    /// A result that is already whole.
    #[error("input {0} is a whole sweep, not a shard")]
    NotAShard(usize),
    /// Inputs from different sweeps.
    #[error("input {index} is from another sweep ({what} differs)")]
    Mismatch {
        /// Which input (from 1).
        index: usize,
        /// The field that differs.
        what: &'static str,
    },
    /// A shard given twice or missing.
    #[error("shards do not cover the sweep exactly once: {0}")]
    Coverage(String),
    /// Histograms could not be added.
    #[error("{0}")]
    Hist(#[from] super::histogram::HistError),
}

/// Which of the `count` shards of one sweep or audit were given: each exactly once.
pub(super) struct Coverage {
    count: u32,
    seen: Vec<bool>,
}

impl Coverage {
    /// None of `count` shards seen yet.
    pub(super) fn new(count: u32) -> Self {
        Self {
            count,
            seen: vec![false; usize::try_from(count).unwrap_or(0)],
        }
    }

    /// Marks `shard` as given.
    ///
    /// # Errors
    ///
    /// [`MergeError::Coverage`] for an index outside `1..=count` or one given twice.
    pub(super) fn mark(&mut self, shard: Shard) -> Result<(), MergeError> {
        let count = self.count;
        let slot = usize::try_from(shard.index)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.seen.get_mut(i))
            .ok_or_else(|| MergeError::Coverage(format!("shard {}/{count}", shard.index)))?;
        if *slot {
            return Err(MergeError::Coverage(format!(
                "shard {}/{count} given twice",
                shard.index
            )));
        }
        *slot = true;
        Ok(())
    }

    /// Checks that every shard was given.
    ///
    /// # Errors
    ///
    /// [`MergeError::Coverage`] naming the missing shards.
    pub(super) fn complete(&self) -> Result<(), MergeError> {
        let missing: Vec<String> = self
            .seen
            .iter()
            .enumerate()
            .filter(|(_, s)| !**s)
            .map(|(i, _)| format!("{}/{}", i + 1, self.count))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(MergeError::Coverage(format!(
                "missing {}",
                missing.join(", ")
            )))
        }
    }
}

/// Merges shard results into the whole sweep's result.
///
/// # Errors
///
/// [`MergeError`] for inputs that are not the complete set of shards of one sweep.
pub fn merge(parts: &[SweepResult]) -> Result<SweepResult, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let count = first.shard.ok_or(MergeError::NotAShard(1))?.count;
    let mut coverage = Coverage::new(count);
    for (i, p) in parts.iter().enumerate() {
        let index = i + 1;
        let shard = p.shard.ok_or(MergeError::NotAShard(index))?;
        let mismatch = |what| MergeError::Mismatch { index, what };
        if p.scenario != first.scenario || p.source != first.source {
            return Err(mismatch("scenario"));
        }
        if p.seed != first.seed {
            return Err(mismatch("seed"));
        }
        if p.runs != first.runs {
            return Err(mismatch("runs"));
        }
        if p.grid != first.grid || p.points.len() != first.points.len() {
            return Err(mismatch("grid"));
        }
        if p.directions != first.directions {
            return Err(mismatch("directions"));
        }
        if shard.count != count {
            return Err(mismatch("shard count"));
        }
        coverage.mark(shard)?;
    }
    coverage.complete()?;
    let mut points: Vec<PointResult> = first
        .points
        .iter()
        .map(|p| PointResult::new(p.point.clone()))
        .collect();
    for part in parts {
        for (acc, p) in points.iter_mut().zip(&part.points) {
            if acc.point != p.point {
                return Err(MergeError::Mismatch {
                    index: 0,
                    what: "grid point",
                });
            }
            acc.add(p)?;
        }
    }
    Ok(SweepResult {
        shard: None,
        points,
        ..first.clone()
    })
}
