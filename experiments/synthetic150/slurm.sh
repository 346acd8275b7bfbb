#!/usr/bin/env bash
# Slurm job array for the full 150-teacher study: each array task runs one shard of the grid
# (groups are dealt round-robin, a group's students and its recovery stay in one shard, and
# the shards cover the grid exactly once). All tasks write into one shared study folder;
# finished tasks are skipped, so a cancelled or timed-out array can simply be resubmitted.
#
#   cargo build --release                      # once, on the login node
#   sbatch --array=1-100 experiments/synthetic150/slurm.sh
#   target/release/gradflow report experiments/synthetic150/results/synthetic150-full \
#       -o experiments/synthetic150/report-full
#
#SBATCH --job-name=gradflow-synthetic150
#SBATCH --cpus-per-task=8
#SBATCH --mem=8G
#SBATCH --time=48:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/../..}"
SHARDS=${SLURM_ARRAY_TASK_COUNT:-100}
CONFIG=${CONFIG:-experiments/synthetic150/full.toml}
# OUT: the study folder (default: results/<name> next to the configuration).
exec target/release/gradflow study --config "$CONFIG" ${OUT:+--out "$OUT"} \
  --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" \
  --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
