#!/usr/bin/env bash
# Expand-and-Cluster on a deep synthetic teacher (paper A.5), layer by layer.
#   WIDTHS=8,4,2,1 RHO=4 STUDENTS=10 ODE_S=30 OPTIM_S=30 FT_S=60 bash experiments/recovery/deep.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
WIDTHS=${WIDTHS:-8,4,2,1}
RHO=${RHO:-4}
STUDENTS=${STUDENTS:-10}
ODE_S=${ODE_S:-30}
OPTIM_S=${OPTIM_S:-30}
FT_S=${FT_S:-60}
OUT=${OUT:-experiments/recovery/results/deep_${WIDTHS//,/-}}
cargo build --release --quiet
BIN=target/release/gradflow
mkdir -p "$OUT"
"$BIN" teacher --widths "$WIDTHS" -o "$OUT/teacher.json"
"$BIN" recover --teacher "$OUT/teacher.json" --rho "$RHO" --students "$STUDENTS" \
  --maxtime-ode "$ODE_S" --maxtime-optim "$OPTIM_S" --finetune-time "$FT_S" --quiet -o "$OUT" \
  | tee "$OUT/summary.txt"
