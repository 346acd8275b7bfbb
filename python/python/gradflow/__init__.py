"""gradflow: train small neural networks to machine precision and recover unknown networks.

The engine is Rust (``gradflow._gradflow``); this package adds the docstrings generated from
the engine's defaults and the optional PyTorch bridge.

    >>> import gradflow
    >>> t = gradflow.paper_teacher(2, 2)
    >>> x, y = t.sample(500)
    >>> net = gradflow.Net(2, [(4, "g", True), (1, "identity", True)])
    >>> res = gradflow.train(net, net.init(0), x, y, maxtime_ode=2, maxtime_optim=2)
"""

from ._gradflow import (  # noqa: F401
    Net,
    Recovery,
    Teacher,
    TrainResult,
    __version__,
    add_neuron,
    certify,
    deep_teacher,
    embed_teacher,
    loss_slice,
    option_defaults,
    paper_teacher,
    prune,
    read_data,
    recover,
    remove_neuron,
    report,
    split_neuron,
    study,
    train,
    train_classifier,
    train_seeds,
    trajectory_distance,
)
from ._torch import from_torch, to_torch  # noqa: F401

__all__ = [
    "Net",
    "Recovery",
    "Teacher",
    "TrainResult",
    "add_neuron",
    "certify",
    "deep_teacher",
    "embed_teacher",
    "loss_slice",
    "from_torch",
    "option_defaults",
    "paper_family",
    "paper_teacher",
    "prune",
    "read_data",
    "recover",
    "remove_neuron",
    "report",
    "split_neuron",
    "study",
    "to_torch",
    "train",
    "train_classifier",
    "train_seeds",
    "trajectory_distance",
]


def paper_family(activation="g"):
    """The paper's 150 teachers (SPEC §7.4): ``d ∈ {2, 4, 8, 16, 32}``, ``r ∈ {2, 4, 8}``, ten
    per cell, ordered by ``d``, ``r``, index, as a list of ``Teacher``."""
    return [
        paper_teacher(d, r, i, activation)
        for d in (2, 4, 8, 16, 32)
        for r in (2, 4, 8)
        for i in range(10)
    ]


def _options_doc():
    lines = ["Options (keyword arguments; the CLI's flags with underscores):", ""]
    for name, default, help_ in option_defaults():
        lines.append(f"    {name} = {default!r}")
        lines.append(f"        {help_}")
    return "\n".join(lines)


_OPTIONS = _options_doc()

_TRAIN_DOC = f"""train(net, theta0, x=None, y=None, *, loss=None, weights=None, infinite_data=None, seed=0, eval_threads=1, progress=None, **options) -> TrainResult

Trains ``net`` from ``theta0`` on ``(x, y)``: the gradient-flow ODE, then second-order
refinement from its best point (SPEC §4–§5). ``x`` is ``(N, d)``, ``y`` ``(N, k)`` or
``(N,)``; ``loss`` "mse" or "nll" (default: nll for a softmax output, else mse).
``infinite_data=teacher`` (a ``Teacher`` or a ``(net, theta)`` pair) instead of ``(x, y)``
trains on the population loss ``E[(f − f*)²]`` under ``x ~ N(0, I)``, integrated exactly
(one hidden layer, one output, smooth activations or relu throughout; the flow's time axis is that of the mean
loss, as for samples). Ctrl-C stops
the run at its best point and raises ``KeyboardInterrupt``; an unknown option raises
``TypeError``, a bad value ``ValueError``. ``progress``: a callable receiving event dicts
(``{{"event": "step", "phase", "iteration", "loss", "gnorm", "wall", …}}`` at most ten times a
second, ``run_done``, ``fallback``, ``message``), or ``True`` for a progress line per run.
``eval_threads``: threads of each loss, gradient and Hessian evaluation on samples (for one
large run; results agree with one thread to round-off).

{_OPTIONS}
"""

_TRAIN_SEEDS_DOC = f"""train_seeds(net, x=None, y=None, seeds=[0], *, threads=None, eval_threads=1, loss=None, weights=None, infinite_data=None, progress=None, **options) -> list[TrainResult]

Trains one student per seed (initial point drawn from the seed with ``init``), in parallel on
``threads`` workers (default: all cores) with the GIL released; on ``(x, y)`` or, with
``infinite_data=teacher``, on the population loss (see ``train``). ``eval_threads`` > 1 splits
each evaluation of one run over that many of the workers (for fewer seeds than cores).

{_OPTIONS}
"""

_RECOVER_DOC = f"""recover(x, y, *, activation="g", students=None, width=None, rho=None, layers=None, teacher=None, threads=None, progress=None, **options) -> Recovery

Expand-and-Cluster (SPEC §8) on the data ``(x, y)`` queried from an unknown network: trains
the students (``width``, ``layers`` or ``rho`` × the teacher's widths; none: the expansion
phase chooses), clusters their neurons, reconstructs and fine-tunes the network.
``teacher=(net, theta)`` adds the comparison (``Recovery.metrics``). Keywords also take the
recovery options of ``gradflow recover`` (``gamma``, ``beta``, ``first_seed``,
``probe_widths``, ``finetune_time``, …) and the training options below.

{_OPTIONS}
"""


def _progress_printer():
    """Progress as lines on stderr (a tqdm bar per call when tqdm is installed)."""
    import sys

    try:
        from tqdm.auto import tqdm  # noqa: F401

        bar = tqdm(total=None, unit="step", leave=False)
    except ImportError:
        bar = None

    def show(e):
        if e["event"] == "step":
            text = f"seed {e['seed']} {e['phase']}: iteration {e['iteration']}, loss {e['loss']:.3e}, {e['wall']:.1f} s"
            if bar is not None:
                bar.set_description_str(text, refresh=True)
            else:
                print(text, file=sys.stderr, end="\r", flush=True)
        elif e["event"] in ("run_done", "message", "task_done", "run_failed", "fallback"):
            text = e.get("text") or ", ".join(f"{k} {v}" for k, v in e.items() if k != "event")
            (bar.write if bar is not None else (lambda t: print(t, file=sys.stderr)))(f"{e['event']}: {text}")

    return show


def _wrap(f, doc):
    def wrapper(*args, **kwargs):
        p = kwargs.get("progress")
        if p is True:
            kwargs["progress"] = _progress_printer()
        elif p is False:
            kwargs["progress"] = None
        return f(*args, **kwargs)

    wrapper.__name__ = f.__name__
    wrapper.__qualname__ = f.__name__
    wrapper.__doc__ = doc
    wrapper.__wrapped__ = f
    return wrapper


train = _wrap(train, _TRAIN_DOC)
train_seeds = _wrap(train_seeds, _TRAIN_SEEDS_DOC)
recover = _wrap(recover, _RECOVER_DOC)
study = _wrap(
    study,
    """study(config, out, *, shard=None, threads=None, progress=None) -> dict

Runs a study (a grid of teachers × ρ × seeds, SPEC §10) from a TOML path or a dict of the same
keys, into ``out``; resumable (finished tasks are skipped) and shardable (``shard=(i, n)``).
Returns ``{"tasks", "ran", "skipped", "failed"}``; Ctrl-C raises ``KeyboardInterrupt`` with
the finished tasks saved.""",
)
