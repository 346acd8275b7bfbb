"""Issue 14's two speed checks, in one run on one machine:

1. ``net.gradient`` on the demo problem (student 4-16-1, N = 30 000, float64 C-contiguous)
   against ``gradflow eval --gradient --repeat K`` on the same network and data;
2. ``train_seeds`` throughput with 2 threads against 1 thread (fixed step budgets).

    python experiments/python/bench.py [path/to/gradflow]
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time

import gradflow

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/gradflow"
teacher = gradflow.paper_teacher(4, 4)
x, y = teacher.sample(30000)
net = gradflow.Net(4, [(16, "g", True), (1, "identity", True)])
theta = net.init(0)


def python_gradient(k=200):
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        net.gradient(theta, x, y)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cli_gradient(k=200):
    with tempfile.TemporaryDirectory() as d:
        out = f"{d}/eval.json"
        subprocess.run([binary, "eval", "--gradient", "--repeat", str(k), "-o", out], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rec = json.load(open(out))
    return rec["timing"]["loss_gradient_s"], rec


# Interleave to share the machine's state fairly.
py, cli = [], []
for _ in range(3):
    py.append(python_gradient())
    c, rec = cli_gradient()
    cli.append(c)
same = abs(rec.get("loss", float("nan")) - net.loss(theta, x, y)) <= 1e-12 * abs(net.loss(theta, x, y))
print(f"gradient: python {statistics.median(py) * 1e3:.3f} ms, gradflow eval {statistics.median(cli) * 1e3:.3f} ms, "
      f"ratio {statistics.median(py) / statistics.median(cli):.3f} (same loss: {same})")

seeds = list(range(8))
opts = dict(maxiterations_ode=150, maxtime_ode=600, maxiterations_optim=20, maxtime_optim=600)
rates = {}
for threads in (1, 2, 1, 2):
    t0 = time.perf_counter()
    gradflow.train_seeds(net, x, y, seeds, threads=threads, **opts)
    rates.setdefault(threads, []).append(len(seeds) / (time.perf_counter() - t0))
r1, r2 = statistics.median(rates[1]), statistics.median(rates[2])
print(f"train_seeds: {r1:.3f} runs/s with 1 thread, {r2:.3f} with 2: {r2 / r1:.2f}x")
