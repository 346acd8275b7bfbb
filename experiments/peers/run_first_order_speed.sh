#!/usr/bin/env bash
# gradflow's first-order path (mini-batch Adam, batches of 640) against PyTorch float32 and
# float64 on one thread: a 784-120-10 student on 60 000 synthetic MNIST-shaped samples
# (uniform inputs in [0, 1], targets = a 784-30-10 teacher's outputs). Issue 17.
#
#   bash experiments/peers/run_first_order_speed.sh [SECONDS]
# Writes results/first-order-speed.jsonl and prints the epochs-per-second table.
set -euo pipefail
cd "$(dirname "$0")"
G=${GRADFLOW:-../../target/release/gradflow}
PY=${PY:-.venv/bin/python}
SECS=${1:-30}
mkdir -p results
data=results/mnist-shaped.npz
[ -f results/t-784-30-10.json ] || $G teacher --widths 784,30,10 --seed 1 -o results/t-784-30-10.json
[ -f "$data" ] || $G data --net results/t-784-30-10.json --inputs uniform -n 60000 -o "$data"
out=results/first-order-speed.jsonl
: > "$out"
rm -rf results/first-order-gradflow
$G solve --data "$data" --width 120 --seeds 0 --threads 1 --ode adam --lr 1e-3 --batch-size 640 \
  --maxtime-ode "$SECS" --maxtime-optim 0 --quiet -o results/first-order-gradflow > /dev/null
python3 - "$out" <<'PY'
import json, glob, sys, math
r = json.load(open(glob.glob("results/first-order-gradflow/*.json")[0]))
steps = r["ode"]["counters"]["iterations"]
per_epoch = math.ceil(60000 / 640)
epochs = steps / per_epoch
wall = r["ode"]["wall"]
line = {"tool": "gradflow", "dtype": "float64", "epochs": epochs, "seconds": wall,
        "epochs_per_s": epochs / wall, "loss": r["ode_loss"],
        "note": "includes a full loss+gradient every 10 epochs"}
open(sys.argv[1], "a").write(json.dumps(line) + "\n")
PY
# PyTorch: as many epochs as gradflow ran (at least 3).
EP=$(python3 -c "import json;print(max(3,round(json.loads(open('$out').readline())['epochs'])))")
$PY first_order_speed.py "$data" --width 120 --epochs "$EP" >> "$out"
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
g = rows[0]["epochs_per_s"]
print(f"{'tool':10} {'dtype':8} {'epochs':>7} {'seconds':>8} {'epochs/s':>9} {'gradflow ×':>10}")
for r in rows:
    print(f"{r['tool']:10} {r['dtype']:8} {r['epochs']:7.1f} {r['seconds']:8.2f} {r['epochs_per_s']:9.3f} {g / r['epochs_per_s']:10.2f}")
PY
