#!/usr/bin/env bash
# Expand-and-Cluster on teachers trained on scikit-learn's 8×8 digits (paper Table 1 analogue,
# experiment (a)), plus the patch-query (Table 2 analogue, (b)) and deep ((c)) runs.
#
#   experiments/peers/.venv/bin/python experiments/digits/export_data.py   # once
#   bash experiments/digits/run.sh [a|b|c|all|gauss]                       # resumable
#
# Every finished recovery leaves results/rec-*/report.json and is skipped on the next run
# (an interrupted one resumes from its saved students). The table: python3 table.py.
set -euo pipefail
cd "$(dirname "$0")"
G=${GRADFLOW:-../../target/release/gradflow}
STUDENTS=${STUDENTS:-8}
# Students: the first-order path (mini-batch Adam), then the refiner REFINER (default lbfgs, the
# setting of the common-budget rows; `REFINER=lm` is what identified softplus-10, see the
# README), with these budgets per phase.
ODE=${ODE:-15}
OPTIM=${OPTIM:-45}
REFINER=${REFINER:-lbfgs}
FINETUNE=${FINETUNE:-60}
# EXTRA: further flags for every `recover`, e.g. EXTRA="--tr-subproblem cg" (matrix-free `lm`
# steps for the r = 30 students, 9 010 parameters).
# Clustering: real-data students are not at zero loss; wider angles than the synthetic defaults.
GAMMA=${GAMMA:-0.5}
BETA=${BETA:-0.35}
# After fine-tuning, neurons whose clusters have members from fewer than PRUNE·N students are
# removed when the network fits as well without them (README, ninth session; PRUNE=0: off, as
# for the rows made before 2026-12-04).
PRUNE=${PRUNE:-0.75}
mkdir -p results
[ -f data/digits.npz ] || { echo "run export_data.py first" >&2; exit 1; }

teacher() { # activation width [widths]
  local a=$1 r=$2 w=${3:-64,$2,10}
  local t=results/t-$a-$r.json
  [ -f "$t" ] || $G teacher --train data/digits.npz --widths "$w" --activation "$a" -o "$t"
}

recover() { # name teacher queries extra-flags…
  local name=$1 t=$2 q=$3; shift 3
  [ -f "results/$name/report.json" ] && { echo "$name: done"; return; }
  if ! $G recover --data "$q" --teacher "$t" --students "$STUDENTS" --gamma "$GAMMA" --beta "$BETA" \
    --ode adam --lr 1e-3 --batch-size 64 --maxtime-ode "$ODE" \
    --optim "$REFINER" --maxtime-optim "$OPTIM" --finetune-time "$FINETUNE" --prune-support "$PRUNE" \
    --quiet -o "results/$name" ${EXTRA:-} "$@" > "results/$name.log" 2>&1; then
    echo "$name: FAILED (results/$name.log)"
  fi
  tail -3 "results/$name.log"
}

what=${1:-all}
if [[ $what == a || $what == all ]]; then
  for a in g tanh relu softplus; do
    for r in 10 20 30; do
      teacher $a $r
      q=results/q-$a-$r.npz
      [ -f "$q" ] || $G data --net results/t-$a-$r.json --inputs data/digits.npz --outputs logits -o "$q"
      recover rec-$a-$r results/t-$a-$r.json "$q" --rho 4 --activation $a
    done
  done
fi
if [[ $what == gauss ]]; then
  # Teachers whose neurons are active on almost every digit (relu: 78–98 % of the images for
  # relu-10) are nearly linear on the digits and weakly identifiable from them; these runs add
  # GAUSS_N queries x ~ N(0, I) (about half of each neuron's inputs on either side of its kink)
  # to the digits queries. GAUSS_TEACHERS: "activation-width …".
  PY=${PY:-../peers/.venv/bin/python}
  for t in ${GAUSS_TEACHERS:-relu-10}; do
    a=${t%-*} r=${t#*-}
    teacher $a $r
    q=results/q-$a-$r.npz
    [ -f "$q" ] || $G data --net results/t-$a-$r.json --inputs data/digits.npz --outputs logits -o "$q"
    n=${GAUSS_N:-1797}
    qg=results/qg$n-$a-$r.npz
    if [ ! -f "$qg" ]; then
      $G data --net results/t-$a-$r.json --inputs gaussian -n "$n" --seed 7 --outputs logits -o "results/gauss$n-$a-$r.npz"
      $PY concat.py "$qg" "$q" "results/gauss$n-$a-$r.npz"
    fi
    recover rec-${NAME_PREFIX:-}gauss$n-$a-$r results/t-$a-$r.json "$qg" --rho 4 --activation $a
  done
fi
if [[ $what == b || $what == all ]]; then
  teacher g 20
  q=results/qp-g-20.npz
  [ -f "$q" ] || $G data --net results/t-g-20.json --inputs data/patches.npz --outputs logits -o "$q"
  recover rec-patches-g-20 results/t-g-20.json "$q" --rho 4 --activation g
fi
if [[ $what == c || $what == all ]]; then
  teacher g deep 64,20,20,10
  q=results/q-g-deep.npz
  [ -f "$q" ] || $G data --net results/t-g-deep.json --inputs data/digits.npz --outputs logits -o "$q"
  recover rec-deep-g results/t-g-deep.json "$q" --layers 80,80 --activation g
fi
