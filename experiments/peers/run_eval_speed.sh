#!/usr/bin/env bash
# Times gradflow eval against PyTorch (float64, 1 thread) and JAX (jit, x64) on the benchmark
# networks, in one run on this machine, and prints the ratios.
# Sets up its own virtual environment (numpy, torch, jax from PyPI) on first use.
#   bash experiments/peers/run_eval_speed.sh [extra args for eval_speed.py]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${PEERS_VENV:-$here/.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q numpy torch jax
fi
cargo build --release --manifest-path "$root/Cargo.toml" --bin gradflow
mkdir -p "$here/results"
"$venv/bin/python" "$here/eval_speed.py" --gradflow "$root/target/release/gradflow" \
  --workdir "$here/results/eval_speed" --out "$here/results/eval_speed.json" "$@"
