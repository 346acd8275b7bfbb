"""Summarise a folder of gradflow solve records: per-seed table and loss thresholds."""
import glob
import json
import os
import sys

folder = sys.argv[1]
rows = []
for path in sorted(glob.glob(os.path.join(folder, "seed_*.json")), key=lambda p: int(p.split("_")[-1][:-5])):
    with open(path) as fh:
        r = json.load(fh)
    rows.append(r)
    print(f"seed {r['seed']:>3}  loss {r['loss']:.3e}  ode_loss {r['ode_loss']:.3e}  "
          f"stop {r['ode']['stop']}/{r['optim']['stop']}  {r['total_time']:.1f}s  events {len(r['events'])}")
n = len(rows)
for thr in (1e-20, 1e-10, 1e-5):
    k = sum(1 for r in rows if r["loss"] <= thr)
    print(f"loss <= {thr:.0e}: {k}/{n}")
losses = sorted(r["loss"] for r in rows)
if losses:
    print(f"median loss {losses[n // 2]:.3e}, min {losses[0]:.3e}, max {losses[-1]:.3e}")
