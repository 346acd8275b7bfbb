"""The Python package end to end: derivatives, training, recovery, interruption, bad input."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import gradflow

ACTIVATIONS = ["g", "tanh", "sigmoid", "softplus", "gelu", "silu", "leaky_relu(0.1)", "identity"]


def small_problem(activation="tanh", bias=True, outputs=2, depth=2, n=40, seed=0):
    rng = np.random.default_rng(seed)
    layers = [(3, activation, bias)] * (depth - 1) + [(outputs, "identity", bias)]
    net = gradflow.Net(2, layers)
    x = rng.normal(size=(n, 2))
    y = rng.normal(size=(n, outputs))
    theta = rng.normal(size=net.n_params) * 0.7
    return net, theta, x, y


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("depth", [2, 3])
def test_gradient_and_hessian_match_finite_differences(activation, bias, depth):
    net, theta, x, y = small_problem(activation, bias, depth=depth)
    g = net.gradient(theta, x, y)
    h = net.hessian(theta, x, y)
    eps = 1e-6
    for i in range(net.n_params):
        e = np.zeros(net.n_params)
        e[i] = eps
        fd = (net.loss(theta + e, x, y) - net.loss(theta - e, x, y)) / (2 * eps)
        assert abs(fd - g[i]) <= 1e-6 * max(1.0, abs(g[i])), (i, fd, g[i])
        col = (net.gradient(theta + e, x, y) - net.gradient(theta - e, x, y)) / (2 * eps)
        np.testing.assert_allclose(h[:, i], col, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    ev = net.hessian_spectrum(theta, x, y)
    assert np.all(np.diff(ev) >= 0)
    np.testing.assert_allclose(ev, np.linalg.eigvalsh(h), atol=1e-9)


def test_mixed_layers_have_exact_derivatives_and_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    net = gradflow.Net(2, [(3, ["g", "tanh", "leaky_relu(0.1)"], True), (1, "identity", True)])
    assert net.layers[0][1] == ["g", "tanh", "leaky_relu(0.1)"]
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(30, 1))
    theta = rng.normal(size=net.n_params)
    g = net.gradient(theta, x, y)
    eps = 1e-6
    for i in range(net.n_params):
        e = np.zeros(net.n_params)
        e[i] = eps
        fd = (net.loss(theta + e, x, y) - net.loss(theta - e, x, y)) / (2 * eps)
        assert abs(fd - g[i]) <= 1e-6 * max(1.0, abs(g[i]))
    net.save(tmp_path / "mixed.json", theta)
    net2, theta2 = gradflow.Net.load(tmp_path / "mixed.json")
    assert net2 == net and "tanh" in repr(net2)
    np.testing.assert_array_equal(theta2, theta)
    with pytest.raises(ValueError):
        gradflow.Net(2, [(3, ["g", "tanh"], True), (1, "identity", True)])


def test_mean_loss_predict_and_layouts():
    net, theta, x, y = small_problem(outputs=1)
    pred = net.predict(theta, x)
    assert pred.shape == (40, 1)
    assert net.loss(theta, x, y) == pytest.approx(np.mean((pred - y) ** 2), rel=1e-12)
    # y as (N,), Fortran-ordered and integer inputs are converted.
    assert net.loss(theta, np.asfortranarray(x), y[:, 0]) == pytest.approx(net.loss(theta, x, y), rel=1e-14)
    xi = np.arange(80).reshape(40, 2) % 3
    assert np.isfinite(net.loss(theta, xi, y))
    params = net.unflatten(theta)
    assert params[0][0].shape == (3, 2) and params[0][1].shape == (3,)
    np.testing.assert_array_equal(net.flatten(params), theta)
    w = np.ones(40)
    w[:20] = 3.0
    assert np.isfinite(net.loss(theta, x, y, weights=w))


def test_save_and_load_round_trip(tmp_path):
    net, theta, x, y = small_problem()
    path = tmp_path / "net.json"
    net.save(path, theta)
    net2, theta2 = gradflow.Net.load(path)
    assert net2 == net and net2.layers == net.layers
    np.testing.assert_array_equal(theta2, theta)
    assert net.init(3).shape == (net.n_params,)
    np.testing.assert_array_equal(net.init(3), net.init(3))


def test_train_reaches_machine_precision_on_a_small_teacher(tmp_path):
    t = gradflow.paper_teacher(2, 2)
    x, y = t.sample(300)
    rng = np.random.default_rng(1)
    theta0 = t.theta + 0.1 * rng.normal(size=t.theta.shape)
    res = gradflow.train(t.net, theta0, x, y, maxtime_ode=10, maxtime_optim=10)
    assert res.loss <= 1e-20, res
    assert res.loss <= res.ode_loss
    assert res.trajectory.shape[1] == 4 and res.loss_curve.shape[1] == 4
    d = res.to_dict()
    assert d["loss"] == res.loss and d["ode"]["method"] == "rodas5p"
    res.save(tmp_path / "run.json")
    assert (tmp_path / "run.json").stat().st_size > 0
    # The end state is certified, with its evidence recomputed at the returned point.
    assert res.end_kind == "zero_loss" and res.end_state["kind"] == "zero_loss"
    assert res.end_state["loss"] <= 1e-20 and res.end_state["lambda_min"] is not None
    assert d["end_state"]["kind"] == "zero_loss" and res.channel_jump is None
    # Matrix-free Levenberg–Marquardt steps (truncated CG on Gauss–Newton products) from the
    # same start reach zero loss too; they need the Gauss–Newton model of `lm`.
    cg = gradflow.train(t.net, theta0, x, y, maxtime_ode=1, maxtime_optim=10, optim="lm",
                        tr_subproblem="cg")
    assert cg.loss <= 1e-20, cg
    with pytest.raises(ValueError, match="tr_subproblem"):
        gradflow.train(t.net, theta0, x, y, optim="newton-tr", tr_subproblem="cg")


def test_ros34pw2_takes_its_jacobian_from_a_subset_of_the_samples():
    t = gradflow.paper_teacher(2, 2)
    x, y = t.sample(300)
    rng = np.random.default_rng(2)
    theta0 = t.theta + 0.1 * rng.normal(size=t.theta.shape)
    runs = [gradflow.train(t.net, theta0, x, y, ode="ros34pw2", jacobian_samples=k,
                           maxiterations_ode=40, maxtime_optim=0.01) for k in (50, 0)]
    for res, k in zip(runs, (50, 0)):
        assert res.to_dict()["flow"]["jacobian_samples"] == k
        assert res.ode_loss < t.net.loss(theta0, x, y) and 0 < res.ode_t < float("inf")
    # Another Jacobian, other steps (the same flow to its tolerance).
    assert not np.array_equal(runs[0].ode_x, runs[1].ode_x)


def test_end_states_of_a_narrow_student_and_the_certificate_options():
    # One neuron for a teacher of two converges to a minimum above the floor.
    t = gradflow.paper_teacher(2, 2)
    x, y = t.sample(300)
    net = gradflow.Net(2, [(1, "g", True), (1, "identity", True)])
    res = gradflow.train(net, net.init(5), x, y, maxtime_ode=5, maxtime_optim=5)
    e = res.end_state
    assert e["kind"] == "minimum", e
    assert e["loss"] > 1e-6 and e["gnorm"] <= 1e-10
    assert e["lambda_min"] >= -1e-9 * e["lambda_max"]
    assert abs(e["loss"] - net.loss(res.x, x, y)) <= 1e-12 * e["loss"]
    # A floor above that loss certifies it as zero loss; stopping on channels changes nothing here.
    res2 = gradflow.train(net, net.init(5), x, y, maxtime_ode=5, maxtime_optim=5,
                          loss_floor=1.0, on_channel="stop")
    assert res2.end_kind == "zero_loss"
    with pytest.raises(ValueError, match="on_channel"):
        gradflow.train(net, net.init(5), x, y, on_channel="leap")
    # The same certificate from the function, at the returned point.
    c = gradflow.certify(net, res.x, x, y, trajectory=res.trajectory)
    assert c["kind"] == "minimum" and abs(c["loss"] - e["loss"]) <= 1e-15
    # The trust region's subproblems by Cholesky factorisations (the default from 512
    # parameters) reach the same minimum.
    res3 = gradflow.train(net, net.init(5), x, y, maxtime_ode=5, maxtime_optim=5,
                          optim="newton-tr", tr_subproblem="cholesky")
    assert res3.end_kind == "minimum" and abs(res3.loss - e["loss"]) <= 1e-12 * e["loss"]
    assert res3.to_dict()["optim"]["method"] == "newton-tr"
    with pytest.raises(ValueError, match="tr_subproblem"):
        gradflow.train(net, net.init(5), x, y, tr_subproblem="qr")
    with pytest.raises(ValueError, match="option tr_model"):
        gradflow.train(net, net.init(5), x, y, tr_model="exactly")


def test_regularisers_time_scales_surgery_and_slices():
    t = gradflow.paper_teacher(2, 2)
    x, y = t.sample(200)
    net = gradflow.Net(2, [(3, "g", True), (1, "identity", True)])
    theta0 = net.init(1)
    radius = 0.5 * np.linalg.norm(theta0)
    res = gradflow.train(net, theta0, x, y, maxiterations_ode=40, maxtime_optim=0,
                         maxnorm=radius, merge=(1, 0, 1, 0.1), tau_params=np.full(net.n_params, 0.5))
    d = res.to_dict()
    assert d["regularisers"]["maxnorm"] == radius and d["regularisers"]["merge"]["layer"] == 1
    assert d["flow"]["tau_params"] == [0.5] * net.n_params
    assert d["data_loss"] <= res.loss
    with pytest.raises(ValueError, match="maxnorm"):
        gradflow.train(net, theta0, x, y, maxnorm=-1.0)
    # Surgery keeps the function; pruning undoes a split.
    net2, th2 = gradflow.split_neuron(net, theta0, 1, 2, 0.25)
    assert net2.n_params == net.n_params + 4
    np.testing.assert_allclose(net2.predict(th2, x), net.predict(theta0, x), rtol=0, atol=1e-13)
    net3, th3, actions = gradflow.prune(net2, th2)
    assert net3 == net and actions[0]["action"] == "duplicate"
    np.testing.assert_allclose(th3, theta0, rtol=0, atol=1e-15)
    tn, tth = t.net, t.theta
    z = gradflow.embed_teacher(net2, th2, tn, tth)
    assert net2.loss(z, x, y) < 1e-26
    # A slice through the start and the embedded teacher: zero at alpha = 1.
    v1 = z - th2
    v2 = np.random.default_rng(0).normal(size=v1.shape)
    s = gradflow.loss_slice(net2, th2, v1, v2, x, y, alpha=(0.0, 1.0), beta=(-0.1, 0.1), points=(3, 3))
    assert s["loss"].shape == (3, 3) and s["loss"][1, 2] < 1e-26


def test_trajectories_keep_their_parameters_and_have_distances():
    t = gradflow.paper_teacher(2, 2)
    x, y = t.sample(200)
    net = gradflow.Net(2, [(3, "g", True), (1, "identity", True)])
    runs = [gradflow.train(net, net.init(s), x, y, maxiterations_ode=30, maxtime_optim=0,
                           trajectory_x=True) for s in (1, 1, 2)]
    tx = runs[0].trajectory_x
    assert tx.shape == (runs[0].trajectory.shape[0], net.n_params)
    # (max_t = inf: no ODE time limit, as None.)
    assert gradflow.train(net, net.init(1), x, y, maxiterations_ode=5, maxtime_optim=0,
                          max_t=float("inf")).trajectory_x is None
    same = gradflow.trajectory_distance(runs[0], runs[1])
    assert same == {"hausdorff": 0.0, "mean": 0.0, "end": 0.0}
    other = gradflow.trajectory_distance(runs[0], runs[2].trajectory_x)
    assert 0 < other["mean"] <= other["hausdorff"]
    assert other["end"] == pytest.approx(np.linalg.norm(tx[-1] - runs[2].trajectory_x[-1]), rel=1e-12)
    with pytest.raises(ValueError, match="trajectory_x"):
        gradflow.trajectory_distance(gradflow.train(net, net.init(1), x, y, maxiterations_ode=5,
                                                    maxtime_optim=0), runs[0])
    with pytest.raises(ValueError, match="parameters of the second trajectory"):
        gradflow.trajectory_distance(tx, tx[:, :-1])
    with pytest.raises(ValueError, match=r"\(n, P\) array"):
        gradflow.trajectory_distance(tx[0], tx)


def test_train_seeds_runs_every_seed_in_order():
    t = gradflow.paper_teacher(2, 2)
    x, y = t.sample(200)
    net = gradflow.Net(2, [(4, "g", True), (1, "identity", True)])
    rs = gradflow.train_seeds(net, x, y, [3, 1, 2], threads=2, maxiterations_ode=20, maxiterations_optim=5)
    assert [r.seed for r in rs] == [3, 1, 2]
    np.testing.assert_array_equal(rs[1].init, net.init(1))


def test_eval_threads_split_one_run_and_agree_with_one_thread():
    t = gradflow.paper_teacher(2, 2)
    x, y = t.sample(3000)
    net = gradflow.Net(2, [(4, "g", True), (1, "identity", True)])
    budget = dict(maxiterations_ode=15, maxtime_ode=600, maxiterations_optim=3, maxtime_optim=600)
    one = gradflow.train(net, net.init(0), x, y, **budget)
    two = gradflow.train(net, net.init(0), x, y, eval_threads=2, **budget)
    assert abs(one.loss - two.loss) <= 1e-9 * one.loss
    rs = gradflow.train_seeds(net, x, y, [0], threads=2, eval_threads=2, **budget)
    assert abs(rs[0].loss - one.loss) <= 1e-9 * one.loss
    with pytest.raises(ValueError, match="eval_threads"):
        gradflow.train(net, net.init(0), x, y, eval_threads=0, **budget)
    theta = net.init(1)
    np.testing.assert_allclose(net.gradient(theta, x, y, threads=2), net.gradient(theta, x, y), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net.hessian(theta, x, y, threads=3), net.hessian(theta, x, y), rtol=1e-12, atol=1e-14)
    assert net.loss(theta, infinite_data=t, threads=2) == net.loss(theta, infinite_data=t)
    with pytest.raises(ValueError, match="threads"):
        net.loss(theta, x, y, threads=0)


def test_recover_finds_a_small_tanh_teacher(tmp_path):
    teacher = gradflow.Net(2, [(2, "tanh", True), (1, "identity", True)])
    theta = np.array([1.0, -0.5, 0.3, -0.8, 1.2, -0.4, 1.5, -1.1, 0.2])
    rng = np.random.default_rng(0)
    x = rng.uniform(-np.sqrt(3), np.sqrt(3), size=(400, 2))
    y = teacher.predict(theta, x)
    rec = gradflow.recover(
        x, y, activation="tanh", students=4, width=4, threads=1, teacher=(teacher, theta),
        maxtime_ode=600, maxiterations_ode=400, maxtime_optim=600, maxiterations_optim=200,
        finetune_time=600, gamma=0.5, prune_support=1.0, prune_time=2.0,
    )
    assert rec.widths == [2], rec.report["layers"][0]["students"]
    assert rec.report["loss"] < 1e-20
    assert rec.metrics["layers"][0]["teacher_width"] == 2
    # Pruning tries only the neurons with members from fewer than all 4 students.
    layer = rec.report["layers"][0]
    assert len(layer["support"]) == 2 + sum(t["removed"] for t in layer["pruned"])
    assert all(t["support"] < 4 for t in layer["pruned"])
    rec.write(tmp_path / "rec")
    assert (tmp_path / "rec" / "recovered.json").exists()
    # With out=, the students are saved as they finish and a second call reuses them.
    kw = dict(activation="tanh", students=4, width=4, threads=1, maxtime_ode=600,
              maxiterations_ode=400, maxtime_optim=600, maxiterations_optim=200,
              finetune_time=600, gamma=0.5)
    events = []
    first = gradflow.recover(x, y, out=tmp_path / "resumable", **kw)
    assert (tmp_path / "resumable" / "recovered.json").exists()
    assert len(list((tmp_path / "resumable" / "students").glob("*.json"))) == 4
    again = gradflow.recover(x, y, out=tmp_path / "resumable", progress=events.append, **kw)
    assert sum("reusing the saved run" in e.get("text", "") for e in events) == 4, events
    assert again.report["loss"] == first.report["loss"]


def test_a_trained_classifier_is_recovered_from_its_logits_with_a_constant_input_masked(tmp_path):
    # Three blobs in 2-D plus a constant third input (like the corners of digits).
    rng = np.random.default_rng(3)
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    labels = np.arange(300) % 3
    x = np.hstack([centres[labels] + rng.normal(size=(300, 2)), np.full((300, 1), 0.5)])
    net, theta, report = gradflow.train_classifier(
        x, labels, hidden=[2], activation="tanh", lr=1e-2, seed=1
    )
    assert net.shape == "3-2-3" and report["validation_accuracy"] > 0.8, report
    logits = net.logit_net()
    q = logits.predict(theta, x)
    p = net.predict(theta, x)
    np.testing.assert_allclose(np.exp(q) / np.exp(q).sum(1, keepdims=True), p, atol=1e-14)
    rec = gradflow.recover(
        x, q, activation="tanh", students=4, width=4, threads=1, teacher=(logits, theta),
        maxtime_ode=600, maxiterations_ode=400, maxtime_optim=600, maxiterations_optim=200,
        finetune_time=600, gamma=0.5,
    )
    assert rec.report["masked_inputs"] == [2]
    assert rec.widths == [2], rec.report["layers"][0]["students"]
    assert rec.report["rmse"] < 1e-8
    assert rec.metrics["layers"][0]["input_cosine_mean"] < 1e-8


def test_read_data_reads_idx_files(tmp_path):
    import gzip
    import struct

    images = struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 2, 2) + bytes([0, 255, 51, 102, 1, 2, 3, 4])
    labels = struct.pack(">BBBBI", 0, 0, 8, 1, 2) + bytes([1, 0])
    (tmp_path / "t-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
    (tmp_path / "t-labels-idx1-ubyte").write_bytes(labels)
    x, y = gradflow.read_data(f"{tmp_path}/t-images-idx3-ubyte.gz,{tmp_path}/t-labels-idx1-ubyte")
    np.testing.assert_array_equal(x[0], [0.0, 1.0, 0.2, 0.4])
    np.testing.assert_array_equal(y, [[0.0, 1.0], [1.0, 0.0]])
    (tmp_path / "bad-images-idx3-ubyte").write_bytes(images[:-3])
    with pytest.raises(ValueError, match="truncated IDX file"):
        gradflow.read_data(str(tmp_path / "bad-images-idx3-ubyte"))


def test_help_lists_every_option_with_its_default():
    doc = gradflow.train.__doc__
    for name, default, _ in gradflow.option_defaults():
        assert f"{name} = {default!r}" in doc, name
    assert "maxtime_ode = 180.0" in doc and "maxtime_optim = 120.0" in doc


CALLS = {
    "train": "gradflow.train(net, net.init(0), x, y, maxtime_ode=120, maxtime_optim=120)",
    "train_seeds": "gradflow.train_seeds(net, x, y, [0, 1, 2, 3], threads=2, maxtime_ode=120, maxtime_optim=120)",
    "recover": "gradflow.recover(x, y, width=16, students=4, threads=2, maxtime_ode=120, maxtime_optim=120)",
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_sigint_raises_keyboard_interrupt_within_a_second(call):
    script = textwrap.dedent(
        """
        import signal, sys, time
        import gradflow
        # As in an interactive session (a background job inherits SIGINT ignored).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        t = gradflow.paper_teacher(4, 4)
        x, y = t.sample(30000)
        net = gradflow.Net(4, [(16, "g", True), (1, "identity", True)])
        print("ready", flush=True)
        try:
            CALL
            print("finished", flush=True)
        except KeyboardInterrupt as e:
            now = time.monotonic()
            kept = getattr(e, "result", None)
            if isinstance(kept, list):
                kept = ",".join(f"{r.ode_stop}" for r in kept) or "-"
            elif kept is not None:
                kept = f"{kept.ode_stop}:{kept.loss:.3e}"
            print("interrupted", now, kept, flush=True)
        """
    ).replace("CALL", CALLS[call])
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=30)
    assert out.startswith("interrupted"), out
    elapsed = float(out.split()[1]) - sent
    assert elapsed <= 1.0, f"{call}: KeyboardInterrupt {elapsed:.2f} s after SIGINT"
    # The runs stopped at their best points ride on the exception (train, train_seeds).
    kept = out.split()[2]
    if call == "train":
        assert kept.startswith("interrupted:"), out
    elif call == "train_seeds":
        assert "interrupted" in kept, out


BAD_CALLS = [
    lambda: gradflow.Net(2, [(3, "nope", True)]),
    lambda: gradflow.Net(0, [(3, "g", True)]),
    lambda: gradflow.Net(2, []),
    lambda: gradflow.Net(2, [(0, "g", True)]),
    lambda: gradflow.Net(-1, [(3, "g", True)]),
    lambda: gradflow.Net(2, [("a", "g", True)]),
    lambda: gradflow.Net.load("/nonexistent/net.json"),
]


def _net_calls():
    net, theta, x, y = small_problem(outputs=1)
    nan_x = x.copy()
    nan_x[3, 1] = np.nan
    return [
        lambda: net.loss(theta[:-1], x, y),
        lambda: net.loss(theta, x[:, :1], y),
        lambda: net.loss(theta, x, y[:10]),
        lambda: net.loss(theta, nan_x, y),
        lambda: net.loss(theta, x, y, loss="hinge"),
        lambda: net.loss(theta, x, y, weights=np.ones(3)),
        lambda: net.loss(theta * np.nan, x, y),
        lambda: net.loss("theta", x, y),
        lambda: net.loss(theta, "x", y),
        lambda: net.gradient(theta.reshape(1, -1), x, y),
        lambda: net.hessian(theta, np.zeros((0, 2)), np.zeros((0, 1))),
        lambda: net.predict(theta, np.ones((5, 3))),
        lambda: net.init(0, kind="he"),
        lambda: net.unflatten(theta[:3]),
        lambda: net.flatten([(np.ones((3, 2)), None)]),
        lambda: net.flatten([1, 2]),
        lambda: net.save("/dev/null/dir/net.json", theta),
        lambda: gradflow.train(net, theta, x, y, maxtime_odee=1),
        lambda: gradflow.train(net, theta, x, y, ode="euler"),
        lambda: gradflow.train(net, theta, x, y, maxtime_ode=-1),
        lambda: gradflow.train(net, theta, x, y, maxtime_ode=float("inf")),
        lambda: gradflow.train(net, theta, x, y, max_t=float("nan")),
        lambda: gradflow.train(net, theta, x, y, maxtime_ode="fast"),
        lambda: gradflow.train(net, theta, x, y, optim="sgd"),
        lambda: gradflow.train(net, theta, x, y, max_memory_optim=1e-9),
        lambda: gradflow.train_seeds(net, x, y, [0], threads=0),
        lambda: gradflow.train_seeds(net, x, y, [-1]),
        lambda: gradflow.paper_teacher(0, 2),
        lambda: gradflow.paper_teacher(2, 2, activation="nope"),
        lambda: gradflow.paper_teacher(2, 2).sample(10, inputs="cauchy"),
        lambda: gradflow.recover(x, y, students=0),
        lambda: gradflow.recover(x, y, gamma=2.0, width=2),
        lambda: gradflow.recover(x, y, rho=2),
        lambda: gradflow.recover(x, y[:5], width=2),
        lambda: gradflow.recover(x, y, width=2, bogus=1),
    ]


@pytest.mark.parametrize("i", range(len(BAD_CALLS) + 35))
def test_bad_arguments_raise_python_exceptions_never_panics(i):
    calls = BAD_CALLS + _net_calls()
    assert len(calls) == len(BAD_CALLS) + 35, "keep the parametrize range equal to the calls"
    if i >= len(calls):
        pytest.skip("no such call")
    with pytest.raises((ValueError, TypeError, OSError, OverflowError)) as info:
        calls[i]()
    assert str(info.value), "the message must say what is wrong"


def test_torch_round_trip():
    try:
        import torch
    except Exception as e:  # a missing or broken install (e.g. CUDA libraries absent)
        pytest.skip(f"torch is not importable: {e}")
    net, theta, x, y = small_problem(activation="g", outputs=1)
    module = gradflow.to_torch(net, theta)
    out = module(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, net.predict(theta, x), rtol=1e-12, atol=1e-12)
    net2, theta2 = gradflow.from_torch(module)
    assert net2 == net
    np.testing.assert_array_equal(theta2, theta)
    with pytest.raises(ValueError):
        gradflow.from_torch(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 1)))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([os.path.dirname(__file__)]))


def test_progress_callable_receives_event_dicts():
    t = gradflow.paper_teacher(2, 2)
    x, y = t.sample(200)
    events = []
    gradflow.train_seeds(t.net, x, y, [0, 1], threads=1, progress=events.append,
                         maxiterations_ode=50, maxtime_ode=600, maxiterations_optim=5, maxtime_optim=600)
    kinds = {e["event"] for e in events}
    assert "run_done" in kinds, events
    done = [e for e in events if e["event"] == "run_done"]
    assert sorted(e["seed"] for e in done) == [0, 1]


def test_study_and_report_from_a_dict(tmp_path):
    config = {
        "name": "tiny", "rhos": [1], "students": 2, "samples": 200, "recover": False,
        "family": {"dims": [2], "widths": [2], "teachers": 1},
        "flow": {"maxtime_ode": 600.0, "maxiterations_ode": 100},
        "refine": {"maxtime_optim": 600.0, "maxiterations_optim": 20},
    }
    out = tmp_path / "study"
    run = gradflow.study(config, out, threads=1)
    assert run["tasks"] == 2 and run["ran"] == 2
    again = gradflow.study(config, out, threads=1)
    assert again["ran"] == 0 and again["skipped"] == 2
    written = gradflow.report([out], tmp_path / "report")
    assert any(str(p).endswith("summary.md") for p in written)
    with pytest.raises(ValueError):
        gradflow.study({"name": "bad", "rhos": [0]}, tmp_path / "bad")


def test_a_benchmark_study_compares_methods_by_time_to_target(tmp_path):
    """A `methods` axis from Python: every method from the same initial point, progress curves
    in the records, and the report's benchmark tables and profiles."""
    config = {
        "name": "bench", "rhos": [2], "students": 2, "samples": 200,
        "family": {"dims": [2], "widths": [2], "teachers": 1},
        "flow": {"maxtime_ode": 600.0, "maxiterations_ode": 50},
        "refine": {"maxtime_optim": 600.0, "maxiterations_optim": 20},
        "methods": [
            {"name": "rodas5p+newton-tr"},
            {"name": "adam", "ode": "adam", "optim": "none", "lr": 1e-3},
        ],
    }
    out = tmp_path / "study"
    run = gradflow.study(config, out, threads=1)
    assert run["tasks"] == 4 and run["ran"] == 4
    written = [str(p) for p in gradflow.report([out], tmp_path / "report")]
    assert any(p.endswith("targets.csv") for p in written)
    assert any(p.endswith("performance_time_10xbest.svg") for p in written)
    import csv
    rows = list(csv.DictReader(open(tmp_path / "report" / "targets.csv")))
    assert {r["method"] for r in rows} == {"rodas5p+newton-tr", "adam"}
    # On every problem some method reaches 10 x the best loss of that problem.
    best = [r for r in rows if r["target"] == "10xbest" and r["reached"] == "true"]
    assert {(r["seed"]) for r in best} == {"0", "1"}
    # The progress curve of a run from Python: non-increasing loss, growing counters.
    teacher = gradflow.paper_teacher(2, 2)
    x, y = teacher.sample(200, seed=1)
    student = gradflow.Net(2, [(4, "g", True), (1, "identity", True)])
    r = gradflow.train(student, student.init(0), x, y, maxtime_ode=1.0, maxtime_optim=1.0)
    p = r.progress
    assert p.shape[1] == 5 and p.shape[0] >= 2
    assert np.all(np.diff(p[:, 1]) <= 0) and np.all(np.diff(p[:, 3]) >= 0)
    assert p[-1, 1] == r.loss
    with pytest.raises(ValueError, match="two methods"):
        bad = dict(config, methods=[{"name": "adam", "ode": "adam"}] * 2)
        gradflow.study(bad, tmp_path / "bad")


def test_infinite_data_loss_derivatives_and_training():
    """`infinite_data=teacher`: zero at the teacher, agrees with many Gaussian samples, the
    gradient matches differences, training converges; misuse raises."""
    teacher = gradflow.paper_teacher(2, 2)
    net, theta_t = teacher.net, teacher.theta
    assert abs(net.loss(theta_t, infinite_data=teacher)) < 1e-12
    student = gradflow.Net(2, [(3, "g", True), (1, "identity", True)])
    theta = student.init(seed=1)
    pop = student.loss(theta, infinite_data=(net, theta_t))
    x, y = teacher.sample(400_000, seed=3, inputs="gaussian")
    mc = (student.predict(theta, x) - y) ** 2
    assert abs(pop - mc.mean()) < 5 * mc.std() / np.sqrt(len(mc))
    g = student.gradient(theta, infinite_data=teacher)
    h = student.hessian(theta, infinite_data=teacher)
    assert h.shape == (student.n_params, student.n_params)
    eps = 1e-6
    for i in range(student.n_params):
        e = np.zeros_like(theta)
        e[i] = eps
        lp = student.loss(theta + e, infinite_data=teacher)
        lm = student.loss(theta - e, infinite_data=teacher)
        fd = (lp - lm) / (2 * eps)
        assert abs(fd - g[i]) < 1e-6 * (1 + abs(g[i]))
    r = gradflow.train(student, theta, infinite_data=teacher, maxtime_ode=3, maxtime_optim=3)
    assert r.loss < 1e-3 * pop, r
    runs = gradflow.train_seeds(
        student, seeds=[0, 1], infinite_data=teacher, maxtime_ode=1, maxtime_optim=1
    )
    assert len(runs) == 2
    # Certificates and slices on the population loss: the teacher is a zero-loss point at
    # the objective's resolution (its loss is round-off, not below the sample floor).
    c = gradflow.certify(net, theta_t, infinite_data=teacher)
    assert c["kind"] == "zero_loss" and 0 < c["loss_resolution"] < 1e-10, c
    v2 = np.random.default_rng(1).standard_normal(student.n_params)
    s = gradflow.loss_slice(student, theta, g, v2, infinite_data=teacher, alpha=(-1.0, 1.0),
                            beta=(0.0, 1.0), points=(3, 2))
    assert abs(s["loss"][0, 1] - pop) <= 1e-12 * pop
    with pytest.raises(ValueError, match="not both"):
        gradflow.certify(net, theta_t, x[:5], y[:5], infinite_data=teacher)
    with pytest.raises(ValueError, match="not both"):
        student.loss(theta, x[:5], y[:5], infinite_data=teacher)
    with pytest.raises(ValueError, match="mean squared error"):
        student.loss(theta, infinite_data=teacher, loss="nll")
    with pytest.raises(TypeError, match="infinite_data"):
        student.loss(theta)
    with pytest.raises(TypeError, match="Teacher or a"):
        student.loss(theta, infinite_data=3)
    relu = gradflow.Net(2, [(3, "relu", True), (1, "identity", True)])
    with pytest.raises(ValueError, match="not smooth"):
        relu.loss(relu.init(seed=0), infinite_data=teacher)
    # relu throughout: closed forms; zero at the teacher, Monte Carlo elsewhere.
    relu_t = gradflow.Net(2, [(2, "relu", True), (1, "identity", True)])
    theta_rt = relu_t.init(seed=4)
    assert abs(relu_t.loss(theta_rt, infinite_data=(relu_t, theta_rt))) < 1e-13
    theta_r = relu.init(seed=5)
    pop = relu.loss(theta_r, infinite_data=(relu_t, theta_rt))
    xs = np.random.default_rng(0).standard_normal((400_000, 2))
    mc = (relu.predict(theta_r, xs) - relu_t.predict(theta_rt, xs)) ** 2
    assert abs(pop - mc.mean()) < 5 * mc.std() / np.sqrt(len(mc))


def test_the_readme_tour_is_the_example_file_and_runs(tmp_path):
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(root, "examples", "python", "tour.py"), encoding="utf-8") as f:
        tour = f.read()
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    body = tour[tour.index("import gradflow"):]
    assert "```python\n" + body + "```" in readme, "README's tour differs from examples/python/tour.py"
    out = subprocess.run([sys.executable, os.path.abspath(os.path.join(root, "examples", "python", "tour.py"))],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "end=zero_loss" in out.stdout and "success (rmse <= 1e-14) True" in out.stdout, out.stdout
    assert (tmp_path / "tour-recovery").is_dir()
