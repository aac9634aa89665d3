"""``tinygan.Generator``: a random stream of its own, as ``torch.Generator``.

``g = tinygan.Generator().manual_seed(1)`` then ``tinygan.randn(3, generator=g)`` (also
``rand``, ``randint``, ``randperm``, ``Tensor.normal_`` / ``uniform_``,
``nn.init.normal_`` / ``uniform_``, and ``DataLoader(..., shuffle=True, generator=g)``)
draws from ``g`` and leaves the global stream of ``tinygan.manual_seed`` untouched — the
reason one writes it in PyTorch: e.g. a fixed evaluation noise that does not shift the
training run's draws.  The numbers are NumPy's (or CuPy's), not PyTorch's.

A generator belongs to one backend: the active one, or the device's (``device="cpu"`` is
NumPy, ``"cuda"`` CuPy); drawing from it while another backend is active is an error, not
a silent copy between devices.
"""
from __future__ import annotations

import numpy

from . import backend as B
from .device import device as _device

__all__ = ["Generator", "DEFAULT_SEED"]

# torch.Generator()'s initial seed: a new generator starts from a fixed, documented state
DEFAULT_SEED = 67280421310721


class Generator:
    """A seeded random stream of the active backend (``device``: "cpu" or "cuda")."""

    def __init__(self, device=None):
        self._backend = B.get_backend() if device is None else _device(device).backend
        self._module = B.array_namespace(self._backend)  # a clear error where it is missing
        self.device = _device(self._backend)
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed``; returns the generator (as torch's)."""
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"Generator.manual_seed: seed must be an integer, got "
                            f"{seed!r}") from None
        self._seed = seed
        # torch takes any 64-bit seed, negative ones too; NumPy wants one >= 0
        self._rng = B.make_rng(self._backend, self._module, seed % 2 ** 64)
        return self

    def seed(self) -> int:
        """Restart the stream from a fresh nondeterministic seed, and return it."""
        self.manual_seed(int(numpy.random.SeedSequence().entropy % (2 ** 63)))
        return self._seed

    def initial_seed(self) -> int:
        """The seed the stream was last started from."""
        return self._seed

    def rng(self, who: str):
        """The backend generator to draw from, checked against the active backend."""
        if self._backend != B.get_backend():
            raise ValueError(f"{who}: the generator belongs to the {self._backend!r} backend, "
                             f"the active one is {B.get_backend()!r}")
        return self._rng

    def __repr__(self):
        return f"<tinygan.Generator device={self.device} initial_seed={self._seed}>"


def backend_rng(generator, who: str):
    """The backend generator of ``generator=`` (None: the global stream's)."""
    if generator is None:
        return None
    if not isinstance(generator, Generator):
        raise TypeError(f"{who}: generator must be a tinygan.Generator, got "
                        f"{type(generator).__name__}")
    return generator.rng(who)
