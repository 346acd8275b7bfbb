#!/usr/bin/env bash
# Time to loss ≤ 1e-20 on the demo problem for two builds in one run (issue 15's acceptance):
# seeds 0..10 (SEEDS to change), the default pipeline at 60 s + 60 s, runs stopped at 1e-20
# (both phases' minloss), both builds at the same time with one thread each.
#   bash demo_time_to_target.sh OLD_GRADFLOW NEW_GRADFLOW OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SEEDS=${SEEDS:-0..10} EXTRA="--minloss 1e-20 --minloss-optim 1e-20" \
  bash "$here/../training/demo_precision_compare.sh" "$@"
python3 "$here/time_to_target.py" "$3/old" "$3/new"
