#!/usr/bin/env bash
# Loss versus wall time of gradflow, scipy (solve_ivp BDF/Radau + trust-exact/BFGS/SLSQP) and
# PyTorch (Adam, L-BFGS) on the demo problem, one thread each (see train_compare.py).
#   bash experiments/peers/run_train_compare.sh [--seeds 0,1,2] [--budgets 5,15,60]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/venv.sh" numpy scipy torch
"$venv/bin/python" "$here/train_compare.py" --gradflow "$root/target/release/gradflow" \
  --workdir "$here/results/train_compare" --out "$here/results/train_compare.json" "$@"
# Seeds run one after another; to use two cores, start two runs with --seeds 0 and --seeds 1
# and different --workdir/--out.
