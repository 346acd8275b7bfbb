"""Peers in a gradflow benchmark study: scipy and PyTorch runs written as records that
`gradflow report` compares with the study's methods (issue 19).

For every problem of a finished study (teacher, rho, student seed) and every peer method, the
script trains the same student (d -> rho*r -> 1, activation g, biases) on the same data (the
study's teacher and data seed, regenerated with `gradflow data`) from the same initial point
(read from a gradflow record of that problem), one thread, and writes
`STUDY/peers/<method>/<teacher>_rho<rho>_seed<seed>.json`:

    {"method", "tool", "teacher", "rho", "seed", "n_params", "loss", "total_time",
     "progress": [{"phase", "wall", "loss", "loss_evals", "gradient_evals", "hessian_evals"}]}

`progress` follows gradflow's rule (gradflow::monitor): a point whenever the best mean loss
ever evaluated falls below a new level 10^(-k/5), or improves after the wall time has grown
1.25x (and 0.01 s) since the last point, and a last point at the end.

Peer methods (budget B per phase, 2B for single-phase methods, like the study's methods):
  scipy-bdf+trust-exact   solve_ivp BDF on d(theta)/dt = -grad L_sum with the analytic Hessian as
                          Jacobian, then scipy.optimize.minimize trust-exact (tolerances off)
  scipy-radau+bfgs        solve_ivp Radau (analytic Jacobian), then BFGS
  scipy-bdf+slsqp         solve_ivp BDF, then SLSQP
  torch-adam              PyTorch float64 Adam, lr 1e-3, full batch
  torch-lbfgs             PyTorch float64 L-BFGS (strong Wolfe), full batch
Finished files are skipped, so an interrupted run continues.

    python bench_peers.py STUDY --gradflow target/release/gradflow [--budget 3] [--jobs 2]
"""
import argparse
import glob
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_compare import Deadline, Shallow, minimize_options, torch_mean_loss  # noqa: E402

METHODS = ["scipy-bdf+trust-exact", "scipy-radau+bfgs", "scipy-bdf+slsqp", "torch-adam", "torch-lbfgs"]
LEVELS_PER_DECADE = 5.0
WALL_FACTOR = 1.25
WALL_GAP = 0.01


def level_below(loss):
    if not loss > 0.0 or not math.isfinite(loss):
        return min(loss, 0.0)
    k = math.floor(math.log10(loss) * LEVELS_PER_DECADE)
    level = 10.0 ** (k / LEVELS_PER_DECADE)
    while level >= loss:
        k -= 1
        level = 10.0 ** (k / LEVELS_PER_DECADE)
    return level


class Progress:
    """Best loss ever evaluated, work counters and the progress curve of one run."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.best = math.inf
        self.best_x = None
        self.loss_evals = self.gradient_evals = self.hessian_evals = 0
        self.points = []
        self.next_level = math.inf
        self.next_wall = 0.0
        self.phase = "flow"
        self.deadline = math.inf

    def point(self, wall):
        self.points.append(dict(phase=self.phase, wall=wall, loss=self.best,
                                loss_evals=self.loss_evals, gradient_evals=self.gradient_evals,
                                hessian_evals=self.hessian_evals))
        self.next_level = level_below(self.best)
        self.next_wall = wall * WALL_FACTOR + WALL_GAP

    def record(self, mean, x, gradient):
        self.loss_evals += 1
        self.gradient_evals += int(gradient)
        if math.isfinite(mean) and mean < self.best:
            self.best = mean
            self.best_x = None if x is None else np.array(x, dtype=float, copy=True)
            wall = time.perf_counter() - self.t0
            if mean <= self.next_level or wall >= self.next_wall:
                self.point(wall)
        if time.perf_counter() > self.deadline:
            raise Deadline()

    def finish(self):
        if math.isfinite(self.best):
            self.point(time.perf_counter() - self.t0)


class Counted(Shallow):
    """The numpy model of train_compare.py, with gradflow's counters and progress rule."""

    def __init__(self, x, y, m, progress):
        super().__init__(x, y, m)
        self.progress = progress
        self._gradient = False

    def _record(self, th, loss_sum):
        self.progress.record(loss_sum / self.n, th, self._gradient)

    def loss(self, th):
        self._gradient = False
        return super().loss(th)

    def grad(self, th):
        self._gradient = True
        return super().grad(th)

    def hess(self, th):
        self.progress.hessian_evals += 1
        return super().hess(th)


def scipy_run(model, th0, ode, opt, budget):
    from scipy.integrate import solve_ivp
    from scipy.optimize import minimize

    pr = model.progress
    pr.phase, pr.deadline = "flow", time.perf_counter() + budget
    try:
        solve_ivp(lambda t, th: -model.grad(th)[1], (0.0, 1e12), th0, method=ode,
                  jac=lambda t, th: -model.hess(th), rtol=1e-6, atol=1e-6)
    except Deadline:
        pass
    th1 = pr.best_x if pr.best_x is not None else th0
    pr.phase, pr.deadline = "refine", time.perf_counter() + budget
    start = th1
    kw = minimize_options(model, opt)
    try:
        while time.perf_counter() < pr.deadline:
            res = minimize(lambda th: model.grad(th), start.copy(), method=opt, **kw)
            start = pr.best_x if pr.best_x is not None else start
            if not res.success and res.nit == 0:
                break
    except Deadline:
        pass
    except (ValueError, np.linalg.LinAlgError):
        pass


def torch_run(x, y, m, th0, method, budget, pr):
    import torch

    torch.set_num_threads(1)
    X, Y = torch.tensor(x), torch.tensor(y.reshape(-1))
    th = torch.tensor(th0, requires_grad=True)

    def loss_fn():
        return torch_mean_loss(th, X, Y, m)

    if method == "adam":
        pr.phase = "flow"
        opt = torch.optim.Adam([th], lr=1e-3)
    else:
        pr.phase = "refine"
        opt = torch.optim.LBFGS([th], lr=1.0, max_iter=100, history_size=20, tolerance_grad=0.0,
                                tolerance_change=0.0, line_search_fn="strong_wolfe")
    pr.deadline = time.perf_counter() + budget

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        pr.record(float(loss.detach()), None, True)
        return loss

    try:
        while True:
            opt.step(closure)
    except Deadline:
        pass


def torch_warmup():
    """Imports torch and runs both optimisers once on a toy problem before the clock starts:
    their first step imports much of torch lazily (over a second)."""
    import torch

    torch.set_num_threads(1)
    a = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    for opt in [torch.optim.Adam([a], lr=1e-3), torch.optim.LBFGS([a], max_iter=2)]:
        def closure():
            opt.zero_grad()
            loss = (torch.sigmoid(a) + torch.nn.functional.softplus(a)).sum()
            loss.backward()
            return loss
        opt.step(closure)


def tool_version(method):
    if method.startswith("scipy"):
        import scipy
        return f"scipy {scipy.__version__}, numpy {np.__version__}"
    import torch
    return f"torch {torch.__version__}"


def run_task(task):
    method, key, data_file, out, budget = task
    if os.path.exists(out):
        return out, "skipped"
    z = np.load(data_file)
    x, y = z["x"], z["y"]
    th0 = np.array(key["init"], dtype=float)
    m = key["m"]
    if method.startswith("torch"):
        torch_warmup()
    else:
        import scipy.integrate  # noqa: F401  (imported before the clock starts: over a second)
        import scipy.optimize  # noqa: F401
    np.seterr(over="ignore")
    pr = Progress()
    model = Counted(x, y, m, pr)
    assert model.p == len(th0), (model.p, len(th0))
    # The same problem as gradflow's: the loss at the initial point agrees with its record.
    r = model.forward(th0)[4]
    l0 = float(r @ r) / model.n
    assert abs(l0 - key["init_loss"]) <= 1e-9 * max(1.0, l0), (method, key["teacher"], l0, key["init_loss"])
    pr.t0 = time.perf_counter()
    if method.startswith("scipy"):
        _, pipe = method.split("-", 1)
        ode, opt = pipe.split("+")
        scipy_run(model, th0.copy(), ode.upper() if ode == "bdf" else "Radau",
                  {"trust-exact": "trust-exact", "bfgs": "BFGS", "slsqp": "SLSQP"}[opt], budget)
    else:
        torch_run(x, y, m, th0.copy(), method.split("-")[1], 2 * budget, pr)
    pr.finish()
    rec = dict(method=method, tool=tool_version(method), teacher=key["teacher"], rho=key["rho"],
               seed=key["seed"], n_params=len(th0), loss=pr.best,
               total_time=time.perf_counter() - pr.t0, progress=pr.points)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rec, f)
    os.replace(tmp, out)
    return out, f"{pr.best:.3e} in {rec['total_time']:.1f} s"


def problems(study):
    """One entry per (teacher, rho, seed) with a gradflow record: its initial point and data.
    Only what the peers implement: shallow students d -> m (g) -> 1 of teachers with sampled
    data (not data sets, not the infinite-data loss); other problems are listed as skipped."""
    cfg = json.load(open(os.path.join(study, "study.json")))
    out, skipped = {}, set()
    if cfg.get("infinite_data"):
        sys.exit(f"{study}: an infinite-data study; the peers train on samples only")
    files = glob.glob(os.path.join(study, "tasks", "*", "rho*", "*", "seed*.json"))
    files += glob.glob(os.path.join(study, "tasks", "*", "rho*", "seed*.json"))
    for f in sorted(files):
        s = json.load(open(f))
        rec = s.get("record")
        if rec is None or not rec.get("progress"):
            continue
        key = (s["teacher"]["id"], s["rho"], s["seed"])
        if key in out:
            continue
        net = rec["network"]
        source = s["teacher"].get("source", {})
        if (len(net["layers"]) != 2 or net["layers"][1]["width"] != 1
                or net["layers"][0].get("activation") != "g"
                or net["layers"][0].get("activations")
                or "data" in source
                or not os.path.exists(os.path.join(study, "teachers", f"{key[0]}.json"))):
            skipped.add(key)
            continue
        out[key] = dict(teacher=key[0], rho=key[1], seed=key[2], init=rec["init"],
                        init_loss=rec["progress"][0]["loss"], m=net["layers"][0]["width"])
    for key in sorted(skipped - set(out)):
        print(f"skipped {key[0]} rho={key[1]} seed={key[2]}: not a shallow g student of a "
              f"sampled teacher", flush=True)
    return cfg, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study")
    ap.add_argument("--gradflow", required=True)
    ap.add_argument("--budget", type=float, default=3.0, help="seconds per phase")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    cfg, probs = problems(args.study)
    if not probs:
        sys.exit(f"{args.study}: no finished gradflow records with a progress curve")
    data_dir = tempfile.mkdtemp(prefix="bench_peers_")
    data = {}
    for teacher in sorted({k[0] for k in probs}):
        f = os.path.join(data_dir, f"{teacher}.npz")
        subprocess.run([args.gradflow, "data", "--net",
                        os.path.join(args.study, "teachers", f"{teacher}.json"),
                        "--inputs", "uniform", "-n", str(cfg["samples"]), "-o", f],
                       check=True, stdout=subprocess.DEVNULL)
        data[teacher] = f
    tasks = []
    for method in args.methods.split(","):
        for key, p in sorted(probs.items()):
            out = os.path.join(args.study, "peers", method,
                               f"{p['teacher']}_rho{p['rho']}_seed{p['seed']}.json")
            tasks.append((method, p, data[p["teacher"]], out, args.budget))
    print(f"{len(tasks)} peer runs ({len(probs)} problems)", flush=True)
    with multiprocessing.Pool(args.jobs) as pool:
        for i, (out, what) in enumerate(pool.imap_unordered(run_task, tasks)):
            print(f"[{i + 1}/{len(tasks)}] {os.path.relpath(out, args.study)}: {what}", flush=True)


if __name__ == "__main__":
    main()
