#!/usr/bin/env bash
# Expand-and-Cluster on one teacher per symmetry class (issue 4 acceptance):
# teachers built like the paper's (SPEC §7) with activation A, d ∈ {4, 8}, r = 4;
# N students of width ρ·r; budgets per student phase in seconds.
#
#   bash experiments/recovery/classes.sh            # defaults below
#   STUDENTS=10 RHO=4 ODE_S=15 OPTIM_S=15 FT_S=15 bash experiments/recovery/classes.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-experiments/recovery/results/classes}
STUDENTS=${STUDENTS:-10}
RHO=${RHO:-4}
ODE_S=${ODE_S:-15}
OPTIM_S=${OPTIM_S:-15}
FT_S=${FT_S:-15}
ACTS=${ACTS:-"tanh sigmoid softplus gelu relu"}
DIMS=${DIMS:-"4 8"}
cargo build --release --quiet
BIN=target/release/gradflow
mkdir -p "$OUT"
for a in $ACTS; do
  for d in $DIMS; do
    dir="$OUT/${a}_d${d}"
    mkdir -p "$dir"
    "$BIN" teacher --d "$d" --r 4 --activation "$a" -o "$dir/teacher.json"
    "$BIN" recover --teacher "$dir/teacher.json" --activation "$a" --rho "$RHO" \
      --students "$STUDENTS" --maxtime-ode "$ODE_S" --maxtime-optim "$OPTIM_S" \
      --finetune-time "$FT_S" --quiet -o "$dir" > "$dir/summary.txt" 2> "$dir/log.txt" || echo "failed: $a d=$d (see $dir/log.txt)"
    tail -n +1 "$dir/summary.txt" | head -3
  done
done
python3 experiments/recovery/summarize.py "$OUT"
