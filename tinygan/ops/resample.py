"""Resampling: ``interpolate`` / ``upsample`` in 'nearest' and '(bi)linear' modes, with
PyTorch's coordinate rules (``torch.nn.functional.interpolate``).

Both modes are linear maps applied separately along each spatial axis, so an
(N, C, H, W) input is resized as ``A_h · x · A_wᵀ`` with small constant matrices
(OH × H and OW × W).  That reuses ``matmul``: forward, backward and second order
come from it, and nothing new needs a gradient of its own.

Source coordinates, for output index ``i`` and ``scale`` = in/out (or
1/scale_factor when ``scale_factor`` is given, as PyTorch does):

* nearest: ``src = min(floor(i · scale), in − 1)``;
* linear, align_corners=False: ``src = max((i + 0.5) · scale − 0.5, 0)``;
* linear, align_corners=True: ``src = i · (in − 1)/(out − 1)``;
  then weights 1 − λ, λ on ``floor(src)`` and ``floor(src) + 1`` (clamped to in − 1).
"""
from __future__ import annotations

import math

from .. import backend as B
from .. import dtypes as D
from ..autograd import Tensor
from ._util import constant
from .linalg import matmul
from .shape import swapaxes

__all__ = ["interpolate", "upsample", "resize_matrix"]

_MODES = ("nearest", "linear", "bilinear")


def resize_matrix(n_in: int, n_out: int, mode: str, align_corners=None, scale_factor=None,
                  xp=None):
    """The (n_out, n_in) float64 matrix resizing one axis, built with ``xp`` (the active
    backend's namespace by default; host code passes numpy)."""
    xp = B.xp() if xp is None else xp
    m = xp.zeros((n_out, n_in), dtype=D.float64)
    rows = xp.arange(n_out)
    scale = 1.0 / scale_factor if scale_factor else n_in / n_out
    if mode == "nearest":
        src = xp.minimum(xp.floor(rows * scale).astype(D.int64), n_in - 1)
        m[rows, src] = 1.0
        return m
    if align_corners:
        src = rows * ((n_in - 1) / (n_out - 1)) if n_out > 1 else rows * 0.0
    else:
        src = xp.maximum((rows + 0.5) * scale - 0.5, 0.0)
    lo = xp.minimum(xp.floor(src).astype(D.int64), n_in - 1)
    hi = xp.minimum(lo + 1, n_in - 1)
    lam = src - lo
    B.scatter_add(m, (rows, lo), 1.0 - lam)
    B.scatter_add(m, (rows, hi), lam)
    return m


def _out_sizes(spatial, size, scale_factor, who):
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{who}: give exactly one of size= and scale_factor=")
    k = len(spatial)
    if size is not None:
        sizes = (size,) * k if isinstance(size, int) else tuple(size)
        if len(sizes) != k or any(int(s) != s or s <= 0 for s in sizes):
            raise ValueError(f"{who}: size must be {k} positive integer(s), got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * k
    factors = (scale_factor,) * k if isinstance(scale_factor, (int, float)) \
        else tuple(scale_factor)
    if len(factors) != k or any(f <= 0 for f in factors):
        raise ValueError(f"{who}: scale_factor must be {k} positive number(s), "
                         f"got {scale_factor!r}")
    return tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors)), \
        tuple(float(f) for f in factors)


def interpolate(x: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) by ``size`` or ``scale_factor`` ('nearest',
    'linear' for 3-D, 'bilinear' for 4-D)."""
    who = f"interpolate(mode={mode!r})"
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{who}: expected an (N, C, L) or (N, C, H, W) input, got shape "
                         f"{x.shape}")
    if mode == "bilinear" and x.ndim != 4 or mode == "linear" and x.ndim != 3:
        raise ValueError(f"{who}: needs a {4 if mode == 'bilinear' else 3}-D input, got shape "
                         f"{x.shape}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to the linear modes")
    spatial = x.shape[2:]
    out, factors = _out_sizes(spatial, size, scale_factor, who)
    if any(o <= 0 for o in out):
        raise ValueError(f"{who}: output size {out} from input {x.shape} is empty")
    if recompute_scale_factor:  # PyTorch then uses in/out, as when size is given
        factors = (None,) * len(spatial)
    xp = B.array_module(x.data)
    kind = "nearest" if mode == "nearest" else "linear"
    mats = [constant(resize_matrix(n, o, kind, align_corners, f, xp=xp).astype(x.dtype))
            for n, o, f in zip(spatial, out, factors)]
    if x.ndim == 3:
        return matmul(x, swapaxes(mats[0], 0, 1))
    return matmul(matmul(mats[0], x), swapaxes(mats[1], 0, 1))


def upsample(x: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners=None) -> Tensor:
    """The deprecated PyTorch spelling of :func:`interpolate`."""
    return interpolate(x, size, scale_factor, mode, align_corners)
