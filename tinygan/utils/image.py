"""``make_grid`` and ``save_image`` with torchvision's arguments and pixel rule.

* ``make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None,
  scale_each=False, pad_value=0)`` tiles (N, C, H, W) into (3, H', W') —
  one-channel images are repeated to three, as torchvision does;
* with ``normalize=True`` values are mapped from ``value_range`` (default: the
  tensor's min and max; per image with ``scale_each``) to [0, 1] and clamped;
* ``save_image`` writes ``floor(255·v + 0.5)`` clamped to [0, 255] as an 8-bit PNG.

The tiling itself is :func:`tinygan.plots.image_grid` (one home for it); this
module adds torchvision's value handling.  Inputs may be Tensors, device arrays
or NumPy arrays (``x.data[:25]`` as PyTorch-GAN passes it).
"""
from __future__ import annotations

import os

import numpy as np

from ..plots import _host, image_grid

__all__ = ["make_grid", "save_image"]


def _normalize(x: np.ndarray, value_range, scale_each: bool) -> np.ndarray:
    def norm(a, lo, hi):
        return np.clip((a - lo) / max(hi - lo, 1e-5), 0.0, 1.0)
    if value_range is not None:
        lo, hi = value_range
        return norm(x, float(lo), float(hi))
    if scale_each:
        return np.stack([norm(a, float(a.min()), float(a.max())) for a in x])
    return norm(x, float(x.min()), float(x.max()))


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value: float = 0.0,
              **kwargs) -> np.ndarray:
    """Images (N, C, H, W), (C, H, W), (H, W) or a list of (C, H, W) → a (C', H', W') array."""
    if "range" in kwargs:  # torchvision's older name
        value_range = kwargs.pop("range")
    if kwargs:
        raise TypeError(f"make_grid: unexpected keyword(s) {', '.join(kwargs)}")
    if isinstance(tensor, (list, tuple)):
        x = np.stack([_host(t) for t in tensor])
    else:
        x = _host(tensor)
    x = x.astype(np.float32)
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        x = x[None] if x.shape[0] in (1, 3) else x[:, None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected images (N, C, H, W), got shape {x.shape}")
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    if normalize:
        x = _normalize(x, value_range, scale_each)
    if x.shape[0] == 1:  # torchvision returns a single image unpadded
        return x[0]
    return image_grid(x, nrow=nrow, padding=padding, pad_value=pad_value)


def save_image(tensor, fp, nrow: int = 8, padding: int = 2, normalize: bool = False,
               value_range=None, scale_each: bool = False, pad_value: float = 0.0,
               format=None, **kwargs) -> None:  # noqa: A002
    """Write images as one PNG grid (torchvision.utils.save_image)."""
    from matplotlib.image import imsave
    grid = make_grid(tensor, nrow=nrow, padding=padding, normalize=normalize,
                     value_range=value_range, scale_each=scale_each, pad_value=pad_value,
                     **kwargs)
    if not np.isfinite(grid).all():
        raise ValueError("save_image: images contain NaN or inf")
    pixels = np.clip(np.floor(grid * 255.0 + 0.5), 0, 255).astype(np.uint8)
    if grid.shape[0] not in (1, 3, 4):
        raise ValueError(f"save_image: images need 1, 3 or 4 channels, got {grid.shape[0]}")
    path = os.fspath(fp)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save_image: folder {folder!r} does not exist (create it with "
                                f"os.makedirs, as PyTorch requires too)")
    imsave(path, pixels.transpose(1, 2, 0), format=format or "png")
