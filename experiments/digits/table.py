"""Tables of experiments/digits in the paper's Table 1 format, from results/rec-*/report.json.

Writes table.csv and prints a Markdown table: teacher, activation, r, queries, logit RMSE of the
recovered network, m̂/r, mean (max) cosine distance of the input weights (uninformative inputs
masked), students' losses, the students' summed training time, the wall time of the last run (students
reused from an earlier run are not retrained), and whether the acceptance bar (m̂/r ≤ 1.1, mean cosine
distance ≤ 1e-3, RMSE ≤ 1e-4) holds.

`results/` is not committed: rows of table.csv whose run has no report here (runs of earlier
sessions or other machines) are kept as they are; runs found here replace or extend them.
"""

import csv
import glob
import json
import os
import re
import statistics

here = os.path.dirname(os.path.abspath(__file__))
rows = []
for f in sorted(glob.glob(os.path.join(here, "results", "rec-*", "report.json"))):
    name = os.path.basename(os.path.dirname(f))[4:]
    r = json.load(open(f))
    m = r.get("metrics") or {}
    layers = m.get("layers", [])
    losses = [s["loss"] for l in r["layers"] for s in l["students"] if s.get("used", True)]
    ratio = [l["width_ratio"] for l in layers]
    cos = [l["input_cosine_mean"] for l in layers]
    ok = bool(layers) and all(x <= 1.1 for x in ratio) and all(c <= 1e-3 for c in cos) and r["rmse"] <= 1e-4 \
        and all(l["recovered_width"] >= l["teacher_width"] for l in layers)
    rows.append({
        "run": name,
        "teacher": "-".join(["64"] + [str(l["teacher_width"]) for l in layers] + ["10"]),
        "queries": re.search(r"(\d+) samples", r["data"]).group(1),
        "masked_inputs": len(r.get("masked_inputs", [])),
        "student_widths": ",".join(map(str, r["student_widths"])),
        "recovered": r["recovered_shape"],
        "logit_rmse": f"{r['rmse']:.2e}",
        "m_hat_over_r": ";".join(f"{x:.2f}" for x in ratio),
        "cos_mean": ";".join(f"{c:.1e}" for c in cos),
        "cos_max": ";".join(f"{l['input_cosine_max']:.1e}" for l in layers),
        "student_loss_median": f"{statistics.median(losses):.1e}" if losses else "",
        "student_cpu_s": f"{sum(s['time'] for l in r['layers'] for s in l['students']):.0f}",
        "wall_s": f"{r['wall_time']:.0f}",
        # Pruning trials (removed/tried), when the run pruned (`--prune-support`).
        "pruned": (lambda t: f"{sum(x['removed'] for x in t)}/{len(t)}" if r["config"].get("prune_support") else "")(
            [t for l in r["layers"] for t in l.get("pruned", [])]),
        "identified": "yes" if ok else "no",
    })
table = os.path.join(here, "table.csv")
if os.path.exists(table):
    fresh = {r["run"] for r in rows}
    with open(table, newline="") as f:
        old = [r for r in csv.DictReader(f) if r["run"] not in fresh]
    rows = old + rows
if rows:
    with open(os.path.join(here, "table.csv"), "w", newline="") as out:
        fields = list(dict.fromkeys(k for row in rows for k in row))
        w = csv.DictWriter(out, fieldnames=fields, restval="")
        w.writeheader()
        w.writerows(rows)
    cols = fields
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "")) for c in cols) + " |")
