#!/usr/bin/env bash
# Newton-TR subproblems on the eigendecomposition against Cholesky factorisations, one thread,
# both on the same gradient-flow end point (rodas5p, a fixed number of steps), alternating:
# time per refinement iteration and the loss after ITER iterations, per problem size.
#   bash experiments/training/tr_subproblem.sh [ITER] [FLOW_STEPS] [SECONDS]
# Writes experiments/training/tr-subproblem/results.csv (problem, P, solver, iterations,
# refine wall, loss) and refiners.csv (bfgs, newton-tr, lm for SECONDS each, from the same
# flow end point).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
gf=${GRADFLOW:-$root/target/release/gradflow}
iters=${1:-20}
steps=${2:-300}
secs=${3:-30}
out=$root/experiments/training/tr-subproblem
work=$(mktemp -d)
mkdir -p "$out"
echo "problem,P,solver,iterations,refine_wall_s,loss" > "$out/results.csv"
# d r width: students of 161 … 2 177 parameters on paper teachers.
for case in "8 4 16" "16 4 16" "16 4 32" "32 4 16" "32 4 32" "16 8 64" "32 8 64"; do
  set -- $case
  d=$1 r=$2 w=$3
  "$gf" teacher --d "$d" --r "$r" --seed 1 -o "$work/t.json" > /dev/null
  for solver in eigen cholesky; do
    "$gf" solve --teacher "$work/t.json" --width "$w" --seeds 0 --threads 1 \
      --maxiterations-ode "$steps" --maxtime-ode 600 --optim newton-tr \
      --maxiterations-optim "$iters" --maxtime-optim 600 --tr-subproblem "$solver" \
      --quiet -o "$work/$solver" > /dev/null
    python3 - "$work/$solver/seed_0.json" "$d-$w-1 on $d-$r-1" "$solver" >> "$out/results.csv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o = r["optim"]
P = len(r["x"])
print(f'{sys.argv[2]},{P},{sys.argv[3]},{o["counters"]["iterations"]},{o["wall"]:.3f},{r["loss"]:.3e}')
PY
  done
done
column -s, -t "$out/results.csv"
# Refiners at equal wall time (SECONDS, default 30) from the same flow end point, for the sizes
# where the default is bfgs: newton-tr (Cholesky subproblems) against bfgs.
echo "problem,P,refiner,iterations,refine_wall_s,loss" > "$out/refiners.csv"
for case in "32 4 32" "16 8 64" "32 8 64"; do
  set -- $case
  d=$1 r=$2 w=$3
  "$gf" teacher --d "$d" --r "$r" --seed 1 -o "$work/t.json" > /dev/null
  for refiner in bfgs newton-tr lm; do
    "$gf" solve --teacher "$work/t.json" --width "$w" --seeds 0 --threads 1 \
      --maxiterations-ode "$steps" --maxtime-ode 600 --optim "$refiner" \
      --maxtime-optim "$secs" --quiet -o "$work/$refiner" > /dev/null
    python3 - "$work/$refiner/seed_0.json" "$d-$w-1 on $d-$r-1" "$refiner" >> "$out/refiners.csv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o = r["optim"]
print(f'{sys.argv[2]},{len(r["x"])},{sys.argv[3]},{o["counters"]["iterations"]},{o["wall"]:.3f},{r["loss"]:.3e}')
PY
  done
done
column -s, -t "$out/refiners.csv"
rm -rf "$work"
