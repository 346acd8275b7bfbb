#!/usr/bin/env bash
# The paper's Table 1 setting on MNIST (or FashionMNIST) files a user has: a 784-R-10 teacher
# trained on the training set (Adam, early stopping), queried for its logits on the training
# images, recovered by Expand-and-Cluster with ρ = 4 students (784-4R-10: above 10⁴
# parameters, so the first-order path — mini-batch Adam, then L-BFGS — trains them).
#
#   MNIST=/path/with/idx/files bash experiments/mnist/run.sh
#   bash experiments/mnist/run.sh        # without MNIST: synthetic IDX files of its shape
#
# Options (environment): R (30), ACT (g), STUDENTS (10), GAMMA (0.5), ODE and OPTIM (seconds per student
# phase; 600 and 300), FINETUNE (300). Resumable: rerun the same command; finished students in
# results/recovery/students are reused. The per-epoch time of the students is printed at the
# end (time-per-epoch.txt).
set -euo pipefail
cd "$(dirname "$0")"
G=${GRADFLOW:-../../target/release/gradflow}
PY=${PY:-../peers/.venv/bin/python}
R=${R:-30}; ACT=${ACT:-g}; STUDENTS=${STUDENTS:-10}; GAMMA=${GAMMA:-0.5}
ODE=${ODE:-600}; OPTIM=${OPTIM:-300}; FINETUNE=${FINETUNE:-300}
mkdir -p results
if [ -z "${MNIST:-}" ]; then
  MNIST=data
  [ -f data/train-images-idx3-ubyte.gz ] || $PY make_synthetic_idx.py data
  echo "no MNIST given: synthetic IDX files of MNIST's shape in data/"
fi
train="$MNIST/train-images-idx3-ubyte.gz,$MNIST/train-labels-idx1-ubyte.gz"
[ -f "$MNIST/train-images-idx3-ubyte.gz" ] || train="$MNIST/train-images-idx3-ubyte,$MNIST/train-labels-idx1-ubyte"
images=${train%%,*}
t=results/teacher-$ACT-$R.json
if [ ! -f "$t" ]; then
  start=$SECONDS
  $G teacher --train "$train" --widths 784,$R,10 --activation "$ACT" --batch-size 64 -o "$t" 2>&1 \
    | grep -v "^epoch" | tee results/teacher.log
  echo "teacher training: $((SECONDS - start)) s" | tee -a results/teacher.log
fi
q=results/queries-$ACT-$R.npz
[ -f "$q" ] || $G data --net "$t" --inputs "$images" --outputs logits -o "$q"
$G recover --data "$q" --teacher "$t" --rho 4 --activation "$ACT" --students "$STUDENTS" \
  --lr 1e-3 --maxtime-ode "$ODE" --maxtime-optim "$OPTIM" --finetune-time "$FINETUNE" \
  --gamma "$GAMMA" --beta 0.35 -o results/recovery --quiet 2>&1 | tail -4 || true
python3 - <<'PY' | tee results/time-per-epoch.txt
import glob, json, math
for f in sorted(glob.glob("results/recovery/students/layer_1_*.json")):
    r = json.load(open(f))
    n = 60000  # training images
    steps = r["ode"]["counters"]["iterations"]
    epochs = steps / math.ceil(n / 640)
    print(f"{f.split('/')[-1]}: {r['shape']}, {r['ode']['method']}: {epochs:.1f} epochs in "
          f"{r['ode']['wall']:.1f} s ({r['ode']['wall'] / max(epochs, 1e-9):.2f} s per epoch), "
          f"then {r['optim']['method']} {r['optim']['counters']['iterations']} iterations; "
          f"loss {r['loss']:.3e}, rmse {r['rmse']:.3e}")
PY
