"""``tinygan.device``: PyTorch's device names mapped onto tinygan's backends.

``"cpu"`` is the NumPy backend and ``"cuda"`` (or ``"cuda:0"``) the CuPy one; a
backend name (``"numpy"``, ``"cupy"``, the test-only ``"standin"``) is accepted
too.  A device only *names* where arrays live: moving a tensor or a module there
(``x.to(device)``, ``model.to(device)``) never changes the active backend, which
decides where *new* tensors are made (``tinygan.set_backend``).

This module sits beside :mod:`tinygan.backend` and imports nothing else.
"""
from __future__ import annotations

from . import backend as B

__all__ = ["device", "is_device_like"]

_ALIASES = {"cpu": "numpy", "numpy": "numpy", "cuda": "cupy", "cupy": "cupy", "gpu": "cupy",
            "standin": "standin"}
_TYPES = {"numpy": "cpu", "cupy": "cuda", "standin": "standin"}


class device:  # noqa: N801 - spelled as torch.device
    """``tinygan.device("cpu" | "cuda" | "cuda:0" | backend name)``."""

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, device):
            spec, index = spec.backend, spec.index
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a name such as 'cpu' or 'cuda', got {spec!r}")
        name, _, idx = spec.lower().partition(":")
        if name not in _ALIASES:
            raise ValueError(f"device: unknown device {spec!r}; use 'cpu' (NumPy) or 'cuda' "
                             f"(CuPy)")
        if idx:
            index = int(idx)
        if index not in (None, 0):
            raise ValueError(f"device: only one GPU is supported, got index {index}")
        self.backend = _ALIASES[name]
        self.type = _TYPES[self.backend]
        self.index = index

    def module(self):
        """The array namespace of this device (loads CuPy on first use; a clear error if absent)."""
        if self.backend == B.get_backend():
            return B.xp()
        return B.array_namespace(self.backend)

    def __eq__(self, other):
        try:
            return device(other).backend == self.backend
        except (TypeError, ValueError):
            return NotImplemented

    def __hash__(self):
        return hash(self.backend)

    def __repr__(self):
        return f"device(type={self.type!r}" + (f", index={self.index})" if self.index is not None
                                               else ")")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


def is_device_like(x) -> bool:
    """True for a :class:`device` or a string naming one."""
    if isinstance(x, device):
        return True
    return isinstance(x, str) and x.lower().partition(":")[0] in _ALIASES
