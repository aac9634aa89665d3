"""``datasets.MNIST`` / ``datasets.FashionMNIST`` with torchvision's arguments, so that
``datasets.MNIST(root, train=True, download=True, transform=transforms.Compose([...]))``
reads the same in a ported script.

Items are ``(transform(image), label)`` with the image as uint8 (28, 28) pixels before
the transform (torchvision's PIL image).  The IDX files are looked for in ``root``,
``root/MNIST/raw`` (torchvision's layout) and ``root/mnist``; with ``download=True``
missing files are fetched and verified by :func:`tinygan.data.download` into
``root/MNIST/raw``.  When every transform has a batch form (those of
:mod:`tinygan.utils.transforms` do), :meth:`as_arrays` transforms the whole set at once
and ``tinygan.utils.data.DataLoader`` uses it.
"""
from __future__ import annotations

import os

import numpy as np

from ..data.idx import read_idx_images, read_idx_labels
from ..data.mnist import MissingDataError, download as _download, find_idx_files
from .data import Dataset

__all__ = ["MNIST", "FashionMNIST"]


class MNIST(Dataset):
    _dataset = "mnist"
    _folder = "MNIST"

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        self.root, self.train = os.fspath(root), bool(train)
        self.transform, self.target_transform = transform, target_transform
        split = "train" if train else "test"
        raw = os.path.join(self.root, self._folder, "raw")
        candidates = (self.root, raw, os.path.join(self.root, self._dataset))
        paths = None
        for folder in candidates:
            try:
                paths = find_idx_files(folder, split)
                break
            except MissingDataError:
                continue
        if paths is None:
            if not download:
                raise MissingDataError(
                    f"{type(self).__name__}: no {split} IDX files in {', '.join(candidates)}; "
                    f"pass download=True to fetch them")
            _download(self._dataset, dest=raw, splits=(split,))
            paths = find_idx_files(raw, split)
        self.data = read_idx_images(paths[0])
        self.targets = read_idx_labels(paths[1]).astype(np.int64)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def as_arrays(self):
        """(images, labels) with the transform applied to all images at once, or None when a
        transform has no batch form (then the loader reads item by item)."""
        if self.target_transform is not None:
            return None
        if self.transform is None:
            return self.data, self.targets
        if not hasattr(self.transform, "batch"):
            return None
        return self.transform.batch(self.data), self.targets


class FashionMNIST(MNIST):
    _dataset = "fashion-mnist"
    _folder = "FashionMNIST"
