"""Activation layers (thin Module wrappers over :mod:`tinygan.ops.activation`).

``inplace=`` is accepted as in PyTorch (``nn.ReLU(True)``) but the result is always
computed out of place: the saving is memory only, and an in-place activation would
overwrite values another op saved for its backward.
"""
from __future__ import annotations

from ..ops import activation as F
from ..ops.loss import log_softmax, softmax
from . import functional as NF
from .module import Module


class ReLU(Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = float(negative_slope)
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x):
        return NF.softplus(x, self.beta, self.threshold)


class LogSigmoid(Module):
    """log σ(x), stably (−softplus(−x))."""

    def forward(self, x):
        return F.log_sigmoid(x)


class ELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = float(alpha), bool(inplace)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class SiLU(Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.silu(x)


class Softmax(Module):
    def __init__(self, dim: int = None):
        super().__init__()
        if dim is None:
            raise ValueError("Softmax: give dim= (PyTorch's implicit choice is deprecated)")
        self.dim = int(dim)

    def forward(self, x):
        return softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return log_softmax(x, self.dim)
