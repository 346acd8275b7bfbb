#!/usr/bin/env bash
# Issue 3 acceptance "precision": the demo problem, 10 seeds, default pipeline with
# maxtime_ode = maxtime_optim = 60 s, one thread per run (2 runs at a time on 2 cores).
# Prints the per-seed table and how many seeds reached mean loss <= 1e-20.
# OPTIM=lm bash demo_precision.sh DIR runs the same with Levenberg–Marquardt as the refiner;
# SEEDS=10..30 runs other seeds (default 0..10).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/results/demo_precision}
cargo build --release --manifest-path "$root/Cargo.toml" --bin gradflow
"$root/target/release/gradflow" solve --seeds "${SEEDS:-0..10}" --maxtime-ode 60 --maxtime-optim 60 \
  --threads 2 --quiet ${OPTIM:+--optim "$OPTIM"} -o "$out"
python3 "$here/summarize.py" "$out"
