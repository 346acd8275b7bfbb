#!/usr/bin/env bash
# Time to loss ≤ 1e-20 on the demo problem for two builds in one run (issue 15's acceptance):
# seeds 0..10 (SEEDS to change), the default pipeline at 60 s + 60 s, runs stopped at 1e-20
# (both phases' minloss), both builds at the same time with one thread each.
#   bash demo_time_to_target.sh OLD_GRADFLOW NEW_GRADFLOW OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=$1 new=$2 out=$3
seeds=${SEEDS:-0..10}
mkdir -p "$out"
run() {
  "$1" solve --seeds "$seeds" --maxtime-ode 60 --maxtime-optim 60 --minloss 1e-20 \
    --minloss-optim 1e-20 --threads 1 --quiet -o "$2" > "$2.log" 2>&1
}
run "$old" "$out/old" &
run "$new" "$out/new" &
wait
python3 "$here/time_to_target.py" "$out/old" "$out/new"
