#!/usr/bin/env bash
# Issue 16 acceptance "every certificate checked independently on a teacher you have not
# seen": paper teacher d = 8, r = 4, index 7 (seed 80407; no test, tune or demo uses it),
# narrow ρ = 1 and ρ = 2 students (10 seeds each, 20 s + 20 s) so that minima, saddles and
# channels occur next to zero loss; then check_certificates.py re-derives every claim in JAX.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/results/unseen-d8-r4-7}
py=${PY:-$root/experiments/peers/.venv/bin/python}
cargo build --release --manifest-path "$root/Cargo.toml" --bin gradflow
g="$root/target/release/gradflow"
mkdir -p "$out"
"$g" teacher --d 8 --r 4 --index 7 -o "$out/teacher.json"
"$g" data --net "$out/teacher.json" -n 30000 -o "$out/data.npz"
for rho in 1 2; do
  mkdir -p "$out/rho$rho"
  "$g" solve --teacher "$out/teacher.json" --rho "$rho" --seeds 0..10 --maxtime-ode 20 \
    --maxtime-optim 20 --threads 2 --quiet -o "$out/rho$rho" | tee "$out/rho$rho/table.txt"
done
"$py" "$here/check_certificates.py" "$out/data.npz" "$out"/rho*/seed_*.json --csv "$out/check.csv" \
  | tee "$out/check.txt"
