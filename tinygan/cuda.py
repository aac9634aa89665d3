"""``tinygan.cuda``: the few ``torch.cuda`` queries GAN scripts make (``is_available()``).

"cuda" means the CuPy backend (:mod:`tinygan.device`).  Asking loads CuPy once;
a missing CuPy or GPU answers False rather than raising.
"""
from __future__ import annotations

from . import backend as B

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    try:
        B.array_namespace("cupy")
    except B.BackendError:
        return False
    return True


def device_count() -> int:
    return 1 if is_available() else 0


def manual_seed(seed: int) -> None:
    """Seeds every backend's generator (the same call as ``tinygan.manual_seed``)."""
    B.manual_seed(seed)


manual_seed_all = manual_seed


# torch.cuda.FloatTensor & co. (PyTorch-GAN picks them when a GPU is present)
from .tensor_types import _types  # noqa: E402

FloatTensor, DoubleTensor, LongTensor, IntTensor, ByteTensor, BoolTensor = _types("cuda")
