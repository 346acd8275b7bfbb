"""Time to loss ≤ 1e-20 per seed from two folders of `gradflow solve` records (old, new).

The time of a seed is its total wall time when it stopped at the target (both phases' minloss
set to it), else it did not reach it. Prints a per-seed table, the counts and the medians.
"""
import glob
import json
import os
import statistics
import sys

TARGET = 1e-20


def times(folder):
    out = {}
    for path in glob.glob(os.path.join(folder, "seed_*.json")):
        with open(path) as fh:
            r = json.load(fh)
        out[r["seed"]] = (r["total_time"] if r["loss"] <= TARGET else None, r["loss"], r["ode"]["method"])
    return out


old, new = times(sys.argv[1]), times(sys.argv[2])
print(f"| seed | old: s to 1e-20 | new: s to 1e-20 | old / new |")
print("|---|---|---|---|")
for s in sorted(set(old) | set(new)):
    o, n = old.get(s, (None,))[0], new.get(s, (None,))[0]
    fmt = lambda v: "–" if v is None else f"{v:.1f}"
    ratio = f"{o / n:.2f}" if o and n else "–"
    print(f"| {s} | {fmt(o)} | {fmt(n)} | {ratio} |")
for name, d in (("old", old), ("new", new)):
    reached = [v[0] for v in d.values() if v[0] is not None]
    med = statistics.median(reached) if reached else float("nan")
    methods = sorted({v[2] for v in d.values()})
    print(f"{name}: {len(reached)}/{len(d)} seeds reach 1e-20, median {med:.1f} s ({', '.join(methods)})")
r_old = [v[0] for v in old.values() if v[0] is not None]
r_new = [v[0] for v in new.values() if v[0] is not None]
if r_old and r_new:
    print(f"median ratio old / new: {statistics.median(r_old) / statistics.median(r_new):.2f}")
