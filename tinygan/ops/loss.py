"""Losses.  GAN losses are computed from logits through softplus (MATH.md §1):
log D = −softplus(−a) and log(1 − D) = −softplus(a)."""
from __future__ import annotations

import contextlib

from .. import backend as B
from ..autograd import Function, Tensor
from ._util import as_tensor
from .activation import softplus
from .elementwise import abs, broadcast_shape, log, maximum

_nullcontext = contextlib.nullcontext


def _reduce(x: Tensor, reduction: str, who: str) -> Tensor:
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    if reduction == "none":
        return x
    raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_target(pred: Tensor, target: Tensor, who: str):
    if pred.shape != target.shape:
        raise ValueError(f"{who}: input of shape {pred.shape} and target of shape "
                         f"{target.shape} differ")


def _weighted(loss: Tensor, weight, who: str, name: str = "weight") -> Tensor:
    """loss · weight (PyTorch's ``weight=``: a rescaling of each element, broadcast to the
    input's shape), or loss unchanged when weight is None."""
    if weight is None:
        return loss
    if isinstance(weight, str):  # PyTorch's third argument is weight, not reduction
        raise TypeError(f"{who}: {name} must be a tensor, got {weight!r}; give the reduction "
                        f"by keyword (reduction={weight!r})")
    weight = as_tensor(weight, loss)
    try:
        shape = broadcast_shape(weight.shape, loss.shape, who)
    except ValueError:
        shape = None
    if shape != loss.shape:
        raise ValueError(f"{who}: {name} of shape {weight.shape} does not broadcast to the "
                         f"input's shape {loss.shape}")
    return loss * weight


def binary_cross_entropy_with_logits(logits: Tensor, target, weight=None,
                                     reduction: str = "mean", *, pos_weight=None) -> Tensor:
    """−w·[p_w·t log σ(a) + (1−t) log(1−σ(a))] = w·[p_w·t·softplus(−a) + (1−t)·softplus(a)],
    stable for any logit a; without p_w (``pos_weight``, the weight of the positive term) it
    is softplus(a) − t·a.  ``weight`` (w) rescales each element, as PyTorch's."""
    who = "binary_cross_entropy_with_logits"
    target = as_tensor(target, logits)
    _check_target(logits, target, who)
    if pos_weight is None:
        loss = softplus(logits) - target * logits
    else:
        positive = _weighted(target * softplus(-logits), pos_weight, who, "pos_weight")
        loss = positive + (1.0 - target) * softplus(logits)
    return _reduce(_weighted(loss, weight, who), reduction, who)


class BinaryCrossEntropy(Function):
    """−[t log p + (1−t) log(1−p)] with each log clamped at −100 (PyTorch's rule).

    The backward, (p − t) / max(p(1 − p), 1e-12), stays finite at p ∈ {0, 1}.
    """

    def forward(self, p, t):
        xp = B.array_module(p)
        with xp.errstate(divide="ignore") if hasattr(xp, "errstate") else _nullcontext():
            log_p = xp.maximum(xp.log(p), -100.0)
            log_q = xp.maximum(xp.log(1.0 - p), -100.0)
        return (-(t * log_p + (1.0 - t) * log_q)).astype(p.dtype, copy=False)

    def backward(self, g):
        p, t = self.inputs
        gp = g * (p - t) / maximum(p * (1.0 - p), 1e-12) if self.needs_input_grad[0] else None
        gt = None
        if self.needs_input_grad[1]:  # d/dt of the forward, with the same −100 clamp on the logs
            xp = B.array_module(p.data)
            with xp.errstate(divide="ignore") if hasattr(xp, "errstate") else _nullcontext():
                gt = g * (maximum(log(1.0 - p), -100.0) - maximum(log(p), -100.0))
        return gp, gt


def binary_cross_entropy(probs: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """BCE on probabilities in [0, 1] (prefer the logits version for GANs); ``weight``
    rescales each element, as PyTorch's."""
    who = "binary_cross_entropy"
    target = as_tensor(target, probs)
    _check_target(probs, target, who)
    return _reduce(_weighted(BinaryCrossEntropy.apply(probs, target), weight, who), reduction,
                   who)


def mse_loss(pred: Tensor, target, reduction: str = "mean") -> Tensor:
    target = as_tensor(target, pred)
    _check_target(pred, target, "mse_loss")
    d = pred - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(pred: Tensor, target, reduction: str = "mean") -> Tensor:
    """|pred − target| (mean absolute error); the gradient at a tie is 0, as PyTorch's."""
    target = as_tensor(target, pred)
    _check_target(pred, target, "l1_loss")
    return _reduce(abs(pred - target), reduction, "l1_loss")


# ---------------------------------------------------------------- multi-class (digit classifier)
class LogSoftmax(Function):
    """log softmax(x)_i = x_i − log Σ_j exp(x_j), shifted by max_j x_j so exp never overflows.

    Backward: ∂/∂x of Σ_i g_i y_i is g − softmax(x) · Σ_i g_i, with softmax = exp(y)
    written on the output Tensor, so the backward is itself differentiable.
    """

    def forward(self, x):
        xp = B.array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        lse = xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        return (shifted - lse).astype(x.dtype, copy=False)

    def backward(self, g):
        from .elementwise import exp
        from .reduce import sum as _sum
        return g - exp(self.output) * _sum(g, self.axis, keepdims=True)


def log_softmax(x: Tensor, axis: int = -1, *, dim=None) -> Tensor:
    """Log-probabilities of the classes along ``axis`` (or PyTorch's ``dim``), stable for
    any logits."""
    if dim is not None:
        axis = dim
    if x.ndim == 0:
        raise ValueError("log_softmax: input must have at least one dimension, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"log_softmax: axis {axis} is out of range for shape {x.shape}")
    return LogSoftmax.apply(x, axis=axis % x.ndim)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Probabilities of the classes along ``dim``: exp(log_softmax), so no exp overflows."""
    from .elementwise import exp
    return exp(log_softmax(x, dim))


def _labels(target, n: int, c: int, xp, who: str):
    """Integer labels of shape (n,) in [0, c) as an array of ``xp`` (one-line errors)."""
    t = target.data if isinstance(target, Tensor) else target
    if not B.is_array(t) or B.array_module(t) is not xp:
        t = xp.asarray(B.to_numpy(t) if B.is_array(t) else t)
    if t.shape != (n,) or t.dtype.kind not in "iu":
        raise ValueError(f"{who}: target must be integer labels of shape ({n},), got "
                         f"shape {tuple(t.shape)} and dtype {t.dtype}")
    if xp.__name__ == "numpy" and n and (t.min() < 0 or t.max() >= c):
        raise ValueError(f"{who}: labels must lie in [0, {c}), got values in "
                         f"[{int(t.min())}, {int(t.max())}]")
    return t


def one_hot(target, num_classes: int = -1) -> Tensor:
    """PyTorch's ``F.one_hot``: integer labels (any shape) → int64 indicators with a new
    last dim of ``num_classes`` (default: the largest label + 1).  Not differentiable."""
    t = target.data if isinstance(target, Tensor) else target
    xp = B.array_module(t) if B.is_array(t) else B.xp()
    t = xp.asarray(t)
    if t.dtype.kind not in "iu":
        raise ValueError(f"one_hot: target must hold integer labels, got dtype {t.dtype}")
    c = int(num_classes)
    if t.size and (c == -1 or xp.__name__ == "numpy"):  # reads the labels: one host copy
        lo, hi = int(B.to_numpy(t.min())), int(B.to_numpy(t.max()))
        c = hi + 1 if c == -1 else c
        if lo < 0 or hi >= c:
            raise ValueError(f"one_hot: labels must lie in [0, {c}), got values in "
                             f"[{lo}, {hi}]")
    return Tensor._make((t[..., None] == xp.arange(max(c, 0))).astype("int64"), False, None)


def _picked(log_probs: Tensor, labels, reduction: str, who: str) -> Tensor:
    """−log_probs[n, labels[n]], reduced.  The label is picked with a one-hot mask (no
    per-sample Python loop, and the mask is a constant, so a double backward goes through
    ``log_probs`` only)."""
    from ._util import constant
    from .reduce import sum as _sum
    xp = B.array_module(log_probs.data)
    onehot = (labels[:, None] == xp.arange(log_probs.shape[1])[None, :]).astype(log_probs.dtype)
    return _reduce(-_sum(log_probs * constant(onehot), axis=1), reduction, who)


def nll_loss(log_probs: Tensor, target, reduction: str = "mean") -> Tensor:
    """−log_probs[n, target[n]] for log-probabilities (N, C) and integer labels (N,)."""
    if log_probs.ndim != 2:
        raise ValueError(f"nll_loss: input must have shape (N, C), got {log_probs.shape}")
    labels = _labels(target, *log_probs.shape, B.array_module(log_probs.data), "nll_loss")
    return _picked(log_probs, labels, reduction, "nll_loss")


def cross_entropy(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """−log softmax(logits)[n, target[n]] for logits (N, C) and integer class labels (N,)."""
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    labels = _labels(target, *logits.shape, B.array_module(logits.data), "cross_entropy")
    return _picked(log_softmax(logits, axis=1), labels, reduction, "cross_entropy")
