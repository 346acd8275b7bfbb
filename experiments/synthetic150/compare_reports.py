"""Checks that two `gradflow report` folders of the same grid agree (slurm_local.sh): the
headline table exactly, and every student's losses and stop reasons (students.csv)."""
import csv
import sys

a, b = sys.argv[1], sys.argv[2]


def rows(folder, name):
    with open(f"{folder}/{name}") as fh:
        return list(csv.DictReader(fh))


ok = True
ha, hb = rows(a, "headline.csv"), rows(b, "headline.csv")
if ha == hb:
    print(f"headline: identical ({len(ha)} rows)")
else:
    ok = False
    print("headline differs:")
    for x, y in zip(ha, hb):
        if x != y:
            print("  ", x, "\n  ", y)

key = lambda r: (r["teacher"], r["rho"], r["seed"])
sa = {key(r): r for r in rows(a, "students.csv")}
sb = {key(r): r for r in rows(b, "students.csv")}
cols = ["loss", "ode_loss", "gnorm", "rmse", "success", "ode_stop", "optim_stop", "error"]
diff = [k for k in sa if k not in sb or any(sa[k][c] != sb[k][c] for c in cols)]
missing = [k for k in sb if k not in sa]
if diff or missing or not sa:
    ok = False
    print(f"students differ: {len(diff)} of {len(sa)} (missing {len(missing)})", diff[:5])
else:
    print(f"students: {len(sa)} identical ({', '.join(cols)})")
print("AGREE" if ok else "DISAGREE")
sys.exit(0 if ok else 1)
