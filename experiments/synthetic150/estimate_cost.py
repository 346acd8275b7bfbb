#!/usr/bin/env python3
"""Estimate the wall time of the full 150-teacher study (full.toml) from the per-step times
measured by cost.toml (one student per (d, r, rho) cell, 10 steps of each phase).

Upper bound: every student uses its whole budget (5000 KenCarp58 steps, then 5000 Newton
trust-region steps at rho = 1 or 250 BFGS steps at rho >= 2); in practice students that reach
the loss floor stop early. Recoveries add at most 2 x finetune_time each.

usage: estimate_cost.py COST_STUDY_DIR [--nodes 100] [--cores-per-node 8] [--machine-cores 2]
"""
import argparse
import glob
import json
import os

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--nodes", type=int, default=100)
ap.add_argument("--cores-per-node", type=int, default=8)
ap.add_argument("--machine-cores", type=int, default=2)
ap.add_argument("--ode-steps", type=int, default=5000)
ap.add_argument("--finetune", type=float, default=120.0)
a = ap.parse_args()

TEACHERS_PER_CELL = 10
rows = []
for f in sorted(glob.glob(os.path.join(a.dir, "tasks", "*", "rho*", "seed0.json"))):
    r = json.load(open(f))
    rec = r["record"]
    t = r["teacher"]
    rho = r["rho"]
    ode = rec["ode"]
    opt = rec["optim"]
    ode_step = ode["wall"] / max(ode["counters"]["iterations"], 1)
    opt_step = opt["wall"] / max(opt["counters"]["iterations"], 1)
    opt_budget = 5000 if rho == 1 else 250
    students = 10 if t["r"] == 8 else 20
    per_student = a.ode_steps * ode_step + opt_budget * opt_step
    cell = TEACHERS_PER_CELL * (students * per_student + 2 * a.finetune)
    rows.append((t["d"], t["r"], rho, len(rec["x"]), ode_step, opt_step, per_student, cell))

rows.sort()


def fnv1a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# Simulate the Slurm array: groups are dealt to shards as `gradflow study --shard` does
# (longest-processing-time first on the estimated weight students * p^2 * (1 + p/1000), ties
# by the FNV-1a hash of the group key), then each shard runs its tasks on its cores.
per_student = {(d, r, rho): (p, ps) for d, r, rho, p, _, _, ps, _ in rows}
groups = []
for (d, r, rho), (p, ps) in per_student.items():
    for i in range(TEACHERS_PER_CELL):
        key = f"d{d}_r{r}_i{i}/rho{rho}".encode()
        n_students = 10 if r == 8 else 20
        weight = n_students * p * p * (1 + p / 1000)
        groups.append((-weight, fnv1a(key), [ps] * n_students + [2 * a.finetune]))
groups.sort()
shards = [[] for _ in range(a.nodes)]
load = [0.0] * a.nodes
for w, _, tasks in groups:
    s = min(range(a.nodes), key=lambda k: (load[k], k))
    load[s] += -w
    shards[s] += tasks


def makespan(tasks, cores):
    load = [0.0] * cores
    for t in sorted(tasks, reverse=True):
        load[load.index(min(load))] += t
    return max(load)


spans = [makespan(t, a.cores_per_node) for t in shards]
print("| d | r | ρ | params | s / ODE step | s / refine step | s / student (full budget) | core-h / cell (10 teachers) |")
print("|---|---|---|---|---|---|---|---|")
total = 0.0
for d, r, rho, p, os_, rs, ps, cell in rows:
    total += cell
    print(f"| {d} | {r} | {rho} | {p} | {os_:.3g} | {rs:.3g} | {ps:.3g} | {cell / 3600:.3g} |")
longest = max(rows, key=lambda x: x[6])
print()
print(f"cells measured: {len(rows)} of 60")
print(f"full grid, upper bound: {total / 3600:.0f} core-hours")
print(f"  one {a.machine_cores}-core machine: {total / 3600 / a.machine_cores / 24:.1f} days")
print(f"  {a.nodes}-node Slurm array x {a.cores_per_node} cores (cost-balanced shards, longest task first on each node): "
      f"slowest shard {max(spans) / 3600:.1f} h, median shard {sorted(spans)[len(spans) // 2] / 3600:.1f} h; "
      f"longest single student {longest[6] / 3600:.1f} h (d={longest[0]} r={longest[1]} rho={longest[2]})")
