#!/usr/bin/env bash
# Paper Fig. 5A analogue on the demo teacher (d = 4, r = 4): students with rho in {1,2,4,8},
# SEEDS seeds each (default 20), budgets ODE_S + OPTIM_S seconds (default 60 + 60).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seeds=${SEEDS:-20}
ode=${ODE_S:-60}
optim=${OPTIM_S:-60}
cargo build --release --manifest-path "$root/Cargo.toml" --bin gradflow
for rho in 1 2 4 8; do
  "$root/target/release/gradflow" solve --rho "$rho" --seeds "0..$seeds" --maxtime-ode "$ode" \
    --maxtime-optim "$optim" --threads 2 --quiet -o "$here/results/overparam/rho$rho"
done
for rho in 1 2 4 8; do
  echo "rho = $rho"
  python3 "$here/summarize.py" "$here/results/overparam/rho$rho"
done
