"""``tinygan.utils``: what PyTorch scripts take from ``torch.utils`` and torchvision, so that
their data and image lines read the same:

* ``tinygan.utils.data`` — ``DataLoader``, ``TensorDataset``, ``Dataset``;
* ``tinygan.utils.datasets`` — ``MNIST``, ``FashionMNIST`` (torchvision's arguments);
* ``tinygan.utils.transforms`` — ``Compose``, ``Resize``, ``ToTensor``, ``Normalize``;
* ``make_grid``, ``save_image`` — torchvision.utils' image grids.
"""
from __future__ import annotations

from . import data  # noqa: F401
from . import datasets, transforms  # noqa: F401
from .image import make_grid, save_image  # noqa: F401
