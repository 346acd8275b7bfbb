#!/usr/bin/env bash
# Integrator study (issue 3): distance to a tight KenCarp58 reference at time T versus wall
# time for every integrator and tolerance, on the 33- and 601-parameter problems.
#   bash experiments/integrators/run.sh [T33=0.5] [T601=0.05]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cargo run --release --manifest-path "$root/Cargo.toml" -p gradflow-probes --bin integrator_study -- "$here/results" "${1:-0.5}" "${2:-0.05}"
