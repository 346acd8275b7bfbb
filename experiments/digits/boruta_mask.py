"""Uninformative inputs of the digits: gradflow's rule (standard deviation ≤ f × the largest
input's, `--input-mask-std f`) against Boruta (Kursa & Rudnicki 2010, the `Boruta` package's
BorutaPy with a random forest on the labels), as the paper masks MNIST.

Writes boruta.json ({"rejected": […], "tentative": […], "std_rule": {f: […]}}) and prints the
comparison; `--input-mask` of `gradflow recover` takes Boruta's rejected inputs.

Usage: experiments/peers/.venv/bin/python experiments/digits/boruta_mask.py
"""

import json
import os

import numpy as np
from boruta import BorutaPy
from sklearn.ensemble import RandomForestClassifier

here = os.path.dirname(os.path.abspath(__file__))
z = np.load(os.path.join(here, "data", "digits.npz"))
x, labels = z["x"], z["y"].argmax(1)
forest = RandomForestClassifier(n_jobs=1, max_depth=7, random_state=0)
b = BorutaPy(forest, n_estimators="auto", max_iter=100, random_state=0, verbose=0)
b.fit(x, labels)
rejected = [int(i) for i in np.where(~b.support_ & ~b.support_weak_)[0]]
tentative = [int(i) for i in np.where(b.support_weak_)[0]]
std = x.std(0)
rule = {f: [int(i) for i in np.where((std <= f * std.max()) | (std == 0))[0]] for f in (0.0, 1e-2, 5e-2, 1e-1)}
out = {"rejected": rejected, "tentative": tentative, "std_rule": {str(k): v for k, v in rule.items()},
       "std": [float(s / std.max()) for s in std]}
json.dump(out, open(os.path.join(here, "boruta.json"), "w"), indent=1)
print(f"Boruta rejects {len(rejected)} of 64 pixels: {rejected} (tentative: {tentative})")
for f, v in rule.items():
    both = sorted(set(v) & set(rejected))
    print(f"std rule f = {f:g}: {len(v)} pixels {v}; also rejected by Boruta: {len(both)}; "
          f"only the rule: {sorted(set(v) - set(rejected))}; only Boruta: {sorted(set(rejected) - set(v))}")
print("relative std of Boruta's rejected pixels:", [round(float(std[i] / std.max()), 4) for i in rejected])
