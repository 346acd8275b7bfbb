#!/usr/bin/env python3
"""Derive the full-grid estimate for the current defaults from a per-cell estimate table (the
markdown table `estimate_cost.py` prints) and measured speed factors to the same ODE time.

`estimate_cost.py` multiplies seconds per step by a fixed step budget, which does not fit a
method whose steps are cheaper but more numerous over the same ODE horizon (ros34pw2 against
rodas5p). This script instead divides each cell's core-hours by the factor measured for its
parameter count (wall time of the table's method / wall time of the new default, both to the
same ODE time; `experiments/integrators/jacobian-samples.md`), the nearest measured size
standing in for the cells between.

usage: derive_estimate.py TABLE.md --scale S --factor P=F [--factor P=F ...] [--from P]
  --scale: converts the table's build to the build the factors were measured against
  (e.g. 1585/1700: the same method after later kernel changes, measured on the whole grid);
  --from: cells below this many parameters keep the table's method (factor 1).
"""
import argparse
import re

ap = argparse.ArgumentParser()
ap.add_argument("table")
ap.add_argument("--scale", type=float, default=1.0)
ap.add_argument("--factor", action="append", default=[], help="P=F")
ap.add_argument("--from", dest="from_p", type=int, default=257)
a = ap.parse_args()

factors = sorted((int(p), float(f)) for p, f in (s.split("=") for s in a.factor))
rows = []
for line in open(a.table):
    m = re.match(r"\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|.*\|\s*([\d.e+]+)\s*\|\s*$", line)
    if m:
        d, r, rho, p = (int(m.group(i)) for i in range(1, 5))
        rows.append((d, r, rho, p, float(m.group(5))))

before = sum(c for *_, c in rows)
after = 0.0
groups = {}
for d, r, rho, p, c in rows:
    if p < a.from_p or not factors:
        f = 1.0
    else:
        # The measured size nearest on a log scale.
        f = min(factors, key=lambda pf: abs(__import__("math").log(pf[0] / p)))[1]
    after += c / f
    key = f"P < {a.from_p}" if f == 1.0 else f"factor {f:g}"
    b, n = groups.get(key, (0.0, 0.0))
    groups[key] = (b + c, n + c / f)
print(f"table: {before:.0f} core-h; scaled to the factors' build: {a.scale * before:.0f}")
for k, (b, n) in sorted(groups.items()):
    print(f"  {k}: {a.scale * b:.0f} -> {a.scale * n:.0f} core-h")
print(f"derived full grid: {a.scale * after:.0f} core-h")
