"""Dropout (Srivastava et al. 2014, "inverted" form as PyTorch): in training, zero each
element with probability p and scale the survivors by 1/(1 − p), so the expected value is
unchanged and evaluation needs no rescaling.  ``dropout2d`` drops whole channels.

The mask is a constant drawn from the active backend's seeded generator
(``tinygan.manual_seed``) and moved to the input's device; the gradient is the
same mask, so first and second derivatives are exact.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Tensor
from ._util import constant

__all__ = ["dropout", "dropout2d"]


def _check_p(p, who):
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{who}: p must be a probability in [0, 1], got {p}")
    return p


def _masked(x: Tensor, p: float, mask_shape) -> Tensor:
    xp = B.array_module(x.data)
    if p == 1.0:
        return x * constant(xp.zeros(mask_shape, dtype=x.dtype))
    u = B.rand(mask_shape, dtype=x.dtype)
    if B.array_module(u) is not xp:
        u = xp.asarray(B.to_numpy(u))
    keep = (u >= p).astype(x.dtype) * (1.0 / (1.0 - p))
    return x * constant(keep)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero elements with probability ``p`` (training only); ``inplace`` is accepted and
    ignored (the result is always a new tensor)."""
    p = _check_p(p, "dropout")
    if not training or p == 0.0:
        return x
    return _masked(x, p, x.shape)


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels (N, C, H, W) → one draw per (n, c), as ``torch.nn.Dropout2d``."""
    p = _check_p(p, "dropout2d")
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected an (N, C, H, W) or (C, H, W) input, got shape "
                         f"{x.shape}")
    if not training or p == 0.0:
        return x
    lead = 2 if x.ndim == 4 else 1
    return _masked(x, p, x.shape[:lead] + (1,) * (x.ndim - lead))
