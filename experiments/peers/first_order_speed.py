"""Mini-batch Adam epochs per second in PyTorch, one thread, float32 and float64: the peer of
gradflow's first-order path (issue 17). Same data file, architecture (d-m-k, activation g,
biases, linear output), MSE on the mean loss, Adam (lr 1e-3), batches of 640, reshuffled each
epoch.

Usage: python first_order_speed.py DATA.npz --width 120 --epochs 5
Prints one JSON line per dtype: {"dtype", "epochs", "seconds", "epochs_per_s", "loss"}.
"""

import argparse
import json
import time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--width", type=int, default=120)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=640)
    ap.add_argument("--lr", type=float, default=1e-3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    z = np.load(a.data)
    x0, y0 = z["x"], z["y"]
    if y0.ndim == 1:
        y0 = y0[:, None]
    for dtype in (torch.float32, torch.float64):
        torch.manual_seed(0)
        x = torch.tensor(x0, dtype=dtype)
        y = torch.tensor(y0, dtype=dtype)
        n, d = x.shape
        k = y.shape[1]
        l1 = torch.nn.Linear(d, a.width).to(dtype)
        l2 = torch.nn.Linear(a.width, k).to(dtype)
        for l in (l1, l2):
            torch.nn.init.xavier_normal_(l.weight)
            torch.nn.init.zeros_(l.bias)

        def f(xb):
            h = l1(xb)
            return l2(torch.sigmoid(4 * h) + torch.nn.functional.softplus(h))

        opt = torch.optim.Adam(list(l1.parameters()) + list(l2.parameters()), lr=a.lr)
        # One warm-up epoch, then the timed ones.
        for epoch in range(a.epochs + 1):
            if epoch == 1:
                t0 = time.perf_counter()
            perm = torch.randperm(n)
            for i in range(0, n, a.batch):
                idx = perm[i : i + a.batch]
                opt.zero_grad()
                loss = ((f(x[idx]) - y[idx]) ** 2).sum(dim=1).mean()
                loss.backward()
                opt.step()
        secs = time.perf_counter() - t0
        with torch.no_grad():
            full = ((f(x) - y) ** 2).sum(dim=1).mean().item()
        print(json.dumps({
            "tool": "pytorch", "dtype": str(dtype).replace("torch.", ""), "epochs": a.epochs,
            "seconds": secs, "epochs_per_s": a.epochs / secs, "loss": full,
        }), flush=True)


if __name__ == "__main__":
    main()
