#!/usr/bin/env python3
"""Per-ρ loss thresholds from a study report's students.csv (paper Fig. 5A analogue)."""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
rhos = sorted({int(r["rho"]) for r in rows})
print("| ρ | students | loss ≤ 1e-20 | loss ≤ 1e-10 | loss ≤ 1e-5 | median loss |")
print("|---|---|---|---|---|---|")
for rho in rhos:
    losses = sorted(float(r["loss"]) for r in rows if int(r["rho"]) == rho and r["loss"])
    n = len(losses)
    cnt = lambda t: sum(1 for l in losses if l <= t)
    print(f"| {rho} | {n} | {cnt(1e-20)} | {cnt(1e-10)} | {cnt(1e-5)} | {losses[n // 2]:.2e} |")
