"""Activation layers (thin Module wrappers over :mod:`tinygan.ops.activation`).

``inplace=`` is accepted as in PyTorch (``nn.ReLU(True)``) but the result is always
computed out of place: the saving is memory only, and an in-place activation would
overwrite values another op saved for its backward.
"""
from __future__ import annotations

from ..ops import activation as F
from ..ops.loss import log_softmax, softmax
from .. import backend as B
from .._validate import positive_int
from . import functional as NF
from .module import Module, Parameter


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


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (PyTorch's ``nn.Hardtanh``; gradient 0 outside)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if not min_val < max_val:
            raise ValueError(f"Hardtanh: min_val {min_val} must be below max_val {max_val}")
        self.min_val, self.max_val, self.inplace = float(min_val), float(max_val), bool(inplace)

    def forward(self, x):
        return x.clamp(self.min_val, self.max_val)


class PReLU(Module):
    """LeakyReLU with a learned slope, one or ``num_parameters`` (one per channel), starting
    at ``init`` (He et al. 2015; PyTorch's ``nn.PReLU``)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = positive_int(num_parameters, "num_parameters", "PReLU")
        self.weight = Parameter(B.xp().full((self.num_parameters,), init,
                                            dtype=B.default_dtype()))
        self._made_on(device, dtype)

    def forward(self, x):
        return F.prelu(x, self.weight)


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
