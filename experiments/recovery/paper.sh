#!/usr/bin/env bash
# Expand-and-Cluster on the paper's first d=4, r=4 teacher (activation g), rho=4, N=10 students,
# 60 s + 60 s per student and 60 s + 60 s of fine-tuning (issue 4 acceptance).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-experiments/recovery/results/paper_d4_r4}
cargo build --release --quiet
BIN=target/release/gradflow
mkdir -p "$OUT"
"$BIN" teacher --d 4 --r 4 -o "$OUT/teacher.json"
"$BIN" recover --teacher "$OUT/teacher.json" --rho 4 --students 10 \
  --maxtime-ode "${ODE_S:-60}" --maxtime-optim "${OPTIM_S:-60}" --finetune-time "${FT_S:-60}" \
  --quiet -o "$OUT" | tee "$OUT/summary.txt"
