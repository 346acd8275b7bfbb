#!/usr/bin/env python3
"""Derive the full-grid estimate for the current defaults from a per-cell estimate table (the
markdown table `estimate_cost.py` prints) and measured speed factors to the same ODE time.

`estimate_cost.py` multiplies seconds per step by a fixed step budget, which does not fit a
method whose steps are cheaper but more numerous over the same ODE horizon (ros34pw2 against
rodas5p). This script instead divides each cell's core-hours by the factor measured for its
parameter count (wall time of the table's method / wall time of the new default, both to the
same ODE time; `experiments/integrators/jacobian-samples.md`), the nearest measured size
standing in for the cells between.

usage: derive_estimate.py TABLE.md --scale S --factor P=F [--factor dD:P=F ...] [--from P]
  --scale: converts the table's build to the build the factors were measured against
  (e.g. 1585/1700: the same method after later kernel changes, measured on the whole grid);
  --factor P=F: a factor measured at P parameters, for the cells from --from parameters up;
  --factor dD:P=F: a factor measured on a problem with input dimension D, for every cell of
  that input dimension (its nearest measured size), whatever its size — for speed-ups that
  depend on d (the fused one-hidden-layer pass, net/shallow/);
  --from: cells below this many parameters without a factor for their d keep factor 1;
  --small TABLE2: cells below --from taken from TABLE2 as they are (a table of this build with
  the same method as TABLE, measured beside it), instead of TABLE with factors.
"""
import argparse
import math
import re

ap = argparse.ArgumentParser()
ap.add_argument("table")
ap.add_argument("--scale", type=float, default=1.0)
ap.add_argument("--factor", action="append", default=[], help="P=F")
ap.add_argument("--from", dest="from_p", type=int, default=257)
ap.add_argument("--small", help="table for the cells below --from")
a = ap.parse_args()

factors = []
by_d = {}
for spec in a.factor:
    key, f = spec.split("=")
    if key.startswith("d"):
        d, p = key[1:].split(":")
        by_d.setdefault(int(d), []).append((int(p), float(f)))
    else:
        factors.append((int(key), float(f)))
factors.sort()


def nearest(fs, p):
    """The factor measured at the size nearest to p on a log scale."""
    return min(fs, key=lambda pf: abs(math.log(pf[0] / p)))[1]


def read(path):
    """(d, r, rho, P, core-hours per cell) of an estimate_cost.py table."""
    out = []
    for line in open(path):
        m = re.match(r"\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|.*\|\s*([\d.e+]+)\s*\|\s*$", line)
        if m:
            d, r, rho, p = (int(m.group(i)) for i in range(1, 5))
            out.append((d, r, rho, p, float(m.group(5))))
    return out


rows = read(a.table)
small = {row[:4]: row[4] for row in read(a.small)} if a.small else None

before = sum(c for *_, c in rows)
after = 0.0
groups = {}
for d, r, rho, p, c in rows:
    if small is not None and p < a.from_p:
        # Measured directly on the factors' build: --scale (applied to every total below)
        # must not convert it, hence the division.
        c_new = small[(d, r, rho, p)]
        after += c_new / a.scale
        b, n = groups.get(f"P < {a.from_p}, measured", (0.0, 0.0))
        groups[f"P < {a.from_p}, measured"] = (b + c, n + c_new / a.scale)
        continue
    if d in by_d and (p < a.from_p or not factors):
        f = nearest(by_d[d], p)
        key = f"P < {a.from_p}, d = {d}: factor {f:g}"
    elif p < a.from_p or not factors:
        f = 1.0
        key = f"P < {a.from_p}, no factor"
    else:
        f = nearest(factors, p)
        key = f"P >= {a.from_p}: factor {f:g}"
    after += c / f
    b, n = groups.get(key, (0.0, 0.0))
    groups[key] = (b + c, n + c / f)
print(f"table: {before:.0f} core-h; scaled to the factors' build: {a.scale * before:.0f}")
for k, (b, n) in sorted(groups.items()):
    print(f"  {k}: {a.scale * b:.0f} -> {a.scale * n:.0f} core-h")
print(f"derived full grid: {a.scale * after:.0f} core-h")
