"""The affine map of a Linear layer, y = x Wᵀ + b, as one differentiable operation.

Written as matmul(x, transpose(W)) + b it is three Functions, and its weight gradient
comes out as the transpose of xᵀ·g: a Fortran-ordered array that the backward pass
copies into the C-ordered weight's layout (a transposed copy).  As one Function the
backward makes each gradient in its final layout and, on several host threads, runs
the input and the weight gradient at once (linalg.matmul_arrays):

    dx = g W,    dW = gᵀ x,    db = Σ_rows g.
"""
from __future__ import annotations

from ..autograd import Function, Tensor, is_grad_enabled
from .linalg import matmul, matmul_array, matmul_arrays
from .reduce import sum as reduce_sum
from .shape import reshape, transpose


class _Linear(Function):
    """y = x Wᵀ (+ b) on x of shape (*, in), W (out, in), b (out,)."""

    def forward(self, x, w, b=None):
        y = matmul_array(x.reshape(-1, x.shape[-1]), w.T)
        if b is not None and b.dtype == y.dtype:
            y += b  # y is this call's own array: no second output array for the bias
        elif b is not None:
            y = y + b  # a wider bias promotes, as x Wᵀ + b would
        return y.reshape(x.shape[:-1] + (w.shape[0],))

    def backward(self, g):
        x, w = self.inputs[:2]
        need_x, need_w = self.needs_input_grad[:2]
        need_b = len(self.inputs) == 3 and self.needs_input_grad[2]
        if is_grad_enabled():  # create_graph: every gradient a differentiable Tensor op
            g2 = reshape(g, (-1, w.shape[0]))
            gx = reshape(matmul(g2, w), x.shape) if need_x else None
            gw = matmul(transpose(g2), reshape(x, (-1, w.shape[1]))) if need_w else None
            gb = reduce_sum(g2, dim=0) if need_b else None
            return (gx, gw, gb)[:len(self.inputs)]
        g2 = g.data.reshape(-1, w.shape[0])
        products = [(g2, w.data)] if need_x else []
        if need_w:
            products.append((g2.T, x.data.reshape(-1, w.shape[1])))
        results = matmul_arrays(products) if products else []
        gx = Tensor._make(results[0].reshape(x.shape), False, None) if need_x else None
        gw = Tensor._make(results[-1], False, None) if need_w else None
        gb = Tensor._make(g2.sum(axis=0), False, None) if need_b else None
        return (gx, gw, gb)[:len(self.inputs)]


def linear(x: Tensor, weight: Tensor, bias: Tensor = None) -> Tensor:
    """x Wᵀ + b for x of shape (*, in_features), weight (out_features, in_features) and
    bias (out_features,) or None, as ``torch.nn.functional.linear``."""
    x, weight = (t if isinstance(t, Tensor) else Tensor(t) for t in (x, weight))
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{weight.shape}")
    if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not end in in_features = "
                         f"{weight.shape[1]} (weight of shape {weight.shape})")
    if bias is None:
        return _Linear.apply(x, weight)
    bias = bias if isinstance(bias, Tensor) else Tensor(bias)
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} does not match out_features = "
                         f"{weight.shape[0]} (expected ({weight.shape[0]},))")
    return _Linear.apply(x, weight, bias)
