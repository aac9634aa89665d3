"""``Dropout`` and ``Dropout2d``: active in training mode, the identity after ``.eval()``."""
from __future__ import annotations

from ..ops.dropout import _check_p, dropout, dropout2d
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class Dropout(Module):
    """Zero each element with probability p, scale the rest by 1/(1 − p).
    ``inplace`` is accepted and ignored (computed out of place)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = _check_p(p, type(self).__name__)
        self.inplace = bool(inplace)

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability p."""

    def forward(self, x):
        return dropout2d(x, self.p, self.training)
