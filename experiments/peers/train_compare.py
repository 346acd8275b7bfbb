"""Loss versus wall time: gradflow against scipy and PyTorch on the demo problem (issue 3).

Same data (30 000 samples of the paper teacher d=4, r=4, activation g), same student (4-16-1,
g), same initial parameters (gradflow's Glorot draw of the seed, read from its record), same
machine, one thread each, and the same mean loss (1/N)·Σ(f(x)−y)².

Peers:
  scipy solve_ivp BDF / Radau on dθ/dt = −∇L_sum with the analytic Hessian as Jacobian
  (hand-derived numpy code for one hidden layer), for half of the budget, then
  scipy.optimize.minimize trust-exact / BFGS / SLSQP for the other half (tolerances off);
  PyTorch float64 Adam (lr 1e-3 and 1e-2) and L-BFGS (strong Wolfe) on the full batch.
Every peer tracks the best loss it ever evaluated (as gradflow does) with its wall time.
Budgets B (default 5, 15, 60 s): gradflow `--maxtime-ode B/2 --maxtime-optim B/2`; the scipy
pipelines the same split; PyTorch runs once for max(B) and is read off its curve at each B.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


class Deadline(Exception):
    pass


def g_act(z):
    """g(z) = sigmoid(4z) + softplus(z) with first and second derivatives."""
    s4 = 1.0 / (1.0 + np.exp(-4.0 * z))
    s1 = 1.0 / (1.0 + np.exp(-z))
    sp = np.logaddexp(0.0, z)
    v = s4 + sp
    d1 = 4.0 * s4 * (1.0 - s4) + s1
    d2 = 16.0 * s4 * (1.0 - s4) * (1.0 - 2.0 * s4) + s1 * (1.0 - s1)
    return v, d1, d2


class Shallow:
    """Sum loss, gradient and exact Hessian of d → m (g) → 1 in gradflow's flat layout."""

    def __init__(self, x, y, m):
        self.x = x
        self.y = y.reshape(-1)
        self.n, self.d = x.shape
        self.m = m
        self.xt = np.hstack([x, np.ones((self.n, 1))])  # inputs with the bias column
        self.p = m * self.d + m + m + 1
        self.best = (math.inf, None)
        self.curve = []
        self.t0 = time.perf_counter()
        self.deadline = math.inf

    def unpack(self, th):
        m, d = self.m, self.d
        w = th[: m * d].reshape(m, d)
        b = th[m * d : m * d + m]
        a = th[m * d + m : m * d + 2 * m]
        c = th[-1]
        return w, b, a, c

    def _record(self, th, loss_sum):
        mean = loss_sum / self.n
        if mean < self.best[0]:
            self.best = (mean, th.copy())
            self.curve.append((time.perf_counter() - self.t0, mean))
        if time.perf_counter() > self.deadline:
            raise Deadline()

    def forward(self, th):
        w, b, a, c = self.unpack(th)
        z = self.x @ w.T + b
        h, d1, d2 = g_act(z)
        r = h @ a + c - self.y
        return z, h, d1, d2, r

    def loss(self, th):
        r = self.forward(th)[4]
        ls = float(r @ r)
        self._record(th, ls)
        return ls

    def grad(self, th):
        w, b, a, c = self.unpack(th)
        z, h, d1, d2, r = self.forward(th)
        ls = float(r @ r)
        self._record(th, ls)
        q = 2.0 * r[:, None] * d1 * a  # N×m
        gw = q.T @ self.xt  # m×(d+1)
        ga = 2.0 * h.T @ r
        gc = 2.0 * r.sum()
        return ls, np.concatenate([gw[:, :-1].ravel(), gw[:, -1], ga, [gc]])

    def hess(self, th):
        w, b, a, c = self.unpack(th)
        m, d, n = self.m, self.d, self.n
        z, h, d1, d2, r = self.forward(th)
        # Jacobian of f: columns in flat order.
        jw = (d1 * a)[:, :, None] * self.x[:, None, :]  # N×m×d
        jb = d1 * a
        J = np.hstack([jw.reshape(n, m * d), jb, h, np.ones((n, 1))])
        H = 2.0 * J.T @ J
        # Second-order terms 2·Σ r ∇²f.
        iw = lambda j, k: j * d + k
        ib = lambda j: m * d + j
        ia = lambda j: m * d + m + j
        rd2 = r[:, None] * d2 * a  # N×m
        rd1 = r[:, None] * d1  # N×m
        for j in range(m):
            blk = 2.0 * (self.xt * rd2[:, j : j + 1]).T @ self.xt  # (d+1)²
            idx = [iw(j, k) for k in range(d)] + [ib(j)]
            H[np.ix_(idx, idx)] += blk
            cross = 2.0 * self.xt.T @ rd1[:, j]  # d+1
            H[idx, ia(j)] += cross
            H[ia(j), idx] += cross
        return H


def scipy_ode(model, th0, ode, seconds):
    """solve_ivp on the gradient flow for `seconds`; returns its best point and curve."""
    from scipy.integrate import solve_ivp

    model.best, model.curve = (math.inf, None), []
    model.t0 = time.perf_counter()
    model.deadline = model.t0 + seconds
    try:
        solve_ivp(
            lambda t, th: -model.grad(th)[1],
            (0.0, 1e12),
            th0,
            method=ode,
            jac=lambda t, th: -model.hess(th),
            rtol=1e-6,
            atol=1e-6,
        )
    except Deadline:
        pass
    th1 = model.best[1] if model.best[1] is not None else th0
    return th1, model.best[0], list(model.curve)


def minimize_options(model, opt):
    """scipy.optimize.minimize keywords of `opt` (trust-exact, BFGS, SLSQP) with the stopping
    tolerances off, so that only the time budget ends it."""
    kw = dict(jac=True)
    if opt == "trust-exact":
        kw["hess"] = model.hess
        kw["options"] = dict(gtol=0.0, maxiter=10**9)
    elif opt == "BFGS":
        kw["options"] = dict(gtol=0.0, maxiter=10**9)
    elif opt == "SLSQP":
        kw["options"] = dict(ftol=0.0, maxiter=10**9)
    return kw


def scipy_refine(model, th1, opt, seconds):
    """scipy.optimize.minimize from th1 for `seconds` (tolerances off); returns the best loss."""
    from scipy.optimize import minimize

    model.best, model.curve = (math.inf, None), []
    model.t0 = time.perf_counter()
    model.deadline = model.t0 + seconds
    fun = lambda th: model.grad(th)
    kw = minimize_options(model, opt)
    try:
        minimize(fun, th1, method=opt, **kw)
    except Deadline:
        pass
    return model.best[0]


def torch_mean_loss(th, X, Y, m):
    """Mean squared error of d -> m (g) -> 1 at the flat parameters `th` (gradflow's layout)."""
    import torch

    d = X.shape[1]
    w = th[: m * d].reshape(m, d)
    b = th[m * d : m * d + m]
    a = th[m * d + m : m * d + 2 * m]
    c = th[-1]
    z = X @ w.T + b
    h = torch.sigmoid(4 * z) + torch.nn.functional.softplus(z)
    r = h @ a + c - Y
    return (r * r).mean()


def torch_run(x, y, m, th0, method, lr, budget):
    import torch

    torch.set_num_threads(1)
    X = torch.tensor(x)
    Y = torch.tensor(y.reshape(-1))
    th = torch.tensor(th0, requires_grad=True)

    def loss_fn():
        return torch_mean_loss(th, X, Y, m)

    best, curve, t0 = math.inf, [], time.perf_counter()
    if method == "adam":
        opt = torch.optim.Adam([th], lr=lr)
    else:
        opt = torch.optim.LBFGS(
            [th], lr=1.0, max_iter=100, history_size=20, tolerance_grad=0.0,
            tolerance_change=0.0, line_search_fn="strong_wolfe",
        )
    while time.perf_counter() - t0 < budget:
        def closure():
            nonlocal best
            opt.zero_grad()
            l = loss_fn()
            l.backward()
            v = float(l.detach())
            if v < best:
                best = v
                curve.append((time.perf_counter() - t0, v))
            return l

        opt.step(closure)
    return best, curve


def at(curve, t):
    vals = [l for (s, l) in curve if s <= t]
    return min(vals) if vals else math.nan


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gradflow", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--budgets", default="5,15,60")
    ap.add_argument("--peers", default="scipy,torch")
    args = ap.parse_args()
    budgets = [float(b) for b in args.budgets.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    os.makedirs(args.workdir, exist_ok=True)
    gf = args.gradflow
    t = os.path.join(args.workdir, "teacher.json")
    data = os.path.join(args.workdir, "data.npz")
    subprocess.run([gf, "teacher", "--d", "4", "--r", "4", "-o", t], check=True)
    subprocess.run([gf, "data", "--net", t, "-n", "30000", "-o", data], check=True)
    z = np.load(data)
    x, y = z["x"], z["y"]
    m = 16
    results = []
    for seed in seeds:
        row = {"seed": seed, "gradflow": {}, "peers": {}}
        th0 = None
        for B in budgets:
            out = os.path.join(args.workdir, f"gf_seed{seed}_B{int(B)}")
            subprocess.run(
                [gf, "solve", "--data", data, "--width", str(m), "--seeds", str(seed),
                 "--threads", "1", "--maxtime-ode", str(B / 2), "--maxtime-optim", str(B / 2),
                 "--quiet", "-o", out],
                check=True, stdout=subprocess.DEVNULL,
            )
            rec = json.load(open(os.path.join(out, f"seed_{seed}.json")))
            row["gradflow"][str(int(B))] = rec["loss"]
            th0 = np.array(rec["init"])
            print(f"seed {seed} B={B:g}s gradflow {rec['loss']:.3e}", flush=True)
        model = Shallow(x, y, m)
        # Check the analytic derivatives once against finite differences.
        rng = np.random.default_rng(0)
        v = rng.standard_normal(model.p)
        eps = 1e-6
        g = model.grad(th0)[1]
        fd = (model.loss(th0 + eps * v) - model.loss(th0 - eps * v)) / (2 * eps)
        assert abs(fd - g @ v) <= 1e-5 * max(1.0, abs(fd)), (fd, g @ v)
        hv = model.hess(th0) @ v
        fdh = (model.grad(th0 + eps * v)[1] - model.grad(th0 - eps * v)[1]) / (2 * eps)
        assert np.max(np.abs(hv - fdh)) <= 1e-4 * max(1.0, np.max(np.abs(fdh))), np.max(np.abs(hv - fdh))
        if "scipy" in args.peers:
            for ode in ["BDF", "Radau"]:
                for B in budgets:
                    # Phase 1 once per budget, shared by the three refiners.
                    th1, l1, _ = scipy_ode(model, th0.copy(), ode, B / 2)
                    for opt in ["trust-exact", "BFGS", "SLSQP"]:
                        name = f"scipy {ode} + {opt}"
                        best = min(l1, scipy_refine(model, th1.copy(), opt, B / 2))
                        row["peers"].setdefault(name, {})[str(int(B))] = best
                        print(f"seed {seed} B={B:g}s {name} {best:.3e}", flush=True)
        if "torch" in args.peers:
            for method, lr in [("adam", 1e-3), ("adam", 1e-2), ("lbfgs", 1.0)]:
                name = f"torch {method}" + (f" lr={lr:g}" if method == "adam" else "")
                best, curve = torch_run(x, y, m, th0.copy(), method, lr, max(budgets))
                row["peers"][name] = {str(int(B)): at(curve, B) for B in budgets}
                print(f"seed {seed} {name}: " + ", ".join(
                    f"{B:g}s {at(curve, B):.3e}" for B in budgets), flush=True)
        results.append(row)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    # Table.
    print()
    for row in results:
        print(f"seed {row['seed']}")
        hdr = f"{'method':<28}" + "".join(f"{str(int(B)) + ' s':>12}" for B in budgets)
        print(hdr)
        print(f"{'gradflow':<28}" + "".join(f"{row['gradflow'][str(int(B))]:>12.2e}" for B in budgets))
        for name, vals in row["peers"].items():
            print(f"{name:<28}" + "".join(f"{vals[str(int(B))]:>12.2e}" for B in budgets))
        wins = all(
            row["gradflow"][str(int(B))] < min(v[str(int(B))] for v in row["peers"].values())
            for B in budgets
        )
        print(f"gradflow lowest at every budget: {wins}")


if __name__ == "__main__":
    main()
