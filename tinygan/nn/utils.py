"""``nn.utils``: clipping the gradients of a model's parameters in place, as PyTorch's
``clip_grad_norm_`` and ``clip_grad_value_`` do (between ``backward()`` and ``step()``), and
``spectral_norm`` / ``remove_spectral_norm`` (:mod:`tinygan.nn.spectral_norm`)."""
from __future__ import annotations

from .. import backend as B
from ..autograd import Tensor

from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_value_", "spectral_norm", "remove_spectral_norm"]


def _grads(parameters):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale every gradient by max_norm / (‖g‖ + 1e-6) when the total norm ‖g‖ of all of
    them together (as one vector) exceeds ``max_norm``; returns ‖g‖ before clipping."""
    grads = _grads(parameters)
    if not grads:
        return Tensor(0.0)
    xp = B.array_module(grads[0].data)
    p = float(norm_type)
    # on the device throughout (no Python max/if over device values: no host transfer)
    if p == float("inf"):
        total = xp.stack([xp.abs(g.data).max() for g in grads]).max()
    else:
        total = xp.stack([(xp.abs(g.data) ** p).sum() for g in grads]).sum() ** (1.0 / p)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total {p}-norm of the gradients is "
                           f"{float(total)}; set error_if_nonfinite=False to clip anyway")
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g.data *= coef.astype(g.data.dtype)
    return Tensor._make(xp.asarray(total, dtype=grads[0].data.dtype), False, None)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element to [−clip_value, clip_value] in place."""
    for g in _grads(parameters):
        B.array_module(g.data).clip(g.data, -clip_value, clip_value, out=g.data)
