"""Resizing image data sets (host NumPy), so that a model built for one size can train on
data of another — e.g. a 32×32 DCGAN on 28×28 MNIST (``resize_images(x, 32)``) — and the
check that a generator's samples have the data's shape.

The resampling rule is the one of :func:`tinygan.ops.resample.interpolate` (PyTorch's
``F.interpolate``): a separable linear map per axis built by
:func:`~tinygan.ops.resample.resize_matrix`, applied here to host arrays in float64 and
returned in the input's float dtype.  (torchvision's ``transforms.Resize`` works on PIL
images with antialiasing; for the upsampling 28 → 32 bilinear filters agree, for strong
downsampling they do not.)
"""
from __future__ import annotations

import numpy as np

from ..ops.resample import resize_matrix

__all__ = ["resize_images", "check_sample_shape"]

_MODES = ("bilinear", "nearest")


def resize_images(images, size, mode: str = "bilinear", align_corners: bool = False):
    """(N, C, H, W) or (N, H, W) float images → spatial size ``size`` (int or (h, w)).

    Values are interpolated, not rescaled: data in [−1, 1] stays in [−1, 1]
    (bilinear weights are convex, nearest copies pixels).
    """
    x = np.asarray(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"resize_images: images must be (N, C, H, W) or (N, H, W), got shape "
                         f"{x.shape}")
    if mode not in _MODES:
        raise ValueError(f"resize_images: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    size = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(size) != 2 or any(int(s) != s or s <= 0 for s in size):
        raise ValueError(f"resize_images: size must be a positive int or (height, width), got "
                         f"{size!r}")
    h, w = x.shape[-2:]
    oh, ow = int(size[0]), int(size[1])
    if (oh, ow) == (h, w):
        return x
    kind = "nearest" if mode == "nearest" else "linear"
    corners = align_corners if kind == "linear" else None
    ah = resize_matrix(h, oh, kind, corners, xp=np)
    aw = resize_matrix(w, ow, kind, corners, xp=np)
    out = ah @ x.astype(np.float64) @ aw.T
    dtype = x.dtype if x.dtype.kind == "f" else np.float32
    return out.astype(dtype)


def check_sample_shape(sample_shape, data_shape, who: str = "generator") -> None:
    """Raise when generated samples (N, ...) and data batches (N', ...) differ per sample.

    Without it a 32×32 generator trains against 28×28 data as long as the
    discriminator accepts both sizes (a conv net ending in a global reduction does).
    """
    s, d = tuple(sample_shape)[1:], tuple(data_shape)[1:]
    if s != d:
        hint = ""
        if len(s) == len(d) == 3 and s[0] == d[0]:
            hint = (f"; resize the data to the model with "
                    f"tinygan.data.resize_images(images, {s[1:] if s[1] != s[2] else s[1]}) "
                    f"(the CLI's --resize)")
        raise ValueError(f"{who} makes samples of shape {s} but the data has shape {d}{hint}")
