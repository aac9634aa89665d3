"""Shape layers: ``Flatten`` and ``Unflatten`` (alias ``Reshape``)."""
from __future__ import annotations

from ..ops import flatten, reshape
from .module import Module


class Flatten(Module):
    """(N, d1, d2, ...) → (N, d1·d2·...)."""

    def __init__(self, start_dim: int = 1):
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x):
        return flatten(x, self.start_dim)


class Unflatten(Module):
    """(N, D) → (N, *shape); e.g. a generator's Linear output → (N, C, H, W)."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) \
            else tuple(shape)

    def forward(self, x):
        n = 1
        for s in self.shape:
            n *= s
        if x.numel() != x.shape[0] * n:
            raise ValueError(f"Unflatten{self.shape}: input of shape {x.shape} does not hold "
                             f"{n} values per sample")
        return reshape(x, (x.shape[0],) + self.shape)

    def extra_repr(self):
        return ", ".join(map(str, self.shape))


Reshape = Unflatten
