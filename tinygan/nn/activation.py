"""Activation layers (thin Module wrappers over :mod:`tinygan.ops.activation`).

``inplace=`` is accepted as in PyTorch (``nn.ReLU(True)``) but the result is always
computed out of place: the saving is memory only, and an in-place activation would
overwrite values another op saved for its backward.
"""
from __future__ import annotations

from ..ops import activation as F
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
    def forward(self, x):
        return F.softplus(x)
