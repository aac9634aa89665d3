"""Data for the examples, the same for ``import torch`` and ``import tinygan as torch``.

The examples are PyTorch scripts in which the import line is the only difference
between the two libraries; what PyTorch scripts get from torchvision (datasets,
``save_image``) comes from here instead, written once for both:

* :func:`mnist_loader` — MNIST as ``torch.utils.data.DataLoader`` over a
  ``TensorDataset`` of (images in [−1, 1], int64 labels), optionally resized
  (``img_size=32`` for a 32×32 DCGAN).  The IDX files are found by
  :func:`tinygan.data.find_mnist_dir` (``$TINYGAN_DATA``, ``../shared/data/mnist``,
  the download cache); without them a small synthetic digit-like set is made (a
  class-dependent blob per image), so nothing is ever downloaded.
* :func:`gaussians_8` — endless batches of the 2-D "8 Gaussians" of the
  WGAN-GP reference code (``gan_toy.py``), as NumPy arrays.
* :func:`save_grid` — a sample grid PNG (torchvision's ``save_image`` rule).
* :func:`share_weights` — save a model's initial weights, or load them if the
  file exists, so a test can start both libraries from the same weights.

Order is fixed (a seeded permutation, then ``shuffle=False``) so that both
libraries see the same batches.
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np


def _synthetic_digits(n, seed=0):
    """(n, 1, 28, 28) images in [−1, 1]: one Gaussian blob whose place encodes the label."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n)
    yy, xx = np.mgrid[0:28, 0:28]
    cy = 7 + 14 * (labels // 5) + rng.normal(0, 1, n)
    cx = 4 + 5 * (labels % 5) + rng.normal(0, 1, n)
    blob = np.exp(-((yy - cy[:, None, None]) ** 2 + (xx - cx[:, None, None]) ** 2) / 8.0)
    return (blob[:, None] * 2 - 1).astype(np.float32), labels.astype(np.int64)


@lru_cache(maxsize=4)
def load_digits(n=None, img_size=28, seed=0):
    """(images, labels) as NumPy arrays, in a seeded order; MNIST if found, else synthetic."""
    from tinygan.data import find_mnist_dir, load_mnist, resize_images
    folder = find_mnist_dir()
    if folder is not None:
        images, labels = load_mnist(folder)
    else:
        images, labels = _synthetic_digits(n or 2048, seed)
    order = np.random.default_rng(seed).permutation(len(images))[:n]
    images, labels = images[order], labels[order]
    if img_size != images.shape[-1]:
        images = resize_images(images, img_size)
    return images, labels


def mnist_loader(torch, batch_size, img_size=28, n=None, seed=0):
    """``torch.utils.data.DataLoader`` of (images, labels) for whichever ``torch`` is passed."""
    images, labels = load_digits(n, img_size, seed)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False,
                                       drop_last=True)


def gaussians_8(batch_size, seed=0, scale=2.0, std=0.02):
    """Endless (batch_size, 2) float32 batches of the 8-Gaussians ring (gan_toy.py)."""
    rng = np.random.default_rng(seed)
    angles = np.arange(8) * (np.pi / 4)
    centers = scale * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    while True:
        points = centers[rng.integers(0, 8, size=batch_size)]
        points = points + rng.normal(0, std * scale, size=points.shape)
        yield (points / 1.414).astype(np.float32)


def save_grid(images, path, nrow=8):
    """Write a sample grid PNG from either library's tensor."""
    from tinygan.utils import save_image
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save_image(images.detach().cpu().numpy(), path, nrow=nrow, normalize=True)


def _host(v):
    """A state-dict entry as NumPy: torch gives tensors, tinygan the arrays themselves."""
    if hasattr(v, "detach"):
        return v.detach().cpu().numpy()
    return v.get() if hasattr(v, "get") else np.asarray(v)


def share_weights(torch, path, **models):
    """With a path: load each model's state from it if the file exists, else save it there."""
    if not path:
        return
    if os.path.exists(path):
        saved = np.load(path)
        for name, model in models.items():
            prefix = name + "."
            model.load_state_dict({k[len(prefix):]: torch.from_numpy(saved[k].copy())
                                   for k in saved.files if k.startswith(prefix)})
        return
    arrays = {f"{name}.{k}": _host(v) for name, model in models.items()
              for k, v in model.state_dict().items()}
    np.savez(path, **arrays)
