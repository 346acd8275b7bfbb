"""The PyTorch bridge: gradflow networks as ``torch.nn.Sequential`` (float64) and back.

Used only when torch is importable; otherwise both functions raise ``ImportError``.
"""


_SIMPLE = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "softplus": "Softplus",
    "gelu": "GELU",
    "silu": "SiLU",
    "selu": "SELU",
}


def _torch():
    try:
        import torch  # noqa: F401
    except Exception as e:  # pragma: no cover - a missing or broken install
        raise ImportError(f"gradflow.to_torch/from_torch need an importable PyTorch ({e})") from e
    return torch


def _g_module(torch):
    class G(torch.nn.Module):
        """The paper's activation g(x) = sigmoid(4x) + softplus(x)."""

        def forward(self, x):
            return torch.sigmoid(4 * x) + torch.nn.functional.softplus(x)

    return G()


def _activation_module(torch, name):
    if name == "identity":
        return None
    if name == "g":
        return _g_module(torch)
    if name in _SIMPLE:
        return getattr(torch.nn, _SIMPLE[name])()
    if name.startswith("leaky_relu"):
        alpha = float(name[len("leaky_relu(") : -1]) if "(" in name else 0.01
        return torch.nn.LeakyReLU(alpha)
    raise ValueError(f"to_torch: activation `{name}` has no PyTorch module here")


def to_torch(net, theta):
    """``torch.nn.Sequential`` (float64) computing the same function as ``net`` at ``theta``."""
    torch = _torch()
    modules = []
    for (width, act, bias), (w, b) in zip(net.layers, net.unflatten(theta)):
        lin = torch.nn.Linear(w.shape[1], width, bias=bias, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            if bias:
                lin.bias.copy_(torch.from_numpy(b))
        modules.append(lin)
        m = _activation_module(torch, act)
        if m is not None:
            modules.append(m)
    return torch.nn.Sequential(*modules)


def _name_of(torch, m):
    if type(m).__name__ == "G":
        return "g"
    if isinstance(m, torch.nn.LeakyReLU):
        return f"leaky_relu({m.negative_slope})"
    if isinstance(m, torch.nn.Identity):
        return "identity"
    for name, cls in _SIMPLE.items():
        if isinstance(m, getattr(torch.nn, cls)):
            if name == "softplus" and (m.beta != 1 or m.threshold != 20):
                break
            if name == "gelu" and m.approximate != "none":
                break
            return name
    raise ValueError(
        f"from_torch: {type(m).__name__} is not an activation gradflow knows "
        "(Linear layers each followed by at most one of ReLU, Tanh, Sigmoid, Softplus, GELU, "
        "SiLU, SELU, LeakyReLU, Identity or gradflow's G)"
    )


def from_torch(module):
    """``(net, theta)`` from a ``torch.nn.Sequential`` of ``Linear`` layers, each followed by
    at most one activation both libraries know."""
    torch = _torch()
    import numpy as np

    from ._gradflow import Net

    if not isinstance(module, torch.nn.Sequential):
        raise ValueError("from_torch: expected a torch.nn.Sequential")
    items = list(module)
    layers, params, input_dim = [], [], None
    i = 0
    while i < len(items):
        lin = items[i]
        if not isinstance(lin, torch.nn.Linear):
            raise ValueError(f"from_torch: item {i} is {type(lin).__name__}, expected Linear")
        if input_dim is None:
            input_dim = lin.in_features
        act = "identity"
        if i + 1 < len(items) and not isinstance(items[i + 1], torch.nn.Linear):
            act = _name_of(torch, items[i + 1])
            i += 1
        i += 1
        w = lin.weight.detach().to(torch.float64).cpu().numpy()
        b = None if lin.bias is None else lin.bias.detach().to(torch.float64).cpu().numpy()
        layers.append((lin.out_features, act, b is not None))
        params.append((np.ascontiguousarray(w), b))
    if input_dim is None:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    net = Net(input_dim, layers)
    return net, net.flatten(params)


