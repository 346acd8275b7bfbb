"""Independent check of gradflow's end-state certificates (issue 16 acceptance).

For every run record given, the network is rebuilt in JAX (float64) from the record's
architecture and parameters — no gradflow code — and on the data file:

- the mean loss is recomputed and compared with ``end_state.loss``;
- the mean gradient (JAX autodiff) and the Hessian's extreme eigenvalues (``jax.hessian`` +
  ``numpy.linalg.eigvalsh``) are recomputed at the returned point;
- each claim is re-derived from those numbers with the certificate's thresholds (read from the
  record's configuration): zero_loss ⇔ loss ≤ floor; minimum ⇒ gnorm ≤ tol and
  λ_min ≥ −tol·λ_max; saddle ⇒ gnorm ≤ tol and λ_min < −tol·λ_max; channel ⇒ the bundle's
  neurons are found in the parameters: pairwise cosine distance of their input vectors (with
  bias) below the threshold, outgoing weights of both signs cancelling by at least the
  threshold; unconverged ⇒ gnorm above the tolerance.

Usage: python check_certificates.py DATA.npz RECORD.json... [--csv OUT.csv]
Exit status 1 if any claim fails.
"""

import argparse
import json
import sys

import numpy as np

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402


def act(name, z):
    if name == "g":
        return jax.nn.sigmoid(4 * z) + jax.nn.softplus(z)
    if name == "tanh":
        return jnp.tanh(z)
    if name == "identity":
        return z
    if name == "sigmoid":
        return jax.nn.sigmoid(z)
    if name == "softplus":
        return jax.nn.softplus(z)
    raise SystemExit(f"activation {name} not in this checker")


def unpack(network, theta):
    """Per layer (W rows × cols, b or None, activation) from the flat SPEC §2 layout."""
    layers, off, prev = [], 0, network["input_dim"]
    for l in network["layers"]:
        k = l["width"]
        w = theta[off:off + k * prev].reshape(k, prev)
        off += k * prev
        b = None
        if l.get("bias", True):
            b = theta[off:off + k]
            off += k
        layers.append((w, b, l["activation"] if isinstance(l["activation"], str) else json.dumps(l["activation"])))
        prev = k
    assert off == len(theta), (off, len(theta))
    return layers


def forward(network, theta, x):
    prev = network["input_dim"]
    off = 0
    a = x
    n_layers = len(network["layers"])
    for i, l in enumerate(network["layers"]):
        k = l["width"]
        w = theta[off:off + k * prev].reshape(k, prev)
        off += k * prev
        z = a @ w.T
        if l.get("bias", True):
            z = z + theta[off:off + k]
            off += k
        name = l["activation"] if isinstance(l["activation"], str) else "?"
        a = act(name, z) if i + 1 < n_layers or name != "identity" else z
        prev = k
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("records", nargs="+")
    ap.add_argument("--csv")
    args = ap.parse_args()
    d = np.load(args.data)
    keys = sorted(d.files)
    xk = "x" if "x" in d.files else keys[0]
    yk = "y" if "y" in d.files else keys[1]
    X, Y = jnp.asarray(d[xk], dtype=jnp.float64), jnp.asarray(d[yk], dtype=jnp.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    y_rms = float(jnp.sqrt(jnp.mean(Y ** 2)))
    rows, failures = [], 0
    for path in args.records:
        rec = json.load(open(path))
        e = rec.get("end_state")
        if e is None:
            print(f"{path}: no certificate")
            failures += 1
            continue
        net = rec["network"]
        theta = jnp.asarray(rec["x"], dtype=jnp.float64)
        opts = {"loss_floor": 1e-20, "gnorm_tol": 1e-10, "eig_rel_tol": 1e-9,
                "channel_cosine_distance": 1e-2, "channel_min_cancellation": 2.0}
        opts.update((rec.get("config") or {}).get("certify") or {})
        loss_fn = jax.jit(lambda t: jnp.mean(jnp.sum((forward(net, t, X) - Y) ** 2, axis=1)))
        loss = float(loss_fn(theta))
        g = np.asarray(jax.grad(loss_fn)(theta))
        gnorm = float(np.max(np.abs(g)))
        h = np.asarray(jax.hessian(loss_fn)(theta))
        ev = np.linalg.eigvalsh(0.5 * (h + h.T))
        lmin, lmax = float(ev[0]), float(ev[-1])
        kind = e["kind"]
        checks = {
            # The residuals r (mean r² = L) are differences of outputs of size |y|, each
            # with a round-off of ~1e-16·|y| in either program: the two losses may differ by
            # ~2·sqrt(L)·1e-16·|y|·(a few), far more than ε·L once L < 1e-20.
            "loss": abs(loss - e["loss"]) <= 1e-6 * abs(loss) + 1e-14 * np.sqrt(abs(loss)) * y_rms + 1e-32,
        }
        if kind == "zero_loss":
            checks["floor"] = loss <= opts["loss_floor"]
        elif kind in ("minimum", "saddle"):
            checks["stationary"] = gnorm <= opts["gnorm_tol"]
            at_min = lmin >= -opts["eig_rel_tol"] * abs(lmax)
            checks["curvature"] = at_min if kind == "minimum" else not at_min
        elif kind == "unconverged":
            checks["moving"] = gnorm > opts["gnorm_tol"]
        elif kind == "channel":
            layers = unpack(net, np.asarray(theta))
            ok = bool(e.get("channels"))
            for b in e.get("channels", []):
                l = b["layer"] - 1
                w, bias, _ = layers[l]
                nxt = layers[l + 1][0]
                v = [np.concatenate([w[i], [bias[i]]]) if bias is not None else w[i] for i in b["neurons"]]
                a = [nxt[:, i] for i in b["neurons"]]
                # Odd and even activations compare neurons through their sign symmetry.
                for j, f in enumerate(b.get("flipped", [])):
                    if f:
                        v[j] = -v[j]
                        if layers[l][2] not in ("square",):
                            a[j] = -a[j]
                cos = [1 - v[p] @ v[q] / np.linalg.norm(v[p]) / np.linalg.norm(v[q])
                       for p in range(len(v)) for q in range(p + 1, len(v))]
                # Linked: every neuron within the threshold of another one of the bundle.
                linked = all(min(1 - v[p] @ v[q] / np.linalg.norm(v[p]) / np.linalg.norm(v[q])
                                 for q in range(len(v)) if q != p) < opts["channel_cosine_distance"]
                             for p in range(len(v)))
                cancel = sum(np.linalg.norm(ai) for ai in a) - np.linalg.norm(sum(a))
                signs = {np.sign(ai @ a[0]) for ai in a}
                ok = ok and linked and cancel >= opts["channel_min_cancellation"] and len(signs) == 2
                ok = ok and abs(max(cos) - b["cosine_distance"]) <= 1e-9
            checks["pair"] = ok
            checks["falling"] = (e.get("power_law") or {}).get("exponent", 0) > 0
        claim_ok = all(checks.values())
        failures += not claim_ok
        # The certificate's own λ and gnorm agree with the recomputation.
        agree = (e.get("lambda_min") is None
                 or abs(e["lambda_min"] - lmin) <= 1e-6 * abs(lmax))
        rows.append((path, kind, e["loss"], loss, gnorm, lmin, lmax, claim_ok, agree))
        print(f"{path}: {kind:<12} loss {loss:.3e} gnorm {gnorm:.2e} λ_min {lmin:+.2e} "
              f"λ_max {lmax:.2e}  {'OK' if claim_ok else 'FAILED ' + str(checks)}"
              f"{'' if agree else '  (λ_min differs from the record: ' + str(e.get('lambda_min')) + ')'}")
    if args.csv:
        with open(args.csv, "w") as f:
            f.write("record,kind,loss_gradflow,loss_jax,gnorm_jax,lambda_min_jax,lambda_max_jax,claim_true,lambda_agrees\n")
            for r in rows:
                f.write(",".join(str(v) for v in r) + "\n")
    print(f"{len(rows)} certificates checked, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
