"""Table of Expand-and-Cluster reports: python3 summarize.py DIR (one report.json per subfolder)."""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
print(f"{'run':<16} {'m_hat':>6} {'r':>3} {'rmse':>10} {'cos mean':>10} {'cos max':>10} {'students used':>14} {'time s':>8}")
for rep in sorted(root.glob("*/report.json")):
    r = json.loads(rep.read_text())
    m = r.get("metrics") or {}
    lm = (m.get("layers") or [{}])
    widths = "-".join(str(l["recovered_width"]) for l in r["layers"])
    tw = "-".join(str(l.get("teacher_width", "?")) for l in lm)
    used = sum(s["used"] for s in r["layers"][0]["students"])
    print(f"{rep.parent.name:<16} {widths:>6} {tw:>3} {r['rmse']:>10.2e} "
          f"{max(l.get('input_cosine_mean', float('nan')) for l in lm):>10.2e} "
          f"{max(l.get('input_cosine_max', float('nan')) for l in lm):>10.2e} "
          f"{used:>10}/{len(r['layers'][0]['students']):<3} {r['wall_time']:>8.0f}")
