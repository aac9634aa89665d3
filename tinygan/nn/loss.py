"""Loss modules (``torch.nn.BCELoss`` ...) over the functional losses of :mod:`tinygan.ops.loss`.

``reduction`` is 'mean' (default), 'sum' or 'none', as in PyTorch.  Prefer
``BCEWithLogitsLoss`` on a discriminator's raw score to ``BCELoss`` after a
Sigmoid: it is the same loss computed stably (softplus, MATH.md §1).
"""
from __future__ import annotations

from ..ops import loss as L
from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "CrossEntropyLoss"]

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    _fn = None

    def __init__(self, reduction: str = "mean", size_average=None, reduce=None):
        super().__init__()
        if size_average is not None or reduce is not None:
            raise TypeError(f"{type(self).__name__}: size_average/reduce are deprecated in "
                            f"PyTorch; use reduction='mean' | 'sum' | 'none'")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{', '.join(_REDUCTIONS)}, got {reduction!r}")
        self.reduction = reduction

    def forward(self, input, target):  # noqa: A002 - PyTorch's argument name
        return type(self)._fn(input, target, reduction=self.reduction)

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class BCELoss(_Loss):
    """−[t log p + (1 − t) log(1 − p)] on probabilities p (logs clamped at −100, as PyTorch);
    ``weight`` rescales each element (a buffer: it moves with the module)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(reduction, size_average, reduce)
        self.register_buffer("weight", weight)

    def forward(self, input, target):  # noqa: A002 - PyTorch's argument name
        return L.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """BCE on logits a: softplus(a) − t·a (stable for any a); ``weight`` rescales each
    element, ``pos_weight`` the positive term (both buffers, as PyTorch's)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(reduction, size_average, reduce)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):  # noqa: A002 - PyTorch's argument name
        return L.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class MSELoss(_Loss):
    _fn = staticmethod(L.mse_loss)


class L1Loss(_Loss):
    _fn = staticmethod(L.l1_loss)


class NLLLoss(_Loss):
    """−input[n, target[n]] for log-probabilities (N, C) (after ``LogSoftmax``)."""
    _fn = staticmethod(L.nll_loss)


class CrossEntropyLoss(_Loss):
    """−log softmax(logits)[target] for logits (N, C) and integer labels (N,)."""
    _fn = staticmethod(L.cross_entropy)
