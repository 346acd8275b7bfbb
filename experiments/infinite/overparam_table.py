"""Summarise experiments/infinite/overparam.sh: per rho, how many of the seeds end at a
population loss <= 1e-10 and <= 1e-12, and the certified end states."""
import collections
import glob
import json
import os
import sys

root = os.path.join(os.path.dirname(__file__), "results")
act = sys.argv[1] if len(sys.argv) > 1 else "g"
tag = "" if act == "g" else f"-{act}"
print("| rho | seeds | loss <= 1e-10 | loss <= 1e-12 | median loss | end states |")
print("|---|---|---|---|---|---|")
for rho in (1, 2, 4):
    recs = [json.load(open(p)) for p in sorted(glob.glob(f"{root}/overparam{tag}-rho{rho}/*.json"))]
    recs = [r for r in recs if "loss" in r]
    if not recs:
        continue
    losses = sorted(r["loss"] for r in recs)
    ends = collections.Counter((r.get("end_state") or {}).get("kind", "-") for r in recs)
    print(
        f"| {rho} | {len(recs)} | {sum(l <= 1e-10 for l in losses)} | {sum(l <= 1e-12 for l in losses)} "
        f"| {losses[len(losses) // 2]:.2e} | {', '.join(f'{k} {v}' for k, v in sorted(ends.items()))} |"
    )
sys.exit(0)
