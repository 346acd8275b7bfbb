"""Time loss+gradient and the full Hessian of the benchmark networks with PyTorch (float64,
one thread) and JAX (jit, float64), next to `gradflow eval --repeat`, on the same files.

Usage (normally through run_eval_speed.sh):
    python eval_speed.py --gradflow PATH --workdir DIR [--repeat K] [--shapes 4-16-1,...]

Prints a table of median seconds per call and the ratios peer / gradflow.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def median_time(f, repeat, warmup=1):
    for _ in range(warmup):
        f()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def load_net(path):
    with open(path) as fh:
        net = json.load(fh)
    layers = []
    for spec, par in zip(net["layers"], net["params"]):
        w = np.array(par["weight"], dtype=np.float64)
        b = np.array(par["bias"], dtype=np.float64) if spec.get("bias", True) else None
        layers.append((spec["activation"], w, b))
    return layers


def flatten(layers):
    """Layer shapes and the flat parameter vector in gradflow's layout (W row-major, then b)."""
    shapes = []
    flat = []
    for act, w, b in layers:
        shapes.append((act, w.shape, None if b is None else b.shape))
        flat.append(w.ravel())
        if b is not None:
            flat.append(b)
    return shapes, np.concatenate(flat)


def make_loss(shapes, X, Y, act_fn):
    """Mean squared error of the MLP; works for torch tensors and jax arrays alike."""

    def loss(theta):
        a = X
        i = 0
        for act, ws, bs in shapes:
            nw = ws[0] * ws[1]
            w = theta[i : i + nw].reshape(ws)
            i += nw
            z = a @ w.T
            if bs is not None:
                z = z + theta[i : i + bs[0]]
                i += bs[0]
            a = act_fn(act, z)
        return ((a - Y) ** 2).sum() / X.shape[0]

    return loss


def torch_times(layers, x, y, repeat, hessian):
    import torch

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    shapes, flat = flatten(layers)
    theta0 = torch.tensor(flat)

    def act_fn(name, z):
        if name == "g":
            return torch.sigmoid(4 * z) + torch.nn.functional.softplus(z)
        if name == "identity":
            return z
        if name == "tanh":
            return torch.tanh(z)
        raise ValueError(name)

    loss = make_loss(shapes, torch.tensor(x), torch.tensor(y), act_fn)

    theta = theta0.clone().requires_grad_(True)

    def lg():
        if theta.grad is not None:
            theta.grad = None
        l = loss(theta)
        l.backward()
        return l

    out = {"loss_gradient_s": median_time(lg, repeat)}
    out["loss"] = float(loss(theta0))
    if hessian:
        from torch.autograd.functional import hessian as thess

        out["hessian_s"] = median_time(lambda: thess(loss, theta0), max(1, repeat // 10), warmup=0)
    return out


def jax_times(layers, x, y, repeat, hessian):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    shapes, flat = flatten(layers)
    theta0 = jnp.asarray(flat)

    def act_fn(name, z):
        if name == "g":
            return jax.nn.sigmoid(4 * z) + jax.nn.softplus(z)
        if name == "identity":
            return z
        if name == "tanh":
            return jnp.tanh(z)
        raise ValueError(name)

    loss = make_loss(shapes, jnp.asarray(x), jnp.asarray(y), act_fn)

    vg = jax.jit(jax.value_and_grad(loss))
    out = {"loss_gradient_s": median_time(lambda: jax.block_until_ready(vg(theta0)), repeat, warmup=2)}
    out["loss"] = float(loss(theta0))
    if hessian:
        hs = jax.jit(jax.hessian(loss))
        out["hessian_s"] = median_time(lambda: jax.block_until_ready(hs(theta0)), max(1, repeat // 10), warmup=2)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gradflow", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--shapes", default="4-16-1,8-32-1,32-32-1,16-64-32-1")
    ap.add_argument("--hessian-shapes", default="4-16-1,8-32-1")
    ap.add_argument("--out", default=None)
    ap.add_argument(
        "--activation",
        default="g",
        help="hidden activation of the students (g or tanh; the files' g layers are rewritten)",
    )
    ap.add_argument(
        "--gradflow-threads",
        default="1",
        help="comma-separated thread counts of gradflow eval --threads (torch and jax stay at 1)",
    )
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    gf = args.gradflow
    rows = []
    for shape in args.shapes.split(","):
        widths = [int(t) for t in shape.split("-")]
        d = widths[0]
        wd = os.path.join(args.workdir, shape if args.activation == "g" else f"{shape}-{args.activation}")
        os.makedirs(wd, exist_ok=True)
        teacher = os.path.join(wd, "teacher.json")
        student = os.path.join(wd, "student.json")
        data = os.path.join(wd, "data.npz")
        subprocess.run([gf, "teacher", "--d", str(d), "--r", "4", "--seed", "1", "-o", teacher], check=True)
        subprocess.run([gf, "data", "--net", teacher, "-n", "30000", "--seed", "1", "-o", data], check=True)
        subprocess.run(
            [gf, "teacher", "--widths", ",".join(map(str, widths)), "--seed", "2", "-o", student],
            check=True,
        )
        if args.activation != "g":
            with open(student) as fh:
                net = json.load(fh)
            for layer in net["layers"]:
                if layer.get("activation") == "g":
                    layer["activation"] = args.activation
            with open(student, "w") as fh:
                json.dump(net, fh)
        hess = shape in args.hessian_shapes.split(",")
        g = {}
        for th in args.gradflow_threads.split(","):
            cmd = [gf, "eval", "--net", student, "--data", data, "--repeat", str(args.repeat), "--threads", th]
            if hess:
                cmd.append("--hessian")
            rep = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            g[th] = {"loss_gradient_s": rep["timing"]["loss_gradient_s"], "hessian_s": rep["timing"].get("hessian_s"), "loss": rep["loss"]}
        z = np.load(data)
        layers = load_net(student)
        t = torch_times(layers, z["x"], z["y"], args.repeat, hess)
        j = jax_times(layers, z["x"], z["y"], args.repeat, hess)
        for name, r in (("torch", t), ("jax", j)):
            for gt in g.values():
                assert abs(r["loss"] - gt["loss"]) <= 1e-10 * max(1.0, abs(gt["loss"])), (name, r["loss"], gt["loss"])
        row = {"shape": shape, "gradflow": g, "torch": t, "jax": j}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)

    print()
    ths = args.gradflow_threads.split(",")
    head = "".join(f"{'gradflow/' + t + 't':>13}" for t in ths)
    ratios = "".join(f"{'torch/gf' + t + 't':>12}" for t in ths)
    print(f"{'network':<12} {'what':<14}{head} {'torch':>11} {'jax':>11}{ratios} {'jax/gf1t':>9}")
    for row in rows:
        for what in ("loss_gradient_s", "hessian_s"):
            gs = [row["gradflow"][t].get(what) for t in ths]
            if gs[0] is None:
                continue
            t = row["torch"].get(what)
            j = row["jax"].get(what)
            cols = "".join(f"{x:13.3e}" for x in gs)
            rs = "".join(f"{t / x:12.1f}" for x in gs)
            print(f"{row['shape']:<12} {what[:-2]:<14}{cols} {t:11.3e} {j:11.3e}{rs} {j / gs[0]:9.1f}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
