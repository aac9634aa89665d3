"""Shape layers: ``Flatten`` and ``Unflatten`` as PyTorch's, and ``Reshape``."""
from __future__ import annotations

from .module import Module


class Flatten(Module):
    """Dims ``start_dim`` … ``end_dim`` merged into one: (N, d1, d2, ...) → (N, d1·d2·...) by
    default (PyTorch's ``nn.Flatten(start_dim=1, end_dim=-1)``)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Dim ``dim`` split into ``unflattened_size``, as PyTorch's
    ``nn.Unflatten(dim, unflattened_size)``: e.g. ``Unflatten(1, (128, 7, 7))`` turns a
    generator's (N, 6272) Linear output into (N, 128, 7, 7)."""

    def __init__(self, dim: int, unflattened_size=None, *extra):
        super().__init__()
        if extra or not isinstance(dim, int) or not isinstance(unflattened_size, (tuple, list)):
            # tinygan 0.1 spelled it Unflatten(C, H, W) or Unflatten((C, H, W)): that is Reshape
            given = (dim,) + (() if unflattened_size is None else (unflattened_size,)) + extra
            raise TypeError(f"Unflatten(dim, unflattened_size) as in PyTorch, e.g. "
                            f"Unflatten(1, (128, 7, 7)); got Unflatten"
                            f"({', '.join(map(repr, given))}) (to reshape every sample: "
                            f"nn.Reshape(*shape))")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Reshape(Module):
    """(N, ...) → (N, *shape): every sample reshaped (no PyTorch layer of this name; it is
    ``x.view(x.size(0), *shape)``)."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) \
            else tuple(shape)

    def forward(self, x):
        return x.view(x.shape[0], *self.shape)

    def extra_repr(self):
        return ", ".join(map(str, self.shape))
