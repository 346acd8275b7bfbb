#!/usr/bin/env bash
# Precision of two builds in one run (issue 13's "does not regress" check): the demo problem,
# seeds 0..30 (SEEDS to change), the default pipeline at 60 s + 60 s, both builds at the same
# time with one thread each, so that they share the machine equally. EXTRA adds flags to both
# (e.g. stop rules, as `experiments/integrators/demo_time_to_target.sh` does).
#   bash demo_precision_compare.sh OLD_GRADFLOW NEW_GRADFLOW OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=$1 new=$2 out=$3
seeds=${SEEDS:-0..30}
mkdir -p "$out"
run() {
  # shellcheck disable=SC2086 # EXTRA is a list of flags
  "$1" solve --seeds "$seeds" --maxtime-ode 60 --maxtime-optim 60 ${EXTRA:-} --threads 1 --quiet -o "$2" \
    > "$2.log" 2>&1
}
run "$old" "$out/old" &
run "$new" "$out/new" &
wait
for b in old new; do
  echo "## $b: $("$([ $b = old ] && echo "$old" || echo "$new")" --version)"
  python3 "$here/summarize.py" "$out/$b" | tail -4
done
