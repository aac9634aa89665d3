"""Reductions: sum, mean, var, max/min (``axis``/``keepdims``, or PyTorch's ``dim``/``keepdim``)."""
from __future__ import annotations

from .. import backend as B
from ..autograd import Function, Tensor
from ._util import constant, normalize_axis, resolve_reduction
from .shape import broadcast_to, reshape


def _kept_shape(shape, axes):
    return tuple(1 if (axes is None or i in axes) else s for i, s in enumerate(shape))


class Sum(Function):
    def forward(self, x):
        self.in_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g):
        g = reshape(g, _kept_shape(self.in_shape, self.axis))
        return broadcast_to(g, self.in_shape)


def sum(x: Tensor, axis=None, keepdims: bool = False, *, dim=None,  # noqa: A001
        keepdim=None) -> Tensor:
    axis, keepdims = resolve_reduction(dim, keepdims if keepdim is None else keepdim, axis,
                                       None, "sum")
    axes = normalize_axis(axis, x.ndim, "sum")
    return Sum.apply(x, axis=axes, keepdims=keepdims)


def _count(shape, axes):
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def mean(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    axis, keepdims = resolve_reduction(dim, keepdims if keepdim is None else keepdim, axis,
                                       None, "mean")
    axes = normalize_axis(axis, x.ndim, "mean")
    n = _count(x.shape, axes)
    if n == 0:
        raise ValueError(f"mean: reducing shape {x.shape} over axis {axis} covers no element")
    return sum(x, axes, keepdims) * (1.0 / n)


def var(x: Tensor, axis=None, keepdims: bool = False, ddof: int = 0, *, dim=None,
        keepdim=None) -> Tensor:
    """Variance; ``ddof=1`` gives the unbiased estimate (``Tensor.var`` defaults to it)."""
    axis, keepdims = resolve_reduction(dim, keepdims if keepdim is None else keepdim, axis,
                                       None, "var")
    axes = normalize_axis(axis, x.ndim, "var")
    n = _count(x.shape, axes)
    if n - ddof <= 0:
        raise ValueError(f"var: {n} value(s) over axis {axis} of shape {x.shape} "
                         f"are too few for ddof={ddof}")
    centred = x - mean(x, axes, keepdims=True)
    return sum(centred * centred, axes, keepdims) * (1.0 / (n - ddof))


class _Extremum(Function):
    """max/min: the gradient goes to the extremal elements, split evenly at ties."""

    def forward(self, x):
        self.in_shape = x.shape
        op = x.max if self.largest else x.min
        return op(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g):
        x = self.inputs[0].data
        y = self.output.data.reshape(_kept_shape(self.in_shape, self.axis))
        hit = (x == y).astype(x.dtype)
        hit = hit / hit.sum(axis=self.axis, keepdims=True)
        g = broadcast_to(reshape(g, _kept_shape(self.in_shape, self.axis)), self.in_shape)
        return g * constant(hit)


def max(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The largest value(s) (values only; ``Tensor.max(dim)`` adds the indices)."""
    return _Extremum.apply(x, axis=normalize_axis(axis, x.ndim, "max"), keepdims=keepdims,
                           largest=True)


def min(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _Extremum.apply(x, axis=normalize_axis(axis, x.ndim, "min"), keepdims=keepdims,
                           largest=False)



def logsumexp(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """log Σ exp(x) over ``dim`` (all elements when None), stable for any x: the largest
    value m is taken out first, log Σ exp(x − m) + m, with m a constant (the result does
    not depend on it, so neither does its gradient, softmax(x)); an all −∞ slice gives −∞,
    as PyTorch's."""
    from .elementwise import exp, log
    axes = normalize_axis(dim, x.ndim, "logsumexp")
    xp = B.array_module(x.data)
    m = x.data.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype)
    out = log(sum(exp(x - constant(m)), axes, keepdims=True)) + constant(m)
    if keepdim:
        return out
    return reshape(out, tuple(s for i, s in enumerate(x.shape)
                              if axes is not None and i not in axes))


class CumSum(Function):
    """Running sums along ``axis``.  Backward: the running sums of g taken from the other
    end, themselves a CumSum (of the reversed g), so differentiable to any order."""

    def forward(self, x):
        return B.array_module(x).cumsum(x, axis=self.axis)

    def backward(self, g):
        from .shape import getitem
        rev = tuple(slice(None, None, -1) if i == self.axis else slice(None)
                    for i in range(g.ndim))
        return getitem(CumSum.apply(getitem(g, rev), axis=self.axis), rev)


def cumsum(x: Tensor, dim: int) -> Tensor:
    """PyTorch's ``torch.cumsum`` (running sums along ``dim``)."""
    return CumSum.apply(x, axis=normalize_axis(dim, x.ndim, "cumsum")[0])
