"""Matrix multiplication (2-D and batched, with broadcasting of batch dims)."""
from __future__ import annotations

from .. import backend as B
from ..autograd import Function, Tensor
from .shape import sum_to, swapaxes


class MatMul(Function):
    """C = A @ B;  dA = dC @ Bᵀ,  dB = Aᵀ @ dC (summed over broadcast batch dims)."""

    def forward(self, a, b):
        return B.array_module(a).matmul(a, b)

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(matmul(g, swapaxes(b, -1, -2)), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(matmul(swapaxes(a, -1, -2), g), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def matmul(a: Tensor, b: Tensor) -> Tensor:
    if not isinstance(a, Tensor):
        a = Tensor(a)
    if not isinstance(b, Tensor):
        b = Tensor(b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul: both operands need at least 2 dims, got shapes "
                         f"{a.shape} and {b.shape} (reshape vectors to (1, n) or (n, 1))")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                         f"({a.shape[-1]} != {b.shape[-2]})")
    for x, y in zip(a.shape[-3::-1], b.shape[-3::-1]):  # batch dims broadcast like NumPy
        if x != y and x != 1 and y != 1:
            raise ValueError(f"matmul: batch dims of shapes {a.shape} and {b.shape} cannot "
                             f"be broadcast together ({a.shape[:-2]} vs {b.shape[:-2]})")
    return MatMul.apply(a, b)
