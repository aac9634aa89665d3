"""Activations: relu, leaky_relu, prelu, tanh, sigmoid, softplus, log_sigmoid, elu, silu."""
from __future__ import annotations

from .. import backend as B
from ..autograd import Function, Tensor, is_grad_enabled
from ._util import constant, map_on_threads, split_pays
from .elementwise import add, exp, maximum, minimum, mul, neg, sub, where


# The large activations (DCGAN's hidden layers) run on the host threads when the
# split pays (ops/_util.split_pays); when no graph is recorded (no double backprop) the
# backward writes g·[x > 0] straight into its output (one buffer, no Tensor product).
# Elementwise, so the bits are the one-thread pass's (tests/test_elementwise_threads.py).
#
# NumPy's maximum against a scalar (or any stride-0 operand) runs 3-4x slower than
# against an array: 0.60 ms vs 0.14 ms for 802,816 float32 values, DCGAN-28's largest
# activation at batch 64 (NumPy 2.4, AVX2, 2-core AMD EPYC).  So ReLU and LeakyReLU's
# derivative take their constant (0, the slope) from a filled array; a fill costs
# ~0.03 ms.  Same operands in the same order, so the same values, NaN and -0.0 included.


def _relu_into(x, out):
    out.fill(0)
    return B.array_module(x).maximum(x, out, out=out)


def _relu_grad_into(g, x, out):
    return B.array_module(x).multiply(g, x > 0, out=out)


class ReLU(Function):
    def forward(self, x):
        if split_pays(x):
            return map_on_threads(_relu_into, x)
        return _relu_into(x, B.array_module(x).empty_like(x))

    def backward(self, g):
        x = self.inputs[0].data
        if not is_grad_enabled():
            return Tensor._make(map_on_threads(_relu_grad_into, g.data, x), False, None)
        return g * constant((x > 0).astype(x.dtype))


class LeakyReLU(Function):
    """max(x, 0) + slope·min(x, 0) — DCGAN's discriminator uses slope 0.2."""

    # For 0 <= slope <= 1, leaky_relu(x) = max(x, slope·x) and its derivative is
    # max([x > 0], slope): two branch-free passes.  ``where`` gives the same values but
    # branches per element and ran 30-70x slower on random-sign activations (measured at
    # the DCGAN discriminator sizes of benchmarks/bench_layers.py).

    def forward(self, x):
        xp = B.array_module(x)
        if 0.0 <= self.slope <= 1.0:
            if split_pays(x):
                return map_on_threads(self._forward_into, x)
            return self._forward_into(x, xp.empty_like(x))
        return xp.where(x > 0, x, x * self.slope)

    def _forward_into(self, x, out):
        xp = B.array_module(x)
        xp.multiply(x, self.slope, out=out)  # Python float: stays in x's dtype (NEP 50)
        return xp.maximum(x, out, out=out)

    def _slope_mask(self, x, out=None):
        """The derivative [x > 0] + slope·[x ≤ 0] as an array of x's dtype (in ``out``
        when given and 0 ≤ slope ≤ 1)."""
        xp = B.array_module(x)
        if 0.0 <= self.slope <= 1.0:
            return self._slope_mask_into(x, xp.empty_like(x) if out is None else out)
        return xp.where(x > 0, 1.0, self.slope).astype(x.dtype)

    def _slope_mask_into(self, x, out):
        """For 0 ≤ s ≤ 1, in place in ``out``: m = [x > 0]; m ·= (1 − s); m += s, three
        passes over one buffer (1.16 ms against 1.52 for the mask and the product on
        DCGAN-28's 64×64×14×14 activation with cold caches, 2-core AMD EPYC).  Exact:
        0 → s, and 1 → fl(fl(1 − s) + s) = 1, since fl(1 − s) is within half an ulp of
        1 − s and 1 ± that half ulp rounds back to 1 (to even at the tie)."""
        xp, one, s = B.array_module(x), x.dtype.type(1), x.dtype.type(self.slope)
        xp.greater(x, 0, out=out)
        out *= one - s
        out += s
        return out

    def _grad_into(self, g, x, out):
        return B.array_module(x).multiply(g, self._slope_mask(x, out), out=out)

    def backward(self, g):
        x = self.inputs[0].data
        if not is_grad_enabled():
            return Tensor._make(map_on_threads(self._grad_into, g.data, x), False, None)
        return g * constant(self._slope_mask(x))


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


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, α(eˣ − 1) otherwise (Clevert et al. 2016).  The exponential is taken of
    min(x, 0), so the branch not chosen never overflows (an inf there would turn the
    gradient into 0·inf = NaN)."""
    return where(x.data > 0, x, mul(sub(exp(minimum(x, 0.0)), 1.0), float(alpha)))


def silu(x: Tensor) -> Tensor:
    """x·σ(x) (SiLU / swish)."""
    return mul(x, sigmoid(x))


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """max(x, 0) + a·min(x, 0) with a learned slope a (He et al. 2015): ``weight`` holds one
    slope, or one per channel (dim 1), as PyTorch's ``F.prelu``; differentiable in both."""
    channels = x.shape[1] if x.ndim > 1 else 1
    if weight.ndim != 1 or weight.shape[0] not in (1, channels):
        raise ValueError(f"prelu: weight must hold 1 slope or one per channel ({channels}), "
                         f"got shape {weight.shape}")
    if x.ndim > 1 and weight.shape[0] > 1:
        weight = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    return add(maximum(x, 0.0), mul(weight, minimum(x, 0.0)))
