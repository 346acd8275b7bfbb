#!/usr/bin/env bash
# Fig. 5A analogue for `g` on the Gauss–Hermite grid (issue 18): the exact population objective
# costs a two-dimensional rule per pair for `g` (~0.1–0.2 s per Hessian at ρ = 4), too slow for
# a landscape table, so the students train on the quadrature of the population loss instead —
# the tensor Gauss–Hermite grid of the teacher (25 nodes per dimension, nodes lighter than 1e-12
# of the largest pruned: 83 825 weighted samples; MLPGradientFlow.jl's `gauss_hermite_net`).
# Paper teacher d = 4, r = 4 (index 0, seed 40400), widths ρ·4 for ρ in 1 2 4, seeds 0–19,
# ODE_S + OPTIM_S seconds each. Then `population_polish` reads every end point's population
# loss and its loss on an unpruned 35⁴ grid (no refinement), into results/gh-g-rho*.csv.
set -euo pipefail
cd "$(dirname "$0")/../.."
ODE_S=${ODE_S:-30}
OPTIM_S=${OPTIM_S:-30}
G=target/release/gradflow
P=target/release/population_polish
cargo build --release -q -p gradflow-cli -p gradflow-probes
out=experiments/infinite/results
mkdir -p "$out"
teacher="$out/teacher-4-4.json"
grid="$out/gh25-g.npz"
[ -f "$teacher" ] || $G teacher --d 4 --r 4 --index 0 -o "$teacher"
[ -f "$grid" ] || $G data --net "$teacher" --gauss-hermite 25 --prune 1e-12 -o "$grid"
for rho in 1 2 4; do
  dir="$out/gh-g-rho$rho"
  if [ ! -f "$dir/done" ]; then
    $G solve --data "$grid" --width $((4 * rho)) --activation g --seeds 0..20 \
      --maxtime-ode "$ODE_S" --maxtime-optim "$OPTIM_S" --quiet -o "$dir" > "$dir.log" 2>&1
    touch "$dir/done"
  fi
  [ -f "$dir.csv" ] || $P "$teacher" "$dir" 25 0 35 > "$dir.csv"
done
