#!/usr/bin/env bash
# Loss versus wall time of gradflow, scipy (solve_ivp BDF/Radau + trust-exact/BFGS/SLSQP) and
# PyTorch (Adam, L-BFGS) on the demo problem, one thread each (see train_compare.py).
#   bash experiments/peers/run_train_compare.sh [--seeds 0,1,2] [--budgets 5,15,60]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${PEERS_VENV:-$here/.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q numpy scipy torch
fi
cargo build --release --manifest-path "$root/Cargo.toml" --bin gradflow
mkdir -p "$here/results"
"$venv/bin/python" "$here/train_compare.py" --gradflow "$root/target/release/gradflow" \
  --workdir "$here/results/train_compare" --out "$here/results/train_compare.json" "$@"
