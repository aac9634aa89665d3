"""Functional forms of every layer and loss (``import tinygan.nn.functional as F``):
the ops of :mod:`tinygan.ops` (``linear`` among them), with PyTorch's ``inplace=`` accepted by the
activations (always computed out of place, see :mod:`tinygan.nn.activation`)."""
from ..ops import *  # noqa: F401,F403  (relu, conv2d, batch_norm, the losses, ...)
from ..ops import activation as _act


def relu(x, inplace: bool = False):
    return _act.relu(x)


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False):
    return _act.leaky_relu(x, negative_slope)


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + e^(βx)) / β, computed stably for any x.  PyTorch switches to the identity where
    βx > ``threshold``; the stable form already equals x there to float precision
    (log1p(e^−20) ≈ 2e-9), so ``threshold`` needs no branch of its own."""
    if beta == 1:
        return _act.softplus(x)
    return _act.softplus(x * float(beta)) * (1.0 / float(beta))


def logsigmoid(x):
    """log σ(x) = −softplus(−x) (PyTorch's spelling of ``log_sigmoid``)."""
    return _act.log_sigmoid(x)


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """x clamped to [min_val, max_val]."""
    return x.clamp(min_val, max_val)
