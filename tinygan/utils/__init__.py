"""``tinygan.utils``: torchvision-style image grids (``make_grid``, ``save_image``) and
``tinygan.utils.data`` (``DataLoader``, ``TensorDataset``), so that PyTorch scripts'
``save_image(...)`` and ``torch.utils.data.DataLoader(...)`` read the same."""
from __future__ import annotations

from . import data  # noqa: F401
from .image import make_grid, save_image  # noqa: F401
