"""Losses.  GAN losses are computed from logits through softplus (MATH.md §1):
log D = −softplus(−a) and log(1 − D) = −softplus(a)."""
from __future__ import annotations

import contextlib

from .. import backend as B
from ..autograd import Function, Tensor
from ._util import as_tensor
from .activation import softplus
from .elementwise import log, maximum

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


def binary_cross_entropy_with_logits(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """−[t log σ(a) + (1−t) log(1−σ(a))] = softplus(a) − t·a, stable for any logit a."""
    target = as_tensor(target, logits)
    _check_target(logits, target, "binary_cross_entropy_with_logits")
    return _reduce(softplus(logits) - target * logits, reduction,
                   "binary_cross_entropy_with_logits")


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
        gt = g * (log(1.0 - p) - log(p)) if self.needs_input_grad[1] else None
        return gp, gt


def binary_cross_entropy(probs: Tensor, target, reduction: str = "mean") -> Tensor:
    """BCE on probabilities in [0, 1] (prefer the logits version for GANs)."""
    target = as_tensor(target, probs)
    _check_target(probs, target, "binary_cross_entropy")
    return _reduce(BinaryCrossEntropy.apply(probs, target), reduction, "binary_cross_entropy")


def mse_loss(pred: Tensor, target, reduction: str = "mean") -> Tensor:
    target = as_tensor(target, pred)
    _check_target(pred, target, "mse_loss")
    d = pred - target
    return _reduce(d * d, reduction, "mse_loss")
