"""Exports the offline real data sets of experiments/digits (not committed; run once).

- digits.npz: scikit-learn's 8×8 handwritten digits (1 797 images; CC BY 4.0, UCI ML
  repository, shipped inside the scikit-learn wheel): x = pixels / 16 in [0, 1] (N × 64),
  y = one-hot labels (N × 10).
- patches.npz: a second, different query distribution: 8×8 grey patches of the two sample
  photographs scikit-learn ships (`load_sample_images`: china.jpg, flower.jpg), each
  photograph averaged over 4×4 blocks first (so a patch spans 32×32 original pixels), grey =
  mean of R, G, B, scaled to [0, 1]; `--patches` random positions (seeded), y = zeros.

Usage: experiments/peers/.venv/bin/python experiments/digits/export_data.py [--out DIR]
"""

import argparse
import os

import numpy as np
from sklearn.datasets import load_digits, load_sample_images


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "data"))
    ap.add_argument("--patches", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    x, labels = load_digits(return_X_y=True)
    x = x.astype(np.float64) / 16.0
    y = np.eye(10)[labels]
    np.savez(os.path.join(a.out, "digits.npz"), x=x, y=y)
    print(f"digits.npz: x {x.shape}, y {y.shape}")

    rng = np.random.default_rng(a.seed)
    grey = []
    for img in load_sample_images().images:
        g = img.astype(np.float64).mean(axis=2) / 255.0
        h, w = (g.shape[0] // 4) * 4, (g.shape[1] // 4) * 4
        grey.append(g[:h, :w].reshape(h // 4, 4, w // 4, 4).mean(axis=(1, 3)))
    patches = []
    for i in range(a.patches):
        g = grey[i % len(grey)]
        r, c = rng.integers(0, g.shape[0] - 8), rng.integers(0, g.shape[1] - 8)
        patches.append(g[r : r + 8, c : c + 8].reshape(64))
    px = np.array(patches)
    np.savez(os.path.join(a.out, "patches.npz"), x=px, y=np.zeros((len(px), 1)))
    print(f"patches.npz: x {px.shape}")


if __name__ == "__main__":
    main()
