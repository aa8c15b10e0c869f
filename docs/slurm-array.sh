#!/usr/bin/env bash
# Spread a holdtime sweep over a Slurm job array: task I of 8 runs shard I/8 of the
# (grid point, run) space; a dependent job merges the 8 JSON files into exactly what one
# unsharded sweep gives, byte for byte.
#
#   sbatch docs/slurm-array.sh            # submits the array; it submits the merge itself
#
# An audit shards and merges the same way: replace `holdtime sweep reference --set ...` below
# by, e.g., `holdtime audit my-design.toml --depth 2 --runs 200 --yes` (same --seed, --format
# json, --jobs, --shard and --out); `holdtime merge` recognises audit shards and exits 1 when a
# failure of the merged audit is over budget.
#
#SBATCH --job-name=holdtime-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=holdtime-sweep-%A_%a.log
set -euo pipefail

SHARDS=8
OUT_DIR="${OUT_DIR:-$PWD/holdtime-results}"
mkdir -p "$OUT_DIR"

holdtime sweep reference \
  --set bgp.hold_time=10s,30s,90s,180s \
  --set tcp.preset=linux,rfc6298 \
  --runs 10000 --seed 1 --format json \
  --jobs "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" \
  --out "$OUT_DIR/shard-${SLURM_ARRAY_TASK_ID}.json"

# The first task queues the merge, to run once every task of the array has succeeded.
if [ "${SLURM_ARRAY_TASK_ID}" = 1 ]; then
  sbatch --dependency="afterok:${SLURM_ARRAY_JOB_ID}" --job-name=holdtime-merge \
    --wrap "holdtime merge $OUT_DIR/shard-*.json --out $OUT_DIR/sweep.json && holdtime merge $OUT_DIR/shard-*.json --format text --out $OUT_DIR/sweep.txt"
fi
