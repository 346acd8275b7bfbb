#!/usr/bin/env bash
# The optimiser benchmark (issue 19): gradflow's methods, then the peers, then the report.
# Resumable: finished runs are skipped. Usage: bash experiments/benchmarks/run.sh [BUDGET]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${OUT:-$here/optimisers}
cargo build --release --manifest-path "$root/Cargo.toml" --bin gradflow
gf=$root/target/release/gradflow
"$gf" study --config "$here/optimisers.toml" --out "$out" --threads "${THREADS:-2}" --quiet
# The peers' Python environment (experiments/peers/.venv, created on first use).
bench=$here
here=$root/experiments/peers
source "$here/venv.sh" numpy scipy torch
here=$bench
"$venv/bin/python" "$root/experiments/peers/bench_peers.py" "$out" --gradflow "$gf" \
  --budget "${1:-3}" --jobs "${THREADS:-2}"
"$gf" report "$out" -o "$here/report-optimisers"
