"""float32 stays float32: a full GAN training step never makes a float64 array.

A silent float64 (a Python float turned into a float64 array, ``where(c, 1.0, s)``,
a float64 constant) doubles memory traffic and usually goes unnoticed because the
result is cast back later.  Two complementary nets catch it:

* **Graph level** (NumPy backend): every ``Function.apply`` is wrapped, so each op's
  output — in the forward pass and in the backward pass, where gradients are made
  by the same ops — and every array an op saves for its backward are checked; then
  the leaf gradients, parameters, buffers and optimiser state.
* **Array level** (the CuPy stand-in backend): every device array the engine creates
  passes through ``standin.ndarray.__init__``; wrapping it sees *all* arrays,
  including temporaries inside an op's arithmetic that never leave the op.

Each runs one full step of the DCGAN loop (D on real + fake, then G, with Adam) on
a tiny DCGAN-style pair (Linear + BatchNorm1d, ConvTranspose2d, BatchNorm2d, Conv2d,
LeakyReLU, Tanh) and on an MLP GAN.
"""
import traceback

import numpy as np
import pytest

import tinygan
import tinygan.nn as nn
from tinygan import backend as B
from tinygan.autograd import Function
from tinygan.ops import softplus
from tinygan.optim import Adam


def _tiny_dcgan():
    nz, c = 8, 16
    G = nn.Sequential(
        nn.Linear(nz, c * 2 * 2, bias=False), nn.BatchNorm1d(c * 2 * 2), nn.ReLU(),
        nn.Unflatten(1, (c, 2, 2)),
        nn.ConvTranspose2d(c, 8, 4, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Tanh())                      # → (N, 1, 8, 8)
    D = nn.Sequential(
        nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(8, c, 4, 2, 1, bias=False), nn.BatchNorm2d(c), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(c * 2 * 2, 1))
    return G, D, (nz,), (1, 8, 8)


def _tiny_mlp():
    G = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    D = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                      nn.Linear(16, 1))
    return G, D, (2,), (2,)


MODELS = {"dcgan": _tiny_dcgan, "mlp": _tiny_mlp}


def _setup(model, batch=4):
    G, D, zshape, xshape = MODELS[model]()
    opt_g = Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = tinygan.Tensor(B.rand((batch,) + xshape) * 2.0 - 1.0)

    def step():
        """One iteration of the DCGAN loop (non-saturating loss from logits)."""
        z = tinygan.Tensor(B.randn((batch,) + zshape))
        fake = G(z)
        opt_d.zero_grad()
        loss_d = softplus(-D(real)).mean() + softplus(D(fake.detach())).mean()
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = softplus(-D(fake)).mean()
        loss_g.backward()
        opt_g.step()
        return loss_d, loss_g

    return G, D, (opt_g, opt_d), real, step


def _arrays_in(obj, depth=0):
    """Arrays held by an op instance or a state dict (one level of containers)."""
    values = obj.values() if isinstance(obj, dict) else obj
    for v in values:
        if B.is_array(v):
            yield v
        elif depth == 0 and isinstance(v, (list, tuple, dict)):
            yield from _arrays_in(v, depth + 1)


@pytest.mark.parametrize("model", list(MODELS))
def test_training_step_graph_is_float32(model, monkeypatch):
    G, D, opts, real, step = _setup(model)
    seen, bad = [], []
    original = Function.apply.__func__

    def checked_apply(cls, *inputs, **params):
        out = original(cls, *inputs, **params)
        seen.append(cls.__name__)
        if out.dtype.kind == "f" and out.dtype != "float32":
            bad.append(f"{cls.__name__} output {out.shape} {out.dtype}")
        ctx = out._ctx  # saved arrays (columns, normalised input, ...) when recorded
        if ctx is not None:
            for a in _arrays_in(vars(ctx)):
                if a.dtype.kind == "f" and a.dtype != "float32":
                    bad.append(f"{cls.__name__} saves a {a.dtype} array of shape {a.shape}")
        return out

    monkeypatch.setattr(Function, "apply", classmethod(checked_apply))
    loss_d, loss_g = step()
    step()  # the second step also exercises Adam with existing state

    assert len(seen) > 20, "the wrapper saw too few ops: Function.apply was bypassed?"
    assert {"_Linear", "Add"} <= set(seen)  # the layers and the losses went through apply
    assert not bad, "float64 in the training step:\n  " + "\n  ".join(sorted(set(bad)))
    assert loss_d.dtype == loss_g.dtype == "float32"
    for name, p in list(G.named_parameters()) + list(D.named_parameters()):
        assert p.dtype == "float32", name
        assert p.grad is not None and p.grad.dtype == "float32", f"{name}.grad"
    for name, b in list(G.named_buffers()) + list(D.named_buffers()):
        if b.dtype.kind == "f":
            assert b.dtype == "float32", name
    for opt in opts:
        for state in opt.state.values():
            for a in _arrays_in(state):
                assert a.dtype == "float32", f"{type(opt).__name__} state {a.shape} {a.dtype}"


def _engine_frame():
    """The innermost stack frame inside the tinygan package (not the stand-in itself)."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        path = frame.filename.replace("\\", "/")
        if "/tinygan/" in path and "/testing/" not in path:
            return f"{path.split('/tinygan/')[-1]}:{frame.lineno} ({frame.name}: {frame.line})"
    return "outside tinygan"


@pytest.mark.parametrize("model", list(MODELS))
def test_training_step_makes_no_float64_temporary(model, monkeypatch):
    from tinygan.testing import standin

    B.set_backend("standin")  # the autouse fixture of conftest restores numpy afterwards
    tinygan.manual_seed(0)
    *_, step = _setup(model)
    created, bad = [0], {}
    original_init = standin.ndarray.__init__

    def checked_init(self, data):
        original_init(self, data)
        created[0] += 1
        if data.dtype.kind == "f" and data.dtype != "float32":
            bad.setdefault(_engine_frame(), f"{data.dtype} {data.shape}")

    monkeypatch.setattr(standin.ndarray, "__init__", checked_init)
    step()
    step()

    assert created[0] > 100, "the stand-in saw too few arrays: was the step on another backend?"
    assert not bad, "float64 arrays created during a training step:\n  " + "\n  ".join(
        f"{where}: {what}" for where, what in sorted(bad.items()))


# ---------------------------------------------------------------- layer input dtype
LAYERS = {
    "Linear": (lambda: nn.Linear(3, 2), (4, 3), r"Linear\(3, 2\)"),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5),
               r"Conv2d\(2, 3, k=3, s=1, p=1\)"),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(2, 3, 4, 2, 1), (2, 2, 3, 3),
                        r"ConvTranspose2d\(2, 3, k=4, s=2, p=1\)"),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), (4, 3), r"BatchNorm1d\(3\)"),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2), (4, 2, 3, 3), r"BatchNorm2d\(2\)"),
    "BatchNorm2d-no-affine": (lambda: nn.BatchNorm2d(2, affine=False), (4, 2, 3, 3),
                              r"BatchNorm2d\(2\)"),
}


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("layer_dtype,input_dtype", [("float32", "float64"),
                                                     ("float64", "float32"),
                                                     ("float32", "int64")])
def test_layer_refuses_an_input_of_another_dtype(name, layer_dtype, input_dtype):
    # PyTorch's rule: no silent promotion (float32 layer, float64 batch -> float64 graph)
    # and no silent rounding; the same one-line error for every layer.
    make, shape, who = LAYERS[name]
    with B.default_dtype_as(layer_dtype):
        layer = make()
    x = tinygan.Tensor(np.zeros(shape), dtype=input_dtype)
    with pytest.raises(TypeError, match=rf"^{who}: input has dtype {input_dtype} but the "
                                        rf"layer's parameters are {layer_dtype}; cast"):
        layer(x)
    # the matching dtype works and keeps it
    y = layer(tinygan.Tensor(np.ones(shape) * np.arange(shape[-1]), dtype=layer_dtype))
    assert y.dtype == layer_dtype
