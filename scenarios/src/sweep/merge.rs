//! `holdtime merge`: the shards of one sweep, added back into the unsharded result.
//!
//! Contract: given the outputs of shards `1/N … N/N` of one sweep (same scenario, seed, runs
//! and grid), in any order, [`merge`] returns exactly the [`SweepResult`] that the unsharded
//! sweep returns, so its JSON, text and CSV are the same bytes. It refuses shards of different
//! sweeps, a missing or repeated shard, and results that are not shards.

use super::{PointResult, SweepResult};

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

/// Merges shard results into the whole sweep's result.
///
/// # Errors
///
/// [`MergeError`] for inputs that are not the complete set of shards of one sweep.
pub fn merge(parts: &[SweepResult]) -> Result<SweepResult, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let count = first.shard.ok_or(MergeError::NotAShard(1))?.count;
    let mut seen = vec![false; usize::try_from(count).unwrap_or(0)];
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
        let slot = seen
            .get_mut(usize::try_from(shard.index).unwrap_or(usize::MAX) - 1)
            .ok_or_else(|| MergeError::Coverage(format!("shard {}/{count}", shard.index)))?;
        if *slot {
            return Err(MergeError::Coverage(format!(
                "shard {}/{count} given twice",
                shard.index
            )));
        }
        *slot = true;
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| format!("{}/{count}", i + 1))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Coverage(format!(
            "missing {}",
            missing.join(", ")
        )));
    }
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
