#!/usr/bin/env bash
# Fig. 5A analogue in the infinite-data limit (issue 18): the paper teacher d = 4, r = 4
# (index 0, seed 40400), Gaussian input, students of width rho*r for rho in 1 2 4, 20 seeds
# each, trained on the population loss with the default flow and refiner for ODE_S + OPTIM_S
# seconds. ACT (default g) sets the teacher's and the students' activation. Records go to
# experiments/infinite/results/overparam-rho*/ (ACT=g) or overparam-$ACT-rho*/; summarise with
# `python3 experiments/infinite/overparam_table.py [ACT]`. Rerunning skips finished folders.
set -euo pipefail
cd "$(dirname "$0")/../.."
ODE_S=${ODE_S:-20}
OPTIM_S=${OPTIM_S:-20}
ACT=${ACT:-g}
G=target/release/gradflow
cargo build --release -q
out=experiments/infinite/results
mkdir -p "$out"
if [ "$ACT" = g ]; then tag=""; else tag="-$ACT"; fi
teacher="$out/teacher-4-4$tag.json"
$G teacher --d 4 --r 4 --index 0 --activation "$ACT" -o "$teacher"
for rho in 1 2 4; do
  dir="$out/overparam$tag-rho$rho"
  if [ -f "$dir/done" ]; then continue; fi
  $G solve --teacher "$teacher" --activation "$ACT" --infinite-data --rho "$rho" --seeds 0..20 \
    --maxtime-ode "$ODE_S" --maxtime-optim "$OPTIM_S" --quiet -o "$dir" > "$dir.log" 2>&1
  touch "$dir/done"
done
