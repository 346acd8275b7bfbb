#!/usr/bin/env bash
# Issue 16 acceptance "demo seeds 0–29 at 60 s + 60 s": the default pipeline on the demo
# problem (paper teacher d = 4, r = 4, ρ = 4 students), one run per core, each record with its
# certified end state. ON_CHANNEL=jump runs the same with --on-channel jump; SEEDS=… other seeds.
# Prints solve's table (end_state column and evidence) and writes it next to the records.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/results/demo30-${ON_CHANNEL:-continue}}
cargo build --release --manifest-path "$root/Cargo.toml" --bin gradflow
mkdir -p "$out"
"$root/target/release/gradflow" solve --seeds "${SEEDS:-0..30}" --maxtime-ode 60 --maxtime-optim 60 \
  --threads 2 --quiet --on-channel "${ON_CHANNEL:-continue}" -o "$out" | tee "$out/table.txt"
