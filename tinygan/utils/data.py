"""``tinygan.utils.data``: ``DataLoader`` and ``TensorDataset`` as ``torch.utils.data``
spells them, over :class:`tinygan.data.DataLoader` (yielding Tensors).

``TensorDataset(images, labels)`` holds arrays sharing their first axis; a
loader over it yields ``[images, labels]`` batches.  Any other dataset object
with ``__len__``/``__getitem__`` (returning arrays, numbers, or tuples of them)
is read item by item into host arrays once, at construction.
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from ..autograd import Tensor
from ..random import backend_rng
from ..data.loader import DataLoader as _ArrayLoader

__all__ = ["DataLoader", "TensorDataset", "Dataset"]


class Dataset:
    """Base class for map-style datasets (``__getitem__`` and ``__len__``)."""

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError

    def __len__(self):  # pragma: no cover - abstract
        raise NotImplementedError


def _host(a):
    if isinstance(a, Tensor):
        a = a.data
    return B.to_numpy(a) if B.is_array(a) else np.asarray(a)


class TensorDataset(Dataset):
    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        n = len(tensors[0])
        for i, t in enumerate(tensors):
            if len(t) != n:
                raise ValueError(f"TensorDataset: tensor {i} has {len(t)} rows, tensor 0 has {n}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])


def _arrays_of(dataset):
    arrays = dataset.as_arrays() if hasattr(dataset, "as_arrays") else None
    if arrays is not None:  # a data set that can transform itself in one pass
        return tuple(arrays), True
    if isinstance(dataset, TensorDataset):
        return tuple(_host(t) for t in dataset.tensors), True
    if isinstance(dataset, Tensor) or B.is_array(dataset) or isinstance(dataset, np.ndarray):
        return (_host(dataset),), False
    items = [dataset[i] for i in range(len(dataset))]
    if not items:
        raise ValueError("DataLoader: the dataset is empty")
    if isinstance(items[0], (tuple, list)):
        return tuple(np.stack([_host(it[k]) for it in items]) for k in range(len(items[0]))), \
            True
    return (np.stack([_host(it) for it in items]),), False


class DataLoader(_ArrayLoader):
    """``DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False)`` yielding Tensors
    (a list per batch for a multi-tensor dataset, as PyTorch's default collate).

    The shuffled order comes from ``seed`` (the loader's own stream; see
    :mod:`tinygan.data.loader`), or, with ``generator=`` (a :class:`tinygan.Generator`), from
    a seed drawn from that generator, as PyTorch draws its sampler's seed from it."""

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int = None, num_workers: int = 0,
                 generator=None, **kwargs):
        for key in kwargs:
            if key not in ("pin_memory", "persistent_workers", "prefetch_factor",
                           "worker_init_fn", "timeout"):
                raise TypeError(f"DataLoader: unexpected keyword {key!r}")
        if generator is not None:
            if seed is not None:
                raise TypeError("DataLoader: give seed= or generator=, not both")
            seed = int(B.randint(0, 2 ** 62, (), gen=backend_rng(generator, "DataLoader")))
        seed = 0 if seed is None else seed
        arrays, multi = _arrays_of(dataset)
        super().__init__(arrays if multi else arrays[0], batch_size, shuffle=shuffle,
                         drop_last=drop_last, seed=seed, as_tensor=True)
        self.dataset = dataset

    def next_batch(self):
        batch = super().next_batch()
        return list(batch) if isinstance(batch, tuple) else batch

    def __iter__(self):
        """A whole epoch per ``for`` loop, as PyTorch's: a loop left early (``break``) does
        not make the next one resume mid-epoch."""
        if self.position > 0:
            self.epoch, self.position = self.epoch + 1, 0
        while self.position < len(self):
            yield self.next_batch()
