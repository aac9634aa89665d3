"""A seeded, shuffling minibatch iterator whose position can be saved and restored.

Each epoch's order is a permutation drawn from its own generator,
``numpy.random.default_rng([seed, epoch])``, so the whole state of the
iterator is three integers (seed, epoch, position) — JSON-able, and enough to
make a resumed run see bit-identical batches.  Batches are host NumPy arrays
(fancy-indexed copies) that the training loop moves to the device, or, with
``as_tensor=True``, Tensors on the active backend (what PyTorch code expects
from ``for imgs, labels in dataloader``).
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from ..autograd import Tensor

__all__ = ["DataLoader", "batches"]


class DataLoader:
    """Minibatches of ``data`` (one array, or a tuple of arrays sharing their first axis,
    e.g. ``(images, labels)``; batches then are tuples too).

    ``for batch in loader`` runs over the rest of the current epoch, then moves
    to the next one; :meth:`next_batch` never stops (it wraps to a new epoch).
    With ``drop_last`` the final incomplete batch of an epoch is skipped, so
    every batch has exactly ``batch_size`` rows (what GAN loops want).
    With ``as_tensor`` each batch array becomes a Tensor on the active backend
    (float data in the default dtype, integer labels kept as integers).
    """

    def __init__(self, data, batch_size: int, shuffle: bool = True, drop_last: bool = False,
                 seed: int = 0, as_tensor: bool = False):
        multi = isinstance(data, tuple)
        arrays = tuple(_host_array(a) for a in (data if multi else (data,)))
        if not arrays:
            raise ValueError("DataLoader: data is empty (no arrays given)")
        for i, a in enumerate(arrays):
            if not hasattr(a, "shape") or a.ndim == 0:
                raise ValueError(f"DataLoader: data {i} must be an array with a first axis, "
                                 f"got {type(a).__name__}")
        n = len(arrays[0])
        for i, a in enumerate(arrays):
            if len(a) != n:
                raise ValueError(f"DataLoader: array {i} has {len(a)} rows but array 0 has {n}; "
                                 f"all arrays must share their first axis")
        if int(batch_size) != batch_size or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, "
                             f"got {batch_size!r}")
        if n == 0 or (drop_last and n < batch_size):
            raise ValueError(f"DataLoader: {n} rows give no batch of size {batch_size}"
                             + (" with drop_last=True" if drop_last else ""))
        self.arrays, self.tuple_input = arrays, multi
        self.n, self.batch_size = n, int(batch_size)
        self.shuffle, self.drop_last, self.seed = bool(shuffle), bool(drop_last), int(seed)
        self.epoch, self.position = 0, 0
        self._order, self._order_epoch = None, None
        self.as_tensor = bool(as_tensor)

    def __len__(self) -> int:
        """Batches per epoch."""
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)

    def _epoch_order(self) -> np.ndarray:
        if self._order_epoch != self.epoch:
            if self.shuffle:
                self._order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
            else:
                self._order = np.arange(self.n)
            self._order_epoch = self.epoch
        return self._order

    def next_batch(self):
        """The next batch (an array, or a tuple like ``data``), starting a new epoch when due."""
        if self.position >= len(self):
            self.epoch, self.position = self.epoch + 1, 0
        start = self.position * self.batch_size
        idx = self._epoch_order()[start:start + self.batch_size]
        self.position += 1
        out = tuple(a[idx] for a in self.arrays)
        if self.as_tensor:
            out = tuple(Tensor(a) for a in out)
        return out if self.tuple_input else out[0]

    def __iter__(self):
        if self.position >= len(self):
            self.epoch, self.position = self.epoch + 1, 0
        while self.position < len(self):
            yield self.next_batch()

    # ------------------------------------------------------------ checkpointing
    def state_dict(self) -> dict:
        """JSON-able position: the next batch is batch ``position`` of epoch ``epoch``."""
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position,
                "n": self.n, "batch_size": self.batch_size, "shuffle": self.shuffle,
                "drop_last": self.drop_last}

    def load_state_dict(self, state: dict) -> None:
        for key in ("n", "batch_size", "shuffle", "drop_last"):
            if key in state and state[key] != getattr(self, key):
                raise ValueError(f"DataLoader.load_state_dict: saved {key}={state[key]!r} but "
                                 f"this loader has {key}={getattr(self, key)!r}")
        self.seed, self.epoch, self.position = (int(state["seed"]), int(state["epoch"]),
                                                int(state["position"]))
        self._order_epoch = None

    def __repr__(self):
        return (f"DataLoader(n={self.n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed}, epoch={self.epoch}, "
                f"position={self.position})")


def _host_array(a):
    """Lists → arrays, Tensors and device arrays → host arrays (batches are cut on the host)."""
    if isinstance(a, Tensor):
        a = a.data
    if B.is_array(a):
        return B.to_numpy(a)
    return np.asarray(a) if isinstance(a, list) else a


def batches(data, batch_size: int | None = None, shuffle: bool = True, drop_last: bool = True,
            seed: int = 0):
    """Endless minibatches: ``for x in batches(images, 128, seed=0)``.

    ``data`` may be a :class:`DataLoader` (then its state advances, so a loop
    can checkpoint ``loader.state_dict()`` and resume exactly), or arrays to
    wrap in a new one (``drop_last`` defaults to True here: fixed-size batches).
    """
    if isinstance(data, DataLoader):
        loader = data
    else:
        if batch_size is None:
            raise ValueError("batches: batch_size is required when data is not a DataLoader")
        loader = DataLoader(data, batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    while True:
        yield loader.next_batch()
