"""Concatenates the samples of data files: `python concat.py OUT.npz A.npz B.npz …` (keys x, y).

Used by `run.sh gauss` to append Gaussian queries to the digits queries of a teacher.
"""
import sys

import numpy as np

out, *parts = sys.argv[1:]
files = [np.load(p) for p in parts]
np.savez(out, x=np.concatenate([f["x"] for f in files]), y=np.concatenate([f["y"] for f in files]))
print(f"wrote {sum(len(f['x']) for f in files)} samples to {out}")
