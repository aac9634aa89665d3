"""Activations: relu, leaky_relu, tanh, sigmoid, softplus, log_sigmoid."""
from __future__ import annotations

from .. import backend as B
from ..autograd import Function, Tensor
from ._util import constant
from .elementwise import neg


class ReLU(Function):
    def forward(self, x):
        return B.array_module(x).maximum(x, 0)

    def backward(self, g):
        x = self.inputs[0].data
        return g * constant((x > 0).astype(x.dtype))


class LeakyReLU(Function):
    """max(x, 0) + slope·min(x, 0) — DCGAN's discriminator uses slope 0.2."""

    def forward(self, x):
        return B.array_module(x).where(x > 0, x, x * self.slope)

    def backward(self, g):
        x = self.inputs[0].data
        xp = B.array_module(x)
        return g * constant(xp.where(x > 0, 1.0, self.slope).astype(x.dtype))


class Tanh(Function):
    def forward(self, x):
        return B.array_module(x).tanh(x)

    def backward(self, g):
        y = self.output
        return g * (1.0 - y * y)


def _stable_sigmoid(x):
    # exp of a non-positive number only: no overflow for |x| up to float max.
    xp = B.array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class Sigmoid(Function):
    def forward(self, x):
        return _stable_sigmoid(x)

    def backward(self, g):
        y = self.output
        return g * (y * (1.0 - y))


class Softplus(Function):
    """log(1 + eˣ) = max(x, 0) + log1p(e^{-|x|}): exact for |x| = 1000 (MATH.md §1)."""

    def forward(self, x):
        xp = B.array_module(x)
        return (xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)

    def backward(self, g):
        return g * sigmoid(self.inputs[0])


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(x, slope=float(negative_slope))


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def softplus(x: Tensor) -> Tensor:
    return Softplus.apply(x)


def log_sigmoid(x: Tensor) -> Tensor:
    """log σ(x) = −softplus(−x), the stable way to write log D from a logit."""
    return neg(softplus(neg(x)))
