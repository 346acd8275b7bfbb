#!/usr/bin/env bash
# Times gradflow eval against PyTorch (float64, 1 thread) and JAX (jit, x64) on the benchmark
# networks, in one run on this machine, and prints the ratios.
# Sets up its own virtual environment (numpy, torch, jax from PyPI) on first use.
#   bash experiments/peers/run_eval_speed.sh [extra args for eval_speed.py]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/venv.sh" numpy torch jax
"$venv/bin/python" "$here/eval_speed.py" --gradflow "$root/target/release/gradflow" \
  --workdir "$here/results/eval_speed" --out "$here/results/eval_speed.json" "$@"
