"""The torchvision transforms GAN scripts put in front of MNIST, on NumPy arrays:
``Compose``, ``Resize``, ``ToTensor``, ``Normalize``, ``CenterCrop``.

A transform takes one image — uint8 (H, W) or (H, W, C) pixels as a data set stores
them (torchvision's PIL image), or a float (C, H, W) tensor/array after ``ToTensor`` —
and returns the same kind.  Each also has ``batch(images)`` for a whole (N, ...) stack
at once, which :class:`tinygan.utils.datasets.MNIST` uses so that preparing 60,000
digits is one vectorised pass rather than 60,000 Python calls.

``Resize`` is bilinear with PyTorch's ``interpolate`` coordinates
(:func:`tinygan.data.resize_images`); on uint8 pixels the result is rounded back
to uint8 as PIL does.  For up-sampling (MNIST 28 → 32) PIL's bilinear filter gives
the same weights; for strong down-sampling torchvision antialiases and this does not.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..data.resize import resize_images

__all__ = ["Compose", "Resize", "ToTensor", "Normalize", "CenterCrop"]


def _host(x):
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(x)


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def batch(self, images):
        for t in self.transforms:
            images = t.batch(images)
        return images

    def __repr__(self):
        return "Compose(" + ", ".join(map(repr, self.transforms)) + ")"


class _Transform:
    def __call__(self, img):
        x = _host(img)
        out = self.batch(x[None])[0]
        return Tensor(out) if isinstance(img, Tensor) or self.makes_tensor else out

    makes_tensor = False

    def batch(self, images):  # pragma: no cover - abstract
        raise NotImplementedError


def _is_pixels(x):
    """uint8 (N, H, W) or (N, H, W, C) pixels, as opposed to float (N, C, H, W) tensors."""
    return x.dtype == np.uint8


class Resize(_Transform):
    """``Resize(32)`` (the smaller edge to 32, aspect kept) or ``Resize((h, w))``."""

    def __init__(self, size, interpolation=None, antialias=None):
        self.size = size

    def _target(self, h, w):
        if isinstance(self.size, int):
            if h <= w:
                return self.size, max(1, int(self.size * w / h))
            return max(1, int(self.size * h / w)), self.size
        return tuple(self.size)

    def batch(self, images):
        x = np.asarray(images)
        if _is_pixels(x):
            channels_last = x.ndim == 4
            f = x.astype(np.float32)
            f = np.moveaxis(f, -1, 1) if channels_last else f
            h, w = f.shape[-2:]
            out = resize_images(f, self._target(h, w))
            out = np.moveaxis(out, 1, -1) if channels_last else out
            return np.clip(np.round(out), 0, 255).astype(np.uint8)
        h, w = x.shape[-2:]
        return resize_images(x, self._target(h, w))

    def __repr__(self):
        return f"Resize({self.size})"


class CenterCrop(_Transform):
    def __init__(self, size):
        self.size = (size, size) if isinstance(size, int) else tuple(size)

    def batch(self, images):
        x = np.asarray(images)
        pixel_layout = _is_pixels(x)
        h, w = (x.shape[1], x.shape[2]) if pixel_layout else x.shape[-2:]
        th, tw = self.size
        top, left = (h - th) // 2, (w - tw) // 2
        if pixel_layout:
            return x[:, top:top + th, left:left + tw]
        return x[..., top:top + th, left:left + tw]

    def __repr__(self):
        return f"CenterCrop({self.size})"


class ToTensor(_Transform):
    """uint8 pixels (H, W) / (H, W, C) → float32 (C, H, W) in [0, 1] (a Tensor per image)."""

    makes_tensor = True

    def batch(self, images):
        x = np.asarray(images)
        if not _is_pixels(x):
            return x.astype(np.float32)
        x = x[:, None] if x.ndim == 3 else np.moveaxis(x, -1, 1)
        return x.astype(np.float32) / np.float32(255.0)

    def __repr__(self):
        return "ToTensor()"


class Normalize(_Transform):
    """(x − mean[c]) / std[c] per channel; ``Normalize((0.5,), (0.5,))`` maps [0, 1] to [−1, 1]."""

    def __init__(self, mean, std, inplace=False):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1)
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be non-zero, got {std}")

    def batch(self, images):
        x = np.asarray(images, dtype=np.float32)
        if x.ndim != 4:
            raise ValueError(f"Normalize: expected images (C, H, W) after ToTensor(), got "
                             f"shape {x.shape[1:]}")
        c = x.shape[1]
        if len(self.mean) not in (1, c) or len(self.std) not in (1, c):
            raise ValueError(f"Normalize: {len(self.mean)} means / {len(self.std)} stds for "
                             f"{c} channel(s)")
        shape = (1, -1, 1, 1)
        return (x - self.mean.reshape(shape)) / self.std.reshape(shape)

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"
